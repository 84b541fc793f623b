//! Packet classification by bit vectors: each field a rule looks at is cut into the intervals
//! where the set of accepting rules does not change, and each interval stores that set as a
//! bit per rule. A packet's candidate rules are the AND of one bit vector per field (one
//! binary search each), so evaluation costs about one lookup per field in use instead of one
//! test per rule; the rules left are taken in order. (Lakshman and Stiliadis, "High-speed
//! policy-based packet forwarding using efficient multi-dimensional range matching", 1998.)

use super::matcher::{AddrField, Match, NumField, Step};
use super::packet::PacketInfo;
use super::ruleset::Rule;

/// Most rules classified by bit vectors (64 per word); larger rulesets are walked rule by rule.
pub(super) const MAX_WORDS: usize = 8;

/// A port value no port takes: the packet has no transport header with ports.
const NO_PORTS: u32 = 1 << 16;
/// A flags value no flag byte takes: the packet has no TCP header.
const NO_FLAGS: u32 = 1 << 8;

/// A numeric field as the classifier sees it (ports and flags have an "absent" value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Num(NumField),
    Flags,
}

impl Key {
    /// The largest value of the field, "absent" included.
    fn max(self) -> u32 {
        match self {
            Key::Num(NumField::Sport | NumField::Dport) => NO_PORTS,
            Key::Flags => NO_FLAGS,
            Key::Num(_) => u32::MAX,
        }
    }

    #[inline]
    fn value(self, pkt: &PacketInfo, mark: u32) -> u32 {
        match self {
            Key::Num(NumField::Sport) if pkt.has_ports => u32::from(pkt.sport),
            Key::Num(NumField::Dport) if pkt.has_ports => u32::from(pkt.dport),
            Key::Num(NumField::Sport | NumField::Dport) => NO_PORTS,
            Key::Num(NumField::Length) => pkt.length,
            Key::Num(NumField::Mark) => mark,
            Key::Num(NumField::Iif) => pkt.iif,
            Key::Num(NumField::Oif) => pkt.oif,
            Key::Flags if pkt.has_tcp_flags => u32::from(pkt.tcp_flags),
            Key::Flags => NO_FLAGS,
        }
    }

