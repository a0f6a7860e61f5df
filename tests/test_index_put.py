"""Tensor.index_put_ / index_put, torch.index_put / index_put_ (issue 19), against NumPy
float64: `a[idx] = v` for accumulate=False and `np.add.at(a, idx, v)` (unbuffered, so
duplicate indices add up) for accumulate=True. Errors as PyTorch 2.15's."""
import numpy as np
import pytest

import ferrotorch as torch


def T(a, dtype=None):
    return torch.tensor(np.asarray(a), dtype=dtype)


def N(t):
    return t.detach().numpy()


@pytest.fixture
def base():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 5))


def _np_put(a, idx, v, accumulate):
    a = a.copy()
    if accumulate:
        np.add.at(a, idx, v)
    else:
        a[idx] = v
    return a


CASES = [
    # (indices as numpy arrays, values shape)
    ((np.array([0, 2, 0, 3]),), (5,)),                           # rows, value broadcast over them
    ((np.array([0, 2, 0, 3]),), (4, 5)),
    ((np.array([1, 1, 1]), np.array([4, 4, 0])), (3,)),          # element pairs, duplicates
    ((np.array([1, 1, 1]), np.array([4, 4, 0])), ()),            # a scalar value
    ((np.array([[0, 1], [1, 3]]), np.array([[2], [2]])), (2, 2)),  # broadcast index shapes
    ((np.array([-1, -4, 3]),), (1, 5)),                          # negative indices
]


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("idx,vshape", CASES)
def test_index_put_matches_numpy(base, idx, vshape, accumulate):
    rng = np.random.default_rng(1)
    v = rng.standard_normal(vshape)
    dups = len(set(zip(*[np.broadcast_arrays(*idx)[k].ravel() for k in range(len(idx))]))) < np.broadcast(*idx).size
    expect = _np_put(base, idx, v, accumulate)
    ti = tuple(T(i) for i in idx)
    r = T(base).index_put(ti, T(v), accumulate=accumulate)
    if accumulate or not dups:
        np.testing.assert_allclose(N(r), expect, rtol=1e-12, atol=1e-12)
    x = T(base)
    assert x.index_put_(ti, T(v), accumulate) is x
    np.testing.assert_allclose(N(x), N(r), rtol=0, atol=0)
    # torch.* forms, indices as a list
    np.testing.assert_allclose(N(torch.index_put(T(base), list(ti), T(v), accumulate)), N(r), rtol=0, atol=0)
    y = T(base)
    assert torch.index_put_(y, ti, T(v), accumulate=accumulate) is y
    np.testing.assert_allclose(N(y), N(r), rtol=0, atol=0)


