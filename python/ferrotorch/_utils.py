"""Small helpers used by the Rust binding (pickling, named-tuple returns) and by the op modules
(aliases, in-place and `out=` wrappers, warn-once)."""
import collections
import contextvars
import inspect
import warnings


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
    f.__wrapped__ = meth  # inspect.signature shows the binding's parameters (checked against _C.pyi)
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
    # inspect.signature shows fn's parameters but `out` (checked against _C.pyi)
    sig = inspect.signature(fn)
    f_.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "out"])
    return f_


def _add_out(f):
    """torch.<f>(..., out=t) for a function whose kernel doesn't take `out=`: the result
    written into t (see write_out)."""
    def g(*args, out=None, **kwargs):
        return write_out(f(*args, **kwargs), out)
    g.__name__ = getattr(f, "__name__", "f")
    g.__doc__ = getattr(f, "__doc__", None)
    return g


_warned = set()


def warn_once(msg):
    """PyTorch's TORCH_WARN_ONCE: a UserWarning the first time per process."""
    if msg not in _warned:
        _warned.add(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)


# ---- checkpoints: what PyTorch's `torch._utils._rebuild_*` do --------------------------------
# A checkpoint's data.pkl names these functions by PyTorch's names (`torch._utils.
# _rebuild_tensor_v2`, ...); `checkpoint_globals` maps each such name to the function here,
# for both the weights-only and the full unpickler. `serialization.save` writes the same
# names, so files travel both ways.

class CheckpointStorage:
    """A storage read from a checkpoint: a 1-d tensor over its bytes (the whole storage
    of every tensor built on it), and for the legacy format's storage views, the element
    range of the view inside it."""
    __slots__ = ("tensor", "offset", "numel", "dtype")

    def __init__(self, tensor, offset, numel, dtype):
        self.tensor, self.offset, self.numel, self.dtype = tensor, offset, numel, dtype

    def __repr__(self):
        return f"<checkpoint storage of {self.numel} {self.dtype} on {self.tensor.device}>"


class StorageType:
    """What `torch.FloatStorage` & co. resolve to in a checkpoint: the dtype of a storage."""
    __slots__ = ("dtype", "name")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


class UnsupportedGlobal:
    """A PyTorch name ferrotorch knows but cannot load (a dtype it does not have)."""
    __slots__ = ("full", "why")

    def __init__(self, full, why):
        self.full, self.why = full, why


def _check_geometry(storage, storage_offset, size, stride):
    import pickle
    if not isinstance(storage, CheckpointStorage):
        raise pickle.UnpicklingError(f"_rebuild_tensor: expected a storage, got {type(storage).__name__}")
    for what, v in (("size", size), ("stride", stride)):
        if not isinstance(v, (tuple, list)) or not all(type(d) is int and d >= 0 for d in v):
            raise pickle.UnpicklingError(f"_rebuild_tensor: {what} must be a tuple of non-negative ints, got {v!r}")
    if type(storage_offset) is not int or storage_offset < 0:
        raise pickle.UnpicklingError(f"_rebuild_tensor: storage offset must be a non-negative int, got "
                                     f"{storage_offset!r}")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {tuple(size)}, stride {tuple(stride)}")
    # Python ints: no overflow; the engine checks again against the storage itself.
    need = storage_offset if 0 in size else storage_offset + 1 + sum((d - 1) * s for d, s in zip(size, stride))
    if need > storage.numel:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                           f"{storage_offset} requiring a storage size of {need} elements are out of bounds for "
                           f"a storage of {storage.numel} elements")


def ckpt_rebuild_tensor(storage, storage_offset, size, stride):
    """torch._utils._rebuild_tensor: a tensor over a checkpoint storage (not a view; every
    tensor of one storage shares its memory)."""
    from . import _C
    _check_geometry(storage, storage_offset, size, stride)
    return _C._tensor_from_storage(storage.tensor, list(size), list(stride), storage.offset + storage_offset)


