"""Stage 6 — runtime: what generated code calls while it runs.

`call(f, *args)` is the one dispatch point: a registered rule wins; else a
Python function is source-transformed (cached); else bound methods, callable
objects, `functools.partial` and `__wrapped__` are unwrapped; else
`NoRuleError`. Every runtime operation returns `(value, pullback)` with the
rule protocol: `pullback(y_bar) -> (f_bar, *arg_bars)`.
"""
import builtins
import functools
import operator
import types

import numpy as np

from ..errors import DifferentiationError, NoRuleError
from ..rules import registry
from ..rules.registry import ATTRIBUTE_RULES, CONSTANT, CONSTANT_ATTRIBUTES, RULES
from ..tangents import AbstractZero, Tangent, accumulate
from . import load
from .mutation import MUTATING, STORE, deposit, setattr_, setitem, withdraw, writeback_attr, writeback_item

_FunctionType = types.FunctionType
_MethodType = types.MethodType
_BuiltinMethod = types.BuiltinMethodType
_lookup = registry.lookup


def _const_pullback(n):
    nones = (None,) * (n + 1)

    def constant_pullback(y_bar):
        return nones

    return constant_pullback


_CONST_PB = [_const_pullback(n) for n in range(8)]


def const_pb(n):
    return _CONST_PB[n] if n < 8 else _const_pullback(n)


_CACHE = load.CACHE


def transform_call(f, args, allow_mutation=True):
    """Call the source-transformed adjoint of the Python function `f`."""
    key = (type(args[0]),) if len(args) == 1 else tuple(map(type, args))
    per = _CACHE.get(f.__code__)
    adj = per.get(key) if per is not None else None
    if adj is None:
        adj = load.adjoint_for(f, key)
    if adj.mutates_params and not allow_mutation:
        raise DifferentiationError(
            f"{f.__qualname__} assigns to an attribute or item of one of its arguments "
            f"({adj.mutates_params}), and that argument is being differentiated: dpnb cannot send its "
            "gradient back past the change. Work on a copy (x = x.copy()), or use the out-of-place "
            "form (e.g. np.where, or build a new list/dict)"
        )
    return adj.instance(f)(*args)


def call(f, *args):
    """(y, pullback) for `f(*args)`; pullback(y_bar) -> (f_bar, *arg_bars)."""
    if type(f) is _FunctionType:
        per = _CACHE.get(f.__code__)
        if per is not None:
            adj = per.get((type(args[0]),) if len(args) == 1 else tuple(map(type, args)))
            if adj is not None:
                t = adj.fast  # set when nothing but calling the compiled adjoint is needed
                if t is not None and f.__defaults__ is t.__defaults__:
                    return t(*args)
        try:
            rule = RULES.get(f)
        except TypeError:
            rule = None
        if rule is not None:
            return rule(*args)
        if f in registry.CONSTANTS:
            return f(*args), const_pb(len(args))
        code = f.__code__
        if not code.co_kwonlyargcount and not code.co_flags & 0x0C:
            if code.co_argcount == len(args):
                return transform_call(f, args)
            if code.co_argcount > len(args):  # defaults fill the rest
                y, pb = transform_call(f, args)
                n = len(args) + 1

                def defaults_pullback(y_bar):
                    return pb(y_bar)[:n]

                return y, _accepting(defaults_pullback, pb)
        return _positional(_transform_kw(f, args, {}))
    rule = _lookup(f)
    if rule is not None:
        if rule is CONSTANT:
            return f(*args), const_pb(len(args))
        return rule(*args)
    return _call_other(f, args, None)


def call_top(f, *args):
    """`call` for the function `gradient` was given: changing its arguments in place is refused,
    since they are what is being differentiated."""
    if type(f) is _FunctionType:
        per = _CACHE.get(f.__code__)
        if per is not None:
            adj = per.get((type(args[0]),) if len(args) == 1 else tuple(map(type, args)))
            if adj is not None:
                t = adj.fast  # None for adjoints that change their arguments
                if t is not None and f.__defaults__ is t.__defaults__:
                    return t(*args)
    if type(f) is _FunctionType and f not in RULES and f not in registry.CONSTANTS:
        code = f.__code__
        if code.co_argcount == len(args) and not code.co_kwonlyargcount and not code.co_flags & 0x0C:
            return transform_call(f, args, allow_mutation=False)
    return call(f, *args)


