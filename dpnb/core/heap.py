"""Where cotangents live while a backward pass runs, and the record of what the forward pass changed.

A Python name is a reference: two names may reach one list, and a change made
through one is seen through the other. So the cotangent of a mutable object
(a list, a dict, a set, a user object, a function, a closure cell, a NumPy
array) does not belong to a variable: it lives in the *heap* of the running
backward pass, keyed by the object's identity, and every name that reaches the
object shares it. Immutable values (numbers, tuples, strings) have their
cotangents in variables of the generated code, one per version.

NumPy arrays are keyed by the array that owns their memory (their root): a view
(`a[1:]`, `a.T`, `a.reshape(...)`) accumulates into the window of its root's
cotangent that covers the same memory, so a change made through a view reaches
every array that shares it.

A Dask or CuPy cotangent of a NumPy array (a NumPy parameter used with Dask or CuPy data)
is never pulled into NumPy: the root keeps it apart, as an array of that library shaped like
the root (`_Entry.far`). A view's part goes in and out of it through the basic index that
picks the view's elements out of the root (`namespaces.ViewMap`), so a Dask gradient stays lazy.

The accumulator of an object has the object's layout: a list of slot cotangents
for a list, a dict for a dict, a dict of fields for an object, an array for an
array. A container's accumulator never holds the cotangent of an element that is
itself a heap object: that lives under the element's own identity.

`Context` belongs to one call of `gradient`/`pullback` (and to one thread); it
records each change the forward pass made (`log`), so that the backward pass
can undo them one by one — every pullback then sees the objects as they were
when its operation ran — and redo them all at the end.
"""
import functools
import gc
import sys
import threading
import types
import weakref
from fractions import Fraction

import numpy as np

from ..errors import DifferentiationError
from ..rules.namespaces import is_foreign, place, view_map
from ..tangents import AbstractZero, NotImplementedTangent, Tangent, accumulate

_local = threading.local()

MISSING = object()

#: types whose values are immutable: their cotangents live in variables
VALUE_TYPES = frozenset(
    {
        float, int, complex, bool, str, bytes, type(None), tuple, Fraction, range, slice, frozenset,
        np.float64, np.float32, np.float16, np.complex128, np.complex64, np.int64, np.int32, np.int16,
        np.int8, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.longdouble, type(Ellipsis),
    }
)
_NO_TANGENT = (types.ModuleType, type, types.BuiltinFunctionType, types.BuiltinMethodType, np.ufunc, np.dtype)


class Context:
    """The state of one differentiated call: what changed in the forward pass, and the heap."""

    __slots__ = ("log", "heap", "undone", "params", "leaves", "lock", "mutated_roots", "owners", "forward", "sets",
                 "__weakref__")

    def __init__(self, params=None, lock=None, forward=None):
        self.log = []  # every change made by the forward pass, in order
        self.heap = None  # id -> [obj, accumulator, owned] while a backward pass runs
        self.undone = []  # changes the running backward pass has undone
        self.params = params  # ids of tracked implicit parameters (Params), or None
        self.leaves = None  # id -> [value, cotangent] of values read from globals and closures
        self.lock = lock  # for a pullback that several threads may call; None for a private call
        self.mutated_roots = None  # id -> array whose memory the forward pass changed (kept alive: ids stay unique)
        self.owners = None  # id(obj.__dict__) -> (obj, obj.__dict__) for each one the code read (`own_dict`)
        # the pullback is made for forward mode, as the transpose it is: "jvp" (`hook` passes the
        # tangent on unchanged) or "columns" (a Jacobian's columns: `hook` sends it back to rows)
        self.forward = forward
        self.sets = None  # id(s) -> (s, ids of its elements) of each set `made_set` was told of

    # the backward pass
    def begin(self):
        self.heap = {}
        self.undone = []
        if self.params is not None:
            self.leaves = {}

    def end(self):
        """Redo what the backward pass undid, in the order the forward pass did it."""
        undone = self.undone
        self.undone = []
        for rec in reversed(undone):
            rec.redo()

    def undo(self, rec):
        rec.undo()
        self.undone.append(rec)


def current():
    """The context of the innermost differentiated call running in this thread."""
    try:
        return _local.stack[-1]
    except (AttributeError, IndexError):
        return _orphan()


def made_set(s):
    """Set `s` was made, by the rule of `set` or `frozenset`, of the items of what it was given:
    while it holds those very elements, a gradient that reaches its numbers can go back to them
    (`same_set`)."""
    ctx = current()
    if ctx.sets is None:
        ctx.sets = {}
    ctx.sets[id(s)] = (s, frozenset(map(id, s)))


def same_set(s):
    """Does set `s` hold the very elements it was made of (`made_set`, in this differentiated call
    or one it runs inside: a derivative of a derivative)?"""
    for ctx in (*reversed(getattr(_local, "stack", ())), current()):
        made = ctx.sets.get(id(s)) if ctx.sets is not None else None
        if made is not None and made[0] is s:
            return frozenset(map(id, s)) == made[1]
    return False


