//! Checkpoint I/O: PyTorch's zip container under `torch._C`'s names
//! (`PyTorchFileReader` / `PyTorchFileWriter`) and tensors over Python buffers (a memory
//! map of a checkpoint, the bytes of a record). The format logic lives in
//! `ferrotorch::io`; this file converts arguments and moves bytes.

use std::any::Any;
use std::io::Write;

use ferrotorch::io::zip::{Archive, ZipWriter};
use ferrotorch::shape::Layout;
use ferrotorch::storage::Storage;
use ferrotorch::{DType, Device, Tensor};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::{to_dtype, IntoPy};
use crate::tensor::{PyTensor, TensorObj};

/// A read-only view of a Python buffer object's bytes, kept alive (and in place) by the
/// export.
pub(crate) struct Bytes {
    pub(crate) buf: PyUntypedBuffer,
}

impl Bytes {
    pub(crate) fn get(obj: &Bound<'_, PyAny>) -> PyResult<Bytes> {
        let buf = PyUntypedBuffer::get(obj)?;
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err("expected a contiguous buffer"));
        }
        Ok(Bytes { buf })
    }
    pub(crate) fn slice(&self) -> &[u8] {
        let n = self.buf.len_bytes();
        if n == 0 {
            return &[];
        }
        // SAFETY: the export keeps `n` contiguous bytes at buf_ptr alive until `buf` is
        // dropped; Python code could write to a writable buffer meanwhile, which only
        // changes the bytes we read (every offset derived from them is re-checked).
        unsafe { std::slice::from_raw_parts(self.buf.buf_ptr() as *const u8, n) }
    }
}

fn check_range(total: usize, offset: usize, nbytes: usize) -> PyResult<()> {
    if offset.checked_add(nbytes).is_none_or(|e| e > total) {
        return Err(PyRuntimeError::new_err(format!(
            "storage of {nbytes} bytes at offset {offset} runs past the end of the data ({total} bytes)"
        )));
    }
    Ok(())
}

/// A 1-d tensor of `dtype` over `nbytes` bytes of `buffer` at `offset`: sharing the
/// buffer's memory when `copy` is false (the buffer must be writable and the address
/// aligned for the dtype; the tensor keeps the buffer alive), else a copy, byte-swapped
/// per element when `byteswap` is true.
pub fn tensor_from_buffer(obj: &Bound<'_, PyAny>, dtype: DType, offset: usize, nbytes: usize, copy: bool, byteswap: bool) -> PyResult<Tensor> {
    let b = Bytes::get(obj)?;
    let total = b.buf.len_bytes();
    check_range(total, offset, nbytes)?;
    let isz = dtype.size();
    if !nbytes.is_multiple_of(isz) {
        return Err(PyRuntimeError::new_err(format!(
            "storage of {nbytes} bytes is not a whole number of {} elements ({isz} bytes each)",
            ferrotorch::ops::pretty_dtype(dtype)
        )));
    }
    let numel = nbytes / isz;
    let addr = b.buf.buf_ptr() as usize + offset;
    // Bool storages are always copied: their bytes must be 0 or 1, which the file does not
    // promise (and a writable buffer could change later).
    let share = !copy && !byteswap && !b.buf.readonly() && addr.is_multiple_of(isz) && dtype != DType::Bool;
    let storage = if share {
        // SAFETY: [addr, addr + nbytes) lies inside the exported buffer (checked above),
        // which is writable and stays alive as long as the storage holds the export;
        // the address is aligned for the dtype.
        unsafe { Storage::from_external(addr as *mut u8, nbytes, Box::new(b) as Box<dyn Any + Send + Sync>) }
    } else {
        let src = &b.slice()[offset..offset + nbytes];
        let py = obj.py();
        py.detach(|| -> ferrotorch::Result<Storage> {
            let s = Storage::cpu_from_bytes(src)?;
            if nbytes > 0 {
                // SAFETY: s is a fresh CPU storage of nbytes bytes no one else can see yet.
                let bytes = unsafe { std::slice::from_raw_parts_mut(s.ptr(), nbytes) };
                ferrotorch::io::fix_storage_bytes(bytes, dtype, byteswap);
            }
            Ok(s)
        })
        .py()?
    };
    Ok(Tensor::from_parts(storage, Layout::contiguous(&[numel]), dtype))
}

#[pyfunction]
#[pyo3(signature = (buffer, dtype, offset, nbytes, copy=true, byteswap=false))]
pub fn _tensor_from_buffer(buffer: &Bound<'_, PyAny>, dtype: &Bound<'_, PyAny>, offset: usize, nbytes: usize, copy: bool, byteswap: bool) -> PyResult<TensorObj> {
    Ok(PyTensor::new(tensor_from_buffer(buffer, to_dtype(dtype)?, offset, nbytes, copy, byteswap)?))
}

