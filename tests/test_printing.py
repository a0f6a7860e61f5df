"""Tests for ferrotorch._tensor_str: the repr of tensors must match PyTorch's exactly.

Every expected string below is PyTorch's real ``repr(tensor)`` output for the same
values (generated with torch 2.x and checked by hand).  The module is loaded by file
path so these tests do not need the compiled engine.
"""
import importlib.util
import math
import pathlib

import numpy as np
import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "python" / "ferrotorch" / "_tensor_str.py"
_spec = importlib.util.spec_from_file_location("_ferrotorch_tensor_str_under_test", _PATH)
_ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ts)

format_tensor = _ts.format_tensor
set_printoptions = _ts.set_printoptions
get_printoptions = _ts.get_printoptions

nan, inf = math.nan, math.inf


@pytest.fixture(autouse=True)
def _reset_printoptions():
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


def f32(x):
    return np.asarray(x, dtype=np.float32)


def i64(x):
    return np.asarray(x, dtype=np.int64)


# ----------------------------------------------------------------- basic values


def test_ints():
    assert format_tensor(i64([1, -20, 300]), "int64") == "tensor([  1, -20, 300])"


def test_floats_four_decimals():
    assert (
        format_tensor(f32([1.5, -2.25, 3.14159]), "float32")
        == "tensor([ 1.5000, -2.2500,  3.1416])"
    )


def test_integer_valued_floats():
    assert format_tensor(f32([1.0, 2.0]), "float32") == "tensor([1., 2.])"
    assert format_tensor(f32([-1.0, 20.0, 300.0]), "float32") == "tensor([ -1.,  20., 300.])"
    assert format_tensor(f32([0.0, 0.0, 0.0]), "float32") == "tensor([0., 0., 0.])"


def test_scientific_switch():
    # max > 1e8
    assert format_tensor(f32([1e10, 1.0]), "float32") == "tensor([1.0000e+10, 1.0000e+00])"
    assert format_tensor(f32([123456789.0]), "float32") == "tensor([1.2346e+08])"
    # min < 1e-4
    assert format_tensor(f32([1e-5, 1.0]), "float32") == "tensor([1.0000e-05, 1.0000e+00])"
    # max / min > 1000
    assert format_tensor(f32([0.001, 2.0]), "float32") == "tensor([1.0000e-03, 2.0000e+00])"
    # max / min = 200: stays fixed point
    assert format_tensor(f32([0.01, 2.0]), "float32") == "tensor([0.0100, 2.0000])"


def test_nan_inf():
    assert (
        format_tensor(f32([nan, inf, -inf, 1.5]), "float32")
        == "tensor([   nan,    inf,   -inf, 1.5000])"
    )
    assert format_tensor(f32([nan, 1.0, -inf]), "float32") == "tensor([nan, 1., -inf])"
    assert format_tensor(f32([nan, inf]), "float32") == "tensor([nan, inf])"


def test_negative_zero():
    assert (
        format_tensor(f32([-0.0, 0.0, 1.5]), "float32")
        == "tensor([-0.0000, 0.0000, 1.5000])"
    )
    assert format_tensor(f32([-0.0, 2.0]), "float32") == "tensor([-0., 2.])"


def test_bool():
    assert format_tensor(np.array([True, False]), "bool") == "tensor([ True, False])"
    assert format_tensor(np.array([True, True]), "bool") == "tensor([True, True])"
    assert (
        format_tensor(np.array([[True, False], [False, False]]), "bool")
        == "tensor([[ True, False],\n        [False, False]])"
    )


def test_zero_dim():
    assert format_tensor(f32(3.5), "float32") == "tensor(3.5000)"
    assert format_tensor(f32(2.0), "float32") == "tensor(2.)"
    assert format_tensor(f32(1e-7), "float32") == "tensor(1.0000e-07)"
    assert format_tensor(np.array(7, dtype=np.int64), "int64") == "tensor(7)"
    assert format_tensor(np.array(True), "bool") == "tensor(True)"
    assert (
        format_tensor(np.array(7, dtype=np.int32), "int32")
        == "tensor(7, dtype=torch.int32)"
    )


