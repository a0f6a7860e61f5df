"""The CUDA kernels of cuda/*.cu, run on the CPU through tests/cuda_emu/cuda_emu.h, checked
against NumPy (and a pure-Python Philox4x32-10) for contiguous, transposed, offset and
broadcast (stride 0) inputs.

Needs g++ with C++20 (skipped with a message otherwise); the emulation library is built once
(~20-40 s on 2 cores) and cached, see ftcuda_emu.build().
"""
import math
import os
import sys
from fractions import Fraction

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftcuda_emu as E  # noqa: E402

sys.path.insert(0, os.path.join(E.REPO, "scripts"))
import check_cuda_kernels  # noqa: E402

# numpy's own float -> f16 casts overflow to inf on purpose in the references
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")


# `emu` (the built emulation library) comes from conftest.py.


RNG = np.random.default_rng(1234)
FLOAT_TOL = {"f16": (2e-3, 1e-3), "bf16": (1e-2, 1e-2), "f32": (2e-6, 1e-6), "f64": (1e-13, 1e-14)}


def to_np_values(arr, dt):
    """kernel buffer -> float64/int values (decoding bf16 bit patterns)."""
    if dt == "bf16":
        return E.bf16_bits_to_f32(arr).astype(np.float64)
    return arr


def encode(vals, dt):
    """float64 values -> buffer of dtype dt."""
    if dt == "bf16":
        return E.f32_to_bf16_bits(np.asarray(vals, np.float32))
    return np.asarray(vals).astype(E.NP[dt])


LAYOUTS = ["flat", "contig", "transposed", "offset", "broadcast"]


def make_input(kind, shape, dt, lo, hi, rng=RNG, ints=False):
    """-> (values as a numpy view of `shape`, base buffer, Layout). Values are exactly
    representable in dt."""
    def gen(shp):
        v = rng.integers(lo, hi, size=shp) if ints else rng.uniform(lo, hi, size=shp)
        return encode(v, dt)

    if kind == "flat":
        base = gen(shape).reshape(-1)
        return base.reshape(shape), base, E.flat_layout(base.size)
    if kind == "contig":
        base = gen(shape)
        return base, base, E.layout(base)
    if kind == "transposed":
        base = gen(shape[::-1])
        view = base.T
        return view, base, E.layout(view, base)
    if kind == "offset":
        base = gen(tuple(s + 3 for s in shape))
        view = base[tuple(slice(2, 2 + s) for s in shape)]
        return view, base, E.layout(view, base)
    if kind == "broadcast":
        small = gen((1,) + tuple(shape[1:]))
        view = np.broadcast_to(small, shape)
        return view, small, E.layout(view, small)
    raise ValueError(kind)


def run_unary(emu, name, dt, x_base, lx, n, out_dt=None, block=64, grid=3):
    out = np.zeros(n, dtype=E.NP[out_dt or dt])
    emu.launch(f"ft_{name}_{dt}", "pLpq", [x_base, lx, out, n], grid=grid, block=block)
    return out


# ================================================================ ABI
def test_all_expected_kernels_exported(emu):
    missing = [k for names in check_cuda_kernels.expected_kernels().values() for k in names
               if not emu.has(k)]
    assert not missing, f"{len(missing)} kernels missing, e.g. {missing[:10]}"


# ================================================================ unary
def _erf(x):
    return np.vectorize(math.erf)(x)


UNARY = {
    "exp": (np.exp, -4, 4), "exp2": (np.exp2, -4, 4), "expm1": (np.expm1, -2, 2),
    "log": (np.log, 0.05, 9), "log2": (np.log2, 0.05, 9), "log1p": (np.log1p, -0.5, 9),
    "sqrt": (np.sqrt, 0, 9), "rsqrt": (lambda x: 1 / np.sqrt(x), 0.1, 9),
    "sin": (np.sin, -6, 6), "cos": (np.cos, -6, 6), "tan": (np.tan, -1.3, 1.3),
    "asin": (np.arcsin, -0.99, 0.99), "atan": (np.arctan, -5, 5), "sinh": (np.sinh, -3, 3),
    "tanh": (np.tanh, -4, 4), "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), -8, 8),
    "relu": (lambda x: np.maximum(x, 0), -3, 3), "erf": (_erf, -3, 3),
    "floor": (np.floor, -5, 5), "ceil": (np.ceil, -5, 5), "trunc": (np.trunc, -5, 5),
    "frac": (lambda x: x - np.trunc(x), -5, 5), "reciprocal": (lambda x: 1 / x, 0.5, 4),
    "abs": (np.abs, -3, 3), "neg": (np.negative, -3, 3), "sign": (np.sign, -3, 3),
    "square": (np.square, -3, 3),
    "gelu": (lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), -4, 4),
    "silu": (lambda x: x / (1 + np.exp(-x)), -6, 6),
    "softplus": (lambda x: np.where(x > 20, x, np.log1p(np.exp(x))), -5, 25),
    "gelu_tanh": (lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
                  -4, 4),
    "mish": (lambda x: x * np.tanh(np.log1p(np.exp(x))), -5, 5),
    "hardsigmoid": (lambda x: np.clip(x / 6 + 0.5, 0, 1), -5, 5),
    "hardswish": (lambda x: x * np.clip(x + 3, 0, 6) / 6, -5, 5),
    "asinh": (np.arcsinh, -5, 5), "acosh": (np.arccosh, 1, 5), "atanh": (np.arctanh, -0.9, 0.9),
    "acos": (np.arccos, -0.99, 0.99), "cosh": (np.cosh, -3, 3), "log10": (np.log10, 0.05, 9),
}


