//! Python data <-> tensors: nested sequences, NumPy arrays (shared memory both ways,
//! through `__array_interface__`, so this crate needs no NumPy headers), tolist.

use ferrotorch::{DType, Device, Scalar, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};

use crate::convert::{to_scalar, IntoPy};
use crate::tensor::PyTensor;

fn typestr(d: DType) -> PyResult<&'static str> {
    Ok(match d {
        DType::Bool => "|b1",
        DType::U8 => "|u1",
        DType::I8 => "|i1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::F16 => "<f2",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::BF16 => return Err(PyTypeError::new_err("Got unsupported ScalarType BFloat16")),
    })
}

fn dtype_from_typestr(s: &str) -> Option<DType> {
    let body = &s[1..];
    Some(match body {
        "b1" => DType::Bool,
        "u1" => DType::U8,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => return None,
    })
}

/// Exposes a tensor's memory to NumPy; NumPy keeps this object (and so the storage)
/// alive as the array's base.
#[pyclass(frozen)]
pub struct ArrayView {
    t: Tensor,
}

#[pymethods]
impl ArrayView {
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = self.t.data();
        let dict = PyDict::new(py);
        let isz = d.dtype.size();
        dict.set_item("shape", PyTuple::new(py, &d.layout.shape)?)?;
        dict.set_item("typestr", typestr(d.dtype)?)?;
        let ptr = d.storage.ptr() as usize + d.layout.offset * isz;
        dict.set_item("data", (ptr, false))?;
        let strides: Vec<usize> = d.layout.strides.iter().map(|s| s * isz).collect();
        dict.set_item("strides", PyTuple::new(py, strides)?)?;
        dict.set_item("version", 3)?;
        Ok(dict)
    }
}

/// `Tensor.numpy()`: an ndarray sharing memory with the tensor.
pub fn to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    if t.device() != Device::Cpu {
        return Err(PyTypeError::new_err(format!(
            "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
            t.device()
        )));
    }
    let np = py.import("numpy")?;
    let view = Py::new(py, ArrayView { t: t.clone() })?;
    np.call_method1("asarray", (view,))
}

struct PyOwner(#[allow(dead_code)] Py<PyAny>);

/// `from_numpy`: a tensor sharing the array's memory (the array stays alive).
pub fn from_numpy(arr: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let py = arr.py();
    let np = py.import("numpy")?;
    if !arr.is_instance(&np.getattr("ndarray")?)? {
        return Err(PyTypeError::new_err(format!("expected np.ndarray (got {})", arr.get_type().name()?)));
    }
    let iface = arr.getattr("__array_interface__")?;
    let ts: String = iface.get_item("typestr")?.extract()?;
    let dtype = dtype_from_typestr(&ts).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "can't convert np.ndarray of type numpy.{}. The only supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.",
            arr.getattr("dtype").and_then(|d| d.str()).map(|s| s.to_string()).unwrap_or_default()
        ))
    })?;
    if ts.starts_with('>') {
        return Err(PyValueError::new_err("given numpy array has byte order different from the native byte order. Conversion between byte orders is currently not supported."));
    }
    let shape: Vec<usize> = iface.get_item("shape")?.extract()?;
    let (ptr, _ro): (usize, bool) = iface.get_item("data")?.extract()?;
    let isz = dtype.size();
    let strides_obj = iface.get_item("strides")?;
    let strides: ferrotorch::shape::Dims = if strides_obj.is_none() {
        ferrotorch::shape::contiguous_strides(&shape)
    } else {
        let s: Vec<isize> = strides_obj.extract()?;
        if s.iter().any(|&x| x < 0) {
            return Err(PyValueError::new_err(
                "At least one stride in the given numpy array is negative, and tensors with negative strides are not currently supported. (You can probably work around this by making a copy of your array  with array.copy().) ",
            ));
        }
        if s.iter().any(|&x| !(x as usize).is_multiple_of(isz)) {
            return Err(PyValueError::new_err("given numpy array strides not a multiple of the element byte size. Copy the numpy array to reallocate the memory."));
        }
        s.iter().map(|&x| x as usize / isz).collect()
    };
    let layout = ferrotorch::shape::Layout { shape: shape.into(), strides, offset: 0 };
    let nbytes = layout.required_len() * isz;
    // SAFETY: NumPy guarantees `ptr` addresses the array's buffer, covering every element
    // reachable through shape/strides; the owner keeps the array (and buffer) alive.
    let storage = unsafe { ferrotorch::storage::Storage::from_external(ptr as *mut u8, nbytes, Box::new(PyOwner(arr.clone().unbind()))) };
    Ok(Tensor::from_parts(storage, layout, dtype))
}

enum Leaf {
    Bool(bool),
    Int(i64),
    Float(f64),
}

