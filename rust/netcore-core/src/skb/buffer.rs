//! [`Skb`]: the buffer, its offsets and its operations.

use std::fmt;

use super::frag::{Frag, FragList, MAX_FRAGS};
use super::meta::SkbMeta;
use super::pool::{self, PoolBuf};
use super::{Result, SkbError};
use crate::batch::{Batch, Bytes};
use crate::checksum::IpSummed;

/// Stored value of an unset header offset (the kernel uses `(u16)~0U`, see
/// `skb_mac_header_was_set`).
const UNSET: u16 = u16::MAX;

/// Which header offset: the outer ones, and the inner ones of a tunnelled packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    /// Link-layer header (`skb->mac_header`).
    Mac = 0,
    /// Network header (`skb->network_header`).
    Network = 1,
    /// Transport header (`skb->transport_header`).
    Transport = 2,
    /// Inner link-layer header of an encapsulated packet (`skb->inner_mac_header`).
    InnerMac = 3,
    /// Inner network header (`skb->inner_network_header`).
    InnerNetwork = 4,
    /// Inner transport header (`skb->inner_transport_header`).
    InnerTransport = 5,
}

/// Where the buffer lives.
enum Store {
    /// A window `[base, base + end)` of shared, immutable memory (a capture): read only.
    Shared { bytes: Bytes, base: usize },
    /// An owned buffer from the pool, of at least `end` bytes.
    Owned(PoolBuf),
}

/// A packet: a linear buffer with headroom and tailroom, header offsets, metadata and fragments.
///
/// Offsets `data`, `tail`, `end` are counted from `head`, the start of the buffer. See the
/// [module documentation](super) for the invariants and the copy-on-write rule.
pub struct Skb {
    store: Store,
    data: u32,
    tail: u32,
    end: u32,
    /// Header offsets from `head`, indexed by [`Header`]; [`UNSET`] when not set.
    headers: [u16; 6],
    frags: FragList,
    /// Sum of the fragment lengths (`skb->data_len`).
    frags_len: u32,
    /// Per-packet metadata.
    pub meta: SkbMeta,
}

/// Generates the kernel-named accessors of one header offset.
macro_rules! header_accessors {
    ($which:expr, $name:literal, $reset:ident, $set:ident, $get:ident, $offset:ident, $bytes:ident) => {
        #[doc = concat!("Sets the ", $name, " header at the current data start (`skb_reset_", stringify!($get), "`).")]
        pub fn $reset(&mut self) -> Result<()> {
            self.reset_header($which)
        }

        #[doc = concat!("Sets the ", $name, " header `offset` bytes from the data start (`skb_set_", stringify!($get), "`).")]
        pub fn $set(&mut self, offset: isize) -> Result<()> {
            self.set_header($which, offset)
        }

        #[doc = concat!("Offset of the ", $name, " header from the buffer start, if set (`skb->", stringify!($get), "`).")]
        #[must_use]
        pub fn $get(&self) -> Option<usize> {
            self.header($which)
        }

        #[doc = concat!("Offset of the ", $name, " header from the data start, negative once pulled past (`skb_", stringify!($offset), "`).")]
        #[must_use]
        pub fn $offset(&self) -> Option<isize> {
            self.header_offset($which)
        }

        #[doc = concat!("Linear bytes from the ", $name, " header to the tail, if set.")]
        #[must_use]
        pub fn $bytes(&self) -> Option<&[u8]> {
            self.header_bytes($which)
        }
    };
}

impl Skb {
    // ----- construction -------------------------------------------------------------------

    fn with_store(store: Store, data: u32, tail: u32, end: u32) -> Skb {
        Skb {
            store,
            data,
            tail,
            end,
            headers: [UNSET; 6],
            frags: FragList::default(),
            frags_len: 0,
            meta: SkbMeta::default(),
        }
    }

    /// A view of `bytes` with no headroom and no copy; `None` beyond 4 GiB.
    #[must_use]
    pub fn from_shared(bytes: Bytes) -> Option<Skb> {
        let len = u32::try_from(bytes.len()).ok()?;
        Some(Skb::with_store(
            Store::Shared { bytes, base: 0 },
            0,
            len,
            len,
        ))
    }

