//! Geneve (RFC 8926): an 8-byte base header in UDP, variable-length options, then the payload.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---+-----------+-+-+-----------+-------------------------------+
//! |Ver|  Opt Len  |O|C|   Rsvd.   |         Protocol Type         |
//! +---+-----------+-+-+-----------+---------------+---------------+
//! |        Virtual Network Identifier (VNI)       |   Reserved    |
//! +-----------------------------------------------+---------------+
//! |                    Variable-Length Options                    |
//! +---------------------------------------------------------------+
//!
//! Each option (section 3.5):
//! +-------------------------------+---------------+-----+---------+
//! |          Option Class         |      Type     |R R R| Length  |
//! +-------------------------------+---------------+-----+---------+
//! |                 Variable-Length Option Data                   |
//! +---------------------------------------------------------------+
//! ```
//!
//! Opt Len and each option's Length count 4-byte words, excluding the 8-byte base header and the
//! 4-byte option header respectively. O marks a control (OAM) packet; C says a critical option is
//! present (the high bit of an option's Type marks it critical). The protocol type is an
//! ethertype: 0x6558 (transparent Ethernet bridging) for an Ethernet payload, or an L3 type such
//! as 0x0800 directly.
//!
//! [`Packet::check_len`] refuses versions other than 0 (section 3.4: "packets received with an
//! unknown version MUST be dropped", as the kernel's `geneve_rx` does) and an option area longer
//! than the buffer; it does not walk the options. [`OptionIter`] does, one TLV at a time, and
//! yields a [`Error::Malformed`] (then stops) when an option runs past the option area.
//! [`Repr`] keeps the option area as raw bytes, so a header re-emits byte for byte.

use super::ethernet::EtherType;
use super::{Error, Field, Layer, Result};

mod field {
    use super::Field;

    pub const VER_OPTLEN: usize = 0;
    pub const FLAGS: usize = 1;
    pub const PROTOCOL: Field = 2..4;
    pub const VNI: Field = 4..7;
    pub const RESERVED1: usize = 7;
    /// Start of the options.
    pub const OPTIONS: usize = 8;
}

/// Length of the base header (no options).
pub const BASE_LEN: usize = field::OPTIONS;
/// Longest option area: Opt Len is 6 bits of 4-byte words.
pub const MAX_OPTIONS_LEN: usize = 63 * 4;
/// Length of an option's own header (class, type, length).
pub const OPTION_HEADER_LEN: usize = 4;
/// Longest option data: Length is 5 bits of 4-byte words.
pub const MAX_OPTION_DATA_LEN: usize = 31 * 4;

/// IANA-assigned UDP destination port (RFC 8926 section 3.3).
pub const PORT: u16 = 6081;

/// The O flag: a control (OAM) packet.
pub const FLAG_OAM: u8 = 0x80;
/// The C flag: a critical option is present.
pub const FLAG_CRITICAL: u8 = 0x40;
/// The critical bit in an option's Type.
pub const OPTION_TYPE_CRITICAL: u8 = 0x80;

/// Largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00ff_ffff;

