//! VXLAN (RFC 7348): an 8-byte header in UDP, then an Ethernet frame.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-----------------------------------------------+
//! |R|R|R|R|I|R|R|R|                   Reserved                    |
//! +-+-+-+-+-+-+-+-+-------------------------------+---------------+
//! |               VXLAN Network Identifier (VNI)  |   Reserved    |
//! +-----------------------------------------------+---------------+
//! ```
//!
//! RFC 7348 section 5: the I flag must be set for the VNI to be valid; the other bits are
//! reserved, sent as zero and ignored on receipt. Extensions give some of them meaning — the
//! Group Based Policy draft puts a G flag at 0x80 of the first byte and a 16-bit policy ID in the
//! low half of the first word, which the kernel reads when the device has `gbp` — so the view
//! exposes the raw words and [`Repr`] keeps them: a header re-emits byte for byte.
//!
//! The view does not drop a header with I clear: whether to (the kernel's `vxlan_rcv` does) is
//! the decapsulating device's decision, and dissectors still show such packets.

use super::{Error, Field, Layer, Rest, Result};

mod field {
    use super::{Field, Rest};

    pub const FLAGS: usize = 0;
    pub const RESERVED0: Field = 1..4;
    pub const VNI: Field = 4..7;
    pub const RESERVED1: usize = 7;
    pub const PAYLOAD: Rest = 8..;
}

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// IANA-assigned UDP destination port (RFC 7348 section 5).
pub const PORT: u16 = 4789;
/// The port Linux used before IANA's assignment; still the kernel default when none is given.
pub const LINUX_LEGACY_PORT: u16 = 8472;

/// The I flag: the VNI is valid.
pub const FLAG_I: u8 = 0x08;
/// The G flag of the Group Based Policy extension (draft-smith-vxlan-group-policy).
pub const FLAG_GBP: u8 = 0x80;

/// Largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00ff_ffff;

/// A read/write view of a VXLAN header followed by the inner Ethernet frame.
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

    /// Checks that the buffer holds the 8-byte header.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Vxlan,
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

    /// The flags byte.
    #[must_use]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// Whether the I flag is set (the VNI is valid).
    #[must_use]
    pub fn i_flag(&self) -> bool {
        self.flags() & FLAG_I != 0
    }

    /// The 24 reserved bits after the flags (GBP: the low 16 of them are the policy ID).
    #[must_use]
    pub fn reserved0(&self) -> u32 {
        let d = &self.buffer.as_ref()[field::RESERVED0];
        u32::from_be_bytes([0, d[0], d[1], d[2]])
    }

    /// The Group Based Policy ID, meaningful when [`FLAG_GBP`] is set.
    #[must_use]
    pub fn group_policy_id(&self) -> u16 {
        self.reserved0() as u16
    }

    /// VXLAN network identifier (24 bits).
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
    /// The inner Ethernet frame.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the flags byte.
    pub fn set_flags(&mut self, value: u8) {
        self.buffer.as_mut()[field::FLAGS] = value;
    }

    /// Sets the 24 reserved bits after the flags (higher bits of `value` are dropped).
    pub fn set_reserved0(&mut self, value: u32) {
        self.buffer.as_mut()[field::RESERVED0].copy_from_slice(&value.to_be_bytes()[1..]);
    }

    /// Sets the VNI (only the low 24 bits of `value` are used).
    pub fn set_vni(&mut self, value: u32) {
        self.buffer.as_mut()[field::VNI].copy_from_slice(&value.to_be_bytes()[1..]);
    }

    /// Sets the reserved byte after the VNI.
    pub fn set_reserved1(&mut self, value: u8) {
        self.buffer.as_mut()[field::RESERVED1] = value;
    }

    /// The inner Ethernet frame, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of a VXLAN header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Flags byte ([`FLAG_I`] for a plain RFC 7348 header).
    pub flags: u8,
    /// The 24 reserved bits after the flags (zero, or a GBP policy ID).
    pub reserved0: u32,
    /// VXLAN network identifier, 0 to 2^24 − 1.
    pub vni: u32,
    /// The reserved byte after the VNI (zero).
    pub reserved1: u8,
}

impl Repr {
    /// A plain RFC 7348 header for `vni`: I set, reserved fields zero.
    #[must_use]
    pub const fn new(vni: u32) -> Repr {
        Repr {
            flags: FLAG_I,
            reserved0: 0,
            vni,
            reserved1: 0,
        }
    }

    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            flags: packet.flags(),
            reserved0: packet.reserved0(),
            vni: packet.vni(),
            reserved1: packet.reserved1(),
        })
    }

    /// Length of the header this emits.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes [`emit`](Self::emit) writes (the header; the inner frame is the caller's).
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `packet` (at least [`HEADER_LEN`] bytes). A VNI or `reserved0`
    /// above 24 bits keeps its low 24.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_flags(self.flags);
        packet.set_reserved0(self.reserved0);
        packet.set_vni(self.vni);
        packet.set_reserved1(self.reserved1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// zeek `tunnels/vxlan.pcap` frame 1 (tshark: `…:udp:vxlan:eth:ethertype:arp`), the VXLAN
    /// header and the inner Ethernet header: VNI 123.
    static PLAIN: [u8; 22] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xba,
        0x09, 0x2b, 0x6e, 0xf8, 0xbe, 0x08, 0x06,
    ];

    /// pcapplusplus `Vxlan2.pcap` frame 1 (tshark: `…:udp:vxlan:eth:ethertype:ip:icmp:data`),
    /// first 8 bytes: GBP-style bits in the reserved fields (0x08, policy 0x7f7f), VNI 300.
    static RESERVED_BITS: [u8; 8] = [0x08, 0x08, 0x7f, 0x7f, 0x00, 0x01, 0x2c, 0x00];

    #[test]
    fn parse_fixtures() {
        let p = Packet::new_checked(&PLAIN[..]).unwrap();
        assert!(p.i_flag());
        assert_eq!(
            (p.flags(), p.reserved0(), p.vni(), p.reserved1()),
            (FLAG_I, 0, 123, 0)
        );
        assert_eq!(p.payload().len(), 14);
        assert_eq!(Repr::parse(&p).unwrap(), Repr::new(123));

        let p = Packet::new_checked(&RESERVED_BITS[..]).unwrap();
        assert!(p.i_flag());
        assert_eq!(p.vni(), 300);
        assert_eq!(p.reserved0(), 0x08_7f7f);
        assert_eq!(p.group_policy_id(), 0x7f7f);
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for bytes in [&PLAIN[..8], &RESERVED_BITS[..], &[0xff; 8][..]] {
            let r = Repr::parse(&Packet::new_checked(bytes).unwrap()).unwrap();
            let mut out = [0u8; 8];
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], bytes);
        }
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&PLAIN[..7]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Vxlan,
                needed: 8,
                available: 7
            }
        );
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (any::<u8>(), 0..=MAX_VNI, 0..=MAX_VNI, any::<u8>()).prop_map(
            |(flags, reserved0, vni, reserved1)| Repr {
                flags,
                reserved0,
                vni,
                reserved1,
            },
        )
    }

    proptest! {
        #[test]
        fn repr_emit_parse(r in arb_repr()) {
            let mut buf = [0u8; HEADER_LEN];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.flags(), p.i_flag(), p.reserved0(), p.group_policy_id(), p.vni(), p.reserved1());
                prop_assert_eq!(p.payload().len(), data.len() - HEADER_LEN);
                let _ = Repr::parse(&p).unwrap();
            }
        }
    }
}
