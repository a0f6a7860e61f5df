//! Pointwise ops with extra arguments: clamp/clip, lerp, nan_to_num, and the comparisons
//! within tolerances (isclose, allclose) or exact (equal).

use pyo3::prelude::*;

use super::{wrap, write_out, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
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
        slf.get().t.clamp_(lo.as_ref().map(|a| a.arg()), hi.as_ref().map(|a| a.arg())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_min(&self, min: Option<&Bound<'_, PyAny>>, max: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        self.clamp(min, max, None)
    }
    fn lerp(&self, end: &Bound<'_, PyAny>, weight: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (e, w) = (to_tensor(end)?, to_arg(weight)?);
        wrap(self.t.lerp(&e, w.arg()))
    }
    fn lerp_<'py>(slf: Bound<'py, Self>, end: &Bound<'py, PyAny>, weight: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let (e, w) = (to_tensor(end)?, to_arg(weight)?);
        slf.get().t.lerp_(&e, w.arg()).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<TensorObj> {
        wrap(self.t.nan_to_num(nan, posinf, neginf))
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num_(slf: Bound<'_, Self>, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> PyResult<Bound<'_, Self>> {
        slf.get().t.nan_to_num_(nan, posinf, neginf).py()?;
        Ok(slf)
    }
    fn equal(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.t.equal(&to_tensor(other)?).py()
    }
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn isclose(&self, other: &Bound<'_, PyAny>, rtol: f64, atol: f64, equal_nan: bool) -> PyResult<TensorObj> {
        wrap(self.t.isclose(&to_tensor(other)?, rtol, atol, equal_nan))
    }
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn allclose(&self, other: &Bound<'_, PyAny>, rtol: f64, atol: f64, equal_nan: bool) -> PyResult<bool> {
        self.t.allclose(&to_tensor(other)?, rtol, atol, equal_nan).py()
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