def _orphan():
    # a pullback or forward run outside gradient/pullback (e.g. a rule calling dpnb): a private context
    ctx = Context()
    ctx.begin()
    return ctx


def stack():
    """This thread's stack of contexts (of the user's program: depth 0)."""
    s = getattr(_local, "stack", None)
    return _level(0) if s is None else s


def push(ctx):
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _level(0)
    stack.append(ctx)


def pop():
    stack = _local.stack
    stack.pop()
    if _gc_saved and len(stack) < _gc_depth:
        _gc_restore()


# A forward pass keeps what its pullbacks need alive until the backward pass: objects that the
# garbage collector's full (oldest-generation) collections would scan again and again as the
# record grows, which makes a long loop's gradient cost grow faster than the loop. While a pass
# runs and is large enough to reach a middle-generation collection, full collections are held
# back (young ones still run, so short-lived cycles are still freed); the pass that was running
# when they were held back puts the thresholds back when it ends.

_gc_saved = None
_gc_depth = 0  # the depth of this thread's stack of contexts when full collections were held back


def _gc_hold(phase, info):
    global _gc_saved, _gc_depth
    if phase == "start" and _gc_saved is None and info["generation"] == 1:
        stack = getattr(_local, "stack", None)
        if stack:
            t = gc.get_threshold()
            _gc_saved, _gc_depth = t, len(stack)
            gc.set_threshold(t[0], t[1], max(t[2], 1 << 30))


def _gc_restore():
    global _gc_saved
    t, _gc_saved = _gc_saved, None
    if t is not None:
        gc.set_threshold(*t)


gc.callbacks.append(_gc_hold)


# When dpnb differentiates its own code (a gradient inside a gradient), the inner computation's
# calls of push, pop and current are themselves being differentiated. Each depth of
# differentiation keeps a stack of its own: code generated at depth k finds its context on
# stack k, and the rules below send the calls it makes as a program (depth k + 1) one stack
# further down, so that a third or fourth derivative never mixes two depths' contexts.


def _level(level):
    stacks = getattr(_local, "stacks", None)
    if stacks is None:
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stacks = _local.stacks = [stack]
    while len(stacks) <= level:
        stacks.append([])
    return stacks[level]


def level_push(level, ctx):
    _level(level).append(ctx)


def level_pop(level):
    _level(level).pop()


def depth():
    """How many differentiations run this code: 0 in the user's program (as dpnb runs it); inside
    a gradient being differentiated (second derivatives), 1; and so on."""
    return 0


def level_current(level):
    stack = _level(level)
    return stack[-1] if stack else _orphan()


# --- which values live in the heap -------------------------------------------------------


def managed(v):
    """Does the cotangent of `v` live in the heap (is `v` a mutable object)?"""
    t = type(v)
    if t in VALUE_TYPES:
        return False
    if t is np.ndarray or t is list or t is dict:
        return True
    if isinstance(v, (tuple, np.generic, AbstractZero)) or isinstance(v, _NO_TANGENT):
        return False
    if isinstance(v, (int, float, complex)) or type(v).__name__ == "Unbound":
        return False
    if is_foreign(v):  # a Dask or CuPy array: a value, its cotangent an array of its library
        return False
    return True


def root_of(a):
    """The array that owns the memory of array `a` (through views, and through the holder objects
    np.lib.stride_tricks.as_strided puts between a view and its array)."""
    r = a
    b = r.base
    while b is not None:
        if isinstance(b, np.ndarray):
            r = b
        else:
            inner = getattr(b, "base", None)
            if not isinstance(inner, np.ndarray):
                break
            r = inner
        b = r.base
    return r


def _float_dtype(dt):
    return dt if dt.kind in "fc" else np.dtype(np.float64)


class _Entry:
    __slots__ = ("obj", "acc", "owned", "far")

    def __init__(self, obj, acc, owned, far=None):
        self.obj = obj
        self.acc = acc
        self.owned = owned
        self.far = far  # an array: the Dask or CuPy part of its cotangent, shaped like it (or None)


def own_dict(ctx, obj):
    """`obj.__dict__` (or `vars(obj)`), read by the code: the dict is where `obj`'s fields are, so
    its cotangent is theirs. Its entries in the heap are `obj`'s (`_entry`, `take`): a field
    written through the dict and read by name, or the other way, has one cotangent."""
    d = obj.__dict__
    if ctx.owners is None:
        ctx.owners = {}
    ctx.owners[id(d)] = (obj, d)  # (the dict kept alive: its id names no other dict)
    return d


