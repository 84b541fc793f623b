//! `Reader` and `Writer`: capture files from Python.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use netcore_core::{CaptureReader, CaptureWriter, ReadOptions, WriteFormat, WriterOptions};
use numpy::PyReadonlyArray1;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::batch::{PyBatch, USED_CHECKSUMS, USED_COLUMNS};
use crate::conv;
use crate::detach::run_detached;
use crate::errors::{ConfigError, NetcoreError};
use crate::pyio::PyFileReader;

fn poisoned() -> PyErr {
    NetcoreError::new_err("internal error: a previous call panicked while holding this object")
}

/// Reads a pcap or pcapng capture batch by batch.
#[pyclass(frozen, module = "netcore._netcore", name = "Reader")]
pub struct PyReader {
    pub(crate) inner: Mutex<CaptureReader>,
    /// Tables that batches read here are dissected with.
    tables: Arc<netcore_core::demux::Tables>,
    /// What of the last batch was used (`USED_COLUMNS`, `USED_CHECKSUMS`), noted by the batch.
    used: Arc<AtomicU8>,
}

#[pymethods]
impl PyReader {
    /// `source` is a path (str or os.PathLike) or a binary file object with `read(n)`.
    #[new]
    #[pyo3(signature = (source, *, strict = true, mmap = true, demux = None))]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        strict: bool,
        mmap: bool,
        demux: Option<&crate::demux::PyDemux>,
    ) -> PyResult<Self> {
        let tables = match demux {
            Some(d) => d.snapshot()?,
            None => std::sync::Arc::new(netcore_core::demux::Tables::new()),
        };
        let is_path = source.is_instance_of::<PyString>() || source.hasattr("__fspath__")?;
        let reader = if is_path {
            let path: std::path::PathBuf = source.extract()?;
            run_detached(py, move || {
                CaptureReader::open(&path, ReadOptions { strict, mmap })
            })?
        } else if source.hasattr("read")? {
            let name = source
                .getattr("name")
                .ok()
                .and_then(|n| n.str().ok().map(|s| s.to_string()))
                .unwrap_or_else(|| "<stream>".to_string());
            let input = Box::new(PyFileReader::new(source.clone().unbind()));
            run_detached(py, move || CaptureReader::from_reader(input, &name, strict))?
        } else {
            return Err(ConfigError::new_err(format!(
                "cannot read a capture from {}: pass a path or a binary file object",
                source.get_type().name()?
            )));
        };
        Ok(PyReader {
            inner: Mutex::new(reader),
            tables,
            used: Arc::new(AtomicU8::new(0)),
        })
    }

    /// The next batch of at most `size` packets, or None at the end.
    ///
    /// When the columns (and checksums) of the previous batch were used, as in a loop that
    /// reads them from every batch, this batch's are computed as its records are read, in one
    /// pass while each packet is in the cache; otherwise on first use.
    fn next_batch(&self, py: Python<'_>, size: usize) -> PyResult<Option<PyBatch>> {
        let used = self.used.swap(0, Ordering::Relaxed);
        let (tables, usage) = (Arc::clone(&self.tables), Arc::clone(&self.used));
        if used & USED_COLUMNS != 0 {
            let verify = used & USED_CHECKSUMS != 0;
            let got = run_detached(py, || match self.inner.lock() {
                Ok(mut r) => netcore_core::demux::read_dissected(&mut r, size, &tables, verify),
                Err(_) => Ok(None),
            })?;
            return Ok(got.map(|d| PyBatch::from_dissected(d, tables, usage)));
        }
        let batch = run_detached(py, || match self.inner.lock() {
            Ok(mut r) => r.next_batch(size),
            Err(_) => Ok(None),
        })?;
        Ok(batch.map(|inner| PyBatch::from_reader(inner, None, tables, usage)))
    }

    /// What is known about the capture so far, as a dict.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = self.inner.lock().map_err(|_| poisoned())?;
        conv::info_to_py(py, r.info(), r.odd_timestamps)
    }

    /// `(address, length)` of the mapped input when it is memory-mapped, else None.
    fn memory_range(&self) -> PyResult<Option<(usize, usize)>> {
        let r = self.inner.lock().map_err(|_| poisoned())?;
        Ok(r.memory().map(|m| (m.as_ptr() as usize, m.len())))
    }
}