def call_num(f, *args):
    """`call` for a call whose result the adjoint treats as a plain number (direct recursion)."""
    y, pb = call(f, *args)
    if type(y) not in _SCALAR_TYPES and not isinstance(y, (int, float, complex, np.number)):
        raise DifferentiationError(
            f"{getattr(f, '__qualname__', f)!r} was redefined since its adjoint was compiled; "
            "call dpnb.refresh()"
        )
    return y, pb


def partial_statement(where):
    raise DifferentiationError(
        f"an exception was caught after it left the loop at {where} half done; dpnb cannot send "
        "gradients back through the iterations that ran. Catch the exception inside the loop (put the "
        "try there), or let it propagate"
    )


def effect_pb(pb, y_bar):
    """pb(y_bar), or None when nothing reaches the result and pb undoes no changes."""
    if y_bar is None and not accepts_none(pb):
        return None
    return pb(y_bar)


def deposit_arg(x, bar):
    """Before the pullback of a Python function runs: hand it the cotangent of a mutable argument
    (which it may have changed). Returns what stays with the caller."""
    if bar is None or type(x) is np.ndarray or not _MUTABLE(x):
        return bar
    deposit(x, bar)
    return None


def withdraw_arg(x, bar):
    """After that pullback: the argument's cotangent, with whatever the callee did not take."""
    if not STORE:
        return bar
    return withdraw(x, bar)


def _MUTABLE(x):
    return isinstance(x, (list, dict)) or (hasattr(x, "__dict__") and not isinstance(x, (type, types.ModuleType, types.FunctionType)))


def _positional(result):
    """A keyword-protocol (y, pullback) as a positional one: pullback -> (f_bar, *arg_bars)."""
    y, pb = result

    def positional_pullback(y_bar):
        f_bar, args_bar, _ = pb(y_bar)
        return (f_bar,) + tuple(args_bar)

    return y, _accepting(positional_pullback, pb)


def _call_other(f, args, kwargs):
    kw = kwargs or {}
    tf = type(f)
    if tf is _MethodType:
        if kwargs is None:
            return _shift(call(f.__func__, f.__self__, *args), False)
        return _shift(call_kw(f.__func__, (f.__self__,) + tuple(args), kw), True)
    if tf is _BuiltinMethod:
        owner = f.__self__
        if owner is not None and not isinstance(owner, types.ModuleType):
            desc = getattr(type(owner), f.__name__, None)
            rule = _lookup(desc) if desc is not None else None
            if rule is CONSTANT:
                y = f(*args, **kw)
                return y, _method_const_pb(len(args), kwargs is not None)
            if rule is not None:
                y, pb = rule(owner, *args, **kw)
                return y, _method_pb(pb, len(args), kwargs is not None)
    if isinstance(f, functools.partial):
        return _partial_call(f, args, kw, kwargs is not None)
    if isinstance(f, type):
        return _construct(f, args, kw, kwargs is not None)
    callm = getattr(tf, "__call__", None)
    if isinstance(callm, _FunctionType):
        if kwargs is None:
            return _shift(call(callm, f, *args), False)
        return _shift(call_kw(callm, (f,) + tuple(args), kw), True)
    wrapped = getattr(f, "__wrapped__", None)
    if wrapped is not None:
        if kwargs is None:
            return call(wrapped, *args)
        return call_kw(wrapped, tuple(args), kw)
    if isinstance(f, np.ufunc) or callable(f):
        raise NoRuleError(f)
    raise TypeError(f"{type(f).__name__!r} object is not callable")


def _method_const_pb(n, kwform):
    if kwform:
        return lambda y_bar: (None, None, None)
    return const_pb(n)


