//! Storage: a reference-counted buffer shared by all views of a tensor, with the
//! version counter autograd uses to detect in-place modification of saved tensors.
//!
//! CPU memory comes from a caching allocator: freed blocks are kept per size class
//! and reused, so a loop that creates 64 MB temporaries does not pay for mmap +
//! page faults on every iteration (PyTorch's CPU allocator returns them to the OS).

use std::alloc::{self, Layout as AllocLayout};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::err;
use crate::shape::Layout;

// pub for the integration tests in rust/core/tests; not API.
#[doc(hidden)]
pub const ALIGN: usize = 64;
/// Blocks at most this large are cached once freed.
const MAX_CACHED_BLOCK: usize = 1 << 30;
/// Total bytes the cache may hold before frees go back to the system.
const MAX_CACHED_TOTAL: usize = 2 << 30;

/// Size classes: multiples of 64 bytes up to 4 KiB, then 4 steps per power of two, so
/// a reused block wastes at most 25%. Returns (class bytes, index into the free lists).
/// An index instead of a HashMap keyed by size: the lookup is on every allocation and
/// hashing showed up in the profile of a 1-element `a + b`.
// pub for the integration tests in rust/core/tests; not API.
#[doc(hidden)]
pub fn size_class(nbytes: usize) -> (usize, usize) {
    let n = nbytes.max(1);
    if n <= 4096 {
        let k = n.div_ceil(ALIGN);
        return (k * ALIGN, k - 1); // indices 0..64
    }
    let p = (usize::BITS - 1 - (n - 1).leading_zeros()) as usize; // 2^p < n <= 2^(p+1), p >= 12
    let quarter = 1usize << (p - 2);
    let q = n.div_ceil(quarter); // 5..=8
    (q * quarter, 64 + (p - 12) * 4 + (q - 5))
}

/// Inverse of `size_class`: the bytes of class index `idx`.
// pub for the integration tests in rust/core/tests; not API.
#[doc(hidden)]
pub fn class_bytes(idx: usize) -> usize {
    if idx < 64 {
        return (idx + 1) * ALIGN;
    }
    let (p, q) = (12 + (idx - 64) / 4, 5 + (idx - 64) % 4);
    q << (p - 2)
}

/// Free lists for every class index `size_class` can return (p < 64).
// pub for the integration tests in rust/core/tests; not API.
#[doc(hidden)]
pub const N_CLASSES: usize = 64 + (64 - 12) * 4;

struct CpuCache {
    free: Vec<Vec<usize>>, // class index -> block addresses
    cached_bytes: usize,
}

static CPU_CACHE: Mutex<Option<CpuCache>> = Mutex::new(None);
static CPU_ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Blocks of each small class (<= 4 KiB) a thread keeps for itself.
const LOCAL_DEPTH: usize = 8;

/// A per-thread front for the small classes, so the tensors of small ops (a 4-op graph on
/// 16 elements allocates ~20 times) skip the global lock: that lock-and-unlock pair was
/// ~8% of such a graph's forward + backward. Blocks stay owned by the allocator: a block
/// freed on another thread goes to that thread's front, and a thread's front goes back
/// to the global cache when the thread exits.
struct LocalCache {
    blocks: [[usize; LOCAL_DEPTH]; 64],
    len: [u8; 64],
}

impl LocalCache {
    /// Hand every block to the global cache.
    fn drain(&mut self) {
        for idx in 0..64 {
            for i in 0..self.len[idx] as usize {
                global_free(self.blocks[idx][i], class_bytes(idx), idx);
            }
            self.len[idx] = 0;
        }
    }
}

impl Drop for LocalCache {
    fn drop(&mut self) {
        self.drain()
    }
}

thread_local! {
    static LOCAL: std::cell::RefCell<LocalCache> =
        const { std::cell::RefCell::new(LocalCache { blocks: [[0; LOCAL_DEPTH]; 64], len: [0; 64] }) };
}

