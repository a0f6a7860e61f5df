//! Joining and rearranging: cat/stack are primitives (copy kernel + split backward);
//! flip/roll/repeat/tile/repeat_interleave/tril/triu are composites.

use crate::autograd::{needs_grad, record};
use crate::dtype::DType;
use crate::error::Result;
use crate::shape::{fmt_shape, wrap_dim};
use crate::tensor::Tensor;
use crate::bail;

impl Tensor {
    pub fn cat(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
        if crate::autocast::any_enabled() {
            let refs: Vec<&Tensor> = tensors.iter().collect();
            if let Some(p) = crate::autocast::prepare("cat", &refs)? {
                return Tensor::cat(&p.tensors, dim);
            }
        }
        if tensors.is_empty() {
            bail!(Value, "torch.cat(): expected a non-empty list of Tensors");
        }
        // Legacy rule: 1-d empty tensors are skipped.
        let parts: Vec<&Tensor> = tensors.iter().filter(|t| !(t.ndim() == 1 && t.numel() == 0)).collect();
        if parts.is_empty() {
            return tensors[0].clone_tensor();
        }
        let ref_shape = parts[0].shape();
        if ref_shape.is_empty() {
            bail!(Runtime, "zero-dimensional tensor (at position 0) cannot be concatenated");
        }
        let d = wrap_dim(dim, ref_shape.len())?;
        let mut dtype = parts[0].dtype();
        for (i, t) in parts.iter().enumerate() {
            let s = t.shape();
            if s.len() != ref_shape.len() {
                bail!(
                    Runtime,
                    "Tensors must have same number of dimensions: got {} and {}",
                    ref_shape.len(),
                    s.len()
                );
            }
            for k in 0..s.len() {
                if k != d && s[k] != ref_shape[k] {
                    bail!(
                        Runtime,
                        "Sizes of tensors must match except in dimension {}. Expected size {} but got size {} for tensor number {} in the list.",
                        d,
                        ref_shape[k],
                        s[k],
                        i
                    );
                }
            }
            dtype = crate::dtype::promote_types(dtype, t.dtype());
        }
        crate::ops::elementwise::check_same_device(&parts.iter().map(|t| (*t).into()).collect::<Vec<_>>())?;
        let sizes: Vec<usize> = parts.iter().map(|t| t.shape()[d]).collect();
        let mut out_shape = ref_shape.clone();
        out_shape[d] = sizes.iter().sum();
        let out = Tensor::empty_on(&out_shape, dtype, parts[0].device())?;
        {
            let od = out.data().clone();
            let mut start = 0;
            for (t, &sz) in parts.iter().zip(&sizes) {
                let td = t.data().clone();
                let ol = od.layout.narrow(d, start, sz);
                crate::ops::copy_data(&td, &crate::tensor::TensorData { layout: ol, ..od.clone() })?;
                start += sz;
            }
        }
        let refs: Vec<&Tensor> = parts.to_vec();
        if needs_grad(&refs) {
            let dts: Vec<DType> = parts.iter().map(|t| t.dtype()).collect();
            record("CatBackward0", &refs, &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None; sizes.len()]) };
                let mut outs = vec![];
                let mut s = 0;
                for (i, &sz) in sizes.iter().enumerate() {
                    let gi = g.narrow(d as i64, s as i64, sz as i64)?;
                    outs.push(Some(if dts[i] != gi.dtype() && dts[i].is_float() { gi.to_dtype(dts[i])? } else { gi }));
                    s += sz;
                }
                Ok(outs)
            });
        }
        Ok(out)
    }

    pub fn stack(tensors: &[Tensor], dim: i64) -> Result<Tensor> {
        if crate::autocast::any_enabled() {
            let refs: Vec<&Tensor> = tensors.iter().collect();
            if let Some(p) = crate::autocast::prepare("stack", &refs)? {
                return Tensor::stack(&p.tensors, dim);
            }
        }
        if tensors.is_empty() {
            bail!(Runtime, "stack expects a non-empty TensorList");
        }
        let s0 = tensors[0].shape();
        for (i, t) in tensors.iter().enumerate() {
            if t.shape() != s0 {
                bail!(
                    Runtime,
                    "stack expects each tensor to be equal size, but got {} at entry 0 and {} at entry {}",
                    fmt_shape(&s0),
                    fmt_shape(&t.shape()),
                    i
                );
            }
        }
        let d = wrap_dim(dim, s0.len() + 1)?;
        let forward = || {
            let us: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(d as i64)).collect::<Result<_>>()?;
            Tensor::cat(&us, d as i64)
        };
        let refs: Vec<&Tensor> = tensors.iter().collect();
        // (each gradient in its input's dtype: cat promotes mixed inputs)
        let dtypes: Vec<crate::dtype::DType> = tensors.iter().map(|t| t.dtype()).collect();
        crate::autograd::composite("StackBackward0", &refs, false, forward, move |_, g| {
            g.unbind(d as i64)?.into_iter().zip(&dtypes).map(|(gi, &dt)| Ok(Some(if gi.dtype() == dt { gi } else { gi.to_dtype(dt)? }))).collect()
        })
    }

    pub fn hstack(tensors: &[Tensor]) -> Result<Tensor> {
        if tensors.is_empty() {
            bail!(Runtime, "hstack expects a non-empty TensorList");
        }
        let ts: Vec<Tensor> = tensors.iter().map(|t| t.atleast_1d()).collect::<Result<_>>()?;
        if ts.first().map(|t| t.ndim() == 1).unwrap_or(false) {
            Tensor::cat(&ts, 0)
        } else {
            Tensor::cat(&ts, 1)
        }
    }
    pub fn vstack(tensors: &[Tensor]) -> Result<Tensor> {
        if tensors.is_empty() {
            bail!(Runtime, "vstack expects a non-empty TensorList");
        }
        let ts: Vec<Tensor> = tensors.iter().map(|t| t.atleast_2d()).collect::<Result<_>>()?;
        Tensor::cat(&ts, 0)
    }
    pub fn atleast_1d(&self) -> Result<Tensor> {
        if self.ndim() == 0 { self.reshape(&[1]) } else { Ok(self.clone()) }
    }
    pub fn atleast_2d(&self) -> Result<Tensor> {
        match self.ndim() {
            0 => self.reshape(&[1, 1]),
            1 => self.unsqueeze(0),
            _ => Ok(self.clone()),
        }
    }

    /// `flip(dims)`: reversed copy (PyTorch never has negative strides).
    pub fn flip(&self, dims: &[i64]) -> Result<Tensor> {
        let n = self.ndim();
        let ds = crate::shape::wrap_dims(dims, n)?;
        let mut out = self.clone();
        // A 0-d tensor flips as a one-element dim (PyTorch returns a copy).
        for d in ds.into_iter().filter(|&d| d < n) {
            let len = self.shape()[d] as i64;
            let idx = Tensor::arange_i64(len - 1, -1, -1)?;
            out = out.index_select(d as i64, &idx)?;
        }
        if out.same(self) {
            return self.clone_tensor();
        }
        Ok(out)
    }

    /// `roll(shifts, dims)`; without dims the flattened tensor is rolled.
    pub fn roll(&self, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
        if dims.is_empty() {
            if shifts.len() != 1 {
                bail!(Runtime, "shifts and dimensions must align. shifts: {}, dims:0", shifts.len());
            }
            let shape = self.shape();
            return self.reshape(&[-1])?.roll(shifts, &[0])?.reshape_usize(&shape);
        }
        if shifts.len() != dims.len() {
            bail!(Runtime, "shifts and dimensions must align. shifts: {}, dims:{}", shifts.len(), dims.len());
        }
        let mut out = self.clone();
        for (&s, &d) in shifts.iter().zip(dims) {
            let d = crate::shape::wrap_dim_of_sizes(d, self.ndim())?;
            let len = self.shape()[d] as i64;
            if len == 0 {
                continue;
            }
            let s = s.rem_euclid(len);
            if s == 0 {
                continue;
            }
            let a = out.narrow(d as i64, len - s, s)?;
            let b = out.narrow(d as i64, 0, len - s)?;
            out = Tensor::cat(&[a, b], d as i64)?;
        }
        if out.same(self) {
            return self.clone_tensor();
        }
        Ok(out)
    }

    /// `repeat(sizes)`: tile the data (a copy), via expand + reshape.
    pub fn repeat(&self, reps: &[i64]) -> Result<Tensor> {
        let shape = self.shape();
        if reps.len() < shape.len() {
            bail!(Runtime, "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
        }
        if reps.iter().any(|&r| r < 0) {
            bail!(Runtime, "Trying to create tensor with negative dimension {}: {:?}", reps.iter().find(|&&r| r < 0).unwrap(), reps);
        }
        let lead = reps.len() - shape.len();
        let padded: Vec<usize> = std::iter::repeat_n(1, lead).chain(shape.iter().copied()).collect();
        // view as [1, s0, 1, s1, ...], expand to [r0, s0, r1, s1, ...], reshape.
        let mut inter = vec![];
        let mut target = vec![];
        let mut fin = vec![];
        for (i, &s) in padded.iter().enumerate() {
            inter.push(1i64);
            inter.push(s as i64);
            target.push(reps[i]);
            target.push(s as i64);
            // Saturating: an overflowing size fails in the copy below (its element count is
            // checked there), before `fin` is used.
            fin.push(reps[i].saturating_mul(s as i64));
        }
        let v = self.reshape_usize(&padded)?.reshape(&inter)?;
        // Always a copy: with all repeats 1 the expand is a no-op and `contiguous` would
        // hand back a view of self.
        v.expand(&target)?.clone_tensor()?.reshape(&fin)
    }

    pub fn tile(&self, reps: &[i64]) -> Result<Tensor> {
        let n = self.ndim();
        let mut r: Vec<i64> = reps.to_vec();
        while r.len() < n {
            r.insert(0, 1);
        }
        self.repeat(&r)
    }

    /// `repeat_interleave(repeats, dim)`; `repeats` is a scalar or a 1-d tensor.
    pub fn repeat_interleave(&self, repeats: &Tensor, dim: Option<i64>) -> Result<Tensor> {
        let (x, d) = match dim {
            None => (self.reshape(&[-1])?, 0usize),
            Some(d) => (self.clone(), crate::shape::wrap_dim_of_sizes(d, self.ndim())?),
        };
        let n = x.shape().get(d).copied().unwrap_or(1);
        let reps = repeats.to_vec::<i64>()?;
        // `n` is the input's size along dim, which an expanded view makes arbitrary.
        let reps: Vec<i64> = if reps.len() == 1 { crate::storage::try_vec(n, reps[0])? } else { reps };
        if reps.len() != n {
            bail!(Runtime, "repeats must have the same size as input along dim, but got repeats.size(0) = {} and input.size({}) = {}", reps.len(), d, n);
        }
        let idx = repeat_indices(&reps)?;
        let len = idx.len();
        x.index_select(d as i64, &Tensor::from_vec(idx, &[len])?)
    }

    /// `torch.repeat_interleave(repeats)`: each index `i` of the 1-d integer tensor
    /// `repeats` repeated `repeats[i]` times (`[2, 0, 3]` -> `[0, 0, 2, 2, 2]`), in its dtype.
    pub fn repeat_interleave_counts(repeats: &Tensor) -> Result<Tensor> {
        let dt = repeats.dtype();
        if dt.is_float() || dt == DType::Bool {
            return Err(crate::ops::not_implemented("repeat_interleave_cpu", dt));
        }
        if repeats.ndim() != 1 {
            bail!(Runtime, "repeat_interleave only accept 1D vector as repeat");
        }
        let idx = repeat_indices(&repeats.to_vec::<i64>()?)?;
        let len = idx.len();
        Tensor::from_vec(idx, &[len])?.to_dtype_raw(dt)
    }

    /// Lower/upper triangle (`tril`/`triu`) of the last two dims.
    pub fn tril(&self, diagonal: i64) -> Result<Tensor> {
        self.tri(diagonal, true)
    }
    pub fn triu(&self, diagonal: i64) -> Result<Tensor> {
        self.tri(diagonal, false)
    }
    /// `tril_(diagonal)`.
    pub fn tril_(&self, diagonal: i64) -> Result<()> {
        crate::ops::elementwise::inplace_via(self, false, |x| x.tril(diagonal))
    }
    /// `triu_(diagonal)`.
    pub fn triu_(&self, diagonal: i64) -> Result<()> {
        crate::ops::elementwise::inplace_via(self, false, |x| x.triu(diagonal))
    }
    fn tri(&self, k: i64, lower: bool) -> Result<Tensor> {
        let s = self.shape();
        if s.len() < 2 {
            bail!(Runtime, "{}: input tensor must have at least 2 dimensions", if lower { "tril" } else { "triu" });
        }
        let (r, c) = (s[s.len() - 2], s[s.len() - 1]);
        // r x c of a possibly expanded view: checked and fallible.
        let mut m = crate::storage::try_vec(crate::storage::checked_mul(r, c)?, false)?;
        for i in 0..r {
            for j in 0..c {
                let dj = j as i64 - i as i64;
                m[i * c + j] = if lower { dj <= k } else { dj >= k };
            }
        }
        let mask = Tensor::from_vec(m, &[r, c])?.to_device_raw(self.device())?;
        let zero = Tensor::zeros(&[], self.dtype(), self.device())?;
        Tensor::where_(&mask, self, &zero)
    }
}

/// Index `i` repeated `reps[i]` times (`[2, 0, 3]` -> `[0, 0, 2, 2, 2]`), for both
/// repeat_interleave forms. The total is checked before anything is allocated: a huge
/// count is PyTorch's RuntimeError, not an aborted process.
fn repeat_indices(reps: &[i64]) -> Result<Vec<i64>> {
    if reps.iter().any(|&r| r < 0) {
        bail!(Runtime, "repeats can not be negative");
    }
    let Some(total) = reps.iter().try_fold(0usize, |acc, &r| acc.checked_add(r as usize)) else {
        bail!(Runtime, "repeat_interleave: the output size (the sum of repeats) overflows");
    };
    let mut idx = crate::storage::try_vec(total, 0i64)?;
    let mut at = 0;
    for (i, &r) in reps.iter().enumerate() {
        idx[at..at + r as usize].fill(i as i64);
        at += r as usize;
    }
    Ok(idx)
}
