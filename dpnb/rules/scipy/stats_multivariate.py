"""Rules for `scipy.stats.multivariate_normal` and `scipy.stats.dirichlet`: `logpdf` and `pdf`
with respect to the point(s) and the parameters.

As in `stats`, a rule for the bound methods (`scipy.stats.multivariate_normal.logpdf`)
and one for the functions they are bound from (what a method call reaches). Arguments passed
by keyword (`mean=`, `cov=`, `alpha=`) get their cotangents in the trailing dict.

multivariate_normal, r = x - mean, P = cov^-1, per point:
  logpdf = -(d log 2pi + log det cov + r^T P r) / 2,
  d/dx = -P r, d/dmean = P r, d/dcov = (P r r^T P - P) / 2 for a symmetric perturbation.
SciPy reads only the lower triangle of a two-dimensional `cov` (its `eigh`), so the
cotangent of `cov` lives there: twice the symmetric gradient below the diagonal, once on
it, zero above. A one-dimensional `cov` (the diagonal) gets the diagonal, a scalar the
trace. A singular `cov` (`allow_singular=True`) has no rule.

dirichlet, components along the first axis of x:
  logpdf = sum_i (alpha_i - 1) log x_i - sum_i lgamma(alpha_i) + lgamma(sum_i alpha_i),
  d/dx_i = (alpha_i - 1) / x_i, d/dalpha_i = log x_i - digamma(alpha_i) + digamma(sum alpha).
With K - 1 components given, x_K = 1 - sum x_i is SciPy's, and the derivative in x_i is
`(alpha_i - 1) / x_i - (alpha_K - 1) / x_K`. With all K, the derivative is the one of the
formula above, in every direction (SciPy refuses points off the simplex).
"""
import numpy as np
import scipy.stats as st
from scipy.special import psi

from ...errors import DifferentiationError
from .. import registry
from .._common import bind, call_bars, to_like
from ._util import named

MVN = type(st.multivariate_normal)
DIRICHLET = type(st.dirichlet)


def _mvn_sig(x, mean=None, cov=1, allow_singular=False):
    return x, mean, cov, allow_singular


def _mvn_logpdf_bars(args, kwargs, g):
    """Cotangents of (x, mean, cov) of multivariate_normal.logpdf for the output cotangent `g`."""
    x, mean, cov, _ = _mvn_sig(*args, **kwargs)
    M = None if mean is None else np.asarray(mean, dtype=float)
    C = np.asarray(1.0 if cov is None else cov, dtype=float)
    if hasattr(cov, "covariance") and not isinstance(cov, np.ndarray):
        raise DifferentiationError("scipy.stats.multivariate_normal with a Covariance object has no rule")
    dim = M.size if M is not None else (C.shape[0] if C.ndim == 2 else 1)
    X = np.asarray(x, dtype=float)
    if X.ndim == 0:
        X = X[None]
    elif X.ndim == 1:
        X = X[:, None] if dim == 1 else X[None, :]
    Mv = np.zeros(dim) if M is None else M.reshape(dim)
    if dim == 1:
        Cm = C.reshape(1, 1)
    elif C.ndim == 0:
        Cm = C * np.eye(dim)
    elif C.ndim == 1:
        Cm = np.diag(C)
    else:
        Cm = np.tril(C) + np.tril(C, -1).T  # the matrix SciPy sees: its lower triangle
    try:
        P = np.linalg.inv(Cm)
    except np.linalg.LinAlgError:
        raise DifferentiationError(
            "scipy.stats.multivariate_normal.logpdf has no rule for a singular covariance"
        ) from None
    G = np.reshape(np.asarray(g, dtype=float), X.shape[:-1])
    Pr = (X - Mv) @ P
    x_bar = np.reshape(-G[..., None] * Pr, np.shape(x))
    mean_bar = None if M is None else np.reshape(np.sum(G[..., None] * Pr, axis=tuple(range(G.ndim))), M.shape)
    flat_pr, flat_g = Pr.reshape(-1, dim), G.reshape(-1)
    S = 0.5 * ((flat_pr * flat_g[:, None]).T @ flat_pr - flat_g.sum() * P)  # symmetric
    if dim == 1 or C.ndim == 2:
        cov_bar = S if dim == 1 else np.tril(2 * S, -1) + np.diag(np.diag(S))
        cov_bar = cov_bar.reshape(C.shape)
    elif C.ndim == 1:
        cov_bar = np.diag(S)
    else:
        cov_bar = np.trace(S)
    return x_bar, mean_bar, cov_bar


