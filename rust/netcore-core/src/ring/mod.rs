//! Bounded lock-free rings in the spirit of DPDK's `rte_ring`.
//!
//! A ring has a power-of-two number of slots and two sides, each with a `head` (slots claimed)
//! and a `tail` (slots finished). A producer claims free slots by moving the producer head, fills
//! them, then moves the producer tail past them; a consumer does the same on the consumer side.
//! The counters run freely and wrap, and a slot's index is the counter masked by the size.
//!
//! Whether a side has one or several users is part of the handle's type: a [`Producer`] or
//! [`Consumer`] of [`Single`] access is not `Clone`, so the single-user fast path (no
//! compare-and-swap, no waiting for other users) cannot be reached by two threads at once; one of
//! [`Multi`] access is `Clone` and claims slots with compare-and-swap, like `rte_ring`'s MP/MC
//! modes.
//!
//! Every operation exists in two behaviours, as in `rte_ring`: *burst* moves as many items as it
//! can, *bulk* moves all of them or none. Items move by bit copy between the caller's `Vec` and
//! the slots, with no allocation per item. Items refused because the ring is full are counted
//! ([`RingStats::full_drops`]); they stay with the caller, who drops or retries them.
//!
//! Memory ordering: a side reads the other side's tail with `Acquire` (it may then reuse or read
//! those slots), publishes its own tail with `Release` (its slot writes or reads are done), and
//! a multi-user side waits, with `Acquire`, for earlier claims to publish first, so that tails
//! only ever cover finished slots.
//!
//! The model check runs under loom:
//! `RUSTFLAGS="--cfg loom" cargo test -p netcore-core --release --lib ring::loom_tests`.

#[cfg(all(test, loom))]
mod loom_tests;
mod sync;
#[cfg(all(test, not(loom)))]
mod tests;

use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ptr;

use sync::{Arc, AtomicU64, AtomicUsize, Ordering, UnsafeCell};

use crate::error::{Error, Result};

/// Largest ring accepted, in slots (`rte_ring`'s size limit is 2^31 - 1 as well).
pub const MAX_CAPACITY: usize = 1 << 30;

mod sealed {
    pub trait Sealed {}
}

/// How many handles may use one side of a ring: [`Single`] or [`Multi`].
pub trait Access: sealed::Sealed + Send + Sync + 'static {
    /// Several handles may use the side at once, so slots are claimed with compare-and-swap.
    const MULTI: bool;
}

/// One handle on this side (the handle is not `Clone`): no compare-and-swap.
#[derive(Debug)]
pub struct Single;

/// Any number of handles on this side (the handle is `Clone`).
#[derive(Debug)]
pub struct Multi;

impl sealed::Sealed for Single {}
impl sealed::Sealed for Multi {}
impl Access for Single {
    const MULTI: bool = false;
}
impl Access for Multi {
    const MULTI: bool = true;
}

/// Counters of a ring, read without stopping it (so only roughly consistent with each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RingStats {
    /// Items enqueued since the ring was made.
    pub enqueued: u64,
    /// Items dequeued since the ring was made.
    pub dequeued: u64,
    /// Items an enqueue refused because the ring was full.
    pub full_drops: u64,
}

/// One side's counters, on a cache line of their own so that the sides do not share one.
#[repr(align(128))]
struct HeadTail {
    head: AtomicUsize,
    tail: AtomicUsize,
}

impl HeadTail {
    fn new() -> Self {
        HeadTail {
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
        }
    }
}

#[repr(align(128))]
struct Padded<T>(T);

struct Ring<T> {
    prod: HeadTail,
    cons: HeadTail,
    full_drops: Padded<AtomicU64>,
    mask: usize,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: slots are only reached through a claim on the head counters, which gives one thread
// at a time each slot; the items themselves cross threads, hence `T: Send`.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above: shared access never touches a slot without an exclusive claim.
unsafe impl<T: Send> Sync for Ring<T> {}

/// Which side of the ring an operation moves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Prod,
    Cons,
}

