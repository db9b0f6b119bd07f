"""Changes made in place: item and attribute assignment, deletion, the methods of lists,
dicts, sets and deques that change them, and writes into NumPy arrays.

Each change is recorded in the context's log (`heap.Context`) with what it
overwrote. Its pullback, run in the backward pass, first sends the cotangent
of what was written (taken from the object's heap entry) to the value that was
written, then undoes the change, so that the pullbacks of earlier operations see
the object as it was when they ran. When the backward pass is over, the context
redoes every change: the object is left as the forward pass left it.

Pullbacks here accept `None` (they must run whether or not a cotangent reached
the result: an undone change is still undone).
"""
import collections
import operator
import sys
import types

import numpy as np

from ..errors import DifferentiationError, NoRuleError, user_location
from ..tangents import AbstractZero, Tangent, accumulate
from . import heap as H
from ..rules.namespaces import is_foreign, library
from .heap import MISSING, Slots, managed

# --- records -----------------------------------------------------------------------------


class Rec:
    __slots__ = ()

    def undo(self):
        raise NotImplementedError

    def redo(self):
        raise NotImplementedError


class ItemRec(Rec):
    """obj[key] = new, where it held old (MISSING: no such key)."""

    __slots__ = ("obj", "key", "old", "new")

    def __init__(self, obj, key, old, new):
        self.obj, self.key, self.old, self.new = obj, key, old, new

    def undo(self):
        _put(self.obj, self.key, self.old)

    def redo(self):
        _put(self.obj, self.key, self.new)


def _put(obj, key, value):
    if value is MISSING:
        del obj[key]
    else:
        obj[key] = value


class AttrRec(Rec):
    __slots__ = ("obj", "name", "old", "new")

    def __init__(self, obj, name, old, new):
        self.obj, self.name, self.old, self.new = obj, name, old, new

    def undo(self):
        _setfield(self.obj, self.name, self.old)

    def redo(self):
        _setfield(self.obj, self.name, self.new)


def _setfield(obj, name, value):
    if value is MISSING:
        try:
            _plain_delattr(obj, name)
        except AttributeError:
            pass
    else:
        _plain_setattr(obj, name, value)


def _plain_setattr(obj, name, value):
    """obj.name = value past a `__setattr__` of Python code. A C type with a setter of its own,
    which `object.__setattr__` refuses to stand in for (f2py's LAPACK routines, whose attributes
    SciPy sets), is set through that setter."""
    try:
        object.__setattr__(obj, name, value)
    except TypeError:
        if isinstance(getattr(type(obj), "__setattr__", None), type(lambda: None)):
            raise
        setattr(obj, name, value)


def _plain_delattr(obj, name):
    try:
        object.__delattr__(obj, name)
    except TypeError:
        if isinstance(getattr(type(obj), "__delattr__", None), type(lambda: None)):
            raise
        delattr(obj, name)


class SnapshotRec(Rec):
    """A container replaced whole: before and after (lists, dicts, deques, sets)."""

    __slots__ = ("obj", "before", "after")

    def __init__(self, obj, before, after):
        self.obj, self.before, self.after = obj, before, after

    def undo(self):
        _restore(self.obj, self.before)

    def redo(self):
        _restore(self.obj, self.after)


def _restore(obj, content):
    if isinstance(obj, dict):
        obj.clear()
        dict.update(obj, content)
    elif isinstance(obj, (set,)):
        obj.clear()
        obj.update(content)
    elif isinstance(obj, collections.deque):
        obj.clear()
        obj.extend(content)
    else:
        obj[:] = content


class AppendRec(Rec):
    __slots__ = ("obj", "value")

    def __init__(self, obj, value):
        self.obj, self.value = obj, value

    def undo(self):
        self.obj.pop()

    def redo(self):
        self.obj.append(self.value)


def _log_array(ctx, rec):
    _root = H.root_of(rec.arr)
    if ctx.mutated_roots is None:
        ctx.mutated_roots = {}
    ctx.mutated_roots[id(_root)] = _root
    return _log(ctx, rec)


class ArrayRec(Rec):
    """arr[idx] = new, where it held old (copies of the region)."""

    __slots__ = ("arr", "idx", "old", "new")

    def __init__(self, arr, idx, old, new):
        self.arr, self.idx, self.old, self.new = arr, idx, old, new

    def undo(self):
        self.arr[self.idx] = self.old

    def redo(self):
        self.arr[self.idx] = self.new


class CellRec(Rec):
    __slots__ = ("cell", "old", "new")

    def __init__(self, cell, old, new):
        self.cell, self.old, self.new = cell, old, new

    def undo(self):
        _cellput(self.cell, self.old)

    def redo(self):
        _cellput(self.cell, self.new)


def _cellput(cell, v):
    if v is MISSING:
        try:
            del cell.cell_contents
        except ValueError:
            pass
    else:
        cell.cell_contents = v


