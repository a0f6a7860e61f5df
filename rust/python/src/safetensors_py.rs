//! safetensors bindings for `ferrotorch.safetensors`: the format lives in
//! `ferrotorch::io::safetensors`; this file converts arguments, shares Python buffers
//! (a copy-on-write `mmap.mmap` of the file) and releases the GIL around copies and
//! writes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ferrotorch::io::safetensors as st;
use ferrotorch::Tensor;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{dtype_obj, to_dtype, IntoPy, PyDType};
use crate::tensor::{PyTensor, TensorObj};

use crate::io_py::Bytes as Export;

type HeaderEntry = (String, Py<PyDType>, Vec<usize>, usize, usize);
type Header = (Option<HashMap<String, String>>, Vec<HeaderEntry>);

/// `(metadata or None, [(name, dtype, shape, start, end), ...])` of a whole safetensors
/// file held in `buffer` (bytes, an mmap, ...): entries in the order of their data,
/// `start:end` the byte range of each tensor in the buffer. Raises RuntimeError for an
/// invalid file or a dtype ferrotorch does not have.
#[pyfunction]
pub fn _safetensors_read_header(py: Python<'_>, buffer: &Bound<'_, PyAny>) -> PyResult<Header> {
    let b = Export::get(buffer)?;
    let (meta, entries) = st::read_header(b.slice()).py()?;
    let entries = entries.into_iter().map(|(n, d, s, r)| (n, dtype_obj(py, d), s, r.start, r.end)).collect();
    Ok((meta, entries))
}

/// Build tensors over `buffer`: shared when `copy` is false and the buffer is writable
/// (an `mmap.ACCESS_COPY` map), else copied (without the GIL).
fn with_buffer<T: Send>(py: Python<'_>, buffer: &Bound<'_, PyAny>, copy: bool, f: impl FnOnce(&[u8], Option<&st::Owner>) -> ferrotorch::Result<T> + Send) -> PyResult<T> {
    let b = Export::get(buffer)?;
    if copy || b.buf.readonly() {
        let bytes = b.slice();
        return py.detach(|| f(bytes, None)).py();
    }
    let owner = Arc::new(b);
    let bytes = owner.slice();
    let shared: st::Owner = owner.clone();
    py.detach(|| f(bytes, Some(&shared))).py()
}

/// All tensors of a whole safetensors file held in `buffer`, as `[(name, tensor)]` in the
/// order of their data: sharing the buffer's memory when `copy` is false and the
/// buffer is writable (each tensor keeps it alive; a misaligned tensor is copied),
/// else copies.
#[pyfunction]
#[pyo3(signature = (buffer, copy=false))]
pub fn _safetensors_load_buffer(py: Python<'_>, buffer: &Bound<'_, PyAny>, copy: bool) -> PyResult<Vec<(String, TensorObj)>> {
    let ts = with_buffer(py, buffer, copy, |bytes, owner| match owner {
        // SAFETY: `owner` holds the export of a writable buffer whose memory stays at
        // the same address while exported; the tensors write to it only through
        // their storages.
        Some(o) => unsafe { st::load_shared(bytes, o.clone()) },
        None => st::load_bytes_ordered(bytes),
    })?;
    Ok(ts.into_iter().map(|(n, t)| (n, PyTensor::new(t))).collect())
}

/// The tensor of one header entry (see `_safetensors_read_header`) over `buffer`,
/// shared or copied as in `_safetensors_load_buffer`.
#[pyfunction]
#[pyo3(signature = (buffer, name, dtype, shape, start, end, copy=false))]
#[allow(clippy::too_many_arguments)]
pub fn _safetensors_tensor(
    py: Python<'_>,
    buffer: &Bound<'_, PyAny>,
    name: String,
    dtype: &Bound<'_, PyAny>,
    shape: Vec<usize>,
    start: usize,
    end: usize,
    copy: bool,
) -> PyResult<TensorObj> {
    if end < start {
        return Err(PyValueError::new_err(format!("invalid byte range {start}:{end}")));
    }
    let entry: st::Entry = (name, to_dtype(dtype)?, shape, start..end);
    // SAFETY: as in _safetensors_load_buffer; tensor_at checks the range against the buffer.
    let t = with_buffer(py, buffer, copy, |bytes, owner| unsafe { st::tensor_at(bytes, &entry, owner) })?;
    Ok(PyTensor::new(t))
}

fn tensors_of(tensors: Vec<(String, Bound<'_, PyTensor>)>) -> Vec<(String, Tensor)> {
    tensors.into_iter().map(|(n, t)| (n, t.get().t.clone())).collect()
}

/// The bytes of a safetensors file holding `tensors` (`[(name, tensor)]`; non-contiguous
/// and CUDA tensors are written as contiguous host copies) and `metadata`.
#[pyfunction]
#[pyo3(signature = (tensors, metadata=None))]
pub fn _safetensors_serialize<'py>(py: Python<'py>, tensors: Vec<(String, Bound<'py, PyTensor>)>, metadata: Option<HashMap<String, String>>) -> PyResult<Bound<'py, PyBytes>> {
    let ts = tensors_of(tensors);
    let bytes = py.detach(|| st::serialize(ts.iter().map(|(n, t)| (n, t)), metadata)).py()?;
    crate::convert::py_bytes(py, &bytes)
}

/// Write `tensors` and `metadata` to `filename` as a safetensors file (written under a
/// temporary name, then renamed over `filename`: maps of the old file stay valid).
#[pyfunction]
#[pyo3(signature = (tensors, filename, metadata=None))]
pub fn _safetensors_save_file(py: Python<'_>, tensors: Vec<(String, Bound<'_, PyTensor>)>, filename: PathBuf, metadata: Option<HashMap<String, String>>) -> PyResult<()> {
    let ts = tensors_of(tensors);
    py.detach(|| st::save(ts.iter().map(|(n, t)| (n, t)), metadata, &filename)).py()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_safetensors_read_header, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_load_buffer, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_tensor, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_serialize, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_save_file, m)?)?;
    Ok(())
}
