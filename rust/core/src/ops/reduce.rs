//! Reductions. Kernels: sum/prod/amax/amin/all/any (any set of dims) and the along-a-dim
//! family (max/min with indices, argmax, cumsum, cumprod, sort). mean/var/std/norm/
//! logsumexp/count_nonzero are composites: no kernel, no backward of their own.


use crate::autograd::{needs_grad, record, SavedTensor};
use crate::backend::{Composite, ReduceOp};
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::shape::{fmt_shape, wrap_dim, wrap_dims};
use crate::tensor::Tensor;
use crate::bail;

/// var/std's correction from their arguments: `correction` when given, else 0 for
/// `unbiased=False` and 1 otherwise (Bessel's correction, PyTorch's default).
pub fn var_correction(correction: Option<f64>, unbiased: Option<bool>) -> f64 {
    match (correction, unbiased) {
        (Some(c), _) => c,
        (None, Some(false)) => 0.0,
        _ => 1.0,
    }
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

// The reduction kinds are the seam's (`crate::backend::ReduceOp`).

/// Run a reduction kernel over `dims`, producing a contiguous tensor of `out_shape`.
fn run_reduce(x: &Tensor, dims: &[usize], out_shape: &[usize], kind: ReduceOp, out_dtype: DType) -> Result<Tensor> {
    let out = Tensor::empty_on(out_shape, out_dtype, x.device())?;
    crate::backend::of(x.device()).reduce(kind, &x.data(), dims, &out.data())?;
    Ok(out)
}

impl Tensor {
    /// `sum(dim=None, keepdim=False, dtype=None)`.
    pub fn sum_dims(&self, dims: Option<&[i64]>, keepdim: bool, dtype: Option<DType>) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("sum", &[self])? {
            // Under autocast an explicit dtype wins; else the policy's (float32).
            let (x, dtype) = (&p.tensors[0], dtype.or(p.dtype));
            return x.sum_dims(dims, keepdim, dtype);
        }
        let src = match dtype {
            Some(dt) if dt != self.dtype() => self.to_dtype(dt)?,
            _ => self.clone(),
        };
        let in_dt = src.dtype();
        let out_dt = if dtype.is_some() || in_dt.is_float() { in_dt } else { DType::I64 };
        let shape = src.shape();
        let (ds, out_shape) = reduce_shape(&shape, dims, keepdim)?;
        let out = run_reduce(&src, &ds, &out_shape, ReduceOp::Sum, out_dt)?;
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
        if let Some(p) = crate::autocast::prepare("prod", &[self])? {
            // Under autocast an explicit dtype wins; else the policy's (float32).
            let (x, dtype) = (&p.tensors[0], dtype.or(p.dtype));
            return x.prod_dims(dim, keepdim, dtype);
        }
        let src = match dtype {
            Some(dt) if dt != self.dtype() => self.to_dtype(dt)?,
            _ => self.clone(),
        };
        let in_dt = src.dtype();
        let out_dt = if in_dt.is_float() { in_dt } else { DType::I64 };
        let shape = src.shape();
        let dd = dim.map(|d| [d]);
        let (ds, out_shape) = reduce_shape(&shape, dd.as_ref().map(|d| &d[..]), keepdim)?;
        let out = run_reduce(&src, &ds, &out_shape, ReduceOp::Prod, out_dt)?;
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
        let out = run_reduce(self, &ds, &out_shape, if is_max { ReduceOp::Max } else { ReduceOp::Min }, self.dtype())?;
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
        self.max_min_all(true)
    }
    pub fn min_all(&self) -> Result<Tensor> {
        if self.numel() == 0 {
            bail!(Runtime, "min(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
        }
        self.max_min_all(false)
    }
    /// amax/amin's value with PyTorch's `max()`/`min()` backward: the gradient shared evenly
    /// by the elements equal to the result, or by the NaNs when the result is NaN (amax's
    /// backward compares x == NaN and gives 0/0 = NaN everywhere, as PyTorch's amax does).
    fn max_min_all(&self, is_max: bool) -> Result<Tensor> {
        let y = {
            let _g = crate::autograd::NoGradGuard::new();
            self.amax_amin(None, false, is_max)?
        };
        if needs_grad(&[self]) {
            let sx = SavedTensor::input(self);
            let sy = SavedTensor::output(&y, 0);
            record(if is_max { "MaxBackward1" } else { "MinBackward1" }, &[self], &[&y], move |ctx, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let (x, y) = (sx.unpack(ctx)?, sy.unpack(ctx)?);
                let hit = x.eq(&y)?.logical_or(&x.isnan()?.logical_and(&y.isnan()?)?)?.to_dtype(g.dtype())?;
                let count = hit.sum()?;
                Ok(vec![Some(hit.mul(&g.div(&count)?)?)])
            });
        }
        Ok(y)
    }

    /// `all(dim, keepdim)`: bool, except uint8 in, uint8 out (PyTorch's legacy rule).
    pub fn all_dims(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        let (ds, out_shape) = reduce_shape(&self.shape(), dims, keepdim)?;
        let r = run_reduce(self, &ds, &out_shape, ReduceOp::All, DType::Bool)?;
        if self.dtype() == DType::U8 { r.to_dtype(DType::U8) } else { Ok(r) }
    }
    /// `any(dim, keepdim)`: bool, except uint8 in, uint8 out.
    pub fn any_dims(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        let (ds, out_shape) = reduce_shape(&self.shape(), dims, keepdim)?;
        let r = run_reduce(self, &ds, &out_shape, ReduceOp::Any, DType::Bool)?;
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
            // NotImplementedError, as PyTorch 2.x raises here.
            bail!(
                NotImplemented,
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
            if dt.is_half() {
                // PyTorch accumulates half types in float32 and rounds once, after the
                // division: the sum of [60000, 60000] overflows float16, their mean does not.
                let s32 = run_reduce(&src.to_dtype(DType::F32)?, &ds, &out_shape, ReduceOp::Sum, DType::F32)?;
                s32.div_s(n as f64)?.to_dtype(dt)?
            } else {
                run_reduce(&src, &ds, &out_shape, ReduceOp::Sum, dt)?.div_s(n as f64)?
            }
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
        // var is no autocast op: the sums inside run in its input's dtype.
        let _no_autocast = crate::autocast::any_enabled().then(crate::autocast::ExcludeGuard::new);
        if !self.dtype().is_float() {
            bail!(Runtime, "std and var only support floating point and complex dtypes");
        }
        if self.dtype().is_half() {
            // In float32, rounded once (PyTorch's accumulator): squares of half values
            // overflow float16 long before their mean does.
            return self.to_dtype(DType::F32)?.var_dims(dims, correction, keepdim)?.to_dtype(self.dtype());
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
        // PyTorch's std backward: g / (2 std), 0 where std == 0 (a constant input gets gradient
        // 0, not inf * 0 = NaN through sqrt).
        if self.dtype().is_half() {
            return self.to_dtype(DType::F32)?.std_dims(dims, correction, keepdim)?.to_dtype(self.dtype());
        }
        self.var_dims(dims, correction, keepdim)?.sqrt_safe("StdBackward0")
    }

    /// `norm(p, dim, keepdim)` for p in {finite, inf, -inf, 0}.
    pub fn norm(&self, p: f64, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        if let Some(a) = crate::autocast::prepare("norm", &[self])? {
            // fp32_append_dtype: the norm of a float16 input in float32.
            let x = match a.dtype { Some(d) => a.tensors[0].to_dtype(d)?, None => a.tensors[0].clone() };
            return x.norm(p, dims, keepdim);
        }
        if !self.dtype().is_float() {
            bail!(Runtime, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}", super::pretty_dtype(self.dtype()));
        }
        if self.dtype().is_half() && p != f64::INFINITY && p != f64::NEG_INFINITY {
            // Powers and sums in float32, rounded once, as PyTorch accumulates half types:
            // 300² overflows float16, the norm of [300, 400] does not.
            return self.to_dtype(DType::F32)?.norm(p, dims, keepdim)?.to_dtype(self.dtype());
        }
        let a = self.abs()?;
        if p == f64::INFINITY {
            return a.amax(dims, keepdim);
        }
        if p == f64::NEG_INFINITY {
            return a.amin(dims, keepdim);
        }
        if p == 0.0 {
            let y = a.ne(Scalar::Float(0.0))?.to_dtype(self.dtype())?.sum_dims(dims, keepdim, None)?;
            if needs_grad(&[self]) {
                // A count: in the graph as in PyTorch (backward runs), with no gradient to x.
                record("NormBackward1", &[self], &[&y], |_, _| Ok(vec![None]));
            }
            return Ok(y);
        }
        if p == 1.0 {
            return a.sum_dims(dims, keepdim, None);
        }
        if p == 2.0 {
            // sqrt(sum x^2) has an infinite derivative at 0; PyTorch defines the subgradient
            // as 0 there: route the gradient through a safe denominator.
            return self.mul(self)?.sum_dims(dims, keepdim, None)?.sqrt_safe("NormBackward1");
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

    /// sqrt whose gradient at 0 is 0 instead of inf*0 = NaN (norm's and std's subgradient),
    /// recorded as `node`.
    fn sqrt_safe(&self, node: &'static str) -> Result<Tensor> {
        let y = {
            let _g = crate::autograd::NoGradGuard::new();
            self.sqrt()?
        };
        if needs_grad(&[self]) {
            let sy = SavedTensor::output(&y, 0);
            record(node, &[self], &[&y], move |ctx, g| {
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
        if let Some(p) = crate::autocast::prepare("logsumexp", &[self])? {
            return p.tensors[0].logsumexp(dims, keepdim);
        }
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
        crate::backend::of(self.device()).max_min_dim(is_max, &data, d, &vals.data(), &idx.data())?;
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
        let out = Tensor::empty_on(&shape, data.dtype, src.device())?;
        crate::backend::of(src.device()).cumulative(is_sum, &data, d, &out.data())?;
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
        if let Some(p) = crate::autocast::prepare("cumsum", &[self])? {
            // Under autocast an explicit dtype wins; else the policy's (float32).
            let (x, dtype) = (&p.tensors[0], dtype.or(p.dtype));
            return x.cumsum(dim, dtype);
        }
        self.scan(dim, dtype, true)
    }
    pub fn cumprod(&self, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("cumprod", &[self])? {
            // Under autocast an explicit dtype wins; else the policy's (float32).
            let (x, dtype) = (&p.tensors[0], dtype.or(p.dtype));
            return x.cumprod(dim, dtype);
        }
        self.scan(dim, dtype, false)
    }

    /// `sort(dim, descending, stable)`: (values, indices). NaN sorts as the largest value;
    /// the sort is always stable.
    pub fn sort(&self, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
        let shape = self.shape();
        let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
        let data = self.data().clone();
        let vals = Tensor::empty_on(&shape, data.dtype, self.device())?;
        let idx = Tensor::empty_on(&shape, DType::I64, self.device())?;
        crate::backend::of(self.device()).sort(&data, d, descending, &vals.data(), &idx.data())?;
        self.record_sort("SortBackward0", vals, idx, shape, d)
    }

    /// Record the backward of sort and of the selections (`name`): the gradient of `vals`
    /// (self's values at `idx` along `d`) scattered back to those positions.
    fn record_sort(&self, name: &'static str, vals: Tensor, idx: Tensor, shape: crate::shape::Shape, d: usize) -> Result<(Tensor, Tensor)> {
        if needs_grad(&[self]) {
            let ix = idx.clone();
            record(name, &[self], &[&vals], move |_, g| {
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

    /// `topk(k, dim, largest, sorted)`: by selection, O(n) per lane (`Backend::select`),
    /// where the backend has it; else a full sort, sliced.
    pub fn topk(&self, k: i64, dim: i64, largest: bool, sorted: bool) -> Result<(Tensor, Tensor)> {
        let shape = self.shape();
        let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
        let n = shape.get(d).copied().unwrap_or(1) as i64;
        if k < 0 || k > n {
            bail!(Runtime, "selected index k out of range");
        }
        let be = crate::backend::of(self.device());
        if shape.is_empty() || be.composes(Composite::Select) {
            let (_, idx) = self.detach().sort(d as i64, largest)?;
            let idx = if shape.is_empty() { idx } else { idx.narrow(d as i64, 0, k)? };
            let vals = if shape.is_empty() { self.clone_tensor()? } else { self.gather(d as i64, &idx)? };
            return Ok((vals, idx));
        }
        let (vals, idx) = self.select_out(d, k as usize, largest, sorted)?;
        self.record_sort("TopkBackward0", vals, idx, shape, d)
    }

    /// Fresh (values, indices) of the `k` best along `d` from `Backend::select`.
    fn select_out(&self, d: usize, k: usize, largest: bool, sorted: bool) -> Result<(Tensor, Tensor)> {
        let mut oshape = self.shape();
        oshape[d] = k;
        let data = self.data().clone();
        let vals = Tensor::empty_on(&oshape, data.dtype, self.device())?;
        let idx = Tensor::empty_on(&oshape, DType::I64, self.device())?;
        crate::backend::of(self.device()).select(&data, d, k, largest, sorted, &vals.data(), &idx.data())?;
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
        let (vals, idx) = if crate::backend::of(self.device()).composes(Composite::Select) {
            let (_, idx) = self.detach().sort(d as i64, false)?;
            let idx = idx.narrow(d as i64, k - 1, 1)?.contiguous_copy()?;
            (self.gather(d as i64, &idx)?, idx)
        } else {
            // The k smallest, unsorted: the k-th is the last of them.
            let (v, i) = self.select_out(d, k as usize, false, false)?;
            let (v, i) = (v.narrow(d as i64, k - 1, 1)?.contiguous_copy()?, i.narrow(d as i64, k - 1, 1)?.contiguous_copy()?);
            self.record_sort("KthvalueBackward0", v, i, shape, d)?
        };
        if keepdim {
            Ok((vals, idx))
        } else {
            Ok((vals.squeeze(Some(&[d as i64]))?, idx.squeeze(Some(&[d as i64]))?))
        }
    }

    /// `median(dim, keepdim)` (`ignore_nan`: `nanmedian`): the lower median along `dim` and
    /// its position; a lane with NaN gives its first NaN (nanmedian: the median of the
    /// others). By selection (`Backend::median`) where the backend has it; else a stable
    /// sort and each lane's position in it.
    pub fn median_dim(&self, dim: i64, keepdim: bool, ignore_nan: bool) -> Result<(Tensor, Tensor)> {
        let shape = self.shape();
        let d = wrap_dim(dim, shape.len())?;
        if shape.is_empty() {
            return Ok((self.clone_tensor()?, Tensor::zeros(&[], DType::I64, self.device())?));
        }
        let n = shape[d];
        if n == 0 {
            bail!(Index, "{}(): Expected reduction dim {} to have non-zero size.", if ignore_nan { "nanmedian" } else { "median" }, d);
        }
        let mut oshape = shape.clone();
        oshape[d] = 1;
        let be = crate::backend::of(self.device());
        let (vals, idx) = if be.composes(Composite::Select) {
            let x = self.detach();
            let (_, perm) = x.sort(d as i64, false)?;
            let n = n as i64;
            // Per lane, the position in the sorted lane: NaN sorts last, so with c non-NaN
            // values the first NaN is at c and the median of the others at (c - 1) / 2.
            let mut ranks = crate::storage::try_vec(oshape.iter().product(), (n - 1) / 2)?;
            if x.is_floating_point() {
                let counts = x.isnan()?.logical_not()?.sum_dims(Some(&[d as i64]), true, Some(DType::I64))?.to_vec::<i64>()?;
                for (r, c) in ranks.iter_mut().zip(counts) {
                    *r = if ignore_nan { (c - 1).max(0) / 2 } else if c < n { c } else { (n - 1) / 2 };
                }
            }
            let at = Tensor::from_vec(ranks, &oshape)?.to_device(self.device())?;
            let idx = perm.gather(d as i64, &at)?;
            (x.gather(d as i64, &idx)?, idx)
        } else {
            let data = self.data().clone();
            let vals = Tensor::empty_on(&oshape, data.dtype, self.device())?;
            let idx = Tensor::empty_on(&oshape, DType::I64, self.device())?;
            be.median(&data, d, ignore_nan, &vals.data(), &idx.data())?;
            (vals, idx)
        };
        let (vals, idx) = self.record_sort(if ignore_nan { "NanmedianBackward1" } else { "MedianBackward1" }, vals, idx, shape, d)?;
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
    let mut out = crate::storage::try_vec(v.len(), 0.0)?;
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
    let mut out = crate::storage::try_vec(xv.len(), 0.0)?;
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