def _cellget(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


def _log(ctx, rec):
    ctx.log.append(rec)
    return rec


# --- cotangent slots -----------------------------------------------------------------------


def _acc_of(ctx, obj):
    """The accumulator of heap object `obj`, or None if nothing reached it."""
    if ctx.heap is None:
        return None
    e = ctx.heap.get(id(obj if ctx.owners is None else H.keyed(ctx, obj)))  # (an object's `__dict__`: its fields')
    return None if e is None else e.acc


def _slot_take(ctx, obj, key):
    """Remove the cotangent of obj[key] / obj.key from obj's accumulator."""
    acc = _acc_of(ctx, obj)
    if acc is None:
        return None
    if type(obj) is types.CellType:
        c = acc[0]
        acc[0] = None
        return c
    if isinstance(acc, list):
        if isinstance(key, int) and -len(acc) <= key < len(acc):
            c = acc[key]
            acc[key] = None
            return c
        return None
    return acc.pop(key, None)


# --- item and attribute assignment ---------------------------------------------------------


def setitem(ctx, obj, idx, value):
    """obj[idx] = value; returns the pullback () -> value's cotangent."""
    t = type(obj)
    if t is np.ndarray:
        return _array_setitem(ctx, obj, idx, value)
    if t is list:
        if type(idx) is int:
            n = len(obj)
            i = idx + n if idx < 0 else idx
            rec = _log(ctx, ItemRec(obj, i, obj[i], value))
            obj[i] = value

            def list_setitem_pullback():
                c = _slot_take(ctx, obj, i)
                ctx.undo(rec)
                return c

            return list_setitem_pullback
        if type(idx) is slice:
            return _list_setslice(ctx, obj, idx, value)
    if t is dict or (isinstance(obj, dict) and not isinstance(_class_attr(t, "__setitem__"), type(lambda: None))):
        old = dict.get(obj, idx, MISSING) if idx in obj else MISSING
        rec = _log(ctx, ItemRec(obj, idx, old, value))
        obj[idx] = value

        def dict_setitem_pullback():
            c = _slot_take(ctx, obj, idx)
            ctx.undo(rec)
            return c

        return dict_setitem_pullback
    if isinstance(obj, collections.deque) and type(idx) is int:
        n = len(obj)
        i = idx + n if idx < 0 else idx
        rec = _log(ctx, ItemRec(obj, i, obj[i], value))
        obj[i] = value

        def deque_setitem_pullback():
            c = _slot_take(ctx, obj, i)
            ctx.undo(rec)
            return c

        return deque_setitem_pullback
    meth = _class_attr(t, "__setitem__")
    if isinstance(meth, type(lambda: None)):
        from .runtime import call

        _, pb = call(meth, obj, idx, value)

        def user_setitem_pullback():
            bars = pb(None)
            return bars[3] if bars else None

        return user_setitem_pullback
    if isinstance(obj, list):
        return _generic_snapshot_set(ctx, obj, idx, value)
    raise NoRuleError(_Op(t, "__setitem__"), "item assignment into this type is not followed")


def _generic_snapshot_set(ctx, obj, idx, value):
    before = list(obj)
    obj[idx] = value
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def snapshot_setitem_pullback():
        if _acc_of(ctx, obj) is not None and any(a is not None for a in _acc_of(ctx, obj)):
            raise DifferentiationError(f"a gradient reached an item assignment into a {type(obj).__name__}")
        ctx.undo(rec)
        return None

    return snapshot_setitem_pullback


def _list_setslice(ctx, obj, idx, value):
    items = list(value)
    n = len(obj)
    start, stop, step = idx.indices(n)
    before = list(obj)
    obj[idx] = items
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))
    if step == 1:
        stop = max(start, stop)
        positions = list(range(start, start + len(items)))
    else:
        positions = list(range(start, stop, step))

    def list_setslice_pullback():
        acc = _acc_of(ctx, obj)
        cs = None
        if acc is not None:
            cs = [acc[p] for p in positions]
            if step == 1:
                acc[start : start + len(items)] = [None] * (stop - start)
            else:
                for p in positions:
                    acc[p] = None
        ctx.undo(rec)
        if cs is None or all(c is None for c in cs):
            return None
        return _in_kind_of(value, cs)

    return list_setslice_pullback


def _in_kind_of(value, cs):
    """Cotangents of the items of iterable `value`, in its kind."""
    if isinstance(value, list):
        return list(cs)
    if isinstance(value, tuple):
        return type(value)(*cs) if hasattr(value, "_fields") else tuple(cs)
    if isinstance(value, np.ndarray):
        return H._stack_cots(cs, value)
    if any(c is not None for c in cs):
        raise DifferentiationError(
            f"a gradient reached the items of a {type(value).__name__} that was consumed by a list change; "
            "pass a list or tuple instead"
        )
    return None


def _array_setitem(ctx, arr, idx, value, exact=False):
    """`arr[idx] = value`, followed. Values written into an array of ints are truncated, and carry
    no gradient, but with `exact`: ints computed from ints (`a *= 2` of an int array, which
    `gradient` differentiates as the floats they stand for)."""
    if not arr.flags.writeable:
        arr[idx] = value  # raises NumPy's own error
    if arr.dtype.kind == "O":
        raise DifferentiationError(
            f"an array of Python objects (dtype=object) is changed in place ({user_location()}); dpnb does "
            "not follow its entries: use an array of floats, or a list"
        )
    old = arr[idx]
    old = old.copy() if isinstance(old, np.ndarray) else old
    arr[idx] = value
    new = arr[idx]
    new = new.copy() if isinstance(new, np.ndarray) else new
    rec = _log_array(ctx, ArrayRec(arr, idx, old, new))
    basic = _is_basic_index(idx)

    def array_setitem_pullback():
        c = None
        if basic and ctx.heap is not None and H.array_has_far(ctx, arr):
            # part of the array's cotangent is a Dask or CuPy array: the written region's is taken
            # out the way a view's is, and stays in that library
            c = H.array_take(ctx, arr[_with_ellipsis(idx)])
            c = _value_cot(c, value) if c is not None and (exact or arr.dtype.kind in "fc") and _has_tangent(value) else None
            ctx.undo(rec)
            return c
        acc = H.array_peek_window(ctx, arr) if ctx.heap is not None and _reached(ctx, arr) else None
        if acc is not None and (exact or arr.dtype.kind in "fc") and _has_tangent(value):
            if basic or _is_mask(idx):
                c = np.array(acc[idx], copy=True)  # (a mask writes no entry twice)
            else:
                c = _last_write_cot(arr, idx, acc)
            acc[idx] = 0
            c = _value_cot(c, value)
        elif acc is not None:
            acc[idx] = 0
        ctx.undo(rec)
        return c

    return array_setitem_pullback


