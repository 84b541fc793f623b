//! SCTP common header and chunks (RFC 9260 section 3).
//!
//! ```text
//! |     Source Port Number        |     Destination Port Number   |
//! |                      Verification Tag                         |
//! |                           Checksum                            |
//! | Chunk #1: Type | Flags |        Length        | Value ...     |
//! | ...                                                           |
//! ```
//!
//! Each chunk's length counts its 4-byte header and value but not the padding that follows it
//! to a multiple of 4 (section 3.2). [`Packet::chunks`] walks them and fails cleanly on a length
//! below 4 (`Malformed`) or a chunk running past the end (`Truncated`). The padding of the last
//! chunk may be missing: senders must add it, but the iterator still yields the chunk (as tshark
//! decodes it) and leaves the policy to the caller, who can compare [`Chunk::offset`] plus
//! [`Chunk::padded_len`] with the packet length.
//!
//! The checksum is CRC32c over the whole packet with the checksum field taken as zero (RFC 9260
//! appendix A), stored so that the CRC's least significant byte comes first: the field bytes are
//! `crc.to_le_bytes()`, as the kernel's `sctp_compute_cksum` stores `cpu_to_le32` of it. A real
//! frame checks this ordering (the tests use `tcpdump/forces2.pcap`, which tshark calls good).
//! [`Packet::checksum`] reads the field big-endian, which is how tshark displays it.
//!
//! Verification needs the CRC of the packet with a zeroed field, but a capture's bytes are
//! read-only and copying them would allocate per packet. CRC32c is affine over GF(2), so the
//! CRC of the zeroed packet equals the CRC of the packet as stored, corrected by the
//! contribution of the stored field bytes: that contribution is the field value pushed through
//! as many zero bytes as follow it, computed with precomputed "append 2^j zero bytes" operators
//! in at most 32 small matrix-vector products (`zero_shift`).

use crate::checksum;
use crate::wire::{Error, Layer, Result};

mod field {
    use crate::wire::{Field, Rest};

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const VERIFICATION_TAG: Field = 4..8;
    pub const CHECKSUM: Field = 8..12;
    pub const CHUNKS: Rest = 12..;
}

/// Length of the common header.
pub const HEADER_LEN: usize = 12;
/// Length of a chunk header (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;

/// An SCTP chunk type (RFC 9260 section 3.2 and the IANA registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ChunkType(pub u8);

impl ChunkType {
    /// Payload data.
    pub const DATA: ChunkType = ChunkType(0);
    /// Initiation.
    pub const INIT: ChunkType = ChunkType(1);
    /// Initiation acknowledgement.
    pub const INIT_ACK: ChunkType = ChunkType(2);
    /// Selective acknowledgement.
    pub const SACK: ChunkType = ChunkType(3);
    /// Heartbeat request.
    pub const HEARTBEAT: ChunkType = ChunkType(4);
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: ChunkType = ChunkType(5);
    /// Abort.
    pub const ABORT: ChunkType = ChunkType(6);
    /// Shutdown.
    pub const SHUTDOWN: ChunkType = ChunkType(7);
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: ChunkType = ChunkType(8);
    /// Operation error.
    pub const ERROR: ChunkType = ChunkType(9);
    /// State cookie.
    pub const COOKIE_ECHO: ChunkType = ChunkType(10);
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: ChunkType = ChunkType(11);
    /// Explicit congestion notification echo.
    pub const ECNE: ChunkType = ChunkType(12);
    /// Congestion window reduced.
    pub const CWR: ChunkType = ChunkType(13);
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: ChunkType = ChunkType(14);
    /// Authentication (RFC 4895).
    pub const AUTH: ChunkType = ChunkType(15);
    /// Interleaved payload data (RFC 8260).
    pub const I_DATA: ChunkType = ChunkType(64);
    /// Address configuration acknowledgement (RFC 5061).
    pub const ASCONF_ACK: ChunkType = ChunkType(128);
    /// Stream reconfiguration (RFC 6525).
    pub const RE_CONFIG: ChunkType = ChunkType(130);
    /// Padding (RFC 4820).
    pub const PAD: ChunkType = ChunkType(132);
    /// Forward TSN (RFC 3758).
    pub const FORWARD_TSN: ChunkType = ChunkType(192);
    /// Address configuration change (RFC 5061).
    pub const ASCONF: ChunkType = ChunkType(193);
    /// Interleaved forward TSN (RFC 8260).
    pub const I_FORWARD_TSN: ChunkType = ChunkType(194);

