//! What rules see of a packet: the fields nft's matchers read, gathered once per packet.

use super::hook::Family;
use crate::ip::ipv6_upper_layer;

/// The prefix of IPv4-mapped IPv6 addresses (`::ffff:0:0/96`), under which IPv4 addresses
/// are stored.
pub const V4_MAPPED: u128 = 0xffff_u128 << 32;

/// Stores an IPv4 address as its IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
#[must_use]
pub const fn v4_mapped(addr: [u8; 4]) -> u128 {
    V4_MAPPED | u32::from_be_bytes(addr) as u128
}

/// The fields of an IP packet that rules match on.
///
/// Addresses are `u128` in network order: IPv6 addresses as they are, IPv4 addresses
/// IPv4-mapped (`::ffff:a.b.c.d`, see [`v4_mapped`]); `family` tells which. Ports and TCP
/// flags are only present ([`has_ports`](Self::has_ports), [`has_tcp_flags`](Self::has_tcp_flags))
/// when the transport header is in the packet and the packet is not a later fragment: like
/// nft, a transport match then fails (whether or not it is negated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketInfo {
    /// IPv4 or IPv6 (`meta nfproto`); `None` for a packet that is not IP (an ingress hook
    /// may see one), which only matches rules on devices, mark and length.
    pub family: Option<Family>,
    /// Source address (IPv4-mapped for IPv4).
    pub saddr: u128,
    /// Destination address (IPv4-mapped for IPv4).
    pub daddr: u128,
    /// Transport protocol (`meta l4proto`: IPv6 after the extension headers).
    pub l4proto: u8,
    /// The packet carries a readable transport header with ports.
    pub has_ports: bool,
    /// The packet carries a readable TCP header.
    pub has_tcp_flags: bool,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// TCP flags (FIN 0x01 … CWR 0x80).
    pub tcp_flags: u8,
    /// The packet's length from its IP header on, as its header gives it (`meta length`:
    /// `skb->len` once `ip_rcv` trimmed the padding): the IPv4 total length, or 40 plus the
    /// IPv6 payload length; the buffer's length when the header says 0 (jumbograms).
    pub length: u32,
    /// Input device index, 0 for none (`iif`).
    pub iif: u32,
    /// Output device index, 0 for none (`oif`).
    pub oif: u32,
    /// Packet mark (`meta mark`).
    pub mark: u32,
}

/// Transport protocols whose header starts with source and destination ports: TCP, UDP,
/// DCCP, UDP-Lite, SCTP.
const fn has_port_header(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 33 | 136 | 132)
}

impl PacketInfo {
    /// Reads the fields of `ip_packet` (starting at its IP header, of family `family`), as
    /// `nft_set_pktinfo_ipv4` / `nft_set_pktinfo_ipv6` do. `None` when the IP header is not
    /// in the buffer or does not match the family. `iif`,
    /// `oif` and `mark` start at 0 for the caller to fill.
    #[must_use]
    pub fn parse(ip_packet: &[u8], family: Family) -> Option<PacketInfo> {
        let p = ip_packet;
        let mut info = PacketInfo {
            family: Some(family),
            ..PacketInfo::default()
        };
        let (proto, l4) = match family {
            Family::Ipv4 => {
                if p.len() < 20 || p[0] >> 4 != 4 {
                    return None;
                }
                let ihl = usize::from(p[0] & 0x0f) * 4;
                info.saddr = v4_mapped([p[12], p[13], p[14], p[15]]);
                info.daddr = v4_mapped([p[16], p[17], p[18], p[19]]);
                info.l4proto = p[9];
                info.length = match u16::from_be_bytes([p[2], p[3]]) {
                    0 => p.len() as u32,
                    tot => u32::from(tot),
                };
                let later_fragment = u16::from_be_bytes([p[6], p[7]]) & 0x1fff != 0;
                (p[9], (ihl >= 20 && !later_fragment).then_some(ihl))
            }
            Family::Ipv6 => {
                if p.len() < 40 || p[0] >> 4 != 6 {
                    return None;
                }
                info.saddr = u128::from_be_bytes(p[8..24].try_into().ok()?);
                info.daddr = u128::from_be_bytes(p[24..40].try_into().ok()?);
                info.length = match u16::from_be_bytes([p[4], p[5]]) {
                    0 => p.len() as u32,
                    plen => 40 + u32::from(plen),
                };
                match ipv6_upper_layer(p) {
                    Some(u) => {
                        info.l4proto = u.proto;
                        (u.proto, (!u.is_later_fragment()).then_some(u.offset))
                    }
                    None => (0, None),
                }
            }
        };
        if let Some(t) = l4.and_then(|at| p.get(at..)) {
            if has_port_header(proto) && t.len() >= 4 {
                info.has_ports = true;
                info.sport = u16::from_be_bytes([t[0], t[1]]);
                info.dport = u16::from_be_bytes([t[2], t[3]]);
            }
            if proto == 6 && t.len() >= 14 {
                info.has_tcp_flags = true;
                info.tcp_flags = t[13];
            }
        }
        Some(info)
    }

    /// Like [`parse`](Self::parse), with the family read from the version nibble.
    #[must_use]
    pub fn parse_any(ip_packet: &[u8]) -> Option<PacketInfo> {
        PacketInfo::parse(ip_packet, Family::of_packet(ip_packet)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp4(frag: u16) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&40u16.to_be_bytes());
        p[6..8].copy_from_slice(&frag.to_be_bytes());
        p[9] = 6;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[192, 168, 1, 2]);
        p[20..24].copy_from_slice(&[0x30, 0x39, 0, 22]);
        p[33] = 0x12;
        p
    }

    #[test]
    fn ipv4_fields() {
        let i = PacketInfo::parse(&tcp4(0), Family::Ipv4).unwrap();
        assert_eq!(i.family, Some(Family::Ipv4));
        assert_eq!(i.saddr, 0xffff_0a00_0001);
        assert_eq!(i.daddr, v4_mapped([192, 168, 1, 2]));
        assert_eq!((i.l4proto, i.sport, i.dport), (6, 12345, 22));
        assert!(i.has_ports && i.has_tcp_flags);
        assert_eq!((i.tcp_flags, i.length), (0x12, 40));
        // A later fragment has a protocol but no ports or flags.
        let f = PacketInfo::parse(&tcp4(0x0001), Family::Ipv4).unwrap();
        assert_eq!(f.l4proto, 6);
        assert!(!f.has_ports && !f.has_tcp_flags);
        // A truncated TCP header has ports but no flags.
        let t = PacketInfo::parse(&tcp4(0)[..30], Family::Ipv4).unwrap();
        assert!(t.has_ports && !t.has_tcp_flags);
        assert_eq!(PacketInfo::parse(&tcp4(0), Family::Ipv6), None);
        assert_eq!(PacketInfo::parse(&tcp4(0)[..19], Family::Ipv4), None);
    }

    #[test]
    fn ipv6_walks_extension_headers() {
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[6] = 60; // destination options, then UDP
        p[8] = 0x20;
        p[39] = 1;
        p.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[0, 53, 0x13, 0x88, 0, 8, 0, 0]);
        let i = PacketInfo::parse_any(&p).unwrap();
        assert_eq!(i.family, Some(Family::Ipv6));
        assert_eq!((i.l4proto, i.sport, i.dport), (17, 53, 5000));
        assert_eq!(i.saddr >> 120, 0x20);
        assert_eq!(i.daddr, 1);
        assert!(!i.has_tcp_flags);
    }
}