impl<T> Ring<T> {
    fn new(capacity: usize) -> Result<Self> {
        if !capacity.is_power_of_two() || capacity > MAX_CAPACITY {
            return Err(Error::Config(format!(
                "ring capacity {capacity} must be a power of two between 1 and {MAX_CAPACITY} \
                 (nearest: {})",
                capacity.clamp(1, MAX_CAPACITY).next_power_of_two()
            )));
        }
        let slots = (0..capacity)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        Ok(Ring {
            prod: HeadTail::new(),
            cons: HeadTail::new(),
            full_drops: Padded(AtomicU64::new(0)),
            mask: capacity - 1,
            slots,
        })
    }

    fn capacity(&self) -> usize {
        self.mask + 1
    }

    fn len(&self) -> usize {
        // Consumer tail first: the producer tail read after it is never behind it.
        let cons = self.cons.tail.load(Ordering::Acquire);
        let prod = self.prod.tail.load(Ordering::Acquire);
        prod.wrapping_sub(cons).min(self.capacity())
    }

    fn stats(&self) -> RingStats {
        RingStats {
            enqueued: self.prod.tail.load(Ordering::Relaxed) as u64,
            dequeued: self.cons.tail.load(Ordering::Relaxed) as u64,
            full_drops: self.full_drops.0.load(Ordering::Relaxed),
        }
    }

    /// Claims up to `n` slots on `side` (all `n` or none when `bulk`), returning the first
    /// position claimed and the count (`rte_ring`'s `__rte_ring_move_prod_head` and
    /// `__rte_ring_move_cons_head`).
    ///
    /// `seen` is the other side's tail as this handle last read it. It only grows, so it
    /// understates what is available and is safe to reuse; it is read again only when it cannot
    /// grant the request, which spares a cache miss on the other side's line on most calls.
    fn claim(
        &self,
        side: Side,
        multi: bool,
        n: usize,
        bulk: bool,
        seen: &mut usize,
    ) -> (usize, usize) {
        let own = match side {
            Side::Prod => &self.prod,
            Side::Cons => &self.cons,
        };
        let other = match side {
            Side::Prod => &self.cons,
            Side::Cons => &self.prod,
        };
        let capacity = self.capacity();
        // Slots in use as the producer counts them, or ready as the consumer counts them.
        let filled = |head: usize, other_tail: usize| match side {
            Side::Prod => head.wrapping_sub(other_tail),
            Side::Cons => other_tail.wrapping_sub(head),
        };
        let available = |filled: usize| match side {
            Side::Prod => capacity - filled,
            Side::Cons => filled,
        };
        let mut head = own.head.load(Ordering::Relaxed);
        let mut spins = 0;
        loop {
            let mut used = filled(head, *seen);
            if used > capacity || available(used) < n {
                *seen = other.tail.load(Ordering::Acquire);
                used = filled(head, *seen);
                // A head read without synchronisation may be newer than the other side's tail
                // read after it; the two then disagree by more than the ring holds. Claiming on
                // such a pair would reach slots not yet handed over, so read both again.
                if used > capacity {
                    sync::relax(&mut spins);
                    head = own.head.load(Ordering::Relaxed);
                    continue;
                }
            }
            let available = available(used);
            let count = if n <= available {
                n
            } else if bulk {
                0
            } else {
                available
            };
            if count == 0 {
                return (head, 0);
            }
            let next = head.wrapping_add(count);
            if !multi {
                own.head.store(next, Ordering::Relaxed);
                return (head, count);
            }
            match own
                .head
                .compare_exchange_weak(head, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return (head, count),
                Err(current) => head = current,
            }
        }
    }

    /// Publishes the claim `[head, head + count)` on `side` once every earlier claim is
    /// published (`rte_ring`'s `__rte_ring_update_tail`).
    fn publish(&self, side: Side, multi: bool, head: usize, count: usize) {
        let own = match side {
            Side::Prod => &self.prod,
            Side::Cons => &self.cons,
        };
        if multi {
            // Acquire: the earlier claimant's slot accesses then happen before our release,
            // so whoever acquires our tail sees them too.
            let mut spins = 0;
            while own.tail.load(Ordering::Acquire) != head {
                sync::relax(&mut spins);
            }
        }
        own.tail.store(head.wrapping_add(count), Ordering::Release);
    }

