"""Tensor creation, default dtype, random sampling, conversions and Python-scalar protocols.

Every expected value is either hand-written or computed with NumPy (float64).
Random functions are checked on statistical properties and on reproducibility,
never on exact values (the generator algorithm is not part of the spec).
"""
import math
import operator
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from _helpers import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, assert_close, dt, make, to_np


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def restore_default_dtype():
    """Run a test that changes the default dtype, and put float32 back afterwards."""
    yield
    torch.set_default_dtype(torch.float32)
    assert torch.get_default_dtype() == torch.float32


def bf16_round(x):
    """Round float64 values to the nearest bfloat16 (ties to even), returned as float64."""
    f = np.asarray(x, dtype=np.float32)
    bits = f.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def snapshot(t):
    return (tuple(t.shape), t.dtype, to_np(t).copy())


def assert_unchanged(t, snap):
    shape, dtype, vals = snap
    assert tuple(t.shape) == shape and t.dtype == dtype
    np.testing.assert_array_equal(to_np(t), vals)


LEGACY = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int32": "IntTensor", "int64": "LongTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}


# --------------------------------------------------------------------------- torch.tensor

@pytest.mark.parametrize("data, dtype, shape", [
    (1, "int64", ()),
    (2.5, "float32", ()),
    (True, "bool", ()),
    ([1, 2, 3], "int64", (3,)),
    ([1.0, 2, 3], "float32", (3,)),
    ([1, 2.5], "float32", (2,)),
    ([True, False], "bool", (2,)),
    ([True, 1], "int64", (2,)),
    ([True, 1.5], "float32", (2,)),
    ([[1, 2], [3, 4], [5, 6]], "int64", (3, 2)),
    ([[1, 2], [3, 4.5]], "float32", (2, 2)),
    ([[[1], [2]]], "int64", (1, 2, 1)),
    ((1, 2), "int64", (2,)),
    ([(1, 2), [3, 4]], "int64", (2, 2)),
    ([], "float32", (0,)),
    ([[]], "float32", (1, 0)),
    ([[], []], "float32", (2, 0)),
])
def test_tensor_infers_dtype_and_shape(data, dtype, shape):
    t = torch.tensor(data)
    assert t.dtype == dt(dtype)
    assert tuple(t.shape) == shape
    assert t.dim() == len(shape) and t.ndim == len(shape)
    assert t.numel() == int(np.prod(shape))
    np.testing.assert_array_equal(to_np(t), np.array(data, dtype=np.float64).reshape(shape))
    assert t.tolist() == np.array(data, dtype=np.float64).reshape(shape).tolist()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tensor_explicit_dtype(dtype):
    data = [[0, 1, 2], [3, 4, 5]]
    t = torch.tensor(data, dtype=dt(dtype))
    assert t.dtype == dt(dtype)
    assert t.shape == (2, 3)
    expected = np.array(data, dtype=np.float64)
    if dtype == "bool":
        expected = expected != 0
    np.testing.assert_array_equal(to_np(t), expected)


def test_tensor_float_to_int_dtype_truncates():
    t = torch.tensor([1.7, -1.7, 2.0, -0.5], dtype=torch.int64)
    assert t.tolist() == [1, -1, 2, 0]


@pytest.mark.parametrize("np_dtype, dtype", [
    (np.float64, "float64"), (np.float32, "float32"), (np.float16, "float16"),
    (np.int64, "int64"), (np.int32, "int32"), (np.int16, "int16"), (np.int8, "int8"),
    (np.uint8, "uint8"), (np.bool_, "bool"),
])
def test_tensor_from_numpy_array_keeps_dtype_and_copies(np_dtype, dtype):
    a = (np.arange(6).reshape(2, 3) % 3).astype(np_dtype)
    t = torch.tensor(a)
    assert t.dtype == dt(dtype)
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(to_np(t), a)
    a[0, 0] = 1  # torch.tensor always copies
    assert to_np(t)[0, 0] == 0


def test_tensor_from_numpy_scalars_keeps_dtype():
    assert torch.tensor(np.float64(2.5)).dtype == torch.float64
    assert torch.tensor(np.float32(2.5)).dtype == torch.float32
    assert torch.tensor(np.int32(3)).dtype == torch.int32
    assert torch.tensor(np.float64(2.5)).item() == 2.5


def test_tensor_from_noncontiguous_numpy():
    a = np.arange(12.0).reshape(3, 4)[:, ::2].T
    t = torch.tensor(a)
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(to_np(t), a)


@pytest.mark.parametrize("data", [
    [[1, 2], [3]],
    [[1], [2, 3]],
    [[[1, 2]], [[3]]],
])
def test_tensor_ragged_raises_valueerror(data):
    with pytest.raises(ValueError):
        torch.tensor(data)


def test_tensor_bad_element_type_raises():
    with pytest.raises(TypeError):
        torch.tensor("abc")
    with pytest.raises(TypeError):
        torch.tensor([1, [2]])


def test_tensor_out_of_range_for_dtype_raises():
    for data, dtype in [([300], torch.uint8), ([-256], torch.uint8), ([128], torch.int8), ([-129], torch.int8),
                        ([2 ** 15], torch.int16), ([2 ** 31], torch.int32)]:
        with pytest.raises(RuntimeError, match=f"value cannot be converted to type {str(dtype)[6:]} without overflow"):
            torch.tensor(data, dtype=dtype)


