import numpy as np
import pytest

import ferrotorch as torch
from _helpers import assert_close, make, to_np

FLOATS = ["float32", "float64"]


def tol(dtype):
    """Tolerance for sums of a few dozen products of values in [-3, 3]."""
    return dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)


def layout(shape, dtype, kind, seed):
    """(float64 reference, tensor of `shape`): contiguous, transposed (last two dims) or stepped."""
    if kind == "transposed" and len(shape) >= 2:
        a, t = make(shape[:-2] + (shape[-1], shape[-2]), dtype, seed=seed)
        return np.swapaxes(a, -1, -2), t.transpose(-1, -2)
    if kind == "stepped" and len(shape) >= 1:
        a, t = make(shape[:-1] + (shape[-1] * 2,), dtype, seed=seed)
        return a[..., ::2], t[..., ::2]
    return make(shape, dtype, seed=seed)


def leaf(*shape, seed=0):
    return make(shape, "float64", seed=seed)[1].requires_grad_(True)


def gradcheck(fn, *inputs):
    assert torch.autograd.gradcheck(fn, inputs)


# ---------------------------------------------------------------- einsum

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,jk->bki", [(2, 3, 4), (4, 5)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,j", [(3,), (4,)]),
    ("ij,kl->", [(2, 3), (4, 5)]),
    ("ii", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ba", [(3, 4)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("i...->...", [(2, 3, 4)]),
    ("...i,...i", [(2, 3, 4), (4,)]),
    ("...i,i->...", [(2, 3, 4), (4,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("A,a->Aa", [(3,), (4,)]),
    ("i j , j k -> i k", [(3, 4), (4, 5)]),
    ("ij,jk->ik", [(0, 4), (4, 5)]),
    ("ij,jk->ik", [(3, 0), (0, 5)]),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(eq, shapes, dtype):
    pairs = [make(s, dtype, seed=k) for k, s in enumerate(shapes)]
    got = torch.einsum(eq, *[t for _, t in pairs])
    assert got.dtype == getattr(torch, dtype)
    assert_close(got, np.einsum(eq.replace(" ", ""), *[a for a, _ in pairs]), **tol(dtype))


@pytest.mark.parametrize("kind", ["transposed", "stepped"])
def test_einsum_non_contiguous(kind):
    a, ta = layout((3, 4), "float64", kind, 1)
    b, tb = layout((2, 4, 5), "float64", kind, 2)
    assert_close(torch.einsum("ij,bjk->bik", ta, tb), np.einsum("ij,bjk->bik", a, b))
    d, td = layout((4, 4), "float64", kind, 3)
    assert_close(torch.einsum("ii->i", td), np.einsum("ii->i", d))


def test_einsum_operand_list_and_sublists():
    a, ta = make((3, 4), "float64", seed=1)
    b, tb = make((4, 5), "float64", seed=2)
    assert_close(torch.einsum("ij,jk", [ta, tb]), a @ b)
    assert_close(torch.einsum(ta, [0, 1], tb, [1, 2], [0, 2]), a @ b)
    assert_close(torch.einsum(ta, [0, 1], [1]), a.sum(0))
    assert_close(torch.einsum(ta, [Ellipsis, 1]), a)


def test_einsum_broadcasts_size_one_labels():
    a, ta = make((2, 3, 4), "float64", seed=1)
    b, tb = make((1, 4, 5), "float64", seed=2)
    assert_close(torch.einsum("bij,bjk->bik", ta, tb), np.einsum("bij,bjk->bik", a, np.broadcast_to(b, (2, 4, 5))))
    c, tc = make((3,), "float64", seed=3)
    d, td = make((1,), "float64", seed=4)
    assert_close(torch.einsum("i,i->", tc, td), (c * d).sum())


def test_einsum_dtypes():
    i = torch.arange(12).reshape(3, 4)
    r = torch.einsum("ij,kj->ik", i, i)
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(to_np(r), to_np(i) @ to_np(i).T)
    u = torch.ones(2, 3, dtype=torch.uint8)
    assert torch.einsum("ij->j", u).dtype == torch.int64  # a single operand sums like sum()
    assert torch.einsum("ij,j->i", u, torch.ones(3, dtype=torch.uint8)).dtype == torch.uint8
    # without a summed label the pair is a broadcast multiply, which promotes
    assert torch.einsum("i,j", torch.ones(2), torch.ones(3, dtype=torch.float64)).dtype == torch.float64


def test_einsum_grad():
    gradcheck(lambda a, b: torch.einsum("bij,bjk->bik", a, b), leaf(2, 3, 4), leaf(2, 4, 5, seed=1))
    gradcheck(lambda a, b, c: torch.einsum("ij,jk,k->i", a, b, c), leaf(2, 3), leaf(3, 4, seed=1), leaf(4, seed=2))
    gradcheck(lambda a: torch.einsum("ii->i", a), leaf(3, 3))
    gradcheck(lambda a, b: torch.einsum("...i,...i", a, b), leaf(2, 3), leaf(3, seed=1))


@pytest.mark.parametrize("args,exc,msg", [
    (("ij,jk", (3, 3), (3, 3, "float64")), RuntimeError, "expected scalar type Float but found Double"),
    (("ij,jk->ik", (3, 3)), RuntimeError, "fewer operands were provided than specified"),
    (("ij,jk->ik", (3, 3), (3, 3), (3, 3)), RuntimeError, "more operands were provided than specified"),
    (("ijk", (3, 3)), RuntimeError, r"number of subscripts in the equation \(3\) does not match the number of "
                                    r"dimensions \(2\) for operand 0 and no ellipsis was given"),
    (("ijk...", (3, 3)), RuntimeError, r"number of subscripts in the equation \(3\) is more than the number of "
                                       r"dimensions \(2\) for operand 0"),
    (("ij->k", (3, 3)), RuntimeError, "output subscript k does not appear in the equation for any input operand"),
    (("ij->ii", (3, 3)), RuntimeError, "output subscript i appears more than once in the output"),
    (("i,i", (3,), (4,)), RuntimeError, "subscript i has size 4 for operand 1 which does not broadcast with "
                                        "previously seen size 3"),
    (("ii", (3, 4)), RuntimeError, "subscript i is repeated for operand 0 but the sizes don't match, 4 != 3"),
    (("i1", (3, 3)), RuntimeError, "invalid subscript given at index 1 in the equation string"),
    (("i->->", (3,)), RuntimeError, "invalid subscript given at index 3 in the equation string"),
    (("..i", (3, 3)), RuntimeError, "found '.' for operand 0 that is not part of any ellipsis"),
    (("...i...", (3, 3)), RuntimeError, "found '.' for operand 0 for which an ellipsis was already found"),
    (("...i,...i", (2, 3), (4, 3)), RuntimeError, "dimension 0 covered by ellipsis in operand 1"),
])
def test_einsum_errors(args, exc, msg):
    ops = [make(s[:2] if len(s) == 3 and isinstance(s[-1], str) else s,
                s[-1] if isinstance(s[-1], str) else "float32", seed=k)[1] for k, s in enumerate(args[1:])]
    with pytest.raises(exc, match=msg):
        torch.einsum(args[0], *ops)


def test_einsum_argument_errors():
    t = torch.ones(3, 3)
    with pytest.raises(ValueError, match="must specify the equation string and at least one operand"):
        torch.einsum(t)
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 1, but got int"):
        torch.einsum("ij", 3)
    with pytest.raises(ValueError, match=r"not within the valid range \[0, 52\)"):
        torch.einsum(t, [0, 52])
    with pytest.raises(NotImplementedError, match="\"bmm\" not implemented for 'Bool'"):
        torch.einsum("i,i", torch.ones(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool))


# ---------------------------------------------------------------- tensordot / kron / inner / vdot

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", ["contig", "transposed", "stepped"])
@pytest.mark.parametrize("sa,sb,dims", [
    ((3, 4), (4, 5), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((3, 4), (3, 4), 2),
    ((3, 4), (5, 2), 0),
    ((2, 3, 4), (4, 2, 5), ([0, 2], [1, 0])),
    ((2, 3, 4), (5, 3), ([-2], [-1])),
    ((0, 4), (4, 3), 1),
])
def test_tensordot(sa, sb, dims, dtype, kind):
    a, ta = layout(sa, dtype, kind, 1)
    b, tb = layout(sb, dtype, kind, 2)
    assert_close(torch.tensordot(ta, tb, dims=dims), np.tensordot(a, b, axes=dims), **tol(dtype))


def test_tensordot_dims_forms_and_size_one():
    a, ta = make((3, 4), "float64", seed=1)
    b, tb = make((4, 3), "float64", seed=2)
    assert_close(torch.tensordot(ta, ta), np.tensordot(a, a))
    assert_close(torch.tensordot(ta, tb, dims=[[1], [0]]), a @ b)
    assert_close(torch.tensordot(ta, tb, dims=torch.tensor([[1], [0]])), a @ b)
    assert_close(torch.tensordot(ta, tb, dims=torch.tensor(1)), a @ b)
    # a contracted size 1 against size n sums the other side (PyTorch's broadcast)
    c, tc = make((3, 1), "float64", seed=3)
    assert_close(torch.tensordot(ta, tc, dims=([0], [0])), np.tensordot(a, np.broadcast_to(c, (3, 1)), ([0], [0])))
    assert_close(torch.tensordot(tc, tb, dims=([1], [0])), np.tensordot(c, b.sum(0, keepdims=True), ([1], [0])))


def test_tensordot_grad():
    gradcheck(lambda a, b: torch.tensordot(a, b, dims=([0, 2], [1, 0])), leaf(2, 3, 4), leaf(4, 2, 5, seed=1))


@pytest.mark.parametrize("kw,exc,msg", [
    (dict(dims=3), RuntimeError, "tensordot expects dims < ndim_a or ndim_b, but got dims=3"),
    (dict(dims=-1), RuntimeError, "tensordot expects dims >= 0, but got dims=-1"),
    (dict(dims=([0, 1], [1])), RuntimeError, "both dimension lists should have same length"),
    (dict(dims=([5], [0])), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"),
    (dict(dims=([0, 0], [1, 1])), RuntimeError, "dim 0 appears multiple times in the list of dims"),
    (dict(dims=(0, 1)), TypeError, "argument 'dims_self' \\(position 3\\) must be tuple of ints, not int"),
    (dict(dims=1.5), RuntimeError, "tensordot expects dims to be int or tuple"),
])
def test_tensordot_errors(kw, exc, msg):
    t = torch.ones(3, 3)
    with pytest.raises(exc, match=msg):
        torch.tensordot(t, t, **kw)


def test_tensordot_dtype_and_size_errors():
    with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
        torch.tensordot(torch.ones(3, 3), torch.ones(3, 3, dtype=torch.float64))
    b = torch.ones(2, 2, dtype=torch.bool)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        torch.tensordot(b, b, dims=1)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match, but first has size 3 in dim 0 and "
                                           "second has size 4 in dim 0"):
        torch.tensordot(torch.ones(3, 3), torch.ones(4, 3), dims=([0], [0]))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 5)), ((3,), (2, 4)), ((2, 1, 3), (3, 2)), ((), (3,)), ((0, 2), (3, 1))])
def test_kron(sa, sb, dtype):
    a, ta = make(sa, dtype, seed=1)
    b, tb = make(sb, dtype, seed=2)
    assert_close(torch.kron(ta, tb), np.kron(a, b), **tol(dtype))
    assert_close(ta.kron(tb), np.kron(a, b), **tol(dtype))


def test_kron_promotes_and_grad():
    assert torch.kron(torch.arange(3), torch.ones(2)).dtype == torch.float32
    assert torch.kron(torch.ones(2, dtype=torch.bool), torch.ones(2, dtype=torch.bool)).dtype == torch.bool
    a, ta = layout((3, 4), "float64", "transposed", 1)
    assert_close(torch.kron(ta, ta), np.kron(a, a))
    gradcheck(torch.kron, leaf(2, 3), leaf(2, 2, seed=1))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((2, 4), (3, 4)), ((2, 3, 4), (5, 4)), ((), (2, 3)), ((0, 4), (4,))])
