"""Backward formulas of every differentiable op, checked against finite differences with
`torch.autograd.gradcheck` (float64 inputs) and, for a representative set of ops, second
derivatives with `torch.autograd.gradgradcheck`.

Inputs are small (numel <= ~12 per input: gradcheck costs one forward pass per input
element and direction) and are sampled away from the points where an op is not
differentiable (0 for abs/relu, integers for frac, ties for max/min, the clamp bounds...).
Leaves are contiguous; non-contiguous operands are produced *inside* the checked
function (transposed / stepped / expanded views of the leaf), so the backward of the view
is exercised together with the op.
"""
import math

import numpy as np
import pytest

import ferrotorch as torch

gradcheck = torch.autograd.gradcheck
gradgradcheck = torch.autograd.gradgradcheck


# ---------------------------------------------------------------- input helpers

def _vals(shape, low=-2.0, high=2.0, seed=0, avoid=(), margin=0.05, nonzero=False):
    """Random float64 values in [low, high), resampled until every value is more than
    `margin` away from each point in `avoid` (and from 0 with nonzero=True)."""
    rng = np.random.default_rng(seed)
    pts = list(avoid) + ([0.0] if nonzero else [])
    for _ in range(1000):
        a = rng.uniform(low, high, size=shape)
        if all(np.all(np.abs(a - p) > margin) for p in pts):
            return a
    raise AssertionError("could not sample values")  # pragma: no cover


def leaf(shape, low=-2.0, high=2.0, seed=0, **kw):
    """A contiguous float64 leaf that requires grad."""
    return torch.tensor(_vals(shape, low, high, seed, **kw), dtype=torch.float64, requires_grad=True)


