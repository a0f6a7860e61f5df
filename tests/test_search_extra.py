import numpy as np
import pytest
import ferrotorch as torch

import warnings
from _helpers import assert_close, make, to_np, dt

NAN = float("nan")


def ints(shape, dtype="int64", lo=0, hi=5, seed=0):
    """(int64 NumPy array, tensor of `dtype`) with many repeated values."""
    a = np.random.default_rng(seed).integers(lo, hi, size=shape)
    return a, torch.tensor(a).to(dt(dtype))


def views(t):
    """The tensor plus non-contiguous views holding the same values (transposed copy, stepped slice)."""
    out = [("contig", t)]
    if t.dim() == 2:
        out.append(("transposed", t.t().contiguous().t()))
    if t.dim() >= 1:
        # rows of t interleaved with zero rows, then every other row: a stride-2 view of t's values
        big = torch.stack([t, torch.zeros_like(t)], 1).reshape(2 * t.shape[0], *t.shape[1:])
        out.append(("stepped", big[::2]))
    return out


def gradcheck(fn, *inputs):
    assert torch.autograd.gradcheck(fn, tuple(inputs))


def leaf(shape, seed=0):
    a, t = make(shape, "float64", seed=seed)
    return a, t.requires_grad_(True)


# ---- unique / unique_consecutive -----------------------------------------------------------
@pytest.mark.parametrize("shape", [(0,), (9,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("dtype", ["int64", "int8", "float32", "float64", "bool"])
def test_unique_matches_numpy(shape, dtype):
    a, t = ints(shape, dtype, hi=2 if dtype == "bool" else 5)
    a = a.astype(bool) if dtype == "bool" else a
    for _, v in views(t):
        vals, inv, cnt = torch.unique(v, return_inverse=True, return_counts=True)
        ev, ei, ec = np.unique(a, return_inverse=True, return_counts=True)
        assert vals.dtype == v.dtype and inv.dtype == torch.int64 and cnt.dtype == torch.int64
        assert_close(vals, ev.astype(vals.numpy().dtype) if dtype != "bool" else ev)
        assert_close(inv, ei.reshape(shape))
        assert_close(cnt, ec)
        assert_close(v.unique(), ev)


def test_unique_return_forms_and_nan():
    t = torch.tensor([3.0, NAN, 1.0, NAN, 3.0])
    assert isinstance(torch.unique(t), torch.Tensor)
    assert len(torch.unique(t, return_counts=True)) == 2
    vals, counts = torch.unique(t, return_counts=True)
    # every NaN is its own value (NaN != NaN), as np.unique(equal_nan=False)
    assert_close(vals, np.unique(to_np(t), equal_nan=False))
    assert_close(counts, np.array([1, 2, 1, 1]))
    v0, i0 = torch.unique(torch.tensor(7), return_inverse=True)
    assert tuple(v0.shape) == (1,) and tuple(i0.shape) == () and i0.item() == 0


@pytest.mark.parametrize("shape", [(6, 3, 5), (4, 1, 7), (0, 3, 2)])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["int64", "float32", "uint8"])
def test_unique_dim_matches_numpy(shape, dim, dtype):
    a, t = ints(shape, dtype, hi=2, seed=3)
    if shape[0] == 0 and dim != 0:
        with pytest.raises(RuntimeError, match="There are 0 sized dimensions, and they aren't selected"):
            torch.unique(t, dim=dim)
        return
    ev, ei, ec = np.unique(a, axis=dim, return_inverse=True, return_counts=True)
    for _, v in views(t):
        vals, inv, cnt = torch.unique(v, dim=dim, return_inverse=True, return_counts=True)
        assert_close(vals, ev)
        assert_close(inv, ei.reshape(-1))
        assert_close(cnt, ec)
    assert_close(t.unique(dim=dim), ev)


def _runs_ref(seq):
    vals, inv, counts = [], [], []
    for x in seq:
        if not vals or x != vals[-1]:
            vals.append(x)
            counts.append(0)
        counts[-1] += 1
        inv.append(len(vals) - 1)
    return np.array(vals), np.array(inv, dtype=np.int64), np.array(counts, dtype=np.int64)


@pytest.mark.parametrize("shape", [(0,), (12,), (3, 4)])
@pytest.mark.parametrize("dtype", ["int64", "int16", "float32"])
def test_unique_consecutive_matches_reference(shape, dtype):
    a, t = ints(shape, dtype, hi=3, seed=1)
    for _, v in views(t):
        vals, inv, cnt = torch.unique_consecutive(v, return_inverse=True, return_counts=True)
        ev, ei, ec = _runs_ref(a.reshape(-1).tolist())
        assert_close(vals, ev.reshape(-1))
        assert_close(inv, ei.reshape(shape))
        assert_close(cnt, ec)
        assert_close(v.unique_consecutive(), ev.reshape(-1))


def test_unique_consecutive_dim():
    a = np.array([[1, 1, 2, 2, 1], [0, 0, 3, 3, 0]])
    t = torch.tensor(a)
    vals, inv, cnt = torch.unique_consecutive(t, return_inverse=True, return_counts=True, dim=1)
    assert_close(vals, a[:, [0, 2, 4]])
    assert_close(inv, np.array([0, 0, 1, 1, 2]))
    assert_close(cnt, np.array([2, 2, 1]))
    assert_close(torch.unique_consecutive(t.t(), dim=0), a[:, [0, 2, 4]].T)


# ---- searchsorted / bucketize / isin -------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_1d_matches_numpy(dtype, side):
    seq_np = np.array([-3, -1, -1, 0, 2, 2, 2, 5])
    vals_np, vals = ints((4, 6), "int64", lo=-5, hi=7, seed=2)
    seq = torch.tensor(seq_np).to(dt(dtype))
    vals = vals.to(dt(dtype))
    for _, v in views(vals):
        r = torch.searchsorted(seq, v, right=side == "right")
        assert r.dtype == torch.int64
        assert_close(r, np.searchsorted(seq_np, vals_np, side=side))
        assert_close(torch.searchsorted(seq, v, side=side, out_int32=True), np.searchsorted(seq_np, vals_np, side=side))
        assert torch.searchsorted(seq, v, out_int32=True).dtype == torch.int32


def test_searchsorted_batched_sorter_scalar_and_empty():
    rng = np.random.default_rng(3)
    seq_np = np.sort(rng.uniform(-2, 2, (2, 3, 5)), -1)
    vals_np = rng.uniform(-3, 3, (2, 3, 4))
    r = torch.searchsorted(torch.tensor(seq_np), torch.tensor(vals_np), right=True)
    expected = np.stack([[np.searchsorted(seq_np[i, j], vals_np[i, j], side="right") for j in range(3)]
                         for i in range(2)])
    assert_close(r, expected)
    unsorted = np.array([5.0, 1.0, 3.0, 2.0])
    order = np.argsort(unsorted)
    q = np.array([0.0, 2.0, 2.5, 9.0])
    assert_close(torch.searchsorted(torch.tensor(unsorted), torch.tensor(q), sorter=torch.tensor(order)),
                 np.searchsorted(unsorted, q, sorter=order))
    s = torch.searchsorted(torch.tensor([1.0, 2.0, 3.0]), 2.5)
    assert tuple(s.shape) == () and s.item() == 2
    assert_close(torch.searchsorted(torch.tensor([]), torch.tensor([1.0, 2.0])), np.array([0, 0]))
    assert_close(torch.searchsorted(torch.tensor([1.0]), torch.zeros(0)), np.zeros(0, dtype=np.int64))


def test_searchsorted_errors():
    seq = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right'"):
        torch.searchsorted(seq, torch.tensor([1.0]), side="middle")
    with pytest.raises(RuntimeError, match="boundaries tensor should have positive dimension"):
        torch.searchsorted(torch.tensor(1.0), torch.tensor([1.0]))
    with pytest.raises(RuntimeError, match="first N-1 dimensions of boundaries tensor and input value tensor must match"):
        torch.searchsorted(torch.zeros(2, 3), torch.zeros(3, 1))
    with pytest.raises(RuntimeError, match="boundary and sorter must have the same size"):
        torch.searchsorted(seq, torch.tensor([1.0]), sorter=torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="sorter index out of range"):
        torch.searchsorted(seq, torch.tensor([1.0]), sorter=torch.tensor([0, 1, 5]))


@pytest.mark.parametrize("right", [False, True])
def test_bucketize_matches_digitize(right):
    bounds = np.array([-2.0, -0.5, 0.0, 0.0, 1.0, 2.5])
    a, t = make((5, 7), "float64", seed=4)
    a[0, :3] = [-0.5, 0.0, 2.5]
    t = torch.tensor(a)
    # torch's right=False is boundaries[i-1] < x <= boundaries[i], NumPy's digitize with right=True
    assert_close(torch.bucketize(t.t(), torch.tensor(bounds), right=right), np.digitize(a.T, bounds, right=not right))
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
        torch.bucketize(t, torch.zeros(2, 2))


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_isin_matches_numpy(invert, dtype):
    a, t = ints((4, 5), dtype, lo=-4, hi=8, seed=5)
    b, u = ints((6,), dtype, lo=-4, hi=8, seed=6)
    for _, v in views(t):
        r = torch.isin(v, u, invert=invert)
        assert r.dtype == torch.bool
        assert_close(r, np.isin(a, b, invert=invert))
    assert_close(torch.isin(t, u[::2].float()), np.isin(a, b[::2]))
    assert_close(torch.isin(t, 3), np.isin(a, 3))
    assert torch.isin(3, u).item() == bool(np.isin(3, b))
    assert_close(torch.isin(t, u[:0]), np.zeros((4, 5), dtype=bool))


def test_isin_bool_and_nan():
    with pytest.raises(NotImplementedError, match="Unsupported input type encountered for isin\\(\\): Bool"):
        torch.isin(torch.tensor([True, False, True]), torch.tensor([False]))
    e = np.array([1.0, NAN, 2.0])
    assert_close(torch.isin(torch.tensor(e), torch.tensor([NAN, 2.0])), np.isin(e, [NAN, 2.0]))


# ---- indexing ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["bool", "int32", "float32"])
def test_argwhere_matches_numpy(dtype):
    a, t = ints((4, 5), dtype, lo=0, hi=2 if dtype == "bool" else 3, seed=7)
    for _, v in views(t):
        assert_close(torch.argwhere(v), np.argwhere(a))
        assert_close(v.argwhere(), np.argwhere(a))
    assert tuple(torch.argwhere(torch.zeros(0, 3)).shape) == (0, 2)


def test_take_matches_numpy():
    a, t = make((3, 4), "float32", seed=8)
    idx = np.array([[0, -1, 5], [11, -12, 3]])
    for _, v in views(t):
        assert_close(torch.take(v, torch.tensor(idx)), np.take(a, idx))
        assert_close(v.take(torch.tensor([2])), np.take(a, [2]))
    assert tuple(torch.take(t, torch.zeros(0, dtype=torch.int64)).shape) == (0,)
    with pytest.raises(IndexError, match="out of range: tried to access index 12 on a tensor of 12 elements"):
        torch.take(t, torch.tensor([12]))
    with pytest.raises(RuntimeError, match="Expected a long tensor for index"):
        torch.take(t, torch.tensor([1.0]))


def test_take_along_dim_matches_numpy_and_grad():
    a, t = make((3, 4), "float64", seed=9)
    idx = np.argsort(a, axis=1)
    for _, v in views(t):
        assert_close(torch.take_along_dim(v, torch.tensor(idx), 1), np.take_along_axis(a, idx, 1))
        assert_close(v.take_along_dim(torch.tensor(idx[:, :1]), dim=-1), np.take_along_axis(a, idx[:, :1], 1))
    # broadcasting of the non-indexed dims
    col = np.array([[2], [0]])
    assert_close(torch.take_along_dim(t[:1], torch.tensor(col), 1), np.take_along_axis(np.broadcast_to(a[:1], (2, 4)),
                                                                                        col, 1))
    assert_close(torch.take_along_dim(t, torch.tensor([0, 11, 5])), np.take(a.ravel(), [0, 11, 5]))
    _, x = leaf((3, 4))
    gradcheck(lambda x: torch.take_along_dim(x, torch.tensor(idx), 1), x)
    with pytest.raises(RuntimeError, match="dtype of indices should be Long"):
        torch.take_along_dim(t, torch.zeros(3, 1), 1)
    with pytest.raises(RuntimeError, match="should have the same number of dimensions"):
        torch.take_along_dim(t, torch.zeros(3, dtype=torch.int64), 1)


# ---- NaN-aware reductions, median ----------------------------------------------------------
def with_nans(shape, seed):
    a, t = make(shape, "float64", seed=seed)
    a[np.random.default_rng(seed).random(shape) < 0.3] = np.nan
    return a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False)])