def test_inner(sa, sb, dtype):
    a, ta = make(sa, dtype, seed=1)
    b, tb = make(sb, dtype, seed=2)
    assert_close(torch.inner(ta, tb), np.inner(a, b), **tol(dtype))
    assert_close(ta.inner(tb), np.inner(a, b), **tol(dtype))


def test_inner_grad_and_errors():
    gradcheck(torch.inner, leaf(2, 3), leaf(4, 3, seed=1))
    with pytest.raises(RuntimeError, match=r"inner\(\) the last dimension must match on both input tensors but got "
                                           r"shapes \[3\] and \[4\]"):
        torch.inner(torch.ones(3), torch.ones(4))
    with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
        torch.inner(torch.ones(3), torch.ones(3, dtype=torch.float64))


@pytest.mark.parametrize("dtype", FLOATS)
def test_vdot(dtype):
    a, ta = layout((7,), dtype, "stepped", 1)
    b, tb = make((7,), dtype, seed=2)
    assert_close(torch.vdot(ta, tb), np.vdot(a, b), **tol(dtype))
    assert_close(ta.vdot(tb), np.vdot(a, b), **tol(dtype))
    assert_close(torch.vdot(torch.zeros(0, dtype=ta.dtype), torch.zeros(0, dtype=ta.dtype)), np.float64(0))


