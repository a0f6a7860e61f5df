//! Contiguous f32 maps compiled three times — AVX-512F, AVX2+FMA and the baseline x86-64
//! target — and picked at run time. The wheel targets baseline x86-64 (SSE2), where the
//! branch-free `exp_f32_fast` vectorises only 4 wide; the same scalar source inlined into
//! an AVX-512 function runs 16 wide. Results are bit-identical across the three (no FMA
//! contraction happens without explicit `mul_add`).
//!
//! Rejected alternative: building the whole crate for x86-64-v3/v4 (`-C target-cpu`), which
//! would make the wheel crash on older CPUs.


use super::{num_threads, GRAIN};

/// `dst[i] = f(src[i])`, in parallel above the grain size.
pub fn map_f32<F: Fn(f32) -> f32 + Copy + Send + Sync>(src: &[f32], dst: &mut [f32], f: F) {
    let n = src.len().min(dst.len());
    if n >= 2 * GRAIN && num_threads() > 1 {
        let d = super::SendPtr(dst.as_mut_ptr());
        super::par_for(n.div_ceil(GRAIN), |c| {
            let (lo, hi) = (c * GRAIN, ((c + 1) * GRAIN).min(n));
            // SAFETY: chunks [lo, hi) are disjoint and inside dst[..n].
            let dc = unsafe { std::slice::from_raw_parts_mut(d.get().add(lo), hi - lo) };
            apply(&src[lo..hi], dc, f)
        });
    } else {
        apply(&src[..n], &mut dst[..n], f);
    }
}

/// The instruction sets the multiversioned loops are compiled for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Isa {
    Avx512,
    Avx2,
    Base,
}

/// The best of those this CPU runs (the std detection macros cache their answer).
#[inline]
pub fn isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Isa::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return Isa::Avx2;
        }
    }
    Isa::Base
}

#[inline]
fn apply<F: Fn(f32) -> f32 + Copy>(s: &[f32], d: &mut [f32], f: F) {
    match isa() {
        // SAFETY: isa() reported the features these functions are compiled for.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { apply_avx512(s, d, f) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { apply_avx2(s, d, f) },
        _ => apply_base(s, d, f),
    }
}

#[inline(always)]
fn apply_base<F: Fn(f32) -> f32>(s: &[f32], d: &mut [f32], f: F) {
    for (o, &v) in d.iter_mut().zip(s) {
        *o = f(v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn apply_avx512<F: Fn(f32) -> f32>(s: &[f32], d: &mut [f32], f: F) {
    apply_base(s, d, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_avx2<F: Fn(f32) -> f32>(s: &[f32], d: &mut [f32], f: F) {
    apply_base(s, d, f)
}

/// `body(x)` multiversioned like `map_f32` (`body` is an `#[inline(always)]` fn item, so it
/// is compiled inside each target-feature function; a fn pointer would not be).
pub fn sum_f32<F: Fn(&[f32]) -> f64>(x: &[f32], body: F) -> f64 {
    vectorized(|| body(x))
}

/// Run `f` compiled for the best instruction set this CPU has. `f` must be a closure
/// whose work is `#[inline(always)]` code: it is inlined into each target-feature
/// function and vectorised there (the fused optimizer updates use this).
#[inline(always)]
pub fn vectorized<R, F: FnOnce() -> R>(f: F) -> R {
    match isa() {
        // SAFETY: isa() reported the features these functions are compiled for.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { run_avx512(f) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { run_avx2(f) },
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512<R, F: FnOnce() -> R>(f: F) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R, F: FnOnce() -> R>(f: F) -> R {
    f()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_path_matches_the_scalar_function() {
        let src: Vec<f32> = (0..100_003).map(|i| (i as f32 - 50_000.0) * 0.0037).collect();
        let mut dst = vec![0.0f32; src.len()];
        super::map_f32(&src, &mut dst, crate::cpu::math::exp_f32_fast);
        for (d, &s) in dst.iter().zip(&src) {
            assert_eq!(d.to_bits(), crate::cpu::math::exp_f32_fast(s).to_bits());
        }
        let mut base = vec![0.0f32; 1000];
        super::apply_base(&src[..1000], &mut base, crate::cpu::math::exp_f32_fast);
        assert_eq!(&base[..], &dst[..1000]);
    }
}
