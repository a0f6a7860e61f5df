//! Launchers for the kernels in `cuda/`, on `TensorData` (the CUDA counterpart of `cpu/`).
//! One generic launcher (`go`), grid sizes from cuda/README.md, layouts through
//! `KLayout::new`. Callers (the op drivers in `ops/`) have already checked shapes, dtypes
//! and devices; these functions only check what a launch needs.

use super::{dtype_suffix, launch, Arg, KLayout, Src};
use crate::device::Device;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::shape::Layout;
use crate::storage::TensorData;
use crate::{bail, dispatch};

const BLOCK: u32 = 256;

fn grid_for(work: usize) -> u32 {
    work.div_ceil(BLOCK as usize).clamp(1, 65535 * 8) as u32
}

/// Device ordinal of a CUDA tensor's data.
pub fn ordinal(d: &TensorData) -> Result<usize> {
    match d.storage.device() {
        Device::Cuda(i) => Ok(i),
        Device::Cpu => bail!(Runtime, "internal: a CPU tensor reached a CUDA kernel"),
    }
}

/// Base address of the storage: kernels add the layout's offset themselves.
fn base(d: &TensorData) -> u64 {
    d.storage.ptr() as u64
}

/// Address of the view's first element (for outputs passed without a layout).
fn first(d: &TensorData) -> u64 {
    base(d) + (d.layout.offset * d.dtype.size()) as u64
}

fn go(d: &TensorData, src: Src, dtype: DType, name: &str, grid: u32, args: &[Arg]) -> Result<()> {
    launch(ordinal(d)?, src, dtype, name, grid, BLOCK, args)
}

/// out (contiguous, fresh) = op(x) elementwise; `x` has out's shape and dtype (or, for
/// the predicates, out is bool). Kernel `ft_<op>_<dt(x)>`.
pub fn unary(op: &str, x: &TensorData, out: &TensorData) -> Result<()> {
    let n = out.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_{}_{}", op, dtype_suffix(x.dtype));
    go(out, Src::Elementwise, x.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(x)), Arg::Layout(KLayout::new(&x.layout)?), Arg::Ptr(first(out)), Arg::I64(n as i64),
    ])
}

/// out (contiguous) = op(a, b) with a, b of one dtype, their layouts broadcast to out's
/// shape (`la`, `lb`).
pub fn binary(op: &str, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()> {
    let n = out.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_{}_{}", op, dtype_suffix(a.dtype));
    go(out, Src::Elementwise, a.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(a)), Arg::Layout(KLayout::new(la)?),
        Arg::Ptr(base(b)), Arg::Layout(KLayout::new(lb)?),
        Arg::Ptr(first(out)), Arg::I64(n as i64),
    ])
}

/// out = cond ? a : b (cond bool; a, b of out's dtype; layouts broadcast to out's shape).
#[allow(clippy::too_many_arguments)]
pub fn where_(c: &TensorData, lc: &Layout, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()> {
    let n = out.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_where_{}", dtype_suffix(out.dtype));
    go(out, Src::Elementwise, out.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(c)), Arg::Layout(KLayout::new(lc)?),
        Arg::Ptr(base(a)), Arg::Layout(KLayout::new(la)?),
        Arg::Ptr(base(b)), Arg::Layout(KLayout::new(lb)?),
        Arg::Ptr(first(out)), Arg::I64(n as i64),
    ])
}

