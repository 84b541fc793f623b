//! The IP layer between the link layer and transport: receive checks (`ip_rcv_core`,
//! `ipv6_rcv`), the FIB (longest-prefix match over a local and a main table), forwarding
//! (`ip_forward`, `ip6_forward`) and the ICMP/ICMPv6 errors the kernel sends (`icmp_send`,
//! `icmp6_send`).
//!
//! Everything here reads packets starting at their IP header, allocates nothing on the
//! per-packet path (an ICMP error, when one is due, is the only new buffer) and never panics
//! on any input. Drops carry the kernel's [`DropReason`](crate::DropReason).

pub mod fib;
pub mod forward;
pub mod icmp;
pub mod rcv;

pub use fib::{Fib, FibError, InputRoute, NoRoute, Prefix, Route, RouteKind};
pub use forward::{Forwarded, ip_forward};
pub use icmp::{IcmpKind, icmp_error, icmpv6_error};
pub use rcv::{IpRcv, ipv4_rcv, ipv4_rcv_len, ipv6_rcv, ipv6_rcv_len};

/// IPv6 extension headers `ipv6_ext_hdr` walks past: hop-by-hop, routing, fragment,
/// authentication and destination options (`NEXTHDR_NONE` ends the walk).
const fn is_ext_header(nh: u8) -> bool {
    matches!(nh, 0 | 43 | 44 | 51 | 60)
}

/// Where the upper-layer header of an IPv6 packet starts, as `ipv6_find_hdr` finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpperLayer {
    /// The upper-layer protocol (after the last extension header).
    pub proto: u8,
    /// Offset of the upper-layer header from the start of the IPv6 header.
    pub offset: usize,
    /// The raw offset-and-flags word of the fragment header (0 without one): the offset in
    /// 8-byte units is `frag >> 3`, the M flag is bit 0.
    pub frag: u16,
}

impl UpperLayer {
    /// Whether the packet is a fragment other than the first (its upper-layer header is in
    /// the first fragment, not here).
    #[must_use]
    pub const fn is_later_fragment(&self) -> bool {
        self.frag & 0xfff8 != 0
    }
}

/// Walks the extension headers of the IPv6 packet `pkt` (starting at its IPv6 header) to the
/// upper-layer protocol, like `ipv6_find_hdr` with no target: the walk stops after the
/// fragment header of a later fragment. `None` when an extension header cannot be read or
/// the chain ends in "no next header".
#[must_use]
pub fn ipv6_upper_layer(pkt: &[u8]) -> Option<UpperLayer> {
    let mut proto = *pkt.get(6)?;
    let mut at = 40;
    let mut frag = 0;
    while is_ext_header(proto) {
        let next = *pkt.get(at)?;
        let len = *pkt.get(at + 1)?;
        let hlen = match proto {
            44 => {
                let f = pkt.get(at + 2..at + 4)?;
                frag = u16::from_be_bytes([f[0], f[1]]);
                8
            }
            // The AH length counts 4-byte words less two (RFC 4302).
            51 => (usize::from(len) + 2) * 4,
            _ => (usize::from(len) + 1) * 8,
        };
        proto = next;
        at += hlen;
        if frag & 0xfff8 != 0 {
            break;
        }
    }
    (proto != 59).then_some(UpperLayer {
        proto,
        offset: at,
        frag,
    })
}

#[cfg(test)]
mod tests;
