"""Small helpers used by the Rust binding (pickling, named-tuple returns)."""
import collections


def _rebuild_tensor(array, dtype_name, requires_grad):
    from . import _C
    t = _C.from_numpy(array)
    if dtype_name != str(t.dtype).split(".")[-1]:
        t = t.to(getattr(_C, dtype_name))
    if requires_grad:
        t.requires_grad_(True)
    return t


def typename(obj):
    """``torch.typename``: 'torch.FloatTensor' for tensors, the qualified class name otherwise."""
    from ._C import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


class _return_types:
    """Named tuples returned by max/min/sort/topk/kthvalue (``.values``/``.indices``)."""
    sort = collections.namedtuple("sort", ["values", "indices"])
    topk = collections.namedtuple("topk", ["values", "indices"])
    kthvalue = collections.namedtuple("kthvalue", ["values", "indices"])
    max = collections.namedtuple("max", ["values", "indices"])
    min = collections.namedtuple("min", ["values", "indices"])


def _dtype_name(dt):
    """PyTorch's scalar type name of a dtype, as its error messages print it ('Long')."""
    from . import _C
    return {_C.int64: "Long", _C.int32: "Int", _C.int16: "Short", _C.int8: "Char", _C.uint8: "Byte",
            _C.float32: "Float", _C.float64: "Double", _C.float16: "Half", _C.bfloat16: "BFloat16",
            _C.bool: "Bool"}.get(dt, str(dt))
