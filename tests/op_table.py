"""The elementwise ops, one row each: the single table tests/device/test_op_table.py runs on every device.

Adding an elementwise op = its Rust registry row, its CUDA row, and ONE row here.

A row (`OpCase`) says what the op is and how PyTorch defines it, never how the engine computes it:
  * `op`: the torch name (`torch.<op>`, `Tensor.<op>`; `torch.nn.functional.<op>` with `functional=True`);
    the row's key in `OPS` is the op's name, or a variant such as "gelu_tanh" when `kwargs`/`args` fix
    arguments;
  * `ref`: the reference, NumPy in float64 (exact int64 for integer results), elementwise over the inputs;
  * `domain`: one `Dom` per tensor input: where float inputs are drawn (integers: the integers inside it);
    `grad_domain` where the gradient is checked, when narrower;
  * `rule`: the result dtype for each input category, see RULES (tensor inputs are first promoted by
    PyTorch's table, `_helpers.PROMOTE`; Python numbers take part as weak scalars);
  * `forms`: the call forms that exist: "fn" torch.<op>(x), "method" x.<op>(), "inplace" x.<op>_(),
    "torch_inplace" torch.<op>_(x), "out" torch.<op>(x, out=o); functional rows: "fn" F.<op>(x) and
    "inplace" F.<op>(x, inplace=True);
  * `scalars` (binary): "r" a Python number is accepted as the second operand, "lr" as either;
  * `grad`: differentiable in floating dtypes; the gradient reference is the central difference (8th order,
    `central_difference`) of `ref` in float64, or `dref` (analytic NumPy derivatives) when given;
  * `special`: special-value expectations: True compares `ref` on SPECIAL (±0, ±inf, NaN, huge, tiny),
    or (inputs, expected) pairs written by hand;
  * `alias_of`: the row key of the op this name aliases: results must be identical;
  * `pending`: checks of PyTorch behaviour the engine does not have yet ("forward": values, forms and
    dtypes, "raises": an operand dtype is refused, "out_cast": an out= the result cannot be cast to is
    refused, "grad" / "grad_other": the gradient of the first / second operand; "cuda:<check>" on one device
    only, "<check>@bool" for one input dtype only), each with the reason: the check still runs and must fail, the test is reported xfailed, and fails
    once the check passes (then the entry goes).
"""
import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from _helpers import PROMOTE


@dataclass(frozen=True)
class Dom:
    """Float inputs drawn uniformly in [lo, hi], at least 0.15 away from each point of `avoid`; with signed=True
    the magnitude is drawn there and the sign is random (operands bounded away from zero: divisors). Integer
    dtypes draw the integers in `ints` (default: those in [lo, hi] clipped to [-10, 10], or [0, 1] when none
    lies inside), uint8 only the non-negative ones, never a point of `avoid`; with integral=True float dtypes
    draw integer values too."""
    lo: float = -3.0
    hi: float = 3.0
    signed: bool = False
    avoid: tuple = ()
    ints: Optional[tuple] = None
    integral: bool = False  # float inputs rounded to integers too


FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
REAL = Dom()
POS = Dom(0.1, 3.0)
NONZERO = Dom(0.5, 3.0, signed=True)

# input category -> outcome: "same" keeps the promoted input dtype, "float" gives it when floating and the
# default dtype (float32) otherwise, a dtype name gives that dtype, None raises (RuntimeError or
# NotImplementedError, PyTorch's "not implemented for 'Long'")
RULES = {
    "float": {"bool": "float", "int": "float", "float": "same"},           # exp, div, atan2: ints promote
    "float_nobool": {"bool": None, "int": "float", "float": "same"},       # mvlgamma
    "same": {"bool": None, "int": "same", "float": "same"},                # abs, floor, fmod: keeps the dtype
    "same_bool": {"bool": "same", "int": "same", "float": "same"},         # sign, add, maximum: bool too
    "square": {"bool": "int64", "int": "same", "float": "same"},
    "float_only": {"bool": None, "int": None, "float": "same"},            # frac, hypot, the activations
    "predicate": {"bool": "bool", "int": "bool", "float": "bool"},         # comparisons, isnan, logical_*
    "integral": {"bool": "same", "int": "same", "float": None},            # bitwise_*
    "int_only": {"bool": None, "int": "same", "float": None},              # gcd, lcm
    "float64": {"bool": "float64", "int": "float64", "float": "float64"},  # float_power
}

