//! Recycling of packet buffers, per worker thread.
//!
//! The kernel keeps per-CPU caches of `sk_buff`s and page fragments (`napi_alloc_cache`,
//! `napi_skb_cache_put`) so that the receive path rarely reaches the page allocator. Here every
//! thread has one [`BufferPool`]: owned packet buffers of one size class (2 KiB by default) are
//! taken from it when a packet is copied on write and given back when the packet is dropped, and
//! fragment-list vectors are recycled the same way. The pool is thread-local, so it needs no lock
//! and packets stay `Send`: a packet dropped on another thread simply gives its buffer to that
//! thread's pool. The free lists are bounded ([`PoolConfig::max_buffers`]), so a burst does not
//! pin memory forever; a pool holds at most what was in flight at once, up to the bound.
//!
//! A worker that processes batches of `n` packets in flight should set `max_buffers >= n` (the
//! default, 4096 buffers = 8 MiB at most, covers the largest batch sizes the engine uses).

use std::cell::RefCell;

use super::DEFAULT_HEADROOM;
use super::frag::{Frag, INITIAL_FRAGS};

/// Sizes and bounds of a [`BufferPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Size of a pooled buffer (headroom + packet + tailroom). Larger requests get a buffer of
    /// their own, freed when its packet is dropped.
    pub buf_size: usize,
    /// Most free buffers kept; buffers given back beyond this are freed.
    pub max_buffers: usize,
    /// Most free fragment-list vectors kept.
    pub max_frag_lists: usize,
    /// Headroom given to a packet when it is first copied into an owned buffer.
    pub headroom: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            buf_size: 2048,
            max_buffers: 4096,
            max_frag_lists: 1024,
            headroom: DEFAULT_HEADROOM,
        }
    }
}

/// Counters of a [`BufferPool`], cumulative since it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Buffers of the pool's size allocated because the free list was empty.
    pub allocated: u64,
    /// Buffers handed out from the free list.
    pub reused: u64,
    /// Buffers larger than the pool's size allocated for one packet (never pooled).
    pub oversize: u64,
    /// Buffers given back and kept for reuse.
    pub recycled: u64,
    /// Buffers given back and freed (free list full, or not of the pool's size).
    pub released: u64,
    /// Buffers in the free list now.
    pub free: usize,
    /// Fragment-list vectors allocated.
    pub frag_lists_allocated: u64,
    /// Fragment-list vectors handed out from the free list.
    pub frag_lists_reused: u64,
    /// Fragment-list vectors in the free list now.
    pub free_frag_lists: usize,
}

/// A bounded free list of packet buffers and fragment-list vectors.
#[derive(Debug, Default)]
pub struct BufferPool {
    config: PoolConfig,
    free: Vec<Vec<u8>>,
    free_frags: Vec<Vec<Frag>>,
    stats: PoolStats,
}

impl BufferPool {
    /// An empty pool; it allocates nothing until used.
    #[must_use]
    pub fn new(config: PoolConfig) -> Self {
        BufferPool {
            config,
            free: Vec::new(),
            free_frags: Vec::new(),
            stats: PoolStats::default(),
        }
    }

    /// The pool's sizes and bounds.
    #[must_use]
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// A buffer of at least `min_len` bytes, all initialised (to zero when fresh, to whatever
    /// the previous packet left when recycled).
    pub fn take(&mut self, min_len: usize) -> Vec<u8> {
        if min_len > self.config.buf_size {
            self.stats.oversize += 1;
            // Round up to a cache line so that a little more tailroom comes for free.
            let size = min_len.checked_next_multiple_of(64).unwrap_or(min_len);
            return vec![0; size];
        }
        if let Some(buf) = self.free.pop() {
            self.stats.reused += 1;
            return buf;
        }
        self.stats.allocated += 1;
        vec![0; self.config.buf_size]
    }

    /// Gives a buffer back: kept if it has the pool's size and the free list has room, freed
    /// otherwise.
    pub fn give(&mut self, buf: Vec<u8>) {
        if buf.len() == self.config.buf_size && self.free.len() < self.config.max_buffers {
            self.stats.recycled += 1;
            self.free.push(buf);
        } else {
            self.stats.released += 1;
        }
    }

    /// Allocates free buffers now, up to `n` in the free list (bounded by `max_buffers`), so
    /// that the first packets of a run find them ready.
    pub fn prefill(&mut self, n: usize) {
        let n = n.min(self.config.max_buffers);
        self.free.reserve(n.saturating_sub(self.free.len()));
        while self.free.len() < n {
            self.stats.allocated += 1;
            self.free.push(vec![0; self.config.buf_size]);
        }
    }

    /// An empty fragment-list vector with room for the kernel's 17 fragments.
    pub fn take_frags(&mut self) -> Vec<Frag> {
        if let Some(v) = self.free_frags.pop() {
            self.stats.frag_lists_reused += 1;
            return v;
        }
        self.stats.frag_lists_allocated += 1;
        Vec::with_capacity(INITIAL_FRAGS)
    }

    /// Gives a fragment-list vector back (cleared here if it was not).
    pub fn give_frags(&mut self, mut v: Vec<Frag>) {
        v.clear();
        if v.capacity() != 0 && self.free_frags.len() < self.config.max_frag_lists {
            self.free_frags.push(v);
        }
    }

