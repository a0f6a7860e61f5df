//! Reductions. Kernels: sum/prod/amax/amin/all/any (any set of dims) and the along-a-dim
//! family (max/min with indices, argmax, cumsum, cumprod, sort). mean/var/std/norm/
//! logsumexp/count_nonzero are composites: no kernel, no backward of their own.


use crate::autograd::{needs_grad, record, SavedTensor};
use crate::cpu::math::is_nan;
use crate::cpu::reduce::{lanes, reduce, sum_f32_contig};
use crate::cpu::SendPtr;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::shape::{fmt_shape, wrap_dim, wrap_dims};
use crate::tensor::Tensor;
use crate::{bail, dispatch};

/// var/std's correction from their arguments: `correction` when given, else 0 for
/// `unbiased=False` and 1 otherwise (Bessel's correction, PyTorch's default).
pub fn var_correction(correction: Option<f64>, unbiased: Option<bool>) -> f64 {
    match (correction, unbiased) {
        (Some(c), _) => c,
        (None, Some(false)) => 0.0,
        _ => 1.0,
    }
}

/// `v > best` for a max, `v < best` for a min. A generic function rather than inline
/// `>`/`<`, which the `dispatch!` arms would spell as order comparisons on `bool`.
#[inline(always)]
fn beats<T: PartialOrd>(is_max: bool, v: T, best: T) -> bool {
    if is_max { v > best } else { v < best }
}

/// Resolve `dims` (None = all) into sorted unique dims and the output shape.
fn reduce_shape(shape: &[usize], dims: Option<&[i64]>, keepdim: bool) -> Result<(Vec<usize>, Vec<usize>)> {
    let n = shape.len();
    let mut ds = match dims {
        None => (0..n).collect(),
        Some([]) => (0..n).collect(),
        Some(d) => {
            if n == 0 {
                // 0-d tensors accept dim 0 / -1.
                wrap_dims(d, 0)?;
                vec![]
            } else {
                wrap_dims(d, n)?
            }
        }
    };
    ds.sort_unstable();
    let mut out = vec![];
    for (i, &s) in shape.iter().enumerate() {
        if ds.contains(&i) {
            if keepdim {
                out.push(1);
            }
        } else {
            out.push(s);
        }
    }
    Ok((ds, out))
}

/// Gradient of a reduction: `g` (reduced shape) broadcast back to `in_shape`.
fn expand_back(g: &Tensor, in_shape: &[usize], dims: &[usize], keepdim: bool) -> Result<Tensor> {
    let mut g = g.clone();
    if !keepdim {
        for &d in dims {
            g = g.unsqueeze(d as i64)?;
        }
    }
    g.expand_usize(in_shape)
}

#[derive(Clone, Copy)]
enum RedKind {
    Sum,
    Prod,
    Max,
    Min,
    All,
    Any,
}

