//! f32/f64 matrix multiply for CPUs with AVX-512: BLIS-style blocking around one
//! register-tile microkernel per dtype (12 x 32 for f32, 12 x 16 for f64: 12 rows by two
//! 512-bit vectors).
//!
//! Why our own: on the AVX-512 machines we measure on (AMD Zen 5), the `gemm` crate's f32
//! path reaches ~113 GFLOP/s on one core, 44% of the core's 255 GFLOP/s FMA peak, level
//! with MKL's AVX2 path, which is what PyTorch runs on AMD. This kernel reaches ~200-225
//! GFLOP/s on one core (1536^3, KC=768). Rejected alternatives, measured in session 8:
//! tuning `gemm` (its Rayon parallelism, a column split, dynamic tiles, forcing rhs
//! packing), none of which moved it by more than noise.
//!
//! Layout of the computation (Goto/BLIS): for each NC-wide column block of B and KC-deep
//! slice of k, B's block is packed into NR-column micro-panels (k-major, NR floats per k);
//! for each MC-tall row block of A, A's block is packed into MR-row micro-panels (k-major,
//! MR floats per k); then each (MR x NR) tile of C is computed by the microkernel from one
//! A micro-panel and one B micro-panel. Packing reads the operands through their strides,
//! so transposed views are never copied first; it pads partial panels with zeros so the
//! microkernel has one shape, and partial tiles of C go through a small buffer.
//!
//! float16 and CPUs without AVX-512 keep the `gemm` crate (`matmul.rs`).

use super::matmul::Mat;

/// Rows of the register tile (12 broadcasts of A per k). With two accumulator vectors per
/// row: 24 accumulators + 2 B vectors + 1 broadcast = 27 of the 32 zmm registers.
const MR: usize = 12;
/// The widest tile (f32's NR), sizing the partial-tile buffer.
const NR_MAX: usize = 32;

/// An element type with a microkernel. Block sizes are in elements and chosen so both
/// dtypes use the same bytes: a KC x NR B micro-panel is 96 KiB (in the 1 MiB L2 of Zen 5
/// with the A block), a KC x NC B block 9 MiB (resident in L3). KC = 768 f32 beat
/// 256/384/512: deeper slices halve the loads and stores of C per FLOP.
pub trait Elem: Copy + Send + 'static + std::ops::Add<Output = Self> {
    const ZERO: Self;
    /// Columns of the register tile: two 512-bit vectors.
    const NR: usize;
    /// Depth of a packed slice.
    const KC: usize;
    /// Rows of A packed at once (a multiple of MR).
    const MC: usize;
    /// Columns of B packed at once.
    const NC: usize;
    /// C[0..MR, 0..NR] (row stride ldc) = (or +=) A panel @ B panel. The A panel is
    /// packed (k-major, MR per k) or, when `DIRECT`, MR rows of a row-major A at row
    /// stride `lda`.
    ///
    /// # Safety
    /// An A panel as described, a kc x NR B panel, a C tile of MR x NR at stride ldc, and
    /// `available()` true.
    unsafe fn kernel<const DIRECT: bool>(kc: usize, a: *const Self, lda: usize, b: *const Self, c: *mut Self, ldc: usize, acc: bool);
}

/// Whether this CPU runs the kernel.
#[inline]
pub fn available() -> bool {
    super::simd::isa() == super::simd::Isa::Avx512
}

/// Whether a product of this shape should use the kernel: a tile needs MR rows and NR
/// columns to be worth its padding (matrix-vector products stay with `gemm`).
#[inline]
pub fn suits<T: Elem>(m: usize, n: usize, k: usize) -> bool {
    m >= MR && n >= T::NR && k >= 8
}

