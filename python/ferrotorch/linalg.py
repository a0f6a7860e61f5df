"""torch.linalg composed from existing tensor ops (matmul, gather, where, reductions).

No new kernels: autograd differentiates through the factorisation steps and every device
works. Factorisations loop in Python over the n columns of an n x n matrix (each step one
batched op over all leading dims), never over batch elements or entries. Checks of the
result (singular, not positive-definite) read back one small tensor after the loop, as
PyTorch does to raise its LinAlgError.
"""
import collections
import math
import numbers

from . import _C, _registry
from ._C import Tensor
from ._args import _check_float, _wrap_dim
from ._linalg_ops import _CTYPE, _chain_product, cross as _cross
from ._shape import _broadcast_pair
from ._utils import _dtype_name, write_out as _write_out

__all__ = ["LinAlgError", "eigh", "eigvalsh", "svd", "svdvals", "matrix_rank", "pinv", "vector_norm", "matrix_norm", "norm", "vecdot", "cross", "matmul", "diagonal",
           "multi_dot", "lu_factor", "lu", "det", "slogdet", "inv", "solve", "solve_triangular", "cholesky",
           "qr", "matrix_power", "lu_solve", "matrix_exp"]


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a factorisation or solve failed on this input."""


_lu_factor_t = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
_lu_t = collections.namedtuple("linalg_lu", ["P", "L", "U"])
_slogdet_t = collections.namedtuple("linalg_slogdet", ["sign", "logabsdet"])
_qr_t = collections.namedtuple("linalg_qr", ["Q", "R"])


# ---- checks ------------------------------------------------------------------------------
def _check_matrix(fname, A, square=True, name="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _first_failure(bad, prefix_batch):
    """(batch index, column) of the first True of `bad` (..., k) in row-major batch order,
    or None: one host read-back after the whole factorisation."""
    flat = bad.reshape(-1, bad.shape[-1]).tolist() if bad.numel() else []
    for b, row in enumerate(flat):
        for j, v in enumerate(row):
            if v:
                return (f"(Batch element {b}): " if prefix_batch else ""), j
    return None


def _ctype(dt):
    """The C++ element type name PyTorch prints for dt ('float'), its scalar type name otherwise."""
    return _CTYPE.get(dt, _dtype_name(dt))


def _out_tuple(res, out):
    """`out=` for the named-tuple results: each field written into its tensor of `out`."""
    if out is None:
        return res
    for r, o in zip(res, out):
        if o.dtype != r.dtype:
            raise RuntimeError(f"Expected out tensor to have dtype {_ctype(r.dtype)}, but got {_ctype(o.dtype)} "
                               "instead")
    return type(res)(*(_write_out(r, o) for r, o in zip(res, out)))


def _mask(cond, dtype):
    return cond.to(dtype)


# ---- norms -------------------------------------------------------------------------------
def _ord_str(ord):
    if isinstance(ord, float) and math.isinf(ord):
        return "inf" if ord > 0 else "-inf"
    return str(int(ord)) if float(ord).is_integer() else str(ord)


def _dims(dim, ndim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    return tuple(_wrap_dim(int(d), ndim) for d in dims)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.vector_norm: (sum |x|^ord)^(1/ord) over `dim` (all dims when None); ord inf /
    -inf is max / min |x|, ord 0 counts nonzeros."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg_vector_norm(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    _check_float("linalg.vector_norm", x)
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{_dtype_name(dtype)}")
        if _C.promote_types(x.dtype, dtype) != dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_dtype_name(x.dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({_dtype_name(dtype)})")
        x = x.to(dtype)
    ord = float(ord)
    dims = _dims(dim, x.dim())
    if dims == ():
        dims = None  # PyTorch: an empty dim list reduces over every dim
    if (ord < 0 or math.isinf(ord)) and x.numel() == 0 and (
            dims is None or any(x.shape[d] == 0 for d in dims)):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_str(ord)} norm on an empty tensor "
                           "because the operation does not have an identity")
    red = dims if dims is not None else tuple(range(x.dim()))
    half = x.dtype if x.dtype in (_C.float16, _C.bfloat16) and not math.isinf(ord) else None
    if half is not None:
        x = x.float()   # PyTorch's accumulator for half types: 300² overflows float16, |[300, 400]| does not
    a = x.abs()
    if x.dim() == 0:
        r = a
    elif ord == math.inf:
        r = a.amax(dim=red, keepdim=keepdim)
    elif ord == -math.inf:
        r = a.amin(dim=red, keepdim=keepdim)
    elif ord == 0:
        r = (a != 0).to(x.dtype).sum(dim=red, keepdim=keepdim)
    elif ord == 1:
        r = a.sum(dim=red, keepdim=keepdim)
    else:
        s = (a * a if ord == 2 else a.pow(ord)).sum(dim=red, keepdim=keepdim)
        # A zero norm gets PyTorch's zero subgradient: the root is taken of s + 1 there
        # (finite derivative) and masked out, instead of inf * 0 = nan.
        zero = (s.detach() == 0) if ord > 0 else None
        if zero is not None:
            s = s + zero.to(s.dtype)
        r = s.sqrt() if ord == 2 else s.pow(1.0 / ord)
        if zero is not None:
            r = r * (~zero).to(r.dtype)
    if half is not None:
        r = r.to(half)
    return _write_out(r, out)


_SVD_ORDS = ("nuc", 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """linalg.matrix_norm: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the two dims of `dim`
    ('nuc' and +-2 from svdvals)."""
    _check_matrix("linalg.matrix_norm", A, square=False)
    _check_float("linalg.matrix_norm", A)
    dim = tuple(dim) if not isinstance(dim, numbers.Integral) else (dim,)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = (_wrap_dim(int(d), A.dim()) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif float(ord) not in (1.0, -1.0, 2.0, -2.0, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {_ord_str(ord)} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype, out=out)
    if dtype is not None:
        A = A.to(dtype)
    if ord in _SVD_ORDS:
        S = svdvals(A.permute(*[i for i in range(A.dim()) if i not in (d0, d1)], d0, d1))
        r = S.sum(-1) if ord == "nuc" else S.amax(-1) if ord == 2 else S.amin(-1)
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return _write_out(r, out)
    # ord +-1: max/min column sum (sum over rows d0, then extreme over d1); inf swaps them.
    sum_dim, ext_dim = (d0, d1) if abs(float(ord)) == 1 else (d1, d0)
    s = A.abs().sum(dim=sum_dim, keepdim=True)
    r = s.amax(dim=ext_dim, keepdim=True) if float(ord) > 0 else s.amin(dim=ext_dim, keepdim=True)
    if not keepdim:
        r = r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    return _write_out(r, out)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.norm: matrix_norm when ord is a string or dim has two entries (or A is 2-D
    and ord is given), else vector_norm (ord None is the 2-norm of the flattened input)."""
    if dim is not None:
        dim = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    elif ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.dim()}D.")
    if isinstance(ord, str) or (ord is not None and (len(dim) == 2 if dim is not None else A.dim() == 2)):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype, out=out)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


