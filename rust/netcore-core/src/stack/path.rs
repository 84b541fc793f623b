//! The receive, forward and output paths of one worker, a batch at a time.
//!
//! A worker owns everything it writes — its packets, counters, rule counters and output
//! arena — and reads the stack (devices, FIB) and the current hook table without locks.
//! Stages run over the whole batch before the next begins, so a hook is entered once per
//! batch per queue; a packet leaves the batch the moment it reaches an outcome.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::hooks::{
    ExternalHooks, HookAbort, HookAction, HookColumns, HookEntry, HookRow, HookTable,
};
use super::l2;
use super::report::{DeviceCounters, HookCounters, Report};
use super::rewrite::{self, Edit};
use super::{DeviceConfig, Stack};
use crate::capture::{LinkType, RecordEncoder};
use crate::drop_reason::DropReason;
use crate::ip::{self, Forwarded, IcmpKind, InputRoute, RouteKind};
use crate::netfilter::{Family, HookPoint, Outcome, PacketInfo, RuleCounters, Verdict};
use crate::offload::gso::{
    Egress, FragOptions, TxOutcome, Xmit, ip_finish_output, validate_xmit_skb,
};
use crate::rss::skb_tx_hash;
use crate::skb::{PacketType, Skb};
use crate::wire::ipv4::Address as Ipv4Address;
use crate::wire::ipv6::Address as Ipv6Address;

/// REPEAT verdicts in a row after which a packet is dropped, so a hook that always repeats
/// cannot stall a run.
const MAX_REPEATS: u32 = 16;

/// Where a device's frames are recorded: its index and the encoder of its capture's records.
pub(crate) type SinkEncoder = (u32, RecordEncoder);

/// What a worker sent during one batch, laid out as capture records per sink (so the thread
/// writing the files only appends bytes).
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Per sink, in the order of the sinks: the records and how many.
    pub records: Vec<(Vec<u8>, u64)>,
    /// A frame made contiguous before encoding (reused).
    scratch: Vec<u8>,
}

impl Output {
    /// Empty buffers for `sinks` sinks, each with room for `hint[k]` bytes.
    pub fn with_capacity(hint: &[usize]) -> Self {
        Output {
            records: hint.iter().map(|&n| (Vec::with_capacity(n), 0)).collect(),
            scratch: Vec::new(),
        }
    }

    /// Gives `skb` (data at its network header) its Ethernet header and records the frame
    /// when its device has a sink.
    fn send(
        &mut self,
        mut skb: Skb,
        dev: u32,
        macs: ([u8; 6], [u8; 6]),
        sinks: &[SinkEncoder],
        c: &mut DeviceCounters,
    ) {
        if l2::eth_header(&mut skb, macs.0, macs.1).is_err() {
            return;
        }
        let len = skb.len();
        c.tx_packets += 1;
        c.tx_bytes += len as u64;
        let Some(k) = sinks.iter().position(|(d, _)| *d == dev) else {
            return;
        };
        if self.records.len() < sinks.len() {
            self.records.resize_with(sinks.len(), Default::default);
        }
        let frame = if skb.is_nonlinear() {
            self.scratch.clear();
            for piece in skb.pieces() {
                self.scratch.extend_from_slice(piece);
            }
            &self.scratch[..]
        } else {
            skb.data()
        };
        let (buf, n) = &mut self.records[k];
        let wirelen = u32::try_from(len).unwrap_or(u32::MAX);
        sinks[k].1.encode(buf, skb.meta.tstamp, frame, wirelen);
        *n += 1;
    }

    /// Bytes recorded per sink (a size hint for the next batch).
    pub fn sizes(&self) -> Vec<usize> {
        self.records.iter().map(|(b, _)| b.len()).collect()
    }
}

/// A packet on its way through the batch.
struct Pkt {
    skb: Skb,
    /// Input packets it stands for (GRO merges several).
    weight: u64,
    family: Option<Family>,
    info: PacketInfo,
    /// Link-layer addresses it arrived with (destination, source), reused on transmit.
    macs: Option<Macs>,
    /// Destination address, once the IP header was checked.
    dst: Option<IpAddr>,
    /// Next hop device once routed.
    oif: u32,
    done: bool,
}

impl Pkt {
    /// Source address of the IP packet at `data`.
    fn src(&self) -> Option<IpAddr> {
        let d = self.skb.data();
        match d.first().map(|b| b >> 4) {
            Some(4) if d.len() >= 20 => Some(IpAddr::from([d[12], d[13], d[14], d[15]])),
            Some(6) if d.len() >= 40 => {
                let a: [u8; 16] = d[8..24].try_into().ok()?;
                Some(IpAddr::from(a))
            }
            _ => None,
        }
    }
}

