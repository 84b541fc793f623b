//! The checksum part of the GRO control block (`NAPI_GRO_CB(skb)->csum_cnt`, `csum_valid`) and
//! the sums GRO needs over packet bytes.
//!
//! The kernel validates each transport checksum it walks through once
//! (`__skb_gro_checksum_validate`): a checksum the device vouched for (`CHECKSUM_UNNECESSARY`,
//! one per `csum_level + 1`) is consumed without looking at the bytes, otherwise the packet is
//! summed in software. A checksum verified in software raises `skb->ip_summed` on the spot
//! (`skb_gro_incr_csum_unnecessary` → `__skb_incr_checksum_unnecessary`), so a packet that then
//! goes up unmerged does not get verified a second time. [`CsumCb`] reproduces that state
//! machine; its `summed` is written back to every packet that went through GRO.

use super::parse::Pkt;
use crate::checksum::{self, IpSummed};

/// The GRO checksum state of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsumCb {
    /// Device-verified checksums not yet consumed (`NAPI_GRO_CB(skb)->csum_cnt`).
    pub cnt: u8,
    /// A sum of the rest of the packet is known (`NAPI_GRO_CB(skb)->csum_valid`): the device
    /// gave `CHECKSUM_COMPLETE`, software summed it, or a good UDP checksum was converted.
    pub valid: bool,
    /// The `ip_summed` the packet carries, raised as checksums are verified in software.
    pub summed: IpSummed,
}

impl CsumCb {
    /// The state `dev_gro_receive` sets up from the packet's `ip_summed`.
    pub fn new(summed: IpSummed) -> Self {
        match summed {
            IpSummed::Unnecessary { level } => CsumCb {
                cnt: level.saturating_add(1),
                valid: false,
                summed,
            },
            IpSummed::Complete { .. } => CsumCb {
                cnt: 0,
                valid: true,
                summed,
            },
            IpSummed::None | IpSummed::Partial { .. } => CsumCb {
                cnt: 0,
                valid: false,
                summed,
            },
        }
    }

    /// Validates one transport checksum (`__skb_gro_checksum_validate`): `verify` sums the
    /// bytes and is called only when no device verdict covers this checksum. `zero_okay` with
    /// a zero `check` (a UDP datagram over IPv4 without checksum) needs no verification.
    /// Returns whether the checksum is good.
    pub fn validate(&mut self, zero_okay: bool, check: u16, verify: impl FnOnce() -> bool) -> bool {
        let needed = !matches!(self.summed, IpSummed::Partial { .. })
            && self.cnt == 0
            && !(zero_okay && check == 0);
        if needed {
            // `__skb_gro_checksum_complete` leaves the computed sum valid either way.
            self.valid = true;
            if !verify() {
                return false;
            }
        }
        // `skb_gro_incr_csum_unnecessary`.
        if self.cnt > 0 {
            self.cnt -= 1;
        } else {
            self.summed = incr_unnecessary(self.summed);
        }
        true
    }

    /// `skb_gro_checksum_try_convert`: after a good non-zero UDP checksum, the sum of what
    /// follows is known from it.
    pub fn try_convert(&mut self) {
        if self.cnt == 0 && !self.valid {
            self.valid = true;
        }
    }
}

/// `__skb_incr_checksum_unnecessary`: `CHECKSUM_NONE` becomes `CHECKSUM_UNNECESSARY` level 0,
/// `CHECKSUM_UNNECESSARY` gains a level (at most [`IpSummed::MAX_LEVEL`]); other states stay.
pub(crate) fn incr_unnecessary(s: IpSummed) -> IpSummed {
    match s {
        IpSummed::None => IpSummed::Unnecessary { level: 0 },
        IpSummed::Unnecessary { level } => IpSummed::Unnecessary {
            level: if level < IpSummed::MAX_LEVEL {
                level + 1
            } else {
                level
            },
        },
        other => other,
    }
}

/// Ones'-complement partial sum of `len` packet bytes from `off`, across the linear part and
/// the fragments, added to `initial` (`skb_checksum`). `None` if the packet is shorter.
pub(crate) fn sum_range(skb: &Pkt<'_>, off: usize, len: usize, initial: u32) -> Option<u32> {
    let end = off.checked_add(len)?;
    if end > skb.len() {
        return None;
    }
    if skb.frags.is_empty() {
        // A linear packet (every capture row): one run over the bytes.
        return skb
            .data
            .get(off..end)
            .map(|c| checksum::partial(c, initial));
    }
    let mut acc = initial;
    let mut pos = 0usize; // bytes summed so far, for the odd-offset byte swap
    let mut at = 0usize; // packet offset of the current piece
    for piece in skb.pieces() {
        let p_end = at + piece.len();
        let from = off.max(at);
        let to = end.min(p_end);
        if from < to {
            let chunk = piece.get(from - at..to - at).unwrap_or_default();
            acc = checksum::combine(acc, checksum::partial(chunk, 0), pos);
            pos += chunk.len();
        }
        if p_end >= end {
            break;
        }
        at = p_end;
    }
    Some(acc)
}

