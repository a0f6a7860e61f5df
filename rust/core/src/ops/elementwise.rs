//! Elementwise ops. Each table row is the single source of truth for an op: its name,
//! its autograd node name, its CUDA kernel name, its CPU scalar expression and its
//! backward formula (in tensor ops). Adding an op = adding a row (+ binding + test row).

use std::f64::consts::{LN_10, LN_2, PI};

use super::registry::{Family, OpInfo, Python};
use super::{result_dtype, Arg, OwnedArg};
use crate::autograd::{needs_grad, record, SavedTensor};
use crate::backend::{Binary, Composite, Pred, Unary};
use crate::cpu::math::{erf64, erfinv64, exp_f32_fast, is_nan, FloatMath, Num};
use crate::cpu::vecmath as vm;
use crate::cpu::{map1, map2};
use crate::dtype::{default_dtype, DType, Element, Scalar};
use crate::error::Result;
use crate::shape::{broadcast_shapes, Layout};
use crate::tensor::{Tensor, TensorData};
use crate::{bail, dispatch, dispatch_float, dispatch_int};

// ---- scalar helpers referenced by the tables ------------------------------------
// sigmoid and silu in f32 stay on exp_f32_fast (about 2 ulp, subnormal results flushed), as exp:
// cpu::vecmath's 1-ulp forms of the three measured several times slower (f64 lanes and a division).
fn sigmoid32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32_fast(-x))
}
fn silu32(x: f32) -> f32 {
    x / (1.0 + exp_f32_fast(-x))
}
fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
fn rsqrt32(x: f32) -> f32 {
    1.0 / x.sqrt()
}
fn rsqrt64(x: f64) -> f64 {
    1.0 / x.sqrt()
}
fn recip32(x: f32) -> f32 {
    1.0 / x
}
fn recip64(x: f64) -> f64 {
    1.0 / x
}
fn frac32(x: f32) -> f32 {
    x - x.trunc()
}
fn frac64(x: f64) -> f64 {
    x - x.trunc()
}

// The activations' scalar forms, written once over f32 and f64 (`$t`), with the f32 versions
// using the same fast exp / erf as the exp and erf rows. Thresholds follow PyTorch's kernels:
// softplus is linear above 20 (its default threshold, beta 1), hardsigmoid/hardswish are
// piecewise at +-3.
macro_rules! activation_fns {
    ($t:ty, $exp:path, $erf:path, $silu:ident, $gelu:ident, $gelu_tanh:ident, $softplus:ident, $mish:ident, $hardsigmoid:ident, $hardswish:ident) => {
        fn $silu(x: $t) -> $t {
            x / (1.0 + $exp(-x))
        }
        fn $gelu(x: $t) -> $t {
            0.5 * x * (1.0 + $erf(x * std::f64::consts::FRAC_1_SQRT_2 as $t))
        }
        fn $gelu_tanh(x: $t) -> $t {
            let k = (2.0 / PI).sqrt() as $t;
            0.5 * x * (1.0 + (k * (x + 0.044715 * x * x * x)).tanh())
        }
        fn $softplus(x: $t) -> $t {
            if x > 20.0 { x } else { $exp(x).ln_1p() }
        }
        fn $mish(x: $t) -> $t {
            x * $softplus(x).tanh()
        }
        fn $hardsigmoid(x: $t) -> $t {
            if x <= -3.0 { 0.0 } else if x >= 3.0 { 1.0 } else { x / 6.0 + 0.5 }
        }
        fn $hardswish(x: $t) -> $t {
            if x <= -3.0 { 0.0 } else if x >= 3.0 { x } else { x * (x + 3.0) / 6.0 }
        }
    };
}
activation_fns!(f64, f64::exp, erf64, silu64, gelu64, gelu_tanh64, softplus64, mish64, hardsigmoid64, hardswish64);
// f32: gelu, softplus and mish are cpu::vecmath's vectorisable forms (see the rows), silu is above;
// the piecewise-linear two are the f64 forms, rounded once.
fn hardsigmoid32(x: f32) -> f32 {
    hardsigmoid64(x as f64) as f32
}
fn hardswish32(x: f32) -> f32 {
    hardswish64(x as f64) as f32
}

// The activations' backward formulas (tensor ops, so a second backward works), as PyTorch's
// derivatives.yaml: silu_backward, gelu_backward (both approximations), softplus_backward
// (beta 1, threshold 20), mish_backward, hardsigmoid_backward, hardswish_backward.
fn bw_silu(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let s = x.sigmoid()?;
    g.mul(&s.mul(&x.mul(&s.rsub_s(1.0)?)?.add_s(1.0)?)?)
}
fn bw_gelu(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let cdf = x.mul_s(std::f64::consts::FRAC_1_SQRT_2)?.erf()?.add_s(1.0)?.mul_s(0.5)?;
    let pdf = x.mul(x)?.mul_s(-0.5)?.exp()?.mul_s(1.0 / (2.0 * PI).sqrt())?;
    g.mul(&cdf.add(&x.mul(&pdf)?)?)
}
fn bw_gelu_tanh(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let k = (2.0 / PI).sqrt();
    let x2 = x.mul(x)?;
    let t = x.mul(&x2.mul_s(0.044715)?.add_s(1.0)?)?.mul_s(k)?.tanh()?;
    let dinner = x2.mul_s(3.0 * 0.044715)?.add_s(1.0)?.mul_s(k)?;
    let left = t.add_s(1.0)?.mul_s(0.5)?;
    let right = x.mul(&t.mul(&t)?.rsub_s(1.0)?)?.mul(&dinner)?.mul_s(0.5)?;
    g.mul(&left.add(&right)?)
}
fn bw_softplus(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    where_args(&x.gt_s(20.0)?, Arg::T(g), Arg::T(&g.mul(&x.sigmoid()?)?))
}
fn bw_mish(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let t = x.softplus()?.tanh()?;
    g.mul(&t.add(&x.mul(&x.sigmoid()?)?.mul(&t.mul(&t)?.rsub_s(1.0)?)?)?)
}
fn bw_hardsigmoid(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let inside = x.gt_s(-3.0)?.logical_and(&x.lt_s(3.0)?)?;
    where_args(&inside, Arg::T(&g.mul_s(1.0 / 6.0)?), Arg::S(Scalar::Int(0)))
}
fn bw_hardswish(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let mid = g.mul(&x.div_s(3.0)?.add_s(0.5)?)?;
    let upper = where_args(&x.le(Scalar::Float(3.0))?, Arg::T(&mid), Arg::T(g))?;
    where_args(&x.lt_s(-3.0)?, Arg::S(Scalar::Int(0)), Arg::T(&upper))
}

/// Can a result of dtype `from` be written into a tensor of dtype `to` (PyTorch canCast)?
pub fn can_cast(from: DType, to: DType) -> bool {
    !((from.is_float() && !to.is_float()) || (from != DType::Bool && to == DType::Bool))
}

// =====================================================================================
// Unary ops
// =====================================================================================

type UnaryKernel = crate::backend::UnaryCpu;
type UnaryBackward = fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor>;

struct UnarySpec {
    grad_name: &'static str,
    /// CUDA kernel base name (`ft_<cuda>_<dtype>`).
    cuda: &'static str,
    /// Integer inputs are promoted to the default float dtype (exp, sin, ...).
    promote_int: bool,
    /// Integer and bool inputs are refused (nn.functional's activations, as PyTorch's kernels).
    float_only: bool,
    /// Bool inputs are rejected (neg, sign of bool in PyTorch).
    save_x: bool,
    save_y: bool,
    kernel: UnaryKernel,
    backward: UnaryBackward,
}

/// The unary ops that are the identity on integers on CUDA (the list lives with the CUDA
/// backend, which applies it).
pub use crate::cuda::backend::ROUNDING_IDENTITY_ON_INTS;

fn unary(x: &Tensor, op: &str, spec: &UnarySpec) -> Result<Tensor> {
    if crate::autocast::any_enabled() {
        // The float32 list's unary ops (exp, log, rsqrt, ... on CUDA).
        if let Some(p) = crate::autocast::prepare(op, &[x])? {
            return unary(&p.tensors[0], op, spec);
        }
    }
    let src = x.data().clone();
    let (input, out_dtype) = if src.dtype.is_float() {
        (src, x.dtype())
    } else if spec.float_only {
        // PyTorch names the kernel that refused: "silu_cpu", and "GeluKernelImpl" for both gelus.
        let kernel = if op.starts_with("gelu") {
            "GeluKernelImpl".to_string()
        } else {
            format!("{op}_{}", x.device().type_name())
        };
        return Err(super::not_implemented(&kernel, src.dtype));
    } else {
        check_integral_unary(op, src.dtype)?;
        // bool inputs of the float ops give the default float dtype; square of bool is
        // pow(bool, 2), an int64 result (PyTorch).
        let promoted = if spec.promote_int {
            Some(default_dtype())
        } else if src.dtype == DType::Bool && op == "square" {
            Some(DType::I64)
        } else {
            None
        };
        match promoted {
            Some(d) => (x.to_dtype_raw(d)?.data().clone(), d),
            None => (src, x.dtype()),
        }
    };
    let out = Tensor::empty_on(&input.layout.shape, out_dtype, x.device())?;
    crate::backend::of(x.device()).unary(Unary { name: op, cuda: spec.cuda, cpu: spec.kernel }, &input, &out.data())?;
    if needs_grad(&[x]) {
        let sx = spec.save_x.then(|| SavedTensor::input(x));
        let sy = spec.save_y.then(|| SavedTensor::output(&out, 0));
        let bw = spec.backward;
        record(spec.grad_name, &[x], &[&out], move |ctx, g| {
            let Some(g) = &g[0] else { return Ok(vec![None]) };
            let xv = unpack_or_placeholder(&sx, ctx)?;
            let yv = unpack_or_placeholder(&sy, ctx)?;
            Ok(vec![Some(bw(&xv, &yv, g)?)])
        });
    }
    Ok(out)
}

