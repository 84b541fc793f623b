//! `netcore._netcore`: the thin binding between Python and `netcore_core`.
//!
//! Nothing here decides protocol behaviour. Each function extracts Python inputs into Rust data,
//! releases the GIL around the work (see [`detach::run_detached`]), and converts results and
//! errors back. Batch columns are lent to numpy without copying.

// PyO3 extracts Python arguments into owned values; taking them by value is the idiom.
#![allow(clippy::needless_pass_by_value)]

mod batch;
mod capture;
mod conv;
mod demux;
mod detach;
mod errors;
mod offload;
mod pyio;
mod rss;
mod rules;
mod stack;

use pyo3::prelude::*;

/// The extension module; its Python name is set by `[tool.maturin] module-name`.
#[pymodule]
mod _netcore {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::batch::PyBatch;
    #[pymodule_export]
    use crate::capture::PyReader;
    #[pymodule_export]
    use crate::capture::PyWriter;
    #[pymodule_export]
    use crate::demux::PyDemux;
    #[pymodule_export]
    use crate::offload::{gro_run, gso_run};
    #[pymodule_export]
    use crate::rss::{PyRss, toeplitz};
    #[pymodule_export]
    use crate::rules::{PyRuleset, parse_priority};
    #[pymodule_export]
    use crate::stack::{PyHookMeta, PyStack};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        crate::demux::register_names(m)?;
        crate::rules::register_constants(m)?;
        crate::errors::register(m)
    }
}