fn cpu_alloc(nbytes: usize) -> Result<(NonNull<u8>, usize)> {
    let (class, idx) = size_class(nbytes);
    if idx < 64 {
        let hit = LOCAL
            .try_with(|l| {
                let mut l = l.borrow_mut();
                let n = l.len[idx] as usize;
                (n > 0).then(|| {
                    l.len[idx] -= 1;
                    l.blocks[idx][n - 1]
                })
            })
            .ok()
            .flatten();
        if let Some(addr) = hit {
            CPU_ALLOCATED.fetch_add(class, Ordering::Relaxed);
            // SAFETY: addresses in the caches came from `alloc` below and are non-null.
            return Ok((unsafe { NonNull::new_unchecked(addr as *mut u8) }, class));
        }
    }
    {
        let mut guard = CPU_CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cache) = guard.as_mut() {
            if let Some(addr) = cache.free[idx].pop() {
                cache.cached_bytes -= class;
                CPU_ALLOCATED.fetch_add(class, Ordering::Relaxed);
                // SAFETY: addresses in the cache came from `alloc` below and are non-null.
                return Ok((unsafe { NonNull::new_unchecked(addr as *mut u8) }, class));
            }
        }
    }
    let layout = AllocLayout::from_size_align(class, ALIGN)
        .map_err(|_| err!(Runtime, "cannot allocate {} bytes", nbytes))?;
    // SAFETY: layout has non-zero size (class >= 64).
    let ptr = unsafe { alloc::alloc(layout) };
    let ptr = NonNull::new(ptr).ok_or_else(|| out_of_memory(nbytes))?;
    CPU_ALLOCATED.fetch_add(class, Ordering::Relaxed);
    Ok((ptr, class))
}

/// PyTorch's out-of-memory RuntimeError for a request of `nbytes`.
pub fn out_of_memory(nbytes: usize) -> crate::error::Error {
    err!(Runtime, "DefaultCPUAllocator: can't allocate memory: you tried to allocate {} bytes. Error code 12 (Cannot allocate memory)", nbytes)
}

// Host scratch whose size a user controls (index lists, sort buffers, element copies)
// goes through these instead of `vec!` / `Vec::with_capacity` / `collect`, which abort
// the process, and with it the Python interpreter, when the allocation fails (`rand(2**40)`,
// `t[idx.expand(2**36)]`). tests/reliability/test_alloc_lint.py keeps it that way.

/// `vec![value; n]` that reports a failed allocation as PyTorch's out-of-memory
/// RuntimeError.
pub fn try_vec<T: Clone>(n: usize, value: T) -> Result<Vec<T>> {
    let mut v = try_with_capacity(n)?;
    v.resize(n, value);
    Ok(v)
}

/// `Vec::with_capacity(n)`, a failed allocation reported as by `try_vec`. A byte count
/// that overflows usize is the same error, naming usize::MAX bytes.
pub fn try_with_capacity<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| out_of_memory(n.saturating_mul(std::mem::size_of::<T>())))?;
    Ok(v)
}

/// `iter.collect::<Vec<_>>()` for an iterator of at most `n` items, with the allocation
/// made (fallibly) up front. `n` must bound the length (items past it would still be
/// kept, growing the vector infallibly).
pub fn try_collect<T>(n: usize, iter: impl IntoIterator<Item = T>) -> Result<Vec<T>> {
    let mut v = try_with_capacity(n)?;
    v.extend(iter);
    Ok(v)
}

/// `s.to_vec()`, fallible.
pub fn try_to_vec<T: Clone>(s: &[T]) -> Result<Vec<T>> {
    let mut v = try_with_capacity(s.len())?;
    v.extend_from_slice(s);
    Ok(v)
}

/// Fails, as `try_vec` would, when `nbytes` of host memory cannot be had now; allocates
/// nothing. For work made of many small allocations that cannot each be made fallible
/// (one `Arc` per view when `unbind` returns 10**8 rows): the total is asked for once up
/// front, so a request that cannot fit is an exception rather than an abort half-way.
/// Rejected: counting against a budget of our own, which would not know the address-space
/// limit or what else the process holds.
pub fn probe_host(nbytes: usize) -> Result<()> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(nbytes).map_err(|_| out_of_memory(nbytes))
}

/// `a * b` for a size (bytes, elements), an overflow reported as the out-of-memory error:
/// the request cannot be met either way.
pub fn checked_mul(a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or_else(|| out_of_memory(usize::MAX))
}

fn cpu_free(ptr: NonNull<u8>, class: usize) {
    CPU_ALLOCATED.fetch_sub(class, Ordering::Relaxed);
    let idx = size_class(class).1;
    let addr = ptr.as_ptr() as usize;
    if idx < 64 {
        // try_with: during thread teardown the front may already be gone.
        let kept = LOCAL
            .try_with(|l| {
                let mut l = l.borrow_mut();
                let n = l.len[idx] as usize;
                (n < LOCAL_DEPTH).then(|| {
                    l.blocks[idx][n] = addr;
                    l.len[idx] += 1;
                })
            })
            .ok()
            .flatten();
        if kept.is_some() {
            return;
        }
    }
    global_free(addr, class, idx)
}