/// Copy `src` into `dst` (same shape, any layouts, any dtypes, both on one device).
pub fn cast_copy(src: &TensorData, dst: &TensorData) -> Result<()> {
    let n = dst.layout.numel();
    if n == 0 {
        return Ok(());
    }
    if dst.layout.is_contiguous() {
        let name = format!("ft_cast_{}_{}", dtype_suffix(src.dtype), dtype_suffix(dst.dtype));
        return go(dst, Src::Elementwise, src.dtype, &name, grid_for(n), &[
            Arg::Ptr(base(src)), Arg::Layout(KLayout::new(&src.layout)?), Arg::Ptr(first(dst)), Arg::I64(n as i64),
        ]);
    }
    let src = if src.dtype == dst.dtype {
        src.clone()
    } else {
        // Cast into a contiguous temporary, then scatter it into dst's layout.
        let tmp = TensorData {
            storage: crate::storage::Storage::uninit(dst.storage.device(), n * dst.dtype.size())?,
            layout: Layout::contiguous(&dst.layout.shape),
            dtype: dst.dtype,
        };
        cast_copy(src, &tmp)?;
        tmp
    };
    let name = format!("ft_copy_{}", dtype_suffix(dst.dtype));
    go(dst, Src::Elementwise, dst.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(&src)), Arg::Layout(KLayout::new(&src.layout)?),
        Arg::Ptr(base(dst)), Arg::Layout(KLayout::new(&dst.layout)?), Arg::I64(n as i64),
    ])
}

/// A scalar as the by-value kernel argument of `dtype` (f16/bf16 as their bits).
fn scalar_arg(v: Scalar, dtype: DType) -> Arg {
    dispatch!(dtype, T => {
        let x: T = v.to_elem();
        match dtype {
            DType::Bool | DType::U8 | DType::I8 => {
                // SAFETY: T is one byte wide for these dtypes.
                Arg::U8(unsafe { std::mem::transmute_copy::<T, u8>(&x) })
            }
            DType::I16 | DType::F16 | DType::BF16 => {
                // SAFETY: T is two bytes wide for these dtypes.
                Arg::U16(unsafe { std::mem::transmute_copy::<T, u16>(&x) })
            }
            DType::I32 => Arg::I32(v.to_elem::<i32>()),
            DType::I64 => Arg::I64(v.to_elem::<i64>()),
            DType::F32 => Arg::F32(v.to_elem::<f32>()),
            DType::F64 => Arg::F64(v.to_elem::<f64>()),
        }
    })
}

/// Set every element of `dst` (any layout) to `v`.
pub fn fill(dst: &TensorData, v: Scalar) -> Result<()> {
    let n = dst.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_fill_{}", dtype_suffix(dst.dtype));
    go(dst, Src::Elementwise, dst.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(dst)), Arg::Layout(KLayout::new(&dst.layout)?), scalar_arg(v, dst.dtype), Arg::I64(n as i64),
    ])
}

/// `x` with the dims in `dims` moved last (in order), as the reduction kernels read it:
/// row r, element j is linear index r * inner + j. Returns (layout, outer, inner).
fn rows_layout(x: &Layout, dims: &[usize]) -> (Layout, usize, usize) {
    let keep: Vec<usize> = (0..x.ndim()).filter(|d| !dims.contains(d)).collect();
    let perm: Vec<usize> = keep.iter().copied().chain(dims.iter().copied()).collect();
    let inner: usize = dims.iter().map(|&d| x.shape[d]).product();
    let outer: usize = keep.iter().map(|&d| x.shape[d]).product();
    (x.permute(&perm), outer, inner)
}

/// Reduce `x` over `dims` into `out` (contiguous, `outer` elements in kept-dims order).
/// `op`: sum prod max min argmax argmin mean (var/std are composites in `ops`; their
/// kernels, which take a correction, are not launched).
pub fn reduce(op: &str, x: &TensorData, dims: &[usize], out: &TensorData) -> Result<()> {
    let (l, outer, inner) = rows_layout(&x.layout, dims);
    if outer == 0 {
        return Ok(());
    }
    let name = format!("ft_{}_{}", op, dtype_suffix(x.dtype));
    let grid = if inner <= 512 { outer.div_ceil(8) } else { outer }.clamp(1, 65535) as u32;
    go(out, Src::Reduce, x.dtype, &name, grid, &[
        Arg::Ptr(base(x)), Arg::Layout(KLayout::new(&l)?), Arg::Ptr(first(out)), Arg::I64(outer as i64), Arg::I64(inner as i64),
    ])
}