/// A read/write view of a Geneve header followed by its payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; fixed-field accessors panic if it is shorter than
    /// the base header (the option area and payload read as empty past its end).
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the version (0) and that the buffer holds the base header and the option area.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < BASE_LEN {
            return Err(Error::Truncated {
                layer: Layer::Geneve,
                needed: BASE_LEN,
                available,
            });
        }
        if self.version() != 0 {
            return Err(Error::Malformed {
                layer: Layer::Geneve,
                what: "unknown version",
            });
        }
        let needed = self.header_len();
        if available < needed {
            return Err(Error::Truncated {
                layer: Layer::Geneve,
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

    /// Version (2 bits; 0 after `new_checked`).
    #[must_use]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_OPTLEN] >> 6
    }

    /// Length of the option area in bytes (Opt Len × 4).
    #[must_use]
    pub fn options_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_OPTLEN] & 0x3f) * 4
    }

    /// Length of the base header and options.
    #[must_use]
    pub fn header_len(&self) -> usize {
        BASE_LEN + self.options_len()
    }

    /// The flags byte (O, C and six reserved bits).
    #[must_use]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// O: a control (OAM) packet, for the tunnel endpoint rather than a tenant.
    #[must_use]
    pub fn oam(&self) -> bool {
        self.flags() & FLAG_OAM != 0
    }

    /// C: a critical option is present.
    #[must_use]
    pub fn critical(&self) -> bool {
        self.flags() & FLAG_CRITICAL != 0
    }

    /// The six reserved bits of the flags byte.
    #[must_use]
    pub fn reserved0(&self) -> u8 {
        self.flags() & 0x3f
    }

    /// Protocol type of the payload (an ethertype; [`EtherType::TEB`] for Ethernet).
    #[must_use]
    pub fn protocol_type(&self) -> EtherType {
        let d = &self.buffer.as_ref()[field::PROTOCOL];
        EtherType(u16::from_be_bytes([d[0], d[1]]))
    }

    /// Virtual network identifier (24 bits).
    #[must_use]
    pub fn vni(&self) -> u32 {
        let d = &self.buffer.as_ref()[field::VNI];
        u32::from_be_bytes([0, d[0], d[1], d[2]])
    }

    /// The reserved byte after the VNI.
    #[must_use]
    pub fn reserved1(&self) -> u8 {
        self.buffer.as_ref()[field::RESERVED1]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The option area, raw.
    #[must_use]
    pub fn options(&self) -> &'a [u8] {
        let data: &'a [u8] = self.buffer.as_ref();
        data.get(field::OPTIONS..self.header_len())
            .unwrap_or_default()
    }

    /// The options, one TLV at a time.
    #[must_use]
    pub fn option_iter(&self) -> OptionIter<'a> {
        OptionIter::new(self.options())
    }

    /// The bytes after the options.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let data: &'a [u8] = self.buffer.as_ref();
        data.get(self.header_len()..).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version (2 bits) and the option area length in bytes (rounded down to words,
    /// at most [`MAX_OPTIONS_LEN`]).
    pub fn set_version_and_options_len(&mut self, version: u8, options_len: usize) {
        let words = (options_len / 4).min(63) as u8;
        self.buffer.as_mut()[field::VER_OPTLEN] = ((version & 0x3) << 6) | words;
    }

    /// Sets the flags byte.
    pub fn set_flags(&mut self, value: u8) {
        self.buffer.as_mut()[field::FLAGS] = value;
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        self.buffer.as_mut()[field::PROTOCOL].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets the VNI (only the low 24 bits of `value` are used).
    pub fn set_vni(&mut self, value: u32) {
        self.buffer.as_mut()[field::VNI].copy_from_slice(&value.to_be_bytes()[1..]);
    }

    /// Sets the reserved byte after the VNI.
    pub fn set_reserved1(&mut self, value: u8) {
        self.buffer.as_mut()[field::RESERVED1] = value;
    }

    /// The option area, mutably (empty if Opt Len points past the buffer).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(field::OPTIONS..end)
            .unwrap_or_default()
    }

    /// The bytes after the options, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        self.buffer.as_mut().get_mut(start..).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// One Geneve option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionTlv<'a> {
    /// Option class (namespace of the type; IANA registry).
    pub class: u16,
    /// Type, critical bit included.
    pub option_type: u8,
    /// The three reserved bits before Length.
    pub reserved: u8,
    /// Option data (a multiple of 4 bytes, at most [`MAX_OPTION_DATA_LEN`]).
    pub data: &'a [u8],
}

impl OptionTlv<'_> {
    /// Whether the critical bit of the type is set: an endpoint that does not know the option
    /// must drop the packet (RFC 8926 section 3.5.1).
    #[must_use]
    pub fn critical(&self) -> bool {
        self.option_type & OPTION_TYPE_CRITICAL != 0
    }

    /// Bytes the option occupies: its 4-byte header and its data.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        OPTION_HEADER_LEN + self.data.len()
    }

    /// Writes the option at the start of `buf`, returning the bytes written. Fails if the data
    /// is not a multiple of 4 bytes or longer than [`MAX_OPTION_DATA_LEN`], or if `buf` is
    /// shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.data.len() & 3 != 0 || self.data.len() > MAX_OPTION_DATA_LEN {
            return Err(Error::Malformed {
                layer: Layer::Geneve,
                what: "option data is not a multiple of 4 bytes up to 124",
            });
        }
        let len = self.buffer_len();
        let available = buf.len();
        let Some(out) = buf.get_mut(..len) else {
            return Err(Error::Truncated {
                layer: Layer::Geneve,
                needed: len,
                available,
            });
        };
        out[0..2].copy_from_slice(&self.class.to_be_bytes());
        out[2] = self.option_type;
        out[3] = ((self.reserved & 0x7) << 5) | (self.data.len() / 4) as u8;
        out[OPTION_HEADER_LEN..].copy_from_slice(self.data);
        Ok(len)
    }
}

