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
    fn abs(self) -> Self;
}
impl Real for f32 {
    fn c(v: f64) -> Self {
        v as f32
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn abs(self) -> Self {
        f32::abs(self)
    }
}
impl Real for f64 {
    fn c(v: f64) -> Self {
        v
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
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

// ================================================================ the other optimizers
//
// RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and SparseAdam share one
// driver (`elementwise_step`): per parameter, the step-dependent constants are derived in
// f64 from the algorithm's hyper-parameters and its 0-d scalar state (`step`, NAdam's
// `mu_product`, ASGD's `eta` / `mu`), exactly as PyTorch's Python code computes them (that
// part is host arithmetic in PyTorch too); then one elementwise loop updates the parameter
// and up to three state tensors in place. The constants go to the CPU loop (rounded to the
// parameter's dtype once, as PyTorch's scalar arguments are) and, unchanged, to the CUDA
// kernel of the same name in cuda/optim.cu, which does the same ops in the same order.
// Rejected: one Rust entry point and struct per optimizer (as SGD/Adam have): nine copies
// of the same checks, buffer handling and launcher for loops of 5-10 lines each.

/// The algorithm and hyper-parameters of one `elementwise_step` call.
#[derive(Clone, Copy, Debug)]
pub enum Algo {
    RmsProp { lr: f64, alpha: f64, eps: f64, weight_decay: f64, momentum: f64, centered: bool, maximize: bool },
    Adagrad { lr: f64, lr_decay: f64, weight_decay: f64, eps: f64, maximize: bool },
    Adadelta { lr: f64, rho: f64, eps: f64, weight_decay: f64, maximize: bool },
    Adamax { lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, maximize: bool },
    NAdam { lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, momentum_decay: f64, decoupled_weight_decay: bool, maximize: bool },
    RAdam { lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, decoupled_weight_decay: bool, maximize: bool },
    Asgd { lr: f64, lambd: f64, alpha: f64, t0: f64, weight_decay: f64, maximize: bool },
    Rprop { etaminus: f64, etaplus: f64, step_size_min: f64, step_size_max: f64, maximize: bool },
    /// Dense gradients stand for sparse ones holding their nonzero entries (see README).
    SparseAdam { lr: f64, beta1: f64, beta2: f64, eps: f64, maximize: bool },
}

/// Flag bits of `OptConsts::flags` (the same in cuda/optim.cu).
pub const F_MAXIMIZE: i32 = 1;
pub const F_WD: i32 = 2;
/// RMSprop: centered; NAdam/RAdam: decoupled weight decay; ASGD: mu != 1; RAdam: rectified.
pub const F_A: i32 = 4;
/// RMSprop: momentum > 0; RAdam: rho_t > 5 (rectified step).
pub const F_B: i32 = 8;

impl Algo {
    /// PyTorch's name, which is also the CUDA kernel's stem (`ft_<name>_<dt>`).
    pub fn name(&self) -> &'static str {
        match self {
            Algo::RmsProp { .. } => "rmsprop",
            Algo::Adagrad { .. } => "adagrad",
            Algo::Adadelta { .. } => "adadelta",
            Algo::Adamax { .. } => "adamax",
            Algo::NAdam { .. } => "nadam",
            Algo::RAdam { .. } => "radam",
            Algo::Asgd { .. } => "asgd",
            Algo::Rprop { .. } => "rprop",
            Algo::SparseAdam { .. } => "sparse_adam",
        }
    }
    /// Names of the per-parameter state tensors, in slot order (for messages).
    fn slots(&self) -> &'static [&'static str] {
        match self {
            Algo::RmsProp { .. } => &["square_avg", "momentum_buffer", "grad_avg"],
            Algo::Adagrad { .. } => &["sum"],
            Algo::Adadelta { .. } => &["square_avg", "acc_delta"],
            Algo::Adamax { .. } => &["exp_avg", "exp_inf"],
            Algo::NAdam { .. } | Algo::RAdam { .. } | Algo::SparseAdam { .. } => &["exp_avg", "exp_avg_sq"],
            Algo::Asgd { .. } => &["ax"],
            Algo::Rprop { .. } => &["prev", "step_size"],
        }
    }
    /// Which slots this configuration uses.
    fn used(&self, slot: usize) -> bool {
        match *self {
            Algo::RmsProp { momentum, centered, .. } => slot == 0 || (slot == 1 && momentum > 0.0) || (slot == 2 && centered),
            _ => slot < self.slots().len(),
        }
    }
    /// Names of the 0-d scalar state tensors besides `step`.
    fn scalars(&self) -> &'static [&'static str] {
        match self {
            Algo::NAdam { .. } => &["mu_product"],
            Algo::Asgd { .. } => &["eta", "mu"],
            _ => &[],
        }
    }
    fn maximize(&self) -> bool {
        match *self {
            Algo::RmsProp { maximize, .. }
            | Algo::Adagrad { maximize, .. }
            | Algo::Adadelta { maximize, .. }
            | Algo::Adamax { maximize, .. }
            | Algo::NAdam { maximize, .. }
            | Algo::RAdam { maximize, .. }
            | Algo::Asgd { maximize, .. }
            | Algo::Rprop { maximize, .. }
            | Algo::SparseAdam { maximize, .. } => maximize,
        }
    }
}