def test_vdot_grad_and_errors():
    gradcheck(torch.vdot, leaf(5), leaf(5, seed=1))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        torch.vdot(torch.ones(2, 2), torch.ones(4))
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but found Float and "
                                           "Double"):
        torch.vdot(torch.ones(3), torch.ones(3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"):
        torch.vdot(torch.ones(3), torch.ones(4))


# ---------------------------------------------------------------- trace / diag family

@pytest.mark.parametrize("dtype", FLOATS + ["int64"])
@pytest.mark.parametrize("shape,kind", [((4, 4), "contig"), ((3, 5), "transposed"), ((5, 3), "stepped"),
                                        ((0, 3), "contig")])
def test_trace(shape, kind, dtype):
    a, t = layout(shape, dtype, kind, 1)
    assert_close(torch.trace(t), np.trace(a), **tol(dtype))
    assert_close(t.trace(), np.trace(a), **tol(dtype))


def test_trace_dtype_grad_errors():
    assert torch.trace(torch.ones(2, 3, dtype=torch.uint8)).dtype == torch.int64
    gradcheck(torch.trace, leaf(3, 4))
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 3"):
        torch.trace(torch.ones(2, 3, 3))
    with pytest.raises(NotImplementedError, match="\"trace\" not implemented for 'Bool'"):
        torch.trace(torch.ones(2, 2, dtype=torch.bool))


@pytest.mark.parametrize("dtype", FLOATS + ["int64"])
@pytest.mark.parametrize("k", [0, 1, -2, 5])
def test_diag(k, dtype):
    v, tv = layout((4,), dtype, "stepped", 1)
    assert_close(torch.diag(tv, k), np.diag(v, k))
    assert_close(tv.diag(k), np.diag(v, k))
    m, tm = layout((3, 5), dtype, "transposed", 2)
    assert_close(torch.diag(tm, k), np.diag(m, k))
    assert torch.diag(tm, k).dtype == tm.dtype


def test_diag_grad_and_errors():
    gradcheck(lambda x: torch.diag(x, -1), leaf(3))
    gradcheck(lambda x: torch.diag(x, 1), leaf(3, 4))
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 0D"):
        torch.diag(torch.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"):
        torch.diag(torch.ones(2, 3, 4))
    with pytest.raises(TypeError, match=r"argument 'diagonal' \(position 2\) must be int, not bool"):
        torch.diag(torch.ones(3), True)


@pytest.mark.parametrize("shape,k", [((2, 3), 0), ((2, 3), 2), ((4,), -1), ((), 0), ((0,), 1)])
def test_diagflat(shape, k):
    a, t = make(shape, "float64", seed=1)
    assert_close(torch.diagflat(t, k), np.diagflat(a, k))
    assert_close(t.diagflat(k), np.diagflat(a, k))


def np_diag_embed(a, offset, dim1, dim2):
    """Reference: each last-dim vector on the offset diagonal of a new (dim1, dim2) plane."""
    n = a.shape[-1] + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n))
    for idx in np.ndindex(a.shape[:-1]):
        out[idx] = np.diag(a[idx], offset)
    nd = out.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    rest = [d for d in range(nd) if d not in (d1, d2)]
    perm = [0] * nd
    for src, dst in zip(range(nd - 2), rest):
        perm[dst] = src
    perm[d1], perm[d2] = nd - 2, nd - 1
    return np.transpose(out, perm)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("offset,dim1,dim2", [(0, -2, -1), (1, 0, 2), (-1, 2, 0), (2, 1, 0)])
def test_diag_embed(offset, dim1, dim2, dtype):
    a, t = layout((2, 3), dtype, "transposed", 1)
    assert_close(torch.diag_embed(t, offset, dim1, dim2), np_diag_embed(a, offset, dim1, dim2))
    assert_close(t.diag_embed(offset, dim1, dim2), np_diag_embed(a, offset, dim1, dim2))


def test_diag_embed_grad_and_errors():
    gradcheck(lambda x: torch.diag_embed(x, 1, 0, 2), leaf(2, 3))
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, 0"):
        torch.diag_embed(torch.ones(3, 3), 0, 0, 0)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 5"):
        torch.diag_embed(torch.ones(3, 3), 0, 0, 5)


@pytest.mark.parametrize("row,col,k", [(3, 4, 0), (4, 3, -1), (3, 4, 1), (3, 4, 10), (3, 4, -10), (0, 0, 0), (1, 5, 2)])
def test_tril_triu_indices(row, col, k):
    r = torch.tril_indices(row, col, k)
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(to_np(r), np.stack(np.tril_indices(row, k, col)).reshape(2, -1))
    r = torch.triu_indices(row, col, k, dtype=torch.int32)
    assert r.dtype == torch.int32
    np.testing.assert_array_equal(to_np(r), np.stack(np.triu_indices(row, k, col)).reshape(2, -1))


def test_tril_indices_errors():
    with pytest.raises(RuntimeError, match="row must be non-negative, got-1"):
        torch.tril_indices(-1, 4)
    with pytest.raises(RuntimeError, match="col must be non-negative, got-4"):
        torch.triu_indices(3, -4)
    with pytest.raises(NotImplementedError, match="\"tril_indices\" not implemented for 'Float'"):
        torch.tril_indices(3, 4, dtype=torch.float32)
    with pytest.raises(TypeError, match=r"argument 'row' \(position 1\) must be int, not float"):
        torch.tril_indices(3.0, 4)


# ---------------------------------------------------------------- cdist / cross

def np_cdist(a, b, p):
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(np.float64)
    if p == np.inf:
        return diff.max(-1) if diff.shape[-1] else np.zeros(diff.shape[:-1])
    return (diff ** p).sum(-1) ** (1.0 / p)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0, 1, 2, 3.5, float("inf")])
