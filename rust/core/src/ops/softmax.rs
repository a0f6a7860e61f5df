//! softmax / log_softmax along one dim: one fused lane kernel (max, exp-sum, normalise)
//! and backward formulas in tensor ops next to it.
//!
//! A composite (`x - x.logsumexp(dim)`) was the first version; it walks the data four
//! times and allocates three temporaries, and cross-entropy runs it on every training
//! step, so the forward got its own kernel. The backward stays a composite.

use crate::autograd::{needs_grad, record, SavedTensor};
use crate::dtype::DType;
use crate::error::Result;
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

impl Tensor {
    /// `softmax(dim, dtype)`: exp(x - max) / sum(exp(x - max)) along `dim`.
    pub fn softmax(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("softmax", &[self])? {
            // Under autocast an explicit dtype wins; else the policy's (float32).
            let (x, dtype) = (&p.tensors[0], dtype.or(p.dtype));
            return x.softmax(dim, dtype);
        }
        self.softmax_impl(dim, dtype, false)
    }

    /// `log_softmax(dim, dtype)`: x - max - log(sum(exp(x - max))) along `dim`.
    pub fn log_softmax(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("log_softmax", &[self])? {
            // Under autocast an explicit dtype wins; else the policy's (float32).
            let (x, dtype) = (&p.tensors[0], dtype.or(p.dtype));
            return x.log_softmax(dim, dtype);
        }
        self.softmax_impl(dim, dtype, true)
    }

    fn softmax_impl(&self, dim: i64, dtype: Option<DType>, log: bool) -> Result<Tensor> {
        let src = match dtype {
            Some(dt) if dt != self.dtype() => self.to_dtype(dt)?,
            _ => self.clone(),
        };
        let name = if log { "log_softmax" } else { "softmax" };
        if !src.dtype().is_float() {
            return Err(super::not_implemented(&format!("{}_lastdim_kernel_impl", name), src.dtype()));
        }
        let shape = src.shape();
        let d = wrap_dim(dim, shape.len())?;
        let out = Tensor::empty_on(&shape, src.dtype(), src.device())?;
        if out.numel() > 0 {
            crate::backend::of(src.device()).softmax(log, &src.data(), d, &out.data())?;
        }
        if needs_grad(&[&src]) {
            let sy = SavedTensor::output(&out, 0);
            let di = d as i64;
            let node = if log { "LogSoftmaxBackward0" } else { "SoftmaxBackward0" };
            record(node, &[&src], &[&out], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let y = sy.unpack(ctx)?;
                let gi = if log {
                    // d/dx log_softmax: g - softmax * sum(g)
                    g.sub(&y.exp()?.mul(&g.sum_dims(Some(&[di]), true, None)?)?)?
                } else {
                    // d/dx softmax: y * (g - sum(g * y))
                    y.mul(&g.sub(&g.mul(&y)?.sum_dims(Some(&[di]), true, None)?)?)?
                };
                Ok(vec![Some(gi)])
            });
        }
        Ok(out)
    }
}