# ---- products and views ------------------------------------------------------------------
def vecdot(x, y, *, dim=-1, out=None):
    """linalg.vecdot: sum(x * y) over `dim` (real dtypes: no conjugation needed)."""
    _check_float("linalg.vecdot", x)
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_dtype_name(x.dtype)} and y of type {_dtype_name(y.dtype)} instead")
    return _write_out((x * y).sum(dim), out)


def cross(input, other, *, dim=-1, out=None):
    """linalg.cross: torch.cross with dim=-1 by default."""
    for t in (input, other):
        if isinstance(t, Tensor) and -t.dim() <= dim < t.dim() and t.shape[dim] != 3:
            raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                               f"Got {input.shape[dim]} and {other.shape[dim]}")
    return _cross(input, other, dim=dim, out=out)


def matmul(input, other, *, out=None):
    """linalg.matmul: alias of torch.matmul."""
    return _write_out(input.matmul(other), out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """linalg.diagonal: torch.diagonal with matrix defaults (dim1=-2, dim2=-1)."""
    return A.diagonal(offset, dim1, dim2)


def multi_dot(tensors, *, out=None):
    """linalg.multi_dot: product of a chain of matrices (first/last may be 1-D), multiplied
    in the cheapest order (shared with torch.chain_matmul)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.dim()}D")
    if last.dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.dim()}D")
    for k, t in enumerate(tensors[1:-1], 1):
        if t.dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {k} must be 2D but got {t.dim()}D")
    ms = [first.unsqueeze(0) if first.dim() == 1 else first] + tensors[1:-1] + \
         [last.unsqueeze(-1) if last.dim() == 1 else last]
    for k in range(1, len(ms)):
        if ms[k].dtype != ms[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_ctype(ms[0].dtype)} and tensor {k} {_ctype(ms[k].dtype)}")
        if ms[k - 1].shape[1] != ms[k].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {k - 1} and {k} with shapes {list(tensors[k - 1].shape)} "
                               f"and {list(tensors[k].shape)} cannot be multiplied")
    r = _chain_product(ms)
    if first.dim() == 1:
        r = r.squeeze(0)
    if last.dim() == 1:
        r = r.squeeze(-1)
    return _write_out(r, out)


# ---- LU core -----------------------------------------------------------------------------
def _lu_core(A):
    """Partial-pivoting Doolittle LU of A (..., m, n), out of place so autograd records each
    step. Returns (LU packed as LAPACK's getrf, perm (..., m) int64 with (PA)[i] = A[perm[i]],
    pivots (..., k) 0-based row swapped with row j at step j, parity (...,) of the swaps).

    Each step is one gather (row swap) and one rank-1 update over the whole batch; an
    in-place slice assignment per step was rejected because autograd would need to version
    every slice."""
    m, n = A.shape[-2], A.shape[-1]
    batch = tuple(A.shape[:-2])
    dev, dt = A.device, A.dtype
    rows = _C.arange(m, device=dev)
    cols = _C.arange(n, device=dev)
    perm = rows.expand(*batch, m)
    parity = _C.zeros(batch, dtype=_C.int64, device=dev)
    pivots = []
    for j in range(min(m, n)):
        cand = A.detach().select(-1, j).abs().masked_fill(rows < j, -1.0)
        p = cand.argmax(-1, keepdim=True)                                 # (..., 1)
        # The swap j <-> p as an index map: idx[j] = p, idx[p] = j, identity elsewhere.
        idx = rows + (rows == j).long() * (p - j) + (rows == p).long() * (j - p)
        A = A.gather(-2, idx.unsqueeze(-1).expand(*batch, m, n))
        perm = perm.gather(-1, idx)
        parity = parity + (p.squeeze(-1) != j).long()
        pivots.append(p.squeeze(-1))
        piv = A.select(-2, j).select(-1, j).unsqueeze(-1)                 # (..., 1)
        # A zero pivot means the whole column below is zero (max |.|): skip like LAPACK
        # instead of dividing 0 by 0.
        safe = piv + _mask(piv == 0, dt)
        below = _mask(rows > j, dt)
        lcol = A.select(-1, j) / safe * below                             # (..., m)
        urow = A.select(-2, j) * _mask(cols > j, dt)                      # (..., n)
        A = A - lcol.unsqueeze(-1) * urow.unsqueeze(-2)
        A = _C.where((rows > j).unsqueeze(-1) & (cols == j), lcol.unsqueeze(-1), A)
    piv_t = _C.stack(pivots, -1) if pivots else _C.zeros((*batch, 0), dtype=_C.int64, device=dev)
    return A, perm, piv_t, parity


def _perm_matrix(perm, dtype):
    """P with (P @ X)[i] = X[perm[i]]."""
    m = perm.shape[-1]
    return (perm.unsqueeze(-1) == _C.arange(m, device=perm.device)).to(dtype)


def _tri_solve(T, B, upper, unit=False):
    """X with T X = B for triangular T (..., n, n), B (..., n, k), batch dims broadcast.
    Substitution one row at a time: X starts at zero, so T[i, :] @ X only sees the rows
    already solved."""
    n = T.shape[-1]
    batch = _broadcast_pair(T.shape[:-2], B.shape[:-2])
    X = _C.zeros((*batch, n, B.shape[-1]), dtype=B.dtype, device=B.device)
    eye = _C.eye(n, dtype=B.dtype, device=B.device)
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        ti = T.narrow(-2, i, 1)                                           # (..., 1, n)
        r = B.narrow(-2, i, 1) - ti.matmul(X)
        if not unit:
            r = r / ti.narrow(-1, i, 1)
        X = X + eye.narrow(-1, i, 1) * r
    return X


def _lu_solve(LU, perm, B):
    """A^-1 B from A's packed LU: P A = L U, so X = U^-1 L^-1 P B."""
    y = _perm_matrix(perm, B.dtype).matmul(B)
    y = _tri_solve(LU.tril(-1), y, upper=False, unit=True)
    return _tri_solve(LU.triu(), y, upper=True)


def _zero_pivot(LU, fname_fmt):
    """Raises LinAlgError when a diagonal entry of U is exactly zero (LAPACK's info > 0)."""
    d = LU.diagonal(0, -2, -1)
    hit = _first_failure(d.detach() == 0, LU.dim() > 2)
    if hit is not None:
        raise LinAlgError(fname_fmt(hit[0], hit[1] + 1))


def lu_factor(A, *, pivot=True, out=None):
    """linalg.lu_factor: (LU, pivots) as LAPACK's getrf, pivots 1-based int32."""
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not A.is_floating_point():
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_dtype_name(A.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, _, piv, _ = _lu_core(A)
    _zero_pivot(LU, lambda pre, k: (
        f"torch.linalg.lu_factor: {pre}U[{k},{k}] is zero and using it on lu_solve would result in a division "
        "by zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
        "linalg.lu_factor_ex(A, pivot)"))
    return _out_tuple(_lu_factor_t(LU, (piv + 1).to(_C.int32)), out)


def lu(A, *, pivot=True, out=None):
    """linalg.lu: (P, L, U) with A = P L U, L unit lower (m x k), U upper (k x n)."""
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError(f"linalg.lu: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not A.is_floating_point():
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_dtype_name(A.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    LU, perm, _, _ = _lu_core(A)
    L = LU.narrow(-1, 0, k).tril(-1) + _C.eye(m, k, dtype=A.dtype, device=A.device)
    U = LU.narrow(-2, 0, k).triu()
    return _out_tuple(_lu_t(_perm_matrix(perm, A.dtype).mT, L, U), out)


def _square_float(fname, A):
    _check_matrix(fname, A)
    _check_float(fname, A)


def det(A, *, out=None):
    """linalg.det: product of U's diagonal times the sign of the row permutation."""
    _square_float("linalg.det", A)
    LU, _, _, parity = _lu_core(A)
    sign = 1 - 2 * (parity % 2)
    return _write_out(LU.diagonal(0, -2, -1).prod(-1) * sign.to(A.dtype), out)


def slogdet(A, *, out=None):
    """linalg.slogdet: (sign, logabsdet); a singular A gives (0, -inf) as in PyTorch."""
    _square_float("linalg.slogdet", A)
    LU, _, _, parity = _lu_core(A)
    d = LU.diagonal(0, -2, -1)
    sign = d.sign().prod(-1) * (1 - 2 * (parity % 2)).to(A.dtype)
    return _out_tuple(_slogdet_t(sign, d.abs().log().sum(-1)), out)




def inv(A, *, out=None):
    """linalg.inv: A^-1 via the LU solve against the identity."""
    _square_float("linalg.inv", A)
    LU, perm, _, _ = _lu_core(A)
    _zero_pivot(LU, lambda pre, k: (f"linalg.inv: {pre}The diagonal element {k} is zero, the inversion could "
                                    "not be completed because the input matrix is singular."))
    eye = _C.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return _write_out(_lu_solve(LU, perm, eye), out)


def solve(A, B, *, left=True, out=None):
    """linalg.solve: X with A X = B (left) or X A = B; B is a batch of vectors when it is
    1-D or has A's shape without the last dim, as in PyTorch."""
    _square_float("linalg.solve", A)
    _check_float("linalg.solve", B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_dtype_name(A.dtype)} and B of type {_dtype_name(B.dtype)} instead")
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if not left:
        A, Bm = A.mT, Bm.mT
    if Bm.shape[-2] != A.shape[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({A.shape[-2]}x{A.shape[-1]} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    LU, perm, _, _ = _lu_core(A)
    _zero_pivot(LU, lambda pre, k: f"torch.linalg.solve: {pre}The solver failed because the input matrix "
                                   "is singular.")
    X = _lu_solve(LU, perm, Bm)
    if not left:
        X = X.mT
    return _write_out(X.squeeze(-1) if vector else X, out)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """linalg.solve_triangular: X with A X = B (or X A = B), reading only A's upper or lower
    triangle (and not its diagonal when unitriangular)."""
    _check_matrix("linalg.solve_triangular", A)
    _check_matrix("linalg.solve_triangular", B, square=False, name="B")
    if not A.is_floating_point():
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_dtype_name(A.dtype)}'")
    if B.dtype != A.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of "
                           f"type {_dtype_name(A.dtype)} and B of type {_dtype_name(B.dtype)} instead")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    T = A.triu() if upper else A.tril()
    if left:
        return _write_out(_tri_solve(T, B, upper, unitriangular), out)
    return _write_out(_tri_solve(T.mT, B.mT, not upper, unitriangular).mT, out)


# ---- Cholesky and QR ---------------------------------------------------------------------
def cholesky(A, *, upper=False, out=None):
    """linalg.cholesky: lower L with A = L L^T from A's lower triangle (U = L^T from the
    upper triangle when upper=True); LinAlgError when a leading minor is not positive."""
    _square_float("linalg.cholesky", A)
    A = _sym_from_triangle(A, not upper)
    n = A.shape[-1]
    dt, dev = A.dtype, A.device
    rows = _C.arange(n, device=dev)
    eye = _C.eye(n, dtype=dt, device=dev)
    L = _C.zeros(tuple(A.shape), dtype=dt, device=dev)
    pivots = []
    for j in range(n):
        # Column j of A - L L^T with L's columns < j: only those are filled yet.
        v = A.select(-1, j) - L.matmul(L.select(-2, j).unsqueeze(-1)).squeeze(-1)    # (..., n)
        d = v.narrow(-1, j, 1)
        pivots.append(d.squeeze(-1))
        # Not-positive pivots are clamped so later columns stay finite; the error below is
        # raised before anything is returned.
        root = d.detach().clamp_min(0).eq(0).to(dt) + d.clamp_min(0).sqrt()
        L = L + (v / root * _mask(rows >= j, dt)).unsqueeze(-1) * eye.narrow(-2, j, 1)
    d = _C.stack(pivots, -1) if pivots else _C.zeros((*A.shape[:-2], 0), dtype=dt, device=dev)
    hit = _first_failure(~(d.detach() > 0), A.dim() > 2)
    if hit is not None:
        raise LinAlgError(f"linalg.cholesky: {hit[0]}The factorization could not be completed because the input "
                          f"is not positive-definite (the leading minor of order {hit[1] + 1} is not "
                          "positive-definite).")
    return _write_out(L.mT if upper else L, out)


def qr(A, mode="reduced", *, out=None):
    """linalg.qr by Householder reflections, with LAPACK's sign convention (R[j, j] =
    -sign(A[j, j]) * norm; no reflection when the column below the diagonal is zero)."""
    _check_matrix("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    _check_float("linalg.qr", A)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    dt, dev = A.dtype, A.device
    rows = _C.arange(m, device=dev)
    eye = _C.eye(m, dtype=dt, device=dev)
    R = A
    Q = eye.expand(*A.shape[:-2], m, m)
    for j in range(k):
        x = R.select(-1, j) * _mask(rows >= j, dt)                        # (..., m)
        xj = R.select(-2, j).select(-1, j).unsqueeze(-1)                  # (..., 1)
        sub = x * _mask(rows > j, dt)
        sigma = (sub * sub).sum(-1, keepdim=True)
        skip = sigma.detach() == 0
        s = _mask(xj.detach() >= 0, dt) * 2 - 1
        nrm = (xj * xj + sigma).sqrt()
        v = x + (s * nrm) * eye.select(-1, j)                             # x - alpha e_j
        vn = (v * v).sum(-1, keepdim=True)
        w = v / (vn + _mask(skip, dt)).sqrt() * _mask(~skip, dt)          # zero: H = I
        R = R - 2 * w.unsqueeze(-1) * w.unsqueeze(-2).matmul(R)
        Q = Q - 2 * Q.matmul(w.unsqueeze(-1)) * w.unsqueeze(-2)
    R = R.triu()
    if mode == "r":
        return _out_tuple(_qr_t(_C.empty(0, dtype=dt, device=dev), R.narrow(-2, 0, k)), out)
    if mode == "complete":
        return _out_tuple(_qr_t(Q, R), out)
    return _out_tuple(_qr_t(Q.narrow(-1, 0, k), R.narrow(-2, 0, k)), out)


def matrix_power(A, n, *, out=None):
    """linalg.matrix_power: torch.matrix_power, with negative n as inv(A) ** -n."""
    from . import matrix_power as _mp
    if isinstance(n, numbers.Integral) and not isinstance(n, bool) and n < 0 and isinstance(A, Tensor):
        _check_matrix("linalg.matrix_power", A)
        return _mp(inv(A), -n, out=out)
    return _mp(A, n, out=out)


# ---- Jacobi: eigh and svd ----------------------------------------------------------------
_eigh_t = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_svd_t = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])
_MAX_SWEEPS = 20   # cyclic Jacobi converges quadratically: 6-10 sweeps in practice


def _rounds(n):
    """Round-robin schedule: n - 1 (n even) rounds of disjoint index pairs covering every
    pair once, so a round's rotations commute and apply as one batched matmul. Rejected:
    one (p, q) rotation per step, n (n - 1) / 2 sequential steps per sweep."""
    N = n + (n % 2)
    out = []
    for r in range(N - 1):
        pairs = [(r, N - 1)] + [((r + k) % (N - 1), (r - k) % (N - 1)) for k in range(1, N // 2)]
        out.append([(min(p, q), max(p, q)) for p, q in pairs if max(p, q) < n])
    return out


def _round_tensors(n, dtype, device):
    """Per round: one-hot (n, h) matrices selecting the p's and the q's."""
    eye = _C.eye(n, dtype=dtype, device=device)
    res = []
    for pairs in _rounds(n):
        P = _C.tensor([p for p, _ in pairs], device=device)
        Q = _C.tensor([q for _, q in pairs], device=device)
        res.append((eye.index_select(-1, P), eye.index_select(-1, Q)))
    return res


def _rotation(EP, EQ, t, eye):
    """J = I with J[p,p] = J[q,q] = c, J[p,q] = s, J[q,p] = -s for every pair of the round,
    from tangents t (..., h); built by one-hot matmuls so autograd needs no scatter."""
    c = (t * t + 1).rsqrt()
    s = t * c
    cm, s = (c - 1).unsqueeze(-2), s.unsqueeze(-2)
    return (eye + (EP * cm).matmul(EP.mT) + (EQ * cm).matmul(EQ.mT)
            + (EP * s).matmul(EQ.mT) - (EQ * s).matmul(EP.mT))


def _tangent(num, den):
    """t solving t^2 + 2 zeta t - 1 = 0 (smaller root), zeta = num / (2 den); t = 0 where
    den is already zero."""
    zero = den.detach() == 0
    zeta = num / (2 * (den + zero.to(den.dtype)))
    sgn = (zeta.detach() >= 0).to(den.dtype) * 2 - 1
    t = sgn / (zeta.abs() + zeta.hypot(zeta.new_ones(zeta.shape)))
    return t * (~zero).to(den.dtype)


def _eps(dtype):
    from . import finfo
    return finfo(dtype).eps


def _jacobi_eigh(A, vectors):
    """Cyclic two-sided Jacobi on symmetric A (..., n, n): eigenvalues ascending and (when
    asked) eigenvectors as columns. Stops after the first sweep that leaves the
    off-diagonal below eps * ||A||_F (one host read-back per sweep), at most _MAX_SWEEPS."""
    n = A.shape[-1]
    dt, dev = A.dtype, A.device
    eye = _C.eye(n, dtype=dt, device=dev)
    V = eye.expand(*A.shape) if vectors else None
    rounds = _round_tensors(n, dt, dev) if n > 1 else []
    scale = A.detach().reshape(*A.shape[:-2], -1).abs().amax(-1).amax() if A.numel() else None
    tol = _eps(dt) * n
    for _ in range(_MAX_SWEEPS if rounds and A.numel() else 0):
        for EP, EQ in rounds:
            d = A.diagonal(0, -2, -1).unsqueeze(-2)
            app, aqq = d.matmul(EP).squeeze(-2), d.matmul(EQ).squeeze(-2)
            apq = (A.matmul(EQ) * EP).sum(-2)
            J = _rotation(EP, EQ, _tangent(aqq - app, apq), eye)
            A = J.mT.matmul(A).matmul(J)
            if vectors:
                V = V.matmul(J)
        off = (A.detach() - A.detach().diagonal(0, -2, -1).diag_embed()).abs().amax()
        if not (off > tol * scale).item():
            break
    w, idx = A.diagonal(0, -2, -1).sort(-1)
    if not vectors:
        return w, None
    return w, V.gather(-1, idx.unsqueeze(-2).expand(*V.shape))


def _symmetric_from(fname, A, UPLO):
    _check_matrix(fname, A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if not A.is_floating_point():
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{_dtype_name(A.dtype)}'")
    return _sym_from_triangle(A, UPLO == "L")


def _sym_from_triangle(A, lower):
    """The symmetric matrix A's lower (upper) triangle stands for. Its value reads one
    triangle, but the gradient flows through (A + A^T) / 2, so A.grad is the symmetric
    matrix PyTorch's eigh/cholesky backward returns (reading the triangle alone would put
    the whole off-diagonal gradient on one side)."""
    strict = A.tril(-1) if lower else A.triu(1)
    tri = strict + strict.mT + A.diagonal(0, -2, -1).diag_embed()
    sym = (A + A.mT) * 0.5
    return sym + (tri - sym).detach()


def eigh(A, UPLO="L", *, out=None):
    """linalg.eigh by cyclic Jacobi: (eigenvalues ascending, eigenvectors as columns), from
    the lower (UPLO='L') or upper triangle.

    Deviation: each eigenvector's sign (and the basis of a repeated eigenvalue's space)
    can differ from LAPACK's; both are arbitrary in PyTorch's contract too."""
    w, V = _jacobi_eigh(_symmetric_from("linalg.eigh", A, UPLO), True)
    return _out_tuple(_eigh_t(w, V), out)


def eigvalsh(A, UPLO="L", *, out=None):
    """linalg.eigvalsh: eigh's eigenvalues, ascending."""
    return _write_out(_jacobi_eigh(_symmetric_from("linalg.eigvalsh", A, UPLO), False)[0], out)


def _jacobi_svd(A, vectors):
    """One-sided (Hestenes) Jacobi on A (..., m, n), m >= n: rotate column pairs of W = A V
    until they are orthogonal; S = column norms, U = W / S. Same round schedule and stop
    rule as eigh (relative orthogonality below eps * n)."""
    n = A.shape[-1]
    dt, dev = A.dtype, A.device
    eye = _C.eye(n, dtype=dt, device=dev)
    W = A
    V = eye.expand(*A.shape[:-2], n, n) if vectors else None
    rounds = _round_tensors(n, dt, dev) if n > 1 else []
    tol = _eps(dt) * n
    for _ in range(_MAX_SWEEPS if rounds and A.numel() else 0):
        for EP, EQ in rounds:
            wp, wq = W.matmul(EP), W.matmul(EQ)                           # (..., m, h)
            alpha, beta = (wp * wp).sum(-2), (wq * wq).sum(-2)
            gamma = (wp * wq).sum(-2)
            J = _rotation(EP, EQ, _tangent(beta - alpha, gamma), eye)
            W = W.matmul(J)
            if vectors:
                V = V.matmul(J)
        G = W.detach().mT.matmul(W.detach())
        d = G.diagonal(0, -2, -1).sqrt()
        off = (G - G.diagonal(0, -2, -1).diag_embed()).abs() / (d.unsqueeze(-1) * d.unsqueeze(-2))
        if not (off.nan_to_num(0.0, 0.0, 0.0).amax() > tol).item():
            break
    S2 = (W * W).sum(-2)
    S, idx = S2.sort(-1, descending=True)
    # sqrt after the sort: sqrt's gradient at a zero singular value is inf, PyTorch's is too.
    S = S.sqrt()
    if not vectors:
        return S, None, None
    W = W.gather(-1, idx.unsqueeze(-2).expand(*W.shape))
    V = V.gather(-1, idx.unsqueeze(-2).expand(*V.shape))
    nz = (S.detach() > 0).unsqueeze(-2)
    U = W / (S + (~nz).to(dt).squeeze(-2)).unsqueeze(-2) * nz.to(dt)
    return S, U, V


def _check_svd_input(fname, A):
    _check_matrix(fname, A, square=False)
    _check_float(fname, A)


def svdvals(A, *, driver=None, out=None):
    """linalg.svdvals: singular values, descending, by one-sided Jacobi."""
    _check_svd_input("linalg.svd", A)
    wide = A.shape[-2] < A.shape[-1]
    return _write_out(_jacobi_svd(A.mT if wide else A, False)[0], out)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """linalg.svd: (U, S, Vh) with A = U diag(S) Vh, S descending, by one-sided Jacobi.
    Columns of U for zero singular values (and the extra ones of full_matrices) complete an
    orthonormal basis through Householder QR.

    Deviation: singular vectors' signs (and bases of repeated singular values) can differ
    from LAPACK's; PyTorch documents them as not unique either."""
    _check_svd_input("linalg.svd", A)
    wide = A.shape[-2] < A.shape[-1]
    M = A.mT if wide else A
    m, k = M.shape[-2], M.shape[-1]
    S, U, V = _jacobi_svd(M, True)
    if (full_matrices and m > k) or bool((S.detach() == 0).any().item()):
        Q = qr(U, mode="complete").Q                                      # (..., m, m)
        U = _C.where((S.detach() > 0).unsqueeze(-2), U, Q.narrow(-1, 0, k))
        if full_matrices and m > k:
            U = _C.cat([U, Q.narrow(-1, k, m - k)], -1)
    # For wide A, A^T = U S V^T gives A = V S U^T: the roles swap.
    if wide:
        U, V = V, U
    return _out_tuple(_svd_t(U, S, V.mT), out)


def _tolerance(S_max, atol, rtol, dtype, m, n):
    """max(atol, rtol * S_max) with PyTorch's defaults: rtol = eps * max(m, n) when neither
    is given, 0 when only atol is."""
    if rtol is None:
        rtol = 0.0 if (atol is not None and not (isinstance(atol, numbers.Number) and atol <= 0)) \
            else _eps(dtype) * max(m, n)
    thr = S_max * rtol
    if atol is not None:
        thr = thr.clamp_min(atol) if isinstance(atol, numbers.Number) else _C.where(thr > atol, thr, atol)
    return thr


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """linalg.matrix_rank: how many singular values (|eigenvalues| when hermitian) exceed
    max(atol, rtol * largest), as int64."""
    if tol is not None:
        atol, rtol = tol, 0.0
    _check_matrix("linalg.matrix_rank", A, square=hermitian)
    if not A.is_floating_point():
        raise RuntimeError("This function doesn't handle types other than float and double")
    S = eigvalsh(A).abs() if hermitian else svdvals(A)
    if S.shape[-1] == 0:
        return _write_out(_C.zeros(tuple(S.shape[:-1]), dtype=_C.int64, device=A.device), out)
    thr = _tolerance(S.amax(-1, keepdim=True), atol, rtol, A.dtype, A.shape[-2], A.shape[-1])
    return _write_out((S > thr).long().sum(-1), out)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """linalg.pinv: V diag(1/S) U^T over the singular values above the matrix_rank
    threshold (eigh-based when hermitian)."""
    _check_matrix("linalg.pinv", A, square=hermitian)
    _check_float("linalg.pinv", A)
    if hermitian:
        w, V = eigh(A)
        thr = _tolerance(w.abs().amax(-1, keepdim=True), atol, rtol, A.dtype, A.shape[-2], A.shape[-1])
        keep = w.abs() > thr
        winv = 1 / _C.where(keep, w, 1.0) * keep.to(A.dtype)
        return _write_out((V * winv.unsqueeze(-2)).matmul(V.mT), out)
    U, S, Vh = svd(A, full_matrices=False)
    thr = _tolerance(S.amax(-1, keepdim=True), atol, rtol, A.dtype, A.shape[-2], A.shape[-1]) \
        if S.shape[-1] else S
    keep = S > thr
    sinv = 1 / _C.where(keep, S, 1.0) * keep.to(A.dtype)
    return _write_out((Vh.mT * sinv.unsqueeze(-2)).matmul(U.mT), out)


# ---- top-level torch.* forms (torch.det, ...; declared below) ----------------------------------
_slogdet_top_t = collections.namedtuple("slogdet", ["sign", "logabsdet"])


def _torch_slogdet(input):
    """torch.slogdet: linalg.slogdet under the return type name 'slogdet'."""
    return _slogdet_top_t(*slogdet(input))


def _torch_logdet(input):
    """torch.logdet: log(det A); nan for a negative determinant, -inf for a singular A."""
    _square_float("logdet", input)
    sgn, logabsdet = slogdet(input)
    return _C.where(sgn < 0, math.nan, logabsdet)


def _torch_det(input):
    """torch.det: linalg.det."""
    return det(input)


def _torch_inverse(input, *, out=None):
    """torch.inverse: linalg.inv."""
    return inv(input, out=out)


def _torch_cholesky(input, upper=False, *, out=None):
    """torch.cholesky: removed in PyTorch 2.x, which raises this RuntimeError."""
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. `torch.cholesky` is "
                       "deprecated in favor of `torch.linalg.cholesky`.\nL = torch.cholesky(A) should be replaced "
                       "with:\nL = torch.linalg.cholesky(A)\nU = torch.cholesky(A, upper=True) should be replaced "
                       "with:\nU = torch.linalg.cholesky(A).mH")


# ---- lu_solve, matrix_exp and the other top-level forms (torch.svd, torch.lu, ...) ---------
def _pivots_perm(pivots, m):
    """The row permutation (..., m) int64 that LAPACK-style 1-based `pivots` (..., k) encode
    ((P A)[i] = A[perm[i]]): the swaps j <-> pivots[j] - 1 applied in order, each one
    gather over the batch as in _lu_core."""
    rows = _C.arange(m, device=pivots.device)
    perm = rows.expand(*pivots.shape[:-1], m)
    piv = pivots.long() - 1
    for j in range(pivots.shape[-1]):
        p = piv.narrow(-1, j, 1)
        idx = rows + (rows == j).long() * (p - j) + (rows == p).long() * (j - p)
        perm = perm.gather(-1, idx)
    return perm


def _lu_solve_t(LU, perm, C):
    """X with A^T X = C for A = P L U packed in (LU, perm): U^T L^T P^T X = C."""
    W = _tri_solve(LU.triu().mT, C, upper=False)
    Z = _tri_solve(LU.tril(-1).mT, W, upper=True, unit=True)
    return _perm_matrix(perm, C.dtype).mT.matmul(Z)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """linalg.lu_solve: X with A X = B (A^T X = B when adjoint; X A = B when not left) from
    lu_factor's (LU, pivots)."""
    _check_matrix("linalg.lu_solve", LU, name="LU")
    if not isinstance(B, Tensor) or B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU.dtype != B.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_dtype_name(LU.dtype)} and B of type {_dtype_name(B.dtype)} instead")
    if pivots.dtype != _C.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    perm = _pivots_perm(pivots, n)
    if left:
        X = _lu_solve_t(LU, perm, B) if adjoint else _lu_solve(LU, perm, B)
    else:
        # X A = B is A^T X^T = B^T (X A^T = B: A X^T = B^T)
        X = (_lu_solve(LU, perm, B.mT) if adjoint else _lu_solve_t(LU, perm, B.mT)).mT
    return _write_out(X, out)


_EXP_TAYLOR_DEGREE = 18   # ||X||_1 <= 1/2: the truncation error 0.5^19 / 19! is below float64's eps


def matrix_exp(A):
    """linalg.matrix_exp by scaling and squaring: X = A / 2^s with ||X||_1 <= 1/2 (one s for
    the whole batch, read back once), its Taylor series to degree 18 by Horner's rule, then s
    squarings. Matmuls only, so autograd and every device work; Pade (PyTorch's choice)
    would need a solve per matrix."""
    _square_float("linalg.matrix_exp", A)
    if A.numel() == 0:
        return A.clone()
    n = A.shape[-1]
    norm = A.detach().abs().sum(-2).amax().item()
    s = max(0, math.ceil(math.log2(norm / 0.5))) if math.isfinite(norm) and norm > 0.5 else 0
    X = A / (2.0 ** s) if s else A
    eye = _C.eye(n, dtype=A.dtype, device=A.device)
    E = eye + X / _EXP_TAYLOR_DEGREE
    for k in range(_EXP_TAYLOR_DEGREE - 1, 0, -1):
        E = eye + X.matmul(E) / k
    for _ in range(s):
        E = E.matmul(E)
    return E


_svd_top_t = collections.namedtuple("svd", ["U", "S", "V"])
_lu_unpack_t = collections.namedtuple("lu_unpack", ["P", "L", "U"])
_lu_info_t = collections.namedtuple("_lu_with_info", ["LU", "pivots", "info"])
_triangular_solve_t = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
_warned = set()


def _warn_once(key, msg):
    """PyTorch's TORCH_WARN_ONCE: the deprecation warning on the first call of the process."""
    if key not in _warned:
        _warned.add(key)
        import warnings
        warnings.warn(msg, UserWarning, stacklevel=3)


def _torch_svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd: (U, S, V) with input = U diag(S) V^T (V, not linalg.svd's Vh); `some`
    is the reduced form. Without compute_uv, U and V are zero-filled (m, m) and (n, n)."""
    if not compute_uv:
        S = svdvals(input)
        m, n = input.shape[-2], input.shape[-1]
        U = _C.zeros((*input.shape[:-2], m, m), dtype=input.dtype, device=input.device)
        V = _C.zeros((*input.shape[:-2], n, n), dtype=input.dtype, device=input.device)
        return _out_tuple(_svd_top_t(U, S, V), out)
    U, S, Vh = svd(input, full_matrices=not some)
    return _out_tuple(_svd_top_t(U, S, Vh.mT), out)


def _torch_pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol = rcond."""
    return pinv(input, rtol=rcond)


def _cholesky_checks(fname, b, L, bname="b"):
    if b.dim() < 2:
        raise RuntimeError(f"{bname} should have at least 2 dimensions, but has {b.dim()} dimensions instead")
    if L.dim() < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    if b.dtype != L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_dtype_name(b.dtype)} "
                           f"and A of type {_dtype_name(L.dtype)} instead.")
    if L.shape[-1] != L.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {L.shape[-2]} by {L.shape[-1]} "
                           "matrices")
    if L.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for {fname}: each A matrix is {L.shape[-1]} by "
                           f"{L.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    if not L.is_floating_point():
        raise NotImplementedError(f"\"{fname}_cpu\" not implemented for '{_dtype_name(L.dtype)}'")


def _cholesky_solve(B, L, upper=False):
    """A^-1 B for A = L L^T (A = U^T U when upper), by two triangular solves reading only
    the factor's triangle."""
    if upper:
        U = L.triu()
        return _tri_solve(U, _tri_solve(U.mT, B, upper=False), upper=True)
    L = L.tril()
    return _tri_solve(L.mT, _tri_solve(L, B, upper=False), upper=True)


def _torch_cholesky_solve(input, input2, upper=False, *, out=None):
    """torch.cholesky_solve(B, L, upper): X with A X = B from A's Cholesky factor."""
    _cholesky_checks("cholesky_solve", input, input2)
    return _write_out(_cholesky_solve(input, input2, upper), out)


def _torch_cholesky_inverse(input, upper=False, *, out=None):
    """torch.cholesky_inverse(L, upper): A^-1 from A's Cholesky factor."""
    _check_matrix("cholesky_inverse", input)
    if not input.is_floating_point():
        raise NotImplementedError(f"\"cholesky_inverse_out_cpu\" not implemented for '{_dtype_name(input.dtype)}'")
    n = input.shape[-1]
    eye = _C.eye(n, dtype=input.dtype, device=input.device).expand(*input.shape)
    return _write_out(_cholesky_solve(eye, input, upper), out)


_LU_DEPRECATED = (
    "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be removed in a "
    "future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots = "
    "torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)"
    "\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")


def _torch_lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu: (LU, pivots) as lu_factor, plus LAPACK's info (the first zero pivot of U,
    1-based, 0 if none) when get_infos; a singular A is not an error here."""
    _warn_once("lu", _LU_DEPRECATED)
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not A.is_floating_point():
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_dtype_name(A.dtype)}'")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, _, piv, _ = _lu_core(A)
    pivots = (piv + 1).to(_C.int32)
    if not get_infos:
        return (LU, pivots) if out is None else tuple(_write_out(r, o) for r, o in zip((LU, pivots), out))
    zero = (LU.detach().diagonal(0, -2, -1) == 0).long()                  # (..., k)
    if zero.shape[-1]:
        info = (zero.argmax(-1) + 1) * zero.amax(-1)                       # first zero, 1-based; 0 if none
    else:
        info = _C.zeros(tuple(zero.shape[:-1]), dtype=_C.int64, device=LU.device)
    return _out_tuple(_lu_info_t(LU, pivots, info.to(_C.int32)), out)


_LU_SOLVE_DEPRECATED = (
    "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch release."
    "\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be "
    "replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")


def _torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    """torch.lu_solve(b, LU, pivots): linalg.lu_solve(LU, pivots, b)."""
    _warn_once("lu_solve", _LU_SOLVE_DEPRECATED)
    return lu_solve(LU_data, LU_pivots, b, out=out)


def _torch_lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """torch.lu_unpack: (P, L, U) with A = P L U from lu_factor's (LU, pivots); an empty
    tensor for what is not unpacked."""
    _check_matrix("torch.lu_unpack", LU_data, square=False, name="LU_data")
    if LU_pivots.dtype != _C.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype."
                           "\nNote: this function is intended to be used with the output produced by "
                           "torch.linalg.lu_factor")
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    dt, dev = LU_data.dtype, LU_data.device
    empty = _C.empty(0, dtype=dt, device=dev)
    L = U = P = empty
    if unpack_data:
        L = LU_data.narrow(-1, 0, k).tril(-1) + _C.eye(m, k, dtype=dt, device=dev)
        U = LU_data.narrow(-2, 0, k).triu()
    if unpack_pivots:
        P = _perm_matrix(_pivots_perm(LU_pivots, m), dt).mT
    return _out_tuple(_lu_unpack_t(P, L, U), out)


_TRIANGULAR_SOLVE_DEPRECATED = (
    "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in a future "
    "PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not return a copy of one "
    "of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\nX = "
    "torch.linalg.solve_triangular(A, B).")


def _torch_triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """torch.triangular_solve(b, A): (X with op(A) X = b, A broadcast and copied), reading
    only A's upper (lower) triangle; op(A) = A^T when transpose."""
    _warn_once("triangular_solve", _TRIANGULAR_SOLVE_DEPRECATED)
    for name, t in (("b", input), ("A", A)):
        if t.dim() < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it has "
                               f"{t.dim()} dimensions instead")
    if input.dtype != A.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_dtype_name(input.dtype)} and A of type {_dtype_name(A.dtype)} instead.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} "
                           "matrices")
    if A.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-1]} by "
                           f"{A.shape[-1]} but each b matrix is {input.shape[-2]} by {input.shape[-1]}")
    if not A.is_floating_point():
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_dtype_name(A.dtype)}'")
    T = A.triu() if upper else A.tril()
    if transpose:
        T, upper = T.mT, not upper
    X = _tri_solve(T, input, upper, unitriangular)
    n = A.shape[-1]
    return _out_tuple(_triangular_solve_t(X, A.broadcast_to((*X.shape[:-2], n, n)).clone()), out)


