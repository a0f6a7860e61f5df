//! Module-level functions of `ferrotorch` that are not Tensor methods: factories,
//! joining ops, RNG, threads, default dtype.

use ferrotorch::random::Generator;
use ferrotorch::{DType, Device, Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PySequence, PyString, PyTuple};

use crate::convert::*;
use crate::data;
use crate::tensor::{heavy, numel2, wrap, PyTensor, TensorObj};

#[pyclass(frozen, name = "Generator", module = "ferrotorch")]
pub struct PyGenerator {
    pub g: Generator,
}

#[pymethods]
impl PyGenerator {
    #[new]
    #[pyo3(signature = (device=None))]
    fn new(device: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if let Some(Device::Cuda(i)) = to_device(device)? {
            ferrotorch::cuda::check_ordinal(i).py()?;
        }
        Ok(PyGenerator { g: Generator::new(67_280_421_310_721) })
    }
    fn manual_seed(slf: Bound<'_, Self>, seed: i128) -> Bound<'_, Self> {
        slf.get().g.manual_seed(seed as u64);
        slf
    }
    fn initial_seed(&self) -> u64 {
        self.g.initial_seed()
    }
    fn seed(&self) -> u64 {
        let s = ferrotorch::random::seed();
        self.g.manual_seed(s);
        s
    }
    fn get_state(&self) -> PyResult<TensorObj> {
        let st = self.g.get_state();
        wrap(Tensor::from_vec(vec![st.seed as i64, st.offset as i64], &[2]))
    }
    fn set_state(&self, state: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = to_tensor(state)?.to_vec::<i64>().py()?;
        if v.len() != 2 {
            return Err(PyRuntimeError::new_err("invalid generator state"));
        }
        self.g.set_state(ferrotorch::random::GenState { seed: v[0] as u64, offset: v[1] as u64 });
        Ok(())
    }
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice { d: Device::Cpu, explicit: false }
    }
}

pub fn gen_arg(g: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Generator>> {
    match g {
        None => Ok(None),
        Some(x) if x.is_none() => Ok(None),
        Some(x) => Ok(Some(x.cast::<PyGenerator>().map_err(|_| PyTypeError::new_err("generator must be a torch.Generator"))?.get().g.clone())),
    }
}

#[pyfunction]
pub fn default_generator() -> PyGenerator {
    PyGenerator { g: ferrotorch::random::default_generator() }
}

#[pyfunction]
pub fn manual_seed(seed: i128) -> PyGenerator {
    ferrotorch::random::manual_seed(seed as u64);
    default_generator()
}

#[pyfunction]
pub fn seed() -> u64 {
    ferrotorch::random::seed()
}

#[pyfunction]
pub fn initial_seed() -> u64 {
    ferrotorch::random::default_generator().initial_seed()
}

fn finish(t: Tensor, requires_grad: bool) -> PyResult<TensorObj> {
    if requires_grad {
        t.set_requires_grad(true).py()?;
    }
    Ok(PyTensor::new(t))
}

fn factory_dtype(dtype: Option<&Bound<'_, PyAny>>) -> PyResult<DType> {
    Ok(opt_dtype(dtype)?.unwrap_or(ferrotorch::dtype::default_dtype()))
}

#[pyfunction]
#[pyo3(signature = (data, *, dtype=None, device=None, requires_grad=false, pin_memory=false))]
pub fn tensor(data: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, pin_memory: bool) -> PyResult<TensorObj> {
    let _ = pin_memory;
    let dev = opt_factory_device(device)?;
    let t = crate::data::tensor_from_data(data, opt_dtype(dtype)?)?;
    let t = match dev {
        Some(d) if d != t.device() => heavy(data.py(), t.numel(), || t.to_device(d)).py()?,
        _ => t,
    };
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (data, dtype=None, device=None))]
pub fn as_tensor(data: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
    let py = data.py();
    let dt = opt_dtype(dtype)?;
    let dev = opt_factory_device(device)?;
    if let Ok(pt) = data.cast::<PyTensor>() {
        let t = &pt.get().t;
        let moved = match dev {
            Some(d) if d != t.device() => Some(heavy(py, t.numel(), || t.to_device(d)).py()?),
            _ => None,
        };
        let cur = moved.clone().unwrap_or_else(|| t.clone());
        return match (dt, moved) {
            (Some(d), _) if d != cur.dtype() => Ok(PyTensor::new(heavy(py, cur.numel(), || cur.to_dtype(d)).py()?).into_pyobject(py)?.into_any().unbind()),
            (_, Some(m)) => Ok(PyTensor::new(m).into_pyobject(py)?.into_any().unbind()),
            // Nothing to convert: the very same tensor object, as PyTorch.
            _ => Ok(data.clone().unbind()),
        };
    }
    let np = py.import("numpy")?;
    let t = match data.is_instance(&np.getattr("ndarray")?)? {
        true => match crate::data::from_numpy(data) {
            Ok(t) => match dt {
                Some(d) if d != t.dtype() => heavy(py, t.numel(), || t.to_dtype(d)).py()?,
                _ => t,
            },
            Err(_) => crate::data::tensor_from_data(data, dt)?,
        },
        false => crate::data::tensor_from_data(data, dt)?,
    };
    let t = match dev {
        Some(d) if d != t.device() => heavy(py, t.numel(), || t.to_device(d)).py()?,
        _ => t,
    };
    Ok(PyTensor::new(t).into_pyobject(py)?.into_any().unbind())
}