    /// The values of the field `m` accepts, or `None` when `m` is on another field.
    fn accepted(self, m: &Match) -> Option<Vec<(u32, u32)>> {
        match (self, m) {
            (Key::Num(k), Match::Num { field, set, negate }) if k == *field => {
                // "Absent" is never accepted by a match on the field, negated or not.
                let present = if self.max() == u32::MAX {
                    u32::MAX
                } else {
                    self.max() - 1
                };
                let within = intersect(set.ranges(), &[(0, present)]);
                Some(if *negate {
                    complement(&within, present)
                } else {
                    within
                })
            }
            (Key::Flags, Match::TcpFlags { mask, allowed }) => Some(
                (0..=255u8)
                    .filter(|&b| allowed.contains(b & mask))
                    .map(|b| (u32::from(b), u32::from(b)))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Bit vectors by interval for one field.
#[derive(Debug, Clone)]
struct Index<T> {
    /// First value of each interval, ascending, from the field's minimum.
    starts: Box<[T]>,
    /// `words` bits per interval.
    bits: Box<[u64]>,
    /// The rules that look at the field: when none of them is left, the lookup is skipped.
    users: Box<[u64]>,
    /// Number of users, to look up the fields that rule out most rules first.
    user_count: u32,
    /// For values in the common range ([`Bucketed`]), the interval holding the first value of
    /// each bucket: a lookup then scans the one or two intervals of its bucket instead of
    /// searching them all. Empty when there are too many intervals for `u16`.
    front: Box<[u16]>,
}

/// Buckets of the front table.
const BUCKETS: usize = 4096;

/// Values cut into [`BUCKETS`] buckets over their common range: numbers below 2^20 (ports,
/// flags, lengths, small marks and device indices) in buckets of 256, IPv4-mapped addresses in
/// buckets of 2^20 (a /12 each).
trait Bucketed: Copy {
    /// The bucket of `self`, `None` outside the common range.
    fn bucket(self) -> Option<usize>;
    /// The first value of bucket `b` (`b <= BUCKETS`).
    fn bucket_start(b: usize) -> Self;
}

impl Bucketed for u32 {
    #[inline]
    fn bucket(self) -> Option<usize> {
        (self < 1 << 20).then_some((self >> 8) as usize)
    }
    fn bucket_start(b: usize) -> u32 {
        (b as u32) << 8
    }
}

impl Bucketed for u128 {
    #[inline]
    fn bucket(self) -> Option<usize> {
        (self >> 32 == 0xffff).then_some((self as u32 >> 20) as usize)
    }
    fn bucket_start(b: usize) -> u128 {
        if b == BUCKETS {
            (0xffff_u128 << 32) + (1 << 32)
        } else {
            (0xffff_u128 << 32) | ((b as u128) << 20)
        }
    }
}

impl<T: Copy + Ord + Bucketed> Index<T> {
    /// The index of the field whose values are `full`, from each rule's accepted ranges
    /// (sorted, disjoint); `None` when no rule looks at the field.
    fn build(accepted: &[Vec<(T, T)>], words: usize, full: (T, T)) -> Option<Self>
    where
        T: Step,
    {
        if accepted.iter().all(|r| r.as_slice() == [full]) {
            return None;
        }
        let mut starts = vec![T::ZERO];
        for ranges in accepted {
            for &(lo, hi) in ranges {
                starts.push(lo);
                starts.extend(hi.successor());
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut bits = vec![0u64; starts.len() * words];
        let mut users = vec![0u64; words];
        for (rule, ranges) in accepted.iter().enumerate() {
            if ranges.as_slice() != [full] {
                users[rule / 64] |= 1 << (rule % 64);
            }
            for (i, &s) in starts.iter().enumerate() {
                // Interval starts include every range start, so a range holds the whole
                // interval when it holds its start.
                let at = ranges.partition_point(|&(_, hi)| hi < s);
                if ranges.get(at).is_some_and(|&(lo, _)| lo <= s) {
                    bits[i * words + rule / 64] |= 1 << (rule % 64);
                }
            }
        }
        let holding = |v: T| starts.partition_point(|&s| s <= v).saturating_sub(1);
        let front = if starts.len() < usize::from(u16::MAX) {
            (0..=BUCKETS)
                .map(|b| holding(T::bucket_start(b)) as u16)
                .collect()
        } else {
            Box::default()
        };
        Some(Index {
            front,
            starts: starts.into_boxed_slice(),
            bits: bits.into_boxed_slice(),
            user_count: users.iter().map(|u| u.count_ones()).sum(),
            users: users.into_boxed_slice(),
        })
    }

    /// Whether a rule left in `acc` looks at the field.
    #[inline]
    fn wanted(&self, acc: &[u64]) -> bool {
        acc.iter().zip(&self.users).any(|(a, u)| a & u != 0)
    }

    #[inline]
    fn lookup(&self, v: T, words: usize) -> &[u64] {
        let i = match v
            .bucket()
            .and_then(|b| Some((*self.front.get(b)?, *self.front.get(b + 1)?)))
        {
            Some((first, last)) => {
                let mut i = usize::from(first);
                while i < usize::from(last) && self.starts.get(i + 1).is_some_and(|&s| s <= v) {
                    i += 1;
                }
                i
            }
            None => self.starts.partition_point(|&s| s <= v).saturating_sub(1),
        };
        self.bits.get(i * words..(i + 1) * words).unwrap_or(&[])
    }
}

/// The classifier of one ruleset.
#[derive(Debug, Clone)]
pub(super) struct Classifier {
    words: usize,
    /// Per family slot and transport protocol: the rules whose guards and protocol matches
    /// accept it (`3 × 256 × words`).
    by_proto: Box<[u64]>,
    /// The fields some rule looks at, those with the most rules looking first (the mark,
    /// which statements change, is apart).
    fields: Vec<Field>,
    mark: Option<Index<u32>>,
}

/// The index of one field.
#[derive(Debug, Clone)]
enum Field {
    Num(Key, Index<u32>),
    Addr(AddrField, Index<u128>),
}

impl Field {
    fn user_count(&self) -> u32 {
        match self {
            Field::Num(_, i) => i.user_count,
            Field::Addr(_, i) => i.user_count,
        }
    }
}

impl Classifier {
    /// The classifier of `rules`, `None` beyond `64 × MAX_WORDS` rules; `proto_ok(rule, slot,
    /// proto)` says whether a rule accepts a family slot and transport protocol.
    pub(super) fn build(
        rules: &[Rule],
        proto_ok: impl Fn(&Rule, usize, u8) -> bool,
    ) -> Option<Self> {
        let words = rules.len().div_ceil(64).max(1);
        if words > MAX_WORDS {
            return None;
        }
        let mut by_proto = vec![0u64; 3 * 256 * words];
        for (r, rule) in rules.iter().enumerate() {
            for slot in 0..3 {
                for proto in 0..=255u8 {
                    if proto_ok(rule, slot, proto) {
                        by_proto[(slot * 256 + usize::from(proto)) * words + r / 64] |=
                            1 << (r % 64);
                    }
                }
            }
        }
        let num_index = |key: Key| {
            let per_rule: Vec<Vec<(u32, u32)>> = rules
                .iter()
                .map(|rule| {
                    rule.matches
                        .iter()
                        .filter_map(|m| key.accepted(m))
                        .fold(vec![(0, key.max())], |acc, r| intersect(&acc, &r))
                })
                .collect();
            Index::build(&per_rule, words, (0, key.max()))
        };
        let keys = [
            Key::Num(NumField::Dport),
            Key::Num(NumField::Sport),
            Key::Flags,
            Key::Num(NumField::Iif),
            Key::Num(NumField::Oif),
            Key::Num(NumField::Length),
        ];
        let mut fields: Vec<Field> = keys
            .into_iter()
            .filter_map(|k| Some(Field::Num(k, num_index(k)?)))
            .collect();
        let mark = num_index(Key::Num(NumField::Mark));
        let addrs = [AddrField::Src, AddrField::Dst]
            .into_iter()
            .filter_map(|field| {
                let per_rule: Vec<Vec<(u128, u128)>> = rules
                    .iter()
                    .map(|rule| {
                        rule.matches
                            .iter()
                            .fold(vec![(0, u128::MAX)], |acc, m| match m {
                                Match::Addr {
                                    field: f,
                                    set,
                                    negate,
                                } if *f == field => {
                                    let r = if *negate {
                                        complement(set.ranges(), u128::MAX)
                                    } else {
                                        set.ranges().to_vec()
                                    };
                                    intersect(&acc, &r)
                                }
                                _ => acc,
                            })
                    })
                    .collect();
                Some(Field::Addr(
                    field,
                    Index::build(&per_rule, words, (0, u128::MAX))?,
                ))
            });
        fields.extend(addrs);
        fields.sort_by_key(|f| std::cmp::Reverse(f.user_count()));
        Some(Classifier {
            words,
            by_proto: by_proto.into_boxed_slice(),
            fields,
            mark,
        })
    }

    /// The rules whose matches on every field but the mark accept `pkt`, and those whose mark
    /// matches accept `mark`, as bit vectors; returns their length in words, 0 as soon as no
    /// rule is left (the remaining fields are not looked up).
    #[inline]
    pub(super) fn candidates(
        &self,
        pkt: &PacketInfo,
        slot: usize,
        mark: u32,
        out: &mut [u64; MAX_WORDS],
        marks: &mut [u64; MAX_WORDS],
    ) -> usize {
        let w = self.words;
        let row = (slot * 256 + usize::from(pkt.l4proto)) * w;
        let (acc, mark_ok) = (&mut out[..w], &mut marks[..w]);
        let Some(by_proto) = self.by_proto.get(row..row + w) else {
            return 0;
        };
        acc.copy_from_slice(by_proto);
        if acc.iter().all(|&b| b == 0) {
            return 0;
        }
        for field in &self.fields {
            let bits = match field {
                Field::Num(key, index) if index.wanted(acc) => {
                    index.lookup(key.value(pkt, mark), w)
                }
                Field::Addr(AddrField::Src, index) if index.wanted(acc) => {
                    index.lookup(pkt.saddr, w)
                }
                Field::Addr(AddrField::Dst, index) if index.wanted(acc) => {
                    index.lookup(pkt.daddr, w)
                }
                _ => continue,
            };
            if !and(acc, bits) {
                return 0;
            }
        }
        match &self.mark {
            Some(index) => mark_ok.copy_from_slice(index.lookup(mark, w)),
            None => mark_ok.fill(u64::MAX),
        }
        w
    }
}

/// `acc &= bits`; whether a rule is left.
#[inline]
fn and(acc: &mut [u64], bits: &[u64]) -> bool {
    if bits.len() < acc.len() {
        return false;
    }
    let mut left = 0;
    for (a, b) in acc.iter_mut().zip(bits) {
        *a &= b;
        left |= *a;
    }
    left != 0
}

/// The values in both `a` and `b` (sorted, disjoint ranges).
fn intersect<T: Copy + Ord>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The values of `0..=max` not in `a` (sorted, disjoint ranges within it).
fn complement<T: Copy + Ord + Step>(a: &[(T, T)], max: T) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut from = Some(T::ZERO);
    for &(lo, hi) in a {
        if let Some(f) = from {
            if let (true, Some(before)) = (f < lo, lo.predecessor()) {
                out.push((f, before));
            }
        }
        from = if hi >= max { None } else { hi.successor() };
    }
    if let Some(f) = from {
        if f <= max {
            out.push((f, max));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_algebra() {
        assert_eq!(
            intersect(&[(0u32, 10), (20, 30)], &[(5, 25)]),
            vec![(5, 10), (20, 25)]
        );
        assert_eq!(complement(&[(0u32, 3), (7, 9)], 12), vec![(4, 6), (10, 12)]);
        assert_eq!(complement(&[(2u32, 12)], 12), vec![(0, 1)]);
        assert_eq!(complement::<u128>(&[], u128::MAX), vec![(0, u128::MAX)]);
        assert!(complement(&[(0u128, u128::MAX)], u128::MAX).is_empty());
    }
}
