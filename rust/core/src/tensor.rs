//! The tensor handle. A `Tensor` is an `Arc` to a `TensorImpl`: cloning the handle is
//! cheap and aliases the same tensor (same grad, same version), like a Python reference.
//! Views are distinct `TensorImpl`s sharing one `Storage`.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::autograd::AutogradMeta;
use crate::device::Device;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::shape::{checked_numel, Dims, Layout, Shape};
use crate::storage::Storage;
use crate::{bail, dispatch};

// Storage + layout + dtype lives with the storage so that the backends (cpu/, cuda/) can
// take it without depending on the tensor handle; re-exported here for every caller.
pub use crate::storage::TensorData;

pub struct TensorImpl {
    // RwLock so that `t.data = other` / `set_` can swap what a tensor points at while
    // keeping its identity (grad, hooks); kernels only take the read side.
    data: RwLock<TensorData>,
    pub(crate) autograd: Mutex<AutogradMeta>,
    /// For language bindings: the address of the object that currently wraps this tensor
    /// (0: none), so that returning the same tensor gives back the same object, as
    /// PyTorch does (`x.grad is x.grad`, `node.variable is x`). The binding sets and
    /// clears it; the core never reads it.
    py_object: std::sync::atomic::AtomicUsize,
}

#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor(shape={:?}, dtype={})", self.shape(), self.dtype())
    }
}

