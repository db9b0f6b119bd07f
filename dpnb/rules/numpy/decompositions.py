"""Decompositions of `np.linalg`: eigh, eigvalsh, svd (real and complex matrices), eig and
eigvals (general square matrices), cholesky and qr (real matrices).

NumPy's `cholesky` and `eigh` read one triangle of their argument only, so their
gradients live in that triangle. Eigenvectors and singular vectors are defined up to a
sign (real) or a phase (complex): the gradients hold for losses that do not depend on it."""
import numpy as np

from ...errors import DifferentiationError, NoRuleError
from .._common import to_like
from ..namespaces import is_foreign
from ._base import _real_only, _swap, asarray, register


def _H(x):
    """The conjugate transpose of (a stack of) matrices."""
    return np.conj(np.swapaxes(x, -1, -2))


def _solve(A, B):
    """`np.linalg.solve(A, B)` for a NumPy `A`; `B` may be a Dask or CuPy array (from data on a
    cluster or a GPU): then A's inverse (a NumPy array) is applied to it in its library."""
    if is_foreign(B):
        return np.linalg.inv(A) @ B
    return np.linalg.solve(A, B)


def _from_triangle(G, lower=True):
    """The gradient of a function that reads one triangle of its (symmetric or Hermitian)
    argument, from its gradient `G` with respect to Hermitian perturbations: NumPy's
    `cholesky` and `eigh` read the lower (or upper) triangle, and the real part of the
    diagonal, so the gradient is that triangle of `G + G^H` with `Re(G)`'s diagonal."""
    tri = np.tril if lower else np.triu
    diagonal = np.real(np.diagonal(G, axis1=-2, axis2=-1))
    return tri(G + _H(G), -1 if lower else 1) + diagonal[..., None, :] * np.eye(G.shape[-1])


def cholesky_rrule(a, **kwargs):
    upper = kwargs.get("upper", False)
    y = np.linalg.cholesky(a, **kwargs)

    def cholesky_pullback(y_bar):
        A = np.asarray(a)
        _real_only(A, "cholesky")
        L = _swap(y) if upper else y
        L_bar = _swap(y_bar) if upper else asarray(y_bar)
        P = np.tril(_swap(L) @ L_bar)
        P = P - 0.5 * np.tril(np.triu(P))  # halve the diagonal
        # S = L^-T P L^-1
        S = _solve(_swap(L), _swap(_solve(_swap(L), _swap(P))))
        return None, to_like(_from_triangle(S, lower=not upper), a)

    return y, cholesky_pullback


def _inverse_gaps(x):
    """F[i, j] = 1 / (x[j] - x[i]) off the diagonal, 0 on it (and where the gap is 0)."""
    diff = x[..., None, :] - x[..., :, None]
    with np.errstate(divide="ignore"):
        return np.where(np.eye(x.shape[-1], dtype=bool), 0, 1 / np.where(diff == 0, np.inf, diff))


# The decompositions below are worked out for the gradient `G = conj(x_bar)` (the
# convention in which a pullback is a conjugate transpose), where the classic formulas
# hold with conjugate transposes in place of transposes; their pullbacks conjugate on the
# way in and on the way out. For real matrices both conventions coincide.


def _eigh_grad(w, V, gw, gV):
    """Gradient of `A = V diag(w) V^H` for Hermitian perturbations; the phase of each
    eigenvector is free, so a loss must not depend on it (Im diag(V^H gV) = 0)."""
    inner = np.zeros(V.shape, np.result_type(V, np.float64))
    if gw is not None:
        inner = inner + np.eye(V.shape[-1]) * np.real(gw)[..., None, :]
    if gV is not None:
        inner = inner + _inverse_gaps(w) * (_H(V) @ gV)
    return V @ inner @ _H(V)


def eigh_rrule(a, UPLO="L"):
    y = np.linalg.eigh(a, UPLO)

    def eigh_pullback(y_bar):
        w, V = y
        w_bar, V_bar = y_bar
        G = _eigh_grad(w, V, w_bar, None if V_bar is None else np.conj(V_bar))
        return None, to_like(np.conj(_from_triangle(G, lower=UPLO.upper() == "L")), a), None

    return y, eigh_pullback


