"""What the NumPy rule files share: registration with the pullback fitted to the call,
the namespace of the one-line elementwise rules, and small array helpers."""
import math

import numpy as np

from ...errors import DifferentiationError, NoRuleError
from .. import registry
from ..namespaces import FOREIGN_COTANGENTS, GENERIC, any_foreign, broadcast_like, is_foreign, library


def _exact_arity(rule, f=None):
    """Wrap `rule` so that its pullback returns exactly one cotangent per positional
    argument of the call (rules written with NumPy's signature list the defaults too),
    followed by the dict of keyword cotangents when the rule returns one. A rule that is
    not namespace-generic refuses Dask and CuPy arrays, and unless it is in
    `FOREIGN_COTANGENTS` their cotangents too (see `namespaces`)."""

    # plain Python only: second derivatives differentiate rules with the source transform
    def wrapped(*args, **kwargs):
        if f not in GENERIC and any_foreign(args, kwargs):
            refuse_foreign(f, args, kwargs)
        y, pullback = rule(*args, **kwargs)
        numpy_only = f not in GENERIC and f not in FOREIGN_COTANGENTS
        return y, _fitted(pullback, len(args) + 1, f if numpy_only else None)

    for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
        setattr(wrapped, attr, getattr(rule, attr, None))
    return wrapped


def _fitted(pullback, n, numpy_only=None):
    """`pullback`, returning `n` entries; `numpy_only`: the callable whose rule computes with
    NumPy only, which refuses a Dask or CuPy cotangent (its NumPy operands feed a computation
    on Dask or CuPy data) rather than convert it."""

    def fitted_pullback(y_bar):
        if numpy_only is not None and type(y_bar) is not np.ndarray and foreign_cotangent(y_bar):
            refuse_foreign_cotangent(numpy_only, y_bar)
        bars = pullback(y_bar)
        if bars and type(bars[-1]) is dict:  # keyword cotangents come last
            return bars[: min(n, len(bars) - 1)] + (None,) * (n - len(bars) + 1) + (bars[-1],)
        return bars[:n] + (None,) * (n - len(bars))

    return fitted_pullback


def register(f, rule, *, number_closed=False, generic=False, cotangents=False):
    """`registry.register`, with the pullback fitted to the call's positional arguments;
    `generic=True`: the rule computes in its operands' namespace (Dask and CuPy arrays too);
    `cotangents=True`: it refuses Dask and CuPy operands, but given NumPy operands it takes a
    Dask or CuPy cotangent and computes the operands' cotangents in that library."""
    if generic:
        GENERIC.add(f)
    if cotangents:
        FOREIGN_COTANGENTS.add(f)
    return registry.register(f, _exact_arity(rule, f), number_closed=number_closed)


def refuse_foreign(f, args, kwargs):
    """A Dask or CuPy operand reached a rule that would convert it to NumPy: a NoRuleError."""
    libs = sorted({library(a) for a in list(args) + list(kwargs.values()) if is_foreign(a)} or {"dask or cupy"})
    raise NoRuleError(
        f,
        f"its rule works on NumPy arrays only, and it was given a {' and a '.join(libs)} array; "
        "it would move the data onto one machine (or off the GPU)",
    )


def foreign_cotangent(y_bar):
    """Whether the cotangent `y_bar` is (or, for a list or tuple of results, holds) a Dask or
    CuPy array."""
    if is_foreign(y_bar):
        return True
    return isinstance(y_bar, (list, tuple)) and any(is_foreign(b) for b in y_bar)


def refuse_foreign_cotangent(f, y_bar):
    """A Dask or CuPy cotangent reached a rule that would convert it to NumPy: a NoRuleError."""
    libs = sorted({library(b) for b in (y_bar if isinstance(y_bar, (list, tuple)) else (y_bar,)) if is_foreign(b)})
    raise NoRuleError(
        f,
        f"its rule works on NumPy arrays only, and its result feeds a computation on {' and '.join(libs)} "
        "arrays (its cotangent is one); it would move the data onto one machine (or off the GPU)",
    )


registry.constant(any_foreign, refuse_foreign, foreign_cotangent, refuse_foreign_cotangent)


def asarray(x):
    """`np.asarray(x)`, except that a Dask or CuPy array stays as it is."""
    return x if is_foreign(x) else np.asarray(x)


def zeros(shape, dtype, like):
    """Zeros of `shape` in the library of the array `like` (NumPy for NumPy arrays and numbers)."""
    if is_foreign(like):
        if tuple(shape) == like.shape:
            return np.zeros_like(like, dtype=dtype)
        from ..namespaces import namespace

        return namespace(like).zeros(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


#: the namespace of the scalar-rule expressions (Python floats: they keep float32 float32)
NS = dict(vars(np))
NS.update(LN2=math.log(2.0), LN10=math.log(10.0), DEG=math.pi / 180, RAD=180 / math.pi)


def _nones(args):
    return (None,) * len(args)


def _named(name, rule):
    rule.__name__ = rule.__qualname__ = name
    return rule


def _inverse(order):
    """The permutation that undoes the axis order `order`, as a tuple of ints (what every
    library's transpose takes; Dask's reads an array of them as a truth value)."""
    inv = [0] * len(order)
    for i, a in enumerate(order):
        inv[int(a)] = i
    return tuple(inv)


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _axes(axis, ndim):
    """`axis` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim for a in axis)) if ndim else ()


def _expand(g, shape, axes, keepdims, like=None):
    """The cotangent `g` of a reduction over `axes`, broadcast back to `shape` (that of the
    reduced array `like`, in whose library it is made when that is Dask or CuPy)."""
    if is_foreign(g) or is_foreign(like):
        if not keepdims and axes:
            g = np.expand_dims(g, axes) if hasattr(g, "ndim") else np.reshape(g, (1,) * len(shape))
        return broadcast_like(g, like) if is_foreign(like) else np.broadcast_to(g, shape)
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
