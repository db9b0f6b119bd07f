"""Methods of the arithmetic ufuncs: `np.add.reduce` and `np.multiply.reduce` (np.sum and
np.prod along axis 0 by default), `np.add.accumulate` and `np.multiply.accumulate` (np.cumsum
and np.cumprod along axis 0 by default), and the outer forms of add, subtract and multiply.

They are registered for the bound methods themselves (`np.add.reduce`, ...), which compare
and hash equal each time they are looked up.
"""
import numpy as np

from .._common import has_tangent, to_like
from ._base import _named, asarray, register
from .reductions import cumprod_rrule, cumsum_rrule, prod_rrule, sum_rrule


def add_reduce_rrule(array, axis=0, *args, **kwargs):
    return sum_rrule(array, axis, *args, **kwargs)


def multiply_reduce_rrule(array, axis=0, *args, **kwargs):
    return prod_rrule(array, axis, *args, **kwargs)


def add_accumulate_rrule(array, axis=0, *args, **kwargs):
    return cumsum_rrule(array, axis, *args, **kwargs)


def multiply_accumulate_rrule(array, axis=0, *args, **kwargs):
    return cumprod_rrule(array, axis, *args, **kwargs)


def _outer_rule(ufunc, b_sign, product):
    """`ufunc.outer(a, b)[i..., j...] = ufunc(a[i...], b[j...])` for add, subtract, multiply."""
    name = f"{ufunc.__name__}_outer"

    def rule(a, b, **kwargs):
        y = ufunc.outer(a, b, **kwargs)

        def pullback(y_bar):
            A, B, G = asarray(a), asarray(b), asarray(y_bar)
            na, nb = A.ndim, B.ndim
            if product:  # d(a * b): b pulls back a's part of y_bar, a pulls back b's part
                a_bar = np.tensordot(G, B, axes=nb) if has_tangent(a) else None
                b_bar = np.tensordot(A, G, axes=na) if has_tangent(b) else None
            else:
                a_bar = G.sum(axis=tuple(range(na, na + nb)))
                b_bar = b_sign * G.sum(axis=tuple(range(na)))
            return None, to_like(a_bar, a), to_like(b_bar, b)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


# the rules of np.sum, np.prod, np.cumsum (namespace-generic) and np.cumprod
register(np.add.reduce, add_reduce_rrule, number_closed=True, generic=True)
register(np.multiply.reduce, multiply_reduce_rrule, number_closed=True, generic=True)
register(np.add.accumulate, add_accumulate_rrule, generic=True)
register(np.multiply.accumulate, multiply_accumulate_rrule, cotangents=True)
register(np.add.outer, _outer_rule(np.add, 1, False), generic=True)
register(np.subtract.outer, _outer_rule(np.subtract, -1, False), generic=True)
register(np.multiply.outer, _outer_rule(np.multiply, 1, True), generic=True)
