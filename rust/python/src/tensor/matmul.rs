//! Matrix products: `@` and `matmul`, `mm`, `bmm`, `mv`, `dot`, `outer`, `addmm`,
//! `baddbmm` (the larger ones run without the GIL).

use pyo3::prelude::*;

use super::{heavy, scalar_or, wrap, PyTensor, TensorObj};
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
    fn mv(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, o) = (&self.t, to_tensor(other)?);
        wrap(heavy(py, t.numel().max(o.numel()), || t.mv(&o)))
    }
    fn dot(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, o) = (&self.t, to_tensor(other)?);
        wrap(heavy(py, t.numel().max(o.numel()), || t.dot(&o)))
    }
    fn outer(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, o) = (&self.t, to_tensor(other)?);
        wrap(heavy(py, t.numel().saturating_mul(o.numel()), || t.outer(&o)))
    }
    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm(&self, py: Python<'_>, mat1: &Bound<'_, PyAny>, mat2: &Bound<'_, PyAny>, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, m1, m2) = (&self.t, to_tensor(mat1)?, to_tensor(mat2)?);
        let (b, a) = (scalar_or(beta, 1)?, scalar_or(alpha, 1)?);
        wrap(heavy(py, mm_work(&m1, &m2), || t.addmm(&m1, &m2, b, a)))
    }
    #[pyo3(signature = (mat1, mat2, *, beta=None, alpha=None))]
    fn addmm_<'py>(slf: Bound<'py, Self>, mat1: &Bound<'py, PyAny>, mat2: &Bound<'py, PyAny>, beta: Option<&Bound<'py, PyAny>>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let (m1, m2) = (to_tensor(mat1)?, to_tensor(mat2)?);
        let (b, a) = (scalar_or(beta, 1)?, scalar_or(alpha, 1)?);
        let t = slf.get().t.clone();
        heavy(slf.py(), mm_work(&m1, &m2), || t.addmm_(&m1, &m2, b, a)).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (batch1, batch2, *, beta=None, alpha=None))]
    fn baddbmm(&self, py: Python<'_>, batch1: &Bound<'_, PyAny>, batch2: &Bound<'_, PyAny>, beta: Option<&Bound<'_, PyAny>>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, b1, b2) = (&self.t, to_tensor(batch1)?, to_tensor(batch2)?);
        let (b, a) = (scalar_or(beta, 1)?, scalar_or(alpha, 1)?);
        wrap(heavy(py, mm_work(&b1, &b2), || t.baddbmm(&b1, &b2, b, a)))
    }
}

/// Multiply-adds of `a @ b` (a: [..., m, k], b: [..., k, n]): a's elements times n.
fn mm_work(a: &ferrotorch::Tensor, b: &ferrotorch::Tensor) -> usize {
    a.numel().saturating_mul(b.shape().last().copied().unwrap_or(1))
}
