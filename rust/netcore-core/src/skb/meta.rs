//! Per-packet metadata: the scalar fields of `struct sk_buff` and of `skb_shared_info` (GSO).

use std::fmt;
use std::num::NonZeroU16;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not, Sub};

use crate::checksum::IpSummed;

/// Who a received frame is for: the kernel's `skb->pkt_type` (`PACKET_*` in `if_packet.h`,
/// same numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum PacketType {
    /// To us (`PACKET_HOST`).
    #[default]
    Host = 0,
    /// To all (`PACKET_BROADCAST`).
    Broadcast = 1,
    /// To a group (`PACKET_MULTICAST`).
    Multicast = 2,
    /// To someone else, seen in promiscuous mode (`PACKET_OTHERHOST`).
    OtherHost = 3,
    /// Sent by us, seen again by a tap (`PACKET_OUTGOING`).
    Outgoing = 4,
    /// Looped back (`PACKET_LOOPBACK`).
    Loopback = 5,
}

impl PacketType {
    /// The type with the given `PACKET_*` number.
    #[must_use]
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Host,
            1 => Self::Broadcast,
            2 => Self::Multicast,
            3 => Self::OtherHost,
            4 => Self::Outgoing,
            5 => Self::Loopback,
            _ => return None,
        })
    }
}

/// Segmentation offload type bits: the kernel's `SKB_GSO_*` (`include/linux/skbuff.h`, same bit
/// positions, so they line up with the `NETIF_F_GSO_*` feature bits shifted by
/// `NETIF_F_GSO_SHIFT`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct GsoType(u32);

/// Names of the known bits, in bit order, for `Debug`.
const GSO_NAMES: [(GsoType, &str); 20] = [
    (GsoType::TCPV4, "TCPV4"),
    (GsoType::DODGY, "DODGY"),
    (GsoType::TCP_ECN, "TCP_ECN"),
    (GsoType::TCP_FIXEDID, "TCP_FIXEDID"),
    (GsoType::TCPV6, "TCPV6"),
    (GsoType::FCOE, "FCOE"),
    (GsoType::GRE, "GRE"),
    (GsoType::GRE_CSUM, "GRE_CSUM"),
    (GsoType::IPXIP4, "IPXIP4"),
    (GsoType::IPXIP6, "IPXIP6"),
    (GsoType::UDP_TUNNEL, "UDP_TUNNEL"),
    (GsoType::UDP_TUNNEL_CSUM, "UDP_TUNNEL_CSUM"),
    (GsoType::PARTIAL, "PARTIAL"),
    (GsoType::TUNNEL_REMCSUM, "TUNNEL_REMCSUM"),
    (GsoType::SCTP, "SCTP"),
    (GsoType::ESP, "ESP"),
    (GsoType::UDP, "UDP"),
    (GsoType::UDP_L4, "UDP_L4"),
    (GsoType::FRAGLIST, "FRAGLIST"),
    (GsoType::TCP_ACCECN, "TCP_ACCECN"),
];

impl GsoType {
    /// TCP over IPv4 (`SKB_GSO_TCPV4`).
    pub const TCPV4: Self = Self(1 << 0);
    /// Came from an untrusted source; headers must be checked before segmenting (`SKB_GSO_DODGY`).
    pub const DODGY: Self = Self(1 << 1);
    /// The first TCP segment has CWR set; later segments get it cleared (`SKB_GSO_TCP_ECN`).
    pub const TCP_ECN: Self = Self(1 << 2);
    /// IPv4 IDs stay fixed instead of incrementing per segment (`SKB_GSO_TCP_FIXEDID`).
    pub const TCP_FIXEDID: Self = Self(1 << 3);
    /// TCP over IPv6 (`SKB_GSO_TCPV6`).
    pub const TCPV6: Self = Self(1 << 4);
    /// Fibre Channel over Ethernet (`SKB_GSO_FCOE`).
    pub const FCOE: Self = Self(1 << 5);
    /// GRE encapsulation (`SKB_GSO_GRE`).
    pub const GRE: Self = Self(1 << 6);
    /// GRE with checksum (`SKB_GSO_GRE_CSUM`).
    pub const GRE_CSUM: Self = Self(1 << 7);
    /// IP in IPv4 (`SKB_GSO_IPXIP4`).
    pub const IPXIP4: Self = Self(1 << 8);
    /// IP in IPv6 (`SKB_GSO_IPXIP6`).
    pub const IPXIP6: Self = Self(1 << 9);
    /// UDP tunnel (VXLAN, Geneve) without outer UDP checksum (`SKB_GSO_UDP_TUNNEL`).
    pub const UDP_TUNNEL: Self = Self(1 << 10);
    /// UDP tunnel with outer UDP checksum (`SKB_GSO_UDP_TUNNEL_CSUM`).
    pub const UDP_TUNNEL_CSUM: Self = Self(1 << 11);
    /// Partial GSO: outer headers are replicated as they are (`SKB_GSO_PARTIAL`).
    pub const PARTIAL: Self = Self(1 << 12);
    /// Remote checksum offload in the tunnel (`SKB_GSO_TUNNEL_REMCSUM`).
    pub const TUNNEL_REMCSUM: Self = Self(1 << 13);
    /// SCTP (`SKB_GSO_SCTP`).
    pub const SCTP: Self = Self(1 << 14);
    /// ESP, IP security payloads (`SKB_GSO_ESP`).
    pub const ESP: Self = Self(1 << 15);
    /// UDP fragmentation offload, UFO: IP fragments of one UDP datagram (`SKB_GSO_UDP`).
    pub const UDP: Self = Self(1 << 16);
    /// UDP segmentation, USO: one UDP datagram per segment (`SKB_GSO_UDP_L4`).
    pub const UDP_L4: Self = Self(1 << 17);
    /// Segments kept as a list of packets, re-split as they came (`SKB_GSO_FRAGLIST`).
    pub const FRAGLIST: Self = Self(1 << 18);
    /// Accurate ECN: CWR is part of the ACE field and must not be touched (`SKB_GSO_TCP_ACCECN`).
    pub const TCP_ACCECN: Self = Self(1 << 19);

