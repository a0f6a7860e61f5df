//! View ops: new layouts over the same storage, never a copy (reshape copies only
//! when the strides make a view impossible). Backward formulas next to each op.

use crate::autograd::{needs_grad, record};
use crate::error::Result;
use crate::shape::{fmt_shape, infer_shape, wrap_dim, wrap_dims, Dims, Layout};
use crate::tensor::Tensor;
use crate::{bail, err};

impl Tensor {
    /// Record a view op whose backward is `bw(g)`.
    fn view_op(&self, layout: Layout, name: &'static str, bw: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static) -> Tensor {
        let out = self.view_of(layout);
        if needs_grad(&[self]) {
            record(name, &[self], &[&out], move |_, g| Ok(vec![g[0].as_ref().map(&bw).transpose()?]));
        }
        out
    }

    /// A view whose backward scatters the gradient into zeros of the input's shape by
    /// re-applying the same view (`narrow`, `select`, slicing, `diagonal`).
    fn subview_op(&self, layout: Layout, name: &'static str, apply: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + Clone + 'static) -> Tensor {
        let shape = self.shape();
        let dtype = self.dtype();
        self.view_op(layout, name, move |g| view_scatter(g, &shape, dtype, apply.clone()))
    }

    pub fn view(&self, shape: &[i64]) -> Result<Tensor> {
        let l = self.layout();
        let new_shape = infer_shape(shape, l.numel())?;
        let strides = l.view_strides(&new_shape).ok_or_else(|| {
            err!(
                Runtime,
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        })?;
        let old = l.shape.clone();
        Ok(self.view_op(Layout { shape: new_shape, strides, offset: l.offset }, "ViewBackward0", move |g| g.reshape_usize(&old)))
    }

    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        let l = self.layout();
        let new_shape = infer_shape(shape, l.numel())?;
        match l.view_strides(&new_shape) {
            Some(strides) => {
                let old = l.shape.clone();
                Ok(self.view_op(Layout { shape: new_shape, strides, offset: l.offset }, "ViewBackward0", move |g| g.reshape_usize(&old)))
            }
            None => {
                let c = self.clone_tensor()?;
                let s: Vec<i64> = new_shape.iter().map(|&d| d as i64).collect();
                c.view(&s)
            }
        }
    }
    pub fn reshape_usize(&self, shape: &[usize]) -> Result<Tensor> {
        let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        self.reshape(&s)
    }

    pub fn flatten(&self, start: i64, end: i64) -> Result<Tensor> {
        let shape = self.shape();
        let n = shape.len();
        if n == 0 {
            return self.reshape(&[1]);
        }
        let (s, e) = (wrap_dim(start, n)?, wrap_dim(end, n)?);
        if s > e {
            bail!(Runtime, "flatten() has invalid args: start_dim cannot come after end_dim");
        }
        let mut new: Vec<i64> = shape[..s].iter().map(|&d| d as i64).collect();
        new.push(shape[s..=e].iter().product::<usize>() as i64);
        new.extend(shape[e + 1..].iter().map(|&d| d as i64));
        self.reshape(&new)
    }

    pub fn unflatten(&self, dim: i64, sizes: &[i64]) -> Result<Tensor> {
        let shape = self.shape();
        // PyTorch wraps the 0-d IndexError into a RuntimeError here.
        let d = crate::shape::wrap_dim_of_sizes(dim, shape.len())
            .map_err(|e| if shape.is_empty() { err!(Runtime, "unflatten got an unexpected error: {}", e) } else { e })?;
        let inner = infer_shape(sizes, shape[d]).map_err(|_| {
            err!(Runtime, "unflatten: Provided sizes {:?} don't multiply up to the size of dim {} ({}) in the input tensor", sizes, dim, shape[d])
        })?;
        let mut new: Vec<i64> = shape[..d].iter().map(|&x| x as i64).collect();
        new.extend(inner.iter().map(|&x| x as i64));
        new.extend(shape[d + 1..].iter().map(|&x| x as i64));
        self.view(&new)
    }