/// `set_`: a tensor over `storage`'s storage (a tensor standing for it) with the given
/// geometry; not a view, and bounds-checked against the storage.
#[pyfunction]
pub fn _tensor_from_storage(storage: &Bound<'_, PyTensor>, size: Vec<usize>, stride: Vec<usize>, offset: usize) -> PyResult<TensorObj> {
    let t = &storage.get().t;
    let s = t.data().storage.clone();
    Ok(PyTensor::new(Tensor::from_storage(s, t.dtype(), &size, &stride, offset).py()?))
}

/// (identity, size in bytes, data address) of a tensor's storage: a checkpoint saves
/// each storage once however many tensors view it (by identity: empty storages can share
/// an address); safetensors groups tensors by the address range they cover.
#[pyfunction]
pub fn _storage_info(t: &Bound<'_, PyTensor>) -> (usize, usize, usize) {
    let d = t.get().t.data();
    (d.storage.id(), d.storage.nbytes(), d.storage.ptr() as usize)
}

/// A 1-d tensor over the whole storage of `t` (same dtype and device).
#[pyfunction]
pub fn _storage_tensor(t: &Bound<'_, PyTensor>) -> TensorObj {
    PyTensor::new(t.get().t.storage_tensor())
}

/// The bytes of a contiguous tensor's elements (copied to the host for a CUDA tensor).
#[pyfunction]
pub fn _storage_bytes<'py>(py: Python<'py>, t: &Bound<'py, PyTensor>) -> PyResult<Bound<'py, PyBytes>> {
    let mut t = t.get().t.clone();
    if t.device() != Device::Cpu {
        t = py.detach(|| t.contiguous_copy_pub().and_then(|c| c.to_device(Device::Cpu))).py()?;
    }
    if !t.is_contiguous() {
        return Err(PyValueError::new_err("_storage_bytes: the tensor must be contiguous"));
    }
    let d = t.data();
    let off = d.layout.offset * d.dtype.size();
    let n = t.numel() * d.dtype.size();
    // SAFETY: see PyFileWriter::write_record: the bytes are read while no kernel writes them.
    let bytes = unsafe { d.storage.cpu_bytes() }.py()?;
    crate::convert::py_bytes(py, &bytes[off..off + n])
}

/// Storage class names of checkpoints (`FloatStorage`, ...) and the dtypes they stand for.
#[pyfunction]
pub fn _storage_names(py: Python<'_>) -> Vec<(&'static str, Py<crate::convert::PyDType>)> {
    ferrotorch::io::STORAGE_NAMES.iter().map(|&(n, d)| (n, crate::convert::dtype_obj(py, d))).collect()
}

/// `torch._C.PyTorchFileReader` over a buffer holding the whole archive (a memory map or
/// the file's bytes): the records of the archive's one directory.
#[pyclass(frozen, name = "PyTorchFileReader", module = "ferrotorch._C")]
pub struct PyFileReader {
    buffer: Py<PyAny>,
    archive: Archive,
}

#[pymethods]
impl PyFileReader {
    #[new]
    fn new(buffer: &Bound<'_, PyAny>) -> PyResult<Self> {
        let b = Bytes::get(buffer)?;
        let archive = Archive::parse(b.slice()).py()?;
        Ok(PyFileReader { buffer: buffer.clone().unbind(), archive })
    }
    fn get_all_records(&self) -> Vec<String> {
        self.archive.names().map(str::to_string).collect()
    }
    fn has_record(&self, name: &str) -> bool {
        self.archive.has(name)
    }
    fn archive_name(&self) -> String {
        self.archive.prefix.trim_end_matches('/').to_string()
    }
    fn get_record<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let b = Bytes::get(self.buffer.bind(py))?;
        crate::convert::py_bytes(py, self.archive.bytes(b.slice(), name).py()?)
    }
    /// (offset of the data in the buffer, size in bytes) of record `name`.
    fn get_record_offset(&self, name: &str) -> PyResult<(u64, u64)> {
        let r = self.archive.get(name).ok_or_else(|| PyRuntimeError::new_err(format!("PytorchStreamReader failed locating file {name}: file not found")))?;
        Ok((r.offset, r.size))
    }
    /// Record `name` as a 1-d tensor of `dtype` (`copy=False`: sharing the buffer).
    #[pyo3(signature = (name, dtype, copy=true, byteswap=false))]
    fn get_storage_from_record(&self, py: Python<'_>, name: &str, dtype: &Bound<'_, PyAny>, copy: bool, byteswap: bool) -> PyResult<TensorObj> {
        let (offset, size) = self.get_record_offset(name)?;
        let t = tensor_from_buffer(self.buffer.bind(py), to_dtype(dtype)?, offset as usize, size as usize, copy, byteswap)?;
        Ok(PyTensor::new(t))
    }
}

