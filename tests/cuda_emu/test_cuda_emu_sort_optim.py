"""cuda/sort.cu and cuda/optim.cu run on the CPU through tests/cuda_emu/cuda_emu.h.

* ft_sort_<dt>: against a small pure-Python stable sort that spells out PyTorch's rules
  (NaN above every number, NaNs and equal keys in input order in both directions,
  -0.0 == 0.0), itself checked against np.argsort(kind="stable") where the two agree; every
  dtype, contiguous / strided / broadcast (stride 0) inputs, rows of 1..2048 elements, block
  sizes 32 and 256, fewer blocks than rows.
* ft_sgd_<f32|f64>, ft_adam_<f32|f64>: several steps of every option combination, against
  (1) a float64 NumPy implementation of PyTorch's formulas (tolerance) and (2) a NumPy
  replica of the CPU loops of rust/core/src/optim.rs in the parameter's dtype, op for op
  (bit-exact: the GPU step must give the CPU step's bits).
* ft_<rmsprop|adagrad|adadelta|adamax|nadam|radam|asgd|rprop|sparse_adam>_<f32|f64>: the same two
  checks over every option set of tests/_optim_refs.py (its float64 references), 4 steps, and
  NaN / inf gradients (bit-exact against the replica).
"""
import itertools
import math
import os
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftcuda_emu as E  # noqa: E402


# `emu` (the built emulation library) comes from conftest.py.