def test_empty():
    assert format_tensor(f32([]), "float32") == "tensor([])"
    assert format_tensor(np.zeros((2, 0, 3), np.float32), "float32") == "tensor([], size=(2, 0, 3))"
    # empty tensors always show a non-default dtype, even int64 and bool
    assert format_tensor(i64([]), "int64") == "tensor([], dtype=torch.int64)"
    assert (
        format_tensor(np.zeros((0, 4), np.int32), "int32")
        == "tensor([], size=(0, 4), dtype=torch.int32)"
    )
    assert format_tensor(np.array([], dtype=np.bool_), "bool") == "tensor([], dtype=torch.bool)"


# -------------------------------------------------------------------- nesting


def test_2d():
    assert (
        format_tensor(f32([[1.5, -2.0], [3.25, 4.0]]), "float32")
        == "tensor([[ 1.5000, -2.0000],\n"
        "        [ 3.2500,  4.0000]])"
    )
    assert (
        format_tensor(np.arange(6).reshape(2, 3), "int64")
        == "tensor([[0, 1, 2],\n"
        "        [3, 4, 5]])"
    )


def test_3d():
    expected = (
        "tensor([[[ 0.,  1.,  2.],\n"
        "         [ 3.,  4.,  5.]],\n"
        "\n"
        "        [[ 6.,  7.,  8.],\n"
        "         [ 9., 10., 11.]]])"
    )
    assert format_tensor(np.arange(12, dtype=np.float32).reshape(2, 2, 3), "float32") == expected


def test_4d():
    expected = (
        "tensor([[[[ 0,  1],\n"
        "          [ 2,  3]],\n"
        "\n"
        "         [[ 4,  5],\n"
        "          [ 6,  7]]],\n"
        "\n"
        "\n"
        "        [[[ 8,  9],\n"
        "          [10, 11]],\n"
        "\n"
        "         [[12, 13],\n"
        "          [14, 15]]]])"
    )
    assert format_tensor(np.arange(16).reshape(2, 2, 2, 2), "int64") == expected


# --------------------------------------------------------------- summarisation


def test_summarize_1d_2000():
    assert (
        format_tensor(np.arange(2000), "int64")
        == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    )
    # the formatter only looks at the shown values: ratio 1999 > 1000 -> scientific
    assert (
        format_tensor(np.arange(2000, dtype=np.float32), "float32")
        == "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])"
    )


def test_summarize_100x100():
    expected = (
        "tensor([[   0,    1,    2,  ...,   97,   98,   99],\n"
        "        [ 100,  101,  102,  ...,  197,  198,  199],\n"
        "        [ 200,  201,  202,  ...,  297,  298,  299],\n"
        "        ...,\n"
        "        [9700, 9701, 9702,  ..., 9797, 9798, 9799],\n"
        "        [9800, 9801, 9802,  ..., 9897, 9898, 9899],\n"
        "        [9900, 9901, 9902,  ..., 9997, 9998, 9999]])"
    )
    assert format_tensor(np.arange(10000).reshape(100, 100), "int64") == expected


def test_summarize_100x100_float_wraps_rows():
    values = np.arange(10000, dtype=np.float32).reshape(100, 100) / np.float32(7)
    expected = (
        "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 1.3857e+01, 1.4000e+01,\n"
        "         1.4143e+01],\n"
        "        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.8143e+01, 2.8286e+01,\n"
        "         2.8429e+01],\n"
        "        [2.8571e+01, 2.8714e+01, 2.8857e+01,  ..., 4.2429e+01, 4.2571e+01,\n"
        "         4.2714e+01],\n"
        "        ...,\n"
        "        [1.3857e+03, 1.3859e+03, 1.3860e+03,  ..., 1.3996e+03, 1.3997e+03,\n"
        "         1.3999e+03],\n"
        "        [1.4000e+03, 1.4001e+03, 1.4003e+03,  ..., 1.4139e+03, 1.4140e+03,\n"
        "         1.4141e+03],\n"
        "        [1.4143e+03, 1.4144e+03, 1.4146e+03,  ..., 1.4281e+03, 1.4283e+03,\n"
        "         1.4284e+03]])"
    )
    assert format_tensor(values, "float32") == expected


