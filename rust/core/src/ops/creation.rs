//! Factories: arange/linspace/logspace/eye and the random family.

use crate::device::Device;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Result;
use crate::backend::Draw;
use crate::random::{default_generator, Generator};
use crate::tensor::Tensor;
use crate::{bail, dispatch};

/// Deterministic factories and `randperm` (a sequential Fisher-Yates) are built on the
/// host and placed on their device (no kernel of their own on any backend). `rand`,
/// `randn` and `randint` draw on the device from the same Philox counter blocks on every
/// backend (`draw`): one seed gives the same numbers on every device (normals up to the
/// last bit of the device's log/cos/sin).
fn on_device(t: Result<Tensor>, device: Device) -> Result<Tensor> {
    let t = t?;
    if t.device() == device {
        return Ok(t);
    }
    t.to_device_raw(device)
}

/// A random draw through the backend's Philox primitive: `kdt` is what it writes (then cast
/// to `dtype`), `per_block` the elements one Philox counter block gives, so one seed gives
/// the same numbers on every device.
fn draw(shape: &[usize], kdt: DType, dtype: DType, per_block: u64, draw: Draw, device: Device, g: Option<&Generator>) -> Result<Tensor> {
    let n = crate::shape::checked_numel(shape)?;
    let g = g.cloned().unwrap_or_else(default_generator);
    // Allocate before reserving: a failed allocation leaves the stream where it was. The
    // result (in the dtype asked for) is the only allocation of the tensor's size, so an
    // out-of-memory error names the size the user asked for, as PyTorch's does.
    let out = Tensor::empty_on(shape, dtype, device)?;
    if kdt == dtype {
        let (seed, first) = g.reserve((n as u64).div_ceil(per_block));
        crate::backend::of(device).philox(&out.data(), draw, seed, first)?;
        return Ok(out);
    }
    // Another dtype: drawn in `kdt` a chunk at a time (a multiple of the block size, so the
    // counter blocks, and with them the numbers, are those of one whole draw) and cast
    // into the result. Rejected: one whole-size `kdt` draw, then a cast (twice the
    // memory of an f32 result, and an out-of-memory error naming the f64 size).
    const CHUNK: usize = 1 << 20;
    let scratch = Tensor::empty_on(&[CHUNK.min(n)], kdt, device)?;
    let (seed, first) = g.reserve((n as u64).div_ceil(per_block));
    let flat = crate::storage::TensorData { layout: crate::shape::Layout::contiguous(&[n]), ..out.data().clone() };
    let mut lo = 0;
    while lo < n {
        let len = CHUNK.min(n - lo);
        let sd = scratch.data();
        let sd = crate::storage::TensorData { layout: sd.layout.narrow(0, 0, len), ..sd.clone() };
        crate::backend::of(device).philox(&sd, draw, seed, first + (lo / per_block as usize) as u64)?;
        crate::ops::copy_data(&sd, &crate::storage::TensorData { layout: flat.layout.narrow(0, lo, len), ..flat.clone() })?;
        lo += len;
    }
    Ok(out)
}

/// `randperm(n)`'s length from a signed `n`: a negative one is PyTorch's error (spelled
/// as PyTorch's, without a space before the number).
pub fn randperm_len(n: i64) -> Result<usize> {
    if n < 0 {
        bail!(Runtime, "n must be non-negative, got{}", n);
    }
    Ok(n as usize)
}

/// `eye(n, m)`'s sizes from signed ones: a negative one is PyTorch's error, which names the
/// smaller of the two.
pub fn eye_sizes(n: i64, m: Option<i64>) -> Result<(usize, Option<usize>)> {
    if n < 0 || m.is_some_and(|m| m < 0) {
        bail!(Runtime, "n must be greater or equal to 0, got {}", n.min(m.unwrap_or(0)));
    }
    Ok((n as usize, m.map(|m| m as usize)))
}

/// `full(size, v)`'s dtype when none is given: the fill value's kind (bool, int64, else
/// the default float dtype).
pub fn full_dtype(v: Scalar) -> DType {
    match v {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::I64,
        Scalar::Float(_) => crate::dtype::default_dtype(),
    }
}

