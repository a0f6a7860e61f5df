"""Python-composed elementwise ops: what the op table (tests/op_table.py, run per device and dtype by
tests/device/test_op_table.py) does not check: accuracy far out (i0, erfc, lgamma), keyword forms, exact
bit-level results (frexp, nextafter), error messages, in-place autograd, and the multi-argument ops
(addcmul/addcdiv, mvlgamma's p, float_power/heaviside/gcd rules).
"""
import math

import numpy as np
import pytest

import ferrotorch as torch
from _helpers import FLOAT_DTYPES, assert_close, dt, make, to_np
from op_table import np_digamma as _digamma_np
from op_table import np_erfc as _erfc_np
from op_table import np_lgamma as _lgamma_np


def _np_logit(p):
    return np.log(p / (1 - p))


def test_i0_large_arguments_float64():
    a = np.array([-35.0, 31.0, 50.0, 100.0, 300.0, 700.0])
    assert_close(torch.i0(torch.tensor(a)), np.i0(a))


def test_erfc_tail_float64():
    # the region where 1 - erf(x) has no digits left
    a = np.array([2.0, 3.5, 5.0, 8.0, 12.0, 20.0, 26.0])
    assert_close(torch.erfc(torch.tensor(a)), _erfc_np(a), rtol=1e-12, atol=0)


def test_lgamma_large_and_negative_float64():
    a = np.array([1e5, 1e10, 1e200, -0.5, -2.3, -10.7, -100.25, 0.001, 1 + 1e-9, 2 - 1e-9])
    assert_close(torch.lgamma(torch.tensor(a)), _lgamma_np(a), rtol=1e-12, atol=1e-13)


def test_logit_eps():
    a, t = make((10,), "float64", low=0.0, high=1.0, seed=4)
    c = np.clip(a, 0.2, 0.8)
    assert_close(torch.logit(t, eps=0.2), _np_logit(c))
    assert_close(t.logit(0.2), _np_logit(c))
    with np.errstate(all="ignore"):
        assert_close(torch.logit(torch.tensor([0.0, 1.0, 1.5])), _np_logit(np.array([0.0, 1.0, 1.5])))


def test_positive():
    t = torch.tensor([1, -2])
    assert torch.positive(t) is t
    assert t.positive() is t
    with pytest.raises(NotImplementedError, match="on a bool tensor is not supported"):
        torch.positive(torch.tensor([True]))


# ---------------------------------------------------------------- binary ops
def test_binary_special_values():
    inf, nan = float("inf"), float("nan")
    a = torch.tensor([inf, -inf, inf, nan, 1.0, -inf])
    b = torch.tensor([inf, -inf, nan, inf, nan, 2.0])
    na, nb = to_np(a), to_np(b)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(to_np(torch.logaddexp(a, b)), np.logaddexp(na, nb))
        np.testing.assert_array_equal(to_np(torch.logaddexp2(a, b)), np.logaddexp2(na, nb))
    np.testing.assert_array_equal(to_np(torch.hypot(a, b)), np.hypot(na, nb))
    np.testing.assert_array_equal(to_np(torch.fmax(a, b)), np.fmax(na, nb))
    np.testing.assert_array_equal(to_np(torch.fmin(a, b)), np.fmin(na, nb))
    # hypot neither overflows nor underflows
    big = np.array([1e200, 1e-200, 3e-320])
    assert_close(torch.hypot(torch.tensor(big), torch.tensor(big)), np.hypot(big, big))
    # xlogy: 0 where x == 0, unless y is NaN
    x = torch.tensor([0.0, 0.0, 0.0, 2.0, 0.0])
    y = torch.tensor([0.0, inf, nan, 0.0, -1.0])
    np.testing.assert_array_equal(to_np(torch.xlogy(x, y)), [0.0, 0.0, nan, -inf, 0.0])
    # copysign reads the sign of -0.0
    np.testing.assert_array_equal(to_np(torch.copysign(torch.tensor([1.0, 2.0]), torch.tensor([-0.0, 0.0]))), [-1.0, 2.0])


