//! Fragments: shared slices of other buffers that hold the part of a packet after its linear
//! data (`skb_shinfo(skb)->frags`), so that GRO can chain segments without copying them.

use std::fmt;
use std::mem::ManuallyDrop;

use super::pool;
use crate::batch::Bytes;

/// Most fragments one packet may hold.
///
/// The kernel's `MAX_SKB_FRAGS` is 17, and GRO continues into `skb_shinfo()->frag_list` beyond
/// that. We keep a single list and make it longer instead: 64 fragments hold a 64 KiB GRO packet
/// built from segments of 1 KiB or more. When [`Skb::add_frag`](super::Skb::add_frag) reports
/// the list full, GRO flushes the flow.
pub const MAX_FRAGS: usize = 64;

/// Capacity of a fresh fragment list (the kernel's `MAX_SKB_FRAGS`); lists grow up to
/// [`MAX_FRAGS`] and keep their capacity when recycled.
pub(crate) const INITIAL_FRAGS: usize = 17;

/// A shared window of another buffer (a capture's memory or an owned buffer behind an `Arc`).
///
/// Cloning a fragment clones a reference count, never the bytes.
#[derive(Clone)]
pub struct Frag {
    bytes: Bytes,
    off: usize,
    len: usize,
}

impl Frag {
    /// The whole of `bytes`.
    #[must_use]
    pub fn new(bytes: Bytes) -> Self {
        let len = bytes.len();
        Frag { bytes, off: 0, len }
    }

    /// The window `[off, off + len)` of `bytes`; `None` if it does not fit.
    #[must_use]
    pub fn window(bytes: Bytes, off: usize, len: usize) -> Option<Self> {
        let end = off.checked_add(len)?;
        (end <= bytes.len()).then_some(Frag { bytes, off, len })
    }

    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        // The window was checked against the immutable `bytes` at construction and only ever
        // shrinks afterwards (`advance`, `truncate`).
        &self.bytes.as_slice()[self.off..self.off + self.len]
    }

    /// Number of bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the window is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The memory this fragment is a window of.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Offset of the window in [`Frag::bytes`].
    #[must_use]
    pub fn offset(&self) -> usize {
        self.off
    }

    /// Drops the first `n` bytes (`n <= len`).
    pub(crate) fn advance(&mut self, n: usize) {
        let n = n.min(self.len);
        self.off += n;
        self.len -= n;
    }

    /// Keeps the first `n` bytes (`n <= len`).
    pub(crate) fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }
}

impl From<Bytes> for Frag {
    fn from(bytes: Bytes) -> Self {
        Frag::new(bytes)
    }
}

impl fmt::Debug for Frag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Frag({} bytes at {})", self.len, self.off)
    }
}

/// A slot of a [`FragList`]: a fragment whose reference count the list drops by hand (a
/// fragment leaning on the list's anchor owns none).
type FragSlot = ManuallyDrop<Frag>;

/// Entries of a [`FragList`] that may lean on its anchor (one bit each in `leaning`).
const LEANING_MAX: usize = u64::BITS as usize;

/// The fragment list of one packet.
///
/// Allocates nothing until the first fragment is added; its vector comes from the worker's pool
/// and goes back to it (cleared) when the packet is dropped, so GRO in steady state allocates no
/// fragment lists.
///
/// Windows of one memory chained one after the other ([`FragList::push_window`], GRO's
/// segments of one capture) share a single reference count: the list takes one reference, its
/// anchor, and those entries are copies of it that own no count of their own (the kernel's
/// GRO likewise takes a page reference per fragment only when it must). Cloning such a
/// fragment out of the list takes a reference as any clone does.
#[derive(Default)]
pub(crate) struct FragList {
    v: Vec<FragSlot>,
    /// Bit `i` set: entry `i` is a copy of `anchor` and owns no reference count.
    leaning: u64,
    /// The reference leaning entries stand on; dropped only after all of them.
    anchor: Option<Bytes>,
}

