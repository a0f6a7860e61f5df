//! Argument conversion between Python objects and engine types, and error mapping.
//! This crate only converts and maps; all semantics live in the `ferrotorch` crate.

use ferrotorch::{DType, Device, Error, Scalar, Tensor};
use pyo3::exceptions::{PyIndexError, PyNotImplementedError, PyOverflowError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyList, PySequence, PyTuple};

use crate::tensor::PyTensor;

/// A `bytes` object holding `data`. Rejected: `PyBytes::new`, which panics when Python
/// cannot allocate the object (a multi-GB record or safetensors buffer); this gives
/// Python's MemoryError.
pub fn py_bytes<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, data.len(), |buf| {
        buf.copy_from_slice(data);
        Ok(())
    })
}

pub fn map_err(e: Error) -> PyErr {
    match e {
        Error::Runtime(m) => PyRuntimeError::new_err(m),
        Error::Index(m) => PyIndexError::new_err(m),
        Error::Type(m) => PyTypeError::new_err(m),
        Error::Value(m) => PyValueError::new_err(m),
        Error::NotImplemented(m) => PyNotImplementedError::new_err(m),
    }
}

/// A Python exception raised inside a callback the engine runs (custom Function backward,
/// tensor hooks), carried through the engine as the matching error kind so that the
/// caller of `backward()` sees the same exception type and message, as in PyTorch.
pub fn py_err_to_core(py: Python<'_>, e: PyErr) -> Error {
    let msg = e.value(py).str().map(|s| s.to_string()).unwrap_or_default();
    if e.is_instance_of::<PyTypeError>(py) {
        Error::Type(msg)
    } else if e.is_instance_of::<PyIndexError>(py) {
        Error::Index(msg)
    } else if e.is_instance_of::<PyValueError>(py) {
        Error::Value(msg)
    } else if e.is_instance_of::<PyNotImplementedError>(py) {
        Error::NotImplemented(msg)
    } else {
        Error::Runtime(msg)
    }
}

pub trait IntoPy<T> {
    fn py(self) -> PyResult<T>;
}
impl<T> IntoPy<T> for ferrotorch::Result<T> {
    #[inline]
    fn py(self) -> PyResult<T> {
        self.map_err(map_err)
    }
}

// ---- dtype objects -----------------------------------------------------------------

/// `torch.dtype`: singletons, so `t.dtype is torch.float32` holds.
#[pyclass(frozen, name = "dtype", module = "ferrotorch", eq, hash)]
#[derive(PartialEq, Eq, Hash, Clone)]
pub struct PyDType {
    pub d: DType,
}

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> String {
        format!("torch.{}", self.d.name())
    }
    #[getter]
    fn is_floating_point(&self) -> bool {
        self.d.is_float()
    }
    #[getter]
    fn is_signed(&self) -> bool {
        self.d.is_signed()
    }
    #[getter]
    fn is_complex(&self) -> bool {
        false
    }
    #[getter]
    fn itemsize(&self) -> usize {
        self.d.size()
    }
    fn __reduce__(&self) -> (String,) {
        (self.d.name().to_string(),)
    }
}

static DTYPE_OBJS: PyOnceLock<Vec<Py<PyDType>>> = PyOnceLock::new();

pub fn dtype_obj(py: Python<'_>, d: DType) -> Py<PyDType> {
    let v = DTYPE_OBJS.get_or_init(py, || {
        ferrotorch::dtype::ALL_DTYPES.iter().map(|&d| Py::new(py, PyDType { d }).expect("dtype object")).collect()
    });
    let i = ferrotorch::dtype::ALL_DTYPES.iter().position(|&x| x == d).unwrap_or(0);
    v[i].clone_ref(py)
}

