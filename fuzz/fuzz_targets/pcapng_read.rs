//! Bytes steered to be pcapng through the capture reader, from memory and as a stream, strict
//! and lenient: the input usually starts with a Section Header Block so that the fuzzer spends
//! its time on the blocks after it.
//!
//! The first input byte steers: bits 0-2 the batch size, bits 3-4 how many bytes each stream
//! `read` hands out (1, 7, 4096, all), bits 5-6 what goes in front of the rest (nothing, a
//! little-endian SHB, a big-endian SHB, a little-endian SHB and an Ethernet IDB with nanosecond
//! timestamps), bit 7 whether the input is also read gzip-compressed. Checks as `pcap_read`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcore_fuzz::{BATCHES, read_both_ways, read_gzip};

const CHUNKS: [usize; 4] = [1, 7, 4096, usize::MAX];

fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A 28-byte Section Header Block (version 1.0, section length unknown, no options).
fn shb(be: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(28);
    put32(&mut out, 0x0a0d_0d0a, be);
    put32(&mut out, 28, be);
    put32(&mut out, 0x1a2b_3c4d, be);
    put16(&mut out, 1, be);
    put16(&mut out, 0, be);
    out.extend_from_slice(&[0xff; 8]);
    put32(&mut out, 28, be);
    out
}

/// An Interface Description Block: Ethernet, snaplen 0, `if_tsresol` 9 (ns).
fn idb_ns() -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    put32(&mut out, 1, false);
    put32(&mut out, 32, false);
    put16(&mut out, 1, false);
    put16(&mut out, 0, false);
    put32(&mut out, 0, false);
    out.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0]); // if_tsresol = 9, padded
    out.extend_from_slice(&[0; 4]); // opt_endofopt
    put32(&mut out, 32, false);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let batch = BATCHES[usize::from(control & 7)];
    let chunk = CHUNKS[usize::from((control >> 3) & 3)];
    let mut input = match (control >> 5) & 3 {
        0 => Vec::new(),
        1 => shb(false),
        2 => shb(true),
        _ => [shb(false), idb_ns()].concat(),
    };
    input.extend_from_slice(rest);
    read_both_ways(&input, batch, chunk);
    if control & 0x80 != 0 {
        read_gzip(&input, batch, chunk);
    }
});
