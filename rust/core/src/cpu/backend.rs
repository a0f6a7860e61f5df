//! The CPU implementation of the backend seam (`crate::backend::Backend`): the CPU
//! bodies the ops used to hold behind `if device.is_cuda() { .. } else { .. }`, moved
//! here unchanged but for taking (storage, layout, dtype) instead of tensors. Elementwise
//! registry rows bring their own CPU expression (`Unary::cpu`, `Binary::cpu`).

use super::math::{is_nan, Num};
use super::reduce::{column_sums, lanes, offset_of, reduce, split_dims, sum_f32_contig};
use super::softmax::{softmax_lane, softmax_rows_f32};
use super::{map1, map3, SendPtr};
use crate::backend::{Backend, Binary, Composite, Draw, Pred, ReduceOp, Unary};
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::shape::Layout;
use crate::storage::TensorData;
use crate::{bail, dispatch, dispatch_float, dispatch_int};

/// The host backend.
pub struct CpuBackend;

/// `v > best` for a max, `v < best` for a min. A generic function rather than inline
/// `>`/`<`, which the `dispatch!` arms would spell as order comparisons on `bool`.
#[inline(always)]
fn beats<T: PartialOrd>(is_max: bool, v: T, best: T) -> bool {
    if is_max { v > best } else { v < best }
}

impl Backend for CpuBackend {
    fn composes(&self, _op: Composite) -> bool {
        false
    }

    fn fill(&self, d: &TensorData, value: Scalar) -> Result<()> {
        dispatch!(d.dtype, T => {
            let v: T = value.to_elem();
            // SAFETY: T is the dtype's type; the layout addresses the storage.
            unsafe { super::fill::<T>(d.ptr::<T>(), &d.layout, v) }
        });
        Ok(())
    }

    fn copy(&self, src: &TensorData, dst: &TensorData) -> Result<()> {
        super::cast_copy_data(src, dst);
        Ok(())
    }

    fn copy_across(&self, src: &TensorData, dst: &TensorData) -> Result<()> {
        bail!(Runtime, "internal: copy_across between {} and {}", src.storage.device(), dst.storage.device())
    }

    fn unary(&self, op: Unary<'_>, x: &TensorData, out: &TensorData) -> Result<()> {
        (op.cpu)(x, out);
        Ok(())
    }

    fn pred(&self, p: Pred, d: &TensorData, o: &TensorData) -> Result<()> {
        let float_pred = |f: fn(f64) -> bool, int_val: bool| {
            dispatch!(d.dtype, T => {
                // SAFETY: pointers match dtypes.
                unsafe { map1::<T, bool, _>(d.ptr::<T>(), &d.layout, o.ptr::<bool>(), &o.layout, |v: T| if T::DTYPE.is_float() { f(v.to_f64()) } else { int_val }) }
            });
        };
        match p {
            Pred::LogicalNot => dispatch!(d.dtype, T => {
                // SAFETY: pointers match dtypes.
                unsafe { map1::<T, bool, _>(d.ptr::<T>(), &d.layout, o.ptr::<bool>(), &o.layout, |v: T| !v.is_nonzero()) }
            }),
            Pred::BitwiseNot => dispatch_int!(d.dtype, T => {
                // SAFETY: pointers match dtypes.
                unsafe { map1::<T, T, _>(d.ptr::<T>(), &d.layout, o.ptr::<T>(), &o.layout, |v: T| !v) }
            }, _ => {}),
            Pred::IsNan => float_pred(f64::is_nan, false),
            Pred::IsInf => float_pred(f64::is_infinite, false),
            Pred::IsFinite => float_pred(f64::is_finite, true),
            Pred::IsPosInf => float_pred(|v| v == f64::INFINITY, false),
            Pred::IsNegInf => float_pred(|v| v == f64::NEG_INFINITY, false),
        }
        Ok(())
    }

    fn binary(&self, op: Binary<'_>, compute: DType, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()> {
        (op.cpu)(compute, a, la, b, lb, out, &out.layout);
        Ok(())
    }

    fn binary_inplace(&self, op: Binary<'_>, compute: DType, a: &TensorData, b: &TensorData, lb: &Layout) -> Result<()> {
        (op.cpu)(compute, a, &a.layout, b, lb, a, &a.layout);
        Ok(())
    }

