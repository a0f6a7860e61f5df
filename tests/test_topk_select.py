"""topk / kthvalue / median by selection (introselect and the small-k candidate buffer, the
long single lane split across threads) against NumPy float64 sorts.

PyTorch's order: NaN is the largest value (topk largest=True puts NaN first, largest=False
last; np.sort puts NaN last, so the reference is np.sort, reversed for largest). Ties: PyTorch
does not fix which of the tied positions is returned, so indices are checked by what they
point at (the values) and by being distinct, never by position.
"""
import numpy as np
import pytest

import ferrotorch as torch
from _helpers import dt, to_np

NAN = float("nan")
FLOATS = ["float32", "float64", "float16"]
INTS = ["int64", "int32", "int8", "uint8"]


def data(shape, dtype, seed, nan=0.0, ties=False):
    """(float64 reference, tensor of `dtype`) with the same values; `nan`: the fraction of NaN;
    `ties`: few distinct values."""
    rng = np.random.default_rng(seed)
    if ties or dtype in INTS:
        a = rng.integers(0, 6, size=shape).astype(np.float64)
    else:
        a = rng.standard_normal(shape)
    if nan and dtype in FLOATS:
        a[rng.random(shape) < nan] = np.nan
    t = torch.tensor(a, dtype=torch.float64).to(dt(dtype))
    return to_np(t).astype(np.float64), t


def nan_first_desc(s, axis):
    """np.sort (NaN last) reversed: PyTorch's descending order (NaN first)."""
    return np.flip(s, axis=axis)


def check_selection(a, values, indices, expect, dim):
    """`values` equal `expect` (NaN where NaN), and `indices` point at them in `a`, distinct per
    lane."""
    got = to_np(values).astype(np.float64)
    assert got.shape == expect.shape, (got.shape, expect.shape)
    np.testing.assert_array_equal(got, expect)  # exact: selection copies, never computes
    ix = to_np(indices)
    assert indices.dtype == torch.int64 and ix.shape == expect.shape
    np.testing.assert_array_equal(np.take_along_axis(a, ix, axis=dim), got)
    srt = np.sort(np.moveaxis(ix, dim, -1), axis=-1)
    assert (np.diff(srt, axis=-1) != 0).all(), "an index repeated within a lane"


def check_topk(a, t, k, dim=-1, largest=True, sorted=True):
    s = np.sort(a, axis=dim)
    if largest:
        s = nan_first_desc(s, dim)
    expect = np.take(s, range(k), axis=dim)
    v, i = torch.topk(t, k, dim=dim, largest=largest, sorted=sorted)
    assert v.dtype == t.dtype
    if not sorted:
        # Some order: the same values as a set, each index pointing at its value.
        got = to_np(v).astype(np.float64)
        check_selection(a, v, i, got, dim)
        np.testing.assert_array_equal(np.sort(got, axis=dim), np.sort(expect, axis=dim))
        return
    check_selection(a, v, i, expect, dim)


# Lane lengths and k covering: the all-pairs introselect (k > n/64), the candidate buffer
# (k <= n/64, buffer cut several times), k = 0, 1, n.
@pytest.mark.parametrize("n,ks", [(1, [0, 1]), (7, [0, 1, 3, 7]), (100, [1, 2, 50, 99, 100]),
                                  (5000, [1, 10, 78, 1000, 4999, 5000]), (70_000, [1, 64, 1093, 35_000])])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_lane_lengths(n, ks, largest):
    a, t = data((n,), "float32", seed=n, nan=0.05)
    for k in ks:
        check_topk(a, t, k, largest=largest)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_dtypes_nan_ties(dtype, largest):
    a, t = data((3, 4000), dtype, seed=1, nan=0.1)
    for k in [1, 5, 60, 2000, 4000]:
        check_topk(a, t, k, largest=largest)
    a, t = data((2, 3000), dtype, seed=2, ties=True)
    for k in [1, 40, 1500]:
        check_topk(a, t, k, largest=largest)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
