"""`np.linalg`: norm (every `ord`, vector and matrix), inv, solve, det, slogdet, pinv, lstsq
and matrix_power."""
import numpy as np

from ...errors import DifferentiationError, NoRuleError
from .._common import float_dtype, to_like, unbroadcast_to
from ..namespaces import is_foreign
from ._base import _expand, _nones, _safe_div, _swap, _unit, asarray, register
from .decompositions import _svd_grad


def _norm_sig(x, ord=None, axis=None, keepdims=False):
    return ord, axis, keepdims


def _vector_norm_bar(X, ord, G, Y, axis):
    """Cotangent of a vector norm of X along `axis` (G and Y broadcast against X)."""
    if ord is None or ord == 2:
        return G * _safe_div(np.conj(X), Y)
    if ord == 0:  # (in G's library when that is Dask's or CuPy's)
        return np.broadcast_to(np.zeros_like(G, dtype=float_dtype(X)), X.shape)
    absX = np.abs(X)
    if ord == 1:
        return G * _unit(X)
    if ord in (np.inf, -np.inf):
        mask = absX == Y
        count = np.maximum(np.sum(mask, axis=axis, keepdims=True), 1)
        return G * _unit(X) * mask / count
    p = float(ord)
    return G * _unit(X) * _safe_div(absX ** (p - 1), Y ** (p - 1))


def _matrix_norm_bar(X, ord, G, Y, row, col):
    if ord is None or ord == "fro":
        return G * _safe_div(np.conj(X), Y)
    M = np.moveaxis(X, (row, col), (-2, -1))
    Gm = np.moveaxis(G, (row, col), (-2, -1))
    if ord in ("nuc", 2, -2):
        U, s, Vh = np.linalg.svd(M, full_matrices=False)
        if ord == "nuc":
            D = U @ Vh
        else:
            k = 0 if ord == 2 else -1
            D = U[..., :, k : k + 1 if k else 1] @ Vh[..., k : k + 1 if k else 1, :] if k == 0 else (
                U[..., :, -1:] @ Vh[..., -1:, :]
            )
        R = Gm * np.conj(D)
    elif ord in (1, -1, np.inf, -np.inf):
        along = -2 if ord in (1, -1) else -1  # 1: column sums (over rows), inf: row sums
        sums = np.sum(np.abs(M), axis=along, keepdims=True)
        pick = np.max(sums, axis=-1 if along == -2 else -2, keepdims=True) if ord in (1, np.inf) else (
            np.min(sums, axis=-1 if along == -2 else -2, keepdims=True)
        )
        mask = sums == pick
        count = np.maximum(np.sum(mask, axis=(-2, -1), keepdims=True), 1)
        R = Gm * _unit(M) * mask / count
    else:
        raise DifferentiationError(f"np.linalg.norm with ord={ord!r} has no differentiation rule")
    return np.moveaxis(R, (-2, -1), (row, col))


def norm_rrule(x, *args, **kwargs):
    if is_foreign(x):
        ord, axis, _ = _norm_sig(x, *args, **kwargs)
        matrix = (axis is None and x.ndim == 2) or (axis is not None and np.ndim(axis) == 1 and len(axis) == 2)
        if matrix and ord in ("nuc", 2, -2):  # their gradients need the SVD of the matrix
            raise NoRuleError(np.linalg.norm, f"ord={ord!r} of a {type(x).__module__.partition('.')[0]} matrix")
    y = np.linalg.norm(x, *args, **kwargs)

    def norm_pullback(y_bar):
        y_bar = np.real(y_bar)  # a norm is real: only the real part of its cotangent counts
        X = asarray(x)
        if X.dtype.kind not in "fc":
            X = X.astype(np.float64)
        ord, axis, keepdims = _norm_sig(X, *args, **kwargs)
        if axis is None and ord is None:
            axes = tuple(range(X.ndim))
            G = _expand(y_bar, X.shape, axes, keepdims, like=X)
            Y = _expand(y, X.shape, axes, keepdims, like=X)
            r = G * _safe_div(np.conj(X), Y)
        else:
            if axis is None:
                axis = tuple(range(X.ndim))
            axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
            axes_n = tuple(int(a) % X.ndim for a in axes)
            G = asarray(y_bar)
            Y = asarray(y)
            if not keepdims:
                G = np.expand_dims(G, tuple(sorted(axes_n)))
                Y = np.expand_dims(Y, tuple(sorted(axes_n)))
            if len(axes_n) == 1:
                r = _vector_norm_bar(X, ord, G, Y, axes_n[0])
            else:
                r = _matrix_norm_bar(X, ord, G, Y, *axes_n)
        return (None, to_like(np.broadcast_to(r, X.shape), x)) + _nones(args)

    return y, norm_pullback


