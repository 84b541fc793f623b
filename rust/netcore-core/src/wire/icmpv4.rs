//! ICMP for IPv4 (RFC 792, RFC 1191 for "fragmentation needed").
//!
//! ```text
//! |     Type      |     Code      |          Checksum             |
//! |                     Rest of header                            |
//! |                     Data ...                                  |
//! ```
//!
//! The rest of the header depends on the type: identifier and sequence number for echo
//! (types 0/8), the next-hop MTU in its low 16 bits for "fragmentation needed" (3/4, RFC 1191),
//! a pointer in its first byte for parameter problem (12), the gateway for redirect (5), unused
//! otherwise. Error messages carry the start of the datagram that caused them (the invoking
//! datagram) as data.
//!
//! The view spans one ICMP message exactly (the IPv4 payload): the checksum covers all of it,
//! with no pseudo-header.

use crate::checksum;
use crate::wire::{Error, Layer, Result, ipv4};

mod field {
    use crate::wire::{Field, Rest};

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const REST: Field = 4..8;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQNO: Field = 6..8;
    pub const MTU: Field = 6..8;
    pub const POINTER: usize = 4;
    pub const GATEWAY: Field = 4..8;
    pub const DATA: Rest = 8..;
}

/// Length of the header (type, code, checksum, rest of header).
pub const HEADER_LEN: usize = 8;

/// Most invoking-datagram bytes an error should quote: an error must fit in 576 bytes
/// (RFC 1812 section 4.3.2.3), so 576 - 20 (IPv4 header) - 8 (ICMP header). The kernel's
/// `icmp_send` applies the same bound.
pub const MAX_INVOKING_LEN: usize = 576 - 20 - HEADER_LEN;

/// The longest prefix of `datagram` an ICMP error should quote ([`MAX_INVOKING_LEN`]).
#[must_use]
pub fn invoking_prefix(datagram: &[u8]) -> &[u8] {
    datagram.get(..MAX_INVOKING_LEN).unwrap_or(datagram)
}

/// An ICMP message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Message(pub u8);

impl Message {
    /// Echo reply.
    pub const ECHO_REPLY: Message = Message(0);
    /// Destination unreachable.
    pub const DST_UNREACHABLE: Message = Message(3);
    /// Source quench (deprecated, RFC 6633).
    pub const SOURCE_QUENCH: Message = Message(4);
    /// Redirect.
    pub const REDIRECT: Message = Message(5);
    /// Echo request.
    pub const ECHO_REQUEST: Message = Message(8);
    /// Router advertisement (RFC 1256).
    pub const ROUTER_ADVERT: Message = Message(9);
    /// Router solicitation (RFC 1256).
    pub const ROUTER_SOLICIT: Message = Message(10);
    /// Time exceeded.
    pub const TIME_EXCEEDED: Message = Message(11);
    /// Parameter problem.
    pub const PARAM_PROBLEM: Message = Message(12);
    /// Timestamp request.
    pub const TIMESTAMP: Message = Message(13);
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: Message = Message(14);
    /// Extended echo request (RFC 8335).
    pub const EXT_ECHO_REQUEST: Message = Message(42);
    /// Extended echo reply (RFC 8335).
    pub const EXT_ECHO_REPLY: Message = Message(43);

    /// Whether this is an error message that quotes an invoking datagram (the kernel's
    /// `icmp_is_err`: unreachable, source quench, redirect, time exceeded, parameter problem).
    #[must_use]
    pub const fn is_error(self) -> bool {
        matches!(self.0, 3 | 4 | 5 | 11 | 12)
    }

    /// The type's name, if known.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "echo-reply",
            3 => "destination-unreachable",
            4 => "source-quench",
            5 => "redirect",
            8 => "echo-request",
            9 => "router-advertisement",
            10 => "router-solicitation",
            11 => "time-exceeded",
            12 => "parameter-problem",
            13 => "timestamp-request",
            14 => "timestamp-reply",
            42 => "extended-echo-request",
            43 => "extended-echo-reply",
            _ => return None,
        })
    }
}

/// Codes of the error types.
pub mod code {
    /// Destination unreachable: network.
    pub const NET_UNREACHABLE: u8 = 0;
    /// Destination unreachable: host.
    pub const HOST_UNREACHABLE: u8 = 1;
    /// Destination unreachable: protocol.
    pub const PROTO_UNREACHABLE: u8 = 2;
    /// Destination unreachable: port.
    pub const PORT_UNREACHABLE: u8 = 3;
    /// Destination unreachable: fragmentation needed and DF set (RFC 1191).
    pub const FRAG_NEEDED: u8 = 4;
    /// Destination unreachable: administratively prohibited (RFC 1812).
    pub const ADMIN_PROHIBITED: u8 = 13;
    /// Time exceeded: TTL exceeded in transit.
    pub const TTL_EXCEEDED: u8 = 0;
    /// Time exceeded: fragment reassembly time exceeded.
    pub const REASSEMBLY_EXCEEDED: u8 = 1;
}

