"""Elementwise math and operators, checked against NumPy float64 references.

The elementwise ops one by one (every form, dtype, layout, special values, gradients) are rows of the op
table, tests/op_table.py, run on every device by tests/device/test_op_table.py. This file keeps what the
table does not check: the operators (+, //, <, &, augmented assignment), broadcasting and its errors,
in-place and out= specifics, and the values and rules of single ops (sign, rounding, division by zero,
fmod/remainder signs, pow, clamp, lerp, where, nan_to_num, isclose, matmul).
"""
import math
import operator
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from _helpers import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, assert_close, dt, make, to_np


def test_sign_values():
    t = torch.tensor([-2.0, -0.0, 0.0, 3.0, float("inf"), float("-inf"), float("nan")])
    # note: PyTorch's sign maps NaN to 0 (NumPy gives NaN)
    assert torch.sign(t).tolist() == [-1.0, 0.0, 0.0, 1.0, 1.0, -1.0, 0.0]
    assert torch.sign(torch.tensor([-5, 0, 7])).tolist() == [-1, 0, 1]
    assert torch.sign(torch.tensor([True, False])).tolist() == [True, False]


def test_signed_zero_results():
    # rounding functions keep the sign of zero, like IEEE / NumPy
    r = torch.ceil(torch.tensor([-0.5]))
    assert r.item() == 0 and math.copysign(1.0, r.item()) == -1.0
    r = torch.round(torch.tensor([-0.5]))
    assert math.copysign(1.0, r.item()) == -1.0
    r = torch.trunc(torch.tensor([-0.7]))
    assert math.copysign(1.0, r.item()) == -1.0
    r = torch.reciprocal(torch.tensor([0.0, -0.0]))
    assert r.tolist() == [math.inf, -math.inf]
    r = torch.atan2(torch.tensor([0.0, 0.0, -0.0]), torch.tensor([0.0, -0.0, -1.0]))
    np.testing.assert_allclose(to_np(r), [0.0, math.pi, -math.pi], rtol=1e-6)


def test_unary_bool_inputs():
    b = torch.tensor([True, False])
    with pytest.raises(RuntimeError):
        torch.neg(b)
    with pytest.raises(RuntimeError):
        -b
    with pytest.raises(RuntimeError):
        torch.relu(b)
    r = torch.exp(b)
    assert r.dtype == torch.float32
    np.testing.assert_allclose(to_np(r), [math.e, 1.0], rtol=1e-6)
    r = torch.square(b)
    assert r.dtype == torch.int64 and r.tolist() == [1, 0]
    assert b.tolist() == [True, False]


# --------------------------------------------------------------------------- round

def test_round_half_to_even():
    t = torch.tensor([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, -3.5])
    assert torch.round(t).tolist() == [0.0, 2.0, 2.0, 4.0, -0.0, -2.0, -2.0, 2.0, 3.0, -4.0]
    h = torch.tensor([0.5, 1.5, 2.5], dtype=torch.float16)
    assert torch.round(h).tolist() == [0.0, 2.0, 2.0]
    d = torch.tensor([0.5, 1.5, 2.5, 4503599627370497.0], dtype=torch.float64)
    assert torch.round(d).tolist() == [0.0, 2.0, 2.0, 4503599627370497.0]


def test_round_decimals():
    r = torch.round(torch.tensor([1.2345, 12.5, -0.125], dtype=torch.float64), decimals=2)
    np.testing.assert_allclose(to_np(r), [1.23, 12.5, -0.12], rtol=1e-12)
    r = torch.round(torch.tensor([1234.5, 1250.0]), decimals=-2)
    assert r.tolist() == [1200.0, 1200.0]


# --------------------------------------------------------------------------- binary functions

def _nonzero(shape, dtype, seed):
    """Values bounded away from zero, with both signs (uint8: positive)."""
    a, t = make(shape, dtype, seed=seed, positive=True)
    if dtype != "uint8":
        sgn = np.where(np.random.default_rng(seed + 100).random(shape) < 0.5, -1, 1)
        a = a * sgn
        t = t * torch.tensor(sgn.astype(np.int8)).to(t.dtype)
    return a, t


def binary_inputs(name, shape_a, shape_b, dtype, seed=0):
    if name == "pow":
        if dtype in INT_DTYPES:
            rng = np.random.default_rng(seed)
            lo = 0 if dtype == "uint8" else -3
            a = rng.integers(lo, 4, size=shape_a)
            b = rng.integers(0, 4, size=shape_b)
            return (a.astype(np.int64), torch.tensor(a.astype(dtype)),
                    b.astype(np.int64), torch.tensor(b.astype(dtype)))
        a, ta = make(shape_a, dtype, low=0.1, high=3.0, seed=seed)
        b, tb = make(shape_b, dtype, low=-3.0, high=3.0, seed=seed + 1)
        return a, ta, b, tb
    a, ta = make(shape_a, dtype, seed=seed)
    if name in ("div", "fmod", "remainder"):
        b, tb = _nonzero(shape_b, dtype, seed + 1)
    else:
        b, tb = make(shape_b, dtype, seed=seed + 1)
    return a, ta, b, tb


# --------------------------------------------------------------------------- operators

OPS = {
    "+": (operator.add, operator.iadd, np.add),
    "-": (operator.sub, operator.isub, np.subtract),
    "*": (operator.mul, operator.imul, np.multiply),
    "/": (operator.truediv, operator.itruediv, np.divide),
    "//": (operator.floordiv, operator.ifloordiv, np.floor_divide),
    "%": (operator.mod, operator.imod, np.mod),
    "**": (operator.pow, operator.ipow, np.power),
}


