//! The link layer of receive and transmit: who a frame is for, its protocol, VLAN tags held
//! out of band, and the Ethernet header a transmitted packet gets.

use crate::drop_reason::DropReason;
use crate::skb::{PacketType, Skb, VlanTag};

/// Ethernet header length.
pub const ETH_HLEN: usize = 14;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
/// `ETH_P_802_3`: a raw 802.3 frame (length field, payload starting 0xffff).
const ETH_P_802_3: u16 = 0x0001;
/// `ETH_P_802_2`: an 802.2 LLC frame (length field).
const ETH_P_802_2: u16 = 0x0004;

/// Who a frame with destination `dst` is for on a device with address `mac`
/// (`eth_type_trans`): broadcast, multicast (group bit), us, or someone else. A device
/// without an address takes every unicast frame as its own.
#[must_use]
pub fn pkt_type(dst: [u8; 6], mac: Option<[u8; 6]>) -> PacketType {
    if dst[0] & 1 != 0 {
        if dst == [0xff; 6] {
            PacketType::Broadcast
        } else {
            PacketType::Multicast
        }
    } else if mac.is_some_and(|m| m != dst) {
        PacketType::OtherHost
    } else {
        PacketType::Host
    }
}

/// Receives an Ethernet frame (`eth_type_trans`, then `skb_vlan_untag` as
/// `__netif_receive_skb_core` does): sets the packet type and `skb->protocol`, moves up to two
/// VLAN tags out of the frame (the outer one into the metadata), and leaves `data` at the
/// network header. A tag with a non-zero VLAN ID that no VLAN device on `vlans` takes makes the
/// frame `PACKET_OTHERHOST` (`vlan_do_receive` finds no device), which IP then drops.
pub fn eth_receive(skb: &mut Skb, mac: Option<[u8; 6]>, vlans: &[u16]) -> Result<(), DropReason> {
    let d = skb.data();
    let Some(hdr) = d.get(..ETH_HLEN) else {
        return Err(DropReason::PktTooSmall);
    };
    let mut dst = [0u8; 6];
    dst.copy_from_slice(&hdr[..6]);
    let mut proto = u16::from_be_bytes([hdr[12], hdr[13]]);
    let _ = skb.reset_mac_header();
    skb.meta.pkt_type = pkt_type(dst, mac);
    skb.pull(ETH_HLEN).map_err(|_| DropReason::PktTooSmall)?;
    let mut depth = 0;
    while matches!(proto, ETH_P_8021Q | ETH_P_8021AD) {
        let d = skb.data();
        let Some(tag) = d.get(..4) else {
            return Err(DropReason::PktTooSmall);
        };
        let tci = u16::from_be_bytes([tag[0], tag[1]]);
        let inner = u16::from_be_bytes([tag[2], tag[3]]);
        if depth == 0 {
            skb.meta.vlan = Some(VlanTag { proto, tci });
            let vid = tci & 0x0fff;
            if vid != 0 && !vlans.contains(&vid) && skb.meta.pkt_type == PacketType::Host {
                skb.meta.pkt_type = PacketType::OtherHost;
            }
        }
        skb.pull(4).map_err(|_| DropReason::PktTooSmall)?;
        proto = inner;
        depth += 1;
    }
    skb.meta.protocol = if proto >= 0x0600 {
        proto
    } else if skb.data().get(..2) == Some(&[0xff, 0xff]) {
        ETH_P_802_3
    } else {
        ETH_P_802_2
    };
    let _ = skb.reset_network_header();
    Ok(())
}