    /// No bit set.
    #[must_use]
    pub const fn empty() -> Self {
        Self(0)
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// From raw bits, keeping unknown ones.
    #[must_use]
    pub const fn from_bits_retain(bits: u32) -> Self {
        Self(bits)
    }

    /// Whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    #[must_use]
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets the bits of `other`.
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    /// Clears the bits of `other`.
    pub fn remove(&mut self, other: Self) {
        self.0 &= !other.0;
    }
}

impl BitOr for GsoType {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for GsoType {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for GsoType {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl BitAndAssign for GsoType {
    fn bitand_assign(&mut self, rhs: Self) {
        self.0 &= rhs.0;
    }
}

impl Sub for GsoType {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 & !rhs.0)
    }
}

impl Not for GsoType {
    type Output = Self;
    fn not(self) -> Self {
        Self(!self.0)
    }
}

impl GsoType {
    /// The kernel's names of the flags set (`SKB_GSO_` dropped), e.g. `["TCPV4", "TCP_ECN"]`.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        GSO_NAMES
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, n)| n)
    }
}

impl fmt::Debug for GsoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("GsoType(empty)");
        }
        f.write_str("GsoType(")?;
        let mut rest = self.0;
        let mut first = true;
        for (flag, name) in GSO_NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                rest &= !flag.0;
                first = false;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "{rest:#x}")?;
        }
        f.write_str(")")
    }
}

/// Segmentation offload state (`skb_shinfo(skb)->gso_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GsoInfo {
    /// Payload bytes per segment (MSS for TCP); 0 when the packet is not GSO.
    pub size: u16,
    /// Number of segments the packet stands for (GRO count on receive).
    pub segs: u16,
    /// What kind of segmentation applies.
    pub gso_type: GsoType,
}

/// An 802.1Q/802.1ad tag held out of band (hardware-accelerated VLAN, `skb->vlan_tci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Tag protocol identifier: 0x8100 (802.1Q) or 0x88a8 (802.1ad).
    pub proto: u16,
    /// Tag control information: PCP (3 bits), DEI (1 bit), VLAN ID (12 bits).
    pub tci: u16,
}

impl VlanTag {
    /// The VLAN ID (low 12 bits of the TCI).
    #[must_use]
    pub fn vid(self) -> u16 {
        self.tci & 0x0fff
    }

    /// The priority code point (top 3 bits of the TCI).
    #[must_use]
    pub fn pcp(self) -> u8 {
        (self.tci >> 13) as u8
    }
}

/// Per-packet metadata, as the kernel keeps it in `struct sk_buff` and `skb_shared_info`.
///
/// Plain data: every stage reads and writes these fields directly, like kernel code does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkbMeta {
    /// Link-level protocol: the ethertype of the payload (`skb->protocol`, host order here).
    pub protocol: u16,
    /// Who the frame is for (`skb->pkt_type`).
    pub pkt_type: PacketType,
    /// What is known about the checksums (`skb->ip_summed`); for `Unnecessary` the level
    /// (`skb->csum_level`) is held in the variant, see [`SkbMeta::csum_level`].
    pub ip_summed: IpSummed,
    /// The packet is encapsulated and the `inner_*` header offsets are valid
    /// (`skb->encapsulation`).
    pub encapsulation: bool,
    /// Segmentation offload state.
    pub gso: GsoInfo,
    /// Flow hash (`skb->hash`), 0 when not computed.
    pub hash: u32,
    /// The hash covers the L4 ports (`skb->l4_hash`).
    pub l4_hash: bool,
    /// The hash was computed in software (`skb->sw_hash`), not by the device (RSS).
    pub sw_hash: bool,
    /// Queue the packet was received on or will be sent on (`skb->queue_mapping`).
    pub queue_mapping: u16,
    /// Firewall mark (`skb->mark`).
    pub mark: u32,
    /// Queueing priority (`skb->priority`).
    pub priority: u32,
    /// VLAN tag held out of band, if any (`skb_vlan_tag_present`, `vlan_proto`, `vlan_tci`).
    pub vlan: Option<VlanTag>,
    /// Index of the interface the packet came in on (`skb->skb_iif`); 0 when unknown.
    pub iif: u32,
    /// Timestamp, nanoseconds since the Unix epoch (`skb->tstamp`).
    pub tstamp: i64,
    /// Position of the packet in its source (of the first segment, for a merged packet): how
    /// reports and hooks name a packet. No kernel counterpart.
    pub seq: u64,
    /// Code of a `DropReason` once the packet is dropped (`kfree_skb_reason`); `None` while
    /// the packet is alive or when it was consumed normally.
    pub drop_reason: Option<NonZeroU16>,
}