def op_inputs(op, shape_a, shape_b, dtype, seed=0):
    if op == "**":
        return binary_inputs("pow", shape_a, shape_b, dtype, seed)
    if op in ("/", "//", "%"):
        return binary_inputs("div", shape_a, shape_b, dtype, seed)
    return binary_inputs("add", shape_a, shape_b, dtype, seed)


def op_ref(op, a, b, dtype):
    with np.errstate(all="ignore"):
        r = OPS[op][2](a, b)
    if dtype == "uint8" and op == "-":
        r = np.mod(r, 256)
    return r


@pytest.mark.parametrize("dtypes", [("float16", "bfloat16"), ("float32", "float64"),
                                    ("uint8", "int8", "int32", "int64")], ids=["half", "float", "int"])
@pytest.mark.parametrize("op", list(OPS))
def test_operator(op, dtypes):
    for dtype in dtypes:
        check_operator(op, dtype)


def check_operator(op, dtype):
    f, fi, _ = OPS[op]
    a, ta, b, tb = op_inputs(op, (3, 4), (4,), dtype)
    r = f(ta, tb)
    exp_dtype = "float32" if (op == "/" and dtype in INT_DTYPES) else dtype
    assert r.dtype == dt(exp_dtype)
    assert_close(r, op_ref(op, a, b, dtype))

    # Python scalars on either side
    s = 2
    assert_close(f(ta, s), op_ref(op, a, np.float64(s), dtype))
    rs = f(s, tb)
    assert rs.dtype == dt(exp_dtype)
    assert_close(rs, op_ref(op, np.float64(s), b, dtype))
    if dtype in FLOAT_DTYPES:
        fs = 1.5
        assert_close(f(ta, fs), op_ref(op, a, fs, dtype))

    # augmented assignment: same object, values updated
    if exp_dtype == dtype:
        u = ta.clone()
        ident = id(u)
        u = fi(u, tb)
        assert id(u) == ident
        assert_close(u, op_ref(op, a, b, dtype))
    else:
        u = ta.clone()
        with pytest.raises(RuntimeError):
            u = fi(u, tb)
        np.testing.assert_array_equal(to_np(u), a)


def test_unary_operators():
    a, t = make((3, 4), "float32")
    assert_close(-t, -a)
    assert_close(abs(t), np.abs(a))
    assert_close(+t, a)
    i = torch.tensor([-3, 0, 4], dtype=torch.int16)
    assert (-i).tolist() == [3, 0, -4] and (-i).dtype == torch.int16
    assert abs(i).tolist() == [3, 0, 4]


BROADCAST_OK = [
    ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((1,), (5,)), ((), (2, 3)),
    ((2, 1, 3), (4, 1)), ((0, 3), (1, 3)), ((2, 0, 3), (3,)), ((1, 0), (3, 1)), ((5, 1, 1), (1, 2, 3)),
    ((4,), ()), ((1, 1, 1), (2, 2)),
]
BROADCAST_BAD = [((3,), (4,)), ((2, 3), (3, 2)), ((2, 3, 4), (3, 3)), ((0,), (2,)), ((2, 1), (3, 3))]


@pytest.mark.parametrize("sa, sb", BROADCAST_OK)
def test_broadcasting(sa, sb):
    a, ta = make(sa, "float64", seed=1)
    b, tb = make(sb, "float64", seed=2)
    expected_shape = np.broadcast_shapes(sa, sb)
    for f, ref in [(operator.add, np.add), (operator.mul, np.multiply), (torch.maximum, np.maximum),
                   (torch.atan2, np.arctan2), (operator.lt, np.less)]:
        r = f(ta, tb)
        assert tuple(r.shape) == expected_shape
        assert_close(r, ref(a, b))
        r = f(tb, ta)
        assert_close(r, ref(b, a))
    c = torch.tensor(a > 0) if sa else torch.tensor(bool(a > 0))
    r = torch.where(c, ta, tb)
    assert_close(r, np.where(a > 0, a, b))


@pytest.mark.parametrize("sa, sb", BROADCAST_BAD)
def test_broadcasting_mismatch_raises(sa, sb):
    a, ta = make(sa, "float32", seed=1)
    b, tb = make(sb, "float32", seed=2)
    for f in [operator.add, operator.mul, torch.maximum, torch.atan2, operator.eq, torch.fmod]:
        with pytest.raises(RuntimeError):
            f(ta, tb)
    np.testing.assert_array_equal(to_np(ta), a)
    np.testing.assert_array_equal(to_np(tb), b)


# --------------------------------------------------------------------------- in-place specifics and out=

def test_inplace_broadcast_rules():
    a, ta = make((3, 4), "float32")
    b, tb = make((4,), "float32", seed=1)
    u = ta.clone()
    u += tb  # the other operand may broadcast
    assert_close(u, a + b)
    v = tb.clone()
    with pytest.raises(RuntimeError):
        v += ta  # but self cannot grow
    with pytest.raises(RuntimeError):
        v.mul_(ta)
    np.testing.assert_array_equal(to_np(v), b)


def test_inplace_on_expanded_tensor_raises():
    base = torch.tensor([1.0, 2.0, 3.0])
    e = base.expand(2, 3)
    with pytest.raises(RuntimeError):
        e.add_(1.0)
    with pytest.raises(RuntimeError):
        e += torch.ones(2, 3)
    assert base.tolist() == [1.0, 2.0, 3.0]


