//! The ones'-complement sum kernels behind [`super::partial`].
//!
//! Every kernel sums `data` as **native-endian** 16-bit words (an odd trailing byte is the first
//! byte of a word whose second byte is zero) and returns a 64-bit *end-around* accumulator: a
//! value congruent to the exact integer sum modulo `2^64 - 1` (so modulo `0xffff`, which divides
//! it) that is zero only when every byte is zero. The caller folds it to 16 bits and byte-swaps
//! the result on little-endian machines: RFC 1071 section 2(B) shows that the ones'-complement sum
//! is byte-order independent, so summing native words and swapping once at the end equals summing
//! big-endian words.
//!
//! Keeping "zero only for all-zero data" matters: the Internet checksum has two zeros, `+0`
//! (`0x0000`) and `-0` (`0xffff`), and a region that carries a correct checksum sums to `-0`.
//! Every step here is an exact integer sum or an end-around carry, never a `% 0xffff`, so the
//! two zeros are never confused.
//!
//! Kernels, by length and CPU:
//! - [`sum_scalar`] (portable; on `x86_64` the buffers shorter than 64 bytes): two 128-bit
//!   accumulators over 8-byte loads (`add` + `adc`, two independent chains), then straight-line
//!   code for the last 16, 8 and fewer bytes — the tail is one load of the last 8 bytes, shifted.
//! - `x86::block_sse2` / `x86::block_avx2`: vector lanes of 64 bits. For each 64-bit lane holding
//!   the 32-bit words `x0` (low) and `x1` (high) the loop keeps `full += lane` (wrapping) and
//!   `high += lane >> 32` (exact), three instructions per vector and four independent pairs.
//!   At the end `low = full - (high << 32)` recovers the exact `Σx0` (it is below `2^64`), so
//!   the exact sum is `low + high` and no carry is ever lost. SSE2, the `x86_64` baseline, runs
//!   from 64 bytes; AVX2, detected at run time, from 256 bytes (below that, detection and
//!   the call cost more than the wider vectors save).

/// From this length on, the AVX2 kernel (detected at run time, behind a call) runs; below it,
/// detection, the call and the wider reduction cost more than they save (measured with
/// `benches/rust/benches/checksum.rs`: a tie at 256 bytes, a win above).
#[cfg(target_arch = "x86_64")]
const VECTOR_MIN: usize = 256;

/// From this length up to [`VECTOR_MIN`], the SSE2 kernel runs (no detection); below it the
/// scalar kernel is faster, and it is the only kernel inlined into callers.
#[cfg(target_arch = "x86_64")]
const SSE2_MIN: usize = 128;

/// End-around (ones'-complement) addition of two 64-bit accumulators.
///
/// The result is congruent to `a + b` modulo `2^64 - 1` and is zero only if both are zero.
#[inline]
pub(super) const fn add64(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    // Cannot overflow: with a carry, `s <= 2^64 - 2`.
    s + carry as u64
}

/// End-around fold of a 64-bit accumulator to 32 bits (zero only if `acc` is zero).
#[inline]
pub(super) const fn fold64(acc: u64) -> u32 {
    // The high half of `acc + rotr(acc, 32)` is `hi + lo` plus the carry out of the low half:
    // exactly one end-around addition of the two halves (the kernel's `csum_fold` trick).
    (acc.wrapping_add(acc.rotate_right(32)) >> 32) as u32
}

/// End-around fold of a 32-bit partial sum to 16 bits (zero only if `sum` is zero).
#[inline]
pub(super) const fn fold32(sum: u32) -> u16 {
    (sum.wrapping_add(sum.rotate_right(16)) >> 16) as u16
}

/// Reads the native-endian `u64` at the start of `w` (which holds at least 8 bytes).
#[inline]
fn load64(w: &[u8]) -> u64 {
    match w.first_chunk::<8>() {
        Some(b) => u64::from_ne_bytes(*b),
        None => 0,
    }
}

