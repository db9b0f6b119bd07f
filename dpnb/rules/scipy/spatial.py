"""Rules for `scipy.spatial.distance.cdist` and `pdist` with the metrics 'euclidean',
'sqeuclidean' and 'cityblock' (refused: every other metric, a callable metric, weights `w=` and
other metric options).

For points a_i (rows of XA) and b_j (rows of XB) and the cotangent G of D:
- sqeuclidean, D_ij = |a_i - b_j|^2: a_i gets 2 sum_j G_ij (a_i - b_j);
- euclidean, D_ij = |a_i - b_j|: a_i gets sum_j G_ij (a_i - b_j) / D_ij, and 0 where D_ij = 0
  (the subgradient `np.linalg.norm`'s rule takes: exact for `cdist(X, X)`, whose diagonal is 0
  whatever X);
- cityblock, D_ij = sum_k |a_ik - b_jk|: a_ik gets sum_j G_ij sign(a_ik - b_jk) (0 at a tie);
and b_j the negatives. `pdist(X)` is the upper triangle of `cdist(X, X)`, row by row (i < j).
"""
import numpy as np
import scipy.spatial.distance as ssd

from ...errors import DifferentiationError
from .. import registry
from .._common import to_like
from ..numpy._base import _safe_div

_METRICS = ("euclidean", "sqeuclidean", "cityblock")


def _metric(metric, kwargs, name):
    if not isinstance(metric, str) or metric not in _METRICS:
        raise DifferentiationError(
            f"scipy.spatial.distance.{name} with metric={metric!r} has no differentiation rule "
            f"(it has one for {', '.join(map(repr, _METRICS))})"
        )
    extra = sorted(k for k, v in kwargs.items() if k != "out" and v is not None)
    if extra:
        raise DifferentiationError(
            f"scipy.spatial.distance.{name} with {', '.join(extra)}= has no differentiation rule"
        )
    return metric


def _bars(A, B, D, G, metric):
    """The cotangents of the points A (m, n) and B (k, n) for the distances D (m, k) and their
    cotangent G."""
    if metric == "sqeuclidean":
        return 2 * (np.sum(G, axis=1)[:, None] * A - G @ B), 2 * (np.sum(G, axis=0)[:, None] * B - G.T @ A)
    if metric == "euclidean":
        W = _safe_div(G, D)
        return np.sum(W, axis=1)[:, None] * A - W @ B, np.sum(W, axis=0)[:, None] * B - W.T @ A
    S = np.sign(A[:, None, :] - B[None, :, :])  # cityblock
    return np.einsum("ij,ijk->ik", G, S), -np.einsum("ij,ijk->jk", G, S)


def _cdist_sig(XA, XB, metric="euclidean", *, out=None, **kwargs):
    return metric, kwargs


def cdist_rrule(XA, XB, *args, **kwargs):
    metric, extra = _cdist_sig(XA, XB, *args, **kwargs)
    metric = _metric(metric, extra, "cdist")
    y = ssd.cdist(XA, XB, *args, **kwargs)

    def cdist_pullback(y_bar):
        A, B = np.asarray(XA, dtype=float), np.asarray(XB, dtype=float)
        A_bar, B_bar = _bars(A, B, y, np.asarray(y_bar), metric)
        return (None, to_like(A_bar, XA), to_like(B_bar, XB)) + (None,) * len(args)

    return y, cdist_pullback


def _pdist_sig(X, metric="euclidean", *, out=None, **kwargs):
    return metric, kwargs


def pdist_rrule(X, *args, **kwargs):
    metric, extra = _pdist_sig(X, *args, **kwargs)
    metric = _metric(metric, extra, "pdist")
    y = ssd.pdist(X, *args, **kwargs)

    def pdist_pullback(y_bar):
        A = np.asarray(X, dtype=float)
        m = A.shape[0]
        i, j = np.triu_indices(m, 1)  # pdist's order
        G = np.zeros((m, m), np.result_type(np.asarray(y_bar), float))
        G[i, j] = y_bar
        D = np.zeros((m, m), y.dtype)
        D[i, j] = y
        A_bar, B_bar = _bars(A, A, D, G, metric)
        return (None, to_like(A_bar + B_bar, X)) + (None,) * len(args)

    return y, pdist_pullback


registry.register(ssd.cdist, cdist_rrule)
registry.register(ssd.pdist, pdist_rrule)