def _with_ellipsis(idx):
    """A basic index that picks a view even when integers alone make it (`a[0, ...]` for `a[0]`)."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    return idx if any(i is Ellipsis for i in idx) else idx + (Ellipsis,)


def _reached(ctx, arr):
    root = H.root_of(arr)
    return id(root) in ctx.heap


def _has_tangent(v):
    if isinstance(v, (bool, np.bool_, str)) or v is None:
        return False
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "iufc"
    return True


def _value_cot(c, value):
    """The cotangent of the written value: the written region's, summed to the value's shape."""
    from ..rules._common import unbroadcast_to

    return unbroadcast_to(c, value)


def _is_basic_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    for i in items:
        if isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis:
            continue
        return False
    return True


def _is_mask(idx):
    """An index that is one boolean array (`a[mask] = v`): it picks each entry once at most."""
    return type(idx) is np.ndarray and idx.dtype == np.bool_


def _last_write_cot(arr, idx, acc):
    """With a fancy index an entry may be written twice: only the last write reaches the array."""
    region_shape = np.shape(arr[idx])
    n = int(np.prod(region_shape)) if region_shape else 1
    labels = np.full(arr.shape, -1, dtype=np.intp)
    labels[idx] = np.arange(n, dtype=np.intp).reshape(region_shape)
    # the entries of the region that wrote last where they point (a constant mask), and the
    # array's cotangent read there: linear in `acc`, as a gradient of a gradient differentiates it
    # (np.bincount's weights are not followed: jvp gave 0)
    last = labels[idx] == np.arange(n, dtype=np.intp).reshape(region_shape)
    return np.where(last, acc[idx], 0).astype(acc.dtype, copy=False)


def raw_setattr(ctx, obj, name, value):
    """object.__setattr__(obj, name, value): the field itself, whatever the class's __setattr__ does."""
    old = H._field(obj, name)
    rec = _log(ctx, AttrRec(obj, name, old, value))
    object.__setattr__(obj, name, value)

    def raw_setattr_pullback():
        c = _slot_take(ctx, obj, name)
        ctx.undo(rec)
        return c

    return raw_setattr_pullback


def _set_by_call(fn, args):
    """An assignment (or a deletion) that is the call `fn(*args)` (a property's setter or deleter, a
    descriptor's `__set__` or `__delete__`, a class's `__setattr__`), made as the user's code: the
    pullback gives the cotangent of the last argument (the value assigned; a deletion's pullback
    is only run)."""
    from .runtime import call

    _, pb = call(fn, *args)

    def set_by_call_pullback():
        bars = pb(None)
        return bars[len(args)] if bars else None

    return set_by_call_pullback


class ShapeRec(Rec):
    """arr.shape = new, where it was old: the same entries seen in another shape."""

    __slots__ = ("arr", "old", "new")

    def __init__(self, arr, old, new):
        self.arr, self.old, self.new = arr, old, new

    def undo(self):
        self.arr.shape = self.old

    def redo(self):
        self.arr.shape = self.new


def _array_setattr(ctx, a, name, value):
    """`a.shape = s`, `a.reshape(s)` made in place: the pullback gives the cotangent kept for `a`
    (when `a` owns its memory; a view's lies in its root's, which keeps its shape) `a`'s old shape
    again. Another field of an array that reinterprets its memory (`.strides`, `.dtype`) is
    refused."""
    if name != "shape":
        from ..errors import user_location

        raise DifferentiationError(
            f"assigning an array's `.{name}` reinterprets its memory ({user_location()}); dpnb does not "
            "follow it: build a new array instead (`.view`, `np.lib.stride_tricks`, `.astype`)"
        )
    old = a.shape
    a.shape = value
    rec = _log(ctx, ShapeRec(a, old, a.shape))

    def array_shape_pullback():
        e = ctx.heap.get(id(a)) if ctx.heap is not None and H.root_of(a) is a else None
        ctx.undo(rec)
        if e is not None:
            if isinstance(e.acc, np.ndarray) and e.acc.shape != old:
                e.acc = e.acc.reshape(old)
            if isinstance(e.far, np.ndarray) and e.far.shape != old:
                e.far = e.far.reshape(old)
        return None  # (a shape, a tuple of ints, has no cotangent)

    return array_shape_pullback