# Removed in PyTorch 2.x: the function stays and raises PyTorch's RuntimeError saying what replaces it.
_REMOVED = "This function was deprecated since version 1.9 and is now removed. "


def _torch_qr(input, some=True, *, out=None):
    raise RuntimeError(
        _REMOVED + "`torch.qr` is deprecated in favor of `torch.linalg.qr` and the boolean parameter `some` has been "
        "replaced with a string parameter `mode`.\n\nQ, R = torch.qr(A) should be replaced with:\nQ, R = "
        "torch.linalg.qr(A, mode='reduced')\n\nand\n\nQ, R = torch.qr(A, some=False) should be replaced with:\n"
        "Q, R = torch.linalg.qr(A, mode='complete')\n\n"
        + ("Since `some` was set to True, use mode='reduced'." if some else
           "Since `some` was set to False, use mode='complete'."))


def _torch_lstsq(input, A, *, out=None):
    raise RuntimeError(
        _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed "
        "arguments and does not return the QR decomposition in the returned tuple (although it returns other "
        "information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`.\n\nThe "
        "returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
        "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the "
        "returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]"
        "\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution")


def _torch_symeig(input, eigenvectors=False, upper=True, *, out=None):
    raise RuntimeError(
        _REMOVED + "The default behavior has changed from using the upper triangular portion of the matrix by "
        "default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced "
        "with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
        "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")


