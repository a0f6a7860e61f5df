"""Type promotion: tensor with tensor, Python scalars as weak types, 0-d tensors,
result dtypes of division / floor division / comparisons / in-place ops.

The reference is a hand-written copy of PyTorch's `promote_types` table plus the
"category" rule for scalars and 0-d tensors (bool < integer < floating):
  * dimensioned tensors take part in promotion with their full dtype;
  * a 0-d tensor only matters when its category is higher than every dimensioned
    operand's; then the result is the promotion among the 0-d tensors;
  * a Python scalar only matters when its category is higher than every tensor's;
    then the result is int64 (int scalar) or the default dtype (float scalar).
"""
import numpy as np
import pytest

import ferrotorch as torch
from _helpers import FLOAT_DTYPES, INT_DTYPES, ORDER, PROMOTE, dt, to_np


def category(d):
    return 0 if d == "bool" else (1 if d in INT_DTYPES else 2)


def expected_dim_vs_0d(dim_dtype, zero_dtype):
    if category(zero_dtype) > category(dim_dtype):
        return zero_dtype
    return dim_dtype


def expected_with_scalar(tensor_dtype, scalar):
    if isinstance(scalar, bool):
        kind = 0
    elif isinstance(scalar, int):
        kind = 1
    else:
        kind = 2
    if kind > category(tensor_dtype):
        return "int64" if kind == 1 else "float32"
    return tensor_dtype


def small(dtype, shape=(2, 3), zero_d=False):
    """Values 0..5 (or alternating bools) of the given dtype; exactly representable."""
    vals = np.arange(6, dtype=np.float64).reshape(2, 3) % 4 + (0 if dtype == "bool" else 1)
    if zero_d:
        vals = np.float64(3.0)
    t = torch.tensor(vals, dtype=torch.float64).to(dt(dtype))
    ref = to_np(t).astype(np.float64)
    return ref, t


def test_table_is_symmetric():
    # sanity check of the hand-written table itself
    for a in ORDER:
        for b in ORDER:
            assert PROMOTE[(a, b)] == PROMOTE[(b, a)]
        assert PROMOTE[(a, a)] == a


# --------------------------------------------------------------------------- tensor ⊕ tensor

@pytest.mark.parametrize("left", ORDER)
def test_tensor_tensor_promotion(left):
    a_ref, a = small(left)
    for right in ORDER:
        b_ref, b = small(right)
        exp = PROMOTE[(left, right)]
        for op, ref in [(lambda x, y: x + y, np.add), (lambda x, y: x * y, np.multiply)]:
            r = op(a, b)
            assert r.dtype == dt(exp), f"{left} ⊕ {right}: got {r.dtype}, expected {exp}"
            assert op(b, a).dtype == dt(exp)
            expected = ref(a_ref, b_ref)
            if exp == "bool":
                expected = expected != 0
            np.testing.assert_allclose(to_np(r).astype(np.float64), expected, rtol=1e-2)
        if left != "bool" and right != "bool":  # subtraction with any bool operand raises
            assert (a - b).dtype == dt(exp)
        assert torch.maximum(a, b).dtype == dt(exp)
        assert torch.where(torch.tensor([True, False, True]), a, b).dtype == dt(exp)


@pytest.mark.parametrize("dim_dtype", ORDER)
def test_dimensioned_vs_zero_dim_tensor(dim_dtype):
    a_ref, a = small(dim_dtype)
    for zero_dtype in ORDER:
        _, z = small(zero_dtype, zero_d=True)
        exp = expected_dim_vs_0d(dim_dtype, zero_dtype)
        r = a + z
        assert r.dtype == dt(exp), f"{dim_dtype}[2,3] + {zero_dtype}[]: {r.dtype} != {exp}"
        assert (z + a).dtype == dt(exp)
        assert (a * z).dtype == dt(exp)
        assert r.shape == (2, 3)


@pytest.mark.parametrize("left", ORDER)
def test_zero_dim_vs_zero_dim_uses_full_promotion(left):
    _, a = small(left, zero_d=True)
    for right in ORDER:
        _, b = small(right, zero_d=True)
        r = a + b
        assert r.shape == ()
        assert r.dtype == dt(PROMOTE[(left, right)])


