//! Capture I/O: pcap and pcapng, read zero copy and written back faithfully.
//!
//! Reading is split in two layers. The format parsers ([`pcap`], [`pcapng`]) look at a byte slice
//! that starts at a record boundary and say what is there: a packet, a block to skip, or "need N
//! bytes". The [`CaptureReader`] feeds them from either a memory map (files) or a growing buffer
//! (pipes, stdin, gzip), so both sources give identical results by construction.
//!
//! Sources of the format rules: the pcap format (libpcap `pcap-savefile(5)`, and the IETF draft
//! "PCAP Capture File Format") and pcapng (IETF draft "PCAP Now Generic", sections 4 and 5).

mod linktype;
pub mod pcap;
pub mod pcapng;
mod reader;
mod writer;

pub use linktype::LinkType;
pub use reader::{CaptureReader, ReadOptions};
pub use writer::{CaptureWriter, RecordEncoder, WriteFormat, WriterOptions};

/// Largest record or block we accept; anything larger is treated as a corrupt length field.
/// Real captures stay far below (Wireshark's largest per-packet limit is 128 MiB for D-Bus; the
/// usual one 256 KiB), and this bounds the memory a hostile length can make a stream reader use.
pub const MAX_RECORD: u32 = 64 << 20;

/// Timestamp resolution of an interface (pcapng `if_tsresol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsResolution {
    /// Units of 10^-n seconds.
    Pow10(u8),
    /// Units of 2^-n seconds.
    Pow2(u8),
}

impl TsResolution {
    /// Microseconds, the pcap and pcapng default.
    pub const MICRO: TsResolution = TsResolution::Pow10(6);
    /// Nanoseconds.
    pub const NANO: TsResolution = TsResolution::Pow10(9);

    /// Decodes the `if_tsresol` option byte.
    #[must_use]
    pub fn from_option(b: u8) -> Self {
        if b & 0x80 == 0 {
            TsResolution::Pow10(b)
        } else {
            TsResolution::Pow2(b & 0x7f)
        }
    }

    /// Encodes as the `if_tsresol` option byte.
    #[must_use]
    pub fn to_option(self) -> u8 {
        match self {
            TsResolution::Pow10(n) => n & 0x7f,
            TsResolution::Pow2(n) => 0x80 | (n & 0x7f),
        }
    }

    /// Converts a count of units to nanoseconds, exactly when the resolution is at most 1 ns,
    /// rounding toward zero otherwise; saturates at the `i64` range.
    #[must_use]
    #[inline]
    pub fn to_ns(self, units: u64) -> i64 {
        // The two resolutions nearly every capture uses, without 128-bit arithmetic.
        if let (TsResolution::Pow10(6), true) = (self, units < 1 << 53) {
            return (units * 1000) as i64;
        }
        if let (TsResolution::Pow10(9), Ok(ns)) = (self, i64::try_from(units)) {
            return ns;
        }
        let units = i128::from(units);
        let ns = match self {
            TsResolution::Pow10(n) if n <= 9 => units * 10i128.pow(9 - u32::from(n)),
            TsResolution::Pow10(n) => units / 10i128.pow(u32::from(n.min(38)) - 9),
            TsResolution::Pow2(n) => {
                let n = u32::from(n.min(100));
                (units * 1_000_000_000) >> n
            }
        };
        saturate(ns)
    }

    /// Converts nanoseconds to units of this resolution (floor); negative times become 0.
    #[must_use]
    pub fn from_ns(self, ns: i64) -> u64 {
        let ns = i128::from(ns.max(0));
        let units = match self {
            TsResolution::Pow10(n) if n <= 9 => ns / 10i128.pow(9 - u32::from(n)),
            TsResolution::Pow10(n) => ns * 10i128.pow(u32::from(n.min(28)) - 9),
            TsResolution::Pow2(n) => (ns << u32::from(n.min(63))) / 1_000_000_000,
        };
        u64::try_from(units).unwrap_or(u64::MAX)
    }