def _registry_unary_kernels():
    """The float kernels of the registry's unary rows (`_C._op_registry()`), with the reference
    and input range of their row in tests/op_table.py: a new op's CUDA row is checked here with
    no edit of this file. The hand-written entries above keep their tighter ranges."""
    import ferrotorch
    from op_table import OPS
    out = {}
    for r in ferrotorch._C._op_registry():
        if r["family"] in ("unary_float", "unary_num") and r["cuda"] and r["name"] in OPS:
            case = OPS[r["name"]]
            out[r["cuda"]] = (case.ref, case.domain[0].lo, case.domain[0].hi)
    return out


UNARY = {**_registry_unary_kernels(), **UNARY}


@pytest.mark.parametrize("dt", ["f32", "f64", "f16"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(emu, name, dt):
    fn, lo, hi = UNARY[name]
    shape = (5, 7)
    for kind in LAYOUTS:
        view, base, lx = make_input(kind, shape, dt, lo, hi)
        out = run_unary(emu, name, dt, base, lx, view.size)
        xv = to_np_values(view, dt).astype(np.float64)
        ref = fn(xv).reshape(-1)
        got = to_np_values(out, dt).astype(np.float64)
        rtol, atol = FLOAT_TOL[dt]
        if dt == "f16":  # computed in f32, rounded once: within 1 f16 ulp of the f64 reference
            ref = ref.astype(np.float16).astype(np.float64)
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=f"{name} {dt} {kind}")


def test_unary_bf16_and_special(emu):
    x = np.array([0.0, -0.0, 1.5, -2.5, 0.5, -0.5, 2.5, np.inf, -np.inf, np.nan], np.float32)
    # round = half to even
    out = run_unary(emu, "round", "f32", x, E.flat_layout(x.size), x.size)
    np.testing.assert_array_equal(out, np.rint(x))
    out = run_unary(emu, "sign", "f32", x, E.flat_layout(x.size), x.size)
    np.testing.assert_array_equal(out, np.sign(x))
    out = run_unary(emu, "relu", "f32", x, E.flat_layout(x.size), x.size)
    np.testing.assert_array_equal(out, np.where(np.isnan(x), x, np.maximum(x, 0)))
    for name, ref in [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)]:
        out = run_unary(emu, name, "f32", x, E.flat_layout(x.size), x.size, out_dt="bool")
        np.testing.assert_array_equal(out, ref(x), err_msg=name)
    # erfinv: erf(erfinv(y)) == y
    y = np.linspace(-0.999, 0.999, 41)
    out = run_unary(emu, "erfinv", "f64", y, E.flat_layout(y.size), y.size)
    np.testing.assert_allclose(_erf(out), y, rtol=1e-12, atol=1e-14)
    # bf16 exp through float
    view, base, lx = make_input("transposed", (4, 6), "bf16", -3, 3)
    out = run_unary(emu, "exp", "bf16", base, lx, view.size)
    ref = np.exp(E.bf16_bits_to_f32(view).astype(np.float32)).reshape(-1)
    np.testing.assert_array_equal(out, E.f32_to_bf16_bits(ref))


@pytest.mark.parametrize("dt", ["i8", "i32", "i64", "u8"])
def test_unary_int(emu, dt):
    view, base, lx = make_input("transposed", (6, 5), dt, -100 if dt != "u8" else 0, 100,
                                ints=True)
    for name, ref in [("abs", np.abs), ("neg", np.negative), ("sign", np.sign),
                      ("square", np.square), ("relu", lambda v: np.maximum(v, 0)),
                      ("bitwise_not", np.invert)]:
        out = run_unary(emu, name, dt, base, lx, view.size)
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(out, ref(view).reshape(-1).astype(E.NP[dt]),
                                          err_msg=name)
    b = np.array([True, False, True])
    out = run_unary(emu, "bitwise_not", "bool", b, E.flat_layout(3), 3)
    np.testing.assert_array_equal(out, ~b)
    out = run_unary(emu, "logical_not", dt, base, lx, view.size, out_dt="bool")
    np.testing.assert_array_equal(out, (view == 0).reshape(-1))


# ================================================================ binary
OUT_SHAPE = (4, 3, 6)


def bcast_pair(dt, lo, hi, ints=False, b_nonzero=False):
    """a: (4,1,6) transposed-then-broadcast, b: (3,1) broadcast; both -> OUT_SHAPE."""
    def gen(shp):
        v = RNG.integers(lo, hi, size=shp) if ints else RNG.uniform(lo, hi, size=shp)
        if b_nonzero:
            v = np.where(v == 0, 1, v)
        return encode(v, dt)

    abase = gen((6, 1, 4))
    av = np.broadcast_to(abase.transpose(2, 1, 0), OUT_SHAPE)
    bbase = gen((3, 1))
    bv = np.broadcast_to(bbase, OUT_SHAPE)
    return (av, abase, E.layout(av, abase)), (bv, bbase, E.layout(bv, bbase))


def run_binary(emu, name, dt, A, B, out_dt=None):
    n = int(np.prod(OUT_SHAPE))
    out = np.zeros(n, dtype=E.NP[out_dt or dt])
    emu.launch(f"ft_{name}_{dt}", "pLpLpq", [A[1], A[2], B[1], B[2], out, n])
    return out.reshape(OUT_SHAPE)


FLOAT_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "remainder": np.remainder, "floor_divide": np.floor_divide, "fmod": np.fmod,
    "maximum": np.maximum, "minimum": np.minimum, "atan2": np.arctan2,
}


