//! Conversions of a Tensor: to Python values (numpy, tolist, item, the number and
//! container protocols, pickling) and to other dtypes, devices and layouts (`to`,
//! `type`, `float()`, `clone`, `contiguous`, `copy_`, `cpu`, `cuda`).

use ferrotorch::{DType, Device, Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyList, PyString, PyTuple};

use super::{heavy, wrap, PyTensor, TensorObj};
use crate::convert::*;
use crate::data;

/// `Tensor.__reduce__`'s value: (`_rebuild_tensor`, (numpy array, dtype name,
/// requires_grad, device)).
type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyAny>, String, bool, String));

#[pymethods]
impl PyTensor {
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
        let me = &self.t;
        let t = if me.dtype() == DType::BF16 { heavy(py, me.numel(), || me.to_dtype(DType::F32)).py()? } else { me.detach() };
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
        let rows = self.t.unbind(0).py()?;
        let items = ferrotorch::storage::try_collect(rows.len(), rows.into_iter().map(PyTensor::new)).py()?;
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
        let me = &self.t;
        let t = heavy(py, me.numel(), || me.detach().to_device(Device::Cpu)).py()?;
        let (arr, name) = if t.dtype() == DType::BF16 {
            (data::to_numpy(py, &heavy(py, t.numel(), || t.to_dtype(DType::F32)).py()?)?.call_method0("copy")?, "bfloat16".to_string())
        } else {
            (data::to_numpy(py, &t)?.call_method0("copy")?, t.dtype().name().to_string())
        };
        let f = py.import("ferrotorch._utils")?.getattr("_rebuild_tensor")?;
        Ok((f, (arr, name, self.t.requires_grad(), device.to_string())))
    }

    // ---- dtype / device / memory ---------------------------------------------------
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
            Some(d) if d != cur.dtype() => Some(heavy(py, cur.numel(), || cur.to_dtype(d)).py()?),
            _ => moved,
        };
        match out {
            Some(t) => Ok(PyTensor::new(t).into_pyobject(py)?.into_any().unbind()),
            None if copy => Ok(PyTensor::new(heavy(py, me.numel(), || me.clone_tensor()).py()?).into_pyobject(py)?.into_any().unbind()),
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
        let strides = ferrotorch::shape::strides_from_signed(&to_int_list(stride)?).py()?;
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
        Ok(PyTensor::new(heavy(py, t.numel(), || t.to_device(Device::Cpu)).py()?).into_pyobject(py)?.into_any().unbind())
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
}

/// Self when it already has dtype `d` (PyTorch returns the same object), else a converted copy.
fn same_or(slf: Bound<'_, PyTensor>, d: DType) -> PyResult<Py<PyAny>> {
    if slf.get().t.dtype() == d {
        return Ok(slf.into_any().unbind());
    }
    let (py, t) = (slf.py(), &slf.get().t);
    Ok(PyTensor::new(heavy(py, t.numel(), || t.to_dtype(d)).py()?).into_pyobject(py)?.into_any().unbind())
}
