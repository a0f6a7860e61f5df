//! `ferrotorch.Tensor`: the engine's Tensor as a Python class. Methods only convert
//! arguments, call the engine and map errors.

use std::sync::atomic::{AtomicBool, Ordering};
use ferrotorch::autograd::{self, Hook};
use ferrotorch::{Arg, DType, Device, Scalar, Tensor, TensorIndex};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyFloat, PyInt, PyList, PyNone, PySlice, PyString, PyTuple};

use crate::convert::*;
use crate::data;

/// Tensors at least this large release the GIL while their kernel runs.
const GIL_FREE_NUMEL: usize = 1 << 15;

#[pyclass(subclass, frozen, weakref, name = "Tensor", module = "ferrotorch")]
pub struct PyTensor {
    pub t: Tensor,
    /// This object is the one recorded in `t`'s binding slot (cleared when it dies).
    registered: AtomicBool,
}

impl PyTensor {
    /// A tensor to hand to Python: converts to the object already wrapping it, if any.
    // why: returns the `TensorObj` wrapper, not a `PyTensor`: the Python object is found or
    // made on conversion (see `TensorObj`); `new` keeps the call sites reading as construction.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(t: Tensor) -> TensorObj {
        TensorObj(t)
    }
    /// The struct itself, for `#[new]` (the object is registered on first use instead).
    pub fn raw(t: Tensor) -> PyTensor {
        PyTensor { t, registered: AtomicBool::new(false) }
    }
}

impl Drop for PyTensor {
    fn drop(&mut self) {
        if *self.registered.get_mut() {
            self.t.binding_slot().store(0, Ordering::Release);
        }
    }
}

/// Record `obj` as the object for its tensor unless another live object already is.
/// Runs with the GIL held (as does the dealloc that clears the slot), so a non-zero
/// slot always names a live object.
pub fn register(obj: &Bound<'_, PyTensor>) {
    let me = obj.get();
    if me.t.binding_slot().compare_exchange(0, obj.as_ptr() as usize, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        me.registered.store(true, Ordering::Release);
    }
}

/// `Tensor.__reduce__`'s value: (`_rebuild_tensor`, (numpy array, dtype name,
/// requires_grad, device)).
type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyAny>, String, bool, String));

/// A tensor on its way to Python. PyTorch keeps one Python object per tensor (so
/// `x.grad is x.grad` and `y.grad_fn.next_functions[0][0].variable is x`); converting
/// gives back the registered object when there is one, else makes and registers one.
/// Rejected: a weakref per tensor (an extra Python allocation on every op result).
pub struct TensorObj(pub Tensor);

impl<'py> IntoPyObject<'py> for TensorObj {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.0.binding_slot().load(Ordering::Acquire);
        if p != 0 {
            // SAFETY: a non-zero slot is the address of a live Tensor object (see
            // `register`); taking a new reference to it keeps it alive.
            return Ok(unsafe { Bound::from_borrowed_ptr(py, p as *mut pyo3::ffi::PyObject) });
        }
        let obj = Bound::new(py, PyTensor::raw(self.0))?;
        register(&obj);
        Ok(obj.into_any())
    }
}

pub fn wrap(r: ferrotorch::Result<Tensor>) -> PyResult<TensorObj> {
    r.map(PyTensor::new).map_err(map_err)
}

/// Run `f` without the GIL when the work is big enough to matter.
pub fn heavy<T: Send>(py: Python<'_>, numel: usize, f: impl FnOnce() -> T + Send) -> T {
    if numel >= GIL_FREE_NUMEL {
        py.detach(f)
    } else {
        f()
    }
}

pub(crate) fn write_out(name: &str, out: Option<&Bound<'_, PyAny>>, r: Tensor) -> PyResult<Py<PyAny>> {
    match out {
        Some(o) if !o.is_none() => {
            let ot = to_tensor(o)?;
            if r.requires_grad() {
                // r requires grad only when grad mode is on and an input requires it; PyTorch
                // refuses rather than silently dropping the graph.
                return Err(PyRuntimeError::new_err(format!(
                    "{name}(): functions with out=... arguments don't support automatic differentiation, \
                     but one of the arguments requires grad."
                )));
            }
            ferrotorch::ops::elementwise::check_can_cast(r.dtype(), ot.dtype()).py()?;
            if ot.shape() != r.shape() {
                // PyTorch resizes an `out=` tensor of the wrong shape.
                let c = r.to_dtype(ot.dtype()).py()?.contiguous_copy_pub().py()?;
                ot.set_data(c.data().clone());
            } else {
                ot.copy_(&r).py()?;
            }
            Ok(o.clone().unbind())
        }
        _ => {
            // SAFETY: write_out is only called from #[pymethods], which run attached to the
            // interpreter.
            let py = unsafe { Python::assume_attached() };
            Ok(PyTensor::new(r).into_pyobject(py)?.into_any().unbind())
        }
    }
}

/// `Tensor.softmax(dim)` requires `dim` (PyTorch's method signature has no default for
/// it); the functional forms in nn.functional apply the legacy implicit-dim rule.
fn softmax_dim(_t: &Tensor, dim: Option<i64>) -> PyResult<i64> {
    dim.ok_or_else(|| PyTypeError::new_err("softmax() missing 1 required positional argument: 'dim'"))
}

fn parse_index(py: Python<'_>, idx: &Bound<'_, PyAny>) -> PyResult<Vec<TensorIndex>> {
    let items: Vec<Bound<'_, PyAny>> = if idx.is_instance_of::<PyTuple>() {
        idx.cast::<PyTuple>()?.iter().collect()
    } else {
        vec![idx.clone()]
    };
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        out.push(if it.is_instance_of::<PyBool>() {
            TensorIndex::Tensor(Tensor::scalar(Scalar::Bool(it.extract()?), DType::Bool).py()?)
        } else if it.is_instance_of::<PyInt>() {
            TensorIndex::Int(it.extract()?)
        } else if let Ok(s) = it.cast::<PySlice>() {
            let get = |name: &str| -> PyResult<Option<i64>> {
                let v = s.getattr(name)?;
                if v.is_none() { Ok(None) } else { Ok(Some(to_index(&v)?)) }
            };
            let step = get("step")?.unwrap_or(1);
            if step <= 0 {
                return Err(PyValueError::new_err("step must be greater than zero"));
            }
            TensorIndex::Slice(get("start")?, get("stop")?, step)
        } else if it.is_instance_of::<PyNone>() {
            TensorIndex::None
        } else if it.is_instance_of::<PyEllipsis>() {
            TensorIndex::Ellipsis
        } else if let Ok(t) = it.cast::<PyTensor>() {
            let t = uint8_as_bool(py, t.get().t.clone(), INDEX_UINT8)?;
            if t.ndim() == 0 && !t.dtype().is_float() && t.dtype() != DType::Bool {
                TensorIndex::Int(t.item().py()?.to_i64())
            } else if matches!(t.dtype(), DType::I8 | DType::I16) || t.dtype().is_float() {
                return Err(PyIndexError::new_err("tensors used as indices must be long, int, byte or bool tensors"));
            } else {
                TensorIndex::Tensor(t)
            }
        } else if it.is_instance_of::<PyList>() || it.hasattr("__array_interface__")? {
            let t = uint8_as_bool(py, data::tensor_from_data(&it, None)?, INDEX_UINT8)?;
            // An empty list is an empty int64 index (its inferred dtype is float).
            if t.numel() == 0 && t.dtype().is_float() {
                TensorIndex::Tensor(t.to_dtype(DType::I64).py()?)
            } else if t.dtype().is_float() {
                return Err(PyIndexError::new_err("tensors used as indices must be long, int, byte or bool tensors"));
            } else {
                TensorIndex::Tensor(t)
            }
        } else if let Ok(i) = to_index(&it) {
            TensorIndex::Int(i)
        } else {
            return Err(PyIndexError::new_err(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices",
            ));
        });
    }
    Ok(out)
}

