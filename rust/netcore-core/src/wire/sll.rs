//! Linux "cooked" capture headers: SLL v1 (`LINKTYPE_LINUX_SLL`, 113) in [`Packet`]/[`Repr`] and
//! SLL2 (`LINKTYPE_LINUX_SLL2`, 276) in [`v2::Packet`]/[`v2::Repr`].
//!
//! libpcap writes these when it captures on the `any` device (or a device whose link header it
//! cannot keep): the real link header is replaced by what the kernel's `sockaddr_ll` told it.
//!
//! ```text
//! v1 (16 bytes)                                v2 (20 bytes)
//! +-------------+                              +-------------+-------------+
//! | packet type | 2  PACKET_HOST, …            |  protocol   |  reserved   | 2 + 2
//! | ARPHRD type | 2  ARPHRD_ETHER, …           +-------------+-------------+
//! | addr length | 2                            |      interface index      | 4
//! | address     | 8  first `addr length` used  +-------------+------+------+
//! | protocol    | 2                            | ARPHRD type | pkt  | alen | 2 + 1 + 1
//! +-------------+                              | address (8)               | 8
//!                                              +---------------------------+
//! ```
//!
//! All fields are big-endian. The address is the *source* link-layer address for received
//! packets (and the device's own for outgoing ones); only the first `addr length` bytes (at most
//! 8) mean anything, the rest is whatever the kernel left there, so [`Repr`] keeps all eight bytes
//! to re-emit a header byte for byte.
//!
//! **The protocol field** is the kernel's `skb->protocol`. For `ARPHRD_ETHER` and most other
//! device types it is an ethertype, except for two values below 0x0600 that Linux uses for
//! frames without one: 0x0001 ([`PROTO_802_3`], `ETH_P_802_3`: a raw Novell 802.3 frame, IPX
//! with no LLC header) and 0x0004 ([`PROTO_802_2`], `ETH_P_802_2`: an 802.2 LLC header follows).
//! CAN devices use 0x000c/0x000d (`ETH_P_CAN`/`ETH_P_CANFD`); netlink monitors
//! (`ARPHRD_NETLINK`) put the netlink family there instead; radiotap monitors
//! (`ARPHRD_IEEE80211_RADIOTAP`) prepend a radiotap header whatever it says. [`payload_kind`]
//! sorts these cases out.

use super::ethernet::EtherType;
use super::{Error, Field, Layer, Rest, Result};

mod field {
    use super::{Field, Rest};

    pub const PACKET_TYPE: Field = 0..2;
    pub const ARPHRD: Field = 2..4;
    pub const ADDR_LEN: Field = 4..6;
    pub const ADDR: Field = 6..14;
    pub const PROTOCOL: Field = 14..16;
    pub const PAYLOAD: Rest = 16..;
}

/// Length of the SLL v1 header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Bytes reserved for the link-layer address in both versions.
pub const ADDR_FIELD_LEN: usize = 8;

/// Protocol value for a raw Novell 802.3 frame (`ETH_P_802_3`): no LLC header follows.
pub const PROTO_802_3: EtherType = EtherType(0x0001);
/// Protocol value for an 802.2 LLC frame (`ETH_P_802_2`): an LLC header follows.
pub const PROTO_802_2: EtherType = EtherType(0x0004);
/// Protocol value for a classic CAN frame (`ETH_P_CAN`).
pub const PROTO_CAN: EtherType = EtherType(0x000c);
/// Protocol value for a CAN FD frame (`ETH_P_CANFD`).
pub const PROTO_CANFD: EtherType = EtherType(0x000d);

/// Where the packet was going, from the capturing host's view (`PACKET_*` in `if_packet.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PacketType(pub u16);

impl PacketType {
    /// Addressed to this host.
    pub const HOST: PacketType = PacketType(0);
    /// Link-layer broadcast.
    pub const BROADCAST: PacketType = PacketType(1);
    /// Link-layer multicast.
    pub const MULTICAST: PacketType = PacketType(2);
    /// Addressed to another host (seen in promiscuous mode).
    pub const OTHERHOST: PacketType = PacketType(3);
    /// Sent by this host.
    pub const OUTGOING: PacketType = PacketType(4);
}