def test_inplace_through_views_updates_base():
    base = torch.zeros(3, 4)
    base[:, 1].add_(torch.tensor([1.0, 2.0, 3.0]))
    assert base[:, 1].tolist() == [1.0, 2.0, 3.0] and base.sum().item() == 6.0
    t = base.t()
    t.mul_(2)
    assert base[:, 1].tolist() == [2.0, 4.0, 6.0]
    s = base[::2]
    s += 1
    np.testing.assert_array_equal(to_np(base)[::2], np.array([[1, 3, 1, 1], [1, 7, 1, 1]]))
    assert base[1].tolist() == [0.0, 4.0, 0.0, 0.0]
    base[0].sqrt_()
    np.testing.assert_allclose(to_np(base)[0], np.sqrt([1, 3, 1, 1]), rtol=1e-6)


def test_inplace_with_self_aliasing():
    a, t = make((5,), "float64")
    t += t
    assert_close(t, 2 * a)
    t.mul_(t)
    assert_close(t, (2 * a) ** 2)


def test_out_resizes_empty_and_returns_out():
    a, ta = make((2, 3), "float32")
    b, tb = make((3,), "float32", seed=1)
    out = torch.empty(0)
    r = torch.add(ta, tb, out=out)
    assert r is out and out.shape == (2, 3)
    assert_close(out, a + b)
    out = torch.empty(0)
    torch.sin(ta, out=out)
    assert out.shape == (2, 3)
    assert_close(out, np.sin(a))


def test_add_sub_alpha_and_div_rounding_modes():
    a, ta = make((3, 4), "float64")
    b, tb = _nonzero((3, 4), "float64", 7)
    assert_close(torch.add(ta, tb, alpha=2.5), a + 2.5 * b)
    assert_close(torch.sub(ta, tb, alpha=3), a - 3 * b)
    u = ta.clone()
    u.add_(tb, alpha=-2)
    assert_close(u, a - 2 * b)
    assert_close(torch.div(ta, tb, rounding_mode="trunc"), np.trunc(a / b))
    assert_close(torch.div(ta, tb, rounding_mode="floor"), np.floor_divide(a, b))
    assert_close(torch.div(ta, tb, rounding_mode=None), a / b)
    i = torch.tensor([7, -7, 7, -7])
    j = torch.tensor([2, 2, -2, -2])
    r = torch.div(i, j, rounding_mode="trunc")
    assert r.dtype == torch.int64 and r.tolist() == [3, -3, -3, 3]
    r = torch.div(i, j, rounding_mode="floor")
    assert r.dtype == torch.int64 and r.tolist() == [3, -4, -4, 3]
    assert torch.div(i, j).tolist() == [3.5, -3.5, -3.5, 3.5]


# --------------------------------------------------------------------------- integer division by zero

@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_division_by_zero_raises(dtype):
    a = torch.tensor([5, 3, 0], dtype=dt(dtype))
    z = torch.tensor([1, 0, 2], dtype=dt(dtype))
    bad = [
        lambda: a // 0, lambda: a % 0, lambda: a // z, lambda: a % z,
        lambda: torch.fmod(a, 0), lambda: torch.remainder(a, z),
        lambda: torch.div(a, z, rounding_mode="trunc"), lambda: torch.div(a, 0, rounding_mode="floor"),
    ]
    for f in bad:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f()
    u = a.clone()
    with pytest.raises(RuntimeError):
        u //= 0
    assert a.tolist() == [5, 3, 0] and z.tolist() == [1, 0, 2]
    # true division goes to floating point: no error
    r = a / z
    assert r.dtype == torch.float32
    v = to_np(r)
    assert v[0] == 5 and v[1] == np.inf and v[2] == 0