impl Tensor {
    pub fn from_data(data: TensorData) -> Tensor {
        Tensor(Arc::new(TensorImpl { data: RwLock::new(data), autograd: Mutex::new(AutogradMeta::default()), py_object: Default::default() }))
    }
    pub fn from_parts(storage: Storage, layout: Layout, dtype: DType) -> Tensor {
        Self::from_data(TensorData { storage, layout, dtype })
    }
    /// A tensor over `storage` with the given geometry, as `torch.empty(0).set_(storage,
    /// offset, size, stride)`: not a view of anything, sharing the storage with every
    /// other tensor built over it. The geometry is checked against the storage's size
    /// without overflowing (it comes from files and users).
    pub fn from_storage(storage: Storage, dtype: DType, shape: &[usize], strides: &[usize], offset: usize) -> Result<Tensor> {
        if shape.len() != strides.len() {
            bail!(Runtime, "mismatch in length of strides and shape: size {:?}, stride {:?}", shape, strides);
        }
        let layout = Layout { shape: shape.into(), strides: strides.into(), offset };
        let need = layout.checked_required_len().and_then(|n| n.checked_mul(dtype.size()));
        match need {
            Some(n) if n <= storage.nbytes() => Ok(Tensor::from_parts(storage, layout, dtype)),
            _ => bail!(
                Runtime,
                "setStorage: sizes {:?}, strides {:?}, storage offset {}, and itemsize {} requiring a storage size of {} are out of bounds for storage of size {}",
                shape,
                strides,
                offset,
                dtype.size(),
                need.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
                storage.nbytes()
            ),
        }
    }
    /// A 1-d tensor of `dtype` covering the whole of this tensor's storage (what a
    /// checkpoint saves for it), on the same device.
    pub fn storage_tensor(&self) -> Tensor {
        let d = self.data();
        let n = d.storage.nbytes() / d.dtype.size();
        Tensor::from_parts(d.storage.clone(), Layout::contiguous(&[n]), d.dtype)
    }
    #[inline]
    pub fn data(&self) -> RwLockReadGuard<'_, TensorData> {
        self.0.data.read().unwrap_or_else(|e| e.into_inner())
    }
    /// Replace what this tensor points at (Python `t.data = other`).
    pub fn set_data(&self, data: TensorData) {
        *self.0.data.write().unwrap_or_else(|e| e.into_inner()) = data;
    }
    pub(crate) fn meta(&self) -> MutexGuard<'_, AutogradMeta> {
        self.0.autograd.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    // ---- geometry -------------------------------------------------------------------
    pub fn shape(&self) -> Shape {
        self.data().layout.shape.clone()
    }
    pub fn strides(&self) -> Dims {
        self.data().layout.strides.clone()
    }
    pub fn layout(&self) -> Layout {
        self.data().layout.clone()
    }
    pub fn dtype(&self) -> DType {
        self.data().dtype
    }
    pub fn device(&self) -> Device {
        self.data().storage.device()
    }
    pub fn ndim(&self) -> usize {
        self.data().layout.ndim()
    }
    pub fn dim(&self) -> usize {
        self.ndim()
    }
    pub fn numel(&self) -> usize {
        self.data().layout.numel()
    }
    pub fn size(&self, dim: i64) -> Result<usize> {
        let d = self.data();
        Ok(d.layout.shape[crate::shape::wrap_dim_of_sizes(dim, d.layout.ndim())?])
    }
    pub fn is_contiguous(&self) -> bool {
        self.data().layout.is_contiguous()
    }
    pub fn storage_offset(&self) -> usize {
        self.data().layout.offset
    }
    pub fn storage(&self) -> Storage {
        self.data().storage.clone()
    }
    pub fn data_ptr(&self) -> usize {
        let d = self.data();
        d.storage.ptr() as usize + d.layout.offset * d.dtype.size()
    }
    pub fn element_size(&self) -> usize {
        self.dtype().size()
    }
    pub fn version(&self) -> u64 {
        self.data().storage.version()
    }
    pub fn is_floating_point(&self) -> bool {
        self.dtype().is_float()
    }

    /// The binding's slot for the object wrapping this tensor (see `TensorImpl`).
    pub fn binding_slot(&self) -> &std::sync::atomic::AtomicUsize {
        &self.0.py_object
    }
    /// A new tensor handle viewing the same storage with another layout.
    pub(crate) fn with_layout(&self, layout: Layout) -> Tensor {
        let d = self.data();
        Tensor::from_parts(d.storage.clone(), layout, d.dtype)
    }
    /// A new tensor object over the same data and layout, with no history: what an
    /// in-place op records its node on before `rebase_history` hands it to the target.
    pub(crate) fn alias(&self) -> Tensor {
        Tensor::from_data(self.data().clone())
    }

    // ---- creation -------------------------------------------------------------------
    /// Uninitialised contiguous tensor on the CPU. CUDA devices are refused here: this is
    /// the allocation of every op that has only a CPU kernel, so a CUDA input to such an op
    /// stops with a typed error before a CPU kernel could touch device memory. Ops with a
    /// CUDA path allocate with `empty_on`.
    pub fn empty(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        check_device(device)?;
        Self::empty_on(shape, dtype, device)
    }
    /// Uninitialised contiguous tensor on any device.
    pub fn empty_on(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        let n = checked_numel(shape)?;
        let nbytes = n.checked_mul(dtype.size()).ok_or_else(|| {
            crate::err!(Runtime, "Storage size calculation overflowed with sizes={:?}", shape)
        })?;
        let storage = Storage::uninit(device, nbytes)?;
        Ok(Tensor::from_parts(storage, Layout::contiguous(shape), dtype))
    }
    pub fn zeros(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        if device.is_cuda() {
            return Self::full(shape, Scalar::Int(0), dtype, device);
        }
        let n = checked_numel(shape)?;
        let nbytes = n.checked_mul(dtype.size()).ok_or_else(|| {
            crate::err!(Runtime, "Storage size calculation overflowed with sizes={:?}", shape)
        })?;
        Ok(Tensor::from_parts(Storage::cpu_zeroed(nbytes)?, Layout::contiguous(shape), dtype))
    }
    pub fn full(shape: &[usize], value: Scalar, dtype: DType, device: Device) -> Result<Tensor> {
        let t = Tensor::empty_on(shape, dtype, device)?;
        t.fill_raw(value)?;
        Ok(t)
    }
    pub fn ones(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int(1), dtype, device)
    }
    /// 0-d tensor holding `value`.
    pub fn scalar(value: Scalar, dtype: DType) -> Result<Tensor> {
        Tensor::full(&[], value, dtype, Device::Cpu)
    }
    pub fn from_vec<T: Element>(values: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        if checked_numel(shape)? != values.len() {
            bail!(
                Runtime,
                "shape '{}' is invalid for input of size {}",
                crate::shape::fmt_shape(shape),
                values.len()
            );
        }
        let t = Tensor::empty(shape, T::DTYPE, Device::Cpu)?;
        // SAFETY: t is a fresh contiguous buffer of values.len() elements of T.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), t.data().ptr::<T>(), values.len()) };
        Ok(t)
    }
    pub fn from_slice<T: Element>(values: &[T], shape: &[usize]) -> Result<Tensor> {
        Self::from_vec(crate::storage::try_to_vec(values)?, shape)
    }

    /// Set every element (no autograd, no version bump): for freshly created tensors.
    pub(crate) fn fill_raw(&self, value: Scalar) -> Result<()> {
        let d = self.data();
        crate::backend::of(d.storage.device()).fill(&d, value)
    }

    /// Elements in row-major order, cast to `T`.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if self.device() != Device::Cpu {
            return self.to_device_raw(Device::Cpu)?.to_vec();
        }
        let d = self.data();
        let n = d.layout.numel();
        // Fallible: the tensor may be an expanded view whose element count is far beyond
        // its storage (an index `zeros(1).expand(2**36)`).
        let mut out: Vec<T> = crate::storage::try_with_capacity(n)?;
        dispatch!(d.dtype, S => {
            // SAFETY: out has capacity n; cast_copy writes all n elements contiguously.
            unsafe {
                crate::cpu::cast_copy::<S, T>(d.ptr::<S>(), &d.layout, out.as_mut_ptr(), &Layout::contiguous(&d.layout.shape));
                out.set_len(n);
            }
        });
        Ok(out)
    }

    /// The single element of a one-element tensor.
    pub fn item(&self) -> Result<Scalar> {
        let n = self.numel();
        if n != 1 {
            bail!(Runtime, "a Tensor with {} elements cannot be converted to Scalar", n);
        }
        if self.device() != Device::Cpu {
            return self.to_device_raw(Device::Cpu)?.item();
        }
        let d = self.data();
        Ok(dispatch!(d.dtype, T => {
            // SAFETY: one element at the view's offset.
            unsafe { (*d.ptr::<T>()).to_scalar() }
        }))
    }
}

