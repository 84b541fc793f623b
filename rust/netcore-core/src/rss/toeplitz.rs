//! The Toeplitz hash of Microsoft's RSS specification, and its key.
//!
//! For every bit of the input that is set (most significant bit of the first byte first), the
//! 32 key bits starting at the same bit position are combined into the result by exclusive or.
//! The definition is [`toeplitz`], one bit at a time; [`ToeplitzTable`] gives the same result
//! with one table look-up per input byte, since the hash is linear: each byte's contribution
//! depends only on its value and position.

use crate::error::{Error, Result};

/// Length of an RSS key in bytes, as NICs and `ethtool -X hkey` use it.
pub const KEY_LEN: usize = 40;

/// Longest input a 40-byte key can hash: the IPv6 4-tuple (addresses and ports).
pub const MAX_INPUT: usize = KEY_LEN - 4;

/// The key of Microsoft's RSS specification, used by its verification suite and the default of
/// many drivers.
pub const MICROSOFT_KEY: [u8; KEY_LEN] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/// A 40-byte RSS hash key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RssKey([u8; KEY_LEN]);

impl Default for RssKey {
    fn default() -> Self {
        RssKey(MICROSOFT_KEY)
    }
}

impl RssKey {
    /// A key from exactly [`KEY_LEN`] bytes.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        <[u8; KEY_LEN]>::try_from(bytes).map(RssKey).map_err(|_| {
            Error::Config(format!(
                "RSS key must be {KEY_LEN} bytes, got {}",
                bytes.len()
            ))
        })
    }

    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// The 32 key bits starting at bit `bit` (MSB of byte 0 is bit 0); bits past the key are zero.
fn window(key: &[u8], bit: usize) -> u32 {
    let byte = bit / 8;
    let wide = (0..5).fold(0u64, |acc, k| {
        acc << 8 | u64::from(key.get(byte + k).copied().unwrap_or(0))
    });
    (wide >> (8 - bit % 8)) as u32
}

/// The Toeplitz hash of `data` under `key`, one bit at a time: the definition, for reference
/// and for keys of any length.
///
/// The key must have 4 bytes more than the data (a 40-byte key hashes up to 36 bytes).
pub fn toeplitz(key: &[u8], data: &[u8]) -> Result<u32> {
    if key.len() < data.len() + 4 {
        return Err(Error::Config(format!(
            "a Toeplitz key of {} bytes hashes at most {} bytes, got {}",
            key.len(),
            key.len().saturating_sub(4),
            data.len()
        )));
    }
    let mut hash = 0u32;
    let mut win = window(key, 0);
    let mut next_key_bit = 32;
    for &byte in data {
        for bit in (0..8).rev() {
            if byte >> bit & 1 == 1 {
                hash ^= win;
            }
            // Slide the window one bit along the key.
            let incoming = key[next_key_bit / 8] >> (7 - next_key_bit % 8) & 1;
            win = win << 1 | u32::from(incoming);
            next_key_bit += 1;
        }
    }
    Ok(hash)
}

/// Toeplitz hashing by table: `rows[j][b]` is what byte value `b` at position `j` contributes.
#[derive(Clone)]
pub struct ToeplitzTable {
    /// One row per input byte position, [`MAX_INPUT`] rows.
    rows: Box<[[u32; 256]]>,
}

impl std::fmt::Debug for ToeplitzTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ToeplitzTable { .. }")
    }
}

impl ToeplitzTable {
    /// Builds the table of `key` (36 KiB; build once per key).
    #[must_use]
    pub fn new(key: &RssKey) -> Self {
        let mut rows = vec![[0u32; 256]; MAX_INPUT].into_boxed_slice();
        for (j, row) in rows.iter_mut().enumerate() {
            // Bit k of the byte (k = 0 is its MSB) contributes the window at 8j + k.
            let windows: [u32; 8] = std::array::from_fn(|k| window(&key.0, 8 * j + k));
            for b in 1..256usize {
                let lowest = b.trailing_zeros() as usize;
                row[b] = row[b & (b - 1)] ^ windows[7 - lowest];
            }
        }
        ToeplitzTable { rows }
    }

    /// The hash of `data`; bytes past [`MAX_INPUT`] are ignored (flow keys never have them).
    #[inline]
    #[must_use]
    pub fn hash(&self, data: &[u8]) -> u32 {
        self.hash_at(0, data)
    }

    /// The contribution of `part` placed at byte `offset` of a longer input. The hash is linear,
    /// so an input's hash is the exclusive or of its parts' contributions: fields can be hashed
    /// where they lie, without first being copied into one buffer.
    #[inline]
    #[must_use]
    pub fn hash_at(&self, offset: usize, part: &[u8]) -> u32 {
        let rows = self.rows.get(offset..).unwrap_or_default();
        part.iter()
            .zip(rows)
            .fold(0, |h, (&b, row)| h ^ row[b as usize])
    }
}
