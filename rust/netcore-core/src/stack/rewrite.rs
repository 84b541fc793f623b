//! Rewriting a packet's addresses and ports with its checksums kept right incrementally
//! (RFC 1624), as NAT and `nft ... snat/dnat/mangle` do in the kernel
//! (`csum_replace4`, `inet_proto_csum_replace4`, `inet_proto_csum_replace2`).

use std::net::IpAddr;

use crate::checksum::{self, IpSummed};
use crate::skb::Skb;

/// One change a hook asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// New source address (same family as the packet).
    Src(IpAddr),
    /// New destination address.
    Dst(IpAddr),
    /// New TCP/UDP/SCTP source port.
    Sport(u16),
    /// New destination port.
    Dport(u16),
    /// New firewall mark (`skb->mark`).
    Mark(u32),
    /// New queueing priority (`skb->priority`).
    Priority(u32),
}

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The packet has no IP header where its network header is set.
    #[error("not an IP packet")]
    NotIp,
    /// The address family differs from the packet's.
    #[error("address family differs from the packet's")]
    Family,
    /// No transport header with ports (not TCP/UDP/SCTP, or a later fragment).
    #[error("no transport ports in this packet")]
    NoPorts,
    /// The headers are cut short.
    #[error("headers cut short")]
    Truncated,
}

/// Where the edited fields are, from the network header.
struct Layout {
    v6: bool,
    l4: usize,
    proto: u8,
    /// The transport header is present (not a later fragment).
    has_l4: bool,
}

fn layout(d: &[u8]) -> Result<Layout, RewriteError> {
    match d.first().map(|b| b >> 4) {
        Some(4) => {
            let ihl = usize::from(d[0] & 0x0f) * 4;
            if ihl < 20 || d.len() < ihl {
                return Err(RewriteError::Truncated);
            }
            let frag_off = u16::from_be_bytes([d[6], d[7]]) & 0x1fff;
            Ok(Layout {
                v6: false,
                l4: ihl,
                proto: d[9],
                has_l4: frag_off == 0,
            })
        }
        Some(6) => {
            if d.len() < 40 {
                return Err(RewriteError::Truncated);
            }
            let up = crate::ip::ipv6_upper_layer(d).ok_or(RewriteError::Truncated)?;
            Ok(Layout {
                v6: true,
                l4: up.offset,
                proto: up.proto,
                has_l4: !up.is_later_fragment(),
            })
        }
        _ => Err(RewriteError::NotIp),
    }
}

/// Offset of the transport checksum from the transport header, and whether the
/// pseudo-header covers addresses (`ICMPv4` has no pseudo-header; SCTP uses CRC32c, which an
/// address change does not touch).
fn l4_check(proto: u8, v6: bool) -> Option<(usize, bool)> {
    match proto {
        6 => Some((16, true)),
        17 | 136 => Some((6, true)),
        58 if v6 => Some((2, true)),
        _ => None,
    }
}

/// Applies `edit` to `skb`, whose network header must be set; checksums stay valid (or, for a
/// `CHECKSUM_PARTIAL` packet, the seed the device will finish stays right).
pub fn apply(skb: &mut Skb, edit: Edit) -> Result<(), RewriteError> {
    match edit {
        Edit::Mark(m) => {
            skb.meta.mark = m;
            return Ok(());
        }
        Edit::Priority(p) => {
            skb.meta.priority = p;
            return Ok(());
        }
        _ => {}
    }
    let nh = skb
        .network_offset()
        .and_then(|o| usize::try_from(o).ok())
        .ok_or(RewriteError::NotIp)?;
    let partial = matches!(skb.meta.ip_summed, IpSummed::Partial { .. });
    let mut d = skb.data_mut().map_err(|_| RewriteError::Truncated)?;
    d = d.get_mut(nh..).ok_or(RewriteError::Truncated)?;
    let lay = layout(d)?;
    match edit {
        Edit::Src(a) | Edit::Dst(a) => set_addr(d, &lay, matches!(edit, Edit::Src(_)), a, partial),
        Edit::Sport(p) | Edit::Dport(p) => {
            set_port(d, &lay, matches!(edit, Edit::Sport(_)), p, partial)
        }
        Edit::Mark(_) | Edit::Priority(_) => Ok(()),
    }
}

