//! ICMP for IPv6 (RFC 4443), with the message types of Neighbor Discovery (RFC 4861) and MLD
//! (RFC 2710, RFC 3810) recognised by number.
//!
//! ```text
//! |     Type      |     Code      |          Checksum             |
//! |                     Type-specific (4 bytes)                   |
//! |                     Message body ...                          |
//! ```
//!
//! Types below 128 are errors, which quote as much of the invoking packet as fits in the IPv6
//! minimum MTU (RFC 4443 section 2.4 (c)). The type-specific word is the MTU for packet too big
//! (2), a pointer for parameter problem (4), identifier and sequence number for echo (128/129),
//! flags for a neighbor advertisement (136), unused otherwise.
//!
//! Unlike ICMP for IPv4, the checksum covers the IPv6 pseudo-header (RFC 4443 section 2.3):
//! pass its partial sum (`checksum::pseudo_v6(src, dst, 58, len)`), or use the `_v6` helpers.
//! The view spans one message exactly (the upper-layer bytes after any extension headers).

use crate::checksum;
use crate::wire::{Error, Layer, Result, ipv4, ipv6};

mod field {
    use crate::wire::{Field, Rest};

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const REST: Field = 4..8;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQNO: Field = 6..8;
    pub const DATA: Rest = 8..;
    /// Target address of a neighbor solicitation/advertisement or redirect.
    pub const TARGET: Field = 8..24;
}

/// Length of the header (type, code, checksum, type-specific word).
pub const HEADER_LEN: usize = 8;

/// Most invoking-packet bytes an error should quote: an error must not exceed the IPv6
/// minimum MTU (RFC 4443 section 2.4 (c)), so 1280 - 40 (IPv6 header) - 8 (ICMPv6 header),
/// the bound the kernel's `icmp6_send` applies.
pub const MAX_INVOKING_LEN: usize = 1280 - 40 - HEADER_LEN;

/// The longest prefix of `packet` an ICMPv6 error should quote ([`MAX_INVOKING_LEN`]).
#[must_use]
pub fn invoking_prefix(packet: &[u8]) -> &[u8] {
    packet.get(..MAX_INVOKING_LEN).unwrap_or(packet)
}

/// An ICMPv6 message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Message(pub u8);

impl Message {
    /// Destination unreachable.
    pub const DST_UNREACHABLE: Message = Message(1);
    /// Packet too big.
    pub const PKT_TOO_BIG: Message = Message(2);
    /// Time exceeded.
    pub const TIME_EXCEEDED: Message = Message(3);
    /// Parameter problem.
    pub const PARAM_PROBLEM: Message = Message(4);
    /// Echo request.
    pub const ECHO_REQUEST: Message = Message(128);
    /// Echo reply.
    pub const ECHO_REPLY: Message = Message(129);
    /// Multicast listener query (RFC 2710, RFC 3810).
    pub const MLD_QUERY: Message = Message(130);
    /// Multicast listener report, version 1 (RFC 2710).
    pub const MLD_REPORT: Message = Message(131);
    /// Multicast listener done (RFC 2710).
    pub const MLD_DONE: Message = Message(132);
    /// Router solicitation (RFC 4861).
    pub const ROUTER_SOLICIT: Message = Message(133);
    /// Router advertisement (RFC 4861).
    pub const ROUTER_ADVERT: Message = Message(134);
    /// Neighbor solicitation (RFC 4861).
    pub const NEIGHBOR_SOLICIT: Message = Message(135);
    /// Neighbor advertisement (RFC 4861).
    pub const NEIGHBOR_ADVERT: Message = Message(136);
    /// Redirect (RFC 4861).
    pub const REDIRECT: Message = Message(137);
    /// Multicast listener report, version 2 (RFC 3810).
    pub const MLDV2_REPORT: Message = Message(143);

