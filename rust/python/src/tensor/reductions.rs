//! Reductions (`sum`, `mean`, `max`, `var`, `norm`, `all`, ...) and the ops along one
//! dim (`softmax`, `cumsum`, `sort`, `topk`, `kthvalue`).

use ferrotorch::Tensor;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyTuple};

use super::{bcast_numel, heavy, sorting, wrap, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
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
    fn prod(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = single_dim(dim, "prod")?;
        let (t, dt) = (&self.t, opt_dtype(dtype)?);
        wrap(heavy(py, t.numel(), || t.prod_dims(d, keepdim, dt)))
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
    fn amax(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_dims(dim)?);
        wrap(heavy(py, t.numel(), || t.amax(d.as_deref(), keepdim)))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn amin(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_dims(dim)?);
        wrap(heavy(py, t.numel(), || t.amin(d.as_deref(), keepdim)))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmax(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, single_dim(dim, "argmax")?);
        wrap(heavy(py, t.numel(), || t.argmax(d, keepdim)))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmin(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, single_dim(dim, "argmin")?);
        wrap(heavy(py, t.numel(), || t.argmin(d, keepdim)))
    }
    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn var(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<&Bound<'_, PyAny>>, keepdim: bool, correction: Option<f64>) -> PyResult<TensorObj> {
        let (d, c) = var_args(dim, unbiased, correction)?;
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.var_dims(d.as_deref(), c, keepdim)))
    }
    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn std(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<&Bound<'_, PyAny>>, keepdim: bool, correction: Option<f64>) -> PyResult<TensorObj> {
        let (d, c) = var_args(dim, unbiased, correction)?;
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.std_dims(d.as_deref(), c, keepdim)))
    }
    #[pyo3(signature = (p=None, dim=None, keepdim=false, dtype=None))]
    fn norm(&self, py: Python<'_>, p: Option<&Bound<'_, PyAny>>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
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
        let (dt, d) = (opt_dtype(dtype)?, to_dims(dim)?);
        let t = &self.t;
        wrap(heavy(py, t.numel(), || match dt {
            Some(dt) => t.to_dtype(dt).and_then(|t| t.norm(pv, d.as_deref(), keepdim)),
            None => t.norm(pv, d.as_deref(), keepdim),
        }))
    }
    #[pyo3(signature = (dim, keepdim=false))]
    fn logsumexp(&self, py: Python<'_>, dim: &Bound<'_, PyAny>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_int_list(dim)?);
        wrap(heavy(py, t.numel(), || t.logsumexp(&d, keepdim)))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn all(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_dims(dim)?);
        wrap(heavy(py, t.numel(), || t.all_dims(d.as_deref(), keepdim)))
    }
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn any(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_dims(dim)?);
        wrap(heavy(py, t.numel(), || t.any_dims(d.as_deref(), keepdim)))
    }
    #[pyo3(signature = (dim=None))]
    fn count_nonzero(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_dims(dim)?);
        wrap(heavy(py, t.numel(), || t.count_nonzero(d.as_deref())))
    }

    // ---- along a dim: softmax, scans, sorting -----------------------------------------
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
    fn cumsum(&self, py: Python<'_>, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, dt) = (&self.t, opt_dtype(dtype)?);
        wrap(heavy(py, t.numel(), || t.cumsum(dim, dt)))
    }
    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumprod(&self, py: Python<'_>, dim: i64, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, dt) = (&self.t, opt_dtype(dtype)?);
        wrap(heavy(py, t.numel(), || t.cumprod(dim, dt)))
    }
    #[pyo3(signature = (dim=-1, descending=false, *, stable=false))]
    fn sort(&self, py: Python<'_>, dim: i64, descending: bool, stable: bool) -> PyResult<Py<PyAny>> {
        let _ = stable;
        let t = &self.t;
        let (v, i) = heavy(py, sorting(t), || t.sort(dim, descending)).py()?;
        named_pair(py, "sort", v, i)
    }
    #[pyo3(signature = (dim=-1, descending=false, *, stable=false))]
    fn argsort(&self, py: Python<'_>, dim: i64, descending: bool, stable: bool) -> PyResult<TensorObj> {
        let _ = stable;
        let t = &self.t;
        wrap(heavy(py, sorting(t), || t.argsort(dim, descending)))
    }
    #[pyo3(signature = (k, dim=-1, largest=true, sorted=true))]
    fn topk(&self, py: Python<'_>, k: i64, dim: i64, largest: bool, sorted: bool) -> PyResult<Py<PyAny>> {
        let t = &self.t;
        let (v, i) = heavy(py, sorting(t), || t.topk(k, dim, largest, sorted)).py()?;
        named_pair(py, "topk", v, i)
    }
    #[pyo3(signature = (k, dim=-1, keepdim=false))]
    fn kthvalue(&self, py: Python<'_>, k: i64, dim: i64, keepdim: bool) -> PyResult<Py<PyAny>> {
        let t = &self.t;
        let (v, i) = heavy(py, sorting(t), || t.kthvalue(k, dim, keepdim)).py()?;
        named_pair(py, "kthvalue", v, i)
    }
    /// median / nanmedian (`ignore_nan`) along `dim`, for `_reductions._median_impl`:
    /// a (values, indices) pair, named there.
    fn _median_dim(&self, py: Python<'_>, dim: i64, keepdim: bool, ignore_nan: bool) -> PyResult<(TensorObj, TensorObj)> {
        let t = &self.t;
        let (v, i) = heavy(py, sorting(t), || t.median_dim(dim, keepdim, ignore_nan)).py()?;
        Ok((PyTensor::new(v), PyTensor::new(i)))
    }
}

