"""Margin, embedding, Poisson/Gaussian NLL and CTC losses, pdist and the distance layers:
values against NumPy float64 references written from the documented formulas (float32 and
float64, every reduction, the legacy size_average/reduce), gradients by gradcheck on small
float64 inputs away from kinks, PyTorch's error types and messages, and the Modules."""
import itertools
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

gradcheck = torch.autograd.gradcheck
REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [torch.float32, torch.float64]


# ---------------------------------------------------------------- helpers

def rng(seed=0):
    return np.random.default_rng(seed)


def T(a, dtype=torch.float64, grad=False):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return torch.tensor(a, dtype=dtype, requires_grad=grad)
    return torch.tensor(a)


def reduce_np(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def close(out, ref, dtype=torch.float64):
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=2e-5, atol=2e-6)
    out = out.detach()
    assert out.dtype == dtype
    np.testing.assert_allclose(out.double().numpy(), ref, equal_nan=True, **tol)
    assert out.shape == np.shape(ref)


def away(shape, low=-2.0, high=2.0, seed=0, points=(), margin=0.05):
    """Samples whose values stay `margin` away from each of `points` (kinks)."""
    g = rng(seed)
    for _ in range(1000):
        a = g.uniform(low, high, size=shape)
        if all(np.all(np.abs(a - p) > margin) for p in points):
            return a
    raise AssertionError("could not sample")  # pragma: no cover


def np_logsigmoid(x):
    return -np.logaddexp(0.0, -x)


# ---------------------------------------------------------------- soft margin / multilabel soft margin

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(dtype, reduction):
    x = rng(1).normal(size=(3, 4)) * 3
    y = np.sign(rng(2).normal(size=(3, 4)))
    ref = reduce_np(np.log1p(np.exp(-y * x)), reduction)
    close(F.soft_margin_loss(T(x, dtype), T(y, dtype), reduction=reduction), ref, dtype)
    close(nn.SoftMarginLoss(reduction=reduction)(T(x, dtype), T(y, dtype)), ref, dtype)


def test_soft_margin_loss_extreme_and_grad():
    out = F.soft_margin_loss(T([30.0, -30.0]), T([-1.0, -1.0]), reduction="none")
    np.testing.assert_allclose(out.numpy(), np.log1p(np.exp([30.0, -30.0])), rtol=1e-14)
    x, y = T(rng(3).normal(size=(2, 3)), grad=True), T(np.sign(rng(4).normal(size=(2, 3))))
    assert gradcheck(lambda a: F.soft_margin_loss(a, y), (x,))