/// A dtype argument: a dtype object, a legacy type string ("torch.FloatTensor"), or a
/// Python type (float, int, bool).
pub fn to_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    if let Ok(d) = obj.cast::<PyDType>() {
        return Ok(d.get().d);
    }
    let py = obj.py();
    if obj.is(py.get_type::<PyFloat>()) {
        return Ok(DType::F64);
    }
    if obj.is(py.get_type::<PyBool>()) {
        return Ok(DType::Bool);
    }
    if obj.is(py.get_type::<PyInt>()) {
        return Ok(DType::I64);
    }
    if let Ok(s) = obj.extract::<String>() {
        let name = s.trim_start_matches("torch.");
        for d in ferrotorch::dtype::ALL_DTYPES {
            if d.legacy_name() == name || d.name() == name {
                return Ok(d);
            }
        }
        if let Some(d) = DType::from_name(name) {
            return Ok(d);
        }
        return Err(PyTypeError::new_err(format!("invalid type: '{}'", s)));
    }
    // Legacy type objects (torch.FloatTensor) carry their dtype.
    if let Ok(d) = obj.getattr("dtype") {
        if let Ok(d) = d.cast::<PyDType>() {
            return Ok(d.get().d);
        }
    }
    Err(PyTypeError::new_err(format!(
        "dtype must be torch.dtype, got {}",
        obj.get_type().name()?
    )))
}

pub fn opt_dtype(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DType>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => Ok(Some(to_dtype(o)?)),
    }
}

// ---- devices -----------------------------------------------------------------------

#[pyclass(frozen, name = "device", module = "ferrotorch")]
#[derive(Clone)]
pub struct PyDevice {
    pub d: Device,
    pub explicit: bool,
}

#[pymethods]
impl PyDevice {
    #[new]
    #[pyo3(signature = (spec, index=None))]
    fn new(spec: &Bound<'_, PyAny>, index: Option<usize>) -> PyResult<Self> {
        if let Ok(d) = spec.cast::<PyDevice>() {
            return Ok(d.get().clone());
        }
        if let Ok(i) = spec.extract::<usize>() {
            return Ok(PyDevice { d: Device::Cuda(i), explicit: true });
        }
        let s: String = spec.extract()?;
        let (d, explicit) = Device::parse(&s).ok_or_else(|| {
            PyRuntimeError::new_err(format!(
                "Expected one of cpu, cuda device type at start of device string: {}",
                s
            ))
        })?;
        Ok(match (d, index) {
            (Device::Cuda(_), Some(i)) => PyDevice { d: Device::Cuda(i), explicit: true },
            (Device::Cpu, Some(_)) => PyDevice { d, explicit: true },
            _ => PyDevice { d, explicit },
        })
    }
    #[getter]
    fn r#type(&self) -> &'static str {
        self.d.type_name()
    }
    #[getter]
    fn index(&self) -> Option<usize> {
        match (self.d, self.explicit) {
            (Device::Cuda(i), true) => Some(i),
            (Device::Cpu, true) => Some(0),
            _ => None,
        }
    }
    fn __repr__(&self) -> String {
        match self.index() {
            Some(i) => format!("device(type='{}', index={})", self.d.type_name(), i),
            None => format!("device(type='{}')", self.d.type_name()),
        }
    }
    fn __str__(&self) -> String {
        match self.index() {
            Some(i) => format!("{}:{}", self.d.type_name(), i),
            None => self.d.type_name().to_string(),
        }
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyDevice>() {
            Ok(o) => o.get().d == self.d && o.get().index() == self.index(),
            Err(_) => other.extract::<String>().map(|s| s == self.__str__()).unwrap_or(false),
        }
    }
    fn __hash__(&self) -> u64 {
        match self.d {
            Device::Cpu => 0,
            Device::Cuda(i) => 1 + i as u64,
        }
    }
    fn __reduce__(&self) -> (String,) {
        (self.__str__(),)
    }
    /// `with torch.device(...)`: factories without `device=` create on this device until the
    /// block ends; the previous default (nested blocks, set_default_device) comes back then.
    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        let d = slf.get().clone();
        DEVICE_STACK.with(|st| st.borrow_mut().push(DEFAULT_DEVICE.with(|c| c.replace(Some(d)))));
        slf
    }
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) {
        let prev = DEVICE_STACK.with(|st| st.borrow_mut().pop()).flatten();
        DEFAULT_DEVICE.with(|c| *c.borrow_mut() = prev);
    }
}

