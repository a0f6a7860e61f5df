import numpy as np
import pytest
import ferrotorch as torch

L = torch.linalg
RNG = np.random.default_rng(1234)
DTYPES = [(torch.float32, np.float32, 1e-4), (torch.float64, np.float64, 1e-10)]


def _t(a, dtype):
    return torch.tensor(np.ascontiguousarray(a), dtype=dtype)


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _wellcond(*shape):
    """Random matrices with a dominant diagonal: far from singular."""
    a = RNG.standard_normal(shape)
    return a + 3 * np.eye(shape[-1])


def _spd(*shape):
    a = RNG.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


# ---- norms -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, float("inf"), -float("inf"), 0, -1])
def test_vector_norm(dtype, npdt, tol, ord):
    a = RNG.standard_normal((3, 4, 5))
    a[0, 0, 0] = 0.0
    x = _t(a, dtype)
    got = L.vector_norm(x, ord, dim=(1, 2))
    with np.errstate(divide="ignore"):       # negative ord over a zero entry: 1/0 -> inf, norm 0
        want = np.linalg.norm(a.reshape(3, -1), ord, axis=1)
        want_full = np.linalg.norm(a.ravel(), ord)
    assert got.dtype == dtype and tuple(got.shape) == (3,)
    np.testing.assert_allclose(_np(got), want, rtol=tol * 10)
    full = L.vector_norm(x, ord, keepdim=True)
    assert tuple(full.shape) == (1, 1, 1)
    np.testing.assert_allclose(_np(full).ravel(), [want_full], rtol=tol * 10)


def test_vector_norm_dtype_and_errors():
    x = torch.ones(3, 3)
    r = L.vector_norm(x, dtype=torch.float64)
    assert r.dtype == torch.float64 and abs(r.item() - 3.0) < 1e-12
    with pytest.raises(NotImplementedError, match="linalg.vector_norm: Expected a floating point or complex "
                                                  "tensor as input. Got Long"):
        L.vector_norm(torch.ones(3, dtype=torch.long))
    with pytest.raises(RuntimeError, match="should be convertible without narrowing"):
        L.vector_norm(torch.ones(3, dtype=torch.float64), dtype=torch.float32)
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        L.vector_norm(torch.ones(0, 3), ord=float("inf"))
    assert L.vector_norm(torch.ones(0, 3), ord=2).item() == 0.0


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("ord", ["fro", 1, -1, float("inf"), -float("inf")])
def test_matrix_norm(dtype, npdt, tol, ord):
    a = RNG.standard_normal((2, 3, 4))
    x = _t(a, dtype)
    got = L.matrix_norm(x, ord)
    want = np.linalg.norm(a, ord, axis=(1, 2))
    np.testing.assert_allclose(_np(got), want, rtol=tol * 10)
    kd = L.matrix_norm(x, ord, dim=(0, 2), keepdim=True)
    assert tuple(kd.shape) == (1, 3, 1)
    np.testing.assert_allclose(_np(kd).ravel(), np.linalg.norm(np.moveaxis(a, 1, 0), ord, axis=(1, 2)),
                               rtol=tol * 10)


def test_matrix_norm_errors():
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported."):
        L.matrix_norm(torch.ones(3, 3), ord=3)
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        L.matrix_norm(torch.ones(3))
    with pytest.raises(NotImplementedError, match="Got Long"):
        L.matrix_norm(torch.ones(3, 3, dtype=torch.long))


def test_norm_dispatch():
    a = RNG.standard_normal((3, 4))
    x = _t(a, torch.float64)
    np.testing.assert_allclose(L.norm(x).item(), np.linalg.norm(a), rtol=1e-12)
    np.testing.assert_allclose(L.norm(x, 1).item(), np.linalg.norm(a, 1), rtol=1e-12)      # matrix 1-norm
    np.testing.assert_allclose(_np(L.norm(x, 1, dim=1)), np.linalg.norm(a, 1, axis=1), rtol=1e-12)
    np.testing.assert_allclose(L.norm(x, float("inf"), dim=(0, 1)).item(), np.linalg.norm(a, np.inf),
                               rtol=1e-12)
    np.testing.assert_allclose(L.norm(x[0], 3).item(), np.linalg.norm(a[0], 3), rtol=1e-12)
    with pytest.raises(RuntimeError, match="the input must be 1D or 2D. Got 3D."):
        L.norm(torch.ones(2, 2, 2), ord=2)