    pub fn squeeze(&self, dims: Option<&[i64]>) -> Result<Tensor> {
        let l = self.layout();
        let n = l.ndim();
        let which: Vec<usize> = match dims {
            None => (0..n).filter(|&i| l.shape[i] == 1).collect(),
            Some(ds) => wrap_dims(ds, n)?.into_iter().filter(|&i| n > 0 && l.shape[i] == 1).collect(),
        };
        let mut nl = l.clone();
        for &i in which.iter().rev() {
            nl.shape.remove(i);
            nl.strides.remove(i);
        }
        let old = l.shape.clone();
        // ATen's overloads: squeeze(), squeeze.dim, squeeze.dims
        let name = match dims {
            None => "SqueezeBackward0",
            Some(ds) if ds.len() == 1 => "SqueezeBackward1",
            Some(_) => "SqueezeBackward2",
        };
        Ok(self.view_op(nl, name, move |g| g.reshape_usize(&old)))
    }

    pub fn unsqueeze(&self, dim: i64) -> Result<Tensor> {
        let l = self.layout();
        let d = wrap_dim(dim, l.ndim() + 1)?;
        let old = l.shape.clone();
        Ok(self.view_op(l.unsqueeze(d), "UnsqueezeBackward0", move |g| g.reshape_usize(&old)))
    }

    pub fn transpose(&self, d0: i64, d1: i64) -> Result<Tensor> {
        let l = self.layout();
        let n = l.ndim();
        if n == 0 {
            return Ok(self.view_op(l, "TransposeBackward0", |g| Ok(g.clone())));
        }
        let (a, b) = (wrap_dim(d0, n)?, wrap_dim(d1, n)?);
        Ok(self.view_op(l.transpose(a, b), "TransposeBackward0", move |g| g.transpose(a as i64, b as i64)))
    }

    /// `t()`: transpose of a <= 2-d tensor.
    pub fn t(&self) -> Result<Tensor> {
        let n = self.ndim();
        if n > 2 {
            bail!(Runtime, "t() expects a tensor with <= 2 dimensions, but self is {}D", n);
        }
        let l = self.layout();
        if n < 2 {
            return Ok(self.view_op(l, "TBackward0", |g| Ok(g.clone())));
        }
        Ok(self.view_op(l.transpose(0, 1), "TBackward0", |g| g.t()))
    }

    /// `mT`: transpose of the last two dims.
    pub fn mt(&self) -> Result<Tensor> {
        if self.ndim() < 2 {
            bail!(Runtime, "tensor.mT is only supported on matrices or batches of matrices. Got {}-D tensor.", self.ndim());
        }
        self.transpose(-2, -1)
    }

    pub fn permute(&self, dims: &[i64]) -> Result<Tensor> {
        let l = self.layout();
        let n = l.ndim();
        if dims.len() != n {
            bail!(
                Runtime,
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {} is not equal to len(dims) = {}",
                n,
                dims.len()
            );
        }
        let perm = wrap_dims(dims, n)?;
        let mut inv = vec![0i64; n];
        for (i, &p) in perm.iter().enumerate() {
            inv[p] = i as i64;
        }
        Ok(self.view_op(l.permute(&perm), "PermuteBackward0", move |g| g.permute(&inv)))
    }

    pub fn movedim(&self, src: i64, dst: i64) -> Result<Tensor> {
        let n = self.ndim();
        let (s, d) = (wrap_dim(src, n)?, wrap_dim(dst, n)?);
        let mut order: Vec<usize> = (0..n).filter(|&i| i != s).collect();
        order.insert(d, s);
        let o: Vec<i64> = order.iter().map(|&x| x as i64).collect();
        self.permute(&o)
    }

