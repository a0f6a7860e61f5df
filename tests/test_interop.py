"""NumPy interop: from_numpy / .numpy() / __array__ / as_tensor / tensor / tolist."""
import gc

import numpy as np
import pytest

import ferrotorch as torch


NP_TO_TORCH = [
    (np.bool_, "bool"), (np.uint8, "uint8"), (np.int8, "int8"), (np.int16, "int16"), (np.int32, "int32"),
    (np.int64, "int64"), (np.float16, "float16"), (np.float32, "float32"), (np.float64, "float64"),
]


def sample(np_dtype, shape=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    if np_dtype is np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(np_dtype, np.integer):
        info = np.iinfo(np_dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), size=shape).astype(np_dtype)
    return rng.uniform(-3, 3, size=shape).astype(np_dtype)


def churn():
    """Allocate and free a lot so freed buffers would likely be reused / unmapped."""
    for _ in range(3):
        junk = [np.full(1000, 123456.0) for _ in range(200)]
        junk2 = [torch.full((1000,), -7.0) for _ in range(200)]
        del junk, junk2
    gc.collect()


# ---------------------------------------------------------------- dtype mapping

@pytest.mark.parametrize("np_dtype,name", NP_TO_TORCH, ids=[n for _, n in NP_TO_TORCH])
def test_from_numpy_dtypes_and_values(np_dtype, name):
    a = sample(np_dtype)
    t = torch.from_numpy(a)
    assert t.dtype == getattr(torch, name)
    assert tuple(t.shape) == a.shape
    assert t.stride() == (3, 1)
    back = t.numpy()
    assert back.dtype == a.dtype
    assert np.array_equal(back, a)
    assert np.shares_memory(back, a)
    assert t.tolist() == a.tolist()


@pytest.mark.parametrize("np_dtype,name", NP_TO_TORCH, ids=[n for _, n in NP_TO_TORCH])
def test_numpy_dtype_of_tensor(np_dtype, name):
    t = torch.zeros(2, 2, dtype=getattr(torch, name))
    assert t.numpy().dtype == np.dtype(np_dtype)


def test_bfloat16_numpy_raises_type_error():
    t = torch.zeros(2, dtype=torch.bfloat16)
    with pytest.raises(TypeError):
        t.numpy()
    # widening first works
    assert t.float().numpy().dtype == np.float32


@pytest.mark.parametrize("arr", [
    np.array([object(), 1], dtype=object),
    np.array(["ab", "c"]),
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    np.zeros(3, dtype=[("x", np.float32), ("y", np.int32)]),
], ids=["object", "str", "datetime64", "structured"])
def test_from_numpy_unsupported_dtype_type_error(arr):
    with pytest.raises(TypeError):
        torch.from_numpy(arr)


def test_from_numpy_non_array_type_error():
    with pytest.raises(TypeError):
        torch.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError):
        torch.from_numpy(np.float64(1.0))       # a NumPy scalar is not an ndarray
    with pytest.raises(TypeError):
        torch.from_numpy(torch.zeros(2))


def test_from_numpy_non_native_byte_order():
    a = np.arange(3, dtype=">f4")
    with pytest.raises(ValueError):
        torch.from_numpy(a)


# ---------------------------------------------------------------- shared memory

def test_from_numpy_shares_both_ways():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = torch.from_numpy(a)
    a[0, 1] = 100.0
    assert t[0, 1].item() == 100.0
    t[1, 2] = -5.0
    assert a[1, 2] == -5.0
    t += 1.0
    assert np.array_equal(a, np.array([[1.0, 101.0, 3.0], [4.0, 5.0, -4.0]]))
    a *= 2
    assert t.tolist() == [[2.0, 202.0, 6.0], [8.0, 10.0, -8.0]]
    assert t.data_ptr() == a.__array_interface__["data"][0]


def test_numpy_shares_both_ways():
    t = torch.arange(6, dtype=torch.int32).reshape(2, 3)
    a = t.numpy()
    a[1, 1] = 77
    assert t[1, 1].item() == 77
    t[0] = -1
    assert a.tolist() == [[-1, -1, -1], [3, 77, 5]]
    assert a.__array_interface__["data"][0] == t.data_ptr()
    assert a.flags["WRITEABLE"]


def test_array_stays_alive_after_tensor_deleted():
    t = torch.arange(1000, dtype=torch.float64)
    a = t.numpy()
    del t
    churn()
    assert np.array_equal(a, np.arange(1000, dtype=np.float64))
    a[3] = 5.0
    assert a[3] == 5.0


