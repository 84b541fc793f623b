//! UDP tunnel segmentation, VXLAN and Geneve (`skb_udp_tunnel_segment`,
//! `__skb_udp_tunnel_segment`): the inner packet is segmented by the inner rules (TCP or USO
//! under the inner IP header), then every segment gets the outer headers back with its own
//! outer IP length, ID and header checksum (`inet_gso_segment` on the outer header) and its own
//! outer UDP length; the tunnel header (VXLAN, Geneve with options) and the inner Ethernet
//! header are copied unchanged.

use super::csum::{MANGLED_0, lco};
use super::layout::{L4, Plan, Tunnel};
use super::{SegmentOptions, rd16, tcp, udp, wr16};
use crate::checksum;

/// Sets the outer UDP length and checksum of a segment of `seg_len` bytes, after the inner
/// headers are final.
///
/// - `SKB_GSO_UDP_TUNNEL`: no outer checksum, the field is 0.
/// - `SKB_GSO_UDP_TUNNEL_CSUM`: the checksum over the whole outer UDP datagram
///   (`gso_make_checksum`), 0 sent as `CSUM_MANGLED_0`. When the inner checksum is left to the
///   device, the outer one is still computed here, from the inner pseudo-header sum
///   (`lco_csum`), as the kernel does when the segment keeps `skb->encapsulation`.
pub(super) fn fix(
    h: &mut [u8],
    t: &Tunnel,
    plan: &Plan,
    seg_len: usize,
    psum: u32,
    opts: SegmentOptions,
) {
    let ulen = seg_len - t.udp;
    wr16(h, t.udp + 4, ulen as u16);
    wr16(h, t.udp + udp::CHECK_OFFSET, 0);
    if !t.csum {
        return;
    }
    let pseudo = checksum::add(t.ip.pseudo, ulen as u32);
    let sum = if opts.csum_offload {
        let (l4, check) = match plan.l4 {
            L4::Tcp { off, .. } => (off, tcp::CHECK_OFFSET),
            L4::Udp { off } | L4::Ufo { off } => (off, udp::CHECK_OFFSET),
        };
        let outer = h.get(t.udp..l4).unwrap_or_default();
        checksum::combine(
            checksum::partial(outer, pseudo),
            lco(rd16(h, l4 + check)),
            outer.len(),
        )
    } else {
        let hdr = h.get(t.udp..plan.hdr_len).unwrap_or_default();
        checksum::combine(checksum::partial(hdr, pseudo), psum, hdr.len())
    };
    let c = checksum::fold(sum);
    wr16(
        h,
        t.udp + udp::CHECK_OFFSET,
        if c == 0 { MANGLED_0 } else { c },
    );
}