/// Writes a pcap or pcapng capture.
#[pyclass(frozen, module = "netcore._netcore", name = "Writer")]
pub struct PyWriter {
    pub(crate) inner: Mutex<CaptureWriter>,
}

impl PyWriter {
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut CaptureWriter) -> netcore_core::Result<T> + Send,
    ) -> PyResult<T> {
        run_detached(py, || match self.inner.lock() {
            Ok(mut w) => f(&mut w),
            Err(_) => Err(netcore_core::Error::Config(
                "writer unusable after an internal error".into(),
            )),
        })
    }
}

#[pymethods]
impl PyWriter {
    /// `format` is "pcap" or "pcapng"; `pcap` holds pcap header fields; `interfaces` the
    /// pcapng interfaces to declare (dicts with at least `linktype`).
    #[new]
    #[pyo3(signature = (path, format, *, pcap = None, interfaces = None, application = None))]
    fn new(
        py: Python<'_>,
        path: std::path::PathBuf,
        format: &str,
        pcap: Option<Bound<'_, PyDict>>,
        interfaces: Option<Vec<Bound<'_, PyDict>>>,
        application: Option<String>,
    ) -> PyResult<Self> {
        let header = match &pcap {
            Some(d) => conv::pcap_header_from_py(d)?,
            None => netcore_core::capture::pcap::PcapHeader::new(
                netcore_core::LinkType::ETHERNET,
                262_144,
                true,
            ),
        };
        let mut opts = match format {
            "pcap" => WriterOptions::pcap(header),
            "pcapng" => WriterOptions::pcapng(header.linktype()),
            other => {
                return Err(ConfigError::new_err(format!(
                    "unknown capture format {other:?}: use 'pcap' or 'pcapng'"
                )));
            }
        };
        if let Some(list) = interfaces {
            opts.interfaces = list
                .iter()
                .map(conv::interface_from_py)
                .collect::<PyResult<_>>()?;
        }
        if let Some(a) = application {
            opts.application = a;
        }
        let w = run_detached(py, move || CaptureWriter::create(&path, opts))?;
        Ok(PyWriter {
            inner: Mutex::new(w),
        })
    }

    /// Writes a batch, or the rows `rows` of it.
    #[pyo3(signature = (batch, rows = None))]
    fn write_batch(
        &self,
        py: Python<'_>,
        batch: &Bound<'_, PyBatch>,
        rows: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<()> {
        let rows: Option<Vec<usize>> = match rows {
            Some(r) => Some(
                r.as_array()
                    .iter()
                    .map(|&i| {
                        usize::try_from(i)
                            .map_err(|_| ConfigError::new_err(format!("negative row {i}")))
                    })
                    .collect::<PyResult<_>>()?,
            ),
            None => None,
        };
        let b = &batch.get().inner;
        self.with(py, |w| w.write_batch(b, rows.as_deref()))
    }

    /// Writes one packet from any bytes-like object.
    #[pyo3(signature = (data, ts = 0, wirelen = None, ifindex = 0, comments = Vec::new()))]
    fn write_packet(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        ts: i64,
        wirelen: Option<u32>,
        ifindex: u32,
        comments: Vec<String>,
    ) -> PyResult<()> {
        let buf = PyBuffer::<u8>::get(data)?;
        let bytes = buf.to_vec(py)?;
        let wirelen = wirelen.unwrap_or(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        self.with(py, |w| {
            w.write_packet(
                ifindex,
                ts,
                &bytes,
                wirelen,
                comments.iter().map(String::as_str),
            )
        })
    }

    /// Declares another interface (pcapng); returns its index.
    fn add_interface(&self, py: Python<'_>, iface: &Bound<'_, PyDict>) -> PyResult<u32> {
        let i = conv::interface_from_py(iface)?;
        self.with(py, |w| w.add_interface(i))
    }

    /// Writes out every complete record so far.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, CaptureWriter::flush)
    }

    /// Flushes and closes the file.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, CaptureWriter::close)
    }

    /// Packets written so far.
    #[getter]
    fn packets(&self) -> PyResult<u64> {
        Ok(self.inner.lock().map_err(|_| poisoned())?.packets())
    }

    /// "pcap" or "pcapng".
    #[getter]
    fn format(&self) -> PyResult<&'static str> {
        let w = self.inner.lock().map_err(|_| poisoned())?;
        Ok(match w.format() {
            WriteFormat::Pcap => "pcap",
            WriteFormat::Pcapng => "pcapng",
        })
    }
}