/// Guard of the ops that have only a CPU kernel (see `Tensor::empty`).
pub(crate) fn check_device(device: Device) -> Result<()> {
    match device {
        Device::Cpu => Ok(()),
        Device::Cuda(_) => bail!(
            NotImplemented,
            "this operation has no CUDA kernel in ferrotorch yet (got a tensor on {}); move the tensors to the CPU with .cpu() for it",
            device
        ),
    }
}

impl Tensor {
    /// A copy on `device` (same dtype and shape, contiguous), outside the graph.
    pub(crate) fn to_device_raw(&self, device: Device) -> Result<Tensor> {
        // (A missing device is reported by the allocation in empty_on.)
        let d = self.data();
        let out = Tensor::empty_on(&d.layout.shape, d.dtype, device)?;
        crate::ops::copy_data(&d, &out.data())?;
        Ok(out)
    }
    /// `.to(device)`: self when already there, else a copy whose gradient flows back to
    /// self's device (ToCopyBackward0).
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        if device == self.device() {
            return Ok(self.clone());
        }
        let out = self.to_device_raw(device)?;
        if crate::autograd::needs_grad(&[self]) {
            let src = self.device();
            crate::autograd::record("ToCopyBackward0", &[self], &[&out], move |_, g| {
                Ok(vec![g[0].as_ref().map(|g| g.to_device(src)).transpose()?])
            });
        }
        Ok(out)
    }
}