def test_binary_float_only_messages():
    # (result dtypes of every binary op for every dtype: the op table)
    i = torch.tensor([1, 2, 3])
    for name in ("hypot", "logaddexp", "logaddexp2"):
        with pytest.raises(NotImplementedError, match=f"\"{name}_cpu\" not implemented for 'Long'"):
            getattr(torch, name)(i, i)
        with pytest.raises(NotImplementedError, match=f"\"{name}_cpu\" not implemented for 'Bool'"):
            getattr(torch, name)(torch.tensor([True]), torch.tensor([False]))


def test_numbers_on_either_side():
    a, t = make((5,), "float32", low=0.5, high=3.0, seed=9)
    assert_close(torch.xlogy(2.0, t), 2.0 * np.log(a))
    assert_close(torch.xlogy(t, 3), a * np.log(3.0))
    assert torch.xlogy(2, torch.tensor([1.0], dtype=torch.float16)).dtype == torch.float16
    assert_close(torch.copysign(t, -0.0), -a)
    assert_close(torch.copysign(t, -1), -a)
    assert torch.copysign(torch.tensor([1, 2]), -1).dtype == torch.float32
    r = torch.float_power(2, torch.tensor([1, 3]))
    assert r.dtype == torch.float64
    np.testing.assert_array_equal(to_np(r), [2.0, 8.0])


def test_float_power():
    a, t = make((3, 4), "float32", low=0.5, high=3.0, seed=10)
    b, u = make((4,), "float16", low=-2.0, high=2.0, seed=11)
    for r in (torch.float_power(t, u), t.float_power(u)):
        assert r.dtype == torch.float64
        assert_close(r, np.float_power(a, b))
    r = torch.float_power(torch.tensor([1, 2, 3]), 2)
    assert r.dtype == torch.float64
    np.testing.assert_array_equal(to_np(r), [1.0, 4.0, 9.0])
    d = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert d.float_power_(3) is d
    np.testing.assert_array_equal(to_np(d), [1.0, 8.0])
    f = torch.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float but the operation's result requires dtype Double"):
        f.float_power_(2)
    np.testing.assert_array_equal(to_np(f), [1.0, 2.0])


def test_ldexp():
    a, t = make((3, 4), "float64", seed=12)
    e = np.array([-3, 0, 2, 10])
    r = torch.ldexp(t, torch.tensor(e))
    assert r.dtype == torch.float64
    np.testing.assert_array_equal(to_np(r), np.ldexp(a, e))
    np.testing.assert_array_equal(to_np(t.ldexp(torch.tensor(e))), np.ldexp(a, e))
    assert torch.ldexp(torch.tensor([1, 2]), torch.tensor([1, 2])).dtype == torch.float32
    h = torch.tensor([1.0, 2.0], dtype=torch.float16)
    r = torch.ldexp(h, torch.tensor([1, 2]))
    assert r.dtype == torch.float16
    np.testing.assert_array_equal(to_np(r), [2.0, 8.0])


def test_heaviside():
    x = torch.tensor([[-1.5, 0.0, 2.0, float("nan")], [0.0, 0.0, -0.0, 3.0]])
    v = torch.tensor([0.25, 0.5, 0.75, 1.0])
    exp = np.heaviside(to_np(x), to_np(v))
    exp[0, 3] = 0.0  # PyTorch: NaN > 0 is false (NumPy propagates the NaN)
    np.testing.assert_array_equal(to_np(torch.heaviside(x, v)), exp)
    np.testing.assert_array_equal(to_np(x.heaviside(v)), exp)
    i = torch.tensor([-2, 0, 5])
    r = torch.heaviside(i, torch.tensor([7]))
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(to_np(r), [0, 7, 1])
    with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors with different dtypes"):
        torch.heaviside(x, torch.tensor([1.0], dtype=torch.float64))
    with pytest.raises(TypeError, match="values"):
        torch.heaviside(x, 0.5)