def test_float_division_by_zero():
    a = torch.tensor([5.0, -5.0, 0.0])
    r = a / 0
    v = to_np(r)
    assert v[0] == np.inf and v[1] == -np.inf and np.isnan(v[2])
    v = to_np(a // 0)
    assert v[0] == np.inf and v[1] == -np.inf and np.isnan(v[2])
    assert np.isnan(to_np(a % 0)).all()
    assert np.isnan(to_np(torch.fmod(a, 0.0))).all()


# --------------------------------------------------------------------------- fmod vs remainder

def test_fmod_vs_remainder_sign_rules():
    a = torch.tensor([5, -5, 5, -5])
    b = torch.tensor([3, 3, -3, -3])
    assert torch.fmod(a, b).tolist() == [2, -2, 2, -2]       # sign of the dividend
    assert torch.remainder(a, b).tolist() == [2, 1, -1, -2]  # sign of the divisor
    assert (a % b).tolist() == [2, 1, -1, -2]
    assert (a // b).tolist() == [1, -2, -2, 1]
    fa = torch.tensor([5.5, -5.5, 5.5, -5.5], dtype=torch.float64)
    fb = torch.tensor([2.0, 2.0, -2.0, -2.0], dtype=torch.float64)
    assert torch.fmod(fa, fb).tolist() == [1.5, -1.5, 1.5, -1.5]
    assert torch.remainder(fa, fb).tolist() == [1.5, 0.5, -0.5, -1.5]
    assert (fa % -2).tolist() == [-0.5, -1.5, -0.5, -1.5]
    assert torch.remainder(-5, torch.tensor([3])).tolist() == [1]  # scalar dividend
    assert (7 % torch.tensor([-3, 3])).tolist() == [-2, 1]


# --------------------------------------------------------------------------- pow

def test_pow_rules():
    i = torch.tensor([2, 3, -2])
    with pytest.raises(RuntimeError):
        i ** -1
    with pytest.raises(RuntimeError):
        torch.pow(i, -2)
    assert i.tolist() == [2, 3, -2]
    assert (i ** 0).tolist() == [1, 1, 1]
    assert (i ** 3).tolist() == [8, 27, -8]
    r = i ** 0.5
    assert r.dtype == torch.float32
    np.testing.assert_allclose(to_np(r), [math.sqrt(2), math.sqrt(3), np.nan], rtol=1e-6)
    # integer tensor exponents: negative powers truncate toward zero
    r = torch.tensor([2, 1, -1, -1]) ** torch.tensor([-1, -3, -1, -2])
    assert r.tolist() == [0, 1, -1, 1]
    f = torch.tensor([2.0, 4.0, 0.0, -8.0])
    np.testing.assert_allclose(to_np(f ** -1), [0.5, 0.25, np.inf, -0.125])
    np.testing.assert_allclose(to_np(f ** -0.5)[:3], [2 ** -0.5, 0.5, np.inf], rtol=1e-6)
    assert np.isnan(to_np(torch.tensor([-8.0]) ** (1 / 3))).all()
    assert (torch.tensor([0.0, 0]) ** 0).tolist() == [1.0, 1.0]
    assert (torch.tensor([0]) ** 0).tolist() == [1]
    np.testing.assert_allclose(to_np(2 ** torch.tensor([0.5, -1.0, 3.0])), [math.sqrt(2), 0.5, 8.0],
                               rtol=1e-6)
    np.testing.assert_allclose(to_np(torch.pow(2.5, torch.tensor([2.0]))), [6.25], rtol=1e-6)
    o = torch.empty(2)
    torch.pow(3, torch.tensor([2.0, 0.5]), out=o)
    np.testing.assert_allclose(to_np(o), [9.0, math.sqrt(3)], rtol=1e-6)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        torch.pow(2 ** 63, 2 ** 40)  # two numbers: PyTorch's TypeError, not Python's int power
    r = torch.pow(torch.tensor([2.0]), torch.tensor([3], dtype=torch.int32))
    assert r.dtype == torch.float32 and r.tolist() == [8.0]
    r = torch.tensor([-2, 3], dtype=torch.int8) ** 3
    assert r.dtype == torch.int8 and r.tolist() == [-8, 27]
    u = torch.tensor([1.5, 2.0])
    u **= 2
    assert u.tolist() == [2.25, 4.0]
    u.pow_(0.5)
    assert u.tolist() == [1.5, 2.0]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_pow_scalar_exponents(dtype):
    a, t = make((3, 4), dtype, low=0.2, high=3.0)
    for exponent in [2, 3, 0.5, -1, -2, -0.5, 1, 0, 1.7]:
        assert_close(t ** exponent, np.power(a, exponent))
        assert_close(torch.pow(t, exponent), np.power(a, exponent))


# --------------------------------------------------------------------------- clamp / clip

def test_clamp_integer_bounds_outside_the_dtype_range():
    # PyTorch: a bound beyond the far end of the range changes nothing; one beyond the near
    # end is an error (casting it would wrap: uint8 min=-1 would become 255)
    u = torch.tensor([2, 100], dtype=torch.uint8)
    assert u.clamp(-1).tolist() == [2, 100]
    assert u.clamp(max=300).tolist() == [2, 100]
    assert u.clamp(-5, 50).tolist() == [2, 50]
    i = torch.tensor([-100, 5, 100], dtype=torch.int8)
    assert i.clamp(-200, 200).tolist() == [-100, 5, 100]
    with pytest.raises(RuntimeError, match="Clamp min value 300 is outside the representable range of Byte"):
        u.clamp(300)
    with pytest.raises(RuntimeError, match="Clamp max value -1 is outside the representable range of Byte"):
        u.clamp(max=-1)
    with pytest.raises(RuntimeError, match="Clamp min value 200 is outside the representable range of Char"):
        i.clamp(min=200)
    assert u.tolist() == [2, 100] and i.tolist() == [-100, 5, 100]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + ["int32", "int64", "int8"])
def test_clamp_scalars(dtype):
    a, t = make((4, 5), dtype)
    lo, hi = -1, 2
    for f in (torch.clamp, torch.clip):
        assert_close(f(t, lo, hi), np.clip(a, lo, hi))
        assert_close(f(t, min=lo), np.maximum(a, lo))
        assert_close(f(t, max=hi), np.minimum(a, hi))
        assert f(t, lo, hi).dtype == dt(dtype)
    assert_close(t.clamp(lo, hi), np.clip(a, lo, hi))
    assert_close(t.clip(min=lo), np.maximum(a, lo))
    out = torch.empty(4, 5, dtype=dt(dtype))
    torch.clamp(t, lo, hi, out=out)
    assert_close(out, np.clip(a, lo, hi))
    u = t.clone()
    assert u.clamp_(lo, hi) is u
    assert_close(u, np.clip(a, lo, hi))
    u = t.clone()
    u.clip_(max=0)
    assert_close(u, np.minimum(a, 0))
    # non-contiguous
    assert_close(torch.clamp(t.t(), lo, hi), np.clip(a.T, lo, hi))
    assert_close(torch.clamp(t[::2, 1::2], lo, hi), np.clip(a[::2, 1::2], lo, hi))


def test_clamp_tensors():
    a, t = make((3, 4), "float64")
    lo_a, lo = make((4,), "float64", low=-2, high=0, seed=1)
    hi_a, hi = make((3, 1), "float64", low=0, high=2, seed=2)
    assert_close(torch.clamp(t, lo, hi), np.minimum(np.maximum(a, lo_a), hi_a))
    assert_close(torch.clamp(t, min=lo), np.maximum(a, lo_a))
    assert_close(torch.clamp(t, max=hi), np.minimum(a, hi_a))
    assert_close(t.clamp(lo, hi), np.minimum(np.maximum(a, lo_a), hi_a))
    u = t.clone()
    u.clamp_(min=lo)
    assert_close(u, np.maximum(a, lo_a))


def test_clamp_edge_cases():
    t = torch.tensor([1.0, 5.0, 9.0])
    # min > max: everything becomes max
    assert torch.clamp(t, min=6, max=4).tolist() == [4.0, 4.0, 4.0]
    r = torch.clamp(t, min=torch.tensor([2.0, 6.0, 0.0]), max=torch.tensor([8.0, 7.0, 3.0]))
    assert r.tolist() == [2.0, 6.0, 3.0]
    # NaN in the input propagates
    r = torch.clamp(torch.tensor([1.0, float("nan"), -3.0]), -1, 1)
    v = to_np(r)
    assert v[0] == 1 and np.isnan(v[1]) and v[2] == -1
    # NaN bound gives NaN
    assert np.isnan(to_np(torch.clamp(t, max=float("nan")))).all()
    # integer tensor with float bound promotes
    r = torch.clamp(torch.tensor([1, 5, 9]), min=2.5)
    assert r.dtype == torch.float32 and r.tolist() == [2.5, 5.0, 9.0]
    with pytest.raises(RuntimeError):
        torch.clamp(t)
    assert t.tolist() == [1.0, 5.0, 9.0]
    # empty and 0-d
    assert torch.clamp(torch.empty(2, 0, 3), 0, 1).shape == (2, 0, 3)
    assert torch.clamp(torch.tensor(5.0), 0, 1).item() == 1.0


# --------------------------------------------------------------------------- lerp

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_lerp(dtype):
    s, ts = make((3, 4), dtype, seed=1)
    e, te = make((3, 4), dtype, seed=2)
    for w in [0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5]:
        assert_close(torch.lerp(ts, te, w), s + w * (e - s))
        assert_close(ts.lerp(te, w), s + w * (e - s))
    wa, tw = make((4,), dtype, low=0, high=1, seed=3)
    assert_close(torch.lerp(ts, te, tw), s + wa * (e - s))
    assert_close(torch.lerp(ts[0], te, tw), s[0] + wa * (e - s[0]))  # broadcasting start
    assert_close(torch.lerp(ts.t(), te.t(), 0.3), (s + 0.3 * (e - s)).T)
    u = ts.clone()
    assert u.lerp_(te, 0.5) is u
    assert_close(u, s + 0.5 * (e - s))
    out = torch.empty(3, 4, dtype=dt(dtype))
    torch.lerp(ts, te, 0.5, out=out)
    assert_close(out, s + 0.5 * (e - s))


def test_lerp_exact_endpoints_and_errors():
    s = torch.tensor([1.0, -2.0, 1e8])
    e = torch.tensor([3.0, 6.0, 1.0])
    assert torch.lerp(s, e, 0.0).tolist() == s.tolist()
    assert torch.lerp(s, e, 1.0).tolist() == e.tolist()
    with pytest.raises(RuntimeError):
        torch.lerp(torch.tensor([1, 2]), torch.tensor([3, 4]), 0.5)
    with pytest.raises(RuntimeError):
        torch.lerp(s, torch.ones(2), 0.5)
    assert s.tolist() == [1.0, -2.0, 1e8]


# --------------------------------------------------------------------------- where

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_where(dtype):
    a, ta = make((3, 4), dtype, seed=1)
    b, tb = make((3, 4), dtype, seed=2)
    c = np.random.default_rng(3).random((3, 4)) > 0.5
    tc = torch.tensor(c)
    r = torch.where(tc, ta, tb)
    assert r.dtype == dt(dtype)
    assert_close(r, np.where(c, a, b))
    assert_close(ta.where(tc, tb), np.where(c, a, b))
    # broadcasting of all three
    r = torch.where(tc[:, :1], ta[0], tb[:, 2:3])
    assert r.shape == (3, 4)
    assert_close(r, np.where(c[:, :1], a[0], b[:, 2:3]))
    # non-contiguous
    assert_close(torch.where(tc.t(), ta.t(), tb.t()), np.where(c.T, a.T, b.T))
    out = torch.empty(3, 4, dtype=dt(dtype))
    torch.where(tc, ta, tb, out=out)
    assert_close(out, np.where(c, a, b))


def test_where_scalars_and_errors():
    c = torch.tensor([True, False, True])
    t = torch.tensor([1.0, 2.0, 3.0])
    assert torch.where(c, t, 0.0).tolist() == [1.0, 0.0, 3.0]
    assert torch.where(c, -1.0, t).tolist() == [-1.0, 2.0, -1.0]
    r = torch.where(c, 1, 0)
    assert r.dtype == torch.int64 and r.tolist() == [1, 0, 1]
    with pytest.raises(RuntimeError):
        torch.where(torch.tensor([1, 0, 1]), t, t)  # condition must be bool
    with pytest.raises(RuntimeError):
        torch.where(c, t, torch.ones(2))
    assert torch.where(torch.tensor([], dtype=torch.bool), torch.ones(0), 1.0).shape == (0,)


def test_where_uint8_condition_and_single_argument():
    c8 = torch.tensor([2, 0, 1], dtype=torch.uint8)
    t = torch.tensor([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="uint8 condition"):
        assert torch.where(c8, t, -t).tolist() == [1.0, -2.0, 3.0]
    with warnings.catch_warnings():  # PyTorch warns once per process
        warnings.simplefilter("ignore")
        assert t.where(c8, 0.0).tolist() == [1.0, 0.0, 3.0]
    # where(condition) is nonzero(as_tuple=True), a 0-d condition counting as 1-d
    assert [x.tolist() for x in torch.where(torch.tensor(5, dtype=torch.int8))] == [[0]]
    assert [x.tolist() for x in torch.where(torch.tensor(0.0))] == [[]]
    m = np.array([[0, 3], [4, 0]])
    assert [x.tolist() for x in torch.where(torch.tensor(m))] == [v.tolist() for v in np.nonzero(m)]


def test_functional_binary_ops_take_a_number_first():
    u = torch.tensor([1, 5, 200], dtype=torch.uint8)
    r = torch.add(2, u)
    assert r.dtype == torch.uint8 and r.tolist() == [3, 7, 202]  # a number is a weak scalar
    r = torch.sub(2, u)
    assert r.dtype == torch.uint8 and r.tolist() == list((np.uint8(2) - np.array([1, 5, 200], np.uint8)))
    r = torch.add(2, torch.tensor([1.0, 2.0]), alpha=3)
    assert r.tolist() == [5.0, 8.0]
    r = torch.mul(0.5, torch.tensor([3, 4]))
    assert r.dtype == torch.float32 and r.tolist() == [1.5, 2.0]
    r = torch.div(1, torch.tensor([4, 8]))
    assert r.dtype == torch.float32 and r.tolist() == [0.25, 0.125]
    assert torch.div(7, torch.tensor([2, -2]), rounding_mode="floor").tolist() == [3, -4]
    assert torch.floor_divide(7, torch.tensor([2, -2])).tolist() == [3, -4]
    assert torch.bitwise_and(6, torch.tensor([3, 5])).tolist() == [6 & 3, 6 & 5]
    assert torch.bitwise_xor(True, torch.tensor([True, False])).tolist() == [False, True]
    # two numbers: a 0-d tensor of the numbers' own dtype
    r = torch.add(-1, 2)
    assert r.shape == () and r.dtype == torch.int64 and r.item() == 1
    r = torch.divide(0.5, -1)
    assert r.dtype == torch.float32 and r.item() == -0.5
    assert torch.multiply(3, 4).item() == 12 and torch.subtract(3, 4).item() == -1
    assert torch.true_divide(3, 4).item() == 0.75
    with pytest.raises(TypeError, match="must be Tensor, not tuple"):
        torch.add((1, 2), 1.5)  # only a number is lifted, as in PyTorch


@pytest.mark.parametrize("op", ["fmod", "remainder", "floor_divide", "div"])
def test_integer_division_by_zero_into_an_empty_result_is_not_an_error(op):
    # PyTorch raises only for a division it performs
    a = torch.zeros(0, 2, dtype=torch.int64)
    b = torch.tensor([0, 1])
    kw = {"rounding_mode": "trunc"} if op == "div" else {}
    r = getattr(torch, op)(a, b, **kw)
    assert r.shape == (0, 2)
    getattr(a, op + "_")(b, **kw)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(torch, op)(torch.ones(2, 2, dtype=torch.int64), b, **kw)


# --------------------------------------------------------------------------- nan_to_num

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_to_num(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0, 0.0])
    t = torch.tensor(x, dtype=dt(dtype))
    big = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
           "float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}[dtype]
    r = torch.nan_to_num(t)
    assert r.dtype == dt(dtype)
    np.testing.assert_array_equal(to_np(r), [0.0, big, -big, 1.5, -2.0, 0.0])
    r = torch.nan_to_num(t, nan=7.0, posinf=100.0, neginf=-100.0)
    np.testing.assert_array_equal(to_np(r), [7.0, 100.0, -100.0, 1.5, -2.0, 0.0])
    r = t.nan_to_num(posinf=1.0)
    np.testing.assert_array_equal(to_np(r), [0.0, 1.0, -big, 1.5, -2.0, 0.0])
    assert np.isnan(to_np(t)[0])  # input unchanged
    u = t.clone()
    assert u.nan_to_num_(nan=-1.0) is u
    np.testing.assert_array_equal(to_np(u), [-1.0, big, -big, 1.5, -2.0, 0.0])
    out = torch.empty(6, dtype=dt(dtype))
    torch.nan_to_num(t, 0.5, out=out)
    np.testing.assert_array_equal(to_np(out), [0.5, big, -big, 1.5, -2.0, 0.0])
    # non-contiguous
    r = torch.nan_to_num(t[::2])
    np.testing.assert_array_equal(to_np(r), [0.0, -big, -2.0])


def test_nan_to_num_int_is_identity():
    t = torch.tensor([1, -2, 3])
    r = torch.nan_to_num(t)
    assert r.dtype == torch.int64 and r.tolist() == [1, -2, 3]


# --------------------------------------------------------------------------- isnan / isinf / isfinite

def test_float16_overflow_is_inf():
    assert torch.isinf(torch.tensor([70000.0]).half()).tolist() == [True]


# --------------------------------------------------------------------------- isclose / allclose / equal

@pytest.mark.parametrize("rtol, atol", [(1e-5, 1e-8), (1e-2, 0.0), (0.0, 1e-3), (0.0, 0.0), (0.5, 0.5)])
@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose(rtol, atol, equal_nan):
    a = np.array([1.0, 1.0, 100.0, 0.0, np.nan, np.inf, np.inf, -np.inf, 1e-10, 2.0, np.nan])
    b = np.array([1.0, 1.0001, 100.5, 1e-9, np.nan, np.inf, -np.inf, -np.inf, 0.0, 2.01, 1.0])
    ta, tb = torch.tensor(a), torch.tensor(b)
    r = torch.isclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan)
    assert r.dtype == torch.bool
    with np.errstate(invalid="ignore"):
        expected = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    np.testing.assert_array_equal(to_np(r), expected)
    np.testing.assert_array_equal(to_np(ta.isclose(tb, rtol=rtol, atol=atol, equal_nan=equal_nan)),
                                  expected)
    ok = bool(expected.all())
    got = torch.allclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan)
    assert type(got) is bool and got is ok
    fin = np.isfinite(a) & np.isfinite(b)
    assert torch.allclose(ta[torch.tensor(fin)], tb[torch.tensor(fin)], rtol=rtol, atol=atol) is \
        bool(np.isclose(a[fin], b[fin], rtol=rtol, atol=atol).all())