/// `Tensor.softmax(dim)` requires `dim` (PyTorch's method signature has no default for
/// it); the functional forms in nn.functional apply the legacy implicit-dim rule.
fn softmax_dim(_t: &Tensor, dim: Option<i64>) -> PyResult<i64> {
    dim.ok_or_else(|| PyTypeError::new_err("softmax() missing 1 required positional argument: 'dim'"))
}

/// A `dim` argument that must be one int (or None): a tuple is PyTorch's TypeError.
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

/// var/std's arguments: (dims, correction) from `dim`, `unbiased` and `correction`.
fn var_args(dim: Option<&Bound<'_, PyAny>>, unbiased: Option<&Bound<'_, PyAny>>, correction: Option<f64>) -> PyResult<(Option<Vec<i64>>, f64)> {
    // var(True) / std(False): a bool in the dim slot is `unbiased` (legacy signature).
    let (dim, unb) = match dim {
        Some(d) if d.is_instance_of::<PyBool>() => (None, Some(d.extract::<bool>()?)),
        _ => (dim, unbiased.map(|u| u.extract::<bool>()).transpose()?),
    };
    Ok((to_dims(dim)?, ferrotorch::ops::reduce::var_correction(correction, unb)))
}

/// A (values, indices) result as PyTorch's named tuple (`torch.return_types.<kind>`).
fn named_pair(py: Python<'_>, kind: &str, v: Tensor, i: Tensor) -> PyResult<Py<PyAny>> {
    let m = py.import("ferrotorch._utils")?;
    Ok(m.getattr("_return_types")?.call_method1(kind, (PyTensor::new(v), PyTensor::new(i)))?.unbind())
}

/// `max()` / `min()`: over everything, elementwise with another tensor, or along a dim.
fn minmax(py: Python<'_>, t: &Tensor, dim: Option<&Bound<'_, PyAny>>, keepdim: bool, is_max: bool) -> PyResult<Py<PyAny>> {
    match dim {
        None => Ok(PyTensor::new(heavy(py, t.numel(), || if is_max { t.max_all() } else { t.min_all() }).py()?).into_pyobject(py)?.into_any().unbind()),
        Some(d) if d.is_none() => Ok(PyTensor::new(heavy(py, t.numel(), || if is_max { t.max_all() } else { t.min_all() }).py()?).into_pyobject(py)?.into_any().unbind()),
        Some(d) => {
            if let Ok(o) = d.cast::<PyTensor>() {
                // max(other): elementwise maximum.
                let o = o.get().t.clone();
                let work = bcast_numel(&t.shape(), &o.shape());
                return Ok(PyTensor::new(heavy(py, work, || if is_max { t.maximum(&o) } else { t.minimum(&o) }).py()?).into_pyobject(py)?.into_any().unbind());
            }
            let di = single_dim(Some(d), if is_max { "max" } else { "min" })?.unwrap_or(0);
            let (v, i) = heavy(py, t.numel(), || if is_max { t.max_dim(di, keepdim) } else { t.min_dim(di, keepdim) }).py()?;
            named_pair(py, if is_max { "max" } else { "min" }, v, i)
        }
    }
}
