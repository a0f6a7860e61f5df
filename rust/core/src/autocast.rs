//! Automatic mixed precision (`torch.autocast`): a thread-local state (enabled flag and
//! lower-precision dtype per device type, nesting depth, the weight-cast cache) and
//! PyTorch's per-op cast policies (`aten/src/ATen/autocast_mode.cpp`, one table per device
//! type, below).
//!
//! An op that has a policy calls [`prepare`] at its entry with its tensor arguments: when
//! autocast is enabled for their device type, it gets them back cast (through the
//! differentiable `to_dtype`, so gradients reach a float32 parameter in float32) and a guard
//! that disables autocast for the ops it runs inside (PyTorch's
//! `ExcludeDispatchKeyGuard(AutocastFunctionality)`): an op on the float32 list composed of
//! ops on the lower-precision list computes in float32. Ops without a policy run their
//! inputs' dtypes, and the ops they call are autocast as usual. The same entry serves the
//! engine's ops (Rust) and the compositions written in Python (`_C._autocast_prepare`).
//!
//! Reading the state costs one thread-local byte per op when autocast is off.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// The device types autocast knows (PyTorch's `device_type` strings "cpu" and "cuda").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceType {
    Cpu,
    Cuda,
}

impl DeviceType {
    pub fn of(d: Device) -> DeviceType {
        if d.is_cuda() { DeviceType::Cuda } else { DeviceType::Cpu }
    }
    pub fn parse(s: &str) -> Option<DeviceType> {
        match s {
            "cpu" => Some(DeviceType::Cpu),
            "cuda" => Some(DeviceType::Cuda),
            _ => None,
        }
    }
    fn bit(self) -> u8 {
        match self {
            DeviceType::Cpu => 1,
            DeviceType::Cuda => 2,
        }
    }
}

/// How an op's inputs are cast (PyTorch's `CastPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastPolicy {
    /// Floating-point inputs (not float64) to the autocast dtype.
    LowerPrecision,
    /// Floating-point inputs (not float64) to float32.
    Fp32,
    /// The op's optional output dtype becomes float32 when the first input is eligible
    /// (softmax, sum, cumsum, ...); inputs are not cast.
    Fp32SetOptDtype,
    /// norm without a dtype argument: computed with output dtype float32 (as
    /// `Fp32SetOptDtype`, for ops whose dtype argument is not optional).
    Fp32AppendDtype,
    /// Inputs to the widest floating dtype among them (float64 ignored).
    Promote,
    /// Refused under autocast (binary_cross_entropy on CUDA).
    Banned,
}

const EXCLUDED: u8 = 4;

thread_local! {
    // bit 0: CPU enabled, bit 1: CUDA enabled.
    static FLAGS: Cell<u8> = const { Cell::new(0) };
    static CPU_DTYPE: Cell<DType> = const { Cell::new(DType::BF16) };
    static CUDA_DTYPE: Cell<DType> = const { Cell::new(DType::F16) };
    static CACHE_ENABLED: Cell<bool> = const { Cell::new(true) };
    static NESTING: Cell<i64> = const { Cell::new(0) };
    // Source tensor id -> (source, its lower-precision copy). Holding the source keeps its
    // id from being reused while the entry lives; the cache is emptied when the outermost
    // autocast region exits.
    static CACHE: RefCell<HashMap<usize, (Tensor, Tensor)>> = RefCell::new(HashMap::new());
}

/// Whether autocast is enabled for any device type on this thread (the per-op fast check).
#[inline]
pub fn any_enabled() -> bool {
    FLAGS.with(|f| f.get() & 3 != 0)
}

pub fn is_enabled(d: DeviceType) -> bool {
    FLAGS.with(|f| f.get() & d.bit() != 0)
}

pub fn set_enabled(d: DeviceType, on: bool) {
    FLAGS.with(|f| f.set(if on { f.get() | d.bit() } else { f.get() & !d.bit() }));
}

/// The lower-precision dtype of a device type (defaults: bfloat16 on CPU, float16 on CUDA).
pub fn get_dtype(d: DeviceType) -> DType {
    match d {
        DeviceType::Cpu => CPU_DTYPE.with(|c| c.get()),
        DeviceType::Cuda => CUDA_DTYPE.with(|c| c.get()),
    }
}

