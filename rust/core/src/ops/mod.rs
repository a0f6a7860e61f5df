//! Ops: one file per family, forward dispatch and backward formula side by side.

pub mod elementwise;
pub mod view;
pub mod reduce;
pub mod matmul;
pub mod shape_ops;
pub mod index;
pub mod creation;
pub mod softmax;
pub mod registry;
pub mod compare;

use crate::dtype::{default_dtype, DType, Operand as TypeOperand, Scalar};
use crate::error::Result;
use crate::shape::Layout;
use crate::tensor::{Tensor, TensorData};

/// An operand of an elementwise op: a tensor or a Python scalar (weakly typed).
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    T(&'a Tensor),
    S(Scalar),
}

impl<'a> From<&'a Tensor> for Arg<'a> {
    fn from(t: &'a Tensor) -> Self {
        Arg::T(t)
    }
}
impl From<Scalar> for Arg<'_> {
    fn from(s: Scalar) -> Self {
        Arg::S(s)
    }
}
impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::S(Scalar::Float(v))
    }
}
impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::S(Scalar::Int(v))
    }
}

impl Arg<'_> {
    pub(crate) fn type_operand(&self) -> TypeOperand {
        match self {
            Arg::T(t) => {
                let d = t.data();
                if d.layout.ndim() == 0 {
                    TypeOperand::ZeroDim(d.dtype)
                } else {
                    TypeOperand::Dim(d.dtype)
                }
            }
            Arg::S(s) => TypeOperand::Scalar(s.kind()),
        }
    }
    /// The operand's data converted to `dtype` and moved to `device` (no copy when both
    /// already match): scalars and 0-d CPU tensors meeting CUDA tensors are uploaded.
    #[inline]
    pub(crate) fn data_on(&self, dtype: DType, device: crate::Device) -> Result<TensorData> {
        let d = self.data_as(dtype)?;
        if d.storage.device() == device {
            return Ok(d);
        }
        Ok(Tensor::from_data(d).to_device_raw(device)?.data().clone())
    }
    /// The operand's data converted to `dtype` (no copy when it already matches).
    pub(crate) fn data_as(&self, dtype: DType) -> Result<TensorData> {
        match self {
            Arg::T(t) => {
                let d = t.data();
                if d.dtype == dtype {
                    Ok(d.clone())
                } else {
                    drop(d);
                    Ok(t.to_dtype_raw(dtype)?.data().clone())
                }
            }
            Arg::S(s) => Ok(Tensor::scalar(*s, dtype)?.data().clone()),
        }
    }
    pub(crate) fn tensor(&self) -> Option<&Tensor> {
        match self {
            Arg::T(t) => Some(t),
            Arg::S(_) => None,
        }
    }
}

/// An owned operand: what an [`Arg`] borrows, for operands that are computed (add's
/// `other * alpha`) or converted from a binding's arguments.
#[derive(Clone)]
pub enum OwnedArg {
    T(Tensor),
    S(Scalar),
}

impl OwnedArg {
    pub fn arg(&self) -> Arg<'_> {
        match self {
            OwnedArg::T(t) => Arg::T(t),
            OwnedArg::S(s) => Arg::S(*s),
        }
    }
}

pub fn result_dtype(args: &[Arg]) -> DType {
    crate::dtype::result_type_of(args.iter().map(|a| a.type_operand()), default_dtype())
}

impl Tensor {
    /// Copy into a new tensor of `dtype` without recording autograd (kernels' helper).
    pub(crate) fn to_dtype_raw(&self, dtype: DType) -> Result<Tensor> {
        let d = self.data();
        let out = Tensor::empty_on(&d.layout.shape, dtype, d.storage.device())?;
        copy_data(&d, &out.data())?;
        Ok(out)
    }

    /// A contiguous copy that is outside the graph.
    pub(crate) fn contiguous_copy(&self) -> Result<Tensor> {
        self.to_dtype_raw(self.dtype())
    }

