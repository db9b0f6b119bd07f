"""`np.nanquantile`, `np.nanpercentile` and `np.nanmedian`: quantiles of the entries that are not NaN.

With the default `method='linear'`, the q-quantile of the k entries of a slice that are not NaN is
`(1 - g) x_(lo) + g x_(hi)`, the order statistics around the virtual index `h = q (k - 1)`: `lo =
floor(h)`, `hi = min(lo + 1, k - 1)`, `g = h - lo` (the median is q = 1/2). So the cotangent of the
slice goes `(1 - g)` to the entry at `lo` in sorted order, `g` to the one at `hi`, none to NaNs or
to a slice all NaN (whose quantile is NaN); ties are broken by a stable sort, as `np.sort`'s rule
breaks them. `q` gets `(k - 1)(x_(hi) - x_(lo))` (over 100 for percentiles), the derivative from the
right where `h` is a whole number. The other methods and `weights=` are refused. NumPy computes
the value with `overwrite_input=False` (the same numbers): the pullback reads the input.
"""
import numpy as np

from ...errors import DifferentiationError
from .._common import float_dtype, to_like
from ._base import _axes, _inverse, register

_NOVALUE = np._NoValue


def _quantile_sig(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=_NOVALUE, *,
                  weights=None, interpolation=None):
    return q, axis, keepdims, method, weights, interpolation


def _median_sig(a, axis=None, out=None, overwrite_input=False, keepdims=_NOVALUE):
    return 0.5, axis, keepdims, "linear", None, None


def _check(name, method, weights, interpolation):
    if weights is not None:
        raise DifferentiationError(f"np.{name} with weights= has no differentiation rule")
    if method != "linear" or interpolation not in (None, "linear"):
        raise DifferentiationError(
            f"np.{name} with method={interpolation or method!r} has no differentiation rule (method='linear' has)"
        )


def _quantile_bars(A, q, axis, y_bar, scale):
    """The cotangents of `A` and `q` of the linear quantiles `q / scale` of `A`'s entries that
    are not NaN along `axis`, for the cotangent `y_bar` (its shape: q's, then the kept axes,
    with or without the reduced ones as 1s)."""
    axes = _axes(axis, A.ndim)
    keep = tuple(d for d in range(A.ndim) if d not in axes)
    order_axes = keep + axes
    kept_shape = tuple(A.shape[d] for d in keep)
    n = int(np.prod([A.shape[d] for d in axes], dtype=np.int64))
    X = np.reshape(np.transpose(A, order_axes), kept_shape + (n,))
    order = np.argsort(X, axis=-1, kind="stable")  # NaNs last
    Xs = np.take_along_axis(X, order, -1)
    k = np.sum(~np.isnan(X), axis=-1)  # (kept)
    Q = np.asarray(q, dtype=float_dtype(X)) / scale
    qdims = Q.ndim
    Qb = np.reshape(Q, Q.shape + (1,) * len(kept_shape))
    h = Qb * np.maximum(k - 1, 0)  # (q, kept)
    lo = np.floor(h)
    g = h - lo
    lo = lo.astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(k - 1, 0))
    G = np.reshape(y_bar, Q.shape + kept_shape) * (k > 0)
    idx = np.arange(n)
    weights = (1 - g)[..., None] * (idx == lo[..., None]) + g[..., None] * (idx == hi[..., None])
    S = np.sum(G[..., None] * weights, axis=tuple(range(qdims)))  # (kept, n): sorted order
    Xbar = np.zeros(X.shape, float_dtype(X))
    np.put_along_axis(Xbar, order, S, -1)
    a_bar = np.transpose(np.reshape(Xbar, kept_shape + tuple(A.shape[d] for d in axes)), _inverse(order_axes))
    # q's: the slopes between the sorted entries around lo, (q, kept) moved to (kept, q) for
    # take_along_axis; where h is a whole number (a kink) the mean of the slopes on either side
    # (what central differences give), one side at q = 0 or 1
    top = np.maximum(k - 1, 0)

    def at(i):
        i = np.moveaxis(np.broadcast_to(i, Q.shape + kept_shape).reshape((-1,) + kept_shape), 0, -1)
        v = np.take_along_axis(safe, i, -1)
        return np.reshape(np.moveaxis(v, -1, 0), Q.shape + kept_shape)

    safe = np.nan_to_num(Xs)
    x_lo = at(lo)
    up = at(np.minimum(lo + 1, top)) - x_lo
    down = x_lo - at(np.maximum(lo - 1, 0))
    whole = g == 0
    step = np.where(whole & (lo > 0) & (lo < top), (up + down) / 2, np.where(whole & (lo == top), down, up))
    q_bar = np.sum(G * step * np.maximum(k - 1, 0), axis=tuple(range(qdims, qdims + len(kept_shape)))) / scale
    return a_bar, q_bar


def _quantile_rule(f, sig, scale, name):
    def rule(a, *args, **kwargs):
        q, axis, keepdims, method, weights, interpolation = sig(a, *args, **kwargs)
        _check(name, method, weights, interpolation)
        i = 2 if f is np.nanmedian else 3  # overwrite_input's place among args
        kept = args[:i] + (False,) + args[i + 1:] if len(args) > i else args
        y = f(a, *kept, **dict(kwargs, overwrite_input=False) if "overwrite_input" in kwargs else kwargs)

        def pullback(y_bar):
            A = np.asarray(a)
            if A.dtype.kind not in "fc":
                A = A.astype(np.float64)
            if A.dtype.kind == "c":
                raise DifferentiationError(f"np.{name} of complex numbers has no differentiation rule")
            a_bar, q_bar = _quantile_bars(A, q, axis, np.asarray(y_bar), scale)
            a_bar = to_like(a_bar, a)
            if f is np.nanmedian:
                return (None, a_bar) + (None,) * len(args)
            return (None, a_bar, to_like(np.reshape(q_bar, np.shape(q)), q)) + (None,) * (len(args) - 1)

        return y, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    return rule


register(np.nanquantile, _quantile_rule(np.nanquantile, _quantile_sig, 1.0, "nanquantile"))
register(np.nanpercentile, _quantile_rule(np.nanpercentile, _quantile_sig, 100.0, "nanpercentile"))
register(np.nanmedian, _quantile_rule(np.nanmedian, _median_sig, 1.0, "nanmedian"))
