"""torch.distributions (python/ferrotorch/distributions/): log_prob / entropy / moments / cdf
against float64 formulas written here, samples against exact CDFs (Kolmogorov-Smirnov) and
moments, shapes, reparameterised gradients, closed-form KL divergences, validation errors."""
import math

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import distributions as D

F64 = torch.float64
N = 20_000
# KS critical value at false-failure probability 1e-4: P(D_n > c) ~ 2 exp(-2 n c^2)
KS_CRIT = math.sqrt(math.log(2 / 1e-4) / (2 * N))
SIGMAS = 4.5  # two-sided normal tail ~7e-6 per check


def t(x):
    return torch.tensor(x, dtype=F64)


def a(x):
    return np.asarray(x.detach().tolist(), dtype=np.float64)


def close(x, y, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a(x) if isinstance(x, torch.Tensor) else x, y, rtol=rtol, atol=atol)


def ks_stat(samples, cdf):
    x = np.sort(np.asarray(samples, np.float64).reshape(-1))
    n = len(x)
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


def check_ks(samples, cdf):
    d = ks_stat(samples, cdf)
    assert d < KS_CRIT, (d, KS_CRIT)


def check_mean(samples, mu, var):
    s = np.asarray(samples, np.float64).reshape(-1)
    assert abs(s.mean() - mu) < SIGMAS * math.sqrt(var / len(s)), (s.mean(), mu)


erf = np.vectorize(math.erf)
lgamma = np.vectorize(math.lgamma)
LOC, SCALE, X = [0.0, 1.0, -1.5], [1.0, 2.0, 0.5], [0.3, 1.2, -2.5]
POS = [0.3, 1.2, 2.5]


# ---------------------------------------------------------------- values vs formulas ----
def test_normal_values():
    mu, sd, x = map(np.array, (LOC, SCALE, X))
    d = D.Normal(t(LOC), t(SCALE))
    close(d.log_prob(t(X)), -(x - mu) ** 2 / (2 * sd ** 2) - np.log(sd) - 0.5 * np.log(2 * np.pi))
    close(d.entropy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(sd))
    close(d.cdf(t(X)), 0.5 * (1 + erf((x - mu) / (sd * np.sqrt(2)))))
    close(d.icdf(d.cdf(t(X))), x, rtol=1e-8)
    close(d.mean, mu), close(d.mode, mu), close(d.variance, sd ** 2), close(d.stddev, sd)


def test_uniform_values():
    lo, hi, x = np.array([0.0, 1.0, -1.0]), np.array([1.0, 3.0, 4.0]), np.array([0.3, 3.5, -1.0])
    d = D.Uniform(t(lo.tolist()), t(hi.tolist()), validate_args=False)
    lp = a(d.log_prob(t(x.tolist())))
    close(lp[[0, 2]], -np.log(hi - lo)[[0, 2]])  # low is inside the support, high is not
    assert lp[1] == -np.inf
    close(d.cdf(t(x.tolist())), np.clip((x - lo) / (hi - lo), 0, 1))
    close(d.icdf(t([0.5, 0.25, 1.0])), lo + np.array([0.5, 0.25, 1.0]) * (hi - lo))
    close(d.entropy(), np.log(hi - lo))
    close(d.mean, (lo + hi) / 2), close(d.variance, (hi - lo) ** 2 / 12), close(d.stddev, (hi - lo) / np.sqrt(12))
    assert np.isnan(a(d.mode)).all()


def test_exponential_values():
    r, x = np.array(SCALE), np.array(POS)
    d = D.Exponential(t(SCALE))
    close(d.log_prob(t(POS)), np.log(r) - r * x)
    close(d.cdf(t(POS)), 1 - np.exp(-r * x))
    close(d.icdf(t([0.1, 0.5, 0.9])), -np.log1p(-np.array([0.1, 0.5, 0.9])) / r)
    close(d.entropy(), 1 - np.log(r))
    close(d.mean, 1 / r), close(d.variance, 1 / r ** 2), close(d.mode, 0 * r)


def test_laplace_values():
    mu, b, x = map(np.array, (LOC, SCALE, X))
    d = D.Laplace(t(LOC), t(SCALE))
    close(d.log_prob(t(X)), -np.log(2 * b) - np.abs(x - mu) / b)
    close(d.cdf(t(X)), np.where(x < mu, 0.5 * np.exp((x - mu) / b), 1 - 0.5 * np.exp(-(x - mu) / b)))
    close(d.icdf(d.cdf(t(X))), x, rtol=1e-8)
    close(d.entropy(), 1 + np.log(2 * b))
    close(d.mean, mu), close(d.variance, 2 * b ** 2), close(d.stddev, np.sqrt(2) * b)