def test_nansum_nanmean_match_numpy(dtype, dim, keepdim):
    a = with_nans((4, 5), 10)
    t = torch.tensor(a).to(dt(dtype))
    axis = dim
    for _, v in views(t):
        assert_close(torch.nansum(v, dim, keepdim) if dim is not None else torch.nansum(v),
                     np.nansum(a, axis=axis, keepdims=keepdim))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice" for all-NaN rows
            ref = np.nanmean(a, axis=axis, keepdims=keepdim)
        assert_close(v.nanmean(dim, keepdim) if dim is not None else v.nanmean(), ref)


def test_nansum_int_and_nanmean_errors_and_grad():
    a, t = ints((3, 4), "int16", lo=-5, hi=5, seed=11)
    assert_close(torch.nansum(t, 1), a.sum(1))
    assert torch.nansum(t).dtype == torch.int64
    with pytest.raises(NotImplementedError, match="nanmean\\(\\): expected input to have floating point"):
        torch.nanmean(t)
    a = with_nans((3, 4), 12)
    a[:, 0] = 1.0
    x = torch.tensor(a).requires_grad_(True)
    gradcheck(lambda x: torch.nansum(x, 1), x)
    gradcheck(lambda x: torch.nanmean(x, 0), x)


def lower_median(a, axis):
    s = np.sort(a, axis=axis)
    return np.take(s, (a.shape[axis] - 1) // 2, axis=axis)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8"])
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((4, 6), 1), ((4, 6), 0), ((3, 2, 5), -1)])
def test_median_matches_numpy(dtype, shape, dim):
    a, t = make(shape, dtype, seed=13)
    for _, v in views(t):
        assert_close(torch.median(v), lower_median(a.ravel(), 0))
        r = torch.median(v, dim)
        assert_close(r.values, lower_median(a, dim))
        assert r.indices.dtype == torch.int64
        assert_close(v.gather(dim, r.indices.unsqueeze(dim)).squeeze(dim), lower_median(a, dim))
        vals, idx = v.median(dim, keepdim=True)
        assert_close(vals, np.expand_dims(lower_median(a, dim), dim))
        r2 = torch.nanmedian(v, dim)
        assert_close(r2.values, lower_median(a, dim))


