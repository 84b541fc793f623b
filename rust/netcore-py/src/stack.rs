//! The stack (`netcore.Namespace`'s engine): devices, routes, hooks, replay.
//!
//! Python hooks are reached through one dispatch callable that the Python layer supplies: the
//! core calls it from worker threads (taking the GIL once per batch per queue) with the
//! batch's packets, and it answers with verdicts, edits and the positions its error policy
//! judged.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use netcore_core::Batch;
use netcore_core::capture::pcap::PcapHeader;
use netcore_core::capture::{CaptureWriter, LinkType, WriterOptions};
use netcore_core::demux::{RxCsumOffload, Tables};
use netcore_core::ip::{Prefix, Route, RouteKind};
use netcore_core::netfilter::{Family, HookPoint, Verdict};
use netcore_core::offload::{Features, GroParams, UdpGro};
use netcore_core::rss::XpsMap;
use netcore_core::skb::Skb;
use netcore_core::stack::rewrite::Edit;
use netcore_core::stack::{
    self as core_stack, DeviceConfig, ExternalHooks, ExternalId, HookAbort, HookAction,
    HookColumns, HookEntry, HookReply, QueueCounters, ReplayError, ReplayOptions, Report, Sink,
    Stack,
};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::batch::PyBatch;
use crate::capture::PyReader;
use crate::detach::run_detached;
use crate::errors::{ConfigError, NetcoreError, PyNetcoreErr};
use crate::rss::PyRss;
use crate::rules::PyRuleset;

fn config(msg: String) -> PyErr {
    ConfigError::new_err(msg)
}

fn point_of(name: &str) -> PyResult<HookPoint> {
    HookPoint::parse(name).ok_or_else(|| {
        config(format!(
            "unknown hook point {name:?}: use ingress, prerouting, input, forward, output, \
             postrouting or egress"
        ))
    })
}

fn family_of(name: Option<&str>) -> PyResult<Option<Family>> {
    match name {
        None | Some("inet" | "any") => Ok(None),
        Some("ip" | "ipv4") => Ok(Some(Family::Ipv4)),
        Some("ip6" | "ipv6") => Ok(Some(Family::Ipv6)),
        Some(other) => Err(config(format!(
            "unknown family {other:?}: use ip, ip6 or inet"
        ))),
    }
}

fn features_of(f: Option<&Bound<'_, PyDict>>) -> PyResult<Features> {
    let mut out = Features::default();
    let Some(f) = f else {
        return Ok(out);
    };
    for (k, v) in f.iter() {
        let key: String = k.extract()?;
        match key.as_str() {
            "gro" => out.gro = v.extract()?,
            "gso" => out.gso = v.extract()?,
            "tso" => out.tso = v.extract()?,
            "uso" => out.uso = v.extract()?,
            "ufo" => out.ufo = v.extract()?,
            "tx_csum" => out.tx_csum = v.extract()?,
            "tunnel_tso" => out.tunnel_tso = v.extract()?,
            "rx_csum" if v.is_instance_of::<pyo3::types::PyBool>() => {
                // rx-checksumming on: the NIC validates (CHECKSUM_UNNECESSARY).
                out.rx_csum = if v.extract::<bool>()? {
                    RxCsumOffload::Unnecessary
                } else {
                    RxCsumOffload::None
                };
            }
            "rx_csum" => {
                out.rx_csum = match v.extract::<String>()?.as_str() {
                    "none" => RxCsumOffload::None,
                    "unnecessary" => RxCsumOffload::Unnecessary,
                    "complete" => RxCsumOffload::Complete,
                    other => {
                        return Err(config(format!(
                            "rx_csum {other:?}: use none, unnecessary or complete"
                        )));
                    }
                }
            }
            "udp_gro" => {
                out.udp_gro = match v.extract::<String>()?.as_str() {
                    "off" => UdpGro::Off,
                    "forwarding" => UdpGro::Forwarding,
                    "fraglist" => UdpGro::Fraglist,
                    other => {
                        return Err(config(format!(
                            "udp_gro {other:?}: use off, forwarding or fraglist"
                        )));
                    }
                }
            }
            other => return Err(config(format!("unknown device feature {other:?}"))),
        }
    }
    Ok(out)
}

