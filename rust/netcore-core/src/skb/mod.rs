//! The packet buffer, modelled on the kernel's `struct sk_buff`.
//!
//! An [`Skb`] is one packet on its way through the stack: a linear buffer with
//! `head <= data <= tail <= end` (headroom before the data, tailroom after it), the offsets of the
//! headers found so far (mac, network, transport and their inner counterparts for tunnels),
//! per-packet metadata ([`SkbMeta`]: protocol, packet type, `ip_summed`, GSO, hash, mark, VLAN,
//! timestamp, drop reason…) and a list of fragments ([`Frag`]) that hold the rest of the packet
//! after the linear part, as GRO builds them.
//!
//! # Zero copy and copy on write
//!
//! A packet read from a capture is an Skb *view*: its buffer is a window of the reader's memory
//! ([`Bytes`](crate::batch::Bytes)), with no headroom, and making it costs no allocation and no
//! copy. Reading never copies, and neither do `pull` and `trim`, which only move offsets. The
//! first write (`data_mut`, `push`, `put`, …) moves the packet into an owned buffer taken from
//! the worker's [`BufferPool`], with [`PoolConfig::headroom`] bytes of headroom, keeping every
//! byte and every header offset — the kernel's `skb_cow_head`/`skb_unshare`. Owned buffers go
//! back to the pool when the Skb is dropped, so steady-state processing allocates nothing.
//!
//! # Invariants
//!
//! - `0 <= data <= tail <= end`, all within the buffer; `len() == (tail - data) + frags_len`.
//! - Header offsets are relative to `head` (as in the kernel with `NET_SKBUFF_DATA_USES_OFFSET`),
//!   stored as `u16` with `0xffff` meaning "unset", and are moved along when a copy adds headroom.
//! - Bytes in the headroom are either bytes the packet held before (pulled headers, readable
//!   again with [`Skb::unpull`]) or zero; bytes exposed by `put` are zeroed, so a recycled buffer
//!   never leaks another packet's bytes and outputs stay deterministic.
//! - No operation panics: misuse (too little room, too little data, `reserve` on a non-empty
//!   buffer, …) returns an [`SkbError`].

mod buffer;
mod frag;
mod meta;
mod pool;

pub use buffer::{Header, Skb};
pub use frag::{Frag, MAX_FRAGS};
pub use meta::{GsoInfo, GsoType, PacketType, SkbMeta, VlanTag};
pub use pool::{BufferPool, PoolConfig, PoolStats, configure_local, local_stats, with_local};

/// Default headroom given to a packet when it is first copied into an owned buffer.
///
/// The kernel reserves `NET_SKB_PAD` (64 bytes on x86: one cache line) in receive buffers, and
/// tunnel transmit paths ask `skb_cow_head` for more (VXLAN over IPv6: 14 + 40 + 8 + 8 = 70 bytes,
/// plus 4 per VLAN tag). 128 bytes — two cache lines — lets a packet gain one IPv6 tunnel
/// encapsulation plus two VLAN tags, or two IPv4 VXLAN encapsulations (2 × 50), without a second
/// copy, and leaves 1920 bytes of a 2 KiB pool buffer for a full 1518-byte frame and trailers.
pub const DEFAULT_HEADROOM: usize = 128;

/// What went wrong with a buffer operation. Small and `Copy`: no allocation on the error path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SkbError {
    /// `push` needs more headroom than the buffer has (`skb_under_panic` in the kernel).
    #[error("not enough headroom: {needed} bytes needed, {available} available")]
    NoHeadroom {
        /// Bytes asked for.
        needed: usize,
        /// Headroom present.
        available: usize,
    },
    /// `put` or `reserve` needs more tailroom than the buffer has (`skb_over_panic`).
    #[error("not enough tailroom: {needed} bytes needed, {available} available")]
    NoTailroom {
        /// Bytes asked for.
        needed: usize,
        /// Tailroom present.
        available: usize,
    },
    /// `pull` or `may_pull` asks for more bytes than the packet (or its linear part) holds.
    #[error("not enough data: {needed} bytes needed, {available} available")]
    NoData {
        /// Bytes asked for.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// `reserve` on a buffer that already holds data (the kernel allows it only on an empty one).
    #[error("reserve on a buffer holding {len} bytes")]
    NotEmpty {
        /// Bytes in the packet.
        len: usize,
    },
    /// `put` on a packet with fragments: appended bytes would land before the fragments.
    #[error("operation needs a linear packet (it has fragments); linearize first")]
    Nonlinear,
    /// The fragment list is full ([`MAX_FRAGS`]).
    #[error("fragment list full ({MAX_FRAGS} fragments)")]
    TooManyFrags,
    /// The packet or buffer would exceed 4 GiB (lengths are `u32`, as in the kernel).
    #[error("packet or buffer too long")]
    TooLong,
    /// A header offset falls outside the buffer or does not fit the `u16` offset field.
    #[error("header offset {offset} outside the buffer or not representable")]
    OffsetRange {
        /// The offset from the start of the buffer (negative: before it).
        offset: i64,
    },
}

/// Result of a buffer operation.
pub type Result<T, E = SkbError> = std::result::Result<T, E>;
