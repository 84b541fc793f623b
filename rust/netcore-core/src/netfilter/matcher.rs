//! Compiled matchers: each match of a rule becomes one of these, with its values prebuilt as
//! a 256-bit byte set or a sorted, merged list of ranges.

use super::packet::PacketInfo;

/// A set of byte values (protocols, TCP flag combinations) as a 256-bit map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    /// The set of the bytes `pred` accepts.
    pub fn from_fn(pred: impl Fn(u8) -> bool) -> ByteSet {
        let mut s = ByteSet::default();
        for b in 0..=255u8 {
            if pred(b) {
                s.insert(b);
            }
        }
        s
    }

    /// Adds `b`.
    pub fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    /// Whether `b` is in the set.
    #[inline]
    #[must_use]
    pub fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] >> (b & 63) & 1 == 1
    }

    /// Every byte not in the set.
    #[must_use]
    pub fn complement(self) -> ByteSet {
        ByteSet(self.0.map(|w| !w))
    }
}

/// A set of values as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSet<T>(Box<[(T, T)]>);

/// Sets this small are scanned; larger ones are searched.
const SCAN_MAX: usize = 8;

impl<T: Copy + Ord + Step> RangeSet<T> {
    /// The union of `ranges` (each `(low, high)` with `low <= high`; others are ignored).
    #[must_use]
    pub fn new(mut ranges: Vec<(T, T)>) -> RangeSet<T> {
        ranges.retain(|(lo, hi)| lo <= hi);
        ranges.sort_unstable();
        let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if last.1.successor().is_none_or(|next| lo <= next) => {
                    last.1 = last.1.max(hi);
                }
                _ => merged.push((lo, hi)),
            }
        }
        RangeSet(merged.into_boxed_slice())
    }

    /// Whether `v` is in one of the ranges.
    #[inline]
    #[must_use]
    pub fn contains(&self, v: T) -> bool {
        if self.0.len() <= SCAN_MAX {
            return self.0.iter().any(|&(lo, hi)| lo <= v && v <= hi);
        }
        // The first range whose high end is not below `v` is the only candidate.
        let i = self.0.partition_point(|&(_, hi)| hi < v);
        self.0.get(i).is_some_and(|&(lo, _)| lo <= v)
    }

    /// The ranges, sorted.
    #[must_use]
    pub fn ranges(&self) -> &[(T, T)] {
        &self.0
    }
}

/// Neighbouring values of the number and address types ranges are made of.
pub trait Step: Sized {
    /// The smallest value.
    const ZERO: Self;
    /// `self + 1`, `None` at the maximum.
    fn successor(self) -> Option<Self>;
    /// `self - 1`, `None` at zero.
    fn predecessor(self) -> Option<Self>;
}

impl Step for u32 {
    const ZERO: u32 = 0;
    fn successor(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn predecessor(self) -> Option<u32> {
        self.checked_sub(1)
    }
}

impl Step for u128 {
    const ZERO: u128 = 0;
    fn successor(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn predecessor(self) -> Option<u128> {
        self.checked_sub(1)
    }
}

/// A numeric field of [`PacketInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumField {
    /// Transport source port (absent without a transport header).
    Sport,
    /// Transport destination port (absent without a transport header).
    Dport,
    /// `meta length`.
    Length,
    /// `meta mark` (as statements before it in the ruleset set it).
    Mark,
    /// Input device index.
    Iif,
    /// Output device index.
    Oif,
}

/// An address field of [`PacketInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrField {
    /// Source address.
    Src,
    /// Destination address.
    Dst,
}

/// One compiled match. A match on a field the packet lacks (ports of a later fragment)
/// fails, negated or not, as nft's payload expressions break the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The transport protocol is in the set.
    Proto(ByteSet),
    /// A numeric field is (or, negated, is not) in the set.
    Num {
        /// The field.
        field: NumField,
        /// The values.
        set: RangeSet<u32>,
        /// `!=`: the field is not in the set.
        negate: bool,
    },
    /// An address is (or is not) in the set of prefixes and ranges.
    Addr {
        /// Source or destination.
        field: AddrField,
        /// The addresses (IPv4 ones IPv4-mapped).
        set: RangeSet<u128>,
        /// `!=`: the address is not in the set.
        negate: bool,
    },
    /// The TCP flags under `mask` are one of the values in `allowed`.
    TcpFlags {
        /// Flags looked at.
        mask: u8,
        /// Accepted values of `flags & mask`.
        allowed: ByteSet,
    },
}

impl Match {
    /// Whether the packet passes, with `mark` the packet's current mark.
    #[inline]
    pub(super) fn test(&self, pkt: &PacketInfo, mark: u32) -> bool {
        match self {
            Match::Proto(set) => set.contains(pkt.l4proto),
            Match::Num { field, set, negate } => {
                let v = match field {
                    NumField::Sport if pkt.has_ports => u32::from(pkt.sport),
                    NumField::Dport if pkt.has_ports => u32::from(pkt.dport),
                    NumField::Sport | NumField::Dport => return false,
                    NumField::Length => pkt.length,
                    NumField::Mark => mark,
                    NumField::Iif => pkt.iif,
                    NumField::Oif => pkt.oif,
                };
                set.contains(v) != *negate
            }
            Match::Addr { field, set, negate } => {
                let a = match field {
                    AddrField::Src => pkt.saddr,
                    AddrField::Dst => pkt.daddr,
                };
                set.contains(a) != *negate
            }
            Match::TcpFlags { mask, allowed } => {
                pkt.has_tcp_flags && allowed.contains(pkt.tcp_flags & mask)
            }
        }
    }

    /// A rough cost rank: cheap, selective matches are tested first.
    pub(super) fn cost(&self) -> u8 {
        match self {
            Match::Proto(_) | Match::TcpFlags { .. } => 0,
            Match::Num { set, .. } if set.ranges().len() <= SCAN_MAX => 1,
            Match::Num { .. } => 2,
            Match::Addr { set, .. } if set.ranges().len() <= SCAN_MAX => 3,
            Match::Addr { .. } => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_sets_merge_and_search() {
        let s = RangeSet::<u32>::new(vec![(80, 90), (22, 22), (91, 95), (10, 5), (23, 23)]);
        assert_eq!(s.ranges(), &[(22, 23), (80, 95)]);
        assert!(s.contains(22) && s.contains(95) && !s.contains(24) && !s.contains(96));
        let big = RangeSet::new((0..50u32).map(|i| (i * 10, i * 10 + 2)).collect());
        assert_eq!(big.ranges().len(), 50);
        for v in 0..520 {
            assert_eq!(big.contains(v), v < 500 && v % 10 <= 2, "{v}");
        }
        let top = RangeSet::new(vec![(u32::MAX, u32::MAX), (0, u32::MAX - 1)]);
        assert_eq!(top.ranges(), &[(0, u32::MAX)]);
    }

    #[test]
    fn byte_sets() {
        let s = ByteSet::from_fn(|b| b & 0x12 != 0);
        assert!(s.contains(0x02) && s.contains(0xff) && !s.contains(0x01));
        assert!(!s.complement().contains(0x02) && s.complement().contains(0));
    }
}