fn prefix_of(text: &str) -> PyResult<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| config(format!("{text:?} is not an IP address or prefix")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| config(format!("{text:?}: prefix length must be 0..={max}")))?,
        None => max,
    };
    Ok((addr, len))
}

fn mac_of(text: &str) -> PyResult<[u8; 6]> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return Err(config(format!("{text:?} is not a MAC address")));
    }
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16)
            .map_err(|_| config(format!("{text:?} is not a MAC address")))?;
    }
    Ok(mac)
}

/// The stack of a namespace.
#[pyclass(frozen, module = "netcore._netcore", name = "Stack")]
pub struct PyStack {
    inner: Mutex<Stack>,
    hooks: Arc<std::sync::RwLock<Arc<netcore_core::stack::HookTable>>>,
}

impl PyStack {
    fn with<T>(&self, f: impl FnOnce(&mut Stack) -> PyResult<T>) -> PyResult<T> {
        let mut s = self
            .inner
            .lock()
            .map_err(|_| NetcoreError::new_err("stack unusable after an internal error"))?;
        f(&mut s)
    }
}

#[pymethods]
impl PyStack {
    #[new]
    fn new() -> Self {
        let stack = Stack::new();
        let hooks = Arc::clone(&stack.hooks);
        PyStack {
            inner: Mutex::new(stack),
            hooks,
        }
    }