    /// Whether this is an error message (types 0-127, RFC 4443 section 2.1).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 < 128
    }

    /// Whether this is a Neighbor Discovery message (133-137).
    #[must_use]
    pub const fn is_ndp(self) -> bool {
        matches!(self.0, 133..=137)
    }

    /// Whether this is an MLD message (130-132, 143).
    #[must_use]
    pub const fn is_mld(self) -> bool {
        matches!(self.0, 130..=132 | 143)
    }

    /// Whether the message carries a target address at bytes 8-24 (neighbor solicitation,
    /// neighbor advertisement, redirect).
    #[must_use]
    pub const fn has_target(self) -> bool {
        matches!(self.0, 135..=137)
    }

    /// The type's name, if known.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "destination-unreachable",
            2 => "packet-too-big",
            3 => "time-exceeded",
            4 => "parameter-problem",
            128 => "echo-request",
            129 => "echo-reply",
            130 => "mld-query",
            131 => "mld-report",
            132 => "mld-done",
            133 => "router-solicitation",
            134 => "router-advertisement",
            135 => "neighbor-solicitation",
            136 => "neighbor-advertisement",
            137 => "redirect",
            143 => "mldv2-report",
            _ => return None,
        })
    }
}

/// Codes of the error types.
pub mod code {
    /// Destination unreachable: no route.
    pub const NO_ROUTE: u8 = 0;
    /// Destination unreachable: administratively prohibited.
    pub const ADMIN_PROHIBITED: u8 = 1;
    /// Destination unreachable: address unreachable.
    pub const ADDR_UNREACHABLE: u8 = 3;
    /// Destination unreachable: port unreachable.
    pub const PORT_UNREACHABLE: u8 = 4;
    /// Time exceeded: hop limit exceeded in transit.
    pub const HOP_LIMIT_EXCEEDED: u8 = 0;
    /// Time exceeded: fragment reassembly time exceeded.
    pub const REASSEMBLY_EXCEEDED: u8 = 1;
    /// Parameter problem: erroneous header field.
    pub const ERRONEOUS_FIELD: u8 = 0;
    /// Parameter problem: unrecognised next header.
    pub const UNRECOGNIZED_NEXT_HEADER: u8 = 1;
    /// Parameter problem: unrecognised IPv6 option.
    pub const UNRECOGNIZED_OPTION: u8 = 2;
}

/// Neighbor advertisement flags, in the type-specific word (RFC 4861 section 4.4).
pub mod na_flags {
    /// Router.
    pub const ROUTER: u32 = 0x8000_0000;
    /// Solicited.
    pub const SOLICITED: u32 = 0x4000_0000;
    /// Override.
    pub const OVERRIDE: u32 = 0x2000_0000;
}

fn be16(d: &[u8], f: crate::wire::Field) -> u16 {
    u16::from_be_bytes([d[f.start], d[f.start + 1]])
}

