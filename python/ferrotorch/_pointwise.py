"""Elementwise math and comparisons composed in Python: the pointwise ops PyTorch has and the
Rust engine lacks (erfc, lgamma, gcd, hypot, ...) with their in-place variants,
addcmul/addcdiv, PyTorch's pure aliases (arccos, absolute, multiply, greater, ...), the
functional forms that also take a number as `input` (torch.add(2, t), pow, remainder, ...),
the torch.<name>_ in-place functions, the clamp_min/clamp_max variants, and `out=` for
round, nan_to_num, lerp and where. Composed of existing tensor ops: autograd and every device
work with no kernel of their own.

Conventions of the composites:
* float-valued ops lift int/bool inputs to the default float dtype and compute float16 /
  bfloat16 in float32 (PyTorch's "opmath"), casting the result back;
* branches are selected with ``where`` and each branch gets an input sanitised to a harmless
  value where it is not selected, so the unselected branch never produces inf/NaN whose
  zero-masked gradient would still turn into NaN (0 * inf);
* loops run a fixed, dtype-bounded number of rounds, never on a data-dependent condition.

Deviations from PyTorch (each also in its function's docstring):
* signbit(-nan) is False: a NaN's sign bit cannot be read without bit views;
* heaviside passes a gradient to `values`, nextafter's result carries none (PyTorch: the
  derivative is not implemented, raised at backward);
* gradients at singular points come from the composition: hypot at (0, 0) gives 0 (PyTorch
  NaN), lgamma/digamma at their poles give NaN (PyTorch +-inf);
* lgamma, digamma and mvlgamma compute in float64 for every float dtype, so float32 results
  can differ from PyTorch's float32 kernels in the last bit (they are closer to exact);
* erfc in float32 underflows to 0 where the result would be subnormal (x > ~9.2): the
  engine's exp flushes subnormal results.
"""
import collections
import functools
import math
import numbers

from . import _C
from ._utils import _add_out, _dtype_name, alias_method, can_cast, inplace, write_out as _write_out
from ._C import Tensor
from ._args import _INTEGRAL_OR_BOOL, _check_tensor, _not_bool, _scalar_for
from ._registry import function, method
from ._shape import _broadcast_pair

_LN2 = math.log(2.0)
_LOW = (_C.float16, _C.bfloat16)


# ---------------------------------------------------------------- argument handling
def _is_num(x):
    return isinstance(x, numbers.Number) and not isinstance(x, Tensor)


def _lift(fname, a, b):
    """PyTorch's (Tensor, Number) / (Number, Tensor) overloads: the number becomes a 0-d tensor
    of the dtype it promotes to against the tensor (a weak scalar), on the tensor's device."""
    if _is_num(a) and isinstance(b, Tensor):
        a = _C.tensor(a, dtype=_C.result_type(a, b), device=b.device)
    elif _is_num(b) and isinstance(a, Tensor):
        b = _C.tensor(b, dtype=_C.result_type(a, b), device=a.device)
    elif not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                        f"({type(a).__name__}, {type(b).__name__}), but expected one of: "
                        f"(Tensor input, Tensor other), (Number self, Tensor other), (Tensor input, Number other)")
    return a, b


def _not_implemented(name, t, dt):
    """PyTorch's error for a kernel `name` without a `dt` variant on t's device type."""
    dev = "cuda" if t.device.type == "cuda" else "cpu"
    raise NotImplementedError(f"\"{name}_{dev}\" not implemented for '{_dtype_name(dt)}'")


def _category(d):
    return 2 if d.is_floating_point else (0 if d == _C.bool else 1)


def _result_type(*tensors):
    """torch.result_type over several tensors: dimensioned operands decide unless the 0-d ones
    are of a higher category (bool < integer < float)."""
    dims = [t.dtype for t in tensors if t.dim() > 0]
    zero = [t.dtype for t in tensors if t.dim() == 0]
    d1 = functools.reduce(_C.promote_types, dims) if dims else None
    d0 = functools.reduce(_C.promote_types, zero) if zero else None
    if d1 is None or (d0 is not None and _category(d0) > _category(d1)):
        return d0
    return d1


def _float_dtype(dt):
    return dt if dt.is_floating_point else _C.get_default_dtype()


def _compute_dtype(dt, f64):
    if f64:
        return _C.float64
    return _C.float32 if dt in _LOW else dt


