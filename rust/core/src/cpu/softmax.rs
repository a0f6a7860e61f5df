//! The CPU softmax lane kernels (moved from ops/softmax.rs with the seam; the op there
//! keeps the argument checks and the backward).

use super::math::exp_f32_fast;
use crate::dtype::{DType, Element};

/// One lane: `n` elements at stride `s` in, stride `os` out. f32 lanes use the
/// vectorisable exp and f32 accumulation of the sum in f64 blocks; other float types
/// go through f64.
///
/// # Safety
/// `x` and `y` must address `n` elements of T at the given strides.
pub unsafe fn softmax_lane<T: Element>(x: *const T, s: usize, y: *mut T, os: usize, n: usize, log: bool) {
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
    // Shift by the max even when it is ±inf, as PyTorch: a row holding +inf (or all -inf)
    // gets inf - inf = NaN and comes out all NaN, not [NaN, 0, ...] (nor 0 · log 0 = -inf
    // losses downstream).
    let shift = m;
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
    // Unguarded, as above: a lane whose max is ±inf or NaN comes out all NaN (PyTorch's result).
    let shift = m;
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
    // The padding enters exp as `shift` (e^0, or NaN for an infinite shift) and is masked
    // to 0 afterwards: exp of -inf
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
    pub fn softmax_rows_f32 [] [] (x: &[f32], y: &mut [f32], n: usize, log: bool) {
        for (xr, yr) in x.chunks_exact(n).zip(y.chunks_exact_mut(n)) {
            softmax_lane_f32(xr, yr, log);
        }
    }
}