pub fn set_dtype(d: DeviceType, dt: DType) {
    match d {
        DeviceType::Cpu => CPU_DTYPE.with(|c| c.set(dt)),
        DeviceType::Cuda => CUDA_DTYPE.with(|c| c.set(dt)),
    }
}

pub fn is_cache_enabled() -> bool {
    CACHE_ENABLED.with(|c| c.get())
}

pub fn set_cache_enabled(on: bool) {
    CACHE_ENABLED.with(|c| c.set(on));
}

pub fn increment_nesting() -> i64 {
    NESTING.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

pub fn decrement_nesting() -> i64 {
    NESTING.with(|n| {
        n.set(n.get() - 1);
        n.get()
    })
}

pub fn clear_cache() {
    // Take the map out first: dropping tensors must not run while the cell is borrowed.
    let old = CACHE.with(|c| std::mem::take(&mut *c.borrow_mut()));
    drop(old);
}

/// Disables autocast on this thread while it lives (restoring the previous state on drop):
/// held by an op running under a policy, and by the backward engine.
pub struct ExcludeGuard(u8);

impl ExcludeGuard {
    pub fn new() -> ExcludeGuard {
        ExcludeGuard(FLAGS.with(|f| f.replace(EXCLUDED)))
    }
}

impl Default for ExcludeGuard {
    fn default() -> Self {
        ExcludeGuard::new()
    }
}

impl Drop for ExcludeGuard {
    fn drop(&mut self) {
        let prev = self.0;
        FLAGS.with(|f| f.set(prev));
    }
}

/// PyTorch's per-op policy for a device type (`None`: the op runs in its inputs' dtypes).
/// Names are aten's (`conv2d`, `cross_entropy_loss`, `pow`); ops Python composes use the
/// same names.
pub fn policy(d: DeviceType, op: &str) -> Option<CastPolicy> {
    use CastPolicy::*;
    match d {
        DeviceType::Cpu => match op {
            "conv1d" | "conv2d" | "conv3d" | "bmm" | "mm" | "linalg_vecdot" | "baddbmm" | "addmm"
            | "_addmm_activation" | "addbmm" | "linear" | "_convolution" | "matmul" | "conv_tbc"
            | "mkldnn_rnn_layer" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" | "prelu"
            | "scaled_dot_product_attention" | "_native_multi_head_attention" => Some(LowerPrecision),
            "avg_pool3d" | "binary_cross_entropy" | "grid_sampler" | "polar" | "prod" | "quantile"
            | "nanquantile" | "stft" | "cdist" | "grid_sampler_2d" | "grid_sampler_3d" | "trace"
            | "view_as_complex" | "cholesky" | "cholesky_inverse" | "cholesky_solve" | "inverse" | "lu_solve"
            | "orgqr" | "ormqr" | "pinverse" | "max_pool3d" | "max_unpool2d" | "max_unpool3d"
            | "adaptive_avg_pool3d" | "reflection_pad1d" | "reflection_pad2d" | "replication_pad1d"
            | "replication_pad2d" | "replication_pad3d" | "mse_loss" | "cosine_embedding_loss" | "nll_loss"
            | "nll_loss2d" | "hinge_embedding_loss" | "poisson_nll_loss" | "smooth_l1_loss"
            | "cross_entropy_loss" | "l1_loss" | "huber_loss" | "margin_ranking_loss" | "soft_margin_loss"
            | "triplet_margin_loss" | "multi_margin_loss" | "ctc_loss" | "kl_div" | "multilabel_margin_loss"
            | "binary_cross_entropy_with_logits" | "fft_fft" | "fft_ifft" | "fft_fft2" | "fft_ifft2"
            | "fft_fftn" | "fft_ifftn" | "fft_rfft" | "fft_irfft" | "fft_rfft2" | "fft_irfft2" | "fft_rfftn"
            | "fft_irfftn" | "fft_hfft" | "fft_ihfft" | "linalg_cond" | "linalg_matrix_rank" | "linalg_solve"
            | "linalg_cholesky" | "linalg_svdvals" | "linalg_eigvals" | "linalg_eigvalsh" | "linalg_inv"
            | "linalg_householder_product" | "linalg_tensorinv" | "linalg_tensorsolve" | "geqrf" | "qr"
            | "svd" | "triangular_solve" | "fractional_max_pool2d" | "fractional_max_pool3d"
            | "adaptive_max_pool3d" | "linalg_qr" | "linalg_cholesky_ex" | "linalg_svd" | "linalg_eig"
            | "linalg_eigh" | "linalg_lstsq" | "linalg_inv_ex" => Some(Fp32),
            "stack" | "cat" | "index_copy" => Some(Promote),
            _ => None,
        },
        DeviceType::Cuda => match op {
            "_convolution" | "conv1d" | "conv2d" | "conv3d" | "conv_tbc" | "conv_transpose1d"
            | "conv_transpose2d" | "conv_transpose3d" | "convolution" | "prelu" | "addmm" | "addmv" | "addr"
            | "matmul" | "einsum" | "mm" | "mv" | "linalg_vecdot" | "linear" | "addbmm" | "baddbmm" | "bmm"
            | "chain_matmul" | "linalg_multi_dot" | "lstm_cell" | "gru_cell" | "rnn_tanh_cell"
            | "rnn_relu_cell" | "scaled_dot_product_attention" => Some(LowerPrecision),
            "acos" | "asin" | "cosh" | "erfinv" | "exp" | "expm1" | "log" | "log10" | "log2" | "log1p"
            | "reciprocal" | "rsqrt" | "sinh" | "tan" | "pow" | "softplus" | "layer_norm" | "group_norm"
            | "frobenius_norm" | "nuclear_norm" | "cosine_similarity" | "poisson_nll_loss"
            | "cosine_embedding_loss" | "nll_loss" | "nll_loss2d" | "hinge_embedding_loss" | "kl_div"
            | "l1_loss" | "smooth_l1_loss" | "huber_loss" | "mse_loss" | "margin_ranking_loss"
            | "multilabel_margin_loss" | "soft_margin_loss" | "triplet_margin_loss" | "multi_margin_loss"
            | "binary_cross_entropy_with_logits" | "dist" | "pdist" | "cdist" | "renorm" | "logsumexp"
            | "upsample_nearest1d" | "upsample_nearest2d" | "upsample_nearest3d" | "upsample_linear1d"
            | "upsample_bilinear2d" | "upsample_trilinear3d" | "upsample_bicubic2d" => Some(Fp32),
            "prod" | "softmax" | "log_softmax" | "cumprod" | "cumsum" | "linalg_vector_norm"
            | "linalg_matrix_norm" | "sum" => Some(Fp32SetOptDtype),
            "norm" => Some(Fp32AppendDtype),
            "addcdiv" | "addcmul" | "atan2" | "bilinear" | "cross" | "dot" | "vdot" | "grid_sampler"
            | "index_put" | "tensordot" | "scatter_add" => Some(Promote),
            "binary_cross_entropy" => Some(Banned),
            _ => None,
        },
    }
}

/// PyTorch's `is_eligible`: a floating-point, non-float64 tensor of the device type.
pub fn is_eligible(t: &Tensor, d: DeviceType) -> bool {
    let dt = t.dtype();
    dt.is_float() && dt != DType::F64 && DeviceType::of(t.device()) == d
}

/// PyTorch's `cached_cast`: `t` in dtype `to` when eligible, else `t`. Lower-precision casts
/// of float32 leaves that require grad are cached for the rest of the autocast region (when
/// the cache is enabled), so a weight used by several ops is cast once.
pub fn cached_cast(to: DType, t: &Tensor, d: DeviceType) -> Result<Tensor> {
    if !is_eligible(t, d) || t.dtype() == to {
        return Ok(t.clone());
    }
    let cacheable = to == get_dtype(d)
        && t.dtype() == DType::F32
        && t.requires_grad()
        && t.is_leaf()
        && t.meta().view_base.is_none()
        && is_cache_enabled();
    if !cacheable {
        return t.to_dtype(to);
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&t.id()).map(|(_, v)| v.clone())) {
        return Ok(hit);
    }
    let v = t.to_dtype(to)?;
    CACHE.with(|c| c.borrow_mut().insert(t.id(), (t.clone(), v.clone())));
    Ok(v)
}

