//! Generic receive offload, shaped like the kernel's `net/core/gro.c` with the protocol rules
//! of `net/ipv4/af_inet.c`, `net/ipv6/ip6_offload.c`, `net/ipv4/tcp_offload.c`,
//! `net/ipv4/udp_offload.c`, `net/8021q/vlan_core.c`, `net/ethernet/eth.c`,
//! `drivers/net/vxlan` and `drivers/net/geneve.c`.
//!
//! # The engine
//!
//! A [`Gro`] is one receive queue's GRO state (`struct gro_node`): [`GRO_HASH_BUCKETS`]
//! buckets of held packets, each holding at most [`MAX_GRO_SKBS`], chosen by the packet's
//! receive hash (`skb->hash & (GRO_HASH_BUCKETS - 1)`, [`SkbMeta::hash`](crate::skb::SkbMeta)):
//! a device without RSS (hash 0) holds every flow in bucket 0, so a ninth concurrent flow
//! evicts the oldest held packet (`gro_flush_oldest`). Each packet given to
//! [`Gro::receive`] (`napi_gro_receive` → `dev_gro_receive`) ends in one [`GroResult`]:
//!
//! - **merged** into the held packet of its flow (`GRO_MERGED_FREE`): its payload is chained
//!   to the held packet as a fragment, without a copy: a window of the segment's memory
//!   ([`Skb::add_window`]), the held packet taking one reference on that memory for all the
//!   segments it chains from it;
//! - **held** as the head of a new flow (`GRO_HELD`);
//! - **normal**: it goes up at once as it came (`GRO_NORMAL`), ahead of any held packet of
//!   its flow, which stays held;
//! - **consumed** (`GRO_CONSUMED`): kept by a handler for later — the kernel's asynchronous
//!   handlers (ESP) do this; none of the handlers here does.
//!
//! A packet that matches a held flow but must not merge with it first completes the held
//! packet (the kernel's `pp`): the held packet goes up, then the new one is held or goes up.
//! Packets go up in the order the kernel puts them on `napi->rx_list` (`gro_normal_one`);
//! [`Gro::receive`] queues them, [`Gro::flush`] and the poll functions hand them out.
//!
//! # Polls and flushes
//!
//! [`Gro::napi_poll`] takes up to `budget` packets (the NAPI weight, [`GroParams::budget`])
//! and then flushes: a poll that did not use its whole budget completes NAPI
//! (`napi_complete_done`) and flushes everything; a poll that used it flushes everything too
//! when `gro_flush_timeout` is 0 (the kernel with HZ < 1000 flushes all held packets after a
//! full-budget poll, `__napi_poll`), else only packets held for at least
//! [`GroParams::flush_timeout_ns`] of capture time (`__gro_flush(flush_old = true)`, the
//! timeout standing for the jiffy). Capture time is the latest packet timestamp seen; a
//! packet's age is its own timestamp. Within a flush, buckets go in index order and each
//! bucket from its oldest packet, stopping at the first one too young (`__gro_flush_chain`).
//!
//! Linux differs in one respect not modelled: with a `gro_flush_timeout`, a poll under budget
//! also flushes only old packets and arms a timer that flushes the rest `gro_flush_timeout`
//! later; here a poll under budget always flushes everything.
//!
//! # Input and output
//!
//! A packet enters as the device hands it to the stack: data at its Ethernet header (as
//! [`Skb::from_batch`] makes it), or — for a device without a link-layer header (raw IP link
//! types, tun) — with its network header set at the data start. It leaves the same way, its
//! `protocol` set (`eth_type_trans`), `ip_summed` raised for checksums GRO verified in
//! software, and, when merged, headers and metadata as `gro_complete` leaves them (see
//! [`gro_frame`] for the packet as one contiguous frame). Merged packets carry `gso.size`
//! (the MSS: the first segment's payload), `gso.segs` and `gso.gso_type`, and are
//! `CHECKSUM_PARTIAL` from their TCP or UDP header, whose checksum field holds the
//! pseudo-header sum (`tcp_gro_complete`, `udp_gro_complete_segment`) — except fraglist UDP,
//! which is `CHECKSUM_UNNECESSARY`.
//!
//! # Rules
//!
//! Each rule is written where its kernel function's counterpart is, and names it:
//! `parse.rs` (the walk through the handlers, the per-packet checks and the same-flow
//! comparisons), `ip.rs` (IPv4/IPv6 flush rules and length fixes), `tcp.rs`, `udp.rs`,
//! `tunnel.rs` (VXLAN, Geneve), `complete.rs` (`gro_complete`), `cb.rs` (checksum state).
//!
//! Protocols merged: TCP and UDP over IPv4 and IPv6, behind any number of VLAN tags, and
//! inside one level of tunnel: VXLAN and Geneve (UDP ports declared with
//! [`Gro::add_udp_tunnel_port`]), GRE (version 0, checksum and key allowed; IPv4, IPv6 or
//! Ethernet inside) and IP-in-IP (IPv4 or IPv6 in IPv4 or IPv6, SIT included). ESP has a GRO
//! handler in Linux but not here: its packets go up unmerged.
//! GRO reads `ip_summed` as the device left it (the device applies
//! [`Features::rx_csum`]); what it verifies itself it records there.
//!
//! Copies: a merged segment's payload is never copied (unless the segment lives in an owned
//! buffer, which cannot be shared: then once). The first segment's linear bytes are copied
//! once into a pool buffer when completion rewrites its headers (copy on write, where the
//! kernel writes in place). Steady state allocates nothing per packet (buffers and fragment
//! lists come from the worker's pool).
//!
//! Differences from Linux, all documented where they apply:
//! - a fraglist UDP packet holds its datagrams' payloads as fragments, not the datagrams
//!   themselves (an [`Skb`] has one fragment list of byte windows, no `frag_list` of
//!   packets): the later datagrams' own headers are not kept;
//! - a packet holds at most [`MAX_FRAGS`] fragments; a merge beyond
//!   that is refused like one beyond `gro_max_size` (the kernel chains further segments on
//!   `frag_list`);
//! - IPv4 never grows past 64 KiB (the kernel's `gro_ipv4_max_size` is not a parameter here);
//! - IPv4 fixed-ID state is kept per IP header of a tunnelled flow (inner and outer).