thread_local! {
    /// Per-thread packing buffers, grown on demand and kept (a 1024^2 product would
    /// otherwise allocate and fault in ~3 MiB per call).
    /// Held as u64 words so one pair serves both dtypes.
    static BUFS: std::cell::RefCell<(Vec<u64>, Vec<u64>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// A 64-byte aligned run of `len` elements of T inside `v` (grown as needed).
fn aligned<T>(v: &mut Vec<u64>, len: usize) -> *mut T {
    let words = (len * std::mem::size_of::<T>()).div_ceil(8) + 8;
    if v.len() < words {
        *v = vec![0; words];
    }
    let p = v.as_mut_ptr();
    let off = p.align_offset(64);
    // SAFETY: align_offset of a u64 pointer to 64 bytes is at most 7 words, and v holds
    // len elements + 8 words; T (f32/f64) is valid for any bit pattern.
    unsafe { p.add(off) as *mut T }
}

/// dst (row stride `ld`) = lhs @ rhs, or `+=` when `acc`, on the calling thread.
///
/// # Safety
/// As `matmul::matmul`: valid strided operands of the given sizes, `dst` not aliasing
/// them, and `available()` true.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm<T: Elem>(m: usize, n: usize, k: usize, lhs: Mat<T>, rhs: Mat<T>, dst: *mut T, ld: usize, acc: bool) {
    let (nr_full, mc_full) = (T::NR, T::MC);
    // Even slices: k = 1024 becomes 2 x 512, not 768 + 256.
    let kc = k.div_ceil(k.div_ceil(T::KC));
    let nc = n.div_ceil(n.div_ceil(T::NC)).next_multiple_of(nr_full);
    // A row-major A (the usual case, and every im2col matrix) needs no packing: the
    // kernel broadcasts from MR row pointers as cheaply as from a packed panel. Packing
    // it cost about as much as the FMAs when n is small (a 3x3 conv's 16384x288 @ 288x64
    // ran at ~125 GFLOP/s).
    let direct = lhs.cs == 1 && lhs.rs > 0;
    BUFS.with(|b| {
        let mut b = b.borrow_mut();
        let (abuf, bbuf) = &mut *b;
        let ap = aligned::<T>(abuf, mc_full * kc);
        let bp = aligned::<T>(bbuf, kc * nc);
        for jc in (0..n).step_by(nc) {
            let ncur = nc.min(n - jc);
            for pc in (0..k).step_by(kc) {
                let kcur = kc.min(k - pc);
                // SAFETY (both packs and the tiles): (pc, jc) and (ic, pc) lie inside the
                // operands, the buffers hold MC x kc and kc x nc floats, and every tile
                // written lies inside dst's m x n.
                unsafe {
                    pack(ncur, kcur, rhs.ptr.offset(pc as isize * rhs.rs + jc as isize * rhs.cs), rhs.cs, rhs.rs, nr_full, bp);
                    let accumulate = acc || pc > 0;
                    for ic in (0..m).step_by(mc_full) {
                        let mcur = mc_full.min(m - ic);
                        let ablk = lhs.ptr.offset(ic as isize * lhs.rs + pc as isize * lhs.cs);
                        // Full panels of a row-major A are read in place; only a partial
                        // last panel (which the kernel must not read past) is packed.
                        let full = if direct { mcur - mcur % MR } else { 0 };
                        pack(mcur - full, kcur, ablk.offset(full as isize * lhs.rs), lhs.rs, lhs.cs, MR, ap.add(full * kcur));
                        for jr in (0..ncur).step_by(nr_full) {
                            let nr = nr_full.min(ncur - jr);
                            let bpanel = bp.add(jr * kcur);
                            for ir in (0..mcur).step_by(MR) {
                                let mr = MR.min(mcur - ir);
                                let c = dst.add((ic + ir) * ld + jc + jr);
                                if ir < full {
                                    let arow = ablk.offset(ir as isize * lhs.rs);
                                    tile::<T, true>(kcur, arow, lhs.rs as usize, bpanel, c, ld, mr, nr, accumulate);
                                } else {
                                    tile::<T, false>(kcur, ap.add(ir * kcur), 0, bpanel, c, ld, mr, nr, accumulate);
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// One mr x nr (<= MR x NR) tile of C from an A panel (see `Elem::kernel`) and a packed
/// B panel.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn tile<T: Elem, const DIRECT: bool>(kc: usize, a: *const T, lda: usize, b: *const T, c: *mut T, ldc: usize, mr: usize, nr: usize, acc: bool) {
    // SAFETY: callers pass A and B panels as the kernel needs them and a C tile of
    // mr x nr; available() was checked before gemm was entered.
    unsafe {
        if mr == MR && nr == T::NR {
            return T::kernel::<DIRECT>(kc, a, lda, b, c, ldc, acc);
        }
        let mut buf = [T::ZERO; MR * NR_MAX];
        T::kernel::<DIRECT>(kc, a, lda, b, buf.as_mut_ptr(), T::NR, false);
        for i in 0..mr {
            let row = c.add(i * ldc);
            for j in 0..nr {
                let v = buf[i * T::NR + j];
                *row.add(j) = if acc { *row.add(j) + v } else { v };
            }
        }
    }
}

/// Pack `len` lines x `kc` of a strided operand into panels `w` lines wide, k-major (`w`
/// values per k), zero-padding the last panel: A's rows into MR-row panels (`ps` = row
/// stride, `ks` = column stride), B's columns into NR-column panels (`ps` = column
/// stride, `ks` = row stride).
#[allow(clippy::too_many_arguments)]
unsafe fn pack<T: Elem>(len: usize, kc: usize, src: *const T, ps: isize, ks: isize, w: usize, out: *mut T) {
    let mut o = out;
    for r in (0..len).step_by(w) {
        let n = w.min(len - r);
        // SAFETY: lines r..r+n and k steps 0..kc lie inside the operand block; `out` holds
        // ceil(len / w) * w * kc elements.
        unsafe {
            let base = src.offset(r as isize * ps);
            for p in 0..kc {
                let line = base.offset(p as isize * ks);
                if ps == 1 {
                    // The panel's values for this k are one contiguous run (a row-major
                    // B, or a column-major A such as im2col^T in a conv's weight gradient).
                    std::ptr::copy_nonoverlapping(line, o, n);
                } else {
                    for i in 0..n {
                        *o.add(i) = *line.offset(i as isize * ps);
                    }
                }
                for i in n..w {
                    *o.add(i) = T::ZERO;
                }
                o = o.add(w);
            }
        }
    }
}

/// One microkernel per dtype, identical but for the intrinsics' names, with the dtype's
/// `Elem` impl: C[0..MR, 0..NR] (row stride ldc) = (or +=) A panel @ B panel, NR = 2
/// vectors of `$lanes`. MC and NC keep both dtypes' blocks at the same bytes.
///
/// Written with arrays and constant loops: LLVM unrolls them and keeps the 24
/// accumulators in zmm registers (the loop body is 2 loads, 12 broadcasts and 24 FMAs).
macro_rules! microkernel {
    ($name:ident, $t:ty, $lanes:expr, mc = $mc:expr, nc = $nc:expr,
     $zero:ident, $load:ident, $set1:ident, $fmadd:ident, $add:ident, $store:ident) => {
        impl Elem for $t {
            const ZERO: $t = 0.0;
            const NR: usize = 2 * $lanes;
            const KC: usize = 768;
            const MC: usize = $mc;
            const NC: usize = $nc;
            unsafe fn kernel<const DIRECT: bool>(kc: usize, a: *const $t, lda: usize, b: *const $t, c: *mut $t, ldc: usize, acc: bool) {
                // SAFETY: forwarded contract.
                unsafe { $name::<DIRECT>(kc, a, lda, b, c, ldc, acc) }
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $name<const DIRECT: bool>(kc: usize, a: *const $t, lda: usize, b: *const $t, c: *mut $t, ldc: usize, acc: bool) {
            use std::arch::x86_64::*;
            const NR: usize = 2 * $lanes;
            // SAFETY: the A panel holds kc * MR elements (packed) or MR rows of kc at stride
            // lda (direct); the B panel kc * NR; the C tile is MR rows of NR elements at
            // stride ldc; avx512f is enabled here and checked by callers.
            unsafe {
                let mut c0 = [$zero(); MR];
                let mut c1 = [$zero(); MR];
                let mut b = b;
                for p in 0..kc {
                    let b0 = $load(b);
                    let b1 = $load(b.add($lanes));
                    for i in 0..MR {
                        let av = $set1(if DIRECT { *a.add(i * lda + p) } else { *a.add(p * MR + i) });
                        c0[i] = $fmadd(av, b0, c0[i]);
                        c1[i] = $fmadd(av, b1, c1[i]);
                    }
                    b = b.add(NR);
                }
                for i in 0..MR {
                    let r = c.add(i * ldc);
                    if acc {
                        c0[i] = $add(c0[i], $load(r));
                        c1[i] = $add(c1[i], $load(r.add($lanes)));
                    }
                    $store(r, c0[i]);
                    $store(r.add($lanes), c1[i]);
                }
            }
        }

        /// Never called (available() is false off x86-64); keeps the module compiling.
        #[cfg(not(target_arch = "x86_64"))]
        unsafe fn $name<const DIRECT: bool>(_: usize, _: *const $t, _: usize, _: *const $t, _: *mut $t, _: usize, _: bool) {
            unreachable!("AVX-512 kernel called without AVX-512")
        }
    };
}

microkernel!(kernel_f32, f32, 16, mc = 144, nc = 3072, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps);
microkernel!(kernel_f64, f64, 8, mc = 72, nc = 1536, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_storeu_pd);