/// A view of an ICMPv6 message.
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
                layer: Layer::Icmpv6,
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

    /// The type-specific word after the checksum.
    pub fn rest_of_header(&self) -> u32 {
        let d = self.buffer.as_ref();
        let r = field::REST.start;
        u32::from_be_bytes([d[r], d[r + 1], d[r + 2], d[r + 3]])
    }

    /// Echo identifier (types 128/129).
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Echo sequence number (types 128/129).
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// MTU of a packet too big message (type 2).
    pub fn mtu(&self) -> u32 {
        self.rest_of_header()
    }

    /// Pointer of a parameter problem message (type 4): offset of the offending byte.
    pub fn pointer(&self) -> u32 {
        self.rest_of_header()
    }

    /// The target address of a neighbor solicitation, advertisement or redirect, if the type
    /// has one and the message is long enough.
    pub fn target_addr(&self) -> Option<ipv6::Address> {
        if !self.msg_type().has_target() {
            return None;
        }
        ipv6::Address::from_bytes(self.buffer.as_ref().get(field::TARGET)?)
    }

    /// Whether the checksum is correct given the IPv6 pseudo-header partial sum `pseudo`
    /// (next header 58, length = message length).
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        checksum::fold(checksum::partial(self.buffer.as_ref(), pseudo)) == 0
    }

    /// [`Self::verify_checksum`] with the pseudo-header built from the addresses.
    pub fn verify_checksum_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> bool {
        self.pseudo_v6(src, dst)
            .is_some_and(|p| self.verify_checksum(p))
    }

    fn pseudo_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> Option<u32> {
        let len = u32::try_from(self.buffer.as_ref().len()).ok()?;
        Some(checksum::pseudo_v6(
            &src.0,
            &dst.0,
            ipv4::Protocol::ICMPV6.0,
            len,
        ))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The message body after the 8-byte header.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(field::DATA).unwrap_or(&[])
    }

    /// The invoking packet quoted by an error message; `None` for informational types.
    #[must_use]
    pub fn invoking(&self) -> Option<&'a [u8]> {
        self.msg_type().is_error().then(|| self.data())
    }

    /// The Neighbor Discovery options (RFC 4861 section 4.6) after a message's fixed part, as
    /// `(type, whole option bytes)`; `None` for non-NDP types or a body shorter than the fixed
    /// part. The iterator yields `Err(Malformed)` once on a zero length or an option past the
    /// end.
    #[must_use]
    pub fn ndp_options(&self) -> Option<NdpOptions<'a>> {
        // Fixed parts after the 8-byte header: RS 0, RA 8, NS/NA 16, redirect 32.
        let skip = match self.msg_type().0 {
            133 => 0,
            134 => 8,
            135 | 136 => 16,
            137 => 32,
            _ => return None,
        };
        self.data().get(skip..).map(|rest| NdpOptions {
            rest,
            failed: false,
        })
    }
}

/// Iterator over Neighbor Discovery options: `(type, option bytes including type and
/// length)`.
#[derive(Debug, Clone)]
pub struct NdpOptions<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for NdpOptions<'a> {
    type Item = Result<(u8, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        // The length byte counts 8-octet units; zero is invalid (RFC 4861 section 4.6) and
        // would otherwise loop forever.
        let len = usize::from(*self.rest.get(1).unwrap_or(&0)) * 8;
        let Some((opt, rest)) = (len != 0)
            .then(|| self.rest.split_at_checked(len))
            .flatten()
        else {
            self.failed = true;
            return Some(Err(Error::Malformed {
                layer: Layer::Icmpv6,
                what: "NDP option length zero or past the end",
            }));
        };
        self.rest = rest;
        Some(Ok((opt[0], opt)))
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

    /// Sets the type-specific word.
    pub fn set_rest_of_header(&mut self, rest: u32) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&rest.to_be_bytes());
    }

    /// The body after the header, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut().get_mut(field::DATA).unwrap_or(&mut [])
    }

    /// Computes the checksum with pseudo-header partial sum `pseudo` and stores it.
    pub fn fill_checksum(&mut self, pseudo: u32) {
        self.set_checksum(0);
        let c = checksum::fold(checksum::partial(self.buffer.as_ref(), pseudo));
        self.set_checksum(c);
    }

    /// [`Self::fill_checksum`] with the pseudo-header built from the addresses.
    pub fn fill_checksum_v6(&mut self, src: &ipv6::Address, dst: &ipv6::Address) {
        if let Some(p) = self.pseudo_v6(src, dst) {
            self.fill_checksum(p);
        }
    }
}