/// The integer/bool inputs a unary op refuses, with PyTorch's messages (only reached for
/// non-float inputs, so the float path pays nothing).
fn check_integral_unary(op: &str, dtype: DType) -> Result<()> {
    let is_bool = dtype == DType::Bool;
    match op {
        "frac" => Err(super::not_implemented("frac_cpu", dtype)),
        "neg" if is_bool => bail!(
            NotImplemented,
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        ),
        "relu" if is_bool => bail!(NotImplemented, "Boolean inputs not supported for relu"),
        "abs" if is_bool => Err(super::not_implemented("abs_cpu", dtype)),
        "floor" | "ceil" | "round" | "trunc" if is_bool => Err(super::not_implemented(&format!("{}_vml_cpu", op), dtype)),
        _ => Ok(()),
    }
}

/// A saved tensor, or for what an op did not save a 0-d placeholder: it only feeds
/// gradients that are discarded (e.g. mul's gradient for an input that needs none).
fn unpack_or_placeholder(s: &Option<SavedTensor>, ctx: &crate::autograd::BackwardCtx) -> Result<Tensor> {
    thread_local! {
        // One per thread, shared: a fresh 0-d tensor per call was up to three allocations
        // per backward node (add saves nothing). Never written: only discarded gradients
        // are computed from it.
        static PLACEHOLDER: Option<Tensor> = Tensor::zeros(&[], DType::F32, crate::device::Device::Cpu).ok();
    }
    match s {
        Some(s) => s.unpack(ctx),
        None => match PLACEHOLDER.try_with(|p| p.clone()).ok().flatten() {
            Some(t) => Ok(t),
            None => Tensor::zeros(&[], DType::F32, crate::device::Device::Cpu),
        },
    }
}

