//! GRO: hand-built traces for every merge and flush rule, asserting which inputs end in which
//! output and in which order; the engine (buckets by hash, polls, flush timeout,
//! `gro_max_size`); completion (lengths, GSO state, checksum state, contiguous frame); and a
//! property test over random interleaved flows.
//!
//! Each input segment carries a payload made of one marker byte (its number in the trace), so
//! the payload of an output reads as the list of inputs it holds: `[[1, 2, 3], [4]]` means a
//! packet merged from inputs 1–3, then input 4 alone. An empty list is a packet without
//! payload (a pure ACK).

// Traces name their flows and packets a, b, c; a flow or a packet is a plain bag of switches
// that bend one rule at a time.
#![allow(
    clippy::many_single_char_names,
    clippy::struct_field_names,
    clippy::struct_excessive_bools
)]

use netcore_core::batch::Bytes;
use netcore_core::checksum::{self, IpSummed};
use netcore_core::offload::gro::{
    FrameCsum, GRO_HASH_BUCKETS, Gro, GroResult, MAX_GRO_SKBS, UDP_GRO_CNT_MAX, UdpTunnel,
    gro_frame,
};
use netcore_core::offload::{Features, GroParams, UdpGro};
use netcore_core::skb::{GsoType, Skb, VlanTag};
use netcore_core::{Batch, LinkType};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ----- building frames ---------------------------------------------------------------------

const ACK: u16 = 0x010;
const PSH: u16 = 0x008;
const FIN: u16 = 0x001;
const SYN: u16 = 0x002;
const RST: u16 = 0x004;
const URG: u16 = 0x020;
const ECE: u16 = 0x040;
const CWR: u16 = 0x080;

/// What identifies a flow and what its packets share.
#[derive(Clone, Debug)]
struct Flow {
    dmac: [u8; 6],
    smac: [u8; 6],
    vlan: Option<u16>,
    v6: bool,
    src: u8,
    dst: u8,
    sport: u16,
    dport: u16,
    ttl: u8,
    tos: u8,
    df: bool,
    flow_label: u32,
    /// TCP timestamps option (12 bytes: NOP NOP TS).
    ts: bool,
    /// IPv6 extension header bytes between the fixed header and TCP (a hop-by-hop header).
    hbh: Option<Vec<u8>>,
}

impl Flow {
    fn v4(sport: u16) -> Flow {
        Flow {
            dmac: [2, 0, 0, 0, 0, 2],
            smac: [2, 0, 0, 0, 0, 1],
            vlan: None,
            v6: false,
            src: 1,
            dst: 2,
            sport,
            dport: 80,
            ttl: 64,
            tos: 0,
            df: true,
            flow_label: 0,
            ts: true,
            hbh: None,
        }
    }

    fn v6(sport: u16) -> Flow {
        Flow {
            v6: true,
            ..Flow::v4(sport)
        }
    }
}

/// One TCP segment and the fields a rule may bend.
#[derive(Clone, Debug)]
struct Tcp {
    flow: Flow,
    seq: u32,
    ack: u32,
    flags: u16,
    win: u16,
    id: u16,
    tsval: u32,
    payload: Vec<u8>,
    ip_opts: bool,
    mf: bool,
    evil: bool,
    pad: usize,
    bad_tcp_csum: bool,
    bad_ip_csum: bool,
    frag_hdr: bool,
}