mod cb;
mod complete;
mod frame;
mod ip;
mod parse;
mod tcp;
mod tunnel;
mod udp;

pub use frame::{FrameCsum, gro_frame};
pub use parse::UdpTunnel;
pub use udp::UDP_GRO_CNT_MAX;

use std::sync::LazyLock;

use self::cb::CsumCb;
use self::parse::{Cfg, Kind, Layers, Pkt, same_flow};
use crate::batch::{Batch, Bytes};
use crate::capture::LinkType;
use crate::checksum::IpSummed;
use crate::offload::{Features, GroParams};
use crate::skb::{Frag, MAX_FRAGS, Skb, SkbMeta, VlanTag};

/// Hash buckets per GRO instance (`GRO_HASH_BUCKETS`).
pub const GRO_HASH_BUCKETS: usize = 8;

/// Most packets one bucket holds (`MAX_GRO_SKBS`).
pub const MAX_GRO_SKBS: usize = 8;

/// The largest packet GRO builds without BIG TCP (`GRO_LEGACY_MAX_SIZE`).
pub const GRO_LEGACY_MAX_SIZE: u32 = 65536;

/// `ETH_P_IPV6`, the protocol for which `gro_max_size` applies beyond 64 KiB.
const ETH_P_IPV6: u16 = 0x86dd;

/// What became of a packet given to [`Gro::receive`] (`enum gro_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroResult {
    /// Merged into a held packet (`GRO_MERGED_FREE`; `GRO_MERGED` in the kernel when the
    /// segment itself is chained, which here is the same).
    Merged,
    /// Held as the first segment of a flow (`GRO_HELD`).
    Held,
    /// Goes up as it is (`GRO_NORMAL`).
    Normal,
    /// Kept by a handler for later (`GRO_CONSUMED`); no handler here does this.
    Consumed,
}

/// Counters of one GRO instance. `received == merged + held + normal`, and every held packet
/// ends up `completed` or `singles` (or is still held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroStats {
    /// Packets given to [`Gro::receive`].
    pub received: u64,
    /// Packets merged into a held packet.
    pub merged: u64,
    /// Packets held as the first segment of a flow.
    pub held: u64,
    /// Packets that went up unchanged at once.
    pub normal: u64,
    /// Held packets that went up with more than one segment.
    pub completed: u64,
    /// Held packets that went up alone (nothing merged into them).
    pub singles: u64,
    /// Held packets completed because their bucket was full (`gro_flush_oldest`).
    pub evicted: u64,
    /// Merged packets whose headers could not be rewritten (went up as the first segment
    /// had them); expected to stay 0.
    pub complete_errors: u64,
    /// NAPI polls run.
    pub polls: u64,
    /// Polls that used their whole budget.
    pub full_polls: u64,
}

