//! The receive-side walk of a packet through the GRO handlers, outer to inner, as the kernel's
//! chain of `gro_receive` callbacks does it: `dev_gro_receive` → `vlan_gro_receive` →
//! `inet_gro_receive` / `ipv6_gro_receive` → `tcp4_gro_receive` / `udp4_gro_receive` (and their
//! IPv6 twins) → for a UDP tunnel port `vxlan_gro_receive` / `geneve_gro_receive` →
//! `eth_gro_receive` → the inner IP and transport handlers. IP tunnels go from the outer IP
//! handler to `gre_gro_receive` (GRE, then the handler of its protocol type) or straight to
//! the inner IP handler (`ipip_gro_receive`, `sit_ip6ip6_gro_receive`, `ip4ip6_gro_receive`,
//! `ip6ip6_gro_receive`).
//!
//! The walk records every header it passes ([`Layers`]), the packet's own flush flag
//! (`NAPI_GRO_CB(skb)->flush`) and its checksum state. A packet that a handler turns away
//! before the transport handler looks at the held packets (unknown protocol, IPv4 options, bad
//! IPv4 header checksum, bad transport checksum, UDP GRO off…) yields `None`: it goes up at
//! once (`GRO_NORMAL`) and leaves every held packet where it is, as in the kernel, where such
//! a packet never reaches the code that picks a held packet to flush (`pp`).
//!
//! Offsets are from the start of the packet's data, which is its link-layer header.

use super::cb::{CsumCb, pseudo, sum_range};
use super::tunnel;
use crate::checksum::{self, IpSummed};
use crate::offload::UdpGro;
use crate::skb::{Frag, GsoType, Skb, SkbMeta};

/// Most headers a walk records (the kernel's `GRO_RECURSION_LIMIT` is 15 nested handlers).
pub(crate) const MAX_HDRS: usize = 16;

/// Ethertypes with a GRO handler (`gro_find_receive_by_type`).
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
const ETH_P_TEB: u16 = 0x6558;

const IPPROTO_IPIP: u8 = 4;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_GRE: u8 = 47;
const NEXTHDR_HOP: u8 = 0;
const NEXTHDR_ROUTING: u8 = 43;
const NEXTHDR_DEST: u8 = 60;

/// IPv4 flag and offset bits other than DF: reserved, MF, fragment offset.
const IP_FLAGS_NOT_DF: u16 = 0xbfff;

/// A UDP tunnel GRO knows (a device owning a UDP port, whose socket has `gro_receive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpTunnel {
    /// VXLAN (RFC 7348), `vxlan_gro_receive`.
    Vxlan,
    /// Geneve (RFC 8926), `geneve_gro_receive`.
    Geneve,
}

/// What a recorded header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The device's link-layer header (`gro_list_prepare` compares it).
    Mac,
    /// An 802.1Q/802.1ad tag in the packet (`vlan_gro_receive`).
    Vlan,
    /// IPv4 without options.
    Ipv4,
    /// IPv6 with its extension headers (`len` covers them).
    Ipv6,
    /// The UDP header in front of a tunnel.
    TunnelUdp,
    /// VXLAN header.
    Vxlan,
    /// Geneve header with its options.
    Geneve,
    /// GRE header with its checksum and key words (`gre_gro_receive`).
    Gre,
    /// An IP header directly in an IP header (IP-in-IP, SIT, 4in6, 6in6): a mark of no
    /// length at the inner header, for completion to set `SKB_GSO_IPXIP4` / `IPXIP6`.
    IpInIp,
    /// The inner Ethernet header of a tunnel (`eth_gro_receive`).
    Eth,
    /// TCP, the merged layer.
    Tcp,
    /// UDP, the merged layer (`udp_gro_receive_segment`).
    Udp,
}

/// One recorded header. Offsets and lengths are 16-bit like the skb's own header offsets
/// (`skb->network_header`…), which keeps [`Layers`] small enough to move cheaply per packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hdr {
    pub kind: Kind,
    off: u16,
    len: u16,
}

/// No header (a placeholder where one is yet to be found).
pub(crate) const NO_HDR: Hdr = Hdr {
    kind: Kind::Mac,
    off: 0,
    len: 0,
};

