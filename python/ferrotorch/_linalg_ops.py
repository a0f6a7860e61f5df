"""Top-level linear-algebra functions (torch.*; torch.linalg is linalg.py, which also holds
torch.det/logdet/slogdet/inverse/cholesky): einsum, tensordot, kron, inner, vdot, trace, cdist,
cross, the add-multiply family addmv/addr/addbmm, ger, chain_matmul, matrix_power and renorm,
with their Tensor methods and in-place variants; and `out=` for the matrix-product bindings
(mm, bmm, mv, dot, matmul, outer, addmm).

Everything here is built from matmul/bmm, views (reshape, permute, diagonal, expand),
reductions and pointwise ops, so autograd and every device work without new kernels.
Argument checks mirror PyTorch's messages and run before anything is computed or
written.
"""
import math
import numbers

from . import _C
from ._C import Tensor
from ._args import _check_float, _check_tensor, _dim, _int_arg, _not_bool, _scalar_for, _wrap_dim, _INTEGRAL_OR_BOOL
from ._registry import function, method
from ._shape import _broadcast_pair
from ._utils import _add_out, _dtype_name, inplace, warn_once as _warn_once, write_out as _write_out
from ferrotorch._autocast_op import autocast_op as _autocast_op


# ---- shared helpers ----------------------------------------------------------------------
def _same_dtype(a, b):
    """einsum/cross/cdist's check: every operand has the first one's dtype."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_dtype_name(a.dtype)} but found {_dtype_name(b.dtype)}")


def _contract(a, b, dims_a, dims_b):
    """Sum of a*b over the paired dims: free dims of a, then free dims of b, through one
    mm after permute/reshape (PyTorch's tensordot, not a broadcast multiply + sum)."""
    free_a = [d for d in range(a.dim()) if d not in dims_a]
    free_b = [d for d in range(b.dim()) if d not in dims_b]
    k = math.prod(a.shape[d] for d in dims_a)
    m = math.prod(a.shape[d] for d in free_a)
    n = math.prod(b.shape[d] for d in free_b)
    am = a.permute(*free_a, *dims_a).reshape(m, k)
    bm = b.permute(*dims_b, *free_b).reshape(k, n)
    return am.mm(bm).reshape(*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b])


# ---- einsum --------------------------------------------------------------------------
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [out_sublist]) as an equation string."""
    def term(sub):
        s = ""
        for x in sub:
            if x is Ellipsis:
                s += "..."
                continue
            if not 0 <= x < 52:
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
            s += _LETTERS[x]
        return s
    ops, subs = list(args[0::2]), list(args[1::2])
    out = ops.pop() if len(args) % 2 else None
    eq = ",".join(term(s) for s in subs)
    return (eq if out is None else eq + "->" + term(out)), ops


def _parse_term(eq, start, stop, k):
    """Labels of one operand's term eq[start:stop]; None marks its ellipsis."""
    labels, i = [], start
    while i < stop:
        c = eq[i]
        if c == ".":
            if None in labels:
                raise RuntimeError(f"einsum(): found '.' for operand {k} for which an ellipsis was already found")
            if eq[i:i + 3] != "..." or i + 3 > stop:
                raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
            labels.append(None)
            i += 3
            continue
        if c in _LETTERS:
            labels.append(c)
        elif c != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
        i += 1
    return labels