/// Row-wise ops along `dim` (cumsum, cumprod, softmax, log_softmax): out is contiguous
/// [outer, inner] with `dim` moved last; the caller permutes it back.
pub fn along_dim(op: &str, x: &TensorData, dim: usize, out: &TensorData) -> Result<()> {
    let (l, outer, inner) = rows_layout(&x.layout, &[dim]);
    if outer == 0 || inner == 0 {
        return Ok(());
    }
    let name = format!("ft_{}_{}", op, dtype_suffix(x.dtype));
    let warp_rows = op.ends_with("softmax") && inner <= 512;
    let grid = if warp_rows { outer.div_ceil(8) } else { outer }.clamp(1, 65535) as u32;
    go(out, Src::Reduce, x.dtype, &name, grid, &[
        Arg::Ptr(base(x)), Arg::Layout(KLayout::new(&l)?), Arg::Ptr(first(out)), Arg::I64(outer as i64), Arg::I64(inner as i64),
    ])
}

/// out (contiguous, x's shape with `shape[dim] = nidx`) = x.index_select(dim, idx);
/// `idx` is a contiguous i64 device tensor whose values the caller has bounds-checked.
pub fn index_select(x: &TensorData, dim: usize, idx: &TensorData, out: &TensorData) -> Result<()> {
    let n = out.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_index_select_{}", dtype_suffix(x.dtype));
    go(out, Src::Index, x.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(x)), Arg::Layout(KLayout::raw(&x.layout)?), Arg::Ptr(first(idx)), Arg::I64(idx.layout.numel() as i64),
        Arg::Ptr(first(out)), Arg::I64(n as i64), Arg::I32(dim as i32),
    ])
}

/// out (contiguous, idx's shape) = x.gather(dim, idx); idx values bounds-checked by the caller.
pub fn gather(x: &TensorData, dim: usize, idx: &TensorData, out: &TensorData) -> Result<()> {
    let n = out.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_gather_{}", dtype_suffix(x.dtype));
    go(out, Src::Index, x.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(x)), Arg::Layout(KLayout::raw(&x.layout)?), Arg::Ptr(base(idx)), Arg::Layout(KLayout::raw(&idx.layout)?),
        Arg::Ptr(first(out)), Arg::I64(n as i64), Arg::I32(dim as i32),
    ])
}

/// out[...] = src / += src at idx along `dim` (`add`: scatter_add), in place.
pub fn scatter(out: &TensorData, dim: usize, idx: &TensorData, src: &TensorData, add: bool) -> Result<()> {
    let n = idx.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_{}_{}", if add { "scatter_add" } else { "scatter" }, dtype_suffix(out.dtype));
    go(out, Src::Index, out.dtype, &name, grid_for(n), &[
        Arg::Ptr(base(out)), Arg::Layout(KLayout::raw(&out.layout)?), Arg::Ptr(base(idx)), Arg::Layout(KLayout::raw(&idx.layout)?),
        Arg::Ptr(base(src)), Arg::Layout(KLayout::raw(&src.layout)?), Arg::I64(n as i64), Arg::I32(dim as i32),
    ])
}

// Defined with the seam (the CPU backend draws the same streams); re-exported here.
pub use crate::backend::Draw;

/// Fill `out` (contiguous) from Philox counter blocks `first_block..` of `seed`: the same
/// numbers the CPU `Generator` gives for those blocks (offsets in the kernels count 32-bit
/// words, 4 per block).
pub fn philox(out: &TensorData, draw: Draw, seed: u64, first_block: u64) -> Result<()> {
    let n = out.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let (name, work, a, b) = match (draw, out.dtype) {
        (Draw::Uniform, DType::F32) => ("ft_philox_uniform_f32", n.div_ceil(4), Arg::F32(0.0), Arg::F32(1.0)),
        (Draw::Uniform, DType::F64) => ("ft_philox_uniform_f64", n.div_ceil(2), Arg::F64(0.0), Arg::F64(1.0)),
        (Draw::Normal, DType::F64) => ("ft_philox_normal_f64", n.div_ceil(2), Arg::F64(0.0), Arg::F64(1.0)),
        (Draw::Int { low, span }, DType::I64) => ("ft_philox_randint", n.div_ceil(2), Arg::I64(low), Arg::U64(span)),
        (_, other) => bail!(Runtime, "internal: philox draw into {}", other.name()),
    };
    go(out, Src::Index, out.dtype, name, grid_for(work), &[
        Arg::Ptr(first(out)), Arg::I64(n as i64), Arg::U64(seed), Arg::U64(first_block * 4), a, b,
    ])
}

