//! Capture writers: pcap and pcapng, complete records only.
//!
//! Records are assembled in memory and reach the file whole, so a writer stopped at any point
//! (an exception, Ctrl-C, a dropped writer) leaves a valid capture holding every packet written
//! before the last flush; dropping the writer flushes.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::pcap::PcapHeader;
use super::pcapng::emit;
use super::{Interface, LinkType, TsResolution};
use crate::batch::Batch;
use crate::error::{Error, Result};

/// Bytes assembled before they are written out.
const FLUSH_AT: usize = 1 << 20;

/// The container to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    /// Classic pcap (one link type).
    Pcap,
    /// pcapng (any number of interfaces, comments).
    Pcapng,
}

/// How to write a capture.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Container format.
    pub format: WriteFormat,
    /// For pcap: the file header to write (byte order, resolution, link-type field, …).
    pub pcap: PcapHeader,
    /// For pcapng: the interfaces to declare up front.
    pub interfaces: Vec<Interface>,
    /// Name of the writing application (pcapng `shb_userappl`).
    pub application: String,
}

impl WriterOptions {
    /// A pcapng writer with one interface of the given link type and nanosecond timestamps.
    #[must_use]
    pub fn pcapng(linktype: LinkType) -> Self {
        let mut iface = Interface::new(linktype);
        iface.ts_resolution = TsResolution::NANO;
        WriterOptions {
            format: WriteFormat::Pcapng,
            pcap: PcapHeader::new(linktype, 262_144, true),
            interfaces: vec![iface],
            application: concat!("netcore ", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }

    /// A pcap writer with the given header.
    #[must_use]
    pub fn pcap(header: PcapHeader) -> Self {
        WriterOptions {
            format: WriteFormat::Pcap,
            pcap: header,
            ..Self::pcapng(header.linktype())
        }
    }
}

/// Lays out packet records of one writer's format, anywhere (a worker thread's buffer), for
/// the writer to append in one go.
#[derive(Debug, Clone)]
pub struct RecordEncoder {
    pcap: PcapHeader,
    /// The pcapng interface (`None` for pcap).
    iface: Option<Interface>,
    ifindex: u32,
}

impl RecordEncoder {
    /// Appends one record of `data` (captured whole) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>, ts_ns: i64, data: &[u8], wirelen: u32) {
        let wirelen = wirelen.max(u32::try_from(data.len()).unwrap_or(u32::MAX));
        match &self.iface {
            None => self.pcap.emit_record(out, ts_ns, data, wirelen),
            Some(iface) => {
                let units = iface
                    .ts_resolution
                    .from_ns(ts_ns.saturating_sub(iface.ts_offset.saturating_mul(1_000_000_000)));
                emit::enhanced_packet(out, self.ifindex, units, data, wirelen, []);
            }
        }
    }
}

/// Writes packets to a pcap or pcapng file.
pub struct CaptureWriter {
    out: Box<dyn Write + Send>,
    name: String,
    opts: WriterOptions,
    buf: Vec<u8>,
    packets: u64,
    closed: bool,
}

impl CaptureWriter {
    /// Creates (or truncates) `path` and writes the file header at once.
    pub fn create(path: impl AsRef<Path>, opts: WriterOptions) -> Result<Self> {
        let name = path.as_ref().display().to_string();
        let file = File::create(path.as_ref()).map_err(|e| Error::io(&name, e))?;
        Self::new(Box::new(file), &name, opts)
    }

    /// Writes to any byte sink; `name` is used in error messages.
    pub fn new(out: Box<dyn Write + Send>, name: &str, opts: WriterOptions) -> Result<Self> {
        let mut w = CaptureWriter {
            out,
            name: name.to_string(),
            opts,
            buf: Vec::with_capacity(FLUSH_AT + 65_536),
            packets: 0,
            closed: false,
        };
        match w.opts.format {
            WriteFormat::Pcap => {
                if w.opts.pcap.modified {
                    return Err(Error::Config("writing the modified pcap format is not supported; write standard pcap or pcapng".into()));
                }
                w.opts.pcap.emit(&mut w.buf);
            }
            WriteFormat::Pcapng => {
                emit::section_header(&mut w.buf, &w.opts.application);
                for i in &w.opts.interfaces {
                    emit::interface(&mut w.buf, i);
                }
            }
        }
        w.flush()?;
        Ok(w)
    }

    /// Declares another interface (pcapng) and returns its index. For pcap, succeeds only for
    /// the file's own link type (a pcap file has one).
    pub fn add_interface(&mut self, iface: Interface) -> Result<u32> {
        match self.opts.format {
            WriteFormat::Pcap if iface.linktype == self.opts.pcap.linktype() => Ok(0),
            WriteFormat::Pcap => Err(Error::Config(format!(
                "a pcap file holds one link type ({}); cannot add {}: write pcapng instead",
                self.opts.pcap.linktype(),
                iface.linktype
            ))),
            WriteFormat::Pcapng => {
                emit::interface(&mut self.buf, &iface);
                self.opts.interfaces.push(iface);
                Ok(self.opts.interfaces.len() as u32 - 1)
            }
        }
    }