def test_lognormal_values():
    mu, sd, x = np.array(LOC), np.array(SCALE), np.array(POS)
    d = D.LogNormal(t(LOC), t(SCALE))
    close(d.log_prob(t(POS)), -(np.log(x) - mu) ** 2 / (2 * sd ** 2) - np.log(sd * x) - 0.5 * np.log(2 * np.pi))
    close(d.cdf(t(POS)), 0.5 * (1 + erf((np.log(x) - mu) / (sd * np.sqrt(2)))))
    close(d.entropy(), mu + 0.5 + 0.5 * np.log(2 * np.pi) + np.log(sd))
    close(d.mean, np.exp(mu + sd ** 2 / 2))
    close(d.mode, np.exp(mu - sd ** 2))
    close(d.variance, (np.exp(sd ** 2) - 1) * np.exp(2 * mu + sd ** 2))


def test_gamma_values():
    c, r, x = np.array([0.5, 1.0, 3.0]), np.array([1.0, 2.0, 0.5]), np.array(POS)
    d = D.Gamma(t(c.tolist()), t(r.tolist()))
    close(d.log_prob(t(POS)), c * np.log(r) + (c - 1) * np.log(x) - r * x - lgamma(c))
    close(d.mean, c / r), close(d.variance, c / r ** 2), close(d.mode, np.maximum((c - 1) / r, 0))
    # entropy: digamma(0.5) = -gamma - 2 ln 2, digamma(1) = -gamma, digamma(3) = 1.5 - gamma
    g = 0.5772156649015329
    psi = np.array([-g - 2 * np.log(2), -g, 1.5 - g])
    close(d.entropy(), c - np.log(r) + lgamma(c) + (1 - c) * psi, rtol=1e-8)
    # cdf: Gamma(1/2, r) is erf(sqrt(r x)), Gamma(1, r) exponential, Gamma(3, r) elementary
    y = np.array([[0.0, 0.0, 0.0], [0.01, 0.5, 1.0], [2.0, 5.0, 30.0]])
    y3 = y * r
    ref = np.stack([erf(np.sqrt(y3[:, 0])), 1 - np.exp(-y3[:, 1]),
                    1 - np.exp(-y3[:, 2]) * (1 + y3[:, 2] + y3[:, 2] ** 2 / 2)], -1)
    close(d.cdf(t(y.tolist())), ref, rtol=1e-9, atol=1e-14)


def test_beta_values():
    p, q, x = np.array([0.5, 2.0, 3.0]), np.array([0.7, 2.0, 0.5]), np.array([0.3, 0.5, 0.9])
    d = D.Beta(t(p.tolist()), t(q.tolist()))
    lbeta = lgamma(p) + lgamma(q) - lgamma(p + q)
    close(d.log_prob(t(x.tolist())), (p - 1) * np.log(x) + (q - 1) * np.log1p(-x) - lbeta, rtol=1e-9)
    close(d.mean, p / (p + q)), close(d.variance, p * q / ((p + q) ** 2 * (p + q + 1)))
    close(d.mode[1:], [0.5, 1.0])
    # entropy of Beta(2, 2) = ln B(2,2) - 2 psi(2) + 2 psi(4) = ln(1/6) + 2 (1/2 + 1/3)
    close(D.Beta(t(2.0), t(2.0)).entropy(), np.log(1 / 6) + 5 / 3, rtol=1e-9)


def test_poisson_values():
    r, k = np.array([0.5, 1.0, 3.0]), np.array([0.0, 1.0, 4.0])
    d = D.Poisson(t(r.tolist()))
    close(d.log_prob(t(k.tolist())), k * np.log(r) - r - lgamma(k + 1))
    close(D.Poisson(t([0.0])).log_prob(t([0.0])), [0.0])
    close(d.mean, r), close(d.variance, r), close(d.mode, np.floor(r))


def test_bernoulli_values():
    p, x = np.array([0.1, 0.5, 0.9]), np.array([0.0, 1.0, 1.0])
    for d in (D.Bernoulli(probs=t(p.tolist())), D.Bernoulli(logits=t(np.log(p / (1 - p)).tolist()))):
        close(d.log_prob(t(x.tolist())), x * np.log(p) + (1 - x) * np.log1p(-p), rtol=1e-9)
        close(d.entropy(), -(p * np.log(p) + (1 - p) * np.log1p(-p)), rtol=1e-9)
        close(d.mean, p, rtol=1e-9), close(d.variance, p * (1 - p), rtol=1e-9)
        close(d.probs, p, rtol=1e-9), close(d.logits, np.log(p / (1 - p)), rtol=1e-9, atol=1e-12)
        m = a(d.mode)
        assert m[0] == 0 and np.isnan(m[1]) and m[2] == 1


