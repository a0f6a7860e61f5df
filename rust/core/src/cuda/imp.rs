//! The driver-facing half of the CUDA runtime (feature `cuda`). See `mod.rs`.

use std::collections::HashMap;
use std::ffi::{c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::cublas::sys as blas;
use cudarc::driver::sys as cu;

use super::{dtype_suffix, Arg, Src};
use crate::dtype::DType;
use crate::error::Result;
use crate::{bail, err};

const SRC_COMMON: &str = include_str!("../../../../cuda/common.cuh");
const SRC_ELEMENTWISE: &str = include_str!("../../../../cuda/elementwise.cu");
const SRC_REDUCE: &str = include_str!("../../../../cuda/reduce.cu");
const SRC_INDEX: &str = include_str!("../../../../cuda/index.cu");
const SRC_SORT: &str = include_str!("../../../../cuda/sort.cu");
const SRC_OPTIM: &str = include_str!("../../../../cuda/optim.cu");

fn check(r: cu::CUresult, what: &str) -> Result<()> {
    if r == cu::CUresult::CUDA_SUCCESS {
        return Ok(());
    }
    let mut name: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: cuGetErrorName writes a pointer to a static string (or leaves it null).
    unsafe { cu::cuGetErrorName(r, &mut name) };
    let name = if name.is_null() {
        format!("{:?}", r)
    } else {
        // SAFETY: non-null pointers from cuGetErrorName are NUL-terminated static strings.
        unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
    };
    if r == cu::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
        bail!(Runtime, "CUDA out of memory during {}", what);
    }
    bail!(Runtime, "CUDA error: {} ({})", name, what)
}

// ---- driver and devices ----------------------------------------------------------

/// Device count, probed once: 0 when libcuda is missing, cuInit fails (no GPU, driver
/// mismatch) or a symbol is missing. The probe runs under `catch_unwind` because cudarc
/// panics on a library without a symbol it looks up.
pub fn device_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::panic::catch_unwind(|| {
            // SAFETY: probing only loads the library; the calls take plain out-pointers.
            unsafe {
                if !cu::is_culib_present() {
                    return 0;
                }
                if cu::cuInit(0) != cu::CUresult::CUDA_SUCCESS {
                    return 0;
                }
                let mut n = 0;
                if cu::cuDeviceGetCount(&mut n) != cu::CUresult::CUDA_SUCCESS {
                    return 0;
                }
                n.max(0) as usize
            }
        })
        .unwrap_or(0)
    })
}

struct Dev {
    ctx: usize, // CUcontext (a pointer; stored as an address so Dev is Send + Sync)
    cc: (i32, i32),
    functions: Mutex<HashMap<String, usize>>, // kernel name -> CUfunction
    modules: Mutex<HashMap<(Src, DType), usize>>, // -> CUmodule
    cache: Mutex<Vec<Vec<u64>>>,               // size-class index -> free blocks
    allocated: AtomicUsize,
    peak: AtomicUsize,
    reserved: AtomicUsize,
    blas: Mutex<usize>, // cublasHandle_t, 0 until first use
}

/// One device's slot in `DEVICES`: opened on first use (an open error is kept).
type DevSlot = OnceLock<std::result::Result<Arc<Dev>, crate::error::Error>>;

static DEVICES: OnceLock<Vec<DevSlot>> = OnceLock::new();

/// The device, its context current on this thread (the driver API works on the calling
/// thread's current context; binding is a thread-local store, cheap enough per call).
fn dev(ordinal: usize) -> Result<Arc<Dev>> {
    super::check_ordinal(ordinal)?;
    let slots = DEVICES.get_or_init(|| (0..device_count()).map(|_| OnceLock::new()).collect());
    let d = slots[ordinal].get_or_init(|| open(ordinal).map(Arc::new)).clone()?;
    // SAFETY: ctx is the primary context retained in `open` and never released.
    check(unsafe { cu::cuCtxSetCurrent(d.ctx as cu::CUcontext) }, "cuCtxSetCurrent")?;
    Ok(d)
}