def nz(shape, seed=0, low=0.5, high=2.0):
    """Values with |x| in [low, high) and random sign: away from 0."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def itensor(values):
    return torch.tensor(values, dtype=torch.int64)


def btensor(values):
    return torch.tensor(values, dtype=torch.bool)


def check(fn, *inputs, **kw):
    assert gradcheck(fn, inputs, **kw)


# ---------------------------------------------------------------- elementwise ops
# (the gradient of every elementwise op, through transposed / stepped / expanded views, broadcasting, 0-d
# inputs and with one operand constant: the op table, tests/op_table.py, on every device)

def test_unary_scalar_tensor():
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    check(lambda t: t.exp() * t.sin(), x)


# ---------------------------------------------------------------- operators with Python numbers

SCALAR_CASES = {
    "x+s": (lambda x: x + 2.5, {}),
    "s+x": (lambda x: 2.5 + x, {}),
    "x-s": (lambda x: x - 2.5, {}),
    "s-x": (lambda x: 2.5 - x, {}),
    "x*s": (lambda x: x * 2.5, {}),
    "s*x": (lambda x: 2.5 * x, {}),
    "x/s": (lambda x: x / 2.5, {}),
    "s/x": (lambda x: 2.5 / x, dict(nonzero=True, margin=0.4)),
    "x**s": (lambda x: x ** 2.5, dict(low=0.3, high=2.0)),
    "x**int": (lambda x: x ** 3, {}),
    "x**neg": (lambda x: x ** -2, dict(nonzero=True, margin=0.4)),
    "s**x": (lambda x: 2.5 ** x, {}),
    "x%s": (lambda x: x % 1.5, dict(avoid=[-3.0, -1.5, 0.0, 1.5, 3.0])),
    "remainder(x,s)": (lambda x: torch.remainder(x, -1.5), dict(avoid=[-3.0, -1.5, 0.0, 1.5, 3.0])),
    "fmod(x,s)": (lambda x: torch.fmod(x, 1.5), dict(avoid=[-3.0, -1.5, 0.0, 1.5, 3.0])),
    "add_alpha": (lambda x: torch.add(x, x.exp(), alpha=-0.5), {}),
    "sub_alpha": (lambda x: torch.sub(x.sin(), x, alpha=2.0), {}),
    "pow(s,x)": (lambda x: torch.pow(2.0, x), {}),
}


@pytest.mark.parametrize("case", list(SCALAR_CASES))
def test_binary_python_scalar(case):
    fn, dom = SCALAR_CASES[case]
    x = leaf((3, 4), seed=11, **dom)
    check(fn, x)


# ---------------------------------------------------------------- where, clamp, lerp

def test_where_broadcast():
    cond = btensor([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
    a, b = leaf((3, 4), seed=1), leaf((4,), seed=2)
    check(lambda p, q: torch.where(cond, p, q), a, b)
    check(lambda p, q: torch.where(cond[:, :1], p.t(), q), leaf((4, 3), seed=3), leaf((3, 1), seed=4))


def test_where_scalar_branch():
    cond = btensor([[True, False, True], [False, True, True]])
    check(lambda p: torch.where(cond, p, 0.5), leaf((2, 3), seed=5))
    check(lambda p: torch.where(cond, -1.0, p.exp()), leaf((2, 3), seed=6))


@pytest.mark.parametrize("kw", [dict(min=-0.5, max=0.7), dict(min=-0.5), dict(max=0.7)],
                         ids=["min_max", "min", "max"])
def test_clamp_scalar_bounds(kw):
    x = leaf((3, 4), seed=8, avoid=[-0.5, 0.7])
    check(lambda t: torch.clamp(t, **kw), x)
    check(lambda t: t.t().clamp(**kw), x)


def test_clamp_tensor_bounds():
    rng = np.random.default_rng(3)
    lo = rng.uniform(-1.0, -0.2, size=(4,))
    hi = rng.uniform(0.2, 1.0, size=(3, 1))
    x = _vals((3, 4), seed=9)
    # keep x away from both bounds
    x = np.where(np.abs(x - lo) < 0.05, x + 0.1, x)
    x = np.where(np.abs(x - hi) < 0.05, x + 0.1, x)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    lot = torch.tensor(lo, dtype=torch.float64, requires_grad=True)
    hit = torch.tensor(hi, dtype=torch.float64, requires_grad=True)
    check(lambda t, lo, hi: torch.clamp(t, min=lo, max=hi), xt, lot, hit)


def test_lerp():
    a, b = leaf((3, 4), seed=1), leaf((4,), seed=2)
    check(lambda p, q: torch.lerp(p, q, 0.3), a, b)
    w = leaf((3, 1), 0.0, 1.0, seed=3)
    check(lambda p, q, r: torch.lerp(p, q, r), a, b, w)
    check(lambda p, q, r: p.t().lerp(q, r), leaf((4, 3), seed=4), b, w)


# ---------------------------------------------------------------- matmul family

MATMUL = {
    "mm": (lambda a, b: torch.mm(a, b), [(3, 4), (4, 2)]),
    "mm_transposed": (lambda a, b: torch.mm(a.t(), b.t()), [(4, 3), (2, 4)]),
    "mm_stepped": (lambda a, b: a[:, ::2] @ b, [(3, 4), (2, 3)]),
    "bmm": (lambda a, b: torch.bmm(a, b), [(2, 3, 2), (2, 2, 3)]),
    "bmm_transposed": (lambda a, b: torch.bmm(a.transpose(1, 2), b), [(2, 2, 3), (2, 2, 3)]),
    "matmul_2d": (lambda a, b: torch.matmul(a, b), [(3, 4), (4, 2)]),
    "matmul_broadcast_batch": (lambda a, b: torch.matmul(a, b), [(2, 1, 3, 2), (3, 2, 2)]),
    "matmul_batch_by_2d": (lambda a, b: a @ b, [(2, 3, 2), (2, 3)]),
    "matmul_2d_by_batch": (lambda a, b: a @ b, [(3, 2), (2, 2, 3)]),
    "matmul_1d_2d": (lambda a, b: a @ b, [(4,), (4, 3)]),
    "matmul_2d_1d": (lambda a, b: a @ b, [(3, 4), (4,)]),
    "matmul_batch_1d": (lambda a, b: a @ b, [(2, 3, 2), (2,)]),
    "matmul_1d_1d": (lambda a, b: a @ b, [(5,), (5,)]),
    "mv": (lambda a, b: torch.mv(a, b), [(3, 4), (4,)]),
    "mv_transposed": (lambda a, b: a.t().mv(b), [(4, 3), (4,)]),
    "dot": (lambda a, b: torch.dot(a, b), [(6,), (6,)]),
    "dot_stepped": (lambda a, b: a[::2].dot(b), [(8,), (4,)]),
    "outer": (lambda a, b: torch.outer(a, b), [(3,), (4,)]),
    "addmm": (lambda c, a, b: torch.addmm(c, a, b), [(3, 2), (3, 4), (4, 2)]),
    "addmm_broadcast_alpha_beta": (lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0),
                                   [(2,), (3, 4), (4, 2)]),
    # beta = alpha = 1 with a broadcast bias: Linear's fused bias-in-gemm path
    "addmm_bias_row": (lambda c, a, b: torch.addmm(c, a, b), [(2,), (3, 4), (4, 2)]),
    "addmm_bias_col_wt": (lambda c, a, w: torch.addmm(c, a, w.t()), [(3, 1), (3, 4), (2, 4)]),
    "addmm_bias_scalar": (lambda c, a, b: torch.addmm(c, a, b), [(), (3, 4), (4, 2)]),
    "baddbmm": (lambda c, a, b: torch.baddbmm(c, a, b), [(2, 3, 2), (2, 3, 2), (2, 2, 2)]),
    "baddbmm_broadcast_alpha_beta": (lambda c, a, b: torch.baddbmm(c, a, b, beta=-1.5, alpha=0.5),
                                     [(3, 1), (2, 3, 2), (2, 2, 2)]),
}


@pytest.mark.parametrize("name", list(MATMUL))
def test_matmul_family(name):
    fn, shapes = MATMUL[name]
    inputs = [leaf(s, seed=i + 20) for i, s in enumerate(shapes)]
    check(fn, *inputs)


# ---------------------------------------------------------------- reductions

def _distinct(shape, seed):
    """Values with no near-ties (for max/min/sort/topk/kthvalue/amax/norm-inf)."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    a = (rng.permutation(n) - n / 2) * 0.37 + rng.uniform(-0.05, 0.05, size=n)
    return torch.tensor(a.reshape(shape), dtype=torch.float64, requires_grad=True)


