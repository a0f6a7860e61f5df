//! The two fused kernels of gradient scaling (`torch.amp.GradScaler`), PyTorch's
//! `_amp_foreach_non_finite_check_and_unscale_` and `_amp_update_scale_`: one call checks
//! and unscales every gradient of a (device, dtype) group, so a training step pays one pass
//! over its gradients and no host synchronisation per tensor.

use crate::cpu::GRAIN;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, err};

fn one_element(t: &Tensor, what: &str) -> Result<()> {
    if t.numel() != 1 {
        bail!(Runtime, "{} must be a 1-element tensor.", what);
    }
    Ok(())
}

/// Multiplies every gradient by `inv_scale` in place and sets `found_inf` (a 1-element
/// float32 tensor) to 1.0 when any element of any gradient is inf or NaN (it is left as it
/// is otherwise, so one flag can collect several groups).
pub fn non_finite_check_and_unscale_(grads: &[Tensor], found_inf: &Tensor, inv_scale: &Tensor) -> Result<()> {
    one_element(found_inf, "found_inf")?;
    if found_inf.dtype() != DType::F32 {
        bail!(Runtime, "found_inf must be a float tensor.");
    }
    one_element(inv_scale, "inv_scale")?;
    if inv_scale.dtype() != DType::F32 {
        bail!(Runtime, "inv_scale must be a float tensor.");
    }
    for g in grads {
        if !g.dtype().is_float() {
            return Err(crate::ops::not_implemented(
                &format!("_amp_foreach_non_finite_check_and_unscale_{}", g.device().type_name()),
                g.dtype(),
            ));
        }
        if g.device() != found_inf.device() || g.device() != inv_scale.device() {
            bail!(
                Runtime,
                "Expected all tensors to be on the same device, but found at least two devices, {} and {}!",
                g.device(),
                found_inf.device()
            );
        }
    }
    let _ng = crate::autograd::NoGradGuard::new();
    if found_inf.device().is_cuda() {
        return unscale_cuda(grads, found_inf, inv_scale);
    }
    let inv = inv_scale.item()?.to_f64();
    let mut found = false;
    for g in grads {
        if g.numel() == 0 {
            continue;
        }
        let (direct, buf) = staged(g)?;
        let n = buf.numel();
        {
            let d = buf.data();
            // SAFETY: buf is a contiguous buffer of n elements of the matched dtype, and no
            // other reference to it is used during the pass.
            found |= unsafe {
                match buf.dtype() {
                    DType::F64 => unscale_all::<f64>(std::slice::from_raw_parts_mut(d.ptr::<f64>(), n), inv),
                    _ => unscale_all::<f32>(std::slice::from_raw_parts_mut(d.ptr::<f32>(), n), inv),
                }
            };
        }
        write_back(g, direct, &buf)?;
    }
    if found {
        found_inf.detach().fill_(Scalar::Float(1.0))?;
    }
    Ok(())
}

/// The device pass: each gradient through one kernel launch (half types and strided
/// gradients through a contiguous float32 copy, written back).
fn unscale_cuda(grads: &[Tensor], found_inf: &Tensor, inv_scale: &Tensor) -> Result<()> {
    for g in grads {
        let (direct, buf) = staged(g)?;
        crate::cuda::kernels::amp_unscale(&buf.data(), &inv_scale.data(), &found_inf.data())?;
        write_back(g, direct, &buf)?;
    }
    found_inf.storage().bump_version();
    Ok(())
}

/// The buffer a pass works on: the gradient itself when it is contiguous float32/float64
/// (`true`), else a contiguous float32 (float64) copy that `write_back` copies back (half
/// types and strided gradients).
fn staged(g: &Tensor) -> Result<(bool, Tensor)> {
    if g.is_contiguous() && matches!(g.dtype(), DType::F32 | DType::F64) {
        return Ok((true, g.clone()));
    }
    let dt = if g.dtype() == DType::F64 { DType::F64 } else { DType::F32 };
    Ok((false, g.detach().to_dtype(dt)?.contiguous_copy_pub()?))
}

/// After a pass over `staged(g)`'s buffer: bump g's version (written in place) or copy back.
fn write_back(g: &Tensor, direct: bool, buf: &Tensor) -> Result<()> {
    if direct {
        g.storage().bump_version();
        Ok(())
    } else {
        g.detach().copy_(buf)
    }
}

trait Fl: Copy + Send + Sync + std::ops::Mul<Output = Self> {
    fn c(v: f64) -> Self;
    fn finite(self) -> bool;
}
impl Fl for f32 {
    fn c(v: f64) -> Self {
        v as f32
    }
    fn finite(self) -> bool {
        self.is_finite()
    }
}
impl Fl for f64 {
    fn c(v: f64) -> Self {
        v
    }
    fn finite(self) -> bool {
        self.is_finite()
    }
}

