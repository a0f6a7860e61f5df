"""torch.optim.swa_utils: AveragedModel (SWA running mean, EMA through multi_avg_fn and avg_fn,
use_buffers), SWALR's annealing against its closed form, update_bn against NumPy batch statistics."""
import math

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import nn, optim
from ferrotorch.optim.swa_utils import (
    SWALR, AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn, get_swa_avg_fn, get_swa_multi_avg_fn, update_bn,
)


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def snapshots(m, n):
    """n successive parameter states of m (each a list of float64 arrays), set into m one after another."""
    rng = np.random.default_rng(1)
    for _ in range(n):
        vals = [rng.standard_normal(tuple(p.shape)) for p in m.parameters()]
        with torch.no_grad():
            for p, v in zip(m.parameters(), vals):
                p.copy_(torch.tensor(v, dtype=p.dtype))
        yield [np.asarray(v, dtype=np.float32).astype(np.float64) for v in vals]


def params_np(m):
    return [p.detach().numpy().astype(np.float64) for p in m.parameters()]


def test_swa_running_mean():
    m = model()
    avg = AveragedModel(m)
    seen = []
    for vals in snapshots(m, 5):
        avg.update_parameters(m)
        seen.append(vals)
        want = [np.mean([s[i] for s in seen], axis=0) for i in range(len(vals))]
        for got, w in zip(params_np(avg.module), want):
            np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)
    assert int(avg.n_averaged) == 5 and avg.n_averaged.dtype == torch.int64


@pytest.mark.parametrize("how", ["multi", "single"])
def test_ema(how):
    decay = 0.8
    m = model()
    kw = {"multi_avg_fn": get_ema_multi_avg_fn(decay)} if how == "multi" else {"avg_fn": get_ema_avg_fn(decay)}
    avg = AveragedModel(m, **kw)
    ema = None
    for vals in snapshots(m, 4):
        avg.update_parameters(m)
        # the first update copies; then ema = decay * ema + (1 - decay) * param
        ema = vals if ema is None else [decay * e + (1 - decay) * v for e, v in zip(ema, vals)]
        for got, w in zip(params_np(avg.module), ema):
            np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)


def test_swa_avg_fn_matches_multi():
    m = model()
    a = AveragedModel(m, avg_fn=get_swa_avg_fn())
    b = AveragedModel(m, multi_avg_fn=get_swa_multi_avg_fn())
    for _ in snapshots(m, 3):
        a.update_parameters(m)
        b.update_parameters(m)
    for x, y in zip(params_np(a.module), params_np(b.module)):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


def test_buffers_copied_or_averaged():
    m = model()
    bn = m[1]
    plain, with_buffers = AveragedModel(m), AveragedModel(m, use_buffers=True)
    means = []
    for k in range(3):
        with torch.no_grad():
            bn.running_mean.copy_(torch.full((4,), float(k + 1)))
        means.append(k + 1)
        plain.update_parameters(m)
        with_buffers.update_parameters(m)
    # without use_buffers the buffers are the model's latest; with it, averaged (SWA mean of 1, 2, 3)
    assert plain.module[1].running_mean.tolist() == [3.0] * 4
    np.testing.assert_allclose(with_buffers.module[1].running_mean.numpy(), [2.0] * 4, rtol=1e-6)


def test_integer_buffer_average_truncates():
    # num_batches_tracked 1, 4, 7 averaged in int64: 1, trunc(1 + 3/2) = 2, trunc(2 + 5/3) = 3 (PyTorch: 3)
    m = model()
    avg = AveragedModel(m, use_buffers=True)
    for k in range(3):
        m[1].num_batches_tracked.fill_(3 * k + 1)
        avg.update_parameters(m)
    assert avg.module[1].num_batches_tracked.item() == 3


def test_forward_and_bad_args():
    m = model().eval()
    avg = AveragedModel(m)
    x = torch.randn(5, 3)
    np.testing.assert_allclose(avg(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        AveragedModel(m, avg_fn=get_swa_avg_fn(), multi_avg_fn=get_swa_multi_avg_fn())
    for fn in (get_ema_avg_fn, get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\] range."):
            fn(1.5)


def test_update_bn():
    m = model()
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(4)]
    loader = [(torch.tensor(b), torch.zeros(6)) for b in batches]
    m.eval()
    bn = m[1]
    with torch.no_grad():
        bn.running_mean.fill_(5.0)
    update_bn(loader, m)
    assert not m.training and bn.momentum == 0.1
    # momentum None while it runs: the running stats are the plain mean over batches of each batch's stats
    w = m[0].weight.detach().numpy().astype(np.float64)
    b = m[0].bias.detach().numpy().astype(np.float64)
    hs = [x.astype(np.float64) @ w.T + b for x in batches]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([h.mean(0) for h in hs], axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([h.var(0, ddof=1) for h in hs], axis=0),
                               rtol=1e-4, atol=1e-5)
    assert int(bn.num_batches_tracked) == 4


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr(strategy):
    # lr_k = swa_lr * a(k) + lr0 * (1 - a(k)), k scheduler steps so far, t = min(1, k / anneal_epochs),
    # a = (1 - cos(pi t)) / 2 ('cos') or t ('linear')
    opt = optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.5)
    s = SWALR(opt, swa_lr=0.05, anneal_epochs=7, anneal_strategy=strategy)
    for k in range(30):
        t = min(1.0, k / 7)
        a = (1 - math.cos(math.pi * t)) / 2 if strategy == "cos" else t
        assert math.isclose(opt.param_groups[0]["lr"], 0.05 * a + 0.5 * (1 - a), rel_tol=1e-12)
        opt.step()
        s.step()


def test_swalr_bad_args():
    opt = optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        SWALR(opt, 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        SWALR(opt, 0.1, anneal_epochs=-1)
