"""Every row of tests/op_table.py on every device, for every dtype: `test_op[<device>-<row>-<dtype>]`.

One helper per check, each against the row's NumPy float64 reference (exact integers for integer results):
  * forward: every call form (torch.<op>, the method, the alias's target), inputs left unchanged; out= (and an
    out of a dtype the result cannot be cast to raises); in-place forms (the result cast to self's dtype, or a
    RuntimeError leaving self unchanged when it cannot be cast), also into a non-contiguous view;
  * dtype rules: the result dtype for this dtype, for mixed-dtype operands and Python scalars (op_table.RULES on
    PyTorch's promotion table); a dtype the op does not take raises, leaving the inputs unchanged;
  * layouts: transposed, stepped and expanded inputs, broadcasting, 0-d and empty tensors;
  * special values (float32, float64) where the row has them;
  * gradients (float32, float64) of differentiable rows: grad_fn present, and the gradient of every operand
    against the central difference of the reference in float64, through transposed / stepped / expanded views,
    broadcasting, 0-d inputs and with one operand constant.
CPU runs every dtype; CUDA float32, float64 and int64 (the mock-driver run of scripts/test_cuda_mock.sh
emulates the kernels on the CPU: kept small). A row's `pending` checks (PyTorch behaviour the engine lacks)
still run and must fail: the test is then reported xfailed, never passed (see Checks).
"""
import zlib
from contextlib import contextmanager
from functools import partial

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from _helpers import ALL_DTYPES, TOL, assert_close, dt, to_np
from op_table import FLOATS, INTS, OPS, SPECIAL, can_cast, central_difference, result_dtype

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DTYPES = {"cpu": ALL_DTYPES, "cuda": ["float32", "float64", "int64"]}
PARAMS = [pytest.param(dev, key, d, id=f"{dev}-{key}-{d}", marks=[CUDA] if dev == "cuda" else [])
          for dev in DTYPES for key in OPS for d in DTYPES[dev]]
PARTNERS = ("int32", "float32")  # the other operand's dtype in the mixed-dtype checks


@pytest.mark.parametrize("device, key, dtype", PARAMS)
def test_op(device, key, dtype):
    case = OPS[key]
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    checks = Checks(case, device, dtype)
    with checks("forward"):
        check_forward(case, device, dtype, rng, checks)
        if case.arity == 2 and result_dtype(case, dtype, dtype) is not None:
            check_mixed(case, device, dtype, rng, checks)
    if case.special is not False and dtype in (FLOATS if case.special is not True else ("float32", "float64")):
        check_special(case, device, dtype)
    if case.grad and dtype in ("float32", "float64"):
        check_grad(case, device, dtype, rng, checks)
    checks.finish()


class Checks:
    """The row's `pending` checks (PyTorch behaviour the engine does not have yet): each runs without stopping
    the test and must fail somewhere in it; the test then ends as xfailed (never passed), and fails once a
    pending check passes everywhere it runs (its entry must go). Other checks are plain assertions."""

    def __init__(self, case, device, dtype):
        # keys "[device:]check[@dtype]": a check pending on one device and/or for one input dtype only
        self.pending = {}
        for key, why in case.pending.items():
            scope, _, name = key.rpartition(":")
            name, _, only = name.partition("@")
            if scope in ("", device) and only in ("", dtype):
                self.pending[name] = why
        self.failed, self.passed = {}, set()

    @contextmanager
    def __call__(self, name):
        if name not in self.pending:
            yield
            return
        try:
            yield
        except (AssertionError, RuntimeError, pytest.fail.Exception) as e:
            self.failed[name] = e
        else:
            self.passed.add(name)

    def finish(self):
        if self.passed - set(self.failed):
            pytest.fail(f"pending checks {sorted(self.passed - set(self.failed))} pass now: remove them from the "
                        "row's `pending`")
        if self.failed:
            pytest.xfail("; ".join(f"{k}: {self.pending[k]} ({type(e).__name__})" for k, e in self.failed.items()))