    /// Adds a device; returns its index.
    #[pyo3(signature = (name, *, mtu = 1500, mac = None, features = None, rx_queues = 1,
        tx_queues = 1, rss = None, rps_workers = 0, xps = None, vlans = Vec::new(),
        addresses = Vec::new(), budget = 64, flush_timeout_ns = 0, gro_max_size = 65536))]
    #[allow(clippy::too_many_arguments)]
    fn add_device(
        &self,
        name: &str,
        mtu: u32,
        mac: Option<&str>,
        features: Option<&Bound<'_, PyDict>>,
        rx_queues: u16,
        tx_queues: u16,
        rss: Option<PyRef<'_, PyRss>>,
        rps_workers: u16,
        xps: Option<Vec<(u16, Vec<u16>)>>,
        vlans: Vec<u16>,
        addresses: Vec<String>,
        budget: usize,
        flush_timeout_ns: u64,
        gro_max_size: u32,
    ) -> PyResult<u32> {
        let mut dev = DeviceConfig::new(name);
        dev.mtu = mtu;
        dev.mac = mac.map(mac_of).transpose()?;
        dev.features = features_of(features)?;
        dev.rx_queues = rx_queues;
        dev.tx_queues = tx_queues;
        dev.rss = rss.map(|r| r.inner.clone());
        dev.rps_workers = rps_workers;
        if let Some(map) = xps {
            let mut x = XpsMap::new(usize::from(tx_queues)).map_err(PyNetcoreErr)?;
            for (worker, queues) in map {
                x.set(worker, queues).map_err(PyNetcoreErr)?;
            }
            dev.xps = Some(x);
        }
        dev.vlans = vlans;
        dev.addresses = addresses
            .iter()
            .map(|a| prefix_of(a))
            .collect::<PyResult<_>>()?;
        if budget == 0 {
            return Err(config("budget must be at least 1".into()));
        }
        dev.gro = GroParams {
            budget,
            flush_timeout_ns,
            max_size: gro_max_size,
        };
        self.with(|s| s.add_device(dev).map_err(|e| PyNetcoreErr(e).into()))
    }

    /// Names of the devices, by index − 1.
    fn device_names(&self) -> PyResult<Vec<String>> {
        self.with(|s| Ok(s.devices.iter().map(|d| d.name.clone()).collect()))
    }

    /// Adds a route to `prefix` via device `dev`.
    #[pyo3(signature = (prefix, *, dev = None, gateway = None, metric = 0, kind = "unicast"))]
    fn add_route(
        &self,
        prefix: &str,
        dev: Option<&str>,
        gateway: Option<&str>,
        metric: u32,
        kind: &str,
    ) -> PyResult<()> {
        let (addr, len) = prefix_of(prefix)?;
        let gateway = gateway
            .map(|g| {
                g.parse::<IpAddr>()
                    .map_err(|_| config(format!("gateway {g:?} is not an IP address")))
            })
            .transpose()?;
        self.with(|s| {
            let ifindex = match dev {
                Some(d) => s
                    .ifindex(d)
                    .ok_or_else(|| config(format!("no device named {d:?}")))?,
                None => 0,
            };
            let kind = match kind {
                "unicast" => RouteKind::Unicast,
                "blackhole" => RouteKind::Blackhole,
                "unreachable" => RouteKind::Unreachable,
                "prohibit" => RouteKind::Prohibit,
                other => {
                    return Err(config(format!(
                        "route kind {other:?}: use unicast, blackhole, unreachable or prohibit"
                    )));
                }
            };
            if kind == RouteKind::Unicast && ifindex == 0 {
                return Err(config(format!(
                    "route {prefix}: a unicast route needs dev="
                )));
            }
            let route = Route {
                prefix: Prefix::new(addr, len)
                    .map_err(|e| config(format!("route {prefix}: {e}")))?,
                kind,
                dev: ifindex,
                gateway,
                metric,
            };
            s.fib
                .add_route(route)
                .map_err(|e| config(format!("route {prefix}: {e}")))
        })
    }

    /// Forward packets not addressed to this host.
    #[setter]
    fn set_forwarding(&self, on: bool) -> PyResult<()> {
        self.with(|s| {
            s.forwarding = on;
            Ok(())
        })
    }

    #[getter]
    fn forwarding(&self) -> PyResult<bool> {
        self.with(|s| Ok(s.forwarding))
    }

    /// Packets a worker takes per receive round (`net.core.netdev_budget`).
    #[getter]
    fn netdev_budget(&self) -> PyResult<usize> {
        self.with(|s| Ok(s.netdev_budget))
    }

    #[setter]
    fn set_netdev_budget(&self, n: usize) -> PyResult<()> {
        if n == 0 {
            return Err(config("netdev_budget must be at least 1".into()));
        }
        self.with(|s| {
            s.netdev_budget = n;
            Ok(())
        })
    }

    /// Attaches a ruleset or an external hook at `point`.
    #[pyo3(signature = (point, name, *, priority = 0, family = None, ruleset = None, external = None, jump_only = false))]
    #[allow(clippy::too_many_arguments)]
    fn add_hook(
        &self,
        point: &str,
        name: &str,
        priority: i32,
        family: Option<&str>,
        ruleset: Option<PyRef<'_, PyRuleset>>,
        external: Option<ExternalId>,
        jump_only: bool,
    ) -> PyResult<()> {
        let point = point_of(point)?;
        let action = match (ruleset, external) {
            (Some(r), None) => HookAction::Rules(Arc::clone(&r.inner)),
            (None, Some(id)) => HookAction::External(id),
            _ => return Err(config("give exactly one of ruleset=, external=".into())),
        };
        let entry = HookEntry {
            name: name.to_string(),
            priority,
            family: family_of(family)?,
            action,
            jump_only,
        };
        self.with(|s| {
            s.update_hooks(|t| t.add(point, entry))
                .map_err(|e| PyNetcoreErr(e).into())
        })
    }

    /// Detaches hook `name` from `point`; whether one was attached.
    fn remove_hook(&self, point: &str, name: &str) -> PyResult<bool> {
        let point = point_of(point)?;
        // The table is shared with running replays: no stack lock needed (copy on write).
        let mut guard = self
            .hooks
            .write()
            .map_err(|_| NetcoreError::new_err("hook table unusable"))?;
        let mut t = (**guard).clone();
        let removed = t.remove(point, name);
        *guard = Arc::new(t);
        Ok(removed)
    }

    /// Sets the consumer of queue `num` (None removes it).
    fn set_queue(&self, num: u16, external: Option<ExternalId>) -> PyResult<()> {
        let mut guard = self
            .hooks
            .write()
            .map_err(|_| NetcoreError::new_err("hook table unusable"))?;
        let mut t = (**guard).clone();
        t.set_queue(num, external);
        *guard = Arc::new(t);
        Ok(())
    }

    /// Runs `reader` into device `into`; `capture` maps device names to output paths.
    #[pyo3(signature = (reader, into, *, capture = Vec::new(), dispatch = None,
        batch_size = 1024, ring_size = 4096, drop_on_full = false))]
    #[allow(clippy::too_many_arguments)]
    fn replay<'py>(
        &self,
        py: Python<'py>,
        reader: &PyReader,
        into: &str,
        capture: Vec<(String, String)>,
        dispatch: Option<Py<PyAny>>,
        batch_size: usize,
        ring_size: usize,
        drop_on_full: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| NetcoreError::new_err("stack unusable after an internal error"))?;
        let stack: &Stack = &guard;
        let into = stack
            .ifindex(into)
            .ok_or_else(|| config(format!("no device named {into:?}")))?;
        let mut sinks = sinks_of(stack, &capture)?;
        let hooks = PyHooks::new(dispatch);
        let opts = ReplayOptions {
            batch_size,
            ring_size,
            drop_on_full,
        };
        let result = run_detached(py, || {
            let mut r = reader.inner.lock().map_err(|_| {
                netcore_core::Error::Config("reader unusable after an internal error".into())
            })?;
            Ok(core_stack::replay(
                stack, &mut r, into, &mut sinks, &hooks, &opts,
            ))
        })?;
        finish(py, result, &hooks)
    }

    /// Sends IP packets made in Python from the host (LOCAL_OUT onwards).
    #[pyo3(signature = (packets, *, capture = Vec::new(), dispatch = None))]
    fn output<'py>(
        &self,
        py: Python<'py>,
        packets: Vec<Vec<u8>>,
        capture: Vec<(String, String)>,
        dispatch: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| NetcoreError::new_err("stack unusable after an internal error"))?;
        let stack: &Stack = &guard;
        let mut sinks = sinks_of(stack, &capture)?;
        let hooks = PyHooks::new(dispatch);
        let result = run_detached(py, || {
            let skbs = packets
                .iter()
                .map(|p| Skb::from_slice(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| netcore_core::Error::Config(format!("packet: {e}")))?;
            Ok(core_stack::output(stack, skbs, &mut sinks, &hooks))
        })?;
        finish(py, result, &hooks)
    }
}

