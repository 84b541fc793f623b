//! pcapng: a sequence of blocks `type, total length, body, total length`, grouped in sections
//! that each start with a Section Header Block (SHB) fixing the byte order.
//!
//! Packet blocks: Enhanced (EPB, type 6), Simple (SPB, 3) and the obsolete Packet Block (OPB, 2).
//! Interface Description Blocks (IDB, 1) define each section's interfaces; every other block
//! (name resolution, statistics, decryption secrets, custom, unknown) is skipped and counted.

use super::pcap::Endian;
use super::{Interface, LinkType, MAX_RECORD, TsResolution};
use crate::error::CaptureErrorKind;

/// Block type of a Section Header Block; also the first four bytes of every pcapng file.
pub const SHB_TYPE: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const IDB_TYPE: u32 = 1;
const OPB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const IF_FCSLEN: u16 = 13;
const IF_TSOFFSET: u16 = 14;

/// What the bytes at a block boundary hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockStep {
    /// A packet block.
    Packet {
        /// Bytes of the whole block.
        len: usize,
        /// Offset of the packet bytes in the block.
        data_off: usize,
        /// Captured length.
        caplen: u32,
        /// Wire length.
        wirelen: u32,
        /// Timestamp in ns.
        ts: i64,
        /// Global interface index.
        ifindex: u32,
        /// Link type of that interface.
        linktype: LinkType,
        /// `opt_comment` values.
        comments: Vec<String>,
    },
    /// A section header: a new section begins.
    Section {
        /// Bytes of the block.
        len: usize,
    },
    /// An interface description: a new interface was added.
    Interface {
        /// Bytes of the block.
        len: usize,
    },
    /// Any other block, skipped.
    Other {
        /// Bytes of the block.
        len: usize,
        /// Its type.
        block_type: u32,
    },
    /// The block is not complete in the slice.
    NeedMore {
        /// Bytes needed from the block start.
        needed: usize,
        /// What is incomplete.
        what: &'static str,
    },
}

/// A fault in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockError {
    /// Offset of the fault from the block start.
    pub at: usize,
    /// What is wrong.
    pub kind: CaptureErrorKind,
    /// When the block's framing is intact, its length: a lenient reader may skip it and go on.
    pub skip: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Section {
    endian: Endian,
    /// Global index of the section's first interface.
    base: u32,
    /// Interfaces the section has described so far.
    count: u32,
}

/// Parser state across blocks: the current section and every interface seen.
#[derive(Debug, Clone, Default)]
pub struct PcapngParser {
    section: Option<Section>,
    /// Every interface of every section, by global index.
    pub interfaces: Vec<Interface>,
    /// Sections begun so far.
    pub sections: u32,
    /// Byte order and version of the first section.
    pub first_section: Option<(bool, (u16, u16))>,
    /// Lenient mode: faulty options are noted in `notes` instead of failing the block.
    pub lenient: bool,
    /// Faults noted in lenient mode, as (offset from the block start, fault).
    pub notes: Vec<(usize, CaptureErrorKind)>,
}

fn fail(at: usize, kind: CaptureErrorKind, skip: Option<usize>) -> BlockError {
    BlockError { at, kind, skip }
}

impl PcapngParser {
    /// A parser expecting a Section Header Block first.
    #[must_use]
    pub fn new(lenient: bool) -> Self {
        PcapngParser {
            lenient,
            ..Default::default()
        }
    }

