//! Reading a super-packet's headers: where each one is, what segmentation applies, and the
//! checks the kernel's `gso_segment` callbacks make before they cut (`inet_gso_segment`,
//! `ipv6_gso_segment`, `tcp4_gso_segment`/`tcp6_gso_segment`, `__udp_gso_segment`,
//! `skb_udp_tunnel_segment`).

use super::{GsoError, MAX_HEADER_LEN, Result, ip};
use crate::skb::{GsoType, Header, Skb};

/// An IP header to rewrite in each segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct IpHdr {
    /// Offset from the data start.
    pub off: usize,
    /// IPv6 rather than IPv4.
    pub v6: bool,
    /// IPv4: IHL × 4. IPv6: 40 plus the extension headers up to the L4 header.
    pub hlen: usize,
    /// Partial sum of the L4 pseudo-header without its length (addresses and protocol; for
    /// IPv6 the final destination when a routing header has segments left, RFC 8200 8.1).
    pub pseudo: u32,
}

/// The outer headers of a UDP tunnel (VXLAN, Geneve).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tunnel {
    /// The outer IP header.
    pub ip: IpHdr,
    /// Offset of the outer UDP header.
    pub udp: usize,
    /// `SKB_GSO_UDP_TUNNEL_CSUM`: the outer UDP checksum is computed per segment.
    pub csum: bool,
}

/// The innermost transport header and how it is segmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum L4 {
    /// TCP (`SKB_GSO_TCPV4`/`SKB_GSO_TCPV6`), header of `hlen` bytes at `off`.
    Tcp { off: usize, hlen: usize },
    /// UDP segmentation, USO (`SKB_GSO_UDP_L4`).
    Udp { off: usize },
    /// UDP fragmentation, UFO (`SKB_GSO_UDP`): the UDP header is payload of the first fragment.
    Ufo { off: usize },
}

/// Everything segmentation needs to know about a super-packet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    /// Payload bytes per segment (`gso_size`).
    pub mss: usize,
    /// Bytes from the data start to the payload: what every segment repeats.
    pub hdr_len: usize,
    /// The IP header that carries the L4 header (the inner one in a tunnel).
    pub ip: IpHdr,
    /// The L4 header.
    pub l4: L4,
    /// Outer headers of a UDP tunnel.
    pub tunnel: Option<Tunnel>,
    /// `SKB_GSO_TCP_FIXEDID`: the inner IPv4 ID does not change across segments.
    pub fixed_id: bool,
    /// `SKB_GSO_TCP_ACCECN`: CWR is part of the ACE counter and is kept on every segment.
    pub accecn: bool,
}

impl Plan {
    /// The outermost IP header (the tunnel's, or the only one).
    pub(super) fn outer_ip(&self) -> &IpHdr {
        self.tunnel.as_ref().map_or(&self.ip, |t| &t.ip)
    }
}

/// GSO types this module does not segment: each needs a callback the kernel has and we do
/// not (GRE, IP-in-IP, SCTP, ESP, fraglist, partial GSO, remote checksum offload, `FCoE`).
const UNSUPPORTED: GsoType = GsoType::from_bits_retain(
    GsoType::FCOE.bits()
        | GsoType::GRE.bits()
        | GsoType::GRE_CSUM.bits()
        | GsoType::IPXIP4.bits()
        | GsoType::IPXIP6.bits()
        | GsoType::PARTIAL.bits()
        | GsoType::TUNNEL_REMCSUM.bits()
        | GsoType::SCTP.bits()
        | GsoType::ESP.bits()
        | GsoType::FRAGLIST.bits(),
);

/// The L4 kinds; exactly one must be set.
const L4_KINDS: [GsoType; 4] = [
    GsoType::TCPV4,
    GsoType::TCPV6,
    GsoType::UDP_L4,
    GsoType::UDP,
];

/// Offset of header `h` from the data start, when set and not before it.
fn offset(skb: &Skb, h: Header) -> Option<usize> {
    skb.header_offset(h).and_then(|o| usize::try_from(o).ok())
}

