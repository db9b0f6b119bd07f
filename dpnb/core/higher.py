"""Second derivatives: dpnb differentiating its own generated code (reverse over reverse).

A first-order adjoint is ordinary Python. Compiled in the *differentiable
dialect* (`load.adjoint_for_ho`: tape operations written as list methods, source
kept in `parse.GENERATED_SOURCE`), it can be transformed like user code. What
it calls needs rules of its own, registered here:

- `runtime.call(f, *args)` (the first-order dispatch) runs the differentiable
  adjoint of `f` (or `f`'s rule, which is Python too) under the outer transform;
- the operator helpers (`_mul`, ...) run small first-order implementations
  written in plain Python;
- helpers that only move cotangents around (`accumulate`, `unbroadcast`, ...) are
  linear, and get one-line rules.

`gradient` itself has a rule, so `gradient(lambda x: gradient(f, x)[0], x)`,
`derivative(derivative(f))` and `hessian` work through loops, branches,
recursion and calls.
"""
import types

import numpy as np

from ..errors import DifferentiationError
from ..rules import registry
from ..rules.broadcast import unbroadcast
from ..tangents import Tangent, accumulate
from . import load, runtime

_RULES = registry.RULES
_CONSTANTS = registry.CONSTANTS


def template_ho(f, args):
    """What the first-order `call(f, *args)` runs, as a function the outer transform can differentiate."""
    if type(f) is types.FunctionType:
        rule = _RULES.get(f)
        if rule is not None:
            return rule
        if f in _CONSTANTS:
            return _constant_template(f, len(args))
        code = f.__code__
        if code.co_argcount == len(args) and not code.co_kwonlyargcount and not code.co_flags & 0x0C:
            return load.adjoint_for_ho(f, tuple(map(type, args))).instance(f)
        raise DifferentiationError(
            f"second derivatives through {f.__qualname__} need it to be called with exactly its positional "
            "arguments (no defaults, *args or keywords) for now"
        )
    rule = registry.lookup(f)
    if rule is registry.CONSTANT:
        return _constant_template(f, len(args))
    if rule is not None:
        return rule
    raise DifferentiationError(f"second derivatives through a call of {f!r} are not supported yet")


def _constant_template(f, n):
    def constant_call(*args):
        return f(*args), _nones_pullback

    def _nones_pullback(y_bar):
        return (None,) * (n + 1)

    return constant_call


def call_ho(f, *args):
    """The first-order `call`, in the differentiable dialect."""
    return template_ho(f, args)(*args)


def _call_rrule(f, *args):
    y, pb = runtime.call(template_ho(f, args), *args)

    def call_pullback(y_bar):
        bars = pb(y_bar)
        return (None, None) + tuple(bars[1:])

    return y, call_pullback


for _f in (runtime.call, runtime.call_num, call_ho):
    registry.register(_f, _call_rrule)


# --- operators: first-order implementations in plain Python ---------------------------------


def _l1_add(a, b):
    def add_pullback(g):
        return None, unbroadcast(g, a), unbroadcast(g, b)

    return a + b, add_pullback


def _l1_sub(a, b):
    def sub_pullback(g):
        return None, unbroadcast(g, a), unbroadcast(-g, b)

    return a - b, sub_pullback


def _l1_mul(a, b):
    def mul_pullback(g):
        return None, unbroadcast(g * b, a), unbroadcast(g * a, b)

    return a * b, mul_pullback


def _l1_truediv(a, b):
    y = a / b

    def truediv_pullback(g):
        a_bar = g / b
        return None, unbroadcast(a_bar, a), unbroadcast(-a_bar * y, b)

    return y, truediv_pullback


def _l1_pow(a, b):
    y = a**b

    def pow_pullback(g):
        return None, unbroadcast(g * b * a ** (b - 1), a), None

    return y, pow_pullback


def _l1_matmul(a, b):
    def matmul_pullback(g):
        if np.ndim(a) == 2 and np.ndim(b) == 2:
            return None, g @ np.transpose(b), np.transpose(a) @ g
        if np.ndim(a) == 2 and np.ndim(b) == 1:
            return None, np.outer(g, b), np.transpose(a) @ g
        if np.ndim(a) == 1 and np.ndim(b) == 2:
            return None, b @ g, np.outer(a, g)
        return None, g * b, g * a

    return a @ b, matmul_pullback


def _l1_neg(a):
    def neg_pullback(g):
        return None, -g

    return -a, neg_pullback


