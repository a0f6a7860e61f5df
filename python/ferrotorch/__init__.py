"""ferrotorch: a PyTorch-compatible deep-learning framework with a Rust engine.

``import ferrotorch as torch`` and PyTorch tutorial code runs: the tensor type, ops
and autograd live in the Rust extension ``ferrotorch._C``; this package adds the thin
Python layer (function aliases, legacy type objects, printing, grad-mode managers).
"""
import builtins as _builtins
import os as _os

# The imports marked `noqa: F401` below are the public torch.* surface (torch.arange,
# torch.no_grad, torch.nn, ...), re-exported here and not used by this module itself. The
# package has no __all__ on purpose: one would change what `from ferrotorch import *` gives.
from . import _C
from ._C import Tensor, Generator  # noqa: F401
from ._C import (  # noqa: F401
    tensor, as_tensor, from_numpy, zeros, ones, empty, randint, randperm, full,
    linspace, logspace, eye, hstack, vstack,
    get_default_dtype, set_default_dtype, promote_types, result_type,
    set_num_threads, get_num_threads, manual_seed, seed, initial_seed,
    is_grad_enabled, is_inference_mode_enabled, is_anomaly_enabled,
)
from ._size import Size  # noqa: F401
from ._tensor_str import set_printoptions, get_printoptions  # noqa: F401
from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode  # noqa: F401

# torch.dtype / torch.device: bound by assignment (the same objects an import would bind)
# because the factory functions below take `dtype=` / `device=` keyword parameters that
# shadow them, which a linter reports as a redefinition of an unused import.
dtype = _C.dtype
device = _C.device

# ---- dtypes (module attributes, as torch.float32) ---------------------------------
bool = _C.bool
uint8, int8, int16, int32, int64 = _C.uint8, _C.int8, _C.int16, _C.int32, _C.int64
float16, bfloat16, float32, float64 = _C.float16, _C.bfloat16, _C.float32, _C.float64
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

default_generator = _C.default_generator()

# ---- functions that are Tensor methods (torch.abs(t) is t.abs()) ---------------------------
# (The elementwise ops of the engine's op registry are bound in the generated block below; the
# Python-composed ones, and those wrapped for `out=` or a number as `input`, from the op modules.)
maximum, minimum = Tensor.maximum, Tensor.minimum
argmax, argmin, var, std, norm, all = Tensor.argmax, Tensor.argmin, Tensor.var, Tensor.std, Tensor.norm, Tensor.all
any, count_nonzero, sort, argsort, topk = Tensor.any, Tensor.count_nonzero, Tensor.sort, Tensor.argsort, Tensor.topk
kthvalue, max, min = Tensor.kthvalue, Tensor.max, Tensor.min
reshape, flatten, unflatten, squeeze = Tensor.reshape, Tensor.flatten, Tensor.unflatten, Tensor.squeeze
unsqueeze, transpose, swapaxes, t = Tensor.unsqueeze, Tensor.transpose, Tensor.swapaxes, Tensor.t
permute, movedim, narrow, select, unbind = Tensor.permute, Tensor.movedim, Tensor.narrow, Tensor.select, Tensor.unbind
chunk, split, diagonal, roll = Tensor.chunk, Tensor.split, Tensor.diagonal, Tensor.roll
repeat_interleave, tile, nonzero = Tensor.repeat_interleave, Tensor.tile, Tensor.nonzero
masked_select, gather, scatter, scatter_add = Tensor.masked_select, Tensor.gather, Tensor.scatter, Tensor.scatter_add
index_select, index_add, masked_fill = Tensor.index_select, Tensor.index_add, Tensor.masked_fill
tril, triu, baddbmm, equal, allclose = Tensor.tril, Tensor.triu, Tensor.baddbmm, Tensor.equal, Tensor.allclose
isclose, clamp, clip, clone, detach = Tensor.isclose, Tensor.clamp, Tensor.clip, Tensor.clone, Tensor.detach
softmax, log_softmax = Tensor.softmax, Tensor.log_softmax


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.is_floating_point()


