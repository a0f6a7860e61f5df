"""Searching, counting, scanning and reshaping functions composed of existing tensor ops.

Everything here is built from sort/argsort, cumsum, gather, scatter, index_select, where,
... so autograd and every device work without new kernels, and no implementation loops in
Python over elements: scans take log2(n) vectorised steps, and loops run over dimensions or
over a user's explicit list only.
"""
import builtins
import collections
import numbers
import operator

from . import _C
from ._C import Tensor
from ._linalg_extra import _broadcast_pair, _wrap_dim
from .linalg import _check_float
from ._utils import _dtype_name, alias_method, write_out as _write_out

_median = collections.namedtuple("median", ["values", "indices"])
_nanmedian = collections.namedtuple("nanmedian", ["values", "indices"])
_cummax = collections.namedtuple("cummax", ["values", "indices"])
_cummin = collections.namedtuple("cummin", ["values", "indices"])
_aminmax = collections.namedtuple("aminmax", ["min", "max"])

# tensor_split / hsplit with an int makes that many views, empty ones included (as PyTorch
# does); a bound keeps `tensor_split(t, 2**62)` an error instead of hours of Python.
_MAX_SECTIONS = 1 << 20


def _dim(dim, ndim):
    """`dim` wrapped into [0, ndim) (a 0-d tensor counts as 1-d), PyTorch's IndexError otherwise."""
    return _wrap_dim(operator.index(dim), ndim)


def _arange_along(n, dim, ndim, device):
    """arange(n) shaped to broadcast along `dim` of an ndim-d tensor."""
    shape = [1] * ndim
    shape[dim] = n
    return _C.arange(n, device=device).reshape(shape)


def _scan(tensors, dim, combine):
    """Inclusive scan along `dim` of a tuple of same-shaped tensors with an associative
    `combine(earlier, later) -> tuple`: Hillis-Steele doubling, log2(n) vectorised steps
    (rejected: a Python loop per element, whose trip count would be the tensor's size)."""
    n = tensors[0].shape[dim]
    step = 1
    while step < n:
        early = tuple(t.narrow(dim, 0, n - step) for t in tensors)
        late = tuple(t.narrow(dim, step, n - step) for t in tensors)
        merged = combine(early, late)
        tensors = tuple(_C.cat([t.narrow(dim, 0, step), m], dim) for t, m in zip(tensors, merged))
        step *= 2
    return tensors


# ---- unique ------------------------------------------------------------------------------
def _runs(flat, perm, inverse_shape, return_inverse, return_counts):
    """Values, inverse and counts of the runs of equal neighbours in 1-d `flat`; `perm` maps
    positions of `flat` back to the input's (None: identity)."""
    n = flat.shape[0]
    starts = _C.cat([_C.ones(builtins.min(n, 1), dtype=_C.bool, device=flat.device), flat[1:] != flat[:-1]])
    out = [flat.masked_select(starts)]
    if return_inverse:
        group = starts.cumsum(0) - 1
        if perm is not None:
            group = _C.empty(n, dtype=_C.int64, device=flat.device).scatter(0, perm, group)
        out.append(group.reshape(inverse_shape))
    if return_counts:
        first = starts.nonzero().reshape(-1)
        out.append(diff(first, append=_C.tensor([n], device=flat.device)))
    return out[0] if len(out) == 1 else tuple(out)


def _dense_rank(keys):
    """Per column of the 2-d `keys`, each row's rank among the column's distinct values
    (equal values share a rank, ranks run 0, 1, 2, ... in sorted order)."""
    values, perm = keys.sort(0, stable=True)
    starts = _C.cat([_C.ones(1, keys.shape[1], dtype=_C.bool, device=keys.device), values[1:] != values[:-1]])
    return _C.empty(tuple(keys.shape), dtype=_C.int64, device=keys.device).scatter(0, perm, starts.cumsum(0) - 1)


def _slice_rows(input, dim):
    """(dim, input with `dim` moved first, its slices flattened to the rows of a detached
    matrix) for unique and unique_consecutive over slices."""
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, input.dim())
    moved = input.movedim(d, 0)
    n = moved.shape[0]
    if moved.numel() == 0 and n:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    rows = moved.detach().reshape(n, -1) if n else _C.zeros(0, 1, dtype=input.dtype, device=input.device)
    return d, moved, rows