    /// Enqueues up to `n` items read from `src` (all or none when `bulk`); returns how many.
    ///
    /// # Safety
    /// `src` is valid for reading `n` items; the items counted in the result are moved out
    /// (the caller must forget them), the others are untouched.
    unsafe fn enqueue_raw(
        &self,
        multi: bool,
        seen: &mut usize,
        src: *const T,
        n: usize,
        bulk: bool,
    ) -> usize {
        if n == 0 {
            return 0;
        }
        let (head, count) = self.claim(Side::Prod, multi, n, bulk, seen);
        if count < n {
            self.full_drops
                .0
                .fetch_add((n - count) as u64, Ordering::Relaxed);
        }
        if count > 0 {
            // SAFETY: the claim gives us slots `[head, head + count)`; `src` holds `count`.
            unsafe { self.copy_slots(head, src.cast_mut(), count, Side::Prod) };
            self.publish(Side::Prod, multi, head, count);
        }
        count
    }

    /// Dequeues up to `n` items into `dst` (all or none when `bulk`); returns how many.
    ///
    /// # Safety
    /// `dst` is valid for writing `n` items.
    unsafe fn dequeue_raw(
        &self,
        multi: bool,
        seen: &mut usize,
        dst: *mut T,
        n: usize,
        bulk: bool,
    ) -> usize {
        if n == 0 {
            return 0;
        }
        let (head, count) = self.claim(Side::Cons, multi, n, bulk, seen);
        if count > 0 {
            // SAFETY: the claim gives us the filled slots `[head, head + count)`.
            unsafe { self.copy_slots(head, dst, count, Side::Cons) };
            self.publish(Side::Cons, multi, head, count);
        }
        count
    }

    /// Copies `n` items between `buf` and the slots from position `pos` on: into the slots for
    /// the producer side, out of them for the consumer side.
    ///
    /// # Safety
    /// The caller holds a claim on the `n` slots and `buf` is valid for `n` items.
    #[cfg(not(all(loom, test)))]
    unsafe fn copy_slots(&self, pos: usize, buf: *mut T, n: usize, side: Side) {
        let start = pos & self.mask;
        let first = n.min(self.capacity() - start);
        let base = UnsafeCell::raw_get(self.slots.as_ptr()).cast::<T>();
        // SAFETY: `[start, start + first)` and `[0, n - first)` lie in the slots (n ≤ capacity);
        // `UnsafeCell<MaybeUninit<T>>` has the layout of `T`; the claim makes them ours.
        unsafe {
            let (a, b) = (base.add(start), base);
            match side {
                Side::Prod => {
                    copy_items(buf, a, first);
                    copy_items(buf.add(first), b, n - first);
                }
                Side::Cons => {
                    copy_items(a, buf, first);
                    copy_items(b, buf.add(first), n - first);
                }
            }
        }
    }

    /// Loom variant: one tracked access per slot, so the model checker sees every race.
    #[cfg(all(loom, test))]
    unsafe fn copy_slots(&self, pos: usize, buf: *mut T, n: usize, side: Side) {
        for k in 0..n {
            let cell = &self.slots[pos.wrapping_add(k) & self.mask];
            // SAFETY: as in the plain variant, one item at a time.
            cell.with_mut(|slot| unsafe {
                let slot = slot.cast::<T>();
                match side {
                    Side::Prod => ptr::copy_nonoverlapping(buf.add(k), slot, 1),
                    Side::Cons => ptr::copy_nonoverlapping(slot, buf.add(k), 1),
                }
            });
        }
    }
}