/// Run an op out of place and write its result into `x` (in-place forms), then make
/// the op's node the history of `x` (`rebase_history`; CopySlices when `x` is a view).
///
/// `saves_self`: the op saves its input `x` for backward. Then, when a graph is being
/// recorded, the op runs on a copy of `x` (PyTorch saves `original_self` the same way):
/// the saved value must be the one before the write, not the buffer being overwritten.
pub fn inplace_via(x: &Tensor, saves_self: bool, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<()> {
    crate::autograd::check_inplace(x)?;
    check_no_internal_overlap(x)?;
    let y = if saves_self && x.requires_grad() && crate::autograd::is_grad_enabled() { f(&x.clone_tensor()?)? } else { f(x)? };
    check_can_cast(y.dtype(), x.dtype())?;
    if y.shape() != x.shape() {
        bail!(
            Runtime,
            "output with shape {} doesn't match the broadcast shape {}",
            crate::shape::fmt_shape(&x.shape()),
            crate::shape::fmt_shape(&y.shape())
        );
    }
    {
        let (yd, xd) = (y.data(), x.data());
        super::copy_data(&yd, &xd)?;
        xd.storage.bump_version();
    }
    crate::autograd::rebase_history(x, &y)
}

/// A result of dtype `from` may be written into a tensor of dtype `to` (in-place ops,
/// `out=`), with PyTorch's message otherwise.
pub fn check_can_cast(from: DType, to: DType) -> Result<()> {
    if !can_cast(from, to) {
        bail!(
            Runtime,
            "result type {} can't be cast to the desired output type {}",
            super::pretty_dtype(from),
            super::pretty_dtype(to)
        );
    }
    Ok(())
}

/// In-place ops cannot write into a tensor whose elements share memory (an expanded
/// view, stride 0 over a dim of size > 1): each element would be written several times.
pub(crate) fn check_no_internal_overlap(x: &Tensor) -> Result<()> {
    let d = x.data();
    if d.layout.shape.iter().zip(d.layout.strides.iter()).any(|(&n, &st)| st == 0 && n > 1) {
        bail!(
            Runtime,
            "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation."
        );
    }
    Ok(())
}

/// The contiguous f32 case of a unary kernel, through the multiversioned map (AVX-512/AVX2);
/// false, doing nothing, for any other dtype or layout.
fn map_f32_contiguous(src: &TensorData, out: &TensorData, f: impl Fn(f32) -> f32 + Copy + Send + Sync) -> bool {
    if src.dtype != DType::F32 || !src.layout.is_contiguous() || !out.layout.is_contiguous() {
        return false;
    }
    let n = src.layout.numel();
    // SAFETY: both are contiguous f32 views of n elements; `out` is a fresh buffer, so the
    // two slices do not overlap.
    let (s, d) = unsafe { (std::slice::from_raw_parts(src.ptr::<f32>(), n), std::slice::from_raw_parts_mut(out.ptr::<f32>(), n)) };
    crate::cpu::simd::map_f32(s, d, f);
    true
}

/// As `map_f32_contiguous`, through a multiversioned slice loop `k` that calls the row's function
/// directly (`simd::map_f32_with`: the large vecmath functions are not inlined through `Fn`).
fn map_f32_contiguous_with(src: &TensorData, out: &TensorData, k: fn(&[f32], &mut [f32])) -> bool {
    if src.dtype != DType::F32 || !src.layout.is_contiguous() || !out.layout.is_contiguous() {
        return false;
    }
    let n = src.layout.numel();
    // SAFETY: both are contiguous f32 views of n elements; `out` is a fresh buffer, so the
    // two slices do not overlap.
    let (s, d) = unsafe { (std::slice::from_raw_parts(src.ptr::<f32>(), n), std::slice::from_raw_parts_mut(out.ptr::<f32>(), n)) };
    crate::cpu::simd::map_f32_with(s, d, k);
    true
}

macro_rules! unary_float_ops {
    ($( ($name:ident, $name_:ident, $grad:literal, $cuda:literal, $f32:expr, $f64:expr, save($sx:literal, $sy:literal), |$x:ident, $y:ident, $g:ident| $bw:expr, py($py:ident)) ),* $(,)?) => {
        /// The registry rows of the unary float ops (see `ops::registry`).
        pub const UNARY_FLOAT_OPS: &[OpInfo] = &[$(OpInfo {
            name: stringify!($name), family: Family::UnaryFloat, grad_fn: $grad, cuda: $cuda, inplace: true, python: Python::$py,
        }),*];
        impl Tensor {
            $(
            pub fn $name(&self) -> Result<Tensor> {
                fn kernel(src: &TensorData, out: &TensorData) {
                    crate::multiversion! {
                        /// The contiguous f32 loop, calling the row's function directly.
                        fn contiguous [] [] (s: &[f32], d: &mut [f32]) {
                            for (o, &v) in d.iter_mut().zip(s) {
                                *o = ($f32)(v);
                            }
                        }
                    }
                    if map_f32_contiguous_with(src, out, contiguous) {
                        return;
                    }
                    dispatch_float!(src.dtype, T => {
                        // SAFETY: src/out hold T (float dtype checked by the driver).
                        unsafe { map1::<T, T, _>(src.ptr::<T>(), &src.layout, out.ptr::<T>(), &out.layout, |v: T| v.map32($f32, $f64)) }
                    }, _ => {})
                }
                #[allow(unused_variables)]
                fn backward($x: &Tensor, $y: &Tensor, $g: &Tensor) -> Result<Tensor> { $bw }
                const SPEC: UnarySpec = UnarySpec { grad_name: $grad, cuda: $cuda, promote_int: true, float_only: matches!(Python::$py, Python::nn), save_x: $sx, save_y: $sy, kernel, backward };
                unary(self, stringify!($name), &SPEC)
            }
            pub fn $name_(&self) -> Result<()> {
                inplace_via(self, $sx, |x| x.$name())
            }
            )*
        }
    };
}

// The registry rows of the unary float ops: (name, in-place name, autograd node, CUDA kernel
// base name, f32 and f64 scalar functions, what backward saves (input, output), backward
// formula over (input, output, grad), how Python sees it: `ops::registry::Python`). One list,
// read by this file (the Tensor methods and their kernels), by the binding (its Python methods
// and functions) and by the registry's tests (the CUDA X-macro of cuda/elementwise.cu).
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_unary_float_op {
    ($cb:ident) => {
        $cb! {
            (exp, exp_, "ExpBackward0", "exp", exp_f32_fast, f64::exp, save(false, true), |x, y, g| g.mul(y), py(full)),
            (exp2, exp2_, "Exp2Backward0", "exp2", vm::exp2, f64::exp2, save(false, true), |x, y, g| g.mul(y)?.mul_s(LN_2), py(full)),
            (expm1, expm1_, "Expm1Backward0", "expm1", vm::expm1, f64::exp_m1, save(false, true), |x, y, g| g.mul(&y.add_s(1.0)?), py(full)),
            (log, log_, "LogBackward0", "log", vm::log, f64::ln, save(true, false), |x, y, g| g.div(x), py(full)),
            (log2, log2_, "Log2Backward0", "log2", vm::log2, f64::log2, save(true, false), |x, y, g| g.div(&x.mul_s(LN_2)?), py(full)),
            (log10, log10_, "Log10Backward0", "log10", vm::log10, f64::log10, save(true, false), |x, y, g| g.div(&x.mul_s(LN_10)?), py(full)),
            (log1p, log1p_, "Log1PBackward0", "log1p", vm::log1p, f64::ln_1p, save(true, false), |x, y, g| g.div(&x.add_s(1.0)?), py(full)),
            (sqrt, sqrt_, "SqrtBackward0", "sqrt", f32::sqrt, f64::sqrt, save(false, true), |x, y, g| g.div(&y.mul_s(2.0)?), py(full)),
            (rsqrt, rsqrt_, "RsqrtBackward0", "rsqrt", rsqrt32, rsqrt64, save(false, true), |x, y, g| g.mul(&y.mul(y)?.mul(y)?)?.mul_s(-0.5), py(full)),
            (sin, sin_, "SinBackward0", "sin", vm::sin, f64::sin, save(true, false), |x, y, g| g.mul(&x.cos()?), py(full)),
            (cos, cos_, "CosBackward0", "cos", vm::cos, f64::cos, save(true, false), |x, y, g| g.mul(&x.sin()?)?.neg(), py(full)),
            (tan, tan_, "TanBackward0", "tan", vm::tan, f64::tan, save(false, true), |x, y, g| g.mul(&y.mul(y)?.add_s(1.0)?), py(full)),
            (asin, asin_, "AsinBackward0", "asin", vm::asin, f64::asin, save(true, false), |x, y, g| g.div(&x.mul(x)?.rsub_s(1.0)?.sqrt()?), py(full)),
            (acos, acos_, "AcosBackward0", "acos", vm::acos, f64::acos, save(true, false), |x, y, g| g.div(&x.mul(x)?.rsub_s(1.0)?.sqrt()?)?.neg(), py(full)),
            (atan, atan_, "AtanBackward0", "atan", vm::atan, f64::atan, save(true, false), |x, y, g| g.div(&x.mul(x)?.add_s(1.0)?), py(full)),
            (sinh, sinh_, "SinhBackward0", "sinh", vm::sinh, f64::sinh, save(true, false), |x, y, g| g.mul(&x.cosh()?), py(full)),
            (cosh, cosh_, "CoshBackward0", "cosh", vm::cosh, f64::cosh, save(true, false), |x, y, g| g.mul(&x.sinh()?), py(full)),
            (tanh, tanh_, "TanhBackward0", "tanh", vm::tanh, f64::tanh, save(false, true), |x, y, g| g.mul(&y.mul(y)?.rsub_s(1.0)?), py(full)),
            (asinh, asinh_, "AsinhBackward0", "asinh", vm::asinh, f64::asinh, save(true, false), |x, y, g| g.div(&x.mul(x)?.add_s(1.0)?.sqrt()?), py(full)),
            (acosh, acosh_, "AcoshBackward0", "acosh", vm::acosh, f64::acosh, save(true, false), |x, y, g| g.mul(&x.mul(x)?.sub_s(1.0)?.rsqrt()?), py(full)),
            (atanh, atanh_, "AtanhBackward0", "atanh", vm::atanh, f64::atanh, save(true, false), |x, y, g| g.div(&x.mul(x)?.rsub_s(1.0)?), py(full)),
            (sigmoid, sigmoid_, "SigmoidBackward0", "sigmoid", sigmoid32, sigmoid64, save(false, true), |x, y, g| g.mul(&y.mul(&y.rsub_s(1.0)?)?), py(full)),
            (erf, erf_, "ErfBackward0", "erf", vm::erf, erf64, save(true, false), |x, y, g| g.mul(&x.mul(x)?.neg()?.exp()?.mul_s(2.0 / PI.sqrt())?), py(full)),
            (erfinv, erfinv_, "ErfinvBackward0", "erfinv", vm::erfinv, erfinv64, save(false, true), |x, y, g| g.mul(&y.mul(y)?.exp()?.mul_s(PI.sqrt() / 2.0)?), py(method)),
            (reciprocal, reciprocal_, "ReciprocalBackward0", "reciprocal", recip32, recip64, save(false, true), |x, y, g| g.mul(&y.mul(y)?)?.neg(), py(full)),
            (frac, frac_, "FracBackward0", "frac", frac32, frac64, save(false, false), |x, y, g| Ok(g.clone()), py(full)),
            (silu, silu_, "SiluBackward0", "silu", silu32, silu64, save(true, false), |x, y, g| bw_silu(x, g), py(nn)),
            (gelu, gelu_, "GeluBackward0", "gelu", vm::gelu, gelu64, save(true, false), |x, y, g| bw_gelu(x, g), py(nn)),
            (gelu_tanh, gelu_tanh_, "GeluBackward0", "gelu_tanh", vm::gelu_tanh, gelu_tanh64, save(true, false), |x, y, g| bw_gelu_tanh(x, g), py(nn)),
            (softplus, softplus_, "SoftplusBackward0", "softplus", vm::softplus, softplus64, save(true, false), |x, y, g| bw_softplus(x, g), py(nn)),
            (mish, mish_, "MishBackward0", "mish", vm::mish, mish64, save(true, false), |x, y, g| bw_mish(x, g), py(nn)),
            (hardsigmoid, hardsigmoid_, "HardsigmoidBackward0", "hardsigmoid", hardsigmoid32, hardsigmoid64, save(true, false), |x, y, g| bw_hardsigmoid(x, g), py(nn)),
            (hardswish, hardswish_, "HardswishBackward0", "hardswish", hardswish32, hardswish64, save(true, false), |x, y, g| bw_hardswish(x, g), py(nn)),
        }
    };
}
crate::for_each_unary_float_op!(unary_float_ops);

macro_rules! unary_num_ops {
    ($( ($name:ident, $name_:ident, $grad:literal, $cuda:literal, |$v:ident| $num:expr, save($sx:literal, $sy:literal), |$x:ident, $y:ident, $g:ident| $bw:expr, py($py:ident)) ),* $(,)?) => {
        /// The registry rows of the unary ops that keep integer dtypes (see `ops::registry`).
        pub const UNARY_NUM_OPS: &[OpInfo] = &[$(OpInfo {
            name: stringify!($name), family: Family::UnaryNum, grad_fn: $grad, cuda: $cuda, inplace: true, python: Python::$py,
        }),*];
        impl Tensor {
            $(
            pub fn $name(&self) -> Result<Tensor> {
                fn kernel(src: &TensorData, out: &TensorData) {
                    #[allow(unused_imports)]
                    use crate::cpu::math::Num as _;
                    // (`T` names f32 for the op's expression, written over the element type)
                    if map_f32_contiguous(src, out, { type T = f32; |$v: T| $num }) {
                        return;
                    }
                    dispatch!(src.dtype, T => {
                        // SAFETY: src/out hold T.
                        unsafe { map1::<T, T, _>(src.ptr::<T>(), &src.layout, out.ptr::<T>(), &out.layout, |$v: T| $num) }
                    })
                }
                #[allow(unused_variables)]
                fn backward($x: &Tensor, $y: &Tensor, $g: &Tensor) -> Result<Tensor> { $bw }
                const SPEC: UnarySpec = UnarySpec { grad_name: $grad, cuda: $cuda, promote_int: false, float_only: false, save_x: $sx, save_y: $sy, kernel, backward };
                unary(self, stringify!($name), &SPEC)
            }
            pub fn $name_(&self) -> Result<()> {
                inplace_via(self, $sx, |x| x.$name())
            }
            )*
        }
    };
}

/// relu of one element; NaN passes through. A generic function, not an expression in
/// the table, which `dispatch!` would spell as an order comparison on `bool`.
#[inline(always)]
fn relu1<T: Element>(v: T) -> T {
    if v > T::zero() || is_nan(v) { v } else { T::zero() }
}

/// Rounding on integers is the identity.
#[inline(always)]
fn round_like<T: Element>(v: T, f32f: fn(f32) -> f32, f64f: fn(f64) -> f64) -> T {
    match T::DTYPE {
        DType::F64 => T::from_f64(f64f(v.to_f64())),
        d if d.is_float() => T::from_f64(f32f(v.to_f64() as f32) as f64),
        _ => v,
    }
}

// The registry rows of the unary ops that keep integer dtypes: as `for_each_unary_float_op`,
// with one expression over the element type `T` (integers included) instead of the f32/f64 pair.
// round is `custom`: its binding takes `decimals`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_unary_num_op {
    ($cb:ident) => {
        $cb! {
            (neg, neg_, "NegBackward0", "neg", |v| Num::neg(v), save(false, false), |x, y, g| g.neg(), py(full)),
            (abs, abs_, "AbsBackward0", "abs", |v| Num::abs(v), save(true, false), |x, y, g| g.mul(&x.sign()?), py(full)),
            (sign, sign_, "SignBackward0", "sign", |v| Num::sign(v), save(false, false), |x, y, g| g.zeros_like(), py(method)),
            (square, square_, "PowBackward0", "square", |v| Num::mul(v, v), save(true, false), |x, y, g| g.mul(&x.mul_s(2.0)?), py(full)),
            (relu, relu_, "ReluBackward0", "relu", |v| relu1(v), save(false, true), |x, y, g| where_args(&y.gt_s(0.0)?, Arg::T(g), Arg::S(Scalar::Int(0))), py(full)),
            (floor, floor_, "FloorBackward0", "floor", |v| round_like(v, f32::floor, f64::floor), save(false, false), |x, y, g| g.zeros_like(), py(full)),
            (ceil, ceil_, "CeilBackward0", "ceil", |v| round_like(v, f32::ceil, f64::ceil), save(false, false), |x, y, g| g.zeros_like(), py(full)),
            (round, round_, "RoundBackward0", "round", |v| round_like(v, f32::round_ties_even, f64::round_ties_even), save(false, false), |x, y, g| g.zeros_like(), py(custom)),
            (trunc, trunc_, "TruncBackward0", "trunc", |v| round_like(v, f32::trunc, f64::trunc), save(false, false), |x, y, g| g.zeros_like(), py(full)),
        }
    };
}
crate::for_each_unary_num_op!(unary_num_ops);