/// A held packet and its GRO control block (`NAPI_GRO_CB(p)`).
pub(crate) struct Held {
    /// The first segment, with the payload of the merged ones as fragments.
    pub skb: Skb,
    /// Its headers.
    pub lay: Layers,
    /// Receive hash (`skb_get_hash_raw`), compared by `gro_list_prepare`.
    pub hash: u32,
    /// Out-of-band VLAN tag (`vlan_all`), compared by `gro_list_prepare`.
    pub vlan: Option<VlanTag>,
    /// Capture time it was held at (`NAPI_GRO_CB(p)->age`).
    pub age: i64,
    /// Segments it holds (`NAPI_GRO_CB(p)->count`).
    pub count: u16,
    /// Its MSS: the first segment's payload (`skb_shinfo(p)->gso_size`).
    pub mss: usize,
    /// IPv4 IDs of the flow are fixed, per network header (outer, inner)
    /// (`NAPI_GRO_CB(p)->ip_fixedid`).
    pub fixedid: [bool; 2],
    /// TCP FIN and PSH of merged segments, set at completion (`tcp_flag_word(th2) |= …`).
    pub tcp_or: u8,
    /// A copy of the first bytes of its linear data (its headers, read by every segment of
    /// the flow), which reaching the skb's shared memory would cost a call each time.
    head: HeadCopy,
}

/// Bytes of a held packet's headers kept in [`Held`]: Ethernet, a VLAN tag, IPv6 and TCP
/// with the largest options fit.
const HEAD_COPY: usize = 128;

/// The first bytes of a packet's linear data.
struct HeadCopy {
    bytes: [u8; HEAD_COPY],
    len: u8,
}

impl HeadCopy {
    fn of(data: &[u8]) -> Self {
        let mut bytes = [0; HEAD_COPY];
        let len = data.len().min(HEAD_COPY);
        bytes[..len].copy_from_slice(&data[..len]);
        HeadCopy {
            bytes,
            len: len as u8,
        }
    }

    /// The copy when it holds the first `needed` bytes of `skb`'s linear data (which it was
    /// taken from), else that data.
    fn or_data<'a>(&'a self, skb: &'a Skb, needed: usize) -> &'a [u8] {
        let copied = usize::from(self.len);
        if needed <= copied {
            &self.bytes[..copied]
        } else {
            skb.data()
        }
    }
}

/// What the IP rules read of a held packet: its layers, its linear data (looked up once per
/// segment) and its segment count.
#[derive(Clone, Copy)]
pub(crate) struct HeldHeaders<'a> {
    pub lay: &'a Layers,
    pub data: &'a [u8],
    pub count: u16,
}

impl Held {
    /// Holds `skb`, whose headers are `lay`.
    fn new(skb: Skb, lay: Layers, hash: u32, vlan: Option<VlanTag>) -> Self {
        let head = HeadCopy::of(skb.data());
        Held {
            age: skb.meta.tstamp,
            mss: lay.gso_size.map_or(lay.gro_len, usize::from),
            count: lay.count,
            skb,
            lay,
            hash,
            vlan,
            fixedid: [false; 2],
            tcp_or: 0,
            head,
        }
    }

    /// Its linear data as far as the segments of its flow compare it: all of its headers
    /// (from the copy when they fit in it; the copy is taken when the packet is held, and
    /// nothing changes a held packet's linear data until it is completed).
    pub fn data(&self) -> &[u8] {
        self.head.or_data(&self.skb, self.lay.payload_off)
    }

    /// Its headers as the IP rules read them, and its IPv4 fixed-ID record to update.
    pub fn headers(&mut self) -> (HeldHeaders<'_>, &mut [bool; 2]) {
        (
            HeldHeaders {
                lay: &self.lay,
                data: self.head.or_data(&self.skb, self.lay.payload_off),
                count: self.count,
            },
            &mut self.fixedid,
        )
    }
}

/// What the transport handler decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Verdict {
    /// The held packet is completed now (the kernel's `pp`).
    pub pp: bool,
    /// The new packet was merged into it (`NAPI_GRO_CB(skb)->same_flow`).
    pub merged: bool,
    /// The new packet must not be held (`NAPI_GRO_CB(skb)->flush` set by the handler).
    pub flush: bool,
}

/// The new packet as the merge functions see it.
pub(crate) struct Seg<'a> {
    pub pkt: &'a Incoming<'a>,
    /// Its linear data (looked up once).
    pub d: &'a [u8],
    pub lay: &'a Layers,
    /// `gro_max_size` of the device.
    pub max_size: u32,
}