def test_tensor_negative_into_uint8_wraps():
    # c10's overflow rule: unsigned types take negatives down to -max, wrapped by two's complement
    t = torch.tensor([-1, -255, 255, 0], dtype=torch.uint8)
    assert t.tolist() == list(np.array([-1, -255, 255, 0], dtype=np.int64).astype(np.uint8))


# --------------------------------------------------------------------------- as_tensor

def test_as_tensor_shares_numpy_memory_when_dtype_matches():
    a = np.arange(3.0)
    t = torch.as_tensor(a)
    assert t.dtype == torch.float64
    a[0] = 5.0
    assert t.tolist() == [5.0, 1.0, 2.0]
    t[1] = 7.0
    assert a.tolist() == [5.0, 7.0, 2.0]


def test_as_tensor_copies_when_dtype_differs():
    a = np.arange(3.0)
    t = torch.as_tensor(a, dtype=torch.float32)
    assert t.dtype == torch.float32
    a[0] = 5.0
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_as_tensor_returns_same_tensor():
    t = torch.tensor([1.0, 2.0])
    assert torch.as_tensor(t) is t
    u = torch.as_tensor(t, dtype=torch.float64)
    assert u.dtype == torch.float64 and u.tolist() == [1.0, 2.0]
    assert t.dtype == torch.float32


@pytest.mark.parametrize("data, dtype", [([1, 2], "int64"), ([1.5, 2], "float32"),
                                         (1.5, "float32"), ([True], "bool")])
def test_as_tensor_from_python(data, dtype):
    t = torch.as_tensor(data)
    assert t.dtype == dt(dtype)
    assert t.tolist() == data


# --------------------------------------------------------------------------- legacy constructors

def test_legacy_tensor_constructor_sizes():
    t = torch.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == torch.float32
    t = torch.Tensor(torch.Size([4, 1]))
    assert t.shape == (4, 1)
    t = torch.Tensor()
    assert t.shape == (0,) and t.dtype == torch.float32


def test_legacy_tensor_constructor_data():
    t = torch.Tensor([1, 2, 3])
    assert t.dtype == torch.float32
    assert t.tolist() == [1.0, 2.0, 3.0]
    t = torch.Tensor([[1.5], [2.5]])
    assert t.shape == (2, 1) and t.tolist() == [[1.5], [2.5]]


def test_legacy_tensor_constructor_bad_input():
    with pytest.raises(TypeError):
        torch.Tensor(2.5)
    with pytest.raises(RuntimeError):
        torch.Tensor(-1)


@pytest.mark.parametrize("dtype", list(LEGACY))
def test_typed_constructors(dtype):
    cls = getattr(torch, LEGACY[dtype])
    t = cls([0, 1, 2])
    assert t.dtype == dt(dtype)
    expected = [0, 1, 2] if dtype != "bool" else [False, True, True]
    assert t.tolist() == expected
    t = cls(2, 3)
    assert t.dtype == dt(dtype) and t.shape == (2, 3)
    t = cls()
    assert t.dtype == dt(dtype) and t.shape == (0,)


def test_typed_constructor_conversions():
    assert torch.LongTensor([1.7, -1.7]).tolist() == [1, -1]
    assert torch.BoolTensor([0, 2]).tolist() == [False, True]
    assert torch.IntTensor([[1, 2]]).shape == (1, 2)
    assert torch.HalfTensor([1.5]).tolist() == [1.5]


# --------------------------------------------------------------------------- zeros/ones/full/empty

@pytest.mark.parametrize("fn, value", [("zeros", 0), ("ones", 1)])
def test_zeros_ones(fn, value):
    for dtype in [None] + ALL_DTYPES:
        kw = {} if dtype is None else {"dtype": dt(dtype)}
        for args in [(2, 3), ((2, 3),), ([2, 3],), (torch.Size([2, 3]),)]:
            t = getattr(torch, fn)(*args, **kw)
            assert t.shape == (2, 3)
            assert t.dtype == (torch.float32 if dtype is None else dt(dtype))
            np.testing.assert_array_equal(to_np(t), np.full((2, 3), value))
            assert t.is_contiguous() and t.stride() == (3, 1)


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (1,), (4, 1, 2)])
@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_creation_shapes(fn, shape):
    t = getattr(torch, fn)(shape)
    assert tuple(t.shape) == shape
    assert t.numel() == int(np.prod(shape))
    assert t.dtype == torch.float32


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_creation_negative_size_raises(fn):
    with pytest.raises(RuntimeError):
        getattr(torch, fn)(2, -1)
    with pytest.raises(RuntimeError):
        getattr(torch, fn)(-2)


def test_creation_float_size_raises():
    with pytest.raises(TypeError):
        torch.zeros(2.5)


@pytest.mark.parametrize("value, dtype", [(3, "int64"), (3.0, "float32"), (2.5, "float32"),
                                          (True, "bool"), (-7, "int64")])
def test_full_infers_dtype(value, dtype):
    t = torch.full((2, 3), value)
    assert t.dtype == dt(dtype)
    np.testing.assert_array_equal(to_np(t), np.full((2, 3), value, dtype=np.float64))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_full_explicit_dtype(dtype):
    t = torch.full((3,), 1, dtype=dt(dtype))
    assert t.dtype == dt(dtype) and t.tolist() == [1, 1, 1]


def test_full_special_values():
    t = torch.full((2,), float("nan"))
    assert np.isnan(to_np(t)).all()
    t = torch.full((2,), float("-inf"), dtype=torch.float16)
    assert (to_np(t) == -np.inf).all()
    assert torch.full((2,), 2.5, dtype=torch.int32).tolist() == [2, 2]