/// The IPv4 pseudo-header sum for `len` transport bytes (lengths past 65535 enter as a 32-bit
/// value, as `csum_tcpudp_nofold` takes them).
#[inline]
pub(crate) fn pseudo4(ip: &[u8], proto: u8, len: usize) -> u32 {
    let Some(addrs) = ip.get(12..20).and_then(|a| <[u8; 8]>::try_from(a).ok()) else {
        return 0;
    };
    // The four 16-bit words of the addresses, summed in one go from a single load.
    let w = u64::from_be_bytes(addrs);
    let words = (w >> 48) + ((w >> 32) & 0xffff) + ((w >> 16) & 0xffff) + (w & 0xffff);
    checksum::fold_to_32(words + u64::from(proto) + (len as u64 >> 16) + (len as u64 & 0xffff))
}

/// The IPv6 pseudo-header sum for `len` transport bytes, with the addresses of the fixed
/// header (`ip6_gro_compute_pseudo` uses `iph->daddr`, not a routing header's final one).
pub(crate) fn pseudo6(ip: &[u8], proto: u8, len: usize) -> u32 {
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    if let (Some(s), Some(d)) = (ip.get(8..24), ip.get(24..40)) {
        src.copy_from_slice(s);
        dst.copy_from_slice(d);
    }
    checksum::pseudo_v6(&src, &dst, proto, u32::try_from(len).unwrap_or(u32::MAX))
}

/// The pseudo-header sum for an IP header of either version (by its version nibble).
#[inline]
pub(crate) fn pseudo(ip: &[u8], proto: u8, len: usize) -> u32 {
    if ip.first().is_some_and(|b| b >> 4 == 6) {
        pseudo6(ip, proto, len)
    } else {
        pseudo4(ip, proto, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Bytes;
    use crate::skb::{Frag, Skb};

    #[test]
    fn validate_consumes_device_levels_then_sums() {
        let mut cb = CsumCb::new(IpSummed::Unnecessary { level: 0 });
        assert!(cb.validate(false, 1, || false)); // device verdict, bytes not looked at
        assert_eq!(cb.cnt, 0);
        assert_eq!(cb.summed, IpSummed::Unnecessary { level: 0 });
        // The next (inner) checksum is summed; a good one raises the level.
        assert!(cb.validate(false, 1, || true));
        assert_eq!(cb.summed, IpSummed::Unnecessary { level: 1 });
        assert!(!cb.validate(false, 1, || false));

        let mut none = CsumCb::new(IpSummed::None);
        assert!(none.validate(true, 0, || false)); // zero UDP checksum over IPv4
        assert_eq!(none.summed, IpSummed::Unnecessary { level: 0 });
        assert!(!none.valid);

        let mut partial = CsumCb::new(IpSummed::Partial {
            start: 34,
            offset: 16,
        });
        assert!(partial.validate(false, 1, || false));
        assert!(matches!(partial.summed, IpSummed::Partial { .. }));

        let mut c = CsumCb::new(IpSummed::Complete { csum: 5 });
        assert!(c.valid);
        assert!(c.validate(false, 1, || true));
        assert_eq!(c.summed, IpSummed::Complete { csum: 5 });

        let mut conv = CsumCb::new(IpSummed::Unnecessary { level: 0 });
        assert!(conv.validate(true, 7, || false));
        conv.try_convert();
        assert!(conv.valid);
        assert_eq!(
            incr_unnecessary(IpSummed::Unnecessary { level: 3 }),
            IpSummed::Unnecessary { level: 3 }
        );
    }

    #[test]
    fn pseudo4_matches_the_pseudo_header() {
        let mut ip = [0u8; 20];
        for (src, dst) in [
            ([10, 0, 0, 1], [10, 0, 0, 2]),
            ([255; 4], [255, 255, 255, 254]),
        ] {
            ip[12..16].copy_from_slice(&src);
            ip[16..20].copy_from_slice(&dst);
            for len in [0usize, 20, 1468, 65535] {
                let want = checksum::pseudo_v4(src, dst, 6, len as u16);
                assert_eq!(checksum::fold(pseudo4(&ip, 6, len)), checksum::fold(want));
            }
        }
        assert_eq!(pseudo4(&ip[..19], 6, 20), 0);
    }

    #[test]
    fn sum_range_crosses_fragments_at_odd_offsets() {
        let data: Vec<u8> = (0u8..41).map(|b| b.wrapping_mul(37)).collect();
        let whole = Skb::from_shared(Bytes::from_vec(data.clone())).unwrap();
        let mut split = Skb::from_shared(Bytes::from_vec(data[..13].to_vec())).unwrap();
        split
            .add_frag(Frag::new(Bytes::from_vec(data[13..30].to_vec())))
            .unwrap();
        split
            .add_frag(Frag::new(Bytes::from_vec(data[30..].to_vec())))
            .unwrap();
        for off in 0..41 {
            for len in 0..=41 - off {
                let a = sum_range(&Pkt::of(&whole), off, len, 0).map(checksum::fold);
                let b = sum_range(&Pkt::of(&split), off, len, 0).map(checksum::fold);
                assert_eq!(a, b, "off {off} len {len}");
                assert_eq!(a, Some(checksum::checksum(&data[off..off + len])));
            }
        }
        assert!(sum_range(&Pkt::of(&whole), 40, 2, 0).is_none());
    }
}
