"""Basic layers: Identity, Linear, Bilinear, Flatten, Unflatten, Dropout — forward against
NumPy float64, gradients by gradcheck, PyTorch's default init and reprs."""
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
from ferrotorch.autograd import gradcheck


def np_(t):
    return t.detach().numpy().copy()


# ------------------------------------------------------------------ Identity

def test_identity_returns_input_and_ignores_args():
    x = torch.randn(3)
    ident = nn.Identity(54, unused_argument1=0.1)
    assert ident(x) is x
    assert repr(ident) == "Identity()"
    assert list(ident.parameters()) == []


# ------------------------------------------------------------------ Linear

@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_against_numpy(shape, bias):
    torch.manual_seed(0)
    lin = nn.Linear(4, 3, bias=bias, dtype=torch.float64)
    x = torch.randn(*shape, dtype=torch.float64)
    ref = np_(x) @ np_(lin.weight).T
    if bias:
        ref = ref + np_(lin.bias)
    out = lin(x)
    assert out.dtype == torch.float64 and tuple(out.shape) == shape[:-1] + (3,)
    np.testing.assert_allclose(np_(out), ref, rtol=1e-12, atol=1e-12)


def test_linear_float32_forward():
    torch.manual_seed(1)
    lin = nn.Linear(16, 8)
    assert lin.weight.dtype == torch.float32 and lin.weight.shape == (8, 16) and lin.bias.shape == (8,)
    x = torch.randn(10, 16)
    ref = np_(x).astype(np.float64) @ np_(lin.weight).astype(np.float64).T + np_(lin.bias)
    np.testing.assert_allclose(np_(lin(x)), ref, rtol=1e-5, atol=1e-5)


def test_linear_gradcheck():
    torch.manual_seed(2)
    lin = nn.Linear(3, 2, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: torch.nn.functional.linear(x, w, b), (x, lin.weight, lin.bias))
    # through the module: the parameters receive dL/dW = g^T x, dL/db = sum g
    g = torch.randn(4, 2, dtype=torch.float64)
    lin(x).backward(g)
    np.testing.assert_allclose(np_(lin.weight.grad), np_(g).T @ np_(x), rtol=1e-12)
    np.testing.assert_allclose(np_(lin.bias.grad), np_(g).sum(0), rtol=1e-12)
    np.testing.assert_allclose(np_(x.grad), np_(g) @ np_(lin.weight), rtol=1e-12)


def test_linear_default_init_bounds_and_std():
    torch.manual_seed(3)
    fan_in = 400
    lin = nn.Linear(fan_in, 500)
    # kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + 5)), bound = gain * sqrt(3 / fan_in) = 1/sqrt(fan_in)
    bound = math.sqrt(2.0 / 6.0) * math.sqrt(3.0 / fan_in)
    assert abs(bound - 1 / math.sqrt(fan_in)) < 1e-12
    w = np_(lin.weight).astype(np.float64)
    assert np.all(np.abs(w) <= bound + 1e-7)
    assert np.abs(w).max() > 0.99 * bound  # the whole range is used (200k draws)
    # U(-b, b) has std b / sqrt(3) and mean 0
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.01
    assert abs(w.mean()) < 0.01 * bound
    b = np_(lin.bias).astype(np.float64)
    assert np.all(np.abs(b) <= 1 / math.sqrt(fan_in) + 1e-7)
    assert b.std() > 0.3 * bound  # spread over the range, not a constant


def test_linear_reset_parameters_and_zero_features():
    torch.manual_seed(4)
    lin = nn.Linear(3, 2)
    before = np_(lin.weight)
    lin.reset_parameters()
    assert not np.array_equal(before, np_(lin.weight))
    assert lin.weight.requires_grad and isinstance(lin.weight, nn.Parameter)
    # fan_in 0: the bias bound is 0 (no ZeroDivisionError); the empty weight's init warns
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        empty = nn.Linear(0, 2)
    np.testing.assert_array_equal(np_(empty.bias), [0.0, 0.0])
    out = empty(torch.zeros(5, 0))
    np.testing.assert_array_equal(np_(out), np.zeros((5, 2)))


