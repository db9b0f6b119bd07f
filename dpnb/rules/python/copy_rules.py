"""Rules for `copy.copy` and `copy.deepcopy`: the copy has the layout of the original, so its
cotangent is the original's (a shallow copy shares the objects inside, whose cotangents live
with them; a deep copy's cotangent is sent into the original's objects, level by level).

A class's own `__copy__` (for `copy.copy`) or `__deepcopy__` (for `copy.deepcopy` of it) is run
as the user's code, differentiated: what it does to the fields is what the gradient follows.
Any other way a class says how it is copied (`__reduce__`, `__reduce_ex__`, `__getstate__`,
`__setstate__` of its own, or a `__deepcopy__` or `__copy__` of an object deeper inside a deep
copy) makes a copy whose layout need not be the original's: refused, naming the class."""
import copy
import types

import numpy as np

from ...errors import DifferentiationError
from ..registry import register

#: the methods by which a class says how it is copied
_COPYING = ("__copy__", "__deepcopy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__")


def _own(cls, name):
    """The Python function a class of the user's defines (or inherits) for `name`, or None."""
    from ...core.mutation import _class_attr

    f = _class_attr(cls, name)
    return f if isinstance(f, types.FunctionType) else None


def _refuse(cls, how):
    raise DifferentiationError(
        f"{how} of a {cls.__qualname__}, whose class says how it is copied ({', '.join(n for n in _COPYING if _own(cls, n))}): "
        "dpnb follows a copy with the original's layout only; copy its fields by hand instead"
    )


def _custom(cls, names):
    return type(cls) is type and any(_own(cls, n) is not None for n in names)


def _check_deep(x, top, seen):
    """Refuse an object inside `x` (not `x` itself when `top` is its own `__deepcopy__`'s) whose
    class copies itself its own way."""
    if id(x) in seen:
        return
    seen.add(id(x))
    t = type(x)
    if t in (float, int, complex, bool, str, bytes, type(None)) or t is np.ndarray or isinstance(x, (np.generic, type)):
        return
    if t in (list, tuple, set, frozenset):
        for v in x:
            _check_deep(v, False, seen)
        return
    if t is dict:
        for k, v in x.items():
            _check_deep(k, False, seen)
            _check_deep(v, False, seen)
        return
    if _custom(t, _COPYING):
        _refuse(t, "a deep copy")
    d = getattr(x, "__dict__", None)
    if isinstance(d, dict):
        for v in d.values():
            _check_deep(v, False, seen)


def copy_rrule(x):
    from ...core.runtime import call

    t = type(x)
    own = _own(t, "__copy__") if type(t) is type else None
    if own is not None:
        y, pb = call(own, x)  # the class's own copy, differentiated
        return y, lambda y_bar: (None, pb(y_bar)[1])
    if _custom(t, _COPYING[2:]):
        _refuse(t, "a copy")
    y = copy.copy(x)

    def copy_pullback(y_bar):
        return None, y_bar

    return y, copy_pullback


def deepcopy_rrule(x, *rest):
    from ...core.runtime import call

    t = type(x)
    own = _own(t, "__deepcopy__") if type(t) is type else None
    if own is not None:
        y, pb = call(own, x, rest[0] if rest else {})  # the class's own deep copy, differentiated
        return y, lambda y_bar: (None, pb(y_bar)[1]) + (None,) * len(rest)
    _check_deep(x, True, set())
    y = copy.deepcopy(x, *rest)

    def deepcopy_pullback(y_bar):
        return (None, y_bar) + (None,) * len(rest)

    return y, deepcopy_pullback


register(copy.copy, copy_rrule)
register(copy.deepcopy, deepcopy_rrule)