@pytest.mark.parametrize("dt", ["f32", "f64", "f16"])
def test_binary_float(emu, dt):
    A, B = bcast_pair(dt, -6, 6, b_nonzero=True)
    a = A[0].astype(np.float64)
    b = B[0].astype(np.float64)
    for name, fn in FLOAT_BINARY.items():
        got = run_binary(emu, name, dt, A, B).astype(np.float64)
        ref = fn(a, b)
        if dt == "f16":
            ref = ref.astype(np.float16).astype(np.float64)
        rtol, atol = FLOAT_TOL[dt]
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=name)
    # pow on positive bases
    A2, _ = bcast_pair(dt, 0.5, 3)
    got = run_binary(emu, "pow", dt, A2, B).astype(np.float64)
    ref = np.power(A2[0].astype(np.float64), b)
    np.testing.assert_allclose(got, ref, rtol=FLOAT_TOL[dt][0] * 4, atol=FLOAT_TOL[dt][1])


def test_binary_float_specials(emu):
    a = np.array([np.nan, 1.0, 2.0, -7.5, 7.5, -7.5, 7.5, 0.0, 5.0, -0.0], np.float32)
    b = np.array([1.0, np.nan, 2.0, 2.0, -2.0, -2.0, 2.0, 3.0, 0.0, -3.0], np.float32)
    n = a.size
    A = (a, a, E.flat_layout(n))
    B = (b, b, E.flat_layout(n))

    def run(name, out_dt=None):
        out = np.zeros(n, dtype=E.NP[out_dt or "f32"])
        emu.launch(f"ft_{name}_f32", "pLpLpq", [a, A[2], b, B[2], out, n])
        return out

    with np.errstate(all="ignore"):
        for name, fn in [("maximum", np.maximum), ("minimum", np.minimum),
                         ("remainder", np.remainder), ("floor_divide", np.floor_divide),
                         ("fmod", np.fmod)]:
            np.testing.assert_array_equal(run(name), fn(a, b).astype(np.float32), err_msg=name)
        for name, fn in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                         ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                         ("logical_and", np.logical_and), ("logical_or", np.logical_or),
                         ("logical_xor", np.logical_xor)]:
            np.testing.assert_array_equal(run(name, "bool"), fn(a, b), err_msg=name)


def trunc_div(a, b):
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q)


@pytest.mark.parametrize("dt", ["i32", "i64", "i8", "u8"])
def test_binary_int(emu, dt):
    lo = 0 if dt == "u8" else -60
    A, B = bcast_pair(dt, lo, 60, ints=True, b_nonzero=True)
    a, b = A[0].astype(np.int64), B[0].astype(np.int64)
    npdt = E.NP[dt]
    refs = {
        "add": a + b, "sub": a - b, "mul": a * b, "div": trunc_div(a, b),
        "remainder": np.remainder(a, b), "floor_divide": np.floor_divide(a, b),
        "fmod": np.fmod(a, b), "maximum": np.maximum(a, b), "minimum": np.minimum(a, b),
        "bitwise_and": a & b, "bitwise_or": a | b, "bitwise_xor": a ^ b,
    }
    # shift counts -1 .. bits+1 (u8: -1 is 255): outside [0, bits) PyTorch gives 0, or -1 for a
    # right shift of a negative value
    bits = 8 * np.dtype(npdt).itemsize
    cbase = (np.abs(B[1].astype(np.int64)) % (bits + 3) - 1).astype(npdt)
    C = (np.broadcast_to(cbase, OUT_SHAPE), cbase, B[2])
    c = C[0].astype(np.int64)
    inside = (c >= 0) & (c < bits)
    cc = np.where(inside, c, 0)
    refs_c = {
        "bitwise_left_shift": np.where(inside, np.left_shift(a, cc), 0),
        "bitwise_right_shift": np.where(inside, np.right_shift(a, cc), np.where(a < 0, -1, 0)),
    }
    for name, ref in refs_c.items():
        got = run_binary(emu, name, dt, A, C)
        np.testing.assert_array_equal(got, ref.astype(npdt), err_msg=name)
    for name, ref in refs.items():
        got = run_binary(emu, name, dt, A, B)
        np.testing.assert_array_equal(got, ref.astype(npdt), err_msg=name)
    for name, fn in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                     ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                     ("logical_and", np.logical_and), ("logical_xor", np.logical_xor)]:
        got = run_binary(emu, name, dt, A, B, out_dt="bool")
        np.testing.assert_array_equal(got, fn(a, b), err_msg=name)
    # pow with small exponents (wraps like numpy)
    A2, _ = bcast_pair(dt, 0 if dt == "u8" else -5, 6, ints=True)
    ebase = RNG.integers(0, 4, size=(3, 1)).astype(npdt)
    ev = np.broadcast_to(ebase, OUT_SHAPE)
    got = run_binary(emu, "pow", dt, A2, (ev, ebase, E.layout(ev, ebase)))
    with np.errstate(over="ignore"):
        ref = np.power(A2[0], ev)
    np.testing.assert_array_equal(got, ref, err_msg="pow")


def test_int_division_edge_cases(emu):
    a = np.array([7, -7, 7, -7, 5, -2147483648, -2147483648, 3], np.int32)
    b = np.array([2, 2, -2, -2, 0, -1, -1, 0], np.int32)
    n = a.size
    lay = E.flat_layout(n)

    def run(name):
        out = np.zeros(n, np.int32)
        emu.launch(f"ft_{name}_i32", "pLpLpq", [a, lay, b, lay, out, n])
        return out

    np.testing.assert_array_equal(run("div"), [3, -3, -3, 3, 0, -2147483648, -2147483648, 0])
    np.testing.assert_array_equal(run("floor_divide"), [3, -4, -4, 3, 0, -2147483648, -2147483648, 0])
    np.testing.assert_array_equal(run("remainder"), [1, 1, -1, -1, 0, 0, 0, 0])
    np.testing.assert_array_equal(run("fmod"), [1, -1, 1, -1, 0, 0, 0, 0])


