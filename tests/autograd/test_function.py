"""Custom autograd.Function subclasses: static forward(ctx, ...) / backward(ctx, ...),
ctx.save_for_backward / saved_tensors, needs_input_grad, mark_non_differentiable,
.apply, reuse in one graph, multiple outputs, non-tensor arguments, gradcheck and
double backward through a custom Function."""
import numpy as np
import pytest

import ferrotorch as torch

Function = torch.autograd.Function


def f64(values, requires_grad=True):
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


def close(t, expected, rtol=1e-12, atol=1e-12):
    assert t is not None
    np.testing.assert_allclose(t.detach().numpy(), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x ** 2


class MulAdd(Function):
    """out = a * b + c; records needs_input_grad seen in backward."""
    seen_needs = []

    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        return a * b + c

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        MulAdd.seen_needs.append(tuple(ctx.needs_input_grad))
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        gc = g if ctx.needs_input_grad[2] else None
        return ga, gb, gc


class SinCos(Function):
    """Two outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * x.cos() - g_cos * x.sin()


class Scale(Function):
    """Non-tensor argument stored on ctx; backward returns None for it."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


class SortWithIndices(Function):
    """Values are differentiable, indices are marked non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        values, idx = x.sort()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g_values, g_idx):
        (idx,) = ctx.saved_tensors
        grad = torch.zeros_like(g_values)
        grad.scatter_(0, idx, g_values)
        return grad


# ---------------------------------------------------------------- basics

def test_apply_forward_and_backward():
    x = f64([1.0, -2.0, 0.5])
    y = Cube.apply(x)
    close(y, [1.0, -8.0, 0.125])
    assert y.requires_grad
    assert y.grad_fn is not None
    y.sum().backward()
    close(x.grad, [3.0, 12.0, 0.75])


def test_forward_runs_without_recording_graph():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen["enabled"] = torch.is_grad_enabled()
            y = x * 2
            seen["inner_requires_grad"] = y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = f64([1.0])
    y = Probe.apply(x)
    assert seen == {"enabled": False, "inner_requires_grad": False}
    assert y.requires_grad


def test_saved_tensors_are_the_saved_values():
    class Keep(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            close(x, [1.0, 2.0])
            close(w, [3.0, 4.0])
            return g * w, g * x

    x, w = f64([1.0, 2.0]), f64([3.0, 4.0])
    Keep.apply(x, w).sum().backward()
    close(x.grad, [3.0, 4.0])
    close(w.grad, [1.0, 2.0])


def test_needs_input_grad():
    MulAdd.seen_needs.clear()
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0], requires_grad=False)
    c = f64([0.5, 0.5])
    MulAdd.apply(a, b, c).sum().backward()
    assert MulAdd.seen_needs == [(True, False, True)]
    close(a.grad, [3.0, 4.0])
    close(c.grad, [1.0, 1.0])
    assert b.grad is None


def test_no_input_requires_grad_gives_plain_tensor():
    a, b, c = (f64([1.0], requires_grad=False) for _ in range(3))
    y = MulAdd.apply(a, b, c)
    assert not y.requires_grad
    assert y.grad_fn is None
    close(y, [2.0])


def test_non_tensor_argument():
    x = f64([1.0, 2.0])
    y = Scale.apply(x, 2.5)
    close(y, [2.5, 5.0])
    y.sum().backward()
    close(x.grad, [2.5, 2.5])


def test_function_used_twice_in_graph():
    x = f64([1.0, 2.0])
    y = Cube.apply(Cube.apply(x))          # x^9
    z = Cube.apply(x) + y                  # x^3 + x^9
    z.sum().backward()
    xv = np.array([1.0, 2.0])
    close(x.grad, 3 * xv ** 2 + 9 * xv ** 8)


def test_two_outputs():
    xv = np.array([0.3, -1.2])
    x = f64(xv)
    s, c = SinCos.apply(x)
    close(s, np.sin(xv))
    close(c, np.cos(xv))
    (2 * s + 3 * c).sum().backward()
    close(x.grad, 2 * np.cos(xv) - 3 * np.sin(xv))


def test_two_outputs_only_one_used():
    xv = np.array([0.3, -1.2])
    x = f64(xv)
    s, c = SinCos.apply(x)
    c.sum().backward()          # the unused output's gradient arrives as zeros
    close(x.grad, -np.sin(xv))


def test_mark_non_differentiable():
    x = f64([3.0, 1.0, 2.0])
    values, idx = SortWithIndices.apply(x)
    close(values, [1.0, 2.0, 3.0])
    assert values.requires_grad
    assert not idx.requires_grad
    np.testing.assert_array_equal(idx.numpy(), [1, 2, 0])
    (values * f64([1.0, 10.0, 100.0], False)).sum().backward()
    close(x.grad, [100.0, 1.0, 10.0])


def test_mark_non_differentiable_float_output():
    class WithMask(Function):
        @staticmethod
        def forward(ctx, x):
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx, g, g_mask):
            return g * 2

    x = f64([1.0, -1.0])
    y, m = WithMask.apply(x)
    assert y.requires_grad and not m.requires_grad
    close(m, [1.0, 0.0])


def test_custom_function_composes_with_builtin_ops():
    xv = np.array([0.5, -0.25])
    x = f64(xv)
    y = Cube.apply(x.exp() * 2).log().sum()   # log(8 e^{3x}) -> derivative 3
    y.backward()
    close(x.grad, [3.0, 3.0])


def test_custom_function_grad_fn_next_functions():
    x = f64([1.0])
    y = Cube.apply(x * 2)
    assert y.grad_fn.name() == "CubeBackward"
    assert y.grad_fn.next_functions[0][0].name() == "MulBackward0"


def test_hook_on_custom_function_output():
    x = f64([1.0, 2.0])
    y = Cube.apply(x)
    y.register_hook(lambda g: g * 0.5)
    y.sum().backward()
    close(x.grad, [1.5, 6.0])


# ---------------------------------------------------------------- gradcheck / double backward

def test_gradcheck_custom_function():
    x = f64([[0.3, -1.1, 0.7], [1.4, -0.2, 0.9]])
    assert torch.autograd.gradcheck(Cube.apply, (x,))
    assert torch.autograd.gradcheck(SinCos.apply, (x,))
    b = f64([0.5, -2.0, 1.5])
    c = f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert torch.autograd.gradcheck(MulAdd.apply, (x, b, c))
    assert torch.autograd.gradcheck(lambda t: Scale.apply(t, -1.5), (x,))


def test_gradcheck_detects_wrong_backward():
    class BadCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x ** 2          # should be 3 x^2

    x = f64([0.3, -1.1, 0.7])
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        torch.autograd.gradcheck(BadCube.apply, (x,))


def test_double_backward_through_custom_function():
    # Cube.backward is built from differentiable ops, so create_graph gives 6x
    x = f64(1.5)
    (g,) = torch.autograd.grad(Cube.apply(x), x, create_graph=True)
    assert g.item() == pytest.approx(3 * 1.5 ** 2)
    (gg,) = torch.autograd.grad(g, x)
    assert gg.item() == pytest.approx(6 * 1.5)


def test_gradgradcheck_custom_function():
    x = f64([0.3, -1.1, 0.7])
    assert torch.autograd.gradgradcheck(Cube.apply, (x,))
    assert torch.autograd.gradgradcheck(SinCos.apply, (x,))


# ---------------------------------------------------------------- errors

def test_backward_returning_wrong_number_of_gradients():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    x = f64([1.0])
    y = TooMany.apply(x)
    # PyTorch: "function TooManyBackward returned an incorrect number of gradients (expected 1, got 2)"
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        y.sum().backward()
    assert x.grad is None