def test_categorical_values():
    w = np.array([[2.0, 3.0, 5.0], [0.0, 4.0, 6.0]])
    p = w / w.sum(-1, keepdims=True)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    for d in (D.Categorical(probs=t(w.tolist())), D.Categorical(logits=t(np.log(w + 1e-300).tolist()))):
        assert d.batch_shape == (2,) and d.event_shape == ()
        close(d.probs, p, rtol=1e-9)
        close(d.log_prob(t([[0.0, 1.0], [2.0, 2.0]])), [[logp[0, 0], logp[1, 1]], [logp[0, 2], logp[1, 2]]], rtol=1e-9)
        close(d.entropy(), [-(p[0] * logp[0]).sum(), -(p[1, 1:] * logp[1, 1:]).sum()], rtol=1e-9)
        assert a(d.mode).tolist() == [2, 2]
        assert np.isnan(a(d.mean)).all() and d.mean.shape == (2,)
    oh = D.OneHotCategorical(probs=t(w.tolist()))
    assert oh.batch_shape == (2,) and oh.event_shape == (3,)
    close(oh.log_prob(t([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])), [logp[0, 0], logp[1, 2]], rtol=1e-9)
    close(oh.mean, p), close(oh.variance, p * (1 - p)), close(oh.mode, [[0, 0, 1], [0, 0, 1]])
    close(oh.entropy(), a(D.Categorical(probs=t(w.tolist())).entropy()))


COV = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, -0.2], [0.1, -0.2, 1.5]])
MU = np.array([1.0, -1.0, 0.5])


def mvn_logpdf(x, mu, cov):
    d = x - mu
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (len(mu) * np.log(2 * np.pi) + logdet + d @ np.linalg.solve(cov, d))


@pytest.mark.parametrize("param", ["scale_tril", "covariance_matrix", "precision_matrix"])
def test_multivariate_normal_values(param):
    given = {"scale_tril": np.linalg.cholesky(COV), "covariance_matrix": COV,
             "precision_matrix": np.linalg.inv(COV)}[param]
    d = D.MultivariateNormal(t(MU.tolist()), **{param: t(given.tolist())})
    x = np.array([[0.3, 0.2, 0.0], [1.0, 2.0, -1.0]])
    close(d.log_prob(t(x.tolist())), [mvn_logpdf(r, MU, COV) for r in x], rtol=1e-9)
    close(d.entropy(), 0.5 * 3 * (1 + np.log(2 * np.pi)) + 0.5 * np.linalg.slogdet(COV)[1], rtol=1e-9)
    close(d.covariance_matrix, COV, rtol=1e-9, atol=1e-12)
    close(d.precision_matrix, np.linalg.inv(COV), rtol=1e-9, atol=1e-12)
    close(d.scale_tril, np.linalg.cholesky(COV), rtol=1e-9, atol=1e-12)
    close(d.variance, np.diag(COV), rtol=1e-9), close(d.mean, MU)
    assert d.batch_shape == () and d.event_shape == (3,)


def test_independent_values():
    base = D.Normal(t([LOC, X]), t([SCALE, SCALE]))
    ind = D.Independent(base, 1)
    assert ind.batch_shape == (2,) and ind.event_shape == (3,)
    close(ind.log_prob(t([POS, POS])), a(base.log_prob(t([POS, POS]))).sum(-1))
    close(ind.entropy(), a(base.entropy()).sum(-1))
    assert D.Independent(base, 2).log_prob(t([POS, POS])).shape == ()
    close(ind.mean, [LOC, X])


# --------------------------------------------------------------------- sampling ----
def norm_cdf(x):
    return 0.5 * (1 + erf(x / np.sqrt(2)))


@pytest.mark.parametrize("name,make,cdf", [
    ("normal", lambda: D.Normal(t(1.5), t(2.0)), lambda x: norm_cdf((x - 1.5) / 2)),
    ("uniform", lambda: D.Uniform(t(-1.0), t(3.0)), lambda x: np.clip((x + 1) / 4, 0, 1)),
    ("exponential", lambda: D.Exponential(t(2.5)), lambda x: 1 - np.exp(-2.5 * x)),
    ("laplace", lambda: D.Laplace(t(0.5), t(2.0)),
     lambda x: np.where(x < 0.5, 0.5 * np.exp((x - 0.5) / 2), 1 - 0.5 * np.exp(-(x - 0.5) / 2))),
    ("lognormal", lambda: D.LogNormal(t(0.2), t(0.7)), lambda x: norm_cdf((np.log(x) - 0.2) / 0.7)),
    # Gamma(1/2, r) is Z^2 / (2 r); Gamma(3, r) has an elementary CDF
    ("gamma_half", lambda: D.Gamma(t(0.5), t(2.0)), lambda x: erf(np.sqrt(2.0 * x))),
    ("gamma_3", lambda: D.Gamma(t(3.0), t(0.5)),
     lambda x: 1 - np.exp(-0.5 * x) * (1 + 0.5 * x + (0.5 * x) ** 2 / 2)),
    ("beta_2_1", lambda: D.Beta(t(2.0), t(1.0)), lambda x: x ** 2),
    ("beta_1_3", lambda: D.Beta(t(1.0), t(3.0)), lambda x: 1 - (1 - x) ** 3),
    ("beta_arcsine", lambda: D.Beta(t(0.5), t(0.5)), lambda x: 2 / np.pi * np.arcsin(np.sqrt(x))),
])
def test_samples_match_cdf(name, make, cdf):
    torch.manual_seed(1234)
    s = make().sample((N,))
    assert s.shape == (N,) and s.dtype == F64
    check_ks(a(s), cdf)


