"""Matrix products against NumPy float64 (int64: exact)."""
import numpy as np
import pytest

import ferrotorch as torch
from _helpers import assert_close, make, to_np


DTYPES = ["float32", "float64", "int64"]


# ---------------------------------------------------------------- helpers

def tol(dtype, k):
    """Tolerance for a sum of k products of values in [-3, 3]: looser for float32 as k grows."""
    if dtype == "float32":
        return dict(rtol=1e-4, atol=2e-5 * max(k, 1) ** 0.5 * 9)
    if dtype == "float64":
        return dict(rtol=1e-10, atol=1e-11 * max(k, 1))
    return {}


def check(t, ref, dtype, k):
    assert t.dtype == getattr(torch, dtype)
    if dtype == "int64":
        assert tuple(t.shape) == np.shape(ref)
        np.testing.assert_array_equal(to_np(t), np.asarray(ref).astype(np.int64))
    else:
        assert_close(t, ref, **tol(dtype, k))


def strided(shape, dtype, layout, seed):
    """(float64/int64 reference, tensor with `shape`) where the tensor has the given memory layout."""
    if layout == "contig":
        return make(shape, dtype, seed=seed)
    if layout == "transposed":
        a, t = make(shape[:-2] + (shape[-1], shape[-2]), dtype, seed=seed)
        return np.swapaxes(a, -1, -2), t.transpose(-1, -2)
    if layout == "stepped":
        big = shape[:-1] + (shape[-1] * 2,)
        a, t = make(big, dtype, seed=seed)
        return a[..., ::2], t[..., ::2]
    if layout == "offset":
        big = tuple(n + 1 for n in shape)
        a, t = make(big, dtype, seed=seed)
        sl = tuple(slice(1, None) for _ in shape)
        return a[sl], t[sl]
    if layout == "expanded":
        a, t = make(shape[:-2] + (1, shape[-1]), dtype, seed=seed)
        return np.broadcast_to(a, shape), t.expand(*shape)
    raise ValueError(layout)


LAYOUTS = ["contig", "transposed", "stepped", "offset", "expanded"]


# ---------------------------------------------------------------- mm

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (2, 3, 4), (5, 7, 3), (17, 64, 9), (8, 256, 12), (33, 5, 1)])
def test_mm(dtype, m, k, n):
    a, ta = make((m, k), dtype, seed=1)
    b, tb = make((k, n), dtype, seed=2)
    ref = a @ b
    check(torch.mm(ta, tb), ref, dtype, k)
    check(ta.mm(tb), ref, dtype, k)
    check(ta @ tb, ref, dtype, k)
    check(torch.matmul(ta, tb), ref, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", ["contig", "transposed", "stepped", "offset"])
def test_mm_strided_inputs(dtype, la, lb):
    a, ta = strided((6, 40), dtype, la, seed=3)
    b, tb = strided((40, 5), dtype, lb, seed=4)
    check(torch.mm(ta, tb), a @ b, dtype, 40)
    # inputs are untouched
    assert_close(ta, a, rtol=0, atol=0)
    assert_close(tb, b, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(161, 100, 139), (70, 151, 231)])
