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
    elif dataclasses.is_dataclass(cls) and "__init__" in cls.__dict__ and not _has_source(cls.__init__):
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
