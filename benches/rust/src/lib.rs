//! Native floors and shared helpers of netcore's capture benchmarks.
//!
//! A *floor* is the least work that reading a capture can take: one loop over the records that
//! reads each record's captured length and jumps over its bytes, with no validation, no columns
//! and no batches. A reader that walks the same memory record by record cannot beat it; the
//! benchmarks report how close [`netcore_core::CaptureReader`] comes.
//!
//! The plain floor waits for one cache miss per record on inputs larger than the caches (the next
//! record's address is in the current one). The `*_prefetch` variants stream the memory into the
//! cache ahead of the loop: what a reader that prefetches could reach.

pub mod ratios;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use netcore_core::{CaptureReader, CaptureWriter, LinkType, WriterOptions};

/// What a pass over a capture counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Packets seen.
    pub packets: u64,
    /// Sum of their captured lengths.
    pub caplen_sum: u64,
}

#[inline]
fn u32_at(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// Prefetches the cache lines of `data` from `*cursor` up to `until` (exclusive) into L1
/// (x86-64; elsewhere it only moves the cursor).
#[inline]
pub fn prefetch_to(data: &[u8], cursor: &mut usize, until: usize) {
    let until = until.min(data.len());
    while *cursor < until {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint that never faults nor reads memory architecturally; the
        // address is inside `data` anyway.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(data.as_ptr().wrapping_add(*cursor).cast::<i8>());
        }
        *cursor += 64;
    }
}

/// The pcap floor: sums the captured lengths of every record of a classic pcap file.
///
/// Returns `None` when `data` is not pcap. Stops at the first record that does not fit.
#[must_use]
pub fn floor_pcap(data: &[u8]) -> Option<Tally> {
    walk_pcap::<false>(data, 0)
}

/// [`floor_pcap`] plus a software prefetch that streams the file into the cache `distance` bytes
/// ahead of the record being read (x86-64; elsewhere the same as [`floor_pcap`]).
///
/// The plain loop waits for one cache miss per record, since the next record's address is in the
/// current one; prefetching ahead turns that chain of misses into a sequential stream.
#[must_use]
pub fn floor_pcap_prefetch(data: &[u8], distance: usize) -> Option<Tally> {
    walk_pcap::<true>(data, distance)
}

#[inline]
fn walk_pcap<const PREFETCH: bool>(data: &[u8], distance: usize) -> Option<Tally> {
    let magic = u32_at(data, 0, false)?;
    let (big_endian, record_header) = match (magic, magic.swap_bytes()) {
        (0xa1b2_c3d4 | 0xa1b2_3c4d, _) => (false, 16),
        (0xa1b2_cd34, _) => (false, 24),
        (_, 0xa1b2_c3d4 | 0xa1b2_3c4d) => (true, 16),
        (_, 0xa1b2_cd34) => (true, 24),
        _ => return None,
    };
    let mut t = Tally::default();
    let mut pos = 24usize;
    let mut ahead = 0usize;
    while let Some(caplen) = u32_at(data, pos + 8, big_endian) {
        if PREFETCH {
            prefetch_to(data, &mut ahead, pos + distance);
        }
        let next = pos + record_header + caplen as usize;
        if next > data.len() {
            break;
        }
        t.packets += 1;
        t.caplen_sum += u64::from(caplen);
        pos = next;
    }
    Some(t)
}

/// The pcapng floor: sums the captured lengths of every Enhanced Packet Block.
///
/// Returns `None` when `data` is not pcapng. Byte order comes from the first section header;
/// stops at the first block whose length is impossible.
#[must_use]
pub fn floor_pcapng(data: &[u8]) -> Option<Tally> {
    walk_pcapng::<false>(data, 0)
}

/// [`floor_pcapng`] with a software prefetch, as [`floor_pcap_prefetch`].
#[must_use]
pub fn floor_pcapng_prefetch(data: &[u8], distance: usize) -> Option<Tally> {
    walk_pcapng::<true>(data, distance)
}

#[inline]
fn walk_pcapng<const PREFETCH: bool>(data: &[u8], distance: usize) -> Option<Tally> {
    if u32_at(data, 0, false)? != 0x0a0d_0d0a {
        return None;
    }
    let big_endian = u32_at(data, 8, false)? != 0x1a2b_3c4d;
    let mut t = Tally::default();
    let mut pos = 0usize;
    let mut ahead = 0usize;
    while let (Some(kind), Some(len)) = (
        u32_at(data, pos, big_endian),
        u32_at(data, pos + 4, big_endian),
    ) {
        if PREFETCH {
            prefetch_to(data, &mut ahead, pos + distance);
        }
        let len = len as usize;
        if len < 12 || pos + len > data.len() {
            break;
        }
        if kind == 6 {
            let caplen = u32_at(data, pos + 20, big_endian)?;
            t.packets += 1;
            t.caplen_sum += u64::from(caplen);
        }
        pos += len;
    }
    Some(t)
}

/// The floor of whichever format `data` holds; with a prefetch when `prefetch` is not 0.
#[must_use]
pub fn floor(data: &[u8], prefetch: usize) -> Option<Tally> {
    if prefetch == 0 {
        floor_pcap(data).or_else(|| floor_pcapng(data))
    } else {
        floor_pcap_prefetch(data, prefetch).or_else(|| floor_pcapng_prefetch(data, prefetch))
    }
}

/// Drains a reader in batches of `batch` packets, summing captured lengths.
pub fn drain(reader: &mut CaptureReader, batch: usize) -> netcore_core::Result<Tally> {
    let mut t = Tally::default();
    while let Some(b) = reader.next_batch(batch)? {
        t.packets += b.len() as u64;
        t.caplen_sum += b.caplen.iter().map(|&c| u64::from(c)).sum::<u64>();
    }
    Ok(t)
}