@pytest.mark.parametrize("la,lb", [("contig", "contig"), ("transposed", "stepped"), ("offset", "transposed")])
def test_mm_large_enough_to_run_threaded(dtype, m, k, n, la, lb):
    # Above ~128^3 multiply-adds the product is split across threads into blocks of rows
    # (m >= n) or columns (n > m); odd sizes give uneven blocks.
    a, ta = strided((m, k), dtype, la, seed=21)
    b, tb = strided((k, n), dtype, lb, seed=22)
    check(torch.mm(ta, tb), a @ b, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mm_empty(dtype):
    _, ta = make((2, 0), dtype)
    _, tb = make((0, 3), dtype)
    check(torch.mm(ta, tb), np.zeros((2, 3)), dtype, 0)
    _, tc = make((0, 4), dtype)
    _, td = make((4, 3), dtype)
    check(torch.mm(tc, td), np.zeros((0, 3)), dtype, 4)
    check(torch.mm(td.t(), torch.zeros(4, 0, dtype=td.dtype)), np.zeros((3, 0)), dtype, 4)


def test_mm_out():
    a, ta = make((3, 4), "float64", seed=1)
    b, tb = make((4, 2), "float64", seed=2)
    out = torch.empty(3, 2, dtype=torch.float64)
    r = torch.mm(ta, tb, out=out)
    assert_close(out, a @ b)
    assert r.data_ptr() == out.data_ptr()


def test_int_matmul_exact_large_values():
    # products and sums that a float32 (or float64 for big values) accumulator would round
    a = np.array([[2 ** 31 + 1, 3], [-(2 ** 30), 7]], dtype=np.int64)
    b = np.array([[2 ** 20 + 3, 1], [5, -(2 ** 25)]], dtype=np.int64)
    ref = a @ b
    got = torch.mm(torch.tensor(a), torch.tensor(b))
    assert got.dtype == torch.int64
    assert to_np(got).tolist() == ref.tolist()


# ---------------------------------------------------------------- matmul (broadcasting, 1-d)

MATMUL_SHAPES = [
    ((3,), (3,)),                      # dot -> 0-d
    ((3,), (3, 4)),                    # vector @ matrix -> (4,)
    ((2, 3), (3,)),                    # matrix @ vector -> (2,)
    ((5, 2, 3), (3,)),                 # batched @ vector
    ((3,), (5, 3, 4)),                 # vector @ batched
    ((4,), (2, 1, 4, 3)),
    ((2, 3), (4, 3, 5)),               # matrix broadcast against a batch
    ((4, 2, 3), (3, 5)),               # batch @ matrix
    ((2, 1, 3, 4), (5, 4, 2)),         # broadcast batch dims (2,1) x (5,) -> (2,5)
    ((1, 3, 4), (2, 4, 5)),
    ((3, 1, 2, 7), (1, 4, 7, 2)),
    ((2, 3, 0), (2, 0, 4)),            # empty K -> zeros
    ((0, 2, 3), (3, 1)),               # empty batch
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_broadcasting(dtype, sa, sb):
    a, ta = make(sa, dtype, seed=5)
    b, tb = make(sb, dtype, seed=6)
    ref = np.matmul(a, b)
    k = sa[-1]
    r = torch.matmul(ta, tb)
    assert tuple(r.shape) == np.shape(ref)
    check(r, ref, dtype, k)
    check(ta @ tb, ref, dtype, k)
    check(ta.matmul(tb), ref, dtype, k)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matmul_batched_strided(dtype):
    a, ta = make((4, 3, 6), dtype, seed=1)
    b, tb = make((6, 5, 4), dtype, seed=2)
    # transposed batch and matrix dims, stepped slices, expanded batch
    ra = np.swapaxes(a, 0, 1)[:, ::2]             # (3, 2, 6)
    rb = np.transpose(b, (2, 0, 1))[:3]           # (3, 6, 5)
    xa = ta.transpose(0, 1)[:, ::2]
    xb = tb.permute(2, 0, 1)[:3]
    check(torch.matmul(xa, xb), np.matmul(ra, rb), dtype, 6)
    e, te = make((1, 6, 2), dtype, seed=3)
    check(torch.matmul(xa, te.expand(3, 6, 2)), np.matmul(ra, np.broadcast_to(e, (3, 6, 2))), dtype, 6)
    check(xa.mT @ xa, np.matmul(np.swapaxes(ra, -1, -2), ra), dtype, 2)


def test_matmul_1d_result_is_0d():
    r = torch.matmul(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0, 6.0]))
    assert r.dim() == 0
    assert r.item() == 32.0


# ---------------------------------------------------------------- bmm / mv / dot / outer

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b,m,k,n", [(1, 2, 3, 4), (4, 5, 16, 3), (3, 1, 128, 1), (2, 3, 0, 2), (0, 2, 2, 2)])
def test_bmm(dtype, b, m, k, n):
    x, tx = make((b, m, k), dtype, seed=1)
    y, ty = make((b, k, n), dtype, seed=2)
    ref = np.matmul(x, y) if x.size or y.size else np.zeros((b, m, n))
    check(torch.bmm(tx, ty), ref, dtype, k)
    check(tx.bmm(ty), ref, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bmm_strided(dtype):
    x, tx = make((3, 7, 4), dtype, seed=1)          # used transposed -> (3, 4, 7)
    y, ty = make((7, 3, 5), dtype, seed=2)          # permuted -> (3, 7, 5)
    ref = np.matmul(np.swapaxes(x, 1, 2), np.transpose(y, (1, 0, 2)))
    check(torch.bmm(tx.transpose(1, 2), ty.permute(1, 0, 2)), ref, dtype, 7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["contig", "transposed", "stepped"])
def test_mv(dtype, layout):
    a, ta = strided((5, 33), dtype, layout, seed=1)
    v, tv = make((66,), dtype, seed=2)
    v, tv = v[::2], tv[::2]
    check(torch.mv(ta, tv), a @ v, dtype, 33)
    check(ta.mv(tv), a @ v, dtype, 33)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 7, 256])
