//! Ops: one file per family, forward dispatch and backward formula side by side.

pub mod elementwise;
pub mod view;
pub mod reduce;
pub mod matmul;
pub mod shape_ops;
pub mod index;
pub mod creation;
pub mod softmax;

use crate::dtype::{default_dtype, DType, Operand as TypeOperand, Scalar};
use crate::error::Result;
use crate::shape::Layout;
use crate::tensor::{Tensor, TensorData};
use crate::dispatch;

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
    /// The operand's data converted to `dtype` (no copy when it already matches).
    pub(crate) fn data_as(&self, dtype: DType) -> Result<TensorData> {
        match self {
            Arg::T(t) => {
                crate::tensor::check_device(t.device())?;
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

pub fn result_dtype(args: &[Arg]) -> DType {
    crate::dtype::result_type_of(args.iter().map(|a| a.type_operand()), default_dtype())
}

impl Tensor {
    /// Copy into a new tensor of `dtype` without recording autograd (kernels' helper).
    pub(crate) fn to_dtype_raw(&self, dtype: DType) -> Result<Tensor> {
        let d = self.data();
        let out = Tensor::empty(&d.layout.shape, dtype, d.storage.device())?;
        {
            let o = out.data();
            dispatch!(d.dtype, S => dispatch!(dtype, D => {
                // SAFETY: dtypes match the pointers; out is a fresh contiguous buffer.
                unsafe { crate::cpu::cast_copy::<S, D>(d.ptr::<S>(), &d.layout, o.ptr::<D>(), &o.layout) }
            }));
        }
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
        let out = self.contiguous_copy()?;
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
            dispatch!(sd.dtype, S => dispatch!(d.dtype, D => {
                // SAFETY: dtypes match; both layouts address their storages.
                unsafe { crate::cpu::cast_copy::<S, D>(sd.ptr::<S>(), &ls, d.ptr::<D>(), &d.layout) }
            }));
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
        self.fill_raw(v);
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

/// Check that a dtype is supported by an op, naming the op as PyTorch's messages do.
pub(crate) fn not_implemented(op: &str, dtype: DType) -> crate::error::Error {
    crate::err!(Runtime, "\"{}\" not implemented for '{}'", op, pretty_dtype(dtype))
}

pub(crate) fn pretty_dtype(d: DType) -> &'static str {
    match d {
        DType::Bool => "Bool",
        DType::U8 => "Byte",
        DType::I8 => "Char",
        DType::I16 => "Short",
        DType::I32 => "Int",
        DType::I64 => "Long",
        DType::F16 => "Half",
        DType::BF16 => "BFloat16",
        DType::F32 => "Float",
        DType::F64 => "Double",
    }
}

impl Tensor {
    /// A contiguous copy outside the graph (public for bindings).
    pub fn contiguous_copy_pub(&self) -> Result<Tensor> {
        self.contiguous_copy()
    }
}