def test_topk_dims_and_strided_input(dim):
    a, t = data((40, 30, 50), "float64", seed=3, nan=0.05)
    variants = [
        (a, t),
        # a transposed view (non-contiguous) of a copy holding a's values
        (a, t.transpose(0, 2).contiguous().transpose(0, 2)),
        # a stepped view: every other element of a larger tensor
        (a, torch.stack([t, torch.zeros_like(t)], -1)[..., 0]),
    ]
    for ref, v in variants:
        assert ref.shape == tuple(v.shape)
        n = ref.shape[dim]
        for k in [1, 3, n // 2, n]:
            for largest in (True, False):
                check_topk(ref, v, k, dim=dim, largest=largest)


def test_topk_sorted_input_worst_case():
    # Ascending input with largest=True: every element beats the current k-th best, so the
    # candidate buffer fills and is cut over and over; descending for largest=False alike.
    n = 200_000
    up = np.arange(n, dtype=np.float64)
    for src, largest in [(up, True), (up[::-1].copy(), False)]:
        t = torch.tensor(src)
        for k in [1, 100, 3000]:
            check_topk(src, t, k, largest=largest)


def test_topk_long_lane_split_across_threads():
    # One lane of >= 2**18 elements and a small k: the pieces' winners are selected again.
    # NaN placed at the very end and ties between pieces.
    n = 300_001
    a, t = data((n,), "float32", seed=4)
    a[-3:] = np.nan
    a[:5] = a[n // 2: n // 2 + 5] = 7.0
    t = torch.tensor(a).to(torch.float32)
    for k in [1, 8, 300]:
        for largest in (True, False):
            check_topk(a, t, k, largest=largest)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(4)
        check_topk(a, t, 50)
        torch.set_num_threads(1)
        check_topk(a, t, 50)
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("largest", [True, False])
def test_topk_unsorted_is_the_same_set(largest):
    a, t = data((5, 3000), "float32", seed=5, nan=0.05)
    for k in [1, 20, 1500, 3000]:
        check_topk(a, t, k, largest=largest, sorted=False)


def test_topk_nan_order_small():
    # PyTorch: topk([3, 1, nan, 2, nan], 2) is (nan, nan); largest=False, k=5 puts NaN last.
    t = torch.tensor([3.0, 1.0, NAN, 2.0, NAN])
    v, i = torch.topk(t, 2)
    assert np.isnan(to_np(v)).all() and sorted(to_np(i).tolist()) == [2, 4]
    v, i = torch.topk(t, 5, largest=False)
    np.testing.assert_array_equal(to_np(v), [1.0, 2.0, 3.0, NAN, NAN])
    assert to_np(i)[:3].tolist() == [1, 3, 0] and sorted(to_np(i)[3:].tolist()) == [2, 4]


def test_topk_empty_and_zero_k():
    t = torch.randn(4, 0, 3)
    assert torch.topk(t, 0, dim=1).values.shape == (4, 0, 3)
    v, i = torch.topk(torch.randn(3, 5), 0)
    assert v.shape == (3, 0) and i.shape == (3, 0) and i.dtype == torch.int64
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        torch.topk(torch.randn(3, 5), 6)


def test_topk_backward_scatters_into_selected_positions():
    a, _ = data((6, 500), "float64", seed=6)
    x = torch.tensor(a).requires_grad_(True)
    v, i = torch.topk(x, 7, dim=1)
    w = np.random.default_rng(7).standard_normal((6, 7))
    (v * torch.tensor(w)).sum().backward()
    expect = np.zeros_like(a)
    np.put_along_axis(expect, to_np(i), w, axis=1)  # d(sum w*x[i])/dx = w at i, 0 elsewhere
    np.testing.assert_array_equal(to_np(x.grad), expect)
    assert v.grad_fn is not None
    # finite differences on distinct values (no ties: the selection is locally constant)
    y = torch.tensor(np.random.default_rng(8).permutation(40).reshape(4, 10) / 7.0).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: torch.topk(z, 3, dim=1, sorted=False).values, (y,))
    assert torch.autograd.gradcheck(lambda z: torch.kthvalue(z, 4, dim=0).values, (y,))
    assert torch.autograd.gradcheck(lambda z: torch.median(z, 1).values, (y,))


# --------------------------------------------------------------------------- kthvalue
@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_kthvalue_matches_sort(dtype):
    a, t = data((4, 3001), dtype, seed=9, nan=0.05)
    s = np.sort(a, axis=1)  # NaN last: PyTorch's k-th smallest counts NaN as the largest
    for k in [1, 2, 40, 1501, 3000, 3001]:
        v, i = torch.kthvalue(t, k, 1)
        check_selection(a, v.unsqueeze(1), i.unsqueeze(1), s[:, k - 1:k], 1)
        v, i = torch.kthvalue(t, k, 1, keepdim=True)
        assert v.shape == (4, 1)
    b, u = data((50, 6), dtype, seed=10, ties=True)
    for k in [1, 17, 50]:
        v, i = torch.kthvalue(u.t(), k, 1)  # strided lanes
        check_selection(b.T, v.unsqueeze(1), i.unsqueeze(1), np.sort(b.T, axis=1)[:, k - 1:k], 1)


# --------------------------------------------------------------------------- median
def lower_median(a, axis, ignore_nan):
    """PyTorch's median along axis: the lower middle; a lane with NaN gives NaN (median) or the
    lower middle of the others (nanmedian; NaN when all are NaN)."""
    a = np.moveaxis(a, axis, -1)
    out = np.empty(a.shape[:-1])
    for pos in np.ndindex(a.shape[:-1]):
        lane = a[pos]
        fin = np.sort(lane[~np.isnan(lane)])
        if (not ignore_nan and len(fin) < len(lane)) or len(fin) == 0:
            out[pos] = np.nan
        else:
            out[pos] = fin[(len(fin) - 1) // 2]
    return out


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("ignore_nan", [False, True])
def test_median_large_lanes(dtype, ignore_nan):
    a, t = data((5, 2001), dtype, seed=11)
    if dtype in FLOATS:
        a[0, :] = np.nan  # all NaN
        a[1, 3] = a[1, 1000] = np.nan  # first NaN at 3
        a[2, :] = np.where(np.arange(2001) % 2 == 0, np.nan, a[2, :])  # 1001 NaN of 2001
        a[4, [10, 500]] = np.nan
        t = torch.tensor(a).to(dt(dtype))
    fn = torch.nanmedian if ignore_nan else torch.median
    for dim, ref in [(1, a), (0, a)]:
        v, i = fn(t, dim)
        expect = lower_median(ref, dim, ignore_nan)
        np.testing.assert_array_equal(to_np(v).astype(np.float64), expect)
        # the index points at the value returned (NaN at a NaN)
        np.testing.assert_array_equal(np.take_along_axis(ref, np.expand_dims(to_np(i), dim), dim).squeeze(dim), expect)
    if dtype in FLOATS and not ignore_nan:
        # PyTorch returns the first NaN's position: median([[1, nan, 3, nan]], 1) -> index 1
        assert to_np(fn(t, 1).indices)[[0, 1, 2, 4]].tolist() == [0, 3, 0, 10]
    # strided input, keepdim
    v, i = fn(t.t().contiguous().t(), 1, keepdim=True)
    np.testing.assert_array_equal(to_np(v)[:, 0].astype(np.float64), lower_median(a, 1, ignore_nan))


def test_median_even_count_is_lower_middle():
    t = torch.tensor([[4.0, 1.0, 3.0, 2.0]])
    assert torch.median(t, 1).values.item() == 2.0  # sorted 1 2 3 4: the lower of 2 and 3
    assert torch.nanmedian(torch.tensor([4.0, NAN, 1.0, 3.0, 2.0])).item() == 2.0
    assert torch.median(torch.tensor([5, 1, 4, 2], dtype=torch.int32)).item() == 2
