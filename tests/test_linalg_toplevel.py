"""The linear-algebra names PyTorch keeps at the top level (torch.svd, torch.lu, torch.lu_solve,
torch.lu_unpack, torch.cholesky_solve, torch.cholesky_inverse, torch.pinverse,
torch.matrix_exp, torch.triangular_solve, and the removed torch.qr/lstsq/solve/...), each over
torch.linalg (issue 19): values against numpy.linalg in float64, reconstruction identities,
gradients by gradcheck (float64 finite differences), return types, warnings and errors as
PyTorch 2.15's."""
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import linalg as L

RNG = np.random.default_rng(19)
gradcheck = torch.autograd.gradcheck


def T(a):
    return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64)


def N(t):
    return t.detach().numpy()


def _spd(*shape):
    a = RNG.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _wellcond(*shape):
    return RNG.standard_normal(shape) + 3 * np.eye(shape[-1])


# ---- svd ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4)])
@pytest.mark.parametrize("some", [True, False])
def test_svd_returns_v(shape, some):
    a = RNG.standard_normal(shape)
    r = torch.svd(T(a), some=some)
    assert type(r).__name__ == "svd" and r._fields == ("U", "S", "V")
    U, S, V = r
    m, n = shape[-2:]
    k = min(m, n)
    assert tuple(U.shape[-2:]) == ((m, k) if some else (m, m))
    assert tuple(V.shape[-2:]) == ((n, k) if some else (n, n))
    np.testing.assert_allclose(N(S), np.linalg.svd(a, compute_uv=False), rtol=1e-10, atol=1e-12)
    # a = U[..., :k] diag(S) V[..., :k]^T, and the columns are orthonormal
    Uk, Vk = N(U)[..., :k], N(V)[..., :k]
    np.testing.assert_allclose((Uk * N(S)[..., None, :]) @ np.swapaxes(Vk, -1, -2), a, atol=1e-10)
    for Q in (N(U), N(V)):
        c = Q.shape[-1]
        np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(c), Q.shape[:-2] + (c, c)),
                                   atol=1e-10)
    # Tensor.svd is the same function
    np.testing.assert_allclose(N(T(a).svd(some).S), N(S), rtol=0, atol=0)


def test_svd_without_uv_gives_zero_filled_full_matrices():
    a = RNG.standard_normal((4, 3))
    U, S, V = torch.svd(T(a), compute_uv=False)
    assert tuple(U.shape) == (4, 4) and tuple(V.shape) == (3, 3)
    assert not N(U).any() and not N(V).any()
    np.testing.assert_allclose(N(S), np.linalg.svd(a, compute_uv=False), rtol=1e-10)


def test_svd_gradcheck():
    a = T(RNG.standard_normal((4, 3))).requires_grad_()
    # a gauge-invariant function of the factors: U diag(S) V^T
    assert gradcheck(lambda x: (lambda r: (r.U * r.S.unsqueeze(-2)).matmul(r.V.mT))(torch.svd(x)), (a,))
    assert gradcheck(lambda x: torch.svd(x).S, (a,))


# ---- pinverse ----------------------------------------------------------------------------
def test_pinverse():
    a = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(N(torch.pinverse(T(a))), np.linalg.pinv(a), atol=1e-10)
    np.testing.assert_allclose(N(T(a).pinverse()), np.linalg.pinv(a), atol=1e-10)
    # rcond is relative to the largest singular value (numpy's rcond too)
    u, _, vt = np.linalg.svd(RNG.standard_normal((4, 4)))
    b = u @ np.diag([1.0, 0.5, 1e-3, 1e-9]) @ vt
    np.testing.assert_allclose(N(torch.pinverse(T(b), rcond=1e-6)), np.linalg.pinv(b, rcond=1e-6), atol=1e-6)
    assert gradcheck(torch.pinverse, (T(a).requires_grad_(),))