/// A 0-d state tensor's value, and its replacement rounded to the tensor's dtype (as
/// `tensor.copy_(torch.as_tensor(v))` / `tensor *= v` store it).
fn scalar_get(t: &Tensor) -> Result<f64> {
    Ok(t.item()?.to_f64())
}
fn scalar_set(t: &Tensor, v: f64) -> Result<f64> {
    let _g = crate::autograd::NoGradGuard::new();
    t.detach().fill_(crate::dtype::Scalar::Float(v))?;
    scalar_get(t)
}
/// `v` as a tensor of `t`'s dtype holds it (f32 rounding for float32 scalar state).
fn round_as(t: &Tensor, v: f64) -> f64 {
    if t.dtype() == DType::F64 {
        v
    } else {
        v as f32 as f64
    }
}

/// One parameter's constants for the elementwise loop (f64, rounded by the loop's dtype).
pub type OptConsts = ([f64; 10], i32);

/// The step constants of parameter i, `step` being its count after this step's increment;
/// updates the scalar state (`scalars[k]` = the k-th of `Algo::scalars`) as PyTorch does.
fn prepare(a: &Algo, step: f64, scalars: &[&Tensor]) -> Result<OptConsts> {
    let mut c = [0.0; 10];
    let mut f = if a.maximize() { F_MAXIMIZE } else { 0 };
    let wd_flag = |wd: f64| if wd != 0.0 { F_WD } else { 0 };
    match *a {
        Algo::RmsProp { lr, alpha, eps, weight_decay, momentum, centered, .. } => {
            // c: -lr, wd, alpha, 1 - alpha (addcmul value and lerp weight), eps, momentum
            c[..6].copy_from_slice(&[-lr, weight_decay, alpha, 1.0 - alpha, eps, momentum]);
            f |= wd_flag(weight_decay) | if centered { F_A } else { 0 } | if momentum > 0.0 { F_B } else { 0 };
        }
        Algo::Adagrad { lr, lr_decay, weight_decay, eps, .. } => {
            let clr = lr / (1.0 + (step - 1.0) * lr_decay);
            c[..3].copy_from_slice(&[-clr, weight_decay, eps]);
            f |= wd_flag(weight_decay);
        }
        Algo::Adadelta { lr, rho, eps, weight_decay, .. } => {
            c[..5].copy_from_slice(&[-lr, weight_decay, rho, 1.0 - rho, eps]);
            f |= wd_flag(weight_decay);
        }
        Algo::Adamax { lr, beta1, beta2, eps, weight_decay, .. } => {
            let clr = lr / (1.0 - beta1.powf(step));
            c[..5].copy_from_slice(&[-clr, weight_decay, 1.0 - beta1, beta2, eps]);
            f |= wd_flag(weight_decay);
        }
        Algo::NAdam { lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay, .. } => {
            let bc2 = 1.0 - beta2.powf(step);
            let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(step * momentum_decay));
            let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((step + 1.0) * momentum_decay));
            // `mu_product *= mu` on the 0-d tensor: the product in its dtype.
            let mp_t = scalars[0];
            let mp = round_as(mp_t, round_as(mp_t, scalar_get(mp_t)?) * round_as(mp_t, mu));
            let mp = scalar_set(mp_t, mp)?;
            let mp_next = mp * mu_next;
            let cg = -lr * (1.0 - mu) / (1.0 - mp);
            let cm = (-lr * mu_next) / (1.0 - mp_next);
            c[..9].copy_from_slice(&[cg, cm, weight_decay, 1.0 - lr * weight_decay, 1.0 - beta1, beta2, 1.0 - beta2, bc2, eps]);
            f |= wd_flag(weight_decay) | if decoupled_weight_decay { F_A } else { 0 };
        }
        Algo::RAdam { lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, .. } => {
            let bc1 = 1.0 - beta1.powf(step);
            let bc2 = 1.0 - beta2.powf(step);
            let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
            let rho_t = rho_inf - 2.0 * step * beta2.powf(step) / bc2;
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).powf(0.5);
            c.copy_from_slice(&[weight_decay, 1.0 - lr * weight_decay, 1.0 - beta1, beta2, 1.0 - beta2, bc1, lr, bc2.powf(0.5), eps, rect]);
            f |= wd_flag(weight_decay) | if decoupled_weight_decay { F_A } else { 0 } | if rho_t > 5.0 { F_B } else { 0 };
        }
        Algo::Asgd { lr, lambd, alpha, t0, weight_decay, .. } => {
            let (eta_t, mu_t) = (scalars[0], scalars[1]);
            let eta = scalar_get(eta_t)?;
            let mu = scalar_get(mu_t)?;
            c[..4].copy_from_slice(&[1.0 - lambd * eta, -eta, weight_decay, mu]);
            f |= wd_flag(weight_decay) | if mu != 1.0 { F_A } else { 0 };
            // `eta.copy_(torch.as_tensor(v))`: v becomes a tensor of the default dtype first.
            let as_tensor = |v: f64| if crate::dtype::default_dtype() == DType::F64 { v } else { v as f32 as f64 };
            scalar_set(eta_t, as_tensor(lr / (1.0 + lambd * lr * step).powf(alpha)))?;
            scalar_set(mu_t, as_tensor(1.0 / f64::max(1.0, step - t0)))?;
        }
        Algo::Rprop { etaminus, etaplus, step_size_min, step_size_max, .. } => {
            c[..4].copy_from_slice(&[etaminus, etaplus, step_size_min, step_size_max]);
        }
        Algo::SparseAdam { lr, beta1, beta2, eps, .. } => {
            let bc1 = 1.0 - beta1.powf(step);
            let bc2 = 1.0 - beta2.powf(step);
            let step_size = lr * bc2.sqrt() / bc1;
            c[..4].copy_from_slice(&[-step_size, 1.0 - beta1, 1.0 - beta2, eps]);
        }
    }
    Ok((c, f))
}

