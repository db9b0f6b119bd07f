"""What the NumPy rule files share: registration with the pullback fitted to the call,
the namespace of the one-line elementwise rules, and small array helpers."""
import math

import numpy as np

from ...errors import DifferentiationError
from .. import registry


def _exact_arity(rule):
    """Wrap `rule` so that its pullback returns exactly one cotangent per positional
    argument of the call (rules written with NumPy's signature list the defaults too),
    followed by the dict of keyword cotangents when the rule returns one."""

    # plain Python only: second derivatives differentiate rules with the source transform
    def wrapped(*args, **kwargs):
        y, pullback = rule(*args, **kwargs)
        return y, _fitted(pullback, len(args) + 1)

    for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
        setattr(wrapped, attr, getattr(rule, attr, None))
    return wrapped


def _fitted(pullback, n):
    def fitted_pullback(y_bar):
        bars = pullback(y_bar)
        if bars and type(bars[-1]) is dict:  # keyword cotangents come last
            return bars[: min(n, len(bars) - 1)] + (None,) * (n - len(bars) + 1) + (bars[-1],)
        return bars[:n] + (None,) * (n - len(bars))

    return fitted_pullback


def register(f, rule, *, number_closed=False):
    """`registry.register`, with the pullback fitted to the call's positional arguments."""
    return registry.register(f, _exact_arity(rule), number_closed=number_closed)


#: the namespace of the scalar-rule expressions (Python floats: they keep float32 float32)
NS = dict(vars(np))
NS.update(LN2=math.log(2.0), LN10=math.log(10.0), DEG=math.pi / 180, RAD=180 / math.pi)


def _nones(args):
    return (None,) * len(args)


def _named(name, rule):
    rule.__name__ = rule.__qualname__ = name
    return rule


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _axes(axis, ndim):
    """`axis` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim for a in axis)) if ndim else ()


def _expand(g, shape, axes, keepdims):
    """The cotangent `g` of a reduction over `axes`, broadcast back to `shape`."""
    g = np.asarray(g)
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    # an array of its own (not a broadcast view), so that differentiating this rule again never
    # meets a view whose entries share memory
    return g + np.zeros(shape, dtype=g.dtype if g.dtype.kind in "fc" else np.float64)


def _safe_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0, np.divide(a, np.where(b == 0, 1, b)))


def _unit(X):
    """sign(X), or conj(X) / |X| for complex X (the cotangent direction of |X|)."""
    if np.iscomplexobj(X):
        return _safe_div(np.conj(X), np.abs(X))
    return np.sign(X)


def _real_only(A, name):
    if np.iscomplexobj(A):
        raise DifferentiationError(f"np.linalg.{name} has a differentiation rule for real matrices only")