# ---- cholesky_solve / cholesky_inverse -------------------------------------------------------
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    A = _spd(2, 4, 4)
    B = RNG.standard_normal((2, 4, 3))
    Lf = np.linalg.cholesky(A)
    F = np.swapaxes(Lf, -1, -2) if upper else Lf
    # only the factor's triangle is read: junk in the other one changes nothing
    junk = F + (np.tril(np.ones((4, 4)), -1) if upper else np.triu(np.ones((4, 4)), 1)) * 7.0
    X = torch.cholesky_solve(T(B), T(junk), upper)
    np.testing.assert_allclose(N(X), np.linalg.solve(A, B), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(N(T(B).cholesky_solve(T(F), upper=upper)), N(X), atol=1e-13)
    inv = torch.cholesky_inverse(T(F), upper=upper)
    np.testing.assert_allclose(N(inv), np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(N(T(F).cholesky_inverse(upper)), N(inv), atol=1e-13)
    # batch broadcast: one factor for a batch of right-hand sides
    Xb = torch.cholesky_solve(T(RNG.standard_normal((5, 4, 2))), T(F[0]), upper)
    assert tuple(Xb.shape) == (5, 4, 2)


def test_cholesky_solve_gradcheck():
    F = T(np.linalg.cholesky(_spd(3, 3))).requires_grad_()
    B = T(RNG.standard_normal((3, 2))).requires_grad_()
    assert gradcheck(lambda b, f: torch.cholesky_solve(b, f.tril()), (B, F))
    assert gradcheck(lambda f: torch.cholesky_inverse(f.tril()), (F,))


def test_cholesky_solve_errors():
    F = T(np.linalg.cholesky(_spd(3, 3)))
    with pytest.raises(RuntimeError, match="b should have at least 2 dimensions, but has 1 dimensions instead"):
        torch.cholesky_solve(T(np.ones(3)), F)
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for cholesky_solve: each A matrix is 3 by 3 "
                                           "but each b matrix is 4 by 2"):
        torch.cholesky_solve(T(np.ones((4, 2))), F)
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype, but found b of type Float and "
                                           "A of type Double instead."):
        torch.cholesky_solve(torch.ones(3, 2), F)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 3 by 2 matrices"):
        torch.cholesky_solve(T(np.ones((3, 2))), T(np.ones((3, 2))))
    with pytest.raises(NotImplementedError, match="\"cholesky_solve_cpu\" not implemented for 'Long'"):
        torch.cholesky_solve(torch.ones(3, 2, dtype=torch.int64), torch.ones(3, 3, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="cholesky_inverse: The input tensor A must have at least 2 dimensions."):
        torch.cholesky_inverse(T(np.ones(3)))
    with pytest.raises(RuntimeError, match="cholesky_inverse: A must be batches of square matrices, but they are "
                                           "3 by 2 matrices"):
        torch.cholesky_inverse(T(np.ones((3, 2))))
    with pytest.raises(NotImplementedError, match="\"cholesky_inverse_out_cpu\" not implemented for 'Long'"):
        torch.cholesky_inverse(torch.ones(3, 3, dtype=torch.int64))


# ---- lu, lu_solve, lu_unpack ---------------------------------------------------------------
def _lu_np(a):
    """Partial-pivoting LU in NumPy (LAPACK's getrf rule: the largest |entry| pivots; the
    first one on ties): (P, L, U) with a = P L U and LAPACK's 1-based pivots."""
    a = a.copy()
    m, n = a.shape
    perm = np.arange(m)
    piv = []
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        piv.append(p + 1)
        a[[j, p]] = a[[p, j]]
        perm[[j, p]] = perm[[p, j]]
        if a[j, j] != 0:
            a[j + 1:, j] /= a[j, j]
            a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    k = min(m, n)
    Lm = np.tril(a[:, :k], -1) + np.eye(m, k)
    U = np.triu(a[:k])
    P = np.eye(m)[perm].T
    return P, Lm, U, np.array(piv)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_lu_and_lu_unpack(shape):
    a = RNG.standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LU, piv = torch.lu(T(a))
    P0, L0, U0, piv0 = _lu_np(a)
    assert piv.dtype == torch.int32
    np.testing.assert_array_equal(N(piv), piv0)
    r = torch.lu_unpack(LU, piv)
    assert type(r).__name__ == "lu_unpack" and r._fields == ("P", "L", "U")
    np.testing.assert_allclose(N(r.P), P0, atol=0)
    np.testing.assert_allclose(N(r.L), L0, atol=1e-12)
    np.testing.assert_allclose(N(r.U), U0, atol=1e-12)
    np.testing.assert_allclose(N(r.P) @ N(r.L) @ N(r.U), a, atol=1e-12)
    # unpack only what is asked: the rest is an empty tensor
    r = torch.lu_unpack(LU, piv, unpack_data=False)
    assert tuple(r.L.shape) == (0,) and tuple(r.U.shape) == (0,) and tuple(r.P.shape) == (shape[0],) * 2
    r = torch.lu_unpack(LU, piv, unpack_pivots=False)
    assert tuple(r.P.shape) == (0,)


def test_lu_get_infos_and_singular():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])                   # U[1, 1] == 0: info 2, no error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = torch.lu(T(a), get_infos=True)
        assert type(r).__name__ == "_lu_with_info" and r._fields == ("LU", "pivots", "info")
        assert r.info.dtype == torch.int32 and r.info.item() == 2
        r = torch.lu(T(np.stack([_wellcond(3, 3), np.zeros((3, 3))])), get_infos=True)
        assert r.info.tolist() == [0, 1]
        assert type(T(a).lu()) is tuple and len(T(a).lu()) == 2


