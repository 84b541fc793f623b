//! `Ruleset`: native rules parsed once, evaluated over a batch's packets without the GIL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use netcore_core::demux::NONE16;
use netcore_core::netfilter::{Family, PacketInfo, RuleCounters, Ruleset, Verdict, priority};
use numpy::PyArray1;
use pyo3::prelude::*;

use crate::batch::PyBatch;
use crate::detach::run_detached;
use crate::errors::{ConfigError, rule_error};

/// Rules in the native language (one per line), compiled to matchers.
#[pyclass(frozen, module = "netcore._netcore", name = "Ruleset")]
pub struct PyRuleset {
    pub(crate) inner: Arc<Ruleset>,
    /// What `eval_batch` counted so far.
    counters: Mutex<RuleCounters>,
}

#[pymethods]
impl PyRuleset {
    #[new]
    #[pyo3(signature = (text, devices=None))]
    fn new(text: &str, devices: Option<HashMap<String, u32>>) -> PyResult<Self> {
        let devices = devices.unwrap_or_default();
        let inner =
            Ruleset::parse(text, &|name| devices.get(name).copied()).map_err(|e| rule_error(&e))?;
        Ok(PyRuleset {
            counters: Mutex::new(inner.new_counters()),
            inner: Arc::new(inner),
        })
    }

    /// Each rule's source text, in order.
    #[getter]
    fn rules(&self) -> Vec<String> {
        self.inner
            .rules()
            .iter()
            .map(|r| r.text().to_string())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Verdict codes (`int32`) of the batch's packets: the deciding rule's `NF_*` code,
    /// `ACCEPT` when no rule decides, `JUMP` for a jump. Each packet is read from its
    /// outermost IP header; `iif` is the packet's capture interface index; packets that are
    /// not IP see only the rules that do not need an IP header.
    fn eval_batch<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyBatch>,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        let b = batch.get();
        let cols = b.parsed(py);
        let rules = &self.inner;
        let (codes, counted) = run_detached(py, || {
            let mut counters = rules.new_counters();
            let codes = b
                .inner
                .packets()
                .enumerate()
                .map(|(i, pkt)| {
                    let info = packet_info(pkt, cols.l3_off.get(i), cols.ip_version.get(i));
                    let info = PacketInfo {
                        iif: b.inner.ifindex.get(i).copied().unwrap_or(0),
                        ..info
                    };
                    rules.eval(&info, &mut counters).code()
                })
                .collect::<Vec<i32>>();
            Ok((codes, counters))
        })?;
        self.counters
            .lock()
            .map_err(|_| ConfigError::new_err("rule counters unusable after an internal error"))?
            .add(&counted);
        Ok(PyArray1::from_vec(py, codes))
    }

    /// `(packets, bytes)` each rule matched in the batches evaluated so far.
    fn counters(&self) -> PyResult<Vec<(u64, u64)>> {
        let c = self
            .counters
            .lock()
            .map_err(|_| ConfigError::new_err("rule counters unusable after an internal error"))?;
        Ok((0..self.inner.len())
            .map(|i| (c.packets(i), c.bytes(i)))
            .collect())
    }
}

/// What the rules see of a packet whose outermost network header is at `l3_off`.
fn packet_info(pkt: &[u8], l3_off: Option<&u16>, version: Option<&u8>) -> PacketInfo {
    let family = match version {
        Some(4) => Some(Family::Ipv4),
        Some(6) => Some(Family::Ipv6),
        _ => None,
    };
    let ip = l3_off
        .filter(|&&o| o != NONE16)
        .and_then(|&o| pkt.get(usize::from(o)..));
    match (family, ip) {
        (Some(f), Some(ip)) => PacketInfo::parse(ip, f),
        _ => None,
    }
    .unwrap_or(PacketInfo {
        length: pkt.len() as u32,
        ..PacketInfo::default()
    })
}

/// Adds the verdict codes and hook priorities to the module.
pub(crate) fn register_constants(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ACCEPT", Verdict::ACCEPT)?;
    m.add("DROP", Verdict::DROP)?;
    m.add("STOLEN", Verdict::STOLEN)?;
    m.add("QUEUE", Verdict::QUEUE)?;
    m.add("REPEAT", Verdict::REPEAT)?;
    m.add("JUMP", netcore_core::netfilter::JUMP_CODE)?;
    let named: HashMap<&str, i32> = [
        ("first", priority::FIRST),
        ("raw_before_defrag", priority::RAW_BEFORE_DEFRAG),
        ("conntrack_defrag", priority::CONNTRACK_DEFRAG),
        ("raw", priority::RAW),
        ("selinux_first", priority::SELINUX_FIRST),
        ("conntrack", priority::CONNTRACK),
        ("mangle", priority::MANGLE),
        ("dstnat", priority::NAT_DST),
        ("filter", priority::FILTER),
        ("security", priority::SECURITY),
        ("srcnat", priority::NAT_SRC),
        ("selinux_last", priority::SELINUX_LAST),
        ("conntrack_helper", priority::CONNTRACK_HELPER),
        ("last", priority::LAST),
    ]
    .into_iter()
    .collect();
    m.add("PRIORITIES", named)
}

/// The priority nft would read from `text` (`"filter"`, `"dstnat - 5"`, `"-150"`), or `None`.
#[pyfunction]
pub(crate) fn parse_priority(text: &str) -> Option<i32> {
    priority::parse(text)
}
