"""Selecting entries: `ndarray.__getitem__`, take, take_along_axis, where, select, clip,
diff, sort, partition, unique, and the index expressions `np.r_[...]` and `np.c_[...]`.
Repeated indices accumulate their cotangents."""
import numpy as np

from .._common import (
    bind, call_bars, flat_source, float_dtype, has_tangent, index_bar, to_like, unbroadcast_to, unpermute,
)
from ..namespaces import any_foreign, is_foreign, reshape
from ._base import _named, _nones, asarray, register


def ndarray_getitem_rrule(self, idx):
    y = self[idx]

    def getitem_pullback(y_bar):
        return None, index_bar(self, idx, y_bar), None

    return y, getitem_pullback


register(np.ndarray.__getitem__, ndarray_getitem_rrule, generic=True)


def take_rrule(a, indices, axis=None, *args, **kwargs):
    y = np.take(a, indices, axis, *args, **kwargs)

    def take_pullback(y_bar):
        A = np.asarray(a)
        mode = kwargs.get("mode", args[1] if len(args) > 1 else "raise")
        n = A.size if axis is None else A.shape[axis]
        idx = np.asarray(indices)
        idx = np.mod(idx, n) if mode == "wrap" else np.clip(idx, 0, n - 1) if mode == "clip" else idx
        out = np.zeros(A.shape, float_dtype(A))
        if axis is None:
            np.add.at(out.reshape(-1), idx, y_bar)
        else:
            np.add.at(out, (slice(None),) * (axis % A.ndim) + (idx,), y_bar)
        return (None, to_like(out, a), None, None) + _nones(args)

    return y, take_pullback


def take_along_axis_rrule(arr, indices, axis=-1):
    y = np.take_along_axis(arr, indices, axis)

    def take_along_axis_pullback(y_bar):
        A = np.asarray(arr)
        out = np.zeros(A.shape, float_dtype(A))
        if axis is None:
            np.add.at(out.reshape(-1), indices, y_bar)
        else:
            # the indices broadcast against `arr` along the other axes, as the result's shape says
            ax = axis % A.ndim
            grid = list(np.ix_(*[np.arange(n) for n in np.shape(y)]))
            grid[ax] = indices
            np.add.at(out, tuple(np.broadcast_arrays(*grid)), y_bar)
        return None, to_like(out, arr), None, None

    return y, take_along_axis_pullback


register(np.take, take_rrule)
register(np.ndarray.take, take_rrule)
register(np.take_along_axis, take_along_axis_rrule)


def where_rrule(condition, *xy):
    y = np.where(condition, *xy)
    if not xy:  # np.where(cond): indices, no gradient
        return y, _named("where_pullback", lambda y_bar: (None, None))
    x, other = xy

    def where_pullback(y_bar):
        return (
            None,
            None,
            unbroadcast_to(np.where(condition, y_bar, 0), x),
            unbroadcast_to(np.where(condition, 0, y_bar), other),
        )

    return y, where_pullback


register(np.where, where_rrule, generic=True)


def _clip_rule(f, names):
    """np.clip(a, a_min, a_max) and a.clip(min, max): the bounds may be arrays, given by
    position or by keyword (`a_min=`, `min=`, ...), and receive cotangents either way."""

    def clip_rrule(*args, **kwargs):
        if kwargs and any_foreign(args, kwargs):
            # Dask's clip takes its bounds by position only (not a_min=, nor NumPy 2.1's min=)
            p = bind(names, args, kwargs)
            lo = p.get(names[1], p.get("min"))
            hi = p.get(names[2], p.get("max"))
            y = f(p["a"], None if lo is np._NoValue else lo, None if hi is np._NoValue else hi)
        else:
            y = f(*args, **kwargs)

        def clip_pullback(y_bar):
            p = bind(names, args, kwargs)
            a = p["a"]
            lo_name = names[1] if names[1] in p else "min"
            hi_name = names[2] if names[2] in p else "max"
            lo, hi = p.get(lo_name), p.get(hi_name)
            lo = None if lo is np._NoValue else lo
            hi = None if hi is np._NoValue else hi
            A = asarray(a)
            # np.clip is minimum(maximum(a, lo), hi); ties go to `a` (NaN in `a` too)
            keep_a = np.ones_like(A, dtype=bool) if lo is None else ~(A < lo)
            t = A if lo is None else np.maximum(A, lo)
            keep_t = np.ones_like(t, dtype=bool) if hi is None else ~(t > hi)
            g = asarray(y_bar)
            bars = {"a": unbroadcast_to(np.where(keep_a & keep_t, g, 0), a)}
            if lo is not None:
                bars[lo_name] = unbroadcast_to(np.where(~keep_a & keep_t, g, 0), lo)
            if hi is not None:
                bars[hi_name] = unbroadcast_to(np.where(keep_t, 0, g), hi)
            return call_bars(names, args, kwargs, bars)

        return y, clip_pullback

    return clip_rrule


