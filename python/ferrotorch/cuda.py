"""ferrotorch.cuda: device queries, seeding and memory statistics, as torch.cuda.

The CUDA kernels live in cuda/ and are compile-checked by NVRTC, but the run-time backend
(cudarc: context, allocator, launches, cuBLAS) is not wired into the engine yet. Until it
is, this module behaves as PyTorch does on a machine without an NVIDIA driver:
`is_available()` is False without raising, counters read 0, seeding is silently ignored
(PyTorch defers it until CUDA is initialised), and calls that need a device raise
RuntimeError. Deviation from PyTorch (documented in README): this holds even on a machine
that has a GPU.
"""
import contextlib

_NO_DEVICE = (
    "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a "
    "driver from http://www.nvidia.com/Download/index.aspx (ferrotorch's CUDA backend is not wired in "
    "yet: CUDA devices are unavailable in this build)"
)


def _no_device():
    raise RuntimeError(_NO_DEVICE)


def is_available():
    """False: no CUDA device can be used by this build."""
    return False


def is_initialized():
    return False


def init():
    _no_device()


def device_count():
    return 0


def current_device():
    _no_device()


def set_device(device):
    _no_device()


def get_device_name(device=None):
    _no_device()


def get_device_properties(device=None):
    _no_device()


def get_device_capability(device=None):
    _no_device()


def synchronize(device=None):
    _no_device()


def current_stream(device=None):
    _no_device()


class device(contextlib.AbstractContextManager):
    """Context manager that selects a CUDA device (``with ferrotorch.cuda.device(0):``).

    ``device(None)`` or a negative index is a no-op, as in PyTorch."""

    def __init__(self, device):
        from . import _C
        if isinstance(device, _C.device):
            if device.type != "cuda":
                raise ValueError(f"Expected a cuda device, but got: {device}")
            device = device.index if device.index is not None else 0
        elif isinstance(device, str):
            device = _C.device(device).index or 0
        self.idx = -1 if device is None else int(device)

    def __enter__(self):
        if self.idx >= 0:
            _no_device()
        return self

    def __exit__(self, *exc):
        return False


def manual_seed(seed):
    """Ignored without a CUDA device (PyTorch queues it until CUDA initialises)."""
    int(seed)


def manual_seed_all(seed):
    int(seed)


def seed():
    pass


def seed_all():
    pass


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def reset_peak_memory_stats(device=None):
    pass


def empty_cache():
    pass