    /// A view of `[off, off + len)` of `bytes` with no copy; `None` if the window does not fit.
    #[must_use]
    pub fn from_shared_window(bytes: &Bytes, off: usize, len: usize) -> Option<Skb> {
        let end = off.checked_add(len)?;
        if end > bytes.len() {
            return None;
        }
        let len = u32::try_from(len).ok()?;
        Some(Skb::with_store(
            Store::Shared {
                bytes: bytes.clone(),
                base: off,
            },
            0,
            len,
            len,
        ))
    }

    /// A view of packet `row` of a capture batch, with no copy: the link-layer header is set at
    /// the start, and the timestamp and input interface come from the batch. `None` past the
    /// end of the batch.
    #[must_use]
    pub fn from_batch(batch: &Batch, row: usize) -> Option<Skb> {
        let off = usize::try_from(*batch.offset.get(row)?).ok()?;
        let len = *batch.caplen.get(row)? as usize;
        let mut skb = Skb::from_shared_window(&batch.data, off, len)?;
        skb.headers[Header::Mac as usize] = 0;
        skb.meta.tstamp = batch.ts.get(row).copied().unwrap_or_default();
        skb.meta.iif = batch.ifindex.get(row).copied().unwrap_or_default();
        Some(skb)
    }

    /// An owned packet holding a copy of `bytes`, with this thread's configured headroom (for
    /// packets made by generators or handed over by Python).
    pub fn from_slice(bytes: &[u8]) -> Result<Skb> {
        let headroom = pool::local_headroom();
        let mut skb = Skb::alloc(headroom.saturating_add(bytes.len()))?;
        skb.reserve(headroom)?;
        skb.put(bytes.len())?.copy_from_slice(bytes);
        Ok(skb)
    }

    /// An empty owned packet with a buffer of at least `size` bytes, all of it tailroom
    /// (`alloc_skb`); follow with [`Skb::reserve`] to make headroom.
    pub fn alloc(size: usize) -> Result<Skb> {
        if size > u32::MAX as usize {
            return Err(SkbError::TooLong);
        }
        let buf = PoolBuf::take(size);
        let end = buf.len().min(u32::MAX as usize) as u32;
        Ok(Skb::with_store(Store::Owned(buf), 0, 0, end))
    }

    // ----- sizes and bytes ----------------------------------------------------------------

    /// Bytes in the packet: linear part plus fragments (`skb->len`).
    #[must_use]
    pub fn len(&self) -> usize {
        self.linear_len() + self.frags_len as usize
    }

    /// Whether the packet holds no byte.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes in the linear part (`skb_headlen`).
    #[must_use]
    pub fn linear_len(&self) -> usize {
        (self.tail - self.data) as usize
    }

    /// Bytes in the fragments (`skb->data_len`).
    #[must_use]
    pub fn frags_len(&self) -> usize {
        self.frags_len as usize
    }

    /// Whether some bytes are in fragments (`skb_is_nonlinear`).
    #[must_use]
    pub fn is_nonlinear(&self) -> bool {
        self.frags_len != 0
    }

    /// Bytes between the buffer start and the data (`skb_headroom`). For a view these are
    /// bytes already pulled, readable again with [`Skb::unpull`] but not writable.
    #[must_use]
    pub fn headroom(&self) -> usize {
        self.data as usize
    }

    /// Bytes between the tail and the buffer end (`skb_tailroom`).
    #[must_use]
    pub fn tailroom(&self) -> usize {
        (self.end - self.tail) as usize
    }

