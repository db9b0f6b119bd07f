"""Constructors: `cls(*args)` for user classes (their transformed `__init__`), dataclasses,
named tuples and the containers of `collections`.

A new object is a heap object: its fields' cotangents live in the heap under its
identity. The constructor's pullback hands that cotangent to `__init__`'s
pullback, which sends each field's cotangent to the value stored in it.
"""
import collections
import dataclasses
import types

from ..errors import NoRuleError
from ..tangents import Tangent, accumulate
from . import heap as H


def _field_bar(y_bar, name, i):
    if y_bar is None:
        return None
    if isinstance(y_bar, Tangent):
        return y_bar.fields.get(name)
    if isinstance(y_bar, dict):
        return y_bar.get(name)
    if isinstance(y_bar, H.Slots):
        return y_bar.items.get(name)
    if isinstance(y_bar, tuple):
        return y_bar[i]
    return getattr(y_bar, name, None)


def construct(cls, args, kw, kwform):
    from .runtime import _Wrapped

    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        names = list(cls._fields)
        y = cls(*args, **kw)
        n = len(args)

        def namedtuple_pullback(y_bar):
            bars = [_field_bar(y_bar, name, i) for i, name in enumerate(names)]
            if kwform:
                return None, tuple(bars[:n]), {k: bars[names.index(k)] for k in kw if k in names}
            return (None,) + tuple(bars[:n])

        return y, _Wrapped(namedtuple_pullback)
    if cls is super and len(args) == 2 and not kw:
        # `super(C, obj)`: a view of `obj` whose attributes are looked up past `C`; what is read
        # through it (`runtime.getattr_`) sends its cotangent to `obj`
        from .runtime import _Wrapped

        def super_pullback(y_bar):
            return (None, (None, y_bar), {}) if kwform else (None, None, y_bar)

        return super(*args), _Wrapped(super_pullback)
    init = _class_attr(cls, "__init__")
    if dataclasses.is_dataclass(cls) and not _has_source(init):
        return _construct_dataclass(cls, args, kw, kwform)
    if cls in _CONTAINERS:
        return _CONTAINERS[cls](cls, args, kw, kwform)
    new = _class_attr(cls, "__new__")
    own_new = new.__func__ if isinstance(new, staticmethod) and type(new.__func__) is types.FunctionType else None
    if own_new is not None:
        # a `__new__` of the user's (fields it sets, a value it makes): run as the user's code,
        # then `__init__` as Python would (if `__new__` made an instance of the class)
        from .runtime import _Wrapped, call, call_kw

        if kwform:
            obj, new_pb = call_kw(own_new, (cls,) + tuple(args), kw)
        else:
            obj, new_pb = call(own_new, cls, *args)
        if not isinstance(obj, cls) or init is object.__init__ or not hasattr(init, "__code__"):
            if isinstance(obj, cls) and init is not object.__init__:
                init(obj, *args, **kw)  # a C __init__ (of a built-in base): Python runs it too
            ctx = H.current()

            def made_by_new_pullback(y_bar):
                c = H.take_deep(ctx, obj, y_bar) if ctx.heap is not None else y_bar
                return _joined_bars(None, new_pb(c), kwform, len(args))

            return obj, _Wrapped(made_by_new_pullback)
        return _run_init(obj, init, args, kw, kwform, new_pb)
    if init is object.__init__ and new in (None, object.__new__):
        if args or kw:
            cls(*args, **kw)  # raises Python's own TypeError
        obj = object.__new__(cls)
        return obj, _Wrapped(lambda y_bar: (None, (), {}) if kwform else (None,))
    if not hasattr(init, "__code__"):
        from .runtime import _may_carry, _kw_const_pb, const_pb

        if not any(_may_carry(a) for a in args) and not any(_may_carry(v) for v in kw.values()):
            # a class implemented in C given nothing differentiable: a constant
            return cls(*args, **kw), (_kw_const_pb if kwform else const_pb(len(args)))
        raise NoRuleError(cls, "its __init__ has no Python source")
    if new in (None, object.__new__):
        obj = object.__new__(cls)
    elif new in _EMPTY_NEW:
        obj = new(cls)  # (an empty container: its `__new__` reads none of the arguments)
    else:
        obj = cls.__new__(cls, *args, **kw)
    return _run_init(obj, init, args, kw, kwform)


