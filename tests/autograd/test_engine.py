"""The autograd engine and its Python API, checked against hand-derived derivatives.

Covers: classic textbook examples, accumulation into .grad, retain_graph, higher-order
derivatives via create_graph, autograd.grad / autograd.backward options, hooks,
retain_grad, is_leaf, grad_fn node names and next_functions, detach, grad-mode context
managers and decorators, in-place ops on non-leaves, a 100k-node chain, the legacy
Variable wrapper and anomaly detection.
"""
import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch


def f64(values, requires_grad=True):
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


def npv(t):
    return t.detach().numpy()


def close(t, expected, rtol=1e-12, atol=1e-12):
    assert t is not None
    np.testing.assert_allclose(npv(t), np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- classic examples

def test_cubic_polynomial():
    # d/dx (x-1)(x-2)(x-3) = 3x^2 - 12x + 11 = 5.75 at x = 3.5
    x = f64(3.5)
    y = (x - 1) * (x - 2) * (x - 3)
    assert y.item() == pytest.approx(2.5 * 1.5 * 0.5)
    y.backward()
    assert x.grad.item() == pytest.approx(5.75, rel=1e-14)
    assert x.grad.shape == x.shape
    assert x.grad.dtype == torch.float64


def test_chain_rule_two_paths():
    # z = 2x + 3y, x = 2a + 3b, y = 5a^2 + 3b^3  ->  dz/da = 4 + 30a, dz/db = 6 + 27b^2
    av, bv = [0.5, -1.0, 2.0], [1.5, 0.25, -2.0]
    a, b = f64(av), f64(bv)
    x = 2 * a + 3 * b
    y = 5 * a ** 2 + 3 * b ** 3
    z = 2 * x + 3 * y
    z.sum().backward()
    close(a.grad, 4 + 30 * np.array(av))
    close(b.grad, 6 + 27 * np.array(bv) ** 2)


def test_float32_gradient():
    x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    assert x.dtype == torch.float32
    (x.sin() * x).sum().backward()
    xv = np.array([1.0, -2.0, 0.5])
    assert x.grad.dtype == torch.float32
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-6)


def test_broadcast_gradient_summed_to_input_shape():
    a = f64([[1.0], [2.0], [3.0]])        # (3, 1)
    b = f64([10.0, 20.0, 30.0, 40.0])     # (4,)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    close(a.grad, np.full((3, 1), 100.0))
    close(b.grad, np.full(4, 6.0))