def test_lu_warns_once():
    from ferrotorch import linalg as _l
    _l._warned.discard("lu")
    with pytest.warns(UserWarning, match="torch.lu is deprecated in favor of torch.linalg.lu_factor"):
        torch.lu(T(_wellcond(3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.lu(T(_wellcond(3, 3)))                        # TORCH_WARN_ONCE: no second warning


@pytest.mark.parametrize("left,adjoint", [(True, False), (True, True), (False, False), (False, True)])
def test_linalg_lu_solve(left, adjoint):
    A = _wellcond(2, 4, 4)
    B = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    LU, piv = L.lu_factor(T(A))
    X = N(L.lu_solve(LU, piv, T(B), left=left, adjoint=adjoint))
    Aop = np.swapaxes(A, -1, -2) if adjoint else A
    if left:
        np.testing.assert_allclose(Aop @ X, B, atol=1e-10)
    else:
        np.testing.assert_allclose(X @ Aop, B, atol=1e-10)


def test_torch_lu_solve_and_gradcheck():
    A = _wellcond(3, 3)
    B = RNG.standard_normal((3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LU, piv = torch.lu(T(A))
        np.testing.assert_allclose(N(torch.lu_solve(T(B), LU, piv)), np.linalg.solve(A, B), rtol=1e-10)
        np.testing.assert_allclose(N(T(B).lu_solve(LU, piv)), np.linalg.solve(A, B), rtol=1e-10)
        a = T(A).requires_grad_()
        b = T(B).requires_grad_()
        assert gradcheck(lambda x, y: torch.lu_solve(y, *torch.lu(x)), (a, b))


def test_lu_errors():
    LU, piv = L.lu_factor(T(_wellcond(3, 3)))
    with pytest.raises(RuntimeError, match="linalg.lu_solve: Incompatible shapes of A and B for the equation "
                                           r"AX = B \(3x3 and 4x2\)"):
        L.lu_solve(LU, piv, T(np.ones((4, 2))))
    with pytest.raises(RuntimeError, match="linalg.lu_solve: Expected LU and B to have the same dtype, but found "
                                           "LU of type Double and B of type Float instead"):
        L.lu_solve(LU, piv, torch.ones(3, 2))
    with pytest.raises(RuntimeError, match="linalg.lu_solve: The input tensor B must have at least 2 dimensions."):
        L.lu_solve(LU, piv, T(np.ones(3)))
    with pytest.raises(RuntimeError, match="linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32"):
        L.lu_solve(LU, piv.long(), T(np.ones((3, 2))))
    with pytest.raises(RuntimeError, match="torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                                           "torch.int32 dtype."):
        torch.lu_unpack(LU, piv.long())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NotImplementedError, match="\"lu_cpu\" not implemented for 'Long'"):
            torch.lu(torch.ones(3, 3, dtype=torch.int64))
        with pytest.raises(RuntimeError, match=r"torch.lu_factor: Expected tensor with 2 or more dimensions. Got "
                                               r"size: \[3\] instead"):
            torch.lu(T(np.ones(3)))


# ---- matrix_exp --------------------------------------------------------------------------
def test_matrix_exp_values():
    # symmetric: V diag(exp(w)) V^T
    S = _spd(4, 4) / 4
    w, V = np.linalg.eigh(S)
    np.testing.assert_allclose(N(torch.matrix_exp(T(S))), (V * np.exp(w)) @ V.T, rtol=1e-12)
    # a rotation generator: exp([[0, -t], [t, 0]]) = [[cos t, -sin t], [sin t, cos t]]
    t = 7.3
    R = N(T(np.array([[0.0, -t], [t, 0.0]])).matrix_exp())
    np.testing.assert_allclose(R, [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], atol=1e-12)
    # nilpotent: exp(N) = I + N + N^2/2
    Nil = np.triu(RNG.standard_normal((3, 3)), 1) * 5
    np.testing.assert_allclose(N(L.matrix_exp(T(Nil))), np.eye(3) + Nil + Nil @ Nil / 2, atol=1e-11)
    # general (batched, large norm): the eigen-decomposition, exp(A) exp(-A) = I, det = exp(trace)
    A = RNG.standard_normal((3, 4, 4)) * 3
    E = N(torch.matrix_exp(T(A)))
    w, V = np.linalg.eig(A)
    ref = np.real((V * np.exp(w)[..., None, :]) @ np.linalg.inv(V))
    np.testing.assert_allclose(E, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
    np.testing.assert_allclose(E @ N(torch.matrix_exp(T(-A))), np.broadcast_to(np.eye(4), A.shape), atol=1e-8)
    np.testing.assert_allclose(np.linalg.det(E), np.exp(np.trace(A, axis1=-2, axis2=-1)), rtol=1e-9)
    assert tuple(torch.matrix_exp(T(np.zeros((0, 0)))).shape) == (0, 0)


def test_matrix_exp_gradcheck_and_errors():
    assert gradcheck(torch.matrix_exp, (T(RNG.standard_normal((3, 3)) * 2).requires_grad_(),))
    with pytest.raises(RuntimeError, match="linalg.matrix_exp: A must be batches of square matrices, but they are "
                                           "3 by 2 matrices"):
        torch.matrix_exp(T(np.ones((3, 2))))
    with pytest.raises(RuntimeError, match="linalg.matrix_exp: The input tensor A must have at least 2 dimensions."):
        torch.matrix_exp(T(np.ones(3)))
    with pytest.raises(NotImplementedError, match="linalg.matrix_exp: Expected a floating point or complex tensor "
                                                  "as input. Got Long"):
        torch.matrix_exp(torch.ones(3, 3, dtype=torch.int64))


# ---- triangular_solve --------------------------------------------------------------------
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_triangular_solve(upper, transpose, unit):
    A = RNG.standard_normal((4, 4)) + 4 * np.eye(4)
    B = RNG.standard_normal((2, 4, 3))
    Tm = np.triu(A) if upper else np.tril(A)
    if unit:
        Tm = Tm - np.diag(np.diag(Tm)) + np.eye(4)
    op = Tm.T if transpose else Tm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = torch.triangular_solve(T(B), T(A), upper=upper, transpose=transpose, unitriangular=unit)
    assert type(r).__name__ == "triangular_solve" and r._fields == ("solution", "cloned_coefficient")
    np.testing.assert_allclose(N(r.solution), np.linalg.solve(op, B), rtol=1e-10, atol=1e-12)
    assert tuple(r.cloned_coefficient.shape) == (2, 4, 4)
    np.testing.assert_array_equal(N(r.cloned_coefficient), np.broadcast_to(A, (2, 4, 4)))


def test_triangular_solve_warning_gradcheck_errors():
    from ferrotorch import linalg as _l
    _l._warned.discard("triangular_solve")
    A = T(np.triu(RNG.standard_normal((3, 3))) + 3 * np.eye(3))
    with pytest.warns(UserWarning, match="torch.triangular_solve is deprecated in favor of "
                                         "torch.linalg.solve_triangular"):
        torch.triangular_solve(T(np.ones((3, 1))), A)
    assert gradcheck(lambda b, a: torch.triangular_solve(b, a).solution,
                     (T(RNG.standard_normal((3, 2))).requires_grad_(), A.clone().requires_grad_()))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for triangular_solve: each A matrix is 3 by 3 "
                                           "but each b matrix is 4 by 2"):
        torch.triangular_solve(T(np.ones((4, 2))), A)
    with pytest.raises(RuntimeError, match="torch.triangular_solve: Expected b to have at least 2 dimensions, but "
                                           "it has 1 dimensions instead"):
        torch.triangular_solve(T(np.ones(3)), A)
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype, but found b of type Float and "
                                           "A of type Double instead."):
        torch.triangular_solve(torch.ones(3, 2), A)


# ---- existing names: det, logdet, slogdet, inverse ------------------------------------------
def test_det_family_matches_numpy():
    A = _wellcond(2, 3, 3)
    np.testing.assert_allclose(N(torch.det(T(A))), np.linalg.det(A), rtol=1e-10)
    np.testing.assert_allclose(N(T(A).inverse()), np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    r = torch.slogdet(T(A))
    assert type(r).__name__ == "slogdet"
    sign, logabs = np.linalg.slogdet(A)
    np.testing.assert_allclose(N(r.sign), sign)
    np.testing.assert_allclose(N(r.logabsdet), logabs, rtol=1e-10)
    S = _spd(3, 3)
    np.testing.assert_allclose(N(T(S).logdet()), np.log(np.linalg.det(S)), rtol=1e-10)


# ---- removed in PyTorch 2 ----------------------------------------------------------------
REMOVED = [
    ("qr", lambda a: torch.qr(a), "`torch.qr` is deprecated in favor of `torch.linalg.qr`"),
    ("qr method", lambda a: a.qr(), "Since `some` was set to True, use mode='reduced'."),
    ("qr some", lambda a: torch.qr(a, some=False), "Since `some` was set to False, use mode='complete'."),
    ("lstsq", lambda a: torch.lstsq(a, a), "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`"),
    ("symeig", lambda a: a.symeig(), "L = torch.linalg.eigvalsh"),
    ("eig", lambda a: torch.eig(a), "L_complex = torch.linalg.eigvals"),
    ("solve", lambda a: torch.solve(a, a), "X = torch.linalg.solve"),
    ("matrix_rank", lambda a: torch.matrix_rank(a), "Please use the `torch.linalg.matrix_rank` function instead."),
    ("cholesky", lambda a: torch.cholesky(a), "`torch.cholesky` is deprecated in favor of `torch.linalg.cholesky`"),
]


@pytest.mark.parametrize("name,call,text", REMOVED, ids=[r[0] for r in REMOVED])
def test_removed_functions_raise_pytorchs_error(name, call, text):
    with pytest.raises(RuntimeError) as e:
        call(T(_spd(3, 3)))
    msg = str(e.value)
    assert msg.startswith("This function was deprecated since version 1.9 and is now removed.")
    assert text in msg