def keyed(ctx, obj):
    """What holds `obj`'s entry in the heap: `obj`, or for the `__dict__` of an object that the code
    read (`own_dict`), that object."""
    owners = ctx.owners
    if owners is not None:
        o = owners.get(id(obj))
        if o is not None:
            return o[0]
    return obj


def _entry(ctx, obj, create=True):
    """The heap entry of `obj` (an array's is its root's; an object's `__dict__`'s is the object's)."""
    heap = ctx.heap
    if heap is None:
        raise DifferentiationError("internal: no backward pass is running")
    if ctx.owners is not None:
        obj = keyed(ctx, obj)
    key = id(obj)
    e = heap.get(key)
    if e is None and create:
        e = heap[key] = _Entry(obj, _empty_acc(obj), True)
    return e


def _empty_acc(obj):
    t = type(obj)
    if t is list:
        return [None] * len(obj)
    if t is np.ndarray:
        return None  # arrays: allocated on the first contribution
    if isinstance(obj, list):
        return [None] * len(obj)
    if isinstance(obj, dict):
        return {}
    if isinstance(obj, types.CellType):
        return [None]
    if _is_deque(obj):
        return [None] * len(obj)
    return {}  # an object: its fields


def _is_deque(obj):
    import collections

    return isinstance(obj, collections.deque)


# --- arrays: windows of their root's accumulator -------------------------------------------


def _array_acc(ctx, root):
    """The accumulator of root array `root` (allocated on demand, owned by the heap)."""
    e = ctx.heap.get(id(root))
    if e is None:
        acc = np.zeros_like(root, dtype=_float_dtype(root.dtype))
        e = ctx.heap[id(root)] = _Entry(root, acc, True)
    elif e.acc is None or not e.owned or not _laid_out_like(e.acc, root):
        # a view's window is read off the root's memory layout: the accumulator has that layout
        # (a cotangent adopted whole may be in C order where the root is in F order)
        old = e.acc
        acc = np.zeros_like(root, dtype=_float_dtype(root.dtype))
        if old is not None:
            acc += old
        e.acc, e.owned = acc, True
    return e.acc


def _laid_out_like(acc, root):
    """Does accumulator `acc` lie in memory as `root` does (same order of the entries)?"""
    if not (acc.flags.c_contiguous or acc.flags.f_contiguous) or acc.shape != root.shape:
        return False
    ai, ri = acc.dtype.itemsize, root.dtype.itemsize
    return all(n <= 1 or sa * ri == sr * ai for sa, sr, n in zip(acc.strides, root.strides, root.shape))


