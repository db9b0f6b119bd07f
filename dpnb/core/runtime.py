"""Stage 6 — runtime: what generated code calls while it runs.

`call(f, *args)` is the one dispatch point: a registered rule wins; else a
Python function is source-transformed (cached); else bound methods, callable
objects, `functools.partial` and `__wrapped__` are unwrapped; else
`NoRuleError`. Every runtime operation returns `(value, pullback)` with the
rule protocol: `pullback(y_bar) -> (f_bar, *arg_bars)`.
"""
import builtins
import functools
from fractions import Fraction
import math
import operator
import types

import numpy as np

from ..errors import DifferentiationError, NoRuleError
from ..rules import registry
from ..rules.broadcast import unbroadcast
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


# --- operators ---------------------------------------------------------------------------

_PRIMITIVE = (int, float, complex, bool, np.ndarray, np.generic, list, tuple, str, dict)


def _is_user(x):
    return not isinstance(x, _PRIMITIVE) and not _is_number(x)


def _is_number(x):
    import numbers

    return isinstance(x, numbers.Number)


# plain numbers: the chain rule inline, without the broadcasting machinery of the rules
_SCALAR_TYPES = frozenset({int, float, complex, Fraction, np.float64})


def _add_numbers(a, b):
    def add_pullback(g):
        return None, g, g

    return a + b, add_pullback


def _sub_numbers(a, b):
    def sub_pullback(g):
        return None, g, -g

    return a - b, sub_pullback


def _mul_numbers(a, b):
    def mul_pullback(g):
        return None, g * b, g * a

    return a * b, mul_pullback


def _truediv_numbers(a, b):
    y = a / b

    def truediv_pullback(g):
        a_bar = g / b
        return None, a_bar, -a_bar * y

    return y, truediv_pullback


_NUMBER_RULES = {
    "__add__": _add_numbers,
    "__sub__": _sub_numbers,
    "__mul__": _mul_numbers,
    "__truediv__": _truediv_numbers,
}


# arrays (with plain numbers): one broadcasting reduction per operand that wants a cotangent;
# `need` says which (1: the left operand, 2: the right one, 3: both)
def _add_arrays(a, b, need):
    def add_pullback(g):
        return None, (unbroadcast(g, a) if need & 1 else None), (unbroadcast(g, b) if need & 2 else None)

    return a + b, add_pullback


def _sub_arrays(a, b, need):
    def sub_pullback(g):
        return None, (unbroadcast(g, a) if need & 1 else None), (unbroadcast(-g, b) if need & 2 else None)

    return a - b, sub_pullback


def _mul_arrays(a, b, need):
    def mul_pullback(g):
        return (
            None,
            unbroadcast(g * b, a) if need & 1 else None,
            unbroadcast(g * a, b) if need & 2 else None,
        )

    return a * b, mul_pullback


def _truediv_arrays(a, b, need):
    y = a / b

    def truediv_pullback(g):
        a_bar = g / b
        b_bar = None
        if need & 2:
            b_bar = a_bar * y
            np.negative(b_bar, out=b_bar)  # a fresh array of ours: negated in place
            b_bar = unbroadcast(b_bar, b)
        return None, (unbroadcast(a_bar, a) if need & 1 else None), b_bar

    return y, truediv_pullback


def _pow_arrays(a, b, need):
    if need & 2 or type(b) is np.ndarray:
        return None  # the exponent's cotangent: the general rule
    y = a**b

    def pow_pullback(g):
        if b == 0:
            return None, unbroadcast(g * 0.0, a), None
        d = b * a ** (b - 1) if b != 2 else 2 * a
        if type(d) is np.ndarray and d.shape == np.shape(g) and d.dtype == np.result_type(d, g):
            d *= g  # a fresh array of ours: scaled in place
            return None, unbroadcast(d, a), None
        return None, unbroadcast(g * d, a), None

    return y, pow_pullback


def _matmul_arrays(a, b, need):
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim > 2 or b.ndim > 2:
        return None
    y = a @ b

    def matmul_pullback(g):
        a_bar = b_bar = None
        if type(g) is np.ndarray and not g.flags.c_contiguous:
            g = np.ascontiguousarray(g)  # a broadcast view: BLAS wants contiguous memory
        if a.ndim == 2 and b.ndim == 2:
            if need & 1:
                a_bar = g @ b.T
            if need & 2:
                b_bar = a.T @ g
        elif a.ndim == 2:  # matrix @ vector
            if need & 1:
                a_bar = np.outer(g, b)
            if need & 2:
                b_bar = a.T @ g
        elif b.ndim == 2:  # vector @ matrix
            if need & 1:
                a_bar = b @ g
            if need & 2:
                b_bar = np.outer(a, g)
        else:
            a_bar = g * b if need & 1 else None
            b_bar = g * a if need & 2 else None
        return None, a_bar, b_bar

    return y, matmul_pullback