#: the `__new__` of built-in containers, which makes an empty one whatever it is given (`__init__`
#: fills it): called without the arguments, so that no value that may carry a gradient reaches it
_EMPTY_NEW = {dict.__new__, list.__new__, set.__new__, bytearray.__new__, collections.deque.__new__, collections.defaultdict.__new__}


def _run_init(obj, init, args, kw, kwform, new_pb=None):
    """`init(obj, *args, **kw)` run as the user's code; with `new_pb`, the pullback of the user's
    `__new__` that made `obj`, which takes what the object's fields still carry after it."""
    from .runtime import _Wrapped, call, call_kw

    ctx = H.current()
    if kwform:
        _, pb = call_kw(init, (obj,) + tuple(args), kw)
    else:
        _, pb = call(init, obj, *args)
    n = len(args)

    def constructor_pullback(y_bar):
        if y_bar is not None and ctx.heap is not None:
            H.heap_add(ctx, obj, y_bar)
        bars = pb(None)
        if new_pb is not None:
            # what the fields `__new__` set carry goes back through it
            made = new_pb(H.take_deep(ctx, obj, None) if ctx.heap is not None else None)
            return _joined_bars(bars, made, kwform, n)
        if ctx.heap is not None:
            ctx.heap.pop(id(obj), None)  # the object did not exist before
        if kwform:
            _, args_bar, kwargs_bar = bars
            args_bar = tuple(args_bar)[1:] if args_bar is not None else (None,) * n
            return None, args_bar, kwargs_bar
        return (None,) + tuple(bars[2:])

    return obj, _Wrapped(constructor_pullback)


def _joined_bars(init_bars, new_bars, kwform, n):
    """The arguments' cotangents from `__init__`'s pullback (self first) and `__new__`'s (the
    class first), added."""
    if init_bars is None:  # (no `__init__` of the user's)
        init_bars = (None, None, None) if kwform else (None,) * (n + 2)
    if kwform:
        _, ia, ik = init_bars
        _, na, nk = new_bars
        ia = tuple(ia)[1:] if ia is not None else (None,) * n
        na = tuple(na)[1:] if na is not None else (None,) * n
        args_bar = tuple(accumulate(a, b) for a, b in zip(ia, na))
        if ik is None or nk is None:
            kwargs_bar = ik if nk is None else nk
        else:
            kwargs_bar = {k: accumulate(ik.get(k), nk.get(k)) for k in set(ik) | set(nk)}
        return None, args_bar, kwargs_bar
    ia, na = tuple(init_bars[2:]), tuple(new_bars[2:])
    return (None,) + tuple(accumulate(a, b) for a, b in zip(ia, na))


def _has_source(f):
    code = getattr(f, "__code__", None)
    return code is not None and not code.co_filename.startswith("<")