/// The dtype `Promote` casts to: float32 if any eligible input is float32, else the
/// autocast dtype (float64 inputs are ignored, as PyTorch's `promote_type`).
pub fn promote_type(d: DeviceType, tensors: &[&Tensor]) -> DType {
    let lp = get_dtype(d);
    let mut cur = lp;
    for t in tensors {
        if is_eligible(t, d) && t.dtype() != lp {
            cur = DType::F32;
        }
    }
    cur
}

/// What an op under a policy runs with: its tensors (cast as the policy says), the output
/// dtype to pass as its `dtype=` argument where the policy sets one, and the guard that
/// keeps autocast off inside the op.
pub struct Prepared {
    pub tensors: Vec<Tensor>,
    pub dtype: Option<DType>,
    pub policy: CastPolicy,
    _guard: ExcludeGuard,
}

/// The cast at the entry of op `op` with tensor arguments `tensors` (the first decides the
/// device type). `None` when autocast does not apply (off for that device type, no policy
/// for the op, no tensor): the op runs unchanged.
pub fn prepare(op: &str, tensors: &[&Tensor]) -> Result<Option<Prepared>> {
    if !any_enabled() {
        return Ok(None);
    }
    let Some(first) = tensors.first() else { return Ok(None) };
    let d = DeviceType::of(first.device());
    prepare_on(d, op, tensors)
}