register(np.clip, _clip_rule(np.clip, ("a", "a_min", "a_max", "out")), number_closed=True, generic=True)
register(np.ndarray.clip, _clip_rule(np.ndarray.clip, ("a", "min", "max", "out")), generic=True)

_DIFF = ("a", "n", "axis", "prepend", "append")


def diff_rrule(*args, **kwargs):
    y = np.diff(*args, **kwargs)

    def diff_pullback(y_bar):
        p = bind(_DIFF, args, kwargs, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue)
        a, n, axis, pre, app = (p[k] for k in _DIFF)
        g = asarray(y_bar)
        for _ in range(n):  # the transpose of one difference
            g = -np.diff(g, axis=axis, prepend=0, append=0)
        start = 0 if pre is np._NoValue else (np.shape(pre)[axis] if np.ndim(pre) else 1)
        stop = start + np.shape(a)[axis]
        bars = {"a": to_like(_along(g, axis, start, stop), a)}
        if pre is not np._NoValue:
            bars["prepend"] = unbroadcast_to(_along(g, axis, 0, start), pre)
        if app is not np._NoValue:
            bars["append"] = unbroadcast_to(_along(g, axis, stop, g.shape[axis]), app)
        return call_bars(_DIFF, args, kwargs, bars)

    return y, diff_pullback


def _along(g, axis, start, stop):
    index = [slice(None)] * g.ndim
    index[axis] = slice(start, stop)
    return g[tuple(index)]


register(np.diff, diff_rrule, generic=True)


def sort_rrule(a, axis=-1, *args, **kwargs):
    A = np.asarray(a)
    if axis is None:
        A, ax = A.reshape(-1), 0
    else:
        ax = axis
    perm = np.argsort(A, axis=ax, kind="stable")
    y = np.take_along_axis(A, perm, ax)

    def sort_pullback(y_bar):
        if is_foreign(y_bar):  # the sorted entries feed a computation on Dask or CuPy data
            out = unpermute(y_bar, flat_source(perm, ax, A.shape), np.shape(a)).astype(float_dtype(A))
            return (None, to_like(out, a), None) + _nones(args)
        out = np.zeros(A.shape, float_dtype(A))
        np.put_along_axis(out, perm, y_bar, ax)
        return (None, to_like(out.reshape(np.shape(a)), a), None) + _nones(args)

    return y, sort_pullback


def partition_rrule(a, kth, axis=-1, *args, **kwargs):
    A = np.asarray(a)
    if axis is None:
        A, ax = A.reshape(-1), 0
    else:
        ax = axis
    perm = np.argpartition(A, kth, axis=ax)
    y = np.take_along_axis(A, perm, ax)

    def partition_pullback(y_bar):
        if is_foreign(y_bar):
            out = unpermute(y_bar, flat_source(perm, ax, A.shape), np.shape(a)).astype(float_dtype(A))
            return (None, to_like(out, a), None, None) + _nones(args)
        out = np.zeros(A.shape, float_dtype(A))
        np.put_along_axis(out, perm, y_bar, ax)
        return (None, to_like(out.reshape(np.shape(a)), a), None, None) + _nones(args)

    return y, partition_pullback


# permutations: a Dask or CuPy cotangent of a NumPy operand is gathered back in its library
register(np.sort, sort_rrule, cotangents=True)
register(np.partition, partition_rrule, cotangents=True)


_SELECT = ("condlist", "choicelist", "default")


def select_rrule(*args, **kwargs):
    y = np.select(*args, **kwargs)

    def select_pullback(y_bar):
        p = bind(_SELECT, args, kwargs, default=0)
        G = asarray(y_bar)
        # each entry comes from the first choice whose condition holds there, else the default
        remaining = np.ones(G.shape, bool)
        choice_bars = []
        for cond, choice in zip(p["condlist"], p["choicelist"]):
            cond = asarray(cond).astype(bool)
            taken = remaining & cond
            remaining = remaining & ~cond
            choice_bars.append(unbroadcast_to(np.where(taken, G, 0), choice))
        choices = p["choicelist"]
        bars = {
            "choicelist": tuple(choice_bars) if isinstance(choices, tuple) else choice_bars,
            "default": unbroadcast_to(np.where(remaining, G, 0), p["default"]),
        }
        return call_bars(_SELECT, args, kwargs, bars)

    return y, select_pullback


