"""ferrotorch.nn.functional (everything except the losses): values against NumPy float64
references, gradients against finite differences (gradcheck, float64, inputs sampled away
from kinks), behaviour at extreme inputs, and PyTorch's error types/messages."""
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F

gradcheck = torch.autograd.gradcheck


# ---------------------------------------------------------------- helpers

def away(shape, low=-3.0, high=3.0, avoid=(0.0,), margin=0.1, seed=0):
    """float64 values in [low, high) at least `margin` away from each kink in `avoid`."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        a = rng.uniform(low, high, size=shape)
        if all(np.all(np.abs(a - p) > margin) for p in avoid):
            return a
    raise AssertionError("could not sample")  # pragma: no cover


def T(a, grad=False):
    """A tensor holding NumPy array a (float arrays become float64 leaves)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return torch.tensor(a, dtype=torch.float64, requires_grad=grad)
    return torch.tensor(a)


def check(fn, ref, *arrays, grad=True, rtol=1e-10, atol=1e-12):
    """fn(*tensors) equals ref(*arrays) (NumPy, float64); and, with grad, passes gradcheck."""
    ts = [T(a, grad) for a in arrays]
    out = fn(*ts)
    np.testing.assert_allclose(out.detach().numpy(), ref(*arrays), rtol=rtol, atol=atol)
    if grad:
        assert gradcheck(fn, tuple(ts))
    return out


def np_(t):
    return t.detach().to(torch.float64).numpy()


_erf = np.vectorize(math.erf)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.logaddexp(0.0, x * beta) / beta)


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


# ---------------------------------------------------------------- activations
# (name, ferrotorch fn, NumPy reference, kinks to keep inputs away from)
ACTIVATIONS = [
    ("relu", F.relu, lambda x: np.maximum(x, 0), (0,)),
    ("relu6", F.relu6, lambda x: np.clip(x, 0, 6), (0, 6)),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), (0,)),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), (0,)),
    ("elu", F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), (0,)),
    ("elu_0.5", lambda x: F.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), (0,)),
    ("selu", F.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)), (0,)),
    ("celu_2", lambda x: F.celu(x, 2.0), lambda x: np.maximum(x, 0) + np.minimum(0, 2 * np.expm1(x / 2)), (0,)),
    ("gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), ()),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), ()),
    ("silu", F.silu, lambda x: x * np_sigmoid(x), ()),
    ("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), ()),
    ("sigmoid", F.sigmoid, np_sigmoid, ()),
    ("tanh", F.tanh, np.tanh, ()),
    ("hardtanh", F.hardtanh, lambda x: np.clip(x, -1, 1), (-1, 1)),
    ("hardtanh_-2_0.5", lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: np.clip(x, -2, 0.5), (-2, 0.5)),
    ("softplus", F.softplus, np_softplus, ()),
    ("softplus_beta2_th1", lambda x: F.softplus(x, beta=2, threshold=1),
     lambda x: np_softplus(x, 2.0, 1.0), (0.5,)),
    ("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0.0, -x), ()),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), (-3, 3)),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, (-3, 3)),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), (0,)),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), ()),
    ("hardshrink", F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0), (-0.5, 0.5)),
    ("softshrink", F.softshrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), (-0.5, 0.5)),
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0), (0.5,)),
]
ACT_IDS = [a[0] for a in ACTIVATIONS]


@pytest.mark.parametrize("name,fn,ref,kinks", ACTIVATIONS, ids=ACT_IDS)
def test_activation_values_and_grad(name, fn, ref, kinks):
    check(fn, ref, away((3, 4), low=-4, high=4, avoid=kinks))


@pytest.mark.parametrize("name,fn,ref,kinks", ACTIVATIONS, ids=ACT_IDS)
def test_activation_float32_and_shapes(name, fn, ref, kinks):
    a = away((2, 3, 5), low=-4, high=4, avoid=kinks, seed=1)
    x = torch.tensor(a, dtype=torch.float32)
    y = fn(x)
    assert y.dtype == torch.float32 and tuple(y.shape) == (2, 3, 5)
    np.testing.assert_allclose(np_(y), ref(np_(x)), rtol=1e-5, atol=1e-6)
    # 0-d and empty inputs keep their shape
    assert tuple(fn(torch.tensor(0.7)).shape) == ()
    assert tuple(fn(torch.zeros(0, 3)).shape) == (0, 3)