def test_exactly_threshold_is_not_summarized():
    out = format_tensor(np.ones(1000, np.float32), "float32")
    assert "..." not in out and out.count("1.") == 1000
    assert format_tensor(np.ones(1001, np.float32), "float32") == "tensor([1., 1., 1.,  ..., 1., 1., 1.])"


# ------------------------------------------------------------------- linewidth


def test_linewidth_wrapping_1d():
    expected = (
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
        "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
        "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])"
    )
    assert format_tensor(np.arange(30, dtype=np.float32) * np.float32(1.5), "float32") == expected
    expected = (
        "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
        "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n"
        "        36, 37, 38, 39])"
    )
    assert format_tensor(np.arange(40), "int64") == expected


# --------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "name, np_dtype",
    [
        ("int8", np.int8),
        ("int16", np.int16),
        ("int32", np.int32),
        ("uint8", np.uint8),
        ("uint16", np.uint16),
        ("uint32", np.uint32),
        ("uint64", np.uint64),
    ],
)
def test_int_dtype_suffix(name, np_dtype):
    assert (
        format_tensor(np.array([1, 2], dtype=np_dtype), name)
        == f"tensor([1, 2], dtype=torch.{name})"
    )


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float64"])
def test_float_dtype_suffix(name):
    assert format_tensor(f32([1.0, 2.0]), name) == f"tensor([1., 2.], dtype=torch.{name})"


def test_default_dtypes_have_no_suffix():
    assert format_tensor(i64([1, 2, 3]), "int64") == "tensor([1, 2, 3])"
    assert format_tensor(f32([1.5]), "float32") == "tensor([1.5000])"
    assert format_tensor(np.array([False]), "bool") == "tensor([False])"


def test_default_dtype_float64():
    values = np.array([1.5, 2.0])
    assert format_tensor(values, "float64", default_dtype_name="float64") == "tensor([1.5000, 2.0000])"
    assert (
        format_tensor(values.astype(np.float32), "float32", default_dtype_name="float64")
        == "tensor([1.5000, 2.0000], dtype=torch.float32)"
    )
    assert format_tensor(np.array([]), "float64", default_dtype_name="float64") == "tensor([])"


def test_half_precision_values():
    # float16(0.1) == 0.0999755859375, bfloat16(0.1) == 0.10009765625
    assert (
        format_tensor(np.float16([0.1, 1.0]).astype(np.float32), "float16")
        == "tensor([0.1000, 1.0000], dtype=torch.float16)"
    )
    assert (
        format_tensor(f32([0.10009765625, 1.0]), "bfloat16")
        == "tensor([0.1001, 1.0000], dtype=torch.bfloat16)"
    )
    # bfloat16(3e38) == 3.00405527047391e+38 (beyond float16 range)
    assert (
        format_tensor(f32([3.00405527047391e38, -1.0]), "bfloat16")
        == "tensor([ 3.0041e+38, -1.0000e+00], dtype=torch.bfloat16)"
    )
    assert (
        format_tensor(np.arange(16, dtype=np.float32), "float16")
        == "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15.], dtype=torch.float16)"
    )


def test_float64_values():
    assert (
        format_tensor(np.array([0.1, 2.0]), "float64")
        == "tensor([0.1000, 2.0000], dtype=torch.float64)"
    )


