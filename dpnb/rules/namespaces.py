"""Arrays of other libraries: Dask arrays (a cluster) and CuPy arrays (a GPU).

dpnb treats such an array as a value, like a number: its cotangent is an array of the
same library, computed by the same NumPy rules. A rule never pulls one onto the host
(`np.asarray`, `np.zeros`): it calls NumPy functions, which hand the work to the
array's own library through `__array_function__` / `__array_ufunc__`, or asks the
array's namespace (`array_api_compat.array_namespace`) for new arrays. A Dask
gradient is then a lazy task graph, and a CuPy gradient stays on the device.

A NumPy rule that cannot work that way is not in `GENERIC`: handed a Dask or CuPy
array, it raises `NoRuleError` naming the function instead of converting. Some of those
still take a Dask or CuPy *cotangent* when their operands are NumPy arrays (a NumPy
parameter of a loss over Dask data: NumPy and Dask arithmetic gives Dask, and so does
the gradient), computing it in the cotangent's library (`FOREIGN_COTANGENTS`); the
others refuse that cotangent the same way.

A cotangent that reaches part of an array (`a[1:, None]`, `a.T`, a view of a NumPy
parameter) is placed in an array shaped like the whole through `ViewMap`: the basic
index (positive-step slices and integers, what Dask assigns into lazily) that picks the
part out of the whole read in memory order, found from the strides alone.
"""
import functools

import numpy as np

__all__ = [
    "FOREIGN_MODULES", "GENERIC", "FOREIGN_COTANGENTS", "is_foreign", "any_foreign", "namespace", "zeros_like", "broadcast_like",
    "library", "foreign_code", "ViewMap", "view_map", "place", "reshape", "eye",
]

#: top-level modules whose array types dpnb handles as arrays of their own namespace
FOREIGN_MODULES = ("dask", "cupy")
#: NumPy callables whose rules compute their pullbacks in their operands' namespace
GENERIC = set()
#: NumPy callables whose rules (not generic) take a Dask or CuPy cotangent for NumPy operands
FOREIGN_COTANGENTS = set()

_known = {}