def test_full_requires_sequence_size():
    with pytest.raises(TypeError):
        torch.full(2, 1.0)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_empty_dtype_and_layout(dtype):
    t = torch.empty(2, 3, dtype=dt(dtype))
    assert t.dtype == dt(dtype) and t.shape == (2, 3)
    assert t.is_contiguous() and t.stride() == (3, 1)
    assert t.element_size() == np.dtype(dtype if dtype != "bfloat16" else "float16").itemsize


# --------------------------------------------------------------------------- eye / tril / triu

@pytest.mark.parametrize("args", [(1,), (3,), (2, 3), (4, 2), (0,), (2, 0), (0, 3)])
def test_eye(args):
    t = torch.eye(*args)
    assert t.dtype == torch.float32
    np.testing.assert_array_equal(to_np(t), np.eye(*args))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_eye_dtype(dtype):
    t = torch.eye(3, dtype=dt(dtype))
    assert t.dtype == dt(dtype)
    np.testing.assert_array_equal(to_np(t), np.eye(3))


def test_eye_negative_raises():
    with pytest.raises(RuntimeError):
        torch.eye(-1)


@pytest.mark.parametrize("fn", ["tril", "triu"])
@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 2), (2, 3, 4), (0, 3), (1, 1)])
def test_tril_triu(fn, shape):
    a, t = make(shape, "float32", seed=len(shape))
    assert_close(getattr(torch, fn)(t), getattr(np, fn)(a))
    for k in [0, 1, -1, 2, -4, 10]:
        assert_close(getattr(torch, fn)(t, k), getattr(np, fn)(a, k))
        assert_close(getattr(t, fn)(diagonal=k), getattr(np, fn)(a, k))
    np.testing.assert_array_equal(to_np(t), a)  # input untouched


@pytest.mark.parametrize("dtype", ["int64", "bool", "float16", "uint8"])
def test_tril_triu_dtypes(dtype):
    a, t = make((4, 4), dtype)
    assert_close(torch.tril(t), np.tril(a))
    assert_close(torch.triu(t, 1), np.triu(a, 1))
    assert torch.tril(t).dtype == dt(dtype)


def test_tril_triu_noncontiguous_and_inplace():
    a, t = make((4, 3), "float64")
    assert_close(torch.tril(t.t()), np.tril(a.T))
    assert_close(torch.triu(t[::2]), np.triu(a[::2]))
    u = t.clone()
    r = u.tril_(-1)
    assert r is u
    assert_close(u, np.tril(a, -1))


@pytest.mark.parametrize("fn", ["tril", "triu"])
def test_tril_triu_1d_raises(fn):
    t = torch.ones(3)
    with pytest.raises(RuntimeError):
        getattr(torch, fn)(t)
    assert t.tolist() == [1.0, 1.0, 1.0]


# --------------------------------------------------------------------------- arange / linspace / logspace

@pytest.mark.parametrize("args, dtype", [
    ((5,), "int64"),
    ((2, 7), "int64"),
    ((2, 11, 3), "int64"),
    ((5, 0, -1), "int64"),
    ((10, -3, -4), "int64"),
    ((0,), "int64"),
    ((3, 3), "int64"),
    ((5.0,), "float32"),
    ((0, 1, 0.25), "float32"),
    ((1, 4, 0.5), "float32"),
    ((0.0, 10, 3.5), "float32"),
    ((-1, -5, -1.5), "float32"),
    ((0, 1, 0.3), "float32"),
    ((0.5, 3), "float32"),
])
def test_arange(args, dtype):
    t = torch.arange(*args)
    assert t.dtype == dt(dtype)
    expected = np.arange(*args, dtype=np.float64)
    assert t.shape == expected.shape
    assert_close(t, expected)


def test_arange_and_full_take_0d_tensors_as_numbers():
    assert torch.arange(torch.tensor(3)).tolist() == list(range(3))
    r = torch.arange(torch.tensor(0.5), 3)
    assert r.dtype == torch.float32 and r.tolist() == [0.5, 1.5, 2.5]
    r = torch.full((2,), torch.tensor(7))
    assert r.dtype == torch.int64 and r.tolist() == [7, 7]
    u = torch.full_like(torch.zeros(2, dtype=torch.uint8), torch.tensor(9))
    assert u.dtype == torch.uint8 and u.tolist() == [9, 9]
    with pytest.raises(TypeError):
        torch.arange(torch.tensor([1, 2]))


def test_arange_length_is_ceil():
    # PyTorch computes the length as ceil((end - start) / step) in double precision.
    assert torch.arange(0, 1, 0.1).shape == (10,)
    assert torch.arange(0, 10, 3).tolist() == [0, 3, 6, 9]
    assert torch.arange(1, 2, 0.5).tolist() == [1.0, 1.5]


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "float64", "float16", "bfloat16"])
def test_arange_dtype(dtype):
    t = torch.arange(0, 6, dtype=dt(dtype))
    assert t.dtype == dt(dtype)
    assert_close(t, np.arange(6.0))


def test_arange_bad_step_raises():
    with pytest.raises(RuntimeError):
        torch.arange(0, 5, 0)
    with pytest.raises(RuntimeError):
        torch.arange(5, 0, 1)
    with pytest.raises(RuntimeError):
        torch.arange(0, 5, -1)


