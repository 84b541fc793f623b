//! The capture reader: one loop over records, fed by a memory map or by a stream buffer.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use super::pcap::{PcapHeader, RecordStep};
use super::pcapng::{BlockError, BlockStep, PcapngParser, SHB_TYPE};
use super::{CaptureFormat, CaptureInfo, Interface, LinkType, MAX_RECORD, Problem, TsResolution};
use crate::batch::{Batch, Bytes};
use crate::error::{CaptureError, CaptureErrorKind, Error, Result};

/// Size of a stream reader's buffer; grows only when a batch needs more.
const CHUNK: usize = 4 << 20;

/// How to read a capture.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Stop with an error at the first fault (default). When false, skip what is broken, keep
    /// every good record, and describe what was skipped in [`CaptureInfo::problems`].
    pub strict: bool,
    /// Map regular files into memory (default). When false, read them through a buffer.
    pub mmap: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            strict: true,
            mmap: true,
        }
    }
}

type Shared = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A stream and the buffer that holds its unread bytes.
struct Stream {
    input: Box<dyn Read + Send>,
    buf: Arc<Vec<u8>>,
    /// Bytes of `buf` holding data.
    end: usize,
    eof: bool,
    /// Offset in the input of `buf[0]`.
    base: u64,
}

impl Stream {
    fn new(input: Box<dyn Read + Send>) -> Self {
        Stream {
            input,
            buf: Arc::new(Vec::new()),
            end: 0,
            eof: false,
            base: 0,
        }
    }

    /// Makes room for `needed` bytes from `pos`, keeping the bytes from `keep` on, and returns
    /// how far positions in the buffer moved down. Call [`Stream::read_until`] next.
    ///
    /// The buffer is compacted in place when no batch still references it; otherwise the kept
    /// bytes (at most one batch being assembled) move to a new buffer and the old one stays
    /// with its batch.
    fn make_room(&mut self, keep: usize, pos: usize, needed: usize) -> usize {
        let kept = self.end - keep;
        let want = pos - keep + needed;
        let reuse = want <= self.buf.len() && Arc::get_mut(&mut self.buf).is_some();
        if reuse {
            if let Some(b) = Arc::get_mut(&mut self.buf) {
                b.copy_within(keep..self.end, 0);
            }
        } else {
            let mut fresh = vec![0u8; CHUNK.max(want.saturating_mul(2))];
            fresh[..kept].copy_from_slice(&self.buf[keep..self.end]);
            self.buf = Arc::new(fresh);
        }
        self.base += keep as u64;
        self.end = kept;
        keep
    }