def test_table_rows_are_consistent():
    """The table's own bookkeeping: aliases point at rows of the same arity, forms and rules are known."""
    forms = {"fn", "method", "inplace", "torch_inplace", "out"}
    for key, case in OPS.items():
        assert case.form_set <= forms and "fn" in case.form_set, key
        assert len(case.domain) == case.arity, key
        if case.alias_of:
            assert OPS[case.alias_of].arity == case.arity and not OPS[case.alias_of].alias_of, key
        assert case.scalars in ("", "r", "lr") and (case.arity == 2 or not case.scalars), key


# --------------------------------------------------------------------------- inputs

def draw(dom, shape, dtype, rng):
    """Values for an input of `dtype` from the domain: float64, int64 or bool NumPy."""
    if dtype == "bool":
        return np.ones(shape, bool) if dom.signed or 0 in dom.avoid else rng.random(shape) < 0.5
    if dtype in INTS:
        lo, hi = dom.ints or (max(int(np.ceil(dom.lo)), -10), min(int(np.floor(dom.hi)), 10))
        lo, hi = (0, 1) if lo > hi else (lo, hi)
        if dom.signed:
            lo = max(lo, 1)
        values = [v for v in range(lo, hi + 1) if v not in dom.avoid and (v >= 0 or dtype != "uint8")]
        a = rng.choice(values, size=shape).astype(np.int64)
        if dom.signed and dtype != "uint8":
            a = a * rng.choice([-1, 1], size=shape)
        return a
    a = np.asarray(rng.uniform(dom.lo, dom.hi, size=shape))
    for _ in range(100):
        bad = np.zeros(a.shape, bool)
        for p in dom.avoid:
            bad |= np.abs(a - p) < 0.15
        if not bad.any():
            break
        a = np.where(bad, rng.uniform(dom.lo, dom.hi, size=shape), a)
    if dom.signed:
        a = a * rng.choice([-1.0, 1.0], size=shape)
    return np.round(a) if dom.integral else a


def as_tensor(a, dtype, device):
    """(values as stored in dtype, tensor): the reference sees float16/bfloat16 inputs already rounded."""
    if dtype in FLOATS:
        t = torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64).to(dt(dtype))
    else:
        t = torch.tensor(np.asarray(a).astype(dtype))
    t = t.to(device)
    v = to_np(t)
    return (v.astype(np.float64) if dtype in FLOATS else v.astype(np.int64) if dtype != "bool" else v), t


def inputs(case, shapes, dtypes, device, rng, domain=None):
    arrays = [draw(d, s, t, rng) for d, s, t in zip(domain or case.domain, shapes, dtypes)]
    if case.ties and len(set(shapes)) == 1 and len(set(dtypes)) == 1 and len(shapes[0]) == 2:
        arrays[1][:, ::2] = arrays[0][:, ::2]  # some equal elements
    return [as_tensor(a, t, device) for a, t in zip(arrays, dtypes)]


# --------------------------------------------------------------------------- calls and references

def call(case, *xs, form="fn", **extra):
    """The op through one of its forms on tensors (or Python numbers, form "fn")."""
    kw = {**case.kwargs, **extra}
    if case.functional:
        return getattr(F, case.op)(*xs, *case.args, **({"inplace": True} if form == "inplace" else {}), **kw)
    if form in ("fn", "torch_inplace"):
        return getattr(torch, case.op + ("_" if form == "torch_inplace" else ""))(*xs, *case.args, **kw)
    return getattr(xs[0], case.op + ("_" if form == "inplace" else ""))(*xs[1:], *case.args, **kw)


def reference(case, arrays, res):
    """The row's reference on NumPy inputs (or Python numbers), as the result dtype `res` holds it."""
    if case.rule != "integral":  # bitwise ops take bools as bools; everything else as 0/1
        arrays = [a.astype(np.int64) if isinstance(a, np.ndarray) and a.dtype == bool else a for a in arrays]
    with np.errstate(all="ignore"):
        r = np.asarray(case.ref(*arrays))
    return r.astype(np.float64 if res in FLOATS else np.dtype(res))