/// Sum of the last `data.len() % 8` bytes of `data`, whose earlier bytes the caller summed in
/// 8-byte words.
#[inline]
fn sum_tail(data: &[u8]) -> u64 {
    let n = data.len() % 8;
    if n == 0 {
        return 0;
    }
    if let Some(last) = data.last_chunk::<8>() {
        // One load of the last 8 bytes; the shift drops the `8 - n` bytes already summed and
        // leaves the tail in place, padded with zeros after it (an odd trailing byte thus
        // stays the first byte of a native word).
        let shift = 8 * (8 - n) as u32;
        let w = u64::from_ne_bytes(*last);
        return if cfg!(target_endian = "little") {
            w >> shift
        } else {
            w << shift
        };
    }
    // Shorter than 8 bytes in all: 4-, 2- and 1-byte pieces, each at an even offset.
    let mut acc = 0;
    let mut t = data;
    if let Some((w, rest)) = t.split_first_chunk::<4>() {
        acc += u64::from(u32::from_ne_bytes(*w));
        t = rest;
    }
    if let Some((w, rest)) = t.split_first_chunk::<2>() {
        acc += u64::from(u16::from_ne_bytes(*w));
        t = rest;
    }
    if let [b] = t {
        acc += u64::from(u16::from_ne_bytes([*b, 0]));
    }
    acc
}

/// End-around sum of `rest`, the last `< 32` bytes of `whole`: a 16-byte piece, an 8-byte
/// word and the sub-word tail, straight-line code for short buffers and kernel remainders.
#[inline]
fn sum_rest(rest: &[u8], whole: &[u8]) -> u128 {
    let (mut a, mut b) = (0u128, 0u128);
    let mut r = rest;
    if let Some((x, tail)) = r.split_first_chunk::<16>() {
        a += u128::from(load64(&x[..8]));
        b += u128::from(load64(&x[8..]));
        r = tail;
    }
    if let Some(w) = r.first_chunk::<8>() {
        a += u128::from(u64::from_ne_bytes(*w));
    }
    b += u128::from(sum_tail(whole));
    a + b
}

/// A 128-bit exact sum as a 64-bit end-around accumulator.
#[inline]
const fn fold128(s: u128) -> u64 {
    add64(s as u64, (s >> 64) as u64)
}

/// Portable kernel: native-endian sum of `data` as a 64-bit end-around accumulator.
///
/// Two 128-bit accumulators (`add` + `adc` each, two independent chains) take two 8-byte words
/// each per 32 bytes; a 128-bit sum of 64-bit words cannot overflow for any slice.
#[inline]
pub(super) fn sum_scalar(data: &[u8]) -> u64 {
    let (mut a, mut b) = (0u128, 0u128);
    let mut blocks = data.chunks_exact(32);
    for k in &mut blocks {
        a += u128::from(load64(&k[0..8])) + u128::from(load64(&k[8..16]));
        b += u128::from(load64(&k[16..24])) + u128::from(load64(&k[24..32]));
    }
    fold128(a + b + sum_rest(blocks.remainder(), data))
}