/// The meaning of an ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repr<'a> {
    /// Echo request (type 128, code 0).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Echo reply (type 129, code 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// An error message (type below 128) quoting the invoking packet.
    Error {
        /// Type.
        msg_type: Message,
        /// Code.
        code: u8,
        /// Type-specific word: MTU for packet too big, pointer for parameter problem, else 0.
        rest: u32,
        /// The start of the packet that caused the error.
        invoking: &'a [u8],
    },
    /// Any other message (NDP, MLD, ...) or an echo with a nonzero code, kept as it is.
    Other {
        /// Type.
        msg_type: Message,
        /// Code.
        code: u8,
        /// Type-specific word.
        rest: u32,
        /// Body after the header.
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

    /// Packet too big with the next-hop `mtu` (RFC 4443 section 3.2).
    #[must_use]
    pub const fn packet_too_big(mtu: u32, invoking: &'a [u8]) -> Repr<'a> {
        Repr::Error {
            msg_type: Message::PKT_TOO_BIG,
            code: 0,
            rest: mtu,
            invoking,
        }
    }

    /// Time exceeded with `code` (0: hop limit, 1: reassembly).
    #[must_use]
    pub const fn time_exceeded(code: u8, invoking: &'a [u8]) -> Repr<'a> {
        Repr::Error {
            msg_type: Message::TIME_EXCEEDED,
            code,
            rest: 0,
            invoking,
        }
    }

    /// Parameter problem with `code` and the offset of the offending byte.
    #[must_use]
    pub const fn param_problem(code: u8, pointer: u32, invoking: &'a [u8]) -> Repr<'a> {
        Repr::Error {
            msg_type: Message::PARAM_PROBLEM,
            code,
            rest: pointer,
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

    /// Bytes the message occupies: 8 plus the body.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.parts().3.len()
    }

    /// Writes the message into the first [`Self::buffer_len`] bytes of `packet` and fills the
    /// checksum over them with pseudo-header partial sum `pseudo` (`Truncated` if the buffer
    /// is too short).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        pseudo: u32,
    ) -> Result<()> {
        let (msg_type, code, rest, data) = self.parts();
        let len = HEADER_LEN + data.len();
        let d = packet.buffer.as_mut();
        let available = d.len();
        let Some(msg) = d.get_mut(..len) else {
            return Err(Error::Truncated {
                layer: Layer::Icmpv6,
                needed: len,
                available,
            });
        };
        let mut p = Packet::new_unchecked(msg);
        p.set_msg_type(msg_type);
        p.set_code(code);
        p.set_rest_of_header(rest);
        p.data_mut().copy_from_slice(data);
        p.fill_checksum(pseudo);
        Ok(())
    }

    /// [`Self::emit`] with the pseudo-header built from the addresses.
    pub fn emit_v6<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: &ipv6::Address,
        dst: &ipv6::Address,
    ) -> Result<()> {
        let Ok(len) = u32::try_from(self.buffer_len()) else {
            return Err(Error::Malformed {
                layer: Layer::Icmpv6,
                what: "message over 4 GiB",
            });
        };
        self.emit(
            packet,
            checksum::pseudo_v6(&src.0, &dst.0, ipv4::Protocol::ICMPV6.0, len),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv6_ext;
    use proptest::prelude::*;

    /// Echo request from pcapplusplus `IcmpV6_EchoMessages.pcap` frame 1 (ICMPv6 part),
    /// `fe80::215:5dff:fea5:c4c5` -> `fe80::dd05:dae0:74bc:7341`; checksum good per tshark.
    static ECHO_REQUEST: [u8; 64] = [
        0x80, 0x00, 0x7a, 0x4c, 0x00, 0x18, 0x00, 0x14, 0xbd, 0xce, 0xcb, 0x62, 0x00, 0x00, 0x00,
        0x00, 0xf3, 0xa1, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ];
    const ECHO_SRC: ipv6::Address =
        ipv6::Address::new([0xfe80, 0, 0, 0, 0x215, 0x5dff, 0xfea5, 0xc4c5]);
    const ECHO_DST: ipv6::Address =
        ipv6::Address::new([0xfe80, 0, 0, 0, 0xdd05, 0xdae0, 0x74bc, 0x7341]);

    /// Neighbor advertisement (whole IPv6 packet) from pcapplusplus
    /// `IcmpV6_NeighAdvSoli.pcap` frame 2, with a target link-layer address option; checksum
    /// good per tshark.
    static NEIGHBOR_ADVERT: [u8; 72] = [
        0x6e, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xc0, 0x00, 0x54, 0xff, 0xfe, 0xf5, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x9a, 0xbb, 0xa0,
        0x00, 0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x54, 0xff,
        0xfe, 0xf5, 0x00, 0x00, 0x02, 0x01, 0xc2, 0x00, 0x54, 0xf5, 0x00, 0x00,
    ];

    /// MLD query behind a hop-by-hop header (whole IPv6 packet, raw link type) from Zeek
    /// `icmp/icmp6-mld-query.pcap`; checksum good per tshark.
    static MLD_QUERY: [u8; 72] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x27, 0xcd, 0xf4, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x3a, 0x00, 0x05, 0x02, 0x00,
        0x00, 0x01, 0x00, 0x82, 0x00, 0x56, 0xc4, 0x27, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn echo_request_fields_and_round_trip() {
        let p = Packet::new_checked(&ECHO_REQUEST[..]).unwrap();
        assert_eq!(
            (p.msg_type(), p.code(), p.checksum()),
            (Message::ECHO_REQUEST, 0, 0x7a4c)
        );
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (0x18, 0x14));
        assert!(p.verify_checksum_v6(&ECHO_SRC, &ECHO_DST));
        assert!(!p.verify_checksum_v6(&ECHO_SRC, &ipv6::Address::LOOPBACK));
        let repr = Repr::parse(&p).unwrap();
        assert_eq!(
            repr,
            Repr::EchoRequest {
                ident: 0x18,
                seq_no: 0x14,
                data: &ECHO_REQUEST[8..]
            }
        );
        let mut out = [0u8; 64];
        repr.emit_v6(
            &mut Packet::new_unchecked(&mut out[..]),
            &ECHO_SRC,
            &ECHO_DST,
        )
        .unwrap();
        assert_eq!(out, ECHO_REQUEST);
    }

    #[test]
    fn neighbor_advertisement() {
        let ip = ipv6::Packet::new_checked(&NEIGHBOR_ADVERT[..]).unwrap();
        assert_eq!(ip.next_header(), ipv4::Protocol::ICMPV6);
        let p = Packet::new_checked(ip.payload()).unwrap();
        assert!(p.msg_type().is_ndp() && !p.msg_type().is_error());
        assert!(p.verify_checksum_v6(&ip.src_addr(), &ip.dst_addr()));
        let flags = p.rest_of_header();
        assert!(flags & na_flags::ROUTER != 0 && flags & na_flags::OVERRIDE != 0);
        assert!(flags & na_flags::SOLICITED == 0);
        assert_eq!(
            p.target_addr().unwrap().to_string(),
            "fe80::c000:54ff:fef5:0"
        );
        let opts: Vec<_> = p.ndp_options().unwrap().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            [(2u8, &[0x02, 0x01, 0xc2, 0x00, 0x54, 0xf5, 0x00, 0x00][..])]
        );
        // Round trip as an "other" message.
        let repr = Repr::parse(&p).unwrap();
        assert!(matches!(
            repr,
            Repr::Other {
                msg_type: Message::NEIGHBOR_ADVERT,
                ..
            }
        ));
        let mut out = [0u8; 32];
        repr.emit_v6(
            &mut Packet::new_unchecked(&mut out[..]),
            &ip.src_addr(),
            &ip.dst_addr(),
        )
        .unwrap();
        assert_eq!(out, NEIGHBOR_ADVERT[40..]);
    }

    #[test]
    fn mld_query_behind_hop_by_hop() {
        let ip = ipv6::Packet::new_checked(&MLD_QUERY[..]).unwrap();
        let chain = ipv6_ext::walk(ip.next_header().0, ip.payload()).unwrap();
        assert_eq!(chain.upper_protocol(), ipv4::Protocol::ICMPV6);
        let Some(body) = ip.payload().get(chain.upper_offset()..) else {
            panic!("no body")
        };
        let p = Packet::new_checked(body).unwrap();
        assert_eq!(p.msg_type(), Message::MLD_QUERY);
        assert!(p.msg_type().is_mld());
        assert!(p.target_addr().is_none());
        // The pseudo-header length is the upper-layer length, not the IPv6 payload length.
        assert!(p.verify_checksum_v6(&ip.src_addr(), &ip.dst_addr()));
    }

    #[test]
    fn packet_too_big_and_errors() {
        let invoking = &NEIGHBOR_ADVERT[..];
        let repr = Repr::packet_too_big(1280, invoking);
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit_v6(
            &mut Packet::new_unchecked(&mut out[..]),
            &ECHO_SRC,
            &ECHO_DST,
        )
        .unwrap();
        let p = Packet::new_checked(&out[..]).unwrap();
        assert!(p.verify_checksum_v6(&ECHO_SRC, &ECHO_DST));
        assert_eq!((p.msg_type(), p.mtu()), (Message::PKT_TOO_BIG, 1280));
        assert_eq!(p.invoking(), Some(invoking));
        assert!(p.ndp_options().is_none());
        assert_eq!(Repr::parse(&p).unwrap(), repr);
        let pp = Repr::param_problem(code::UNRECOGNIZED_NEXT_HEADER, 6, invoking);
        assert_eq!(pp.msg_type(), Message::PARAM_PROBLEM);
        assert_eq!(invoking_prefix(&[0u8; 2000]).len(), 1232);
        assert!(matches!(
            Packet::new_checked(&ECHO_REQUEST[..4]),
            Err(Error::Truncated {
                layer: Layer::Icmpv6,
                needed: 8,
                available: 4
            })
        ));
    }

    #[test]
    fn ndp_option_errors() {
        let mut na = NEIGHBOR_ADVERT[40..].to_vec();
        na[25] = 0; // option length zero
        let p = Packet::new_unchecked(&na[..]);
        let v: Vec<_> = p.ndp_options().unwrap().collect();
        assert!(matches!(v[..], [Err(Error::Malformed { .. })]));
        na[25] = 2; // past the end
        let p = Packet::new_unchecked(&na[..]);
        assert!(matches!(p.ndp_options().unwrap().next(), Some(Err(_))));
    }

    type Parts = (u8, u8, u8, u32, Vec<u8>);

    fn arb_parts() -> impl Strategy<Value = Parts> {
        let data = || proptest::collection::vec(any::<u8>(), 0..64);
        prop_oneof![
            (0u8..2, any::<u32>(), data()).prop_map(|(v, rest, d)| (v, 0, 0, rest, d)),
            (0u8..128, any::<u8>(), any::<u32>(), data())
                .prop_map(|(t, c, rest, d)| (2, t, c, rest, d)),
            (128u8..=255, any::<u8>(), any::<u32>(), data())
                .prop_filter("not an echo with code 0", |(t, c, _, _)| !((*t == 128
                    || *t == 129)
                    && *c == 0))
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
        fn repr_emit_parse_round_trip(parts in arb_parts(), pseudo in any::<u32>()) {
            let repr = build(&parts);
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), pseudo).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(pseudo));
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.msg_type().name(), p.code(), p.checksum(), p.rest_of_header(), p.echo_ident());
                let _ = (p.echo_seq_no(), p.mtu(), p.pointer(), p.target_addr(), p.data(), p.invoking());
                let _ = (p.verify_checksum(0), p.verify_checksum_v6(&ECHO_SRC, &ECHO_DST));
                if let Some(opts) = p.ndp_options() {
                    prop_assert!(opts.count() <= bytes.len());
                }
                prop_assert!(Repr::parse(&p).is_ok());
            }
        }
    }
}