# ---- products ----------------------------------------------------------------------------
def test_vecdot_cross_matmul_diagonal_multi_dot():
    a, b = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((4, 3))
    x, y = _t(a, torch.float64), _t(b, torch.float64)
    np.testing.assert_allclose(_np(L.vecdot(x, y)), (a * b).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(_np(L.vecdot(x, y.expand(2, 4, 3), dim=1)), (a * b).sum(1), rtol=1e-12)
    np.testing.assert_allclose(_np(L.cross(x, y.expand(2, 4, 3))), np.cross(a, b), rtol=1e-12)
    np.testing.assert_allclose(_np(L.matmul(x, y.mT)), a @ b.T, rtol=1e-12)
    np.testing.assert_allclose(_np(L.diagonal(x, offset=1)), np.diagonal(a, 1, -2, -1), rtol=1e-12)
    ms = [RNG.standard_normal(s) for s in [(3,), (3, 5), (5, 2), (2,)]]
    got = L.multi_dot([_t(m, torch.float64) for m in ms])
    assert tuple(got.shape) == ()
    np.testing.assert_allclose(got.item(), np.linalg.multi_dot(ms), rtol=1e-12)
    with pytest.raises(RuntimeError, match="linalg.vecdot: Expected x and y to have the same dtype"):
        L.vecdot(torch.ones(3), torch.ones(3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="inputs dimension -1 must have length 3. Got 2 and 2"):
        L.cross(torch.ones(3, 2), torch.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"multi_dot\(\): expected at least 2 tensors but got 1"):
        L.multi_dot([torch.ones(3)])
    with pytest.raises(RuntimeError, match=r"tensors 0 and 1 with shapes \[3, 2\] and \[3, 2\] cannot"):
        L.multi_dot([torch.ones(3, 2), torch.ones(3, 2)])


# ---- LU family ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
def test_det_slogdet_inv_solve_batched(dtype, npdt, tol):
    a = RNG.standard_normal((2, 3, 4, 4))
    a[0, 0] = a[0, 0][[1, 0, 2, 3]] * 0.1    # pivoting needed, det sign flips
    b = RNG.standard_normal((2, 3, 4, 2))
    A, B = _t(a, dtype), _t(b, dtype)
    np.testing.assert_allclose(_np(L.det(A)), np.linalg.det(a), rtol=tol * 100, atol=tol)
    s = L.slogdet(A)
    ws, wl = np.linalg.slogdet(a)
    assert s.sign.dtype == dtype and tuple(s.logabsdet.shape) == (2, 3)
    np.testing.assert_array_equal(_np(s.sign), ws)
    np.testing.assert_allclose(_np(s[1]), wl, rtol=tol * 100, atol=tol * 10)
    inv = L.inv(A)
    np.testing.assert_allclose(_np(inv) @ a, np.broadcast_to(np.eye(4), a.shape), atol=tol * 1000)
    X = L.solve(A, B)
    assert X.dtype == dtype and tuple(X.shape) == (2, 3, 4, 2)
    np.testing.assert_allclose(_np(X), np.linalg.solve(a, b), rtol=tol * 1000, atol=tol * 1000)
    v = RNG.standard_normal(4)                       # a 1-D B broadcasts as one vector
    np.testing.assert_allclose(_np(L.solve(A, _t(v, dtype))), np.linalg.solve(a, v[:, None])[..., 0],
                               rtol=tol * 1000, atol=tol * 1000)
    XA = L.solve(A, B.mT, left=False)                 # X A = B^T
    np.testing.assert_allclose(_np(XA) @ a, np.swapaxes(b, -1, -2), atol=tol * 1000)


def test_non_contiguous_inputs():
    a = _wellcond(4, 4)
    A = _t(a.T, torch.float64).mT                   # a, through a transposed view
    assert not A.is_contiguous()
    np.testing.assert_allclose(L.det(A).item(), np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(_np(L.inv(A)), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    b = RNG.standard_normal((4, 6))
    B = _t(b, torch.float64)[:, ::2]
    np.testing.assert_allclose(_np(L.solve(A, B)), np.linalg.solve(a, b[:, ::2]), rtol=1e-10, atol=1e-12)
    s = _spd(4, 4)
    S = _t(s.T, torch.float64).mT
    np.testing.assert_allclose(_np(L.cholesky(S)), np.linalg.cholesky(s), rtol=1e-10, atol=1e-12)


def test_lu_factor_and_lu():
    a = np.array([[1.0, 2.0, 0.5], [4.0, 1.0, 2.0], [2.0, 7.0, 3.0]])
    LU, piv = L.lu_factor(_t(a, torch.float64))
    assert piv.dtype == torch.int32
    # getrf's 1-based pivots: row 2 (|4|) first, then row 3 (|7 - 0.5| > |2 - 0.25|)
    assert piv.tolist() == [2, 3, 3]
    P, Lm, U = L.lu(_t(a, torch.float64))
    p, lm, u = _np(P), _np(Lm), _np(U)
    np.testing.assert_allclose(p @ lm @ u, a, atol=1e-12)
    assert np.allclose(np.tril(lm), lm) and np.allclose(np.diag(lm), 1) and np.allclose(np.triu(u), u)
    np.testing.assert_allclose(np.tril(_np(LU), -1) + np.triu(_np(LU)), np.tril(lm, -1) + u, atol=1e-12)
    w = RNG.standard_normal((2, 3, 5))               # rectangular, batched
    P, Lm, U = L.lu(_t(w, torch.float64))
    assert tuple(Lm.shape) == (2, 3, 3) and tuple(U.shape) == (2, 3, 5)
    np.testing.assert_allclose(_np(P) @ _np(Lm) @ _np(U), w, atol=1e-12)


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular(dtype, npdt, tol, upper, left, unit):
    a = _wellcond(2, 4, 4)
    b = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        t = t - np.einsum("bii->bi", t)[..., None] * np.eye(4) + np.eye(4)    # diagonal read as ones
    X = _np(L.solve_triangular(_t(a, dtype), _t(b, dtype), upper=upper, left=left, unitriangular=unit))
    np.testing.assert_allclose(t @ X if left else X @ t, b, atol=tol * 1000)


def test_cholesky_and_qr_values():
    for dtype, _, tol in DTYPES:
        s = _spd(3, 5, 5)
        S = _t(s, dtype)
        np.testing.assert_allclose(_np(L.cholesky(S)), np.linalg.cholesky(s), rtol=tol * 100, atol=tol * 100)
        U = _np(L.cholesky(S, upper=True))
        np.testing.assert_allclose(U, np.swapaxes(np.linalg.cholesky(s), -1, -2), rtol=tol * 100, atol=tol * 100)
        for shape, mode in [((2, 5, 3), "reduced"), ((2, 3, 5), "reduced"), ((4, 4), "complete"),
                            ((5, 3), "complete")]:
            a = RNG.standard_normal(shape)
            Q, R = L.qr(_t(a, dtype), mode=mode)
            q, r = _np(Q), _np(R)
            k = q.shape[-1]
            np.testing.assert_allclose(q @ r, a, atol=tol * 100)
            np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)),
                                       atol=tol * 100)
            assert np.allclose(np.triu(r), r)
            wr = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")[1]
            np.testing.assert_allclose(np.abs(np.diagonal(r, 0, -2, -1)), np.abs(np.diagonal(wr, 0, -2, -1)),
                                       rtol=tol * 100)
        R_only = L.qr(_t(RNG.standard_normal((5, 3)), dtype), mode="r")
        assert R_only.Q.numel() == 0 and tuple(R_only.R.shape) == (3, 3)


def test_matrix_power_negative():
    a = _wellcond(2, 3, 3)
    got = L.matrix_power(_t(a, torch.float64), -2)
    want = np.linalg.matrix_power(np.linalg.inv(a), 2)
    np.testing.assert_allclose(_np(got), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(L.matrix_power(_t(a, torch.float64), 3)), np.linalg.matrix_power(a, 3),
                               rtol=1e-10)


# ---- gradients ---------------------------------------------------------------------------
def _leaf(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def test_gradcheck_det_inv_solve_cholesky():
    a = _leaf(_wellcond(3, 3))
    b = _leaf(RNG.standard_normal((3, 2)))
    batched = _leaf(_wellcond(2, 3, 3))
    assert torch.autograd.gradcheck(L.det, (batched,))
    assert torch.autograd.gradcheck(L.inv, (a,))
    assert torch.autograd.gradcheck(L.solve, (a, b))
    assert torch.autograd.gradcheck(lambda x: L.slogdet(x).logabsdet, (a,))
    spd = _spd(3, 3)
    s = _leaf(spd)
    assert torch.autograd.gradcheck(lambda x: L.cholesky((x + x.mT) / 2), (s,))


# ---- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("fname", ["inv", "det", "slogdet", "cholesky"])
def test_integer_input_raises(fname):
    with pytest.raises(NotImplementedError, match=f"linalg.{fname}: Expected a floating point or complex "
                                                  "tensor as input. Got Long"):
        getattr(L, fname)(torch.ones(2, 2, dtype=torch.long))


def test_shape_and_singular_errors():
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square matrices, but they are "
                                           "2 by 3 matrices"):
        L.inv(torch.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.det: The input tensor A must have at least 2 dimensions."):
        L.det(torch.ones(3))
    sing = torch.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(L.LinAlgError, match="linalg.inv: The diagonal element 2 is zero, the inversion could "
                                            "not be completed because the input matrix is singular."):
        L.inv(sing)
    with pytest.raises(RuntimeError, match=r"linalg.inv: \(Batch element 1\): The diagonal element 2 is zero"):
        L.inv(torch.stack([torch.eye(2), sing]))
    with pytest.raises(L.LinAlgError, match="torch.linalg.solve: The solver failed because the input matrix "
                                            "is singular."):
        L.solve(sing, torch.ones(2))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(2x2 and "
                                           r"3x1\)"):
        L.solve(torch.eye(2), torch.ones(3))
    with pytest.raises(RuntimeError, match=r"lu_factor: U\[2,2\] is zero"):
        L.lu_factor(sing)
    assert L.det(sing).item() == 0.0
    s = L.slogdet(sing)
    assert s.sign.item() == 0.0 and s.logabsdet.item() == -float("inf")
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        L.qr(torch.ones(3, 3), mode="x")


def test_cholesky_not_positive_definite():
    assert issubclass(L.LinAlgError, RuntimeError)
    bad = torch.tensor([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(L.LinAlgError, match=r"^linalg.cholesky: The factorization could not be completed "
                                            r"because the input is not positive-definite \(the leading minor of "
                                            r"order 2 is not positive-definite\).$"):
        L.cholesky(bad)
    with pytest.raises(L.LinAlgError, match=r"\(Batch element 1\): .*leading minor of order 2"):
        L.cholesky(torch.stack([torch.eye(2), bad]))
    with pytest.raises(RuntimeError, match="leading minor of order 1 is not"):
        L.cholesky(-torch.eye(3))


# ---- Jacobi-based: eigh, svd and what builds on them ---------------------------------------
def _sym(*shape):
    a = RNG.standard_normal(shape)
    return a + np.swapaxes(a, -1, -2)


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
def test_eigh_eigvalsh(dtype, npdt, tol):
    s = _sym(3, 6, 6)
    w, V = L.eigh(_t(s, dtype))
    want_w, want_v = np.linalg.eigh(s)
    assert w.dtype == dtype and tuple(V.shape) == (3, 6, 6)
    np.testing.assert_allclose(_np(w), want_w, rtol=tol * 100, atol=tol * 100)
    v = _np(V)
    # eigenvalues are distinct here, so each eigenvector is unique up to sign
    signs = np.sign(np.sum(v * want_v, axis=-2, keepdims=True))
    np.testing.assert_allclose(v * signs, want_v, atol=tol * 1000)
    np.testing.assert_allclose(_np(L.eigvalsh(_t(s, dtype))), want_w, rtol=tol * 100, atol=tol * 100)
    # only the named triangle is read
    junk = np.tril(s) + np.triu(RNG.standard_normal((6, 6)), 1)
    np.testing.assert_allclose(_np(L.eigvalsh(_t(junk, dtype))), want_w, rtol=tol * 100, atol=tol * 100)
    junk_u = np.triu(s) + np.tril(RNG.standard_normal((6, 6)), -1)
    np.testing.assert_allclose(_np(L.eigh(_t(junk_u, dtype), UPLO="U").eigenvalues), want_w,
                               rtol=tol * 100, atol=tol * 100)


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 3, 5), (4, 4)])
@pytest.mark.parametrize("full", [True, False])
def test_svd(dtype, npdt, tol, shape, full):
    a = RNG.standard_normal(shape)
    U, S, Vh = L.svd(_t(a, dtype), full_matrices=full)
    wu, ws, wvh = np.linalg.svd(a, full_matrices=full)
    assert tuple(U.shape) == wu.shape and tuple(S.shape) == ws.shape and tuple(Vh.shape) == wvh.shape
    u, s, vh = _np(U), _np(S), _np(Vh)
    np.testing.assert_allclose(s, ws, rtol=tol * 100, atol=tol * 100)
    k = s.shape[-1]
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, atol=tol * 100)
    for q in (u, np.swapaxes(vh, -1, -2)):
        n = q.shape[-1]
        np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(n), q.shape[:-2] + (n, n)),
                                   atol=tol * 100)
    np.testing.assert_allclose(_np(L.svdvals(_t(a, dtype))), ws, rtol=tol * 100, atol=tol * 100)


