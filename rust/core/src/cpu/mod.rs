//! CPU kernels. The strided traversal is written once (`walk`): dims are coalesced,
//! the innermost dim becomes a row handed to the kernel with per-operand strides, and
//! rows (or chunks of a single long row) are split across threads (`par_for`) above a grain size.
//! Kernels then have one contiguous fast path and one strided path each.

pub mod math;
pub mod reduce;
pub mod matmul;
pub mod gemm512;
pub mod simd;
pub mod vecmath;
mod vecmath_tables;
pub mod softmax;
pub mod select;
pub mod backend;
mod pool;

use crate::dims::Dims;
use crate::dtype::Element;
use crate::shape::Layout;
use rayon::prelude::*;

/// Elements per parallel task (PyTorch's at::internal::GRAIN_SIZE).
pub const GRAIN: usize = 32768;

/// Threads kernels use (`torch.set_num_threads`); 0 = not set, use the default.
static THREAD_LIMIT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Number of threads kernels may use. Every parallel decision goes through here, so
/// a limit of 1 keeps kernels off the worker pools entirely — required in a forked child
/// process, where the parent's pool threads do not exist and any job sent to a pool would
/// wait forever.
#[inline]
pub fn num_threads() -> usize {
    match THREAD_LIMIT.load(std::sync::atomic::Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// `RAYON_NUM_THREADS` (the benchmarks set it with OMP_NUM_THREADS), else `OMP_NUM_THREADS`
/// as PyTorch reads it, else the cores available to this process.
fn default_threads() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        ["RAYON_NUM_THREADS", "OMP_NUM_THREADS"]
            .iter()
            .find_map(|k| std::env::var(k).ok()?.trim().parse::<usize>().ok().filter(|&n| n > 0))
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Run `f(i)` for every `i` in `0..n` on the calling thread and up to `num_threads() - 1`
/// workers of the spinning pool (`pool.rs`), which claim indices from one shared counter (so
/// a worker that joins late just takes fewer pieces). Every parallel kernel loop goes
/// through here.
pub fn par_for(n: usize, f: impl Fn(usize) + Sync) {
    let threads = num_threads();
    if n <= 1 || threads <= 1 {
        for i in 0..n {
            f(i);
        }
        return;
    }
    if pool::run(n, threads.min(n) - 1, &f) {
        return;
    }
    // The pool is running another loop (this one is nested in it, or a second Python
    // thread got here first): rayon's work stealing.
    let f = &f;
    (0..n).into_par_iter().for_each(f);
}

/// `par_for` collecting `f(i)` in index order (so a reduction over the pieces combines them
/// in a fixed order and gives the same bits on every run).
pub fn par_map<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let slots: Vec<std::sync::Mutex<Option<R>>> = (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    par_for(n, |i| *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(f(i)));
    slots.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
}

/// Set the threads kernels use (`torch.set_num_threads`); 0 restores the default.
pub fn set_thread_limit(n: usize) {
    THREAD_LIMIT.store(n, std::sync::atomic::Ordering::Relaxed)
}

/// Merge adjacent dims that are contiguous with each other in every operand and drop
/// size-1 dims. Returns (shape, strides per operand).
fn coalesce<const N: usize>(shape: &[usize], strides: [&[usize]; N]) -> (Dims, [Dims; N]) {
    // Dims, not Vec: this runs on every elementwise op, and four heap allocations were
    // half the kernel-side cost of a 1-element `a + b`.
    let mut out_shape = Dims::new();
    let mut out_strides: [Dims; N] = std::array::from_fn(|_| Dims::new());
    for i in 0..shape.len() {
        let d = shape[i];
        if d == 1 {
            continue;
        }
        if let Some(&last) = out_shape.last() {
            let mergeable = (0..N).all(|k| *out_strides[k].last().unwrap() == strides[k][i] * d);
            if mergeable {
                *out_shape.last_mut().unwrap() = last * d;
                for k in 0..N {
                    *out_strides[k].last_mut().unwrap() = strides[k][i];
                }
                continue;
            }
        }
        out_shape.push(d);
        for k in 0..N {
            out_strides[k].push(strides[k][i]);
        }
    }
    (out_shape, out_strides)
}

/// Row-major contiguous strides for `shape` (size-1 dims may have any stride).
#[inline]
fn is_dense(shape: &[usize], strides: &[usize]) -> bool {
    let mut expected = 1usize;
    for (&d, &st) in shape.iter().zip(strides).rev() {
        if d != 1 {
            if st != expected {
                return false;
            }
            expected *= d;
        }
    }
    true
}

/// Visit every element of `N` operands that share `shape`. `f(offsets, len, strides)`
/// is called once per row: element j of the row for operand k is at
/// `offsets[k] + j * strides[k]`. Rows run in parallel when `numel >= GRAIN` and
/// `parallel` is set (callers clear it when operands may overlap).
pub fn walk<const N: usize, F>(shape: &[usize], strides: [&[usize]; N], offsets: [usize; N], parallel: bool, f: F)
where
    F: Fn([usize; N], usize, [usize; N]) + Sync + Send,
{
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return;
    }
    let par = parallel && numel >= GRAIN && num_threads() > 1;
    // One row of `inner` elements, split into chunks across threads when large.
    let one_row = |inner: usize, inner_st: [usize; N]| {
        if !par {
            f(offsets, inner, inner_st);
        } else {
            let chunk = (inner / (4 * num_threads())).max(GRAIN / 2);
            let nchunks = inner.div_ceil(chunk);
            par_for(nchunks, |c| {
                let start = c * chunk;
                let len = chunk.min(inner - start);
                let offs: [usize; N] = std::array::from_fn(|k| offsets[k] + start * inner_st[k]);
                f(offs, len, inner_st);
            });
        }
    };
    // Every operand contiguous (most calls): one row, without building coalesced layouts
    // (that was ~3% of a small autograd graph's time).
    if strides.iter().all(|st| is_dense(shape, st)) {
        return one_row(numel, [1; N]);
    }
    let (shape, st) = coalesce(shape, strides);
    let nd = shape.len();
    if nd == 0 {
        f(offsets, 1, [0; N]);
        return;
    }
    let inner = shape[nd - 1];
    let inner_st: [usize; N] = std::array::from_fn(|k| st[k][nd - 1]);
    let outer = numel / inner;
    if outer == 1 {
        return one_row(inner, inner_st);
    }
    let outer_shape = &shape[..nd - 1];
    let run_rows = |lo: usize, hi: usize| {
        // Odometer over the outer dims, starting at row `lo`.
        let mut idx = vec![0usize; nd - 1];
        let mut rem = lo;
        for d in (0..nd - 1).rev() {
            idx[d] = rem % outer_shape[d];
            rem /= outer_shape[d];
        }
        let mut offs: [usize; N] =
            std::array::from_fn(|k| offsets[k] + (0..nd - 1).map(|d| idx[d] * st[k][d]).sum::<usize>());
        for _ in lo..hi {
            f(offs, inner, inner_st);
            let mut d = nd - 1;
            while d > 0 {
                d -= 1;
                idx[d] += 1;
                for k in 0..N {
                    offs[k] += st[k][d];
                }
                if idx[d] < outer_shape[d] {
                    break;
                }
                for k in 0..N {
                    offs[k] -= st[k][d] * outer_shape[d];
                }
                idx[d] = 0;
            }
        }
    };
    if !par {
        run_rows(0, outer);
    } else {
        let rows_per = (GRAIN / inner).max(1).max(outer / (8 * num_threads()));
        let nchunks = outer.div_ceil(rows_per);
        par_for(nchunks, |c| {
            let lo = c * rows_per;
            run_rows(lo, (lo + rows_per).min(outer));
        });
    }
}

/// Raw pointer that may cross threads; kernels guarantee disjoint writes.
pub struct SendPtr<T>(pub *mut T);
// Copy for every T (a derive would ask T: Copy): it is only a pointer.
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
// SAFETY: used only for disjoint per-row accesses inside `walk`.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}
impl<T> SendPtr<T> {
    #[inline(always)]
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// out[i] = v for every element of the view.
///
/// # Safety
/// `p` points at the view's first element and `l` addresses valid memory.
pub unsafe fn fill<T: Element>(p: *mut T, l: &Layout, v: T) {
    let p = SendPtr(p);
    walk(&l.shape, [&l.strides], [0], true, |o, n, s| {
        let base = p.get().add(o[0]);
        if s[0] == 1 {
            std::slice::from_raw_parts_mut(base, n).fill(v);
        } else {
            for j in 0..n {
                *base.add(j * s[0]) = v;
            }
        }
    });
}

/// out = f(a) elementwise; `out` and `a` share the shape of `lo`.
///
/// # Safety
/// Pointers point at each view's first element; layouts address valid memory; the
/// output does not partially overlap the input.
pub unsafe fn map1<A: Element, O: Element, F>(a: *const A, la: &Layout, o: *mut O, lo: &Layout, f: F)
where
    F: Fn(A) -> O + Sync + Send,
{
    let (a, o) = (SendPtr(a as *mut A), SendPtr(o));
    if transpose_tiled(a, la, o, lo, &f) {
        return;
    }
    walk(&lo.shape, [&lo.strides, &la.strides], [0, 0], true, |off, n, s| {
        let (po, pa) = (o.get().add(off[0]), a.get().add(off[1]) as *const A);
        if s == [1, 1] {
            let (so, sa) = (std::slice::from_raw_parts_mut(po, n), std::slice::from_raw_parts(pa, n));
            for (x, y) in so.iter_mut().zip(sa) {
                *x = f(*y);
            }
        } else {
            for j in 0..n {
                *po.add(j * s[0]) = f(*pa.add(j * s[1]));
            }
        }
    });
}

/// out = f(a, b) elementwise; `la`/`lb` already broadcast to `lo`'s shape.
///
/// # Safety
/// As `map1`.
pub unsafe fn map2<A: Element, B: Element, O: Element, F>(
    a: *const A,
    la: &Layout,
    b: *const B,
    lb: &Layout,
    o: *mut O,
    lo: &Layout,
    f: F,
) where
    F: Fn(A, B) -> O + Sync + Send,
{
    let (a, b, o) = (SendPtr(a as *mut A), SendPtr(b as *mut B), SendPtr(o));
    walk(&lo.shape, [&lo.strides, &la.strides, &lb.strides], [0, 0, 0], true, |off, n, s| {
        let po = o.get().add(off[0]);
        let pa = a.get().add(off[1]) as *const A;
        let pb = b.get().add(off[2]) as *const B;
        match s {
            [1, 1, 1] => {
                let so = std::slice::from_raw_parts_mut(po, n);
                let sa = std::slice::from_raw_parts(pa, n);
                let sb = std::slice::from_raw_parts(pb, n);
                for ((x, y), z) in so.iter_mut().zip(sa).zip(sb) {
                    *x = f(*y, *z);
                }
            }
            [1, 1, 0] => {
                let (so, sa, vb) = (std::slice::from_raw_parts_mut(po, n), std::slice::from_raw_parts(pa, n), *pb);
                for (x, y) in so.iter_mut().zip(sa) {
                    *x = f(*y, vb);
                }
            }
            [1, 0, 1] => {
                let (so, va, sb) = (std::slice::from_raw_parts_mut(po, n), *pa, std::slice::from_raw_parts(pb, n));
                for (x, z) in so.iter_mut().zip(sb) {
                    *x = f(va, *z);
                }
            }
            _ => {
                for j in 0..n {
                    *po.add(j * s[0]) = f(*pa.add(j * s[1]), *pb.add(j * s[2]));
                }
            }
        }
    });
}

/// out = f(a, b, c) elementwise (where, lerp, clamp with tensor bounds).
///
/// # Safety
/// As `map1`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn map3<A: Element, B: Element, C: Element, O: Element, F>(
    a: *const A,
    la: &Layout,
    b: *const B,
    lb: &Layout,
    c: *const C,
    lc: &Layout,
    o: *mut O,
    lo: &Layout,
    f: F,
) where
    F: Fn(A, B, C) -> O + Sync + Send,
{
    let (a, b, c, o) = (SendPtr(a as *mut A), SendPtr(b as *mut B), SendPtr(c as *mut C), SendPtr(o));
    walk(&lo.shape, [&lo.strides, &la.strides, &lb.strides, &lc.strides], [0, 0, 0, 0], true, |off, n, s| {
        let po = o.get().add(off[0]);
        let pa = a.get().add(off[1]) as *const A;
        let pb = b.get().add(off[2]) as *const B;
        let pc = c.get().add(off[3]) as *const C;
        // Contiguous output and first operand with the others contiguous or broadcast
        // (`where(mask, x, 0.0)`, relu's backward): constant strides let the loop vectorise.
        match s {
            [1, 1, 1, 1] => run3::<1, 1, A, B, C, O, F>(po, pa, pb, pc, n, &f),
            [1, 1, 1, 0] => run3::<1, 0, A, B, C, O, F>(po, pa, pb, pc, n, &f),
            [1, 1, 0, 1] => run3::<0, 1, A, B, C, O, F>(po, pa, pb, pc, n, &f),
            [1, 1, 0, 0] => run3::<0, 0, A, B, C, O, F>(po, pa, pb, pc, n, &f),
            _ => {
                for j in 0..n {
                    *po.add(j * s[0]) = f(*pa.add(j * s[1]), *pb.add(j * s[2]), *pc.add(j * s[3]));
                }
            }
        }
    });
}

/// map3's inner loop with compile-time strides (0 or 1) for `b` and `c`.
///
/// # Safety
/// `po`/`pa` address `n` elements; `pb`/`pc` address `n` elements when their stride is 1,
/// one element when it is 0.
#[inline(always)]
unsafe fn run3<const SB: usize, const SC: usize, A: Element, B: Element, C: Element, O: Element, F>(
    po: *mut O,
    pa: *const A,
    pb: *const B,
    pc: *const C,
    n: usize,
    f: &F,
) where
    F: Fn(A, B, C) -> O,
{
    for j in 0..n {
        *po.add(j) = f(*pa.add(j), *pb.add(j * SB), *pc.add(j * SC));
    }
}

/// Copy with dtype conversion between any two layouts of the same shape.
///
/// # Safety
/// As `map1`.
pub unsafe fn cast_copy<S: Element, D: Element>(src: *const S, ls: &Layout, dst: *mut D, ld: &Layout) {
    map1::<S, D, _>(src, ls, dst, ld, |x| x.cast::<D>())
}

/// `cast_copy` on two CPU tensors' data (same shape; dtypes from the data).
pub fn cast_copy_data(src: &crate::storage::TensorData, dst: &crate::storage::TensorData) {
    crate::dispatch!(src.dtype, S => crate::dispatch!(dst.dtype, D => {
        // SAFETY: the pointers match the dtypes; both layouts address their (CPU) storages.
        unsafe { cast_copy::<S, D>(src.ptr::<S>(), &src.layout, dst.ptr::<D>(), &dst.layout) }
    }))
}

/// Tiled path for copies whose input is transposed relative to the output (the inner
/// dim is contiguous in one operand and strided in the other, e.g. `x.t().contiguous()`):
/// walking either operand's order makes the other miss cache on every element, so
/// 32x32 tiles are visited instead. Returns false when the layouts are not of that form.
fn transpose_tiled<A: Element, O: Element, F>(a: SendPtr<A>, la: &Layout, o: SendPtr<O>, lo: &Layout, f: &F) -> bool
where
    F: Fn(A) -> O + Sync + Send,
{
    let (shape, st) = coalesce(&lo.shape, [&lo.strides, &la.strides]);
    let nd = shape.len();
    if nd < 2 {
        return false;
    }
    let (so, sa) = (&st[0], &st[1]);
    // Output contiguous along the last dim, input contiguous along the one before.
    if so[nd - 1] != 1 || sa[nd - 2] != 1 || sa[nd - 1] == 1 {
        return false;
    }
    let (r, c) = (shape[nd - 2], shape[nd - 1]);
    if r * c < 4096 {
        return false;
    }
    let batch: usize = shape[..nd - 2].iter().product();
    let (so0, sa1) = (so[nd - 2], sa[nd - 1]);
    const T: usize = 32;
    let nrb = r.div_ceil(T);
    let tile_rows = |bi: usize, rb: usize| {
        // Offsets of batch element bi.
        let (mut oo, mut oa) = (0usize, 0usize);
        let mut rem = bi;
        for d in (0..nd - 2).rev() {
            let i = rem % shape[d];
            rem /= shape[d];
            oo += i * so[d];
            oa += i * sa[d];
        }
        let i0 = rb * T;
        let i1 = (i0 + T).min(r);
        for jb in (0..c).step_by(T) {
            let j1 = (jb + T).min(c);
            for i in i0..i1 {
                for j in jb..j1 {
                    // SAFETY: i < r, j < c address valid elements of both layouts; each
                    // (batch, row-block) task writes a disjoint set of output rows.
                    unsafe { *o.get().add(oo + i * so0 + j) = f(*a.get().add(oa + i + j * sa1)) };
                }
            }
        }
    };
    let tasks = batch * nrb;
    if tasks > 1 && batch * r * c >= GRAIN && num_threads() > 1 {
        par_for(tasks, |t| tile_rows(t / nrb, t % nrb));
    } else {
        for t in 0..tasks {
            tile_rows(t / nrb, t % nrb);
        }
    }
    true
}
