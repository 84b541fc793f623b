use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};

use super::*;

#[test]
fn capacity_must_be_a_power_of_two() {
    for bad in [0, 3, 1000, MAX_CAPACITY + 1] {
        let err = spsc::<u8>(bad).unwrap_err().to_string();
        assert!(err.contains(&bad.to_string()), "{err}");
        assert!(err.contains("power of two"), "{err}");
    }
    assert!(err_nearest(1000).contains("nearest: 1024"));
    let (tx, _rx) = spsc::<u8>(1).unwrap();
    assert_eq!(tx.capacity(), 1);
}

fn err_nearest(n: usize) -> String {
    spsc::<u8>(n).unwrap_err().to_string()
}

#[test]
fn fifo_with_wrap_around() {
    let (mut tx, mut rx) = spsc::<u32>(8).unwrap();
    let mut next_in = 0;
    let mut next_out = 0;
    let mut out = Vec::new();
    // Chunks of 5 against 8 slots make every copy wrap at some point.
    for _ in 0..40 {
        let mut chunk: Vec<u32> = (next_in..next_in + 5).collect();
        assert_eq!(tx.enqueue_burst(&mut chunk), 5);
        next_in += 5;
        assert!(chunk.is_empty());
        out.clear();
        assert_eq!(rx.dequeue_burst(&mut out, 64), 5);
        let want: Vec<u32> = (next_out..next_out + 5).collect();
        assert_eq!(out, want);
        next_out += 5;
    }
    assert_eq!(
        rx.stats(),
        RingStats {
            enqueued: 200,
            dequeued: 200,
            full_drops: 0
        }
    );
}

#[test]
fn burst_moves_what_fits_and_keeps_the_rest_in_order() {
    let (mut tx, mut rx) = spsc::<u32>(4).unwrap();
    let mut items: Vec<u32> = (0..6).collect();
    assert_eq!(tx.enqueue_burst(&mut items), 4);
    assert_eq!(items, vec![4, 5]);
    assert_eq!(tx.len(), 4);
    assert_eq!(tx.enqueue_burst(&mut items), 0);
    assert_eq!(tx.stats().full_drops, 4, "2 refused twice");
    let mut out = vec![99];
    assert_eq!(rx.dequeue_burst(&mut out, 3), 3);
    assert_eq!(out, vec![99, 0, 1, 2]);
    assert_eq!(tx.enqueue_burst(&mut items), 2);
    assert!(items.is_empty());
    out.clear();
    assert_eq!(rx.dequeue_burst(&mut out, usize::MAX), 3);
    assert_eq!(out, vec![3, 4, 5]);
    assert!(rx.is_empty());
}

#[test]
fn bulk_is_all_or_nothing() {
    let (mut tx, mut rx) = spsc::<u32>(4).unwrap();
    let mut items: Vec<u32> = (0..5).collect();
    assert!(!tx.enqueue_bulk(&mut items));
    assert_eq!(items.len(), 5, "nothing taken");
    assert!(tx.is_empty());
    assert_eq!(tx.stats().full_drops, 5);
    items.truncate(3);
    assert!(tx.enqueue_bulk(&mut items));
    assert!(items.is_empty());
    let mut out = Vec::new();
    assert!(!rx.dequeue_bulk(&mut out, 4));
    assert!(out.is_empty());
    assert!(rx.dequeue_bulk(&mut out, 3));
    assert_eq!(out, vec![0, 1, 2]);
    assert!(rx.dequeue_bulk(&mut out, 0));
}

#[test]
fn single_items_and_full_ring() {
    let (mut tx, mut rx) = spsc::<String>(2).unwrap();
    tx.enqueue("a".into()).unwrap();
    tx.enqueue("b".into()).unwrap();
    assert_eq!(tx.enqueue("c".into()), Err("c".to_string()));
    assert_eq!(tx.stats().full_drops, 1);
    assert_eq!(rx.dequeue().as_deref(), Some("a"));
    assert_eq!(rx.dequeue().as_deref(), Some("b"));
    assert_eq!(rx.dequeue(), None);
}

/// Counts live instances so that a leak or a double drop shows.
struct Tracked(StdArc<StdAtomicUsize>);

impl Tracked {
    fn new(live: &StdArc<StdAtomicUsize>) -> Self {
        live.fetch_add(1, StdOrdering::SeqCst);
        Tracked(StdArc::clone(live))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, StdOrdering::SeqCst);
    }
}

#[test]
fn items_left_in_the_ring_are_dropped_once() {
    let live = StdArc::new(StdAtomicUsize::new(0));
    {
        let (mut tx, mut rx) = mpmc::<Tracked>(8).unwrap();
        // Wrap first so that what is left straddles the end of the slots.
        let mut items: Vec<Tracked> = (0..6).map(|_| Tracked::new(&live)).collect();
        assert_eq!(tx.enqueue_burst(&mut items), 6);
        let mut out = Vec::new();
        assert_eq!(rx.dequeue_burst(&mut out, 5), 5);
        drop(out);
        let mut items: Vec<Tracked> = (0..7).map(|_| Tracked::new(&live)).collect();
        assert_eq!(tx.enqueue_burst(&mut items), 7);
        assert_eq!(live.load(StdOrdering::SeqCst), 8);
        let tx2 = tx.clone();
        drop(tx);
        drop(rx);
        assert_eq!(tx2.len(), 8);
    }
    assert_eq!(live.load(StdOrdering::SeqCst), 0);
}

#[test]
fn handles_are_send() {
    fn is_send<X: Send>() {}
    is_send::<Producer<Vec<u8>, Single>>();
    is_send::<Consumer<Vec<u8>, Single>>();
    is_send::<Producer<Vec<u8>, Multi>>();
    is_send::<Consumer<Vec<u8>, Multi>>();
}