#[pyfunction]
pub fn from_numpy(arr: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
    Ok(PyTensor::new(data::from_numpy(arr)?))
}

/// `e` with the function's name in front, as PyTorch's argument parser words its
/// TypeErrors ("empty(): argument 'size' ...").
fn named(py: Python<'_>, name: &str, e: PyErr) -> PyErr {
    if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) && e.value(py).to_string().starts_with("argument ") {
        return pyo3::exceptions::PyTypeError::new_err(format!("{name}(): {}", e.value(py)));
    }
    e
}

macro_rules! sized_factory {
    ($name:ident, $body:expr) => {
        #[pyfunction]
        #[pyo3(signature = (*size, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false, memory_format=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name(py: Python<'_>, size: &Bound<'_, PyTuple>, out: Option<&Bound<'_, PyAny>>, dtype: Option<&Bound<'_, PyAny>>, layout: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, pin_memory: bool, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
            let _ = (out, layout, pin_memory, memory_format);
            let s = to_sizes(size).map_err(|e| named(size.py(), stringify!($name), e))?;
            let dt = factory_dtype(dtype)?;
            let dev = factory_device(device)?;
            #[allow(clippy::redundant_closure_call)]
            let t = heavy(py, numel_of(&s), || ($body)(&s[..], dt, dev)).py()?;
            finish(t, requires_grad)
        }
    };
}
sized_factory!(zeros, |s: &[usize], d, dev| Tensor::zeros(s, d, dev));
sized_factory!(ones, |s: &[usize], d, dev| Tensor::ones(s, d, dev));
sized_factory!(empty, |s: &[usize], d, dev| Tensor::zeros(s, d, dev));

#[pyfunction]
#[pyo3(signature = (*size, generator=None, dtype=None, device=None, requires_grad=false, out=None))]
pub fn rand(py: Python<'_>, size: &Bound<'_, PyTuple>, generator: Option<&Bound<'_, PyAny>>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, out: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
    let _ = out;
    let g = gen_arg(generator)?;
    let (s, dt, dev) = (to_sizes(size)?, factory_dtype(dtype)?, factory_device(device)?);
    let t = heavy(py, numel_of(&s), || Tensor::rand(&s, dt, dev, g.as_ref())).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (*size, generator=None, dtype=None, device=None, requires_grad=false, out=None))]
pub fn randn(py: Python<'_>, size: &Bound<'_, PyTuple>, generator: Option<&Bound<'_, PyAny>>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, out: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
    let _ = out;
    let g = gen_arg(generator)?;
    let (s, dt, dev) = (to_sizes(size)?, factory_dtype(dtype)?, factory_device(device)?);
    let t = heavy(py, numel_of(&s), || Tensor::randn(&s, dt, dev, g.as_ref())).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (*args, size=None, generator=None, dtype=None, device=None, requires_grad=false))]
