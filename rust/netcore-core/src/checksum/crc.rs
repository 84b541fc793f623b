//! CRC32c (Castagnoli), the SCTP checksum (RFC 9260 appendix A; RFC 3385).
//!
//! The functions here work on the *register*: the running CRC before the final inversion
//! ([`super::crc32c()`] inverts on the way in and out). The CRC is reflected (least significant bit
//! first) with the polynomial `0x1EDC6F41`, `0x82F63B78` reversed.
//!
//! Kernels:
//! - [`update_sw`]: slicing-by-8 — eight 256-entry tables, built at compile time by a `const fn`,
//!   fold eight bytes per step with eight independent lookups.
//! - `x86::update_sse42`: the SSE4.2 `crc32` instruction on 8-byte words. It has a latency of
//!   three cycles and a throughput of one per cycle, so one chain runs at a third of the
//!   instruction's speed. Buffers of 256 bytes and more are cut into three lanes of about `m`
//!   words that run as three independent chains (the second and third from a zero register); the
//!   lanes are then joined with `crc(A‖B) = crc(A)·x^(8|B|) ⊕ crc₀(B)`, where the
//!   multiplication by a power of `x` modulo the polynomial is one carry-less multiply
//!   (`pclmulqdq`) by a constant from [`SHIFT`] followed by one `crc32` that reduces the 64-bit
//!   product. The `len % 8` leading bytes go first, and the last lane takes the words that do
//!   not divide by three.
//!
//! Both hardware features are detected at run time; without them the table kernel runs.
//!
//! Not used, measured: folding 128-byte strides with `pclmulqdq` alone (eight accumulators,
//! two multiplies per 16 bytes) ran at 14.5 GB/s on the Zen 4 build machine, half the three
//! `crc32` lanes' 28 GB/s, because `pclmulqdq` issues only every other cycle there.

/// The reflected polynomial.
const POLY: u32 = 0x82f6_3b78;

/// Builds the slicing-by-8 tables: `T[0]` advances the register by one byte; `T[k]` by one
/// byte followed by `k` zero bytes.
const fn make_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut n = 0;
    while n < 256 {
        let mut crc = n as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][n] = crc;
        n += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut n = 0;
        while n < 256 {
            let prev = t[k - 1][n];
            t[k][n] = t[0][(prev & 0xff) as usize] ^ (prev >> 8);
            n += 1;
        }
        k += 1;
    }
    t
}

/// Slicing-by-8 tables (8 KiB), computed at compile time.
static TABLES: [[u32; 256]; 8] = make_tables();