def test_samples_float32_and_batched():
    torch.manual_seed(7)
    d = D.Normal(torch.tensor([0.0, 10.0]), torch.tensor([1.0, 0.1]))
    s = d.sample((N,))
    assert s.shape == (N, 2) and s.dtype == torch.float32
    check_ks(a(s[:, 0]), norm_cdf)
    check_ks(a(s[:, 1]), lambda x: norm_cdf((x - 10) / 0.1))
    g = D.Gamma(torch.tensor([0.3, 4.0]), torch.tensor([1.0, 2.0])).sample((N,))
    check_mean(a(g[:, 0]), 0.3, 0.3)
    check_mean(a(g[:, 1]), 2.0, 1.0)
    assert (a(g) > 0).all()


def test_discrete_samples():
    torch.manual_seed(3)
    n = 50_000
    p = np.array([0.1, 0.0, 0.3, 0.6])
    s = D.Categorical(probs=t((p * 3).tolist())).sample((n,))
    assert s.dtype == torch.int64 and s.shape == (n,)
    freq = np.bincount(a(s).astype(int), minlength=4) / n
    assert freq[1] == 0
    assert np.all(np.abs(freq - p) <= SIGMAS * np.sqrt(p * (1 - p) / n) + 1e-12), freq
    oh = D.OneHotCategorical(probs=t(p.tolist())).sample((n,))
    assert oh.shape == (n, 4) and oh.dtype == F64 and (a(oh).sum(-1) == 1).all()
    freq = a(oh).mean(0)
    assert np.all(np.abs(freq - p) <= SIGMAS * np.sqrt(p * (1 - p) / n) + 1e-12), freq
    b = D.Bernoulli(probs=t([0.2, 0.7])).sample((n,))
    assert b.shape == (n, 2) and set(np.unique(a(b))) <= {0.0, 1.0}
    for j, q in enumerate([0.2, 0.7]):
        check_mean(a(b[:, j]), q, q * (1 - q))


@pytest.mark.parametrize("rate", [0.7, 6.0, 25.0, 400.0])  # Knuth below 10, PTRS above
def test_poisson_samples(rate):
    torch.manual_seed(9)
    s = a(D.Poisson(t([rate, 0.0])).sample((N,)))
    assert s.shape == (N, 2) and (s[:, 1] == 0).all() and (s == np.floor(s)).all()
    ks = np.arange(0, int(rate + 12 * math.sqrt(rate) + 10))
    pmf = np.exp(ks * math.log(rate) - rate - lgamma(ks + 1))
    ecdf = np.searchsorted(np.sort(s[:, 0]), ks, side="right") / N
    # DKW: sup |F_n - F| over the integers exceeds KS_CRIT with probability <= 1e-4
    assert np.max(np.abs(ecdf - np.cumsum(pmf))) < KS_CRIT
    check_mean(s[:, 0], rate, rate)


def test_multivariate_normal_samples():
    torch.manual_seed(5)
    d = D.MultivariateNormal(t(MU.tolist()), covariance_matrix=t(COV.tolist()))
    s = a(d.sample((N,)))
    assert s.shape == (N, 3)
    for j in range(3):
        check_mean(s[:, j], MU[j], COV[j, j])
    # each projection onto a direction v is Normal(v.mu, v' C v)
    for v in (np.array([1.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0]), np.array([0.3, -1.0, 2.0])):
        m, sd = v @ MU, np.sqrt(v @ COV @ v)
        check_ks(s @ v, lambda x: norm_cdf((x - m) / sd))


def test_manual_seed_reproducible():
    d = D.Gamma(t([0.4, 2.0]), t(1.0))
    torch.manual_seed(11)
    x = a(d.sample((5,)))
    torch.manual_seed(11)
    assert np.array_equal(x, a(d.sample((5,))))