def test_isclose_defaults_and_broadcasting():
    t = torch.tensor([1.0, 2.0])
    assert torch.allclose(t, torch.tensor([1.0, 2.0 + 1e-6]))      # default rtol=1e-5, atol=1e-8
    assert not torch.allclose(t, torch.tensor([1.0, 2.0001]))
    assert torch.allclose(t, torch.tensor([[1.0, 2.0]]))            # broadcasting is allowed
    r = torch.isclose(torch.tensor([[1.0], [3.0]]), t)
    assert r.tolist() == [[True, False], [False, False]]
    assert torch.isclose(torch.tensor([1, 2]), torch.tensor([1, 3])).tolist() == [True, False]
    with pytest.raises(RuntimeError):
        torch.allclose(t, torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError):
        torch.isclose(t, torch.tensor([1.0, 2.0], dtype=torch.float64))  # dtypes must match
    assert t.tolist() == [1.0, 2.0]


def test_equal():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.equal(a, a.clone()) is True
    assert torch.equal(a, torch.tensor([[1.0, 2.0], [3.0, 5.0]])) is False
    assert torch.equal(a, a.t().t()) is True
    assert torch.equal(a.t(), torch.tensor([[1.0, 3.0], [2.0, 4.0]])) is True
    assert torch.equal(a, torch.tensor([1.0, 2.0, 3.0, 4.0])) is False  # shape differs: no error
    assert torch.equal(torch.tensor([1.0]), torch.tensor([[1.0]])) is False
    assert torch.equal(torch.tensor([float("nan")]), torch.tensor([float("nan")])) is False
    assert torch.equal(torch.tensor([]), torch.tensor([])) is True
    assert torch.equal(torch.tensor(3), torch.tensor(3)) is True
    assert a.equal(a.clone()) is True