def test_soft_margin_loss_legacy_and_errors():
    x, y = T([[0.5, -1.0]]), T([[1.0, -1.0]])
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = F.soft_margin_loss(x, y, size_average=False)
    np.testing.assert_allclose(out.item(), np.log1p(np.exp(-0.5)) + np.log1p(np.exp(-1.0)))
    assert F.soft_margin_loss(T([[0.5, -1.0]], torch.float32), y).dtype == torch.float32   # input's dtype
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.soft_margin_loss(x, y, reduction="bad")
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        F.soft_margin_loss(T([0.5, 1.0]), T([[1.0, -1.0], [1.0, 1.0]]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss(dtype, reduction):
    x = rng(5).normal(size=(3, 4)) * 2
    y = (rng(6).random((3, 4)) > 0.5) * 1.0
    w = rng(7).random(4) + 0.5
    per = -(y * np_logsigmoid(x) + (1 - y) * np_logsigmoid(-x)) * w
    ref = reduce_np(per.mean(1), reduction)
    close(F.multilabel_soft_margin_loss(T(x, dtype), T(y, dtype), weight=T(w, dtype), reduction=reduction),
          ref, dtype)
    m = nn.MultiLabelSoftMarginLoss(weight=T(w, dtype), reduction=reduction)
    close(m(T(x, dtype), T(y, dtype)), ref, dtype)
    assert "weight" in m.state_dict()


def test_multilabel_soft_margin_loss_grad_and_errors():
    x = T(rng(8).normal(size=(2, 3)), grad=True)
    y = T((rng(9).random((2, 3)) > 0.5) * 1.0)
    assert gradcheck(lambda a: F.multilabel_soft_margin_loss(a, y, reduction="sum"), (x,))
    with pytest.raises(ValueError, match="bad is not valid"):
        F.multilabel_soft_margin_loss(x, y, reduction="bad")
    with pytest.raises(RuntimeError, match="must match the size of tensor"):
        F.multilabel_soft_margin_loss(x, y, weight=T(np.ones(2)))


# ---------------------------------------------------------------- multi margin

def np_multi_margin(x, t, p=1, margin=1.0, w=None):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != t[i]:
                h = max(0.0, margin - x[i, t[i]] + x[i, j]) ** p
                out[i] += h * (1.0 if w is None else w[t[i]])
    return out / c


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(dtype, reduction, p):
    x = rng(10).normal(size=(5, 4))
    t = np.array([0, 3, 1, 1, 2])
    w = rng(11).random(4) + 0.5
    ref = reduce_np(np_multi_margin(x, t, p, 0.7, w), reduction)
    out = F.multi_margin_loss(T(x, dtype), T(t), p=p, margin=0.7, weight=T(w, dtype), reduction=reduction)
    close(out, ref, dtype)
    close(nn.MultiMarginLoss(p=p, margin=0.7, weight=T(w, dtype), reduction=reduction)(T(x, dtype), T(t)), ref, dtype)
    ref_nw = reduce_np(np_multi_margin(x, t, p), reduction)
    close(F.multi_margin_loss(T(x, dtype), T(t), p=p, reduction=reduction), ref_nw, dtype)


def test_multi_margin_loss_single_sample_shapes():
    x = np.array([0.3, -0.2, 0.9, 0.1])
    ref = np_multi_margin(x[None], np.array([2]))[0]
    out = F.multi_margin_loss(T(x), T(np.array(2)), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), ref)
    out = F.multi_margin_loss(T(x), T(np.array([2])), reduction="none")
    assert out.shape == (1,)
    np.testing.assert_allclose(out.numpy(), [ref])


def test_multi_margin_loss_grad():
    x = away((3, 4), seed=12, points=())
    t = np.array([1, 0, 3])
    # keep margin - x[y] + x[i] away from the hinge at 0
    d = 1.0 - x[np.arange(3), t][:, None] + x
    assert np.all(np.abs(d) > 0.02)
    w = T(rng(13).random(4) + 0.5)
    for p in (1, 2):
        assert gradcheck(lambda a: F.multi_margin_loss(a, T(t), p=p, weight=w), (T(x, grad=True),))


def test_multi_margin_loss_errors():
    x, t = T(rng(14).normal(size=(3, 4))), T(np.array([0, 3, 1]))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, t, p=3)
    with pytest.raises(ValueError, match="weight must be one-dimensional"):
        F.multi_margin_loss(x, t, weight=T(np.ones((2, 2))))
    with pytest.raises(RuntimeError, match=r"inconsistent weight size, expected 4 but got \[3\]"):
        F.multi_margin_loss(x, t, weight=T(np.ones(3)))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, T(np.array([0, 4, 1])))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, T(np.array([0, -1, 1])))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3\], but got \[2\]"):
        F.multi_margin_loss(x, T(np.array([0, 1])))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.multi_margin_loss(x, T(np.array([0.0, 1.0, 2.0]), torch.float32))
    with pytest.raises(RuntimeError, match="Expected non-empty vector or matrix"):
        F.multi_margin_loss(T(np.zeros((2, 3, 4))), T(np.zeros((2, 3), dtype=np.int64)))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.multi_margin_loss(x, t, reduction="bad")
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)


# ---------------------------------------------------------------- multilabel margin

def np_multilabel_margin(x, y):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        tgt = []
        for v in y[i]:
            if v == -1:
                break
            tgt.append(v)
        for j in tgt:
            for k in range(c):
                if k not in tgt:
                    out[i] += max(0.0, 1.0 - (x[i, j] - x[i, k]))
    return out / c


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(dtype, reduction):
    x = rng(15).normal(size=(4, 5))
    y = np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [-1, 1, 2, 3, 0], [4, 4, -1, 0, 0]])
    ref = reduce_np(np_multilabel_margin(x, y), reduction)
    close(F.multilabel_margin_loss(T(x, dtype), T(y), reduction=reduction), ref, dtype)
    close(nn.MultiLabelMarginLoss(reduction=reduction)(T(x, dtype), T(y)), ref, dtype)


