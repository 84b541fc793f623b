//! Whole captures through GRO or GSO (`netcore gro`, `netcore gso`).

use netcore_core::offload::gro::UdpTunnel;
use netcore_core::offload::run::{self, GsoConfig, OutRecord};
use netcore_core::offload::{Features, GroParams, UdpGro};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::capture::{PyReader, PyWriter};
use crate::detach::run_detached;
use crate::errors::ConfigError;

/// `(len, segs, gso_size, gso_type names)` per packet written.
type Records = Vec<(u32, u32, u32, Vec<&'static str>)>;

fn records(r: Vec<OutRecord>) -> Records {
    r.into_iter()
        .map(|o| (o.len, o.segs, o.gso_size, o.gso_type))
        .collect()
}

fn locked<T>(m: &std::sync::Mutex<T>) -> netcore_core::Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| netcore_core::Error::Config("object unusable after an internal error".into()))
}

/// Runs every packet of `reader` through GRO and writes what goes up to `writer`.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python function
#[pyo3(signature = (reader, writer, *, budget = 64, flush_timeout_ns = 0, max_size = 65536, udp_gro = "off", vxlan_ports = Vec::new(), geneve_ports = Vec::new()))]
pub(crate) fn gro_run<'py>(
    py: Python<'py>,
    reader: &PyReader,
    writer: &PyWriter,
    budget: usize,
    flush_timeout_ns: u64,
    max_size: u32,
    udp_gro: &str,
    vxlan_ports: Vec<u16>,
    geneve_ports: Vec<u16>,
) -> PyResult<(Bound<'py, PyDict>, Records)> {
    let mode = match udp_gro {
        "off" => UdpGro::Off,
        "forwarding" => UdpGro::Forwarding,
        "fraglist" => UdpGro::Fraglist,
        other => {
            return Err(ConfigError::new_err(format!(
                "unknown UDP GRO mode {other:?}: use off, forwarding or fraglist"
            )));
        }
    };
    let params = GroParams {
        budget,
        flush_timeout_ns,
        max_size,
    };
    let features = Features {
        udp_gro: mode,
        ..Features::default()
    };
    let tunnels: Vec<(u16, UdpTunnel)> = vxlan_ports
        .into_iter()
        .map(|p| (p, UdpTunnel::Vxlan))
        .chain(geneve_ports.into_iter().map(|p| (p, UdpTunnel::Geneve)))
        .collect();
    let (stats, recs) = run_detached(py, || {
        let mut r = locked(&reader.inner)?;
        let mut w = locked(&writer.inner)?;
        let mut recs = Vec::new();
        let stats = run::gro_capture(&mut r, &mut w, params, features, &tunnels, &mut recs)?;
        w.flush()?;
        Ok((stats, recs))
    })?;
    let d = PyDict::new(py);
    d.set_item("received", stats.received)?;
    d.set_item("merged", stats.merged)?;
    d.set_item("held", stats.held)?;
    d.set_item("normal", stats.normal)?;
    d.set_item("completed", stats.completed)?;
    d.set_item("singles", stats.singles)?;
    d.set_item("evicted", stats.evicted)?;
    d.set_item("polls", stats.polls)?;
    d.set_item("full_polls", stats.full_polls)?;
    Ok((d, records(recs)))
}

/// Runs every packet of `reader` through software GSO and IP fragmentation into `writer`.
#[pyfunction]
#[pyo3(signature = (reader, writer, *, mss = 1448, mtu = 1500, ufo = false, csum_offload = false))]
pub(crate) fn gso_run<'py>(
    py: Python<'py>,
    reader: &PyReader,
    writer: &PyWriter,
    mss: u16,
    mtu: u16,
    ufo: bool,
    csum_offload: bool,
) -> PyResult<(Bound<'py, PyDict>, Records)> {
    let cfg = GsoConfig {
        mss,
        mtu,
        ufo,
        csum_offload,
    };
    let (stats, recs) = run_detached(py, || {
        let mut r = locked(&reader.inner)?;
        let mut w = locked(&writer.inner)?;
        let mut recs = Vec::new();
        let stats = run::gso_capture(&mut r, &mut w, cfg, &mut recs)?;
        w.flush()?;
        Ok((stats, recs))
    })?;
    let d = PyDict::new(py);
    d.set_item("packets_in", stats.packets_in)?;
    d.set_item("packets_out", stats.packets_out)?;
    d.set_item("segmented", stats.segmented)?;
    d.set_item("passed", stats.passed)?;
    d.set_item("too_big", stats.too_big)?;
    Ok((d, records(recs)))
}
