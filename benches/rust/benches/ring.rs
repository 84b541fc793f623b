//! Ring throughput between two threads: netcore's rings against crossbeam's `ArrayQueue` and
//! `rtrb`, same run.
//!
//! The use case is a dispatcher handing bursts of packets to a worker: one producer thread moves
//! `ITEMS` pointer-sized items from a `Vec` burst (refilled to 1, 32, 64, 128 or 256 items) into
//! the ring, one consumer thread takes up to a burst at a time into a `Vec` and sums it. Every
//! contender runs the same two loops and differs only in how a burst crosses the ring; all rings
//! have 1024 slots. Contenders:
//! - `ours_spsc`, `ours_mpmc`: `ring::spsc` / `ring::mpmc`, `enqueue_burst` / `dequeue_burst`.
//! - `rtrb`: single-producer single-consumer, its chunk API (`write_chunk_uninit` +
//!   `fill_from_iter`, `read_chunk`).
//! - `crossbeam`: `ArrayQueue` (multi-producer multi-consumer), which moves one item per call.
//!
//! When a side finds the ring full or empty it spins briefly then yields, the same for all.
//! Two threads measure the ring with the caches' cross-core traffic and the scheduler; the
//! `local` cases (one thread pushes a burst then pops it) measure the operations alone, which a
//! loaded machine disturbs far less.
//! Run: `cargo bench -p netcore-benches --bench ring`. After criterion's report, every contender
//! runs once per round for 15 rounds, in turn, and the table of medians and ratios of that pass
//! ends the output (see `netcore_benches::ratios`).

use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use netcore_benches::ratios::Rates;
use netcore_core::ring::{self, Access, Consumer, Producer};

const CAPACITY: usize = 1024;
const ITEMS: usize = 1 << 20;
const BURSTS: [usize; 5] = [1, 32, 64, 128, 256];
const CONTENDERS: [&str; 4] = ["ours_spsc", "ours_mpmc", "rtrb", "crossbeam"];
/// Rounds of the interleaved pass that gives the ratio table.
const ROUNDS: usize = 15;

static RATES: Rates = Rates::new();

/// The producer end of a contender: moves what fits from the front of `burst`.
trait Push: Send + 'static {
    fn push(&mut self, burst: &mut Vec<usize>) -> usize;
}

/// The consumer end of a contender: appends up to `max` items to `out`.
trait Pop: Send + 'static {
    fn pop(&mut self, out: &mut Vec<usize>, max: usize) -> usize;
}

impl<A: Access> Push for Producer<usize, A> {
    fn push(&mut self, burst: &mut Vec<usize>) -> usize {
        self.enqueue_burst(burst)
    }
}

impl<A: Access> Pop for Consumer<usize, A> {
    fn pop(&mut self, out: &mut Vec<usize>, max: usize) -> usize {
        self.dequeue_burst(out, max)
    }
}

impl Push for rtrb::Producer<usize> {
    fn push(&mut self, burst: &mut Vec<usize>) -> usize {
        let n = burst.len().min(self.slots());
        if n == 0 {
            return 0;
        }
        let chunk = self.write_chunk_uninit(n).expect("slots checked");
        chunk.fill_from_iter(burst.drain(..n))
    }
}

impl Pop for rtrb::Consumer<usize> {
    fn pop(&mut self, out: &mut Vec<usize>, max: usize) -> usize {
        let n = max.min(self.slots());
        if n > 0 {
            out.extend(self.read_chunk(n).expect("slots checked"));
        }
        n
    }
}

struct Crossbeam(Arc<ArrayQueue<usize>>);

impl Push for Crossbeam {
    fn push(&mut self, burst: &mut Vec<usize>) -> usize {
        let mut n = 0;
        while n < burst.len() && self.0.push(burst[n]).is_ok() {
            n += 1;
        }
        burst.drain(..n);
        n
    }
}

impl Pop for Crossbeam {
    fn pop(&mut self, out: &mut Vec<usize>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some(x) = self.0.pop() else { break };
            out.push(x);
            n += 1;
        }
        n
    }
}