/// One worker's state.
pub(crate) struct Worker<'s> {
    /// The worker's number (its queue, or its RPS slot): what XPS maps to transmit queues.
    id: u16,
    stack: &'s Stack,
    /// Devices whose frames are recorded, with their record encoders.
    sinks: &'s [SinkEncoder],
    ext: &'s dyn ExternalHooks,
    hooks: Arc<HookTable>,
    pub report: Report,
    /// Per-rule counters of each ruleset entry, with its number of rules.
    rules: HashMap<String, (usize, RuleCounters)>,
    /// IP ID of the next ICMP error this worker sends (`ip_select_ident`).
    icmp_ident: u16,
    /// Packets delivered per local handler, moved into the report by [`Worker::finish`].
    delivered: Vec<(&'static str, u64)>,
    pub out: Output,
    pkts: Vec<Pkt>,
    /// Packets the stack made during the batch (ICMP errors), with the link-layer addresses
    /// to answer with.
    pending: Vec<(Skb, Option<Macs>)>,
    pub abort: Option<HookAbort>,
}

/// Destination and source link-layer addresses.
type Macs = ([u8; 6], [u8; 6]);

impl<'s> Worker<'s> {
    pub fn new(
        stack: &'s Stack,
        ext: &'s dyn ExternalHooks,
        sinks: &'s [SinkEncoder],
        id: u16,
    ) -> Self {
        Worker {
            id,
            sinks,
            stack,
            ext,
            hooks: stack.hook_table(),
            report: Report::default(),
            rules: HashMap::new(),
            icmp_ident: 0,
            delivered: Vec::new(),
            out: Output::default(),
            pkts: Vec::new(),
            pending: Vec::new(),
            abort: None,
        }
    }

    /// Picks up hook changes (between batches).
    pub fn refresh_hooks(&mut self) {
        self.hooks = self.stack.hook_table();
    }

    /// Moves the per-rule counters into the report.
    pub fn finish(&mut self) {
        for (h, n) in self.delivered.drain(..) {
            self.report.deliver(h, n);
        }
        for (key, (n, c)) in self.rules.drain() {
            let entry = self.report.rules.entry(key).or_default();
            if entry.rules.len() < n {
                entry.rules.resize(n, (0, 0));
            }
            for (r, e) in entry.rules.iter_mut().enumerate() {
                e.0 += c.packets(r);
                e.1 += c.bytes(r);
            }
        }
    }

