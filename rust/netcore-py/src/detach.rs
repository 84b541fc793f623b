//! The one helper that runs core work without the GIL and keeps panics out of Python.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::prelude::*;

use crate::errors::{NetcoreError, PyNetcoreErr};

/// Runs `work` with the GIL released; a core error becomes its Python exception and a panic
/// becomes `NetcoreError` instead of unwinding into the interpreter.
pub(crate) fn run_detached<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> netcore_core::Result<T> + Send,
{
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(PyNetcoreErr(e).into()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(NetcoreError::new_err(format!(
                "internal error in netcore (please report): {what}"
            )))
        }
    }
}
