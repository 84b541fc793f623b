//! TCP header (RFC 9293 section 3.1), options included.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |          Source Port          |       Destination Port        |
//! |                        Sequence Number                        |
//! |                    Acknowledgment Number                      |
//! |  Data |Rsv|A|C|E|U|A|P|R|S|F|                                 |
//! | Offset|   |E|W|C|R|C|S|S|Y|I|            Window               |
//! |       |   | |R|E|G|K|H|T|N|N|                                 |
//! |           Checksum            |         Urgent Pointer        |
//! |                           Options                             |
//! ```
//!
//! The view spans one segment exactly: the header, then the payload to the end of the buffer
//! (TCP has no length field; the IP header bounds the segment, so pass the IP payload).
//! [`Packet::new_checked`] checks the data offset (5..=15 words, `Malformed` below 5) and that the
//! whole header is present.
//!
//! Options are read with [`Packet::options`], an iterator that fails cleanly on an option
//! length below 2 or past the header; a known option with an unexpected length is returned as
//! [`TcpOption::Unknown`], as the kernel's `tcp_parse_options` ignores it rather than failing.
//! [`Repr`] keeps the option bytes as they are so that emit reproduces them byte for byte.
//!
//! Checksums take the pseudo-header partial sum as a parameter (`checksum::pseudo_v4` or
//! `checksum::pseudo_v6` with protocol 6 and the segment length), with `_v4`/`_v6` helpers that
//! build it from the addresses.

use core::fmt;

use crate::checksum;
use crate::wire::{Error, Layer, Result, ipv4, ipv6};

mod field {
    use crate::wire::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (4 bits), reserved (3 bits), AE and the 8 classic flags.
    pub const FLAGS: Field = 12..14;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Longest header: data offset 15.
pub const MAX_HEADER_LEN: usize = 60;
/// Most option bytes a header can carry.
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;

/// Option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    /// End of option list (RFC 9293).
    pub const END_OF_LIST: u8 = 0;
    /// No-operation (RFC 9293).
    pub const NOP: u8 = 1;
    /// Maximum segment size (RFC 9293).
    pub const MSS: u8 = 2;
    /// Window scale (RFC 7323).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted (RFC 2018).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (RFC 2018).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323).
    pub const TIMESTAMPS: u8 = 8;
}

fn be16(d: &[u8], f: crate::wire::Field) -> u16 {
    u16::from_be_bytes([d[f.start], d[f.start + 1]])
}

fn be32(d: &[u8], f: crate::wire::Field) -> u32 {
    let s = f.start;
    u32::from_be_bytes([d[s], d[s + 1], d[s + 2], d[s + 3]])
}

/// TCP control bits: the 8 classic flags, AE (RFC 9768's accurate-ECN bit, formerly NS of
/// RFC 3540) and the 3 reserved bits, as the low 12 bits of header bytes 12-13.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Flags(pub u16);

impl Flags {
    /// No flag set.
    pub const EMPTY: Flags = Flags(0);
    /// FIN: no more data from sender.
    pub const FIN: Flags = Flags(0x001);
    /// SYN: synchronise sequence numbers.
    pub const SYN: Flags = Flags(0x002);
    /// RST: reset the connection.
    pub const RST: Flags = Flags(0x004);
    /// PSH: push function.
    pub const PSH: Flags = Flags(0x008);
    /// ACK: the acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x010);
    /// URG: the urgent pointer is significant.
    pub const URG: Flags = Flags(0x020);
    /// ECE: ECN echo (RFC 3168).
    pub const ECE: Flags = Flags(0x040);
    /// CWR: congestion window reduced (RFC 3168).
    pub const CWR: Flags = Flags(0x080);
    /// AE: accurate ECN (RFC 9768); NS (nonce sum) in the historic RFC 3540.
    pub const AE: Flags = Flags(0x100);
    /// The historic name of [`Flags::AE`].
    pub const NS: Flags = Flags::AE;
    /// The three reserved bits between the data offset and AE.
    pub const RESERVED: Flags = Flags(0xe00);
    /// Every bit the field can hold.
    pub const ALL: Flags = Flags(0xfff);

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set here.
    #[must_use]
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set here.
    #[must_use]
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits of both.
    #[must_use]
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl core::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl core::ops::BitAnd for Flags {
    type Output = Flags;
    fn bitand(self, rhs: Flags) -> Flags {
        Flags(self.0 & rhs.0)
    }
}

impl fmt::Display for Flags {
    /// Names of the set flags joined by `|` (`SYN|ACK`), `-` when none; reserved bits as
    /// `RES(0x...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Flags, &str); 9] = [
            (Flags::FIN, "FIN"),
            (Flags::SYN, "SYN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
            (Flags::URG, "URG"),
            (Flags::ECE, "ECE"),
            (Flags::CWR, "CWR"),
            (Flags::AE, "AE"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if self.intersects(Flags::RESERVED) {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "RES({:#x})", (*self & Flags::RESERVED).0 >> 9)?;
            first = false;
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags({self})")
    }
}

/// The blocks of a SACK option (RFC 2018): up to 4 `(left edge, right edge)` pairs, viewed in
/// place.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlocks<'a>(&'a [u8]);

impl<'a> SackBlocks<'a> {
    /// Views `bytes` as SACK blocks; `None` unless the length is a multiple of 8 (trailing
    /// bytes would not form a block).
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Option<SackBlocks<'a>> {
        (bytes.len().is_multiple_of(8)).then_some(SackBlocks(bytes))
    }