RNG = np.random.default_rng(20240611)
ALL = ["bool", "u8", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64"]
FLOATS = {"f16", "bf16", "f32", "f64"}


# ================================================================ sort
def ref_sort_row(keys, descending):
    """Stable order of one row (list of Python floats/ints): PyTorch's sort rules."""
    def key(j):
        v = keys[j]
        nan = isinstance(v, float) and math.isnan(v)
        if descending:
            return (not nan, 0 if nan else -v)  # NaN first; -(-0.0) == -(0.0): a tie
        return (nan, 0 if nan else v)           # NaN last; -0.0 == 0.0: a tie
    return sorted(range(len(keys)), key=key)  # Python's sort is stable


def sort_values(n, dt):
    """n values of dt with many ties; floats include +-inf, +-0.0 and NaNs of both signs."""
    if dt == "bool":
        return RNG.integers(0, 2, n).astype(np.bool_)
    if dt in FLOATS:
        pool = np.array([-np.inf, -3.0, -1.5, -1.0, -0.0, 0.0, 0.25, 1.0, 2.5, np.inf, np.nan,
                         -np.nan], np.float64)
        v = np.where(RNG.random(n) < 0.5, pool[RNG.integers(0, pool.size, n)],
                     RNG.uniform(-100, 100, n))
        if dt == "bf16":
            return E.f32_to_bf16_bits(v.astype(np.float32))
        return v.astype(E.NP[dt])
    info = np.iinfo(E.NP[dt])
    wide = RNG.integers(info.min, info.max, n, endpoint=True, dtype=np.int64)
    v = np.where(RNG.random(n) < 0.5, RNG.integers(-3, 4, n), wide)
    v[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
    return v.astype(E.NP[dt]) if dt != "u8" else np.where(v < 0, -v, v).astype(np.uint8)


def key_values(a, dt):
    """Buffer values -> Python floats / ints for the reference."""
    if dt == "bf16":
        return E.bf16_bits_to_f32(a).astype(np.float64).tolist()
    if dt in FLOATS:
        return a.astype(np.float64).tolist()
    return [int(x) for x in a]


def bits(a):
    """Bit patterns, so that -0.0 / NaN payloads are compared exactly."""
    return a.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def sort_input(kind, outer, inner, dt):
    """-> (view of shape [outer, inner], base buffer, Layout)."""
    if kind == "flat":
        base = sort_values(outer * inner, dt)
        return base.reshape(outer, inner), base, E.flat_layout(base.size)
    if kind == "strided":  # transposed + offset base: non-unit strides on both dims
        base = sort_values((inner + 1) * (outer + 2), dt).reshape(inner + 1, outer + 2)
        view = base[1:, 2:].T
        return view, base, E.layout(view, base)
    if kind == "bcast_rows":  # stride 0 on an outer dim, 3-d Layout: rows repeat
        small = sort_values(2 * inner, dt).reshape(2, 1, inner)
        view = np.broadcast_to(small, (2, (outer + 1) // 2, inner))
        return view.reshape(-1, inner), small, E.layout(view, small)
    if kind == "bcast_inner":  # stride 0 on the sorted dim: one key per row, all ties
        small = sort_values(outer, dt).reshape(outer, 1)
        view = np.broadcast_to(small, (outer, inner))
        return view, small, E.layout(view, small)
    raise ValueError(kind)


def run_sort(emu, dt, base, lx, outer, inner, descending, grid, block):
    vals = np.zeros(outer * inner, E.NP[dt])
    idx = np.full(outer * inner, -1, np.int64)
    emu.launch(f"ft_sort_{dt}", "pLppqqi", [base, lx, vals, idx, outer, inner, descending],
               grid=grid, block=block)
    return vals.reshape(outer, inner), idx.reshape(outer, inner)


def check_sort(emu, dt, kind, outer, inner, descending, grid, block):
    view, base, lx = sort_input(kind, outer, inner, dt)
    outer = view.shape[0]
    vals, idx = run_sort(emu, dt, base, lx, outer, inner, descending, grid, block)
    for r in range(outer):
        ref = ref_sort_row(key_values(view[r], dt), descending)
        msg = f"{dt} {kind} outer={outer} inner={inner} desc={descending} row {r}"
        np.testing.assert_array_equal(idx[r], ref, err_msg=msg)
        np.testing.assert_array_equal(bits(vals[r]), bits(np.ascontiguousarray(view[r][ref])),
                                      err_msg=msg)


def test_reference_sort_matches_numpy_stable_argsort():
    # Ascending, NumPy's stable argsort has the same rules (NaNs last, in input order;
    # -0.0 == 0.0); descending without NaNs is the stable argsort of the negation.
    x = np.array([2.0, np.nan, -0.0, 1.0, 0.0, np.nan, -np.inf, 1.0, np.inf, -0.0])
    assert ref_sort_row(x.tolist(), False) == np.argsort(x, kind="stable").tolist()
    y = x[~np.isnan(x)]
    assert ref_sort_row(y.tolist(), True) == np.argsort(-y, kind="stable").tolist()
    # hand-checked: NaNs first (input order), then 1.0 twice in input order, then the zeros
    assert ref_sort_row([1.0, float("nan"), 0.0, 1.0, -0.0, float("nan")], True) == \
        [1, 5, 0, 3, 2, 4]
    for dt in ["i8", "u8", "i64", "bool"]:
        v = sort_values(200, dt)
        assert ref_sort_row(key_values(v, dt), False) == np.argsort(v, kind="stable").tolist()


INNERS = [1, 2, 7, 64, 300, 2048]


@pytest.mark.parametrize("inner", INNERS)
@pytest.mark.parametrize("dt", ALL)
def test_sort(emu, dt, inner):
    # fewer blocks than rows (grid-stride); both block sizes; a broadcast layout in turn
    block = 32 if inner in (2, 300, 2048) else 256
    outer = 3 if inner == 2048 else 5
    kinds = ["flat", "strided", ["bcast_rows", "bcast_inner"][INNERS.index(inner) % 2]]
    for descending, kind in itertools.product([0, 1], kinds):
        check_sort(emu, dt, kind, outer, inner, descending, grid=2, block=block)


def run_merge_sort(emu, dt, base, lx, outer, inner, descending, grid=3, block=64):
    """The host's long-row sequence: keys, merge passes of width 1, 2, 4, ..., take."""
    n = outer * inner
    keys = [np.zeros(n, np.uint64), np.zeros(n, np.uint64)]
    pos = [np.full(n, -1, np.int64), np.full(n, -1, np.int64)]
    emu.launch(f"ft_sort_keys_{dt}", "pLppqqi", [base, lx, keys[0], pos[0], outer, inner, descending],
               grid=grid, block=block)
    width, cur = 1, 0
    while width < inner:
        emu.launch("ft_sort_merge", "ppppqqq", [keys[cur], pos[cur], keys[1 - cur], pos[1 - cur],
                                                outer, inner, width], grid=grid, block=block)
        width, cur = 2 * width, 1 - cur
    vals = np.zeros(n, E.NP[dt])
    emu.launch(f"ft_sort_take_{dt}", "pLppqq", [base, lx, pos[cur], vals, outer, inner],
               grid=grid, block=block)
    return vals.reshape(outer, inner), pos[cur].reshape(outer, inner)


@pytest.mark.parametrize("dt", ["f32", "f64", "f16", "bf16", "i64", "u8", "bool"])
@pytest.mark.parametrize("inner", [1, 5, 64, 3000])
def test_merge_sort_long_rows(emu, dt, inner):
    # The same order as the one-block sort (stable both ways, NaN largest, -0.0 == 0.0),
    # on row lengths that are and are not powers of two, and strided / broadcast layouts.
    for descending, kind in itertools.product([0, 1], ["flat", "strided", "bcast_inner"]):
        view, base, lx = sort_input(kind, 3, inner, dt)
        vals, idx = run_merge_sort(emu, dt, base, lx, view.shape[0], inner, descending)
        for r in range(view.shape[0]):
            ref = ref_sort_row(key_values(view[r], dt), descending)
            msg = f"{dt} {kind} inner={inner} desc={descending} row {r}"
            np.testing.assert_array_equal(idx[r], ref, err_msg=msg)
            np.testing.assert_array_equal(bits(vals[r]), bits(np.ascontiguousarray(view[r][ref])),
                                          err_msg=msg)


def test_sort_block_sizes_and_ties(emu):
    # all-equal rows come back in input order in both directions; any power-of-two block
    for block in [32, 64, 128, 256, 512, 1024]:
        check_sort(emu, "f32", "strided", 2, 300, block % 3 == 1, grid=1, block=block)
    for dt in ["f32", "i16"]:
        x = np.zeros((2, 37), E.NP[dt])
        for descending in (0, 1):
            vals, idx = run_sort(emu, dt, x, E.flat_layout(x.size), 2, 37, descending, 1, 64)
            np.testing.assert_array_equal(idx, np.tile(np.arange(37), (2, 1)))
    # only NaNs and signed zeros: NaNs keep input order at the chosen end
    x = np.array([np.nan, 0.0, -np.nan, -0.0, np.nan, 0.0], np.float64)
    for descending, ref in [(0, [1, 3, 5, 0, 2, 4]), (1, [0, 2, 4, 1, 3, 5])]:
        vals, idx = run_sort(emu, "f64", x, E.flat_layout(6), 1, 6, descending, 1, 32)
        np.testing.assert_array_equal(idx[0], ref)
        np.testing.assert_array_equal(bits(vals[0]), bits(x[ref]))


def test_sort_empty_and_no_rows(emu):
    # outer == 0 or inner == 0: nothing is written
    idx = np.full(4, -7, np.int64)
    vals = np.zeros(4, np.float32)
    x = np.ones(4, np.float32)
    for outer, inner in [(0, 4), (4, 0)]:
        emu.launch("ft_sort_f32", "pLppqqi", [x, E.flat_layout(4), vals, idx, outer, inner, 0],
                   grid=1, block=32)
    assert (idx == -7).all()


# ================================================================ optimizers
def _powi(x, n):
    """Rust's f64::powi (compiler-rt __powidf2: square and multiply), as the host computes."""
    r = 1.0
    while True:
        if n & 1:
            r *= x
        n //= 2
        if n == 0:
            return r
        x *= x


def sgd_args(h):
    """Host constants of ft_sgd (what rust/core/src/optim.rs's SgdConsts holds, in f64)."""
    return [-h["lr"], h["weight_decay"], h["momentum"], 1.0 - h["dampening"]]


def adam_args(h, step):
    bc1 = 1.0 - _powi(h["beta1"], step)
    bc2 = 1.0 - _powi(h["beta2"], step)
    w1 = 1.0 - h["beta1"]
    return [-(h["lr"] / bc1), math.sqrt(bc2), h["eps"], w1, 1.0 - w1, h["beta2"],
            1.0 - h["beta2"], 1.0 - h["lr"] * h["weight_decay"], h["weight_decay"]]


# ---- (1) PyTorch's formulas in float64 (torch/optim/sgd.py, adam.py, single-tensor)
def sgd_ref64(p, g, buf, h):
    d = -g if h["maximize"] else g.copy()
    if h["weight_decay"]:
        d = d + h["weight_decay"] * p
    if h["momentum"]:
        buf = d.copy() if buf is None else h["momentum"] * buf + (1 - h["dampening"]) * d
        d = d + h["momentum"] * buf if h["nesterov"] else buf
    return p - h["lr"] * d, buf


def adam_ref64(p, g, m, v, vmax, step, h):
    g = -g if h["maximize"] else g
    if h["decoupled"]:
        p = p * (1 - h["lr"] * h["weight_decay"])
    elif h["weight_decay"]:
        g = g + h["weight_decay"] * p
    m = h["beta1"] * m + (1 - h["beta1"]) * g
    v = h["beta2"] * v + (1 - h["beta2"]) * g * g
    if h["amsgrad"]:
        vmax = np.maximum(vmax, v)
    bc1, bc2 = 1 - h["beta1"] ** step, 1 - h["beta2"] ** step
    denom = np.sqrt(vmax if h["amsgrad"] else v) / math.sqrt(bc2) + h["eps"]
    return p - h["lr"] / bc1 * m / denom, m, v, vmax


# ---- (2) the CPU loops (sgd_chunk / adam_chunk), op for op in dtype T (NumPy: no FMA)
def sgd_replica(p, g, buf, first, h, T):
    lr, wd, mom, damp = (T(c) for c in sgd_args(h))
    d = -g if h["maximize"] else g.copy()
    if h["weight_decay"] != 0.0:
        d = d + wd * p
    if h["momentum"] != 0.0:
        buf = d.copy() if first else buf * mom + damp * d
        d = d + mom * buf if h["nesterov"] else buf
    return p + lr * d, buf


def adam_replica(p, g, m, v, vmax, step, h, T):
    nss, bc2s, eps, w, wc, b2, omb2, decay, wd = (T(c) for c in adam_args(h, step))
    x = p.copy()
    gr = -g if h["maximize"] else g.copy()
    if h["decoupled"]:
        x = x * decay
    elif h["weight_decay"] != 0.0:
        gr = gr + wd * x
    m1 = m + w * (gr - m) if 1.0 - h["beta1"] < 0.5 else gr - (gr - m) * wc
    v1 = v * b2 + omb2 * gr * gr
    vv = v1
    if h["amsgrad"]:
        vv = np.where((v1 > vmax) | np.isnan(v1), v1, vmax)
        vmax = vv
    denom = np.sqrt(vv) / bc2s + eps
    return x + nss * (m1 / denom), m1, v1, vmax


SGD_CASES = [dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=wd, maximize=mx)
             for wd in (0.0, 0.1) for mx in (False, True)]
SGD_CASES += [dict(momentum=0.9, dampening=damp, nesterov=False, weight_decay=wd, maximize=mx)
              for damp in (0.0, 0.25) for wd in (0.0, 0.1) for mx in (False, True)]
SGD_CASES += [dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=wd, maximize=mx)
              for wd in (0.0, 0.1) for mx in (False, True)]
N_OPT = 700  # > grid * block (3 x 64) below: threads loop (any grid/block is valid)
STEPS = 3
TOL = {"f32": dict(rtol=1e-6, atol=1e-7), "f64": dict(rtol=1e-12, atol=1e-14)}


def opt_tensors(T, k):
    return [RNG.uniform(-1, 1, N_OPT).astype(T) for _ in range(k)]


def ptr_or_null(a):
    return 0 if a is None else a


@pytest.mark.parametrize("dt", ["f32", "f64"])
def test_sgd_all_options(emu, dt):
    T = E.NP[dt]
    for case in SGD_CASES:
        h = dict(lr=0.05, **case)
        p0, = opt_tensors(T, 1)
        p, buf = p0.copy(), None  # kernel state
        rp, rbuf = p0.copy(), None  # exact replica
        fp, fbuf = p0.astype(np.float64), None  # float64 reference
        for step in range(STEPS):
            g, = opt_tensors(T, 1)
            first = buf is None
            if h["momentum"] != 0.0 and first:
                buf = np.full(N_OPT, np.nan, T)  # fresh, uninitialised buffer
            emu.launch(f"ft_sgd_{dt}", "pppqddddiii",
                       [p, g, ptr_or_null(buf), N_OPT, *sgd_args(h), int(h["nesterov"]),
                        int(h["maximize"]), int(first)], grid=3, block=64)
            rp, rbuf = sgd_replica(rp, g, rbuf, first, h, T)
            fp, fbuf = sgd_ref64(fp, g.astype(np.float64), fbuf, h)
            msg = f"{dt} {h} step {step + 1}"
            np.testing.assert_array_equal(p, rp, err_msg=msg)
            np.testing.assert_allclose(p, fp, **TOL[dt], err_msg=msg)
            if h["momentum"] != 0.0:
                np.testing.assert_array_equal(buf, rbuf, err_msg=msg)
                np.testing.assert_allclose(buf, fbuf, **TOL[dt], err_msg=msg)


ADAM_CASES = [dict(decoupled=dec, amsgrad=ams, maximize=mx, weight_decay=wd, beta1=b1)
              for dec in (False, True) for ams in (False, True) for mx in (False, True)
              for wd in (0.0, 0.1) for b1 in (0.9, 0.3)]  # 1 - beta1 < 0.5 or not: lerp forms


@pytest.mark.parametrize("dt", ["f32", "f64"])
def test_adam_all_options(emu, dt):
    T = E.NP[dt]
    for case in ADAM_CASES:
        h = dict(lr=0.01, beta2=0.999, eps=1e-8, **case)
        p0, = opt_tensors(T, 1)
        st = [p0.copy(), np.zeros(N_OPT, T), np.zeros(N_OPT, T), np.zeros(N_OPT, T)]
        rst = [a.copy() for a in st]
        fst = [a.astype(np.float64) for a in st]
        for step in range(1, STEPS + 1):
            g, = opt_tensors(T, 1)
            p, m, v, vmax = st
            emu.launch(f"ft_adam_{dt}", "pppppqdddddddddiii",
                       [p, g, m, v, vmax if h["amsgrad"] else 0, N_OPT, *adam_args(h, step),
                        int(h["amsgrad"]), int(h["maximize"]), int(h["decoupled"])],
                       grid=3, block=64)
            rst = list(adam_replica(rst[0], g, rst[1], rst[2], rst[3], step, h, T))
            fst = list(adam_ref64(fst[0], g.astype(np.float64), fst[1], fst[2], fst[3], step, h))
            msg = f"{dt} {h} step {step}"
            names = ["param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
            for k in range(4 if h["amsgrad"] else 3):
                np.testing.assert_array_equal(st[k], rst[k], err_msg=f"{names[k]} {msg}")
                np.testing.assert_allclose(st[k], fst[k], **TOL[dt], err_msg=f"{names[k]} {msg}")
            if not h["amsgrad"]:
                assert (vmax == 0).all()  # not touched


def test_adam_first_step_is_lr_times_sign(emu):
    # hand-computed: with bias correction the first Adam step moves each weight by
    # lr * g / (|g| + eps') ~ lr * sign(g)
    p = np.ones(4, np.float64)
    g = np.array([3.0, -0.25, 1e-3, -40.0])
    m, v = np.zeros(4), np.zeros(4)
    h = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
    emu.launch("ft_adam_f64", "pppppqdddddddddiii",
               [p, g, m, v, 0, 4, *adam_args(h, 1), 0, 0, 0], grid=1, block=32)
    np.testing.assert_allclose(p, 1 - 0.01 * np.sign(g), rtol=0, atol=1e-7)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_optim_nonfinite_grads(emu):
    # NaN / inf gradients propagate exactly as in the CPU loops (amsgrad's max keeps NaN)
    for dt in ["f32", "f64"]:
        T = E.NP[dt]
        g = np.array([np.nan, np.inf, -np.inf, 1.0, -0.0, 2.0], T)
        p0 = np.array([1.0, -1.0, 0.5, np.nan, 2.0, 3.0], T)
        h = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled=True,
                 amsgrad=True, maximize=True)
        st = [p0.copy(), np.zeros(6, T), np.zeros(6, T), np.zeros(6, T)]
        rst = [a.copy() for a in st]
        for step in (1, 2):
            emu.launch(f"ft_adam_{dt}", "pppppqdddddddddiii",
                       [*st[:1], g, *st[1:], 6, *adam_args(h, step), 1, 1, 1], grid=1, block=32)
            rst = list(adam_replica(rst[0], g, rst[1], rst[2], rst[3], step, h, T))
            for a, b in zip(st, rst):
                np.testing.assert_array_equal(a, b)
        assert np.isnan(st[3][0]) and np.isnan(st[0][0])
        h = dict(lr=0.1, momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.0,
                 maximize=False)
        p, buf = p0.copy(), np.zeros(6, T)
        emu.launch(f"ft_sgd_{dt}", "pppqddddiii", [p, g, buf, 6, *sgd_args(h), 1, 0, 1],
                   grid=1, block=32)
        rp, rbuf = sgd_replica(p0, g, None, True, h, T)
        np.testing.assert_array_equal(p, rp)
        np.testing.assert_array_equal(buf, rbuf)


# ================================================================ the other optimizers
# ft_<algo>_<f32|f64>(p, g, s0, s1, s2, n, c0..c9, flags) for RMSprop, Adagrad, Adadelta, Adamax,
# NAdam, RAdam, ASGD, Rprop and SparseAdam: every option set of tests/_optim_refs.py, STEPS2 steps,
# against (1) the float64 NumPy references of PyTorch's documented updates there (tolerance) and
# (2) a NumPy replica, in the parameter's dtype and op for op, of the CPU loops (`<algo>_chunk`)
# of rust/core/src/optim.rs (bit-exact). The host constants come from a port of that file's
# `prepare`, which also keeps the 0-d scalar state (NAdam's mu_product, ASGD's eta and mu, float32
# tensors as PyTorch's default scalar dtype makes them).
from _optim_refs import CASES as OPT2_CASES, REFS as OPT2_REFS  # noqa: E402

F_MAX, F_WD, F_A, F_B = 1, 2, 4, 8
STEPS2 = 4  # ASGD with t0=0 / 2 switches its averaging on (mu != 1) within these
KERNEL = {"RMSprop": "rmsprop", "Adagrad": "adagrad", "Adadelta": "adadelta", "Adamax": "adamax",
          "NAdam": "nadam", "RAdam": "radam", "ASGD": "asgd", "Rprop": "rprop", "SparseAdam": "sparse_adam"}
DEFAULTS = {
    "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False),
    "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10),
    "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0),
    "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
    "NAdam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                  decoupled_weight_decay=False),
    "RAdam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False),
    "ASGD": dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0),
    "Rprop": dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)),
    "SparseAdam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
}
TOL2 = {"f32": dict(rtol=2e-5, atol=2e-6), "f64": dict(rtol=1e-11, atol=1e-12)}