impl Tcp {
    fn new(flow: &Flow, seq: u32, len: usize, marker: u8) -> Tcp {
        Tcp {
            flow: flow.clone(),
            seq,
            ack: 1,
            flags: ACK,
            win: 512,
            id: 0,
            tsval: 7,
            payload: vec![marker; len],
            ip_opts: false,
            mf: false,
            evil: false,
            pad: 0,
            bad_tcp_csum: false,
            bad_ip_csum: false,
            frag_hdr: false,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let f = &self.flow;
        let opt_len = if f.ts { 12 } else { 0 };
        let mut t = vec![0u8; 20 + opt_len];
        t[0..2].copy_from_slice(&f.sport.to_be_bytes());
        t[2..4].copy_from_slice(&f.dport.to_be_bytes());
        t[4..8].copy_from_slice(&self.seq.to_be_bytes());
        t[8..12].copy_from_slice(&self.ack.to_be_bytes());
        let doff = ((20 + opt_len) / 4) as u16;
        t[12..14].copy_from_slice(&((doff << 12) | self.flags).to_be_bytes());
        t[14..16].copy_from_slice(&self.win.to_be_bytes());
        if f.ts {
            t[20] = 1;
            t[21] = 1;
            t[22] = 8;
            t[23] = 10;
            t[24..28].copy_from_slice(&self.tsval.to_be_bytes());
            t[28..32].copy_from_slice(&3u32.to_be_bytes());
        }
        t.extend_from_slice(&self.payload);
        let ip = IpFields {
            id: self.id,
            opts: self.ip_opts,
            mf: self.mf,
            evil: self.evil,
            bad_csum: self.bad_ip_csum,
            frag_hdr: self.frag_hdr,
        };
        let mut pkt = ip_packet(f, &ip, 6, t, Some(16));
        if self.bad_tcp_csum {
            let l4 = pkt.len() - self.payload.len() - 20 - opt_len;
            pkt[l4 + 16] ^= 0x55;
        }
        eth(f, &pkt, self.pad)
    }

    fn skb(&self) -> Skb {
        shared(self.bytes())
    }
}

/// IP header oddities of one packet.
#[derive(Clone, Debug, Default)]
struct IpFields {
    id: u16,
    opts: bool,
    mf: bool,
    evil: bool,
    bad_csum: bool,
    frag_hdr: bool,
}

fn v4_addr(b: u8) -> [u8; 4] {
    [10, 0, 0, b]
}

fn v6_addr(b: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = b;
    a
}

/// An IP packet around transport bytes `l4`, whose checksum field (at `csum_at`, if any) is
/// filled.
fn ip_packet(
    f: &Flow,
    ip: &IpFields,
    proto: u8,
    mut l4: Vec<u8>,
    csum_at: Option<usize>,
) -> Vec<u8> {
    let len = l4.len();
    if f.v6 {
        if let Some(at) = csum_at {
            l4[at] = 0;
            l4[at + 1] = 0;
            let ph = checksum::pseudo_v6(&v6_addr(f.src), &v6_addr(f.dst), proto, len as u32);
            let c = checksum::fold(checksum::partial(&l4, ph));
            let c = if c == 0 && proto == 17 { 0xffff } else { c };
            l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
        }
        let mut ext = f.hbh.clone().unwrap_or_default();
        let mut next = proto;
        if ip.frag_hdr {
            let mut fh = vec![next, 0, 0, 0, 0, 0, 0, 9];
            fh[3] = u8::from(ip.mf);
            ext.extend_from_slice(&fh);
            next = 44;
        }
        if f.hbh.is_some() {
            // The hop-by-hop header comes first and points at what follows it.
            ext[0] = next;
            next = 0;
        }
        let mut h = vec![0u8; 40];
        let w = (6u32 << 28) | (u32::from(f.tos) << 20) | (f.flow_label & 0xfffff);
        h[0..4].copy_from_slice(&w.to_be_bytes());
        h[4..6].copy_from_slice(&((ext.len() + len) as u16).to_be_bytes());
        h[6] = next;
        h[7] = f.ttl;
        h[8..24].copy_from_slice(&v6_addr(f.src));
        h[24..40].copy_from_slice(&v6_addr(f.dst));
        h.extend_from_slice(&ext);
        h.extend_from_slice(&l4);
        return h;
    }
    if let Some(at) = csum_at {
        l4[at] = 0;
        l4[at + 1] = 0;
        let ph = checksum::pseudo_v4(v4_addr(f.src), v4_addr(f.dst), proto, len as u16);
        let c = checksum::fold(checksum::partial(&l4, ph));
        let c = if c == 0 && proto == 17 { 0xffff } else { c };
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let hl = if ip.opts { 24 } else { 20 };
    let mut h = vec![0u8; hl];
    h[0] = 0x40 | (hl / 4) as u8;
    h[1] = f.tos;
    h[2..4].copy_from_slice(&((hl + len) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&ip.id.to_be_bytes());
    let mut fl = 0u16;
    if f.df {
        fl |= 0x4000;
    }
    if ip.mf {
        fl |= 0x2000;
    }
    if ip.evil {
        fl |= 0x8000;
    }
    h[6..8].copy_from_slice(&fl.to_be_bytes());
    h[8] = f.ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&v4_addr(f.src));
    h[16..20].copy_from_slice(&v4_addr(f.dst));
    if ip.opts {
        h[20] = 1; // NOP options
        h[21] = 1;
        h[22] = 1;
        h[23] = 0;
    }
    let c = checksum::checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    if ip.bad_csum {
        h[10] ^= 0x11;
    }
    h.extend_from_slice(&l4);
    h
}

/// An Ethernet frame (with a VLAN tag if the flow has one) around `ip`, padded with `pad`
/// zero bytes.
fn eth(f: &Flow, ip: &[u8], pad: usize) -> Vec<u8> {
    let mut e = Vec::with_capacity(18 + ip.len() + pad);
    e.extend_from_slice(&f.dmac);
    e.extend_from_slice(&f.smac);
    let et: u16 = if f.v6 { 0x86dd } else { 0x0800 };
    if let Some(vid) = f.vlan {
        e.extend_from_slice(&0x8100u16.to_be_bytes());
        e.extend_from_slice(&vid.to_be_bytes());
    }
    e.extend_from_slice(&et.to_be_bytes());
    e.extend_from_slice(ip);
    e.extend(std::iter::repeat_n(0u8, pad));
    e
}

/// A UDP datagram.
#[derive(Clone, Debug)]
struct Udp {
    flow: Flow,
    id: u16,
    payload: Vec<u8>,
    csum: bool,
    pad: usize,
    bad_csum: bool,
}

impl Udp {
    fn new(flow: &Flow, id: u16, len: usize, marker: u8) -> Udp {
        Udp {
            flow: flow.clone(),
            id,
            payload: vec![marker; len],
            csum: true,
            pad: 0,
            bad_csum: false,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let f = &self.flow;
        let mut u = vec![0u8; 8];
        u[0..2].copy_from_slice(&f.sport.to_be_bytes());
        u[2..4].copy_from_slice(&f.dport.to_be_bytes());
        u[4..6].copy_from_slice(&((8 + self.payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&self.payload);
        let ip = IpFields {
            id: self.id,
            ..IpFields::default()
        };
        let mut pkt = ip_packet(f, &ip, 17, u, self.csum.then_some(6));
        if self.bad_csum {
            let at = pkt.len() - self.payload.len() - 2;
            pkt[at] ^= 0x33;
        }
        eth(f, &pkt, self.pad)
    }

    fn skb(&self) -> Skb {
        shared(self.bytes())
    }
}

/// A tunnel frame: outer Ethernet/IP/UDP to `port`, the tunnel header `hdr`, then `inner`.
fn tunnel_frame(outer: &Flow, id: u16, port: u16, csum: bool, hdr: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; 8];
    u[0..2].copy_from_slice(&outer.sport.to_be_bytes());
    u[2..4].copy_from_slice(&port.to_be_bytes());
    u[4..6].copy_from_slice(&((8 + hdr.len() + inner.len()) as u16).to_be_bytes());
    u.extend_from_slice(hdr);
    u.extend_from_slice(inner);
    let ip = IpFields {
        id,
        ..IpFields::default()
    };
    eth(outer, &ip_packet(outer, &ip, 17, u, csum.then_some(6)), 0)
}

/// An IP tunnel frame: outer Ethernet and IP (protocol `proto`) around `payload`.
fn ip_tunnel_frame(outer: &Flow, id: u16, proto: u8, payload: Vec<u8>) -> Vec<u8> {
    let ip = IpFields {
        id,
        ..IpFields::default()
    };
    eth(outer, &ip_packet(outer, &ip, proto, payload, None), 0)
}

/// A GRE header (version 0) for `proto`, with a checksum word when `csum` (filled over the
/// header and `inner`) and a key word when `key` is set, followed by `inner`.
fn gre(proto: u16, csum: bool, key: Option<u32>, inner: &[u8]) -> Vec<u8> {
    let mut flags = 0u16;
    if csum {
        flags |= 0x8000;
    }
    if key.is_some() {
        flags |= 0x2000;
    }
    let mut g = Vec::new();
    g.extend_from_slice(&flags.to_be_bytes());
    g.extend_from_slice(&proto.to_be_bytes());
    if csum {
        g.extend_from_slice(&[0; 4]);
    }
    if let Some(k) = key {
        g.extend_from_slice(&k.to_be_bytes());
    }
    g.extend_from_slice(inner);
    if csum {
        let c = checksum::checksum(&g);
        g[4..6].copy_from_slice(&c.to_be_bytes());
    }
    g
}

fn vxlan_hdr(vni: u32) -> Vec<u8> {
    let mut h = vec![0x08, 0, 0, 0, 0, 0, 0, 0];
    h[4..7].copy_from_slice(&vni.to_be_bytes()[1..]);
    h
}

fn geneve_hdr(vni: u32, opts: &[u8], oam: bool) -> Vec<u8> {
    let mut h = vec![
        (opts.len() / 4) as u8,
        if oam { 0x80 } else { 0 },
        0x65,
        0x58,
    ];
    h.extend_from_slice(&vni.to_be_bytes()[1..]);
    h.push(0);
    h.extend_from_slice(opts);
    h
}

fn shared(v: Vec<u8>) -> Skb {
    let mut s = Skb::from_shared(Bytes::from_vec(v)).expect("fits");
    s.set_mac_header(0).expect("offset");
    s
}

// ----- reading outputs ---------------------------------------------------------------------

/// Offsets found in a frame: outer network header, transport header and payload of the
/// innermost transport layer.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    ip: usize,
    l4: usize,
    payload: usize,
}

fn walk(f: &[u8], mut off: usize, mut et: u16, tunnels: bool) -> Seen {
    loop {
        match et {
            0x8100 | 0x88a8 => {
                et = u16::from_be_bytes([f[off + 2], f[off + 3]]);
                off += 4;
            }
            0x6558 => {
                et = u16::from_be_bytes([f[off + 12], f[off + 13]]);
                off += 14;
            }
            0x0800 | 0x86dd => {
                let ip = off;
                let (mut proto, mut l4) = if et == 0x0800 {
                    (f[off + 9], off + usize::from(f[off] & 0x0f) * 4)
                } else {
                    (f[off + 6], off + 40)
                };
                while matches!(proto, 0 | 43 | 60 | 44) {
                    let len = if proto == 44 {
                        8
                    } else {
                        (usize::from(f[l4 + 1]) + 1) * 8
                    };
                    proto = f[l4];
                    l4 += len;
                }
                if tunnels && matches!(proto, 4 | 41) {
                    let inner = walk(f, l4, if proto == 4 { 0x0800 } else { 0x86dd }, false);
                    return Seen { ip, l4, ..inner };
                }
                if tunnels && proto == 47 {
                    let flags = f[l4];
                    let hlen =
                        4 + 4 * usize::from(flags & 0x80 != 0) + 4 * usize::from(flags & 0x20 != 0);
                    let inner = walk(
                        f,
                        l4 + hlen,
                        u16::from_be_bytes([f[l4 + 2], f[l4 + 3]]),
                        false,
                    );
                    return Seen { ip, l4, ..inner };
                }
                if proto == 6 {
                    let doff = usize::from(f[l4 + 12] >> 4) * 4;
                    return Seen {
                        ip,
                        l4,
                        payload: l4 + doff,
                    };
                }
                let dport = u16::from_be_bytes([f[l4 + 2], f[l4 + 3]]);
                if tunnels && dport == 4789 {
                    let inner = walk(f, l4 + 16, 0x6558, false);
                    return Seen { ip, l4, ..inner };
                }
                if tunnels && dport == 6081 {
                    let hlen = 8 + usize::from(f[l4 + 8] & 0x3f) * 4;
                    let inner = walk(f, l4 + 8 + hlen, 0x6558, false);
                    return Seen { ip, l4, ..inner };
                }
                return Seen {
                    ip,
                    l4,
                    payload: l4 + 8,
                };
            }
            _ => panic!("unexpected ethertype {et:#x}"),
        }
    }
}

fn seen(f: &[u8]) -> Seen {
    walk(f, 14, u16::from_be_bytes([f[12], f[13]]), true)
}

/// The inputs an output holds: its payload's marker bytes, runs collapsed.
fn markers(skb: &Skb) -> Vec<u8> {
    let f = skb.to_vec();
    let s = seen(&f);
    let mut out: Vec<u8> = Vec::new();
    for &b in &f[s.payload..] {
        if out.last() != Some(&b) {
            out.push(b);
        }
    }
    out
}

fn all_markers(out: &[Skb]) -> Vec<Vec<u8>> {
    out.iter().map(markers).collect()
}

fn params() -> GroParams {
    GroParams::default()
}

fn features() -> Features {
    Features {
        rx_csum: netcore_core::demux::RxCsumOffload::None,
        ..Features::default()
    }
}

/// Receives every packet, then flushes everything; returns results and outputs in order.
fn trace(g: &mut Gro, pkts: Vec<Skb>) -> (Vec<GroResult>, Vec<Skb>) {
    let results = pkts.into_iter().map(|s| g.receive(s)).collect();
    let out = g.flush(i64::MAX, true).collect();
    (results, out)
}

fn tcp_trace(pkts: Vec<Skb>) -> (Vec<GroResult>, Vec<Vec<u8>>) {
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, pkts);
    let st = g.stats();
    assert_eq!(st.received, st.merged + st.held + st.normal);
    assert_eq!(st.held, st.completed + st.singles);
    (r, all_markers(&out))
}

/// A train of `n` full segments of flow `f` (1448 bytes of payload with timestamps: 1500-byte
/// IP packets), markers from `first`, IP IDs counting up from 100.
fn train(f: &Flow, n: usize, first: u8) -> Vec<Tcp> {
    (0..n)
        .map(|i| {
            let mut t = Tcp::new(f, 1000 + (i as u32) * 1448, 1448, first + i as u8);
            t.id = 100 + i as u16;
            t
        })
        .collect()
}

fn skbs(ts: &[Tcp]) -> Vec<Skb> {
    ts.iter().map(Tcp::skb).collect()
}

use GroResult::{Held as H, Merged as M, Normal as N};

fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

// ----- TCP over IPv4: merging and completion ------------------------------------------------

#[test]
fn tcp_train_merges_into_one_partial_packet() {
    let f = Flow::v4(1000);
    let segs = train(&f, 4, 1);
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [H, M, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3, 4]]);
    let p = &out[0];
    assert_eq!(p.meta.gso.size, 1448);
    assert_eq!(p.meta.gso.segs, 4);
    assert_eq!(p.meta.gso.gso_type, GsoType::TCPV4);
    assert_eq!(p.meta.protocol, 0x0800);
    assert_eq!(p.nr_frags(), 3, "segments chained as fragments");
    assert_eq!(p.len(), 14 + 20 + 32 + 4 * 1448);
    // CHECKSUM_PARTIAL from the TCP header; the field holds the pseudo-header sum.
    assert_eq!(
        p.meta.ip_summed,
        IpSummed::Partial {
            start: (p.headroom() + 34) as u16,
            offset: 16
        }
    );
    assert_eq!(p.checksum_start_offset(), Some(34));
    assert_eq!(p.mac_offset(), Some(0));
    assert_eq!(p.network_offset(), Some(14));
    assert_eq!(p.transport_offset(), Some(34));
    let frame = gro_frame(p, FrameCsum::AsCaptured);
    let tcp_len = (frame.len() - 34) as u16;
    let ph = checksum::pseudo_v4(v4_addr(1), v4_addr(2), 6, tcp_len);
    assert_eq!(be16(&frame, 34 + 16), !checksum::fold(ph));
    // IP total length and header checksum cover the merged packet.
    assert_eq!(usize::from(be16(&frame, 16)), frame.len() - 14);
    assert!(checksum::verify(&frame[14..34]));
    // Completed, the frame is what one big segment would have been.
    let mut big = segs[0].clone();
    big.payload = segs.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(gro_frame(p, FrameCsum::Complete), big.bytes());
}

#[test]
fn segments_are_chained_without_copy() {
    let f = Flow::v4(1000);
    let frames: Vec<Vec<u8>> = train(&f, 3, 1).iter().map(Tcp::bytes).collect();
    let shared_mem: Vec<Bytes> = frames.iter().map(|v| Bytes::from_vec(v.clone())).collect();
    let mut g = Gro::new(params(), features());
    for b in &shared_mem {
        let mut s = Skb::from_shared(b.clone()).unwrap();
        s.set_mac_header(0).unwrap();
        g.receive(s);
    }
    let out: Vec<Skb> = g.flush(0, true).collect();
    let p = &out[0];
    for (i, fr) in p.frags().iter().enumerate() {
        let src = shared_mem[i + 1].as_slice();
        assert!(std::ptr::eq(fr.bytes().as_slice().as_ptr(), src.as_ptr()));
        assert_eq!(fr.offset(), 66);
    }
}

#[test]
fn owned_segments_are_merged_too() {
    let f = Flow::v4(1000);
    let segs = train(&f, 3, 1);
    let mut g = Gro::new(params(), features());
    for t in &segs {
        let mut s = Skb::from_slice(&t.bytes()).unwrap();
        s.set_mac_header(0).unwrap();
        g.receive(s);
    }
    let out: Vec<Skb> = g.flush(0, true).collect();
    assert_eq!(all_markers(&out), [vec![1, 2, 3]]);
}

#[test]
fn gro_off_passes_everything() {
    let f = Flow::v4(1000);
    let mut g = Gro::new(
        params(),
        Features {
            gro: false,
            ..features()
        },
    );
    let (r, out) = trace(&mut g, skbs(&train(&f, 3, 1)));
    assert_eq!(r, [N, N, N]);
    assert_eq!(all_markers(&out), [vec![1], vec![2], vec![3]]);
    assert!(out.iter().all(|s| !s.meta.is_gso()));
}