    /// Number of blocks.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.0.len() / 8
    }

    /// Whether there is no block.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.len() < 8
    }

    /// Block `i`, if present.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<(u32, u32)> {
        let b = self
            .0
            .get(i.checked_mul(8)?..i.checked_mul(8)?.checked_add(8)?)?;
        Some((
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ))
    }

    /// The blocks, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        let bytes = self.0;
        bytes.chunks_exact(8).map(|b| {
            (
                u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            )
        })
    }

    /// The raw bytes (8 per block).
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Debug for SackBlocks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0): what follows is padding.
    EndOfList,
    /// No-operation (kind 1), used to align options.
    NoOp,
    /// Maximum segment size (kind 2, length 4).
    Mss(u16),
    /// Window scale shift count (kind 3, length 3).
    WindowScale(u8),
    /// SACK permitted (kind 4, length 2).
    SackPermitted,
    /// Selective acknowledgment blocks (kind 5, length 10/18/26/34).
    Sack(SackBlocks<'a>),
    /// Timestamps (kind 8, length 10).
    Timestamps {
        /// Timestamp value.
        tsval: u32,
        /// Timestamp echo reply.
        tsecr: u32,
    },
    /// Any other option, or a known kind with an unexpected length, kept raw.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Option data (after the kind and length bytes).
        data: &'a [u8],
    },
}

impl TcpOption<'_> {
    /// The option kind byte.
    #[must_use]
    pub const fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => kind::END_OF_LIST,
            TcpOption::NoOp => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps { .. } => kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Bytes the option occupies.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOp => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(b) => 2 + b.as_bytes().len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the start of `buf` and returns its length. Fails with `Truncated`
    /// if `buf` is too short and `Malformed` if the option is longer than 255 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        if len > 255 {
            return Err(Error::Malformed {
                layer: Layer::Tcp,
                what: "option longer than 255 bytes",
            });
        }
        let Some(out) = buf.get_mut(..len) else {
            return Err(Error::Truncated {
                layer: Layer::Tcp,
                needed: len,
                available: buf.len(),
            });
        };
        out[0] = self.kind();
        if len > 1 {
            out[1] = len as u8;
        }
        match self {
            TcpOption::EndOfList | TcpOption::NoOp | TcpOption::SackPermitted => {}
            TcpOption::Mss(mss) => out[2..4].copy_from_slice(&mss.to_be_bytes()),
            TcpOption::WindowScale(s) => out[2] = *s,
            TcpOption::Sack(b) => out[2..].copy_from_slice(b.as_bytes()),
            TcpOption::Timestamps { tsval, tsecr } => {
                out[2..6].copy_from_slice(&tsval.to_be_bytes());
                out[6..10].copy_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Unknown { data, .. } => out[2..].copy_from_slice(data),
        }
        Ok(len)
    }
}

