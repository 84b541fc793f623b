//! netcore's core: the Linux receive/transmit paths in user space, batch by batch.
//!
//! This crate is pure Rust (no Python): it builds, tests and fuzzes with plain cargo and holds all
//! semantics. The binding crate `netcore-py` only converts, releases the GIL and maps errors.
//!
//! Parts present so far:
//! - [`capture`]: pcap and pcapng readers (memory-mapped, zero copy; streaming for pipes and
//!   gzip) and writers.
//! - [`batch`]: a batch of packets as columns over the reader's memory.
//! - [`checksum`]: Internet checksums, incremental update, CRC32c, `ip_summed` states.
//! - [`wire`]: typed zero-copy header views with checked constructors, and emit.
//! - [`offload`]: device features, GRO and GSO with the kernel's rules.
//! - [`skb`]: the packet buffer (`sk_buff`): headroom, offsets, metadata, copy on write.
//! - [`netfilter`]: hook points, priorities, verdicts and native rules.
//! - [`ip`]: receive checks, the FIB, forwarding and ICMP errors.

pub mod batch;
pub mod capture;
pub mod checksum;
pub mod demux;
pub mod drop_reason;
pub mod error;
pub mod ip;
pub mod netfilter;
pub mod offload;
pub mod ring;
pub mod rss;
pub mod skb;
pub mod stack;
pub mod wire;

pub use batch::{Batch, Bytes};
pub use capture::{
    CaptureFormat, CaptureInfo, CaptureReader, CaptureWriter, Interface, LinkType, Problem,
    ReadOptions, TsResolution, WriteFormat, WriterOptions,
};
pub use drop_reason::DropReason;
pub use error::{CaptureError, CaptureErrorKind, Error, Result};