/// `arange(...)`'s dtype when none is given: the default float dtype if any of start, end
/// and step is a float, else int64.
pub fn arange_dtype(args: &[Scalar]) -> DType {
    if args.iter().any(|v| matches!(v, Scalar::Float(_))) {
        crate::dtype::default_dtype()
    } else {
        DType::I64
    }
}

impl Tensor {
    /// `arange(start, end, step)` in `dtype`; the length is ceil((end - start) / step).
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType, device: Device) -> Result<Tensor> {
        on_device(Tensor::arange_host(start, end, step, dtype), device)
    }
    fn arange_host(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        let device = Device::Cpu;
        if step == 0.0 {
            bail!(Runtime, "step must be nonzero");
        }
        if !start.is_finite() || !end.is_finite() {
            bail!(Runtime, "unsupported range: {} -> {}", start, end);
        }
        if (step > 0.0 && end < start) || (step < 0.0 && end > start) {
            bail!(Runtime, "upper bound and larger bound inconsistent with step sign");
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let t = Tensor::empty(&[n], dtype, device)?;
        {
            let d = t.data();
            dispatch!(dtype, T => {
                let p = unsafe { d.ptr::<T>() };
                for i in 0..n {
                    let v = if dtype.is_float() { start + i as f64 * step } else { (start + i as f64 * step).floor() };
                    // SAFETY: i < n elements.
                    unsafe { *p.add(i) = T::from_f64(v) };
                }
            });
        }
        Ok(t)
    }
    pub fn arange_i64(start: i64, end: i64, step: i64) -> Result<Tensor> {
        if step == 0 {
            bail!(Runtime, "step must be nonzero");
        }
        // Written straight into the tensor: the length is a user's (the numel of a tensor
        // being indexed, which may be an expanded view).
        let n = if step > 0 {
            if end <= start { 0 } else { ((end as i128 - start as i128 - 1) / step as i128 + 1) as usize }
        } else if end >= start {
            0
        } else {
            ((start as i128 - end as i128 - 1) / (-(step as i128)) + 1) as usize
        };
        let t = Tensor::empty(&[n], DType::I64, Device::Cpu)?;
        // SAFETY: t is a fresh contiguous i64 tensor of n elements.
        let o = unsafe { std::slice::from_raw_parts_mut(t.data().ptr::<i64>(), n) };
        for (i, x) in o.iter_mut().enumerate() {
            *x = (start as i128 + i as i128 * step as i128) as i64;
        }
        Ok(t)
    }

    pub fn linspace(start: f64, end: f64, steps: i64, dtype: DType, device: Device) -> Result<Tensor> {
        on_device(Tensor::linspace_host(start, end, steps, dtype), device)
    }
    fn linspace_host(start: f64, end: f64, steps: i64, dtype: DType) -> Result<Tensor> {
        if steps < 0 {
            bail!(Runtime, "number of steps must be non-negative");
        }
        let n = steps as usize;
        let step = if n > 1 { (end - start) / (n - 1) as f64 } else { 0.0 };
        // Symmetric evaluation as PyTorch: the second half counts back from `end`.
        let mut vals = crate::storage::try_vec(n, 0.0f64)?;
        for (i, v) in vals.iter_mut().enumerate() {
            *v = if n == 1 { start } else if i < n / 2 { start + step * i as f64 } else { end - step * (n - 1 - i) as f64 };
        }
        Tensor::from_vec(vals, &[n])?.to_dtype_raw(dtype)
    }

    pub fn logspace(start: f64, end: f64, steps: i64, base: f64, dtype: DType, device: Device) -> Result<Tensor> {
        on_device(Tensor::logspace_host(start, end, steps, base, dtype), device)
    }
    fn logspace_host(start: f64, end: f64, steps: i64, base: f64, dtype: DType) -> Result<Tensor> {
        let device = Device::Cpu;
        let l = Tensor::linspace(start, end, steps, DType::F64, device)?;
        let mut v = l.to_vec::<f64>()?;
        v.iter_mut().for_each(|e| *e = base.powf(*e));
        let n = v.len();
        Tensor::from_vec(v, &[n])?.to_dtype_raw(dtype)
    }

    pub fn eye(n: usize, m: Option<usize>, dtype: DType, device: Device) -> Result<Tensor> {
        on_device(Tensor::eye_host(n, m, dtype), device)
    }
    fn eye_host(n: usize, m: Option<usize>, dtype: DType) -> Result<Tensor> {
        let device = Device::Cpu;
        let m = m.unwrap_or(n);
        let t = Tensor::zeros(&[n, m], dtype, device)?;
        {
            let d = t.data();
            dispatch!(dtype, T => {
                let p = unsafe { d.ptr::<T>() };
                for i in 0..n.min(m) {
                    // SAFETY: i*m+i < n*m.
                    unsafe { *p.add(i * m + i) = T::one() };
                }
            });
        }
        Ok(t)
    }

    /// Uniform [0, 1) (`rand`).
    pub fn rand(shape: &[usize], dtype: DType, device: Device, g: Option<&Generator>) -> Result<Tensor> {
        if !dtype.is_float() {
            bail!(Runtime, "\"check_uniform_bounds\" not implemented for '{}'", crate::ops::pretty_dtype(dtype));
        }
        // Dropout masks every step: drawn on the device, no host generation or upload.
        let (kdt, per_block) = if dtype == DType::F64 { (DType::F64, 2) } else { (DType::F32, 4) };
        draw(shape, kdt, dtype, per_block, Draw::Uniform, device, g)
    }

    pub fn randn(shape: &[usize], dtype: DType, device: Device, g: Option<&Generator>) -> Result<Tensor> {
        if !dtype.is_float() {
            bail!(Runtime, "\"normal_kernel_cpu\" not implemented for '{}'", crate::ops::pretty_dtype(dtype));
        }
        // f64 normals then a cast: the same numbers for every dtype.
        draw(shape, DType::F64, dtype, 2, Draw::Normal, device, g)
    }

    pub fn randint(low: i64, high: i64, shape: &[usize], dtype: DType, device: Device, g: Option<&Generator>) -> Result<Tensor> {
        if high <= low {
            bail!(Runtime, "random_ expects 'from' to be less than 'to', but got from={} >= to={}", low, high);
        }
        // Wrapping: the span of [i64::MIN, i64::MAX) is below 2^64 as a u64.
        let span = high.wrapping_sub(low) as u64;
        draw(shape, DType::I64, dtype, 2, Draw::Int { low, span }, device, g)
    }

    pub fn randperm(n: usize, dtype: DType, device: Device, g: Option<&Generator>) -> Result<Tensor> {
        on_device(Tensor::randperm_host(n, dtype, g), device)
    }
    fn randperm_host(n: usize, dtype: DType, g: Option<&Generator>) -> Result<Tensor> {
        let g = g.cloned().unwrap_or_else(default_generator);
        Tensor::from_vec(g.randperm(n)?, &[n])?.to_dtype_raw(dtype)
    }

    /// In-place `uniform_(a, b)`.
    pub fn uniform_(&self, a: f64, b: f64, g: Option<&Generator>) -> Result<()> {
        let r = Tensor::rand(&self.shape(), if self.dtype() == DType::F64 { DType::F64 } else { DType::F32 }, self.device(), g)?;
        let v = r.mul_s(b - a)?.add_s(a)?;
        let _ng = crate::autograd::NoGradGuard::new();
        self.copy_(&v)
    }
    /// In-place `normal_(mean, std)`.
    pub fn normal_(&self, mean: f64, std: f64, g: Option<&Generator>) -> Result<()> {
        let r = Tensor::randn(&self.shape(), DType::F64, self.device(), g)?;
        let v = r.mul_s(std)?.add_s(mean)?;
        let _ng = crate::autograd::NoGradGuard::new();
        self.copy_(&v)
    }
    /// Bernoulli(p) draws as a float tensor of 0/1 (dropout masks).
    pub fn bernoulli_like(&self, p: f64, g: Option<&Generator>) -> Result<Tensor> {
        let r = Tensor::rand(&self.shape(), DType::F32, self.device(), g)?;
        r.lt(Scalar::Float(p))?.to_dtype_raw(self.dtype())
    }
}

