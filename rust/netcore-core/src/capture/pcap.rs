//! Classic pcap: a 24-byte file header, then records of a 16-byte header and the packet bytes.
//!
//! Magic numbers (written in the writer's byte order): `0xa1b2c3d4` microseconds, `0xa1b23c4d`
//! nanoseconds, `0xa1b2cd34` the "modified" format of Kuznetzov's patched libpcap (24-byte record
//! headers with ifindex, protocol and packet type, microseconds).

use super::{LinkType, MAX_RECORD};
use crate::error::CaptureErrorKind;

/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;

const MAGIC_MICRO: u32 = 0xa1b2_c3d4;
const MAGIC_NANO: u32 = 0xa1b2_3c4d;
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// The fields of a pcap file header, kept so that a capture can be written back byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcapHeader {
    /// Byte order of the file.
    pub big_endian: bool,
    /// Timestamps in nanoseconds (otherwise microseconds).
    pub nanosecond: bool,
    /// The "modified" format with 24-byte record headers.
    pub modified: bool,
    /// Version (2.4 in practice).
    pub version: (u16, u16),
    /// GMT offset field (always 0 in practice).
    pub thiszone: i32,
    /// Timestamp accuracy field (always 0 in practice).
    pub sigfigs: u32,
    /// Snapshot length.
    pub snaplen: u32,
    /// The whole link-type field: link type in the low 16 bits, FCS information above.
    pub linktype_field: u32,
}

impl PcapHeader {
    /// A little-endian 2.4 header for the given link type.
    #[must_use]
    pub fn new(linktype: LinkType, snaplen: u32, nanosecond: bool) -> Self {
        PcapHeader {
            big_endian: false,
            nanosecond,
            modified: false,
            version: (2, 4),
            thiszone: 0,
            sigfigs: 0,
            snaplen,
            linktype_field: u32::from(linktype.0),
        }
    }

    /// The link type (low 16 bits of the field).
    #[must_use]
    pub fn linktype(&self) -> LinkType {
        LinkType((self.linktype_field & 0xffff) as u16)
    }

    /// Bytes of FCS at the end of each frame, when the header's F bit says so (bits 28–31).
    #[must_use]
    pub fn fcs_len(&self) -> Option<u8> {
        (self.linktype_field & 0x0400_0000 != 0).then(|| ((self.linktype_field >> 28) * 2) as u8)
    }

    /// Length of each record header.
    #[must_use]
    pub fn record_header_len(&self) -> usize {
        if self.modified { 24 } else { 16 }
    }

    /// Whether `magic` (read little-endian from the first four bytes) starts a pcap file.
    #[must_use]
    pub fn is_magic(first4: [u8; 4]) -> bool {
        let le = u32::from_le_bytes(first4);
        let be = u32::from_be_bytes(first4);
        [MAGIC_MICRO, MAGIC_NANO, MAGIC_MODIFIED]
            .iter()
            .any(|&m| m == le || m == be)
    }

    /// Parses the 24-byte file header.
    pub fn parse(buf: &[u8]) -> Result<Self, CaptureErrorKind> {
        let Some(h) = buf.get(..FILE_HEADER_LEN) else {
            return Err(CaptureErrorKind::Truncated {
                what: "pcap file header",
                needed: FILE_HEADER_LEN as u64,
                available: buf.len() as u64,
            });
        };
        let first4 = [h[0], h[1], h[2], h[3]];
        let (magic, big_endian) = match (u32::from_le_bytes(first4), u32::from_be_bytes(first4)) {
            (m @ (MAGIC_MICRO | MAGIC_NANO | MAGIC_MODIFIED), _) => (m, false),
            (_, m @ (MAGIC_MICRO | MAGIC_NANO | MAGIC_MODIFIED)) => (m, true),
            _ => return Err(CaptureErrorKind::BadMagic(u32::from_be_bytes(first4))),
        };
        let r = Endian(big_endian);
        let version = (r.u16(&h[4..]), r.u16(&h[6..]));
        // libpcap reads major version 2 only (1.x predates the current record header).
        if version.0 != 2 {
            return Err(CaptureErrorKind::UnsupportedVersion {
                format: "pcap",
                major: version.0,
                minor: version.1,
            });
        }
        Ok(PcapHeader {
            big_endian,
            nanosecond: magic == MAGIC_NANO,
            modified: magic == MAGIC_MODIFIED,
            version,
            thiszone: r.u32(&h[8..]) as i32,
            sigfigs: r.u32(&h[12..]),
            snaplen: r.u32(&h[16..]),
            linktype_field: r.u32(&h[20..]),
        })
    }