    /// The type's name, if known.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "DATA",
            1 => "INIT",
            2 => "INIT_ACK",
            3 => "SACK",
            4 => "HEARTBEAT",
            5 => "HEARTBEAT_ACK",
            6 => "ABORT",
            7 => "SHUTDOWN",
            8 => "SHUTDOWN_ACK",
            9 => "ERROR",
            10 => "COOKIE_ECHO",
            11 => "COOKIE_ACK",
            12 => "ECNE",
            13 => "CWR",
            14 => "SHUTDOWN_COMPLETE",
            15 => "AUTH",
            64 => "I_DATA",
            128 => "ASCONF_ACK",
            130 => "RE_CONFIG",
            132 => "PAD",
            192 => "FORWARD_TSN",
            193 => "ASCONF",
            194 => "I_FORWARD_TSN",
            _ => return None,
        })
    }

    /// Whether a receiver that does not know this type skips it and goes on (the high bit of
    /// the type, RFC 9260 section 3.2: `1x` skip, `0x` stop processing the packet).
    #[must_use]
    pub const fn skip_if_unknown(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// Whether a receiver that does not know this type reports it in an ERROR chunk (the
    /// second-highest bit).
    #[must_use]
    pub const fn report_if_unknown(self) -> bool {
        self.0 & 0x40 != 0
    }
}

/// One chunk, viewed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chunk<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Chunk<'a> {
    /// Chunk type.
    #[must_use]
    pub const fn chunk_type(&self) -> ChunkType {
        ChunkType(self.bytes[0])
    }

    /// Chunk flags.
    #[must_use]
    pub const fn flags(&self) -> u8 {
        self.bytes[1]
    }

    /// The length field: header and value, padding excluded.
    #[must_use]
    pub const fn length(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    /// The length rounded up to a multiple of 4: the bytes up to the next chunk.
    #[must_use]
    pub const fn padded_len(&self) -> usize {
        (self.length() as usize).div_ceil(4) * 4
    }

    /// The value: the bytes after the 4-byte chunk header, up to the length field.
    #[must_use]
    pub fn value(&self) -> &'a [u8] {
        self.bytes.get(CHUNK_HEADER_LEN..).unwrap_or(&[])
    }

    /// The chunk's bytes (header and value, padding excluded).
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Offset of the chunk from the start of the SCTP packet.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

/// Iterator over the chunks of a packet; yields one error and stops on a bad length.
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Chunks<'a> {
    /// Iterates over the chunks in `bytes` (the packet after its 12-byte common header).
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> Chunks<'a> {
        Chunks {
            rest: bytes,
            offset: HEADER_LEN,
            failed: false,
        }
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let available = self.rest.len();
        let err = if available < CHUNK_HEADER_LEN {
            Some(Error::Truncated {
                layer: Layer::Sctp,
                needed: CHUNK_HEADER_LEN,
                available,
            })
        } else {
            let len = usize::from(u16::from_be_bytes([self.rest[2], self.rest[3]]));
            if len < CHUNK_HEADER_LEN {
                Some(Error::Malformed {
                    layer: Layer::Sctp,
                    what: "chunk length below 4",
                })
            } else if len > available {
                Some(Error::Truncated {
                    layer: Layer::Sctp,
                    needed: len,
                    available,
                })
            } else {
                let chunk = Chunk {
                    bytes: &self.rest[..len],
                    offset: self.offset,
                };
                let step = chunk.padded_len().min(available);
                self.rest = &self.rest[step..];
                self.offset += step;
                return Some(Ok(chunk));
            }
        };
        self.failed = true;
        err.map(Err)
    }
}

/// Writes one chunk (header, value, zero padding) at the start of `buf` and returns the bytes
/// used. Fails with `Malformed` if the value makes the chunk longer than 65535 bytes and with
/// `Truncated` if `buf` is too short.
pub fn emit_chunk(buf: &mut [u8], chunk_type: ChunkType, flags: u8, value: &[u8]) -> Result<usize> {
    let len = CHUNK_HEADER_LEN + value.len();
    let Ok(len16) = u16::try_from(len) else {
        return Err(Error::Malformed {
            layer: Layer::Sctp,
            what: "chunk over 65535 bytes",
        });
    };
    let padded = len.div_ceil(4) * 4;
    let available = buf.len();
    let Some(out) = buf.get_mut(..padded) else {
        return Err(Error::Truncated {
            layer: Layer::Sctp,
            needed: padded,
            available,
        });
    };
    out[0] = chunk_type.0;
    out[1] = flags;
    out[2..4].copy_from_slice(&len16.to_be_bytes());
    out[4..len].copy_from_slice(value);
    out[len..].fill(0);
    Ok(padded)
}

