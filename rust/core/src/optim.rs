//! Fused optimizer updates: one call updates every parameter of a group in place,
//! element by element, without building autograd graphs or temporaries. The formulas
//! are PyTorch's single-tensor algorithms (`torch/optim/sgd.py`, `adam.py`) op for op,
//! with each constant rounded to the parameter's dtype as PyTorch's scalar arguments are.
//!
//! Rejected alternative: writing the updates with tensor ops (`mul_`, `add_`, `lerp_`,
//! `addcdiv_`). That allocates ~5 temporaries per parameter and walks the data ~8 times;
//! the fused loop reads and writes each element once.
//!
//! float16/bfloat16 parameters are updated through float32 copies (computing in float32
//! and rounding once, where PyTorch rounds after every op): documented deviation.


use crate::cpu::GRAIN;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::bail;

/// torch.optim.SGD hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct Sgd {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    pub maximize: bool,
}

/// torch.optim.Adam / AdamW hyper-parameters (`decoupled_weight_decay` = AdamW).
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    pub decoupled_weight_decay: bool,
}

/// The float types the update loops run in.
trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    fn c(v: f64) -> Self;
    fn sqrt(self) -> Self;
}
impl Real for f32 {
    fn c(v: f64) -> Self {
        v as f32
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}
impl Real for f64 {
    fn c(v: f64) -> Self {
        v
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// A tensor's elements as a mutable contiguous buffer of the compute type: the tensor's
/// own memory when it is contiguous f32/f64, else a float32 copy written back by `finish`.
struct Work {
    target: Tensor,
    buf: Tensor,
    copied: bool,
}

impl Work {
    fn new(t: &Tensor) -> Result<Work> {
        // CUDA tensors are updated through a host copy (the fused loops are CPU code; a
        // CUDA kernel for them is still to come), written back by `finish`.
        let cuda = t.device().is_cuda();
        let direct = !cuda && t.is_contiguous() && matches!(t.dtype(), DType::F32 | DType::F64);
        let buf = if direct {
            t.clone()
        } else {
            let dt = if t.dtype() == DType::F64 { DType::F64 } else { DType::F32 };
            let host = if cuda { t.detach().to_device_raw(crate::Device::Cpu)? } else { t.detach() };
            host.to_dtype(dt)?.contiguous_copy_pub()?
        };
        Ok(Work { target: t.clone(), buf, copied: !direct })
    }
    /// Write back (for copies) and bump the version counter: an in-place update.
    fn finish(self) -> Result<()> {
        if self.copied {
            let _g = crate::autograd::NoGradGuard::new();
            self.target.detach().copy_(&self.buf)?;
        } else {
            self.target.storage().bump_version();
        }
        Ok(())
    }
    /// SAFETY: the caller must use `T` = the buffer's dtype and not alias the slice.
    unsafe fn slice<'a, T>(&self) -> &'a mut [T] {
        let d = self.buf.data();
        std::slice::from_raw_parts_mut(d.ptr::<T>(), d.layout.numel())
    }
}

/// A read-only gradient as a contiguous buffer of dtype `dt` on `device` (the host loops
/// take a host copy of a CUDA gradient; the CUDA kernels take it where it is).
fn grad_buf(g: &Tensor, dt: DType, device: crate::Device) -> Result<Tensor> {
    let g = if g.device() != device { g.detach().to_device_raw(device)? } else { g.clone() };
    if g.is_contiguous() && g.dtype() == dt {
        Ok(g.clone())
    } else {
        g.detach().to_dtype(dt)?.contiguous_copy_pub()
    }
}

fn check_float(what: &str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_float() {
        bail!(Runtime, "{} must be a floating point tensor, got {}", what, t.dtype());
    }
    Ok(())
}

fn check_pair(i: usize, what: &str, p: &Tensor, t: &Tensor) -> Result<()> {
    check_float(what, t)?;
    if p.device() != t.device() {
        bail!(
            Runtime,
            "Expected all tensors to be on the same device, but found at least two devices, {} and {}! ({} {} vs parameter {})",
            p.device(),
            t.device(),
            what,
            i,
            i
        );
    }
    if p.shape() != t.shape() {
        bail!(
            Runtime,
            "{} {} has shape {} but parameter {} has shape {}",
            what,
            i,
            crate::shape::fmt_shape(&t.shape()),
            i,
            crate::shape::fmt_shape(&p.shape())
        );
    }
    Ok(())
}

fn check_len(what: &str, n: usize, got: usize) -> Result<()> {
    if n != got {
        bail!(Value, "expected {} {} (one per parameter), got {}", n, what, got);
    }
    Ok(())
}

/// Run `f` over `n` elements split into GRAIN-sized ranges, in parallel when large.
fn for_ranges(n: usize, f: impl Fn(std::ops::Range<usize>) + Sync + Send) {
    if n >= 2 * GRAIN && crate::cpu::num_threads() > 1 {
        crate::cpu::par_for(n.div_ceil(GRAIN), |c| f(c * GRAIN..((c + 1) * GRAIN).min(n)));
    } else {
        f(0..n);
    }
}

/// Raw pointer that may cross into parallel tasks; each task touches a disjoint range.
#[derive(Clone, Copy)]
struct P<T>(*mut T);
// SAFETY: tasks write disjoint index ranges of the buffer behind the pointer.
unsafe impl<T> Send for P<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for P<T> {}
impl<T> P<T> {
    fn of(s: &mut [T]) -> Self {
        P(s.as_mut_ptr())
    }
    /// SAFETY: `r` must lie inside the buffer and not be accessed through another slice
    /// while this one lives.
    #[inline(always)]
    unsafe fn slice<'a>(self, r: &std::ops::Range<usize>) -> &'a mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(r.start), r.len())
    }
}

/// SGD step over a group. `bufs[i]` is parameter i's momentum buffer (None before the
/// first step). Returns the buffers after the step: updated in place, created on the
/// first step (a copy of the update direction, as PyTorch's `clone(d_p)`), or None
/// when momentum is 0.
pub fn sgd_step(params: &[Tensor], grads: &[Tensor], bufs: &[Option<Tensor>], h: &Sgd) -> Result<Vec<Option<Tensor>>> {
    let n = params.len();
    check_len("gradients", n, grads.len())?;
    check_len("momentum buffers", n, bufs.len())?;
    for i in 0..n {
        check_float("parameter", &params[i])?;
        check_pair(i, "gradient", &params[i], &grads[i])?;
        if let Some(b) = &bufs[i] {
            check_pair(i, "momentum buffer", &params[i], b)?;
        }
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if let Some(b) = sgd_cuda(&params[i], &grads[i], &bufs[i], h)? {
            out.push(b);
            continue;
        }
        let p = Work::new(&params[i])?;
        let dt = p.buf.dtype();
        let g = grad_buf(&grads[i], dt, crate::Device::Cpu)?;
        let first = bufs[i].is_none();
        let b = match (&bufs[i], h.momentum != 0.0) {
            (_, false) => None,
            (Some(b), true) => Some(Work::new(b)?),
            (None, true) => Some(Work::new(&Tensor::empty_on(&params[i].shape(), params[i].dtype(), params[i].device())?)?),
        };
        // SAFETY: p, g and b are distinct contiguous buffers of dtype dt.
        unsafe {
            match dt {
                DType::F64 => sgd_kernel::<f64>(p.slice(), g.data().ptr::<f64>(), b.as_ref().map(|b| b.slice()), first, h),
                _ => sgd_kernel::<f32>(p.slice(), g.data().ptr::<f32>(), b.as_ref().map(|b| b.slice()), first, h),
            }
        }
        p.finish()?;
        out.push(match b {
            Some(b) => {
                let t = b.target.clone();
                b.finish()?;
                Some(t)
            }
            None => None,
        });
    }
    Ok(out)
}

/// SAFETY: `g` must address `p.len()` elements; `b`, when given, has `p.len()` elements.
unsafe fn sgd_kernel<T: Real>(p: &mut [T], g: *const T, b: Option<&mut [T]>, first: bool, h: &Sgd) {
    let c = SgdConsts {
        lr: T::c(-h.lr),
        wd: T::c(h.weight_decay),
        mom: T::c(h.momentum),
        damp: T::c(1.0 - h.dampening),
        use_wd: h.weight_decay != 0.0,
        maximize: h.maximize,
        nesterov: h.nesterov,
    };
    let (pp, gp) = (P::of(p), P(g as *mut T));
    let bp = b.map(P::of);
    for_ranges(p.len(), |r| {
        // SAFETY: every buffer holds p.len() elements; tasks get disjoint ranges, so the
        // slices rebuilt here never alias each other or another task's.
        unsafe {
            let (ps, gs) = (pp.slice(&r), gp.slice(&r));
            match bp {
                None => sgd_chunk::<T, false, false>(ps, gs, &mut [], &c),
                Some(bp) if first => sgd_chunk::<T, true, true>(ps, gs, bp.slice(&r), &c),
                Some(bp) => sgd_chunk::<T, true, false>(ps, gs, bp.slice(&r), &c),
            }
        }
    });
}

struct SgdConsts<T> {
    lr: T,
    wd: T,
    mom: T,
    damp: T,
    use_wd: bool,
    maximize: bool,
    nesterov: bool,
}

crate::multiversion! {
    /// One range of the SGD update. Slices (noalias) and compile-time momentum flags let the
    /// loop vectorise; the remaining flags are loop-invariant selects. (Raw pointers per
    /// element were 7x slower: the compiler could not prove the buffers disjoint.)
    fn sgd_chunk [T: Real, const MOM: bool, const FIRST: bool] [T, MOM, FIRST] (p: &mut [T], g: &[T], b: &mut [T], c: &SgdConsts<T>) {
        let n = p.len();
        let (g, b) = (&g[..n], if MOM { &mut b[..n] } else { b });
        for i in 0..n {
            let x = p[i];
            let mut d = if c.maximize { -g[i] } else { g[i] };
            if c.use_wd {
                d = d + c.wd * x;
            }
            if MOM {
                let buf = if FIRST { d } else { b[i] * c.mom + c.damp * d };
                b[i] = buf;
                d = if c.nesterov { d + c.mom * buf } else { buf };
            }
            p[i] = x + c.lr * d;
        }
    }
}

/// Add 1 to each per-parameter step counter (0-d float tensors, as PyTorch keeps them in
/// `state["step"]`) in place and return the new counts, so that the step bookkeeping runs
/// inside the same fused call as the update.
pub fn bump_steps(steps: &[Tensor]) -> Result<Vec<u64>> {
    let mut out = Vec::with_capacity(steps.len());
    for (i, t) in steps.iter().enumerate() {
        if t.numel() != 1 {
            bail!(Runtime, "step counter {} must have one element, got shape {}", i, crate::shape::fmt_shape(&t.shape()));
        }
        let next = t.item()?.to_f64() + 1.0;
        let _g = crate::autograd::NoGradGuard::new();
        t.detach().fill_(crate::dtype::Scalar::Float(next))?;
        out.push(next as u64);
    }
    Ok(out)
}

/// Adam/AdamW step over a group; every state tensor is updated in place. `steps[i]` is
/// parameter i's step count after this step's increment (>= 1).
#[allow(clippy::too_many_arguments)]
pub fn adam_step(
    params: &[Tensor],
    grads: &[Tensor],
    exp_avgs: &[Tensor],
    exp_avg_sqs: &[Tensor],
    max_exp_avg_sqs: &[Tensor],
    steps: &[u64],
    h: &Adam,
) -> Result<()> {
    let n = params.len();
    check_len("gradients", n, grads.len())?;
    check_len("exp_avgs", n, exp_avgs.len())?;
    check_len("exp_avg_sqs", n, exp_avg_sqs.len())?;
    check_len("steps", n, steps.len())?;
    if h.amsgrad {
        check_len("max_exp_avg_sqs", n, max_exp_avg_sqs.len())?;
    }
    for i in 0..n {
        check_float("parameter", &params[i])?;
        check_pair(i, "gradient", &params[i], &grads[i])?;
        check_pair(i, "exp_avg", &params[i], &exp_avgs[i])?;
        check_pair(i, "exp_avg_sq", &params[i], &exp_avg_sqs[i])?;
        if h.amsgrad {
            check_pair(i, "max_exp_avg_sq", &params[i], &max_exp_avg_sqs[i])?;
        }
        if steps[i] == 0 {
            bail!(Value, "step counts must be >= 1 (incremented before the update), got 0 for parameter {}", i);
        }
    }
    for i in 0..n {
        let vm = if h.amsgrad { Some(&max_exp_avg_sqs[i]) } else { None };
        if adam_cuda(&params[i], &grads[i], &exp_avgs[i], &exp_avg_sqs[i], vm, steps[i], h)? {
            continue;
        }
        let p = Work::new(&params[i])?;
        let dt = p.buf.dtype();
        let g = grad_buf(&grads[i], dt, crate::Device::Cpu)?;
        let m = Work::new(&exp_avgs[i])?;
        let v = Work::new(&exp_avg_sqs[i])?;
        let vmax = if h.amsgrad { Some(Work::new(&max_exp_avg_sqs[i])?) } else { None };
        // Every buffer is re-read in p's compute type; a state of another dtype than
        // the param goes through a copy of dtype p.buf's (Work picks f32/f64 by source).
        if m.buf.dtype() != dt || v.buf.dtype() != dt || vmax.as_ref().is_some_and(|w| w.buf.dtype() != dt) {
            bail!(Runtime, "optimizer state dtype must match the parameter's ({}) for parameter {}", params[i].dtype(), i);
        }
        // SAFETY: distinct contiguous buffers of dtype dt, all of the param's length.
        unsafe {
            match dt {
                DType::F64 => adam_kernel::<f64>(p.slice(), g.data().ptr::<f64>(), m.slice(), v.slice(), vmax.as_ref().map(|w| w.slice()), steps[i], h),
                _ => adam_kernel::<f32>(p.slice(), g.data().ptr::<f32>(), m.slice(), v.slice(), vmax.as_ref().map(|w| w.slice()), steps[i], h),
            }
        }
        p.finish()?;
        m.finish()?;
        v.finish()?;
        if let Some(w) = vmax {
            w.finish()?;
        }
    }
    Ok(())
}

/// Adam's per-step constants in f64, derived once for both devices: the CPU loop rounds
/// each to its dtype, the CUDA kernel receives them as they are and rounds the same way.
fn adam_consts(h: &Adam, step: u64) -> crate::cuda::kernels::AdamConsts {
    let bc1 = 1.0 - h.beta1.powi(step as i32);
    let bc2 = 1.0 - h.beta2.powi(step as i32);
    let w1 = 1.0 - h.beta1;
    crate::cuda::kernels::AdamConsts {
        neg_step_size: -(h.lr / bc1),
        bc2_sqrt: bc2.sqrt(),
        eps: h.eps,
        w1,
        one_minus_w1: 1.0 - w1,
        beta2: h.beta2,
        one_minus_beta2: 1.0 - h.beta2,
        decay: 1.0 - h.lr * h.weight_decay,
        weight_decay: h.weight_decay,
        amsgrad: h.amsgrad,
        maximize: h.maximize,
        decoupled: h.decoupled_weight_decay,
    }
}

/// Whether the fused CUDA kernels (cuda/optim.cu) can update `t` in place: a contiguous
/// f32/f64 CUDA tensor of the parameter's dtype. Anything else takes the host path.
fn cuda_direct(t: &Tensor, dt: DType) -> bool {
    t.device().is_cuda() && t.is_contiguous() && t.dtype() == dt
}

/// SGD on the device: Some(momentum buffer after the step) when done, None when the
/// parameter is not one the kernel takes.
fn sgd_cuda(p: &Tensor, g: &Tensor, buf: &Option<Tensor>, h: &Sgd) -> Result<Option<Option<Tensor>>> {
    let dt = p.dtype();
    if !matches!(dt, DType::F32 | DType::F64) || !cuda_direct(p, dt) || buf.as_ref().is_some_and(|b| !cuda_direct(b, dt)) {
        return Ok(None);
    }
    let g = grad_buf(g, dt, p.device())?;
    let first = buf.is_none();
    let b = match (buf, h.momentum != 0.0) {
        (_, false) => None,
        (Some(b), true) => Some(b.clone()),
        (None, true) => Some(Tensor::empty_on(&p.shape(), dt, p.device())?),
    };
    let bd = b.as_ref().map(|b| b.data().clone());
    crate::cuda::kernels::sgd(&p.data(), &g.data(), bd.as_ref(), -h.lr, h.weight_decay, h.momentum, 1.0 - h.dampening, h.nesterov, h.maximize, first)?;
    p.storage().bump_version();
    if let Some(b) = &b {
        b.storage().bump_version();
    }
    Ok(Some(b))
}

/// Adam on the device; false when the parameter is not one the kernel takes. The
/// constants are the CPU loop's (`adam_kernel`), so both devices compute the same update.
fn adam_cuda(p: &Tensor, g: &Tensor, m: &Tensor, v: &Tensor, vmax: Option<&Tensor>, step: u64, h: &Adam) -> Result<bool> {
    let dt = p.dtype();
    let direct = matches!(dt, DType::F32 | DType::F64)
        && cuda_direct(p, dt)
        && cuda_direct(m, dt)
        && cuda_direct(v, dt)
        && vmax.is_none_or(|x| cuda_direct(x, dt));
    if !direct {
        return Ok(false);
    }
    let g = grad_buf(g, dt, p.device())?;
    let c = adam_consts(h, step);
    let xd = vmax.map(|x| x.data().clone());
    crate::cuda::kernels::adam(&p.data(), &g.data(), &m.data(), &v.data(), xd.as_ref(), &c)?;
    for t in [Some(p), Some(m), Some(v), vmax].into_iter().flatten() {
        t.storage().bump_version();
    }
    Ok(true)
}

/// SAFETY: `g` must address `p.len()` elements; the state slices have `p.len()` elements.
unsafe fn adam_kernel<T: Real>(p: &mut [T], g: *const T, m: &mut [T], v: &mut [T], vmax: Option<&mut [T]>, step: u64, h: &Adam) {
    let k = adam_consts(h, step);
    let c = AdamConsts {
        neg_step_size: T::c(k.neg_step_size),
        bc2_sqrt: T::c(k.bc2_sqrt),
        eps: T::c(k.eps),
        // lerp as PyTorch computes it: weight < 0.5 ? a + w (b - a) : b - (b - a)(1 - w).
        lerp_lo: k.w1 < 0.5,
        w: T::c(k.w1),
        wc: T::c(k.one_minus_w1),
        b2: T::c(k.beta2),
        one_minus_b2: T::c(k.one_minus_beta2),
        decay: T::c(k.decay),
        wd: T::c(k.weight_decay),
        maximize: h.maximize,
    };
    let l2 = !h.decoupled_weight_decay && h.weight_decay != 0.0;
    let dec = h.decoupled_weight_decay;
    let (pp, gp, mp, vp) = (P::of(p), P(g as *mut T), P::of(m), P::of(v));
    let xp = vmax.map(P::of);
    for_ranges(p.len(), |r| {
        // SAFETY: as in sgd_kernel: equal-length buffers, disjoint ranges per task.
        unsafe {
            let (ps, gs, ms, vs) = (pp.slice(&r), gp.slice(&r), mp.slice(&r), vp.slice(&r));
            // The scalar update source, compiled for this CPU's widest vectors (the wheel
            // targets baseline x86-64, where sqrt/div run 4 wide): 3x faster on AVX-512.
            match (xp, dec, l2) {
                (None, false, false) => adam_chunk::<T, false, false, false>(ps, gs, ms, vs, &mut [], &c),
                (None, true, _) => adam_chunk::<T, false, true, false>(ps, gs, ms, vs, &mut [], &c),
                (None, false, true) => adam_chunk::<T, false, false, true>(ps, gs, ms, vs, &mut [], &c),
                (Some(x), false, false) => adam_chunk::<T, true, false, false>(ps, gs, ms, vs, x.slice(&r), &c),
                (Some(x), true, _) => adam_chunk::<T, true, true, false>(ps, gs, ms, vs, x.slice(&r), &c),
                (Some(x), false, true) => adam_chunk::<T, true, false, true>(ps, gs, ms, vs, x.slice(&r), &c),
            }
        }
    });
}

struct AdamConsts<T> {
    neg_step_size: T,
    bc2_sqrt: T,
    eps: T,
    lerp_lo: bool,
    w: T,
    wc: T,
    b2: T,
    one_minus_b2: T,
    decay: T,
    wd: T,
    maximize: bool,
}

crate::multiversion! {
    /// One range of the Adam update (see `sgd_chunk` for why slices + const flags).
    fn adam_chunk [T: Real, const AMS: bool, const DECOUPLED: bool, const L2: bool] [T, AMS, DECOUPLED, L2] (
        p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], vmax: &mut [T], c: &AdamConsts<T>,
    ) {
        let n = p.len();
        let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
        let vmax = if AMS { &mut vmax[..n] } else { vmax };
        for i in 0..n {
            let mut x = p[i];
            let mut gr = if c.maximize { -g[i] } else { g[i] };
            if DECOUPLED {
                x = x * c.decay;
            }
            if L2 {
                gr = gr + c.wd * x;
            }
            let m0 = m[i];
            let m1 = if c.lerp_lo { m0 + c.w * (gr - m0) } else { gr - (gr - m0) * c.wc };
            m[i] = m1;
            let v1 = v[i] * c.b2 + c.one_minus_b2 * gr * gr;
            v[i] = v1;
            let vv = if AMS {
                let old = vmax[i];
                // NaN propagates as torch.maximum does.
                let mx = if v1 > old || crate::cpu::math::is_nan(v1) { v1 } else { old };
                vmax[i] = mx;
                mx
            } else {
                v1
            };
            let denom = vv.sqrt() / c.bc2_sqrt + c.eps;
            p[i] = x + c.neg_step_size * (m1 / denom);
        }
    }
}