/// `nonzero(as_tuple=True)`, also `torch.where(condition)`: one index tensor per dim. A
/// 0-d input behaves as if it were 1-d: one index column, [0] or [].
pub(crate) fn nonzero_tuple(py: Python<'_>, t: &Tensor) -> PyResult<Py<PyAny>> {
    let nz = if t.ndim() == 0 { t.reshape(&[1]).and_then(|x| x.nonzero()) } else { t.nonzero() }.py()?;
    let cols: Vec<TensorObj> = (0..t.ndim().max(1))
        .map(|k| nz.select(1, k as i64).and_then(|c| c.contiguous()).map(PyTensor::new))
        .collect::<ferrotorch::Result<_>>()
        .py()?;
    Ok(PyTuple::new(py, cols)?.into_any().unbind())
}

/// PyTorch's deprecated uint8 masks (nonzero means true), still taken with a warning by
/// `where`'s condition and by indexing; as an integer index a uint8 tensor would pick
/// different elements silently.
pub(crate) fn uint8_as_bool(py: Python<'_>, t: Tensor, warning: &std::ffi::CStr) -> PyResult<Tensor> {
    if t.dtype() != DType::U8 {
        return Ok(t);
    }
    PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyUserWarning>(), warning, 1)?;
    t.to_dtype(DType::Bool).py()
}
pub(crate) const WHERE_UINT8: &std::ffi::CStr = c"where received a uint8 condition tensor. This behavior is deprecated and will be removed in a future version of PyTorch. Use a boolean condition instead.";
const INDEX_UINT8: &std::ffi::CStr = c"indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.";

// The class body. The elementwise ops' methods are generated from the engine's op registry in
// registry_ops.rs, each in its own #[pymethods] block (pyo3's multiple-pymethods).
macro_rules! tensor_class {
    ({ $($rest:tt)* }) => {
        #[pymethods]
        impl PyTensor {
            $($rest)*
        }
    };
}

fn op_arith(a: &Tensor, other: &Bound<'_, PyAny>, f: fn(&Tensor, Arg) -> ferrotorch::Result<Tensor>) -> PyResult<Py<PyAny>> {
    let py = other.py();
    match to_arg(other) {
        Ok(o) => Ok(PyTensor::new(heavy(py, a.numel(), || f(a, o.arg())).py()?).into_pyobject(py)?.into_any().unbind()),
        Err(_) => Ok(py.NotImplemented()),
    }
}

fn op_rarith(a: &Tensor, other: &Bound<'_, PyAny>, f: fn(Arg, Arg) -> ferrotorch::Result<Tensor>) -> PyResult<Py<PyAny>> {
    let py = other.py();
    match to_arg(other) {
        Ok(o) => Ok(PyTensor::new(heavy(py, a.numel(), || f(o.arg(), Arg::T(a))).py()?).into_pyobject(py)?.into_any().unbind()),
        Err(_) => Ok(py.NotImplemented()),
    }
}

use ferrotorch::ops::elementwise::{binary, specs};