def is_foreign(x):
    """Whether `x` is an array of a library other than NumPy (a Dask or a CuPy array).

    >>> is_foreign(np.ones(2)), is_foreign(1.0)
    (False, False)
    """
    t = type(x)
    r = _known.get(t)
    if r is None:
        module = getattr(t, "__module__", None)  # (a descriptor, not a str, on some C types)
        r = _known[t] = (
            isinstance(module, str)
            and module.partition(".")[0] in FOREIGN_MODULES
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


def foreign_code(f):
    """Whether the Python function `f` is part of Dask's or CuPy's own code (which dpnb never
    transforms: it builds their task graphs and kernels, which NumPy's rules stand for).

    >>> foreign_code(np.sum), foreign_code(foreign_code)
    (False, False)
    """
    return (getattr(f, "__module__", None) or "").partition(".")[0] in FOREIGN_MODULES


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


def eye(n, m=None, k=0, dtype=np.float64, like=None):
    """`np.eye(n, m, k)` in the library of the arrays `like` (one, or a tuple of them), made from
    two ranges (Dask's own eye of a non-square shape has a broken task graph).

    >>> eye(2, 3, 1)
    array([[0., 1., 0.],
           [0., 0., 1.]])
    """
    xp = namespace(*(like if type(like) is tuple else (like,)))
    if xp is np:
        return np.eye(n, m, k, dtype=dtype)
    m = n if m is None else m
    return ((xp.arange(n)[:, None] + k) == xp.arange(m)[None, :]).astype(dtype)


def zeros_like(x, dtype=None):
    """Zeros shaped (and, for Dask, chunked) like the array `x`, in its own library."""
    return np.zeros_like(x, dtype=dtype)  # dispatches through __array_function__


# --- where a part of an array lies in the whole -----------------------------------------------


class ViewMap:
    """Where the elements of a view lie in its (contiguous) root, as operations every array
    library has: the root read in memory order as an array of shape `shape` (a reshape, no
    copy), of which the basic index `index` (integers and slices with positive steps) picks the
    view's elements; `perm` puts the axes picked back in the view's order, and `expand` adds the
    view's length-1 axes and turns its axes that run backwards (`iperm` and `squeeze` undo them).
    """

    __slots__ = ("fortran", "memshape", "shape", "index", "perm", "iperm", "expand", "squeeze", "full")

    def gather(self, a):
        """The view's part of `a`, an array shaped like the root."""
        g = self._to_shape(a)[self.index]
        if self.perm is not None:
            g = g.transpose(self.perm)
        return g[self.expand] if self.expand is not None else g

    def scatter(self, c, like=None, dtype=None):
        """An array shaped like the root, in `c`'s library: `c` (shaped like the view) where the
        view lies, zero elsewhere. Zeros are made like `like` (an array shaped like the root:
        Dask chunks) when given, in `dtype` (else `c`'s)."""
        if self.squeeze is not None:
            c = c[self.squeeze]
        if self.iperm is not None:
            c = c.transpose(self.iperm)
        dtype = c.dtype if dtype is None else dtype
        if self.full:
            z = c.reshape(self.shape)
            if z.dtype != dtype:
                z = z.astype(dtype)
        else:
            if like is not None and self.shape == self.memshape and not self.fortran:
                z = zeros_like(like, dtype=dtype)
            else:
                z = namespace(c).zeros(self.shape, dtype=dtype)
            z[self.index] = c
        return self._from_shape(z)

    def zero(self, a):
        """A copy of `a` (shaped like the root) with the view's part zero; None if that is all of it."""
        if self.full:
            return None
        a = self._to_shape(a).copy()
        a[self.index] = 0
        return self._from_shape(a)

    def _to_shape(self, a):
        if self.fortran:
            a = a.T
        return reshape(a, self.shape) if self.shape != self.memshape else a

    def _from_shape(self, z):
        if self.shape != self.memshape:
            z = reshape(z, self.memshape)
        return z.T if self.fortran else z


def reshape(a, shape):
    """`a.reshape(shape)`; of a Dask array too, whose reshape splits or merges axes only
    evenly across its chunks."""
    try:
        return a.reshape(shape)
    except NotImplementedError:  # Dask splits or merges axes only evenly: through one axis then
        return a.reshape(-1).reshape(shape)


def view_map(root, v):
    """The `ViewMap` of the NumPy view `v` in its root `root`; None if no basic index of the root
    picks `v`'s elements (a root that is not contiguous, strides of np.lib.stride_tricks).

    >>> a = np.arange(12.0).reshape(3, 4)
    >>> m = view_map(a, a[1:, ::-2].T)  # `a` read as (3, 2, 2): rows 1 and 2, the second of each pair
    >>> m.shape, m.index
    ((3, 2, 2), (slice(1, 3, 1), slice(0, 2, 1), 1))
    >>> np.array_equal(m.gather(a), a[1:, ::-2].T)
    True
    >>> m.scatter(np.ones((2, 2)))
    array([[0., 0., 0., 0.],
           [0., 1., 0., 1.],
           [0., 1., 0., 1.]])
    """
    isz = root.dtype.itemsize
    off = v.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or v.dtype.itemsize != isz:
        return None
    if off % isz or any(s % isz for s in v.strides):
        return None
    fortran = not root.flags.c_contiguous
    return _view_map(root.shape, fortran, off // isz, v.shape, tuple(s // isz for s in v.strides))


@functools.lru_cache(maxsize=512)
def _view_map(rshape, fortran, off, vshape, vstrides):
    """The `ViewMap` of a view of shape `vshape` and strides `vstrides` (in elements) starting at
    element `off` of a root of shape `rshape` (in Fortran order if `fortran`); None if none fits.

    The root's memory is read as an array whose axes step by the view's strides, or by the
    root's own, where these divide each other (a reshape of contiguous memory may cut it
    anywhere); each axis of the view then runs along one axis of it, with a step, without
    passing its end."""
    memshape = tuple(reversed(rshape)) if fortran else tuple(rshape)
    size = 1
    for n in memshape:
        size *= n
    if size == 0 or any(n == 0 for n in vshape):
        return None
    axes = [(j, n, s) for j, (n, s) in enumerate(zip(vshape, vstrides)) if n > 1]
    low = off + sum(s * (n - 1) for _, n, s in axes if s < 0)  # the view's first element in memory
    if not 0 <= low < size:
        return None
    own = sorted({abs(s) for _, _, s in axes}, reverse=True)
    root = []  # the strides of the root's axes, in elements
    r = 1
    for n in reversed(memshape):
        root.append(r)
        r *= n
    for cuts in (own, own + root, root + own):
        m = _fit(size, memshape, low, axes, cuts)
        if m is not None:
            break
    else:
        return None
    m.fortran = fortran
    picked = [j for j in m.perm]  # the view's axes, in the order the index gives them
    order = [j for j, _, _ in axes]  # ... and in the view's own order
    m.perm = tuple(picked.index(j) for j in order) if picked != order else None
    m.iperm = tuple(order.index(j) for j in picked) if picked != order else None
    back = {j for j, _, s in axes if s < 0}
    if len(axes) == len(vshape) and not back:
        m.expand = m.squeeze = None
    else:
        kept = [None if n == 1 else slice(None, None, -1) if j in back else slice(None) for j, n in enumerate(vshape)]
        m.expand = tuple(kept)
        m.squeeze = tuple(0 if k is None else k for k in kept)
    return m


def _fit(size, memshape, low, axes, cuts):
    """The memory of `size` elements read with axes of strides `cuts` (those that divide the next
    larger and are divisible by the next smaller, taken in turn), with the view's axes `axes`
    along them: a `ViewMap` (its `perm` the view's axes in the order of the index), or None."""
    chain = {size, 1}
    for c in cuts:
        if 0 < c < size and c not in chain:
            above = min(x for x in chain if x > c)
            below = max(x for x in chain if x < c)
            if above % c == 0 and c % below == 0:
                chain.add(c)
    strides = sorted(chain - {size}, reverse=True) if size > 1 else []
    shape, prev = [], size
    for r in strides:
        shape.append(prev // r)
        prev = r
    start = [(low // r) % d for r, d in zip(strides, shape)]
    index = list(start)
    used = {}
    for j, n, s in axes:
        a = abs(s)
        i = next((i for i, r in enumerate(strides) if a % r == 0), None) if a else None
        if i is None or i in used:
            return None
        step = a // strides[i]
        if start[i] + step * (n - 1) >= shape[i]:
            return None
        used[i] = j
        index[i] = slice(start[i], start[i] + step * (n - 1) + 1, step)
    m = ViewMap()
    m.memshape, m.shape, m.index = memshape, tuple(shape), tuple(index)
    m.full = all(
        (type(x) is slice and x.start == 0 and x.step == 1 and x.stop == d) or (type(x) is int and d == 1)
        for x, d in zip(index, shape)
    )
    m.perm = [used[i] for i in sorted(used)]
    return m


def place(g, shape, idx, like=None, dtype=None):
    """The cotangent of an array of shape `shape` for its items `a[idx]` (a basic index: integers,
    slices, None, Ellipsis) that received `g`: zero, with `g` there, in `g`'s library (`like`'s
    when `g` is a NumPy array), chunked like `like` where zeros are made.

    >>> place(np.arange(1.0, 4.0), (4, 2), (slice(2, None, -1), 1))
    array([[0., 3.],
           [0., 2.],
           [0., 1.],
           [0., 0.]])
    """
    if like is not None and not is_foreign(g):
        g = namespace(like).asarray(g)
    probe = np.empty(shape, dtype=np.uint8)  # stands for the array: only its layout is used
    idx = idx if type(idx) is tuple else (idx,)
    if not any(i is Ellipsis for i in idx):
        idx = idx + (Ellipsis,)  # so that the items integers alone pick are a (0-d) view too
    w = probe[idx]
    if w.size == 0:
        return zeros_like(like, dtype=dtype) if like is not None else namespace(g).zeros(shape, dtype=dtype or g.dtype)
    if g.shape != w.shape:
        g = np.broadcast_to(g, w.shape)  # in g's library (through __array_function__)
    return view_map(probe, w).scatter(g, like, dtype)