// The registry rows of the unary ops with hand-written bodies below (bool results, integer-only
// bitwise not): (name, CUDA kernel base name; empty: composed from other ops on CUDA). They
// have no in-place form and no autograd node; the binding gives each `Tensor.<name>(*, out=None)`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_unary_pred_op {
    ($cb:ident) => {
        $cb! {
            (logical_not, "logical_not"),
            (bitwise_not, "bitwise_not"),
            (isnan, "isnan"),
            (isinf, "isinf"),
            (isfinite, "isfinite"),
            (isposinf, ""),
            (isneginf, ""),
        }
    };
}
macro_rules! unary_pred_rows {
    ($( ($name:ident, $cuda:literal) ),* $(,)?) => {
        /// The registry rows of the hand-written unary ops (see `ops::registry`).
        pub const UNARY_PRED_OPS: &[OpInfo] = &[$(OpInfo {
            name: stringify!($name), family: Family::UnaryPred, grad_fn: "", cuda: $cuda, inplace: false, python: Python::no_inplace,
        }),*];
    };
}
crate::for_each_unary_pred_op!(unary_pred_rows);

impl Tensor {
    /// Element-wise logical not (bool output).
    pub fn logical_not(&self) -> Result<Tensor> {
        self.pred(Pred::LogicalNot, DType::Bool)
    }
    /// A `Pred` of the seam into a new tensor of `dtype`.
    fn pred(&self, p: Pred, dtype: DType) -> Result<Tensor> {
        let d = self.data().clone();
        let out = Tensor::empty_on(&d.layout.shape, dtype, self.device())?;
        crate::backend::of(self.device()).pred(p, &d, &out.data())?;
        Ok(out)
    }
    /// `~x`: bitwise not for integers, logical not for bool.
    pub fn bitwise_not(&self) -> Result<Tensor> {
        let d = self.data().clone();
        if d.dtype.is_float() {
            return Err(super::not_implemented("bitwise_not_cpu", d.dtype));
        }
        self.pred(Pred::BitwiseNot, d.dtype)
    }
    // The float predicates: integers are never NaN or infinite (each backend gives them
    // the constant answer).
    pub fn isnan(&self) -> Result<Tensor> {
        self.pred(Pred::IsNan, DType::Bool)
    }
    pub fn isinf(&self) -> Result<Tensor> {
        self.pred(Pred::IsInf, DType::Bool)
    }
    pub fn isfinite(&self) -> Result<Tensor> {
        self.pred(Pred::IsFinite, DType::Bool)
    }
    pub fn isposinf(&self) -> Result<Tensor> {
        self.pred(Pred::IsPosInf, DType::Bool)
    }
    pub fn isneginf(&self) -> Result<Tensor> {
        self.pred(Pred::IsNegInf, DType::Bool)
    }
}

// =====================================================================================
// Binary ops
// =====================================================================================

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Result = promoted dtype (add, mul, maximum, ...).
    Arith,
    /// Like Arith (pow), but an integral tensor to a negative integral scalar power is
    /// refused: PyTorch's check on the scalar exponent (a tensor exponent's negative
    /// elements give the integral power's 0 / 1 / -1 instead).
    Pow,
    /// Like Arith but bool operands are an error (sub).
    NoBool,
    /// Integer operands are promoted to the default float dtype (div, atan2).
    Float,
    /// Integer division: a zero divisor is an error (floor_divide, remainder, fmod).
    IntDiv,
    /// Bool output, computed in the promoted dtype.
    Compare,
    /// Bool output from truthiness.
    Logical,
    /// Integers and bool only.
    Bitwise,
}

type BinaryKernel = crate::backend::BinaryCpu;
type BinaryBackward = fn(&Tensor, &Tensor, &Tensor, &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)>;

/// When a binary op saves one of its inputs for backward.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Keep {
    Never,
    Always,
    /// Only the other input's gradient reads it (mul: d(ab)/db = a), so it is saved only
    /// when the other input requires grad. As PyTorch: `y = x * 0.5` does not save `x`, and
    /// modifying `x` in place afterwards does not break this backward.
    ForOther,
}

impl Keep {
    /// Whether the input is saved, given whether the other input requires grad.
    fn saves(self, other_needs_grad: bool) -> bool {
        match self {
            Keep::Never => false,
            Keep::Always => true,
            Keep::ForOther => other_needs_grad,
        }
    }
}

pub struct BinarySpec {
    pub name: &'static str,
    /// CUDA kernel base name; empty: no CUDA kernel.
    pub cuda: &'static str,
    pub grad_name: &'static str,
    pub kind: Kind,
    /// When the inputs are saved for backward; whether the output is.
    pub save_a: Keep,
    pub save_b: Keep,
    pub save_out: bool,
    pub kernel: BinaryKernel,
    pub backward: Option<BinaryBackward>,
}

impl BinarySpec {
    /// The row's kernels as the backend seam takes them.
    #[inline]
    fn seam(&self) -> Binary<'_> {
        Binary { name: self.name, cuda: self.cuda, cpu: self.kernel }
    }
}

/// (compute dtype, output dtype) of a binary op.
fn binary_dtypes(spec: &BinarySpec, a: &Arg, b: &Arg) -> Result<(DType, DType)> {
    let p = result_dtype(&[*a, *b]);
    Ok(match spec.kind {
        Kind::Arith => (p, p),
        Kind::Pow => {
            check_int_pow(a, b)?;
            (p, p)
        }
        Kind::IntDiv => {
            if p == DType::Bool {
                let kernel = match spec.name {
                    "floor_divide" => "div_floor_cpu",
                    "div_trunc" => "div_trunc_cpu",
                    "fmod" => "fmod_cpu",
                    _ => "remainder_cpu",
                };
                return Err(super::not_implemented(kernel, p));
            }
            (p, p)
        }
        Kind::NoBool => {
            // Either operand bool (a tensor or a Python bool) is refused, as in PyTorch.
            let is_bool = |x: &Arg| match x {
                Arg::T(t) => t.dtype() == DType::Bool,
                Arg::S(s) => matches!(s, Scalar::Bool(_)),
            };
            match (is_bool(a), is_bool(b)) {
                (true, true) => bail!(
                    NotImplemented,
                    "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
                ),
                (true, false) | (false, true) => bail!(
                    NotImplemented,
                    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
                ),
                _ => {}
            }
            (p, p)
        }
        Kind::Float => {
            let f = if p.is_float() { p } else { default_dtype() };
            (f, f)
        }
        Kind::Compare | Kind::Logical => (p, DType::Bool),
        Kind::Bitwise => {
            if p.is_float() {
                return Err(super::not_implemented(&format!("{}_cpu", spec.name), p));
            }
            (p, p)
        }
    })
}

/// `Kind::Pow`'s refusal: an integral (or bool) tensor base with a negative integral
/// scalar exponent. A scalar base (`2 ** t`) is not checked, as in PyTorch.
fn check_int_pow(base: &Arg, exponent: &Arg) -> Result<()> {
    if let (Arg::T(t), Arg::S(Scalar::Int(e))) = (base, exponent) {
        if *e < 0 && !t.dtype().is_float() {
            bail!(Runtime, "Integers to negative integer powers are not allowed.");
        }
    }
    Ok(())
}

/// Integer division by a zero in `b`, PyTorch's ZeroDivisionError; only when the result
/// (of shape `out`) has elements: PyTorch raises only for a division it performs.
fn check_int_zero_divisor(spec: &BinarySpec, compute: DType, b: &TensorData, out: &[usize]) -> Result<()> {
    if spec.kind == Kind::IntDiv && !compute.is_float() && !out.contains(&0) {
        let mut zero = false;
        dispatch_int!(compute, T => {
            let t = Tensor::from_data(b.clone());
            zero = t.to_vec::<T>()?.iter().any(|v| !v.is_nonzero());
        }, _ => {});
        if zero {
            bail!(Runtime, "ZeroDivisionError");
        }
    }
    Ok(())
}

/// Out-of-place binary op with broadcasting, promotion and autograd.
pub fn binary(a: Arg, b: Arg, spec: &BinarySpec) -> Result<Tensor> {
    if crate::autocast::any_enabled() {
        // pow (float32) and atan2 (promote) on CUDA; number operands are not cast.
        let ts: Vec<&Tensor> = [a.tensor(), b.tensor()].into_iter().flatten().collect();
        if let Some(p) = crate::autocast::prepare(spec.name, &ts)? {
            let t = &p.tensors;
            let a2 = match a {
                Arg::T(_) => Arg::T(&t[0]),
                Arg::S(v) => Arg::S(v),
            };
            let b2 = match b {
                Arg::T(_) => Arg::T(&t[t.len() - 1]),
                Arg::S(v) => Arg::S(v),
            };
            return binary(a2, b2, spec);
        }
    }
    if let (Arg::T(x), Arg::T(y)) = (a, b) {
        if let Some(out) = binary_plain(x, y, spec)? {
            return Ok(out);
        }
    }
    let dev = check_same_device(&[a, b])?;
    let (compute, out_dtype) = binary_dtypes(spec, &a, &b)?;
    let (ad, bd) = (a.data_on(compute, dev)?, b.data_on(compute, dev)?);
    let shape = broadcast_shapes(&ad.layout.shape, &bd.layout.shape)?;
    check_int_zero_divisor(spec, compute, &bd, &shape)?;
    let (la, lb) = (ad.layout.broadcast_to(&shape)?, bd.layout.broadcast_to(&shape)?);
    let out = Tensor::empty_on(&shape, out_dtype, dev)?;
    crate::backend::of(dev).binary(spec.seam(), compute, &ad, &la, &bd, &lb, &out.data())?;
    if let Some(bw) = spec.backward {
        // No Vec of inputs here: this runs on every binary op, grad or not.
        let wants = |x: &Arg| x.tensor().is_some_and(|t| t.requires_grad());
        if (wants(&a) || wants(&b)) && crate::autograd::is_grad_enabled() {
            record_binary(spec, bw, a, b, &ad, &bd, &out)?;
        }
    }
    Ok(out)
}