@pytest.mark.parametrize("start, end, steps", [
    (0, 1, 5), (-1, 1, 5), (3, -2, 7), (0, 10, 1), (0, 1, 0), (1e-3, 1e3, 11), (2, 2, 4),
    (-5.5, 100.25, 101),
])
def test_linspace(start, end, steps):
    t = torch.linspace(start, end, steps)
    assert t.dtype == torch.float32
    expected = np.linspace(start, end, steps)
    assert t.shape == (steps,)
    assert_close(t, expected, rtol=1e-5, atol=1e-5 * max(abs(start), abs(end)))
    if steps >= 2:  # end points are exact
        assert to_np(t)[0] == np.float32(start) and to_np(t)[-1] == np.float32(end)


def test_linspace_dtype_and_errors():
    t = torch.linspace(-1, 1, 5, dtype=torch.float64)
    assert t.dtype == torch.float64
    assert t.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    with pytest.raises(RuntimeError):
        torch.linspace(0, 1, -1)


@pytest.mark.parametrize("start, end, steps, base", [
    (0, 2, 3, 10.0), (0, 3, 4, 2.0), (-2, 2, 9, 10.0), (1, -1, 5, 3.0), (0, 1, 1, 10.0),
])
def test_logspace(start, end, steps, base):
    t = torch.logspace(start, end, steps, base=base)
    assert t.dtype == torch.float32
    assert_close(t, np.logspace(start, end, steps, base=base), rtol=1e-5, atol=0)


# --------------------------------------------------------------------------- *_like

LIKE_SRC = [("float32", (2, 3)), ("float64", (4,)), ("int32", (3, 1)), ("float16", ()),
            ("bool", (0, 2)), ("int64", (2, 0, 3))]


@pytest.mark.parametrize("dtype, shape", LIKE_SRC)
def test_zeros_ones_empty_full_like(dtype, shape):
    _, src = make(shape, dtype)
    snap = snapshot(src)
    for fn, val in [("zeros_like", 0), ("ones_like", 1), ("empty_like", None)]:
        r = getattr(torch, fn)(src)
        assert r.shape == src.shape and r.dtype == src.dtype
        assert r.data_ptr() != src.data_ptr() or src.numel() == 0
        if val is not None:
            np.testing.assert_array_equal(to_np(r), np.full(shape, val))
    r = torch.full_like(src, 1)
    assert r.shape == src.shape and r.dtype == src.dtype
    np.testing.assert_array_equal(to_np(r), np.ones(shape))
    assert_unchanged(src, snap)


def test_like_dtype_override():
    src = torch.zeros(2, 2, dtype=torch.int32)
    assert torch.zeros_like(src, dtype=torch.float64).dtype == torch.float64
    assert torch.ones_like(src, dtype=torch.bool).tolist() == [[True, True], [True, True]]
    assert torch.full_like(src, 2.7).tolist() == [[2, 2], [2, 2]]  # value cast to int32
    assert torch.full_like(src, 2.5, dtype=torch.float32).tolist() == [[2.5, 2.5], [2.5, 2.5]]
    assert torch.rand_like(src, dtype=torch.float32).dtype == torch.float32


def test_like_preserves_strides_of_dense_input():
    # memory_format=torch.preserve_format (the default) keeps a transposed layout
    src = torch.zeros(3, 2).t()
    assert torch.zeros_like(src).stride() == (1, 2)
    assert torch.empty_like(src).stride() == (1, 2)
    assert src.clone().stride() == (1, 2)


def test_rand_like_family():
    src = torch.zeros(50, 40, dtype=torch.float64)
    r = torch.rand_like(src)
    assert r.shape == src.shape and r.dtype == torch.float64
    v = to_np(r)
    assert v.min() >= 0 and v.max() < 1 and 0.45 < v.mean() < 0.55
    r = torch.randn_like(src)
    assert r.dtype == torch.float64 and abs(to_np(r).mean()) < 0.1
    r = torch.randint_like(src, 3, 7)
    assert r.dtype == torch.float64
    assert set(np.unique(to_np(r)).tolist()) == {3.0, 4.0, 5.0, 6.0}
    r = torch.randint_like(src.long(), 4)
    assert r.dtype == torch.int64 and set(np.unique(to_np(r)).tolist()) == {0, 1, 2, 3}


# --------------------------------------------------------------------------- random sampling

N = 200_000


def test_rand_uniform_statistics():
    torch.manual_seed(0)
    t = torch.rand(N)
    assert t.dtype == torch.float32 and t.shape == (N,)
    v = to_np(t)
    assert v.min() >= 0.0 and v.max() < 1.0
    assert abs(v.mean() - 0.5) < 0.005
    assert abs(v.var() - 1 / 12) < 0.002
    hist, _ = np.histogram(v, bins=10, range=(0, 1))
    assert (np.abs(hist / N - 0.1) < 0.005).all()


def test_randn_normal_statistics():
    torch.manual_seed(1)
    v = to_np(torch.randn(N, dtype=torch.float64))
    assert abs(v.mean()) < 0.015
    assert abs(v.std() - 1) < 0.015
    assert abs(np.mean(np.abs(v) < 1) - 0.6827) < 0.01
    assert abs(np.mean(v ** 3)) < 0.05  # symmetric