/// Copies `n` items from `src` to `dst`, in fixed-size blocks that the compiler expands inline:
/// a call to `memcpy` per burst costs more than the copy itself for bursts of pointers.
///
/// # Safety
/// As for `ptr::copy_nonoverlapping`.
#[cfg(not(all(loom, test)))]
#[inline]
unsafe fn copy_items<T>(mut src: *const T, mut dst: *mut T, mut n: usize) {
    const BLOCK: usize = 8;
    // SAFETY: the caller's guarantee, walked block by block then item by item.
    unsafe {
        while n >= BLOCK {
            ptr::copy_nonoverlapping(src, dst, BLOCK);
            (src, dst, n) = (src.add(BLOCK), dst.add(BLOCK), n - BLOCK);
        }
        for k in 0..n {
            ptr::copy_nonoverlapping(src.add(k), dst.add(k), 1);
        }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        if !std::mem::needs_drop::<T>() {
            return;
        }
        // Every handle is gone, so the items between the tails are all that is left.
        let end = self.prod.tail.load(Ordering::Acquire);
        let mut pos = self.cons.tail.load(Ordering::Acquire);
        while pos != end {
            let mut item = MaybeUninit::<T>::uninit();
            // SAFETY: slots between the consumer and producer tails hold initialised items, and
            // no handle is left to claim them.
            unsafe {
                self.copy_slots(pos, item.as_mut_ptr(), 1, Side::Cons);
                item.assume_init_drop();
            }
            pos = pos.wrapping_add(1);
        }
    }
}

/// The producer side of a ring; `Clone` only with [`Multi`] access.
pub struct Producer<T, A: Access = Single> {
    ring: Arc<Ring<T>>,
    /// The consumer tail as last read (see `Ring::claim`).
    seen: usize,
    access: PhantomData<A>,
}

/// The consumer side of a ring; `Clone` only with [`Multi`] access.
pub struct Consumer<T, A: Access = Single> {
    ring: Arc<Ring<T>>,
    /// The producer tail as last read (see `Ring::claim`).
    seen: usize,
    access: PhantomData<A>,
}

impl<T> Clone for Producer<T, Multi> {
    fn clone(&self) -> Self {
        Producer {
            ring: Arc::clone(&self.ring),
            seen: self.seen,
            access: PhantomData,
        }
    }
}

impl<T> Clone for Consumer<T, Multi> {
    fn clone(&self) -> Self {
        Consumer {
            ring: Arc::clone(&self.ring),
            seen: self.seen,
            access: PhantomData,
        }
    }
}

impl<T, A: Access> std::fmt::Debug for Producer<T, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        describe(f, "Producer", A::MULTI, &self.ring)
    }
}

impl<T, A: Access> std::fmt::Debug for Consumer<T, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        describe(f, "Consumer", A::MULTI, &self.ring)
    }
}

fn describe<T>(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    multi: bool,
    ring: &Ring<T>,
) -> std::fmt::Result {
    f.debug_struct(name)
        .field("multi", &multi)
        .field("len", &ring.len())
        .field("capacity", &ring.capacity())
        .field("stats", &ring.stats())
        .finish()
}

/// Methods both handles share: sizes and counters.
macro_rules! common_methods {
    () => {
        /// Number of slots.
        #[must_use]
        pub fn capacity(&self) -> usize {
            self.ring.capacity()
        }

        /// Items in the ring now (a snapshot: other threads may change it at once).
        #[must_use]
        pub fn len(&self) -> usize {
            self.ring.len()
        }

        /// Whether the ring held no item when looked at.
        #[must_use]
        pub fn is_empty(&self) -> bool {
            self.ring.len() == 0
        }

        /// The ring's counters.
        #[must_use]
        pub fn stats(&self) -> RingStats {
            self.ring.stats()
        }
    };
}

impl<T, A: Access> Producer<T, A> {
    common_methods!();

    /// Enqueues one item, or gives it back when the ring is full.
    pub fn enqueue(&mut self, item: T) -> std::result::Result<(), T> {
        let item = ManuallyDrop::new(item);
        // SAFETY: one readable item; if it is taken we forget it (it is in `ManuallyDrop`).
        let moved = unsafe {
            self.ring
                .enqueue_raw(A::MULTI, &mut self.seen, &raw const *item, 1, false)
        };
        if moved == 1 {
            Ok(())
        } else {
            Err(ManuallyDrop::into_inner(item))
        }
    }

    /// Enqueues as many items from the front of `items` as fit (burst); the rest stay in
    /// `items`, in order. Returns how many were enqueued.
    pub fn enqueue_burst(&mut self, items: &mut Vec<T>) -> usize {
        self.enqueue_vec(items, false)
    }