/// Reads the headers of `skb` and checks them against its GSO type.
pub(super) fn plan(skb: &Skb) -> Result<Plan> {
    let gso = skb.meta.gso;
    if gso.size == 0 {
        return Err(GsoError::NotGso);
    }
    let t = gso.gso_type;
    let (kind, tunnelled) = kind_of(t)?;

    let mut buf = [0u8; MAX_HEADER_LEN];
    let avail = skb.len().min(MAX_HEADER_LEN);
    let h = &mut buf[..avail];
    skb.copy_bits(0, h)?;
    let h = &*h;

    let net = offset(skb, Header::Network).ok_or(GsoError::Malformed("network header unset"))?;
    let trans =
        offset(skb, Header::Transport).ok_or(GsoError::Malformed("transport header unset"))?;
    let proto = if kind == GsoType::TCPV4 || kind == GsoType::TCPV6 {
        6
    } else {
        17
    };
    let (ip_hdr, l4_off, tunnel) = if tunnelled {
        // skb_udp_tunnel_segment: the tunnel header runs from the outer transport header to
        // the inner link-layer header.
        if !skb.meta.encapsulation {
            return Err(GsoError::Malformed("tunnel GSO type without encapsulation"));
        }
        let imac = offset(skb, Header::InnerMac);
        let inet = offset(skb, Header::InnerNetwork);
        let il4 = offset(skb, Header::InnerTransport);
        let (Some(imac), Some(inet), Some(il4)) = (imac, inet, il4) else {
            return Err(GsoError::Malformed("inner header offsets unset"));
        };
        if imac < trans + 8 || inet < imac || il4 <= inet {
            return Err(GsoError::Malformed("inner headers out of order"));
        }
        let outer = parse_ip(h, net, trans, 17)?;
        let inner = parse_ip(h, inet, il4, proto)?;
        let tunnel = Tunnel {
            ip: outer,
            udp: trans,
            csum: t.contains(GsoType::UDP_TUNNEL_CSUM),
        };
        (inner, il4, Some(tunnel))
    } else {
        (parse_ip(h, net, trans, proto)?, trans, None)
    };
    if (kind == GsoType::TCPV4 && ip_hdr.v6) || (kind == GsoType::TCPV6 && !ip_hdr.v6) {
        // tcp4_gso_segment / tcp6_gso_segment are reached through the matching IP version only.
        return Err(GsoError::Malformed(
            "TCP GSO type does not match the IP version",
        ));
    }
    let l4 = match kind {
        GsoType::UDP_L4 => L4::Udp { off: l4_off },
        GsoType::UDP => L4::Ufo { off: l4_off },
        _ => {
            // tcp_gso_segment: the data offset must cover at least the fixed header.
            let doff = h.get(l4_off + 12).map(|b| usize::from(b >> 4) * 4);
            match doff {
                Some(hlen) if hlen >= 20 => L4::Tcp { off: l4_off, hlen },
                Some(_) => return Err(GsoError::Malformed("TCP data offset below 5 words")),
                None => return Err(too_long_or_short(skb, l4_off + 20)),
            }
        }
    };
    let hdr_len = match l4 {
        L4::Tcp { off, hlen } => off + hlen,
        L4::Udp { off } => off + 8,
        L4::Ufo { off } => off,
    };
    if hdr_len > avail {
        return Err(too_long_or_short(skb, hdr_len));
    }
    let mss = usize::from(gso.size);
    // Every segment must be an IP packet whose length fields can say how long it is.
    let outer_net = tunnel.as_ref().map_or(ip_hdr.off, |t| t.ip.off);
    if hdr_len - outer_net + mss.min(skb.len() - hdr_len) > usize::from(u16::MAX) {
        return Err(GsoError::Malformed("segments would exceed 65535 bytes"));
    }
    if let L4::Udp { .. } = l4 {
        // __udp_gso_segment: `gso_skb->len <= sizeof(*uh) + mss` is -EINVAL; a USO packet
        // always stands for two segments or more.
        if skb.len() - hdr_len <= mss {
            return Err(GsoError::Malformed(
                "USO packet not longer than one segment",
            ));
        }
    }
    let fixed_id = t.contains(GsoType::TCP_FIXEDID) && !ip_hdr.v6;
    if fixed_id && h.get(ip_hdr.off + 6).is_none_or(|b| b & 0x40 == 0) {
        // inet_gso_segment: "fixed ID is invalid if DF bit is not set".
        return Err(GsoError::Malformed("TCP_FIXEDID on a packet without DF"));
    }
    Ok(Plan {
        mss,
        hdr_len,
        ip: ip_hdr,
        l4,
        tunnel,
        fixed_id,
        accecn: t.contains(GsoType::TCP_ACCECN),
    })
}