fn sinks_of(stack: &Stack, capture: &[(String, String)]) -> PyResult<Vec<Sink>> {
    capture
        .iter()
        .map(|(dev, path)| {
            let ifindex = stack
                .ifindex(dev)
                .ok_or_else(|| config(format!("capture: no device named {dev:?}")))?;
            let is_pcap = std::path::Path::new(path)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pcap"));
            let opts = if is_pcap {
                WriterOptions::pcap(PcapHeader::new(LinkType::ETHERNET, 262_144, true))
            } else {
                WriterOptions::pcapng(LinkType::ETHERNET)
            };
            let writer =
                CaptureWriter::create(path, opts).map_err(|e| PyErr::from(PyNetcoreErr(e)))?;
            Ok(Sink { ifindex, writer })
        })
        .collect()
}

fn finish<'py>(
    py: Python<'py>,
    result: Result<Report, ReplayError>,
    hooks: &PyHooks,
) -> PyResult<Bound<'py, PyDict>> {
    match result {
        Ok(r) => report_dict(py, &r),
        Err(ReplayError::Io(e)) => Err(PyNetcoreErr(e).into()),
        Err(ReplayError::Hook { abort, report }) => {
            let err = hooks
                .error
                .lock()
                .ok()
                .and_then(|mut e| e.take())
                .unwrap_or_else(|| {
                    NetcoreError::new_err(format!(
                        "run stopped at packet {}: {}",
                        abort.index, abort.message
                    ))
                });
            let value = err.value(py);
            let _ = value.setattr("report", report_dict(py, &report)?);
            Err(err)
        }
    }
}

