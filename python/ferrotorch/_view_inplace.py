"""In-place view ops: ``x.unsqueeze_(0)``, ``x.t_()``, ``x.as_strided_(...)``, ``x.resize_(...)``.

Each computes the out-of-place view and then makes ``x`` itself that view
(``Tensor._become``: same storage, the view's shape/strides/offset, the view's autograd
history, version bumped), as PyTorch's in-place view ops do. So a non-leaf keeps a correct
gradient (``UnsqueezeBackward`` becomes its ``grad_fn``) and a leaf that requires grad raises
PyTorch's in-place error.
"""

import math

from ._C import Tensor
from . import _registry

# view -> the binding whose parameters it takes (swapdims is an alias of transpose)
_VIEWS = {"squeeze": Tensor.squeeze, "unsqueeze": Tensor.unsqueeze, "t": Tensor.t, "transpose": Tensor.transpose,
          "swapaxes": Tensor.swapaxes, "swapdims": Tensor.transpose, "as_strided": Tensor.as_strided}


def _view_inplace(name):
    def method(self, *args, **kwargs):
        self._become(getattr(self, name)(*args, **kwargs))
        return self

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`: this tensor becomes the view."
    method.__wrapped__ = _VIEWS[name]  # inspect.signature shows the view's parameters (checked against _C.pyi)
    return method


def _sizes(sizes):
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    for s in sizes:
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"resize_(): argument 'size' must be tuple of ints, but found element of type {type(s).__name__}")
    return tuple(sizes)


def resize_(self, *sizes, memory_format=None):
    """``Tensor.resize_``: this tensor becomes contiguous with the given shape, keeping its
    storage offset. Its storage is kept when large enough (elements keep their places in
    memory); otherwise it moves to a larger storage holding a copy of the old one, the rest
    uninitialised (zeros here)."""
    import ferrotorch as torch

    shape = _sizes(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    strides = tuple(reversed(strides))
    offset = self.storage_offset()
    needed = offset + math.prod(shape)
    have = self._storage_numel()
    if needed <= have:
        view = self.as_strided(shape, strides, offset)
    else:
        grown = torch.zeros(needed, dtype=self.dtype, device=self.device)
        if have:
            grown[:have] = self.as_strided((have,), (1,), 0)
        view = grown.as_strided(shape, strides, offset)
    self._become(view)
    return self


def resize_as_(self, other, *, memory_format=None):
    """``Tensor.resize_as_``: ``resize_`` to ``other``'s shape."""
    return resize_(self, tuple(other.shape))


for _name in _VIEWS:
    _registry.method(_name + "_", _view_inplace(_name))
del _name
_registry.method("resize_", resize_)
_registry.method("resize_as_", resize_as_)
