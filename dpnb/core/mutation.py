"""Mutation inside differentiated code: attributes, items, and the methods of lists and dicts.

A mutation's pullback turns the cotangent of the object *after* the mutation
into its cotangent *before* it, and hands out the cotangent of the value that
was written: `pullback(obj_after) -> (obj_before, value_bar)`. Cotangents of
lists are lists, of dicts dicts, of objects `Tangent`s; they are copied, never
changed in place.

An object's cotangent can also wait in `STORE`, keyed by identity: a
constructor puts there the cotangent of the object it built before running the
pullback of `__init__`, and a method call puts there the cotangent of `self`
before running the method's pullback; the first mutation pullback takes it.
"""
import numpy as np

from ..errors import DifferentiationError
from ..tangents import Tangent, accumulate

#: id(obj) -> [obj, cotangent]: cotangents waiting for the pullback of a mutation
STORE = {}


def deposit(obj, bar):
    if bar is None:
        return
    entry = STORE.get(id(obj))
    if entry is None:
        STORE[id(obj)] = [obj, bar]
    else:
        entry[1] = accumulate(entry[1], bar)


def withdraw(obj, bar):
    """`bar` plus whatever waits in the store for `obj`."""
    entry = STORE.pop(id(obj), None)
    if entry is None:
        return bar
    return accumulate(bar, entry[1])


# --- attributes --------------------------------------------------------------------------


def setattr_(obj, name, value):
    """obj.name = value; returns the pullback obj_after -> (obj_before, value_bar)."""
    from .runtime import _class_attr, call

    prop = _class_attr(type(obj), name)
    if isinstance(prop, property):
        if prop.fset is None:
            raise AttributeError(f"property {name!r} of {type(obj).__name__!r} has no setter")
        _, pb = call(prop.fset, obj, value)

        def property_set_pullback(obj_after):
            deposit(obj, obj_after)
            _, self_bar, value_bar = pb(None)
            return withdraw(obj, self_bar), value_bar

        return property_set_pullback
    setattr(obj, name, value)

    def setattr_pullback(obj_after):
        after = withdraw(obj, obj_after)
        if after is None:
            return None, None
        if isinstance(after, Tangent):
            fields = dict(after.fields)
            value_bar = fields.pop(name, None)
            return (Tangent(after.primal_type, fields) if fields else None), value_bar
        raise DifferentiationError(f"unexpected cotangent {type(after).__name__} for an object")

    return setattr_pullback


# --- items -----------------------------------------------------------------------------


def setitem(obj, idx, value):
    """obj[idx] = value; returns the pullback obj_after -> (obj_before, value_bar)."""
    from .runtime import _class_attr, _is_user, call

    t = type(obj)
    if _is_user(obj):
        meth = _class_attr(t, "__setitem__")
        if meth is not None and hasattr(meth, "__code__"):
            _, pb = call(meth, obj, idx, value)

            def user_setitem_pullback(obj_after):
                deposit(obj, obj_after)
                bars = pb(None)
                return withdraw(obj, bars[1]), bars[3]

            return user_setitem_pullback
    if t is dict:
        obj[idx] = value

        def dict_setitem_pullback(obj_after):
            after = withdraw(obj, obj_after)
            if not after:
                return None, None
            before = dict(after)
            value_bar = before.pop(idx, None)
            return (before or None), value_bar

        return dict_setitem_pullback
    if t is list:
        if isinstance(idx, slice):
            n_old = len(obj[idx])
            start, _, step = idx.indices(len(obj))
            if step != 1:
                raise DifferentiationError("assigning to an extended slice of a list is not supported; build a new list")
            n_new = len(value)
            obj[idx] = value

            def list_slice_setitem_pullback(obj_after):
                after = withdraw(obj, obj_after)
                if after is None:
                    return None, None
                piece = after[start : start + n_new]
                from .runtime import structure_bar

                value_bar = structure_bar(value, list(piece)) if any(p is not None for p in piece) else None
                before = list(after[:start]) + [None] * n_old + list(after[start + n_new :])
                return before, value_bar

            return list_slice_setitem_pullback
        i = idx + len(obj) if idx < 0 else idx
        obj[idx] = value

        def list_setitem_pullback(obj_after):
            after = withdraw(obj, obj_after)
            if after is None:
                return None, None
            before = list(after)
            value_bar = before[i]
            before[i] = None
            return before, value_bar

        return list_setitem_pullback
    if t is np.ndarray:
        return _array_setitem(obj, idx, value)
    obj[idx] = value

    def opaque_setitem_pullback(obj_after):
        if withdraw(obj, obj_after) is None:
            return None, None
        raise DifferentiationError(
            f"cannot send gradients back through item assignment on a {t.__name__}; "
            "use a list, dict or NumPy array"
        )

    return opaque_setitem_pullback


