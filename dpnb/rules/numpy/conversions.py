"""Conversions: `np.array` and its kin, the scalar types (`np.float64(x)`, ...), `astype`,
`copy`, `item` and `tolist`. A truncation to an integer dtype carries no gradient."""
import numpy as np

from .._common import float_dtype, to_like
from ..namespaces import is_foreign, place
from ._base import _named, _nones, register


def _conversion_bar(g, x, y):
    """Cotangent of `x` for a dtype conversion `y` of it: none through a truncation to int."""
    y_kind = _dtype(y).kind
    if y_kind in "biu" and _dtype(x).kind in "fc":
        return None
    if y_kind == "b":
        return None
    return to_like(np.reshape(g, np.shape(x)) if np.shape(g) != np.shape(x) else g, x)


def _dtype(v):
    return v.dtype if is_foreign(v) else np.asarray(v).dtype


def _converter(f, name):
    def rule(x, *args, **kwargs):
        y = f(x, *args, **kwargs)

        def pullback(y_bar):
            return (None, _conversion_bar(y_bar, x, y)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


# of a Dask or CuPy array they would compute it (or move it off the GPU): refused; of a NumPy
# array in a computation on such data, they pass the cotangent through in its library
for _f in (np.array, np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray):
    register(_f, _converter(_f, _f.__name__), cotangents=True)


def _copy(a, *args, **kwargs):
    """`np.copy(a)`; a Dask or CuPy array's own copy (Dask has no np.copy: it would compute)."""
    if is_foreign(a) and not args and not kwargs:
        return a.copy()
    return np.copy(a, *args, **kwargs)


# np.copy of a Dask or CuPy array stays in its library; np.asarray and its kin would move it
register(np.copy, _converter(_copy, "copy"), generic=True)
#: the scalar types, called as conversions (`np.float32(x)`, `np.int64(x)`): a truncation to an
#: integer carries no gradient, a conversion between floating types passes it through
SCALAR_TYPES = (
    np.float64, np.float32, np.float16, np.longdouble, np.complex128, np.complex64, np.clongdouble,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
)
for _t in SCALAR_TYPES:
    register(_t, _converter(_t, _t.__name__), number_closed=True, cotangents=True)


def astype_rrule(self, dtype, *args, **kwargs):
    y = self.astype(dtype, *args, **kwargs)

    def astype_pullback(y_bar):
        return (None, _conversion_bar(y_bar, self, y), None) + _nones(args)

    return y, astype_pullback


def copy_rrule(self, *args, **kwargs):
    y = self.copy(*args, **kwargs)

    def copy_pullback(y_bar):
        return (None, to_like(y_bar, self)) + _nones(args)

    return y, copy_pullback


register(np.ndarray.astype, astype_rrule, generic=True)
if hasattr(np, "astype"):  # NumPy 2.1: the function; x.astype(...) of a Dask or CuPy array comes here
    register(np.astype, astype_rrule, generic=True)
register(np.ndarray.copy, copy_rrule, generic=True)


def item_rrule(self, *args):
    y = self.item(*args)

    def item_pullback(y_bar):
        if not args:
            idx = (0,) * self.ndim
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
            idx = np.unravel_index(args[0], self.shape)
        else:
            idx = args[0] if len(args) == 1 else args
        if is_foreign(y_bar):  # the item feeds a computation on Dask or CuPy data
            return (None, place(y_bar, self.shape, tuple(int(i) for i in idx), dtype=float_dtype(self))) + _nones(args)
        out = np.zeros(self.shape, float_dtype(self))
        out[idx] = y_bar
        return (None, out) + _nones(args)

    return y, item_pullback


def tolist_rrule(self):
    y = self.tolist()

    def tolist_pullback(y_bar):
        if _any_foreign_item(y_bar, self.ndim):  # items feed a computation on Dask or CuPy data
            return None, _stacked(y_bar, self.shape, float_dtype(self))
        out = np.zeros(self.shape, float_dtype(self))
        _fill_nested(out, (), y_bar, self.ndim)
        return None, out

    return y, tolist_pullback


def _fill_nested(out, idx, bar, depth):
    if bar is None:
        return
    if depth == 0:
        out[idx] = bar
        return
    for i, b in enumerate(bar):
        _fill_nested(out, idx + (i,), b, depth - 1)


def _any_foreign_item(bar, depth):
    if depth == 0 or bar is None:
        return is_foreign(bar)
    return any(_any_foreign_item(b, depth - 1) for b in bar)


def _stacked(bar, shape, dtype):
    """The nested lists `bar` (None for zeros) stacked into one array, in the library of the Dask
    or CuPy arrays among them (np.stack hands the work to it)."""
    if bar is None:
        return np.zeros(shape, dtype)
    if not shape:
        return bar
    return np.stack([_stacked(b, shape[1:], dtype) for b in bar]).astype(dtype)


register(np.ndarray.item, item_rrule, cotangents=True)
register(np.ndarray.tolist, tolist_rrule, cotangents=True)


def scalar_item_rrule(self, *args):
    """`x.item()` and `x.tolist()` of a NumPy scalar (`np.float64(2.0).item()`): the number."""
    y = self.item(*args)

    def scalar_item_pullback(y_bar):
        return (None, to_like(y_bar, self)) + _nones(args)

    return y, scalar_item_pullback


# the methods of NumPy's scalars (np.float64(x).astype(np.float32), ...), one descriptor for every type
register(np.generic.astype, astype_rrule)
register(np.generic.copy, copy_rrule)
register(np.generic.item, scalar_item_rrule)
register(np.generic.tolist, scalar_item_rrule)
