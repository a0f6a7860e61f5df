//! The matmul family. `bmm_general` (batched, strided, broadcast-free) is the one
//! primitive with a kernel and a backward; mm/bmm/matmul/mv/dot/outer/addmm/baddbmm are
//! views and composites around it.


use crate::autograd::{needs_grad, record, SavedTensor};
use crate::dtype::Scalar;
use crate::error::Result;
use crate::shape::{broadcast_shapes, fmt_shape};
use crate::tensor::Tensor;
use crate::bail;

fn check_dtypes(a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        bail!(
            Runtime,
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            c_name(a.dtype()),
            c_name(b.dtype())
        );
    }
    crate::ops::elementwise::check_same_device(&[a.into(), b.into()])?;
    Ok(())
}

fn c_name(d: crate::dtype::DType) -> &'static str {
    use crate::dtype::DType::*;
    match d {
        Bool => "bool",
        U8 => "unsigned char",
        I8 => "signed char",
        I16 => "short int",
        I32 => "int",
        I64 => "long int",
        F16 => "c10::Half",
        BF16 => "c10::BFloat16",
        F32 => "float",
        F64 => "double",
    }
}

/// a: [..., m, k], b: [..., k, n] with identical batch dims -> contiguous [..., m, n].
fn bmm_general(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    bmm_impl(a, b, None)
}

/// `bmm_general`, or with `bias` (CPU, the output's dtype, broadcastable to its shape) the
/// fused `bias + a @ b` of addmm: the output is seeded with the bias and the gemm adds onto
/// it, as PyTorch's addmm does (one pass and one allocation fewer than mm + add).
fn bmm_impl(a: &Tensor, b: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (ad, bd) = (a.data().clone(), b.data().clone());
    let (la, lb) = (&ad.layout, &bd.layout);
    let nd = la.ndim();
    let (m, n) = (la.shape[nd - 2], lb.shape[nd - 1]);
    let batch: Vec<usize> = la.shape[..nd - 2].to_vec();
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    let out = Tensor::empty_on(&out_shape, ad.dtype, a.device())?;
    let seeded = match bias {
        Some(c) => {
            let cd = c.data().clone();
            Some(crate::tensor::TensorData { layout: cd.layout.broadcast_to(&out_shape)?, ..cd })
        }
        None => None,
    };
    crate::backend::of(a.device()).bmm(&ad, &bd, seeded.as_ref(), &out.data())?;
    let mut inputs = vec![a, b];
    inputs.extend(bias);
    if needs_grad(&inputs) {
        let (sa, sb) = (SavedTensor::input(a), SavedTensor::input(b));
        let bias_shape = bias.map(|c| c.shape());
        let name = match (&bias_shape, nd) {
            (Some(_), _) => "AddmmBackward0",
            (None, 2) => "MmBackward0",
            _ => "BmmBackward0",
        };
        record(name, &inputs, &[&out], move |ctx, g| {
            let Some(g) = &g[0] else { return Ok(vec![None; ctx.needs_input_grad.len()]) };
            // Each gradient is produced in its input's memory layout, as PyTorch's
            // mm_mat1/mat2_backward do: for `x @ w.t()` (Linear) the weight gradient then
            // comes out row-major like the weight, instead of as a transposed view that
            // AccumulateGrad would have to copy (a 400K-element transposed copy per layer).
            let ga = if ctx.needs_input_grad[0] {
                let (a, b) = (sa.unpack(ctx)?, sb.unpack(ctx)?);
                Some(if is_transposed(&a) { bmm_general(&b, &g.mt()?)?.mt()? } else { bmm_general(g, &b.mt()?)? })
            } else {
                None
            };
            let gb = if ctx.needs_input_grad[1] {
                let (a, b) = (sa.unpack(ctx)?, sb.unpack(ctx)?);
                Some(if is_transposed(&b) { bmm_general(&g.mt()?, &a)?.mt()? } else { bmm_general(&a.mt()?, g)? })
            } else {
                None
            };
            let mut grads = vec![ga, gb];
            if let Some(shape) = &bias_shape {
                grads.push(if ctx.needs_input_grad[2] { Some(g.sum_to_size(shape)?) } else { None });
            }
            Ok(grads)
        });
    }
    Ok(out)
}