    /// The device `ifindex`. Cannot fail: packets carry the index of the device they came in
    /// on, or of the one a route sent them to, and routes to unknown devices are dropped when
    /// looked up.
    fn dev(&self, ifindex: u32) -> &'s DeviceConfig {
        self.stack
            .device(ifindex)
            .expect("packets only reference devices of the stack")
    }

    // ----- outcomes -----------------------------------------------------------------------

    fn drop_pkt(&mut self, i: usize, reason: DropReason) {
        let p = &mut self.pkts[i];
        if !p.done {
            p.done = true;
            let w = p.weight;
            self.report.drop(reason, w);
        }
    }

    fn deliver_pkt(&mut self, i: usize, handler: &'static str) {
        let p = &mut self.pkts[i];
        if !p.done {
            p.done = true;
            let w = p.weight;
            // A handful of handlers: a short list beats a map keyed by strings.
            match self
                .delivered
                .iter_mut()
                .find(|(h, _)| std::ptr::eq(*h, handler))
            {
                Some((_, n)) => *n += w,
                None => self.delivered.push((handler, w)),
            }
        }
    }

    /// Packets still on their way (none once a hook stopped the run).
    fn live(&self) -> Vec<usize> {
        // Sized up front: a filtered collect would grow (reallocate) all the way up.
        let mut live = Vec::with_capacity(self.pkts.len());
        live.extend((0..self.pkts.len()).filter(|&i| !self.gone(i)));
        live
    }

    fn gone(&self, i: usize) -> bool {
        self.pkts[i].done || self.abort.is_some()
    }

    // ----- receive ------------------------------------------------------------------------

    /// Receives what GRO handed up on device `ifindex`: Ethernet frames (link-layer header
    /// set) or IP packets (only the network header set); anything else is a protocol the
    /// device does not speak.
    pub fn receive(&mut self, ifindex: u32, skbs: &mut Vec<Skb>) {
        if self.abort.is_some() {
            let n = skbs.drain(..).map(|s| weight(&s)).sum::<u64>();
            self.report.entered += n;
            self.report.unprocessed += n;
            return;
        }
        let dev = self.dev(ifindex);
        self.pkts.clear();
        {
            let counters = self.report.device(&dev.name);
            for s in skbs.iter() {
                counters.rx_packets += weight(s);
                counters.rx_bytes += s.len() as u64;
            }
        }
        for mut skb in skbs.drain(..) {
            skb.meta.iif = ifindex;
            let w = weight(&skb);
            self.report.entered += w;
            let mut p = Pkt {
                skb,
                weight: w,
                family: None,
                info: PacketInfo::default(),
                macs: None,
                dst: None,
                oif: 0,
                done: false,
            };
            let res = if p.skb.mac_header().is_some() {
                let d = p.skb.data();
                if d.len() >= 12 {
                    let mut dst = [0u8; 6];
                    let mut src = [0u8; 6];
                    dst.copy_from_slice(&d[..6]);
                    src.copy_from_slice(&d[6..12]);
                    p.macs = Some((dst, src));
                }
                l2::eth_receive(&mut p.skb, dev.mac, &dev.vlans)
            } else if p.skb.network_header().is_some() {
                raw_receive(&mut p.skb)
            } else {
                Err(DropReason::UnhandledProto)
            };
            self.pkts.push(p);
            let i = self.pkts.len() - 1;
            match res {
                Ok(()) => {
                    let p = &mut self.pkts[i];
                    p.family = family_of(p.skb.meta.protocol);
                    p.info = info_of(p);
                }
                Err(r) => self.drop_pkt(i, r),
            }
        }
        let live = self.live();
        self.run_hook(HookPoint::Ingress, &live);
        self.protocol_rcv();
        self.settle();
        let pending = std::mem::take(&mut self.pending);
        if !pending.is_empty() {
            self.local_out(pending);
        }
    }

    /// Ends a batch: packets still alive had their run stopped by a hook's error policy.
    fn settle(&mut self) {
        for p in self.pkts.drain(..) {
            if !p.done {
                debug_assert!(
                    self.abort.is_some(),
                    "a packet left the paths without an outcome"
                );
                self.report.unprocessed += p.weight;
            }
        }
    }

    /// `__netif_receive_skb_core`'s protocol dispatch, then `ip_rcv` / `ipv6_rcv`,
    /// PRE_ROUTING and the routing decision.
    fn protocol_rcv(&mut self) {
        for i in self.live() {
            let p = &mut self.pkts[i];
            match p.skb.meta.protocol {
                0x0800 | 0x86dd => {
                    // ip_rcv_core: frames for another host are dropped first.
                    if p.skb.meta.pkt_type == PacketType::OtherHost {
                        self.drop_pkt(i, DropReason::OtherHost);
                        continue;
                    }
                    // The headers are linear; a merged packet's payload stays in fragments.
                    let len = p.skb.len();
                    let res = if p.skb.meta.protocol == 0x0800 {
                        ip::ipv4_rcv_len(p.skb.data(), len, false)
                    } else {
                        ip::ipv6_rcv_len(p.skb.data(), len, false)
                    };
                    match res {
                        Ok(rcv) => {
                            // Padding beyond the IP length is trimmed (pskb_trim_rcsum).
                            if rcv.len < p.skb.len() {
                                p.skb.trim(rcv.len);
                            }
                            p.dst = Some(rcv.dst);
                            p.info = info_of(p);
                        }
                        Err(r) => self.drop_pkt(i, r),
                    }
                }
                0x0806 => self.deliver_pkt(i, "arp"),
                _ => self.drop_pkt(i, DropReason::UnhandledProto),
            }
        }
        let live = self.live();
        self.run_hook(HookPoint::PreRouting, &live);
        let mut local = Vec::new();
        let mut forward = Vec::with_capacity(self.pkts.len());
        for i in self.live() {
            let Some(dst) = self.pkts[i].dst else {
                self.drop_pkt(i, DropReason::IpInhdr);
                continue;
            };
            match self.stack.fib.route_input(dst) {
                Ok(InputRoute::Local(_)) => local.push(i),
                // A route through a device the stack does not have (made directly on the
                // FIB) leads nowhere: no route.
                Ok(InputRoute::Forward(r)) if self.stack.device(r.dev).is_none() => {
                    self.drop_pkt(i, DropReason::IpInnoroutes);
                }
                Ok(InputRoute::Forward(r)) if self.stack.forwarding => {
                    self.pkts[i].oif = r.dev;
                    forward.push(i);
                }
                Ok(InputRoute::Forward(_)) => {
                    // Forwarding off: ip_route_input_slow answers "host unreachable".
                    let kind = if dst.is_ipv4() {
                        IcmpKind::dest_unreach(1)
                    } else {
                        IcmpKind::v6_dest_unreach(0)
                    };
                    self.icmp_error(i, kind);
                    self.drop_pkt(i, DropReason::IpInnoroutes);
                }
                Err(no) => {
                    if let Some(kind) = no.icmp {
                        self.icmp_error(i, kind);
                    }
                    self.drop_pkt(i, no.reason);
                }
            }
        }
        self.local_deliver(&local);
        self.forward(&forward);
    }

    /// `ip_local_deliver`: LOCAL_IN, then the transport protocol table.
    fn local_deliver(&mut self, sel: &[usize]) {
        self.run_hook(HookPoint::LocalIn, sel);
        for &i in sel {
            if self.gone(i) {
                continue;
            }
            if let Some(name) = proto_name(self.pkts[i].info.l4proto) {
                self.deliver_pkt(i, name);
            } else {
                // No inet_protos handler (ip_protocol_deliver_rcu): ICMP protocol
                // unreachable; IPv6 answers a parameter problem at the next-header field
                // (ip6_protocol_deliver_rcu).
                let kind = if self.pkts[i].family == Some(Family::Ipv4) {
                    IcmpKind::dest_unreach(2)
                } else {
                    IcmpKind::v6_param_problem(1, 6)
                };
                self.icmp_error(i, kind);
                self.drop_pkt(i, DropReason::IpNoproto);
            }
        }
    }

    /// `ip_forward` / `ip6_forward`: TTL or hop limit, MTU, FORWARD, then output.
    fn forward(&mut self, sel: &[usize]) {
        let mut ok = Vec::with_capacity(sel.len());
        for &i in sel {
            if self.gone(i) {
                continue;
            }
            let mtu = self.dev(self.pkts[i].oif).mtu;
            let p = &mut self.pkts[i];
            // A GSO packet fits when each of its segments does (ip_exceeds_mtu →
            // skb_gso_validate_network_len).
            let fits = match gso_segment_len(p) {
                Some(seg) => seg <= mtu as usize,
                None => p.skb.len() <= mtu as usize,
            };
            let hop_limit = p
                .skb
                .data()
                .get(if p.family == Some(Family::Ipv4) { 8 } else { 7 });
            let verdict = if fits && hop_limit.is_some_and(|&t| t > 1) {
                // The common case: only the headers become writable for the TTL; the payload
                // stays where it is (header split).
                match p.skb.cow_headers(FORWARD_HEAD.min(p.skb.linear_len())) {
                    Ok(()) => match p.skb.data_mut() {
                        Ok(d) => ip::ip_forward(d, u32::MAX, None, 0),
                        Err(_) => no_memory(),
                    },
                    Err(_) => no_memory(),
                }
            } else {
                // An error is due or the packet needs fragmenting: work on all of it.
                let src = p
                    .src()
                    .and_then(|s| self.stack.fib.error_source(s, p.skb.meta.iif));
                let ident = self.next_ident();
                let p = &mut self.pkts[i];
                let whole = !p.skb.is_nonlinear() || p.skb.linearize().is_ok();
                match p.skb.data_mut() {
                    Ok(d) if whole => {
                        ip::ip_forward(d, if fits { u32::MAX } else { mtu }, src, ident)
                    }
                    _ => no_memory(),
                }
            };
            match verdict {
                Forwarded::Forward | Forwarded::NeedsFragmentation => ok.push(i),
                Forwarded::Dropped { reason, icmp } => {
                    if let Some(err) = icmp {
                        self.send_error(i, &err);
                    }
                    self.drop_pkt(i, reason);
                }
            }
        }
        for &i in &ok {
            let p = &mut self.pkts[i];
            p.info.oif = p.oif;
        }
        self.run_hook(HookPoint::Forward, &ok);
        self.post_routing(&ok);
    }

    /// POST_ROUTING, then each packet's egress device.
    fn post_routing(&mut self, sel: &[usize]) {
        self.run_hook(HookPoint::PostRouting, sel);
        let mut by_dev: Vec<(u32, Vec<usize>)> = Vec::new();
        for &i in sel {
            if self.gone(i) {
                continue;
            }
            let dev = self.pkts[i].oif;
            if let Some((_, v)) = by_dev.iter_mut().find(|(d, _)| *d == dev) {
                v.push(i);
            } else {
                let mut v = Vec::with_capacity(sel.len());
                v.push(i);
                by_dev.push((dev, v));
            }
        }
        for (dev, pkts) in by_dev {
            self.egress(dev, &pkts);
        }
    }

    /// Device egress: EGRESS hooks, `validate_xmit_skb` (software GSO and checksums for what
    /// the device lacks), the Ethernet header, the sink.
    fn egress(&mut self, ifindex: u32, sel: &[usize]) {
        self.run_hook(HookPoint::Egress, sel);
        let dev = self.dev(ifindex);
        // Counted here and added to the report once per batch.
        let mut c = DeviceCounters::default();
        let mut sent = 0;
        for &i in sel {
            if self.gone(i) {
                continue;
            }
            let p = &mut self.pkts[i];
            let skb = std::mem::replace(&mut p.skb, spent());
            let (dst, src) = p.macs.unwrap_or(([0; 6], [0; 6]));
            let src = dev.mac.unwrap_or(src);
            let was_gso = skb.meta.is_gso();
            let segs = usize::from(skb.meta.gso.segs.max(1)).min(MAX_SEGS_BUCKET);
            if c.tx_segs.len() <= segs {
                c.tx_segs.resize(segs + 1, 0);
            }
            c.tx_segs[segs] += 1;
            // netdev_pick_tx: XPS for this worker, else skb_tx_hash (a forwarded packet keeps
            // the number of the queue it came in on).
            let rx_queue = (skb.meta.iif != 0).then_some(skb.meta.queue_mapping);
            let txq = match &dev.xps {
                Some(x) => x.pick_tx(self.id, skb.meta.hash, rx_queue),
                None => skb_tx_hash(skb.meta.hash, rx_queue, dev.tx_queues),
            };
            if c.tx_queues.len() < usize::from(dev.tx_queues) {
                c.tx_queues.resize(usize::from(dev.tx_queues), 0);
            }
            let before = c.tx_packets;
            // A packet over the MTU that forwarding let through (no DF) is fragmented first
            // (ip_finish_output → ip_fragment); GSO packets are cut to size by segmentation.
            let xmit = if !was_gso && skb.len() > dev.mtu as usize {
                let egress = Egress {
                    features: dev.features,
                    mtu: dev.mtu,
                    frag: FragOptions::default(),
                };
                match ip_finish_output(skb, &egress) {
                    Ok(TxOutcome::Sent(v)) => Ok(Xmit::Segments(v)),
                    Ok(TxOutcome::TooBig(_)) => {
                        self.drop_pkt(i, DropReason::PktTooBig);
                        continue;
                    }
                    Err(e) => Err(e),
                }
            } else {
                validate_xmit_skb(skb, &dev.features)
            };
            match xmit {
                Ok(Xmit::Whole(s)) => {
                    c.tso_packets += u64::from(was_gso);
                    self.out.send(s, ifindex, (dst, src), self.sinks, &mut c);
                }
                Ok(Xmit::Segments(v)) => {
                    c.gso_segmented += 1;
                    c.gso_segments += v.len() as u64;
                    for s in v {
                        self.out.send(s, ifindex, (dst, src), self.sinks, &mut c);
                    }
                }
                Err(_) => {
                    self.drop_pkt(i, DropReason::NotSpecified);
                    continue;
                }
            }
            if let Some(n) = c.tx_queues.get_mut(usize::from(txq)) {
                *n += c.tx_packets - before;
            }
            let p = &mut self.pkts[i];
            p.done = true;
            sent += p.weight;
        }
        let d = self.report.device(&dev.name);
        d.tx_packets += c.tx_packets;
        d.tx_bytes += c.tx_bytes;
        d.tso_packets += c.tso_packets;
        d.gso_segmented += c.gso_segmented;
        d.gso_segments += c.gso_segments;
        if d.tx_queues.len() < c.tx_queues.len() {
            d.tx_queues.resize(c.tx_queues.len(), 0);
        }
        for (a, b) in d.tx_queues.iter_mut().zip(&c.tx_queues) {
            *a += b;
        }
        if d.tx_segs.len() < c.tx_segs.len() {
            d.tx_segs.resize(c.tx_segs.len(), 0);
        }
        for (a, b) in d.tx_segs.iter_mut().zip(&c.tx_segs) {
            *a += b;
        }
        if sent > 0 {
            self.report.transmit(&dev.name, sent);
        }
    }

    // ----- packets the stack makes --------------------------------------------------------

    fn next_ident(&mut self) -> u16 {
        self.icmp_ident = self.icmp_ident.wrapping_add(1);
        self.icmp_ident
    }

    /// Builds the ICMP error the kernel sends about packet `i` (`icmp_send`/`icmp6_send`)
    /// and sends it through the output path.
    fn icmp_error(&mut self, i: usize, kind: IcmpKind) {
        let Some(orig_src) = self.pkts[i].src() else {
            return;
        };
        let iif = self.pkts[i].skb.meta.iif;
        let ident = self.next_ident();
        let err = match self.stack.fib.error_source(orig_src, iif) {
            Some(IpAddr::V4(s)) => ip::icmp_error(
                self.pkts[i].skb.data(),
                kind,
                Ipv4Address(s.octets()),
                ident,
            ),
            Some(IpAddr::V6(s)) => {
                ip::icmpv6_error(self.pkts[i].skb.data(), kind, &Ipv6Address(s.octets()))
            }
            None => None,
        };
        if let Some(err) = err {
            self.send_error(i, &err);
        }
    }

    /// Sends ICMP error `err` (an IP packet) about packet `i`, once the batch is through.
    fn send_error(&mut self, i: usize, err: &[u8]) {
        let p = &self.pkts[i];
        *self
            .report
            .icmp_errors
            .entry(error_name(err).to_string())
            .or_default() += 1;
        let ts = p.skb.meta.tstamp;
        let seq = p.skb.meta.seq;
        let macs = p.macs.map(|(d, s)| (s, d));
        if let Ok(mut skb) = Skb::from_slice(err) {
            skb.meta.tstamp = ts;
            skb.meta.seq = seq;
            // Sent once the current batch is through (the kernel sends from the same softirq;
            // the order within a batch is not observable in the outcome counts).
            self.pending.push((skb, macs));
        }
    }

    /// Packets made locally (ICMP errors, or sent from Python): LOCAL_OUT, route,
    /// POST_ROUTING, egress (`__ip_local_out` → `ip_output`).
    pub fn local_out(&mut self, skbs: Vec<(Skb, Option<Macs>)>) {
        self.pkts.clear();
        for (mut skb, macs) in skbs {
            self.report.created += 1;
            let _ = skb.reset_network_header();
            let mut p = Pkt {
                weight: 1,
                family: None,
                info: PacketInfo::default(),
                macs,
                dst: None,
                oif: 0,
                done: false,
                skb,
            };
            p.skb.meta.protocol = match p.skb.data().first().map(|b| b >> 4) {
                Some(6) => 0x86dd,
                _ => 0x0800,
            };
            p.family = family_of(p.skb.meta.protocol);
            p.info = info_of(&p);
            p.dst = ip_dst(p.skb.data());
            self.pkts.push(p);
            let i = self.pkts.len() - 1;
            if self.pkts[i].info.family.is_none() {
                self.drop_pkt(i, DropReason::IpInhdr);
            }
        }
        let live = self.live();
        self.run_hook(HookPoint::LocalOut, &live);
        let mut routed = Vec::new();
        for i in self.live() {
            let route = self.pkts[i].dst.and_then(|d| self.stack.fib.lookup(d));
            match route.map(|r| (r.kind, r.dev)) {
                Some((RouteKind::Unicast, dev)) if self.stack.device(dev).is_some() => {
                    let p = &mut self.pkts[i];
                    p.oif = dev;
                    p.info.oif = dev;
                    routed.push(i);
                }
                // To this host (ip_route_output → loopback): delivered locally.
                Some((RouteKind::Local | RouteKind::Broadcast, _)) => {
                    let name = proto_name(self.pkts[i].info.l4proto).unwrap_or("raw");
                    self.deliver_pkt(i, name);
                }
                _ => self.drop_pkt(i, DropReason::IpInnoroutes),
            }
        }
        self.post_routing(&routed);
        self.settle();
    }

    // ----- hooks --------------------------------------------------------------------------

    /// Runs hook point `point` over packets `sel` (those still alive), entry by entry.
    fn run_hook(&mut self, point: HookPoint, sel: &[usize]) {
        if self.hooks.is_empty(point) || self.abort.is_some() {
            return;
        }
        let hooks = Arc::clone(&self.hooks);
        for entry in hooks.entries(point).iter().filter(|e| !e.jump_only) {
            let mut pending = Vec::with_capacity(sel.len());
            pending.extend(
                sel.iter()
                    .copied()
                    .filter(|&i| !self.pkts[i].done && entry.applies_to(self.pkts[i].family)),
            );
            let mut rounds = 0;
            while !pending.is_empty() {
                if rounds == MAX_REPEATS {
                    for &i in &pending {
                        self.drop_pkt(i, DropReason::NetfilterDrop);
                    }
                    break;
                }
                rounds += 1;
                let verdicts = match &entry.action {
                    HookAction::Rules(set) => self.eval_rules(point, entry, set, &pending),
                    HookAction::External(id) => {
                        let r = self.call_external(point, entry, *id, &pending);
                        if self.abort.is_some() {
                            return;
                        }
                        r
                    }
                };
                pending = self.apply_verdicts(point, entry, &pending, &verdicts);
                if self.abort.is_some() {
                    return;
                }
            }
        }
    }

    fn eval_rules(
        &mut self,
        point: HookPoint,
        entry: &HookEntry,
        set: &crate::netfilter::Ruleset,
        sel: &[usize],
    ) -> Vec<Verdict> {
        let key = entry.key(point);
        let (_, counters) = self
            .rules
            .entry(key)
            .or_insert_with(|| (set.len(), set.new_counters()));
        let mut verdicts = Vec::with_capacity(sel.len());
        let mut jumps: Vec<(usize, String)> = Vec::new();
        for (k, &i) in sel.iter().enumerate() {
            let p = &mut self.pkts[i];
            let r = set.eval(&p.info, counters);
            if let Some(m) = r.mark {
                p.skb.meta.mark = m;
                p.info.mark = m;
            }
            if let Some(pr) = r.priority {
                p.skb.meta.priority = pr;
            }
            match r.outcome {
                Outcome::FallThrough => verdicts.push(Verdict::Accept),
                Outcome::Verdict(v) => verdicts.push(v),
                Outcome::Jump(id) => {
                    jumps.push((k, set.jump_target(id).unwrap_or_default().to_string()));
                    verdicts.push(Verdict::Drop);
                }
            }
        }
        // `jump NAME`: the packet's verdict comes from the hook of that name at this point.
        let mut targets: Vec<String> = jumps.iter().map(|(_, t)| t.clone()).collect();
        targets.dedup();
        for target in targets {
            let ks: Vec<usize> = jumps
                .iter()
                .filter(|(_, t)| *t == target)
                .map(|(k, _)| *k)
                .collect();
            let id = self
                .hooks
                .entries(point)
                .iter()
                .find_map(|e| match e.action {
                    HookAction::External(id) if e.name == target => Some((id, e.clone())),
                    _ => None,
                });
            let Some((id, target_entry)) = id else {
                for k in ks {
                    verdicts[k] = Verdict::Drop;
                }
                continue;
            };
            let idx: Vec<usize> = ks.iter().map(|&k| sel[k]).collect();
            let vs = self.call_external(point, &target_entry, id, &idx);
            for (k, v) in ks.into_iter().zip(vs) {
                verdicts[k] = v;
            }
        }
        verdicts
    }

    fn call_external(
        &mut self,
        point: HookPoint,
        entry: &HookEntry,
        id: u32,
        sel: &[usize],
    ) -> Vec<Verdict> {
        let cols = hook_columns(&mut self.pkts, sel);
        let reply = self.ext.call(id, point, cols);
        let key = entry.key(point);
        let c = self.report.hook(&key);
        c.calls += 1;
        match reply {
            Ok(mut r) => {
                c.errors += r.errors.len() as u64;
                for (k, edit) in r.edits.drain(..) {
                    if let Some(&i) = sel.get(k) {
                        let p = &mut self.pkts[i];
                        if rewrite::apply(&mut p.skb, edit).is_ok() {
                            if let Edit::Mark(m) = edit {
                                p.info.mark = m;
                            }
                            p.info = PacketInfo {
                                iif: p.info.iif,
                                oif: p.info.oif,
                                ..info_of(p)
                            };
                        }
                    }
                }
                r.verdicts.resize(sel.len(), Verdict::Drop);
                r.verdicts
            }
            Err(abort) => {
                // The run stops: these packets stay without a verdict and are counted as
                // unprocessed when the batch settles.
                self.abort = Some(abort);
                Vec::new()
            }
        }
    }

    /// Applies verdicts; returns the packets to run through the same entry again (REPEAT).
    fn apply_verdicts(
        &mut self,
        point: HookPoint,
        entry: &HookEntry,
        sel: &[usize],
        verdicts: &[Verdict],
    ) -> Vec<usize> {
        let mut repeat = Vec::new();
        let mut queued: Vec<(u16, usize)> = Vec::new();
        let mut c = HookCounters::default();
        for (&i, &v) in sel.iter().zip(verdicts) {
            c.packets += 1;
            match v {
                Verdict::Accept => c.accepted += 1,
                Verdict::Drop => {
                    c.dropped += 1;
                    self.drop_pkt(i, DropReason::NetfilterDrop);
                }
                Verdict::Stolen => {
                    c.stolen += 1;
                    let p = &mut self.pkts[i];
                    p.done = true;
                    let w = p.weight;
                    self.report.steal(&entry.key(point), w);
                }
                Verdict::Queue(num) => {
                    c.queued += 1;
                    queued.push((num, i));
                }
                Verdict::Repeat => {
                    c.repeated += 1;
                    repeat.push(i);
                }
            }
        }
        self.report.hook(&entry.key(point)).add(&c);
        // NFQUEUE: the queue's consumer judges the packets and its verdict is re-injected
        // (nf_reinject): ACCEPT continues after this entry, REPEAT runs it again; with no
        // consumer the packet is dropped (no --queue-bypass).
        let mut nums: Vec<u16> = queued.iter().map(|(n, _)| *n).collect();
        nums.sort_unstable();
        nums.dedup();
        for num in nums {
            let idx: Vec<usize> = queued
                .iter()
                .filter(|(n, _)| *n == num)
                .map(|(_, i)| *i)
                .collect();
            let Some(consumer) = self.hooks.queue(num) else {
                for &i in &idx {
                    self.drop_pkt(i, DropReason::NetfilterDrop);
                }
                continue;
            };
            let qentry = HookEntry {
                name: format!("queue{num}"),
                priority: entry.priority,
                family: entry.family,
                action: HookAction::External(consumer),
                jump_only: true,
            };
            let vs = self.call_external(point, &qentry, consumer, &idx);
            if self.abort.is_some() {
                return Vec::new();
            }
            for (&i, v) in idx.iter().zip(vs) {
                match v {
                    Verdict::Accept => {}
                    Verdict::Repeat => repeat.push(i),
                    Verdict::Stolen => {
                        let p = &mut self.pkts[i];
                        p.done = true;
                        let w = p.weight;
                        self.report.steal(&qentry.key(point), w);
                    }
                    Verdict::Drop | Verdict::Queue(_) => {
                        self.drop_pkt(i, DropReason::NetfilterDrop);
                    }
                }
            }
        }
        repeat
    }
}