def _class_attr(t, name):
    for klass in t.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _construct_dataclass(cls, args, kw, kwform):
    """A dataclass whose generated __init__ has no source: the fields are set here, and
    `__post_init__` (which may change them) is transformed like any method, given the values of
    the `InitVar` pseudo-fields as Python gives them."""
    from .runtime import _Wrapped, call

    ctx = H.current()
    initvar = dataclasses._FIELD_INITVAR
    params = [f for f in cls.__dataclass_fields__.values() if f.init and f._field_type in (dataclasses._FIELD, initvar)]
    positional = [f for f in params if not f.kw_only]
    params = positional + [f for f in params if f.kw_only]  # (the generated __init__'s order)
    values = {}
    for i, f in enumerate(params):
        if i < len(positional) and i < len(args):
            values[f.name] = args[i]
        elif f.name in kw:
            values[f.name] = kw[f.name]
        elif f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING and f._field_type is not initvar:
            values[f.name] = f.default_factory()
        else:
            cls(*args, **kw)  # raises Python's own TypeError
    if len(args) > len(positional) or any(k not in values for k in kw):
        cls(*args, **kw)
    obj = object.__new__(cls)
    for f in dataclasses.fields(cls):
        if f.name in values:
            object.__setattr__(obj, f.name, values[f.name])
        elif f.default is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default_factory())
    post = _class_attr(cls, "__post_init__")
    pb = None
    initvars = [f.name for f in params if f._field_type is initvar]
    if post is not None:
        _, pb = call(post, obj, *[values[name] for name in initvars])
    names = [f.name for f in params]
    n = len(args)

    def dataclass_constructor_pullback(y_bar):
        if y_bar is not None and ctx.heap is not None:
            H.heap_add(ctx, obj, y_bar)
        post_bars = pb(None) if pb is not None else None
        g = H.take(ctx, obj, None) if ctx.heap is not None else None
        bars = {name: _field_bar(g, name, i) for i, name in enumerate(names) if name not in initvars}
        for name, b in zip(initvars, (post_bars or ())[2:]):
            bars[name] = b
        if kwform:
            return None, tuple(bars.get(name) for name in names[:n]), {k: bars.get(k) for k in kw}
        return (None,) + tuple(bars.get(name) for name in names[:n])

    return obj, _Wrapped(dataclass_constructor_pullback)


# --- containers ---------------------------------------------------------------------------


def _from_iterable(cls, args, kw, kwform):
    """deque(iterable[, maxlen]) and list-like containers: item i of the result is item i of the input."""
    from .runtime import _Wrapped
    from .mutation import _in_kind_of

    src = args[0] if args else kw.get("iterable", ())
    items = list(src)
    rest = args[1:]
    y = cls(items, *rest, **{k: v for k, v in kw.items() if k != "iterable"})
    ctx = H.current()
    offset = len(items) - len(y)  # a maxlen drops the first items

    def container_pullback(y_bar):
        g = y_bar
        if g is None:
            return (None, (None,) * len(args), {}) if kwform else (None,) * (len(args) + 1)
        if isinstance(g, H.Slots):
            bars = [None] * len(items)
            for i, b in g.items.items():
                bars[i + offset] = b
        else:
            bars = [None] * offset + list(g)
        src_bar = _in_kind_of(src, bars)
        out = (src_bar,) + (None,) * len(rest)
        if kwform:
            return None, out[: len(args)], ({"iterable": src_bar} if "iterable" in kw else {})
        return (None,) + out

    del ctx
    return y, _Wrapped(container_pullback)


def _from_mapping(cls, args, kw, kwform):
    """OrderedDict(...), defaultdict(factory, ...), Counter(mapping): dict-like; values keep their keys."""
    from .runtime import RULES, _Wrapped

    lead = ()
    rest = args
    if cls is collections.defaultdict:
        lead, rest = args[:1], args[1:]
    y = cls(*lead, *rest, **kw)
    dict_rule = RULES[dict]
    _, dpb = dict_rule(*rest, **kw)

    def mapping_pullback(y_bar):
        if y_bar is None:
            return (None, (None,) * len(args), {}) if kwform else (None,) * (len(args) + 1)
        bars = dpb(dict(y_bar) if not isinstance(y_bar, H.Slots) else dict(y_bar.items))
        kw_bar = bars[-1] if len(bars) == len(rest) + 2 and isinstance(bars[-1], dict) else {}
        out = (None,) * len(lead) + tuple(bars[1 : 1 + len(rest)])
        if kwform:
            return None, out, kw_bar
        return (None,) + out

    return y, _Wrapped(mapping_pullback)


def _counter(cls, args, kw, kwform):
    from .runtime import _Wrapped

    if args and isinstance(args[0], dict):
        return _from_mapping(cls, args, kw, kwform)
    y = cls(*args, **kw)  # counts of items: integers, no gradient
    return y, _Wrapped(lambda y_bar: (None, (None,) * len(args), {}) if kwform else (None,) * (len(args) + 1))


_CONTAINERS = {
    collections.deque: _from_iterable,
    collections.OrderedDict: _from_mapping,
    collections.defaultdict: _from_mapping,
    collections.Counter: _counter,
}