/// Linux device type (`ARPHRD_*` in `if_arp.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ArpHrd(pub u16);

impl ArpHrd {
    /// Ethernet.
    pub const ETHER: ArpHrd = ArpHrd(1);
    /// IEEE 802 (Token Ring).
    pub const IEEE802: ArpHrd = ArpHrd(6);
    /// `InfiniBand`.
    pub const INFINIBAND: ArpHrd = ArpHrd(32);
    /// CAN bus.
    pub const CAN: ArpHrd = ArpHrd(280);
    /// PPP.
    pub const PPP: ArpHrd = ArpHrd(512);
    /// IPIP tunnel.
    pub const TUNNEL: ArpHrd = ArpHrd(768);
    /// IP6IP6 tunnel.
    pub const TUNNEL6: ArpHrd = ArpHrd(769);
    /// Loopback.
    pub const LOOPBACK: ArpHrd = ArpHrd(772);
    /// SIT (IPv6 in IPv4) tunnel.
    pub const SIT: ArpHrd = ArpHrd(776);
    /// GRE over IP.
    pub const IPGRE: ArpHrd = ArpHrd(778);
    /// 802.11 with a radiotap header.
    pub const IEEE80211_RADIOTAP: ArpHrd = ArpHrd(803);
    /// Netlink monitor (`nlmon`).
    pub const NETLINK: ArpHrd = ArpHrd(824);
    /// No link header (e.g. `tun` devices, `WireGuard`).
    pub const NONE: ArpHrd = ArpHrd(0xfffe);
}

/// What follows a cooked header, from its device type and protocol field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// A packet of this ethertype (0x0600 or more).
    EtherType(EtherType),
    /// A raw Novell 802.3 frame (protocol 0x0001).
    Novell8023,
    /// An 802.2 LLC header (protocol 0x0004).
    Llc,
    /// A CAN or CAN FD frame (protocol 0x000c / 0x000d).
    Can,
    /// A netlink message of this netlink family (`ARPHRD_NETLINK`).
    Netlink(u16),
    /// A radiotap header, then 802.11 (`ARPHRD_IEEE80211_RADIOTAP`).
    Radiotap,
    /// Another protocol value below 0x0600.
    Other(u16),
}

/// Sorts out what a cooked header announces: see the module docs.
#[must_use]
pub fn payload_kind(arphrd: ArpHrd, protocol: EtherType) -> Payload {
    match arphrd {
        ArpHrd::NETLINK => return Payload::Netlink(protocol.0),
        ArpHrd::IEEE80211_RADIOTAP => return Payload::Radiotap,
        _ => {}
    }
    match protocol {
        PROTO_802_3 => Payload::Novell8023,
        PROTO_802_2 => Payload::Llc,
        PROTO_CAN | PROTO_CANFD => Payload::Can,
        p if p.is_length() => Payload::Other(p.0),
        p => Payload::EtherType(p),
    }
}

fn read_u16(data: &[u8], range: Field) -> u16 {
    let d = &data[range];
    u16::from_be_bytes([d[0], d[1]])
}

fn addr_array(data: &[u8], range: Field) -> [u8; ADDR_FIELD_LEN] {
    let mut out = [0u8; ADDR_FIELD_LEN];
    out.copy_from_slice(&data[range]);
    out
}