/// The report as plain Python data (the Python layer wraps it).
fn report_dict<'py>(py: Python<'py>, r: &Report) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("entered", r.entered)?;
    d.set_item("created", r.created)?;
    d.set_item("unprocessed", r.unprocessed)?;
    d.set_item("delivered", r.delivered.clone())?;
    d.set_item("transmitted", r.transmitted.clone())?;
    let dropped = PyDict::new(py);
    for (k, v) in &r.dropped {
        dropped.set_item(k.as_str(), v)?;
    }
    d.set_item("dropped", dropped)?;
    d.set_item("stolen", r.stolen.clone())?;
    d.set_item("icmp_errors", r.icmp_errors.clone())?;
    let devices = PyDict::new(py);
    for (name, c) in &r.devices {
        let dd = PyDict::new(py);
        dd.set_item("rx_packets", c.rx_packets)?;
        dd.set_item("rx_bytes", c.rx_bytes)?;
        dd.set_item("tx_packets", c.tx_packets)?;
        dd.set_item("tx_bytes", c.tx_bytes)?;
        dd.set_item("gso_segmented", c.gso_segmented)?;
        dd.set_item("gso_segments", c.gso_segments)?;
        dd.set_item("tso_packets", c.tso_packets)?;
        let g = PyDict::new(py);
        g.set_item("received", c.gro.received)?;
        g.set_item("merged", c.gro.merged)?;
        g.set_item("held", c.gro.held)?;
        g.set_item("normal", c.gro.normal)?;
        g.set_item("completed", c.gro.completed)?;
        g.set_item("evicted", c.gro.evicted)?;
        dd.set_item("gro", g)?;
        let queues = PyList::empty(py);
        for q in &c.queues {
            queues.append(queue_dict(py, q)?)?;
        }
        dd.set_item("queues", queues)?;
        let backlog = PyList::empty(py);
        for q in &c.backlog {
            backlog.append(queue_dict(py, q)?)?;
        }
        dd.set_item("backlog", backlog)?;
        dd.set_item("tx_queues", c.tx_queues.clone())?;
        dd.set_item("tx_segs", c.tx_segs.clone())?;
        devices.set_item(name, dd)?;
    }
    d.set_item("devices", devices)?;
    let hooks = PyDict::new(py);
    for (k, h) in &r.hooks {
        let hd = PyDict::new(py);
        hd.set_item("calls", h.calls)?;
        hd.set_item("packets", h.packets)?;
        hd.set_item("accepted", h.accepted)?;
        hd.set_item("dropped", h.dropped)?;
        hd.set_item("stolen", h.stolen)?;
        hd.set_item("queued", h.queued)?;
        hd.set_item("repeated", h.repeated)?;
        hd.set_item("errors", h.errors)?;
        hooks.set_item(k, hd)?;
    }
    d.set_item("hooks", hooks)?;
    let rules = PyDict::new(py);
    for (k, rc) in &r.rules {
        rules.set_item(k, rc.rules.clone())?;
    }
    d.set_item("rules", rules)?;
    Ok(d)
}

fn queue_dict<'py>(py: Python<'py>, q: &QueueCounters) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("packets", q.packets)?;
    d.set_item("bytes", q.bytes)?;
    d.set_item("drops", q.drops)?;
    d.set_item("polls", q.polls)?;
    d.set_item("budget_exhausted", q.budget_exhausted)?;
    d.set_item("time_squeeze", q.time_squeeze)?;
    Ok(d)
}

/// Python hooks: one dispatch callable, called with the GIL taken once per batch.
struct PyHooks {
    dispatch: Option<Py<PyAny>>,
    /// The exception a hook raised under the "raise" policy, re-raised when the run ends.
    error: Mutex<Option<PyErr>>,
    tables: Arc<Tables>,
}

impl PyHooks {
    fn new(dispatch: Option<Py<PyAny>>) -> Self {
        PyHooks {
            dispatch,
            error: Mutex::new(None),
            tables: Arc::new(Tables::new()),
        }
    }
}

/// What the stack knows of a hook batch's packets beyond their bytes: per packet its input
/// position, devices, mark and priority, and the IP and transport fields the stack already
/// read (so a hook that only looks at those does not dissect its batch again). Columns become
/// numpy arrays only when asked for.
#[pyclass(frozen, module = "netcore._netcore", name = "HookMeta")]
pub struct PyHookMeta {
    index: Vec<u64>,
    iif: Vec<u32>,
    oif: Vec<u32>,
    mark: Vec<u32>,
    priority: Vec<u32>,
    ip_version: Vec<u8>,
    l4proto: Vec<u8>,
    src4: Vec<u32>,
    dst4: Vec<u32>,
    sport: Vec<u16>,
    dport: Vec<u16>,
}