impl SkbMeta {
    /// Number of inner checksums verified beyond the outermost one (`skb->csum_level`): the
    /// level of `IpSummed::Unnecessary`, 0 otherwise.
    #[must_use]
    pub fn csum_level(&self) -> u8 {
        match self.ip_summed {
            IpSummed::Unnecessary { level } => level,
            _ => 0,
        }
    }

    /// Records a hash computed by the device (RSS): `skb_set_hash`.
    pub fn set_hash(&mut self, hash: u32, l4: bool) {
        self.hash = hash;
        self.l4_hash = l4;
        self.sw_hash = false;
    }

    /// Records a hash computed in software: `__skb_set_sw_hash`.
    pub fn set_sw_hash(&mut self, hash: u32, l4: bool) {
        self.hash = hash;
        self.l4_hash = l4;
        self.sw_hash = true;
    }

    /// Forgets the hash, e.g. after the headers it covered changed (`skb_clear_hash`).
    pub fn clear_hash(&mut self) {
        self.hash = 0;
        self.l4_hash = false;
        self.sw_hash = false;
    }

    /// Whether a VLAN tag is held out of band (`skb_vlan_tag_present`).
    #[must_use]
    pub fn vlan_present(&self) -> bool {
        self.vlan.is_some()
    }

    /// Whether the packet stands for several segments (`skb_is_gso`).
    #[must_use]
    pub fn is_gso(&self) -> bool {
        self.gso.size != 0
    }

    /// Forgets the segmentation state (`skb_gso_reset`).
    pub fn gso_reset(&mut self) {
        self.gso = GsoInfo::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gso_bits_match_kernel() {
        assert_eq!(GsoType::TCPV4.bits(), 1);
        assert_eq!(GsoType::TCPV6.bits(), 16);
        assert_eq!(GsoType::UDP_TUNNEL.bits(), 1 << 10);
        assert_eq!(GsoType::UDP_L4.bits(), 1 << 17);
        assert_eq!(GsoType::FRAGLIST.bits(), 1 << 18);
        let mut t = GsoType::TCPV4 | GsoType::UDP_TUNNEL_CSUM;
        assert!(t.contains(GsoType::TCPV4));
        assert!(!t.contains(GsoType::TCPV4 | GsoType::TCPV6));
        assert!(t.intersects(GsoType::TCPV4 | GsoType::TCPV6));
        t.remove(GsoType::TCPV4);
        assert_eq!(t, GsoType::UDP_TUNNEL_CSUM);
        t.insert(GsoType::DODGY);
        assert_eq!((t - GsoType::DODGY), GsoType::UDP_TUNNEL_CSUM);
        assert_eq!(t & GsoType::DODGY, GsoType::DODGY);
        assert!((t & !t).is_empty());
        assert_eq!(
            format!(
                "{:?}",
                GsoType::TCPV4 | GsoType::GRE | GsoType::from_bits_retain(1 << 25)
            ),
            "GsoType(TCPV4 | GRE | 0x2000000)"
        );
        assert_eq!(format!("{:?}", GsoType::empty()), "GsoType(empty)");
    }

    #[test]
    fn meta_helpers() {
        let mut m = SkbMeta::default();
        assert_eq!(m.csum_level(), 0);
        m.ip_summed = IpSummed::Unnecessary { level: 2 };
        assert_eq!(m.csum_level(), 2);
        m.set_sw_hash(7, true);
        assert!(m.sw_hash && m.l4_hash && m.hash == 7);
        m.set_hash(9, false);
        assert!(!m.sw_hash && !m.l4_hash && m.hash == 9);
        m.clear_hash();
        assert_eq!(m.hash, 0);
        assert!(!m.vlan_present());
        m.vlan = Some(VlanTag {
            proto: 0x8100,
            tci: 0xa00a,
        });
        assert!(m.vlan_present());
        assert_eq!(m.vlan.map(VlanTag::vid), Some(10));
        assert_eq!(m.vlan.map(VlanTag::pcp), Some(5));
        m.gso.size = 1448;
        assert!(m.is_gso());
        m.gso_reset();
        assert!(!m.is_gso());
        for v in 0..=6 {
            assert_eq!(
                PacketType::from_u8(v).map(|p| p as u8),
                (v < 6).then_some(v)
            );
        }
    }
}