pub fn randint(py: Python<'_>, args: &Bound<'_, PyTuple>, size: Option<&Bound<'_, PyAny>>, generator: Option<&Bound<'_, PyAny>>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<TensorObj> {
    // randint(high, size) or randint(low, high, size)
    let mut ints: Vec<i64> = vec![];
    let mut sz: Option<Vec<usize>> = size.map(|s| to_int_list(s).and_then(|v| check_sizes(&v))).transpose()?;
    for a in args.iter() {
        if a.is_instance_of::<pyo3::types::PyInt>() {
            ints.push(a.extract()?);
        } else {
            sz = Some(check_sizes(&to_int_list(&a)?)?);
        }
    }
    let (lo, hi) = match ints.len() {
        1 => (0, ints[0]),
        2 => (ints[0], ints[1]),
        _ => return Err(PyTypeError::new_err("randint() received an invalid combination of arguments")),
    };
    let s = sz.ok_or_else(|| PyTypeError::new_err("randint() missing required argument 'size'"))?;
    let g = gen_arg(generator)?;
    let dt = opt_dtype(dtype)?.unwrap_or(DType::I64);
    let dev = factory_device(device)?;
    let t = heavy(py, numel_of(&s), || Tensor::randint(lo, hi, &s, dt, dev, g.as_ref())).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, *, generator=None, dtype=None, device=None, requires_grad=false))]
pub fn randperm(py: Python<'_>, n: i64, generator: Option<&Bound<'_, PyAny>>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<TensorObj> {
    let n = ferrotorch::ops::creation::randperm_len(n).py()?;
    let g = gen_arg(generator)?;
    let (dt, dev) = (opt_dtype(dtype)?.unwrap_or(DType::I64), factory_device(device)?);
    let t = heavy(py, n.saturating_mul(16), || Tensor::randperm(n, dt, dev, g.as_ref())).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (size, fill_value, *, dtype=None, device=None, requires_grad=false))]
pub fn full(py: Python<'_>, size: &Bound<'_, PyAny>, fill_value: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<TensorObj> {
    // `size` is a sequence: full(2, v) is a TypeError in PyTorch (unlike zeros(2)).
    if size.is_instance_of::<pyo3::types::PyInt>() || size.cast::<PyTensor>().is_ok() {
        return Err(PyTypeError::new_err(format!(
            "full(): argument 'size' (position 1) must be tuple of ints, not {}",
            size.get_type().name()?
        )));
    }
    let s = check_sizes(&to_int_list(size)?)?;
    let v = to_number(fill_value)?.ok_or_else(|| PyTypeError::new_err("fill_value must be a number"))?;
    let dt = opt_dtype(dtype)?.unwrap_or(ferrotorch::ops::creation::full_dtype(v));
    // A fill value that does not fit the dtype is PyTorch's overflow error here (Tensor::full
    // itself casts: the ops use it for their scalar operands, which wrap).
    v.check_fits(dt).py()?;
    let dev = factory_device(device)?;
    let t = heavy(py, numel_of(&s), || Tensor::full(&s, v, dt, dev)).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (*args, dtype=None, device=None, requires_grad=false, out=None))]
pub fn arange(py: Python<'_>, args: &Bound<'_, PyTuple>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool, out: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
    let _ = out;
    let vals: Vec<Scalar> = args.iter().map(|a| to_number(&a)?.ok_or_else(|| PyTypeError::new_err("arange() arguments must be numbers"))).collect::<PyResult<_>>()?;
    let (s, e, st) = match vals.len() {
        1 => (Scalar::Int(0), vals[0], Scalar::Int(1)),
        2 => (vals[0], vals[1], Scalar::Int(1)),
        3 => (vals[0], vals[1], vals[2]),
        _ => return Err(PyTypeError::new_err("arange() takes 1 to 3 positional arguments")),
    };
    let dt = opt_dtype(dtype)?.unwrap_or(ferrotorch::ops::creation::arange_dtype(&vals));
    let (dev, (s, e, st)) = (factory_device(device)?, (s.to_f64(), e.to_f64(), st.to_f64()));
    // Its length is checked by the core; a NaN or infinite estimate is the core's error too.
    let len = ((e - s) / st).abs().ceil();
    let work = if len.is_finite() { len as usize } else { 0 };
    let t = heavy(py, work, || Tensor::arange(s, e, st, dt, dev)).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, *, dtype=None, device=None, requires_grad=false))]
