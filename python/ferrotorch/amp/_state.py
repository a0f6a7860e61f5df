"""``torch.is_autocast_enabled`` & co.: the engine's thread-local autocast state."""

from ferrotorch import _C

__all__ = [
    "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype",
    "is_autocast_cpu_enabled", "set_autocast_cpu_enabled", "get_autocast_cpu_dtype", "set_autocast_cpu_dtype",
    "get_autocast_gpu_dtype", "set_autocast_gpu_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
    "autocast_increment_nesting", "autocast_decrement_nesting", "clear_autocast_cache",
]


def _dev(device_type):
    if not isinstance(device_type, str):
        raise TypeError(f"expected a device type string, got {type(device_type).__name__}")
    if not _C._is_autocast_available(device_type.split(":")[0]):
        raise RuntimeError(
            "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, "
            f"vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {device_type}"
        )
    return device_type.split(":")[0]


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (no argument: CUDA, PyTorch's legacy form)."""
    return _C._autocast_is_enabled("cuda" if device_type is None else _dev(device_type))


def set_autocast_enabled(*args):
    """``set_autocast_enabled(device_type, enabled)``, or ``set_autocast_enabled(enabled)`` for CUDA."""
    if len(args) == 1:
        device_type, enabled = "cuda", args[0]
    elif len(args) == 2:
        device_type, enabled = _dev(args[0]), args[1]
    else:
        raise TypeError(f"set_autocast_enabled() takes 1 or 2 arguments ({len(args)} given)")
    if not isinstance(enabled, bool):
        raise TypeError(
            f"set_autocast_enabled(): argument 'enabled' (position {len(args)}) must be bool, not {type(enabled).__name__}"
        )
    _C._autocast_set_enabled(device_type, enabled)


def get_autocast_dtype(device_type):
    return _C._autocast_get_dtype(_dev(device_type))


def set_autocast_dtype(device_type, dtype):
    _C._autocast_set_dtype(_dev(device_type), dtype)


def is_autocast_cpu_enabled():
    return _C._autocast_is_enabled("cpu")


def set_autocast_cpu_enabled(enabled):
    _C._autocast_set_enabled("cpu", bool(enabled))


def get_autocast_cpu_dtype():
    return _C._autocast_get_dtype("cpu")


def set_autocast_cpu_dtype(dtype):
    _C._autocast_set_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    return _C._autocast_get_dtype("cuda")


def set_autocast_gpu_dtype(dtype):
    _C._autocast_set_dtype("cuda", dtype)


def is_autocast_cache_enabled():
    return _C._autocast_is_cache_enabled()


def set_autocast_cache_enabled(enabled):
    _C._autocast_set_cache_enabled(bool(enabled))


def autocast_increment_nesting():
    return _C._autocast_increment_nesting()


def autocast_decrement_nesting():
    return _C._autocast_decrement_nesting()


def clear_autocast_cache():
    _C._autocast_clear_cache()
