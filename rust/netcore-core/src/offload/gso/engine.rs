//! The generic cutter, `skb_segment`: each output packet is a copy of the headers followed by
//! one window of the payload. Payload in the linear part of an owned buffer is copied; payload
//! in fragments (and in a zero-copy linear view) is shared by reference when allowed, as
//! `skb_segment` takes page references instead of copying frags. The payload's partial sum is
//! computed on the way, so each checksum reads the payload once.

use super::{GsoError, Result};
use crate::checksum;
use crate::skb::{DEFAULT_HEADROOM, Frag, MAX_FRAGS, Skb, with_local};

/// Where payload bytes come from: the super-packet, and whether its pieces can be shared.
pub(super) struct Source<'a> {
    skb: &'a Skb,
    /// The linear part as a shareable fragment (a view of shared memory), when sharing.
    linear_frag: Option<Frag>,
    share: bool,
    headroom: usize,
}

impl<'a> Source<'a> {
    /// Reads from `skb`; with `share`, fragments are shared rather than copied.
    pub(super) fn new(skb: &'a Skb, share: bool) -> Self {
        Source {
            skb,
            linear_frag: if share { skb.data_frag() } else { None },
            share,
            headroom: with_local(|p| p.config().headroom).unwrap_or(DEFAULT_HEADROOM),
        }
    }
}

/// Bytes `[off, off + len)` of the packet, piece by piece: `(piece index, offset of the bytes
/// within the piece, the overlapping bytes)`. Piece 0 is the linear part, piece `k` fragment
/// `k - 1`.
fn overlaps(skb: &Skb, off: usize, len: usize) -> impl Iterator<Item = (usize, usize, &[u8])> {
    let end = off + len;
    let mut pos = 0usize;
    skb.pieces().enumerate().filter_map(move |(k, piece)| {
        let (ps, pe) = (pos, pos + piece.len());
        pos = pe;
        let (s, e) = (off.max(ps), end.min(pe));
        (s < e).then(|| (k, s - ps, piece.get(s - ps..e - ps).unwrap_or_default()))
    })
}

/// Builds one packet: `hdr`, then packet bytes `[off, off + len)`. Returns it with the partial
/// sum of those payload bytes (as if they started at an even offset) when `want_sum`, else 0.
pub(super) fn build(
    src: &Source<'_>,
    hdr: &[u8],
    off: usize,
    len: usize,
    want_sum: bool,
) -> Result<(Skb, u32)> {
    let skb = src.skb;
    let linear = skb.linear_len();
    // The linear part is copied unless it is a shareable view; fragments are shared. Too many
    // pieces for one packet's fragment list: copy everything instead.
    let mut share = src.share;
    if share {
        let shared = overlaps(skb, off, len)
            .filter(|(k, _, _)| *k > 0 || src.linear_frag.is_some())
            .count();
        share = shared <= MAX_FRAGS;
    }
    let copy_len = if share && src.linear_frag.is_none() {
        linear.saturating_sub(off).min(len)
    } else if share {
        0
    } else {
        len
    };
    let head = hdr.len() + copy_len;
    let mut seg = Skb::alloc(src.headroom + head)?;
    seg.reserve(src.headroom)?;
    let mut sum = 0u32;
    {
        let buf = seg.put(head)?;
        let (h, body) = buf
            .split_at_mut_checked(hdr.len())
            .ok_or(GsoError::Malformed("segment buffer"))?;
        h.copy_from_slice(hdr);
        let mut at = 0;
        for (k, _, bytes) in overlaps(skb, off, len) {
            let copied = !share || (k == 0 && src.linear_frag.is_none());
            if !copied {
                break;
            }
            let dst = body
                .get_mut(at..at + bytes.len())
                .ok_or(GsoError::Malformed("payload window"))?;
            dst.copy_from_slice(bytes);
            if want_sum {
                sum = checksum::combine(sum, checksum::partial(bytes, 0), at);
            }
            at += bytes.len();
        }
    }
    if share {
        let mut at = copy_len;
        for (k, rel, bytes) in overlaps(skb, off, len) {
            let piece = match k {
                0 => src.linear_frag.as_ref(),
                _ => skb.frags().get(k - 1),
            };
            let Some(piece) = piece else { continue };
            let frag = window(piece, rel, bytes.len())?;
            if want_sum {
                sum = checksum::combine(sum, checksum::partial(bytes, 0), at);
            }
            at += bytes.len();
            seg.add_frag(frag)?;
        }
    }
    Ok((seg, sum))
}

/// `len` bytes of `f` from `rel`, sharing its memory.
fn window(f: &Frag, rel: usize, len: usize) -> Result<Frag> {
    Frag::window(f.bytes().clone(), f.offset() + rel, len)
        .ok_or(GsoError::Malformed("fragment window"))
}