    /// Reads the block that starts `buf`.
    pub fn block(&mut self, buf: &[u8]) -> Result<BlockStep, BlockError> {
        if buf.len() < 12 {
            return Ok(BlockStep::NeedMore {
                needed: 12,
                what: "pcapng block header",
            });
        }
        let raw_type = [buf[0], buf[1], buf[2], buf[3]];
        let is_shb = u32::from_le_bytes(raw_type) == SHB_TYPE;
        let endian = if is_shb {
            match (Endian(false).u32(&buf[8..]), Endian(true).u32(&buf[8..])) {
                (BYTE_ORDER_MAGIC, _) => Endian(false),
                (_, BYTE_ORDER_MAGIC) => Endian(true),
                _ => {
                    let kind = CaptureErrorKind::BadLength {
                        what: "pcapng section header",
                        detail: format!(
                            "byte-order magic {:#010x} is neither 0x1a2b3c4d nor its swap",
                            Endian(true).u32(&buf[8..])
                        ),
                    };
                    return Err(fail(8, kind, None));
                }
            }
        } else {
            let Some(section) = self.section else {
                let kind = CaptureErrorKind::NoSection(Endian(false).u32(buf));
                return Err(fail(0, kind, None));
            };
            section.endian
        };
        let block_type = endian.u32(buf);
        let total = endian.u32(&buf[4..]);
        if total < 12 || total % 4 != 0 {
            let detail = format!("total length {total} is not a multiple of 4 of at least 12");
            return Err(fail(
                4,
                CaptureErrorKind::BadLength {
                    what: "pcapng block",
                    detail,
                },
                None,
            ));
        }
        if total > MAX_RECORD {
            let kind = CaptureErrorKind::AbsurdLength {
                what: "pcapng block",
                length: u64::from(total),
                limit: u64::from(MAX_RECORD),
            };
            return Err(fail(4, kind, None));
        }
        let len = total as usize;
        if buf.len() < len {
            return Ok(BlockStep::NeedMore {
                needed: len,
                what: "pcapng block",
            });
        }
        let trailer = endian.u32(&buf[len - 4..]);
        if trailer != total {
            let kind = CaptureErrorKind::TrailerMismatch {
                header: total,
                trailer,
            };
            return Err(fail(len - 4, kind, Some(len)));
        }
        let body = &buf[8..len - 4];
        match block_type {
            SHB_TYPE => self.section_header(endian, body, len),
            IDB_TYPE => self.interface(endian, body, len),
            EPB_TYPE | OPB_TYPE => self.packet(endian, block_type, body, len),
            SPB_TYPE => self.simple_packet(endian, body, len),
            _ => Ok(BlockStep::Other { len, block_type }),
        }
    }

    fn section_header(
        &mut self,
        endian: Endian,
        body: &[u8],
        len: usize,
    ) -> Result<BlockStep, BlockError> {
        if body.len() < 16 {
            return Err(short_body("pcapng section header", 16, body.len(), None));
        }
        let version = (endian.u16(&body[4..]), endian.u16(&body[6..]));
        // Version 1.0 is the format; 1.2 was written by some old tools and is read the same way.
        // Wireshark and libpcap refuse anything else, since it would mean a different layout.
        if version.0 != 1 || !(version.1 == 0 || version.1 == 2) {
            let kind = CaptureErrorKind::UnsupportedVersion {
                format: "pcapng",
                major: version.0,
                minor: version.1,
            };
            return Err(fail(12, kind, None));
        }
        self.options(endian, &body[16..], 24, None, |_, _| {})?;
        self.section = Some(Section {
            endian,
            base: self.interfaces.len() as u32,
            count: 0,
        });
        self.sections += 1;
        self.first_section.get_or_insert((endian.0, version));
        Ok(BlockStep::Section { len })
    }

    fn interface(
        &mut self,
        endian: Endian,
        body: &[u8],
        len: usize,
    ) -> Result<BlockStep, BlockError> {
        if body.len() < 8 {
            return Err(short_body(
                "pcapng interface description",
                8,
                body.len(),
                Some(len),
            ));
        }
        let mut iface = Interface::new(LinkType(endian.u16(body)));
        iface.snaplen = endian.u32(&body[4..]);
        iface.section = self.sections.saturating_sub(1);
        self.options(endian, &body[8..], 16, Some(len), |code, v| match code {
            IF_NAME => iface.name = Some(String::from_utf8_lossy(v).into_owned()),
            IF_DESCRIPTION => iface.description = Some(String::from_utf8_lossy(v).into_owned()),
            IF_TSRESOL if v.len() == 1 => iface.ts_resolution = TsResolution::from_option(v[0]),
            IF_FCSLEN if v.len() == 1 => iface.fcs_len = Some(v[0]),
            IF_TSOFFSET if v.len() == 8 => {
                // A signed 64-bit integer in the section's byte order.
                let b = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
                iface.ts_offset = if endian.0 {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                };
            }
            _ => {}
        })?;
        self.interfaces.push(iface);
        if let Some(s) = self.section.as_mut() {
            s.count += 1;
        }
        Ok(BlockStep::Interface { len })
    }

