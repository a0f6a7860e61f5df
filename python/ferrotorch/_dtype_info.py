"""dtype information: torch.finfo / torch.iinfo, the numeric limits of a dtype as PyTorch
reports them; torch.is_signed (and the Tensor method) and Tensor.type_as.

The values come from NumPy's finfo/iinfo (IEEE formats, the same numbers c10's
numeric_limits give); bfloat16, which NumPy lacks, is float32's exponent with 8 significand
bits, so its limits are written from that layout.
"""
import numpy as np

from . import _C
from ._registry import function, method

_FLOAT_NP = {"float16": np.float16, "float32": np.float32, "float64": np.float64}
_INT_NP = {"uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64}


def _name(dtype, who, kind):
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"{who}(): argument 'type' (position 1) must be torch.dtype, not {type(dtype).__name__}")
    name = str(dtype).split(".")[-1]
    if name == "bool" and who == "iinfo":
        raise TypeError("torch.bool is not supported by torch.iinfo")
    ok = (name in _FLOAT_NP or name == "bfloat16") if kind == "float" else name in _INT_NP
    if not ok:
        other = "iinfo" if who == "finfo" else "finfo"
        what = "a floating point" if who == "finfo" else "an integer"
        raise TypeError(f"torch.{who}() requires {what} input type. Use torch.{other} to handle 'torch.{who}'")
    return name


class finfo:
    """Limits of a floating dtype: bits, eps, max, min, tiny (= smallest_normal), resolution, dtype.
    ``finfo()`` describes the default dtype."""

    def __init__(self, type=None):
        if type is None:
            type = _C.get_default_dtype()
        name = _name(type, "finfo", "float")
        if name == "bfloat16":
            self.bits, self.eps, self.resolution = 16, 2.0 ** -7, 0.01
            self.max = (2.0 - 2.0 ** -7) * 2.0 ** 127
            self.smallest_normal = 2.0 ** -126
        else:
            f = np.finfo(_FLOAT_NP[name])
            self.bits, self.eps, self.resolution = int(f.bits), float(f.eps), 10.0 ** -int(f.precision)
            self.max, self.smallest_normal = float(f.max), float(f.smallest_normal)
        self.min = -self.max
        self.tiny = self.smallest_normal
        self.dtype = name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))


class iinfo:
    """Limits of an integer dtype: bits, min, max, dtype."""

    def __init__(self, type):
        name = _name(type, "iinfo", "int")
        i = np.iinfo(_INT_NP[name])
        self.bits, self.min, self.max, self.dtype = int(i.bits), int(i.min), int(i.max), name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))


finfo.__module__ = iinfo.__module__ = "ferrotorch"


def is_signed(input):
    """torch.is_signed: whether the dtype is signed (everything but uint8 and bool)."""
    return input.dtype not in (_C.uint8, _C.bool)


def type_as(self, other):
    """Tensor.type_as: `self` cast to `other`'s dtype and device."""
    return self.to(device=other.device, dtype=other.dtype)


function("is_signed", is_signed)
method("is_signed", is_signed)
method("type_as", type_as)