    /// Cast (differentiable between float dtypes), PyTorch's `.to(dtype)`.
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let out = self.to_dtype_raw(dtype)?;
        if crate::autograd::needs_grad(&[self]) && dtype.is_float() {
            let src = self.dtype();
            crate::autograd::record("ToCopyBackward0", &[self], &[&out], move |_, g| {
                Ok(vec![g[0].as_ref().map(|g| g.to_dtype(src)).transpose()?])
            });
        }
        Ok(out)
    }

    /// `.clone()`: a contiguous copy, differentiable.
    pub fn clone_tensor(&self) -> Result<Tensor> {
        self.record_clone(self.contiguous_copy()?)
    }

    /// `out`, a copy of self, recorded as CloneBackward0 (the gradient passes through).
    fn record_clone(&self, out: Tensor) -> Result<Tensor> {
        if crate::autograd::needs_grad(&[self]) {
            crate::autograd::record("CloneBackward0", &[self], &[&out], |_, g| Ok(vec![g[0].clone()]));
        }
        Ok(out)
    }

    /// `.contiguous()`: self if already contiguous, else a differentiable copy.
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            Ok(self.clone())
        } else {
            self.clone_tensor()
        }
    }

    /// Python's `.clone()` (`memory_format=torch.preserve_format`): a differentiable copy
    /// keeping self's memory layout; a transposed tensor stays transposed. See
    /// [`preserve_format_strides`]. `clone_tensor` is the always-contiguous copy.
    pub fn clone_preserve(&self) -> Result<Tensor> {
        let d = self.data();
        if d.layout.is_contiguous() {
            drop(d);
            return self.clone_tensor();
        }
        let strides = preserve_format_strides(&d.layout);
        let out = Tensor::empty_strided(&d.layout.shape, &strides, d.dtype, d.storage.device())?;
        copy_data(&d, &out.data())?;
        drop(d);
        self.record_clone(out)
    }

    /// `torch.empty_strided(size, stride)`: an uninitialised tensor with the given strides
    /// (its storage covers the largest element offset they reach).
    pub fn empty_strided(shape: &[usize], strides: &[usize], dtype: DType, device: crate::device::Device) -> Result<Tensor> {
        if shape.len() != strides.len() {
            crate::bail!(
                Runtime,
                "mismatch in length of strides and shape: got {} strides for shape {}",
                strides.len(),
                crate::shape::fmt_shape(shape)
            );
        }
        crate::shape::checked_numel(shape)?;
        let layout = Layout { shape: crate::shape::Dims::from_slice(shape), strides: crate::shape::Dims::from_slice(strides), offset: 0 };
        let len = shape.iter().zip(strides).try_fold(1usize, |acc, (&n, &st)| {
            if n == 0 {
                Some(acc)
            } else {
                (n - 1).checked_mul(st).and_then(|x| acc.checked_add(x))
            }
        });
        let len = if shape.contains(&0) { 0 } else { len.unwrap_or(usize::MAX) };
        let nbytes = len.checked_mul(dtype.size()).ok_or_else(|| {
            crate::err!(Runtime, "Storage size calculation overflowed with sizes={} and strides={:?}", crate::shape::fmt_shape(shape), strides)
        })?;
        let storage = crate::storage::Storage::uninit(device, nbytes)?;
        Ok(Tensor::from_parts(storage, layout, dtype))
    }

    /// `copy_(src)`: copy (with broadcasting and casting) into self, in place.
    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        crate::autograd::check_inplace(self)?;
        let shape = self.shape();
        let sd = src.data().clone();
        let ls = sd.layout.broadcast_to(&shape).map_err(|_| {
            crate::err!(
                Runtime,
                "output with shape {} doesn't match the broadcast shape {}",
                crate::shape::fmt_shape(&shape),
                crate::shape::fmt_shape(&crate::shape::broadcast_shapes(&shape, &sd.layout.shape).unwrap_or(sd.layout.shape.clone()))
            )
        })?;
        // A source aliasing the destination is copied out first.
        let sd = if sd.storage.same(&self.storage()) && !src.same(self) {
            src.contiguous_copy()?.data().clone()
        } else {
            sd
        };
        let ls = if sd.layout.shape == ls.shape { sd.layout.clone() } else { Layout { offset: sd.layout.offset, ..ls } };
        {
            let d = self.data();
            copy_data(&TensorData { layout: ls, ..sd.clone() }, &d)?;
            d.storage.bump_version();
        }
        if crate::autograd::is_grad_enabled() && (self.requires_grad() || src.requires_grad()) {
            let src_shape = sd.layout.shape.clone();
            let src_dtype = sd.dtype;
            let src_needs = src.requires_grad();
            // Recorded on a scratch alias, then made the history of self (of its base when
            // self is a view: CopySlices). The old value of self gets a zero gradient.
            let carrier = self.alias();
            crate::autograd::record("CopyBackwards", &[self, src], &[&carrier], move |_, g| {
                let g = g[0].clone();
                let gsrc = match (&g, src_needs) {
                    (Some(g), true) => Some(g.sum_to_size(&src_shape)?.to_dtype(src_dtype)?),
                    _ => None,
                };
                Ok(vec![g.as_ref().map(|g| g.zeros_like()).transpose()?, gsrc])
            });
            crate::autograd::rebase_history(self, &carrier)?;
        }
        Ok(())
    }

    /// Write the `result` of op `name` into `self` as an `out=` tensor, as PyTorch's out=
    /// variants: a result that requires grad is refused (it does only when grad mode is on
    /// and an input requires grad; PyTorch refuses rather than silently dropping the graph);
    /// the result's dtype must cast to self's ([`elementwise::check_can_cast`]); a self of
    /// another shape is resized to the result's (its data replaced by a contiguous copy of
    /// the result in self's dtype), else the values are copied in (`copy_`).
    pub fn write_out(&self, name: &str, result: &Tensor) -> Result<()> {
        if result.requires_grad() {
            crate::bail!(
                Runtime,
                "{name}(): functions with out=... arguments don't support automatic differentiation, \
                 but one of the arguments requires grad."
            );
        }
        elementwise::check_can_cast(result.dtype(), self.dtype())?;
        if self.shape() != result.shape() {
            let c = result.to_dtype(self.dtype())?.contiguous_copy()?;
            self.set_data(c.data().clone());
            Ok(())
        } else {
            self.copy_(result)
        }
    }

    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::zeros(&self.shape(), self.dtype(), self.device())
    }
    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::ones(&self.shape(), self.dtype(), self.device())
    }
    pub fn full_like(&self, v: Scalar) -> Result<Tensor> {
        Tensor::full(&self.shape(), v, self.dtype(), self.device())
    }

    /// Fill in place with a scalar (`fill_`).
    pub fn fill_(&self, v: Scalar) -> Result<()> {
        crate::autograd::check_inplace(self)?;
        v.check_fits(self.dtype())?;
        self.fill_raw(v)?;
        self.data().storage.bump_version();
        if crate::autograd::needs_grad(&[self]) {
            let carrier = self.alias();
            crate::autograd::record("FillBackward0", &[self], &[&carrier], |_, g| {
                Ok(vec![g[0].as_ref().map(|g| g.zeros_like()).transpose()?])
            });
            crate::autograd::rebase_history(self, &carrier)?;
        }
        Ok(())
    }
    pub fn zero_(&self) -> Result<()> {
        self.fill_(Scalar::Int(0))
    }

    pub fn has_nan(&self) -> Result<bool> {
        if !self.is_floating_point() {
            return Ok(false);
        }
        let v = self.to_vec::<f64>()?;
        Ok(v.iter().any(|x| x.is_nan()))
    }
}