@pytest.mark.parametrize("sa,sb", [((4, 3), (5, 3)), ((2, 4, 3), (5, 3)), ((2, 1, 4, 3), (3, 5, 3)), ((30, 3), (6, 3)),
                                   ((0, 3), (5, 3)), ((4, 0), (5, 0))])
def test_cdist(sa, sb, p, dtype):
    a, ta = make(sa, dtype, seed=1)
    b, tb = layout(sb, dtype, "transposed", 2)
    got = torch.cdist(ta, tb, p=p)
    assert got.dtype == ta.dtype
    # the matmul expansion (p=2, more than 25 rows) loses a little more in float32
    assert_close(got, np_cdist(a, b, p), **(dict(rtol=1e-3, atol=1e-3) if dtype == "float32" else tol(dtype)))


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_compute_modes(mode):
    a, ta = make((40, 3), "float64", seed=1)
    b, tb = make((6, 3), "float64", seed=2)
    assert_close(torch.cdist(ta, tb, compute_mode=mode), np_cdist(a, b, 2), rtol=1e-9, atol=1e-9)


def test_cdist_grad():
    for p in (1, 2, 3.0):
        gradcheck(lambda a, b: torch.cdist(a, b, p=p), leaf(2, 3, 4), leaf(5, 4, seed=1))
    gradcheck(lambda a, b: torch.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), leaf(3, 4), leaf(5, 4, seed=1))
    x = leaf(3, 2)
    torch.cdist(x, x, p=0).sum().backward()  # a count: in the graph, with a zero gradient
    np.testing.assert_array_equal(to_np(x.grad), np.zeros((3, 2)))


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_self_distance_grad_is_finite(mode):
    """cdist(x, x) has zeros on its diagonal; their gradient is 0 (as PyTorch), not NaN."""
    a, t = make((5, 3), "float64", seed=1)
    t.requires_grad_(True)
    torch.cdist(t, t, compute_mode=mode).sum().backward()
    diff = a[:, None, :] - a[None, :, :]
    dist = np.sqrt((diff ** 2).sum(-1))
    np.fill_diagonal(dist, 1.0)
    expected = 2 * (diff / dist[..., None]).sum(1)  # each pair appears twice in the sum
    assert_close(t.grad, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("a,b,kw,exc,msg", [
    ((3,), (3, 3), {}, RuntimeError, "cdist only supports at least 2D tensors, X1 got: 1D"),
    ((4, 3), (5, 2), {}, RuntimeError, "X1 and X2 must have the same number of columns. X1: 3 X2: 2"),
    ((4, 3), (5, 3), dict(p=-1), RuntimeError, "cdist only supports non-negative p values"),
    ((4, 3), (5, 3), dict(compute_mode="abc"), ValueError, "abc is not a valid value for compute_mode"),
    ((2, 4, 3), (3, 5, 3), {}, RuntimeError, r"The size of tensor a \(2\) must match the size of tensor b \(3\)"),
])
def test_cdist_errors(a, b, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        torch.cdist(torch.ones(*a), torch.ones(*b), **kw)


def test_cdist_dtype_errors():
    with pytest.raises(RuntimeError, match="cdist only supports floating-point dtypes, X1 got: Long"):
        torch.cdist(torch.ones(2, 2, dtype=torch.int64), torch.ones(2, 2))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        torch.cdist(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.float64))


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize("dtype", FLOATS + ["int64"])
@pytest.mark.parametrize("sa,sb,dim,axis", [((4, 3), (4, 3), None, -1), ((3, 4), (3, 4), None, 0),
                                            ((2, 3, 4), (2, 3, 4), -2, 1), ((4, 3), (1, 3), 1, -1),
                                            ((0, 3), (0, 3), 1, -1)])
def test_cross(sa, sb, dim, axis, dtype):
    a, ta = make(sa, dtype, seed=1)
    b, tb = layout(sb, dtype, "stepped", 2)
    a_, b_ = np.broadcast_arrays(a, b)
    expected = np.cross(a_, b_, axis=axis) if a_.size else np.zeros(a_.shape)
    assert_close(torch.cross(ta, tb, dim=dim), expected, **tol(dtype))
    assert_close(ta.cross(tb, dim=dim), expected, **tol(dtype))


def test_cross_grad_and_errors():
    gradcheck(lambda a, b: torch.cross(a, b, dim=1), leaf(2, 3, 4), leaf(2, 3, 4, seed=1))
    with pytest.raises(RuntimeError, match="no dimension of size 3 in input"):
        torch.cross(torch.ones(4, 4), torch.ones(4, 4))
    with pytest.raises(RuntimeError, match="linalg.cross: inputs dimension 1 must have length 3. Got 4 and 4"):
        torch.cross(torch.ones(3, 4), torch.ones(3, 4), dim=1)
    with pytest.raises(RuntimeError, match="linalg.cross: inputs must have the same number of dimensions."):
        torch.cross(torch.ones(4, 3), torch.ones(2, 4, 3))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        torch.cross(torch.ones(4, 3), torch.ones(4, 3, dtype=torch.float64))
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.cross(torch.ones(4, 3), torch.ones(4, 3), dim=5)
    with pytest.raises(NotImplementedError, match="\"cross\" not implemented for 'Bool'"):
        torch.cross(torch.ones(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool))


# ---------------------------------------------------------------- block_diag / products of sets / meshgrid

def np_block_diag(*arrs):
    arrs = [np.atleast_2d(a) for a in arrs]
    out = np.zeros((sum(a.shape[0] for a in arrs), sum(a.shape[1] for a in arrs)))
    r = c = 0
    for a in arrs:
        out[r:r + a.shape[0], c:c + a.shape[1]] = a
        r, c = r + a.shape[0], c + a.shape[1]
    return out


@pytest.mark.parametrize("dtype", FLOATS)
def test_block_diag(dtype):
    pairs = [layout((2, 3), dtype, "transposed", 1), make((4,), dtype, seed=2), make((), dtype, seed=3),
             make((0, 2), dtype, seed=4)]
    assert_close(torch.block_diag(*[t for _, t in pairs]), np_block_diag(*[a for a, _ in pairs]))
    i = torch.arange(4).reshape(2, 2)
    r = torch.block_diag(i, torch.ones(1, dtype=torch.bool))
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(to_np(r), np_block_diag(to_np(i), np.ones(1)))
    assert torch.block_diag(torch.ones(2), torch.ones(1, dtype=torch.float64)).dtype == torch.float64


def test_block_diag_grad_and_errors():
    gradcheck(torch.block_diag, leaf(2, 3), leaf(2, seed=1))
    with pytest.raises(RuntimeError, match="Input tensors must have 2 or fewer dimensions. Input 0 has 3 dimensions"):
        torch.block_diag(torch.ones(2, 2, 2))


def test_cartesian_prod():
    a, ta = layout((3,), "float64", "stepped", 1)
    b, tb = make((2,), "float64", seed=2)
    c, tc = make((4,), "float64", seed=3)
    grid = np.stack([x.ravel() for x in np.meshgrid(a, b, c, indexing="ij")], 1)
    assert_close(torch.cartesian_prod(ta, tb, tc), grid)
    assert_close(torch.cartesian_prod(ta), a)
    gradcheck(torch.cartesian_prod, leaf(3), leaf(2, seed=1))
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[3, 3\]"):
        torch.cartesian_prod(torch.ones(3, 3), torch.ones(2))
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        torch.cartesian_prod(torch.ones(3), torch.arange(2))


def np_combinations(a, r, with_replacement):
    """All index tuples of length r in lexicographic order, kept if (non-)strictly increasing."""
    idx = np.stack(np.meshgrid(*[np.arange(len(a))] * r, indexing="ij"), -1).reshape(-1, r)
    step = np.diff(idx, axis=1)
    keep = (step >= 0).all(1) if with_replacement else (step > 0).all(1)
    return a[idx[keep]]


@pytest.mark.parametrize("n,r,rep", [(4, 2, False), (4, 3, False), (4, 3, True), (4, 1, False), (3, 5, False),
                                     (1, 3, True), (0, 2, False), (5, 2, True)])
def test_combinations(n, r, rep):
    a, t = layout((n,), "float64", "stepped", 1) if n else make((0,), "float64")
    got = torch.combinations(t, r, with_replacement=rep)
    assert_close(got, np_combinations(a, r, rep).reshape(-1, r))


def test_combinations_r0_grad_errors():
    assert tuple(torch.combinations(torch.ones(3), 0).shape) == (0,)
    gradcheck(lambda x: torch.combinations(x, 2, with_replacement=True), leaf(4))
    with pytest.raises(RuntimeError, match="Expect a non-negative number, but got -1"):
        torch.combinations(torch.ones(3), -1)
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[3, 3\]"):
        torch.combinations(torch.ones(3, 3))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    pairs = [layout((3,), "float64", "stepped", 1), make((4,), "float64", seed=2), make((2,), "float64", seed=3)]
    got = torch.meshgrid(*[t for _, t in pairs], indexing=indexing)
    for g, e in zip(got, np.meshgrid(*[a for a, _ in pairs], indexing=indexing)):
        assert_close(g, e)
    got = torch.meshgrid([pairs[0][1], torch.tensor(2.0, dtype=torch.float64)], indexing=indexing)
    for g, e in zip(got, np.meshgrid(pairs[0][0], np.array([2.0]), indexing=indexing)):
        assert_close(g, e)


def test_meshgrid_grad_and_errors():
    gradcheck(lambda a, b: torch.meshgrid(a, b, indexing="xy"), leaf(3), leaf(2, seed=1))
    v = torch.ones(3)
    with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij", but received: abc'):
        torch.meshgrid(v, v, indexing="abc")
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor in the tensor list but got"):
        torch.meshgrid(torch.ones(2, 2), v, indexing="ij")
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        torch.meshgrid(indexing="ij")
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        torch.meshgrid(v, v.double(), indexing="ij")


# ---------------------------------------------------------------- addcmul / addcdiv / addmv / addr / addbmm

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("value", [1, 0.5, -2])
def test_addcmul_addcdiv(dtype, value):
    x, tx = make((2, 3), dtype, seed=1)
    a, ta = layout((2, 3), dtype, "transposed", 2)
    b, tb = make((3,), dtype, seed=3, positive=True)
    assert_close(torch.addcmul(tx, ta, tb, value=value), x + value * a * b, **tol(dtype))
    assert_close(tx.addcmul(ta, tb, value=value), x + value * a * b, **tol(dtype))
    assert_close(torch.addcdiv(tx, ta, tb, value=value), x + value * a / b, **tol(dtype))
    y = tx.clone()
    assert y.addcmul_(ta, tb, value=value) is y
    assert_close(y, x + value * a * b, **tol(dtype))
    y = tx.clone()
    assert y.addcdiv_(ta, tb, value=value) is y
    assert_close(y, x + value * a / b, **tol(dtype))


def test_addcmul_dtypes():
    i = torch.tensor([1, 2])
    # PyTorch casts value to the integer result dtype (0.5 -> 0, -1.7 -> -1)
    np.testing.assert_array_equal(to_np(torch.addcmul(i, torch.tensor([3, 4]), torch.tensor([5, 7]), value=0.5)),
                                  [1, 2])
    np.testing.assert_array_equal(to_np(torch.addcmul(i, torch.tensor([3, 4]), torch.tensor([5, 7]), value=-1.7)),
                                  [-14, -26])
    assert torch.addcmul(torch.ones(3), torch.ones(3, dtype=torch.float64), torch.ones(3)).dtype == torch.float64
    assert torch.addcdiv(torch.tensor([1, 2]), torch.ones(2), torch.ones(2)).dtype == torch.float32
    y = torch.ones(3)
    y.addcmul_(torch.ones(3, dtype=torch.float64), torch.ones(3))
    assert y.dtype == torch.float32


def test_addcmul_addcdiv_grad():
    gradcheck(lambda x, a, b: torch.addcmul(x, a, b, value=0.5), leaf(2, 3), leaf(2, 3, seed=1), leaf(3, seed=2))
    b = (leaf(3, seed=2).detach().abs() + 1).requires_grad_(True)
    gradcheck(lambda x, a, b: torch.addcdiv(x, a, b, value=-2), leaf(2, 3), leaf(2, 3, seed=1), b)


def test_addcmul_addcdiv_errors():
    i = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        torch.addcdiv(torch.ones(3), i, i)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\)"):
        torch.addcdiv(torch.ones(3), torch.ones(3), torch.ones(4))
    y = torch.ones(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        y.addcmul_(torch.ones(3), torch.ones(2, 3))
    z = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        z.addcmul_(torch.ones(3), torch.ones(3))
    np.testing.assert_array_equal(to_np(y), np.ones(3))  # untouched by the failed calls
    np.testing.assert_array_equal(to_np(z), [1, 2, 3])
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        b = torch.ones(2, dtype=torch.bool)
        torch.addcmul(b, b, b)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2), (0, 3)])
