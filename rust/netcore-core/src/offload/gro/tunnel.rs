//! UDP tunnels: VXLAN (`vxlan_gro_receive`, `vxlan_gro_complete`) and Geneve
//! (`geneve_gro_receive`, `geneve_gro_complete`), with the outer UDP header's part
//! (`udp_gro_receive` with a tunnel socket, `udp_gro_complete`).
//!
//! A tunnel's packets are merged by the inner packet's rules; the outer headers must match
//! (same flow: `same_flow` in `parse.rs` compares the outer Ethernet, VLAN, IP and UDP ports,
//! the VXLAN flags and VNI or the whole Geneve header, and the inner Ethernet header) and the
//! outer IP header follows the IP rules with the outer exemption of `inet_gro_flush`.

use super::cb::pseudo;
use super::ip::put16;
use super::parse::Hdr;
use crate::checksum;
use crate::skb::GsoType;

/// VXLAN header length.
pub(crate) const VXLAN_HLEN: usize = 8;

/// `vxlan_gro_prepare_receive`: the 8-byte header must be there; Ethernet follows. Remote
/// checksum offload (`VXLAN_HF_RCO`) is a receive option of the VXLAN device, off here, so
/// the flag is only compared like the others.
pub(crate) fn vxlan(d: &[u8], off: usize) -> Option<usize> {
    d.get(off..off + VXLAN_HLEN)?;
    Some(VXLAN_HLEN)
}

/// `geneve_gro_receive`: version 0 and not an OAM frame; returns the protocol type and the
/// header length, options included.
pub(crate) fn geneve(d: &[u8], off: usize) -> Option<(u16, usize)> {
    let gh = d.get(off..off + 8)?;
    if gh[0] >> 6 != 0 || gh[1] & 0x80 != 0 {
        return None;
    }
    let hlen = 8 + usize::from(gh[0] & 0x3f) * 4;
    d.get(off..off + hlen)?;
    Some((u16::from_be_bytes([gh[2], gh[3]]), hlen))
}

/// `udp4_gro_complete` / `udp6_gro_complete` and `udp_gro_complete` for the UDP header in
/// front of a tunnel: the length covers the merged packet, a non-zero checksum becomes the
/// pseudo-header sum (completed later from it, local checksum offload), and the GSO type is
/// `SKB_GSO_UDP_TUNNEL_CSUM` or `SKB_GSO_UDP_TUNNEL`.
pub(crate) fn complete_udp(buf: &mut [u8], uh: Hdr, ip: Hdr, total: usize) -> GsoType {
    let len = total - uh.off();
    put16(buf, uh.off() + 4, u16::try_from(len).unwrap_or(0));
    let check = buf
        .get(uh.off() + 6..uh.off() + 8)
        .is_some_and(|c| c != [0, 0]);
    if check {
        let ph = pseudo(buf.get(ip.off()..).unwrap_or_default(), 17, len);
        put16(buf, uh.off() + 6, !checksum::fold(ph));
        GsoType::UDP_TUNNEL_CSUM
    } else {
        GsoType::UDP_TUNNEL
    }
}