# ---------------------------------------------------------------- op builders
def _unary_float(name, core, f64=False):
    """torch.<name>(input): float-valued unary op; `f64` computes in float64 (lgamma/digamma,
    whose composition loses digits near their roots in float32)."""
    def f(input, *args, **kwargs):
        _check_tensor(name, "input", 1, input)
        out = _float_dtype(input.dtype)
        cd = _compute_dtype(out, f64)
        r = core(input.to(cd), *args, **kwargs)
        return r if r.dtype == out else r.to(out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = core.__doc__
    f.__wrapped__ = core  # inspect.signature shows core's parameters
    return f


def _binary(name, core, scalars=False, floating=True, float_only=False):
    """torch.<name>(input, other): a binary op on the promoted dtype (lifted to the default
    float dtype when `floating`; an integral one raises as PyTorch's kernel when `float_only`);
    `scalars`: PyTorch's Number overloads are accepted."""
    def f(input, other):
        if scalars:
            input, other = _lift(name, input, other)
        else:
            _check_tensor(name, "input", 1, input)
            _check_tensor(name, "other", 2, other)
        dt = _C.result_type(input, other)
        if float_only and not dt.is_floating_point:
            _not_implemented(name, input, dt)
        out = _float_dtype(dt) if floating else dt
        cd = _compute_dtype(out, False) if floating else out
        r = core(input.to(cd), other.to(cd))
        return r if r.dtype == out else r.to(out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = core.__doc__
    return f


def _where(c, a, b):
    return _C.where(c, a, b)


# ---------------------------------------------------------------- elementwise cores
# Each core takes tensors already in the compute dtype.

_ERFC_CF_FROM = 2.0  # below: 1 - erf(x) loses < 2e-14 relatively; above: continued fraction
_ERFC_CF_TERMS = 60


def _erfc(x):
    """Complementary error function: 1 - erf(x) for x < 2, the Laplace continued fraction
    exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) above (no cancellation)."""
    cf = x >= _ERFC_CF_FROM
    z = _where(cf, x, _ERFC_CF_FROM)
    f = z
    for k in range(_ERFC_CF_TERMS, 0, -1):  # fixed depth, evaluated from the tail
        f = z + (k / 2.0) / f
    tail = (-(z * z)).exp() / (math.sqrt(math.pi) * f)
    return _where(cf, tail, 1 - _where(cf, 0.0, x).erf())


def _logit(x, eps=None):
    """log(x / (1 - x)), with x clamped to [eps, 1 - eps] when eps is given."""
    if eps is not None:
        x = x.clamp(eps, 1 - eps)
    return (x / (1 - x)).log()


def _xlogy(x, y):
    """x * log(y), 0 where x == 0 (unless y is NaN)."""
    mask = (x == 0) & ~y.isnan()
    r = x * _where(mask, 1.0, y).log()  # log(1) = 0 there: no 0 * -inf, no NaN gradient
    if x.requires_grad:
        # PyTorch's gradient with respect to x is log(y) even where x == 0: add a term that is 0
        # in value and has that slope (for finite log(y); at y == 0 the slope is left at 0).
        ly = y.detach().log()
        r = r + _where(mask, (x - x.detach()) * _where(ly.isfinite(), ly, 0.0), 0.0)
    return r


def _hypot(a, b):
    """sqrt(a^2 + b^2) scaled by max(|a|, |b|) so it neither overflows nor underflows; inf
    if either is infinite (even with a NaN), as C's hypot."""
    aa, ba = a.abs(), b.abs()
    ge = aa >= ba
    m = _where(ge, aa, ba)
    n = _where(ge, ba, aa)
    r = n / _where(m == 0, 1.0, m)
    res = m * (1 + r * r).sqrt()
    return _where(a.isinf() | b.isinf(), float("inf"), res)


def _logaddexp_with(a, b, exp, log1p_scale):
    ge = a >= b
    e = _where(ge, b - a, a - b)  # -|a - b|, by where so a tie splits the gradient evenly
    res = _where(ge, a, b) + exp(e).log1p() * log1p_scale
    return _where(a.isinf() & (a == b), a, res)  # inf+inf and -inf+-inf: a - b would be NaN


def _logaddexp(a, b):
    """log(exp(a) + exp(b)) without overflow."""
    return _logaddexp_with(a, b, Tensor.exp, 1.0)


def _logaddexp2(a, b):
    """log2(2**a + 2**b) without overflow."""
    return _logaddexp_with(a, b, Tensor.exp2, 1.0 / _LN2)


def _sinc(x):
    """Normalised sinc: sin(pi x) / (pi x), 1 at 0."""
    zero = x == 0
    px = _where(zero, 1.0, x) * math.pi
    return _where(zero, 1.0, px.sin() / px)


def _signbit(x):
    """True where the sign bit is set. Deviation: a NaN's sign bit cannot be read without bit
    views, so signbit(-nan) is False (PyTorch: True)."""
    if x.dtype == _C.bool:
        return x != x
    if not x.is_floating_point():
        return x < 0
    return (x < 0) | ((x == 0) & ((1 / x) < 0))  # -0.0: 1/-0.0 = -inf


def _copysign(a, b):
    """|a| with the sign of b (b's sign bit, so -0.0 counts as negative)."""
    aa = a.abs()
    return _where(_signbit(b), -aa, aa)


def _fmax(a, b):
    """Elementwise maximum where a NaN loses to a number (IEEE fmax); ties split the gradient
    in halves (maximum's backward) and two NaNs give it to `input`, as PyTorch."""
    if a.dtype == _C.bool:
        return a | b
    return _where(b.isnan(), a, _where(a.isnan(), b, a.maximum(b)))


def _fmin(a, b):
    """Elementwise minimum where a NaN loses to a number (IEEE fmin); gradients as fmax's."""
    if a.dtype == _C.bool:
        return a & b
    return _where(b.isnan(), a, _where(a.isnan(), b, a.minimum(b)))


def _ldexp(x, e):
    """x * 2**e."""
    return x * (2.0 ** e)


# ---- Euclid
def _euclid_rounds(dt):
    """Rounds of Euclid's algorithm that suffice for |values| < 2**bits: Lame's bound,
    log_phi(2**bits) + 2 ~ 1.44 * bits + 2."""
    bits = {_C.uint8: 8, _C.int8: 8, _C.int16: 16, _C.int32: 32, _C.int64: 64}[dt]
    return int(1.4405 * bits) + 2


def _gcd(a, b):
    """Greatest common divisor (non-negative), vectorised Euclid with a bounded round count."""
    a, b = a.abs(), b.abs()
    rounds = _euclid_rounds(a.dtype)
    for i in range(rounds):
        nz = b != 0
        r = a.remainder(_where(nz, b, 1))
        a, b = _where(nz, b, a), _where(nz, r, 0)
        if i % 8 == 7 and not bool(b.ne(0).any()):  # cheap early exit; the bound still holds
            break
    return a


def _lcm(a, b):
    """Least common multiple, |a / gcd * b| (0 when gcd is 0)."""
    if a.dtype in (_C.int8, _C.uint8, _C.int16):
        # C's integer promotion in PyTorch's kernel: the product and its abs are taken in int,
        # then narrowed (so an overflowing lcm wraps exactly as PyTorch's does)
        return _lcm(a.to(_C.int32), b.to(_C.int32)).to(a.dtype)
    g = _gcd(a, b)
    zero = g == 0
    r = (a.div(_where(zero, 1, g), rounding_mode="trunc") * b).abs()
    return _where(zero, 0, r)


def _int_only(name, core):
    def f(a, b):
        for t in (a, b):
            if t.is_floating_point() or t.dtype == _C.bool:
                _not_implemented(name, t, t.dtype)
        return core(a, b)
    f.__doc__ = core.__doc__
    return f


# ---- gamma family (float64)
_LG_SHIFT = 10.0  # recurrence moves arguments to >= this before the asymptotic series
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Stirling series coefficients B_2k / (2k (2k-1)) for 1/z, 1/z^3, ..., 1/z^15
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)
# digamma asymptotic coefficients -B_2k / (2k) for 1/z^2, 1/z^4, ..., 1/z^16
_DIGAMMA = (-1 / 12, 1 / 120, -1 / 252, 1 / 240, -1 / 132, 691 / 32760, -1 / 12, 3617 / 8160)


def _one(like):
    """A 0-d 1 of like's dtype and device (broadcasts to any shape, unlike a [1] tensor)."""
    return _C.ones((), dtype=like.dtype, device=like.device)


def _shift_up(y, acc, step):
    """Applies the recurrence until y >= _LG_SHIFT: a fixed number of masked rounds (y >= 0.5
    here, so 10 rounds always suffice)."""
    for _ in range(int(_LG_SHIFT)):
        m = y < _LG_SHIFT
        acc = step(acc, y, m)
        y = _where(m, y + 1, y)
    return y, acc


def _poly(w, coeffs):
    """sum_k coeffs[k] * w**k (Horner), w a tensor."""
    s = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        s = s * w + c
    return s


def _sinpi_abs(x):
    """|sin(pi x)| with x reduced mod 1 first (exact; |sin| has period 1), so large |x|
    keeps its digits and integers give exactly 0."""
    r = x - x.round()
    return (r * math.pi).sin().abs()


def _lgamma_pos(y):
    """log Gamma(y) for y >= 0.5: shift to z >= 10, Stirling series there."""
    z, prod = _shift_up(y, _one(y),
                        lambda p, y, m: _where(m, p * y, p))
    w = 1 / z
    series = w * _poly(w * w, _STIRLING)
    return (z - 0.5) * z.log() - z + _HALF_LOG_2PI + series - prod.log()


def _lgamma(x):
    """log|Gamma(x)|: Stirling series after the recurrence for x >= 0.5, reflection
    log(pi / |sin(pi x)|) - lgamma(1 - x) below; inf at the poles and at +-inf."""
    neg = x < 0.5
    y = _where(neg, 1 - x, x)
    big = y > 1e300  # (z - 0.5) * log z - z is inf - inf at inf
    lg = _lgamma_pos(_where(big, 1.0, y))
    lg = _where(big, float("inf"), lg)
    refl = (math.pi / _sinpi_abs(_where(neg, x, 0.25))).log() - lg
    res = _where(neg, refl, lg)
    # exact roots at 1 and 2 (the series leaves ~1e-15 there); res - res keeps the gradient
    res = _where((x == 1) | (x == 2), res - res.detach(), res)
    return _where(x == float("-inf"), float("inf"), res)


def _digamma_pos(y):
    z, acc = _shift_up(y, _one(y) * 0,
                       lambda s, y, m: _where(m, s + 1 / y, s))
    w = 1 / (z * z)
    return z.log() - 0.5 / z + w * _poly(w, _DIGAMMA) - acc


def _digamma(x):
    """Digamma psi(x): recurrence + asymptotic series for x >= 0.5, reflection
    psi(1 - x) - pi / tan(pi x) below. psi(0) = -inf and psi(-n) = NaN, as PyTorch."""
    neg = x < 0.5
    y = _where(neg, 1 - x, x)
    big = y > 1e300
    d = _digamma_pos(_where(big, 1.0, y))
    d = _where(big, float("inf"), d)
    xr = _where(neg, x, 0.25)
    r = xr - xr.round()  # tan has period pi: reduce exactly
    refl = d - math.pi / (r * math.pi).tan()
    res = _where(neg, refl, d)
    res = _where(x == 0, _where(_signbit(x), float("inf"), float("-inf")), res)  # copysign(inf, -x)
    return _where((x < 0) & (x == x.floor()), float("nan"), res)


# ---- Bessel i0
_I0_SERIES_TO = 30.0
_I0_SERIES_TERMS = 50   # (x/2)^(2k)/(k!)^2 at x = 30, k = 50 is < 1e-18 of the sum
_I0_ASYM_TERMS = 20


def _i0(x):
    """Modified Bessel function of the first kind, order 0: the power series
    sum (x/2)^(2k) / (k!)^2 for |x| <= 30, the asymptotic expansion
    e^x / sqrt(2 pi x) * sum ((2k-1)!!)^2 / (k! (8x)^k) above. i0(+-inf) is NaN, as PyTorch."""
    a = _where(x < 0, -x, x)
    small = a <= _I0_SERIES_TO
    s_in = _where(small, a, 0.0)
    q = s_in * s_in * 0.25
    term = s = _one(q)
    for k in range(1, _I0_SERIES_TERMS + 1):
        term = term * q / (k * k)
        s = s + term
    inf = a == float("inf")
    b = _where(small | inf, 2 * _I0_SERIES_TO, a)
    t = sa = _one(b)
    for k in range(1, _I0_ASYM_TERMS + 1):
        t = t * ((2 * k - 1) ** 2 / (8.0 * k)) / b
        sa = sa + t
    large = (b - 0.5 * (2 * math.pi * b).log()).exp() * sa  # e^x folded in: finite up to ~713
    # +-inf gives NaN, as PyTorch's Cephes-based kernel does (exp(inf) / sqrt(inf))
    return _where(small, s, _where(inf, float("nan"), large))


def _mvlgamma(x, p):
    """Multivariate log-gamma of order p: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi) (computed
    in float64). As PyTorch 2.x, no domain check on x."""
    p = int(p)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    # one vectorised lgamma over a trailing axis of p offsets (no Python loop over p: a huge
    # p fails in arange's allocation like any oversized tensor)
    j = _C.arange(p, dtype=x.dtype, device=x.device) / 2.0
    r = _lgamma(x.unsqueeze(-1) - j).sum(-1)
    return r + p * (p - 1) / 4.0 * math.log(math.pi)


def _float_power(a, b):
    """a ** b computed in float64 (PyTorch: float_power always returns float64)."""
    return a ** b


# ---- frexp / nextafter: exact, from exp2/log2 of integers (exact) and power-of-two scalings
# output dtype -> (mantissa digits, exponent of the smallest subnormal, largest finite)
_FLOAT_BITS = {_C.float64: (53, -1074, 1.7976931348623157e308), _C.float32: (24, -149, 3.4028234663852886e38),
               _C.float16: (11, -24, 65504.0), _C.bfloat16: (8, -133, 3.3895313892515355e38)}
_frexp_t = collections.namedtuple("frexp", ["mantissa", "exponent"])


def _frexp_parts(x):
    """(m, e) with |x| = m * 2**e, m in [0.5, 1), for finite nonzero x (other entries hold
    junk: callers select them away). e is a float tensor, no gradient."""
    a = x.detach().abs()
    a = _where(a.isfinite() & (a != 0), a, 1.0)
    tiny = a < 2.0 ** -100  # subnormals: scale up exactly first (log2 may flush them)
    a = _where(tiny, a * 2.0 ** 64, a)
    e = a.log2().floor() + 1  # off by at most one: fixed below
    e1 = (e / 2).floor()
    m = a / e1.exp2() / (e - e1).exp2()  # two halves: 2**e alone overflows at e = 1024
    hi, lo = m >= 1, m < 0.5
    m = _where(hi, m * 0.5, _where(lo, m * 2, m))
    e = e + hi.to(e.dtype) - lo.to(e.dtype) - _where(tiny, 64.0, 0.0)
    return m, e


def frexp(input):
    """Decomposes input into mantissa in [0.5, 1) (input's sign and dtype) and int32 exponent,
    input = mantissa * 2**exponent; 0, inf and NaN give (input, 0). Exact."""
    _check_tensor("frexp", "input", 1, input)
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    x = input.to(_compute_dtype(input.dtype, False))
    _, e = _frexp_parts(x)
    ok = x.isfinite() & (x != 0)
    e = _where(ok, e, 0.0)
    # x / 2**e rather than the detached m: exact, and the gradient is PyTorch's grad / 2**e
    e1 = (e / 2).floor()
    m = _where(ok, x / e1.exp2() / (e - e1).exp2(), x)
    return _frexp_t(m.to(input.dtype), e.to(_C.int32))


def nextafter(input, other):
    """The next representable value after input towards other (in their promoted dtype).
    Exact. Deviation: the result carries no gradient (PyTorch: the derivative is not
    implemented, raised at backward)."""
    _check_tensor("nextafter", "input", 1, input)
    _check_tensor("nextafter", "other", 2, other)
    out = _C.result_type(input, other)
    if not out.is_floating_point:
        _not_implemented("nextafter", input, out)
    digits, sub, big = _FLOAT_BITS[out]
    cd = _compute_dtype(out, False)
    x, y = input.detach().to(cd), other.detach().to(cd)
    m, e = _frexp_parts(x)
    up, down = y > x, y < x
    away = (up & (x > 0)) | (down & (x < 0))  # moving away from zero: the spacing above |x|
    exp = e - digits
    exp = _where(~away & (m == 0.5), exp - 1, exp)  # below a power of two the spacing halves
    step = exp.clamp(min=float(sub)).exp2()
    r = _where(up, x + step, x - step)
    r = _where(r == 0, x * 0, r)  # -tiny towards zero is -0.0 (x + -x would give +0.0)
    tiny = _C.tensor(2.0 ** sub, dtype=cd, device=x.device)  # (two Python scalars: float32)
    r = _where(x == 0, _where(up, tiny, -tiny), r)
    big = _C.tensor(big, dtype=cd, device=x.device)
    r = _where(x.isinf(), _where(x > 0, big, -big), r)
    r = _where(x == y, y, r)
    r = _where(x.isnan() | y.isnan(), float("nan"), r)
    return r.to(out)


def _cuminplace(name):
    def f_(self, dim, *, dtype=None):
        if dtype is not None and dtype != self.dtype:
            from ._random import _c_type_name
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_c_type_name(self.dtype)} and output "
                               f"tensor dtype {_c_type_name(dtype)} should match")
        return inplace(name, getattr(Tensor, name))(self, dim)
    f_.__name__ = f_.__qualname__ = name + "_"
    f_.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return f_