def _method_pb(pb, n, kwform):
    """Rule pullback (None, self_bar, *arg_bars) -> the bound method's: (self_bar, *arg_bars)."""
    if kwform:

        def method_pullback(y_bar):
            bars = pb(y_bar)
            return bars[1], tuple(bars[2:]), None

    else:

        def method_pullback(y_bar):
            return pb(y_bar)[1:]

    return method_pullback


def _shift(result, kwform):
    """Results of calling f.__func__(self, ...) -> bound method protocol (self_bar as f_bar)."""
    y, pb = result
    if kwform:

        def bound_pullback(y_bar):
            f_bar, args_bar, kwargs_bar = pb(y_bar)
            args_bar = tuple(args_bar) if args_bar is not None else None
            if args_bar is None:
                return None, None, kwargs_bar
            return args_bar[0], args_bar[1:], kwargs_bar

    else:

        def bound_pullback(y_bar):
            bars = pb(y_bar)
            return bars[1:]

    return y, bound_pullback


def _partial_call(p, args, kw, kwform):
    full_args = tuple(p.args) + tuple(args)
    full_kw = {**p.keywords, **kw}
    y, pb = call_kw(p.func, full_args, full_kw)
    n0 = len(p.args)

    def partial_pullback(y_bar):
        f_bar, args_bar, kwargs_bar = pb(y_bar)
        args_bar = tuple(args_bar) if args_bar is not None else (None,) * len(full_args)
        rest = args_bar[n0:]
        if kwform:
            return None, rest, kwargs_bar
        return (None,) + rest

    return y, partial_pullback


def _construct(cls, args, kw, kwform):
    from .objects import construct

    return construct(cls, args, kw, kwform)


#: code objects of generated pullbacks that may be called with None (they undo mutations)
ACCEPTS_NONE = set()
#: array assignments undone by the running backward pass, re-applied when it is over
RESTORED = []


def call_kw(f, args, kwargs):
    """(y, pullback) for `f(*args, **kwargs)`; pullback -> (f_bar, args_bar, kwargs_bar)."""
    if "out" in kwargs and kwargs["out"] is not None and isinstance(f, np.ufunc):
        from ..errors import user_location

        raise DifferentiationError(
            f"np.{f.__name__}(..., out=...) writes into an existing array ({user_location()}), which dpnb "
            f"does not differentiate; use the out-of-place form: a = np.{f.__name__}(...)"
        )
    if type(f) is _FunctionType:
        rule = RULES.get(f)
        if rule is None and f not in registry.CONSTANTS:
            return _transform_kw(f, args, kwargs)
    else:
        rule = _lookup(f)
        if rule is None:
            return _call_other(f, args, kwargs)
    if rule is CONSTANT or (rule is None):
        y = f(*args, **kwargs)
        return y, lambda y_bar: (None, None, None)
    y, pb = rule(*args, **kwargs)
    n = len(args)

    def rule_kw_pullback(y_bar):
        bars = pb(y_bar)
        return bars[0], tuple(bars[1 : n + 1]), None

    return y, rule_kw_pullback


