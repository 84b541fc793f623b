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
//! Run: `cargo bench -p netcore-benches --bench rss`. After criterion's report, every contender
//! runs once per round for 15 rounds, in turn, and the table of medians and ratios of that pass
//! ends the output (see `netcore_benches::ratios`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use netcore_benches::ratios::Rates;
use netcore_core::LinkType;
use netcore_core::rss::{MICROSOFT_KEY, RssConfig, RssKey, ToeplitzTable, toeplitz};

const FLOWS: usize = 4096;
const CONTENDERS: [&str; 4] = ["table", "softrss", "bitwise", "config"];
/// Rounds of the interleaved pass that gives the ratio table, and passes over the flows per run.
const ROUNDS: usize = 15;
const PASSES: usize = 25;

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

/// The flows of one case in every contender's form.
struct Case {
    name: &'static str,
    flat: Vec<u8>,
    flat_words: Vec<u32>,
    frames: Vec<Vec<u8>>,
    len: usize,
}

impl Case {
    fn new(name: &'static str, len: usize) -> Self {
        // Flat arrays, as flow keys sit in a batch's columns: no pointer per flow.
        let flat = bytes(FLOWS * len, len as u32 * 7919);
        let flat_words = words(&flat);
        let frames = flat.chunks_exact(len).map(frame).collect();
        Case {
            name,
            flat,
            flat_words,
            frames,
            len,
        }
    }

    fn inputs(&self) -> impl Iterator<Item = &[u8]> {
        self.flat.chunks_exact(self.len)
    }

    fn input_words(&self) -> impl Iterator<Item = &[u32]> {
        self.flat_words.chunks_exact(self.len / 4)
    }
}

/// The keyed state every contender needs.
struct Hashers {
    table: ToeplitzTable,
    key_words: [u32; 10],
    config: RssConfig,
}

impl Hashers {
    fn new() -> Self {
        let key_words = std::array::from_fn(|i| {
            u32::from_be_bytes([
                MICROSOFT_KEY[4 * i],
                MICROSOFT_KEY[4 * i + 1],
                MICROSOFT_KEY[4 * i + 2],
                MICROSOFT_KEY[4 * i + 3],
            ])
        });
        Hashers {
            table: ToeplitzTable::new(&RssKey::default()),
            key_words,
            config: RssConfig::new(16).expect("config"),
        }
    }

    /// Hashes every flow of `case` once with `contender`.
    fn pass(&self, contender: &str, case: &Case) -> u32 {
        match contender {
            "table" => case
                .inputs()
                .fold(0, |h, i| h ^ self.table.hash(black_box(i))),
            "softrss" => case
                .input_words()
                .fold(0, |h, w| h ^ softrss(&self.key_words, black_box(w))),
            "bitwise" => case.inputs().fold(0, |h, i| {
                h ^ toeplitz(&MICROSOFT_KEY, black_box(i)).unwrap_or(0)
            }),
            _ => case.frames.iter().fold(0, |h, f| {
                h ^ self
                    .config
                    .hash(black_box(f), LinkType::ETHERNET)
                    .map_or(0, |(x, _)| x)
            }),
        }
    }
}

/// The contenders of a case: the frame case compares the whole path with the table alone.
fn contenders(case: &Case) -> Vec<&'static str> {
    if case.name == "frame" {
        vec!["table", "config"]
    } else {
        vec!["table", "softrss", "bitwise"]
    }
}

fn cases() -> [Case; 3] {
    [
        Case::new("ipv4", 12),
        Case::new("ipv6", 36),
        Case::new("frame", 12),
    ]
}

fn bench(c: &mut Criterion, hashers: &Hashers, cases: &[Case]) {
    for case in cases {
        for (i, w) in case.inputs().zip(case.input_words()) {
            let want = toeplitz(&MICROSOFT_KEY, i).expect("length");
            assert_eq!(hashers.table.hash(i), want, "table disagrees");
            assert_eq!(softrss(&hashers.key_words, w), want, "softrss disagrees");
        }
        let mut g = c.benchmark_group("toeplitz");
        g.throughput(Throughput::Elements(FLOWS as u64));
        for name in contenders(case) {
            g.bench_function(BenchmarkId::new(name, case.name), |b| {
                b.iter(|| hashers.pass(name, case));
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
    let hashers = Hashers::new();
    let cases = cases();
    bench(&mut c, &hashers, &cases);
    c.final_summary();
    for case in &cases {
        RATES.interleave(case.name, &contenders(case), ROUNDS, |name| {
            let start = Instant::now();
            for _ in 0..PASSES {
                black_box(hashers.pass(name, case));
            }
            ((PASSES * FLOWS) as u64, start.elapsed())
        });
    }
    RATES.print(
        "Toeplitz hashes, one thread",
        &cases.iter().map(|c| c.name.to_string()).collect::<Vec<_>>(),
        &CONTENDERS,
        &[
            ("table", "softrss"),
            ("table", "bitwise"),
            ("config", "table"),
        ],
    );
}