pub fn linspace(py: Python<'_>, start: f64, end: f64, steps: i64, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<TensorObj> {
    let (dt, dev) = (factory_dtype(dtype)?, factory_device(device)?);
    let t = heavy(py, steps.max(0) as usize, || Tensor::linspace(start, end, steps, dt, dev)).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
pub fn logspace(py: Python<'_>, start: f64, end: f64, steps: i64, base: f64, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<TensorObj> {
    let (dt, dev) = (factory_dtype(dtype)?, factory_device(device)?);
    let t = heavy(py, steps.max(0) as usize, || Tensor::logspace(start, end, steps, base, dt, dev)).py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, m=None, *, dtype=None, device=None, requires_grad=false))]
pub fn eye(py: Python<'_>, n: i64, m: Option<i64>, dtype: Option<&Bound<'_, PyAny>>, device: Option<&Bound<'_, PyAny>>, requires_grad: bool) -> PyResult<TensorObj> {
    let (n, m) = ferrotorch::ops::creation::eye_sizes(n, m).py()?;
    let (dt, dev) = (factory_dtype(dtype)?, factory_device(device)?);
    let t = heavy(py, n.saturating_mul(m.unwrap_or(n)), || Tensor::eye(n, m, dt, dev)).py()?;
    finish(t, requires_grad)
}

/// The `tensors` argument of cat/stack/hstack/vstack: a sequence of tensors. A lone Tensor is
/// refused as PyTorch does: iterating it would silently join its rows instead.
fn tensor_seq(name: &str, seq: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    if seq.cast::<PyTensor>().is_ok() || seq.cast::<PySequence>().is_err() || seq.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not {}",
            seq.get_type().name()?
        )));
    }
    let mut out = Vec::new();
    for (i, x) in seq.try_iter()?.enumerate() {
        let x = x?;
        match x.cast::<PyTensor>() {
            Ok(t) => out.push(t.get().t.clone()),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "expected Tensor as element {i} in argument 0, but got {}",
                    x.get_type().name()?
                )))
            }
        }
    }
    Ok(out)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
pub fn cat(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: i64, out: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
    let _ = out;
    let ts = tensor_seq("cat", tensors)?;
    wrap(heavy(py, total(&ts), || Tensor::cat(&ts, dim)))
}
#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
pub fn stack(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: i64, out: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
    let _ = out;
    let ts = tensor_seq("stack", tensors)?;
    wrap(heavy(py, total(&ts), || Tensor::stack(&ts, dim)))
}
#[pyfunction]
pub fn hstack(py: Python<'_>, tensors: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
    let ts = tensor_seq("hstack", tensors)?;
    wrap(heavy(py, total(&ts), || Tensor::hstack(&ts)))
}
#[pyfunction]
pub fn vstack(py: Python<'_>, tensors: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
    let ts = tensor_seq("vstack", tensors)?;
    wrap(heavy(py, total(&ts), || Tensor::vstack(&ts)))
}

/// The elements of all of `ts` (a join's output), for `heavy`.
fn total(ts: &[Tensor]) -> usize {
    ts.iter().fold(0usize, |n, t| n.saturating_add(t.numel()))
}

/// The elements of a factory's output of shape `s`, for `heavy`.
fn numel_of(s: &[usize]) -> usize {
    s.iter().fold(1usize, |n, &d| n.saturating_mul(d))
}

#[pyfunction]
#[pyo3(signature = (condition, input=None, other=None))]
pub fn r#where(condition: &Bound<'_, PyAny>, input: Option<&Bound<'_, PyAny>>, other: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
    let py = condition.py();
    let c = to_tensor(condition)?;
    match (input, other) {
        (Some(a), Some(b)) => {
            let c = crate::tensor::uint8_as_bool(py, c, crate::tensor::WHERE_UINT8)?;
            let (a, b) = (to_arg(a)?, to_arg(b)?);
            let work = [&a, &b].iter().fold(c.numel(), |n, x| n.max(numel2(&c, x)));
            Ok(PyTensor::new(heavy(py, work, || ferrotorch::ops::elementwise::where_args(&c, a.arg(), b.arg())).py()?).into_pyobject(py)?.into_any().unbind())
        }
        (None, None) => crate::tensor::nonzero_tuple(py, &c),
        _ => Err(PyTypeError::new_err("where() expects (condition) or (condition, input, other)")),
    }
}

#[pyfunction]
pub fn get_default_dtype(py: Python<'_>) -> Py<PyDType> {
    dtype_obj(py, ferrotorch::dtype::default_dtype())
}

