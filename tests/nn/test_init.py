"""ferrotorch.nn.init: gains against their formulas, fans, the distributions of the random
initialisers (bounds, mean, std on large tensors with loose tolerances), orthogonality,
no_grad / identity / generator semantics and PyTorch's errors."""
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
from ferrotorch.nn import init

N_BIG = (400, 500)   # 200k samples: mean/std within ~1% with overwhelming probability


def np_(t):
    return t.detach().to(torch.float64).numpy()


# ---------------------------------------------------------------- calculate_gain

@pytest.mark.parametrize("name,param,expected", [
    ("linear", None, 1.0), ("conv1d", None, 1.0), ("conv2d", None, 1.0), ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0), ("conv_transpose2d", None, 1.0), ("conv_transpose3d", None, 1.0),
    ("sigmoid", None, 1.0), ("tanh", None, 5.0 / 3), ("relu", None, math.sqrt(2.0)),
    ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01 ** 2))), ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)),
    ("leaky_relu", 1, 1.0), ("leaky_relu", math.sqrt(5), math.sqrt(1.0 / 3)), ("selu", None, 0.75),
])
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("name,param,msg", [
    ("foo", None, "Unsupported nonlinearity foo"),
    ("leaky_relu", True, "negative_slope True not a valid number"),
    ("leaky_relu", "0.1", "negative_slope 0.1 not a valid number"),
])
def test_calculate_gain_errors(name, param, msg):
    with pytest.raises(ValueError, match=msg):
        init.calculate_gain(name, param)


# ---------------------------------------------------------------- fans

@pytest.mark.parametrize("shape,fans", [((3, 5), (5, 3)), ((4, 3, 2, 2), (12, 16)), ((6, 2, 5), (10, 30))])
def test_fan_in_and_fan_out(shape, fans):
    w = torch.empty(*shape)
    assert init._calculate_fan_in_and_fan_out(w) == fans
    assert init._calculate_correct_fan(w, "fan_in") == fans[0]
    assert init._calculate_correct_fan(w, "FAN_OUT") == fans[1]


@pytest.mark.parametrize("shape", [(5,), ()])
def test_fan_of_small_tensor_raises(shape):
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2"):
        init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(torch.empty(shape))


def test_bad_fan_mode():
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(torch.empty(3, 4), mode="fan_avg")


# ---------------------------------------------------------------- simple fills

def test_constant_ones_zeros_eye():
    w = torch.empty(3, 5)
    assert init.constant_(w, 0.3) is w and np.all(np_(w) == np.float32(0.3))
    assert init.ones_(w) is w and np.all(np_(w) == 1)
    assert init.zeros_(w) is w and np.all(np_(w) == 0)
    assert init.eye_(w) is w
    np.testing.assert_array_equal(np_(w), np.eye(3, 5))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(torch.empty(2, 2, 2))