_MVN_NAMES = ("x", "mean", "cov", "allow_singular")


def _mvn_rule(method):
    def bars(args, kwargs, y, y_bar):
        """name -> cotangent of each argument of multivariate_normal.<method>(*args, **kwargs)."""
        g = y_bar * y if method == "pdf" else y_bar
        raw = dict(zip(_MVN_NAMES, _mvn_logpdf_bars(args, kwargs, g)))
        given = bind(_MVN_NAMES, args, kwargs)
        return {k: to_like(b, given[k]) for k, b in raw.items() if k in given}

    bars.names = _MVN_NAMES
    return bars


def _dirichlet_sig(x, alpha):
    return x, alpha


def _dirichlet_rule(method):
    def bars(args, kwargs, y, y_bar):
        """name -> cotangent of each argument of dirichlet.<method>(*args, **kwargs)."""
        x, alpha = _dirichlet_sig(*args, **kwargs)
        A = np.asarray(alpha, dtype=float)
        X = np.asarray(x, dtype=float)
        K = A.shape[0]
        reduced = X.shape[0] == K - 1
        XK = np.concatenate([X, (1 - np.sum(X, 0))[None]], 0) if reduced else X
        batch = XK.shape[1:]
        G = np.reshape(np.asarray(y_bar * y if method == "pdf" else y_bar, dtype=float), batch)
        Ab = A.reshape((K,) + (1,) * len(batch))
        with np.errstate(divide="ignore", invalid="ignore"):
            dlogx = np.where(Ab == 1, 0.0, (Ab - 1) / XK)  # xlogy(0, x): no slope in x
            alpha_d = np.log(XK) - psi(Ab) + psi(A.sum())
        x_bar = G * dlogx
        if reduced:
            x_bar = x_bar[:-1] - x_bar[-1:]
        alpha_bar = np.sum(G * alpha_d, axis=tuple(range(1, 1 + len(batch))))
        return {"x": to_like(x_bar, x), "alpha": to_like(alpha_bar, alpha)}

    bars.names = ("x", "alpha")
    return bars


def _rules(dist, method, bars_fn):
    label = type(dist).__name__.replace("_gen", "")

    names = bars_fn.names

    def bound(*args, **kwargs):
        y = getattr(dist, method)(*args, **kwargs)

        def pullback(y_bar):
            return call_bars(names, args, kwargs, bars_fn(args, kwargs, y, y_bar))

        pullback.__name__ = pullback.__qualname__ = f"{label}_{method}_pullback"
        return y, pullback

    def unbound(self, *args, **kwargs):
        y = getattr(self, method)(*args, **kwargs)

        def pullback(y_bar):
            return (None,) + call_bars(names, args, kwargs, bars_fn(args, kwargs, y, y_bar))

        pullback.__name__ = pullback.__qualname__ = f"{label}_{method}_pullback"
        return y, pullback

    return named(bound, f"{label}_{method}_rrule"), named(unbound, f"{label}_gen_{method}_rrule")


for _dist, _make in ((st.multivariate_normal, _mvn_rule), (st.dirichlet, _dirichlet_rule)):
    for _m in ("logpdf", "pdf"):
        _bound, _unbound = _rules(_dist, _m, _make(_m))
        registry.register(getattr(_dist, _m), _bound)
        registry.register(getattr(type(_dist), _m), _unbound)