register(np.select, select_rrule, generic=True)

_UNIQUE = ("ar", "return_index", "return_inverse", "return_counts", "axis")


def unique_rrule(*args, **kwargs):
    y = np.unique(*args, **kwargs)

    def unique_pullback(y_bar):
        # only the unique values carry a gradient; equal entries share their value's cotangent evenly
        p = bind(_UNIQUE, args, kwargs, return_index=False, return_inverse=False, return_counts=False, axis=None)
        several = p["return_index"] or p["return_inverse"] or p["return_counts"]
        values_bar = y_bar[0] if several else y_bar
        ar = p["ar"]
        if values_bar is None or not has_tangent(np.asarray(ar)):
            return call_bars(_UNIQUE, args, kwargs, {})
        A, axis = np.asarray(ar), p["axis"]
        options = {k: v for k, v in kwargs.items() if k in ("equal_nan", "sorted")}
        _, inverse, counts = np.unique(A, return_inverse=True, return_counts=True, axis=axis, **options)
        inverse = np.reshape(inverse, -1)
        G = asarray(values_bar)
        if axis is None:
            a_bar = reshape(G[inverse] / counts[inverse], A.shape)
        else:
            Gm = np.moveaxis(G, axis, 0)
            share = counts[inverse].reshape((-1,) + (1,) * (Gm.ndim - 1))
            a_bar = np.moveaxis(Gm[inverse] / share, 0, axis)
        return call_bars(_UNIQUE, args, kwargs, {"ar": to_like(a_bar, ar)})

    return y, unique_pullback


# each entry takes its value's cotangent (a gather: Dask and CuPy cotangents stay lazy)
register(np.unique, unique_rrule, cotangents=True)


# --- index expressions: np.r_[...], np.c_[...] -----------------------------------------------


def _traced(item):
    """Whether an entry of an `np.r_[...]` key carries values (not a slice or a directive)."""
    if isinstance(item, (str, slice)) or item is None:
        return False
    if isinstance(item, (list, tuple)):
        return np.asarray(item).dtype.kind in "iufc"
    return has_tangent(item) and np.asarray(item).dtype.kind in "iufc"


def _relabelled(items, traced, labels):
    return tuple(lab if t else item for item, t, lab in zip(items, traced, labels))


def concatenator_getitem_rrule(self, key):
    """`np.r_[key]` and `np.c_[key]` (AxisConcatenator.__getitem__): which entries of the key
    end where in the result is found by running the same expression on entry labels."""
    y = self[key]
    items = key if isinstance(key, tuple) else (key,)
    traced = [_traced(item) for item in items]
    shapes = [np.shape(item) for item in items]
    sizes = [int(np.prod(s)) if t else 0 for s, t in zip(shapes, traced)]
    offsets = np.cumsum([0] + sizes)
    # labels 1, 2, ... for the entries (as floats: exact far beyond any size here), and zeros
    labels = [
        (float(o + 1) if s == () else o + 1 + np.arange(n, dtype=float).reshape(s))
        for o, n, s in zip(offsets, sizes, shapes)
    ]
    zeros = [0.0 if s == () else np.zeros(s) for s in shapes]
    Y1 = np.asarray(self[_relabelled(items, traced, labels)])
    Y0 = np.asarray(self[_relabelled(items, traced, zeros)])
    where = Y1 != Y0
    source = (Y1[where] - 1).astype(np.intp)

    def concatenator_getitem_pullback(y_bar):
        flat = np.zeros(int(offsets[-1]), np.result_type(np.asarray(y_bar).dtype, np.float64))
        np.add.at(flat, source, np.asarray(y_bar)[where])
        bars = [
            to_like(flat[o : o + n].reshape(s), item) if t else None
            for item, t, o, n, s in zip(items, traced, offsets, sizes, shapes)
        ]
        return None, None, tuple(bars) if isinstance(key, tuple) else bars[0]

    return y, concatenator_getitem_pullback


register(type(np.r_).__getitem__, concatenator_getitem_rrule)