def _transform_kw(f, args, kwargs, allow_mutation=False):
    """Call a transformed function with keywords; map its parameter cotangents back to the call."""
    args = tuple(args)
    y, pb = transform_call_kw(f, args, kwargs, allow_mutation)
    code = f.__code__
    nparams = code.co_argcount
    names = code.co_varnames[: nparams + code.co_kwonlyargcount]
    has_varargs = bool(code.co_flags & 0x04)
    has_varkw = bool(code.co_flags & 0x08)
    npos = len(args)

    def kw_pullback(y_bar):
        bars = pb(y_bar)
        f_bar = bars[0]
        pbars = bars[1:]
        # parameter order: positional params, *args, keyword-only, **kwargs
        pos_bars = list(pbars[:nparams])
        i = nparams
        var_bar = None
        if has_varargs:
            var_bar = pbars[i]
            i += 1
        kwonly_bars = pbars[i : i + code.co_kwonlyargcount]
        i += code.co_kwonlyargcount
        varkw_bar = pbars[i] if has_varkw else None
        args_bar = pos_bars[: min(npos, nparams)]
        if npos > nparams:
            extra = tuple(var_bar) if var_bar is not None else (None,) * (npos - nparams)
            args_bar += list(extra)
        kwargs_bar = {}
        by_name = dict(zip(names[:nparams], pos_bars))
        by_name.update(zip(names[nparams:], kwonly_bars))
        for k in kwargs:
            if k in by_name and (k not in names[: min(npos, nparams)]):
                kwargs_bar[k] = by_name[k]
            elif varkw_bar is not None:
                kwargs_bar[k] = varkw_bar.get(k)
        return f_bar, tuple(args_bar), kwargs_bar

    return y, _accepting(kw_pullback, pb)


def transform_call_kw(f, args, kwargs, allow_mutation=True):
    adj = load.adjoint_for(f, tuple(map(type, args[: f.__code__.co_argcount])))
    if adj.mutates_params and not allow_mutation:
        return transform_call(f, args, allow_mutation=False)  # raises the explanation
    return adj.instance(f)(*args, **kwargs)


def _mutating_rule(obj, name):
    """The rule of a built-in method that changes its object (list.append, dict.update, ...)."""
    desc = _class_attr(type(obj), name)
    if desc is None:
        return None
    try:
        return MUTATING.get(desc)
    except TypeError:
        return None


def _plain_method(obj, m):
    """The Python function behind the bound method `m` of `obj`, if it is to be transformed."""
    if type(m) is _MethodType and m.__self__ is obj:
        func = m.__func__
        if type(func) is _FunctionType and func not in RULES and func not in registry.CONSTANTS:
            return func
    return None


def callmethod(obj, name, *args):
    """(y, pullback) for obj.name(*args); pullback(y_bar, obj_after) -> (obj_before, *arg_bars).

    The pullback receives the cotangent of `obj` after the call, because the
    method may have changed `obj`, and returns its cotangent before the call.
    """
    mrule = _mutating_rule(obj, name)
    if mrule is not None:
        return mrule(obj, *args)
    m, pb0 = getattr_(obj, name)
    n = len(args)
    func = _plain_method(obj, m)
    if func is not None:
        y, fpb = _transform_method(func, obj, args, None)

        def method_pullback(y_bar, obj_after):
            if y_bar is None and not accepts_none(fpb):
                return (obj_after,) + (None,) * n
            deposit(obj, obj_after)
            bars = fpb(y_bar)
            before = accumulate(bars[0], withdraw(obj, None))
            return (before,) + tuple(bars[1:])

        return y, method_pullback
    y, pb = call(m, *args)

    def method_call_pullback(y_bar, obj_after):
        if y_bar is None:
            return (obj_after,) + (None,) * n
        bars = pb(y_bar)
        m_bar = bars[0]
        return (accumulate(obj_after, pb0(m_bar) if m_bar is not None else None),) + tuple(bars[1:])

    return y, method_call_pullback


def _transform_method(func, obj, args, kwargs):
    """Run the adjoint of func(obj, *args, **kwargs); pullback -> (self_bar, *arg_bars) [or kw form]."""
    if kwargs is None:
        code = func.__code__
        if code.co_argcount == len(args) + 1 and not code.co_flags & 0x0C:
            y, pb = transform_call(func, (obj,) + tuple(args), allow_mutation=True)

            def pullback(y_bar):
                return pb(y_bar)[1:]

            return y, _accepting(pullback, pb)
        y, pb = _transform_kw(func, (obj,) + tuple(args), {}, True)

        def kw_pullback(y_bar):
            _, args_bar, _ = pb(y_bar)
            return tuple(args_bar)

        return y, _accepting(kw_pullback, pb)
    y, pb = _transform_kw(func, (obj,) + tuple(args), kwargs, True)

    def kw_pullback2(y_bar):
        _, args_bar, kwargs_bar = pb(y_bar)
        args_bar = tuple(args_bar)
        return args_bar[0], args_bar[1:], kwargs_bar

    return y, _accepting(kw_pullback2, pb)