def test_dirac():
    w = torch.empty(4, 3, 3)
    assert init.dirac_(w) is w
    expected = np.zeros((4, 3, 3))
    for d in range(3):
        expected[d, d, 1] = 1
    np.testing.assert_array_equal(np_(w), expected)
    w = torch.empty(4, 2, 3, 4)
    init.dirac_(w, groups=2)
    expected = np.zeros((4, 2, 3, 4))
    for g in range(2):
        for d in range(2):
            expected[g * 2 + d, d, 1, 2] = 1
    np.testing.assert_array_equal(np_(w), expected)
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(torch.empty(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(torch.empty(3, 3, 3), groups=2)


# ---------------------------------------------------------------- random initialisers

def _stats(w):
    a = np_(w)
    return a.min(), a.max(), a.mean(), a.std()


def test_uniform_and_normal():
    w = torch.empty(*N_BIG)
    assert init.uniform_(w, -2.0, 3.0) is w
    lo, hi, mean, std = _stats(w)
    assert -2.0 <= lo and hi <= 3.0 and lo < -1.99 and hi > 2.99
    assert mean == pytest.approx(0.5, abs=0.02) and std == pytest.approx(5 / math.sqrt(12), rel=0.01)
    assert init.normal_(w, 1.0, 2.0) is w
    _, _, mean, std = _stats(w)
    assert mean == pytest.approx(1.0, abs=0.02) and std == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    w = torch.empty(*N_BIG)
    std = gain * math.sqrt(2.0 / (N_BIG[0] + N_BIG[1]))
    assert init.xavier_uniform_(w, gain=gain) is w
    lo, hi, mean, s = _stats(w)
    bound = math.sqrt(3.0) * std
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    assert s == pytest.approx(std, rel=0.01) and abs(mean) < 0.01 * bound
    assert init.xavier_normal_(w, gain) is w
    _, _, mean, s = _stats(w)
    assert s == pytest.approx(std, rel=0.01) and abs(mean) < 0.01 * std


@pytest.mark.parametrize("a,mode,nonlinearity", [
    (0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"), (0, "fan_out", "relu"),
    (0.2, "fan_out", "leaky_relu"), (0, "fan_in", "tanh"),
])
def test_kaiming(a, mode, nonlinearity):
    w = torch.empty(200, 100, 3, 3)   # fan_in 900, fan_out 1800
    fan = 900 if mode == "fan_in" else 1800
    gain = init.calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    assert init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity) is w
    lo, hi, mean, s = _stats(w)
    bound = math.sqrt(3.0) * std
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    assert s == pytest.approx(std, rel=0.01)
    assert init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity) is w
    _, _, mean, s = _stats(w)
    assert s == pytest.approx(std, rel=0.01) and abs(mean) < 0.01 * std


def test_kaiming_zero_element_tensor_warns():
    w = torch.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(w) is w
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_normal_(w) is w


def _truncnorm_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) truncated to [a, b] (closed form)."""
    def phi(z):
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    def cdf(z):
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    al, be = (a - mean) / std, (b - mean) / std
    Z = cdf(be) - cdf(al)
    m = mean + std * (phi(al) - phi(be)) / Z
    v = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / Z - ((phi(al) - phi(be)) / Z) ** 2)
    return m, math.sqrt(v)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, -1.0, 2.0), (2.0, 0.5, 1.0, 2.5),
                                          (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal(mean, std, a, b):
    w = torch.empty(*N_BIG)
    assert init.trunc_normal_(w, mean, std, a, b) is w
    lo, hi, m, s = _stats(w)
    assert a <= lo and hi <= b
    em, es = _truncnorm_moments(mean, std, a, b)
    assert m == pytest.approx(em, abs=0.01 * es) and s == pytest.approx(es, rel=0.01)


def test_trunc_normal_far_mean_warns():
    w = torch.empty(100)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(w, mean=10.0, std=1.0, a=-1.0, b=1.0)
    assert np.all((np_(w) >= -1.0) & (np_(w) <= 1.0))


@pytest.mark.parametrize("shape,gain", [((6, 10), 1.0), ((10, 6), 1.0), ((8, 8), 2.0), ((8, 2, 3, 3), 1.0)])
def test_orthogonal(shape, gain):
    w = torch.empty(*shape, dtype=torch.float64)
    assert init.orthogonal_(w, gain=gain) is w
    m = np_(w).reshape(shape[0], -1)
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, gain ** 2 * np.eye(m.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(m.T @ m, gain ** 2 * np.eye(m.shape[1]), atol=1e-12)


def test_orthogonal_float32_and_errors():
    w = init.orthogonal_(torch.empty(16, 16))
    assert w.dtype == torch.float32
    np.testing.assert_allclose(np_(w) @ np_(w).T, np.eye(16), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(torch.empty(5))


def test_sparse():
    w = torch.empty(20, 7)
    assert init.sparse_(w, sparsity=0.3, std=0.5) is w
    a = np_(w)
    np.testing.assert_array_equal((a == 0).sum(axis=0), [6] * 7)   # ceil(0.3 * 20) per column
    assert np.abs(a).max() < 5.0
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(torch.empty(2, 3, 4), 0.1)


# ---------------------------------------------------------------- semantics shared by all

INITS = [
    lambda w, g=None: init.uniform_(w, generator=g), lambda w, g=None: init.normal_(w, generator=g),
    lambda w, g=None: init.xavier_uniform_(w, generator=g), lambda w, g=None: init.xavier_normal_(w, generator=g),
    lambda w, g=None: init.kaiming_uniform_(w, generator=g), lambda w, g=None: init.kaiming_normal_(w, generator=g),
    lambda w, g=None: init.trunc_normal_(w, generator=g), lambda w, g=None: init.orthogonal_(w, generator=g),
    lambda w, g=None: init.sparse_(w, 0.5, generator=g),
]
INIT_IDS = ["uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
            "trunc_normal", "orthogonal", "sparse"]


@pytest.mark.parametrize("fn", INITS, ids=INIT_IDS)
def test_init_on_parameter_runs_under_no_grad(fn):
    p = nn.Parameter(torch.zeros(6, 5))
    out = fn(p)
    assert out is p
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert np.any(np_(p) != 0)


@pytest.mark.parametrize("fn", INITS[:-1], ids=INIT_IDS[:-1])   # sparse_ draws its zeros from the global RNG
def test_init_generator_reproducible(fn):
    g1, g2 = torch.Generator(), torch.Generator()
    g1.manual_seed(7)
    g2.manual_seed(7)
    a = fn(torch.empty(6, 5), g1)
    b = fn(torch.empty(6, 5), g2)
    np.testing.assert_array_equal(np_(a), np_(b))
    assert not np.array_equal(np_(fn(torch.empty(6, 5), g1)), np_(a))   # the generator advanced


def test_init_keeps_dtype():
    for fn in INITS:
        assert fn(torch.empty(4, 3, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("old,new", [("uniform", "uniform_"), ("normal", "normal_"),
                                     ("xavier_uniform", "xavier_uniform_"), ("kaiming_normal", "kaiming_normal_"),
                                     ("orthogonal", "orthogonal_")])
def test_deprecated_aliases(old, new):
    w = torch.empty(4, 3)
    with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`"):
        assert getattr(init, old)(w) is w
