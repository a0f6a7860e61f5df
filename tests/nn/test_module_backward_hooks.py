"""nn.Module full backward hooks and pre-hooks: what they see (checked against gradients worked
out by hand in NumPy float64), replacing grad_input / grad_output, None entries, removal,
global hooks and PyTorch's errors and warning."""
import warnings

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
from ferrotorch.nn.modules.module import (register_module_full_backward_hook,
                                          register_module_full_backward_pre_hook)


def np_(t):
    return t.detach().double().numpy()


def linear_case(seed=0):
    torch.manual_seed(seed)
    lin = nn.Linear(3, 2).double()
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    c = torch.randn(4, 2, dtype=torch.float64)  # loss = sum(c * y): dL/dy = c
    return lin, x, c


def test_full_hook_sees_grad_input_and_grad_output():
    lin, x, c = linear_case()
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((m, gi, go)))
    (lin(x) * c).sum().backward()
    (m, gi, go), = seen
    assert m is lin and len(gi) == 1 and len(go) == 1
    np.testing.assert_allclose(np_(go[0]), np_(c))
    np.testing.assert_allclose(np_(gi[0]), np_(c) @ np_(lin.weight))  # dL/dx = c W
    np.testing.assert_allclose(np_(x.grad), np_(c) @ np_(lin.weight))


def test_full_hook_replaces_grad_input():
    lin, x, c = linear_case(1)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3.0,))
    (lin(x) * c).sum().backward()
    np.testing.assert_allclose(np_(x.grad), 3.0 * np_(c) @ np_(lin.weight))
    # the parameters' gradients do not depend on grad_input
    np.testing.assert_allclose(np_(lin.weight.grad), np_(c).T @ np_(x))


def test_pre_hook_replaces_grad_output_for_everything_downstream():
    lin, x, c = linear_case(2)
    order = []
    lin.register_full_backward_pre_hook(lambda m, go: (order.append("pre"), (go[0] * 2.0,))[1])
    lin.register_full_backward_hook(lambda m, gi, go: order.append(("full", np_(go[0]))))
    (lin(x) * c).sum().backward()
    assert order[0] == "pre" and order[1][0] == "full"
    np.testing.assert_allclose(order[1][1], 2.0 * np_(c))  # the full hook sees the replaced grad_output
    np.testing.assert_allclose(np_(x.grad), 2.0 * np_(c) @ np_(lin.weight))
    np.testing.assert_allclose(np_(lin.weight.grad), 2.0 * np_(c).T @ np_(x))
    np.testing.assert_allclose(np_(lin.bias.grad), 2.0 * np_(c).sum(0))


class TwoOut(nn.Module):
    def forward(self, x, s, z=None):
        return x * s, (x * 2).sum()


def test_none_entries_for_non_tensors_and_unused_outputs():
    m = TwoOut()
    got = {}
    m.register_full_backward_pre_hook(lambda mod, go: got.setdefault("pre", go) and None)
    m.register_full_backward_hook(lambda mod, gi, go: got.setdefault("full", (gi, go)) and None)
    x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    a, _ = m(x, 2.0)
    a.sum().backward()
    gi, go = got["full"]
    assert len(gi) == 2 and gi[1] is None  # the float argument
    assert go[1] is None and got["pre"][1] is None  # the output that got no gradient
    np.testing.assert_allclose(np_(gi[0]), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(np_(go[0]), [1.0, 1.0, 1.0])


def test_tensor_inputs_without_grad_get_zeros():
    class Mul(nn.Module):
        def forward(self, x, z):
            return x * z
    xs, zs = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    seen = []
    m = Mul()
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(gi))
    m(torch.tensor(xs, requires_grad=True), torch.tensor(zs)).sum().backward()
    np.testing.assert_allclose(np_(seen[0][0]), zs)  # d(x*z)/dx = z
    np.testing.assert_array_equal(np_(seen[0][1]), [0.0, 0.0])  # z needs no gradient: zeros


def test_no_input_requires_grad_warns_and_fires_at_outputs():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, tuple(go[0].shape))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        lin(torch.randn(4, 3)).sum().backward()
    assert seen == [((None,), (4, 2))]


def test_removal_prepend_and_no_grad():
    lin, x, c = linear_case(3)
    order = []
    h1 = lin.register_full_backward_hook(lambda m, gi, go: order.append(1))
    lin.register_full_backward_hook(lambda m, gi, go: order.append(2), prepend=True)
    (lin(x) * c).sum().backward()
    assert order == [2, 1]
    h1.remove()
    order.clear()
    (lin(x) * c).sum().backward()
    assert order == [2]
    with torch.no_grad():
        y = lin(x)
    assert not y.requires_grad and order == [2]


def test_hook_returning_wrong_count_raises():
    lin, x, c = linear_case(4)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        (lin(x) * c).sum().backward()


def test_global_backward_hooks_see_every_module():
    seen = []
    h1 = register_module_full_backward_pre_hook(lambda m, go: seen.append(("pre", type(m).__name__)))
    h2 = register_module_full_backward_hook(lambda m, gi, go: seen.append(("full", type(m).__name__)))
    try:
        net = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
        net(torch.randn(2, 3, requires_grad=True)).sum().backward()
    finally:
        h1.remove()
        h2.remove()
    # backward visits the modules outermost-output first: Sequential's output hook, Tanh, Linear,
    # then the Sequential's input hook
    assert seen == [("pre", "Sequential"), ("pre", "Tanh"), ("full", "Tanh"), ("pre", "Linear"),
                    ("full", "Linear"), ("full", "Sequential")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Linear(2, 2)(torch.randn(1, 2, requires_grad=True)).sum().backward()  # removed: no hooks run
    assert len(seen) == 6


def test_output_values_unchanged_by_hooks():
    lin, x, c = linear_case(5)
    ref = np_(lin(x))
    lin.register_full_backward_hook(lambda m, gi, go: None)
    y = lin(x)
    np.testing.assert_array_equal(np_(y), ref)
    assert y.requires_grad and y.grad_fn is not None