def check(got, want, res, case, device):
    assert got.dtype == dt(res), f"{got.dtype} != {res}"
    assert got.device.type == device
    assert_close(got, want, res, *(case.tol or {}).get(res, (None, None)))


def unchanged(pairs):
    for a, t in pairs:
        np.testing.assert_array_equal(to_np(t), a)


# --------------------------------------------------------------------------- forward

def check_forward(case, device, dtype, rng, checks):
    n = case.arity
    res = result_dtype(case, *[dtype] * n)
    xs = inputs(case, [(3, 4)] * n, [dtype] * n, device, rng)
    arrays, ts = [a for a, _ in xs], [t for _, t in xs]
    forms = case.form_set
    if res is None:  # a dtype the op does not take: every form raises and leaves the inputs alone
        with checks("raises"):
            for form in forms - {"out"}:
                with pytest.raises(RuntimeError):
                    call(case, ts[0].clone() if "inplace" in form else ts[0], *ts[1:], form=form)
        unchanged(xs)
        return
    want = reference(case, arrays, res)
    check(call(case, *ts), want, res, case, device)
    if "method" in forms:
        check(call(case, *ts, form="method"), want, res, case, device)
    if case.alias_of:  # the same function: identical results in every form
        for form in forms & {"fn", "method"}:
            target = call(OPS[case.alias_of], *ts, form=form)
            np.testing.assert_array_equal(to_np(call(case, *ts, form=form)), to_np(target))
    unchanged(xs)

    if "out" in forms:
        out = torch.empty(3, 4, dtype=dt(res), device=device)
        assert call(case, *ts, out=out) is out
        check(out, want, res, case, device)
        if res in FLOATS:
            with checks("out_cast"), pytest.raises(RuntimeError):
                call(case, *ts, out=torch.empty(3, 4, dtype=torch.int64, device=device))

    for form in forms & {"inplace", "torch_inplace"}:
        u = ts[0].clone()
        if can_cast(res, dtype):
            assert call(case, u, *ts[1:], form=form) is u
            check(u, want.astype(np.float64 if dtype in FLOATS else np.dtype(dtype)), dtype, case, device)
            if case.alias_of:
                target = call(OPS[case.alias_of], ts[0].clone(), *ts[1:], form=form)
                np.testing.assert_array_equal(to_np(u), to_np(target))
            if form == "inplace":  # into a non-contiguous view of a larger tensor
                base = torch.zeros(4, 3, dtype=dt(dtype), device=device)
                base.t().copy_(ts[0])
                call(case, base.t(), *ts[1:], form=form)
                np.testing.assert_array_equal(to_np(base.t()), to_np(u))
        else:
            with pytest.raises(RuntimeError):
                call(case, u, *ts[1:], form=form)
            unchanged([(arrays[0], u)])

    # layouts: transposed, stepped, expanded, broadcast, 0-d, empty
    if n == 1:
        (a, t), = inputs(case, [(4, 6)], [dtype], device, rng)
        for view in (lambda x: x.transpose(1, 0), lambda x: x[::2, ::3], lambda x: x[:, 1],
                     lambda x: x[1:2].expand(3, 6) if isinstance(x, torch.Tensor) else np.broadcast_to(x[1:2], (3, 6))):
            check(call(case, view(t)), reference(case, [view(a)], res), res, case, device)
        (a, t), = inputs(case, [()], [dtype], device, rng)
        r = call(case, t)
        assert r.shape == ()
        check(r, reference(case, [a], res), res, case, device)
        r = call(case, torch.empty(0, 3, dtype=dt(dtype), device=device))
        assert r.shape == (0, 3) and r.dtype == dt(res)
    else:
        (a, ta), (b, tb) = inputs(case, [(4, 6), (6, 4)], [dtype] * 2, device, rng)
        for ia, ib in [((slice(None),), (slice(None),)), ((slice(None, None, 2), slice(None, None, 3)),
                                                          (slice(1, None, 2), slice(None, None, 3)))]:
            check(call(case, ta[ia], tb.t()[ib]), reference(case, [a[ia], b.T[ib]], res), res, case, device)
        check(call(case, ta[:1].expand(4, 6), tb.t()), reference(case, [np.broadcast_to(a[:1], (4, 6)), b.T], res),
              res, case, device)
        check(call(case, ta[:, :1], tb[0]), reference(case, [a[:, :1], b[0]], res), res, case, device)
        for sa, sb in [((2, 1, 3), (4, 1)), ((), ())]:
            (a, ta), (b, tb) = inputs(case, [sa, sb], [dtype] * 2, device, rng)
            r = call(case, ta, tb)
            assert r.shape == np.broadcast_shapes(sa, sb)
            check(r, reference(case, [a, b], res), res, case, device)
        for sa, sb, so in [((0,), (0,), (0,)), ((2, 0, 3), (3,), (2, 0, 3)), ((0, 1), (1, 5), (0, 5))]:
            r = call(case, *[torch.ones(sh, dtype=dt(dtype), device=device) for sh in (sa, sb)])
            assert r.shape == so and r.dtype == dt(res)