/// Iterator over the options of a header. Stops after [`TcpOption::EndOfList`]; yields
/// `Err(Malformed)` once, then stops, on an option length below 2 or past the header.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> TcpOptions<'a> {
    /// Iterates over the options in `bytes` (the header after its first 20 bytes).
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> TcpOptions<'a> {
        TcpOptions {
            rest: bytes,
            done: false,
        }
    }

    fn fail(&mut self, what: &'static str) -> Error {
        self.done = true;
        Error::Malformed {
            layer: Layer::Tcp,
            what,
        }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (&k, after) = self.rest.split_first()?;
        match k {
            kind::END_OF_LIST => {
                self.done = true;
                return Some(Ok(TcpOption::EndOfList));
            }
            kind::NOP => {
                self.rest = after;
                return Some(Ok(TcpOption::NoOp));
            }
            _ => {}
        }
        let Some(&len) = after.first() else {
            return Some(Err(self.fail("option length byte missing")));
        };
        let len = usize::from(len);
        if len < 2 {
            return Some(Err(self.fail("option length below 2")));
        }
        let Some((opt, rest)) = self.rest.split_at_checked(len) else {
            return Some(Err(self.fail("option runs past the header")));
        };
        self.rest = rest;
        let data = &opt[2..];
        Some(Ok(match (k, data) {
            (kind::MSS, &[a, b]) => TcpOption::Mss(u16::from_be_bytes([a, b])),
            (kind::WINDOW_SCALE, &[s]) => TcpOption::WindowScale(s),
            (kind::SACK_PERMITTED, &[]) => TcpOption::SackPermitted,
            (kind::TIMESTAMPS, _) if data.len() == 8 => TcpOption::Timestamps {
                tsval: u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
                tsecr: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            },
            // The kernel accepts 1..=4 blocks (`TCP_NUM_SACKS`); more cannot fit anyway.
            (kind::SACK, _) if !data.is_empty() && data.len() <= 32 => {
                match SackBlocks::new(data) {
                    Some(b) => TcpOption::Sack(b),
                    None => TcpOption::Unknown { kind: k, data },
                }
            }
            _ => TcpOption::Unknown { kind: k, data },
        }))
    }
}