UNARY_FORMS = "fn method inplace torch_inplace out"
BINARY_FORMS = "fn method inplace out"


@dataclass(frozen=True)
class OpCase:
    op: str
    ref: Callable
    arity: int = 1
    domain: tuple = (REAL,)
    rule: str = "float"
    forms: str = UNARY_FORMS
    scalars: str = ""
    grad: bool = True
    grad_domain: Optional[tuple] = None
    dref: Optional[tuple] = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    functional: bool = False
    special: object = False
    alias_of: Optional[str] = None
    refuses: Optional[Callable] = None  # refuses(*operands): PyTorch raises although the rule gives a dtype
    ties: bool = False        # binary: some equal elements in the two operands (comparisons)
    tol: Optional[dict] = None  # dtype name -> (rtol, atol), replacing _helpers.TOL for the forward
    pending: dict = field(default_factory=dict)  # check ("[device:]raises", "out_cast", "grad"...) -> why

    @property
    def form_set(self):
        return frozenset(self.forms.split())


# --------------------------------------------------------------------------- references

def _vec(f):
    """A scalar math function as a float64 NumPy ufunc-like."""
    u = np.vectorize(f, otypes=[np.float64])

    def g(*a):
        a = [np.asarray(x, dtype=np.float64) for x in a]
        return u(*a) if np.broadcast(*a).size else np.zeros(np.broadcast(*a).shape)
    return g


def _erfinv_scalar(x):
    if math.isnan(x) or abs(x) > 1:
        return math.nan
    if abs(x) == 1:
        return math.copysign(math.inf, x)
    # Newton from 0: erf is concave on y > 0, so the iteration increases monotonically to the root
    s, x = (1.0, x) if x >= 0 else (-1.0, -x)
    y = 0.0
    for _ in range(100):
        step = (math.erf(y) - x) / (2 / math.sqrt(math.pi) * math.exp(-y * y))
        y -= step
        if abs(step) < 1e-17 * max(1.0, y):
            break
    return s * y


def _lgamma_scalar(x):
    try:
        return math.lgamma(x)
    except ValueError:  # the poles 0, -1, -2, ...
        return math.inf


def _digamma_scalar(x, h=1e-3):
    """psi(x) by an 8th-order central difference of math.lgamma (accurate to ~1e-11 at least 0.1 away from the
    poles): independent of the series under test."""
    c = (4 / 5, -1 / 5, 4 / 105, -1 / 280)
    return sum(ck * (math.lgamma(x + (k + 1) * h) - math.lgamma(x - (k + 1) * h)) for k, ck in enumerate(c)) / h


def _trigamma_scalar(x):
    """psi'(x) = sum 1/(x+k)^2: the terms up to x+k >= 10, then the asymptotic series of the rest."""
    n = max(0, math.ceil(10 - x))
    z = x + n
    tail = 1 / z + 1 / (2 * z ** 2) + 1 / (6 * z ** 3) - 1 / (30 * z ** 5) + 1 / (42 * z ** 7) - 1 / (30 * z ** 9)
    return sum(1 / (x + k) ** 2 for k in range(n)) + tail


np_erf = _vec(math.erf)
np_erfc = _vec(math.erfc)
np_erfinv = _vec(_erfinv_scalar)
np_lgamma = _vec(_lgamma_scalar)
np_digamma = _vec(_digamma_scalar)
np_trigamma = _vec(_trigamma_scalar)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-np.asarray(a, dtype=np.float64)))