def _f32(v):
    return float(np.float32(v))


def prepare(name, h, step, sc):
    """rust/core/src/optim.rs `prepare`: (c0..c9, flags) for this step (`step` counted after its
    increment); updates the scalar state dict `sc` as the host does."""
    c = [0.0] * 10
    f = F_MAX if h.get("maximize") else 0
    wdf = F_WD if h.get("weight_decay", 0) != 0 else 0
    if name == "RMSprop":
        c[:6] = [-h["lr"], h["weight_decay"], h["alpha"], 1.0 - h["alpha"], h["eps"], h["momentum"]]
        f |= wdf | (F_A if h["centered"] else 0) | (F_B if h["momentum"] > 0 else 0)
    elif name == "Adagrad":
        c[:3] = [-(h["lr"] / (1.0 + (step - 1.0) * h["lr_decay"])), h["weight_decay"], h["eps"]]
        f |= wdf
    elif name == "Adadelta":
        c[:5] = [-h["lr"], h["weight_decay"], h["rho"], 1.0 - h["rho"], h["eps"]]
        f |= wdf
    elif name == "Adamax":
        b1, b2 = h["betas"]
        c[:5] = [-(h["lr"] / (1.0 - b1 ** step)), h["weight_decay"], 1.0 - b1, b2, h["eps"]]
        f |= wdf
    elif name == "NAdam":
        (b1, b2), lr, psi, wd = h["betas"], h["lr"], h["momentum_decay"], h["weight_decay"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1.0) * psi))
        sc["mu_product"] = mp = _f32(_f32(sc["mu_product"]) * _f32(mu))  # a float32 0-d tensor
        c[:9] = [-lr * (1.0 - mu) / (1.0 - mp), (-lr * mu_next) / (1.0 - mp * mu_next), wd, 1.0 - lr * wd,
                 1.0 - b1, b2, 1.0 - b2, 1.0 - b2 ** step, h["eps"]]
        f |= wdf | (F_A if h["decoupled_weight_decay"] else 0)
    elif name == "RAdam":
        (b1, b2), lr, wd = h["betas"], h["lr"], h["weight_decay"]
        bc1, bc2 = 1.0 - b1 ** step, 1.0 - b2 ** step
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * step * b2 ** step / bc2
        arg = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
        rect = arg ** 0.5 if arg >= 0 else float("nan")  # Rust's powf(0.5) of a negative: NaN (unused then)
        c[:] = [wd, 1.0 - lr * wd, 1.0 - b1, b2, 1.0 - b2, bc1, lr, bc2 ** 0.5, h["eps"], rect]
        f |= wdf | (F_A if h["decoupled_weight_decay"] else 0) | (F_B if rho_t > 5.0 else 0)
    elif name == "ASGD":
        eta, mu = sc["eta"], sc["mu"]
        c[:4] = [1.0 - h["lambd"] * eta, -eta, h["weight_decay"], mu]
        f |= wdf | (F_A if mu != 1.0 else 0)
        sc["eta"] = _f32(h["lr"] / (1.0 + h["lambd"] * h["lr"] * step) ** h["alpha"])
        sc["mu"] = _f32(1.0 / max(1.0, step - h["t0"]))
    elif name == "Rprop":
        c[:4] = [*h["etas"], *h["step_sizes"]]
    elif name == "SparseAdam":
        b1, b2 = h["betas"]
        c[:4] = [-(h["lr"] * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step)), 1.0 - b1, 1.0 - b2, h["eps"]]
    return c, f