def test_dot(dtype, n):
    x, tx = make((n,), dtype, seed=1)
    y, ty = make((2 * n,), dtype, seed=2)
    ref = np.dot(x, y[::2])
    r = torch.dot(tx, ty[::2])
    assert r.dim() == 0
    check(r, ref, dtype, n)
    check(tx.dot(ty[::2]), ref, dtype, n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_outer(dtype):
    x, tx = make((4,), dtype, seed=1)
    y, ty = make((6,), dtype, seed=2)
    check(torch.outer(tx, ty), np.outer(x, y), dtype, 1)
    check(tx.outer(ty[::2]), np.outer(x, y[::2]), dtype, 1)
    check(torch.outer(tx, ty[:0]), np.zeros((4, 0)), dtype, 1)


# ---------------------------------------------------------------- addmm / baddbmm

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("inp_shape", [(3, 5), (5,), (1, 5), (3, 1), ()])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1), (2, 0), (-1, 3)])
def test_addmm(dtype, inp_shape, beta, alpha):
    if dtype == "int64":
        beta, alpha = int(beta * 2), int(alpha * 2)
    i, ti = make(inp_shape, dtype, seed=1)
    a, ta = make((3, 8), dtype, seed=2)
    b, tb = make((8, 5), dtype, seed=3)
    ref = beta * np.broadcast_to(i, (3, 5)) + alpha * (a @ b)
    check(torch.addmm(ti, ta, tb, beta=beta, alpha=alpha), ref, dtype, 8)
    check(ti.addmm(ta, tb, beta=beta, alpha=alpha), ref, dtype, 8)
    if inp_shape == (3, 5):
        c = ti.clone()
        c.addmm_(ta.t().t(), tb, beta=beta, alpha=alpha)
        check(c, ref, dtype, 8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m,k,n", [(40, 900, 70), (29, 1700, 33)])
def test_addmm_and_baddbmm_at_kernel_sizes(dtype, m, k, n):
    # Big enough for the register-tile kernel (m >= 12, n >= 32), with k spanning several
    # packed slices, partial tiles at both edges, and the bias accumulated into (addmm seeds
    # its output with the bias).
    i, ti = make((m, n), dtype, seed=4)
    a, ta = strided((m, k), dtype, "transposed", seed=5)
    b, tb = make((k, n), dtype, seed=6)
    check(torch.addmm(ti, ta, tb, beta=0.5, alpha=2.0), 0.5 * i + 2.0 * (a @ b), dtype, k)
    bi, tbi = make((2, m, n), dtype, seed=7)
    ba, tba = make((2, m, k), dtype, seed=8)
    bb, tbb = strided((2, k, n), dtype, "stepped", seed=9)
    check(torch.baddbmm(tbi, tba, tbb), bi + ba @ bb, dtype, k)


def test_addmm_default_and_strided():
    i, ti = make((5, 3), "float64", seed=1)
    a, ta = make((8, 3), "float64", seed=2)
    b, tb = make((5, 16), "float64", seed=3)
    ref = i.T + a.T @ b.T[::2]
    check(torch.addmm(ti.t(), ta.t(), tb.t()[::2]), ref, "float64", 8)


def test_addmm_beta_zero_ignores_nan_input():
    inp = torch.full((2, 2), float("nan"), dtype=torch.float64)
    a = torch.eye(2, dtype=torch.float64)
    b = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    r = torch.addmm(inp, a, b, beta=0)
    assert to_np(r).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    # with beta != 0 the nan propagates
    assert np.isnan(to_np(torch.addmm(inp, a, b, beta=1))).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("inp_shape", [(2, 3, 4), (3, 4), (1, 1, 4), ()])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -1.5), (0, 2)])
def test_baddbmm(dtype, inp_shape, beta, alpha):
    if dtype == "int64":
        beta, alpha = int(beta * 2), int(alpha * 2)
    i, ti = make(inp_shape, dtype, seed=1)
    x, tx = make((2, 3, 9), dtype, seed=2)
    y, ty = make((2, 9, 4), dtype, seed=3)
    ref = beta * np.broadcast_to(i, (2, 3, 4)) + alpha * np.matmul(x, y)
    check(torch.baddbmm(ti, tx, ty, beta=beta, alpha=alpha), ref, dtype, 9)
    check(ti.baddbmm(tx, ty, beta=beta, alpha=alpha), ref, dtype, 9)
    # strided batch inputs
    check(torch.baddbmm(ti, tx.transpose(1, 2).transpose(1, 2), ty[:, :, :].contiguous(), beta=beta, alpha=alpha),
          ref, dtype, 9)


def test_baddbmm_strided_operands():
    x, tx = make((9, 2, 3), "float64", seed=2)        # permuted to (2, 3, 9)
    y, ty = make((2, 4, 18), "float64", seed=3)       # transposed + stepped to (2, 9, 4)
    i, ti = make((2, 3, 4), "float64", seed=1)
    xa = np.transpose(x, (1, 2, 0))
    ya = np.swapaxes(y, 1, 2)[:, ::2]
    ref = i + np.matmul(xa, ya)
    check(torch.baddbmm(ti, tx.permute(1, 2, 0), ty.transpose(1, 2)[:, ::2]), ref, "float64", 9)


