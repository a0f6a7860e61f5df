//! Indexing: gather/scatter/index_select/index_add/masked_select/nonzero and Python's
//! `__getitem__`/`__setitem__` (basic indices become views, advanced ones a gather).

use crate::autograd::{needs_grad, record};
use crate::backend::Composite;
use crate::ops::elementwise::inplace_via;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::shape::{broadcast_shapes, fmt_shape, wrap_dim, Dims, Layout};
use crate::tensor::Tensor;
use crate::Arg;
use crate::{bail, dispatch, err};

/// One component of a Python index expression.
#[derive(Clone)]
pub enum TensorIndex {
    Int(i64),
    Slice(Option<i64>, Option<i64>, i64),
    None,
    Ellipsis,
    Tensor(Tensor),
}

/// One item of an index expression as a binding received it, its values already converted
/// (from Python objects, for the Python binding); [`IndexItem::resolve`] applies PyTorch's
/// rules to make it a [`TensorIndex`].
#[derive(Clone)]
pub enum IndexItem {
    /// `True` / `False`: a 0-d bool mask (a new dim of size 1 or 0).
    Bool(bool),
    Int(i64),
    /// `start:stop:step`, each given or not; a given step must be positive.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    None,
    Ellipsis,
    /// A tensor used as an index: a 0-d integral one is an integer index.
    Tensor(Tensor),
    /// A tensor made from index data (a nested list, a range, an array): it stays a tensor
    /// index even when 0-d, and is int64 unless bool (floats truncate, as PyTorch's).
    Data(Tensor),
}

/// An [`IndexItem`] made a [`TensorIndex`]. `was_uint8`: the item was a uint8 tensor,
/// taken as a bool mask (deprecated: PyTorch warns, which is the binding's to do).
pub struct ResolvedIndex {
    pub index: TensorIndex,
    pub was_uint8: bool,
}

const BAD_INDEX_DTYPE: &str = "tensors used as indices must be long, int, byte or bool tensors";

impl IndexItem {
    pub fn resolve(self) -> Result<ResolvedIndex> {
        let mut was_uint8 = false;
        let index = match self {
            IndexItem::Bool(b) => TensorIndex::Tensor(Tensor::scalar(Scalar::Bool(b), DType::Bool)?),
            IndexItem::Int(i) => TensorIndex::Int(i),
            IndexItem::Slice(start, stop, step) => {
                let step = step.unwrap_or(1);
                if step == 0 {
                    bail!(Value, "slice step cannot be zero");
                }
                if step < 0 {
                    bail!(Value, "step must be greater than zero");
                }
                TensorIndex::Slice(start, stop, step)
            }
            IndexItem::None => TensorIndex::None,
            IndexItem::Ellipsis => TensorIndex::Ellipsis,
            IndexItem::Tensor(t) => {
                let (t, u8) = uint8_mask(t)?;
                was_uint8 = u8;
                if t.ndim() == 0 && !t.dtype().is_float() && t.dtype() != DType::Bool {
                    TensorIndex::Int(t.item()?.to_i64())
                } else if matches!(t.dtype(), DType::I8 | DType::I16) || t.dtype().is_float() {
                    bail!(Index, "{}", BAD_INDEX_DTYPE);
                } else {
                    TensorIndex::Tensor(t)
                }
            }
            IndexItem::Data(t) => {
                let (t, u8) = uint8_mask(t)?;
                was_uint8 = u8;
                // As PyTorch's indexing_tensor_from_data: data other than bool (or uint8) is
                // an int64 index, floats truncated (`x[[0.5, 1]]` is `x[[0, 1]]`; an empty
                // list, inferred float, is an empty index).
                if t.dtype() != DType::Bool && t.dtype() != DType::I64 {
                    TensorIndex::Tensor(t.to_dtype(DType::I64)?)
                } else {
                    TensorIndex::Tensor(t)
                }
            }
        };
        Ok(ResolvedIndex { index, was_uint8 })
    }
}

/// PyTorch's deprecated uint8 masks: a uint8 tensor where a mask is taken (an index,
/// `where`'s condition) is a bool mask, nonzero meaning true; as an integer index it would
/// pick other elements silently. The flag says it was uint8, for the caller to warn.
pub fn uint8_mask(t: Tensor) -> Result<(Tensor, bool)> {
    if t.dtype() != DType::U8 {
        return Ok((t, false));
    }
    Ok((t.to_dtype(DType::Bool)?, true))
}

fn index_values(index: &Tensor) -> Result<Vec<i64>> {
    match index.dtype() {
        DType::I64 | DType::I32 | DType::I16 | DType::I8 | DType::U8 => index.to_vec::<i64>(),
        d => bail!(Runtime, "gather(): Expected dtype int64 for index, got {}", d.name()),
    }
}