def init_state(name, h, p):
    """The optimizer's fresh state: slots s0..s2 (None when the kernel gets a null pointer) and the
    scalar state."""
    z = np.zeros_like(p)
    if name == "RMSprop":
        slots = [z.copy(), z.copy() if h["momentum"] > 0 else None, z.copy() if h["centered"] else None]
    elif name == "Adagrad":
        slots = [np.full_like(p, h["initial_accumulator_value"]), None, None]
    elif name == "ASGD":
        slots = [z.copy(), None, None]
    elif name == "Rprop":
        slots = [z.copy(), np.full_like(p, h["lr"]), None]
    else:
        slots = [z.copy(), z.copy(), None]
    return slots, {"mu_product": 1.0, "eta": _f32(h.get("lr", 0.0)), "mu": 1.0}


def _lerp(a, b, w, lo, T):
    return a + w * (b - a) if lo else b - (b - a) * (T(1) - w)


def _grad_in(g, x, wd, f):
    g = -g if f & F_MAX else g
    return g + wd * x if f & F_WD else g


def replica(name, p, g, s, c, f, T):
    """One `<algo>_chunk` of rust/core/src/optim.rs in dtype T (NumPy rounds every op; no FMA).
    Returns the new (p, [s0, s1, s2])."""
    c = [T(v) for v in c]
    s = [None if a is None else a.copy() for a in s]
    if name == "RMSprop":
        lr, wd, alpha, w, eps, mom = c[:6]
        gr = _grad_in(g, p, wd, f)
        s[0] = sq = s[0] * alpha + w * gr * gr
        if f & F_A:
            s[2] = a = _lerp(s[2], gr, w, w < T(0.5), T)
            avg = np.sqrt(sq + -a * a) + eps
        else:
            avg = np.sqrt(sq) + eps
        if f & F_B:
            s[1] = b = s[1] * mom + gr / avg
            return p + lr * b, s
        return p + lr * (gr / avg), s
    if name == "Adagrad":
        clr, wd, eps = c[:3]
        gr = _grad_in(g, p, wd, f)
        s[0] = sm = s[0] + gr * gr
        return p + clr * (gr / (np.sqrt(sm) + eps)), s
    if name == "Adadelta":
        lr, wd, rho, w, eps = c[:5]
        gr = _grad_in(g, p, wd, f)
        s[0] = sq = s[0] * rho + w * gr * gr
        delta = np.sqrt(s[1] + eps) / np.sqrt(sq + eps) * gr
        s[1] = s[1] * rho + w * delta * delta
        return p + lr * delta, s
    if name == "Adamax":
        clr, wd, w, b2, eps = c[:5]
        gr = _grad_in(g, p, wd, f)
        s[0] = m1 = _lerp(s[0], gr, w, w < T(0.5), T)
        a, b = s[1] * b2, np.abs(gr) + eps
        s[1] = e = np.where(np.isnan(a), a, np.where(np.isnan(b) | (b > a), b, a))
        return p + clr * (m1 / e), s
    if name in ("NAdam", "RAdam"):
        if name == "NAdam":
            cg, cm, wd, decay, w, b2, omb2, bc2, eps, _ = c
        else:
            wd, decay, w, b2, omb2, bc1, lr, bc2s, eps, rect = c
        x = p * decay if (f & F_A and f & F_WD) else p
        gr = _grad_in(g, x, wd, f & ~F_WD if f & F_A else f)
        s[0] = m1 = _lerp(s[0], gr, w, w < T(0.5), T)
        s[1] = v1 = s[1] * b2 + omb2 * gr * gr
        if name == "NAdam":
            denom = np.sqrt(v1 / bc2) + eps
            return (x + cg * (gr / denom)) + cm * (m1 / denom), s
        upd = m1 / bc1 * lr
        if f & F_B:
            upd = upd * (bc2s / (np.sqrt(v1) + eps)) * rect
        return x - upd, s
    if name == "ASGD":
        decay, neg_eta, wd, mu = c[:4]
        gr = _grad_in(g, p, wd, f)
        x = p * decay + neg_eta * gr
        s[0] = s[0] + (x - s[0]) * mu if f & F_A else x.copy()
        return x, s
    if name == "Rprop":
        em, ep, smin, smax = c[:4]
        gr = -g if f & F_MAX else g.copy()
        prod = gr * s[0]
        fac = np.where(prod > 0, ep, np.where(prod < 0, em, T(1))).astype(T)
        st = s[1] * fac
        st = np.where(st < smin, smin, st)
        st = np.where(st > smax, smax, st)
        s[1] = st
        gr = np.where(fac == em, T(0), gr)
        sign = np.where(gr > 0, T(1), np.where(gr < 0, T(-1), T(0))).astype(T)
        s[0] = gr
        return p + -sign * st, s
    if name == "SparseAdam":
        neg_step, w1, w2, eps = c[:4]
        nz = g != 0
        gr = -g if f & F_MAX else g
        m0, v0 = s[0], s[1]
        mu = (gr - m0) * w1
        vu = (gr * gr - v0) * w2
        s[0] = np.where(nz, m0 + mu, m0)
        s[1] = np.where(nz, v0 + vu, v0)
        with np.errstate(invalid="ignore"):  # entries with a zero gradient are not used
            newp = p + neg_step * ((mu + m0) / (np.sqrt(vu + v0) + eps))
        return np.where(nz, newp, p), s
    raise ValueError(name)