thread_local! {
    /// The default device of factory functions on this thread (PyTorch's is thread-local too):
    /// `torch.set_default_device`, or the innermost `with torch.device(...)`; None is the CPU.
    static DEFAULT_DEVICE: std::cell::RefCell<Option<PyDevice>> = const { std::cell::RefCell::new(None) };
    /// The defaults the open `with torch.device(...)` blocks replaced, innermost last.
    static DEVICE_STACK: std::cell::RefCell<Vec<Option<PyDevice>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The device of a factory function (zeros, rand, arange, tensor...): `device=` when given,
/// else the thread's default device, else the CPU. The one place a factory's device is
/// resolved; `*_like` and `Tensor.new_*` pass their input's device explicitly instead.
pub fn factory_device(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Device> {
    Ok(opt_factory_device(obj)?.unwrap_or(Device::Cpu))
}

/// [`factory_device`] for factories that keep their data's device when neither `device=` nor
/// a default device is set (`tensor`, `as_tensor`).
pub fn opt_factory_device(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Device>> {
    Ok(to_device(obj)?.or_else(|| DEFAULT_DEVICE.with(|c| c.borrow().as_ref().map(|d| d.d))))
}

/// `torch.set_default_device(device)`: None goes back to the CPU.
#[pyfunction]
pub fn set_default_device(device: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let d = match device {
        Some(o) if !o.is_none() => Some(match o.cast::<PyDevice>() {
            Ok(d) => d.get().clone(),
            Err(_) => PyDevice::new(o, None)?,
        }),
        _ => None,
    };
    DEFAULT_DEVICE.with(|c| *c.borrow_mut() = d);
    Ok(())
}

/// `torch.get_default_device()`: the CPU unless set; a CUDA default without an index is
/// read with the index a tensor created there gets (an error without a GPU, as PyTorch's).
#[pyfunction]
pub fn get_default_device() -> PyResult<PyDevice> {
    Ok(match DEFAULT_DEVICE.with(|c| c.borrow().clone()) {
        None => PyDevice { d: Device::Cpu, explicit: false },
        Some(PyDevice { d: Device::Cuda(i), explicit: false }) => {
            ferrotorch::cuda::check_ordinal(i).py()?;
            PyDevice { d: Device::Cuda(i), explicit: true }
        }
        Some(d) => d,
    })
}

pub fn to_device(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Device>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(d) = o.cast::<PyDevice>() {
                return Ok(Some(d.get().d));
            }
            Ok(Some(PyDevice::new(o, None)?.d))
        }
    }
}

// ---- scalars, sizes, dims ----------------------------------------------------------

/// A Python number as an engine scalar (bool before int: bool is an int subclass).
pub fn to_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Some(Scalar::Bool(obj.extract()?)));
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(v) => Ok(Some(Scalar::Int(v))),
            Err(_) => Err(PyRuntimeError::new_err(format!("Overflow when unpacking long: {}", obj))),
        };
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Some(Scalar::Float(obj.extract()?)));
    }
    // NumPy scalars and other number-likes.
    let tn = obj.get_type().name()?.to_string();
    if tn.starts_with("bool") {
        return Ok(Some(Scalar::Bool(obj.is_truthy()?)));
    }
    if tn.starts_with("int") || tn.starts_with("uint") {
        if let Ok(v) = obj.call_method0("__index__").and_then(|v| v.extract::<i64>()) {
            return Ok(Some(Scalar::Int(v)));
        }
    }
    if tn.starts_with("float") {
        if let Ok(v) = obj.call_method0("__float__").and_then(|v| v.extract::<f64>()) {
            return Ok(Some(Scalar::Float(v)));
        }
    }
    Ok(None)
}

/// A number argument that PyTorch also takes as a 0-d tensor (`arange(t)`,
/// `full(size, t)`): a Python/NumPy number, or a 0-d tensor's value.
pub fn to_number(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.get().t;
        return if t.ndim() == 0 { Ok(Some(t.item().py()?)) } else { Ok(None) };
    }
    to_scalar(obj)
}