impl PyHookMeta {
    /// Takes the metadata columns, leaving the frames (and `iif`, `ts`, `linktype` copies are
    /// not needed: the batch takes those) in `cols`.
    fn take(cols: &mut HookColumns<'_>) -> Self {
        PyHookMeta {
            index: std::mem::take(&mut cols.index),
            iif: cols.iif.clone(),
            oif: std::mem::take(&mut cols.oif),
            mark: std::mem::take(&mut cols.mark),
            priority: std::mem::take(&mut cols.priority),
            ip_version: std::mem::take(&mut cols.ip_version),
            l4proto: std::mem::take(&mut cols.l4proto),
            src4: std::mem::take(&mut cols.src4),
            dst4: std::mem::take(&mut cols.dst4),
            sport: std::mem::take(&mut cols.sport),
            dport: std::mem::take(&mut cols.dport),
        }
    }
}

#[pymethods]
impl PyHookMeta {
    /// Names of the header columns held here (same names, types and meaning as `Batch`'s).
    #[staticmethod]
    fn header_columns() -> Vec<&'static str> {
        vec!["ip_version", "l4proto", "src4", "dst4", "sport", "dport"]
    }

    /// Column `name` as a new numpy array.
    fn column<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        Ok(match name {
            "index" => PyArray1::from_slice(py, &self.index).into_any(),
            "iif" => PyArray1::from_slice(py, &self.iif).into_any(),
            "oif" => PyArray1::from_slice(py, &self.oif).into_any(),
            "mark" => PyArray1::from_slice(py, &self.mark).into_any(),
            "priority" => PyArray1::from_slice(py, &self.priority).into_any(),
            "ip_version" => PyArray1::from_slice(py, &self.ip_version).into_any(),
            "l4proto" => PyArray1::from_slice(py, &self.l4proto).into_any(),
            "src4" => PyArray1::from_slice(py, &self.src4).into_any(),
            "dst4" => PyArray1::from_slice(py, &self.dst4).into_any(),
            "sport" => PyArray1::from_slice(py, &self.sport).into_any(),
            "dport" => PyArray1::from_slice(py, &self.dport).into_any(),
            other => return Err(config(format!("no hook column {other:?}"))),
        })
    }

    /// Input position of packet `i` (for error messages without building a column).
    fn index_of(&self, i: usize) -> Option<u64> {
        self.index.get(i).copied()
    }
}

/// The packets as a batch: lent over the capture memory they still live in, without copying,
/// when they all do (untouched packets of one dispatch batch); copied otherwise.
fn batch_of(cols: HookColumns<'_>) -> Batch {
    let HookColumns {
        frame,
        linktype,
        ts,
        iif,
        lent,
        ..
    } = cols;
    let Some((data, offset)) = lent else {
        return Batch::from_packets(
            frame
                .iter()
                .zip(ts.iter().zip(iif.iter().zip(&linktype)))
                .map(|(f, (&ts, (&iif, &lt)))| {
                    let len = u32::try_from(f.len()).unwrap_or(u32::MAX);
                    (ts, *f, len, iif, lt)
                }),
        );
    };
    let caplen: Vec<u32> = frame
        .iter()
        .map(|f| u32::try_from(f.len()).unwrap_or(u32::MAX))
        .collect();
    Batch {
        data,
        offset,
        ts,
        wirelen: caplen.clone(),
        caplen,
        ifindex: iif,
        linktype,
        comments: Vec::new(),
        first_index: 0,
    }
}

/// Verdicts travel as `u32`: the `NF_*` code in the low byte, a queue number in the top 16
/// bits (`NF_QUEUE_NR`).
fn verdict_of(v: u32) -> Verdict {
    match Verdict::from_code((v & 0xff) as u8) {
        Some(Verdict::Queue(_)) => Verdict::Queue((v >> 16) as u16),
        Some(x) => x,
        None => Verdict::Drop,
    }
}

fn edit_of(field: &str, value: &Bound<'_, PyAny>) -> PyResult<Edit> {
    Ok(match field {
        "src" | "dst" => {
            let text: String = value.extract()?;
            let a: IpAddr = text
                .parse()
                .map_err(|_| config(format!("{text:?} is not an IP address")))?;
            if field == "src" {
                Edit::Src(a)
            } else {
                Edit::Dst(a)
            }
        }
        "sport" => Edit::Sport(value.extract()?),
        "dport" => Edit::Dport(value.extract()?),
        "mark" => Edit::Mark(value.extract()?),
        "priority" => Edit::Priority(value.extract()?),
        other => return Err(config(format!("cannot rewrite {other:?}"))),
    })
}