/// Table kernel: advances the register `crc` over `data`.
pub(super) fn update_sw(mut crc: u32, data: &[u8]) -> u32 {
    let t = &TABLES;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) ^ u64::from(crc);
        crc = t[7][(x & 0xff) as usize]
            ^ t[6][((x >> 8) & 0xff) as usize]
            ^ t[5][((x >> 16) & 0xff) as usize]
            ^ t[4][((x >> 24) & 0xff) as usize]
            ^ t[3][((x >> 32) & 0xff) as usize]
            ^ t[2][((x >> 40) & 0xff) as usize]
            ^ t[1][((x >> 48) & 0xff) as usize]
            ^ t[0][(x >> 56) as usize];
    }
    for &b in words.remainder() {
        crc = t[0][((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// Multiplies a register (a reflected polynomial of degree < 32) by `x` modulo the polynomial.
#[cfg(any(target_arch = "x86_64", test))]
const fn mul_x(v: u32) -> u32 {
    if v & 1 != 0 { (v >> 1) ^ POLY } else { v >> 1 }
}

/// Most words a lane holds: blocks of `3 * 8 * MAX_LANE_WORDS` bytes (12 KiB) are joined in
/// turn, which keeps [`SHIFT`] small (4 KiB) while the join costs well under 1% of a block.
#[cfg(any(target_arch = "x86_64", test))]
const MAX_LANE_WORDS: usize = 512;

/// Fewest words per lane the three-lane kernel accepts (it is correct from there; whether it is
/// faster is [`THREE_WAY_MIN`]'s business).
#[cfg(target_arch = "x86_64")]
const MIN_LANE_WORDS: usize = 1;

/// Smallest buffer for the three-lane kernel. A join costs about 13 cycles of latency (two
/// moves between register files, `pclmulqdq`, `crc32`) and some set-up; below this, one chain
/// is faster in throughput, because the CPU already overlaps consecutive short calls (measured
/// on Zen 4 with the checksum bench: one chain wins at 128 bytes, ties at 192, loses at 256).
#[cfg(target_arch = "x86_64")]
const THREE_WAY_MIN: usize = 256;

/// `SHIFT[m] = x^(64m - 33) mod P` (reflected), for `m` in `1..=2 * MAX_LANE_WORDS + 2` (a
/// join shifts by at most two lanes, the last of which may hold two extra words).
///
/// Why `- 33`: for reflected 32-bit operands `a` and `b`, the 64-bit carry-less product
/// represents `x · a · b`, and `crc32(0, w)` computes `w · x^32 mod P`; so
/// `crc32(0, clmul(c, SHIFT[m])) = c · x^(64m) mod P`, the register `c` advanced over `m` zero
/// words.
#[cfg(any(target_arch = "x86_64", test))]
static SHIFT: [u32; 2 * MAX_LANE_WORDS + 3] = make_shift();

#[cfg(any(target_arch = "x86_64", test))]
const fn make_shift() -> [u32; 2 * MAX_LANE_WORDS + 3] {
    let mut t = [0u32; 2 * MAX_LANE_WORDS + 3];
    // x^31: the coefficient of x^31 is bit 0 in the reflected form.
    let mut v = 1u32;
    let mut m = 1;
    while m < t.len() {
        t[m] = v;
        let mut i = 0;
        while i < 64 {
            v = mul_x(v);
            i += 1;
        }
        m += 1;
    }
    t
}

/// Carry-less product `a · b mod P` of two reflected polynomials (bit 31 is `x^0`).
#[cfg(test)]
const fn mul_mod(a: u32, mut b: u32) -> u32 {
    let mut p = 0;
    let mut i = 0;
    while i < 32 {
        if a & (0x8000_0000 >> i) != 0 {
            p ^= b;
        }
        b = mul_x(b);
        i += 1;
    }
    p
}

/// Portable model of the hardware join: `reg · SHIFT[m] · x^33 mod P`, which must equal the
/// register advanced over `m` zero words.
#[cfg(test)]
pub(super) fn shift_sw(reg: u32, m: usize) -> u32 {
    let mut v = mul_mod(reg, SHIFT[m]);
    for _ in 0..33 {
        v = mul_x(v);
    }
    v
}

/// Advances the register `crc` over `data` with the fastest kernel this CPU has.
#[inline]
pub(super) fn update(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("sse4.2") {
        if data.len() >= THREE_WAY_MIN && std::is_x86_feature_detected!("pclmulqdq") {
            // SAFETY: the CPU supports SSE4.2 and PCLMULQDQ, checked just above.
            return unsafe { x86::update_3way(crc, data) };
        }
        // SAFETY: the CPU supports SSE4.2, checked just above.
        return unsafe { x86::update_sse42(crc, data) };
    }
    update_sw(crc, data)
}

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    //! SSE4.2 (`crc32`) and PCLMULQDQ kernels (see the parent module for the method).

    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_crc32_u8, _mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64,
        _mm_cvtsi64_si128, _mm_cvtsi128_si64,
    };

    use super::{MAX_LANE_WORDS, MIN_LANE_WORDS, SHIFT};

    /// Reads the little-endian `u64` at the start of `w` (which holds at least 8 bytes).
    #[inline]
    fn load64(w: &[u8]) -> u64 {
        match w.first_chunk::<8>() {
            Some(b) => u64::from_le_bytes(*b),
            None => 0,
        }
    }

    /// Advances `crc` over fewer than 8 bytes with the 4-, 2- and 1-byte instructions.
    #[inline]
    #[target_feature(enable = "sse4.2")]
    fn update_bytes(mut crc: u32, mut data: &[u8]) -> u32 {
        if let Some((w, rest)) = data.split_first_chunk::<4>() {
            crc = _mm_crc32_u32(crc, u32::from_le_bytes(*w));
            data = rest;
        }
        if let Some((w, rest)) = data.split_first_chunk::<2>() {
            crc = _mm_crc32_u16(crc, u16::from_le_bytes(*w));
            data = rest;
        }
        for &b in data {
            crc = _mm_crc32_u8(crc, b);
        }
        crc
    }

    /// One chain of `crc32` instructions: 8 bytes per instruction, then the last bytes.
    #[target_feature(enable = "sse4.2")]
    pub(in crate::checksum) fn update_sse42(crc: u32, data: &[u8]) -> u32 {
        let mut c = u64::from(crc);
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            c = _mm_crc32_u64(c, load64(w));
        }
        update_bytes(c as u32, words.remainder())
    }

    /// `crc · x^(64m) mod P`: the register advanced over `m` zero words (`1 <= m <=
    /// SHIFT.len() - 1`; out of range, the register is returned as is, which no caller does).
    #[inline]
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    fn shift(crc: u32, m: usize) -> u32 {
        let Some(&k) = SHIFT.get(m) else { return crc };
        let p = _mm_clmulepi64_si128::<0x00>(
            _mm_cvtsi64_si128(i64::from(crc)),
            _mm_cvtsi64_si128(i64::from(k)),
        );
        _mm_crc32_u64(0, _mm_cvtsi128_si64(p) as u64) as u32
    }

    /// Three independent `crc32` chains joined by carry-less multiplication.
    ///
    /// The `len % 8` leading bytes go first (the lanes that start from zero do not wait for
    /// them), then blocks of three lanes: `a` and `b` of `m` words, `c` of `m` to `m + 2` words
    /// (it takes the words that do not divide by three, while the joins of `a` and `b` are in
    /// flight).
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    pub(in crate::checksum) fn update_3way(crc: u32, data: &[u8]) -> u32 {
        let Some((head, mut words)) = data.split_at_checked(data.len() % 8) else {
            return update_sse42(crc, data);
        };
        let mut crc = update_bytes(crc, head);
        while words.len() >= 24 * MIN_LANE_WORDS {
            let total = words.len() / 8;
            let (m, mc) = if total >= 3 * MAX_LANE_WORDS {
                (MAX_LANE_WORDS, MAX_LANE_WORDS)
            } else {
                (total / 3, total - 2 * (total / 3))
            };
            let Some((lane_a, rest)) = words.split_at_checked(8 * m) else {
                break;
            };
            let Some((lane_b, rest)) = rest.split_at_checked(8 * m) else {
                break;
            };
            let Some((lane_c, rest)) = rest.split_at_checked(8 * mc) else {
                break;
            };
            let (mut c0, mut c1, mut c2) = (u64::from(crc), 0u64, 0u64);
            let mut cw = lane_c.chunks_exact(8);
            for ((x, y), z) in lane_a
                .chunks_exact(8)
                .zip(lane_b.chunks_exact(8))
                .zip(&mut cw)
            {
                c0 = _mm_crc32_u64(c0, load64(x));
                c1 = _mm_crc32_u64(c1, load64(y));
                c2 = _mm_crc32_u64(c2, load64(z));
            }
            for z in cw {
                c2 = _mm_crc32_u64(c2, load64(z));
            }
            // crc(A‖B‖C) = crc(A)·x^(|B|+|C|) ⊕ crc₀(B)·x^|C| ⊕ crc₀(C): two independent
            // multiplies, so the join adds one multiply's latency, not two.
            crc = shift(c0 as u32, m + mc) ^ shift(c1 as u32, mc) ^ (c2 as u32);
            words = rest;
        }
        update_sse42(crc, words)
    }
}