register(np.linalg.norm, norm_rrule, number_closed=True, generic=True)


def inv_rrule(a):
    y = np.linalg.inv(a)

    def inv_pullback(y_bar):
        Yt = _swap(y)
        return None, to_like(-(Yt @ y_bar @ Yt), a)

    return y, inv_pullback


def solve_rrule(a, b):
    x = np.linalg.solve(a, b)

    def solve_pullback(y_bar):
        A, B = np.asarray(a), np.asarray(b)
        vector = B.ndim == 1
        X = x[..., None] if vector else x
        G = asarray(y_bar)[..., None] if vector else asarray(y_bar)
        b_bar = _solve(_swap(A), G)
        a_bar = -b_bar @ _swap(X)
        b_bar = b_bar[..., 0] if vector else b_bar
        return None, unbroadcast_to(a_bar, a), unbroadcast_to(b_bar, b)

    return x, solve_pullback


def _solve(A, B):
    """`np.linalg.solve(A, B)` for a NumPy `A`; `B` may be a Dask or CuPy array (from data on a
    cluster or a GPU): then A's inverse (a NumPy array) is applied to it in its library."""
    if is_foreign(B):
        return np.linalg.inv(A) @ B
    return np.linalg.solve(A, B)


def det_rrule(a):
    y = np.linalg.det(a)

    def det_pullback(y_bar):
        try:
            inv = np.linalg.inv(a)
        except np.linalg.LinAlgError:  # an exactly singular matrix: its cofactors are finite still
            return None, to_like(asarray(y_bar)[..., None, None] * _cofactors(a), a)
        g = asarray(y_bar * y)[..., None, None]
        return None, to_like(g * _swap(inv), a)

    return y, det_pullback


def _cofactors(a):
    """The cofactor matrix of `a` (d det(A) / dA), from the SVD A = U S Vh without an inverse:
    det(U) det(Vh) conj(U) diag(p) conj(Vh), p_i the product of the singular values but the i-th."""
    U, s, Vh = np.linalg.svd(np.asarray(a))
    ones = np.ones(s.shape[:-1] + (1,))
    left = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
    c = np.linalg.det(U) * np.linalg.det(Vh)
    return c[..., None, None] * (np.conj(U) * (left * right)[..., None, :]) @ np.conj(Vh)


def slogdet_rrule(a):
    y = np.linalg.slogdet(a)

    def slogdet_pullback(y_bar):
        # d logabsdet = Re(t) and d sign = i Im(t) sign, with t = tr(A^-1 dA); a real sign is
        # piecewise constant
        sign_bar, logdet_bar = y_bar
        g = 0.0 if logdet_bar is None else np.real(logdet_bar)
        if sign_bar is not None and np.iscomplexobj(y[0]):
            g = g + 1j * np.imag(sign_bar * y[0])
        if sign_bar is None and logdet_bar is None:
            return None, None
        return None, to_like(asarray(g)[..., None, None] * _swap(np.linalg.inv(a)), a)

    return y, slogdet_pullback


def _H(x):
    return np.conj(_swap(x))


def _pinv_bar(A, P, P_bar):
    """Cotangent of `A` for `P = pinv(A)` (A of full rank): with `G = conj(P_bar)`, the gradient
    is -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A) (Golub and Pereyra, 1973)."""
    G = np.conj(P_bar)
    m, n = A.shape[-2:]
    Ph, Gh = _H(P), _H(G)
    grad = -Ph @ G @ Ph + (np.eye(m) - A @ P) @ Gh @ P @ Ph + Ph @ P @ Gh @ (np.eye(n) - P @ A)
    return np.conj(grad)


def full_rank(rank, A, what):
    """Refuse a rank-deficient `A` (rank below min(m, n)): `pinv` jumps there (a perturbation
    raises the rank), so no derivative exists."""
    if np.any(np.asarray(rank) < min(A.shape[-2:])):
        raise DifferentiationError(
            f"{what} of a rank-deficient matrix (rank {np.min(rank)} of {min(A.shape[-2:])}) has no "
            "derivative: the result jumps when the matrix is perturbed"
        )