def np_softplus(a, beta=1.0, threshold=20.0):
    a = np.asarray(a, dtype=np.float64)
    return np.where(a * beta > threshold, a, np.log1p(np.exp(np.minimum(a * beta, threshold))) / beta)


def np_xlogy(x, y):
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))


def np_mvlgamma(a, p):
    return sum(np_lgamma(np.asarray(a, dtype=np.float64) - j / 2.0) for j in range(p)) + p * (p - 1) / 4 * math.log(
        math.pi)


def np_logit(p, eps=None):
    p = np.asarray(p, dtype=np.float64)
    if eps is not None:
        p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def np_heaviside(x, v):
    x, v = np.broadcast_arrays(x, v)
    return np.where(x == 0, v, (x > 0).astype(v.dtype if v.dtype != bool else np.int64))


def _f64(f):
    """A NumPy function applied to float64 copies of the inputs (so integer inputs give float results)."""
    return lambda *a: f(*[np.asarray(x, dtype=np.float64) for x in a])


# The special values every unary row with special=True is checked on (float32 and float64): the reference
# must overflow/underflow as the tested dtype does, so it is rounded to the dtype before comparing.
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e-30,
                    -1e-30, 1e30, -1e30, 88.0, -88.0, 100.0, -100.0])
_INF, _NAN = math.inf, math.nan


def _u(op, ref, domain=REAL, rule="float", forms=UNARY_FORMS, **kw):
    return OpCase(op, ref, 1, (domain,), rule, forms, **kw)


def _b(op, ref, d1=REAL, d2=REAL, rule="same_bool", forms=BINARY_FORMS, **kw):
    return OpCase(op, ref, 2, (d1, d2), rule, forms, **kw)


_NO_TI = "fn method inplace out"   # no torch.<op>_
_F_INPLACE = "fn inplace"          # functional with inplace=True
TRIG = Dom(-1.4, 1.4)
UNIT = Dom(-0.95, 0.95, ints=(-1, 1))
_ROUNDING = Dom(-2.9, 2.9)
_POLES = (0.0, -1.0, -2.0, -3.0, -4.0, -5.0)
_BITS = Dom(-50.0, 100.0, ints=(-50, 100))
_SHIFT = Dom(0.0, 6.0, ints=(0, 6))

# pending checks shared by several rows
_BOOL_SHIFT = "bool inputs: PyTorch raises (\"lshift_cpu\" not implemented for 'Bool'), the engine shifts them"
_BOOL_GIVES_FLOAT = "bool inputs: PyTorch raises (not implemented for 'Bool'), the engine computes in float32"
_DIV_MODE_GRAD = {k: "div with a rounding_mode records no autograd node; PyTorch's gives zero gradients"
                  for k in ("grad", "grad_other")}


def _any_bool(*operands):  # sub: "Subtraction, the `-` operator, with a bool tensor is not supported"
    return any(o == "bool" or isinstance(o, bool) for o in operands)


def _mixed(*operands):  # heaviside: "not yet implemented for tensors with different dtypes"
    return len({o for o in operands if isinstance(o, str)}) > 1


def _bool_exponent(x, other):  # ldexp: a floating input with a bool exponent ("ldexp_cpu_exp" not implemented)
    return other == "bool" and x in FLOATS


