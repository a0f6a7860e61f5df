//! Matrix multiply kernels: our AVX-512 kernels (`gemm512.rs`) for f32/f64 where the CPU
//! has AVX-512, the `gemm` crate for the other f32/f64/f16 cases on strided operands (no copies for
//! transposed views), a plain loop for integer and bfloat16 operands.

use crate::dtype::{DType, Element};
use super::gemm512;
use gemm::Parallelism;

/// One strided matrix operand: pointer to element (0,0), row stride, column stride.
#[derive(Clone, Copy)]
pub struct Mat<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

impl<T> Mat<T> {
    /// The same operand seen as elements of U (after a dtype check by the caller).
    fn cast<U>(self) -> Mat<U> {
        Mat { ptr: self.ptr as *const U, rs: self.rs, cs: self.cs }
    }
}

/// How many blocks of dst to compute in parallel: 1 below ~80^3 multiply-adds
/// (threading costs more than it saves there; at 256x512 @ 512x10, the last layer of an
/// MLP, two threads already halve the time).
fn parallel_blocks(m: usize, n: usize, k: usize) -> usize {
    let threads = crate::cpu::num_threads();
    let len = m.max(n);
    if threads > 1 && m * n * k >= 80 * 80 * 80 && len >= 2 * 16 {
        threads.min(len / 16)
    } else {
        1
    }
}

/// dst[m,n] (contiguous, row stride n) = lhs[m,k] @ rhs[k,n], or `+=` when `acc` (addmm:
/// dst already holds the bias, as PyTorch's addmm seeds its output).
///
/// Threads split dst into blocks of rows or columns, each a single-threaded gemm. Rejected:
/// `gemm`'s own `Parallelism::Rayon`, which on 2 cores sped a 256x784 @ 784x512 (an MLP
/// layer) up by only 1.08x where PyTorch gets 1.9x; the split gets close to 2x, and the
/// only duplicated work is packing the smaller operand once per thread.
///
/// # Safety
/// Pointers and strides must address valid matrices of the given sizes; `dst` must not
/// alias the operands.
#[allow(clippy::too_many_arguments)]
pub unsafe fn matmul<T: Element>(m: usize, n: usize, k: usize, lhs: Mat<T>, rhs: Mat<T>, dst: *mut T, threaded: bool, acc: bool) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if acc {
            return;
        }
        for i in 0..m * n {
            *dst.add(i) = T::zero();
        }
        return;
    }
    let blocks = if threaded { parallel_blocks(m, n, k) } else { 1 };
    if blocks <= 1 {
        return matmul_serial(m, n, k, lhs, rhs, dst, n, acc);
    }
    // Each block packs its share of one operand and all of the other: split the side
    // whose operand is bigger (rows of lhs when m >= n, else columns of rhs), so the
    // operand packed by every thread is the smaller one.
    let by_rows = m >= n;
    let len = if by_rows { m } else { n };
    let step = len.div_ceil(blocks);
    // Raw pointers are not Send: carry them as addresses into the workers.
    let (lp, rp, dp) = (lhs.ptr as usize, rhs.ptr as usize, dst as usize);
    let (lrs, lcs, rrs, rcs) = (lhs.rs, lhs.cs, rhs.rs, rhs.cs);
    crate::cpu::par_for(blocks, |b| {
        let s0 = b * step;
        let s1 = (s0 + step).min(len);
        if s0 >= s1 {
            return;
        }
        let (l, r) = (Mat { ptr: lp as *const T, rs: lrs, cs: lcs }, Mat { ptr: rp as *const T, rs: rrs, cs: rcs });
        // SAFETY: rows (or columns) s0..s1 lie inside the caller's matrices, and the
        // blocks write disjoint parts of dst (dst keeps its row stride n).
        unsafe {
            if by_rows {
                let l = Mat { ptr: l.ptr.wrapping_offset(s0 as isize * lrs), ..l };
                matmul_serial(s1 - s0, n, k, l, r, (dp as *mut T).add(s0 * n), n, acc)
            } else {
                let r = Mat { ptr: r.ptr.wrapping_offset(s0 as isize * rcs), ..r };
                matmul_serial(m, s1 - s0, k, l, r, (dp as *mut T).add(s0), n, acc)
            }
        }
    });
}

