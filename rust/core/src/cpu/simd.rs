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
    chunked(src, dst, |s, d| apply(s, d, f))
}

/// `k` over matching chunks of `src` and `dst` (their common length), in parallel above the
/// grain size.
fn chunked(src: &[f32], dst: &mut [f32], k: impl Fn(&[f32], &mut [f32]) + Sync) {
    let n = src.len().min(dst.len());
    if n >= 2 * GRAIN && num_threads() > 1 {
        let d = super::SendPtr(dst.as_mut_ptr());
        super::par_for(n.div_ceil(GRAIN), |c| {
            let (lo, hi) = (c * GRAIN, ((c + 1) * GRAIN).min(n));
            // SAFETY: chunks [lo, hi) are disjoint and inside dst[..n].
            let dc = unsafe { std::slice::from_raw_parts_mut(d.get().add(lo), hi - lo) };
            k(&src[lo..hi], dc)
        });
    } else {
        k(&src[..n], &mut dst[..n]);
    }
}

/// `dst[i] = f(src[i])` through `k`, a multiversioned loop that calls `f` directly (`multiversion!`
/// over `for .. { *o = f(v) }`), in parallel above the grain size. For scalar functions too large
/// for `map_f32`: there `f` is called through its `Fn::call` shim, which LLVM inlines only while
/// small; erf, erfinv and gelu (cpu::vecmath) made it an out-of-line baseline call per element,
/// 10x slower than the same loop with the direct call.
pub fn map_f32_with(src: &[f32], dst: &mut [f32], k: fn(&[f32], &mut [f32])) {
    chunked(src, dst, k)
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

crate::multiversion! {
    /// `d[i] = f(s[i])` on the calling thread.
    fn apply [F: Fn(f32) -> f32] [F] (s: &[f32], d: &mut [f32], f: F) {
        for (o, &v) in d.iter_mut().zip(s) {
            *o = f(v);
        }
    }
}

/// Define `fn name<generics>(args) -> R { body }` whose body is compiled three times (AVX-512F,
/// AVX2+FMA, baseline) and picked at run time, like `map_f32`. Generics are written twice,
/// as declared and as passed on: `fn f [T: Real, const A: bool] [T, A] (x: &[T]) { .. }`.
///
/// The body becomes an `#[inline(always)]` fn called directly from each target-feature
/// wrapper, which is what gets it compiled for that target. Rejected: a `vectorized(closure)`
/// helper (what was here). A closure, or a fn item called through its `FnOnce` shim, is one
/// out-of-line function shared by the three wrappers, and LLVM declines to inline it once
/// it is large: Adam's update, the softmax lane and the column sums all ran the baseline
/// 4-wide code on AVX-512 machines that way.
#[macro_export]
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident [$($gen:tt)*] [$($gu:tt)*] ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body<$($gen)*>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx512<$($gen)*>($($arg: $ty),*) $(-> $ret)? { body::<$($gu)*>($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2<$($gen)*>($($arg: $ty),*) $(-> $ret)? { body::<$($gu)*>($($arg),*) }
            match $crate::cpu::simd::isa() {
                // SAFETY: isa() reported the features these functions are compiled for.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::simd::Isa::Avx512 => unsafe { avx512::<$($gu)*>($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::simd::Isa::Avx2 => unsafe { avx2::<$($gu)*>($($arg),*) },
                _ => body::<$($gu)*>($($arg),*),
            }
        }
    };
}