    /// `expand(sizes)`; -1 keeps a size.
    pub fn expand(&self, sizes: &[i64]) -> Result<Tensor> {
        let l = self.layout();
        if sizes.len() < l.ndim() {
            bail!(
                Runtime,
                "expand(torch.{}{{{}}}, size={}): the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                self.dtype().legacy_name(),
                fmt_shape(&l.shape),
                fmt_shape(&sizes.iter().map(|&d| d.max(0) as usize).collect::<Vec<_>>()),
                sizes.len(),
                l.ndim()
            );
        }
        let lead = sizes.len() - l.ndim();
        let mut target = Vec::with_capacity(sizes.len());
        for (i, &s) in sizes.iter().enumerate() {
            if s == -1 {
                if i < lead {
                    bail!(Runtime, "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {}", i);
                }
                target.push(l.shape[i - lead]);
            } else if s < 0 {
                bail!(Runtime, "The expanded size of the tensor ({}) isn't allowed", s);
            } else {
                target.push(s as usize);
            }
        }
        let nl = l.broadcast_to(&target)?;
        let old = l.shape.clone();
        Ok(self.view_op(nl, "ExpandBackward0", move |g| g.sum_to_size(&old)))
    }
    pub fn expand_usize(&self, shape: &[usize]) -> Result<Tensor> {
        let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        self.expand(&s)
    }
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        self.expand_usize(shape)
    }

    pub fn narrow(&self, dim: i64, start: i64, length: i64) -> Result<Tensor> {
        let l = self.layout();
        if l.ndim() == 0 {
            bail!(Runtime, "narrow() cannot be applied to a 0-dim tensor.");
        }
        let d = wrap_dim(dim, l.ndim())?;
        let size = l.shape[d] as i64;
        let st = if start < 0 { start + size } else { start };
        if st < 0 || st > size {
            bail!(Index, "start out of range (expected to be in range of [{}, {}], but got {})", -size, size, start);
        }
        if length < 0 || st + length > size {
            bail!(Runtime, "start ({}) + length ({}) exceeds dimension size ({}).", st, length, size);
        }
        let (s, n) = (st as usize, length as usize);
        Ok(self.subview_op(l.narrow(d, s, n), "SliceBackward0", move |t| t.narrow(d as i64, s as i64, n as i64)))
    }

    pub fn select(&self, dim: i64, index: i64) -> Result<Tensor> {
        let l = self.layout();
        if l.ndim() == 0 {
            bail!(Index, "select() cannot be applied to a 0-dim tensor.");
        }
        let d = wrap_dim(dim, l.ndim())?;
        let size = l.shape[d] as i64;
        if index < -size || index >= size {
            bail!(Index, "index {} is out of bounds for dimension {} with size {}", index, d, size);
        }
        let i = if index < 0 { index + size } else { index } as usize;
        Ok(self.subview_op(l.select(d, i), "SelectBackward0", move |t| t.select(d as i64, i as i64)))
    }

    /// Python slicing `start:stop:step` along `dim` (already clamped by the caller or here).
    pub fn slice(&self, dim: i64, start: Option<i64>, stop: Option<i64>, step: i64) -> Result<Tensor> {
        let l = self.layout();
        let d = wrap_dim(dim, l.ndim())?;
        if step <= 0 {
            bail!(Value, "step must be greater than zero");
        }
        let size = l.shape[d] as i64;
        let clamp = |v: i64| -> i64 {
            let v = if v < 0 { v + size } else { v };
            v.clamp(0, size)
        };
        let s = clamp(start.unwrap_or(0)) as usize;
        let e = clamp(stop.unwrap_or(size)).max(s as i64) as usize;
        let st = step as usize;
        Ok(self.subview_op(l.slice(d, s, e, st), "SliceBackward0", move |t| t.slice(d as i64, Some(s as i64), Some(e as i64), st as i64)))
    }

    pub fn unbind(&self, dim: i64) -> Result<Vec<Tensor>> {
        let d = crate::shape::wrap_dim_of_sizes(dim, self.ndim())?;
        let n = self.shape()[d];
        let mut out = crate::storage::try_with_capacity(n)?;
        self.probe_views(n)?;
        for i in 0..n {
            out.push(self.select(d as i64, i as i64)?);
        }
        Ok(out)
    }

    /// `split(split_size)`: chunks of `size` along dim (the last may be smaller).
    pub fn split(&self, size: i64, dim: i64) -> Result<Vec<Tensor>> {
        self.check_not_scalar("split")?;
        let d = wrap_dim(dim, self.ndim())?;
        let n = self.shape().get(d).copied().unwrap_or(1) as i64;
        if size < 0 || (size == 0 && n != 0) {
            bail!(Runtime, "split_size can only be 0 if dimension size is 0, but got dimension size of {}", n);
        }
        if n == 0 {
            return Ok(vec![self.narrow(d as i64, 0, 0)?]);
        }
        // Reserved (fallibly) first: an expanded dim of 2**40 asks for that many views.
        let pieces = ((n - 1) / size + 1) as usize;
        let mut out = crate::storage::try_with_capacity(pieces)?;
        self.probe_views(pieces)?;
        let mut s = 0;
        while s < n {
            out.push(self.narrow(d as i64, s, size.min(n - s))?);
            s += size;
        }
        Ok(out)
    }

    /// `split([sizes])`.
    pub fn split_sizes(&self, sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
        self.check_not_scalar("split")?;
        let d = wrap_dim(dim, self.ndim())?;
        let n = self.shape()[d] as i64;
        if sizes.iter().sum::<i64>() != n || sizes.iter().any(|&s| s < 0) {
            bail!(
                Runtime,
                "split_with_sizes expects split_sizes to sum exactly to {} (input tensor's size at dimension {}), but got split_sizes={:?}",
                n,
                d,
                sizes
            );
        }
        let mut out = crate::storage::try_with_capacity(sizes.len())?;
        self.probe_views(sizes.len())?;
        let mut s = 0;
        for &len in sizes {
            out.push(self.narrow(d as i64, s, len)?);
            s += len;
        }
        Ok(out)
    }

    /// Check that `n` views of this tensor fit in memory before making them one by one:
    /// each is a small allocation (its `TensorImpl`, sizes and strides past the inline
    /// ones, and an autograd node when it records one) that aborts the process if it fails.
    fn probe_views(&self, n: usize) -> Result<()> {
        let nd = self.ndim();
        let dims = if nd > 6 { 2 * nd * std::mem::size_of::<usize>() } else { 0 };
        let node = if self.requires_grad() { 256 } else { 0 };
        let per_view = std::mem::size_of::<crate::tensor::TensorImpl>() + 32 + dims + node;
        crate::storage::probe_host(crate::storage::checked_mul(n, per_view)?)
    }

    /// split/chunk on a 0-d tensor: `wrap_dim` lets dim 0 through (a scalar counts as one
    /// dim there, as in PyTorch), but there is no size to split.
    fn check_not_scalar(&self, op: &str) -> Result<()> {
        if self.ndim() == 0 {
            bail!(Runtime, "{} expects at least a 1-dimensional tensor", op);
        }
        Ok(())
    }

    pub fn chunk(&self, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
        if chunks <= 0 {
            bail!(Runtime, "chunk expects `chunks` to be greater than 0, got: {}", chunks);
        }
        self.check_not_scalar("chunk")?;
        let d = wrap_dim(dim, self.ndim())?;
        let n = self.shape()[d] as i64;
        if n == 0 {
            // PyTorch gives `chunks` empty pieces here (split would give one). The list is
            // reserved first: chunk(2**40) is then an out-of-memory error, not a process
            // the OS kills.
            let mut out = crate::storage::try_with_capacity(chunks as usize)?;
            self.probe_views(chunks as usize)?;
            for _ in 0..chunks {
                out.push(self.narrow(d as i64, 0, 0)?);
            }
            return Ok(out);
        }
        self.split((n + chunks - 1) / chunks, d as i64)
    }

    pub fn diagonal(&self, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
        let l = self.layout();
        let n = l.ndim();
        let (a, b) = (wrap_dim(dim1, n)?, wrap_dim(dim2, n)?);
        if a == b {
            bail!(Runtime, "diagonal dimensions cannot be identical {}, {}", dim1, dim2);
        }
        let (sa, sb) = (l.shape[a] as i64, l.shape[b] as i64);
        let (len, off) = if offset >= 0 {
            ((sa.min(sb - offset)).max(0), if sb - offset > 0 { offset as usize * l.strides[b] } else { 0 })
        } else {
            ((sa + offset).min(sb).max(0), if sa + offset > 0 { (-offset) as usize * l.strides[a] } else { 0 })
        };
        let mut shape = vec![];
        let mut strides = vec![];
        for i in 0..n {
            if i != a && i != b {
                shape.push(l.shape[i]);
                strides.push(l.strides[i]);
            }
        }
        shape.push(len as usize);
        strides.push(l.strides[a] + l.strides[b]);
        let nl = Layout { shape: shape.into(), strides: strides.into(), offset: l.offset + if len > 0 { off } else { 0 } };
        Ok(self.subview_op(nl, "DiagonalBackward0", move |t| t.diagonal(offset, a as i64, b as i64)))
    }

    /// `unfold(dim, size, step)`: sliding windows as a new last dim.
    pub fn unfold(&self, dim: i64, size: i64, step: i64) -> Result<Tensor> {
        let l = self.layout();
        let d = if l.ndim() == 0 { 0 } else { wrap_dim(dim, l.ndim())? };
        let dsize = if l.ndim() == 0 { 1 } else { l.shape[d] } as i64;
        if size < 0 || size > dsize {
            bail!(Runtime, "maximum size for tensor at dimension {} is {} but size is {}", d, dsize, size);
        }
        if step <= 0 {
            bail!(Runtime, "step is {} but must be > 0", step);
        }
        let mut nl = l.clone();
        if l.ndim() == 0 {
            nl.shape = Dims::from([size as usize]);
            nl.strides = Dims::from([1]);
        } else {
            let count = (dsize - size) / step + 1;
            let st = l.strides[d];
            nl.shape[d] = count as usize;
            nl.strides[d] = st * step as usize;
            nl.shape.push(size as usize);
            nl.strides.push(st);
        }
        let in_shape = l.shape.clone();
        let dtype = self.dtype();
        Ok(self.view_op(nl, "UnfoldBackward0", move |g| {
            // Windows may overlap: accumulate window by window.
            let acc = Tensor::zeros(&in_shape, g.dtype(), g.device())?;
            if in_shape.is_empty() {
                return g.sum_to_size(&[]);
            }
            let count = g.shape()[d];
            let mut acc = acc;
            for w in 0..count {
                let gw = g.select(d as i64, w as i64)?.movedim(-1, d as i64)?;
                let region = acc.narrow(d as i64, (w as i64) * step, size)?;
                let padded = view_scatter(&gw, &in_shape, dtype, move |t| t.narrow(d as i64, (w as i64) * step, size))?;
                let _ = region;
                acc = acc.add(&padded)?;
            }
            Ok(acc)
        }))
    }

    /// `as_strided(size, stride, offset)` over this tensor's storage.
    pub fn as_strided(&self, size: &[usize], stride: &[usize], offset: Option<usize>) -> Result<Tensor> {
        if size.len() != stride.len() {
            bail!(Runtime, "mismatch in length of strides and shape");
        }
        let d = self.data();
        let nl = Layout { shape: size.into(), strides: stride.into(), offset: offset.unwrap_or(d.layout.offset) };
        let Some(need) = nl.checked_required_len().and_then(|n| n.checked_mul(d.dtype.size())) else {
            bail!(Runtime, "Storage size calculation overflowed with sizes={:?} and strides={:?}", size, stride);
        };
        if need > d.storage.nbytes() {
            bail!(
                Runtime,
                "setStorage: sizes {}, strides {}, storage offset {}, and itemsize {} requiring a storage size of {} are out of bounds for storage of size {}",
                fmt_shape(size),
                fmt_shape(stride),
                nl.offset,
                d.dtype.size(),
                need,
                d.storage.nbytes()
            );
        }
        drop(d);
        Ok(self.view_of(nl))
    }

    /// The last step of the in-place view ops (`unsqueeze_`, `t_`, `as_strided_`,
    /// `resize_`): self becomes `view`, a view the caller computed from self — its
    /// storage, layout and autograd history — and its version is bumped. PyTorch's
    /// in-place checks (a leaf that requires grad) come first, so a refused op changes
    /// nothing.
    pub fn become_view(&self, view: &Tensor) -> Result<()> {
        crate::autograd::check_inplace(self)?;
        if view.dtype() != self.dtype() || view.device() != self.device() {
            bail!(
                Runtime,
                "in-place view op: the view has dtype {} on {}, the tensor {} on {}",
                super::pretty_dtype(view.dtype()),
                view.device(),
                super::pretty_dtype(self.dtype()),
                self.device()
            );
        }
        let d = view.data().clone();
        d.storage.bump_version();
        // A view on other storage (`resize_` that grew) leaves self owning that storage:
        // it is no longer a view of its old base. (On the same storage self keeps its
        // base; taking the view's would make self its own base when it had none.)
        if !d.storage.same(&self.data().storage) {
            self.meta().view_base = None;
        }
        self.set_data(d);
        if view.grad_fn().is_some() {
            crate::autograd::move_history(view, self);
        }
        Ok(())
    }

    /// A view of self with `layout`: shares the storage and remembers its base (the
    /// root tensor, so a view of a view points at the original).
    fn view_of(&self, layout: Layout) -> Tensor {
        let out = self.with_layout(layout);
        let base = self.meta().view_base.clone().unwrap_or_else(|| self.clone());
        out.meta().view_base = Some(base);
        out
    }
}

