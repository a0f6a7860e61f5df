"""Tensor creation composed in Python: the Tensor.new_zeros/new_ones/new_empty/new_full/
new_tensor factories (self's dtype and device unless given) and `out=` for torch.arange."""
from . import _C
from ._C import Tensor
from ._registry import function, method
from ._utils import _add_out


def _new_factory(fill):
    def f(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        if len(size) == 1:
            size = _size_arg(size[0])
        t = fill(size, dtype=dtype if dtype is not None else self.dtype,
                 device=device if device is not None else self.device)
        return t.requires_grad_(requires_grad) if requires_grad else t
    return f


def _size_arg(size):
    """A size given as one object: a sequence of ints, or one int-like (an int, a 0-d
    integer tensor) meaning a 1-d size, as PyTorch reads it."""
    if isinstance(size, (tuple, list)):
        return tuple(size)
    if hasattr(size, "__index__") and not (isinstance(size, Tensor) and size.dim() > 0):
        return (size.__index__(),)
    return tuple(size)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    t = _C.full(tuple(size), fill_value, dtype=dtype if dtype is not None else self.dtype,
                device=device if device is not None else self.device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    if isinstance(data, Tensor):
        # self's dtype and device unless given, as for any other data (PyTorch)
        t = data.detach().to(dtype=dtype if dtype is not None else self.dtype,
                             device=device if device is not None else self.device, copy=True)
    else:
        t = _C.tensor(data, dtype=dtype if dtype is not None else self.dtype,
                      device=device if device is not None else self.device)
    return t.requires_grad_(requires_grad) if requires_grad else t


method("new_zeros", _new_factory(_C.zeros))
method("new_ones", _new_factory(_C.ones))
method("new_empty", _new_factory(_C.empty))
method("new_full", _new_full)
method("new_tensor", _new_tensor)
arange = function("arange", _add_out(_C.arange), replace=True)