REDUCTIONS = {
    "sum_all": (lambda x: x.sum(), "any"),
    "sum_dim0": (lambda x: x.sum(0), "any"),
    "sum_dims_0_2": (lambda x: x.sum((0, 2)), "any"),
    "sum_dim_keepdim": (lambda x: x.sum(1, keepdim=True), "any"),
    "sum_neg_dim": (lambda x: torch.sum(x, dim=-1), "any"),
    "mean_all": (lambda x: x.mean(), "any"),
    "mean_dims": (lambda x: x.mean((0, 2)), "any"),
    "mean_keepdim": (lambda x: torch.mean(x, dim=1, keepdim=True), "any"),
    "prod_all": (lambda x: x.prod(), "nonzero"),
    "prod_dim": (lambda x: x.prod(1), "nonzero"),
    "prod_dim_keepdim": (lambda x: torch.prod(x, 2, keepdim=True), "nonzero"),
    "var_all": (lambda x: x.var(), "any"),
    "var_dim": (lambda x: x.var(1), "any"),
    "var_dims_keepdim": (lambda x: x.var((0, 2), keepdim=True), "any"),
    "var_correction0": (lambda x: torch.var(x, dim=0, correction=0), "any"),
    "std_all": (lambda x: x.std(), "any"),
    "std_dim": (lambda x: x.std(2), "any"),
    "std_dims_keepdim": (lambda x: torch.std(x, dim=(0, 1), keepdim=True), "any"),
    "std_correction0": (lambda x: x.std(dim=1, correction=0), "any"),
    "norm2_all": (lambda x: x.norm(), "any"),
    "norm2_dim": (lambda x: x.norm(p=2, dim=1), "any"),
    "norm1_all": (lambda x: x.norm(p=1), "nonzero"),
    "norm1_dim_keepdim": (lambda x: torch.norm(x, p=1, dim=0, keepdim=True), "nonzero"),
    "norm3_dim": (lambda x: x.norm(p=3, dim=1), "nonzero"),
    "norm1_5_dims_keepdim": (lambda x: torch.norm(x, p=1.5, dim=(0, 2), keepdim=True), "nonzero"),
    "norm0_5_all": (lambda x: x.norm(p=0.5), "nonzero"),
    "norm_inf_all": (lambda x: x.norm(p=math.inf), "distinct"),
    "norm_inf_dim": (lambda x: x.norm(p=float("inf"), dim=2), "distinct"),
    "logsumexp_dim": (lambda x: x.logsumexp(dim=1), "any"),
    "logsumexp_dims_keepdim": (lambda x: torch.logsumexp(x, dim=(0, 2), keepdim=True), "any"),
    "amax_all": (lambda x: x.amax(), "distinct"),
    "amax_dim": (lambda x: x.amax(dim=1), "distinct"),
    "amax_dims_keepdim": (lambda x: torch.amax(x, dim=(0, 2), keepdim=True), "distinct"),
    "amin_dim": (lambda x: x.amin(dim=-1), "distinct"),
    "amin_dims": (lambda x: torch.amin(x, dim=(1, 2)), "distinct"),
    "max_all": (lambda x: x.max(), "distinct"),
    "max_dim": (lambda x: x.max(dim=1)[0], "distinct"),
    "max_dim_keepdim": (lambda x: torch.max(x, 2, keepdim=True).values, "distinct"),
    "min_all": (lambda x: x.min(), "distinct"),
    "min_dim": (lambda x: x.min(dim=0).values, "distinct"),
    "min_dim_keepdim": (lambda x: torch.min(x, -1, keepdim=True)[0], "distinct"),
    "cumsum_dim0": (lambda x: x.cumsum(0), "any"),
    "cumsum_dim1": (lambda x: torch.cumsum(x, dim=1), "any"),
    "cumprod_dim1": (lambda x: x.cumprod(1), "nonzero"),
    "cumprod_dim2": (lambda x: torch.cumprod(x, dim=2), "nonzero"),
    "sort": (lambda x: x.sort(dim=1)[0], "distinct"),
    "sort_descending": (lambda x: torch.sort(x, dim=-1, descending=True).values, "distinct"),
    "topk": (lambda x: x.topk(2, dim=1).values, "distinct"),
    "topk_smallest": (lambda x: torch.topk(x, 2, dim=2, largest=False)[0], "distinct"),
    "kthvalue": (lambda x: x.kthvalue(2, dim=1).values, "distinct"),
    "kthvalue_keepdim": (lambda x: torch.kthvalue(x, 1, dim=0, keepdim=True)[0], "distinct"),
}


