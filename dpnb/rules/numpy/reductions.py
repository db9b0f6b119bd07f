"""Reductions: sum, mean, average (with weights), var, std, prod, max/min (ties split
evenly), the nan-ignoring sum and mean, the cumulative sum and product, and `bincount`'s
sums of weights."""
import math

import numpy as np

from ...errors import DifferentiationError
from .._common import bind, call_bars, float_dtype, to_like, unbroadcast_to
from ..namespaces import is_foreign
from ._base import _axes, _expand, _named, _nones, _safe_div, asarray, register


#: parameter names of np.sum / np.prod (and their ndarray methods), np.max / np.min
_SUM = ("a", "axis", "dtype", "out", "keepdims", "initial", "where")
_MAX = ("a", "axis", "out", "keepdims", "initial", "where")


def _sum_sig(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return axis, keepdims is True, where


def _initial(args, kwargs, names):
    """The `initial=` of a reduction (None when not given): it receives a cotangent too."""
    initial = bind(names, (None,) + tuple(args), kwargs).get("initial")
    return None if initial is np._NoValue else initial


def _mean_sig(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    return axis, keepdims is True, where


def _var_sig(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
             mean=None, correction=None):
    if correction is not None and correction is not np._NoValue:
        ddof = correction
    return axis, keepdims is True, where, ddof


def _max_sig(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    return axis, keepdims is True, where


def sum_rrule(a, *args, **kwargs):
    y = np.sum(a, *args, **kwargs)
    if not args and not kwargs and type(a) is np.ndarray and a.dtype.kind == "f":
        # the whole array: its cotangent is y_bar everywhere, a broadcast view (no buffer filled)
        shape, dtype, small = a.shape, a.dtype, a.size <= 4096

        def sum_all_pullback(y_bar):
            if small and isinstance(y_bar, (float, int, np.generic)):
                return None, np.full(shape, y_bar, dtype=dtype)  # small: filling is cheaper than a view
            # a Dask or CuPy y_bar (the NumPy sum was used with such data) stays in its library
            g = y_bar.astype(dtype) if is_foreign(y_bar) else np.asarray(y_bar, dtype=dtype)
            return None, np.broadcast_to(g, shape)

        return y, sum_all_pullback

    def sum_pullback(y_bar):
        A = asarray(a)
        axis, keepdims, where = _sum_sig(A, *args, **kwargs)
        g = _expand(y_bar, A.shape, _axes(axis, A.ndim), keepdims, like=A)
        if where is not True:
            g = np.where(where, g, 0)
        initial = _initial(args, kwargs, _SUM)
        bars = {"a": to_like(g, a)}  # _expand made an array of its own
        if initial is not None:  # added to every entry of the result
            bars["initial"] = unbroadcast_to(asarray(y_bar), initial)
        return call_bars(_SUM, (a,) + args, kwargs, bars)

    return y, sum_pullback


def mean_rrule(a, *args, **kwargs):
    y = np.mean(a, *args, **kwargs)

    def mean_pullback(y_bar):
        A = asarray(a)
        axis, keepdims, where = _mean_sig(A, *args, **kwargs)
        axes = _axes(axis, A.ndim)
        g = _expand(y_bar, A.shape, axes, keepdims, like=A)
        if where is not True:
            w = np.broadcast_to(where, A.shape)
            g = np.where(w, g / np.sum(w, axis=axes, keepdims=True), 0)
        else:
            g = g / max(1, math.prod(A.shape[i] for i in axes))
        return (None, to_like(g, a)) + _nones(args)

    return y, mean_pullback


def _var_bar(A, y_bar, axis, keepdims, ddof):
    axes = _axes(axis, A.ndim)
    n = math.prod(A.shape[i] for i in axes)
    centered = A - A.mean(axis=axes, keepdims=True)
    g = _expand(y_bar, A.shape, axes, keepdims, like=A)
    return g * (2 / (n - ddof)) * np.conj(centered)


def var_rrule(a, *args, **kwargs):
    y = np.var(a, *args, **kwargs)

    def var_pullback(y_bar):
        A = asarray(a)
        axis, keepdims, where, ddof = _var_sig(A, *args, **kwargs)
        _no_where(where, "var")
        # the variance is real: only the real part of its cotangent counts
        return (None, to_like(_var_bar(A, np.real(y_bar), axis, keepdims, ddof), a)) + _nones(args)

    return y, var_pullback


def std_rrule(a, *args, **kwargs):
    y = np.std(a, *args, **kwargs)

    def std_pullback(y_bar):
        A = asarray(a)
        axis, keepdims, where, ddof = _var_sig(A, *args, **kwargs)
        _no_where(where, "std")
        # d std = d var / (2 std); where std is 0 (one entry, or equal entries) take the subgradient
        # 0 (also when rounding leaves it a few ulps above 0)
        axes = _axes(axis, A.ndim)
        scale = np.max(np.abs(A), axis=axes, keepdims=keepdims) if A.size else 0.0
        Y = np.where(asarray(y) <= 8 * np.finfo(float_dtype(A)).eps * scale, 0, y)
        var_bar = _safe_div(np.real(y_bar), 2 * Y)
        return (None, to_like(_var_bar(A, var_bar, axis, keepdims, ddof), a)) + _nones(args)

    return y, std_pullback


def _no_where(where, name):
    if where is not True:
        raise DifferentiationError(f"np.{name}(..., where=...) has no differentiation rule")


def _exclusive_prod(A, axes):
    """For each entry, the product of the other entries of its reduction group (exact with zeros)."""
    k = len(axes)
    if k == 0:
        return np.ones_like(A)
    moved = np.moveaxis(A, axes, tuple(range(A.ndim - k, A.ndim)))
    flat = moved.reshape(moved.shape[: A.ndim - k] + (-1,))
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    P = (left * right).reshape(moved.shape)
    return np.moveaxis(P, tuple(range(A.ndim - k, A.ndim)), axes)


def prod_rrule(a, *args, **kwargs):
    y = np.prod(a, *args, **kwargs)

    def prod_pullback(y_bar):
        A = asarray(a)
        if A.dtype.kind not in "fc":
            A = A.astype(np.float64)
        axis, keepdims, where = _sum_sig(A, *args, **kwargs)
        _no_where(where, "prod")
        axes = _axes(axis, A.ndim)
        g = _expand(y_bar, A.shape, axes, keepdims, like=A) * _exclusive_prod(A, axes)
        initial = _initial(args, kwargs, _SUM)
        bars = {}
        if initial is not None:  # a factor of every entry of the result
            g = g * initial
            bars["initial"] = unbroadcast_to(asarray(y_bar) * np.prod(A, axis=axes, keepdims=keepdims), initial)
        bars["a"] = to_like(g, a)
        return call_bars(_SUM, (a,) + args, kwargs, bars)

    return y, prod_pullback


def _extremum_rule(f):
    name = f.__name__

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)

        def pullback(y_bar):
            A = asarray(a)
            axis, keepdims, where = _max_sig(A, *args, **kwargs)
            _no_where(where, name)
            axes = _axes(axis, A.ndim)
            ye = _expand(y, A.shape, axes, keepdims, like=A)
            mask = A == ye
            if A.dtype.kind in "fc":
                mask |= np.isnan(A) & np.isnan(ye)
            # ties share the gradient evenly; `initial=` is one more candidate
            initial = _initial(args, kwargs, _MAX)
            count = np.sum(mask, axis=axes, keepdims=True)
            if initial is not None:
                won = _expand(np.equal(y, initial), count.shape, axes, keepdims)
                count = count + won
            count = np.maximum(count, 1)
            g = _expand(y_bar, A.shape, axes, keepdims, like=A) * mask / count
            bars = {"a": to_like(g, a)}
            if initial is not None:
                share = np.reshape(won / count, np.shape(y))
                bars["initial"] = unbroadcast_to(asarray(y_bar) * share, initial)
            return call_bars(_MAX, (a,) + args, kwargs, bars)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def nansum_rrule(a, *args, **kwargs):
    y = np.nansum(a, *args, **kwargs)

    def nansum_pullback(y_bar):
        A = asarray(a)
        axis, keepdims, where = _sum_sig(A, *args, **kwargs)
        _no_where(where, "nansum")
        g = np.where(np.isnan(A), 0, _expand(y_bar, A.shape, _axes(axis, A.ndim), keepdims, like=A))
        return (None, to_like(g, a)) + _nones(args)

    return y, nansum_pullback


def nanmean_rrule(a, *args, **kwargs):
    y = np.nanmean(a, *args, **kwargs)

    def nanmean_pullback(y_bar):
        A = asarray(a)
        axis, keepdims, where = _mean_sig(A, *args, **kwargs)
        _no_where(where, "nanmean")
        axes = _axes(axis, A.ndim)
        ok = ~np.isnan(A)
        count = np.sum(ok, axis=axes, keepdims=True)
        g = np.where(ok, _expand(y_bar, A.shape, axes, keepdims, like=A) / np.maximum(count, 1), 0)
        return (None, to_like(g, a)) + _nones(args)

    return y, nanmean_pullback


for _f in (np.sum, np.ndarray.sum):
    register(_f, sum_rrule, number_closed=True, generic=True)
for _f in (np.mean, np.ndarray.mean):
    register(_f, mean_rrule, number_closed=True, generic=True)
for _f in (np.var, np.ndarray.var):
    register(_f, var_rrule, number_closed=True, generic=True)
for _f in (np.std, np.ndarray.std):
    register(_f, std_rrule, number_closed=True, generic=True)
for _f in (np.prod, np.ndarray.prod):
    register(_f, prod_rrule, number_closed=True, generic=True)
for _f in (np.max, np.amax, np.min, np.amin):
    register(_f, _extremum_rule(_f), number_closed=True, generic=True)
register(np.ndarray.max, _extremum_rule(np.max), number_closed=True, generic=True)
register(np.ndarray.min, _extremum_rule(np.min), number_closed=True, generic=True)
register(np.nansum, nansum_rrule, number_closed=True, generic=True)
register(np.nanmean, nanmean_rrule, number_closed=True, generic=True)


_AVERAGE = ("a", "axis", "weights", "returned")


def _weights_like(W, shape, given):
    """The weights of np.average laid along the axes `given` (in the order given) of an array
    of `shape`, as NumPy does."""
    if W.shape == tuple(shape):
        return W
    W = np.transpose(W, tuple(int(i) for i in np.argsort(given)))
    return W.reshape(tuple(n if i in given else 1 for i, n in enumerate(shape)))


def average_rrule(*args, **kwargs):
    y = np.average(*args, **kwargs)

    def average_pullback(y_bar):
        p = bind(_AVERAGE, args, kwargs, axis=None, weights=None, returned=False, keepdims=np._NoValue)
        a, axis, weights, returned = (p[k] for k in _AVERAGE)
        keepdims = p["keepdims"] is True
        A = asarray(a)
        if A.dtype.kind not in "fc":
            A = A.astype(np.float64)
        axes = _axes(axis, A.ndim)
        avg_bar, scl_bar = y_bar if returned else (y_bar, None)
        avg = y[0] if returned else y
        G = 0 if avg_bar is None else _expand(avg_bar, A.shape, axes, keepdims, like=A)
        if weights is None:
            n = max(1, math.prod(A.shape[i] for i in axes))
            return call_bars(_AVERAGE, args, kwargs, {"a": to_like(G / n, a)})
        W = asarray(weights)
        given = tuple(int(i) % A.ndim for i in ((axis,) if np.ndim(axis) == 0 else axis)) if axis is not None else ()
        Wb = _weights_like(W, A.shape, given)
        scl = _expand(np.sum(Wb * np.ones(A.shape), axis=axes, keepdims=True), A.shape, (), True)
        # avg = sum(a w) / sum(w): d avg / d a = w / sum(w), d avg / d w = (a - avg) / sum(w)
        a_bar = G * Wb / scl
        w_bar = G * (A - _expand(avg, A.shape, axes, keepdims, like=A)) / scl
        if scl_bar is not None:
            w_bar = w_bar + _expand(scl_bar, A.shape, axes, keepdims, like=A)
        w_bar = unbroadcast_to(asarray(w_bar * np.ones(A.shape)), Wb)
        if W.shape != A.shape:  # back to the layout the weights were given in
            w_bar = w_bar.reshape(tuple(A.shape[i] for i in sorted(given)))
            w_bar = np.transpose(w_bar, tuple(int(i) for i in np.argsort(np.argsort(given))))
        bars = {"a": to_like(np.broadcast_to(a_bar, A.shape), a), "weights": to_like(w_bar, weights)}
        return call_bars(_AVERAGE, args, kwargs, bars)

    return y, average_pullback


_BINCOUNT = ("x", "weights", "minlength")


def bincount_rrule(*args, **kwargs):
    y = np.bincount(*args, **kwargs)

    def bincount_pullback(y_bar):
        # out[k] = sum of weights[i] with x[i] == k: each weight gets the cotangent of its bin
        p = bind(_BINCOUNT, args, kwargs, weights=None)
        weights = p["weights"]
        if weights is None or y_bar is None:
            return call_bars(_BINCOUNT, args, kwargs, {})
        w_bar = asarray(y_bar)[np.asarray(p["x"])]
        return call_bars(_BINCOUNT, args, kwargs, {"weights": to_like(w_bar, weights)})

    return y, bincount_pullback


def cumsum_rrule(a, axis=None, *args, **kwargs):
    y = np.cumsum(a, axis, *args, **kwargs)

    def cumsum_pullback(y_bar):
        g = asarray(y_bar)
        if axis is None:
            r = np.flip(np.cumsum(np.flip(g.reshape(-1)))).reshape(np.shape(a))
        else:
            r = np.flip(np.cumsum(np.flip(g, axis), axis), axis)
        return (None, to_like(r, a), None) + _nones(args)

    return y, cumsum_pullback


def cumprod_rrule(a, axis=None, *args, **kwargs):
    y = np.cumprod(a, axis, *args, **kwargs)

    def cumprod_pullback(y_bar):
        A = asarray(a)
        if A.dtype.kind not in "fc":
            A = A.astype(np.float64)
        ax = axis
        if ax is None:
            A = A.reshape(-1)
            ax = 0
        g = np.moveaxis(np.broadcast_to(asarray(y_bar), np.shape(y)).reshape(A.shape), ax, 0)
        Am = np.moveaxis(A, ax, 0)
        n = Am.shape[0]
        if n and np.all(Am != 0):
            Y = np.moveaxis(asarray(y).reshape(A.shape), ax, 0)
            r = np.flip(np.cumsum(np.flip(g * Y, 0), 0), 0) / Am
        else:
            # a_bar[i] = prod(a[:i]) * R[i],  R[i] = g[i] + a[i+1] * R[i+1]   (exact with zeros)
            left = np.cumprod(np.concatenate([np.ones_like(Am[:1]), Am[:-1]]), 0)
            rows = []
            acc = 0
            for i in range(n - 1, -1, -1):
                acc = g[i] + (Am[i + 1] * acc if i + 1 < n else 0)
                rows.append(acc)
            shape = np.broadcast_shapes(g.shape, Am.shape)
            # (stacked: a Dask or CuPy y_bar's rows stay in its library)
            R = np.stack([np.broadcast_to(v, shape[1:]) for v in rows[::-1]]) if n else np.zeros(shape)
            r = left * R
        r = np.moveaxis(r, 0, ax).reshape(np.shape(a))
        return (None, to_like(r, a), None) + _nones(args)

    return y, cumprod_pullback


register(np.average, average_rrule, number_closed=True, generic=True)
register(np.bincount, bincount_rrule)
for _f in (np.cumsum, np.ndarray.cumsum):
    register(_f, cumsum_rrule, generic=True)
# whether an entry is 0 decides the pullback: known for a NumPy operand only
for _f in (np.cumprod, np.ndarray.cumprod):
    register(_f, cumprod_rrule, cotangents=True)