/// Where a writer's bytes go: a file we opened (written without the GIL) or a Python
/// file object (its `write`, with the GIL).
enum Sink {
    File(std::io::BufWriter<std::fs::File>),
    Py(Py<PyAny>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Py(obj) => Python::attach(|py| {
                // A memoryview over our bytes, released right after `write`: a file object
                // that kept it would get a ValueError on use, not a dangling pointer.
                // SAFETY: buf is valid for len bytes during this call; PyBUF_READ makes the
                // view read-only.
                let mv = unsafe {
                    let p = pyo3::ffi::PyMemoryView_FromMemory(buf.as_ptr() as *mut _, buf.len() as pyo3::ffi::Py_ssize_t, pyo3::ffi::PyBUF_READ);
                    Bound::from_owned_ptr_or_err(py, p)
                }
                .map_err(std::io::Error::other)?;
                let r = obj.bind(py).call_method1("write", (&mv,));
                let _ = mv.call_method0("release");
                match r {
                    Ok(n) if n.is_none() => Ok(buf.len()),
                    Ok(n) => n.extract::<usize>().map_err(std::io::Error::other).and_then(|n| {
                        if n == 0 && !buf.is_empty() {
                            Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "file object's write returned 0"))
                        } else {
                            Ok(n.min(buf.len()))
                        }
                    }),
                    Err(e) => Err(std::io::Error::other(e)),
                }
            }),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Py(obj) => Python::attach(|py| match obj.bind(py).getattr("flush") {
                Ok(f) => f.call0().map(|_| ()).map_err(std::io::Error::other),
                Err(_) => Ok(()),
            }),
        }
    }
}

/// `torch._C.PyTorchFileWriter`: records of an archive, each record's data aligned to 64
/// bytes, to a path or a file object.
#[pyclass(name = "PyTorchFileWriter", module = "ferrotorch._C")]
pub struct PyFileWriter {
    zip: Option<ZipWriter<Sink>>,
    is_file: bool,
}

impl PyFileWriter {
    fn zip(&mut self) -> PyResult<&mut ZipWriter<Sink>> {
        self.zip.as_mut().ok_or_else(|| PyRuntimeError::new_err("PytorchStreamWriter: the archive is already finished"))
    }
}

#[pymethods]
impl PyFileWriter {
    #[new]
    fn new(f: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (sink, is_file) = if f.is_instance_of::<PyString>() || f.hasattr("__fspath__")? {
            let path: std::path::PathBuf = f.extract()?;
            let file = std::fs::File::create(&path)
                .map_err(PyErr::from)?;
            (Sink::File(std::io::BufWriter::with_capacity(1 << 20, file)), true)
        } else if f.hasattr("write")? {
            (Sink::Py(f.clone().unbind()), false)
        } else {
            return Err(PyTypeError::new_err(format!("expected a path or a file object with write(), got {}", f.get_type().name()?)));
        };
        Ok(PyFileWriter { zip: Some(ZipWriter::new(sink)), is_file })
    }
    /// Write record `name`: the bytes of `data` (bytes, str or any buffer), or of a
    /// contiguous tensor's elements (a CUDA tensor is copied to the host first).
    fn write_record(&mut self, py: Python<'_>, name: &str, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let is_file = self.is_file;
        if let Ok(t) = data.cast::<PyTensor>() {
            let mut t = t.get().t.clone();
            if t.device() != Device::Cpu {
                t = py.detach(|| t.contiguous_copy_pub().and_then(|c| c.to_device(Device::Cpu))).py()?;
            }
            if !t.is_contiguous() {
                return Err(PyValueError::new_err("write_record: the tensor must be contiguous"));
            }
            let (s, off, n) = {
                let d = t.data();
                (d.storage.clone(), d.layout.offset * d.dtype.size(), t.numel() * d.dtype.size())
            };
            let zip = self.zip()?;
            let mut go = || -> ferrotorch::Result<()> {
                // SAFETY: a checkpoint reads the storage while no kernel of ours writes it
                // (a Python thread mutating the tensor during torch.save races in PyTorch
                // too; the bytes read are then some mix, never out of bounds).
                let bytes = unsafe { s.cpu_bytes()? };
                zip.write_record(name, &bytes[off..off + n])
            };
            return if is_file { py.detach(go) } else { go() }.py();
        }
        if let Ok(s) = data.cast::<PyString>() {
            return self.zip()?.write_record(name, s.to_str()?.as_bytes()).py();
        }
        let b = Bytes::get(data)?;
        self.zip()?.write_record(name, b.slice()).py()
    }
    /// Finish the archive (central directory); the file is closed if we opened it.
    fn write_end_of_file(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(mut z) = self.zip.take() {
            let is_file = self.is_file;
            let r = if is_file { py.detach(|| z.finish_in_place()) } else { z.finish_in_place() };
            r.py()?;
        }
        Ok(())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFileReader>()?;
    m.add_class::<PyFileWriter>()?;
    m.add_function(wrap_pyfunction!(_tensor_from_buffer, m)?)?;
    m.add_function(wrap_pyfunction!(_tensor_from_storage, m)?)?;
    m.add_function(wrap_pyfunction!(_storage_info, m)?)?;
    m.add_function(wrap_pyfunction!(_storage_tensor, m)?)?;
    m.add_function(wrap_pyfunction!(_storage_names, m)?)?;
    m.add_function(wrap_pyfunction!(_storage_bytes, m)?)?;
    Ok(())
}
