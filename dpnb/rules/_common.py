"""Helpers shared by the rule files: cotangents in the kind of their primal.

Every rule hands back a cotangent "of the same kind" as its argument (SPEC §3):
a number for a number (a Python float for Python int/float), an ndarray of the
argument's shape and a floating dtype for an array, a list for a list, a tuple
(or the same named tuple class) for a tuple, `None` for what has no tangent
(`bool`, `str`, `None`, boolean arrays). The functions here do those conversions
in one place so that rules stay one-liners.
"""
import cmath
import math
import numbers
from fractions import Fraction

import numpy as np

from ..tangents import accumulate
from .broadcast import unbroadcast

__all__ = [
    "accumulate",
    "float_dtype",
    "has_tangent",
    "is_complex",
    "seq_bar",
    "to_like",
    "unbroadcast_to",
    "zero_like",
]


def has_tangent(x):
    """Whether `x` can carry a gradient (numbers and numeric arrays, not bool/str/None)."""
    t = type(x)
    if t is bool or t is np.bool_ or x is None or t is str or t is bytes:
        return False
    if t is np.ndarray:
        return x.dtype.kind in "iufc"
    return True


def is_complex(x):
    return isinstance(x, complex) or np.iscomplexobj(x)


def float_dtype(x):
    """The dtype of the cotangent of the array (or NumPy scalar) `x`."""
    dt = np.asarray(x).dtype
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _real_if_needed(g, x):
    if g is not None and not is_complex(x) and is_complex(g):
        return g.real
    return g


def unbroadcast_to(g, x):
    """`g`, summed to the shape of the operand `x`, in the kind of `x`.

    The one place binary NumPy and operator rules reduce a broadcast cotangent:
    on top of `broadcast.unbroadcast` it gives `None` to operands with no tangent,
    a list/tuple to list/tuple operands of a NumPy function, and a real cotangent
    to a real operand of a complex operation.

    >>> unbroadcast_to(np.ones((2, 3)), np.zeros(3))
    array([2., 2., 2.])
    >>> unbroadcast_to(np.ones(2), [1.0, 2.0])
    [1.0, 1.0]
    >>> unbroadcast_to(np.ones(2), True) is None
    True
    """
    if g is None or not has_tangent(x):
        return None
    tx = type(x)
    if (tx is float or tx is int) and type(g) is float:
        return g  # plain numbers: nothing to reduce
    if not isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        return g  # a user object (its cotangent is a Tangent): nothing to reduce
    if tx is list or tx is tuple or (isinstance(x, tuple) and hasattr(x, "_fields")):
        arr = np.asarray(x)
        if arr.dtype.kind not in "iufc":
            return None
        return to_like(unbroadcast(np.asarray(g), arr), x)
    g = unbroadcast(g, x)
    g = _real_if_needed(g, x)
    if tx is np.ndarray and type(g) is not np.ndarray:  # a 0-d array operand
        g = np.asarray(g, dtype=float_dtype(x)).reshape(x.shape)
    if tx is float or tx is int:
        if type(g) is not float and isinstance(g, (np.floating, np.integer)):
            g = float(g)
    return g


def to_like(g, x):
    """The array-like cotangent `g` (already of shape `np.shape(x)`) in the kind of `x`.

    >>> to_like(np.array([1, 2]), (3, 4))
    (1.0, 2.0)
    >>> to_like(np.float64(2.5), 1)
    2.5
    """
    if g is None or not has_tangent(x):
        return None
    tx = type(x)
    if tx is np.ndarray:
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(g, x.shape)
        g = _real_if_needed(g, x)
        want = float_dtype(x)
        if g.dtype != want:
            g = g.astype(want)
        return g
    if tx is list:
        g = np.asarray(g) if not isinstance(g, (list, tuple)) else g
        return [to_like(g[i], xi) for i, xi in enumerate(x)]
    if isinstance(x, tuple):
        g = np.asarray(g) if not isinstance(g, (list, tuple)) else g
        items = [to_like(g[i], xi) for i, xi in enumerate(x)]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(g, np.ndarray):
        g = g[()] if g.ndim == 0 else g.sum()
    g = _real_if_needed(g, x)
    if tx is float or tx is int:
        return float(g) if not isinstance(g, Fraction) else g
    if tx is complex:
        return complex(g)
    if isinstance(x, np.generic):
        return np.asarray(g).astype(float_dtype(x))[()]
    return g


def zero_like(x):
    """A zero cotangent of the kind of `x` (for piecewise-constant functions such as `round`).

    >>> zero_like(3), zero_like(Fraction(1, 2)), zero_like(np.arange(2))
    (0.0, Fraction(0, 1), array([0., 0.]))
    """
    if not has_tangent(x):
        return None
    tx = type(x)
    if tx is float or tx is int:
        return 0.0
    if tx is complex:
        return 0j
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, float_dtype(x))
    if isinstance(x, np.generic):
        return float_dtype(x).type(0)
    if isinstance(x, numbers.Number):
        return x * 0
    return None