/// The reflected CRC32c polynomial (Castagnoli), as `checksum::crc32c` uses it.
const CRC32C_POLY: u32 = 0x82f6_3b78;

/// Multiplies the 32x32 GF(2) matrix `mat` (column `i` is the image of bit `i`) by `vec`.
const fn gf2_times(mat: &[u32; 32], mut vec: u32) -> u32 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 != 0 {
            sum ^= mat[i];
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

/// `mat` applied twice.
const fn gf2_square(mat: &[u32; 32]) -> [u32; 32] {
    let mut sq = [0u32; 32];
    let mut i = 0;
    while i < 32 {
        sq[i] = gf2_times(mat, mat[i]);
        i += 1;
    }
    sq
}

/// `ZERO_OPS[j]` maps a CRC register to the register after feeding `2^j` zero bytes (no
/// pre/post inversion), for `j` in `0..32`.
const ZERO_OPS: [[u32; 32]; 32] = {
    // One zero bit: shift right, folding the polynomial in when the low bit falls out.
    let mut bit = [0u32; 32];
    bit[0] = CRC32C_POLY;
    let mut i = 1;
    while i < 32 {
        bit[i] = 1 << (i - 1);
        i += 1;
    }
    let byte = gf2_square(&gf2_square(&gf2_square(&bit)));
    let mut ops = [[0u32; 32]; 32];
    ops[0] = byte;
    let mut j = 1;
    while j < 32 {
        ops[j] = gf2_square(&ops[j - 1]);
        j += 1;
    }
    ops
};

/// The CRC register `reg` after `n` more zero bytes (`None` if `n` does not fit in 32 bits).
fn zero_shift(mut reg: u32, n: usize) -> Option<u32> {
    let mut n = u32::try_from(n).ok()?;
    let mut j = 0;
    while n != 0 {
        if n & 1 != 0 {
            reg = gf2_times(&ZERO_OPS[j], reg);
        }
        n >>= 1;
        j += 1;
    }
    Some(reg)
}

/// A view of an SCTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it. Accessors may panic on a buffer shorter than 12
    /// bytes; use only on buffers the caller built.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 12-byte common header is present (chunks are checked as they are
    /// iterated).
    pub fn check_len(&self) -> Result<()> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Sctp,
                needed: HEADER_LEN,
                available,
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[2], d[3]])
    }

    /// Verification tag.
    pub fn verification_tag(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[4], d[5], d[6], d[7]])
    }

    /// The checksum field read big-endian, as tshark displays it. The CRC32c value itself is
    /// [`u32::swap_bytes`] of this (the field stores it least significant byte first).
    pub fn checksum(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[8], d[9], d[10], d[11]])
    }

    /// The CRC32c of the packet with the checksum field taken as zero: the value the field
    /// should hold (least significant byte first). `None` over 4 GiB.
    pub fn compute_checksum(&self) -> Option<u32> {
        let d = self.buffer.as_ref();
        let stored = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
        // crc(zeroed) = crc(as stored) ^ raw CRC of (zeros, field, zeros): the stored value
        // as a register pushed through the len - 8 bytes from the field's start (see the
        // module doc).
        let correction = zero_shift(stored, d.len().checked_sub(8)?)?;
        Some(checksum::crc32c(d) ^ correction)
    }

    /// Whether the checksum field holds the packet's CRC32c (RFC 9260 appendix A).
    pub fn verify_checksum(&self) -> bool {
        let d = self.buffer.as_ref();
        let stored = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
        self.compute_checksum() == Some(stored)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the common header.
    #[must_use]
    pub fn chunk_bytes(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(field::CHUNKS).unwrap_or(&[])
    }

    /// The chunks, in order.
    #[must_use]
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks::new(self.chunk_bytes())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&port.to_be_bytes());
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&port.to_be_bytes());
    }

    /// Sets the verification tag.
    pub fn set_verification_tag(&mut self, tag: u32) {
        self.buffer.as_mut()[field::VERIFICATION_TAG].copy_from_slice(&tag.to_be_bytes());
    }

    /// Sets the checksum field, given as [`Packet::checksum`] reads it (big-endian).
    pub fn set_checksum(&mut self, value: u32) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Computes the CRC32c with the field zeroed and stores it least significant byte first.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let crc = checksum::crc32c(self.buffer.as_ref());
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&crc.to_le_bytes());
    }

    /// The bytes after the common header, mutable.
    pub fn chunk_bytes_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(field::CHUNKS)
            .unwrap_or(&mut [])
    }
}