/// One step of `algo` over a group, every tensor updated in place.
/// `states[k][i]`: parameter i's k-th state tensor (`Algo::slots` order; an unused slot's
/// list may be empty). `steps[i]`: parameter i's step count after its increment (>= 1).
/// `scalars[k][i]`: parameter i's k-th 0-d scalar state (`Algo::scalars`), updated here.
pub fn elementwise_step(algo: &Algo, params: &[Tensor], grads: &[Tensor], states: &[Vec<Tensor>], steps: &[f64], scalars: &[Vec<Tensor>]) -> Result<()> {
    let n = params.len();
    let slots = algo.slots();
    check_len("gradients", n, grads.len())?;
    check_len("steps", n, steps.len())?;
    if states.len() != slots.len() {
        bail!(Value, "{} takes {} state lists ({}), got {}", algo.name(), slots.len(), slots.join(", "), states.len());
    }
    if scalars.len() != algo.scalars().len() {
        bail!(Value, "{} takes {} scalar state lists, got {}", algo.name(), algo.scalars().len(), scalars.len());
    }
    for (k, name) in slots.iter().enumerate() {
        if algo.used(k) {
            check_len(name, n, states[k].len())?;
        }
    }
    for (k, name) in algo.scalars().iter().enumerate() {
        check_len(name, n, scalars[k].len())?;
        for (i, t) in scalars[k].iter().enumerate() {
            if t.numel() != 1 || !t.dtype().is_float() {
                bail!(Runtime, "{} {} must be a one-element floating point tensor", name, i);
            }
        }
    }
    for i in 0..n {
        check_float("parameter", &params[i])?;
        check_pair(i, "gradient", &params[i], &grads[i])?;
        for (k, name) in slots.iter().enumerate() {
            if algo.used(k) {
                check_pair(i, name, &params[i], &states[k][i])?;
            }
        }
        if steps[i] < 1.0 {
            bail!(Value, "step counts must be >= 1 (incremented before the update), got {} for parameter {}", steps[i], i);
        }
    }
    for i in 0..n {
        let sc: Vec<&Tensor> = scalars.iter().map(|l| &l[i]).collect();
        let k = prepare(algo, steps[i], &sc)?;
        let st: Vec<Option<&Tensor>> = (0..3).map(|s| if s < slots.len() && algo.used(s) { Some(&states[s][i]) } else { None }).collect();
        if elementwise_cuda(algo, &params[i], &grads[i], &st, &k)? {
            continue;
        }
        let p = Work::new(&params[i])?;
        let dt = p.buf.dtype();
        let g = grad_buf(&grads[i], dt, crate::Device::Cpu)?;
        let ws: Vec<Option<Work>> = st.iter().map(|t| t.map(Work::new).transpose()).collect::<Result<_>>()?;
        if ws.iter().flatten().any(|w| w.buf.dtype() != dt) {
            bail!(Runtime, "optimizer state dtype must match the parameter's ({}) for parameter {}", params[i].dtype(), i);
        }
        // SAFETY: distinct contiguous buffers of dtype dt, all of the param's length.
        unsafe {
            match dt {
                DType::F64 => elementwise_kernel::<f64>(algo, p.slice(), g.data().ptr::<f64>(), [0, 1, 2].map(|s| ws[s].as_ref().map(|w| w.slice())), &k),
                _ => elementwise_kernel::<f32>(algo, p.slice(), g.data().ptr::<f32>(), [0, 1, 2].map(|s| ws[s].as_ref().map(|w| w.slice())), &k),
            }
        }
        p.finish()?;
        for w in ws.into_iter().flatten() {
            w.finish()?;
        }
    }
    Ok(())
}

