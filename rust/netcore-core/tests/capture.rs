//! Integration tests of capture I/O: both sources agree, round trips, hostile inputs.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use netcore_core::capture::pcap::PcapHeader;
use netcore_core::{
    Batch, CaptureErrorKind, CaptureReader, CaptureWriter, Error, Interface, LinkType,
    TsResolution, WriterOptions,
};
use proptest::prelude::*;

/// A `Write` into a shared vector, so tests can read back what a writer wrote.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader that hands out at most `step` bytes per call.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

type Row = (i64, u32, u32, u32, u16, Vec<u8>, Vec<String>);

fn rows(mut r: CaptureReader, batch: usize) -> (Vec<Row>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match r.next_batch(batch) {
            Ok(Some(b)) => out.extend(rows_of(&b)),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn rows_of(b: &Batch) -> Vec<Row> {
    (0..b.len())
        .map(|i| {
            let comments = b.comments_of(i).map(String::from).collect();
            (
                b.ts[i],
                b.caplen[i],
                b.wirelen[i],
                b.ifindex[i],
                b.linktype[i],
                b.packet(i).unwrap().to_vec(),
                comments,
            )
        })
        .collect()
}

fn write_pcapng(packets: &[(u32, i64, Vec<u8>, Vec<String>)], ifaces: &[Interface]) -> Vec<u8> {
    let sink = Shared::default();
    let mut opts = WriterOptions::pcapng(LinkType::ETHERNET);
    opts.interfaces = ifaces.to_vec();
    let mut w = CaptureWriter::new(Box::new(sink.clone()), "mem", opts).unwrap();
    for (ifindex, ts, data, comments) in packets {
        w.write_packet(
            *ifindex,
            *ts,
            data,
            data.len() as u32 + 4,
            comments.iter().map(String::as_str),
        )
        .unwrap();
    }
    w.close().unwrap();
    drop(w);
    sink.0.lock().unwrap().clone()
}

fn interfaces() -> Vec<Interface> {
    let mut a = Interface::new(LinkType::ETHERNET);
    a.ts_resolution = TsResolution::NANO;
    a.name = Some("eth0".into());
    let mut b = Interface::new(LinkType::RAW);
    b.ts_resolution = TsResolution::MICRO;
    let mut c = Interface::new(LinkType::LINUX_SLL2);
    c.ts_resolution = TsResolution::Pow2(30);
    vec![a, b, c]
}

fn packet_strategy() -> impl Strategy<Value = (u32, i64, Vec<u8>, Vec<String>)> {
    (
        0u32..3,
        0i64..4_000_000_000_000_000_000,
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec("[a-z ]{0,12}", 0..2),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Memory and stream sources give the same packets, whatever the read sizes and batch.
    #[test]
    fn stream_equals_memory(packets in proptest::collection::vec(packet_strategy(), 0..40), step in 1usize..200, batch in 1usize..50) {
        let bytes = write_pcapng(&packets, &interfaces());
        let (whole, e1) = rows(CaptureReader::from_bytes(Arc::new(bytes.clone()), "mem", true).unwrap(), batch);
        let trickle = Trickle { data: bytes, pos: 0, step };
        let (streamed, e2) = rows(CaptureReader::from_reader(Box::new(trickle), "stream", true).unwrap(), batch);
        prop_assert!(e1.is_none() && e2.is_none());
        prop_assert_eq!(&whole, &streamed);
        prop_assert_eq!(whole.len(), packets.len());
        for (row, (ifindex, ts, data, comments)) in whole.iter().zip(&packets) {
            prop_assert_eq!(row.3, *ifindex);
            prop_assert_eq!(&row.5, data);
            prop_assert_eq!(&row.6, comments);
            let expect_ts = match ifindex {
                0 => *ts,
                1 => ts - ts % 1000,
                _ => {
                    // 2^-30 s units: floor on writing, floor on reading, within one unit.
                    let diff = ts - row.0;
                    prop_assert!((0..2).contains(&diff), "ts {} read back as {}", ts, row.0);
                    row.0
                }
            };
            prop_assert_eq!(row.0, expect_ts);
        }
    }

    /// Any bytes at all: no panic, in either mode and either source, and lenient reading
    /// delivers at least what strict reading delivered before its error.
    #[test]
    fn arbitrary_bytes_never_panic(mut data in proptest::collection::vec(any::<u8>(), 0..600), kind in 0u8..3) {
        // Steer some inputs to valid magics so the parsers get exercised.
        match kind {
            0 if data.len() >= 4 => data[..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes()),
            1 if data.len() >= 12 => {
                data[..4].copy_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
                data[8..12].copy_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
            }
            _ => {}
        }
        let opened = CaptureReader::from_bytes(Arc::new(data.clone()), "fuzz", true);
        if let Ok(r) = opened {
            let (strict_rows, _) = rows(r, 4);
            let lenient = CaptureReader::from_bytes(Arc::new(data.clone()), "fuzz", false).unwrap();
            let (lenient_rows, err) = rows(lenient, 3);
            prop_assert!(err.is_none(), "lenient reading raised {:?}", err);
            prop_assert!(lenient_rows.len() >= strict_rows.len());
            prop_assert_eq!(&lenient_rows[..strict_rows.len()], &strict_rows[..]);
            let trickle = Trickle { data, pos: 0, step: 7 };
            let streamed = CaptureReader::from_reader(Box::new(trickle), "fuzz", false).unwrap();
            let (streamed_rows, _) = rows(streamed, 5);
            prop_assert_eq!(streamed_rows, lenient_rows);
        }
    }
}

#[test]
fn pcap_round_trip_is_byte_identical() {
    let mut header = PcapHeader::new(LinkType::ETHERNET, 128, false);
    header.big_endian = true;
    header.linktype_field = 0x0400_0001;
    let sink = Shared::default();
    let mut w =
        CaptureWriter::new(Box::new(sink.clone()), "mem", WriterOptions::pcap(header)).unwrap();
    for i in 0..20u8 {
        w.write_packet(
            0,
            i64::from(i) * 1_234_567_000,
            &vec![i; usize::from(i) + 1],
            1000,
            [],
        )
        .unwrap();
    }
    w.close().unwrap();
    let original = sink.0.lock().unwrap().clone();
    let mut r = CaptureReader::from_bytes(Arc::new(original.clone()), "mem", true).unwrap();
    let again = Shared::default();
    let mut w2 =
        CaptureWriter::new(Box::new(again.clone()), "mem2", WriterOptions::pcap(header)).unwrap();
    while let Some(b) = r.next_batch(6).unwrap() {
        w2.write_batch(&b, None).unwrap();
    }
    w2.close().unwrap();
    assert_eq!(*again.0.lock().unwrap(), original);
}

#[test]
fn hostile_length_in_a_stream_is_refused_without_allocating_it() {
    let mut data = Vec::new();
    PcapHeader::new(LinkType::ETHERNET, 65535, false).emit(&mut data);
    data.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    data.extend_from_slice(&u32::MAX.to_le_bytes());
    data.extend_from_slice(&u32::MAX.to_le_bytes());
    let r = CaptureReader::from_reader(Box::new(io::Cursor::new(data)), "hostile", true).unwrap();
    let (got, err) = rows(r, 64);
    assert!(got.is_empty());
    match err {
        Some(Error::Capture(e)) => {
            assert_eq!(e.offset, 24 + 8);
            assert!(matches!(e.kind, CaptureErrorKind::AbsurdLength { .. }));
        }
        other => panic!("expected an absurd-length error, got {other:?}"),
    }
}

#[test]
fn timestamp_resolutions() {
    assert_eq!(TsResolution::MICRO.to_ns(1_500_000), 1_500_000_000);
    assert_eq!(TsResolution::Pow10(12).to_ns(1_500_000), 1_500);
    assert_eq!(TsResolution::Pow2(10).to_ns(1024 * 3), 3_000_000_000);
    assert_eq!(TsResolution::NANO.to_ns(u64::MAX), i64::MAX);
    assert_eq!(TsResolution::MICRO.from_ns(1_999), 1);
    assert_eq!(TsResolution::Pow2(10).from_ns(3_000_000_000), 3072);
    assert_eq!(TsResolution::from_option(0x94), TsResolution::Pow2(20));
    assert_eq!(TsResolution::Pow2(20).to_option(), 0x94);
}