class _accepting:
    """A pullback wrapper that remembers whether the generated pullback inside accepts None."""

    __slots__ = ("f", "accepts_none")

    def __init__(self, f, inner):
        self.f = f
        self.accepts_none = accepts_none(inner)

    def __call__(self, y_bar):
        return self.f(y_bar)


def accepts_none(pb):
    """May `pb` be called with None (does it undo mutations)?"""
    return getattr(pb, "__code__", None) in ACCEPTS_NONE or getattr(pb, "accepts_none", False)


def callmethod_super(cls, obj, name, *args):
    """super(cls, obj).name(*args), with the method-call pullback (y_bar, obj_after)."""
    return _super_call(cls, obj, name, args, None)


def callmethod_super_kw(cls, obj, name, args, kwargs):
    return _super_call(cls, obj, name, tuple(args), kwargs)


def _super_call(cls, obj, name, args, kwargs):
    m = getattr(super(cls, obj), name)
    n = len(args)
    func = m.__func__ if type(m) is _MethodType else None
    if type(func) is _FunctionType and func not in RULES:
        y, fpb = _transform_method(func, obj, args, kwargs)

        def super_pullback(y_bar, obj_after):
            if y_bar is None and not accepts_none(fpb):
                return (obj_after,) + ((None,) * n if kwargs is None else (None, None))
            deposit(obj, obj_after)
            bars = fpb(y_bar)
            if kwargs is None:
                return (accumulate(bars[0], withdraw(obj, None)),) + tuple(bars[1:])
            return accumulate(bars[0], withdraw(obj, None)), bars[1], bars[2]

        return y, super_pullback
    if name == "__init__" and not args and not kwargs:  # object.__init__: nothing to do
        m()
        return None, lambda y_bar, obj_after: (obj_after,)
    if kwargs is None:
        return callmethod(super(cls, obj), name, *args)
    return callmethod_kw(super(cls, obj), name, args, kwargs)


def callmethod_kw(obj, name, args, kwargs):
    """obj.name(*args, **kwargs); pullback(y_bar, obj_after) -> (obj_before, args_bar, kwargs_bar)."""
    mrule = _mutating_rule(obj, name)
    if mrule is not None:
        y, mpb = mrule(obj, *args, **kwargs)
        n = len(args)

        def mutating_kw_pullback(y_bar, obj_after):
            bars = mpb(y_bar, obj_after)
            kw_bar = bars[n + 1] if len(bars) > n + 1 else None
            return bars[0], tuple(bars[1 : n + 1]), kw_bar

        return y, mutating_kw_pullback
    m, pb0 = getattr_(obj, name)
    func = _plain_method(obj, m)
    if func is not None:
        y, fpb = _transform_method(func, obj, args, kwargs)

        def method_kw_pullback(y_bar, obj_after):
            if y_bar is None and not accepts_none(fpb):
                return obj_after, None, None
            deposit(obj, obj_after)
            self_bar, args_bar, kwargs_bar = fpb(y_bar)
            return accumulate(self_bar, withdraw(obj, None)), args_bar, kwargs_bar

        return y, method_kw_pullback
    y, pb = call_kw(m, args, kwargs)

    def method_call_kw_pullback(y_bar, obj_after):
        if y_bar is None:
            return obj_after, None, None
        m_bar, args_bar, kwargs_bar = pb(y_bar)
        obj_bar = pb0(m_bar) if m_bar is not None else None
        return accumulate(obj_after, obj_bar), args_bar, kwargs_bar

    return y, method_call_kw_pullback


# --- attributes ------------------------------------------------------------------------

_NO_GRAD_OWNERS = (types.ModuleType, type, str, bytes, bool, type(None), int)


def _none_pullback(y_bar):
    return None