impl Hdr {
    /// A header of `len` bytes at `off`; `None` when it ends beyond what 16 bits reach.
    pub fn new(kind: Kind, off: usize, len: usize) -> Option<Hdr> {
        let end = u16::try_from(off.checked_add(len)?).ok()?;
        Some(Hdr {
            kind,
            off: u16::try_from(off).ok()?,
            len: end - u16::try_from(off).ok()?,
        })
    }

    /// Offset from the start of the packet's data.
    pub fn off(self) -> usize {
        usize::from(self.off)
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        usize::from(self.len)
    }

    /// The same header moved `by` bytes further in (`grow` false) or grown by `by` bytes.
    pub fn shifted(self, by: usize, grow: bool) -> Option<Hdr> {
        if grow {
            Hdr::new(self.kind, self.off(), self.len() + by)
        } else {
            Hdr::new(self.kind, self.off() + by, self.len())
        }
    }
}

/// What the walk learnt about a packet: its headers and the GRO control block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layers {
    hdrs: [Hdr; MAX_HDRS],
    n: u8,
    /// Bytes of link-layer header the device has (`dev->hard_header_len`): 14 or 0.
    mac_len: u8,
    /// `skb->protocol` as `eth_type_trans` sets it.
    pub protocol: u16,
    /// Index in the headers of the outer and the inner network header
    /// (`NAPI_GRO_CB(skb)->network_offsets[]`); `u8::MAX` when absent. Small fields keep
    /// the whole record within two cache lines.
    net: [u8; 2],
    /// The packet went through a tunnel handler, UDP or IP (`NAPI_GRO_CB(skb)->encap_mark`).
    pub encap: bool,
    /// Start of the merged payload (`skb_gro_offset` after the transport header).
    pub payload_off: usize,
    /// Payload bytes (`skb_gro_len`): to the end of the packet, padding included.
    pub gro_len: usize,
    /// `NAPI_GRO_CB(skb)->flush`: the packet must not be held or merged.
    pub flush: bool,
    /// UDP segments are chained as a list (`NAPI_GRO_CB(skb)->is_flist`).
    pub is_flist: bool,
    /// Segments the packet stands for (`NAPI_GRO_CB(skb)->count`).
    pub count: u16,
    /// The packet's own `gso_size` when it arrives already aggregated.
    pub gso_size: Option<u16>,
}

impl Layers {
    /// No headers yet: what [`parse`] fills in.
    pub const EMPTY: Layers = Layers {
        hdrs: [NO_HDR; MAX_HDRS],
        n: 0,
        mac_len: 0,
        protocol: 0,
        net: [u8::MAX; 2],
        encap: false,
        payload_off: 0,
        gro_len: 0,
        flush: false,
        is_flist: false,
        count: 1,
        gso_size: None,
    };

    /// The recorded headers, outer first.
    pub fn hdrs(&self) -> &[Hdr] {
        self.hdrs.get(..usize::from(self.n)).unwrap_or_default()
    }

    /// Bytes of link-layer header the device has (`dev->hard_header_len`): 14 or 0.
    pub fn mac_len(&self) -> usize {
        usize::from(self.mac_len)
    }

    /// Index in [`Layers::hdrs`] of network header `i` (0 outer, 1 inner), if present.
    pub fn net_index(&self, i: usize) -> Option<usize> {
        self.net
            .get(i)
            .map(|&k| usize::from(k))
            .filter(|&k| k < usize::from(self.n))
    }

    /// Mutable headers (completion moves them when it inserts a jumbo option).
    pub fn hdrs_mut(&mut self) -> &mut [Hdr] {
        self.hdrs.get_mut(..usize::from(self.n)).unwrap_or_default()
    }

    /// The merged transport header (the last one recorded).
    pub fn l4(&self) -> Hdr {
        self.hdrs().last().copied().unwrap_or(NO_HDR)
    }

    /// Network header `i` (0 outer, 1 inner), if present.
    pub fn net_hdr(&self, i: usize) -> Option<Hdr> {
        self.net_index(i).and_then(|k| self.hdrs().get(k)).copied()
    }