/// Longest row the one-block shared-memory sort takes (`FT_SORT_MAX` in cuda/sort.cu);
/// longer rows go through the global-memory merge sort.
const SORT_MAX: usize = 2048;

/// Stable sort of every row of `x` along `dim` (rows as in `reduce`): `vals` / `idx`
/// (contiguous [outer, inner], `dim` last) get the sorted values and their positions.
pub fn sort(x: &TensorData, dim: usize, descending: bool, vals: &TensorData, idx: &TensorData) -> Result<()> {
    let (l, outer, inner) = rows_layout(&x.layout, &[dim]);
    if outer == 0 || inner == 0 {
        return Ok(());
    }
    let kl = KLayout::new(&l)?;
    let sfx = dtype_suffix(x.dtype);
    if inner <= SORT_MAX {
        return go(vals, Src::Sort, x.dtype, &format!("ft_sort_{sfx}"), outer.clamp(1, 65535) as u32, &[
            Arg::Ptr(base(x)), Arg::Layout(kl), Arg::Ptr(first(vals)), Arg::Ptr(first(idx)),
            Arg::I64(outer as i64), Arg::I64(inner as i64), Arg::I32(descending as i32),
        ]);
    }
    // Merge passes of width 1, 2, 4, ... ping-pong between two (key, position) buffers;
    // the first buffer's positions are `idx` itself when the pass count is even, so the
    // last pass lands there. Rejected: padding rows to a power of two for a global
    // bitonic network (not stable without the same tie-break, and log^2 passes).
    let n = outer * inner;
    let passes = usize::BITS - (inner - 1).leading_zeros();
    let dev = vals.storage.device();
    let scratch = |len| TensorData::uninit(dev, &[len], DType::I64);
    let (k0, k1, spare) = (scratch(n)?, scratch(n)?, scratch(n)?);
    let (i0, i1) = if passes % 2 == 0 { (first(idx), first(&spare)) } else { (first(&spare), first(idx)) };
    let bufs = [(first(&k0), i0), (first(&k1), i1)];
    let grid = grid_for(n);
    go(vals, Src::Sort, x.dtype, &format!("ft_sort_keys_{sfx}"), grid, &[
        Arg::Ptr(base(x)), Arg::Layout(kl), Arg::Ptr(bufs[0].0), Arg::Ptr(bufs[0].1),
        Arg::I64(outer as i64), Arg::I64(inner as i64), Arg::I32(descending as i32),
    ])?;
    for p in 0..passes as usize {
        let ((ki, ii), (ko, io)) = (bufs[p % 2], bufs[(p + 1) % 2]);
        go(vals, Src::Sort, x.dtype, "ft_sort_merge", grid, &[
            Arg::Ptr(ki), Arg::Ptr(ii), Arg::Ptr(ko), Arg::Ptr(io),
            Arg::I64(outer as i64), Arg::I64(inner as i64), Arg::I64(1 << p),
        ])?;
    }
    go(vals, Src::Sort, x.dtype, &format!("ft_sort_take_{sfx}"), grid, &[
        Arg::Ptr(base(x)), Arg::Layout(kl), Arg::Ptr(first(idx)), Arg::Ptr(first(vals)),
        Arg::I64(outer as i64), Arg::I64(inner as i64),
    ])
}