def test_bool_binary(emu):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    lay = E.flat_layout(4)
    for name, ref in [("maximum", a | b), ("minimum", a & b), ("bitwise_and", a & b),
                      ("bitwise_or", a | b), ("bitwise_xor", a ^ b), ("eq", a == b),
                      ("lt", a < b), ("logical_or", a | b)]:
        out = np.zeros(4, np.bool_)
        emu.launch(f"ft_{name}_bool", "pLpLpq", [a, lay, b, lay, out, 4])
        np.testing.assert_array_equal(out, ref, err_msg=name)


# ================================================================ ternary
def test_where_and_lerp(emu):
    n = int(np.prod(OUT_SHAPE))
    cbase = RNG.integers(0, 2, size=(4, 1, 1)).astype(np.bool_)
    cv = np.broadcast_to(cbase, OUT_SHAPE)
    for dt in ["f32", "i64", "f16", "bool"]:
        ints = dt in ("i64", "bool")
        A, B = bcast_pair(dt, 0 if dt == "bool" else -9, 2 if dt == "bool" else 9, ints=ints)
        out = np.zeros(n, E.NP[dt])
        emu.launch(f"ft_where_{dt}", "pLpLpLpq",
                   [cbase, E.layout(cv, cbase), A[1], A[2], B[1], B[2], out, n])
        np.testing.assert_array_equal(out.reshape(OUT_SHAPE), np.where(cv, A[0], B[0]), err_msg=dt)
    for dt in ["f32", "f64"]:
        A, B = bcast_pair(dt, -5, 5)
        W, _ = bcast_pair(dt, -0.5, 1.5)
        out = np.zeros(n, E.NP[dt])
        emu.launch(f"ft_lerp_{dt}", "pLpLpLpq", [A[1], A[2], B[1], B[2], W[1], W[2], out, n])
        a, b, w = (v.astype(np.float64) for v in (A[0], B[0], W[0]))
        ref = np.where(w < 0.5, a + w * (b - a), b - (b - a) * (1 - w))
        np.testing.assert_allclose(out.reshape(OUT_SHAPE), ref, rtol=FLOAT_TOL[dt][0] * 4,
                                   atol=FLOAT_TOL[dt][1] * 4)


# ================================================================ casts
def cast(emu, src, dst, x, lx=None, n=None):
    n = x.size if n is None else n
    out = np.zeros(n, E.NP[dst])
    emu.launch(f"ft_cast_{src}_{dst}", "pLpq", [x, lx or E.flat_layout(n), out, n])
    return out


def test_cast_f32_to_bf16_rounding(emu):
    bits = np.array([0x3F800000, 0x3F808000, 0x3F818000, 0x3F808001, 0x3F80FFFF, 0x7F7FFFFF,
                     0x7F800000, 0xFF800000, 0x7FC00001, 0x00000001, 0x80000000, 0xC0490FDB],
                    np.uint32)
    x = bits.view(np.float32)
    got = cast(emu, "f32", "bf16", x)
    expect = [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x3F81, 0x7F80, 0x7F80, 0xFF80, 0x7FC0, 0x0000,
              0x8000, 0xC049]
    np.testing.assert_array_equal(got, np.array(expect, np.uint16))
    np.testing.assert_array_equal(got, E.f32_to_bf16_bits(x))
    y = RNG.standard_normal(500).astype(np.float32) * 1e3
    np.testing.assert_array_equal(cast(emu, "f32", "bf16", y), E.f32_to_bf16_bits(y))
    back = cast(emu, "bf16", "f32", E.f32_to_bf16_bits(y))
    np.testing.assert_array_equal(back, E.bf16_bits_to_f32(E.f32_to_bf16_bits(y)))


def test_cast_f16(emu):
    x = np.array([0.0, -0.0, 1.0, 65504.0, 65519.99, 65520.0, 1e6, 6e-8, 2.9802322e-08,
                  2.9802326e-08, 6.1035156e-05, 1.0009765625, 1.00048828125, 1.00146484375,
                  -3.14159, np.inf, -np.inf], np.float32)
    x = np.concatenate([x, RNG.standard_normal(300).astype(np.float32) * 100,
                        RNG.standard_normal(100).astype(np.float32) * 1e-5])
    got = cast(emu, "f32", "f16", x)
    np.testing.assert_array_equal(got.view(np.uint16), x.astype(np.float16).view(np.uint16))
    assert np.isnan(cast(emu, "f32", "f16", np.array([np.nan], np.float32))[0])
    back = cast(emu, "f16", "f32", got)
    np.testing.assert_array_equal(back, got.astype(np.float32))
    back64 = cast(emu, "f16", "f64", got)
    np.testing.assert_array_equal(back64, got.astype(np.float64))