/// dst (row stride `ld`) = lhs @ rhs (`+=` when `acc`) on the calling thread.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_serial<T: Element>(m: usize, n: usize, k: usize, lhs: Mat<T>, rhs: Mat<T>, dst: *mut T, ld: usize, acc: bool) {
    let par = Parallelism::None;
    match T::DTYPE {
        DType::F32 if gemm512::available() && gemm512::suits::<f32>(m, n, k) => {
            gemm512::gemm::<f32>(m, n, k, lhs.cast(), rhs.cast(), dst as *mut f32, ld, acc)
        }
        DType::F64 if gemm512::available() && gemm512::suits::<f64>(m, n, k) => {
            gemm512::gemm::<f64>(m, n, k, lhs.cast(), rhs.cast(), dst as *mut f64, ld, acc)
        }
        DType::F32 => gemm::gemm(
            m, n, k,
            dst as *mut f32, 1, ld as isize, acc,
            lhs.ptr as *const f32, lhs.cs, lhs.rs,
            rhs.ptr as *const f32, rhs.cs, rhs.rs,
            1.0f32, 1.0f32, false, false, false, par,
        ),
        DType::F64 => gemm::gemm(
            m, n, k,
            dst as *mut f64, 1, ld as isize, acc,
            lhs.ptr as *const f64, lhs.cs, lhs.rs,
            rhs.ptr as *const f64, rhs.cs, rhs.rs,
            1.0f64, 1.0f64, false, false, false, par,
        ),
        DType::F16 => gemm::gemm(
            m, n, k,
            dst as *mut half::f16, 1, ld as isize, acc,
            lhs.ptr as *const half::f16, lhs.cs, lhs.rs,
            rhs.ptr as *const half::f16, rhs.cs, rhs.rs,
            half::f16::ONE, half::f16::ONE, false, false, false, par,
        ),
        _ => naive(m, n, k, lhs, rhs, dst, ld, acc),
    }
}

/// Integer (wrapping, i64 accumulate) and bfloat16 (f32 accumulate) matmul.
#[allow(clippy::too_many_arguments)]
unsafe fn naive<T: Element>(m: usize, n: usize, k: usize, lhs: Mat<T>, rhs: Mat<T>, dst: *mut T, ld: usize, acc: bool) {
    let float = T::DTYPE.is_float();
    for i in 0..m {
        for j in 0..n {
            if float {
                let d = dst.add(i * ld + j);
                let mut sum = if acc { (*d).to_f64() as f32 } else { 0.0f32 };
                for p in 0..k {
                    let a = *lhs.ptr.offset(i as isize * lhs.rs + p as isize * lhs.cs);
                    let b = *rhs.ptr.offset(p as isize * rhs.rs + j as isize * rhs.cs);
                    sum += a.to_f64() as f32 * b.to_f64() as f32;
                }
                *d = T::from_f64(sum as f64);
            } else {
                let d = dst.add(i * ld + j);
                let mut sum = if acc { (*d).to_i64() } else { 0i64 };
                for p in 0..k {
                    let a = *lhs.ptr.offset(i as isize * lhs.rs + p as isize * lhs.cs);
                    let b = *rhs.ptr.offset(p as isize * rhs.rs + j as isize * rhs.cs);
                    sum = sum.wrapping_add(a.to_i64().wrapping_mul(b.to_i64()));
                }
                *d = if T::DTYPE == DType::Bool { T::from_bool(sum != 0) } else { T::from_i64(sum) };
            }
        }
    }
}
