//! The backend seam, in the manner of candle's `BackendStorage`: every primitive the ops
//! need is one method of [`Backend`] over (storage, layout, dtype) — a [`TensorData`] —
//! implemented once per device: `cpu::backend::CpuBackend` and
//! `cuda::backend::CudaBackend`. The ops in `ops/` never branch on the device: they check
//! arguments, allocate the output, ask [`of`] for the backend of their device and call one
//! method; autograd stays in `ops/`.
//!
//! [`of`] is the single point that matches on the device: one `match` and one `dyn` call
//! per op call, never per element. Rejected: candle's enum of storages
//! (`Storage::Cpu(..) | Storage::Cuda(..)`) with a `match` in every method: our
//! `Storage` is already one handle type for both devices (views share it, the caching
//! allocators key on it), so an enum would have meant rewriting every place that holds
//! one; a trait object picked once per call gives the same "one match per primitive".
//!
//! The backends depend on storage/layout/dtype/error/device only (never on `tensor`,
//! `ops` or `autograd`; rust/core/tests/seam.rs checks it). Outputs are allocated by the
//! op (contiguous, of the result's shape and dtype) unless a method says otherwise.

use crate::device::Device;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::shape::Layout;
use crate::storage::TensorData;

/// The CPU expression of a unary registry row: `out = f(x)` (out contiguous, fresh).
pub type UnaryCpu = fn(&TensorData, &TensorData);
/// The CPU expression of a binary registry row: (compute dtype, a, a's layout broadcast
/// to out, b, b's layout, out, out's layout).
pub type BinaryCpu = fn(DType, &TensorData, &Layout, &TensorData, &Layout, &TensorData, &Layout);

/// A unary elementwise op as the registry row gives it: the CPU expression and the CUDA
/// kernel base name (`ft_<cuda>_<dtype>`), side by side as candle's `UnaryOpT` carries
/// its CPU function and its `KERNEL` name.
#[derive(Clone, Copy)]
pub struct Unary<'a> {
    pub name: &'a str,
    pub cuda: &'a str,
    pub cpu: UnaryCpu,
}

/// A binary elementwise op: name (for messages), CUDA kernel base name (empty: none), CPU
/// expression.
#[derive(Clone, Copy)]
pub struct Binary<'a> {
    pub name: &'a str,
    pub cuda: &'a str,
    pub cpu: BinaryCpu,
}

/// The hand-written unary ops with a bool output (or `~` on integers).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pred {
    LogicalNot,
    /// `~x` on integers and bool (the output has x's dtype).
    BitwiseNot,
    IsNan,
    IsInf,
    IsFinite,
    IsPosInf,
    IsNegInf,
}

/// Reductions over any set of dims.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReduceOp {
    Sum,
    Prod,
    Max,
    Min,
    All,
    Any,
}

/// What a Philox fill draws: the stream per kind is specified in `random.rs` and
/// cuda/index.cu (the same numbers on both devices).
#[derive(Clone, Copy, Debug)]
pub enum Draw {
    /// Uniforms in [0, 1) (f32 or f64 output): `Generator::uniform_f32/_f64`.
    Uniform,
    /// Standard normals (f64 output): `Generator::normal_f64`.
    Normal,
    /// Integers uniform in [low, low + span) (i64 output): `Generator::randint`.
    Int { low: i64, span: u64 },
}

/// Ops a backend may run as a composition of other ops instead of with a kernel of its
/// own. The op asks [`Backend::composes`] and takes its composite path (written once, in
/// tensor ops, so it works on any backend) when the answer is yes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Composite {
    /// Writing the result of an elementwise or index op straight into an existing tensor
    /// of any layout (the in-place fast paths). CUDA kernels write contiguous outputs, so
    /// there in-place ops go out of place + copy.
    InPlaceWrite,
    /// Advanced (tensor) indexing `x[idx]`: positions worked out on the host, then one
    /// `index_select`.
    AdvancedIndex,
    /// `nan_to_num` as three masked fills.
    NanToNum,
    /// addmm's bias fused into the gemm (the output seeded with it, `bmm` with `bias`):
    /// composed as mm + add instead.
    AddmmBias,
    /// topk / kthvalue / median by selection ([`Backend::select`], [`Backend::median`]):
    /// composed as a full sort, then the wanted positions taken from it.
    Select,
}