def _like(factory, input, dtype, device, requires_grad, **kw):
    dt = dtype if dtype is not None else input.dtype
    device = device if device is not None else input.device
    if input.is_contiguous():
        return factory(*input.shape, dtype=dt, device=device, requires_grad=requires_grad, **kw)
    # Keep the input's memory layout (PyTorch's preserve_format): fill a tensor with the
    # preserved strides from a contiguous result.
    r = factory(*input.shape, dtype=dt, device=device, **kw)
    out = input.new_empty_strided(tuple(input.shape), _C._preserve_format_strides(input), dtype=dt, device=r.device)
    out.copy_(r)
    return out.requires_grad_(True) if requires_grad else out


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(lambda *size, **kw: full(size, fill_value, **kw), input, dtype, device, requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(rand, input, dtype, device, requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(randn, input, dtype, device, requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return _like(lambda *size, **kw: randint(low, high, size, **kw), input, dtype, device, requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """torch.normal: tensor or float mean/std, or (mean, std, size)."""
    if isinstance(std, Tensor):
        if std.numel() and (std.detach() < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        shape = (m if m is not None else s).shape
        if m is not None and s is not None:
            shape = (m * 0 + s * 0).shape
        ref = m if m is not None else s
        z = randn(*shape, generator=generator, dtype=ref.dtype, device=ref.device)
        return z * std + mean
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    z = randn(*size, generator=generator, dtype=dtype, device=device)
    z = z * std + mean
    if requires_grad:
        z.requires_grad_(True)
    return z


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def set_default_tensor_type(t):
    """Legacy: ``set_default_tensor_type(torch.DoubleTensor)`` or a type string."""
    d = t.dtype if hasattr(t, "dtype") else _C.Tensor().type(t).dtype
    set_default_dtype(d)


def numel(input):
    return input.numel()


# ---- legacy tensor types (torch.FloatTensor, ...) -------------------------------------
class _LegacyTypeMeta(type):
    def __instancecheck__(cls, obj):
        # torch.FloatTensor is the CPU type (torch.cuda.FloatTensor the CUDA one)
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return "<class 'torch." + cls.__name__ + "'>"


def _legacy(name, dt):
    def __new__(cls, *args, **kw):
        if len(args) == 1 and not isinstance(args[0], _builtins.int) and not isinstance(args[0], Tensor):
            return tensor(args[0], dtype=dt) if not hasattr(args[0], "__array_interface__") else as_tensor(args[0]).to(dt)
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0].to(dt)
        return Tensor(*args, dtype=dt)
    return _LegacyTypeMeta(name, (), {"__new__": __new__, "dtype": dt})


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", float64)
HalfTensor = _legacy("HalfTensor", float16)
BFloat16Tensor = _legacy("BFloat16Tensor", bfloat16)
ByteTensor = _legacy("ByteTensor", uint8)
CharTensor = _legacy("CharTensor", int8)
ShortTensor = _legacy("ShortTensor", int16)
IntTensor = _legacy("IntTensor", int32)
LongTensor = _legacy("LongTensor", int64)
BoolTensor = _legacy("BoolTensor", bool)

from . import autograd  # noqa: E402,F401
from . import cuda  # noqa: E402,F401
from . import backends  # noqa: E402,F401
from .serialization import save, load  # noqa: E402,F401
from ._utils import typename  # noqa: E402,F401
from . import nn, optim, utils  # noqa: E402,F401
from ._settings import (  # noqa: E402,F401
    use_deterministic_algorithms, are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision, get_float32_matmul_precision, compile,
)

# A forked child (DataLoader workers, user multiprocessing) has none of the parent's
# kernel threads: cap kernels to one thread there instead of hanging on the dead pool.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_C._after_fork_in_child)


# ---- Python-composed ops ---------------------------------------------------------------------
# The op modules declare their torch.* functions and Tensor methods to ferrotorch._registry.
# The torch.* ones are bound here statically (so type checkers see them; the Tensor methods are
# declared in _C.pyi), then install() sets the Tensor methods and checks every declaration: a
# name that would shadow an existing one silently is an error at import.
from . import _registry  # noqa: E402


def _format(self, format_spec):
    """format(t, spec) / f"{t:.3f}": a 0-d tensor formats as its number, as PyTorch's
    Tensor.__format__; other tensors as their str (a non-empty spec is a TypeError)."""
    if self.dim() == 0:
        return self.item().__format__(format_spec)
    return object.__format__(self, format_spec)


_registry.method("__format__", _format, replace=True)  # object.__format__ takes no format spec

from ._dtype_info import finfo, iinfo, is_signed  # noqa: E402,F401
from ._pointwise import (  # noqa: E402,F401
    erfc, sinc, i0, lgamma, digamma, logit, mvlgamma, xlogy, hypot, logaddexp, logaddexp2, copysign, fmax, fmin,
    ldexp, heaviside, gcd, lcm, signbit, float_power, clamp_min, clamp_max, nextafter, deg2rad, rad2deg, positive,
    frexp, erfc_, sinc_, i0_, deg2rad_, rad2deg_, logit_, xlogy_, ldexp_, gcd_, lcm_, clamp_min_, clamp_max_, addcmul,
    addcdiv, add, sub, mul, div, floor_divide, bitwise_and, bitwise_or, bitwise_xor, pow, remainder, arccos, arcsin,
    arctan, arccosh, arcsinh, arctanh, arctan2, fix, sgn, absolute, negative, multiply, subtract, divide, true_divide,
    greater, greater_equal, less, less_equal, not_equal, round_, clamp_, clip_, nan_to_num_, zero_, fill_, detach_,
    fix_, negative_, arccos_, arcsin_, arctan_, arccosh_, arcsinh_, arctanh_, round, nan_to_num, lerp, where,
)
from ._reductions import (  # noqa: E402,F401
    nansum, nanmean, median, nanmedian, cummax, cummin, logcumsumexp, aminmax, diff, is_nonzero, var_mean, std_mean,
    trapezoid, trapz, cumulative_trapezoid, sum, prod, amax, amin, logsumexp, cumsum, cumprod,
)
from . import _reductions  # noqa: E402
# torch.mean by assignment, as torch.dtype above: normal()'s `mean` parameter would read as a
# redefinition of an unused import
mean = _reductions.mean
from ._search_sort import (  # noqa: E402,F401
    unique, unique_consecutive, argwhere, bincount, histc, searchsorted, bucketize, isin,
)
from ._indexing import take, take_along_dim, index_fill, index_copy, masked_scatter, scatter_reduce  # noqa: E402,F401
from ._shape import (  # noqa: E402,F401
    broadcast_to, diag, diagflat, diag_embed, ravel, tensor_split, hsplit, vsplit, dsplit, split_with_sizes, rot90,
    fliplr, flipud, is_same_size, broadcast_tensors, broadcast_shapes, meshgrid, block_diag, cartesian_prod,
    combinations, tril_indices, triu_indices, atleast_1d, atleast_2d, atleast_3d, dstack, column_stack, moveaxis,
    swapdims, cat, concat, concatenate, stack, as_strided,
)
from ._linalg_ops import (  # noqa: E402,F401
    kron, inner, vdot, trace, cross, addmv, addr, addbmm, ger, matrix_power, renorm, einsum, tensordot, cdist,
    chain_matmul, mm, bmm, mv, dot, matmul, outer, addmm,
)
from ._random import bernoulli, multinomial, rand, randn  # noqa: E402,F401
from ._creation import arange  # noqa: E402,F401
from . import _view_inplace, linalg  # noqa: E402,F401  (_view_inplace: Tensor methods only)
from .linalg import (_torch_det as det, _torch_logdet as logdet, _torch_slogdet as slogdet,  # noqa: E402,F401
                     _torch_inverse as inverse, _torch_cholesky as cholesky)
# Default device, index_put, flip's function form and the other top-level linear algebra (issue 19).
from ._C import set_default_device, get_default_device  # noqa: E402,F401
from ._indexing import index_put, index_put_  # noqa: E402,F401
from ._shape import flip  # noqa: E402,F401
from .linalg import (  # noqa: E402,F401
    _torch_svd as svd, _torch_pinverse as pinverse, _torch_cholesky_solve as cholesky_solve,
    _torch_cholesky_inverse as cholesky_inverse, _torch_lu as lu, _torch_lu_solve as lu_solve,
    _torch_lu_unpack as lu_unpack, matrix_exp, _torch_triangular_solve as triangular_solve, _torch_qr as qr,
    _torch_lstsq as lstsq, _torch_symeig as symeig, _torch_eig as eig, _torch_solve as solve,
    _torch_matrix_rank as matrix_rank,
)
# The torch.* forms of the engine's registry ops (scripts/gen_ops.py writes this block and _ops.py).
# BEGIN GENERATED by scripts/gen_ops.py from ferrotorch._C._op_registry(): do not edit
from ._ops import (  # noqa: E402,F401
    exp, exp_, exp2, exp2_, expm1, expm1_, log, log_, log2, log2_, log10, log10_, log1p, log1p_, sqrt, sqrt_, rsqrt,
    rsqrt_, sin, sin_, cos, cos_, tan, tan_, asin, asin_, acos, acos_, atan, atan_, sinh, sinh_, cosh, cosh_, tanh,
    tanh_, asinh, asinh_, acosh, acosh_, atanh, atanh_, sigmoid, sigmoid_, erf, erf_, erfinv, reciprocal, reciprocal_,
    frac, frac_, neg, neg_, abs, abs_, sign, square, square_, relu, relu_, floor, floor_, ceil, ceil_, trunc, trunc_,
    logical_not, bitwise_not, isnan, isinf, isfinite, isposinf, isneginf, atan2, fmod, eq, ne, lt, le, gt, ge,
    logical_and, logical_or, logical_xor, bitwise_left_shift, bitwise_right_shift,
)
# END generated ops
_registry.install(globals(), Tensor, _C)

__version__ = "0.1.0"

# Submodules built on the functions above.
from . import special, distributions  # noqa: E402,F401
from . import testing  # noqa: E402,F401

# Mixed precision: torch.autocast, torch.amp, the autocast state functions, torch.cpu.amp and
# torch.cuda.amp (deprecated spellings), the gradient-scaling kernels.
from . import amp  # noqa: E402,F401
from .amp import autocast, GradScaler  # noqa: E402,F401
from .amp._state import (  # noqa: E402,F401
    is_autocast_enabled, set_autocast_enabled, get_autocast_dtype, set_autocast_dtype, is_autocast_cpu_enabled,
    set_autocast_cpu_enabled, get_autocast_cpu_dtype, set_autocast_cpu_dtype, get_autocast_gpu_dtype,
    set_autocast_gpu_dtype, is_autocast_cache_enabled, set_autocast_cache_enabled, autocast_increment_nesting,
    autocast_decrement_nesting, clear_autocast_cache,
)
from . import cpu  # noqa: E402,F401
from . import _cuda_amp as _cuda_amp_mod  # noqa: E402
import sys as _sys  # noqa: E402
cuda.amp = _cuda_amp_mod
_sys.modules[__name__ + ".cuda.amp"] = _cuda_amp_mod
from ._C import _amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_  # noqa: E402,F401
del _sys