impl Seg<'_> {
    /// `skb_gro_receive`: refused (`-E2BIG`) when the held packet would reach `gro_max_size`
    /// (`netif_get_gro_max_size`: IPv6 may use all of it, anything else stops at 64 KiB) or
    /// 64 KiB for anything but TCP outside a tunnel, when the new packet is flagged
    /// (`NAPI_GRO_CB(skb)->flush`), or when the fragment list is full.
    pub fn gro_receive(&self, p: &mut Held) -> bool {
        let len = self.lay.gro_len;
        let p_len = p.skb.len() - p.lay.mac_len();
        let cap = if p.lay.protocol == ETH_P_IPV6 {
            self.max_size
        } else {
            self.max_size.min(GRO_LEGACY_MAX_SIZE)
        } as usize;
        if p_len + len >= cap || self.lay.flush {
            return false;
        }
        if p_len + len >= GRO_LEGACY_MAX_SIZE as usize
            && (p.lay.l4().kind != Kind::Tcp || p.lay.encap)
        {
            return false;
        }
        if !add_payload(&mut p.skb, self.pkt, self.lay.payload_off) {
            return false;
        }
        p.count = p.count.saturating_add(self.lay.count);
        true
    }

    /// `skb_gro_receive_list` (fraglist): refused when the held packet would reach 64 KiB.
    pub fn gro_receive_list(&self, p: &mut Held) -> bool {
        let p_len = p.skb.len() - p.lay.mac_len();
        let len = self.pkt.len() - self.lay.mac_len();
        if p_len + len >= GRO_LEGACY_MAX_SIZE as usize {
            return false;
        }
        if !add_payload(&mut p.skb, self.pkt, self.lay.payload_off) {
            return false;
        }
        p.count = p.count.saturating_add(1);
        true
    }
}

/// A packet entering GRO: an [`Skb`], or a row of a capture batch that becomes an [`Skb`]
/// only if it is held or goes up (a merged row is chained straight from the batch memory,
/// sparing the per-packet buffer set-up and reference counting).
pub(crate) enum Incoming<'b> {
    Skb(Skb),
    Row {
        batch: &'b Batch,
        row: usize,
        /// The row's bytes.
        data: &'b [u8],
        /// Its timestamp (the rest of its metadata is [`Skb::from_batch`]'s default).
        tstamp: i64,
        /// What GRO learnt of it, written to its metadata if it becomes an [`Skb`].
        settled: Settled,
    },
}

/// What GRO writes into a packet's metadata: the protocol `eth_type_trans` read (`None`:
/// left as it is) and the checksum state after GRO's verifications.
#[derive(Clone, Copy, Default)]
pub(crate) struct Settled {
    protocol: Option<u16>,
    summed: IpSummed,
}

impl Settled {
    fn apply(self, meta: &mut SkbMeta) {
        if let Some(p) = self.protocol {
            meta.protocol = p;
        }
        meta.ip_summed = self.summed;
    }
}

/// The metadata of a capture row as the header walk sees it: a fresh packet's.
static ROW_META: LazyLock<SkbMeta> = LazyLock::new(SkbMeta::default);

impl Incoming<'_> {
    /// Bytes in the linear part (`skb_headlen`), without resolving them.
    fn linear_len(&self) -> usize {
        match self {
            Incoming::Skb(skb) => skb.linear_len(),
            Incoming::Row { data, .. } => data.len(),
        }
    }

    /// Bytes in all (`skb->len`).
    fn len(&self) -> usize {
        match self {
            Incoming::Skb(skb) => skb.len(),
            Incoming::Row { data, .. } => data.len(),
        }
    }

    /// What `dev_gro_receive` reads of its metadata: timestamp, receive hash, out-of-band
    /// VLAN tag and checksum state (a row has no hash, tag or checksum verdict).
    fn rx_meta(&self) -> (i64, u32, Option<VlanTag>, IpSummed) {
        match self {
            Incoming::Skb(skb) => {
                let m = &skb.meta;
                (m.tstamp, m.hash, m.vlan, m.ip_summed)
            }
            Incoming::Row { tstamp, .. } => (*tstamp, 0, None, IpSummed::None),
        }
    }

    /// Records what GRO learnt of it (written to an skb's metadata at once).
    fn settle(&mut self, protocol: Option<u16>, summed: IpSummed) {
        let s = Settled { protocol, summed };
        match self {
            Incoming::Skb(skb) => s.apply(&mut skb.meta),
            Incoming::Row { settled, .. } => *settled = s,
        }
    }

    /// What the header walk reads.
    fn view(&self) -> Pkt<'_> {
        match self {
            Incoming::Skb(skb) => Pkt::of(skb),
            Incoming::Row { data, .. } => Pkt {
                data,
                frags: &[],
                meta: &ROW_META,
            },
        }
    }

    /// The packet as an [`Skb`] (a row: a zero-copy view of the batch, its network header at
    /// the start when `raw`). `None` only for a row outside the batch memory, which
    /// [`Batch::packet`] already refused.
    fn into_skb(self, raw: bool) -> Option<Skb> {
        match self {
            Incoming::Skb(skb) => Some(skb),
            Incoming::Row {
                batch,
                row,
                settled,
                ..
            } => {
                let mut skb = Skb::from_batch(batch, row)?;
                settled.apply(&mut skb.meta);
                if raw {
                    let _ = skb.set_network_header(0);
                }
                Some(skb)
            }
        }
    }

    /// Where its bytes from `from` to the end of its linear part lie in shared memory: the
    /// memory, their offset there and their length. `None` for a packet in an owned buffer
    /// or one already carrying fragments.
    fn linear_window(&self, from: usize) -> Option<(&Bytes, usize, usize)> {
        let len = self.linear_len().checked_sub(from)?;
        match self {
            Incoming::Skb(skb) => {
                let (bytes, base) = skb.shared_memory()?;
                Some((bytes, base + skb.headroom() + from, len))
            }
            Incoming::Row { batch, row, .. } => {
                let start = usize::try_from(*batch.offset.get(*row)?).ok()?;
                Some((&batch.data, start + from, len))
            }
        }
    }

    /// Its bytes from `from` to the end of its linear part, as a fragment of their own: a
    /// window of its memory, or a copy for a packet in an owned buffer, which cannot be
    /// shared.
    fn linear_frag(&self, from: usize) -> Option<Frag> {
        let Incoming::Skb(skb) = self else {
            return None;
        };
        match skb.data_frag() {
            Some(mut f) => {
                f.advance(from);
                Some(f)
            }
            None => Some(Frag::new(Bytes::from_vec(skb.data().get(from..)?.to_vec()))),
        }
    }

    fn frags(&self) -> &[Frag] {
        match self {
            Incoming::Skb(skb) => skb.frags(),
            Incoming::Row { .. } => &[],
        }
    }
}