def test_addmv_addr_addbmm(dtype, beta, alpha):
    x, tx = make((4,), dtype, seed=1)
    m, tm = layout((4, 5), dtype, "transposed", 2)
    v, tv = layout((5,), dtype, "stepped", 3)
    assert_close(torch.addmv(tx, tm, tv, beta=beta, alpha=alpha), beta * x + alpha * (m @ v), **tol(dtype))
    assert_close(tx.addmv(tm, tv, beta=beta, alpha=alpha), beta * x + alpha * (m @ v), **tol(dtype))
    y = tx.clone()
    y.addmv_(tm, tv, beta=beta, alpha=alpha)
    assert_close(y, beta * x + alpha * (m @ v), **tol(dtype))

    s, ts = make((4, 1), dtype, seed=4)
    assert_close(torch.addr(ts, tx, tv, beta=beta, alpha=alpha), beta * s + alpha * np.outer(x, v), **tol(dtype))
    y = tm.t().clone()
    y.addr_(tv, tx, beta=beta, alpha=alpha)
    assert_close(y, beta * m.T + alpha * np.outer(v, x), **tol(dtype))

    b1, t1 = make((3, 4, 2), dtype, seed=5)
    b2, t2 = layout((3, 2, 5), dtype, "transposed", 6)
    assert_close(torch.addbmm(tm, t1, t2, beta=beta, alpha=alpha),
                 beta * m + alpha * np.einsum("bij,bjk->ik", b1, b2), **tol(dtype))
    y = tm.clone()
    y.addbmm_(t1, t2, beta=beta, alpha=alpha)
    assert_close(y, beta * m + alpha * np.einsum("bij,bjk->ik", b1, b2), **tol(dtype))