    fn where_(&self, cd: &TensorData, lc: &Layout, ad: &TensorData, la: &Layout, bd: &TensorData, lb: &Layout, o: &TensorData) -> Result<()> {
        dispatch!(o.dtype, T => {
            // SAFETY: cond holds bool, a/b/out hold T.
            unsafe { map3::<bool, T, T, T, _>(cd.ptr::<bool>(), lc, ad.ptr::<T>(), la, bd.ptr::<T>(), lb, o.ptr::<T>(), &o.layout, |c, x, y| if c { x } else { y }) }
        });
        Ok(())
    }

    fn nan_to_num(&self, d: &TensorData, nan: f64, pi: f64, ni: f64, o: &TensorData) -> Result<()> {
        dispatch_float!(d.dtype, T => {
            // SAFETY: pointers match dtypes.
            unsafe { map1::<T, T, _>(d.ptr::<T>(), &d.layout, o.ptr::<T>(), &o.layout, |v: T| {
                let f = v.to_f64();
                if f.is_nan() { T::from_f64(nan) } else if f == f64::INFINITY { T::from_f64(pi) } else if f == f64::NEG_INFINITY { T::from_f64(ni) } else { v }
            }) }
        }, _ => {});
        Ok(())
    }

    fn reduce(&self, kind: ReduceOp, d: &TensorData, dims: &[usize], o: &TensorData) -> Result<()> {
        let out_dtype = o.dtype;
        let base = d.storage.ptr();
        dispatch!(d.dtype, T => {
            let p = base as *const T;
            // SAFETY (all arms): p is the storage start of T elements; the layout's offsets
            // address it; o is a fresh contiguous buffer of out_shape elements of its dtype.
            unsafe {
                match kind {
                    ReduceOp::Sum | ReduceOp::Prod => {
                        let is_sum = matches!(kind, ReduceOp::Sum);
                        if T::DTYPE.is_float() {
                            // Contiguous full f32 sum: blocked, vectorised fast path.
                            if is_sum && T::DTYPE == DType::F32 && d.layout.is_contiguous() && dims.len() == d.layout.ndim() && out_dtype == DType::F32 {
                                let n = d.layout.numel();
                                let xs = std::slice::from_raw_parts((base as *const f32).add(d.layout.offset), n);
                                let s: f64 = if n >= crate::cpu::GRAIN * 2 && crate::cpu::num_threads() > 1 {
                                    // Partial sums of 64K-element chunks, added in chunk order: the
                                    // same bits every run. Each task takes a contiguous run of chunks:
                                    // handing out single chunks interleaved the threads' reads, and
                                    // two threads then reached only ~1.65x one thread's bandwidth.
                                    let chunks = n.div_ceil(1 << 16);
                                    let pieces = (4 * crate::cpu::num_threads()).min(chunks);
                                    crate::cpu::par_map(pieces, |p| {
                                        (p * chunks / pieces..(p + 1) * chunks / pieces)
                                            .map(|c| sum_f32_contig(&xs[c << 16..((c + 1) << 16).min(n)]))
                                            .collect::<Vec<f64>>()
                                    })
                                    .into_iter()
                                    .flatten()
                                    .sum()
                                } else {
                                    sum_f32_contig(xs)
                                };
                                *o.ptr::<f32>() = s as f32;
                            } else if is_sum && d.layout.is_contiguous() && !dims.is_empty() && dims.len() < d.layout.ndim()
                                && dims.iter().enumerate().all(|(i, &dd)| i == dd)
                            {
                                // Sum over leading dims of a row-major tensor (bias gradients,
                                // batch means): add whole rows into a row of accumulators, which
                                // vectorises, instead of one strided walk per output column.
                                let kcols: usize = d.layout.shape[dims.len()..].iter().product();
                                let nrows = d.layout.numel() / kcols.max(1);
                                let xs = std::slice::from_raw_parts(p.add(d.layout.offset), nrows * kcols);
                                dispatch!(out_dtype, O => column_sums::<T, O>(xs, nrows, kcols, o.ptr::<O>()))?;
                            } else {
                                // float16/bfloat16 products round to their type at every step, as
                                // PyTorch's prod accumulates in the input type (sums go in f64:
                                // PyTorch's are float32).
                                let round = !is_sum && T::DTYPE.is_half();
                                let mul = move |a: f64, b: f64| if round { T::from_f64(a * b).to_f64() } else { a * b };
                                dispatch!(out_dtype, O => reduce::<T, f64, O>(p, &d.layout, dims, o.ptr::<O>(),
                                    if is_sum { 0.0 } else { 1.0 },
                                    move |a, v| if is_sum { a + v.to_f64() } else { mul(a, v.to_f64()) },
                                    move |a, b| if is_sum { a + b } else { mul(a, b) },
                                    O::from_f64))
                            }
                        } else {
                            dispatch!(out_dtype, O => reduce::<T, i64, O>(p, &d.layout, dims, o.ptr::<O>(),
                                if is_sum { 0 } else { 1 },
                                move |a, v| if is_sum { a.wrapping_add(v.to_i64()) } else { a.wrapping_mul(v.to_i64()) },
                                move |a, b| if is_sum { a.wrapping_add(b) } else { a.wrapping_mul(b) },
                                O::from_i64))
                        }
                    }
                    ReduceOp::Max | ReduceOp::Min => {
                        let is_max = matches!(kind, ReduceOp::Max);
                        // (seen_nan, value): NaN propagates like PyTorch's amax/amin.
                        let pick = move |a: Option<T>, v: T| -> Option<T> {
                            match a {
                                None => Some(v),
                                Some(c) => {
                                    if is_nan(c) { Some(c) }
                                    else if is_nan(v) || beats(is_max, v, c) { Some(v) } else { Some(c) }
                                }
                            }
                        };
                        reduce::<T, Option<T>, T>(p, &d.layout, dims, o.ptr::<T>(), None, pick,
                            move |a, b| match b { None => a, Some(v) => pick(a, v) },
                            |a| a.unwrap_or_default())
                    }
                    ReduceOp::All | ReduceOp::Any => {
                        let is_all = matches!(kind, ReduceOp::All);
                        reduce::<T, bool, bool>(p, &d.layout, dims, o.ptr::<bool>(), is_all,
                            move |a, v| if is_all { a && v.is_nonzero() } else { a || v.is_nonzero() },
                            move |a, b| if is_all { a && b } else { a || b },
                            |a| a)
                    }
                }
            }
        });
        Ok(())
    }