/// Iterator over the options of an option area; see [`Packet::option_iter`].
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> OptionIter<'a> {
    /// Iterates over the options in `options` (an option area).
    #[must_use]
    pub fn new(options: &'a [u8]) -> OptionIter<'a> {
        OptionIter {
            rest: options,
            offset: 0,
            failed: false,
        }
    }

    /// Offset in the option area of the next option.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<OptionTlv<'a>>;

    fn next(&mut self) -> Option<Result<OptionTlv<'a>>> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let malformed = Error::Malformed {
            layer: Layer::Geneve,
            what: "option runs past the option area",
        };
        let Some((header, after)) = self.rest.split_first_chunk::<OPTION_HEADER_LEN>() else {
            self.failed = true;
            return Some(Err(malformed));
        };
        let data_len = usize::from(header[3] & 0x1f) * 4;
        let Some((data, rest)) = after.split_at_checked(data_len) else {
            self.failed = true;
            return Some(Err(malformed));
        };
        self.rest = rest;
        self.offset += OPTION_HEADER_LEN + data_len;
        Some(Ok(OptionTlv {
            class: u16::from_be_bytes([header[0], header[1]]),
            option_type: header[2],
            reserved: header[3] >> 5,
            data,
        }))
    }
}

impl core::iter::FusedIterator for OptionIter<'_> {}

