//! Python data <-> tensors: nested sequences, NumPy arrays (shared memory both ways,
//! through `__array_interface__`, so this crate needs no NumPy headers), tolist.

use ferrotorch::{DType, Device, Scalar, Tensor};
use pyo3::exceptions::{PyMemoryError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyIterator, PyList, PyTuple};

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
        // A size-1 dim's stride is never used, and as_strided can make it anything: 0 keeps
        // its byte stride from overflowing.
        let strides: Vec<usize> = d.layout.strides.iter().zip(&d.layout.shape).map(|(s, &n)| if n > 1 { s * isz } else { 0 }).collect();
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
    /// A Python int outside int64, as a float when it has one: PyTorch takes it where the
    /// data is float (`tensor([2**70, 1.0])`) and refuses it for an integer dtype.
    Big(Option<f64>),
}

/// `push_leaf(out, leaf)` with the growth fallible: the leaves of a long index list or of a big
/// array inside a list are many, and a failed `push` would abort the interpreter.
fn push_leaf(out: &mut Vec<Leaf>, leaf: Leaf) -> PyResult<()> {
    out.try_reserve(1).map_err(|_| crate::convert::map_err(ferrotorch::storage::out_of_memory((out.len() + 1).saturating_mul(std::mem::size_of::<Leaf>()))))?;
    out.push(leaf);
    Ok(())
}

/// PyTorch's `MAX_DIMS` for nested data (torch/csrc/utils/tensor_new.cpp): data nested
/// deeper is its ValueError "too many dimensions 'list'", not a 25,000-dim tensor.
pub const MAX_DATA_DIMS: usize = 128;

/// Read nested data depth first into `shape` and `out`. The open sequences are an
/// explicit stack, not recursion: the nesting depth is the caller's data, and a list
/// nested 30,000 deep must be an error, not a native stack overflow.
fn walk(root: &Bound<'_, PyAny>, shape: &mut Vec<usize>, out: &mut Vec<Leaf>) -> PyResult<()> {
    let mut open: Vec<Bound<'_, PyIterator>> = Vec::new();
    let mut next = Some(root.clone());
    loop {
        let obj = match next.take() {
            Some(o) => o,
            None => match open.last_mut().map(|it| it.next()) {
                None => return Ok(()),
                Some(Some(item)) => item?,
                Some(None) => {
                    open.pop();
                    continue;
                }
            },
        };
        if let Some(items) = visit(&obj, open.len(), shape, out)? {
            open.push(items);
        }
    }
}

/// One element of nested data at `depth`: a number or a tensor/array is stored; a
/// sequence is checked against the shape so far and returned, to be walked next.
fn visit<'py>(obj: &Bound<'py, PyAny>, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<Leaf>) -> PyResult<Option<Bound<'py, PyIterator>>> {
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
            leaf_depth(depth, shape)?;
            return Ok(None);
        }
        // A tensor inside a list: take its values.
        let vals = t.to_vec::<f64>().py()?;
        let tshape = t.shape();
        check_not_deeper(obj, depth, shape, out)?;
        check_dim(obj, depth, shape, &tshape)?;
        for v in vals {
            push_leaf(out, if t.dtype().is_float() { Leaf::Float(v) } else { Leaf::Int(v as i64) })?;
        }
        return Ok(None);
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() && obj.extract::<i64>().is_err() {
        push_leaf(out, Leaf::Big(obj.extract::<f64>().ok()))?;
        leaf_depth(depth, shape)?;
        return Ok(None);
    }
    if let Some(s) = to_scalar(obj)? {
        push_leaf(out, match s {
            Scalar::Bool(b) => Leaf::Bool(b),
            Scalar::Int(i) => Leaf::Int(i),
            Scalar::Float(f) => Leaf::Float(f),
        })?;
        leaf_depth(depth, shape)?;
        return Ok(None);
    }
    if obj.hasattr("__array_interface__")? && !obj.is_instance_of::<PyList>() {
        let t = from_numpy(obj)?;
        let vals = t.to_vec::<f64>().py()?;
        check_not_deeper(obj, depth, shape, out)?;
        check_dim(obj, depth, shape, &t.shape())?;
        for v in vals {
            push_leaf(out, if t.dtype().is_float() { Leaf::Float(v) } else if t.dtype() == DType::Bool { Leaf::Bool(v != 0.0) } else { Leaf::Int(v as i64) })?;
        }
        return Ok(None);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let n = obj.len()?;
        check_not_deeper(obj, depth, shape, out)?;
        if depth == shape.len() {
            shape.push(n);
            check_max_dims(obj, shape)?;
        } else if shape[depth] != n {
            return Err(PyValueError::new_err(format!(
                "expected sequence of length {} at dim {} (got {})",
                shape[depth], depth, n
            )));
        }
        return Ok(Some(obj.try_iter()?));
    }
    Err(PyTypeError::new_err(format!(
        "Could not infer dtype of {}",
        obj.get_type().name()?
    )))
}