/// One method per primitive the ops use. Arguments were checked by the op (shapes,
/// dtypes, devices, index bounds); a method checks only what its kernels need. A backend
/// without a kernel for some case returns the NotImplemented error the op documents.
pub trait Backend: Sync {
    /// Whether `op` runs as a composition on this backend (see [`Composite`]).
    fn composes(&self, op: Composite) -> bool;

    /// Set every element of `dst` (any layout) to `v`.
    fn fill(&self, dst: &TensorData, v: Scalar) -> Result<()>;
    /// Copy `src` into `dst`: same shape, both on this backend's device, any layouts and
    /// dtypes (a cast).
    fn copy(&self, src: &TensorData, dst: &TensorData) -> Result<()>;
    /// Copy between the host and this backend's device (or between two of its devices):
    /// same shape, any layouts and dtypes. The CPU backend has no such copies.
    fn copy_across(&self, src: &TensorData, dst: &TensorData) -> Result<()>;

    /// `out = op(x)` elementwise; `x` has out's shape (and dtype, but for the predicates).
    fn unary(&self, op: Unary<'_>, x: &TensorData, out: &TensorData) -> Result<()>;
    /// `out = p(x)` (bool output; `BitwiseNot`: x's dtype, integer or bool x).
    fn pred(&self, p: Pred, x: &TensorData, out: &TensorData) -> Result<()>;
    /// `out = op(a, b)`, a and b in `compute`, their layouts broadcast to out's shape.
    #[allow(clippy::too_many_arguments)]
    fn binary(&self, op: Binary<'_>, compute: DType, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()>;
    /// `out = op(a, b)` written into `a` itself (any layout), b's layout `lb` broadcast
    /// to a's shape; only where `!composes(Composite::InPlaceWrite)`.
    fn binary_inplace(&self, op: Binary<'_>, compute: DType, a: &TensorData, b: &TensorData, lb: &Layout) -> Result<()>;
    /// `out = c ? a : b` (c bool; a, b of out's dtype; layouts broadcast to out's shape).
    #[allow(clippy::too_many_arguments)]
    fn where_(&self, c: &TensorData, lc: &Layout, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()>;
    /// `out = nan_to_num(x)` (float x); only where `!composes(Composite::NanToNum)`.
    fn nan_to_num(&self, x: &TensorData, nan: f64, posinf: f64, neginf: f64, out: &TensorData) -> Result<()>;

    /// Reduce `x` over `dims` into `out` (contiguous, the kept dims in order, out's
    /// dtype: the caller's accumulation rule).
    fn reduce(&self, op: ReduceOp, x: &TensorData, dims: &[usize], out: &TensorData) -> Result<()>;
    /// max/min along `dim` with the position of the first extreme (NaN wins): `vals`
    /// (x's dtype) and `idx` (i64), contiguous, x's shape without `dim`.
    fn max_min_dim(&self, is_max: bool, x: &TensorData, dim: usize, vals: &TensorData, idx: &TensorData) -> Result<()>;
    /// cumsum (`is_sum`) / cumprod along `dim` into `out` (contiguous, x's shape and
    /// dtype; integers wrap in i64).
    fn cumulative(&self, is_sum: bool, x: &TensorData, dim: usize, out: &TensorData) -> Result<()>;
    /// softmax / log_softmax (float x) along `dim` into `out` (contiguous, x's shape and
    /// dtype, at least one element).
    fn softmax(&self, log: bool, x: &TensorData, dim: usize, out: &TensorData) -> Result<()>;
    /// Stable sort along `dim` (NaN largest): `vals` and `idx` (i64), contiguous, x's shape.
    fn sort(&self, x: &TensorData, dim: usize, descending: bool, vals: &TensorData, idx: &TensorData) -> Result<()>;
    /// The `k` smallest (`largest`: the largest) elements of each lane along `dim`, NaN the
    /// largest value: `vals` (x's dtype) and `idx` (i64), contiguous, x's shape with `dim`
    /// of size `k` (1 ≤ k ≤ the lane's length). In order (best first) when `sorted`; else
    /// in any order but for the k-th best, which is always last (kthvalue reads it there).
    /// Ties: any of the tied positions. Only where `!composes(Composite::Select)`.
    #[allow(clippy::too_many_arguments)]
    fn select(&self, x: &TensorData, dim: usize, k: usize, largest: bool, sorted: bool, vals: &TensorData, idx: &TensorData) -> Result<()>;
    /// The lower median of each lane along `dim` (non-empty lanes) and its position: `vals`
    /// and `idx` (i64), contiguous, x's shape with `dim` of size 1. A lane with NaN gives
    /// its first NaN, unless `ignore_nan`: then the median of the other elements (a lane of
    /// NaN only: its first). Only where `!composes(Composite::Select)`.
    fn median(&self, x: &TensorData, dim: usize, ignore_nan: bool, vals: &TensorData, idx: &TensorData) -> Result<()>;

    /// `out = x.gather(dim, index)`: `index` is the i64 index on this device, `idx` its
    /// bounds-checked values in row-major order; out has index's shape.
    fn gather(&self, x: &TensorData, dim: usize, index: &TensorData, idx: &[i64], out: &TensorData) -> Result<()>;
    /// `out[...] = src` (`add`: `+=`) at `index` along `dim`, in place in `out` (a fresh
    /// contiguous copy of self); `src` already in out's dtype on this device.
    #[allow(clippy::too_many_arguments)]
    fn scatter(&self, out: &TensorData, dim: usize, index: &TensorData, idx: &[i64], src: &TensorData, add: bool) -> Result<()>;
    /// `out = x.index_select(dim, idx)` (x at least 1-d; idx bounds-checked).
    fn index_select(&self, x: &TensorData, dim: usize, idx: &[i64], out: &TensorData) -> Result<()>;

    /// `out = a @ b` over identical batch dims (a: [..., m, k], b: [..., k, n]; out
    /// contiguous [..., m, n]); with `bias` (broadcast to out's shape) `out = bias + a @ b`.
    fn bmm(&self, a: &TensorData, b: &TensorData, bias: Option<&TensorData>, out: &TensorData) -> Result<()>;

    /// Fill `out` (contiguous, fresh) from Philox counter blocks `first_block..` of `seed`.
    fn philox(&self, out: &TensorData, draw: Draw, seed: u64, first_block: u64) -> Result<()>;
}

/// The backend of `device`: the one place that matches on the device kind.
#[inline]
pub fn of(device: Device) -> &'static dyn Backend {
    match device {
        Device::Cpu => &crate::cpu::backend::CpuBackend,
        Device::Cuda(_) => &crate::cuda::backend::CudaBackend,
    }
}

/// Copy `src` into `dst` (same shape, any layouts, dtypes and devices): the one copy every
/// conversion, clone, `copy_` and in-place write goes through. Within one device that
/// device's backend copies; across devices, the backend of the device that is not the
/// host moves the bytes.
pub fn copy(src: &TensorData, dst: &TensorData) -> Result<()> {
    let (a, b) = (src.storage.device(), dst.storage.device());
    if a == b {
        return of(a).copy(src, dst);
    }
    of(if a == Device::Cpu { b } else { a }).copy_across(src, dst)
}

/// The NotImplemented error of a primitive a backend has no kernel for.
pub fn no_kernel(what: &str, device: Device) -> crate::error::Error {
    crate::err!(NotImplemented, "\"{}\" has no {} kernel in ferrotorch yet", what, device.type_name())
}
