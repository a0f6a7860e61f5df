"""torch.testing.assert_close and make_tensor: PyTorch's default tolerances, the both-or-neither
rule, equal_nan, check_dtype/check_device, msg, nested containers, scalars, and the mismatch
report text (the expected strings are PyTorch 2.15's output for the same inputs)."""
import math

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.testing import assert_close, make_tensor


def fails(exc, actual, expected, **kw):
    with pytest.raises(exc) as e:
        assert_close(actual, expected, **kw)
    return str(e.value)


def test_report_text():
    msg = fails(AssertionError, torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.5, 3.0]))
    assert msg == ("Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
                   "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
                   "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)")
    msg = fails(AssertionError, torch.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 2], [3, 9]]))
    assert msg == ("Tensor-likes are not equal!\n\nMismatched elements: 1 / 4 (25.0%)\n"
                   "Greatest absolute difference: 5 at index (1, 1)\n"
                   "Greatest relative difference: 0.5555555820465088 at index (1, 1)")  # 5 / 9 in float32
    msg = fails(AssertionError, 1.0, 1.5)
    assert msg == ("Scalars are not close!\n\nExpected 1.5 but got 1.0.\n"
                   "Absolute difference: 0.5 (up to 1e-07 allowed)\n"
                   "Relative difference: 0.3333333333333333 (up to 1e-07 allowed)")


def test_default_tolerances_per_dtype():
    # (rtol, atol): float16 (1e-3, 1e-5), bfloat16 (1.6e-2, 1e-5), float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7)
    for dt, rtol, atol in [(torch.float16, 1e-3, 1e-5), (torch.bfloat16, 0.016, 1e-5),
                           (torch.float32, 1.3e-6, 1e-5), (torch.float64, 1e-7, 1e-7)]:
        assert f"(up to {atol} allowed)" in fails(AssertionError, torch.tensor([1.0, 2.0], dtype=dt),
                                                   torch.tensor([1.0, 3.0], dtype=dt))
        assert f"(up to {rtol} allowed)" in fails(AssertionError, torch.tensor([1.0, 2.0], dtype=dt),
                                                   torch.tensor([1.0, 3.0], dtype=dt))
    # float64: within 1e-7 + 1e-7 * |expected| passes, twice that fails
    e = torch.tensor([10.0], dtype=torch.float64)
    assert_close(e + 1e-6 * 1.05, e)
    fails(AssertionError, e + 2.2e-6, e)
    # integers compare exactly
    fails(AssertionError, torch.tensor([3]), torch.tensor([4]))


def test_rtol_atol_both_or_neither():
    a = torch.tensor([1.0])
    assert fails(ValueError, a, a, rtol=0.1) == "Both 'rtol' and 'atol' must be either specified or omitted, but got no atol."
    assert fails(ValueError, a, a, atol=0.1) == "Both 'rtol' and 'atol' must be either specified or omitted, but got no rtol."
    assert_close(torch.tensor([1.0]), torch.tensor([1.2]), rtol=0.0, atol=0.21)
    fails(AssertionError, torch.tensor([1.0]), torch.tensor([1.2]), rtol=0.0, atol=0.19)


def test_equal_nan_dtype_device_shape():
    n = torch.tensor([1.0, math.nan])
    fails(AssertionError, n, n.clone())
    assert_close(n, n.clone(), equal_nan=True)
    assert fails(AssertionError, torch.ones(2), torch.ones(2, dtype=torch.float64)) == (
        "The values for attribute 'dtype' do not match: torch.float32 != torch.float64.")
    assert_close(torch.ones(2), torch.ones(2, dtype=torch.float64), check_dtype=False)
    assert fails(AssertionError, torch.ones(2), torch.ones(3)) == (
        "The values for attribute 'shape' do not match: torch.Size([2]) != torch.Size([3]).")
    assert_close(torch.ones(2), torch.ones(2), check_device=False)


def test_msg():
    a, b = torch.tensor([1.0]), torch.tensor([2.0])
    assert fails(AssertionError, a, b, msg="custom") == "custom"
    out = fails(AssertionError, a, b, msg=lambda m: f"Header\n\n{m}\n\nFooter")
    assert out.startswith("Header\n\nTensor-likes are not close!") and out.endswith("\n\nFooter")


def test_nested_and_scalars():
    assert_close([torch.ones(2), {"a": 1.0, "b": (2, torch.zeros(1))}], [torch.ones(2), {"a": 1.0, "b": (2, torch.zeros(1))}])
    msg = fails(AssertionError, {"a": [1, torch.ones(2)]}, {"a": [1, torch.zeros(2)]})
    assert msg.endswith("\n\nThe failure occurred for item ['a'][1]")
    assert fails(AssertionError, [1, 2], [1, 2, 3]) == "The length of the sequences mismatch: 2 != 3"
    assert fails(AssertionError, {"a": 1}, {"b": 1}) == ("The keys of the mappings do not match:\n"
                                                         "Missing keys in the actual mapping: ['b']\n"
                                                         "Additional keys in the actual mapping: ['a']")
    assert fails(AssertionError, True, False) == "Booleans mismatch: True is not False"
    assert fails(AssertionError, None, 1) == "None mismatch: None is not 1"
    assert fails(TypeError, "a", "a") == ("No comparison pair was able to handle inputs of type <class 'str'> "
                                          "and <class 'str'>.")
    # check_dtype (default True) applies to Python numbers too
    assert fails(AssertionError, 1, 1.0) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    assert_close(1, 1.0, check_dtype=False)
    assert_close(np.float64(2.0), 2.0)
    # a tensor and a non-tensor: not directly related types
    assert "No comparison pair" in fails(TypeError, torch.tensor([1.0]), [1.0])


def test_make_tensor():
    torch.manual_seed(0)
    t = make_tensor(50, 40, dtype=torch.float32, device="cpu", low=-2, high=3)
    assert t.shape == (50, 40) and t.dtype == torch.float32
    v = t.numpy()
    assert v.min() >= -2 and v.max() < 3 and v.std() > 1.0
    i = make_tensor((200,), dtype=torch.int64, device="cpu")
    vi = i.numpy()
    assert vi.min() >= -9 and vi.max() <= 9 and len(set(vi.tolist())) > 10
    b = make_tensor(100, dtype=torch.bool, device="cpu")
    assert set(b.numpy().tolist()) == {False, True}
    nc = make_tensor(3, 4, dtype=torch.float64, device="cpu", noncontiguous=True, requires_grad=True)
    assert not nc.is_contiguous() and nc.shape == (3, 4) and nc.requires_grad
    nz = make_tensor(500, dtype=torch.int8, device="cpu", low=-1, high=2, exclude_zero=True)
    assert 0 not in nz.numpy().tolist()
    with pytest.raises(ValueError, match=r"`low` must be less than `high`, but got 3 >= 2"):
        make_tensor(2, dtype=torch.float32, device="cpu", low=3, high=2)
    with pytest.raises(ValueError, match="`requires_grad=True` is not supported for boolean and integral dtypes"):
        make_tensor(2, dtype=torch.int32, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match=r"The value interval specified by `low` and `high` is \[300, 400\), "
                                         r"but torch.uint8 only supports \[0, 256\)"):
        make_tensor(2, dtype=torch.uint8, device="cpu", low=300, high=400)
