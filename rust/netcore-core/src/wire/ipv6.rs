//! IPv6 fixed header (RFC 8200 section 3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version| Traffic Class |           Flow Label                  |
//! |         Payload Length        |  Next Header  |   Hop Limit   |
//! |                   Source Address (128 bits)                   |
//! |                Destination Address (128 bits)                 |
//! ```
//!
//! As for IPv4 there are two levels of checking: [`Packet::new_checked`] requires all
//! `payload_len` bytes to be present, [`Packet::new_checked_header`] only the 40-byte header
//! (for captures cut by their snapshot length). Bytes past the payload length (link-layer
//! padding) are not payload, as the kernel trims them in `ip6_rcv_core`.
//!
//! A payload length of zero with a hop-by-hop header next is a jumbogram (RFC 2675): the real
//! length is in the Jumbo Payload option ([`crate::wire::ipv6_ext::Ipv6Option::JumboPayload`]).
//! For such a packet the payload runs to the end of the buffer, as in the kernel's
//! `ip6_rcv_core` (which leaves the length to `ipv6_hop_jumbo`).
//!
//! Extension headers are read by [`crate::wire::ipv6_ext`].

use core::fmt;

use crate::wire::ipv4::Protocol;
use crate::wire::{Error, Layer, Result};

mod field {
    use crate::wire::Field;

    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// An IPv6 address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 16]);

impl Address {
    /// `::`.
    pub const UNSPECIFIED: Address = Address([0; 16]);
    /// `::1`.
    pub const LOOPBACK: Address = Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

    /// An address from its eight 16-bit groups.
    #[must_use]
    pub const fn new(groups: [u16; 8]) -> Address {
        let mut b = [0u8; 16];
        let mut i = 0;
        while i < 8 {
            let [hi, lo] = groups[i].to_be_bytes();
            b[2 * i] = hi;
            b[2 * i + 1] = lo;
            i += 1;
        }
        Address(b)
    }

    /// The address from the first 16 bytes of `bytes`, if there are that many.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Address> {
        let b: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
        Some(Address(b))
    }

    /// The address's octets, in network order.
    #[must_use]
    pub const fn octets(self) -> [u8; 16] {
        self.0
    }

    /// The eight 16-bit groups.
    #[must_use]
    pub const fn segments(self) -> [u16; 8] {
        let mut g = [0u16; 8];
        let mut i = 0;
        while i < 8 {
            g[i] = u16::from_be_bytes([self.0[2 * i], self.0[2 * i + 1]]);
            i += 1;
        }
        g
    }

    /// Whether this is `::`.
    #[must_use]
    pub const fn is_unspecified(self) -> bool {
        u128::from_be_bytes(self.0) == 0
    }

    /// Whether this is `::1`.
    #[must_use]
    pub const fn is_loopback(self) -> bool {
        u128::from_be_bytes(self.0) == 1
    }

    /// Whether this is a multicast address (`ff00::/8`).
    #[must_use]
    pub const fn is_multicast(self) -> bool {
        self.0[0] == 0xff
    }

    /// Whether this is a unicast link-local address (`fe80::/10`).
    #[must_use]
    pub const fn is_link_local(self) -> bool {
        self.0[0] == 0xfe && self.0[1] & 0xc0 == 0x80
    }
}

impl From<[u8; 16]> for Address {
    fn from(octets: [u8; 16]) -> Address {
        Address(octets)
    }
}

impl From<Address> for [u8; 16] {
    fn from(a: Address) -> [u8; 16] {
        a.0
    }
}

impl From<std::net::Ipv6Addr> for Address {
    fn from(a: std::net::Ipv6Addr) -> Address {
        Address(a.octets())
    }
}

impl From<Address> for std::net::Ipv6Addr {
    fn from(a: Address) -> std::net::Ipv6Addr {
        std::net::Ipv6Addr::from(a.0)
    }
}

impl fmt::Display for Address {
    /// RFC 5952 text form: lowercase hex, leading zeros dropped, the longest run of two or more
    /// zero groups (the first if tied) shortened to `::`, and IPv4-mapped addresses written
    /// `::ffff:a.b.c.d` (section 5). This is the form `std::net::Ipv6Addr` prints, which the
    /// tests pin down against the RFC's examples.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&std::net::Ipv6Addr::from(self.0), f)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A view of an IPv6 fixed header and the packet it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it. Accessors may panic on a buffer shorter than 40
    /// bytes; use only on buffers the caller built.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after checking that the whole packet is present ([`Self::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps `buffer` after checking only the fixed header ([`Self::check_header_len`]).
    pub fn new_checked_header(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_header_len()?;
        Ok(p)
    }

    /// Checks the header and that all `payload_len` bytes follow it (`Truncated` with `needed`
    /// set to 40 + payload length otherwise).
    pub fn check_len(&self) -> Result<()> {
        self.check_header_len()?;
        let available = self.buffer.as_ref().len();
        let needed = HEADER_LEN + usize::from(self.payload_len());
        if needed > available {
            return Err(Error::Truncated {
                layer: Layer::Ipv6,
                needed,
                available,
            });
        }
        Ok(())
    }