// ----- TCP flush rules (tcp_gro_receive) -----------------------------------------------------

/// Segments 1, 2 of a train, then segment 3 bent by `bend`, then segment 4.
fn bent(bend: impl Fn(&mut Tcp)) -> (Vec<GroResult>, Vec<Vec<u8>>) {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 4, 1);
    bend(&mut segs[2]);
    tcp_trace(skbs(&segs))
}

#[test]
fn cwr_completes_the_held_packet_and_goes_up_alone() {
    // As Linux 6.18 does: a segment with CWR is never held, so no train starts with it.
    let f = Flow::v4(1000);
    let mut segs = train(&f, 5, 1);
    segs[2].flags |= CWR;
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [H, M, N, H, M]);
    assert_eq!(all_markers(&out), [vec![1, 2], vec![3], vec![4, 5]]);
    assert!(!out[1].meta.is_gso());
    assert_eq!(out[1].to_vec()[34 + 13] & 0x80, 0x80);
    // Nothing held: the CWR segment still goes up alone.
    let mut segs = train(&f, 3, 1);
    segs[0].flags |= CWR;
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [N, H, M]);
    assert_eq!(all_markers(&out), [vec![1], vec![2, 3]]);
    assert_eq!(out[1].meta.gso.gso_type, GsoType::TCPV4);
}

#[test]
fn differing_flags_flush_the_held_packet() {
    // ECE differs: not CWR/FIN/PSH, so the flag word differs.
    let (r, m) = bent(|t| t.flags |= ECE);
    assert_eq!(r, [H, M, H, H]);
    assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
}

#[test]
fn differing_window_flushes_the_held_packet() {
    // The window is part of tcp_flag_word.
    let (r, m) = bent(|t| t.win = 1024);
    assert_eq!(r, [H, M, H, H]);
    assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
}

#[test]
fn differing_ack_flushes_the_held_packet() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 4, 1);
    segs[2].ack = 2;
    segs[3].ack = 2;
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, M, H, M]);
    assert_eq!(m, [vec![1, 2], vec![3, 4]]);
}

#[test]
fn differing_options_flush_the_held_packet() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 4, 1);
    segs[2].tsval = 8;
    segs[3].tsval = 8;
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, M, H, M]);
    assert_eq!(m, [vec![1, 2], vec![3, 4]]);
}

#[test]
fn sequence_gap_flushes_the_held_packet() {
    let (r, m) = bent(|t| t.seq += 1);
    assert_eq!(r, [H, M, H, H]);
    assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
}

#[test]
fn segment_longer_than_mss_flushes_and_starts_a_train() {
    let f = Flow::v4(1000);
    let mut a = Tcp::new(&f, 0, 1000, 1);
    a.id = 1;
    let mut b = Tcp::new(&f, 1000, 1200, 2);
    b.id = 2;
    let mut c = Tcp::new(&f, 2200, 1200, 3);
    c.id = 3;
    let (r, m) = tcp_trace(vec![a.skb(), b.skb(), c.skb()]);
    assert_eq!(r, [H, H, M]);
    assert_eq!(m, [vec![1], vec![2, 3]]);
}

#[test]
fn short_segment_is_merged_and_ends_the_train() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 2, 1);
    let mut short = Tcp::new(&f, 1000 + 2 * 1448, 100, 3);
    short.id = 102;
    let mut next = Tcp::new(&f, 1000 + 2 * 1448 + 100, 1448, 4);
    next.id = 103;
    segs.push(short);
    segs.push(next);
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [H, M, M, H]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3], vec![4]]);
    assert_eq!(out[0].meta.gso.size, 1448);
    assert_eq!(out[0].meta.gso.segs, 3);
}

#[test]
fn psh_and_fin_are_merged_and_end_the_train() {
    for flag in [PSH, FIN] {
        let (r, m) = bent(|t| t.flags |= flag);
        assert_eq!(r, [H, M, M, H], "flag {flag:#x}");
        assert_eq!(m, [vec![1, 2, 3], vec![4]]);
    }
    let f = Flow::v4(1000);
    let mut segs = train(&f, 3, 1);
    segs[2].flags |= PSH | FIN;
    let mut g = Gro::new(params(), features());
    let (_, out) = trace(&mut g, skbs(&segs));
    // The merged header carries the last segment's PSH and FIN.
    assert_eq!(out[0].to_vec()[34 + 13], (ACK | PSH | FIN) as u8);
}

#[test]
fn urg_rst_syn_flush_the_held_packet_then_go_up_alone() {
    for flag in [URG, RST, SYN] {
        let (r, m) = bent(|t| t.flags |= flag);
        assert_eq!(r, [H, M, N, H], "flag {flag:#x}");
        assert_eq!(m, [vec![1, 2], vec![3], vec![4]], "flag {flag:#x}");
    }
    // Alone (no held flow), they go up at once as well.
    let f = Flow::v4(1000);
    let mut syn = Tcp::new(&f, 0, 0, 1);
    syn.flags = SYN;
    let (r, m) = tcp_trace(vec![syn.skb()]);
    assert_eq!(r, [N]);
    assert_eq!(m, [Vec::<u8>::new()]);
}

#[test]
fn pure_ack_flushes_the_held_packet_and_goes_up() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 2, 1);
    let mut ack = Tcp::new(&f, 1000 + 2 * 1448, 0, 0);
    ack.id = 102;
    segs.push(ack);
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, M, N]);
    assert_eq!(m, [vec![1, 2], vec![]]);
    // With nothing held, a pure ACK goes up at once.
    let mut lone = Tcp::new(&f, 0, 0, 0);
    lone.id = 1;
    assert_eq!(tcp_trace(vec![lone.skb()]).0, [N]);
}

#[test]
fn bad_checksum_goes_up_ahead_of_the_held_flow() {
    let f = Flow::v4(1000);
    let segs = train(&f, 3, 1);
    let mut bad = segs[1].clone();
    bad.bad_tcp_csum = true;
    bad.payload = vec![9; 1448];
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(
        &mut g,
        vec![segs[0].skb(), bad.skb(), segs[1].skb(), segs[2].skb()],
    );
    assert_eq!(r, [H, N, M, M]);
    assert_eq!(all_markers(&out), [vec![9], vec![1, 2, 3]]);
    // The bad one was verified and left as it was.
    assert_eq!(out[0].meta.ip_summed, IpSummed::None);
}

#[test]
fn device_verified_checksums_are_not_looked_at() {
    // CHECKSUM_UNNECESSARY: the kernel trusts the device, even over a corrupt field.
    let f = Flow::v4(1000);
    let mut segs = train(&f, 3, 1);
    segs[1].bad_tcp_csum = true;
    let mut g = Gro::new(params(), features());
    let pkts = skbs(&segs)
        .into_iter()
        .map(|mut s| {
            s.meta.ip_summed = IpSummed::Unnecessary { level: 0 };
            s
        })
        .collect();
    let (r, out) = trace(&mut g, pkts);
    assert_eq!(r, [H, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3]]);
}

#[test]
fn software_verified_checksum_is_remembered() {
    // A pure ACK verified by GRO in software goes up CHECKSUM_UNNECESSARY
    // (skb_gro_incr_csum_unnecessary); a held packet that goes up alone too.
    let f = Flow::v4(1000);
    let ack = Tcp::new(&f, 0, 0, 0);
    let data = Tcp::new(&f, 0, 10, 1);
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, vec![ack.skb(), data.skb()]);
    assert_eq!(r, [N, H]);
    for s in &out {
        assert_eq!(s.meta.ip_summed, IpSummed::Unnecessary { level: 0 });
        assert!(!s.meta.is_gso());
    }
}

#[test]
fn checksum_complete_is_verified() {
    let f = Flow::v4(1000);
    let segs = train(&f, 3, 1);
    let mut bad = segs[1].clone();
    bad.bad_tcp_csum = true;
    let mut g = Gro::new(params(), features());
    let pkts: Vec<Skb> = [&segs[0], &bad, &segs[1], &segs[2]]
        .iter()
        .map(|t| {
            let mut s = t.skb();
            let sum = checksum::partial(&s.data()[14..], 0);
            s.meta.ip_summed = IpSummed::Complete { csum: sum };
            s
        })
        .collect();
    let (r, out) = trace(&mut g, pkts);
    assert_eq!(r, [H, N, M, M]);
    assert_eq!(all_markers(&out), [vec![2], vec![1, 2, 3]]);
    // CHECKSUM_COMPLETE stays on the unmerged one.
    assert!(matches!(out[0].meta.ip_summed, IpSummed::Complete { .. }));
}

// ----- IPv4 rules (inet_gro_receive, inet_gro_flush) ----------------------------------------

#[test]
fn ipv4_options_bad_header_checksum_go_up_leaving_the_flow_held() {
    for bend in [
        (|t: &mut Tcp| t.ip_opts = true) as fn(&mut Tcp),
        |t: &mut Tcp| t.bad_ip_csum = true,
    ] {
        let f = Flow::v4(1000);
        let segs = train(&f, 3, 1);
        let mut odd = Tcp::new(&f, 5, 100, 9);
        odd.id = 50;
        bend(&mut odd);
        let (r, m) = tcp_trace(vec![segs[0].skb(), odd.skb(), segs[1].skb(), segs[2].skb()]);
        assert_eq!(r, [H, N, M, M]);
        assert_eq!(m, [vec![9], vec![1, 2, 3]]);
    }
}

#[test]
fn fragments_and_reserved_flag_flush_the_held_packet() {
    for bend in [
        (|t: &mut Tcp| t.mf = true) as fn(&mut Tcp),
        |t: &mut Tcp| t.evil = true,
    ] {
        let (r, m) = bent(bend);
        assert_eq!(r, [H, M, N, H]);
        assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
    }
}

#[test]
fn padding_beyond_total_length_flushes_the_held_packet() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 2, 1);
    let mut tiny = Tcp::new(&f, 1000 + 2 * 1448, 2, 3);
    tiny.id = 102;
    tiny.pad = 4; // to the 60-byte Ethernet minimum
    let mut next = Tcp::new(&f, 1000 + 2 * 1448 + 2, 1448, 4);
    next.id = 103;
    segs.push(tiny);
    segs.push(next);
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, M, N, H]);
    assert_eq!(m, [vec![1, 2], vec![3, 0], vec![4]]);
}

#[test]
fn ttl_tos_df_must_be_equal() {
    for bend in [
        (|t: &mut Tcp| t.flow.ttl = 63) as fn(&mut Tcp),
        |t: &mut Tcp| t.flow.tos = 0x10,
        |t: &mut Tcp| t.flow.df = false,
    ] {
        let (r, m) = bent(bend);
        assert_eq!(r, [H, M, H, H]);
        assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
    }
}

#[test]
fn ip_id_must_count_up_by_one() {
    let (r, m) = bent(|t| t.id += 5);
    assert_eq!(r, [H, M, H, H]);
    assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
}