def ckpt_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    t = ckpt_rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    # backward_hooks: PyTorch saves them but warns they are not restored; metadata holds
    # tensor flags (conj/neg bits) ferrotorch does not have.
    return t


def ckpt_rebuild_parameter(data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    if not isinstance(data, _Tensor()):
        raise TypeError(f"_rebuild_parameter: expected a tensor, got {type(data).__name__}")
    return Parameter(data, bool(requires_grad))


def _set_state(obj, state):
    if state is None:
        return obj
    if isinstance(state, tuple) and len(state) == 2 and state[1] is None:
        state = state[0]
    if type(state) is not dict or not all(type(k) is str for k in state):
        raise TypeError(f"tensor state must be a dict with str keys, got {type(state).__name__}")
    obj.__dict__.update(state)
    return obj


def ckpt_rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(ckpt_rebuild_parameter(data, requires_grad, backward_hooks), state)


def ckpt_rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: a tensor subclass (or a tensor with Python
    attributes) rebuilt by `func`, then given `new_type` and its attributes."""
    from . import _C
    if func not in (ckpt_rebuild_tensor_v2, ckpt_rebuild_tensor, ckpt_rebuild_parameter,
                    ckpt_rebuild_parameter_with_state):
        raise TypeError(f"_rebuild_from_type_v2: unexpected rebuild function {func!r}")
    if not (isinstance(new_type, type) and issubclass(new_type, _C.Tensor)):
        raise TypeError(f"_rebuild_from_type_v2: {new_type!r} is not a Tensor type")
    if type(args) is not tuple:
        raise TypeError("_rebuild_from_type_v2: arguments must be a tuple")
    ret = func(*args)
    if type(ret) is not new_type:
        ret = _C.Tensor.__new__(new_type, ret)
    return _set_state(ret, state)


def _Tensor():
    from . import _C
    return _C.Tensor


# PyTorch names of dtypes ferrotorch does not have: a clear error instead of "not allowed".
_UNSUPPORTED_DTYPES = {
    "complex32": "ComplexHalfStorage", "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage",
    "uint16": None, "uint32": None, "uint64": None, "float8_e4m3fn": None, "float8_e5m2": None,
    "float8_e4m3fnuz": None, "float8_e5m2fnuz": None, "qint8": "QInt8Storage", "quint8": "QUInt8Storage",
    "qint32": "QInt32Storage", "quint4x2": "QUInt4x2Storage", "quint2x4": "QUInt2x4Storage",
}

_CHECKPOINT_GLOBALS = None


def checkpoint_globals():
    """{"module.qualname": object}: how PyTorch names, in a checkpoint, the functions,
    classes, dtypes and storage types that ferrotorch rebuilds them with."""
    global _CHECKPOINT_GLOBALS
    if _CHECKPOINT_GLOBALS is None:
        from . import _C
        rc = {
            "torch._utils._rebuild_tensor": ckpt_rebuild_tensor,
            "torch._utils._rebuild_tensor_v2": ckpt_rebuild_tensor_v2,
            "torch._utils._rebuild_parameter": ckpt_rebuild_parameter,
            "torch._utils._rebuild_parameter_with_state": ckpt_rebuild_parameter_with_state,
            "torch._tensor._rebuild_from_type_v2": ckpt_rebuild_from_type_v2,
        }
        for name, dt in _C._storage_names():
            rc[f"torch.{name}"] = StorageType(name, dt)
            rc[f"torch.{str(dt).split('.')[-1]}"] = dt
        rc["torch.UntypedStorage"] = StorageType("UntypedStorage", _C.uint8)
        for dt_name, storage_name in _UNSUPPORTED_DTYPES.items():
            why = f"ferrotorch has no {dt_name} dtype: tensors of this dtype cannot be loaded"
            rc[f"torch.{dt_name}"] = UnsupportedGlobal(f"torch.{dt_name}", why)
            if storage_name:
                rc[f"torch.{storage_name}"] = UnsupportedGlobal(f"torch.{storage_name}", why)
        _CHECKPOINT_GLOBALS = rc
    return _CHECKPOINT_GLOBALS
