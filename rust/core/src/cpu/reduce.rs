//! Reduction and along-a-dim traversals, shared by every reduction kernel.

use super::{SendPtr, GRAIN};
use crate::dtype::{DType, Element};
use crate::shape::{Dims, Layout};

/// Serial row iteration over a strided sub-space: `f(offset, len, stride)` per row.
pub fn rows(shape: &[usize], strides: &[usize], base: usize, mut f: impl FnMut(usize, usize, usize)) {
    if shape.contains(&0) {
        return;
    }
    // Coalesce contiguous dims so that the common cases become one long row.
    let mut sh: Vec<usize> = Vec::with_capacity(shape.len());
    let mut st: Vec<usize> = Vec::with_capacity(shape.len());
    for (&d, &s) in shape.iter().zip(strides) {
        if d == 1 {
            continue;
        }
        if let (Some(ld), Some(ls)) = (sh.last_mut(), st.last_mut()) {
            if *ls == s * d {
                *ld *= d;
                *ls = s;
                continue;
            }
        }
        sh.push(d);
        st.push(s);
    }
    let nd = sh.len();
    if nd == 0 {
        f(base, 1, 0);
        return;
    }
    let (inner, istride) = (sh[nd - 1], st[nd - 1]);
    let outer: usize = sh[..nd - 1].iter().product();
    let mut idx = vec![0usize; nd - 1];
    let mut off = base;
    for _ in 0..outer {
        f(off, inner, istride);
        let mut d = nd - 1;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            off += st[d];
            if idx[d] < sh[d] {
                break;
            }
            off -= st[d] * sh[d];
            idx[d] = 0;
        }
    }
}

/// Split a layout into (kept dims layout, reduced dims layout).
pub fn split_dims(l: &Layout, reduce: &[usize]) -> (Layout, Layout) {
    let mut kept = Layout { shape: Dims::new(), strides: Dims::new(), offset: l.offset };
    let mut red = Layout { shape: Dims::new(), strides: Dims::new(), offset: 0 };
    for i in 0..l.ndim() {
        let target = if reduce.contains(&i) { &mut red } else { &mut kept };
        target.shape.push(l.shape[i]);
        target.strides.push(l.strides[i]);
    }
    (kept, red)
}

/// Offset of the `i`-th element (row-major) of `l`.
#[inline]
pub fn offset_of(l: &Layout, mut i: usize) -> usize {
    let mut off = l.offset;
    for d in (0..l.ndim()).rev() {
        let s = l.shape[d];
        off += (i % s) * l.strides[d];
        i /= s;
    }
    off
}

/// out[k] = finish(fold over the reduced sub-space of output k). `out` is contiguous
/// over the kept dims. Parallel over outputs, or over chunks of a single long
/// reduction (then partials are merged with `combine`).
///
/// # Safety
/// `p` points at the storage start (offsets include the layout offset); `out` has
/// room for prod(kept shape) elements.
#[allow(clippy::too_many_arguments)]
pub unsafe fn reduce<T, A, O>(
    p: *const T,
    l: &Layout,
    dims: &[usize],
    out: *mut O,
    init: A,
    fold: impl Fn(A, T) -> A + Sync + Send,
    combine: impl Fn(A, A) -> A + Sync + Send,
    finish: impl Fn(A) -> O + Sync + Send,
) where
    T: Copy + Send + Sync,
    A: Copy + Send + Sync,
    O: Copy + Send + Sync,
{
    let (kept, red) = split_dims(l, dims);
    let k = kept.numel();
    let r = red.numel();
    let p = SendPtr(p as *mut T);
    let out = SendPtr(out);
    let one = |base: usize| -> A {
        let mut acc = init;
        rows(&red.shape, &red.strides, base, |off, n, s| {
            let q = p.get().add(off) as *const T;
            if s == 1 {
                for &v in std::slice::from_raw_parts(q, n) {
                    acc = fold(acc, v);
                }
            } else {
                for j in 0..n {
                    acc = fold(acc, *q.add(j * s));
                }
            }
        });
        acc
    };
    if k == 1 {
        // Single output: split a long contiguous-ish reduction across threads.
        let (sh, st) = (red.shape.clone(), red.strides.clone());
        let mut flat: Option<usize> = None;
        rows(&sh, &st, 0, |_, _, s| {
            flat = Some(s);
        });
        let single_row = {
            let mut count = 0;
            rows(&sh, &st, 0, |_, _, _| count += 1);
            count == 1
        };
        if single_row && r >= GRAIN && crate::cpu::num_threads() > 1 {
            let s = flat.unwrap_or(1);
            let base = kept.offset;
            let chunk = GRAIN.max(r / (4 * crate::cpu::num_threads()));
            let parts: Vec<A> = crate::cpu::par_map(r.div_ceil(chunk), |c| {
                    let lo = c * chunk;
                    let hi = (lo + chunk).min(r);
                    let mut acc = init;
                    let q = p.get().add(base + lo * s) as *const T;
                    if s == 1 {
                        for &v in std::slice::from_raw_parts(q, hi - lo) {
                            acc = fold(acc, v);
                        }
                    } else {
                        for j in 0..hi - lo {
                            acc = fold(acc, *q.add(j * s));
                        }
                    }
                    acc
                });
            let mut acc = init;
            for a in parts {
                acc = combine(acc, a);
            }
            *out.get() = finish(acc);
        } else {
            *out.get() = finish(one(kept.offset));
        }
        return;
    }
    let run = |lo: usize, hi: usize| {
        for i in lo..hi {
            *out.get().add(i) = finish(one(offset_of(&kept, i)));
        }
    };
    if k * r.max(1) >= GRAIN && k > 1 && crate::cpu::num_threads() > 1 {
        let per = (GRAIN / r.max(1)).max(1).max(k / (8 * crate::cpu::num_threads()));
        crate::cpu::par_for(k.div_ceil(per), |c| run(c * per, ((c + 1) * per).min(k)));
    } else {
        run(0, k);
    }
}