def test_median_nan_handling():
    a = np.array([[1.0, NAN, 3.0, 2.0], [4.0, 0.0, 5.0, 6.0], [NAN, NAN, NAN, NAN]])
    t = torch.tensor(a)
    r = torch.median(t, 1)
    assert_close(r.values, np.array([NAN, 4.0, NAN]))
    assert np.isnan(to_np(t.gather(1, r.indices.unsqueeze(1)))[[0, 2], 0]).all()
    assert np.isnan(torch.median(t).item())
    n = torch.nanmedian(t, 1)
    expected = [np.sort(row[~np.isnan(row)])[(np.sum(~np.isnan(row)) - 1) // 2] if (~np.isnan(row)).any() else NAN
                for row in a]
    assert_close(n.values, np.array(expected))
    assert_close(t.gather(1, n.indices.unsqueeze(1))[:2, 0], np.array(expected[:2]))
    assert_close(torch.nanmedian(t), np.array(3.0))
    assert np.isnan(torch.median(torch.tensor([])).item())
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        torch.median(torch.zeros(0, 3), 0)
    with pytest.raises(NotImplementedError, match="\"median_out\" not implemented for 'Bool'"):
        torch.nanmedian(torch.tensor([True]), 0)
    _, x = leaf((4, 5), seed=14)
    gradcheck(lambda x: torch.median(x, 1).values, x)
    gradcheck(lambda x: torch.median(x), x)


# ---- scans ---------------------------------------------------------------------------------
def cum_ref(a, axis, better):
    """Running extreme and the index of its latest occurrence; a NaN sticks, a later NaN takes over
    (PyTorch's rule)."""
    a = np.moveaxis(a, axis, -1)
    vals, idx = np.empty_like(a), np.zeros(a.shape, dtype=np.int64)
    for pos in np.ndindex(a.shape[:-1]):
        best, bi = None, 0
        for i, x in enumerate(a[pos]):
            if best is None or np.isnan(x) or (not np.isnan(best) and (better(x, best) or x == best)):
                best, bi = x, i
            vals[pos + (i,)], idx[pos + (i,)] = best, bi
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8"])
@pytest.mark.parametrize("shape,dim", [((9,), 0), ((4, 6), 1), ((4, 6), 0), ((2, 3, 17), -1), ((0, 3), 0)])
def test_cummax_cummin_match_reference(dtype, shape, dim):
    a, t = ints(shape, dtype, lo=0, hi=4, seed=15)
    for _, v in views(t):
        mx = torch.cummax(v, dim)
        assert_close(mx.values, np.maximum.accumulate(a, axis=dim) if a.size else a)
        assert_close(mx.indices, cum_ref(a.astype(float), dim, lambda x, b: x > b)[1])
        mn = v.cummin(dim)
        assert_close(mn.values, np.minimum.accumulate(a, axis=dim) if a.size else a)
        assert_close(mn.indices, cum_ref(a.astype(float), dim, lambda x, b: x < b)[1])


def test_cummax_nan_and_grad():
    a = np.array([1.0, 1.0, 0.0, 1.0, NAN, 2.0, NAN, 5.0])
    r = torch.cummax(torch.tensor(a), 0)
    ev, ei = cum_ref(a, 0, lambda x, b: x > b)
    assert_close(r.values, ev)
    assert_close(r.indices, ei)
    _, x = leaf((3, 7), seed=16)
    gradcheck(lambda x: torch.cummax(x, 1).values, x)
    gradcheck(lambda x: torch.cummin(x, 0).values, x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,dim", [((9,), 0), ((4, 6), 1), ((3, 2, 5), 0)])
def test_logcumsumexp_matches_numpy(dtype, shape, dim):
    a, t = make(shape, dtype, seed=17)
    for _, v in views(t):
        assert_close(torch.logcumsumexp(v, dim), np.logaddexp.accumulate(a, axis=dim))


def test_logcumsumexp_extremes_grad_errors():
    a = np.array([-1000.0, 0.0, -np.inf, 800.0, 800.0])
    assert_close(torch.logcumsumexp(torch.tensor(a), 0), np.logaddexp.accumulate(a))
    assert_close(torch.logcumsumexp(torch.full((3,), -np.inf, dtype=torch.float64), 0), np.full(3, -np.inf))
    _, x = leaf((3, 6), seed=18)
    gradcheck(lambda x: torch.logcumsumexp(x, 1), x)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        torch.logcumsumexp(torch.tensor([1, 2]), 0)


# ---- small reductions ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_aminmax_matches_numpy(dtype):
    a, t = make((4, 5), dtype, seed=19)
    for _, v in views(t):
        r = torch.aminmax(v)
        assert_close(r.min, a.min())
        assert_close(r.max, a.max())
        lo, hi = v.aminmax(dim=1, keepdim=True)
        assert_close(lo, a.min(1, keepdims=True))
        assert_close(hi, a.max(1, keepdims=True))
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        torch.aminmax(torch.zeros(0))
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        torch.aminmax(torch.zeros(2, 0), dim=1)


@pytest.mark.parametrize("which", ["var", "std"])
def test_var_mean_std_mean_match_numpy(which):
    a, t = make((4, 5), "float64", seed=20)
    ref = np.var if which == "var" else np.std
    f = getattr(torch, which + "_mean")
    for _, v in views(t):
        s, m = f(v)
        assert_close(s, ref(a, ddof=1))
        assert_close(m, a.mean())
        s, m = f(v, 1, correction=0, keepdim=True)
        assert_close(s, ref(a, axis=1, ddof=0, keepdims=True))
        assert_close(m, a.mean(1, keepdims=True))
        s, m = f(v, (0, 1), unbiased=False)
        assert_close(s, ref(a, ddof=0))
        s, m = f(v, False)
        assert_close(s, ref(a, ddof=0))
    _, x = leaf((3, 4), seed=21)
    gradcheck(lambda x: f(x, 1)[0], x)
    with pytest.raises(NotImplementedError, match=f"{which}_mean only support floating point and complex dtypes"):
        f(torch.tensor([1, 2]))


# ---- differences, integration --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "bool"])
@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (3, 1), (9, 1)])
def test_diff_matches_numpy(dtype, n, dim):
    a, t = ints((4, 5), dtype, lo=0, hi=2 if dtype == "bool" else 9, seed=22)
    a = a.astype(bool) if dtype == "bool" else a
    for _, v in views(t):
        assert_close(torch.diff(v, n, dim), np.diff(a, n, axis=dim))
    pre, post = a[:1] if dim == 0 else a[:, :2], a[-1:] if dim == 0 else a[:, -1:]
    tp = torch.tensor(pre).to(t.dtype)
    tq = torch.tensor(post).to(t.dtype)
    assert_close(t.diff(n, dim, prepend=tp, append=tq), np.diff(a, n, axis=dim, prepend=pre, append=post))