    fn max_min_dim(&self, is_max: bool, data: &TensorData, d: usize, vd: &TensorData, id: &TensorData) -> Result<()> {
        dispatch!(data.dtype, T => {
            let p = SendPtr(data.storage.ptr() as *mut T);
            // SAFETY: T (and i64 for indices) is the type of each output's dtype.
            let (vp, ip) = (SendPtr(unsafe { vd.ptr::<T>() }), SendPtr(unsafe { id.ptr::<i64>() }));
            let layout = data.layout.at_least_1d();
            lanes(&layout, d, |i, base, n, s| {
                // SAFETY: lane offsets address the input storage; i < numel(out).
                unsafe {
                    let q = p.get().add(base) as *const T;
                    let (mut best, mut bi) = (*q, 0usize);
                    for j in 1..n {
                        let v = *q.add(j * s);
                        if is_nan(best) { break; }
                        if is_nan(v) || beats(is_max, v, best) {
                            best = v;
                            bi = j;
                        }
                    }
                    *vp.get().add(i) = best;
                    *ip.get().add(i) = bi as i64;
                }
            });
        });
        Ok(())
    }

    fn cumulative(&self, is_sum: bool, data: &TensorData, d: usize, od: &TensorData) -> Result<()> {
        let ol = od.layout.clone();
        let layout = data.layout.at_least_1d();
        let olayout = ol.at_least_1d();
        dispatch!(data.dtype, T => {
            let p = SendPtr(data.storage.ptr() as *mut T);
            let op = SendPtr(od.storage.ptr() as *mut T);
            let (kept, _) = split_dims(&olayout, &[d]);
            let ostride = olayout.strides[d];
            lanes(&layout, d, |i, base, n, s| {
                let ob = offset_of(&kept, i);
                // SAFETY: lane offsets address input/output storages of T.
                unsafe {
                    let (q, w) = (p.get().add(base) as *const T, op.get().add(ob));
                    if T::DTYPE.is_float() {
                        let mut acc = if is_sum { 0.0 } else { 1.0 };
                        for j in 0..n {
                            let v = (*q.add(j * s)).to_f64();
                            acc = if is_sum { acc + v } else { acc * v };
                            *w.add(j * ostride) = T::from_f64(acc);
                        }
                    } else {
                        let mut acc: i64 = if is_sum { 0 } else { 1 };
                        for j in 0..n {
                            let v = (*q.add(j * s)).to_i64();
                            acc = if is_sum { acc.wrapping_add(v) } else { acc.wrapping_mul(v) };
                            *w.add(j * ostride) = T::from_i64(acc);
                        }
                    }
                }
            });
        });
        Ok(())
    }

