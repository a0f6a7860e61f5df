"""Loss functions (ferrotorch.nn.functional) and loss Modules: values against NumPy float64
references for every reduction (and the legacy size_average/reduce), weights, ignore_index,
label smoothing and probability targets; gradients by gradcheck (float64, away from kinks);
finite results at extreme logits; PyTorch's error types and messages."""
import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

gradcheck = torch.autograd.gradcheck
gradgradcheck = torch.autograd.gradgradcheck
REDUCTIONS = ["none", "mean", "sum"]


# ---------------------------------------------------------------- helpers

def away(shape, low=-3.0, high=3.0, avoid=(0.0,), margin=0.1, seed=0):
    """float64 values in [low, high) at least `margin` away from each point in `avoid`."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        a = rng.uniform(low, high, size=shape)
        if all(np.all(np.abs(a - p) > margin) for p in avoid):
            return a
    raise AssertionError("could not sample")  # pragma: no cover


def T(a, grad=False):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return torch.tensor(a, dtype=torch.float64, requires_grad=grad)
    return torch.tensor(a)


def check(fn, ref, *arrays, grad=(0,), rtol=1e-10, atol=1e-12):
    """fn(*tensors) equals ref(*arrays); gradcheck w.r.t. the arrays whose positions are in grad."""
    ts = [T(a, i in grad) for i, a in enumerate(arrays)]
    out = fn(*ts)
    np.testing.assert_allclose(out.detach().numpy(), ref(*arrays), rtol=rtol, atol=atol, equal_nan=True)
    if grad:
        assert gradcheck(fn, tuple(ts))
    return out


def reduce_np(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_logsigmoid(x):
    return -np.logaddexp(0.0, -x)


def np_nll(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    """Reference NLL: class dim 1 (or 0 for a single sample); mean = sum / sum of used weights."""
    logp, target = np.asarray(logp), np.asarray(target)
    single = logp.ndim == 1
    if single:
        logp, target = logp[None], target.reshape(1)
    C = logp.shape[1]
    w = np.ones(C) if weight is None else np.asarray(weight)
    lp = np.moveaxis(logp, 1, -1).reshape(-1, C)
    t = target.reshape(-1)
    losses, used = np.zeros(len(t)), np.zeros(len(t))
    for i, c in enumerate(t):
        if c != ignore_index:
            losses[i], used[i] = -w[c] * lp[i, c], w[c]
    if reduction == "none":
        return losses.reshape(()) if single else losses.reshape(target.shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / used.sum() if used.sum() else np.nan


def np_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Reference cross entropy from its definition: -sum_c w_c q_c log p_c with the smoothed target q."""
    x = np.asarray(x)
    single = x.ndim == 1
    if single:
        target = np.asarray(target)
        x, target = x[None], (target[None] if target.dtype.kind == "f" else target.reshape(1))
    C = x.shape[1]
    w = np.ones(C) if weight is None else np.asarray(weight)
    lp = np.moveaxis(np_log_softmax(x, 1), 1, -1).reshape(-1, C)
    if np.asarray(target).dtype.kind == "f":            # class probabilities
        q = np.moveaxis(np.asarray(target), 1, -1).reshape(-1, C) * (1 - label_smoothing) + label_smoothing / C
        losses = -(lp * q * w).sum(1)
        out_shape = (x.shape[0],) + x.shape[2:]
        if reduction == "none":
            return losses.reshape(()) if single else losses.reshape(out_shape)
        return losses.sum() if reduction == "sum" else losses.sum() / len(losses)
    t = np.asarray(target).reshape(-1)
    losses, used = np.zeros(len(t)), np.zeros(len(t))
    for i, c in enumerate(t):
        if c == ignore_index:
            continue
        q = np.full(C, label_smoothing / C)
        q[c] += 1 - label_smoothing
        losses[i] = -(w * q * lp[i]).sum()
        used[i] = w[c]
    if reduction == "none":
        return losses.reshape(()) if single else losses.reshape(np.asarray(target).shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / used.sum() if used.sum() else np.nan


# ---------------------------------------------------------------- regression losses

def _smooth_l1(d, beta):
    a = np.abs(d)
    return a if beta == 0 else np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)


def _huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))