_ARRAY_RULES = {
    "__matmul__": _matmul_arrays,
    "__add__": _add_arrays,
    "__sub__": _sub_arrays,
    "__mul__": _mul_arrays,
    "__truediv__": _truediv_arrays,
    "__pow__": _pow_arrays,
}
_ARRAY_OPERAND = frozenset({np.ndarray, int, float, np.float64, np.float32})


def _binop(opfunc, name, rname, need=3):
    rule_key = opfunc
    fast = _NUMBER_RULES.get(name)
    arrays = _ARRAY_RULES.get(name)
    scalars = _SCALAR_TYPES
    operand = _ARRAY_OPERAND

    def binop(a, b):
        ta, tb = type(a), type(b)
        if fast is not None and ta in scalars and tb in scalars:
            return fast(a, b)
        if arrays is not None and ta in operand and tb in operand and _real_arrays(a, b):
            r = arrays(a, b, need)
            if r is not None:
                return r
        if _is_user(a) or _is_user(b):
            return _user_binop(a, b, name, rname, opfunc)
        return RULES[rule_key](a, b)

    binop.__name__ = name.strip("_")
    return binop


def _real_arrays(a, b):
    """Both operands real floating (or Python numbers): the fast array path applies."""
    for x in (a, b):
        if type(x) is np.ndarray and x.dtype.kind != "f":
            return False
    return True


def _user_binop(a, b, name, rname, opfunc):
    ta, tb = type(a), type(b)
    order = []
    if tb is not ta and issubclass(tb, ta) and _class_attr(tb, rname) is not None:
        order.append(("r", tb))
    order.append(("l", ta))
    if tb is not ta:
        order.append(("r", tb))
    for side, t in order:
        meth = _class_attr(t, name if side == "l" else rname)
        if not isinstance(meth, _FunctionType):
            continue  # a built-in type's own operator does not know the user's class
        if side == "l":
            y, pb = call(meth, a, b)
            if y is NotImplemented:
                continue
            return y, pb
        y, pb = call(meth, b, a)
        if y is NotImplemented:
            continue

        def reflected_pullback(y_bar, pb=pb):
            f_bar, b_bar, a_bar = pb(y_bar)
            return f_bar, a_bar, b_bar

        return y, reflected_pullback
    # no user method: a primitive rule may still apply (e.g. Fraction)
    rule = RULES.get(opfunc)
    if rule is not None:
        return rule(a, b)
    raise TypeError(f"unsupported operand type(s) for {name}: {ta.__name__!r} and {tb.__name__!r}")


def _inplace(opfunc, name, binop):
    """a op= b: arrays and lists change in place (aliases see it, as in Python), other values rebind."""
    iname = "__i" + name[2:]

    def inplace_op(a, b):
        ta = type(a)
        if ta is np.ndarray:
            old = a.copy()
            _, pb = RULES[opfunc](old, b)
            getattr(a, iname)(b)  # numpy's own in-place operator: same casting rules as `a op= b`

            def inplace_pullback(y_bar):
                a[...] = old  # earlier pullbacks see a as it was
                RESTORED.append((a, Ellipsis, a_new))
                return pb(y_bar)

            a_new = a.copy()
            return a, inplace_pullback
        if ta is list and name in ("__add__", "__mul__"):
            old = list(a)
            _, pb = RULES[opfunc](old, b)
            getattr(a, iname)(b)
            return a, pb
        return binop(a, b)

    inplace_op.__name__ = iname.strip("_")
    return inplace_op


def _unop(opfunc, name):
    def unop(a):
        if _is_user(a):
            meth = _class_attr(type(a), name)
            if meth is None:
                raise TypeError(f"bad operand type for unary op: {type(a).__name__!r}")
            return call(meth, a)
        return RULES[opfunc](a)

    unop.__name__ = name.strip("_")
    return unop


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


# --- cotangents of structures -------------------------------------------------------------


def iter_bar(seq, bars_reversed):
    """The cotangent of an iterated sequence from its items' cotangents (collected backwards)."""
    if all(b is None for b in bars_reversed):
        return None
    bars = bars_reversed[::-1]
    return structure_bar(seq, bars)