def setattr_(ctx, obj, name, value):
    """obj.name = value; returns the pullback () -> value's cotangent."""
    t = type(obj)
    if t is np.ndarray:
        return _array_setattr(ctx, obj, name, value)
    desc = _class_attr(t, name)
    if isinstance(desc, property):
        if desc.fset is None:
            raise AttributeError(f"property {name!r} of {t.__name__!r} has no setter")
        return _set_by_call(desc.fset, (obj, value))
    dset = _class_attr(type(desc), "__set__") if desc is not None else None
    if isinstance(dset, type(lambda: None)):
        # a descriptor of the user's with its own `__set__`: the assignment is that call
        return _set_by_call(dset, (desc, obj, value))
    custom = _class_attr(t, "__setattr__")
    if custom is not None and custom is not object.__setattr__ and isinstance(custom, type(lambda: None)):
        return _set_by_call(custom, (obj, name, value))
    if isinstance(obj, (type, type(np))):
        raise DifferentiationError(
            f"assigning to the attribute {name!r} of {'a class' if isinstance(obj, type) else 'a module'} "
            "inside a differentiated function is not followed; keep the state in an object or dict"
        )
    old = H._field(obj, name)
    rec = _log(ctx, AttrRec(obj, name, old, value))
    if custom is not None and custom is not object.__setattr__:
        setattr(obj, name, value)
    else:
        _plain_setattr(obj, name, value)

    def setattr_pullback():
        c = _slot_take(ctx, obj, name)
        ctx.undo(rec)
        return c

    return setattr_pullback


def delitem(ctx, obj, idx):
    t = type(obj)
    if t is np.ndarray:
        raise DifferentiationError("`del` of an array item")
    if isinstance(obj, dict) and type(obj).__delitem__ is dict.__delitem__:
        before = dict(obj)
        dict.__delitem__(obj, idx)
        rec = _log(ctx, SnapshotRec(obj, before, dict(obj)))

        def dict_delitem_pullback():
            ctx.undo(rec)

        return dict_delitem_pullback
    if isinstance(obj, list):
        before = list(obj)
        n = len(obj)
        removed = list(range(n))[idx] if isinstance(idx, slice) else [idx + n if idx < 0 else idx]
        del obj[idx]
        rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

        def list_delitem_pullback():
            acc = _acc_of(ctx, obj)
            ctx.undo(rec)
            if acc is not None:
                for p in sorted(removed):
                    acc.insert(p, None)

        return list_delitem_pullback
    meth = _class_attr(t, "__delitem__")
    if isinstance(meth, type(lambda: None)):
        from .runtime import call

        _, pb = call(meth, obj, idx)

        def user_delitem_pullback():
            pb(None)

        return user_delitem_pullback
    raise NoRuleError(_Op(t, "__delitem__"), "deleting items of this type is not followed")


def delattr_(ctx, obj, name):
    t = type(obj)
    desc = _class_attr(t, name)
    if isinstance(desc, property):
        # `del obj.prop`: the property's deleter, as the user's code
        if desc.fdel is None:
            raise AttributeError(f"property {name!r} of {t.__name__!r} has no deleter")
        return _set_by_call(desc.fdel, (obj,))
    ddel = _class_attr(type(desc), "__delete__") if desc is not None else None
    if isinstance(ddel, type(lambda: None)):
        return _set_by_call(ddel, (desc, obj))  # a descriptor of the user's with its own `__delete__`
    old = H._field(obj, name)
    delattr(obj, name)
    rec = _log(ctx, AttrRec(obj, name, old, MISSING))

    def delattr_pullback():
        # what reads of the name gave it after the `del` (a class attribute it no longer hid) is
        # not the removed value's
        _slot_take(ctx, obj, name)
        ctx.undo(rec)

    return delattr_pullback


class _CellWrite(Rec):
    """A closure variable about to be rebound by the statement that follows: its old value."""

    __slots__ = ("cell", "old", "new")

    def __init__(self, cell, old):
        self.cell, self.old, self.new = cell, old, MISSING

    def undo(self):
        self.new = _cellget(self.cell)
        _cellput(self.cell, self.old)

    def redo(self):
        _cellput(self.cell, self.new)


def cell_prepare(ctx, cell):
    """Before a closure variable (cell) is rebound: remember its value. Calling the result gives
    the cotangent of the new value; its `undo()` then puts the old value back."""
    return _CellWritePullback(ctx, cell, _log(ctx, _CellWrite(cell, _cellget(cell))))


class _CellWritePullback:
    __slots__ = ("ctx", "cell", "rec")

    def __init__(self, ctx, cell, rec):
        self.ctx, self.cell, self.rec = ctx, cell, rec

    def __call__(self):
        ctx, cell = self.ctx, self.cell
        c = H.cell_take(ctx, cell)
        value = _cellget(cell)
        if value is not MISSING and H.managed(value):
            # an object in the cell (an array, a list): reads through the closure left their
            # cotangent with the object itself
            c = H.take(ctx, value, c)
        return c

    def add_old(self, c):
        """Cotangent `c` for the value the cell held before this write (read by the same statement)."""
        if c is None:
            return
        old = self.rec.old
        if old is not MISSING and H.managed(old):
            H.heap_add(self.ctx, old, c)
        else:
            H.cell_entry_add(self.ctx, self.cell, c)

    def undo(self):
        self.ctx.undo(self.rec)


# --- methods that change their object ------------------------------------------------------

_NONES = {}


def _nones(n):
    t = _NONES.get(n)
    if t is None:
        t = _NONES[n] = (None,) * n
    return t


def list_append(ctx, obj, value):
    rec = _log(ctx, AppendRec(obj, value))
    obj.append(value)

    def append_pullback(y_bar):
        return None, append_back(ctx, obj, rec)

    return None, append_pullback


