//! CUDA runtime: driver discovery, one context per device, a caching device allocator,
//! kernels from `cuda/` compiled by NVRTC on first use (cached in memory and on disk),
//! launches and cuBLAS.
//!
//! Everything is found at run time through `cudarc`'s dynamic loading: the build needs no
//! toolkit, and a machine without `libcuda` simply has no CUDA device
//! (`device_count() == 0`), never a panic.
//!
//! All work is issued on the legacy default stream of the device's primary context: it
//! orders every launch, copy and free, so a block freed to the cache can be handed to the
//! next kernel at once (PyTorch's caching allocator gets the same guarantee by recording
//! the stream of each block; with one stream per device that bookkeeping is empty).
//! Rejected: cudarc's safe `CudaContext`/`CudaSlice` layer, whose slices own their
//! memory and per-slice events; tensors need raw addresses shared by views and a cache
//! keyed by size class.

#[cfg(feature = "cuda")]
mod imp;
pub mod backend;
pub mod kernels;

use crate::dtype::DType;
use crate::error::Result;
use crate::shape::Layout;

/// The layout struct every kernel takes by value (`cuda/common.cuh`): shape and strides in
/// elements of the iterated (output) shape, at most 8 dims after coalescing.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KLayout {
    pub ndim: i32,
    pub shape: [i64; 8],
    pub strides: [i64; 8],
    pub offset: i64,
}

impl KLayout {
    /// `l` (already broadcast to the iterated shape) with size-1 dims dropped and
    /// adjacent dims merged where memory allows, so a contiguous view becomes the 1-D fast
    /// path. Merging keeps the row-major linear index of every element, which the
    /// reduction kernels rely on.
    pub fn new(l: &Layout) -> Result<KLayout> {
        let mut dims: Vec<(i64, i64)> = Vec::with_capacity(l.ndim());
        for (&n, &s) in l.shape.iter().zip(l.strides.iter()) {
            if n == 1 {
                continue;
            }
            let (n, s) = (n as i64, s as i64);
            match dims.last_mut() {
                Some(last) if last.1 == s * n => *last = (last.0 * n, s),
                _ => dims.push((n, s)),
            }
        }
        if l.shape.contains(&0) {
            dims = vec![(0, 1)];
        }
        if dims.len() > 8 {
            crate::bail!(
                NotImplemented,
                "CUDA kernels take at most 8 non-mergeable dims, got a view of shape {} with strides {:?}",
                crate::shape::fmt_shape(&l.shape),
                l.strides.as_slice()
            );
        }
        let mut k = KLayout { ndim: dims.len() as i32, shape: [1; 8], strides: [0; 8], offset: l.offset as i64 };
        for (i, (n, s)) in dims.into_iter().enumerate() {
            k.shape[i] = n;
            k.strides[i] = s;
        }
        Ok(k)
    }
    /// The layout as it is, without merging dims: for the index kernels, whose `dim`
    /// argument names a dim of the tensor.
    pub fn raw(l: &Layout) -> Result<KLayout> {
        if l.ndim() > 8 {
            crate::bail!(NotImplemented, "CUDA index kernels take at most 8 dims, got shape {}", crate::shape::fmt_shape(&l.shape));
        }
        let mut k = KLayout { ndim: l.ndim() as i32, shape: [1; 8], strides: [0; 8], offset: l.offset as i64 };
        for i in 0..l.ndim() {
            k.shape[i] = l.shape[i] as i64;
            k.strides[i] = l.strides[i] as i64;
        }
        Ok(k)
    }
    /// A contiguous run of `n` elements.
    pub fn flat(n: usize, offset: usize) -> KLayout {
        let mut k = KLayout { ndim: 1, shape: [1; 8], strides: [0; 8], offset: offset as i64 };
        k.shape[0] = n as i64;
        k.strides[0] = 1;
        k
    }
}

/// The kernel source files under `cuda/`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Src {
    Elementwise,
    Reduce,
    Index,
    Sort,
    Optim,
}

