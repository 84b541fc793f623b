//! `gro_complete` (`napi_gro_complete`): a held packet leaves GRO. Alone (one segment) it
//! goes up as it came; merged, each layer's `gro_complete` fixes its header for the merged
//! length, outer to inner — `inet_gro_complete` / `ipv6_gro_complete`, `udp_gro_complete`
//! for a tunnel, `vxlan_gro_complete` / `geneve_gro_complete` / `eth_gro_complete` (offsets
//! only), then `tcp4_gro_complete` / `tcp6_gro_complete` or `udp4_gro_complete` /
//! `udp6_gro_complete` — and the packet carries its GSO state and checksum state.

use super::Held;
use super::ip::{complete_v4, complete_v6, insert_jumbo};
use super::parse::{Hdr, Kind, Layers, NO_HDR};
use super::{tcp, tunnel, udp};
use crate::skb::{GsoInfo, GsoType, Skb};

/// Largest IPv6 payload length the header can hold (`IPV6_MAXPLEN`).
const IPV6_MAXPLEN: usize = 65535;

/// Completes held packet `h`. The second value is false when a header could not be written
/// (the packet then goes up with its headers as the first segment had them).
pub(crate) fn gro_complete(h: Held) -> (Skb, bool) {
    let mut h = h;
    h.skb.meta.protocol = h.lay.protocol;
    if h.count <= 1 {
        // A lone packet: `gso_size` (the MSS kept while it was held) is reset.
        h.skb.meta.gso = GsoInfo::default();
        set_offsets(&mut h.skb, &h.lay);
        return (h.skb, true);
    }
    let ok = finish(&mut h).is_ok();
    set_offsets(&mut h.skb, &h.lay);
    (h.skb, ok)
}

fn finish(h: &mut Held) -> crate::skb::Result<()> {
    // BIG TCP over IPv6 (only TCP, only outside tunnels can grow past 64 KiB).
    let mut jumbo = false;
    if let Some(ip) = h.lay.net_hdr(0)
        && ip.kind == Kind::Ipv6
        && !h.lay.encap
        && h.skb.len() - ip.off() - 40 > IPV6_MAXPLEN
    {
        insert_jumbo(&mut h.skb, &mut h.lay, ip)?;
        jumbo = true;
    }
    let total = h.skb.len();
    let summed0 = h.skb.meta.ip_summed;
    let lay = h.lay;
    let fixedid = h.fixedid[lay.l4_net_index()];
    let tcp_or = h.tcp_or;
    let buf = h.skb.data_mut()?;
    let mut gso_type = GsoType::empty();
    let mut partial: Option<(usize, u16)> = None;
    let mut summed = summed0;
    let mut encapsulation = false;
    let mut ip = NO_HDR;
    for &hd in lay.hdrs() {
        match hd.kind {
            Kind::Ipv4 => {
                complete_v4(buf, hd, total);
                ip = hd;
            }
            Kind::Ipv6 => {
                complete_v6(buf, hd, total, jumbo && hd.off() == ip_off0(&lay));
                ip = hd;
            }
            Kind::TunnelUdp => {
                gso_type = tunnel::complete_udp(buf, hd, ip, total);
                encapsulation = true;
            }
            // gre_gro_complete: the GRE header itself is left as it is (its checksum, if
            // any, is recomputed per segment by GSO).
            Kind::Gre => {
                gso_type = GsoType::GRE;
                encapsulation = true;
            }
            // ipip_gro_complete / sit_gro_complete (outer IPv4), ip4ip6_gro_complete /
            // ip6ip6_gro_complete (outer IPv6).
            Kind::IpInIp => {
                gso_type = if ip.kind == Kind::Ipv6 {
                    GsoType::IPXIP6
                } else {
                    GsoType::IPXIP4
                };
                encapsulation = true;
            }
            Kind::Tcp => {
                gso_type |= tcp::complete(buf, hd, ip, total, tcp_or, fixedid);
                partial = Some((hd.off(), 16));
            }
            Kind::Udp => {
                let flist = lay.is_flist && !lay.encap;
                let (t, is_partial, s) = udp::complete(buf, hd, ip, total, flist, summed);
                gso_type |= t;
                summed = s;
                if is_partial {
                    partial = Some((hd.off(), 6));
                }
            }
            Kind::Mac | Kind::Vlan | Kind::Vxlan | Kind::Geneve | Kind::Eth => {}
        }
    }
    h.skb.meta.gso = GsoInfo {
        size: u16::try_from(h.mss).unwrap_or(u16::MAX),
        segs: h.count,
        gso_type,
    };
    h.skb.meta.encapsulation |= encapsulation;
    h.skb.meta.ip_summed = summed;
    if let Some((start, offset)) = partial {
        h.skb.set_partial_csum(start as isize, offset)?;
    }
    Ok(())
}

fn ip_off0(lay: &Layers) -> usize {
    lay.net_hdr(0).map_or(usize::MAX, Hdr::off)
}

/// Header offsets of a packet leaving GRO: link-layer at the data start (at the network
/// header for a device without one), network and transport headers of the outer packet, and
/// for a tunnel the inner ones (`skb_set_inner_mac_header` in `vxlan_gro_complete` /
/// `geneve_gro_complete`, `skb_set_inner_network_header` in `inet_gro_complete`, the inner
/// transport header of `tcp_gro_complete` / `udp_gro_complete_segment`).
fn set_offsets(skb: &mut Skb, lay: &Layers) {
    let hdrs = lay.hdrs();
    let Some(net0) = lay.net_index(0) else {
        return;
    };
    let Some(n0) = hdrs.get(net0) else {
        return;
    };
    let _ = skb.set_mac_header(if lay.mac_len() > 0 {
        0
    } else {
        n0.off() as isize
    });
    let _ = skb.set_network_header(n0.off() as isize);
    if let Some(t) = hdrs.get(net0 + 1) {
        let _ = skb.set_transport_header(t.off() as isize);
    }
    if lay.encap {
        if let Some(inner_net) = lay.net_index(1)
            && let Some(n1) = hdrs.get(inner_net)
        {
            // The inner link-layer header, or the inner network header when the tunnel
            // carries IP directly (Geneve).
            let mac = hdrs
                .iter()
                .take(inner_net)
                .skip(net0 + 2)
                .find(|h| h.kind == Kind::Eth)
                .map_or(n1.off(), |h| h.off());
            let _ = skb.set_inner_mac_header(mac as isize);
            let _ = skb.set_inner_network_header(n1.off() as isize);
        }
        let _ = skb.set_inner_transport_header(lay.l4().off() as isize);
    }
}