def append_back(ctx, obj, rec=None):
    """The backward step of list `obj`'s append (`rec`, or one of its last item): the appended
    item's cotangent (the last slot of the list's), and the append undone."""
    acc = _acc_of(ctx, obj)
    c = None
    if acc is not None and len(acc) == len(obj):
        c = acc.pop()
    ctx.undo(rec if rec is not None else AppendRec(obj, obj[-1]))
    if acc is not None and len(acc) > len(obj):
        del acc[len(obj):]
    return c


def list_extend(ctx, obj, values):
    items = list(values)
    n = len(obj)
    before = list(obj)
    obj.extend(items)
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def extend_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        cs = None
        if acc is not None:
            cs = acc[n:]
            del acc[n:]
        ctx.undo(rec)
        if cs is None or all(c is None for c in cs):
            return None, None
        return None, _in_kind_of(values, cs)

    return None, extend_pullback


def list_iadd(ctx, obj, values):
    """`obj += values` (the operator: its pullback gives the operator's three cotangents)."""
    _, pb = list_extend(ctx, obj, values)
    return obj, _selfish(ctx, obj, pb)


def list_iadd_method(ctx, obj, values):
    """`obj.__iadd__(values)` called by name: the method's cotangents (its object's, its argument's)."""
    y, pb = list_iadd(ctx, obj, values)

    def iadd_method_pullback(y_bar):
        return pb(y_bar)[1:]

    return y, iadd_method_pullback


def _selfish(ctx, obj, pb):
    """A change that returns its object (`a += b` on a list): the result's cotangent is the object's."""

    def returns_self_pullback(y_bar):
        if y_bar is not None:
            H.heap_add(ctx, obj, y_bar)
        _, c = pb(None)
        return None, None, c

    return returns_self_pullback


def list_insert(ctx, obj, index, value):
    n = len(obj)
    i = max(0, min(n, index + n if index < 0 else index))
    before = list(obj)
    obj.insert(index, value)
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def insert_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        c = None
        if acc is not None and len(acc) == len(obj):
            c = acc.pop(i)
        ctx.undo(rec)
        return None, None, c

    return None, insert_pullback


def list_pop(ctx, obj, *index):
    n = len(obj)
    i = index[0] if index else -1
    i = i + n if i < 0 else i
    before = list(obj)
    y = obj.pop(*index)
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def pop_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        ctx.undo(rec)
        if acc is not None:
            acc.insert(i, None)
        if y_bar is not None:
            H.heap_add(ctx, obj, Slots({i: y_bar}))
        return (None,) + _nones(len(index))

    return y, pop_pullback


def list_remove(ctx, obj, value):
    i = obj.index(value)
    before = list(obj)
    obj.remove(value)
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def remove_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        ctx.undo(rec)
        if acc is not None:
            acc.insert(i, None)
        return None, None

    return None, remove_pullback


def list_clear(ctx, obj):
    before = list(obj)
    obj.clear()
    rec = _log(ctx, SnapshotRec(obj, before, []))

    def clear_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        ctx.undo(rec)
        if acc is not None:
            acc[:] = [None] * len(obj)
        return (None,)

    return None, clear_pullback


def list_sort(ctx, obj, *, key=None, reverse=False):
    before = list(obj)
    order = sorted(range(len(obj)), key=(lambda i: before[i]) if key is None else (lambda i: key(before[i])), reverse=reverse)
    obj[:] = [before[i] for i in order]
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def sort_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        ctx.undo(rec)
        if acc is not None:
            new = [None] * len(acc)
            for j, i in enumerate(order):
                new[i] = acc[j]
            acc[:] = new
        return (None,)

    return None, sort_pullback


def list_reverse(ctx, obj):
    before = list(obj)
    obj.reverse()
    rec = _log(ctx, SnapshotRec(obj, before, list(obj)))

    def reverse_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        ctx.undo(rec)
        if acc is not None:
            acc.reverse()
        return (None,)

    return None, reverse_pullback


def dict_update(ctx, obj, *args, **kwargs):
    before = dict(obj)
    other = dict(*args)
    obj.update(other, **kwargs)
    rec = _log(ctx, SnapshotRec(obj, before, dict(obj)))
    keys = list(other)
    kwkeys = list(kwargs)

    def update_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        cs = {}
        if acc is not None:
            for k in keys + kwkeys:
                if k in acc:
                    cs[k] = acc.pop(k)
        ctx.undo(rec)
        out = [None]
        if args:
            src = args[0]
            part = {k: cs[k] for k in keys if k in cs and k not in kwargs and cs[k] is not None}
            if isinstance(src, dict):
                out.append(part or None)
            elif part:
                pairs = list(src)
                last = {k: i for i, (k, _) in enumerate(pairs)}
                bars = [(None, part.get(k)) if last[k] == i and part.get(k) is not None else None for i, (k, _) in enumerate(pairs)]
                out.append(_in_kind_of(src, bars))
            else:
                out.append(None)
        result = tuple(out)
        if kwkeys:
            kw = {k: cs.get(k) for k in kwkeys if cs.get(k) is not None}
            if kw:
                result = result + (kw,)
        return result

    return None, update_pullback