/// The CUDA path of `elementwise_step` for one parameter; false when it is not one the
/// kernel takes (then the host loop runs on a copy).
fn elementwise_cuda(algo: &Algo, p: &Tensor, g: &Tensor, st: &[Option<&Tensor>], k: &OptConsts) -> Result<bool> {
    let dt = p.dtype();
    if !matches!(dt, DType::F32 | DType::F64) || !cuda_direct(p, dt) || st.iter().flatten().any(|t| !cuda_direct(t, dt)) {
        return Ok(false);
    }
    let g = grad_buf(g, dt, p.device())?;
    let sd: Vec<Option<crate::storage::TensorData>> = st.iter().map(|t| t.map(|t| t.data().clone())).collect();
    crate::cuda::kernels::optim_elementwise(algo.name(), &p.data(), &g.data(), [sd[0].as_ref(), sd[1].as_ref(), sd[2].as_ref()], &k.0, k.1)?;
    p.storage().bump_version();
    for t in st.iter().flatten() {
        t.storage().bump_version();
    }
    Ok(true)
}

/// SAFETY: `g` must address `p.len()` elements; each present state slice has `p.len()`.
unsafe fn elementwise_kernel<T: Real>(algo: &Algo, p: &mut [T], g: *const T, s: [Option<&mut [T]>; 3], k: &OptConsts) {
    let c: [T; 10] = k.0.map(T::c);
    let f = k.1;
    let (pp, gp) = (P::of(p), P(g as *mut T));
    let sp = s.map(|x| x.map(P::of));
    for_ranges(p.len(), |r| {
        // SAFETY: as in sgd_kernel: equal-length buffers, disjoint ranges per task.
        unsafe {
            let (p, g) = (pp.slice(&r), gp.slice(&r) as &[T]);
            let [s0, s1, s2] = sp.map(|x| match x {
                Some(x) => x.slice(&r),
                None => &mut [][..],
            });
            match algo {
                Algo::RmsProp { .. } => rmsprop_chunk(p, g, s0, s1, s2, &c, f),
                Algo::Adagrad { .. } => adagrad_chunk(p, g, s0, &c, f),
                Algo::Adadelta { .. } => adadelta_chunk(p, g, s0, s1, &c, f),
                Algo::Adamax { .. } => adamax_chunk(p, g, s0, s1, &c, f),
                Algo::NAdam { .. } => nadam_chunk(p, g, s0, s1, &c, f),
                Algo::RAdam { .. } => radam_chunk(p, g, s0, s1, &c, f),
                Algo::Asgd { .. } => asgd_chunk(p, g, s0, &c, f),
                Algo::Rprop { .. } => rprop_chunk(p, g, s0, s1, &c, f),
                Algo::SparseAdam { .. } => sparse_adam_chunk(p, g, s0, s1, &c, f),
            }
        }
    });
}