/// Kernel-name suffix of a dtype (`ft_add_f32`).
pub fn dtype_suffix(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::U8 => "u8",
        DType::I8 => "i8",
        DType::I16 => "i16",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

/// One kernel argument, kept alive until the launch has read it.
pub enum Arg {
    Ptr(u64),
    Layout(KLayout),
    I64(i64),
    U64(u64),
    I32(i32),
    F64(f64),
    F32(f32),
    U16(u16),
    U8(u8),
}

#[cfg(feature = "cuda")]
pub use imp::{
    alloc, device_count, device_name, dtod, dtoh, empty_cache, free, gemm_strided_batched, htod, launch,
    memory_allocated, max_memory_allocated, memory_reserved, reset_peak_memory_stats, set_allow_tf32,
    allow_tf32, synchronize, capability, GemmOperand, gemm_operand_ok,
};
// pub for the integration tests in rust/core/tests; not API.
#[cfg(feature = "cuda")]
#[doc(hidden)]
pub use imp::blas_op;

#[cfg(not(feature = "cuda"))]
mod stub {
    //! Built without the `cuda` feature: no device, every entry point a typed error.
    use super::*;
    fn off<T>() -> Result<T> {
        crate::bail!(Runtime, "Torch not compiled with CUDA enabled")
    }
    pub fn device_count() -> usize {
        0
    }
    pub fn device_name(_: usize) -> Result<String> {
        off()
    }
    pub fn capability(_: usize) -> Result<(i32, i32)> {
        off()
    }
    pub fn synchronize(_: usize) -> Result<()> {
        off()
    }
    pub fn alloc(_: usize, _: usize) -> Result<(u64, usize)> {
        off()
    }
    pub fn free(_: usize, _: u64, _: usize) {}
    /// # Safety
    /// Never callable without the feature.
    pub unsafe fn htod(_: usize, _: u64, _: *const u8, _: usize) -> Result<()> {
        off()
    }
    /// # Safety
    /// Never callable without the feature.
    pub unsafe fn dtoh(_: usize, _: *mut u8, _: u64, _: usize) -> Result<()> {
        off()
    }
    pub fn dtod(_: usize, _: u64, _: u64, _: usize) -> Result<()> {
        off()
    }
    pub fn launch(_: usize, _: Src, _: DType, _: &str, _: u32, _: u32, _: &[Arg]) -> Result<()> {
        off()
    }
    pub fn memory_allocated(_: usize) -> usize {
        0
    }
    pub fn max_memory_allocated(_: usize) -> usize {
        0
    }
    pub fn memory_reserved(_: usize) -> usize {
        0
    }
    pub fn reset_peak_memory_stats(_: usize) {}
    pub fn empty_cache() {}
    pub fn set_allow_tf32(_: bool) {}
    pub fn allow_tf32() -> bool {
        false
    }
    #[derive(Clone, Copy)]
    pub struct GemmOperand {
        pub ptr: u64,
        pub rs: i64,
        pub cs: i64,
        pub batch_stride: i64,
    }
    pub fn gemm_operand_ok(_: &GemmOperand, _: usize, _: usize) -> bool {
        false
    }
    // why: mirrors `imp::gemm_strided_batched`'s signature (the same allow is there).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm_strided_batched(
        _: usize, _: DType, _: usize, _: usize, _: usize, _: usize, _: GemmOperand, _: GemmOperand, _: u64,
    ) -> Result<()> {
        off()
    }
}
#[cfg(not(feature = "cuda"))]
pub use stub::*;

pub fn is_available() -> bool {
    device_count() > 0
}

/// The ordinal of a CUDA device, checked against the devices present.
pub fn check_ordinal(i: usize) -> Result<()> {
    let n = device_count();
    if n == 0 {
        crate::bail!(Runtime, "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx");
    }
    if i >= n {
        crate::bail!(Runtime, "CUDA error: invalid device ordinal (device {} requested, {} available)", i, n);
    }
    Ok(())
}
