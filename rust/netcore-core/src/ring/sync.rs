//! The synchronisation primitives of the ring: std's, or loom's when testing under `cfg(loom)`
//! so that the model checker can explore every interleaving.

#[cfg(all(loom, test))]
pub(super) use loom::{
    cell::UnsafeCell,
    sync::Arc,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
};
#[cfg(not(all(loom, test)))]
pub(super) use std::{
    cell::UnsafeCell,
    sync::Arc,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
};

/// Backs off while waiting for another thread: spin briefly, then yield the CPU, since the
/// thread waited for may be descheduled on a machine with fewer cores than threads.
#[cfg(not(all(loom, test)))]
pub(super) fn relax(spins: &mut u32) {
    if *spins < 64 {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Under loom a wait must yield so the model moves the other threads on.
#[cfg(all(loom, test))]
pub(super) fn relax(_spins: &mut u32) {
    loom::thread::yield_now();
}
