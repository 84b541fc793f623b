//! The exception hierarchy, and the one conversion from core errors to Python exceptions.

use netcore_core::Error;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError};
use pyo3::prelude::*;

create_exception!(
    netcore,
    NetcoreError,
    PyException,
    "Base class of every netcore error."
);
create_exception!(
    netcore,
    CaptureError,
    NetcoreError,
    "A capture file is malformed. Attributes: `path`, `offset` (byte), `reason`."
);
create_exception!(
    netcore,
    ConfigError,
    NetcoreError,
    "An option or argument is invalid, or an operation impossible in this configuration."
);

create_exception!(
    netcore,
    RuleError,
    ConfigError,
    "A rule does not parse. Attributes: `line`, `column` (1-based), `message`."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NetcoreError", py.get_type::<NetcoreError>())?;
    m.add("CaptureError", py.get_type::<CaptureError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("RuleError", py.get_type::<RuleError>())?;
    Ok(())
}

/// A rule parse error as `RuleError`, with its position as attributes.
pub(crate) fn rule_error(e: &netcore_core::netfilter::RuleError) -> PyErr {
    Python::attach(|py| {
        let err = RuleError::new_err(e.to_string());
        let value = err.value(py);
        // Attributes for programs; the message already carries them for people.
        let _ = value.setattr("line", e.line);
        let _ = value.setattr("column", e.column);
        let _ = value.setattr("message", &e.message);
        err
    })
}

/// A core error on its way to Python.
pub(crate) struct PyNetcoreErr(pub Error);

impl From<Error> for PyNetcoreErr {
    fn from(e: Error) -> Self {
        PyNetcoreErr(e)
    }
}

impl From<PyNetcoreErr> for PyErr {
    fn from(e: PyNetcoreErr) -> PyErr {
        match e.0 {
            Error::Capture(c) => Python::attach(|py| {
                let err = CaptureError::new_err(c.to_string());
                let value = err.value(py);
                // Attributes for programs; the message already carries them for people.
                let _ = value.setattr("path", &c.source);
                let _ = value.setattr("offset", c.offset);
                let _ = value.setattr("reason", c.kind.to_string());
                err
            }),
            // OSError(errno, strerror, filename) picks the matching subclass
            // (FileNotFoundError, PermissionError, …) from errno.
            Error::Io { path, source } => match source.raw_os_error() {
                Some(errno) => PyOSError::new_err((errno, source.to_string(), path)),
                None => PyOSError::new_err(format!("{path}: {source}")),
            },
            Error::Config(msg) => ConfigError::new_err(msg),
        }
    }
}