/// What is left in a packet's place once its buffer went to the device: an empty view of
/// shared memory (no allocation).
fn spent() -> Skb {
    static EMPTY: std::sync::LazyLock<crate::batch::Bytes> =
        std::sync::LazyLock::new(|| crate::batch::Bytes::from_vec(Vec::new()));
    // Only windows beyond 4 GiB are refused; this one is empty.
    Skb::from_shared(EMPTY.clone()).expect("an empty buffer fits")
}

/// Destination address of the IP packet at the start of `d`.
fn ip_dst(d: &[u8]) -> Option<IpAddr> {
    match d.first().map(|b| b >> 4) {
        Some(4) if d.len() >= 20 => Some(IpAddr::from([d[16], d[17], d[18], d[19]])),
        Some(6) if d.len() >= 40 => {
            let a: [u8; 16] = d[24..40].try_into().ok()?;
            Some(IpAddr::from(a))
        }
        _ => None,
    }
}

/// Length of each segment of a GSO packet at the network layer (network and transport
/// headers plus `gso_size`); `None` for a packet that is not GSO.
fn gso_segment_len(p: &Pkt) -> Option<usize> {
    let size = usize::from(p.skb.meta.gso.size);
    if !p.skb.meta.is_gso() || size == 0 {
        return None;
    }
    let nh = usize::try_from(p.skb.network_offset()?).ok()?;
    let th = usize::try_from(p.skb.transport_offset()?).ok()?;
    let d = p.skb.data();
    let l4 = match p.info.l4proto {
        6 => usize::from(d.get(th + 12)? >> 4) * 4,
        _ => 8,
    };
    Some(th.checked_sub(nh)? + l4 + size)
}

