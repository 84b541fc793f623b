//! Forwarding (`ip_forward`, `ip6_forward`): the TTL or hop limit, the egress MTU, and the
//! ICMP errors the kernel sends when a packet cannot go on.

use std::net::IpAddr;

use super::icmp::{IcmpKind, icmp_error, icmpv6_error};
use crate::checksum;
use crate::drop_reason::DropReason;
use crate::wire::{Ipv4Address, Ipv6Address};

/// Smallest MTU an IPv6 link has (`IPV6_MIN_MTU`): the MTU used against packets never drops
/// below it.
const IPV6_MIN_MTU: u32 = 1280;

/// What forwarding did with a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forwarded {
    /// The TTL or hop limit was decremented (and the IPv4 checksum updated): send it on.
    Forward,
    /// An IPv4 packet without DF, larger than the MTU: the TTL was decremented; it goes to
    /// the fragmenter (`ip_finish_output` → `ip_fragment`).
    NeedsFragmentation,
    /// Dropped with `reason`; `icmp` is the whole error packet to send back to the source, if
    /// the kernel sends one (an error about an error, a later fragment or a multicast
    /// destination is never sent).
    Dropped {
        /// Why.
        reason: DropReason,
        /// The ICMP or ICMPv6 error packet, starting at its IP header.
        icmp: Option<Vec<u8>>,
    },
}

/// Forwards the IP datagram `pkt` (starting at its IP header, trimmed to its length, already
/// checked by [`ipv4_rcv`](super::ipv4_rcv) / [`ipv6_rcv`](super::ipv6_rcv)) toward a link
/// of MTU `mtu`, in `ip_forward`'s order:
/// 1. TTL ≤ 1 (hop limit ≤ 1): dropped with `IP_TTL_EXCEEDED` and an ICMP time exceeded
///    (ICMPv6 hop limit exceeded);
/// 2. larger than the MTU: IPv4 with DF set, dropped with `PKT_TOO_BIG` and ICMP
///    "fragmentation needed" carrying the MTU (`ip_exceeds_mtu`); IPv6, dropped with
///    `PKT_TOO_BIG` and ICMPv6 "packet too big" (`ip6_pkt_too_big`, the MTU at least 1280);
///    IPv4 without DF goes on to the fragmenter;
/// 3. the TTL or hop limit is decremented; for IPv4 the header checksum is updated
///    incrementally (RFC 1624, as `ip_decrease_ttl`).
///
/// Errors come from `icmp_src` (see [`Fib::error_source`](super::Fib::error_source)) with IP
/// ID `ident`; with no source of the packet's family, no error is built.
pub fn ip_forward(pkt: &mut [u8], mtu: u32, icmp_src: Option<IpAddr>, ident: u16) -> Forwarded {
    let v4 = match pkt.first().map(|b| b >> 4) {
        Some(4) if pkt.len() >= 20 => true,
        Some(6) if pkt.len() >= 40 => false,
        _ => {
            return Forwarded::Dropped {
                reason: DropReason::IpInhdr,
                icmp: None,
            };
        }
    };
    let error = |pkt: &[u8], kind: IcmpKind| match icmp_src {
        Some(IpAddr::V4(s)) if v4 => icmp_error(pkt, kind, Ipv4Address(s.octets()), ident),
        Some(IpAddr::V6(s)) if !v4 => icmpv6_error(pkt, kind, &Ipv6Address(s.octets())),
        _ => None,
    };
    let ttl_at = if v4 { 8 } else { 7 };
    if pkt[ttl_at] <= 1 {
        return Forwarded::Dropped {
            reason: DropReason::IpTtlExceeded,
            icmp: error(
                pkt,
                if v4 {
                    IcmpKind::ttl_exceeded()
                } else {
                    IcmpKind::v6_hop_limit_exceeded()
                },
            ),
        };
    }
    let len = pkt.len() as u64;
    let mut fragment = false;
    if v4 && len > u64::from(mtu) {
        let dont_fragment = pkt[6] & 0x40 != 0;
        if dont_fragment {
            let next_hop_mtu = mtu.min(u32::from(u16::MAX)) as u16;
            return Forwarded::Dropped {
                reason: DropReason::PktTooBig,
                icmp: error(pkt, IcmpKind::frag_needed(next_hop_mtu)),
            };
        }
        fragment = true;
    }
    let v6_mtu = mtu.max(IPV6_MIN_MTU);
    if !v4 && len > u64::from(v6_mtu) {
        return Forwarded::Dropped {
            reason: DropReason::PktTooBig,
            icmp: error(pkt, IcmpKind::v6_pkt_too_big(v6_mtu)),
        };
    }
    if v4 {
        decrease_ttl(pkt);
    } else {
        pkt[7] -= 1;
    }
    if fragment {
        Forwarded::NeedsFragmentation
    } else {
        Forwarded::Forward
    }
}

/// Decrements the TTL of the IPv4 header at the start of `pkt` and updates its checksum for
/// the changed 16-bit word (TTL and protocol), as `ip_decrease_ttl` does.
fn decrease_ttl(pkt: &mut [u8]) {
    let old = u16::from_be_bytes([pkt[8], pkt[9]]);
    pkt[8] -= 1;
    let new = u16::from_be_bytes([pkt[8], pkt[9]]);
    let check = u16::from_be_bytes([pkt[10], pkt[11]]);
    pkt[10..12].copy_from_slice(&checksum::update16(check, old, new).to_be_bytes());
}