/// The meaning of an SCTP packet, chunks kept as bytes (padding included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub verification_tag: u32,
    /// The chunks as they appear after the common header.
    pub chunks: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a packet, checking that its chunks are well formed (the checksum is not checked).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        for chunk in packet.chunks() {
            chunk?;
        }
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            verification_tag: packet.verification_tag(),
            chunks: packet.chunk_bytes(),
        })
    }

    /// Common header length: always 12.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes the packet occupies.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.chunks.len()
    }

    /// Writes the packet into the first [`Self::buffer_len`] bytes of `packet` and fills the
    /// checksum (`Truncated` if the buffer is too short).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let len = self.buffer_len();
        let d = packet.buffer.as_mut();
        let available = d.len();
        let Some(out) = d.get_mut(..len) else {
            return Err(Error::Truncated {
                layer: Layer::Sctp,
                needed: len,
                available,
            });
        };
        let mut p = Packet::new_unchecked(out);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_verification_tag(self.verification_tag);
        p.chunk_bytes_mut().copy_from_slice(self.chunks);
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// DATA chunk from tcpdump `forces2.pcap` frame 13 (SCTP part); checksum good per tshark
    /// (displayed 0x66ca2521).
    static DATA: [u8; 52] = [
        0x84, 0xc1, 0x1a, 0x30, 0x39, 0xd7, 0x23, 0x70, 0x66, 0xca, 0x25, 0x21, 0x00, 0x03, 0x00,
        0x28, 0xe5, 0x5c, 0xe9, 0x46, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01,
        0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0xf8, 0x00, 0x00, 0x00,
    ];

    /// INIT chunk from tcpdump `forces2.pcap` frame 1 (SCTP part), verification tag 0;
    /// checksum good per tshark (displayed 0x259ef43f).
    static INIT: [u8; 48] = [
        0x84, 0xc1, 0x1a, 0x30, 0x00, 0x00, 0x00, 0x00, 0x25, 0x9e, 0xf4, 0x3f, 0x01, 0x00, 0x00,
        0x24, 0x94, 0xd0, 0x21, 0x98, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x01, 0x00, 0x01, 0xe5, 0x5c,
        0xe9, 0x46, 0x00, 0x0c, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, 0x80, 0x00, 0x00, 0x04, 0xc0,
        0x00, 0x00, 0x04,
    ];

    /// A common header with no chunk from Zeek `cisco-fabric-path.pcap` frame 65; checksum
    /// good per tshark.
    static EMPTY: [u8; 12] = [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0x4e, 0x61, 0xbe, 0x7a];

    fn crc_by_copy(d: &[u8]) -> u32 {
        let mut v = d.to_vec();
        v[8..12].fill(0);
        checksum::crc32c(&v)
    }

    #[test]
    fn checksum_byte_order_matches_real_frames() {
        for fx in [&DATA[..], &INIT[..], &EMPTY[..]] {
            let p = Packet::new_checked(fx).unwrap();
            assert!(p.verify_checksum(), "{:02x?}", &fx[..12]);
            // The field holds the CRC least significant byte first.
            let crc = crc_by_copy(fx);
            assert_eq!(&fx[8..12], &crc.to_le_bytes());
            assert_eq!(p.compute_checksum(), Some(crc));
            assert_eq!(p.checksum(), crc.swap_bytes());
        }
        assert_eq!(
            Packet::new_checked(&DATA[..]).unwrap().checksum(),
            0x66ca_2521
        );
    }

    #[test]
    fn data_chunk_fields() {
        let p = Packet::new_checked(&DATA[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.verification_tag()),
            (33985, 6704, 0x39d7_2370)
        );
        let chunks: Vec<_> = p.chunks().collect::<Result<_>>().unwrap();
        assert_eq!(chunks.len(), 1);
        let c = chunks[0];
        assert_eq!(
            (c.chunk_type(), c.flags(), c.length(), c.offset()),
            (ChunkType::DATA, 3, 40, 12)
        );
        assert_eq!(c.value().len(), 36);
        // TSN, then 24 bytes of user data after the 16-byte DATA header.
        assert_eq!(&c.value()[..4], &[0xe5, 0x5c, 0xe9, 0x46]);
    }

    #[test]
    fn init_chunk_and_padding() {
        let p = Packet::new_checked(&INIT[..]).unwrap();
        let chunks: Vec<_> = p.chunks().collect::<Result<_>>().unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].chunk_type().name(), Some("INIT"));
        assert_eq!((chunks[0].length(), chunks[0].padded_len()), (36, 36));
        // Two chunks, the first with a length not a multiple of 4: padding is skipped, and
        // the last chunk's padding may be absent.
        let mut chunks_bytes = [0u8; 16];
        let n = emit_chunk(&mut chunks_bytes, ChunkType::HEARTBEAT, 0, &[1, 2, 3, 4, 5]).unwrap();
        assert_eq!(n, 12);
        chunks_bytes[12..16].copy_from_slice(&[11, 0, 0, 4]);
        let v: Vec<_> = Chunks::new(&chunks_bytes).collect::<Result<_>>().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].length(), v[0].value()), (9, &[1, 2, 3, 4, 5][..]));
        assert_eq!(
            (v[1].chunk_type(), v[1].offset()),
            (ChunkType::COOKIE_ACK, 24)
        );
        let v: Vec<_> = Chunks::new(&chunks_bytes[..10]).collect();
        assert_eq!(v.len(), 1);
        assert!(v[0].is_ok());
    }

    #[test]
    fn bad_chunks_fail_cleanly() {
        let v: Vec<_> = Chunks::new(&[0, 0, 0, 3, 0, 0, 0, 0]).collect();
        assert_eq!(
            v,
            [Err(Error::Malformed {
                layer: Layer::Sctp,
                what: "chunk length below 4"
            })]
        );
        let v: Vec<_> = Chunks::new(&[0, 0, 0, 0]).collect();
        assert!(matches!(v[..], [Err(Error::Malformed { .. })]));
        let v: Vec<_> = Chunks::new(&[0, 0, 0, 20, 1, 2, 3, 4]).collect();
        assert_eq!(
            v,
            [Err(Error::Truncated {
                layer: Layer::Sctp,
                needed: 20,
                available: 8
            })]
        );
        let v: Vec<_> = Chunks::new(&[11, 0, 0, 4, 9, 9]).collect();
        assert!(matches!(
            v[..],
            [
                Ok(_),
                Err(Error::Truncated {
                    needed: 4,
                    available: 2,
                    ..
                })
            ]
        ));
        assert!(Packet::new_checked(&DATA[..11]).is_err());
        let mut bad = DATA;
        bad[15] = 0x80;
        let p = Packet::new_checked(&bad[..]).unwrap();
        assert!(Repr::parse(&p).is_err());
        assert!(!p.verify_checksum());
    }

    #[test]
    fn fixtures_round_trip() {
        for fx in [&DATA[..], &INIT[..], &EMPTY[..]] {
            let repr = Repr::parse(&Packet::new_checked(fx).unwrap()).unwrap();
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
            assert_eq!(out, fx);
        }
    }

    #[test]
    fn chunk_type_bits() {
        assert!(!ChunkType::DATA.skip_if_unknown());
        assert!(
            ChunkType::FORWARD_TSN.skip_if_unknown() && ChunkType::FORWARD_TSN.report_if_unknown()
        );
        assert!(ChunkType::I_DATA.report_if_unknown());
        assert_eq!(ChunkType(77).name(), None);
    }

    fn arb_chunks() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            (
                any::<u8>(),
                any::<u8>(),
                proptest::collection::vec(any::<u8>(), 0..20),
            ),
            0..5,
        )
        .prop_map(|cs| {
            let mut out = vec![0u8; 5 * 24];
            let mut n = 0;
            for (t, f, v) in cs {
                n += emit_chunk(&mut out[n..], ChunkType(t), f, &v).unwrap();
            }
            out.truncate(n);
            out
        })
    }

    proptest! {
        #[test]
        fn repr_emit_parse_round_trip(ports in any::<(u16, u16)>(), tag in any::<u32>(), chunks in arb_chunks()) {
            let repr = Repr { src_port: ports.0, dst_port: ports.1, verification_tag: tag, chunks: &chunks };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn linear_verification_equals_copying(bytes in proptest::collection::vec(any::<u8>(), 12..300)) {
            let p = Packet::new_checked(&bytes[..]).unwrap();
            prop_assert_eq!(p.compute_checksum(), Some(crc_by_copy(&bytes)));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.src_port(), p.dst_port(), p.verification_tag(), p.checksum(), p.verify_checksum());
                let mut n = 0;
                for c in p.chunks() {
                    if let Ok(c) = c {
                        let _ = (c.chunk_type().name(), c.flags(), c.length(), c.padded_len(), c.value(), c.offset());
                        prop_assert!(c.offset() + c.as_bytes().len() <= bytes.len());
                    }
                    n += 1;
                }
                prop_assert!(n <= bytes.len() / 4 + 1);
                let _ = Repr::parse(&p);
            }
        }
    }
}