#[test]
fn fixed_ip_id_with_df_merges_as_fixedid() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 4, 1);
    for s in &mut segs {
        s.id = 77;
    }
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [H, M, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3, 4]]);
    assert_eq!(
        out[0].meta.gso.gso_type,
        GsoType::TCPV4 | GsoType::TCP_FIXEDID
    );
    // Once the flow counts up, a repeated ID flushes, and the reverse.
    let mut segs = train(&f, 4, 1);
    segs[2].id = segs[1].id;
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, M, H, H]);
    assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
}

#[test]
fn fixed_ip_id_without_df_does_not_merge() {
    let mut f = Flow::v4(1000);
    f.df = false;
    let mut segs = train(&f, 3, 1);
    for s in &mut segs {
        s.id = 77;
    }
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, H, H]);
    assert_eq!(m, [vec![1], vec![2], vec![3]]);
    // Counting up without DF merges.
    let (r, _) = tcp_trace(skbs(&train(&f, 3, 1)));
    assert_eq!(r, [H, M, M]);
}

#[test]
fn different_addresses_or_ports_are_different_flows() {
    let a = Flow::v4(1000);
    let mut b = a.clone();
    b.src = 9;
    let c = Flow::v4(1001);
    let ta = train(&a, 2, 1);
    let tb = train(&b, 2, 3);
    let tc = train(&c, 2, 5);
    let (r, m) = tcp_trace(vec![
        ta[0].skb(),
        tb[0].skb(),
        tc[0].skb(),
        ta[1].skb(),
        tb[1].skb(),
        tc[1].skb(),
    ]);
    assert_eq!(r, [H, H, H, M, M, M]);
    assert_eq!(m, [vec![1, 2], vec![3, 4], vec![5, 6]]);
}

// ----- L2 (gro_list_prepare, vlan_gro_receive) -----------------------------------------------

#[test]
fn mac_header_must_match() {
    let a = Flow::v4(1000);
    let mut b = a.clone();
    b.dmac[5] = 9;
    let ta = train(&a, 2, 1);
    let mut tb = train(&b, 2, 3);
    // Same TCP/IP flow, same sequence space: only the MAC differs.
    tb[0].seq = ta[1].seq;
    tb[0].id = ta[1].id;
    tb[1].seq = ta[1].seq + 1448;
    tb[1].id = ta[1].id + 1;
    let (r, m) = tcp_trace(vec![ta[0].skb(), tb[0].skb(), ta[1].skb(), tb[1].skb()]);
    assert_eq!(r, [H, H, M, M]);
    assert_eq!(m, [vec![1, 2], vec![3, 4]]);
}

#[test]
fn vlan_tagged_traffic_merges_per_tag() {
    let mut a = Flow::v4(1000);
    a.vlan = Some(10);
    let mut b = a.clone();
    b.vlan = Some(20);
    let ta = train(&a, 3, 1);
    let tb = train(&b, 3, 4);
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(
        &mut g,
        vec![
            ta[0].skb(),
            tb[0].skb(),
            ta[1].skb(),
            tb[1].skb(),
            ta[2].skb(),
            tb[2].skb(),
        ],
    );
    assert_eq!(r, [H, H, M, M, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3], vec![4, 5, 6]]);
    let p = &out[0];
    assert_eq!(p.meta.protocol, 0x8100);
    assert_eq!(p.network_offset(), Some(18));
    let frame = gro_frame(p, FrameCsum::Complete);
    assert_eq!(usize::from(be16(&frame, 20)), frame.len() - 18);
    assert!(checksum::verify(&frame[18..38]));
    let mut big = ta[0].clone();
    big.payload = ta.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(frame, big.bytes());
}

#[test]
fn hardware_vlan_tag_must_match() {
    let f = Flow::v4(1000);
    let segs = train(&f, 3, 1);
    let tag = |vid| {
        Some(VlanTag {
            proto: 0x8100,
            tci: vid,
        })
    };
    let mut pkts = skbs(&segs);
    pkts[0].meta.vlan = tag(5);
    pkts[1].meta.vlan = tag(6);
    pkts[2].meta.vlan = tag(5);
    let (r, m) = tcp_trace(pkts);
    // The second is another flow (and its sequence number does not follow the first's).
    assert_eq!(r, [H, H, H]);
    assert_eq!(m, [vec![1], vec![2], vec![3]]);
    let mut pkts = skbs(&segs);
    for p in &mut pkts {
        p.meta.vlan = tag(5);
    }
    assert_eq!(tcp_trace(pkts).0, [H, M, M]);
}

// ----- IPv6 (ipv6_gro_receive, ipv6_gro_flush, tcp6) ----------------------------------------

fn train6(f: &Flow, n: usize, first: u8) -> Vec<Tcp> {
    let mss = 1500 - 40 - if f.ts { 32 } else { 20 } - f.hbh.as_ref().map_or(0, Vec::len);
    (0..n)
        .map(|i| Tcp::new(f, 5000 + (i * mss) as u32, mss, first + i as u8))
        .collect()
}

#[test]
fn tcp6_train_merges() {
    let f = Flow::v6(2000);
    let segs = train6(&f, 3, 1);
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [H, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3]]);
    let p = &out[0];
    assert_eq!(p.meta.gso.gso_type, GsoType::TCPV6);
    assert_eq!(p.meta.gso.size, 1428);
    assert_eq!(p.checksum_start_offset(), Some(54));
    let frame = gro_frame(p, FrameCsum::Complete);
    assert_eq!(usize::from(be16(&frame, 18)), frame.len() - 54);
    let mut big = segs[0].clone();
    big.payload = segs.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(frame, big.bytes());
}

#[test]
fn ipv6_flow_label_and_addresses_make_flows() {
    let a = Flow::v6(2000);
    let mut b = a.clone();
    b.flow_label = 5;
    let mut c = a.clone();
    c.dst = 7;
    let ta = train6(&a, 2, 1);
    let tb = train6(&b, 2, 3);
    let tc = train6(&c, 2, 5);
    let (r, m) = tcp_trace(vec![
        ta[0].skb(),
        tb[0].skb(),
        tc[0].skb(),
        ta[1].skb(),
        tb[1].skb(),
        tc[1].skb(),
    ]);
    assert_eq!(r, [H, H, H, M, M, M]);
    assert_eq!(m, [vec![1, 2], vec![3, 4], vec![5, 6]]);
}

#[test]
fn ipv6_traffic_class_and_hop_limit_must_be_equal() {
    for bend in [
        (|t: &mut Tcp| t.flow.tos = 0x20) as fn(&mut Tcp),
        |t: &mut Tcp| t.flow.ttl = 1,
    ] {
        let f = Flow::v6(2000);
        let mut segs = train6(&f, 4, 1);
        bend(&mut segs[2]);
        let (r, m) = tcp_trace(skbs(&segs));
        assert_eq!(r, [H, M, H, H]);
        assert_eq!(m, [vec![1, 2], vec![3], vec![4]]);
    }
}

#[test]
fn ipv6_payload_length_must_be_exact() {
    let f = Flow::v6(2000);
    let mut segs = train6(&f, 3, 1);
    segs[1].pad = 6;
    let (r, m) = tcp_trace(skbs(&segs));
    assert_eq!(r, [H, N, H]);
    assert_eq!(m, [vec![1], vec![2, 0], vec![3]]);
}

#[test]
fn ipv6_extension_headers() {
    // Identical hop-by-hop headers are passed over and compared (ipv6_gro_pull_exthdrs).
    let mut f = Flow::v6(2000);
    f.hbh = Some(vec![0, 0, 1, 4, 0, 0, 0, 0]); // PadN
    let segs = train6(&f, 3, 1);
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, skbs(&segs));
    assert_eq!(r, [H, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3]]);
    let frame = gro_frame(&out[0], FrameCsum::Complete);
    let mut big = segs[0].clone();
    big.payload = segs.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(frame, big.bytes());
    // Different option bytes: different flows.
    let mut g2 = f.clone();
    g2.hbh = Some(vec![0, 0, 1, 4, 0, 0, 0, 1]);
    let t2 = train6(&g2, 2, 4);
    let (r, m) = tcp_trace(vec![segs[0].skb(), t2[0].skb(), segs[1].skb(), t2[1].skb()]);
    assert_eq!(r, [H, H, M, M]);
    assert_eq!(m, [vec![1, 2], vec![4, 5]]);
    // A fragment header has no GRO handler: up at once, the flow stays held.
    let plain = Flow::v6(2000);
    let p = train6(&plain, 3, 1);
    let mut frag = Tcp::new(&plain, 1, 100, 9);
    frag.frag_hdr = true;
    let (r, m) = tcp_trace(vec![p[0].skb(), frag.skb(), p[1].skb(), p[2].skb()]);
    assert_eq!(r, [H, N, M, M]);
    assert_eq!(m, [vec![9], vec![1, 2, 3]]);
}

// ----- the engine: buckets, polls, timeouts, sizes -------------------------------------------

/// `n` flows of `k` segments each, interleaved round robin, with receive hash `hash(flow)`.
fn interleaved(n: usize, k: usize, hash: impl Fn(usize) -> u32) -> Vec<Skb> {
    let trains: Vec<Vec<Tcp>> = (0..n)
        .map(|i| train(&Flow::v4(3000 + i as u16), k, (1 + i * k) as u8))
        .collect();
    let mut out = Vec::new();
    for j in 0..k {
        for (i, t) in trains.iter().enumerate() {
            let mut s = t[j].skb();
            s.meta.hash = hash(i);
            out.push(s);
        }
    }
    out
}

#[test]
fn eight_flows_share_a_bucket_without_rss() {
    let (r, m) = tcp_trace(interleaved(8, 3, |_| 0));
    assert_eq!(r[..8], [H; 8]);
    assert!(r[8..].iter().all(|&x| x == M));
    let want: Vec<Vec<u8>> = (0..8u8)
        .map(|i| vec![1 + 3 * i, 2 + 3 * i, 3 + 3 * i])
        .collect();
    assert_eq!(m, want);
}

#[test]
fn a_ninth_flow_evicts_the_oldest_and_nothing_merges() {
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, interleaved(9, 3, |_| 0));
    assert!(r.iter().all(|&x| x == H));
    // Every arrival evicts the oldest held packet: the outputs are the inputs, in order.
    let m = all_markers(&out);
    let want: Vec<Vec<u8>> = (0..3)
        .flat_map(|j| (0..9u8).map(move |i| vec![1 + 3 * i + j]))
        .collect();
    assert_eq!(m, want);
    assert_eq!(g.stats().evicted, 27 - MAX_GRO_SKBS as u64);
}