/// ATen's `should_fold`: whether `a @ b` with one side of 3+ dims and the other of 1 or 2
/// runs as one mm/mv over the batch dims folded into the rows, instead of a bmm over an
/// expanded (stride-0) matrix. The fold is what makes the weight gradient of a batched
/// `x @ w.t()` one GEMM over all rows: the bmm path forms one [k, n] product per batch
/// entry and sums them (2.3x PyTorch's time for linear forward + backward on 16x64x256).
/// Folding copies the big operand when its batch dims do not merge into one stride; that
/// copy is made only when the small operand needs a gradient (then the per-batch products
/// it avoids cost more), as in ATen.
fn should_fold(a: &Tensor, b: &Tensor) -> bool {
    let a_larger = a.ndim() >= b.ndim();
    let (big, small_nd) = if a_larger { (a, b.ndim()) } else { (b, a.ndim()) };
    if !(big.ndim() >= 3 && small_nd <= 2) {
        return false;
    }
    let small = if a_larger { b } else { a };
    if small.requires_grad() && crate::autograd::is_grad_enabled() {
        return true;
    }
    // With b the big one, the result comes out transposed; making it contiguous would be
    // the copy folding was meant to avoid.
    if a.ndim() == 2 || !a_larger {
        return false;
    }
    if big.numel() == 0 {
        return true;
    }
    // `big.view(-1, k)` needs the leading dims to merge: stride[i] == stride[i+1] * size[i+1].
    let d = big.data();
    let (sh, st) = (&d.layout.shape, &d.layout.strides);
    (0..sh.len() - 2).all(|i| st[i] == st[i + 1] * sh[i + 1])
}

/// `a @ b` folded into one mm or mv (see `should_fold`).
fn fold_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let fold = |big: &Tensor, small: &Tensor| -> Result<Tensor> {
        // big: [..., m, k]; small: [k, n] or [k].
        let sh = big.shape();
        let k = sh[sh.len() - 1];
        let rows = big.reshape(&[-1, k as i64])?;
        let (out, last): (Tensor, Option<usize>) =
            if small.ndim() == 2 { (rows.mm(small)?, Some(small.shape()[1])) } else { (rows.mv(small)?, None) };
        let mut shape: Vec<i64> = sh[..sh.len() - 1].iter().map(|&v| v as i64).collect();
        shape.extend(last.map(|n| n as i64));
        out.reshape(&shape)
    };
    if a.ndim() >= b.ndim() {
        // (a k mismatch is mm's or mv's error, as in ATen)
        return fold(a, b);
    }
    // a: [m, k] or [k]; b: [..., k, n]. (b^T @ a^T)^T, with b^T folded.
    let bt = b.mt()?;
    let at = if a.ndim() == 2 { a.mt()? } else { a.clone() };
    let kb = b.shape()[b.ndim() - 2];
    let ka = a.shape()[a.ndim() - 1];
    if ka != kb {
        let sb = b.shape();
        let batch = sb[..sb.len() - 2].iter().product::<usize>();
        bail!(Runtime, "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].", batch, ka, batch, kb);
    }
    let r = fold(&bt, &at)?;
    if a.ndim() == 2 { r.mt() } else { Ok(r) }
}