/// The meaning of a Geneve header, options kept raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// O flag.
    pub oam: bool,
    /// C flag.
    pub critical: bool,
    /// The six reserved flag bits (zero on send).
    pub reserved0: u8,
    /// Protocol type of the payload.
    pub protocol_type: EtherType,
    /// Virtual network identifier, 0 to 2^24 − 1.
    pub vni: u32,
    /// The reserved byte after the VNI (zero on send).
    pub reserved1: u8,
    /// The option area: whole options, a multiple of 4 bytes, at most [`MAX_OPTIONS_LEN`].
    pub options: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a checked view; [`Error::Malformed`] if an option runs past the option area.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        for option in packet.option_iter() {
            option?;
        }
        Ok(Repr {
            oam: packet.oam(),
            critical: packet.critical(),
            reserved0: packet.reserved0(),
            protocol_type: packet.protocol_type(),
            vni: packet.vni(),
            reserved1: packet.reserved1(),
            options: packet.options(),
        })
    }

    /// The options, one TLV at a time.
    #[must_use]
    pub fn option_iter(&self) -> OptionIter<'a> {
        OptionIter::new(self.options)
    }

    fn options_emitted(&self) -> usize {
        self.options.len().min(MAX_OPTIONS_LEN) & !3
    }

    /// Length of the header this emits: 8 plus the option area (cut to whole words, at most
    /// [`MAX_OPTIONS_LEN`]).
    #[must_use]
    pub fn header_len(&self) -> usize {
        BASE_LEN + self.options_emitted()
    }

    /// Bytes [`emit`](Self::emit) writes (the header; the payload is the caller's).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header and options into `packet`, which must hold at least
    /// [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        let options_len = self.options_emitted();
        packet.set_version_and_options_len(0, options_len);
        let mut flags = self.reserved0 & 0x3f;
        if self.oam {
            flags |= FLAG_OAM;
        }
        if self.critical {
            flags |= FLAG_CRITICAL;
        }
        packet.set_flags(flags);
        packet.set_protocol_type(self.protocol_type);
        packet.set_vni(self.vni);
        packet.set_reserved1(self.reserved1);
        if let Some(src) = self.options.get(..options_len) {
            let dst = packet.options_mut();
            if dst.len() == src.len() {
                dst.copy_from_slice(src);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// zeek `tunnels/geneve-tagged-udp-packet.pcap` frame 1 (tshark: `…:udp:geneve:eth:…`):
    /// the Geneve header with one 56-byte option (class 0xff72, type 0x7f), then the first 14
    /// bytes of the inner Ethernet frame. VNI 100, TEB.
    static ONE_OPTION: [u8; 82] = [
        0x0f, 0x00, 0x65, 0x58, 0x00, 0x00, 0x64, 0x00, 0xff, 0x72, 0x7f, 0x0e, 0x2f, 0x68, 0x6f,
        0x6d, 0x65, 0x2f, 0x65, 0x73, 0x6b, 0x2f, 0x73, 0x72, 0x63, 0x2f, 0x7a, 0x65, 0x65, 0x6b,
        0x2f, 0x2f, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67, 0x2f, 0x62, 0x74, 0x65, 0x73, 0x74,
        0x2f, 0x54, 0x72, 0x61, 0x63, 0x65, 0x73, 0x2f, 0x75, 0x64, 0x70, 0x2d, 0x70, 0x61, 0x63,
        0x6b, 0x65, 0x74, 0x2e, 0x70, 0x63, 0x61, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
    ];

    /// tcpdump `geneve-gcp.pcap` frame 1 (tshark: `…:udp:geneve:ip:tcp`): three options of
    /// class 0x0132 (4, 16 and 8 data bytes), then IPv4 directly.
    static GCP: [u8; 52] = [
        0x0a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x32, 0x01, 0x01, 0x80, 0x00, 0x00,
        0xd1, 0x01, 0x32, 0x02, 0x04, 0x08, 0x00, 0x00, 0x0d, 0xc0, 0xa8, 0x64, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x32, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x12, 0x34, 0x45, 0x00, 0x00, 0x28,
    ];

    /// zeek `tunnels/geneve-arp.pcap` frame 1 (tshark: `…:udp:geneve:arp`): no options, ARP
    /// directly, VNI 1.
    static NO_OPTIONS_ARP: [u8; 12] = [
        0x00, 0x00, 0x08, 0x06, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x08, 0x00,
    ];

    #[test]
    fn parse_one_option() {
        let p = Packet::new_checked(&ONE_OPTION[..]).unwrap();
        assert_eq!((p.version(), p.options_len(), p.header_len()), (0, 60, 68));
        assert!(!p.oam() && !p.critical());
        assert_eq!((p.protocol_type(), p.vni()), (EtherType::TEB, 100));
        let options: Vec<_> = p.option_iter().collect::<Result<_>>().unwrap();
        assert_eq!(options.len(), 1);
        assert_eq!(
            (
                options[0].class,
                options[0].option_type,
                options[0].data.len()
            ),
            (0xff72, 0x7f, 56)
        );
        assert!(!options[0].critical());
        assert!(options[0].data.starts_with(b"/home/esk/src/zeek"));
        assert_eq!(p.payload().len(), 14);
    }

    #[test]
    fn parse_gcp() {
        let p = Packet::new_checked(&GCP[..]).unwrap();
        assert_eq!(
            (p.options_len(), p.protocol_type(), p.vni()),
            (40, EtherType::IPV4, 0)
        );
        let options: Vec<_> = p.option_iter().collect::<Result<_>>().unwrap();
        let summary: Vec<_> = options
            .iter()
            .map(|o| (o.class, o.option_type, o.data.len()))
            .collect();
        assert_eq!(summary, [(0x0132, 1, 4), (0x0132, 2, 16), (0x0132, 3, 8)]);
        assert_eq!(options[0].data, &[0x80, 0x00, 0x00, 0xd1]);
        assert_eq!(p.payload(), &[0x45, 0x00, 0x00, 0x28]);

        let p = Packet::new_checked(&NO_OPTIONS_ARP[..]).unwrap();
        assert_eq!(
            (p.header_len(), p.protocol_type(), p.vni()),
            (8, EtherType::ARP, 1)
        );
        assert_eq!(p.option_iter().count(), 0);
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for bytes in [&ONE_OPTION[..], &GCP[..], &NO_OPTIONS_ARP[..]] {
            let p = Packet::new_checked(bytes).unwrap();
            let r = Repr::parse(&p).unwrap();
            let mut out = bytes.to_vec();
            out[..r.header_len()].fill(0xaa);
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            Packet::new_checked(&ONE_OPTION[..67]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Geneve,
                needed: 68,
                available: 67
            }
        );
        assert_eq!(
            Packet::new_checked(&GCP[..7]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Geneve,
                needed: 8,
                available: 7
            }
        );
        let mut v1 = NO_OPTIONS_ARP;
        v1[0] = 0x40;
        assert!(matches!(
            Packet::new_checked(&v1[..]),
            Err(Error::Malformed {
                layer: Layer::Geneve,
                ..
            })
        ));

        // The last option claims 3 words of data where the area has 2 left.
        let mut bad = GCP;
        bad[39] = 0x03;
        let p = Packet::new_checked(&bad[..]).unwrap();
        let mut it = p.option_iter();
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_ok());
        assert_eq!(it.offset(), 28);
        assert!(matches!(
            it.next(),
            Some(Err(Error::Malformed {
                layer: Layer::Geneve,
                ..
            }))
        ));
        assert!(it.next().is_none());
        assert!(Repr::parse(&p).is_err());
        // An option header cut by the end of the area.
        assert!(OptionIter::new(&[0x01, 0x32]).next().unwrap().is_err());
    }

    #[test]
    fn option_emit() {
        let p = Packet::new_checked(&GCP[..]).unwrap();
        let mut area = [0u8; 40];
        let mut at = 0;
        for o in p.option_iter() {
            at += o.unwrap().emit(&mut area[at..]).unwrap();
        }
        assert_eq!((at, &area[..]), (40, p.options()));
        let odd = OptionTlv {
            class: 1,
            option_type: 0x81,
            reserved: 0,
            data: &[1, 2, 3],
        };
        assert!(odd.critical());
        assert!(odd.emit(&mut [0; 16]).is_err());
        let ok = OptionTlv {
            data: &[1, 2, 3, 4],
            ..odd
        };
        assert_eq!(
            ok.emit(&mut [0; 7]),
            Err(Error::Truncated {
                layer: Layer::Geneve,
                needed: 8,
                available: 7
            })
        );
    }

    /// An option area made of whole options.
    fn arb_options() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            (
                any::<u16>(),
                any::<u8>(),
                0u8..8,
                proptest::collection::vec(any::<[u8; 4]>(), 0..4),
            ),
            0..5,
        )
        .prop_map(|opts| {
            let mut area = Vec::new();
            for (class, option_type, reserved, words) in opts {
                let data: Vec<u8> = words.concat();
                let tlv = OptionTlv {
                    class,
                    option_type,
                    reserved,
                    data: &data,
                };
                let start = area.len();
                area.resize(start + tlv.buffer_len(), 0);
                tlv.emit(&mut area[start..]).unwrap();
            }
            area
        })
    }

    proptest! {
        #[test]
        fn repr_emit_parse(
            oam in any::<bool>(),
            critical in any::<bool>(),
            reserved0 in 0u8..64,
            proto in any::<u16>(),
            vni in 0..=MAX_VNI,
            reserved1 in any::<u8>(),
            options in arb_options(),
            payload in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let r = Repr { oam, critical, reserved0, protocol_type: EtherType(proto), vni, reserved1, options: &options };
            let mut buf = vec![0u8; r.buffer_len() + payload.len()];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            Packet::new_unchecked(&mut buf[..]).payload_mut().copy_from_slice(&payload);
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), r);
            prop_assert_eq!(p.payload(), &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..96)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.version(), p.flags(), p.oam(), p.critical(), p.reserved0(), p.protocol_type());
                let _ = (p.vni(), p.reserved1(), p.options(), p.payload());
                prop_assert_eq!(p.options().len(), p.options_len());
                let mut total = 0;
                for o in p.option_iter() {
                    match o {
                        Ok(o) => total += o.buffer_len(),
                        Err(_) => break,
                    }
                }
                prop_assert!(total <= p.options_len());
                if let Ok(r) = Repr::parse(&p) {
                    let mut out = data.clone();
                    r.emit(&mut Packet::new_unchecked(&mut out[..]));
                    prop_assert_eq!(out, data);
                }
            }
        }
    }
}
