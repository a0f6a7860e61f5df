"""Autograd misuse: each case checks the exception type, a stable key phrase of
PyTorch's message, and that the tensors involved (values, requires_grad, .grad) are
intact afterwards."""
import warnings

import numpy as np
import pytest

import ferrotorch as torch


def f64(values, requires_grad=True):
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


class Snapshot:
    """Values, shape, dtype, requires_grad and .grad of tensors, to check a failed call kept them."""

    def __init__(self, *ts):
        self.items = [(t, self._state(t)) for t in ts]

    @staticmethod
    def _state(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # .grad of a non-leaf warns
            g = t.grad
        return (t.detach().numpy().copy(), tuple(t.shape), t.dtype, t.requires_grad,
                None if g is None else g.detach().numpy().copy())

    def check(self):
        for t, (vals, shape, dtype, rg, grad) in self.items:
            now = self._state(t)
            assert now[1] == shape and now[2] == dtype and now[3] == rg
            np.testing.assert_array_equal(now[0], vals)
            if grad is None:
                assert now[4] is None
            else:
                np.testing.assert_array_equal(now[4], grad)


def raises(exc, fn, *tensors, match=None):
    snap = Snapshot(*tensors)
    with pytest.raises(exc, match=match) as info:
        fn()
    snap.check()
    return str(info.value)


# ---------------------------------------------------------------- backward misuse

def test_backward_twice_without_retain_graph():
    x = f64([0.5, 1.5])
    y = x.exp().sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.5]))
    raises(RuntimeError, y.backward, x, y, match="backward through the graph a second time")
    # the failed call accumulated nothing
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.5]))


def test_autograd_grad_twice_without_retain_graph():
    x = f64([0.5, 1.5])
    y = (x * x).sum()
    torch.autograd.grad(y, x)
    raises(RuntimeError, lambda: torch.autograd.grad(y, x), x,
           match="backward through the graph a second time")


def test_backward_on_non_scalar_without_gradient():
    x = f64([1.0, 2.0, 3.0])
    y = x * 2
    raises(RuntimeError, y.backward, x, y, match="grad can be implicitly created only for scalar outputs")
    assert x.grad is None
    # the graph is still usable
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_autograd_grad_on_non_scalar_without_grad_outputs():
    x = f64([1.0, 2.0])
    y = x * 2
    raises(RuntimeError, lambda: torch.autograd.grad(y, x), x,
           match="grad can be implicitly created only for scalar outputs")


def test_backward_on_tensor_not_requiring_grad():
    t = torch.tensor([1.0, 2.0]).sum()
    raises(RuntimeError, t.backward, t, match="does not require grad")


def test_backward_on_detached_result():
    x = f64([1.0, 2.0])
    y = (x * 2).sum().detach()
    raises(RuntimeError, y.backward, x, y, match="does not require grad")
    assert x.grad is None


def test_backward_on_result_computed_under_no_grad():
    x = f64([1.0, 2.0])
    with torch.no_grad():
        y = (x * 2).sum()
    raises(RuntimeError, y.backward, x, y, match="does not require grad")
    assert x.grad is None


# ---------------------------------------------------------------- in-place misuse

@pytest.mark.parametrize("op", [lambda t: t.add_(1), lambda t: t.mul_(2.0), lambda t: t.exp_(),
                                lambda t: t.zero_(), lambda t: t.clamp_(min=0.0)],
                         ids=["add_", "mul_", "exp_", "zero_", "clamp_"])
def test_inplace_on_leaf_requiring_grad(op):
    x = f64([1.0, -2.0])
    raises(RuntimeError, lambda: op(x), x, match="a leaf Variable that requires grad")
    assert x.is_leaf and x.requires_grad


def test_setitem_on_leaf_requiring_grad():
    x = f64([1.0, -2.0])

    def f():
        x[0] = 5.0

    raises(RuntimeError, f, x, match="a leaf Variable that requires grad")


def test_inplace_on_view_of_leaf_requiring_grad():
    x = f64([[1.0, -2.0], [3.0, 4.0]])
    # PyTorch: "a view of a leaf Variable that requires grad is being used in an in-place operation."
    raises(RuntimeError, lambda: x[0].mul_(2), x, match="leaf Variable that requires grad")


def test_modified_saved_tensor():
    x = f64([0.5, 1.0])
    y = x.exp()            # ExpBackward0 saves its output y
    y.add_(1)
    msg = raises(RuntimeError, y.sum().backward, x, match="modified by an inplace operation")
    # the message names the op that saved the tensor and the versions
    assert "Exp" in msg
    assert "version 1" in msg and "version 0" in msg
    np.testing.assert_allclose(y.detach().numpy(), np.exp([0.5, 1.0]) + 1)


def test_modified_saved_input():
    x = f64([0.5, 1.0])
    h = x * 1.0
    y = h.sin()            # SinBackward0 saves its input h
    h.mul_(2)
    msg = raises(RuntimeError, y.sum().backward, x, match="modified by an inplace operation")
    assert "version 1" in msg and "version 0" in msg


def test_modified_saved_tensor_two_versions():
    x = f64([0.5, 1.0])
    w = f64([2.0, 3.0])
    h = x * 1.0
    y = h * w              # MulBackward0 saves h for the gradient of w
    h.add_(1)
    h.add_(1)
    msg = raises(RuntimeError, y.sum().backward, x, w, match="modified by an inplace operation")
    assert "version 2" in msg and "version 0" in msg


# ---------------------------------------------------------------- dtype / interop

@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_requires_grad_on_integer_tensor_creation(dtype):
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        torch.tensor([1, 0], dtype=getattr(torch, dtype), requires_grad=True)


def test_requires_grad_on_integer_factory():
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        torch.ones(2, dtype=torch.int64, requires_grad=True)


def test_requires_grad_on_integer_tensor_method():
    t = torch.tensor([1, 2, 3])
    raises(RuntimeError, t.requires_grad_, t, match="(?i)only Tensors of floating point")
    assert not t.requires_grad


def test_numpy_on_tensor_requiring_grad():
    x = f64([1.0, 2.0])
    raises(RuntimeError, x.numpy, x, match="requires grad")
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])


def test_numpy_on_non_leaf_requiring_grad():
    x = f64([1.0, 2.0])
    y = x * 2
    raises(RuntimeError, y.numpy, x, y, match="requires grad")


# ---------------------------------------------------------------- autograd.grad misuse

def test_grad_on_unused_input():
    x, unused = f64([1.0, 2.0]), f64([3.0])
    y = (x * x).sum()
    raises(RuntimeError, lambda: torch.autograd.grad(y, [x, unused]), x, unused,
           match="appears to not have been used")
    assert x.grad is None and unused.grad is None


def test_grad_wrt_tensor_not_requiring_grad():
    x = f64([1.0, 2.0])
    c = torch.tensor([1.0, 2.0], dtype=torch.float64)
    y = (x * c).sum()
    # PyTorch: "One of the differentiated Tensors does not require grad"
    raises(RuntimeError, lambda: torch.autograd.grad(y, [c]), x, c, match="does not require grad")