    /// Index of the network header that carries the merged transport header.
    pub fn l4_net_index(&self) -> usize {
        usize::from(self.encap)
    }

    /// Records a header; returns its index.
    fn push(&mut self, kind: Kind, off: usize, len: usize) -> Option<u8> {
        let slot = self.hdrs.get_mut(usize::from(self.n))?;
        *slot = Hdr::new(kind, off, len)?;
        self.n += 1;
        Some(self.n - 1)
    }

    /// Records the network header at index `i` as the outer one, or the inner one past a
    /// tunnel.
    fn set_net(&mut self, i: u8) {
        self.net[usize::from(self.encap)] = i;
    }
}

/// What the walk needs to know about the device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cfg<'a> {
    /// UDP GRO mode of the device.
    pub udp_gro: UdpGro,
    /// UDP destination ports owned by tunnel devices.
    pub tunnels: &'a [(u16, UdpTunnel)],
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

/// A packet as the walk reads it: linear bytes, fragments and metadata (of an [`Skb`], or of a
/// capture row that is not one yet).
#[derive(Clone, Copy)]
pub(crate) struct Pkt<'a> {
    pub data: &'a [u8],
    pub frags: &'a [Frag],
    pub meta: &'a SkbMeta,
}

impl<'a> Pkt<'a> {
    /// The view of an [`Skb`].
    pub fn of(skb: &'a Skb) -> Self {
        Pkt {
            data: skb.data(),
            frags: skb.frags(),
            meta: &skb.meta,
        }
    }

    /// Bytes in all (`skb->len`).
    pub fn len(&self) -> usize {
        self.data.len() + self.frags.iter().map(Frag::len).sum::<usize>()
    }

    /// The linear bytes, then each fragment's.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.data).chain(self.frags.iter().map(Frag::as_slice))
    }
}

/// Walks `skb`'s headers as the GRO handlers do, recording them in `lay` (which starts
/// [`Layers::EMPTY`]). `raw` says the device has no link-layer header (the packet starts with
/// IP). `cb` is updated with every checksum verified, even when the walk then gives up (the
/// kernel changes `ip_summed` as it goes). `None`: the packet has no GRO handler.
pub(crate) fn parse(
    skb: &Pkt<'_>,
    raw: bool,
    cfg: Cfg<'_>,
    cb: &mut CsumCb,
    lay: &mut Layers,
) -> Option<()> {
    let d = skb.data;
    let first = if raw {
        match (skb.meta.protocol, d.first().map(|b| b >> 4)) {
            (p, _) if p != 0 => p,
            (_, Some(4)) => ETH_P_IP,
            (_, Some(6)) => ETH_P_IPV6,
            _ => return None,
        }
    } else {
        // eth_type_trans: an 802.3 length field is no ethertype, and has no GRO handler.
        let et = be16(d, 12)?;
        if et < 0x0600 {
            return None;
        }
        lay.mac_len = 14;
        lay.push(Kind::Mac, 0, 14)?;
        et
    };
    lay.protocol = first;
    // dev_gro_receive: an aggregated packet counts for its segments; only TCP ones that
    // did not come from an untrusted source may merge further.
    if skb.meta.is_gso() {
        let g = skb.meta.gso;
        lay.count = g.segs.max(1);
        lay.gso_size = Some(g.size);
        if !g.gso_type.intersects(GsoType::TCPV4 | GsoType::TCPV6)
            || g.gso_type.contains(GsoType::DODGY)
        {
            lay.flush = true;
        }
    }
    let mac_len = lay.mac_len();
    let mut w = Walk {
        skb,
        d,
        total: skb.len(),
        lay,
        cfg,
        cb,
    };
    w.run(first, mac_len)
}

/// The state of one walk.
struct Walk<'a, 'c> {
    skb: &'a Pkt<'a>,
    d: &'a [u8],
    total: usize,
    lay: &'a mut Layers,
    cfg: Cfg<'c>,
    cb: &'a mut CsumCb,
}