# ------------------------------------------------------------------------ shapes ----
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3), torch.Size([4])])
def test_sample_shapes(sample_shape):
    ss = tuple(sample_shape)
    cases = [
        (D.Normal(0.0, 1.0), (), ()),
        (D.Normal(torch.zeros(3), 1.0), (3,), ()),
        (D.Uniform(torch.zeros(2, 1), torch.ones(3)), (2, 3), ()),
        (D.Exponential(torch.ones(2)), (2,), ()),
        (D.Laplace(torch.zeros(2), torch.ones(2)), (2,), ()),
        (D.LogNormal(torch.zeros(2), 1.0), (2,), ()),
        (D.Gamma(torch.ones(2), 1.0), (2,), ()),
        (D.Beta(torch.ones(2), 2.0), (2,), ()),
        (D.Poisson(torch.full((2,), 3.0)), (2,), ()),
        (D.Bernoulli(torch.full((2, 3), 0.5)), (2, 3), ()),
        (D.Categorical(logits=torch.zeros(2, 4)), (2,), ()),
        (D.OneHotCategorical(logits=torch.zeros(2, 4)), (2,), (4,)),
        (D.MultivariateNormal(torch.zeros(2, 3), scale_tril=torch.eye(3)), (2,), (3,)),
        (D.Independent(D.Normal(torch.zeros(2, 3), 1.0), 1), (2,), (3,)),
    ]
    for d, batch, event in cases:
        assert d.batch_shape == batch and d.event_shape == event, d
        assert d.sample(sample_shape).shape == ss + batch + event, d
        if d.has_rsample:
            assert d.rsample(sample_shape).shape == ss + batch + event, d
        assert d.has_rsample == (type(d) not in (D.Bernoulli, D.Categorical, D.OneHotCategorical, D.Poisson))
        lp = d.log_prob(d.sample(sample_shape))
        assert lp.shape == ss + batch, d
        e = d.expand((5,) + batch)
        assert type(e) is type(d) and e.batch_shape == (5,) + batch and e.event_shape == event
        assert e.sample(sample_shape).shape == ss + (5,) + batch + event
        assert e.log_prob(e.sample()).shape == (5,) + batch


def test_log_prob_broadcasts_value():
    d = D.Normal(torch.zeros(3), torch.ones(3))
    assert d.log_prob(torch.zeros(4, 1)).shape == (4, 3)
    c = D.Categorical(logits=torch.zeros(2, 5))
    assert c.log_prob(torch.tensor([[1], [4], [0]])).shape == (3, 2)
    assert D.Normal(0.0, 1.0).sample().shape == ()
    assert D.Normal(0.0, 1.0).mean.dtype == torch.get_default_dtype()


# --------------------------------------------------------------------- gradients ----
def test_normal_rsample_gradients():
    torch.manual_seed(2)
    loc = t([0.5, -1.0]).requires_grad_()
    scale = t([1.0, 3.0]).requires_grad_()
    x = D.Normal(loc, scale).rsample((100,))
    assert x.requires_grad and not D.Normal(loc, scale).sample().requires_grad
    x.sum().backward()
    close(loc.grad, [100.0, 100.0])
    eps = (a(x) - np.array([0.5, -1.0])) / np.array([1.0, 3.0])
    close(scale.grad, eps.sum(0), rtol=1e-9)


@pytest.mark.parametrize("name", ["exponential", "uniform", "laplace", "lognormal"])
def test_rsample_gradients(name):
    # d x / d theta for the inverse-CDF map x = G(u; theta) at the drawn x
    torch.manual_seed(4)
    if name == "exponential":
        r = t([0.5, 2.0]).requires_grad_()
        x = D.Exponential(r).rsample((50,))
        x.sum().backward()
        close(r.grad, (-a(x) / np.array([0.5, 2.0])).sum(0), rtol=1e-9)
    elif name == "uniform":
        lo, hi = t([0.0, -1.0]).requires_grad_(), t([2.0, 1.0]).requires_grad_()
        x = D.Uniform(lo, hi).rsample((50,))
        x.sum().backward()
        u = (a(x) - np.array([0.0, -1.0])) / 2.0
        close(hi.grad, u.sum(0), rtol=1e-9), close(lo.grad, (1 - u).sum(0), rtol=1e-9)
    elif name == "laplace":
        loc, b = t([0.0, 1.0]).requires_grad_(), t([1.0, 2.0]).requires_grad_()
        x = D.Laplace(loc, b).rsample((50,))
        x.sum().backward()
        close(loc.grad, [50.0, 50.0]), close(b.grad, ((a(x) - [0.0, 1.0]) / [1.0, 2.0]).sum(0), rtol=1e-9)
    else:
        loc, sd = t([0.0, 1.0]).requires_grad_(), t([1.0, 0.5]).requires_grad_()
        x = D.LogNormal(loc, sd).rsample((50,))
        x.sum().backward()
        close(loc.grad, a(x).sum(0), rtol=1e-9)
        close(sd.grad, (a(x) * (np.log(a(x)) - [0.0, 1.0]) / [1.0, 0.5]).sum(0), rtol=1e-9)


def digamma(x, h=1e-5):
    return (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)


_LEG_S, _LEG_W = np.polynomial.legendre.leggauss(400)
_LAG_U, _LAG_W = np.polynomial.laguerre.laggauss(80)


def gamma_dx_dalpha(x, al):
    """d x / d alpha of a Gamma(al, 1) draw at fixed CDF: -(dF/dalpha) / pdf(x), with
    dF/dalpha = int_0^x pdf(t) (log t - digamma(al)) dt by quadrature: below al on [0, x]
    (t = x s^(1/al), Gauss-Legendre), above it as minus the integral over [x, inf)
    (t = x + u, Gauss-Laguerre), which avoids cancellation in the upper tail."""
    if x < al:
        s, w = (_LEG_S + 1) / 2, _LEG_W / 2
        tt = x * s ** (1 / al)
        dF = np.sum(w * np.exp(al * math.log(x) - math.lgamma(al + 1) - tt) * (np.log(tt) - digamma(al)))
        return -dF / math.exp((al - 1) * math.log(x) - x - math.lgamma(al))
    return np.sum(_LAG_W * (1 + _LAG_U / x) ** (al - 1) * (np.log(x + _LAG_U) - digamma(al)))