impl Tensor {
    pub fn mm(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("mm", &[self, other])? {
            let t = &p.tensors;
            return t[0].mm(&t[1]);
        }
        check_dtypes(self, other)?;
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() != 2 {
            bail!(Runtime, "self must be a matrix");
        }
        if sb.len() != 2 {
            bail!(Runtime, "mat2 must be a matrix");
        }
        if sa[1] != sb[0] {
            bail!(Runtime, "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", sa[0], sa[1], sb[0], sb[1]);
        }
        bmm_general(self, other)
    }

    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("bmm", &[self, other])? {
            let t = &p.tensors;
            return t[0].bmm(&t[1]);
        }
        check_dtypes(self, other)?;
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() != 3 {
            bail!(Runtime, "batch1 must be a 3D tensor");
        }
        if sb.len() != 3 {
            bail!(Runtime, "batch2 must be a 3D tensor");
        }
        if sb[0] != sa[0] || sb[1] != sa[2] {
            bail!(
                Runtime,
                "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
                sa[0],
                sa[2],
                sb[0],
                sb[1]
            );
        }
        bmm_general(self, other)
    }

    /// `torch.matmul` with NumPy semantics for 1-d operands and broadcast batch dims.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("matmul", &[self, other])? {
            let t = &p.tensors;
            return t[0].matmul(&t[1]);
        }
        check_dtypes(self, other)?;
        let (sa, sb) = (self.shape(), other.shape());
        match (sa.len(), sb.len()) {
            (0, _) | (_, 0) => bail!(
                Runtime,
                "both arguments to matmul need to be at least 1D, but they are {}D and {}D",
                sa.len(),
                sb.len()
            ),
            (1, 1) => self.dot(other),
            (2, 1) => self.mv(other),
            (1, 2) => {
                if sa[0] != sb[0] {
                    bail!(Runtime, "mat1 and mat2 shapes cannot be multiplied (1x{} and {}x{})", sa[0], sb[0], sb[1]);
                }
                self.unsqueeze(0)?.mm(other)?.squeeze(Some(&[0]))
            }
            (2, 2) => self.mm(other),
            _ if should_fold(self, other) => fold_matmul(self, other),
            _ => {
                let a = if sa.len() == 1 { self.unsqueeze(0)? } else { self.clone() };
                let b = if sb.len() == 1 { other.unsqueeze(-1)? } else { other.clone() };
                let (la, lb) = (a.shape(), b.shape());
                let (m, k1) = (la[la.len() - 2], la[la.len() - 1]);
                let (k2, n) = (lb[lb.len() - 2], lb[lb.len() - 1]);
                // As ATen: the batch dims broadcast first, then bmm checks k over the
                // broadcast batch.
                let batch = broadcast_shapes(&la[..la.len() - 2], &lb[..lb.len() - 2])?;
                if k1 != k2 {
                    let nb = batch.iter().product::<usize>();
                    bail!(Runtime, "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].", nb, k1, nb, k2);
                }
                let mut ta = batch.clone();
                ta.extend([m, k1]);
                let mut tb = batch.clone();
                tb.extend([k2, n]);
                let mut out = bmm_general(&a.expand_usize(&ta)?, &b.expand_usize(&tb)?)?;
                if sa.len() == 1 {
                    out = out.squeeze(Some(&[-2]))?;
                }
                if sb.len() == 1 {
                    out = out.squeeze(Some(&[-1]))?;
                }
                Ok(out)
            }
        }
    }

    pub fn mv(&self, v: &Tensor) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("mv", &[self, v])? {
            let t = &p.tensors;
            return t[0].mv(&t[1]);
        }
        check_dtypes(self, v)?;
        let (sa, sv) = (self.shape(), v.shape());
        if sa.len() != 2 || sv.len() != 1 {
            bail!(Runtime, "vector + matrix @ vector expected, got {}, {}, {}", 1, sa.len(), sv.len());
        }
        if sa[1] != sv[0] {
            bail!(Runtime, "size mismatch, got input ({}), mat ({}x{}), vec ({})", sa[0], sa[0], sa[1], sv[0]);
        }
        crate::autograd::composite(
            "MvBackward0",
            &[self, v],
            true,
            || self.mm(&v.unsqueeze(1)?)?.squeeze(Some(&[1])),
            |x, g| Ok(vec![Some(g.outer(&x[1])?), Some(x[0].t()?.mv(g)?)]),
        )
    }

    pub fn dot(&self, other: &Tensor) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("dot", &[self, other])? {
            let t = &p.tensors;
            return t[0].dot(&t[1]);
        }
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() != 1 || sb.len() != 1 {
            bail!(Runtime, "1D tensors expected, but got {}D and {}D tensors", sa.len(), sb.len());
        }
        if self.dtype() != other.dtype() {
            bail!(
                Runtime,
                "dot : expected both vectors to have same dtype, but found {} and {}",
                crate::ops::pretty_dtype(self.dtype()),
                crate::ops::pretty_dtype(other.dtype())
            );
        }
        if sa[0] != sb[0] {
            bail!(
                Runtime,
                "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements, but got {} and {} elements respectively",
                sa[0],
                sb[0],
                sa[0],
                sb[0]
            );
        }
        crate::autograd::composite(
            "DotBackward0",
            &[self, other],
            true,
            || self.unsqueeze(0)?.mm(&other.unsqueeze(1)?)?.reshape(&[]),
            |x, g| Ok(vec![Some(x[1].mul(g)?), Some(x[0].mul(g)?)]),
        )
    }

    pub fn outer(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || other.ndim() != 1 {
            bail!(Runtime, "outer: expected 1D tensors, got {}D and {}D", self.ndim(), other.ndim());
        }
        self.unsqueeze(1)?.mul(&other.unsqueeze(0)?)
    }

    /// `addmm_(m1, m2, beta, alpha)`: self = beta * self + alpha * (m1 @ m2).
    pub fn addmm_(&self, m1: &Tensor, m2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<()> {
        crate::ops::elementwise::inplace_via(self, false, |x| x.addmm(m1, m2, beta, alpha))
    }

    /// beta * self + alpha * (m1 @ m2)
    pub fn addmm(&self, m1: &Tensor, m2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("addmm", &[self, m1, m2])? {
            let t = &p.tensors;
            return t[0].addmm(&t[1], &t[2], beta, alpha);
        }
        let one = |s: Scalar| s == Scalar::Int(1) || s == Scalar::Float(1.0);
        let (s1, s2, si) = (m1.shape(), m2.shape(), self.shape());
        // Linear's case (bias + x @ w.t() on one device, one dtype): fused into the gemm
        // where the backend has that (the CPU's).
        if one(beta) && one(alpha) && s1.len() == 2 && s2.len() == 2 && s1[1] == s2[0] && si.len() <= 2
            && self.dtype() == m1.dtype() && m1.dtype() == m2.dtype()
            && [m1, m2].iter().all(|t| t.device() == self.device())
            && !crate::backend::of(self.device()).composes(crate::backend::Composite::AddmmBias)
            && broadcast_shapes(&si, &[s1[0], s2[1]]).is_ok_and(|s| *s == [s1[0], s2[1]])
        {
            return bmm_impl(m1, m2, Some(self));
        }
        let p = m1.mm(m2)?;
        let shape = p.shape();
        broadcast_shapes(&self.shape(), &shape).map_err(|_| {
            crate::err!(
                Runtime,
                "The expanded size of the tensor ({}) must match the existing size ({}) at non-singleton dimension 1.  Target sizes: {}.  Tensor sizes: {}",
                shape[1],
                self.shape().last().copied().unwrap_or(0),
                fmt_shape(&shape),
                fmt_shape(&self.shape())
            )
        })?;
        combine_scaled(self, &p, beta, alpha)
    }

    pub fn baddbmm(&self, b1: &Tensor, b2: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
        if let Some(p) = crate::autocast::prepare("baddbmm", &[self, b1, b2])? {
            let t = &p.tensors;
            return t[0].baddbmm(&t[1], &t[2], beta, alpha);
        }
        let p = b1.bmm(b2)?;
        combine_scaled(self, &p, beta, alpha)
    }
}