fn opt_ptr(t: Option<&TensorData>) -> u64 {
    t.map_or(0, first)
}

/// One fused SGD step over contiguous f32/f64 device buffers (cuda/optim.cu; constants
/// as the CPU loop derives them, see `optim::sgd_step`).
#[allow(clippy::too_many_arguments)]
pub fn sgd(p: &TensorData, g: &TensorData, buf: Option<&TensorData>, neg_lr: f64, weight_decay: f64, momentum: f64, one_minus_dampening: f64, nesterov: bool, maximize: bool, first_step: bool) -> Result<()> {
    let n = p.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_sgd_{}", dtype_suffix(p.dtype));
    go(p, Src::Optim, p.dtype, &name, grid_for(n), &[
        Arg::Ptr(first(p)), Arg::Ptr(first(g)), Arg::Ptr(opt_ptr(buf)), Arg::I64(n as i64),
        Arg::F64(neg_lr), Arg::F64(weight_decay), Arg::F64(momentum), Arg::F64(one_minus_dampening),
        Arg::I32(nesterov as i32), Arg::I32(maximize as i32), Arg::I32(first_step as i32),
    ])
}

/// Host-side constants of one Adam step (`optim::adam_step` derives them once per step).
pub struct AdamConsts {
    pub neg_step_size: f64,
    pub bc2_sqrt: f64,
    pub eps: f64,
    pub w1: f64,
    pub one_minus_w1: f64,
    pub beta2: f64,
    pub one_minus_beta2: f64,
    pub decay: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    pub decoupled: bool,
}

/// One fused Adam/AdamW step over contiguous f32/f64 device buffers (cuda/optim.cu).
pub fn adam(p: &TensorData, g: &TensorData, m: &TensorData, v: &TensorData, vmax: Option<&TensorData>, c: &AdamConsts) -> Result<()> {
    let n = p.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_adam_{}", dtype_suffix(p.dtype));
    go(p, Src::Optim, p.dtype, &name, grid_for(n), &[
        Arg::Ptr(first(p)), Arg::Ptr(first(g)), Arg::Ptr(first(m)), Arg::Ptr(first(v)), Arg::Ptr(opt_ptr(vmax)), Arg::I64(n as i64),
        Arg::F64(c.neg_step_size), Arg::F64(c.bc2_sqrt), Arg::F64(c.eps), Arg::F64(c.w1), Arg::F64(c.one_minus_w1),
        Arg::F64(c.beta2), Arg::F64(c.one_minus_beta2), Arg::F64(c.decay), Arg::F64(c.weight_decay),
        Arg::I32(c.amsgrad as i32), Arg::I32(c.maximize as i32), Arg::I32(c.decoupled as i32),
    ])
}

/// One fused step of the optimizer `algo` (`optim::Algo::name`: rmsprop, adagrad, ...)
/// over contiguous f32/f64 device buffers: kernel `ft_<algo>_<dt>` of cuda/optim.cu, with
/// the host constants and flag bits of `optim::elementwise_step`. Absent state slots are
/// passed as null.
pub fn optim_elementwise(algo: &str, p: &TensorData, g: &TensorData, s: [Option<&TensorData>; 3], c: &[f64; 10], flags: i32) -> Result<()> {
    let n = p.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_{}_{}", algo, dtype_suffix(p.dtype));
    let mut args = vec![Arg::Ptr(first(p)), Arg::Ptr(first(g)), Arg::Ptr(opt_ptr(s[0])), Arg::Ptr(opt_ptr(s[1])), Arg::Ptr(opt_ptr(s[2])), Arg::I64(n as i64)];
    args.extend(c.iter().map(|&v| Arg::F64(v)));
    args.push(Arg::I32(flags));
    go(p, Src::Optim, p.dtype, &name, grid_for(n), &args)
}

// ---- host <-> device -------------------------------------------------------------

