//! Any bytes through the one-pass reader (`demux::read_dissected`, which dissects and verifies
//! each packet as its record is framed) against reading first and dissecting after.
//!
//! The first input byte steers: bits 0-2 the batch size, bits 3-4 which pcap file header goes
//! in front of the rest (none, little-endian µs, big-endian ns, little-endian "modified"),
//! bit 5 strict or lenient reading, bit 6 whether checksums are verified. Checks: no panic, and
//! the same batches, columns, checksums and errors both ways.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use netcore_core::CaptureReader;
use netcore_core::demux::{self, Tables};
use netcore_fuzz::{BATCHES, pcap_header};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let batch = BATCHES[usize::from(control & 7)];
    let strict = control & 0x20 != 0;
    let verify = control & 0x40 != 0;
    let mut input = pcap_header(control >> 3);
    input.extend_from_slice(rest);
    let input = Arc::new(input);
    let open = || CaptureReader::from_bytes(input.clone(), "fuzz", strict);
    let (Ok(mut one), Ok(mut two)) = (open(), open()) else {
        return;
    };
    let tables = Tables::new();
    loop {
        let fused = demux::read_dissected(&mut one, batch, &tables, verify);
        let plain = two.next_batch(batch);
        match (fused, plain) {
            (Ok(Some(d)), Ok(Some(b))) => {
                assert_eq!(d.batch.offset, b.offset);
                assert_eq!(d.batch.caplen, b.caplen);
                assert_eq!(d.batch.ts, b.ts);
                let cols = demux::dissect_batch(&b, &tables);
                assert_eq!(format!("{:?}", d.columns), format!("{cols:?}"));
                let sums = verify.then(|| demux::verify_batch(&b, &cols));
                assert_eq!(format!("{:?}", d.checksums), format!("{sums:?}"));
            }
            (Ok(None), Ok(None)) => break,
            (Err(e), Err(f)) => {
                assert_eq!(e.to_string(), f.to_string());
                break;
            }
            (fused, plain) => panic!(
                "one pass and two passes differ: {:?} vs {:?}",
                fused.map(|d| d.map(|d| d.batch.len())),
                plain.map(|b| b.map(|b| b.len()))
            ),
        }
    }
});