def test_cast_f64_to_half_single_rounding(emu):
    # values whose f32 rounding lands exactly on an f16/bf16 tie: a double rounding through
    # f32 would round to even, the correct single rounding goes up.
    d = np.array([1 + 2**-11 + 2**-40, 1 + 2**-8 + 2**-30, -(1 + 2**-11 + 2**-40),
                  1 + 2**-11, 65519.999999, 3.0e-8, 1e300, -1e-300, 0.1, 1 / 3], np.float64)
    d = np.concatenate([d, RNG.standard_normal(200) * 10])
    got = cast(emu, "f64", "f16", d)
    np.testing.assert_array_equal(got.view(np.uint16), d.astype(np.float16).view(np.uint16))
    assert got[0] == np.float16(1 + 2**-10)

    def bf16_ref(v):  # exact: nearest-even on the rational value
        if v == 0 or not math.isfinite(v):
            return E.f32_to_bf16_bits(np.float32(v))
        m, e = math.frexp(abs(v))  # v = m * 2^e, 0.5 <= m < 1
        if e - 1 > 127:
            return np.uint16((0xFF80 if v < 0 else 0x7F80))
        scaled = Fraction(abs(v)) / Fraction(2) ** (e - 1 - 7)  # 8 significant bits
        q = math.floor(scaled)
        rem = scaled - q
        if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and q % 2 == 1):
            q += 1
        val = math.ldexp(q, e - 1 - 7) * (-1 if v < 0 else 1)
        return E.f32_to_bf16_bits(np.float32(val))  # exact in bf16 (or inf)

    bf = d[np.abs(d) < 3e38]
    bf = bf[(np.abs(bf) > 1e-37) | (bf == 0)]
    got = cast(emu, "f64", "bf16", bf)
    np.testing.assert_array_equal(got, np.array([bf16_ref(float(v)) for v in bf], np.uint16))
    assert got[1] == 0x3F81  # 1 + 2^-7


def test_cast_matrix(emu):
    """every (src, dst) pair on values representable in both, strided source."""
    base = np.array([[0, 1, 2, 3, -1, -2], [5, 100, 0, 7, -8, 1]], np.float64)
    for src in E.NP:
        for dst in E.NP:
            vals = base
            if src in ("u8", "bool") or dst in ("u8", "bool"):
                vals = np.abs(base)
            if src == "bool" or dst == "bool":
                vals = (vals != 0).astype(np.float64)
            xs = encode(vals, src)
            view = xs.T  # strided source
            got = cast(emu, src, dst, xs, E.layout(view, xs), view.size)
            ref = encode(view.astype(np.float64) if src != "bf16" else
                         E.bf16_bits_to_f32(view).astype(np.float64), dst).reshape(-1)
            np.testing.assert_array_equal(got, ref, err_msg=f"{src}->{dst}")


def test_cast_semantics(emu):
    x = np.array([-1.0, 255.9, 256.0, -128.5, 3.99, np.nan, 0.0, -0.0], np.float32)
    np.testing.assert_array_equal(cast(emu, "f32", "bool", x), x != 0)
    y = x[:5]
    np.testing.assert_array_equal(cast(emu, "f32", "u8", y), y.astype(np.int64).astype(np.uint8))
    np.testing.assert_array_equal(cast(emu, "f32", "i8", y), y.astype(np.int64).astype(np.int8))
    np.testing.assert_array_equal(cast(emu, "f32", "i32", y), y.astype(np.int32))
    big = np.array([2**40 + 1, -(2**31) - 7, 2**53 + 1, 16777217], np.int64)
    np.testing.assert_array_equal(cast(emu, "i64", "f32", big), big.astype(np.float32))
    np.testing.assert_array_equal(cast(emu, "i64", "f64", big), big.astype(np.float64))
    np.testing.assert_array_equal(cast(emu, "i64", "i8", big), big.astype(np.int8))
    np.testing.assert_array_equal(cast(emu, "i64", "f16", big[3:]).view(np.uint16),
                                  big[3:].astype(np.float16).view(np.uint16))


def test_copy_and_fill(emu):
    src = np.arange(24, dtype=np.float32).reshape(4, 6)
    dst = np.zeros((6, 4), np.float32)
    view = dst.T  # strided output
    emu.launch("ft_copy_f32", "pLpLq", [src, E.layout(src), dst, E.layout(view, dst), 24])
    np.testing.assert_array_equal(dst.T, src)
    out = np.zeros((5, 8), np.float64)
    view = out[1:4, ::2]
    emu.launch("ft_fill_f64", "pLdq", [out, E.layout(view, out), 2.5, view.size])
    ref = np.zeros((5, 8))
    ref[1:4, ::2] = 2.5
    np.testing.assert_array_equal(out, ref)
    h = np.zeros(7, np.float16)
    emu.launch("ft_fill_f16", "pLHq", [h, E.flat_layout(7), int(np.float16(-1.5).view(np.uint16)), 7])
    np.testing.assert_array_equal(h, np.full(7, -1.5, np.float16))
    b = np.zeros(5, np.int8)
    emu.launch("ft_fill_i8", "pLBq", [b, E.flat_layout(5), 0xFE, 5])
    np.testing.assert_array_equal(b, np.full(5, -2, np.int8))


# ================================================================ reductions
REDUCE_SHAPES = [(6, 37), (3, 1000), (2, 5, 7)]  # warp-per-row, block-per-row, 2 reduced dims


def reduce_input(shape, dt, lo, hi, ints=False):
    """input view with reduced dims last, built from a transposed base (non-trivial strides)."""
    outer = shape[0]
    inner = int(np.prod(shape[1:]))
    v = RNG.integers(lo, hi, size=shape[::-1]) if ints else RNG.uniform(lo, hi, size=shape[::-1])
    base = encode(v, dt)
    view = base.T
    return view, base, E.layout(view, base), outer, inner


def run_reduce(emu, name, dt, base, lx, outer, inner, out_dt, extra_sig="", extra=(),
               grid=2, block=64):
    out = np.zeros(outer, E.NP[out_dt])
    emu.launch(f"ft_{name}_{dt}", "pLpqq" + extra_sig, [base, lx, out, outer, inner, *extra],
               grid=grid, block=block)
    return out