# --------------------------------------------------------------------------- comparisons

@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "uint8", "bool", "int64"])
def test_comparison_operators(dtype):
    a, ta = make((3, 4), dtype, seed=1)
    b, tb = make((4,), dtype, seed=2)
    b2 = np.where(np.arange(4) % 2 == 0, a[0], b)  # some equal elements
    tb = torch.tensor(b2).to(dt(dtype))
    for op, ref in [(operator.eq, np.equal), (operator.ne, np.not_equal), (operator.lt, np.less),
                    (operator.le, np.less_equal), (operator.gt, np.greater), (operator.ge, np.greater_equal)]:
        r = op(ta, tb)
        assert r.dtype == torch.bool and r.shape == (3, 4)
        np.testing.assert_array_equal(to_np(r), ref(a, b2))
        np.testing.assert_array_equal(to_np(op(ta.t(), tb[:3])), ref(a.T, b2[:3]))
        np.testing.assert_array_equal(to_np(op(ta, 1)), ref(a, 1))
        np.testing.assert_array_equal(to_np(op(1, ta)), ref(1, a))


def test_comparisons_with_nan():
    a = torch.tensor([float("nan"), 1.0, float("nan")])
    b = torch.tensor([float("nan"), float("nan"), 1.0])
    assert (a == b).tolist() == [False, False, False]
    assert (a != b).tolist() == [True, True, True]
    assert (a < b).tolist() == [False, False, False]
    assert (a >= b).tolist() == [False, False, False]
    assert (a == a).tolist() == [False, True, False]