/// The common case on its own short path: two contiguous tensors on one device, of one
/// dtype and shape, computed in that dtype, nothing to record. It skips the promotion-by-conversion,
/// broadcasting and device checks of the general path, which together cost about as much
/// as the rest of a 1-element `a + b` (Python call, allocation, result object).
/// `None`: not this case, take the general path.
fn binary_plain(x: &Tensor, y: &Tensor, spec: &BinarySpec) -> Result<Option<Tensor>> {
    // `a + a`: one read guard (a second read of the same lock could wait behind a writer).
    if x.same(y) {
        return Ok(None);
    }
    let (xd, yd) = (x.data(), y.data());
    if xd.dtype != yd.dtype
        || xd.layout.shape != yd.layout.shape
        || xd.storage.device() != yd.storage.device()
        || !xd.layout.is_contiguous()
        || !yd.layout.is_contiguous()
    {
        return Ok(None);
    }
    // The cheap refusals first, so an op that takes the general path (a graph to record,
    // integer division's zero check) computes its dtypes only there.
    if spec.kind == Kind::IntDiv && !xd.dtype.is_float()
        || spec.backward.is_some() && (x.requires_grad() || y.requires_grad()) && crate::autograd::is_grad_enabled()
    {
        return Ok(None);
    }
    let (compute, out_dtype) = binary_dtypes(spec, &Arg::T(x), &Arg::T(y))?;
    if compute != xd.dtype {
        return Ok(None);
    }
    let dev = xd.storage.device();
    let out = Tensor::empty_on(&xd.layout.shape, out_dtype, dev)?;
    crate::backend::of(dev).binary(spec.seam(), compute, &xd, &xd.layout, &yd, &yd.layout, &out.data())?;
    Ok(Some(out))
}

/// The node name of a binary op with a Python number on one side, where ATen has a separate
/// overload for it (`pow.Tensor_Scalar` is PowBackward0, `pow.Scalar` PowBackward2, `rsub`
/// RsubBackward1...). add/mul/div keep their names: Python wraps the number into a tensor
/// there, as ATen's binding does.
fn scalar_form_name(name: &'static str, is_t_a: bool, is_t_b: bool) -> &'static str {
    match (name, is_t_a, is_t_b) {
        ("PowBackward1", true, false) => "PowBackward0",
        ("PowBackward1", false, true) => "PowBackward2",
        ("FmodBackward1", true, false) => "FmodBackward0",
        ("RemainderBackward1", true, false) => "RemainderBackward0",
        ("SubBackward0", false, true) => "RsubBackward1",
        _ => name,
    }
}

fn record_binary(spec: &BinarySpec, bw: BinaryBackward, a: Arg, b: Arg, ad: &TensorData, bd: &TensorData, out: &Tensor) -> Result<()> {
    // Scalars become 0-d constants that never require grad.
    let as_tensor = |x: &Arg, d: &TensorData| match x {
        Arg::T(t) => (*t).clone(),
        Arg::S(_) => Tensor::from_data(d.clone()),
    };
    let (ta, tb) = (as_tensor(&a, ad), as_tensor(&b, bd));
    let (is_t_a, is_t_b) = (a.tensor().is_some(), b.tensor().is_some());
    let sa = spec.save_a.saves(is_t_b && tb.requires_grad()).then(|| SavedTensor::input(&ta));
    let sb = spec.save_b.saves(is_t_a && ta.requires_grad()).then(|| SavedTensor::input(&tb));
    let sy = spec.save_out.then(|| SavedTensor::output(out, 0));
    let (shape_a, shape_b) = (ta.shape(), tb.shape());
    let (dt_a, dt_b) = (ta.dtype(), tb.dtype());
    let mut inputs: Vec<&Tensor> = Vec::new();
    if is_t_a {
        inputs.push(&ta);
    }
    if is_t_b {
        inputs.push(&tb);
    }
    let slots = [is_t_a, is_t_b];
    record(scalar_form_name(spec.grad_name, is_t_a, is_t_b), &inputs, &[out], move |ctx, g| {
        let Some(g) = &g[0] else { return Ok(vec![None; ctx.needs_input_grad.len()]) };
        let av = unpack_or_placeholder(&sa, ctx)?;
        let bv = unpack_or_placeholder(&sb, ctx)?;
        let yv = unpack_or_placeholder(&sy, ctx)?;
        let (ga, gb) = bw(&av, &bv, &yv, g)?;
        let fix = |gx: Option<Tensor>, shape: &[usize], dt: DType| -> Result<Option<Tensor>> {
            match gx {
                None => Ok(None),
                Some(gx) => {
                    let gx = gx.sum_to_size(shape)?;
                    Ok(Some(if gx.dtype() != dt && dt.is_float() { gx.to_dtype(dt)? } else { gx }))
                }
            }
        };
        let mut outs = Vec::new();
        if slots[0] {
            outs.push(fix(ga, &shape_a, dt_a)?);
        }
        if slots[1] {
            outs.push(fix(gb, &shape_b, dt_b)?);
        }
        Ok(outs)
    });
    Ok(())
}

/// The device an op on `args` runs on: that of its tensors, which must agree, except that
/// a 0-d CPU tensor may join CUDA tensors (it is a scalar, as in PyTorch).
pub(crate) fn check_same_device(args: &[Arg]) -> Result<crate::device::Device> {
    // Fast path (every CPU op): one device read per tensor, all equal.
    let mut first = None;
    let mut mixed = false;
    for a in args {
        if let Arg::T(t) = a {
            let d = t.device();
            match first {
                None => first = Some(d),
                Some(f) => mixed |= f != d,
            }
        }
    }
    if !mixed {
        return Ok(first.unwrap_or(crate::device::Device::Cpu));
    }
    let mut dev: Option<crate::device::Device> = None;
    for a in args {
        if let Arg::T(t) = a {
            let d = t.device();
            if d == crate::device::Device::Cpu && t.ndim() == 0 {
                continue;
            }
            match dev {
                None => dev = Some(d),
                Some(p) if p != d => bail!(
                    Runtime,
                    "Expected all tensors to be on the same device, but found at least two devices, {} and {}!",
                    p,
                    d
                ),
                _ => {}
            }
        }
    }
    // Only 0-d CPU tensors besides one device: that device.
    Ok(dev.unwrap_or(crate::device::Device::Cpu))
}

/// In-place binary op `a op= b`. Fast path writes straight into `a` when no graph is
/// recorded and dtypes agree; otherwise out-of-place + copy + rebase.
pub fn binary_(a: &Tensor, b: Arg, spec: &BinarySpec) -> Result<()> {
    // pow_'s exponent check comes before the in-place checks, as PyTorch's.
    if spec.kind == Kind::Pow {
        check_int_pow(&Arg::T(a), &b)?;
    }
    let needs = spec.backward.is_some() && needs_grad(&[a]) || b.tensor().map(|t| needs_grad(&[t])).unwrap_or(false);
    if !needs {
        crate::autograd::check_inplace(a)?;
        check_no_internal_overlap(a)?;
        let (compute, out_dtype) = binary_dtypes(spec, &Arg::T(a), &b)?;
        let adt = a.dtype();
        // Backends whose kernels write only contiguous outputs (CUDA) go out of place + copy.
        let be = crate::backend::of(a.device());
        if compute == adt && out_dtype == adt && !be.composes(Composite::InPlaceWrite) {
            check_same_device(&[Arg::T(a), b])?;
            let bd = b.data_as(compute)?;
            let ad = a.data().clone();
            check_int_zero_divisor(spec, compute, &bd, &ad.layout.shape)?;
            let lb = bd.layout.broadcast_to(&ad.layout.shape).map_err(|_| {
                crate::err!(
                    Runtime,
                    "output with shape {} doesn't match the broadcast shape {}",
                    crate::shape::fmt_shape(&ad.layout.shape),
                    crate::shape::fmt_shape(&broadcast_shapes(&ad.layout.shape, &bd.layout.shape).unwrap_or_default())
                )
            })?;
            // An aliasing right operand is copied first so every element reads old values.
            let bd = if bd.storage.same(&ad.storage) && !(bd.layout == ad.layout) {
                Tensor::from_data(bd.clone()).contiguous_copy()?.data().clone()
            } else {
                bd
            };
            let lb = if bd.layout.shape == lb.shape { bd.layout.clone() } else { Layout { offset: bd.layout.offset, ..lb } };
            be.binary_inplace(spec.seam(), compute, &ad, &bd, &lb)?;
            ad.storage.bump_version();
            return Ok(());
        }
    }
    let saves_a = spec.save_a.saves(b.tensor().is_some_and(|t| t.requires_grad()));
    inplace_via(a, saves_a, |x| binary(Arg::T(x), b, spec))
}

macro_rules! binary_ops {
    ($( ($name:ident, $name_:ident, $grad:literal, $cuda:literal, $kind:ident, |$a:ident, $b:ident| $f:expr, $out:ident, save($save_a:ident, $save_b:ident, $save_out:literal), $bw:expr, py($py:ident)) ),* $(,)?) => {
        /// The registry rows of the binary ops (see `ops::registry`).
        pub const BINARY_OPS: &[OpInfo] = &[$(OpInfo {
            name: stringify!($name), family: Family::Binary(Kind::$kind), grad_fn: $grad, cuda: $cuda,
            inplace: true, python: Python::$py,
        }),*];
        pub mod specs {
            use super::*;
            $(
            #[allow(non_upper_case_globals)]
            pub static $name: BinarySpec = BinarySpec {
                name: stringify!($name),
                cuda: $cuda,
                grad_name: $grad,
                kind: Kind::$kind,
                save_a: Keep::$save_a,
                save_b: Keep::$save_b,
                save_out: $save_out,
                kernel: {
                    fn k(dt: DType, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, o: &TensorData, lo: &Layout) {
                        binary_ops!(@kernel $kind, $out, dt, a, la, b, lb, o, lo, |$a, $b| $f)
                    }
                    k
                },
                backward: $bw,
            };
            )*
        }
        impl Tensor {
            $(
            pub fn $name<'a>(&self, other: impl Into<Arg<'a>>) -> Result<Tensor> {
                binary(Arg::T(self), other.into(), &specs::$name)
            }
            pub fn $name_<'a>(&self, other: impl Into<Arg<'a>>) -> Result<()> {
                binary_(self, other.into(), &specs::$name)
            }
            )*
        }
    };
    (@kernel $kind:ident, same, $dt:ident, $a:ident, $la:ident, $b:ident, $lb:ident, $o:ident, $lo:ident, |$x:ident, $y:ident| $f:expr) => {
        dispatch!($dt, T => {
            #[allow(unused_imports)]
            use crate::cpu::math::Num as _;
            // SAFETY: all three hold T (compute dtype == output dtype for this kind).
            unsafe { map2::<T, T, T, _>($a.ptr::<T>(), $la, $b.ptr::<T>(), $lb, $o.ptr::<T>(), $lo, |$x: T, $y: T| $f) }
        })
    };
    (@kernel $kind:ident, int, $dt:ident, $a:ident, $la:ident, $b:ident, $lb:ident, $o:ident, $lo:ident, |$x:ident, $y:ident| $f:expr) => {
        dispatch_int!($dt, T => {
            // SAFETY: all three hold T.
            unsafe { map2::<T, T, T, _>($a.ptr::<T>(), $la, $b.ptr::<T>(), $lb, $o.ptr::<T>(), $lo, |$x: T, $y: T| $f) }
        }, _ => {})
    };
    (@kernel $kind:ident, bool, $dt:ident, $a:ident, $la:ident, $b:ident, $lb:ident, $o:ident, $lo:ident, |$x:ident, $y:ident| $f:expr) => {
        dispatch!($dt, T => {
            // SAFETY: inputs hold T, output holds bool.
            unsafe { map2::<T, T, bool, _>($a.ptr::<T>(), $la, $b.ptr::<T>(), $lb, $o.ptr::<bool>(), $lo, |$x: T, $y: T| $f) }
        })
    };
}