/// Name in reports of the ICMP or ICMPv6 error at the start of IP packet `err`.
fn error_name(err: &[u8]) -> &'static str {
    let v4 = err.first().map(|b| b >> 4) == Some(4);
    let at = if v4 {
        usize::from(err[0] & 0x0f) * 4
    } else {
        40
    };
    let (t, code) = (*err.get(at).unwrap_or(&0), *err.get(at + 1).unwrap_or(&0));
    match (v4, t, code) {
        (true, 3, 0) => "net unreachable",
        (true, 3, 1) => "host unreachable",
        (true, 3, 2) => "protocol unreachable",
        (true, 3, 4) => "fragmentation needed",
        (true, 3, 13) => "administratively prohibited",
        (true, 3, _) => "destination unreachable",
        (true, 11, _) => "time exceeded",
        (false, 1, _) => "ICMPv6 destination unreachable",
        (false, 2, _) => "ICMPv6 packet too big",
        (false, 3, _) => "ICMPv6 hop limit exceeded",
        (false, 4, _) => "ICMPv6 parameter problem",
        _ => "other",
    }
}

/// Last slot of the segments-per-packet histogram (64 and more).
const MAX_SEGS_BUCKET: usize = 64;

/// Bytes of a forwarded packet made writable for its TTL (and later header rewrites): the
/// largest IPv4 header and TCP header together.
const FORWARD_HEAD: usize = 120;

