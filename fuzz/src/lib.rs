//! Shared checks of the fuzz targets: drain a reader while checking every batch's invariants,
//! and compare what two sources of the same bytes give.

use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

use netcore_core::{Batch, CaptureReader, Problem};

/// One packet as a reader returned it, independent of batch boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub ts: i64,
    pub caplen: u32,
    pub wirelen: u32,
    pub ifindex: u32,
    pub linktype: u16,
    pub data: Vec<u8>,
    pub comments: Vec<String>,
}

/// Everything a reader gave until its end or its first error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rows: Vec<Row>,
    /// The error that stopped the reader (its text), if any.
    pub error: Option<String>,
    /// Problems noted (lenient mode) when the reader stopped.
    pub problems: Vec<Problem>,
}

/// A pcap file header picked by the low two bits of `choice`: none, little-endian µs,
/// big-endian ns, little-endian "modified" (version 2.4, snaplen 65535, Ethernet).
#[must_use]
pub fn pcap_header(choice: u8) -> Vec<u8> {
    let (magic, be) = match choice & 3 {
        0 => return Vec::new(),
        1 => (0xa1b2_c3d4, false),
        2 => (0xa1b2_3c4d, true),
        _ => (0xa1b2_cd34, false),
    };
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

/// Batch sizes the targets pick from with a control byte.
pub const BATCHES: [usize; 8] = [1, 2, 3, 7, 64, 100, 4096, 65_536];

/// Checks the invariants of one batch and appends its packets to `rows`.
///
/// # Panics
/// When a batch is inconsistent: that is the bug the fuzzer looks for.
pub fn check_batch(b: &Batch, max: usize, first_index: u64, rows: &mut Vec<Row>) {
    let n = b.len();
    assert!(n >= 1, "a batch is never empty");
    assert!(
        n <= max.max(1),
        "batch of {n} packets for a maximum of {max}"
    );
    assert_eq!(b.offset.len(), n);
    assert_eq!(b.caplen.len(), n);
    assert_eq!(b.wirelen.len(), n);
    assert_eq!(b.ifindex.len(), n);
    assert_eq!(b.linktype.len(), n);
    assert_eq!(b.first_index, first_index, "first_index out of step");
    let data = b.data.as_slice();
    for i in 0..n {
        let start = usize::try_from(b.offset[i]).expect("offset fits usize");
        let end = start + b.caplen[i] as usize;
        assert!(
            end <= data.len(),
            "packet {i} ({start}..{end}) outside batch data of {}",
            data.len()
        );
        assert_eq!(b.packet(i), Some(&data[start..end]));
    }
    for (row, _) in &b.comments {
        assert!(
            (*row as usize) < n,
            "comment for row {row} of a batch of {n}"
        );
    }
    for i in 0..n {
        rows.push(Row {
            ts: b.ts[i],
            caplen: b.caplen[i],
            wirelen: b.wirelen[i],
            ifindex: b.ifindex[i],
            linktype: b.linktype[i],
            data: b.packet(i).map(<[u8]>::to_vec).unwrap_or_default(),
            comments: b.comments_of(i).map(str::to_string).collect(),
        });
    }
}

/// Drains `reader` in batches of `batch`, checking every batch and the reader's counters.
///
/// # Panics
/// When a batch or the counters are inconsistent, or the reader does not stop after an error.
#[must_use]
pub fn drain(mut reader: CaptureReader, batch: usize) -> Outcome {
    let mut rows = Vec::new();
    let mut error = None;
    // Every call either returns packets, or ends the capture: bounded by the input size.
    loop {
        match reader.next_batch(batch) {
            Ok(Some(b)) => check_batch(&b, batch, rows.len() as u64, &mut rows),
            Ok(None) => break,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    if error.is_some() {
        // After an error the reader is finished.
        assert!(
            matches!(reader.next_batch(batch), Ok(None)),
            "reader goes on after an error"
        );
    } else {
        assert!(
            matches!(reader.next_batch(batch), Ok(None)),
            "reader restarts after its end"
        );
    }
    let info = reader.info();
    assert_eq!(info.packets, rows.len() as u64, "info.packets");
    let caplen: u64 = rows.iter().map(|r| u64::from(r.caplen)).sum();
    assert_eq!(info.caplen_bytes, caplen, "info.caplen_bytes");
    let wire: u64 = rows.iter().map(|r| u64::from(r.wirelen)).sum();
    assert_eq!(info.wire_bytes, wire, "info.wire_bytes");
    if let Some((lo, hi)) = info.ts_range {
        assert!(lo <= hi);
        assert!(rows.iter().all(|r| (lo..=hi).contains(&r.ts)));
    } else {
        assert!(rows.is_empty(), "packets but no timestamp range");
    }
    Outcome {
        rows,
        error,
        problems: info.problems.clone(),
    }
}

/// A reader that hands out at most `chunk` bytes per `read` call, so that the stream reader
/// refills its buffer at every possible boundary.
pub struct Trickle {
    data: Arc<Vec<u8>>,
    pos: usize,
    chunk: usize,
}

impl Trickle {
    #[must_use]
    pub fn new(data: Arc<Vec<u8>>, chunk: usize) -> Self {
        Trickle {
            data,
            pos: 0,
            chunk: chunk.max(1),
        }
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Bytes shared by reference count, readable as a slice.
#[derive(Debug, Clone)]
pub struct Shared(pub Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Reads `bytes` from memory and as a stream (handed out `chunk` bytes at a time), in strict and
/// in lenient mode, and checks that the two sources agree and that strict mode returns a prefix
/// of what lenient mode returns.
///
/// # Panics
/// When they disagree or a batch is inconsistent.
pub fn read_both_ways(bytes: &[u8], batch: usize, chunk: usize) {
    let shared = Arc::new(bytes.to_vec());
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    let mut strict_rows = None;
    for strict in [true, false] {
        let mem = CaptureReader::from_bytes(Arc::new(Shared(shared.clone())), "fuzz", strict)
            .map(|r| drain(r, batch));
        let stream = CaptureReader::from_reader(
            Box::new(Trickle::new(shared.clone(), chunk)),
            "fuzz",
            strict,
        )
        .map(|r| drain(r, batch));
        if gzip {
            // The stream reader decompresses; the memory reader sees gzip bytes: nothing to
            // compare, but both must have run without panicking.
            continue;
        }
        match (&mem, &stream) {
            (Ok(m), Ok(s)) => {
                assert_eq!(
                    m.rows, s.rows,
                    "memory and stream sources differ (strict={strict})"
                );
                assert_eq!(
                    m.error, s.error,
                    "memory and stream errors differ (strict={strict})"
                );
                if !strict {
                    assert_eq!(
                        m.problems, s.problems,
                        "memory and stream problems differ (lenient)"
                    );
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "open errors differ"),
            (a, b) => panic!(
                "one source opens, the other does not (strict={strict}): memory {:?}, stream {:?}",
                a.as_ref()
                    .map(|o| o.rows.len())
                    .map_err(ToString::to_string),
                b.as_ref()
                    .map(|o| o.rows.len())
                    .map_err(ToString::to_string),
            ),
        }
        match (strict, mem) {
            (true, Ok(m)) => strict_rows = Some(m.rows),
            (false, Ok(m)) => {
                if let Some(strict) = &strict_rows {
                    assert!(
                        strict.len() <= m.rows.len() && m.rows[..strict.len()] == strict[..],
                        "strict mode's packets are not a prefix of lenient mode's"
                    );
                }
            }
            _ => {}
        }
    }
}

/// Gzip-compresses `bytes` (for the stream reader's decompression path).
///
/// # Panics
/// Never in practice: compressing into a vector cannot fail.
#[must_use]
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec")
}

/// Checks that the gzip-compressed `bytes` read as a stream give what `bytes` give from memory.
///
/// # Panics
/// When they differ.
pub fn read_gzip(bytes: &[u8], batch: usize, chunk: usize) {
    let plain =
        CaptureReader::from_bytes(Arc::new(Shared(Arc::new(bytes.to_vec()))), "fuzz", false)
            .map(|r| drain(r, batch));
    let packed = Arc::new(gzip(bytes));
    let stream = CaptureReader::from_reader(Box::new(Trickle::new(packed, chunk)), "fuzz", false)
        .map(|r| drain(r, batch));
    match (plain, stream) {
        (Ok(p), Ok(s)) => assert_eq!(p.rows, s.rows, "gzip stream differs from plain memory"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "plain {:?} vs gzip {:?}",
            a.map(|o| o.rows.len()).map_err(|e| e.to_string()),
            b.map(|o| o.rows.len()).map_err(|e| e.to_string())
        ),
    }
}

/// A `Write` into a vector that outlives the writer owning it.
#[derive(Debug, Clone, Default)]
pub struct SharedVec(pub Arc<Mutex<Vec<u8>>>);

impl SharedVec {
    #[must_use]
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl io::Write for SharedVec {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