# ---------------------------------------------------------------- operator / mixed

def test_matmul_operator_hand_computed():
    a = torch.tensor([[1, 2], [3, 4]])
    b = torch.tensor([[5, 6], [7, 8]])
    assert (a @ b).tolist() == [[19, 22], [43, 50]]
    assert (a @ torch.tensor([1, -1])).tolist() == [-1, -1]
    assert (torch.tensor([1, -1]) @ a).tolist() == [-2, -2]
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    assert to_np(x @ x).tolist() == [[7.0, 10.0], [15.0, 22.0]]


def test_matmul_float32_large_k_accuracy():
    # K = 256 with a float64 reference: float32 kernels must accumulate well enough
    a, ta = make((16, 256), "float32", seed=11)
    b, tb = make((256, 16), "float32", seed=12)
    r = ta @ tb
    np.testing.assert_allclose(to_np(r).astype(np.float64), a @ b, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------- folding (ATen's should_fold)

FOLD_SHAPES = [
    ((4, 3, 5), (5, 2)),        # batch @ matrix: linear on a 3-d input
    ((2, 3, 4, 5), (5, 6)),
    ((4, 3, 5), (5,)),          # batch @ vector
    ((3, 5), (4, 5, 2)),        # matrix @ batch: (b^T @ a^T)^T folded
    ((5,), (2, 3, 5, 4)),       # vector @ batch
    ((0, 3, 5), (5, 2)),        # empty batch
]


# (an expanded layout needs a non-empty operand to expand)
FOLD_CASES = [(sa, sb, layout) for sa, sb in FOLD_SHAPES for layout in LAYOUTS
              if not (layout == "expanded" and 0 in sa + sb)]


@pytest.mark.parametrize("grad", ["big", "small", "both", "none"])
@pytest.mark.parametrize("sa,sb,layout", FOLD_CASES, ids=[f"{a}@{b}-{lay}" for a, b, lay in FOLD_CASES])
def test_matmul_fold_values_and_grads(sa, sb, grad, layout):
    # Forward against np.matmul and both gradients against their float64 closed forms
    # (dA = G @ B^T, dB = A^T @ G summed over the batch dims each was broadcast across),
    # whichever side needs one and whatever the big operand's layout: the folded path copies
    # a big operand whose batch dims do not merge, or takes the bmm path instead.
    big_first = len(sa) >= len(sb)
    if big_first:
        a, ta = strided(sa, "float64", layout, seed=1)
        b, tb = make(sb, "float64", seed=2)
    else:
        a, ta = make(sa, "float64", seed=1)
        b, tb = strided(sb, "float64", layout, seed=2)
    ta, tb = ta.detach(), tb.detach()
    big_t, small_t = (ta, tb) if big_first else (tb, ta)
    big_t.requires_grad_(grad in ("big", "both"))
    small_t.requires_grad_(grad in ("small", "both"))
    out = ta @ tb
    ref = np.matmul(a, b)
    assert tuple(out.shape) == ref.shape
    assert_close(out, ref, rtol=1e-12, atol=1e-12)
    if grad == "none":
        assert out.grad_fn is None
        return
    g = np.random.default_rng(3).standard_normal(ref.shape)
    out.backward(torch.from_numpy(g))
    # Reference gradients through 2-d/1-d promotion as np.matmul does it.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    da = g2 @ np.swapaxes(b2, -1, -2)
    db = np.swapaxes(a2, -1, -2) @ g2

    def reduce_to(x, shape):
        while x.ndim > len(shape):
            x = x.sum(0)
        return x.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1), keepdims=True)
    da = reduce_to(da, a2.shape).reshape(a.shape)
    db = reduce_to(db, b2.shape).reshape(b.shape)
    for t, d in ((ta, da), (tb, db)):
        if t.requires_grad:
            assert t.grad is not None and tuple(t.grad.shape) == d.shape
            assert_close(t.grad, d, rtol=1e-12, atol=1e-12)


def test_matmul_fold_errors_as_pytorch():
    # The folded path keeps ATen's messages (recorded from PyTorch 2.15).
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(6x4 and 5x6\)"):
        torch.ones(2, 3, 4) @ torch.ones(5, 6, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"size mismatch, got input \(6\), mat \(6x4\), vec \(5\)"):
        torch.ones(2, 3, 4) @ torch.ones(5)
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[2, 4\] but got: \[2, 5\]"):
        torch.ones(3, 4) @ torch.ones(2, 5, 6, requires_grad=True)
    # (the unfolded path too: batch dims broadcast first, then k is checked over them)
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[2, 4\] but got: \[2, 5\]"):
        torch.ones(3, 4) @ torch.ones(2, 5, 6)
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[15, 4\] but got: \[15, 6\]"):
        torch.ones(3, 1, 2, 4) @ torch.ones(5, 6, 2)