@pytest.mark.parametrize("shape", REDUCE_SHAPES)
@pytest.mark.parametrize("dt", ["f32", "f64", "f16"])
def test_reduce_float(emu, shape, dt):
    view, base, lx, outer, inner = reduce_input(shape, dt, -2, 2)
    x = view.astype(np.float64).reshape(outer, inner)
    rtol = {"f32": 1e-5, "f64": 1e-12, "f16": 2e-3}[dt]
    for name, ref in [("sum", x.sum(1)), ("mean", x.mean(1)), ("max", x.max(1)),
                      ("min", x.min(1))]:
        got = run_reduce(emu, name, dt, base, lx, outer, inner, dt).astype(np.float64)
        if dt == "f16":
            ref = ref.astype(np.float16).astype(np.float64)
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * 4, err_msg=name)
    for name, ref in [("argmax", x.argmax(1)), ("argmin", x.argmin(1))]:
        got = run_reduce(emu, name, dt, base, lx, outer, inner, "i64")
        np.testing.assert_array_equal(got, ref, err_msg=name)
    if dt != "f16":
        for corr in (0, 1):
            got = run_reduce(emu, "var", dt, base, lx, outer, inner, dt, "d", (float(corr),))
            np.testing.assert_allclose(got, x.var(1, ddof=corr), rtol=rtol * 10, err_msg="var")
            got = run_reduce(emu, "std", dt, base, lx, outer, inner, dt, "d", (float(corr),))
            np.testing.assert_allclose(got, x.std(1, ddof=corr), rtol=rtol * 10, err_msg="std")
    # prod on values near 1
    view, base, lx, outer, inner = reduce_input(shape, dt, 0.999, 1.001)
    x = view.astype(np.float64).reshape(outer, inner)
    got = run_reduce(emu, "prod", dt, base, lx, outer, inner, dt).astype(np.float64)
    np.testing.assert_allclose(got, x.prod(1), rtol=rtol * 10)


def test_reduce_block_sizes_and_grid(emu):
    view, base, lx, outer, inner = reduce_input((9, 700), "f32", -1, 1)
    x = view.astype(np.float64).reshape(outer, inner)
    for block, grid in [(32, 1), (128, 4), (256, 20)]:
        got = run_reduce(emu, "sum", "f32", base, lx, outer, inner, "f32", grid=grid, block=block)
        np.testing.assert_allclose(got, x.sum(1), rtol=1e-5, atol=1e-5)


def test_reduce_nan_ties_ints(emu):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [np.nan, 5.0, np.nan, 1.0], [2.0, 2.0, 2.0, 2.0],
                  [-np.inf, -np.inf, -5.0, -np.inf]], np.float32)
    lx = E.flat_layout(x.size)
    got = run_reduce(emu, "argmax", "f32", x, lx, 4, 4, "i64")
    np.testing.assert_array_equal(got, [1, 0, 0, 2])
    got = run_reduce(emu, "argmin", "f32", x, lx, 4, 4, "i64")
    np.testing.assert_array_equal(got, [3, 0, 0, 0])
    got = run_reduce(emu, "max", "f32", x, lx, 4, 4, "f32")
    np.testing.assert_array_equal(got, np.max(x, 1))
    # ints: sum/prod -> i64, max keeps dtype
    for dt in ["i32", "u8", "bool", "i8"]:
        view, base, lx, outer, inner = reduce_input((5, 40), dt, 0, 2 if dt == "bool" else 100,
                                                    ints=True)
        xi = view.astype(np.int64).reshape(outer, inner)
        np.testing.assert_array_equal(run_reduce(emu, "sum", dt, base, lx, outer, inner, "i64"),
                                      xi.sum(1), err_msg=dt)
        np.testing.assert_array_equal(run_reduce(emu, "max", dt, base, lx, outer, inner, dt),
                                      xi.max(1).astype(E.NP[dt]), err_msg=dt)
        np.testing.assert_array_equal(run_reduce(emu, "argmin", dt, base, lx, outer, inner, "i64"),
                                      xi.argmin(1), err_msg=dt)


@pytest.mark.parametrize("dt", ["f32", "f64"])
@pytest.mark.parametrize("inner", [10, 300, 1500])
def test_softmax(emu, dt, inner):
    outer = 5
    x = RNG.uniform(-10, 10, size=(outer, inner)).astype(E.NP[dt])
    x[0, :3] = [1000, 999, -1000]  # stability
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(1, keepdims=True))
    ref = e / e.sum(1, keepdims=True)
    lref = (x64 - x64.max(1, keepdims=True)) - np.log(e.sum(1, keepdims=True))
    tol = 1e-5 if dt == "f32" else 1e-12
    for name, r in [("softmax", ref), ("log_softmax", lref)]:
        out = np.zeros(x.size, E.NP[dt])
        emu.launch(f"ft_{name}_{dt}", "pLpqq", [x, E.flat_layout(x.size), out, outer, inner],
                   grid=2, block=64)
        np.testing.assert_allclose(out.reshape(outer, inner), r, rtol=tol, atol=tol, err_msg=name)


