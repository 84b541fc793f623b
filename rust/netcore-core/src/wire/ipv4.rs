//! IPv4 header (RFC 791), options included.
//!
//! Layout (RFC 791 section 3.1):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version|  IHL  |   DSCP    |ECN|          Total Length         |
//! |         Identification        |Flags|      Fragment Offset    |
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! |                       Source Address                          |
//! |                    Destination Address                        |
//! |                    Options (IHL > 5)                          |
//! ```
//!
//! Two levels of checking, because captures are often cut by their snapshot length:
//! - [`Packet::new_checked`] / [`Packet::check_len`] require the whole datagram (`total_len`
//!   bytes) to be present, like the kernel's `ip_rcv_core` (which drops a datagram whose total
//!   length exceeds what arrived).
//! - [`Packet::new_checked_header`] / [`Packet::check_header_len`] require only the header
//!   (IHL * 4 bytes) and a total length that covers it; [`Packet::payload`] then returns what was
//!   captured, up to `total_len`. Both levels reject a version other than 4, an IHL below 5 and a
//!   total length below the header length as `Malformed`, with one exception in the lax level:
//!   a total length of zero is accepted and means "the rest of the buffer". Captures taken on
//!   the sending host of a TSO or BIG TCP datagram show it so (the kernel's `iph_totlen` reads a
//!   zero `tot_len` of a GSO packet as its real length; Wireshark likewise assumes TSO).
//!
//! In both cases bytes past `total_len` (Ethernet padding) are not part of the payload, as the
//! kernel trims them (`pskb_trim_rcsum` in `ip_rcv_core`).
//!
//! The header checksum is never checked by the constructors or by [`Repr::parse`]: checking is a
//! separate step ([`Packet::verify_checksum`]) so a dissector can report a bad checksum rather than
//! refuse the packet.

use core::fmt;

use crate::checksum;
use crate::wire::{Error, Layer, Result};

mod field {
    use crate::wire::Field;

    /// Version (high nibble) and IHL (low nibble, in 32-bit words).
    pub const VER_IHL: usize = 0;
    /// DSCP (high 6 bits) and ECN (low 2 bits), the former type-of-service byte.
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    /// Flags (3 high bits: reserved, DF, MF) and fragment offset (13 bits, 8-byte units).
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Longest header: IHL 15.
pub const MAX_HEADER_LEN: usize = 60;
/// Most option bytes a header can carry.
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;

/// Reserved flag ("evil bit", RFC 3514), in the flags/offset word.
const FLAG_RESERVED: u16 = 0x8000;
/// Don't Fragment.
const FLAG_DF: u16 = 0x4000;
/// More Fragments.
const FLAG_MF: u16 = 0x2000;
/// Fragment offset mask (8-byte units).
const OFFSET_MASK: u16 = 0x1fff;

fn be16(d: &[u8], f: crate::wire::Field) -> u16 {
    u16::from_be_bytes([d[f.start], d[f.start + 1]])
}

fn set_be16(d: &mut [u8], f: crate::wire::Field, v: u16) {
    d[f].copy_from_slice(&v.to_be_bytes());
}

/// An IPv4 address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 4]);

impl Address {
    /// `0.0.0.0`.
    pub const UNSPECIFIED: Address = Address([0; 4]);
    /// `255.255.255.255`, the limited broadcast address.
    pub const BROADCAST: Address = Address([255; 4]);

    /// An address from its four octets.
    #[must_use]
    pub const fn new(a: u8, b: u8, c: u8, d: u8) -> Address {
        Address([a, b, c, d])
    }

    /// The address's octets, in network order.
    #[must_use]
    pub const fn octets(self) -> [u8; 4] {
        self.0
    }

    /// The address as a host-order integer (`10.0.0.1` is `0x0a00_0001`).
    #[must_use]
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// Whether this is `0.0.0.0`.
    #[must_use]
    pub const fn is_unspecified(self) -> bool {
        self.to_u32() == 0
    }

    /// Whether this is `255.255.255.255`.
    #[must_use]
    pub const fn is_broadcast(self) -> bool {
        self.to_u32() == u32::MAX
    }

    /// Whether this is a multicast address (`224.0.0.0/4`, RFC 5771).
    #[must_use]
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 0xf0 == 0xe0
    }