/// A read/write view of an SLL v1 header followed by its payload.
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

    /// Checks that the buffer holds the 16-byte header.
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Sll,
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

    /// Packet type.
    #[must_use]
    pub fn packet_type(&self) -> PacketType {
        PacketType(read_u16(self.buffer.as_ref(), field::PACKET_TYPE))
    }

    /// Device type.
    #[must_use]
    pub fn arphrd(&self) -> ArpHrd {
        ArpHrd(read_u16(self.buffer.as_ref(), field::ARPHRD))
    }

    /// Link-layer address length, as written (may exceed 8).
    #[must_use]
    pub fn addr_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ADDR_LEN)
    }

    /// The meaningful part of the address: the first `min(addr_len, 8)` bytes.
    #[must_use]
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(ADDR_FIELD_LEN);
        &self.buffer.as_ref()[field::ADDR][..n]
    }

    /// All eight bytes of the address field, used or not.
    #[must_use]
    pub fn addr_field(&self) -> [u8; ADDR_FIELD_LEN] {
        addr_array(self.buffer.as_ref(), field::ADDR)
    }

    /// Protocol (see the module docs for values below 0x0600).
    #[must_use]
    pub fn protocol(&self) -> EtherType {
        EtherType(read_u16(self.buffer.as_ref(), field::PROTOCOL))
    }

    /// What follows the header (see [`payload_kind`]).
    #[must_use]
    pub fn payload_kind(&self) -> Payload {
        payload_kind(self.arphrd(), self.protocol())
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
    /// Sets the packet type.
    pub fn set_packet_type(&mut self, value: PacketType) {
        self.buffer.as_mut()[field::PACKET_TYPE].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets the device type.
    pub fn set_arphrd(&mut self, value: ArpHrd) {
        self.buffer.as_mut()[field::ARPHRD].copy_from_slice(&value.0.to_be_bytes());
    }

    /// Sets the address length.
    pub fn set_addr_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::ADDR_LEN].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets all eight bytes of the address field.
    pub fn set_addr_field(&mut self, value: [u8; ADDR_FIELD_LEN]) {
        self.buffer.as_mut()[field::ADDR].copy_from_slice(&value);
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: EtherType) {
        self.buffer.as_mut()[field::PROTOCOL].copy_from_slice(&value.0.to_be_bytes());
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

/// The meaning of an SLL v1 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Repr {
    /// Packet type.
    pub packet_type: PacketType,
    /// Device type.
    pub arphrd: ArpHrd,
    /// Link-layer address length.
    pub addr_len: u16,
    /// The address field, all eight bytes (only the first `addr_len` are meaningful).
    pub addr: [u8; ADDR_FIELD_LEN],
    /// Protocol.
    pub protocol: EtherType,
}

impl Repr {
    /// Reads a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            packet_type: packet.packet_type(),
            arphrd: packet.arphrd(),
            addr_len: packet.addr_len(),
            addr: packet.addr_field(),
            protocol: packet.protocol(),
        })
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
        packet.set_packet_type(self.packet_type);
        packet.set_arphrd(self.arphrd);
        packet.set_addr_len(self.addr_len);
        packet.set_addr_field(self.addr);
        packet.set_protocol(self.protocol);
    }
}

/// SLL2 (`LINKTYPE_LINUX_SLL2`): adds the interface index, moves the protocol first, and
/// narrows the packet type and address length to one byte each.
pub mod v2 {
    use super::{ADDR_FIELD_LEN, ArpHrd, EtherType, PacketType, Payload, addr_array, read_u16};
    use crate::wire::{Error, Field, Layer, Rest, Result};

    mod field {
        use super::{Field, Rest};

        pub const PROTOCOL: Field = 0..2;
        pub const RESERVED: Field = 2..4;
        pub const IFINDEX: Field = 4..8;
        pub const ARPHRD: Field = 8..10;
        pub const PACKET_TYPE: usize = 10;
        pub const ADDR_LEN: usize = 11;
        pub const ADDR: Field = 12..20;
        pub const PAYLOAD: Rest = 20..;
    }

    /// Length of the SLL2 header.
    pub const HEADER_LEN: usize = field::PAYLOAD.start;

    /// A read/write view of an SLL2 header followed by its payload.
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

