"""NumPy functions that change an array given to them: `np.copyto` and `np.fill_diagonal`.

Each is followed as the assignment it makes, as a program writing it out would be: `np.copyto(dst,
src)` is `dst[...] = src` (with `where=`, `dst[...] = np.where(where, src, dst)`: the entries
outside the mask keep what `dst` held, and their cotangent), `np.fill_diagonal(a, val)` is `a[i, i,
...] = val` on the entries NumPy's flat stride reaches (`wrap` included), `val` repeated as NumPy
repeats it. The backward pass takes the cotangent the written entries have when it gets there,
undoes the write, and hands that cotangent to what was written (`src`, `val`). NumPy checks the
call first (shapes, `casting`), on a copy, and raises its own error.
"""
import numpy as np

from ...core import heap as H
from ...core import mutation as M
from ...core.runtime import _Wrapped, call
from .. import registry
from ..namespaces import any_foreign
from ._base import refuse_foreign


def _in_place(f, rule):
    """`rule(*args, **kwargs) -> (None, pullback -> its arguments' cotangents, by name)` as a rule:
    Dask and CuPy arrays refused, and the pullback a `_Wrapped` one, which runs when no cotangent
    reached the result (None, always): it must undo the change."""

    def in_place_rule(*args, **kwargs):
        if any_foreign(args, kwargs):
            refuse_foreign(f, args, kwargs)
        y, pb = rule(*args, **kwargs)
        names = rule.__code__.co_varnames[: len(args)]

        def in_place_pullback(y_bar):
            bars = pb(y_bar)
            out = (None,) + tuple(bars.get(n) for n in names)
            kw = {k: bars[k] for k in kwargs if bars.get(k) is not None}
            return out + (kw,) if kw else out

        return y, _Wrapped(in_place_pullback)

    in_place_rule.__name__ = in_place_rule.__qualname__ = rule.__name__
    in_place_rule.mutates = True  # never run plainly: its change is followed
    registry.register(f, in_place_rule)


def copyto_rrule(dst, src, casting="same_kind", where=True):
    if type(dst) is not np.ndarray:
        np.copyto(dst, src, casting=casting, where=where)  # NumPy's own error
    np.copyto(dst.copy(), src, casting=casting, where=where)  # NumPy's own checks, on a copy
    ctx = H.current()
    masked = not (type(where) is bool and where)
    if masked:
        value, where_pb = call(np.where, where, src, dst.copy())
        value = np.broadcast_to(value, dst.shape)
    else:
        value, where_pb = src, None
    set_pb = M.setitem(ctx, dst, Ellipsis, value)

    def copyto_pullback(y_bar):
        c = set_pb()
        if c is None or where_pb is None:
            return {"src": c}
        bars = where_pb(c)
        if bars[3] is not None:  # what dst held, where the mask is false
            H.array_add(ctx, dst, bars[3])
        return {"src": bars[2]}

    return None, copyto_pullback


def _diagonal_index(a, wrap):
    """The index of the entries `np.fill_diagonal(a, ..., wrap)` writes (NumPy's flat positions
    `a.flat[:end:step]`), as index arrays."""
    if a.ndim == 2:
        step = a.shape[1] + 1
        end = None if wrap else a.shape[1] * a.shape[1]
    else:
        step = 1 + int(np.cumprod(a.shape[:-1]).sum())
        end = None
    flat = np.arange(a.size)[:end:step]
    return np.unravel_index(flat, a.shape), flat.size


def fill_diagonal_rrule(a, val, wrap=False):
    if type(a) is not np.ndarray:
        np.fill_diagonal(a, val, wrap)  # NumPy's own error
    np.fill_diagonal(a.copy(), val, wrap)  # NumPy's own checks, on a copy
    ctx = H.current()
    index, k = _diagonal_index(a, wrap)
    flat, ravel_pb = call(np.ravel, val)
    # a.flat[...] = val repeats val (or takes its first k entries)
    value, take_pb = call(np.take, flat, np.arange(k) % max(flat.size, 1))
    set_pb = M.setitem(ctx, a, index, value)

    def fill_diagonal_pullback(y_bar):
        c = set_pb()
        return {"val": None if c is None else ravel_pb(take_pb(c)[1])[1]}

    return None, fill_diagonal_pullback


_in_place(np.copyto, copyto_rrule)
_in_place(np.fill_diagonal, fill_diagonal_rrule)
