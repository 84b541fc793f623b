//! A batch of packets: columns of metadata over the memory the packets live in.
//!
//! A batch never copies packet bytes: `data` is a window of the reader's memory (the mapped file
//! or a reader buffer shared by reference count), and `offset[i]` locates packet `i` in it. The
//! columns are plain `Vec`s so that the Python binding can lend them to numpy without copying.

use std::ptr::NonNull;
use std::sync::Arc;

/// Shared, immutable bytes: a window of a memory map or of an owned buffer.
#[derive(Clone)]
pub struct Bytes {
    owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
    /// The window's first byte, resolved from `owner` once: reading the bytes is then a load,
    /// not a chain of dynamic calls through owners of owners (the stack reads packets through
    /// here all the time).
    ptr: NonNull<u8>,
    start: usize,
    len: usize,
}

// SAFETY: `ptr` points into memory owned by `owner`, which is `Send + Sync` and only ever
// read; the pointer is just a cached view of it.
unsafe impl Send for Bytes {}
// SAFETY: as above.
unsafe impl Sync for Bytes {}

impl Bytes {
    /// Wraps owned memory.
    #[must_use]
    pub fn from_vec(v: Vec<u8>) -> Self {
        let len = v.len();
        Bytes::resolve(Arc::new(v), 0, len)
    }

    /// A window `[start, start + len)` of `owner`; `None` if it does not fit.
    #[must_use]
    pub fn window(
        owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
        start: usize,
        len: usize,
    ) -> Option<Self> {
        let end = start.checked_add(len)?;
        ((*owner).as_ref().len() >= end).then(|| Bytes::resolve(owner, start, len))
    }

    /// The window `[start, start + len)` of `owner`, which fits.
    fn resolve(owner: Arc<dyn AsRef<[u8]> + Send + Sync>, start: usize, len: usize) -> Self {
        // The slice stays valid, unmoved and unchanged for as long as `owner` lives: the
        // owner is only reachable through this shared `Arc`, so nothing can get `&mut` to it.
        let ptr = NonNull::from(&(*owner).as_ref()[start..start + len]).cast::<u8>();
        Bytes {
            owner,
            ptr,
            start,
            len,
        }
    }

    /// A narrower window `[off, off + len)` of these bytes sharing the same owner (no copy);
    /// `None` if it does not fit.
    #[must_use]
    pub fn slice(&self, off: usize, len: usize) -> Option<Bytes> {
        let end = off.checked_add(len)?;
        (end <= self.len).then(|| Bytes {
            owner: Arc::clone(&self.owner),
            // SAFETY: `off <= self.len`, so the result stays within (or one past) the window.
            ptr: unsafe { self.ptr.add(off) },
            start: self.start + off,
            len,
        })
    }

    /// The same bytes behind an owner of their own: clones of the result count references on
    /// a new counter, so a thread cloning per packet does not share a counter's cache line
    /// with other threads doing the same (one reference is taken on `self`).
    #[must_use]
    pub fn with_own_count(&self) -> Bytes {
        Bytes {
            owner: Arc::new(self.clone()),
            ptr: self.ptr,
            start: 0,
            len: self.len,
        }
    }

    /// Whether `self` and `other` are the same window of the same memory (so offsets into one
    /// are offsets into the other).
    #[must_use]
    pub fn same_window(&self, other: &Bytes) -> bool {
        self.ptr == other.ptr && self.len == other.len
    }

    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` and `len` were taken from a slice of `owner`, which `self` keeps alive
        // and which never changes or moves (see `resolve`).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Number of bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the window is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.len)
    }
}

/// Packets read together, as columns.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Memory holding every packet of the batch (and the record headers between them).
    pub data: Bytes,
    /// Byte offset of each packet in `data`.
    pub offset: Vec<u64>,
    /// Timestamp, nanoseconds since the Unix epoch.
    pub ts: Vec<i64>,
    /// Captured length (bytes present in `data`).
    pub caplen: Vec<u32>,
    /// Length on the wire.
    pub wirelen: Vec<u32>,
    /// Interface index (global over all pcapng sections; 0 for pcap).
    pub ifindex: Vec<u32>,
    /// Link type (`LINKTYPE_*` number) of the packet's interface.
    pub linktype: Vec<u16>,
    /// Packet comments, as (row, text); rows may repeat.
    pub comments: Vec<(u32, String)>,
    /// 0-based number of the first packet in its capture.
    pub first_index: u64,
}

impl Batch {
    /// An empty batch with room for `n` packets.
    #[must_use]
    pub fn with_capacity(n: usize, first_index: u64) -> Self {
        Batch {
            data: Bytes::from_vec(Vec::new()),
            offset: Vec::with_capacity(n),
            ts: Vec::with_capacity(n),
            caplen: Vec::with_capacity(n),
            wirelen: Vec::with_capacity(n),
            ifindex: Vec::with_capacity(n),
            linktype: Vec::with_capacity(n),
            comments: Vec::new(),
            first_index,
        }
    }

    /// Builds a batch by copying the given packets into one owned buffer.
    ///
    /// Each item is `(ts_ns, bytes, wirelen, ifindex, linktype)`; a `wirelen` below the captured
    /// length is raised to it.
    pub fn from_packets<'a>(
        packets: impl IntoIterator<Item = (i64, &'a [u8], u32, u32, u16)>,
    ) -> Self {
        let mut buf = Vec::new();
        let mut b = Batch::with_capacity(0, 0);
        for (ts, bytes, wirelen, ifindex, linktype) in packets {
            b.offset.push(buf.len() as u64);
            buf.extend_from_slice(bytes);
            let caplen = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            b.ts.push(ts);
            b.caplen.push(caplen);
            b.wirelen.push(wirelen.max(caplen));
            b.ifindex.push(ifindex);
            b.linktype.push(linktype);
        }
        b.data = Bytes::from_vec(buf);
        b
    }

    /// Number of packets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether the batch holds no packet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// An iterator over the bytes of every packet (empty for a row whose offset is out of
    /// range), resolving the batch memory once rather than per packet.
    pub fn packets(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let data = self.data.as_slice();
        self.offset
            .iter()
            .zip(&self.caplen)
            .map(move |(&off, &len)| {
                let start = usize::try_from(off).unwrap_or(usize::MAX);
                start
                    .checked_add(len as usize)
                    .and_then(|end| data.get(start..end))
                    .unwrap_or(&[])
            })
    }

    /// Bytes of packet `i`, or `None` past the end.
    #[must_use]
    pub fn packet(&self, i: usize) -> Option<&[u8]> {
        let start = usize::try_from(*self.offset.get(i)?).ok()?;
        let len = *self.caplen.get(i)? as usize;
        self.data.as_slice().get(start..start.checked_add(len)?)
    }

    /// Comments attached to packet `i`.
    pub fn comments_of(&self, i: usize) -> impl Iterator<Item = &str> {
        self.comments
            .iter()
            .filter(move |(row, _)| *row as usize == i)
            .map(|(_, c)| c.as_str())
    }
}