# ---------------------------------------------------------------- public functions
def positive(input):
    """Returns input itself (PyTorch's unary plus); a bool tensor raises as PyTorch."""
    _check_tensor("positive", "input", 1, input)
    if input.dtype == _C.bool:
        raise NotImplementedError("The `+` operator, on a bool tensor is not supported.")
    return input


def signbit(input):
    _check_tensor("signbit", "input", 1, input)
    return _signbit(input)


signbit.__doc__ = _signbit.__doc__


def copysign(input, other):
    """|input| with the sign of other (a tensor or a number); float result."""
    _check_tensor("copysign", "input", 1, input)
    if _is_num(other):
        neg = math.copysign(1.0, other) < 0
        out = _float_dtype(_C.result_type(input, other))
        a = input.to(_compute_dtype(out, False)).abs()
        return (-a if neg else a).to(out)
    return _copysign_tensor(input, other)


_copysign_tensor = _binary("copysign", _copysign)


def float_power(input, exponent):
    """input ** exponent in float64 (either may be a number)."""
    if _is_num(input) and isinstance(exponent, Tensor):
        return _C.tensor(float(input), dtype=_C.float64, device=exponent.device) ** exponent.to(_C.float64)
    _check_tensor("float_power", "input", 1, input)
    if _is_num(exponent):
        return input.to(_C.float64) ** float(exponent)
    _check_tensor("float_power", "exponent", 2, exponent)
    return input.to(_C.float64) ** exponent.to(_C.float64)


