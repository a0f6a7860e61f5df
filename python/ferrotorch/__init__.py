"""ferrotorch: a PyTorch-compatible deep-learning framework with a Rust engine.

``import ferrotorch as torch`` and PyTorch tutorial code runs: the tensor type, ops
and autograd live in the Rust extension ``ferrotorch._C``; this package adds the thin
Python layer (function aliases, legacy type objects, printing, grad-mode managers).
"""
import builtins as _builtins
import numbers as _numbers
import os as _os

# The imports marked `noqa: F401` below are the public torch.* surface (torch.arange,
# torch.no_grad, torch.nn, ...), re-exported here and not used by this module itself. The
# package has no __all__ on purpose: one would change what `from ferrotorch import *` gives.
from . import _C
from ._C import Tensor, Generator  # noqa: F401
from ._C import (  # noqa: F401
    tensor, as_tensor, from_numpy, zeros, ones, empty, rand, randn, randint, randperm, full,
    arange, linspace, logspace, eye, cat, stack, hstack, vstack, where,
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
concat = cat
concatenate = cat

# ---- functions that are Tensor methods ------------------------------------------------
_METHOD_FUNCS = """
abs neg negative sign exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square sin cos tan asin acos atan
sinh cosh tanh sigmoid relu erf erfinv floor ceil trunc frac reciprocal round
isnan isinf isfinite isposinf isneginf logical_not bitwise_not
add sub mul div true_divide atan2 maximum minimum fmod remainder floor_divide
eq ne lt le gt ge logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor
sum mean prod amax amin argmax argmin var std norm logsumexp all any cumsum cumprod count_nonzero
sort argsort topk kthvalue max min
reshape flatten unflatten squeeze unsqueeze transpose swapaxes t permute movedim narrow select
unbind chunk split diagonal flip roll repeat_interleave tile nonzero masked_select gather scatter
scatter_add index_select index_add masked_fill tril triu matmul mm bmm mv dot outer addmm baddbmm
equal allclose isclose lerp nan_to_num clamp clip clone detach numel softmax log_softmax
""".split()
for _n in _METHOD_FUNCS:
    if hasattr(Tensor, _n):
        globals()[_n] = getattr(Tensor, _n)


def _number_first(name, two_numbers=True):
    """torch.add(2, t), torch.pow(2, t): PyTorch's functional forms also take a number as
    `input`. The number becomes a 0-d tensor of the dtype it would promote to against
    `other` (so add(2, uint8_tensor) stays uint8, as a Python scalar does); tensor-first
    calls go straight to the method. Two numbers give a 0-d tensor where PyTorch allows
    them (add(-1, 2)) and its TypeError where it does not (pow, remainder: never Python's
    own operator, which for pow(2**63, 2**40) would compute for ever)."""
    meth = getattr(Tensor, name)

    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            if not isinstance(input, _numbers.Number):
                # a list or tuple is not lifted (PyTorch: TypeError), so a wrong argument is not hidden
                raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
            other = args[0] if args else kwargs.get("other", kwargs.get("exponent"))
            if isinstance(other, Tensor):
                input = tensor(input, dtype=result_type(input, other), device=other.device)
            elif two_numbers:
                input = tensor(input)
            else:
                raise TypeError(f"{name}() received an invalid combination of arguments - got "
                                f"({type(input).__name__}, {type(other).__name__}), but expected one of: "
                                f"(Tensor input, Tensor other), (Number self, Tensor other), (Tensor input, Number other)")
        return meth(input, *args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = meth.__doc__
    return f


add = _number_first("add")
sub = _number_first("sub")
mul = _number_first("mul")
div = _number_first("div")
floor_divide = _number_first("floor_divide")
bitwise_and = _number_first("bitwise_and")
bitwise_or = _number_first("bitwise_or")
bitwise_xor = _number_first("bitwise_xor")
pow = _number_first("pow", two_numbers=False)
remainder = _number_first("remainder", two_numbers=False)
negative = Tensor.neg
true_divide = div
subtract = sub
multiply = mul
divide = div
greater, greater_equal, less, less_equal, not_equal = Tensor.gt, Tensor.ge, Tensor.lt, Tensor.le, Tensor.ne
absolute = Tensor.abs
arctan2 = Tensor.atan2


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
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

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

# A forked child (DataLoader workers, user multiprocessing) has none of the parent's
# kernel threads: cap kernels to one thread there instead of hanging on the dead pool.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_C._after_fork_in_child)


# ---- small Tensor methods that are compositions of existing ones ----------------------
def _new_factory(fill):
    def f(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        if len(size) == 1:
            size = _size_arg(size[0])
        t = fill(size, dtype=dtype if dtype is not None else self.dtype,
                 device=device if device is not None else self.device)
        return t.requires_grad_(requires_grad) if requires_grad else t
    return f


Tensor.new_zeros = _new_factory(_C.zeros)
Tensor.new_ones = _new_factory(_C.ones)
Tensor.new_empty = _new_factory(_C.empty)


def _size_arg(size):
    """A size given as one object: a sequence of ints, or one int-like (an int, a 0-d
    integer tensor) meaning a 1-d size, as PyTorch reads it."""
    if isinstance(size, (tuple, list)):
        return tuple(size)
    if hasattr(size, "__index__") and not (isinstance(size, Tensor) and size.dim() > 0):
        return (size.__index__(),)
    return tuple(size)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    t = _C.full(tuple(size), fill_value, dtype=dtype if dtype is not None else self.dtype,
                device=device if device is not None else self.device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    if isinstance(data, Tensor):
        # self's dtype and device unless given, as for any other data (PyTorch)
        t = data.detach().to(dtype=dtype if dtype is not None else self.dtype,
                             device=device if device is not None else self.device, copy=True)
    else:
        t = _C.tensor(data, dtype=dtype if dtype is not None else self.dtype,
                      device=device if device is not None else self.device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _clamp_max(self, max):
    return self.clamp(max=max)


def _clamp_max_(self, max):
    return self.clamp_(max=max)


def _clamp_min_(self, min):
    return self.clamp_(min=min)


from ._dtype_info import finfo, iinfo  # noqa: E402,F401
from . import _linalg_extra, _pointwise_extra, _search_extra  # noqa: E402
for _m in (_linalg_extra, _pointwise_extra, _search_extra):
    _m.install(globals(), Tensor)
del _m
from ._sampling import bernoulli, multinomial, install as _install_sampling  # noqa: E402,F401
_install_sampling(Tensor)
from ._view_inplace import install as _install_view_inplace  # noqa: E402
_install_view_inplace(Tensor)

def _format(self, format_spec):
    """format(t, spec) / f"{t:.3f}": a 0-d tensor formats as its number, as PyTorch's
    Tensor.__format__; other tensors as their str (a non-empty spec is a TypeError)."""
    if self.dim() == 0:
        return self.item().__format__(format_spec)
    return object.__format__(self, format_spec)


Tensor.__format__ = _format
Tensor.new_full = _new_full
Tensor.new_tensor = _new_tensor
Tensor.clamp_max = _clamp_max
Tensor.clamp_max_ = _clamp_max_
Tensor.clamp_min_ = _clamp_min_

__version__ = "0.1.0"


# ---- `out=` for functions whose kernels don't take it directly ------------------------
from ._utils import write_out as _write_out  # noqa: E402


def _add_out(f):
    def g(*args, out=None, **kwargs):
        return _write_out(f(*args, **kwargs), out)
    g.__name__ = getattr(f, "__name__", "f")
    g.__doc__ = getattr(f, "__doc__", None)
    return g


for _n in ("round", "nan_to_num", "lerp", "mm", "bmm", "mv", "dot", "sum", "mean", "prod", "cumsum", "cumprod",
           "matmul", "where", "amax", "amin", "logsumexp", "outer", "addmm", "bernoulli", "multinomial",
           "cat", "concat", "concatenate", "stack", "arange", "rand", "randn"):
    if _n in globals():
        globals()[_n] = _add_out(globals()[_n])
del _n

# Submodules built on the functions above (installed by then).
from . import linalg, special, distributions  # noqa: E402,F401
from .linalg import (_torch_det as det, _torch_logdet as logdet, _torch_slogdet as slogdet,  # noqa: E402,F401
                     _torch_inverse as inverse, _torch_cholesky as cholesky)
for _n in ("det", "logdet", "slogdet", "inverse", "cholesky"):
    if not hasattr(Tensor, _n):
        setattr(Tensor, _n, globals()[_n])
del _n