/// Where the walk goes after a UDP header.
enum AfterUdp {
    /// The datagram is the merged layer.
    Segment,
    /// A tunnel follows: continue with this ethertype at this offset.
    Inner(u16, usize),
}

impl Walk<'_, '_> {
    fn run(&mut self, mut et: u16, mut off: usize) -> Option<()> {
        loop {
            match et {
                // vlan_gro_receive: the tag is compared, its inner type must have a handler.
                ETH_P_8021Q | ETH_P_8021AD => {
                    let inner = be16(self.d, off + 2)?;
                    self.lay.push(Kind::Vlan, off, 4)?;
                    off += 4;
                    et = inner;
                }
                // eth_gro_receive (tunnel payloads): the inner Ethernet header is compared.
                ETH_P_TEB => {
                    let inner = be16(self.d, off + 12)?;
                    self.lay.push(Kind::Eth, off, 14)?;
                    off += 14;
                    et = inner;
                }
                ETH_P_IP => {
                    let (l4, proto) = self.inet(off)?;
                    match self.transport(proto, off, l4)? {
                        AfterUdp::Segment => return Some(()),
                        AfterUdp::Inner(e, o) => (et, off) = (e, o),
                    }
                }
                ETH_P_IPV6 => {
                    let (l4, proto) = self.ipv6(off)?;
                    match self.transport(proto, off, l4)? {
                        AfterUdp::Segment => return Some(()),
                        AfterUdp::Inner(e, o) => (et, off) = (e, o),
                    }
                }
                _ => return None,
            }
            if !matches!(
                et,
                ETH_P_IP | ETH_P_IPV6 | ETH_P_8021Q | ETH_P_8021AD | ETH_P_TEB
            ) {
                // The handler found no handler for what follows (`gro_find_receive_by_type`).
                return None;
            }
        }
    }

    /// `inet_gro_receive`: returns the transport offset and protocol.
    fn inet(&mut self, off: usize) -> Option<(usize, u8)> {
        let iph = self.d.get(off..off + 20)?;
        let proto = iph[9];
        // Only protocols with a GRO handler; no options (the first byte is exactly 0x45);
        // a good header checksum. Otherwise the packet goes up untouched.
        if !has_handler(proto) {
            return None;
        }
        if iph[0] != 0x45 || !checksum::verify(iph) {
            return None;
        }
        // The total length must be exactly what is left of the packet (no link padding),
        // and the datagram must not be a fragment (nor carry the reserved flag).
        let tot_len = usize::from(u16::from_be_bytes([iph[2], iph[3]]));
        let frag = u16::from_be_bytes([iph[6], iph[7]]);
        self.lay.flush |= tot_len != self.total - off || frag & IP_FLAGS_NOT_DF != 0;
        let i = self.lay.push(Kind::Ipv4, off, 20)?;
        self.lay.set_net(i);
        Some((off + 20, proto))
    }

    /// `ipv6_gro_receive` with `ipv6_gro_pull_exthdrs`: hop-by-hop, routing and destination
    /// options headers are passed over (their bytes must match between packets of a flow);
    /// anything else that is not TCP or UDP (a fragment header…) has no handler.
    fn ipv6(&mut self, off: usize) -> Option<(usize, u8)> {
        let iph = self.d.get(off..off + 40)?;
        let payload_len = usize::from(u16::from_be_bytes([iph[4], iph[5]]));
        self.lay.flush |= payload_len != self.total - off - 40;
        let mut proto = iph[6];
        let mut end = off + 40;
        while matches!(proto, NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_DEST) {
            let opt = self.d.get(end..end + 2)?;
            let len = (usize::from(opt[1]) + 1) * 8;
            if end + len > self.d.len() {
                return None;
            }
            proto = opt[0];
            end += len;
        }
        if !has_handler(proto) {
            return None;
        }
        let i = self.lay.push(Kind::Ipv6, off, end - off)?;
        self.lay.set_net(i);
        Some((end, proto))
    }