def test_multilabel_margin_loss_1d_grad_and_errors():
    x = np.array([0.1, 0.5, -0.3, 0.8])
    y = np.array([3, 0, -1, 1])
    out = F.multilabel_margin_loss(T(x), T(y), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), np_multilabel_margin(x[None], y[None])[0])
    xg = np.array([[0.1, 0.52, -0.33, 0.81], [1.2, -0.4, 0.25, 0.0]])
    yg = T(np.array([[3, 0, -1, 1], [2, -1, 0, 0]]))
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, yg), (T(xg, grad=True),))
    xt = T(rng(16).normal(size=(3, 4)))
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[2, 4\] for input of size: \[3, 4\]"):
        F.multilabel_margin_loss(xt, T(np.zeros((2, 4), dtype=np.int64)))
    with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
        F.multilabel_margin_loss(xt, T(np.full((3, 4), 4)))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.multilabel_margin_loss(xt, T(np.zeros((3, 4)), torch.float32))


# ---------------------------------------------------------------- hinge embedding

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(dtype, reduction):
    x = rng(17).normal(size=(3, 4)) * 2
    y = np.sign(rng(18).normal(size=(3, 4)))
    ref = reduce_np(np.where(y == 1, x, np.maximum(0.0, 0.5 - x)), reduction)
    close(F.hinge_embedding_loss(T(x, dtype), T(y, dtype), margin=0.5, reduction=reduction), ref, dtype)
    close(nn.HingeEmbeddingLoss(margin=0.5, reduction=reduction)(T(x, dtype), T(y, dtype)), ref, dtype)


def test_hinge_embedding_loss_grad_and_legacy():
    x = away((2, 3), seed=19, points=(1.0,))
    y = T(np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]]))
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, y), (T(x, grad=True),))
    with pytest.warns(UserWarning):
        m = nn.HingeEmbeddingLoss(reduce=False)
    assert m.reduction == "none"
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.hinge_embedding_loss(T(x), y, reduction="bad")


# ---------------------------------------------------------------- triplet margin

def np_pdist_rows(a, b, p, eps):
    d = np.abs(a - b + eps)
    if p == np.inf:
        return d.max(-1)
    return (d ** p).sum(-1) ** (1.0 / p)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss(dtype, reduction, swap):
    a, p, n = (rng(s).normal(size=(5, 3)) for s in (20, 21, 22))
    for norm in (1.0, 2.0, 3.0):
        dn = np_pdist_rows(a, n, norm, 1e-6)
        if swap:
            dn = np.minimum(dn, np_pdist_rows(p, n, norm, 1e-6))
        ref = reduce_np(np.maximum(0.0, 1.5 + np_pdist_rows(a, p, norm, 1e-6) - dn), reduction)
        args = (T(a, dtype), T(p, dtype), T(n, dtype))
        close(F.triplet_margin_loss(*args, margin=1.5, p=norm, swap=swap, reduction=reduction), ref, dtype)
        m = nn.TripletMarginLoss(margin=1.5, p=norm, swap=swap, reduction=reduction)
        close(m(*args), ref, dtype)