# (name, fn(input, target, reduction), elementwise NumPy reference of d = input - target, kinks of d)
REGRESSION = [
    ("mse", lambda x, t, r: F.mse_loss(x, t, reduction=r), lambda d: d * d, ()),
    ("l1", lambda x, t, r: F.l1_loss(x, t, reduction=r), np.abs, (0,)),
    ("smooth_l1", lambda x, t, r: F.smooth_l1_loss(x, t, reduction=r), lambda d: _smooth_l1(d, 1.0), (0, -1, 1)),
    ("smooth_l1_b0.5", lambda x, t, r: F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
     lambda d: _smooth_l1(d, 0.5), (0, -0.5, 0.5)),
    ("smooth_l1_b0", lambda x, t, r: F.smooth_l1_loss(x, t, reduction=r, beta=0.0), np.abs, (0,)),
    ("huber", lambda x, t, r: F.huber_loss(x, t, reduction=r), lambda d: _huber(d, 1.0), (0, -1, 1)),
    ("huber_d2", lambda x, t, r: F.huber_loss(x, t, reduction=r, delta=2.0), lambda d: _huber(d, 2.0), (0, -2, 2)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,fn,ref,kinks", REGRESSION, ids=[r[0] for r in REGRESSION])
def test_regression_losses(name, fn, ref, kinks, reduction):
    t = away((3, 4), seed=1, avoid=())
    x = t + away((3, 4), low=-2.5, high=2.5, seed=2, avoid=kinks)
    check(lambda x, t: fn(x, t, reduction), lambda x, t: reduce_np(ref(x - t), reduction), x, t, grad=(0, 1))


@pytest.mark.parametrize("name,fn,ref,kinks", REGRESSION, ids=[r[0] for r in REGRESSION])
def test_regression_losses_float32_and_broadcast_warning(name, fn, ref, kinks):
    x = away((4, 3), seed=3)
    t = away((4, 3), seed=4)
    y = fn(torch.tensor(x, dtype=torch.float32), torch.tensor(t, dtype=torch.float32), "mean")
    assert y.dtype == torch.float32 and tuple(y.shape) == ()
    np.testing.assert_allclose(y.item(), ref(x.astype(np.float32) - t.astype(np.float32)).mean(), rtol=1e-5)
    with pytest.warns(UserWarning, match="Using a target size .* that is different to the input size"):
        y = fn(T(x[:, :1]), T(t[:, 0]), "none")
    assert tuple(y.shape) == (4, 4)


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss])
def test_regression_loss_elementwise_weight(fn):
    x, t, w = away((3, 4), seed=5), away((3, 4), seed=6), away((3, 4), low=0.1, high=2, seed=7)
    elem = (x - t) ** 2 if fn is F.mse_loss else np.abs(x - t)
    np.testing.assert_allclose(fn(T(x), T(t), weight=T(w)).item(), (elem * w).sum() / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(fn(T(x), T(t), reduction="sum", weight=T(w)).item(), (elem * w).sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        fn(T(x), T(t), weight=T(w[0]))


# (size_average, reduce) -> the reduction PyTorch's legacy rules give
LEGACY = [((True, True), "mean"), ((False, True), "sum"), ((True, False), "none"), ((False, False), "none"),
          ((None, False), "none"), ((False, None), "sum"), ((True, None), "mean"), ((None, True), "mean")]


@pytest.mark.parametrize("legacy,expected", LEGACY)
@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits, F.kl_div])
def test_legacy_size_average_reduce(fn, legacy, expected):
    x = np.random.default_rng(8).uniform(0.1, 0.9, size=(3, 4))
    t = np.random.default_rng(9).uniform(0.1, 0.9, size=(3, 4))
    with pytest.warns(UserWarning, match=f"size_average and reduce args will be deprecated, please use "
                                         f"reduction='{expected}' instead"):
        got = fn(T(x), T(t), size_average=legacy[0], reduce=legacy[1])
    want = fn(T(x), T(t), reduction=expected) if fn is not F.kl_div else _kl(T(x), T(t), expected)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def _kl(x, t, reduction):
    return F.kl_div(x, t, reduction="sum") / x.numel() if reduction == "mean" else F.kl_div(x, t, reduction=reduction)