#[test]
fn receive_hash_spreads_flows_over_buckets() {
    // With RSS hashes 0..8, flow 8 shares bucket 0 with flow 0: all nine merge.
    let (r, m) = tcp_trace(interleaved(9, 3, |i| i as u32));
    assert_eq!(r[..9], [H; 9]);
    assert!(r[9..].iter().all(|&x| x == M));
    // Flushed bucket by bucket: bucket 0 holds flows 0 and 8.
    let mut want: Vec<Vec<u8>> = vec![vec![1, 2, 3], vec![25, 26, 27]];
    want.extend((1..8u8).map(|i| vec![1 + 3 * i, 2 + 3 * i, 3 + 3 * i]));
    assert_eq!(m, want);
    assert_eq!(GRO_HASH_BUCKETS, 8);
    // The same flow with another hash is another flow (gro_list_prepare compares hashes).
    let segs = skbs(&train(&Flow::v4(1000), 2, 1));
    let mut it = segs.into_iter();
    let mut a = it.next().unwrap();
    let mut b = it.next().unwrap();
    a.meta.hash = 1;
    b.meta.hash = 9;
    assert_eq!(tcp_trace(vec![a, b]).0, [H, H]);
}

fn poll_sizes(g: &mut Gro, pkts: Vec<Skb>) -> Vec<Vec<Vec<u8>>> {
    let mut it = pkts.into_iter();
    let mut polls = Vec::new();
    loop {
        let mut out = Vec::new();
        let n = g.napi_poll(&mut it, &mut out);
        polls.push(all_markers(&out));
        if n < g.params().budget {
            break;
        }
    }
    polls
}

#[test]
fn every_poll_ends_in_a_flush() {
    let f = Flow::v4(1000);
    let mut g = Gro::new(
        GroParams {
            budget: 4,
            ..params()
        },
        features(),
    );
    let polls = poll_sizes(&mut g, skbs(&train(&f, 10, 1)));
    assert_eq!(
        polls,
        [
            vec![vec![1, 2, 3, 4]],
            vec![vec![5, 6, 7, 8]],
            vec![vec![9, 10]]
        ]
    );
    assert_eq!(g.stats().polls, 3);
    assert_eq!(g.stats().full_polls, 2);
    // A trace that fills its last poll exactly ends with an empty poll that flushes.
    let mut g = Gro::new(
        GroParams {
            budget: 4,
            ..params()
        },
        features(),
    );
    let polls = poll_sizes(&mut g, skbs(&train(&f, 8, 1)));
    assert_eq!(
        polls,
        [vec![vec![1, 2, 3, 4]], vec![vec![5, 6, 7, 8]], vec![]]
    );
}

#[test]
fn flush_timeout_keeps_young_packets_across_full_polls() {
    let f = Flow::v4(1000);
    let timed = |ms: &[i64]| -> Vec<Skb> {
        skbs(&train(&f, ms.len(), 1))
            .into_iter()
            .zip(ms)
            .map(|(mut s, &t)| {
                s.meta.tstamp = t * 100_000; // tenths of a millisecond
                s
            })
            .collect()
    };
    let p = GroParams {
        budget: 4,
        flush_timeout_ns: 1_000_000,
        ..params()
    };
    // Poll 1 ends at 0.3 ms: the head (0 ms) is young and stays. Poll 2 ends at 1.1 ms: the
    // head is 1.1 ms old and goes. Poll 3 is under budget: everything goes.
    let mut g = Gro::new(p, features());
    let polls = poll_sizes(&mut g, timed(&[0, 1, 2, 3, 8, 9, 10, 11, 12]));
    assert_eq!(
        polls,
        [vec![], vec![vec![1, 2, 3, 4, 5, 6, 7, 8]], vec![vec![9]]]
    );
    // Without a timeout, a full-budget poll flushes everything.
    let mut g = Gro::new(
        GroParams {
            budget: 4,
            ..params()
        },
        features(),
    );
    let polls = poll_sizes(&mut g, timed(&[0, 1, 2, 3, 8, 9, 10, 11, 12]));
    assert_eq!(
        polls,
        [
            vec![vec![1, 2, 3, 4]],
            vec![vec![5, 6, 7, 8]],
            vec![vec![9]]
        ]
    );
    // A bucket is flushed from its oldest packet and stops at the first young one.
    let a = train(&Flow::v4(1), 1, 1);
    let b = train(&Flow::v4(2), 1, 2);
    let c = train(&Flow::v4(3), 1, 3);
    let mut g = Gro::new(p, features());
    // c is old, but held after the young b: it stays.
    for (t, at) in [(&a[0], 0), (&b[0], 900_000), (&c[0], 0)] {
        let mut s = t.skb();
        s.meta.tstamp = at;
        g.receive(s);
    }
    let out: Vec<Skb> = g.flush(1_050_000, false).collect();
    assert_eq!(all_markers(&out), [vec![1]]);
    assert_eq!(g.held_count(), 2);
    let out: Vec<Skb> = g.flush(0, true).collect();
    assert_eq!(all_markers(&out), [vec![2], vec![3]]);
}

#[test]
fn gro_max_size_caps_ipv4_at_45_full_segments() {
    let f = Flow::v4(1000);
    let segs = train(&f, 50, 1);
    let mut g = Gro::new(params(), features());
    let (_, out) = trace(&mut g, skbs(&segs));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].meta.gso.segs, 45);
    assert_eq!(out[1].meta.gso.segs, 5);
    assert_eq!(out[0].len() - 14, 1500 + 44 * 1448);
    // A larger gro_max_size does not lift IPv4 past 64 KiB.
    let mut g = Gro::new(
        GroParams {
            max_size: 185_000,
            ..params()
        },
        features(),
    );
    let (_, out) = trace(&mut g, skbs(&segs));
    assert_eq!(out[0].meta.gso.segs, 45);
    // A smaller one stops sooner: merging needs 1500 + k·1448 < 10000, so k ≤ 5 merges.
    let mut g = Gro::new(
        GroParams {
            max_size: 10_000,
            ..params()
        },
        features(),
    );
    let (_, out) = trace(&mut g, skbs(&segs[..12]));
    let sizes: Vec<u16> = out.iter().map(|s| s.meta.gso.segs.max(1)).collect();
    assert_eq!(sizes, [6, 6]);
}

#[test]
fn ipv6_big_tcp_grows_past_64k_with_a_jumbo_option() {
    let f = Flow::v6(2000);
    let segs = train6(&f, 70, 1);
    let mut g = Gro::new(
        GroParams {
            max_size: 185_000,
            ..params()
        },
        features(),
    );
    let (_, out) = trace(&mut g, skbs(&segs));
    // The fragment list (64 entries) is the limit here.
    assert_eq!(out[0].meta.gso.segs, 65);
    assert_eq!(out[1].meta.gso.segs, 5);
    let frame = gro_frame(&out[0], FrameCsum::Complete);
    let payload = 65 * 1428 + 32;
    assert_eq!(frame.len(), 14 + 40 + 8 + payload);
    assert_eq!(be16(&frame, 18), 0, "payload length 0 for a jumbogram");
    assert_eq!(frame[20], 0, "next header: hop-by-hop");
    assert_eq!(&frame[54..58], &[6, 0, 0xc2, 4]);
    let jumbo = u32::from_be_bytes([frame[58], frame[59], frame[60], frame[61]]);
    assert_eq!(jumbo as usize, payload + 8);
    assert_eq!(out[0].checksum_start_offset(), Some(62));
    let ph = checksum::pseudo_v6(&v6_addr(1), &v6_addr(2), 6, payload as u32);
    assert!(checksum::verify_with(&frame[62..], ph));
    // With the default gro_max_size IPv6 stops below 64 KiB: 1500 + k·1428 < 65536.
    let mut g = Gro::new(params(), features());
    let (_, out) = trace(&mut g, skbs(&segs));
    assert_eq!(out[0].meta.gso.segs, 45);
}

// ----- UDP ------------------------------------------------------------------------------------

fn udp_features(mode: UdpGro) -> Features {
    Features {
        udp_gro: mode,
        ..features()
    }
}

fn udp_trace(mode: UdpGro, pkts: Vec<Skb>) -> (Vec<GroResult>, Vec<Skb>) {
    let mut g = Gro::new(params(), udp_features(mode));
    trace(&mut g, pkts)
}

fn dgrams(f: &Flow, lens: &[usize]) -> Vec<Udp> {
    lens.iter()
        .enumerate()
        .map(|(i, &l)| Udp::new(f, 10 + i as u16, l, 1 + i as u8))
        .collect()
}

fn uskbs(us: &[Udp]) -> Vec<Skb> {
    us.iter().map(Udp::skb).collect()
}

#[test]
fn udp_gro_off_passes_datagrams() {
    let f = Flow::v4(5000);
    let (r, out) = udp_trace(UdpGro::Off, uskbs(&dgrams(&f, &[1000, 1000])));
    assert_eq!(r, [N, N]);
    assert_eq!(all_markers(&out), [vec![1], vec![2]]);
    // Verified on the way (skb_gro_checksum_validate_zero_check).
    assert_eq!(out[0].meta.ip_summed, IpSummed::Unnecessary { level: 0 });
}

#[test]
fn udp_forwarding_merges_equal_datagrams_and_a_shorter_last() {
    let f = Flow::v4(5000);
    let us = dgrams(&f, &[1000, 1000, 1000, 400, 1000]);
    let (r, out) = udp_trace(UdpGro::Forwarding, uskbs(&us));
    assert_eq!(r, [H, M, M, M, H]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3, 4], vec![5]]);
    let p = &out[0];
    assert_eq!(p.meta.gso.gso_type, GsoType::UDP_L4);
    assert_eq!(p.meta.gso.size, 1000);
    assert_eq!(p.meta.gso.segs, 4);
    assert_eq!(p.checksum_start_offset(), Some(34));
    assert!(matches!(
        p.meta.ip_summed,
        IpSummed::Partial { offset: 6, .. }
    ));
    let frame = gro_frame(p, FrameCsum::AsCaptured);
    let ulen = frame.len() - 34;
    assert_eq!(usize::from(be16(&frame, 38)), ulen);
    assert_eq!(usize::from(be16(&frame, 16)), ulen + 20);
    let ph = checksum::pseudo_v4(v4_addr(1), v4_addr(2), 17, ulen as u16);
    assert_eq!(be16(&frame, 40), !checksum::fold(ph));
    let frame = gro_frame(p, FrameCsum::Complete);
    let mut big = us[0].clone();
    big.payload = us[..4].iter().flat_map(|u| u.payload.clone()).collect();
    assert_eq!(frame, big.bytes());
}

#[test]
fn udp_longer_datagram_flushes_and_starts_a_flow() {
    let f = Flow::v4(5000);
    let (r, out) = udp_trace(
        UdpGro::Forwarding,
        uskbs(&dgrams(&f, &[500, 500, 800, 800])),
    );
    assert_eq!(r, [H, M, H, M]);
    assert_eq!(all_markers(&out), [vec![1, 2], vec![3, 4]]);
}

#[test]
fn udp_needs_a_checksum_and_an_exact_length() {
    let f = Flow::v4(5000);
    let mut us = dgrams(&f, &[500, 500, 500, 500]);
    us[1].csum = false;
    us[2].pad = 10;
    us[3].id = 11;
    let (r, out) = udp_trace(UdpGro::Forwarding, uskbs(&us));
    // Both go up ahead of the held flow, which is left alone.
    assert_eq!(r, [H, N, N, M]);
    assert_eq!(all_markers(&out), [vec![2], vec![3, 0], vec![1, 4]]);
    let mut bad = dgrams(&f, &[500, 500, 500]);
    bad[1].bad_csum = true;
    bad[2].id = 11;
    let (r, out) = udp_trace(UdpGro::Forwarding, uskbs(&bad));
    assert_eq!(r, [H, N, M]);
    assert_eq!(all_markers(&out), [vec![2], vec![1, 3]]);
}

