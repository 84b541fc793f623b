//! GRO over a bulk-TCP trace and GSO of 64 KB super-packets, next to a native floor (a plain
//! header walk over the same frames) in the same run.
//!
//! `cargo bench -p netcore-benches --bench offload`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netcore_core::Batch;
use netcore_core::checksum::IpSummed;
use netcore_core::offload::gro::Gro;
use netcore_core::offload::gso::{self, FrameSpec, SegmentOptions};
use netcore_core::offload::{Features, GroParams};
use netcore_core::skb::Skb;

/// A bulk TCPv4 flow: `n` segments of `mss` bytes, IDs and sequence numbers counting up.
fn bulk(n: usize, mss: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut f = vec![0u8; 14 + 20 + 20 + mss];
            f[..12].copy_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            let ip = &mut f[14..34];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&((40 + mss) as u16).to_be_bytes());
            ip[4..6].copy_from_slice(&((i & 0xffff) as u16).to_be_bytes());
            ip[6] = 0x40;
            ip[8] = 64;
            ip[9] = 6;
            ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
            ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
            let c = netcore_core::checksum::checksum(ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            let seq = 1000u32.wrapping_add((i * mss) as u32);
            let tcp = 34;
            f[tcp..tcp + 2].copy_from_slice(&40000u16.to_be_bytes());
            f[tcp + 2..tcp + 4].copy_from_slice(&80u16.to_be_bytes());
            f[tcp + 4..tcp + 8].copy_from_slice(&seq.to_be_bytes());
            f[tcp + 8..tcp + 12].copy_from_slice(&7u32.to_be_bytes());
            f[tcp + 12] = 5 << 4;
            f[tcp + 13] = 0x10;
            f[tcp + 14..tcp + 16].copy_from_slice(&512u16.to_be_bytes());
            for (k, b) in f[54..].iter_mut().enumerate() {
                *b = (k + i) as u8;
            }
            let pseudo = netcore_core::checksum::pseudo_v4(
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                6,
                (20 + mss) as u16,
            );
            let c =
                netcore_core::checksum::fold(netcore_core::checksum::partial(&f[tcp..], pseudo));
            f[tcp + 16..tcp + 18].copy_from_slice(&c.to_be_bytes());
            f
        })
        .collect()
}

fn gro(c: &mut Criterion) {
    let frames = bulk(4096, 1448);
    let batch = Batch::from_packets(
        frames
            .iter()
            .map(|f| (0, f.as_slice(), f.len() as u32, 0, 1)),
    );
    let mut g = c.benchmark_group("gro_bulk_tcp");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("netcore_gro", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            let mut gro = Gro::new(GroParams::default(), Features::default());
            out.clear();
            gro.run_batch(&batch, &mut out);
            black_box(out.len())
        });
    });
    // The same frames from a NIC with receive checksum offload (`CHECKSUM_UNNECESSARY`):
    // GRO then trusts the device instead of summing every segment in software.
    g.bench_function("netcore_gro_rx_csum_offloaded", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            let mut gro = Gro::new(GroParams::default(), Features::default());
            out.clear();
            let skbs = (0..batch.len()).filter_map(|row| {
                let mut skb = Skb::from_batch(&batch, row)?;
                skb.meta.ip_summed = IpSummed::Unnecessary { level: 0 };
                Some(skb)
            });
            gro.run(skbs, &mut out);
            black_box(out.len())
        });
    });
    g.bench_function("floor_header_walk", |b| {
        b.iter(|| {
            // The floor: read each frame's IPv4 ID, TCP sequence and flags, and compare with
            // the previous one, as the cheapest possible flow-matching walk does.
            let mut acc = 0u64;
            let mut prev = 0u32;
            for f in batch.packets() {
                let seq = u32::from_be_bytes([f[38], f[39], f[40], f[41]]);
                acc += u64::from(seq.wrapping_sub(prev)) ^ u64::from(f[47]) ^ u64::from(f[19]);
                prev = seq;
            }
            black_box(acc)
        });
    });
    g.finish();
}

fn gso_segment(c: &mut Criterion) {
    let mut big = bulk(1, 65535 - 40).remove(0);
    big[16..18].copy_from_slice(&65535u16.to_be_bytes());
    let skb = gso::skb_from_frame(&big, &FrameSpec::mss(1448)).expect("a valid super-packet");
    let mut g = c.benchmark_group("gso_64k_tcpv4");
    g.throughput(Throughput::Bytes(big.len() as u64));
    for (name, opts) in [
        ("software_checksums", SegmentOptions::default()),
        (
            "checksums_offloaded",
            SegmentOptions {
                csum_offload: true,
                ..SegmentOptions::default()
            },
        ),
    ] {
        let mut out = Vec::with_capacity(64);
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                gso::segment_into(&skb, &opts, &mut out).expect("segments");
                black_box(out.len())
            });
        });
    }
    g.bench_function("floor_copy", |b| {
        // The floor: copy the payload into 1448-byte pieces with a header each.
        let mut out = vec![0u8; big.len() + 46 * 54];
        b.iter(|| {
            let mut at = 0;
            for chunk in big[54..].chunks(1448) {
                out[at..at + 54].copy_from_slice(&big[..54]);
                out[at + 54..at + 54 + chunk.len()].copy_from_slice(chunk);
                at += 54 + chunk.len();
            }
            black_box(at)
        });
    });
    g.finish();
}

criterion_group!(benches, gro, gso_segment);
criterion_main!(benches);
