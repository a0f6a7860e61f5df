"""Argument checks shared by the op modules, with PyTorch's parser and kernel messages:
tensors, int64 arguments, dims, scalars cast to a dtype, bool and integral inputs rejected."""
import numbers
import operator

from . import _C
from ._C import Tensor
from ._utils import _dtype_name

_INT64_MAX = 2 ** 63 - 1
_INTEGRAL = (_C.uint8, _C.int8, _C.int16, _C.int32, _C.int64)
_INTEGRAL_OR_BOOL = _INTEGRAL + (_C.bool,)


def _int_arg(fname, argname, pos, value):
    """An int64 argument as PyTorch's parser reads it: bool and float are TypeErrors, out
    of int64 range is its ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, Tensor) and value.dim() == 0 and value.dtype in _INTEGRAL:
            value = value.item()
        else:
            raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be int, "
                            f"not {type(value).__name__}")
    value = int(value)
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return value


def _wrap_dim(d, ndim):
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= d <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})")
    return d % max(ndim, 1)


def _dim(dim, ndim):
    """`dim` wrapped into [0, ndim) (a 0-d tensor counts as 1-d), PyTorch's IndexError otherwise."""
    return _wrap_dim(operator.index(dim), ndim)


def _check_tensor(fname, argname, pos, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be Tensor, not {type(t).__name__}")


def _check_float(fname, t):
    if not t.is_floating_point():
        raise NotImplementedError(f"{fname}: Expected a floating point or complex tensor as input. "
                                  f"Got {_dtype_name(t.dtype)}")


def _not_bool(kernel, *ts):
    for t in ts:
        if t.dtype == _C.bool:
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _scalar_for(value, dtype):
    """A Scalar argument (value, alpha, beta) as the kernel of `dtype` sees it: PyTorch casts
    it to the result dtype, so 0.5 becomes 0 for integer tensors."""
    if dtype in _INTEGRAL and not isinstance(value, bool):
        return int(value)
    return value