def eigvalsh_rrule(a, UPLO="L"):
    y = np.linalg.eigvalsh(a, UPLO)

    def eigvalsh_pullback(y_bar):
        w, V = np.linalg.eigh(a, UPLO)
        G = _eigh_grad(w, V, y_bar, None)
        return None, to_like(np.conj(_from_triangle(G, lower=UPLO.upper() == "L")), a), None

    return y, eigvalsh_pullback


def _svd_grad(U, s, Vh, gU, gs, gVh):
    """Gradient of the thin SVD `A = U diag(s) Vh` (Townsend, "Differentiating the SVD", 2016,
    with conjugate transposes). A singular pair's common phase is free: its derivative is
    taken half from U and half from V (the loss must not depend on it)."""
    m, n, k = U.shape[-2], Vh.shape[-1], s.shape[-1]
    V = _H(Vh)
    S = s[..., None, :] * np.eye(k)
    inner = np.zeros(S.shape, np.result_type(S, U, np.float64))
    if gs is not None:
        inner = inner + np.real(gs)[..., None, :] * np.eye(k)
    out = 0
    if gU is not None or gVh is not None:
        F = _inverse_gaps(s * s)
        s_inv = 1 / s
        phase = 0
        if gU is not None:
            K = _H(U) @ gU
            inner = inner + (F * (K - _H(K))) @ S
            phase = phase + np.imag(np.diagonal(K, axis1=-2, axis2=-1))
            if m > k:
                out = out + (np.eye(m) - U @ _H(U)) @ gU * s_inv[..., None, :] @ Vh
        if gVh is not None:
            gV = _H(gVh)
            K = _H(V) @ gV
            inner = inner + S @ (F * (K - _H(K)))
            phase = phase - np.imag(np.diagonal(K, axis1=-2, axis2=-1))
            if n > k:
                out = out + (U * s_inv[..., None, :]) @ _H(gV) @ (np.eye(n) - V @ Vh)
        if np.iscomplexobj(inner):
            inner = inner + 1j * (phase * s_inv / 2)[..., None, :] * np.eye(k)
    return U @ inner @ Vh + out


def svd_cotangent(A, y, y_bar, full_matrices, compute_uv, f):
    """The gradient `G` (conjugate convention: the cotangent is `conj(G)`) of the SVD `y` of
    `A` (`f`'s result, `(U, s, Vh)` or `s`) for its cotangent `y_bar`; shared with SciPy's
    `svd`. With `full_matrices` and a non-square `A` the extra singular vectors are not
    unique: refused unless their cotangents are zero."""
    m, n = A.shape[-2:]
    name = "np.linalg.svd" if f is np.linalg.svd else "scipy.linalg.svd"
    if not compute_uv:
        U, s, Vh = np.linalg.svd(A, full_matrices=False)
        return _svd_grad(U, s, Vh, None, y_bar, None)
    U, s, Vh = y
    U_bar, s_bar, Vh_bar = y_bar
    k = min(m, n)
    if full_matrices and m != n:
        if is_foreign(U_bar) or is_foreign(Vh_bar):  # whether they are zero is not known yet
            raise NoRuleError(
                f,
                "full_matrices=True of a non-square matrix, its singular vectors' cotangents "
                f"{type(U_bar if is_foreign(U_bar) else Vh_bar).__module__.partition('.')[0]} arrays "
                "(the extra singular vectors are not unique); use full_matrices=False",
            )
        if (U_bar is not None and m > k and np.any(U_bar[..., :, k:])) or (
            Vh_bar is not None and n > k and np.any(Vh_bar[..., k:, :])
        ):
            raise DifferentiationError(
                f"{name}(full_matrices=True) of a non-square matrix: the extra singular "
                "vectors are not unique; use full_matrices=False"
            )
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        U_bar = None if U_bar is None else U_bar[..., :, :k]
        Vh_bar = None if Vh_bar is None else Vh_bar[..., :k, :]
    gU = None if U_bar is None else np.conj(U_bar)
    gVh = None if Vh_bar is None else np.conj(Vh_bar)
    return _svd_grad(U, s, Vh, gU, s_bar, gVh)