// The loops below are PyTorch's single-tensor algorithms (torch/optim/<name>.py) op for op:
// `a.addcmul_(x, y, value=v)` is a + v * x * y, `addcdiv_` a + v * (x / y), `add(b, alpha)`
// a + alpha * b, and `lerp` PyTorch's two-sided form. cuda/optim.cu repeats each loop.

#[inline(always)]
fn lerp<T: Real>(a: T, b: T, w: T, lo: bool) -> T {
    if lo {
        a + w * (b - a)
    } else {
        b - (b - a) * (T::c(1.0) - w)
    }
}

#[inline(always)]
fn grad_in<T: Real>(g: T, x: T, wd: T, f: i32) -> T {
    let g = if f & F_MAXIMIZE != 0 { -g } else { g };
    if f & F_WD != 0 {
        g + wd * x
    } else {
        g
    }
}

/// torch.maximum: NaN if either is NaN.
#[inline(always)]
fn nan_max<T: Real>(a: T, b: T) -> T {
    if crate::cpu::math::is_nan(a) {
        a
    } else if crate::cpu::math::is_nan(b) || b > a {
        b
    } else {
        a
    }
}

fn rmsprop_chunk<T: Real>(p: &mut [T], g: &[T], sq: &mut [T], buf: &mut [T], ga: &mut [T], c: &[T; 10], f: i32) {
    let [lr, wd, alpha, w, eps, mom, ..] = *c;
    let lo = c[3] < T::c(0.5);
    let n = p.len();
    let (g, sq) = (&g[..n], &mut sq[..n]);
    for i in 0..n {
        let gr = grad_in(g[i], p[i], wd, f);
        let s = sq[i] * alpha + w * gr * gr;
        sq[i] = s;
        let avg = if f & F_A != 0 {
            let a = lerp(ga[i], gr, w, lo);
            ga[i] = a;
            (s + -a * a).sqrt()
        } else {
            s.sqrt()
        } + eps;
        p[i] = if f & F_B != 0 {
            let b = buf[i] * mom + gr / avg;
            buf[i] = b;
            p[i] + lr * b
        } else {
            p[i] + lr * (gr / avg)
        };
    }
}

fn adagrad_chunk<T: Real>(p: &mut [T], g: &[T], sum: &mut [T], c: &[T; 10], f: i32) {
    let [clr, wd, eps, ..] = *c;
    let n = p.len();
    let (g, sum) = (&g[..n], &mut sum[..n]);
    for i in 0..n {
        let gr = grad_in(g[i], p[i], wd, f);
        let s = sum[i] + gr * gr;
        sum[i] = s;
        p[i] = p[i] + clr * (gr / (s.sqrt() + eps));
    }
}

fn adadelta_chunk<T: Real>(p: &mut [T], g: &[T], sq: &mut [T], acc: &mut [T], c: &[T; 10], f: i32) {
    let [lr, wd, rho, w, eps, ..] = *c;
    let n = p.len();
    let (g, sq, acc) = (&g[..n], &mut sq[..n], &mut acc[..n]);
    for i in 0..n {
        let gr = grad_in(g[i], p[i], wd, f);
        let s = sq[i] * rho + w * gr * gr;
        sq[i] = s;
        let std = (s + eps).sqrt();
        let delta = (acc[i] + eps).sqrt() / std * gr;
        acc[i] = acc[i] * rho + w * delta * delta;
        p[i] = p[i] + lr * delta;
    }
}

fn adamax_chunk<T: Real>(p: &mut [T], g: &[T], m: &mut [T], inf: &mut [T], c: &[T; 10], f: i32) {
    let [clr, wd, w, b2, eps, ..] = *c;
    let lo = w < T::c(0.5);
    let n = p.len();
    let (g, m, inf) = (&g[..n], &mut m[..n], &mut inf[..n]);
    for i in 0..n {
        let gr = grad_in(g[i], p[i], wd, f);
        let m1 = lerp(m[i], gr, w, lo);
        m[i] = m1;
        let e = nan_max(inf[i] * b2, gr.abs() + eps);
        inf[i] = e;
        p[i] = p[i] + clr * (m1 / e);
    }
}