def structure_bar(seq, bars):
    t = type(seq)
    if t is list:
        return list(bars) + [None] * (len(seq) - len(bars))
    if t is tuple:
        return tuple(bars) + (None,) * (len(seq) - len(bars))
    if hasattr(seq, "_fields") and isinstance(seq, tuple):
        return t(*(list(bars) + [None] * (len(seq) - len(bars))))
    if t is np.ndarray:
        out = np.zeros(seq.shape, dtype=_float_dtype(seq))
        for i, b in enumerate(bars):
            if b is not None:
                out[i] = b
        return out
    if t is dict:
        return None  # iterating a dict yields its keys, which carry no gradient
    if t is range or t is str:
        return None
    if hasattr(seq, "__next__"):
        # an iterator made outside the differentiated code: its items are inputs nobody asked about
        return None
    raise DifferentiationError(
        f"cannot send gradients back through iteration over a {t.__name__}; "
        "iterate over a list, tuple or array (e.g. list(...)) instead"
    )


def _float_dtype(x):
    return x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64


def unpack_bar(value, bars, star):
    if star is not None:
        bars = list(bars)
        starred = bars[star]
        n = len(value) - (len(bars) - 1)
        expanded = list(starred) if starred is not None else [None] * n
        bars = bars[:star] + expanded + bars[star + 1 :]
    if all(b is None for b in bars):
        return None
    return structure_bar(value, list(bars))


def literal_bar(g, parts):
    """Split the cotangent of a literal with starred parts: parts[i] is the starred value or None."""
    out = []
    k = 0
    for p in parts:
        if p is None:
            out.append(g[k])
            k += 1
        else:
            n = len(p)
            out.append(structure_bar(p, list(g[k : k + n])) if any(x is not None for x in g[k : k + n]) else None)
            k += n
    return tuple(out)


def dict_sub_bar(g, m):
    out = {k: g[k] for k in m if k in g and g[k] is not None}
    return out or None


def list_bar(g, t):
    if g is None:
        return [None] * len(t)
    return list(g)


def dict_bar(g, t):
    if g is None:
        return {}
    return dict(g)


def field(t, name):
    if t is None:
        return None
    if isinstance(t, Tangent):
        return t.fields.get(name)
    if isinstance(t, dict):
        return t.get(name)
    return None


def closure_tangent(names, bars):
    fields = {n: b for n, b in zip(names, bars) if b is not None}
    if not fields:
        return None
    return Tangent(types.FunctionType, fields)


def leaf(value, bar):
    """A global read received a cotangent: account it to implicit parameters, if any are tracked."""
    ctx = _PARAMS[-1] if _PARAMS else None
    if ctx is not None and bar is not None:
        ctx.visit(value, bar)


_PARAMS = []


def log_base(a):
    """log(a) for the exponent's cotangent of a ** b (0 at a == 0, nan for a < 0)."""
    if isinstance(a, complex):
        import cmath

        return cmath.log(a) if a != 0 else 0
    if a > 0:
        return math.log(a)
    if a == 0:
        return 0 * a
    return math.nan


def pow_base_bar(g, a, b):
    if b == 0:
        return g * 0
    return g * b * a ** (b - 1)


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
def inplace_arg(opname, name, where, a, b):
    if type(a) in (np.ndarray, list):
        raise DifferentiationError(
            f"`{name} {_OP_SYMBOL.get(opname[1:], '?')}= ...` changes the argument {name} in place ({where}); "
            f"dpnb does not follow changes to arguments being differentiated: write "
            f"`{name} = {name} {_OP_SYMBOL.get(opname[1:], '?')} ...` instead"
        )
    return HELPERS[opname](a, b)


_OP_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**", "matmul": "@"}


def ufunc_at(ufunc, a, idx, *v):
    """`ufunc.at(a, idx[, v])`, written as a function of `a` that returns `a` (changed in place)."""
    if ufunc not in (np.add, np.subtract):
        raise NoRuleError(ufunc.at, "only np.add.at and np.subtract.at are differentiable")
    old = a.copy()
    ufunc.at(a, idx, *v)
    new = a.copy()

    def ufunc_at_pullback(y_bar):
        a[...] = old
        RESTORED.append((a, Ellipsis, new))
        if not v:
            return None, None, y_bar, None
        g = np.asarray(y_bar)[idx]
        if ufunc is np.subtract:
            g = -g
        from ..rules.broadcast import unbroadcast

        return None, None, y_bar, None, unbroadcast(g, v[0])

    return a, ufunc_at_pullback


registry.register(ufunc_at, ufunc_at)
HELPERS["inplace_arg"] = inplace_arg


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
HELPERS["ufunc_at"] = ufunc_at


for _name, _op, _dunder in [
    ("add", operator.add, "__add__"), ("sub", operator.sub, "__sub__"), ("mul", operator.mul, "__mul__"),
    ("truediv", operator.truediv, "__truediv__"), ("floordiv", operator.floordiv, "__floordiv__"),
    ("mod", operator.mod, "__mod__"), ("pow", operator.pow, "__pow__"), ("matmul", operator.matmul, "__matmul__"),
]:
    HELPERS["i" + _name] = _inplace(_op, _dunder, HELPERS[_name])
del AbstractZero