def _window(acc, root, v):
    """The part of `acc` (root's accumulator) that lies over the memory of view `v`, and whether
    several elements of `v` share memory (then additions must go element by element)."""
    if v.dtype.itemsize != root.dtype.itemsize or v.dtype.kind != root.dtype.kind:
        raise DifferentiationError(
            f"an array of dtype {v.dtype} that views the memory of an array of dtype {root.dtype} "
            "(.real, .imag or .view) was changed in place or read after such a change; dpnb cannot follow "
            "that: make a copy first (.copy())"
        )
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        raise DifferentiationError("a change made through a view of a non-contiguous array cannot be followed; copy it first")
    off = v.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    isz = root.dtype.itemsize
    ratio = acc.dtype.itemsize / isz
    if off % isz or any(s % isz for s in v.strides):
        raise DifferentiationError("an unaligned view of an array cannot be followed; copy it first")
    flat = acc.ravel(order="K")
    start = off // isz
    # made from the lowest address up with strides >= 0, then turned where v runs backwards,
    # so the window never reaches outside the part of `flat` it is made from
    for s_, n in zip(v.strides, v.shape):
        if s_ < 0 and n > 0:
            start += (s_ // isz) * (n - 1)
    strides = tuple(int(abs(s_) * ratio) for s_ in v.strides)
    w = np.lib.stride_tricks.as_strided(flat[start:], shape=v.shape, strides=strides, writeable=True)
    if any(s_ < 0 for s_ in v.strides):
        w = w[tuple(slice(None, None, -1) if s_ < 0 else slice(None) for s_ in v.strides)]
    return w, _overlaps(v)


def _overlaps(v):
    """Do two elements of `v` share memory (a zero stride, or strides that interleave)?"""
    dims = sorted((abs(s), n) for s, n in zip(v.strides, v.shape) if n > 1)
    extent = v.dtype.itemsize
    for s, n in dims:
        if s < extent:
            return True
        extent = s * (n - 1) + extent
    return False


def _memory_index(root, v):
    """The element index, in root's memory order, of each element of view `v`."""
    isz = root.dtype.itemsize
    off = (v.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // isz
    idx = np.full(v.shape, off, dtype=np.intp)
    for axis, (s, n) in enumerate(zip(v.strides, v.shape)):
        shape = [1] * v.ndim
        shape[axis] = n
        idx = idx + (np.arange(n, dtype=np.intp) * (s // isz)).reshape(shape)
    return idx


class Indexed:
    """The cotangent of an array that only its items `idx` received (from `a[idx]`): `g` there."""

    __slots__ = ("idx", "g", "basic")

    def __init__(self, idx, g, basic):
        self.idx, self.g, self.basic = idx, g, basic

    def dense(self, v):
        out = np.zeros(v.shape, dtype=_float_dtype(v.dtype))
        self.add_into(out)
        return out

    def add_into(self, w):
        g = self.g
        if isinstance(g, AbstractZero):
            return
        if w.dtype.kind != "c" and np.iscomplexobj(g):
            g = np.real(g)
        if self.basic:
            w[self.idx] += g
        else:
            np.add.at(w, self.idx, g)


def _array_key(ctx, v):
    """The array whose accumulator holds `v`'s cotangent: its root, except for a view whose elements
    share memory (np.broadcast_to): those add up in memory and could not be told apart again, so
    such a view has an accumulator of its own (it is read-only; a change to its root is refused)."""
    root = root_of(v)
    if root is not v and (_overlaps(v) or v.dtype != root.dtype):
        if ctx.mutated_roots and id(root) in ctx.mutated_roots:
            raise DifferentiationError(
                "an array was changed in place while a view of it that dpnb cannot map onto it element by "
                "element (np.broadcast_to, .real, .imag, .view) was in use; make a copy of the view first"
            )
        return v
    return root


def array_add(ctx, v, c):
    """Add cotangent `c` to array `v` (into its root's accumulator)."""
    root = _array_key(ctx, v)
    if c is None or isinstance(c, AbstractZero):
        return
    if is_foreign(c) or (type(c) is Indexed and is_foreign(c.g)):
        _foreign_add(ctx, v, root, c)
        return
    if type(c) is NotImplementedTangent:
        _unknown_add(ctx, v, root, c)
        return
    if type(c) is Indexed:
        acc = _array_acc(ctx, root)
        if root is v:
            c.add_into(acc)
            return
        w, overlap = _window(acc, root, v)
        if overlap:
            c = c.dense(v)
        else:
            c.add_into(w)
            return
    if root is v:
        _root_add(ctx, v, _as_array_cot(c, v))
        return
    acc = _array_acc(ctx, root)
    w, overlap = _window(acc, root, v)
    c = _as_array_cot(c, v)
    if overlap:
        mem = acc.ravel(order="K")
        np.add.at(mem, _memory_index(root, v), np.broadcast_to(c, v.shape))
    else:
        w += c


def _unknown_add(ctx, v, root, c):
    """A cotangent a rule could not compute (`NotImplementedTangent`) reaching array `v`: kept as
    the array's, to be refused if anything reads it (an array made from constants, `np.eye(3)`
    given as a draw's covariance, is never read). Met with any other cotangent of the array's
    memory, it is used, and refused."""
    e = ctx.heap.get(id(root))
    if (root is not v and v.size != root.size) or (e is not None and (e.acc is not None or e.far is not None) and type(e.acc) is not NotImplementedTangent):
        c._used()
    # (a view of all of its root's memory, `np.linspace`'s result: the root's, taken with the view)
    if e is None:
        ctx.heap[id(root)] = _Entry(root, c, False)
    else:
        e.acc, e.owned = c, False


def _root_add(ctx, v, c):
    """Add array cotangent `c`, of `v`'s shape, to the entry of `v`, an array that owns its memory."""
    e = ctx.heap.get(id(v))
    if e is None:
        ctx.heap[id(v)] = _Entry(v, c, False)
        return
    if e.acc is None:
        e.acc, e.owned = c, False
        return
    if not e.owned and _exclusive(e.acc):
        e.owned = True  # nothing else holds the array the entry keeps: add into it
    if e.owned and e.acc.dtype == np.result_type(e.acc, c):
        e.acc += c
    else:
        e.acc = e.acc + c
        e.owned = True


def _exclusive(a):
    """Is array `a` held by nothing but a heap entry (and this call's argument)? Then the entry
    may add into it: no one can see the change (an array of its own memory, not a view)."""
    return type(a) is np.ndarray and a.base is None and a.flags.writeable and sys.getrefcount(a) <= _HELD_ONCE


def _count(a):  # the count `_exclusive` sees, measured the same way
    return sys.getrefcount(a)


_held = _Entry(None, np.empty(1), False)
_HELD_ONCE = _count(_held.acc)
del _held


def _foreign_add(ctx, v, root, c):
    """A Dask or CuPy cotangent for the NumPy array `v` (a NumPy parameter used with Dask or CuPy
    data): the sum stays in that library, as the arrays' own arithmetic would have it; it is
    never pulled into a NumPy accumulator. It goes to the root's foreign part, `v`'s share
    placed where `v` lies in the root (lazily, for Dask)."""
    c = _foreign_shaped(c, v)
    if root is not v:
        if v.size == 0:
            return
        c = _view_map(root, v, c).scatter(c)
    e = ctx.heap.get(id(root))
    if e is None:
        ctx.heap[id(root)] = _Entry(root, None, True, c)
    elif e.far is None:
        e.far = c
    else:
        e.far = e.far + c


def _foreign_shaped(c, v):
    """Dask or CuPy cotangent `c` of array `v` (`v` needs only a shape and a dtype) as an array
    of `v`'s shape in its library."""
    if type(c) is Indexed:
        return _foreign_dense(c, v)
    if c.dtype.kind == "c" and v.dtype.kind != "c":
        c = c.real
    if c.shape != v.shape:
        c = np.broadcast_to(c, v.shape)  # in c's library (through __array_function__)
    return c


def _foreign_dense(c, v):
    """The Dask or CuPy cotangent of array `v` that only its items `c.idx` received (`c.g` there),
    as an array of `v`'s shape in that library."""
    g = c.g
    if not c.basic:
        raise DifferentiationError(
            f"a gradient from a {_lib(g)} array reached items of a NumPy array picked by an index array "
            "(fancy indexing); make the NumPy array one of that library (dask.array.from_array, "
            "cupy.asarray), or pick the items with slices and integers"
        )
    if g.dtype.kind == "c" and v.dtype.kind != "c":
        g = g.real
    return place(g, v.shape, c.idx)


def _lib(x):
    return type(x).__module__.partition(".")[0]


def _with_far(acc, far):
    if far is None:
        return acc
    if acc is None:
        return far
    return far + acc


def _view_map(root, v, c):
    """How view `v` lies in `root` (a `ViewMap`); a DifferentiationError naming `c`'s library when
    no basic index of the root picks `v`'s elements."""
    m = view_map(root, v)
    if m is None:
        raise DifferentiationError(
            f"a gradient from a {_lib(c)} array reached a view of a NumPy array that no slicing of it "
            "gives (made with np.lib.stride_tricks or from a non-contiguous array); make the NumPy array "
            "one of that library (dask.array.from_array, cupy.asarray), or copy the view first"
        )
    return m


def _as_array_cot(c, v):
    """A cotangent for array `v` as an array of its shape (contributions from lists, numbers)."""
    if type(c) is np.ndarray and c.shape == v.shape:
        if c.dtype.kind == "c" and v.dtype.kind != "c":
            return c.real
        return c
    if isinstance(c, (list, tuple)):
        c = _stack_cots(c, v)
    c = np.asarray(c)
    if c.dtype.kind == "c" and v.dtype.kind != "c":
        c = c.real
    if c.shape != v.shape:
        try:
            c = np.broadcast_to(c, v.shape)
        except ValueError:
            raise DifferentiationError(
                f"a cotangent of shape {c.shape} reached an array of shape {v.shape}"
            ) from None
    return c


def _stack_cots(c, v):
    out = np.zeros(v.shape, dtype=_float_dtype(v.dtype))
    for i, ci in enumerate(c):
        if ci is not None and not isinstance(ci, AbstractZero):
            out[i] = ci
    return out


def array_take(ctx, v):
    """Remove and return the cotangent of array `v` (None if none reached it)."""
    root = _array_key(ctx, v)
    heap = ctx.heap
    if root is v:
        e = heap.pop(id(v), None)
        if e is None:
            return None
        return _with_far(e.acc, e.far)
    e = heap.get(id(root))
    if e is None:
        return None
    if type(e.acc) is NotImplementedTangent:
        heap.pop(id(root))
        return e.acc
    far = None
    if e.far is not None and v.size:
        m = _view_map(root, v, e.far)
        far = m.gather(e.far)
        e.far = m.zero(e.far)
    if e.acc is None:
        return far
    acc = _array_acc(ctx, root)
    w, overlap = _window(acc, root, v)
    if overlap:
        mem = acc.ravel(order="K")
        out = mem[_memory_index(root, v)]
        mem[_memory_index(root, v)] = 0
        return _with_far(out, far)
    out = w.copy()
    w[...] = 0
    return _with_far(out, far)


def array_has_far(ctx, v):
    """Has part of the cotangent of array `v`'s root come from a Dask or CuPy array?"""
    e = ctx.heap.get(id(_array_key(ctx, v)))
    return e is not None and e.far is not None


def array_peek_window(ctx, v):
    """The accumulator window of array `v`, allocated if needed (for mutation pullbacks)."""
    root = _array_key(ctx, v)
    e = ctx.heap.get(id(root))
    if e is not None and e.far is not None:
        raise DifferentiationError(
            f"a NumPy array whose gradient comes from a {_lib(e.far)} array was changed in place by more than "
            "an assignment to a slice (np.add.at, an index array); dpnb keeps that gradient in its library and "
            "cannot follow the change: change a copy, or make the array one of that library"
        )
    acc = _array_acc(ctx, root)
    if root is v:
        return acc
    w, overlap = _window(acc, root, v)
    if overlap:
        raise DifferentiationError("a change made through a broadcast (overlapping) view cannot be followed; copy it first")
    return w


# --- everything else ----------------------------------------------------------------------


def heap_add(ctx, obj, c, _seen=None):
    """Add cotangent `c` (in the external form: list, dict, Tangent, ...) to heap object `obj`."""
    if c is None or isinstance(c, AbstractZero):
        return
    t = type(obj)
    if t is np.ndarray:
        array_add(ctx, obj, c)
        return
    e = _entry(ctx, obj)
    acc = e.acc
    if t is list or isinstance(obj, list) or _is_deque(obj):
        items = list(obj) if not isinstance(obj, list) else obj
        if len(acc) != len(items):
            acc.extend([None] * (len(items) - len(acc)))
        if isinstance(c, Slots):
            pairs = c.items.items()
        elif type(c) is NotImplementedTangent:
            # (a set's marker, from the set made of the list: each number of it gets the marker)
            from ..rules._common import carries_numbers

            pairs = [(i, c) for i, el in enumerate(items) if carries_numbers(el)]
        elif isinstance(c, np.ndarray):
            pairs = enumerate(c) if c.ndim else ()
        elif isinstance(c, (list, tuple)):
            pairs = enumerate(c)
        elif isinstance(c, dict):
            pairs = c.items()
        else:
            raise DifferentiationError(f"a cotangent of type {type(c).__name__} reached a list")
        for i, ci in pairs:
            if ci is None:
                continue
            el = items[i]
            if managed(el):
                heap_add(ctx, el, ci)
            else:
                acc[i] = accumulate(acc[i], ci)
        return
    if isinstance(obj, dict):
        if isinstance(c, Slots):
            c = c.items
        if isinstance(c, Tangent):
            c = c.fields
        if not isinstance(c, dict):
            raise DifferentiationError(f"a cotangent of type {type(c).__name__} reached a dict")
        for k, ck in c.items():
            if ck is None:
                continue
            el = obj.get(k, MISSING) if k in obj else MISSING
            if el is not MISSING and managed(el):
                heap_add(ctx, el, ck)
            else:
                acc[k] = accumulate(acc.get(k), ck)
        return
    if isinstance(obj, types.CellType):
        try:
            content = obj.cell_contents
        except ValueError:
            content = MISSING
        if content is not MISSING and managed(content):
            heap_add(ctx, content, c)
        else:
            acc[0] = accumulate(acc[0], c)
        return
    if isinstance(obj, (set, frozenset)):
        if type(c) is NotImplementedTangent:  # (`unordered_marker`: refused where it is used)
            acc[""] = accumulate(acc.get(""), c)
            return
        from ..rules._common import unordered_refusal

        raise DifferentiationError(unordered_refusal("elements of a set"))
    # an object with fields (or a function: defaults, and closure variables by name)
    if isinstance(c, Tangent):
        fields = c.fields
    elif isinstance(c, dict):
        fields = c
    elif isinstance(c, Slots):
        fields = c.items
    else:
        raise DifferentiationError(f"a cotangent of type {type(c).__name__} reached an object of type {t.__name__}")
    if isinstance(obj, types.FunctionType):
        cells = dict(zip(obj.__code__.co_freevars, obj.__closure__ or ()))
        for k, ck in fields.items():
            if ck is None:
                continue
            if k in cells:
                heap_add(ctx, cells[k], ck)
            elif k == "__closure__":  # read as a tuple of cells: each to its cell
                for cell, c in zip(obj.__closure__ or (), ck):
                    if c is not None:
                        heap_add(ctx, cell, c)
            elif k in ("__code__", "__globals__", "__name__", "__qualname__", "__module__", "__dict__"):
                continue
            else:
                acc[k] = accumulate(acc.get(k), ck)
        return
    for k, ck in fields.items():
        if ck is None:
            continue
        el = _field(obj, k)
        if el is not MISSING and managed(el):
            heap_add(ctx, el, ck)
        else:
            acc[k] = accumulate(acc.get(k), ck)


def _field(obj, name):
    if not isinstance(name, str):
        return MISSING  # an iterator's slot, not an attribute
    try:  # never through a class's __getattr__
        return object.__getattribute__(obj, name)
    except (AttributeError, ValueError):  # ValueError: an empty closure cell
        return MISSING


class Slots:
    """A sparse cotangent of a sequence or mapping: {index or key: cotangent}."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


def take(ctx, v, bar):
    """The cotangent of `v` where the forward pass made it: its variable's plus its heap entry,
    which is removed (an earlier value of the object starts from nothing)."""
    if type(v) is np.ndarray:
        if v.base is None:
            e = ctx.heap.pop(id(v), None)
            c = None if e is None else e.acc if e.far is None else _with_far(e.acc, e.far)
        else:
            c = array_take(ctx, v)
        if bar is not None:
            c = accumulate(c, bar)
        return c
    if not managed(v):
        return bar
    if ctx.owners is not None and keyed(ctx, v) is not v:
        # an object's `__dict__`: the cotangents there are its object's fields', taken with it
        heap_add(ctx, v, bar)
        return None
    e = ctx.heap.pop(id(v), None) if ctx.heap is not None else None
    if e is None:
        return bar
    c = external(v, e.acc)
    return accumulate(c, bar) if bar is not None else c


def external(obj, acc):
    """An accumulator in the form rules and users see (list, dict, Tangent, ...); None if empty."""
    if isinstance(obj, list):
        return acc if any(a is not None for a in acc) else None
    if _is_deque(obj):
        return acc if any(a is not None for a in acc) else None
    if isinstance(obj, dict):
        return acc if acc else None
    if isinstance(obj, types.CellType):
        return acc[0]
    if not acc:
        return None
    if isinstance(obj, (set, frozenset)):
        return acc.get("")  # (the marker of a gradient that reached its numbers)
    return Tangent(type(obj), acc)


def take_deep(ctx, v, bar, _seen=None):
    """`take`, and the cotangents of the heap objects inside `v` too, placed in its cotangent:
    for the result of a rule, which made (or returned) the objects inside."""
    c = take(ctx, v, bar)
    t = type(v)
    if t is np.ndarray or (t in VALUE_TYPES and t is not tuple) or not ctx.heap:
        return c
    if _seen is None:
        _seen = set()
    if id(v) in _seen:
        return c
    _seen.add(id(v))
    if isinstance(v, (list, tuple)) or _is_deque(v):
        items = list(v)
        parts = None
        for i, el in enumerate(items):
            if managed(el) or isinstance(el, tuple):
                ci = take_deep(ctx, el, None, _seen)
                if ci is not None:
                    if parts is None:
                        parts = list(c) if c is not None else [None] * len(items)
                    parts[i] = accumulate(parts[i], ci)
        if parts is not None:
            if isinstance(v, tuple):
                return type(v)(*parts) if hasattr(v, "_fields") else tuple(parts)
            return parts
        return c
    if isinstance(v, dict):
        parts = None
        for k, el in v.items():
            if managed(el) or isinstance(el, tuple):
                ck = take_deep(ctx, el, None, _seen)
                if ck is not None:
                    if parts is None:
                        parts = dict(c) if c is not None else {}
                    parts[k] = accumulate(parts.get(k), ck)
        return parts if parts is not None else c
    if type(v) is functools.partial and v.keywords:
        # the keywords are a dict of their own (not a field in `__dict__`): their cotangents there
        ck = take(ctx, v.keywords, None)
        if ck is not None:
            parts = dict(c.fields) if isinstance(c, Tangent) else {}
            parts["keywords"] = ck if parts.get("keywords") is None else accumulate(parts["keywords"], ck)
            c = Tangent(functools.partial, parts)
    if managed(v) and not isinstance(v, (types.FunctionType, types.CellType, set, frozenset)):
        fields = getattr(v, "__dict__", None)
        if fields:
            parts = None
            for k, el in fields.items():
                if managed(el) or isinstance(el, tuple):
                    ck = take_deep(ctx, el, None, _seen)
                    if ck is not None:
                        if parts is None:
                            parts = dict(c.fields) if isinstance(c, Tangent) else {}
                        parts[k] = accumulate(parts.get(k), ck)
            if parts is not None:
                return Tangent(t, parts)
    return c


def acc(ctx, v, bar, c):
    """Add cotangent `c` to value `v`: into the heap if `v` is a heap object, else into its
    variable's cotangent `bar` (returned). Parts of a tuple that are heap objects go to the heap."""
    if c is None:
        return bar
    if type(v) is np.ndarray and v.base is None and type(c) is np.ndarray and c.shape == v.shape and (
        c.dtype.kind != "c" or v.dtype.kind == "c"
    ):
        # the common case, a whole array that owns its memory given an array of its shape: what
        # array_add does, without the search for its root
        _root_add(ctx, v, c)
        return bar
    if managed(v):
        heap_add(ctx, v, c)
        return bar
    if type(v) is tuple or isinstance(v, tuple):
        c = route(ctx, v, c)
        if c is None:
            return bar
    if bar is None:
        return c
    return accumulate(bar, c)


def route(ctx, v, c):
    """Send the parts of tuple cotangent `c` that belong to heap objects in `v` to the heap."""
    if not isinstance(c, tuple) or len(c) != len(v):
        return c
    out = None
    for i, el in enumerate(v):
        ci = c[i]
        if ci is None:
            continue
        if managed(el):
            if out is None:
                out = list(c)
            heap_add(ctx, el, ci)
            out[i] = None
        elif isinstance(el, tuple):
            r = route(ctx, el, ci)
            if r is not ci:
                if out is None:
                    out = list(c)
                out[i] = r
    if out is None:
        return c
    if all(x is None for x in out):
        return None
    return type(c)(*out) if hasattr(c, "_fields") else tuple(out)


def leaf(ctx, v, c):
    """A value read from a global or a closure received cotangent `c`."""
    if c is None:
        return
    if managed(v):
        heap_add(ctx, v, c)
        return
    if isinstance(v, tuple):
        c = route(ctx, v, c)
        if c is None:
            return
    leaves = ctx.leaves
    if leaves is not None:
        e = leaves.get(id(v))
        if e is None:
            leaves[id(v)] = [v, c]
        else:
            e[1] = accumulate(e[1], c)


def cell_add(ctx, cell, c):
    """A read of a closure variable (the cell `cell`) received cotangent `c`."""
    if c is not None:
        heap_add(ctx, cell, c)


def cell_entry_add(ctx, cell, c):
    """Add `c` to the cotangent kept for the cell itself, whatever value it holds now."""
    if c is None or isinstance(c, AbstractZero):
        return
    e = _entry(ctx, cell)
    e.acc[0] = accumulate(e.acc[0], c)


def cell_take(ctx, cell):
    """The cotangent of the value just stored in cell `cell` (the cell starts over before it)."""
    e = ctx.heap.pop(id(cell), None) if ctx.heap is not None else None
    if e is None:
        return None
    return e.acc[0]


def cell_take_made(ctx, cell):
    """`cell_take` for a closure variable holding an object the call itself made (the dict of a
    `**kwargs` parameter): the cell's own cotangent plus the object's heap entry, which is removed.
    Reads through the closure left their cotangent with the object (`heap_add` of a cell), and no
    caller can take it from there: none of them ever held that dict."""
    c = cell_take(ctx, cell)
    try:
        v = cell.cell_contents
    except ValueError:  # deleted
        return c
    return take(ctx, v, c)


# --- intermediates held weakly ----------------------------------------------------------------
# An array that owns its memory and that the pullback reads only to find its cotangent here is
# held by a `Ref` (see `Emitter.weaken`): if no rule's pullback kept it, it is freed when the
# forward pass returns. Then no view of it is left, and it was never changed in place (the log
# keeps every changed array alive), so nothing else can have sent it a cotangent through the heap
# and no change's pullback looks for one there: its cotangent is the pullback's own variable
# (shaped by the shape and dtype the reference keeps).


class Ref(weakref.ref):
    __slots__ = ("shape", "dtype")


def weak(v):
    """A weak reference to array `v` when it owns its memory (other values, views included, are
    kept as they are: a view's cotangent belongs in its root's window, where the pullbacks of
    changes made to the root find it, even after the view itself is gone)."""
    if type(v) is not np.ndarray or v.base is not None:
        return v
    r = Ref(v)
    r.shape, r.dtype = v.shape, v.dtype
    return r


def take_ref(ctx, r, bar):
    if type(r) is not Ref:
        return take(ctx, r, bar)
    v = r()
    return bar if v is None else take(ctx, v, bar)


def take_made(ctx, v, bar):
    """`take` of the result of an operator, `__getitem__`, property or `__getattr__` of the user's:
    for an object of a class (a new one the method made), with the cotangents of the heap objects in
    its fields (`take_deep`), which is where the code after put them; for a list, a dict, an array
    or a value, `take` (their items were not made by the method: no walk over them)."""
    t = type(v)
    if t is np.ndarray or t is list or t is dict or t in VALUE_TYPES or t.__module__.startswith("dpnb."):
        return take(ctx, v, bar)  # (dpnb's own objects, met when it differentiates its own code)
    return take_deep(ctx, v, bar)


def take_made_ref(ctx, r, bar):
    if type(r) is not Ref:
        return take_made(ctx, r, bar)
    v = r()
    return bar if v is None else take_made(ctx, v, bar)


def take_deep_ref(ctx, r, bar):
    if type(r) is not Ref:
        return take_deep(ctx, r, bar)
    v = r()
    return bar if v is None else take_deep(ctx, v, bar)


def acc_ref(ctx, r, bar, c):
    if type(r) is not Ref:
        return acc(ctx, r, bar, c)
    v = r()
    if v is not None:
        return acc(ctx, v, bar, c)
    if c is None or isinstance(c, AbstractZero):
        return bar
    if is_foreign(c.g if type(c) is Indexed else c):
        c = _foreign_shaped(c, r)  # stays in its library (lazy, for Dask), as in _foreign_add
    elif type(c) is Indexed:
        c = c.dense(r)
    else:
        c = _as_array_cot(c, r)
    return c if bar is None else bar + c