def _float_power_(self, exponent):
    if self.dtype != _C.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_dtype_name(self.dtype)} but the "
                           f"operation's result requires dtype Double")
    return inplace("float_power", _FUNCS["float_power"])(self, exponent)


def heaviside(input, values):
    """0 where input < 0, values where input == 0, 1 where input > 0 (NaN gives 0).
    Deviation: a gradient flows to `values` (PyTorch: the derivative is not implemented)."""
    _check_tensor("heaviside", "input", 1, input)
    _check_tensor("heaviside", "values", 2, values)
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input.dtype == _C.bool:
        return _where(input, input, values)
    return _where(input == 0, values, (input > 0).to(input.dtype))


_ldexp.__doc__ = "input * 2**other, float result."
_xlogy.__doc__ = "input * log(other), 0 where input == 0 (unless other is NaN); either may be a number."
ldexp = _binary("ldexp", _ldexp)
xlogy = _binary("xlogy", _xlogy, scalars=True)
logit = _unary_float("logit", _logit)
mvlgamma = _unary_float("mvlgamma", _mvlgamma, f64=True)


def clamp_min(input, min):
    """input clamped below at min."""
    _check_tensor("clamp_min", "input", 1, input)
    return input.clamp(min=min)


def clamp_max(input, max):
    """input clamped above at max."""
    _check_tensor("clamp_max", "input", 1, input)
    return input.clamp(max=max)