#: array mutations of the running forward pass, for `restore` (see `_array_setitem`)
def _array_setitem(a, idx, value):
    """a[idx] = value for an array; the old values are kept so the backward pass can put them back.

    Pullbacks of earlier operations may hold `a` itself; before they run, the
    backward pass restores what this assignment overwrote, and re-applies it
    when the whole backward pass is over.
    """
    old = np.array(a[idx], copy=True)
    a[idx] = value
    new = np.array(a[idx], copy=True)
    from . import runtime

    def array_setitem_pullback(obj_after):
        a[idx] = old  # earlier pullbacks see the values they saw in the forward pass
        runtime.RESTORED.append((a, idx, new))
        if obj_after is None:
            return None, None
        g = np.array(obj_after, copy=True)
        piece = np.array(g[idx], copy=True)  # a copy: zeroing g below must not change it
        g[idx] = 0
        from ..rules.broadcast import unbroadcast

        value_bar = unbroadcast(np.asarray(piece), value) if not isinstance(value, (bool, np.bool_)) else None
        return g, value_bar

    return array_setitem_pullback


# --- methods of lists and dicts that change them -------------------------------------------

MUTATING = {}


def mutating(descriptor):
    def decorate(rule):
        MUTATING[descriptor] = rule
        return rule

    return decorate


def _after(obj, obj_after):
    return withdraw(obj, obj_after)


@mutating(list.append)
def list_append_rrule(xs, v):
    xs.append(v)

    def append_pullback(y_bar, obj_after):
        after = _after(xs, obj_after)
        if after is None:
            return None, None
        return list(after[:-1]), after[-1]

    return None, append_pullback


@mutating(list.extend)
def list_extend_rrule(xs, it):
    it = list(it) if not isinstance(it, (list, tuple, np.ndarray)) else it
    k = len(it)
    xs.extend(it)

    def extend_pullback(y_bar, obj_after):
        after = _after(xs, obj_after)
        if after is None:
            return None, None
        from .runtime import structure_bar

        piece = list(after[len(after) - k :])
        it_bar = structure_bar(it, piece) if any(p is not None for p in piece) else None
        return list(after[: len(after) - k]), it_bar

    return None, extend_pullback


@mutating(list.insert)
def list_insert_rrule(xs, i, v):
    n = len(xs)
    j = max(0, min(n, i + n if i < 0 else i))
    xs.insert(i, v)

    def insert_pullback(y_bar, obj_after):
        after = _after(xs, obj_after)
        if after is None:
            return None, None, None
        return list(after[:j]) + list(after[j + 1 :]), None, after[j]

    return None, insert_pullback


@mutating(list.pop)
def list_pop_rrule(xs, *index):
    i = index[0] if index else -1
    j = i + len(xs) if i < 0 else i
    y = xs.pop(i)
    rest = (None,) * len(index)
    n_after = len(xs)  # the list may change again before the backward pass

    def pop_pullback(y_bar, obj_after):
        after = _after(xs, obj_after)
        if after is None and y_bar is None:
            return (None,) + rest
        before = list(after) if after is not None else [None] * n_after
        before.insert(j, y_bar)
        return (before,) + rest

    return y, pop_pullback


@mutating(list.reverse)
def list_reverse_rrule(xs):
    xs.reverse()

    def reverse_pullback(y_bar, obj_after):
        after = _after(xs, obj_after)
        return (list(reversed(after)) if after is not None else None),

    return None, reverse_pullback


@mutating(list.clear)
def list_clear_rrule(xs):
    n = len(xs)
    xs.clear()

    def clear_pullback(y_bar, obj_after):
        _after(xs, obj_after)
        return ([None] * n if n else None),

    return None, clear_pullback