    /// Checks what every accessor relies on: version 6 and 40 bytes present.
    pub fn check_header_len(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        let Some(&first) = d.first() else {
            return Err(Error::Truncated {
                layer: Layer::Ipv6,
                needed: HEADER_LEN,
                available: 0,
            });
        };
        if first >> 4 != 6 {
            return Err(Error::Malformed {
                layer: Layer::Ipv6,
                what: "version is not 6",
            });
        }
        if d.len() < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Ipv6,
                needed: HEADER_LEN,
                available: d.len(),
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

    fn first_word(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// The version field (6 for a checked packet).
    pub fn version(&self) -> u8 {
        (self.first_word() >> 28) as u8
    }

    /// Traffic class (DSCP and ECN).
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// DSCP: the 6 high bits of the traffic class.
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// ECN: the 2 low bits of the traffic class.
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & 0x000f_ffff
    }

    /// Payload length: bytes after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[4], d[5]])
    }

    /// The next header: the first extension header or the upper-layer protocol.
    pub fn next_header(&self) -> Protocol {
        Protocol(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Address {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC_ADDR]);
        Address(a)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Address {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST_ADDR]);
        Address(a)
    }

    /// Whether the header announces a jumbogram: payload length 0 with a hop-by-hop header
    /// next (RFC 2675 section 2).
    pub fn is_jumbogram(&self) -> bool {
        self.payload_len() == 0 && self.next_header() == Protocol::HOPOPT
    }

    /// Whether the buffer holds fewer bytes than the header announces.
    pub fn is_truncated(&self) -> bool {
        self.buffer.as_ref().len() < HEADER_LEN + usize::from(self.payload_len())
    }

    fn payload_range(&self) -> core::ops::Range<usize> {
        let len = self.buffer.as_ref().len();
        let end = if self.is_jumbogram() {
            len
        } else {
            (HEADER_LEN + usize::from(self.payload_len())).min(len)
        };
        HEADER_LEN.min(end)..end
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload bytes present (extension headers included): up to the payload length, or
    /// to the end of the buffer for a jumbogram or a capture cut short.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let range = self.payload_range();
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(range).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_first_word(&mut self, w: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets the version field.
    pub fn set_version(&mut self, version: u8) {
        let w = self.first_word();
        self.set_first_word((w & 0x0fff_ffff) | (u32::from(version & 0x0f) << 28));
    }

    /// Sets the traffic class.
    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = self.first_word();
        self.set_first_word((w & 0xf00f_ffff) | (u32::from(tc) << 20));
    }

    /// Sets the flow label (20 bits; higher bits ignored).
    pub fn set_flow_label(&mut self, label: u32) {
        let w = self.first_word();
        self.set_first_word((w & 0xfff0_0000) | (label & 0x000f_ffff));
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, next: Protocol) {
        self.buffer.as_mut()[field::NXT_HDR] = next.0;
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.0);
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.0);
    }

    /// The payload bytes present, mutable (see [`Packet::payload`]).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

