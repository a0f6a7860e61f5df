//! The CUDA implementation of the backend seam (`crate::backend::Backend`): the CUDA
//! branches the ops used to hold, on (storage, layout, dtype). Launches go through
//! `kernels`; temporaries are `TensorData::uninit` on the device. Where there is no
//! CUDA kernel, the NotImplemented error the op gave before.

use super::kernels;
use crate::backend::{no_kernel, Backend, Binary, Composite, Draw, Pred, ReduceOp, Unary};
use crate::device::Device;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::shape::{Dims, Layout};
use crate::storage::{Storage, TensorData};
use crate::bail;

/// The CUDA devices' backend.
pub struct CudaBackend;

/// The unary ops that are the identity on integers: CUDA has no integer kernels for them (the
/// registry test checks cuda/elementwise.cu against this list).
pub const ROUNDING_IDENTITY_ON_INTS: &[&str] = &["floor", "ceil", "round", "trunc"];

fn device(d: &TensorData) -> Device {
    d.storage.device()
}

/// `x` (0-d as [1]) with `dim` moved last is what the row kernels (cumsum, softmax, sort)
/// read; they write [outer, inner] contiguous in that order. Returns the permutation, or
/// None when `dim` already is last (the common case: the kernel writes `out` directly).
fn rows_last(x: &TensorData, dim: usize) -> (TensorData, Option<Vec<usize>>) {
    let x = x.with_layout(x.layout.at_least_1d());
    let nd = x.layout.ndim();
    let perm: Vec<usize> = (0..nd).filter(|&i| i != dim).chain(std::iter::once(dim)).collect();
    let identity = perm.iter().enumerate().all(|(k, &p)| k == p);
    (x, (!identity).then_some(perm))
}

