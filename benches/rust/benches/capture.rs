//! Reading captures held in memory: `CaptureReader` against the plain floor loop.
//!
//! Inputs are written in the bench itself by `CaptureWriter` (IMIX-like sizes), as pcap and as
//! pcapng, in two sizes: one that fits in the last-level cache (the reader's own cost shows) and
//! one that does not (memory latency shows, as with a large file). Throughput is in packets.
//!
//! Run: `cargo bench -p netcore-benches --bench capture` (add a filter such as `pcapng/` to run a
//! part; `-- --quick` for a fast pass).

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use netcore_benches::{SharedBytes, Tally, drain, floor, synthetic_capture, writer_options};
use netcore_core::CaptureReader;

/// Packet counts: ~3.6 MB of IMIX (in cache) and ~72 MB (out of cache).
const SIZES: [usize; 2] = [10_000, 200_000];
const BATCHES: [usize; 3] = [64, 4096, 65_536];
const PREFETCH: usize = 4096;

fn read(c: &mut Criterion) {
    for (format, pcapng) in [("pcap", false), ("pcapng", true)] {
        for packets in SIZES {
            let bytes = synthetic_capture(writer_options(pcapng), packets)
                .expect("writing a capture to memory cannot fail");
            let bytes = SharedBytes(Arc::new(bytes));
            let expect = floor(bytes.as_ref(), 0).expect("the floor reads what the writer wrote");
            assert_eq!(expect.packets, packets as u64);

            let mut g = c.benchmark_group(format!("{format}/{packets}"));
            g.throughput(Throughput::Elements(packets as u64));
            g.bench_function("floor", |b| b.iter(|| floor(black_box(bytes.as_ref()), 0)));
            g.bench_function("floor_prefetch", |b| {
                b.iter(|| floor(black_box(bytes.as_ref()), PREFETCH));
            });
            for batch in BATCHES {
                g.bench_with_input(
                    BenchmarkId::new("from_bytes", batch),
                    &batch,
                    |b, &batch| {
                        b.iter(|| {
                            let shared: Arc<dyn AsRef<[u8]> + Send + Sync> =
                                Arc::new(bytes.clone());
                            let mut r = CaptureReader::from_bytes(shared, "memory", true)
                                .expect("a valid capture opens");
                            let t = drain(&mut r, batch).expect("a valid capture reads");
                            debug_assert_eq!(t, expect);
                            t
                        });
                    },
                );
            }
            g.bench_function(BenchmarkId::new("from_reader", 4096), |b| {
                b.iter(|| -> Tally {
                    let input = Box::new(Cursor::new(bytes.clone()));
                    let mut r = CaptureReader::from_reader(input, "memory", true)
                        .expect("a valid capture opens");
                    drain(&mut r, 4096).expect("a valid capture reads")
                });
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = read
}
criterion_main!(benches);