type Grads = Result<(Option<Tensor>, Option<Tensor>)>;

/// Shifts with PyTorch's semantics: shifting by >= the bit width (or a negative
/// amount) gives 0, or the sign fill for right shifts of negative values.
#[inline(always)]
fn shift<T: Element>(x: T, y: T, left: bool) -> T {
    let bits = (T::DTYPE.size() * 8) as i64;
    let (v, s) = (x.to_i64(), y.to_i64());
    let r = if s < 0 || s >= bits {
        if left || v >= 0 { 0 } else { -1 }
    } else if left {
        v.wrapping_shl(s as u32)
    } else if T::DTYPE == DType::U8 {
        ((v as u64 & 0xff) >> s) as i64
    } else {
        v >> s
    };
    T::from_i64(r)
}

fn bw_add(_a: &Tensor, _b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    Ok((Some(g.clone()), Some(g.clone())))
}
fn bw_sub(_a: &Tensor, _b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    Ok((Some(g.clone()), Some(g.neg()?)))
}
fn bw_mul(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    Ok((Some(g.mul(b)?), Some(g.mul(a)?)))
}
fn bw_div(_a: &Tensor, b: &Tensor, y: &Tensor, g: &Tensor) -> Grads {
    let ga = g.div(b)?;
    Ok((Some(ga.clone()), Some(ga.mul(y)?.neg()?)))
}
fn bw_pow(a: &Tensor, b: &Tensor, y: &Tensor, g: &Tensor) -> Grads {
    // d/da = b * a^(b-1); d/db = a^b * ln(a), taken as 0 where a == 0 and b >= 0.
    let ga = g.mul(&b.mul(&a.pow(&b.sub_s(1.0)?)?)?)?;
    let mask = a.eq_s(0.0)?.logical_and(&b.ge_s(0.0)?)?;
    let gb = g.mul(&y.mul(&a.log()?)?)?.masked_fill(&mask, Scalar::Float(0.0))?;
    Ok((Some(ga), Some(gb)))
}
fn bw_atan2(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    let den = a.mul(a)?.add(&b.mul(b)?)?;
    Ok((Some(g.mul(b)?.div(&den)?), Some(g.mul(a)?.neg()?.div(&den)?)))
}
fn bw_maximum(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    // Ties split the gradient evenly (PyTorch's maximum/minimum backward).
    let half = g.mul_s(0.5)?;
    let eq = a.eq(b)?;
    let ga = Tensor::where_(&eq, &half, &g.masked_fill(&a.lt(b)?, Scalar::Float(0.0))?)?;
    let gb = Tensor::where_(&eq, &half, &g.masked_fill(&b.lt(a)?, Scalar::Float(0.0))?)?;
    Ok((Some(ga), Some(gb)))
}
fn bw_minimum(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    let half = g.mul_s(0.5)?;
    let eq = a.eq(b)?;
    let ga = Tensor::where_(&eq, &half, &g.masked_fill(&a.gt(b)?, Scalar::Float(0.0))?)?;
    let gb = Tensor::where_(&eq, &half, &g.masked_fill(&b.gt(a)?, Scalar::Float(0.0))?)?;
    Ok((Some(ga), Some(gb)))
}
fn bw_fmod(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    Ok((Some(g.clone()), Some(g.mul(&a.div(b)?.trunc()?)?.neg()?)))
}
fn bw_remainder(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Grads {
    Ok((Some(g.clone()), Some(g.mul(&a.div(b)?.floor()?)?.neg()?)))
}

// The order comparisons are spelled `PartialOrd::lt(&x, &y)` (the same operation as
// `x < y`) because `dispatch!` instantiates each expression with `T = bool` too, where
// clippy would flag `x < y` as an order comparison between booleans.
// The registry rows of the binary ops: (name, in-place name, autograd node (empty: not
// differentiable), CUDA kernel base name (empty: none), dtype rule, CPU expression over two
// elements, output kind, what backward saves (a, b, output), backward, how Python sees it).
// `ops::registry::Python` says which Python forms each `py(...)` generates; the `custom` rows are
// written out in the binding (add/sub take alpha, div rounding_mode, pow's argument is
// `exponent`, maximum/minimum take no number), div_trunc is the integer division
// div(rounding_mode="trunc") calls.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_binary_op {
    ($cb:ident) => {
        $cb! {
            (add, add_, "AddBackward0", "add", Arith, |x, y| x.add(y), same, save(Never, Never, false), Some(bw_add), py(custom)),
            (sub, sub_, "SubBackward0", "sub", NoBool, |x, y| x.sub(y), same, save(Never, Never, false), Some(bw_sub), py(custom)),
            (mul, mul_, "MulBackward0", "mul", Arith, |x, y| x.mul(y), same, save(ForOther, ForOther, false), Some(bw_mul), py(method)),
            (div, div_, "DivBackward0", "div", Float, |x, y| x.div(y), same, save(Never, Always, true), Some(bw_div), py(custom)),
            (pow, pow_, "PowBackward1", "pow", Pow, |x, y| Num::pow(x, y), same, save(Always, Always, true), Some(bw_pow), py(custom)),
            (atan2, atan2_, "Atan2Backward0", "atan2", Float, |x, y| T::from_f64(x.to_f64().atan2(y.to_f64())), same, save(Always, Always, false), Some(bw_atan2), py(method)),
            (maximum, maximum_, "MaximumBackward0", "maximum", Arith, |x, y| Num::maximum(x, y), same, save(Always, Always, false), Some(bw_maximum), py(custom)),
            (minimum, minimum_, "MinimumBackward0", "minimum", Arith, |x, y| Num::minimum(x, y), same, save(Always, Always, false), Some(bw_minimum), py(custom)),
            (fmod, fmod_, "FmodBackward1", "fmod", IntDiv, |x, y| x.fmod(y), same, save(ForOther, Always, false), Some(bw_fmod), py(method)),
            (remainder, remainder_, "RemainderBackward1", "remainder", IntDiv, |x, y| x.remainder(y), same, save(ForOther, Always, false), Some(bw_remainder), py(method)),
            (floor_divide, floor_divide_, "FloorDivideBackward0", "floor_divide", IntDiv, |x, y| x.floor_div(y), same, save(Never, Never, false), None, py(method)),
            (div_trunc, div_trunc_, "DivBackward2", "div", IntDiv, |x, y| x.trunc_div(y), same, save(Never, Never, false), None, py(internal)),
            (eq, eq_, "EqBackward0", "eq", Compare, |x, y| x == y, bool, save(Never, Never, false), None, py(method)),
            (ne, ne_, "NeBackward0", "ne", Compare, |x, y| x != y, bool, save(Never, Never, false), None, py(method)),
            (lt, lt_, "LtBackward0", "lt", Compare, |x, y| PartialOrd::lt(&x, &y), bool, save(Never, Never, false), None, py(method)),
            (le, le_, "LeBackward0", "le", Compare, |x, y| PartialOrd::le(&x, &y), bool, save(Never, Never, false), None, py(method)),
            (gt, gt_, "GtBackward0", "gt", Compare, |x, y| PartialOrd::gt(&x, &y), bool, save(Never, Never, false), None, py(method)),
            (ge, ge_, "GeBackward0", "ge", Compare, |x, y| PartialOrd::ge(&x, &y), bool, save(Never, Never, false), None, py(method)),
            (logical_and, logical_and_, "", "logical_and", Logical, |x, y| x.is_nonzero() && y.is_nonzero(), bool, save(Never, Never, false), None, py(method)),
            (logical_or, logical_or_, "", "logical_or", Logical, |x, y| x.is_nonzero() || y.is_nonzero(), bool, save(Never, Never, false), None, py(method)),
            (logical_xor, logical_xor_, "", "logical_xor", Logical, |x, y| x.is_nonzero() != y.is_nonzero(), bool, save(Never, Never, false), None, py(method)),
            (bitwise_and, bitwise_and_, "", "bitwise_and", Bitwise, |x, y| x & y, int, save(Never, Never, false), None, py(method)),
            (bitwise_or, bitwise_or_, "", "bitwise_or", Bitwise, |x, y| x | y, int, save(Never, Never, false), None, py(method)),
            (bitwise_xor, bitwise_xor_, "", "bitwise_xor", Bitwise, |x, y| x ^ y, int, save(Never, Never, false), None, py(method)),
            (bitwise_left_shift, bitwise_left_shift_, "", "bitwise_left_shift", Bitwise, |x, y| shift(x, y, true), int, save(Never, Never, false), None, py(method)),
            (bitwise_right_shift, bitwise_right_shift_, "", "bitwise_right_shift", Bitwise, |x, y| shift(x, y, false), int, save(Never, Never, false), None, py(method)),
        }
    };
}
crate::for_each_binary_op!(binary_ops);