tensor_class! {
    {
    #[new]
    #[pyo3(signature = (*args, dtype=None, device=None))]
    fn py_new(args: &Bound<'_, PyTuple>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        // Legacy constructor: Tensor(), Tensor(*sizes), Tensor(sequence), Tensor(tensor).
        let dt = opt_dtype(dtype)?.unwrap_or(ferrotorch::dtype::default_dtype());
        let dev = to_device(device)?.unwrap_or(Device::Cpu);
        if args.is_empty() {
            return Tensor::empty(&[0], dt, dev).map(PyTensor::raw).map_err(map_err);
        }
        let a0 = args.get_item(0)?;
        if args.len() == 1 {
            if let Ok(t) = a0.cast::<PyTensor>() {
                // Alias sharing storage (used by nn.Parameter).
                return Ok(PyTensor::raw(t.get().t.detach()));
            }
            if (a0.is_instance_of::<PyList>() || a0.is_instance_of::<PyTuple>() || a0.hasattr("__array_interface__")?)
                && (a0.hasattr("__array_interface__")? || a0.len()? == 0 || !a0.get_item(0)?.is_instance_of::<PyInt>() || a0.is_instance_of::<PyList>())
            {
                return Ok(PyTensor::raw(data::tensor_from_data(&a0, Some(dt))?));
            }
        }
        let sizes = to_sizes(args)?;
        Tensor::empty(&sizes, dt, dev).map(PyTensor::raw).map_err(map_err)
    }

    // ---- attributes ---------------------------------------------------------------
    #[getter]
    fn shape(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        size_obj(py, &self.t.shape())
    }
    #[pyo3(signature = (dim=None))]
    fn size(&self, py: Python<'_>, dim: Option<i64>) -> PyResult<Py<PyAny>> {
        match dim {
            None => size_obj(py, &self.t.shape()),
            Some(d) => Ok(self.t.size(d).py()?.into_pyobject(py)?.into_any().unbind()),
        }
    }
    fn dim(&self) -> usize {
        self.t.ndim()
    }
    #[getter]
    fn ndim(&self) -> usize {
        self.t.ndim()
    }
    fn ndimension(&self) -> usize {
        self.t.ndim()
    }
    fn numel(&self) -> usize {
        self.t.numel()
    }
    fn nelement(&self) -> usize {
        self.t.numel()
    }
    #[getter]
    fn dtype(&self, py: Python<'_>) -> Py<PyDType> {
        dtype_obj(py, self.t.dtype())
    }
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice { d: self.t.device(), explicit: self.t.device().is_cuda() }
    }
    #[getter]
    fn is_cuda(&self) -> bool {
        self.t.device().is_cuda()
    }
    #[getter]
    fn is_cpu(&self) -> bool {
        !self.t.device().is_cuda()
    }
    #[pyo3(signature = (dim=None))]
    fn stride(&self, py: Python<'_>, dim: Option<i64>) -> PyResult<Py<PyAny>> {
        let s = self.t.strides();
        match dim {
            None => Ok(PyTuple::new(py, s.iter())?.into_any().unbind()),
            Some(d) => {
                let i = ferrotorch::shape::wrap_dim_of_sizes(d, s.len()).py()?;
                Ok(s[i].into_pyobject(py)?.into_any().unbind())
            }
        }
    }
    fn storage_offset(&self) -> usize {
        self.t.storage_offset()
    }
    fn is_contiguous(&self) -> bool {
        self.t.is_contiguous()
    }
    fn data_ptr(&self) -> usize {
        self.t.data_ptr()
    }
    fn element_size(&self) -> usize {
        self.t.element_size()
    }
    #[getter]
    fn itemsize(&self) -> usize {
        self.t.element_size()
    }
    #[getter]
    fn nbytes(&self) -> usize {
        self.t.numel() * self.t.element_size()
    }
    fn is_floating_point(&self) -> bool {
        self.t.is_floating_point()
    }
    fn is_complex(&self) -> bool {
        false
    }
    #[getter]
    fn _version(&self) -> u64 {
        self.t.version()
    }
    #[getter(data)]
    fn get_data(&self) -> TensorObj {
        PyTensor::new(self.t.detach())
    }
    #[setter(data)]
    fn set_data_(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        let o = to_tensor(other)?;
        // Clone first: `t.data = t` would otherwise hold the read lock while set_data
        // takes the write lock of the same tensor (deadlock).
        let d = o.data().clone();
        self.t.set_data(d);
        Ok(())
    }

    /// Become `view` (storage, layout, history): the last step of the in-place view ops
    /// in `_view_inplace.py`.
    fn _become(&self, view: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = to_tensor(view)?;
        self.t.become_view(&v).py()
    }
    /// Elements the storage holds (`resize_` decides whether to grow it).
    fn _storage_numel(&self) -> usize {
        let d = self.t.data();
        d.storage.nbytes() / d.dtype.size()
    }

    // ---- autograd -------------------------------------------------------------------
    #[getter]
    fn requires_grad(&self) -> bool {
        self.t.requires_grad()
    }
    #[setter(requires_grad)]
    fn set_requires_grad_attr(slf: &Bound<'_, Self>, v: bool) -> PyResult<()> {
        slf.get().t.set_requires_grad(v).py()?;
        register(slf);
        Ok(())
    }
    #[pyo3(signature = (requires_grad=true))]
    fn requires_grad_(slf: Bound<'_, Self>, requires_grad: bool) -> PyResult<Bound<'_, Self>> {
        slf.get().t.set_requires_grad(requires_grad).py()?;
        // Objects made by `Tensor.__new__` (nn.Parameter) are registered here, so the
        // graph's AccumulateGrad.variable gives back the very Parameter.
        register(&slf);
        Ok(slf)
    }
    #[getter]
    fn is_leaf(&self) -> bool {
        self.t.is_leaf()
    }
    #[getter]
    fn grad(&self) -> Option<TensorObj> {
        self.t.grad().map(PyTensor::new)
    }
    #[setter(grad)]
    fn set_grad_attr(&self, g: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        match g {
            None => self.t.set_grad(None).py(),
            Some(g) if g.is_none() => self.t.set_grad(None).py(),
            Some(g) => self.t.set_grad(Some(to_tensor(g)?)).py(),
        }
    }
    #[getter]
    fn grad_fn(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.t.grad_fn().map(|n| crate::autograd_py::node_object(py, n)).transpose()
    }
    #[getter]
    fn output_nr(&self) -> usize {
        self.t.output_nr()
    }
    fn detach(&self) -> TensorObj {
        PyTensor::new(self.t.detach())
    }
    fn detach_(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf.get().t.detach_();
        slf
    }
    fn retain_grad(&self) -> PyResult<()> {
        self.t.retain_grad().py()
    }
    #[getter]
    fn retains_grad(&self) -> bool {
        self.t.retains_grad()
    }
    fn register_hook(&self, py: Python<'_>, hook: Py<PyAny>) -> PyResult<Py<PyAny>> {
        let h: Hook = std::sync::Arc::new(move |g: &Tensor| {
            Python::attach(|py| -> ferrotorch::Result<Option<Tensor>> {
                let r = hook.call1(py, (PyTensor::new(g.clone()),)).map_err(|e| py_err_to_core(py, e))?;
                let r = r.bind(py);
                if r.is_none() {
                    return Ok(None);
                }
                match r.cast::<PyTensor>() {
                    Ok(t) => Ok(Some(t.get().t.clone())),
                    Err(_) => Err(ferrotorch::Error::Type("hook must return None or a Tensor".into())),
                }
            })
        });
        let id = self.t.register_hook(h).py()?;
        let handle = crate::autograd_py::RemovableHandle { t: self.t.clone(), id };
        Ok(Py::new(py, handle)?.into_any())
    }
    #[pyo3(signature = (gradient=None, retain_graph=None, create_graph=false, inputs=None))]
    fn backward(&self, py: Python<'_>, gradient: Option<&Bound<'_, PyAny>>, retain_graph: Option<bool>, create_graph: bool, inputs: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let g = match gradient {
            Some(g) if !g.is_none() => Some(to_tensor(g)?),
            _ => None,
        };
        let ins = crate::autograd_py::tensor_list_opt(inputs)?;
        let t = self.t.clone();
        let retain = retain_graph.unwrap_or(create_graph);
        py.detach(|| autograd::backward(&[t], &[g], retain, create_graph, ins.as_deref())).py()
    }

    // ---- conversion -----------------------------------------------------------------
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.t.requires_grad() {
            return Err(PyRuntimeError::new_err(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
            ));
        }
        data::to_numpy(py, &self.t)
    }
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(&self, py: Python<'py>, dtype: Option<&Bound<'py, PyAny>>, copy: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
        let t = if self.t.dtype() == DType::BF16 { self.t.to_dtype(DType::F32).py()? } else { self.t.detach() };
        let mut a = data::to_numpy(py, &t)?;
        if copy == Some(true) {
            a = a.call_method0("copy")?;
        }
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        data::tolist(py, &self.t)
    }
    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.t.item().py()?;
        Ok(match s {
            Scalar::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
            Scalar::Int(i) => i.into_pyobject(py)?.into_any(),
            Scalar::Float(f) => f.into_pyobject(py)?.into_any(),
        })
    }
    fn __float__(&self) -> PyResult<f64> {
        if self.t.numel() != 1 {
            return Err(PyValueError::new_err("only one element tensors can be converted to Python scalars"));
        }
        Ok(self.t.item().py()?.to_f64())
    }
    fn __int__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.t.numel() != 1 {
            return Err(PyValueError::new_err("only one element tensors can be converted to Python scalars"));
        }
        match self.t.item().py()? {
            // Python's int(float): truncation, ValueError for NaN, OverflowError for inf,
            // exact for values beyond int64.
            Scalar::Float(f) => PyFloat::new(py, f).call_method0("__int__"),
            s => Ok(s.to_i64().into_pyobject(py)?.into_any()),
        }
    }
    fn __index__(&self) -> PyResult<i64> {
        // Bool tensors are indices too (True -> 1), like Python's bool.
        if self.t.numel() != 1 || self.t.dtype().is_float() {
            return Err(PyTypeError::new_err("only integer tensors of a single element can be converted to an index"));
        }
        Ok(self.t.item().py()?.to_i64())
    }
    fn __bool__(&self) -> PyResult<bool> {
        match self.t.numel() {
            1 => Ok(self.t.item().py()?.is_nonzero()),
            0 => Err(PyRuntimeError::new_err("Boolean value of Tensor with no values is ambiguous")),
            _ => Err(PyRuntimeError::new_err("Boolean value of Tensor with more than one value is ambiguous")),
        }
    }
    fn __len__(&self) -> PyResult<usize> {
        let s = self.t.shape();
        if s.is_empty() {
            return Err(PyTypeError::new_err("len() of a 0-d tensor"));
        }
        Ok(s[0])
    }
    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.t.ndim() == 0 {
            return Err(PyTypeError::new_err("iteration over a 0-d tensor"));
        }
        let items: Vec<TensorObj> = self.t.unbind(0).py()?.into_iter().map(PyTensor::new).collect();
        Ok(PyList::new(py, items)?.call_method0("__iter__")?.unbind())
    }
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        py.import("ferrotorch._tensor_str")?.call_method1("_repr", (slf,))?.extract()
    }
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        // The payload goes through host memory; `_rebuild_tensor` puts it back on the saved
        // device (or `load`'s map_location).
        let device = self.t.device();
        let t = self.t.detach().to_device(Device::Cpu).py()?;
        let (arr, name) = if t.dtype() == DType::BF16 {
            (data::to_numpy(py, &t.to_dtype(DType::F32).py()?)?.call_method0("copy")?, "bfloat16".to_string())
        } else {
            (data::to_numpy(py, &t)?.call_method0("copy")?, t.dtype().name().to_string())
        };
        let f = py.import("ferrotorch._utils")?.getattr("_rebuild_tensor")?;
        Ok((f, (arr, name, self.t.requires_grad(), device.to_string())))
    }

    #[pyo3(signature = (*args, non_blocking=false, copy=false, dtype=None, device=None))]
    fn to<'py>(slf: Bound<'py, Self>, args: &Bound<'py, PyTuple>, non_blocking: bool, copy: bool, dtype: Option<&Bound<'py, PyAny>>, device: Option<&Bound<'py, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = non_blocking;
        let mut dt = opt_dtype(dtype)?;
        let mut dev = to_device(device)?;
        for a in args.iter() {
            if let Ok(t) = a.cast::<PyTensor>() {
                dt = Some(t.get().t.dtype());
                dev = Some(t.get().t.device());
            } else if a.cast::<PyDType>().is_ok() {
                dt = Some(to_dtype(&a)?);
            } else if a.is_instance_of::<PyBool>() || a.is_none() {
                // positional non_blocking/copy; None: "keep" (nn.Module.to passes dtype=None)
            } else {
                dev = to_device(Some(&a))?;
            }
        }
        let me = slf.get().t.clone();
        let py = slf.py();
        let moved = match dev {
            Some(d) if d != me.device() => Some(heavy(py, me.numel(), || me.to_device(d)).py()?),
            _ => None,
        };
        let cur = moved.clone().unwrap_or_else(|| me.clone());
        let out = match dt {
            Some(d) if d != cur.dtype() => Some(cur.to_dtype(d).py()?),
            _ => moved,
        };
        match out {
            Some(t) => Ok(PyTensor::new(t).into_pyobject(py)?.into_any().unbind()),
            None if copy => Ok(PyTensor::new(me.clone_tensor().py()?).into_pyobject(py)?.into_any().unbind()),
            None => Ok(slf.into_any().unbind()),
        }
    }
    #[pyo3(signature = (dtype=None, non_blocking=false))]
    fn r#type<'py>(slf: Bound<'py, Self>, dtype: Option<&Bound<'py, PyAny>>, non_blocking: bool) -> PyResult<Py<PyAny>> {
        let _ = non_blocking;
        let py = slf.py();
        match dtype {
            None => Ok(format!("torch.{}", slf.get().t.dtype().legacy_name()).into_pyobject(py)?.into_any().unbind()),
            // An unknown type string is a ValueError here (PyTorch), not to_dtype's TypeError.
            Some(d) if d.is_instance_of::<PyString>() => {
                let dt = to_dtype(d).map_err(|_| PyValueError::new_err(format!("invalid type: '{}'", d.str().map(|s| s.to_string()).unwrap_or_default())))?;
                same_or(slf, dt)
            }
            Some(d) => same_or(slf, to_dtype(d)?),
        }
    }
    fn float(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::F32) }
    fn double(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::F64) }
    fn half(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::F16) }
    fn bfloat16(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::BF16) }
    fn int(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::I32) }
    fn long(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::I64) }
    fn short(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::I16) }
    fn char(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::I8) }
    fn bool(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::Bool) }
    fn byte(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> { same_or(slf, DType::U8) }
    #[pyo3(signature = (memory_format=None))]
    fn clone(&self, py: Python<'_>, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let _ = memory_format;
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.clone_preserve()))
    }
    #[pyo3(signature = (size, stride, *, dtype=None, device=None, requires_grad=false, layout=None, pin_memory=false))]
    #[allow(clippy::too_many_arguments)]
    fn new_empty_strided(&self, size: &Bound<'_, PyAny>, stride: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, layout: Option<&Bound<'_, PyAny>>, pin_memory: bool) -> PyResult<TensorObj> {
        let _ = (layout, pin_memory);
        let sizes = check_sizes(&to_int_list(size)?)?;
        let raw = to_int_list(stride)?;
        if raw.iter().any(|&x| x < 0) {
            return Err(PyRuntimeError::new_err(format!("as_strided: Negative strides are not supported at the moment, got strides: {:?}", raw)));
        }
        let strides: Vec<usize> = raw.iter().map(|&x| x as usize).collect();
        let dt = opt_dtype(dtype)?.unwrap_or(self.t.dtype());
        let dev = to_device(device)?.unwrap_or(self.t.device());
        let t = Tensor::empty_strided(&sizes, &strides, dt, dev).py()?;
        if requires_grad {
            t.set_requires_grad(true).py()?;
        }
        Ok(PyTensor::new(t))
    }
    #[pyo3(signature = (memory_format=None))]
    fn contiguous<'py>(slf: Bound<'py, Self>, memory_format: Option<&Bound<'py, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = memory_format;
        if slf.get().t.is_contiguous() {
            return Ok(slf.into_any().unbind());
        }
        let t = slf.get().t.clone();
        let py = slf.py();
        Ok(PyTensor::new(heavy(py, t.numel(), || t.contiguous()).py()?).into_pyobject(py)?.into_any().unbind())
    }
    #[pyo3(signature = (src, non_blocking=false))]
    fn copy_<'py>(slf: Bound<'py, Self>, src: &Bound<'py, PyAny>, non_blocking: bool) -> PyResult<Bound<'py, Self>> {
        let _ = non_blocking;
        let s = match to_arg(src)? { crate::convert::ArgOwned::T(t) => t, crate::convert::ArgOwned::S(s) => Tensor::scalar(s, slf.get().t.dtype()).py()? };
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.copy_(&s)).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (memory_format=None))]
    fn cpu<'py>(slf: Bound<'py, Self>, memory_format: Option<&Bound<'py, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = memory_format;
        let t = slf.get().t.clone();
        if !t.device().is_cuda() {
            return Ok(slf.into_any().unbind());
        }
        let py = slf.py();
        Ok(PyTensor::new(t.to_device(Device::Cpu).py()?).into_pyobject(py)?.into_any().unbind())
    }
    #[pyo3(signature = (device=None, non_blocking=false, memory_format=None))]
    fn cuda<'py>(slf: Bound<'py, Self>, device: Option<&Bound<'py, PyAny>>, non_blocking: bool, memory_format: Option<&Bound<'py, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = (non_blocking, memory_format);
        let target = match device {
            None => Device::Cuda(crate::functions::current_cuda_device()),
            Some(d) if d.extract::<i64>().is_ok() => Device::Cuda(d.extract::<i64>()?.max(0) as usize),
            Some(d) => match to_device(Some(d))? {
                Some(Device::Cuda(i)) => Device::Cuda(i),
                _ => return Err(pyo3::exceptions::PyRuntimeError::new_err(format!("Invalid device, must be cuda device, got {}", d.str()?))),
            },
        };
        let t = slf.get().t.clone();
        if t.device() == target {
            return Ok(slf.into_any().unbind());
        }
        let py = slf.py();
        Ok(PyTensor::new(heavy(py, t.numel(), || t.to_device(target)).py()?).into_pyobject(py)?.into_any().unbind())
    }

    // ---- arithmetic with alpha / rounding modes ---------------------------------------
    #[pyo3(signature = (other, *, out=None))]
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = tensor_operand(other, "maximum")?;
        let t = &self.t;
        write_out("maximum", out, heavy(py, t.numel(), || t.maximum(&o)).py()?)
    }
    #[pyo3(signature = (other, *, out=None))]
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = tensor_operand(other, "minimum")?;
        let t = &self.t;
        write_out("minimum", out, heavy(py, t.numel(), || t.minimum(&o)).py()?)
    }
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn add(&self, py: Python<'_>, other: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = scaled(&self.t, other, alpha)?;
        let t = &self.t;
        write_out("add", out, heavy(py, t.numel(), || t.add(o.arg())).py()?)
    }
    #[pyo3(signature = (other, *, alpha=None))]
    fn add_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        let o = scaled(&t, other, alpha)?;
        heavy(slf.py(), t.numel(), || t.add_(o.arg())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn sub(&self, py: Python<'_>, other: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = scaled(&self.t, other, alpha)?;
        let t = &self.t;
        write_out("sub", out, heavy(py, t.numel(), || t.sub(o.arg())).py()?)
    }
    #[pyo3(signature = (other, *, alpha=None))]
    fn sub_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        let o = scaled(&t, other, alpha)?;
        heavy(slf.py(), t.numel(), || t.sub_(o.arg())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (other, *, rounding_mode=None, out=None))]
    fn div(&self, py: Python<'_>, other: &Bound<'_, PyAny>, rounding_mode: Option<&str>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = to_arg(other)?;
        let t = &self.t;
        let r = heavy(py, t.numel(), || match rounding_mode {
            None => t.div(o.arg()),
            Some("trunc") => t.div_trunc(o.arg()),
            Some("floor") => t.floor_divide(o.arg()),
            Some(m) => Err(ferrotorch::Error::Runtime(format!("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{}'", m))),
        }).py()?;
        write_out("div", out, r)
    }
    #[pyo3(signature = (other, *, rounding_mode=None))]
    fn div_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, rounding_mode: Option<&str>) -> PyResult<Bound<'py, Self>> {
        let o = to_arg(other)?;
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || match rounding_mode {
            None => t.div_(o.arg()),
            Some("trunc") => t.div_trunc_(o.arg()),
            Some("floor") => t.floor_divide_(o.arg()),
            Some(m) => Err(ferrotorch::Error::Runtime(format!("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{}'", m))),
        }).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (exponent, *, out=None))]
    fn pow(&self, py: Python<'_>, exponent: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = to_arg(exponent)?;
        check_int_pow(&self.t, &o)?;
        let t = &self.t;
        write_out("pow", out, heavy(py, t.numel(), || t.pow(o.arg())).py()?)
    }
    fn pow_<'py>(slf: Bound<'py, Self>, exponent: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let o = to_arg(exponent)?;
        let t = slf.get().t.clone();
        check_int_pow(&t, &o)?;
        heavy(slf.py(), t.numel(), || t.pow_(o.arg())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (decimals=0))]
    fn round(&self, decimals: i64) -> PyResult<TensorObj> {
        if decimals == 0 {
            return wrap(self.t.round());
        }
        let s = 10f64.powi(decimals as i32);
        wrap(self.t.mul_s(s).and_then(|x| x.round()).and_then(|x| x.div_s(s)))
    }
    #[pyo3(signature = (decimals=0))]
    fn round_(slf: Bound<'_, Self>, decimals: i64) -> PyResult<Bound<'_, Self>> {
        let r = slf.get().round(decimals)?;
        slf.get().t.copy_(&r.0).py()?;
        Ok(slf)
    }

    // ---- operators ------------------------------------------------------------------
    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.add(b)) }
    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::add)) }
    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.sub(b)) }
    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::sub)) }
    fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.mul(b)) }
    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::mul)) }
    fn __truediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.div(b)) }
    fn __rtruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::div)) }
    fn __floordiv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.floor_divide(b)) }
    fn __rfloordiv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::floor_divide)) }
    fn __mod__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.remainder(b)) }
    fn __rmod__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::remainder)) }
    fn __pow__(&self, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        if let Ok(o) = to_arg(other) { check_int_pow(&self.t, &o)?; }
        op_arith(&self.t, other, |a, b| a.pow(b))
    }
    fn __rpow__(&self, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        op_rarith(&self.t, other, |a, b| binary(a, b, &specs::pow))
    }
    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let o = to_tensor(other)?;
        let t = &self.t;
        wrap(py.detach(|| t.matmul(&o)))
    }
    fn __rmatmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let o = to_tensor(other)?;
        let t = &self.t;
        wrap(py.detach(|| o.matmul(t)))
    }
    fn __and__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_and(b)) }
    fn __rand__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_and(b)) }
    fn __or__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_or(b)) }
    fn __ror__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_or(b)) }
    fn __xor__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_xor(b)) }
    fn __rxor__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_xor(b)) }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.eq(b)) }
    fn __ne__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.ne(b)) }
    fn __lt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.lt(b)) }
    fn __le__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.le(b)) }
    fn __gt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.gt(b)) }
    fn __ge__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.ge(b)) }
    fn __neg__(&self) -> PyResult<TensorObj> { wrap(self.t.neg()) }
    fn __pos__(&self) -> TensorObj { PyTensor::new(self.t.clone()) }
    fn __abs__(&self) -> PyResult<TensorObj> { wrap(self.t.abs()) }
    fn __invert__(&self) -> PyResult<TensorObj> {
        if self.t.dtype().is_float() {
            return Err(PyTypeError::new_err("~ (operator.invert) is only implemented on integer and Boolean-type tensors"));
        }
        wrap(self.t.bitwise_not())
    }
    fn __iadd__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.add_(o.arg())).py() }
    fn __isub__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.sub_(o.arg())).py() }
    fn __imul__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.mul_(o.arg())).py() }
    fn __itruediv__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.div_(o.arg())).py() }
    fn __ifloordiv__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.floor_divide_(o.arg())).py() }
    fn __imod__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.remainder_(o.arg())).py() }
    fn __ipow__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, _m: Option<&Bound<'py, PyAny>>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), t.numel(), || t.pow_(o.arg())).py() }
    fn __iand__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; slf.get().t.bitwise_and_(o.arg()).py() }
    fn __ior__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; slf.get().t.bitwise_or_(o.arg()).py() }
    fn __ixor__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; slf.get().t.bitwise_xor_(o.arg()).py() }

    fn __getitem__(&self, py: Python<'_>, idx: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let ix = parse_index(py, idx)?;
        wrap(self.t.index(&ix))
    }
    fn __setitem__(&self, py: Python<'_>, idx: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let ix = parse_index(py, idx)?;
        let v = match to_arg(value)? {
            crate::convert::ArgOwned::T(t) => t,
            crate::convert::ArgOwned::S(s) => Tensor::scalar(s, self.t.dtype()).py()?,
        };
        self.t.index_put_(&ix, &v).py()
    }

    // ---- views ----------------------------------------------------------------------
    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        if shape.len() == 1 {
            let a = shape.get_item(0)?;
            if a.cast::<PyDType>().is_ok() {
                return Err(PyRuntimeError::new_err("view(dtype) is not supported by ferrotorch yet"));
            }
        }
        wrap(self.t.view(&shape_arg(shape)?))
    }
    fn view_as(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let s: Vec<i64> = to_tensor(other)?.shape().iter().map(|&d| d as i64).collect();
        wrap(self.t.view(&s))
    }
    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.reshape(&shape_arg(shape)?))
    }
    fn reshape_as(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let s: Vec<i64> = to_tensor(other)?.shape().iter().map(|&d| d as i64).collect();
        wrap(self.t.reshape(&s))
    }
    #[pyo3(signature = (start_dim=0, end_dim=-1))]
    fn flatten(&self, start_dim: i64, end_dim: i64) -> PyResult<TensorObj> {
        wrap(self.t.flatten(start_dim, end_dim))
    }
    fn unflatten(&self, dim: i64, sizes: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.unflatten(dim, &to_int_list(sizes)?))
    }
    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        wrap(self.t.squeeze(d.as_deref()))
    }
    fn unsqueeze(&self, dim: i64) -> PyResult<TensorObj> {
        wrap(self.t.unsqueeze(dim))
    }
    fn transpose(&self, dim0: i64, dim1: i64) -> PyResult<TensorObj> {
        wrap(self.t.transpose(dim0, dim1))
    }
    fn swapaxes(&self, dim0: i64, dim1: i64) -> PyResult<TensorObj> {
        wrap(self.t.transpose(dim0, dim1))
    }
    fn t(&self) -> PyResult<TensorObj> {
        wrap(self.t.t())
    }
    #[getter(T)]
    fn big_t(&self) -> PyResult<TensorObj> {
        let n = self.t.ndim() as i64;
        let p: Vec<i64> = (0..n).rev().collect();
        wrap(self.t.permute(&p))
    }
    #[getter(mT)]
    fn m_t(&self) -> PyResult<TensorObj> {
        wrap(self.t.mt())
    }
    #[pyo3(signature = (*dims))]
    fn permute(&self, dims: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.permute(&shape_arg(dims)?))
    }
    fn movedim(&self, source: i64, destination: i64) -> PyResult<TensorObj> {
        wrap(self.t.movedim(source, destination))
    }
    #[pyo3(signature = (*sizes))]
    fn expand(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.expand(&shape_arg(sizes)?))
    }
    fn expand_as(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.expand_usize(&to_tensor(other)?.shape()))
    }
    fn narrow(&self, dim: i64, start: &Bound<'_, PyAny>, length: i64) -> PyResult<TensorObj> {
        wrap(self.t.narrow(dim, to_index(start)?, length))
    }
    fn select(&self, dim: i64, index: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.select(dim, to_index(index)?))
    }
    #[pyo3(signature = (dim=0))]
    fn unbind(&self, py: Python<'_>, dim: i64) -> PyResult<Py<PyTuple>> {
        tuple_of(py, self.t.unbind(dim).py()?)
    }
    #[pyo3(signature = (chunks, dim=0))]
    fn chunk(&self, py: Python<'_>, chunks: i64, dim: i64) -> PyResult<Py<PyTuple>> {
        tuple_of(py, self.t.chunk(chunks, dim).py()?)
    }
    #[pyo3(signature = (split_size_or_sections, dim=0))]
    fn split(&self, py: Python<'_>, split_size_or_sections: &Bound<'_, PyAny>, dim: i64) -> PyResult<Py<PyTuple>> {
        let r = if split_size_or_sections.is_instance_of::<PyInt>() {
            self.t.split(split_size_or_sections.extract()?, dim)
        } else {
            self.t.split_sizes(&to_int_list(split_size_or_sections)?, dim)
        };
        tuple_of(py, r.py()?)
    }
    #[pyo3(signature = (offset=0, dim1=0, dim2=1))]
    fn diagonal(&self, offset: i64, dim1: i64, dim2: i64) -> PyResult<TensorObj> {
        wrap(self.t.diagonal(offset, dim1, dim2))
    }
    fn unfold(&self, dimension: i64, size: i64, step: i64) -> PyResult<TensorObj> {
        wrap(self.t.unfold(dimension, size, step))
    }
    #[pyo3(signature = (size, stride, storage_offset=None))]
    fn as_strided(&self, size: &Bound<'_, PyAny>, stride: &Bound<'_, PyAny>, storage_offset: Option<usize>) -> PyResult<TensorObj> {
        let s = check_sizes(&to_int_list(size)?)?;
        let st = check_sizes(&to_int_list(stride)?)?;
        wrap(self.t.as_strided(&s, &st, storage_offset))
    }

    // ---- reductions -----------------------------------------------------------------
    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn sum(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        let dt = opt_dtype(dtype)?;
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.sum_dims(d.as_deref(), keepdim, dt)))
    }
    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn mean(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        let dt = opt_dtype(dtype)?;
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.mean_dims(d.as_deref(), keepdim, dt)))
    }
    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None))]
    fn prod(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = single_dim(dim, "prod")?;
        wrap(self.t.prod_dims(d, keepdim, opt_dtype(dtype)?))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn max(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<Py<PyAny>> {
        minmax(py, &self.t, dim, keepdim, true)
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn min(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<Py<PyAny>> {
        minmax(py, &self.t, dim, keepdim, false)
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn amax(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        wrap(self.t.amax(d.as_deref(), keepdim))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn amin(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        wrap(self.t.amin(d.as_deref(), keepdim))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmax(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        wrap(self.t.argmax(single_dim(dim, "argmax")?, keepdim))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmin(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        wrap(self.t.argmin(single_dim(dim, "argmin")?, keepdim))
    }
    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn var(&self, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<&Bound<'_, PyAny>>, keepdim: bool, correction: Option<f64>) -> PyResult<TensorObj> {
        let (d, c) = var_args(dim, unbiased, correction)?;
        wrap(self.t.var_dims(d.as_deref(), c, keepdim))
    }
    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn std(&self, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<&Bound<'_, PyAny>>, keepdim: bool, correction: Option<f64>) -> PyResult<TensorObj> {
        let (d, c) = var_args(dim, unbiased, correction)?;
        wrap(self.t.std_dims(d.as_deref(), c, keepdim))
    }
    #[pyo3(signature = (p=None, dim=None, keepdim=false, dtype=None))]
    fn norm(&self, p: Option<&Bound<'_, PyAny>>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let pv = match p {
            None => 2.0,
            Some(p) if p.is_none() => 2.0,
            Some(p) => {
                if let Ok(s) = p.extract::<String>() {
                    match s.as_str() {
                        "fro" => 2.0,
                        _ => return Err(PyRuntimeError::new_err(format!("norm: unsupported p '{}'", s))),
                    }
                } else {
                    p.extract::<f64>()?
                }
            }
        };
        let t = match opt_dtype(dtype)? { Some(d) => self.t.to_dtype(d).py()?, None => self.t.clone() };
        let d = to_dims(dim)?;
        wrap(t.norm(pv, d.as_deref(), keepdim))
    }
    #[pyo3(signature = (dim, keepdim=false))]
    fn logsumexp(&self, dim: &Bound<'_, PyAny>, keepdim: bool) -> PyResult<TensorObj> {
        wrap(self.t.logsumexp(&to_int_list(dim)?, keepdim))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn all(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        let r = self.t.all_dims(d.as_deref(), keepdim).py()?;
        wrap(if self.t.dtype() == DType::U8 { r.to_dtype(DType::U8) } else { Ok(r) })
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn any(&self, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        let r = self.t.any_dims(d.as_deref(), keepdim).py()?;
        wrap(if self.t.dtype() == DType::U8 { r.to_dtype(DType::U8) } else { Ok(r) })
    }
    #[pyo3(signature = (dim=None))]
    fn count_nonzero(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        wrap(self.t.count_nonzero(d.as_deref()))
    }
    #[pyo3(signature = (dim=None, dtype=None))]
    fn softmax(&self, py: Python<'_>, dim: Option<i64>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, dt) = (self.t.clone(), opt_dtype(dtype)?);
        let dim = softmax_dim(&t, dim)?;
        wrap(heavy(py, t.numel(), || t.softmax(dim, dt)))
    }
    #[pyo3(signature = (dim=None, dtype=None))]
    fn log_softmax(&self, py: Python<'_>, dim: Option<i64>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, dt) = (self.t.clone(), opt_dtype(dtype)?);
        let dim = softmax_dim(&t, dim)?;
        wrap(heavy(py, t.numel(), || t.log_softmax(dim, dt)))
    }
    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumsum(&self, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        wrap(self.t.cumsum(dim, opt_dtype(dtype)?))
    }
    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumprod(&self, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        wrap(self.t.cumprod(dim, opt_dtype(dtype)?))
    }
    #[pyo3(signature = (dim=-1, descending=false, *, stable=false))]
    fn sort(&self, py: Python<'_>, dim: i64, descending: bool, stable: bool) -> PyResult<Py<PyAny>> {
        let _ = stable;
        let (v, i) = self.t.sort(dim, descending).py()?;
        named_pair(py, "sort", v, i)
    }
    #[pyo3(signature = (dim=-1, descending=false, *, stable=false))]
    fn argsort(&self, dim: i64, descending: bool, stable: bool) -> PyResult<TensorObj> {
        let _ = stable;
        wrap(self.t.argsort(dim, descending))
    }
    #[pyo3(signature = (k, dim=-1, largest=true, sorted=true))]
    fn topk(&self, py: Python<'_>, k: i64, dim: i64, largest: bool, sorted: bool) -> PyResult<Py<PyAny>> {
        let _ = sorted;
        let (v, i) = self.t.topk(k, dim, largest).py()?;
        named_pair(py, "topk", v, i)
    }
    #[pyo3(signature = (k, dim=-1, keepdim=false))]
    fn kthvalue(&self, py: Python<'_>, k: i64, dim: i64, keepdim: bool) -> PyResult<Py<PyAny>> {
        let (v, i) = self.t.kthvalue(k, dim, keepdim).py()?;
        named_pair(py, "kthvalue", v, i)
    }

    // ---- other math -----------------------------------------------------------------
    #[pyo3(signature = (min=None, max=None, *, out=None))]
    fn clamp(&self, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let lo = opt_arg(min)?;
        let hi = opt_arg(max)?;
        write_out("clamp", out, self.t.clamp(lo.as_ref().map(|a| a.arg()), hi.as_ref().map(|a| a.arg())).py()?)
    }
    #[pyo3(signature = (min=None, max=None, *, out=None))]
    fn clip(&self, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        self.clamp(min, max, out)
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clip_<'py>(slf: Bound<'py, Self>, min: Option<&Bound<'py, PyAny>>, max: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        Self::clamp_(slf, min, max)
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_<'py>(slf: Bound<'py, Self>, min: Option<&Bound<'py, PyAny>>, max: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let lo = opt_arg(min)?;
        let hi = opt_arg(max)?;
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, true, |x| x.clamp(lo.as_ref().map(|a| a.arg()), hi.as_ref().map(|a| a.arg()))).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_min(&self, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        self.clamp(min, max, None)
    }
    fn lerp(&self, end: &Bound<'_, PyAny>, weight: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let e = to_tensor(end)?;
        if e.dtype() != self.t.dtype() {
            return Err(PyRuntimeError::new_err(format!("expected dtype {} for `end` but got dtype {}", self.t.dtype().name(), e.dtype().name())));
        }
        let w = to_arg(weight)?;
        wrap(self.t.lerp(&e, w.arg()))
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<TensorObj> {
        wrap(self.t.nan_to_num(nan, posinf, neginf))
    }
    fn masked_fill(&self, mask: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let m = to_tensor(mask)?;
        wrap(self.t.masked_fill(&m, scalar_of(value)?))
    }
    fn masked_fill_<'py>(slf: Bound<'py, Self>, mask: &Bound<'py, PyAny>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let m = to_tensor(mask)?;
        slf.get().t.masked_fill_(&m, scalar_of(value)?).py()?;
        Ok(slf)
    }
    fn masked_select(&self, mask: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.masked_select(&to_tensor(mask)?))
    }
    fn fill_<'py>(slf: Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().t.fill_(scalar_of(value)?).py()?;
        Ok(slf)
    }
    fn zero_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().t.zero_().py()?;
        Ok(slf)
    }
    #[pyo3(signature = (from_=0.0, to=1.0, *, generator=None))]
    fn uniform_<'py>(slf: Bound<'py, Self>, from_: f64, to: f64, generator: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let g = crate::functions::gen_arg(generator)?;
        slf.get().t.uniform_(from_, to, g.as_ref()).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (mean=0.0, std=1.0, *, generator=None))]
    fn normal_<'py>(slf: Bound<'py, Self>, mean: f64, std: f64, generator: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let g = crate::functions::gen_arg(generator)?;
        slf.get().t.normal_(mean, std, g.as_ref()).py()?;
        Ok(slf)
    }
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        self.__matmul__(py, other)
    }
    fn mm(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let o = to_tensor(other)?;
        let t = &self.t;
        wrap(py.detach(|| t.mm(&o)))
    }
    fn bmm(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let o = to_tensor(other)?;
        let t = &self.t;
        wrap(py.detach(|| t.bmm(&o)))
    }
    fn mv(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.mv(&to_tensor(other)?))
    }
    fn dot(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.dot(&to_tensor(other)?))
    }
    fn outer(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.outer(&to_tensor(other)?))
    }
    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm(&self, mat1: &Bound<'_, PyAny>, mat2: &Bound<'_, PyAny>, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        wrap(self.t.addmm(&to_tensor(mat1)?, &to_tensor(mat2)?, scalar_or(beta, 1)?, scalar_or(alpha, 1)?))
    }
    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn baddbmm(&self, batch1: &Bound<'_, PyAny>, batch2: &Bound<'_, PyAny>, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        wrap(self.t.baddbmm(&to_tensor(batch1)?, &to_tensor(batch2)?, scalar_or(beta, 1)?, scalar_or(alpha, 1)?))
    }

    // ---- shape ops ------------------------------------------------------------------
    #[pyo3(signature = (*dims))]
    fn flip(&self, dims: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.flip(&shape_arg(dims)?))
    }
    #[pyo3(signature = (shifts, dims=None))]
    fn roll(&self, shifts: &Bound<'_, PyAny>, dims: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = to_dims(dims)?.unwrap_or_default();
        wrap(self.t.roll(&to_int_list(shifts)?, &d))
    }
    #[pyo3(signature = (*sizes))]
    fn repeat(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.repeat(&shape_arg(sizes)?))
    }
    fn tile(&self, dims: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.tile(&to_int_list(dims)?))
    }
    #[pyo3(signature = (repeats=None, dim=None, *, output_size=None))]
    fn repeat_interleave(&self, repeats: Option<&Bound<'_, PyAny>>, dim: Option<i64>, output_size: Option<i64>) -> PyResult<TensorObj> {
        let _ = output_size;
        // torch.repeat_interleave(repeats): self is the 1-d tensor of counts.
        let Some(repeats) = repeats.filter(|r| !r.is_none()) else {
            return wrap(Tensor::repeat_interleave_counts(&self.t));
        };
        let r = match to_arg(repeats)? {
            crate::convert::ArgOwned::T(t) => t,
            crate::convert::ArgOwned::S(ferrotorch::dtype::Scalar::Float(_)) => {
                return Err(PyTypeError::new_err(
                    "repeat_interleave() received an invalid combination of arguments - got (Tensor, float): repeats must be an int or a Tensor",
                ))
            }
            crate::convert::ArgOwned::S(s) => Tensor::from_vec(vec![s.to_i64()], &[1]).py()?,
        };
        wrap(self.t.repeat_interleave(&r, dim))
    }
    #[pyo3(signature = (as_tuple=false))]
    fn nonzero(&self, py: Python<'_>, as_tuple: bool) -> PyResult<Py<PyAny>> {
        if as_tuple {
            return nonzero_tuple(py, &self.t);
        }
        Ok(PyTensor::new(self.t.nonzero().py()?).into_pyobject(py)?.into_any().unbind())
    }
    fn gather(&self, dim: i64, index: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.gather(dim, &to_tensor(index)?))
    }
    #[pyo3(signature = (dim, index, src=None, *, value=None))]
    fn scatter(&self, dim: i64, index: &Bound<'_, PyAny>, src: Option<&Bound<'_, PyAny>>, value: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let ix = to_tensor(index)?;
        let s = src.or(value).ok_or_else(|| PyTypeError::new_err("scatter() missing 'src' or 'value'"))?;
        match to_arg(s)? {
            crate::convert::ArgOwned::T(t) => wrap(self.t.scatter(dim, &ix, &t)),
            crate::convert::ArgOwned::S(v) => wrap(self.t.scatter_value(dim, &ix, v)),
        }
    }
    #[pyo3(signature = (dim, index, src=None, *, value=None))]
    fn scatter_<'py>(slf: Bound<'py, Self>, dim: i64, index: &Bound<'py, PyAny>, src: Option<&Bound<'py, PyAny>>, value: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let r = slf.get().scatter(dim, index, src, value)?;
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, false, |_| Ok(r.0.clone())).py()?;
        Ok(slf)
    }
    fn scatter_add(&self, dim: i64, index: &Bound<'_, PyAny>, src: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.scatter_add(dim, &to_tensor(index)?, &to_tensor(src)?))
    }
    fn scatter_add_<'py>(slf: Bound<'py, Self>, dim: i64, index: &Bound<'py, PyAny>, src: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let r = slf.get().scatter_add(dim, index, src)?;
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, false, |_| Ok(r.0.clone())).py()?;
        Ok(slf)
    }
    fn index_select(&self, dim: i64, index: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.index_select(dim, &to_tensor(index)?))
    }
    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add(&self, dim: i64, index: &Bound<'_, PyAny>, source: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        wrap(self.t.index_add(dim, &to_tensor(index)?, &to_tensor(source)?, scalar_or(alpha, 1)?))
    }
    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add_<'py>(slf: Bound<'py, Self>, dim: i64, index: &Bound<'py, PyAny>, source: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        slf.get().t.index_add_(dim, &to_tensor(index)?, &to_tensor(source)?, scalar_or(alpha, 1)?).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (diagonal=0))]
    fn tril(&self, diagonal: i64) -> PyResult<TensorObj> {
        wrap(self.t.tril(diagonal))
    }
    #[pyo3(signature = (diagonal=0))]
    fn triu(&self, diagonal: i64) -> PyResult<TensorObj> {
        wrap(self.t.triu(diagonal))
    }
    #[pyo3(signature = (diagonal=0))]
    fn tril_<'py>(slf: Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, false, |x| x.tril(diagonal)).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (diagonal=0))]
    fn triu_<'py>(slf: Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, false, |x| x.triu(diagonal)).py()?;
        Ok(slf)
    }
    fn equal(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let o = to_tensor(other)?;
        if o.shape() != self.t.shape() {
            return Ok(false);
        }
        Ok(self.t.eq(&o).py()?.all().py()?.item().py()?.is_nonzero())
    }
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn isclose(&self, other: &Bound<'_, PyAny>, rtol: f64, atol: f64, equal_nan: bool) -> PyResult<TensorObj> {
        let o = to_tensor(other)?;
        if o.dtype() != self.t.dtype() {
            return Err(PyRuntimeError::new_err(format!("{} did not match {}", self.t.dtype().name(), o.dtype().name())));
        }
        wrap(isclose(&self.t, &o, rtol, atol, equal_nan))
    }

    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm_<'py>(slf: Bound<'py, Self>, mat1: &Bound<'py, PyAny>, mat2: &Bound<'py, PyAny>, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        let (m1, m2) = (to_tensor(mat1)?, to_tensor(mat2)?);
        let (b, a) = (scalar_or(beta, 1)?, scalar_or(alpha, 1)?);
        ferrotorch::ops::elementwise::inplace_via(&t, false, |x| x.addmm(&m1, &m2, b, a)).py()?;
        Ok(slf)
    }
    fn r#where(&self, condition: &Bound<'_, PyAny>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let c = uint8_as_bool(condition.py(), to_tensor(condition)?, WHERE_UINT8)?;
        let o = to_arg(other)?;
        wrap(ferrotorch::ops::elementwise::where_args(&c, Arg::T(&self.t), o.arg()))
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num_(slf: Bound<'_, Self>, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<Bound<'_, Self>> {
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, true, |x| x.nan_to_num(nan, posinf, neginf)).py()?;
        Ok(slf)
    }
    fn lerp_<'py>(slf: Bound<'py, Self>, end: &Bound<'py, PyAny>, weight: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let r = slf.get().lerp(end, weight)?;
        let t = slf.get().t.clone();
        ferrotorch::ops::elementwise::inplace_via(&t, false, |_| Ok(r.0.clone())).py()?;
        Ok(slf)
    }
    fn __lshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_left_shift(b)) }
    fn __rshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_right_shift(b)) }
    fn __rlshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::bitwise_left_shift)) }
    fn __rrshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::bitwise_right_shift)) }
    fn __ilshift__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; slf.get().t.bitwise_left_shift_(o.arg()).py() }
    fn __irshift__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; slf.get().t.bitwise_right_shift_(o.arg()).py() }
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn allclose(&self, other: &Bound<'_, PyAny>, rtol: f64, atol: f64, equal_nan: bool) -> PyResult<bool> {
        let c = self.isclose(other, rtol, atol, equal_nan)?;
        Ok(c.0.all().py()?.item().py()?.is_nonzero())
    }
    }
}