def test_tensor_stays_alive_after_array_deleted():
    a = np.arange(1000, dtype=np.float32)
    t = torch.from_numpy(a)
    del a
    churn()
    assert np.array_equal(t.numpy(), np.arange(1000, dtype=np.float32))
    t[2] = 9.0
    assert t[2].item() == 9.0


def test_view_of_from_numpy_keeps_storage_alive():
    a = np.arange(24, dtype=np.int64).reshape(4, 6)
    v = torch.from_numpy(a)[1:, ::2].t()
    del a
    churn()
    assert v.tolist() == np.arange(24).reshape(4, 6)[1:, ::2].T.tolist()
    w = v.numpy()
    del v
    churn()
    assert w.tolist() == np.arange(24).reshape(4, 6)[1:, ::2].T.tolist()


def test_round_trip_chain_shares():
    a = np.zeros(4)
    b = torch.from_numpy(a).numpy()
    c = torch.from_numpy(b)
    c[2] = 3.0
    assert a[2] == 3.0 and b[2] == 3.0


# ---------------------------------------------------------------- strides

def test_negative_stride_value_error():
    a = np.arange(6.0)
    with pytest.raises(ValueError, match="negative"):
        torch.from_numpy(a[::-1])
    with pytest.raises(ValueError):
        torch.from_numpy(np.arange(6.0).reshape(2, 3)[:, ::-1])
    assert np.array_equal(a, np.arange(6.0))
    # the advertised workaround
    assert torch.from_numpy(a[::-1].copy()).tolist() == [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]