impl Tensor {
    // Scalar conveniences used by backward formulas and composites.
    pub fn add_s(&self, v: f64) -> Result<Tensor> {
        self.add(Scalar::Float(v))
    }
    pub fn sub_s(&self, v: f64) -> Result<Tensor> {
        self.sub(Scalar::Float(v))
    }
    pub fn mul_s(&self, v: f64) -> Result<Tensor> {
        self.mul(Scalar::Float(v))
    }
    pub fn div_s(&self, v: f64) -> Result<Tensor> {
        self.div(Scalar::Float(v))
    }
    /// v - self
    pub fn rsub_s(&self, v: f64) -> Result<Tensor> {
        binary(Arg::S(Scalar::Float(v)), Arg::T(self), &specs::sub)
    }
    pub fn pow_s(&self, v: f64) -> Result<Tensor> {
        self.pow(Scalar::Float(v))
    }
    pub fn gt_s(&self, v: f64) -> Result<Tensor> {
        self.gt(Scalar::Float(v))
    }
    pub fn ge_s(&self, v: f64) -> Result<Tensor> {
        self.ge(Scalar::Float(v))
    }
    pub fn lt_s(&self, v: f64) -> Result<Tensor> {
        self.lt(Scalar::Float(v))
    }
    pub fn eq_s(&self, v: f64) -> Result<Tensor> {
        self.eq(Scalar::Float(v))
    }

    /// `add(other, alpha=alpha)`: `self + alpha * other`, with [`scale_by_alpha`]'s rules.
    pub fn add_alpha<'a>(&self, other: impl Into<Arg<'a>>, alpha: Scalar) -> Result<Tensor> {
        let o = scale_by_alpha(self, other.into(), alpha)?;
        self.add(o.arg())
    }
    /// `add_(other, alpha=alpha)`.
    pub fn add_alpha_<'a>(&self, other: impl Into<Arg<'a>>, alpha: Scalar) -> Result<()> {
        let o = scale_by_alpha(self, other.into(), alpha)?;
        self.add_(o.arg())
    }
    /// `sub(other, alpha=alpha)`: `self - alpha * other`.
    pub fn sub_alpha<'a>(&self, other: impl Into<Arg<'a>>, alpha: Scalar) -> Result<Tensor> {
        let o = scale_by_alpha(self, other.into(), alpha)?;
        self.sub(o.arg())
    }
    /// `sub_(other, alpha=alpha)`.
    pub fn sub_alpha_<'a>(&self, other: impl Into<Arg<'a>>, alpha: Scalar) -> Result<()> {
        let o = scale_by_alpha(self, other.into(), alpha)?;
        self.sub_(o.arg())
    }

    /// `div(other, rounding_mode=...)`: true division (`None`), `"trunc"` or `"floor"`;
    /// any other mode is PyTorch's error.
    pub fn div_rounding<'a>(&self, other: impl Into<Arg<'a>>, rounding_mode: Option<&str>) -> Result<Tensor> {
        let o = other.into();
        match rounding_mode {
            None => self.div(o),
            Some("trunc") => self.div_trunc(o),
            Some("floor") => self.floor_divide(o),
            Some(m) => Err(bad_rounding_mode(m)),
        }
    }
    /// `div_(other, rounding_mode=...)`.
    pub fn div_rounding_<'a>(&self, other: impl Into<Arg<'a>>, rounding_mode: Option<&str>) -> Result<()> {
        let o = other.into();
        match rounding_mode {
            None => self.div_(o),
            Some("trunc") => self.div_trunc_(o),
            Some("floor") => self.floor_divide_(o),
            Some(m) => Err(bad_rounding_mode(m)),
        }
    }

    /// `round(decimals=d)`: round half to even at 10^-d (d may be negative), computed as
    /// PyTorch's `round(x * 10^d) / 10^d`; `decimals = 0` is `round()`.
    pub fn round_decimals(&self, decimals: i64) -> Result<Tensor> {
        if decimals == 0 {
            return self.round();
        }
        let s = 10f64.powi(decimals as i32);
        self.mul_s(s)?.round()?.div_s(s)
    }
    /// `round_(decimals=d)`.
    pub fn round_decimals_(&self, decimals: i64) -> Result<()> {
        let r = self.round_decimals(decimals)?;
        self.copy_(&r)
    }

    /// `torch.where(cond, a, b)`.
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        where_args(cond, Arg::T(a), Arg::T(b))
    }

    /// `masked_fill(mask, value)`: out-of-place.
    pub fn masked_fill(&self, mask: &Tensor, value: Scalar) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            bail!(Runtime, "masked_fill_ only supports boolean masks, but got mask with dtype {}", mask.dtype().name());
        }
        let v = Tensor::scalar(value, self.dtype())?;
        // Out of place, self broadcasts with the mask as in PyTorch ((1, 1) with a (3,)
        // mask gives (1, 3)); masked_fill_ rejects a result of another shape.
        where_args(mask, Arg::T(&v), Arg::T(self))
    }
    pub fn masked_fill_(&self, mask: &Tensor, value: Scalar) -> Result<()> {
        inplace_via(self, false, |x| x.masked_fill(mask, value))
    }

    /// The number a tensor stands for where an op takes a number (masked_fill's and
    /// fill_'s `value`): the element of a 0-d tensor; a tensor with dims is PyTorch's error.
    pub fn value_scalar(&self) -> Result<Scalar> {
        if self.numel() == 1 && self.ndim() == 0 {
            return self.item();
        }
        bail!(
            Runtime,
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {} dimension(s).",
            self.ndim()
        )
    }

    /// `lerp(end, weight)`, with PyTorch's formula: `self + w * (end - self)` for
    /// |w| < 0.5, else `end - (end - self) * (1 - w)`, so both endpoints are exact.
    /// Half types compute in float32 and round once.
    pub fn lerp(&self, end: &Tensor, weight: Arg) -> Result<Tensor> {
        let dt = self.dtype();
        // `end`'s dtype first: PyTorch checks it before the kernel's dtype support.
        if end.dtype() != dt {
            bail!(Runtime, "expected dtype {} for `end` but got dtype {}", dt.name(), end.dtype().name());
        }
        if !dt.is_float() {
            let kernel = if weight.tensor().is_some() { "lerp_kernel_tensor" } else { "lerp_kernel_scalar" };
            return Err(super::not_implemented(kernel, dt));
        }
        let half = matches!(dt, DType::F16 | DType::BF16);
        let up = |t: &Tensor| if half { t.to_dtype(DType::F32) } else { Ok(t.clone()) };
        let (s, e) = (up(self)?, up(end)?);
        let diff = e.sub(&s)?;
        let out = match weight {
            Arg::S(w) => {
                let w = w.to_f64();
                if w.abs() < 0.5 {
                    s.add(&diff.mul_s(w)?)?
                } else {
                    e.sub(&diff.mul_s(1.0 - w)?)?
                }
            }
            Arg::T(w) => {
                // A 0-d weight acts like a number; a weight with dims must match the dtype.
                if w.dtype() != dt && w.ndim() > 0 {
                    bail!(Runtime, "expected dtype {} for `weight` but got dtype {}", dt.name(), w.dtype().name());
                }
                let w = w.to_dtype(if half { DType::F32 } else { dt })?;
                let low = w.abs()?.lt_s(0.5)?;
                let a = s.add(&w.mul(&diff)?)?;
                let b = e.sub(&diff.mul(&w.rsub_s(1.0)?)?)?;
                Tensor::where_(&low, &a, &b)?
            }
        };
        if half { out.to_dtype(dt) } else { Ok(out) }
    }
    /// `lerp_(end, weight)`: computed from self before the in-place checks run.
    pub fn lerp_(&self, end: &Tensor, weight: Arg) -> Result<()> {
        let r = self.lerp(end, weight)?;
        inplace_via(self, false, |_| Ok(r))
    }

    /// `clamp(min, max)` with scalar or tensor bounds; NaN propagates.
    pub fn clamp(&self, min: Option<Arg>, max: Option<Arg>) -> Result<Tensor> {
        if min.is_none() && max.is_none() {
            bail!(Runtime, "torch.clamp: At least one of 'min' or 'max' must not be None");
        }
        let number = |a: Option<Arg>| match a {
            Some(Arg::T(_)) => Err(()),
            Some(Arg::S(v)) => Ok(Some(v)),
            None => Ok(None),
        };
        if let (Ok(lo), Ok(hi)) = (number(min), number(max)) {
            if needs_grad(&[self]) {
                // PyTorch's backward for number bounds: the gradient passes where
                // min < x < max strictly, so 0 at either bound (clamp(min=0) at 0 as
                // relu at 0) and at NaN; the where() composite below passed it at the bounds.
                let out = {
                    let _g = crate::autograd::NoGradGuard::new();
                    self.clamp(min, max)?
                };
                let sx = SavedTensor::input(self);
                record("ClampBackward1", &[self], &[&out], move |ctx, g| {
                    let Some(g) = &g[0] else { return Ok(vec![None]) };
                    let x = sx.unpack(ctx)?;
                    let keep = match (lo, hi) {
                        (Some(lo), Some(hi)) => x.gt(lo)?.logical_and(&x.lt(hi)?)?,
                        (Some(lo), None) => x.gt(lo)?,
                        (None, Some(hi)) => x.lt(hi)?,
                        (None, None) => unreachable!("clamp without bounds is rejected above"),
                    };
                    Ok(vec![Some(where_args(&keep, Arg::T(g), Arg::S(Scalar::Int(0)))?)])
                });
                return Ok(out);
            }
        }
        let mut out = self.clone();
        // Composite of maximum/minimum (tensor bounds: ties split the gradient in halves, as
        // PyTorch's) or where() (number bounds, without autograd: see above).
        if let Some(lo) = min {
            out = clamp_side(&out, lo, true)?;
        }
        if let Some(hi) = max {
            out = clamp_side(&out, hi, false)?;
        }
        Ok(out)
    }
    /// `clamp_(min, max)`.
    pub fn clamp_(&self, min: Option<Arg>, max: Option<Arg>) -> Result<()> {
        inplace_via(self, true, |x| x.clamp(min, max))
    }
}

