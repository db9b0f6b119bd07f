"""Functions that rearrange entries: reshape, transpose and axis moves, broadcasting,
joining and splitting, tile, repeat, flips, rolls and padding."""
import numpy as np

from ...errors import DifferentiationError, NoRuleError
from .._common import call_bars, float_dtype, to_like, unbroadcast_to
from ..namespaces import is_foreign, library, reshape
from ._base import _inverse, _named, _nones, asarray, register


def _reshaping(f, name, order_at=None):
    """Rules of functions that only rearrange the entries into a new shape (reshape, ravel, ...).
    `order_at`: where `f` takes `order` by position (after `a`), if it does."""

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)
        order = kwargs.get("order")
        if order is None and order_at is not None and len(args) > order_at:
            order = args[order_at]
        order = _index_order(a, order)

        def pullback(y_bar):
            if type(order) is tuple:  # order="K" of a view: read as a.transpose(order)
                g = np.transpose(np.reshape(y_bar, tuple(np.shape(a)[i] for i in order)), np.argsort(order))
            elif order != "C":  # the entries go back in the order they were read (np.reshape(order="F"))
                g = y_bar.reshape(np.shape(a), order=order)
            else:
                g = reshape(y_bar, np.shape(a)) if is_foreign(y_bar) else np.reshape(y_bar, np.shape(a))
            return (None, to_like(g, a)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _index_order(a, order):
    """How `order` ("C", "F", "A", "K" or None) reads `a`'s entries: "C", "F", or (for "K") the
    axes of `a` in the order the entries are read ("C" order of `a.transpose(axes)`)."""
    if order is None or order in ("C", "c"):
        return "C"
    if order in ("F", "f"):
        return "F"
    if not isinstance(a, np.ndarray):
        return "C"
    if order in ("A", "a"):  # F only for an array that is F-contiguous (and not C-contiguous)
        return "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
    if order in ("K", "k"):
        if a.flags.c_contiguous:
            return "C"
        if a.flags.f_contiguous:
            return "F"
        # NumPy reads a view in the order of its strides, the largest first (by size, whatever
        # their sign); refused where that order is not one (axes of equal or zero strides)
        big = [abs(s) for s, n in zip(a.strides, a.shape) if n > 1]
        if 0 in big or len(set(big)) < len(big):
            from ...errors import user_location

            raise DifferentiationError(
                f"order='K' of a view whose axes share strides, at {user_location()}: dpnb cannot tell "
                "the order NumPy reads it in; pass order='C' or 'F', or copy the array first"
            )
        axes = tuple(sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]) if a.shape[i] > 1 else 0))
        return "C" if axes == tuple(range(a.ndim)) else axes
    return "C"  # an order NumPy refuses: the call itself has raised


for _f, _n, _at in (
    (np.reshape, "reshape", 1), (np.ravel, "ravel", 0), (np.squeeze, "squeeze", None),
    (np.expand_dims, "expand_dims", None), (np.ndarray.reshape, "reshape", None), (np.ndarray.ravel, "ravel", 0),
    (np.ndarray.flatten, "flatten", 0), (np.ndarray.squeeze, "squeeze", None),
):
    register(_f, _reshaping(_f, _n, _at), generic=True)


def _atleast(f):
    name = f.__name__

    def rule(*arys):
        y = f(*arys)

        def pullback(y_bar):
            if len(arys) == 1:
                return None, to_like(np.reshape(y_bar, np.shape(arys[0])), arys[0])
            return (None,) + tuple(
                None if b is None else to_like(np.reshape(b, np.shape(a)), a) for a, b in zip(arys, y_bar)
            )

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    register(_f, _atleast(_f), generic=True)


def _transpose_axes(ndim, axes):
    if axes is None or len(axes) == 0:
        return None
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
        if axes is None:
            return None
    return tuple(int(a) % ndim for a in axes)


def transpose_rrule(a, *axes, **kwargs):
    y = np.transpose(a, *axes, **kwargs)

    def transpose_pullback(y_bar):
        ax = _transpose_axes(np.ndim(a), axes or tuple(kwargs.values()))
        r = np.transpose(y_bar) if ax is None else np.transpose(y_bar, _inverse(ax))
        return (None, to_like(r, a)) + _nones(axes)

    return y, transpose_pullback