fn be16(d: &[u8], f: crate::wire::Field) -> u16 {
    u16::from_be_bytes([d[f.start], d[f.start + 1]])
}

/// A view of an ICMP message.
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

    /// Checks that the 8-byte header is present.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Icmp,
                needed: HEADER_LEN,
                available,
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

    /// Message type.
    pub fn msg_type(&self) -> Message {
        Message(self.buffer.as_ref()[field::TYPE])
    }

    /// Code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The 4 bytes after the checksum, whatever the type.
    pub fn rest_of_header(&self) -> u32 {
        let d = self.buffer.as_ref();
        let r = field::REST.start;
        u32::from_be_bytes([d[r], d[r + 1], d[r + 2], d[r + 3]])
    }

    /// Echo identifier (types 0 and 8).
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Echo sequence number (types 0 and 8).
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// Next-hop MTU of a "fragmentation needed" message (type 3 code 4, RFC 1191); zero from
    /// routers that predate RFC 1191.
    pub fn next_hop_mtu(&self) -> u16 {
        be16(self.buffer.as_ref(), field::MTU)
    }

    /// Pointer to the offending byte of a parameter problem (type 12).
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::POINTER]
    }

    /// Gateway address of a redirect (type 5).
    pub fn gateway(&self) -> ipv4::Address {
        let d = self.buffer.as_ref();
        let g = field::GATEWAY.start;
        ipv4::Address([d[g], d[g + 1], d[g + 2], d[g + 3]])
    }

    /// Whether the checksum over the whole message is correct.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.buffer.as_ref())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The data after the 8-byte header (the echo data, or the invoking datagram of an error).
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(field::DATA).unwrap_or(&[])
    }

    /// The invoking datagram quoted by an error message; `None` for other types.
    #[must_use]
    pub fn invoking(&self) -> Option<&'a [u8]> {
        self.msg_type().is_error().then(|| self.data())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, t: Message) {
        self.buffer.as_mut()[field::TYPE] = t.0;
    }

    /// Sets the code.
    pub fn set_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }

    /// Sets the checksum field as given.
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }

    /// Sets the 4 bytes after the checksum.
    pub fn set_rest_of_header(&mut self, rest: u32) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&rest.to_be_bytes());
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, ident: u16) {
        self.buffer.as_mut()[field::ECHO_IDENT].copy_from_slice(&ident.to_be_bytes());
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, seq: u16) {
        self.buffer.as_mut()[field::ECHO_SEQNO].copy_from_slice(&seq.to_be_bytes());
    }

    /// Sets the next-hop MTU (type 3 code 4).
    pub fn set_next_hop_mtu(&mut self, mtu: u16) {
        self.buffer.as_mut()[field::MTU].copy_from_slice(&mtu.to_be_bytes());
    }

    /// The data after the header, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut().get_mut(field::DATA).unwrap_or(&mut [])
    }

    /// Computes the checksum over the whole message and stores it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// The meaning of an ICMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repr<'a> {
    /// Echo request (type 8, code 0).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Echo reply (type 0, code 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// An error message ([`Message::is_error`]) quoting the invoking datagram.
    Error {
        /// Type (3, 4, 5, 11 or 12).
        msg_type: Message,
        /// Code.
        code: u8,
        /// Rest of header: unused (0), MTU in the low 16 bits for 3/4, pointer in the high
        /// byte for 12, gateway for 5.
        rest: u32,
        /// The start of the datagram that caused the error.
        invoking: &'a [u8],
    },
    /// Any other message, or an echo with a nonzero code, kept as it is.
    Other {
        /// Type.
        msg_type: Message,
        /// Code.
        code: u8,
        /// Rest of header.
        rest: u32,
        /// Data after the header.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Destination unreachable with `code`, quoting `invoking` (trim it with
    /// [`invoking_prefix`]).
    #[must_use]
    pub const fn dst_unreachable(code: u8, invoking: &'a [u8]) -> Repr<'a> {
        Repr::Error {
            msg_type: Message::DST_UNREACHABLE,
            code,
            rest: 0,
            invoking,
        }
    }

    /// "Fragmentation needed and DF set" with the next-hop MTU (RFC 1191 section 4).
    #[must_use]
    pub const fn frag_needed(mtu: u16, invoking: &'a [u8]) -> Repr<'a> {
        Repr::Error {
            msg_type: Message::DST_UNREACHABLE,
            code: code::FRAG_NEEDED,
            rest: mtu as u32,
            invoking,
        }
    }

    /// Time exceeded with `code` (0: TTL, 1: reassembly).
    #[must_use]
    pub const fn time_exceeded(code: u8, invoking: &'a [u8]) -> Repr<'a> {
        Repr::Error {
            msg_type: Message::TIME_EXCEEDED,
            code,
            rest: 0,
            invoking,
        }
    }

    /// Reads a message (the checksum is not checked).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        let (msg_type, code, rest, data) = (
            packet.msg_type(),
            packet.code(),
            packet.rest_of_header(),
            packet.data(),
        );
        let (ident, seq_no) = (packet.echo_ident(), packet.echo_seq_no());
        Ok(match (msg_type, code) {
            (Message::ECHO_REQUEST, 0) => Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            (Message::ECHO_REPLY, 0) => Repr::EchoReply {
                ident,
                seq_no,
                data,
            },
            (t, _) if t.is_error() => Repr::Error {
                msg_type,
                code,
                rest,
                invoking: data,
            },
            _ => Repr::Other {
                msg_type,
                code,
                rest,
                data,
            },
        })
    }

    fn parts(&self) -> (Message, u8, u32, &'a [u8]) {
        match *self {
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (
                Message::ECHO_REQUEST,
                0,
                (u32::from(ident) << 16) | u32::from(seq_no),
                data,
            ),
            Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (
                Message::ECHO_REPLY,
                0,
                (u32::from(ident) << 16) | u32::from(seq_no),
                data,
            ),
            Repr::Error {
                msg_type,
                code,
                rest,
                invoking,
            } => (msg_type, code, rest, invoking),
            Repr::Other {
                msg_type,
                code,
                rest,
                data,
            } => (msg_type, code, rest, data),
        }
    }

    /// The message type.
    #[must_use]
    pub fn msg_type(&self) -> Message {
        self.parts().0
    }

    /// Header length: always 8 (type, code, checksum, rest of header).
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes the message occupies: 8 plus the data.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.parts().3.len()
    }

    /// Writes the message into the first [`Self::buffer_len`] bytes of `packet` and fills the
    /// checksum over them (`Truncated` if the buffer is too short).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let (msg_type, code, rest, data) = self.parts();
        let len = HEADER_LEN + data.len();
        let d = packet.buffer.as_mut();
        let available = d.len();
        let Some(msg) = d.get_mut(..len) else {
            return Err(Error::Truncated {
                layer: Layer::Icmp,
                needed: len,
                available,
            });
        };
        let mut p = Packet::new_unchecked(msg);
        p.set_msg_type(msg_type);
        p.set_code(code);
        p.set_rest_of_header(rest);
        p.data_mut().copy_from_slice(data);
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Echo reply from pcapplusplus `IPv4-NoOptions.pcap` frame 3 (ICMP part); checksum good
    /// per tshark.
    static ECHO_REPLY: [u8; 64] = [
        0x00, 0x00, 0xa1, 0x28, 0x08, 0xb2, 0x00, 0x01, 0x95, 0x94, 0xac, 0x58, 0x1f, 0x34, 0x0a,
        0x00, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ];

    /// Port unreachable from pcapplusplus `IcmpPackets.pcap` frame 6, quoting a UDP datagram
    /// 10.0.1.2 -> 172.16.0.2; checksum good per tshark.
    static PORT_UNREACH: [u8; 36] = [
        0x03, 0x03, 0xb4, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0xe6, 0x00,
        0x00, 0x01, 0x11, 0x01, 0xd8, 0x0a, 0x00, 0x01, 0x02, 0xac, 0x10, 0x00, 0x02, 0xc0, 0x1e,
        0x82, 0xa6, 0x00, 0x08, 0x06, 0x05,
    ];

    /// TTL exceeded from Zeek `icmp/icmp-timeexceeded.pcap` frame 1; checksum good per tshark.
    static TTL_EXCEEDED: [u8; 40] = [
        0x0b, 0x00, 0x09, 0x20, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00,
        0x00, 0x40, 0x11, 0x66, 0xca, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x75, 0x30,
        0x32, 0xc8, 0x00, 0x0c, 0x93, 0x2a, 0x58, 0x58, 0x58, 0x58,
    ];

    #[test]
    fn echo_fields() {
        let p = Packet::new_checked(&ECHO_REPLY[..]).unwrap();
        assert_eq!(
            (p.msg_type(), p.code(), p.checksum()),
            (Message::ECHO_REPLY, 0, 0xa128)
        );
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (0x08b2, 1));
        assert_eq!(p.data().len(), 56);
        assert!(p.invoking().is_none());
        assert!(p.verify_checksum());
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr::EchoReply {
                ident: 0x08b2,
                seq_no: 1,
                data: &ECHO_REPLY[8..]
            }
        );
    }

    #[test]
    fn error_quotes_invoking_datagram() {
        let p = Packet::new_checked(&PORT_UNREACH[..]).unwrap();
        assert!(p.msg_type().is_error());
        assert_eq!(p.code(), code::PORT_UNREACHABLE);
        assert!(p.verify_checksum());
        let inner = ipv4::Packet::new_checked_header(p.invoking().unwrap()).unwrap();
        assert_eq!(inner.protocol(), ipv4::Protocol::UDP);
        assert_eq!(inner.dst_addr(), ipv4::Address::new(172, 16, 0, 2));
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr::dst_unreachable(code::PORT_UNREACHABLE, &PORT_UNREACH[8..])
        );
        let t = Packet::new_checked(&TTL_EXCEEDED[..]).unwrap();
        assert!(t.verify_checksum());
        assert_eq!(
            Repr::parse(&t).unwrap(),
            Repr::time_exceeded(code::TTL_EXCEEDED, &TTL_EXCEEDED[8..])
        );
    }

    #[test]
    fn fixtures_round_trip() {
        for fx in [&ECHO_REPLY[..], &PORT_UNREACH[..], &TTL_EXCEEDED[..]] {
            let repr = Repr::parse(&Packet::new_checked(fx).unwrap()).unwrap();
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
            assert_eq!(out, fx);
        }
    }

    #[test]
    fn frag_needed_carries_mtu() {
        let inner = &TTL_EXCEEDED[8..];
        let repr = Repr::frag_needed(1400, inner);
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        let p = Packet::new_checked(&out[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(
            (p.msg_type(), p.code(), p.next_hop_mtu()),
            (Message::DST_UNREACHABLE, 4, 1400)
        );
        assert_eq!(&out[4..8], &[0, 0, 0x05, 0x78]);
    }

    #[test]
    fn short_and_bad() {
        assert_eq!(
            Packet::new_checked(&ECHO_REPLY[..7]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Icmp,
                needed: 8,
                available: 7
            }
        );
        let mut b = ECHO_REPLY;
        b[20] ^= 0x40;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(invoking_prefix(&[0u8; 1000]).len(), 548);
        assert_eq!(invoking_prefix(&[0u8; 10]).len(), 10);
        let repr = Repr::dst_unreachable(1, &[0; 10]);
        assert!(
            repr.emit(&mut Packet::new_unchecked(&mut [0u8; 17][..]))
                .is_err()
        );
    }

    /// A generated message: variant (0 echo request, 1 echo reply, 2 error, 3 other), type,
    /// code, rest of header, data. The `Repr` borrows the data, so tests build it in place.
    type Parts = (u8, u8, u8, u32, Vec<u8>);

    fn arb_parts() -> impl Strategy<Value = Parts> {
        let data = || proptest::collection::vec(any::<u8>(), 0..64);
        prop_oneof![
            (0u8..2, any::<u32>(), data()).prop_map(|(v, rest, d)| (v, 0, 0, rest, d)),
            (
                prop_oneof![Just(3u8), Just(4), Just(5), Just(11), Just(12)],
                any::<u8>(),
                any::<u32>(),
                data()
            )
                .prop_map(|(t, c, rest, d)| (2, t, c, rest, d)),
            (any::<u8>(), any::<u8>(), any::<u32>(), data())
                .prop_filter("neither echo with code 0 nor error", |(t, c, _, _)| {
                    !Message(*t).is_error() && !((*t == 0 || *t == 8) && *c == 0)
                })
                .prop_map(|(t, c, rest, d)| (3, t, c, rest, d)),
        ]
    }

    fn build(parts: &Parts) -> Repr<'_> {
        let (v, t, code, rest, data) = parts;
        let (ident, seq_no) = ((*rest >> 16) as u16, *rest as u16);
        match v {
            0 => Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            1 => Repr::EchoReply {
                ident,
                seq_no,
                data,
            },
            2 => Repr::Error {
                msg_type: Message(*t),
                code: *code,
                rest: *rest,
                invoking: data,
            },
            _ => Repr::Other {
                msg_type: Message(*t),
                code: *code,
                rest: *rest,
                data,
            },
        }
    }

    proptest! {
        #[test]
        fn repr_emit_parse_round_trip(parts in arb_parts()) {
            let repr = build(&parts);
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.msg_type().name(), p.code(), p.checksum(), p.rest_of_header(), p.echo_ident());
                let _ = (p.echo_seq_no(), p.next_hop_mtu(), p.pointer(), p.gateway(), p.data(), p.invoking());
                let _ = p.verify_checksum();
                prop_assert!(Repr::parse(&p).is_ok());
            }
        }
    }
}
