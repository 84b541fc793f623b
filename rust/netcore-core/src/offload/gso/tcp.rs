//! TCP segmentation rules (`tcp_gso_segment`, `__tcp_gso_segment`, `tcp4_gso_segment`,
//! `tcp6_gso_segment`).

use super::layout::{L4, Plan};
use super::{rd32, wr32};

/// Offset of the checksum field in the TCP header.
pub(super) const CHECK_OFFSET: usize = 16;

/// TCP flag bits in byte 13 of the header.
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const CWR: u8 = 0x80;

/// Sequence number of the super-packet (0 when it is not TCP).
pub(super) fn base_seq(h: &[u8], plan: &Plan) -> u32 {
    match plan.l4 {
        L4::Tcp { off, .. } => rd32(h, off + 4),
        _ => 0,
    }
}

/// Rewrites the TCP header at `off` of segment number `index` (`__tcp_gso_segment`):
/// - the sequence number advances by the payload of the segments before (`seq += mss`);
/// - FIN and PSH stay on the last segment only (`th->fin = th->psh = 0` on the others);
/// - CWR stays on the first segment only (`th->cwr = 0` after the first, which is what
///   `SKB_GSO_TCP_ECN` records), except with accurate ECN (`SKB_GSO_TCP_ACCECN`), where CWR is
///   part of the ACE counter and every segment keeps it;
/// - every other field (ACK, window, urgent pointer, options) is copied unchanged.
pub(super) fn fix(h: &mut [u8], off: usize, seq: u32, first: bool, last: bool, accecn: bool) {
    wr32(h, off + 4, seq);
    if let Some(flags) = h.get_mut(off + 13) {
        if !last {
            *flags &= !(FIN | PSH);
        }
        if !first && !accecn {
            *flags &= !CWR;
        }
    }
}