def _self_pullback(m_bar):
    return m_bar


def getattr_(obj, name):
    """(value, pullback) for obj.name; pullback(value_bar) -> obj_bar (or pullback None)."""
    t = type(obj)
    key = (t, name)
    rule = ATTRIBUTE_RULES.get(key)
    if rule is not None:
        y, pb = rule(obj)
        return y, lambda y_bar: pb(y_bar)[1]
    if key in CONSTANT_ATTRIBUTES or isinstance(obj, _NO_GRAD_OWNERS):
        return getattr(obj, name), _none_pullback
    cls_attr = _class_attr(t, name)
    if isinstance(cls_attr, property) and cls_attr.fget is not None:
        y, pb = call(cls_attr.fget, obj)

        def property_pullback(y_bar):
            return pb(y_bar)[1]

        return y, property_pullback
    value = getattr(obj, name)
    if isinstance(value, (_MethodType, _BuiltinMethod)) and getattr(value, "__self__", None) is obj:
        return value, _self_pullback  # a bound method's tangent is its object's
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        if callable(value):
            return value, _self_pullback
        raise NoRuleError(_Attr(t, name), "an attribute of a NumPy array")
    if hasattr(obj, "_fields") and isinstance(obj, tuple):  # named tuple field
        idx = obj._fields.index(name) if name in obj._fields else None
        if idx is not None:
            fields = obj._fields

            def namedtuple_field_pullback(y_bar):
                return type(obj)(*[y_bar if f == name else None for f in fields])

            return value, namedtuple_field_pullback
    if isinstance(cls_attr, (staticmethod, classmethod)) or (cls_attr is not None and isinstance(value, type)):
        return value, _none_pullback

    def field_pullback(y_bar):
        return Tangent(t, {name: y_bar})

    return value, field_pullback


class _Attr:
    def __init__(self, t, name):
        self.__qualname__ = f"{t.__name__}.{name}"
        self.__module__ = t.__module__


def _class_attr(t, name):
    for klass in t.__mro__:
        d = klass.__dict__
        if name in d:
            return d[name]
    return None


def getitem(obj, idx):
    t = type(obj)
    if (t is list or t is tuple) and type(idx) is int:
        # the length now: the list may grow or shrink before the backward pass
        n = len(obj)
        i = idx + n if idx < 0 else idx

        def sequence_getitem_pullback(y_bar):
            bar = [None] * n
            bar[i] = y_bar
            return None, (bar if t is list else tuple(bar)), None

        return obj[idx], sequence_getitem_pullback
    if _is_user(obj):
        meth = _class_attr(t, "__getitem__")
        if isinstance(meth, _FunctionType):
            return call(meth, obj, idx)
    return RULES[operator.getitem](obj, idx)


def leaf(value, bar):
    """A global read received a cotangent: account it to implicit parameters, if any are tracked."""
    ctx = _PARAMS[-1] if _PARAMS else None
    if ctx is not None and bar is not None:
        ctx.visit(value, bar)


_PARAMS = []


from .operators import (  # noqa: E402
    _SCALAR_TYPES,
    _binop,
    _inplace,
    _is_user,
    _unop,
    inplace_arg,
    log_base,
    pow_base_bar,
    ufunc_at,
)
from .structures import (  # noqa: E402
    closure_tangent,
    dict_bar,
    dict_sub_bar,
    field,
    iter_bar,
    list_bar,
    literal_bar,
    structure_bar,
    unpack_bar,
)