def _slices_out(moved, d, first, inverse, counts, return_inverse, return_counts):
    out = [moved.index_select(0, first).movedim(0, d)]
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def _unique_dim(input, dim, return_inverse, return_counts):
    """unique over slices along `dim`, in lexicographic order of the slices. Rows (the
    flattened slices) are ranked column by column, then adjacent rank columns are merged
    pairwise into one key and re-ranked, halving the columns each round (prefix doubling:
    log2(width) vectorised rounds; rejected: one stable sort per column, a Python loop as
    long as the slices)."""
    d, moved, rows = _slice_rows(input, dim)
    n = rows.shape[0]
    rank = _dense_rank(rows) if n else rows.long()
    while rank.shape[1] > 1:
        if rank.shape[1] % 2:
            rank = _C.cat([rank, _C.zeros(n, 1, dtype=_C.int64, device=rank.device)], 1)
        # ranks are < n, so major * n + minor orders pairs lexicographically without overflow
        rank = _dense_rank(rank[:, 0::2] * n + rank[:, 1::2])
    inverse = rank.reshape(-1)
    counts = _C.zeros(builtins.int(inverse.max().item()) + 1 if n else 0, dtype=_C.int64, device=input.device)
    counts = counts.index_add(0, inverse, _C.ones(n, dtype=_C.int64, device=input.device))
    first = _C.zeros(counts.shape[0], dtype=_C.int64, device=input.device).scatter(
        0, inverse, _C.arange(n, device=input.device))
    return _slices_out(moved, d, first, inverse, counts, return_inverse, return_counts)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """torch.unique: sorted unique values (always sorted, as PyTorch's CPU and CUDA kernels
    return them), optionally the inverse indices and counts; with `dim`, unique slices."""
    if dim is not None:
        return _unique_dim(input, dim, return_inverse, return_counts)
    # not differentiable in PyTorch either
    values, perm = input.detach().reshape(-1).sort(stable=True)
    return _runs(values, perm, input.shape, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """torch.unique_consecutive: collapse runs of equal neighbours (slices along `dim`)."""
    if dim is None:
        return _runs(input.reshape(-1), None, input.shape, return_inverse, return_counts)
    d, moved, rows = _slice_rows(input, dim)
    n = rows.shape[0]
    starts = _C.cat([_C.ones(builtins.min(n, 1), dtype=_C.bool, device=input.device),
                     (rows[1:] != rows[:-1]).any(1)])
    first = starts.nonzero().reshape(-1)
    counts = diff(first, append=_C.tensor([n], device=input.device))
    return _slices_out(moved, d, first, starts.cumsum(0) - 1, counts, return_inverse, return_counts)


# ---- searching ---------------------------------------------------------------------------
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """torch.searchsorted: insertion points of `input` into the innermost dimension of
    `sorted_sequence` (1-d, or with the same leading dimensions as `input`)."""
    seq = sorted_sequence
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if not isinstance(input, Tensor):
        input = _C.tensor(input, device=seq.device)
    if seq.dim() == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension")
    if seq.dim() > 1 and (seq.dim() != input.dim() or tuple(seq.shape[:-1]) != tuple(input.shape[:-1])):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(input.shape)}")
    if seq.dtype == _C.bool or input.dtype == _C.bool:
        raise NotImplementedError(f"\"searchsorted_out_{seq.device.type}\" not implemented for 'Bool'")
    if sorter is not None:
        if tuple(sorter.shape) != tuple(seq.shape):
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}")
        if sorter.dtype != _C.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_dtype_name(sorter.dtype)}")
        if sorter.numel() and ((sorter < 0).any() or (sorter >= seq.shape[-1]).any()):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = seq.gather(-1, sorter)
    dt = _C.promote_types(seq.dtype, input.dtype)
    seq = seq.detach().to(dt)
    vals = input.detach().to(dt)
    if seq.dim() == 1:
        seq, vals = seq.reshape(1, -1), vals.reshape(1, -1)
    m, k = seq.shape[-1], vals.shape[-1]
    # Merge by one stable sort of boundaries and values together: a value's insertion point is
    # its merged position minus the values before it. Ties go to the value (left) or to the
    # boundary (right) by which comes first in the concatenation. Rejected: comparing every
    # value with every boundary, O(m*k) memory.
    merged = _C.cat([seq, vals], -1) if right else _C.cat([vals, seq], -1)
    order = merged.argsort(-1, stable=True)
    is_val = (order >= m) if right else (order < k)
    pos = _arange_along(m + k, vals.dim() - 1, vals.dim(), vals.device)
    count = pos - is_val.cumsum(-1) + is_val.long()
    placed = _C.zeros(tuple(order.shape), dtype=_C.int64, device=vals.device).scatter(-1, order, count)
    res = (placed.narrow(-1, m, k) if right else placed.narrow(-1, 0, k)).reshape(input.shape)
    if out_int32:
        res = res.int()
    return _write_out(res, out)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """torch.bucketize: index of the bucket of each value for 1-d `boundaries`."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """torch.isin: whether each element of `elements` is in `test_elements` (either may be a
    number), by binary search in the sorted test elements. `assume_unique` is accepted and
    ignored: in PyTorch it only selects a faster path."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
                        f"{type(test_elements).__name__}), but expected one of: (Tensor elements, Tensor "
                        "test_elements), (Number element, Tensor test_elements), (Tensor elements, Number test_element)")
    device = (elements if isinstance(elements, Tensor) else test_elements).device
    e = elements if isinstance(elements, Tensor) else _C.tensor(elements, device=device)
    t = test_elements if isinstance(test_elements, Tensor) else _C.tensor(test_elements, device=device)
    dt = _C.promote_types(e.dtype, t.dtype)
    if dt == _C.bool:
        raise NotImplementedError("Unsupported input type encountered for isin(): Bool")
    e = e.detach().to(dt)
    table = t.detach().to(dt).reshape(-1).sort().values
    if table.numel() == 0:
        found = _C.zeros(tuple(e.shape), dtype=_C.bool, device=device)
    else:
        slot = searchsorted(table, e).clamp(max=table.numel() - 1)
        found = table.index_select(0, slot.reshape(-1)).reshape(e.shape) == e
    return found.logical_not() if invert else found


