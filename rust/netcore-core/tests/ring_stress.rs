//! Several threads through one multi-producer, multi-consumer ring: every item comes out exactly
//! once, and each consumer sees each producer's items in the order they were sent.

use std::thread;
use std::time::{Duration, Instant};

use netcore_core::ring;

const PRODUCERS: u64 = 3;
const CONSUMERS: usize = 2;
const PER_PRODUCER: u64 = 200_000;
/// Far more than the test needs; a lost item would otherwise hang it.
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn no_item_lost_or_duplicated() {
    let (tx, rx) = ring::mpmc::<u64>(64).expect("ring");
    let total = PRODUCERS * PER_PRODUCER;
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut tx = tx.clone();
            thread::spawn(move || {
                let mut seq = 0;
                let mut burst = Vec::new();
                // Burst sizes vary so that claims of different widths interleave.
                let mut width = 1 + p as usize;
                while seq < PER_PRODUCER {
                    while burst.len() < width && seq < PER_PRODUCER {
                        burst.push((p << 32) | seq);
                        seq += 1;
                    }
                    let sent = if width.is_multiple_of(2) {
                        if tx.enqueue_bulk(&mut burst) {
                            width
                        } else {
                            0
                        }
                    } else {
                        tx.enqueue_burst(&mut burst)
                    };
                    if sent == 0 {
                        thread::yield_now();
                    }
                    width = width % 37 + 1;
                    assert!(start.elapsed() < DEADLINE, "producer {p} stuck");
                }
                while !burst.is_empty() {
                    if tx.enqueue_burst(&mut burst) == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let mut rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut last = [None::<u64>; PRODUCERS as usize];
                let mut out = Vec::with_capacity(64);
                loop {
                    out.clear();
                    let n = rx.dequeue_burst(&mut out, 1 + c * 31);
                    for &item in &out {
                        let (p, seq) = ((item >> 32) as usize, item & 0xffff_ffff);
                        assert!(last[p].is_none_or(|l| l < seq), "producer {p} reordered");
                        last[p] = Some(seq);
                    }
                    got.extend_from_slice(&out);
                    let stats = rx.stats();
                    if n == 0 && stats.dequeued == total {
                        return got;
                    }
                    if n == 0 {
                        thread::yield_now();
                    }
                    assert!(start.elapsed() < DEADLINE, "consumer {c} stuck");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().expect("consumer"))
        .collect();
    assert_eq!(all.len() as u64, total);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len() as u64, total, "duplicates");
    let stats = rx.stats();
    assert_eq!((stats.enqueued, stats.dequeued), (total, total));
    assert!(rx.is_empty());
}