HELPERS = {
    "call": call,
    "call_kw": call_kw,
    "call_num": call_num,
    "deposit_arg": deposit_arg,
    "effect_pb": effect_pb,
    "partial_statement": partial_statement,
    "withdraw_arg": withdraw_arg,
    "callmethod": callmethod,
    "callmethod_kw": callmethod_kw,
    "callmethod_super": callmethod_super,
    "callmethod_super_kw": callmethod_super_kw,
    "getattr": getattr_,
    "getitem": getitem,
    "setattr": setattr_,
    "writeback_attr": writeback_attr,
    "writeback_item": writeback_item,
    "setitem": setitem,
    "acc": accumulate,
    "iter_bar": iter_bar,
    "unpack_bar": unpack_bar,
    "literal_bar": literal_bar,
    "dict_sub_bar": dict_sub_bar,
    "list_bar": list_bar,
    "dict_bar": dict_bar,
    "field": field,
    "closure_tangent": closure_tangent,
    "leaf": leaf,
    "log_base": log_base,
    "pow_base_bar": pow_base_bar,
    "range": builtins.range,
    "len": builtins.len,
    "inplace_arg": inplace_arg,
    "ufunc_at": ufunc_at,
    "slice": builtins.slice,
    "add": _binop(operator.add, "__add__", "__radd__"),
    "add_left": _binop(operator.add, "__add__", "__radd__", 1),
    "add_right": _binop(operator.add, "__add__", "__radd__", 2),
    "sub_left": _binop(operator.sub, "__sub__", "__rsub__", 1),
    "sub_right": _binop(operator.sub, "__sub__", "__rsub__", 2),
    "mul_left": _binop(operator.mul, "__mul__", "__rmul__", 1),
    "mul_right": _binop(operator.mul, "__mul__", "__rmul__", 2),
    "truediv_left": _binop(operator.truediv, "__truediv__", "__rtruediv__", 1),
    "truediv_right": _binop(operator.truediv, "__truediv__", "__rtruediv__", 2),
    "pow_left": _binop(operator.pow, "__pow__", "__rpow__", 1),
    "matmul_left": _binop(operator.matmul, "__matmul__", "__rmatmul__", 1),
    "matmul_right": _binop(operator.matmul, "__matmul__", "__rmatmul__", 2),
    "sub": _binop(operator.sub, "__sub__", "__rsub__"),
    "mul": _binop(operator.mul, "__mul__", "__rmul__"),
    "truediv": _binop(operator.truediv, "__truediv__", "__rtruediv__"),
    "floordiv": _binop(operator.floordiv, "__floordiv__", "__rfloordiv__"),
    "mod": _binop(operator.mod, "__mod__", "__rmod__"),
    "pow": _binop(operator.pow, "__pow__", "__rpow__"),
    "matmul": _binop(operator.matmul, "__matmul__", "__rmatmul__"),
    "neg": _unop(operator.neg, "__neg__"),
    "pos": _unop(operator.pos, "__pos__"),
}
def dict_pop_value_rrule(d, k, *default):
    """d.pop called through a value (map(d.pop, ...)): a read of the key, which is then gone."""
    existed = k in d
    y = d.pop(k, *default)

    def dict_pop_pullback(y_bar):
        if existed:
            return (None, {k: y_bar}, None) + (None,) * len(default)
        return (None, None, None) + ((y_bar,) if default else ())

    return y, dict_pop_pullback


registry.register(dict.pop, dict_pop_value_rrule)


def tuple_new_rrule(cls, iterable=()):
    """tuple.__new__(cls, iterable), which named tuples' _make uses."""
    items = list(iterable)
    y = tuple.__new__(cls, items)

    def tuple_new_pullback(y_bar):
        bars = list(y_bar) if y_bar is not None else [None] * len(items)
        return None, None, structure_bar(iterable, bars) if isinstance(iterable, (list, tuple)) else bars

    return y, tuple_new_pullback


registry.register(tuple.__new__, tuple_new_rrule)


for _name, _op, _dunder in [
    ("add", operator.add, "__add__"), ("sub", operator.sub, "__sub__"), ("mul", operator.mul, "__mul__"),
    ("truediv", operator.truediv, "__truediv__"), ("floordiv", operator.floordiv, "__floordiv__"),
    ("mod", operator.mod, "__mod__"), ("pow", operator.pow, "__pow__"), ("matmul", operator.matmul, "__matmul__"),
]:
    HELPERS["i" + _name] = _inplace(_op, _dunder, HELPERS[_name])
del AbstractZero
