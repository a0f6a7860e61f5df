//! softmax / log_softmax along one dim: one fused lane kernel (max, exp-sum, normalise)
//! and backward formulas in tensor ops next to it.
//!
//! A composite (`x - x.logsumexp(dim)`) was the first version; it walks the data four
//! times and allocates three temporaries, and cross-entropy runs it on every training
//! step, so the forward got its own kernel. The backward stays a composite.

use crate::autograd::{needs_grad, record, SavedTensor};
use crate::cpu::math::exp_f32_fast;
use crate::cpu::reduce::{lanes, offset_of, split_dims};
use crate::cpu::SendPtr;
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::shape::wrap_dim;
use crate::tensor::Tensor;
use crate::dispatch_float;

impl Tensor {
    /// `softmax(dim, dtype)`: exp(x - max) / sum(exp(x - max)) along `dim`.
    pub fn softmax(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        self.softmax_impl(dim, dtype, false)
    }

    /// `log_softmax(dim, dtype)`: x - max - log(sum(exp(x - max))) along `dim`.
    pub fn log_softmax(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
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
        let cuda = src.device().is_cuda();
        let out = if cuda && src.numel() > 0 {
            crate::ops::reduce::along_dim_cuda(name, &src.data(), d, src.dtype())?.reshape_usize(&shape)?
        } else {
            Tensor::empty_on(&shape, src.dtype(), src.device())?
        };
        if out.numel() > 0 && !cuda {
            let data = src.data().clone();
            let od = out.data().clone();
            // 0-d tensors are one lane of length 1.
            let il = data.layout.at_least_1d();
            let ol = od.layout.at_least_1d();
            let (kept, _) = split_dims(&ol, &[d]);
            let ostride = ol.strides[d];
            dispatch_float!(data.dtype, T => {
                let p = SendPtr(data.storage.ptr() as *mut T);
                let op = SendPtr(od.storage.ptr() as *mut T);
                lanes(&il, d, |i, base, n, s| {
                    let ob = offset_of(&kept, i);
                    // SAFETY: lane offsets address the input/output storages of T; output
                    // lanes are disjoint.
                    unsafe { softmax_lane::<T>(p.get().add(base), s, op.get().add(ob), ostride, n, log) }
                });
            }, _ => unreachable!("checked is_float above"));
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

/// One lane: `n` elements at stride `s` in, stride `os` out. f32 lanes use the
/// vectorisable exp and f32 accumulation of the sum in f64 blocks; other float types
/// go through f64.
///
/// # Safety
/// `x` and `y` must address `n` elements of T at the given strides.
unsafe fn softmax_lane<T: Element>(x: *const T, s: usize, y: *mut T, os: usize, n: usize, log: bool) {
    if T::DTYPE == DType::F32 && s == 1 && os == 1 {
        let xs = std::slice::from_raw_parts(x as *const f32, n);
        let ys = std::slice::from_raw_parts_mut(y as *mut f32, n);
        let m = xs.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a || b != b { b } else { a });
        // A lane whose max is ±inf: shift by 0 (inf - inf would be NaN), as logsumexp does.
        let shift = if m.is_finite() { m } else { 0.0 };
        let mut sum = 0.0f64;
        for (yc, xc) in ys.chunks_mut(1024).zip(xs.chunks(1024)) {
            let mut part = 0.0f32;
            for (o, &v) in yc.iter_mut().zip(xc) {
                let e = exp_f32_fast(v - shift);
                *o = e;
                part += e;
            }
            sum += part as f64;
        }
        if log {
            // (v - shift) - ln(sum), not v - (shift + ln(sum)): the latter rounds ln(sum)
            // at the scale of the logits (a row of -1000s lost 4 digits).
            let ls = sum.ln() as f32;
            for (o, &v) in ys.iter_mut().zip(xs) {
                *o = (v - shift) - ls;
            }
        } else {
            let inv = (1.0 / sum) as f32;
            for o in ys.iter_mut() {
                *o *= inv;
            }
        }
        return;
    }
    let mut m = f64::NEG_INFINITY;
    for j in 0..n {
        let v = (*x.add(j * s)).to_f64();
        if v > m || v != v {
            m = v;
        }
    }
    let shift = if m.is_finite() { m } else { 0.0 };
    let mut sum = 0.0f64;
    for j in 0..n {
        sum += ((*x.add(j * s)).to_f64() - shift).exp();
    }
    let ls = sum.ln();
    for j in 0..n {
        let v = (*x.add(j * s)).to_f64() - shift;
        *y.add(j * os) = T::from_f64(if log { v - ls } else { (v - ls).exp() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;

    fn reference(x: &[f64], log: bool) -> Vec<f64> {
        let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = x.iter().map(|v| (v - m).exp()).sum();
        x.iter().map(|v| if log { v - m - s.ln() } else { (v - m).exp() / s }).collect()
    }

    #[test]
    fn softmax_rows_and_columns_match_reference() {
        let vals: Vec<f32> = (0..12).map(|i| ((i * 7) % 5) as f32 * 0.7 - 1.0).collect();
        let t = Tensor::from_vec(vals.clone(), &[3, 4]).unwrap();
        for log in [false, true] {
            // dim 1: contiguous lanes (f32 fast path)
            let y = t.softmax_impl(1, None, log).unwrap().to_vec::<f64>().unwrap();
            for r in 0..3 {
                let row: Vec<f64> = vals[r * 4..r * 4 + 4].iter().map(|&v| v as f64).collect();
                for (a, b) in y[r * 4..r * 4 + 4].iter().zip(reference(&row, log)) {
                    assert!((a - b).abs() < 1e-6, "{a} vs {b}");
                }
            }
            // dim 0: strided lanes (generic path)
            let y = t.softmax_impl(0, None, log).unwrap().to_vec::<f64>().unwrap();
            for c in 0..4 {
                let col: Vec<f64> = (0..3).map(|r| vals[r * 4 + c] as f64).collect();
                for (r, b) in reference(&col, log).into_iter().enumerate() {
                    assert!((y[r * 4 + c] - b).abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn extreme_logits_stay_finite() {
        let t = Tensor::from_vec(vec![1000.0f32, 0.0, -1000.0], &[3]).unwrap();
        let y = t.log_softmax(0, None).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(y[0], 0.0);
        assert_eq!(y[1], -1000.0);
        assert_eq!(y[2], -2000.0);
        let z = Tensor::zeros(&[2], DType::I64, Device::Cpu).unwrap();
        assert!(z.softmax(0, None).is_err());
    }
}
