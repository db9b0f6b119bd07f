"""Constructors: named tuples and dataclasses, whose fields are their arguments."""
import dataclasses

from ..errors import NoRuleError
from ..tangents import Tangent


def _field_bar(y_bar, name, i):
    if y_bar is None:
        return None
    if isinstance(y_bar, Tangent):
        return y_bar.fields.get(name)
    if isinstance(y_bar, dict):
        return y_bar.get(name)
    if isinstance(y_bar, tuple):
        return y_bar[i]
    return getattr(y_bar, name, None)


def construct(cls, args, kw, kwform):
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        names = list(cls._fields)
    elif dataclasses.is_dataclass(cls) and not _has_source(_init_of(cls)):
        if hasattr(cls, "__post_init__"):
            return _construct_dataclass_with_post_init(cls, args, kw, kwform)
        names = [f.name for f in dataclasses.fields(cls) if f.init]
    else:
        return _construct_with_init(cls, args, kw, kwform)
    y = cls(*args, **kw)
    n = len(args)

    def constructor_pullback(y_bar):
        bars = [_field_bar(y_bar, name, i) for i, name in enumerate(names)]
        if kwform:
            return None, tuple(bars[:n]), {k: _field_bar(y_bar, k, names.index(k)) for k in kw if k in names}
        return (None,) + tuple(bars[:n])

    return y, constructor_pullback


def _has_source(f):
    code = getattr(f, "__code__", None)
    return code is not None and not code.co_filename.startswith("<")


def _construct_with_init(cls, args, kw, kwform):
    """cls(*args): object.__new__, then the transformed __init__ (which sets the fields)."""
    from .runtime import _class_attr, _transform_method, accepts_none
    from .mutation import deposit, withdraw

    init = _class_attr(cls, "__init__")
    if init is object.__init__ and not args and not kw:
        obj = object.__new__(cls) if _class_attr(cls, "__new__") in (None, object.__new__) else cls()
        return obj, (lambda y_bar: (None, (), {})) if kwform else (lambda y_bar: (None,))
    if not hasattr(init, "__code__"):
        raise NoRuleError(cls, "its __init__ has no Python source")
    new = _class_attr(cls, "__new__")
    obj = object.__new__(cls) if new in (None, object.__new__) else cls.__new__(cls, *args, **kw)
    y_init, pb = _transform_method(init, obj, args, kw if kwform else None)
    del y_init

    def constructor_pullback(y_bar):
        if not accepts_none(pb):
            n = len(args)
            return (None, None, {}) if kwform else (None,) * (n + 1)
        deposit(obj, y_bar)
        bars = pb(None)
        withdraw(obj, None)
        if kwform:
            _, args_bar, kwargs_bar = bars
            return None, tuple(args_bar)[0:], kwargs_bar
        return (None,) + tuple(bars[1:])

    return obj, constructor_pullback


def _init_of(cls):
    for klass in cls.__mro__:
        if "__init__" in klass.__dict__:
            return klass.__dict__["__init__"]
    return None


def _construct_dataclass_with_post_init(cls, args, kw, kwform):
    """A dataclass whose generated __init__ calls __post_init__: the fields are set here, and
    __post_init__ (which may change them) is transformed like any method."""
    from .mutation import deposit, withdraw
    from .runtime import _class_attr, _transform_method, accepts_none

    fields = [f for f in dataclasses.fields(cls) if f.init]
    values = {}
    for i, f in enumerate(fields):
        if i < len(args):
            values[f.name] = args[i]
        elif f.name in kw:
            values[f.name] = kw[f.name]
        elif f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
        else:
            raise TypeError(f"{cls.__name__}() missing argument {f.name!r}")
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    _, pb = _transform_method(_class_attr(cls, "__post_init__"), obj, (), None)
    names = [f.name for f in fields]
    n = len(args)

    def post_init_constructor_pullback(y_bar):
        deposit(obj, y_bar)
        self_bar = pb(None)[0] if accepts_none(pb) else None
        self_bar = withdraw(obj, self_bar)
        bars = [_field_bar(self_bar, name, i) if self_bar is not None else None for i, name in enumerate(names)]
        if kwform:
            return None, tuple(bars[:n]), {k: bars[names.index(k)] for k in kw if k in names}
        return (None,) + tuple(bars[:n])

    return obj, post_init_constructor_pullback