@pytest.mark.parametrize("legacy,expected", LEGACY)
def test_legacy_args_cross_entropy_and_nll(legacy, expected):
    x, t = away((4, 3), seed=10), np.array([0, 2, 1, 2])
    for fn in (F.cross_entropy, F.nll_loss):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            got = fn(T(x), T(t), size_average=legacy[0], reduce=legacy[1])
        ref = np_cross_entropy if fn is F.cross_entropy else np_nll
        np.testing.assert_allclose(got.numpy(), ref(x, t, reduction=expected), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda: F.mse_loss(torch.randn(3), torch.randn(3), reduction="foo"),
    lambda: F.l1_loss(torch.randn(3), torch.randn(3), reduction="foo"),
    lambda: F.huber_loss(torch.randn(3), torch.randn(3), reduction="foo"),
    lambda: F.binary_cross_entropy(torch.rand(3), torch.rand(3), reduction="foo"),
    lambda: F.binary_cross_entropy_with_logits(torch.rand(3), torch.rand(3), reduction="foo"),
    lambda: F.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), reduction="foo"),
    lambda: F.nll_loss(torch.randn(2, 3), torch.tensor([0, 1]), reduction="foo"),
    lambda: F.kl_div(torch.randn(2, 3), torch.rand(2, 3), reduction="foo"),
    lambda: F.margin_ranking_loss(torch.randn(3), torch.randn(3), torch.ones(3), reduction="foo"),
])
def test_invalid_reduction(call):
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        call()


def test_smooth_l1_and_huber_bad_parameters():
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(torch.rand(3), torch.rand(3), beta=-1)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(torch.rand(3), torch.rand(3), delta=0)


def test_regression_incompatible_shapes():
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="must match the size"):
        F.mse_loss(torch.randn(3, 2), torch.randn(4))


# ---------------------------------------------------------------- binary cross entropy

def np_bce(x, t, w=None):
    loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    rng = np.random.default_rng(11)
    x, t = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    if weighted:
        w = rng.uniform(0.5, 2, (4,))
        check(lambda x, t, w: F.binary_cross_entropy(x, t, w, reduction=reduction),
              lambda x, t, w: reduce_np(np_bce(x, t, w), reduction), x, t, w, grad=(0, 1))
    else:
        check(lambda x, t: F.binary_cross_entropy(x, t, reduction=reduction),
              lambda x, t: reduce_np(np_bce(x, t), reduction), x, t, grad=(0, 1))


def test_binary_cross_entropy_log_clamped_at_minus_100():
    x = T(np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), grad=True)
    t = T(np.array([0.0, 0.0, 1.0, 1.0, 1.0]))
    loss = F.binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 100.0, 100.0, 0.0, 100.0], atol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    for dt in (torch.float32, torch.float64):
        y = F.binary_cross_entropy(torch.tensor([0.0, 1.0], dtype=dt), torch.tensor([1.0, 0.0], dtype=dt))
        assert y.dtype == dt and abs(y.item() - 100.0) < 1e-4


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="Using a target size .* that is different to the input size"):
        F.binary_cross_entropy(torch.rand(3), torch.rand(4))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([1.5, 0.5]), torch.rand(2))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([float("nan")]), torch.rand(1))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(torch.rand(3), torch.tensor([0.0, 2.0, 0.5]))


def np_bce_logits(x, t, w=None, pw=None):
    lw = 1.0 if pw is None else 1 + (pw - 1) * t
    loss = (1 - t) * x - lw * np_logsigmoid(x)
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight,pos_weight", [(False, False), (True, False), (False, True), (True, True)])
def test_bce_with_logits(reduction, weight, pos_weight):
    rng = np.random.default_rng(12)
    x, t = rng.uniform(-4, 4, (3, 4)), rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, (3, 4)) if weight else None
    pw = rng.uniform(0.5, 3, (4,)) if pos_weight else None

    def fn(x, t):
        return F.binary_cross_entropy_with_logits(x, t, None if w is None else T(w), reduction=reduction,
                                                  pos_weight=None if pw is None else T(pw))
    check(fn, lambda x, t: reduce_np(np_bce_logits(x, t, w, pw), reduction), x, t, grad=(0, 1))