#[test]
fn udp_gro_holds_at_most_64_datagrams() {
    let f = Flow::v4(5000);
    let us: Vec<Udp> = (0..70)
        .map(|i| Udp::new(&f, i as u16, 100, 1 + i as u8))
        .collect();
    let (_, out) = udp_trace(UdpGro::Forwarding, uskbs(&us));
    let segs: Vec<u16> = out.iter().map(|s| s.meta.gso.segs).collect();
    assert_eq!(segs, [UDP_GRO_CNT_MAX, 6]);
}

#[test]
fn udp_ip_rules_apply() {
    let f = Flow::v4(5000);
    let mut us = dgrams(&f, &[500, 500, 500]);
    us[2].flow.ttl = 3;
    let (r, out) = udp_trace(UdpGro::Forwarding, uskbs(&us));
    assert_eq!(r, [H, M, H]);
    assert_eq!(all_markers(&out), [vec![1, 2], vec![3]]);
}

#[test]
fn udp6_merges() {
    let f = Flow::v6(5000);
    let us = dgrams(&f, &[1200, 1200, 10]);
    let (r, out) = udp_trace(UdpGro::Forwarding, uskbs(&us));
    assert_eq!(r, [H, M, M]);
    assert_eq!(out[0].meta.gso.gso_type, GsoType::UDP_L4);
    let frame = gro_frame(&out[0], FrameCsum::Complete);
    let mut big = us[0].clone();
    big.payload = us.iter().flat_map(|u| u.payload.clone()).collect();
    assert_eq!(frame, big.bytes());
}

#[test]
fn udp_fraglist_chains_datagrams() {
    let f = Flow::v4(5000);
    let us = dgrams(&f, &[700, 700, 700, 300]);
    let (r, out) = udp_trace(UdpGro::Fraglist, uskbs(&us));
    assert_eq!(r, [H, M, M, M]);
    assert_eq!(all_markers(&out), [vec![1, 2, 3, 4]]);
    let p = &out[0];
    assert_eq!(p.meta.gso.gso_type, GsoType::FRAGLIST | GsoType::UDP_L4);
    assert_eq!(p.meta.gso.segs, 4);
    // Verified in software (level 0), then one more level at completion.
    assert_eq!(p.meta.ip_summed, IpSummed::Unnecessary { level: 1 });
    let frame = gro_frame(p, FrameCsum::AsCaptured);
    // The UDP checksum field is still the first datagram's.
    assert_eq!(be16(&frame, 40), be16(&us[0].bytes(), 40));
    let frame = gro_frame(p, FrameCsum::Complete);
    let mut big = us[0].clone();
    big.payload = us.iter().flat_map(|u| u.payload.clone()).collect();
    assert_eq!(frame, big.bytes());
    // Datagrams with another checksum state go up alone.
    let mut us2 = us.clone();
    us2[2].id = 11;
    us2[3].id = 12;
    let mut pkts = uskbs(&us2);
    pkts[1].meta.ip_summed = IpSummed::Unnecessary { level: 1 };
    let (r, out) = udp_trace(UdpGro::Fraglist, pkts);
    assert_eq!(r, [H, N, M, M]);
    assert_eq!(all_markers(&out), [vec![2], vec![1, 3, 4]]);
}

// ----- tunnels --------------------------------------------------------------------------------

fn inner_train(n: usize, first: u8) -> Vec<Tcp> {
    let mut f = Flow::v4(7000);
    f.smac = [2, 0, 0, 0, 0, 0x11];
    f.dmac = [2, 0, 0, 0, 0, 0x12];
    f.src = 100;
    f.dst = 101;
    (0..n)
        .map(|i| {
            let mut t = Tcp::new(&f, 1 + (i * 1398) as u32, 1398, first + i as u8);
            t.id = 500 + i as u16;
            t
        })
        .collect()
}

fn vxlan_gro() -> Gro {
    let mut g = Gro::new(params(), features());
    g.add_udp_tunnel_port(4789, UdpTunnel::Vxlan);
    g.add_udp_tunnel_port(6081, UdpTunnel::Geneve);
    g
}

#[test]
fn vxlan_inner_tcp_merges() {
    for csum in [false, true] {
        let outer = Flow::v4(40000);
        let inner = inner_train(3, 1);
        let frames: Vec<Vec<u8>> = inner
            .iter()
            .enumerate()
            .map(|(i, t)| {
                tunnel_frame(&outer, 9 + i as u16, 4789, csum, &vxlan_hdr(42), &t.bytes())
            })
            .collect();
        let mut g = vxlan_gro();
        let (r, out) = trace(&mut g, frames.into_iter().map(shared).collect());
        assert_eq!(r, [H, M, M]);
        assert_eq!(all_markers(&out), [vec![1, 2, 3]]);
        let p = &out[0];
        let tun = if csum {
            GsoType::UDP_TUNNEL_CSUM
        } else {
            GsoType::UDP_TUNNEL
        };
        assert_eq!(p.meta.gso.gso_type, tun | GsoType::TCPV4);
        assert_eq!(p.meta.gso.size, 1398);
        assert!(p.meta.encapsulation);
        assert_eq!(p.transport_offset(), Some(34));
        assert_eq!(p.inner_mac_offset(), Some(50));
        assert_eq!(p.inner_network_offset(), Some(64));
        assert_eq!(p.inner_transport_offset(), Some(84));
        assert_eq!(p.checksum_start_offset(), Some(84));
        let frame = gro_frame(p, FrameCsum::Complete);
        let mut big = inner[0].clone();
        big.payload = inner.iter().flat_map(|t| t.payload.clone()).collect();
        let want = tunnel_frame(&outer, 9, 4789, csum, &vxlan_hdr(42), &big.bytes());
        assert_eq!(frame, want);
    }
}

#[test]
fn vxlan_without_a_tunnel_device_is_plain_udp() {
    let outer = Flow::v4(40000);
    let inner = inner_train(2, 1);
    let frames: Vec<Skb> = inner
        .iter()
        .map(|t| {
            shared(tunnel_frame(
                &outer,
                9,
                4789,
                false,
                &vxlan_hdr(42),
                &t.bytes(),
            ))
        })
        .collect();
    let mut g = Gro::new(params(), features());
    let (r, _) = trace(&mut g, frames);
    assert_eq!(r, [N, N]);
}

#[test]
fn vxlan_vni_and_outer_headers_make_flows() {
    let outer = Flow::v4(40000);
    let mut outer2 = outer.clone();
    outer2.src = 77;
    let inner = inner_train(4, 1);
    let mk = |o: &Flow, vni: u32, t: &Tcp| {
        shared(tunnel_frame(o, 9, 4789, false, &vxlan_hdr(vni), &t.bytes()))
    };
    let mut g = vxlan_gro();
    let (r, out) = trace(
        &mut g,
        vec![
            mk(&outer, 1, &inner[0]),
            mk(&outer, 2, &inner[0]),
            mk(&outer2, 1, &inner[0]),
            mk(&outer, 1, &inner[1]),
        ],
    );
    assert_eq!(r, [H, H, H, M]);
    assert_eq!(all_markers(&out), [vec![1, 2], vec![1], vec![1]]);
}

#[test]
fn tunnel_outer_ip_id_rules() {
    let inner = inner_train(3, 1);
    // Outer DF: the outer ID is not checked.
    let outer = Flow::v4(40000);
    let frames: Vec<Skb> = inner
        .iter()
        .zip([5u16, 900, 3])
        .map(|(t, id)| {
            shared(tunnel_frame(
                &outer,
                id,
                4789,
                false,
                &vxlan_hdr(1),
                &t.bytes(),
            ))
        })
        .collect();
    let mut g = vxlan_gro();
    assert_eq!(trace(&mut g, frames).0, [H, M, M]);
    // Outer without DF: the outer ID must count up too.
    let mut outer = Flow::v4(40000);
    outer.df = false;
    let frames: Vec<Skb> = inner
        .iter()
        .zip([5u16, 6, 8])
        .map(|(t, id)| {
            shared(tunnel_frame(
                &outer,
                id,
                4789,
                false,
                &vxlan_hdr(1),
                &t.bytes(),
            ))
        })
        .collect();
    let mut g = vxlan_gro();
    let (r, out) = trace(&mut g, frames);
    assert_eq!(r, [H, M, H]);
    assert_eq!(all_markers(&out), [vec![1, 2], vec![3]]);
    // Inner rules apply inside: an inner sequence gap.
    let outer = Flow::v4(40000);
    let mut bent = inner.clone();
    bent[2].seq += 5;
    let frames: Vec<Skb> = bent
        .iter()
        .map(|t| {
            shared(tunnel_frame(
                &outer,
                1,
                4789,
                false,
                &vxlan_hdr(1),
                &t.bytes(),
            ))
        })
        .collect();
    let mut g = vxlan_gro();
    assert_eq!(trace(&mut g, frames).0, [H, M, H]);
}

#[test]
fn geneve_inner_tcp_merges_and_oam_goes_up() {
    let outer = Flow::v4(40000);
    let inner = inner_train(3, 1);
    let opts = [0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd];
    let mk = |t: &Tcp, oam: bool, opt: &[u8]| {
        shared(tunnel_frame(
            &outer,
            1,
            6081,
            true,
            &geneve_hdr(7, opt, oam),
            &t.bytes(),
        ))
    };
    let mut g = vxlan_gro();
    let (r, out) = trace(
        &mut g,
        vec![
            mk(&inner[0], false, &opts),
            mk(&inner[1], true, &opts),
            mk(&inner[1], false, &opts),
            mk(&inner[2], false, &opts),
        ],
    );
    assert_eq!(r, [H, N, M, M]);
    assert_eq!(all_markers(&out), [vec![2], vec![1, 2, 3]]);
    let p = &out[1];
    assert_eq!(
        p.meta.gso.gso_type,
        GsoType::UDP_TUNNEL_CSUM | GsoType::TCPV4
    );
    let frame = gro_frame(p, FrameCsum::Complete);
    let mut big = inner[0].clone();
    big.payload = inner.iter().flat_map(|t| t.payload.clone()).collect();
    assert_eq!(
        frame,
        tunnel_frame(
            &outer,
            1,
            6081,
            true,
            &geneve_hdr(7, &opts, false),
            &big.bytes()
        )
    );
    // Different option bytes: different flows.
    let other = [0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xde];
    let mut g = vxlan_gro();
    let (r, _) = trace(
        &mut g,
        vec![mk(&inner[0], false, &opts), mk(&inner[1], false, &other)],
    );
    assert_eq!(r, [H, H]);
}