def dict_pop(ctx, obj, key, *default):
    existed = key in obj
    before = dict(obj)
    y = obj.pop(key, *default)
    rec = _log(ctx, SnapshotRec(obj, before, dict(obj))) if existed else None

    def dict_pop_pullback(y_bar):
        if rec is not None:
            ctx.undo(rec)
            if y_bar is not None:
                H.heap_add(ctx, obj, {key: y_bar})
            return (None, None) + _nones(len(default))
        return (None, None) + ((y_bar,) if default else ())

    return y, dict_pop_pullback


def dict_reorder(ctx, obj, *args, **kwargs):
    """OrderedDict.move_to_end: only the order changes; the slots keep their cotangents."""
    before = list(obj.items())
    obj.move_to_end(*args, **kwargs)
    rec = _log(ctx, _OrderRec(obj, before, list(obj.items())))

    def reorder_pullback(y_bar):
        ctx.undo(rec)
        return (None,) * (len(args) + 1)

    return None, reorder_pullback


class _OrderRec(Rec):
    __slots__ = ("obj", "before", "after")

    def __init__(self, obj, before, after):
        self.obj, self.before, self.after = obj, before, after

    def undo(self):
        self.obj.clear()
        for k, v in self.before:
            self.obj[k] = v

    def redo(self):
        self.obj.clear()
        for k, v in self.after:
            self.obj[k] = v


def dict_popitem(ctx, obj, *args):
    before = list(obj.items())
    k, v = y = obj.popitem(*args)
    rec = _log(ctx, _OrderRec(obj, before, list(obj.items())))

    def popitem_pullback(y_bar):
        ctx.undo(rec)
        if y_bar is not None and y_bar[1] is not None:
            H.heap_add(ctx, obj, {k: y_bar[1]})
        return (None,) + (None,) * len(args)

    return y, popitem_pullback


def dict_setdefault(ctx, obj, key, default=None):
    if key in obj:
        y = obj[key]

        def setdefault_read_pullback(y_bar):
            if y_bar is not None:
                H.heap_add(ctx, obj, {key: y_bar})
            return None, None, None

        return y, setdefault_read_pullback
    rec = _log(ctx, ItemRec(obj, key, MISSING, default))
    dict.__setitem__(obj, key, default)

    def setdefault_insert_pullback(y_bar):
        c = _slot_take(ctx, obj, key)
        ctx.undo(rec)
        if managed(default):
            # a list, dict or object inserted: what the entry carried is its, on the heap, where
            # the code that made it takes it (it was dropped)
            g = accumulate(c, y_bar)
            if g is not None:
                H.heap_add(ctx, default, g)
            return None, None, None
        return None, None, accumulate(c, y_bar)

    return default, setdefault_insert_pullback


def dict_clear(ctx, obj):
    before = dict(obj)
    obj.clear()
    rec = _log(ctx, SnapshotRec(obj, before, {}))

    def dict_clear_pullback(y_bar):
        ctx.undo(rec)
        return (None,)

    return None, dict_clear_pullback


def set_change(name):
    """Methods of sets: their elements carry no gradient; the change is recorded and undone."""

    def change(ctx, obj, *args):
        before = set(obj)
        y = getattr(set, name)(obj, *args)
        rec = _log(ctx, SnapshotRec(obj, before, set(obj)))

        def set_change_pullback(y_bar):
            ctx.undo(rec)
            return (None,) * (len(args) + 1)

        return y, set_change_pullback

    change.__name__ = f"set_{name}"
    return change


def deque_change(name):
    """Methods of deques: a snapshot before and after, and the slot cotangents moved to match."""

    def change(ctx, obj, *args):
        before = list(obj)
        y = getattr(collections.deque, name)(obj, *args)
        after = list(obj)
        rec = _log(ctx, SnapshotRec(obj, before, after))
        n_args = len(args)

        def deque_change_pullback(y_bar):
            acc = _acc_of(ctx, obj)
            out = [None] * (n_args + 1)
            if acc is not None:
                new = _deque_inverse(name, before, after, acc, args, out)
                acc[:] = new
            ctx.undo(rec)
            if y_bar is not None and name in ("pop", "popleft"):
                pos = len(before) - 1 if name == "pop" else 0
                H.heap_add(ctx, obj, Slots({pos: y_bar}))
            return tuple(out)

        return y, deque_change_pullback

    change.__name__ = f"deque_{name}"
    return change


def _deque_inverse(name, before, after, acc, args, out):
    n0 = len(before)
    acc = list(acc) + [None] * (len(after) - len(acc))
    if name == "append":
        if len(after) == n0 + 1:
            out[1] = acc[-1]
            return acc[:-1]
        out[1] = acc[-1]  # maxlen: the first item fell off
        return [None] + acc[:-1]
    if name == "appendleft":
        out[1] = acc[0]
        return acc[1:] if len(after) == n0 + 1 else acc[1:] + [None]
    if name == "pop":
        return acc + [None]
    if name == "popleft":
        return [None] + acc
    if name in ("extend", "extendleft"):
        items = list(args[0]) if isinstance(args[0], (list, tuple)) else None
        if items is None:
            return [None] * n0
        k = len(items)
        if name == "extend":
            dropped = n0 + k - len(after)
            cs = acc[len(after) - k:] if k <= len(after) else [None] * (k - len(after)) + acc
            out[1] = _in_kind_of(args[0], cs[-k:] if k else [])
            kept = acc[: len(after) - k] if k <= len(after) else []
            return [None] * dropped + kept
        cs = list(reversed(acc[:k]))
        out[1] = _in_kind_of(args[0], cs)
        return acc[k:] + [None] * (n0 - len(acc[k:]))
    if name == "rotate":
        r = args[0] if args else 1
        if n0:
            r %= n0
            return acc[r:] + acc[:r]
        return acc
    if name == "reverse":
        return acc[::-1]
    return [None] * n0