impl FragList {
    pub(crate) fn as_slice(&self) -> &[Frag] {
        // SAFETY: `ManuallyDrop<Frag>` is `repr(transparent)` over `Frag`, so the vector's
        // initialised elements are `len` valid `Frag`s.
        unsafe { std::slice::from_raw_parts(self.v.as_ptr().cast::<Frag>(), self.v.len()) }
    }

    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Appends a fragment; the caller checked the count against [`MAX_FRAGS`].
    #[inline]
    pub(crate) fn push(&mut self, frag: Frag) {
        self.push_slot(ManuallyDrop::new(frag));
    }

    /// Appends the window `[off, off + len)` of `bytes` (checked by the caller), leaning on
    /// the anchor when `bytes` is the same window of the same memory as it (the first such
    /// window becomes the anchor): no reference count is taken.
    #[inline]
    pub(crate) fn push_window(&mut self, bytes: &Bytes, off: usize, len: usize) {
        let i = self.v.len();
        if i < LEANING_MAX {
            let anchor = self.anchor.get_or_insert_with(|| bytes.clone());
            if anchor.same_window(bytes) {
                // SAFETY: a bitwise copy of the anchor's reference, marked leaning: it is never
                // dropped (see `release`), and the anchor is dropped only once no leaning
                // entry is left (`clear`, `drop`), so the memory it points to outlives it.
                let bytes = unsafe { std::ptr::read(anchor) };
                self.leaning |= 1 << i;
                self.push_slot(ManuallyDrop::new(Frag { bytes, off, len }));
                return;
            }
        }
        self.push(Frag {
            bytes: bytes.clone(),
            off,
            len,
        });
    }

    // Inlined so that the fragment is built in its slot, not on the stack and then moved.
    #[inline]
    fn push_slot(&mut self, slot: FragSlot) {
        if self.v.capacity() == 0 {
            self.v = into_slots(pool::take_frag_vec());
        }
        self.v.push(slot);
    }

    /// Whether entry `i` leans on the anchor.
    fn leans(leaning: u64, i: usize) -> bool {
        i < LEANING_MAX && leaning >> i & 1 == 1
    }

    /// Gives up a removed entry: drops its reference, unless it leans on the anchor.
    fn release(slot: FragSlot, leaning: bool) {
        if !leaning {
            drop(ManuallyDrop::into_inner(slot));
        }
    }

    /// Drops every fragment, keeping the vector.
    pub(crate) fn clear(&mut self) {
        let leaning = self.leaning;
        if leaning.count_ones() as usize == self.v.len() {
            // All of them lean on the anchor (GRO's usual list): nothing to drop one by one.
            self.v.clear();
        } else {
            for (i, slot) in self.v.drain(..).enumerate() {
                Self::release(slot, Self::leans(leaning, i));
            }
        }
        self.leaning = 0;
        self.anchor = None;
    }

    /// Keeps the first `n` fragments.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n >= self.v.len() {
            return;
        }
        let leaning = self.leaning;
        for (k, slot) in self.v.drain(n..).enumerate() {
            Self::release(slot, Self::leans(leaning, n + k));
        }
        if n < LEANING_MAX {
            self.leaning &= (1 << n) - 1;
        }
    }

    /// Drops the first `n` fragments.
    pub(crate) fn remove_front(&mut self, n: usize) {
        let n = n.min(self.v.len());
        let leaning = self.leaning;
        for (i, slot) in self.v.drain(..n).enumerate() {
            Self::release(slot, Self::leans(leaning, i));
        }
        self.leaning = leaning.checked_shr(n as u32).unwrap_or(0);
    }

    /// Drops the first `n` bytes of the first fragment.
    pub(crate) fn advance_first(&mut self, n: usize) {
        if let Some(f) = self.v.first_mut() {
            f.advance(n);
        }
    }

    /// Keeps the first `n` bytes of the last fragment.
    pub(crate) fn truncate_last(&mut self, n: usize) {
        if let Some(f) = self.v.last_mut() {
            f.truncate(n);
        }
    }

    /// A copy sharing the same fragments (reference counts, not bytes).
    pub(crate) fn share(&self) -> FragList {
        let mut out = FragList::default();
        for f in self.as_slice() {
            out.push(f.clone());
        }
        out
    }
}

impl Drop for FragList {
    fn drop(&mut self) {
        if self.v.capacity() != 0 {
            self.clear();
            pool::give_frag_vec(from_slots(std::mem::take(&mut self.v)));
        }
    }
}

