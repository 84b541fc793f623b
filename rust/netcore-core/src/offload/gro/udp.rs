//! UDP GRO: `udp_gro_receive_segment` (forwarding mode, `rx-udp-gro-forwarding`, and
//! fraglist mode, `rx-gro-list`) and `udp4_gro_complete` / `udp6_gro_complete` /
//! `udp_gro_complete_segment`. The checks `udp_gro_receive_segment` makes on the new datagram
//! alone (non-zero checksum, exact length) are in `parse.rs`.

use super::cb::{incr_unnecessary, pseudo};
use super::ip::{network_flush, put16};
use super::parse::Hdr;
use super::{Held, Seg, Verdict};
use crate::checksum::{self, IpSummed};
use crate::skb::GsoType;

/// Most datagrams one UDP GRO packet holds (`UDP_GRO_CNT_MAX`).
pub const UDP_GRO_CNT_MAX: u16 = 64;

fn be16(d: &[u8], at: usize) -> u16 {
    match (d.get(at), d.get(at + 1)) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// The `ip_summed` kind and `csum_level`, what fraglist GRO compares (not the sum itself).
fn summed_kind(s: IpSummed) -> (u8, u8) {
    match s {
        IpSummed::None => (0, 0),
        IpSummed::Unnecessary { level } => (1, level),
        IpSummed::Complete { .. } => (2, 0),
        IpSummed::Partial { .. } => (3, 0),
    }
}

/// `udp_gro_receive_segment` once a held datagram `p` of the same ports is found (no held
/// packet: the datagram starts a flow). Both must be of the same mode, or the held one is
/// completed and the new one goes up. An IP rule (`gro_receive_network_flush`) or a datagram
/// longer than the held flow's first one completes the held packet without merging (the new
/// one then starts a flow). Otherwise the datagram is merged — in fraglist mode only with the
/// same checksum state, else it goes up alone — and the held packet is completed when the
/// merge failed (`skb_gro_receive`: size limit), when the datagram was shorter than the first
/// (it ends the train), or when it holds [`UDP_GRO_CNT_MAX`] datagrams.
pub(crate) fn gro_receive(p: Option<&mut Held>, seg: &Seg<'_>, summed: IpSummed) -> Verdict {
    let Some(p) = p else {
        return Verdict::default();
    };
    let (d, lay) = (seg.d, seg.lay);
    if lay.is_flist != p.lay.is_flist {
        return Verdict {
            pp: true,
            merged: false,
            flush: true,
        };
    }
    let (held, fixedid) = p.headers();
    let ulen2 = be16(held.data, held.lay.l4().off() + 4);
    let flush = network_flush(held, fixedid, lay, d);
    let ulen = be16(d, lay.l4().off() + 4);
    let mut pp = false;
    let mut merged = false;
    let mut failed = false;
    if ulen > ulen2 || flush {
        pp = true;
    } else {
        if lay.is_flist && summed_kind(summed) != summed_kind(p.skb.meta.ip_summed) {
            return Verdict {
                flush: true,
                ..Verdict::default()
            };
        }
        merged = if lay.is_flist {
            seg.gro_receive_list(p)
        } else {
            seg.gro_receive(p)
        };
        failed = !merged;
    }
    if failed || ulen != ulen2 || p.count >= UDP_GRO_CNT_MAX {
        pp = true;
    }
    Verdict {
        pp,
        merged,
        flush: false,
    }
}

/// `udp4_gro_complete` / `udp6_gro_complete`: the length covers the merged datagram. A
/// fraglist packet (outside a tunnel) becomes `SKB_GSO_FRAGLIST | SKB_GSO_UDP_L4` and gains a
/// verified checksum level (`__skb_incr_checksum_unnecessary`), its checksum field left as
/// the first datagram had it; otherwise the checksum field holds the pseudo-header sum and
/// the packet is `CHECKSUM_PARTIAL` from the UDP header (`udp_gro_complete_segment`). Returns
/// the GSO type, whether the packet is `CHECKSUM_PARTIAL`, and the new `ip_summed` otherwise.
pub(crate) fn complete(
    buf: &mut [u8],
    uh: Hdr,
    ip: Hdr,
    total: usize,
    flist: bool,
    summed: IpSummed,
) -> (GsoType, bool, IpSummed) {
    let len = total - uh.off();
    put16(buf, uh.off() + 4, u16::try_from(len).unwrap_or(0));
    if flist {
        return (
            GsoType::FRAGLIST | GsoType::UDP_L4,
            false,
            incr_unnecessary(summed),
        );
    }
    if be16(buf, uh.off() + 6) != 0 {
        let ph = pseudo(buf.get(ip.off()..).unwrap_or_default(), 17, len);
        put16(buf, uh.off() + 6, !checksum::fold(ph));
    }
    (GsoType::UDP_L4, true, summed)
}