fn open(ordinal: usize) -> Result<Dev> {
    // SAFETY: plain driver calls with out-pointers; the primary context is retained for the
    // life of the process (as PyTorch does).
    unsafe {
        let mut device = 0;
        check(cu::cuDeviceGet(&mut device, ordinal as i32), "cuDeviceGet")?;
        let mut ctx = std::ptr::null_mut();
        check(cu::cuDevicePrimaryCtxRetain(&mut ctx, device), "cuDevicePrimaryCtxRetain")?;
        let (mut major, mut minor) = (0, 0);
        check(
            cu::cuDeviceGetAttribute(&mut major, cu::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
            "cuDeviceGetAttribute",
        )?;
        check(
            cu::cuDeviceGetAttribute(&mut minor, cu::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
            "cuDeviceGetAttribute",
        )?;
        Ok(Dev {
            ctx: ctx as usize,
            cc: (major, minor),
            functions: Mutex::new(HashMap::new()),
            modules: Mutex::new(HashMap::new()),
            cache: Mutex::new(vec![Vec::new(); crate::storage::N_CLASSES]),
            allocated: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            reserved: AtomicUsize::new(0),
            blas: Mutex::new(0),
        })
    }
}

pub fn device_name(ordinal: usize) -> Result<String> {
    let _d = dev(ordinal)?;
    let mut buf = [0 as std::ffi::c_char; 256];
    // SAFETY: buf holds 256 bytes; the driver writes a NUL-terminated name into it.
    unsafe {
        let mut device = 0;
        check(cu::cuDeviceGet(&mut device, ordinal as i32), "cuDeviceGet")?;
        check(cu::cuDeviceGetName(buf.as_mut_ptr(), buf.len() as i32, device), "cuDeviceGetName")?;
        Ok(CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned())
    }
}

pub fn capability(ordinal: usize) -> Result<(i32, i32)> {
    Ok(dev(ordinal)?.cc)
}

pub fn synchronize(ordinal: usize) -> Result<()> {
    let _d = dev(ordinal)?;
    // SAFETY: a context is current (dev binds it).
    check(unsafe { cu::cuCtxSynchronize() }, "cuCtxSynchronize")
}

// ---- caching allocator -----------------------------------------------------------

/// Device memory for `nbytes`: (address, size class). Freed blocks of a class are reused;
/// when the driver is out of memory the cache is returned and the allocation retried once.
pub fn alloc(ordinal: usize, nbytes: usize) -> Result<(u64, usize)> {
    let d = dev(ordinal)?;
    let (class, idx) = crate::storage::size_class(nbytes);
    let reuse = d.cache.lock().unwrap_or_else(|e| e.into_inner())[idx].pop();
    let ptr = match reuse {
        Some(p) => p,
        None => {
            let mut p: cu::CUdeviceptr = 0;
            // SAFETY: out-pointer call in the current context.
            let mut r = unsafe { cu::cuMemAlloc_v2(&mut p, class) };
            if r == cu::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
                release_cache(&d)?;
                // SAFETY: as above.
                r = unsafe { cu::cuMemAlloc_v2(&mut p, class) };
            }
            if r == cu::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
                bail!(
                    Runtime,
                    "CUDA out of memory. Tried to allocate {} bytes on device {} ({} bytes allocated by ferrotorch, {} reserved)",
                    nbytes,
                    ordinal,
                    d.allocated.load(Ordering::Relaxed),
                    d.reserved.load(Ordering::Relaxed)
                );
            }
            check(r, "cuMemAlloc")?;
            d.reserved.fetch_add(class, Ordering::Relaxed);
            p
        }
    };
    let now = d.allocated.fetch_add(class, Ordering::Relaxed) + class;
    d.peak.fetch_max(now, Ordering::Relaxed);
    Ok((ptr, class))
}

