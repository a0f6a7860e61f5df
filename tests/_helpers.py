"""Shared test helpers: compare ferrotorch results with NumPy float64 references.

Every check converts the ferrotorch result to NumPy through `.tolist()`-free paths
(`.numpy()` on a detached CPU tensor), and compares against a reference computed in
float64 with a tolerance that depends on the dtype under test.
"""
import importlib.util
import os

import numpy as np
import ferrotorch as torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (rtol, atol) per dtype name: the reference is float64, so these bound the error of
# computing in the tested dtype.
TOL = {
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
    "float32": (1e-5, 1e-6),
    "float64": (1e-12, 1e-12),
}

FLOAT_DTYPES = ["float16", "bfloat16", "float32", "float64"]
INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
ALL_DTYPES = ["bool"] + INT_DTYPES + FLOAT_DTYPES

ORDER = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]
ABBR = {"b": "bool", "u8": "uint8", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
        "f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64"}

# PyTorch's promote_types, written out by hand (row dtype ⊕ column dtype): the reference of
# tests/test_dtypes.py and of the op table's dtype rules (tests/op_table.py).
PROMOTE_TABLE = """
       b    u8   i8   i16  i32  i64  f16  bf16 f32  f64
b      b    u8   i8   i16  i32  i64  f16  bf16 f32  f64
u8     u8   u8   i16  i16  i32  i64  f16  bf16 f32  f64
i8     i8   i16  i8   i16  i32  i64  f16  bf16 f32  f64
i16    i16  i16  i16  i16  i32  i64  f16  bf16 f32  f64
i32    i32  i32  i32  i32  i32  i64  f16  bf16 f32  f64
i64    i64  i64  i64  i64  i64  i64  f16  bf16 f32  f64
f16    f16  f16  f16  f16  f16  f16  f16  f32  f32  f64
bf16   bf16 bf16 bf16 bf16 bf16 bf16 f32  bf16 f32  f64
f32    f32  f32  f32  f32  f32  f32  f32  f32  f32  f64
f64    f64  f64  f64  f64  f64  f64  f64  f64  f64  f64
"""


def _parse_table():
    rows = [r.split() for r in PROMOTE_TABLE.strip().splitlines()]
    cols = [ABBR[c] for c in rows[0]]
    table = {}
    for r in rows[1:]:
        for c, v in zip(cols, r[1:]):
            table[(ABBR[r[0]], c)] = ABBR[v]
    return table


PROMOTE = _parse_table()


def dt(name):
    """ferrotorch dtype object from its name ("float32" -> torch.float32)."""
    return getattr(torch, name)


def dtype_name(d):
    return str(d).split(".")[-1]


def to_np(t):
    """A ferrotorch tensor as a NumPy array (bfloat16/float16 widened to float64)."""
    t = t.detach().cpu()
    name = dtype_name(t.dtype)
    if name in ("bfloat16", "float16"):
        t = t.to(torch.float64)
    return t.numpy().copy()


def np_dtype(name):
    return {"bfloat16": np.float32}.get(name, np.dtype(name) if name != "bool" else np.bool_)


def make(shape, dtype="float32", low=-3.0, high=3.0, seed=0, positive=False):
    """Random (NumPy array, ferrotorch tensor) pair holding the same values.

    The NumPy array holds the values exactly as the tensor stores them (rounded to
    the tensor's dtype) but in float64 / int64, ready to be a reference input.
    """
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        a = rng.random(shape) > 0.5
        return a, torch.tensor(a)
    if dtype in INT_DTYPES:
        lo, hi = (0, 10) if dtype == "uint8" else (-10, 10)
        if positive:
            lo = 1
        a = rng.integers(lo, hi, size=shape).astype(dtype)
        return a.astype(np.int64), torch.tensor(a)
    if positive:
        low, high = 0.1, high
    a = rng.uniform(low, high, size=shape)
    t = torch.tensor(a, dtype=torch.float64).to(dt(dtype))
    return to_np(t).astype(np.float64), t


def assert_close(actual, expected, dtype=None, rtol=None, atol=None, equal_nan=True):
    """actual: ferrotorch tensor; expected: NumPy array or scalar (float64 reference)."""
    if dtype is None:
        dtype = dtype_name(actual.dtype)
    r, a = TOL.get(dtype, (0, 0))
    rtol = r if rtol is None else rtol
    atol = a if atol is None else atol
    got = to_np(actual)
    expected = np.asarray(expected)
    assert tuple(got.shape) == tuple(expected.shape), f"shape {got.shape} != {expected.shape}"
    if dtype in FLOAT_DTYPES:
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64),
                                   rtol=rtol, atol=atol, equal_nan=equal_nan)
    else:
        np.testing.assert_array_equal(got, expected)


def load_script(relpath, name):
    """A script of the repository (examples/, scripts/) imported as a module without running its main."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, relpath))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
