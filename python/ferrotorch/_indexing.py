"""Indexed reads and writes composed of gather, scatter, index_select and where: take,
take_along_dim, index_fill, index_copy, masked_scatter and scatter_reduce (sum, prod, mean,
amax, amin), with their in-place Tensor methods.

Argument checks mirror PyTorch's messages and run before anything is written.
"""
import builtins

from . import _C
from ._C import Tensor
from ._args import _dim
from ._reductions import _scan
from ._registry import function, method
from ._shape import _arange_along, _broadcast_pair
from ._utils import _dtype_name


# ---- indexed reads -------------------------------------------------------------------------
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


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
# torch.<name> and Tensor.<name>, and the in-place Tensor.<name>_
for _f, _f_ in ((take, None), (take_along_dim, None), (index_fill, index_fill_), (index_copy, index_copy_),
                (masked_scatter, masked_scatter_), (scatter_reduce, scatter_reduce_)):
    function(_f.__name__, _f)
    method(_f.__name__, _f)
    if _f_ is not None:
        method(_f_.__name__, _f_)
del _f, _f_


# ---- index_put -----------------------------------------------------------------------------
def _index_put_checked(name, input, indices, values, accumulate, inplace):
    """index_put(_) with PyTorch's argument errors: `indices` a tuple (or list) of tensors
    (None or an int in it is a TypeError, as PyTorch's), `values` a tensor."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for k, i in enumerate(indices):
        if not isinstance(i, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(i).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    taken = builtins.sum(i.dim() if i.dtype in (_C.bool, _C.uint8) else 1 for i in indices)
    if taken > input.dim():
        raise IndexError(f"too many indices for tensor of dimension {input.dim()} (got {len(indices)})")
    return _C._index_put(input, tuple(indices), values, builtins.bool(accumulate), inplace)


def _index_put(input, indices, values, accumulate=False):
    """torch.index_put / Tensor.index_put: `input` with `input[indices]` replaced by `values`
    (broadcast), or added to when `accumulate` (duplicate indices add up, deterministically).
    Differentiable in input and values (IndexPutBackward0)."""
    return _index_put_checked("index_put", input, indices, values, accumulate, False)


def _index_put_(input, indices, values, accumulate=False):
    """torch.index_put_ / Tensor.index_put_: index_put in place; returns `input`."""
    return _index_put_checked("index_put_", input, indices, values, accumulate, True)


index_put = function("index_put", _index_put)
index_put_ = function("index_put_", _index_put_)
method("index_put", _index_put)
method("index_put_", _index_put_)