    /// Enqueues every item of `items` or, when they do not all fit, none (bulk). Returns whether
    /// they were enqueued (then `items` is empty).
    pub fn enqueue_bulk(&mut self, items: &mut Vec<T>) -> bool {
        let n = items.len();
        self.enqueue_vec(items, true) == n
    }

    fn enqueue_vec(&mut self, items: &mut Vec<T>, bulk: bool) -> usize {
        let n = items.len();
        let base = items.as_mut_ptr();
        // SAFETY: `items` holds `n` readable items; the `moved` first ones now belong to the ring,
        // so the rest shift to the front and the length shrinks past the moved ones.
        unsafe {
            let moved = self
                .ring
                .enqueue_raw(A::MULTI, &mut self.seen, base, n, bulk);
            if moved > 0 {
                if moved < n {
                    ptr::copy(base.add(moved), base, n - moved);
                }
                items.set_len(n - moved);
            }
            moved
        }
    }
}

impl<T, A: Access> Consumer<T, A> {
    common_methods!();

    /// Dequeues one item, if any.
    pub fn dequeue(&mut self) -> Option<T> {
        let mut item = MaybeUninit::<T>::uninit();
        // SAFETY: room for one item; it is initialised exactly when one was dequeued.
        unsafe {
            (self
                .ring
                .dequeue_raw(A::MULTI, &mut self.seen, item.as_mut_ptr(), 1, false)
                == 1)
                .then(|| item.assume_init())
        }
    }

    /// Appends up to `max` items to `out` (burst); returns how many.
    pub fn dequeue_burst(&mut self, out: &mut Vec<T>, max: usize) -> usize {
        self.dequeue_vec(out, max, false)
    }

    /// Appends exactly `n` items to `out`, or none when fewer are there (bulk); returns whether
    /// they were dequeued.
    pub fn dequeue_bulk(&mut self, out: &mut Vec<T>, n: usize) -> bool {
        n == 0 || self.dequeue_vec(out, n, true) == n
    }

    fn dequeue_vec(&mut self, out: &mut Vec<T>, max: usize, bulk: bool) -> usize {
        let max = max.min(self.ring.capacity());
        // Reserve before claiming: nothing may fail between a claim and its publication.
        out.reserve(max);
        let len = out.len();
        // SAFETY: `out` has room for `max` more items; the dequeued ones are initialised, so the
        // length may grow by their number.
        unsafe {
            let moved = self.ring.dequeue_raw(
                A::MULTI,
                &mut self.seen,
                out.as_mut_ptr().add(len),
                max,
                bulk,
            );
            out.set_len(len + moved);
            moved
        }
    }
}

/// Makes a ring of `capacity` slots (a power of two) with the access modes `P` and `C`.
pub fn ring<T, P: Access, C: Access>(capacity: usize) -> Result<(Producer<T, P>, Consumer<T, C>)> {
    let ring = Arc::new(Ring::new(capacity)?);
    Ok((
        Producer {
            ring: Arc::clone(&ring),
            seen: 0,
            access: PhantomData,
        },
        Consumer {
            ring,
            seen: 0,
            access: PhantomData,
        },
    ))
}

/// A single-producer, single-consumer ring (`RING_F_SP_ENQ | RING_F_SC_DEQ`).
pub fn spsc<T>(capacity: usize) -> Result<(Producer<T, Single>, Consumer<T, Single>)> {
    ring(capacity)
}

/// A multi-producer, single-consumer ring.
pub fn mpsc<T>(capacity: usize) -> Result<(Producer<T, Multi>, Consumer<T, Single>)> {
    ring(capacity)
}

/// A single-producer, multi-consumer ring.
pub fn spmc<T>(capacity: usize) -> Result<(Producer<T, Single>, Consumer<T, Multi>)> {
    ring(capacity)
}

/// A multi-producer, multi-consumer ring (the `rte_ring` default).
pub fn mpmc<T>(capacity: usize) -> Result<(Producer<T, Multi>, Consumer<T, Multi>)> {
    ring(capacity)
}
