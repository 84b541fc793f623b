//! ARP (RFC 826) for any hardware and protocol type, with a [`Repr`] for Ethernet/IPv4.
//!
//! ```text
//! +-------+-------+---+---+-------+------+------+------+------+
//! | htype | ptype |hln|pln| oper  | sha  | spa  | tha  | tpa  |
//! +-------+-------+---+---+-------+------+------+------+------+
//!     2       2     1   1     2    hln    pln    hln    pln
//! ```
//!
//! The address fields are as long as the header says (`hln`, `pln`), so [`Packet::check_len`]
//! reads those two bytes before it knows how long the packet is: 8 + 2 × (hln + pln). The kernel
//! does the same in `arp_rcv` (`arp_hdr_len(dev)` must be pulled before the addresses are read).
//! The same layout serves RARP (RFC 903) and `InARP` (RFC 2390); only the operation differs.
//!
//! Bytes after the target protocol address (Ethernet padding up to 60 bytes) are not ARP: the view
//! has no payload, and [`Packet::packet_len`] says where ARP ends.

use std::net::Ipv4Addr;

use super::ethernet::{Address, EtherType};
use super::{Error, Field, Layer, Result};

mod field {
    use super::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    /// Start of the variable-length addresses.
    pub const ADDRS: usize = 8;
}

/// Length of the fixed part, before the addresses.
pub const FIXED_LEN: usize = field::ADDRS;
/// Length of an Ethernet/IPv4 ARP packet (hln 6, pln 4).
pub const ETHERNET_IPV4_LEN: usize = FIXED_LEN + 2 * (6 + 4);

/// ARP hardware type (IANA "Hardware Types" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HardwareType(pub u16);

impl HardwareType {
    /// Ethernet (10 Mb and every later speed).
    pub const ETHERNET: HardwareType = HardwareType(1);
    /// IEEE 802 networks (Token Ring, and 802.2 LLC encapsulation).
    pub const IEEE802: HardwareType = HardwareType(6);
    /// ARCNET (RFC 1201).
    pub const ARCNET: HardwareType = HardwareType(7);
    /// `InfiniBand` (RFC 4391, IP over IB: 20-byte hardware addresses).
    pub const INFINIBAND: HardwareType = HardwareType(32);
}

/// ARP operation code (IANA "Operation Codes" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Operation(pub u16);

impl Operation {
    /// Request (RFC 826).
    pub const REQUEST: Operation = Operation(1);
    /// Reply (RFC 826).
    pub const REPLY: Operation = Operation(2);
    /// Reverse request (RARP, RFC 903).
    pub const REVERSE_REQUEST: Operation = Operation(3);
    /// Reverse reply (RARP, RFC 903).
    pub const REVERSE_REPLY: Operation = Operation(4);
    /// Inverse request (`InARP`, RFC 2390).
    pub const INVERSE_REQUEST: Operation = Operation(8);
    /// Inverse reply (`InARP`, RFC 2390).
    pub const INVERSE_REPLY: Operation = Operation(9);
}