@pytest.mark.parametrize("al", [0.4, 1.0, 2.5])
def test_gamma_rsample_implicit_gradient(al):
    torch.manual_seed(6)
    conc, rate = t([al] * 20).requires_grad_(), t(2.0).requires_grad_()
    x = D.Gamma(conc, rate).rsample()
    x.sum().backward()
    z = a(x) * 2.0  # the standard Gamma(al, 1) draws
    close(conc.grad, [gamma_dx_dalpha(v, al) / 2.0 for v in z], rtol=2e-4, atol=1e-8)
    close(rate.grad, -a(x).sum() / 2.0, rtol=1e-9)


@pytest.mark.parametrize("al", [0.3, 30.0])
def test_gamma_rsample_gradient_unbiased(al):
    # E[d x / d concentration] = d/dc (c / rate) = 1 / rate
    torch.manual_seed(10)
    conc = t([al] * N).requires_grad_()
    D.Gamma(conc, t(2.0)).rsample().sum().backward()
    g = a(conc.grad)
    assert abs(g.mean() - 0.5) < SIGMAS * g.std() / math.sqrt(N), g.mean()


def test_beta_rsample_gradient_unbiased():
    # E[d x / d a] = d/da (a / (a + b)) = b / (a + b)^2 (per-draw gradients are independent)
    torch.manual_seed(8)
    p, q = t([0.5] * N).requires_grad_(), t([1.5] * N).requires_grad_()
    D.Beta(p, q).rsample().sum().backward()
    g = a(p.grad)
    assert abs(g.mean() - 1.5 / 4) < SIGMAS * g.std() / math.sqrt(N), g.mean()
    g = a(q.grad)
    assert abs(g.mean() + 0.5 / 4) < SIGMAS * g.std() / math.sqrt(N), g.mean()


def test_multivariate_normal_rsample_gradient():
    loc = t(MU.tolist()).requires_grad_()
    L = t(np.linalg.cholesky(COV).tolist()).requires_grad_()
    x = D.MultivariateNormal(loc, scale_tril=L).rsample((20,))
    x.sum().backward()
    close(loc.grad, [20.0, 20.0, 20.0])
    eps = np.linalg.solve(np.linalg.cholesky(COV), (a(x) - MU).T)  # (3, 20)
    # x = loc + L eps uses all of L (as PyTorch: the upper triangle gets gradient too)
    close(L.grad, np.ones((3, 1)) * eps.sum(1)[None, :], rtol=1e-8, atol=1e-9)


def numgrad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("name", ["normal", "gamma", "beta", "categorical", "mvn"])
def test_log_prob_gradients_match_finite_differences(name):
    makers = {
        "normal": (lambda p: D.Normal(p[0], p[1]).log_prob(t(X)), [LOC, SCALE]),
        "gamma": (lambda p: D.Gamma(p[0], p[1]).log_prob(t(POS)), [[0.5, 1.0, 3.0], SCALE]),
        "beta": (lambda p: D.Beta(p[0], p[1]).log_prob(t([0.2, 0.5, 0.7])), [[0.5, 2.0, 3.0], [1.5, 2.0, 0.5]]),
        "categorical": (lambda p: D.Categorical(logits=p[0]).log_prob(t([0.0, 2.0])), [[[1.0, 0.0, -1.0]]]),
        "mvn": (lambda p: D.MultivariateNormal(p[0], scale_tril=p[1], validate_args=False).log_prob(t([[0.3, 0.2, 0.0]])),
                [MU.tolist(), np.linalg.cholesky(COV).tolist()]),
    }
    f, params = makers[name]
    ps = [t(p).requires_grad_() for p in params]
    f(ps).sum().backward()
    for i in range(len(ps)):
        def g(v, i=i):
            args = [t(p) for p in params]
            args[i] = t(v.tolist())
            return float(f(args).sum())
        np.testing.assert_allclose(a(ps[i].grad), numgrad(g, np.array(params[i], np.float64)), rtol=1e-5, atol=1e-6)


def test_entropy_gradient():
    scale = t([0.5, 2.0]).requires_grad_()
    D.Normal(0.0, scale).entropy().sum().backward()
    close(scale.grad, [2.0, 0.5])


# ---------------------------------------------------------------------------- KL ----
def test_kl_normal_normal():
    m1, s1, m2, s2 = map(np.array, (LOC, SCALE, X, [1.0, 1.0, 3.0]))
    kl = D.kl_divergence(D.Normal(t(LOC), t(SCALE)), D.Normal(t(X), t(s2.tolist())))
    close(kl, np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5)