def svd_rrule(a, full_matrices=True, compute_uv=True, hermitian=False):
    y = np.linalg.svd(a, full_matrices, compute_uv, hermitian)

    def svd_pullback(y_bar):
        A = np.asarray(a)
        if not compute_uv and hermitian:
            U, s, Vh = np.linalg.svd(A, full_matrices=False, hermitian=True)
            G = _svd_grad(U, s, Vh, None, y_bar, None)
        else:
            G = svd_cotangent(A, y, y_bar, full_matrices, compute_uv, np.linalg.svd)
        if hermitian:  # computed with eigh, which reads the lower triangle
            G = _from_triangle(G)
        return None, to_like(np.conj(G), a), None, None, None

    return y, svd_pullback


def eig_rrule(a):
    y = np.linalg.eig(a)

    def eig_pullback(y_bar):
        # dw = diag(V^-1 dA V); dV = V (F * (V^-1 dA V)), minus V's own direction so that the
        # columns keep unit norm (as NumPy returns them); their phase is free: a loss must not
        # depend on it. The map is holomorphic up to that normalization: A_bar = V^-T Z V^T.
        w, V = y
        w_bar, V_bar = y_bar
        Z = np.zeros(V.shape, np.result_type(V, np.float64))
        if w_bar is not None:
            Z = Z + np.eye(V.shape[-1]) * asarray(w_bar)[..., None, :]
        if V_bar is not None:
            d = np.real(np.sum(V_bar * V, axis=-2))
            V_bar = V_bar - np.conj(V) * d[..., None, :]
            Z = Z + _inverse_gaps(w) * (np.swapaxes(V, -1, -2) @ V_bar)
        Vt = np.swapaxes(V, -1, -2)
        return None, to_like(_solve(Vt, Z @ Vt), a)

    return y, eig_pullback


def eigvals_rrule(a):
    y = np.linalg.eigvals(a)

    def eigvals_pullback(y_bar):
        w, V = np.linalg.eig(a)
        # eigvals and eig may list the eigenvalues in different orders: V's columns follow y's
        order = np.argmin(np.abs(y[..., :, None] - w[..., None, :]), axis=-1)
        V = np.take_along_axis(V, order[..., None, :], axis=-1)
        Vt = np.swapaxes(V, -1, -2)
        Z = np.eye(V.shape[-1]) * asarray(y_bar)[..., None, :]
        return None, to_like(_solve(Vt, Z @ Vt), a)

    return y, eigvals_pullback


def qr_cotangent(Q, R, Q_bar, R_bar):
    """The cotangent of `A` (real, m >= n) for the reduced QR `A = Q R` and the cotangents of
    `Q` and `R` (either may be None); shared with SciPy's `qr`."""
    n = R.shape[-1]
    M = 0
    if R_bar is not None:
        M = M + R @ _swap(R_bar)
    if Q_bar is not None:
        M = M - _swap(Q_bar) @ Q
    M = np.tril(asarray(M) * np.ones((n, n)))
    copyltu = M + _swap(np.tril(M, -1))
    B = Q @ copyltu if Q_bar is None else Q_bar + Q @ copyltu
    # A_bar = B R^-T
    return _swap(_solve(R, _swap(B)))


def qr_rrule(a, mode="reduced"):
    y = np.linalg.qr(a, mode)

    def qr_pullback(y_bar):
        A = np.asarray(a)
        _real_only(A, "qr")
        m, n = A.shape[-2:]
        if m < n or mode not in ("reduced", "r"):
            raise DifferentiationError("np.linalg.qr has a differentiation rule for mode='reduced' and m >= n only")
        if mode == "r":
            Q, R = np.linalg.qr(A)
            Q_bar, R_bar = None, y_bar
        else:
            Q, R = y
            Q_bar, R_bar = y_bar
        return None, to_like(qr_cotangent(Q, R, Q_bar, R_bar), a), None

    return y, qr_pullback


# their NumPy operands' cotangents follow a Dask or CuPy cotangent into its library
for _f, _rule in (
    (np.linalg.cholesky, cholesky_rrule), (np.linalg.eigh, eigh_rrule), (np.linalg.eigvalsh, eigvalsh_rrule),
    (np.linalg.svd, svd_rrule), (np.linalg.eig, eig_rrule), (np.linalg.eigvals, eigvals_rrule),
    (np.linalg.qr, qr_rrule),
):
    register(_f, _rule, cotangents=True)