type HookAnswer<'py> = (
    Bound<'py, PyAny>,
    Vec<(usize, String, Py<PyAny>)>,
    Vec<usize>,
);

/// Verdict codes from a numpy `uint32` or `int64` array (read in place; `np.where(cond,
/// nc.DROP, nc.ACCEPT)` gives `int64`) or any sequence of ints.
fn verdict_codes(v: &Bound<'_, PyAny>) -> PyResult<Vec<Verdict>> {
    // `to_vec` copies the (contiguous) array without registering a borrow: cheaper than a
    // readonly view for a few hundred verdicts.
    if let Ok(arr) = v.cast::<PyArray1<i64>>()
        && let Ok(codes) = arr.to_vec()
    {
        return Ok(codes
            .into_iter()
            .map(|c| u32::try_from(c).map_or(Verdict::Drop, verdict_of))
            .collect());
    }
    if let Ok(arr) = v.cast::<PyArray1<u32>>()
        && let Ok(codes) = arr.to_vec()
    {
        return Ok(codes.into_iter().map(verdict_of).collect());
    }
    Ok(v.extract::<Vec<u32>>()?
        .into_iter()
        .map(verdict_of)
        .collect())
}

impl ExternalHooks for PyHooks {
    /// A worker thread is attached to the interpreter for its whole life (then detached while
    /// it works), so each hook call only takes the GIL: attaching per call would create and
    /// destroy the thread's Python state every time, several times the cost of the call.
    fn run_worker(&self, body: &mut (dyn FnMut() + Send)) {
        if self.dispatch.is_none() {
            return body();
        }
        Python::attach(|py| py.detach(body));
    }

    fn call(
        &self,
        id: ExternalId,
        point: HookPoint,
        mut packets: HookColumns<'_>,
    ) -> Result<HookReply, HookAbort> {
        let Some(dispatch) = &self.dispatch else {
            return Ok(HookReply {
                verdicts: vec![Verdict::Accept; packets.len()],
                ..HookReply::default()
            });
        };
        let n = packets.len();
        let meta = PyHookMeta::take(&mut packets);
        let batch = batch_of(packets);
        Python::attach(|py| {
            let pybatch = PyBatch::new(batch, Arc::clone(&self.tables));
            let meta = Py::new(py, meta).map_err(|e| HookAbort {
                index: 0,
                message: e.to_string(),
            })?;
            let index_of = |row: usize| meta.get().index.get(row).copied().unwrap_or(0);
            let answer = dispatch
                .call1(py, (id, point.name(), pybatch, meta.clone_ref(py)))
                .and_then(|r| {
                    let (v, edits, errors): HookAnswer<'_> = r.bind(py).extract()?;
                    // `None`: every packet accepted.
                    let verdicts = if v.is_none() {
                        vec![Verdict::Accept; n]
                    } else {
                        verdict_codes(&v)?
                    };
                    Ok((verdicts, edits, errors))
                });
            let (verdicts, edits, errors) = match answer {
                Ok(a) => a,
                Err(e) => {
                    let message = e.to_string();
                    let index = e
                        .value(py)
                        .getattr("index")
                        .and_then(|i| i.extract::<u64>())
                        .unwrap_or_else(|_| index_of(0));
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(e);
                    }
                    return Err(HookAbort { index, message });
                }
            };
            let mut reply = HookReply {
                verdicts,
                edits: Vec::with_capacity(edits.len()),
                errors,
            };
            for (row, field, value) in edits {
                match edit_of(&field, value.bind(py)) {
                    Ok(e) => reply.edits.push((row, e)),
                    Err(err) => {
                        let message = err.to_string();
                        if let Ok(mut slot) = self.error.lock() {
                            slot.get_or_insert(err);
                        }
                        return Err(HookAbort {
                            index: index_of(row),
                            message,
                        });
                    }
                }
            }
            Ok(reply)
        })
    }
}
