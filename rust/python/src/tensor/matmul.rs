//! Matrix products: `@` and `matmul`, `mm`, `bmm`, `mv`, `dot`, `outer`, `addmm`,
//! `baddbmm` (the larger ones run without the GIL).

use pyo3::prelude::*;

use super::{scalar_or, wrap, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
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
    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm_<'py>(slf: Bound<'py, Self>, mat1: &Bound<'py, PyAny>, mat2: &Bound<'py, PyAny>, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let (m1, m2) = (to_tensor(mat1)?, to_tensor(mat2)?);
        let (b, a) = (scalar_or(beta, 1)?, scalar_or(alpha, 1)?);
        slf.get().t.addmm_(&m1, &m2, b, a).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn baddbmm(&self, batch1: &Bound<'_, PyAny>, batch2: &Bound<'_, PyAny>, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        wrap(self.t.baddbmm(&to_tensor(batch1)?, &to_tensor(batch2)?, scalar_or(beta, 1)?, scalar_or(alpha, 1)?))
    }
}