def test_rank_pinv_and_spectral_norms():
    r2 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])          # rank 2
    A = _t(r2, torch.float64)
    rank = L.matrix_rank(A)
    assert rank.dtype == torch.int64 and rank.item() == np.linalg.matrix_rank(r2) == 2
    np.testing.assert_allclose(_np(L.pinv(A)), np.linalg.pinv(r2), atol=1e-10)
    w = RNG.standard_normal((2, 5, 3))
    np.testing.assert_allclose(_np(L.pinv(_t(w, torch.float64))), np.linalg.pinv(w), atol=1e-10)
    assert L.matrix_rank(_t(w, torch.float64)).tolist() == [3, 3]
    assert L.matrix_rank(_t(w, torch.float64), atol=1e9).tolist() == [0, 0]
    s = _sym(4, 4)
    np.testing.assert_allclose(_np(L.pinv(_t(s, torch.float64), hermitian=True)), np.linalg.pinv(s), atol=1e-9)
    for ord in ("nuc", 2, -2):
        np.testing.assert_allclose(_np(L.matrix_norm(_t(w, torch.float64), ord)),
                                   np.linalg.norm(w, ord, axis=(1, 2)), rtol=1e-10)
    np.testing.assert_allclose(L.norm(_t(w[0], torch.float64), 2).item(), np.linalg.norm(w[0], 2), rtol=1e-10)


