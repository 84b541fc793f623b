//! The ICMP errors the kernel sends when a packet is too big for the next hop: "fragmentation
//! needed" (`__icmp_send` with `ICMP_DEST_UNREACH`, `ICMP_FRAG_NEEDED`) and "packet too big"
//! (`icmp6_send` with `ICMPV6_PKT_TOOBIG`), with the kernel's rules on when not to send and on
//! how much of the offending packet to quote.

use crate::checksum;
use crate::wire::{
    Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, Ipv4Address, Ipv6Address, icmpv4, icmpv6,
};

/// Most bytes of the offending IPv4 packet quoted: the error may not exceed 576 bytes, less its
/// IPv4 and ICMP headers (`room = 576 - sizeof(iphdr) - sizeof(icmphdr)` in `__icmp_send`,
/// the reply carrying no IP options).
pub(super) const V4_QUOTE_MAX: usize = icmpv4::MAX_INVOKING_LEN;

/// Most bytes of the offending IPv6 packet quoted: the error may not exceed the IPv6 minimum
/// MTU, less its IPv6 and ICMPv6 headers (`IPV6_MIN_MTU - sizeof(ipv6hdr) - sizeof(icmp6hdr)`
/// in `icmp6_send`).
pub(super) const V6_QUOTE_MAX: usize = icmpv6::MAX_INVOKING_LEN;

/// Default TTL / hop limit of the errors (`sysctl_ip_default_ttl`, the IPv6 default hop limit).
const DEFAULT_TTL: u8 = 64;

/// ICMP types (RFC 792 and later) up to `NR_ICMP_TYPES`; an unknown type counts as an error.
const NR_ICMP_TYPES: u8 = 18;

/// Whether ICMP type `t` is an error message in the kernel's `icmp_pointers` table (unknown
/// types included, "Assume any unknown ICMP type is an error").
fn icmp_type_is_error(t: u8) -> bool {
    t > NR_ICMP_TYPES || matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// The ICMP "fragmentation needed" error (type 3 code 4, next-hop MTU `mtu`) for the IPv4
/// packet `offending` (starting at its IP header), sent from `src` with IP ID `ident`, as a
/// whole IPv4 packet. `None` when `__icmp_send` sends nothing:
/// - the offending packet has no readable IPv4 header;
/// - it is a fragment other than the first ("Only reply to fragment 0");
/// - it went to a multicast or the limited broadcast address, or came from an address no
///   reply can go to (0.0.0.0, multicast, broadcast);
/// - it is itself an ICMP error, or an ICMP message whose type cannot be read ("If we send an
///   ICMP error to an ICMP error a mess would result").
///
/// The error quotes as much of the offending packet as fits 576 bytes (548), its TOS is the
/// offending TOS bits with precedence "internetwork control" (`RT_TOS(tos) |
/// IPTOS_PREC_INTERNETCONTROL`), TTL 64, DF clear (the ICMP socket uses
/// `IP_PMTUDISC_DONT`). Rate limiting (`icmp_global_allow`, `icmpv4_xrlim_allow`) is the
/// caller's business.
#[must_use]
pub fn icmp_frag_needed(
    offending: &[u8],
    mtu: u16,
    src: Ipv4Address,
    ident: u16,
) -> Option<Vec<u8>> {
    let o = offending;
    if o.len() < 20 || o[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(o[0] & 0x0f) * 4;
    if ihl < 20 || o.len() < ihl {
        return None;
    }
    if u16::from_be_bytes([o[6], o[7]]) & 0x1fff != 0 {
        return None;
    }
    let osrc = Ipv4Address([o[12], o[13], o[14], o[15]]);
    let odst = Ipv4Address([o[16], o[17], o[18], o[19]]);
    if odst.is_multicast() || odst.is_broadcast() {
        return None;
    }
    if osrc.is_unspecified() || osrc.is_multicast() || osrc.is_broadcast() {
        return None;
    }
    if o[9] == 1 {
        match o.get(ihl) {
            Some(&t) if !icmp_type_is_error(t) => {}
            _ => return None,
        }
    }
    let quote = icmpv4::invoking_prefix(o);
    let repr = Icmpv4Repr::frag_needed(mtu, quote);
    let total = 20 + repr.buffer_len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[1] = (o[1] & 0x1e) | 0xc0;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    p[8] = DEFAULT_TTL;
    p[9] = 1;
    p[12..16].copy_from_slice(&src.0);
    p[16..20].copy_from_slice(&osrc.0);
    let c = checksum::checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut p[20..]))
        .ok()?;
    Some(p)
}

/// Whether `icmp6_send`'s `is_ineligible` holds for the IPv6 packet `o`: it carries an ICMPv6
/// error (type below 128), or an ICMPv6 header that cannot be read outside a fragment. The
/// walk is `ipv6_skip_exthdr`'s: it stops at a non-first fragment (whose upper-layer header is
/// elsewhere) and at an unreadable header, and both make the packet eligible.
fn is_ineligible(o: &[u8]) -> bool {
    let mut nh = o[6];
    let mut at = 40;
    // The raw fragment offset field of the last fragment header, M flag included.
    let mut frag_raw = 0u16;
    while matches!(nh, 0 | 43 | 60 | 51 | 44) {
        let (Some(&next), Some(&len)) = (o.get(at), o.get(at + 1)) else {
            return false;
        };
        let hlen = match nh {
            44 => {
                let Some(b) = o.get(at + 2..at + 4) else {
                    return false;
                };
                frag_raw = u16::from_be_bytes([b[0], b[1]]);
                if frag_raw & !7 != 0 {
                    return false;
                }
                8
            }
            51 => (usize::from(len) + 2) * 4,
            _ => (usize::from(len) + 1) * 8,
        };
        nh = next;
        at += hlen;
    }
    if nh != 58 {
        return false;
    }
    match o.get(at) {
        Some(&t) => t & 0x80 == 0,
        None => frag_raw == 0,
    }
}

/// The ICMPv6 "packet too big" error (type 2, MTU `mtu`) for the IPv6 packet `offending`
/// (starting at its IPv6 header), sent from `src`, as a whole IPv6 packet. `None` when
/// `icmp6_send` sends nothing: no readable IPv6 header, a source no reply can go to (the
/// unspecified address or a multicast one), or an offending packet that is itself an ICMPv6
/// error (`is_ineligible`). A multicast destination does not prevent the error: RFC 4443
/// section 2.4 (e.3) makes "packet too big" the exception. The error quotes as much of the
/// offending packet as fits 1280 bytes (1232), hop limit 64, traffic class and flow label 0.
#[must_use]
pub fn icmpv6_pkt_too_big(offending: &[u8], mtu: u32, src: &Ipv6Address) -> Option<Vec<u8>> {
    let o = offending;
    if o.len() < 40 || o[0] >> 4 != 6 {
        return None;
    }
    let osrc = Ipv6Address::from_bytes(&o[8..24])?;
    if osrc.is_unspecified() || osrc.is_multicast() {
        return None;
    }
    if is_ineligible(o) {
        return None;
    }
    let quote = icmpv6::invoking_prefix(o);
    let repr = Icmpv6Repr::packet_too_big(mtu, quote);
    let plen = repr.buffer_len();
    let mut p = vec![0u8; 40 + plen];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(plen as u16).to_be_bytes());
    p[6] = 58;
    p[7] = DEFAULT_TTL;
    p[8..24].copy_from_slice(&src.0);
    p[24..40].copy_from_slice(&osrc.0);
    repr.emit_v6(&mut Icmpv6Packet::new_unchecked(&mut p[40..]), src, &osrc)
        .ok()?;
    Some(p)
}