    fn packet(
        &mut self,
        endian: Endian,
        block_type: u32,
        body: &[u8],
        len: usize,
    ) -> Result<BlockStep, BlockError> {
        let what = if block_type == EPB_TYPE {
            "pcapng enhanced packet"
        } else {
            "pcapng packet"
        };
        if body.len() < 20 {
            return Err(short_body(what, 20, body.len(), Some(len)));
        }
        let local_id = if block_type == EPB_TYPE {
            endian.u32(body)
        } else {
            u32::from(endian.u16(body))
        };
        let (ifindex, iface) = self.lookup(local_id, len)?;
        let (resolution, offset, linktype) = (iface.ts_resolution, iface.ts_offset, iface.linktype);
        let units = (u64::from(endian.u32(&body[4..])) << 32) | u64::from(endian.u32(&body[8..]));
        let caplen = endian.u32(&body[12..]);
        let wirelen = endian.u32(&body[16..]);
        let room = body.len() - 20;
        if caplen as usize > room {
            let detail = format!("captured length {caplen} exceeds the {room} bytes of its block");
            return Err(fail(
                20,
                CaptureErrorKind::BadLength { what, detail },
                Some(len),
            ));
        }
        let padded = (caplen as usize).next_multiple_of(4).min(room);
        let mut comments = Vec::new();
        self.options(
            endian,
            &body[20 + padded..],
            28 + padded,
            Some(len),
            |code, v| {
                if code == OPT_COMMENT {
                    comments.push(String::from_utf8_lossy(v).into_owned());
                }
            },
        )?;
        let ts = resolution
            .to_ns(units)
            .saturating_add(offset.saturating_mul(1_000_000_000));
        Ok(BlockStep::Packet {
            len,
            data_off: 28,
            caplen,
            wirelen,
            ts,
            ifindex,
            linktype,
            comments,
        })
    }

    fn simple_packet(
        &mut self,
        endian: Endian,
        body: &[u8],
        len: usize,
    ) -> Result<BlockStep, BlockError> {
        if body.len() < 4 {
            return Err(short_body("pcapng simple packet", 4, body.len(), Some(len)));
        }
        // An SPB belongs to the section's first interface and carries no timestamp.
        let (ifindex, iface) = self.lookup(0, len)?;
        let wirelen = endian.u32(body);
        let mut caplen = wirelen.min((body.len() - 4) as u32);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        Ok(BlockStep::Packet {
            len,
            data_off: 12,
            caplen,
            wirelen,
            ts: 0,
            ifindex,
            linktype: iface.linktype,
            comments: Vec::new(),
        })
    }

    fn lookup(&self, local_id: u32, len: usize) -> Result<(u32, &Interface), BlockError> {
        let section = self.section.unwrap_or(Section {
            endian: Endian(false),
            base: 0,
            count: 0,
        });
        if local_id >= section.count {
            let kind = CaptureErrorKind::UnknownInterface {
                id: local_id,
                defined: section.count,
            };
            return Err(fail(8, kind, Some(len)));
        }
        let global = section.base + local_id;
        let Some(iface) = self.interfaces.get(global as usize) else {
            let kind = CaptureErrorKind::UnknownInterface {
                id: local_id,
                defined: section.count,
            };
            return Err(fail(8, kind, Some(len)));
        };
        Ok((global, iface))
    }