def test_beta_zero_ignores_nan_input():
    nan = torch.full((3,), float("nan"))
    got = torch.addmv(nan, torch.ones(3, 2), torch.ones(2), beta=0)
    assert_close(got, np.full(3, 2.0))
    got = torch.addr(torch.full((2, 2), float("nan")), torch.ones(2), torch.ones(2), beta=0)
    assert_close(got, np.ones((2, 2)))


def test_addmv_addr_addbmm_dtypes():
    i, m = torch.tensor([1, 2]), torch.tensor([[3, 4], [1, 1]])
    np.testing.assert_array_equal(to_np(torch.addmv(i, m, torch.tensor([5, 7]), beta=0.5)), [43, 12])
    assert torch.addr(torch.ones(2, 2), torch.ones(2), torch.ones(2, dtype=torch.float64)).dtype == torch.float64
    assert torch.addr(torch.ones(2, 2, dtype=torch.int64), torch.ones(2), torch.ones(2)).dtype == torch.float32
    b = torch.tensor([True, False])
    r = torch.addr(torch.tensor([[False, True], [False, False]]), b, b)
    np.testing.assert_array_equal(to_np(r), [[True, True], [False, False]])
    m = torch.tensor([[False, True], [False, False]])
    np.testing.assert_array_equal(to_np(torch.addr(m, b, b, alpha=False)), to_np(m))
    np.testing.assert_array_equal(to_np(torch.addr(m, b, b, beta=False)), [[True, False], [False, False]])