def test_kl_bernoulli_categorical():
    p, q = np.array([0.3, 0.5, 0.0, 1.0, 0.2]), np.array([0.6, 0.5, 0.4, 0.4, 0.0])
    kl = a(D.kl_divergence(D.Bernoulli(t(p.tolist())), D.Bernoulli(t(q.tolist()))))
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.where(p > 0, p * np.log(p / q), 0) + np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - q)), 0)
    close(kl[:4], ref[:4], rtol=1e-8)
    assert kl[4] == np.inf
    P = np.array([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    Q = np.array([[0.1, 0.1, 0.8], [0.2, 0.2, 0.6], [0.0, 0.5, 0.5]])
    kl = a(D.kl_divergence(D.Categorical(t(P.tolist())), D.Categorical(t(Q.tolist()))))
    close(kl[0], (P[0] * np.log(P[0] / Q[0])).sum(), rtol=1e-9)
    close(kl[1], (P[1, 1:] * np.log(P[1, 1:] / Q[1, 1:])).sum(), rtol=1e-9)
    assert kl[2] == np.inf
    kl = D.kl_divergence(D.OneHotCategorical(t(P[:2].tolist())), D.OneHotCategorical(t(Q[:2].tolist())))
    close(kl, a(D.kl_divergence(D.Categorical(t(P[:2].tolist())), D.Categorical(t(Q[:2].tolist())))))


def test_kl_uniform_and_others():
    kl = a(D.kl_divergence(D.Uniform(t([0.0, 0.0]), t([1.0, 2.0])), D.Uniform(t([-1.0, 0.5]), t([2.0, 3.0]))))
    close(kl[0], np.log(3.0))
    assert kl[1] == np.inf
    r1, r2 = np.array([0.5, 2.0]), np.array([1.0, 0.5])
    close(D.kl_divergence(D.Exponential(t(r1.tolist())), D.Exponential(t(r2.tolist()))),
          np.log(r1 / r2) + r2 / r1 - 1)
    # Laplace: KL = ln(b2/b1) + |m1-m2|/b2 + b1/b2 exp(-|m1-m2|/b1) - 1
    close(D.kl_divergence(D.Laplace(t(1.0), t(2.0)), D.Laplace(t(0.0), t(0.5))),
          np.log(0.25) + 2.0 + 4 * np.exp(-0.5) - 1, rtol=1e-9)
    close(D.kl_divergence(D.Poisson(t(2.0)), D.Poisson(t(3.0))), 2 * np.log(2 / 3) + 1, rtol=1e-9)
    # Gamma(k, r1) || Gamma(k, r2) with equal shape: k (ln(r1/r2) + r2/r1 - 1)
    close(D.kl_divergence(D.Gamma(t(3.0), t(2.0)), D.Gamma(t(3.0), t(0.5))), 3 * (np.log(4) + 0.25 - 1), rtol=1e-9)


def test_kl_independent_and_mvn():
    p = D.Independent(D.Normal(t([LOC]), t([SCALE])), 1)
    q = D.Independent(D.Normal(t([X]), t([[1.0, 1.0, 3.0]])), 1)
    m1, s1, m2, s2 = map(np.array, (LOC, SCALE, X, [1.0, 1.0, 3.0]))
    ref = (np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5).sum()
    kl = D.kl_divergence(p, q)
    assert kl.shape == (1,)
    close(kl, [ref])
    C2 = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.4], [0.0, 0.4, 1.0]])
    mu2 = np.array([0.0, 0.5, -0.5])
    ref = 0.5 * (np.trace(np.linalg.solve(C2, COV)) + (mu2 - MU) @ np.linalg.solve(C2, mu2 - MU) - 3
                 + np.linalg.slogdet(C2)[1] - np.linalg.slogdet(COV)[1])
    kl = D.kl_divergence(D.MultivariateNormal(t(MU.tolist()), covariance_matrix=t(COV.tolist())),
                         D.MultivariateNormal(t(mu2.tolist()), scale_tril=t(np.linalg.cholesky(C2).tolist())))
    close(kl, ref, rtol=1e-9)
    # a diagonal MVN agrees with the Independent Normal
    diag = D.MultivariateNormal(t(LOC), scale_tril=t(np.diag(SCALE).tolist()))
    close(diag.log_prob(t(X)), a(D.Independent(D.Normal(t(LOC), t(SCALE)), 1).log_prob(t(X))))


def test_register_kl_dispatch():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return torch.zeros(p.batch_shape)

    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0))) == 0.0
    close(D.kl_divergence(D.Normal(t(0.0), t(1.0)), MyNormal(t(1.0), t(1.0))), 0.5)  # falls back
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Categorical(logits=torch.zeros(2)), D.Normal(0.0, 1.0))