def _reduction_input(kind, shape, seed):
    if kind == "nonzero":
        return nz(shape, seed, low=0.6, high=1.4)
    if kind == "distinct":
        return _distinct(shape, seed)
    return leaf(shape, seed=seed)


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction(name):
    fn, kind = REDUCTIONS[name]
    check(fn, _reduction_input(kind, (2, 3, 2), seed=31))


@pytest.mark.parametrize("name", ["sum_dims_0_2", "mean_keepdim", "prod_dim", "var_dim", "std_dim",
                                  "norm2_dim", "norm1_all", "logsumexp_dim", "amax_dim", "max_dim",
                                  "min_dim", "cumsum_dim1", "cumprod_dim1", "sort", "topk",
                                  "kthvalue"])
def test_reduction_noncontiguous(name):
    fn, kind = REDUCTIONS[name]
    x = _reduction_input(kind, (2, 2, 3), seed=37)
    check(lambda t: fn(t.transpose(1, 2)), x)


@pytest.mark.parametrize("fn", [lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.cumprod(1)],
                         ids=["prod_all", "prod_dim", "cumprod"])
@pytest.mark.parametrize("zeros", [1, 2])
def test_prod_with_zeros(fn, zeros):
    a = np.array([[0.7, -1.2, 1.1, 0.9], [1.3, 0.8, -0.6, 1.4], [-0.9, 1.2, 0.75, -1.1]])
    a[1, 1] = 0.0
    if zeros == 2:
        a[1, 3] = 0.0
    x = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    check(fn, x)


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
def test_norm_general_p_subgradient_at_zero(p):
    """PyTorch's subgradient: 0 for zero entries and for an all-zero slice (the chain rule
    through pow would give 0 * inf = NaN); elsewhere sgn(x) |x|^(p-1) / ||x||^(p-1)."""
    a = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 0.0]])
    x = torch.tensor(a, requires_grad=True)
    x.norm(p=p, dim=1).sum().backward()
    n = (np.abs(a) ** p).sum(1, keepdims=True) ** (1 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.where(a == 0, 0.0, np.sign(a) * np.abs(a) ** (p - 1) / n ** (p - 1))
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12, atol=0)