/// Chains the bytes of `src` from `from` on to `dst` as fragments: a window of `src`'s
/// memory (no copy) and `src`'s own fragments. False, with `dst` unchanged, when the fragment
/// list would overflow.
fn add_payload(dst: &mut Skb, src: &Incoming<'_>, from: usize) -> bool {
    let head = usize::from(from < src.linear_len());
    if dst.nr_frags() + head + src.frags().len() > MAX_FRAGS {
        return false;
    }
    if head == 1 {
        // A window of shared memory leans on the reference `dst` already holds on it (one
        // per held packet, not one per segment); anything else becomes a fragment of its own.
        let added = match src.linear_window(from) {
            Some((bytes, off, len)) => dst.add_window(bytes, off, len).is_ok(),
            None => src
                .linear_frag(from)
                .is_some_and(|f| dst.add_frag(f).is_ok()),
        };
        if !added {
            return false;
        }
    }
    for f in src.frags() {
        if dst.add_frag(f.clone()).is_err() {
            return false;
        }
    }
    true
}

/// One receive queue's GRO engine (`struct gro_node` with its NAPI poll loop).
///
/// Owned by the queue's worker; holds no lock. Allocates only when created (buckets and the
/// output list keep their capacity).
pub struct Gro {
    params: GroParams,
    features: Features,
    tunnels: Vec<(u16, UdpTunnel)>,
    buckets: [Vec<Held>; GRO_HASH_BUCKETS],
    /// Packets gone up, in order (`napi->rx_list`).
    rx: Vec<Skb>,
    now: i64,
    stats: GroStats,
}