fn combine_scaled(input: &Tensor, p: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
    let p = if alpha == Scalar::Int(1) || alpha == Scalar::Float(1.0) { p.clone() } else { p.mul(alpha)? };
    if beta == Scalar::Int(0) || beta == Scalar::Float(0.0) {
        // beta = 0 ignores input entirely (NaN in it does not propagate), as PyTorch.
        return p.add(&input.zeros_like()?.expand_usize(&input.shape())?)?.sum_to_size(&p.shape()).map(|_| p.clone());
    }
    let i = if beta == Scalar::Int(1) || beta == Scalar::Float(1.0) { input.clone() } else { input.mul(beta)? };
    let out = i.add(&p)?;
    if out.shape() != p.shape() {
        bail!(
            Runtime,
            "The expanded size of the tensor must match: input {} vs product {}",
            fmt_shape(&input.shape()),
            fmt_shape(&p.shape())
        );
    }
    Ok(out)
}

/// The last two dims are laid out column-major: a transposed row-major matrix such as
/// `w.t()`. Size-1 dims are ambiguous and count as not transposed.
fn is_transposed(t: &Tensor) -> bool {
    let (s, st) = (t.shape(), t.strides());
    let n = s.len();
    n >= 2 && s[n - 2] > 1 && s[n - 1] > 1 && st[n - 2] == 1 && st[n - 1] == s[n - 2]
}