    /// Human-readable form ("1us", "1ns", "2^-20s").
    #[must_use]
    pub fn describe(self) -> String {
        match self {
            TsResolution::Pow10(0) => "1s".into(),
            TsResolution::Pow10(3) => "1ms".into(),
            TsResolution::Pow10(6) => "1us".into(),
            TsResolution::Pow10(9) => "1ns".into(),
            TsResolution::Pow10(n) => format!("1e-{n}s"),
            TsResolution::Pow2(n) => format!("2^-{n}s"),
        }
    }
}

fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// One capture interface: where packets of one link type came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Link type (low 16 bits of the pcap field, or the pcapng IDB field).
    pub linktype: LinkType,
    /// Snapshot length (0 = unlimited).
    pub snaplen: u32,
    /// Timestamp resolution.
    pub ts_resolution: TsResolution,
    /// `if_tsoffset`: seconds added to every timestamp.
    pub ts_offset: i64,
    /// `if_name`.
    pub name: Option<String>,
    /// `if_description`.
    pub description: Option<String>,
    /// `if_fcslen`: bytes of frame check sequence at the end of each frame, when known.
    pub fcs_len: Option<u8>,
    /// pcapng section the interface belongs to (0 for pcap).
    pub section: u32,
}

impl Interface {
    /// An interface of the given link type with default settings.
    #[must_use]
    pub fn new(linktype: LinkType) -> Self {
        Interface {
            linktype,
            snaplen: 0,
            ts_resolution: TsResolution::MICRO,
            ts_offset: 0,
            name: None,
            description: None,
            fcs_len: None,
            section: 0,
        }
    }
}

/// The container format of a capture and its file-level fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic pcap.
    Pcap(pcap::PcapHeader),
    /// pcapng (byte order of the first section).
    Pcapng {
        /// Whether the first section is big-endian.
        big_endian: bool,
        /// Version of the first section header.
        version: (u16, u16),
    },
}

impl CaptureFormat {
    /// `"pcap"` or `"pcapng"`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            CaptureFormat::Pcap(_) => "pcap",
            CaptureFormat::Pcapng { .. } => "pcapng",
        }
    }
}

/// Something wrong that the reader skipped over (lenient mode) or noted (both modes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset where it was found.
    pub offset: u64,
    /// What it was.
    pub message: String,
    /// Bytes skipped because of it.
    pub skipped_bytes: u64,
    /// Records (packets or blocks) skipped because of it.
    pub skipped_records: u64,
}

/// What a reader knows about its capture so far.
#[derive(Debug, Clone)]
pub struct CaptureInfo {
    /// File path or stream name.
    pub source: String,
    /// Container format and its header.
    pub format: CaptureFormat,
    /// Whether the input was gzip-compressed.
    pub compressed: bool,
    /// Whether packets are read from a memory map (otherwise from a stream buffer).
    pub mapped: bool,
    /// Size of the input in bytes, when known (files).
    pub size: Option<u64>,
    /// Interfaces seen so far, indexed by global interface index.
    pub interfaces: Vec<Interface>,
    /// pcapng sections seen so far (1 for pcap).
    pub sections: u32,
    /// Faults skipped (lenient mode) and notes.
    pub problems: Vec<Problem>,
    /// Packets returned so far.
    pub packets: u64,
    /// Sum of captured lengths returned so far.
    pub caplen_bytes: u64,
    /// Sum of wire lengths returned so far.
    pub wire_bytes: u64,
    /// Packets whose captured length is below their wire length.
    pub truncated_packets: u64,
    /// Packets with no captured byte at all.
    pub empty_packets: u64,
    /// Smallest and largest timestamp seen (ns).
    pub ts_range: Option<(i64, i64)>,
    /// Non-packet pcapng blocks skipped, by block type.
    pub other_blocks: Vec<(u32, u64)>,
    /// Bytes of input consumed so far.
    pub position: u64,
}

impl CaptureInfo {
    /// Total bytes skipped over faults.
    #[must_use]
    pub fn skipped_bytes(&self) -> u64 {
        self.problems.iter().map(|p| p.skipped_bytes).sum()
    }

    /// Total records skipped over faults.
    #[must_use]
    pub fn skipped_records(&self) -> u64 {
        self.problems.iter().map(|p| p.skipped_records).sum()
    }
}