impl std::fmt::Debug for Gro {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gro")
            .field("params", &self.params)
            .field("features", &self.features)
            .field("tunnels", &self.tunnels)
            .field("held", &self.held_count())
            .field("queued", &self.rx.len())
            .field("now", &self.now)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Gro {
    /// A GRO engine with a device's parameters and features (`features.gro` off: every
    /// packet goes up as it is, `netif_elide_gro`; `features.udp_gro` picks UDP GRO).
    #[must_use]
    pub fn new(params: GroParams, features: Features) -> Self {
        Gro {
            params,
            features,
            tunnels: Vec::new(),
            buckets: std::array::from_fn(|_| Vec::with_capacity(MAX_GRO_SKBS + 1)),
            rx: Vec::with_capacity(params.budget.max(1) + GRO_HASH_BUCKETS * MAX_GRO_SKBS),
            now: i64::MIN,
            stats: GroStats::default(),
        }
    }

    /// Declares UDP destination `port` owned by a tunnel device (a VXLAN or Geneve device
    /// listening there), whose packets GRO then merges by their inner packets. Without it,
    /// datagrams to the port are plain UDP.
    pub fn add_udp_tunnel_port(&mut self, port: u16, kind: UdpTunnel) {
        self.tunnels.retain(|(p, _)| *p != port);
        self.tunnels.push((port, kind));
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &GroParams {
        &self.params
    }

    /// The features.
    #[must_use]
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> &GroStats {
        &self.stats
    }

    /// Packets held now, over all buckets.
    #[must_use]
    pub fn held_count(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    /// Packets gone up and not yet handed out.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.rx.len()
    }

    /// Capture time: the latest packet timestamp seen (nanoseconds).
    #[must_use]
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Receives one packet (`napi_gro_receive` → `dev_gro_receive`). Packets that go up
    /// because of it — held packets it completes, itself when normal — are queued in order;
    /// take them with [`Gro::take_output`] or a flush.
    pub fn receive(&mut self, skb: Skb) -> GroResult {
        let raw = skb.network_offset() == Some(0);
        self.receive_from(Incoming::Skb(skb), raw)
    }

    /// Receives row `row` of a capture batch, without copying it: an Ethernet frame, or an
    /// IP packet for raw-IP link types. Other link types go up as they are. `None` past the
    /// end of the batch. A row merged into a held packet never becomes an [`Skb`]: its
    /// payload is chained straight from the batch memory.
    pub fn receive_row(&mut self, batch: &Batch, row: usize) -> Option<GroResult> {
        self.receive_row_in(batch, batch.data.as_slice(), row)
    }

    /// [`Gro::receive_row`] with the batch memory `mem` already resolved (once per poll).
    fn receive_row_in(&mut self, batch: &Batch, mem: &[u8], row: usize) -> Option<GroResult> {
        let start = usize::try_from(*batch.offset.get(row)?).ok()?;
        let len = *batch.caplen.get(row)? as usize;
        let data = mem.get(start..start.checked_add(len)?)?;
        let tstamp = batch.ts.get(row).copied().unwrap_or_default();
        let pkt = Incoming::Row {
            batch,
            row,
            data,
            tstamp,
            settled: Settled::default(),
        };
        let lt = LinkType(batch.linktype.get(row).copied().unwrap_or_default());
        Some(match lt {
            LinkType::ETHERNET => self.receive_from(pkt, false),
            LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => self.receive_from(pkt, true),
            _ => {
                self.stats.received += 1;
                self.now = self.now.max(tstamp);
                self.normal_from(pkt, false)
            }
        })
    }

    /// `dev_gro_receive` for either kind of input; `raw`: the packet starts at its network
    /// header (a device without a link-layer header).
    fn receive_from(&mut self, mut pkt: Incoming<'_>, raw: bool) -> GroResult {
        self.stats.received += 1;
        let (tstamp, hash, vlan, summed) = pkt.rx_meta();
        let mut cb = CsumCb::new(summed);
        self.now = self.now.max(tstamp);
        // What GRO sets in the metadata (`skb->protocol`, `ip_summed`) is written only to a
        // packet that goes up or is held: a merged row never needs it.
        // The linear bytes, resolved once (an skb's shared memory takes a call to reach).
        let view = pkt.view();
        let d = view.data;
        let protocol = if raw { None } else { eth_protocol(d) };
        if !self.features.gro {
            pkt.settle(protocol, cb.summed);
            return self.normal_from(pkt, raw);
        }
        let cfg = Cfg {
            udp_gro: self.features.udp_gro,
            tunnels: &self.tunnels,
        };
        // Parsed in place: `Layers` is too big to move around per packet.
        let mut lay = Layers::EMPTY;
        let parsed = parse::parse(&view, raw, cfg, &mut cb, &mut lay);
        if parsed.is_none() {
            pkt.settle(protocol, cb.summed);
            return self.normal_from(pkt, raw);
        }
        let b = hash as usize & (GRO_HASH_BUCKETS - 1);
        let bucket = &mut self.buckets[b];
        // gro_list_prepare and the handlers' same-flow checks; the newest held packet first,
        // as the kernel's list has it.
        let found = bucket.iter().rposition(|p| {
            p.hash == hash && p.vlan == vlan && same_flow(&p.lay, p.data(), &lay, d)
        });
        let seg = Seg {
            pkt: &pkt,
            d,
            lay: &lay,
            max_size: self.params.max_size,
        };
        let p = found.and_then(|i| bucket.get_mut(i));
        let verdict = match lay.l4().kind {
            Kind::Tcp => tcp::gro_receive(p, &seg),
            _ => udp::gro_receive(p, &seg, cb.summed),
        };
        lay.flush |= verdict.flush;
        if verdict.pp
            && let Some(i) = found
        {
            let held = bucket.remove(i);
            deliver(held, &mut self.rx, &mut self.stats);
        }
        if verdict.merged {
            self.stats.merged += 1;
            return GroResult::Merged;
        }
        pkt.settle(protocol, cb.summed);
        if lay.flush {
            return self.normal_from(pkt, raw);
        }
        let Some(skb) = pkt.into_skb(raw) else {
            return GroResult::Consumed;
        };
        let bucket = &mut self.buckets[b];
        if bucket.len() >= MAX_GRO_SKBS {
            let oldest = bucket.remove(0);
            self.stats.evicted += 1;
            deliver(oldest, &mut self.rx, &mut self.stats);
        }
        let bucket = &mut self.buckets[b];
        bucket.push(Held::new(skb, lay, hash, vlan));
        self.stats.held += 1;
        GroResult::Held
    }

    fn normal_from(&mut self, pkt: Incoming<'_>, raw: bool) -> GroResult {
        match pkt.into_skb(raw) {
            Some(skb) => self.normal(skb),
            None => GroResult::Consumed,
        }
    }

    fn normal(&mut self, skb: Skb) -> GroResult {
        self.stats.normal += 1;
        self.rx.push(skb);
        GroResult::Normal
    }

    /// Completes held packets (`__gro_flush`, formerly `napi_gro_flush`): all of them, or with `all` false only those
    /// held for at least `gro_flush_timeout` at capture time `now_ns` (`flush_old`). Then
    /// hands out everything gone up so far, in order (`gro_normal_list`).
    pub fn flush(&mut self, now_ns: i64, all: bool) -> std::vec::Drain<'_, Skb> {
        self.now = self.now.max(now_ns);
        self.flush_held(all);
        self.rx.drain(..)
    }

    /// Hands out the packets gone up so far, in order, without flushing held ones.
    pub fn take_output(&mut self) -> std::vec::Drain<'_, Skb> {
        self.rx.drain(..)
    }