/// Copy between devices: `src` and `dst` have the same shape; dtypes may differ.
/// Device-side work (casts, strided scatter) happens on the CUDA side, the host side uses
/// the CPU kernels; the bytes cross once, contiguous.
pub fn copy_across(src: &TensorData, dst: &TensorData) -> Result<()> {
    let n = dst.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let contiguous = |dev: Device, dtype: DType| -> Result<TensorData> {
        Ok(TensorData { storage: crate::storage::Storage::uninit(dev, crate::storage::checked_mul(n, dtype.size())?)?, layout: Layout::contiguous(&dst.layout.shape), dtype })
    };
    match (src.storage.device(), dst.storage.device()) {
        (Device::Cpu, Device::Cuda(i)) => {
            // Host: contiguous copy in dst's dtype; then one upload.
            let host = contiguous(Device::Cpu, dst.dtype)?;
            crate::cpu::cast_copy_data(src, &host);
            if dst.layout.is_contiguous() {
                // SAFETY: host holds n elements; dst's contiguous view holds n elements.
                unsafe { super::htod(i, first(dst), host.storage.ptr(), n * dst.dtype.size()) }
            } else {
                let dev = contiguous(dst.storage.device(), dst.dtype)?;
                // SAFETY: as above, into the fresh contiguous device buffer.
                unsafe { super::htod(i, first(&dev), host.storage.ptr(), n * dst.dtype.size())? };
                cast_copy(&dev, dst)
            }
        }
        (Device::Cuda(i), Device::Cpu) => {
            let dev = if src.layout.is_contiguous() && src.dtype == dst.dtype {
                src.clone()
            } else {
                let t = contiguous(src.storage.device(), dst.dtype)?;
                cast_copy(src, &t)?;
                t
            };
            if dst.layout.is_contiguous() {
                // SAFETY: dst's contiguous view holds n elements; dev holds n on the device.
                unsafe { super::dtoh(i, dst.storage.ptr().add(dst.layout.offset * dst.dtype.size()), first(&dev), n * dst.dtype.size()) }
            } else {
                let host = contiguous(Device::Cpu, dst.dtype)?;
                // SAFETY: host holds n elements.
                unsafe { super::dtoh(i, host.storage.ptr(), first(&dev), n * dst.dtype.size())? };
                crate::cpu::cast_copy_data(&host, dst);
                Ok(())
            }
        }
        (Device::Cuda(a), Device::Cuda(b)) if a != b => {
            // Through the host: peer copies need peer access set up; rare enough.
            let host = contiguous(Device::Cpu, dst.dtype)?;
            copy_across(src, &host)?;
            copy_across(&host, dst)
        }
        _ => bail!(Runtime, "internal: copy_across between {} and {}", src.storage.device(), dst.storage.device()),
    }
}

/// Unscale one contiguous f32/f64 gradient on the device and flag non-finite values
/// (`ft_amp_unscale_<dt>`, cuda/optim.cu); `inv_scale` and `found_inf` are 1-element
/// float32 device tensors.
pub fn amp_unscale(g: &TensorData, inv_scale: &TensorData, found_inf: &TensorData) -> Result<()> {
    let n = g.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let name = format!("ft_amp_unscale_{}", dtype_suffix(g.dtype));
    go(g, Src::Optim, g.dtype, &name, grid_for(n), &[Arg::Ptr(first(g)), Arg::I64(n as i64), Arg::Ptr(first(inv_scale)), Arg::Ptr(first(found_inf))])
}

/// `_amp_update_scale_` on the device (`ft_amp_update_scale`, cuda/optim.cu).
pub fn amp_update_scale(scale: &TensorData, tracker: &TensorData, found_inf: &TensorData, growth: f64, backoff: f64, interval: i64) -> Result<()> {
    go(scale, Src::Optim, DType::F32, "ft_amp_update_scale", 1, &[
        Arg::Ptr(first(scale)), Arg::Ptr(first(tracker)), Arg::Ptr(first(found_inf)),
        Arg::F64(growth), Arg::F64(backoff), Arg::I32(interval.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
    ])
}