/// The meaning of an IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Address,
    /// Destination address.
    pub dst_addr: Address,
    /// Next header (first extension header or upper-layer protocol).
    pub next_header: Protocol,
    /// Payload length in bytes, extension headers included.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Repr {
    /// Reads a fixed header (checked as [`Packet::check_header_len`] does; the payload may be
    /// cut short).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_header_len()?;
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Header length: always 40.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes the packet occupies: header plus payload.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the fixed header (not the payload) into `packet`.
    ///
    /// Fails with `Malformed` if the payload length exceeds 65535 (jumbograms are written by
    /// setting `payload_len` to 0 and adding the option) or the flow label exceeds 20 bits, and
    /// with `Truncated` if the buffer is shorter than 40 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let Ok(len) = u16::try_from(self.payload_len) else {
            return Err(Error::Malformed {
                layer: Layer::Ipv6,
                what: "payload over 65535 bytes",
            });
        };
        if self.flow_label > 0x000f_ffff {
            return Err(Error::Malformed {
                layer: Layer::Ipv6,
                what: "flow label over 20 bits",
            });
        }
        let available = packet.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Ipv6,
                needed: HEADER_LEN,
                available,
            });
        }
        packet.set_first_word((6 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label);
        packet.set_payload_len(len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// TCP SYN-ACK over IPv6 from pcapplusplus `tls.pcap` frame 27 (Ethernet header removed);
    /// TCP checksum good per tshark.
    static SYN_ACK: [u8; 72] = [
        0x62, 0x0a, 0x21, 0xf5, 0x00, 0x20, 0x06, 0x7a, 0x26, 0x07, 0xf8, 0xb0, 0x40, 0x05, 0x08,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x03, 0x26, 0x01, 0x06, 0x47, 0x4b, 0x02,
        0x1d, 0x20, 0xe4, 0xa1, 0x6d, 0xfa, 0x6f, 0x66, 0xe3, 0x99, 0x01, 0xbb, 0xc5, 0x79, 0xbb,
        0xf1, 0xf0, 0x26, 0xe3, 0xd3, 0xa0, 0x46, 0x80, 0x12, 0xff, 0xff, 0xb7, 0x33, 0x00, 0x00,
        0x02, 0x04, 0x05, 0x50, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x08,
    ];

    #[test]
    fn fixture_fields() {
        let p = Packet::new_checked(&SYN_ACK[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0x20);
        assert_eq!(p.dscp(), 8);
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.flow_label(), 0xa21f5);
        assert_eq!(p.payload_len(), 32);
        assert_eq!(p.next_header(), Protocol::TCP);
        assert_eq!(p.hop_limit(), 0x7a);
        assert_eq!(p.src_addr().to_string(), "2607:f8b0:4005:802::2003");
        assert_eq!(
            p.dst_addr().to_string(),
            "2601:647:4b02:1d20:e4a1:6dfa:6f66:e399"
        );
        assert_eq!(p.payload(), &SYN_ACK[40..]);
        assert!(!p.is_truncated() && !p.is_jumbogram());
    }

    #[test]
    fn fixture_round_trip() {
        let p = Packet::new_checked(&SYN_ACK[..]).unwrap();
        let repr = Repr::parse(&p).unwrap();
        assert_eq!(repr.buffer_len(), SYN_ACK.len());
        let mut out = vec![0u8; repr.buffer_len()];
        let mut q = Packet::new_unchecked(&mut out[..]);
        repr.emit(&mut q).unwrap();
        q.payload_mut().copy_from_slice(p.payload());
        assert_eq!(out, SYN_ACK);
    }

    #[test]
    fn checked_errors() {
        assert_eq!(
            Packet::new_checked(&SYN_ACK[..39]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv6,
                needed: 40,
                available: 39
            }
        );
        assert_eq!(
            Packet::new_checked(&SYN_ACK[..50]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ipv6,
                needed: 72,
                available: 50
            }
        );
        let lax = Packet::new_checked_header(&SYN_ACK[..50]).unwrap();
        assert!(lax.is_truncated());
        assert_eq!(lax.payload(), &SYN_ACK[40..50]);
        let mut b = SYN_ACK;
        b[0] = 0x42;
        assert!(matches!(
            Packet::new_checked(&b[..]),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            Packet::new_checked(&[][..]),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn padding_excluded_and_jumbogram_runs_to_end() {
        let mut b = SYN_ACK.to_vec();
        b.extend_from_slice(&[0xee; 6]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), &SYN_ACK[40..]);
        let mut j = b.clone();
        let mut q = Packet::new_unchecked(&mut j[..]);
        q.set_payload_len(0);
        q.set_next_header(Protocol::HOPOPT);
        let q = Packet::new_checked(&j[..]).unwrap();
        assert!(q.is_jumbogram());
        assert_eq!(q.payload().len(), b.len() - 40);
    }

    #[test]
    fn rfc5952_text_form() {
        let cases: [([u16; 8], &str); 7] = [
            // Section 4.1: leading zeros dropped; 4.3: lowercase.
            ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
            // Section 4.2.2: a single zero group is not shortened.
            ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),
            // Section 4.2.3: the longest run is shortened, the first when tied.
            ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),
            ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),
            ([0xfe80, 0, 0, 0, 0xabcd, 0xef, 0, 0], "fe80::abcd:ef:0:0"),
            // Section 5: IPv4-mapped addresses end in dotted decimal.
            (
                [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280],
                "::ffff:192.0.2.128",
            ),
            ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ];
        for (groups, text) in cases {
            assert_eq!(Address::new(groups).to_string(), text);
            assert_eq!(Address::new(groups).segments(), groups);
        }
        assert!(Address::LOOPBACK.is_loopback());
        assert!(Address::new([0xfe80, 0, 0, 0, 0, 0, 0, 1]).is_link_local());
        assert!(Address::new([0xff02, 0, 0, 0, 0, 0, 0, 1]).is_multicast());
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<u8>(),
            0usize..3000,
            any::<(u8, u8)>(),
            0u32..0x10_0000,
        )
            .prop_map(|(s, d, nh, len, (hl, tc), fl)| Repr {
                src_addr: Address(s),
                dst_addr: Address(d),
                next_header: Protocol(nh),
                payload_len: len,
                hop_limit: hl,
                traffic_class: tc,
                flow_label: fl,
            })
    }

    proptest! {
        #[test]
        fn repr_emit_parse_round_trip(repr in arb_repr()) {
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..120), v6 in any::<bool>()) {
            if v6 && !bytes.is_empty() {
                bytes[0] = 0x60 | (bytes[0] & 0x0f);
            }
            for p in [Packet::new_checked(&bytes[..]), Packet::new_checked_header(&bytes[..])].into_iter().flatten() {
                let _ = (p.version(), p.traffic_class(), p.dscp(), p.ecn(), p.flow_label());
                let _ = (p.payload_len(), p.next_header(), p.hop_limit(), p.src_addr(), p.dst_addr());
                let _ = (p.is_jumbogram(), p.is_truncated(), p.payload());
                prop_assert!(Repr::parse(&p).is_ok());
            }
        }
    }
}