# name -> the plain function behind torch.<name> (which adds `out=`) and Tensor.<name> (and
# Tensor.<name>_ where listed in `_inplace` below); declared at the end of the module.
_FUNCS = {
    "erfc": _unary_float("erfc", _erfc),
    "sinc": _unary_float("sinc", _sinc),
    "i0": _unary_float("i0", _i0),
    "lgamma": _unary_float("lgamma", _lgamma, f64=True),
    "digamma": _unary_float("digamma", _digamma, f64=True),
    "logit": logit,
    "mvlgamma": mvlgamma,
    "xlogy": xlogy,
    "hypot": _binary("hypot", _hypot, float_only=True),
    "logaddexp": _binary("logaddexp", _logaddexp, float_only=True),
    "logaddexp2": _binary("logaddexp2", _logaddexp2, float_only=True),
    "copysign": copysign,
    "fmax": _binary("fmax", _fmax, floating=False),
    "fmin": _binary("fmin", _fmin, floating=False),
    "ldexp": ldexp,
    "heaviside": heaviside,
    "gcd": _binary("gcd", _int_only("gcd", _gcd), floating=False),
    "lcm": _binary("lcm", _int_only("lcm", _lcm), floating=False),
    "signbit": signbit,
    "positive": positive,
    "float_power": float_power,
    "clamp_min": clamp_min,
    "clamp_max": clamp_max,
    "frexp": frexp,
    "nextafter": nextafter,
}


