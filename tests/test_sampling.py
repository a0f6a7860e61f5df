"""torch.bernoulli / torch.multinomial (python/ferrotorch/_sampling.py): distributions checked
against the exact probabilities (binomial standard errors), shapes, dtypes, errors as PyTorch."""
import numpy as np
import pytest

import ferrotorch as torch


def within(freq, p, n, sigmas=5.0):
    """Observed frequencies agree with probabilities p for n draws (binomial std errors)."""
    freq, p = np.asarray(freq, np.float64), np.asarray(p, np.float64)
    se = np.sqrt(np.maximum(p * (1 - p), 1e-12) / n)
    assert np.all(np.abs(freq - p) <= sigmas * se + 1e-12), (freq, p)


P = np.array([0.1, 0.0, 0.3, 0.6])


def test_multinomial_with_replacement_frequencies():
    torch.manual_seed(0)
    n = 200_000
    s = torch.multinomial(torch.tensor(P * 7.0), n, replacement=True)  # unnormalised weights
    assert s.dtype == torch.int64 and s.shape == (n,)
    counts = np.bincount(s.numpy(), minlength=4)
    assert counts[1] == 0  # a zero-weight category is never drawn
    within(counts / n, P, n)


def test_multinomial_rows_are_independent_distributions():
    w = torch.tensor([[0.0, 0.0, 1.0], [1.0, 1.0, 2.0]], dtype=torch.float64)
    s = torch.multinomial(w, 40_000, replacement=True, generator=torch.Generator().manual_seed(3))
    assert s.shape == (2, 40_000)
    assert (s[0] == 2).all()
    within(np.bincount(s[1].numpy(), minlength=3) / 40_000, [0.25, 0.25, 0.5], 40_000)


def test_multinomial_without_replacement_draws_sequentially():
    # Reference: sampling without replacement one draw at a time. First draw ~ p; second
    # draw j ~ sum_i p_i * p_j / (1 - p_i) over i != j.
    p = np.array([0.5, 0.3, 0.15, 0.05])
    rows = 30_000
    torch.manual_seed(1)
    s = torch.multinomial(torch.tensor(p).expand(rows, 4).contiguous(), 2).numpy()
    assert (s[:, 0] != s[:, 1]).all()
    within(np.bincount(s[:, 0], minlength=4) / rows, p, rows)
    second = [sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)]
    within(np.bincount(s[:, 1], minlength=4) / rows, second, rows)


def test_multinomial_without_replacement_all_categories():
    torch.manual_seed(2)
    w = torch.tensor([[1.0, 0.0, 3.0, 2.0, 0.0]] * 50)
    s = torch.multinomial(w, 5).numpy()
    for row in s:
        assert sorted(row) == [0, 1, 2, 3, 4]  # a permutation
        assert set(row[:3]) == {0, 2, 3}  # positive weights come before zero weights


def test_multinomial_generator_reproducible_and_chunked(monkeypatch):
    w = torch.rand(3, 50, generator=torch.Generator().manual_seed(9))
    a = torch.multinomial(w, 64, True, generator=torch.Generator().manual_seed(4))
    if hasattr(torch, "_sampling"):  # (absent under the PyTorch reference shim)
        monkeypatch.setattr(torch._sampling, "_BOOL_CHUNK", 7 * 150)  # several chunks of 7 samples
    b = torch.multinomial(w, 64, True, generator=torch.Generator().manual_seed(4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = w.multinomial(64, replacement=True, generator=torch.Generator().manual_seed(5))
    assert not np.array_equal(a.numpy(), c.numpy())
    out = torch.empty(3, 64, dtype=torch.int64)
    assert torch.multinomial(w, 64, True, generator=torch.Generator().manual_seed(4), out=out) is out
    np.testing.assert_array_equal(out.numpy(), a.numpy())
    assert torch.multinomial(torch.zeros(0, 3), 2, True).shape == (0, 2)


@pytest.mark.parametrize("args,msg", [
    ((torch.tensor([1.0, -1.0]), 1), "either `inf`, `nan` or element < 0"),
    ((torch.tensor([1.0, float("inf")]), 1), "either `inf`, `nan` or element < 0"),
    ((torch.tensor([1.0, float("nan")]), 1), "either `inf`, `nan` or element < 0"),
    ((torch.tensor([0.0, 0.0]), 1), r"sum of probabilities <= 0"),
    ((torch.tensor([1.0, 2.0]), 3), "n_sample > prob_dist.size\\(-1\\) samples without replacement"),
    ((torch.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
    ((torch.tensor(1.0), 1), "prob_dist must be 1 or 2 dim"),
    ((torch.tensor([1, 2]), 1), "floating-point dtypes for input, got: Long"),
    ((torch.tensor([1.0, 2.0]), 0), "cannot sample n_sample <= 0 samples"),
])
def test_multinomial_errors(args, msg):
    before = args[0].clone()
    with pytest.raises(RuntimeError, match=msg):
        torch.multinomial(*args)
    assert torch.equal(args[0].isnan(), before.isnan())  # input untouched


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_bernoulli_frequencies(dtype):
    n = 50_000
    p = torch.tensor([0.0, 0.25, 0.9, 1.0], dtype=dtype).expand(n, 4)
    torch.manual_seed(5)
    b = torch.bernoulli(p)
    assert b.dtype == dtype and b.shape == (n, 4)
    v = b.double().numpy()
    assert set(np.unique(v)) <= {0.0, 1.0}
    within(v.mean(0), [0.0, 0.25, 0.9, 1.0], n)


def test_bernoulli_scalar_p_and_in_place():
    torch.manual_seed(6)
    x = torch.zeros(40_000)
    within([torch.bernoulli(x, 0.3).mean().item()], [0.3], 40_000)
    within([x.bernoulli(0.7).mean().item()], [0.7], 40_000)
    i = torch.ones(40_000, dtype=torch.int64)
    assert i.bernoulli_(0.5) is i and i.dtype == torch.int64
    within([i.double().mean().item()], [0.5], 40_000)
    y = torch.empty(3, 40_000)
    y.bernoulli_(torch.tensor([[0.0], [0.5], [1.0]]))
    within(y.double().mean(1).numpy(), [0.0, 0.5, 1.0], 40_000)
    # same generator state, same draws
    g1, g2 = torch.Generator().manual_seed(8), torch.Generator().manual_seed(8)
    q = torch.rand(100)
    assert torch.equal(torch.bernoulli(q, generator=g1), q.bernoulli(generator=g2))


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: torch.bernoulli(torch.tensor([1.5])), RuntimeError, r"Expected p_in >= 0 && p_in <= 1"),
    (lambda: torch.bernoulli(torch.tensor([0.5]), 2.0), RuntimeError, r"expects p to be in \[0, 1\], but got p=2"),
    (lambda: torch.ones(3).bernoulli_(-0.5), RuntimeError, r"but got p=-0.5"),
    (lambda: torch.bernoulli(torch.tensor([1, 0])), NotImplementedError, "not implemented for 'Long'"),
])
def test_bernoulli_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_bernoulli_in_place_error_leaves_tensor():
    x = torch.ones(3)
    with pytest.raises(RuntimeError):
        x.bernoulli_(1.5)
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_sampling_is_not_differentiable_and_keeps_grad_mode():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    for r in (torch.multinomial(w, 2), torch.bernoulli(w.detach() / 2)):
        assert not r.requires_grad
    assert torch.is_grad_enabled()
