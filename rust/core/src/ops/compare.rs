//! Whole-tensor comparisons: `isclose` / `allclose` (within tolerances) and `equal`
//! (same shape, same values).

use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

impl Tensor {
    /// `isclose(other, rtol, atol, equal_nan)`: elementwise `|self - other| <= atol + rtol * |other|`
    /// for floating dtypes, where infinities are close only to themselves and NaN only to
    /// NaN with `equal_nan`; equality for integral and bool dtypes. Both tensors must have
    /// one dtype (PyTorch's error otherwise). Outside the graph: the result is a bool mask.
    pub fn isclose(&self, other: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> Result<Tensor> {
        if self.dtype() != other.dtype() {
            bail!(Runtime, "{} did not match {}", super::pretty_dtype(self.dtype()), super::pretty_dtype(other.dtype()));
        }
        if !self.dtype().is_float() {
            return self.eq(other);
        }
        let (a, b) = (self.detach(), other.detach());
        let diff = a.sub(&b)?.abs()?;
        let tol = b.abs()?.mul_s(rtol)?.add_s(atol)?;
        // Infinities are close only to themselves (inf - inf would pass `diff <= tol`).
        let finite = a.isfinite()?.logical_and(&b.isfinite()?)?;
        let close = diff.le(&tol)?.logical_and(&finite)?.logical_or(&a.eq(&b)?)?;
        if equal_nan {
            close.logical_or(&a.isnan()?.logical_and(&b.isnan()?)?)
        } else {
            Ok(close)
        }
    }

    /// `allclose(other, rtol, atol, equal_nan)`: every element [`isclose`](Tensor::isclose).
    pub fn allclose(&self, other: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> Result<bool> {
        Ok(self.isclose(other, rtol, atol, equal_nan)?.all()?.item()?.is_nonzero())
    }

    /// `equal(other)`: the same shape and equal elements (false for other shapes; dtypes
    /// are promoted as in `eq`).
    pub fn equal(&self, other: &Tensor) -> Result<bool> {
        if other.shape() != self.shape() {
            return Ok(false);
        }
        Ok(self.eq(other)?.all()?.item()?.is_nonzero())
    }
}
