"""torch.special (python/ferrotorch/special.py): each function against a float64 reference from
Python's math / statistics modules or NumPy, plus the aliases' identity with their torch twins."""
import math
import statistics

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import special

X = np.array([-37.0, -25.0, -20.5, -19.5, -8.0, -3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 6.0, 9.0])


def test_ndtr_and_log_ndtr_match_erfc():
    ref = np.array([0.5 * math.erfc(-x / math.sqrt(2)) for x in X])
    x = torch.tensor(X, dtype=torch.float64)
    np.testing.assert_allclose(special.ndtr(x).numpy(), ref, rtol=1e-13, atol=1e-16)  # (PyTorch: 1 + erf)
    log_ref = np.array([math.log(0.5 * math.erfc(-x / math.sqrt(2))) if x <= 0
                        else math.log1p(-0.5 * math.erfc(x / math.sqrt(2))) for x in X])
    np.testing.assert_allclose(special.log_ndtr(x).numpy(), log_ref, rtol=1e-11)
    # float32 and integer input (the default float dtype)
    assert special.ndtr(torch.tensor([0, 1])).dtype == torch.float32
    np.testing.assert_allclose(special.log_ndtr(x.float()).numpy(), log_ref, rtol=1e-5, atol=1e-6)


def test_ndtri_matches_normal_quantile():
    p = np.array([1e-12, 1e-6, 0.01, 0.2, 0.5, 0.7, 0.975, 1 - 1e-9])
    ref = np.array([statistics.NormalDist().inv_cdf(v) for v in p])
    np.testing.assert_allclose(special.ndtri(torch.tensor(p, dtype=torch.float64)).numpy(), ref, rtol=1e-9, atol=1e-12)
    edges = special.ndtri(torch.tensor([0.0, 1.0], dtype=torch.float64)).tolist()
    assert edges == [-math.inf, math.inf]


def test_entr():
    x = np.array([-1.0, 0.0, 1e-300, 0.5, 1.0, 3.0, np.nan])
    ref = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), np.where(x < 0, -np.inf, 0.0))
    ref[-1] = np.nan
    np.testing.assert_array_equal(special.entr(torch.tensor(x, dtype=torch.float64)).numpy(), ref)


def test_xlog1py():
    x = np.array([0.0, 0.0, 2.0, -1.5, 3.0])
    y = np.array([-1.0, np.nan, 0.5, 3.0, -1.0])
    got = special.xlog1py(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)).numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.where(x == 0, 0.0, x * np.log1p(y))
    ref[1] = np.nan
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("name,twin", [("expit", "sigmoid"), ("gammaln", "lgamma"), ("psi", "digamma"),
                                       ("erf", "erf"), ("erfc", "erfc"), ("erfinv", "erfinv"), ("exp2", "exp2"),
                                       ("expm1", "expm1"), ("log1p", "log1p"), ("i0", "i0"), ("sinc", "sinc"),
                                       ("round", "round")])
def test_aliases_agree_with_their_torch_twins(name, twin):
    x = torch.tensor([0.1, 0.45, 0.9, 0.05], dtype=torch.float64)
    assert torch.equal(getattr(special, name)(x), getattr(torch, twin)(x))


def test_out_and_softmax_and_multigammaln():
    x = torch.tensor([0.3, 1.7, 4.0], dtype=torch.float64)
    out = torch.empty(3, dtype=torch.float64)
    assert special.expit(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-15)
    v = np.array([[1.0, 2.0, 0.5]])
    np.testing.assert_allclose(special.softmax(torch.tensor(v), 1).numpy(), np.exp(v) / np.exp(v).sum(), rtol=1e-6)
    np.testing.assert_allclose(special.log_softmax(torch.tensor(v), 1).numpy(),
                               v - np.log(np.exp(v).sum()), rtol=1e-6)
    a = 3.5  # multivariate log-gamma, p = 2: log(pi)/2 + lgamma(a) + lgamma(a - 1/2)
    ref = math.log(math.pi) / 2 + math.lgamma(a) + math.lgamma(a - 0.5)
    assert math.isclose(special.multigammaln(torch.tensor(a, dtype=torch.float64), 2).item(), ref, rel_tol=1e-12)


def test_gradients_by_finite_differences():
    x = torch.tensor([-25.0, -3.0, 0.4, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(special.log_ndtr, (x,))
    p = torch.tensor([0.05, 0.5, 0.9], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(special.ndtri, (p,))
    e = torch.tensor([0.2, 1.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(special.entr, (e,))