    /// Size of the linear buffer (`skb_end_offset`).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.end as usize
    }

    /// For a linear view of shared memory: that memory and where the buffer starts in it (add a
    /// header offset to locate the header there). `None` once owned or non-linear.
    #[must_use]
    pub fn shared_memory(&self) -> Option<(&Bytes, usize)> {
        match &self.store {
            Store::Shared { bytes, base } if self.frags.is_empty() => Some((bytes, *base)),
            _ => None,
        }
    }

    /// Whether the packet still references shared memory (a capture) and would be copied by
    /// the next write.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self.store, Store::Shared { .. })
    }

    /// The whole linear buffer, headroom and tailroom included.
    fn buf(&self) -> &[u8] {
        let all = match &self.store {
            Store::Shared { bytes, base } => bytes.as_slice().get(*base..).unwrap_or_default(),
            Store::Owned(b) => b.as_slice(),
        };
        all.get(..self.end as usize).unwrap_or_default()
    }

    /// `[from, to)` of the owned buffer; empty for a shared one (callers unshare first).
    fn owned_mut(&mut self, from: usize, to: usize) -> &mut [u8] {
        match &mut self.store {
            Store::Owned(b) => b.as_mut_slice().get_mut(from..to).unwrap_or_default(),
            Store::Shared { .. } => &mut [],
        }
    }

    /// The linear data (`skb->data` for `skb_headlen` bytes). Never copies.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        self.buf()
            .get(self.data as usize..self.tail as usize)
            .unwrap_or_default()
    }

    /// The linear data for writing; a view is first copied into an owned buffer.
    pub fn data_mut(&mut self) -> Result<&mut [u8]> {
        self.unshare()?;
        let (d, t) = (self.data as usize, self.tail as usize);
        Ok(self.owned_mut(d, t))
    }

    /// Copies `src` over the linear data at `offset` (copy on write).
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> Result<()> {
        let linear = self.linear_len();
        let end = offset
            .checked_add(src.len())
            .filter(|&e| e <= linear)
            .ok_or(SkbError::NoData {
                needed: offset.saturating_add(src.len()),
                available: linear,
            })?;
        let dst = self.data_mut()?.get_mut(offset..end).unwrap_or_default();
        dst.copy_from_slice(src);
        Ok(())
    }

    /// The fragments after the linear part.
    #[must_use]
    pub fn frags(&self) -> &[Frag] {
        self.frags.as_slice()
    }

    /// Number of fragments (`skb_shinfo(skb)->nr_frags`).
    #[must_use]
    pub fn nr_frags(&self) -> usize {
        self.frags.len()
    }

    /// Every piece of the packet in order: the linear data, then each fragment.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.data()).chain(self.frags.as_slice().iter().map(Frag::as_slice))
    }

    /// The whole packet as one vector (allocates; for slow paths and tests).
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        for p in self.pieces() {
            v.extend_from_slice(p);
        }
        v
    }

    /// Copies `out.len()` packet bytes from `offset`, across fragments (`skb_copy_bits`).
    pub fn copy_bits(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        let len = self.len();
        if offset.checked_add(out.len()).is_none_or(|e| e > len) {
            return Err(SkbError::NoData {
                needed: offset.saturating_add(out.len()),
                available: len,
            });
        }
        let mut skip = offset;
        let mut done = 0;
        for piece in self.pieces() {
            if done == out.len() {
                break;
            }
            if skip >= piece.len() {
                skip -= piece.len();
                continue;
            }
            let take = (piece.len() - skip).min(out.len() - done);
            out[done..done + take].copy_from_slice(&piece[skip..skip + take]);
            done += take;
            skip = 0;
        }
        Ok(())
    }

    /// `scratch.len()` bytes at `offset`: borrowed from the linear data when they are there,
    /// else copied into `scratch` from the fragments (`skb_header_pointer`). `None` past the
    /// end of the packet.
    #[must_use]
    pub fn header_pointer<'a>(&'a self, offset: usize, scratch: &'a mut [u8]) -> Option<&'a [u8]> {
        let end = offset.checked_add(scratch.len())?;
        if let Some(s) = self.data().get(offset..end) {
            return Some(s);
        }
        self.copy_bits(offset, scratch).ok()?;
        Some(scratch)
    }

    // ----- copy on write ------------------------------------------------------------------

    /// Moves the linear buffer into a new owned one, `pad` bytes further from its start and with
    /// at least `min_tailroom` bytes after the tail, keeping every byte from the buffer start
    /// to the tail and every header offset (`pskb_expand_head`).
    fn relocate(&mut self, pad: usize, min_tailroom: usize) -> Result<()> {
        let tail = self.tail as usize;
        let new_tail = tail.checked_add(pad).ok_or(SkbError::TooLong)?;
        let need = new_tail
            .checked_add(min_tailroom)
            .filter(|&n| u32::try_from(n).is_ok())
            .ok_or(SkbError::TooLong)?;
        // Check the moved header offsets before changing anything.
        let mut headers = self.headers;
        for h in &mut headers {
            if *h != UNSET {
                let moved = *h as usize + pad;
                if moved >= UNSET as usize {
                    return Err(SkbError::OffsetRange {
                        offset: moved as i64,
                    });
                }
                *h = moved as u16;
            }
        }
        // `Partial.start` counts from the buffer start like the kernel's `csum_start`, which
        // `skb_headers_offset_update` moves along with the headers.
        let mut ip_summed = self.meta.ip_summed;
        if let IpSummed::Partial { start, .. } = &mut ip_summed {
            *start = u16::try_from(*start as usize + pad).map_err(|_| SkbError::OffsetRange {
                offset: i64::from(*start) + pad as i64,
            })?;
        }
        let mut nb = PoolBuf::take(need);
        let dst = nb.as_mut_slice();
        dst.get_mut(..pad).unwrap_or_default().fill(0);
        if let (Some(d), Some(s)) = (dst.get_mut(pad..new_tail), self.buf().get(..tail)) {
            d.copy_from_slice(s);
        }
        let end = nb.len().min(u32::MAX as usize) as u32;
        // The old buffer, if owned, goes back to the pool here.
        self.store = Store::Owned(nb);
        self.data += pad as u32;
        self.tail = new_tail as u32;
        self.end = end;
        self.headers = headers;
        self.meta.ip_summed = ip_summed;
        Ok(())
    }

    /// Makes the packet writable: a view is copied into an owned buffer from this thread's pool
    /// with the configured headroom ([`PoolConfig::headroom`](super::PoolConfig)), keeping its
    /// bytes (pulled ones included) and header offsets (`skb_unshare`). No-op when owned.
    pub fn unshare(&mut self) -> Result<()> {
        if self.is_shared() {
            let want = pool::local_headroom();
            self.relocate(want.saturating_sub(self.headroom()), 0)?;
        }
        Ok(())
    }

    /// Makes the first `len` bytes of the data writable without copying the rest: a view of
    /// shared memory keeps its bytes after `len` as a fragment of that memory, and only the
    /// head (with the headers pulled before it) moves to a pooled buffer with headroom. This
    /// is the layout a NIC with header split gives the kernel (headers in the linear part,
    /// payload in page fragments), so a forwarded packet's TTL can change without copying its
    /// payload. An owned or non-linear packet is made writable as [`Skb::unshare`] does.
    pub fn cow_headers(&mut self, len: usize) -> Result<()> {
        let linear = self.linear_len();
        let Store::Shared { bytes, base } = &self.store else {
            return Ok(());
        };
        if len >= linear || !self.frags.is_empty() {
            return self.unshare();
        }
        let rest = Frag::window(bytes.clone(), base + self.data as usize + len, linear - len)
            .ok_or(SkbError::NoData {
                needed: len,
                available: linear,
            })?;
        // Only the head is copied: cut the linear part at `len`, then unshare it.
        self.tail = self.data + len as u32;
        self.unshare()?;
        self.frags.push(rest);
        self.frags_len += (linear - len) as u32;
        Ok(())
    }

    /// Makes the packet writable with at least `headroom` bytes of headroom (`skb_cow_head`).
    pub fn cow_head(&mut self, headroom: usize) -> Result<()> {
        if self.is_shared() {
            let want = pool::local_headroom().max(headroom);
            self.relocate(want.saturating_sub(self.headroom()), 0)
        } else if self.headroom() < headroom {
            self.relocate(headroom - self.headroom(), 0)
        } else {
            Ok(())
        }
    }

    /// Copies the linear buffer into a new owned one with `nhead` more bytes of headroom and
    /// `ntail` more of tailroom (`pskb_expand_head`).
    pub fn expand_head(&mut self, nhead: usize, ntail: usize) -> Result<()> {
        let tailroom = self.tailroom().saturating_add(ntail);
        self.relocate(nhead, tailroom)
    }

    // ----- moving data --------------------------------------------------------------------

    /// Prepends `n` bytes and returns them for writing (`skb_push`). A view is first copied
    /// into an owned buffer with enough headroom; an owned buffer must already have `n` bytes
    /// of headroom (use [`Skb::cow_head`] to make room). The bytes are those already in the
    /// headroom: a header pulled before, or zeros.
    pub fn push(&mut self, n: usize) -> Result<&mut [u8]> {
        if self.is_shared() {
            self.cow_head(n)?;
        }
        let available = self.headroom();
        if n > available {
            return Err(SkbError::NoHeadroom {
                needed: n,
                available,
            });
        }
        self.data -= n as u32;
        let d = self.data as usize;
        Ok(self.owned_mut(d, d + n))
    }

    /// Removes `n` bytes from the start of the linear data and returns them (`skb_pull`, which
    /// returns the new data start instead; [`Skb::data`] gives that). Never copies. Bytes in
    /// fragments are not pulled: use [`Skb::may_pull`] first.
    pub fn pull(&mut self, n: usize) -> Result<&[u8]> {
        let available = self.linear_len();
        if n > available {
            return Err(SkbError::NoData {
                needed: n,
                available,
            });
        }
        self.data += n as u32;
        let d = self.data as usize;
        Ok(self.buf().get(d - n..d).unwrap_or_default())
    }

    /// Undoes a pull: moves the data start `n` bytes back into the headroom and returns them,
    /// read only, without copying (the kernel's `__skb_push` over a header still in place,
    /// e.g. to re-expose the link-layer header).
    pub fn unpull(&mut self, n: usize) -> Result<&[u8]> {
        let available = self.headroom();
        if n > available {
            return Err(SkbError::NoHeadroom {
                needed: n,
                available,
            });
        }
        self.data -= n as u32;
        let d = self.data as usize;
        Ok(self.buf().get(d..d + n).unwrap_or_default())
    }

    /// Appends `n` zero bytes to the linear data and returns them for writing (`skb_put_zero`).
    /// A view is first copied into an owned buffer with at least `n` bytes of tailroom; an
    /// owned buffer must already have them (see [`Skb::expand_head`]). Not allowed with
    /// fragments, whose bytes come after the linear data.
    pub fn put(&mut self, n: usize) -> Result<&mut [u8]> {
        if self.is_nonlinear() {
            return Err(SkbError::Nonlinear);
        }
        if self.is_shared() {
            let want = pool::local_headroom();
            self.relocate(want.saturating_sub(self.headroom()), n)?;
        }
        let available = self.tailroom();
        if n > available {
            return Err(SkbError::NoTailroom {
                needed: n,
                available,
            });
        }
        let t = self.tail as usize;
        self.tail += n as u32;
        let out = self.owned_mut(t, t + n);
        out.fill(0);
        Ok(out)
    }

    /// Turns `n` bytes of tailroom into headroom, on an empty packet only (`skb_reserve`).
    /// The reserved bytes are zeroed.
    pub fn reserve(&mut self, n: usize) -> Result<()> {
        let len = self.len();
        if len != 0 {
            return Err(SkbError::NotEmpty { len });
        }
        self.unshare()?;
        let available = self.tailroom();
        if n > available {
            return Err(SkbError::NoTailroom {
                needed: n,
                available,
            });
        }
        let d = self.data as usize;
        self.owned_mut(d, d + n).fill(0);
        self.data += n as u32;
        self.tail += n as u32;
        Ok(())
    }

    /// Cuts the packet to `len` bytes, dropping or shortening fragments as needed
    /// (`skb_trim`/`pskb_trim`); nothing happens if it is not longer. Never copies.
    pub fn trim(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        let linear = self.linear_len();
        if len <= linear {
            self.tail = self.data + len as u32;
            self.frags.clear();
            self.frags_len = 0;
            return;
        }
        let mut rest = len - linear;
        let mut keep = 0;
        let mut last_len = 0;
        for f in self.frags.as_slice() {
            if rest == 0 {
                break;
            }
            last_len = rest.min(f.len());
            rest -= last_len;
            keep += 1;
        }
        self.frags.truncate(keep);
        self.frags.truncate_last(last_len);
        self.frags_len = (len - linear) as u32;
    }

    // ----- fragments ----------------------------------------------------------------------

    /// Appends a fragment after the packet's bytes (`skb_add_rx_frag`). Empty fragments are
    /// ignored.
    pub fn add_frag(&mut self, frag: Frag) -> Result<()> {
        if frag.is_empty() {
            return Ok(());
        }
        let frags_len = self.frags_len_with(frag.len())?;
        self.frags.push(frag);
        self.frags_len = frags_len;
        Ok(())
    }

    /// Appends the window `[off, off + len)` of `bytes` as a fragment, as
    /// [`Skb::add_frag`] of [`Frag::window`] does, but without taking a reference count when
    /// the previous windows chained to this packet came from the same memory: they share one
    /// (GRO chains dozens of segments of one capture per packet). Empty windows are ignored.
    #[inline]
    pub fn add_window(&mut self, bytes: &Bytes, off: usize, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        if off.checked_add(len).is_none_or(|end| end > bytes.len()) {
            return Err(SkbError::NoData {
                needed: off.saturating_add(len),
                available: bytes.len(),
            });
        }
        let frags_len = self.frags_len_with(len)?;
        self.frags.push_window(bytes, off, len);
        self.frags_len = frags_len;
        Ok(())
    }

    /// The fragment length after adding `len` bytes more, if the list has room for one more
    /// fragment and the packet stays under 4 GiB.
    #[inline]
    fn frags_len_with(&self, len: usize) -> Result<u32> {
        if self.frags.len() >= MAX_FRAGS {
            return Err(SkbError::TooManyFrags);
        }
        u32::try_from(len)
            .ok()
            .and_then(|l| self.frags_len.checked_add(l))
            .filter(|&f| (self.tail - self.data).checked_add(f).is_some())
            .ok_or(SkbError::TooLong)
    }

    /// The linear data as a fragment sharing this packet's memory, for chaining it to another
    /// packet without a copy (GRO). `None` for an owned packet, whose buffer cannot be shared.
    #[must_use]
    pub fn data_frag(&self) -> Option<Frag> {
        match &self.store {
            Store::Shared { bytes, base } => {
                Frag::window(bytes.clone(), base + self.data as usize, self.linear_len())
            }
            Store::Owned(_) => None,
        }
    }

    /// Makes the first `n` bytes linear, copying them from the fragments if needed
    /// (`pskb_may_pull`). Copies only when `n > linear_len()`.
    pub fn may_pull(&mut self, n: usize) -> Result<()> {
        let linear = self.linear_len();
        if n <= linear {
            return Ok(());
        }
        let len = self.len();
        if n > len {
            return Err(SkbError::NoData {
                needed: n,
                available: len,
            });
        }
        self.pull_tail(n - linear)
    }

    /// Copies every fragment into the linear buffer, growing it as needed (`skb_linearize`).
    pub fn linearize(&mut self) -> Result<()> {
        if self.frags.is_empty() {
            return Ok(());
        }
        self.pull_tail(self.frags_len as usize)
    }

    /// Moves the first `k` fragment bytes to the end of the linear data (`__pskb_pull_tail`).
    fn pull_tail(&mut self, k: usize) -> Result<()> {
        if self.is_shared() {
            let want = pool::local_headroom();
            self.relocate(want.saturating_sub(self.headroom()), k)?;
        } else if self.tailroom() < k {
            self.relocate(0, k)?;
        }
        let Store::Owned(buf) = &mut self.store else {
            return Ok(());
        };
        let buf = buf.as_mut_slice();
        let mut tail = self.tail as usize;
        let mut left = k;
        let mut whole = 0;
        let mut partial = 0;
        for f in self.frags.as_slice() {
            if left == 0 {
                break;
            }
            let take = left.min(f.len());
            if let (Some(d), Some(s)) = (buf.get_mut(tail..tail + take), f.as_slice().get(..take)) {
                d.copy_from_slice(s);
            }
            tail += take;
            left -= take;
            if take == f.len() {
                whole += 1;
            } else {
                partial = take;
            }
        }
        self.frags.remove_front(whole);
        self.frags.advance_first(partial);
        self.tail = tail as u32;
        self.frags_len -= k as u32;
        Ok(())
    }

    // ----- header offsets -----------------------------------------------------------------

    /// Sets header `h` at `offset` bytes from the data start (negative: in the headroom).
    pub fn set_header(&mut self, h: Header, offset: isize) -> Result<()> {
        let at = self.data as i64 + offset as i64;
        if !(0..=i64::from(self.end)).contains(&at) || at >= i64::from(UNSET) {
            return Err(SkbError::OffsetRange { offset: at });
        }
        self.headers[h as usize] = at as u16;
        Ok(())
    }

    /// Sets header `h` at the data start.
    pub fn reset_header(&mut self, h: Header) -> Result<()> {
        self.set_header(h, 0)
    }

    /// Forgets header `h`.
    pub fn clear_header(&mut self, h: Header) {
        self.headers[h as usize] = UNSET;
    }

    /// Offset of header `h` from the buffer start, if set.
    #[must_use]
    pub fn header(&self, h: Header) -> Option<usize> {
        let v = self.headers[h as usize];
        (v != UNSET).then_some(v as usize)
    }

    /// Offset of header `h` from the data start, if set; negative once the data start moved
    /// past it.
    #[must_use]
    pub fn header_offset(&self, h: Header) -> Option<isize> {
        self.header(h).map(|v| v as isize - self.data as isize)
    }

    /// Linear bytes from header `h` to the tail (empty if the header is past the tail).
    #[must_use]
    pub fn header_bytes(&self, h: Header) -> Option<&[u8]> {
        let at = self.header(h)?;
        Some(self.buf().get(at..self.tail as usize).unwrap_or_default())
    }

    header_accessors!(
        Header::Mac,
        "link-layer",
        reset_mac_header,
        set_mac_header,
        mac_header,
        mac_offset,
        mac_header_bytes
    );
    header_accessors!(
        Header::Network,
        "network",
        reset_network_header,
        set_network_header,
        network_header,
        network_offset,
        network_header_bytes
    );
    header_accessors!(
        Header::Transport,
        "transport",
        reset_transport_header,
        set_transport_header,
        transport_header,
        transport_offset,
        transport_header_bytes
    );
    header_accessors!(
        Header::InnerMac,
        "inner link-layer",
        reset_inner_mac_header,
        set_inner_mac_header,
        inner_mac_header,
        inner_mac_offset,
        inner_mac_header_bytes
    );
    header_accessors!(
        Header::InnerNetwork,
        "inner network",
        reset_inner_network_header,
        set_inner_network_header,
        inner_network_header,
        inner_network_offset,
        inner_network_header_bytes
    );
    header_accessors!(
        Header::InnerTransport,
        "inner transport",
        reset_inner_transport_header,
        set_inner_transport_header,
        inner_transport_header,
        inner_transport_offset,
        inner_transport_header_bytes
    );

    /// Marks the packet `CHECKSUM_PARTIAL`: the L4 checksum is to be computed from `start`
    /// bytes after the data start and stored `offset` bytes further (`skb_partial_csum_set`).
    /// The stored `IpSummed::Partial::start` counts from the buffer start, like the kernel's
    /// `skb->csum_start`, and follows the data when headroom is added.
    pub fn set_partial_csum(&mut self, start: isize, offset: u16) -> Result<()> {
        let at = self.data as i64 + start as i64;
        let end = at + i64::from(offset) + 2;
        if at < 0 || end > i64::from(self.tail) || at > i64::from(u16::MAX) {
            return Err(SkbError::OffsetRange { offset: at });
        }
        self.meta.ip_summed = IpSummed::Partial {
            start: at as u16,
            offset,
        };
        Ok(())
    }

    /// Where checksumming starts, from the data start, for a `CHECKSUM_PARTIAL` packet
    /// (`skb_checksum_start_offset`).
    #[must_use]
    pub fn checksum_start_offset(&self) -> Option<isize> {
        match self.meta.ip_summed {
            IpSummed::Partial { start, .. } => Some(start as isize - self.data as isize),
            _ => None,
        }
    }

    /// Bytes from the link-layer header to the network header (`skb_mac_header_len`).
    #[must_use]
    pub fn mac_header_len(&self) -> Option<usize> {
        self.network_header()?.checked_sub(self.mac_header()?)
    }

    /// Bytes from the network header to the transport header (`skb_network_header_len`).
    #[must_use]
    pub fn network_header_len(&self) -> Option<usize> {
        self.transport_header()?.checked_sub(self.network_header()?)
    }
}