/// `other * alpha`: the operand `add`/`sub` with `alpha=` apply. As PyTorch: a float
/// alpha needs a floating result, a bool alpha a bool result (the result dtype of `me`
/// and `other`). A tensor is multiplied (differentiably); a number is scaled as a
/// number (bool by `and`, integers wrapping, else in float).
pub fn scale_by_alpha(me: &Tensor, other: Arg, alpha: Scalar) -> Result<OwnedArg> {
    let res = result_dtype(&[Arg::T(me), other]);
    match alpha {
        Scalar::Bool(_) if res != DType::Bool => bail!(Runtime, "Boolean alpha only supported for Boolean results."),
        Scalar::Float(_) if !res.is_float() => {
            bail!(Runtime, "For integral input tensors, argument alpha must not be a floating point number.")
        }
        _ => {}
    }
    Ok(match other {
        Arg::T(t) => OwnedArg::T(t.mul(alpha)?),
        Arg::S(x) => OwnedArg::S(match (x, alpha) {
            (Scalar::Bool(p), Scalar::Bool(q)) => Scalar::Bool(p && q),
            (Scalar::Int(_) | Scalar::Bool(_), Scalar::Int(_) | Scalar::Bool(_)) => Scalar::Int(x.to_i64().wrapping_mul(alpha.to_i64())),
            _ => Scalar::Float(x.to_f64() * alpha.to_f64()),
        }),
    })
}

fn bad_rounding_mode(mode: &str) -> crate::error::Error {
    crate::err!(Runtime, "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{}'", mode)
}

fn clamp_side(x: &Tensor, bound: Arg, is_min: bool) -> Result<Tensor> {
    let b = match bound {
        Arg::T(t) => t.clone(),
        Arg::S(s) => {
            let dt = result_dtype(&[Arg::T(x), Arg::S(s)]);
            // A bound outside an integer dtype's range would wrap when cast (uint8
            // clamp(min=-1) became min=255). As PyTorch: a bound on the far side of the
            // range is a no-op, one on the near side an error.
            if let Some((lo, hi)) = dt.int_range() {
                let (lo, hi, v) = (lo as f64, hi as f64, s.to_f64());
                if (is_min && v < lo) || (!is_min && v > hi) {
                    return Ok(x.clone());
                }
                if v < lo || v > hi {
                    let side = if is_min { "min" } else { "max" };
                    bail!(Runtime, "Clamp {} value {} is outside the representable range of {}", side, v, crate::ops::pretty_dtype(dt));
                }
            }
            Tensor::scalar(s, dt)?
        }
    };
    if let Arg::T(_) = bound {
        // maximum/minimum: NaN from either side, the gradient split at ties (PyTorch's
        // ClampBackward0 for tensor bounds).
        let dt = result_dtype(&[Arg::T(x), Arg::T(&b)]);
        let xb = if x.dtype() != dt { x.to_dtype(dt)? } else { x.clone() };
        let bb = if b.dtype() != dt { b.to_dtype(dt)? } else { b };
        return if is_min { xb.maximum(&bb) } else { xb.minimum(&bb) };
    }
    // where(x < lo, lo, x): x itself where it is kept (-0.0 stays -0.0, as PyTorch's). A NaN
    // in x stays (comparisons with NaN are false); a NaN bound gives NaN, as in PyTorch.
    let mut cond = if is_min { x.lt(&b)? } else { x.gt(&b)? };
    let nan_bound = match bound {
        Arg::S(s) => s.to_f64().is_nan(),
        Arg::T(t) => t.dtype().is_float(),
    };
    if nan_bound {
        cond = cond.logical_or(&b.isnan()?)?;
    }
    let dt = result_dtype(&[Arg::T(x), Arg::T(&b)]);
    let xb = if x.dtype() != dt { x.to_dtype(dt)? } else { x.clone() };
    let bb = if b.dtype() != dt { b.to_dtype(dt)? } else { b };
    Tensor::where_(&cond, &bb, &xb)
}

/// `torch.where(cond, a, b)` with scalar or tensor branches.
pub fn where_args(cond: &Tensor, a: Arg, b: Arg) -> Result<Tensor> {
    let dev = check_same_device(&[Arg::T(cond), a, b])?;
    let cd = if cond.dtype() == DType::Bool {
        Arg::T(cond).data_on(DType::Bool, dev)?
    } else {
        bail!(Runtime, "where expected condition to be a boolean tensor, but got a tensor with dtype {}", super::pretty_dtype(cond.dtype()))
    };
    let dt = result_dtype(&[a, b]);
    let (ad, bd) = (a.data_on(dt, dev)?, b.data_on(dt, dev)?);
    let shape = broadcast_shapes(&cd.layout.shape, &broadcast_shapes(&ad.layout.shape, &bd.layout.shape)?)?;
    let (lc, la, lb) = (cd.layout.broadcast_to(&shape)?, ad.layout.broadcast_to(&shape)?, bd.layout.broadcast_to(&shape)?);
    let out = Tensor::empty_on(&shape, dt, dev)?;
    crate::backend::of(dev).where_(&cd, &lc, &ad, &la, &bd, &lb, &out.data())?;
    let ta = a.tensor().cloned();
    let tb = b.tensor().cloned();
    let ins: Vec<Tensor> = ta.iter().chain(tb.iter()).cloned().collect();
    let refs: Vec<&Tensor> = ins.iter().collect();
    if needs_grad(&refs) {
        let c = Tensor::from_data(cd.clone());
        let (sha, shb) = (ad.layout.shape.clone(), bd.layout.shape.clone());
        let (has_a, has_b) = (ta.is_some(), tb.is_some());
        let (dta, dtb) = (ta.as_ref().map(|t| t.dtype()), tb.as_ref().map(|t| t.dtype()));
        record("WhereBackward0", &refs, &[&out], move |_, g| {
            let Some(g) = &g[0] else { return Ok(vec![None; has_a as usize + has_b as usize]) };
            let z = Tensor::zeros(&[], g.dtype(), g.device())?;
            let mut outs = vec![];
            if has_a {
                let ga = Tensor::where_(&c, g, &z)?.sum_to_size(&sha)?;
                outs.push(Some(match dta { Some(d) if d != ga.dtype() && d.is_float() => ga.to_dtype(d)?, _ => ga }));
            }
            if has_b {
                let gb = Tensor::where_(&c, &z, g)?.sum_to_size(&shb)?;
                outs.push(Some(match dtb { Some(d) if d != gb.dtype() && d.is_float() => gb.to_dtype(d)?, _ => gb }));
            }
            Ok(outs)
        });
    }
    Ok(out)
}

impl Tensor {
    /// `nan_to_num(nan=0.0, posinf=None, neginf=None)`.
    pub fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Tensor> {
        let d = self.data().clone();
        if !d.dtype.is_float() {
            return self.clone_tensor();
        }
        // The dtype's largest finite value replaces an infinity by default (torch.finfo.max).
        let big = match d.dtype { DType::F16 => 65504.0, DType::BF16 => 3.3895313892515355e38, DType::F32 => f32::MAX as f64, _ => f64::MAX };
        let (pi, ni) = (posinf.unwrap_or(big), neginf.unwrap_or(-big));
        let be = crate::backend::of(self.device());
        let out = if be.composes(Composite::NanToNum) {
            // Three masked fills (see `Composite::NanToNum`).
            let _ng = crate::autograd::NoGradGuard::new();
            let x = self.detach();
            x.masked_fill(&x.isnan()?, Scalar::Float(nan))?
                .masked_fill(&x.eq_s(f64::INFINITY)?, Scalar::Float(pi))?
                .masked_fill(&x.eq_s(f64::NEG_INFINITY)?, Scalar::Float(ni))?
        } else {
            let out = Tensor::empty_on(&d.layout.shape, d.dtype, self.device())?;
            be.nan_to_num(&d, nan, pi, ni, &out.data())?;
            out
        };
        if needs_grad(&[self]) {
            let x = self.detach();
            record("NanToNumBackward0", &[self], &[&out], move |_, g| {
                let Some(g) = &g[0] else { return Ok(vec![None]) };
                Ok(vec![Some(g.mul(&x.isfinite()?)?)])
            });
        }
        Ok(out)
    }
    /// `nan_to_num_(nan, posinf, neginf)`.
    pub fn nan_to_num_(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<()> {
        inplace_via(self, true, |x| x.nan_to_num(nan, posinf, neginf))
    }
}
