//! `Demux`: a namespace's demultiplexing tables, with handler registration from Python.

use std::sync::{Arc, Mutex};

use netcore_core::DropReason;
use netcore_core::demux::{Columns, Encap, Match, Tables, Unclaimed};
use netcore_core::wire::Layer;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{ConfigError, PyNetcoreErr};

/// Handler per packet (0: none) and unclaimed counts by protocol name.
pub(crate) type Classified = (Vec<u16>, Vec<(String, u64)>);

/// Demultiplexing tables: ethertype, IP protocol and UDP port handlers, and tunnel ports.
#[pyclass(frozen, module = "netcore._netcore", name = "Demux")]
pub struct PyDemux {
    tables: Mutex<Arc<Tables>>,
}

fn poisoned() -> PyErr {
    ConfigError::new_err("demux tables unusable after an internal error")
}

impl PyDemux {
    /// The current tables (cheap: shared until the next change).
    pub(crate) fn snapshot(&self) -> PyResult<Arc<Tables>> {
        Ok(self.tables.lock().map_err(|_| poisoned())?.clone())
    }

    fn change(&self, f: impl FnOnce(&mut Tables) -> netcore_core::Result<()>) -> PyResult<()> {
        let mut guard = self.tables.lock().map_err(|_| poisoned())?;
        let mut t = (**guard).clone();
        f(&mut t).map_err(PyNetcoreErr)?;
        *guard = Arc::new(t);
        Ok(())
    }

    pub(crate) fn classify(&self, py: Python<'_>, cols: &Columns) -> PyResult<Classified> {
        let t = self.snapshot()?;
        let (handlers, unclaimed) = py.detach(|| t.classify(cols));
        let named = unclaimed
            .into_iter()
            .map(|(k, n)| (unclaimed_name(k), n))
            .collect();
        Ok((handlers, named))
    }
}

/// A stable, readable key for an unclaimed protocol ("tcp", "ethertype 0x88cc", …).
fn unclaimed_name(k: Unclaimed) -> String {
    match k {
        Unclaimed::EtherType(0) => "no network layer".into(),
        Unclaimed::EtherType(0x0806) => "arp".into(),
        Unclaimed::EtherType(t) => format!("ethertype {t:#06x}"),
        Unclaimed::IpProto(6) => "tcp".into(),
        Unclaimed::IpProto(17) => "udp".into(),
        Unclaimed::IpProto(1) => "icmp".into(),
        Unclaimed::IpProto(58) => "icmpv6".into(),
        Unclaimed::IpProto(132) => "sctp".into(),
        Unclaimed::IpProto(47) => "gre".into(),
        Unclaimed::IpProto(p) => format!("ip proto {p}"),
        Unclaimed::Fragment => "ip fragment".into(),
        Unclaimed::Malformed(code) => {
            format!(
                "malformed ({})",
                DropReason::from_code(code).map_or("?", DropReason::as_str)
            )
        }
    }
}

#[pymethods]
impl PyDemux {
    #[new]
    fn new() -> Self {
        PyDemux {
            tables: Mutex::new(Arc::new(Tables::new())),
        }
    }

    /// Registers handler number `handler` (1..65535) for exactly one of the keys.
    #[pyo3(signature = (handler, *, ethertype = None, ip_proto = None, udp_port = None))]
    fn register(
        &self,
        handler: u16,
        ethertype: Option<u16>,
        ip_proto: Option<u8>,
        udp_port: Option<u16>,
    ) -> PyResult<()> {
        if handler == 0 {
            return Err(ConfigError::new_err("handler numbers start at 1"));
        }
        let m = match (ethertype, ip_proto, udp_port) {
            (Some(t), None, None) => Match::EtherType(t),
            (None, Some(p), None) => Match::IpProto(p),
            (None, None, Some(p)) => Match::UdpPort(p),
            _ => {
                return Err(ConfigError::new_err(
                    "give exactly one of ethertype=, ip_proto=, udp_port=",
                ));
            }
        };
        self.change(|t| t.register(m, handler))
    }

    /// Removes every registration of handler number `handler`.
    fn unregister(&self, handler: u16) -> PyResult<()> {
        self.change(|t| {
            t.unregister(handler);
            Ok(())
        })
    }

    /// Decapsulates `kind` ("vxlan", "geneve") on UDP port `port`, or nothing with None.
    #[pyo3(signature = (port, kind))]
    fn set_encap(&self, port: u16, kind: Option<&str>) -> PyResult<()> {
        let e = match kind {
            None => None,
            Some("vxlan") => Some(Encap::Vxlan),
            Some("geneve") => Some(Encap::Geneve),
            Some(other) => {
                return Err(ConfigError::new_err(format!(
                    "unknown encapsulation {other:?}: use 'vxlan' or 'geneve'"
                )));
            }
        };
        self.change(|t| {
            t.set_encap(port, e);
            Ok(())
        })
    }

    /// `{port: kind}` of the tunnels decapsulated.
    fn encap_ports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (p, e) in self.snapshot()?.encap_ports() {
            d.set_item(p, if e == Encap::Vxlan { "vxlan" } else { "geneve" })?;
        }
        Ok(d)
    }
}

/// Adds the layer and drop-reason vocabularies to the module.
pub(crate) fn register_names(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let layers = PyDict::new(py);
    for l in Layer::ALL {
        layers.set_item(l as u8, l.name())?;
    }
    m.add("LAYER_NAMES", layers)?;
    let reasons = PyDict::new(py);
    for &r in DropReason::ALL {
        reasons.set_item(r as u16, r.as_str())?;
    }
    m.add("DROP_REASONS", reasons)?;
    Ok(())
}