/// For each element of `view` (a view of `base`'s storage), its flat index in `base`
/// (row-major over base's shape), as an i64 tensor of the view's shape.
fn view_positions(base: &Tensor, view: &Tensor) -> Result<Tensor> {
    let (bl, vl) = (base.layout(), view.layout());
    let offsets = |l: &Layout| -> Result<Vec<usize>> { crate::storage::try_collect(l.numel(), (0..l.numel()).map(|i| crate::cpu::reduce::offset_of(l, i))) };
    let boffs = offsets(&bl)?;
    let span = boffs.iter().max().map_or(0, |m| m + 1);
    let mut inverse = crate::storage::try_vec(span, -1i64)?;
    for (flat, &o) in boffs.iter().enumerate() {
        inverse[o] = flat as i64;
    }
    let voffs = offsets(&vl)?;
    let pos = crate::storage::try_collect(voffs.len(), voffs.iter().map(|&o| inverse.get(o).copied().unwrap_or(-1)))?;
    if pos.iter().any(|&p| p < 0) {
        bail!(Runtime, "in-place operation on a view whose elements are not all part of its base");
    }
    Tensor::from_vec(pos, &vl.shape)
}

/// PyTorch's CopySlices: `view` (of `base`) was overwritten in place with a value whose
/// history is `src`'s. The base's new history: its old value outside the view, `src`
/// inside it; the view's: a view of the new base. Built from tensor ops (where,
/// index_select, index_add), so it is differentiable again.
pub(crate) fn copy_slices(base: &Tensor, view: &Tensor, src: &Tensor) -> Result<()> {
    let (bshape, vshape) = (base.shape(), view.shape());
    let (flat_idx, mask) = {
        let _ng = crate::autograd::NoGradGuard::new();
        let flat_idx = view_positions(base, view)?.reshape(&[-1])?;
        let n = base.numel();
        let ones = Tensor::ones(&[flat_idx.numel()], crate::DType::Bool, base.device())?;
        let mask = Tensor::zeros(&[n], crate::DType::Bool, base.device())?.scatter(0, &flat_idx, &ones)?;
        (flat_idx, mask.reshape_usize(&bshape)?)
    };
    let carrier = base.alias();
    {
        let (idx, vshape) = (flat_idx.clone(), vshape.clone());
        record("CopySlices", &[base, src], &[&carrier], move |_, g| {
            let Some(g) = &g[0] else { return Ok(vec![None, None]) };
            let zero = Tensor::zeros(&[], g.dtype(), g.device())?;
            let g_old = Tensor::where_(&mask, &zero, g)?;
            let g_src = g.reshape(&[-1])?.index_select(0, &idx)?.reshape_usize(&vshape)?;
            Ok(vec![Some(g_old), Some(g_src)])
        });
    }
    crate::autograd::move_history(&carrier, base);
    let vcarrier = view.alias();
    let n = base.numel();
    record("AsStridedBackward0", &[base], &[&vcarrier], move |_, g| {
        let Some(g) = &g[0] else { return Ok(vec![None]) };
        let z = Tensor::zeros(&[n], g.dtype(), g.device())?;
        Ok(vec![Some(z.index_add(0, &flat_idx, &g.reshape(&[-1])?, crate::Scalar::Int(1))?.reshape_usize(&bshape)?)])
    });
    crate::autograd::move_history(&vcarrier, view);
    Ok(())
}

/// zeros(shape) with `g` written into the region `apply(zeros)` selects; differentiable
/// (its backward applies the same view to the incoming gradient).
pub(crate) fn view_scatter(
    g: &Tensor,
    shape: &[usize],
    _dtype: crate::dtype::DType,
    apply: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + Clone + 'static,
) -> Result<Tensor> {
    let out = Tensor::zeros(shape, g.dtype(), g.device())?;
    {
        let _ng = crate::autograd::NoGradGuard::new();
        let region = apply(&out)?;
        region.copy_(&g.detach())?;
    }
    if needs_grad(&[g]) {
        let ap = apply.clone();
        record("ViewScatterBackward", &[g], &[&out], move |_, gg| Ok(vec![gg[0].as_ref().map(&ap).transpose()?]));
    }
    Ok(out)
}