/// A view of a TCP segment: header, options and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it. Accessors may panic on a buffer shorter than the
    /// header; use only on buffers the caller built.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`Self::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the data offset (at least 5 words) and that the whole header is present.
    pub fn check_len(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        if d.len() < HEADER_LEN {
            return Err(Error::Truncated {
                layer: Layer::Tcp,
                needed: HEADER_LEN,
                available: d.len(),
            });
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed {
                layer: Layer::Tcp,
                what: "data offset below 5",
            });
        }
        if d.len() < header_len {
            return Err(Error::Truncated {
                layer: Layer::Tcp,
                needed: header_len,
                available: d.len(),
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The underlying bytes: the whole segment.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ_NUM)
    }

    /// Acknowledgment number (meaningful when ACK is set).
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK_NUM)
    }

    /// Data offset: header length in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS.start] >> 4
    }

    /// Header length in bytes (data offset * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// The control bits, reserved bits included.
    pub fn flags(&self) -> Flags {
        Flags(be16(self.buffer.as_ref(), field::FLAGS) & Flags::ALL.0)
    }

    /// FIN.
    pub fn fin(&self) -> bool {
        self.flags().contains(Flags::FIN)
    }

    /// SYN.
    pub fn syn(&self) -> bool {
        self.flags().contains(Flags::SYN)
    }

    /// RST.
    pub fn rst(&self) -> bool {
        self.flags().contains(Flags::RST)
    }

    /// PSH.
    pub fn psh(&self) -> bool {
        self.flags().contains(Flags::PSH)
    }

    /// ACK.
    pub fn ack(&self) -> bool {
        self.flags().contains(Flags::ACK)
    }

    /// URG.
    pub fn urg(&self) -> bool {
        self.flags().contains(Flags::URG)
    }

    /// ECE.
    pub fn ece(&self) -> bool {
        self.flags().contains(Flags::ECE)
    }

    /// CWR.
    pub fn cwr(&self) -> bool {
        self.flags().contains(Flags::CWR)
    }

    /// AE (formerly NS).
    pub fn ae(&self) -> bool {
        self.flags().contains(Flags::AE)
    }

    /// Window (unscaled).
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WIN_SIZE)
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }

    /// Payload length in bytes.
    pub fn payload_len(&self) -> usize {
        self.buffer.as_ref().len().saturating_sub(self.header_len())
    }

    /// Sequence space the segment occupies: payload plus one each for SYN and FIN.
    pub fn segment_len(&self) -> usize {
        self.payload_len() + usize::from(self.syn()) + usize::from(self.fin())
    }

    /// Whether the checksum is correct given the pseudo-header partial sum `pseudo`
    /// (`checksum::pseudo_v4(src, dst, 6, len)` or `checksum::pseudo_v6(src, dst, 6, len)`,
    /// `len` being the segment length).
    pub fn verify_checksum(&self, pseudo: u32) -> bool {
        checksum::fold(checksum::partial(self.buffer.as_ref(), pseudo)) == 0
    }

    /// [`Self::verify_checksum`] over IPv4; false if the segment exceeds 65535 bytes.
    pub fn verify_checksum_v4(&self, src: ipv4::Address, dst: ipv4::Address) -> bool {
        self.pseudo_v4(src, dst)
            .is_some_and(|p| self.verify_checksum(p))
    }

    /// [`Self::verify_checksum`] over IPv6.
    pub fn verify_checksum_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> bool {
        self.pseudo_v6(src, dst)
            .is_some_and(|p| self.verify_checksum(p))
    }

    fn pseudo_v4(&self, src: ipv4::Address, dst: ipv4::Address) -> Option<u32> {
        let len = u16::try_from(self.buffer.as_ref().len()).ok()?;
        Some(checksum::pseudo_v4(
            src.0,
            dst.0,
            ipv4::Protocol::TCP.0,
            len,
        ))
    }

    fn pseudo_v6(&self, src: &ipv6::Address, dst: &ipv6::Address) -> Option<u32> {
        let len = u32::try_from(self.buffer.as_ref().len()).ok()?;
        Some(checksum::pseudo_v6(
            &src.0,
            &dst.0,
            ipv4::Protocol::TCP.0,
            len,
        ))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The option bytes, padding included (empty if the buffer is shorter than the header
    /// claims).
    #[must_use]
    pub fn options_bytes(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(HEADER_LEN..self.header_len()).unwrap_or(&[])
    }

    /// The options, in order.
    #[must_use]
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions::new(self.options_bytes())
    }

    /// The payload: from the end of the header to the end of the buffer.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        let d: &'a [u8] = self.buffer.as_ref();
        d.get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set16(&mut self, f: crate::wire::Field, v: u16) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes());
    }

    fn set32(&mut self, f: crate::wire::Field, v: u32) {
        self.buffer.as_mut()[f].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the source port.
    pub fn set_src_port(&mut self, port: u16) {
        self.set16(field::SRC_PORT, port);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        self.set16(field::DST_PORT, port);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, seq: u32) {
        self.set32(field::SEQ_NUM, seq);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, ack: u32) {
        self.set32(field::ACK_NUM, ack);
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4, at most 60).
    pub fn set_header_len(&mut self, len: usize) {
        let off = (len / 4).min(15) as u8;
        let d = self.buffer.as_mut();
        d[field::FLAGS.start] = (d[field::FLAGS.start] & 0x0f) | (off << 4);
    }

    /// Sets the control bits (reserved bits included; the data offset is kept).
    pub fn set_flags(&mut self, flags: Flags) {
        let d = self.buffer.as_mut();
        let v = (be16(d, field::FLAGS) & 0xf000) | (flags.0 & Flags::ALL.0);
        d[field::FLAGS].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, window: u16) {
        self.set16(field::WIN_SIZE, window);
    }

    /// Sets the checksum field as given.
    pub fn set_checksum(&mut self, checksum: u16) {
        self.set16(field::CHECKSUM, checksum);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, urgent: u16) {
        self.set16(field::URGENT, urgent);
    }

    /// The option bytes, mutable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..hl)
            .unwrap_or(&mut [])
    }

    /// The payload, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        self.buffer.as_mut().get_mut(hl..).unwrap_or(&mut [])
    }

    /// Computes the checksum over the whole buffer with pseudo-header partial sum `pseudo`
    /// and stores it.
    pub fn fill_checksum(&mut self, pseudo: u32) {
        self.set_checksum(0);
        let c = checksum::fold(checksum::partial(self.buffer.as_ref(), pseudo));
        self.set_checksum(c);
    }

    /// [`Self::fill_checksum`] over IPv4 (leaves the field alone if the segment exceeds 65535
    /// bytes, which IPv4 cannot carry).
    pub fn fill_checksum_v4(&mut self, src: ipv4::Address, dst: ipv4::Address) {
        if let Some(p) = self.pseudo_v4(src, dst) {
            self.fill_checksum(p);
        }
    }

    /// [`Self::fill_checksum`] over IPv6.
    pub fn fill_checksum_v6(&mut self, src: &ipv6::Address, dst: &ipv6::Address) {
        if let Some(p) = self.pseudo_v6(src, dst) {
            self.fill_checksum(p);
        }
    }
}

