//! `std::io::Read` over a Python binary file object, so that the core can stream from it.

use std::io;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Reads from a Python object with a `read(n)` method returning `bytes`.
pub(crate) struct PyFileReader {
    file: Py<PyAny>,
}

impl PyFileReader {
    pub(crate) fn new(file: Py<PyAny>) -> Self {
        PyFileReader { file }
    }
}

impl io::Read for PyFileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Called from detached core code: take the GIL for the duration of one read call.
        Python::attach(|py| {
            let chunk = self
                .file
                .bind(py)
                .call_method1("read", (buf.len(),))
                .map_err(|e| io::Error::other(e.to_string()))?;
            if chunk.is_none() {
                // Non-blocking file with no data ready: report it as would-block.
                return Err(io::Error::from(io::ErrorKind::WouldBlock));
            }
            let bytes = chunk.cast::<PyBytes>().map_err(|_| {
                io::Error::other(
                    "file object's read() did not return bytes (open it in binary mode)",
                )
            })?;
            let data = bytes.as_bytes();
            let n = data.len().min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
            Ok(n)
        })
    }
}