/// A temporary in the row kernels' dim order `perm` for `out`, and the copy of it back
/// into `out` (dims in their original order).
fn rows_tmp(x: &TensorData, perm: &[usize], dtype: DType) -> Result<TensorData> {
    let pshape: Vec<usize> = perm.iter().map(|&i| x.layout.shape[i]).collect();
    TensorData::uninit(device(x), &pshape, dtype)
}
fn rows_back(tmp: &TensorData, perm: &[usize], out: &TensorData) -> Result<()> {
    let mut inv = vec![0usize; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
    kernels::cast_copy(&tmp.with_layout(tmp.layout.permute(&inv)), out)
}

/// A row kernel (`kernels::along_dim`) along `dim` of `x` into `out` (contiguous, x's shape).
fn along(op: &str, x: &TensorData, dim: usize, out: &TensorData) -> Result<()> {
    let (x, perm) = rows_last(x, dim);
    match perm {
        None => kernels::along_dim(op, &x, dim, out),
        Some(perm) => {
            let tmp = rows_tmp(&x, &perm, out.dtype)?;
            kernels::along_dim(op, &x, dim, &tmp)?;
            rows_back(&tmp, &perm, out)
        }
    }
}

/// A 0-d device scalar of `dtype` holding `v`, broadcast to `shape`.
fn scalar_on(dev: Device, v: Scalar, dtype: DType, shape: &[usize]) -> Result<TensorData> {
    let s = TensorData::uninit(dev, &[], dtype)?;
    kernels::fill(&s, v)?;
    let l = s.layout.broadcast_to(shape)?;
    Ok(s.with_layout(l))
}

impl Backend for CudaBackend {
    fn composes(&self, op: Composite) -> bool {
        match op {
            // Kernels write contiguous outputs.
            Composite::InPlaceWrite => true,
            // No kernel of its own: positions on the host, then index_select.
            Composite::AdvancedIndex => true,
            // Three masked fills of kernels we have (3 passes, but no kernel of its own to
            // keep in step with the CPU one: nan_to_num is rare outside data cleaning).
            Composite::NanToNum => true,
            // cuBLAS is called with beta = 0.
            Composite::AddmmBias => true,
            // No selection kernel: topk and friends slice a full sort.
            Composite::Select => true,
        }
    }

    fn fill(&self, dst: &TensorData, v: Scalar) -> Result<()> {
        kernels::fill(dst, v)
    }

    fn copy(&self, src: &TensorData, dst: &TensorData) -> Result<()> {
        kernels::cast_copy(src, dst)
    }

    fn copy_across(&self, src: &TensorData, dst: &TensorData) -> Result<()> {
        kernels::copy_across(src, dst)
    }

    fn unary(&self, op: Unary<'_>, x: &TensorData, out: &TensorData) -> Result<()> {
        if !x.dtype.is_float() && ROUNDING_IDENTITY_ON_INTS.contains(&op.name) {
            // Rounding is the identity on integers (no integer kernels for it).
            return kernels::cast_copy(x, out);
        }
        kernels::unary(op.cuda, x, out)
    }

    fn pred(&self, p: Pred, x: &TensorData, out: &TensorData) -> Result<()> {
        // Integers are never NaN or infinite.
        let float_pred = |name: &str, int_val: bool| {
            if !x.dtype.is_float() {
                return kernels::fill(out, Scalar::Bool(int_val));
            }
            kernels::unary(name, x, out)
        };
        match p {
            Pred::LogicalNot => kernels::unary("logical_not", x, out),
            Pred::BitwiseNot => kernels::unary("bitwise_not", x, out),
            Pred::IsNan => float_pred("isnan", false),
            Pred::IsInf => float_pred("isinf", false),
            Pred::IsFinite => float_pred("isfinite", true),
            Pred::IsPosInf | Pred::IsNegInf => {
                // isinf(x) & (x > 0) (or < 0): no kernel of their own.
                float_pred("isinf", false)?;
                if !x.dtype.is_float() {
                    return Ok(());
                }
                let shape = &x.layout.shape;
                let zero = scalar_on(device(x), Scalar::Int(0), x.dtype, shape)?;
                let sign = TensorData::uninit(device(x), shape, DType::Bool)?;
                kernels::binary(if p == Pred::IsPosInf { "gt" } else { "lt" }, x, &x.layout, &zero, &zero.layout, &sign)?;
                // Elementwise, so reading and writing `out` in one launch is safe.
                kernels::binary("logical_and", out, &out.layout, &sign, &sign.layout, out)
            }
        }
    }

    fn binary(&self, op: Binary<'_>, _compute: DType, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()> {
        if op.cuda.is_empty() {
            bail!(NotImplemented, "\"{}\" has no CUDA kernel in ferrotorch yet", op.name);
        }
        kernels::binary(op.cuda, a, la, b, lb, out)
    }

    fn binary_inplace(&self, op: Binary<'_>, _compute: DType, a: &TensorData, _b: &TensorData, _lb: &Layout) -> Result<()> {
        // composes(InPlaceWrite): the op goes out of place + copy instead.
        Err(no_kernel(&format!("{}_ (in place)", op.name), device(a)))
    }

    fn where_(&self, c: &TensorData, lc: &Layout, a: &TensorData, la: &Layout, b: &TensorData, lb: &Layout, out: &TensorData) -> Result<()> {
        kernels::where_(c, lc, a, la, b, lb, out)
    }

    fn nan_to_num(&self, x: &TensorData, _nan: f64, _posinf: f64, _neginf: f64, _out: &TensorData) -> Result<()> {
        // composes(NanToNum): the op composes masked fills instead.
        Err(no_kernel("nan_to_num", device(x)))
    }

    fn reduce(&self, op: ReduceOp, x: &TensorData, dims: &[usize], out: &TensorData) -> Result<()> {
        // The kernels' output dtypes are fixed (sums of integers are int64); another
        // requested dtype is a cast afterwards. all/any are min/max over bool.
        let dt = x.dtype;
        let (name, to_bool, kdt) = match op {
            ReduceOp::Sum => ("sum", false, if dt.is_float() { dt } else { DType::I64 }),
            ReduceOp::Prod => ("prod", false, if dt.is_float() { dt } else { DType::I64 }),
            ReduceOp::Max => ("max", false, dt),
            ReduceOp::Min => ("min", false, dt),
            ReduceOp::All => ("min", true, DType::Bool),
            ReduceOp::Any => ("max", true, DType::Bool),
        };
        let src = if to_bool {
            let t = TensorData::uninit(device(x), &x.layout.shape, DType::Bool)?;
            kernels::cast_copy(x, &t)?;
            t
        } else {
            x.clone()
        };
        if kdt == out.dtype {
            return kernels::reduce(name, &src, dims, out);
        }
        let tmp = TensorData::uninit(device(x), &out.layout.shape, kdt)?;
        kernels::reduce(name, &src, dims, &tmp)?;
        kernels::cast_copy(&tmp, out)
    }

    fn max_min_dim(&self, is_max: bool, x: &TensorData, dim: usize, vals: &TensorData, idx: &TensorData) -> Result<()> {
        let dims: Vec<usize> = if x.layout.ndim() == 0 { vec![] } else { vec![dim] };
        let (v, a) = if is_max { ("max", "argmax") } else { ("min", "argmin") };
        kernels::reduce(v, x, &dims, vals)?;
        kernels::reduce(a, x, &dims, idx)
    }

    fn cumulative(&self, is_sum: bool, x: &TensorData, dim: usize, out: &TensorData) -> Result<()> {
        along(if is_sum { "cumsum" } else { "cumprod" }, x, dim, out)
    }

    fn softmax(&self, log: bool, x: &TensorData, dim: usize, out: &TensorData) -> Result<()> {
        along(if log { "log_softmax" } else { "softmax" }, x, dim, out)
    }

    fn sort(&self, x: &TensorData, dim: usize, descending: bool, vals: &TensorData, idx: &TensorData) -> Result<()> {
        let (x, perm) = rows_last(x, dim);
        match perm {
            None => kernels::sort(&x, dim, descending, vals, idx),
            Some(perm) => {
                let (v, i) = (rows_tmp(&x, &perm, x.dtype)?, rows_tmp(&x, &perm, DType::I64)?);
                kernels::sort(&x, dim, descending, &v, &i)?;
                rows_back(&v, &perm, vals)?;
                rows_back(&i, &perm, idx)
            }
        }
    }

    fn select(&self, x: &TensorData, _dim: usize, _k: usize, _largest: bool, _sorted: bool, _vals: &TensorData, _idx: &TensorData) -> Result<()> {
        Err(no_kernel("topk", device(x)))
    }

    fn median(&self, x: &TensorData, _dim: usize, _ignore_nan: bool, _vals: &TensorData, _idx: &TensorData) -> Result<()> {
        Err(no_kernel("median", device(x)))
    }

    fn gather(&self, x: &TensorData, dim: usize, index: &TensorData, _idx: &[i64], out: &TensorData) -> Result<()> {
        let xl = x.layout.at_least_1d();
        let il = index.layout.at_least_1d();
        kernels::gather(&x.with_layout(xl), dim, &index.with_layout(il), out)
    }

    fn scatter(&self, out: &TensorData, dim: usize, index: &TensorData, _idx: &[i64], src: &TensorData, add: bool) -> Result<()> {
        let (ol, sl, il) = (out.layout.at_least_1d(), src.layout.at_least_1d(), index.layout.at_least_1d());
        // The kernel walks the index's shape; src is read with its own strides.
        let ssub = Layout { shape: il.shape.clone(), strides: sl.strides.clone(), offset: sl.offset };
        kernels::scatter(&out.with_layout(ol), dim, &index.with_layout(il), &src.with_layout(ssub), add)
    }

    fn index_select(&self, x: &TensorData, dim: usize, idx: &[i64], out: &TensorData) -> Result<()> {
        // The checked host values, uploaded once as the kernel's i64 index.
        // SAFETY: an i64 slice is idx.len() * 8 initialised bytes.
        let bytes = unsafe { std::slice::from_raw_parts(idx.as_ptr() as *const u8, std::mem::size_of_val(idx)) };
        let host = TensorData { storage: Storage::cpu_from_bytes(bytes)?, layout: Layout::contiguous(&[idx.len()]), dtype: DType::I64 };
        let ix = TensorData::uninit(device(x), &[idx.len()], DType::I64)?;
        kernels::copy_across(&host, &ix)?;
        kernels::index_select(x, dim, &ix, out)
    }

    fn bmm(&self, a: &TensorData, b: &TensorData, bias: Option<&TensorData>, out: &TensorData) -> Result<()> {
        if bias.is_some() {
            // composes(AddmmBias): addmm is mm + add here.
            return Err(no_kernel("addmm (fused bias)", device(a)));
        }
        let nd = a.layout.ndim();
        let (m, k, n) = (a.layout.shape[nd - 2], a.layout.shape[nd - 1], b.layout.shape[nd - 1]);
        let nb: usize = a.layout.shape[..nd - 2].iter().product();
        if m * n == 0 {
            return Ok(());
        }
        if k == 0 {
            return kernels::fill(out, Scalar::Int(0));
        }
        bmm_cuda(a, b, out, m, k, n, nb)
    }

    fn philox(&self, out: &TensorData, draw: Draw, seed: u64, first_block: u64) -> Result<()> {
        kernels::philox(out, draw, seed, first_block)
    }
}

/// `bmm` on CUDA: one cuBLAS strided-batched gemm. An operand whose batch dims do not
/// collapse to one stride, or whose matrix has no unit stride, is copied to contiguous
/// first.
fn bmm_cuda(ad: &TensorData, bd: &TensorData, out: &TensorData, m: usize, k: usize, n: usize, nb: usize) -> Result<()> {
    use super::{gemm_operand_ok, GemmOperand};
    let operand = |d: &TensorData, rows: usize, cols: usize| -> Result<(GemmOperand, Option<TensorData>)> {
        let l = &d.layout;
        let nd = l.ndim();
        let batch = Layout { shape: Dims::from_slice(&l.shape[..nd - 2]), strides: l.strides[..nd - 2].into(), offset: 0 };
        let kb = super::KLayout::new(&batch)?;
        let bstride = if nb <= 1 { Some(0) } else if kb.ndim <= 1 { Some(if kb.ndim == 0 { 0 } else { kb.strides[0] }) } else { None };
        let esz = d.dtype.size() as u64;
        let make = |d: &TensorData, bs: i64| GemmOperand {
            ptr: d.storage.ptr() as u64 + d.layout.offset as u64 * esz,
            rs: d.layout.strides[nd - 2] as i64,
            cs: d.layout.strides[nd - 1] as i64,
            batch_stride: bs,
        };
        if let Some(bs) = bstride {
            let o = make(d, bs);
            if gemm_operand_ok(&o, rows, cols) {
                return Ok((o, None));
            }
        }
        let c = TensorData::uninit(device(d), &d.layout.shape, d.dtype)?;
        kernels::cast_copy(d, &c)?;
        let o = make(&c, (rows * cols) as i64);
        Ok((o, Some(c)))
    };
    // The copies (if any) stay alive in `_keep` until the gemm is queued.
    let (la, _keep_a) = operand(ad, m, k)?;
    let (lb, _keep_b) = operand(bd, k, n)?;
    let ordinal = kernels::ordinal(out)?;
    let dst = out.storage.ptr() as u64 + (out.layout.offset * out.dtype.size()) as u64;
    super::gemm_strided_batched(ordinal, out.dtype, nb, m, n, k, la, lb, dst)
}
