//! Model check of the ring under loom: every interleaving of a few threads, with data races on
//! the slots detected. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p netcore-core --release --lib ring::loom_tests`.

use loom::model::Builder;
use loom::thread;

use super::*;

/// Enqueues `items` one burst at a time, yielding while the ring is full.
fn push_all<A: Access>(tx: &mut Producer<u32, A>, mut items: Vec<u32>) {
    while !items.is_empty() {
        if tx.enqueue_burst(&mut items) == 0 {
            thread::yield_now();
        }
    }
}

/// Dequeues until `n` items came, yielding while the ring is empty.
fn pull<A: Access>(rx: &mut Consumer<u32, A>, n: usize) -> Vec<u32> {
    let mut out = Vec::new();
    while out.len() < n {
        let want = n - out.len();
        if rx.dequeue_burst(&mut out, want) == 0 {
            thread::yield_now();
        }
    }
    out
}

/// Explores interleavings with up to three preemptions: the retry loops of the ring and of the
/// tests would otherwise give an unbounded model.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

#[test]
fn spsc_keeps_order_across_wrap() {
    model(|| {
        let (mut tx, mut rx) = spsc::<u32>(2).unwrap();
        let producer = thread::spawn(move || push_all(&mut tx, vec![1, 2, 3]));
        assert_eq!(pull(&mut rx, 3), vec![1, 2, 3]);
        producer.join().unwrap();
    });
}

#[test]
fn two_producers_lose_and_duplicate_nothing() {
    model(|| {
        let (tx, mut rx) = mpsc::<u32>(2).unwrap();
        let mut tx2 = tx.clone();
        let mut tx1 = tx;
        let a = thread::spawn(move || push_all(&mut tx1, vec![1]));
        let b = thread::spawn(move || push_all(&mut tx2, vec![2]));
        // Reading while they write: whatever is there is published whole, in order.
        let first = rx.dequeue();
        a.join().unwrap();
        b.join().unwrap();
        let mut got: Vec<u32> = first.into_iter().collect();
        got.extend(pull(&mut rx, 2 - got.len()));
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
    });
}

#[test]
fn two_consumers_share_without_duplicates() {
    model(|| {
        let (mut tx, rx) = spmc::<u32>(2).unwrap();
        let mut rx2 = rx.clone();
        let mut rx1 = rx;
        let a = thread::spawn(move || rx1.dequeue());
        let mut items = vec![1, 2];
        assert!(tx.enqueue_bulk(&mut items));
        let mine = rx2.dequeue();
        let theirs = a.join().unwrap();
        let mut got: Vec<u32> = mine.into_iter().chain(theirs).collect();
        got.extend(rx2.dequeue());
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
    });
}

#[test]
fn bulk_enqueue_is_all_or_nothing_under_contention() {
    model(|| {
        let (tx, mut rx) = mpmc::<u32>(2).unwrap();
        let mut tx2 = tx.clone();
        let mut tx1 = tx;
        let a = thread::spawn(move || {
            let mut v = vec![1, 2];
            tx1.enqueue_bulk(&mut v)
        });
        let b = thread::spawn(move || {
            let mut v = vec![3];
            tx2.enqueue_bulk(&mut v)
        });
        let (ok_a, ok_b) = (a.join().unwrap(), b.join().unwrap());
        let mut out = Vec::new();
        rx.dequeue_burst(&mut out, 4);
        out.sort_unstable();
        let want: Vec<u32> = match (ok_a, ok_b) {
            (true, false) => vec![1, 2],
            (false, true) => vec![3],
            other => panic!("both or neither bulk enqueue succeeded: {other:?}"),
        };
        assert_eq!(out, want);
    });
}
