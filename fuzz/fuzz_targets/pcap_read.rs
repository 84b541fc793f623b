//! Any bytes through the capture reader, from memory and as a stream, strict and lenient.
//!
//! The first input byte steers: bits 0-2 the batch size, bits 3-4 how many bytes each stream
//! `read` hands out (1, 7, 4096, all), bits 5-6 which pcap file header goes in front of the rest
//! (none, little-endian µs, big-endian ns, little-endian "modified"), bit 7 whether the input is
//! also read gzip-compressed. Checks: no panic, consistent batches and counters, identical
//! packets (and lenient-mode problems) from both sources, strict packets a prefix of lenient ones.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcore_fuzz::{BATCHES, pcap_header, read_both_ways, read_gzip};

const CHUNKS: [usize; 4] = [1, 7, 4096, usize::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let batch = BATCHES[usize::from(control & 7)];
    let chunk = CHUNKS[usize::from((control >> 3) & 3)];
    let mut input = pcap_header(control >> 5);
    input.extend_from_slice(rest);
    read_both_ways(&input, batch, chunk);
    if control & 0x80 != 0 {
        read_gzip(&input, batch, chunk);
    }
});
