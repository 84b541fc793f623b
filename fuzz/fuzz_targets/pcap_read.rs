//! Any bytes through the capture reader, from memory and as a stream, strict and lenient.
//!
//! The first input byte steers: bits 0-2 the batch size, bits 3-4 how many bytes each stream
//! `read` hands out (1, 7, 4096, all), bits 5-6 which pcap file header goes in front of the rest
//! (none, little-endian µs, big-endian ns, little-endian "modified"), bit 7 whether the input is
//! also read gzip-compressed. Checks: no panic, consistent batches and counters, identical
//! packets (and lenient-mode problems) from both sources, strict packets a prefix of lenient ones.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcore_fuzz::{BATCHES, read_both_ways, read_gzip};

const CHUNKS: [usize; 4] = [1, 7, 4096, usize::MAX];

/// A 24-byte pcap file header: version 2.4, snaplen 65535, Ethernet.
fn pcap_header(magic: u32, be: bool) -> Vec<u8> {
    let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    [
        &w32(magic)[..],
        &w16(2),
        &w16(4),
        &w32(0),
        &w32(0),
        &w32(65_535),
        &w32(1),
    ]
    .concat()
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let batch = BATCHES[usize::from(control & 7)];
    let chunk = CHUNKS[usize::from((control >> 3) & 3)];
    let mut input = match (control >> 5) & 3 {
        0 => Vec::new(),
        1 => pcap_header(0xa1b2_c3d4, false),
        2 => pcap_header(0xa1b2_3c4d, true),
        _ => pcap_header(0xa1b2_cd34, false),
    };
    input.extend_from_slice(rest);
    read_both_ways(&input, batch, chunk);
    if control & 0x80 != 0 {
        read_gzip(&input, batch, chunk);
    }
});
