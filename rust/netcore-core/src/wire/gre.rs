//! GRE: version 0 (RFC 2784 with the key and sequence number of RFC 2890) and version 1, the
//! enhanced GRE of PPTP (RFC 2637).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-----+-+-------+-----+-------------------------------+
//! |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
//! +-+-+-+-+-+-----+-+-------+-----+-------------------------------+
//! |      Checksum (if C)          |       Reserved1 (if C)        |
//! +-------------------------------+-------------------------------+
//! |                          Key (if K)                           |
//! +---------------------------------------------------------------+
//! |                    Sequence Number (if S)                     |
//! +---------------------------------------------------------------+
//! |           Acknowledgment Number (if A, version 1 only)        |
//! +---------------------------------------------------------------+
//! ```
//!
//! In version 0, bits 1–12 other than K and S are reserved (RFC 2784 section 2.3). Version 1
//! (PPTP) always sets K and splits the key into a payload length (high 16 bits) and a call ID
//! (low 16 bits), may carry a sequence number, and adds an acknowledgment number when A (bit 8)
//! is set; its protocol type is PPP (0x880b).
//!
//! [`Packet::check_len`] refuses what the kernel's `gre_parse_header` refuses: a version other
//! than 0 or 1, and the R bit (RFC 1701 source routing, whose variable routing field RFC 2784
//! withdrew). Other reserved bits are kept, not judged, so a header re-emits byte for byte.
//!
//! The checksum (RFC 2784 section 2.5) covers the GRE header and payload, so
//! [`Packet::verify_checksum`] and [`Packet::fill_checksum`] sum the *whole* buffer: give them a
//! view that ends where the GRE packet ends (the outer IP length says where, not the frame, which
//! may be padded).

use super::ethernet::EtherType;
use super::{Error, Field, Layer, Result};
use crate::checksum;

mod field {
    use super::Field;

    pub const FLAGS: Field = 0..2;
    pub const PROTOCOL: Field = 2..4;
    /// Start of the optional fields.
    pub const OPTIONAL: usize = 4;
}

/// Length of the fixed part (flags, version, protocol type).
pub const BASE_LEN: usize = field::OPTIONAL;
/// Longest header: base, checksum, key, sequence and acknowledgment numbers.
pub const MAX_HEADER_LEN: usize = BASE_LEN + 4 * 4;

/// Checksum present.
pub const FLAG_C: u16 = 0x8000;
/// Routing present (RFC 1701; refused).
pub const FLAG_R: u16 = 0x4000;
/// Key present.
pub const FLAG_K: u16 = 0x2000;
/// Sequence number present.
pub const FLAG_S: u16 = 0x1000;
/// Acknowledgment number present (version 1 only; reserved in version 0).
pub const FLAG_A: u16 = 0x0080;
const VERSION_MASK: u16 = 0x0007;
/// Bits of the first word with no meaning in version 0 (strict source route, recursion, bits 8–12).
const RESERVED_V0: u16 = 0x0ff8;
/// Bits of the first word with no meaning in version 1 (as version 0, minus A).
const RESERVED_V1: u16 = RESERVED_V0 & !FLAG_A;

/// Protocol type of PPTP's PPP payload.
pub const PROTO_PPP: EtherType = EtherType(0x880b);
/// Protocol type of ERSPAN type II.
pub const PROTO_ERSPAN_II: EtherType = EtherType(0x88be);
/// Protocol type of ERSPAN type III.
pub const PROTO_ERSPAN_III: EtherType = EtherType(0x22eb);
/// Protocol type of NHRP (RFC 2332) carried in GRE.
pub const PROTO_NHRP: EtherType = EtherType(0x2001);

