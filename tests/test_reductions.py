"""Reductions, scans and sorting, checked against NumPy float64 references.

Covers dim as int / negative int / tuple, keepdim, full reductions, result dtypes,
non-contiguous inputs, empty and 0-d tensors, NaN handling and bad dims.
"""
import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from _helpers import (ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, TOL, assert_close, dt, make,
                      to_np)


# --------------------------------------------------------------------------- helpers

SHAPE = (3, 4, 5)
INT_DIMS = [0, 1, 2, -1, -2, -3]
TUPLE_DIMS = [(0, 2), (2, 0), (-1, -3), (0, 1, 2), (1,), [1, 2]]


def red_close(r, expected, dtype, scale):
    """Compare a reduction result; `scale` bounds the magnitude of the summed terms, so
    the absolute tolerance covers cancellation in low precision."""
    rtol, atol = TOL.get(dtype, (0, 0))
    if dtype in FLOAT_DTYPES:
        assert_close(r, expected, dtype=dtype, rtol=rtol, atol=max(atol, 2 * rtol * scale))
    else:
        assert_close(r, expected, dtype=dtype)


def norm_axis(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def np_logsumexp(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    r = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    if not keepdims:
        r = r.reshape(np.sum(a, axis=axis).shape)
    return r


def sum_result_dtype(dtype):
    return "int64" if dtype in INT_DTYPES + ["bool"] else dtype


def prod_input(shape, dtype, seed=0):
    """Values whose products stay in range: |x| in [0.5, 1.5] (floats) or {-2..2} (ints)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        a = rng.random(shape) > 0.2
        return a.astype(np.float64), torch.tensor(a)
    if dtype in INT_DTYPES:
        lo = 0 if dtype == "uint8" else -2
        a = rng.integers(lo, 3, size=shape)
        return a.astype(np.float64), torch.tensor(a.astype(dtype))
    a = rng.uniform(0.5, 1.5, size=shape) * np.where(rng.random(shape) < 0.5, -1, 1)
    t = torch.tensor(a, dtype=torch.float64).to(dt(dtype))
    return to_np(t).astype(np.float64), t


# --------------------------------------------------------------------------- sum / mean / amax / amin / logsumexp / all / any / count_nonzero

# name -> (numpy reference(a, axis, keepdims), dtypes, result dtype fn, tuple dims?, keepdim?)
REDUCTIONS = {
    "sum": (lambda a, axis, keepdims: np.sum(a, axis=axis, keepdims=keepdims),
            ALL_DTYPES, sum_result_dtype),
    "mean": (lambda a, axis, keepdims: np.mean(a, axis=axis, keepdims=keepdims),
             FLOAT_DTYPES, lambda d: d),
    "amax": (lambda a, axis, keepdims: np.max(a, axis=axis, keepdims=keepdims),
             ALL_DTYPES, lambda d: d),
    "amin": (lambda a, axis, keepdims: np.min(a, axis=axis, keepdims=keepdims),
             ALL_DTYPES, lambda d: d),
    "logsumexp": (np_logsumexp, FLOAT_DTYPES, lambda d: d),
    "all": (lambda a, axis, keepdims: np.all(a != 0, axis=axis, keepdims=keepdims),
            ALL_DTYPES, lambda d: "uint8" if d == "uint8" else "bool"),
    "any": (lambda a, axis, keepdims: np.any(a != 0, axis=axis, keepdims=keepdims),
            ALL_DTYPES, lambda d: "uint8" if d == "uint8" else "bool"),
}


def reduction_input(name, dtype, shape=SHAPE, seed=0):
    if name in ("all", "any") and dtype != "bool":
        # mostly non-zero so that `all` is sometimes true along a dim
        a, t = make(shape, dtype, seed=seed, positive=True)
        rng = np.random.default_rng(seed + 1)
        mask = rng.random(shape) < 0.1
        a = np.where(mask, 0, a)
        t = torch.tensor(a).to(dt(dtype))
        return a.astype(np.float64), t
    return make(shape, dtype, seed=seed)


@pytest.mark.parametrize("name, dtype", [(n, d) for n in REDUCTIONS for d in REDUCTIONS[n][1]])
def test_reduction(name, dtype):
    ref, dtypes, res_dtype_fn = REDUCTIONS[name]
    a, t = reduction_input(name, dtype)
    res_dtype = res_dtype_fn(dtype)
    before = to_np(t).copy()
    scale = np.abs(a).sum()
    fn = getattr(torch, name)

    # full reduction
    if name == "logsumexp":
        r = fn(t, dim=(0, 1, 2))
    else:
        r = fn(t)
        red_close(getattr(t, name)(), ref(a, None, False), res_dtype, scale)
    assert r.shape == () and r.dtype == dt(res_dtype), f"{name}({dtype}) -> {r.dtype}"
    red_close(r, ref(a, None, False), res_dtype, scale)

    for dim in INT_DIMS + TUPLE_DIMS:
        for keepdim in (False, True):
            r = fn(t, dim, keepdim=keepdim)
            exp = ref(a, norm_axis(dim), keepdim)
            assert r.dtype == dt(res_dtype)
            assert tuple(r.shape) == exp.shape, f"{name} dim={dim} keepdim={keepdim}"
            red_close(r, exp, res_dtype, scale)
        r = getattr(t, name)(dim=dim)
        red_close(r, ref(a, norm_axis(dim), False), res_dtype, scale)
    np.testing.assert_array_equal(to_np(t), before)


def test_sum_dtype_rules():
    assert torch.sum(torch.tensor([1, 2], dtype=torch.int32)).dtype == torch.int64
    assert torch.sum(torch.tensor([1, 2], dtype=torch.int32), dim=0).dtype == torch.int64
    r = torch.sum(torch.tensor([200, 200], dtype=torch.uint8))
    assert r.dtype == torch.int64 and r.item() == 400  # no uint8 wrap-around
    r = torch.sum(torch.tensor([True, True, False]))
    assert r.dtype == torch.int64 and r.item() == 2
    assert torch.sum(torch.tensor([1.0], dtype=torch.float16)).dtype == torch.float16
    r = torch.sum(torch.tensor([1, 2], dtype=torch.int32), dtype=torch.int32)
    assert r.dtype == torch.int32 and r.item() == 3
    r = torch.sum(torch.tensor([1.5, 2.0]), dim=0, keepdim=True, dtype=torch.float64)
    assert r.dtype == torch.float64 and r.tolist() == [3.5]
    r = torch.sum(torch.tensor([100, 100], dtype=torch.int8), dtype=torch.int8)
    assert r.item() == -56  # explicit narrow dtype wraps
    # large float16 sums are accumulated in higher precision
    h = torch.ones(4096, dtype=torch.float16)
    assert torch.sum(h).item() == 4096.0


def test_sum_mean_values_exact():
    t = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.sum().item() == 21.0
    assert t.sum(0).tolist() == [5.0, 7.0, 9.0]
    assert t.sum(-1, keepdim=True).tolist() == [[6.0], [15.0]]
    assert t.mean().item() == 3.5
    assert t.mean(dim=1).tolist() == [2.0, 5.0]
    assert t.mean((0, 1), keepdim=True).tolist() == [[3.5]]
    i = torch.tensor([[1, 2], [3, 4]])
    assert i.sum((0, 1)).item() == 10 and i.sum(dim=[1]).tolist() == [3, 7]


@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_mean_of_integers_raises(dtype):
    _, t = make((2, 3), dtype)
    before = to_np(t).copy()
    with pytest.raises(RuntimeError):
        torch.mean(t)
    with pytest.raises(RuntimeError):
        t.mean(dim=0)
    np.testing.assert_array_equal(to_np(t), before)
    if dtype != "bool":
        r = torch.mean(t, dtype=torch.float64)
        assert r.dtype == torch.float64
        np.testing.assert_allclose(r.item(), to_np(t).astype(np.float64).mean(), rtol=1e-12)


def test_all_any_values():
    t = torch.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]])
    assert torch.all(t).item() is False and torch.any(t).item() is True
    assert torch.all(t, dim=1).tolist() == [False, True]
    assert torch.any(torch.zeros(2, 2), dim=0).tolist() == [False, False]
    assert torch.all(torch.tensor([float("nan")])).item() is True  # NaN is non-zero
    assert torch.all(t, dim=(0, 1)).item() is False
    assert t.any(dim=0, keepdim=True).shape == (1, 3)
    u = torch.tensor([0, 3], dtype=torch.uint8)
    r = torch.any(u)
    assert r.dtype == torch.uint8 and r.item() == 1   # legacy: uint8 in, uint8 out
    assert torch.all(u).dtype == torch.uint8 and torch.all(u).item() == 0


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_count_nonzero(dtype):
    a, t = reduction_input("any", dtype)
    r = torch.count_nonzero(t)
    assert r.dtype == torch.int64 and r.shape == ()
    assert r.item() == np.count_nonzero(a)
    for dim in INT_DIMS + TUPLE_DIMS:
        r = torch.count_nonzero(t, dim=dim)
        exp = np.count_nonzero(a, axis=norm_axis(dim))
        assert r.dtype == torch.int64
        np.testing.assert_array_equal(to_np(r), exp)
    np.testing.assert_array_equal(to_np(t.count_nonzero(dim=0)), np.count_nonzero(a, axis=0))


def test_count_nonzero_special():
    t = torch.tensor([float("nan"), 0.0, -0.0, 1e-30, float("inf")])
    assert torch.count_nonzero(t).item() == 3
    assert torch.count_nonzero(torch.zeros(0)).item() == 0


# --------------------------------------------------------------------------- prod

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_prod(dtype):
    a, t = prod_input(SHAPE, dtype)
    res = sum_result_dtype(dtype)
    r = torch.prod(t)
    assert r.shape == () and r.dtype == dt(res)
    exp = np.prod(a)
    red_close(r, exp, res, abs(exp))
    for dim in INT_DIMS:
        for keepdim in (False, True):
            r = torch.prod(t, dim, keepdim=keepdim)
            exp = np.prod(a, axis=dim, keepdims=keepdim)
            assert r.dtype == dt(res) and tuple(r.shape) == exp.shape
            red_close(r, exp, res, np.abs(exp).max())
    red_close(t.prod(1), np.prod(a, axis=1), res, np.abs(np.prod(a, axis=1)).max())


def test_prod_values():
    t = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)
    r = t.prod()
    assert r.dtype == torch.int64 and r.item() == 720
    assert t.prod(0).tolist() == [4, 10, 18]
    assert torch.prod(t, 1, dtype=torch.float32).tolist() == [6.0, 120.0]
    assert torch.prod(torch.tensor([True, True])).dtype == torch.int64


# --------------------------------------------------------------------------- max / min / argmax / argmin

MINMAX = {"max": (np.max, np.argmax), "min": (np.min, np.argmin)}


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min(name, dtype):
    vref, iref = MINMAX[name]
    a, t = make(SHAPE, dtype)
    fn = getattr(torch, name)
    r = fn(t)
    assert r.shape == () and r.dtype == dt(dtype)
    assert_close(r, vref(a))
    for dim in INT_DIMS:
        for keepdim in (False, True):
            res = fn(t, dim, keepdim=keepdim)
            values, indices = res  # unpacks like a tuple
            assert res.values is values and res.indices is indices
            assert res[0] is values and res[1] is indices
            exp_v = vref(a, axis=dim, keepdims=keepdim)
            exp_i = iref(a, axis=dim)
            if keepdim:
                exp_i = np.expand_dims(exp_i, dim)
            assert values.dtype == dt(dtype) and indices.dtype == torch.int64
            assert tuple(values.shape) == exp_v.shape and tuple(indices.shape) == exp_v.shape
            assert_close(values, exp_v)
            # ties (frequent with small ints) resolve to the first occurrence
            np.testing.assert_array_equal(to_np(indices), exp_i)
        res = getattr(t, name)(dim=dim)
        assert_close(res.values, vref(a, axis=dim))
    # argmax / argmin
    argfn = getattr(torch, "arg" + name)
    r = argfn(t)
    assert r.dtype == torch.int64 and r.shape == ()
    assert r.item() == iref(a)
    for dim in INT_DIMS:
        r = argfn(t, dim=dim)
        np.testing.assert_array_equal(to_np(r), iref(a, axis=dim))
        r = argfn(t, dim, keepdim=True)
        np.testing.assert_array_equal(to_np(r), np.expand_dims(iref(a, axis=dim), dim))
    np.testing.assert_array_equal(to_np(getattr(t, "arg" + name)(1)), iref(a, axis=1))


def test_max_min_binary_form_and_ties():
    a = torch.tensor([[1, 2], [3, 4]])
    b = torch.tensor([[4, 3], [2, 1]])
    assert torch.max(a, b).tolist() == [[4, 3], [3, 4]]
    assert torch.min(a, b).tolist() == [[1, 2], [2, 1]]
    t = torch.tensor([1, 5, 5, 0, 0])
    assert torch.argmax(t).item() == 1 and torch.argmin(t).item() == 3
    assert torch.max(t, 0).indices.item() == 1
    assert torch.min(t, 0).indices.item() == 3
    assert torch.max(torch.tensor([True, False])).item() is True
    r = torch.max(torch.tensor([[1, 2], [3, 4]]), 1, True)
    assert r.values.tolist() == [[2], [4]] and r.indices.tolist() == [[1], [1]]


def test_max_min_nan_propagates():
    t = torch.tensor([1.0, float("nan"), 3.0, float("nan")])
    assert math.isnan(torch.max(t).item()) and math.isnan(torch.min(t).item())
    assert math.isnan(torch.amax(t).item()) and math.isnan(torch.amin(t).item())
    r = torch.max(t, 0)
    assert math.isnan(r.values.item()) and r.indices.item() == 1  # index of the first NaN
    assert torch.min(t, 0).indices.item() == 1
    assert torch.argmax(t).item() == 1 and torch.argmin(t).item() == 1
    assert math.isnan(torch.logsumexp(torch.tensor([float("nan"), 1.0]), 0).item())
    assert math.isnan(torch.sum(torch.tensor([float("inf"), float("-inf")])).item())


def test_minmax_dim_tuple_not_supported():
    t = torch.ones(2, 3)
    with pytest.raises(TypeError):
        torch.argmax(t, dim=(0, 1))
    with pytest.raises(TypeError):
        torch.max(t, dim=(0, 1))
    assert torch.amax(t, dim=(0, 1)).item() == 1.0


# --------------------------------------------------------------------------- std / var

VAR_OPTS = [dict(), dict(unbiased=True), dict(unbiased=False), dict(correction=0),
            dict(correction=1), dict(correction=2)]


def _ddof(opts):
    if "correction" in opts:
        return opts["correction"]
    return 0 if opts.get("unbiased") is False else 1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", ["var", "std"])
def test_std_var(name, dtype):
    ref = np.var if name == "var" else np.std
    a, t = make(SHAPE, dtype)
    fn = getattr(torch, name)
    rtol = {"float16": 5e-3, "bfloat16": 3e-2}.get(dtype)
    for opts in VAR_OPTS:
        ddof = _ddof(opts)
        r = fn(t, **opts)
        assert r.shape == () and r.dtype == dt(dtype)
        assert_close(r, ref(a, ddof=ddof), rtol=rtol)
        for dim in [0, 2, -1, (0, 2), (0, 1, 2), [1]]:
            for keepdim in (False, True):
                r = fn(t, dim=dim, keepdim=keepdim, **opts)
                exp = ref(a, axis=norm_axis(dim), ddof=ddof, keepdims=keepdim)
                assert tuple(r.shape) == exp.shape
                assert_close(r, exp, rtol=rtol)
    # positional unbiased flag, method form
    assert_close(fn(t, 1, False), ref(a, axis=1, ddof=0), rtol=rtol)
    assert_close(getattr(t, name)(dim=0), ref(a, axis=0, ddof=1), rtol=rtol)


def test_std_var_values_and_edge_cases():
    t = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert t.var().item() == pytest.approx(5 / 3, rel=1e-6)
    assert t.var(unbiased=False).item() == pytest.approx(1.25, rel=1e-6)
    assert t.std(correction=0).item() == pytest.approx(math.sqrt(1.25), rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about dof <= 0; not required
        assert torch.var(torch.tensor([1.0, 2.0]), correction=2).item() == math.inf
        assert math.isnan(torch.var(torch.tensor([1.0])).item())
        assert math.isnan(torch.std(torch.tensor([1.0]), dim=0).item())
    c = torch.tensor([5.0, 5.0, 5.0])
    assert c.var().item() == 0.0 and c.std().item() == 0.0


@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_std_var_of_integers_raises(dtype):
    _, t = make((4,), dtype)
    with pytest.raises(RuntimeError):
        torch.var(t)
    with pytest.raises(RuntimeError):
        torch.std(t, dim=0)


# --------------------------------------------------------------------------- norm

def np_norm(a, p, axis=None, keepdims=False):
    x = np.abs(a)
    if p == "fro" or p == 2:
        return np.sqrt(np.sum(x ** 2, axis=axis, keepdims=keepdims))
    if p == math.inf:
        return np.max(x, axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return np.min(x, axis=axis, keepdims=keepdims)
    if p == 0:
        return np.sum(x != 0, axis=axis, keepdims=keepdims).astype(np.float64)
    return np.sum(x ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 0.5, 0, "fro"])
def test_norm(p, dtype):
    a, t = make(SHAPE, dtype)
    r = torch.norm(t, p=p)
    assert r.shape == () and r.dtype == dt(dtype)
    exp = np_norm(a, p)
    red_close(r, exp, dtype, abs(exp))
    dims = [1, -1, (1, 2), (0, 2)] if p == "fro" else [0, 1, -1, (1, 2), (0, 2), (0, 1, 2)]
    for dim in dims:
        for keepdim in (False, True):
            r = torch.norm(t, p=p, dim=dim, keepdim=keepdim)
            exp = np_norm(a, p, axis=norm_axis(dim), keepdims=keepdim)
            assert tuple(r.shape) == exp.shape
            red_close(r, exp, dtype, np.abs(exp).max())
    r = t.norm(p=p, dim=1)
    red_close(r, np_norm(a, p, axis=1), dtype, np.abs(np_norm(a, p, axis=1)).max())


def test_norm_values_and_errors():
    t = torch.tensor([3.0, -4.0])
    assert torch.norm(t).item() == 5.0
    assert torch.norm(t, p=1).item() == 7.0
    assert torch.norm(t, p=float("inf")).item() == 4.0
    m = torch.tensor([[3.0, -4.0], [1.0, 2.0]])
    assert torch.norm(m, p="fro").item() == pytest.approx(math.sqrt(30), rel=1e-6)
    assert torch.norm(torch.tensor([])).item() == 0.0
    assert torch.norm(m, dim=1, dtype=torch.float64).dtype == torch.float64
    with pytest.raises(RuntimeError):
        torch.norm(torch.tensor([3, 4]))  # integer input


# --------------------------------------------------------------------------- logsumexp specifics

def test_logsumexp_stability_and_ints():
    r = torch.logsumexp(torch.tensor([1000.0, 1000.0]), 0)
    assert r.item() == pytest.approx(1000 + math.log(2), rel=1e-6)
    r = torch.logsumexp(torch.tensor([-1000.0, -1000.0]), 0)
    assert r.item() == pytest.approx(-1000 + math.log(2), rel=1e-6)
    assert torch.logsumexp(torch.tensor([float("-inf"), float("-inf")]), 0).item() == -math.inf
    assert torch.logsumexp(torch.tensor([float("inf"), 1.0]), 0).item() == math.inf
    r = torch.logsumexp(torch.tensor([1, 2]), 0)
    assert r.dtype == torch.float32
    assert r.item() == pytest.approx(math.log(math.e + math.e ** 2), rel=1e-6)
    with pytest.raises(TypeError):
        torch.logsumexp(torch.tensor([1.0, 2.0]))  # dim is required


# --------------------------------------------------------------------------- cumsum / cumprod

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative(name, dtype):
    ref = np.cumsum if name == "cumsum" else np.cumprod
    a, t = (make((3, 4, 5), dtype) if name == "cumsum" else prod_input((3, 4, 5), dtype))
    res = sum_result_dtype(dtype)
    fn = getattr(torch, name)
    for dim in INT_DIMS:
        r = fn(t, dim)
        exp = ref(a, axis=dim)
        assert r.dtype == dt(res) and r.shape == t.shape, f"{name}({dtype}) -> {r.dtype}"
        red_close(r, exp, res, np.abs(a).sum(axis=dim, keepdims=True).max())
        red_close(getattr(t, name)(dim=dim), exp, res, np.abs(a).sum(axis=dim, keepdims=True).max())
    r = fn(t, 1, dtype=torch.float64)
    assert r.dtype == torch.float64
    assert_close(r, ref(a, axis=1), rtol=1e-12, atol=1e-12)


def test_cumulative_values_and_errors():
    t = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)
    r = torch.cumsum(t, 1)
    assert r.dtype == torch.int64 and r.tolist() == [[1, 3, 6], [4, 9, 15]]
    assert torch.cumsum(t, 0).tolist() == [[1, 2, 3], [5, 7, 9]]
    assert torch.cumprod(t, -1).tolist() == [[1, 2, 6], [4, 20, 120]]
    assert torch.cumsum(torch.tensor([True, True, False]), 0).tolist() == [1, 2, 2]
    assert torch.cumsum(torch.tensor([200, 200], dtype=torch.uint8), 0).tolist() == [200, 400]
    r = torch.cumsum(torch.tensor([1.0, float("nan"), 1.0]), 0)
    assert r[0].item() == 1.0 and np.isnan(to_np(r)[1:]).all()
    with pytest.raises(TypeError):
        torch.cumsum(t, dim=(0, 1))
    with pytest.raises(IndexError):
        torch.cumsum(t, 2)
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]


# --------------------------------------------------------------------------- sort / argsort

@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "int8"])
def test_sort(dtype):
    a, t = make((4, 7), dtype, seed=3)  # small ints: many ties
    before = to_np(t).copy()
    for dim in [0, 1, -1]:
        for descending in (False, True):
            res = torch.sort(t, dim=dim, descending=descending)
            values, indices = res
            assert res.values is values and res.indices is indices
            exp = np.sort(a, axis=dim)
            if descending:
                exp = np.flip(exp, axis=dim)
            assert values.dtype == dt(dtype) and indices.dtype == torch.int64
            assert_close(values, exp)
            # whatever order ties come in, the indices must point at the values
            np.testing.assert_array_equal(np.take_along_axis(a, to_np(indices), axis=dim), to_np(values))
            # stable sort: ties keep their original order
            stable_idx = np.argsort(-a if descending else a, axis=dim, kind="stable")
            res = torch.sort(t, dim=dim, descending=descending, stable=True)
            np.testing.assert_array_equal(to_np(res.indices), stable_idx)
            assert_close(res.values, exp)
            r = torch.argsort(t, dim=dim, descending=descending, stable=True)
            np.testing.assert_array_equal(to_np(r), stable_idx)
            r = torch.argsort(t, dim=dim, descending=descending)
            np.testing.assert_array_equal(np.take_along_axis(a, to_np(r), axis=dim), exp)
    np.testing.assert_array_equal(to_np(t), before)  # not sorted in place
    v, i = t.sort()
    assert_close(v, np.sort(a, axis=-1))
    np.testing.assert_array_equal(to_np(t.argsort(stable=True)), np.argsort(a, axis=-1, kind="stable"))


def test_sort_stable_descending_example():
    t = torch.tensor([2, 1, 2, 1, 2])
    r = torch.sort(t, stable=True)
    assert r.values.tolist() == [1, 1, 2, 2, 2] and r.indices.tolist() == [1, 3, 0, 2, 4]
    r = torch.sort(t, stable=True, descending=True)
    assert r.values.tolist() == [2, 2, 2, 1, 1] and r.indices.tolist() == [0, 2, 4, 1, 3]
    assert torch.argsort(t, stable=True, descending=True).tolist() == [0, 2, 4, 1, 3]


def test_sort_nan_order():
    t = torch.tensor([3.0, float("nan"), 1.0, float("-inf")])
    r = torch.sort(t)
    v = to_np(r.values)
    assert v[:3].tolist() == [-math.inf, 1.0, 3.0] and np.isnan(v[3])  # NaN sorts last
    assert r.indices.tolist() == [3, 2, 0, 1]
    r = torch.sort(t, descending=True)
    assert np.isnan(to_np(r.values)[0]) and r.indices.tolist() == [1, 0, 2, 3]  # NaN first


def test_sort_noncontiguous():
    a, t = make((5, 6), "float64")
    assert_close(torch.sort(t.t(), dim=1).values, np.sort(a.T, axis=1))
    assert_close(torch.sort(t[::2, 1::2], dim=0).values, np.sort(a[::2, 1::2], axis=0))
    r = torch.sort(t[:1].expand(3, 6), descending=True)
    assert_close(r.values, np.broadcast_to(-np.sort(-a[:1], axis=1), (3, 6)))


# --------------------------------------------------------------------------- topk / kthvalue

@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8"])
def test_topk(dtype):
    a, t = make((4, 7), dtype, seed=5)
    for dim in [0, 1, -1]:
        n = a.shape[dim]
        for k in [0, 1, 3, n]:
            for largest in (True, False):
                res = torch.topk(t, k, dim=dim, largest=largest)
                values, indices = res
                assert res.values is values and res.indices is indices
                srt = np.sort(a, axis=dim)
                if largest:
                    srt = np.flip(srt, axis=dim)
                exp = np.take(srt, range(k), axis=dim)
                assert values.dtype == dt(dtype) and indices.dtype == torch.int64
                assert tuple(values.shape) == exp.shape
                assert_close(values, exp)  # sorted=True is the default
                np.testing.assert_array_equal(np.take_along_axis(a, to_np(indices), axis=dim),
                                              to_np(values))
                # sorted=False: the same set of values in some order
                res = torch.topk(t, k, dim=dim, largest=largest, sorted=False)
                np.testing.assert_array_equal(np.sort(to_np(res.values), axis=dim), np.sort(exp, axis=dim))
                np.testing.assert_array_equal(np.take_along_axis(a, to_np(res.indices), axis=dim),
                                              to_np(res.values))
    r = t.topk(2)
    assert_close(r.values, np.flip(np.sort(a, axis=-1), axis=-1)[:, :2])


def test_topk_values_and_errors():
    t = torch.tensor([[3, 1, 2], [0, 5, 4]])
    r = torch.topk(t, 2)
    assert r.values.tolist() == [[3, 2], [5, 4]] and r.indices.tolist() == [[0, 2], [1, 2]]
    r = torch.topk(t, 2, largest=False)
    assert r.values.tolist() == [[1, 2], [0, 4]] and r.indices.tolist() == [[1, 2], [0, 2]]
    r = torch.topk(t, 1, dim=0)
    assert r.values.tolist() == [[3, 5, 4]] and r.indices.tolist() == [[0, 1, 1]]
    f = torch.tensor([3.0, float("nan"), 1.0])
    r = torch.topk(f, 1)
    assert np.isnan(to_np(r.values)).all() and r.indices.tolist() == [1]  # NaN is largest
    with pytest.raises(RuntimeError):
        torch.topk(t, 4)
    with pytest.raises(IndexError):
        torch.topk(t, 1, dim=2)
    assert t.tolist() == [[3, 1, 2], [0, 5, 4]]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int16"])
def test_kthvalue(dtype):
    a, t = make((4, 7), dtype, seed=6)
    for dim in [0, 1, -1, -2]:
        n = a.shape[dim]
        srt = np.sort(a, axis=dim)
        for k in [1, 2, n]:
            for keepdim in (False, True):
                res = torch.kthvalue(t, k, dim=dim, keepdim=keepdim)
                values, indices = res
                assert res.values is values and res.indices is indices
                exp = np.take(srt, k - 1, axis=dim)
                if keepdim:
                    exp = np.expand_dims(exp, dim)
                assert values.dtype == dt(dtype) and indices.dtype == torch.int64
                assert tuple(values.shape) == exp.shape
                assert_close(values, exp)
                idx = to_np(indices) if keepdim else np.expand_dims(to_np(indices), dim)
                np.testing.assert_array_equal(np.take_along_axis(a, idx, axis=dim),
                                              exp if keepdim else np.expand_dims(exp, dim))
    r = t.kthvalue(2)  # default: last dim
    assert_close(r.values, np.sort(a, axis=-1)[:, 1])


def test_kthvalue_values_and_errors():
    t = torch.tensor([3.0, 1.0, 2.0])
    r = torch.kthvalue(t, 1)
    assert r.values.item() == 1.0 and r.indices.item() == 1
    assert torch.kthvalue(t, 3).values.item() == 3.0
    for k in (0, 4):
        with pytest.raises(RuntimeError):
            torch.kthvalue(t, k)
    with pytest.raises(IndexError):
        torch.kthvalue(t, 1, dim=1)
    with pytest.raises(IndexError):
        torch.kthvalue(torch.zeros(0), 1)
    assert t.tolist() == [3.0, 1.0, 2.0]


# --------------------------------------------------------------------------- non-contiguous inputs

NONCONTIG_VIEWS = {
    "transposed": (lambda t: t.t(), lambda a: a.T),
    "stepped": (lambda t: t[::2, 1::2], lambda a: a[::2, 1::2]),
    "expanded": (lambda t: t[1:2].expand(5, 6), lambda a: np.broadcast_to(a[1:2], (5, 6))),
    "column": (lambda t: t[:, 2:4], lambda a: a[:, 2:4]),
}


@pytest.mark.parametrize("view", list(NONCONTIG_VIEWS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_reductions_noncontiguous(view, dtype):
    tv, av = NONCONTIG_VIEWS[view]
    a, base = make((6, 6), dtype)
    t, a = tv(base), np.ascontiguousarray(av(a))
    res = sum_result_dtype(dtype)
    scale = np.abs(a).sum()
    red_close(t.sum(), a.sum(), res, scale)
    for dim in (0, 1, (0, 1)):
        red_close(torch.sum(t, dim), a.sum(axis=dim), res, scale)
        assert_close(torch.amax(t, dim), a.max(axis=dim))
        assert_close(torch.amin(t, dim), a.min(axis=dim))
        np.testing.assert_array_equal(to_np(torch.count_nonzero(t, dim)), np.count_nonzero(a, axis=dim))
        np.testing.assert_array_equal(to_np(torch.any(t, dim)), np.any(a != 0, axis=dim))
    for dim in (0, 1):
        r = torch.max(t, dim)
        assert_close(r.values, a.max(axis=dim))
        np.testing.assert_array_equal(to_np(r.indices), a.argmax(axis=dim))
        np.testing.assert_array_equal(to_np(torch.argmin(t, dim)), a.argmin(axis=dim))
        red_close(torch.cumsum(t, dim), np.cumsum(a, axis=dim), res, scale)
        assert_close(torch.sort(t, dim).values, np.sort(a, axis=dim))
        assert_close(torch.topk(t, 2, dim).values, np.take(-np.sort(-a, axis=dim), [0, 1], axis=dim))
    assert torch.argmax(t).item() == a.argmax()
    if dtype in FLOAT_DTYPES:
        for dim in (0, 1, (0, 1)):
            red_close(torch.mean(t, dim), a.mean(axis=dim), dtype, scale)
            assert_close(torch.std(t, dim), a.std(axis=dim, ddof=1), rtol=1e-4 if dtype == "float32" else None)
            assert_close(torch.var(t, dim, correction=0), a.var(axis=dim),
                         rtol=1e-4 if dtype == "float32" else None)
            red_close(torch.norm(t, dim=dim), np.sqrt((a ** 2).sum(axis=dim)), dtype, scale)
            red_close(torch.logsumexp(t, dim), np_logsumexp(a, axis=dim), dtype, scale)


# --------------------------------------------------------------------------- empty tensors

@pytest.mark.parametrize("shape", [(0,), (2, 0, 3)])
def test_empty_full_reductions(shape):
    t = torch.zeros(shape)
    assert torch.sum(t).item() == 0.0 and torch.sum(t).shape == ()
    assert torch.prod(t).item() == 1.0
    assert math.isnan(torch.mean(t).item())
    assert torch.norm(t).item() == 0.0
    assert torch.all(t).item() is True and torch.any(t).item() is False
    assert torch.count_nonzero(t).item() == 0
    assert torch.sum(torch.zeros(shape, dtype=torch.int32)).dtype == torch.int64
    assert torch.sum(torch.zeros(shape, dtype=torch.int32)).item() == 0
    for f in (torch.max, torch.min, torch.amax, torch.amin):
        with pytest.raises(RuntimeError):
            f(t)
    for f in (torch.argmax, torch.argmin):
        with pytest.raises(IndexError):  # PyTorch raises IndexError here, not RuntimeError
            f(t)
    assert tuple(t.shape) == shape


def test_empty_dim_reductions():
    t = torch.zeros(2, 0, 3)
    r = torch.sum(t, 1)
    assert r.shape == (2, 3) and r.tolist() == [[0.0] * 3] * 2
    assert torch.sum(t, 1, keepdim=True).shape == (2, 1, 3)
    assert torch.prod(t, 1).tolist() == [[1.0] * 3] * 2
    assert np.isnan(to_np(torch.mean(t, 1))).all()
    assert torch.logsumexp(t, 1).tolist() == [[-math.inf] * 3] * 2
    assert torch.all(t, 1).tolist() == [[True] * 3] * 2
    assert torch.any(t, 1).tolist() == [[False] * 3] * 2
    assert torch.count_nonzero(t, 1).tolist() == [[0] * 3] * 2
    # reducing over a non-empty dim of an empty tensor gives an empty result
    assert torch.sum(t, 0).shape == (0, 3)
    assert torch.amax(t, 2).shape == (2, 0)
    r = torch.max(t, 2)
    assert r.values.shape == (2, 0) and r.indices.shape == (2, 0)
    assert torch.argmax(t, 0).shape == (0, 3)
    # reducing over the empty dim with max-like ops is an error (IndexError)
    with pytest.raises(IndexError):
        torch.max(t, 1)
    with pytest.raises(IndexError):
        torch.amax(t, 1)
    with pytest.raises(IndexError):
        torch.argmin(t, 1)
    # scans and sorts keep the empty shape
    assert torch.cumsum(t, 1).shape == (2, 0, 3)
    assert torch.cumprod(t, 2).shape == (2, 0, 3)
    assert torch.sort(t, 1).values.shape == (2, 0, 3)
    assert torch.topk(t, 0, 1).values.shape == (2, 0, 3)
    assert torch.argsort(t, 2).shape == (2, 0, 3)


# --------------------------------------------------------------------------- 0-d tensors

def test_zero_dim_reductions():
    t = torch.tensor(5.0)
    for f in (torch.sum, torch.mean, torch.amax, torch.amin, torch.prod):
        assert f(t).item() == 5.0 and f(t).shape == ()
    assert torch.sum(t, 0).item() == 5.0 and torch.sum(t, -1).item() == 5.0
    r = torch.max(t, 0)
    assert r.values.item() == 5.0 and r.indices.item() == 0
    assert torch.argmax(t).item() == 0
    assert torch.cumsum(t, 0).item() == 5.0 and torch.cumsum(t, 0).shape == ()
    r = torch.sort(t)
    assert r.values.item() == 5.0 and r.indices.item() == 0
    assert torch.norm(torch.tensor(-3.0)).item() == 3.0
    assert torch.logsumexp(t, 0).item() == 5.0
    with pytest.raises(IndexError):
        torch.sum(t, 1)


# --------------------------------------------------------------------------- bad dims

BAD_DIM_CALLS = {
    "sum": lambda t, d: torch.sum(t, d),
    "mean": lambda t, d: torch.mean(t, d),
    "prod": lambda t, d: torch.prod(t, d),
    "max": lambda t, d: torch.max(t, d),
    "amax": lambda t, d: torch.amax(t, d),
    "argmax": lambda t, d: torch.argmax(t, d),
    "std": lambda t, d: torch.std(t, d),
    "var": lambda t, d: torch.var(t, d),
    "norm": lambda t, d: torch.norm(t, dim=d),
    "logsumexp": lambda t, d: torch.logsumexp(t, d),
    "all": lambda t, d: torch.all(t, d),
    "any": lambda t, d: torch.any(t, d),
    "cumsum": lambda t, d: torch.cumsum(t, d),
    "cumprod": lambda t, d: torch.cumprod(t, d),
    "count_nonzero": lambda t, d: torch.count_nonzero(t, d),
    "sort": lambda t, d: torch.sort(t, d),
    "argsort": lambda t, d: torch.argsort(t, d),
    "kthvalue": lambda t, d: torch.kthvalue(t, 1, d),
    "topk": lambda t, d: torch.topk(t, 1, d),
}


@pytest.mark.parametrize("name", list(BAD_DIM_CALLS))
def test_dim_out_of_range_raises_indexerror(name):
    a, t = make((2, 3), "float32")
    for d in (2, -3, 5):
        with pytest.raises(IndexError):
            BAD_DIM_CALLS[name](t, d)
    np.testing.assert_array_equal(to_np(t), a)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "std", "var", "logsumexp",
                                  "count_nonzero"])
def test_repeated_dim_raises(name):
    t = torch.ones(2, 3)
    with pytest.raises(RuntimeError):
        getattr(torch, name)(t, (0, 0))
    with pytest.raises(RuntimeError):
        getattr(torch, name)(t, (1, -1))
    with pytest.raises(IndexError):
        getattr(torch, name)(t, (0, 2))


# --------------------------------------------------------------------------- out=

def test_reduction_out():
    a, t = make((3, 4), "float64")
    out = torch.empty(4, dtype=torch.float64)
    assert torch.sum(t, 0, out=out) is out
    assert_close(out, a.sum(axis=0))
    out = torch.empty(3, dtype=torch.float64)
    torch.mean(t, 1, out=out)
    assert_close(out, a.mean(axis=1))
    out = torch.empty((), dtype=torch.float64)
    torch.amax(t, (0, 1), out=out)
    assert_close(out, a.max())
    out = torch.empty(3, 4, dtype=torch.float64)
    torch.cumsum(t, 1, out=out)
    assert_close(out, np.cumsum(a, axis=1))


def test_dim_given_as_a_0d_integer_tensor():
    # PyTorch takes anything with __index__ as a dim, 0-d integer tensors included
    a = np.arange(12.0).reshape(3, 4)
    t = torch.tensor(a)
    d = torch.tensor(1)
    np.testing.assert_allclose(to_np(t.sum(d)), a.sum(1))
    np.testing.assert_allclose(to_np(torch.amax(t, torch.tensor(0))), a.max(0))
    np.testing.assert_allclose(to_np(torch.std(t, torch.tensor(-1))), a.std(-1, ddof=1))
    assert torch.all(t >= 0, torch.tensor(0)).tolist() == [True] * 4
    np.testing.assert_allclose(to_np(t.roll(1, torch.tensor(0))), np.roll(a, 1, 0))
    np.testing.assert_allclose(to_np(t.flip(np.int64(1))), a[:, ::-1])
