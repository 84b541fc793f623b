//! The ICMP errors the kernel sends when a packet is too big for the next hop: "fragmentation
//! needed" (`__icmp_send` with `ICMP_DEST_UNREACH`, `ICMP_FRAG_NEEDED`) and "packet too big"
//! (`icmp6_send` with `ICMPV6_PKT_TOOBIG`). The one ICMP error builder is
//! [`crate::ip::icmp`]; these name the two errors GSO needs.

use crate::ip::icmp::{IcmpKind, icmp_error, icmpv6_error};
use crate::wire::{Ipv4Address, Ipv6Address, icmpv4, icmpv6};

/// Most bytes of the offending IPv4 packet quoted: the error may not exceed 576 bytes, less its
/// IPv4 and ICMP headers (`room = 576 - sizeof(iphdr) - sizeof(icmphdr)` in `__icmp_send`,
/// the reply carrying no IP options).
pub(super) const V4_QUOTE_MAX: usize = icmpv4::MAX_INVOKING_LEN;

/// Most bytes of the offending IPv6 packet quoted: the error may not exceed the IPv6 minimum
/// MTU, less its IPv6 and ICMPv6 headers (`IPV6_MIN_MTU - sizeof(ipv6hdr) - sizeof(icmp6hdr)`
/// in `icmp6_send`).
pub(super) const V6_QUOTE_MAX: usize = icmpv6::MAX_INVOKING_LEN;

/// The ICMP "fragmentation needed" error (type 3 code 4, next-hop MTU `mtu`) for the IPv4
/// packet `offending` (starting at its IP header), sent from `src` with IP ID `ident`, as a
/// whole IPv4 packet; `None` when `__icmp_send` sends nothing (see [`icmp_error`]).
#[must_use]
pub fn icmp_frag_needed(
    offending: &[u8],
    mtu: u16,
    src: Ipv4Address,
    ident: u16,
) -> Option<Vec<u8>> {
    icmp_error(offending, IcmpKind::frag_needed(mtu), src, ident)
}

/// The ICMPv6 "packet too big" error (type 2, MTU `mtu`) for the IPv6 packet `offending`
/// (starting at its IPv6 header), sent from `src`, as a whole IPv6 packet; `None` when
/// `icmp6_send` sends nothing (see [`icmpv6_error`]). A multicast destination does not
/// prevent it: RFC 4443 section 2.4 (e.3) makes "packet too big" the exception.
#[must_use]
pub fn icmpv6_pkt_too_big(offending: &[u8], mtu: u32, src: &Ipv6Address) -> Option<Vec<u8>> {
    icmpv6_error(offending, IcmpKind::v6_pkt_too_big(mtu), src)
}
