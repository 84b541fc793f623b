//! Fragments: shared slices of other buffers that hold the part of a packet after its linear
//! data (`skb_shinfo(skb)->frags`), so that GRO can chain segments without copying them.

use std::fmt;

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

/// The fragment list of one packet.
///
/// Allocates nothing until the first fragment is added; its vector comes from the worker's pool
/// and goes back to it (cleared) when the packet is dropped, so GRO in steady state allocates no
/// fragment lists.
#[derive(Default)]
pub(crate) struct FragList {
    v: Vec<Frag>,
}

impl FragList {
    pub(crate) fn as_slice(&self) -> &[Frag] {
        &self.v
    }

    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Appends a fragment; the caller checked the count against [`MAX_FRAGS`].
    pub(crate) fn push(&mut self, frag: Frag) {
        if self.v.capacity() == 0 {
            self.v = pool::take_frag_vec();
        }
        self.v.push(frag);
    }

    /// Drops every fragment, keeping the vector.
    pub(crate) fn clear(&mut self) {
        self.v.clear();
    }

    /// Keeps the first `n` fragments.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.v.truncate(n);
    }

    /// Drops the first `n` fragments.
    pub(crate) fn remove_front(&mut self, n: usize) {
        self.v.drain(..n.min(self.v.len()));
    }

    pub(crate) fn first_mut(&mut self) -> Option<&mut Frag> {
        self.v.first_mut()
    }

    pub(crate) fn last_mut(&mut self) -> Option<&mut Frag> {
        self.v.last_mut()
    }

    /// A copy sharing the same fragments (reference counts, not bytes).
    pub(crate) fn share(&self) -> FragList {
        let mut out = FragList::default();
        for f in &self.v {
            out.push(f.clone());
        }
        out
    }
}

impl Drop for FragList {
    fn drop(&mut self) {
        if self.v.capacity() != 0 {
            let mut v = std::mem::take(&mut self.v);
            v.clear();
            pool::give_frag_vec(v);
        }
    }
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