    /// Walks an option list; `base` is the list's offset from the block start (for errors).
    fn options(
        &mut self,
        endian: Endian,
        opts: &[u8],
        base: usize,
        skip: Option<usize>,
        mut each: impl FnMut(u16, &[u8]),
    ) -> Result<(), BlockError> {
        let mut pos = 0;
        while pos + 4 <= opts.len() {
            let code = endian.u16(&opts[pos..]);
            let olen = endian.u16(&opts[pos + 2..]) as usize;
            if code == OPT_END {
                break;
            }
            let Some(value) = opts.get(pos + 4..pos + 4 + olen) else {
                let detail = format!(
                    "option {code} of length {olen} runs {} bytes past the end of its block",
                    pos + 4 + olen - opts.len()
                );
                let kind = CaptureErrorKind::BadLength {
                    what: "pcapng option",
                    detail,
                };
                if self.lenient {
                    self.notes.push((base + pos, kind));
                    return Ok(());
                }
                return Err(fail(base + pos, kind, skip));
            };
            each(code, value);
            pos += 4 + olen.next_multiple_of(4);
        }
        Ok(())
    }
}

fn short_body(what: &'static str, need: usize, have: usize, skip: Option<usize>) -> BlockError {
    let detail = format!("body of {have} bytes is shorter than the {need} its fields need");
    fail(8, CaptureErrorKind::BadLength { what, detail }, skip)
}

/// Little-endian pcapng emitters.
pub mod emit {
    use super::{BYTE_ORDER_MAGIC, OPT_COMMENT, SHB_TYPE, SHB_USERAPPL, TsResolution};
    use super::{EPB_TYPE, IDB_TYPE, IF_DESCRIPTION, IF_FCSLEN, IF_NAME, IF_TSOFFSET, IF_TSRESOL};
    use crate::capture::Interface;

    fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
        // Option values are limited to u16 lengths; longer text is cut at a char boundary.
        let mut v = value;
        if v.len() > usize::from(u16::MAX) {
            v = &v[..usize::from(u16::MAX)];
        }
        out.extend_from_slice(&code.to_le_bytes());
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        out.extend_from_slice(v);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    fn text(s: &str) -> &[u8] {
        let mut end = s.len().min(usize::from(u16::MAX));
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        &s.as_bytes()[..end]
    }

    fn finish(out: &mut Vec<u8>, start: usize, with_options: bool) {
        if with_options {
            out.extend_from_slice(&[0; 4]); // opt_endofopt
        }
        let total = (out.len() - start + 4) as u32;
        out[start + 4..start + 8].copy_from_slice(&total.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
    }

    /// Appends a Section Header Block naming the writing application.
    pub fn section_header(out: &mut Vec<u8>, application: &str) {
        let start = out.len();
        out.extend_from_slice(&SHB_TYPE.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(-1i64).to_le_bytes()); // section length not known
        option(out, SHB_USERAPPL, text(application));
        finish(out, start, true);
    }

    /// Appends an Interface Description Block.
    pub fn interface(out: &mut Vec<u8>, iface: &Interface) {
        let start = out.len();
        out.extend_from_slice(&IDB_TYPE.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&iface.linktype.0.to_le_bytes());
        out.extend_from_slice(&[0; 2]);
        out.extend_from_slice(&iface.snaplen.to_le_bytes());
        if let Some(name) = &iface.name {
            option(out, IF_NAME, text(name));
        }
        if let Some(d) = &iface.description {
            option(out, IF_DESCRIPTION, text(d));
        }
        if iface.ts_resolution != TsResolution::MICRO {
            option(out, IF_TSRESOL, &[iface.ts_resolution.to_option()]);
        }
        if let Some(f) = iface.fcs_len {
            option(out, IF_FCSLEN, &[f]);
        }
        if iface.ts_offset != 0 {
            option(out, IF_TSOFFSET, &iface.ts_offset.to_le_bytes());
        }
        finish(out, start, true);
    }

    /// Appends an Enhanced Packet Block; `units` is the timestamp in the interface's resolution.
    pub fn enhanced_packet<'c>(
        out: &mut Vec<u8>,
        if_id: u32,
        units: u64,
        data: &[u8],
        wirelen: u32,
        comments: impl IntoIterator<Item = &'c str>,
    ) {
        let start = out.len();
        out.extend_from_slice(&EPB_TYPE.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&if_id.to_le_bytes());
        out.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        out.extend_from_slice(&(units as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&wirelen.to_le_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
        let mut any = false;
        for c in comments {
            option(out, OPT_COMMENT, text(c));
            any = true;
        }
        finish(out, start, any);
    }
}
