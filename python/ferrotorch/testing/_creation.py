"""torch.testing.make_tensor: a port of PyTorch's ``torch/testing/_creation.py`` (BSD-3-Clause)."""
import collections.abc
import functools
import math
import warnings

from .. import _C
from .._dtype_info import finfo, iinfo

_INTEGRAL_TYPES = [_C.uint8, _C.int8, _C.int16, _C.int32, _C.int64]
_FLOATING_TYPES = [_C.float16, _C.bfloat16, _C.float32, _C.float64]
_BOOLEAN_OR_INTEGRAL_TYPES = [_C.bool, *_INTEGRAL_TYPES]


def _uniform_random_(t, low, high):
    # uniform_ needs high - low to be finite in the dtype: sample half the range and double it.
    if high - low >= finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    r"""A tensor of `shape` filled with random values from ``[low, high)``: defaults ``[-9, 9)`` for
    floating and ``[-9, 10)`` for integer dtypes, clamped to what the dtype holds; ``[0, 2)`` for bool.
    ``noncontiguous`` gives a strided view, ``exclude_zero`` replaces zeros by 1 (integers) or the
    dtype's smallest normal number (floating)."""

    def modify_low_high(low, high, *, lowest_inclusive, highest_exclusive, default_low, default_high):
        def clamp(a, lo, hi):
            return min(max(a, lo), hi)

        low = low if low is not None else default_low
        high = high if high is not None else default_high

        if any(isinstance(value, float) and math.isnan(value) for value in [low, high]):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={low!r} and high={high!r}")
        elif low == high and dtype in _FLOATING_TYPES:
            warnings.warn(
                "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types "
                "is deprecated since 2.1 and will be removed in 2.3. "
                "Use `torch.full(...)` instead.",
                FutureWarning,
                stacklevel=3,
            )
        elif low >= high:
            raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
        elif high < lowest_inclusive or low >= highest_exclusive:
            raise ValueError(
                f"The value interval specified by `low` and `high` is [{low}, {high}), "
                f"but {dtype} only supports [{lowest_inclusive}, {highest_exclusive})"
            )

        low = clamp(low, lowest_inclusive, highest_exclusive)
        high = clamp(high, lowest_inclusive, highest_exclusive)

        if dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
            # 1. `low` is ceiled to avoid creating values smaller than `low` and thus outside the specified interval
            # 2. Following the same reasoning as for 1., `high` should be floored. However, the higher bound of
            #    `torch.randint` is exclusive, and thus we need to ceil here as well.
            return math.ceil(low), math.ceil(high)
        return low, high

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)

    if noncontiguous and memory_format is not None:
        raise ValueError(
            f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
            f"but got noncontiguous={noncontiguous!r} and memory_format={memory_format!r}"
        )
    if requires_grad and dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        raise ValueError(
            f"`requires_grad=True` is not supported for boolean and integral dtypes, but got dtype={dtype!r}"
        )

    noncontiguous = noncontiguous and functools.reduce(lambda x, y: x * y, shape, 1) > 1
    if noncontiguous:
        # Double the last dim and take every other element below: a view with stride 2.
        shape = (*shape[:-1], 2 * shape[-1])

    if dtype is _C.bool:
        low, high = modify_low_high(low, high, lowest_inclusive=0, highest_exclusive=2, default_low=0, default_high=2)
        result = _C.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        low, high = modify_low_high(
            low, high,
            lowest_inclusive=iinfo(dtype).min,
            highest_exclusive=iinfo(dtype).max + (1 if dtype is not _C.int64 else 0),
            # 10 is exclusive: the integers of [-9, 9]
            default_low=-9,
            default_high=10,
        )
        result = _C.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _FLOATING_TYPES:
        low, high = modify_low_high(
            low, high,
            lowest_inclusive=finfo(dtype).min,
            highest_exclusive=finfo(dtype).max,
            default_low=-9,
            default_high=9,
        )
        result = _C.empty(*shape, device=device, dtype=dtype)
        _uniform_random_(result, low, high)
    else:
        raise TypeError(
            f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor()."
            " To request support, file an issue at: https://github.com/pytorch/pytorch/issues"
        )

    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)

    if exclude_zero:
        result[result == 0] = 1 if dtype in _BOOLEAN_OR_INTEGRAL_TYPES else finfo(dtype).tiny

    if dtype in _FLOATING_TYPES:
        result.requires_grad = requires_grad

    return result