def test_linear_repr_and_attributes():
    lin = nn.Linear(20, 30, bias=False)
    assert repr(lin) == "Linear(in_features=20, out_features=30, bias=False)"
    assert lin.in_features == 20 and lin.out_features == 30 and lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(nn.Linear(2, 3).state_dict()) == ["weight", "bias"]


def test_linear_shape_error():
    lin = nn.Linear(4, 3)
    with pytest.raises(RuntimeError):
        lin(torch.randn(2, 5))


# ------------------------------------------------------------------ Bilinear

def bilinear_ref(x1, x2, w, b):
    out = np.einsum("...i,oij,...j->...o", x1, w, x2)
    return out + b if b is not None else out


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_forward_against_numpy(bias):
    torch.manual_seed(5)
    bil = nn.Bilinear(3, 4, 2, bias=bias, dtype=torch.float64)
    assert bil.weight.shape == (2, 3, 4)
    x1 = torch.randn(5, 3, dtype=torch.float64)
    x2 = torch.randn(5, 4, dtype=torch.float64)
    ref = bilinear_ref(np_(x1), np_(x2), np_(bil.weight), np_(bil.bias) if bias else None)
    np.testing.assert_allclose(np_(bil(x1, x2)), ref, rtol=1e-12, atol=1e-12)
    # extra batch dims
    y1 = torch.randn(2, 3, 3, dtype=torch.float64)
    y2 = torch.randn(2, 3, 4, dtype=torch.float64)
    ref = bilinear_ref(np_(y1), np_(y2), np_(bil.weight), np_(bil.bias) if bias else None)
    np.testing.assert_allclose(np_(bil(y1, y2)), ref, rtol=1e-12, atol=1e-12)


def test_bilinear_gradcheck():
    torch.manual_seed(6)
    bil = nn.Bilinear(2, 3, 2, dtype=torch.float64)
    x1 = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    x2 = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b, w, c: torch.nn.functional.bilinear(a, b, w, c),
                     (x1, x2, bil.weight, bil.bias))
    bil(x1, x2).sum().backward()
    # d(sum)/dW[o,i,j] = sum_n x1[n,i] x2[n,j]
    ref = np.einsum("ni,nj->ij", np_(x1), np_(x2))
    np.testing.assert_allclose(np_(bil.weight.grad), np.broadcast_to(ref, (2, 2, 3)), rtol=1e-12)


def test_bilinear_init_repr_and_errors():
    torch.manual_seed(7)
    bil = nn.Bilinear(25, 10, 40)
    bound = 1 / math.sqrt(25)  # 1/sqrt(in1_features) for weight and bias
    w = np_(bil.weight).astype(np.float64)
    assert np.all(np.abs(w) <= bound + 1e-7) and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.03
    assert np.all(np.abs(np_(bil.bias)) <= bound + 1e-7)
    assert repr(bil) == "Bilinear(in1_features=25, in2_features=10, out_features=40, bias=True)"
    with pytest.raises(ValueError, match=r"in1_features must be > 0, but got \(in1_features=0\)"):
        nn.Bilinear(0, 2, 2)


# ------------------------------------------------------------------ Flatten / Unflatten

def test_flatten_and_unflatten():
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    x = torch.tensor(a)
    np.testing.assert_array_equal(np_(nn.Flatten()(x)), a.reshape(2, 60))
    np.testing.assert_array_equal(np_(nn.Flatten(0, 2)(x)), a.reshape(24, 5))
    np.testing.assert_array_equal(np_(nn.Flatten(-3, -2)(x)), a.reshape(2, 12, 5))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    un = nn.Unflatten(1, (3, 4))
    y = torch.tensor(a.reshape(2, 12, 5))
    np.testing.assert_array_equal(np_(un(y)), a)
    assert repr(un) == "Unflatten(dim=1, unflattened_size=(3, 4))"
    np.testing.assert_array_equal(np_(nn.Unflatten(-1, [5, -1])(torch.tensor(a.reshape(2, 60))))[0, 0],
                                  a.reshape(2, 5, 12)[0, 0])
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found element of type float at pos 1"):
        nn.Unflatten(1, (2, 2.0))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 4)