def argwhere(input):
    """torch.argwhere: indices of the nonzero elements, one row each."""
    return input.nonzero()


def take(input, index):
    """torch.take: elements of the flattened `input` at `index` (negative counts from the end)."""
    if index.dtype != _C.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_dtype_name(index.dtype)}")
    n = input.numel()
    flat = index.reshape(-1)
    if flat.numel():
        bad = (flat < -n) | (flat >= n)
        if bad.any():
            i = flat.masked_select(bad)[0].item()
            raise IndexError(f"out of range: tried to access index {i} on a tensor of {n} elements.")
    flat = _C.where(flat < 0, flat + n, flat)
    return input.reshape(-1).index_select(0, flat).reshape(index.shape)


def take_along_dim(input, indices, dim=None):
    """torch.take_along_dim: gather along `dim` with `indices` broadcast against `input`
    (no dim: on the flattened tensors)."""
    if indices.dtype != _C.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_dtype_name(indices.dtype)}")
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices")
    d = _dim(dim, input.dim())
    if input.dim() == 0:
        return input.reshape(1).gather(0, indices.reshape(1)).reshape(())
    in_shape, idx_shape = list(input.shape), list(indices.shape)
    in_shape[d] = idx_shape[d] = 1
    common = _broadcast_pair(in_shape, idx_shape)
    in_shape, idx_shape = list(common), list(common)
    in_shape[d], idx_shape[d] = input.shape[d], indices.shape[d]
    return input.expand(*in_shape).gather(d, indices.expand(*idx_shape))


# ---- NaN-aware and order reductions --------------------------------------------------------
def _reduce_args(dim, keepdim):
    return {} if dim is None else {"dim": dim, "keepdim": keepdim}


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """torch.nansum: sum treating NaN as zero."""
    x = input.masked_fill(input.isnan(), 0) if input.is_floating_point() else input
    kw = _reduce_args(dim, keepdim)
    if dtype is not None:
        kw["dtype"] = dtype
    return x.sum(**kw)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """torch.nanmean: mean over the non-NaN elements."""
    if not input.is_floating_point():
        raise NotImplementedError("nanmean(): expected input to have floating point or complex dtype but got "
                                  f"{_dtype_name(input.dtype)}")
    x = input if dtype is None else input.to(dtype)
    count = x.isnan().logical_not().sum(**_reduce_args(dim, keepdim)).to(x.dtype)
    return nansum(x, dim, keepdim) / count