    /// Whether this is a loopback address (`127.0.0.0/8`, RFC 1122).
    #[must_use]
    pub const fn is_loopback(self) -> bool {
        self.0[0] == 127
    }
}

impl From<[u8; 4]> for Address {
    fn from(octets: [u8; 4]) -> Address {
        Address(octets)
    }
}

impl From<Address> for [u8; 4] {
    fn from(a: Address) -> [u8; 4] {
        a.0
    }
}

impl From<std::net::Ipv4Addr> for Address {
    fn from(a: std::net::Ipv4Addr) -> Address {
        Address(a.octets())
    }
}

impl From<Address> for std::net::Ipv4Addr {
    fn from(a: Address) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from(a.0)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(f, "{}.{}.{}.{}", o[0], o[1], o[2], o[3])
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An IP protocol number (IANA "Assigned Internet Protocol Numbers"): the IPv4 `protocol` field
/// and the IPv6 `next header` field share this space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Protocol(pub u8);

impl Protocol {
    /// IPv6 hop-by-hop options (RFC 8200).
    pub const HOPOPT: Protocol = Protocol(0);
    /// ICMP (RFC 792).
    pub const ICMP: Protocol = Protocol(1);
    /// IGMP (RFC 3376).
    pub const IGMP: Protocol = Protocol(2);
    /// IPv4 in IP (RFC 2003).
    pub const IPIP: Protocol = Protocol(4);
    /// TCP (RFC 9293).
    pub const TCP: Protocol = Protocol(6);
    /// UDP (RFC 768).
    pub const UDP: Protocol = Protocol(17);
    /// IPv6 encapsulation (RFC 2473, 4213).
    pub const IPV6: Protocol = Protocol(41);
    /// IPv6 routing header (RFC 8200).
    pub const ROUTING: Protocol = Protocol(43);
    /// IPv6 fragment header (RFC 8200).
    pub const FRAGMENT: Protocol = Protocol(44);
    /// GRE (RFC 2784).
    pub const GRE: Protocol = Protocol(47);
    /// Encapsulating Security Payload (RFC 4303).
    pub const ESP: Protocol = Protocol(50);
    /// Authentication Header (RFC 4302).
    pub const AH: Protocol = Protocol(51);
    /// ICMP for IPv6 (RFC 4443).
    pub const ICMPV6: Protocol = Protocol(58);
    /// No next header (RFC 8200).
    pub const NONE: Protocol = Protocol(59);
    /// IPv6 destination options (RFC 8200).
    pub const DSTOPTS: Protocol = Protocol(60);
    /// SCTP (RFC 9260).
    pub const SCTP: Protocol = Protocol(132);
    /// Mobility header (RFC 6275).
    pub const MOBILITY: Protocol = Protocol(135);

    /// The protocol's short name, if it is one of the constants above.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "hopopt",
            1 => "icmp",
            2 => "igmp",
            4 => "ipip",
            6 => "tcp",
            17 => "udp",
            41 => "ipv6",
            43 => "ipv6-route",
            44 => "ipv6-frag",
            47 => "gre",
            50 => "esp",
            51 => "ah",
            58 => "ipv6-icmp",
            59 => "ipv6-nonxt",
            60 => "ipv6-opts",
            132 => "sctp",
            135 => "mobility-header",
            _ => return None,
        })
    }

    /// Whether the number names an IPv6 extension header that
    /// [`walk`](crate::wire::ipv6_ext::walk) steps over (hop-by-hop, routing, fragment,
    /// destination options, AH, mobility).
    #[must_use]
    pub const fn is_ipv6_extension(self) -> bool {
        matches!(self.0, 0 | 43 | 44 | 51 | 60 | 135)
    }
}

impl From<u8> for Protocol {
    fn from(v: u8) -> Protocol {
        Protocol(v)
    }
}

impl From<Protocol> for u8 {
    fn from(p: Protocol) -> u8 {
        p.0
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "Protocol({} {n})", self.0),
            None => write!(f, "Protocol({})", self.0),
        }
    }
}