# ---------------------------------------------------------------- gcd / lcm
def test_gcd_worst_case_int64_and_promotion():
    # consecutive Fibonacci numbers take the most Euclid rounds: F92 and F91 fit in int64
    f = [0, 1]
    while len(f) < 93:
        f.append(f[-1] + f[-2])
    a = np.array([f[92], f[91], 2 ** 62, 0, 0, -(2 ** 40) * 3], dtype=np.int64)
    b = np.array([f[91], f[92], 3 * 2 ** 40, 0, -7, 2 ** 41 * 9], dtype=np.int64)
    np.testing.assert_array_equal(to_np(torch.gcd(torch.tensor(a), torch.tensor(b))), np.gcd(a, b))
    r = torch.gcd(torch.tensor([12, 18], dtype=torch.int8), torch.tensor([8, 27]))
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(to_np(r), [4, 9])
    np.testing.assert_array_equal(to_np(torch.gcd(torch.tensor(12), torch.tensor(20))), 4)
    assert tuple(torch.lcm(torch.zeros(0, 2, dtype=torch.int64), torch.tensor([1, 2])).shape) == (0, 2)


def test_gcd_errors():
    f = torch.tensor([1.0, 2.0])
    i = torch.tensor([1, 2])
    with pytest.raises(NotImplementedError, match="\"gcd_cpu\" not implemented for 'Float'"):
        torch.gcd(f, f)
    with pytest.raises(NotImplementedError, match="\"lcm_cpu\" not implemented for 'Float'"):
        torch.lcm(i, f)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        torch.gcd(torch.tensor([True]), torch.tensor([True]))
    with pytest.raises(TypeError, match="must be Tensor, not int"):
        torch.gcd(i, 3)


# ---------------------------------------------------------------- mvlgamma / clamp_min / clamp_max
def test_mvlgamma():
    a, t = make((3, 4), "float64", low=2.0, high=8.0, seed=14)
    for p in (1, 2, 5):
        exp = sum(_lgamma_np(a - j / 2.0) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)
        assert_close(torch.mvlgamma(t, p), exp)
        assert_close(t.mvlgamma(p), exp)
    assert torch.mvlgamma(torch.tensor([3, 4]), 2).dtype == torch.float32
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        torch.mvlgamma(t, 0)


def test_clamp_min_max_functions():
    a, t = make((3, 4), "float32", seed=15)
    assert_close(torch.clamp_min(t, 0.5), np.maximum(a, 0.5))
    assert_close(torch.clamp_max(t, -0.5), np.minimum(a, -0.5))
    r = torch.clamp_max(torch.tensor([1, 2, 3]), 2.5)
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(to_np(r), [1.0, 2.0, 2.5])
    u = t.clone()
    assert torch.clamp_min_(u, 0.0) is u
    assert_close(u, np.maximum(a, 0.0))
    u = t.clone()
    torch.clamp_max_(u, 0.0)
    assert_close(u, np.minimum(a, 0.0))


# ---------------------------------------------------------------- errors of the functional forms
def test_argument_type_errors():
    t = torch.tensor([1.0, 2.0])
    # torch.acosh is the method Tensor.acosh (no wrapper on the call path), so Python's own
    # descriptor message names the op and the type where PyTorch says "must be Tensor, not float".
    with pytest.raises(TypeError, match="'acosh'.*'float'"):
        torch.acosh(2.0)
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        torch.sinc(2.0)
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        torch.hypot(t, 2.0)
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        torch.fmax(t, 2.0)
    with pytest.raises(TypeError, match="must be Tensor, not int"):
        torch.ldexp(t, 2)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        torch.xlogy(2, 3)