def _median_impl(input, dim, keepdim, ignore_nan, name):
    """(values, indices) of the lower median along `dim`: a stable sort, then the position of
    the middle element (PyTorch: the first NaN if any, for `median`)."""
    if input.dtype == _C.bool:
        raise NotImplementedError("\"median_out\" not implemented for 'Bool'")
    if input.dim() == 0:
        _dim(dim, 0)
        return input.clone(), _C.zeros((), dtype=_C.int64, device=input.device)
    d = _dim(dim, input.dim())
    n = input.shape[d]
    if n == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    x = input.detach()
    _, perm = x.sort(d, stable=True)
    finite = x.isnan().logical_not().sum(d, keepdim=True) if x.is_floating_point() else None
    if finite is None:
        k = _C.full((1,) * x.dim(), (n - 1) // 2, dtype=_C.int64, device=x.device)
    elif ignore_nan:
        k = ((finite - 1) // 2).clamp(min=0)
    else:
        k = _C.where(finite < n, finite, _C.full((), (n - 1) // 2, dtype=_C.int64, device=x.device))
    shape = list(x.shape)
    shape[d] = 1
    indices = perm.gather(d, k.expand(*shape))
    values = input.gather(d, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return values, indices


def _median_all(input, ignore_nan):
    if input.dtype == _C.bool:
        raise NotImplementedError(f"\"median_{input.device.type}\" not implemented for 'Bool'")
    if input.numel() == 0:
        return _C.full((), float("nan"), dtype=input.dtype, device=input.device)
    return _median_impl(input.reshape(-1), 0, False, ignore_nan, "median")[0]


def median(input, dim=None, keepdim=False):
    """torch.median: the lower median; with `dim`, a (values, indices) named tuple. NaN
    propagates."""
    if dim is None:
        return _median_all(input, False)
    return _median(*_median_impl(input, dim, keepdim, False, "median"))


def nanmedian(input, dim=None, keepdim=False):
    """torch.nanmedian: the lower median of the non-NaN elements."""
    if dim is None:
        return _median_all(input, True)
    return _nanmedian(*_median_impl(input, dim, keepdim, True, "nanmedian"))


def _cum_extreme(input, dim, take_later, result):
    if input.dim() == 0:
        _dim(dim, 0)
        return result(input.clone(), _C.zeros((), dtype=_C.int64, device=input.device))
    d = _dim(dim, input.dim())
    x = input.detach()
    idx = _arange_along(x.shape[d], d, x.dim(), x.device).expand(*x.shape)
    is_float = x.is_floating_point()

    def combine(early, late):
        (va, ia), (vb, ib) = early, late
        # the later element wins ties (PyTorch's >=) and NaN, once seen, wins for good
        pick = take_later(vb, va)
        if is_float:
            pick = pick | vb.isnan()
        return _C.where(pick, vb, va), _C.where(pick, ib, ia)

    _, indices = _scan((x, idx.contiguous()), d, combine)
    # values by gather so that the gradient flows to the selected elements
    return result(input.gather(d, indices), indices)


def cummax(input, dim):
    """torch.cummax: running maximum along `dim` and the index where it was reached."""
    return _cum_extreme(input, dim, lambda b, a: b >= a, _cummax)


def cummin(input, dim):
    """torch.cummin: running minimum along `dim` and the index where it was reached."""
    return _cum_extreme(input, dim, lambda b, a: b <= a, _cummin)


def _logaddexp(a, b):
    hi = a.maximum(b)
    # equal infinities: a - b is NaN; their log-sum is the infinity itself (+ log 2 is harmless)
    gap = _C.where(a == b, _C.zeros((), dtype=a.dtype, device=a.device), -(a - b).abs())
    return hi + gap.exp().log1p()


def logcumsumexp(input, dim):
    """torch.logcumsumexp: log of the running sum of exp along `dim`, by a log-step scan of
    logaddexp (rejected: log(cumsum(exp(x - max))), which underflows to -inf for elements far
    below the maximum)."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"logcumsumexp_out_{input.device.type}\" not implemented for "
                                  f"'{_dtype_name(input.dtype)}'")
    if input.dim() == 0:
        _dim(dim, 0)
        return input.clone()
    d = _dim(dim, input.dim())
    return _scan((input,), d, lambda early, late: (_logaddexp(early[0], late[0]),))[0]


def aminmax(input, *, dim=None, keepdim=False):
    """torch.aminmax: (min, max) named tuple."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        lo, hi = input.amin(), input.amax()
        if keepdim:
            lo, hi = lo.reshape((1,) * input.dim()), hi.reshape((1,) * input.dim())
        return _aminmax(lo, hi)
    d = _dim(dim, input.dim())
    if input.dim() and input.shape[d] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    return _aminmax(input.amin(dim, keepdim), input.amax(dim, keepdim))


def _moment_mean(stat):
    def f(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if not input.is_floating_point():
            raise NotImplementedError(f"{stat}_mean only support floating point and complex dtypes")
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        kw = {"keepdim": keepdim}
        if dim is not None:
            kw["dim"] = dim
        if unbiased is not None:
            kw["unbiased"] = unbiased
        if correction is not None:
            kw["correction"] = correction
        s = getattr(input, stat)(**kw)
        m = input.mean(**_reduce_args(dim, keepdim)) if dim is not None else input.mean()
        if dim is None and keepdim:
            m = m.reshape(s.shape)
        return s, m
    f.__name__ = f.__qualname__ = stat + "_mean"
    f.__doc__ = f"torch.{stat}_mean: ({stat}, mean) in one call; `correction`/`unbiased` as for {stat}."
    return f


var_mean = _moment_mean("var")
std_mean = _moment_mean("std")


# ---- differences and integration ----------------------------------------------------------
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """torch.diff: n-th forward difference along `dim` (logical xor for bool). Each order
    shortens the dimension by one, so the loop runs at most its length times."""
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _dim(dim, input.dim())
    parts = [prepend, append]
    for name, extra in zip(("prepend", "append"), parts):
        if extra is not None:
            if not isinstance(extra, Tensor):
                raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
            if extra.dim() != input.dim():
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    x = input
    if prepend is not None or append is not None:
        dt = input.dtype
        for p in parts:
            if p is not None:
                dt = _C.promote_types(dt, p.dtype)
        x = _C.cat([t.to(dt) for t in (parts[0], input, parts[1]) if t is not None], d)
    for _ in range(builtins.min(n, x.shape[d])):
        m = x.shape[d] - 1
        a, b = x.narrow(d, 0, m), x.narrow(d, 1, m)
        x = b.logical_xor(a) if x.dtype == _C.bool else b - a
    return x


def _trapezoid_parts(y, x, dx, dim, name):
    """(area of each trapezoid along `dim`, floating point, and the wrapped dim)."""
    if y.dtype == _C.bool:
        raise NotImplementedError(f"{name}: received a bool input for `y`, but bool is not supported")
    if y.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, y.dim())
    n = y.shape[d]
    m = builtins.max(n - 1, 0)
    pair = y.narrow(d, 0, m) + y.narrow(d, builtins.min(n, 1), m)
    if x is None:
        area = pair * ((1.0 if dx is None else dx) / 2)
    elif x.dim() == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[d] = x.shape[0]
        x = x.reshape(shape)
        area = pair * (x.narrow(d, builtins.min(n, 1), m) - x.narrow(d, 0, m)) / 2
    else:
        area = pair * diff(x, dim=d) / 2
    return (area if area.is_floating_point() else area.to(_C.get_default_dtype())), d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """torch.trapezoid: trapezoidal rule along `dim`, with sample points `x` or spacing `dx`."""
    parts, d = _trapezoid_parts(y, x, dx, dim, "trapezoid")
    return parts.sum(d)


def trapz(y, x=None, *, dx=None, dim=-1):
    """torch.trapz: alias of trapezoid."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """torch.cumulative_trapezoid: running trapezoidal integral along `dim`."""
    parts, d = _trapezoid_parts(y, x, dx, dim, "cumulative_trapezoid")
    return parts.cumsum(d)


# ---- counting ------------------------------------------------------------------------------
def bincount(input, weights=None, minlength=0):
    """torch.bincount: occurrences (or summed weights) of each non-negative integer."""
    minlength = operator.index(minlength)
    if input.dtype == _C.bool or input.is_floating_point():
        raise NotImplementedError(f"\"bincount_{input.device.type}\" not implemented for '{_dtype_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dim() != 1 or (input.numel() and (input < 0).any()):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    size = builtins.max(minlength, int(input.max().item()) + 1 if input.numel() else 0)
    if weights is None:
        src, dt = _C.ones(input.shape[0], dtype=_C.int64, device=input.device), _C.int64
    else:
        dt = _C.float32 if weights.dtype == _C.float32 else _C.float64
        src = weights.to(dt)
    return _C.zeros(size, dtype=dt, device=input.device).index_add(0, input.long(), src)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """torch.histc: histogram of `bins` equal-width bins over [min, max] (the data's range
    when min == max); elements outside are ignored."""
    bins = operator.index(bins)
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogram_{input.device.type}\" not implemented for '{_dtype_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    x = input.detach().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = x.min().item(), x.max().item()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo != lo or hi != hi or lo in (float("inf"), float("-inf")) or hi in (float("inf"), float("-inf")):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    hist = _C.zeros(bins, dtype=input.dtype, device=input.device)
    keep = (x >= lo) & (x <= hi)
    x = x.masked_select(keep)
    # the bin from the same arithmetic as PyTorch's kernel (in the input's dtype); x == max goes
    # to the last bin
    b = ((x - lo) / (hi - lo) * bins).floor().long().clamp(0, bins - 1)
    hist = hist.index_add(0, b, _C.ones(b.shape[0], dtype=input.dtype, device=input.device))
    return _write_out(hist, out)


# ---- shape functions -----------------------------------------------------------------------
def ravel(input):
    """torch.ravel: contiguous flattened tensor."""
    return input.reshape(-1)


def _sections(input, indices_or_sections, dim, name):
    """Split points of tensor_split along `dim` (already wrapped)."""
    n = input.shape[dim]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype != _C.int64:
            raise RuntimeError(f"{name} expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_dtype_name(ios.dtype)}")
        if ios.dim() > 1:
            raise RuntimeError(f"{name} expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {ios.dim()} dims")
        ios = ios.item() if ios.dim() == 0 else ios.tolist()
    if isinstance(ios, (list, tuple)):
        return [builtins.min(builtins.max(operator.index(i) + (n if i < 0 else 0), 0), n) for i in ios]
    sections = operator.index(ios)
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    if sections > _MAX_SECTIONS:
        raise RuntimeError(f"ferrotorch: {name}: at most {_MAX_SECTIONS} sections are supported, got {sections}")
    q, r = divmod(n, sections)
    return [i * q + builtins.min(i, r) for i in range(1, sections)]


def tensor_split(input, indices_or_sections, dim=0):
    """torch.tensor_split: views split into `sections` near-equal parts or at `indices`.
    Deviation: more than 2**20 sections raise RuntimeError (PyTorch tries to make them all)."""
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _dim(dim, input.dim())
    points = _sections(input, indices_or_sections, d, "tensor_split")
    out, start = [], 0
    for p in points + [input.shape[d]]:
        # decreasing indices give an empty piece, and the next piece starts at the smaller index
        out.append(input.narrow(d, start, builtins.max(p - start, 0)))
        start = p
    return tuple(out)


def _even_split(name, min_dims, dim_of, where):
    def f(input, indices_or_sections):
        if input.dim() < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                               f"with {input.dim()} dimensions!")
        d = dim_of(input)
        if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
            s = operator.index(indices_or_sections)
            if s == 0 or input.shape[d] % s:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the "
                                   f"dimension {input.shape[d]} is not divisible by the split_size {s}!")
        return tensor_split(input, indices_or_sections, d)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.{name}: tensor_split along {where}; an int must divide that dimension evenly."
    return f


hsplit = _even_split("hsplit", 1, lambda t: 0 if t.dim() == 1 else 1, "dimension 1 (0 for 1-d input)")
vsplit = _even_split("vsplit", 2, lambda t: 0, "dimension 0")
dsplit = _even_split("dsplit", 3, lambda t: 2, "dimension 2")


def split_with_sizes(input, split_sizes, dim=0):
    """torch.split_with_sizes: views of the given sizes along `dim`."""
    d = _dim(dim, input.dim())
    sizes = [operator.index(s) for s in split_sizes]
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={sizes}")
    if sum(sizes) != input.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {input.shape[d]} (input tensor's "
                           f"size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(input.narrow(d, start, s))
        start += s
    return tuple(out)


def _atleast(nd):
    def one(t):
        if t.dim() >= nd:
            return t
        if t.dim() == 0:
            return t.reshape((1,) * nd)
        if t.dim() == 1:  # a row: (n) -> (1, n), and (1, n, 1) in 3-d (NumPy's convention)
            return t.reshape((1, -1, 1)[:nd])
        return t.unsqueeze(-1)

    def f(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(one(t) for t in tensors[0])
        if len(tensors) == 1:
            return one(tensors[0])
        return tuple(one(t) for t in tensors)
    f.__name__ = f.__qualname__ = f"atleast_{nd}d"
    f.__doc__ = f"torch.atleast_{nd}d: views with at least {nd} dimensions (tuple for several inputs)."
    return f


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


def dstack(tensors, *, out=None):
    """torch.dstack: concatenate along the third dimension after atleast_3d."""
    r = _C.cat(list(atleast_3d(tuple(tensors))), 2)
    return _write_out(r, out)


def column_stack(tensors, *, out=None):
    """torch.column_stack: 0-d/1-d tensors become columns, then concatenate along dimension 1."""
    r = _C.cat([t.reshape(-1, 1) if t.dim() < 2 else t for t in tensors], 1)
    return _write_out(r, out)


def rot90(input, k=1, dims=(0, 1)):
    """torch.rot90: rotate by 90 degrees k times (k taken mod 4) in the plane `dims`."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = _dim(dims[0], input.dim()), _dim(dims[1], input.dim())
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k = operator.index(k) % 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def fliplr(input):
    """torch.fliplr: reverse dimension 1."""
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


def flipud(input):
    """torch.flipud: reverse dimension 0."""
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return input.flip(0)


# ---- indexed writes ------------------------------------------------------------------------
def _index_along(self, dim, index, name, negative_ok):
    """Checked (dim, 1-d index with negatives wrapped) for index_fill (which takes negative
    indices) and index_copy (which does not)."""
    d = _dim(dim, self.dim())
    if index.dtype != _C.int64:
        raise IndexError(f"{name}(): Expected dtype int64 for index.")
    if index.dim() > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    size = self.shape[d] if self.dim() else 1
    idx = index.reshape(-1)
    bad = (idx < (-size if negative_ok else 0)) | (idx >= size)
    if idx.numel() and bad.any():
        prefix = "" if negative_ok else f"{name}(): "
        raise IndexError(f"{prefix}index {idx.masked_select(bad)[0].item()} is out of bounds for dimension {d} "
                         f"with size {size}")
    return d, _C.where(idx < 0, idx + size, idx)


def _fill_mask(self, dim, index, name):
    d, idx = _index_along(self, dim, index, name, True)
    size = self.shape[d] if self.dim() else 1
    mask = _C.zeros(size, dtype=_C.bool, device=self.device).scatter(0, idx, value=True)
    return mask.reshape([size if i == d else 1 for i in range(self.dim())])


def index_fill(input, dim, index, value):
    """torch.index_fill: `value` written into the slices at `index` along `dim`."""
    return input.masked_fill(_fill_mask(input, dim, index, "index_fill_"), value)


def index_fill_(self, dim, index, value):
    return self.masked_fill_(_fill_mask(self, dim, index, "index_fill_"), value)


def _copy_index(self, dim, index, source, name):
    d, idx = _index_along(self, dim, index, name, False)
    if self.dim() == 0:
        if source.numel() != idx.numel():
            raise IndexError(f"{name}(): Number of indices ({idx.numel()}) should be equal to source.size(dim) "
                             f"({source.numel()})")
    else:
        n_src = source.shape[d] if source.dim() > d else 1
        if n_src != idx.numel():
            raise IndexError(f"{name}(): Number of indices ({idx.numel()}) should be equal to source.size(dim) "
                             f"({n_src})")
        expect = list(self.shape)
        expect[d] = idx.numel()
        if list(source.shape) != expect:
            raise RuntimeError(f"{name}(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {list(self.shape)} at dimension {d} and source slice shape: "
                               f"{list(source.shape)} at dimension {d}.")
    if source.dtype != self.dtype:
        raise RuntimeError(f"{name}(): self and source expected to have the same dtype, but got (self) "
                           f"{_dtype_name(self.dtype)} and (source) {_dtype_name(source.dtype)}")
    if self.dim() == 0:
        return 0, idx, source.reshape(1)
    view = [idx.numel() if i == d else 1 for i in range(self.dim())]
    return d, idx.reshape(view).expand(*source.shape), source


def index_copy(input, dim, index, source):
    """torch.index_copy: slices of `source` written at `index` along `dim`."""
    d, idx, src = _copy_index(input, dim, index, source, "index_copy_")
    if input.dim() == 0:
        return input.reshape(1).scatter(0, idx, src).reshape(())
    return input.scatter(d, idx, src)


def index_copy_(self, dim, index, source):
    d, idx, src = _copy_index(self, dim, index, source, "index_copy_")
    if self.dim() == 0:
        return self.copy_(self.reshape(1).scatter(0, idx, src).reshape(()))
    return self.scatter_(d, idx, src)


def _masked_scatter_values(self, mask, source, shape):
    if mask.dtype != _C.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_dtype_name(mask.dtype)}")
    if source.dtype != self.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_dtype_name(self.dtype)} and {_dtype_name(source.dtype)}")
    m = mask.expand(*shape).reshape(-1)
    need = int(m.sum().item()) if m.numel() else 0
    if need > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if source.numel() == 0:
        return m.reshape(shape), self.expand(*shape)
    pos = (m.cumsum(0) - 1).clamp(min=0)
    return m.reshape(shape), source.reshape(-1).index_select(0, pos).reshape(shape)


def masked_scatter(input, mask, source):
    """torch.masked_scatter: consecutive elements of `source` written where `mask` is True."""
    shape = _broadcast_pair(input.shape, mask.shape)
    m, vals = _masked_scatter_values(input, mask, source, shape)
    return _C.where(m, vals, input.expand(*shape))


def masked_scatter_(self, mask, source):
    _broadcast_pair(self.shape, mask.shape)
    m, vals = _masked_scatter_values(self, mask, source, list(self.shape))
    return self.copy_(_C.where(m, vals, self))


_REDUCE_OPS = {"prod": Tensor.mul, "amax": Tensor.maximum, "amin": Tensor.minimum}


def _scatter_targets(self, dim, index, src, reduce):
    """Checked flat (positions in `self`, values) of a scatter_reduce: every element of `index`
    names the row-major position in `self` it reduces into."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if index.dtype not in (_C.int64, _C.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if self.dtype != src.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.dim() != self.dim() or src.dim() != self.dim():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    d = _dim(dim, self.dim())
    shape, ishape = list(self.shape) or [1], list(index.shape) or [1]
    sshape = list(src.shape) or [1]
    if builtins.any(i > s or (k != d and i > o) for k, (i, s, o) in enumerate(zip(ishape, sshape, shape))):
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(self.shape)} apart "
                           f"from dimension {d} and to be no larger size than src {list(src.shape)}")
    index = index.long().reshape(ishape)
    if index.numel():
        bad = (index < 0) | (index >= shape[d])
        if bad.any():
            raise RuntimeError(f"index {index.masked_select(bad)[0].item()} is out of bounds for dimension {d} with "
                               f"size {shape[d]}")
    vals = src.reshape(sshape)
    for k, i in enumerate(ishape):
        vals = vals.narrow(k, 0, i)
    stride, pos = 1, None
    for k in reversed(range(len(shape))):
        along = index if k == d else _arange_along(ishape[k], k, len(shape), self.device)
        pos = along * stride if pos is None else pos + along * stride
        stride *= shape[k]
    return pos.reshape(-1), vals.reshape(-1)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """torch.scatter_reduce: reduce `src` into `input` at `index` along `dim` with sum, prod,
    mean (floor division for integers), amax or amin. prod/amax/amin use a sorted segmented
    scan. Deviation: where several elements tie for amax/amin the gradient is split by the
    pairwise maximum/minimum rule, not evenly among all of them."""
    pos, vals = _scatter_targets(input, dim, index, src, reduce)
    base = input.reshape(-1)
    hit = _C.zeros(base.shape[0], dtype=_C.bool, device=base.device).scatter(0, pos, value=True)
    if reduce in ("sum", "mean"):
        start = base if include_self else base.masked_fill(hit, 0)
        out = start.scatter_add(0, pos, vals)
        if reduce == "mean":
            one = _C.ones((), dtype=_C.int64, device=base.device)
            n = _C.zeros(base.shape[0], dtype=_C.int64, device=base.device).scatter_add(0, pos, one.expand(*pos.shape))
            n = _C.where(hit, n + builtins.int(builtins.bool(include_self)), one).to(out.dtype)
            out = out / n if out.is_floating_point() else out.floor_divide(n)
        return out.reshape(input.shape)
    if include_self:
        pos = _C.cat([pos, _C.arange(base.shape[0], device=base.device)])
        vals = _C.cat([vals, base])
    order = pos.argsort(stable=True)
    pos, vals = pos.index_select(0, order), vals.index_select(0, order)
    first = _C.ones(builtins.min(pos.shape[0], 1), dtype=_C.bool, device=pos.device)
    starts = _C.cat([first, pos[1:] != pos[:-1]])
    op = _REDUCE_OPS[reduce]
    # segmented scan: a segment start resets the running value
    _, run = _scan((starts, vals), 0,
                   lambda early, late: (early[0] | late[0], _C.where(late[0], late[1], op(early[1], late[1]))))
    last = _C.cat([starts[1:], first])
    return base.scatter(0, pos.masked_select(last), run.masked_select(last)).reshape(input.shape)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return self.copy_(scatter_reduce(self, dim, index, src, reduce, include_self=include_self))


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


# ---- predicates and small methods ----------------------------------------------------------
def is_nonzero(input):
    """torch.is_nonzero: truth value of a one-element tensor."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input.item())


def is_same_size(input, other):
    """torch.is_same_size: whether both tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    """torch.is_signed: whether the dtype is signed (everything but uint8 and bool)."""
    return input.dtype not in (_C.uint8, _C.bool)


def type_as(self, other):
    """Tensor.type_as: `self` cast to `other`'s dtype and device."""
    return self.to(device=other.device, dtype=other.dtype)


def sum_to_size(self, *size):
    """Tensor.sum_to_size: sum `self` down to `size`, which must expand to self's shape."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    size = [operator.index(s) for s in size]
    shape = list(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{size}}} is not expandable to size {{{shape}}}.")
    dims = list(range(lead)) + [lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1]
    r = self.sum(dims, keepdim=True) if dims else self
    return r.reshape(size)


# ---- installation --------------------------------------------------------------------------
# (name, function, also a Tensor method, in-place variant) as PyTorch has them
_FUNCS = [
    ("unique", unique, True), ("unique_consecutive", unique_consecutive, True),
    ("searchsorted", searchsorted, False), ("bucketize", bucketize, False), ("isin", isin, False),
    ("argwhere", argwhere, True), ("take", take, True), ("take_along_dim", take_along_dim, True),
    ("nansum", nansum, True), ("nanmean", nanmean, True), ("median", median, True), ("nanmedian", nanmedian, True),
    ("cummax", cummax, True), ("cummin", cummin, True), ("logcumsumexp", logcumsumexp, True),
    ("aminmax", aminmax, True), ("var_mean", var_mean, False), ("std_mean", std_mean, False),
    ("diff", diff, True), ("trapezoid", trapezoid, False), ("trapz", trapz, False),
    ("cumulative_trapezoid", cumulative_trapezoid, False), ("bincount", bincount, True), ("histc", histc, True),
    ("ravel", ravel, True), ("tensor_split", tensor_split, True), ("hsplit", hsplit, True),
    ("vsplit", vsplit, True), ("dsplit", dsplit, True), ("split_with_sizes", split_with_sizes, True),
    ("atleast_1d", atleast_1d, False), ("atleast_2d", atleast_2d, False), ("atleast_3d", atleast_3d, False),
    ("dstack", dstack, False), ("column_stack", column_stack, False), ("rot90", rot90, True),
    ("fliplr", fliplr, True), ("flipud", flipud, True), ("index_fill", index_fill, True),
    ("index_copy", index_copy, True), ("masked_scatter", masked_scatter, True), ("renorm", renorm, True),
    ("scatter_reduce", scatter_reduce, True),
    ("is_nonzero", is_nonzero, True), ("is_same_size", is_same_size, True), ("is_signed", is_signed, True),
]
_METHODS_ONLY = [("type_as", type_as), ("sum_to_size", sum_to_size), ("index_fill_", index_fill_),
                 ("index_copy_", index_copy_), ("masked_scatter_", masked_scatter_), ("renorm_", renorm_),
                 ("scatter_reduce_", scatter_reduce_)]


def install(namespace, tensor_cls):
    """Adds this module's torch.* functions to `namespace` (the package's globals) and its
    Tensor methods to `tensor_cls`; names that already exist are left alone."""
    aliases = [("moveaxis", tensor_cls.movedim), ("swapdims", tensor_cls.transpose)]
    for name, fn in aliases:
        namespace.setdefault(name, fn)
        if not hasattr(tensor_cls, name):
            setattr(tensor_cls, name, alias_method(name, fn))
    for name, fn, method in _FUNCS:
        namespace.setdefault(name, fn)
        if method and not hasattr(tensor_cls, name):
            setattr(tensor_cls, name, fn)
    for name, fn in _METHODS_ONLY:
        if not hasattr(tensor_cls, name):
            setattr(tensor_cls, name, fn)
