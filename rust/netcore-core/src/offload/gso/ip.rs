//! IP header rules of segmentation and fragmentation: lengths, IDs and header checksums
//! (`inet_gso_segment`, `ipv6_gso_segment`, `ip_send_check`), IPv6 extension-header walks
//! (`ip6_find_1stfragopt`) and the option rewrite of later IPv4 fragments
//! (`ip_options_fragment`).

use super::layout::{IpHdr, Plan};
use super::{rd16, wr16};

/// The IPv4 IDs of the super-packet's headers, read once.
#[derive(Debug, Clone, Copy)]
pub(super) struct BaseIds {
    /// ID of the IP header carrying L4 (0 for IPv6).
    pub inner: u16,
    /// ID of a tunnel's outer IPv4 header (0 without tunnel or for IPv6).
    pub outer: u16,
}

impl BaseIds {
    /// Reads the IDs from the header template.
    pub(super) fn read(h: &[u8], plan: &Plan) -> Self {
        let id = |ip: &IpHdr| if ip.v6 { 0 } else { rd16(h, ip.off + 4) };
        BaseIds {
            inner: id(&plan.ip),
            outer: plan.tunnel.as_ref().map_or(0, |t| id(&t.ip)),
        }
    }
}

/// Sets the length fields of the IP header `ip` for a segment of `seg_len` bytes (from the data
/// start) and, for IPv4, its ID and header checksum: `inet_gso_segment` writes `tot_len`, the ID
/// and calls `ip_send_check`; `ipv6_gso_segment` writes `payload_len`.
pub(super) fn fix(h: &mut [u8], ip: &IpHdr, seg_len: usize, id: u16) {
    if ip.v6 {
        wr16(h, ip.off + 4, (seg_len - ip.off - 40) as u16);
    } else {
        wr16(h, ip.off + 2, (seg_len - ip.off) as u16);
        wr16(h, ip.off + 4, id);
        send_check(h, ip.off, ip.hlen);
    }
}

/// Fills the IPv4 header checksum of the `hlen`-byte header at `off` (`ip_send_check`).
pub(super) fn send_check(h: &mut [u8], off: usize, hlen: usize) {
    wr16(h, off + 10, 0);
    if let Some(hdr) = h.get(off..off + hlen) {
        let c = crate::checksum::checksum(hdr);
        wr16(h, off + 10, c);
    }
}

/// IPv6 extension headers that [`walk6`] and [`find_1stfragopt`] step over.
const HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AH: u8 = 51;
const DSTOPTS: u8 = 60;

/// Length of the extension header `nh` at `off`, if readable.
fn ext_len(h: &[u8], nh: u8, off: usize) -> Option<usize> {
    let len = usize::from(*h.get(off + 1)?);
    Some(match nh {
        FRAGMENT => 8,
        AH => (len + 2) * 4,
        _ => (len + 1) * 8,
    })
}

/// Walks the extension headers of the IPv6 header at `off` up to `end`; returns the upper-layer
/// protocol and the destination the L4 pseudo-header uses: the final one of a routing header
/// with segments left (type 0: last address, type 2: home address, type 4 SRH: segment 0),
/// else the header's (RFC 8200 section 8.1). `None` if the chain does not end exactly at `end`
/// or holds a fragment header (a fragment is never a GSO packet).
pub(super) fn walk6(h: &[u8], off: usize, end: usize) -> Option<(u8, [u8; 16])> {
    let mut dst = [0u8; 16];
    dst.copy_from_slice(h.get(off + 24..off + 40)?);
    let mut nh = *h.get(off + 6)?;
    let mut at = off + 40;
    while at < end {
        match nh {
            HOP | DSTOPTS | AH => {}
            ROUTING => {
                let (rtype, left) = (*h.get(at + 2)?, *h.get(at + 3)?);
                let hdr_words = usize::from(*h.get(at + 1)?);
                let pick = match rtype {
                    0 if left > 0 && hdr_words >= 2 => Some(at + 8 + 16 * (hdr_words / 2 - 1)),
                    2 | 4 if left > 0 && hdr_words >= 2 => Some(at + 8),
                    _ => None,
                };
                if let Some(p) = pick {
                    dst.copy_from_slice(h.get(p..p + 16)?);
                }
            }
            _ => return None,
        }
        let len = ext_len(h, nh, at)?;
        nh = *h.get(at)?;
        at += len;
    }
    (at == end).then_some((nh, dst))
}