    /// Reads until the buffer holds `want` bytes or the input ends.
    fn read_until(&mut self, want: usize) -> io::Result<()> {
        // After `make_room` the buffer is referenced by this stream alone and holds `want`.
        let Some(b) = Arc::get_mut(&mut self.buf) else {
            return Ok(());
        };
        let want = want.min(b.len());
        while self.end < want && !self.eof {
            match self.input.read(&mut b[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads and counts everything left (lenient mode skipping the tail), in bounded memory.
    fn drain(&mut self) -> io::Result<u64> {
        self.eof = true;
        io::copy(&mut self.input, &mut io::sink())
    }
}

enum Source {
    /// The whole input in memory: a file mapping or bytes handed over.
    Whole(Shared),
    Stream(Stream),
}

enum Parser {
    Pcap(PcapHeader),
    Pcapng(PcapngParser),
}

/// A packet record framed by the parser.
struct Framed {
    len: usize,
    data_off: usize,
    caplen: u32,
    wirelen: u32,
    ts: i64,
    ifindex: u32,
    linktype: LinkType,
    comments: Vec<String>,
    odd_ts: bool,
}

/// One step of the parser, format-independent.
enum Step {
    Packet(Framed),
    Skip { len: usize, block_type: Option<u32> },
    NeedMore { needed: usize, what: &'static str },
}

impl Parser {
    #[inline]
    fn step(&mut self, buf: &[u8]) -> Result<Step, BlockError> {
        match self {
            Parser::Pcap(h) => match h.record(buf) {
                Ok(RecordStep::Packet {
                    len,
                    data_off,
                    caplen,
                    wirelen,
                    ts,
                    frac_overflow,
                }) => Ok(Step::Packet(Framed {
                    len,
                    data_off,
                    caplen,
                    wirelen,
                    ts,
                    ifindex: 0,
                    linktype: h.linktype(),
                    comments: Vec::new(),
                    odd_ts: frac_overflow,
                })),
                Ok(RecordStep::NeedMore { needed, what }) => Ok(Step::NeedMore { needed, what }),
                Err(kind) => Err(BlockError {
                    at: 8,
                    kind,
                    skip: None,
                }),
            },
            Parser::Pcapng(p) => match p.block(buf)? {
                BlockStep::Packet {
                    len,
                    data_off,
                    caplen,
                    wirelen,
                    ts,
                    ifindex,
                    linktype,
                    comments,
                } => Ok(Step::Packet(Framed {
                    len,
                    data_off,
                    caplen,
                    wirelen,
                    ts,
                    ifindex,
                    linktype,
                    comments,
                    odd_ts: false,
                })),
                BlockStep::Section { len } | BlockStep::Interface { len } => Ok(Step::Skip {
                    len,
                    block_type: None,
                }),
                BlockStep::Other { len, block_type } => Ok(Step::Skip {
                    len,
                    block_type: Some(block_type),
                }),
                BlockStep::NeedMore { needed, what } => Ok(Step::NeedMore { needed, what }),
            },
        }
    }
}

/// Reads pcap and pcapng captures batch by batch.
///
/// Packets in a batch point into the reader's memory: the file mapping, or the stream buffer of
/// the batch (kept alive by the batch). A fault stops a strict reader with a [`CaptureError`]
/// after every good packet before it has been returned; a lenient reader skips the faulty block
/// when its framing is intact, or the rest of the input when it is not, and records a [`Problem`].
pub struct CaptureReader {
    source: Source,
    /// Read position in the current memory (mapping or stream buffer).
    pos: usize,
    parser: Parser,
    strict: bool,
    info: CaptureInfo,
    done: bool,
    /// A fault found while a batch was being filled, raised on the next call.
    pending: Option<CaptureError>,
    /// A fault of the input stream itself (corrupt compression), reported where it cut.
    input_fault: Option<CaptureErrorKind>,
    /// Timestamps whose sub-second field was one second or more.
    pub odd_timestamps: u64,
    /// Buffer position up to which bytes have been prefetched.
    prefetched: usize,
}

impl CaptureReader {
    /// Opens a capture file: gzip is detected and decompressed as a stream; other files are
    /// mapped into memory (or buffered when `opts.mmap` is false).
    pub fn open(path: impl AsRef<Path>, opts: ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(|e| Error::io(&name, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&name, e))?;
        let mut head = [0u8; 2];
        let got = read_up_to(&mut file, &mut head).map_err(|e| Error::io(&name, e))?;
        let gzip = got == 2 && head == [0x1f, 0x8b];
        let regular = meta.is_file() && meta.len() > 0;
        if !gzip && regular && opts.mmap {
            // SAFETY: the mapping is read-only and private to this reader. If another process
            // truncates the file while it is mapped, reads past the new end fault (SIGBUS); this
            // is the accepted contract of every mmap-based capture reader (libpcap, Wireshark's
            // mmap mode) and is documented for users.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&name, e))?;
            #[cfg(unix)]
            {
                // Advice only; failure changes nothing but speed.
                let _ = map.advise(memmap2::Advice::Sequential);
            }
            let size = map.len() as u64;
            let mut r = Self::start(Source::Whole(Arc::new(map)), name, opts.strict)?;
            r.info.size = Some(size);
            r.info.mapped = true;
            return Ok(r);
        }
        let rest: Box<dyn Read + Send> =
            Box::new(io::Cursor::new(head[..got].to_vec()).chain(file));
        let mut r = if gzip {
            Self::start(Source::Stream(Stream::new(gunzip(rest))), name, opts.strict)?
        } else {
            Self::start(Source::Stream(Stream::new(rest)), name, opts.strict)?
        };
        r.info.compressed = gzip;
        if !gzip && meta.is_file() {
            r.info.size = Some(meta.len());
        }
        Ok(r)
    }

    /// Reads a capture from a stream (pipe, socket, stdin, Python file object); gzip is
    /// detected and decompressed. `name` is used in error messages.
    pub fn from_reader(mut input: Box<dyn Read + Send>, name: &str, strict: bool) -> Result<Self> {
        let mut head = [0u8; 2];
        let got = read_up_to(&mut input, &mut head).map_err(|e| Error::io(name, e))?;
        let gzip = got == 2 && head == [0x1f, 0x8b];
        let rest: Box<dyn Read + Send> =
            Box::new(io::Cursor::new(head[..got].to_vec()).chain(input));
        let rest = if gzip { gunzip(rest) } else { rest };
        let mut r = Self::start(Source::Stream(Stream::new(rest)), name.to_string(), strict)?;
        r.info.compressed = gzip;
        Ok(r)
    }

    /// Reads a capture held in memory (zero copy: batches share `bytes`).
    pub fn from_bytes(
        bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
        name: &str,
        strict: bool,
    ) -> Result<Self> {
        let size = (*bytes).as_ref().len() as u64;
        let mut r = Self::start(Source::Whole(bytes), name.to_string(), strict)?;
        r.info.size = Some(size);
        Ok(r)
    }

    fn start(mut source: Source, name: String, strict: bool) -> Result<Self> {
        // Enough bytes to recognise the format and read a pcap file header.
        if let Source::Stream(s) = &mut source {
            s.make_room(0, 0, 24);
            s.read_until(24).map_err(|e| Error::io(&name, e))?;
        }
        let head: &[u8] = match &source {
            Source::Whole(b) => (**b).as_ref(),
            Source::Stream(s) => &s.buf[..s.end],
        };
        let fault = |kind| CaptureError {
            source: name.clone(),
            offset: 0,
            kind,
        };
        if head.len() < 4 {
            let what = if head.is_empty() {
                "capture file header (the file is empty)"
            } else {
                "capture file header"
            };
            return Err(fault(CaptureErrorKind::Truncated {
                what,
                needed: 24,
                available: head.len() as u64,
            })
            .into());
        }
        let first4 = [head[0], head[1], head[2], head[3]];
        let (parser, pos, format) = if u32::from_le_bytes(first4) == SHB_TYPE {
            let parser = PcapngParser::new(!strict);
            // Placeholder until the first section header is read just below.
            (
                Parser::Pcapng(parser),
                0,
                CaptureFormat::Pcapng {
                    big_endian: false,
                    version: (1, 0),
                },
            )
        } else if PcapHeader::is_magic(first4) {
            let h = PcapHeader::parse(head).map_err(fault)?;
            (
                Parser::Pcap(h),
                super::pcap::FILE_HEADER_LEN,
                CaptureFormat::Pcap(h),
            )
        } else {
            return Err(fault(CaptureErrorKind::BadMagic(u32::from_be_bytes(first4))).into());
        };
        let mut interfaces = Vec::new();
        if let CaptureFormat::Pcap(h) = &format {
            let mut i = Interface::new(h.linktype());
            i.snaplen = h.snaplen;
            i.fcs_len = h.fcs_len();
            i.ts_resolution = if h.nanosecond {
                TsResolution::NANO
            } else {
                TsResolution::MICRO
            };
            interfaces.push(i);
        }
        let info = CaptureInfo {
            source: name,
            format,
            compressed: false,
            mapped: false,
            size: None,
            interfaces,
            sections: 1,
            problems: Vec::new(),
            packets: 0,
            caplen_bytes: 0,
            wire_bytes: 0,
            truncated_packets: 0,
            empty_packets: 0,
            ts_range: None,
            other_blocks: Vec::new(),
            position: pos as u64,
        };
        let mut r = CaptureReader {
            source,
            pos,
            parser,
            strict,
            info,
            done: false,
            pending: None,
            input_fault: None,
            odd_timestamps: 0,
            prefetched: 0,
        };
        if let Parser::Pcapng(_) = r.parser {
            // The section header must be readable, whatever the mode: without it nothing is.
            r.read_first_section()?;
        }
        Ok(r)
    }

    /// Reads the first section header and the interface descriptions right after it, so that
    /// the interfaces are known before the first packet (a pcap writer needs the link type).
    /// A fault in the section header is fatal; one in the interfaces is left to `next_batch`.
    fn read_first_section(&mut self) -> Result<()> {
        let mut seen_header = false;
        loop {
            let at = self.abs(self.pos);
            let Parser::Pcapng(p) = &mut self.parser else {
                return Ok(());
            };
            let window = match &self.source {
                Source::Whole(b) => &(**b).as_ref()[self.pos..],
                Source::Stream(s) => &s.buf[self.pos..s.end],
            };
            let is_idb = window.len() >= 4 && matches!(window[..4], [1, 0, 0, 0] | [0, 0, 0, 1]);
            if seen_header && !is_idb {
                return Ok(());
            }
            match p.block(window) {
                Ok(BlockStep::Section { len } | BlockStep::Interface { len }) => {
                    for (off, kind) in p.notes.drain(..) {
                        let message = kind.to_string();
                        self.info.problems.push(Problem {
                            offset: at + off as u64,
                            message,
                            skipped_bytes: 0,
                            skipped_records: 0,
                        });
                    }
                    if let Some((big_endian, version)) = p.first_section {
                        self.info.format = CaptureFormat::Pcapng {
                            big_endian,
                            version,
                        };
                    }
                    self.pos += len;
                    self.sync_info();
                    seen_header = true;
                }
                Ok(BlockStep::NeedMore { needed, what }) => {
                    let exhausted = match &mut self.source {
                        Source::Stream(s) if !s.eof => {
                            let shift = s.make_room(self.pos, self.pos, needed);
                            self.pos -= shift;
                            s.read_until(self.pos + needed)
                                .map_err(|e| Error::io(&self.info.source, e))?;
                            false
                        }
                        _ => true,
                    };
                    if exhausted && seen_header {
                        return Ok(());
                    }
                    if exhausted {
                        let available = window_len(&self.source, self.pos) as u64;
                        return Err(self
                            .error(
                                0,
                                CaptureErrorKind::Truncated {
                                    what,
                                    needed: needed as u64,
                                    available,
                                },
                            )
                            .into());
                    }
                }
                Ok(_) => return Ok(()),
                Err(_) if seen_header => return Ok(()),
                Err(e) => return Err(self.error(e.at as u64, e.kind).into()),
            }
        }
    }

    /// What is known about the capture so far (interfaces, counters, problems).
    #[must_use]
    pub fn info(&self) -> &CaptureInfo {
        &self.info
    }

    /// The whole input when it is held in memory (mapped file or bytes), for zero-copy checks.
    #[must_use]
    pub fn memory(&self) -> Option<&[u8]> {
        match &self.source {
            Source::Whole(b) => Some((**b).as_ref()),
            Source::Stream(_) => None,
        }
    }

    /// At most how many packets the next batch of at most `max` holds, judged from the
    /// bytes left when the input is in memory (a record takes 16 bytes at least).
    #[must_use]
    pub fn batch_len_bound(&self, max: usize) -> usize {
        let max = max.max(1);
        match &self.source {
            Source::Whole(m) => max.min(((**m).as_ref().len().saturating_sub(self.pos)) / 16),
            Source::Stream(_) => max,
        }
    }

    fn abs(&self, pos: usize) -> u64 {
        match &self.source {
            Source::Whole(_) => pos as u64,
            Source::Stream(s) => s.base + pos as u64,
        }
    }

    fn error(&self, at: u64, kind: CaptureErrorKind) -> CaptureError {
        CaptureError {
            source: self.info.source.clone(),
            offset: self.abs(self.pos) + at,
            kind,
        }
    }

    fn sync_info(&mut self) {
        self.info.position = self.abs(self.pos);
        if let Parser::Pcapng(p) = &self.parser {
            if p.interfaces.len() != self.info.interfaces.len() {
                self.info.interfaces.clone_from(&p.interfaces);
            }
            self.info.sections = p.sections;
        }
    }

    /// Reads up to `max` packets. `Ok(None)` at the end of the capture.
    pub fn next_batch(&mut self, max: usize) -> Result<Option<Batch>> {
        self.next_batch_each(max, |_, _, _| {})
    }

    /// Reads up to `max` packets like [`CaptureReader::next_batch`], calling
    /// `each(packet, wirelen, linktype)` on every packet of the batch, in order, right after its
    /// record is framed: while its bytes are still in the cache (a second pass over a batch
    /// reads them back from farther away).
    pub fn next_batch_each(
        &mut self,
        max: usize,
        mut each: impl FnMut(&[u8], u32, u16),
    ) -> Result<Option<Batch>> {
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Err(e.into());
        }
        if self.done {
            return Ok(None);
        }
        let max = max.max(1);
        let mut b = Batch::with_capacity(max, self.info.packets);
        let mut start = self.pos;
        let mut tally = Tally::default();
        // Classic pcap in memory, the common case, takes a loop of its own; anything it does
        // not handle (the end, a fault) falls through to the general step below.
        let whole = match (&self.source, &self.parser) {
            (Source::Whole(m), Parser::Pcap(h)) if !h.modified => Some((Arc::clone(m), *h)),
            _ => None,
        };
        while b.len() < max {
            if let Some((mem, h)) = &whole {
                self.frame_pcap(
                    h,
                    (**mem).as_ref(),
                    start,
                    max,
                    &mut b,
                    &mut tally,
                    &mut each,
                );
                if b.len() >= max {
                    break;
                }
            }
            let window: &[u8] = match &self.source {
                Source::Whole(m) => &(**m).as_ref()[self.pos..],
                Source::Stream(s) => &s.buf[self.pos..s.end],
            };
            // A capture is a linked list of records: each header says where the next one is,
            // so a plain walk waits on memory at every record. Stream the bytes ahead into the
            // cache instead (measured: the walk drops from memory latency to bandwidth).
            prefetch_ahead(window, &mut self.prefetched, self.pos);
            let step = self.parser.step(window);
            self.take_notes();
            let end_batch = match step {
                Ok(Step::Packet(f)) => {
                    self.push_framed(f, start, &mut b, &mut tally, &mut each);
                    false
                }
                Ok(Step::Skip { len, block_type }) => {
                    if let Some(t) = block_type {
                        match self.info.other_blocks.iter_mut().find(|(bt, _)| *bt == t) {
                            Some((_, n)) => *n += 1,
                            None => self.info.other_blocks.push((t, 1)),
                        }
                    }
                    self.pos += len;
                    self.sync_info();
                    false
                }
                Ok(Step::NeedMore { needed, what }) => {
                    if self.refill(&mut start, needed)? {
                        continue;
                    }
                    let available = window_len(&self.source, self.pos);
                    match self.input_fault.take() {
                        Some(kind) => self.fault(available, kind, None, b.is_empty())?,
                        None if available == 0 => {
                            self.done = true;
                            true
                        }
                        None => {
                            let kind = CaptureErrorKind::Truncated {
                                what,
                                needed: needed as u64,
                                available: available as u64,
                            };
                            self.fault(0, kind, None, b.is_empty())?
                        }
                    }
                }
                Err(e) => self.fault(e.at, e.kind, e.skip, b.is_empty())?,
            };
            if end_batch {
                break;
            }
        }
        self.sync_info();
        tally.into_info(&mut self.info);
        if b.is_empty() {
            if let Some(e) = self.pending.take() {
                return Err(e.into());
            }
            return Ok(None);
        }
        let owner: Shared = match &self.source {
            Source::Whole(m) => Arc::clone(m),
            Source::Stream(s) => s.buf.clone(),
        };
        // `start..pos` lies within the memory the packets were parsed from.
        b.data = Bytes::window(owner, start, self.pos - start)
            .unwrap_or_else(|| Bytes::from_vec(Vec::new()));
        Ok(Some(b))
    }

    /// Adds a packet framed by the general step to `b` (whose memory starts at `start`).
    fn push_framed(
        &mut self,
        f: Framed,
        start: usize,
        b: &mut Batch,
        tally: &mut Tally,
        each: &mut impl FnMut(&[u8], u32, u16),
    ) {
        let row = b.ts.len() as u32;
        let data = self.pos + f.data_off;
        b.offset.push((data - start) as u64);
        b.ts.push(f.ts);
        b.caplen.push(f.caplen);
        b.wirelen.push(f.wirelen);
        b.ifindex.push(f.ifindex);
        b.linktype.push(f.linktype.0);
        b.comments.extend(f.comments.into_iter().map(|c| (row, c)));
        tally.add(f.caplen, f.wirelen, f.ts);
        self.odd_timestamps += u64::from(f.odd_ts);
        // The bytes `Batch::packets` gives this row (none when out of range).
        let memory = match &self.source {
            Source::Whole(m) => (**m).as_ref(),
            Source::Stream(s) => &s.buf[..s.end],
        };
        let pkt = data
            .checked_add(f.caplen as usize)
            .and_then(|end| memory.get(data..end))
            .unwrap_or(&[]);
        each(pkt, f.wirelen, f.linktype.0);
        self.pos += f.len;
    }

    /// Frames whole classic pcap records (16-byte headers) of `mem`, the whole input, from the
    /// read position into `b` (whose memory starts at `start`), until the batch holds `max`
    /// packets or a record is incomplete or faulty, which the general step then handles.
    ///
    /// One bounds check per record, the columns pushed within their reserved capacity, and the
    /// counters tallied in the same pass.
    #[inline]
    #[allow(clippy::too_many_arguments)] // the state of one batch being read, passed down
    fn frame_pcap(
        &mut self,
        h: &PcapHeader,
        mem: &[u8],
        start: usize,
        max: usize,
        b: &mut Batch,
        tally: &mut Tally,
        each: &mut impl FnMut(&[u8], u32, u16),
    ) {
        let (linktype, mut pos, mut odd) = (h.linktype().0, self.pos, 0u64);
        while b.offset.len() < max {
            let Some(hdr) = mem.get(pos..pos + 16) else {
                break;
            };
            let (caplen, wirelen) = h.lengths(hdr);
            let data = pos + 16;
            let next = data + caplen as usize;
            if caplen > MAX_RECORD || next > mem.len() {
                break;
            }
            prefetch_ahead(&mem[pos..], &mut self.prefetched, pos);
            let (ts, odd_ts) = h.timestamp(hdr);
            b.offset.push((data - start) as u64);
            b.ts.push(ts);
            b.caplen.push(caplen);
            b.wirelen.push(wirelen);
            b.ifindex.push(0);
            b.linktype.push(linktype);
            tally.add(caplen, wirelen, ts);
            odd += u64::from(odd_ts);
            each(&mem[data..next], wirelen, linktype);
            pos = next;
        }
        self.odd_timestamps += odd;
        self.pos = pos;
    }

    /// Moves faults that the pcapng parser noted in lenient mode into the problem list.
    fn take_notes(&mut self) {
        let at = self.abs(self.pos);
        if let Parser::Pcapng(p) = &mut self.parser {
            for (off, kind) in p.notes.drain(..) {
                let message = kind.to_string();
                self.info.problems.push(Problem {
                    offset: at + off as u64,
                    message,
                    skipped_bytes: 0,
                    skipped_records: 0,
                });
            }
        }
    }

    /// Tries to make `needed` bytes available at the read position of a stream, moving the
    /// batch start along with the buffer. Returns false when the input has nothing more.
    /// Corrupt compressed input ends the input and is kept as the fault to report there, so
    /// that the complete records already decompressed are delivered first.
    fn refill(&mut self, start: &mut usize, needed: usize) -> Result<bool> {
        let Source::Stream(s) = &mut self.source else {
            return Ok(false);
        };
        if s.eof {
            return Ok(false);
        }
        let shift = s.make_room(*start, self.pos, needed);
        *start -= shift;
        self.pos -= shift;
        self.prefetched = self.pos;
        match s.read_until(self.pos + needed) {
            Ok(()) => Ok(true),
            Err(e) if is_corrupt_input(&e) => {
                s.eof = true;
                self.input_fault = Some(CaptureErrorKind::Decompress(e.to_string()));
                Ok(true)
            }
            Err(e) => Err(Error::io(&self.info.source, e)),
        }
    }

    /// Handles a fault at `pos + at`. Returns whether the batch must end here.
    fn fault(
        &mut self,
        at: usize,
        kind: CaptureErrorKind,
        skip: Option<usize>,
        empty: bool,
    ) -> Result<bool> {
        let err = self.error(at as u64, kind);
        if self.strict {
            self.done = true;
            if empty {
                return Err(err.into());
            }
            // Deliver the good packets of this batch first; raise on the next call.
            self.pending = Some(err);
            return Ok(true);
        }
        let offset = err.offset;
        let message = err.kind.to_string();
        if let Some(len) = skip {
            self.info.problems.push(Problem {
                offset,
                message,
                skipped_bytes: len as u64,
                skipped_records: 1,
            });
            self.pos += len;
            return Ok(false);
        }
        let skipped_bytes = match &mut self.source {
            Source::Whole(m) => ((**m).as_ref().len() - self.pos) as u64,
            Source::Stream(s) => {
                let buffered = (s.end - self.pos) as u64;
                // A tail that cannot even be decompressed counts as what could be read.
                buffered + s.drain().unwrap_or(0)
            }
        };
        self.info.problems.push(Problem {
            offset,
            message,
            skipped_bytes,
            skipped_records: 0,
        });
        self.done = true;
        Ok(true)
    }
}

/// The counters of [`CaptureInfo`] that a batch adds to, summed while its records are framed.
struct Tally {
    packets: u64,
    caplen_bytes: u64,
    wire_bytes: u64,
    truncated: u64,
    empty: u64,
    ts_min: i64,
    ts_max: i64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            packets: 0,
            caplen_bytes: 0,
            wire_bytes: 0,
            truncated: 0,
            empty: 0,
            ts_min: i64::MAX,
            ts_max: i64::MIN,
        }
    }
}

impl Tally {
    #[inline]
    fn add(&mut self, caplen: u32, wirelen: u32, ts: i64) {
        self.packets += 1;
        self.caplen_bytes += u64::from(caplen);
        self.wire_bytes += u64::from(wirelen);
        self.truncated += u64::from(caplen < wirelen);
        self.empty += u64::from(caplen == 0);
        self.ts_min = self.ts_min.min(ts);
        self.ts_max = self.ts_max.max(ts);
    }

    fn into_info(self, i: &mut CaptureInfo) {
        if self.packets == 0 {
            return;
        }
        i.packets += self.packets;
        i.caplen_bytes += self.caplen_bytes;
        i.wire_bytes += self.wire_bytes;
        i.truncated_packets += self.truncated;
        i.empty_packets += self.empty;
        i.ts_range = Some(match i.ts_range {
            Some((a, z)) => (a.min(self.ts_min), z.max(self.ts_max)),
            None => (self.ts_min, self.ts_max),
        });
    }
}

impl Iterator for CaptureReader {
    type Item = Result<Batch>;

    /// Batches of 64 packets (the NAPI weight).
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch(64).transpose()
    }
}

/// How far ahead of the read position bytes are prefetched.
const PREFETCH_DISTANCE: usize = 4096;

/// Prefetches the cache lines of `window` (which starts at buffer position `pos`) up to
/// `PREFETCH_DISTANCE` bytes ahead, continuing from the high-water mark `done`.
#[inline]
fn prefetch_ahead(window: &[u8], done: &mut usize, pos: usize) {
    if *done < pos {
        *done = pos;
    }
    let limit = pos + PREFETCH_DISTANCE.min(window.len());
    while *done < limit {
        let at = *done - pos;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `at < window.len()`, so the pointer is inside the slice; and a prefetch is
        // only a hint: it never faults or changes memory, whatever the address.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(window.as_ptr().add(at).cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = at;
        *done += 64;
    }
}

fn window_len(source: &Source, pos: usize) -> usize {
    match source {
        Source::Whole(m) => (**m).as_ref().len() - pos,
        Source::Stream(s) => s.end - pos,
    }
}

fn gunzip(input: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    Box::new(flate2::read::MultiGzDecoder::new(
        io::BufReader::with_capacity(1 << 16, input),
    ))
}

fn is_corrupt_input(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    )
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