# deg2rad / rad2deg on half types: PyTorch multiplies in the half dtype itself.
def _scale(name, c):
    def f(input):
        _check_tensor(name, "input", 1, input)
        return (input if input.is_floating_point() else input.to(_C.get_default_dtype())) * c
    f.__name__ = name
    f.__doc__ = f"{name}: multiplies by {c!r}."
    return f


_FUNCS["deg2rad"] = _scale("deg2rad", math.pi / 180.0)
_FUNCS["rad2deg"] = _scale("rad2deg", 180.0 / math.pi)


def _with_out(name, fn):
    """torch.<name>(..., out=t): the result written into t (resized when its shape differs,
    as the package's other out= functions do), with PyTorch's checks."""
    def g(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if _C.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad
                                        for a in (out,) + args + tuple(kwargs.values())):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                               f"differentiation, but one of the arguments requires grad.")
        r = fn(*args, **kwargs)
        if r.dtype == _C.bool and out.dtype != _C.bool:
            raise RuntimeError(f"{name} does not support non-boolean outputs.")
        if not can_cast(r.dtype, out.dtype):
            raise RuntimeError(f"result type {_dtype_name(r.dtype)} can't be cast to the desired output type "
                               f"{_dtype_name(out.dtype)}")
        return _write_out(r, out)
    g.__name__ = g.__qualname__ = name
    g.__doc__ = fn.__doc__
    return g


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    m.__name__ = m.__qualname__ = getattr(fn, "__name__", "method")
    m.__doc__ = fn.__doc__
    m.__wrapped__ = fn  # inspect.signature shows fn's parameters (checked against _C.pyi)
    return m


