//! UDP header (RFC 768).
//!
//! ```text
//! |          Source Port          |       Destination Port        |
//! |            Length             |           Checksum            |
//! ```
//!
//! The length field covers header and payload. [`Packet::new_checked`] refuses a length below
//! 8 (`Malformed`) or beyond the buffer (`Truncated`); [`Packet::new_checked_header`] accepts a
//! payload cut by a capture's snapshot length. [`Packet::payload`] stops at the length field,
//! so bytes after it (IP or link padding) are not payload — the kernel trims them the same way
//! (`pskb_trim_rcsum` in `__udp4_lib_rcv`).
//!
//! Checksum rules differ by IP version:
//! - over IPv4 a zero checksum means the sender computed none (RFC 768), so it is
//!   [`Verdict::NotPresent`], and a computed sum of zero is sent as `0xffff`;
//! - over IPv6 the checksum is mandatory (RFC 8200 section 8.1): a zero checksum is
//!   [`Verdict::Illegal`] and receivers discard the datagram (the kernel's `__udp6_lib_rcv`,
//!   unless a tunnel socket opted in to RFC 6936 zero checksums with `no_check6_rx`).
//!
//! IPv6 jumbograms (RFC 2675) carry a zero length field; this view refuses them like any
//! length below 8, and a caller that has seen the Jumbo Payload option can use
//! [`Packet::new_unchecked`] over exactly the datagram's bytes.

use crate::checksum;
use crate::wire::verdict::Verdict;
use crate::wire::{Error, Layer, Result, ipv4, ipv6};

mod field {
    use crate::wire::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = 8;

fn be16(d: &[u8], f: crate::wire::Field) -> u16 {
    u16::from_be_bytes([d[f.start], d[f.start + 1]])
}

/// A view of a UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it. Accessors may panic on a buffer shorter than 8
    /// bytes; use only on buffers the caller built.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps `buffer` after [`Self::check_header_len`] (the payload may be cut short).
    pub fn new_checked_header(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_header_len()?;
        Ok(p)
    }

    /// Checks the header and that all `len` bytes are present.
    pub fn check_len(&self) -> Result<()> {
        self.check_header_len()?;
        let available = self.buffer.as_ref().len();
        let needed = usize::from(self.len());
        if needed > available {
            return Err(Error::Truncated {
                layer: Layer::Udp,
                needed,
                available,
            });
        }
        Ok(())
    }

