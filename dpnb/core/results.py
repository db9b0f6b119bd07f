"""What `gradient` hands back for each argument, from the cotangents the ways of running a
gradient give (SPEC §3): None for no gradient, plain numbers for numbers, an array of its own
for an array, a `Tangent` with every field for an object, lists, tuples and dicts in kind."""
import numbers
import types

import numpy as np

from . import heap as H
from ..rules.namespaces import is_foreign
from ..tangents import AbstractZero, NotImplementedTangent, Tangent


def finish_all(bars, args):
    """`_results` for the cotangents `core.plain` gives: an array of the argument's shape is one
    the plain code made (it makes every array it hands back), or a view of one (a repeated
    number, `fwdrev._p_sum_bar`), copied; anything else `finish`es."""
    out = []
    given = []  # the ids of the arrays handed back so far (`own`)
    for b, a in zip(bars, args):
        if type(b) is _ndarray and type(a) is _ndarray and b.shape == a.shape:
            if b.base is not None or id(b) in given:
                b = b.copy()
            given.append(id(b))
        else:
            b = finish(b, a)
            if type(b) is _ndarray:
                if id(b) in given:
                    b = b.copy()
                given.append(id(b))
        out.append(b)
    return tuple(out)


_ndarray = np.ndarray


def own(out):
    """Each array handed back an array of its own, in the gradients of all the arguments and in
    the lists, tuples, dicts and `Tangent`s they hold: one handed back already is copied (a
    pullback may give two arguments, or two entries of a dict, the same array: `x + y`), and so
    is a view (of a buffer the backward pass made, or another array's)."""
    seen = set()
    return tuple(_own_in(b, seen) for b in out)


def _own_in(b, seen):
    t = type(b)
    if t is np.ndarray:
        if id(b) in seen or b.base is not None or not b.flags.writeable:
            b = b.copy()
        seen.add(id(b))
        return b
    if t is list:  # (a list, dict or Tangent here is one the finishing made: changed in place)
        for i, v in enumerate(b):
            if type(v) in _HOLDING:
                b[i] = _own_in(v, seen)
        return b
    if t is dict:
        for k, v in b.items():
            if type(v) in _HOLDING:
                b[k] = _own_in(v, seen)
        return b
    if t is Tangent:
        fields = b.fields
        for k, v in fields.items():
            if type(v) in _HOLDING:
                fields[k] = _own_in(v, seen)
        return b
    if isinstance(b, tuple) and any(type(v) in _HOLDING for v in b):
        items = [_own_in(v, seen) if type(v) in _HOLDING else v for v in b]
        return type(b)(*items) if hasattr(b, "_fields") else tuple(items)
    return b


_HOLDING = {np.ndarray, list, dict, tuple, Tangent}


def finish(bar, arg):
    """What gradient hands back for one argument: None for no gradient, plain numbers for numbers."""
    tb = type(bar)
    if tb is float:
        return bar
    if bar is None or isinstance(bar, AbstractZero):
        return None
    if tb is not np.ndarray and (is_foreign(bar) or is_foreign(arg)):
        return finish_foreign(bar, arg)
    if tb is np.ndarray and type(arg) is np.ndarray:
        if bar.dtype.kind == "c" and arg.dtype.kind in "fiub":
            # a real argument's cotangent is the real part (a loss changes by Re(bar * dx)); one
            # that reached it through code dpnb differentiated once more may still carry the rest
            bar = bar.real
        # internal cotangents may be broadcast views: hand back an array of its own
        out = bar if bar.flags.writeable and bar.base is None else bar.copy()
        if out.shape != arg.shape:
            out = np.broadcast_to(out, arg.shape).copy()
        return out
    if isinstance(arg, bool) or isinstance(arg, (str, bytes)):
        return None
    if type(arg) in (float, int) and (tb is complex or isinstance(bar, np.complexfloating)):
        return float(bar.real)  # (the real part: see above)
    if type(arg) in (float, int) and isinstance(bar, np.generic):
        return float(bar) if not np.iscomplexobj(bar) else complex(bar)
    if type(arg) in (float, int) and isinstance(bar, np.ndarray) and bar.ndim == 0:
        return float(bar)
    if type(arg) is int and type(bar) is int:
        return float(bar)
    return complete(bar, arg)