@pytest.mark.parametrize("make_view", [
    lambda x: x[:, ::2], lambda x: x.T, lambda x: x[1:, 1:3], lambda x: x[::2, ::3], lambda x: x[:, 1],
    lambda x: np.broadcast_to(x[:1], (3, 6)),
], ids=["colstep", "T", "window", "steps", "column", "broadcast"])
def test_from_numpy_positive_strides_kept(make_view):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    a = make_view(base)
    t = torch.from_numpy(a)
    assert t.stride() == tuple(s // 4 for s in a.strides)
    assert tuple(t.shape) == a.shape
    assert t.is_contiguous() == bool(a.flags["C_CONTIGUOUS"])
    assert t.tolist() == a.tolist()
    assert t.data_ptr() == a.__array_interface__["data"][0]
    if a.flags["WRITEABLE"]:
        t[(0,) * t.dim()] = -1.0
        assert a[(0,) * a.ndim] == -1.0


def test_numpy_of_noncontiguous_tensor():
    t = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    v = t[1:, ::2].t()
    a = v.numpy()
    exp = np.arange(24, dtype=np.float64).reshape(4, 6)[1:, ::2].T
    assert np.array_equal(a, exp)
    assert tuple(s // 8 for s in a.strides) == v.stride()
    a[0, 0] = -1.0                     # writes reach the base tensor
    assert t[1, 0].item() == -1.0
    e = torch.arange(3, dtype=torch.float64).reshape(3, 1).expand(3, 4)
    ea = e.numpy()
    assert ea.strides[1] == 0
    assert np.array_equal(ea, np.broadcast_to(np.arange(3.0).reshape(3, 1), (3, 4)))


def test_empty_and_0d_round_trip():
    for shape in [(0,), (2, 0, 3), ()]:
        a = np.zeros(shape, dtype=np.float32)
        t = torch.from_numpy(a)
        assert tuple(t.shape) == shape
        assert t.numpy().shape == shape
    t = torch.from_numpy(np.array(3.5))
    assert t.dim() == 0 and t.item() == 3.5
    a = torch.tensor(2.5).numpy()
    assert a.shape == () and a.dtype == np.float32 and float(a) == 2.5


# ---------------------------------------------------------------- __array__, tensor(), as_tensor

def test_array_protocol():
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.shape == (2, 3)
    assert np.array_equal(a, np.arange(6, dtype=np.float32).reshape(2, 3))
    a[0, 0] = 42.0                       # np.asarray of a CPU tensor is a view
    assert t[0, 0].item() == 42.0
    b = np.asarray(t, dtype=np.float64)
    assert b.dtype == np.float64 and np.array_equal(b, a)
    c = np.array(t)                      # np.array copies
    c[0, 1] = -1.0
    assert t[0, 1].item() == 1.0
    assert np.array_equal(np.asarray(torch.tensor([True, False])), [True, False])
    # NumPy functions accept tensors through __array__
    assert np.sum(np.asarray(t)) == 42.0 + 15.0


@pytest.mark.parametrize("np_dtype,name", NP_TO_TORCH, ids=[n for _, n in NP_TO_TORCH])
def test_tensor_from_array_copies(np_dtype, name):
    a = sample(np_dtype, seed=3)
    t = torch.tensor(a)
    assert t.dtype == getattr(torch, name)      # keeps the array's dtype (float64 stays float64)
    assert t.tolist() == a.tolist()
    assert t.data_ptr() != a.__array_interface__["data"][0]
    orig = a.copy()
    a[...] = a[::-1, ::-1] if a.dtype != np.bool_ else ~a
    assert t.tolist() == orig.tolist()


def test_tensor_from_array_with_dtype_and_strided():
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    t = torch.tensor(a.T[::2], dtype=torch.float32)
    assert t.dtype == torch.float32
    assert t.tolist() == a.T[::2].astype(np.float32).tolist()
    t2 = torch.tensor(a[:, 1::2])
    a[0, 1] = -100
    assert t2.tolist() == [[1, 3], [5, 7], [9, 11]]


def test_as_tensor_shares_when_it_can():
    a = np.arange(6, dtype=np.float64)
    t = torch.as_tensor(a)
    assert t.dtype == torch.float64
    t[0] = 10.0
    assert a[0] == 10.0
    a[1] = 20.0
    assert t[1].item() == 20.0
    t2 = torch.as_tensor(a, dtype=torch.float64)
    t2[2] = 30.0
    assert a[2] == 30.0
    # a dtype change forces a copy
    t3 = torch.as_tensor(a, dtype=torch.float32)
    t3[3] = -1.0
    assert a[3] == 3.0
    assert t3.dtype == torch.float32
    # a tensor input with the same dtype is returned without copying
    base = torch.zeros(3)
    same = torch.as_tensor(base)
    same[0] = 1.0
    assert base[0].item() == 1.0
    # lists are copied into a new tensor with inferred dtype
    assert torch.as_tensor([1, 2]).dtype == torch.int64
    assert torch.as_tensor([1.0, 2]).dtype == torch.get_default_dtype()
    # strided arrays keep sharing
    s = np.arange(12.0).reshape(3, 4)[:, ::2]
    ts = torch.as_tensor(s)
    ts[0, 1] = 99.0
    assert s[0, 1] == 99.0


def test_as_tensor_negative_strides():
    a = np.arange(4.0)[::-1]
    t = torch.as_tensor(a.copy())
    assert t.tolist() == [3.0, 2.0, 1.0, 0.0]


# ---------------------------------------------------------------- tolist / item

def test_tolist_types_and_nesting():
    assert torch.tensor(5).tolist() == 5 and type(torch.tensor(5).tolist()) is int
    assert type(torch.tensor(2.5).tolist()) is float
    assert torch.tensor(True).tolist() is True
    assert torch.zeros(2, 0).tolist() == [[], []]
    assert torch.zeros(0).tolist() == []
    t = torch.arange(24).reshape(2, 3, 4)
    assert t.tolist() == np.arange(24).reshape(2, 3, 4).tolist()
    lst = t.tolist()
    assert type(lst[1][2][3]) is int
    assert t.transpose(0, 2)[1:, ::2].tolist() == np.arange(24).reshape(2, 3, 4).transpose(2, 1, 0)[1:, ::2].tolist()
    f = torch.tensor([[0.1, 0.2]], dtype=torch.float32).tolist()
    assert f == [[float(np.float32(0.1)), float(np.float32(0.2))]]   # float32 values, widened exactly
    h = torch.tensor([0.1], dtype=torch.float16).tolist()
    assert h == [float(np.float16(0.1))]
    b = torch.tensor([[True, False]]).tolist()
    assert b == [[True, False]] and type(b[0][0]) is bool
    u = torch.tensor([255], dtype=torch.uint8).tolist()
    assert u == [255]


def test_item_and_python_scalars():
    t = torch.tensor([[7.25]], dtype=torch.float64)
    assert t.item() == 7.25 and isinstance(t.item(), float)
    assert float(t) == 7.25
    assert int(torch.tensor(-3.9)) == -3
    assert isinstance(torch.tensor(4, dtype=torch.int16).item(), int)
    assert [10, 20, 30][torch.tensor(2)] == 30      # __index__ of a 0-d integer tensor
    a = np.arange(5)
    assert a[torch.tensor(1)] == 1


def test_format_of_0d_tensors_is_the_number():
    assert f"{torch.tensor(0.0)}" == "0.0"
    assert f"{torch.tensor(1.23456):.3f}" == "1.235"
    assert "{:>5}".format(torch.tensor(7)) == "    7"
    assert f"{torch.tensor(True)}" == "True"
    t = torch.tensor([1.0, 2.0])
    assert f"{t}" == str(t)
    with pytest.raises(TypeError):
        f"{t:.2f}"
