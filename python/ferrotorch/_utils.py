"""Small helpers used by the Rust binding (pickling, named-tuple returns)."""
import collections
import contextvars


# ``load``'s map_location while it unpickles (None outside a load): a device, a device string, a
# {saved device: device} dict or a callable, applied as each tensor is rebuilt.
_map_location = contextvars.ContextVar("ferrotorch_map_location", default=None)


def _target_device(saved):
    ml = _map_location.get()
    if isinstance(ml, dict):
        return str(ml.get(saved, saved))
    if ml is not None:
        return str(ml)
    return saved


def _rebuild_tensor(array, dtype_name, requires_grad, device="cpu"):
    """Inverse of ``Tensor.__reduce__``: a host array, the dtype's name, and the device the tensor
    was on (absent from pickles written before CUDA support: cpu)."""
    from . import _C
    t = _C.from_numpy(array)
    if dtype_name != str(t.dtype).split(".")[-1]:
        t = t.to(getattr(_C, dtype_name))
    ml = _map_location.get()
    if callable(ml) and not isinstance(ml, dict):
        # PyTorch calls map_location(storage, location) with the storage deserialized on the
        # CPU and uses what it returns, or the saved location when it returns None. There are
        # no separate storages here: the CPU tensor stands in for its storage, which serves
        # the usual idioms (`lambda s, loc: s`, `lambda s, loc: s.cuda(1)`).
        r = ml(t, device)
        if r is not None:
            if not isinstance(r, _C.Tensor):
                raise TypeError(f"map_location should return a tensor or None, not {type(r).__name__}")
            t, target = r, str(r.device)
        else:
            target = device
    else:
        target = _target_device(device)
    if target != str(t.device):
        if target.startswith("cuda") and _C._cuda_device_count() == 0:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
                               "False. If you are running on a CPU-only machine, please use torch.load with "
                               "map_location=torch.device('cpu') to map your storages to the CPU.")
        t = t.to(target)
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


def alias_method(name, meth):
    """A Tensor method that forwards to a Rust binding under another name (arccos -> acos).

    A Python function rather than the binding itself, so that the class's own method
    descriptors stay exactly the bindings `_C.pyi` declares (tests/test_stub.py).
    """
    def f(self, *args, **kwargs):
        return meth(self, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Alias of Tensor.{meth.__name__}."
    return f


def write_out(r, out):
    """`r`, or written into `out` (resized when its shape differs) and `out` returned: `out=` for
    functions whose kernels don't take it directly."""
    if out is None:
        return r
    if tuple(out.shape) != tuple(r.shape):
        out.data = r.to(out.dtype).contiguous()
    else:
        out.copy_(r)
    return out


def can_cast(src, dst):
    """c10::canCast for real dtypes: no float -> integral, no non-bool -> bool."""
    from . import _C
    if src.is_floating_point and not dst.is_floating_point:
        return False
    return not (dst == _C.bool and src != _C.bool)


def inplace(name, fn):
    """Tensor.<name>_ from an out-of-place `fn`: computes fn(self, ...) completely (validation
    included), checks the result keeps self's shape and casts to its dtype (PyTorch's checks),
    then copies it into self with copy_, which records the in-place op for autograd and raises
    PyTorch's error for a leaf that requires grad. While grad is recorded, fn reads a clone of
    self: the graph of the result must not save self itself, which the copy then modifies."""
    from . import _C

    def f_(self, *args, **kwargs):
        src = self
        if _C.is_grad_enabled() and (self.requires_grad or any(
                isinstance(a, _C.Tensor) and a.requires_grad for a in list(args) + list(kwargs.values()))):
            src = self.clone()
            args = tuple(src if a is self else a for a in args)
        r = fn(src, *args, **kwargs)
        if tuple(r.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}")
        if not can_cast(r.dtype, self.dtype):
            raise RuntimeError(f"result type {_dtype_name(r.dtype)} can't be cast to the desired output type "
                               f"{_dtype_name(self.dtype)}")
        self.copy_(r)
        return self
    f_.__name__ = f_.__qualname__ = name + "_"
    f_.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return f_