    fn flush_held(&mut self, all: bool) {
        let timeout = i64::try_from(self.params.flush_timeout_ns).unwrap_or(i64::MAX);
        let now = self.now;
        for bucket in &mut self.buckets {
            // __gro_flush_chain: oldest first; with flush_old, stop at the first young one.
            let mut n = 0;
            for p in bucket.iter() {
                if !all && now.saturating_sub(p.age) < timeout {
                    break;
                }
                n += 1;
            }
            for held in bucket.drain(..n) {
                deliver(held, &mut self.rx, &mut self.stats);
            }
        }
    }

    /// One NAPI poll: receives up to `budget` packets from `input`, flushes as the kernel
    /// does at the end of a poll (see the [module documentation](self)) and appends what went
    /// up to `out`. Returns the number of packets taken; fewer than `budget` means `input`
    /// ran dry and NAPI completed (everything was flushed).
    pub fn napi_poll<I: Iterator<Item = Skb>>(
        &mut self,
        input: &mut I,
        out: &mut Vec<Skb>,
    ) -> usize {
        let budget = self.params.budget.max(1);
        let mut work = 0;
        while work < budget {
            let Some(skb) = input.next() else {
                break;
            };
            self.receive(skb);
            work += 1;
        }
        self.end_poll(work, budget, out);
        work
    }

    /// [`Gro::napi_poll`] over the rows of a capture batch from `*row` on (zero copy, see
    /// [`Gro::receive_row`]); advances `*row`.
    pub fn napi_poll_batch(&mut self, batch: &Batch, row: &mut usize, out: &mut Vec<Skb>) -> usize {
        let budget = self.params.budget.max(1);
        let mem = batch.data.as_slice();
        let mut work = 0;
        while work < budget && self.receive_row_in(batch, mem, *row).is_some() {
            *row += 1;
            work += 1;
        }
        self.end_poll(work, budget, out);
        work
    }

    fn end_poll(&mut self, work: usize, budget: usize, out: &mut Vec<Skb>) {
        self.stats.polls += 1;
        if work < budget {
            // napi_complete_done.
            self.flush_held(true);
        } else {
            // __napi_poll after a full budget: flush old packets (all of them without a
            // timeout, like HZ < 1000).
            self.stats.full_polls += 1;
            self.flush_held(self.params.flush_timeout_ns == 0);
        }
        out.append(&mut self.rx);
    }

    /// Runs `input` through successive polls until it runs dry (the last poll, under
    /// budget, flushes everything), appending what goes up to `out`.
    pub fn run<I: IntoIterator<Item = Skb>>(&mut self, input: I, out: &mut Vec<Skb>) {
        let budget = self.params.budget.max(1);
        let mut it = input.into_iter();
        while self.napi_poll(&mut it, out) == budget {}
    }

    /// Runs every row of `batch` through successive polls, ending with a full flush.
    pub fn run_batch(&mut self, batch: &Batch, out: &mut Vec<Skb>) {
        let budget = self.params.budget.max(1);
        let mut row = 0;
        while self.napi_poll_batch(batch, &mut row, out) == budget {}
    }
}

/// `skb->protocol` as `eth_type_trans` sets it: the ethertype, or for an 802.3 length field
/// `ETH_P_802_3` (raw 802.3, payload starting 0xffff) or `ETH_P_802_2` (LLC).
fn eth_protocol(d: &[u8]) -> Option<u16> {
    let et = u16::from_be_bytes([*d.get(12)?, *d.get(13)?]);
    if et >= 0x0600 {
        return Some(et);
    }
    Some(if d.get(14..16) == Some(&[0xff, 0xff]) {
        0x0001
    } else {
        0x0004
    })
}