/// Return a block to the global cache, or to the system when the cache is full.
fn global_free(addr: usize, class: usize, idx: usize) {
    if class <= MAX_CACHED_BLOCK {
        let mut guard = CPU_CACHE.lock().unwrap_or_else(|e| e.into_inner());
        let cache = guard.get_or_insert_with(|| CpuCache { free: vec![Vec::new(); N_CLASSES], cached_bytes: 0 });
        if cache.cached_bytes + class <= MAX_CACHED_TOTAL {
            cache.free[idx].push(addr);
            cache.cached_bytes += class;
            return;
        }
    }
    // SAFETY: addr was allocated with exactly this layout in cpu_alloc.
    unsafe { alloc::dealloc(addr as *mut u8, AllocLayout::from_size_align_unchecked(class, ALIGN)) }
}

/// Return every cached CPU block to the system.
pub fn cpu_empty_cache() {
    // This thread's front first (other threads' fronts hold at most 8 small blocks per class).
    let _ = LOCAL.try_with(|l| l.borrow_mut().drain());
    let mut guard = CPU_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cache) = guard.as_mut() {
        for (idx, blocks) in cache.free.iter_mut().enumerate() {
            let class = class_bytes(idx);
            for addr in blocks.drain(..) {
                // SAFETY: each cached block was allocated by cpu_alloc with this class.
                unsafe {
                    alloc::dealloc(addr as *mut u8, AllocLayout::from_size_align_unchecked(class, ALIGN))
                }
            }
        }
        cache.cached_bytes = 0;
    }
}

/// Bytes currently handed out by the CPU allocator (live tensors).
pub fn cpu_memory_allocated() -> usize {
    CPU_ALLOCATED.load(Ordering::Relaxed)
}