fn isclose(a: &Tensor, b: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> ferrotorch::Result<Tensor> {
    if !a.dtype().is_float() {
        return a.eq(b);
    }
    let (a, b) = (a.detach(), b.detach());
    let diff = a.sub(&b)?.abs()?;
    let tol = b.abs()?.mul_s(rtol)?.add_s(atol)?;
    // Infinities are close only to themselves (inf - inf would pass `diff <= tol`).
    let finite = a.isfinite()?.logical_and(&b.isfinite()?)?;
    let close = diff.le(&tol)?.logical_and(&finite)?.logical_or(&a.eq(&b)?)?;
    if equal_nan {
        close.logical_or(&a.isnan()?.logical_and(&b.isnan()?)?)
    } else {
        Ok(close)
    }
}

fn check_int_pow(t: &Tensor, o: &crate::convert::ArgOwned) -> PyResult<()> {
    if let crate::convert::ArgOwned::S(Scalar::Int(e)) = o {
        if *e < 0 && !t.dtype().is_float() {
            return Err(PyRuntimeError::new_err("Integers to negative integer powers are not allowed."));
        }
    }
    Ok(())
}

/// `other * alpha` for add/sub. As PyTorch: a float alpha needs a floating result, a bool
/// alpha a bool result (the result dtype of self and other).
fn scaled(me: &Tensor, other: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<crate::convert::ArgOwned> {
    let o = to_arg(other)?;
    match alpha {
        None => Ok(o),
        Some(a) if a.is_none() => Ok(o),
        Some(a) => {
            let s = to_scalar(a)?.ok_or_else(|| PyTypeError::new_err("alpha must be a number"))?;
            let res = ferrotorch::ops::result_dtype(&[Arg::T(me), o.arg()]);
            match s {
                Scalar::Bool(_) if res != DType::Bool => {
                    return Err(PyRuntimeError::new_err("Boolean alpha only supported for Boolean results."));
                }
                Scalar::Float(_) if !res.is_float() => {
                    return Err(PyRuntimeError::new_err("For integral input tensors, argument alpha must not be a floating point number."));
                }
                _ => {}
            }
            match o {
                crate::convert::ArgOwned::T(t) => Ok(crate::convert::ArgOwned::T(t.mul(s).py()?)),
                crate::convert::ArgOwned::S(x) => Ok(crate::convert::ArgOwned::S(match (x, s) {
                    (Scalar::Bool(p), Scalar::Bool(q)) => Scalar::Bool(p && q),
                    (Scalar::Int(_) | Scalar::Bool(_), Scalar::Int(_) | Scalar::Bool(_)) => Scalar::Int(x.to_i64().wrapping_mul(s.to_i64())),
                    _ => Scalar::Float(x.to_f64() * s.to_f64()),
                })),
            }
        }
    }
}

/// The `other` operand of ops that take only tensors (maximum/minimum: no Python numbers).
fn tensor_operand(other: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    match other.cast::<PyTensor>() {
        Ok(t) => Ok(t.get().t.clone()),
        Err(_) => Err(PyTypeError::new_err(format!("{}(): argument 'other' must be Tensor, not {}", op, other.get_type().name()?))),
    }
}

fn opt_arg(o: Option<&Bound<'_, PyAny>>) -> PyResult<Option<crate::convert::ArgOwned>> {
    match o {
        None => Ok(None),
        Some(x) if x.is_none() => Ok(None),
        Some(x) => Ok(Some(to_arg(x)?)),
    }
}

fn scalar_of(v: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    if let Some(s) = to_scalar(v)? {
        return Ok(s);
    }
    if let Ok(t) = v.cast::<PyTensor>() {
        if t.get().t.numel() == 1 && t.get().t.ndim() == 0 {
            return t.get().t.item().py();
        }
        return Err(PyRuntimeError::new_err(format!(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {} dimension(s).",
            t.get().t.ndim()
        )));
    }
    Err(PyTypeError::new_err("value must be a number"))
}

fn scalar_or(o: Option<&Bound<'_, PyAny>>, default: i64) -> PyResult<Scalar> {
    match o {
        None => Ok(Scalar::Int(default)),
        Some(x) if x.is_none() => Ok(Scalar::Int(default)),
        Some(x) => to_scalar(x)?.ok_or_else(|| PyTypeError::new_err("expected a number")),
    }
}

fn shape_arg(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    if args.len() == 1 {
        let a = args.get_item(0)?;
        if !a.is_instance_of::<PyInt>() && a.cast::<PyTensor>().is_err() {
            return to_int_list(&a);
        }
    }
    args.iter().map(|a| to_index(&a)).collect()
}

fn single_dim(dim: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<Option<i64>> {
    match dim {
        None => Ok(None),
        Some(d) if d.is_none() => Ok(None),
        Some(d) => {
            if d.is_instance_of::<PyTuple>() || d.is_instance_of::<PyList>() {
                return Err(PyTypeError::new_err(format!("{}(): argument 'dim' must be int, not {}", op, d.get_type().name()?)));
            }
            Ok(Some(to_index(d)?))
        }
    }
}

fn var_args(dim: Option<&Bound<'_, PyAny>>, unbiased: Option<&Bound<'_, PyAny>>, correction: Option<f64>) -> PyResult<(Option<Vec<i64>>, f64)> {
    // var(True) / std(False): a bool in the dim slot is `unbiased` (legacy signature).
    let (dim, unb) = match dim {
        Some(d) if d.is_instance_of::<PyBool>() => (None, Some(d.extract::<bool>()?)),
        _ => (dim, unbiased.map(|u| u.extract::<bool>()).transpose()?),
    };
    let c = match (correction, unb) {
        (Some(c), _) => c,
        (None, Some(false)) => 0.0,
        _ => 1.0,
    };
    Ok((to_dims(dim)?, c))
}

fn named_pair(py: Python<'_>, kind: &str, v: Tensor, i: Tensor) -> PyResult<Py<PyAny>> {
    let m = py.import("ferrotorch._utils")?;
    Ok(m.getattr("_return_types")?.call_method1(kind, (PyTensor::new(v), PyTensor::new(i)))?.unbind())
}

fn minmax(py: Python<'_>, t: &Tensor, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, is_max: bool) -> PyResult<Py<PyAny>> {
    match dim {
        None => Ok(PyTensor::new(if is_max { t.max_all() } else { t.min_all() }.py()?).into_pyobject(py)?.into_any().unbind()),
        Some(d) if d.is_none() => Ok(PyTensor::new(if is_max { t.max_all() } else { t.min_all() }.py()?).into_pyobject(py)?.into_any().unbind()),
        Some(d) => {
            if let Ok(o) = d.cast::<PyTensor>() {
                // max(other): elementwise maximum.
                let o = o.get().t.clone();
                return Ok(PyTensor::new(if is_max { t.maximum(&o) } else { t.minimum(&o) }.py()?).into_pyobject(py)?.into_any().unbind());
            }
            let di = single_dim(Some(d), if is_max { "max" } else { "min" })?.unwrap_or(0);
            let (v, i) = if is_max { t.max_dim(di, keepdim) } else { t.min_dim(di, keepdim) }.py()?;
            named_pair(py, if is_max { "max" } else { "min" }, v, i)
        }
    }
}

fn tuple_of(py: Python<'_>, v: Vec<Tensor>) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, v.into_iter().map(PyTensor::new))?.unbind())
}

fn same_or(slf: Bound<'_, PyTensor>, d: DType) -> PyResult<Py<PyAny>> {
    if slf.get().t.dtype() == d {
        return Ok(slf.into_any().unbind());
    }
    let py = slf.py();
    Ok(PyTensor::new(slf.get().t.to_dtype(d).py()?).into_pyobject(py)?.into_any().unbind())
}