    /// The handler of transport protocol `proto` at `off`, behind the IP header at `ip`.
    fn transport(&mut self, proto: u8, ip: usize, off: usize) -> Option<AfterUdp> {
        match proto {
            IPPROTO_TCP => {
                self.tcp(ip, off)?;
                Some(AfterUdp::Segment)
            }
            IPPROTO_UDP => self.udp(ip, off),
            IPPROTO_GRE => self.gre(off),
            // ipip_gro_receive and its IPv6 twins: one level of tunnel only, then the inner
            // IP handler.
            _ => {
                self.enter_ip_tunnel()?;
                self.lay.push(Kind::IpInIp, off, 0)?;
                let et = if proto == IPPROTO_IPIP {
                    ETH_P_IP
                } else {
                    ETH_P_IPV6
                };
                Some(AfterUdp::Inner(et, off))
            }
        }
    }

    /// Marks the packet as inside an IP tunnel (`NAPI_GRO_CB(skb)->encap_mark`); `None` if
    /// it already is inside a tunnel (a second level is not aggregated).
    fn enter_ip_tunnel(&mut self) -> Option<()> {
        if self.lay.encap {
            return None;
        }
        self.lay.encap = true;
        Some(())
    }

    /// `gre_gro_receive`: version 0 with no flag but C (checksum) and K (key), a protocol type
    /// with a handler (IPv4, IPv6, transparent Ethernet); a GRE checksum is verified like a
    /// transport one, without pseudo-header. The flags, protocol and key must match between
    /// packets of a flow (`same_flow`).
    fn gre(&mut self, off: usize) -> Option<AfterUdp> {
        let gh = self.d.get(off..off + 4)?;
        let flags = u16::from_be_bytes([gh[0], gh[1]]);
        let proto = u16::from_be_bytes([gh[2], gh[3]]);
        if flags & !(GRE_CSUM | GRE_KEY) != 0 || !matches!(proto, ETH_P_IP | ETH_P_IPV6 | ETH_P_TEB)
        {
            return None;
        }
        self.enter_ip_tunnel()?;
        let hlen =
            4 + 4 * usize::from(flags & GRE_CSUM != 0) + 4 * usize::from(flags & GRE_KEY != 0);
        self.d.get(off..off + hlen)?;
        // "Don't bother verifying checksum if we're going to flush anyway."
        if flags & GRE_CSUM != 0 && !self.lay.flush {
            let (skb, total) = (self.skb, self.total);
            let check = be16(self.d, off + 4)?;
            let good =
                || sum_range(skb, off, total - off, 0).is_some_and(|s| checksum::fold(s) == 0);
            if !self.cb.validate(false, check, good) {
                return None;
            }
            self.cb.try_convert();
        }
        self.lay.push(Kind::Gre, off, hlen)?;
        Some(AfterUdp::Inner(proto, off + hlen))
    }

    /// `tcp4_gro_receive` / `tcp6_gro_receive` up to `tcp_gro_receive`.
    fn tcp(&mut self, ip: usize, off: usize) -> Option<()> {
        // "Don't bother verifying checksum if we're going to flush anyway."
        if !self.lay.flush {
            let (skb, ip, total) = (self.skb, self.d.get(ip..).unwrap_or_default(), self.total);
            if !self
                .cb
                .validate(false, 1, || verify_l4(skb, ip, IPPROTO_TCP, off, total))
            {
                return None;
            }
        }
        // tcp_gro_pull_header: the whole header, options included, must be there.
        let th = self.d.get(off..off + 20)?;
        let thlen = usize::from(th[12] >> 4) * 4;
        if thlen < 20 || off + thlen > self.d.len() {
            return None;
        }
        self.lay.push(Kind::Tcp, off, thlen)?;
        self.lay.payload_off = off + thlen;
        self.lay.gro_len = self.total - off - thlen;
        Some(())
    }