def test_zero_dim_examples():
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    assert (i32 * torch.tensor(2)).dtype == torch.int32                # same category: dim wins
    assert (i32 * torch.tensor([2])).dtype == torch.int64              # 1-elem 1-d is dimensioned
    assert (i32 + torch.tensor(5.0, dtype=torch.float64)).dtype == torch.float64  # 0-d dtype, not default
    f16 = torch.tensor([1.0], dtype=torch.float16)
    assert (f16 + torch.tensor(5.0, dtype=torch.float64)).dtype == torch.float16
    assert (torch.tensor(1.5) * torch.tensor([1, 2])).dtype == torch.float32
    assert (torch.tensor([True]) + torch.tensor(5, dtype=torch.int8)).dtype == torch.int8
    # an empty dimensioned tensor still counts as dimensioned
    e = torch.tensor([], dtype=torch.int32)
    assert (e + torch.tensor(2, dtype=torch.int64)).dtype == torch.int32
    assert (e * torch.tensor(2.5, dtype=torch.float64)).dtype == torch.float64


def test_mixed_values_are_computed_in_promoted_type():
    i8 = torch.tensor([-5, 100, 127], dtype=torch.int8)
    u8 = torch.tensor([200, 100, 255], dtype=torch.uint8)
    r = i8 + u8
    assert r.dtype == torch.int16 and r.tolist() == [195, 200, 382]
    h = torch.tensor([1.0 / 3], dtype=torch.float16)
    b = torch.tensor([1.0 / 3], dtype=torch.bfloat16)
    r = h + b
    assert r.dtype == torch.float32
    assert r.item() == float(np.float16(1 / 3)) + 0.333984375
    r = torch.tensor([2 ** 40]) + torch.tensor([0.5], dtype=torch.float64)
    assert r.item() == 2 ** 40 + 0.5


# --------------------------------------------------------------------------- Python scalars

SCALARS = [2, -3, 2.5, True]


@pytest.mark.parametrize("dtype", ORDER)
def test_python_scalar_is_weak(dtype):
    ref, t = small(dtype)
    for s in SCALARS:
        exp = expected_with_scalar(dtype, s)
        ops = [("+", lambda x: x + s, lambda x: s + x), ("*", lambda x: x * s, lambda x: s * x)]
        if not (dtype == "bool" or isinstance(s, bool)):
            ops.append(("-", lambda x: x - s, lambda x: s - x))
        for name, fwd, rev in ops:
            r = fwd(t)
            assert r.dtype == dt(exp), f"{dtype} {name} {s!r}: {r.dtype} != {exp}"
            assert rev(t).dtype == dt(exp), f"{s!r} {name} {dtype}"
            if exp != "bool" and dtype not in ("uint8",):
                np.testing.assert_allclose(to_np(r).astype(np.float64), fwd(ref), rtol=1e-2)


def test_scalar_examples_from_spec():
    i = torch.tensor([1, 2, 3])
    r = i * 2.5
    assert r.dtype == torch.float32 and r.tolist() == [2.5, 5.0, 7.5]
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    assert (i32 + 2).dtype == torch.int32
    assert (i32 + True).dtype == torch.int32
    assert (2.5 + i32).dtype == torch.float32
    h = torch.tensor([1.5], dtype=torch.float16)
    r = h + 1.0
    assert r.dtype == torch.float16 and r.item() == 2.5
    assert (h * 3).dtype == torch.float16
    d = torch.tensor([1.5], dtype=torch.float64)
    assert (d + 1.0).dtype == torch.float64
    bf = torch.tensor([1.5], dtype=torch.bfloat16)
    assert (bf - 1.0).dtype == torch.bfloat16


def test_uint8_plus_large_int_wraps():
    u = torch.tensor([200, 100, 0], dtype=torch.uint8)
    r = u + 1000
    assert r.dtype == torch.uint8
    assert r.tolist() == [(200 + 1000) % 256, (100 + 1000) % 256, 1000 % 256]
    r = u + 100
    assert r.tolist() == [44, 200, 100]
    r = torch.tensor([1], dtype=torch.uint8) - 2
    assert r.tolist() == [255]
    r = torch.tensor([1], dtype=torch.int8) + 200
    assert r.dtype == torch.int8 and r.tolist() == [-55]
    r = 1 - torch.tensor([1, 2], dtype=torch.uint8)
    assert r.tolist() == [0, 255]


def test_bool_with_scalars():
    b = torch.tensor([True, False])
    r = b + 1
    assert r.dtype == torch.int64 and r.tolist() == [2, 1]
    r = b * 2.5
    assert r.dtype == torch.float32 and r.tolist() == [2.5, 0.0]
    r = b + True
    assert r.dtype == torch.bool and r.tolist() == [True, True]  # add on bools is "or"
    r = b * False
    assert r.dtype == torch.bool and r.tolist() == [False, False]
    r = b + torch.tensor([True, True])
    assert r.tolist() == [True, True]


