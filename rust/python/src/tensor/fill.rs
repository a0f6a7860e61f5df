//! Fills in place (`fill_`, `zero_`, `masked_fill`, the random fills `uniform_` and
//! `normal_`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use super::{bcast_numel, heavy, wrap, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
    fn masked_fill(&self, py: Python<'_>, mask: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, m, v) = (&self.t, to_tensor(mask)?, scalar_of(value)?);
        wrap(heavy(py, bcast_numel(&t.shape(), &m.shape()), || t.masked_fill(&m, v)))
    }
    fn masked_fill_<'py>(slf: Bound<'py, Self>, mask: &Bound<'py, PyAny>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let (t, m, v) = (slf.get().t.clone(), to_tensor(mask)?, scalar_of(value)?);
        heavy(slf.py(), t.numel(), || t.masked_fill_(&m, v)).py()?;
        Ok(slf)
    }
    fn fill_<'py>(slf: Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let (t, v) = (slf.get().t.clone(), scalar_of(value)?);
        heavy(slf.py(), t.numel(), || t.fill_(v)).py()?;
        Ok(slf)
    }
    fn zero_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.zero_()).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (from_=0.0, to=1.0, *, generator=None))]
    fn uniform_<'py>(slf: Bound<'py, Self>, from_: f64, to: f64, generator: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let g = crate::functions::gen_arg(generator)?;
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.uniform_(from_, to, g.as_ref())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (mean=0.0, std=1.0, *, generator=None))]
    fn normal_<'py>(slf: Bound<'py, Self>, mean: f64, std: f64, generator: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let g = crate::functions::gen_arg(generator)?;
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.normal_(mean, std, g.as_ref())).py()?;
        Ok(slf)
    }
}

/// A fill value: a number, or a 0-d tensor's element (the core's `value_scalar` rule).
fn scalar_of(v: &Bound<'_, PyAny>) -> PyResult<ferrotorch::Scalar> {
    if let Some(s) = to_scalar(v)? {
        return Ok(s);
    }
    if let Ok(t) = v.cast::<PyTensor>() {
        return t.get().t.value_scalar().py();
    }
    Err(PyTypeError::new_err("value must be a number"))
}
