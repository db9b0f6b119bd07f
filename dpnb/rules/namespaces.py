"""Arrays of other libraries: Dask arrays (a cluster) and CuPy arrays (a GPU).

dpnb treats such an array as a value, like a number: its cotangent is an array of the
same library, computed by the same NumPy rules. A rule never pulls one onto the host
(`np.asarray`, `np.zeros`): it calls NumPy functions, which hand the work to the
array's own library through `__array_function__` / `__array_ufunc__`, or asks the
array's namespace (`array_api_compat.array_namespace`) for new arrays. A Dask
gradient is then a lazy task graph, and a CuPy gradient stays on the device.

A NumPy rule that cannot work that way is not in `GENERIC`: handed a Dask or CuPy
array, it raises `NoRuleError` naming the function instead of converting.
"""
import numpy as np

__all__ = ["FOREIGN_MODULES", "GENERIC", "is_foreign", "any_foreign", "namespace", "zeros_like", "broadcast_like", "library"]

#: top-level modules whose array types dpnb handles as arrays of their own namespace
FOREIGN_MODULES = ("dask", "cupy")
#: NumPy callables whose rules compute their pullbacks in their operands' namespace
GENERIC = set()

_known = {}


def is_foreign(x):
    """Whether `x` is an array of a library other than NumPy (a Dask or a CuPy array).

    >>> is_foreign(np.ones(2)), is_foreign(1.0)
    (False, False)
    """
    t = type(x)
    r = _known.get(t)
    if r is None:
        r = _known[t] = (
            t.__module__.partition(".")[0] in FOREIGN_MODULES
            and hasattr(t, "__array_function__")
            and hasattr(t, "dtype")
            and hasattr(t, "shape")
        )
    return r


def any_foreign(args, kwargs=None):
    """Whether a Dask or CuPy array is among `args` (one level into lists and tuples) or `kwargs`."""
    for a in args:
        if is_foreign(a):
            return True
        if type(a) is list or type(a) is tuple:
            for e in a:
                if is_foreign(e):
                    return True
    if kwargs:
        return any_foreign(tuple(kwargs.values()))
    return False


def library(x):
    """The name of the library of array `x` ("dask", "cupy", "numpy")."""
    return type(x).__module__.partition(".")[0]


def namespace(*xs):
    """The array namespace of the Dask or CuPy arrays among `xs`; NumPy when there are none.

    >>> namespace(1.0, np.ones(2)) is np
    True
    """
    foreign = [x for x in xs if is_foreign(x)]
    if not foreign:
        return np
    from array_api_compat import array_namespace

    return array_namespace(*foreign)


def broadcast_like(g, x):
    """`g` broadcast to the shape of the Dask or CuPy array `x`, in `x`'s library (a Dask
    result is chunked like `x`, so that the pullback's products need no rechunking)."""
    if library(x) == "dask":
        import dask.array as da

        try:
            return da.broadcast_to(g, x.shape, chunks=x.chunks)
        except ValueError:  # g is chunked differently along an axis it has in full
            return da.broadcast_to(g, x.shape).rechunk(x.chunks)
    xp = namespace(x)
    return xp.broadcast_to(xp.asarray(g), x.shape)


def zeros_like(x, dtype=None):
    """Zeros shaped (and, for Dask, chunked) like the array `x`, in its own library."""
    return np.zeros_like(x, dtype=dtype)  # dispatches through __array_function__
