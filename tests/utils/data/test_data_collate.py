"""default_collate / default_convert (torch.utils.data._utils.collate), against
hand-written expected structures and NumPy-stacked values."""
import collections

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import default_collate, default_convert
from ferrotorch.utils.data._utils.collate import collate, default_collate_fn_map

Point = collections.namedtuple("Point", ["x", "y"])


def _np(t):
    return t.detach().numpy()


# ---- leaves ---------------------------------------------------------------------------

def test_ints_become_int64():
    out = default_collate([0, 1, 2**40])
    assert out.dtype == torch.int64 and out.shape == (3,)
    assert out.tolist() == [0, 1, 2**40]


def test_floats_become_float64():
    out = default_collate([0.5, -1.25, 3.0])
    assert out.dtype == torch.float64
    np.testing.assert_array_equal(_np(out), [0.5, -1.25, 3.0])


def test_bools_become_bool():
    out = default_collate([True, False, True])
    assert out.dtype == torch.bool and out.tolist() == [True, False, True]


def test_strings_and_bytes_stay_lists():
    assert default_collate(["a", "bb", "c"]) == ["a", "bb", "c"]
    assert default_collate([b"x", b"y"]) == [b"x", b"y"]


@pytest.mark.parametrize("np_dtype, dtype", [
    (np.float32, torch.float32), (np.float64, torch.float64), (np.int32, torch.int32),
    (np.int64, torch.int64), (np.uint8, torch.uint8), (np.bool_, torch.bool),
])
def test_numpy_arrays_are_stacked(np_dtype, dtype):
    rng = np.random.default_rng(0)
    arrs = [(rng.standard_normal((2, 3)) * 5).astype(np_dtype) for _ in range(4)]
    out = default_collate(arrs)
    assert out.dtype == dtype and out.shape == (4, 2, 3)
    np.testing.assert_array_equal(_np(out), np.stack(arrs))


@pytest.mark.parametrize("scalar, dtype", [
    (np.float32, torch.float32), (np.float64, torch.float64), (np.int32, torch.int32),
    (np.int64, torch.int64), (np.bool_, torch.bool),
])
def test_numpy_scalars_keep_their_dtype(scalar, dtype):
    vals = [scalar(1), scalar(0), scalar(3)]
    out = default_collate(vals)
    assert out.dtype == dtype and out.shape == (3,)
    np.testing.assert_array_equal(_np(out), np.array(vals))


def test_zero_dim_numpy_arrays():
    out = default_collate([np.array(1.5), np.array(2.5)])
    assert out.dtype == torch.float64 and out.shape == (2,)
    np.testing.assert_array_equal(_np(out), [1.5, 2.5])


def test_tensors_are_stacked():
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(5)]
    out = default_collate([torch.from_numpy(a.copy()) for a in arrs])
    assert out.shape == (5, 3, 2) and out.dtype == torch.float32
    np.testing.assert_array_equal(_np(out), np.stack(arrs))


def test_non_contiguous_tensors_are_stacked():
    base = [np.arange(6, dtype=np.float64).reshape(2, 3) + 10 * k for k in range(3)]
    ts = [torch.from_numpy(b.copy()).t() for b in base]  # (3, 2) views, transposed strides
    assert not ts[0].is_contiguous()
    out = default_collate(ts)
    assert out.shape == (3, 3, 2)
    np.testing.assert_array_equal(_np(out), np.stack([b.T for b in base]))


def test_zero_dim_tensors():
    out = default_collate([torch.tensor(1), torch.tensor(5)])
    assert out.shape == (2,) and out.tolist() == [1, 5] and out.dtype == torch.int64