/// Waits a little when the other side is behind: spin, then give the core away.
fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 32 {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

/// Moves `ITEMS` items through a ring in bursts of `burst`: the consumer on a new thread, the
/// producer on this one.
fn transfer(mut tx: impl Push, mut rx: impl Pop, burst: usize) -> Duration {
    let start = Instant::now();
    let consumer = thread::spawn(move || {
        let mut out = Vec::with_capacity(burst);
        let (mut got, mut sum, mut spins) = (0, 0usize, 0);
        while got < ITEMS {
            let n = rx.pop(&mut out, burst);
            if n == 0 {
                backoff(&mut spins);
            }
            got += n;
            sum += out.iter().sum::<usize>();
            out.clear();
        }
        black_box(sum)
    });
    let mut buf = Vec::with_capacity(burst);
    let (mut next, mut spins) = (0, 0);
    while next < ITEMS || !buf.is_empty() {
        while buf.len() < burst && next < ITEMS {
            buf.push(next);
            next += 1;
        }
        if tx.push(&mut buf) == 0 {
            backoff(&mut spins);
        }
    }
    let sum = consumer.join().expect("consumer thread");
    let elapsed = start.elapsed();
    assert_eq!(sum, ITEMS * (ITEMS - 1) / 2, "items lost or duplicated");
    elapsed
}

/// Moves `ITEMS` items through a ring on one thread: push a burst, pop it, repeat.
fn local(mut tx: impl Push, mut rx: impl Pop, burst: usize) -> Duration {
    let start = Instant::now();
    let mut buf = Vec::with_capacity(burst);
    let mut out = Vec::with_capacity(burst);
    let mut sum = 0usize;
    for first in (0..ITEMS).step_by(burst) {
        buf.extend(first..first + burst);
        let pushed = tx.push(&mut buf);
        let popped = rx.pop(&mut out, burst);
        assert!(
            pushed == burst && popped == burst,
            "a burst must fit in an empty ring"
        );
        sum += out.iter().sum::<usize>();
        out.clear();
    }
    let elapsed = start.elapsed();
    assert_eq!(
        black_box(sum),
        ITEMS * (ITEMS - 1) / 2,
        "items lost or duplicated"
    );
    elapsed
}

/// How a case moves the items: two threads or one.
type Mover<P, C> = fn(P, C, usize) -> Duration;

fn contender(name: &str, burst: usize, threads: bool) -> Duration {
    fn run<P: Push, C: Pop>(tx: P, rx: C, burst: usize, threads: bool) -> Duration {
        let mover: Mover<P, C> = if threads { transfer } else { local };
        mover(tx, rx, burst)
    }
    match name {
        "ours_spsc" => {
            let (tx, rx) = ring::spsc(CAPACITY).expect("ring");
            run(tx, rx, burst, threads)
        }
        "ours_mpmc" => {
            let (tx, rx) = ring::mpmc(CAPACITY).expect("ring");
            run(tx, rx, burst, threads)
        }
        "rtrb" => {
            let (tx, rx) = rtrb::RingBuffer::<usize>::new(CAPACITY);
            run(tx, rx, burst, threads)
        }
        _ => {
            let q = Arc::new(ArrayQueue::new(CAPACITY));
            run(Crossbeam(Arc::clone(&q)), Crossbeam(q), burst, threads)
        }
    }
}

/// Case names: `burstN` on two threads, `localN` on one.
fn cases() -> Vec<(String, usize, bool)> {
    [true, false]
        .into_iter()
        .flat_map(|threads| {
            BURSTS.into_iter().map(move |b| {
                let kind = if threads { "burst" } else { "local" };
                (format!("{kind}{b}"), b, threads)
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    for (case, burst, threads) in cases() {
        let mut g = c.benchmark_group("ring");
        g.throughput(Throughput::Elements(ITEMS as u64));
        for name in CONTENDERS {
            g.bench_function(BenchmarkId::new(name, &case), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| contender(name, burst, threads)).sum());
            });
        }
        g.finish();
    }
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    bench(&mut c);
    c.final_summary();
    for (case, burst, threads) in cases() {
        RATES.interleave(&case, &CONTENDERS, ROUNDS, |name| {
            (ITEMS as u64, contender(name, burst, threads))
        });
    }
    let cases: Vec<String> = cases().into_iter().map(|(name, _, _)| name).collect();
    RATES.print(
        "Ring: burstN = one producer and one consumer thread, localN = one thread",
        &cases,
        &CONTENDERS,
        &[
            ("ours_spsc", "rtrb"),
            ("ours_spsc", "crossbeam"),
            ("ours_mpmc", "crossbeam"),
        ],
    );
}
