//! Why a packet was dropped, in the spirit of the kernel's `enum skb_drop_reason`.
//!
//! Names and meanings follow `include/net/dropreason-core.h`; the numeric codes are netcore's
//! own (stable within netcore, stored in batch columns), not the kernel's, which change between
//! releases. 0 means "not dropped".

use std::fmt;

macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $name:ident = $code:literal => $kernel:literal, )*) => {
        /// A drop reason. `as_str` gives the kernel's name (without `SKB_DROP_REASON_`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum DropReason {
            $( $(#[$doc])* $name = $code, )*
        }

        impl DropReason {
            /// Every reason, in code order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$name),*];

            /// The kernel's name of the reason, e.g. `"PKT_TOO_SMALL"`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(DropReason::$name => $kernel,)* }
            }

            /// The reason with numeric code `code` (as stored in batch columns).
            #[must_use]
            pub fn from_code(code: u16) -> Option<Self> {
                match code { $($code => Some(DropReason::$name),)* _ => None }
            }
        }
    };
}

drop_reasons! {
    /// No more specific reason.
    NotSpecified = 1 => "NOT_SPECIFIED",
    /// Shorter than its headers say (kernel: `pskb_may_pull` failed, IP or UDP length beyond
    /// the packet, TCP data offset below 5).
    PktTooSmall = 2 => "PKT_TOO_SMALL",
    /// Bad IPv4 header checksum.
    IpCsum = 3 => "IP_CSUM",
    /// Invalid IP header (version, IHL below 5, total length below the header).
    IpInhdr = 4 => "IP_INHDR",
    /// Invalid or looping IPv6 extension headers.
    Ipv6BadExthdr = 5 => "IPV6_BAD_EXTHDR",
    /// Bad TCP checksum.
    TcpCsum = 6 => "TCP_CSUM",
    /// Bad UDP checksum (or a zero UDP checksum over IPv6).
    UdpCsum = 7 => "UDP_CSUM",
    /// Bad ICMP or ICMPv6 checksum.
    IcmpCsum = 8 => "ICMP_CSUM",
    /// Bad SCTP CRC32c (the kernel counts it in SCTP's own statistics).
    SctpCsum = 9 => "SCTP_CSUM",
    /// No handler for the packet's protocol.
    UnhandledProto = 10 => "UNHANDLED_PROTO",
    /// No handler for the IP protocol.
    IpNoproto = 11 => "IP_NOPROTO",
    /// Invalid VXLAN header.
    VxlanInvalidHdr = 12 => "VXLAN_INVALID_HDR",
    /// Dropped by a netfilter hook or rule.
    NetfilterDrop = 13 => "NETFILTER_DROP",
    /// Not for this host and forwarding is off.
    OtherHost = 14 => "OTHERHOST",
    /// Invalid source or destination address.
    IpInaddrErrors = 15 => "IP_INADDRERRORS",
    /// No route to the destination.
    IpInnoroutes = 16 => "IP_INNOROUTES",
    /// Larger than the MTU with fragmentation forbidden.
    PktTooBig = 17 => "PKT_TOO_BIG",
    /// Fragment offset beyond the largest datagram.
    FragTooFar = 18 => "FRAG_TOO_FAR",
    /// Reassembly did not complete in time.
    FragReasmTimeout = 19 => "FRAG_REASM_TIMEOUT",
    /// Time to live or hop limit exceeded while forwarding.
    IpTtlExceeded = 20 => "IP_TTL_EXCEEDED",
    /// A queue or ring was full.
    QueueFull = 21 => "QUEUE_FULL",
    /// Invalid GRE header.
    GreInvalidHdr = 22 => "GRE_INVALID_HDR",
    /// Invalid Geneve header.
    GeneveInvalidHdr = 23 => "GENEVE_INVALID_HDR",
    /// Invalid source address: multicast, limited broadcast, or 0.0.0.0 to anything but the
    /// limited broadcast (`ip_route_input_slow`'s martian source).
    IpInvalidSource = 24 => "IP_INVALID_SOURCE",
    /// Invalid destination address: 0.0.0.0/8 (`ip_route_input_slow`'s martian destination).
    IpInvalidDest = 25 => "IP_INVALID_DEST",
    /// A loopback source or destination on a device that is not loopback.
    IpLocalnet = 26 => "IP_LOCALNET",
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for &r in DropReason::ALL {
            assert_eq!(DropReason::from_code(r as u16), Some(r));
        }
        assert_eq!(DropReason::from_code(0), None);
        assert_eq!(DropReason::PktTooSmall.to_string(), "PKT_TOO_SMALL");
    }
}
