//! `ferrotorch.Tensor`: the engine's Tensor as a Python class. Methods only convert
//! arguments, call the engine and map errors.
//!
//! The class's methods are spread over the files of this module by content, each file with
//! its own `#[pymethods]` block (pyo3's `multiple-pymethods` feature, see Cargo.toml). This
//! file: the class, its object registry and the helpers every file uses (`wrap`, `heavy`,
//! `write_out`), the constructor, attributes and autograd.

use std::sync::atomic::{AtomicBool, Ordering};
use ferrotorch::autograd::{self, Hook};
use ferrotorch::{Device, Scalar, Tensor};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList, PyTuple};

use crate::convert::*;
use crate::data;

mod arithmetic;
mod conversion;
mod fill;
mod indexing;
mod matmul;
mod pointwise;
mod reductions;
mod shape;

pub(crate) use indexing::{_index_put, nonzero_tuple, uint8_as_bool, WHERE_UINT8};

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

/// Run `f` without the GIL when the work is big enough to matter: `numel` is the number of
/// elements the kernel touches (the larger of inputs and output; callers of O(n log n) ops
/// scale it, see `sorting`). Every binding that calls the engine goes through here (or
/// `py.detach` where the work is always large), so that other Python threads (a data
/// loader, a heartbeat, the one that delivers Ctrl-C) run meanwhile. Small ops keep the
/// GIL: releasing it costs a thread switch when another thread is waiting for it.
/// `f` must not touch Python objects (it cannot: they are not `Send`).
pub fn heavy<T: Send>(py: Python<'_>, numel: usize, f: impl FnOnce() -> T + Send) -> T {
    if numel >= GIL_FREE_NUMEL {
        py.detach(f)
    } else {
        f()
    }
}

/// The elements a binary op over `a` and `b` touches: its broadcast output's.
pub fn numel2(a: &Tensor, b: &ArgOwned) -> usize {
    match b {
        ArgOwned::T(b) => bcast_numel(&a.shape(), &b.shape()),
        ArgOwned::S(_) => a.numel(),
    }
}

/// The number of elements of the broadcast of shapes `a` and `b` (at least each one's, so an
/// op refused for mismatched shapes is still sized by its inputs).
pub fn bcast_numel(a: &[usize], b: &[usize]) -> usize {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    let out = (0..n).fold(1usize, |p, i| p.saturating_mul(dim(a, i).max(dim(b, i))));
    out.max(a.iter().product()).max(b.iter().product())
}

/// The work of sorting/selecting `t` for `heavy`: n log n, so a sort of a few thousand
/// elements (milliseconds) already runs without the GIL.
pub fn sorting(t: &Tensor) -> usize {
    t.numel().saturating_mul(16)
}

/// The result `r` of op `name`, written into `out=` when given (the very object is returned, as
/// PyTorch's out= variants do), else as a new tensor.
pub(crate) fn write_out(name: &str, out: Option<&Bound<'_, PyAny>>, r: Tensor) -> PyResult<Py<PyAny>> {
    match out {
        Some(o) if !o.is_none() => {
            to_tensor(o)?.write_out(name, &r).py()?;
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

#[pymethods]
impl PyTensor {
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
        let n = sizes.iter().fold(1usize, |n, &d| n.saturating_mul(d));
        heavy(args.py(), n, || Tensor::empty(&sizes, dt, dev)).map(PyTensor::raw).map_err(map_err)
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
}

/// An optional number argument (`alpha=`, `beta=`): `default` when absent or None.
fn scalar_or(o: Option<&Bound<'_, PyAny>>, default: i64) -> PyResult<Scalar> {
    match o {
        None => Ok(Scalar::Int(default)),
        Some(x) if x.is_none() => Ok(Scalar::Int(default)),
        Some(x) => to_scalar(x)?.ok_or_else(|| pyo3::exceptions::PyTypeError::new_err("expected a number")),
    }
}