/// `prepare` for an explicit device type (ops whose first argument is not a tensor).
pub fn prepare_on(d: DeviceType, op: &str, tensors: &[&Tensor]) -> Result<Option<Prepared>> {
    if !is_enabled(d) {
        return Ok(None);
    }
    let Some(policy) = policy(d, op) else { return Ok(None) };
    let guard = ExcludeGuard::new();
    let cast = |to: DType| tensors.iter().map(|t| cached_cast(to, t, d)).collect::<Result<Vec<_>>>();
    let (out, dtype) = match policy {
        CastPolicy::LowerPrecision => (cast(get_dtype(d))?, None),
        CastPolicy::Fp32 => (cast(DType::F32)?, None),
        CastPolicy::Fp32SetOptDtype | CastPolicy::Fp32AppendDtype => {
            let eligible = tensors.first().is_some_and(|t| is_eligible(t, d));
            (tensors.iter().map(|t| (*t).clone()).collect(), eligible.then_some(DType::F32))
        }
        CastPolicy::Promote => (cast(promote_type(d, tensors))?, None),
        CastPolicy::Banned => {
            crate::bail!(
                Runtime,
                "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\nMany models use a sigmoid layer right before the binary cross entropy layer.\nIn this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\nor torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast."
            )
        }
    };
    Ok(Some(Prepared { tensors: out, dtype, policy, _guard: guard }))
}

/// The usual entry of a one- or two-tensor op: when a policy applies, run `f` on the cast
/// tensors (with autocast off inside) and return its result.
pub fn run2(op: &str, a: &Tensor, b: &Tensor, f: impl FnOnce(&Tensor, &Tensor) -> Result<Tensor>) -> Result<Option<Tensor>> {
    if !any_enabled() {
        return Ok(None);
    }
    match prepare(op, &[a, b])? {
        Some(p) => Ok(Some(f(&p.tensors[0], &p.tensors[1])?)),
        None => Ok(None),
    }
}

/// Disable autocast until [`restore`] (the guard's two halves, for callers that cannot hold
/// a Rust guard across their body, such as the Python compositions): returns the state to
/// restore.
pub fn exclude() -> u8 {
    FLAGS.with(|f| f.replace(EXCLUDED))
}

/// Put back the state [`exclude`] returned.
pub fn restore(prev: u8) {
    FLAGS.with(|f| f.set(prev));
}