    fn softmax(&self, log: bool, data: &TensorData, d: usize, od: &TensorData) -> Result<()> {
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
            let per = (super::GRAIN / n).max(1);
            if rows > per && super::num_threads() > 1 {
                let yp = SendPtr(ys.as_mut_ptr());
                super::par_for(rows.div_ceil(per), |c| {
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
            }, _ => bail!(Runtime, "internal: softmax of {}", data.dtype.name()));
        }
        Ok(())
    }

    fn sort(&self, data: &TensorData, d: usize, descending: bool, vd: &TensorData, id: &TensorData) -> Result<()> {
        let layout = data.layout.at_least_1d();
        let vl = vd.layout.at_least_1d();
        let (kept, _) = split_dims(&vl, &[d]);
        let ostride = vl.strides[d];
        // A lane's scratch that could not be allocated (reported after the loop).
        let oom = std::sync::atomic::AtomicUsize::new(0);
        dispatch!(data.dtype, T => {
            let p = SendPtr(data.storage.ptr() as *mut T);
            let (vp, ip) = (SendPtr(vd.storage.ptr() as *mut T), SendPtr(id.storage.ptr() as *mut i64));
            lanes(&layout, d, |i, base, n, s| {
                let ob = offset_of(&kept, i);
                // SAFETY: offsets address the storages; lanes are disjoint.
                unsafe {
                    let q = p.get().add(base) as *const T;
                    let Ok(mut v) = crate::storage::try_collect(n, (0..n).map(|j| (*q.add(j * s), j as i64))) else {
                        oom.store(n.saturating_mul(std::mem::size_of::<(T, i64)>()), std::sync::atomic::Ordering::Relaxed);
                        return;
                    };
                    let key = |a: &T, b: &T| -> std::cmp::Ordering {
                        let (an, bn) = (is_nan(*a), is_nan(*b));
                        match (an, bn) {
                            (true, true) => std::cmp::Ordering::Equal,
                            (true, false) => std::cmp::Ordering::Greater,
                            (false, true) => std::cmp::Ordering::Less,
                            _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
                        }
                    };
                    if descending {
                        v.sort_by(|a, b| key(&b.0, &a.0));
                    } else {
                        v.sort_by(|a, b| key(&a.0, &b.0));
                    }
                    for (j, (val, ix)) in v.into_iter().enumerate() {
                        *vp.get().add(ob + j * ostride) = val;
                        *ip.get().add(ob + j * ostride) = ix;
                    }
                }
            });
        });
        match oom.into_inner() {
            0 => Ok(()),
            nbytes => Err(crate::storage::out_of_memory(nbytes)),
        }
    }

    fn select(&self, data: &TensorData, d: usize, k: usize, largest: bool, sorted: bool, vd: &TensorData, id: &TensorData) -> Result<()> {
        let layout = data.layout.at_least_1d();
        let vl = vd.layout.at_least_1d();
        let (kept, _) = split_dims(&vl, &[d]);
        let (ostride, rows) = (vl.strides[d], kept.numel());
        if k == 0 || rows == 0 {
            return Ok(());
        }
        // The first failure (an allocation) of any lane; lanes may run on worker threads.
        let failed = std::sync::Mutex::new(None);
        dispatch!(data.dtype, T => {
            let p = SendPtr(data.storage.ptr() as *mut T);
            let (vp, ip) = (SendPtr(vd.storage.ptr() as *mut T), SendPtr(id.storage.ptr() as *mut i64));
            lanes(&layout, d, |i, base, n, s| {
                let ob = offset_of(&kept, i);
                // SAFETY: the lane's n elements at stride s from `base` lie in x's storage.
                match unsafe { super::select::best_k(p.get().add(base) as *const T, s, n, k, largest, rows == 1) } {
                    Ok(mut v) => {
                        if sorted {
                            super::select::sort_best_first(&mut v, largest);
                        }
                        for (j, (val, ix)) in v.into_iter().enumerate() {
                            // SAFETY: j < k: the output lane's elements; lanes are disjoint.
                            unsafe {
                                *vp.get().add(ob + j * ostride) = val;
                                *ip.get().add(ob + j * ostride) = ix;
                            }
                        }
                    }
                    Err(e) => {
                        failed.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                    }
                }
            });
        });
        failed.into_inner().unwrap_or_else(|e| e.into_inner()).map_or(Ok(()), Err)
    }