def test_complex():
    assert (
        format_tensor(np.array([1 + 2j, -0.5j], dtype=np.complex64), "complex64")
        == "tensor([1.+2.0000j, -0.-0.5000j])"
    )
    assert (
        format_tensor(np.array([1.5 + 2j]), "complex128")
        == "tensor([1.5000+2.j], dtype=torch.complex128)"
    )


# ------------------------------------------------------------------- suffixes


def test_requires_grad_and_grad_fn():
    v = f32([1.0, 2.5])
    assert format_tensor(v, "float32", requires_grad=True) == "tensor([1.0000, 2.5000], requires_grad=True)"
    assert (
        format_tensor(np.array([1.0, 2.5]), "float64", requires_grad=True)
        == "tensor([1.0000, 2.5000], dtype=torch.float64, requires_grad=True)"
    )
    # grad_fn wins over requires_grad
    assert (
        format_tensor(f32([2.0, 3.5]), "float32", requires_grad=True, grad_fn_name="AddBackward0")
        == "tensor([2.0000, 3.5000], grad_fn=<AddBackward0>)"
    )
    assert (
        format_tensor(f32([2.0, 5.0]), "float32", grad_fn_name="MulBackward0")
        == "tensor([2., 5.], grad_fn=<MulBackward0>)"
    )
    assert (
        format_tensor(f32(3.5), "float32", grad_fn_name="SumBackward0")
        == "tensor(3.5000, grad_fn=<SumBackward0>)"
    )


def test_suffix_fits_on_last_line():
    expected = (
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
        "        24.0000, 25.5000, 27.0000, 28.5000], grad_fn=<MulBackward0>)"
    )
    values = np.arange(20, dtype=np.float32) * np.float32(1.5)
    assert format_tensor(values, "float32", grad_fn_name="MulBackward0") == expected
    expected = (
        "tensor([[0.0000, 0.3333, 0.6667, 1.0000],\n"
        "        [1.3333, 1.6667, 2.0000, 2.3333],\n"
        "        [2.6667, 3.0000, 3.3333, 3.6667]], grad_fn=<DivBackward0>)"
    )
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / np.float32(3)
    assert format_tensor(values, "float32", grad_fn_name="DivBackward0") == expected


def test_suffix_wraps_to_new_line():
    values = np.arange(16, dtype=np.float32) * np.float32(1.5)
    expected = (
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000],\n"
        "       grad_fn=<MulBackward0>)"
    )
    assert format_tensor(values, "float32", grad_fn_name="MulBackward0") == expected
    expected = (
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000],\n"
        "       dtype=torch.float64, requires_grad=True)"
    )
    assert format_tensor(values.astype(np.float64), "float64", requires_grad=True) == expected
    expected = (
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15.], dtype=torch.float64, requires_grad=True)"
    )
    assert format_tensor(np.arange(16.0), "float64", requires_grad=True) == expected


def test_device_suffix():
    # PyTorch prints the device first, then dtype, then autograd information.
    assert format_tensor(f32([1.0, 2.0]), "float32", device="cpu") == "tensor([1., 2.])"
    assert (
        format_tensor(f32([1.0, 2.0]), "float32", device="cuda:0")
        == "tensor([1., 2.], device='cuda:0')"
    )
    assert (
        format_tensor(np.ones(2), "float64", device="cuda:0", requires_grad=True)
        == "tensor([1., 1.], device='cuda:0', dtype=torch.float64, requires_grad=True)"
    )
    assert (
        format_tensor(f32([2.0]), "float32", device="cuda:1", grad_fn_name="AddBackward0")
        == "tensor([2.], device='cuda:1', grad_fn=<AddBackward0>)"
    )


# --------------------------------------------------------------- print options


def test_get_printoptions_defaults():
    assert get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


