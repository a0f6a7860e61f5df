"""The float32 unary kernels of rust/core/src/cpu/vecmath.rs (exp, sigmoid and silu excepted: they stay on a faster
2-ulp kernel that flushes subnormal results) on special and extreme inputs, against NumPy /
math in float64 rounded to float32: NaN, infinities and the sign of zero exactly, subnormal inputs and results
to within 2 ulp (the generic op table compares those with an absolute tolerance of 1e-30, which cannot see
them), every finite value to within 2 ulp (the Rust tests bound it by 1 ulp over the whole float32 range).
"""
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from op_table import np_erf, np_erfc, np_erfinv, np_softplus

TINY = np.float32(2.0 ** -149)  # the smallest subnormal
INPUTS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3e-42, -3e-42, 1e-39, -1e-39,
                   1.1754942e-38, -1.1754942e-38, 1e-30, -1e-30, 1e-8, -1e-8, 0.3, -0.3, 0.5, -0.5, 0.9999999,
                   -0.9999999, 1.0, -1.0, 1.0000001, 2.5, -2.5, 9.5, -9.5, 20.0, -20.0, 20.5, 88.72, -88.72, 89.5,
                   -89.5, -103.5, -104.5, 127.5, 128.5, -149.5, 1e5, -1e5, 1.5e9, -1.5e9, 1e30, -1e30, 3.4e38,
                   -3.4e38], dtype=np.float32)


def _gelu(a):
    return 0.5 * a * np_erfc(-a / math.sqrt(2))  # x Phi(x), no cancellation for x < 0


def _gelu_tanh(a):
    u = math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)
    with np.errstate(over="ignore"):
        return np.where(u > -1, 0.5 * a * (1 + np.tanh(u)), a / (1 + np.exp(-2 * u)))


def _mish(a):
    with np.errstate(over="ignore"):
        return a * np.tanh(np.log1p(np.exp(a)))


CASES = {  # name -> (ferrotorch call, float64 reference)
    "exp2": (torch.exp2, np.exp2), "expm1": (torch.expm1, np.expm1),
    "log": (torch.log, np.log), "log2": (torch.log2, np.log2), "log10": (torch.log10, np.log10),
    "log1p": (torch.log1p, np.log1p), "sin": (torch.sin, np.sin), "cos": (torch.cos, np.cos),
    "tan": (torch.tan, np.tan), "asin": (torch.asin, np.arcsin), "acos": (torch.acos, np.arccos),
    "atan": (torch.atan, np.arctan), "sinh": (torch.sinh, np.sinh), "cosh": (torch.cosh, np.cosh),
    "tanh": (torch.tanh, np.tanh), "asinh": (torch.asinh, np.arcsinh), "acosh": (torch.acosh, np.arccosh),
    "atanh": (torch.atanh, np.arctanh), "erf": (torch.erf, np_erf),
    "erfinv": (torch.erfinv, lambda a: np.where(a == 0, a, np_erfinv(a))),  # erfinv(-0) = -0 (PyTorch too) "rsqrt": (torch.rsqrt, lambda a: 1 / np.sqrt(a)),
    "reciprocal": (torch.reciprocal, lambda a: 1 / a), "gelu": (F.gelu, _gelu), "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), _gelu_tanh),
    "softplus": (F.softplus, np_softplus), "mish": (F.mish, _mish),
}


def _ulps(got, want):
    """Distance in float32 steps (finite, same dtype)."""
    def pos(v):
        b = v.astype(np.float32).view(np.int32).astype(np.int64)
        return np.where(b < 0, -(b & 0x7FFFFFFF), b)
    return np.abs(pos(got) - pos(want))


@pytest.mark.parametrize("name", sorted(CASES))
def test_special_values_float32(name):
    fn, ref = CASES[name]
    got = fn(torch.from_numpy(INPUTS.copy())).numpy()
    assert got.dtype == np.float32
    with np.errstate(all="ignore"):
        want = np.asarray(ref(INPUTS.astype(np.float64)), dtype=np.float64).astype(np.float32)
    for x, g, w in zip(INPUTS, got, want):
        if np.isnan(w) or np.isinf(w) or w == 0:
            ok = (np.isnan(g) and np.isnan(w)) or g.view(np.int32) == w.view(np.int32)
            assert ok, f"{name}({x!r}) = {g!r}, want {w!r}"
        else:
            assert np.isfinite(g) and _ulps(np.array([g]), np.array([w]))[0] <= 2, f"{name}({x!r}) = {g!r}, want {w!r}"


def test_subnormal_results():
    """Results below the normal range are computed, not flushed to zero."""
    cases = ((torch.exp2, np.exp2, [-140.0, -130.5, -127.2]), (torch.expm1, np.expm1, [-1e-40, 3e-42]),
             (F.softplus, np_softplus, [-100.0, -90.0]), (F.gelu, _gelu, [-13.0, -13.2]))
    for fn, ref, xs in cases:
        x = np.array(xs, dtype=np.float32)
        got = fn(torch.from_numpy(x)).numpy()
        want = np.asarray(ref(x.astype(np.float64))).astype(np.float32)
        assert (want != 0).all() and (_ulps(got, want) <= 1).all(), (fn, got, want)
    assert torch.exp2(torch.tensor([-149.0])).item() == float(TINY)
