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
            let n = il.shape[d];
            if data.dtype == DType::F32 && il.is_contiguous() && d + 1 == il.ndim() {
                // Rows of a contiguous tensor (logits over classes): slices, no per-lane
                // offset arithmetic, and the row loop inside the multiversioned kernel.
                // SAFETY: contiguous f32 input of numel elements from its offset; `out` is a
                // fresh contiguous buffer of the same size.
                let (xs, ys) = unsafe {
                    (std::slice::from_raw_parts(data.ptr::<f32>(), il.numel()), std::slice::from_raw_parts_mut(od.ptr::<f32>(), il.numel()))
                };
                let rows = xs.len() / n;
                let per = (crate::cpu::GRAIN / n).max(1);
                if rows > per && crate::cpu::num_threads() > 1 {
                    let yp = SendPtr(ys.as_mut_ptr());
                    crate::cpu::par_for(rows.div_ceil(per), |c| {
                        let (lo, hi) = (c * per * n, ((c + 1) * per).min(rows) * n);
                        // SAFETY: tasks write disjoint row ranges of `ys`.
                        let yc = unsafe { std::slice::from_raw_parts_mut(yp.get().add(lo), hi - lo) };
                        softmax_rows_f32(&xs[lo..hi], yc, n, log);
                    });
                } else {
                    softmax_rows_f32(xs, ys, n, log);
                }
            } else {
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
        softmax_rows_f32(xs, ys, n, log);
        return;
    }
    let mut m = f64::NEG_INFINITY;
    for j in 0..n {
        let v = (*x.add(j * s)).to_f64();
        if v > m || v.is_nan() {
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

/// The contiguous f32 lane, written as 16-lane loops so that, compiled per
/// instruction set by `multiversion!`, every pass runs 16 wide. The scalar form (one running max, one
/// running f32 sum) did not vectorise at all: about 87 instructions per element, a 2560-
/// element log_softmax 10x slower than PyTorch's.
#[inline(always)]
fn softmax_lane_f32(xs: &[f32], ys: &mut [f32], log: bool) {
    // Whole blocks of 16, then the tail copied into a block padded with -inf (which adds
    // nothing to the max or the sum), so that every pass is whole-vector code. Loops
    // with a remainder left lanes shorter than the vectorised loop's step (a 10-class
    // cross-entropy: 256 lanes of 10) entirely to the scalar epilogue, ~780
    // instructions a lane.
    const L: usize = 16;
    let full = xs.len() / L * L;
    let tail = xs.len() - full;
    let (xf, yf) = (&xs[..full], &mut ys[..full]);
    let mut t = [f32::NEG_INFINITY; L];
    t[..tail].copy_from_slice(&xs[full..]);
    // Max; a NaN in a lane sticks (`v > NaN` is false, and only a NaN `v` replaces it).
    let mut mx = t;
    for c in xf.chunks_exact(L) {
        for j in 0..L {
            mx[j] = if c[j] > mx[j] || c[j].is_nan() { c[j] } else { mx[j] };
        }
    }
    // Pairwise (4 dependent steps, not 16): the per-row horizontal work is what short rows
    // (a 10-class cross-entropy) spend their time on.
    for w in [8, 4, 2, 1] {
        for j in 0..w {
            mx[j] = if mx[j + w] > mx[j] || mx[j + w].is_nan() { mx[j + w] } else { mx[j] };
        }
    }
    let m = mx[0];
    // A lane whose max is ±inf or NaN: shift by 0 (inf - inf would be NaN), as logsumexp does.
    let shift = if m.is_finite() { m } else { 0.0 };
    // exp(x - shift) into the output, summed in 16 f32 lanes, flushed to f64 every 1024.
    let mut sum = 0.0f64;
    let mut acc = [0.0f32; L];
    for (b, (yc, xc)) in yf.chunks_exact_mut(L).zip(xf.chunks_exact(L)).enumerate() {
        for j in 0..L {
            let e = exp_f32_fast(xc[j] - shift);
            yc[j] = e;
            acc[j] += e;
        }
        if b % 64 == 63 {
            sum += hsum16(acc) as f64;
            acc = [0.0; L];
        }
    }
    // The padding enters exp as `shift` (e^0) and is masked to 0 afterwards: exp of -inf
    // goes through a denormal intermediate, and those microcode assists made a 10-wide
    // row cost ~200 ns.
    let mut et = [0.0f32; L];
    for j in 0..L {
        let e = exp_f32_fast(if j < tail { t[j] } else { shift } - shift);
        et[j] = if j < tail { e } else { 0.0 };
        acc[j] += et[j];
    }
    sum += hsum16(acc) as f64;
    if log {
        // (v - shift) - ln(sum), not v - (shift + ln(sum)): the latter rounds ln(sum)
        // at the scale of the logits (a row of -1000s lost 4 digits).
        let ls = sum.ln() as f32;
        for (yc, xc) in yf.chunks_exact_mut(L).zip(xf.chunks_exact(L)) {
            for j in 0..L {
                yc[j] = (xc[j] - shift) - ls;
            }
        }
        for j in 0..L {
            et[j] = (t[j] - shift) - ls;
        }
    } else {
        let inv = (1.0 / sum) as f32;
        for yc in yf.chunks_exact_mut(L) {
            for y in yc.iter_mut() {
                *y *= inv;
            }
        }
        for e in et.iter_mut() {
            *e *= inv;
        }
    }
    ys[full..].copy_from_slice(&et[..tail]);
}

/// Sum of 16 lanes, pairwise.
#[inline(always)]
fn hsum16(mut a: [f32; 16]) -> f32 {
    for w in [8, 4, 2, 1] {
        for j in 0..w {
            a[j] += a[j + w];
        }
    }
    a[0]
}

crate::multiversion! {
    /// Every row of `n` elements of contiguous `x` into `y` (the row loop inside the
    /// per-ISA function, so the dispatch is paid once, not per row).
    fn softmax_rows_f32 [] [] (x: &[f32], y: &mut [f32], n: usize, log: bool) {
        for (xr, yr) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)) {
            softmax_lane_f32(xr, yr, log);
        }
    }
}
