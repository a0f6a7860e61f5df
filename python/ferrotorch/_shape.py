"""Shape and joining functions composed of views and existing ops: broadcasting
(broadcast_to, broadcast_tensors, broadcast_shapes), splitting (tensor_split, hsplit/vsplit/
dsplit, split_with_sizes), joining (dstack, column_stack; `out=` for cat/concat/concatenate/
stack), at-least-n-d views, flips and rotations (fliplr, flipud, rot90), ravel, diagonal
embedding (diag, diag_embed, diagflat), index grids (meshgrid, cartesian_prod, combinations,
tril_indices/triu_indices) and block_diag, plus the aliases moveaxis/swapdims, is_same_size and
the function form of as_strided.

Autograd and every device come from the views and ops they are built of. No implementation
loops in Python over elements: loops run over dimensions or over a user's explicit list only.
"""
import builtins
import collections.abc
import math
import numbers
import operator

from . import _C
from ._C import Tensor
from ._args import _INT64_MAX, _check_tensor, _dim, _int_arg, _wrap_dim
from ._registry import function, method
from ._size import Size
from ._utils import _add_out, _dtype_name, alias_method, warn_once as _warn_once, write_out as _write_out

# tensor_split / hsplit with an int makes that many views, empty ones included (as PyTorch
# does); a bound keeps `tensor_split(t, 2**62)` an error instead of hours of Python.
_MAX_SECTIONS = 1 << 20


# ---- shared helpers (also used by the other op modules) ------------------------------------
def _broadcast_pair(a, b):
    """Broadcast shape of two shapes, failing with the message of a binary op."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def _arange_along(n, dim, ndim, device):
    """arange(n) shaped to broadcast along `dim` of an ndim-d tensor."""
    shape = [1] * ndim
    shape[dim] = n
    return _C.arange(n, device=device).reshape(shape)


# ---- broadcasting ------------------------------------------------------------------------
def broadcast_shapes(*shapes):
    """torch.broadcast_shapes: the shape all given shapes (ints or sequences) broadcast to,
    checked in PyTorch's order (torch._refs._broadcast_shapes)."""
    norm = []
    for s in shapes:
        if s is None:
            continue
        if isinstance(s, numbers.Integral):
            s = (s,)
        if not isinstance(s, collections.abc.Sequence):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {s}")
        for k, x in enumerate(s):
            if isinstance(x, bool) or not isinstance(x, numbers.Integral):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {k} is '{type(x).__name__}')")
        norm.append(s)
    result = [1] * max((len(s) for s in norm), default=0)
    for k, s in enumerate(norm):
        for i in range(-1, -len(s) - 1, -1):
            if s[i] == result[i]:
                continue
            if result[i] == 1:
                if s[i] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                result[i] = s[i]
            elif s[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[i]} at {i}! Mismatching "
                                   f"argument at index {k} had {s}; but expected shape should be broadcastable "
                                   f"to {result}")
    return Size(result)


def broadcast_to(input, size):
    """torch.broadcast_to: input.expand(size), with PyTorch's overflow check on the result."""
    _check_tensor("broadcast_to", "input", 1, input)
    if not isinstance(size, (tuple, list, Size)):
        raise TypeError(f"broadcast_to(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type(size).__name__}")
    r = input.expand(*size)
    if math.prod(r.shape) > _INT64_MAX:
        raise RuntimeError("numel: integer multiplication overflow")
    return r


def broadcast_tensors(*tensors):
    """torch.broadcast_tensors: expanded views of all inputs to their common shape."""
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
    shape = ()
    for t in tensors:
        shape = _broadcast_pair(shape, t.shape)
    return tuple(t.expand(*shape) for t in tensors)


# ---- splitting and joining -----------------------------------------------------------------
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


# ---- flips and rotations -------------------------------------------------------------------
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


