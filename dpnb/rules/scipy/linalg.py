"""Rules for `scipy.linalg`: `sqrtm`, `expm`, `logm`, `solve_sylvester`, `solve_triangular`,
`cho_factor`/`cho_solve`, `lu_factor`/`lu_solve`, `svdvals`, and SciPy's own `inv`, `solve`,
`det`, `cholesky` (separate callables from NumPy's, with their own options).

A cotangent lives where the function reads its argument: `solve_triangular` reads one
triangle (and not the diagonal with `unit_diagonal=True`), `cholesky` and `cho_factor` one
triangle, `cho_solve` the factor's triangle, `solve`/`inv` with `assume_a='sym'`/`'pos'`
one triangle, `'diagonal'` the diagonal, and so on. For a matrix M read as the symmetric
matrix of its triangle T, the cotangent of T is `G + G^T` off the diagonal and `G` on it,
G being M's.

Derivations (X the output, X_bar its cotangent; complex matrices follow dpnb's convention,
transposes, not conjugates):
- sqrtm: X X = A gives X dX + dX X = dA, so A_bar solves X^T A_bar + A_bar X^T = X_bar
  (a Sylvester equation);
- expm: the adjoint of the Frechet derivative L(A, .) is L(A^T, .), and L(A, E) is the
  upper right block of expm([[A, E], [0, A]]);
- solve_sylvester, A X + X B = Q: Q_bar solves A^T Q_bar + Q_bar B^T = X_bar,
  A_bar = -Q_bar X^T, B_bar = -X^T Q_bar;
- solves: b_bar = op(A)^-T x_bar, op(A)_bar = -b_bar x^T;
- cholesky, A = L L^T: with P = tril(L^T L_bar) (diagonal halved), the gradient for a
  symmetric perturbation is sym(L^-T P L^-1);
- lu_factor, A[perm] = L U: see its pullback; lu_solve sends op(A)'s cotangent to the factors
  through dA[perm] = dL U + L dU.
The Cholesky, LU and `svdvals` rules support real matrices only.
"""
import numpy as np
import scipy.linalg as sla

from ...errors import DifferentiationError
from .. import registry
from .._common import to_like, unbroadcast_to
from ._util import fit, owned, swap

_GENERAL = (None, "general", "gen")
_SYMMETRIC = ("sym", "symmetric", "pos", "positive definite", "her", "hermitian")


def _real_only(A, name):
    if np.iscomplexobj(A):
        raise DifferentiationError(f"scipy.linalg.{name} has a differentiation rule for real matrices only")


def fold(G, lower):
    """The cotangent of the triangle T of a matrix read as the symmetric matrix of T."""
    tri = np.tril if lower else np.triu
    return tri(G + swap(G), -1 if lower else 1) + np.diagonal(G, axis1=-2, axis2=-1)[..., None] * np.eye(G.shape[-1])


def _structured(A, G, assume_a, lower, name):
    """`(M, M_bar)`: the matrix the solver sees in `A`, and the cotangent of `A` for `M`'s `G`."""
    if assume_a in _GENERAL:
        return A, G
    n = A.shape[-1]
    if assume_a == "diagonal":
        mask = np.eye(n, dtype=bool)
    elif assume_a == "tridiagonal":
        mask = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1
    elif assume_a == "upper triangular":
        mask = np.triu(np.ones((n, n), bool))
    elif assume_a == "lower triangular":
        mask = np.tril(np.ones((n, n), bool))
    elif assume_a in _SYMMETRIC:
        if assume_a in ("her", "hermitian"):
            _real_only(A, f"{name}(assume_a={assume_a!r})")
        tri = np.tril if lower else np.triu
        M = tri(A) + swap(tri(A, -1 if lower else 1))
        return M, None if G is None else fold(G, lower)
    else:
        raise DifferentiationError(f"scipy.linalg.{name}(assume_a={assume_a!r}) has no differentiation rule")
    return np.where(mask, A, 0), None if G is None else np.where(mask, G, 0)


