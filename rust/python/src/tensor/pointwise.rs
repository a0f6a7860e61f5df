//! Pointwise ops with extra arguments: clamp/clip, lerp, nan_to_num, and the comparisons
//! within tolerances (isclose, allclose) or exact (equal).

use pyo3::prelude::*;

use super::{bcast_numel, heavy, numel2, wrap, write_out, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (min=None, max=None, *, out=None))]
    fn clamp(&self, py: Python<'_>, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let lo = opt_arg(min)?;
        let hi = opt_arg(max)?;
        let t = &self.t;
        let work = [&lo, &hi].iter().filter_map(|a| a.as_ref()).map(|a| numel2(t, a)).fold(t.numel(), usize::max);
        write_out("clamp", out, heavy(py, work, || t.clamp(lo.as_ref().map(|a| a.arg()), hi.as_ref().map(|a| a.arg()))).py()?)
    }
    #[pyo3(signature = (min=None, max=None, *, out=None))]
    fn clip(&self, py: Python<'_>, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        self.clamp(py, min, max, out)
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
        heavy(slf.py(), t.numel(), || t.clamp_(lo.as_ref().map(|a| a.arg()), hi.as_ref().map(|a| a.arg()))).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_min(&self, py: Python<'_>, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        self.clamp(py, min, max, None)
    }
    fn lerp(&self, py: Python<'_>, end: &Bound<'_, PyAny>, weight: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, e, w) = (&self.t, to_tensor(end)?, to_arg(weight)?);
        wrap(heavy(py, bcast_numel(&t.shape(), &e.shape()).max(numel2(t, &w)), || t.lerp(&e, w.arg())))
    }
    fn lerp_<'py>(slf: Bound<'py, Self>, end: &Bound<'py, PyAny>, weight: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let (t, e, w) = (slf.get().t.clone(), to_tensor(end)?, to_arg(weight)?);
        heavy(slf.py(), t.numel(), || t.lerp_(&e, w.arg())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num(&self, py: Python<'_>, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<TensorObj> {
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.nan_to_num(nan, posinf, neginf)))
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num_(slf: Bound<'_, Self>, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<Bound<'_, Self>> {
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.nan_to_num_(nan, posinf, neginf)).py()?;
        Ok(slf)
    }
    fn equal(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let (t, o) = (&self.t, to_tensor(other)?);
        heavy(py, t.numel().max(o.numel()), || t.equal(&o)).py()
    }
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn isclose(&self, py: Python<'_>, other: &Bound<'_, PyAny>, rtol: f64, atol: f64, equal_nan: bool) -> PyResult<TensorObj> {
        let (t, o) = (&self.t, to_tensor(other)?);
        wrap(heavy(py, bcast_numel(&t.shape(), &o.shape()), || t.isclose(&o, rtol, atol, equal_nan)))
    }
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn allclose(&self, py: Python<'_>, other: &Bound<'_, PyAny>, rtol: f64, atol: f64, equal_nan: bool) -> PyResult<bool> {
        let (t, o) = (&self.t, to_tensor(other)?);
        heavy(py, bcast_numel(&t.shape(), &o.shape()), || t.allclose(&o, rtol, atol, equal_nan)).py()
    }
}

/// An optional tensor-or-number argument (clamp's bounds): None when absent or None.
fn opt_arg(o: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ArgOwned>> {
    match o {
        None => Ok(None),
        Some(x) if x.is_none() => Ok(None),
        Some(x) => Ok(Some(to_arg(x)?)),
    }
}