def test_comparison_inplace_methods():
    t = torch.tensor([1.0, 2.0, 3.0])
    assert t.lt_(2.5) is t
    assert t.tolist() == [1.0, 1.0, 0.0] and t.dtype == torch.float32


# --------------------------------------------------------------------------- bitwise / logical

@pytest.mark.parametrize("dtype", INT_DTYPES + ["bool"])
def test_bitwise_ops(dtype):
    rng = np.random.default_rng(0)
    if dtype == "bool":
        a = rng.random((3, 4)) > 0.5
        b = rng.random((3, 4)) > 0.5
    else:
        lo = 0 if dtype == "uint8" else -50
        a = rng.integers(lo, 100, size=(3, 4)).astype(dtype)
        b = rng.integers(lo, 100, size=(3, 4)).astype(dtype)
    ta, tb = torch.tensor(a), torch.tensor(b)
    for op, ref in [(operator.and_, np.bitwise_and), (operator.or_, np.bitwise_or),
                    (operator.xor, np.bitwise_xor)]:
        r = op(ta, tb)
        assert r.dtype == dt(dtype)
        np.testing.assert_array_equal(to_np(r), ref(a, b))
        np.testing.assert_array_equal(to_np(op(ta.t(), tb.t())), ref(a.T, b.T))
        np.testing.assert_array_equal(to_np(op(ta, tb[0])), ref(a, b[0]))
    r = ~ta
    assert r.dtype == dt(dtype)
    np.testing.assert_array_equal(to_np(r), np.invert(a))
    np.testing.assert_array_equal(to_np(~ta[:, ::2]), np.invert(a[:, ::2]))
    u = ta.clone()
    u &= tb
    np.testing.assert_array_equal(to_np(u), a & b)
    u = ta.clone()
    u |= tb
    np.testing.assert_array_equal(to_np(u), a | b)
    u = ta.clone()
    u ^= tb
    np.testing.assert_array_equal(to_np(u), a ^ b)
    np.testing.assert_array_equal(to_np(ta), a)
    if dtype != "bool":
        np.testing.assert_array_equal(to_np(ta & 12), a & np.array(12, dtype=dtype))
        np.testing.assert_array_equal(to_np(12 | ta), a | np.array(12, dtype=dtype))


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shift_ops(dtype):
    rng = np.random.default_rng(1)
    lo = 0 if dtype == "uint8" else -16
    a = rng.integers(lo, 16, size=(3, 4)).astype(dtype)
    s = rng.integers(0, 4, size=(3, 4)).astype(dtype)
    ta, ts = torch.tensor(a), torch.tensor(s)
    np.testing.assert_array_equal(to_np(ta << ts), np.left_shift(a, s))
    np.testing.assert_array_equal(to_np(ta >> ts), np.right_shift(a, s))  # arithmetic for signed
    np.testing.assert_array_equal(to_np(ta << 2), np.left_shift(a, np.array(2, dtype=dtype)))
    np.testing.assert_array_equal(to_np(ta >> 1), np.right_shift(a, np.array(1, dtype=dtype)))
    assert (ta << 2).dtype == dt(dtype)