/// The unfragmentable part of the IPv6 packet at `off` (`ip6_find_1stfragopt`): returns its
/// length from `off` and the offset (from `off`) of the next-header byte that announces the
/// first fragmentable header. Hop-by-hop and routing headers are unfragmentable, and so is a
/// destination-options header before any routing header (it may be meant for the routers a
/// routing header lists); a destination-options header after a routing header, or any other
/// header, starts the fragmentable part. `None` if the chain runs past `len` bytes.
pub(super) fn find_1stfragopt(h: &[u8], off: usize, len: usize) -> Option<(usize, usize)> {
    let mut at = 40;
    let mut prev = 6;
    let mut found_rhdr = false;
    while at <= len {
        let nh = *h.get(off + prev)?;
        match nh {
            HOP => {}
            ROUTING => found_rhdr = true,
            DSTOPTS if !found_rhdr => {}
            _ => return Some((at, prev)),
        }
        if at + 2 > len {
            return None;
        }
        let l = ext_len(h, nh, off + at)?;
        prev = at;
        at += l;
    }
    None
}

/// `ip_options_fragment`: after the first fragment is built, options without the "copied" flag
/// (bit 0x80 of the type) are overwritten with NOPs in the header that later fragments take;
/// the header keeps its length (Linux does not shrink it, unlike RFC 791's description).
pub(super) fn options_fragment(opts: &mut [u8]) {
    const END: u8 = 0;
    const NOP: u8 = 1;
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            END => return,
            NOP => i += 1,
            t => {
                let Some(&l) = opts.get(i + 1) else { return };
                let l = usize::from(l);
                if l < 2 || i + l > opts.len() {
                    return;
                }
                if t & 0x80 == 0 {
                    opts[i..i + l].fill(NOP);
                }
                i += l;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_fragment_keeps_copied_options() {
        // Record route (7, not copied), NOP, security-like option 0x82 (copied), END.
        let mut o = [7, 7, 4, 0, 0, 0, 0, 1, 0x82, 3, 9, 0];
        options_fragment(&mut o);
        assert_eq!(o, [1, 1, 1, 1, 1, 1, 1, 1, 0x82, 3, 9, 0]);
        // A bad length stops the walk without touching anything.
        let mut bad = [7, 1, 0, 0];
        options_fragment(&mut bad);
        assert_eq!(bad, [7, 1, 0, 0]);
    }

    fn v6(nh: u8, ext: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[6] = nh;
        p[24..40].copy_from_slice(&[0xaa; 16]);
        p.extend_from_slice(ext);
        p
    }

    #[test]
    fn walk_and_unfragmentable_part() {
        // hop-by-hop (8) -> dstopts (8) -> routing type 2 (24) -> dstopts (8) -> TCP
        let mut ext = vec![60, 0, 0, 0, 0, 0, 0, 0];
        ext.extend_from_slice(&[43, 0, 0, 0, 0, 0, 0, 0]);
        let mut rh = vec![60, 2, 2, 1, 0, 0, 0, 0];
        rh.extend_from_slice(&[0xbb; 16]);
        ext.extend_from_slice(&rh);
        ext.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 0]);
        let p = v6(0, &ext);
        let end = p.len();
        let (nh, dst) = walk6(&p, 0, end).unwrap_or((0, [0; 16]));
        assert_eq!(nh, 6);
        assert_eq!(dst, [0xbb; 16]);
        // Unfragmentable: IPv6 + hop + dstopts (before routing) + routing = 40 + 8 + 8 + 24.
        assert_eq!(find_1stfragopt(&p, 0, end), Some((80, 56)));
        // No extension header: the fixed header alone, announced by byte 6.
        let q = v6(17, &[0; 8]);
        assert_eq!(find_1stfragopt(&q, 0, q.len()), Some((40, 6)));
        // A chain that does not end at the L4 offset.
        assert_eq!(walk6(&p, 0, end - 4), None);
    }
}