def test_duplicates_without_accumulate_take_the_last_value():
    x = torch.zeros(3, dtype=torch.float64)
    x.index_put_((torch.tensor([1, 1, 1]),), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert x.tolist() == [0.0, 3.0, 0.0]


def test_accumulate_is_deterministic_and_sums_in_order():
    # 0.1 added 1000 times at one position, as np.add.at does (in index order)
    idx = np.zeros(1000, dtype=np.int64)
    a = np.zeros(2)
    np.add.at(a, idx, np.full(1000, 0.1))
    r1 = torch.zeros(2, dtype=torch.float64).index_put_((T(idx),), T(np.full(1000, 0.1)), accumulate=True)
    r2 = torch.zeros(2, dtype=torch.float64).index_put_((T(idx),), T(np.full(1000, 0.1)), accumulate=True)
    assert N(r1).tolist() == N(r2).tolist() == a.tolist()


def test_bool_mask_and_integer_dtypes():
    x = torch.zeros(3, 4)
    r = x.index_put((torch.tensor([True, False, True]),), torch.tensor(5.0), accumulate=True)
    assert r.tolist() == [[5.0] * 4, [0.0] * 4, [5.0] * 4]
    m = torch.tensor(np.eye(3, 4, dtype=bool))
    r = torch.ones(3, 4).index_put((m,), torch.tensor(2.0), accumulate=True)
    np.testing.assert_array_equal(N(r), 1 + 2 * np.eye(3, 4))
    # int64 tensor with int32 indices, accumulate
    r = torch.zeros(3, dtype=torch.int64).index_put_((torch.tensor([0, 0, 2], dtype=torch.int32),), torch.tensor(1),
                                                      accumulate=True)
    assert r.tolist() == [2, 0, 1]
    # uint8 index: PyTorch's deprecated mask
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        r = torch.zeros(3).index_put((torch.tensor([1, 0, 1], dtype=torch.uint8),), torch.tensor(1.0))
    assert r.tolist() == [1.0, 0.0, 1.0]


def test_gradients():
    # d/dself: 1 where kept (everywhere when accumulating), d/dvalues: the gradient at the
    # positions, summed over the values' broadcasting. Compared with finite differences.
    rng = np.random.default_rng(2)
    a0, v0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    w = rng.standard_normal((3, 4))
    idx = (torch.tensor([0, 2, 0]),)
    for acc in (False, True):
        a = T(a0).requires_grad_()
        v = T(v0).requires_grad_()
        r = a.index_put(idx, v, accumulate=acc)
        assert type(r.grad_fn).__name__ == "IndexPutBackward0"
        (r * T(w)).sum().backward()

        def f(a_, v_):
            return float((_np_put(a_, (np.array([0, 2, 0]),), v_, acc) * w).sum())
        eps = 1e-6
        ga = np.zeros_like(a0)
        for i in np.ndindex(a0.shape):
            d = np.zeros_like(a0)
            d[i] = eps
            ga[i] = (f(a0 + d, v0) - f(a0 - d, v0)) / (2 * eps)
        gv = np.zeros_like(v0)
        for i in range(4):
            d = np.zeros_like(v0)
            d[i] = eps
            gv[i] = (f(a0, v0 + d) - f(a0, v0 - d)) / (2 * eps)
        np.testing.assert_allclose(N(a.grad), ga, atol=1e-6)
        if acc:
            np.testing.assert_allclose(N(v.grad), gv, atol=1e-6)
        else:
            # duplicates: PyTorch's gradient reaches every value written, the last write
            # wins in the forward; the rows written are 0 (twice) and 2
            np.testing.assert_allclose(N(v.grad), w[0] * 2 + w[2], atol=1e-12)


def test_in_place_autograd():
    a = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        a.index_put_((torch.tensor([0]),), torch.tensor(1.0, dtype=torch.float64))
    b = a * 1
    v = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    b.index_put_((torch.tensor([1, 1]),), v, accumulate=True)
    assert type(b.grad_fn).__name__ == "IndexPutBackward0"
    (b * torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)).sum().backward()
    assert a.grad.tolist() == [1.0, 10.0, 100.0]
    assert v.grad.tolist() == [10.0, 10.0]


def test_errors():
    x = torch.zeros(3, 4)
    i = torch.tensor([0, 0, 2])
    with pytest.raises(TypeError, match=r"index_put_\(\): argument 'indices' \(position 1\) must be tuple of "
                                        r"Tensors, not Tensor"):
        x.index_put_(i, torch.tensor(1.0))
    with pytest.raises(TypeError, match=r"index_put\(\): argument 'values' \(position 2\) must be Tensor, not float"):
        x.index_put((i,), 1.0)
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 0, but got NoneType"):
        x.index_put_((None, i), torch.tensor(1.0))
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
        x.index_put_((i, 1), torch.tensor(1.0))
    with pytest.raises(IndexError, match=r"too many indices for tensor of dimension 2 \(got 3\)"):
        x.index_put_((i, i, i), torch.tensor(1.0))
    for acc in (False, True):
        with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3, 3\] cannot be broadcast "
                                               r"to indexing result of shape \[3, 4\]"):
            x.index_put_((i,), torch.ones(3, 3), accumulate=acc)
        with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match, got "
                                               "Float for the destination and Double for the source."):
            x.index_put_((i,), torch.ones(1, dtype=torch.float64), accumulate=acc)
        with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
            x.index_put_((torch.tensor([3]),), torch.tensor(5.0), accumulate=acc)
        with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
            x.index_put_((torch.tensor([0.0]),), torch.tensor(5.0), accumulate=acc)
    assert x.abs().sum().item() == 0.0          # nothing was written by a failing call