@pytest.mark.parametrize("name,fn,ref,kinks", ACTIVATIONS, ids=ACT_IDS)
def test_activation_extreme_inputs_finite(name, fn, ref, kinks):
    """±1000 (and ±30, past the softplus threshold): finite values and gradients, equal to the limits."""
    a = np.array([-1000.0, -30.0, 30.0, 1000.0])
    x = T(a, grad=True)
    y = fn(x)
    with np.errstate(over="ignore"):   # the plain NumPy formulas overflow to the right limit
        expected = ref(a)
    np.testing.assert_allclose(np_(y), expected, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    g = np_(x.grad)
    assert np.all(np.isfinite(g)), g


def test_activation_gradient_limits():
    """Gradients at saturation are the analytic limits (no NaN from an overflowing branch)."""
    x = T(np.array([-1000.0, 1000.0]), grad=True)
    for fn, expected in [(F.softplus, [0.0, 1.0]), (F.mish, [0.0, 1.0]), (F.elu, [0.0, 1.0]),
                         (F.logsigmoid, [1.0, 0.0]), (F.silu, [0.0, 1.0]), (F.celu, [0.0, 1.0])]:
        x.grad = None
        fn(x).sum().backward()
        np.testing.assert_allclose(np_(x.grad), expected, atol=1e-12)


@pytest.mark.parametrize("fn,ref", [
    (lambda x: F.relu(x, inplace=True), lambda a: np.maximum(a, 0)),
    (lambda x: F.relu_(x), lambda a: np.maximum(a, 0)),
    (lambda x: F.relu6(x, inplace=True), lambda a: np.clip(a, 0, 6)),
    (lambda x: F.leaky_relu(x, 0.1, inplace=True), lambda a: np.where(a > 0, a, 0.1 * a)),
    (lambda x: F.leaky_relu_(x, 0.1), lambda a: np.where(a > 0, a, 0.1 * a)),
    (lambda x: F.elu(x, inplace=True), lambda a: np.where(a > 0, a, np.expm1(a))),
    (lambda x: F.elu_(x), lambda a: np.where(a > 0, a, np.expm1(a))),
    (lambda x: F.selu(x, inplace=True), lambda a: SELU_S * np.where(a > 0, a, SELU_A * np.expm1(a))),
    (lambda x: F.celu(x, inplace=True), lambda a: np.where(a > 0, a, np.expm1(a))),
    (lambda x: F.hardtanh(x, inplace=True), lambda a: np.clip(a, -1, 1)),
    (lambda x: F.hardtanh_(x, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    (lambda x: F.silu(x, inplace=True), lambda a: a * np_sigmoid(a)),
    (lambda x: F.mish(x, inplace=True), lambda a: a * np.tanh(np.log1p(np.exp(a)))),
    (lambda x: F.threshold(x, 0.0, 7.0, inplace=True), lambda a: np.where(a > 0, a, 7.0)),
])
def test_inplace_variants_write_input(fn, ref):
    a = away((3, 4), seed=2)
    x = torch.tensor(a)
    out = fn(x)
    assert out is x
    np.testing.assert_allclose(np_(x), ref(a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish",
                                  "hardtanh", "hardsigmoid", "hardswish"])
def test_inplace_activation_on_intermediate_backprops(name):
    """inplace=True inside a graph (as nn.ReLU(inplace=True) in a network) gives the same
    gradients as the out-of-place function."""
    a = away((3, 4), seed=3, avoid=(0, 1.5, -1.5, 3, -3), margin=0.05)
    fn = getattr(F, name)
    x = T(a, grad=True)
    y = x * 2.0
    out = fn(y, inplace=True)
    assert out is y
    (y * y).sum().backward()
    x2 = T(a, grad=True)
    (fn(x2 * 2.0) ** 2).sum().backward()
    np.testing.assert_allclose(np_(x.grad), np_(x2.grad), rtol=1e-12)


def test_logsigmoid_gradient_is_smooth_at_zero():
    x = T(np.array([0.0, -50.0, 50.0]), grad=True)
    F.logsigmoid(x).sum().backward()
    np.testing.assert_allclose(np_(x.grad), [0.5, 1.0, 0.0], atol=1e-15)   # sigmoid(-x)


def test_inplace_on_leaf_requiring_grad_raises():
    x = torch.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(x, inplace=True)


def test_activation_errors():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(torch.randn(3), approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(torch.randn(3), 2.0, 1.0)


# ---------------------------------------------------------------- prelu / glu

def test_prelu_per_channel_and_shared():
    a = away((2, 3, 4), seed=4)
    w = np.array([0.25, -0.5, 2.0])

    def ref(x, w):
        return np.where(x > 0, x, x * w.reshape(3, 1))

    check(F.prelu, ref, a, w)
    check(F.prelu, lambda x, w: np.where(x > 0, x, x * w[0]), a, np.array([0.1]))
    # a 0-d weight and a 1-D input with one channel
    check(F.prelu, lambda x, w: np.where(x > 0, x, x * w), away((5,), seed=5), np.array(0.3))
    check(F.prelu, lambda x, w: np.where(x > 0, x, x * w[0]), away((5,), seed=5), np.array([0.3]))


def test_prelu_errors():
    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 3"):
        F.prelu(torch.randn(2, 3, 4), torch.ones(2))
    with pytest.raises(RuntimeError, match="Found parameter numbers = 3 and channel size = 1"):
        F.prelu(torch.randn(3), torch.ones(3))
    with pytest.raises(RuntimeError, match="scalar or 1D tensor, but got: ndim = 2"):
        F.prelu(torch.randn(2, 3), torch.ones(3, 1))


def test_glu():
    a = away((2, 6), seed=6)
    check(lambda x: F.glu(x), lambda x: x[:, :3] * np_sigmoid(x[:, 3:]), a)
    check(lambda x: F.glu(x, 0), lambda x: x[:1] * np_sigmoid(x[1:]), a)
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(torch.randn(2, 5))


# ---------------------------------------------------------------- softmax family

def np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("which", ["softmax", "log_softmax", "softmin"])
def test_softmax_family(which, dim):
    a = away((3, 4), seed=7, avoid=())
    ref = {"softmax": lambda x: np.exp(np_log_softmax(x, dim)),
           "log_softmax": lambda x: np_log_softmax(x, dim),
           "softmin": lambda x: np.exp(np_log_softmax(-x, dim))}[which]
    check(lambda x: getattr(F, which)(x, dim), ref, a)


@pytest.mark.parametrize("which", ["softmax", "log_softmax", "softmin"])
def test_softmax_3d_and_float32(which):
    a = away((2, 3, 4), seed=8, avoid=())
    sign = -1 if which == "softmin" else 1
    ref = np_log_softmax(sign * a, 1)
    if which != "log_softmax":
        ref = np.exp(ref)
    y = getattr(F, which)(torch.tensor(a, dtype=torch.float32), dim=1)
    assert y.dtype == torch.float32
    np.testing.assert_allclose(np_(y), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 10, 16, 33, 1000, 5000])
@pytest.mark.parametrize("layout", ["contiguous", "rows_sliced", "outer_transposed"])
def test_softmax_float32_last_dim_rows(n, layout):
    # float32 over the last dim: the row kernel (whole 16-blocks, padded tail, rows split
    # across threads when there are many) for contiguous inputs, the lane path otherwise.
    rng = np.random.default_rng(n)
    rows = 2 * max(1, 35000 // n)   # enough rows to run in parallel; even, for the transposed case
    a = (rng.standard_normal((rows, 2 * n)) * 5).astype(np.float32)
    t = torch.from_numpy(a)
    if layout == "contiguous":
        t, a = t[:, :n].contiguous(), a[:, :n]
    elif layout == "rows_sliced":
        t, a = t[::2, n:], a[::2, n:]
    else:
        b = np.ascontiguousarray(a[:, :n].reshape(rows // 2, 2, n).transpose(1, 0, 2))
        t = torch.from_numpy(b).transpose(0, 1)
        a = b.transpose(1, 0, 2)
    ref = np_log_softmax(a.astype(np.float64), -1)
    np.testing.assert_allclose(F.log_softmax(t, -1).numpy(), ref, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(F.softmax(t, -1).numpy(), np.exp(ref), rtol=1e-5, atol=1e-7)


def test_softmax_extreme_logits_stay_finite():
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0], [5.0, 5.0, 5.0]])
    for dt in (torch.float32, torch.float64):
        x = torch.tensor(a, dtype=dt)
        np.testing.assert_allclose(np_(F.log_softmax(x, 1)), np_log_softmax(a, 1), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np_(F.softmax(x, 1)), np.exp(np_log_softmax(a, 1)), rtol=1e-6, atol=1e-7)
    x = T(a, grad=True)
    F.log_softmax(x, 1)[:, 0].sum().backward()
    assert np.all(np.isfinite(np_(x.grad)))


def test_softmax_dtype_argument():
    x = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float32)
    y = F.softmax(x, dim=1, dtype=torch.float64)
    assert y.dtype == torch.float64
    np.testing.assert_allclose(np_(y), np.exp(np_log_softmax(np.array([[1.0, 2.0, 3.0]]), 1)), rtol=1e-12)
    assert F.log_softmax(x, 1, dtype=torch.float64).dtype == torch.float64
    assert F.softmin(x, 1, dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("shape,dim", [((4,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)])
def test_softmax_implicit_dim_warns_and_uses_legacy_rule(shape, dim):
    a = away(shape, seed=9, avoid=())
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        y = F.softmax(torch.tensor(a))
    np.testing.assert_allclose(np_(y), np.exp(np_log_softmax(a, dim)), rtol=1e-10)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        F.log_softmax(torch.tensor(a))


def test_softmax_bad_dim():
    with pytest.raises(IndexError):
        F.softmax(torch.randn(2, 3), dim=2)


# ---------------------------------------------------------------- linear / bilinear

@pytest.mark.parametrize("xshape,bias", [((4, 3), True), ((4, 3), False), ((2, 4, 3), True), ((3,), True)])
def test_linear(xshape, bias):
    x = away(xshape, seed=10, avoid=())
    w = away((5, 3), seed=11, avoid=())
    if bias:
        b = away((5,), seed=12, avoid=())
        check(F.linear, lambda x, w, b: x @ w.T + b, x, w, b)
    else:
        check(F.linear, lambda x, w: x @ w.T, x, w)


def test_linear_shape_mismatch():
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        F.linear(torch.randn(3, 5), torch.randn(4, 6))


def test_bilinear():
    x1, x2 = away((3, 2), seed=13, avoid=()), away((3, 4), seed=14, avoid=())
    w, b = away((5, 2, 4), seed=15, avoid=()), away((5,), seed=16, avoid=())

    def ref(x1, x2, w, b):
        return np.einsum("ni,oij,nj->no", x1, w, x2) + b

    check(F.bilinear, ref, x1, x2, w, b)
    y = F.bilinear(torch.randn(2, 3, 2), torch.randn(2, 3, 4), torch.randn(5, 2, 4))
    assert tuple(y.shape) == (2, 3, 5)


def test_bilinear_errors():
    with pytest.raises(RuntimeError, match="input batch dimensions do not match"):
        F.bilinear(torch.randn(3, 4), torch.randn(2, 5), torch.randn(6, 4, 5))
    with pytest.raises(RuntimeError, match="input2 size does not match weight size"):
        F.bilinear(torch.randn(3, 4), torch.randn(3, 5), torch.randn(6, 4, 6))
    with pytest.raises(RuntimeError, match="bias size does not match weight size"):
        F.bilinear(torch.randn(3, 4), torch.randn(3, 5), torch.randn(6, 4, 5), torch.randn(5))


# ---------------------------------------------------------------- dropout

def test_dropout_statistics_and_scaling():
    torch.manual_seed(0)
    x = torch.full((200_000,), 2.0)
    for p in (0.2, 0.5, 0.9):
        y = np_(F.dropout(x, p))
        kept = y != 0
        assert abs(1 - kept.mean() - p) < 0.01
        np.testing.assert_allclose(y[kept], 2.0 / (1 - p), rtol=1e-6)


def test_dropout_identity_cases():
    x = torch.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(np_(F.dropout(x, 1.0)) == 0)


def test_dropout_reproducible_with_seed():
    x = torch.ones(1000)
    torch.manual_seed(123)
    a = np_(F.dropout(x, 0.3))
    torch.manual_seed(123)
    b = np_(F.dropout(x, 0.3))
    np.testing.assert_array_equal(a, b)


def test_dropout_gradient_is_the_mask():
    torch.manual_seed(1)
    x = torch.ones(1000, dtype=torch.float64, requires_grad=True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    np.testing.assert_allclose(np_(x.grad), np_(y), rtol=1e-12)   # d(x*m)/dx = m = y (x=1)


def test_dropout_inplace():
    torch.manual_seed(2)
    x = torch.ones(1000)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    vals = set(np.unique(np_(x)).tolist())
    assert vals == {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        F.dropout(torch.randn(3), p)


def test_dropout2d_drops_whole_channels():
    torch.manual_seed(3)
    y = np_(F.dropout2d(torch.ones(8, 16, 5, 5), 0.5))
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel == 0).all(-1).mean() < 1


# ---------------------------------------------------------------- one_hot

def test_one_hot_values():
    t = np.array([[0, 2], [1, 3]])
    y = F.one_hot(torch.tensor(t))
    assert y.dtype == torch.int64 and tuple(y.shape) == (2, 2, 4)
    np.testing.assert_array_equal(y.numpy(), np.eye(4, dtype=np.int64)[t])
    np.testing.assert_array_equal(F.one_hot(torch.tensor([1, 0]), 3).numpy(), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(F.one_hot(torch.tensor(2), 4).numpy(), [0, 0, 1, 0])
    assert tuple(F.one_hot(torch.zeros(0, dtype=torch.int64), 5).shape) == (0, 5)


@pytest.mark.parametrize("t,n,msg", [
    ([1, 2, 3], 3, "Class values must be smaller than num_classes"),
    ([1, -2, 3], -1, "Class values must be non-negative"),
    ([], -1, "Can not infer total number of classes from empty tensor"),
])
def test_one_hot_errors(t, n, msg):
    with pytest.raises(RuntimeError, match=msg):
        F.one_hot(torch.tensor(t, dtype=torch.int64), n)


def test_one_hot_requires_long():
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        F.one_hot(torch.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(torch.tensor([1, 2], dtype=torch.int32))


# ---------------------------------------------------------------- pad

def np_pad_constant(a, pad, value=0.0):
    """Reference for constant padding with possibly negative amounts (negative = crop)."""
    out = a
    for k in range(len(pad) // 2):
        ax = a.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        widths = [(0, 0)] * a.ndim
        widths[ax] = (max(left, 0), max(right, 0))
        out = np.pad(out, widths, mode="constant", constant_values=value)
        n = out.shape[ax]
        sl = [slice(None)] * a.ndim
        sl[ax] = slice(max(-left, 0), n - max(-right, 0))
        out = out[tuple(sl)]
    return out


@pytest.mark.parametrize("shape,pad,value", [
    ((2, 3), (1, 2), 0.0),
    ((2, 3), (1, 2, 0, 1), 1.5),
    ((2, 3, 4), (1, 1, 2, 0, 1, 1), -1.0),
    ((2, 3, 4), (-1, 2), 0.0),
    ((2, 3, 4), (-1, -2, 1, -1), 3.0),
    ((5,), (0, 0), 0.0),
    ((2, 2, 2, 2, 2), (1, 0, 0, 1, 1, 1, 0, 0, 1, 1), 2.0),
])
def test_pad_constant(shape, pad, value):
    a = away(shape, seed=17, avoid=())
    check(lambda x: F.pad(x, pad, value=value), lambda x: np_pad_constant(x, pad, value), a)


def test_pad_constant_integer_tensor_and_empty():
    y = F.pad(torch.arange(4).reshape(1, 4), (1, 1), value=2)
    assert y.dtype == torch.int64
    np.testing.assert_array_equal(y.numpy(), [[2, 0, 1, 2, 3, 2]])
    assert tuple(F.pad(torch.zeros(2, 3, 0), (1, 1)).shape) == (2, 3, 2)


@pytest.mark.parametrize("mode,npmode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
@pytest.mark.parametrize("shape,pad", [
    ((2, 5), (2, 1)), ((1, 2, 5), (1, 3)), ((2, 3, 4), (1, 2, 2, 1)), ((1, 2, 3, 4), (0, 2, 1, 0)),
    ((1, 2, 3, 3, 3), (1, 1, 2, 0, 0, 2)),
])
def test_pad_modes_match_numpy(mode, npmode, shape, pad):
    a = away(shape, seed=18, avoid=())
    widths = [(0, 0)] * a.ndim
    for k in range(len(pad) // 2):
        widths[a.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    check(lambda x: F.pad(x, pad, mode=mode), lambda x: np.pad(x, widths, mode=npmode), a)


@pytest.mark.parametrize("mode,pad,expected", [
    # negative amounts crop (values checked by hand against the definitions)
    ("reflect", (-1, 2), [1, 2, 3, 4, 3, 2]),
    ("reflect", (2, -1), [2, 1, 0, 1, 2, 3]),
    ("replicate", (-1, 2), [1, 2, 3, 4, 4, 4]),
    ("replicate", (2, -1), [0, 0, 0, 1, 2, 3]),
    ("circular", (-1, 1), [1, 2, 3, 4, 1]),     # crop first, then wrap the cropped extent
    ("circular", (1, -1), [3, 0, 1, 2, 3]),
    ("circular", (5, 0), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]),
])
def test_pad_modes_negative_and_full_wrap(mode, pad, expected):
    x = torch.arange(5.0).reshape(1, 1, 5)
    np.testing.assert_array_equal(np_(F.pad(x, pad, mode=mode)).ravel(), expected)


def test_pad_circular_2d_corners():
    x = torch.arange(6.0).reshape(1, 2, 3)
    expected = [[[5, 3, 4, 5, 3], [2, 0, 1, 2, 0], [5, 3, 4, 5, 3]]]
    np.testing.assert_array_equal(np_(F.pad(x, (1, 1, 1, 0), mode="circular")), expected)


@pytest.mark.parametrize("args,kw,exc,msg", [
    (((2, 3, 4), (1,)), {}, RuntimeError, "Padding length must be divisible by 2"),
    (((2, 3, 4), (1,) * 8), {}, RuntimeError, "Padding length should be less than or equal to two times"),
    (((2, 3, 4), (1, 1)), {"mode": "reflect", "value": 2.0}, RuntimeError, "doesn't take in value argument"),
    (((2, 3, 4), (4, 1)), {"mode": "reflect"}, RuntimeError, "Padding size should be less than the corresponding"),
    (((2, 3, 4), (5, 1)), {"mode": "circular"}, RuntimeError, "wrapping around more than once"),
    (((2, 3, 4), (1,) * 6), {"mode": "reflect"}, NotImplementedError, "Padding size 6 is not supported for 3D"),
    (((4,), (1, 1)), {"mode": "replicate"}, NotImplementedError, "not supported for 1D input"),
    (((2, 3, 4), (1, 1)), {"mode": "foo"}, NotImplementedError, "Unrecognised padding mode foo"),
    (((2, 0, 3), (1, 1)), {"mode": "replicate"}, RuntimeError, "other non-zero dimensions"),
])
def test_pad_errors(args, kw, exc, msg):
    shape, pad = args
    with pytest.raises(exc, match=msg):
        F.pad(torch.randn(*shape), pad, **kw)


def test_pad_float_amounts_are_type_error():
    with pytest.raises(TypeError):
        F.pad(torch.randn(2, 3), [1.5, 1])


# ---------------------------------------------------------------- normalize and friends

@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 1), (2.0, 0), (3.0, -1)])
def test_normalize(p, dim):
    a = away((3, 4), seed=19)

    def ref(x):
        return x / np.maximum((np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p), 1e-12)

    check(lambda x: F.normalize(x, p=p, dim=dim), ref, a)


def test_normalize_zero_vector_stays_zero():
    y = F.normalize(torch.zeros(2, 3))
    assert np.all(np_(y) == 0)


def test_cosine_similarity_and_pairwise_distance():
    a, b = away((3, 4), seed=20), away((3, 4), seed=21)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    check(F.cosine_similarity, lambda x, y: cos, a, b)
    check(F.pairwise_distance, lambda x, y: np.linalg.norm(x - y + 1e-6, axis=-1), a, b)


@pytest.mark.parametrize("fn", [
    F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.softplus, F.mish, F.silu, F.elu, F.selu, F.logsigmoid,
    lambda x: F.log_softmax(x, 1), lambda x: F.softmax(x, 0), F.normalize,
    lambda x: F.pad(x.unsqueeze(0), (2, 1), mode="reflect"), lambda x: F.pad(x, (2, -1, 1, 0), value=3.0),
], ids=["gelu", "gelu_tanh", "softplus", "mish", "silu", "elu", "selu", "logsigmoid", "log_softmax", "softmax",
        "normalize", "pad_reflect", "pad_constant"])
def test_double_backward(fn):
    assert torch.autograd.gradgradcheck(fn, (T(away((2, 3), seed=31), grad=True),))
