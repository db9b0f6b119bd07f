"""Arrays built from values rather than from shapes: `full`, `full_like`, `meshgrid`, `arange`.

(`zeros`, `ones`, `eye`, ... build from shapes alone and are in the table of constants.)"""
import numpy as np

from .._common import bind, call_bars, has_tangent, to_like
from ._base import _named, asarray, register

_FULL = ("shape", "fill_value", "dtype", "order")
_FULL_LIKE = ("a", "fill_value", "dtype", "order", "subok", "shape")


def _fill_bar(y_bar, fill):
    """The cotangent of a fill value broadcast to the whole output: the sum over what it filled."""
    if not has_tangent(fill):
        return None
    f = asarray(fill)
    g = asarray(y_bar)
    lead = g.ndim - f.ndim
    g = g.sum(axis=tuple(range(lead))) if lead > 0 else g
    keep = tuple(i for i, n in enumerate(f.shape) if n == 1 and g.shape[i] != 1)
    if keep:
        g = g.sum(axis=keep, keepdims=True)
    return to_like(g, fill)


def full_rrule(*args, **kwargs):
    y = np.full(*args, **kwargs)
    v = bind(_FULL, args, kwargs)

    def full_pullback(y_bar):
        return call_bars(_FULL, args, kwargs, {"fill_value": _fill_bar(y_bar, v["fill_value"])})

    return y, full_pullback


def full_like_rrule(*args, **kwargs):
    y = np.full_like(*args, **kwargs)
    v = bind(_FULL_LIKE, args, kwargs)

    def full_like_pullback(y_bar):
        return call_bars(_FULL_LIKE, args, kwargs, {"fill_value": _fill_bar(y_bar, v["fill_value"])})

    return y, full_like_pullback


def meshgrid_rrule(*xi, **kwargs):
    """Each output is its input vector laid along one axis (two swapped with indexing='xy')."""
    ys = np.meshgrid(*xi, **kwargs)
    n = len(xi)
    xy = kwargs.get("indexing", "xy") == "xy" and n >= 2

    def meshgrid_pullback(y_bar):
        bars = []
        for i, x in enumerate(xi):
            g = y_bar[i] if i < len(y_bar) else None
            if g is None or not has_tangent(x):
                bars.append(None)
                continue
            axis = (1 if i == 0 else 0 if i == 1 else i) if xy else i
            G = asarray(g)
            other = tuple(a for a in range(G.ndim) if a != axis)
            bars.append(to_like(G.sum(axis=other).reshape(np.shape(x)), x))
        return (None,) + tuple(bars)

    return ys if isinstance(ys, tuple) else type(ys)(ys), meshgrid_pullback


def arange_rrule(*args, **kwargs):
    """`arange(start, stop, step)`: entry k is start + k * step (the length does not move)."""
    y = np.arange(*args, **kwargs)
    names = ("start", "stop", "step") if len(args) >= 2 else ("stop",)
    v = bind(names, args, kwargs)
    if len(args) < 2 and "start" in kwargs:
        v = bind(("start", "stop", "step"), args, kwargs)
        names = ("start", "stop", "step")

    def arange_pullback(y_bar):
        g = asarray(y_bar)
        bars = {}
        if len(names) > 1 and has_tangent(v.get("start")) and v.get("start") is not None:
            bars["start"] = to_like(g.sum(), v["start"])
        if v.get("step") is not None and has_tangent(v["step"]):
            bars["step"] = to_like((g * np.arange(g.size)).sum(), v["step"])
        return call_bars(names, args, kwargs, bars)

    return y, arange_pullback


# Dask builds these from numbers (a Dask fill value would be computed): NumPy values only, whose
# cotangents follow a Dask or CuPy cotangent into its library
register(np.full, _named("full_rrule", full_rrule), cotangents=True)
register(np.full_like, _named("full_like_rrule", full_like_rrule), cotangents=True)
register(np.meshgrid, _named("meshgrid_rrule", meshgrid_rrule), generic=True)
register(np.arange, _named("arange_rrule", arange_rrule), cotangents=True)
