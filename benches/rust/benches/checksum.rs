//! Checksums at memory speed: netcore against a plain loop and the peer crates, same run.
//!
//! - `inet/<size>`: the Internet checksum (RFC 1071) of one buffer. Contenders: netcore's
//!   `checksum::partial` (folded, as a stack uses it) and `checksum::checksum`; `plain64`, the
//!   textbook fast loop (native-endian `u32` words summed into a `u64`, folded and byte-swapped
//!   at the end — what a careful programmer writes without SIMD); and the `internet-checksum`
//!   crate (Fuchsia's, `u128` accumulator with `adc`). `inet_odd/<size>` repeats netcore and
//!   `plain64` on a buffer that starts at an odd address and has an odd length.
//! - `crc32c/<size>`: netcore's `checksum::crc32c` against the `crc32c` crate (SSE4.2, three
//!   lanes on blocks of 768 bytes or more).
//!
//! Sizes: 20 and 40 (IPv4/IPv6 headers), 64, 128 to 256 (where netcore changes kernels), 576,
//! 1500 (Ethernet MTU), 9000 (jumbo) and 65535 (largest IP packet, a GSO super-packet).
//! Throughput is in bytes.
//!
//! Run: `cargo bench -p netcore-benches --bench checksum -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use netcore_core::checksum;

const SIZES: [usize; 10] = [20, 40, 64, 128, 192, 256, 576, 1500, 9000, 65_535];

/// The plain reference: `u32` native words into a `u64` accumulator, fold at the end.
fn plain64(data: &[u8]) -> u16 {
    let mut acc = 0u64;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rem = words.remainder();
    let mut last = [0u8; 4];
    last[..rem.len()].copy_from_slice(rem);
    acc += u64::from(u32::from_ne_bytes(last));
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    let sum = acc as u16;
    !(if cfg!(target_endian = "little") {
        sum.swap_bytes()
    } else {
        sum
    })
}

/// Deterministic bytes (xorshift), so every run sums the same data.
fn data(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 7) as u8
        })
        .collect()
}

fn inet(c: &mut Criterion) {
    for size in SIZES {
        let buf = data(size);
        let want = checksum::checksum(&buf);
        assert_eq!(plain64(&buf), want, "plain64 disagrees at {size}");
        assert_eq!(
            u16::from_be_bytes(internet_checksum::checksum(&buf)),
            want,
            "internet-checksum disagrees at {size}"
        );
        let mut g = c.benchmark_group("inet");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("netcore_partial", size), &buf, |b, d| {
            b.iter(|| checksum::fold(checksum::partial(black_box(d), 0)));
        });
        g.bench_with_input(BenchmarkId::new("netcore_checksum", size), &buf, |b, d| {
            b.iter(|| checksum::checksum(black_box(d)));
        });
        g.bench_with_input(BenchmarkId::new("plain64", size), &buf, |b, d| {
            b.iter(|| plain64(black_box(d)));
        });
        g.bench_with_input(BenchmarkId::new("internet_checksum", size), &buf, |b, d| {
            b.iter(|| internet_checksum::checksum(black_box(d)));
        });
        g.finish();
    }
    // Odd address and odd length: the layout of a payload after an odd-sized header.
    for size in [575, 1499, 8999] {
        let buf = data(size + 1);
        let odd = &buf[1..];
        assert_eq!(plain64(odd), checksum::checksum(odd));
        let mut g = c.benchmark_group("inet_odd");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("netcore_partial", size), odd, |b, d| {
            b.iter(|| checksum::fold(checksum::partial(black_box(d), 0)));
        });
        g.bench_with_input(BenchmarkId::new("plain64", size), odd, |b, d| {
            b.iter(|| plain64(black_box(d)));
        });
        g.finish();
    }
}

fn crc(c: &mut Criterion) {
    for size in SIZES {
        let buf = data(size);
        assert_eq!(
            checksum::crc32c(&buf),
            crc32c::crc32c(&buf),
            "crc32c disagrees at {size}"
        );
        let mut g = c.benchmark_group("crc32c");
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("netcore", size), &buf, |b, d| {
            b.iter(|| checksum::crc32c(black_box(d)));
        });
        g.bench_with_input(BenchmarkId::new("crc32c_crate", size), &buf, |b, d| {
            b.iter(|| crc32c::crc32c(black_box(d)));
        });
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = inet, crc
}
criterion_main!(benches);