#[test]
fn vxlan_inner_udp_merges_in_forwarding_mode() {
    let outer = Flow::v4(40000);
    let mut f = Flow::v4(7000);
    f.src = 100;
    let us = dgrams(&f, &[600, 600, 600]);
    let frames: Vec<Skb> = us
        .iter()
        .map(|u| {
            shared(tunnel_frame(
                &outer,
                1,
                4789,
                false,
                &vxlan_hdr(3),
                &u.bytes(),
            ))
        })
        .collect();
    let mut g = Gro::new(params(), udp_features(UdpGro::Forwarding));
    g.add_udp_tunnel_port(4789, UdpTunnel::Vxlan);
    let (r, out) = trace(&mut g, frames);
    assert_eq!(r, [H, M, M]);
    assert_eq!(
        out[0].meta.gso.gso_type,
        GsoType::UDP_TUNNEL | GsoType::UDP_L4
    );
}

// ----- batches --------------------------------------------------------------------------------

#[test]
fn batches_run_through_polls_zero_copy() {
    let f = Flow::v4(1000);
    let frames: Vec<Vec<u8>> = train(&f, 5, 1).iter().map(Tcp::bytes).collect();
    let raw_ip = train(&Flow::v4(2000), 2, 6)
        .iter()
        .map(|t| t.bytes()[14..].to_vec())
        .collect::<Vec<_>>();
    let batch = Batch::from_packets(frames.iter().map(|v| {
        (
            0i64,
            v.as_slice(),
            v.len() as u32,
            1u32,
            LinkType::ETHERNET.0,
        )
    }));
    let mut g = Gro::new(params(), features());
    let mut out = Vec::new();
    g.run_batch(&batch, &mut out);
    assert_eq!(all_markers(&out), [vec![1, 2, 3, 4, 5]]);
    // Raw IP link type: no link-layer header to compare.
    let rb = Batch::from_packets(
        raw_ip
            .iter()
            .map(|v| (0i64, v.as_slice(), v.len() as u32, 1u32, LinkType::RAW.0)),
    );
    let mut out = Vec::new();
    g.run_batch(&rb, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].meta.gso.segs, 2);
    assert_eq!(out[0].network_offset(), Some(0));
    // Linux cooked captures have no GRO handler here: they pass.
    let sll = Batch::from_packets(frames.iter().map(|v| {
        (
            0i64,
            v.as_slice(),
            v.len() as u32,
            1u32,
            LinkType::LINUX_SLL.0,
        )
    }));
    let mut out = Vec::new();
    g.run_batch(&sll, &mut out);
    assert_eq!(out.len(), 5);
}

// ----- random interleaved flows ---------------------------------------------------------------

/// Software segmentation of a GRO packet back into the segments it was made of, by the
/// public fields only (the GSO engine's contract): `gso_size`, `gso_segs`, `gso_type`.
fn resegment_tcp4(p: &Skb) -> Vec<Vec<u8>> {
    let frame = gro_frame(p, FrameCsum::AsCaptured);
    if !p.meta.is_gso() {
        return vec![frame];
    }
    let s = seen(&frame);
    let hdr = &frame[..s.payload];
    let payload = &frame[s.payload..];
    let mss = usize::from(p.meta.gso.size);
    let n = payload.len().div_ceil(mss);
    assert_eq!(n, usize::from(p.meta.gso.segs));
    let fixed = p.meta.gso.gso_type.contains(GsoType::TCP_FIXEDID);
    let flags = frame[s.l4 + 13];
    let id0 = be16(&frame, s.ip + 4);
    let seq0 = u32::from_be_bytes(frame[s.l4 + 4..s.l4 + 8].try_into().unwrap());
    (0..n)
        .map(|i| {
            let chunk = &payload[i * mss..((i + 1) * mss).min(payload.len())];
            let mut seg = hdr.to_vec();
            seg.extend_from_slice(chunk);
            let tot = (seg.len() - s.ip) as u16;
            seg[s.ip + 2..s.ip + 4].copy_from_slice(&tot.to_be_bytes());
            let id = if fixed {
                id0
            } else {
                id0.wrapping_add(i as u16)
            };
            seg[s.ip + 4..s.ip + 6].copy_from_slice(&id.to_be_bytes());
            seg[s.ip + 10] = 0;
            seg[s.ip + 11] = 0;
            let c = checksum::checksum(&seg[s.ip..s.ip + 20]);
            seg[s.ip + 10..s.ip + 12].copy_from_slice(&c.to_be_bytes());
            let seq = seq0.wrapping_add((i * mss) as u32);
            seg[s.l4 + 4..s.l4 + 8].copy_from_slice(&seq.to_be_bytes());
            let mut fl = flags;
            if i + 1 < n {
                fl &= !((PSH | FIN) as u8);
            }
            if i > 0 {
                fl &= !(CWR as u8);
            }
            seg[s.l4 + 13] = fl;
            seg[s.l4 + 16] = 0;
            seg[s.l4 + 17] = 0;
            let len = (seg.len() - s.l4) as u16;
            let ph = checksum::pseudo_v4(v4_addr(seg[s.ip + 15]), v4_addr(seg[s.ip + 19]), 6, len);
            let c = checksum::fold(checksum::partial(&seg[s.l4..], ph));
            seg[s.l4 + 16..s.l4 + 18].copy_from_slice(&c.to_be_bytes());
            seg
        })
        .collect()
}

#[test]
fn gro_then_resegment_gives_back_the_segments() {
    let f = Flow::v4(1000);
    let mut segs = train(&f, 6, 1);
    segs[5].payload.truncate(500);
    segs[5].flags |= PSH;
    let frames: Vec<Vec<u8>> = segs.iter().map(Tcp::bytes).collect();
    let mut g = Gro::new(params(), features());
    let (_, out) = trace(&mut g, skbs(&segs));
    let back: Vec<Vec<u8>> = out.iter().flat_map(resegment_tcp4).collect();
    assert_eq!(back, frames);
}

/// A random flow: its segments as a TSO sender makes them (IDs counting up, same options,
/// PSH on the last), payload bytes distinct per flow and position.
#[derive(Debug, Clone)]
struct RandFlow {
    lens: Vec<usize>,
    hash: u32,
}