/// Who owns the bytes and how to give them back.
enum Owner {
    /// From the caching allocator, with its size class.
    Pool(usize),
    /// Device memory from the CUDA caching allocator, with its size class.
    Cuda(usize),
    /// Memory owned by someone else (a NumPy array); the box keeps it alive.
    External(#[allow(dead_code)] Box<dyn Any + Send + Sync>),
}

pub struct StorageImpl {
    ptr: NonNull<u8>,
    nbytes: usize,
    device: Device,
    owner: Owner,
    version: AtomicU64,
}

// SAFETY: the buffer is plain memory owned by this struct (or kept alive by `owner`);
// concurrent access is coordinated by the tensor API like PyTorch's (views may alias,
// kernels write only to outputs they own or to in-place targets).
unsafe impl Send for StorageImpl {}
// SAFETY: see Send above.
unsafe impl Sync for StorageImpl {}

impl Drop for StorageImpl {
    fn drop(&mut self) {
        match (&self.owner, self.device) {
            (Owner::Pool(class), _) => cpu_free(self.ptr, *class),
            (Owner::Cuda(class), Device::Cuda(i)) => crate::cuda::free(i, self.ptr.as_ptr() as u64, *class),
            _ => {}
        }
    }
}

/// Cheap-to-clone handle to a buffer.
#[derive(Clone)]
pub struct Storage(Arc<StorageImpl>);

impl Storage {
    /// Uninitialised CPU storage of `nbytes`.
    pub fn cpu_uninit(nbytes: usize) -> Result<Storage> {
        let (ptr, class) = cpu_alloc(nbytes)?;
        Ok(Storage(Arc::new(StorageImpl {
            ptr,
            nbytes,
            device: Device::Cpu,
            owner: Owner::Pool(class),
            version: AtomicU64::new(0),
        })))
    }
    /// Uninitialised device memory of `nbytes` on CUDA device `ordinal`. `ptr()` is then a
    /// device address: only CUDA kernels and copies may use it.
    pub fn cuda_uninit(ordinal: usize, nbytes: usize) -> Result<Storage> {
        let (addr, class) = crate::cuda::alloc(ordinal, nbytes)?;
        let ptr = NonNull::new(addr as *mut u8).ok_or_else(|| err!(Runtime, "CUDA allocator returned a null address"))?;
        Ok(Storage(Arc::new(StorageImpl {
            ptr,
            nbytes,
            device: Device::Cuda(ordinal),
            owner: Owner::Cuda(class),
            version: AtomicU64::new(0),
        })))
    }
    /// Uninitialised storage on `device`.
    pub fn uninit(device: Device, nbytes: usize) -> Result<Storage> {
        match device {
            Device::Cpu => Self::cpu_uninit(nbytes),
            Device::Cuda(i) => Self::cuda_uninit(i, nbytes),
        }
    }
    pub fn cpu_zeroed(nbytes: usize) -> Result<Storage> {
        let s = Self::cpu_uninit(nbytes)?;
        // SAFETY: the block holds at least nbytes writable bytes.
        unsafe { std::ptr::write_bytes(s.ptr(), 0, nbytes) };
        Ok(s)
    }
    /// Wrap memory owned by `owner` (e.g. a NumPy array).
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `nbytes` bytes for as long as
    /// `owner` is alive, and suitably aligned for the dtype the tensor will use.
    pub unsafe fn from_external(ptr: *mut u8, nbytes: usize, owner: Box<dyn Any + Send + Sync>) -> Storage {
        let ptr = NonNull::new(ptr).unwrap_or(NonNull::dangling());
        Storage(Arc::new(StorageImpl {
            ptr,
            nbytes,
            device: Device::Cpu,
            owner: Owner::External(owner),
            version: AtomicU64::new(0),
        }))
    }
    /// CPU storage holding a copy of `bytes` (a checkpoint's record, say). The allocation
    /// is fallible: a size a file claims becomes PyTorch's out-of-memory error.
    pub fn cpu_from_bytes(bytes: &[u8]) -> Result<Storage> {
        let s = Self::cpu_uninit(bytes.len())?;
        // SAFETY: the new block holds at least bytes.len() writable bytes and cannot
        // overlap `bytes`, which the caller borrowed from elsewhere.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), s.ptr(), bytes.len()) };
        Ok(s)
    }
    /// The bytes of a CPU storage.
    ///
    /// # Safety
    /// No one may write to the storage while the slice is alive (a kernel running on
    /// another thread on a tensor of this storage, say).
    pub unsafe fn cpu_bytes(&self) -> Result<&[u8]> {
        if self.device() != Device::Cpu {
            crate::bail!(Runtime, "expected a CPU storage, got one on {}", self.device());
        }
        if self.nbytes() == 0 {
            return Ok(&[]);
        }
        // SAFETY: the buffer holds nbytes initialised bytes while self is alive; the caller
        // promises no concurrent writes.
        Ok(unsafe { std::slice::from_raw_parts(self.ptr(), self.nbytes()) })
    }
    #[inline]
    pub fn ptr(&self) -> *mut u8 {
        self.0.ptr.as_ptr()
    }
    pub fn nbytes(&self) -> usize {
        self.0.nbytes
    }
    pub fn device(&self) -> Device {
        self.0.device
    }
    #[inline]
    pub fn version(&self) -> u64 {
        self.0.version.load(Ordering::Relaxed)
    }
    #[inline]
    pub fn bump_version(&self) {
        self.0.version.fetch_add(1, Ordering::Relaxed);
    }
    /// An identity for the storage while it is alive (the address of its shared
    /// block; not the data address, which empty storages can share).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
    pub fn same(&self, other: &Storage) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }
}

/// Storage + view geometry + dtype: what kernels read.
#[derive(Clone)]
pub struct TensorData {
    pub storage: Storage,
    pub layout: Layout,
    pub dtype: DType,
}

impl TensorData {
    /// Typed pointer to the first element of the view.
    ///
    /// # Safety
    /// `T` must be the Rust type of `self.dtype`.
    #[inline]
    pub unsafe fn ptr<T>(&self) -> *mut T {
        // CPU kernels only: a device address here is a missing CUDA path (debug builds
        // stop; release builds rely on the `Tensor::empty` guard, see there).
        debug_assert!(!self.storage.device().is_cuda(), "CPU kernel reached CUDA memory");
        (self.storage.ptr() as *mut T).add(self.layout.offset)
    }
    /// Uninitialised contiguous data of `shape` on `device`: the backends' outputs and
    /// temporaries (the seam works on storage + layout, not on tensors).
    pub fn uninit(device: Device, shape: &[usize], dtype: DType) -> Result<TensorData> {
        let n = crate::shape::checked_numel(shape)?;
        let nbytes = n.checked_mul(dtype.size()).ok_or_else(|| err!(Runtime, "Storage size calculation overflowed with sizes={:?}", shape))?;
        Ok(TensorData { storage: Storage::uninit(device, nbytes)?, layout: Layout::contiguous(shape), dtype })
    }
    /// The same data viewed through another layout.
    pub fn with_layout(&self, layout: Layout) -> TensorData {
        TensorData { storage: self.storage.clone(), layout, dtype: self.dtype }
    }
}