def check_mixed(case, device, dtype, rng, checks):
    """Operands of another dtype (both orders) and Python numbers: PyTorch's promotion, then the row's rule."""
    for other in PARTNERS:
        if other == dtype:
            continue
        for dtypes in ((dtype, other), (other, dtype)):
            res = result_dtype(case, *dtypes)
            xs = inputs(case, [(2, 3), (3,)], dtypes, device, rng)
            arrays, ts = [a for a, _ in xs], [t for _, t in xs]
            if res is None:
                with checks("raises"), pytest.raises(RuntimeError):
                    call(case, *ts)
                continue
            want = reference(case, arrays, res)
            check(call(case, *ts), want, res, case, device)
            if "inplace" in case.form_set and dtypes[0] == dtype:  # self of this dtype, other of another
                u = ts[0].clone()
                if can_cast(res, dtype):
                    assert call(case, u, ts[1], form="inplace") is u
                    check(u, want.astype(np.float64 if dtype in FLOATS else np.dtype(dtype)), dtype, case, device)
                else:
                    with pytest.raises(RuntimeError):
                        call(case, u, ts[1], form="inplace")
    (a, ta), (b, tb) = inputs(case, [(2, 3), (2, 3)], [dtype] * 2, device, rng)
    for s in (2, 2.5):
        for side in case.scalars:  # "r": tensor op number, "l": number op tensor
            args, arrays = ((ta, s), [a, s]) if side == "r" else ((s, tb), [s, b])
            res = result_dtype(case, *[x if isinstance(x, (int, float)) else dtype for x in args])
            if res is None:
                with checks("raises"), pytest.raises(RuntimeError):
                    call(case, *args)
            else:
                check(call(case, *args), reference(case, arrays, res), res, case, device)


def check_special(case, device, dtype):
    """±0, ±inf, NaN, huge and tiny inputs: NaN and infinities where the reference has them, values elsewhere
    (the SPECIAL sweep in float32 and float64, hand-written expectations in every floating dtype)."""
    values, expected = (SPECIAL, None) if case.special is True else case.special
    t = torch.tensor(np.asarray(values, dtype=np.float64), dtype=dt(dtype)).to(device)
    a = to_np(t).astype(np.float64)
    with np.errstate(all="ignore"):
        exp = case.ref(a) if expected is None else np.asarray(expected)
    got = to_np(call(case, t))
    if exp.dtype == bool:
        np.testing.assert_array_equal(got, exp)
        return
    if expected is None:
        with np.errstate(over="ignore"):
            exp = exp.astype(dtype).astype(np.float64)  # overflows as the tested dtype does
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(exp))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(exp))
    fin = np.isfinite(exp)
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(got[fin], exp[fin], rtol=rtol, atol=max(atol, 1e-30))
    negzero = (exp == 0) & np.signbit(exp)  # a hand-written -0.0 asks for the sign of zero
    assert np.signbit(got[negzero]).all()


# --------------------------------------------------------------------------- gradients

def _ident(x):
    return x


def _expand(x):
    return x.expand(3, 4) if isinstance(x, torch.Tensor) else np.broadcast_to(x, (3, 4))


