"""torch.bernoulli / torch.multinomial (python/ferrotorch/_random.py): distributions checked
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
    if hasattr(getattr(torch, "_random", None), "_BOOL_CHUNK"):  # (absent under the PyTorch reference shim)
        monkeypatch.setattr(torch._random, "_BOOL_CHUNK", 7 * 150)  # several chunks of 7 samples
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


# ---------------------------------------------------------------- in-place samplers
# Continuous draws are checked with a Kolmogorov-Smirnov statistic against the exact CDF
# (float64 NumPy); 2.2/sqrt(n) is exceeded by chance with probability ~ 1e-4.
N = 100_000


def ks_ok(samples, cdf):
    x = np.sort(np.asarray(samples, np.float64))
    n = len(x)
    f = cdf(x)
    i = np.arange(1, n + 1)
    d = max(np.max(i / n - f), np.max(f - (i - 1) / n))
    assert d < 2.2 / np.sqrt(n), d


def test_exponential_matches_cdf_and_returns_self():
    torch.manual_seed(0)
    t = torch.empty(N)
    assert t.exponential_(2.5) is t
    assert (t >= 0).all()
    ks_ok(t.numpy(), lambda x: 1 - np.exp(-2.5 * x))


def test_exponential_float64_default_rate():
    t = torch.empty(N, dtype=torch.float64).exponential_(generator=torch.Generator().manual_seed(1))
    assert t.dtype == torch.float64
    ks_ok(t.numpy(), lambda x: 1 - np.exp(-x))


def test_cauchy_matches_cdf():
    torch.manual_seed(2)
    t = torch.empty(N).cauchy_(1.5, 0.5)
    ks_ok(t.numpy(), lambda x: 0.5 + np.arctan((x - 1.5) / 0.5) / np.pi)


def test_log_normal_matches_cdf():
    from math import erf
    torch.manual_seed(3)
    t = torch.empty(N, dtype=torch.float64).log_normal_(0.5, 0.75)
    assert (t > 0).all()
    ks_ok(np.log(t.numpy()), np.vectorize(lambda z: 0.5 * (1 + erf((z - 0.5) / (0.75 * np.sqrt(2))))))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.int64])
def test_geometric_frequencies(dtype):
    p = 0.3
    torch.manual_seed(4)
    t = torch.empty(N, dtype=dtype).geometric_(p)
    assert t.dtype == dtype
    v = t.numpy().astype(np.int64)
    assert v.min() >= 1 and np.all(v == t.numpy())  # whole numbers, trials up to the first success
    k = np.arange(1, 8)
    within([np.mean(v == j) for j in k], p * (1 - p) ** (k - 1), N)


@pytest.mark.parametrize("dtype,lo,hi", [(torch.int64, -7, 5), (torch.uint8, 3, 9), (torch.int8, -128, -120),
                                         (torch.float32, -2, 4), (torch.float16, 0, 6), (torch.bool, 0, 2)])
def test_random_from_to_is_uniform(dtype, lo, hi):
    torch.manual_seed(5)
    t = torch.empty(N, dtype=dtype).random_(lo, hi)
    assert t.dtype == dtype
    v = t.numpy().astype(np.int64)
    assert v.min() >= lo and v.max() < hi
    k = hi - lo
    within(np.bincount(v - lo, minlength=k) / N, np.full(k, 1 / k), N)


def test_random_to_only_and_keywords():
    g = torch.Generator().manual_seed(6)
    a = torch.empty(1000, dtype=torch.int64).random_(4, generator=g)  # random_(to): [0, to)
    assert set(a.tolist()) == {0, 1, 2, 3}
    b = torch.empty(1000, dtype=torch.int64).random_(**{"from": 10, "to": 12})
    assert set(b.tolist()) == {10, 11}
    c = torch.empty(1000).random_(to=2)
    assert set(c.tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("dtype,top", [(torch.uint8, 255), (torch.int8, 127), (torch.int16, 32767),
                                       (torch.float32, 2 ** 24), (torch.float16, 2 ** 11), (torch.bool, 1)])
def test_random_default_range(dtype, top):
    # [0, max] for integer dtypes, [0, 2**digits] (integers a float holds exactly) for floats.
    torch.manual_seed(7)
    v = torch.empty(N, dtype=dtype).random_().numpy().astype(np.float64)
    assert v.min() >= 0 and v.max() <= top and np.all(v == np.round(v))
    within(np.mean(v <= top / 2), 0.5, N, sigmas=6)  # uniform over the range: half lie below its middle


def test_random_default_int64_covers_the_range():
    torch.manual_seed(8)
    v = torch.empty(N, dtype=torch.int64).random_().numpy()
    assert v.min() >= 0
    within(np.mean(v >= 2 ** 62), 0.5, N)


def test_samplers_follow_the_generator():
    for name, args in [("random_", (0, 100)), ("exponential_", ()), ("geometric_", (0.2,)), ("cauchy_", ()),
                       ("log_normal_", ())]:
        a = getattr(torch.empty(50), name)(*args, generator=torch.Generator().manual_seed(11))
        b = getattr(torch.empty(50), name)(*args, generator=torch.Generator().manual_seed(11))
        c = getattr(torch.empty(50), name)(*args, generator=torch.Generator().manual_seed(12))
        assert torch.equal(a, b) and not torch.equal(a, c), name


@pytest.mark.parametrize("call,exc,msg", [
    (lambda t: t.exponential_(0), RuntimeError, "exponential_ expects lambda > 0.0, but found lambda=0"),
    (lambda t: t.long().exponential_(), RuntimeError,
     "Exponential distribution is a continuous probability distribution. dtype must be a floating point but "
     "you specified Long"),
    (lambda t: t.int().cauchy_(), RuntimeError, "dtype must be a floating point but you specified int"),
    (lambda t: t.cauchy_(0, -1), RuntimeError, "cauchy_ expects sigma > 0.0, but found sigma=-1"),
    (lambda t: t.geometric_(1), RuntimeError, "geometric_ expects p to be in (0, 1), but got p=1"),
    (lambda t: t.log_normal_(1, 0), RuntimeError, "log_normal_ expects std > 0.0, but found std=0"),
    (lambda t: t.int().log_normal_(), NotImplementedError, "\"log_normal_cpu\" not implemented for 'Int'"),
    (lambda t: t.random_(5, 5), RuntimeError, "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    (lambda t: t.byte().random_(-1, 5), RuntimeError, "from is out of bounds for unsigned char"),
    (lambda t: t.byte().random_(0, 300), RuntimeError, "to - 1 is out of bounds for unsigned char"),
    (lambda t: t.random_(1, 2, 3), TypeError, "random_()"),
])
def test_sampler_errors_leave_the_tensor_unchanged(call, exc, msg):
    t = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(exc) as e:
        call(t)
    assert msg in str(e.value)
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_random_float_beyond_exact_integers_warns():
    with pytest.warns(UserWarning, match="out of bounds"):
        torch.empty(3).random_(0, 2 ** 25)


# ---------------------------------------------------------------- finfo / iinfo
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_numpy(name):
    f, ref = torch.finfo(getattr(torch, name)), np.finfo(getattr(np, name))
    assert (f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal) == (
        ref.bits, float(ref.eps), float(ref.max), float(ref.min), float(ref.tiny), float(ref.smallest_normal))
    assert f.resolution == 10.0 ** -ref.precision and f.dtype == name
    assert isinstance(f.max, float)


def test_finfo_bfloat16_from_its_bit_layout():
    # bfloat16 is the top half of a float32: widen its bit patterns to read the limits.
    bf = lambda bits: float(np.array([bits << 16], np.uint32).view(np.float32)[0])  # noqa: E731
    f = torch.finfo(torch.bfloat16)
    assert f.max == bf(0x7F7F) and f.min == -bf(0x7F7F) and f.tiny == bf(0x0080)
    assert f.eps == bf(0x3F81) - 1.0 and f.bits == 16 and f.resolution == 0.01


def test_finfo_default_dtype_and_repr():
    assert torch.finfo() == torch.finfo(torch.float32)
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.finfo().dtype == "float64"
    finally:
        torch.set_default_dtype(torch.float32)
    assert repr(torch.finfo(torch.float16)) == ("finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562, "
                                                "smallest_normal=6.10352e-05, tiny=6.10352e-05, dtype=float16)")


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_numpy(name):
    i, ref = torch.iinfo(getattr(torch, name)), np.iinfo(getattr(np, name))
    assert (i.bits, i.min, i.max, i.dtype) == (ref.bits, int(ref.min), int(ref.max), name)
    assert isinstance(i.max, int)


def test_iinfo_repr_and_errors():
    assert repr(torch.iinfo(torch.int32)) == "iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)"
    with pytest.raises(TypeError, match="requires an integer input type"):
        torch.iinfo(torch.float32)
    with pytest.raises(TypeError, match="torch.bool is not supported by torch.iinfo"):
        torch.iinfo(torch.bool)
    with pytest.raises(TypeError, match="requires a floating point input type"):
        torch.finfo(torch.int32)
    with pytest.raises(TypeError, match="must be torch.dtype, not str"):
        torch.finfo("float32")