    /// Interfaces declared so far (pcapng).
    #[must_use]
    pub fn interfaces(&self) -> &[Interface] {
        &self.opts.interfaces
    }

    /// The container being written.
    #[must_use]
    pub fn format(&self) -> WriteFormat {
        self.opts.format
    }

    /// Packets written so far.
    #[must_use]
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Appends one packet. `ifindex` selects the pcapng interface (ignored by pcap).
    pub fn write_packet<'c>(
        &mut self,
        ifindex: u32,
        ts_ns: i64,
        data: &[u8],
        wirelen: u32,
        comments: impl IntoIterator<Item = &'c str>,
    ) -> Result<()> {
        if self.closed {
            return Err(Error::Config(format!("{}: writer is closed", self.name)));
        }
        let caplen = u32::try_from(data.len()).map_err(|_| {
            Error::Config(format!(
                "packet of {} bytes is too large for a capture record",
                data.len()
            ))
        })?;
        let wirelen = wirelen.max(caplen);
        match self.opts.format {
            WriteFormat::Pcap => self
                .opts
                .pcap
                .emit_record(&mut self.buf, ts_ns, data, wirelen),
            WriteFormat::Pcapng => {
                let Some(iface) = self.opts.interfaces.get(ifindex as usize) else {
                    return Err(Error::Config(format!(
                        "packet for interface {ifindex}, but only {} declared",
                        self.opts.interfaces.len()
                    )));
                };
                let units = iface
                    .ts_resolution
                    .from_ns(ts_ns.saturating_sub(iface.ts_offset.saturating_mul(1_000_000_000)));
                emit::enhanced_packet(&mut self.buf, ifindex, units, data, wirelen, comments);
            }
        }
        self.packets += 1;
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// An encoder of this file's records for interface `ifindex`, which other threads can use
    /// to lay out records themselves; hand the bytes to [`CaptureWriter::write_encoded`].
    pub fn encoder(&self, ifindex: u32) -> Result<RecordEncoder> {
        let iface = match self.opts.format {
            WriteFormat::Pcap => None,
            WriteFormat::Pcapng => Some(
                self.opts
                    .interfaces
                    .get(ifindex as usize)
                    .cloned()
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "encoder for interface {ifindex}, but only {} declared",
                            self.opts.interfaces.len()
                        ))
                    })?,
            ),
        };
        Ok(RecordEncoder {
            pcap: self.opts.pcap,
            iface,
            ifindex,
        })
    }

    /// Appends `packets` records laid out by a [`RecordEncoder`] of this writer.
    pub fn write_encoded(&mut self, records: &[u8], packets: u64) -> Result<()> {
        if self.closed {
            return Err(Error::Config(format!("{}: writer is closed", self.name)));
        }
        if self.buf.is_empty() && records.len() >= FLUSH_AT {
            self.out
                .write_all(records)
                .map_err(|e| Error::io(&self.name, e))?;
        } else {
            self.buf.extend_from_slice(records);
            if self.buf.len() >= FLUSH_AT {
                self.flush()?;
            }
        }
        self.packets += packets;
        Ok(())
    }

    /// Appends the rows `rows` of a batch (all rows when `None`), with their comments.
    pub fn write_batch(&mut self, batch: &Batch, rows: Option<&[usize]>) -> Result<()> {
        let mut one = |i: usize| -> Result<()> {
            let Some(data) = batch.packet(i) else {
                return Err(Error::Config(format!(
                    "row {i} is outside the batch of {}",
                    batch.len()
                )));
            };
            if self.opts.format == WriteFormat::Pcap
                && batch.linktype[i] != self.opts.pcap.linktype().0
            {
                return Err(Error::Config(format!(
                    "packet {} has {}, but this pcap file holds {}: write pcapng instead",
                    batch.first_index + i as u64,
                    LinkType(batch.linktype[i]),
                    self.opts.pcap.linktype()
                )));
            }
            self.write_packet(
                batch.ifindex[i],
                batch.ts[i],
                data,
                batch.wirelen[i],
                batch.comments_of(i),
            )
        };
        match rows {
            Some(rows) => rows.iter().try_for_each(|&i| one(i))?,
            None => (0..batch.len()).try_for_each(&mut one)?,
        }
        Ok(())
    }

    /// Writes out every complete record assembled so far.
    pub fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.out
                .write_all(&self.buf)
                .map_err(|e| Error::io(&self.name, e))?;
            self.buf.clear();
        }
        self.out.flush().map_err(|e| Error::io(&self.name, e))
    }

    /// Flushes and closes; later writes fail.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.flush();
        self.closed = true;
        r
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `close` reports them.
        let _ = self.close();
    }
}
