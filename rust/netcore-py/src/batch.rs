//! `Batch`: a core batch whose columns numpy sees without a copy.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use netcore_core::Batch;
use netcore_core::demux::{self, Columns, CsumColumns, Dissected, Tables};
use numpy::ndarray::{ArrayView1, ArrayView2};
use numpy::{Element, PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::ConfigError;

/// Packets read together, as columns over Rust memory.
#[pyclass(frozen, module = "netcore._netcore", name = "Batch")]
pub struct PyBatch {
    pub(crate) inner: Batch,
    /// Demultiplexing tables the batch is dissected with.
    pub(crate) tables: Arc<Tables>,
    /// Header columns, computed on first use.
    parsed: OnceLock<Columns>,
    /// Checksum verdicts, computed on first use.
    verified: OnceLock<CsumColumns>,
    /// Where the batch notes that its columns ([`USED_COLUMNS`]) or checksums
    /// ([`USED_CHECKSUMS`]) were used, for the reader that made it.
    usage: Option<Arc<AtomicU8>>,
}

/// A batch's header columns were used.
pub(crate) const USED_COLUMNS: u8 = 1;
/// A batch's checksum verdicts were used.
pub(crate) const USED_CHECKSUMS: u8 = 2;

impl PyBatch {
    pub(crate) fn new(inner: Batch, tables: Arc<Tables>) -> Self {
        PyBatch {
            inner,
            tables,
            parsed: OnceLock::new(),
            verified: OnceLock::new(),
            usage: None,
        }
    }

    /// A batch made by a reader, which learns through `usage` what of it is used; `dissected`
    /// holds the columns (and verdicts) when the reader computed them already.
    pub(crate) fn from_reader(
        inner: Batch,
        dissected: Option<(Columns, Option<CsumColumns>)>,
        tables: Arc<Tables>,
        usage: Arc<AtomicU8>,
    ) -> Self {
        let mut b = PyBatch::new(inner, tables);
        b.usage = Some(usage);
        if let Some((columns, checksums)) = dissected {
            let _ = b.parsed.set(columns);
            if let Some(v) = checksums {
                let _ = b.verified.set(v);
            }
        }
        b
    }

    /// A batch read, dissected and verified in one pass by [`demux::read_dissected`].
    pub(crate) fn from_dissected(d: Dissected, tables: Arc<Tables>, usage: Arc<AtomicU8>) -> Self {
        PyBatch::from_reader(d.batch, Some((d.columns, d.checksums)), tables, usage)
    }

    fn note_use(&self, what: u8) {
        if let Some(u) = &self.usage {
            u.fetch_or(what, Ordering::Relaxed);
        }
    }

    /// The header columns, dissecting (without the GIL) on first use.
    pub(crate) fn parsed(&self, py: Python<'_>) -> &Columns {
        self.note_use(USED_COLUMNS);
        if self.parsed.get().is_none() {
            let cols = py.detach(|| demux::dissect_batch(&self.inner, &self.tables));
            let _ = self.parsed.set(cols);
        }
        self.parsed.get_or_init(Columns::default)
    }

    fn verified(&self, py: Python<'_>) -> &CsumColumns {
        self.note_use(USED_CHECKSUMS);
        let cols = self.parsed(py);
        if self.verified.get().is_none() {
            let v = py.detach(|| demux::verify_batch(&self.inner, cols));
            let _ = self.verified.set(v);
        }
        self.verified.get_or_init(CsumColumns::default)
    }
}

/// `(ip_summed, csum_level, csum)` arrays.
type RxArrays<'py> = (
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<u32>>,
);

/// Lends a column of fixed-size rows as a 2-D array of shape `(len, N)`.
fn lend2<'py, T: Element, const N: usize>(
    owner: &Bound<'py, PyBatch>,
    col: &[[T; N]],
) -> Bound<'py, PyArray2<T>> {
    let flat = col.as_flattened();
    let view = ArrayView2::from_shape((col.len(), N), flat)
        .unwrap_or_else(|_| ArrayView2::from_shape((0, N), &[]).unwrap_or_else(|_| unreachable!()));
    // SAFETY: as in `lend`: the memory belongs to the frozen batch, the array's base object.
    let arr = unsafe { PyArray2::borrow_from_array(&view, owner.clone().into_any()) };
    arr.readwrite().make_nonwriteable();
    arr
}

/// Lends `col` (owned by `owner`, never reallocated) to numpy as a read-only array.
fn lend<'py, T: Element>(owner: &Bound<'py, PyBatch>, col: &[T]) -> Bound<'py, PyArray1<T>> {
    let view = ArrayView1::from(col);
    // SAFETY: `col` lives in the frozen `PyBatch` that becomes the array's base object, so it
    // stays allocated, and is never mutated or reallocated, for as long as the array exists.
    let arr = unsafe { PyArray1::borrow_from_array(&view, owner.clone().into_any()) };
    arr.readwrite().make_nonwriteable();
    arr
}

