//! Errors of the core, one enum per layer, composed in [`Error`].
//!
//! A capture error always names the source (file path or stream name) and the byte offset of the
//! fault, so that a user can open the file in a hex editor and see it.

use std::fmt;

/// What was wrong with a capture file at a given offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureErrorKind {
    /// The file does not start with a pcap or pcapng magic number.
    #[error("not a pcap or pcapng file (magic {0:#010x}{hint})", hint = magic_hint(*.0))]
    BadMagic(u32),
    /// The file header is recognised but its version is one we do not read.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        /// `pcap` or `pcapng`.
        format: &'static str,
        /// Major version found.
        major: u16,
        /// Minor version found.
        minor: u16,
    },
    /// The input ends inside a header, record or block.
    #[error("file ends inside {what}: {needed} bytes needed, {available} available")]
    Truncated {
        /// What was being read ("pcap record header", "pcapng block", …).
        what: &'static str,
        /// Bytes that the structure needs.
        needed: u64,
        /// Bytes left in the input.
        available: u64,
    },
    /// A length field is larger than anything a real capture holds.
    #[error("{what} length {length} is absurd (limit {limit})")]
    AbsurdLength {
        /// Which length field.
        what: &'static str,
        /// The value found.
        length: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// A length field is smaller than the structure it describes, or inconsistent with it.
    #[error("{what}: {detail}")]
    BadLength {
        /// Which length field.
        what: &'static str,
        /// What is inconsistent.
        detail: String,
    },
    /// A pcapng block's trailing length differs from its leading length.
    #[error("pcapng block trailer length {trailer} differs from header length {header}")]
    TrailerMismatch {
        /// Leading total length.
        header: u32,
        /// Trailing total length.
        trailer: u32,
    },
    /// A pcapng packet refers to an interface that its section never described.
    #[error("packet refers to interface {id}, but the section describes {defined}")]
    UnknownInterface {
        /// Interface id in the packet block.
        id: u32,
        /// Number of interfaces defined in the section so far.
        defined: u32,
    },
    /// Compressed input that cannot be decompressed (corrupt or cut short).
    #[error("compressed data is corrupt or cut short: {0}")]
    Decompress(String),
    /// A pcapng packet block comes before any section header block.
    #[error("pcapng block of type {0:#x} before any section header block")]
    NoSection(u32),
}

fn magic_hint(magic: u32) -> &'static str {
    match magic.to_be_bytes() {
        [b's', b'n', b'o', b'o'] => ": a Solaris snoop file",
        [0x1f, 0x8b, ..] => ": gzip data that could not be decompressed",
        [b'\n', b'\r', b'\r', b'\n'] => ": a damaged pcapng section header",
        _ => "",
    }
}

/// A fault in a capture, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    /// File path or stream name.
    pub source: String,
    /// Byte offset of the faulty structure from the start of the (decompressed) input.
    pub offset: u64,
    /// What was wrong.
    pub kind: CaptureErrorKind,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: at byte {}: {}", self.source, self.offset, self.kind)
    }
}

impl std::error::Error for CaptureError {}

/// Any error of the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A capture file is malformed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Reading or writing failed in the operating system.
    #[error("{path}: {source}")]
    Io {
        /// The file or stream involved.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A caller asked for something impossible (bad option, unknown interface, …).
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