/// Call `f(lane_index, base_offset, len, stride)` for every 1-d lane of `l` along
/// `dim`, in parallel when there is enough work. Lanes are numbered row-major over the
/// other dims.
pub fn lanes(l: &Layout, dim: usize, f: impl Fn(usize, usize, usize, usize) + Sync + Send) {
    let (kept, red) = split_dims(l, &[dim]);
    let k = kept.numel();
    let (len, stride) = (red.shape.first().copied().unwrap_or(1), red.strides.first().copied().unwrap_or(1));
    if k == 0 {
        return;
    }
    if k * len >= GRAIN && k > 1 && crate::cpu::num_threads() > 1 {
        let per = (GRAIN / len.max(1)).max(1);
        crate::cpu::par_for(k.div_ceil(per), |c| {
            for i in c * per..((c + 1) * per).min(k) {
                f(i, offset_of(&kept, i), len, stride);
            }
        });
    } else {
        for i in 0..k {
            f(i, offset_of(&kept, i), len, stride);
        }
    }
}

crate::multiversion! {
    /// Fast f32 sum of a contiguous slice: 64 independent lanes per block (four AVX-512
    /// vectors, so four add chains in flight: with one 16-lane chain the add latency, not
    /// memory, bounded a thread at ~16 bytes per cycle), blocks combined in f64 so
    /// 16M-element sums stay accurate.
    pub fn sum_f32_contig [] [] (x: &[f32]) -> f64 {
        const B: usize = 16384;
        const L: usize = 64;
        let mut total = 0.0f64;
        for block in x.chunks(B) {
            let mut acc = [0.0f32; L];
            let mut it = block.chunks_exact(L);
            for c in &mut it {
                for j in 0..L {
                    acc[j] += c[j];
                }
            }
            // Fold the lanes pairwise (vector adds) before the short scalar tail: a
            // sequential sum of all 64 lanes is 64 dependent adds per block.
            let mut w = L;
            while w > 8 {
                w /= 2;
                for j in 0..w {
                    acc[j] += acc[j + w];
                }
            }
            let mut s: f32 = acc[..8].iter().sum();
            for &v in it.remainder() {
                s += v;
            }
            total += s as f64;
        }
        total
    }
}

/// out[j] = sum_i x[i * k + j] for a row-major (n, k) block, accumulated in f64 (f32 input:
/// in f32 over runs of 64 rows, which vectorise 16 wide, then in f64, so the error stays
/// that of a 64-term f32 sum; all-f64 accumulation ran 4x slower than PyTorch's on the
/// bias gradient of a 256x512 layer). Parallel over column blocks when the block is large.
///
/// # Safety
/// `out` must have room for `k` elements.
pub unsafe fn column_sums<T: Element, O: Element>(x: &[T], n: usize, k: usize, out: *mut O) -> crate::error::Result<()> {
    // The accumulators are as many as the output's elements (a user's size): allocated
    // fallibly, a failure reported after the tasks.
    let oom = std::sync::atomic::AtomicUsize::new(0);
    let run = |lo: usize, hi: usize, out: crate::cpu::SendPtr<O>| {
        let fail = |b: usize| oom.store(b.max(1), std::sync::atomic::Ordering::Relaxed);
        let Ok(mut acc) = crate::storage::try_vec(hi - lo, 0.0f64) else { return fail((hi - lo).saturating_mul(8)) };
        if T::DTYPE == DType::F32 {
            // SAFETY: T is f32.
            let x = unsafe { std::slice::from_raw_parts(x.as_ptr() as *const f32, x.len()) };
            let Ok(mut part) = crate::storage::try_vec(hi - lo, 0.0f32) else { return fail((hi - lo).saturating_mul(4)) };
            column_sums_f32(x, n, k, lo, hi, &mut acc, &mut part);
        } else {
            for i in 0..n {
                let row = &x[i * k + lo..i * k + hi];
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += v.to_f64();
                }
            }
        }
        for (j, a) in acc.into_iter().enumerate() {
            // SAFETY: j + lo < k; column blocks are disjoint across tasks.
            unsafe { *out.get().add(lo + j) = O::from_f64(a) };
        }
    };
    let o = crate::cpu::SendPtr(out);
    let threads = crate::cpu::num_threads();
    if n * k >= 2 * crate::cpu::GRAIN && threads > 1 && k >= 128 {
        let per = k.div_ceil(threads * 2).max(64);
        crate::cpu::par_for(k.div_ceil(per), |c| run(c * per, ((c + 1) * per).min(k), o));
    } else {
        run(0, k, o);
    }
    match oom.into_inner() {
        0 => Ok(()),
        nbytes => Err(crate::storage::out_of_memory(nbytes)),
    }
}

crate::multiversion! {
    /// `acc[j - lo] += sum_i x[i * k + j]` for columns lo..hi, in f32 over runs of 64 rows;
    /// `part` is scratch of hi - lo elements.
    fn column_sums_f32 [] [] (x: &[f32], n: usize, k: usize, lo: usize, hi: usize, acc: &mut [f64], part: &mut [f32]) {
        for r0 in (0..n).step_by(64) {
            part.fill(0.0);
            for i in r0..(r0 + 64).min(n) {
                for (a, &v) in part.iter_mut().zip(&x[i * k + lo..i * k + hi]) {
                    *a += v;
                }
            }
            for (a, &p) in acc.iter_mut().zip(part.iter()) {
                *a += p as f64;
            }
        }
    }
}