/// `out.push(leaf)` with the growth fallible: the leaves of a long index list or of a big
/// array inside a list are many, and a failed `push` would abort the interpreter.
fn push_leaf(out: &mut Vec<Leaf>, leaf: Leaf) -> PyResult<()> {
    out.try_reserve(1).map_err(|_| crate::convert::map_err(ferrotorch::storage::out_of_memory((out.len() + 1).saturating_mul(std::mem::size_of::<Leaf>()))))?;
    out.push(leaf);
    Ok(())
}

fn walk(obj: &Bound<'_, PyAny>, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<Leaf>, tensors_ok: bool) -> PyResult<()> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.get().t;
        // A one-element tensor where numbers are expected is a number (PyTorch).
        if t.numel() == 1 && (t.ndim() == 0 || depth == shape.len()) {
            let s = t.item().py()?;
            push_leaf(out, match s {
                Scalar::Bool(b) => Leaf::Bool(b),
                Scalar::Int(i) => Leaf::Int(i),
                Scalar::Float(f) => Leaf::Float(f),
            })?;
            return leaf_depth(depth, shape);
        }
        let _ = tensors_ok;
        // A tensor inside a list: take its values.
        let vals = t.to_vec::<f64>().py()?;
        let tshape = t.shape();
        check_not_deeper(obj, depth, shape, out)?;
        check_dim(depth, shape, &tshape)?;
        for v in vals {
            push_leaf(out, if t.dtype().is_float() { Leaf::Float(v) } else { Leaf::Int(v as i64) })?;
        }
        return Ok(());
    }
    if let Some(s) = to_scalar(obj)? {
        push_leaf(out, match s {
            Scalar::Bool(b) => Leaf::Bool(b),
            Scalar::Int(i) => Leaf::Int(i),
            Scalar::Float(f) => Leaf::Float(f),
        })?;
        return leaf_depth(depth, shape);
    }
    if obj.hasattr("__array_interface__")? && !obj.is_instance_of::<PyList>() {
        let t = from_numpy(obj)?;
        let vals = t.to_vec::<f64>().py()?;
        check_not_deeper(obj, depth, shape, out)?;
        check_dim(depth, shape, &t.shape())?;
        for v in vals {
            push_leaf(out, if t.dtype().is_float() { Leaf::Float(v) } else if t.dtype() == DType::Bool { Leaf::Bool(v != 0.0) } else { Leaf::Int(v as i64) })?;
        }
        return Ok(());
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let n = obj.len()?;
        check_not_deeper(obj, depth, shape, out)?;
        if depth == shape.len() {
            shape.push(n);
        } else if shape[depth] != n {
            return Err(PyValueError::new_err(format!(
                "expected sequence of length {} at dim {} (got {})",
                shape[depth], depth, n
            )));
        }
        for item in obj.try_iter()? {
            walk(&item?, depth + 1, shape, out, tensors_ok)?;
        }
        return Ok(());
    }
    Err(PyTypeError::new_err(format!(
        "Could not infer dtype of {}",
        obj.get_type().name()?
    )))
}

/// The shape is fixed by the first element chain: once a number was read, a sequence
/// where numbers were found before (`[1, [2]]`) is ragged data.
fn check_not_deeper(obj: &Bound<'_, PyAny>, depth: usize, shape: &[usize], out: &[Leaf]) -> PyResult<()> {
    if depth == shape.len() && !out.is_empty() {
        return Err(PyTypeError::new_err(format!(
            "expected a number at dim {} (as the elements before it), but got {}",
            depth,
            obj.get_type().name()?
        )));
    }
    Ok(())
}

fn leaf_depth(depth: usize, shape: &[usize]) -> PyResult<()> {
    if depth != shape.len() {
        return Err(PyValueError::new_err(format!(
            "expected sequence of length {} at dim {} (got a scalar)",
            shape.get(depth).copied().unwrap_or(0),
            depth
        )));
    }
    Ok(())
}

fn check_dim(depth: usize, shape: &mut Vec<usize>, sub: &[usize]) -> PyResult<()> {
    if depth == shape.len() {
        shape.extend_from_slice(sub);
        return Ok(());
    }
    if shape.len() < depth + sub.len() || shape[depth..depth + sub.len()] != *sub {
        return Err(PyValueError::new_err("expected sequences of equal length (ragged nested data)"));
    }
    Ok(())
}