/// Give a block back to its device's cache. Everything runs on the device's one stream,
/// so work already queued that reads the block completes before any later user writes it.
pub fn free(ordinal: usize, ptr: u64, class: usize) {
    let slots = match DEVICES.get() {
        Some(s) => s,
        None => return,
    };
    if let Some(Some(Ok(d))) = slots.get(ordinal).map(|s| s.get()) {
        d.allocated.fetch_sub(class, Ordering::Relaxed);
        d.cache.lock().unwrap_or_else(|e| e.into_inner())[crate::storage::size_class(class).1].push(ptr);
    }
}

fn release_cache(d: &Dev) -> Result<()> {
    let blocks: Vec<(usize, Vec<u64>)> = {
        let mut c = d.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.iter_mut().enumerate().map(|(i, v)| (i, std::mem::take(v))).collect()
    };
    for (idx, list) in blocks {
        let class = crate::storage::class_bytes(idx);
        for p in list {
            // SAFETY: p came from cuMemAlloc in this context and is no longer referenced
            // (it sat in the free cache); cuMemFree waits for queued work using it.
            check(unsafe { cu::cuMemFree_v2(p) }, "cuMemFree")?;
            d.reserved.fetch_sub(class, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// `torch.cuda.empty_cache()`: return every cached block to the driver.
pub fn empty_cache() {
    if let Some(slots) = DEVICES.get() {
        for (i, s) in slots.iter().enumerate() {
            if let Some(Ok(_)) = s.get() {
                if let Ok(d) = dev(i) {
                    let _ = release_cache(&d);
                }
            }
        }
    }
}

fn opened(ordinal: usize) -> Option<Arc<Dev>> {
    match DEVICES.get()?.get(ordinal)?.get()? {
        Ok(d) => Some(d.clone()),
        Err(_) => None,
    }
}
pub fn memory_allocated(ordinal: usize) -> usize {
    opened(ordinal).map_or(0, |d| d.allocated.load(Ordering::Relaxed))
}
pub fn max_memory_allocated(ordinal: usize) -> usize {
    opened(ordinal).map_or(0, |d| d.peak.load(Ordering::Relaxed))
}
pub fn memory_reserved(ordinal: usize) -> usize {
    opened(ordinal).map_or(0, |d| d.reserved.load(Ordering::Relaxed))
}
pub fn reset_peak_memory_stats(ordinal: usize) {
    if let Some(d) = opened(ordinal) {
        d.peak.store(d.allocated.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

// ---- copies ----------------------------------------------------------------------

/// Host -> device, synchronous with respect to the host buffer.
///
/// # Safety
/// `src` must be readable for `n` bytes; `dst..dst+n` must lie in a live allocation.
pub unsafe fn htod(ordinal: usize, dst: u64, src: *const u8, n: usize) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let _d = dev(ordinal)?;
    check(cu::cuMemcpyHtoD_v2(dst, src as *const c_void, n), "cuMemcpyHtoD")
}

/// Device -> host; waits for queued work on the device (legacy stream semantics).
///
/// # Safety
/// `dst` must be writable for `n` bytes; `src..src+n` must lie in a live allocation.
pub unsafe fn dtoh(ordinal: usize, dst: *mut u8, src: u64, n: usize) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let _d = dev(ordinal)?;
    check(cu::cuMemcpyDtoH_v2(dst as *mut c_void, src, n), "cuMemcpyDtoH")
}

/// Device -> device on the same device.
pub fn dtod(ordinal: usize, dst: u64, src: u64, n: usize) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let _d = dev(ordinal)?;
    // SAFETY: callers pass ranges inside live allocations of this device.
    check(unsafe { cu::cuMemcpyDtoD_v2(dst, src, n) }, "cuMemcpyDtoD")
}

// ---- kernels: NVRTC, module cache, launch ---------------------------------------

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn cache_dir() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("FERROTORCH_KERNEL_CACHE") {
        return (!p.is_empty()).then(|| p.into());
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(base.join("ferrotorch").join("kernels"))
}

/// The NVRTC input of one per-dtype module of a source file (see cuda/README.md): the
/// text (common.cuh prepended, so no include path is needed) and the options.
fn module_source(src: Src, dtype: DType, arch: &str) -> Result<(String, Vec<String>)> {
    // SAFETY: probing loads the library only.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        bail!(
            Runtime,
            "CUDA kernels are compiled at run time by NVRTC, and libnvrtc was not found: install it with `pip install nvidia-cuda-nvrtc` (or put the CUDA toolkit's lib directory on LD_LIBRARY_PATH)"
        );
    }
    let body = match src {
        Src::Elementwise => SRC_ELEMENTWISE,
        Src::Reduce => SRC_REDUCE,
        Src::Index => SRC_INDEX,
        Src::Sort => SRC_SORT,
        Src::Optim => SRC_OPTIM,
    };
    let text = format!("{}\n{}", SRC_COMMON, body);
    let dt = dtype_suffix(dtype).to_uppercase();
    let options = vec![
        format!("--gpu-architecture={}", arch),
        "--std=c++17".to_string(),
        "-default-device".to_string(),
        "-DFT_DT_DEFAULT=0".to_string(),
        format!("-DFT_DT_{}=1", dt),
    ];
    Ok((text, options))
}

/// PTX for one per-dtype module, from the disk cache when an identical compile (source,
/// options, NVRTC version) was done before.
fn ptx(src: Src, dtype: DType, arch: &str) -> Result<String> {
    let (text, options) = module_source(src, dtype, arch)?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: out-pointer call; the library is present (checked above).
    unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
    let key = fnv1a(&[text.as_bytes(), options.join(" ").as_bytes(), format!("{}.{}", major, minor).as_bytes()]);
    let file = cache_dir().map(|d| d.join(format!("{:016x}.ptx", key)));
    if let Some(f) = &file {
        if let Ok(s) = std::fs::read_to_string(f) {
            return Ok(s);
        }
    }
    let opts = cudarc::nvrtc::CompileOptions { options, ..Default::default() };
    let out = std::panic::catch_unwind(|| cudarc::nvrtc::compile_ptx_with_opts(&text, opts))
        .map_err(|_| err!(Runtime, "NVRTC failed while compiling the {:?} kernels for {}", src, dtype.name()))?
        .map_err(|e| err!(Runtime, "NVRTC could not compile the {:?} kernels for {} ({}): {}", src, dtype.name(), arch, e))?;
    let s = out.to_src();
    if let Some(f) = &file {
        // Best effort: a read-only or full disk only costs a recompile next time.
        if let Some(dir) = f.parent() {
            if std::fs::create_dir_all(dir).is_ok() {
                let tmp = f.with_extension(format!("tmp{}", std::process::id()));
                if std::fs::write(&tmp, &s).is_ok() {
                    let _ = std::fs::rename(&tmp, f);
                }
            }
        }
    }
    Ok(s)
}

/// CUBIN of one per-dtype module for the device's own `sm_XY`: the fallback when the
/// driver cannot JIT the PTX of a newer NVRTC (CUDA's minor-version compatibility covers
/// machine code, not PTX: pip's latest NVRTC on a slightly older driver).
fn cubin(src: Src, dtype: DType, arch: &str) -> Result<Vec<u8>> {
    use cudarc::nvrtc::{result, sys};
    let (text, options) = module_source(src, dtype, arch)?;
    let csrc = CString::new(text).map_err(|_| err!(Runtime, "kernel source contains a NUL byte"))?;
    let fail = |what: &str| err!(Runtime, "NVRTC could not build the {:?} kernels for {} as {} ({})", src, dtype.name(), arch, what);
    let prog = result::create_program(&csrc, None).map_err(|e| fail(&format!("{:?}", e)))?;
    // SAFETY: prog was created above and is destroyed once, below; the buffers passed to
    // nvrtcGetCUBIN are sized by nvrtcGetCUBINSize.
    unsafe {
        let out = (|| -> Result<Vec<u8>> {
            if let Err(e) = result::compile_program(prog, &options) {
                let log = result::get_program_log(prog).map(|l| CStr::from_ptr(l.as_ptr()).to_string_lossy().into_owned()).unwrap_or_default();
                return Err(fail(&format!("{:?}: {}", e, log)));
            }
            let mut size = 0usize;
            sys::nvrtcGetCUBINSize(prog, &mut size).result().map_err(|e| fail(&format!("{:?}", e)))?;
            let mut buf = vec![0u8; size];
            sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr() as *mut std::ffi::c_char).result().map_err(|e| fail(&format!("{:?}", e)))?;
            Ok(buf)
        })();
        let _ = result::destroy_program(prog);
        out
    }
}

fn function(d: &Dev, src: Src, dtype: DType, name: &str) -> Result<cu::CUfunction> {
    if let Some(&f) = d.functions.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
        return Ok(f as cu::CUfunction);
    }
    let module = {
        let mut mods = d.modules.lock().unwrap_or_else(|e| e.into_inner());
        match mods.get(&(src, dtype)) {
            Some(&m) => m,
            None => {
                // NVRTC targets the device's own architecture; PTX JIT-compiles on load.
                let arch = format!("compute_{}{}", d.cc.0, d.cc.1);
                let text = ptx(src, dtype, &arch)?;
                let c = CString::new(text).map_err(|_| err!(Runtime, "PTX contains a NUL byte"))?;
                let mut m = std::ptr::null_mut();
                // SAFETY: c is a NUL-terminated PTX image; the module lives for the process.
                let mut r = unsafe { cu::cuModuleLoadData(&mut m, c.as_ptr() as *const c_void) };
                if r == cu::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION {
                    // NVRTC newer than the driver: machine code for this GPU instead.
                    let bin = cubin(src, dtype, &format!("sm_{}{}", d.cc.0, d.cc.1))?;
                    // SAFETY: bin is a complete CUBIN image; the module lives for the process.
                    r = unsafe { cu::cuModuleLoadData(&mut m, bin.as_ptr() as *const c_void) };
                    if r != cu::CUresult::CUDA_SUCCESS {
                        bail!(
                            Runtime,
                            "the installed NVRTC is newer than the CUDA driver: its PTX cannot be loaded and its machine code failed too ({:?}); install an nvidia-cuda-nvrtc wheel matching the driver's CUDA version",
                            r
                        );
                    }
                }
                check(r, "cuModuleLoadData")?;
                mods.insert((src, dtype), m as usize);
                m as usize
            }
        }
    };
    let cname = CString::new(name).map_err(|_| err!(Runtime, "bad kernel name {}", name))?;
    let mut f = std::ptr::null_mut();
    // SAFETY: module is loaded; cname is NUL-terminated.
    check(unsafe { cu::cuModuleGetFunction(&mut f, module as cu::CUmodule, cname.as_ptr()) }, name)?;
    d.functions.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), f as usize);
    Ok(f)
}

