"""Activation Modules (ferrotorch.nn): constructor arguments, reprs, forward against NumPy,
in-place behaviour, PReLU's parameter and gradients, and PyTorch's errors."""
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn


def np_(t):
    return t.detach().to(torch.float64).numpy()


def sample(shape=(2, 3, 4), seed=0):
    """Values away from the kinks of the piecewise activations (0, ±0.5, ±1, ±3)."""
    rng = np.random.default_rng(seed)
    while True:
        a = rng.uniform(-4, 4, size=shape)
        if np.all(np.abs(a[..., None] - np.array([0, 0.5, -0.5, 1, -1, 3, -3])) > 0.05):
            return a


@pytest.mark.parametrize("module,expected", [
    (nn.ReLU(), "ReLU()"), (nn.ReLU(inplace=True), "ReLU(inplace=True)"), (nn.ReLU6(), "ReLU6()"),
    (nn.ReLU6(True), "ReLU6(inplace=True)"),
    (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (nn.PReLU(), "PReLU(num_parameters=1)"), (nn.PReLU(3, 0.1), "PReLU(num_parameters=3)"),
    (nn.ELU(), "ELU(alpha=1.0)"), (nn.ELU(0.5, inplace=True), "ELU(alpha=0.5, inplace=True)"),
    (nn.SELU(), "SELU()"), (nn.SELU(True), "SELU(inplace=True)"), (nn.CELU(0.5, True), "CELU(alpha=0.5, inplace=True)"),
    (nn.GELU(), "GELU(approximate='none')"), (nn.GELU("tanh"), "GELU(approximate='tanh')"),
    (nn.SiLU(), "SiLU()"), (nn.SiLU(inplace=True), "SiLU(inplace=True)"), (nn.Mish(), "Mish()"),
    (nn.Sigmoid(), "Sigmoid()"), (nn.Tanh(), "Tanh()"),
    (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardtanh(-2, 3, True), "Hardtanh(min_val=-2, max_val=3, inplace=True)"),
    (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"), (nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)"),
    (nn.Softmax(), "Softmax(dim=None)"), (nn.Softmax(dim=1), "Softmax(dim=1)"),
    (nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"), (nn.Softmin(1), "Softmin(dim=1)"),
    (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"), (nn.Hardshrink(), "Hardshrink(0.5)"),
    (nn.Softshrink(0.3), "Softshrink(0.3)"), (nn.GLU(), "GLU(dim=-1)"), (nn.Hardswish(True), "Hardswish()"),
    (nn.Hardsigmoid(), "Hardsigmoid()"), (nn.LogSigmoid(), "LogSigmoid()"), (nn.Softsign(), "Softsign()"),
    (nn.Tanhshrink(), "Tanhshrink()"), (nn.Softmax2d(), "Softmax2d()"),
])
def test_repr(module, expected):
    assert repr(module) == expected


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_erf = np.vectorize(math.erf)


def _sig(a):
    return 1 / (1 + np.exp(-a))


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

MODULES = [
    (nn.ReLU(), lambda a: np.maximum(a, 0)),
    (nn.ReLU6(), lambda a: np.clip(a, 0, 6)),
    (nn.LeakyReLU(0.2), lambda a: np.where(a > 0, a, 0.2 * a)),
    (nn.ELU(0.7), lambda a: np.where(a > 0, a, 0.7 * np.expm1(a))),
    (nn.SELU(), lambda a: SELU_S * np.where(a > 0, a, SELU_A * np.expm1(a))),
    (nn.CELU(0.5), lambda a: np.maximum(a, 0) + np.minimum(0, 0.5 * np.expm1(a / 0.5))),
    (nn.GELU(), lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))),
    (nn.SiLU(), lambda a: a * _sig(a)),
    (nn.Mish(), lambda a: a * np.tanh(np.log1p(np.exp(a)))),
    (nn.Sigmoid(), _sig),
    (nn.Tanh(), np.tanh),
    (nn.Hardtanh(-0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0)),
    (nn.Softplus(2.0, 3.0), lambda a: np.where(2 * a > 3, a, np.log1p(np.exp(2 * a)) / 2)),
    (nn.Softmax(dim=1), lambda a: _np_softmax(a, 1)),
    (nn.LogSoftmax(dim=-1), lambda a: np.log(_np_softmax(a, -1))),
    (nn.Softmin(dim=0), lambda a: _np_softmax(-a, 0)),
    (nn.Softmax2d(), lambda a: _np_softmax(a, -3)),
    (nn.Threshold(0.5, -1.0), lambda a: np.where(a > 0.5, a, -1.0)),
    (nn.LogSigmoid(), lambda a: -np.logaddexp(0, -a)),
    (nn.Hardsigmoid(), lambda a: np.clip(a / 6 + 0.5, 0, 1)),
    (nn.Hardswish(), lambda a: a * np.clip(a + 3, 0, 6) / 6),
    (nn.Softsign(), lambda a: a / (1 + np.abs(a))),
    (nn.Tanhshrink(), lambda a: a - np.tanh(a)),
    (nn.Hardshrink(1.0), lambda a: np.where(np.abs(a) > 1.0, a, 0.0)),
    (nn.Softshrink(1.0), lambda a: np.sign(a) * np.maximum(np.abs(a) - 1.0, 0)),
    (nn.GLU(dim=-1), lambda a: a[..., :2] * _sig(a[..., 2:])),
]


@pytest.mark.parametrize("module,ref", MODULES, ids=[type(m).__name__ + str(i) for i, (m, _) in enumerate(MODULES)])
def test_forward_matches_numpy(module, ref):
    a = sample()
    x = torch.tensor(a)
    y = module(x)
    np.testing.assert_allclose(np_(y), ref(a), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np_(x), a)          # out-of-place: input untouched
    y32 = module(torch.tensor(a, dtype=torch.float32))
    assert y32.dtype == torch.float32
    np.testing.assert_allclose(np_(y32), ref(a.astype(np.float32).astype(np.float64)), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("module,ref", [
    (nn.ReLU(inplace=True), lambda a: np.maximum(a, 0)),
    (nn.ReLU6(inplace=True), lambda a: np.clip(a, 0, 6)),
    (nn.LeakyReLU(0.1, inplace=True), lambda a: np.where(a > 0, a, 0.1 * a)),
    (nn.ELU(inplace=True), lambda a: np.where(a > 0, a, np.expm1(a))),
    (nn.SELU(inplace=True), lambda a: SELU_S * np.where(a > 0, a, SELU_A * np.expm1(a))),
    (nn.CELU(inplace=True), lambda a: np.where(a > 0, a, np.expm1(a))),
    (nn.SiLU(inplace=True), lambda a: a * _sig(a)),
    (nn.Mish(inplace=True), lambda a: a * np.tanh(np.log1p(np.exp(a)))),
    (nn.Hardtanh(inplace=True), lambda a: np.clip(a, -1, 1)),
    (nn.Threshold(0.0, 3.0, inplace=True), lambda a: np.where(a > 0, a, 3.0)),
])
def test_inplace_modules_write_their_input(module, ref):
    a = sample(seed=1)
    x = torch.tensor(a)
    assert module(x) is x
    np.testing.assert_allclose(np_(x), ref(a), rtol=1e-12, atol=1e-12)


def test_inplace_relu_in_a_network_backprops():
    torch.manual_seed(0)
    net_a = nn.Sequential(nn.Linear(4, 5), nn.ReLU(inplace=True), nn.Linear(5, 2))
    net_b = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    net_b.load_state_dict(net_a.state_dict())
    x = torch.randn(3, 4)
    net_a(x).sum().backward()
    net_b(x).sum().backward()
    for pa, pb in zip(net_a.parameters(), net_b.parameters()):
        np.testing.assert_allclose(np_(pa.grad), np_(pb.grad), rtol=1e-6)


# ---------------------------------------------------------------- PReLU

def test_prelu_parameter():
    m = nn.PReLU()
    assert isinstance(m.weight, nn.Parameter) and tuple(m.weight.shape) == (1,)
    assert np_(m.weight).tolist() == [0.25]
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    m3 = nn.PReLU(num_parameters=3, init=0.1, dtype=torch.float64)
    assert m3.weight.dtype == torch.float64 and np.allclose(np_(m3.weight), 0.1)
    assert m3.num_parameters == 3 and m3.init == 0.1


def test_prelu_forward_and_gradients_per_channel():
    a = sample((2, 3, 4), seed=2)
    m = nn.PReLU(3, dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([0.1, -0.5, 2.0], dtype=torch.float64))
    w = np.array([0.1, -0.5, 2.0]).reshape(3, 1)
    x = torch.tensor(a, requires_grad=True)
    y = m(x)
    np.testing.assert_allclose(np_(y), np.where(a > 0, a, a * w), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(np_(m.weight.grad), np.where(a > 0, 0, a).sum(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(np_(x.grad), np.where(a > 0, 1.0, np.broadcast_to(w, a.shape)), rtol=1e-12)
    assert torch.autograd.gradcheck(lambda x, w: nn.functional.prelu(x, w),
                                    (torch.tensor(a[:1, :, :2], requires_grad=True),
                                     torch.tensor([0.1, -0.5, 2.0], dtype=torch.float64, requires_grad=True)))


def test_prelu_channel_mismatch():
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        nn.PReLU(4)(torch.randn(2, 3))


# ---------------------------------------------------------------- constructor rules and errors

def test_softmax_without_dim_warns_and_uses_legacy_dim():
    a = sample((2, 3), seed=3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        y = nn.Softmax()(torch.tensor(a))
    np.testing.assert_allclose(np_(y), _np_softmax(a, 1), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        nn.LogSoftmax()(torch.tensor(a))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        nn.Softmin()(torch.tensor(a))


def test_softmax_dim_must_be_int():
    with pytest.raises(TypeError, match="dim must be an int or None"):
        nn.Softmax(dim="1")
    with pytest.raises(TypeError, match="dim must be an int or None"):
        nn.LogSoftmax(dim=True)


def test_softmax2d_needs_3d_or_4d():
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(torch.randn(2, 3))


def test_hardtanh_bounds_and_deprecated_kwargs():
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(1\)"):
        nn.Hardtanh(1, 1)
    with pytest.warns(FutureWarning, match="keyword argument `min_value` is deprecated"):
        m = nn.Hardtanh(min_value=-2.0)
    assert m.min_val == -2.0 and m.max_val == 1.0


def test_gelu_bad_approximate():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        nn.GELU("fast")(torch.randn(2))


def test_attributes_and_modes():
    m = nn.LeakyReLU(0.3, inplace=True)
    assert m.negative_slope == 0.3 and m.inplace is True
    assert nn.ELU(2.0).alpha == 2.0 and nn.Softplus(3, 5).beta == 3 and nn.Softplus(3, 5).threshold == 5
    assert nn.Softmax(dim=0).dim == 0 and nn.GELU("tanh").approximate == "tanh"
    assert len(list(nn.ReLU().parameters())) == 0 and nn.ReLU().training
    assert not nn.Tanh().eval().training
    assert len(nn.PReLU().state_dict()) == 1


def test_classifier_head_end_to_end():
    """Linear -> activation -> Linear -> LogSoftmax with NLLLoss equals the NumPy computation."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 3), nn.LogSoftmax(dim=1)).double()
    x = sample((5, 4), seed=4)
    t = np.array([0, 2, 1, 1, 0])
    loss = nn.NLLLoss()(net(torch.tensor(x)), torch.tensor(t))
    w1, b1, w2, b2 = (np_(p) for p in net.parameters())
    h = x @ w1.T + b1
    h = 0.5 * h * (1 + _erf(h / math.sqrt(2)))
    logp = np.log(_np_softmax(h @ w2.T + b2, 1))
    np.testing.assert_allclose(loss.item(), -logp[np.arange(5), t].mean(), rtol=1e-12)
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())