fn no_memory() -> Forwarded {
    Forwarded::Dropped {
        reason: DropReason::NotSpecified,
        icmp: None,
    }
}

/// Input packets a buffer stands for.
fn weight(skb: &Skb) -> u64 {
    u64::from(skb.meta.gso.segs.max(1))
}

/// A packet of a raw-IP link type: the network header is the start.
fn raw_receive(skb: &mut Skb) -> Result<(), DropReason> {
    let proto = match skb.data().first().map(|b| b >> 4) {
        Some(4) => 0x0800,
        Some(6) => 0x86dd,
        Some(_) => return Err(DropReason::UnhandledProto),
        None => return Err(DropReason::PktTooSmall),
    };
    skb.meta.protocol = proto;
    skb.reset_network_header()
        .map_err(|_| DropReason::PktTooSmall)
}

fn family_of(protocol: u16) -> Option<Family> {
    match protocol {
        0x0800 => Some(Family::Ipv4),
        0x86dd => Some(Family::Ipv6),
        _ => None,
    }
}

/// What rules and routing see of a packet whose `data` is at its network header.
/// The packets `sel` of `pkts` as an external hook sees them. A hook reads whole frames, so a
/// packet with fragments is made linear first (`skb_linearize`). When `sel` is increasing, as
/// the paths make it, one sweep does both: each packet's memory is touched once (a batch of
/// packets does not fit in L1, and a second pass would miss on every one).
fn hook_columns<'a>(pkts: &'a mut [Pkt], sel: &[usize]) -> HookColumns<'a> {
    let mut cols = HookColumns::with_capacity(sel.len());
    if sel.windows(2).all(|w| w[0] < w[1]) {
        let mut rest = pkts;
        let mut base = 0;
        for &i in sel {
            let Some((p, tail)) = std::mem::take(&mut rest)
                .get_mut(i - base..)
                .and_then(<[Pkt]>::split_first_mut)
            else {
                break;
            };
            rest = tail;
            base = i + 1;
            if p.skb.is_nonlinear() {
                let _ = p.skb.linearize();
            }
            cols.push(hook_row(p));
        }
        return cols;
    }
    for &i in sel {
        if let Some(p) = pkts.get_mut(i)
            && p.skb.is_nonlinear()
        {
            let _ = p.skb.linearize();
        }
    }
    for &i in sel {
        if let Some(p) = pkts.get(i) {
            cols.push(hook_row(p));
        }
    }
    cols
}