def test_precision_2():
    set_printoptions(precision=2)
    assert get_printoptions()["precision"] == 2
    assert format_tensor(f32([1.12345, -2.5, 3.0]), "float32") == "tensor([ 1.12, -2.50,  3.00])"
    assert format_tensor(f32([1e-5, 1.0]), "float32") == "tensor([1.00e-05, 1.00e+00])"
    set_printoptions(profile="default")
    assert format_tensor(f32([1.12345]), "float32") == "tensor([1.1235])"


def test_sci_mode_true():
    set_printoptions(sci_mode=True)
    assert format_tensor(f32([1.5, 2.0]), "float32") == "tensor([1.5000e+00, 2.0000e+00])"
    # integers and all-zero floats are unaffected
    assert format_tensor(i64([1, 2]), "int64") == "tensor([1, 2])"
    assert format_tensor(f32([0.0, 0.0]), "float32") == "tensor([0., 0.])"


def test_sci_mode_false():
    set_printoptions(sci_mode=False)
    assert (
        format_tensor(f32([1e-5, 1e10]), "float32")
        == "tensor([          0.0000, 10000000000.0000])"
    )


def test_sci_mode_reset_by_any_call():
    set_printoptions(sci_mode=False)
    set_printoptions(precision=4)  # like PyTorch, sci_mode goes back to None
    assert get_printoptions()["sci_mode"] is None
    assert format_tensor(f32([1e-5, 1.0]), "float32") == "tensor([1.0000e-05, 1.0000e+00])"


FULL_1001 = """tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,
        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0])"""


def test_profile_full():
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == math.inf
    assert format_tensor(np.arange(1001) % 10, "int64") == FULL_1001


def test_profile_short():
    set_printoptions(profile="short")
    assert get_printoptions() == {
        "precision": 2,
        "threshold": 1000,
        "edgeitems": 2,
        "linewidth": 80,
        "sci_mode": None,
    }
    assert (
        format_tensor(f32([1.12345, 2.0, 3.0, 4.0, 5.0]), "float32")
        == "tensor([1.12, 2.00, 3.00, 4.00, 5.00])"
    )
    assert (
        format_tensor(np.arange(2000, dtype=np.float32), "float32")
        == "tensor([0.00e+00, 1.00e+00,  ..., 2.00e+03, 2.00e+03])"
    )


def test_threshold_and_edgeitems():
    set_printoptions(threshold=5)
    assert format_tensor(np.arange(10), "int64") == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    set_printoptions(profile="default")
    set_printoptions(edgeitems=1, threshold=5)
    expected = (
        "tensor([[[ 0,  ...,  2],\n"
        "         ...,\n"
        "         [ 6,  ...,  8]],\n"
        "\n"
        "        ...,\n"
        "\n"
        "        [[18,  ..., 20],\n"
        "         ...,\n"
        "         [24,  ..., 26]]])"
    )
    assert format_tensor(np.arange(27).reshape(3, 3, 3), "int64") == expected


def test_edgeitems_zero():
    set_printoptions(edgeitems=0, threshold=5)
    assert format_tensor(np.arange(10, dtype=np.float32), "float32") == "tensor([...], size=(10,))"
    assert format_tensor(np.ones((4, 4), np.float32), "float32") == "tensor([...], size=(4, 4))"


def test_small_linewidth():
    set_printoptions(linewidth=20)
    expected = (
        "tensor([0.0000,\n"
        "        0.3333,\n"
        "        0.6667,\n"
        "        1.0000,\n"
        "        1.3333,\n"
        "        1.6667,\n"
        "        2.0000,\n"
        "        2.3333,\n"
        "        2.6667,\n"
        "        3.0000])"
    )
    assert format_tensor(np.arange(10, dtype=np.float32) / np.float32(3), "float32") == expected


def test_dtype_name_aliases():
    assert format_tensor(f32([1.0]), "torch.float32") == "tensor([1.])"
    assert format_tensor(np.array([1], np.int64), "long") == "tensor([1])"
    assert format_tensor(np.array([1.0]), "double") == "tensor([1.], dtype=torch.float64)"