def test_addmv_addr_addbmm_grad():
    gradcheck(lambda x, m, v: torch.addmv(x, m, v, beta=0.5, alpha=2), leaf(3), leaf(3, 4, seed=1), leaf(4, seed=2))
    gradcheck(lambda x, a, b: torch.addr(x, a, b, beta=2, alpha=-1), leaf(3, 4), leaf(3, seed=1), leaf(4, seed=2))
    gradcheck(lambda x, a, b: torch.addbmm(x, a, b, alpha=0.5), leaf(3, 4), leaf(2, 3, 5, seed=1),
              leaf(2, 5, 4, seed=2))


@pytest.mark.parametrize("fn,exc,msg", [
    (lambda: torch.addmv(torch.ones(4), torch.ones(3, 3), torch.ones(3)), RuntimeError,
     r"size mismatch, got input \(4\), mat \(3x3\), vec \(3\)"),
    (lambda: torch.addmv(torch.ones(3), torch.ones(3, 3), torch.ones(3, dtype=torch.float64)), RuntimeError,
     "addmv input tensors must have the same dtype, but got Float, Float, and Double"),
    (lambda: torch.addmv(torch.ones(3), torch.ones(3, 4, 2), torch.ones(3)), RuntimeError,
     "vector \\+ matrix @ vector expected, got 1, 3, 1"),
    (lambda: torch.addr(torch.ones(3, 3), torch.ones(3, 3), torch.ones(3)), RuntimeError,
     "addr: Expected 1-D argument vec1, but got 2-D"),
    (lambda: torch.addr(torch.ones(3, 3), torch.ones(3), torch.ones(4)), RuntimeError,
     "The expanded size of the tensor"),
    (lambda: torch.addr(torch.ones(3, 3, dtype=torch.int64), torch.ones(3, dtype=torch.int64),
                        torch.ones(3, dtype=torch.int64), alpha=0.5), RuntimeError,
     "For integral input tensors, argument alpha must not be a floating point number."),
    (lambda: torch.addbmm(torch.ones(3, 3), torch.ones(2, 3, 4), torch.ones(3, 4, 3)), RuntimeError,
     "batch1 and batch2 must have same number of batches, got 2 and 3"),
    (lambda: torch.addbmm(torch.ones(3, 3), torch.ones(2, 3, 4), torch.ones(2, 5, 3)), RuntimeError,
     r"Incompatible matrix sizes for bmm \(3x4 and 5x3\)"),
    (lambda: torch.addbmm(torch.ones(2, 4), torch.ones(1, 2, 3, 4), torch.ones(1, 2, 4, 3)), RuntimeError,
     "batch1 must be a 3D tensor"),
    (lambda: torch.addbmm(torch.ones(3, 3), torch.ones(2, 3, 4, dtype=torch.float64), torch.ones(2, 4, 3)),
     RuntimeError, "mat1 and mat2 must have the same dtype, but got Double and Float"),
    (lambda: torch.addbmm(torch.ones(3, 3, dtype=torch.float64), torch.ones(2, 3, 4), torch.ones(2, 4, 3)),
     RuntimeError, "self and mat2 must have the same dtype, but got Double and Float"),
    (lambda: torch.ger(torch.ones(3, 3), torch.ones(3)), RuntimeError,
     "outer: Expected 1-D argument self, but got 2-D"),
])
def test_add_product_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


def test_ger():
    a, ta = layout((3,), "float64", "stepped", 1)
    b, tb = make((4,), "float64", seed=2)
    assert_close(torch.ger(ta, tb), np.outer(a, b))
    assert_close(ta.ger(tb), np.outer(a, b))
    assert torch.ger(torch.ones(2), torch.ones(2, dtype=torch.float64)).dtype == torch.float64


# ---------------------------------------------------------------- chain_matmul / matrix_power

@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("dtype", FLOATS)
def test_chain_matmul(dtype):
    pairs = [layout((3, 4), dtype, "transposed", 1), make((4, 2), dtype, seed=2), make((2, 5), dtype, seed=3)]
    assert_close(torch.chain_matmul(*[t for _, t in pairs]), pairs[0][0] @ pairs[1][0] @ pairs[2][0], **tol(dtype))
    assert_close(torch.chain_matmul(pairs[0][1]), pairs[0][0])
    shapes = [(6, 2), (2, 7), (7, 1), (1, 5), (5, 3)]  # a chain whose cheapest order is not left to right
    chain = [layout(sh, dtype, "stepped", 10 + k) for k, sh in enumerate(shapes)]
    assert_close(torch.chain_matmul(*[t for _, t in chain]), np.linalg.multi_dot([a for a, _ in chain]), **tol(dtype))
    gradcheck(torch.chain_matmul, *[leaf(*sh, seed=k) for k, sh in enumerate(shapes[:4])])
    gradcheck(torch.chain_matmul, leaf(2, 3), leaf(3, 4, seed=1), leaf(4, 2, seed=2))
    with pytest.raises(RuntimeError, match=r"chain_matmul\(\): Expected one or more matrices"):
        torch.chain_matmul()
    with pytest.raises(RuntimeError, match="Tensor dimension is 1, expected 2 instead."):
        torch.chain_matmul(torch.ones(3), torch.ones(3, 3))
    with pytest.raises(RuntimeError, match=r"multi_dot\(\): tensors 0 and 1 with shapes \[3, 3\] and \[4, 3\] cannot "
                                           "be multiplied"):
        torch.chain_matmul(torch.ones(3, 3), torch.ones(4, 3))
    with pytest.raises(RuntimeError, match="all tensors must have be the same dtype but tensor 0 is float and tensor 1 "
                                           "double"):
        torch.chain_matmul(torch.ones(3, 3), torch.ones(3, 3, dtype=torch.float64))