/// Native-endian sum of `data` as a 64-bit end-around accumulator, with the fastest kernel this
/// CPU has.
#[inline]
pub(super) fn sum_ne(data: &[u8]) -> u64 {
    // Only the short-buffer kernel is inlined into callers (header checksums); longer buffers
    // take one call, which costs nothing next to their length.
    #[cfg(target_arch = "x86_64")]
    if data.len() >= SSE2_MIN {
        return x86::sum_vector(data);
    }
    sum_scalar(data)
}

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    //! SSE2 and AVX2 kernels (see the parent module for the method).
    #![allow(
        clippy::cast_ptr_alignment,
        reason = "pointers cast to vector types only feed `loadu`, which needs no alignment"
    )]

    use std::arch::x86_64::{
        __m128i, __m256i, _mm_add_epi64, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_setzero_si128,
        _mm_srli_epi64, _mm_unpackhi_epi64, _mm256_add_epi64, _mm256_castsi256_si128,
        _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_setzero_si256, _mm256_srli_epi64,
    };

    use super::{add64, fold128, sum_rest};

    /// Bytes summed per outer block: keeps every lane's `Σx0` far below `2^64` (each lane sees
    /// at most `BLOCK / 16` words of 32 bits), whatever the slice length.
    const BLOCK: usize = 1 << 30;

    /// Buffers of [`super::SSE2_MIN`] bytes and more: SSE2 inline below
    /// [`super::VECTOR_MIN`], else AVX2 when the CPU has it (else SSE2), by blocks of [`BLOCK`].
    pub(in crate::checksum) fn sum_vector(data: &[u8]) -> u64 {
        if data.len() < super::VECTOR_MIN {
            // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
            return unsafe { block_sse2(data) };
        }
        let avx2 = std::is_x86_feature_detected!("avx2");
        let mut acc = 0;
        for block in data.chunks(BLOCK) {
            let s = if avx2 {
                // SAFETY: the CPU supports AVX2, checked above.
                unsafe { block_avx2(block) }
            } else {
                // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
                unsafe { block_sse2(block) }
            };
            acc = add64(acc, s);
        }
        acc
    }

    /// Exact sum of one lane pair: `full` (wrapping sum of 64-bit lanes) and `high` (exact sum
    /// of their high 32-bit halves), as an end-around accumulator.
    #[inline]
    fn lane(full: u64, high: u64) -> u64 {
        let low = full.wrapping_sub(high << 32);
        add64(low, high)
    }

    /// Wrapping sum of the two 64-bit lanes of `v`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn hsum(v: __m128i) -> u64 {
        let s = _mm_add_epi64(v, _mm_unpackhi_epi64(v, v));
        _mm_cvtsi128_si64(s) as u64
    }

    /// AVX2 kernel: 128 bytes per iteration in four independent accumulator pairs. `data`
    /// must be at most [`BLOCK`] bytes long.
    #[target_feature(enable = "avx2")]
    pub(in crate::checksum) fn block_avx2(data: &[u8]) -> u64 {
        let z = _mm256_setzero_si256();
        let (mut f0, mut f1, mut f2, mut f3) = (z, z, z, z);
        let (mut h0, mut h1, mut h2, mut h3) = (z, z, z, z);
        let mut chunks = data.chunks_exact(128);
        for c in &mut chunks {
            let p = c.as_ptr().cast::<__m256i>();
            // SAFETY: `c` holds 128 bytes, so the four 32-byte loads stay inside it; `loadu`
            // has no alignment requirement.
            let (v0, v1, v2, v3) = unsafe {
                (
                    _mm256_loadu_si256(p),
                    _mm256_loadu_si256(p.add(1)),
                    _mm256_loadu_si256(p.add(2)),
                    _mm256_loadu_si256(p.add(3)),
                )
            };
            f0 = _mm256_add_epi64(f0, v0);
            h0 = _mm256_add_epi64(h0, _mm256_srli_epi64::<32>(v0));
            f1 = _mm256_add_epi64(f1, v1);
            h1 = _mm256_add_epi64(h1, _mm256_srli_epi64::<32>(v1));
            f2 = _mm256_add_epi64(f2, v2);
            h2 = _mm256_add_epi64(h2, _mm256_srli_epi64::<32>(v2));
            f3 = _mm256_add_epi64(f3, v3);
            h3 = _mm256_add_epi64(h3, _mm256_srli_epi64::<32>(v3));
        }
        // The last < 128 bytes: straight-line 64- and 32-byte steps, then `sum_rest` (< 32).
        let mut rest = chunks.remainder();
        if let Some((c, tail)) = rest.split_first_chunk::<64>() {
            let p = c.as_ptr().cast::<__m256i>();
            // SAFETY: `c` holds 64 bytes; `loadu` has no alignment requirement.
            let (v0, v1) = unsafe { (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1))) };
            f0 = _mm256_add_epi64(f0, v0);
            h0 = _mm256_add_epi64(h0, _mm256_srli_epi64::<32>(v0));
            f1 = _mm256_add_epi64(f1, v1);
            h1 = _mm256_add_epi64(h1, _mm256_srli_epi64::<32>(v1));
            rest = tail;
        }
        if let Some((c, tail)) = rest.split_first_chunk::<32>() {
            // SAFETY: `c` holds 32 bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm256_loadu_si256(c.as_ptr().cast::<__m256i>()) };
            f2 = _mm256_add_epi64(f2, v);
            h2 = _mm256_add_epi64(h2, _mm256_srli_epi64::<32>(v));
            rest = tail;
        }
        // Wrapping sums of the `full` lanes keep their meaning (they are sums modulo 2^64), and
        // the `high` lanes cannot overflow (see BLOCK): reduce across lanes before `lane`.
        let f = _mm256_add_epi64(_mm256_add_epi64(f0, f1), _mm256_add_epi64(f2, f3));
        let h = _mm256_add_epi64(_mm256_add_epi64(h0, h1), _mm256_add_epi64(h2, h3));
        let f = _mm_add_epi64(_mm256_castsi256_si128(f), _mm256_extracti128_si256::<1>(f));
        let h = _mm_add_epi64(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
        let acc = lane(hsum(f), hsum(h));
        add64(acc, fold128(sum_rest(rest, data)))
    }

    /// SSE2 kernel (the `x86_64` baseline): 64 bytes per iteration in four accumulator
    /// pairs. `data` must be at most [`BLOCK`] bytes long.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(in crate::checksum) fn block_sse2(data: &[u8]) -> u64 {
        let z = _mm_setzero_si128();
        let (mut f0, mut f1, mut f2, mut f3) = (z, z, z, z);
        let (mut h0, mut h1, mut h2, mut h3) = (z, z, z, z);
        let mut chunks = data.chunks_exact(64);
        for c in &mut chunks {
            let p = c.as_ptr().cast::<__m128i>();
            // SAFETY: `c` holds 64 bytes, so the four 16-byte loads stay inside it; `loadu`
            // has no alignment requirement.
            let (v0, v1, v2, v3) = unsafe {
                (
                    _mm_loadu_si128(p),
                    _mm_loadu_si128(p.add(1)),
                    _mm_loadu_si128(p.add(2)),
                    _mm_loadu_si128(p.add(3)),
                )
            };
            f0 = _mm_add_epi64(f0, v0);
            h0 = _mm_add_epi64(h0, _mm_srli_epi64::<32>(v0));
            f1 = _mm_add_epi64(f1, v1);
            h1 = _mm_add_epi64(h1, _mm_srli_epi64::<32>(v1));
            f2 = _mm_add_epi64(f2, v2);
            h2 = _mm_add_epi64(h2, _mm_srli_epi64::<32>(v2));
            f3 = _mm_add_epi64(f3, v3);
            h3 = _mm_add_epi64(h3, _mm_srli_epi64::<32>(v3));
        }
        // The last < 64 bytes: straight-line 32- and 16-byte steps, then `sum_rest` (< 16).
        let mut rest = chunks.remainder();
        if let Some((c, tail)) = rest.split_first_chunk::<32>() {
            let p = c.as_ptr().cast::<__m128i>();
            // SAFETY: `c` holds 32 bytes; `loadu` has no alignment requirement.
            let (v0, v1) = unsafe { (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1))) };
            f0 = _mm_add_epi64(f0, v0);
            h0 = _mm_add_epi64(h0, _mm_srli_epi64::<32>(v0));
            f1 = _mm_add_epi64(f1, v1);
            h1 = _mm_add_epi64(h1, _mm_srli_epi64::<32>(v1));
            rest = tail;
        }
        if let Some((c, tail)) = rest.split_first_chunk::<16>() {
            // SAFETY: `c` holds 16 bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(c.as_ptr().cast::<__m128i>()) };
            f2 = _mm_add_epi64(f2, v);
            h2 = _mm_add_epi64(h2, _mm_srli_epi64::<32>(v));
            rest = tail;
        }
        let f = _mm_add_epi64(_mm_add_epi64(f0, f1), _mm_add_epi64(f2, f3));
        let h = _mm_add_epi64(_mm_add_epi64(h0, h1), _mm_add_epi64(h2, h3));
        let acc = lane(hsum(f), hsum(h));
        add64(acc, fold128(sum_rest(rest, data)))
    }
}