def seq_bar(x, bars):
    """Cotangents of the elements of the iterable `x`, gathered in the kind of `x`.

    A list gets a list, a tuple a tuple (a named tuple its own class), an ndarray an
    ndarray (`None` entries as zeros), a dict view a dict; `None` when every
    element's cotangent is `None` or `x` has no tangent (a str, a range, a set).

    >>> seq_bar([1.0, 2.0], [None, 3.0])
    [None, 3.0]
    >>> seq_bar(np.array([1.0, 2.0]), [None, 3.0])
    array([0., 3.])
    """
    bars = list(bars)
    if all(b is None for b in bars):
        return None
    tx = type(x)
    if tx is list:
        return bars
    if isinstance(x, tuple):
        return type(x)(*bars) if hasattr(x, "_fields") else tuple(bars)
    if tx is np.ndarray:
        if x.dtype.kind not in "iufc":
            return None
        out = np.zeros(x.shape, float_dtype(x))
        for i, b in enumerate(bars):
            if b is not None:
                out[i] = np.real(b) if not np.iscomplexobj(out) else b
        return out
    if isinstance(x, (str, bytes, range, set, frozenset, dict)) or tx.__name__ == "dict_keys":
        return None
    if tx.__name__ == "dict_values":
        return {k: b for k, b in zip(x.mapping, bars) if b is not None}
    if tx.__name__ == "dict_items":
        return {
            k: b[1]
            for k, b in zip(x.mapping, bars)
            if b is not None and b[1] is not None
        }
    return bars


# --- arithmetic shared by operator, builtin, math and NumPy rules -----------------------


def _is_array(x):
    return isinstance(x, (np.ndarray, np.generic))


def _is_integer_valued(x):
    """Python ints, NumPy integer scalars and integer arrays (an exponent with no gradient)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in "iu"


def pow_bars(a, b, y, y_bar):
    """Cotangents of base and exponent of `y = a ** b`.

    Base: `y_bar * b * a ** (b - 1)`, zero where `b == 0` (so `0 ** -1` is never
    formed), exact for `Fraction ** int`. Exponent: `y_bar * y * log(a)`, with the
    limit 0 at `a == 0` and nan for a negative real base; `None` for an integer
    exponent of an array base (an exponent that cannot vary).
    """
    seqs = (list, tuple)
    if not (_is_array(a) or _is_array(b) or isinstance(a, seqs) or isinstance(b, seqs)):
        return _pow_bars_number(a, b, y, y_bar)
    aa = np.asarray(a) if isinstance(a, seqs) else a
    bb = np.asarray(b) if isinstance(b, seqs) else b
    a_bar = b_bar = None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if has_tangent(a):
            af = np.asarray(aa)
            if af.dtype.kind not in "fc":
                af = af.astype(np.float64)
            d = bb * af ** (bb - 1)
            if np.any(np.equal(bb, 0)):
                d = np.where(np.equal(bb, 0), 0, d)
            a_bar = unbroadcast_to(y_bar * d, a)
        if has_tangent(b) and not (_is_integer_valued(bb) and isinstance(aa, np.ndarray)):
            if is_complex(aa) or is_complex(y):
                factor = y * np.log(np.asarray(aa, dtype=np.result_type(aa, np.complex64)))
            else:
                factor = y * np.log(np.where(np.greater(aa, 0), aa, 1))
                factor = np.where(np.less(aa, 0), np.nan, factor)
            b_bar = unbroadcast_to(y_bar * factor, b)
    return a_bar, b_bar


def _pow_bars_number(a, b, y, y_bar):
    a_bar = b_bar = None
    if has_tangent(a):
        if b == 0:
            a_bar = y_bar * 0
        else:
            try:
                a_bar = y_bar * b * a ** (b - 1)
            except ZeroDivisionError:  # 0 ** (b - 1) with 0 < b < 1: infinite slope
                a_bar = y_bar * b * math.inf
        a_bar = unbroadcast_to(a_bar, a)
    if has_tangent(b):
        if isinstance(y, complex) or isinstance(a, complex):
            b_bar = y_bar * y * cmath.log(a) if a != 0 else y_bar * 0
        elif a > 0:
            b_bar = y_bar * y * math.log(a)
        elif a == 0:
            b_bar = y_bar * 0 if b > 0 else y_bar * math.nan
        else:
            b_bar = y_bar * math.nan
        b_bar = unbroadcast_to(b_bar, b)
    return a_bar, b_bar


def abs_bar(x, y, y_bar):
    """Cotangent of `x` for `y = abs(x)`: `y_bar * sign(x)`, 0 at 0; `conj(x) / |x|` for complex."""
    if not has_tangent(x):
        return None
    if _is_array(x):
        if is_complex(x):
            with np.errstate(divide="ignore", invalid="ignore"):
                d = np.where(y == 0, 0, np.conj(x) / np.where(y == 0, 1, y))
        else:
            d = np.sign(x)
        return unbroadcast_to(y_bar * d, x)
    if isinstance(x, complex):
        return y_bar * x.conjugate() / y if y else y_bar * 0j
    return unbroadcast_to(y_bar * ((x > 0) - (x < 0)), x)