/// The L4 kind of GSO type `t` (exactly one of `TCPV4`, `TCPV6`, `UDP_L4`, `UDP`) and whether
/// it is tunnelled; the types `skb_mac_gso_segment` would find no callback for are refused.
fn kind_of(t: GsoType) -> Result<(GsoType, bool)> {
    if t.intersects(UNSUPPORTED) {
        return Err(GsoError::Unsupported(t));
    }
    let mut kinds = L4_KINDS.iter().filter(|k| t.contains(**k));
    let (Some(&kind), None) = (kinds.next(), kinds.next()) else {
        return Err(GsoError::Unsupported(t));
    };
    let tunnelled = t.intersects(GsoType::UDP_TUNNEL | GsoType::UDP_TUNNEL_CSUM);
    if tunnelled && kind == GsoType::UDP {
        return Err(GsoError::Unsupported(t));
    }
    Ok((kind, tunnelled))
}

/// The error for headers that end at `end`: beyond the packet, or beyond what we replicate.
fn too_long_or_short(skb: &Skb, end: usize) -> GsoError {
    if end > skb.len() {
        GsoError::Malformed("packet shorter than its headers")
    } else {
        GsoError::HeaderTooLong(end)
    }
}

/// Reads the IP header at `off` whose L4 header (protocol `proto`) starts at `l4`.
pub(super) fn parse_ip(h: &[u8], off: usize, l4: usize, proto: u8) -> Result<IpHdr> {
    let Some(&vihl) = h.get(off) else {
        return Err(GsoError::Malformed("network header beyond the packet"));
    };
    match vihl >> 4 {
        4 => {
            let hlen = usize::from(vihl & 0x0f) * 4;
            if hlen < 20 || h.len() < off + hlen {
                return Err(GsoError::Malformed("bad IPv4 header length"));
            }
            if off + hlen != l4 {
                return Err(GsoError::Malformed(
                    "transport header does not follow the IPv4 header",
                ));
            }
            if h[off + 9] != proto {
                return Err(GsoError::Malformed(
                    "IP protocol does not match the GSO type",
                ));
            }
            let src = [h[off + 12], h[off + 13], h[off + 14], h[off + 15]];
            let dst = [h[off + 16], h[off + 17], h[off + 18], h[off + 19]];
            Ok(IpHdr {
                off,
                v6: false,
                hlen,
                pseudo: crate::checksum::pseudo_v4(src, dst, proto, 0),
            })
        }
        6 => {
            if h.len() < off + 40 || l4 < off + 40 {
                return Err(GsoError::Malformed("bad IPv6 header length"));
            }
            let Some((nh, dst)) = ip::walk6(h, off, l4) else {
                return Err(GsoError::Malformed(
                    "IPv6 extension headers do not end at L4",
                ));
            };
            if nh != proto {
                return Err(GsoError::Malformed(
                    "IP protocol does not match the GSO type",
                ));
            }
            let mut src = [0u8; 16];
            src.copy_from_slice(&h[off + 8..off + 24]);
            Ok(IpHdr {
                off,
                v6: true,
                hlen: l4 - off,
                pseudo: crate::checksum::pseudo_v6(&src, &dst, proto, 0),
            })
        }
        _ => Err(GsoError::Malformed("not an IPv4 or IPv6 header")),
    }
}