/// A pooled vector as list slots (an in-place conversion: same layout, capacity kept).
fn into_slots(v: Vec<Frag>) -> Vec<FragSlot> {
    v.into_iter().map(ManuallyDrop::new).collect()
}

/// A list's vector back for the pool, emptied first: its entries are the list's to drop.
fn from_slots(mut v: Vec<FragSlot>) -> Vec<Frag> {
    v.clear();
    v.into_iter().map(ManuallyDrop::into_inner).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bounds() {
        let b = Bytes::from_vec((0u8..10).collect());
        assert!(Frag::window(b.clone(), 8, 3).is_none());
        assert!(Frag::window(b.clone(), usize::MAX, 2).is_none());
        let mut f = Frag::window(b.clone(), 2, 5).unwrap_or_else(|| Frag::new(b.clone()));
        assert_eq!(f.as_slice(), &[2, 3, 4, 5, 6]);
        assert_eq!(f.offset(), 2);
        f.advance(2);
        assert_eq!(f.as_slice(), &[4, 5, 6]);
        f.truncate(1);
        assert_eq!(f.as_slice(), &[4]);
        f.advance(9);
        assert!(f.is_empty());
        assert_eq!(Frag::from(b).len(), 10);
    }

    #[test]
    fn windows_of_one_memory_share_one_reference() {
        use std::sync::Arc;
        let owner = Arc::new((0u8..=255).collect::<Vec<u8>>());
        let counted = || Arc::strong_count(&owner);
        let bytes = Bytes::window(owner.clone(), 0, 256).unwrap();
        let other = Bytes::window(owner.clone(), 1, 255).unwrap();
        assert_eq!(counted(), 3);
        let mut l = FragList::default();
        for i in 0..70 {
            l.push_window(&bytes, i, 2);
        }
        // One anchor for the 64 leaning entries, one count each for the 6 past them.
        assert_eq!(counted(), 3 + 1 + 6);
        l.push_window(&other, 0, 1); // another window of the memory: a count of its own
        assert_eq!(counted(), 3 + 1 + 7);
        assert_eq!(l.as_slice()[70].as_slice(), &[1]);
        let shared = l.share();
        assert_eq!(counted(), 3 + 1 + 7 + 71);
        drop(shared);
        l.remove_front(3);
        assert_eq!(l.as_slice()[0].as_slice(), &[3, 4]);
        assert_eq!(counted(), 3 + 1 + 7);
        l.push_window(&bytes, 100, 1); // index 68: past the leaning bits, owns a count
        assert_eq!(counted(), 3 + 1 + 8);
        l.truncate(62);
        assert_eq!(counted(), 3 + 1 + 1); // 61 leaning entries and the one past the bits
        assert_eq!(l.as_slice()[61].as_slice(), &[64, 65]);
        l.advance_first(1);
        l.truncate_last(1);
        assert_eq!(l.as_slice()[0].as_slice(), &[4]);
        assert_eq!(l.as_slice()[61].as_slice(), &[64]);
        let cloned = l.as_slice()[5].clone(); // a clone out of the list owns a count
        l.clear();
        assert_eq!(counted(), 3 + 1);
        assert_eq!(cloned.as_slice(), &[8, 9]);
        l.push_window(&other, 10, 3);
        drop(l);
        drop(cloned);
        assert_eq!(counted(), 3);
    }

    #[test]
    fn pooled_vectors_keep_their_capacity_as_slots() {
        let v: Vec<Frag> = Vec::with_capacity(INITIAL_FRAGS);
        let slots = into_slots(v);
        assert!(slots.capacity() >= INITIAL_FRAGS);
        assert!(from_slots(slots).capacity() >= INITIAL_FRAGS);
    }

    #[test]
    fn list_ops() {
        let b = Bytes::from_vec((0u8..10).collect());
        let mut l = FragList::default();
        assert!(l.is_empty());
        for i in 0..4 {
            l.push(Frag::window(b.clone(), i, 1).unwrap());
        }
        assert_eq!(l.len(), 4);
        let s = l.share();
        l.remove_front(1);
        assert_eq!(l.as_slice()[0].as_slice(), &[1]);
        l.truncate(2);
        assert_eq!(l.len(), 2);
        assert_eq!(s.len(), 4);
        l.clear();
        assert!(l.is_empty());
    }
}
