//! Toeplitz hashing rate: netcore's table-driven hash against the bit-by-bit definition and the
//! usual software method, same run.
//!
//! Inputs are 4096 pseudo-random flows. Cases: `ipv4` (the 12-byte 4-tuple), `ipv6` (the 36-byte
//! 4-tuple) and `frame` (the whole receive path: parse an Ethernet/IPv4/TCP frame, pick the input
//! set, hash). Contenders:
//! - `table`: `rss::ToeplitzTable::hash`, one look-up per input byte.
//! - `softrss`: 32-bit words, the key window shifted into place for every set bit (the shape of
//!   DPDK's `rte_softrss`, the common software fallback), written here.
//! - `bitwise`: `rss::toeplitz`, the definition one bit at a time.
//! - `config`: `RssConfig::hash` on frames (only in `frame`).
//!
//! Run: `cargo bench -p netcore-benches --bench rss`; a table of ratios ends the output.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use netcore_benches::ratios::Rates;
use netcore_core::LinkType;
use netcore_core::rss::{MICROSOFT_KEY, RssConfig, RssKey, ToeplitzTable, toeplitz};

const FLOWS: usize = 4096;
const CONTENDERS: [&str; 4] = ["table", "softrss", "bitwise", "config"];

static RATES: Rates = Rates::new();

/// Word-at-a-time Toeplitz over big-endian 32-bit input words.
fn softrss(key: &[u32; 10], words: &[u32]) -> u32 {
    let mut hash = 0;
    for (i, &w) in words.iter().enumerate() {
        let pair = u64::from(key[i]) << 32 | u64::from(key[i + 1]);
        for shift in 0..32 {
            if w & (0x8000_0000 >> shift) != 0 {
                hash ^= (pair >> (32 - shift)) as u32;
            }
        }
    }
    hash
}

/// Deterministic pseudo-random bytes (xorshift).
fn bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 11) as u8
        })
        .collect()
}

fn words(input: &[u8]) -> Vec<u32> {
    input
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// An Ethernet/IPv4/TCP frame carrying the 4-tuple `t` (12 bytes).
fn frame(t: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&t[..8]);
    f.extend_from_slice(&t[8..12]);
    f.extend_from_slice(&[0; 16]);
    f
}

/// Times `iters` passes of `hash_all` over the flows and records the rate.
fn measure(case: &str, name: &str, iters: u64, mut hash_all: impl FnMut() -> u32) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(hash_all());
    }
    RATES.record(case, name, iters * FLOWS as u64, start.elapsed())
}

fn bench(c: &mut Criterion) {
    let key = RssKey::default();
    let table = ToeplitzTable::new(&key);
    let key_words: [u32; 10] = std::array::from_fn(|i| {
        u32::from_be_bytes([
            MICROSOFT_KEY[4 * i],
            MICROSOFT_KEY[4 * i + 1],
            MICROSOFT_KEY[4 * i + 2],
            MICROSOFT_KEY[4 * i + 3],
        ])
    });
    let config = RssConfig::new(16).expect("config");
    for (case, len) in [("ipv4", 12), ("ipv6", 36), ("frame", 12)] {
        // Flat arrays, as flow keys sit in a batch's columns: no pointer per flow.
        let flat = bytes(FLOWS * len, len as u32 * 7919);
        let inputs: Vec<&[u8]> = flat.chunks_exact(len).collect();
        let flat_words = words(&flat);
        let input_words: Vec<&[u32]> = flat_words.chunks_exact(len / 4).collect();
        let frames: Vec<Vec<u8>> = inputs.iter().map(|i| frame(i)).collect();
        for (i, w) in inputs.iter().zip(&input_words) {
            let want = toeplitz(&MICROSOFT_KEY, i).expect("length");
            assert_eq!(table.hash(i), want, "table disagrees");
            assert_eq!(softrss(&key_words, w), want, "softrss disagrees");
        }
        let mut g = c.benchmark_group("toeplitz");
        g.throughput(Throughput::Elements(FLOWS as u64));
        for name in CONTENDERS {
            if (case == "frame") != (name == "config") && name != "table" {
                continue;
            }
            g.bench_function(BenchmarkId::new(name, case), |b| {
                b.iter_custom(|iters| match name {
                    "table" => measure(case, name, iters, || {
                        inputs.iter().fold(0, |h, i| h ^ table.hash(black_box(i)))
                    }),
                    "softrss" => measure(case, name, iters, || {
                        input_words
                            .iter()
                            .fold(0, |h, w| h ^ softrss(&key_words, black_box(w)))
                    }),
                    "bitwise" => measure(case, name, iters, || {
                        inputs.iter().fold(0, |h, i| {
                            h ^ toeplitz(&MICROSOFT_KEY, black_box(i)).unwrap_or(0)
                        })
                    }),
                    _ => measure(case, name, iters, || {
                        frames.iter().fold(0, |h, f| {
                            h ^ config
                                .hash(black_box(f), LinkType::ETHERNET)
                                .map_or(0, |(x, _)| x)
                        })
                    }),
                });
            });
        }
        g.finish();
    }
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    bench(&mut c);
    c.final_summary();
    RATES.print(
        "Toeplitz hashes, one thread",
        &["ipv4".into(), "ipv6".into(), "frame".into()],
        &CONTENDERS,
        &[
            ("table", "softrss"),
            ("table", "bitwise"),
            ("config", "table"),
        ],
    );
}