    /// Checks that the 8-byte header is present and the length field is at least 8.
    pub fn check_header_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Udp,
                needed: HEADER_LEN,
                available,
            });
        }
        if usize::from(self.len()) < HEADER_LEN {
            return Err(Error::Malformed {
                layer: Layer::Udp,
                what: "length below 8",
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// The length field: header plus payload.
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Whether the length field announces no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// The checksum field (0: none computed, meaningful over IPv4 only).
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Whether the buffer holds fewer bytes than the length field announces.
    pub fn is_truncated(&self) -> bool {
        self.buffer.as_ref().len() < usize::from(self.len())
    }

    /// The bytes the checksum covers (`len` bytes), if all are present.
    fn covered(&self) -> Option<&[u8]> {
        self.buffer.as_ref().get(..usize::from(self.len()))
    }

    /// Whether the checksum is correct given the pseudo-header partial sum `pseudo` (built
    /// with protocol 17 and the length field). A zero field is not special here; see
    /// [`Self::verdict`]. False if the datagram is cut short.
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        self.covered()
            .is_some_and(|c| checksum::fold(checksum::partial(c, pseudo)) == 0)
    }

    /// The checksum verdict given the pseudo-header partial sum and what a zero checksum
    /// means for the IP version (`on_zero`: [`Verdict::NotPresent`] over IPv4,
    /// [`Verdict::Illegal`] over IPv6): `Unverified` when the datagram is cut short.
    pub fn verdict(&self, pseudo: u32, on_zero: Verdict) -> Verdict {
        if self.checksum() == 0 {
            return on_zero;
        }
        if self.covered().is_none() {
            return Verdict::Unverified;
        }
        Verdict::from_ok(self.verify_checksum(pseudo))
    }

    /// The checksum verdict over IPv4: zero is `NotPresent` (RFC 768).
    pub fn verdict_v4(&self, src: ipv4::Address, dst: ipv4::Address) -> Verdict {
        self.verdict(self.pseudo_v4(src, dst), Verdict::NotPresent)
    }

    /// The checksum verdict over IPv6: zero is `Illegal` (RFC 8200 section 8.1).
    pub fn verdict_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> Verdict {
        self.verdict(self.pseudo_v6(src, dst), Verdict::Illegal)
    }

    /// [`Self::verify_checksum`] with the IPv4 pseudo-header built from the addresses.
    pub fn verify_checksum_v4(&self, src: ipv4::Address, dst: ipv4::Address) -> bool {
        self.verify_checksum(self.pseudo_v4(src, dst))
    }

    /// [`Self::verify_checksum`] with the IPv6 pseudo-header built from the addresses.
    pub fn verify_checksum_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> bool {
        self.verify_checksum(self.pseudo_v6(src, dst))
    }

    fn pseudo_v4(&self, src: ipv4::Address, dst: ipv4::Address) -> u32 {
        checksum::pseudo_v4(src.0, dst.0, ipv4::Protocol::UDP.0, self.len())
    }

    fn pseudo_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> u32 {
        checksum::pseudo_v6(&src.0, &dst.0, ipv4::Protocol::UDP.0, u32::from(self.len()))
    }

    fn payload_range(&self) -> core::ops::Range<usize> {
        let end = usize::from(self.len()).min(self.buffer.as_ref().len());
        HEADER_LEN.min(end)..end
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload present: from byte 8 to the length field, or to the end of the buffer if
    /// the capture was cut shorter.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let range = self.payload_range();
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(range).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set16(&mut self, f: crate::wire::Field, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        self.set16(field::SRC_PORT, port);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        self.set16(field::DST_PORT, port);
    }

    /// Sets the length field.
    pub fn set_len(&mut self, len: u16) {
        self.set16(field::LENGTH, len);
    }

    /// Sets the checksum field as given.
    pub fn set_checksum(&mut self, checksum: u16) {
        self.set16(field::CHECKSUM, checksum);
    }

    /// Computes the checksum over the `len` bytes with pseudo-header partial sum `pseudo` and
    /// stores it, writing a computed zero as `0xffff` (RFC 768: zero would mean "none").
    /// Leaves the field alone if the datagram is cut short.
    pub fn fill_checksum(&mut self, pseudo: u32) {
        self.set_checksum(0);
        let Some(c) = self
            .covered()
            .map(|c| checksum::fold(checksum::partial(c, pseudo)))
        else {
            return;
        };
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// [`Self::fill_checksum`] with the IPv4 pseudo-header built from the addresses.
    pub fn fill_checksum_v4(&mut self, src: ipv4::Address, dst: ipv4::Address) {
        let p = self.pseudo_v4(src, dst);
        self.fill_checksum(p);
    }

    /// [`Self::fill_checksum`] with the IPv6 pseudo-header built from the addresses.
    pub fn fill_checksum_v6(&mut self, src: &ipv6::Address, dst: &ipv6::Address) {
        let p = self.pseudo_v6(src, dst);
        self.fill_checksum(p);
    }

    /// The payload present, mutable (see [`Packet::payload`]).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

/// The meaning of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a datagram checked as [`Packet::check_len`] does (the checksum is not checked).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload: packet.payload(),
        })
    }

    /// Header length: always 8.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes the datagram occupies.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes the datagram into `packet` and fills the checksum with pseudo-header partial
    /// sum `pseudo`, or leaves it zero ("none", IPv4 only) when `pseudo` is `None`.
    ///
    /// Fails with `Malformed` over 65535 bytes, `Truncated` if the buffer is too short.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        pseudo: Option<u32>,
    ) -> Result<()> {
        let Ok(len) = u16::try_from(self.buffer_len()) else {
            return Err(Error::Malformed {
                layer: Layer::Udp,
                what: "datagram over 65535 bytes",
            });
        };
        let available = packet.buffer.as_ref().len();
        if available < self.buffer_len() {
            return Err(Error::Truncated {
                layer: Layer::Udp,
                needed: self.buffer_len(),
                available,
            });
        }
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.payload_mut().copy_from_slice(self.payload);
        match pseudo {
            Some(p) => packet.fill_checksum(p),
            None => packet.set_checksum(0),
        }
        Ok(())
    }

    /// [`Self::emit`] with the IPv4 pseudo-header built from the addresses.
    pub fn emit_v4<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: ipv4::Address,
        dst: ipv4::Address,
    ) -> Result<()> {
        let len = u16::try_from(self.buffer_len()).unwrap_or(0);
        self.emit(
            packet,
            Some(checksum::pseudo_v4(
                src.0,
                dst.0,
                ipv4::Protocol::UDP.0,
                len,
            )),
        )
    }

    /// [`Self::emit`] with the IPv6 pseudo-header built from the addresses.
    pub fn emit_v6<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: &ipv6::Address,
        dst: &ipv6::Address,
    ) -> Result<()> {
        let len = u32::try_from(self.buffer_len()).unwrap_or(0);
        self.emit(
            packet,
            Some(checksum::pseudo_v6(
                &src.0,
                &dst.0,
                ipv4::Protocol::UDP.0,
                len,
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// NTP over IPv4 from pcap-parser `ntp.pcap` frame 1 (UDP part), 192.168.1.95 ->
    /// 17.253.4.253; checksum good per tshark.
    static NTP_V4: [u8; 56] = [
        0x00, 0x7b, 0x00, 0x7b, 0x00, 0x38, 0x3a, 0x80, 0xe3, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xdb, 0xac, 0xa3, 0xe8, 0x77, 0xc4, 0x08, 0xac,
    ];
    const NTP_SRC: ipv4::Address = ipv4::Address::new(192, 168, 1, 95);
    const NTP_DST: ipv4::Address = ipv4::Address::new(17, 253, 4, 253);

    /// Geneve's outer UDP header from libpcap `filter/geneve.pcap` frame 1: checksum zero,
    /// which tshark reports as `not_present` (only the header and 8 payload bytes kept; the
    /// length field says 122).
    static GENEVE_ZERO: [u8; 16] = [
        0x31, 0x4a, 0x17, 0xc1, 0x00, 0x7a, 0x00, 0x00, 0x02, 0x40, 0x65, 0x58, 0x00, 0x00, 0x0a,
        0x00,
    ];

    /// mDNS query over IPv6 from pcapplusplus `DnsEdit.pcap` frame 6: header and the first 16
    /// payload bytes (the datagram is 171 bytes; used for the header fields and truncation).
    static DNS_V6_HEAD: [u8; 24] = [
        0x14, 0xe9, 0x00, 0x35, 0x00, 0xab, 0x56, 0xbc, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x01, 0x0c, 0x59, 0x61, 0x65,
    ];

    #[test]
    fn ntp_fields_checksum_round_trip() {
        let p = Packet::new_checked(&NTP_V4[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.len(), p.checksum()),
            (123, 123, 56, 0x3a80)
        );
        assert_eq!(p.payload().len(), 48);
        assert!(p.verify_checksum_v4(NTP_SRC, NTP_DST));
        assert_eq!(p.verdict_v4(NTP_SRC, NTP_DST), Verdict::Good);
        assert_eq!(p.verdict_v4(NTP_DST, NTP_DST), Verdict::Bad);
        let repr = Repr::parse(&p).unwrap();
        let mut out = [0u8; 56];
        repr.emit_v4(&mut Packet::new_unchecked(&mut out[..]), NTP_SRC, NTP_DST)
            .unwrap();
        assert_eq!(out, NTP_V4);
    }

    #[test]
    fn zero_checksum_by_ip_version() {
        let p = Packet::new_checked_header(&GENEVE_ZERO[..]).unwrap();
        assert_eq!(p.checksum(), 0);
        assert!(p.is_truncated());
        let a = ipv4::Address::new(20, 0, 0, 1);
        let b = ipv4::Address::new(20, 0, 0, 2);
        assert_eq!(p.verdict_v4(a, b), Verdict::NotPresent);
        assert_eq!(
            p.verdict_v6(&ipv6::Address::LOOPBACK, &ipv6::Address::LOOPBACK),
            Verdict::Illegal
        );
        // Emit without a checksum reproduces the zero field.
        let repr = Repr {
            src_port: 12618,
            dst_port: 6081,
            payload: &[1, 2, 3],
        };
        let mut out = [0xffu8; 11];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]), None)
            .unwrap();
        assert_eq!(&out[..8], &[0x31, 0x4a, 0x17, 0xc1, 0x00, 0x0b, 0x00, 0x00]);
    }

    #[test]
    fn truncated_datagram_is_unverified() {
        assert_eq!(
            Packet::new_checked(&DNS_V6_HEAD[..]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Udp,
                needed: 171,
                available: 24
            }
        );
        let p = Packet::new_checked_header(&DNS_V6_HEAD[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (5353, 53, 171));
        assert_eq!(p.payload(), &DNS_V6_HEAD[8..]);
        assert_eq!(
            p.verdict_v6(&ipv6::Address::LOOPBACK, &ipv6::Address::LOOPBACK),
            Verdict::Unverified
        );
        assert!(!p.verify_checksum(0));
    }

    #[test]
    fn length_checks_and_padding() {
        let mut b = NTP_V4;
        b[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed {
                layer: Layer::Udp,
                what: "length below 8"
            }
        );
        assert!(matches!(
            Packet::new_checked(&NTP_V4[..7]),
            Err(Error::Truncated { .. })
        ));
        // Trailing padding after the length is not payload and not summed.
        let mut padded = NTP_V4.to_vec();
        padded.extend_from_slice(&[0xaa; 5]);
        let p = Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload().len(), 48);
        assert!(p.verify_checksum_v4(NTP_SRC, NTP_DST));
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose a pseudo-header sum that makes the datagram sum to 0xffff before the
        // complement, so the computed checksum is 0.
        let mut d = [0u8, 1, 0, 2, 0, 8, 0, 0];
        let s = checksum::partial(&d, 0);
        let pseudo = u32::from(!checksum::fold(s)) ^ 0xffff; // sum(d) + pseudo == 0xffff
        let mut p = Packet::new_unchecked(&mut d[..]);
        p.fill_checksum(pseudo);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(pseudo));
    }

    proptest! {
        #[test]
        fn repr_emit_parse_round_trip(src in any::<u16>(), dst in any::<u16>(),
                                      payload in proptest::collection::vec(any::<u8>(), 0..200),
                                      pseudo in any::<u32>()) {
            let repr = Repr { src_port: src, dst_port: dst, payload: &payload };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), Some(pseudo)).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(pseudo));
            prop_assert_ne!(p.checksum(), 0);
            prop_assert_eq!(p.verdict(pseudo, Verdict::Illegal), Verdict::Good);
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            for p in [Packet::new_checked(&bytes[..]), Packet::new_checked_header(&bytes[..])].into_iter().flatten() {
                let _ = (p.src_port(), p.dst_port(), p.len(), p.is_empty(), p.checksum(), p.payload());
                let _ = (p.is_truncated(), p.verdict(0, Verdict::NotPresent), p.verify_checksum(7));
            }
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                prop_assert!(Repr::parse(&p).is_ok());
            }
        }
    }
}