/// A view of an IPv4 header and the datagram it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it. Accessors may panic on a buffer shorter than the
    /// header; use only on buffers the caller built.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after checking that the whole datagram is present ([`Self::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps `buffer` after checking only the header ([`Self::check_header_len`]): for captures
    /// cut by their snapshot length, where the payload may be incomplete.
    pub fn new_checked_header(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_header_len()?;
        Ok(p)
    }

    /// Checks the header (see [`Self::check_header_len`]) and that the buffer holds all
    /// `total_len` bytes; a cut payload is `Truncated` with `needed` set to the total length,
    /// a cut header with `needed` set to the header length.
    pub fn check_len(&self) -> Result<()> {
        self.check_header_len()?;
        let available = self.buffer.as_ref().len();
        let total = usize::from(self.total_len());
        if total == 0 {
            // Only a GSO packet on its sending host has a zero total length (`iph_totlen`);
            // `ip_rcv_core` drops one that arrives.
            return Err(Error::Malformed {
                layer: Layer::Ipv4,
                what: "total length below header length",
            });
        }
        if total > available {
            return Err(Error::Truncated {
                layer: Layer::Ipv4,
                needed: total,
                available,
            });
        }
        Ok(())
    }

    /// Checks what every accessor relies on: version 4, IHL at least 5, the whole header
    /// present, and a total length at least the header length. The payload may be cut short.
    pub fn check_header_len(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        let Some(&ver_ihl) = d.first() else {
            return Err(Error::Truncated {
                layer: Layer::Ipv4,
                needed: HEADER_LEN,
                available: 0,
            });
        };
        if ver_ihl >> 4 != 4 {
            return Err(Error::Malformed {
                layer: Layer::Ipv4,
                what: "version is not 4",
            });
        }
        if d.len() < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Ipv4,
                needed: HEADER_LEN,
                available: d.len(),
            });
        }
        let header_len = usize::from(ver_ihl & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::Malformed {
                layer: Layer::Ipv4,
                what: "IHL below 5",
            });
        }
        if d.len() < header_len {
            return Err(Error::Truncated {
                layer: Layer::Ipv4,
                needed: header_len,
                available: d.len(),
            });
        }
        let total = usize::from(be16(d, field::LENGTH));
        if total < header_len && total != 0 {
            return Err(Error::Malformed {
                layer: Layer::Ipv4,
                what: "total length below header length",
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The underlying bytes, from the header start to the end of the buffer.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version field (4 for a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The IHL field: header length in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// The former type-of-service byte: DSCP and ECN together.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    /// Differentiated Services Code Point (RFC 2474): the 6 high bits of the TOS byte.
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    /// Explicit Congestion Notification (RFC 3168): the 2 low bits of the TOS byte.
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    /// Total length of the datagram, header included.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    fn flags_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLG_OFF)
    }

    /// The reserved flag bit (must be zero, RFC 791; the "evil bit" of RFC 3514).
    pub fn reserved_flag(&self) -> bool {
        self.flags_offset() & FLAG_RESERVED != 0
    }

    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & FLAG_DF != 0
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.flags_offset() & FLAG_MF != 0
    }

    /// Fragment offset in 8-byte units, as stored (13 bits).
    pub fn frag_offset(&self) -> u16 {
        self.flags_offset() & OFFSET_MASK
    }

    /// Fragment offset in bytes (the field times 8, at most 65528).
    pub fn frag_offset_bytes(&self) -> u16 {
        self.frag_offset() << 3
    }

    /// Whether the datagram is a fragment: MF set or a nonzero offset (the kernel's
    /// `ip_is_fragment`).
    pub fn is_fragment(&self) -> bool {
        self.flags_offset() & (FLAG_MF | OFFSET_MASK) != 0
    }

    /// Whether this is a fragment other than the first (offset nonzero): its payload does not
    /// start with the upper-layer header.
    pub fn is_non_first_fragment(&self) -> bool {
        self.frag_offset() != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// The upper-layer protocol.
    pub fn protocol(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Address {
        let d = self.buffer.as_ref();
        Address([d[12], d[13], d[14], d[15]])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Address {
        let d = self.buffer.as_ref();
        Address([d[16], d[17], d[18], d[19]])
    }

    /// Whether the header checksum is correct (RFC 791: the ones'-complement sum of the header
    /// words, checksum included, is all ones).
    pub fn verify_checksum(&self) -> bool {
        let d = self.buffer.as_ref();
        d.get(..self.header_len()).is_some_and(checksum::verify)
    }

    /// Whether the buffer holds fewer bytes than `total_len` (a capture cut short).
    pub fn is_truncated(&self) -> bool {
        self.buffer.as_ref().len() < self.datagram_len()
    }

    /// Whether the total length is zero: a TSO/BIG TCP datagram captured on its sending host,
    /// whose length is the buffer's (accepted by [`Self::check_header_len`] only).
    pub fn is_zero_total_len(&self) -> bool {
        self.total_len() == 0
    }

    /// The datagram's length: `total_len`, or the buffer length when `total_len` is zero.
    pub fn datagram_len(&self) -> usize {
        match self.total_len() {
            0 => self.buffer.as_ref().len(),
            n => usize::from(n),
        }
    }

    /// The range of payload bytes present: from the header end to the datagram's end, clamped
    /// to the buffer.
    fn payload_range(&self) -> core::ops::Range<usize> {
        let len = self.buffer.as_ref().len();
        let end = self.datagram_len().min(len);
        let start = self.header_len().min(end);
        start..end
    }

    /// Length in bytes of the payload as the header declares it (datagram length minus header
    /// length, zero if the header is inconsistent).
    pub fn payload_len(&self) -> usize {
        self.datagram_len().saturating_sub(self.header_len())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The option bytes (between the fixed header and `header_len`), padding included.
    /// Empty if the buffer is shorter than the header claims.
    #[must_use]
    pub fn options(&self) -> &'a [u8] {
        let d = self.buffer.as_ref();
        d.get(HEADER_LEN..self.header_len()).unwrap_or(&[])
    }

    /// The payload bytes present: from the end of the header to `total_len`, or to the end of
    /// the buffer if the capture was cut shorter. Trailing bytes past `total_len` (link-layer
    /// padding) are excluded.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let range = self.payload_range();
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(range).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version field.
    pub fn set_version(&mut self, version: u8) {
        let d = self.buffer.as_mut();
        d[field::VER_IHL] = (d[field::VER_IHL] & 0x0f) | (version << 4);
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4, at most 60).
    pub fn set_header_len(&mut self, len: usize) {
        let ihl = (len / 4).min(15) as u8;
        let d = self.buffer.as_mut();
        d[field::VER_IHL] = (d[field::VER_IHL] & 0xf0) | ihl;
    }

    /// Sets the DSCP (6 bits; higher bits ignored).
    pub fn set_dscp(&mut self, dscp: u8) {
        let d = self.buffer.as_mut();
        d[field::DSCP_ECN] = (d[field::DSCP_ECN] & 0x03) | (dscp << 2);
    }

    /// Sets the ECN codepoint (2 bits; higher bits ignored).
    pub fn set_ecn(&mut self, ecn: u8) {
        let d = self.buffer.as_mut();
        d[field::DSCP_ECN] = (d[field::DSCP_ECN] & 0xfc) | (ecn & 0x03);
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, len: u16) {
        set_be16(self.buffer.as_mut(), field::LENGTH, len);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, ident: u16) {
        set_be16(self.buffer.as_mut(), field::IDENT, ident);
    }

    fn set_flag(&mut self, mask: u16, on: bool) {
        let d = self.buffer.as_mut();
        let v = be16(d, field::FLG_OFF);
        set_be16(d, field::FLG_OFF, if on { v | mask } else { v & !mask });
    }

    /// Sets the reserved flag bit.
    pub fn set_reserved_flag(&mut self, on: bool) {
        self.set_flag(FLAG_RESERVED, on);
    }

    /// Sets Don't Fragment.
    pub fn set_dont_frag(&mut self, on: bool) {
        self.set_flag(FLAG_DF, on);
    }

    /// Sets More Fragments.
    pub fn set_more_frags(&mut self, on: bool) {
        self.set_flag(FLAG_MF, on);
    }

    /// Sets the fragment offset, in 8-byte units (13 bits; higher bits ignored).
    pub fn set_frag_offset(&mut self, offset: u16) {
        let d = self.buffer.as_mut();
        let v = be16(d, field::FLG_OFF);
        set_be16(
            d,
            field::FLG_OFF,
            (v & !OFFSET_MASK) | (offset & OFFSET_MASK),
        );
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    /// Sets the upper-layer protocol.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol.0;
    }

    /// Sets the checksum field as given.
    pub fn set_checksum(&mut self, checksum: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.0);
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.0);
    }

    /// Computes the header checksum and stores it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let d = self.buffer.as_mut();
        if let Some(h) = d.get(..hl) {
            let c = checksum::checksum(h);
            set_be16(d, field::CHECKSUM, c);
        }
    }

    /// The option bytes, mutable (empty if the buffer is shorter than the header claims).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..hl)
            .unwrap_or(&mut [])
    }

    /// The payload bytes present, mutable (see [`Packet::payload`]).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

/// The meaning of an IPv4 header, option bytes kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source address.
    pub src_addr: Address,
    /// Destination address.
    pub dst_addr: Address,
    /// Upper-layer protocol.
    pub protocol: Protocol,
    /// Payload length in bytes (`total_len - header_len`).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// DSCP (6 bits).
    pub dscp: u8,
    /// ECN (2 bits).
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// The reserved flag bit, kept so that emit reproduces the header exactly.
    pub reserved_flag: bool,
    /// Fragment offset in 8-byte units (13 bits).
    pub frag_offset: u16,
    /// Option bytes, padding included; a multiple of 4 bytes, at most 40.
    pub options: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a header. Checks the header as [`Packet::check_header_len`] does (so a cut
    /// payload is accepted); does not check the checksum.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_header_len()?;
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.payload_len(),
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            reserved_flag: packet.reserved_flag(),
            frag_offset: packet.frag_offset(),
            options: packet.options(),
        })
    }

    /// Header length in bytes: 20 plus the options.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Bytes the datagram occupies: header plus payload.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header (not the payload) into `packet` and fills its checksum.
    ///
    /// Fails with `Malformed` if the options are not a multiple of 4 bytes or longer than 40,
    /// or if the datagram would exceed 65535 bytes; with `Truncated` if the buffer is shorter
    /// than the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if !self.options.len().is_multiple_of(4) || self.options.len() > MAX_OPTIONS_LEN {
            return Err(Error::Malformed {
                layer: Layer::Ipv4,
                what: "options not a multiple of 4 bytes or longer than 40",
            });
        }
        let Ok(total) = u16::try_from(self.buffer_len()) else {
            return Err(Error::Malformed {
                layer: Layer::Ipv4,
                what: "datagram over 65535 bytes",
            });
        };
        let available = packet.buffer.as_ref().len();
        if available < self.header_len() {
            return Err(Error::Truncated {
                layer: Layer::Ipv4,
                needed: self.header_len(),
                available,
            });
        }
        packet.set_version(4);
        packet.set_header_len(self.header_len());
        packet.set_dscp(self.dscp);
        packet.set_ecn(self.ecn);
        packet.set_total_len(total);
        packet.set_ident(self.ident);
        let flags = (if self.reserved_flag { FLAG_RESERVED } else { 0 })
            | (if self.dont_frag { FLAG_DF } else { 0 })
            | (if self.more_frags { FLAG_MF } else { 0 })
            | (self.frag_offset & OFFSET_MASK);
        set_be16(packet.buffer.as_mut(), field::FLG_OFF, flags);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.options_mut().copy_from_slice(self.options);
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// IGMP version 2 membership report from pcapplusplus `igmp.pcapng` frame 2 (Ethernet header
    /// removed): IHL 6 with a Router Alert option (RFC 2113), header checksum good per tshark.
    static IGMP_RA: [u8; 32] = [
        0x46, 0x00, 0x00, 0x20, 0x0e, 0x47, 0x00, 0x00, 0x01, 0x02, 0x1a, 0x54, 0x0a, 0x3c, 0x02,
        0x07, 0xef, 0xff, 0xff, 0xfa, 0x94, 0x04, 0x00, 0x00, 0x16, 0x00, 0xfa, 0x04, 0xef, 0xff,
        0xff, 0xfa,
    ];

    /// TCP SYN from Zeek `tcp/timestamp.pcap` frame 1 (Ethernet header removed): IPv4 without
    /// options, DF set, checksums good per tshark.
    static TCP_SYN: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x3f, 0x66, 0x40, 0x00, 0x40, 0x06, 0x76, 0xe7, 0xc0, 0xa8, 0x01,
        0x0a, 0xc0, 0xa8, 0x02, 0x14, 0xed, 0x22, 0x30, 0x39, 0x9f, 0x38, 0x40, 0x4e, 0x00, 0x00,
        0x00, 0x00, 0xa0, 0x02, 0x72, 0x10, 0xb4, 0x8d, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01,
        0x01, 0x08, 0x0a, 0x23, 0xe9, 0x7f, 0x28, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    #[test]
    fn igmp_fixture_fields() {
        // The capture's header: the pcapng frame carries Ethernet padding after total_len.
        let mut frame = IGMP_RA.to_vec();
        frame.extend_from_slice(&[0; 14]);
        let p = Packet::new_checked(&frame[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.dscp(), 0);
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.total_len(), 32);
        assert_eq!(p.ident(), 0x0e47);
        assert!(!p.dont_frag());
        assert!(!p.more_frags() && !p.is_fragment());
        assert_eq!(p.ttl(), 1);
        assert_eq!(p.protocol(), Protocol::IGMP);
        assert_eq!(p.checksum(), 0x1a54);
        assert_eq!(p.src_addr(), Address::new(10, 60, 2, 7));
        assert_eq!(p.dst_addr().to_string(), "239.255.255.250");
        assert!(p.dst_addr().is_multicast());
        assert_eq!(p.options(), &[0x94, 0x04, 0x00, 0x00]);
        assert!(p.verify_checksum());
        // Padding past total_len is not payload.
        assert_eq!(p.payload(), &IGMP_RA[24..]);
    }

    #[test]
    fn fixture_round_trip() {
        for fx in [&IGMP_RA[..], &TCP_SYN[..]] {
            let p = Packet::new_checked(fx).unwrap();
            assert!(p.verify_checksum());
            let repr = Repr::parse(&p).unwrap();
            assert_eq!(repr.buffer_len(), fx.len());
            let mut out = vec![0u8; repr.buffer_len()];
            let mut q = Packet::new_unchecked(&mut out[..]);
            repr.emit(&mut q).unwrap();
            q.payload_mut().copy_from_slice(p.payload());
            assert_eq!(out, fx);
        }
    }

    #[test]
    fn bad_checksum_detected_and_refilled() {
        let mut b = TCP_SYN;
        b[10] ^= 0x01;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(b, TCP_SYN);
    }

    #[test]
    fn checked_errors() {
        assert_eq!(
            Packet::new_checked(&[][..]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv4,
                needed: 20,
                available: 0
            }
        );
        let mut b = TCP_SYN;
        b[0] = 0x65;
        assert!(matches!(
            Packet::new_checked(&b[..]),
            Err(Error::Malformed { .. })
        ));
        b[0] = 0x44;
        assert!(matches!(
            Packet::new_checked(&b[..]),
            Err(Error::Malformed { .. })
        ));
        // IHL 15 over a 32-byte datagram: the header itself is cut.
        let mut b = IGMP_RA;
        b[0] = 0x4f;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv4,
                needed: 60,
                available: 32
            }
        );
        assert_eq!(
            Packet::new_checked(&TCP_SYN[..19]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv4,
                needed: 20,
                available: 19
            }
        );
        let mut b = TCP_SYN;
        b[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(matches!(
            Packet::new_checked(&b[..]),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn snaplen_cut_payload_is_lax_but_not_strict() {
        let cut = &TCP_SYN[..40];
        assert_eq!(
            Packet::new_checked(cut).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv4,
                needed: 60,
                available: 40
            }
        );
        let p = Packet::new_checked_header(cut).unwrap();
        assert!(p.is_truncated());
        assert_eq!(p.payload(), &TCP_SYN[20..40]);
        assert_eq!(p.payload_len(), 40);
        // Header cut: both refuse.
        assert_eq!(
            Packet::new_checked_header(&IGMP_RA[..22]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv4,
                needed: 24,
                available: 22
            }
        );
    }

    #[test]
    fn zero_total_length_is_lax_only() {
        // As tcpdump's `bigtcp-ipv4-*.pcap` captures show a BIG TCP datagram.
        let mut b = TCP_SYN;
        b[2..4].fill(0);
        assert!(matches!(
            Packet::new_checked(&b[..]),
            Err(Error::Malformed { .. })
        ));
        let p = Packet::new_checked_header(&b[..]).unwrap();
        assert!(p.is_zero_total_len() && !p.is_truncated());
        assert_eq!((p.datagram_len(), p.payload_len()), (60, 40));
        assert_eq!(p.payload(), &TCP_SYN[20..]);
    }

    #[test]
    fn fragment_fields() {
        let mut b = TCP_SYN;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_dont_frag(false);
        p.set_more_frags(true);
        p.set_frag_offset(185);
        assert!(p.is_fragment() && p.is_non_first_fragment());
        assert_eq!(p.frag_offset_bytes(), 1480);
        p.set_more_frags(false);
        assert!(p.is_fragment());
        p.set_frag_offset(0);
        assert!(!p.is_fragment());
    }

    #[test]
    fn emit_rejects_bad_options_and_short_buffers() {
        let p = Packet::new_checked(&TCP_SYN[..]).unwrap();
        let mut repr = Repr::parse(&p).unwrap();
        let opts = [1u8, 1, 1];
        repr.options = &opts;
        let mut out = [0u8; 60];
        assert!(repr.emit(&mut Packet::new_unchecked(&mut out[..])).is_err());
        repr.options = &[];
        assert!(matches!(
            repr.emit(&mut Packet::new_unchecked(&mut out[..10])),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn protocol_names() {
        assert_eq!(Protocol::TCP.to_string(), "tcp");
        assert_eq!(Protocol(253).to_string(), "253");
        assert!(Protocol::FRAGMENT.is_ipv6_extension());
        assert!(!Protocol::UDP.is_ipv6_extension());
        assert_eq!(format!("{:?}", Protocol::SCTP), "Protocol(132 sctp)");
    }

    fn arb_repr_parts() -> impl Strategy<Value = (Repr<'static>, Vec<u8>)> {
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            0usize..2000,
            any::<(u8, u8, u8, u16)>(),
            any::<(bool, bool, bool)>(),
            0u16..0x2000,
            (0usize..=10).prop_flat_map(|w| proptest::collection::vec(any::<u8>(), w * 4)),
        )
            .prop_map(
                |(s, d, proto, plen, (ttl, dscp, ecn, ident), (df, mf, rf), off, opts)| {
                    (
                        Repr {
                            src_addr: Address(s),
                            dst_addr: Address(d),
                            protocol: Protocol(proto),
                            payload_len: plen,
                            ttl,
                            dscp: dscp & 0x3f,
                            ecn: ecn & 0x03,
                            ident,
                            dont_frag: df,
                            more_frags: mf,
                            reserved_flag: rf,
                            frag_offset: off,
                            options: &[],
                        },
                        opts,
                    )
                },
            )
    }

    /// Calls every accessor: none may panic on a checked packet.
    fn touch_all<T: AsRef<[u8]> + ?Sized>(p: &Packet<&T>) {
        let _ = (
            p.version(),
            p.header_len(),
            p.dscp(),
            p.ecn(),
            p.total_len(),
            p.ident(),
        );
        let _ = (p.datagram_len(), p.is_zero_total_len());
        let _ = (
            p.dont_frag(),
            p.more_frags(),
            p.reserved_flag(),
            p.frag_offset_bytes(),
        );
        let _ = (
            p.is_fragment(),
            p.ttl(),
            p.protocol(),
            p.checksum(),
            p.src_addr(),
        );
        let _ = (
            p.dst_addr(),
            p.verify_checksum(),
            p.is_truncated(),
            p.payload_len(),
        );
        let _ = (p.options(), p.payload());
    }

    proptest! {
        #[test]
        fn repr_emit_parse_round_trip((mut repr, opts) in arb_repr_parts()) {
            repr.options = &opts;
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                touch_all(&p);
                let _ = Repr::parse(&p);
            }
            if let Ok(p) = Packet::new_checked_header(&bytes[..]) {
                touch_all(&p);
                prop_assert!(Repr::parse(&p).is_ok());
            }
        }

        #[test]
        fn version_4_prefix_never_panics(ihl in 0u8..16, rest in proptest::collection::vec(any::<u8>(), 0..70)) {
            let mut bytes = vec![0x40 | ihl];
            bytes.extend_from_slice(&rest);
            if let Ok(p) = Packet::new_checked_header(&bytes[..]) {
                touch_all(&p);
            }
        }
    }
}