# --- inv, solve, det ----------------------------------------------------------------------------------


def _inv_sig(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    return assume_a, lower


def inv_rrule(a, *args, **kwargs):
    y = sla.inv(a, *args, **kwargs)
    assume_a, lower = _inv_sig(a, *args, **kwargs)

    def inv_pullback(y_bar):
        A, G = np.asarray(a), np.asarray(y_bar)
        if assume_a == "diagonal":  # 1 / a_ii on the diagonal
            eye = np.eye(A.shape[-1], dtype=bool)
            a_bar = np.where(eye, -G * y * y, 0)
            # SciPy 1.17 hands back a's off-diagonal entries unchanged with assume_a="diagonal"
            if np.array_equal(np.where(eye, 0, y), np.where(eye, 0, A)):
                a_bar = a_bar + np.where(eye, 0, G)
        else:
            Yt = swap(y)
            _, a_bar = _structured(A, -(Yt @ G @ Yt), assume_a, lower, "inv")
        return (None, to_like(a_bar, a)) + fit((), len(args))

    return y, inv_pullback


def _solve_sig(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
               transposed=False):
    return lower, assume_a, transposed


def solve_rrule(a, b, *args, **kwargs):
    x = sla.solve(a, b, *args, **kwargs)
    lower, assume_a, transposed = _solve_sig(a, b, *args, **kwargs)

    def solve_pullback(y_bar):
        A, B = np.asarray(a), np.asarray(b)
        M, _ = _structured(A, None, assume_a, lower, "solve")
        vector = B.ndim == 1
        X = x[..., None] if vector else x
        G = np.asarray(y_bar)[..., None] if vector else np.asarray(y_bar)
        op = swap(M) if transposed else M
        b_bar = np.linalg.solve(swap(op), G)
        op_bar = -b_bar @ swap(X)
        _, a_bar = _structured(A, swap(op_bar) if transposed else op_bar, assume_a, lower, "solve")
        b_bar = b_bar[..., 0] if vector else b_bar
        return (None, unbroadcast_to(a_bar, a), unbroadcast_to(b_bar, b)) + fit((), len(args))

    return x, solve_pullback


def det_rrule(a, *args, **kwargs):
    y = sla.det(a, *args, **kwargs)

    def det_pullback(y_bar):
        # d det / dA is the cofactor matrix; from the SVD A = U S Vh it is
        # det(U) det(Vh) conj(U) diag(p) conj(Vh), p_i the product of the other singular values
        # (no inverse: singular matrices too)
        U, s, Vh = np.linalg.svd(np.asarray(a))
        ones = np.ones(s.shape[:-1] + (1,))
        left = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
        right = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
        c = np.linalg.det(U) * np.linalg.det(Vh)
        cof = (c * np.asarray(y_bar))[..., None, None] * (np.conj(U) * (left * right)[..., None, :]) @ np.conj(Vh)
        return (None, to_like(cof, a)) + fit((), len(args))

    return y, det_pullback


# --- triangular and Cholesky solves -------------------------------------------------------------------


def _solve_triangular_sig(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                          check_finite=True):
    return {"N": 0, "T": 1, "C": 2}.get(trans, trans), lower, unit_diagonal


def solve_triangular_rrule(a, b, *args, **kwargs):
    x = owned(sla.solve_triangular(a, b, *args, **kwargs))
    trans, lower, unit_diagonal = _solve_triangular_sig(a, b, *args, **kwargs)

    def solve_triangular_pullback(y_bar):
        A, B = np.asarray(a), np.asarray(b)
        n = A.shape[-1]
        T = np.tril(A) if lower else np.triu(A)
        if unit_diagonal:
            T = T - np.diagonal(T, axis1=-2, axis2=-1)[..., None] * np.eye(n) + np.eye(n)
        vector = B.ndim == 1
        X = x[..., None] if vector else x
        G = np.asarray(y_bar)[..., None] if vector else np.asarray(y_bar)
        # op(T) x = b with op = identity, transpose or conjugate transpose
        op = T if trans == 0 else (swap(T) if trans == 1 else np.conj(swap(T)))
        b_bar = np.linalg.solve(swap(op), G)
        op_bar = -b_bar @ swap(X)
        t_bar = op_bar if trans == 0 else (swap(op_bar) if trans == 1 else np.conj(swap(op_bar)))
        t_bar = np.tril(t_bar) if lower else np.triu(t_bar)
        if unit_diagonal:
            t_bar = t_bar * (1 - np.eye(n))
        b_bar = b_bar[..., 0] if vector else b_bar
        return (None, unbroadcast_to(t_bar, a), unbroadcast_to(b_bar, b)) + fit((), len(args))

    return x, solve_triangular_pullback


def cholesky_bar(L, L_bar):
    """The gradient, for symmetric perturbations of A = L L^T, of a function of L with cotangent L_bar."""
    P = np.tril(swap(L) @ L_bar)
    P = P - 0.5 * np.diagonal(P, axis1=-2, axis2=-1)[..., None] * np.eye(L.shape[-1])  # halve the diagonal
    S = swap(np.linalg.solve(swap(L), swap(np.linalg.solve(swap(L), P))))  # L^-T P L^-1
    return (S + swap(S)) / 2


def _cholesky_sig(a, lower=False, overwrite_a=False, check_finite=True):
    return lower


def cholesky_rrule(a, *args, **kwargs):
    y = owned(sla.cholesky(a, *args, **kwargs))
    lower = _cholesky_sig(a, *args, **kwargs)

    def cholesky_pullback(y_bar):
        _real_only(np.asarray(a), "cholesky")
        L, L_bar = (y, np.asarray(y_bar)) if lower else (swap(y), swap(np.asarray(y_bar)))
        return (None, to_like(fold(cholesky_bar(L, L_bar), lower), a)) + fit((), len(args))

    return y, cholesky_pullback


def _cho_factor_sig(a, lower=False, overwrite_a=False, check_finite=True):
    return lower


def cho_factor_rrule(a, *args, **kwargs):
    y = owned(sla.cho_factor(a, *args, **kwargs))
    c, lower = y[0], bool(_cho_factor_sig(a, *args, **kwargs))  # (a stack's flag is an array of them)

    def cho_factor_pullback(y_bar):
        c_bar = y_bar[0]
        if c_bar is None:
            return (None,) * (len(args) + 2)
        A, c_bar = np.asarray(a), np.asarray(c_bar)
        _real_only(A, "cho_factor")
        tri = np.tril if lower else np.triu
        F = tri(c)  # the factor; the other triangle of c holds a's own entries
        L, L_bar = (F, tri(c_bar)) if lower else (swap(F), swap(tri(c_bar)))
        a_bar = fold(cholesky_bar(L, L_bar), lower) + (c_bar - tri(c_bar))
        return (None, to_like(a_bar, a)) + fit((), len(args))

    return y, cho_factor_pullback


def cho_solve_rrule(c_and_lower, b, *args, **kwargs):
    x = sla.cho_solve(c_and_lower, b, *args, **kwargs)

    def cho_solve_pullback(y_bar):
        c, lower = c_and_lower
        C, B = np.asarray(c), np.asarray(b)
        _real_only(C, "cho_solve")
        F = np.tril(C) if lower else np.triu(C)
        A = F @ swap(F) if lower else swap(F) @ F
        vector = B.ndim == 1
        X = x[..., None] if vector else x
        G = np.asarray(y_bar)[..., None] if vector else np.asarray(y_bar)
        b_bar = np.linalg.solve(A, G)
        A_bar = -b_bar @ swap(X)
        S = A_bar + swap(A_bar)  # dA = dL L^T + L dL^T (or dU^T U + U^T dU)
        F_bar = np.tril(S @ F) if lower else np.triu(F @ S)
        c_bar = to_like(F_bar, c)
        pair_bar = type(c_and_lower)((c_bar, None)) if isinstance(c_and_lower, (tuple, list)) else None
        b_bar = b_bar[..., 0] if vector else b_bar
        return (None, pair_bar, unbroadcast_to(b_bar, b)) + fit((), len(args))

    return x, cho_solve_pullback


# --- matrix functions and equations -------------------------------------------------------------------


def sqrtm_rrule(A, *args, **kwargs):
    y = sla.sqrtm(A, *args, **kwargs)

    def sqrtm_pullback(y_bar):
        X, G = (y[0], y_bar[0]) if isinstance(y, tuple) else (y, y_bar)
        if G is None:
            return (None,) * (len(args) + 2)
        X, G = np.asarray(X), np.asarray(G)
        A_bar = np.empty(np.broadcast_shapes(X.shape, G.shape), np.result_type(X, G))
        for i in np.ndindex(X.shape[:-2]):
            Xt = X[i].T
            A_bar[i] = sla.solve_sylvester(Xt, Xt, G[i])
        return (None, to_like(A_bar, A)) + fit((), len(args))

    return y, sqrtm_pullback


def expm_rrule(A):
    y = sla.expm(A)

    def expm_pullback(y_bar):
        At = swap(np.asarray(A))
        G = np.asarray(y_bar)
        n = At.shape[-1]
        shape = np.broadcast_shapes(At.shape, G.shape)
        block = np.zeros(shape[:-2] + (2 * n, 2 * n), np.result_type(At, G, np.float64))
        block[..., :n, :n] = At
        block[..., n:, n:] = At
        block[..., :n, n:] = G
        return None, to_like(sla.expm(block)[..., :n, n:], A)

    return y, expm_pullback


def solve_sylvester_rrule(a, b, q):
    x = sla.solve_sylvester(a, b, q)

    def solve_sylvester_pullback(y_bar):
        q_bar = sla.solve_sylvester(swap(np.asarray(a)), swap(np.asarray(b)), np.asarray(y_bar))
        return None, to_like(-q_bar @ swap(x), a), to_like(-swap(x) @ q_bar, b), to_like(q_bar, q)

    return x, solve_sylvester_pullback


# --- svdvals, lu_factor, lu_solve, logm -----------------------------------------------------------------


def svdvals_rrule(a, *args, **kwargs):
    y = sla.svdvals(a, *args, **kwargs)

    def svdvals_pullback(y_bar):
        # s_i = u_i^T A v_i, so ds_i = u_i^T dA v_i (a subgradient where singular values repeat)
        A = np.asarray(a)
        _real_only(A, "svdvals")
        U, _, Vh = np.linalg.svd(A, full_matrices=False)
        return (None, to_like((U * np.asarray(y_bar)[..., None, :]) @ Vh, a)) + fit((), len(args))

    return y, svdvals_pullback


def _lu_parts(lu, piv):
    """`(L, U, perm)` of `lu_factor`'s packed result: `A[perm] == L @ U`."""
    n = lu.shape[-1]
    perm = np.arange(lu.shape[-2])
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return np.tril(lu, -1) + np.eye(lu.shape[-2], n), np.triu(lu), perm


def lu_factor_rrule(a, *args, **kwargs):
    lu, piv = y = sla.lu_factor(a, *args, **kwargs)

    def lu_factor_pullback(y_bar):
        lu_bar = y_bar[0]
        if lu_bar is None:
            return (None,) * (len(args) + 2)
        A, lu_bar = np.asarray(a), np.asarray(lu_bar)
        _real_only(A, "lu_factor")
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise DifferentiationError("scipy.linalg.lu_factor has a differentiation rule for one square matrix only")
        # A[perm] = L U: with dL = L tril(C, -1) and dU = triu(C) U for C = L^-1 dA[perm] U^-1,
        # A[perm]'s cotangent is L^-T (tril(L^T L_bar, -1) + triu(U_bar U^T)) U^-T
        L, U, perm = _lu_parts(lu, piv)
        M = np.tril(L.T @ np.tril(lu_bar, -1), -1) + np.triu(np.triu(lu_bar) @ U.T)
        a_bar = np.empty_like(M)
        a_bar[perm] = sla.solve_triangular(U, sla.solve_triangular(L, M, trans="T", lower=True).T).T
        return (None, to_like(a_bar, a)) + fit((), len(args))

    return y, lu_factor_pullback


def _lu_solve_sig(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    return trans


def lu_solve_rrule(lu_and_piv, b, *args, **kwargs):
    x = sla.lu_solve(lu_and_piv, b, *args, **kwargs)
    trans = _lu_solve_sig(lu_and_piv, b, *args, **kwargs)

    def lu_solve_pullback(y_bar):
        lu, piv = lu_and_piv
        lu = np.asarray(lu)
        _real_only(lu, "lu_solve")
        _real_only(np.asarray(b), "lu_solve")
        G = np.asarray(y_bar)
        vector = G.ndim == 1
        b_bar = sla.lu_solve((lu, piv), G, trans=0 if trans else 1)
        X, B_bar = (x[:, None], b_bar[:, None]) if vector else (x, b_bar)
        # op(A) x = b: b_bar = op(A)^-T x_bar and op(A)'s cotangent is -b_bar x^T
        A_bar = -(X @ B_bar.T if trans else B_bar @ X.T)
        # A[perm] = L U, so dA[perm] = dL U + L dU
        L, U, perm = _lu_parts(lu, piv)
        P_bar = A_bar[perm]
        lu_bar = to_like(np.tril(P_bar @ U.T, -1) + np.triu(L.T @ P_bar), lu_and_piv[0])
        pair_bar = type(lu_and_piv)((lu_bar, None)) if isinstance(lu_and_piv, (tuple, list)) else None
        return (None, pair_bar, unbroadcast_to(b_bar, b)) + fit((), len(args))

    return x, lu_solve_pullback


def logm_rrule(A, *args, **kwargs):
    y = sla.logm(A, *args, **kwargs)

    def logm_pullback(y_bar):
        X, G = (y[0], y_bar[0]) if isinstance(y, tuple) else (y, y_bar)
        if G is None:
            return (None,) * (len(args) + 2)
        At, G = swap(np.asarray(A)), np.asarray(G)
        if np.iscomplexobj(X) and not np.iscomplexobj(At):
            raise DifferentiationError(
                "scipy.linalg.logm of a real matrix whose logarithm is complex (an eigenvalue on the "
                "negative real axis) has no differentiation rule; pass the matrix as complex"
            )
        # as for expm: the adjoint of the Frechet derivative L(A, .) is L(A^T, .), the upper
        # right block of logm([[A^T, G], [0, A^T]])
        n = At.shape[-1]
        shape = np.broadcast_shapes(At.shape, G.shape)
        A_bar = np.empty(shape, np.result_type(X, G))
        for i in np.ndindex(shape[:-2]):
            block = np.zeros((2 * n, 2 * n), np.result_type(At, G, np.float64))
            block[:n, :n] = block[n:, n:] = At[i] if At.ndim > 2 else At
            block[:n, n:] = G[i] if G.ndim > 2 else G
            A_bar[i] = sla.logm(block)[:n, n:]
        return (None, to_like(A_bar, A)) + fit((), len(args))

    return y, logm_pullback


registry.register(sla.inv, inv_rrule)
registry.register(sla.solve, solve_rrule)
registry.register(sla.det, det_rrule)
registry.register(sla.solve_triangular, solve_triangular_rrule)
registry.register(sla.cholesky, cholesky_rrule)
registry.register(sla.cho_factor, cho_factor_rrule)
registry.register(sla.cho_solve, cho_solve_rrule)
registry.register(sla.sqrtm, sqrtm_rrule)
registry.register(sla.expm, expm_rrule)
registry.register(sla.solve_sylvester, solve_sylvester_rrule)
registry.register(sla.svdvals, svdvals_rrule)
registry.register(sla.lu_factor, lu_factor_rrule)
registry.register(sla.lu_solve, lu_solve_rrule)
registry.register(sla.logm, logm_rrule)