# ---- diagonals, index grids, blocks --------------------------------------------------------
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """torch.diag_embed: the last dim of input on the `offset` diagonal of the (dim1, dim2)
    planes of a zero tensor; written through a diagonal view so autograd sees a copy."""
    _check_tensor("diag_embed", "input", 1, input)
    offset = _int_arg("diag_embed", "offset", 2, offset)
    dim1 = _wrap_dim(_int_arg("diag_embed", "dim1", 3, dim1), input.dim() + 1)
    dim2 = _wrap_dim(_int_arg("diag_embed", "dim2", 4, dim2), input.dim() + 1)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = input.shape[-1] + abs(offset)
    shape = list(input.shape[:-1])
    for d in sorted((dim1, dim2)):
        shape.insert(d, m)
    z = _C.zeros(tuple(shape), dtype=input.dtype, device=input.device)
    z.diagonal(offset, dim1, dim2).copy_(input)
    return z


def diag(input, diagonal=0, *, out=None):
    """torch.diag: a 1-d input becomes a matrix with it on the `diagonal` diagonal; a
    2-d input gives that diagonal (a copy, as PyTorch returns)."""
    _check_tensor("diag", "input", 1, input)
    diagonal = _int_arg("diag", "diagonal", 2, diagonal)
    if input.dim() not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")
    r = diag_embed(input, diagonal) if input.dim() == 1 else input.diagonal(diagonal).clone()
    return _write_out(r, out)


def diagflat(input, offset=0):
    """torch.diagflat: the flattened input on the `offset` diagonal of a matrix."""
    _check_tensor("diagflat", "input", 1, input)
    return diag_embed(input.reshape(-1), _int_arg("diagflat", "offset", 2, offset))


def _tri_indices(name, keep, row, col, offset, dtype, device):
    row = _int_arg(name, "row", 1, row)
    col = _int_arg(name, "col", 2, col)
    offset = _int_arg(name, "offset", 3, offset)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    if dtype not in (_C.int32, _C.int64):
        raise NotImplementedError(f"\"{name}\" not implemented for '{_dtype_name(dtype)}'")
    # nonzero of the (row, col) mask gives the row-major order PyTorch returns; its
    # closed-form count (computed per row in PyTorch's kernel) would need the same loop.
    r = _C.arange(row, device=device).unsqueeze(1)
    c = _C.arange(col, device=device).unsqueeze(0)
    return keep(c - r, offset).nonzero().t().to(dtype)


def tril_indices(row, col, offset=0, *, dtype=_C.int64, device=None, layout=None):
    """torch.tril_indices: 2 x N (row, col) indices of the lower triangle, row-major."""
    return _tri_indices("tril_indices", lambda d, k: d <= k, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=_C.int64, device=None, layout=None):
    """torch.triu_indices: 2 x N (row, col) indices of the upper triangle, row-major."""
    return _tri_indices("triu_indices", lambda d, k: d >= k, row, col, offset, dtype, device)


def block_diag(*tensors):
    """torch.block_diag: the inputs (0-d, 1-d as a row, 2-d) along the diagonal of a zero
    matrix of their promoted dtype."""
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has "
                               f"{t.dim()} dimensions")
    mats = [t.reshape(1, -1) if t.dim() < 2 else t for t in tensors]
    if not mats:
        return _C.zeros((1, 0))
    dtype = mats[0].dtype
    for t in mats[1:]:
        dtype = _C.promote_types(dtype, t.dtype)
    z = _C.zeros((sum(t.shape[0] for t in mats), sum(t.shape[1] for t in mats)), dtype=dtype,
                 device=mats[0].device)
    r = c = 0
    for t in mats:
        z.narrow(0, r, t.shape[0]).narrow(1, c, t.shape[1]).copy_(t)
        r, c = r + t.shape[0], c + t.shape[1]
    return z


