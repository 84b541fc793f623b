//! Checksums of segments (`gso_make_checksum`, `lco_csum`) and the software completion of a
//! `CHECKSUM_PARTIAL` packet (`skb_checksum_help`).

use super::layout::Plan;
use super::{GsoError, Result, SegmentOptions, wr16};
use crate::checksum::{self, IpSummed};
use crate::skb::Skb;

/// The kernel's `CSUM_MANGLED_0`: a computed UDP checksum of 0 is sent as all ones, since 0
/// means "no checksum" (RFC 768).
pub(super) const MANGLED_0: u16 = 0xffff;

/// Fills the checksum field at `l4 + check` of a segment of `seg_len` bytes whose headers are
/// `h[..plan.hdr_len]` and whose payload has partial sum `psum`, with the pseudo-header of
/// `plan.ip`. Complete: the checksum over pseudo-header, L4 header and payload
/// (`gso_make_checksum`), a zero UDP result sent as `CSUM_MANGLED_0`. With
/// [`SegmentOptions::csum_offload`]: the folded pseudo-header sum the device starts from
/// (`CHECKSUM_PARTIAL`).
#[allow(clippy::too_many_arguments)] // one checksum's full context, all plain values
pub(super) fn fill_l4(
    h: &mut [u8],
    l4: usize,
    check: usize,
    plan: &Plan,
    seg_len: usize,
    psum: u32,
    opts: SegmentOptions,
    udp: bool,
) {
    let pseudo = checksum::add(plan.ip.pseudo, (seg_len - l4) as u32);
    if opts.csum_offload {
        wr16(h, l4 + check, !checksum::fold(pseudo));
        return;
    }
    wr16(h, l4 + check, 0);
    let hdr = h.get(l4..plan.hdr_len).unwrap_or_default();
    let sum = checksum::combine(checksum::partial(hdr, pseudo), psum, hdr.len());
    let c = checksum::fold(sum);
    wr16(h, l4 + check, if udp && c == 0 { MANGLED_0 } else { c });
}

/// The partial sum an inner L4 region will have once the device fills its checksum, from the
/// pseudo-header value in its field (`lco_csum`, "local checksum offload"): a region whose
/// checksum is correct sums to the complement of its pseudo-header sum, which is what the
/// field holds folded, so the payload need not be read.
pub(super) fn lco(field: u16) -> u32 {
    u32::from(!field)
}

/// Completes the checksum of a `CHECKSUM_PARTIAL` packet in software (`skb_checksum_help`):
/// sums the packet from `csum_start` to its end (the field holding the pseudo-header sum, as
/// the sender left it), stores the folded result at `csum_start + csum_offset` — a zero result
/// as `CSUM_MANGLED_0`, as the kernel does for every protocol — and marks the packet
/// `CHECKSUM_NONE`. A `CHECKSUM_COMPLETE` packet just becomes `CHECKSUM_NONE`; other states
/// are left alone. A GSO packet is refused (the kernel warns "bad offload" and fails): its
/// checksums belong to its segments.
pub fn skb_checksum_help(skb: &mut Skb) -> Result<()> {
    let offset = match skb.meta.ip_summed {
        IpSummed::Partial { offset, .. } => offset,
        IpSummed::Complete { .. } => {
            skb.meta.ip_summed = IpSummed::None;
            return Ok(());
        }
        IpSummed::None | IpSummed::Unnecessary { .. } => return Ok(()),
    };
    if skb.meta.is_gso() {
        return Err(GsoError::Malformed("checksum help on a GSO packet"));
    }
    let start = skb
        .checksum_start_offset()
        .and_then(|s| usize::try_from(s).ok())
        .ok_or(GsoError::Malformed("checksum start before the data"))?;
    let field = start + usize::from(offset);
    if field + 2 > skb.len() {
        return Err(GsoError::Malformed("checksum field beyond the packet"));
    }
    // skb_ensure_writable: the field must be in the linear part to be written.
    skb.may_pull(field + 2)?;
    let mut sum = 0u32;
    let mut pos = 0usize;
    let mut rel = 0usize;
    for piece in skb.pieces() {
        let (ps, pe) = (pos, pos + piece.len());
        pos = pe;
        if pe <= start {
            continue;
        }
        let bytes = piece.get(start.saturating_sub(ps)..).unwrap_or_default();
        sum = checksum::combine(sum, checksum::partial(bytes, 0), rel);
        rel += bytes.len();
    }
    let c = checksum::fold(sum);
    let c = if c == 0 { MANGLED_0 } else { c };
    skb.write_at(field, &c.to_be_bytes())?;
    skb.meta.ip_summed = IpSummed::None;
    Ok(())
}
