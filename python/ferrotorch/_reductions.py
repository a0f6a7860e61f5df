"""Reductions, scans and differences composed of existing tensor ops: NaN-aware and order
reductions (nansum, nanmean, median, nanmedian, aminmax, var_mean, std_mean), sum_to_size,
is_nonzero, running extremes and log-sum-exp (cummax, cummin, logcumsumexp), the in-place
cumsum_/cumprod_, differences and integration (diff, trapezoid, trapz,
cumulative_trapezoid), and `out=` for the reduction bindings (sum, mean, prod, amax, amin,
logsumexp, cumsum, cumprod).

No implementation loops in Python over elements: scans take log2(n) vectorised steps.
"""
import builtins
import collections
import operator

from . import _C
from ._C import Tensor
from ._args import _dim
from ._registry import function, method
from ._shape import _arange_along
from ._utils import _add_out, _dtype_name, inplace

_median = collections.namedtuple("median", ["values", "indices"])
_nanmedian = collections.namedtuple("nanmedian", ["values", "indices"])
_cummax = collections.namedtuple("cummax", ["values", "indices"])
_cummin = collections.namedtuple("cummin", ["values", "indices"])
_aminmax = collections.namedtuple("aminmax", ["min", "max"])


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
    """(values, indices) of the lower median along `dim`, by selection in the engine
    (`Tensor.median_dim`): PyTorch's first NaN of a lane with NaN, for `median`."""
    if input.dtype == _C.bool:
        raise NotImplementedError("\"median_out\" not implemented for 'Bool'")
    if input.dim() == 0:
        _dim(dim, 0)
        return input.clone(), _C.zeros((), dtype=_C.int64, device=input.device)
    d = _dim(dim, input.dim())
    if input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return input._median_dim(d, keepdim, ignore_nan)


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


def is_nonzero(input):
    """torch.is_nonzero: truth value of a one-element tensor."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input.item())


# ---- scans -----------------------------------------------------------------------------------
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


def _cuminplace(name):
    def f_(self, dim, *, dtype=None):
        if dtype is not None and dtype != self.dtype:
            from ._random import _c_type_name
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_c_type_name(self.dtype)} and output "
                               f"tensor dtype {_c_type_name(dtype)} should match")
        return inplace(name, getattr(Tensor, name))(self, dim)
    f_.__name__ = f_.__qualname__ = name + "_"
    f_.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return f_


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


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
# torch.<name> and Tensor.<name>
for _f in (nansum, nanmean, median, nanmedian, cummax, cummin, logcumsumexp, aminmax, diff, is_nonzero):
    function(_f.__name__, _f)
    method(_f.__name__, _f)
# torch.<name> only
for _f in (var_mean, std_mean, trapezoid, trapz, cumulative_trapezoid):
    function(_f.__name__, _f)
del _f
method("sum_to_size", sum_to_size)
method("cumsum_", _cuminplace("cumsum"))
method("cumprod_", _cuminplace("cumprod"))
# `out=` for the reduction bindings (their kernels don't take it). This makes `sum` torch.sum in
# the whole module, also inside the functions above when they run: none may call the builtin.
sum = function("sum", _add_out(Tensor.sum), replace=True)
mean = function("mean", _add_out(Tensor.mean), replace=True)
prod = function("prod", _add_out(Tensor.prod), replace=True)
amax = function("amax", _add_out(Tensor.amax), replace=True)
amin = function("amin", _add_out(Tensor.amin), replace=True)
logsumexp = function("logsumexp", _add_out(Tensor.logsumexp), replace=True)
cumsum = function("cumsum", _add_out(Tensor.cumsum), replace=True)
cumprod = function("cumprod", _add_out(Tensor.cumprod), replace=True)