/// `indices` with every index tensor on the CPU (positions are computed on the host).
fn host_indices(indices: &[TensorIndex]) -> Result<Vec<TensorIndex>> {
    indices
        .iter()
        .map(|i| match i {
            TensorIndex::Tensor(t) if t.device() != crate::Device::Cpu => Ok(TensorIndex::Tensor(t.to_device_raw(crate::Device::Cpu)?)),
            other => Ok(other.clone()),
        })
        .collect()
}

/// An int64 index tensor's data on `device` (gather/scatter kernels read i64 indices;
/// values were bounds-checked on the host already).
fn index_on(index: &Tensor, device: crate::Device) -> Result<crate::tensor::TensorData> {
    Arg::T(index).data_on(DType::I64, device)
}

/// `advanced_plan`'s result: (broadcast shape of the indices, flat source offset per
/// index position, layout of the remaining (non-indexed) dims, position of the
/// broadcast dims in the result, and per indexed dim its bounds-checked non-negative
/// index values).
type AdvancedPlan = (Vec<usize>, Vec<usize>, Layout, usize, Vec<(usize, Vec<usize>)>);

impl Tensor {
    /// `gather(dim, index)`.
    pub fn gather(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        let shape = self.shape();
        let ishape = index.shape();
        let d = wrap_dim(dim, shape.len())?;
        if index.dtype() != DType::I64 {
            bail!(Runtime, "gather(): Expected dtype int64 for index");
        }
        if ishape.len() != shape.len().max(1) && !(shape.is_empty() && ishape.len() <= 1) {
            bail!(Runtime, "Index tensor must have the same number of dimensions as input tensor");
        }
        for k in 0..ishape.len() {
            if k != d && shape.get(k).map(|&s| ishape[k] > s).unwrap_or(false) {
                bail!(
                    Runtime,
                    "Size does not match at dimension {} expected index {} to be smaller than self {} apart from dimension {}",
                    k,
                    fmt_shape(&ishape),
                    fmt_shape(&shape),
                    d
                );
            }
        }
        let size = shape.get(d).copied().unwrap_or(1) as i64;
        let idx = index_values(index)?;
        if let Some(&bad) = idx.iter().find(|&&v| v < 0 || v >= size) {
            bail!(Runtime, "index {} is out of bounds for dimension {} with size {}", bad, d, size);
        }
        let xd = self.data().clone();
        let out = Tensor::empty_on(&ishape, xd.dtype, self.device())?;
        let ix = index_on(index, self.device())?;
        crate::backend::of(self.device()).gather(&xd, d, &ix, &idx, &out.data())?;
        if needs_grad(&[self]) {
            let ix = index.clone();
            record("GatherBackward0", &[self], &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let z = Tensor::zeros(&shape, g.dtype(), g.device())?;
                Ok(vec![Some(z.scatter_add(d as i64, &ix, g)?)])
            });
        }
        Ok(out)
    }

    fn scatter_impl(&self, dim: i64, index: &Tensor, src: &Tensor, add: bool) -> Result<Tensor> {
        let shape = self.shape();
        let d = wrap_dim(dim, shape.len())?;
        if index.dtype() != DType::I64 {
            bail!(Runtime, "scatter(): Expected dtype int64 for index");
        }
        let ishape = index.shape();
        if ishape.len() != shape.len().max(1) && !shape.is_empty() {
            bail!(Runtime, "Index tensor must have the same number of dimensions as self tensor");
        }
        let size = shape.get(d).copied().unwrap_or(1) as i64;
        let idx = index_values(index)?;
        if let Some(&bad) = idx.iter().find(|&&v| v < 0 || v >= size) {
            bail!(Runtime, "index {} is out of bounds for dimension {} with size {}", bad, d, size);
        }
        let sshape = src.shape();
        for k in 0..ishape.len() {
            if sshape.get(k).map(|&s| ishape[k] > s).unwrap_or(false) || (k != d && shape.get(k).map(|&s| ishape[k] > s).unwrap_or(false)) {
                bail!(
                    Runtime,
                    "Expected index {} to be smaller than self {} apart from dimension {} and to be smaller size than src {}",
                    fmt_shape(&ishape),
                    fmt_shape(&shape),
                    d,
                    fmt_shape(&sshape)
                );
            }
        }
        let out = self.contiguous_copy()?;
        let srcc = if src.dtype() != self.dtype() { src.to_dtype_raw(self.dtype())? } else { src.clone() };
        let od = out.data().clone();
        let sd = Arg::T(&srcc).data_on(self.dtype(), self.device())?;
        let ix = index_on(index, self.device())?;
        crate::backend::of(self.device()).scatter(&od, d, &ix, &idx, &sd, add)?;
        if needs_grad(&[self, src]) {
            let ix = index.clone();
            let src_shape = sshape.clone();
            let src_needs = src.requires_grad();
            record(if add { "ScatterAddBackward0" } else { "ScatterBackward0" }, &[self, src], &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None, None]) };
                let gs = if add { g.clone() } else { g.scatter_value(d as i64, &ix, Scalar::Float(0.0))? };
                let gsrc = if src_needs {
                    let gg = g.gather(d as i64, &ix)?;
                    // src may be larger than index: pad with zeros.
                    if gg.shape() == src_shape {
                        Some(gg)
                    } else {
                        let z = Tensor::zeros(&src_shape, gg.dtype(), gg.device())?;
                        let mut region = z.clone();
                        for (k, &s) in gg.shape().iter().enumerate() {
                            region = region.narrow(k as i64, 0, s as i64)?;
                        }
                        let _ng = crate::autograd::NoGradGuard::new();
                        region.copy_(&gg)?;
                        Some(z)
                    }
                } else {
                    None
                };
                Ok(vec![Some(gs), gsrc])
            });
        }
        Ok(out)
    }
    pub fn scatter(&self, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_impl(dim, index, src, false)
    }
    pub fn scatter_add(&self, dim: i64, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_impl(dim, index, src, true)
    }
    pub fn scatter_value(&self, dim: i64, index: &Tensor, value: Scalar) -> Result<Tensor> {
        let src = Tensor::full(&index.shape(), value, self.dtype(), self.device())?;
        self.scatter_impl(dim, index, &src, false)
    }
    // The in-place forms compute the result from self first, then write it (so an
    // index or shape error comes before the in-place checks).
    /// `scatter_(dim, index, src)`.
    pub fn scatter_(&self, dim: i64, index: &Tensor, src: &Tensor) -> Result<()> {
        let r = self.scatter(dim, index, src)?;
        inplace_via(self, false, |_| Ok(r))
    }
    /// `scatter_(dim, index, value=v)`.
    pub fn scatter_value_(&self, dim: i64, index: &Tensor, value: Scalar) -> Result<()> {
        let r = self.scatter_value(dim, index, value)?;
        inplace_via(self, false, |_| Ok(r))
    }
    /// `scatter_add_(dim, index, src)`.
    pub fn scatter_add_(&self, dim: i64, index: &Tensor, src: &Tensor) -> Result<()> {
        let r = self.scatter_add(dim, index, src)?;
        inplace_via(self, false, |_| Ok(r))
    }

    /// `index_select(dim, index)` with a 1-d (or 0-d) integer index.
    pub fn index_select(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        if index.ndim() > 1 {
            bail!(Index, "index_select(): Index is supposed to be a vector");
        }
        if !matches!(index.dtype(), DType::I64 | DType::I32) {
            bail!(Runtime, "index_select(): Expected dtype int32 or int64 for index");
        }
        let shape = self.shape();
        let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
        let size = shape.get(d).copied().unwrap_or(1) as i64;
        let idx = index.to_vec::<i64>()?;
        if let Some(&bad) = idx.iter().find(|&&v| v < 0 || v >= size) {
            bail!(Index, "index out of range in self: index {} is out of bounds for dimension {} with size {}", bad, d, size);
        }
        let mut out_shape = shape.clone();
        if !out_shape.is_empty() {
            out_shape[d] = idx.len();
        }
        let xd = self.data().clone();
        let out = Tensor::empty_on(&out_shape, xd.dtype, self.device())?;
        if shape.is_empty() {
            crate::ops::copy_data(&xd, &out.data())?;
        } else {
            crate::backend::of(self.device()).index_select(&xd, d, &idx, &out.data())?;
        }
        if needs_grad(&[self]) {
            let ix = index.clone();
            record("IndexSelectBackward0", &[self], &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                let z = Tensor::zeros(&shape, g.dtype(), g.device())?;
                if shape.is_empty() {
                    return Ok(vec![Some(g.reshape(&[])?)]);
                }
                Ok(vec![Some(z.index_add(d as i64, &ix, g, Scalar::Int(1))?)])
            });
        }
        Ok(out)
    }

    /// Out-of-place `index_add(dim, index, source, alpha)`.
    pub fn index_add(&self, dim: i64, index: &Tensor, source: &Tensor, alpha: Scalar) -> Result<Tensor> {
        let shape = self.shape();
        let d = if shape.is_empty() { 0 } else { wrap_dim(dim, shape.len())? };
        let idx = index.to_vec::<i64>()?;
        let size = shape.get(d).copied().unwrap_or(1) as i64;
        if let Some(&bad) = idx.iter().find(|&&v| v < 0 || v >= size) {
            bail!(Index, "index_add_(): index {} is out of bounds for dimension {} with size {}", bad, d, size);
        }
        let sshape = source.shape();
        let mut expect = shape.clone();
        if !expect.is_empty() {
            expect[d] = idx.len();
        }
        if sshape != expect && !(shape.is_empty() && source.numel() == 1) {
            bail!(
                Runtime,
                "index_add_(): Source/destination tensor must have same slice shapes. Destination slice shape: {} at dimension {} and source slice shape: {} at dimension 0.",
                fmt_shape(&shape),
                d,
                fmt_shape(&sshape)
            );
        }
        let src = if alpha == Scalar::Int(1) { source.clone() } else { source.mul(alpha)? };
        let out = self.contiguous_copy()?;
        {
            let _ng = crate::autograd::NoGradGuard::new();
            let s = src.detach();
            for (i, &v) in idx.iter().enumerate() {
                if shape.is_empty() {
                    out.add_(&s.reshape(&[])?)?;
                } else {
                    out.select(d as i64, v)?.add_(&s.select(d as i64, i as i64)?)?;
                }
            }
        }
        if needs_grad(&[self, &src]) {
            let ix = index.clone();
            let src_needs = src.requires_grad();
            let empty = shape.is_empty();
            record("IndexAddBackward0", &[self, &src], &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None, None]) };
                let gs = if !src_needs { None } else if empty { Some(g.reshape_usize(&sshape)?) } else { Some(g.index_select(d as i64, &ix)?) };
                Ok(vec![Some(g.clone()), gs])
            });
        }
        Ok(out)
    }
    pub fn index_add_(&self, dim: i64, index: &Tensor, source: &Tensor, alpha: Scalar) -> Result<()> {
        crate::ops::elementwise::inplace_via(self, false, |x| x.index_add(dim, index, source, alpha))
    }

    /// Indices of non-zero elements: [n, ndim] int64.
    pub fn nonzero(&self) -> Result<Tensor> {
        let shape = self.shape();
        let vals = self.ne(Scalar::Int(0))?.to_vec::<bool>()?;
        let nd = shape.len();
        // Counted first, so that the result is one (fallible) tensor allocation.
        let count = vals.iter().filter(|&&v| v).count();
        let out = Tensor::empty(&[count, nd], DType::I64, crate::Device::Cpu)?;
        let strides = crate::shape::contiguous_strides(&shape);
        // SAFETY: out is a fresh contiguous [count, nd] i64 tensor.
        let o = unsafe { std::slice::from_raw_parts_mut(out.data().ptr::<i64>(), count * nd) };
        let mut at = 0;
        for (i, &v) in vals.iter().enumerate() {
            if v {
                for k in 0..nd {
                    o[at] = ((i / strides[k]) % shape[k]) as i64;
                    at += 1;
                }
            }
        }
        out.to_device_raw(self.device())
    }

    pub fn masked_select(&self, mask: &Tensor) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            bail!(Runtime, "masked_select: expected BoolTensor for mask");
        }
        let shape = broadcast_shapes(&self.shape(), &mask.shape())?;
        let x = self.expand_usize(&shape)?;
        let m = mask.expand_usize(&shape)?;
        let mv = m.to_vec::<bool>()?;
        let n = mv.iter().filter(|&&b| b).count();
        let flat_idx = crate::storage::try_collect(n, mv.iter().enumerate().filter(|(_, &b)| b).map(|(i, _)| i as i64))?;
        drop(mv);
        x.reshape(&[-1])?.index_select(0, &Tensor::from_vec(flat_idx, &[n])?)
    }

    // ---- Python indexing ---------------------------------------------------------

    /// Apply the basic part of an index (ints, slices, None, Ellipsis) as views; return
    /// the view and, for each advanced (tensor) index, (dim in the view, index tensor).
    fn apply_basic(&self, indices: &[TensorIndex]) -> Result<(Tensor, Vec<(usize, Tensor)>)> {
        let nd = self.ndim();
        // Dims consumed by each entry.
        let consumed: usize = indices
            .iter()
            .map(|i| match i {
                TensorIndex::Int(_) | TensorIndex::Slice(..) => 1,
                TensorIndex::Tensor(t) if t.dtype() == DType::Bool => t.ndim(),
                TensorIndex::Tensor(_) => 1,
                _ => 0,
            })
            .sum();
        if consumed > nd {
            bail!(Index, "too many indices for tensor of dimension {}", nd);
        }
        // The first ellipsis stands for the dims no other index takes. PyTorch accepts more
        // than one (`x[..., ...]`): each later one skips that many dims again, which only
        // an index after it notices (too many indices).
        let mut expanded: Vec<TensorIndex> = vec![];
        let mut saw_ellipsis = false;
        for i in indices {
            if let TensorIndex::Ellipsis = i {
                if saw_ellipsis {
                    expanded.push(TensorIndex::Ellipsis);
                    continue;
                }
                saw_ellipsis = true;
                for _ in 0..nd - consumed {
                    expanded.push(TensorIndex::Slice(None, None, 1));
                }
            } else {
                expanded.push(i.clone());
            }
        }
        let mut v = self.clone();
        let mut dim = 0usize;
        let mut adv: Vec<(usize, Tensor)> = vec![];
        for i in expanded {
            let takes = match &i {
                TensorIndex::Int(_) | TensorIndex::Slice(..) => 1,
                TensorIndex::Tensor(t) if t.dtype() == DType::Bool => t.ndim(),
                TensorIndex::Tensor(_) => 1,
                _ => 0,
            };
            if takes > 0 && dim + takes > v.ndim() {
                if let TensorIndex::Int(k) = i {
                    // PyTorch's words: the dim past the end has size 0 for it
                    bail!(Index, "index {} is out of bounds for dimension {} with size 0", k, dim);
                }
                bail!(Index, "too many indices for tensor of dimension {}", nd);
            }
            match i {
                TensorIndex::Int(k) => {
                    let size = v.shape()[dim] as i64;
                    if k < -size || k >= size {
                        bail!(Index, "index {} is out of bounds for dimension {} with size {}", k, dim, size);
                    }
                    v = v.select(dim as i64, k)?;
                }
                TensorIndex::Slice(s, e, st) => {
                    v = v.slice(dim as i64, s, e, st)?;
                    dim += 1;
                }
                TensorIndex::None => {
                    v = v.unsqueeze(dim as i64)?;
                    dim += 1;
                }
                TensorIndex::Ellipsis => dim += nd - consumed,
                TensorIndex::Tensor(t) => {
                    if t.dtype() == DType::Bool {
                        let vs = v.shape();
                        let ts = t.shape();
                        for (k, &s) in ts.iter().enumerate() {
                            if vs[dim + k] != s {
                                bail!(
                                    Index,
                                    "The shape of the mask {} at index {} does not match the shape of the indexed tensor {} at index {}",
                                    fmt_shape(&ts),
                                    k,
                                    fmt_shape(&vs),
                                    dim + k
                                );
                            }
                        }
                        if ts.is_empty() {
                            // A 0-d bool index adds a dim of size 1 (true) or 0 (false).
                            v = v.unsqueeze(dim as i64)?;
                            let keep = t.item()?.is_nonzero();
                            let ix = Tensor::from_vec::<i64>(if keep { vec![0] } else { vec![] }, &[keep as usize])?;
                            adv.push((dim, ix));
                            dim += 1;
                            continue;
                        }
                        let nz = t.nonzero()?;
                        for k in 0..ts.len() {
                            adv.push((dim + k, nz.select(1, k as i64)?));
                        }
                        dim += ts.len();
                    } else if t.dtype().is_float() {
                        bail!(Index, "tensors used as indices must be long, int, byte or bool tensors");
                    } else {
                        let t = if t.dtype() == DType::I64 { t } else { t.to_dtype_raw(DType::I64)? };
                        adv.push((dim, t));
                        dim += 1;
                    }
                }
            }
        }
        Ok((v, adv))
    }

    /// Broadcast advanced indices, check bounds, and compute the result geometry
    /// (see `AdvancedPlan`).
    fn advanced_plan(v: &Tensor, adv: &[(usize, Tensor)]) -> Result<AdvancedPlan> {
        let vl = v.layout();
        let mut bshape = Dims::new();
        for (_, t) in adv {
            bshape = broadcast_shapes(&bshape, &t.shape()).map_err(|_| {
                err!(
                    Index,
                    "shape mismatch: indexing tensors could not be broadcast together with shapes {}",
                    adv.iter().map(|(_, t)| fmt_shape(&t.shape())).collect::<Vec<_>>().join(", ")
                )
            })?;
        }
        // Checked: broadcast index shapes can multiply past usize (`expand(2**40)` twice).
        let nb = crate::shape::checked_numel(&bshape)?;
        // The index scratch is sized by the (possibly expanded) index tensors, not by any
        // storage: fallible, so a huge index is PyTorch's out-of-memory error.
        let mut offs = crate::storage::try_vec(nb, vl.offset)?;
        let mut wrapped: Vec<(usize, Vec<usize>)> = vec![];
        for (d, t) in adv {
            let mut w = crate::storage::try_with_capacity(nb)?;
            let size = vl.shape[*d] as i64;
            let vals = t.expand_usize(&bshape)?.to_vec::<i64>()?;
            for (o, &x) in offs.iter_mut().zip(&vals) {
                if x < -size || x >= size {
                    bail!(Index, "index {} is out of bounds for dimension {} with size {}", x, d, size);
                }
                let x = if x < 0 { x + size } else { x } as usize;
                *o += x * vl.strides[*d];
                w.push(x);
            }
            wrapped.push((*d, w));
        }
        let dims: Vec<usize> = adv.iter().map(|(d, _)| *d).collect();
        let rest = Layout {
            shape: (0..vl.ndim()).filter(|d| !dims.contains(d)).map(|d| vl.shape[d]).collect(),
            strides: (0..vl.ndim()).filter(|d| !dims.contains(d)).map(|d| vl.strides[d]).collect(),
            offset: 0,
        };
        let mut sorted = dims.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let adjacent = sorted.windows(2).all(|w| w[1] == w[0] + 1);
        // Position of the broadcast dims in the result: where the first advanced index
        // was when they are adjacent, else at the front (NumPy/PyTorch rule).
        let pos = if adjacent { sorted[0] } else { 0 };
        Ok((bshape.into(), offs, rest, pos, wrapped))
    }

    /// `self[indices]`.
    pub fn index(&self, indices: &[TensorIndex]) -> Result<Tensor> {
        if crate::backend::of(self.device()).composes(Composite::AdvancedIndex) && indices.iter().any(|i| matches!(i, TensorIndex::Tensor(_))) {
            // Advanced indexing as a composite (CUDA): the element positions are worked out
            // (and bounds-checked) on the host, then gathered with one index_select.
            let positions = {
                let _ng = crate::autograd::NoGradGuard::new();
                let ids = Tensor::arange_i64(0, self.numel() as i64, 1)?.reshape_usize(&self.shape())?;
                ids.index(&host_indices(indices)?)?
            };
            let flat = positions.reshape(&[-1])?;
            return self.reshape(&[-1])?.index_select(0, &flat)?.reshape_usize(&positions.shape());
        }
        let (v, adv) = self.apply_basic(indices)?;
        if adv.is_empty() {
            if v.same(self) {
                // x[...] / x[:] still returns a new view object.
                return Ok(v.slice_all());
            }
            return Ok(v);
        }
        let (bshape, offs, rest, pos, wrapped) = Tensor::advanced_plan(&v, &adv)?;
        let vd = v.data().clone();
        let nb = offs.len();
        let rn = rest.numel();
        let mut flat_shape = vec![nb];
        flat_shape.extend(rest.shape.iter().copied());
        let out = Tensor::empty(&flat_shape, vd.dtype, v.device())?;
        {
            let od = out.data().clone();
            let dst = Layout::contiguous(&rest.shape);
            dispatch!(vd.dtype, T => {
                for (i, &o) in offs.iter().enumerate() {
                    let src = Layout { offset: o, ..rest.clone() };
                    // SAFETY: offsets were bounds-checked; out slice i is disjoint.
                    unsafe {
                        crate::cpu::cast_copy::<T, T>((vd.storage.ptr() as *const T).add(src.offset), &src, (od.storage.ptr() as *mut T).add(i * rn), &dst)
                    }
                }
            });
        }
        // [nb, rest...] -> [bshape..., rest...] -> move broadcast dims to `pos`.
        let mut full_shape = bshape.clone();
        full_shape.extend(rest.shape.iter().copied());
        let out_raw = out.reshape_usize(&full_shape)?;
        if needs_grad(&[&v]) {
            let vshape = v.shape();
            let nb = offs.len();
            let adv_dims: Vec<usize> = wrapped.iter().map(|(d, _)| *d).collect();
            record("IndexBackward0", &[&v], &[&out_raw], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                // One index_add (duplicates add up) into zeros laid out as [advanced dims
                // flattened, other dims...], then back to v's dim order. Built from tensor
                // ops so that it is differentiable again (double backward). Rejected: a
                // loop of per-index in-place adds (one op per index, not differentiable).
                let rest_dims: Vec<usize> = (0..vshape.len()).filter(|d| !adv_dims.contains(d)).collect();
                let adv_sizes: Vec<usize> = adv_dims.iter().map(|&d| vshape[d]).collect();
                let rest_sizes: Vec<usize> = rest_dims.iter().map(|&d| vshape[d]).collect();
                let flat = crate::storage::try_collect(
                    nb,
                    (0..nb).map(|i| wrapped.iter().zip(&adv_sizes).fold(0usize, |acc, ((_, w), &n)| acc * n + w[i]) as i64),
                )?;
                let flat = Tensor::from_vec(flat, &[nb])?;
                let mut zshape = vec![adv_sizes.iter().product::<usize>()];
                zshape.extend(&rest_sizes);
                let mut src_shape = vec![nb];
                src_shape.extend(&rest_sizes);
                let src = g.reshape_usize(&src_shape)?;
                let z = Tensor::zeros(&zshape, g.dtype(), g.device())?.index_add(0, &flat, &src, Scalar::Int(1))?;
                let mut unflat = adv_sizes.clone();
                unflat.extend(&rest_sizes);
                let mut inverse = vec![0i64; vshape.len()];
                for (j, &d) in adv_dims.iter().chain(&rest_dims).enumerate() {
                    inverse[d] = j as i64;
                }
                Ok(vec![Some(z.reshape_usize(&unflat)?.permute(&inverse)?)])
            });
        }
        let nbd = bshape.len();
        if pos == 0 || nbd == 0 {
            return Ok(out_raw);
        }
        // Move dims [0, nbd) to [pos, pos + nbd).
        let total = full_shape.len();
        let mut perm: Vec<i64> = vec![];
        for k in 0..pos {
            perm.push((nbd + k) as i64);
        }
        for k in 0..nbd {
            perm.push(k as i64);
        }
        for k in pos + nbd..total {
            perm.push(k as i64);
        }
        // Advanced indexing returns a fresh contiguous tensor, as PyTorch does.
        out_raw.permute(&perm)?.contiguous()
    }

    fn slice_all(&self) -> Tensor {
        let l = self.layout();
        let out = self.with_layout(l);
        if needs_grad(&[self]) {
            record("AliasBackward0", &[self], &[&out], |_, g| Ok(vec![g[0].clone()]));
        }
        out
    }

    /// `self[indices] = value` (in place).
    pub fn index_put_(&self, indices: &[TensorIndex], value: &Tensor) -> Result<()> {
        crate::autograd::check_inplace(self)?;
        self.check_index_put_dtype(indices, value)?;
        if value.requires_grad() || self.requires_grad() || crate::backend::of(self.device()).composes(Composite::InPlaceWrite) {
            // Differentiable path: out-of-place masked combination, then rebase.
            return crate::ops::elementwise::inplace_via(self, false, |x| x.index_put(indices, value));
        }
        let _ng = crate::autograd::NoGradGuard::new();
        let (v, adv) = self.apply_basic(indices)?;
        if adv.is_empty() {
            return v.copy_(value);
        }
        let (bshape, offs, rest, pos, _) = Tensor::advanced_plan(&v, &adv)?;
        // value broadcasts to the result shape (in result order): bring it to
        // [bshape..., rest...] order.
        let nbd = bshape.len();
        let mut res_shape: Vec<usize> = rest.shape[..pos.min(rest.ndim())].to_vec();
        res_shape.extend(bshape.iter().copied());
        res_shape.extend(rest.shape[pos.min(rest.ndim())..].iter().copied());
        let val = value.to_dtype_raw(self.dtype())?;
        let val = val.expand_usize(&res_shape).map_err(|_| {
            err!(
                Runtime,
                "shape mismatch: value tensor of shape {} cannot be broadcast to indexing result of shape {}",
                fmt_shape(&value.shape()),
                fmt_shape(&res_shape)
            )
        })?;
        let val = if pos == 0 || nbd == 0 {
            val
        } else {
            let total = res_shape.len();
            let mut perm: Vec<i64> = (pos..pos + nbd).map(|k| k as i64).collect();
            perm.extend((0..pos).map(|k| k as i64));
            perm.extend((pos + nbd..total).map(|k| k as i64));
            val.permute(&perm)?
        };
        let mut flat = vec![offs.len() as i64];
        flat.extend(rest.shape.iter().map(|&d| d as i64));
        let val = val.reshape(&flat)?;
        let vd = v.data().clone();
        let vald = val.data().clone();
        dispatch!(vd.dtype, T => {
            for (i, &o) in offs.iter().enumerate() {
                let dst = Layout { offset: o, ..rest.clone() };
                let src = vald.layout.select(0, i);
                // SAFETY: offsets bounds-checked; serial, so duplicates take the last value.
                unsafe { crate::cpu::cast_copy::<T, T>((vald.storage.ptr() as *const T).add(src.offset), &src, (vd.storage.ptr() as *mut T).add(dst.offset), &dst) }
            }
        });
        vd.storage.bump_version();
        Ok(())
    }

    /// With an advanced (tensor) index, the value must already have self's dtype
    /// (PyTorch's index_put); basic indexing copies with a cast. A 0-d bool index acts as
    /// a Python bool (basic); `x[mask] = 0-d value` is a masked fill, which casts.
    fn check_index_put_dtype(&self, indices: &[TensorIndex], value: &Tensor) -> Result<()> {
        if let [TensorIndex::Tensor(m)] = indices {
            if m.dtype() == DType::Bool && value.ndim() == 0 {
                return Ok(());
            }
        }
        let advanced = indices.iter().any(|i| matches!(i, TensorIndex::Tensor(t) if !(t.ndim() == 0 && t.dtype() == DType::Bool)));
        let (dst, src) = (self.dtype(), value.dtype());
        if advanced && dst != src {
            bail!(
                Runtime,
                "Index put requires the source and destination dtypes match, got {} for the destination and {} for the source.",
                crate::ops::pretty_dtype(dst),
                crate::ops::pretty_dtype(src)
            );
        }
        Ok(())
    }

    /// Out-of-place, differentiable `index_put`: self with the indexed elements replaced by
    /// `value` (broadcast to the indexing result).
    pub fn index_put(&self, indices: &[TensorIndex], value: &Tensor) -> Result<Tensor> {
        self.index_put_accumulate(indices, value, false)
    }

    /// PyTorch's `index_put(indices, values, accumulate)`: out of place, recorded as
    /// IndexPutBackward0. With `accumulate` the values are added, duplicate positions adding
    /// up one after the other in index order (deterministic); without it a duplicate
    /// position takes the last value.
    pub fn index_put_accumulate(&self, indices: &[TensorIndex], value: &Tensor, accumulate: bool) -> Result<Tensor> {
        self.check_index_put_dtype(indices, value)?;
        let shape = self.shape();
        // The flat positions the index selects, in the indexing result's shape (bounds and
        // index checks are indexing's own).
        let positions = {
            let _ng = crate::autograd::NoGradGuard::new();
            let ids = Tensor::arange_i64(0, self.numel() as i64, 1)?.reshape_usize(&shape)?;
            ids.index(&host_indices(indices)?)?
        };
        let flat = positions.reshape(&[-1])?;
        let pshape = positions.shape();
        let out = {
            let _ng = crate::autograd::NoGradGuard::new();
            let vb = value.to_dtype(self.dtype())?.expand_usize(&pshape).map_err(|_| {
                err!(
                    Runtime,
                    "shape mismatch: value tensor of shape {} cannot be broadcast to indexing result of shape {}",
                    fmt_shape(&value.shape()),
                    fmt_shape(&pshape)
                )
            })?;
            let vb = vb.reshape(&[-1])?;
            let base = self.reshape(&[-1])?;
            let r = if accumulate { base.index_add(0, &flat, &vb, Scalar::Int(1))? } else { base.scatter(0, &flat, &vb)? };
            r.reshape_usize(&shape)?
        };
        if needs_grad(&[self, value]) {
            let (vshape, vdtype) = (value.shape(), value.dtype());
            record("IndexPutBackward0", &[self, value], &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None, None]) };
                let gflat = g.reshape(&[-1])?;
                // self's gradient passes where it was kept (everywhere when accumulating);
                // the values' is the gradient at their positions, summed over broadcasting.
                let gself = if accumulate { g.clone() } else { gflat.scatter_value(0, &flat, Scalar::Int(0))?.reshape_usize(&g.shape())? };
                let gval = gflat.index_select(0, &flat)?.reshape_usize(&pshape)?.sum_to_size(&vshape)?;
                let gval = if gval.dtype() == vdtype { gval } else { gval.to_dtype(vdtype)? };
                Ok(vec![Some(gself), Some(gval)])
            });
        }
        Ok(out)
    }

    /// In-place [`Tensor::index_put_accumulate`] (`self.index_put_(indices, values, accumulate)`).
    pub fn index_put_accumulate_(&self, indices: &[TensorIndex], value: &Tensor, accumulate: bool) -> Result<()> {
        if !accumulate {
            return self.index_put_(indices, value);
        }
        self.check_index_put_dtype(indices, value)?;
        crate::ops::elementwise::inplace_via(self, false, |x| x.index_put_accumulate(indices, value, true))
    }
}