def ndarray_transpose_rrule(self, *axes):
    y = self.transpose(*axes)

    def transpose_pullback(y_bar):
        ax = _transpose_axes(self.ndim, axes)
        r = np.transpose(y_bar) if ax is None else np.transpose(y_bar, _inverse(ax))
        return (None, to_like(r, self)) + _nones(axes)

    return y, transpose_pullback


register(np.transpose, transpose_rrule, generic=True)
register(np.ndarray.transpose, ndarray_transpose_rrule, generic=True)


def swapaxes_rrule(a, axis1, axis2):
    y = np.swapaxes(a, axis1, axis2)

    def swapaxes_pullback(y_bar):
        return None, to_like(np.swapaxes(y_bar, axis1, axis2), a), None, None

    return y, swapaxes_pullback


def matrix_transpose_rrule(x):
    # (Dask has no np.matrix_transpose: it would compute)
    y = np.swapaxes(x, -1, -2) if is_foreign(x) else np.matrix_transpose(x)

    def matrix_transpose_pullback(y_bar):
        return None, to_like(np.swapaxes(y_bar, -1, -2), x)

    return y, matrix_transpose_pullback


def moveaxis_rrule(a, source, destination):
    y = np.moveaxis(a, source, destination)

    def moveaxis_pullback(y_bar):
        return None, to_like(np.moveaxis(y_bar, destination, source), a), None, None

    return y, moveaxis_pullback


def _rollaxis_order(ndim, axis, start):
    """The axes of `a` in the order np.rollaxis(a, axis, start) puts them."""
    axis = axis % ndim
    start = start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(ndim) if i != axis]
    order.insert(start, axis)
    return order


def rollaxis_rrule(a, axis, start=0):
    y = np.rollaxis(a, axis, start)

    def rollaxis_pullback(y_bar):
        order = _rollaxis_order(np.ndim(a), axis, start)
        return None, to_like(np.transpose(y_bar, _inverse(order)), a), None, None

    return y, rollaxis_pullback


def broadcast_to_rrule(array, shape, *args, **kwargs):
    y = np.broadcast_to(array, shape, *args, **kwargs)

    def broadcast_to_pullback(y_bar):
        return (None, unbroadcast_to(asarray(y_bar), array), None) + _nones(args)

    return y, broadcast_to_pullback


def broadcast_arrays_rrule(*args, **kwargs):
    y = np.broadcast_arrays(*args, **kwargs)

    def broadcast_arrays_pullback(y_bar):
        return (None,) + tuple(
            None if b is None else unbroadcast_to(asarray(b), a) for a, b in zip(args, y_bar)
        )

    return y, broadcast_arrays_pullback


register(np.swapaxes, swapaxes_rrule, generic=True)
register(np.ndarray.swapaxes, swapaxes_rrule, generic=True)
if hasattr(np, "matrix_transpose"):  # NumPy >= 2
    register(np.matrix_transpose, matrix_transpose_rrule, generic=True)
register(np.moveaxis, moveaxis_rrule, generic=True)
register(np.rollaxis, rollaxis_rrule, generic=True)
register(np.broadcast_to, broadcast_to_rrule, generic=True)
register(np.broadcast_arrays, broadcast_arrays_rrule, generic=True)


def _split_pieces(g, shapes, axis):
    """Cut `g` along `axis` into pieces of the given shapes' sizes along that axis."""
    pieces, start = [], 0
    for s in shapes:
        n = s[axis]
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + n)
        pieces.append(g[tuple(index)])
        start += n
    return pieces


def _seq_of(arrays, bars):
    """Cotangents of the entries of the sequence `arrays`, as its own kind."""
    if isinstance(arrays, np.ndarray):
        return to_like(np.stack([np.zeros(np.shape(a)) if b is None else b for a, b in zip(arrays, bars)]), arrays)
    if isinstance(arrays, tuple):
        return tuple(bars)
    return list(bars)


def concatenate_rrule(arrays, axis=0, *args, **kwargs):
    y = np.concatenate(arrays, axis, *args, **kwargs)

    def concatenate_pullback(y_bar):
        arrs = [asarray(a) for a in arrays]
        g = asarray(y_bar)
        if axis is None:
            shapes = [(a.size,) for a in arrs]
            pieces = _split_pieces(g, shapes, 0)
        else:
            pieces = _split_pieces(g, [a.shape for a in arrs], axis)
        bars = [to_like(p.reshape(np.shape(a)), a) for p, a in zip(pieces, arrays)]
        return (None, _seq_of(arrays, bars), None) + _nones(args)

    return y, concatenate_pullback