@_autocast_op("einsum")
def einsum(*args):
    """torch.einsum: equation with explicit ('->') or implicit output, '...', repeated
    labels within an operand (diagonals), operands as varargs, one list, or sublists.
    Each pair of operands is contracted by bmm after permute/reshape."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        eq = args[0]
        ops = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) else list(args[1:])
    else:
        eq, ops = _sublist_equation(args)
    for k, t in enumerate(ops):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got {type(t).__name__}")
    arrow = eq.find("->")
    lhs_end = arrow if arrow >= 0 else len(eq)
    terms, start = [], 0
    for i in range(lhs_end + 1):
        if i == lhs_end or eq[i] == ",":
            terms.append(_parse_term(eq, start, i, len(terms)))
            start = i + 1
    if len(terms) > len(ops):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(ops):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    out_labels = _parse_term(eq, arrow + 2, len(eq), len(ops)) if arrow >= 0 else None

    # Give each ellipsis dim a label of its own (ints, right-aligned across operands) and
    # check sizes: a label's sizes must agree or be 1 (broadcast), as in PyTorch.
    n_ell = 0
    for k, (labels, t) in enumerate(zip(terms, ops)):
        named = len(labels) - (None in labels)
        if None not in labels and named != t.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({t.dim()}) for operand {k} and no ellipsis was given")
        if named > t.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                               f"number of dimensions ({t.dim()}) for operand {k}")
        n_ell = max(n_ell, t.dim() - named)
    sizes, ell_sizes, expanded = {}, {}, []
    for k, (labels, t) in enumerate(zip(terms, ops)):
        ell = t.dim() - (len(labels) - (None in labels))
        full = []
        for lab in labels:
            full.extend(range(n_ell - ell, n_ell) if lab is None else [lab])
        for d, lab in enumerate(full):
            s = t.shape[d]
            if isinstance(lab, int):
                seen = ell_sizes.get(lab, 1)
                if s != seen and s != 1 and seen != 1:
                    raise RuntimeError(
                        f"einsum(): dimension {lab - n_ell + ell} covered by ellipsis in operand {k}has size {s} "
                        f"which does not broadcast with previously seen ellipsis with size {seen} for the "
                        "respective dimension")
                if seen == 1:
                    ell_sizes[lab] = s
                continue
            first = full.index(lab)
            if first != d and t.shape[first] != s:
                raise RuntimeError(f"einsum(): subscript {lab} is repeated for operand {k} but the sizes don't "
                                   f"match, {s} != {t.shape[first]}")
            seen = sizes.get(lab, 1)
            if first == d and s != seen and s != 1 and seen != 1:
                raise RuntimeError(f"einsum(): subscript {lab} has size {s} for operand {k} which does not "
                                   f"broadcast with previously seen size {seen}")
            if seen == 1:
                sizes[lab] = s
        expanded.append(full)

    if out_labels is None:
        counts = {}
        for full in expanded:
            for lab in full:
                counts[lab] = counts.get(lab, 0) + 1
        out = list(range(n_ell)) + sorted(lab for lab, c in counts.items() if isinstance(lab, str) and c == 1)
    else:
        out = []
        for lab in out_labels:
            if lab is None:
                out.extend(range(n_ell))
                continue
            if lab in out:
                raise RuntimeError(f"einsum(): output subscript {lab} appears more than once in the output")
            if lab not in sizes:
                raise RuntimeError(f"einsum(): output subscript {lab} does not appear in the equation for any "
                                   "input operand")
            out.append(lab)

    # Repeated labels within an operand become one diagonal dim (moved last by diagonal()).
    cur = []
    for full, t in zip(expanded, ops):
        labs = list(full)
        for lab in dict.fromkeys(full):
            while labs.count(lab) > 1:
                i = labs.index(lab)
                j = labs.index(lab, i + 1)
                t = t.diagonal(0, i, j)
                labs = [x for n, x in enumerate(labs) if n not in (i, j)] + [lab]
        cur.append((t, labs))

    multi = len(cur) > 1
    t, labs = _sum_unshared(cur[0], [c[1] for c in cur[1:]], out, multi)
    for k in range(1, len(cur)):
        keep = set(out).union(*[c[1] for c in cur[k + 1:]])
        b, blabs = _sum_unshared(cur[k], [labs] + [c[1] for c in cur[k + 1:]], out, multi)
        t, labs = _pair(t, labs, b, blabs, keep)
    return t.permute(*[labs.index(lab) for lab in out]) if labs else t


def _sum_unshared(op, others, out, keep_dtype):
    """Sums the dims whose label is in no other operand and not in the output (PyTorch does
    this before contracting, so the bmm operands stay small)."""
    t, labs = op
    gone = [d for d, lab in enumerate(labs) if lab not in out and not any(lab in o for o in others)]
    if not gone:
        return t, labs
    # Between operands PyTorch keeps the operand dtype (its bmm needs one dtype); a single
    # operand is a plain sum, which widens integers to int64.
    t = t.sum(tuple(gone), dtype=t.dtype) if keep_dtype else t.sum(tuple(gone))
    return t, [lab for d, lab in enumerate(labs) if d not in gone]


def _pair(a, alabs, b, blabs, keep):
    """Contracts two operands with one bmm: dims are ordered [batch, a-only, summed] and
    [batch, summed, b-only]; size-1 dims broadcast against the other operand's size.
    Without summed dims it is a broadcast multiply (dtypes promoted), as in PyTorch."""
    batch = [lab for lab in alabs if lab in blabs and lab in keep]
    summed = [lab for lab in alabs if lab in blabs and lab not in keep]
    a_only = [lab for lab in alabs if lab not in blabs]
    b_only = [lab for lab in blabs if lab not in alabs]
    size = {lab: a.shape[alabs.index(lab)] for lab in a_only}
    size.update({lab: b.shape[blabs.index(lab)] for lab in b_only})
    for lab in batch + summed:
        sa, sb = a.shape[alabs.index(lab)], b.shape[blabs.index(lab)]
        size[lab] = sb if sa == 1 else sa
    ap = a.permute(*[alabs.index(lab) for lab in batch + a_only + summed])
    bp = b.permute(*[blabs.index(lab) for lab in batch + summed + b_only])
    if not summed:
        ap = ap.reshape(*ap.shape, *(1,) * len(b_only))
        bp = bp.reshape(*bp.shape[:len(batch)], *(1,) * len(a_only), *bp.shape[len(batch):])
        return ap * bp, batch + a_only + b_only
    if not (_C._autocast_any_enabled() and a.is_floating_point() and b.is_floating_point()):
        # Under autocast the bmm below casts its operands, so PyTorch's einsum takes mixed floats.
        _same_dtype(a, b)
    _not_bool("bmm", a)
    ap = ap.expand(*[size[lab] for lab in batch + a_only + summed])
    bp = bp.expand(*[size[lab] for lab in batch + summed + b_only])
    nb = math.prod(size[lab] for lab in batch)
    m = math.prod(size[lab] for lab in a_only)
    k = math.prod(size[lab] for lab in summed)
    n = math.prod(size[lab] for lab in b_only)
    r = ap.reshape(nb, m, k).bmm(bp.reshape(nb, k, n))
    return r.reshape(*[size[lab] for lab in batch + a_only + b_only]), batch + a_only + b_only


# ---- products ------------------------------------------------------------------------
@_autocast_op("tensordot")
def tensordot(a, b, dims=2, out=None):
    """torch.tensordot: dims an int (last dims of a with first dims of b), a pair of dim
    lists, or a tensor holding either."""
    _check_tensor("tensordot", "a", 1, a)
    _check_tensor("tensordot", "b", 2, b)
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.numel() == 1 else dims.tolist()
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.dim() - dims, a.dim())), list(range(dims))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        for pos, (n, d) in enumerate(zip(("dims_self", "dims_other"), dims)):
            if not isinstance(d, (list, tuple)):
                raise TypeError(f"tensordot(): argument '{n}' (position {pos + 3}) must be tuple of ints, "
                                f"not {type(d).__name__}")
        dims_a = [_int_arg("tensordot", "dims_self", 3, d) for d in dims[0]]
        dims_b = [_int_arg("tensordot", "dims_other", 4, d) for d in dims[1]]
    else:
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
                           f"containing two lists, but got dims={dims}")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    _not_bool("addmm_impl_cpu_", a)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    dims_a = [_wrap_dim(d, a.dim()) for d in dims_a]
    dims_b = [_wrap_dim(d, b.dim()) for d in dims_b]
    for dl in (dims_a, dims_b):
        for d in dl:
            if dl.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    # A contracted size 1 against size n: PyTorch sums the other side over that dim first.
    for da, db in zip(dims_a, dims_b):
        sa, sb = a.shape[da], b.shape[db]
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in dim {da} and "
                               f"second has size {sb} in dim {db}")
        if sb == 1 and sa != 1:
            a = a.sum(da, keepdim=True, dtype=a.dtype)
        elif sa == 1 and sb != 1:
            b = b.sum(db, keepdim=True, dtype=b.dtype)
    return _write_out(_contract(a, b, dims_a, dims_b), out)


def kron(input, other, *, out=None):
    """torch.kron: Kronecker product (dtype promoted), as an interleaved broadcast multiply."""
    _check_tensor("kron", "input", 1, input)
    _check_tensor("kron", "other", 2, other)
    nd = max(input.dim(), other.dim())
    a = input.reshape(*(1,) * (nd - input.dim()), *input.shape)
    b = other.reshape(*(1,) * (nd - other.dim()), *other.shape)
    ai = a.reshape(*[x for s in a.shape for x in (s, 1)])
    bi = b.reshape(*[x for s in b.shape for x in (1, s)])
    return _write_out((ai * bi).reshape(*[x * y for x, y in zip(a.shape, b.shape)]), out)


def inner(input, other, *, out=None):
    """torch.inner: sum over the last dims (a 0-d operand multiplies instead)."""
    _check_tensor("inner", "input", 1, input)
    _check_tensor("inner", "other", 2, other)
    if input.dim() == 0 or other.dim() == 0:
        return _write_out(input * other, out)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError("inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    if input.dtype != other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    _not_bool("dot", input)
    return _write_out(_contract(input, other, [input.dim() - 1], [other.dim() - 1]), out)


@_autocast_op("vdot")
def vdot(input, other, *, out=None):
    """torch.vdot: for real dtypes the same as dot (no conjugation needed)."""
    _check_tensor("vdot", "input", 1, input)
    _check_tensor("vdot", "other", 2, other)
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_dtype_name(input.dtype)} and {_dtype_name(other.dtype)}")
    if input.shape[0] != other.shape[0]:
        n, m = input.shape[0], other.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
                           f"number of elements, but got {n} and {m} elements respectively")
    _not_bool("dot", input)
    return _write_out(input.dot(other), out)


@_autocast_op("trace")
def trace(input):
    """torch.trace: sum of the main diagonal of a matrix (integers sum to int64)."""
    _check_tensor("trace", "input", 1, input)
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    _not_bool("trace", input)
    return input.diagonal().sum()


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


@_autocast_op("cdist")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """torch.cdist: p-norm distances between the rows of x1 and x2 (batched, batch dims
    broadcast). p=2 uses PyTorch's matmul expansion when compute_mode asks for it (by
    default when either side has more than 25 rows), else exact differences. As in
    PyTorch, a zero distance has a zero gradient."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    _check_tensor("cdist", "x1", 1, x1)
    _check_tensor("cdist", "x2", 2, x2)
    for name, t in (("X1", x1), ("X2", x2)):
        if t.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_dtype_name(t.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    _same_dtype(x1, x2)
    if x1.dtype in (_C.float16, _C.bfloat16):
        raise NotImplementedError(f"\"cdist\" not implemented for '{_dtype_name(x1.dtype)}'")
    batch = _broadcast_pair(x1.shape[:-2], x2.shape[:-2])
    r1, r2, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    a = x1.expand(*batch, r1, m)
    b = x2.expand(*batch, r2, m)
    if m == 0:
        return _C.zeros((*batch, r1, r2), dtype=x1.dtype, device=x1.device)
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist"
                         or (compute_mode == _CDIST_MODES[0] and (r1 > 25 or r2 > 25)))
    if use_mm:
        # |a|^2 - 2 a.b + |b|^2 as one matmul of padded operands (PyTorch's _euclidean_dist).
        an = a.pow(2).sum(-1, keepdim=True)
        bn = b.pow(2).sum(-1, keepdim=True)
        a_ = _C.cat([a * -2, an, _C.ones(an.shape, dtype=an.dtype, device=an.device)], -1)
        b_ = _C.cat([b, _C.ones(bn.shape, dtype=bn.dtype, device=bn.device), bn], -1)
        return a_.matmul(b_.mT).clamp_min(1e-30).sqrt()
    diff = (a.unsqueeze(-2) - b.unsqueeze(-3)).abs()
    if p == 0:
        # counts nonzero differences (NaN included) and stays in the graph with a zero gradient
        return _C.where(diff != 0, 1.0, diff * 0).sum(-1)
    if p == 1:
        return diff.sum(-1)
    if p == math.inf:
        return diff.amax(-1)
    # The p-th root has an infinite slope at 0, so zero sums take a constant branch (gradient
    # 0, PyTorch's value) instead of NaN from inf * 0.
    total = diff.pow(p).sum(-1)
    nonzero = total > 0
    return _C.where(nonzero, _C.where(nonzero, total, 1.0).pow(1.0 / p), 0.0)