def _counter_update(ctx, obj, *args, **kwargs):
    """Counter.update adds values: the cotangent of each count goes to what was added, and stays."""
    before = dict(obj)
    other = {}
    if args:
        src = args[0]
        if isinstance(src, dict):
            other = dict(src)
        else:
            for k in src:
                other[k] = other.get(k, 0) + 1
    for k, v in kwargs.items():
        other[k] = other.get(k, 0) + v
    collections.Counter.update(obj, other)
    rec = _log(ctx, SnapshotRec(obj, before, dict(obj)))

    def counter_update_pullback(y_bar):
        acc = _acc_of(ctx, obj)
        part = {}
        if acc is not None:
            for k in other:
                if acc.get(k) is not None:
                    part[k] = acc[k]
            for k in other:
                if k not in before:
                    acc.pop(k, None)
        ctx.undo(rec)
        out = (None,)
        if args:
            out = out + ((part or None) if isinstance(args[0], dict) else None,)
        if kwargs:
            out = out + ({k: part[k] for k in kwargs if k in part},)
        return out

    return None, counter_update_pullback


def ndarray_fill(ctx, obj, value):
    pb = _array_setitem(ctx, obj, Ellipsis, value)

    def fill_pullback(y_bar):
        return None, pb()

    return None, fill_pullback


def ndarray_sort(ctx, obj, axis=-1, kind=None, order=None):
    from .runtime import call

    sorted_copy, spb = call(np.sort, obj.copy(), axis)
    pb = _array_setitem(ctx, obj, Ellipsis, sorted_copy)

    def ndarray_sort_pullback(y_bar):
        c = pb()
        if c is not None:
            bars = spb(c)
            H.array_add(ctx, obj, bars[1])
        return (None, None, None, None)[: 1 + (axis != -1)]

    return None, ndarray_sort_pullback


def ndarray_partition(ctx, obj, *args, **kwargs):
    """`a.partition(kth, axis=-1)`: `a[...] = np.partition(a, kth, axis)` (the same selection:
    `np.partition` partitions a copy in place), which NumPy's `percentile` and `quantile` make
    of a copy of their array."""
    from .runtime import call

    bound = dict(zip(("kth", "axis", "kind", "order"), args), **kwargs)
    if bound.get("order") is not None:
        raise DifferentiationError("`.partition(order=...)` sorts the fields of a structured array: dpnb does not differentiate it")
    part, ppb = call(np.partition, obj.copy(), bound["kth"], bound.get("axis", -1))
    pb = _array_setitem(ctx, obj, Ellipsis, part)

    def ndarray_partition_pullback(y_bar):
        c = pb()
        if c is not None:
            H.array_add(ctx, obj, ppb(c)[1])
        return (None,) * (1 + len(args))

    return None, ndarray_partition_pullback


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
            "matmul": "@"}


def ndarray_iop(opname):
    """a op= b for an array a: NumPy changes a in place (every alias sees it)."""
    op = getattr(operator, opname)

    def iop(ctx, a, b):
        from ..rules.registry import RULES

        old = a.copy()
        _, rule_pb = RULES[op](old, b)
        result = op(old, b)
        if type(result) is not np.ndarray and is_foreign(result):
            # a NumPy array cannot hold a lazy Dask (or a CuPy) result without computing it
            sym = _SYMBOLS.get(opname.strip("_"), opname)
            raise DifferentiationError(
                f"a NumPy array changed in place (`a {sym}= b`) by a {library(result)} array b: NumPy "
                f"would compute b into it; write `a = a {sym} b` instead"
            )
        if np.result_type(result) != a.dtype and not np.can_cast(np.result_type(result), a.dtype, "same_kind"):
            getattr(a, "__i" + opname.strip("_") + "__")(b)  # NumPy's own casting error
        # (an int array's result is ints computed from ints: NumPy refuses to cast a float result
        # into it, so the values written are exact)
        pb_set = _array_setitem(ctx, a, Ellipsis, result, exact=np.result_type(result) == a.dtype)

        def inplace_array_pullback(y_bar):
            if y_bar is not None:
                H.array_add(ctx, a, y_bar)
            c = pb_set()
            if c is None:
                return None, None, None
            _, a_c, b_c = rule_pb(c)
            return None, a_c, b_c

        return a, inplace_array_pullback

    iop.__name__ = f"ndarray_i{opname.strip('_')}"
    return iop


class _Op:
    def __init__(self, t, name):
        self.__qualname__ = f"{t.__name__}.{name}"
        self.__module__ = t.__module__


def _class_attr(t, name):
    for klass in t.__mro__:
        d = klass.__dict__
        if name in d:
            return d[name]
    return None