/// Bytes shared by reference count, readable as a slice (for `from_bytes` and `Cursor`).
#[derive(Debug, Clone, Default)]
pub struct SharedBytes(pub Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A `Write` into a vector that stays reachable after the writer that owns it is dropped.
#[derive(Debug, Clone, Default)]
pub struct SharedVec(pub Arc<Mutex<Vec<u8>>>);

impl SharedVec {
    /// Takes the bytes written so far.
    #[must_use]
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for SharedVec {
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

/// Captured sizes of an IMIX-like mix, in a fixed order of 12 (7 small, 4 medium, 1 large).
pub const IMIX: [usize; 12] = [60, 590, 60, 60, 590, 60, 1514, 60, 590, 60, 60, 590];

/// A capture of `packets` Ethernet frames of IMIX sizes, written by [`CaptureWriter`] in memory.
///
/// The frames are not real protocol traffic (their bytes are a pattern): the reader does not
/// look inside them, so only their sizes matter here.
pub fn synthetic_capture(opts: WriterOptions, packets: usize) -> netcore_core::Result<Vec<u8>> {
    let sink = SharedVec::default();
    let mut w = CaptureWriter::new(Box::new(sink.clone()), "<memory>", opts)?;
    let frame: Vec<u8> = (0..1514u32)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect();
    let mut ts = 1_700_000_000_000_000_000i64;
    for i in 0..packets {
        let len = IMIX[i % IMIX.len()];
        ts += 3_000 + (i as i64 % 7) * 1_000;
        w.write_packet(0, ts, &frame[..len], len as u32, [])?;
    }
    w.close()?;
    drop(w);
    Ok(sink.take())
}

/// Options of a pcap writer (Ethernet, microseconds) and of a pcapng one (Ethernet, ns).
#[must_use]
pub fn writer_options(pcapng: bool) -> WriterOptions {
    if pcapng {
        WriterOptions::pcapng(LinkType::ETHERNET)
    } else {
        let h = netcore_core::capture::pcap::PcapHeader::new(LinkType::ETHERNET, 262_144, false);
        WriterOptions::pcap(h)
    }
}

/// Command-line options shared by the benchmark binaries.
#[derive(Debug, Clone)]
pub struct Args {
    /// The capture file.
    pub path: String,
    /// Times to repeat the measurement (the best is reported).
    pub repeat: usize,
    /// Packets per batch (readers only).
    pub batch: usize,
    /// Prefetch distance in bytes, 0 for none (floor only).
    pub prefetch: usize,
}

impl Args {
    /// Parses `PATH [--repeat N] [--batch N] [--prefetch BYTES]` from the process arguments.
    pub fn parse(usage: &str) -> Result<Self, String> {
        let mut path = None;
        let mut repeat = 5;
        let mut batch = 4096;
        let mut prefetch = 0;
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut number = |name: &str| -> Result<usize, String> {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .ok_or_else(|| format!("{name} needs a positive number\n{usage}"))
            };
            match a.as_str() {
                "--repeat" => repeat = number("--repeat")?,
                "--batch" => batch = number("--batch")?,
                "--prefetch" => prefetch = number("--prefetch")?,
                "-h" | "--help" => return Err(usage.to_string()),
                _ if path.is_none() && !a.starts_with('-') => path = Some(a),
                _ => return Err(format!("unexpected argument {a:?}\n{usage}")),
            }
        }
        let path = path.ok_or_else(|| usage.to_string())?;
        Ok(Args {
            path,
            repeat,
            batch,
            prefetch,
        })
    }
}

/// Runs `f` `repeat` times (at least once); returns its last result and every run's duration.
pub fn timed<T, E>(
    repeat: usize,
    mut f: impl FnMut() -> Result<T, E>,
) -> Result<(T, Vec<Duration>), E> {
    let mut runs = Vec::with_capacity(repeat);
    let mut once = || -> Result<T, E> {
        let start = Instant::now();
        let v = std::hint::black_box(f()?);
        runs.push(start.elapsed());
        Ok(v)
    };
    let mut last = once()?;
    for _ in 1..repeat {
        last = once()?;
    }
    Ok((last, runs))
}

/// One line of JSON describing a measurement, as the Python driver reads it.
#[must_use]
pub fn report(tool: &str, path: &str, batch: Option<usize>, t: Tally, runs: &[Duration]) -> String {
    let ns: Vec<u128> = runs.iter().map(Duration::as_nanos).collect();
    let best = ns.iter().copied().min().unwrap_or(0);
    let mut s = String::new();
    let _ = write!(
        s,
        "{{\"tool\": \"{tool}\", \"path\": \"{}\", \"packets\": {}, \"caplen_sum\": {}, \
         \"elapsed_ns\": {best}, \"runs_ns\": {ns:?}",
        json_escape(path),
        t.packets,
        t.caplen_sum,
    );
    if let Some(b) = batch {
        let _ = write!(s, ", \"batch\": {b}");
    }
    s.push('}');
    s
}

/// `s` escaped for a JSON string literal (quotes, backslashes and control characters).
#[must_use]
pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Writes `line` and a newline to standard output.
pub fn emit(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn floors_agree_with_the_reader() {
        for pcapng in [false, true] {
            let bytes = synthetic_capture(writer_options(pcapng), 1000).unwrap();
            let f = floor(&bytes, 0).unwrap();
            assert_eq!(floor(&bytes, 4096), Some(f));
            let mut r = CaptureReader::from_bytes(Arc::new(bytes), "mem", true).unwrap();
            let t = drain(&mut r, 64).unwrap();
            assert_eq!(f, t);
            assert_eq!(t.packets, 1000);
        }
    }
}