def test_triplet_margin_loss_grad_and_errors():
    a, p, n = (T(rng(s).normal(size=(3, 4)), grad=True) for s in (23, 24, 25))
    assert gradcheck(lambda x, y, z: F.triplet_margin_loss(x, y, z, margin=3.0, swap=True), (a, p, n))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_loss(a, p, n, margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
        F.triplet_margin_loss(a, p, n[0])
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=-1.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction, swap):
    a, p, n = (rng(s).normal(size=(4, 3)) for s in (26, 27, 28))

    def cos_dist(u, v):
        return 1 - (u * v).sum(-1) / np.sqrt((u * u).sum(-1) * (v * v).sum(-1))

    dn = cos_dist(a, n)
    if swap:
        dn = np.minimum(dn, cos_dist(p, n))
    ref = reduce_np(np.maximum(0.0, 0.8 + cos_dist(a, p) - dn), reduction)
    fn = lambda u, v: 1.0 - F.cosine_similarity(u, v)  # noqa: E731
    args = (T(a), T(p), T(n))
    close(F.triplet_margin_with_distance_loss(*args, distance_function=fn, margin=0.8, swap=swap,
                                              reduction=reduction), ref)
    m = nn.TripletMarginWithDistanceLoss(distance_function=fn, margin=0.8, swap=swap, reduction=reduction)
    close(m(*args), ref)
    # default distance: pairwise_distance (p=2, eps=1e-6)
    dn = np_pdist_rows(a, n, 2, 1e-6)
    if swap:
        dn = np.minimum(dn, np_pdist_rows(p, n, 2, 1e-6))
    ref = reduce_np(np.maximum(0.0, 1.0 + np_pdist_rows(a, p, 2, 1e-6) - dn), reduction)
    close(F.triplet_margin_with_distance_loss(*args, swap=swap, reduction=reduction), ref)


def test_triplet_margin_with_distance_loss_grad_errors_repr():
    a, p, n = (T(rng(s).normal(size=(3, 4)), grad=True) for s in (29, 30, 31))
    assert gradcheck(lambda x, y, z: F.triplet_margin_with_distance_loss(x, y, z, margin=3.0), (a, p, n))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.triplet_margin_with_distance_loss(a, p, n, reduction="bad")
    with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
        F.triplet_margin_with_distance_loss(a, p, n, margin=-1)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D inputs"):
        F.triplet_margin_with_distance_loss(a, p[0], n)
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(a, p, n, None)   # distance_function is keyword-only
    m = nn.TripletMarginWithDistanceLoss()
    assert isinstance(m.distance_function, nn.PairwiseDistance)
    assert repr(m) == "TripletMarginWithDistanceLoss(\n  (distance_function): PairwiseDistance()\n)"


# ---------------------------------------------------------------- Poisson / Gaussian NLL

def np_poisson(x, t, log_input, full, eps=1e-8):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        ts = np.where(t > 1, t, 2.0)
        loss = loss + np.where(t > 1, ts * np.log(ts) - ts + 0.5 * np.log(2 * np.pi * ts), 0.0)
    return loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", list(itertools.product([True, False], [True, False])))
def test_poisson_nll_loss(dtype, reduction, log_input, full):
    x = rng(32).random((3, 4)) * 2 + 0.1
    t = np.floor(rng(33).random((3, 4)) * 5)     # counts 0..4, so some are <= 1
    ref = reduce_np(np_poisson(x, t, log_input, full), reduction)
    out = F.poisson_nll_loss(T(x, dtype), T(t, dtype), log_input=log_input, full=full, reduction=reduction)
    close(out, ref, dtype)
    m = nn.PoissonNLLLoss(log_input=log_input, full=full, reduction=reduction)
    close(m(T(x, dtype), T(t, dtype)), ref, dtype)


def test_poisson_nll_loss_grad_and_errors():
    x = T(rng(34).random((2, 3)) + 0.2, grad=True)
    t = T(np.array([[0.3, 1.5, 2.0], [3.0, 4.5, 0.5]]), grad=True)   # away from the jump at 1 (and 0)
    for li in (True, False):
        assert gradcheck(lambda a, b: F.poisson_nll_loss(a, b, log_input=li, full=True), (x, t))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.poisson_nll_loss(x, t, reduction="bad")
    with pytest.raises(RuntimeError, match="must match the size of tensor"):
        F.poisson_nll_loss(x, t[:1].expand(1, 3)[:, :2])