def test_gradient_through_views():
    x = f64(np.arange(12.0).reshape(3, 4))
    y = x.t()[1:, ::2]            # (3, 2) view: rows 1..3 of x.t(), cols 0 and 2
    (y * f64([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=False)).sum().backward()
    expected = np.zeros((3, 4))
    # y[i, j] = x[2*j, i+1]
    for i in range(3):
        for j in range(2):
            expected[2 * j, i + 1] = [[1, 2], [3, 4], [5, 6]][i][j]
    close(x.grad, expected)


# ---------------------------------------------------------------- accumulation, retain_graph

def test_grad_accumulates_across_backward_calls():
    x = f64([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    close(x.grad, [2.0, 4.0, 6.0])
    (3 * x).sum().backward()
    close(x.grad, [5.0, 7.0, 9.0])
    x.grad = None
    (3 * x).sum().backward()
    close(x.grad, [3.0, 3.0, 3.0])


def test_grad_zero_in_place_then_accumulate():
    x = f64([1.0, 2.0])
    (x ** 2).sum().backward()
    x.grad.zero_()
    close(x.grad, [0.0, 0.0])
    (x ** 3).sum().backward()
    close(x.grad, [3.0, 12.0])


def test_retain_graph_allows_second_backward():
    x = f64([0.5, -1.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = np.exp([0.5, -1.0]) * (1 + np.array([0.5, -1.0]))
    close(x.grad, g1)
    y.backward()
    close(x.grad, 2 * g1)


def test_backward_with_gradient_argument():
    x = f64([1.0, 2.0, 3.0])
    y = x ** 2
    y.backward(gradient=f64([1.0, 0.1, -2.0], requires_grad=False))
    close(x.grad, [2.0, 0.4, -12.0])


def test_backward_on_scalar_with_explicit_gradient():
    x = f64(2.0)
    (x ** 3).backward(f64(0.5, requires_grad=False))
    assert x.grad.item() == pytest.approx(6.0)


def test_leaf_used_in_two_branches_accumulates_within_one_backward():
    x = f64([1.0, 2.0])
    y = x * 3
    z = x.exp()
    (y + z).sum().backward()
    close(x.grad, 3 + np.exp([1.0, 2.0]))


# ---------------------------------------------------------------- higher order

def test_second_and_third_derivatives():
    x = f64(1.5)
    y = x ** 3
    (g1,) = torch.autograd.grad(y, x, create_graph=True)
    assert g1.item() == pytest.approx(3 * 1.5 ** 2)
    assert g1.requires_grad
    (g2,) = torch.autograd.grad(g1, x, create_graph=True)
    assert g2.item() == pytest.approx(6 * 1.5)
    (g3,) = torch.autograd.grad(g2, x)
    assert g3.item() == pytest.approx(6.0)


def test_second_derivative_via_backward_create_graph():
    x = f64([0.3, -0.7])
    y = (x.sin() * x).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about a .grad reference cycle
        y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    xv = np.array([0.3, -0.7])
    close(g, np.cos(xv) * xv + np.sin(xv))
    x.grad = None
    g.sum().backward()
    # d/dx (x cos x + sin x) = 2 cos x - x sin x
    close(x.grad, 2 * np.cos(xv) - xv * np.sin(xv))


def test_mixed_second_derivative():
    a, b = f64(2.0), f64(-3.0)
    y = a ** 2 * b ** 3
    (ga,) = torch.autograd.grad(y, a, create_graph=True)   # 2 a b^3
    assert ga.item() == pytest.approx(2 * 2.0 * (-27.0))
    (gab,) = torch.autograd.grad(ga, b)                     # 6 a b^2
    assert gab.item() == pytest.approx(6 * 2.0 * 9.0)


def test_grad_without_create_graph_is_not_differentiable():
    x = f64(1.5)
    (g,) = torch.autograd.grad(x ** 3, x)
    assert not g.requires_grad
    assert g.grad_fn is None


# ---------------------------------------------------------------- autograd.grad / backward

def test_autograd_grad_returns_tuple_and_leaves_grad_untouched():
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    out = (x * y).sum()
    gs = torch.autograd.grad(out, [x, y])
    assert isinstance(gs, tuple) and len(gs) == 2
    close(gs[0], [3.0, 4.0])
    close(gs[1], [1.0, 2.0])
    assert x.grad is None and y.grad is None


def test_autograd_grad_allow_unused():
    x, unused = f64([1.0, 2.0]), f64([5.0])
    gx, gu = torch.autograd.grad((x ** 2).sum(), [x, unused], allow_unused=True)
    close(gx, [2.0, 4.0])
    assert gu is None


def test_autograd_grad_outputs():
    x = f64([1.0, 2.0, 3.0])
    y = x * x
    (g,) = torch.autograd.grad(y, x, grad_outputs=f64([1.0, -1.0, 0.5], requires_grad=False))
    close(g, [2.0, -4.0, 3.0])


def test_autograd_grad_multiple_outputs():
    x = f64([1.0, 2.0])
    y1, y2 = (x * 2).sum(), (x ** 2).sum()
    (g,) = torch.autograd.grad([y1, y2], [x])
    close(g, [4.0, 6.0])


def test_autograd_grad_retain_graph():
    x = f64([1.0, 2.0])
    y = (x.exp()).sum()
    (g1,) = torch.autograd.grad(y, x, retain_graph=True)
    (g2,) = torch.autograd.grad(y, x)
    close(g1, np.exp([1.0, 2.0]))
    close(g2, np.exp([1.0, 2.0]))


def test_autograd_grad_wrt_non_leaf():
    x = f64([1.0, 2.0])
    h = x * 3
    y = (h ** 2).sum()
    (gh,) = torch.autograd.grad(y, h)
    close(gh, [6.0, 12.0])


def test_backward_inputs_restricts_accumulation():
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    close(a.grad, [3.0, 4.0])
    assert b.grad is None
    (a * b).sum().backward(inputs=[b])
    close(b.grad, [1.0, 2.0])
    close(a.grad, [3.0, 4.0])


def test_autograd_backward_function():
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    y1, y2 = a * b, a + b
    torch.autograd.backward([y1, y2], [f64([1.0, 1.0], False), f64([2.0, -1.0], False)])
    close(a.grad, [5.0, 3.0])
    close(b.grad, [3.0, 1.0])


def test_autograd_backward_scalar():
    x = f64([2.0, 3.0])
    torch.autograd.backward((x ** 2).sum())
    close(x.grad, [4.0, 6.0])


# ---------------------------------------------------------------- hooks

def test_hook_replaces_gradient_on_leaf():
    x = f64([1.0, 2.0])
    seen = []

    def hook(g):
        seen.append(npv(g).copy())
        return g * 10

    h = x.register_hook(hook)
    (x * x).sum().backward()
    close(x.grad, [20.0, 40.0])
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    h.remove()
    x.grad = None
    (x * x).sum().backward()
    close(x.grad, [2.0, 4.0])
    assert len(seen) == 1


def test_hook_on_non_leaf_changes_upstream_gradient():
    x = f64([1.0, 2.0])
    y = x * 3
    y.register_hook(lambda g: g + 1)
    (y * 2).sum().backward()
    # dL/dy = 2 -> hook -> 3, then * 3
    close(x.grad, [9.0, 9.0])


def test_hook_returning_none_observes_only():
    x = f64([1.0, -1.0])
    y = x.exp()
    seen = []
    y.register_hook(lambda g: seen.append(npv(g).copy()))
    (y * f64([2.0, 3.0], False)).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 3.0])
    close(x.grad, np.exp([1.0, -1.0]) * [2.0, 3.0])


def test_multiple_hooks_run_in_order():
    x = f64([1.0])
    x.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: g + 1)
    (x * 5).sum().backward()
    close(x.grad, [11.0])


# ---------------------------------------------------------------- retain_grad, is_leaf, grad_fn

def test_retain_grad_on_non_leaf():
    x = f64([1.0, 2.0])
    y = x * 2
    z = x * 3
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    (y * y + z).sum().backward()
    close(y.grad, [4.0, 8.0])
    close(x.grad, [2 * 2 * 2.0 + 3, 2 * 2 * 4.0 + 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert z.grad is None
    assert not z.retains_grad


def test_retain_grad_on_leaf_is_noop():
    x = f64([1.0])
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    close(x.grad, [2.0])


def test_is_leaf():
    x = f64([1.0, 2.0])
    c = torch.tensor([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and c.is_leaf
    assert not y.is_leaf
    assert (c * 2).is_leaf            # no grad required -> still a leaf
    assert y.detach().is_leaf
    assert x.grad_fn is None and c.grad_fn is None
    assert x.requires_grad and not c.requires_grad and y.requires_grad


@pytest.mark.parametrize("make,name", [
    (lambda a, b: a + b, "AddBackward0"),
    (lambda a, b: a * b, "MulBackward0"),
    (lambda a, b: a * 2.0, "MulBackward0"),
    (lambda a, b: torch.mm(a, b), "MmBackward0"),
    (lambda a, b: torch.addmm(b[0], a, b), "AddmmBackward0"),
    (lambda a, b: a.sum(), "SumBackward0"),
    (lambda a, b: a.exp(), "ExpBackward0"),
    (lambda a, b: a - b, "SubBackward0"),
    (lambda a, b: a / b, "DivBackward0"),
    (lambda a, b: a.tanh(), "TanhBackward0"),
    (lambda a, b: a.sum(0), "SumBackward1"),
    (lambda a, b: a.mean(), "MeanBackward0"),
])
def test_grad_fn_names(make, name):
    a = f64([[1.0, 2.0], [3.0, 4.0]])
    b = f64([[0.5, -1.0], [2.0, 1.5]])
    y = make(a, b)
    assert y.grad_fn is not None
    assert y.grad_fn.name() == name


def test_next_functions_and_accumulate_grad():
    x = f64([1.0, 2.0])
    w = f64([3.0, 4.0])
    y = (x * w).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    assert len(mul.next_functions) == 2
    acc_x, acc_w = mul.next_functions[0][0], mul.next_functions[1][0]
    # PyTorch's name() for the leaf node is "torch::autograd::AccumulateGrad"
    assert type(acc_x).__name__ == "AccumulateGrad"
    assert acc_x.name().endswith("AccumulateGrad")
    assert acc_x.variable is x and acc_w.variable is w


def test_next_functions_for_constant_operand():
    x = f64([1.0, 2.0])
    c = torch.tensor([3.0, 4.0], dtype=torch.float64)
    y = x.exp() * c
    fns = y.grad_fn.next_functions
    assert fns[0][0].name() == "ExpBackward0"
    assert fns[1][0] is None
    assert fns[0][0].next_functions[0][0].variable is x


# ---------------------------------------------------------------- detach, requires_grad_

def test_detach_shares_storage_and_cuts_graph():
    x = f64([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 100.0                      # shares storage with y
    assert y[0].item() == 100.0
    (y * 1.0).sum().backward()
    close(x.grad, [2.0, 2.0])


def test_detach_in_place():
    x = f64([1.0, 2.0])
    y = x * 3
    y.detach_()
    assert not y.requires_grad
    assert y.grad_fn is None
    assert y.is_leaf
    close(y, [3.0, 6.0])
    z = (y * x).sum()
    z.backward()
    close(x.grad, [3.0, 6.0])


def test_detached_value_used_as_constant():
    x = f64([2.0])
    y = x * x.detach()                # d/dx = x.detach() = 2, not 2x = 4
    y.sum().backward()
    close(x.grad, [2.0])


def test_requires_grad_():
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert not t.requires_grad
    r = t.requires_grad_()
    assert r is t
    assert t.requires_grad and t.is_leaf
    (t * 4).sum().backward()
    close(t.grad, [4.0, 4.0])
    t.requires_grad_(False)
    assert not t.requires_grad
    assert (t * 4).grad_fn is None


def test_requires_grad_on_creation_ops():
    for t in [torch.zeros(2, 3, requires_grad=True), torch.ones(3, requires_grad=True),
              torch.randn(2, requires_grad=True), torch.full((2,), 1.5, requires_grad=True),
              torch.tensor([1.0], requires_grad=True), torch.empty(2, requires_grad=True),
              torch.rand(2, requires_grad=True), torch.arange(3.0, requires_grad=True),
              torch.linspace(0, 1, 3, requires_grad=True), torch.eye(2, requires_grad=True),
              torch.zeros_like(torch.ones(2), requires_grad=True)]:
        assert t.requires_grad and t.is_leaf and t.grad_fn is None
    x = torch.ones(2, 2, requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 3.0))


def test_requires_grad_setter():
    t = torch.ones(3, dtype=torch.float64)
    t.requires_grad = True
    (t ** 2).sum().backward()
    close(t.grad, [2.0, 2.0, 2.0])


# ---------------------------------------------------------------- grad modes

def test_no_grad_context():
    x = f64([1.0])
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        y = x * 2
    assert torch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    close(y, [2.0])


def test_enable_grad_inside_no_grad():
    x = f64([1.0])
    with torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_set_grad_enabled_context_and_function():
    x = f64([1.0])
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
        y = x * 2
    assert torch.is_grad_enabled()
    assert not y.requires_grad
    with torch.set_grad_enabled(True):
        assert (x * 2).requires_grad
    try:
        torch.set_grad_enabled(False)
        assert not torch.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()
    assert (x * 2).requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError("boom")
    assert torch.is_grad_enabled()


def test_inference_mode_context():
    x = f64([1.0])
    with torch.inference_mode():
        assert not torch.is_grad_enabled()
        y = x * 2
    assert torch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    close(y, [2.0])
    with torch.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_mode_decorators():
    x = f64([1.0])

    @torch.no_grad()
    def f_no_grad(t):
        assert not torch.is_grad_enabled()
        return t * 2

    @torch.no_grad
    def f_no_grad_bare(t):
        return t * 2

    @torch.enable_grad()
    def f_enable(t):
        return t * 2

    @torch.set_grad_enabled(False)
    def f_set_false(t):
        return t * 2

    @torch.inference_mode()
    def f_inference(t):
        return t * 2

    assert not f_no_grad(x).requires_grad
    assert not f_no_grad_bare(x).requires_grad
    assert not f_set_false(x).requires_grad
    assert not f_inference(x).requires_grad
    with torch.no_grad():
        y = f_enable(x)
    assert y.requires_grad
    assert torch.is_grad_enabled()
    assert f_no_grad.__name__ == "f_no_grad"


def test_backward_inside_no_grad_still_works():
    x = f64([1.0, 2.0])
    y = (x ** 2).sum()
    with torch.no_grad():
        y.backward()
    close(x.grad, [2.0, 4.0])


# ---------------------------------------------------------------- in-place on non-leaves

def test_inplace_on_non_leaf():
    xv = np.array([0.1, -0.4, 0.3])
    x = f64(xv)
    y = x * 2
    y.add_(1)
    y.exp_()
    close(y, np.exp(2 * xv + 1))
    assert y.grad_fn.name() == "ExpBackward0"
    y.sum().backward()
    close(x.grad, 2 * np.exp(2 * xv + 1))


def test_inplace_mul_on_non_leaf_uses_current_values():
    x = f64([1.0, 2.0])
    y = x + 1            # [2, 3]
    y.mul_(x)            # x^2 + x -> d/dx = 2x + 1
    close(y, [2.0, 6.0])
    y.sum().backward()
    close(x.grad, [3.0, 5.0])


def test_inplace_on_view_of_non_leaf():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1.0
    y[0].mul_(3)         # in-place through a view
    y.sum().backward()
    close(x.grad, [[3.0, 3.0], [1.0, 1.0]])


def test_inplace_copy_into_non_leaf_slice():
    x = f64([1.0, 2.0, 3.0])
    v = f64([10.0])
    y = x.clone()
    y[1:2] = v * 2
    (y * f64([1.0, 2.0, 3.0], False)).sum().backward()
    close(x.grad, [1.0, 0.0, 3.0])
    close(v.grad, [4.0])


def test_leaf_inplace_allowed_under_no_grad():
    x = f64([1.0, 2.0])
    with torch.no_grad():
        x.mul_(2)
    assert x.is_leaf and x.requires_grad
    (x ** 2).sum().backward()
    close(x.grad, [4.0, 8.0])


# ---------------------------------------------------------------- deep graph

def test_100k_node_chain():
    x = f64([2.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    close(x.grad, [1.0])
    del y                # freeing a deep graph must not overflow the stack either


def test_deep_chain_create_graph_free():
    x = f64(1.0)
    y = x
    for _ in range(20_000):
        y = y + 0.0
    (g,) = torch.autograd.grad(y, x)
    assert g.item() == 1.0


# ---------------------------------------------------------------- legacy Variable

def test_variable_returns_tensor():
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    v = torch.autograd.Variable(t, requires_grad=True)
    assert isinstance(v, torch.Tensor)
    assert v.requires_grad and v.is_leaf
    (v * 3).sum().backward()
    close(v.grad, [3.0, 3.0])


def test_variable_default_no_grad():
    v = torch.autograd.Variable(torch.tensor([1.0, 2.0]))
    assert isinstance(v, torch.Tensor)
    assert not v.requires_grad
    close(v, [1.0, 2.0])


def test_variable_volatile_gives_no_graph():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = torch.autograd.Variable(torch.tensor([1.0, 2.0]), volatile=True)
    assert isinstance(v, torch.Tensor)
    assert not v.requires_grad
    y = v * 2
    assert y.grad_fn is None and not y.requires_grad
    close(y, [2.0, 4.0])


# ---------------------------------------------------------------- anomaly detection

def test_detect_anomaly_names_op_returning_nan():
    x = f64([0.0, 1.0])
    # forward is finite (sqrt(0) * 0 = 0); SqrtBackward computes 0 / (2 * sqrt(0)) = nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            y = (x.sqrt() * 0).sum()
            with pytest.raises(RuntimeError, match="SqrtBackward0") as info:
                y.backward()
    assert "nan" in str(info.value).lower()
    close(x, [0.0, 1.0])


def test_without_anomaly_detection_nan_propagates():
    x = f64([0.0, 1.0])
    (x.sqrt() * 0).sum().backward()
    g = npv(x.grad)
    assert math.isnan(g[0]) and g[1] == 0.0


def test_set_detect_anomaly():
    x = f64([0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.set_detect_anomaly(True):
            assert torch.is_anomaly_enabled()
            y = (x.sqrt() * 0).sum()
            with pytest.raises(RuntimeError, match="SqrtBackward0"):
                y.backward()
    assert not torch.is_anomaly_enabled()


def test_accumulate_after_create_graph_backward_into_expanded_grad():
    # sum's gradient is an expanded view of a scalar; a later plain backward must add
    # to it out of place: d/dx [sum(x)] + d/dx [sum(2x)] = 1 + 2 = 3 per element.
    x = f64([1.0, 2.0, 3.0])
    x.sum().backward(create_graph=True)
    (x * 2).sum().backward()
    close(x.grad, [3.0, 3.0, 3.0])


def test_python_identity_of_grads_and_graph_variables():
    # One Python object per tensor, as in PyTorch: the same grad object each time, and
    # the graph's leaf nodes give back the very tensors (and Parameters) of the model.
    lin = torch.nn.Linear(3, 2).double()
    x = f64([[1.0, 2.0, 3.0]])
    y = lin(x).sum()
    y.backward()
    assert x.grad is x.grad and lin.weight.grad is lin.weight.grad
    seen, stack = [], [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if type(node).__name__ == "AccumulateGrad":
            seen.append(node.variable)
        stack.extend(f for f, _ in node.next_functions)
    assert any(v is lin.weight for v in seen) and any(v is lin.bias for v in seen)
    assert any(v is x for v in seen)
    assert all(type(v) is torch.nn.Parameter for v in seen if v is not x)
    c = torch.ones(2, 2)
    assert c.contiguous() is c


def test_backward_through_leaves_nobody_holds():
    # A leaf whose Python object is gone still has its gradient flow computed (and dropped):
    # PyTorch runs `torch.randn(2, requires_grad=True).sum().backward()` without error.
    torch.randn(2, requires_grad=True).sum().backward()
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    (a * torch.tensor([3.0, -4.0], requires_grad=True)).sum().backward()
    assert a.grad.tolist() == [3.0, -4.0]
    b = torch.tensor([0.5, 0.25], requires_grad=True)
    y = (a * b).sum()
    del b
    a.grad = None
    y.backward()
    assert a.grad.tolist() == [0.5, 0.25]
    # the weight of a module built and dropped inside the expression
    x = torch.tensor([[1.0, -1.0]], requires_grad=True)
    torch.nn.Linear(2, 1, bias=False)(x).sum().backward()
    assert x.grad.shape == (1, 2)