impl Clone for Skb {
    /// A view is cloned by sharing its memory (`skb_clone`); an owned packet is copied into a
    /// buffer from this thread's pool (`skb_copy`). Fragments are shared either way.
    fn clone(&self) -> Self {
        let store = match &self.store {
            Store::Shared { bytes, base } => Store::Shared {
                bytes: bytes.clone(),
                base: *base,
            },
            Store::Owned(b) => {
                let mut nb = PoolBuf::take(self.end as usize);
                let n = self.end as usize;
                if let (Some(d), Some(s)) = (nb.as_mut_slice().get_mut(..n), b.as_slice().get(..n))
                {
                    d.copy_from_slice(s);
                }
                Store::Owned(nb)
            }
        };
        Skb {
            store,
            data: self.data,
            tail: self.tail,
            end: self.end,
            headers: self.headers,
            frags: self.frags.share(),
            frags_len: self.frags_len,
            meta: self.meta,
        }
    }
}

impl fmt::Debug for Skb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Skb")
            .field("shared", &self.is_shared())
            .field("len", &self.len())
            .field("headroom", &self.headroom())
            .field("linear_len", &self.linear_len())
            .field("tailroom", &self.tailroom())
            .field("nr_frags", &self.nr_frags())
            .field("headers", &self.headers)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "buffer_tests.rs"]
mod tests;