def test_gradcheck_spectral():
    s = _leaf(_sym(3, 3))
    w = _leaf(RNG.standard_normal((4, 3)))
    assert torch.autograd.gradcheck(lambda x: L.eigvalsh((x + x.mT) / 2), (s,))
    assert torch.autograd.gradcheck(L.svdvals, (w,))
    assert torch.autograd.gradcheck(lambda x: L.qr(x).R, (w,))
    assert torch.autograd.gradcheck(L.pinv, (w,))


def test_eigh_svd_errors():
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        L.eigh(torch.eye(2), UPLO="X")
    with pytest.raises(RuntimeError, match="linalg.eigh: A must be batches of square matrices"):
        L.eigh(torch.ones(2, 3))
    with pytest.raises(NotImplementedError, match="linalg.svd: Expected a floating point or complex tensor as "
                                                  "input. Got Long"):
        L.svdvals(torch.ones(2, 2, dtype=torch.long))


def test_eigvalsh_grad_is_symmetric_as_pytorch():
    """d(sum g * eigvalsh(A))/dA = V diag(g) V^T over the whole matrix, although only one
    triangle is read."""
    s = _sym(4, 4)
    g = RNG.standard_normal(4)
    x = _leaf(np.tril(s) + np.triu(RNG.standard_normal((4, 4)), 1))
    (L.eigvalsh(x) * torch.tensor(g)).sum().backward()
    _, v = np.linalg.eigh(s)
    np.testing.assert_allclose(x.grad.numpy(), (v * g) @ v.T, atol=1e-8)


def test_zero_vector_norm_gradient_and_tuple_out():
    x = _leaf(np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]))
    L.vector_norm(x, 2, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [1 / 3, -2 / 3, 2 / 3]], atol=1e-15)
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = (torch.empty(0, dtype=torch.float64), torch.empty(0, dtype=torch.float64))
    r = L.slogdet(_t(a, torch.float64), out=out)
    assert r.sign is out[0] and r.logabsdet is out[1]
    np.testing.assert_allclose(out[1].item(), np.log(2.0), rtol=1e-12)
    assert out[0].item() == -1.0
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype double, but got float instead"):
        L.slogdet(_t(a, torch.float64), out=(torch.empty(0), torch.empty(0)))