    /// `udp4_gro_receive` / `udp6_gro_receive` and `udp_gro_receive`.
    fn udp(&mut self, ip: usize, off: usize) -> Option<AfterUdp> {
        let uh = self.d.get(off..off + 8)?;
        let check = u16::from_be_bytes([uh[6], uh[7]]);
        let dport = u16::from_be_bytes([uh[2], uh[3]]);
        let ulen = usize::from(u16::from_be_bytes([uh[4], uh[5]]));
        if !self.lay.flush {
            let (skb, ip, total) = (self.skb, self.d.get(ip..).unwrap_or_default(), self.total);
            if !self
                .cb
                .validate(true, check, || verify_l4(skb, ip, IPPROTO_UDP, off, total))
            {
                return None;
            }
            if check != 0 {
                self.cb.try_convert();
            }
        }
        let tunnel = self
            .cfg
            .tunnels
            .iter()
            .find(|(p, _)| *p == dport)
            .map(|&(_, t)| t);
        let Some(tunnel) = tunnel else {
            return self.udp_segment(off, check, ulen);
        };
        // A tunnel in a tunnel is not aggregated, nor a datagram whose checksum is set but
        // could not be checked (udp_gro_receive).
        if self.lay.encap
            || (check != 0
                && !matches!(self.cb.summed, IpSummed::Partial { .. })
                && self.cb.cnt == 0
                && !self.cb.valid)
        {
            return None;
        }
        self.lay.encap = true;
        self.lay.push(Kind::TunnelUdp, off, 8)?;
        let off = off + 8;
        match tunnel {
            // vxlan_gro_receive: flags and VNI words are compared; Ethernet follows.
            UdpTunnel::Vxlan => {
                let hlen = tunnel::vxlan(self.d, off)?;
                self.lay.push(Kind::Vxlan, off, hlen)?;
                Some(AfterUdp::Inner(ETH_P_TEB, off + hlen))
            }
            // geneve_gro_receive: the whole header, options included, is compared; the
            // protocol type says what follows, and must have a handler.
            UdpTunnel::Geneve => {
                let (proto, hlen) = tunnel::geneve(self.d, off)?;
                self.lay.push(Kind::Geneve, off, hlen)?;
                if !matches!(
                    proto,
                    ETH_P_IP | ETH_P_IPV6 | ETH_P_8021Q | ETH_P_8021AD | ETH_P_TEB
                ) {
                    return None;
                }
                Some(AfterUdp::Inner(proto, off + hlen))
            }
        }
    }

    /// The plain-UDP branch of `udp_gro_receive` and `udp_gro_receive_segment`'s own checks.
    fn udp_segment(&mut self, off: usize, check: u16, ulen: usize) -> Option<AfterUdp> {
        // A packet encapsulated here (not by a known tunnel) is not aggregated.
        if self.skb.meta.encapsulation {
            return None;
        }
        let is_flist = self.cfg.udp_gro == UdpGro::Fraglist;
        if self.cfg.udp_gro != UdpGro::Forwarding && !is_flist {
            return None;
        }
        // "requires non zero csum, for symmetry with GSO"; no padded or short datagrams.
        if check == 0 || ulen <= 8 || ulen != self.total - off {
            return None;
        }
        self.lay.is_flist = is_flist;
        self.lay.push(Kind::Udp, off, 8)?;
        self.lay.payload_off = off + 8;
        self.lay.gro_len = ulen - 8;
        Some(AfterUdp::Segment)
    }
}

/// GRE flag bits: checksum present, key present (`GRE_CSUM`, `GRE_KEY`).
const GRE_CSUM: u16 = 0x8000;
const GRE_KEY: u16 = 0x2000;

/// Whether an IP protocol number has a GRO handler here (`inet_offloads[]`,
/// `inet6_offloads[]`).
fn has_handler(proto: u8) -> bool {
    matches!(
        proto,
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_GRE | IPPROTO_IPIP | IPPROTO_IPV6
    )
}

/// Verifies the transport checksum at `off` in software: everything to the end of the packet
/// plus the pseudo-header (`skb_gro_checksum_validate` with `inet_gro_compute_pseudo` /
/// `ip6_gro_compute_pseudo`).
fn verify_l4(skb: &Pkt<'_>, ip: &[u8], proto: u8, off: usize, total: usize) -> bool {
    let len = total - off;
    let ph = pseudo(ip, proto, len);
    sum_range(skb, off, len, ph).is_some_and(|s| checksum::fold(s) == 0)
}

