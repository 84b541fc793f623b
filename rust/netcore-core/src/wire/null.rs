//! BSD loopback encapsulation: a 4-byte address family before the packet.
//!
//! `LINKTYPE_NULL` (0) stores the family in the *capturing host's* byte order, so a capture from
//! a big-endian machine read on a little-endian one carries it swapped; `LINKTYPE_LOOP` (108,
//! OpenBSD) stores it in network byte order. The pcap header does not say which host wrote the
//! file, so [`detect`] does what Wireshark's null dissector does: family values are small, so if
//! the value read in the expected order has its upper 16 bits set and the byte-swapped value does
//! not, the header was written in the other order.
//!
//! Families: `AF_INET` is 2 everywhere; `AF_INET6` differs by system — 24 on NetBSD, OpenBSD and
//! BSD/OS, 28 on FreeBSD and `DragonFly` BSD, 30 on macOS/Darwin — and a capture may come from any of
//! them, so [`payload_kind`] accepts all three.

use super::ethernet::EtherType;
use super::{Error, Field, Layer, Rest, Result};

mod field {
    use super::{Field, Rest};

    pub const FAMILY: Field = 0..4;
    pub const PAYLOAD: Rest = 4..;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// `AF_INET` on every BSD and on macOS.
pub const AF_INET: u32 = 2;
/// `AF_INET6` on NetBSD, OpenBSD and BSD/OS.
pub const AF_INET6_BSD: u32 = 24;
/// `AF_INET6` on FreeBSD and `DragonFly` BSD.
pub const AF_INET6_FREEBSD: u32 = 28;
/// `AF_INET6` on macOS/Darwin.
pub const AF_INET6_DARWIN: u32 = 30;

/// What an address family announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// `AF_INET`.
    Ipv4,
    /// One of the `AF_INET6` values.
    Ipv6,
    /// Any other family (OSI, IPX, `AppleTalk`, …) or a garbled header.
    Unknown,
}

impl Payload {
    /// The ethertype to demultiplex the payload with, when it is IP.
    #[must_use]
    pub fn ethertype(self) -> Option<EtherType> {
        match self {
            Payload::Ipv4 => Some(EtherType::IPV4),
            Payload::Ipv6 => Some(EtherType::IPV6),
            Payload::Unknown => None,
        }
    }
}

/// Maps an address family to what follows it.
#[must_use]
pub fn payload_kind(family: u32) -> Payload {
    match family {
        AF_INET => Payload::Ipv4,
        AF_INET6_BSD | AF_INET6_FREEBSD | AF_INET6_DARWIN => Payload::Ipv6,
        _ => Payload::Unknown,
    }
}

/// Reads a family field: returns the family and whether it was big-endian. `big_endian_hint`
/// is the order to expect (false for `LINKTYPE_NULL` from a little-endian host, true for
/// `LINKTYPE_LOOP`); the other order wins when only it gives a value below 2^16.
#[must_use]
pub fn detect(bytes: [u8; 4], big_endian_hint: bool) -> (u32, bool) {
    let value = if big_endian_hint {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    };
    let swapped = value.swap_bytes();
    if value > 0xffff && swapped <= 0xffff {
        (swapped, !big_endian_hint)
    } else {
        (value, big_endian_hint)
    }
}

/// A read/write view of a null/loopback header followed by its payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors panic if it is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the 4-byte header. Errors name [`Layer::Null`], which
    /// covers both `LINKTYPE_NULL` and `LINKTYPE_LOOP`.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Null,
                needed: HEADER_LEN,
                available,
            });
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Length of the header (always [`HEADER_LEN`]).
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// The four bytes of the family field, as stored.
    #[must_use]
    pub fn family_bytes(&self) -> [u8; 4] {
        let d = &self.buffer.as_ref()[field::FAMILY];
        [d[0], d[1], d[2], d[3]]
    }

    /// The address family, read in the hinted order unless [`detect`] finds it swapped.
    #[must_use]
    pub fn family(&self, big_endian_hint: bool) -> u32 {
        detect(self.family_bytes(), big_endian_hint).0
    }

    /// Whether the family field is big-endian, by [`detect`].
    #[must_use]
    pub fn is_big_endian(&self, big_endian_hint: bool) -> bool {
        detect(self.family_bytes(), big_endian_hint).1
    }

    /// What follows the header (see [`payload_kind`]).
    #[must_use]
    pub fn payload_kind(&self, big_endian_hint: bool) -> Payload {
        payload_kind(self.family(big_endian_hint))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the header.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the family in the given byte order.
    pub fn set_family(&mut self, value: u32, big_endian: bool) {
        let bytes = if big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        };
        self.buffer.as_mut()[field::FAMILY].copy_from_slice(&bytes);
    }

    /// The bytes after the header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of a null/loopback header: the family and the byte order it was stored in.