/// Launch kernel `name` (from the `dtype` module of `src`) with a 1-D grid on the
/// device's stream. Arguments are passed by value as the kernel declares them.
pub fn launch(ordinal: usize, src: Src, dtype: DType, name: &str, grid: u32, block: u32, args: &[Arg]) -> Result<()> {
    let d = dev(ordinal)?;
    let f = function(&d, src, dtype, name)?;
    // kernelParams holds one pointer per argument, to a copy of its value.
    let mut params: Vec<*mut c_void> = args
        .iter()
        .map(|a| match a {
            Arg::Ptr(v) => v as *const u64 as *mut c_void,
            Arg::Layout(v) => v as *const super::KLayout as *mut c_void,
            Arg::I64(v) => v as *const i64 as *mut c_void,
            Arg::U64(v) => v as *const u64 as *mut c_void,
            Arg::I32(v) => v as *const i32 as *mut c_void,
            Arg::F64(v) => v as *const f64 as *mut c_void,
            Arg::F32(v) => v as *const f32 as *mut c_void,
            Arg::U16(v) => v as *const u16 as *mut c_void,
            Arg::U8(v) => v as *const u8 as *mut c_void,
        })
        .collect();
    // SAFETY: the kernel's parameter list matches `args` (the ABI table in cuda/README.md
    // is the contract; callers in kernels.rs follow it); args outlive this call, and the
    // driver copies parameter values at launch.
    check(
        unsafe {
            cu::cuLaunchKernel(
                f,
                grid.max(1), 1, 1,
                block, 1, 1,
                0,
                std::ptr::null_mut(),
                params.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        },
        name,
    )
}

// ---- cuBLAS ----------------------------------------------------------------------

static ALLOW_TF32: AtomicBool = AtomicBool::new(false);

/// `torch.backends.cuda.matmul.allow_tf32` (off by default, as in PyTorch).
pub fn set_allow_tf32(v: bool) {
    ALLOW_TF32.store(v, Ordering::Relaxed)
}
pub fn allow_tf32() -> bool {
    ALLOW_TF32.load(Ordering::Relaxed)
}

/// One matrix operand of a batched gemm: device address of element (0,0) of batch 0, row
/// and column strides and the batch stride, in elements.
#[derive(Clone, Copy, Debug)]
pub struct GemmOperand {
    pub ptr: u64,
    pub rs: i64,
    pub cs: i64,
    pub batch_stride: i64,
}

fn blas_check(s: blas::cublasStatus_t, what: &str) -> Result<()> {
    if s == blas::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
        Ok(())
    } else {
        bail!(Runtime, "CUDA error: cuBLAS {:?} in {}", s, what)
    }
}