@_autocast_op("cross")
def cross(input, other, dim=None, *, out=None):
    """torch.cross: cross product along `dim` (default, deprecated as in PyTorch: input's
    first dim of size 3). The other dims broadcast."""
    _check_tensor("cross", "input", 1, input)
    _check_tensor("cross", "other", 2, other)
    if dim is None:
        _warn_once("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                   "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                   "with that of linalg.cross in a future release.")
        if 3 not in tuple(input.shape):
            raise RuntimeError("no dimension of size 3 in input")
        dim = tuple(input.shape).index(3)
    dim = _int_arg("cross", "dim", 3, dim)
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    dim = _wrap_dim(dim, input.dim())
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {input.shape[dim]} and {other.shape[dim]}")
    _same_dtype(input, other)
    _not_bool("cross", input)
    _broadcast_pair(input.shape, other.shape)
    a0, a1, a2 = (input.narrow(dim, k, 1) for k in range(3))
    b0, b1, b2 = (other.narrow(dim, k, 1) for k in range(3))
    r = _C.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)
    return _write_out(r, out)


# ---- add-multiply family ----------------------------------------------------------------
def _beta_alpha(dtype, beta, alpha):
    """addr/addbmm's beta and alpha: a float is PyTorch's error for integer (and bool) input."""
    if dtype in _INTEGRAL_OR_BOOL:
        for n, s in (("beta", beta), ("alpha", alpha)):
            if isinstance(s, float):
                raise RuntimeError(f"For integral input tensors, argument {n} must not be a floating point number.")
    return _scalar_for(beta, dtype), _scalar_for(alpha, dtype)