///
/// For the order to be recoverable from the bytes, `family` must be in `1..=0xffff` (every real
/// family is): zero reads the same both ways and parses back as little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Address family.
    pub family: u32,
    /// Whether the field is big-endian (`LINKTYPE_LOOP`, or a big-endian capturing host).
    pub big_endian: bool,
}

impl Repr {
    /// Reads a checked view expecting little-endian (`LINKTYPE_NULL` from the common hosts),
    /// correcting the order when [`detect`] says so.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        Self::parse_with_hint(packet, false)
    }

    /// Reads a checked view expecting the given order (true for `LINKTYPE_LOOP`).
    pub fn parse_with_hint<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&T>,
        big_endian_hint: bool,
    ) -> Result<Repr> {
        packet.check_len()?;
        let (family, big_endian) = detect(packet.family_bytes(), big_endian_hint);
        Ok(Repr { family, big_endian })
    }

    /// What follows the header.
    #[must_use]
    pub fn payload_kind(&self) -> Payload {
        payload_kind(self.family)
    }

    /// Length of the header this emits.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `packet` (at least [`HEADER_LEN`] bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_family(self.family, self.big_endian);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// zeek `dns-svcb.pcap` frame 1 (tshark: `null:ip:udp:dns`), first 8 bytes: little-endian 2.
    static NULL_IPV4: [u8; 8] = [0x02, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x50];

    /// zeek `ssh/ssh-over-udp.pcap` frame 1 (tshark: `null:ipv6:udp:data`): little-endian 30,
    /// a macOS capture.
    static NULL_IPV6_DARWIN: [u8; 8] = [0x1e, 0x00, 0x00, 0x00, 0x60, 0x0d, 0x08, 0x00];

    /// The same IPv6 packet as a big-endian FreeBSD host or `LINKTYPE_LOOP` would store it.
    static LOOP_IPV6_FREEBSD: [u8; 8] = [0x00, 0x00, 0x00, 0x1c, 0x60, 0x0d, 0x08, 0x00];

    #[test]
    fn parse_fixtures() {
        let p = Packet::new_checked(&NULL_IPV4[..]).unwrap();
        assert_eq!(p.family(false), AF_INET);
        assert_eq!(p.family(true), AF_INET);
        assert!(!p.is_big_endian(true));
        assert_eq!(p.payload_kind(false), Payload::Ipv4);
        assert_eq!(p.payload()[0], 0x45);

        let p = Packet::new_checked(&NULL_IPV6_DARWIN[..]).unwrap();
        assert_eq!(p.family(false), AF_INET6_DARWIN);
        assert_eq!(p.payload_kind(true).ethertype(), Some(EtherType::IPV6));

        let p = Packet::new_checked(&LOOP_IPV6_FREEBSD[..]).unwrap();
        assert_eq!(p.family(false), AF_INET6_FREEBSD);
        assert!(p.is_big_endian(false));
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr {
                family: 28,
                big_endian: true
            }
        );
    }

    #[test]
    fn families() {
        assert_eq!(payload_kind(AF_INET6_BSD), Payload::Ipv6);
        assert_eq!(payload_kind(7), Payload::Unknown);
        assert_eq!(payload_kind(0), Payload::Unknown);
        assert_eq!(Payload::Unknown.ethertype(), None);
        // Both halves set: no order gives a small value, keep the hinted one.
        assert_eq!(detect([1, 2, 3, 4], false), (0x0403_0201, false));
        assert_eq!(detect([1, 2, 3, 4], true), (0x0102_0304, true));
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for bytes in [
            &NULL_IPV4[..4],
            &NULL_IPV6_DARWIN[..4],
            &LOOP_IPV6_FREEBSD[..4],
            &[1, 2, 3, 4][..],
        ] {
            for hint in [false, true] {
                let r = Repr::parse_with_hint(&Packet::new_checked(bytes).unwrap(), hint).unwrap();
                let mut out = [0u8; 4];
                r.emit(&mut Packet::new_unchecked(&mut out[..]));
                assert_eq!(&out[..], bytes);
            }
        }
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&NULL_IPV4[..3]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Null,
                needed: 4,
                available: 3
            }
        );
    }

    proptest! {
        #[test]
        fn repr_emit_parse(family in 1u32..=0xffff, big_endian in any::<bool>(), hint in any::<bool>()) {
            let r = Repr { family, big_endian };
            let mut buf = [0u8; HEADER_LEN];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse_with_hint(&p, hint).unwrap(), r);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..12), hint in any::<bool>()) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.family_bytes(), p.family(hint), p.is_big_endian(hint), p.payload_kind(hint), p.payload());
                let r = Repr::parse_with_hint(&p, hint).unwrap();
                let mut out = [0u8; 4];
                r.emit(&mut Packet::new_unchecked(&mut out[..]));
                prop_assert_eq!(&out[..], &data[..4]);
            }
        }
    }
}