# ---------------------------------------------------------------- views

VIEWS = {
    "view": (lambda x: x.view(4, 3), (3, 4)),
    "view_infer": (lambda x: x.view(-1), (3, 4)),
    "reshape": (lambda x: x.reshape(2, 6), (3, 4)),
    "reshape_noncontiguous": (lambda x: x.t().reshape(12), (3, 4)),
    "transpose": (lambda x: x.transpose(0, 2), (2, 3, 2)),
    "t": (lambda x: x.t(), (3, 4)),
    "permute": (lambda x: x.permute(2, 0, 1), (2, 3, 2)),
    "expand": (lambda x: x.expand(3, 4), (3, 1)),
    "expand_new_dim": (lambda x: x.expand(2, -1), (3,)),
    "expand_as": (lambda x: x.expand_as(torch.zeros(2, 3, 4, dtype=torch.float64)), (3, 1)),
    "narrow": (lambda x: x.narrow(1, 1, 2), (3, 4)),
    "select": (lambda x: x.select(1, 2), (3, 4)),
    "int_index": (lambda x: x[1], (3, 4)),
    "neg_int_index": (lambda x: x[:, -1], (3, 4)),
    "slice_steps": (lambda x: x[::2, 1::2], (3, 4)),
    "slice_step3": (lambda x: x[..., ::3], (2, 6)),
    "slice_range": (lambda x: x[:, 1:3], (3, 4)),
    "slice_none": (lambda x: x[:, None, 1], (3, 4)),
    "squeeze_dim": (lambda x: x.squeeze(1), (3, 1, 4)),
    "squeeze_all": (lambda x: x.squeeze(), (3, 1, 4)),
    "unsqueeze": (lambda x: x.unsqueeze(0), (3, 4)),
    "unsqueeze_neg": (lambda x: torch.unsqueeze(x, -1), (3, 4)),
    "flatten": (lambda x: x.flatten(), (2, 3, 2)),
    "flatten_start": (lambda x: torch.flatten(x, 1), (2, 3, 2)),
    "flatten_noncontiguous": (lambda x: x.transpose(0, 1).flatten(), (2, 3, 2)),
    "unbind": (lambda x: x.unbind(1), (3, 4)),
    "unbind_fn": (lambda x: torch.unbind(x, 0), (3, 4)),
    "chunk": (lambda x: x.chunk(2, dim=1), (3, 4)),
    "chunk_uneven": (lambda x: torch.chunk(x, 2, dim=0), (3, 4)),
    "split": (lambda x: x.split(2, dim=1), (2, 5)),
    "split_sizes": (lambda x: torch.split(x, [1, 3], dim=1), (3, 4)),
    "diagonal": (lambda x: x.diagonal(), (3, 4)),
    "diagonal_offset": (lambda x: x.diagonal(offset=1), (3, 4)),
    "diagonal_neg_offset": (lambda x: torch.diagonal(x, -1), (3, 4)),
    "diagonal_dims": (lambda x: x.diagonal(dim1=0, dim2=2), (2, 3, 2)),
    "unfold": (lambda x: x.unfold(1, 2, 1), (3, 4)),
    "unfold_step": (lambda x: x.unfold(0, 2, 2), (5, 2)),
    "view_of_view": (lambda x: x.t()[1:].unsqueeze(0).squeeze(0), (3, 4)),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view(name):
    fn, shape = VIEWS[name]
    x = leaf(shape, seed=41)
    # multiply by a fixed non-uniform weight so the incoming gradient is not all ones
    check(lambda t: _weighted(fn(t)), x)


def _weighted(out):
    if isinstance(out, (tuple, list)):
        return tuple(_weighted(o) for o in out)
    w = torch.arange(1, out.numel() + 1, dtype=torch.float64).reshape(out.shape) * 0.5 - 1.0
    return out * w


@pytest.mark.parametrize("name", ["view", "transpose", "permute", "narrow", "select", "diagonal",
                                  "unfold", "slice_steps", "unbind", "split_sizes"])
def test_view_plain(name):
    """The view itself as the output (no op after it)."""
    fn, shape = VIEWS[name]
    check(fn, leaf(shape, seed=43))


# ---------------------------------------------------------------- joins / copies

JOINS = {
    "cat_dim0": (lambda a, b: torch.cat([a, b], dim=0), [(2, 3), (1, 3)]),
    "cat_dim1": (lambda a, b: torch.cat((a, b), 1), [(2, 3), (2, 2)]),
    "cat_noncontiguous": (lambda a, b: torch.cat([a.t(), b[:, ::2]], dim=0), [(3, 2), (2, 5)]),
    "cat_three_same": (lambda a, b: torch.cat([a, b, a], dim=-1), [(2, 2), (2, 3)]),
    "stack": (lambda a, b: torch.stack([a, b]), [(2, 3), (2, 3)]),
    "stack_dim1": (lambda a, b: torch.stack((a, b.t()), dim=1), [(2, 3), (3, 2)]),
    "flip": (lambda a: a.flip(0), [(3, 4)]),
    "flip_dims": (lambda a: torch.flip(a, (0, 2)), [(2, 3, 2)]),
    "roll": (lambda a: a.roll(1, 0), [(3, 4)]),
    "roll_dims": (lambda a: torch.roll(a, (1, -2), (0, 1)), [(3, 4)]),
    "roll_flat": (lambda a: a.roll(5), [(3, 4)]),
    "repeat": (lambda a: a.repeat(2, 1), [(2, 3)]),
    "repeat_new_dim": (lambda a: a.repeat(2, 1, 2), [(2, 3)]),
    "tile": (lambda a: a.tile((2,)), [(2, 3)]),
    "tile_more_dims": (lambda a: torch.tile(a, (2, 1, 2)), [(2, 3)]),
    "repeat_interleave": (lambda a: a.repeat_interleave(2, dim=0), [(3, 2)]),
    "repeat_interleave_flat": (lambda a: torch.repeat_interleave(a, 3), [(2, 2)]),
    "repeat_interleave_tensor": (lambda a: a.repeat_interleave(itensor([1, 2, 0]), dim=0), [(3, 4)]),
    "tril": (lambda a: a.tril(), [(3, 4)]),
    "tril_neg": (lambda a: torch.tril(a, -1), [(3, 4)]),
    "triu": (lambda a: a.triu(), [(3, 4)]),
    "triu_pos": (lambda a: torch.triu(a, 1), [(3, 4)]),
    "triu_batched": (lambda a: a.triu(), [(2, 2, 3)]),
}


@pytest.mark.parametrize("name", list(JOINS))
def test_join(name):
    fn, shapes = JOINS[name]
    inputs = [leaf(s, seed=51 + i) for i, s in enumerate(shapes)]
    check(lambda *ts: _weighted(fn(*ts)), *inputs)


# ---------------------------------------------------------------- indexing

MASK34 = [[True, False, True, False], [False, False, True, True], [True, True, False, False]]

INDEXING = {
    "gather": (lambda x: x.gather(1, itensor([[0, 0], [3, 1], [2, 2]])), [(3, 4)]),
    "gather_dim0": (lambda x: torch.gather(x, 0, itensor([[2, 0, 1, 1], [0, 0, 2, 1]])), [(3, 4)]),
    "scatter": (lambda x, s: x.scatter(1, itensor([[0, 2], [3, 1], [1, 0]]), s), [(3, 4), (3, 2)]),
    "scatter_dim0": (lambda x, s: torch.scatter(x, 0, itensor([[2, 0, 1, 0]]), s), [(3, 4), (1, 4)]),
    "scatter_add": (lambda x, s: x.scatter_add(1, itensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]]), s),
                    [(3, 4), (3, 3)]),
    "scatter_add_dim0": (lambda x, s: torch.scatter_add(x, 0, itensor([[0, 2, 0, 0], [0, 1, 2, 0]]), s),
                         [(3, 4), (2, 4)]),
    "index_select": (lambda x: x.index_select(0, itensor([2, 0, 2])), [(3, 4)]),
    "index_select_dim1": (lambda x: torch.index_select(x, 1, itensor([3, 1, 1, 0])), [(3, 4)]),
    "index_add": (lambda x, s: x.index_add(0, itensor([2, 0, 2]), s), [(3, 4), (3, 4)]),
    "index_add_alpha_dim1": (lambda x, s: torch.index_add(x, 1, itensor([1, 3]), s, alpha=-2.0),
                             [(3, 4), (3, 2)]),
    "masked_fill": (lambda x: x.masked_fill(btensor(MASK34), 0.5), [(3, 4)]),
    "masked_fill_broadcast": (lambda x: torch.masked_fill(x, btensor([True, False, False, True]), -1.0),
                              [(3, 4)]),
    "masked_select": (lambda x: x.masked_select(btensor(MASK34)), [(3, 4)]),
    "masked_select_broadcast": (lambda x: torch.masked_select(x, btensor([[False], [True], [True]])),
                                [(3, 4)]),
    "getitem_int_tensor": (lambda x: x[itensor([0, 2, 2])], [(3, 4)]),
    "getitem_list": (lambda x: x[[0, 2]], [(3, 4)]),
    "getitem_neg_index": (lambda x: x[itensor([-1, 0])], [(3, 4)]),
    "getitem_int_tensor_dim1": (lambda x: x[:, itensor([3, 0, 3])], [(3, 4)]),
    "getitem_two_int_tensors": (lambda x: x[itensor([0, 1, 1]), itensor([2, 3, 2])], [(3, 4)]),
    "getitem_2d_index": (lambda x: x[itensor([[0, 1], [2, 0]])], [(3, 4)]),
    "getitem_broadcast_indices": (lambda x: x[itensor([[0], [2]]), itensor([1, 3])], [(3, 4)]),
    "getitem_bool_mask": (lambda x: x[btensor(MASK34)], [(3, 4)]),
    "getitem_bool_rows": (lambda x: x[btensor([True, False, True])], [(3, 4)]),
    "getitem_mixed": (lambda x: x[1:, itensor([0, 0, 2])], [(3, 4)]),
    "getitem_noncontiguous": (lambda x: x.t()[itensor([3, 1, 3])], [(3, 4)]),
}