def np_gaussian(x, t, var, full, eps=1e-6):
    v = np.maximum(var, eps)
    loss = 0.5 * (np.log(v) + (x - t) ** 2 / v)
    return loss + 0.5 * np.log(2 * np.pi) if full else loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(dtype, reduction, full):
    x, t = rng(35).normal(size=(3, 4)), rng(36).normal(size=(3, 4))
    var = rng(37).random((3, 4)) + 0.1
    var[0, 0] = 1e-9          # clamped to eps
    cases = [(var, var), (var[:, 0], var[:, :1]), (var[:, :1], var[:, :1]), (var[:1], var[:1])]
    for v, v_np in cases:
        ref = reduce_np(np_gaussian(x, t, v_np, full), reduction)
        close(F.gaussian_nll_loss(T(x, dtype), T(t, dtype), T(v, dtype), full=full, reduction=reduction), ref, dtype)
        m = nn.GaussianNLLLoss(full=full, reduction=reduction)
        close(m(T(x, dtype), T(t, dtype), T(v, dtype)), ref, dtype)
    ref = reduce_np(np_gaussian(x, t, np.full((3, 4), 0.5), full), reduction)
    close(F.gaussian_nll_loss(T(x, dtype), T(t, dtype), 0.5, full=full, reduction=reduction), ref, dtype)


def test_gaussian_nll_loss_grad_clamp_and_errors():
    x, t = T(rng(38).normal(size=(2, 3)), grad=True), T(rng(39).normal(size=(2, 3)), grad=True)
    v = T(rng(40).random((2, 3)) + 0.5, grad=True)
    assert gradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c, full=True), (x, t, v))
    # The clamp of var is not differentiated: d/dvar is the formula's derivative at max(var, eps).
    v0 = T(np.array([1e-9, 2.0]), grad=True)
    xs, ts = T(np.array([0.0, 0.0])), T(np.array([1e-3, 1.0]))
    F.gaussian_nll_loss(xs, ts, v0, reduction="sum").backward()
    vc = np.array([1e-6, 2.0])
    d2 = np.array([1e-6, 1.0])
    np.testing.assert_allclose(v0.grad.numpy(), 0.5 * (1 / vc - d2 / vc ** 2), rtol=1e-10)
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(x, t, -1.0)
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(x, t, T(-np.ones((2, 3))))
    for bad in (np.ones(3), np.ones((1, 1)), np.ones((2, 3, 1))):
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(x, t, T(bad))
    with pytest.raises(ValueError, match="bad is not valid"):
        F.gaussian_nll_loss(x, t, v, reduction="bad")


# ---------------------------------------------------------------- pdist and distance layers

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 0.5, 3.0, math.inf])
def test_pdist(dtype, p):
    x = rng(41).normal(size=(5, 3))
    x[3] = x[1]
    ref = []
    for i in range(5):
        for j in range(i + 1, 5):
            d = np.abs(x[i] - x[j])
            if p == 0:
                ref.append(float((d != 0).sum()))
            elif p == math.inf:
                ref.append(d.max())
            else:
                ref.append((d ** p).sum() ** (1 / p))
    close(F.pdist(T(x, dtype), p), np.array(ref), dtype)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0])
def test_pdist_grad_at_equal_rows_is_zero_for_that_pair(p):
    x = rng(51).normal(size=(3, 2))
    x[2] = x[0]
    xt = T(x, grad=True)
    F.pdist(xt, p).sum().backward()
    ref = np.zeros_like(x)
    for i, j in [(0, 1), (1, 2)]:        # the (0, 2) pair has distance 0 and contributes nothing
        d = x[i] - x[j]
        g = np.sign(d) * np.abs(d) ** (p - 1) / (np.abs(d) ** p).sum() ** ((p - 1) / p)
        ref[i] += g
        ref[j] -= g
    np.testing.assert_allclose(xt.grad.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_pdist_grad_edges_and_errors():
    assert gradcheck(lambda a: F.pdist(a), (T(rng(42).normal(size=(4, 3)), grad=True),))
    assert gradcheck(lambda a: F.pdist(a, 1.5), (T(rng(43).normal(size=(3, 2)), grad=True),))
    assert F.pdist(T(np.ones((1, 3)))).shape == (0,)
    assert F.pdist(T(np.ones((0, 3)))).shape == (0,)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 1D"):
        F.pdist(T(np.ones(4)))
    with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
        F.pdist(T(np.ones((3, 2))), -1)
    with pytest.raises(RuntimeError, match="pdist only supports floating-point dtypes"):
        F.pdist(T(np.ones((3, 2), dtype=np.int64)))


def test_distance_modules():
    a, b = rng(44).normal(size=(3, 4)), rng(45).normal(size=(3, 4))
    m = nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True)
    assert (m.norm, m.eps, m.keepdim) == (1.0, 1e-3, True)
    close(m(T(a), T(b)), np.abs(a - b + 1e-3).sum(-1, keepdims=True))
    c = nn.CosineSimilarity(dim=0)
    ref = (a * b).sum(0) / (np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0))
    close(c(T(a), T(b)), ref)
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()"
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    assert nn.CosineSimilarity().dim == 1 and nn.CosineSimilarity().eps == 1e-8