def finish_foreign(bar, arg):
    """A gradient that involves a Dask or CuPy array stays in that library, shaped like `arg`:
    a lazy Dask array (nothing is computed), a CuPy array on the device. A NumPy or number
    argument that met Dask or CuPy data gets that library's array, as their arithmetic does."""
    if not hasattr(bar, "shape"):
        bar = np.full_like(arg, bar, dtype=arg.dtype if arg.dtype.kind in "fc" else np.float64)
    shape = np.shape(arg) if hasattr(arg, "shape") or isinstance(arg, numbers.Number) else None
    if shape is not None and bar.shape != shape:
        bar = np.broadcast_to(bar, shape)
        if not is_foreign(bar) or type(bar).__module__.startswith("cupy"):
            bar = bar.copy()
    return bar


def complete(bar, primal):
    """A cotangent in the shape SPEC §3 gives: objects get every field, in their order. One a
    rule could not compute (`NotImplementedTangent`) that reached an argument is refused."""
    if bar is None or isinstance(bar, AbstractZero):
        return None
    t = type(bar)
    if t is NotImplementedTangent:
        bar._used()
    if t is H.Slots:
        if isinstance(primal, dict):
            bar = dict(bar.items)
        elif isinstance(primal, (list, tuple)):
            items = [None] * len(primal)
            for i, b in bar.items.items():
                items[i] = b
            bar = items if isinstance(primal, list) else tuple(items)
        else:
            bar = Tangent(type(primal), bar.items)
        t = type(bar)
    if t is H.Indexed:
        bar = bar.dense(primal)
        t = type(bar)
    if t is Tangent:
        if isinstance(primal, types.FunctionType) or primal is None:
            return bar
        names = field_names(primal)
        fields = {n: complete(bar.fields.get(n), getattr(primal, n, None)) for n in names}
        for n, b in bar.fields.items():
            if n not in fields:
                fields[n] = complete(b, getattr(primal, n, None))
        return Tangent(type(primal), fields)
    if t is dict and isinstance(primal, dict):
        keys = [k for k in primal if k in bar] + [k for k in bar if k not in primal]
        out = {k: complete(bar[k], primal.get(k)) for k in keys}
        return {k: v for k, v in out.items() if v is not None}
    if t in (list, tuple) and isinstance(primal, (list, tuple)) and len(bar) == len(primal):
        items = [complete(b, p) for b, p in zip(bar, primal)]
        if hasattr(primal, "_fields") and isinstance(primal, tuple):
            return type(primal)(*items)
        return list(items) if isinstance(primal, list) else tuple(items)
    if isinstance(bar, tuple) and hasattr(bar, "_fields") and isinstance(primal, tuple):
        return type(bar)(*(complete(b, p) for b, p in zip(bar, primal)))
    if type(primal) in (float, int) and isinstance(bar, np.generic):
        return float(bar)
    if type(primal) in (float, int) and isinstance(bar, np.ndarray) and bar.ndim == 0:
        return float(bar)
    if type(bar) is np.ndarray and not bar.flags.writeable:
        bar = bar.copy()
    if type(primal) is np.ndarray and type(bar) is not np.ndarray and np.ndim(bar) == 0:
        dt = primal.dtype if primal.dtype.kind in "fc" else np.float64
        return np.asarray(bar, dtype=dt).reshape(primal.shape)
    if isinstance(primal, complex) and isinstance(bar, (float, int, np.floating)):
        return complex(bar)
    return bar


def field_names(obj):
    import dataclasses

    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj)]
    from .mangle import mangle

    names = list(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for s in (slots,) if isinstance(slots, str) else slots:
            s = mangle(klass.__name__, s)  # a private slot `__w` of class C is attribute `_C__w`
            if s not in names and not (s.startswith("__") and s.endswith("__")):
                names.append(s)
    return names