OPS = {
    # ---- unary, floating results (integer and bool inputs promote to the default dtype)
    "exp": _u("exp", np.exp, special=True),
    "exp2": _u("exp2", np.exp2, special=True),
    "expm1": _u("expm1", np.expm1, special=True),
    "log": _u("log", np.log, POS, special=True),
    "log2": _u("log2", np.log2, POS, special=True),
    "log10": _u("log10", np.log10, POS, special=True),
    "log1p": _u("log1p", np.log1p, Dom(-0.9, 3.0), special=True),
    "sqrt": _u("sqrt", np.sqrt, POS, special=True),
    "rsqrt": _u("rsqrt", lambda a: 1.0 / np.sqrt(a), POS, special=True),
    "sin": _u("sin", np.sin, special=True),
    "cos": _u("cos", np.cos, special=True),
    "tan": _u("tan", np.tan, TRIG, special=True),
    "asin": _u("asin", np.arcsin, UNIT, special=True, grad_domain=(Dom(-0.8, 0.8),)),
    "acos": _u("acos", np.arccos, UNIT, special=True, grad_domain=(Dom(-0.8, 0.8),)),
    "atan": _u("atan", np.arctan, special=True),
    "sinh": _u("sinh", np.sinh, special=True),
    "cosh": _u("cosh", np.cosh, special=True),
    "tanh": _u("tanh", np.tanh, special=True),
    "sigmoid": _u("sigmoid", np_sigmoid, special=True),
    "erf": _u("erf", np_erf, special=True),
    "erfinv": _u("erfinv", np_erfinv, UNIT, forms=_NO_TI, special=True, grad_domain=(Dom(-0.8, 0.8),)),
    "reciprocal": _u("reciprocal", _f64(lambda a: 1.0 / a), NONZERO, special=True),
    "acosh": _u("acosh", np.arccosh, Dom(1.0, 10.0), grad_domain=(Dom(1.2, 10.0),),
                special=([1.0, _INF, 0.5, -_INF], [0.0, _INF, _NAN, _NAN])),
    "asinh": _u("asinh", np.arcsinh, Dom(-10.0, 10.0), special=([_INF, -_INF, -0.0], [_INF, -_INF, -0.0])),
    "atanh": _u("atanh", np.arctanh, Dom(-0.99, 0.99, ints=(-1, 1)), grad_domain=(Dom(-0.9, 0.9),),
                special=([1.0, -1.0, 1.5, -0.0], [_INF, -_INF, _NAN, -0.0])),
    "erfc": _u("erfc", np_erfc, Dom(-3.0, 6.0), special=([_INF, -_INF, _NAN], [0.0, 2.0, _NAN])),
    "sinc": _u("sinc", np.sinc, special=([0.0, 1.0, 2.0, -3.0], [1.0, 0.0, 0.0, 0.0])),
    # (float16 overflows past 11); PyTorch's i0 gives NaN at +-inf (its Cephes kernel computes exp(inf)/sqrt(inf))
    "i0": _u("i0", np.i0, Dom(-10.0, 10.0), special=([0.0, _INF, -_INF, _NAN], [1.0, _NAN, _NAN, _NAN])),
    "lgamma": _u("lgamma", np_lgamma, Dom(-5.0, 10.0, avoid=_POLES), forms=_NO_TI,
                 special=([0.0, -0.0, -1.0, -4.0, 1.0, 2.0, _INF, -_INF, _NAN],
                          [_INF, _INF, _INF, _INF, 0.0, 0.0, _INF, _INF, _NAN])),
    # digamma's reference is a finite difference of lgamma: inputs away from the poles; its derivative the series
    "digamma": _u("digamma", np_digamma, Dom(-5.0, 10.0, avoid=_POLES), forms=_NO_TI, dref=(np_trigamma,),
                  tol={"float32": (1e-5, 1e-5), "float64": (1e-9, 1e-9)},
                  special=([0.0, -0.0, -1.0, -3.0, _INF, -_INF, _NAN], [-_INF, _INF, _NAN, _NAN, _INF, _NAN, _NAN])),
    "deg2rad": _u("deg2rad", np.deg2rad, Dom(-360.0, 360.0)),
    "rad2deg": _u("rad2deg", np.rad2deg, Dom(-7.0, 7.0)),
    "logit": _u("logit", np_logit, Dom(0.05, 0.95)),
    "logit_eps": _u("logit", lambda a: np_logit(a, 0.25), Dom(0.05, 0.95), args=(0.25,)),
    "mvlgamma": _u("mvlgamma", lambda a: np_mvlgamma(a, 3), Dom(2.0, 8.0), "float_nobool", "fn method inplace",
                   kwargs={"p": 3}, pending={"raises": _BOOL_GIVES_FLOAT}),
    # ---- unary, dtype kept (integers allowed)
    "abs": _u("abs", np.abs, rule="same", special=True),
    "neg": _u("neg", np.negative, rule="same", special=True),
    "sign": _u("sign", np.sign, rule="same_bool", forms=_NO_TI,
               special=([-2.0, -0.0, 0.0, 3.0, _INF, -_INF], [-1.0, 0.0, 0.0, 1.0, 1.0, -1.0])),
    "square": _u("square", np.square, rule="square", special=True),
    "relu": _u("relu", lambda a: np.maximum(a, 0), rule="same", forms="fn method inplace torch_inplace",
               special=True),
    "floor": _u("floor", np.floor, _ROUNDING, "same", special=True),
    "ceil": _u("ceil", np.ceil, _ROUNDING, "same", special=True),
    "round": _u("round", np.round, _ROUNDING, "same", special=True,
                pending={"out_cast": "torch.round(x, out=<int64 tensor>) casts the float result instead of raising"}),
    "trunc": _u("trunc", np.trunc, _ROUNDING, "same", special=True),
    "frac": _u("frac", lambda a: a - np.trunc(a), _ROUNDING, "float_only", special=True),
    # ---- unary predicates (bool results, no gradient)
    "isnan": _u("isnan", np.isnan, rule="predicate", forms="fn method", grad=False,
                special=([_NAN, _INF, -_INF, 1.5, -0.0, 1e4], [True, False, False, False, False, False])),
    "isinf": _u("isinf", np.isinf, rule="predicate", forms="fn method", grad=False,
                special=([_NAN, _INF, -_INF, 1.5, -0.0, 1e4], [False, True, True, False, False, False])),
    "isfinite": _u("isfinite", np.isfinite, rule="predicate", forms="fn method", grad=False,
                   special=([_NAN, _INF, -_INF, 1.5, -0.0, 1e4], [False, False, False, True, True, True])),
    "isposinf": _u("isposinf", np.isposinf, rule="predicate", forms="fn method out", grad=False,
                   special=([_NAN, _INF, -_INF, 1.5, -0.0, 1e4], [False, True, False, False, False, False])),
    "isneginf": _u("isneginf", np.isneginf, rule="predicate", forms="fn method out", grad=False,
                   special=([_NAN, _INF, -_INF, 1.5, -0.0, 1e4], [False, False, True, False, False, False])),
    "signbit": _u("signbit", np.signbit, rule="predicate", forms="fn method out", grad=False,
                  special=([-2.0, -0.0, 0.0, 3.0, -_INF, _INF], [True, True, False, False, True, False])),
    "logical_not": _u("logical_not", np.logical_not, rule="predicate", forms=_NO_TI, grad=False),
    "bitwise_not": _u("bitwise_not", np.invert, _BITS, "integral", forms="fn method inplace out",
                      grad=False),
    # ---- aliases
    "arccosh": _u("arccosh", np.arccosh, Dom(1.0, 10.0), grad_domain=(Dom(1.2, 10.0),), alias_of="acosh"),
    "arcsinh": _u("arcsinh", np.arcsinh, Dom(-10.0, 10.0), alias_of="asinh"),
    "arctanh": _u("arctanh", np.arctanh, Dom(-0.99, 0.99, ints=(-1, 1)), grad_domain=(Dom(-0.9, 0.9),),
                  alias_of="atanh"),
    "arccos": _u("arccos", np.arccos, UNIT, grad_domain=(Dom(-0.8, 0.8),), alias_of="acos"),
    "arcsin": _u("arcsin", np.arcsin, UNIT, grad_domain=(Dom(-0.8, 0.8),), alias_of="asin"),
    "arctan": _u("arctan", np.arctan, Dom(-5.0, 5.0), alias_of="atan"),
    "fix": _u("fix", np.trunc, _ROUNDING, "same", alias_of="trunc"),
    "sgn": _u("sgn", np.sign, rule="same_bool", forms=_NO_TI, alias_of="sign"),
    "absolute": _u("absolute", np.abs, rule="same", forms=_NO_TI, alias_of="abs"),
    "negative": _u("negative", np.negative, rule="same", alias_of="neg"),
    # ---- activations (torch.nn.functional)
    "silu": _u("silu", lambda a: a * np_sigmoid(a), Dom(-6.0, 6.0), "float_only", _F_INPLACE, functional=True),
    "gelu": _u("gelu", lambda a: 0.5 * a * (1 + np_erf(a / math.sqrt(2))), Dom(-4.0, 4.0), "float_only", "fn",
               functional=True),
    "gelu_tanh": _u("gelu", lambda a: 0.5 * a * (1 + np.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a ** 3))),
                    Dom(-4.0, 4.0), "float_only", "fn", functional=True, kwargs={"approximate": "tanh"}),
    "softplus": _u("softplus", np_softplus, Dom(-5.0, 5.0), "float_only", "fn", functional=True),
    "softplus_beta": _u("softplus", lambda a: np_softplus(a, 2.0, 1.0), Dom(-2.0, 2.0), "float_only", "fn",
                        functional=True, kwargs={"beta": 2.0, "threshold": 1.0}),
    "mish": _u("mish", lambda a: a * np.tanh(np_softplus(a)), Dom(-5.0, 5.0), "float_only", _F_INPLACE,
               functional=True),
    "hardsigmoid": _u("hardsigmoid", lambda a: np.clip(a / 6 + 0.5, 0, 1), Dom(-5.0, 5.0), "float_only",
                      _F_INPLACE, functional=True),
    "hardswish": _u("hardswish", lambda a: a * np.clip(a + 3, 0, 6) / 6, Dom(-5.0, 5.0), "float_only",
                    _F_INPLACE, functional=True),
    # ---- binary arithmetic
    "add": _b("add", np.add, scalars="lr"),
    "sub": _b("sub", np.subtract, rule="same", scalars="lr", refuses=_any_bool),
    "mul": _b("mul", np.multiply, scalars="lr"),
    "div": _b("div", _f64(np.divide), REAL, NONZERO, "float", scalars="lr"),
    "div_trunc": _b("div", lambda a, b: np.trunc(np.divide(a, b)), REAL, NONZERO, "same", scalars="lr",
                    kwargs={"rounding_mode": "trunc"},
                    pending={**_DIV_MODE_GRAD, "cuda:forward": "CUDA: floating division with rounding_mode='trunc' "
                                                               "is not truncated (integers are)"}),
    "div_floor": _b("div", np.floor_divide, REAL, NONZERO, "same", scalars="lr", kwargs={"rounding_mode": "floor"},
                    pending=_DIV_MODE_GRAD),
    "floor_divide": _b("floor_divide", np.floor_divide, REAL, NONZERO, "same", scalars="lr", grad=False),
    "fmod": _b("fmod", np.fmod, REAL, NONZERO, "same", scalars="r"),
    "remainder": _b("remainder", np.mod, REAL, NONZERO, "same", scalars="lr"),
    "pow": _b("pow", np.power, Dom(0.1, 3.0, ints=(-3, 3)), Dom(0.0, 3.0), "same", scalars="lr",
              grad_domain=(Dom(0.5, 2.0), Dom(-2.0, 2.0)),
              pending={"raises": "pow of two bool tensors gives bool; PyTorch raises (not implemented for 'Bool')"}),
    "float_power": _b("float_power", _f64(np.power), Dom(0.1, 3.0), Dom(-2.0, 3.0), "float64", "fn method out",
                      scalars="lr"),
    "atan2": _b("atan2", _f64(np.arctan2), NONZERO, NONZERO, "float"),
    "maximum": _b("maximum", np.maximum, forms="fn method out"),
    "minimum": _b("minimum", np.minimum, forms="fn method out"),
    "fmax": _b("fmax", np.fmax, forms="fn method out"),
    "fmin": _b("fmin", np.fmin, forms="fn method out"),
    "hypot": _b("hypot", np.hypot, Dom(-5.0, 5.0), Dom(-5.0, 5.0), "float_only", grad_domain=(NONZERO, NONZERO)),
    "logaddexp": _b("logaddexp", np.logaddexp, Dom(-30.0, 30.0), Dom(-30.0, 30.0), "float_only", "fn method out"),
    "logaddexp2": _b("logaddexp2", np.logaddexp2, Dom(-30.0, 30.0), Dom(-30.0, 30.0), "float_only",
                     "fn method out"),
    "copysign": _b("copysign", _f64(np.copysign), Dom(-5.0, 5.0), NONZERO, "float", scalars="r",
                   pending={"grad_other": "the sign operand's gradient is None; PyTorch's is zeros"}),
    "xlogy": _b("xlogy", np_xlogy, REAL, Dom(0.1, 5.0), "float", "fn method inplace torch_inplace out", scalars="lr"),
    # x * 2**other; a floating exponent is differentiable too. PyTorch computes 2**other in other's dtype:
    # integer exponents keep that exact when other is a lower-precision operand
    "ldexp": _b("ldexp", _f64(lambda a, b: a * np.exp2(b)), REAL, Dom(-3.0, 3.0, integral=True), "float",
                "fn method inplace torch_inplace out", refuses=_bool_exponent,
                pending={"raises": "a floating input with a bool exponent: PyTorch raises, the engine computes"}),
    "nextafter": _b("nextafter", np.nextafter, REAL, REAL, "float_only", grad=False),
    "heaviside": _b("heaviside", np_heaviside, Dom(-2.0, 2.0), REAL, grad=False, refuses=_mixed),
    "gcd": _b("gcd", np.gcd, Dom(-12.0, 12.0, ints=(-12, 12)), Dom(-12.0, 12.0, ints=(-12, 12)), "int_only",
              "fn method inplace torch_inplace out", grad=False),
    "lcm": _b("lcm", np.lcm, Dom(-12.0, 12.0, ints=(-12, 12)), Dom(-12.0, 12.0, ints=(-12, 12)), "int_only",
              "fn method inplace torch_inplace out", grad=False),
    # ---- comparisons, logical and bitwise ops
    "eq": _b("eq", np.equal, rule="predicate", scalars="r", grad=False, ties=True),
    "ne": _b("ne", np.not_equal, rule="predicate", scalars="r", grad=False, ties=True),
    "lt": _b("lt", np.less, rule="predicate", scalars="r", grad=False, ties=True),
    "le": _b("le", np.less_equal, rule="predicate", scalars="r", grad=False, ties=True),
    "gt": _b("gt", np.greater, rule="predicate", scalars="r", grad=False, ties=True),
    "ge": _b("ge", np.greater_equal, rule="predicate", scalars="r", grad=False, ties=True),
    "logical_and": _b("logical_and", np.logical_and, rule="predicate", grad=False, ties=True),
    "logical_or": _b("logical_or", np.logical_or, rule="predicate", grad=False, ties=True),
    "logical_xor": _b("logical_xor", np.logical_xor, rule="predicate", grad=False, ties=True),
    "bitwise_and": _b("bitwise_and", np.bitwise_and, _BITS, _BITS, "integral", "fn method inplace out", scalars="lr",
                      grad=False),
    "bitwise_or": _b("bitwise_or", np.bitwise_or, _BITS, _BITS, "integral", "fn method inplace out", scalars="lr",
                      grad=False),
    "bitwise_xor": _b("bitwise_xor", np.bitwise_xor, _BITS, _BITS, "integral", "fn method inplace out", scalars="lr",
                      grad=False),
    # shift counts inside the narrowest dtype's width (a count past it is 0 / -1 in PyTorch, undefined in C)
    "bitwise_left_shift": _b("bitwise_left_shift", np.left_shift, _BITS, _SHIFT, "int_only", "fn method inplace out",
                             scalars="r", grad=False, pending={"raises@bool": _BOOL_SHIFT}),
    "bitwise_right_shift": _b("bitwise_right_shift", np.right_shift, _BITS, _SHIFT, "int_only",
                              "fn method inplace out", scalars="r", grad=False, pending={"raises@bool": _BOOL_SHIFT}),
    # ---- binary aliases
    "multiply": _b("multiply", np.multiply, scalars="lr", alias_of="mul"),
    "subtract": _b("subtract", np.subtract, rule="same", scalars="lr", refuses=_any_bool, alias_of="sub"),
    "divide": _b("divide", _f64(np.divide), REAL, NONZERO, "float", scalars="lr", alias_of="div"),
    "true_divide": _b("true_divide", _f64(np.divide), REAL, NONZERO, "float", scalars="lr", alias_of="div"),
    "arctan2": _b("arctan2", _f64(np.arctan2), NONZERO, NONZERO, "float", alias_of="atan2"),
    "greater": _b("greater", np.greater, rule="predicate", scalars="r", grad=False, ties=True, alias_of="gt"),
    "greater_equal": _b("greater_equal", np.greater_equal, rule="predicate", scalars="r", grad=False, ties=True,
                        alias_of="ge"),
    "less": _b("less", np.less, rule="predicate", scalars="r", grad=False, ties=True, alias_of="lt"),
    "less_equal": _b("less_equal", np.less_equal, rule="predicate", scalars="r", grad=False, ties=True,
                     alias_of="le"),
    "not_equal": _b("not_equal", np.not_equal, rule="predicate", scalars="r", grad=False, ties=True, alias_of="ne"),
}


