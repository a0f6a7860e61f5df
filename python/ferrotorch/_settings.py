"""Global switches that training scripts set at the top: deterministic algorithms, the float32
matmul precision, and ``torch.compile`` (which runs the model eagerly in ferrotorch)."""
import functools

from .backends import cuda as _backends_cuda
from .nn import Module

_deterministic = False
_deterministic_warn_only = False


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms (``warn_only``: warn instead of raising where an op has none).

    ferrotorch's CPU and CUDA kernels are deterministic (fixed reduction orders, no atomics in
    reductions), so no op raises under this mode; the flags are kept for the queries below."""
    global _deterministic, _deterministic_warn_only
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, "
                        f"not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _deterministic = mode
    _deterministic_warn_only = warn_only


def are_deterministic_algorithms_enabled():
    """Whether `use_deterministic_algorithms(True)` is in effect."""
    return _deterministic


def is_deterministic_algorithms_warn_only_enabled():
    """Whether `use_deterministic_algorithms` was called with ``warn_only=True``."""
    return _deterministic_warn_only


def set_float32_matmul_precision(precision):
    """"highest" (float32 matmuls in full float32), "high" or "medium" (TF32 tensor cores allowed
    on CUDA; ferrotorch has no bfloat16-pass mode, so "medium" means the same as "high").
    Sets ``torch.backends.cuda.matmul.allow_tf32`` accordingly, as PyTorch does. Another string
    warns and changes nothing (PyTorch's behaviour)."""
    import warnings

    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _backends_cuda.matmul.allow_tf32 = precision != "highest"
    _backends_cuda._float32_matmul_precision = precision


def get_float32_matmul_precision():
    """The value set by `set_float32_matmul_precision` (or implied by ``matmul.allow_tf32``)."""
    return _backends_cuda._float32_matmul_precision


_COMPILE_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_COMPILE_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """``torch.compile``: checks its arguments as PyTorch does and returns the model to run eagerly.

    ferrotorch has no graph compiler: a function comes back wrapped (same results, no speed-up); an
    ``nn.Module`` comes back as an ``OptimizedModule`` whose ``_orig_mod`` is the model (state_dict
    keys gain the ``_orig_mod.`` prefix, as in PyTorch). Usable as ``@torch.compile`` and
    ``@torch.compile(...)``."""
    if model is None:
        def fn(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, disable=disable)
        return fn
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _COMPILE_MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_COMPILE_MODES)}")
    if isinstance(backend, str) and backend not in _COMPILE_BACKENDS:
        raise RuntimeError(f"Invalid backend: {backend!r}. See `torch._dynamo.list_backends()` for available "
                           "backends.")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return model(*args, **kwargs)

    return compiled


class OptimizedModule(Module):
    """What ``torch.compile(module)`` returns: runs ``_orig_mod`` (eagerly, in ferrotorch);
    attributes it does not have are looked up on ``_orig_mod``, as PyTorch's does."""

    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