/// Run a reduction kernel over `dims`, producing a contiguous tensor of `out_shape`.
fn run_reduce(x: &Tensor, dims: &[usize], out_shape: &[usize], kind: RedKind, out_dtype: DType) -> Result<Tensor> {
    if x.device().is_cuda() {
        return run_reduce_cuda(x, dims, out_shape, kind, out_dtype);
    }
    let d = x.data().clone();
    let out = Tensor::empty(out_shape, out_dtype, x.device())?;
    let o = out.data().clone();
    let base = d.storage.ptr();
    dispatch!(d.dtype, T => {
        let p = base as *const T;
        // SAFETY (all arms): p is the storage start of T elements; the layout's offsets
        // address it; o is a fresh contiguous buffer of out_shape elements of its dtype.
        unsafe {
            match kind {
                RedKind::Sum | RedKind::Prod => {
                    let is_sum = matches!(kind, RedKind::Sum);
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
                            dispatch!(out_dtype, O => column_sums::<T, O>(xs, nrows, kcols, o.ptr::<O>()));
                        } else {
                            dispatch!(out_dtype, O => reduce::<T, f64, O>(p, &d.layout, dims, o.ptr::<O>(),
                                if is_sum { 0.0 } else { 1.0 },
                                move |a, v| if is_sum { a + v.to_f64() } else { a * v.to_f64() },
                                move |a, b| if is_sum { a + b } else { a * b },
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
                RedKind::Max | RedKind::Min => {
                    let is_max = matches!(kind, RedKind::Max);
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
                RedKind::All | RedKind::Any => {
                    let is_all = matches!(kind, RedKind::All);
                    reduce::<T, bool, bool>(p, &d.layout, dims, o.ptr::<bool>(), is_all,
                        move |a, v| if is_all { a && v.is_nonzero() } else { a || v.is_nonzero() },
                        move |a, b| if is_all { a && b } else { a || b },
                        |a| a)
                }
            }
        }
    });
    Ok(out)
}

/// `run_reduce` on CUDA. The kernels' output dtypes are fixed (sums of integers are
/// int64); another requested dtype is a cast afterwards. all/any are min/max over bool.
fn run_reduce_cuda(x: &Tensor, dims: &[usize], out_shape: &[usize], kind: RedKind, out_dtype: DType) -> Result<Tensor> {
    let dt = x.dtype();
    let (op, src, kdt) = match kind {
        RedKind::Sum | RedKind::Prod => {
            let op = if matches!(kind, RedKind::Sum) { "sum" } else { "prod" };
            (op, x.clone(), if dt.is_float() { dt } else { DType::I64 })
        }
        RedKind::Max => ("max", x.clone(), dt),
        RedKind::Min => ("min", x.clone(), dt),
        RedKind::All => ("min", x.to_dtype_raw(DType::Bool)?, DType::Bool),
        RedKind::Any => ("max", x.to_dtype_raw(DType::Bool)?, DType::Bool),
    };
    let out = Tensor::empty_on(out_shape, kdt, x.device())?;
    crate::cuda::kernels::reduce(op, &src.data(), dims, &out.data())?;
    if kdt == out_dtype { Ok(out) } else { out.to_dtype_raw(out_dtype) }
}

/// Run a row-wise CUDA kernel along `dim` of `x` (cumsum, softmax, ...) into a new
/// contiguous tensor of x's shape (a 0-d x counts as shape [1]) and `out_dtype`.
pub(crate) fn along_dim_cuda(op: &str, x: &crate::tensor::TensorData, dim: usize, out_dtype: DType) -> Result<Tensor> {
    let (x, perm, pshape) = rows_last(x, dim);
    let tmp = Tensor::empty_on(&pshape, out_dtype, x.storage.device())?;
    crate::cuda::kernels::along_dim(op, &x, dim, &tmp.data())?;
    dims_back(tmp, &perm)
}

/// The row kernels write [outer, inner] with the row dim last: `x` (0-d as [1]), the dim
/// order of that output and its shape.
fn rows_last(x: &crate::tensor::TensorData, dim: usize) -> (crate::tensor::TensorData, Vec<usize>, Vec<usize>) {
    let x = crate::tensor::TensorData { layout: x.layout.at_least_1d(), ..x.clone() };
    let nd = x.layout.ndim();
    let perm: Vec<usize> = (0..nd).filter(|&i| i != dim).chain(std::iter::once(dim)).collect();
    let pshape = perm.iter().map(|&i| x.layout.shape[i]).collect();
    (x, perm, pshape)
}

/// `tmp` (dims in the order `perm`) with its dims back in their original order, as a
/// contiguous tensor: tmp itself when the row dim already was last (softmax over the last
/// dim, the common case), else a copy.
fn dims_back(tmp: Tensor, perm: &[usize]) -> Result<Tensor> {
    if perm.iter().enumerate().all(|(k, &p)| k == p) {
        return Ok(tmp);
    }
    let mut inv = vec![0usize; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
    let td = tmp.data().clone();
    let back = td.layout.permute(&inv);
    let out = Tensor::empty_on(&back.shape, td.dtype, td.storage.device())?;
    super::copy_data(&crate::tensor::TensorData { layout: back, ..td }, &out.data())?;
    Ok(out)
}

/// `sort` on CUDA: (values, indices) of `shape`.
fn sort_cuda(x: &crate::tensor::TensorData, d: usize, descending: bool, shape: &[usize]) -> Result<(Tensor, Tensor)> {
    let (x, perm, pshape) = rows_last(x, d);
    let dev = x.storage.device();
    let (v, i) = (Tensor::empty_on(&pshape, x.dtype, dev)?, Tensor::empty_on(&pshape, DType::I64, dev)?);
    crate::cuda::kernels::sort(&x, d, descending, &v.data(), &i.data())?;
    Ok((dims_back(v, &perm)?.reshape_usize(shape)?, dims_back(i, &perm)?.reshape_usize(shape)?))
}

impl Tensor {
    /// `sum(dim=None, keepdim=False, dtype=None)`.
    pub fn sum_dims(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        let src = match dtype {
            Some(dt) if dt != self.dtype() => self.to_dtype(dt)?,
            _ => self.clone(),
        };
        let in_dt = src.dtype();
        let out_dt = if dtype.is_some() || in_dt.is_float() { in_dt } else { DType::I64 };
        let shape = src.shape();
        let (ds, out_shape) = reduce_shape(&shape, dims, keepdim)?;
        let out = run_reduce(&src, &ds, &out_shape, RedKind::Sum, out_dt)?;
        if needs_grad(&[&src]) {
            let name = if dims.is_none() || dims == Some(&[]) { "SumBackward0" } else { "SumBackward1" };
            record(name, &[&src], &[&out], move |_, g| {
                Ok(vec![g[0].as_ref().map(|g| expand_back(g, &shape, &ds, keepdim)).transpose()?])
            });
        }
        Ok(out)
    }
    pub fn sum(&self) -> Result<Tensor> {
        self.sum_dims(None, false, None)
    }

    /// Sum broadcast dims away so the result has `shape` (gradient of broadcasting).
    pub fn sum_to_size(&self, shape: &[usize]) -> Result<Tensor> {
        let cur = self.shape();
        if cur == shape {
            return Ok(self.clone());
        }
        if shape.len() > cur.len() {
            bail!(Runtime, "size {} is not expandable to size {}", fmt_shape(shape), fmt_shape(&cur));
        }
        let lead = cur.len() - shape.len();
        let mut dims: Vec<i64> = (0..lead as i64).collect();
        for i in 0..shape.len() {
            if shape[i] == 1 && cur[lead + i] != 1 {
                dims.push((lead + i) as i64);
            } else if shape[i] != cur[lead + i] {
                bail!(Runtime, "size {} is not expandable to size {}", fmt_shape(shape), fmt_shape(&cur));
            }
        }
        if dims.is_empty() {
            return self.reshape_usize(shape);
        }
        self.sum_dims(Some(&dims), true, None)?.reshape_usize(shape)
    }

    pub fn prod_dims(&self, dim: Option<i64>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        let src = match dtype {
            Some(dt) if dt != self.dtype() => self.to_dtype(dt)?,
            _ => self.clone(),
        };
        let in_dt = src.dtype();
        let out_dt = if in_dt.is_float() { in_dt } else { DType::I64 };
        let shape = src.shape();
        let dd = dim.map(|d| [d]);
        let (ds, out_shape) = reduce_shape(&shape, dd.as_ref().map(|d| &d[..]), keepdim)?;
        let out = run_reduce(&src, &ds, &out_shape, RedKind::Prod, out_dt)?;
        if needs_grad(&[&src]) {
            let sx = SavedTensor::input(&src);
            let sy = SavedTensor::output(&out, 0);
            record("ProdBackward0", &[&src], &[&out], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let (x, y) = (sx.unpack(ctx)?, sy.unpack(ctx)?);
                // d prod / d x_i = prod_{j != i} x_j, computed without dividing by x_i so
                // that zeros are handled: product of exclusive prefix and suffix products.
                let gy = expand_back(&g.mul(&y)?, &shape, &ds, keepdim)?;
                let has_zero = x.eq_s(0.0)?.any()?.item()?.is_nonzero();
                if !has_zero {
                    return Ok(vec![Some(gy.div(&x)?)]);
                }
                let others = prod_except_each(&x, &ds)?;
                let ge = expand_back(g, &shape, &ds, keepdim)?;
                Ok(vec![Some(ge.mul(&others)?)])
            });
        }
        Ok(out)
    }

    /// amax/amin over dims (ties share the gradient evenly).
    fn amax_amin(&self, dims: Option<&[i64]>, keepdim: bool, is_max: bool) -> Result<Tensor> {
        let shape = self.shape();
        let (ds, out_shape) = reduce_shape(&shape, dims, keepdim)?;
        if self.numel() == 0 && (dims.is_none() || dims == Some(&[])) {
            bail!(
                Runtime,
                "{}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
                if is_max { "max" } else { "min" }
            );
        }
        if let Some(&bad) = ds.iter().find(|&&d| shape[d] == 0) {
            bail!(
                Index,
                "{}(): Expected reduction dim {} to have non-zero size.",
                if is_max { "amax" } else { "amin" },
                bad
            );
        }
        if self.numel() == 0 && (dims.is_none() || dims == Some(&[])) {
            bail!(
                Runtime,
                "{}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
                if is_max { "amax" } else { "amin" }
            );
        }
        if shape.is_empty() && self.numel() == 0 {
            bail!(Index, "{}(): Expected reduction dim 0 to have non-zero size.", if is_max { "amax" } else { "amin" });
        }
        let out = run_reduce(self, &ds, &out_shape, if is_max { RedKind::Max } else { RedKind::Min }, self.dtype())?;
        if needs_grad(&[self]) {
            let sx = SavedTensor::input(self);
            let sy = SavedTensor::output(&out, 0);
            record(if is_max { "AmaxBackward0" } else { "AminBackward0" }, &[self], &[&out], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let (x, y) = (sx.unpack(ctx)?, sy.unpack(ctx)?);
                let mask = x.eq(&expand_back(&y, &shape, &ds, keepdim)?)?.to_dtype(g.dtype())?;
                let dims_i: Vec<i64> = ds.iter().map(|&d| d as i64).collect();
                let count = mask.sum_dims(Some(&dims_i), true, None)?;
                let ge = expand_back(g, &shape, &ds, keepdim)?;
                Ok(vec![Some(ge.mul(&mask)?.div(&count)?)])
            });
        }
        Ok(out)
    }
    pub fn amax(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        self.amax_amin(dims, keepdim, true)
    }
    pub fn amin(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        self.amax_amin(dims, keepdim, false)
    }
    /// Full `max()`: 0-d result.
    pub fn max_all(&self) -> Result<Tensor> {
        if self.numel() == 0 {
            bail!(Runtime, "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
        }
        self.amax(None, false)
    }
    pub fn min_all(&self) -> Result<Tensor> {
        if self.numel() == 0 {
            bail!(Runtime, "min(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
        }
        self.amin(None, false)
    }

    /// `all(dim, keepdim)`: bool, except uint8 in, uint8 out (PyTorch's legacy rule).
    pub fn all_dims(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        let (ds, out_shape) = reduce_shape(&self.shape(), dims, keepdim)?;
        let r = run_reduce(self, &ds, &out_shape, RedKind::All, DType::Bool)?;
        if self.dtype() == DType::U8 { r.to_dtype(DType::U8) } else { Ok(r) }
    }
    /// `any(dim, keepdim)`: bool, except uint8 in, uint8 out.
    pub fn any_dims(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        let (ds, out_shape) = reduce_shape(&self.shape(), dims, keepdim)?;
        let r = run_reduce(self, &ds, &out_shape, RedKind::Any, DType::Bool)?;
        if self.dtype() == DType::U8 { r.to_dtype(DType::U8) } else { Ok(r) }
    }
    pub fn all(&self) -> Result<Tensor> {
        self.all_dims(None, false)
    }
    pub fn any(&self) -> Result<Tensor> {
        self.any_dims(None, false)
    }

    // ---- composites ----------------------------------------------------------------
    pub fn mean_dims(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        let dt = dtype.unwrap_or(self.dtype());
        if !dt.is_float() {
            bail!(
                Runtime,
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {}",
                super::pretty_dtype(dt)
            );
        }
        let shape = self.shape();
        let (ds0, _) = reduce_shape(&shape, dims, keepdim)?;
        let n: usize = ds0.iter().map(|&d| shape[d]).product();
        let src = if dt != self.dtype() { self.to_dtype(dt)? } else { self.clone() };
        let (ds, out_shape) = reduce_shape(&shape, dims, keepdim)?;
        let s = {
            let _g = crate::autograd::NoGradGuard::new();
            run_reduce(&src, &ds, &out_shape, RedKind::Sum, dt)?.div_s(n as f64)?
        };
        if needs_grad(&[&src]) {
            let name = if dims.is_none() || dims == Some(&[]) { "MeanBackward0" } else { "MeanBackward1" };
            record(name, &[&src], &[&s], move |_, g| {
                Ok(vec![g[0].as_ref().map(|g| expand_back(&g.div_s(n as f64)?, &shape, &ds, keepdim)).transpose()?])
            });
        }
        Ok(s)
    }
    pub fn mean(&self) -> Result<Tensor> {
        self.mean_dims(None, false, None)
    }

    /// `var(dim, correction=1, keepdim)`.
    pub fn var_dims(&self, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            bail!(Runtime, "std and var only support floating point and complex dtypes");
        }
        let shape = self.shape();
        let (ds, _) = reduce_shape(&shape, dims, keepdim)?;
        let n: usize = ds.iter().map(|&d| shape[d]).product();
        let dims_i: Vec<i64> = ds.iter().map(|&d| d as i64).collect();
        let mu = self.mean_dims(Some(&dims_i), true, None)?;
        let c = self.sub(&mu)?;
        let ss = c.mul(&c)?.sum_dims(Some(&dims_i), keepdim, None)?;
        ss.div_s((n as f64 - correction).max(0.0))
    }
    pub fn std_dims(&self, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
        self.var_dims(dims, correction, keepdim)?.sqrt()
    }

    /// `norm(p, dim, keepdim)` for p in {finite, inf, -inf, 0}.
    pub fn norm(&self, p: f64, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            bail!(Runtime, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}", super::pretty_dtype(self.dtype()));
        }
        let a = self.abs()?;
        if p == f64::INFINITY {
            return a.amax(dims, keepdim);
        }
        if p == f64::NEG_INFINITY {
            return a.amin(dims, keepdim);
        }
        if p == 0.0 {
            return a.ne(Scalar::Float(0.0))?.to_dtype(self.dtype())?.sum_dims(dims, keepdim, None);
        }
        if p == 1.0 {
            return a.sum_dims(dims, keepdim, None);
        }
        if p == 2.0 {
            // sqrt(sum x^2) has an infinite derivative at 0; PyTorch defines the subgradient
            // as 0 there: route the gradient through a safe denominator.
            return self.mul(self)?.sum_dims(dims, keepdim, None)?.sqrt_safe();
        }
        // General p, one node: the chain rule through pow would give 0 * inf = NaN where
        // x = 0 (for p < 1) and wherever the norm is 0; PyTorch's subgradient is 0 there.
        // d/dx = g * sgn(x) |x|^(p-1) / y^(p-1), zeroed where x = 0 (y = 0 only where a
        // whole slice is 0, so that mask covers it).
        let shape = self.shape();
        let (ds, _) = reduce_shape(&shape, dims, keepdim)?;
        let y = {
            let _g = crate::autograd::NoGradGuard::new();
            a.pow_s(p)?.sum_dims(dims, keepdim, None)?.pow_s(1.0 / p)?
        };
        if needs_grad(&[self]) {
            let sx = SavedTensor::input(self);
            let sy = SavedTensor::output(&y, 0);
            record("NormBackward1", &[self], &[&y], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let x = sx.unpack(ctx)?;
                let y = expand_back(&sy.unpack(ctx)?, &shape, &ds, keepdim)?;
                let g = expand_back(g, &shape, &ds, keepdim)?;
                let d = x.sign()?.mul(&x.abs()?.pow_s(p - 1.0)?)?.div(&y.pow_s(p - 1.0)?)?;
                Ok(vec![Some(g.mul(&d)?.masked_fill(&x.eq_s(0.0)?, Scalar::Float(0.0))?)])
            });
        }
        Ok(y)
    }

    /// sqrt whose gradient at 0 is 0 instead of inf*0 = NaN (norm's subgradient).
    fn sqrt_safe(&self) -> Result<Tensor> {
        let y = {
            let _g = crate::autograd::NoGradGuard::new();
            self.sqrt()?
        };
        if needs_grad(&[self]) {
            let sy = SavedTensor::output(&y, 0);
            record("NormBackward1", &[self], &[&y], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let y = sy.unpack(ctx)?;
                let zero = y.eq_s(0.0)?;
                let den = y.mul_s(2.0)?.masked_fill(&zero, Scalar::Float(1.0))?;
                Ok(vec![Some(g.div(&den)?.masked_fill(&zero, Scalar::Float(0.0))?)])
            });
        }
        Ok(y)
    }

    pub fn logsumexp(&self, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        let x = if self.dtype().is_float() { self.clone() } else { self.to_dtype(crate::dtype::default_dtype())? };
        if x.numel() == 0 {
            return x.exp()?.sum_dims(Some(dims), keepdim, None)?.log();
        }
        let m = x.amax(Some(dims), true)?.detach();
        // Infinite maxima would give inf - inf = NaN: shift by 0 there instead.
        let m = m.masked_fill(&m.isinf()?, Scalar::Float(0.0))?;
        let s = x.sub(&m)?.exp()?.sum_dims(Some(dims), true, None)?.log()?.add(&m)?;
        if keepdim {
            Ok(s)
        } else {
            let mut ds = wrap_dims(dims, x.ndim())?;
            ds.sort_unstable();
            let mut s = s;
            for &d in ds.iter().rev() {
                s = s.squeeze(Some(&[d as i64]))?;
            }
            Ok(s)
        }
    }

    pub fn count_nonzero(&self, dims: Option<&[i64]>) -> Result<Tensor> {
        self.ne(Scalar::Int(0))?.sum_dims(dims, false, Some(DType::I64))
    }

    // ---- along one dim -------------------------------------------------------------
    /// `max(dim, keepdim)` / `min(dim, keepdim)`: (values, indices). NaN wins.
    pub fn max_dim(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        self.minmax_dim(dim, keepdim, true)
    }
    pub fn min_dim(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        self.minmax_dim(dim, keepdim, false)
    }
    fn minmax_dim(&self, dim: i64, keepdim: bool, is_max: bool) -> Result<(Tensor, Tensor)> {
        let shape = self.shape();
        let d = wrap_dim(dim, shape.len())?;
        let len = shape.get(d).copied().unwrap_or(1);
        if len == 0 {
            bail!(
                Index,
                "{}(): Expected reduction dim {} to have non-zero size.",
                if is_max { "max" } else { "min" },
                d
            );
        }
        let (_, out_shape) = reduce_shape(&shape, Some(&[d as i64]), keepdim)?;
        let data = self.data().clone();
        let vals = Tensor::empty_on(&out_shape, data.dtype, self.device())?;
        let idx = Tensor::empty_on(&out_shape, DType::I64, self.device())?;
        if self.device().is_cuda() {
            let dims: Vec<usize> = if shape.is_empty() { vec![] } else { vec![d] };
            let (v, a) = if is_max { ("max", "argmax") } else { ("min", "argmin") };
            crate::cuda::kernels::reduce(v, &data, &dims, &vals.data())?;
            crate::cuda::kernels::reduce(a, &data, &dims, &idx.data())?;
        } else {
            let (vd, id) = (vals.data(), idx.data());
            dispatch!(data.dtype, T => {
                let p = SendPtr(data.storage.ptr() as *mut T);
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
        }
        if needs_grad(&[self]) {
            let idx_c = idx.clone();
            record(if is_max { "MaxBackward0" } else { "MinBackward0" }, &[self], &[&vals], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let (g, ix) = if keepdim { (g.clone(), idx_c.clone()) } else { (g.unsqueeze(d as i64)?, idx_c.unsqueeze(d as i64)?) };
                let z = Tensor::zeros(&shape, g.dtype(), g.device())?;
                Ok(vec![Some(z.scatter(d as i64, &ix, &g)?)])
            });
        }
        Ok((vals, idx))
    }

    pub fn argmax(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        match dim {
            Some(d) => Ok(self.max_dim(d, keepdim)?.1),
            None => {
                if self.numel() == 0 {
                    bail!(Index, "argmax(): Expected reduction dim to be specified for input.numel() == 0.");
                }
                let r = self.detach().reshape(&[-1])?.max_dim(0, false)?.1;
                if keepdim { r.reshape_usize(&vec![1; self.ndim()]) } else { Ok(r) }
            }
        }
    }
    pub fn argmin(&self, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        match dim {
            Some(d) => Ok(self.min_dim(d, keepdim)?.1),
            None => {
                if self.numel() == 0 {
                    bail!(Index, "argmin(): Expected reduction dim to be specified for input.numel() == 0.");
                }
                let r = self.detach().reshape(&[-1])?.min_dim(0, false)?.1;
                if keepdim { r.reshape_usize(&vec![1; self.ndim()]) } else { Ok(r) }
            }
        }
    }

    /// cumsum / cumprod along `dim` (integers accumulate to int64).
    fn scan(&self, dim: i64, dtype: Option<DType>, is_sum: bool) -> Result<Tensor> {
        let src = match dtype {
            Some(dt) if dt != self.dtype() => self.to_dtype(dt)?,
            _ => {
                if self.dtype().is_float() { self.clone() } else { self.to_dtype(DType::I64)? }
            }
        };
        let shape = src.shape();
        let d = wrap_dim(dim, shape.len())?;
        let data = src.data().clone();
        let out = if src.device().is_cuda() {
            let o = along_dim_cuda(if is_sum { "cumsum" } else { "cumprod" }, &data, d, data.dtype)?;
            o.reshape_usize(&shape)?
        } else {
            Tensor::empty(&shape, data.dtype, src.device())?
        };
        if !src.device().is_cuda() {
            let od = out.data();
            let ol = od.layout.clone();
            let layout = data.layout.at_least_1d();
            let olayout = ol.at_least_1d();
            dispatch!(data.dtype, T => {
                let p = SendPtr(data.storage.ptr() as *mut T);
                let op = SendPtr(od.storage.ptr() as *mut T);
                let (kept, _) = crate::cpu::reduce::split_dims(&olayout, &[d]);
                let ostride = olayout.strides[d];
                lanes(&layout, d, |i, base, n, s| {
                    let ob = crate::cpu::reduce::offset_of(&kept, i);
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
        }
        if needs_grad(&[&src]) {
            let sx = SavedTensor::input(&src);
            let sy = SavedTensor::output(&out, 0);
            record(if is_sum { "CumsumBackward0" } else { "CumprodBackward0" }, &[&src], &[&out], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let di = d as i64;
                if shape.is_empty() {
                    return Ok(vec![Some(g.clone())]);
                }
                if is_sum {
                    return Ok(vec![Some(g.flip(&[di])?.cumsum(di, None)?.flip(&[di])?)]);
                }
                let (x, y) = (sx.unpack(ctx)?, sy.unpack(ctx)?);
                // Reverse cumulative sum of g*y divided by x (inputs without zeros);
                // with zeros, fall back to the exact O(n^2) sum of products.
                let has_zero = x.eq_s(0.0)?.any()?.item()?.is_nonzero();
                if !has_zero {
                    let gy = g.mul(&y)?;
                    return Ok(vec![Some(gy.flip(&[di])?.cumsum(di, None)?.flip(&[di])?.div(&x)?)]);
                }
                Ok(vec![Some(cumprod_grad_exact(&x, g, d)?)])
            });
        }
        Ok(out)
    }
    pub fn cumsum(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        self.scan(dim, dtype, true)
    }
    pub fn cumprod(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        self.scan(dim, dtype, false)
    }

    /// `sort(dim, descending, stable)`: (values, indices). NaN sorts as the largest value;
    /// the sort is always stable.
    pub fn sort(&self, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
        if self.device().is_cuda() {
            let shape = self.shape();
            let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
            let (vals, idx) = sort_cuda(&self.data(), d, descending, &shape)?;
            return self.record_sort(vals, idx, shape, d);
        }
        let shape = self.shape();
        let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
        let data = self.data().clone();
        let vals = Tensor::empty(&shape, data.dtype, self.device())?;
        let idx = Tensor::empty(&shape, DType::I64, self.device())?;
        {
            let (vd, id) = (vals.data().clone(), idx.data().clone());
            let layout = data.layout.at_least_1d();
            let vl = vd.layout.at_least_1d();
            let (kept, _) = crate::cpu::reduce::split_dims(&vl, &[d]);
            let ostride = vl.strides[d];
            dispatch!(data.dtype, T => {
                let p = SendPtr(data.storage.ptr() as *mut T);
                let (vp, ip) = (SendPtr(vd.storage.ptr() as *mut T), SendPtr(id.storage.ptr() as *mut i64));
                lanes(&layout, d, |i, base, n, s| {
                    let ob = crate::cpu::reduce::offset_of(&kept, i);
                    // SAFETY: offsets address the storages; lanes are disjoint.
                    unsafe {
                        let q = p.get().add(base) as *const T;
                        let mut v: Vec<(T, i64)> = (0..n).map(|j| (*q.add(j * s), j as i64)).collect();
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
        }
        self.record_sort(vals, idx, shape, d)
    }

    /// Record sort's backward (the gradient scattered back to the original positions).
    fn record_sort(&self, vals: Tensor, idx: Tensor, shape: crate::shape::Shape, d: usize) -> Result<(Tensor, Tensor)> {
        if needs_grad(&[self]) {
            let ix = idx.clone();
            record("SortBackward0", &[self], &[&vals], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let z = Tensor::zeros(&shape, g.dtype(), g.device())?;
                if shape.is_empty() {
                    return Ok(vec![Some(g.clone())]);
                }
                Ok(vec![Some(z.scatter(d as i64, &ix, g)?)])
            });
        }
        Ok((vals, idx))
    }

    pub fn argsort(&self, dim: i64, descending: bool) -> Result<Tensor> {
        Ok(self.detach().sort(dim, descending)?.1)
    }

    /// `topk(k, dim, largest, sorted)`.
    pub fn topk(&self, k: i64, dim: i64, largest: bool) -> Result<(Tensor, Tensor)> {
        let shape = self.shape();
        let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
        let n = shape.get(d).copied().unwrap_or(1) as i64;
        if k < 0 || k > n {
            bail!(Runtime, "selected index k out of range");
        }
        let (_, idx) = self.detach().sort(d as i64, largest)?;
        let idx = if shape.is_empty() { idx } else { idx.narrow(d as i64, 0, k)? };
        let vals = if shape.is_empty() { self.clone_tensor()? } else { self.gather(d as i64, &idx)? };
        Ok((vals, idx))
    }

    /// `kthvalue(k, dim, keepdim)`: k-th smallest (1-based).
    pub fn kthvalue(&self, k: i64, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let shape = self.shape();
        // A 0-d tensor has one dim of size 1 for this purpose (dims -1 and 0).
        let d = wrap_dim(dim, shape.len())?;
        let n = shape.get(d).copied().unwrap_or(1) as i64;
        if n == 0 {
            bail!(Index, "kthvalue(): Expected reduction dim {} to have non-zero size.", d);
        }
        if k < 1 || k > n {
            bail!(Runtime, "kthvalue(): selected number k out of range for dimension {}", d);
        }
        if shape.is_empty() {
            return Ok((self.clone_tensor()?, Tensor::zeros(&[], DType::I64, self.device())?));
        }
        let (_, idx) = self.detach().sort(d as i64, false)?;
        let idx = idx.narrow(d as i64, k - 1, 1)?.contiguous_copy()?;
        let vals = self.gather(d as i64, &idx)?;
        if keepdim {
            Ok((vals, idx))
        } else {
            Ok((vals.squeeze(Some(&[d as i64]))?, idx.squeeze(Some(&[d as i64]))?))
        }
    }
}

/// For each element, the product of the other elements of its reduction group.
fn prod_except_each(x: &Tensor, dims: &[usize]) -> Result<Tensor> {
    // Move reduced dims last, flatten them, compute prefix/suffix products per row.
    let shape = x.shape();
    let n = shape.len();
    let kept: Vec<usize> = (0..n).filter(|d| !dims.contains(d)).collect();
    let perm: Vec<i64> = kept.iter().chain(dims.iter()).map(|&d| d as i64).collect();
    let xp = x.detach().permute(&perm)?.contiguous_copy()?;
    let r: usize = dims.iter().map(|&d| shape[d]).product();
    let v = xp.to_vec::<f64>()?;
    let mut out = vec![0.0; v.len()];
    for (row, orow) in v.chunks(r.max(1)).zip(out.chunks_mut(r.max(1))) {
        let mut pre = 1.0;
        for j in 0..row.len() {
            orow[j] = pre;
            pre *= row[j];
        }
        let mut suf = 1.0;
        for j in (0..row.len()).rev() {
            orow[j] *= suf;
            suf *= row[j];
        }
    }
    let t = Tensor::from_vec(out, &xp.shape())?.to_dtype(x.dtype())?;
    let mut inv = vec![0i64; n];
    for (i, &p) in perm.iter().enumerate() {
        inv[p as usize] = i as i64;
    }
    t.permute(&inv)
}

/// Exact cumprod gradient (handles zeros): dx_i = sum_{k>=i} g_k * prod_{j<=k, j!=i} x_j.
fn cumprod_grad_exact(x: &Tensor, g: &Tensor, d: usize) -> Result<Tensor> {
    let n = x.shape()[d];
    let xm = x.detach().movedim(d as i64, -1)?.contiguous_copy()?;
    let gm = g.detach().movedim(d as i64, -1)?.contiguous_copy()?;
    let xv = xm.to_vec::<f64>()?;
    let gv = gm.to_vec::<f64>()?;
    let mut out = vec![0.0; xv.len()];
    for ((xr, gr), orow) in xv.chunks(n.max(1)).zip(gv.chunks(n.max(1))).zip(out.chunks_mut(n.max(1))) {
        for i in 0..xr.len() {
            let mut s = 0.0;
            let mut p: f64 = xr[..i].iter().product();
            for k in i..xr.len() {
                if k > i {
                    p *= xr[k];
                }
                s += gr[k] * p;
            }
            orow[i] = s;
        }
    }
    Tensor::from_vec(out, &xm.shape())?.to_dtype(x.dtype())?.movedim(-1, d as i64)
}

/// out[j] = sum_i x[i * k + j] for a row-major (n, k) block, accumulated in f64 (f32 input:
/// in f32 over runs of 64 rows, which vectorise 16 wide, then in f64, so the error stays
/// that of a 64-term f32 sum; all-f64 accumulation ran 4x slower than PyTorch's on the
/// bias gradient of a 256x512 layer). Parallel over column blocks when the block is large.
///
/// # Safety
/// `out` must have room for `k` elements.
unsafe fn column_sums<T: Element, O: Element>(x: &[T], n: usize, k: usize, out: *mut O) {
    let run = |lo: usize, hi: usize, out: crate::cpu::SendPtr<O>| {
        let mut acc = vec![0.0f64; hi - lo];
        if T::DTYPE == DType::F32 {
            // SAFETY: T is f32.
            let x = unsafe { std::slice::from_raw_parts(x.as_ptr() as *const f32, x.len()) };
            column_sums_f32(x, n, k, lo, hi, &mut acc);
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
}

crate::multiversion! {
    /// `acc[j - lo] += sum_i x[i * k + j]` for columns lo..hi, in f32 over runs of 64 rows.
    fn column_sums_f32 [] [] (x: &[f32], n: usize, k: usize, lo: usize, hi: usize, acc: &mut [f64]) {
        let mut part = vec![0.0f32; hi - lo];
        for r0 in (0..n).step_by(64) {
            part.fill(0.0);
            for i in r0..(r0 + 64).min(n) {
                for (a, &v) in part.iter_mut().zip(&x[i * k + lo..i * k + hi]) {
                    *a += v;
                }
            }
            for (a, &p) in acc.iter_mut().zip(&part) {
                *a += p as f64;
            }
        }
    }
}