/// A converted tensor-or-number argument: the core's owned operand.
pub use ferrotorch::ops::OwnedArg as ArgOwned;

/// Tensor or Python number.
pub fn to_arg(obj: &Bound<'_, PyAny>) -> PyResult<ArgOwned> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(ArgOwned::T(t.get().t.clone()));
    }
    if let Some(s) = to_scalar(obj)? {
        return Ok(ArgOwned::S(s));
    }
    if obj.hasattr("__array_interface__")? || obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return Ok(ArgOwned::T(crate::data::tensor_from_data(obj, None)?));
    }
    Err(PyTypeError::new_err(format!(
        "unsupported operand type: expected Tensor or number, got {}",
        obj.get_type().name()?
    )))
}

pub fn to_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().t.clone());
    }
    Err(PyTypeError::new_err(format!("expected Tensor as argument, but got {}", obj.get_type().name()?)))
}

/// Sizes given as varargs ints, one sequence, or a torch.Size.
pub fn to_sizes(args: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    let raw: Vec<i64> = if (args.len() == 1 && !args.get_item(0)?.is_instance_of::<PyInt>() && !args.get_item(0)?.hasattr("__index__")?)
        || (args.len() == 1 && args.get_item(0)?.cast::<PyTensor>().is_err() && args.get_item(0)?.is_instance_of::<PySequence>())
    {
        let seq = args.get_item(0)?;
        to_int_list(&seq).map_err(|e| size_overflow(&seq, e))?
    } else {
        args.iter().map(|a| to_index(&a)).collect::<PyResult<_>>().map_err(|e| size_overflow(args.as_any(), e))?
    };
    check_sizes(&raw)
}

/// PyTorch's TypeError for a size outside int64 (`empty(2**63)`), naming the item's
/// 1-based position (its "Overflow when unpacking long long"); other errors pass through.
/// The factories put their name in front, as PyTorch's argument parser does.
fn size_overflow(items: &Bound<'_, PyAny>, e: PyErr) -> PyErr {
    if !e.is_instance_of::<PyOverflowError>(items.py()) {
        return e;
    }
    let pos = items.try_iter().ok().and_then(|it| it.flatten().position(|x| to_index(&x).is_err())).unwrap_or(0) + 1;
    PyTypeError::new_err(format!("argument 'size' failed to unpack the object at pos {pos} with error \"Overflow when unpacking long long\""))
}

/// Signed sizes for a new tensor (the core's rule and message).
pub fn check_sizes(raw: &[i64]) -> PyResult<Vec<usize>> {
    ferrotorch::shape::sizes_from_signed(raw).py()
}

pub fn to_index(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>();
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.get().t;
        if t.numel() == 1 && !t.dtype().is_float() {
            return Ok(t.item().py()?.to_i64());
        }
    }
    match obj.call_method0("__index__") {
        Ok(v) => v.extract::<i64>(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected an integer, but got {}",
            obj.get_type().name()?
        ))),
    }
}

pub fn to_int_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    if obj.is_instance_of::<PyInt>() {
        return Ok(vec![obj.extract()?]);
    }
    // One index-like object (a 0-d integer tensor, a NumPy integer) is one dim, as in
    // PyTorch; iterating a 0-d tensor would fail.
    if !obj.is_instance_of::<PyTuple>() && !obj.is_instance_of::<PyList>() {
        if let Ok(i) = to_index(obj) {
            return Ok(vec![i]);
        }
    }
    let mut out = vec![];
    for item in obj.try_iter()? {
        out.push(to_index(&item?)?);
    }
    Ok(out)
}

/// `dim` argument: None, an int, or a tuple/list of ints.
pub fn to_dims(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<i64>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => Ok(Some(to_int_list(o)?)),
    }
}

pub fn size_obj(py: Python<'_>, shape: &[usize]) -> PyResult<Py<PyAny>> {
    static SIZE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = SIZE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("ferrotorch._size")?.getattr("Size")?.unbind())
    })?;
    let tup = PyTuple::new(py, shape)?;
    cls.call1(py, (tup,))
}
