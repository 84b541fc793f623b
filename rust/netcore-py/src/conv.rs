//! Conversions between core values and plain Python data (dicts of fields).

use netcore_core::capture::pcap::PcapHeader;
use netcore_core::{CaptureFormat, CaptureInfo, Interface, LinkType, TsResolution};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::ConfigError;

pub(crate) fn resolution_to_py(r: TsResolution) -> (&'static str, u8) {
    match r {
        TsResolution::Pow10(n) => ("10", n),
        TsResolution::Pow2(n) => ("2", n),
    }
}

pub(crate) fn interface_to_py<'py>(py: Python<'py>, i: &Interface) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("linktype", i.linktype.0)?;
    d.set_item("linktype_name", i.linktype.name())?;
    d.set_item("snaplen", i.snaplen)?;
    let (base, exp) = resolution_to_py(i.ts_resolution);
    d.set_item("tsresol", i.ts_resolution.to_option())?;
    d.set_item("tsresol_text", i.ts_resolution.describe())?;
    d.set_item("tsresol_base", base)?;
    d.set_item("tsresol_exp", exp)?;
    d.set_item("tsoffset", i.ts_offset)?;
    d.set_item("name", i.name.as_deref())?;
    d.set_item("description", i.description.as_deref())?;
    d.set_item("fcslen", i.fcs_len)?;
    d.set_item("section", i.section)?;
    Ok(d)
}

/// Reads an interface from a dict with at least `linktype`; other keys as in `interface_to_py`.
pub(crate) fn interface_from_py(d: &Bound<'_, PyDict>) -> PyResult<Interface> {
    let linktype: u16 = d
        .get_item("linktype")?
        .ok_or_else(|| ConfigError::new_err("interface needs a 'linktype'"))?
        .extract()?;
    let mut i = Interface::new(LinkType(linktype));
    if let Some(v) = d.get_item("snaplen")? {
        i.snaplen = v.extract()?;
    }
    if let Some(v) = d.get_item("tsresol")? {
        i.ts_resolution = TsResolution::from_option(v.extract()?);
    }
    if let Some(v) = d.get_item("tsoffset")? {
        i.ts_offset = v.extract()?;
    }
    if let Some(v) = d.get_item("name")? {
        i.name = v.extract()?;
    }
    if let Some(v) = d.get_item("description")? {
        i.description = v.extract()?;
    }
    if let Some(v) = d.get_item("fcslen")? {
        i.fcs_len = v.extract()?;
    }
    Ok(i)
}

pub(crate) fn pcap_header_to_py<'py>(
    py: Python<'py>,
    h: &PcapHeader,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("big_endian", h.big_endian)?;
    d.set_item("nanosecond", h.nanosecond)?;
    d.set_item("modified", h.modified)?;
    d.set_item("version", h.version)?;
    d.set_item("thiszone", h.thiszone)?;
    d.set_item("sigfigs", h.sigfigs)?;
    d.set_item("snaplen", h.snaplen)?;
    d.set_item("linktype_field", h.linktype_field)?;
    Ok(d)
}

pub(crate) fn pcap_header_from_py(d: &Bound<'_, PyDict>) -> PyResult<PcapHeader> {
    let linktype_field: u32 = d
        .get_item("linktype_field")?
        .or(d.get_item("linktype")?)
        .ok_or_else(|| ConfigError::new_err("pcap header needs a 'linktype'"))?
        .extract()?;
    let mut h = PcapHeader::new(LinkType((linktype_field & 0xffff) as u16), 262_144, false);
    h.linktype_field = linktype_field;
    macro_rules! field {
        ($key:literal, $f:ident) => {
            if let Some(v) = d.get_item($key)? {
                h.$f = v.extract()?;
            }
        };
    }
    field!("big_endian", big_endian);
    field!("nanosecond", nanosecond);
    field!("modified", modified);
    field!("version", version);
    field!("thiszone", thiszone);
    field!("sigfigs", sigfigs);
    field!("snaplen", snaplen);
    Ok(h)
}

pub(crate) fn info_to_py<'py>(
    py: Python<'py>,
    i: &CaptureInfo,
    odd_ts: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("source", &i.source)?;
    d.set_item("format", i.format.name())?;
    match &i.format {
        CaptureFormat::Pcap(h) => {
            d.set_item("big_endian", h.big_endian)?;
            d.set_item("version", h.version)?;
            d.set_item("pcap", pcap_header_to_py(py, h)?)?;
        }
        CaptureFormat::Pcapng {
            big_endian,
            version,
        } => {
            d.set_item("big_endian", *big_endian)?;
            d.set_item("version", *version)?;
            d.set_item("pcap", py.None())?;
        }
    }
    d.set_item("compressed", i.compressed)?;
    d.set_item("mapped", i.mapped)?;
    d.set_item("size", i.size)?;
    let ifaces = PyList::empty(py);
    for iface in &i.interfaces {
        ifaces.append(interface_to_py(py, iface)?)?;
    }
    d.set_item("interfaces", ifaces)?;
    d.set_item("sections", i.sections)?;
    let problems = PyList::empty(py);
    for p in &i.problems {
        let pd = PyDict::new(py);
        pd.set_item("offset", p.offset)?;
        pd.set_item("message", &p.message)?;
        pd.set_item("skipped_bytes", p.skipped_bytes)?;
        pd.set_item("skipped_records", p.skipped_records)?;
        problems.append(pd)?;
    }
    d.set_item("problems", problems)?;
    d.set_item("packets", i.packets)?;
    d.set_item("caplen_bytes", i.caplen_bytes)?;
    d.set_item("wire_bytes", i.wire_bytes)?;
    d.set_item("truncated_packets", i.truncated_packets)?;
    d.set_item("empty_packets", i.empty_packets)?;
    d.set_item("odd_timestamps", odd_ts)?;
    d.set_item("first_ts", i.ts_range.map(|r| r.0))?;
    d.set_item("last_ts", i.ts_range.map(|r| r.1))?;
    let other = PyDict::new(py);
    for (t, n) in &i.other_blocks {
        other.set_item(t, n)?;
    }
    d.set_item("other_blocks", other)?;
    d.set_item("position", i.position)?;
    Ok(d)
}
