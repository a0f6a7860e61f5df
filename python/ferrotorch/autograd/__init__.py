"""ferrotorch.autograd: backward/grad entry points and grad-mode managers."""
from .. import _C, _registry
# Public re-exports (torch.autograd.no_grad, torch.autograd.Function, ...): the `x as x` form
# marks them as such without an __all__, which would change `from ferrotorch.autograd import *`.
from .grad_mode import (
    no_grad as no_grad, enable_grad as enable_grad, set_grad_enabled as set_grad_enabled,
    inference_mode as inference_mode,
)
from .gradcheck import gradcheck as gradcheck, gradgradcheck as gradgradcheck, GradcheckError as GradcheckError
from .function import Function as Function, FunctionCtx as FunctionCtx


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    _C._backward(tensors, grad_tensors, retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False,
         only_inputs=True, materialize_grads=False):
    single = isinstance(inputs, _C.Tensor)
    res = _C._grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    if materialize_grads:
        ins = [inputs] if single else list(inputs)
        res = tuple(g if g is not None else _C.zeros(*i.shape, dtype=i.dtype) for g, i in zip(res, ins))
    return res


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, _C.Tensor)


class Variable(metaclass=_VariableMeta):
    """Legacy ``torch.autograd.Variable``: every tensor is one (``isinstance(t, Variable)``), and
    ``Variable(t, requires_grad=False, volatile=False)`` returns a new tensor sharing ``t``'s data,
    detached from its graph, with ``requires_grad`` set, as PyTorch's. ``volatile`` has no effect
    beyond a warning (PyTorch's), and ``Variable()`` is an empty tensor."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        import warnings

        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if data is None:
            data = _C.empty(0)
        elif not isinstance(data, _C.Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


def _volatile(self):
    import warnings

    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
    return False


# Tensor.volatile: the legacy flag, read-only and always False (PyTorch's).
_registry.method("volatile", property(_volatile))


class set_detect_anomaly:
    def __init__(self, mode, check_nan=True):
        self.prev = _C.is_anomaly_enabled()
        _C._set_anomaly_enabled(bool(mode))

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(self.prev)
        return False


class detect_anomaly:
    def __init__(self, check_nan=True):
        pass

    def __enter__(self):
        self.prev = _C.is_anomaly_enabled()
        _C._set_anomaly_enabled(True)

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(self.prev)
        return False