def stack_rrule(arrays, axis=0, *args, **kwargs):
    y = np.stack(arrays, axis, *args, **kwargs)

    def stack_pullback(y_bar):
        g = np.moveaxis(asarray(y_bar), axis, 0)
        # np.reshape, not .reshape: an item of a 1-d g is a NumPy scalar
        bars = [to_like(np.reshape(g[i], np.shape(a)), a) for i, a in enumerate(arrays)]
        return (None, _seq_of(arrays, bars), None) + _nones(args)

    return y, stack_pullback


def _joiner(f, prepare, axis_of):
    """hstack/vstack/dstack/column_stack: a concatenation of prepared arrays."""
    name = f.__name__

    def rule(tup, *args, **kwargs):
        y = f(tup, *args, **kwargs)

        def pullback(y_bar):
            prepared = [prepare(asarray(a)) for a in tup]
            pieces = _split_pieces(asarray(y_bar), [p.shape for p in prepared], axis_of(prepared))
            bars = [to_like(reshape(p, np.shape(a)), a) for p, a in zip(pieces, tup)]
            return (None, _seq_of(tup, bars)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _column(a):
    return a.reshape(-1, 1) if a.ndim < 2 else a


register(np.concatenate, concatenate_rrule, generic=True)
register(np.stack, stack_rrule, generic=True)
register(np.hstack, _joiner(np.hstack, np.atleast_1d, lambda ps: 0 if ps[0].ndim == 1 else 1), generic=True)
register(np.vstack, _joiner(np.vstack, np.atleast_2d, lambda ps: 0), generic=True)
register(np.dstack, _joiner(np.dstack, np.atleast_3d, lambda ps: 2), generic=True)
# (Dask has no np.column_stack: it would compute)
register(np.column_stack, _joiner(np.column_stack, _column, lambda ps: 1), cotangents=True)


def append_rrule(arr, values, axis=None):
    y = np.append(arr, values, axis)

    def append_pullback(y_bar):
        g = asarray(y_bar)
        A, V = asarray(arr), asarray(values)
        if axis is None:
            a_part, v_part = g[: A.size], g[A.size :]
        else:
            a_part, v_part = _split_pieces(g, [A.shape, V.shape], axis)
        return None, to_like(reshape(a_part, A.shape), arr), to_like(reshape(v_part, V.shape), values), None

    return y, append_pullback


register(np.append, append_rrule, generic=True)


def _splitter(f, axis_of):
    name = f.__name__

    def rule(ary, indices_or_sections, *args, **kwargs):
        y = f(ary, indices_or_sections, *args, **kwargs)

        def pullback(y_bar):
            A = asarray(ary)
            axis = axis_of(A, args, kwargs)
            g = np.concatenate(
                [np.zeros(p.shape, float_dtype(A)) if b is None else b for p, b in zip(y, y_bar)], axis
            )
            return (None, to_like(g, ary), None) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _given_axis(A, args, kwargs):
    return args[0] if args else kwargs.get("axis", 0)


# (Dask has no np.split and its kin: they would compute; the pieces' cotangents are joined in
# their own library)
register(np.split, _splitter(np.split, _given_axis), cotangents=True)
register(np.array_split, _splitter(np.array_split, _given_axis), cotangents=True)
register(np.hsplit, _splitter(np.hsplit, lambda A, a, k: 1 if A.ndim > 1 else 0), cotangents=True)
register(np.vsplit, _splitter(np.vsplit, lambda A, a, k: 0), cotangents=True)
register(np.dsplit, _splitter(np.dsplit, lambda A, a, k: 2), cotangents=True)


def tile_rrule(A, reps):
    y = np.tile(A, reps)

    def tile_pullback(y_bar):
        shape = np.shape(A)
        r = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
        d = max(len(shape), len(r))
        s = (1,) * (d - len(shape)) + shape
        r = (1,) * (d - len(r)) + r
        g = reshape(asarray(y_bar), tuple(x for pair in zip(r, s) for x in pair))
        g = g.sum(axis=tuple(range(0, 2 * d, 2)))
        return None, to_like(reshape(g, shape), A), None

    return y, tile_pullback


def repeat_rrule(a, repeats, axis=None):
    y = np.repeat(a, repeats, axis)

    def repeat_pullback(y_bar):
        A, g = asarray(a), asarray(y_bar)
        if axis is None:
            n, ax, gm = A.size, 0, g
        else:
            ax = axis % A.ndim
            n, gm = A.shape[ax], np.moveaxis(g, ax, 0)
        if is_foreign(gm):  # each entry's copies, side by side: summed (no scatter into an array)
            k = np.unique(np.broadcast_to(repeats, (n,)))
            if k.size > 1:
                raise NoRuleError(np.repeat, f"repeats that differ, with a {library(gm)} array or cotangent")
            out = reshape(gm, (n, int(k[0]) if n else 0) + gm.shape[1:]).sum(axis=1).astype(float_dtype(A))
            if axis is not None:
                out = np.moveaxis(out, 0, ax)
            return None, to_like(reshape(out, A.shape), a), None, None
        out = np.zeros((n,) + gm.shape[1:], float_dtype(A))
        np.add.at(out, np.repeat(np.arange(n), repeats), gm)
        if axis is not None:
            out = np.moveaxis(out, 0, ax)
        return None, to_like(out.reshape(A.shape), a), None, None

    return y, repeat_pullback


register(np.tile, tile_rrule, generic=True)
register(np.repeat, repeat_rrule, generic=True)
register(np.ndarray.repeat, repeat_rrule, generic=True)


def flip_rrule(m, axis=None):
    y = np.flip(m, axis)

    def flip_pullback(y_bar):
        return None, to_like(np.flip(y_bar, axis), m), None

    return y, flip_pullback


def fliplr_rrule(m):
    y = np.fliplr(m)
    return y, _named("fliplr_pullback", lambda y_bar: (None, to_like(np.fliplr(y_bar), m)))


def flipud_rrule(m):
    y = np.flipud(m)
    return y, _named("flipud_pullback", lambda y_bar: (None, to_like(np.flipud(y_bar), m)))


def roll_rrule(a, shift, axis=None):
    y = np.roll(a, shift, axis)

    def roll_pullback(y_bar):
        back = -asarray(shift)  # (np.ndim: a NumPy scalar, whose attributes a second derivative would not read)
        return None, to_like(np.roll(y_bar, back if np.ndim(back) else int(back), axis), a), None, None

    return y, roll_pullback


def rot90_rrule(m, k=1, axes=(0, 1)):
    y = np.rot90(m, k, axes)

    def rot90_pullback(y_bar):
        return None, to_like(np.rot90(y_bar, -k, axes), m), None, None

    return y, rot90_pullback


register(np.flip, flip_rrule, generic=True)
register(np.fliplr, fliplr_rrule, generic=True)
register(np.flipud, flipud_rrule, generic=True)
register(np.roll, roll_rrule, generic=True)
register(np.rot90, rot90_rrule, generic=True)


_PAD = ("array", "pad_width", "mode")


def pad_rrule(array, pad_width, *args, **kwargs):
    mode = args[0] if args else kwargs.get("mode", "constant")
    if mode != "constant":
        raise DifferentiationError(f"np.pad(mode={mode!r}) has no differentiation rule (only 'constant')")
    y = np.pad(array, pad_width, *args, **kwargs)

    def pad_pullback(y_bar):
        A, G = asarray(array), asarray(y_bar)
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (A.ndim, 2))
        index = tuple(slice(int(w[0]), int(w[0]) + n) for w, n in zip(widths, A.shape))
        bars = {"array": to_like(G[index], array)}
        values = kwargs.get("constant_values")
        if values is not None:
            # which (axis, side) constant each padded entry holds: NumPy pads axis after
            # axis, so a corner holds the later axis's constant
            labels = np.pad(np.full(A.shape, -1), pad_width, constant_values=np.arange(2 * A.ndim).reshape(-1, 2))
            sums = np.stack([np.sum(np.where(labels == k, G, 0)) for k in range(2 * A.ndim)]).reshape(A.ndim, 2)
            bars["constant_values"] = unbroadcast_to(sums, values)
        return call_bars(_PAD, (array, pad_width) + args, kwargs, bars)

    return y, pad_pullback


register(np.pad, pad_rrule, generic=True)
