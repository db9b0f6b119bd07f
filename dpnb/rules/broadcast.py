"""Un-broadcasting: sum a cotangent back to the shape of the operand it belongs to.

Every binary NumPy rule calls `unbroadcast` and nothing else for this.
"""
import numbers

import numpy as np

from .namespaces import is_foreign


class Like:
    """What `unbroadcast` needs of a large array operand: its shape and dtype, not its data (a
    pullback that keeps only this lets the array be freed when nothing else needs it)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, x):
        self.shape, self.dtype = x.shape, x.dtype


def operand(x):
    """What a pullback keeps of an operand it only un-broadcasts to: a `Like` for a large array."""
    if type(x) is np.ndarray and x.size > 1024:
        return Like(x)
    return x


def unbroadcast(g, x):
    """Sum `g` down to the shape of `x` (an array, a NumPy scalar or a Python number).

    >>> unbroadcast(np.ones((2, 3)), np.zeros(3))
    array([2., 2., 2.])
    >>> unbroadcast(np.ones((2, 3)), 1.0)
    6.0
    """
    tg = type(g)
    whole = type(x) is Like or isinstance(x, np.ndarray)  # a `Like` stands for its array
    if tg is not np.ndarray and (is_foreign(g) or is_foreign(x)):
        return _unbroadcast_foreign(g, x)
    if tg is not np.ndarray:
        if whole and len(x.shape) == 0:
            # a scalar cotangent for an array operand: made an array only when x is 0-d
            return np.asarray(g, dtype=_float_dtype(x)).reshape(x.shape)
        return g
    if whole:
        shape = x.shape
        if g.shape != shape:
            g = _sum_to(g, shape)
        if x.dtype.kind not in "fc" or g.dtype != x.dtype:
            g = _as_float_like(g, x)
        return g
    # x is a Python or NumPy scalar
    s = g.sum() if g.ndim else g[()]
    if isinstance(x, complex) or np.iscomplexobj(x):
        return complex(s) if type(x) is complex else s
    if type(x) in (float, int) and not np.iscomplexobj(s):
        return float(s)
    if isinstance(x, numbers.Rational) and not isinstance(x, (int, np.integer)):
        return s
    return s


def _unbroadcast_foreign(g, x):
    """`unbroadcast` when `g` or `x` is a Dask or CuPy array: the sum stays in `g`'s library
    (a number operand of a Dask computation gets a lazy 0-d Dask array, not a computed float)."""
    if not hasattr(g, "shape"):  # a number for an array operand
        if is_foreign(x) and x.ndim == 0:
            return np.full_like(x, g, dtype=_float_dtype(x))
        return g
    shape = np.shape(x) if hasattr(x, "shape") or not isinstance(x, (list, tuple)) else _seq_shape(x)
    if g.shape != shape:
        g = _sum_to(g, shape)
    if hasattr(x, "dtype"):
        if np.iscomplexobj(g) and not np.iscomplexobj(x):
            g = g.real
        want = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.result_type(g.dtype, np.float64)
        if g.dtype != want:
            g = g.astype(want)
    elif np.iscomplexobj(g) and not isinstance(x, complex):
        g = g.real
    return g


def _seq_shape(x):
    """The shape of the (rectangular) nested list or tuple `x`, read without converting its
    items (which may be Dask or CuPy arrays)."""
    if not isinstance(x, (list, tuple)):
        return tuple(np.shape(x)) if hasattr(x, "shape") or isinstance(x, numbers.Number) else ()
    return (len(x),) + (_seq_shape(x[0]) if len(x) else ())


def _sum_to(g, shape):
    nd = g.ndim - len(shape)
    if nd > 0:
        g = g.sum(axis=tuple(range(nd)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _float_dtype(x):
    dt = x.dtype if isinstance(x, np.ndarray) or is_foreign(x) else np.asarray(x).dtype
    return dt if np.issubdtype(dt, np.inexact) else np.float64


def _as_float_like(g, x):
    """Integer and boolean primals get float64 cotangents; float32 stays float32."""
    want = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.result_type(g.dtype, np.float64)
    if np.iscomplexobj(g) and x.dtype.kind != "c":
        g = g.real
    return g.astype(want, copy=False)