# ---------------------------------------------------------------- in-place variants
# (every in-place form of every op, also into non-contiguous views: the op table)
def test_inplace_errors_leave_self_unchanged():
    i = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i.acosh_()
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i.hypot_(torch.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(to_np(i), [1, 2, 3])
    f = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        f.hypot_(torch.ones(2, 3))
    np.testing.assert_array_equal(to_np(f), [1.0, 2.0, 3.0])
    leaf = torch.tensor([1.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        leaf.lgamma_()
    np.testing.assert_array_equal(to_np(leaf), [1.5, 2.0])


def test_inplace_autograd_on_non_leaf():
    x = torch.tensor([1.5, 2.5, 4.0], dtype=torch.float64, requires_grad=True)
    y = x * 1
    y.lgamma_()
    y.sum().backward()
    assert_close(x.grad, _digamma_np(to_np(x)), rtol=1e-8, atol=1e-8)
    x = torch.tensor([1.5, -2.5], dtype=torch.float64, requires_grad=True)
    z = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = x * 1
    y.hypot_(z)
    y.sum().backward()
    h = np.hypot([1.5, -2.5], [1.0, 2.0])
    assert_close(x.grad, np.array([1.5, -2.5]) / h)
    assert_close(z.grad, np.array([1.0, 2.0]) / h)
    # a leaf that does not require grad takes the graph of a grad-requiring operand
    a = torch.tensor([3.0, 4.0], dtype=torch.float64)
    b = torch.tensor([4.0, 3.0], dtype=torch.float64, requires_grad=True)
    a.hypot_(b)
    a.sum().backward()
    assert_close(b.grad, np.array([4.0, 3.0]) / 5.0)


# ---------------------------------------------------------------- aliases
def test_shape_aliases():
    t = torch.arange(24.0).reshape(2, 3, 4)
    assert tuple(torch.moveaxis(t, 0, 2).shape) == (3, 4, 2)
    assert tuple(t.moveaxis(0, 2).shape) == (3, 4, 2)
    assert tuple(torch.swapdims(t, 0, 2).shape) == (4, 3, 2)
    assert tuple(t.swapdims(0, 1).shape) == (3, 2, 4)
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0])
    np.testing.assert_array_equal(to_np(torch.ger(a, b)), np.outer([1, 2], [3, 4, 5]))
    np.testing.assert_array_equal(to_np(a.ger(b)), np.outer([1, 2], [3, 4, 5]))


# ---------------------------------------------------------------- gradients
def _leaf(values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def test_gradient_values_against_formulas():
    # lgamma' = digamma, i0' = i1 (series of np.i0's derivative by central difference)
    x = _leaf([0.7, 2.5, 6.0])
    torch.lgamma(x).sum().backward()
    assert_close(x.grad, _digamma_np(to_np(x)), rtol=1e-8, atol=1e-8)
    x = _leaf([-1.0, 0.5, 3.0])
    torch.erfc(x).sum().backward()
    assert_close(x.grad, -2 / math.sqrt(math.pi) * np.exp(-to_np(x) ** 2))
    x = _leaf([0.0, 1.0])
    torch.sinc(x).sum().backward()
    assert_close(x.grad, np.array([0.0, -1.0]))


# ---------------------------------------------------------------- frexp / nextafter (exact)
def _same_bits(got, exp):
    """Equal values, equal signs of zero, NaN where NaN."""
    got, exp = np.asarray(got), np.asarray(exp)
    ok = ((got == exp) & (np.signbit(got) == np.signbit(exp))) | (np.isnan(got) & np.isnan(exp))
    assert ok.all(), (got[~ok], exp[~ok])


def _edge_values(npdt, n=400, seed=23):
    info = np.finfo(npdt)
    rng = np.random.default_rng(seed)
    span = {np.float64: 700, np.float32: 85, np.float16: 10}[npdt]
    rand = rng.standard_normal(n) * np.exp(rng.uniform(-span, span, n))
    special = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, info.max, -info.max, info.tiny, -info.tiny,
               info.smallest_subnormal, -info.smallest_subnormal, 3 * info.smallest_subnormal,
               np.inf, -np.inf, np.nan]
    with np.errstate(over="ignore"):
        return np.concatenate([np.array(special, dtype=npdt), rand.astype(npdt)])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_frexp_exact(dtype):
    x = _edge_values(np.dtype(dtype).type)
    t = torch.tensor(x.astype(np.float64)).to(dt(dtype))
    em, ee = np.frexp(x)
    for m, e in (torch.frexp(t), t.frexp()):
        assert m.dtype == t.dtype and e.dtype == torch.int32
        _same_bits(to_np(m).astype(x.dtype), em)
        np.testing.assert_array_equal(to_np(e), ee)
    r = torch.frexp(t[::3])
    np.testing.assert_array_equal(to_np(r.exponent), ee[::3])
    _same_bits(to_np(r.mantissa).astype(x.dtype), em[::3])


def test_frexp_errors_and_grad():
    with pytest.raises(RuntimeError, match="torch.frexp\\(\\) only supports floating-point dtypes"):
        torch.frexp(torch.tensor([1, 2]))
    x = _leaf([3.0, -0.3, 1000.0])
    m, e = torch.frexp(x)
    m.sum().backward()
    assert_close(x.grad, 1.0 / np.exp2(np.frexp([3.0, -0.3, 1000.0])[1]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nextafter_exact(dtype):
    npdt = np.dtype(dtype).type
    x = _edge_values(npdt)
    rng = np.random.default_rng(24)
    t = torch.tensor(x.astype(np.float64)).to(dt(dtype))
    for y in (np.full_like(x, np.inf), np.full_like(x, -np.inf), np.zeros_like(x), rng.permutation(x)):
        u = torch.tensor(y.astype(np.float64)).to(dt(dtype))
        with np.errstate(all="ignore"):
            exp = np.nextafter(x, y)
        exp = np.where(x == y, y, exp)  # C's rule: y when x == y (NumPy's float16 returns x)
        for r in (torch.nextafter(t, u), t.nextafter(u)):
            assert r.dtype == t.dtype
            _same_bits(to_np(r).astype(npdt), exp)
    v = t.clone()
    assert v.nextafter_(torch.tensor(np.inf).to(dt(dtype))) is v
    with np.errstate(all="ignore"):
        _same_bits(to_np(v).astype(npdt), np.nextafter(x, np.full_like(x, np.inf)))


def test_nextafter_promotion_and_errors():
    r = torch.nextafter(torch.tensor([1.0]), torch.tensor([2.0], dtype=torch.float64))
    assert r.dtype == torch.float64
    assert r.item() == np.nextafter(1.0, 2.0)
    with pytest.raises(NotImplementedError, match="\"nextafter_cpu\" not implemented for 'Long'"):
        torch.nextafter(torch.tensor([1, 2]), torch.tensor([2, 3]))
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        torch.nextafter(torch.tensor([1.0]), 2.0)


# ---------------------------------------------------------------- addcmul / addcdiv
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_addcmul_addcdiv(dtype):
    a, x = make((3, 1, 4), dtype, seed=25)
    b, y = make((5, 4), dtype, seed=26)
    c, z = make((4,), dtype, low=0.5, high=2.0, seed=27)
    for r in (torch.addcmul(x, y, z, value=0.5), x.addcmul(y, z, value=0.5)):
        assert r.dtype == x.dtype
        assert_close(r, a + 0.5 * b * c)
    for r in (torch.addcdiv(x, y, z, value=-2), x.addcdiv(y, z, value=-2)):
        assert_close(r, a - 2 * b / c)
    u = y.clone()
    assert u.addcmul_(y, z) is u
    assert_close(u, b + b * c)
    u = y.clone()
    u.addcdiv_(y, z, value=3)
    assert_close(u, b + 3 * b / c)


def test_addcmul_addcdiv_dtypes_and_errors():
    i = torch.tensor([1, 2])
    f = torch.tensor([1.0, 2.0])
    r = torch.addcmul(i, i, i, value=2)
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(to_np(r), [3, 10])
    assert torch.addcmul(i, f, i).dtype == torch.float32
    r = torch.addcdiv(i, f, i)
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(to_np(r), [2.0, 3.0])
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        torch.addcdiv(f, i, i)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[2, 2\]"):
        f.addcmul_(torch.ones(2, 2), f)
    np.testing.assert_array_equal(to_np(f), [1.0, 2.0])
    x, y, z = _leaf([1.0, -2.0]), _leaf([0.5, 3.0]), _leaf([2.0, -1.5])
    assert torch.autograd.gradcheck(lambda a, b, c: torch.addcdiv(a, b, c, value=0.7), (x, y, z))
    assert torch.autograd.gradcheck(lambda a, b, c: torch.addcmul(a, b, c, value=0.7), (x, y, z))


# ---------------------------------------------------------------- in-place forms of existing ops
def test_logical_bitwise_not_inplace():
    f = torch.tensor([0.0, 1.5, -2.0])
    assert f.logical_not_() is f
    np.testing.assert_array_equal(to_np(f), [1.0, 0.0, 0.0])
    i = torch.tensor([0, 5, -3], dtype=torch.int16)
    assert i.bitwise_not_() is i
    np.testing.assert_array_equal(to_np(i), np.invert(np.array([0, 5, -3], dtype=np.int16)))
    b = torch.tensor([True, False])
    b.logical_not_()
    np.testing.assert_array_equal(to_np(b), [False, True])


def test_cumsum_cumprod_inplace():
    a, t = make((3, 4), "float64", seed=28)
    u = t.clone()
    assert u.cumsum_(1) is u
    assert_close(u, np.cumsum(a, 1))
    u = t.t().clone().t()  # non-contiguous
    u.cumprod_(0)
    assert_close(u, np.cumprod(a, 0))
    i = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="Bad in-place call"):
        i.cumsum_(0, dtype=torch.float32)
    np.testing.assert_array_equal(to_np(i), [1, 2, 3])
    x = _leaf([1.5, -2.0, 0.5])
    y = x * 1
    y.cumprod_(0)
    y.sum().backward()
    v = np.array([1.5, -2.0, 0.5])
    assert_close(x.grad, np.array([1 + v[1] + v[1] * v[2], v[0] + v[0] * v[2], v[0] * v[1]]))


# ---------------------------------------------------------------- out=
def test_out_argument():
    a, t = make((2, 3), "float32", low=1.0, high=4.0, seed=29)
    o = torch.empty(2, 3)
    assert torch.acosh(t, out=o) is o
    assert_close(o, np.arccosh(a))
    o = torch.empty(0, dtype=torch.float64)  # resized, computed value cast to out's dtype
    torch.hypot(t, t, out=o)
    assert o.dtype == torch.float64 and tuple(o.shape) == (2, 3)
    assert_close(o, np.hypot(a, a), rtol=1e-6, atol=1e-6)
    o = torch.empty(2, 3, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        torch.lgamma(t, out=o)
    g = torch.tensor([1.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="functions with out=... arguments don't support automatic differentiation"):
        torch.acosh(g, out=torch.empty(2))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
        torch.erfc(t, out=[1])
    b = torch.empty(2, 3, dtype=torch.bool)
    torch.signbit(t - 2, out=b)
    np.testing.assert_array_equal(to_np(b), np.signbit(a - 2))
    with pytest.raises(RuntimeError, match="signbit does not support non-boolean outputs"):
        torch.signbit(t, out=torch.empty(2, 3))
    i = torch.empty(2, dtype=torch.int64)
    torch.gcd(torch.tensor([12, 18]), torch.tensor([8, 27]), out=i)
    np.testing.assert_array_equal(to_np(i), [4, 9])


def test_xlogy_gradient_at_zero_x_is_log_y():
    # PyTorch differentiates x * log(y) with respect to x as log(y), also where x == 0 (value 0).
    x = torch.tensor([0.0, 1.5, 0.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([2.0, 3.0, 0.5], dtype=torch.float64, requires_grad=True)
    r = torch.xlogy(x, y)
    np.testing.assert_array_equal(r.detach().numpy(), [0.0, 1.5 * np.log(3.0), 0.0])
    r.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.log([2.0, 3.0, 0.5]), rtol=1e-15)
    np.testing.assert_allclose(y.grad.numpy(), [0.0, 1.5 / 3.0, 0.0], rtol=1e-15)
