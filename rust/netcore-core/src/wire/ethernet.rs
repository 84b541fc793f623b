//! Ethernet II / IEEE 802.3 MAC header: destination, source, type/length.
//!
//! ```text
//!  0                   1
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3
//! +-----------+-----------+---+
//! |    dst    |    src    |T/L|  payload…
//! +-----------+-----------+---+
//! ```
//!
//! The two bytes after the addresses are an *ethertype* when they are 0x0600 or more (Ethernet II,
//! RFC 894) and an 802.3 *length* otherwise (IEEE 802.3 clause 3.2.6: values up to 1500 are
//! lengths, 1501–1535 are undefined). The kernel draws the same line (`eth_type_trans` tests
//! `eth_proto_is_802_3`, i.e. `>= ETH_P_802_3_MIN` = 0x0600), so [`EtherType::is_length`] uses it.
//!
//! The view holds no frame check sequence and does not enforce the 60-byte minimum frame: captures
//! taken on the sending host, or with offloads, routinely carry shorter frames, and padding is the
//! IP layer's business to trim (by its total length).

use core::fmt;

use super::{Error, Field, Layer, Rest, Result};

mod field {
    use super::{Field, Rest};

    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: Rest = 14..;
}

/// Length of the Ethernet II header (no VLAN tag, no FCS).
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// An ethertype, or an 802.3 length when below 0x0600 (see [`EtherType::is_length`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4 (RFC 894).
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP (RFC 826).
    pub const ARP: EtherType = EtherType(0x0806);
    /// Transparent Ethernet Bridging: an Ethernet frame follows (GRE/Geneve payload type).
    pub const TEB: EtherType = EtherType(0x6558);
    /// Reverse ARP (RFC 903).
    pub const RARP: EtherType = EtherType(0x8035);
    /// IEEE 802.1Q customer VLAN tag (C-tag).
    pub const VLAN: EtherType = EtherType(0x8100);
    /// IPv6 (RFC 2464).
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// MPLS unicast (RFC 3032).
    pub const MPLS_UNICAST: EtherType = EtherType(0x8847);
    /// MPLS multicast (RFC 5332).
    pub const MPLS_MULTICAST: EtherType = EtherType(0x8848);
    /// IEEE 802.1ad service VLAN tag (S-tag, the outer tag of QinQ).
    pub const QINQ: EtherType = EtherType(0x88a8);
    /// Link Layer Discovery Protocol (IEEE 802.1AB).
    pub const LLDP: EtherType = EtherType(0x88cc);
    /// Pre-standard QinQ outer tag used by some vendors before 802.1ad fixed 0x88a8.
    pub const QINQ_LEGACY: EtherType = EtherType(0x9100);

    /// The smallest value that is an ethertype rather than an 802.3 length.
    pub const MIN_ETHERTYPE: u16 = 0x0600;

    /// Whether the value is an IEEE 802.3 length (below 0x0600), not an ethertype: an LLC
    /// (802.2) header, or a raw Novell 802.3 frame, follows.
    #[must_use]
    pub const fn is_length(self) -> bool {
        self.0 < Self::MIN_ETHERTYPE
    }

    /// Whether this type announces an 802.1Q/802.1ad tag (0x8100, 0x88a8 or legacy 0x9100).
    #[must_use]
    pub const fn is_vlan(self) -> bool {
        matches!(self.0, 0x8100 | 0x88a8 | 0x9100)
    }

    /// Whether this type announces an MPLS label stack (unicast or multicast).
    #[must_use]
    pub const fn is_mpls(self) -> bool {
        matches!(self.0, 0x8847 | 0x8848)
    }

    /// A short name for well-known types (`"ipv4"`, `"arp"`, …), `None` for the others.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0800 => "ipv4",
            0x0806 => "arp",
            0x6558 => "teb",
            0x8035 => "rarp",
            0x8100 => "vlan",
            0x86dd => "ipv6",
            0x8847 => "mpls",
            0x8848 => "mpls-multicast",
            0x88a8 => "qinq",
            0x88cc => "lldp",
            0x9100 => "qinq-legacy",
            _ => return None,
        })
    }
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        EtherType(value)
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> Self {
        value.0
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04x}", self.0)
    }
}

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 6]);

impl Address {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Address = Address([0xff; 6]);
    /// The all-zero address (unset, or an ARP request's unknown target).
    pub const UNSPECIFIED: Address = Address([0; 6]);

    /// The address in the first six bytes of `data`, or `None` if there are fewer.
    #[must_use]
    pub fn from_slice(data: &[u8]) -> Option<Address> {
        let bytes: [u8; 6] = data.get(..6)?.try_into().ok()?;
        Some(Address(bytes))
    }