# ---------------------------------------------------------------- CTC

def np_ctc_nll(lp, target, blank):
    """-log p(target | lp) by the CTC forward algorithm in log space (lp: (T, C) of one sample)."""
    ext = [blank]
    for c in target:
        ext += [c, blank]
    s_len, t_len = len(ext), lp.shape[0]
    if t_len == 0:
        return 0.0 if len(target) == 0 else np.inf
    alpha = np.full(s_len, -np.inf)
    alpha[0] = lp[0, blank]
    if s_len > 1:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, t_len):
        new = np.full(s_len, -np.inf)
        for s in range(s_len):
            terms = [alpha[s]]
            if s > 0:
                terms.append(alpha[s - 1])
            if s > 1 and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
        alpha = new
    ends = [alpha[-1]] + ([alpha[-2]] if s_len > 1 else [])
    return -np.logaddexp.reduce(ends)


def np_ctc_brute(lp, target, blank):
    """-log of the summed probability of every path that collapses to target (tiny T only)."""
    t_len, c = lp.shape
    total = -np.inf
    for path in itertools.product(range(c), repeat=t_len):
        out, prev = [], None
        for k in path:
            if k != prev and k != blank:
                out.append(k)
            prev = k
        if out == list(target):
            total = np.logaddexp(total, sum(lp[t, k] for t, k in enumerate(path)))
    return -total


def np_log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def test_ctc_reference_agrees_with_brute_force():
    lp = np_log_softmax(rng(46).normal(size=(4, 3)))
    for target in ([1], [1, 2], [2, 2], [1, 1], []):
        np.testing.assert_allclose(np_ctc_nll(lp, target, 0), np_ctc_brute(lp, target, 0), rtol=1e-12)


def ctc_case(seed=47):
    lp = np_log_softmax(rng(seed).normal(size=(7, 4, 5)), 2)
    targets = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 0, 0, 0], [2, 3, 4, 1]])
    il = np.array([7, 6, 3, 2])          # sample 3 is too short for its 4 labels: inf
    tl = np.array([3, 2, 0, 4])
    return lp, targets, il, tl


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss(dtype, reduction, zero_infinity):
    lp, targets, il, tl = ctc_case()
    nll = np.array([np_ctc_nll(lp[:il[b], b], targets[b, :tl[b]], 0) for b in range(4)])
    assert np.isinf(nll[3]) and np.all(np.isfinite(nll[:3]))
    if zero_infinity:
        nll = np.where(np.isinf(nll), 0.0, nll)
    ref = {"none": nll, "sum": nll.sum(), "mean": (nll / np.maximum(tl, 1)).mean()}[reduction]
    out = F.ctc_loss(T(lp, dtype), T(targets), T(il), T(tl), reduction=reduction, zero_infinity=zero_infinity)
    close(out, ref, dtype)
    # concatenated targets give the same loss
    cat = np.concatenate([targets[b, :tl[b]] for b in range(4)])
    out = F.ctc_loss(T(lp, dtype), T(cat), T(il), T(tl), reduction=reduction, zero_infinity=zero_infinity)
    close(out, ref, dtype)
    m = nn.CTCLoss(reduction=reduction, zero_infinity=zero_infinity)
    close(m(T(lp, dtype), T(targets), T(il), T(tl)), ref, dtype)