# -------------------------------------------------------------------- validation ----
def test_parameter_validation_errors():
    with pytest.raises(ValueError, match=r"^Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                                         r"Normal\(loc: torch.Size\(\[2\]\), scale: torch.Size\(\[2\]\)\) to satisfy "
                                         r"the constraint GreaterThan\(lower_bound=0.0\), but found invalid values"):
        D.Normal(torch.zeros(2), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"^Expected parameter probs .* constraint Interval\(lower_bound=0.0, upper_bound=1.0\)"):
        D.Bernoulli(torch.tensor([1.5]))
    with pytest.raises(ValueError, match=r"^Expected parameter probs .*Simplex\(\)"):
        D.Categorical(torch.tensor([0.5, -0.5]))
    with pytest.raises(ValueError, match=r"^Expected parameter rate .*GreaterThan\(lower_bound=0.0\)"):
        D.Exponential(torch.tensor([0.0]))
    with pytest.raises(ValueError, match=r"^Expected parameter low .*LessThan"):
        D.Uniform(torch.tensor([1.0]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"^Expected parameter scale_tril .*LowerCholesky\(\)"):
        D.MultivariateNormal(torch.zeros(2), scale_tril=torch.tensor([[1.0, 0.0], [1.0, -1.0]]))
    with pytest.raises(ValueError, match=r"^Expected parameter covariance_matrix .*PositiveDefinite\(\)"):
        D.MultivariateNormal(torch.zeros(2), covariance_matrix=torch.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^Either `probs` or `logits` must be specified, but not both\."):
        D.Categorical(probs=torch.tensor([0.5, 0.5]), logits=torch.tensor([0.0, 0.0]))
    with pytest.raises(ValueError, match=r"^Either `probs` or `logits`"):
        D.Bernoulli()
    with pytest.raises(ValueError, match=r"^Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(torch.zeros(2))
    with pytest.raises(ValueError, match=r"^Expected reinterpreted_batch_ndims <= len\(base_distribution.batch_shape\)"):
        D.Independent(D.Normal(0.0, 1.0), 1)
    D.Normal(torch.zeros(2), torch.tensor([1.0, -1.0]), validate_args=False)  # no check


def test_sample_validation_errors():
    with pytest.raises(ValueError, match=r"^Expected value argument \(Tensor of shape \(1,\)\) to be within the "
                                         r"support \(GreaterThanEq\(lower_bound=0.0\)\) of the distribution "
                                         r"Exponential\(rate: 1.0\), but found invalid values"):
        D.Exponential(1.0).log_prob(torch.tensor([-1.0]))
    with pytest.raises(ValueError, match=r"^Expected value argument .*IntegerGreaterThan\(lower_bound=0\)"):
        D.Poisson(torch.tensor([1.0])).log_prob(torch.tensor([0.5]))
    with pytest.raises(ValueError, match=r"^Expected value argument .*IntegerInterval\(lower_bound=0, upper_bound=1\)"):
        D.Categorical(logits=torch.zeros(2)).log_prob(torch.tensor([2]))
    with pytest.raises(ValueError, match=r"^Value is not broadcastable with batch_shape\+event_shape"):
        D.Normal(torch.zeros(2), 1.0).log_prob(torch.zeros(3))
    with pytest.raises(ValueError, match=r"^The right-most size of value must match event_shape"):
        D.MultivariateNormal(torch.zeros(2), scale_tril=torch.eye(2)).log_prob(torch.zeros(3))
    with pytest.raises(ValueError, match=r"^The value argument to log_prob must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(1.0)
    assert D.Exponential(1.0, validate_args=False).log_prob(torch.tensor([-1.0])).shape == (1,)


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(torch.zeros(1), -torch.ones(1))  # not checked
        with pytest.raises(ValueError):
            D.Normal(torch.zeros(1), -torch.ones(1), validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(torch.zeros(1), -torch.ones(1))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(3)


def test_repr_and_constraints():
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.Normal(torch.zeros(3), 1.0)) == "Normal(loc: torch.Size([3]), scale: torch.Size([3]))"
    assert repr(D.Categorical(logits=torch.zeros(3))) == "Categorical(logits: torch.Size([3]))"
    assert repr(D.Independent(D.Normal(torch.zeros(3), 1.0), 1)) == \
        "Independent(Normal(loc: torch.Size([3]), scale: torch.Size([3])), 1)"
    C = D.constraints
    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(C.unit_interval) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(C.real_vector) == "IndependentConstraint(Real(), 1)"
    assert repr(D.Normal.arg_constraints["scale"]) == "GreaterThan(lower_bound=0.0)"
    assert C.simplex.check(torch.tensor([[0.5, 0.5], [0.5, 0.6]])).tolist() == [True, False]
    assert C.real.check(torch.tensor([0.0, float("nan")])).tolist() == [True, False]
    assert C.boolean.is_discrete and C.simplex.event_dim == 1 and C.lower_cholesky.event_dim == 2
    assert D.Normal(0.0, 1.0).has_rsample and not D.Categorical(logits=torch.zeros(2)).has_rsample
    e = D.Bernoulli(torch.tensor([0.2, 0.9])).enumerate_support()
    assert e.shape == (2, 2) and a(e).tolist() == [[0, 0], [1, 1]]
    assert D.Categorical(logits=torch.zeros(2, 3)).enumerate_support().shape == (3, 2)