def test_stacking_keeps_autograd():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    out = default_collate([a, b])
    assert out.requires_grad
    (out * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(_np(a.grad), [1.0, 2.0])
    np.testing.assert_array_equal(_np(b.grad), [3.0, 4.0])


# ---- containers -----------------------------------------------------------------------

def test_dicts_are_collated_per_key():
    out = default_collate([{"A": 0, "B": 1.5}, {"A": 100, "B": 2.5}])
    assert set(out) == {"A", "B"}
    assert out["A"].tolist() == [0, 100] and out["A"].dtype == torch.int64
    assert out["B"].tolist() == [1.5, 2.5] and out["B"].dtype == torch.float64


def test_mapping_type_is_kept():
    batch = [collections.OrderedDict([("b", 1), ("a", 2)]), collections.OrderedDict([("b", 3), ("a", 4)])]
    out = default_collate(batch)
    assert type(out) is collections.OrderedDict
    assert list(out) == ["b", "a"] and out["b"].tolist() == [1, 3]


def test_tuples_become_lists():
    out = default_collate([(0, 1), (2, 3)])
    assert type(out) is list and len(out) == 2
    assert out[0].tolist() == [0, 2] and out[1].tolist() == [1, 3]


def test_lists_stay_lists():
    out = default_collate([[0, 1.5], [2, 3.5]])
    assert type(out) is list
    assert out[0].dtype == torch.int64 and out[1].dtype == torch.float64


def test_namedtuples_keep_their_type():
    out = default_collate([Point(0, 0.5), Point(1, 1.5)])
    assert type(out) is Point
    assert out.x.tolist() == [0, 1] and out.y.tolist() == [0.5, 1.5]


def test_nested_structures():
    batch = [
        {"img": torch.full((2,), float(k)), "meta": (k, "name%d" % k), "pt": Point(np.float32(k), [k, -k])}
        for k in range(3)
    ]
    out = default_collate(batch)
    np.testing.assert_array_equal(_np(out["img"]), [[0, 0], [1, 1], [2, 2]])
    assert out["meta"][0].tolist() == [0, 1, 2]
    assert out["meta"][1] == ("name0", "name1", "name2")
    assert type(out["pt"]) is Point
    assert out["pt"].x.dtype == torch.float32 and out["pt"].x.tolist() == [0.0, 1.0, 2.0]
    assert out["pt"].y[0].tolist() == [0, 1, 2] and out["pt"].y[1].tolist() == [0, -1, -2]


def test_strings_inside_tuples_are_the_transposed_tuple():
    # zip(*batch) hands the string column to the string rule as a tuple, returned as is
    out = default_collate([(1, "a"), (2, "b")])
    assert out[1] == ("a", "b")


# ---- errors ---------------------------------------------------------------------------

def test_unequal_sequence_lengths():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([(1, 2), (3, 4, 5)])


def test_unequal_tensor_shapes():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1"):
        default_collate([torch.zeros(2), torch.zeros(3)])


def test_unsupported_type():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, "
                                        "dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None, None])


def test_numpy_string_arrays_rejected():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, "
                                        "dicts or lists; found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found object"):
        default_collate([np.array([None], dtype=object), np.array([1], dtype=object)])


# ---- extending collate -------------------------------------------------------------------

def test_collate_with_custom_map():
    def collate_int_as_str(batch, *, collate_fn_map=None):
        return "-".join(str(b) for b in batch)

    custom = dict(default_collate_fn_map)
    custom[int] = collate_int_as_str
    out = collate([(1, 1.5), (2, 2.5)], collate_fn_map=custom)
    assert out[0] == "1-2"
    assert out[1].dtype == torch.float64  # other rules unchanged


# ---- default_convert -------------------------------------------------------------------

def test_default_convert_arrays_and_scalars():
    t = default_convert(np.array([0, 1], dtype=np.int32))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.int32 and t.tolist() == [0, 1]
    s = default_convert(np.float64(2.5))
    assert isinstance(s, torch.Tensor) and s.dim() == 0 and s.item() == 2.5
    assert default_convert(3) == 3 and type(default_convert(3)) is int
    assert default_convert("abc") == "abc"
    x = torch.ones(2)
    assert default_convert(x) is x


def test_default_convert_containers():
    out = default_convert(Point(np.array(0), np.array([1.5])))
    assert type(out) is Point and isinstance(out.x, torch.Tensor) and out.y.tolist() == [1.5]
    out = default_convert((np.array([1]), 2))
    assert type(out) is list and out[0].tolist() == [1] and out[1] == 2
    out = default_convert([np.array([0, 1]), np.array([2, 3])])
    assert type(out) is list and [o.tolist() for o in out] == [[0, 1], [2, 3]]
    out = default_convert({"a": np.array([1.0]), "b": "s"})
    assert out["a"].dtype == torch.float64 and out["b"] == "s"


def test_default_convert_leaves_string_arrays():
    a = np.array(["x", "y"])
    assert default_convert(a) is a
    s = np.str_("x")
    assert default_convert(s) is s