fn rand_flow() -> impl Strategy<Value = RandFlow> {
    (200usize..1448, 1usize..24, 0u32..4, any::<bool>()).prop_flat_map(|(mss, n, hash, short)| {
        prop::collection::vec(Just(mss), n).prop_map(move |mut lens| {
            if short && let Some(l) = lens.last_mut() {
                *l = mss / 3 + 1;
            }
            RandFlow { lens, hash }
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_interleaved_flows(
        flows in prop::collection::vec(rand_flow(), 1..12),
        order_seed in prop::collection::vec(any::<u16>(), 0..400),
        budget in 1usize..70,
        rss in any::<bool>(),
    ) {
        // Build each flow's segments.
        let mut per_flow: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut payload_total = 0usize;
        for (k, rf) in flows.iter().enumerate() {
            let mut fl = Flow::v4(10_000 + k as u16);
            fl.ts = k % 2 == 0;
            let mut seq = 77u32;
            let mut v = Vec::new();
            for (i, &len) in rf.lens.iter().enumerate() {
                let mut t = Tcp::new(&fl, seq, len, 0);
                t.payload = (0..len).map(|b| (b * 7 + i * 13 + k * 31) as u8).collect();
                t.id = (k as u16).wrapping_mul(1000).wrapping_add(i as u16);
                if i + 1 == rf.lens.len() {
                    t.flags |= PSH;
                }
                seq = seq.wrapping_add(len as u32);
                payload_total += len;
                v.push(t.bytes());
            }
            per_flow.push(v);
        }
        // Interleave, keeping each flow's order.
        let mut next = vec![0usize; per_flow.len()];
        let mut input: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut seed = order_seed.into_iter().cycle();
        loop {
            let open: Vec<usize> = (0..per_flow.len()).filter(|&k| next[k] < per_flow[k].len()).collect();
            if open.is_empty() {
                break;
            }
            let pick = open[usize::from(seed.next().unwrap_or(0)) % open.len()];
            input.push((pick, per_flow[pick][next[pick]].clone()));
            next[pick] += 1;
        }
        let mut g = Gro::new(GroParams { budget, ..GroParams::default() }, features());
        let skbs: Vec<Skb> = input
            .iter()
            .map(|(k, v)| {
                let mut s = shared(v.clone());
                s.meta.hash = if rss { flows[*k].hash } else { 0 };
                s
            })
            .collect();
        let mut out = Vec::new();
        g.run(skbs, &mut out);
        let st = *g.stats();
        prop_assert_eq!(st.received as usize, input.len());
        prop_assert_eq!(st.received, st.merged + st.held + st.normal);
        prop_assert_eq!(st.held, st.completed + st.singles);
        prop_assert_eq!(g.held_count(), 0);
        // Bytes are kept.
        let out_payload: usize = out.iter().map(|s| s.len() - seen(&s.to_vec()).payload).sum();
        prop_assert_eq!(out_payload, payload_total);
        // Resegmented, each flow's packets come back byte for byte and in order.
        let mut back: Vec<Vec<Vec<u8>>> = vec![Vec::new(); per_flow.len()];
        for p in &out {
            let f = p.to_vec();
            let sport = be16(&f, seen(&f).l4);
            let k = usize::from(sport - 10_000);
            prop_assert!(p.meta.gso.segs <= 45);
            back[k].extend(resegment_tcp4(p));
        }
        prop_assert_eq!(back, per_flow);
    }
}

// ----- no allocation per packet ---------------------------------------------------------------

/// Counts this thread's allocations (`alloc`, `alloc_zeroed`, `realloc`), as `skb_alloc.rs`
/// does, so the test can check GRO's steady state allocates nothing per packet.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; counting touches only a thread-local `Cell` and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller's guarantees for `layout` are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes through
        // this wrapper), and the caller's guarantees on `new_size` are passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_allocates_nothing_per_packet() {
    // Six interleaved flows (TCP, UDP and a VXLAN tunnel), with the buffer pool warm.
    let trace = || -> Vec<Skb> {
        let mut v = Vec::new();
        let tcp: Vec<Vec<Tcp>> = (0..4).map(|k| train(&Flow::v4(100 + k), 20, 1)).collect();
        let udp = dgrams(&Flow::v4(9000), &[600; 20]);
        let inner = inner_train(20, 1);
        let outer = Flow::v4(40000);
        for i in 0..20 {
            for t in &tcp {
                v.push(t[i].skb());
            }
            v.push(udp[i].skb());
            v.push(shared(tunnel_frame(
                &outer,
                1,
                4789,
                true,
                &vxlan_hdr(5),
                &inner[i].bytes(),
            )));
        }
        v
    };
    let mut g = Gro::new(
        GroParams {
            budget: 16,
            ..params()
        },
        udp_features(UdpGro::Forwarding),
    );
    g.add_udp_tunnel_port(4789, UdpTunnel::Vxlan);
    let mut out = Vec::with_capacity(512);
    for _ in 0..2 {
        g.run(trace(), &mut out);
        out.clear();
    }
    let pkts = trace();
    let n = pkts.len();
    let before = allocs();
    g.run(pkts, &mut out);
    let used = allocs() - before;
    assert!(out.len() < n / 2);
    assert_eq!(
        out.iter()
            .map(|p| usize::from(p.meta.gso.segs.max(1)))
            .sum::<usize>(),
        n
    );
    assert_eq!(used, 0, "{used} allocations for {n} packets");
}

#[test]
fn engine_moves_to_its_worker_thread() {
    fn is_send<T: Send>() {}
    is_send::<Gro>();
    is_send::<GroResult>();
}

// ----- IP tunnels: GRE and IP-in-IP ----------------------------------------------------------

/// [`inner_train`] over IPv4 or IPv6.
fn ip_inner_train(n: usize, v6: bool) -> Vec<Tcp> {
    let mut t = inner_train(n, 1);
    for s in &mut t {
        s.flow.v6 = v6;
    }
    t
}

/// The inner bytes a GRE or IP-in-IP packet carries: an IP packet, or for transparent
/// Ethernet bridging (0x6558) the whole inner frame.
fn inner_bytes(t: &Tcp, teb: bool) -> Vec<u8> {
    let frame = t.bytes();
    if teb { frame } else { frame[14..].to_vec() }
}

#[test]
fn gre_inner_tcp_merges() {
    for (proto, v6) in [(0x0800u16, false), (0x86dd, true), (0x6558, false)] {
        for (csum, key) in [
            (false, None),
            (true, None),
            (false, Some(7)),
            (true, Some(9)),
        ] {
            let outer = Flow::v4(1);
            let inner = ip_inner_train(3, v6);
            let frames: Vec<Skb> = inner
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let g = gre(proto, csum, key, &inner_bytes(t, proto == 0x6558));
                    shared(ip_tunnel_frame(&outer, 30 + i as u16, 47, g))
                })
                .collect();
            let mut g = Gro::new(params(), features());
            let (r, out) = trace(&mut g, frames);
            let case = format!("proto {proto:#x} csum {csum} key {key:?}");
            assert_eq!(r, [H, M, M], "{case}");
            assert_eq!(all_markers(&out), [vec![1, 2, 3]], "{case}");
            let p = &out[0];
            let l4 = if v6 { GsoType::TCPV6 } else { GsoType::TCPV4 };
            assert_eq!(p.meta.gso.gso_type, GsoType::GRE | l4, "{case}");
            assert_eq!((p.meta.gso.size, p.meta.gso.segs), (1398, 3), "{case}");
            assert!(p.meta.encapsulation, "{case}");
            let gre_len = 4 + 4 * usize::from(csum) + 4 * usize::from(key.is_some());
            let inner_mac = 34 + gre_len as isize;
            let inner_net = inner_mac + if proto == 0x6558 { 14 } else { 0 };
            assert_eq!(p.inner_mac_offset(), Some(inner_mac), "{case}");
            assert_eq!(p.inner_network_offset(), Some(inner_net), "{case}");
            let inner_l4 = inner_net + if v6 { 40 } else { 20 };
            assert_eq!(p.inner_transport_offset(), Some(inner_l4), "{case}");
            assert_eq!(p.checksum_start_offset(), Some(inner_l4), "{case}");
            // The outer and inner lengths cover the merged packet.
            let f = gro_frame(p, FrameCsum::Complete);
            assert_eq!(be16(&f, 16) as usize, f.len() - 14);
            let n = inner_net as usize;
            let inner_len = if v6 {
                be16(&f, n + 4) as usize + 40
            } else {
                be16(&f, n + 2) as usize
            };
            assert_eq!(inner_len, f.len() - n, "{case}");
        }
    }
}

#[test]
fn gre_key_flags_and_protocol_make_flows() {
    let outer = Flow::v4(1);
    let inner = ip_inner_train(2, false);
    let mk = |csum: bool, key: Option<u32>, t: &Tcp| {
        shared(ip_tunnel_frame(
            &outer,
            30,
            47,
            gre(0x0800, csum, key, &inner_bytes(t, false)),
        ))
    };
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(
        &mut g,
        vec![
            mk(false, Some(1), &inner[0]),
            mk(false, Some(2), &inner[0]),
            mk(false, None, &inner[0]),
            mk(true, Some(1), &inner[0]),
            mk(false, Some(1), &inner[1]),
        ],
    );
    // Keys 1 and 2, no key, and a checksum flag are four tunnels; only the same key merges.
    assert_eq!(r, [H, H, H, H, M]);
    assert_eq!(all_markers(&out), [vec![1, 2], vec![1], vec![1], vec![1]]);
}

#[test]
fn gre_with_other_flags_versions_or_protocols_goes_up() {
    let outer = Flow::v4(1);
    let inner = ip_inner_train(2, false);
    let plain = gre(0x0800, false, None, &inner_bytes(&inner[1], false));
    let bent = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut g = plain.clone();
        f(&mut g);
        g
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // S (sequence number) is not aggregated: GSO could not rebuild it.
        ("sequence", bent(&|g| g[0] |= 0x10)),
        ("routing", bent(&|g| g[0] |= 0x40)),
        ("version 1", bent(&|g| g[1] |= 1)),
        (
            "MPLS inside",
            bent(&|g| g[2..4].copy_from_slice(&0x8847u16.to_be_bytes())),
        ),
    ];
    for (what, g1) in cases {
        let held = ip_tunnel_frame(
            &outer,
            30,
            47,
            gre(0x0800, false, None, &inner_bytes(&inner[0], false)),
        );
        let unmerged = ip_tunnel_frame(&outer, 31, 47, g1);
        let frames = vec![shared(held.clone()), shared(unmerged.clone())];
        let mut g = Gro::new(params(), features());
        let (r, out) = trace(&mut g, frames);
        assert_eq!(r, [H, N], "{what}");
        // The packet without a handler goes up at once, ahead of the held flow.
        let out: Vec<Vec<u8>> = out.iter().map(Skb::to_vec).collect();
        assert_eq!(out, [unmerged, held], "{what}");
    }
}

#[test]
fn gre_bad_checksum_goes_up_ahead_of_the_held_flow() {
    let outer = Flow::v4(1);
    let inner = ip_inner_train(3, false);
    let mk = |i: usize| gre(0x0800, true, None, &inner_bytes(&inner[i], false));
    let mut bad = mk(1);
    bad[4] ^= 0x40;
    let frames = vec![
        shared(ip_tunnel_frame(&outer, 30, 47, mk(0))),
        shared(ip_tunnel_frame(&outer, 31, 47, bad)),
        shared(ip_tunnel_frame(&outer, 32, 47, mk(2))),
    ];
    let mut g = Gro::new(params(), features());
    let (r, out) = trace(&mut g, frames);
    // The third is no longer contiguous with the held first one: it completes it.
    assert_eq!(r, [H, N, H]);
    assert_eq!(all_markers(&out), [vec![2], vec![1], vec![3]]);
    assert_eq!(out[0].meta.ip_summed, IpSummed::None);
}

#[test]
fn ip_in_ip_and_sit_merge() {
    // (outer IPv6, inner IPv6, GSO type of the tunnel): IP-in-IP, SIT, 4in6, 6in6.
    for (outer_v6, inner_v6, tun) in [
        (false, false, GsoType::IPXIP4),
        (false, true, GsoType::IPXIP4),
        (true, false, GsoType::IPXIP6),
        (true, true, GsoType::IPXIP6),
    ] {
        let outer = Flow {
            v6: outer_v6,
            ..Flow::v4(1)
        };
        let inner = ip_inner_train(3, inner_v6);
        let proto = if inner_v6 { 41 } else { 4 };
        let frames: Vec<Skb> = inner
            .iter()
            .enumerate()
            .map(|(i, t)| {
                shared(ip_tunnel_frame(
                    &outer,
                    30 + i as u16,
                    proto,
                    inner_bytes(t, false),
                ))
            })
            .collect();
        let mut g = Gro::new(params(), features());
        let (r, out) = trace(&mut g, frames);
        let case = format!("outer v6 {outer_v6} inner v6 {inner_v6}");
        assert_eq!(r, [H, M, M], "{case}");
        assert_eq!(all_markers(&out), [vec![1, 2, 3]], "{case}");
        let p = &out[0];
        let l4 = if inner_v6 {
            GsoType::TCPV6
        } else {
            GsoType::TCPV4
        };
        assert_eq!(p.meta.gso.gso_type, tun | l4, "{case}");
        assert!(p.meta.encapsulation, "{case}");
        let inner_net: isize = 14 + if outer_v6 { 40 } else { 20 };
        assert_eq!(p.inner_network_offset(), Some(inner_net), "{case}");
        let f = gro_frame(p, FrameCsum::Complete);
        let outer_len = if outer_v6 {
            be16(&f, 18) as usize + 40
        } else {
            be16(&f, 16) as usize
        };
        assert_eq!(outer_len, f.len() - 14, "{case}");
    }
}

#[test]
fn ip_in_ip_inner_ids_must_count_up_and_outer_ids_with_df_need_not() {
    let outer = Flow::v4(1);
    let mut inner = ip_inner_train(3, false);
    let run = |inner: &[Tcp], outer_ids: [u16; 3]| {
        let frames: Vec<Skb> = inner
            .iter()
            .zip(outer_ids)
            .map(|(t, id)| shared(ip_tunnel_frame(&outer, id, 4, inner_bytes(t, false))))
            .collect();
        let mut g = Gro::new(params(), features());
        trace(&mut g, frames).0
    };
    assert_eq!(run(&inner, [9, 400, 3]), [H, M, M]);
    inner[2].id += 5;
    assert_eq!(run(&inner, [9, 10, 11]), [H, M, H]);
}

#[test]
fn a_tunnel_inside_a_tunnel_goes_up() {
    let outer = Flow::v4(1);
    let inner = ip_inner_train(2, false);
    // GRE inside IP-in-IP: the outer tunnel marks the packet, the second level has no
    // aggregation (encap_mark).
    let mid = Flow::v4(1);
    let wrap = |t: &Tcp, id: u16| {
        let g = gre(0x0800, false, None, &inner_bytes(t, false));
        let ip = IpFields {
            id,
            ..IpFields::default()
        };
        let mid_ip = ip_packet(&mid, &ip, 47, g, None);
        shared(ip_tunnel_frame(&outer, id, 4, mid_ip))
    };
    let mut g = Gro::new(params(), features());
    let (r, _) = trace(&mut g, vec![wrap(&inner[0], 1), wrap(&inner[1], 2)]);
    assert_eq!(r, [N, N]);
    // VXLAN inside GRE: a UDP tunnel in an IP tunnel is not aggregated either.
    let vx = |t: &Tcp, id: u16| {
        let udp = tunnel_frame(&mid, id, 4789, false, &vxlan_hdr(5), &t.bytes());
        shared(ip_tunnel_frame(
            &outer,
            id,
            47,
            gre(0x6558, false, None, &udp),
        ))
    };
    let mut g = vxlan_gro();
    let (r, _) = trace(&mut g, vec![vx(&inner[0], 1), vx(&inner[1], 2)]);
    assert_eq!(r, [N, N]);
}