#[pymethods]
impl PyBatch {
    /// Builds a batch from `(ts_ns, data, wirelen, ifindex, linktype)` tuples (copies the bytes).
    #[staticmethod]
    fn from_packets(packets: Vec<(i64, Vec<u8>, u32, u32, u16)>) -> PyBatch {
        let inner = Batch::from_packets(
            packets
                .iter()
                .map(|(ts, d, w, i, l)| (*ts, d.as_slice(), *w, *i, *l)),
        );
        PyBatch::new(inner, Arc::new(Tables::new()))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Timestamps, int64 nanoseconds since the Unix epoch.
    #[getter]
    fn ts<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<i64>> {
        lend(slf, &slf.get().inner.ts)
    }

    /// Captured lengths.
    #[getter]
    fn caplen<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<u32>> {
        lend(slf, &slf.get().inner.caplen)
    }

    /// Lengths on the wire.
    #[getter]
    fn wirelen<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<u32>> {
        lend(slf, &slf.get().inner.wirelen)
    }

    /// Interface indexes.
    #[getter]
    fn ifindex<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<u32>> {
        lend(slf, &slf.get().inner.ifindex)
    }

    /// Link types.
    #[getter]
    fn linktype<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<u16>> {
        lend(slf, &slf.get().inner.linktype)
    }

    /// Offset of each packet in `data`.
    #[getter]
    fn offset<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<u64>> {
        lend(slf, &slf.get().inner.offset)
    }

    /// The memory holding the packets (a window of the mapped file or of a read buffer).
    #[getter]
    fn data<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyArray1<u8>> {
        lend(slf, slf.get().inner.data.as_slice())
    }

    /// Packet comments as `(row, text)` pairs.
    #[getter]
    fn comments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner.comments.iter().map(|(r, c)| (*r, c.as_str())),
        )
    }

    /// Number of the batch's first packet in its capture (0-based).
    #[getter]
    fn first_index(&self) -> u64 {
        self.inner.first_index
    }

    /// A dissection column by name (see `column_names`), as a read-only array over Rust memory.
    fn column<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        macro_rules! cols {
            ($src:expr; $($n:ident),* ; $($m:ident),*) => {
                match name {
                    $(stringify!($n) => return Ok(lend(slf, &$src.$n).into_any()),)*
                    $(stringify!($m) => return Ok(lend2(slf, &$src.$m).into_any()),)*
                    _ => {}
                }
            };
        }
        if Columns::NAMES.contains(&name) {
            let c = me.parsed(py);
            cols!(c; nlayers, ethertype, vlan, vlan_depth, l3_off, l4_off, payload_off, ip_version,
                l4proto, ttl, src4, dst4, sport, dport, tcp_flags, seq, ack, window, payload_len,
                frag, tunnel, vni, inner_ethertype, inner_l3_off, inner_l4_off, inner_l4proto,
                inner_src4, inner_dst4, inner_sport, inner_dport, truncated, malformed;
                layers, layer_off, src6, dst6);
        }
        let v = me.verified(py);
        cols!(v; csum_ip, csum_l4, csum_inner_ip, csum_inner_l4, drop_reason; csum);
        Err(ConfigError::new_err(format!("no column {name:?}")))
    }

    /// The `ip_summed` state a device with receive checksum offload `mode` ("none",
    /// "unnecessary", "complete") gives each packet: arrays `(ip_summed, csum_level, csum)`,
    /// with `ip_summed` 0 NONE, 1 UNNECESSARY, 2 COMPLETE.
    fn rx_checksum<'py>(slf: &Bound<'py, Self>, mode: &str) -> PyResult<RxArrays<'py>> {
        use netcore_core::demux::RxCsumOffload;
        let offload = match mode {
            "none" => RxCsumOffload::None,
            "unnecessary" => RxCsumOffload::Unnecessary,
            "complete" => RxCsumOffload::Complete,
            other => {
                return Err(ConfigError::new_err(format!(
                    "unknown rx checksum mode {other:?}: use 'none', 'unnecessary' or 'complete'"
                )));
            }
        };
        let py = slf.py();
        let me = slf.get();
        let (cols, verdicts) = (me.parsed(py), me.verified(py));
        let rx = py.detach(|| demux::rx_csum_batch(&me.inner, cols, verdicts, offload));
        Ok((
            PyArray1::from_vec(py, rx.ip_summed),
            PyArray1::from_vec(py, rx.csum_level),
            PyArray1::from_vec(py, rx.csum),
        ))
    }

    /// Names of the dissection columns.
    #[staticmethod]
    fn column_names() -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Columns::NAMES
            .iter()
            .copied()
            .filter(|n| *n != "drop_reason")
            .collect();
        v.extend([
            "csum",
            "csum_ip",
            "csum_l4",
            "csum_inner_ip",
            "csum_inner_l4",
            "drop_reason",
        ]);
        v
    }

    /// Handler assigned to each packet by a `Demux` (0: none), and the unclaimed counts.
    fn classify(
        &self,
        py: Python<'_>,
        demux: &crate::demux::PyDemux,
    ) -> PyResult<crate::demux::Classified> {
        let cols = self.parsed(py);
        demux.classify(py, cols)
    }

    /// Bytes of packet `i` (a copy; use `data` and `offset` for zero-copy views).
    fn packet_bytes(&self, i: usize) -> PyResult<Vec<u8>> {
        self.inner.packet(i).map(<[u8]>::to_vec).ok_or_else(|| {
            ConfigError::new_err(format!(
                "packet {i} outside a batch of {}",
                self.inner.len()
            ))
        })
    }
}