def test_flatten_gradient_is_reshape():
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 6, dtype=torch.float64)
    nn.Flatten()(x).backward(g)
    np.testing.assert_array_equal(np_(x.grad), np_(g).reshape(2, 3, 2))


# ------------------------------------------------------------------ Dropout

def test_dropout_train_statistics():
    torch.manual_seed(8)
    p = 0.3
    drop = nn.Dropout(p)
    x = torch.rand(400, 500) + 1.0  # nonzero everywhere, distinct values
    y = drop(x)
    xa, ya = np_(x).astype(np.float64), np_(y).astype(np.float64)
    zero = ya == 0
    # 200k Bernoulli(p) draws: std of the fraction is ~0.001
    assert abs(zero.mean() - p) < 0.006
    np.testing.assert_allclose(ya[~zero], xa[~zero] / (1 - p), rtol=1e-6)
    # a fresh mask each call
    assert not np.array_equal(np_(drop(x)) == 0, zero)


def test_dropout_eval_and_extremes():
    x = torch.randn(50, 40)
    drop = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(np_(drop(x)), np_(x))
    np.testing.assert_array_equal(np_(nn.Dropout(0.0)(x)), np_(x))
    np.testing.assert_array_equal(np_(nn.Dropout(1.0)(x)), np.zeros((50, 40)))


def test_dropout_gradient_matches_mask():
    torch.manual_seed(9)
    p = 0.5
    x = torch.rand(60, 70, dtype=torch.float64) + 1.0
    x.requires_grad_()
    y = nn.Dropout(p)(x)
    y.sum().backward()
    kept = np_(y) != 0
    np.testing.assert_allclose(np_(x.grad), np.where(kept, 1 / (1 - p), 0.0), rtol=1e-12)


def test_dropout_inplace_and_repr_and_validation():
    torch.manual_seed(10)
    x = torch.rand(100, 100) + 1.0
    orig = np_(x)
    out = nn.Dropout(0.25, inplace=True)(x)
    np.testing.assert_array_equal(np_(x), np_(out))  # the input itself was modified
    assert np.any(np_(x) == 0) and np.all((np_(x) == 0) | np.isclose(np_(x), orig / 0.75, rtol=1e-6))
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.1, inplace=True)) == "Dropout(p=0.1, inplace=True)"
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {bad}"):
            nn.Dropout(bad)


def test_dropout2d_zeroes_whole_channels():
    torch.manual_seed(11)
    x = torch.rand(8, 64, 3, 3) + 1.0
    y = np_(nn.Dropout2d(0.5)(x))
    per_channel = (y == 0).reshape(8, 64, 9)
    # every channel is either entirely dropped or entirely kept
    assert np.all(per_channel.all(-1) | ~per_channel.any(-1))
    frac = per_channel.all(-1).mean()
    assert 0.4 < frac < 0.6  # 512 channels at p=0.5
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"
    np.testing.assert_array_equal(np_(nn.Dropout2d().eval()(x)), np_(x))


def test_layers_in_a_model_train_step():
    """Linear + Dropout + Flatten in a Sequential trained one SGD step by hand."""
    torch.manual_seed(12)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.Dropout(0.2), nn.Linear(4, 1)).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    model.eval()  # deterministic: dropout is the identity
    w1, b1, w2, b2 = (np_(p) for p in model.parameters())
    h = np_(x).reshape(5, 6) @ w1.T + b1
    ref = h @ w2.T + b2
    out = model(x)
    np.testing.assert_allclose(np_(out), ref, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(np_(model[3].weight.grad), h.sum(0, keepdims=True), rtol=1e-12)