    fn median(&self, data: &TensorData, d: usize, ignore_nan: bool, vd: &TensorData, id: &TensorData) -> Result<()> {
        let layout = data.layout.at_least_1d();
        let (kept, _) = split_dims(&vd.layout.at_least_1d(), &[d]);
        let failed = std::sync::Mutex::new(None);
        dispatch!(data.dtype, T => {
            let p = SendPtr(data.storage.ptr() as *mut T);
            let (vp, ip) = (SendPtr(vd.storage.ptr() as *mut T), SendPtr(id.storage.ptr() as *mut i64));
            lanes(&layout, d, |i, base, n, s| {
                let ob = offset_of(&kept, i);
                // SAFETY: the lane's n (≥ 1, checked by the op) elements lie in x's storage.
                match unsafe { super::select::median(p.get().add(base) as *const T, s, n, ignore_nan) } {
                    // SAFETY: ob is this lane's output element; lanes are disjoint.
                    Ok((val, ix)) => unsafe {
                        *vp.get().add(ob) = val;
                        *ip.get().add(ob) = ix;
                    },
                    Err(e) => {
                        failed.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                    }
                }
            });
        });
        failed.into_inner().unwrap_or_else(|e| e.into_inner()).map_or(Ok(()), Err)
    }

    fn gather(&self, xd: &TensorData, d: usize, _index: &TensorData, idx: &[i64], od: &TensorData) -> Result<()> {
        let xl = xd.layout.at_least_1d();
        let sub = Layout { shape: od.layout.shape.clone(), strides: xl.strides.clone(), offset: xl.offset };
        let sd = xl.strides[d];
        dispatch!(xd.dtype, T => {
            // SAFETY: T (and i64 for indices) is the type of each output's dtype.
            let (px, po) = (xd.storage.ptr() as *const T, unsafe { od.ptr::<T>() });
            for (i, &v) in idx.iter().enumerate() {
                let mut sub_i = sub.clone();
                sub_i.strides[d] = 0;
                let off = offset_of(&sub_i, i) + v as usize * sd;
                // SAFETY: off is in bounds (index checked); i < numel(out).
                unsafe { *po.add(i) = *px.add(off) };
            }
        });
        Ok(())
    }

    fn scatter(&self, od: &TensorData, d: usize, index: &TensorData, idx: &[i64], sd: &TensorData, add: bool) -> Result<()> {
        let ishape = &index.layout.shape;
        let ol = od.layout.at_least_1d();
        let sl = sd.layout.at_least_1d();
        let mut osub = Layout { shape: ishape.clone(), strides: ol.strides.clone(), offset: 0 };
        osub.strides[d] = 0;
        let ssub = Layout { shape: ishape.clone(), strides: sl.strides.clone(), offset: sl.offset };
        let od_stride = ol.strides[d];
        dispatch!(od.dtype, T => {
            let (po, ps) = (od.storage.ptr() as *mut T, sd.storage.ptr() as *const T);
            for (i, &v) in idx.iter().enumerate() {
                let o = offset_of(&osub, i) + v as usize * od_stride;
                let s = offset_of(&ssub, i);
                // SAFETY: offsets are in bounds (checked by the op); serial, so duplicate
                // indices accumulate deterministically.
                unsafe {
                    let val = *ps.add(s);
                    *po.add(o) = if add { Num::add(*po.add(o), val) } else { val };
                }
            }
        });
        Ok(())
    }