def test_softmax_f16_strided(emu):
    view, base, lx, outer, inner = reduce_input((4, 33), "f16", -3, 3)
    out = np.zeros(outer * inner, np.float16)
    emu.launch("ft_softmax_f16", "pLpqq", [base, lx, out, outer, inner])
    x = view.astype(np.float64).reshape(outer, inner)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(out.reshape(outer, inner), e / e.sum(1, keepdims=True),
                               rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("inner", [10, 150])
def test_cumsum_cumprod(emu, inner):
    outer = 4
    view, base, lx, _, _ = reduce_input((outer, inner), "f32", -1, 1)
    x = view.astype(np.float64).reshape(outer, inner)
    out = np.zeros(outer * inner, np.float32)
    emu.launch("ft_cumsum_f32", "pLpqq", [base, lx, out, outer, inner], grid=3, block=64)
    np.testing.assert_allclose(out.reshape(outer, inner), np.cumsum(x, 1), rtol=1e-5, atol=1e-5)
    view, base, lx, _, _ = reduce_input((outer, inner), "f64", 0.99, 1.01)
    x = view.reshape(outer, inner)
    out = np.zeros(outer * inner, np.float64)
    emu.launch("ft_cumprod_f64", "pLpqq", [base, lx, out, outer, inner], grid=3, block=64)
    np.testing.assert_allclose(out.reshape(outer, inner), np.cumprod(x, 1), rtol=1e-12)
    view, base, lx, _, _ = reduce_input((outer, inner), "i32", -1000, 1000, ints=True)
    out = np.zeros(outer * inner, np.int64)
    emu.launch("ft_cumsum_i32", "pLpqq", [base, lx, out, outer, inner], grid=3, block=64)
    np.testing.assert_array_equal(out.reshape(outer, inner),
                                  np.cumsum(view.astype(np.int64).reshape(outer, inner), 1))


# ================================================================ indexing
def test_gather(emu):
    xb = RNG.standard_normal((5, 4)).astype(np.float32)
    x = xb.T  # (4, 5), strided
    idx = RNG.integers(-5, 5, size=(4, 3)).astype(np.int64)
    out = np.zeros(idx.size, np.float32)
    emu.launch("ft_gather_f32", "pLpLpqi", [xb, E.layout(x, xb), idx, E.layout(idx), out,
                                           idx.size, 1])
    ref = np.take_along_axis(x, np.where(idx < 0, idx + 5, idx), axis=1)
    np.testing.assert_array_equal(out.reshape(4, 3), ref)
    # dim 0 with an out-of-range index -> 0
    idx0 = np.array([[0, 3, 1, 2, 0], [9, 1, 1, 1, -4]], np.int64)
    out = np.zeros(idx0.size, np.float32)
    emu.launch("ft_gather_f32", "pLpLpqi", [xb, E.layout(x, xb), idx0, E.layout(idx0), out,
                                           idx0.size, 0])
    ref = np.take_along_axis(x, np.clip(np.where(idx0 < 0, idx0 + 4, idx0), 0, 3), axis=0)
    ref[1, 0] = 0
    np.testing.assert_array_equal(out.reshape(2, 5), ref)


@pytest.mark.parametrize("dt", ["f32", "f64", "f16", "bf16", "i64", "i32", "i8", "i16", "u8"])
def test_scatter_add(emu, dt):
    out = encode(RNG.integers(0, 4, size=(4, 5)), dt)
    idx = RNG.integers(0, 5, size=(4, 30)).astype(np.int64)  # many duplicates: atomics
    srcb = encode(RNG.integers(0, 3, size=(30, 4)), dt)
    src = srcb.T
    ref = to_np_values(out, dt).astype(np.float64).copy()
    np.add.at(ref, (np.arange(4)[:, None].repeat(30, 1), idx),
              to_np_values(src, dt).astype(np.float64))
    emu.launch(f"ft_scatter_add_{dt}", "pLpLpLqi",
               [out, E.layout(out), idx, E.layout(idx), srcb, E.layout(src, srcb), idx.size, 1],
               grid=4, block=64)
    np.testing.assert_array_equal(to_np_values(out, dt).astype(np.float64), ref)


def test_scatter_and_index_select(emu):
    out = np.zeros((3, 4), np.float64)
    idx = np.array([[2, 0], [1, 3], [-1, 0]], np.int64)
    src = np.arange(6, dtype=np.float64).reshape(3, 2) + 1
    emu.launch("ft_scatter_f64", "pLpLpLqi",
               [out, E.layout(out), idx, E.layout(idx), src, E.layout(src), idx.size, 1])
    ref = np.zeros((3, 4))
    np.put_along_axis(ref, np.where(idx < 0, idx + 4, idx), src, axis=1)
    np.testing.assert_array_equal(out, ref)

    xb = RNG.integers(-50, 50, size=(6, 5)).astype(np.int32)
    x = xb.T  # (5, 6)
    sel = np.array([4, -1, 0, 2, 2], np.int64)
    for dim in (0, 1):
        shape = list(x.shape)
        shape[dim] = sel.size
        n = int(np.prod(shape))
        out = np.zeros(n, np.int32)
        emu.launch("ft_index_select_i32", "pLpqpqi",
                   [xb, E.layout(x, xb), sel, sel.size, out, n, dim])
        ref = np.take(x, np.where(sel < 0, sel + x.shape[dim], sel), axis=dim)
        np.testing.assert_array_equal(out.reshape(shape), ref, err_msg=f"dim {dim}")


def test_masked_fill(emu):
    ob = np.arange(20, dtype=np.float32).reshape(5, 4)
    view = ob.T  # in place on a strided (4, 5) view
    mb = np.array([[True, False, True, False, False]])
    mask = np.broadcast_to(mb, view.shape)
    ref = view.copy()
    ref[mask] = -7.0
    emu.launch("ft_masked_fill_f32", "pLpLfq",
               [ob, E.layout(view, ob), mb, E.layout(mask, mb), -7.0, view.size])
    np.testing.assert_array_equal(view, ref)
    h = np.zeros(6, np.float16)
    m = np.array([1, 0, 1, 1, 0, 0], np.bool_)
    emu.launch("ft_masked_fill_f16", "pLpLHq",
               [h, E.flat_layout(6), m, E.flat_layout(6), int(np.float16(2.5).view(np.uint16)), 6])
    np.testing.assert_array_equal(h, np.where(m, 2.5, 0).astype(np.float16))


# ================================================================ Philox
KATS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def test_philox_reference_kat():
    for ctr, key, expect in KATS:
        assert E.philox4x32_10(ctr, key) == expect


def test_philox_bits_kat_and_stream(emu):
    out = np.zeros(4, np.uint32)
    emu.launch("ft_philox_bits", "pqQQ", [out, 4, 0, 0], grid=1, block=32)
    assert [int(v) for v in out] == list(KATS[0][2])
    seed, offset, n = 0x0123456789ABCDEF, 4 * 1000003, 37
    out = np.zeros(n, np.uint32)
    emu.launch("ft_philox_bits", "pqQQ", [out, n, seed, offset], grid=2, block=32)
    assert [int(v) for v in out] == E.philox_words(seed, offset, n)
    # block counter above 2^32 (high counter word in use)
    offset = 4 * (2**32 + 5)
    out = np.zeros(9, np.uint32)
    emu.launch("ft_philox_bits", "pqQQ", [out, 9, seed, offset], grid=1, block=32)
    assert [int(v) for v in out] == E.philox_words(seed, offset, 9)


def test_philox_uniform_bit_exact(emu):
    seed, offset, n = 0xDEADBEEFCAFEF00D, 64, 103
    w = E.philox_words(seed, offset, 4 * ((n + 3) // 4))
    out = np.zeros(n, np.float32)
    emu.launch("ft_philox_uniform_f32", "pqQQff", [out, n, seed, offset, -2.0, 3.0], grid=2, block=32)
    # (w >> 8) * 2^-24 * 5 - 2 is exact in double, so one rounding to f32 = fmaf
    ref = np.array([np.float32((x >> 8) * 2.0**-24 * 5.0 - 2.0) for x in w[:n]], np.float32)
    np.testing.assert_array_equal(out, ref)
    out = np.zeros(n, np.float32)
    emu.launch("ft_philox_uniform_f32", "pqQQff", [out, n, seed, offset, 0.0, 1.0], grid=2, block=32)
    np.testing.assert_array_equal(out, np.array([(x >> 8) * 2.0**-24 for x in w[:n]], np.float32))
    assert out.min() >= 0 and out.max() < 1

    w = E.philox_words(seed, offset, 4 * ((n + 1) // 2))
    out = np.zeros(n, np.float64)
    emu.launch("ft_philox_uniform_f64", "pqQQdd", [out, n, seed, offset, -2.0, 3.0], grid=2, block=32)
    ref = []
    for i in range(n):
        q = (w[2 * i + 1] << 32) | w[2 * i]
        u = Fraction(q >> 11, 2**53)
        ref.append(float(u * 5 - 2))  # correctly rounded = fma
    np.testing.assert_array_equal(out, np.array(ref))


def test_philox_normal(emu):
    seed, offset, n = 42, 0, 2050
    w = E.philox_words(seed, offset, 4 * ((n + 3) // 4))
    out = np.zeros(n, np.float32)
    emu.launch("ft_philox_normal_f32", "pqQQff", [out, n, seed, offset, 1.0, 2.0], grid=4, block=64)
    ref = []
    for i in range(n):
        p = i // 2
        a = ((w[2 * p] >> 8) + 1) * 2.0**-24
        b = (w[2 * p + 1] >> 8) * 2.0**-24
        r = math.sqrt(-2 * math.log(a))
        t = 2 * math.pi * b
        z = r * math.cos(t) if i % 2 == 0 else r * math.sin(t)
        ref.append(1.0 + 2.0 * z)
    np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-5)
    assert abs(out.mean() - 1.0) < 0.15 and abs(out.std() - 2.0) < 0.15

    w = E.philox_words(seed, offset, 4 * ((n + 1) // 2))
    out = np.zeros(n, np.float64)
    emu.launch("ft_philox_normal_f64", "pqQQdd", [out, n, seed, offset, 0.0, 1.0], grid=4, block=64)
    ref = []
    for i in range(n):
        p = i // 2
        q0 = (w[4 * p + 1] << 32) | w[4 * p]
        q1 = (w[4 * p + 3] << 32) | w[4 * p + 2]
        a = 1.0 - (q0 >> 11) * 2.0**-53
        b = (q1 >> 11) * 2.0**-53
        r = math.sqrt(-2 * math.log(a))
        t = 6.283185307179586 * b
        ref.append(r * math.cos(t) if i % 2 == 0 else r * math.sin(t))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("low,high", [(0, 10), (-7, 5), (-2**63, 2**63 - 1), (3, 4)])
def test_philox_randint(emu, low, high):
    # e[i] = low + q[i] % span with the u64 word pairs of uniform f64; exact integers.
    seed, offset, n = 7, 8, 301
    span = (high - low) % 2**64
    w = E.philox_words(seed, offset, 4 * ((n + 1) // 2))
    out = np.zeros(n, np.int64)
    emu.launch("ft_philox_randint", "pqQQqQ", [out, n, seed, offset, low, span], grid=2, block=32)
    ref = [low + ((w[2 * i + 1] << 32) | w[2 * i]) % span for i in range(n)]
    assert [int(v) for v in out] == ref
    assert out.min() >= low and out.max() < high