/// Whether held packet `a` and new packet `b` are the same flow, header by header, with the
/// comparisons of each handler: `gro_list_prepare` (link-layer header), `vlan_gro_receive`
/// (`compare_vlan_header`), `inet_gro_receive` (protocol and addresses), `ipv6_gro_receive`
/// (version, flow label, addresses, next header, extension headers), `udp_gro_receive` (ports,
/// and checksums both zero or both set, before a tunnel), `vxlan_gro_prepare_receive` (flags
/// and VNI), `geneve_gro_receive` (whole header), `eth_gro_receive` (`compare_ether_header`),
/// `tcp_gro_lookup` and `udp_gro_receive_segment` (ports).
pub(crate) fn same_flow(a: &Layers, ad: &[u8], b: &Layers, bd: &[u8]) -> bool {
    if a.n != b.n || a.mac_len != b.mac_len {
        return false;
    }
    a.hdrs().iter().zip(b.hdrs()).all(|(x, y)| {
        if x.kind != y.kind || (x.len() != y.len() && x.kind != Kind::Tcp) {
            return false;
        }
        let (Some(hp), Some(hq)) = (
            ad.get(x.off()..x.off() + x.len()),
            bd.get(y.off()..y.off() + y.len()),
        ) else {
            return false;
        };
        match x.kind {
            Kind::Mac | Kind::Eth | Kind::Vlan | Kind::Vxlan | Kind::Geneve => bytes_eq(hp, hq),
            Kind::Ipv4 => hp[9] == hq[9] && bytes_eq(&hp[12..20], &hq[12..20]),
            Kind::Ipv6 => {
                let word = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
                (word(hp) ^ word(hq)) & 0xf00f_ffff == 0 && hp[6] == hq[6] && hp[8..] == hq[8..]
            }
            Kind::TunnelUdp => hp[0..4] == hq[0..4] && (hp[6..8] == [0, 0]) == (hq[6..8] == [0, 0]),
            // Flags and protocol, and the key (the last word when K is set), not the checksum.
            Kind::Gre => {
                hp[0..4] == hq[0..4]
                    && (hp[0] & 0x20 == 0 || hp[hp.len() - 4..] == hq[hq.len() - 4..])
            }
            Kind::IpInIp => true,
            Kind::Tcp | Kind::Udp => hp[0..4] == hq[0..4],
        }
    })
}

/// Whether two byte strings are equal, comparing headers of up to 16 bytes (the common
/// case: Ethernet, VLAN, addresses, TCP options) with two overlapping word loads each instead
/// of a call to `memcmp`.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    fn word(s: &[u8], at: usize) -> u64 {
        s.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_ne_bytes)
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Bytes;

    #[test]
    fn bytes_eq_sees_every_byte() {
        let a: Vec<u8> = (0u8..40).collect();
        for n in 0..40 {
            assert!(bytes_eq(&a[..n], &a[..n]));
            assert!(!bytes_eq(&a[..n], &a[..=n]));
            for i in 0..n {
                let mut b = a[..n].to_vec();
                b[i] ^= 0x10;
                assert!(!bytes_eq(&a[..n], &b), "len {n} byte {i}");
            }
        }
    }

    fn skb(v: Vec<u8>) -> Skb {
        Skb::from_shared(Bytes::from_vec(v)).unwrap()
    }

    #[test]
    fn short_and_unknown_frames_have_no_layers() {
        let walks = |v: Vec<u8>, raw: bool| {
            let cfg = Cfg {
                udp_gro: UdpGro::Off,
                tunnels: &[],
            };
            let mut cb = CsumCb::new(IpSummed::None);
            parse(
                &Pkt::of(&skb(v)),
                raw,
                cfg,
                &mut cb,
                &mut Layers::EMPTY.clone(),
            )
            .is_some()
        };
        assert!(!walks(vec![0; 10], false));
        let mut arp = vec![0u8; 60];
        arp[12] = 0x08;
        arp[13] = 0x06;
        assert!(!walks(arp, false));
        let mut len8023 = vec![0u8; 60];
        len8023[13] = 46;
        assert!(!walks(len8023, false));
        assert!(!walks(vec![0x45; 3], true));
    }
}