def opt2_grad(T, name, step):
    g = RNG.standard_normal(N_OPT).astype(T)
    if name == "SparseAdam":  # zeros stand for the entries a sparse gradient does not hold
        g[RNG.random(N_OPT) < 0.3] = 0
    if name == "Rprop" and step == 1:  # products with the previous gradient of each sign, and zero
        g[::7] = 0
    return g


@pytest.mark.parametrize("dt", ["f32", "f64"])
@pytest.mark.parametrize("name, kw", OPT2_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPT2_CASES)])
def test_other_optimizer_kernels(emu, dt, name, kw):
    T = E.NP[dt]
    h = {**DEFAULTS[name], **kw}
    p = RNG.uniform(-1, 1, N_OPT).astype(T)
    s, sc = init_state(name, h, p)
    rp, rs = p.copy(), [None if a is None else a.copy() for a in s]
    fp, fs = p.astype(np.float64), {}
    if name == "Adagrad":  # the reference starts its sum at the same value
        fs["sum"] = np.full(N_OPT, float(T(h["initial_accumulator_value"])))
    for step in range(1, STEPS2 + 1):
        g = opt2_grad(T, name, step)
        c, f = prepare(name, h, float(step), sc)
        emu.launch(f"ft_{KERNEL[name]}_{dt}", "pppppq" + "d" * 10 + "i",
                   [p, g, *(ptr_or_null(a) for a in s), N_OPT, *c, f], grid=3, block=64)
        rp, rs = replica(name, rp, g, rs, c, f, T)
        fp = OPT2_REFS[name](fp, g.astype(np.float64), fs, kw)
        msg = f"{name} {kw} {dt} step {step}"
        np.testing.assert_array_equal(p, rp, err_msg=f"param (replica) {msg}")
        for k, (a, b) in enumerate(zip(s, rs)):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=f"state slot {k} (replica) {msg}")
        np.testing.assert_allclose(p, fp, **TOL2[dt], err_msg=f"param (float64 reference) {msg}")