/// The meaning of a TCP segment; option bytes are kept raw so emit reproduces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number, kept even when ACK is clear so that emit is exact.
    pub ack_number: u32,
    /// Control bits (reserved bits included).
    pub flags: Flags,
    /// Window (unscaled).
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// Option bytes; emit pads them with zeros (end-of-list) to a multiple of 4, and at most
    /// 40 bytes fit.
    pub options: &'a [u8],
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a segment (the checksum is not checked).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_at: packet.urgent_at(),
            options: packet.options_bytes(),
            payload: packet.payload(),
        })
    }

    /// Header length in bytes: 20 plus the options padded to a multiple of 4.
    #[must_use]
    pub const fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len().div_ceil(4) * 4
    }

    /// Bytes the segment occupies: header plus payload.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes the segment (header, options, padding, payload) into the first
    /// [`Self::buffer_len`] bytes of `packet` and fills the checksum over them with
    /// pseudo-header partial sum `pseudo`.
    ///
    /// Fails with `Malformed` if the options exceed 40 bytes, `Truncated` if the buffer is too
    /// short.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        pseudo: u32,
    ) -> Result<()> {
        let hl = self.header_len();
        if hl > MAX_HEADER_LEN {
            return Err(Error::Malformed {
                layer: Layer::Tcp,
                what: "options longer than 40 bytes",
            });
        }
        let total = self.buffer_len();
        let d = packet.buffer.as_mut();
        let Some(seg) = d.get_mut(..total) else {
            return Err(Error::Truncated {
                layer: Layer::Tcp,
                needed: total,
                available: d.len(),
            });
        };
        let mut p = Packet::new_unchecked(seg);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq_number(self.seq_number);
        p.set_ack_number(self.ack_number);
        p.buffer[field::FLAGS.start] = 0;
        p.set_header_len(hl);
        p.set_flags(self.flags);
        p.set_window_len(self.window_len);
        p.set_urgent_at(self.urgent_at);
        let opts = p.options_mut();
        let (given, pad) = opts.split_at_mut(self.options.len());
        given.copy_from_slice(self.options);
        pad.fill(0);
        p.payload_mut().copy_from_slice(self.payload);
        p.fill_checksum(pseudo);
        Ok(())
    }

    /// [`Self::emit`] with the IPv4 pseudo-header built from the addresses.
    pub fn emit_v4<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: ipv4::Address,
        dst: ipv4::Address,
    ) -> Result<()> {
        let Ok(len) = u16::try_from(self.buffer_len()) else {
            return Err(Error::Malformed {
                layer: Layer::Tcp,
                what: "segment over 65535 bytes",
            });
        };
        self.emit(
            packet,
            checksum::pseudo_v4(src.0, dst.0, ipv4::Protocol::TCP.0, len),
        )
    }

    /// [`Self::emit`] with the IPv6 pseudo-header built from the addresses.
    pub fn emit_v6<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: &ipv6::Address,
        dst: &ipv6::Address,
    ) -> Result<()> {
        let Ok(len) = u32::try_from(self.buffer_len()) else {
            return Err(Error::Malformed {
                layer: Layer::Tcp,
                what: "segment over 4 GiB",
            });
        };
        self.emit(
            packet,
            checksum::pseudo_v6(&src.0, &dst.0, ipv4::Protocol::TCP.0, len),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// SYN from Zeek `tcp/timestamp.pcap` frame 1, 192.168.1.10 -> 192.168.2.20: MSS, NOP,
    /// NOP, timestamps, NOP, window scale. Checksum good per tshark.
    static SYN_V4: [u8; 40] = [
        0xed, 0x22, 0x30, 0x39, 0x9f, 0x38, 0x40, 0x4e, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0x72,
        0x10, 0xb4, 0x8d, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a, 0x23, 0xe9,
        0x7f, 0x28, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];
    const SYN_V4_SRC: ipv4::Address = ipv4::Address::new(192, 168, 1, 10);
    const SYN_V4_DST: ipv4::Address = ipv4::Address::new(192, 168, 2, 20);

    /// SYN from Zeek `tcp/ssh-dups.pcap` frame 1, 192.168.0.102 -> 192.168.0.112, whose options
    /// end with SACK-permitted and two end-of-list bytes. Checksum good per tshark.
    static SYN_EOL: [u8; 44] = [
        0xcf, 0xd6, 0x00, 0x16, 0x8c, 0x35, 0xd5, 0xe6, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xff,
        0xff, 0x3d, 0xe1, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x06, 0x01, 0x01,
        0x08, 0x0a, 0x40, 0x1b, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
    ];

    /// SYN-ACK over IPv6 from pcapplusplus `tls.pcap` frame 27,
    /// `2607:f8b0:4005:802::2003` -> `2601:647:4b02:1d20:e4a1:6dfa:6f66:e399`. Checksum good per
    /// tshark.
    static SYN_ACK_V6: [u8; 32] = [
        0x01, 0xbb, 0xc5, 0x79, 0xbb, 0xf1, 0xf0, 0x26, 0xe3, 0xd3, 0xa0, 0x46, 0x80, 0x12, 0xff,
        0xff, 0xb7, 0x33, 0x00, 0x00, 0x02, 0x04, 0x05, 0x50, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03,
        0x03, 0x08,
    ];
    const V6_SRC: ipv6::Address =
        ipv6::Address::new([0x2607, 0xf8b0, 0x4005, 0x802, 0, 0, 0, 0x2003]);
    const V6_DST: ipv6::Address = ipv6::Address::new([
        0x2601, 0x647, 0x4b02, 0x1d20, 0xe4a1, 0x6dfa, 0x6f66, 0xe399,
    ]);

    #[test]
    fn syn_fields_and_options() {
        let p = Packet::new_checked(&SYN_V4[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (60706, 12345));
        assert_eq!((p.seq_number(), p.ack_number()), (0x9f38_404e, 0));
        assert_eq!(p.header_len(), 40);
        assert_eq!(p.flags(), Flags::SYN);
        assert!(p.syn() && !p.ack() && !p.fin() && !p.rst() && !p.psh() && !p.urg());
        assert!(!p.ece() && !p.cwr() && !p.ae());
        assert_eq!(
            (p.window_len(), p.checksum(), p.urgent_at()),
            (29200, 0xb48d, 0)
        );
        assert_eq!((p.payload_len(), p.segment_len()), (0, 1));
        let opts: Vec<_> = p.options().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            [
                TcpOption::Mss(1460),
                TcpOption::NoOp,
                TcpOption::NoOp,
                TcpOption::Timestamps {
                    tsval: 0x23e9_7f28,
                    tsecr: 0
                },
                TcpOption::NoOp,
                TcpOption::WindowScale(7),
            ]
        );
        assert!(p.verify_checksum_v4(SYN_V4_SRC, SYN_V4_DST));
        assert!(!p.verify_checksum_v4(SYN_V4_SRC, ipv4::Address::new(192, 168, 2, 21)));
    }

    #[test]
    fn end_of_list_stops_iteration() {
        let p = Packet::new_checked(&SYN_EOL[..]).unwrap();
        assert!(p.verify_checksum_v4(
            ipv4::Address::new(192, 168, 0, 102),
            ipv4::Address::new(192, 168, 0, 112)
        ));
        let opts: Vec<_> = p.options().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            [
                TcpOption::Mss(1460),
                TcpOption::NoOp,
                TcpOption::WindowScale(6),
                TcpOption::NoOp,
                TcpOption::NoOp,
                TcpOption::Timestamps {
                    tsval: 0x401b_04d0,
                    tsecr: 0
                },
                TcpOption::SackPermitted,
                TcpOption::EndOfList,
            ]
        );
    }

    #[test]
    fn ipv6_checksum() {
        let p = Packet::new_checked(&SYN_ACK_V6[..]).unwrap();
        assert_eq!(p.flags(), Flags::SYN | Flags::ACK);
        assert_eq!(p.flags().to_string(), "SYN|ACK");
        assert!(p.verify_checksum_v6(&V6_SRC, &V6_DST));
        assert!(!p.verify_checksum_v6(&V6_DST, &V6_DST));
        let opts: Vec<_> = p.options().collect::<Result<_>>().unwrap();
        assert_eq!(opts[0], TcpOption::Mss(1360));
        assert_eq!(opts[3], TcpOption::SackPermitted);
        assert_eq!(opts[5], TcpOption::WindowScale(8));
    }

    #[test]
    fn fixtures_round_trip_byte_for_byte() {
        let cases: [(&[u8], u32); 3] = [
            (
                &SYN_V4,
                checksum::pseudo_v4(SYN_V4_SRC.0, SYN_V4_DST.0, 6, 40),
            ),
            (
                &SYN_EOL,
                checksum::pseudo_v4([192, 168, 0, 102], [192, 168, 0, 112], 6, 44),
            ),
            (
                &SYN_ACK_V6,
                checksum::pseudo_v6(&V6_SRC.0, &V6_DST.0, 6, 32),
            ),
        ];
        for (fx, pseudo) in cases {
            let p = Packet::new_checked(fx).unwrap();
            assert!(p.verify_checksum(pseudo));
            let repr = Repr::parse(&p).unwrap();
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut out[..]), pseudo)
                .unwrap();
            assert_eq!(out, fx);
        }
        // And through the address helpers.
        let p = Packet::new_checked(&SYN_ACK_V6[..]).unwrap();
        let repr = Repr::parse(&p).unwrap();
        let mut out = [0u8; 32];
        repr.emit_v6(&mut Packet::new_unchecked(&mut out[..]), &V6_SRC, &V6_DST)
            .unwrap();
        assert_eq!(out, SYN_ACK_V6);
    }

    #[test]
    fn sack_option_built_and_read() {
        // A pure ACK with NOP, NOP, SACK of two blocks (RFC 2018 section 3 layout), payload
        // "hi"; checksum filled then verified over IPv4.
        let blocks = [
            0u8, 0, 0x10, 0, 0, 0, 0x15, 0xb4, 0, 0, 0x20, 0, 0, 0, 0x25, 0xb4,
        ];
        let mut opts = [0u8; 20];
        let mut n = TcpOption::NoOp.emit(&mut opts).unwrap();
        n += TcpOption::NoOp.emit(&mut opts[n..]).unwrap();
        n += TcpOption::Sack(SackBlocks::new(&blocks).unwrap())
            .emit(&mut opts[n..])
            .unwrap();
        assert_eq!(n, 20);
        let repr = Repr {
            src_port: 80,
            dst_port: 40000,
            seq_number: 1,
            ack_number: 0x1000,
            flags: Flags::ACK,
            window_len: 512,
            urgent_at: 0,
            options: &opts[..n],
            payload: b"hi",
        };
        let mut out = vec![0u8; repr.buffer_len()];
        repr.emit_v4(
            &mut Packet::new_unchecked(&mut out[..]),
            SYN_V4_SRC,
            SYN_V4_DST,
        )
        .unwrap();
        let p = Packet::new_checked(&out[..]).unwrap();
        assert!(p.verify_checksum_v4(SYN_V4_SRC, SYN_V4_DST));
        assert_eq!(p.payload(), b"hi");
        let opts: Vec<_> = p.options().collect::<Result<_>>().unwrap();
        let TcpOption::Sack(b) = opts[2] else {
            panic!("not a SACK: {:?}", opts[2])
        };
        assert_eq!(b.len(), 2);
        assert_eq!(
            b.iter().collect::<Vec<_>>(),
            [(0x1000, 0x15b4), (0x2000, 0x25b4)]
        );
        assert_eq!(b.get(1), Some((0x2000, 0x25b4)));
        assert_eq!(b.get(2), None);
    }

    #[test]
    fn bad_options_fail_cleanly() {
        // Length 1.
        let v: Vec<_> = TcpOptions::new(&[2, 1, 5, 0xb4]).collect();
        assert!(matches!(v[..], [Err(Error::Malformed { .. })]));
        // Length 0 (a classic infinite-loop trap).
        let v: Vec<_> = TcpOptions::new(&[0x22, 0, 0, 0]).collect();
        assert!(matches!(v[..], [Err(Error::Malformed { .. })]));
        // Past the end.
        let v: Vec<_> = TcpOptions::new(&[1, 8, 10, 0, 0]).collect();
        assert!(matches!(
            v[..],
            [Ok(TcpOption::NoOp), Err(Error::Malformed { .. })]
        ));
        // Kind with no length byte.
        let v: Vec<_> = TcpOptions::new(&[1, 1, 1, 3]).collect();
        assert_eq!(v.len(), 4);
        assert!(v[3].is_err());
        // Known kinds with unexpected lengths are kept raw.
        let v: Vec<_> = TcpOptions::new(&[2, 3, 9, 5, 3, 1, 1, 1]).collect();
        assert_eq!(
            v,
            [
                Ok(TcpOption::Unknown {
                    kind: 2,
                    data: &[9]
                }),
                Ok(TcpOption::Unknown {
                    kind: 5,
                    data: &[1]
                }),
                Ok(TcpOption::NoOp),
                Ok(TcpOption::NoOp),
            ]
        );
    }

    #[test]
    fn checked_errors() {
        assert_eq!(
            Packet::new_checked(&SYN_V4[..19]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Tcp,
                needed: 20,
                available: 19
            }
        );
        assert_eq!(
            Packet::new_checked(&SYN_V4[..30]).unwrap_err(),
            Error::Truncated {
                layer: Layer::Tcp,
                needed: 40,
                available: 30
            }
        );
        let mut b = SYN_V4;
        b[12] = 0x40;
        assert!(matches!(
            Packet::new_checked(&b[..]),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn flags_and_reserved_bits_round_trip() {
        let mut b = SYN_V4;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_flags(Flags::ALL);
        assert_eq!(p.header_len(), 40);
        assert_eq!(p.flags(), Flags::ALL);
        assert!(p.ae() && p.cwr() && p.ece() && p.urg());
        assert_eq!(
            p.flags().to_string(),
            "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR|AE|RES(0x7)"
        );
        assert_eq!(Flags::EMPTY.to_string(), "-");
    }

    #[test]
    fn option_emit_errors() {
        let mut small = [0u8; 3];
        assert!(TcpOption::Mss(1).emit(&mut small).is_err());
        let big = [0u8; 300];
        assert!(
            TcpOption::Unknown {
                kind: 99,
                data: &big
            }
            .emit(&mut [0u8; 400])
            .is_err()
        );
        let repr = Repr {
            src_port: 0,
            dst_port: 0,
            seq_number: 0,
            ack_number: 0,
            flags: Flags::EMPTY,
            window_len: 0,
            urgent_at: 0,
            options: &[1; 41],
            payload: &[],
        };
        assert!(
            repr.emit(&mut Packet::new_unchecked(&mut [0u8; 80][..]), 0)
                .is_err()
        );
    }

    fn arb_option() -> impl Strategy<Value = (u8, Vec<u8>)> {
        prop_oneof![
            Just((1u8, vec![])),
            any::<u16>().prop_map(|m| (2u8, m.to_be_bytes().to_vec())),
            any::<u8>().prop_map(|s| (3u8, vec![s])),
            Just((4u8, vec![])),
            (1usize..=4)
                .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 8))
                .prop_map(|b| (5u8, b)),
            any::<[u8; 8]>().prop_map(|b| (8u8, b.to_vec())),
            (9u8..=253, proptest::collection::vec(any::<u8>(), 0..6)),
        ]
    }

    fn encode(opts: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, data) in opts {
            out.push(*k);
            if *k != 1 {
                out.push(2 + data.len() as u8);
                out.extend_from_slice(data);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn repr_emit_parse_round_trip(
            ports in any::<(u16, u16)>(), seq in any::<(u32, u32)>(), flags in 0u16..0x1000,
            win in any::<(u16, u16)>(), opts in proptest::collection::vec(arb_option(), 0..4),
            payload in proptest::collection::vec(any::<u8>(), 0..64), pseudo in any::<u32>(),
        ) {
            let mut raw = encode(&opts);
            prop_assume!(raw.len() <= MAX_OPTIONS_LEN);
            while !raw.len().is_multiple_of(4) {
                raw.push(1);
            }
            let repr = Repr {
                src_port: ports.0, dst_port: ports.1, seq_number: seq.0, ack_number: seq.1,
                flags: Flags(flags), window_len: win.0, urgent_at: win.1, options: &raw, payload: &payload,
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), pseudo).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(pseudo));
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
            // Every generated option reads back; re-emitting each gives the same bytes.
            let mut again = Vec::new();
            for o in p.options() {
                let o = o.unwrap();
                let mut b = [0u8; 40];
                let n = o.emit(&mut b).unwrap();
                again.extend_from_slice(&b[..n]);
            }
            prop_assert_eq!(again, raw);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number(), p.header_len());
                let _ = (p.flags(), p.window_len(), p.checksum(), p.urgent_at(), p.segment_len());
                let _ = (p.payload(), p.options_bytes(), p.verify_checksum(0));
                let _ = p.verify_checksum_v4(SYN_V4_SRC, SYN_V4_DST);
                for o in p.options().flatten() {
                    let _ = o.emit(&mut [0u8; 64]);
                }
                prop_assert!(Repr::parse(&p).is_ok());
            }
        }

        #[test]
        fn options_iterator_terminates(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            // Each step consumes at least one byte, so there are at most len + 1 items.
            prop_assert!(TcpOptions::new(&bytes).count() <= bytes.len() + 1);
        }
    }
}