fn blas_handle(d: &Dev) -> Result<blas::cublasHandle_t> {
    let mut h = d.blas.lock().unwrap_or_else(|e| e.into_inner());
    if *h == 0 {
        // SAFETY: probing loads the library only.
        if !unsafe { blas::is_culib_present() } {
            bail!(Runtime, "CUDA matmul needs cuBLAS, and libcublas was not found: install it with `pip install nvidia-cublas`");
        }
        let mut handle = std::ptr::null_mut();
        // SAFETY: out-pointer call; the handle lives for the process.
        blas_check(unsafe { blas::cublasCreate_v2(&mut handle) }, "cublasCreate")?;
        *h = handle as usize;
    }
    Ok(*h as blas::cublasHandle_t)
}

/// dst[b] = lhs[b] @ rhs[b] for `batch` matrices (m x k @ k x n), dst contiguous
/// [batch, m, n]. Operands may be strided: each must have a unit stride on one of its
/// two dims (callers copy otherwise).
///
/// cuBLAS is column-major: a row-major dst is its transpose, so compute
/// dst^T = rhs^T @ lhs^T with the operands' roles swapped.
#[allow(clippy::too_many_arguments)]
pub fn gemm_strided_batched(
    ordinal: usize,
    dtype: DType,
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    lhs: GemmOperand,
    rhs: GemmOperand,
    dst: u64,
) -> Result<()> {
    let d = dev(ordinal)?;
    let h = blas_handle(&d)?;
    use blas::cudaDataType_t as T;
    for v in [m, n, k, batch] {
        if i32::try_from(v).is_err() {
            bail!(Runtime, "CUDA matmul: sizes above 2^31 are not supported (m={}, n={}, k={}, batch={})", m, n, k, batch);
        }
    }
    let bad = |o: &GemmOperand| err!(Runtime, "internal: gemm operand needs a unit stride (rs {}, cs {})", o.rs, o.cs);
    // rhs (k x n) and lhs (m x k) enter the swapped problem as rhs^T and lhs^T.
    let (opa, lda) = blas_op(&rhs, k, n).ok_or_else(|| bad(&rhs))?;
    let (opb, ldb) = blas_op(&lhs, m, k).ok_or_else(|| bad(&lhs))?;
    let (ty, compute) = match dtype {
        DType::F32 => (
            T::CUDA_R_32F,
            if allow_tf32() {
                blas::cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32
            } else {
                blas::cublasComputeType_t::CUBLAS_COMPUTE_32F
            },
        ),
        DType::F64 => (T::CUDA_R_64F, blas::cublasComputeType_t::CUBLAS_COMPUTE_64F),
        DType::F16 => (T::CUDA_R_16F, blas::cublasComputeType_t::CUBLAS_COMPUTE_32F),
        DType::BF16 => (T::CUDA_R_16BF, blas::cublasComputeType_t::CUBLAS_COMPUTE_32F),
        other => return Err(crate::error::not_implemented("addmm_cuda", other)),
    };
    let (a1, b0) = (1.0f32, 0.0f32);
    let (a1d, b0d) = (1.0f64, 0.0f64);
    let (alpha, beta) = if dtype == DType::F64 {
        (&a1d as *const f64 as *const c_void, &b0d as *const f64 as *const c_void)
    } else {
        (&a1 as *const f32 as *const c_void, &b0 as *const f32 as *const c_void)
    };
    // SAFETY: operand addresses and strides describe matrices inside live allocations
    // (checked by the caller's layouts); alpha/beta live across the call.
    blas_check(
        unsafe {
            blas::cublasGemmStridedBatchedEx(
                h,
                opa,
                opb,
                n as i32,
                m as i32,
                k as i32,
                alpha,
                rhs.ptr as *const c_void,
                ty,
                lda,
                rhs.batch_stride,
                lhs.ptr as *const c_void,
                ty,
                ldb,
                lhs.batch_stride,
                beta,
                dst as *mut c_void,
                ty,
                n.max(1) as i32,
                (m * n) as i64,
                batch as i32,
                compute,
                blas::cublasGemmAlgo_t::CUBLAS_GEMM_DFALT,
            )
        },
        "cublasGemmStridedBatchedEx",
    )?;
    Ok(())
}