def test_other_optimizer_kernels_cover_every_kernel(emu):
    # every optimizer kernel of cuda/optim.cu is in OPT2_CASES, and every option set of _optim_refs runs
    with open(os.path.join(E.CUDA, "optim.cu")) as fh:
        src = fh.read()
    kernels = set(re.findall(r"FT_OPT_KERNEL\((\w+), dt\)", src)) - {"algo"}  # less the macro's definition
    assert kernels == set(KERNEL.values())
    assert {n for n, _ in OPT2_CASES} == set(KERNEL)
    for algo in kernels:
        for dt in ("f32", "f64"):
            assert emu.has(f"ft_{algo}_{dt}")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_other_optimizer_kernels_nonfinite_grads(emu):
    # NaN / inf gradients go through every kernel exactly as through the CPU loops (bit for bit,
    # NaNs included: Adamax's max keeps a NaN, Rprop's sign(NaN) is 0)
    for (name, kw), dt in itertools.product(OPT2_CASES, ["f32", "f64"]):
        T = E.NP[dt]
        h = {**DEFAULTS[name], **kw}
        g = np.array([np.nan, np.inf, -np.inf, 1.0, -0.0, 2.0, 0.5, -3.0], T)
        p = np.array([1.0, -1.0, 0.5, np.nan, 2.0, 3.0, -0.25, 0.0], T)
        s, sc = init_state(name, h, p)
        rp, rs = p.copy(), [None if a is None else a.copy() for a in s]
        for step in (1, 2):
            c, f = prepare(name, h, float(step), sc)
            emu.launch(f"ft_{KERNEL[name]}_{dt}", "pppppq" + "d" * 10 + "i",
                       [p, g, *(ptr_or_null(a) for a in s), 8, *c, f], grid=1, block=32)
            rp, rs = replica(name, rp, g, rs, c, f, T)
            msg = f"{name} {kw} {dt} step {step}"
            np.testing.assert_array_equal(bits(p), bits(rp), err_msg=msg)
            for a, b in zip(s, rs):
                if a is not None:
                    np.testing.assert_array_equal(bits(a), bits(b), err_msg=msg)
        assert np.isnan(p[0]) or name in ("Rprop", "SparseAdam")  # NaN gradient -> NaN parameter