def test_diff_grad_and_errors():
    _, x = leaf((3, 5), seed=23)
    gradcheck(lambda x: torch.diff(x, 2, 1), x)
    assert_close(torch.diff(torch.tensor([1, 2]), prepend=torch.tensor([1.5])), np.array([-0.5, 1.0]))
    with pytest.raises(RuntimeError, match="order must be non-negative but got -1"):
        torch.diff(torch.tensor([1, 2]), n=-1)
    with pytest.raises(RuntimeError, match="diff expects input to be at least one-dimensional"):
        torch.diff(torch.tensor(1))
    with pytest.raises(RuntimeError, match="diff expects prepend or append to be the same dimension as input"):
        torch.diff(torch.zeros(2, 2), prepend=torch.zeros(2))


def test_trapezoid_family_matches_numpy():
    a, t = make((4, 6), "float64", seed=24)
    xs = np.cumsum(np.random.default_rng(25).uniform(0.1, 1.0, 6))
    for _, v in views(t):
        assert_close(torch.trapezoid(v), np.trapezoid(a))
        assert_close(torch.trapezoid(v, dx=0.5, dim=0), np.trapezoid(a, dx=0.5, axis=0))
        assert_close(torch.trapezoid(v, torch.tensor(xs)), np.trapezoid(a, xs))
        assert_close(torch.trapz(v, torch.tensor(xs)), np.trapezoid(a, xs))
        ref = np.cumsum((a[:, 1:] + a[:, :-1]) * np.diff(xs) / 2, axis=1)
        assert_close(torch.cumulative_trapezoid(v, torch.tensor(xs)), ref)
        assert_close(torch.cumulative_trapezoid(v, dx=2.0, dim=0), np.cumsum(a[1:] + a[:-1], axis=0))
    r = torch.trapezoid(torch.tensor([1, 2, 4]))
    assert r.dtype == torch.float32 and r.item() == 4.5
    assert_close(torch.trapezoid(torch.zeros(2, 0)), np.zeros(2))
    assert tuple(torch.cumulative_trapezoid(torch.zeros(2, 0)).shape) == (2, 0)
    _, y = leaf((3, 5), seed=26)
    gradcheck(lambda y: torch.trapezoid(y, torch.tensor(xs[:5])), y)
    gradcheck(lambda y: torch.cumulative_trapezoid(y, dim=0), y)
    with pytest.raises(IndexError, match="tensor has no dimensions"):
        torch.trapezoid(torch.tensor(1.0))
    with pytest.raises(NotImplementedError, match="cumulative_trapezoid: received a bool input for `y`"):
        torch.cumulative_trapezoid(torch.tensor([True, False]))