/// A read/write view of an ARP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors panic if it is shorter than the fixed part,
    /// and address accessors return empty slices for addresses past its end.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the fixed part and then the four addresses its lengths say.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < FIXED_LEN {
            return Err(Error::Truncated {
                layer: Layer::Arp,
                needed: FIXED_LEN,
                available,
            });
        }
        let needed = self.packet_len();
        if available < needed {
            return Err(Error::Truncated {
                layer: Layer::Arp,
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

    /// Hardware type.
    #[must_use]
    pub fn hardware_type(&self) -> HardwareType {
        HardwareType(self.read_u16(field::HTYPE))
    }

    /// Protocol type (an ethertype: 0x0800 for IPv4).
    #[must_use]
    pub fn protocol_type(&self) -> EtherType {
        EtherType(self.read_u16(field::PTYPE))
    }

    /// Hardware address length in bytes.
    #[must_use]
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length in bytes.
    #[must_use]
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    #[must_use]
    pub fn operation(&self) -> Operation {
        Operation(self.read_u16(field::OPER))
    }

    /// Length of the ARP packet its lengths describe: 8 + 2 × (hln + pln). Bytes beyond it
    /// (link-layer padding) are not ARP.
    #[must_use]
    pub fn packet_len(&self) -> usize {
        FIXED_LEN + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    /// Sender hardware address.
    #[must_use]
    pub fn source_hardware_addr(&self) -> &[u8] {
        self.addr(self.sha())
    }

    /// Sender protocol address.
    #[must_use]
    pub fn source_protocol_addr(&self) -> &[u8] {
        self.addr(self.spa())
    }

    /// Target hardware address.
    #[must_use]
    pub fn target_hardware_addr(&self) -> &[u8] {
        self.addr(self.tha())
    }

    /// Target protocol address.
    #[must_use]
    pub fn target_protocol_addr(&self) -> &[u8] {
        self.addr(self.tpa())
    }

    fn read_u16(&self, range: Field) -> u16 {
        let d = &self.buffer.as_ref()[range];
        u16::from_be_bytes([d[0], d[1]])
    }

    fn hlen(&self) -> usize {
        usize::from(self.hardware_len())
    }

    fn plen(&self) -> usize {
        usize::from(self.protocol_len())
    }

    fn sha(&self) -> Field {
        field::ADDRS..field::ADDRS + self.hlen()
    }

    fn spa(&self) -> Field {
        let start = self.sha().end;
        start..start + self.plen()
    }

    fn tha(&self) -> Field {
        let start = self.spa().end;
        start..start + self.hlen()
    }

    fn tpa(&self) -> Field {
        let start = self.tha().end;
        start..start + self.plen()
    }

    // Address ranges depend on hln/pln, which a setter may enlarge after `new_checked`: read
    // them with `get` so even then an accessor returns an empty slice rather than panicking.
    fn addr(&self, range: Field) -> &[u8] {
        self.buffer.as_ref().get(range).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, value: HardwareType) {
        self.buffer.as_mut()[field::HTYPE].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        self.buffer.as_mut()[field::PTYPE].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets the hardware address length (moves where the addresses after the first one lie).
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    /// Sets the protocol address length (moves where the addresses after the first one lie).
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, value: Operation) {
        self.buffer.as_mut()[field::OPER].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sender hardware address, mutably (empty if the buffer ends before it).
    pub fn source_hardware_addr_mut(&mut self) -> &mut [u8] {
        let range = self.sha();
        self.addr_mut(range)
    }

    /// Sender protocol address, mutably (empty if the buffer ends before it).
    pub fn source_protocol_addr_mut(&mut self) -> &mut [u8] {
        let range = self.spa();
        self.addr_mut(range)
    }

    /// Target hardware address, mutably (empty if the buffer ends before it).
    pub fn target_hardware_addr_mut(&mut self) -> &mut [u8] {
        let range = self.tha();
        self.addr_mut(range)
    }

    /// Target protocol address, mutably (empty if the buffer ends before it).
    pub fn target_protocol_addr_mut(&mut self) -> &mut [u8] {
        let range = self.tpa();
        self.addr_mut(range)
    }

    fn addr_mut(&mut self, range: Field) -> &mut [u8] {
        self.buffer.as_mut().get_mut(range).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an Ethernet/IPv4 ARP packet (htype 1, ptype 0x0800, hln 6, pln 4), the only
/// kind the stack resolves neighbours with. Other kinds are read through [`Packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Operation (request, reply, or a RARP/`InARP` code).
    pub operation: Operation,
    /// Sender hardware address.
    pub source_hardware_addr: Address,
    /// Sender protocol address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target hardware address.
    pub target_hardware_addr: Address,
    /// Target protocol address.
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// Reads a checked view; [`Error::Malformed`] if it is not Ethernet/IPv4 ARP.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.hardware_type() != HardwareType::ETHERNET
            || packet.protocol_type() != EtherType::IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Malformed {
                layer: Layer::Arp,
                what: "not Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hln 6, pln 4)",
            });
        }
        let ipv4 = |bytes: &[u8]| match *bytes {
            [a, b, c, d] => Ipv4Addr::new(a, b, c, d),
            _ => Ipv4Addr::UNSPECIFIED,
        };
        let mac = |b: &[u8]| Address::from_slice(b).unwrap_or_default();
        Ok(Repr {
            operation: packet.operation(),
            source_hardware_addr: mac(packet.source_hardware_addr()),
            source_protocol_addr: ipv4(packet.source_protocol_addr()),
            target_hardware_addr: mac(packet.target_hardware_addr()),
            target_protocol_addr: ipv4(packet.target_protocol_addr()),
        })
    }

    /// Length of the packet this emits (28 bytes).
    #[must_use]
    pub const fn header_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Bytes [`emit`](Self::emit) writes (28).
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet into `packet`, which must hold at least [`buffer_len`](Self::buffer_len)
    /// bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_hardware_type(HardwareType::ETHERNET);
        packet.set_protocol_type(EtherType::IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet
            .source_hardware_addr_mut()
            .copy_from_slice(&self.source_hardware_addr.0);
        packet
            .source_protocol_addr_mut()
            .copy_from_slice(&self.source_protocol_addr.octets());
        packet
            .target_hardware_addr_mut()
            .copy_from_slice(&self.target_hardware_addr.0);
        packet
            .target_protocol_addr_mut()
            .copy_from_slice(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Request "who has 10.0.0.138, tell 10.0.0.1": pcapplusplus `ArpRequestPacket.pcap`
    /// frame 1, after the 14-byte Ethernet header.
    static REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x6c, 0xf0, 0x49, 0xb2, 0xde, 0x6e, 0x0a,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x8a,
    ];

    /// Reply from pcapplusplus `GrePackets.cap` frame 2, with its 18 bytes of Ethernet padding.
    static REPLY_PADDED: [u8; 46] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x00, 0x09, 0xe9, 0x55, 0xc0, 0x1c, 0x14,
        0x00, 0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x02, 0x00, 0x14, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00,
    ];

    /// ARCNET ARP request (hln 1): tcpdump `arcnet-rfc1201-arp-icmp-http.pcap` frame 1, after
    /// the 8-byte ARCNET header.
    static ARCNET_REQUEST: [u8; 18] = [
        0x00, 0x07, 0x08, 0x00, 0x01, 0x04, 0x00, 0x01, 0xbe, 0x0a, 0x50, 0x83, 0x01, 0x00, 0x0a,
        0x50, 0x83, 0xfe,
    ];

    /// tcpdump `arp-too-long-tha.pcap` (tshark: malformed): hln 14 announces 44 bytes, 42 remain.
    static TOO_LONG_THA: [u8; 42] = [
        0x30, 0x30, 0x08, 0x00, 0x0e, 0x04, 0x00, 0x01, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
    ];

    #[test]
    fn parse_request() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(p.hardware_type(), HardwareType::ETHERNET);
        assert_eq!(p.protocol_type(), EtherType::IPV4);
        assert_eq!(
            (p.hardware_len(), p.protocol_len(), p.packet_len()),
            (6, 4, 28)
        );
        assert_eq!(p.operation(), Operation::REQUEST);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.source_hardware_addr.to_string(), "6c:f0:49:b2:de:6e");
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(r.target_hardware_addr, Address::UNSPECIFIED);
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(10, 0, 0, 138));
    }

    #[test]
    fn padding_is_not_arp() {
        let p = Packet::new_checked(&REPLY_PADDED[..]).unwrap();
        assert_eq!(p.packet_len(), 28);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.operation, Operation::REPLY);
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(20, 0, 0, 2));
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        for bytes in [&REQUEST[..], &REPLY_PADDED[..28]] {
            let r = Repr::parse(&Packet::new_checked(bytes).unwrap()).unwrap();
            let mut out = [0u8; 28];
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], bytes);
        }
    }

    #[test]
    fn other_hardware() {
        let p = Packet::new_checked(&ARCNET_REQUEST[..]).unwrap();
        assert_eq!(p.hardware_type(), HardwareType::ARCNET);
        assert_eq!(p.source_hardware_addr(), &[0xbe]);
        assert_eq!(p.source_protocol_addr(), &[10, 80, 131, 1]);
        assert_eq!(p.target_hardware_addr(), &[0x00]);
        assert_eq!(p.target_protocol_addr(), &[10, 80, 131, 254]);
        assert!(matches!(
            Repr::parse(&p),
            Err(Error::Malformed {
                layer: Layer::Arp,
                ..
            })
        ));
        // Building the same packet through the setters gives the same bytes.
        let mut out = [0u8; 18];
        let mut q = Packet::new_unchecked(&mut out[..]);
        q.set_hardware_type(HardwareType::ARCNET);
        q.set_protocol_type(EtherType::IPV4);
        q.set_hardware_len(1);
        q.set_protocol_len(4);
        q.set_operation(Operation::REQUEST);
        q.source_hardware_addr_mut().copy_from_slice(&[0xbe]);
        q.source_protocol_addr_mut()
            .copy_from_slice(&[10, 80, 131, 1]);
        q.target_hardware_addr_mut().copy_from_slice(&[0]);
        q.target_protocol_addr_mut()
            .copy_from_slice(&[10, 80, 131, 254]);
        assert_eq!(out, ARCNET_REQUEST);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&TOO_LONG_THA[..]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Arp,
                needed: 44,
                available: 42
            }
        );
        assert_eq!(
            Packet::new_checked(&REQUEST[..7]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Arp,
                needed: 8,
                available: 7
            }
        );
        assert_eq!(
            Packet::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Arp,
                needed: 28,
                available: 27
            }
        );
    }

    #[test]
    fn enlarged_length_does_not_panic() {
        let mut b = REQUEST;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_hardware_len(255);
        assert!(p.target_protocol_addr().is_empty());
        assert!(p.target_hardware_addr_mut().is_empty());
        assert_eq!(p.source_hardware_addr().len(), 0);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (
            any::<u16>(),
            any::<[u8; 6]>(),
            any::<[u8; 4]>(),
            any::<[u8; 6]>(),
            any::<[u8; 4]>(),
        )
            .prop_map(|(op, sha, spa, tha, tpa)| Repr {
                operation: Operation(op),
                source_hardware_addr: Address(sha),
                source_protocol_addr: Ipv4Addr::from(spa),
                target_hardware_addr: Address(tha),
                target_protocol_addr: Ipv4Addr::from(tpa),
            })
    }

    proptest! {
        #[test]
        fn repr_emit_parse(r in arb_repr()) {
            let mut buf = [0u8; ETHERNET_IPV4_LEN];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.hardware_type(), p.protocol_type(), p.operation(), p.packet_len());
                let h = usize::from(p.hardware_len());
                let l = usize::from(p.protocol_len());
                prop_assert_eq!(p.source_hardware_addr().len(), h);
                prop_assert_eq!(p.source_protocol_addr().len(), l);
                prop_assert_eq!(p.target_hardware_addr().len(), h);
                prop_assert_eq!(p.target_protocol_addr().len(), l);
                let _ = Repr::parse(&p);
            }
        }
    }
}