fn hook_row(p: &Pkt) -> HookRow<'_> {
    let (frame, linktype, start) = match p.skb.mac_header_bytes() {
        Some(f) => (f, LinkType::ETHERNET.0, p.skb.mac_header()),
        None => (
            p.skb.network_header_bytes().unwrap_or(p.skb.data()),
            LinkType::RAW.0,
            p.skb.network_header(),
        ),
    };
    let shared = p
        .skb
        .shared_memory()
        .zip(start)
        .map(|((bytes, base), at)| (bytes, base + at));
    HookRow {
        frame,
        linktype,
        index: p.skb.meta.seq,
        ts: p.skb.meta.tstamp,
        iif: p.skb.meta.iif,
        oif: p.oif,
        mark: p.skb.meta.mark,
        priority: p.skb.meta.priority,
        shared,
        info: &p.info,
    }
}

fn info_of(p: &Pkt) -> PacketInfo {
    let mut info = p
        .family
        .and_then(|f| PacketInfo::parse(p.skb.data(), f))
        .unwrap_or_else(|| PacketInfo {
            length: u32::try_from(p.skb.len()).unwrap_or(u32::MAX),
            ..PacketInfo::default()
        });
    info.iif = p.skb.meta.iif;
    info.oif = p.oif;
    info.mark = p.skb.meta.mark;
    info
}

/// The local transport handlers (`inet_protos` / `inet6_protos`).
fn proto_name(proto: u8) -> Option<&'static str> {
    Some(match proto {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        58 => "icmpv6",
        132 => "sctp",
        136 => "udplite",
        _ => return None,
    })
}