def test_bool_unsupported_arithmetic():
    # subtraction is refused whenever either operand (tensor or Python scalar) is bool;
    # PyTorch raises NotImplementedError, a subclass of RuntimeError
    b = torch.tensor([True, False])
    f = torch.tensor([2.0, 3.0])
    i = torch.tensor([2, 3])
    for bad in [lambda: b - True, lambda: b - torch.tensor([False, False]), lambda: b - 1,
                lambda: b - 1.5, lambda: 1 - b, lambda: f - True, lambda: True - f,
                lambda: i - b, lambda: f - torch.tensor(True), lambda: torch.sub(f, True),
                lambda: -b, lambda: torch.neg(b), lambda: b // b]:
        with pytest.raises(RuntimeError):
            bad()
    assert (f + True).tolist() == [3.0, 4.0]
    assert (f * True).tolist() == [2.0, 3.0]
    assert f.tolist() == [2.0, 3.0] and i.tolist() == [2, 3]
    assert b.tolist() == [True, False]


def test_float16_scalar_overflow():
    h = torch.tensor([1.0], dtype=torch.float16)
    assert (h + 1e10).tolist() == [float("inf")]
    assert (h * 70000).tolist() == [float("inf")]
    bf = torch.tensor([1.0], dtype=torch.bfloat16)
    r = bf + 1e10
    assert r.dtype == torch.bfloat16 and np.isfinite(to_np(r)).all()


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_default_dtype_governs_float_scalar(dtype):
    t = torch.tensor([1, 0]).to(dt(dtype))
    try:
        torch.set_default_dtype(torch.float64)
        assert (t * 2.5).dtype == torch.float64
        assert (t / 2).dtype == torch.float64
        assert torch.sqrt(t).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    assert (t * 2.5).dtype == torch.float32


# --------------------------------------------------------------------------- division, floor division, modulo

@pytest.mark.parametrize("left", ORDER)
def test_true_division_dtype(left):
    a_ref, a = small(left)
    for right in ORDER:
        b_ref, b = small(right)
        promoted = PROMOTE[(left, right)]
        exp = promoted if promoted in FLOAT_DTYPES else "float32"
        r = a / b
        assert r.dtype == dt(exp), f"{left} / {right}: {r.dtype} != {exp}"
        tol = 1e-2 if exp in ("float16", "bfloat16") else 1e-6
        with np.errstate(divide="ignore", invalid="ignore"):
            np.testing.assert_allclose(to_np(r), a_ref / b_ref, rtol=tol)
    assert (a / 2).dtype == dt(left if left in FLOAT_DTYPES else "float32")
    assert (2 / a).dtype == dt(left if left in FLOAT_DTYPES else "float32")
    assert torch.div(a, 2).dtype == dt(left if left in FLOAT_DTYPES else "float32")


def test_int_true_division_values():
    r = torch.tensor([1, 7, -7], dtype=torch.int32) / torch.tensor([2, 2, 2], dtype=torch.int32)
    assert r.dtype == torch.float32 and r.tolist() == [0.5, 3.5, -3.5]
    r = 10 / torch.tensor([4], dtype=torch.int16)
    assert r.tolist() == [2.5]
    r = torch.tensor([1, -1, 0]) / 0
    assert r.dtype == torch.float32
    v = to_np(r)
    assert v[0] == np.inf and v[1] == -np.inf and np.isnan(v[2])


@pytest.mark.parametrize("left", [d for d in ORDER if d != "bool"])
def test_floor_division_and_remainder_dtype(left):
    a_ref, a = small(left)
    for right in ORDER[1:]:
        b_ref, b = small(right)
        exp = PROMOTE[(left, right)]
        r = a // b
        assert r.dtype == dt(exp), f"{left} // {right}"
        np.testing.assert_allclose(to_np(r), np.floor_divide(a_ref, b_ref), rtol=1e-2)
        r = a % b
        assert r.dtype == dt(exp), f"{left} % {right}"
        np.testing.assert_allclose(to_np(r), np.mod(a_ref, b_ref), rtol=1e-2, atol=1e-2)
    int_or_same = left
    assert (a // 2).dtype == dt(int_or_same)
    assert (a % 3).dtype == dt(int_or_same)
    fexp = left if left in FLOAT_DTYPES else "float32"
    assert (a // 2.0).dtype == dt(fexp)
    assert (a % 2.5).dtype == dt(fexp)
    assert (10 // a).dtype == dt(int_or_same)


def test_power_dtypes():
    i = torch.tensor([1, 2, 3], dtype=torch.int32)
    r = i ** 2
    assert r.dtype == torch.int32 and r.tolist() == [1, 4, 9]
    r = i ** 2.0
    assert r.dtype == torch.float32 and r.tolist() == [1.0, 4.0, 9.0]
    r = 2 ** i
    assert r.dtype == torch.int32 and r.tolist() == [2, 4, 8]
    r = 2.0 ** i
    assert r.dtype == torch.float32 and r.tolist() == [2.0, 4.0, 8.0]
    r = i ** torch.tensor([2.0], dtype=torch.float64)
    assert r.dtype == torch.float64
    h = torch.tensor([2.0], dtype=torch.float16)
    assert (h ** 2).dtype == torch.float16 and (h ** 0.5).dtype == torch.float16


# --------------------------------------------------------------------------- comparisons

@pytest.mark.parametrize("left", ORDER)
def test_comparisons_give_bool(left):
    a_ref, a = small(left)
    for right in ORDER:
        b_ref, b = small(right)
        b_ref = b_ref[:, ::-1].copy()
        b = b.flip(1)
        for op in ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]:
            r = getattr(a, op)(b)
            assert r.dtype == torch.bool, f"{left} {op} {right}"
            np.testing.assert_array_equal(to_np(r), getattr(a_ref, op)(b_ref))
    for fn in ["eq", "ne", "lt", "le", "gt", "ge"]:
        r = getattr(torch, fn)(a, 2)
        assert r.dtype == torch.bool
        np.testing.assert_array_equal(to_np(r), getattr(np, {"eq": "equal", "ne": "not_equal",
                                                              "lt": "less", "le": "less_equal",
                                                              "gt": "greater",
                                                              "ge": "greater_equal"}[fn])(a_ref, 2))


def test_comparison_with_mixed_scalars():
    i = torch.tensor([1, 2, 3], dtype=torch.int32)
    assert (i < 2.5).tolist() == [True, True, False]
    assert (i == torch.tensor([1.0, 2.5, 3.0])).tolist() == [True, False, True]
    assert (2.5 > i).tolist() == [True, True, False]
    h = torch.tensor([0.1], dtype=torch.float16)
    # the scalar is converted to float16 (the tensor's dtype) before comparing
    assert (h == 0.1).tolist() == [True]
    f = torch.tensor([0.1], dtype=torch.float32)
    assert (f == torch.tensor([0.1], dtype=torch.float64)).tolist() == [False]


# --------------------------------------------------------------------------- bitwise / logical promotion

def test_bitwise_promotion():
    assert (torch.tensor([True]) & torch.tensor([False])).dtype == torch.bool
    assert (torch.tensor([3]) & torch.tensor([True])).dtype == torch.int64
    r = torch.tensor([3], dtype=torch.int8) & torch.tensor([5], dtype=torch.uint8)
    assert r.dtype == torch.int16 and r.tolist() == [1]
    assert (torch.tensor([3], dtype=torch.int8) & 5).dtype == torch.int8
    assert (torch.tensor([3], dtype=torch.int8) | True).dtype == torch.int8
    r = torch.tensor([True, False]) | 2
    assert r.dtype == torch.int64 and r.tolist() == [3, 2]


def test_bitwise_on_float_raises():
    f = torch.tensor([1.0])
    with pytest.raises(RuntimeError):
        f & torch.tensor([1])
    with pytest.raises(RuntimeError):
        f | 1
    with pytest.raises(RuntimeError):
        torch.tensor([3]) ^ 2.0
    with pytest.raises(TypeError):
        ~f
    assert f.tolist() == [1.0]


# --------------------------------------------------------------------------- in-place result types

def test_inplace_cannot_change_dtype_category():
    i = torch.tensor([1, 2], dtype=torch.int32)
    with pytest.raises(RuntimeError):
        i += 2.5
    with pytest.raises(RuntimeError):
        i /= 2
    with pytest.raises(RuntimeError):
        i.add_(torch.tensor([1.0]))
    with pytest.raises(RuntimeError):
        i.mul_(1.5)
    assert i.dtype == torch.int32 and i.tolist() == [1, 2]
    b = torch.tensor([True, False])
    with pytest.raises(RuntimeError):
        b += 1
    assert b.tolist() == [True, False]


def test_inplace_keeps_self_dtype():
    h = torch.tensor([1.5, 2.0], dtype=torch.float16)
    h += torch.tensor([1.0], dtype=torch.float64)
    assert h.dtype == torch.float16 and h.tolist() == [2.5, 3.0]
    i = torch.tensor([1, 2], dtype=torch.int32)
    i += torch.tensor([2 ** 33 + 1])  # int64 operand, same category: computed in int64, cast back
    assert i.dtype == torch.int32 and i.tolist() == [2, 3]
    u = torch.tensor([1, 2], dtype=torch.uint8)
    u += torch.tensor(300)
    assert u.dtype == torch.uint8 and u.tolist() == [45, 46]
    f = torch.tensor([1.0, 2.0])
    f *= torch.tensor([2, 3])
    assert f.dtype == torch.float32 and f.tolist() == [2.0, 6.0]
    f //= 4
    assert f.tolist() == [0.0, 1.0]


def test_out_dtype_must_be_castable():
    a, b = torch.tensor([1.5]), torch.tensor([2.5])
    out = torch.empty(1, dtype=torch.int64)
    with pytest.raises(RuntimeError):
        torch.add(a, b, out=out)
    out = torch.empty(1, dtype=torch.float64)
    torch.add(a, b, out=out)
    assert out.dtype == torch.float64 and out.tolist() == [4.0]
    out = torch.empty(1, dtype=torch.float32)
    torch.add(torch.tensor([1]), torch.tensor([2]), out=out)
    assert out.tolist() == [3.0]


# --------------------------------------------------------------------------- other ops follow the same rules
# (the result dtype of every elementwise op for every input dtype: the op table, tests/op_table.py)

def test_where_and_clamp_promotion():
    c = torch.tensor([True, False])
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    assert torch.where(c, i32, torch.tensor([1.0, 2.0], dtype=torch.float16)).dtype == torch.float16
    r = torch.where(c, i32, 2.5)
    assert r.dtype == torch.float32 and r.tolist() == [1.0, 2.5]
    assert torch.where(c, 1, 2.5).dtype == torch.float32
    assert torch.where(c, 1, 2).dtype == torch.int64
    assert torch.where(c, torch.tensor([1, 2], dtype=torch.int8), 2).dtype == torch.int8
    r = torch.clamp(i32, min=0.5)
    assert r.dtype == torch.float32 and r.tolist() == [1.0, 2.0]
    assert torch.clamp(i32, min=0, max=1).dtype == torch.int32
    assert torch.atan2(torch.tensor([1]), torch.tensor([1])).dtype == torch.float32
    assert torch.fmod(torch.tensor([5]), 2.5).dtype == torch.float32
    assert torch.remainder(torch.tensor([5], dtype=torch.int16), 2).dtype == torch.int16


def test_add_alpha_rules():
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    r = torch.add(i32, torch.tensor([1, 1]), alpha=2)
    assert r.dtype == torch.int64 and r.tolist() == [3, 4]
    with pytest.raises(RuntimeError):
        torch.add(i32, torch.tensor([1, 1]), alpha=2.5)
    r = torch.add(torch.tensor([1.0]), torch.tensor([1.0]), alpha=2.5)
    assert r.tolist() == [3.5]
    r = torch.sub(torch.tensor([1.0]), torch.tensor([1.0]), alpha=3)
    assert r.tolist() == [-2.0]


def test_lerp_requires_same_dtype():
    a = torch.tensor([1.0])
    with pytest.raises(RuntimeError):
        torch.lerp(a, torch.tensor([2.0], dtype=torch.float64), 0.5)
    assert a.tolist() == [1.0]


def test_bfloat16_cast_rounds_to_nearest_even():
    # Reference: round-to-nearest-even of the f32 bit pattern in integer arithmetic. From f64 the
    # value is rounded to f32 first, as c10::BFloat16 (built from a float) does.
    rng = np.random.default_rng(0)
    bits = rng.integers(0x0080_0000, 0x7F00_0000, 200_000, dtype=np.uint32)
    bits[:4] = [0x5D44_8002, 0x3F80_8000, 0x3F81_8000, 0x3F80_7FFF]  # above a tie, ties both ways, below
    f32 = bits.view(np.float32)
    expect = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)
    assert np.array_equal(torch.from_numpy(f32.copy()).to(torch.bfloat16).float().numpy(), expect)
    assert np.array_equal(torch.from_numpy(f32.astype(np.float64)).to(torch.bfloat16).float().numpy(), expect)
    assert torch.tensor([float(f32[0])], dtype=torch.bfloat16).item() == float(expect[0])