@pytest.mark.parametrize("fn", ["rand", "randn"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_rand_shapes_and_dtypes(fn, dtype):
    f = getattr(torch, fn)
    assert f(2, 3, dtype=dt(dtype)).shape == (2, 3)
    assert f((2, 3), dtype=dt(dtype)).dtype == dt(dtype)
    assert f(()).shape == ()
    assert f(0, 3).shape == (0, 3)


@pytest.mark.parametrize("fn", ["rand", "randn"])
def test_rand_int_dtype_not_supported(fn):
    with pytest.raises(RuntimeError):  # NotImplementedError is a RuntimeError
        getattr(torch, fn)(3, dtype=torch.int64)


def test_randint():
    torch.manual_seed(2)
    t = torch.randint(-3, 4, (10_000,))
    assert t.dtype == torch.int64 and t.shape == (10_000,)
    v = to_np(t)
    assert set(np.unique(v).tolist()) == set(range(-3, 4))
    counts = np.bincount(v + 3)
    assert (np.abs(counts / 10_000 - 1 / 7) < 0.03).all()
    t = torch.randint(5, (4, 5))
    assert t.shape == (4, 5) and to_np(t).min() >= 0 and to_np(t).max() < 5
    t = torch.randint(0, 2, size=(100,), dtype=torch.int32)
    assert t.dtype == torch.int32
    t = torch.randint(3, 10, (100,), dtype=torch.float32)
    assert t.dtype == torch.float32 and (to_np(t) == np.round(to_np(t))).all()


def test_randint_bad_range_raises():
    with pytest.raises(RuntimeError):
        torch.randint(3, 3, (3,))
    with pytest.raises(RuntimeError):
        torch.randint(5, 2, (3,))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_randperm(n):
    t = torch.randperm(n)
    assert t.dtype == torch.int64 and t.shape == (n,)
    assert sorted(t.tolist()) == list(range(n))


def test_randperm_shuffles_and_dtype():
    torch.manual_seed(3)
    t = torch.randperm(1000)
    assert t.tolist() != list(range(1000))
    assert torch.randperm(10, dtype=torch.int32).dtype == torch.int32
    # uniformity: the first position takes every value equally often
    first = [torch.randperm(4)[0].item() for _ in range(800)]
    counts = np.bincount(first, minlength=4)
    assert (np.abs(counts / 800 - 0.25) < 0.08).all()
    with pytest.raises(RuntimeError):
        torch.randperm(-1)


def test_normal_scalar_args():
    torch.manual_seed(4)
    t = torch.normal(2.0, 3.0, size=(N,))
    assert t.dtype == torch.float32 and t.shape == (N,)
    v = to_np(t)
    assert abs(v.mean() - 2.0) < 0.05 and abs(v.std() - 3.0) < 0.05


def test_normal_tensor_args():
    torch.manual_seed(5)
    mean = torch.tensor([[0.0] * 20000, [10.0] * 20000])
    std = torch.tensor([[1.0] * 20000, [0.1] * 20000])
    t = torch.normal(mean, std)
    assert t.shape == (2, 20000)
    v = to_np(t)
    assert abs(v[0].mean()) < 0.05 and abs(v[0].std() - 1.0) < 0.05
    assert abs(v[1].mean() - 10.0) < 0.005 and abs(v[1].std() - 0.1) < 0.005
    # tensor mean with scalar std, scalar mean with tensor std
    assert torch.normal(torch.zeros(3, 4), 1.0).shape == (3, 4)
    assert torch.normal(2.0, torch.ones(5)).shape == (5,)
    # broadcasting mean against std
    assert torch.normal(torch.zeros(2, 3), torch.ones(3)).shape == (2, 3)


def test_normal_bad_args():
    with pytest.raises(RuntimeError):
        torch.normal(0.0, -1.0, size=(3,))
    mean, std = torch.zeros(2, 3), torch.ones(4)
    with pytest.raises(RuntimeError):
        torch.normal(mean, std)
    assert mean.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("draw", [
    lambda **kw: torch.rand(5, **kw),
    lambda **kw: torch.randn(2, 3, **kw),
    lambda **kw: torch.randint(0, 100, (6,), **kw),
    lambda **kw: torch.randperm(20, **kw),
    lambda **kw: torch.normal(0.0, 1.0, size=(4,), **kw),
])
def test_manual_seed_and_generators_reproducible(draw):
    torch.manual_seed(123)
    a = draw()
    b = draw()
    torch.manual_seed(123)
    a2 = draw()
    b2 = draw()
    assert torch.equal(a, a2) and torch.equal(b, b2)
    assert not torch.equal(a, b)

    g1 = torch.Generator()
    assert g1.manual_seed(7) is g1
    g2 = torch.Generator().manual_seed(7)
    x1, x2 = draw(generator=g1), draw(generator=g2)
    assert torch.equal(x1, x2)
    assert not torch.equal(draw(generator=g1), x1)  # the generator's state advanced

    # drawing from a private generator leaves the global generator untouched
    torch.manual_seed(99)
    ref = draw()
    torch.manual_seed(99)
    draw(generator=torch.Generator().manual_seed(1))
    assert torch.equal(draw(), ref)


def test_different_seeds_differ():
    torch.manual_seed(0)
    a = torch.rand(10)
    torch.manual_seed(1)
    b = torch.rand(10)
    assert not torch.equal(a, b)


# --------------------------------------------------------------------------- default dtype

def test_default_dtype_is_float32():
    assert torch.get_default_dtype() == torch.float32


@pytest.mark.parametrize("default", ["float64", "float16", "bfloat16"])
def test_set_default_dtype(restore_default_dtype, default):
    torch.set_default_dtype(dt(default))
    d = dt(default)
    assert torch.get_default_dtype() == d
    assert torch.tensor([1.5]).dtype == d
    assert torch.tensor(1.5).dtype == d
    assert torch.as_tensor([0.5]).dtype == d
    assert torch.tensor([1, 2]).dtype == torch.int64  # ints unaffected
    assert torch.zeros(2).dtype == d and torch.ones(2).dtype == d and torch.empty(1).dtype == d
    assert torch.full((2,), 1.5).dtype == d
    assert torch.arange(5.0).dtype == d and torch.arange(0, 1, 0.5).dtype == d
    assert torch.arange(5).dtype == torch.int64
    assert torch.linspace(0, 1, 3).dtype == d
    assert torch.rand(2).dtype == d and torch.randn(2).dtype == d
    assert torch.eye(2).dtype == d
    assert (torch.tensor([1, 2]) / 2).dtype == d
    assert (torch.tensor([1, 2]) * 2.5).dtype == d
    # numpy scalars/arrays keep their own dtype
    assert torch.tensor(np.float32(1.5)).dtype == torch.float32


def test_set_default_dtype_float64_legacy_and_promotion(restore_default_dtype):
    torch.set_default_dtype(torch.float64)
    assert torch.Tensor([1]).dtype == torch.float64
    # a float tensor operand is never overridden by the default dtype
    assert (torch.tensor([1.0], dtype=torch.float16) * 2.5).dtype == torch.float16
    assert (torch.tensor([1.0], dtype=torch.float32) * 2.5).dtype == torch.float32
    t = torch.tensor([0.1])
    assert t.item() == 0.1  # stored in float64


@pytest.mark.parametrize("bad", ["int64", "int32", "bool", "uint8"])
def test_set_default_dtype_rejects_non_float(restore_default_dtype, bad):
    with pytest.raises(TypeError):
        torch.set_default_dtype(dt(bad))
    assert torch.get_default_dtype() == torch.float32


def test_set_default_tensor_type(restore_default_dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.set_default_tensor_type(torch.DoubleTensor)
        assert torch.get_default_dtype() == torch.float64
        assert torch.zeros(2).dtype == torch.float64
        torch.set_default_tensor_type("torch.FloatTensor")
        assert torch.get_default_dtype() == torch.float32
        with pytest.raises(TypeError):
            torch.set_default_tensor_type(torch.LongTensor)
        assert torch.get_default_dtype() == torch.float32


# --------------------------------------------------------------------------- conversions

def _values_for(dtype):
    return np.array([[0, 1, 2], [3, 7, 10]], dtype=np.float64) if dtype != "bool" else \
        np.array([[0, 1, 1], [0, 0, 1]], dtype=np.float64)


@pytest.mark.parametrize("src", ALL_DTYPES)
def test_to_dtype_all_pairs(src):
    for dst in ALL_DTYPES:
        _check_to(src, dst)


def _check_to(src, dst):
    vals = _values_for(src)
    t = torch.tensor(vals).to(dt(src))
    r = t.to(dt(dst))
    assert r.dtype == dt(dst) and r.shape == (2, 3)
    expected = vals != 0 if dst == "bool" else vals
    np.testing.assert_array_equal(to_np(r), expected)
    assert t.dtype == dt(src)  # source unchanged
    if src == dst:
        assert r is t
    else:
        assert r.data_ptr() != t.data_ptr()


SHORTHANDS = {"float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16",
              "int": "int32", "long": "int64", "bool": "bool", "byte": "uint8"}


@pytest.mark.parametrize("method", list(SHORTHANDS))
def test_shorthand_conversions(method):
    for src in ["float32", "int64", "bool", "float64", "float16"]:
        vals = _values_for(src)
        t = torch.tensor(vals).to(dt(src))
        r = getattr(t, method)()
        assert r.dtype == dt(SHORTHANDS[method])
        np.testing.assert_array_equal(to_np(r), vals != 0 if method == "bool" else vals)
        if SHORTHANDS[method] == src:
            assert r is t  # no copy when the dtype already matches


def test_float_to_int_truncates_toward_zero():
    t = torch.tensor([1.7, -1.7, 2.5, -2.5, 0.9, -0.9, 100.0])
    for m in ("int", "long"):
        assert getattr(t, m)().tolist() == [1, -1, 2, -2, 0, 0, 100]
    assert t.to(torch.int16).tolist() == [1, -1, 2, -2, 0, 0, 100]
    assert t.to(torch.int8).tolist() == [1, -1, 2, -2, 0, 0, 100]


def test_float_to_bool():
    t = torch.tensor([0.0, -0.0, 0.5, -2.0, float("nan"), float("inf")])
    assert t.bool().tolist() == [False, False, True, True, True, True]


def test_int_narrowing_wraps():
    assert torch.tensor([300, -1, 255, 256]).byte().tolist() == [44, 255, 255, 0]
    assert torch.tensor([2 ** 31, 2 ** 31 - 1]).int().tolist() == [-2 ** 31, 2 ** 31 - 1]
    assert torch.tensor([200], dtype=torch.int32).to(torch.int8).tolist() == [-56]


def test_half_and_bfloat16_rounding():
    x = np.array([1 / 3, 0.1, 1000.7, -2.718281828, 1e-3, 65504.0, 3.0e-8])
    t = torch.tensor(x, dtype=torch.float64)
    np.testing.assert_array_equal(to_np(t.half()), x.astype(np.float16).astype(np.float64))
    np.testing.assert_array_equal(to_np(t.float().bfloat16()), bf16_round(x))
    assert torch.tensor([1e5]).half().tolist() == [float("inf")]
    assert torch.tensor([1e40], dtype=torch.float64).float().tolist() == [float("inf")]
    assert torch.tensor([1 / 3]).bfloat16().item() == 0.333984375


def test_to_variants():
    t = torch.tensor([1.5, -2.0])
    assert t.to(torch.float32) is t
    c = t.to(torch.float32, copy=True)
    assert c is not t and c.data_ptr() != t.data_ptr() and torch.equal(c, t)
    assert t.to("cpu") is t
    assert t.to(torch.device("cpu")) is t
    assert t.to(dtype=torch.float64).dtype == torch.float64
    assert t.to("cpu", torch.float64).dtype == torch.float64
    other = torch.tensor([1], dtype=torch.int32)
    r = t.to(other)
    assert r.dtype == torch.int32 and r.tolist() == [1, -2]
    assert t.device == torch.device("cpu")
    with pytest.raises(RuntimeError):
        t.to("not_a_device")
    assert t.tolist() == [1.5, -2.0]


@pytest.mark.parametrize("dtype", list(LEGACY))
def test_type_string(dtype):
    t = torch.zeros(2, dtype=dt(dtype))
    assert t.type() == "torch." + LEGACY[dtype]


@pytest.mark.parametrize("target", list(LEGACY))
def test_type_conversion(target):
    t = torch.tensor([1.7, 0.0, 2.0])
    expected = [1.7, 0.0, 2.0] if target in FLOAT_DTYPES else [1, 0, 2]
    if target == "bool":
        expected = [True, False, True]
    for arg in (getattr(torch, LEGACY[target]), "torch." + LEGACY[target], dt(target)):
        r = t.type(arg)
        assert r.dtype == dt(target)
        np.testing.assert_allclose(to_np(r), np.array(expected, dtype=np.float64), rtol=1e-3)
    assert t.dtype == torch.float32
    assert t.type(torch.FloatTensor) is t


def test_type_bad_string_raises():
    t = torch.tensor([1.0])
    with pytest.raises(ValueError):
        t.type("torch.NoSuchTensor")
    assert t.tolist() == [1.0]


def test_clone_and_contiguous():
    a, t = make((3, 4), "float64")
    c = t.clone()
    assert torch.equal(c, t) and c.data_ptr() != t.data_ptr()
    c[0, 0] = 100.0
    assert to_np(t)[0, 0] == a[0, 0]
    assert t.contiguous() is t
    tt = t.t()
    assert not tt.is_contiguous()
    cc = tt.contiguous()
    assert cc.is_contiguous() and cc.stride() == (3, 1)
    np.testing.assert_array_equal(to_np(cc), a.T)
    s = t[:, ::2].contiguous()
    assert s.is_contiguous()
    np.testing.assert_array_equal(to_np(s), a[:, ::2])


def test_copy_():
    dst = torch.zeros(2, 3)
    r = dst.copy_(torch.tensor([1.0, 2.0, 3.0]))  # broadcast
    assert r is dst
    assert dst.tolist() == [[1, 2, 3], [1, 2, 3]]
    dst = torch.zeros(3, dtype=torch.int32)
    dst.copy_(torch.tensor([1.7, -1.7, 2.2]))  # dtype conversion
    assert dst.dtype == torch.int32 and dst.tolist() == [1, -1, 2]
    # into a view: visible in the base
    base = torch.zeros(3, 4)
    base[:, 1].copy_(torch.tensor([1.0, 2.0, 3.0]))
    assert base[:, 1].tolist() == [1, 2, 3] and base.sum().item() == 6
    # from a non-contiguous source
    a, src = make((4, 3), "float32")
    dst = torch.empty(3, 4)
    dst.copy_(src.t())
    np.testing.assert_array_equal(to_np(dst), a.T)


def test_copy_bad_shape_raises():
    dst = torch.zeros(3)
    src = torch.ones(2, 3)
    with pytest.raises(RuntimeError):
        dst.copy_(src)
    assert dst.tolist() == [0, 0, 0] and src.shape == (2, 3)
    with pytest.raises(RuntimeError):
        torch.zeros(3).copy_(torch.tensor([1, 2]))


# --------------------------------------------------------------------------- Python scalar protocols

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_item_types(dtype):
    t = torch.tensor([1], dtype=dt(dtype))
    v = t.item()
    expected_type = bool if dtype == "bool" else (float if dtype in FLOAT_DTYPES else int)
    assert type(v) is expected_type
    assert v == 1
    assert type(torch.tensor(1, dtype=dt(dtype)).item()) is expected_type
    assert type(torch.ones(1, 1, 1, dtype=dt(dtype)).item()) is expected_type


def test_item_values():
    assert torch.tensor(0.1).item() == float(np.float32(0.1))
    assert torch.tensor(0.1, dtype=torch.float64).item() == 0.1
    assert torch.tensor(-7).item() == -7
    assert torch.tensor(2 ** 62).item() == 2 ** 62
    assert math.isnan(torch.tensor(float("nan")).item())
    assert torch.tensor([[5.5]]).item() == 5.5


@pytest.mark.parametrize("shape", [(2,), (0,), (2, 3)])
def test_item_multiple_elements_raises(shape):
    t = torch.ones(shape)
    with pytest.raises(RuntimeError):
        t.item()
    assert t.shape == shape


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tolist(dtype):
    vals = _values_for(dtype)
    t = torch.tensor(vals).to(dt(dtype))
    lst = t.tolist()
    assert isinstance(lst, list) and len(lst) == 2 and len(lst[0]) == 3
    expected_type = bool if dtype == "bool" else (float if dtype in FLOAT_DTYPES else int)
    assert all(type(x) is expected_type for row in lst for x in row)
    assert lst == (vals != 0 if dtype == "bool" else vals).tolist()


def test_tolist_shapes():
    assert torch.tensor(3).tolist() == 3
    assert torch.tensor(2.5).tolist() == 2.5
    assert torch.zeros(0).tolist() == []
    assert torch.zeros(2, 0).tolist() == [[], []]
    assert torch.zeros(1, 1, 2).tolist() == [[[0.0, 0.0]]]
    a, t = make((3, 4), "float64")
    assert t.t().tolist() == a.T.tolist()
    assert t[::2, 1:].tolist() == a[::2, 1:].tolist()
    assert torch.tensor([0.1]).tolist() == [float(np.float32(0.1))]


def test_float_int_conversion():
    assert float(torch.tensor(2.5)) == 2.5
    assert float(torch.tensor([[2]])) == 2.0 and type(float(torch.tensor(3))) is float
    assert int(torch.tensor(-2.7)) == -2
    assert int(torch.tensor([2.7])) == 2
    assert int(torch.tensor(True)) == 1
    assert type(int(torch.tensor(7.0))) is int
    assert math.isnan(float(torch.tensor(float("nan"))))
    with pytest.raises(ValueError):
        int(torch.tensor(float("nan")))
    with pytest.raises(OverflowError):
        int(torch.tensor(float("inf")))


@pytest.mark.parametrize("conv", [float, int])
@pytest.mark.parametrize("shape", [(2,), (0,), (1, 2)])
def test_float_int_many_elements_raises_valueerror(conv, shape):
    t = torch.ones(shape)
    with pytest.raises(ValueError):
        conv(t)
    assert t.shape == shape


@pytest.mark.parametrize("value, expected", [
    (0.0, False), (-0.0, False), (0.5, True), (float("nan"), True), (0, False), (3, True),
    (True, True), (False, False),
])
def test_bool(value, expected):
    assert bool(torch.tensor(value)) is expected
    assert bool(torch.tensor([value])) is expected
    assert bool(torch.tensor([[value]])) is expected


@pytest.mark.parametrize("shape", [(2,), (0,), (2, 2)])
def test_bool_ambiguous_raises(shape):
    t = torch.ones(shape)
    with pytest.raises(RuntimeError):
        bool(t)
    with pytest.raises(RuntimeError):
        if t:
            pass


def test_len():
    assert len(torch.zeros(4)) == 4
    assert len(torch.zeros(2, 5)) == 2
    assert len(torch.zeros(0, 3)) == 0
    assert len(torch.zeros(5, 3).t()) == 3
    with pytest.raises(TypeError):
        len(torch.tensor(1.0))


def test_iteration():
    a, t = make((3, 2), "float64")
    rows = list(t)
    assert len(rows) == 3
    for r, ar in zip(rows, a):
        assert r.shape == (2,)
        np.testing.assert_array_equal(to_np(r), ar)
    elems = list(torch.tensor([4, 5, 6]))
    assert all(e.shape == () and e.dtype == torch.int64 for e in elems)
    assert [e.item() for e in elems] == [4, 5, 6]
    assert list(torch.zeros(0, 3)) == []
    cols = list(t.t())
    np.testing.assert_array_equal(to_np(cols[1]), a[:, 1])
    with pytest.raises(TypeError):
        iter(torch.tensor(1.0))
    # rows are views: writes go through to the base
    rows[0][1] = 42.0
    assert t[0, 1].item() == 42.0


@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_index_protocol(dtype):
    one = torch.tensor(1, dtype=dt(dtype))
    assert operator.index(one) == 1 and type(operator.index(one)) is int
    assert [10, 20, 30][one] == 20
    if dtype != "bool":
        assert list(range(torch.tensor(3, dtype=dt(dtype)))) == [0, 1, 2]
        assert "abcd"[torch.tensor(2, dtype=dt(dtype))] == "c"
        assert [10, 20, 30][torch.tensor([2], dtype=dt(dtype))] == 30  # one element is enough
    if dtype not in ("bool", "uint8"):
        assert [10, 20, 30][torch.tensor(-1, dtype=dt(dtype))] == 30


@pytest.mark.parametrize("make_t", [
    lambda: torch.tensor(1.0), lambda: torch.tensor(1.0, dtype=torch.float64),
    lambda: torch.tensor([1, 2]), lambda: torch.tensor([1.0]),
], ids=["f32", "f64", "int-2elem", "float-1elem"])
def test_index_protocol_rejects(make_t):
    t = make_t()
    with pytest.raises(TypeError):
        operator.index(t)
    with pytest.raises(TypeError):
        [1, 2, 3][t]


def test_new_factories_take_self_dtype_and_device():
    base = torch.zeros(2, dtype=torch.float16)
    src = torch.tensor([[1.5, -2.25], [3.0, 4.0]], dtype=torch.float64)
    r = base.new_tensor(src)
    assert r.dtype == torch.float16 and r.tolist() == src.tolist()
    r.fill_(0.0)
    assert src.tolist() == [[1.5, -2.25], [3.0, 4.0]]  # a copy, not a view
    assert base.new_tensor(src, dtype=torch.int32).tolist() == [[1, -2], [3, 4]]
    # a size given as one int-like (a 0-d integer tensor) is a 1-d size
    z = base.new_zeros(torch.tensor(3))
    assert z.shape == (3,) and z.dtype == torch.float16 and z.tolist() == [0.0] * 3
    assert base.new_ones((2, 1)).tolist() == [[1.0], [1.0]]
    assert base.new_full((2,), 7).tolist() == [7.0, 7.0]
