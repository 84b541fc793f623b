//! Typed zero-copy views of protocol headers, with checked constructors, and emit.
//!
//! Each protocol has a file with a `Packet<T: AsRef<[u8]>>` view over borrowed bytes (getters
//! named by field, setters `set_*` when `T: AsMut<[u8]>`, `payload()`), and where the header
//! has a fixed meaning a `Repr` that `parse`s from a checked view and `emit`s into one,
//! filling exactly `buffer_len()` bytes.
//!
//! **No-panic contract:** `Packet::new_checked` validates every length the accessors rely on;
//! after it succeeds, no getter can index out of bounds, whatever the bytes. Untrusted input
//! goes through `new_checked` only; `new_unchecked` is for buffers the caller built itself.
//! Fuzz targets and property tests enforce this.

/// A protocol layer, as named in dissection output (`netcore dissect`'s `layers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Layer {
    /// Ethernet II / 802.3 header.
    Ethernet = 1,
    /// 802.1Q customer tag.
    Vlan,
    /// 802.1ad service tag (outer QinQ tag).
    Qinq,
    /// MPLS label stack entry.
    Mpls,
    /// ARP.
    Arp,
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// BSD null/loopback header (`LINKTYPE_NULL`, host byte order, and `LINKTYPE_LOOP`,
    /// network byte order).
    Null,
    /// IPv4.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// IPv6 hop-by-hop options header.
    Ipv6HopOpts,
    /// IPv6 routing header.
    Ipv6Routing,
    /// IPv6 fragment header.
    Ipv6Frag,
    /// IPv6 destination options header.
    Ipv6DstOpts,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP for IPv4.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// SCTP common header.
    Sctp,
    /// GRE.
    Gre,
    /// VXLAN.
    Vxlan,
    /// Geneve.
    Geneve,
}

impl Layer {
    /// Every layer, in code order (`ALL[code - 1]` is the layer with that code).
    pub const ALL: [Layer; 22] = [
        Layer::Ethernet,
        Layer::Vlan,
        Layer::Qinq,
        Layer::Mpls,
        Layer::Arp,
        Layer::Sll,
        Layer::Sll2,
        Layer::Null,
        Layer::Ipv4,
        Layer::Ipv6,
        Layer::Ipv6HopOpts,
        Layer::Ipv6Routing,
        Layer::Ipv6Frag,
        Layer::Ipv6DstOpts,
        Layer::Tcp,
        Layer::Udp,
        Layer::Icmp,
        Layer::Icmpv6,
        Layer::Sctp,
        Layer::Gre,
        Layer::Vxlan,
        Layer::Geneve,
    ];

    /// The layer with numeric code `code` (as stored in batch columns), if any.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Layer> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The short name used in dissection output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layer::Ethernet => "eth",
            Layer::Vlan => "vlan",
            Layer::Qinq => "qinq",
            Layer::Mpls => "mpls",
            Layer::Arp => "arp",
            Layer::Sll => "sll",
            Layer::Sll2 => "sll2",
            Layer::Null => "null",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6HopOpts => "ipv6.hopopts",
            Layer::Ipv6Routing => "ipv6.routing",
            Layer::Ipv6Frag => "ipv6.fraghdr",
            Layer::Ipv6DstOpts => "ipv6.dstopts",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
            Layer::Sctp => "sctp",
            Layer::Gre => "gre",
            Layer::Vxlan => "vxlan",
            Layer::Geneve => "geneve",
        }
    }
}

/// Why bytes are not a valid header. Small and `Copy`: no allocation on the parse path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than the header (or a length field inside it) requires.
    Truncated {
        /// The layer being read.
        layer: Layer,
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A field holds a value the protocol forbids (e.g. IPv4 IHL below 5).
    Malformed {
        /// The layer being read.
        layer: Layer,
        /// Which field, and what is wrong with it.
        what: &'static str,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Truncated {
                layer,
                needed,
                available,
            } => {
                write!(
                    f,
                    "{} header truncated: {needed} bytes needed, {available} available",
                    layer.name()
                )
            }
            Error::Malformed { layer, what } => {
                write!(f, "{} header malformed: {what}", layer.name())
            }
        }
    }
}

impl std::error::Error for Error {}

/// Result of the wire layer.
pub type Result<T> = core::result::Result<T, Error>;

/// Byte ranges of header fields, for each protocol's private `mod field`.
pub(crate) type Field = core::ops::Range<usize>;
/// The bytes from a field to the end.
pub(crate) type Rest = core::ops::RangeFrom<usize>;
pub mod arp;
pub mod ethernet;
pub mod geneve;
pub mod gre;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6_ext;
pub mod mpls;
pub mod null;
pub mod sctp;
pub mod sll;
pub mod tcp;
pub mod udp;
pub mod verdict;
pub mod vlan;
pub mod vxlan;
pub use icmpv4::{Packet as Icmpv4Packet, Repr as Icmpv4Repr};
pub use icmpv6::{Packet as Icmpv6Packet, Repr as Icmpv6Repr};
pub use ipv4::{
    Address as Ipv4Address, Packet as Ipv4Packet, Protocol as IpProtocol, Repr as Ipv4Repr,
};
pub use ipv6::{Address as Ipv6Address, Packet as Ipv6Packet, Repr as Ipv6Repr};
pub use ipv6_ext::{ExtChain as Ipv6ExtChain, walk as walk_ipv6_ext};
pub use sctp::{Packet as SctpPacket, Repr as SctpRepr};
pub use tcp::{Flags as TcpFlags, Packet as TcpPacket, Repr as TcpRepr, TcpOption};
pub use udp::{Packet as UdpPacket, Repr as UdpRepr};
pub use verdict::Verdict;
