//! `Batch`: a core batch whose columns numpy sees without a copy.

use netcore_core::Batch;
use numpy::ndarray::ArrayView1;
use numpy::{Element, PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::ConfigError;

/// Packets read together, as columns over Rust memory.
#[pyclass(frozen, module = "netcore._netcore", name = "Batch")]
pub struct PyBatch {
    pub(crate) inner: Batch,
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
        PyBatch { inner }
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