#[pyfunction]
pub fn set_default_dtype(d: &Bound<'_, PyAny>) -> PyResult<()> {
    let dt = if d.is(d.py().get_type::<PyFloat>()) { DType::F64 } else { to_dtype(d)? };
    ferrotorch::dtype::set_default_dtype(dt).py()
}

#[pyfunction]
pub fn promote_types(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyDType>> {
    Ok(dtype_obj(py, ferrotorch::dtype::promote_types(to_dtype(a)?, to_dtype(b)?)))
}

#[pyfunction]
pub fn result_type(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyDType>> {
    let (x, y) = (to_arg(a)?, to_arg(b)?);
    Ok(dtype_obj(py, ferrotorch::ops::result_dtype(&[x.arg(), y.arg()])))
}

#[pyfunction]
pub fn set_num_threads(n: usize) -> PyResult<()> {
    if n == 0 {
        return Err(PyRuntimeError::new_err("Number of threads has to be positive"));
    }
    // The kernels' pool grows its workers on demand, so any n works, raised or lowered.
    ferrotorch::cpu::set_thread_limit(n);
    Ok(())
}

#[pyfunction]
pub fn get_num_threads() -> usize {
    // The limit set above, exactly (no longer capped by a pool size), else the default.
    ferrotorch::cpu::num_threads()
}

/// Registered with `os.register_at_fork(after_in_child=...)`: a forked child has none of
/// the parent's worker threads, so its kernels must run single-threaded.
#[pyfunction]
pub fn _after_fork_in_child() {
    ferrotorch::cpu::set_thread_limit(1);
}

#[pyfunction]
pub fn _cpu_memory_allocated() -> usize {
    ferrotorch::storage::cpu_memory_allocated()
}

/// Strides of `torch.*_like(t)` (memory_format=torch.preserve_format): the core's rule,
/// the one `Tensor.clone` uses, so the Python `*_like` functions do not restate it.
#[pyfunction]
pub fn _preserve_format_strides(t: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    Ok(ferrotorch::ops::preserve_format_strides(&to_tensor(t)?.layout()).to_vec())
}

// ---- CUDA runtime queries (ferrotorch.cuda wraps these) -----------------------------

thread_local! {
    /// `torch.cuda.current_device()`: per thread, as PyTorch's.
    static CURRENT_CUDA: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
pub fn current_cuda_device() -> usize {
    CURRENT_CUDA.with(|c| c.get())
}

#[pyfunction]
pub fn _cuda_device_count() -> usize {
    ferrotorch::cuda::device_count()
}
#[pyfunction]
pub fn _cuda_current_device() -> PyResult<usize> {
    let i = current_cuda_device();
    ferrotorch::cuda::check_ordinal(i).py()?;
    Ok(i)
}
#[pyfunction]
pub fn _cuda_set_device(i: usize) -> PyResult<()> {
    ferrotorch::cuda::check_ordinal(i).py()?;
    CURRENT_CUDA.with(|c| c.set(i));
    Ok(())
}
#[pyfunction]
pub fn _cuda_device_name(i: usize) -> PyResult<String> {
    ferrotorch::cuda::device_name(i).py()
}
#[pyfunction]
pub fn _cuda_capability(i: usize) -> PyResult<(i32, i32)> {
    ferrotorch::cuda::capability(i).py()
}
#[pyfunction]
pub fn _cuda_synchronize(py: Python<'_>, i: usize) -> PyResult<()> {
    py.detach(|| ferrotorch::cuda::synchronize(i)).py()
}
#[pyfunction]
pub fn _cuda_memory_stats(i: usize) -> (usize, usize, usize) {
    (ferrotorch::cuda::memory_allocated(i), ferrotorch::cuda::max_memory_allocated(i), ferrotorch::cuda::memory_reserved(i))
}
#[pyfunction]
pub fn _cuda_reset_peak_memory_stats(i: usize) {
    ferrotorch::cuda::reset_peak_memory_stats(i)
}
#[pyfunction]
pub fn _cuda_empty_cache() {
    ferrotorch::cuda::empty_cache()
}
#[pyfunction]
pub fn _cuda_set_allow_tf32(v: bool) {
    ferrotorch::cuda::set_allow_tf32(v)
}
#[pyfunction]
pub fn _cuda_allow_tf32() -> bool {
    ferrotorch::cuda::allow_tf32()
}