def _pinv_rank(A, args, kwargs):
    """The rank `np.linalg.pinv(A, *args, **kwargs)` keeps (singular values above its cut-off)."""
    rcond = args[0] if args else kwargs.get("rcond")
    if rcond is None:
        if "rtol" not in kwargs:
            rcond = 1e-15
        else:
            rtol = kwargs["rtol"]
            rcond = max(A.shape[-2:]) * np.finfo(float_dtype(A)).eps if rtol is None else rtol
    s = np.linalg.svd(A, compute_uv=False)
    return np.sum(s > np.asarray(rcond)[..., None] * s[..., :1], axis=-1)


def pinv_rrule(a, *args, **kwargs):
    X = np.linalg.pinv(a, *args, **kwargs)

    def pinv_pullback(y_bar):
        A = np.asarray(a)
        full_rank(_pinv_rank(A, args, kwargs), A, "np.linalg.pinv")
        return (None, to_like(_pinv_bar(A, X, asarray(y_bar)), a)) + _nones(args)

    return X, pinv_pullback


def lstsq_cotangents(A, B, y, y_bar):
    """The cotangents `(A_bar, B_bar)` of a least-squares solve of a full-rank 2-d `A`:
    `y = (x, residuals, rank, s)` and its cotangent `y_bar`; shared with SciPy's `lstsq`
    (whose `s` is None with the gelsy driver, and residuals of a vector `b` a number)."""
    # x = pinv(A) b (A of full rank); the residuals |A x - b|^2 are stationary in x, so
    # only their explicit dependence on A and b counts; s are A's singular values
    x_bar, res_bar, _, s_bar = y_bar
    x, residuals = y[0], y[1]
    vector = B.ndim == 1
    X, Bm = (x[:, None], B[:, None]) if vector else (x, B)
    A_bar = np.zeros(A.shape, np.result_type(A, B, np.float64))
    B_bar = np.zeros(Bm.shape, A_bar.dtype)
    if x_bar is not None:
        P = np.linalg.pinv(A)
        Xb = asarray(x_bar)[:, None] if vector else asarray(x_bar)
        A_bar = A_bar + _pinv_bar(A, P, Xb @ Bm.T)
        B_bar = B_bar + P.T @ Xb
    if res_bar is not None and np.size(residuals):
        R = A @ X - Bm
        W = 2 * np.conj(R) * np.real(res_bar)
        A_bar = A_bar + W @ X.T
        B_bar = B_bar - W
    if s_bar is not None:
        U, s, Vh = np.linalg.svd(A, full_matrices=False)
        A_bar = A_bar + np.conj(_svd_grad(U, s, Vh, None, s_bar, None))
    return A_bar, B_bar[:, 0] if vector else B_bar


def lstsq_rrule(a, b, *args, **kwargs):
    y = np.linalg.lstsq(a, b, *args, **kwargs)

    def lstsq_pullback(y_bar):
        A, B = np.asarray(a), np.asarray(b)
        full_rank(y[2], A, "np.linalg.lstsq")
        A_bar, B_bar = lstsq_cotangents(A, B, y, y_bar)
        return (None, to_like(A_bar, a), to_like(B_bar, b)) + _nones(args)

    return y, lstsq_pullback


def matrix_power_rrule(a, n):
    y = np.linalg.matrix_power(a, n)

    def matrix_power_pullback(y_bar):
        A = np.asarray(a)
        B = A if n >= 0 else np.linalg.inv(A)
        k = abs(n)
        powers = [np.broadcast_to(np.eye(A.shape[-1]), A.shape)]
        for _ in range(k - 1):
            powers.append(powers[-1] @ B)
        G = asarray(y_bar)
        B_bar = sum(_swap(powers[i]) @ G @ _swap(powers[k - 1 - i]) for i in range(k)) if k else None
        if B_bar is None:
            return None, None, None
        if n < 0:
            Bt = _swap(B)
            B_bar = -(Bt @ B_bar @ Bt)
        return None, to_like(B_bar, a), None

    return y, matrix_power_pullback


# their NumPy operands' cotangents follow a Dask or CuPy cotangent into its library
register(np.linalg.inv, inv_rrule, cotangents=True)
register(np.linalg.solve, solve_rrule, cotangents=True)
register(np.linalg.det, det_rrule, number_closed=True, cotangents=True)
register(np.linalg.slogdet, slogdet_rrule, cotangents=True)
register(np.linalg.pinv, pinv_rrule, cotangents=True)
register(np.linalg.lstsq, lstsq_rrule, cotangents=True)
register(np.linalg.matrix_power, matrix_power_rrule, cotangents=True)
