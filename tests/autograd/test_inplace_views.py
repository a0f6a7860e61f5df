"""In-place ops on views of tensors that are part of a graph (PyTorch's CopySlices).

Writing into a view rewrites the history of the viewed base: gradients flow to the
written value inside the view and to the base's old value outside it. Each case is
checked with gradcheck (finite differences in float64) and, where the formula is short,
against a hand-derived gradient.
"""
import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.autograd import gradcheck, gradgradcheck


def f64(values, requires_grad=True):
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


def rand(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.uniform(0.5, 1.5, size=shape), dtype=torch.float64, requires_grad=True)


def close(t, expected):
    np.testing.assert_allclose(t.detach().numpy(), np.asarray(expected, dtype=np.float64), rtol=1e-12, atol=1e-12)


def test_mul_into_row_view_hand_derived():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1.0
    y[0].mul_(3)
    close(y, [[3.0, 6.0], [3.0, 4.0]])
    assert type(y.grad_fn).__name__ == "CopySlices"
    y.sum().backward()
    close(x.grad, [[3.0, 3.0], [1.0, 1.0]])


def test_view_value_depends_on_other_input():
    # y[:, 1] *= w  ->  d(sum y)/dw = x[:, 1], d/dx = [[1, w0], [1, w1]] (column 1 scaled)
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    w = f64([5.0, 7.0])
    y = x.clone()
    y[:, 1].mul_(w)
    y.sum().backward()
    close(w.grad, [2.0, 4.0])
    close(x.grad, [[1.0, 5.0], [1.0, 7.0]])


def test_copy_into_strided_view():
    x = f64([1.0, 2.0, 3.0, 4.0, 5.0])
    v = f64([10.0, 20.0])
    y = x * 2
    y[::3].copy_(v * v)         # elements 0 and 3
    close(y, [100.0, 4.0, 6.0, 400.0, 10.0])
    (y * torch.arange(1, 6, dtype=torch.float64)).sum().backward()
    close(x.grad, [0.0, 4.0, 6.0, 0.0, 10.0])
    close(v.grad, [2 * 10.0 * 1, 2 * 20.0 * 4])


def test_fill_on_view_zeroes_its_gradient():
    x = f64([1.0, 2.0, 3.0])
    y = x.sin()                 # saves its input, so writing into y is allowed
    y[1:].fill_(0.5)
    y.sum().backward()
    close(x.grad, [np.cos(1.0), 0.0, 0.0])


def test_view_of_a_view_and_transpose():
    x = f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x * 1.0
    y.t()[1:, 0].add_(f64([10.0, 20.0], requires_grad=False))   # y[0, 1:] += [10, 20]
    close(y, [[1.0, 12.0, 23.0], [4.0, 5.0, 6.0]])
    (y * y).sum().backward()
    close(x.grad, 2 * np.array([[1.0, 12.0, 23.0], [4.0, 5.0, 6.0]]))


def test_view_sees_new_history_after_write():
    # Using the view after the in-place write goes through the new base.
    x = f64([1.0, 2.0, 3.0])
    y = x * 1.0
    v = y[:2]
    v.mul_(x[:2])               # y = [x0^2, x1^2, x2]
    (v * 3).sum().backward()    # d/dx of 3(x0^2 + x1^2)
    close(x.grad, [6.0, 12.0, 0.0])


def test_inplace_on_view_of_base_without_grad_makes_base_require_grad():
    buf = torch.zeros(3, dtype=torch.float64)
    w = f64([2.0, 3.0])
    buf[1:].add_(w * w)
    assert buf.requires_grad and not buf.is_leaf
    (buf * f64([1.0, 10.0, 100.0], requires_grad=False)).sum().backward()
    close(w.grad, [2 * 2.0 * 10.0, 2 * 3.0 * 100.0])


def test_inplace_saving_self_uses_value_before_write():
    # y.mul_(x) saves the old y for x's gradient: d/dx (x+1)*x = 2x + 1
    x = f64([1.0, 2.0])
    y = x + 1
    y.mul_(x)
    y.sum().backward()
    close(x.grad, [3.0, 5.0])


def test_gradcheck_through_copyslices():
    def f(x, w):
        y = x * 2.0
        y[1:, ::2].mul_(w)
        y[0].sin_()
        return y * y

    assert gradcheck(f, (rand(3, 4), rand(2, 2, seed=1)))


def test_gradgradcheck_through_copyslices():
    def f(x, w):
        y = x.sin()
        y[:, 1].mul_(w)
        return y

    assert gradgradcheck(f, (rand(2, 3), rand(2, seed=2)))


def test_view_of_leaf_requiring_grad_raises_and_leaves_it_intact():
    x = f64([[1.0, -2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0].mul_(2)
    close(x, [[1.0, -2.0], [3.0, 4.0]])
    with torch.no_grad():
        x[0].mul_(2)            # allowed without grad mode, as optimizers do
    close(x, [[2.0, -4.0], [3.0, 4.0]])