@pytest.mark.parametrize("name", list(INDEXING))
def test_indexing(name):
    fn, shapes = INDEXING[name]
    inputs = [leaf(s, seed=61 + i) for i, s in enumerate(shapes)]
    check(lambda *ts: _weighted(fn(*ts)), *inputs)


def _set_int_tensor(x, v):
    y = x * 1.0
    y[itensor([0, 2])] = v
    return y


def _set_bool_mask(x, v):
    y = x.clone()
    y[btensor(MASK34)] = v
    return y


def _set_slice(x, v):
    y = x.sin()  # SinBackward0 saves its input, not its output: overwriting y is allowed
    y[:, 1] = v
    return y


def _set_stepped(x, v):
    y = x * 2.0
    y[0, ::2] = v
    return y.sin()


def _set_scalar(x):
    y = x + 0.0
    y[1] = 0.25
    return y


def _set_broadcast_value(x, v):
    y = x.clone()
    y[itensor([1, 2]), :] = v  # v has shape (4,), broadcast over the 2 rows
    return y


SETITEM = {
    "int_tensor": (_set_int_tensor, [(3, 4), (2, 4)]),
    "bool_mask": (_set_bool_mask, [(3, 4), (6,)]),
    "slice": (_set_slice, [(3, 4), (3,)]),
    "stepped_slice": (_set_stepped, [(3, 4), (2,)]),
    "python_scalar": (_set_scalar, [(3, 4)]),
    "broadcast_value": (_set_broadcast_value, [(3, 4), (4,)]),
}