/// `torch.tensor(data, dtype=None)`: always a copy.
pub fn tensor_from_data(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.get().t.detach();
        let d = dtype.unwrap_or(t.dtype());
        return crate::tensor::heavy(obj.py(), t.numel(), || t.to_dtype(d).and_then(|x| if x.same(&t) { x.contiguous_copy_pub() } else { Ok(x) })).py();
    }
    if obj.hasattr("__array_interface__")? && !obj.is_instance_of::<PyList>() && !obj.is_instance_of::<PyTuple>() {
        let py = obj.py();
        // Copy (NumPy handles odd strides/byte orders), then share.
        let np = py.import("numpy")?;
        let kw = pyo3::types::PyDict::new(py);
        kw.set_item("order", "C")?;
        let arr = np.getattr("array")?.call((obj,), Some(&kw))?;
        let t = from_numpy(&arr)?;
        // The copy owns its memory, so the array (a Python object) is not touched without the GIL.
        return crate::tensor::heavy(py, t.numel(), || {
            let t = t.contiguous_copy_pub()?;
            match dtype {
                Some(d) => t.to_dtype(d),
                None => Ok(t),
            }
        })
        .py();
    }
    let mut shape = vec![];
    let mut leaves = vec![];
    walk(obj, 0, &mut shape, &mut leaves, true)?;
    let inferred = if leaves.iter().any(|l| matches!(l, Leaf::Float(_))) {
        ferrotorch::dtype::default_dtype()
    } else if leaves.iter().any(|l| matches!(l, Leaf::Int(_))) {
        DType::I64
    } else if leaves.is_empty() {
        ferrotorch::dtype::default_dtype()
    } else {
        DType::Bool
    };
    let target = dtype.unwrap_or(inferred);
    let t = if target.is_float() || leaves.iter().any(|l| matches!(l, Leaf::Float(_))) {
        if target.is_int() {
            // As PyTorch: a float that is NaN, ±inf or outside the integer type's range is an
            // error here (a tensor cast would give x86's INT_MIN); a fraction truncates.
            let (lo, hi) = target.int_range().unwrap_or((i64::MIN, i64::MAX));
            let bad = leaves.iter().find_map(|l| match *l {
                Leaf::Float(f) if !(f >= lo as f64 && f <= hi as f64) => Some(f),
                Leaf::Int(i) if i > hi || i < if lo == 0 { -hi } else { lo } => Some(i as f64),
                _ => None,
            });
            if let Some(bad) = bad {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "value cannot be converted to type {} without overflow ({})", target.name(), bad
                )));
            }
        }
        let v = ferrotorch::storage::try_collect(leaves.len(), leaves.iter().map(|l| match *l { Leaf::Bool(b) => b as u8 as f64, Leaf::Int(i) => i as f64, Leaf::Float(f) => f })).py()?;
        Tensor::from_vec(v, &shape).py()?
    } else {
        let v = ferrotorch::storage::try_collect(leaves.len(), leaves.iter().map(|l| match *l { Leaf::Bool(b) => b as i64, Leaf::Int(i) => i, Leaf::Float(f) => f as i64 })).py()?;
        if let Some((lo, hi)) = target.int_range() {
            // As c10's `overflows`: an unsigned type also takes negatives down to -max,
            // which wrap by two's complement (tensor([-1], dtype=uint8) is [255]).
            let lo = if lo == 0 { -hi } else { lo };
            if let Some(bad) = v.iter().find(|&&x| x < lo || x > hi) {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "value cannot be converted to type {} without overflow ({})", target.name(), bad
                )));
            }
        }
        Tensor::from_vec(v, &shape).py()?
    };
    if t.dtype() == target { Ok(t) } else { t.to_dtype(target).py() }
}

/// `Tensor.tolist()`. The lists and numbers are made through the C API with each failure
/// checked (a MemoryError, as PyTorch's): pyo3's `PyList::new` / `PyFloat::new` panic when
/// CPython cannot allocate, and the list of a big tensor is where it cannot.
pub fn tolist<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::ffi;
    let shape = t.shape();
    let dt = t.dtype();
    fn build<'py>(py: Python<'py>, shape: &[usize], f: &mut dyn FnMut() -> PyResult<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        if shape.is_empty() {
            return f();
        }
        let n = shape[0];
        // SAFETY: PyList_New returns a new reference, or null with an exception set.
        let list = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyList_New(n as ffi::Py_ssize_t))? };
        for i in 0..n {
            let item = build(py, &shape[1..], f)?;
            // SAFETY: `list` is a new list of length n and slot i < n is set once; SET_ITEM
            // takes over the reference. Slots left unset on an early error are null, which
            // the list's deallocation skips.
            unsafe { ffi::PyList_SET_ITEM(list.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr()) };
        }
        Ok(list)
    }
    // The values are read without the GIL; the list can only be built with it.
    let n = t.numel();
    if dt.is_float() {
        let v = crate::tensor::heavy(py, n, || t.to_vec::<f64>()).py()?;
        let mut it = v.into_iter();
        // SAFETY: PyFloat_FromDouble returns a new reference, or null with an exception set.
        build(py, &shape, &mut || unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyFloat_FromDouble(it.next().unwrap_or(0.0))) })
    } else if dt == DType::Bool {
        let v = crate::tensor::heavy(py, n, || t.to_vec::<bool>()).py()?;
        let mut it = v.into_iter();
        build(py, &shape, &mut || Ok(PyBool::new(py, it.next().unwrap_or(false)).to_owned().into_any()))
    } else {
        let v = crate::tensor::heavy(py, n, || t.to_vec::<i64>()).py()?;
        let mut it = v.into_iter();
        // SAFETY: PyLong_FromLongLong returns a new reference, or null with an exception set.
        build(py, &shape, &mut || unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyLong_FromLongLong(it.next().unwrap_or(0))) })
    }
}