def covered_names():
    """The torch names the table covers (torch.<name> / Tensor.<name> / torch.nn.functional.<name>)."""
    return {case.op for case in OPS.values()}


# --------------------------------------------------------------------------- dtype rules

def category(d):
    return "bool" if d == "bool" else ("int" if d in INTS else "float")


def result_type(*operands):
    """PyTorch's result_type of tensors (dtype names, all dimensioned) and Python numbers (weak scalars)."""
    tensors = [o for o in operands if isinstance(o, str)]
    d = tensors[0]
    for t in tensors[1:]:
        d = PROMOTE[(d, t)]
    rank = {"bool": 0, "int": 1, "float": 2}
    for s in operands:
        if isinstance(s, str):
            continue
        kind = "bool" if isinstance(s, bool) else ("int" if isinstance(s, int) else "float")
        if rank[kind] > rank[category(d)]:
            d = {"int": "int64", "float": "float32"}[kind]
    return d


def result_dtype(case, *operands):
    """The dtype of case's result for these operands (dtype names / Python numbers); None when PyTorch raises."""
    if case.refuses and case.refuses(*operands):
        return None
    d = result_type(*operands)
    out = RULES[case.rule][category(d)]
    return {"same": d, "float": d if category(d) == "float" else "float32"}.get(out, out)


def can_cast(src, dst):
    """torch.can_cast: no cast to a lower category (float -> int, int -> bool)."""
    rank = {"bool": 0, "int": 1, "float": 2}
    return rank[category(src)] <= rank[category(dst)]


# --------------------------------------------------------------------------- gradient reference

_C8 = (4 / 5, -1 / 5, 4 / 105, -1 / 280)


def central_difference(f, x, h=1e-3):
    """d f / d x for f: float64 array -> float, by the 8th-order central difference (step h * max(1, |x_i|)),
    element by element. Returns (estimate, smooth): smooth is False where the estimate with step 2h differs,
    i.e. a kink or jump of f lies within a few steps of x."""
    x = np.array(x, dtype=np.float64)
    grads = []
    for step in (h, 2 * h):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            hi = step * max(1.0, abs(x[idx]))
            for k, c in enumerate(_C8, 1):
                xp, xm = x.copy(), x.copy()
                xp[idx] += k * hi
                xm[idx] -= k * hi
                g[idx] += c * (f(xp) - f(xm)) / hi
        grads.append(g)
    smooth = np.abs(grads[0] - grads[1]) <= 1e-7 * (1 + np.abs(grads[0]))
    return grads[0], bool(smooth.all())