/// Raw pointer handed to the parallel ranges; each range touches its own elements.
#[derive(Clone, Copy)]
struct P<T>(*mut T);
// SAFETY: the tasks write disjoint ranges of the buffer behind the pointer.
unsafe impl<T> Send for P<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for P<T> {}
impl<T> P<T> {
    /// SAFETY: `r` must lie inside the buffer and not overlap a range another task uses.
    unsafe fn slice<'a>(self, r: &std::ops::Range<usize>) -> &'a mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(r.start), r.len())
    }
}

/// Whether `s` holds a non-finite value; multiplies it by `inv` (in the element type, as
/// PyTorch's kernel) unless `inv` is 1.
fn unscale_all<T: Fl>(s: &mut [T], inv: f64) -> bool {
    let n = s.len();
    let scale = inv != 1.0;
    let (p, inv) = (P(s.as_mut_ptr()), T::c(inv));
    let run = |r: std::ops::Range<usize>| -> bool {
        // SAFETY: r lies inside the buffer and ranges are disjoint across tasks.
        let c = unsafe { p.slice(&r) };
        unscale_chunk::<T>(c, inv, scale)
    };
    if n >= 2 * GRAIN && crate::cpu::num_threads() > 1 {
        let flags: Vec<std::sync::atomic::AtomicBool> = (0..n.div_ceil(GRAIN)).map(|_| Default::default()).collect();
        crate::cpu::par_for(flags.len(), |c| {
            if run(c * GRAIN..((c + 1) * GRAIN).min(n)) {
                flags[c].store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        flags.iter().any(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    } else {
        run(0..n)
    }
}

crate::multiversion! {
    /// One range: a branch-free non-finite test (`x - x` is NaN exactly for inf and NaN)
    /// folded into an accumulator, and the multiplication, in one vectorisable pass.
    fn unscale_chunk [T: Fl] [T] (s: &mut [T], inv: T, scale: bool) -> bool {
        let mut bad = false;
        if scale {
            for v in s.iter_mut() {
                bad |= !v.finite();
                *v = *v * inv;
            }
        } else {
            for v in s.iter() {
                bad |= !v.finite();
            }
        }
        bad
    }
}

/// PyTorch's `_amp_update_scale_`: after a step with `found_inf` nonzero, multiply `scale`
/// by `backoff_factor` and reset `growth_tracker`; after `growth_interval` consecutive
/// steps without, multiply it by `growth_factor` (when the result is finite) and reset
/// the tracker; else count the step. All three tensors are updated in place.
pub fn update_scale_(
    scale: &Tensor,
    growth_tracker: &Tensor,
    found_inf: &Tensor,
    growth_factor: f64,
    backoff_factor: f64,
    growth_interval: i64,
) -> Result<()> {
    one_element(growth_tracker, "growth_tracker")?;
    one_element(scale, "current_scale")?;
    one_element(found_inf, "found_inf")?;
    if growth_tracker.dtype() != DType::I32 {
        bail!(Runtime, "growth_tracker must be an int tensor.");
    }
    if scale.dtype() != DType::F32 {
        bail!(Runtime, "current_scale must be a float tensor.");
    }
    if found_inf.dtype() != DType::F32 {
        bail!(Runtime, "found_inf must be a float tensor.");
    }
    let _ng = crate::autograd::NoGradGuard::new();
    if scale.device().is_cuda() {
        if growth_tracker.device() != scale.device() || found_inf.device() != scale.device() {
            bail!(Runtime, "Expected all tensors to be on the same device, but found at least two devices, {} and {}!", scale.device(), found_inf.device());
        }
        crate::cuda::kernels::amp_update_scale(&scale.data(), &growth_tracker.data(), &found_inf.data(), growth_factor, backoff_factor, growth_interval)?;
        for t in [scale, growth_tracker] {
            t.storage().bump_version();
        }
        return Ok(());
    }
    let s = scale.item()?.to_f64() as f32;
    let tracker = growth_tracker.item()?.to_i64();
    let inf = found_inf.item()?.to_f64() as f32;
    let (new_s, new_t) = update_rule(s, tracker as i32, inf, growth_factor, backoff_factor, growth_interval);
    scale.detach().fill_(Scalar::Float(new_s as f64))?;
    growth_tracker.detach().fill_(Scalar::Int(new_t as i64)).map_err(|e| err!(Runtime, "{}", e))?;
    Ok(())
}

/// The update on plain numbers, in float32 and int32 as PyTorch's kernel computes it.
pub fn update_rule(scale: f32, tracker: i32, found_inf: f32, growth: f64, backoff: f64, interval: i64) -> (f32, i32) {
    if found_inf != 0.0 {
        (scale * backoff as f32, 0)
    } else {
        let ok = tracker.wrapping_add(1);
        if ok as i64 == interval {
            let grown = scale * growth as f32;
            (if grown.is_finite() { grown } else { scale }, 0)
        } else {
            (scale, ok)
        }
    }
}
