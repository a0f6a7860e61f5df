"""ferrotorch.autograd: backward/grad entry points and grad-mode managers."""
from .. import _C
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


def Variable(tensor, requires_grad=False, volatile=False):
    """Legacy wrapper: returns the tensor itself (``volatile=True`` means no graph)."""
    if volatile:
        return tensor.detach()
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


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