# ---- the functional forms that take a number as `input` too (torch.add(2, t)) ------------
def _number_first(name, two_numbers=True):
    """torch.add(2, t), torch.pow(2, t): PyTorch's functional forms also take a number as
    `input`. The number becomes a 0-d tensor of the dtype it would promote to against
    `other` (so add(2, uint8_tensor) stays uint8, as a Python scalar does); tensor-first
    calls go straight to the method. Two numbers give a 0-d tensor where PyTorch allows
    them (add(-1, 2)) and its TypeError where it does not (pow, remainder: never Python's
    own operator, which for pow(2**63, 2**40) would compute for ever)."""
    meth = getattr(Tensor, name)

    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            if not isinstance(input, numbers.Number):
                # a list or tuple is not lifted (PyTorch: TypeError), so a wrong argument is not hidden
                raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
            other = args[0] if args else kwargs.get("other", kwargs.get("exponent"))
            if isinstance(other, Tensor) and name == "pow" and not kwargs:
                return other.__rpow__(input)  # number ** tensor: ATen's pow.Scalar (PowBackward2)
            if isinstance(other, Tensor):
                input = _C.tensor(input, dtype=_C.result_type(input, other), device=other.device)
            elif two_numbers:
                input = _C.tensor(input)
            else:
                raise TypeError(f"{name}() received an invalid combination of arguments - got "
                                f"({type(input).__name__}, {type(other).__name__}), but expected one of: "
                                f"(Tensor input, Tensor other), (Number self, Tensor other), (Tensor input, Number other)")
        return meth(input, *args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = meth.__doc__
    return f


# ---- add-multiply -------------------------------------------------------------------------
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """torch.addcmul: input + value * tensor1 * tensor2 (dtypes promoted; value cast to the
    result dtype, so it truncates for integers as in PyTorch)."""
    for k, (n, t) in enumerate((("input", input), ("tensor1", tensor1), ("tensor2", tensor2))):
        _check_tensor("addcmul", n, k + 1, t)
    _not_bool("addcmul_cpu_out", input, tensor1, tensor2)
    dtype = _C.promote_types(_C.promote_types(input.dtype, tensor1.dtype), tensor2.dtype)
    _broadcast_pair(_broadcast_pair(input.shape, tensor1.shape), tensor2.shape)
    return _write_out(input + _scalar_for(value, dtype) * tensor1 * tensor2, out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """torch.addcdiv: input + value * tensor1 / tensor2 (true division; two integer
    operands are PyTorch's error)."""
    for k, (n, t) in enumerate((("input", input), ("tensor1", tensor1), ("tensor2", tensor2))):
        _check_tensor("addcdiv", n, k + 1, t)
    if tensor1.dtype in _INTEGRAL_OR_BOOL and tensor2.dtype in _INTEGRAL_OR_BOOL:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform "
            "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
            "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    _broadcast_pair(_broadcast_pair(input.shape, tensor1.shape), tensor2.shape)
    return _write_out(input + value * tensor1 / tensor2, out)


# ---- clamp_min / clamp_max variants --------------------------------------------------------
def _clamp_max(self, max):
    return self.clamp(max=max)


def _clamp_max_(self, max):
    return self.clamp_(max=max)


def _clamp_min_(self, min):
    return self.clamp_(min=min)


def clamp_min_(input, min):
    """torch.clamp_min_: Tensor.clamp_(min=min)."""
    return input.clamp_(min=min)


def clamp_max_(input, max):
    """torch.clamp_max_: Tensor.clamp_(max=max)."""
    return input.clamp_(max=max)


# ---- declarations (ferrotorch._registry) ---------------------------------------------------
# The module-level names below are the torch.* objects (ferrotorch/__init__.py imports them);
# `_FUNCS` keeps the plain functions they wrap, which the Tensor methods call.
def _torch(name):
    """torch.<name>: _FUNCS[name] with `out=`."""
    return function(name, _with_out(name, _FUNCS[name]))


erfc = _torch("erfc")
sinc = _torch("sinc")
i0 = _torch("i0")
lgamma = _torch("lgamma")
digamma = _torch("digamma")
logit = _torch("logit")
mvlgamma = _torch("mvlgamma")
xlogy = _torch("xlogy")
hypot = _torch("hypot")
logaddexp = _torch("logaddexp")
logaddexp2 = _torch("logaddexp2")
copysign = _torch("copysign")
fmax = _torch("fmax")
fmin = _torch("fmin")
ldexp = _torch("ldexp")
heaviside = _torch("heaviside")
gcd = _torch("gcd")
lcm = _torch("lcm")
signbit = _torch("signbit")
float_power = _torch("float_power")
clamp_min = _torch("clamp_min")
clamp_max = _torch("clamp_max")
nextafter = _torch("nextafter")
deg2rad = _torch("deg2rad")
rad2deg = _torch("rad2deg")
function("positive", positive)
function("frexp", frexp)

# Tensor.<name> for each of _FUNCS (clamp_min is a binding, clamp_max is _clamp_max)
_methods = {name: _method(fn) for name, fn in _FUNCS.items() if name not in ("clamp_min", "clamp_max")}
for _name, _fn in _methods.items():
    method(_name, _fn)
method("clamp_max", _clamp_max)
method("clamp_max_", _clamp_max_)
method("clamp_min_", _clamp_min_)

# in-place Tensor methods PyTorch has (signbit_, fmax_, fmin_, logaddexp_, positive_ do not exist)
_inplace = {name: inplace(name, _FUNCS[name]) for name in (
    "erfc sinc i0 lgamma digamma deg2rad rad2deg logit mvlgamma xlogy hypot copysign ldexp "
    "heaviside gcd lcm nextafter").split()}
for _name, _fn in _inplace.items():
    method(_name + "_", _fn)
method("float_power_", _float_power_)
for _name in ("logical_not", "bitwise_not"):
    method(_name + "_", inplace(_name, getattr(Tensor, _name)))

# ... of which torch.* in-place functions also exist (the methods themselves)
erfc_ = function("erfc_", _inplace["erfc"])
sinc_ = function("sinc_", _inplace["sinc"])
i0_ = function("i0_", _inplace["i0"])
deg2rad_ = function("deg2rad_", _inplace["deg2rad"])
rad2deg_ = function("rad2deg_", _inplace["rad2deg"])
logit_ = function("logit_", _inplace["logit"])
xlogy_ = function("xlogy_", _inplace["xlogy"])
ldexp_ = function("ldexp_", _inplace["ldexp"])
gcd_ = function("gcd_", _inplace["gcd"])
lcm_ = function("lcm_", _inplace["lcm"])
function("clamp_min_", clamp_min_)
function("clamp_max_", clamp_max_)

# torch.<name>, Tensor.<name> and Tensor.<name>_ (already with out=)
for _f in (addcmul, addcdiv):
    function(_f.__name__, _f)
    method(_f.__name__, _f)
    method(_f.__name__ + "_", inplace(_f.__name__, _f))
del _f

# functional forms that also take a number as `input` (replacing the bindings' function form).
# `pow` here, and `round` below, are the torch functions in the whole module, also inside the
# functions above when they run: none may call the builtins.
add = function("add", _number_first("add"), replace=True)
sub = function("sub", _number_first("sub"), replace=True)
mul = function("mul", _number_first("mul"), replace=True)
div = function("div", _number_first("div"), replace=True)
floor_divide = function("floor_divide", _number_first("floor_divide"), replace=True)
bitwise_and = function("bitwise_and", _number_first("bitwise_and"), replace=True)
bitwise_or = function("bitwise_or", _number_first("bitwise_or"), replace=True)
bitwise_xor = function("bitwise_xor", _number_first("bitwise_xor"), replace=True)
pow = function("pow", _number_first("pow", two_numbers=False), replace=True)
remainder = function("remainder", _number_first("remainder", two_numbers=False), replace=True)

# pure aliases: torch.<alias> is the target's torch function
arccos = function("arccos", Tensor.acos)
arcsin = function("arcsin", Tensor.asin)
arctan = function("arctan", Tensor.atan)
arccosh = function("arccosh", Tensor.acosh)
arcsinh = function("arcsinh", Tensor.asinh)
arctanh = function("arctanh", Tensor.atanh)
arctan2 = function("arctan2", Tensor.atan2)
fix = function("fix", Tensor.trunc)
sgn = function("sgn", Tensor.sign)
absolute = function("absolute", Tensor.abs)
negative = function("negative", Tensor.neg)
multiply = function("multiply", mul)
subtract = function("subtract", sub)
divide = function("divide", div)
true_divide = function("true_divide", div)
greater = function("greater", Tensor.gt)
greater_equal = function("greater_equal", Tensor.ge)
less = function("less", Tensor.lt)
less_equal = function("less_equal", Tensor.le)
not_equal = function("not_equal", Tensor.ne)
# ... and Tensor.<alias> / Tensor.<alias>_ the target's methods (the same functions where the
# target is composed here, a forwarding alias_method for a binding)
_ALIASES = {
    "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arccosh": "acosh", "arcsinh": "asinh",
    "arctanh": "atanh", "arctan2": "atan2", "fix": "trunc", "sgn": "sign", "absolute": "abs",
    "negative": "neg", "multiply": "mul", "subtract": "sub", "divide": "div", "true_divide": "div",
    "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne",
}
_alias_inplace = {}
for _alias, _target in _ALIASES.items():
    method(_alias, _methods[_target] if _target in _methods else alias_method(_alias, getattr(Tensor, _target)))
    _alias_inplace[_alias] = method(_alias + "_", _inplace[_target] if _target in _inplace
                                    else alias_method(_alias + "_", getattr(Tensor, _target + "_")))
del _name, _fn, _alias, _target

# torch.<name>_ functions PyTorch has for in-place Tensor methods: the methods themselves (those of
# the engine's registry ops are bound by __init__'s generated block)
round_ = function("round_", Tensor.round_)
clamp_ = function("clamp_", Tensor.clamp_)
clip_ = function("clip_", Tensor.clip_)
nan_to_num_ = function("nan_to_num_", Tensor.nan_to_num_)
zero_ = function("zero_", Tensor.zero_)
fill_ = function("fill_", Tensor.fill_)
detach_ = function("detach_", Tensor.detach_)
fix_ = function("fix_", _alias_inplace["fix"])
negative_ = function("negative_", _alias_inplace["negative"])
arccos_ = function("arccos_", _alias_inplace["arccos"])
arcsin_ = function("arcsin_", _alias_inplace["arcsin"])
arctan_ = function("arctan_", _alias_inplace["arctan"])
arccosh_ = function("arccosh_", _alias_inplace["arccosh"])
arcsinh_ = function("arcsinh_", _alias_inplace["arcsinh"])
arctanh_ = function("arctanh_", _alias_inplace["arctanh"])

# `out=` for the bindings' function forms whose kernels don't take it
round = function("round", _add_out(Tensor.round), replace=True)
nan_to_num = function("nan_to_num", _add_out(Tensor.nan_to_num), replace=True)
lerp = function("lerp", _add_out(Tensor.lerp), replace=True)
where = function("where", _add_out(_C.where), replace=True)