/// A read/write view of a GRE header followed by its payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; fixed-field accessors panic if it is shorter than
    /// 4 bytes (optional fields past its end read as absent).
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the version (0 or 1), the absence of routing, and that the buffer holds every
    /// optional field the flags announce.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < BASE_LEN {
            return Err(Error::Truncated {
                layer: Layer::Gre,
                needed: BASE_LEN,
                available,
            });
        }
        if self.version() > 1 {
            return Err(Error::Malformed {
                layer: Layer::Gre,
                what: "version is neither 0 nor 1",
            });
        }
        if self.flags() & FLAG_R != 0 {
            return Err(Error::Malformed {
                layer: Layer::Gre,
                what: "routing present (RFC 1701)",
            });
        }
        let needed = self.header_len();
        if available < needed {
            return Err(Error::Truncated {
                layer: Layer::Gre,
                needed,
                available,
            });
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole first word: flags, reserved bits and version.
    #[must_use]
    pub fn flags(&self) -> u16 {
        let d = &self.buffer.as_ref()[field::FLAGS];
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Version: 0 (GRE) or 1 (PPTP enhanced GRE) after `new_checked`.
    #[must_use]
    pub fn version(&self) -> u8 {
        (self.flags() & VERSION_MASK) as u8
    }

    /// C: a checksum (and Reserved1) is present.
    #[must_use]
    pub fn checksum_present(&self) -> bool {
        self.flags() & FLAG_C != 0
    }

    /// K: a key is present.
    #[must_use]
    pub fn key_present(&self) -> bool {
        self.flags() & FLAG_K != 0
    }

    /// S: a sequence number is present.
    #[must_use]
    pub fn sequence_present(&self) -> bool {
        self.flags() & FLAG_S != 0
    }

    /// A: an acknowledgment number is present (version 1 only; the bit is reserved in 0).
    #[must_use]
    pub fn ack_present(&self) -> bool {
        self.version() == 1 && self.flags() & FLAG_A != 0
    }

    /// Protocol type of the payload (an ethertype; see also [`PROTO_PPP`] and friends).
    #[must_use]
    pub fn protocol_type(&self) -> EtherType {
        let d = &self.buffer.as_ref()[field::PROTOCOL];
        EtherType(u16::from_be_bytes([d[0], d[1]]))
    }

    /// Header length the flags announce: 4, plus 4 for each of checksum, key, sequence number
    /// and (version 1) acknowledgment number.
    #[must_use]
    pub fn header_len(&self) -> usize {
        self.ack_offset() + if self.ack_present() { 4 } else { 0 }
    }

    /// Checksum, if present.
    #[must_use]
    pub fn checksum(&self) -> Option<u16> {
        if !self.checksum_present() {
            return None;
        }
        self.read_u16(field::OPTIONAL)
    }

    /// Reserved1, the 16 bits after the checksum (RFC 1701's routing offset), if present.
    #[must_use]
    pub fn reserved1(&self) -> Option<u16> {
        if !self.checksum_present() {
            return None;
        }
        self.read_u16(field::OPTIONAL + 2)
    }

    /// Key, if present. In version 1 it is the payload length and call ID
    /// ([`payload_length`](Self::payload_length), [`call_id`](Self::call_id)).
    #[must_use]
    pub fn key(&self) -> Option<u32> {
        if !self.key_present() {
            return None;
        }
        self.read_u32(self.key_offset())
    }

    /// Sequence number, if present.
    #[must_use]
    pub fn sequence_number(&self) -> Option<u32> {
        if !self.sequence_present() {
            return None;
        }
        self.read_u32(self.seq_offset())
    }

    /// Acknowledgment number, if present (version 1).
    #[must_use]
    pub fn ack_number(&self) -> Option<u32> {
        if !self.ack_present() {
            return None;
        }
        self.read_u32(self.ack_offset())
    }

    /// PPTP payload length (high half of the key), for version 1 with a key.
    #[must_use]
    pub fn payload_length(&self) -> Option<u16> {
        if self.version() != 1 {
            return None;
        }
        self.key().map(|k| (k >> 16) as u16)
    }

    /// PPTP call ID (low half of the key), for version 1 with a key.
    #[must_use]
    pub fn call_id(&self) -> Option<u16> {
        if self.version() != 1 {
            return None;
        }
        self.key().map(|k| k as u16)
    }

    /// Whether the checksum is right: the ones'-complement sum of the whole buffer (header and
    /// payload) is all ones. True when C is clear: there is no checksum to be wrong, and the
    /// kernel's `gre_parse_header` accepts such packets without a check.
    #[must_use]
    pub fn verify_checksum(&self) -> bool {
        !self.checksum_present() || checksum::verify(self.buffer.as_ref())
    }

    fn key_offset(&self) -> usize {
        field::OPTIONAL + if self.checksum_present() { 4 } else { 0 }
    }

    fn seq_offset(&self) -> usize {
        self.key_offset() + if self.key_present() { 4 } else { 0 }
    }

    fn ack_offset(&self) -> usize {
        self.seq_offset() + if self.sequence_present() { 4 } else { 0 }
    }

    // Optional fields sit where the flags put them; a flag set after `new_checked` may point
    // past the buffer, so read them with `get` and report such a field as absent.
    fn read_u16(&self, at: usize) -> Option<u16> {
        let d = self.buffer.as_ref().get(at..at + 2)?;
        Some(u16::from_be_bytes([d[0], d[1]]))
    }

    fn read_u32(&self, at: usize) -> Option<u32> {
        let d = self.buffer.as_ref().get(at..at + 4)?;
        Some(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the header (empty if the flags announce more header than there is).
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let data: &'a [u8] = self.buffer.as_ref();
        data.get(self.header_len()..).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the whole first word (flags, reserved bits, version). Changing C, K, S or A moves
    /// the optional fields: write them after this.
    pub fn set_flags(&mut self, value: u16) {
        self.buffer.as_mut()[field::FLAGS].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        self.buffer.as_mut()[field::PROTOCOL].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets the checksum field; does nothing unless C is set and the field is in the buffer.
    pub fn set_checksum(&mut self, value: u16) {
        if self.checksum_present() {
            self.write(field::OPTIONAL, &value.to_be_bytes());
        }
    }

    /// Sets Reserved1; does nothing unless C is set and the field is in the buffer.
    pub fn set_reserved1(&mut self, value: u16) {
        if self.checksum_present() {
            self.write(field::OPTIONAL + 2, &value.to_be_bytes());
        }
    }

    /// Sets the key; does nothing unless K is set and the field is in the buffer.
    pub fn set_key(&mut self, value: u32) {
        if self.key_present() {
            let at = self.key_offset();
            self.write(at, &value.to_be_bytes());
        }
    }

    /// Sets the sequence number; does nothing unless S is set and the field is in the buffer.
    pub fn set_sequence_number(&mut self, value: u32) {
        if self.sequence_present() {
            let at = self.seq_offset();
            self.write(at, &value.to_be_bytes());
        }
    }

    /// Sets the acknowledgment number; does nothing unless this is version 1 with A set and the
    /// field is in the buffer.
    pub fn set_ack_number(&mut self, value: u32) {
        if self.ack_present() {
            let at = self.ack_offset();
            self.write(at, &value.to_be_bytes());
        }
    }

    /// Computes and stores the checksum over the whole buffer (header and payload) when C is
    /// set; does nothing otherwise.
    pub fn fill_checksum(&mut self) {
        if !self.checksum_present() {
            return;
        }
        self.set_checksum(0);
        let sum = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(sum);
    }

    /// The bytes after the header, mutably (empty if the flags announce more header than there
    /// is).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        self.buffer.as_mut().get_mut(start..).unwrap_or_default()
    }

    fn write(&mut self, at: usize, bytes: &[u8]) {
        if let Some(d) = self.buffer.as_mut().get_mut(at..at + bytes.len()) {
            d.copy_from_slice(bytes);
        }
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// What [`Repr::emit`] does with the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Checksum {
    /// No checksum: C clear.
    #[default]
    Absent,
    /// C set, with this value stored as is (what [`Repr::parse`] returns, so bytes round-trip).
    Value(u16),
    /// C set, computed by `emit` over the whole buffer, which must then already hold the
    /// payload and end where the GRE packet ends.
    Compute,
}

/// The meaning of a GRE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Repr {
    /// Version: 0 (GRE) or 1 (PPTP).
    pub version: u8,
    /// Protocol type of the payload.
    pub protocol_type: EtherType,
    /// Checksum presence and value.
    pub checksum: Checksum,
    /// Reserved1 (written only with a checksum; zero on send per RFC 2784).
    pub reserved1: u16,
    /// Key (RFC 2890), or PPTP's payload length and call ID.
    pub key: Option<u32>,
    /// Sequence number.
    pub sequence_number: Option<u32>,
    /// Acknowledgment number (version 1 only: ignored when `version` is 0).
    pub ack_number: Option<u32>,
    /// Reserved bits of the first word (strict source route, recursion control, flags; bit 8
    /// too in version 0), zero on send, kept so a parsed header re-emits byte for byte.
    pub flags_reserved: u16,
}

impl Repr {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        let version = packet.version();
        let reserved_mask = if version == 1 {
            RESERVED_V1
        } else {
            RESERVED_V0
        };
        Ok(Repr {
            version,
            protocol_type: packet.protocol_type(),
            checksum: packet.checksum().map_or(Checksum::Absent, Checksum::Value),
            reserved1: packet.reserved1().unwrap_or(0),
            key: packet.key(),
            sequence_number: packet.sequence_number(),
            ack_number: packet.ack_number(),
            flags_reserved: packet.flags() & reserved_mask,
        })
    }

    /// A PPTP (version 1) header: PPP payload of `payload_length` bytes for `call_id`.
    #[must_use]
    pub fn pptp(
        payload_length: u16,
        call_id: u16,
        sequence_number: Option<u32>,
        ack_number: Option<u32>,
    ) -> Repr {
        Repr {
            version: 1,
            protocol_type: PROTO_PPP,
            key: Some((u32::from(payload_length) << 16) | u32::from(call_id)),
            sequence_number,
            ack_number,
            ..Repr::default()
        }
    }

    /// The first word this emits.
    #[must_use]
    pub fn flags(&self) -> u16 {
        let reserved_mask = if self.version == 1 {
            RESERVED_V1
        } else {
            RESERVED_V0
        };
        let mut word =
            (self.flags_reserved & reserved_mask) | (u16::from(self.version) & VERSION_MASK);
        if self.checksum != Checksum::Absent {
            word |= FLAG_C;
        }
        if self.key.is_some() {
            word |= FLAG_K;
        }
        if self.sequence_number.is_some() {
            word |= FLAG_S;
        }
        if self.has_ack() {
            word |= FLAG_A;
        }
        word
    }

    fn has_ack(&self) -> bool {
        self.version == 1 && self.ack_number.is_some()
    }

    /// Length of the header this emits.
    #[must_use]
    pub fn header_len(&self) -> usize {
        let optional = [
            self.checksum != Checksum::Absent,
            self.key.is_some(),
            self.sequence_number.is_some(),
            self.has_ack(),
        ];
        BASE_LEN + 4 * optional.iter().filter(|&&present| present).count()
    }

    /// Bytes [`emit`](Self::emit) writes (the header; the payload is the caller's).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header into `packet`, which must hold at least
    /// [`buffer_len`](Self::buffer_len) bytes. With [`Checksum::Compute`] the checksum is summed
    /// over the whole buffer, so write the payload first.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_flags(self.flags());
        packet.set_protocol_type(self.protocol_type);
        if self.checksum != Checksum::Absent {
            packet.set_reserved1(self.reserved1);
        }
        if let Some(key) = self.key {
            packet.set_key(key);
        }
        if let Some(seq) = self.sequence_number {
            packet.set_sequence_number(seq);
        }
        if let Some(ack) = self.ack_number {
            packet.set_ack_number(ack);
        }
        match self.checksum {
            Checksum::Absent => {}
            Checksum::Value(value) => packet.set_checksum(value),
            Checksum::Compute => packet.fill_checksum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// zeek `tunnels/gre-sample.pcap` frame 1 (tshark: `eth:ethertype:ip:gre:ip:icmp:data`),
    /// GRE header and the first inner bytes: no options, IPv4.
    static PLAIN: [u8; 8] = [0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54];

    /// pcapplusplus `GrePackets.pcap` frame 3 (tshark: `eth:ethertype:ip:gre`): whole GRE
    /// packet with a (good) checksum, carrying IPv4 that carries GRE again.
    static CHECKSUMMED: [u8; 32] = [
        0x80, 0x00, 0x08, 0x00, 0x77, 0xff, 0x00, 0x00, 0x45, 0x00, 0x00, 0x18, 0xb6, 0xfd, 0x00,
        0x00, 0x40, 0x2f, 0xc5, 0xb7, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00,
    ];

    /// pcapplusplus `GrePackets.pcap` frame 4: checksum over an odd length (43 bytes).
    static CHECKSUMMED_ODD: [u8; 43] = [
        0x80, 0x00, 0x08, 0x00, 0x77, 0xff, 0x00, 0x00, 0x45, 0x00, 0x00, 0x23, 0x4c, 0x0f, 0x00,
        0x00, 0x40, 0x01, 0x30, 0xc9, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00,
        0xe2, 0x26, 0xa6, 0xec, 0x00, 0x01, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x20, 0x30,
    ];

    /// tcpdump `NHRP-responder-address.pcap` frame 1 (tshark: `…:ip:gre:nhrp`), first 12
    /// bytes: key 2, NHRP.
    static KEYED: [u8; 12] = [
        0x20, 0x00, 0x20, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x08, 0x00,
    ];

    /// tcpdump `erspan-type-ii-3.pcap` frame 1 (tshark: `…:ip:gre:erspan:…`), first 12 bytes:
    /// sequence number 106954, ERSPAN II.
    static SEQUENCED: [u8; 12] = [
        0x10, 0x00, 0x88, 0xbe, 0x00, 0x01, 0xa1, 0xca, 0x10, 0x01, 0x10, 0x65,
    ];

    /// pcapplusplus `GrePackets.pcap` frame 1 (tshark: `…:ip:gre:ppp:…`): PPTP with sequence
    /// and acknowledgment numbers, payload length 8, call 6, then the 8 PPP bytes.
    static PPTP_SEQ_ACK: [u8; 24] = [
        0x30, 0x81, 0x88, 0x0b, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00,
        0x11, 0xff, 0x03, 0x80, 0xfd, 0x06, 0x04, 0x00, 0x04,
    ];

    /// pcapplusplus `GrePackets.pcap` frame 2: PPTP acknowledgment only, no payload.
    static PPTP_ACK_ONLY: [u8; 12] = [
        0x20, 0x81, 0x88, 0x0b, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x1a,
    ];

    #[test]
    fn parse_plain() {
        let p = Packet::new_checked(&PLAIN[..]).unwrap();
        assert_eq!(
            (p.version(), p.header_len(), p.protocol_type()),
            (0, 4, EtherType::IPV4)
        );
        assert_eq!(
            (p.checksum(), p.key(), p.sequence_number(), p.ack_number()),
            (None, None, None, None)
        );
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &PLAIN[4..]);
    }

    #[test]
    fn parse_checksummed() {
        for bytes in [&CHECKSUMMED[..], &CHECKSUMMED_ODD[..]] {
            let p = Packet::new_checked(bytes).unwrap();
            assert_eq!(p.header_len(), 8);
            assert_eq!(p.checksum(), Some(0x77ff));
            assert_eq!(p.reserved1(), Some(0));
            assert!(p.verify_checksum());
            assert_eq!(p.payload()[0], 0x45);
        }
        let mut bad = CHECKSUMMED;
        bad[31] = 1;
        assert!(!Packet::new_checked(&bad[..]).unwrap().verify_checksum());
    }

    #[test]
    fn parse_key_and_sequence() {
        let p = Packet::new_checked(&KEYED[..]).unwrap();
        assert_eq!(
            (p.header_len(), p.key(), p.protocol_type()),
            (8, Some(2), PROTO_NHRP)
        );
        assert_eq!((p.payload_length(), p.call_id()), (None, None));
        let p = Packet::new_checked(&SEQUENCED[..]).unwrap();
        assert_eq!(
            (p.header_len(), p.sequence_number(), p.key()),
            (8, Some(106_954), None)
        );
        assert_eq!(p.protocol_type(), PROTO_ERSPAN_II);
    }

    #[test]
    fn parse_pptp() {
        let p = Packet::new_checked(&PPTP_SEQ_ACK[..]).unwrap();
        assert_eq!(
            (p.version(), p.header_len(), p.protocol_type()),
            (1, 16, PROTO_PPP)
        );
        assert_eq!((p.payload_length(), p.call_id()), (Some(8), Some(6)));
        assert_eq!(
            (p.sequence_number(), p.ack_number()),
            (Some(0x22), Some(0x11))
        );
        assert_eq!(p.payload().len(), 8);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r, Repr::pptp(8, 6, Some(0x22), Some(0x11)));

        let p = Packet::new_checked(&PPTP_ACK_ONLY[..]).unwrap();
        assert_eq!(
            (p.header_len(), p.sequence_number(), p.ack_number()),
            (12, None, Some(0x1a))
        );
        assert!(p.payload().is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(
            Packet::new_checked(&PPTP_SEQ_ACK[..14]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Gre,
                needed: 16,
                available: 14
            }
        );
        assert_eq!(
            Packet::new_checked(&PLAIN[..3]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Gre,
                needed: 4,
                available: 3
            }
        );
        assert_eq!(
            Packet::new_checked(&CHECKSUMMED[..7]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Gre,
                needed: 8,
                available: 7
            }
        );
        let mut v2 = PLAIN;
        v2[1] = 0x02;
        assert!(matches!(
            Packet::new_checked(&v2[..]),
            Err(Error::Malformed {
                layer: Layer::Gre,
                ..
            })
        ));
        let mut routed = CHECKSUMMED;
        routed[0] = 0xc0;
        assert!(matches!(
            Packet::new_checked(&routed[..]),
            Err(Error::Malformed {
                layer: Layer::Gre,
                ..
            })
        ));
        // In version 0 the A bit is reserved: no acknowledgment number, header stays 4 bytes.
        let mut a_in_v0 = PLAIN;
        a_in_v0[1] = 0x80;
        let p = Packet::new_checked(&a_in_v0[..]).unwrap();
        assert_eq!((p.header_len(), p.ack_number()), (4, None));
        assert_eq!(Repr::parse(&p).unwrap().flags_reserved, 0x0080);
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        let fixtures: [&[u8]; 7] = [
            &PLAIN,
            &CHECKSUMMED,
            &CHECKSUMMED_ODD,
            &KEYED,
            &SEQUENCED,
            &PPTP_SEQ_ACK,
            &PPTP_ACK_ONLY,
        ];
        for bytes in fixtures {
            let r = Repr::parse(&Packet::new_checked(bytes).unwrap()).unwrap();
            let mut out = bytes.to_vec();
            out[..r.header_len()].fill(0xaa);
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn emit_computes_checksum() {
        for bytes in [&CHECKSUMMED[..], &CHECKSUMMED_ODD[..]] {
            let mut r = Repr::parse(&Packet::new_checked(bytes).unwrap()).unwrap();
            r.checksum = Checksum::Compute;
            let mut out = bytes.to_vec();
            out[..8].fill(0);
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn setters_on_absent_fields_do_nothing() {
        let mut b = PLAIN;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_key(1);
        p.set_sequence_number(2);
        p.set_ack_number(3);
        p.set_checksum(4);
        p.fill_checksum();
        assert_eq!(b, PLAIN);
        // A flag set after the check points past the buffer: reads say absent, no panic.
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_flags(FLAG_C | FLAG_K | FLAG_S);
        assert_eq!(p.sequence_number(), None);
        assert!(p.payload_mut().is_empty());
        p.set_sequence_number(9);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        let checksum = prop_oneof![
            Just(Checksum::Absent),
            any::<u16>().prop_map(Checksum::Value)
        ];
        (
            0u8..2,
            any::<u16>(),
            checksum,
            any::<u16>(),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            any::<u16>(),
        )
            .prop_map(
                |(version, proto, checksum, reserved1, key, seq, ack, reserved)| {
                    let mask = if version == 1 {
                        RESERVED_V1
                    } else {
                        RESERVED_V0
                    };
                    Repr {
                        version,
                        protocol_type: EtherType(proto),
                        checksum,
                        // Reserved1 exists only with a checksum; without one it reads back as 0.
                        reserved1: if checksum == Checksum::Absent {
                            0
                        } else {
                            reserved1
                        },
                        key,
                        sequence_number: seq,
                        ack_number: if version == 1 { ack } else { None },
                        flags_reserved: reserved & mask,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn repr_emit_parse(r in arb_repr(), payload in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut buf = vec![0u8; r.buffer_len() + payload.len()];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            Packet::new_unchecked(&mut buf[..]).payload_mut().copy_from_slice(&payload);
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(p.header_len(), r.header_len());
            prop_assert_eq!(Repr::parse(&p).unwrap(), r);
            prop_assert_eq!(p.payload(), &payload[..]);
        }

        #[test]
        fn computed_checksum_verifies(r in arb_repr(), payload in proptest::collection::vec(any::<u8>(), 0..16)) {
            let r = Repr { checksum: Checksum::Compute, ..r };
            let mut buf = vec![0u8; r.buffer_len() + payload.len()];
            buf[r.buffer_len()..].copy_from_slice(&payload);
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert!(Packet::new_checked(&buf[..]).unwrap().verify_checksum());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.flags(), p.version(), p.protocol_type(), p.checksum(), p.reserved1());
                let _ = (p.key(), p.sequence_number(), p.ack_number(), p.payload_length(), p.call_id());
                let _ = p.verify_checksum();
                prop_assert!(p.header_len() <= data.len());
                prop_assert_eq!(p.payload().len(), data.len() - p.header_len());
                let r = Repr::parse(&p).unwrap();
                let mut out = data.clone();
                r.emit(&mut Packet::new_unchecked(&mut out[..]));
                prop_assert_eq!(out, data);
            }
        }
    }
}