/// PyTorch's check, made as each new dim is found (so before anything deeper is read).
fn check_max_dims(obj: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<()> {
    if shape.len() > MAX_DATA_DIMS {
        // (the type's full name, as tp_name has it: 'list', 'numpy.ndarray')
        return Err(PyValueError::new_err(format!("too many dimensions '{}'", obj.get_type().fully_qualified_name()?)));
    }
    Ok(())
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

fn check_dim(obj: &Bound<'_, PyAny>, depth: usize, shape: &mut Vec<usize>, sub: &[usize]) -> PyResult<()> {
    if depth == shape.len() {
        shape.extend_from_slice(sub);
        return check_max_dims(obj, shape);
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
    walk(obj, &mut shape, &mut leaves)?;
    let inferred = if leaves.iter().any(|l| matches!(l, Leaf::Float(_))) {
        ferrotorch::dtype::default_dtype()
    } else if leaves.iter().any(|l| matches!(l, Leaf::Int(_) | Leaf::Big(_))) {
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
                Leaf::Float(f) | Leaf::Big(Some(f)) if !(f >= lo as f64 && f <= hi as f64) => Some(f),
                Leaf::Int(i) if i > hi || i < if lo == 0 { -hi } else { lo } => Some(i as f64),
                _ => None,
            });
            if let Some(bad) = bad {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "value cannot be converted to type {} without overflow ({})", target.name(), bad
                )));
            }
        }
        if leaves.iter().any(|l| matches!(l, Leaf::Big(None))) {
            return Err(PyOverflowError::new_err("int too large to convert to float"));
        }
        let v = ferrotorch::storage::try_collect(
            leaves.len(),
            leaves.iter().map(|l| match *l {
                Leaf::Bool(b) => b as u8 as f64,
                Leaf::Int(i) => i as f64,
                Leaf::Float(f) | Leaf::Big(Some(f)) => f,
                Leaf::Big(None) => f64::INFINITY, // refused above
            }),
        )
        .py()?;
        Tensor::from_vec(v, &shape).py()?
    } else {
        if target != DType::Bool && leaves.iter().any(|l| matches!(l, Leaf::Big(_))) {
            return Err(PyValueError::new_err("Overflow when unpacking long long"));
        }
        // (a big int is nonzero: true as a bool)
        let v = ferrotorch::storage::try_collect(leaves.len(), leaves.iter().map(|l| match *l { Leaf::Bool(b) => b as i64, Leaf::Int(i) => i, Leaf::Float(f) => f as i64, Leaf::Big(_) => 1 })).py()?;
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

/// `Tensor.tolist()`. The numbers and lists are made through the C API with each failure
/// checked (a MemoryError, as PyTorch's): pyo3's `PyList::new` / `PyFloat::new` panic when
/// CPython cannot allocate, and the list of a big tensor is where it cannot. The lists are
/// built bottom-up, one dim at a time, innermost first: a loop over the dims rather than a
/// recursion as deep as the tensor has dims (100,000 dims overflowed the native stack).
pub fn tolist<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::ffi;
    let shape = t.shape();
    let dt = t.dtype();
    let n = t.numel();
    let no_memory = |what: &str, k: usize| PyMemoryError::new_err(format!("tolist(): {k} {what} do not fit in memory"));
    let mut items: Vec<Bound<'py, PyAny>> = Vec::new();
    // The values are read without the GIL (a failure there is the engine's out-of-memory
    // RuntimeError); the Python objects can only be made with it.
    if dt.is_float() {
        let vals = crate::tensor::heavy(py, n, || t.to_vec::<f64>()).py()?;
        items.try_reserve_exact(n).map_err(|_| no_memory("elements", n))?;
        for v in vals {
            // SAFETY: PyFloat_FromDouble returns a new reference, or null with an exception set.
            items.push(unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyFloat_FromDouble(v))? });
        }
    } else if dt == DType::Bool {
        let vals = crate::tensor::heavy(py, n, || t.to_vec::<bool>()).py()?;
        items.try_reserve_exact(n).map_err(|_| no_memory("elements", n))?;
        for v in vals {
            items.push(PyBool::new(py, v).to_owned().into_any());
        }
    } else {
        let vals = crate::tensor::heavy(py, n, || t.to_vec::<i64>()).py()?;
        items.try_reserve_exact(n).map_err(|_| no_memory("elements", n))?;
        for v in vals {
            // SAFETY: PyLong_FromLongLong returns a new reference, or null with an exception set.
            items.push(unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyLong_FromLongLong(v))? });
        }
    }
    if shape.is_empty() {
        return Ok(items.pop().expect("a 0-d tensor has one element"));
    }
    // Dim d has as many lists as the dims before it have elements (an empty tensor can still
    // ask for very many).
    let mut lists: Vec<usize> = Vec::new();
    lists.try_reserve_exact(shape.len()).map_err(|_| no_memory("dims", shape.len()))?;
    lists.push(1);
    for d in 1..shape.len() {
        lists.push(lists[d - 1].saturating_mul(shape[d - 1]));
    }
    for d in (0..shape.len()).rev() {
        let mut next: Vec<Bound<'py, PyAny>> = Vec::new();
        next.try_reserve_exact(lists[d]).map_err(|_| no_memory(&format!("lists of dim {d}"), lists[d]))?;
        let mut rest = items.into_iter();
        for _ in 0..lists[d] {
            // SAFETY: PyList_New returns a new reference, or null with an exception set.
            let list = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyList_New(shape[d] as ffi::Py_ssize_t))? };
            for i in 0..shape[d] {
                let item = rest.next().expect("the lists of dim d+1 number lists[d] * shape[d]");
                // SAFETY: `list` is a new list of length shape[d] and slot i is set once;
                // SET_ITEM takes over the reference.
                unsafe { ffi::PyList_SET_ITEM(list.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr()) };
            }
            next.push(list);
        }
        items = next;
    }
    Ok(items.pop().expect("one list of the outermost dim"))
}