    /// Writes the 24-byte file header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let w = Endian(self.big_endian);
        let magic = if self.modified {
            MAGIC_MODIFIED
        } else if self.nanosecond {
            MAGIC_NANO
        } else {
            MAGIC_MICRO
        };
        w.put_u32(out, magic);
        w.put_u16(out, self.version.0);
        w.put_u16(out, self.version.1);
        w.put_u32(out, self.thiszone as u32);
        w.put_u32(out, self.sigfigs);
        w.put_u32(out, self.snaplen);
        w.put_u32(out, self.linktype_field);
    }

    /// Reads the record that starts `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not hold the whole record yet (the caller either
    /// supplies more bytes or reports truncation), with the number of bytes needed.
    #[inline]
    pub fn record(&self, buf: &[u8]) -> Result<RecordStep, CaptureErrorKind> {
        let hlen = self.record_header_len();
        let Some(h) = buf.get(..16) else {
            return Ok(RecordStep::NeedMore {
                needed: hlen,
                what: "pcap record header",
            });
        };
        let (caplen, wirelen) = self.lengths(h);
        if caplen > MAX_RECORD {
            return Err(CaptureErrorKind::AbsurdLength {
                what: "pcap record captured",
                length: u64::from(caplen),
                limit: u64::from(MAX_RECORD),
            });
        }
        let total = hlen + caplen as usize;
        if buf.len() < total {
            return Ok(RecordStep::NeedMore {
                needed: total,
                what: "pcap record",
            });
        }
        let (ts, frac_overflow) = self.timestamp(h);
        Ok(RecordStep::Packet {
            len: total,
            data_off: hlen,
            caplen,
            wirelen,
            ts,
            frac_overflow,
        })
    }

    /// Captured and wire lengths of the record header that starts `h` (16 bytes at least).
    #[inline]
    pub(crate) fn lengths(&self, h: &[u8]) -> (u32, u32) {
        let r = Endian(self.big_endian);
        (r.u32(&h[8..]), r.u32(&h[12..]))
    }

    /// Timestamp in ns of the record header that starts `h`, and whether its fraction field
    /// was not below one second (kept as read, but noted).
    #[inline]
    pub(crate) fn timestamp(&self, h: &[u8]) -> (i64, bool) {
        let r = Endian(self.big_endian);
        let (sec, frac) = (r.u32(h), r.u32(&h[4..]));
        let (ns_per_unit, units_per_sec) = if self.nanosecond {
            (1, 1_000_000_000)
        } else {
            (1000, 1_000_000)
        };
        (
            i64::from(sec) * 1_000_000_000 + i64::from(frac) * ns_per_unit,
            frac >= units_per_sec,
        )
    }

    /// Appends one record (header and bytes).
    pub fn emit_record(&self, out: &mut Vec<u8>, ts_ns: i64, data: &[u8], wirelen: u32) {
        let w = Endian(self.big_endian);
        let sec = ts_ns.div_euclid(1_000_000_000);
        let sub = ts_ns.rem_euclid(1_000_000_000);
        let frac = if self.nanosecond { sub } else { sub / 1000 };
        w.put_u32(out, sec as u32);
        w.put_u32(out, frac as u32);
        w.put_u32(out, data.len() as u32);
        w.put_u32(out, wirelen);
        if self.modified {
            // ifindex, protocol, packet type, padding: unknown when writing.
            out.extend_from_slice(&[0; 8]);
        }
        out.extend_from_slice(data);
    }
}

/// What the bytes at a record boundary hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStep {
    /// A packet record of `len` bytes whose data starts `data_off` bytes in.
    Packet {
        /// Bytes of the whole record.
        len: usize,
        /// Offset of the packet bytes in the record.
        data_off: usize,
        /// Captured length.
        caplen: u32,
        /// Wire length.
        wirelen: u32,
        /// Timestamp in ns.
        ts: i64,
        /// The fraction field was not below one second (kept as read, but noted).
        frac_overflow: bool,
    },
    /// The record is not complete in the slice: `needed` bytes are required.
    NeedMore {
        /// Bytes needed from the record start.
        needed: usize,
        /// What is incomplete.
        what: &'static str,
    },
}

/// Fixed-width integer access in one byte order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endian(pub bool);

impl Endian {
    #[inline]
    pub(crate) fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.0 {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }
    #[inline]
    pub(crate) fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.0 {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }
    pub(crate) fn put_u16(self, out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&if self.0 {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    pub(crate) fn put_u32(self, out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&if self.0 {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_in_both_byte_orders() {
        for big_endian in [false, true] {
            for nanosecond in [false, true] {
                let mut h = PcapHeader::new(LinkType::ETHERNET, 262_144, nanosecond);
                h.big_endian = big_endian;
                h.linktype_field = 0x1400_0001;
                let mut out = Vec::new();
                h.emit(&mut out);
                assert_eq!(out.len(), FILE_HEADER_LEN);
                assert_eq!(PcapHeader::parse(&out), Ok(h));
            }
        }
    }

    #[test]
    fn record_round_trips_and_reports_missing_bytes() {
        let h = PcapHeader::new(LinkType::ETHERNET, 65535, true);
        let mut out = Vec::new();
        h.emit_record(&mut out, 1_700_000_000_123_456_789, b"abcdef", 60);
        let step = h.record(&out).unwrap();
        assert_eq!(
            step,
            RecordStep::Packet {
                len: 22,
                data_off: 16,
                caplen: 6,
                wirelen: 60,
                ts: 1_700_000_000_123_456_789,
                frac_overflow: false
            }
        );
        assert!(matches!(
            h.record(&out[..20]),
            Ok(RecordStep::NeedMore { needed: 22, .. })
        ));
        assert!(matches!(
            h.record(&out[..3]),
            Ok(RecordStep::NeedMore { needed: 16, .. })
        ));
    }

    #[test]
    fn absurd_and_bad_headers_are_errors() {
        let h = PcapHeader::new(LinkType::ETHERNET, 65535, false);
        let mut rec = vec![0u8; 16];
        rec[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        assert!(matches!(
            h.record(&rec),
            Err(CaptureErrorKind::AbsurdLength { .. })
        ));
        assert!(matches!(
            PcapHeader::parse(b"snoop\0\0\0"),
            Err(CaptureErrorKind::Truncated { .. })
        ));
        let mut bad = vec![0u8; 24];
        bad[..4].copy_from_slice(b"snoo");
        assert!(matches!(
            PcapHeader::parse(&bad),
            Err(CaptureErrorKind::BadMagic(_))
        ));
        let mut v1 = Vec::new();
        PcapHeader {
            version: (1, 0),
            ..h
        }
        .emit(&mut v1);
        assert!(matches!(
            PcapHeader::parse(&v1),
            Err(CaptureErrorKind::UnsupportedVersion { major: 1, .. })
        ));
    }
}
