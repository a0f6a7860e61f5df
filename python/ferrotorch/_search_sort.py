"""Searching, sorting-based and counting functions composed of existing tensor ops: unique
and unique_consecutive (values or slices), searchsorted, bucketize, isin, argwhere, bincount
and histc.

Everything is built from sort/argsort, cumsum, gather, scatter, index_select, where, ... so
autograd and every device work without new kernels, and no implementation loops in Python
over elements.
"""
import builtins
import operator

from . import _C
from ._C import Tensor
from ._args import _dim
from ._reductions import diff
from ._registry import function, method
from ._shape import _arange_along
from ._utils import _dtype_name, write_out as _write_out


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


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
# torch.<name> and Tensor.<name>
for _f in (unique, unique_consecutive, argwhere, bincount, histc):
    function(_f.__name__, _f)
    method(_f.__name__, _f)
# torch.<name> only
for _f in (searchsorted, bucketize, isin):
    function(_f.__name__, _f)
del _f