def meshgrid(*tensors, indexing=None):
    """torch.meshgrid: expanded views of the 0-d/1-d inputs over their outer shape
    ('ij', the default, with PyTorch's one-time warning when indexing is not given)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        _warn_once("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.")
        indexing = "ij"
    if indexing not in ("xy", "ij"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != tensors[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    shape = [t.numel() for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for k, t in enumerate(tensors):
        pos = {0: 1, 1: 0}.get(k, k) if swap else k
        view = [1] * len(shape)
        view[pos] = shape[pos]
        out.append(t.reshape(*view).expand(*shape))
    return tuple(out)


def cartesian_prod(*tensors):
    """torch.cartesian_prod: rows of all combinations of the 1-d inputs' elements."""
    for t in tensors:
        if isinstance(t, Tensor) and t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _C.stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """torch.combinations: length-r combinations of a 1-d tensor's elements, in
    lexicographic order of positions (PyTorch's n**r grid, built here by digit arithmetic
    so no Python loop runs r times).

    Deviation: where n**r passes 2**62 (n >= 2) this raises RuntimeError instead of
    trying, as PyTorch does, to allocate the grid."""
    _check_tensor("combinations", "input", 1, input)
    r = _int_arg("combinations", "r", 2, r)
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    # Empty results are views of input[:0], so they stay in the graph as PyTorch's do.
    if r == 0:
        return input[:0]
    n = input.shape[0]
    if n == 0 or (r > n and not with_replacement):
        return input[:0].reshape(0, r)
    if n >= 2 and r * math.log2(n) > 62:
        raise RuntimeError(f"combinations: {n}**{r} candidate rows are more than can be indexed")
    # Row p of the grid is p written in base n with r digits.
    dev = input.device
    pos = _C.arange(n ** r, device=dev).unsqueeze(1)
    place = _C.tensor(n, device=dev).pow(_C.arange(r - 1, -1, -1, device=dev))
    digits = pos.div(place, rounding_mode="floor").remainder(n)
    step = digits[:, 1:] - digits[:, :-1]
    ok = (step >= 0) if with_replacement else (step > 0)
    idx = digits[ok.all(1)]
    return input.index_select(0, idx.reshape(-1)).reshape(-1, r)


def as_strided(input, size, stride, storage_offset=None):
    """torch.as_strided: the view Tensor.as_strided makes (same checks and autograd)."""
    _check_tensor("as_strided", "input", 1, input)
    return input.as_strided(size, stride, storage_offset)


def flip(input, dims):
    """torch.flip: `dims` a sequence of ints. Unlike Tensor.flip (which also takes varargs),
    torch.flip(x, 0) is PyTorch's TypeError."""
    _check_tensor("flip", "input", 1, input)
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    return input.flip(dims)


def is_same_size(input, other):
    """torch.is_same_size: whether both tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
# torch.<name> and Tensor.<name>
for _f in (broadcast_to, diag, diagflat, diag_embed, ravel, tensor_split, hsplit, vsplit, dsplit, split_with_sizes,
           rot90, fliplr, flipud, is_same_size):
    function(_f.__name__, _f)
    method(_f.__name__, _f)
# torch.<name> only
for _f in (broadcast_tensors, broadcast_shapes, meshgrid, block_diag, cartesian_prod, combinations, tril_indices,
           triu_indices, atleast_1d, atleast_2d, atleast_3d, dstack, column_stack, as_strided):
    function(_f.__name__, _f)
del _f
moveaxis = function("moveaxis", Tensor.movedim)
swapdims = function("swapdims", Tensor.transpose)
method("moveaxis", alias_method("moveaxis", Tensor.movedim))
method("swapdims", alias_method("swapdims", Tensor.transpose))
# `out=` for the joining bindings (concat and concatenate are aliases of cat)
cat = function("cat", _add_out(_C.cat), replace=True)
concat = function("concat", _add_out(_C.cat))
concatenate = function("concatenate", _add_out(_C.cat))
stack = function("stack", _add_out(_C.stack), replace=True)
function("flip", flip, replace=True)
