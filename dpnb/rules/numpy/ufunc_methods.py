"""Methods of the arithmetic ufuncs: `np.add.reduce` and `np.multiply.reduce` (np.sum and
np.prod along axis 0 by default), `np.maximum.reduce` and `np.minimum.reduce` (np.max and np.min,
which NumPy's own `np.ptp` calls), `np.add.accumulate` and `np.multiply.accumulate` (np.cumsum
and np.cumprod along axis 0 by default), and the outer forms of add, subtract and multiply.

They are registered for the bound methods themselves (`np.add.reduce`, ...), which compare
and hash equal each time they are looked up.

Also the call of an `np.vectorize` object, a ufunc made of a Python function: the function is
called on each entry of the broadcast arguments, each call differentiated as the user's code
(NumPy's own `vectorize.__call__` reads its arguments by `.flat`, out of the gradient's sight).
"""
import numpy as np

from ...errors import DifferentiationError
from ...tangents import Tangent
from .._common import bind, has_tangent, to_like, unbroadcast_to
from ._base import _named, asarray, register
from .reductions import _extremum_rule, cumprod_rrule, cumsum_rrule, prod_rrule, sum_rrule


def add_reduce_rrule(array, axis=0, *args, **kwargs):
    return sum_rrule(array, axis, *args, **kwargs)


def multiply_reduce_rrule(array, axis=0, *args, **kwargs):
    return prod_rrule(array, axis, *args, **kwargs)


def add_accumulate_rrule(array, axis=0, *args, **kwargs):
    return cumsum_rrule(array, axis, *args, **kwargs)


def multiply_accumulate_rrule(array, axis=0, *args, **kwargs):
    return cumprod_rrule(array, axis, *args, **kwargs)


_REDUCE = ("axis", "dtype", "out", "keepdims", "initial", "where")


def _extremum_reduce_rule(ufunc, extremum):
    """`np.maximum.reduce(a, axis=0, dtype, out, keepdims, initial, where)` as `np.max(a, axis,
    keepdims=..., initial=..., where=...)`, its cotangents laid out as the method's."""
    name = f"{ufunc.__name__}_reduce"
    rule = _extremum_rule(extremum)

    def reduce_rrule(array, *args, **kwargs):
        v = bind(_REDUCE, args, kwargs)
        if v.pop("dtype", None) is not None or v.pop("out", None) is not None:
            raise DifferentiationError(f"np.{name} with dtype= or out=: write np.{extremum.__name__} instead")
        axis = v.pop("axis", 0)
        y, pb = rule(array, axis, **v)

        def pullback(y_bar):
            bars = pb(y_bar)
            kw = bars[3] if len(bars) > 3 else None
            out = [None, bars[1]] + [None] * len(args)
            initial = kw.get("initial") if kw else None
            if initial is not None:
                if len(args) > _REDUCE.index("initial"):
                    out[2 + _REDUCE.index("initial")] = initial
                else:
                    return tuple(out) + ({"initial": initial},)
            return tuple(out)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", reduce_rrule)


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
register(np.maximum.reduce, _extremum_reduce_rule(np.maximum, np.max), number_closed=True, generic=True)
register(np.minimum.reduce, _extremum_reduce_rule(np.minimum, np.min), number_closed=True, generic=True)
register(np.add.accumulate, add_accumulate_rrule, generic=True)
register(np.multiply.accumulate, multiply_accumulate_rrule, cotangents=True)
register(np.add.outer, _outer_rule(np.add, 1, False), generic=True)
register(np.subtract.outer, _outer_rule(np.subtract, -1, False), generic=True)
register(np.multiply.outer, _outer_rule(np.multiply, 1, True), generic=True)


def vectorize_call_rrule(self, *args, **kwargs):
    from ...core.runtime import call

    if self.signature is not None or self.excluded or kwargs or not args:
        from ...errors import user_location

        raise DifferentiationError(
            f"np.vectorize is differentiated for positional arguments only, with no `signature` or "
            f"`excluded` ({user_location()}); call the function in a loop, or on the arrays themselves"
        )
    arrays = np.broadcast_arrays(*[np.asarray(a) for a in args])
    shape = arrays[0].shape
    if arrays[0].size == 0:
        return self(*args), _named("vectorize_pullback", lambda y_bar: (None,) * (len(args) + 2))
    # the entries as Python numbers, as NumPy hands them to the function
    items = [np.ravel(a).tolist() for a in arrays]
    results = [call(self.pyfunc, *entries) for entries in zip(*items)]
    values = [r[0] for r in results]
    if isinstance(values[0], tuple):
        from ...errors import user_location

        raise DifferentiationError(
            f"np.vectorize of a function with several outputs is not differentiated ({user_location()}); "
            "vectorize one function per output"
        )
    otype = self.otypes[0] if self.otypes else np.asarray(values[0]).dtype
    y = np.array(values, dtype=otype).reshape(shape)

    def vectorize_pullback(y_bar):
        G = np.ravel(np.broadcast_to(np.asarray(y_bar), shape)).tolist()
        f_bar, columns = None, [[None] * len(results) for _ in args]
        for k, ((_, back), g) in enumerate(zip(results, G)):
            f_b, *bars = back(g)
            if f_b is not None:
                f_bar = f_b if f_bar is None else f_bar + f_b
            for column, b in zip(columns, bars):
                column[k] = b
        out = []
        for a, column in zip(args, columns):
            if all(b is None for b in column):
                out.append(None)
                continue
            full = np.array([0.0 if b is None else b for b in column]).reshape(shape)
            out.append(unbroadcast_to(full, a))
        # the function's own cotangent (what it closes over) is the vectorize object's field's
        self_bar = None if f_bar is None else Tangent(type(self), {"pyfunc": f_bar})
        return (None, self_bar, *out)

    return y, vectorize_pullback


register(np.vectorize.__call__, vectorize_call_rrule)