/// Completes a held packet and queues it (`gro_complete` → `gro_normal_one`).
fn deliver(h: Held, rx: &mut Vec<Skb>, stats: &mut GroStats) {
    if h.count > 1 {
        stats.completed += 1;
    } else {
        stats.singles += 1;
    }
    let (skb, ok) = complete::gro_complete(h);
    if !ok {
        stats.complete_errors += 1;
    }
    rx.push(skb);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eth_protocol_like_eth_type_trans() {
        let mut f = vec![0u8; 20];
        f[12] = 0x86;
        f[13] = 0xdd;
        assert_eq!(eth_protocol(&f), Some(0x86dd));
        f[12] = 0;
        f[13] = 46; // an 802.3 length
        assert_eq!(eth_protocol(&f), Some(0x0004));
        f[14] = 0xff;
        f[15] = 0xff;
        assert_eq!(eth_protocol(&f), Some(0x0001));
        assert_eq!(eth_protocol(&f[..13]), None);
    }

    #[test]
    fn add_payload_refuses_a_full_fragment_list_unchanged() {
        let seg = Incoming::Skb(Skb::from_shared(Bytes::from_vec(vec![7u8; 100])).unwrap());
        let mut dst = Skb::from_shared(Bytes::from_vec(vec![1u8; 10])).unwrap();
        for _ in 0..MAX_FRAGS {
            assert!(add_payload(&mut dst, &seg, 90));
        }
        assert_eq!(dst.len(), 10 + MAX_FRAGS * 10);
        assert!(!add_payload(&mut dst, &seg, 90));
        assert_eq!(dst.nr_frags(), MAX_FRAGS);
        // Nothing after the headers: nothing to chain.
        let mut dst = Skb::from_shared(Bytes::from_vec(vec![1u8; 10])).unwrap();
        assert!(add_payload(&mut dst, &seg, 100));
        assert_eq!(dst.nr_frags(), 0);
    }

    #[test]
    fn a_batch_row_chains_the_same_window_as_its_skb() {
        let frames = [vec![1u8; 30], vec![2u8; 50]];
        let batch = Batch::from_packets(
            frames
                .iter()
                .map(|f| (0, f.as_slice(), f.len() as u32, 0, 1)),
        );
        let row = Incoming::Row {
            batch: &batch,
            row: 1,
            data: batch.packet(1).unwrap(),
            tstamp: 0,
            settled: Settled::default(),
        };
        let skb = Incoming::Skb(Skb::from_batch(&batch, 1).unwrap());
        let mut a = Skb::from_shared(Bytes::from_vec(vec![0u8; 4])).unwrap();
        let mut b = Skb::from_shared(Bytes::from_vec(vec![0u8; 4])).unwrap();
        assert!(add_payload(&mut a, &row, 20));
        assert!(add_payload(&mut b, &skb, 20));
        assert_eq!(a.to_vec(), b.to_vec());
        assert_eq!(a.to_vec()[4..], [2u8; 30]);
        let held = row.into_skb(true).unwrap();
        assert_eq!(held.network_offset(), Some(0));
        assert_eq!(held.data(), &frames[1][..]);
    }

    #[test]
    fn a_held_packet_reads_its_headers_from_the_copy_only_when_they_fit() {
        let data: Vec<u8> = (0..200u8).collect();
        let skb = Skb::from_shared(Bytes::from_vec(data.clone())).unwrap();
        let head = HeadCopy::of(skb.data());
        assert_eq!(head.or_data(&skb, 54), &data[..HEAD_COPY]);
        assert_eq!(head.or_data(&skb, HEAD_COPY), &data[..HEAD_COPY]);
        assert_eq!(head.or_data(&skb, HEAD_COPY + 1), &data[..]);
        let short = Skb::from_shared(Bytes::from_vec(data[..40].to_vec())).unwrap();
        let head = HeadCopy::of(short.data());
        assert_eq!(head.or_data(&short, 40), &data[..40]);
    }

    #[test]
    fn results_and_stats_add_up_for_non_ip_traffic() {
        let mut g = Gro::new(GroParams::default(), Features::default());
        let mut arp = vec![0u8; 60];
        arp[12] = 0x08;
        arp[13] = 0x06;
        let skb = Skb::from_shared(Bytes::from_vec(arp)).unwrap();
        assert_eq!(g.receive(skb), GroResult::Normal);
        let out: Vec<Skb> = g.flush(0, true).collect();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].meta.protocol, 0x0806);
        assert_eq!(g.stats().normal, 1);
        assert_eq!(g.queued(), 0);
        assert!(format!("{g:?}").contains("held: 0"));
    }
}