fn nadam_chunk<T: Real>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], c: &[T; 10], f: i32) {
    let [cg, cm, wd, decay, w, b2, omb2, bc2, eps, _] = *c;
    let lo = w < T::c(0.5);
    let (dec, l2) = (f & F_A != 0 && f & F_WD != 0, f & F_A == 0);
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let mut x = p[i];
        if dec {
            x = x * decay;
        }
        let gr = grad_in(g[i], x, wd, if l2 { f } else { f & !F_WD });
        let m1 = lerp(m[i], gr, w, lo);
        m[i] = m1;
        let v1 = v[i] * b2 + omb2 * gr * gr;
        v[i] = v1;
        let denom = (v1 / bc2).sqrt() + eps;
        x = x + cg * (gr / denom);
        p[i] = x + cm * (m1 / denom);
    }
}

fn radam_chunk<T: Real>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], c: &[T; 10], f: i32) {
    let [wd, decay, w, b2, omb2, bc1, lr, bc2s, eps, rect] = *c;
    let lo = w < T::c(0.5);
    let (dec, l2) = (f & F_A != 0 && f & F_WD != 0, f & F_A == 0);
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let mut x = p[i];
        if dec {
            x = x * decay;
        }
        let gr = grad_in(g[i], x, wd, if l2 { f } else { f & !F_WD });
        let m1 = lerp(m[i], gr, w, lo);
        m[i] = m1;
        let v1 = v[i] * b2 + omb2 * gr * gr;
        v[i] = v1;
        let upd = m1 / bc1 * lr;
        let upd = if f & F_B != 0 { upd * (bc2s / (v1.sqrt() + eps)) * rect } else { upd };
        p[i] = x - upd;
    }
}

fn asgd_chunk<T: Real>(p: &mut [T], g: &[T], ax: &mut [T], c: &[T; 10], f: i32) {
    let [decay, neg_eta, wd, mu, ..] = *c;
    let n = p.len();
    let (g, ax) = (&g[..n], &mut ax[..n]);
    for i in 0..n {
        let gr = grad_in(g[i], p[i], wd, f);
        let x = p[i] * decay + neg_eta * gr;
        p[i] = x;
        ax[i] = if f & F_A != 0 { ax[i] + (x - ax[i]) * mu } else { x };
    }
}

fn rprop_chunk<T: Real>(p: &mut [T], g: &[T], prev: &mut [T], ss: &mut [T], c: &[T; 10], f: i32) {
    let [etaminus, etaplus, smin, smax, ..] = *c;
    let (zero, one) = (T::c(0.0), T::c(1.0));
    let n = p.len();
    let (g, prev, ss) = (&g[..n], &mut prev[..n], &mut ss[..n]);
    for i in 0..n {
        let gr = if f & F_MAXIMIZE != 0 { -g[i] } else { g[i] };
        let prod = gr * prev[i];
        // sign(prod) replaced by etaplus / etaminus / 1 (PyTorch's CPU sign(NaN) is 0: factor 1).
        let fac = if prod > zero {
            etaplus
        } else if prod < zero {
            etaminus
        } else {
            one
        };
        // clamp_(min, max) = min(max(s, min), max); NaN propagates.
        let s = ss[i] * fac;
        let s = if s < smin { smin } else { s };
        let s = if s > smax { smax } else { s };
        ss[i] = s;
        let gr = if fac == etaminus { zero } else { gr };
        let sign = if gr > zero {
            one
        } else if gr < zero {
            -one
        } else {
            zero
        };
        p[i] = p[i] + -sign * s;
        prev[i] = gr;
    }
}

fn sparse_adam_chunk<T: Real>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], c: &[T; 10], f: i32) {
    let [neg_step, w1, w2, eps, ..] = *c;
    let zero = T::c(0.0);
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        // Only the gradient's nonzero entries are updated (a sparse gradient's values).
        if g[i] == zero {
            continue;
        }
        let gr = if f & F_MAXIMIZE != 0 { -g[i] } else { g[i] };
        let (m0, v0) = (m[i], v[i]);
        let mu = (gr - m0) * w1;
        m[i] = m0 + mu;
        let vu = (gr * gr - v0) * w2;
        v[i] = v0 + vu;
        let numer = mu + m0;
        let denom = (vu + v0).sqrt() + eps;
        p[i] = p[i] + neg_step * (numer / denom);
    }
}