def _add_scaled(input, prod, beta, alpha):
    """beta * input + alpha * prod with input already broadcastable to prod; beta == 0
    ignores input (NaN included) as PyTorch does. Bool tensors combine with or/and."""
    if prod.dtype == _C.bool:
        prod = prod if alpha else prod.logical_and(False)
        return prod.logical_or(input) if beta else prod
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return prod
    return (input if beta == 1 else input * beta) + prod


@_autocast_op("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """torch.addmv: beta * input + alpha * (mat @ vec); all three of one dtype."""
    for k, (n, t) in enumerate((("input", input), ("mat", mat), ("vec", vec))):
        _check_tensor("addmv", n, k + 1, t)
    if mat.dim() != 2 or vec.dim() != 1 or input.dim() > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0] or input.numel() not in (1, mat.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.dim() else 1}), "
                           f"mat ({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    if not input.dtype == mat.dtype == vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_dtype_name(input.dtype)}, "
                           f"{_dtype_name(mat.dtype)}, and {_dtype_name(vec.dtype)}")
    # Unlike addr, PyTorch's addmv takes a float beta/alpha for integers (truncated).
    beta, alpha = _scalar_for(beta, input.dtype), _scalar_for(alpha, input.dtype)
    return _write_out(_add_scaled(input, mat.mv(vec), beta, alpha), out)


@_autocast_op("addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """torch.addr: beta * input + alpha * outer(vec1, vec2) (dtypes promoted)."""
    for k, (n, t) in enumerate((("input", input), ("vec1", vec1), ("vec2", vec2))):
        _check_tensor("addr", n, k + 1, t)
    for n, t in (("vec1", vec1), ("vec2", vec2)):
        if t.dim() != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {n}, but got {t.dim()}-D")
    input.expand(vec1.shape[0], vec2.shape[0])
    dtype = _C.promote_types(_C.promote_types(input.dtype, vec1.dtype), vec2.dtype)
    beta, alpha = _beta_alpha(dtype, beta, alpha)
    return _write_out(_add_scaled(input, vec1.outer(vec2), beta, alpha), out)


@_autocast_op("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """torch.addbmm: beta * input + alpha * sum_b batch1[b] @ batch2[b], the batch sum done
    by one mm over the concatenated inner dims."""
    for k, (n, t) in enumerate((("input", input), ("batch1", batch1), ("batch2", batch2))):
        _check_tensor("addbmm", n, k + 1, t)
    # PyTorch's order: input is expanded to (batch1.size(1), batch2.size(2)) before the 3-d checks.
    input.expand(batch1.shape[_wrap_dim(1, batch1.dim())], batch2.shape[_wrap_dim(2, batch2.dim())])
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t.dim() != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    b, n, k = batch1.shape
    b2, k2, m = batch2.shape
    if b != b2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b} and {b2}")
    if k != k2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and {k2}x{m})")
    if batch1.dtype != batch2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dtype_name(batch1.dtype)} and "
                           f"{_dtype_name(batch2.dtype)}")
    if input.dtype != batch2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(input.dtype)} and "
                           f"{_dtype_name(batch2.dtype)}")
    beta, alpha = _beta_alpha(input.dtype, beta, alpha)
    prod = batch1.permute(1, 0, 2).reshape(n, b * k).mm(batch2.reshape(b * k, m))
    return _write_out(_add_scaled(input, prod, beta, alpha), out)


def ger(input, vec2, *, out=None):
    """torch.ger: the outer product (an old alias of outer)."""
    _check_tensor("ger", "input", 1, input)
    _check_tensor("ger", "vec2", 2, vec2)
    for n, t in (("self", input), ("vec2", vec2)):
        if t.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {n}, but got {t.dim()}-D")
    return _write_out(input.outer(vec2), out)


# The C++ element type names PyTorch's multi_dot prints.
_CTYPE = {_C.float32: "float", _C.float64: "double", _C.float16: "c10::Half", _C.bfloat16: "c10::BFloat16",
          _C.int64: "long int", _C.int32: "int", _C.int16: "short int", _C.int8: "signed char",
          _C.uint8: "unsigned char", _C.bool: "bool"}


@_autocast_op("chain_matmul")
def chain_matmul(*matrices, out=None):
    """torch.chain_matmul (deprecated in PyTorch, with its one-time warning): the product
    of 2-d matrices, multiplied in the cheapest order as PyTorch's multi_dot does."""
    _warn_once("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
               "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
               "multiple parameters.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for k, t in enumerate(matrices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
        if t.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {t.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        return _write_out(matrices[0].clone(), out)
    for k, t in enumerate(matrices[1:]):
        a = matrices[k]
        if t.dtype != matrices[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_CTYPE[matrices[0].dtype]} and tensor {k + 1} {_CTYPE[t.dtype]}")
        if a.shape[1] != t.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {k} and {k + 1} with shapes {list(a.shape)} and "
                               f"{list(t.shape)} cannot be multiplied")
    return _write_out(_chain_product(matrices), out)


def _chain_product(ms):
    """Product of a chain of matrices in multi_dot's order: for three, (AB)C unless A(BC)
    costs less; for more, the textbook matrix-chain DP (ties to the earlier split)."""
    n = len(ms)
    dims = [ms[0].shape[0]] + [m.shape[1] for m in ms]
    if n == 3:
        a, b, c, d = dims
        return ms[0].mm(ms[1].mm(ms[2])) if a * c * (b + d) > b * d * (a + c) else ms[0].mm(ms[1]).mm(ms[2])
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k

    def product(i, j):
        return ms[i] if i == j else product(i, split[i][j]).mm(product(split[i][j] + 1, j))
    return product(0, n - 1)


def matrix_power(input, n, *, out=None):
    """torch.matrix_power: the n-th power of (batches of) square matrices by repeated
    squaring (at most 63 squarings for an int64 n); a negative n powers linalg.inv(input)."""
    _check_tensor("matrix_power", "input", 1, input)
    n = _int_arg("matrix_power", "n", 2, n)
    if input.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input.shape[-2]} by {input.shape[-1]} matrices")
    if n < 0:
        from .linalg import inv  # (linalg is built on this module's ops: imported at call time)
        input, n = inv(input), -n
    if n == 0:
        eye = _C.eye(input.shape[-1], dtype=input.dtype, device=input.device)
        return _write_out(eye.expand(*input.shape).clone(), out)
    result, base = None, input
    while True:
        if n & 1:
            result = base if result is None else result.matmul(base)
        n >>= 1
        if not n:
            break
        base = base.matmul(base)
    return _write_out(result.clone() if result is input else result, out)


# ---- norms -------------------------------------------------------------------------------
def renorm(input, p, dim, maxnorm):
    """torch.renorm: rescale each slice along `dim` whose p-norm exceeds `maxnorm` to norm
    `maxnorm` (PyTorch's 1e-7 guard in the divisor)."""
    _check_float("linalg.vector_norm", input)
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    d = _dim(dim, input.dim())
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    others = [i for i in range(input.dim()) if i != d]
    norms = input.detach().double().norm(p, dim=others, keepdim=True)
    factor = _C.where(norms > maxnorm, maxnorm / (norms + 1e-7), _C.ones((), dtype=norms.dtype, device=norms.device))
    return input * factor.to(input.dtype)


def renorm_(self, p, dim, maxnorm):
    return self.copy_(renorm(self, p, dim, maxnorm))


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
# torch.<name> and Tensor.<name>
for _f in (kron, inner, vdot, trace, cross, addmv, addr, addbmm, ger, matrix_power, renorm):
    function(_f.__name__, _f)
    method(_f.__name__, _f)
# torch.<name> only
for _f in (einsum, tensordot, cdist, chain_matmul):
    function(_f.__name__, _f)
# in-place Tensor.<name>_
for _f in (addmv, addr, addbmm):
    method(_f.__name__ + "_", inplace(_f.__name__, _f))
del _f
method("renorm_", renorm_)
# `out=` for the matrix-product bindings (their kernels don't take it)
mm = function("mm", _add_out(Tensor.mm), replace=True)
bmm = function("bmm", _add_out(Tensor.bmm), replace=True)
mv = function("mv", _add_out(Tensor.mv), replace=True)
dot = function("dot", _add_out(Tensor.dot), replace=True)
matmul = function("matmul", _add_out(Tensor.matmul), replace=True)
outer = function("outer", _add_out(Tensor.outer), replace=True)
addmm = function("addmm", _add_out(Tensor.addmm), replace=True)