    /// Counters, with the current free-list sizes.
    #[must_use]
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            free: self.free.len(),
            free_frag_lists: self.free_frags.len(),
            ..self.stats
        }
    }

    /// Frees every buffer and vector held.
    pub fn clear(&mut self) {
        self.free = Vec::new();
        self.free_frags = Vec::new();
    }
}

thread_local! {
    static LOCAL: RefCell<BufferPool> = RefCell::new(BufferPool::new(PoolConfig::default()));
}

/// Runs `f` on this thread's pool; `None` if the pool is not reachable (the thread is exiting,
/// or `f` is already running on it).
pub fn with_local<R>(f: impl FnOnce(&mut BufferPool) -> R) -> Option<R> {
    LOCAL
        .try_with(|p| p.try_borrow_mut().ok().map(|mut p| f(&mut p)))
        .ok()
        .flatten()
}

/// Replaces this thread's pool by an empty one with `config` (the buffers held are freed).
pub fn configure_local(config: PoolConfig) {
    with_local(|p| *p = BufferPool::new(config));
}

/// Counters of this thread's pool.
#[must_use]
pub fn local_stats() -> PoolStats {
    with_local(|p| p.stats()).unwrap_or_default()
}

/// Headroom to give a packet copied into an owned buffer on this thread.
pub(crate) fn local_headroom() -> usize {
    with_local(|p| p.config.headroom).unwrap_or(DEFAULT_HEADROOM)
}

pub(crate) fn take_frag_vec() -> Vec<Frag> {
    with_local(BufferPool::take_frags).unwrap_or_else(|| Vec::with_capacity(INITIAL_FRAGS))
}

pub(crate) fn give_frag_vec(v: Vec<Frag>) {
    // When the pool is unreachable the vector is simply freed.
    let mut v = Some(v);
    with_local(|p| {
        if let Some(v) = v.take() {
            p.give_frags(v);
        }
    });
}

/// An owned packet buffer that goes back to its thread's pool when dropped.
pub(crate) struct PoolBuf(Vec<u8>);

impl PoolBuf {
    /// A buffer of at least `min_len` bytes from this thread's pool.
    pub(crate) fn take(min_len: usize) -> PoolBuf {
        PoolBuf(with_local(|p| p.take(min_len)).unwrap_or_else(|| vec![0; min_len]))
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl Drop for PoolBuf {
    fn drop(&mut self) {
        let mut buf = Some(std::mem::take(&mut self.0));
        with_local(|p| {
            if let Some(b) = buf.take() {
                p.give(b);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> PoolConfig {
        PoolConfig {
            buf_size: 256,
            max_buffers: 2,
            max_frag_lists: 1,
            headroom: 32,
        }
    }

    #[test]
    fn reuse_and_bound() {
        let mut pool = BufferPool::new(small());
        let p = &mut pool;
        let a = p.take(10);
        let b = p.take(256);
        let c = p.take(100);
        assert_eq!((a.len(), b.len(), c.len()), (256, 256, 256));
        assert_eq!(p.stats().allocated, 3);
        let big = p.take(300);
        assert_eq!(big.len(), 320);
        assert_eq!(p.stats().oversize, 1);
        let a_ptr = a.as_ptr();
        p.give(a);
        p.give(b);
        p.give(c); // over the bound of 2
        p.give(big); // not of the pool's size
        let st = p.stats();
        assert_eq!((st.recycled, st.released, st.free), (2, 2, 2));
        let b2 = p.take(1);
        let a2 = p.take(1);
        assert_eq!(a2.as_ptr(), a_ptr, "last in, first out");
        assert_eq!(p.stats().reused, 2);
        assert_eq!(p.stats().allocated, 3);
        drop((a2, b2));
        p.prefill(5);
        assert_eq!(p.stats().free, 2);
        p.clear();
        assert_eq!(p.stats().free, 0);
    }

    #[test]
    fn frag_vectors() {
        let mut p = BufferPool::new(small());
        let v = p.take_frags();
        assert!(v.capacity() >= INITIAL_FRAGS);
        let w = p.take_frags();
        p.give_frags(v);
        p.give_frags(w); // over the bound of 1
        p.give_frags(Vec::new()); // nothing to keep
        let s = p.stats();
        assert_eq!((s.frag_lists_allocated, s.free_frag_lists), (2, 1));
        let _ = p.take_frags();
        assert_eq!(p.stats().frag_lists_reused, 1);
    }

    #[test]
    fn local_pool_recycles_on_drop() {
        // Each test runs on its own thread, so this pool is ours alone.
        configure_local(small());
        assert_eq!(local_headroom(), 32);
        let b = PoolBuf::take(100);
        assert_eq!(b.len(), 256);
        drop(b);
        let s = local_stats();
        assert_eq!((s.allocated, s.recycled, s.free), (1, 1, 1));
        let b = PoolBuf::take(100);
        assert_eq!(local_stats().reused, 1);
        // Re-entrant use of the pool falls back to the allocator instead of panicking.
        let inner = with_local(|_| with_local(|_| ()));
        assert_eq!(inner, Some(None));
        drop(b);
        configure_local(PoolConfig::default());
    }
}