/// Copy `src` into `dst` (same shape, any layouts and dtypes, any devices): the one copy
/// every conversion, clone, `copy_` and in-place write goes through.
#[inline]
pub(crate) fn copy_data(src: &TensorData, dst: &TensorData) -> Result<()> {
    crate::backend::copy(src, dst)
}

/// Strides of a copy made with `memory_format=torch.preserve_format` (PyTorch's
/// `empty_like`): self's strides when its elements are non-overlapping and dense, else
/// dense strides that keep the order of self's strides (c10's `infer_dense_strides`).
pub fn preserve_format_strides(l: &Layout) -> crate::shape::Dims {
    let (sizes, strides) = (l.shape.as_slice(), l.strides.as_slice());
    let n = sizes.len();
    if sizes.contains(&0) {
        // No elements: any strides are dense.
        return l.strides.clone();
    }
    // Non-overlapping and dense: sorted by stride (size-1 dims ignored), each stride is
    // the product of the sizes inside it.
    let mut perm: Vec<usize> = (0..n).filter(|&d| sizes[d] >= 2).collect();
    perm.sort_by_key(|&d| strides[d]);
    let mut expected = 1usize;
    let dense = perm.iter().all(|&d| {
        let ok = strides[d] == expected;
        expected = expected.saturating_mul(sizes[d]);
        ok
    });
    if dense {
        return l.strides.clone();
    }
    // Innermost first; stride-0 (expanded) dims keep their place; equal strides put the
    // smaller size inside. Insertion sort, as c10 does, so the order is the same.
    let mut perm: Vec<usize> = (0..n).rev().collect();
    let should_swap = |d0: usize, d1: usize| -> i32 {
        let (s0, s1) = (strides[d0], strides[d1]);
        if s0 == 0 || s1 == 0 {
            0
        } else if s0 != s1 {
            if s0 < s1 { -1 } else { 1 }
        } else if sizes[d0] > sizes[d1] {
            1
        } else {
            0
        }
    };
    for i in 1..n {
        let mut d1 = i;
        for d0 in (0..i).rev() {
            match should_swap(perm[d0], perm[d1]) {
                c if c > 0 => {
                    perm.swap(d0, d1);
                    d1 = d0;
                }
                c if c < 0 => break,
                _ => {}
            }
        }
    }
    let mut out = crate::shape::Dims::zeros(n);
    let mut cur = 1usize;
    for &d in &perm {
        out[d] = cur;
        if sizes[d] > 1 {
            cur = cur.saturating_mul(sizes[d]);
        }
    }
    out
}

// With the dtype and error types, so that the backends name unsupported dtypes the same
// way without depending on `ops`.
pub(crate) use crate::error::not_implemented;
pub use crate::dtype::pretty_dtype;

impl Tensor {
    /// A contiguous copy outside the graph (public for bindings).
    pub fn contiguous_copy_pub(&self) -> Result<Tensor> {
        self.contiguous_copy()
    }
}