/// Gives a packet whose `data` is at its network header the Ethernet header it leaves with
/// (`neigh_hh_output` / `eth_header`): destination `dst`, source `src`, the packet's
/// protocol; a VLAN tag held in the metadata is not re-inserted (the egress device is
/// untagged).
pub fn eth_header(skb: &mut Skb, dst: [u8; 6], src: [u8; 6]) -> crate::skb::Result<()> {
    let proto = skb.meta.protocol;
    let h = skb.push(ETH_HLEN)?;
    h[..6].copy_from_slice(&dst);
    h[6..12].copy_from_slice(&src);
    h[12..14].copy_from_slice(&proto.to_be_bytes());
    skb.reset_mac_header()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(dst: [u8; 6], tags: &[(u16, u16)], proto: u16) -> Vec<u8> {
        let mut f = dst.to_vec();
        f.extend([2, 0, 0, 0, 0, 1]);
        for &(tpid, tci) in tags {
            f.extend(tpid.to_be_bytes());
            f.extend(tci.to_be_bytes());
        }
        f.extend(proto.to_be_bytes());
        f.extend([0x45; 20]);
        f
    }

    #[test]
    fn packet_type_like_eth_type_trans() {
        let me = [2, 0, 0, 0, 0, 9];
        assert_eq!(pkt_type([0xff; 6], Some(me)), PacketType::Broadcast);
        assert_eq!(
            pkt_type([1, 0, 0x5e, 0, 0, 1], Some(me)),
            PacketType::Multicast
        );
        assert_eq!(pkt_type(me, Some(me)), PacketType::Host);
        assert_eq!(
            pkt_type([2, 0, 0, 0, 0, 8], Some(me)),
            PacketType::OtherHost
        );
        assert_eq!(pkt_type([2, 0, 0, 0, 0, 8], None), PacketType::Host);
    }

    #[test]
    fn vlan_tags_leave_the_frame_and_unknown_vids_are_for_others() {
        let f = frame([2, 0, 0, 0, 0, 9], &[(0x88a8, 100), (0x8100, 7)], 0x0800);
        let mut skb = Skb::from_slice(&f).unwrap();
        eth_receive(&mut skb, None, &[]).unwrap();
        assert_eq!(skb.meta.protocol, 0x0800);
        assert_eq!(skb.meta.vlan.map(VlanTag::vid), Some(100));
        assert_eq!(skb.meta.pkt_type, PacketType::OtherHost);
        assert_eq!(skb.data()[0], 0x45);
        assert_eq!(skb.network_offset(), Some(0));

        let mut skb = Skb::from_slice(&f).unwrap();
        eth_receive(&mut skb, None, &[100]).unwrap();
        assert_eq!(skb.meta.pkt_type, PacketType::Host);

        let prio = frame([2, 0, 0, 0, 0, 9], &[(0x8100, 0x6000)], 0x86dd);
        let mut skb = Skb::from_slice(&prio).unwrap();
        eth_receive(&mut skb, None, &[]).unwrap();
        assert_eq!(skb.meta.pkt_type, PacketType::Host, "priority tag, VID 0");
        assert_eq!(skb.meta.protocol, 0x86dd);
    }

    #[test]
    fn short_frames_are_too_small() {
        let mut skb = Skb::from_slice(&[0u8; 13]).unwrap();
        assert_eq!(
            eth_receive(&mut skb, None, &[]),
            Err(DropReason::PktTooSmall)
        );
        let f = frame([0xff; 6], &[], 0x8100);
        let mut skb = Skb::from_slice(&f[..16]).unwrap();
        assert_eq!(
            eth_receive(&mut skb, None, &[]),
            Err(DropReason::PktTooSmall)
        );
    }

    #[test]
    fn header_is_rebuilt_on_transmit() {
        let f = frame([2, 0, 0, 0, 0, 9], &[(0x8100, 5)], 0x0800);
        let mut skb = Skb::from_slice(&f).unwrap();
        eth_receive(&mut skb, None, &[5]).unwrap();
        eth_header(&mut skb, [2, 0, 0, 0, 0, 7], [2, 0, 0, 0, 0, 8]).unwrap();
        let d = skb.data();
        assert_eq!(&d[..12], &[2, 0, 0, 0, 0, 7, 2, 0, 0, 0, 0, 8]);
        assert_eq!(&d[12..14], &[0x08, 0x00]);
        assert_eq!(d[14], 0x45);
    }
}