# ---- counting ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_bincount_matches_numpy(dtype):
    a, t = ints((20,), dtype, lo=0, hi=7, seed=27)
    w = np.random.default_rng(28).uniform(0, 1, 20)
    for _, v in views(t):
        r = torch.bincount(v)
        assert r.dtype == torch.int64
        assert_close(r, np.bincount(a))
        assert_close(v.bincount(minlength=12), np.bincount(a, minlength=12))
        rw = torch.bincount(v, torch.tensor(w).float())
        assert rw.dtype == torch.float32
        assert_close(rw, np.bincount(a, w), rtol=1e-6, atol=1e-6)
        assert torch.bincount(v, torch.ones(20, dtype=torch.int32)).dtype == torch.float64
    assert_close(torch.bincount(torch.zeros(0, dtype=torch.int64)), np.zeros(0, dtype=np.int64))


def test_bincount_errors():
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        torch.bincount(torch.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        torch.bincount(torch.tensor([[1, 2]]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        torch.bincount(torch.tensor([1.0]))
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        torch.bincount(torch.tensor([1]), minlength=-1)
    with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length as input"):
        torch.bincount(torch.tensor([1, 2]), torch.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bins,lo,hi", [(10, -2.0, 2.0), (7, 0, 0), (3, -1.0, 5.0)])
def test_histc_matches_numpy(dtype, bins, lo, hi):
    a, t = make((6, 7), dtype, seed=29)
    rng = (a.min(), a.max()) if lo == hi else (lo, hi)
    for _, v in views(t):
        r = torch.histc(v, bins, lo, hi)
        assert r.dtype == t.dtype
        assert_close(r, np.histogram(a, bins, range=rng)[0].astype(float))
    assert_close(torch.histc(torch.tensor([1.0, 2.0, 3.0]), bins=4, min=2, max=2), np.array([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        torch.histc(t, 4, 3, 1)
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        torch.histc(t, 0)
    with pytest.raises(RuntimeError, match="is not finite"):
        torch.histc(t, 4, 0, float("inf"))


# ---- shape functions -----------------------------------------------------------------------
def test_ravel_moveaxis_swapdims():
    a, t = make((2, 3, 4), "float32", seed=30)
    for _, v in views(t):
        assert_close(torch.ravel(v), a.ravel())
        assert v.ravel().is_contiguous()
        assert_close(torch.moveaxis(v, 0, 2), np.moveaxis(a, 0, 2))
        assert_close(v.moveaxis(-1, 0), np.moveaxis(a, -1, 0))
        assert_close(torch.swapdims(v, 0, 2), np.swapaxes(a, 0, 2))
        assert_close(v.swapdims(1, 2), np.swapaxes(a, 1, 2))


@pytest.mark.parametrize("sections", [1, 3, 4, 7, [1, 3], [2, -1, 10], [3, 1]])
def test_tensor_split_matches_numpy(sections):
    a, t = make((5, 4), "float32", seed=31)
    for _, v in views(t):
        got = torch.tensor_split(v, sections)
        exp = np.array_split(a, sections)
        assert len(got) == len(exp)
        for g, e in zip(got, exp):
            assert_close(g, e)
        got = v.tensor_split(sections, dim=1)
        for g, e in zip(got, np.array_split(a, sections, axis=1)):
            assert_close(g, e)
    for g, e in zip(torch.tensor_split(t, torch.tensor(2)), np.array_split(a, 2)):
        assert_close(g, e)


def test_tensor_split_errors():
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        torch.tensor_split(torch.arange(5), 0)
    with pytest.raises(RuntimeError, match="expected at least a 1-dimensional tensor"):
        torch.tensor_split(torch.tensor(1), 2)
    with pytest.raises(RuntimeError, match="to have dtype of long"):
        torch.tensor_split(torch.arange(5), torch.tensor([1.0]))


def test_hsplit_vsplit_dsplit_match_numpy():
    a, t = make((4, 6, 2), "float64", seed=32)
    for ours, ref, arg in [(torch.hsplit, np.hsplit, 3), (torch.vsplit, np.vsplit, 2), (torch.dsplit, np.dsplit, 2),
                           (torch.hsplit, np.hsplit, [1, 4]), (torch.vsplit, np.vsplit, [3])]:
        got, exp = ours(t, arg), ref(a, arg)
        assert len(got) == len(exp)
        for g, e in zip(got, exp):
            assert_close(g, e)
    for g, e in zip(t[:, 0, 0].hsplit(2), np.hsplit(a[:, 0, 0], 2)):
        assert_close(g, e)
    with pytest.raises(RuntimeError, match="attempted to split along dimension 1, but the size of the dimension 6 is "
                                           "not divisible by the split_size 4"):
        torch.hsplit(t, 4)
    with pytest.raises(RuntimeError, match="torch.vsplit requires a tensor with at least 2 dimension"):
        torch.vsplit(torch.arange(4), 2)
    with pytest.raises(RuntimeError, match="torch.dsplit requires a tensor with at least 3 dimension"):
        torch.dsplit(torch.zeros(2, 2), 2)


def test_split_with_sizes():
    a, t = make((5, 3), "float32", seed=33)
    for g, e in zip(torch.split_with_sizes(t, [2, 0, 3]), np.split(a, [2, 2])):
        assert_close(g, e)
    for g, e in zip(t.split_with_sizes([1, 2], 1), np.split(a, [1], axis=1)):
        assert_close(g, e)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 5"):
        torch.split_with_sizes(t, [2, 2])


def test_atleast_dstack_column_stack():
    s, v, m = torch.tensor(1.0), torch.arange(3.0), torch.ones(2, 3)
    for ours, ref in [(torch.atleast_1d, np.atleast_1d), (torch.atleast_2d, np.atleast_2d),
                      (torch.atleast_3d, np.atleast_3d)]:
        for x in (s, v, m):
            assert_close(ours(x), ref(to_np(x)))
        got = ours(s, v)
        assert isinstance(got, tuple) and len(got) == 2
        assert_close(ours([v, m])[1], ref(to_np(m)))
    a, t = make((3, 4), "float32", seed=34)
    b, u = make((3, 4), "float32", seed=35)
    assert_close(torch.dstack([t, u.t().contiguous().t()]), np.dstack([a, b]))
    assert_close(torch.dstack([t[0], u[0]]), np.dstack([a[0], b[0]]))
    assert_close(torch.column_stack([t[:, 0], u, t[:, 1:2]]), np.column_stack([a[:, 0], b, a[:, 1:2]]))
    out = torch.empty(3, 4, 2)
    assert torch.dstack([t, u], out=out) is out
    assert_close(out, np.dstack([a, b]))


@pytest.mark.parametrize("k", range(-5, 6))
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, -2)])
def test_rot90_matches_numpy(k, dims):
    a, t = make((2, 3, 4), "int32", seed=36)
    assert_close(torch.rot90(t, k, dims), np.rot90(a, k, dims))
    assert_close(t.transpose(0, 2).rot90(k, dims), np.rot90(a.transpose(2, 1, 0), k, dims))


def test_rot90_flips_and_errors():
    a, t = make((3, 4), "float32", seed=37)
    assert_close(torch.rot90(t, 2 ** 62 + 1), np.rot90(a, 1))
    assert_close(torch.fliplr(t), np.fliplr(a))
    assert_close(t.flipud(), np.flipud(a))
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2"):
        torch.rot90(t, 1, [0])
    with pytest.raises(RuntimeError, match="expected total dims >= 2"):
        torch.rot90(torch.zeros(3))
    with pytest.raises(RuntimeError, match="expected rotation dims to be different"):
        torch.rot90(t, 1, [0, -2])
    with pytest.raises(RuntimeError, match="Input must be >= 2-d"):
        torch.fliplr(torch.zeros(3))


# ---- indexed writes ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_index_fill_and_index_copy_match_numpy(dtype):
    a, t = make((3, 5), dtype, seed=38)
    idx = np.array([4, 0, -2])
    e = a.copy()
    e[:, idx] = 7
    for _, v in views(t):
        assert_close(torch.index_fill(v, 1, torch.tensor(idx), 7), e)
        assert_close(v.index_fill(1, torch.tensor(idx), torch.tensor(7).to(v.dtype)), e)
    b, src = make((3, 2), dtype, seed=39)
    e = a.copy()
    e[:, [4, 1]] = b
    for _, v in views(t):
        assert_close(v.index_copy(1, torch.tensor([4, 1]), src), e)
        assert_close(torch.index_copy(v, 0, torch.tensor([2]), torch.full((1, 5), 3).to(v.dtype)),
                     np.concatenate([a[:2], np.full((1, 5), 3)]))
    w = t.clone()
    assert w.index_fill_(0, torch.tensor([1]), 0) is w
    e = a.copy()
    e[1] = 0
    assert_close(w, e)
    w = t.clone()
    w.index_copy_(1, torch.tensor([4, 1]), src)
    e = a.copy()
    e[:, [4, 1]] = b
    assert_close(w, e)


def test_index_fill_copy_grad_and_errors():
    _, x = leaf((3, 4), seed=40)
    _, s = leaf((3, 2), seed=41)
    gradcheck(lambda x, s: torch.index_copy(x, 1, torch.tensor([3, 0]), s), x, s)
    gradcheck(lambda x: torch.index_fill(x, 0, torch.tensor([1]), 2.0), x)
    t = torch.zeros(2, 3)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        t.index_fill(1, torch.tensor([3]), 1.0)
    with pytest.raises(IndexError, match="Expected dtype int64 for index"):
        t.index_fill(1, torch.tensor([0.0]), 1.0)
    with pytest.raises(IndexError, match="index -1 is out of bounds for dimension 1 with size 3"):
        t.index_copy(1, torch.tensor([-1]), torch.ones(2, 1))
    with pytest.raises(IndexError, match="Number of indices \\(1\\) should be equal to source.size\\(dim\\) \\(2\\)"):
        t.index_copy(1, torch.tensor([0]), torch.ones(2, 2))
    with pytest.raises(RuntimeError, match="self and source expected to have the same dtype"):
        t.index_copy_(1, torch.tensor([0]), torch.ones(2, 1, dtype=torch.float64))
    assert_close(t, np.zeros((2, 3)))


def test_masked_scatter_matches_numpy():
    a, t = make((3, 4), "float32", seed=42)
    mask = np.random.default_rng(43).random((3, 4)) > 0.5
    src_np, src = make((14,), "float32", seed=44)
    e = a.copy()
    e[mask] = src_np[:mask.sum()]
    for _, v in views(t):
        assert_close(torch.masked_scatter(v, torch.tensor(mask), src), e)
    # a broadcast mask row
    row = np.array([True, False, True, True])
    e = a.copy()
    e[np.broadcast_to(row, (3, 4))] = src_np[:9]
    w = t.clone()
    assert w.masked_scatter_(torch.tensor(row), src) is w
    assert_close(w, e)
    _, x = leaf((3, 4), seed=45)
    _, s = leaf((12,), seed=46)
    gradcheck(lambda x, s: x.masked_scatter(torch.tensor(mask), s), x, s)
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        t.masked_scatter(torch.ones(3, 4, dtype=torch.bool), torch.ones(5))
    with pytest.raises(RuntimeError, match="masked_scatter_ only supports boolean masks"):
        t.masked_scatter(torch.ones(3, 4), src)


def test_renorm_matches_numpy():
    a, t = make((4, 3, 2), "float64", seed=47)
    for p, dim, maxnorm in [(2, 0, 1.5), (1, 1, 2.0), (3, -1, 0.5)]:
        other = tuple(i for i in range(3) if i != dim % 3)
        norms = (np.abs(a) ** p).sum(axis=other, keepdims=True) ** (1 / p)
        e = np.where(norms > maxnorm, a * maxnorm / (norms + 1e-7), a)
        assert_close(torch.renorm(t, p, dim, maxnorm), e)
        w = t.clone()
        w.renorm_(p, dim, maxnorm)
        assert_close(w, e)
    with pytest.raises(RuntimeError, match="expected maxnorm to be >= 0 but got -1"):
        torch.renorm(t, 1, 0, -1.0)


# ---- predicates and small methods ----------------------------------------------------------
def test_predicates_and_small_methods():
    assert torch.is_nonzero(torch.tensor([0.5])) is True
    assert torch.is_nonzero(torch.tensor(0)) is False
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        torch.is_nonzero(torch.zeros(2))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        torch.is_nonzero(torch.zeros(0))
    assert torch.is_same_size(torch.zeros(2, 3), torch.ones(2, 3))
    assert not torch.zeros(2, 3).is_same_size(torch.zeros(3, 2))
    assert [torch.zeros(1, dtype=dt(d)).is_signed() for d in ["bool", "uint8", "int8", "float32"]] == \
        [False, False, True, True]
    r = torch.tensor([1.7, -2.2]).type_as(torch.zeros(1, dtype=torch.int32))
    assert r.dtype == torch.int32
    assert_close(r, np.array([1, -2]))
    a, t = make((2, 3, 4), "float64", seed=48)
    assert_close(t.sum_to_size(3, 1), a.sum(0).sum(1, keepdims=True))
    assert_close(t.sum_to_size((1, 3, 4)), a.sum(0, keepdims=True))
    with pytest.raises(RuntimeError, match="is not expandable to size"):
        t.sum_to_size(2, 4)


# ---- scatter_reduce ------------------------------------------------------------------------
def scatter_reduce_ref(base, dim, index, src, reduce, include_self):
    out = base.astype(float).copy()
    hits = {}
    for pos in np.ndindex(index.shape):
        target = pos[:dim] + (index[pos],) + pos[dim + 1:]
        hits.setdefault(target, []).append(src[pos])
    fn = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
    for target, vals in hits.items():
        vals = vals + [base[target]] if include_self else vals
        out[target] = fn(vals)
        if reduce == "mean" and base.dtype.kind == "i":
            out[target] = np.floor_divide(np.sum(vals), len(vals))
    return out


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "int64", "float32"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce_matches_reference(reduce, include_self, dtype, dim):
    a, t = make((4, 5), dtype, seed=50)
    s_np, s = make((6, 5), dtype, seed=51)
    rng = np.random.default_rng(52)
    ishape = (3, 4) if dim == 0 else (4, 3)
    idx = rng.integers(0, t.shape[dim], ishape)
    e = scatter_reduce_ref(a if dtype != "int64" else a.astype(np.int64), dim, idx, s_np, reduce, include_self)
    for _, v in views(t):
        r = v.scatter_reduce(dim, torch.tensor(idx), s, reduce, include_self=include_self)
        assert r.dtype == t.dtype
        assert_close(r, e)
    w = t.clone()
    assert w.scatter_reduce_(dim, torch.tensor(idx), s, reduce, include_self=include_self) is w
    assert_close(w, e)


def test_scatter_reduce_grad_nan_and_errors():
    _, x = leaf((3, 4), seed=53)
    _, s = leaf((3, 4), seed=54)
    idx = torch.tensor([[0, 1, 2, 0], [1, 1, 0, 2], [2, 0, 0, 1]])
    for reduce in ["sum", "prod", "mean", "amax", "amin"]:
        gradcheck(lambda x, s: torch.scatter_reduce(x, 0, idx, s, reduce), x, s)
    r = torch.tensor([1.0, NAN]).scatter_reduce(0, torch.tensor([0, 0, 1]), torch.tensor([NAN, 3.0, 4.0]), "amin")
    assert np.isnan(to_np(r)).all()
    t = torch.zeros(2)
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got abc"):
        t.scatter_reduce(0, torch.tensor([0]), torch.ones(1), "abc")
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 2"):
        t.scatter_reduce_(0, torch.tensor([5]), torch.ones(1), "sum")
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        t.scatter_reduce_(0, torch.tensor([0]), torch.ones(1, dtype=torch.float64), "sum")
    with pytest.raises(RuntimeError, match="Expected index \\[1, 3\\] to be no larger than self \\[2, 2\\]"):
        torch.zeros(2, 2).scatter_reduce(0, torch.zeros(1, 3, dtype=torch.int64), torch.ones(3, 3), "sum")
    assert_close(t, np.zeros(2))
