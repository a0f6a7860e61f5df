//! Fills in place (`fill_`, `zero_`, `masked_fill`, the random fills `uniform_` and
//! `normal_`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use super::{wrap, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
    fn masked_fill(&self, mask: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let m = to_tensor(mask)?;
        wrap(self.t.masked_fill(&m, scalar_of(value)?))
    }
    fn masked_fill_<'py>(slf: Bound<'py, Self>, mask: &Bound<'py, PyAny>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let m = to_tensor(mask)?;
        slf.get().t.masked_fill_(&m, scalar_of(value)?).py()?;
        Ok(slf)
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