_L1 = {
    "add": _l1_add, "sub": _l1_sub, "mul": _l1_mul, "truediv": _l1_truediv, "pow": _l1_pow,
    "matmul": _l1_matmul,
}


def _operator_rule(impl):
    def operator_rrule(*args):
        return runtime.call(impl, *args)

    return operator_rrule


for _name, _impl in _L1.items():
    for _variant in ("", "_left", "_right"):
        _helper = runtime.HELPERS.get(_name + _variant)
        if _helper is not None:
            registry.register(_helper, _operator_rule(_impl))
registry.register(runtime.HELPERS["neg"], _operator_rule(_l1_neg))


def _l1_getitem(obj, idx):
    def getitem_pullback(g):
        return None, getitem_bar(obj, idx, g), None

    return obj[idx], getitem_pullback


def getitem_bar(obj, idx, g):
    """The cotangent of `obj` when `obj[idx]` has cotangent g (linear in g)."""
    if isinstance(obj, np.ndarray):
        out = np.zeros(obj.shape, dtype=np.result_type(obj.dtype, np.float64))
        np.add.at(out, idx, g)
        return out
    out = [None] * len(obj)
    if isinstance(idx, slice):
        for i, gi in zip(range(*idx.indices(len(obj))), g):
            out[i] = gi
    else:
        out[idx] = g
    return tuple(out) if isinstance(obj, tuple) else out


def _getitem_bar_rrule(obj, idx, g):
    def getitem_bar_pullback(y_bar):
        return None, None, None, (None if y_bar is None else y_bar[idx])

    return getitem_bar(obj, idx, g), getitem_bar_pullback


registry.register(runtime.HELPERS["getitem"], _operator_rule(_l1_getitem))
registry.register(getitem_bar, _getitem_bar_rrule)


# --- helpers that move cotangents: linear -------------------------------------------------


def _accumulate_rrule(a, b):
    def accumulate_pullback(y_bar):
        return None, (y_bar if a is not None else None), (y_bar if b is not None else None)

    return accumulate(a, b), accumulate_pullback


def _unbroadcast_rrule(g, x):
    shape = np.shape(g)

    def unbroadcast_pullback(y_bar):
        if isinstance(g, np.ndarray):
            return None, np.broadcast_to(y_bar, shape).copy(), None
        return None, y_bar, None

    return unbroadcast(g, x), unbroadcast_pullback


def _list_bar_rrule(g, t):
    def list_bar_pullback(y_bar):
        return None, (None if g is None else y_bar), None

    return runtime.list_bar(g, t), list_bar_pullback


def _iter_bar_rrule(seq, bars_reversed):
    y = runtime.iter_bar(seq, bars_reversed)

    def iter_bar_pullback(y_bar):
        if y_bar is None:
            return None, None, None
        items = [y_bar[i] for i in range(len(bars_reversed))]
        return None, None, items[::-1]

    return y, iter_bar_pullback


def _field_rrule(t, name):
    def field_pullback(y_bar):
        return None, Tangent(types.FunctionType, {name: y_bar}), None

    return runtime.field(t, name), field_pullback


def _closure_tangent_rrule(names, bars):
    def closure_tangent_pullback(y_bar):
        if y_bar is None:
            return None, None, None
        return None, None, tuple(y_bar.fields.get(n) for n in names)

    return runtime.closure_tangent(names, bars), closure_tangent_pullback


registry.register(accumulate, _accumulate_rrule)
registry.register(unbroadcast, _unbroadcast_rrule)
registry.register(runtime.list_bar, _list_bar_rrule)
registry.register(runtime.iter_bar, _iter_bar_rrule)
registry.register(runtime.field, _field_rrule)
registry.register(runtime.closure_tangent, _closure_tangent_rrule)
registry.constant(runtime.leaf)


# --- gradient as a differentiable function -----------------------------------------------


def _seed_of(y):
    from ..api import _seed

    return _seed(y)


registry.constant(_seed_of)


def gradient_ho(f, *args):
    """`gradient`, written so that dpnb can differentiate it."""
    y, pb = call_ho(f, *args)
    bars = pb(_seed_of(y))
    return tuple(bars[1:])


def _gradient_rrule(f, *args):
    y, pb = runtime.call(gradient_ho, f, *args)

    def gradient_pullback(y_bar):
        bars = pb(y_bar)
        return (None,) + tuple(bars[1:])

    return y, gradient_pullback


def install(gradient):
    registry.register(gradient, _gradient_rrule)
