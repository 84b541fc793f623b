//! `Rss` and `toeplitz`: receive side scaling settings and the hash, over batches.

use std::collections::BTreeMap;

use netcore_core::LinkType;
use netcore_core::rss::{
    FlowType, HashFields, Indirection, RssColumns, RssConfig, RssKey, toeplitz as core_toeplitz,
};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::batch::PyBatch;
use crate::detach::run_detached;
use crate::errors::{ConfigError, PyNetcoreErr};

fn core<T>(r: netcore_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| PyNetcoreErr(e).into())
}

/// Converts Python integers to `u16`/`u32` table values, naming the faulty one.
fn ints<T: TryFrom<i64>>(what: &str, values: Vec<i64>) -> PyResult<Vec<T>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            T::try_from(v)
                .map_err(|_| ConfigError::new_err(format!("{what} {i} is {v}: out of range")))
        })
        .collect()
}

/// `(hash, l4)` arrays.
type HashArrays<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<bool>>);

/// The Toeplitz hash of `data` under `key` (bit by bit; the key needs 4 bytes more than the data).
#[pyfunction]
pub(crate) fn toeplitz(key: &[u8], data: &[u8]) -> PyResult<u32> {
    core(core_toeplitz(key, data))
}

/// A device's RSS settings: hash key, input sets, symmetry, tunnel depth, indirection table.
#[pyclass(frozen, module = "netcore._netcore", name = "Rss")]
pub struct PyRss {
    pub(crate) inner: RssConfig,
}

#[pymethods]
impl PyRss {
    #[new]
    #[pyo3(signature = (queues = 1, *, key = None, indirection = None, weights = None,
                        fields = None, symmetric = false, inner = false, table_size = 128))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        queues: usize,
        key: Option<&[u8]>,
        indirection: Option<Vec<i64>>,
        weights: Option<Vec<i64>>,
        fields: Option<BTreeMap<String, String>>,
        symmetric: bool,
        inner: bool,
        table_size: usize,
    ) -> PyResult<Self> {
        let mut cfg = core(RssConfig::new(queues))?;
        if let Some(key) = key {
            cfg.set_key(core(RssKey::new(key))?);
        }
        cfg.indirection = match (indirection, weights) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new_err(
                    "give an indirection table or weights, not both",
                ));
            }
            (Some(t), None) => core(Indirection::from_entries(
                ints("indirection entry", t)?,
                queues,
            ))?,
            (None, Some(w)) if w.len() != queues => {
                return Err(ConfigError::new_err(format!(
                    "{} weights for {queues} queues: give one per queue",
                    w.len()
                )));
            }
            (None, Some(w)) => core(Indirection::from_weights(&ints("weight", w)?, table_size))?,
            (None, None) => core(Indirection::new(queues, table_size))?,
        };
        for (flow, letters) in fields.unwrap_or_default() {
            let flow = core(FlowType::from_name(&flow))?;
            core(cfg.input.set(flow, core(HashFields::parse(&letters))?))?;
        }
        cfg.symmetric = symmetric;
        cfg.inner = inner;
        Ok(PyRss { inner: cfg })
    }

    /// Number of receive queues.
    #[getter]
    fn num_queues(&self) -> u16 {
        self.inner.queues()
    }

    /// The 40-byte hash key.
    #[getter]
    fn key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.key().as_bytes())
    }

    /// The indirection table: entry `hash % len` is the queue.
    #[getter]
    fn indirection(&self) -> Vec<u16> {
        self.inner.indirection.entries().to_vec()
    }

    /// Number of indirection entries.
    #[getter]
    fn table_size(&self) -> usize {
        self.inner.indirection.entries().len()
    }

    /// The hashed fields per flow type, in ethtool letters (`{"tcp4": "sdfn", ...}`).
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for flow in FlowType::ALL {
            d.set_item(flow.name(), self.inner.input.get(flow).to_string())?;
        }
        Ok(d)
    }

    /// Both directions of a flow hash alike.
    #[getter]
    fn symmetric(&self) -> bool {
        self.inner.symmetric
    }

    /// Tunnels (VXLAN, Geneve, IP-in-IP) hash their inner headers.
    #[getter]
    fn inner(&self) -> bool {
        self.inner.inner
    }

    /// Hash and L4 flag of one frame, or `None` when it holds no IP packet.
    #[pyo3(signature = (frame, linktype = 1))]
    fn hash_frame(&self, frame: &[u8], linktype: u16) -> Option<(u32, bool)> {
        self.inner.hash(frame, LinkType(linktype))
    }

    /// The receive queue of a hash.
    fn queue(&self, hash: u32) -> u16 {
        self.inner.queue(hash)
    }

    /// Hash (uint32, 0 when not hashed) and L4 flag (bool) of every packet of `batch`.
    fn hash<'py>(&self, batch: &Bound<'py, PyAny>) -> PyResult<HashArrays<'py>> {
        let py = batch.py();
        let cols = self.columns(batch)?;
        Ok((
            PyArray1::from_vec(py, cols.hash),
            PyArray1::from_vec(py, cols.l4),
        ))
    }

    /// Receive queue (uint16) of every packet of `batch`; 0 for packets not hashed.
    fn queues<'py>(&self, batch: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<u16>>> {
        Ok(PyArray1::from_vec(batch.py(), self.columns(batch)?.queue))
    }

    fn __repr__(&self) -> String {
        format!(
            "Rss(queues={}, table_size={}, symmetric={}, inner={})",
            self.inner.queues(),
            self.inner.indirection.entries().len(),
            if self.inner.symmetric {
                "True"
            } else {
                "False"
            },
            if self.inner.inner { "True" } else { "False" },
        )
    }
}

impl PyRss {
    /// Hashes a `netcore.Batch` (its selected rows) or a raw `_netcore.Batch`, without the GIL.
    fn columns(&self, batch: &Bound<'_, PyAny>) -> PyResult<RssColumns> {
        let (raw, rows) = if let Ok(raw) = batch.cast::<PyBatch>() {
            (raw.clone(), None)
        } else {
            // A `netcore.Batch` view: the raw batch and the rows it selects.
            let raw = batch
                .getattr("_raw")
                .ok()
                .and_then(|r| r.cast_into::<PyBatch>().ok())
                .ok_or_else(|| {
                    pyo3::exceptions::PyTypeError::new_err("expected a netcore.Batch")
                })?;
            let rows = batch.getattr("_rows")?;
            let rows = if rows.is_none() {
                None
            } else {
                Some(
                    rows.extract::<PyReadonlyArray1<'_, i64>>()?
                        .as_array()
                        .to_vec(),
                )
            };
            (raw, rows)
        };
        let b = &raw.get().inner;
        run_detached(batch.py(), || {
            let mut all = RssColumns::default();
            self.inner.hash_batch(b, &mut all);
            Ok(match rows {
                None => all,
                Some(rows) => select(&all, &rows)?,
            })
        })
    }
}

/// The rows `rows` of `cols`.
fn select(cols: &RssColumns, rows: &[i64]) -> netcore_core::Result<RssColumns> {
    let mut out = RssColumns::default();
    for &r in rows {
        let i = usize::try_from(r)
            .ok()
            .filter(|&i| i < cols.hash.len())
            .ok_or_else(|| netcore_core::Error::Config(format!("batch row {r} out of range")))?;
        out.hash.push(cols.hash[i]);
        out.l4.push(cols.l4[i]);
        out.queue.push(cols.queue[i]);
    }
    Ok(out)
}