fn set_addr(
    d: &mut [u8],
    lay: &Layout,
    src: bool,
    a: IpAddr,
    partial: bool,
) -> Result<(), RewriteError> {
    let (off, new): (usize, Vec<u8>) = match (a, lay.v6) {
        (IpAddr::V4(a), false) => (if src { 12 } else { 16 }, a.octets().to_vec()),
        (IpAddr::V6(a), true) => (if src { 8 } else { 24 }, a.octets().to_vec()),
        _ => return Err(RewriteError::Family),
    };
    let old = d[off..off + new.len()].to_vec();
    let (old_sum, new_sum) = (checksum::partial(&old, 0), checksum::partial(&new, 0));
    d[off..off + new.len()].copy_from_slice(&new);
    if !lay.v6 {
        // csum_replace4 on the IPv4 header checksum.
        let c = u16::from_be_bytes([d[10], d[11]]);
        let c = replace(c, old_sum, new_sum);
        d[10..12].copy_from_slice(&c.to_be_bytes());
    }
    if lay.has_l4
        && let Some((at, true)) = l4_check(lay.proto, lay.v6)
    {
        let at = lay.l4 + at;
        let Some(field) = d.get_mut(at..at + 2) else {
            return Err(RewriteError::Truncated);
        };
        let c = u16::from_be_bytes([field[0], field[1]]);
        let udp = lay.proto == 17 || lay.proto == 136;
        let c = if partial {
            // inet_proto_csum_replace4 with pseudohdr on a CHECKSUM_PARTIAL packet: the
            // field holds the folded pseudo-header sum (not complemented) for the device.
            !replace(!c, old_sum, new_sum)
        } else if udp && !lay.v6 && c == 0 {
            // An IPv4 UDP datagram without a checksum keeps none (udp_manip_pkt).
            return Ok(());
        } else {
            mangled_0(replace(c, old_sum, new_sum), udp)
        };
        field.copy_from_slice(&c.to_be_bytes());
    }
    Ok(())
}

