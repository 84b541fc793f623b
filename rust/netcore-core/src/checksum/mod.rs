//! Internet checksums (RFC 1071), incremental update (RFC 1624), CRC32c (SCTP, RFC 9260
//! appendix A) and the checksum state a packet carries (`ip_summed`).
//!
//! Conventions follow the kernel's `csum_partial` / `csum_fold`: a *partial* sum is a 32-bit
//! ones'-complement accumulator over big-endian 16-bit words (an odd trailing byte is padded
//! with zero); [`fold`] reduces it to 16 bits and complements it, giving the value to store in a
//! checksum field. A region verifies when the fold of its sum (checksum field included) is 0.
//!
//! Invariants:
//! - A partial sum is only meaningful through [`fold`] (or modulo `0xffff`): two partials that
//!   fold alike are the same sum, as with the kernel's `__wsum`. Partials are end-around
//!   (never reduced with `%`), so a partial is zero only for all-zero data: `+0` and `-0`
//!   (`0x0000`, `0xffff`) are never confused, and a region with a correct checksum field
//!   always folds to 0.
//! - [`partial`] runs at memory speed: see `inet.rs` for the kernels (scalar, SSE2, AVX2 with
//!   run-time detection) and `benches/rust/benches/checksum.rs` for the measurements.
//! - [`crc32c`] uses the SSE4.2 `crc32` instruction in three lanes joined with `pclmulqdq`
//!   when the CPU has them, else slicing-by-8 tables built at compile time (`crc.rs`).

mod crc;
mod inet;
mod state;

#[cfg(test)]
mod tests;

pub use state::IpSummed;

/// Adds the big-endian 16-bit words of `data` to the partial sum `initial` (`csum_partial`).
///
/// Any length and any alignment are accepted; an odd trailing byte counts as the high byte of
/// a word whose low byte is zero. To continue a sum over a second buffer, the first must have
/// an even length, or use [`combine`] with the second buffer's offset.
#[must_use]
#[inline]
pub fn partial(data: &[u8], initial: u32) -> u32 {
    // Native-endian sum, folded to 16 bits and swapped to network order once (RFC 1071 2(B)).
    let s = inet::fold32(inet::fold64(inet::sum_ne(data)));
    let s = if cfg!(target_endian = "little") {
        s.swap_bytes()
    } else {
        s
    };
    add(initial, u32::from(s))
}

/// Folds a 64-bit accumulator to a 32-bit partial sum with end-around carries.
#[must_use]
#[inline]
pub fn fold_to_32(acc: u64) -> u32 {
    inet::fold64(acc)
}

/// Folds a partial sum to 16 bits and complements it: the value of a checksum field
/// (`csum_fold`).
#[must_use]
#[inline]
pub fn fold(sum: u32) -> u16 {
    !inet::fold32(sum)
}

/// Ones'-complement addition of two partial sums (`csum_add`).
#[must_use]
#[inline]
pub fn add(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s + u32::from(carry)
}

/// Ones'-complement subtraction of partial sum `b` from `a` (`csum_sub`), e.g. to take a
/// pulled header out of a `CHECKSUM_COMPLETE` sum.
#[must_use]
#[inline]
pub fn sub(a: u32, b: u32) -> u32 {
    add(a, !b)
}

/// Adds the partial sum `block` of a buffer that starts `offset` bytes after the start of the
/// region summed in `sum` (`csum_block_add`): a block at an odd offset has its bytes swapped.
#[must_use]
#[inline]
pub fn combine(sum: u32, block: u32, offset: usize) -> u32 {
    // Rotating a 32-bit partial by 8 bits multiplies it by 2^8 modulo 0xffff: a byte swap.
    let block = if offset & 1 == 1 {
        block.rotate_right(8)
    } else {
        block
    };
    add(sum, block)
}

/// The Internet checksum of `data`.
#[must_use]
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    fold(partial(data, 0))
}

/// Whether `data`, checksum field included, sums to all ones (a correct checksum).
#[must_use]
#[inline]
pub fn verify(data: &[u8]) -> bool {
    checksum(data) == 0
}

/// Whether `data`, checksum field included, plus the partial sum `pseudo` (a pseudo-header
/// from [`pseudo_v4`] / [`pseudo_v6`], or 0) sums to all ones: the TCP/UDP/ICMPv6 receive check.
#[must_use]
#[inline]
pub fn verify_with(data: &[u8], pseudo: u32) -> bool {
    fold(partial(data, pseudo)) == 0
}

/// Partial sum of the IPv4 pseudo-header (RFC 793 / RFC 768): addresses, protocol, length.
#[must_use]
pub fn pseudo_v4(src: [u8; 4], dst: [u8; 4], protocol: u8, length: u16) -> u32 {
    let mut acc = u64::from(u16::from_be_bytes([src[0], src[1]]));
    acc += u64::from(u16::from_be_bytes([src[2], src[3]]));
    acc += u64::from(u16::from_be_bytes([dst[0], dst[1]]));
    acc += u64::from(u16::from_be_bytes([dst[2], dst[3]]));
    acc += u64::from(protocol) + u64::from(length);
    fold_to_32(acc)
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1).
#[must_use]
pub fn pseudo_v6(src: &[u8; 16], dst: &[u8; 16], next_header: u8, length: u32) -> u32 {
    let s = partial(dst, partial(src, 0));
    fold_to_32(
        u64::from(s)
            + u64::from(length >> 16)
            + u64::from(length & 0xffff)
            + u64::from(next_header),
    )
}

/// Updates checksum field `check` after a 16-bit field changed from `old` to `new`
/// (RFC 1624 equation 3: HC' = ~(~HC + ~m + m')), which never yields the 0xffff/0 ambiguity
/// of RFC 1141's equation.
#[must_use]
#[inline]
pub fn update16(check: u16, old: u16, new: u16) -> u16 {
    let sum = u32::from(!check) + u32::from(!old) + u32::from(new);
    fold(sum)
}

/// Updates checksum field `check` after a 32-bit field (an IPv4 address) changed.
#[must_use]
#[inline]
pub fn update32(check: u16, old: u32, new: u32) -> u16 {
    let sum = u32::from(!check)
        + u32::from(!(old >> 16) as u16)
        + u32::from(!(old as u16))
        + (new >> 16)
        + (new & 0xffff);
    fold(sum)
}

/// CRC32c (Castagnoli) of `data`, as SCTP computes it (RFC 9260 appendix A).
#[must_use]
pub fn crc32c(data: &[u8]) -> u32 {
    !crc::update(!0, data)
}

/// Continues the CRC32c `crc` (a value [`crc32c`] returned) over `data`:
/// `crc32c_append(crc32c(a), b) == crc32c(a ‖ b)`.
#[must_use]
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    !crc::update(!crc, data)
}