@mutating(dict.update)
def dict_update_rrule(d, *positional, **kw):
    other = dict(positional[0]) if positional else {}
    given = dict(other)
    given.update(kw)
    d.update(given)

    def update_pullback(y_bar, obj_after):
        after = _after(d, obj_after)
        before = dict(after) if after else {}
        written = {k: before.pop(k, None) for k in given}
        pos_bar = {k: written[k] for k in other if written[k] is not None and (k not in kw)}
        out = (before or None,) + ((pos_bar or None,) if positional else ())
        if kw:
            out += ({k: written[k] for k in kw},)
        return out

    return None, update_pullback


@mutating(dict.setdefault)
def dict_setdefault_rrule(d, k, *default_arg):
    default = default_arg[0] if default_arg else None
    existed = k in d
    y = d.setdefault(k, default)

    def setdefault_pullback(y_bar, obj_after):
        after = _after(d, obj_after)
        before = dict(after) if after else {}
        if existed:
            before[k] = accumulate(before.get(k), y_bar)
            return ((before or None), None) + (None,) * len(default_arg)
        default_bar = accumulate(before.pop(k, None), y_bar)
        return ((before or None), None) + ((default_bar,) if default_arg else ())

    return y, setdefault_pullback


_MISSING = object()


@mutating(dict.pop)
def dict_pop_rrule(d, k, default=_MISSING):
    existed = k in d
    y = d.pop(k) if default is _MISSING else d.pop(k, default)

    has_default = default is not _MISSING

    def pop_pullback(y_bar, obj_after):
        after = _after(d, obj_after)
        before = dict(after) if after else {}
        if existed:
            before[k] = accumulate(before.get(k), y_bar)
            return ((before or None), None) + ((None,) if has_default else ())
        return ((before or None), None) + ((y_bar,) if has_default else ())

    return y, pop_pullback


@mutating(dict.clear)
def dict_clear_rrule(d):
    d.clear()

    def clear_pullback(y_bar, obj_after):
        _after(d, obj_after)
        return (None,)

    return None, clear_pullback


def _refuse_in_place(name, alternative):
    def in_place_rrule(a, *args, **kwargs):
        from ..errors import user_location

        raise DifferentiationError(
            f"ndarray.{name}() changes the array in place ({user_location()}), which dpnb does not "
            f"differentiate; use {alternative} instead"
        )

    in_place_rrule.__name__ = f"ndarray_{name}_rrule"
    return in_place_rrule


for _name, _alt in [
    ("sort", "a = np.sort(a)"),
    ("partition", "a = np.partition(a, k)"),
    ("fill", "a = np.full_like(a, value)"),
    ("put", "a = a.copy(); a[idx] = v (on an array made inside the function)"),
    ("resize", "a = np.resize(a, shape)"),
]:
    MUTATING[getattr(np.ndarray, _name)] = _refuse_in_place(_name, _alt)


# --- write-backs: obj was changed in place, and obj is container[key] ------------------------


def writeback_item(container, key, obj):
    """container[key] is obj, changed in place: nothing to do now; backward, the pullback of
    `container[key] = obj` (container's cotangent after -> before, and obj's)."""
    t = type(container)
    if t is dict:

        def dict_writeback_pullback(after):
            after = withdraw(container, after)
            if not after:
                return None, None
            before = dict(after)
            return (before or None), before.pop(key, None)

        return dict_writeback_pullback
    if t is list:
        n = len(container)
        i = key + n if isinstance(key, int) and key < 0 else key

        def list_writeback_pullback(after):
            after = withdraw(container, after)
            if after is None:
                return None, None
            before = list(after)
            if isinstance(i, int):
                piece, before[i] = before[i], None
                return before, piece
            return after, None

        return list_writeback_pullback
    if t is np.ndarray:

        def array_writeback_pullback(after):
            if after is None:
                return None, None
            g = np.array(after, copy=True)
            piece = np.array(g[key], copy=True)
            g[key] = 0
            return g, piece

        return array_writeback_pullback

    def other_writeback_pullback(after):
        return after, None

    return other_writeback_pullback


def writeback_attr(container, name, obj):
    """container.name is obj, changed in place (see writeback_item)."""

    def attr_writeback_pullback(after):
        after = withdraw(container, after)
        if after is None:
            return None, None
        if isinstance(after, Tangent):
            fields = dict(after.fields)
            piece = fields.pop(name, None)
            return (Tangent(after.primal_type, fields) if fields else None), piece
        return after, None

    return attr_writeback_pullback