def ufunc_at(ctx, ufunc, a, idx, *values):
    """np.add.at(a, idx, v) / np.subtract.at(a, idx, v): unbuffered additions into `a`."""
    if ufunc not in (np.add, np.subtract) or not isinstance(a, np.ndarray):
        raise NoRuleError(_Op(type(ufunc), f"at (of np.{getattr(ufunc, '__name__', '?')})"),
                          "only np.add.at and np.subtract.at are differentiable")
    old = a.copy()
    ufunc.at(a, idx, *values)
    rec = _log_array(ctx, ArrayRec(a, Ellipsis, old, a.copy()))
    H.root_of(a)

    def ufunc_at_pullback(y_bar):
        c = None
        if values and ctx.heap is not None and _reached(ctx, a):
            w = H.array_peek_window(ctx, a)
            g = np.asarray(w)[idx]
            if ufunc is np.subtract:
                g = -g
            c = _value_cot(g, values[0])
        ctx.undo(rec)
        return (None, None, None) + ((c,) if values else ())

    return None, ufunc_at_pullback


def array_shuffle(ctx, rng, x, *axis):
    """rng.shuffle(x): the same permutation (the randomness used depends only on the length)
    drawn for the indices, then written into x as x[...] = x[perm]."""
    if not isinstance(x, np.ndarray):
        n = len(x)
        perm = np.arange(n)
        rng.shuffle(perm)
        before = list(x)
        x[:] = [before[i] for i in perm]
        rec = _log(ctx, SnapshotRec(x, before, list(x)))

        def list_shuffle_pullback(y_bar):
            acc = _acc_of(ctx, x)
            ctx.undo(rec)
            if acc is not None:
                new = [None] * len(acc)
                for j, i in enumerate(perm):
                    new[i] = acc[j]
                acc[:] = new
            return (None, None) + (None,) * len(axis)

        return None, list_shuffle_pullback
    ax = axis[0] if axis else 0
    perm = np.arange(x.shape[ax])
    rng.shuffle(perm)
    idx = (slice(None),) * ax + (perm,)
    shuffled = x[idx].copy()
    pb_set = _array_setitem(ctx, x, Ellipsis, shuffled)

    def array_shuffle_pullback(y_bar):
        c = pb_set()
        if c is not None:
            back = np.zeros_like(c)
            back[idx] = c
            H.array_add(ctx, x, back)
        return (None, None) + (None,) * len(axis)

    return None, array_shuffle_pullback


#: (base type, method name) -> change(ctx, obj, *args, **kwargs) -> (y, pullback(y_bar) -> (self_bar, *arg_bars))
MUTATORS = {
    (list, "append"): list_append,
    (list, "extend"): list_extend,
    (list, "insert"): list_insert,
    (list, "pop"): list_pop,
    (list, "remove"): list_remove,
    (list, "clear"): list_clear,
    (list, "sort"): list_sort,
    (list, "reverse"): list_reverse,
    (list, "__iadd__"): list_iadd_method,
    (dict, "update"): dict_update,
    (dict, "pop"): dict_pop,
    (dict, "popitem"): dict_popitem,
    (dict, "setdefault"): dict_setdefault,
    (dict, "clear"): dict_clear,
    (np.ndarray, "fill"): ndarray_fill,
    (np.ndarray, "sort"): ndarray_sort,
    (np.ndarray, "partition"): ndarray_partition,
    (collections.Counter, "update"): _counter_update,
    (np.ufunc, "at"): ufunc_at,
    (collections.OrderedDict, "move_to_end"): dict_reorder,
}
for _name in ("add", "discard", "remove", "update", "clear", "pop", "difference_update", "intersection_update",
              "symmetric_difference_update"):
    MUTATORS[(set, _name)] = set_change(_name)
for _name in ("append", "appendleft", "pop", "popleft", "extend", "extendleft", "rotate", "clear", "reverse"):
    MUTATORS[(collections.deque, _name)] = deque_change(_name)

#: in-place NumPy methods with no differentiable form here
REFUSED_ARRAY_METHODS = {"put", "itemset", "resize", "setfield", "byteswap"}


#: [whether the shuffles of `numpy.random`'s generators still wait to join MUTATORS]: they join
#: once the program imported `numpy.random` (there is no generator before), which dpnb does not
_RNG_PENDING = [True]


def _rng_mutators():
    random = sys.modules.get("numpy.random")
    if random is None:
        return False
    MUTATORS[(random.Generator, "shuffle")] = array_shuffle
    MUTATORS[(random.RandomState, "shuffle")] = array_shuffle
    _RNG_PENDING[0] = False
    return True


def mutator(obj, name, builtin=False):
    """The change function for obj.name(...) if that method changes obj, else None. With `builtin`,
    the method called is known to be the built-in type's own (reached through super())."""
    if name == "shuffle" and _RNG_PENDING[0]:
        _rng_mutators()
    overridden = None
    for klass in type(obj).__mro__:
        m = MUTATORS.get((klass, name))
        if m is not None:
            if overridden is not None:
                from ..errors import user_location

                raise DifferentiationError(
                    f"{overridden.__qualname__}.{name} overrides {klass.__name__}.{name} and calls the built-in one "
                    f"(super().{name} or {klass.__name__}.{name}(self, ...), {user_location()}); dpnb follows a built-in container's {name} only when no "
                    f"subclass overrides it: give the subclass's method another name, or hold a {klass.__name__} "
                    "in an attribute instead of inheriting from it"
                )
            return m
        if name in vars(klass) and overridden is None:
            if not builtin:
                return None  # a subclass's own method (a list whose append does more): its code runs
            overridden = klass
    if isinstance(obj, np.ndarray) and name in REFUSED_ARRAY_METHODS:
        from ..errors import user_location

        raise DifferentiationError(
            f"the NumPy method `.{name}()` changes its array in place ({user_location()}); dpnb does not "
            f"differentiate it: build a new array instead"
        )
    return None