def test_shift_overflow_wraps():
    r = torch.tensor([1, 2, 3], dtype=torch.uint8) << 7
    assert r.tolist() == [128, 0, 128]
    assert (torch.tensor([-8, 7]) >> 1).tolist() == [-4, 3]


def test_logical_on_bool():
    a = torch.tensor([True, True, False, False])
    b = torch.tensor([True, False, True, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, False, True, True]
    r = (a & True)
    assert r.dtype == torch.bool and r.tolist() == [True, True, False, False]


def test_bitwise_on_float_raises():
    f = torch.tensor([1.0, 2.0])
    for bad in [lambda: f & f, lambda: f | 1, lambda: f ^ f, lambda: f << 1, lambda: f >> 1]:
        with pytest.raises(RuntimeError):
            bad()
    with pytest.raises(TypeError):
        ~f
    assert f.tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------- maximum / minimum specifics

def test_maximum_minimum_nan_propagate():
    a = torch.tensor([1.0, float("nan"), 3.0])
    b = torch.tensor([float("nan"), 2.0, 1.0])
    assert np.isnan(to_np(torch.maximum(a, b))[:2]).all() and torch.maximum(a, b)[2].item() == 3.0
    assert np.isnan(to_np(torch.minimum(a, b))[:2]).all() and torch.minimum(a, b)[2].item() == 1.0
    with pytest.raises(TypeError):
        torch.maximum(a, 2.0)  # only tensors are accepted


# --------------------------------------------------------------------------- matmul operator

@pytest.mark.parametrize("sa, sb", [
    ((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 1)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_matmul_operator(sa, sb, dtype):
    a, ta = make(sa, dtype, seed=1)
    b, tb = make(sb, dtype, seed=2)
    r = ta @ tb
    expected = np.matmul(a, b)
    assert tuple(r.shape) == expected.shape and r.dtype == dt(dtype)
    assert_close(r, expected, rtol=1e-5 if dtype == "float32" else None,
                 atol=1e-5 if dtype == "float32" else None)


def test_matmul_noncontiguous_and_errors():
    a, ta = make((4, 3), "float64", seed=1)
    b, tb = make((5, 4), "float64", seed=2)
    assert_close(ta.t() @ tb.t(), a.T @ b.T)
    assert_close(ta[::2] @ tb.t()[:3, ::2], a[::2] @ b.T[:3, ::2])
    with pytest.raises(RuntimeError):
        ta @ tb
    with pytest.raises(RuntimeError):
        torch.tensor(1.0) @ torch.tensor(2.0)
    with pytest.raises(RuntimeError):
        torch.ones(3) @ torch.ones(3, dtype=torch.int64)  # no type promotion in matmul
    np.testing.assert_array_equal(to_np(ta), a)