def _torch_eig(input, eigenvectors=False, *, out=None):
    raise RuntimeError(
        _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real "
        "tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
        "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
        "L_complex, V_complex = torch.linalg.eig(A)")


def _torch_solve(input, A, *, out=None):
    raise RuntimeError(
        _REMOVED + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its "
        "arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization see "
        "`torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution "
        "should be replaced with:\nX = torch.linalg.solve(A, B)")


def _torch_matrix_rank(input, tol=None, symmetric=False, *, out=None):
    raise RuntimeError(
        _REMOVED + "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was "
        "renamed in `torch.linalg.matrix_rank()` to 'hermitian'.")


# torch.<name> (bound in the package's __init__) and Tensor.<name>
for _name, _f in (("det", _torch_det), ("logdet", _torch_logdet), ("slogdet", _torch_slogdet),
                  ("inverse", _torch_inverse), ("cholesky", _torch_cholesky), ("svd", _torch_svd),
                  ("pinverse", _torch_pinverse), ("cholesky_solve", _torch_cholesky_solve),
                  ("cholesky_inverse", _torch_cholesky_inverse), ("lu", _torch_lu), ("lu_solve", _torch_lu_solve),
                  ("matrix_exp", matrix_exp), ("triangular_solve", _torch_triangular_solve), ("qr", _torch_qr),
                  ("lstsq", _torch_lstsq), ("symeig", _torch_symeig), ("eig", _torch_eig), ("solve", _torch_solve)):
    _registry.function(_name, _f)
    _registry.method(_name, _f)
# torch.<name> only
_registry.function("lu_unpack", _torch_lu_unpack)
_registry.function("matrix_rank", _torch_matrix_rank)
del _name, _f