# (leaf shapes, views applied to the leaves inside the checked function, which leaves require grad)
GRAD_LAYOUTS = {
    1: [([(3, 4)], [_ident], None), ([(4, 3)], [lambda x: x.transpose(1, 0)], None),
        ([(3, 4)], [lambda x: x[:, ::2]], None), ([(3, 1)], [_expand], None), ([()], [_ident], None)],
    2: [([(3, 4), (3, 4)], [_ident] * 2, None), ([(3, 1), (1, 4)], [_ident] * 2, None),
        ([(2, 3), (3,)], [_ident] * 2, None), ([(), (2, 3)], [_ident] * 2, None),
        ([(2,), (3, 1)], [_ident] * 2, None), ([(2, 1, 3), (2, 1)], [_ident] * 2, None),
        ([(4, 3), (3, 4)], [lambda p: p.transpose(1, 0)[:, 1:3], lambda q: q[:, ::2]], None),
        ([(2, 3), (3,)], [_ident] * 2, (True, False)), ([(2, 3), (3,)], [_ident] * 2, (False, True))],
}
GRAD_TOL = {"float32": (1e-4, 1e-5), "float64": (1e-6, 1e-7)}


def pullback(view, shape, w):
    """J^T w for the linear view x -> view(x) of a leaf of `shape` (w: the op's output shape, broadcasting)."""
    idx = np.broadcast_to(view(np.arange(int(np.prod(shape))).reshape(shape)), w.shape)
    out = np.zeros(int(np.prod(shape)))
    np.add.at(out, idx.ravel(), w.ravel())
    return out.reshape(shape)


def check_grad(case, device, dtype, rng, checks):
    """Backward of fn(views(leaves)) against the central difference of sum(g * ref(views(x))) in float64 (or the
    row's analytic derivatives)."""
    doms = case.grad_domain or case.domain
    for layout, (shapes, views, wants) in enumerate(GRAD_LAYOUTS[case.arity]):
        wants = wants or (True,) * case.arity
        for _ in range(20):  # points where the reference is smooth (no kink or jump within the stencil)
            xs = [as_tensor(draw(d, s, dtype, rng), dtype, device) for d, s in zip(doms, shapes)]
            arrays = [a for a, _ in xs]
            out_shape = np.broadcast_shapes(*[v(a).shape for v, a in zip(views, arrays)])
            g, gt = as_tensor(rng.standard_normal(out_shape), dtype, device)

            if case.dref:  # analytic derivatives, pulled back through the views
                vals = [v(a) for v, a in zip(views, arrays)]
                fds = [(pullback(views[i], arrays[i].shape, g * case.dref[i](*vals)), True) if w else None
                       for i, w in enumerate(wants)]
                break

            def loss(i, x):
                vals = [v(x if j == i else a) for j, (v, a) in enumerate(zip(views, arrays))]
                with np.errstate(all="ignore"):
                    return float(np.sum(g * case.ref(*vals)))
            fds = [central_difference(partial(loss, i), arrays[i]) if w else None for i, w in enumerate(wants)]
            if all(fd is None or fd[1] for fd in fds):
                break
        else:
            raise AssertionError(f"{case.op}: no sample where the reference is smooth")
        leaves = [t.detach().requires_grad_(w) for (_, t), w in zip(xs, wants)]
        forms = ["fn", "method"] if layout == 0 and "method" in case.form_set else ["fn"]
        for form in forms:
            for leaf in leaves:
                leaf.grad = None
            done = False
            with checks("grad" if wants[0] else "grad_other"):
                y = call(case, *[v(t) for v, t in zip(views, leaves)], form=form)
                assert y.grad_fn is not None
                y.backward(gt)
                done = True
            for i, (leaf, fd) in enumerate(zip(leaves, fds) if done else ()):
                with checks("grad_other" if i else "grad"):
                    if fd is None:
                        assert leaf.grad is None
                    else:
                        assert leaf.grad is not None
                        assert leaf.grad.dtype == dt(dtype) and leaf.grad.device.type == device
                        assert_close(leaf.grad, fd[0], dtype, *GRAD_TOL[dtype])