@pytest.mark.parametrize("name", list(SETITEM))
def test_setitem_non_leaf(name):
    fn, shapes = SETITEM[name]
    inputs = [leaf(s, seed=71 + i) for i, s in enumerate(shapes)]
    check(fn, *inputs)


# ---------------------------------------------------------------- composites

def test_composite_chain():
    a, b = leaf((3, 4), seed=81), leaf((4, 2), seed=82)
    check(lambda p, q: ((p.t()[1:] * 2).tanh().t() @ q[1:]).logsumexp(0), a, b)


def test_input_used_twice():
    x = leaf((3, 4), seed=83)
    check(lambda t: t * t.t().sum(1) + t.exp()[:, ::2].sum(), x)


def test_multiple_outputs_from_function():
    a, b = leaf((2, 3), seed=84), leaf((3,), seed=85)
    check(lambda p, q: (p * q, (p - q).sum(1), q.sin()), a, b)


# ---------------------------------------------------------------- second derivatives

GRADGRAD = {
    "tanh": (lambda x: x.tanh(), [dict(shape=(3, 4))]),
    "mul": (lambda a, b: a * b, [dict(shape=(3, 4)), dict(shape=(4,))]),
    "mul_self": (lambda a: a * a * a, [dict(shape=(2, 3))]),
    "div": (lambda a, b: a / b, [dict(shape=(2, 3)), dict(shape=(3,), nonzero=True, margin=0.5)]),
    "matmul": (lambda a, b: a @ b, [dict(shape=(3, 2)), dict(shape=(2, 3))]),
    "matmul_batched": (lambda a, b: torch.matmul(a, b), [dict(shape=(2, 2, 3)), dict(shape=(3, 2))]),
    "sum_dims": (lambda x: (x.sum((0, 2)) ** 2), [dict(shape=(2, 3, 2))]),
    "sum_keepdim": (lambda x: x.sum(1, keepdim=True) * x, [dict(shape=(3, 4))]),
    "softplus": (lambda x: torch.log1p(torch.exp(x)), [dict(shape=(3, 4))]),
    "index_list": (lambda x: x[[0, 2]] ** 2, [dict(shape=(3, 4))]),
    "index_list_plain": (lambda x: x[[0, 2]], [dict(shape=(3, 4))]),
    "pow_tensor": (lambda a, b: torch.pow(a, b), [dict(shape=(2, 3), low=0.5, high=2.0),
                                                  dict(shape=(3,), low=-1.5, high=1.5)]),
    "pow_scalar": (lambda a: a ** 3, [dict(shape=(3, 4))]),
    "noncontiguous_tanh": (lambda x: x.t()[:, ::2].tanh(), [dict(shape=(3, 4))]),
}


@pytest.mark.parametrize("name", list(GRADGRAD))
def test_gradgradcheck(name):
    fn, specs = GRADGRAD[name]
    inputs = []
    for i, s in enumerate(specs):
        s = dict(s)
        inputs.append(leaf(s.pop("shape"), seed=91 + i, **s))
    assert gradgradcheck(fn, inputs)


# ---------------------------------------------------------------- gradcheck itself

def test_gradcheck_rejects_wrong_gradient():
    """gradcheck must not pass vacuously: a wrong backward is detected."""

    class WrongExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y * 1.01

    x = leaf((2, 3), seed=99)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(WrongExp.apply, (x,))