def test_bce_with_logits_extreme_logits():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    for dt in (torch.float32, torch.float64):
        xt = torch.tensor(x, dtype=dt, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(xt, torch.tensor(t, dtype=dt), reduction="none")
        np.testing.assert_allclose(loss.detach().double().numpy(), [1000, 1000, 0, 0, np.log(2)], rtol=1e-6, atol=1e-6)
        loss.sum().backward()
        np.testing.assert_allclose(xt.grad.double().numpy(), [1, -1, 0, 0, 0], atol=1e-6)  # sigmoid(x) - t


def test_bce_with_logits_size_mismatch():
    with pytest.raises(ValueError, match=r"Target size \(.*\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(torch.rand(3), torch.rand(4))


# ---------------------------------------------------------------- cross entropy / nll

CE_CASES = {
    # name: (input shape, target)
    "2d": ((5, 4), np.array([0, 3, 1, 3, 2])),
    "2d_ignored": ((5, 4), np.array([0, -100, 1, 3, -100])),
    "4d": ((2, 3, 2, 2), np.array([[[0, 2], [1, 1]], [[2, 0], [-100, 1]]])),
    "3d": ((2, 3, 2), np.array([[0, 2], [1, 1]])),
    "1d": ((4,), np.array(2)),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_class_indices(case, weighted, reduction):
    shape, t = CE_CASES[case]
    x = away(shape, seed=13, avoid=())
    C = shape[0] if len(shape) == 1 else shape[1]
    w = np.random.default_rng(14).uniform(0.5, 2.0, C) if weighted else None

    def ce_fn(x, t):
        return F.cross_entropy(x, t, None if w is None else T(w), reduction=reduction)

    def nll_fn(x, t):
        return F.nll_loss(x, t, None if w is None else T(w), reduction=reduction)

    check(ce_fn, lambda x, t: np_cross_entropy(x, t, w, reduction=reduction), x, t)
    check(nll_fn, lambda x, t: np_nll(x, t, w, reduction=reduction), x, t)


@pytest.mark.parametrize("ignore_index", [1, 0, -1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_ignore_index(ignore_index, reduction):
    x = away((6, 3), seed=15, avoid=())
    t = np.array([0, 1, 2, 1, -1, 0]) if ignore_index == -1 else np.array([0, 1, 2, 1, 2, 0])
    w = np.array([0.5, 1.0, 2.0])
    for weight in (None, w):
        def fn(x, t):
            return F.cross_entropy(x, t, None if weight is None else T(weight), ignore_index=ignore_index,
                                   reduction=reduction)

        check(fn, lambda x, t: np_cross_entropy(x, t, weight, ignore_index, reduction), x, t)


@pytest.mark.parametrize("smoothing", [0.1, 0.35, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing(smoothing, reduction, weighted):
    x = away((5, 4), seed=16, avoid=())
    t = np.array([0, 3, -100, 1, 3])
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None

    def fn(x, t):
        return F.cross_entropy(x, t, None if w is None else T(w), reduction=reduction, label_smoothing=smoothing)

    check(fn, lambda x, t: np_cross_entropy(x, t, w, -100, reduction, smoothing), x, t)


def test_cross_entropy_label_smoothing_spatial():
    x = away((2, 3, 2), seed=17, avoid=())
    t = np.array([[0, 2], [-100, 1]])
    check(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
          lambda x, t: np_cross_entropy(x, t, label_smoothing=0.2), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (4,)])
def test_cross_entropy_probability_targets(shape, smoothing, weighted, reduction):
    x = away(shape, seed=18, avoid=())
    cd = 0 if len(shape) == 1 else 1
    p = np.random.default_rng(19).uniform(0.1, 1.0, shape)
    p = p / p.sum(axis=cd, keepdims=True)
    w = np.random.default_rng(20).uniform(0.5, 2.0, shape[cd]) if weighted else None

    def fn(x, p):
        return F.cross_entropy(x, p, None if w is None else T(w), reduction=reduction, label_smoothing=smoothing)

    check(fn, lambda x, p: np_cross_entropy(x, p, w, reduction=reduction, label_smoothing=smoothing), x, p,
          grad=(0, 1))


def test_cross_entropy_extreme_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, -1000.0]])
    t = np.array([0, 0, 2])
    for dt in (torch.float32, torch.float64):
        xt = torch.tensor(x, dtype=dt, requires_grad=True)
        loss = F.cross_entropy(xt, torch.tensor(t), reduction="none")
        np.testing.assert_allclose(loss.detach().double().numpy(), [0.0, 2000 + np.log(2), np.log(3)], rtol=1e-6)
        loss.sum().backward()
        assert np.all(np.isfinite(xt.grad.double().numpy()))
        smooth = F.cross_entropy(xt, torch.tensor(t), label_smoothing=0.1)
        assert np.isfinite(smooth.item())
        np.testing.assert_allclose(smooth.item(), np_cross_entropy(x, t, label_smoothing=0.1), rtol=1e-6)


def test_cross_entropy_all_ignored_and_empty_are_nan():
    assert np.isnan(F.cross_entropy(torch.randn(2, 3), torch.tensor([-100, -100])).item())
    assert np.isnan(F.cross_entropy(torch.randn(0, 3), torch.zeros(0, dtype=torch.int64)).item())
    assert np.isnan(F.cross_entropy(torch.randn(0, 3), torch.zeros(0, 3)).item())
    assert F.nll_loss(torch.randn(0, 3), torch.zeros(0, dtype=torch.int64), reduction="sum").item() == 0.0


def test_cross_entropy_float32_matches_reference():
    x = away((16, 10), seed=21, avoid=())
    t = np.random.default_rng(22).integers(0, 10, 16)
    y = F.cross_entropy(torch.tensor(x, dtype=torch.float32), torch.tensor(t))
    assert y.dtype == torch.float32
    np.testing.assert_allclose(y.item(), np_cross_entropy(x.astype(np.float32).astype(np.float64), t), rtol=1e-5)


def test_nll_uint8_target():
    x = away((3, 4), seed=23, avoid=())
    np.testing.assert_allclose(F.nll_loss(T(x), torch.tensor([1, 0, 3], dtype=torch.uint8)).item(),
                               np_nll(x, np.array([1, 0, 3])), rtol=1e-12)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("x,t,exc,msg", [
    ((3, 5), [1, 2], ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)"),
    ((3, 5), [1, 2, 7], IndexError, "Target 7 is out of bounds"),
    ((3, 5), [1, -1, 2], IndexError, "Target -1 is out of bounds"),
    ((3, 5), [[1, 2, 3]], ValueError, "to match target batch_size"),
    ((3, 5), [[1], [2], [3]], RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    ((2, 3, 4), [[1, 2, 0], [0, 0, 0]], RuntimeError, r"Expected target size \[2, 4\], got \[2, 3\]"),
    ((2, 3, 4, 5), [[1, 2, 0, 1]] * 2, RuntimeError, "only batches of spatial targets supported"),
    ((5,), [1, 2], ValueError, "For 1D input, 1D target must have size 1"),
])
def test_class_index_errors(fn, x, t, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(torch.randn(*x), torch.tensor(t))


def test_class_index_dtype_and_weight_errors():
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.cross_entropy(torch.randn(3, 5), torch.tensor([1, 2, 3], dtype=torch.int32))
    with pytest.raises(RuntimeError, match="Long or Byte, but got Float"):
        F.nll_loss(torch.randn(3, 5), torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 5 classes or no classes "
                                           r"but got weight tensor of shape: \[4\]"):
        F.nll_loss(torch.randn(3, 5), torch.tensor([1, 2, 3]), weight=torch.ones(4))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(torch.randn(3, 5), torch.tensor([1, 2, 3]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"Expected 1 or more dimensions \(got 0\)"):
        F.nll_loss(torch.tensor(1.0), torch.tensor(0))


def test_probability_target_errors():
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class probabilities"):
        F.cross_entropy(torch.randn(3, 5), torch.zeros(3, 5, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(torch.randn(3, 5), torch.rand(3, 5), ignore_index=1)
    with pytest.raises(RuntimeError, match="cross_entropy: weight tensor should be defined either for all 5 classes"):
        F.cross_entropy(torch.randn(3, 5), torch.rand(3, 5), weight=torch.ones(2))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(torch.randn(3, 5), torch.rand(3, 5), label_smoothing=1.1)


# ---------------------------------------------------------------- kl_div

def np_kl(x, t, log_target, reduction):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return reduce_np(loss, reduction)


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    rng = np.random.default_rng(24)
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    if log_target:
        t = np.log(t)

    def fn(x, t):
        if reduction == "mean":
            with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both"):
                return F.kl_div(x, t, reduction=reduction, log_target=log_target)
        return F.kl_div(x, t, reduction=reduction, log_target=log_target)
    check(fn, lambda x, t: np_kl(x, t, log_target, reduction), x, t, grad=(0, 1))


def test_kl_div_zero_target_terms_are_zero():
    x = T(np.log(np.array([[0.2, 0.3, 0.5]])), grad=True)
    t = T(np.array([[0.0, 0.4, 0.6]]))
    loss = F.kl_div(x, t, reduction="sum")
    np.testing.assert_allclose(loss.item(), np_kl(x.detach().numpy(), t.numpy(), False, "sum"), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), -t.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- margin losses

def np_cos_emb(x1, x2, y, margin):
    eps = 1e-12
    axis = x1.ndim - 1
    cos = (x1 * x2).sum(axis) / np.sqrt(((x1 * x1).sum(axis) + eps) * ((x2 * x2).sum(axis) + eps))
    return np.where(y == 1, 1 - cos, 0.0) + np.where(y == -1, np.maximum(cos - margin, 0.0), 0.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
def test_cosine_embedding_loss(margin, reduction):
    for seed in range(25, 100):   # pairs whose cosine is away from every tested hinge
        x1, x2 = away((6, 3), seed=seed), away((6, 3), seed=seed + 100)
        cos = (x1 * x2).sum(1) / np.linalg.norm(x1, axis=1) / np.linalg.norm(x2, axis=1)
        if np.all(np.abs(cos[:, None] - np.array([0.0, 0.3, -0.5])) > 0.02):
            break
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])

    def fn(a, b, y):
        return F.cosine_embedding_loss(a, b, y, margin=margin, reduction=reduction)

    check(fn, lambda a, b, y: reduce_np(np_cos_emb(a, b, y, margin), reduction), x1, x2, y, grad=(0, 1))
    # a single pair: 1-D inputs with a 0-d target
    check(lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=margin),
          lambda a, b, y: np_cos_emb(a, b, y, margin), x1[1], x2[1], np.array(-1.0), grad=(0, 1))


def test_cosine_embedding_loss_errors():
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(torch.randn(3, 4, 2), torch.randn(3, 4, 2), torch.ones(3))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(torch.randn(3, 4), torch.randn(3, 4), torch.ones(3, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(margin, reduction):
    x1, x2 = away((6,), seed=27), away((6,), seed=28)
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    assert np.all(np.abs(-y * (x1 - x2) + margin) > 1e-3)

    def fn(a, b, y):
        return F.margin_ranking_loss(a, b, y, margin=margin, reduction=reduction)

    check(fn, lambda a, b, y: reduce_np(np.maximum(0, -y * (a - b) + margin), reduction), x1, x2, y, grad=(0, 1))


def test_margin_ranking_loss_dimension_error():
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(torch.randn(3), torch.randn(3), torch.ones(3, 1))


# ---------------------------------------------------------------- loss modules

def _inputs(kind):
    rng = np.random.default_rng(29)
    if kind == "reg":
        return T(rng.normal(size=(3, 4))), T(rng.normal(size=(3, 4)))
    if kind == "prob":
        return T(rng.uniform(0.1, 0.9, (3, 4))), T(rng.uniform(0, 1, (3, 4)))
    if kind == "cls":
        return T(rng.normal(size=(3, 4))), T(np.array([0, 3, 1]))
    if kind == "pair":
        return T(rng.normal(size=(3, 4))), T(rng.normal(size=(3, 4))), T(np.array([1.0, -1.0, 1.0]))
    return T(rng.normal(size=3)), T(rng.normal(size=3)), T(np.array([1.0, -1.0, 1.0]))


W4 = np.array([0.5, 1.0, 2.0, 1.5])
MODULES = [
    ("MSELoss", lambda r: nn.MSELoss(reduction=r), lambda *a, r: F.mse_loss(*a, reduction=r), "reg"),
    ("L1Loss", lambda r: nn.L1Loss(reduction=r), lambda *a, r: F.l1_loss(*a, reduction=r), "reg"),
    ("SmoothL1Loss", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.5),
     lambda *a, r: F.smooth_l1_loss(*a, reduction=r, beta=0.5), "reg"),
    ("HuberLoss", lambda r: nn.HuberLoss(reduction=r, delta=0.7),
     lambda *a, r: F.huber_loss(*a, reduction=r, delta=0.7), "reg"),
    ("BCELoss", lambda r: nn.BCELoss(T(W4), reduction=r),
     lambda *a, r: F.binary_cross_entropy(*a, T(W4), reduction=r), "prob"),
    ("BCEWithLogitsLoss", lambda r: nn.BCEWithLogitsLoss(T(W4), reduction=r, pos_weight=T(W4[::-1].copy())),
     lambda *a, r: F.binary_cross_entropy_with_logits(*a, T(W4), reduction=r, pos_weight=T(W4[::-1].copy())), "prob"),
    ("CrossEntropyLoss", lambda r: nn.CrossEntropyLoss(T(W4), ignore_index=1, reduction=r, label_smoothing=0.1),
     lambda *a, r: F.cross_entropy(*a, T(W4), ignore_index=1, reduction=r, label_smoothing=0.1), "cls"),
    ("NLLLoss", lambda r: nn.NLLLoss(T(W4), ignore_index=3, reduction=r),
     lambda *a, r: F.nll_loss(*a, T(W4), ignore_index=3, reduction=r), "cls"),
    ("KLDivLoss", lambda r: nn.KLDivLoss(reduction=r, log_target=True),
     lambda *a, r: F.kl_div(*a, reduction=r, log_target=True), "reg"),
    ("CosineEmbeddingLoss", lambda r: nn.CosineEmbeddingLoss(0.2, reduction=r),
     lambda *a, r: F.cosine_embedding_loss(*a, margin=0.2, reduction=r), "pair"),
    ("MarginRankingLoss", lambda r: nn.MarginRankingLoss(0.2, reduction=r),
     lambda *a, r: F.margin_ranking_loss(*a, margin=0.2, reduction=r), "rank"),
]


@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("name,make,fn,kind", MODULES, ids=[m[0] for m in MODULES])
def test_loss_module_matches_functional(name, make, fn, kind, reduction):
    m = make(reduction)
    assert isinstance(m, nn.Module) and m.reduction == reduction
    args = _inputs(kind)
    np.testing.assert_array_equal(m(*args).numpy(), fn(*args, r=reduction).numpy())


@pytest.mark.parametrize("cls", [nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.BCELoss, nn.BCEWithLogitsLoss,
                                 nn.CrossEntropyLoss, nn.NLLLoss, nn.KLDivLoss, nn.CosineEmbeddingLoss,
                                 nn.MarginRankingLoss])
@pytest.mark.parametrize("legacy,expected", LEGACY)
def test_loss_module_legacy_args(cls, legacy, expected):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        m = cls(size_average=legacy[0], reduce=legacy[1])
    assert m.reduction == expected


def test_loss_module_reprs_and_buffers():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss()"
    ce = nn.CrossEntropyLoss(weight=torch.ones(3))
    assert ce.weight is not None and list(ce.state_dict()) == ["weight"]
    assert nn.CrossEntropyLoss().weight is None and len(nn.CrossEntropyLoss().state_dict()) == 0
    bce = nn.BCEWithLogitsLoss(pos_weight=torch.full((3,), 2.0))
    assert list(dict(bce.named_buffers())) == ["pos_weight"]
    assert bce.double().pos_weight.dtype == torch.float64   # buffers follow the module's conversions
    assert nn.CrossEntropyLoss(ignore_index=5).ignore_index == 5
    assert nn.HuberLoss().delta == 1.0 and nn.SmoothL1Loss().beta == 1.0
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")


def test_cross_entropy_module_backward_in_training_step():
    """One classifier step: loss.backward() reaches the logits with softmax - onehot (mean over batch)."""
    x = away((4, 3), seed=30, avoid=())
    t = np.array([2, 0, 1, 1])
    xt = T(x, grad=True)
    nn.CrossEntropyLoss()(xt, T(t)).backward()
    p = np.exp(np_log_softmax(x, 1))
    np.testing.assert_allclose(xt.grad.numpy(), (p - np.eye(3)[t]) / 4, rtol=1e-10)


@pytest.mark.parametrize("fn", [
    lambda x: F.cross_entropy(x, T(np.array([0, 2]))),
    lambda x: F.cross_entropy(x, T(np.array([0, 2])), label_smoothing=0.1),
    lambda x: F.cross_entropy(x, T(np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]]))),
    lambda x: F.binary_cross_entropy_with_logits(x, T(np.full((2, 3), 0.3))),
    lambda x: F.binary_cross_entropy(x.sigmoid(), T(np.full((2, 3), 0.3))),
    lambda x: F.kl_div(x, T(np.full((2, 3), 0.3)), reduction="batchmean"),
    lambda x: F.mse_loss(x, T(np.zeros((2, 3)))),
    lambda x: F.smooth_l1_loss(x, T(np.zeros((2, 3))), beta=10.0),
], ids=["ce", "ce_smoothing", "ce_probs", "bce_logits", "bce", "kl_div", "mse", "smooth_l1"])
def test_double_backward(fn):
    assert gradgradcheck(fn, (T(away((2, 3), seed=31), grad=True),))