    /// The six octets, in transmission order.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Whether this is the broadcast address.
    #[must_use]
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether the I/G bit (least significant bit of the first octet) is set: a group address.
    /// Broadcast is a group address too, as the kernel's `is_multicast_ether_addr` counts it.
    #[must_use]
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address: the I/G bit is clear.
    #[must_use]
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the U/L bit is set: a locally administered address.
    #[must_use]
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl From<[u8; 6]> for Address {
    fn from(value: [u8; 6]) -> Self {
        Address(value)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

/// A read/write view of an Ethernet header followed by its payload.
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

    /// Checks that the buffer holds the 14-byte header.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Ethernet,
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

    /// Destination address.
    #[must_use]
    pub fn dst_addr(&self) -> Address {
        let d = self.buffer.as_ref();
        Address([d[0], d[1], d[2], d[3], d[4], d[5]])
    }

    /// Source address.
    #[must_use]
    pub fn src_addr(&self) -> Address {
        let d = &self.buffer.as_ref()[field::SOURCE];
        Address([d[0], d[1], d[2], d[3], d[4], d[5]])
    }

    /// The type/length field: an ethertype, or an 802.3 length (see [`Self::is_length`]).
    #[must_use]
    pub fn ethertype(&self) -> EtherType {
        let d = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType(u16::from_be_bytes([d[0], d[1]]))
    }

    /// Whether the type/length field is an 802.3 length (an 802.2 LLC header follows).
    #[must_use]
    pub fn is_length(&self) -> bool {
        self.ethertype().is_length()
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
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, value: Address) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&value.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, value: Address) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&value.0);
    }

    /// Sets the type/length field.
    pub fn set_ethertype(&mut self, value: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&value.0.to_be_bytes());
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

/// The meaning of an Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Address,
    /// Destination address.
    pub dst_addr: Address,
    /// Ethertype (or 802.3 length).
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            ethertype: packet.ethertype(),
        })
    }

    /// Length of the header this emits.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes [`emit`](Self::emit) writes (the header; the payload is the caller's).
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `packet`, which must hold at least [`buffer_len`](Self::buffer_len)
    /// bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_dst_addr(self.dst_addr);
        packet.set_src_addr(self.src_addr);
        packet.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// ARP request: pcapplusplus `ArpRequestPacket.pcap` frame 1 (tshark: `eth:ethertype:arp`).
    static ARP_FRAME: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x6c, 0xf0, 0x49, 0xb2, 0xde, 0x6e, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x6c, 0xf0, 0x49, 0xb2, 0xde, 0x6e, 0x0a, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x8a,
    ];

    /// An 802.3 frame carrying STP over LLC (type/length = 0x0026), hand-written from IEEE 802.3.
    static LLC_FRAME: [u8; 20] = [
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e, 0x00, 0x26, 0x42,
        0x42, 0x03, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn parse_fixture() {
        let p = Packet::new_checked(&ARP_FRAME[..]).unwrap();
        assert_eq!(p.dst_addr(), Address::BROADCAST);
        assert_eq!(p.src_addr(), Address([0x6c, 0xf0, 0x49, 0xb2, 0xde, 0x6e]));
        assert_eq!(p.ethertype(), EtherType::ARP);
        assert!(!p.is_length());
        assert_eq!(p.payload().len(), 28);
        assert_eq!(p.header_len(), 14);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.ethertype, EtherType::ARP);
        assert_eq!(r.src_addr.to_string(), "6c:f0:49:b2:de:6e");
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for frame in [&ARP_FRAME[..], &LLC_FRAME[..]] {
            let r = Repr::parse(&Packet::new_checked(frame).unwrap()).unwrap();
            let mut out = frame.to_vec();
            out[..HEADER_LEN].fill(0);
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(out, frame);
        }
    }

    #[test]
    fn length_field_is_not_an_ethertype() {
        let p = Packet::new_checked(&LLC_FRAME[..]).unwrap();
        assert!(p.is_length());
        assert_eq!(p.ethertype(), EtherType(0x26));
        assert!(EtherType(0x05ff).is_length());
        assert!(!EtherType(0x0600).is_length());
        assert!(p.dst_addr().is_multicast());
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&ARP_FRAME[..13]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Ethernet,
                needed: 14,
                available: 13
            }
        );
        assert!(
            Packet::new_checked(&ARP_FRAME[..14])
                .unwrap()
                .payload()
                .is_empty()
        );
    }

    #[test]
    fn address_classes() {
        assert!(Address::BROADCAST.is_broadcast());
        assert!(Address::BROADCAST.is_multicast());
        let m = Address([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
        assert!(m.is_multicast() && !m.is_unicast() && !m.is_broadcast());
        let u = Address([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
        assert!(u.is_unicast() && u.is_local());
        assert_eq!(u.to_string(), "02:42:ac:11:00:02");
        assert_eq!(Address::from_slice(&[1, 2, 3, 4, 5]), None);
        assert_eq!(
            Address::from_slice(&[1, 2, 3, 4, 5, 6, 7]),
            Some(Address([1, 2, 3, 4, 5, 6]))
        );
    }

    #[test]
    fn ethertype_names() {
        assert_eq!(EtherType::IPV6.name(), Some("ipv6"));
        assert_eq!(EtherType(0x1234).name(), None);
        assert_eq!(EtherType::QINQ.to_string(), "0x88a8");
        assert!(EtherType::QINQ_LEGACY.is_vlan() && EtherType::VLAN.is_vlan());
        assert!(EtherType::MPLS_MULTICAST.is_mpls());
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (any::<[u8; 6]>(), any::<[u8; 6]>(), any::<u16>()).prop_map(|(s, d, t)| Repr {
            src_addr: Address(s),
            dst_addr: Address(d),
            ethertype: EtherType(t),
        })
    }

    proptest! {
        #[test]
        fn repr_emit_parse(r in arb_repr(), payload in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut buf = vec![0u8; r.buffer_len() + payload.len()];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            Packet::new_unchecked(&mut buf[..]).payload_mut().copy_from_slice(&payload);
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), r);
            prop_assert_eq!(p.payload(), &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.dst_addr(), p.src_addr(), p.ethertype(), p.is_length(), p.payload());
                let _ = Repr::parse(&p).unwrap();
            } else {
                prop_assert!(data.len() < HEADER_LEN);
            }
        }
    }
}