@pytest.mark.parametrize("dtype", FLOATS + ["int64"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 0)])
@pytest.mark.parametrize("n", [0, 1, 2, 5, 6])
def test_matrix_power(shape, n, dtype):
    a, t = layout(shape, dtype, "transposed", 1)
    if dtype != "int64":
        a, t = a / 3, t / 3  # keep powers small so the float32 error stays small
    expected = np.linalg.matrix_power(a, n)
    assert_close(torch.matrix_power(t, n), expected, **tol(dtype))
    assert_close(t.matrix_power(n), expected, **tol(dtype))
    assert torch.matrix_power(t, n).dtype == t.dtype


def test_matrix_power_grad_and_errors():
    gradcheck(lambda x: torch.matrix_power(x, 3), leaf(2, 3, 3))
    x = torch.ones(3, 3)
    r = torch.matrix_power(x, 1)
    r.add_(1)
    np.testing.assert_array_equal(to_np(x), np.ones((3, 3)))  # n=1 returns a copy
    with pytest.raises(RuntimeError, match="linalg.matrix_power: The input tensor A must have at least 2 dimensions."):
        torch.matrix_power(torch.ones(3), 2)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 3 by 4 matrices"):
        torch.matrix_power(torch.ones(3, 4), 2)
    with pytest.raises(TypeError, match=r"argument 'n' \(position 2\) must be int, not float"):
        torch.matrix_power(x, 1.5)
    with pytest.raises(NotImplementedError, match="Expected a floating point or complex tensor as input. Got Long"):
        torch.matrix_power(torch.ones(3, 3, dtype=torch.int64), -1)


def test_matrix_power_negative_inverts():
    a = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 1.0, 4.0]])
    t = torch.tensor(a, dtype=torch.float64)
    assert_close(torch.matrix_power(t, -3), np.linalg.matrix_power(a, -3))
    assert_close(t.T.matrix_power(-1), np.linalg.inv(a.T))


# ---------------------------------------------------------------- broadcasting

def test_broadcast_to_and_tensors():
    a, t = layout((3, 1), "float64", "transposed", 1)
    assert_close(torch.broadcast_to(t, (2, 3, 4)), np.broadcast_to(a, (2, 3, 4)))
    assert_close(t.broadcast_to((3, -1)), a)
    b, tb = make((4,), "float64", seed=2)
    c, tc = make((), "float64", seed=3)
    got = torch.broadcast_tensors(t, tb, tc)
    for g, e in zip(got, np.broadcast_arrays(a, b, c)):
        assert_close(g, e)
    assert torch.broadcast_tensors() == ()
    gradcheck(lambda x: torch.broadcast_to(x, (2, 3, 4)), leaf(3, 1))
    gradcheck(lambda x, y: torch.broadcast_tensors(x, y), leaf(3, 1), leaf(4, seed=1))


def test_broadcast_errors():
    v = torch.ones(3)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the existing size \(3\)"):
        torch.broadcast_to(v, (4,))
    with pytest.raises(RuntimeError, match="isn't allowed in a leading, non-existing dimension 0"):
        torch.broadcast_to(v, (-1, 3))
    with pytest.raises(TypeError, match=r"broadcast_to\(\): argument 'size' \(position 2\) must be tuple of ints"):
        torch.broadcast_to(v, 3)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                           "non-singleton dimension 0"):
        torch.broadcast_tensors(v, torch.ones(4))
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 0, but got list"):
        torch.broadcast_tensors([v, v])


@pytest.mark.parametrize("shapes", [((3,), (2, 1), 3), ((2, 3),), (), ((0,), (1,)), ((1, 4), [5, 1, 1], None),
                                    (torch.Size([2, 1]), (1, 0))])
def test_broadcast_shapes(shapes):
    arrs = [np.empty((s,) if isinstance(s, int) else tuple(s)) for s in shapes if s is not None]
    expected = np.broadcast_shapes(*[a.shape for a in arrs])
    got = torch.broadcast_shapes(*shapes)
    assert isinstance(got, torch.Size)
    assert tuple(got) == expected


def test_broadcast_shapes_errors():
    with pytest.raises(RuntimeError, match=r"Attempting to broadcast a dimension of length 4 at -1! Mismatching "
                                           r"argument at index 2 had \(4,\); but expected shape should be "
                                           r"broadcastable to \[2, 3\]"):
        torch.broadcast_shapes((3,), (2, 1), 4)
    with pytest.raises(ValueError, match="Attempting to broadcast a dimension with negative length!"):
        torch.broadcast_shapes((-1,), (3,))
    with pytest.raises(TypeError):
        torch.broadcast_shapes((1.5,))


# ---------------------------------------------------------------- out= and huge arguments

def test_out_argument():
    a, ta = make((3, 4), "float64", seed=1)
    b, tb = make((4, 2), "float64", seed=2)
    out = torch.empty(3, 2, dtype=torch.float64)
    assert torch.tensordot(ta, tb, dims=1, out=out) is out
    assert_close(out, a @ b)
    out = torch.empty(0, dtype=torch.float64)
    torch.kron(ta, tb, out=out)
    assert_close(out, np.kron(a, b))


@pytest.mark.parametrize("fn", [
    lambda: torch.tril_indices(2 ** 40, 2 ** 40),
    lambda: torch.diag(torch.ones(3), 2 ** 62),
    lambda: torch.diag_embed(torch.ones(3), 2 ** 62),
    lambda: torch.broadcast_to(torch.ones(3), (2 ** 63 - 1, 3)),
    lambda: torch.matrix_power(torch.ones(3, 3), 2 ** 63),
])
def test_huge_arguments_raise(fn):
    with pytest.raises((RuntimeError, ValueError, OverflowError, MemoryError)):
        fn()
