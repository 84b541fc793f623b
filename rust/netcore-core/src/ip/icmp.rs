//! The ICMP and ICMPv6 errors the kernel sends (`__icmp_send`, `icmp6_send`): when none is
//! sent, which source and TTL it carries, how much of the offending packet it quotes, and
//! its checksums. This is the one builder: GSO's "fragmentation needed" and "packet too big"
//! go through it too.

use crate::checksum;
use crate::wire::{Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, Ipv4Address, Ipv6Address};
use crate::wire::{icmpv4, icmpv6};

/// Default TTL / hop limit of the errors (`sysctl_ip_default_ttl`, the IPv6 default hop limit).
const DEFAULT_TTL: u8 = 64;

/// ICMP types (RFC 792 and later) up to `NR_ICMP_TYPES`; an unknown type counts as an error.
const NR_ICMP_TYPES: u8 = 18;

/// An ICMP or ICMPv6 error message: type, code and the type-specific word (MTU, pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpKind {
    /// Message type.
    pub msg_type: u8,
    /// Code.
    pub code: u8,
    /// The word after the checksum: next-hop MTU, parameter-problem pointer, or 0.
    pub rest: u32,
}

impl IcmpKind {
    /// ICMP destination unreachable with `code` (0 network, 1 host, 13 administratively
    /// prohibited, …).
    #[must_use]
    pub const fn dest_unreach(code: u8) -> IcmpKind {
        IcmpKind {
            msg_type: 3,
            code,
            rest: 0,
        }
    }

    /// ICMP "fragmentation needed and DF set" with the next-hop MTU (RFC 1191).
    #[must_use]
    pub const fn frag_needed(mtu: u16) -> IcmpKind {
        IcmpKind {
            msg_type: 3,
            code: icmpv4::code::FRAG_NEEDED,
            rest: mtu as u32,
        }
    }

    /// ICMP time exceeded in transit (TTL reached 0, `ICMP_EXC_TTL`).
    #[must_use]
    pub const fn ttl_exceeded() -> IcmpKind {
        IcmpKind {
            msg_type: 11,
            code: icmpv4::code::TTL_EXCEEDED,
            rest: 0,
        }
    }

    /// ICMPv6 destination unreachable with `code` (0 no route, 1 prohibited, 3 address
    /// unreachable, …).
    #[must_use]
    pub const fn v6_dest_unreach(code: u8) -> IcmpKind {
        IcmpKind {
            msg_type: 1,
            code,
            rest: 0,
        }
    }

    /// ICMPv6 packet too big with the next-hop MTU (RFC 4443 section 3.2).
    #[must_use]
    pub const fn v6_pkt_too_big(mtu: u32) -> IcmpKind {
        IcmpKind {
            msg_type: 2,
            code: 0,
            rest: mtu,
        }
    }

    /// ICMPv6 hop limit exceeded in transit (`ICMPV6_EXC_HOPLIMIT`).
    #[must_use]
    pub const fn v6_hop_limit_exceeded() -> IcmpKind {
        IcmpKind {
            msg_type: 3,
            code: 0,
            rest: 0,
        }
    }

    /// ICMPv6 parameter problem with `code` (0 header field, 1 next header, 2 option) at
    /// byte `pointer` of the offending packet.
    #[must_use]
    pub const fn v6_param_problem(code: u8, pointer: u32) -> IcmpKind {
        IcmpKind {
            msg_type: 4,
            code,
            rest: pointer,
        }
    }
}

/// Whether ICMP type `t` is an error message in the kernel's `icmp_pointers` table (unknown
/// types included, "Assume any unknown ICMP type is an error").
fn icmp_type_is_error(t: u8) -> bool {
    t > NR_ICMP_TYPES || matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// The ICMP error `kind` about the IPv4 packet `offending` (starting at its IP header), sent
/// from `src` with IP ID `ident`, as a whole IPv4 packet. `None` when `__icmp_send` sends
/// nothing:
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
/// `IP_PMTUDISC_DONT`). Subnet-directed broadcasts, link-layer broadcasts and rate limiting
/// (`icmp_global_allow`, `icmpv4_xrlim_allow`) are the caller's business.
#[must_use]
pub fn icmp_error(
    offending: &[u8],
    kind: IcmpKind,
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
    let repr = Icmpv4Repr::Error {
        msg_type: icmpv4::Message(kind.msg_type),
        code: kind.code,
        rest: kind.rest,
        invoking: icmpv4::invoking_prefix(o),
    };
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
/// error (type below 128), or an ICMPv6 header that cannot be read outside a fragment. A
/// later fragment (whose upper-layer header is elsewhere) and an unreadable chain are
/// eligible.
fn is_ineligible(o: &[u8]) -> bool {
    let Some(upper) = super::ipv6_upper_layer(o) else {
        return false;
    };
    if upper.proto != 58 || upper.is_later_fragment() {
        return false;
    }
    match o.get(upper.offset) {
        Some(&t) => t & 0x80 == 0,
        None => upper.frag == 0,
    }
}

/// The ICMPv6 error `kind` about the IPv6 packet `offending` (starting at its IPv6 header),
/// sent from `src`, as a whole IPv6 packet. `None` when `icmp6_send` sends nothing: no
/// readable IPv6 header, a source no reply can go to (the unspecified address or a multicast
/// one), an offending packet that is itself an ICMPv6 error (`is_ineligible`), or a multicast
/// destination unless the error is "packet too big" or a parameter problem about an
/// unrecognised option (RFC 4443 section 2.4 (e.3)). The error quotes as much of the
/// offending packet as fits 1280 bytes (1232), hop limit 64, traffic class and flow label 0.
#[must_use]
pub fn icmpv6_error(offending: &[u8], kind: IcmpKind, src: &Ipv6Address) -> Option<Vec<u8>> {
    let o = offending;
    if o.len() < 40 || o[0] >> 4 != 6 {
        return None;
    }
    let osrc = Ipv6Address::from_bytes(&o[8..24])?;
    let odst = Ipv6Address::from_bytes(&o[24..40])?;
    if osrc.is_unspecified() || osrc.is_multicast() {
        return None;
    }
    let multicast_ok = kind.msg_type == 2 || (kind.msg_type == 4 && kind.code == 2);
    if odst.is_multicast() && !multicast_ok {
        return None;
    }
    if is_ineligible(o) {
        return None;
    }
    let repr = Icmpv6Repr::Error {
        msg_type: icmpv6::Message(kind.msg_type),
        code: kind.code,
        rest: kind.rest,
        invoking: icmpv6::invoking_prefix(o),
    };
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