fn set_port(
    d: &mut [u8],
    lay: &Layout,
    src: bool,
    port: u16,
    partial: bool,
) -> Result<(), RewriteError> {
    if !lay.has_l4 || !matches!(lay.proto, 6 | 17 | 132 | 136) {
        return Err(RewriteError::NoPorts);
    }
    let off = lay.l4 + if src { 0 } else { 2 };
    let Some(f) = d.get_mut(off..off + 2) else {
        return Err(RewriteError::Truncated);
    };
    let old = u16::from_be_bytes([f[0], f[1]]);
    f.copy_from_slice(&port.to_be_bytes());
    if lay.proto == 132 {
        // SCTP's CRC32c covers the ports: recomputed whole (sctp_manip_pkt).
        let Some(sctp) = d.get_mut(lay.l4..) else {
            return Err(RewriteError::Truncated);
        };
        if sctp.len() >= 12 {
            sctp[8..12].fill(0);
            let crc = checksum::crc32c(sctp);
            sctp[8..12].copy_from_slice(&crc.to_le_bytes());
        }
        return Ok(());
    }
    // Ports are not in the pseudo-header: a CHECKSUM_PARTIAL seed is unaffected
    // (inet_proto_csum_replace2 with pseudohdr false).
    if partial {
        return Ok(());
    }
    let (at, _) = l4_check(lay.proto, lay.v6).ok_or(RewriteError::NoPorts)?;
    let at = lay.l4 + at;
    let Some(field) = d.get_mut(at..at + 2) else {
        return Err(RewriteError::Truncated);
    };
    let c = u16::from_be_bytes([field[0], field[1]]);
    let udp = lay.proto != 6;
    if udp && !lay.v6 && c == 0 {
        return Ok(());
    }
    let c = mangled_0(checksum::update16(c, old, port), udp);
    field.copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// RFC 1624 eqn. 3 with the changed words given as partial sums.
fn replace(check: u16, old_sum: u32, new_sum: u32) -> u16 {
    checksum::fold(checksum::add(
        checksum::sub(u32::from(!check), old_sum),
        new_sum,
    ))
}

/// A UDP checksum that comes out 0 is sent as 0xffff (`CSUM_MANGLED_0`, RFC 768).
fn mangled_0(c: u16, udp: bool) -> u16 {
    if udp && c == 0 { 0xffff } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4_tcp() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 44, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 192, 168, 1, 2,
        ];
        p.extend([
            0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
        ]);
        p.extend(b"data");
        let c = checksum::checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        fix_l4(&mut p, false);
        p
    }

    fn v6_udp() -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0, 0, 12, 17, 64];
        p.extend(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
        p.extend(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets());
        p.extend([0x13, 0x88, 0x00, 0x35, 0, 12, 0, 0, 1, 2, 3, 4]);
        fix_l4(&mut p, true);
        p
    }

    /// The transport header's offset and the pseudo-header sum of the IP packet `p`
    /// (computed independently of the code under test).
    fn l4_and_pseudo(p: &[u8], v6: bool) -> (usize, u32) {
        let (l4, proto) = if v6 {
            (40, p[6])
        } else {
            (usize::from(p[0] & 15) * 4, p[9])
        };
        let len = p.len() - l4;
        let pseudo = if v6 {
            checksum::pseudo_v6(
                p[8..24].try_into().unwrap(),
                p[24..40].try_into().unwrap(),
                proto,
                len as u32,
            )
        } else {
            checksum::pseudo_v4(
                p[12..16].try_into().unwrap(),
                p[16..20].try_into().unwrap(),
                proto,
                len as u16,
            )
        };
        (l4, pseudo)
    }

    /// Independent full recomputation of the transport checksum.
    fn l4_ok(p: &[u8], v6: bool) -> bool {
        let (l4, pseudo) = l4_and_pseudo(p, v6);
        checksum::verify_with(&p[l4..], pseudo)
    }

    fn fix_l4(p: &mut [u8], v6: bool) {
        let (l4, pseudo) = l4_and_pseudo(p, v6);
        let proto = if v6 { p[6] } else { p[9] };
        let at = l4 + if proto == 6 { 16 } else { 6 };
        p[at..at + 2].fill(0);
        let c = checksum::fold(checksum::partial(&p[l4..], pseudo));
        p[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }

    fn skb(p: &[u8]) -> Skb {
        let mut s = Skb::from_slice(p).unwrap();
        s.reset_network_header().unwrap();
        s
    }

    #[test]
    fn ipv4_nat_keeps_every_checksum_valid() {
        let mut s = skb(&v4_tcp());
        apply(&mut s, Edit::Src(Ipv4Addr::new(203, 0, 113, 7).into())).unwrap();
        apply(&mut s, Edit::Dport(8080)).unwrap();
        let d = s.data();
        assert_eq!(&d[12..16], &[203, 0, 113, 7]);
        assert_eq!(u16::from_be_bytes([d[22], d[23]]), 8080);
        assert!(checksum::verify(&d[..20]), "IPv4 header checksum");
        assert!(l4_ok(d, false), "TCP checksum");
    }

    #[test]
    fn ipv6_udp_rewrite_and_family_mismatch() {
        let mut s = skb(&v6_udp());
        apply(&mut s, Edit::Dst(Ipv6Addr::LOCALHOST.into())).unwrap();
        apply(&mut s, Edit::Sport(1)).unwrap();
        assert!(l4_ok(s.data(), true));
        assert_eq!(
            apply(&mut s, Edit::Src(Ipv4Addr::LOCALHOST.into())),
            Err(RewriteError::Family)
        );
    }

    #[test]
    fn ipv4_udp_without_checksum_keeps_none() {
        let mut p = vec![
            0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend([0, 53, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4]);
        let c = checksum::checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        let mut s = skb(&p);
        apply(&mut s, Edit::Dst(Ipv4Addr::new(10, 9, 9, 9).into())).unwrap();
        apply(&mut s, Edit::Dport(5353)).unwrap();
        assert_eq!(&s.data()[26..28], &[0, 0]);
        assert!(checksum::verify(&s.data()[..20]));
    }

    #[test]
    fn partial_packets_keep_their_seed_right() {
        // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not complemented.
        let mut p = v4_tcp();
        let len = (p.len() - 20) as u16;
        let seed = |p: &[u8]| {
            !checksum::fold(checksum::pseudo_v4(
                p[12..16].try_into().unwrap(),
                p[16..20].try_into().unwrap(),
                6,
                len,
            ))
        };
        let s0 = seed(&p);
        p[36..38].copy_from_slice(&s0.to_be_bytes());
        let mut s = skb(&p);
        s.meta.ip_summed = IpSummed::Partial {
            start: 20,
            offset: 16,
        };
        apply(&mut s, Edit::Dst(Ipv4Addr::new(1, 2, 3, 4).into())).unwrap();
        apply(&mut s, Edit::Sport(9)).unwrap();
        let d = s.data();
        assert_eq!(u16::from_be_bytes([d[36], d[37]]), seed(d));
    }

    #[test]
    fn ports_need_a_first_fragment() {
        let mut p = v4_tcp();
        p[6..8].copy_from_slice(&0x2001u16.to_be_bytes());
        let mut s = skb(&p);
        assert_eq!(apply(&mut s, Edit::Dport(1)), Err(RewriteError::NoPorts));
        let mut s = skb(b"\x00\x01");
        assert_eq!(apply(&mut s, Edit::Dport(1)), Err(RewriteError::NotIp));
    }
}