        /// Checks that the buffer holds the 20-byte header.
        pub fn check_len(&self) -> Result<()> {
            let available = self.buffer.as_ref().len();
            if available < HEADER_LEN {
                return Err(Error::Truncated {
                    layer: Layer::Sll2,
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

        /// Protocol (see the [module docs](super) for values below 0x0600).
        #[must_use]
        pub fn protocol(&self) -> EtherType {
            EtherType(read_u16(self.buffer.as_ref(), field::PROTOCOL))
        }

        /// The reserved field (written as zero).
        #[must_use]
        pub fn reserved(&self) -> u16 {
            read_u16(self.buffer.as_ref(), field::RESERVED)
        }

        /// Interface index of the capturing device (the kernel's `ifindex`).
        #[must_use]
        pub fn interface_index(&self) -> u32 {
            let d = &self.buffer.as_ref()[field::IFINDEX];
            u32::from_be_bytes([d[0], d[1], d[2], d[3]])
        }

        /// Device type.
        #[must_use]
        pub fn arphrd(&self) -> ArpHrd {
            ArpHrd(read_u16(self.buffer.as_ref(), field::ARPHRD))
        }

        /// Packet type.
        #[must_use]
        pub fn packet_type(&self) -> PacketType {
            PacketType(u16::from(self.buffer.as_ref()[field::PACKET_TYPE]))
        }

        /// Link-layer address length, as written (may exceed 8).
        #[must_use]
        pub fn addr_len(&self) -> u8 {
            self.buffer.as_ref()[field::ADDR_LEN]
        }

        /// The meaningful part of the address: the first `min(addr_len, 8)` bytes.
        #[must_use]
        pub fn addr(&self) -> &[u8] {
            let n = usize::from(self.addr_len()).min(ADDR_FIELD_LEN);
            &self.buffer.as_ref()[field::ADDR][..n]
        }

        /// All eight bytes of the address field, used or not.
        #[must_use]
        pub fn addr_field(&self) -> [u8; ADDR_FIELD_LEN] {
            addr_array(self.buffer.as_ref(), field::ADDR)
        }

        /// What follows the header (see [`payload_kind`](super::payload_kind)).
        #[must_use]
        pub fn payload_kind(&self) -> Payload {
            super::payload_kind(self.arphrd(), self.protocol())
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
        /// Sets the protocol.
        pub fn set_protocol(&mut self, value: EtherType) {
            self.buffer.as_mut()[field::PROTOCOL].copy_from_slice(&value.0.to_be_bytes());
        }

        /// Sets the reserved field.
        pub fn set_reserved(&mut self, value: u16) {
            self.buffer.as_mut()[field::RESERVED].copy_from_slice(&value.to_be_bytes());
        }

        /// Sets the interface index.
        pub fn set_interface_index(&mut self, value: u32) {
            self.buffer.as_mut()[field::IFINDEX].copy_from_slice(&value.to_be_bytes());
        }

        /// Sets the device type.
        pub fn set_arphrd(&mut self, value: ArpHrd) {
            self.buffer.as_mut()[field::ARPHRD].copy_from_slice(&value.0.to_be_bytes());
        }

        /// Sets the packet type (the field is one byte: only the low 8 bits are kept).
        pub fn set_packet_type(&mut self, value: PacketType) {
            self.buffer.as_mut()[field::PACKET_TYPE] = value.0 as u8;
        }

        /// Sets the address length.
        pub fn set_addr_len(&mut self, value: u8) {
            self.buffer.as_mut()[field::ADDR_LEN] = value;
        }

        /// Sets all eight bytes of the address field.
        pub fn set_addr_field(&mut self, value: [u8; ADDR_FIELD_LEN]) {
            self.buffer.as_mut()[field::ADDR].copy_from_slice(&value);
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

    /// The meaning of an SLL2 header.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Repr {
        /// Protocol.
        pub protocol: EtherType,
        /// Reserved field (zero when libpcap writes it; kept for byte-exact round trips).
        pub reserved: u16,
        /// Interface index.
        pub interface_index: u32,
        /// Device type.
        pub arphrd: ArpHrd,
        /// Packet type (0–255: the field is one byte).
        pub packet_type: PacketType,
        /// Link-layer address length.
        pub addr_len: u8,
        /// The address field, all eight bytes (only the first `addr_len` are meaningful).
        pub addr: [u8; ADDR_FIELD_LEN],
    }

    impl Repr {
        /// Reads a checked view.
        pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
            packet.check_len()?;
            Ok(Repr {
                protocol: packet.protocol(),
                reserved: packet.reserved(),
                interface_index: packet.interface_index(),
                arphrd: packet.arphrd(),
                packet_type: packet.packet_type(),
                addr_len: packet.addr_len(),
                addr: packet.addr_field(),
            })
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

        /// Writes the header into `packet` (at least [`HEADER_LEN`] bytes). A packet type above
        /// 255 keeps its low 8 bits.
        pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
            packet.set_protocol(self.protocol);
            packet.set_reserved(self.reserved);
            packet.set_interface_index(self.interface_index);
            packet.set_arphrd(self.arphrd);
            packet.set_packet_type(self.packet_type);
            packet.set_addr_len(self.addr_len);
            packet.set_addr_field(self.addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// pcapplusplus `SllPacket.pcap` frame 1 (tshark: `sll:ethertype:ipv6:tcp:http`), first 20
    /// bytes: to us, Ethernet, address length 6 with two stale bytes after it, IPv6.
    static SLL_IPV6: [u8; 20] = [
        0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x12, 0x44, 0x1e, 0x74, 0x00, 0xf6, 0x7f, 0x86,
        0xdd, 0x60, 0x00, 0x00, 0x00,
    ];

    /// pcapplusplus `Sll2Packet.pcap` frame 1 (tshark: `sll:ethertype:ip:tcp`), first 24 bytes:
    /// IPv4, interface 20, Ethernet, outgoing.
    static SLL2_IPV4: [u8; 24] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x04, 0x06, 0xd2, 0xcf, 0xc2,
        0x50, 0x15, 0xea, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    ];

    /// pcapplusplus `Sll2PacketLLC.pcap` frame 1 (tshark: `sll:llc:stp`), first 24 bytes:
    /// protocol 0x0004, an LLC header (DSAP/SSAP 0x42, STP) follows.
    static SLL2_LLC: [u8; 24] = [
        0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x02, 0x06, 0xe0, 0x1c, 0xfc,
        0xd3, 0xb1, 0xe1, 0x00, 0x00, 0x42, 0x42, 0x03, 0x00,
    ];

    #[test]
    fn parse_v1() {
        let p = Packet::new_checked(&SLL_IPV6[..]).unwrap();
        assert_eq!(p.packet_type(), PacketType::HOST);
        assert_eq!(p.arphrd(), ArpHrd::ETHER);
        assert_eq!(p.addr_len(), 6);
        assert_eq!(p.addr(), &[0x00, 0x12, 0x44, 0x1e, 0x74, 0x00]);
        assert_eq!(p.addr_field()[6..], [0xf6, 0x7f]);
        assert_eq!(p.protocol(), EtherType::IPV6);
        assert_eq!(p.payload_kind(), Payload::EtherType(EtherType::IPV6));
        assert_eq!(p.payload()[0], 0x60);
    }

    #[test]
    fn parse_v2() {
        let p = v2::Packet::new_checked(&SLL2_IPV4[..]).unwrap();
        assert_eq!(p.protocol(), EtherType::IPV4);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.interface_index(), 20);
        assert_eq!(p.arphrd(), ArpHrd::ETHER);
        assert_eq!(p.packet_type(), PacketType::OUTGOING);
        assert_eq!(p.addr(), &[0xd2, 0xcf, 0xc2, 0x50, 0x15, 0xea]);
        assert_eq!(p.payload(), &[0x45, 0x00, 0x00, 0x28]);

        let p = v2::Packet::new_checked(&SLL2_LLC[..]).unwrap();
        assert_eq!(p.protocol(), PROTO_802_2);
        assert_eq!(p.packet_type(), PacketType::MULTICAST);
        assert_eq!(p.payload_kind(), Payload::Llc);
    }

    #[test]
    fn payload_kinds() {
        assert_eq!(
            payload_kind(ArpHrd::ETHER, PROTO_802_3),
            Payload::Novell8023
        );
        assert_eq!(payload_kind(ArpHrd::CAN, PROTO_CANFD), Payload::Can);
        assert_eq!(
            payload_kind(ArpHrd::NETLINK, EtherType(4)),
            Payload::Netlink(4)
        );
        assert_eq!(
            payload_kind(ArpHrd::IEEE80211_RADIOTAP, PROTO_802_2),
            Payload::Radiotap
        );
        assert_eq!(
            payload_kind(ArpHrd::ETHER, EtherType(0x0017)),
            Payload::Other(0x17)
        );
        assert_eq!(
            payload_kind(ArpHrd::NONE, EtherType::IPV4),
            Payload::EtherType(EtherType::IPV4)
        );
    }

    #[test]
    fn bytes_parse_emit_same_bytes() {
        let r = Repr::parse(&Packet::new_checked(&SLL_IPV6[..]).unwrap()).unwrap();
        let mut out = [0u8; HEADER_LEN];
        r.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out[..], SLL_IPV6[..HEADER_LEN]);

        for bytes in [&SLL2_IPV4[..], &SLL2_LLC[..]] {
            let r = v2::Repr::parse(&v2::Packet::new_checked(bytes).unwrap()).unwrap();
            let mut out = [0u8; v2::HEADER_LEN];
            r.emit(&mut v2::Packet::new_unchecked(&mut out[..]));
            assert_eq!(out[..], bytes[..v2::HEADER_LEN]);
        }
    }

    #[test]
    fn truncated_and_long_addr_len() {
        assert_eq!(
            Packet::new_checked(&SLL_IPV6[..15]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Sll,
                needed: 16,
                available: 15
            }
        );
        assert_eq!(
            v2::Packet::new_checked(&SLL2_IPV4[..19]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Sll2,
                needed: 20,
                available: 19
            }
        );
        let mut b = SLL_IPV6;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_addr_len(0xffff);
        assert_eq!(p.addr().len(), 8);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 8]>(),
            any::<u16>(),
        )
            .prop_map(|(t, h, l, a, p)| Repr {
                packet_type: PacketType(t),
                arphrd: ArpHrd(h),
                addr_len: l,
                addr: a,
                protocol: EtherType(p),
            })
    }

    fn arb_repr2() -> impl Strategy<Value = v2::Repr> {
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<[u8; 8]>(),
        )
            .prop_map(|(p, r, i, h, t, l, a)| v2::Repr {
                protocol: EtherType(p),
                reserved: r,
                interface_index: i,
                arphrd: ArpHrd(h),
                packet_type: PacketType(u16::from(t)),
                addr_len: l,
                addr: a,
            })
    }

    proptest! {
        #[test]
        fn repr_emit_parse(r in arb_repr()) {
            let mut buf = [0u8; HEADER_LEN];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn repr2_emit_parse(r in arb_repr2()) {
            let mut buf = [0u8; v2::HEADER_LEN];
            r.emit(&mut v2::Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(v2::Repr::parse(&v2::Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (p.packet_type(), p.arphrd(), p.addr_len(), p.addr(), p.addr_field());
                let _ = (p.protocol(), p.payload_kind(), p.payload());
                let _ = Repr::parse(&p).unwrap();
            }
            if let Ok(p) = v2::Packet::new_checked(&data[..]) {
                let _ = (p.protocol(), p.reserved(), p.interface_index(), p.arphrd(), p.packet_type());
                let _ = (p.addr_len(), p.addr(), p.addr_field(), p.payload_kind(), p.payload());
                let _ = v2::Repr::parse(&p).unwrap();
            }
        }
    }
}
