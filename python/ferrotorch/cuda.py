"""ferrotorch.cuda: device queries, seeding and memory statistics, as torch.cuda.

The engine finds the NVIDIA driver (libcuda), NVRTC and cuBLAS at run time (cudarc's
dynamic loading), so one wheel serves machines with and without a GPU. Where there is no
driver or no device, `is_available()` is False without raising, counters read 0, seeding
is accepted, and calls that need a device raise RuntimeError, as in PyTorch.

NVRTC and cuBLAS are also found in PyPI's `nvidia-*` wheels: their `lib` folders are
loaded (by absolute path, `RTLD_GLOBAL`) before the engine first looks for the libraries,
so the engine's lookup by soname finds them.

Random numbers: CUDA tensors draw from the same (CPU) Philox stream as CPU tensors and
are uploaded, so `manual_seed(s)` gives the same values on both devices; `manual_seed`
here seeds that one generator (deviation: PyTorch keeps a separate CUDA generator).
"""
import contextlib
import glob
import os
import sys

from . import _C

_PRELOADED = False


def _preload_nvidia_libs():
    """Load libnvrtc / libcublas(Lt) from pip's nvidia-* wheels, if installed."""
    global _PRELOADED
    if _PRELOADED:
        return
    _PRELOADED = True
    import ctypes
    roots = [p for p in sys.path if p and os.path.isdir(os.path.join(p, "nvidia"))]
    # libcublasLt before libcublas (a dependency); builtins before nvrtc.
    order = ["libnvrtc-builtins.so*", "libnvrtc.so*", "libcublasLt.so*", "libcublas.so*"]
    for root in roots:
        for pattern in order:
            for path in sorted(glob.glob(os.path.join(root, "nvidia", "*", "lib", pattern))):
                try:
                    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    pass


_preload_nvidia_libs()


def _index(device):
    if device is None:
        return _C._cuda_current_device()
    if isinstance(device, int):
        return device
    if isinstance(device, str):
        device = _C.device(device)
    if isinstance(device, _C.device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        return device.index if device.index is not None else _C._cuda_current_device()
    raise TypeError(f"Expected a cuda device index, string or torch.device, got {type(device).__name__}")


def is_available():
    """True when a driver and at least one CUDA device are present."""
    return _C._cuda_device_count() > 0


def is_initialized():
    return is_available()


def init():
    _C._cuda_current_device()


def device_count():
    return _C._cuda_device_count()


def current_device():
    return _C._cuda_current_device()


def set_device(device):
    idx = _index(device)
    if idx >= 0:
        _C._cuda_set_device(idx)


def get_device_name(device=None):
    return _C._cuda_device_name(_index(device))


def get_device_capability(device=None):
    return tuple(_C._cuda_capability(_index(device)))


class _DeviceProperties:
    def __init__(self, idx):
        self.name = _C._cuda_device_name(idx)
        self.major, self.minor = _C._cuda_capability(idx)

    def __repr__(self):
        return f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor})"


def get_device_properties(device=None):
    return _DeviceProperties(_index(device))


def synchronize(device=None):
    _C._cuda_synchronize(_index(device))


def current_stream(device=None):
    raise NotImplementedError("ferrotorch runs all CUDA work on the device's default stream; stream objects are not exposed yet")


class device(contextlib.AbstractContextManager):
    """Context manager that selects a CUDA device (``with ferrotorch.cuda.device(0):``).

    ``device(None)`` or a negative index is a no-op, as in PyTorch."""

    def __init__(self, device):
        if isinstance(device, _C.device):
            if device.type != "cuda":
                raise ValueError(f"Expected a cuda device, but got: {device}")
            device = device.index if device.index is not None else 0
        elif isinstance(device, str):
            device = _C.device(device).index or 0
        self.idx = -1 if device is None else int(device)
        self.prev = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev = _C._cuda_current_device()
            _C._cuda_set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev >= 0:
            _C._cuda_set_device(self.prev)
        return False


def manual_seed(seed):
    """Seeds the generator CUDA tensors draw from (the default one; see the module doc)."""
    int(seed)
    if is_available():
        from . import manual_seed as _ms
        _ms(seed)


def manual_seed_all(seed):
    manual_seed(seed)


def seed():
    pass


def seed_all():
    pass


def _stats(device):
    if not is_available():
        return (0, 0, 0)
    return _C._cuda_memory_stats(_index(device))


def memory_allocated(device=None):
    return _stats(device)[0]


def max_memory_allocated(device=None):
    return _stats(device)[1]


def memory_reserved(device=None):
    return _stats(device)[2]


def max_memory_reserved(device=None):
    return _stats(device)[2]


def reset_peak_memory_stats(device=None):
    if is_available():
        _C._cuda_reset_peak_memory_stats(_index(device))


def empty_cache():
    _C._cuda_empty_cache()


# ---- legacy tensor types (torch.cuda.FloatTensor, ...) ----------------------------------------
class _CudaLegacyTypeMeta(type):
    """``isinstance(t, torch.cuda.FloatTensor)``: a float32 tensor on a CUDA device."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _C.Tensor) and obj.dtype == cls.dtype and obj.device.type == "cuda"

    def __repr__(cls):
        return "<class 'torch.cuda." + cls.__name__ + "'>"


def _cuda_legacy(name, dt):
    def __new__(cls, *args, **kw):
        import warnings

        import ferrotorch as _torch

        warnings.warn("The torch.cuda.*DtypeTensor constructors are no longer recommended. It's best to use methods "
                      "such as torch.tensor(data, dtype=*, device='cuda') to create tensors.", UserWarning,
                      stacklevel=2)
        # The CPU type object of the same name builds the tensor (its argument rules), then it moves.
        return getattr(_torch, name)(*args, **kw).to("cuda")

    return _CudaLegacyTypeMeta(name, (), {"__new__": __new__, "dtype": dt})


FloatTensor = _cuda_legacy("FloatTensor", _C.float32)
DoubleTensor = _cuda_legacy("DoubleTensor", _C.float64)
HalfTensor = _cuda_legacy("HalfTensor", _C.float16)
BFloat16Tensor = _cuda_legacy("BFloat16Tensor", _C.bfloat16)
ByteTensor = _cuda_legacy("ByteTensor", _C.uint8)
CharTensor = _cuda_legacy("CharTensor", _C.int8)
ShortTensor = _cuda_legacy("ShortTensor", _C.int16)
IntTensor = _cuda_legacy("IntTensor", _C.int32)
LongTensor = _cuda_legacy("LongTensor", _C.int64)
BoolTensor = _cuda_legacy("BoolTensor", _C.bool)