    fn index_select(&self, xd: &TensorData, d: usize, idx: &[i64], od: &TensorData) -> Result<()> {
        let shape = &xd.layout.shape;
        if d == 0 && xd.layout.select(0, 0).is_contiguous() {
            // Rows of a row-major source (DataLoader batches, embedding lookups): one
            // memcpy per index instead of a strided walk with per-row layout set-up.
            let row: usize = shape[1..].iter().product();
            let (s0, es) = (xd.layout.strides[0], xd.dtype.size());
            // SAFETY: each source row lies inside the storage (indices checked by the op);
            // destination rows tile the fresh contiguous output.
            unsafe {
                let src = xd.storage.ptr().add(xd.layout.offset * es);
                let dst = od.storage.ptr();
                for (i, &v) in idx.iter().enumerate() {
                    std::ptr::copy_nonoverlapping(src.add(v as usize * s0 * es), dst.add(i * row * es), row * es);
                }
            }
        } else {
            let ol = od.layout.clone();
            dispatch!(xd.dtype, T => {
                for (i, &v) in idx.iter().enumerate() {
                    let src = xd.layout.select(d, v as usize);
                    let dst = ol.select(d, i);
                    // SAFETY: select layouts address the respective storages.
                    unsafe {
                        super::cast_copy::<T, T>((xd.storage.ptr() as *const T).add(src.offset), &src, (od.storage.ptr() as *mut T).add(dst.offset), &dst)
                    }
                }
            });
        }
        Ok(())
    }

    fn bmm(&self, ad: &TensorData, bd: &TensorData, bias: Option<&TensorData>, od: &TensorData) -> Result<()> {
        use super::matmul::{matmul, Mat};
        let (la, lb) = (&ad.layout, &bd.layout);
        let nd = la.ndim();
        let (m, k, n) = (la.shape[nd - 2], la.shape[nd - 1], lb.shape[nd - 1]);
        let batch = &la.shape[..nd - 2];
        let nb: usize = batch.iter().product();
        if let Some(seeded) = bias {
            super::cast_copy_data(seeded, od);
        }
        let acc = bias.is_some();
        let ba = Layout { shape: crate::shape::Dims::from_slice(batch), strides: la.strides[..nd - 2].into(), offset: la.offset };
        let bb = Layout { shape: crate::shape::Dims::from_slice(batch), strides: lb.strides[..nd - 2].into(), offset: lb.offset };
        let (ars, acs, brs, bcs) = (la.strides[nd - 2] as isize, la.strides[nd - 1] as isize, lb.strides[nd - 2] as isize, lb.strides[nd - 1] as isize);
        dispatch!(ad.dtype, T => {
            // SAFETY: T (and i64 for indices) is the type of each output's dtype.
            let (pa, pb, po) = (SendPtr(ad.storage.ptr() as *mut T), SendPtr(bd.storage.ptr() as *mut T), SendPtr(unsafe { od.ptr::<T>() }));
            let one = |i: usize, threaded: bool| {
                let oa = offset_of(&ba, i);
                let ob = offset_of(&bb, i);
                // SAFETY: offsets address a's/b's storages; the output slice i is disjoint.
                unsafe {
                    matmul::<T>(m, n, k,
                        Mat { ptr: pa.get().add(oa) as *const T, rs: ars, cs: acs },
                        Mat { ptr: pb.get().add(ob) as *const T, rs: brs, cs: bcs },
                        po.get().add(i * m * n), threaded, acc)
                }
            };
            if nb > 1 && m * n * k < 128 * 128 * 128 && super::num_threads() > 1 {
                super::par_for(nb, |i| one(i, false));
            } else {
                for i in 0..nb {
                    one(i, true);
                }
            }
        });
        Ok(())
    }

    fn philox(&self, out: &TensorData, draw: Draw, seed: u64, first_block: u64) -> Result<()> {
        let n = out.layout.numel();
        // SAFETY (all arms): `out` is a fresh contiguous CPU buffer of n elements of the
        // arm's type, written by nothing else while the slice lives.
        unsafe {
            match (draw, out.dtype) {
                (Draw::Uniform, DType::F32) => crate::random::fill_uniform_f32(std::slice::from_raw_parts_mut(out.ptr::<f32>(), n), seed, first_block),
                (Draw::Uniform, DType::F64) => crate::random::fill_uniform_f64(std::slice::from_raw_parts_mut(out.ptr::<f64>(), n), seed, first_block),
                (Draw::Normal, DType::F64) => crate::random::fill_normal_f64(std::slice::from_raw_parts_mut(out.ptr::<f64>(), n), seed, first_block),
                (Draw::Int { low, span }, DType::I64) => crate::random::fill_randint(std::slice::from_raw_parts_mut(out.ptr::<i64>(), n), low, span, seed, first_block),
                (_, other) => bail!(Runtime, "internal: philox draw into {}", other.name()),
            }
        }
        Ok(())
    }
}