def test_ctc_loss_blank_unnormalised_unbatched_and_int_lengths():
    x = rng(48).normal(size=(5, 2, 4))        # not normalised: the recursion uses the values as given
    targets = np.array([[0, 0, 1], [3, 0, 0]])
    il, tl = np.array([5, 4]), np.array([3, 1])
    ref = np.array([np_ctc_nll(x[:il[b], b], targets[b, :tl[b]], 2) for b in range(2)])
    close(F.ctc_loss(T(x), T(targets), T(il), T(tl), blank=2, reduction="none"), ref)
    close(F.ctc_loss(T(x), T(targets), [5, 4], (3, 1), blank=2, reduction="none"), ref)
    out = F.ctc_loss(T(x[:, 0]), T(targets[0]), T(np.array(5)), T(np.array(3)), blank=2, reduction="none")
    close(out, np.array(ref[0]))


def test_ctc_loss_grad():
    logits = T(rng(49).normal(size=(5, 2, 4)), grad=True)
    targets, il, tl = T(np.array([[1, 2], [3, 3]])), T(np.array([5, 5])), T(np.array([2, 2]))
    fn = lambda z: F.ctc_loss(z.log_softmax(2), targets, il, tl)  # noqa: E731
    assert gradcheck(fn, (logits,))
    # zero_infinity: the infeasible sample contributes neither loss nor gradient
    tl_bad = T(np.array([2, 5]))
    tg_bad = T(np.array([[1, 2, 0, 0, 0], [1, 1, 1, 1, 1]]))   # 5 repeats need 9 frames
    z = T(rng(50).normal(size=(5, 2, 4)), grad=True)
    F.ctc_loss(z.log_softmax(2), tg_bad, il, tl_bad, reduction="sum", zero_infinity=True).backward()
    g = z.grad.numpy()
    assert np.all(np.isfinite(g)) and np.all(g[:, 1] == 0) and np.any(g[:, 0] != 0)


def test_ctc_loss_errors():
    lp, targets, il, tl = (T(a) for a in ctc_case())
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.ctc_loss(lp, targets, il, tl, reduction="bad")
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, targets, il, tl, blank=5)
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, targets, il[:3], tl)
    with pytest.raises(RuntimeError, match="input_lengths must be integral"):
        F.ctc_loss(lp, targets, T(np.array([7.0, 6.0, 3.0, 2.0])), tl)
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 7, but got value 8"):
        F.ctc_loss(lp, targets, T(np.array([8, 6, 3, 2])), tl)
    with pytest.raises(RuntimeError, match="Expected target_lengths to have value at least 0, but got value -1"):
        F.ctc_loss(lp, targets, il, T(np.array([3, 2, -1, 4])))
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 5 at dimension 1, but got size 4"):
        F.ctc_loss(lp, targets, il, T(np.array([5, 2, 0, 4])))
    with pytest.raises(RuntimeError, match="Expected tensor to have size 9 at dimension 0, but got size 2"):
        F.ctc_loss(lp, T(np.array([1, 2])), il, tl)
    with pytest.raises(RuntimeError, match="Expected 1 to 2 dimensions, but got 3-dimensional tensor"):
        F.ctc_loss(lp, targets[None], il, tl)
    with pytest.raises(RuntimeError, match="log_probs tensor must not be empty"):
        F.ctc_loss(lp[:, :0], targets[:0], il[:0], tl[:0])


def test_loss_module_reprs_and_attributes():
    assert repr(nn.SoftMarginLoss()) == "SoftMarginLoss()"
    assert repr(nn.CTCLoss()) == "CTCLoss()"
    assert repr(nn.MultiMarginLoss()) == "MultiMarginLoss()"
    m = nn.MultiMarginLoss(p=2, margin=0.5, weight=T(np.ones(3)))
    assert (m.p, m.margin, m.reduction) == (2, 0.5, "mean") and list(m.state_dict()) == ["weight"]
    c = nn.CTCLoss(blank=3, reduction="sum", zero_infinity=True)
    assert (c.blank, c.reduction, c.zero_infinity) == (3, "sum", True)
    t = nn.TripletMarginLoss()
    assert (t.margin, t.p, t.eps, t.swap) == (1.0, 2.0, 1e-6, False)
    p = nn.PoissonNLLLoss()
    assert (p.log_input, p.full, p.eps) == (True, False, 1e-8)
    g = nn.GaussianNLLLoss()
    assert (g.full, g.eps, g.reduction) == (False, 1e-6, "mean")
    with pytest.warns(UserWarning):
        assert nn.MultiLabelMarginLoss(size_average=False).reduction == "sum"