/// How cuBLAS reads an operand whose dim of size `rows` has stride `o.rs` and whose dim of
/// size `cols` has stride `o.cs`, as the column-major matrix (cols x rows): "N" with
/// ld = rs when the cols dim is unit-stride, "T" with ld = cs when the rows dim is (the
/// transpose of a column-major rows x cols matrix). None: neither (the caller copies).
// pub for the integration tests in rust/core/tests; not API.
#[doc(hidden)]
pub fn blas_op(o: &GemmOperand, rows: usize, cols: usize) -> Option<(blas::cublasOperation_t, i32)> {
    use blas::cublasOperation_t::{CUBLAS_OP_N, CUBLAS_OP_T};
    let fits = |v: usize| i32::try_from(v).ok();
    if (o.cs == 1 || cols <= 1) && (rows <= 1 || o.rs >= cols.max(1) as i64) {
        let ld = if rows <= 1 { cols.max(1) } else { o.rs as usize };
        return Some((CUBLAS_OP_N, fits(ld)?));
    }
    if (o.rs == 1 || rows <= 1) && (cols <= 1 || o.cs >= rows.max(1) as i64) {
        let ld = if cols <= 1 { rows.max(1) } else { o.cs as usize };
        return Some((CUBLAS_OP_T, fits(ld)?));
    }
    None
}

/// Whether `gemm_strided_batched` takes this operand as it is (see `blas_op`).
pub fn gemm_operand_ok(o: &GemmOperand, rows: usize, cols: usize) -> bool {
    blas_op(o, rows, cols).is_some()
}
