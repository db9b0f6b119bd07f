"""Rules for the `operator` module: what the transform calls for `+ - * / // % ** @`,
unary `-x`, `+x`, `abs`, and `a[i]`, when the operands are not instances of user
classes.

The operands may be numbers of any kind (int, float, Fraction, complex, NumPy
scalars; bools carry no gradient), arrays with broadcasting, lists and tuples
(`+` concatenates, `*` by an int repeats) or strings (no gradient). Formulas are
written generically, so `Fraction` stays exact: `mul` pulls back `y_bar * b`.

`+ - * /` and unary `-`/`+` are also scalar rules (`SCALAR_RULES`): the transform
may inline their partials when both operands are plain numbers; the full rules in
`RULES` handle everything else. The in-place operators (`iadd`, ...) share the rule
of their operator (they do mutate a list or an array operand, as Python does).
"""
import collections.abc
import operator
import types

import numpy as np

from ...errors import DifferentiationError
from .._common import (
    abs_bar,
    accumulate,
    has_tangent,
    index_bar,
    matmul_bars,
    pow_bars,
    seq_bar,
    to_like,
    unbroadcast_to,
    zero_like,
)
from ..namespaces import is_foreign
from ..registry import RULES, inline_partials, register

_SEQUENCES = (list, tuple)


def _is_sequence_result(y):
    return isinstance(y, _SEQUENCES) or isinstance(y, (str, bytes))


def _binary(name, op, number_pullback):
    """A binary operator rule: sequences are concatenated/repeated, everything else is arithmetic."""

    def rule(a, b):
        n = len(a) if isinstance(a, _SEQUENCES) else None  # before an in-place op grows it
        y = op(a, b)
        if _is_sequence_result(y):
            if isinstance(y, (str, bytes)):
                return y, _no_gradient(name)
            return y, _sequence_pullback(name, a, b, n, y)

        def pullback(y_bar):
            return number_pullback(a, b, y, y_bar)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    return rule


def _no_gradient(name):
    def pullback(y_bar):
        return None, None, None

    pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
    return pullback


def _sequence_pullback(name, a, b, n, y):
    if name in ("add", "concat"):

        def pullback(y_bar):
            return (None, seq_bar(a, y_bar[:n]), seq_bar(b, y_bar[n:]))

    elif name == "mul":
        # repetition: each element's cotangent is the sum over its copies
        seq, first = (a, True) if isinstance(a, _SEQUENCES) else (b, False)
        k = len(seq) if n is None else n

        def pullback(y_bar):
            bars = [None] * k
            for i, bar in enumerate(y_bar):
                if bar is not None:
                    bars[i % k] = bar if bars[i % k] is None else _add(bars[i % k], bar)
            seq_b = seq_bar(seq, bars)
            return (None, seq_b, None) if first else (None, None, seq_b)

    else:
        raise DifferentiationError(f"operator.{name} of sequences has no differentiation rule")
    pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
    return pullback


def _add(u, v):
    return accumulate(u, v)


def _add_pullback(a, b, y, y_bar):
    return None, unbroadcast_to(y_bar, a), unbroadcast_to(y_bar, b)


def _sub_pullback(a, b, y, y_bar):
    return None, unbroadcast_to(y_bar, a), unbroadcast_to(-y_bar, b) if has_tangent(b) else None


def _mul_pullback(a, b, y, y_bar):
    return (
        None,
        unbroadcast_to(y_bar * b, a) if has_tangent(a) else None,
        unbroadcast_to(a * y_bar, b) if has_tangent(b) else None,
    )


def _truediv_pullback(a, b, y, y_bar):
    a_bar = y_bar / b
    return (
        None,
        unbroadcast_to(a_bar, a) if has_tangent(a) else None,
        unbroadcast_to(-a_bar * y, b) if has_tangent(b) else None,
    )


def _floordiv_pullback(a, b, y, y_bar):
    # piecewise constant: a zero gradient (not None)
    return None, zero_like(a, y_bar), zero_like(b, y_bar)


def _mod_pullback(a, b, y, y_bar):
    # a % b = a - (a // b) * b
    return (
        None,
        unbroadcast_to(y_bar, a),
        unbroadcast_to(-y_bar * (a // b), b) if has_tangent(b) else None,
    )


def _pow_pullback(a, b, y, y_bar):
    return (None,) + pow_bars(a, b, y, y_bar)


add_rrule = _binary("add", operator.add, _add_pullback)
sub_rrule = _binary("sub", operator.sub, _sub_pullback)
mul_rrule = _binary("mul", operator.mul, _mul_pullback)
truediv_rrule = _binary("truediv", operator.truediv, _truediv_pullback)
floordiv_rrule = _binary("floordiv", operator.floordiv, _floordiv_pullback)
mod_rrule = _binary("mod", operator.mod, _mod_pullback)
pow_rrule = _binary("pow", operator.pow, _pow_pullback)
concat_rrule = _binary("concat", operator.concat, _add_pullback)



def _inplace(name, op, number_pullback):
    """`a op= b`: the same pullback as `a op b`; an array `a` is overwritten, as in Python,
    so the pullback keeps a copy of its old value."""
    sequence_or_number_rule = _binary(name, op, number_pullback)

    def rule(a, b):
        if not isinstance(a, np.ndarray):
            return sequence_or_number_rule(a, b)
        old = a.copy()
        y = op(a, b)
        saved = y.copy()

        def pullback(y_bar):
            return number_pullback(old, b, saved, y_bar)

        pullback.__name__ = pullback.__qualname__ = f"i{name}_pullback"
        return y, pullback

    rule.__name__ = rule.__qualname__ = f"i{name}_rrule"
    return rule


iadd_rrule = _inplace("add", operator.iadd, _add_pullback)
isub_rrule = _inplace("sub", operator.isub, _sub_pullback)
imul_rrule = _inplace("mul", operator.imul, _mul_pullback)
itruediv_rrule = _inplace("truediv", operator.itruediv, _truediv_pullback)
ifloordiv_rrule = _inplace("floordiv", operator.ifloordiv, _floordiv_pullback)
imod_rrule = _inplace("mod", operator.imod, _mod_pullback)
ipow_rrule = _inplace("pow", operator.ipow, _pow_pullback)
iconcat_rrule = _binary("concat", operator.iconcat, _add_pullback)


def _matmul_pullback(a, b, y, y_bar):
    return (None,) + matmul_bars(a, b, y_bar)


imatmul_rrule = _inplace("matmul", operator.imatmul, _matmul_pullback)


def matmul_rrule(a, b):
    y = a @ b

    def matmul_pullback(y_bar):
        return (None,) + matmul_bars(a, b, y_bar)

    return y, matmul_pullback


def neg_rrule(a):
    y = -a

    def neg_pullback(y_bar):
        return None, unbroadcast_to(-y_bar, a)

    return y, neg_pullback


def pos_rrule(a):
    y = +a

    def pos_pullback(y_bar):
        return None, unbroadcast_to(y_bar, a)

    return y, pos_pullback


def abs_rrule(x):
    if type(getattr(type(x), "__abs__", None)) is types.FunctionType:
        from ...core.operators import _is_user, user_abs

        if _is_user(x):  # (a Dask or CuPy array's own Python `__abs__` is the rule's, below)
            return user_abs(x)  # a class's own Python `__abs__`, as the user's code
    y = abs(x)

    def abs_pullback(y_bar):
        return None, abs_bar(x, y, y_bar)

    return y, abs_pullback


#: containers whose items `getitem_bar` knows; others may have a rule for their `__getitem__`
_CONTAINERS = (list, tuple, dict, str, bytes, bytearray, range, np.ndarray, np.generic)


def getitem_rrule(a, index):
    if not isinstance(a, _CONTAINERS):
        try:
            item_rule = RULES.get(getattr(type(a), "__getitem__", None))
        except TypeError:  # an unhashable __getitem__
            item_rule = None
        if item_rule is not None:  # e.g. np.r_[...]: its key holds the values
            return item_rule(a, index)
    y = a[index]

    def getitem_pullback(y_bar):
        return None, getitem_bar(a, index, y_bar), None

    return y, getitem_pullback


def getitem_bar(a, index, y_bar):
    """The cotangent of the container `a` for `a[index]`, in the kind of `a`."""
    if isinstance(a, np.ndarray) or is_foreign(a):
        return index_bar(a, index, y_bar) if has_tangent(a) else None
    if isinstance(a, np.generic):
        return to_like(index_bar(np.asarray(a), index, y_bar), a) if has_tangent(np.asarray(a)) else None
    if isinstance(a, (str, bytes, bytearray, range)):
        return None
    if isinstance(a, collections.abc.Mapping):
        return {index: y_bar}
    if isinstance(a, collections.abc.Sequence):
        n = len(a)
        bars = [None] * n
        if isinstance(index, slice):
            for j, i in enumerate(range(*index.indices(n))):
                bars[i] = y_bar[j]
        else:
            bars[index] = y_bar
        return seq_bar(a, bars)
    raise DifferentiationError(
        f"operator.getitem on a {type(a).__name__} has no differentiation rule; "
        "register one for its __getitem__"
    )


def itemgetter_call_rrule(self, obj):
    """Calling an `operator.itemgetter(k, ...)` object: `obj[k]`, or a tuple of such items."""
    keys = self.__reduce__()[1]
    y = self(obj)

    def itemgetter_pullback(y_bar):
        if len(keys) == 1:
            return None, None, getitem_bar(obj, keys[0], y_bar)
        bar = None
        for key, b in zip(keys, y_bar):
            if b is not None:
                bar = accumulate(bar, getitem_bar(obj, key, b))
        return None, None, bar

    return y, itemgetter_pullback


def _inline(f, rule, *partials):
    """Register `rule` for `f`, keeping `partials` as the inlinable scalar rule for numbers."""
    register(f, rule, number_closed=True)
    inline_partials(f, *partials, ns={})


_inline(operator.add, add_rrule, "1", "1")
_inline(operator.sub, sub_rrule, "1", "-1")
_inline(operator.mul, mul_rrule, "x2", "x1")
_inline(operator.truediv, truediv_rrule, "1 / x2", "-y / x2")
_inline(operator.neg, neg_rrule, "-1")
_inline(operator.pos, pos_rrule, "1")

for _f, _r in (
    (operator.floordiv, floordiv_rrule),
    (operator.mod, mod_rrule),
    (operator.pow, pow_rrule),
    (operator.abs, abs_rrule),
):
    register(_f, _r, number_closed=True)

# The unary operators called as methods: `x.__neg__()`, `x.__abs__()` (a slot of a C type; a
# subclass reads its base's, `runtime._base_rule`). The slot itself computes the value, so that
# `np.ndarray.__neg__` of something else raises as it does. The binary slots (`x.__mul__(y)`)
# have no rule: they return NotImplemented where the operator would try the other operand, so
# they are refused, not read as the operator.
def _unary_slot(slot, bar):
    def slot_rrule(a):
        y = slot(a)

        def slot_pullback(y_bar):
            return None, bar(a, y, y_bar)

        return y, slot_pullback

    slot_rrule.__name__ = slot_rrule.__qualname__ = f"{slot.__objclass__.__name__}{slot.__name__}rrule"
    return slot_rrule


for _t in (int, float, complex, np.ndarray, np.generic):
    for _name, _bar in (
        ("__neg__", lambda a, y, y_bar: unbroadcast_to(-y_bar, a)),
        ("__pos__", lambda a, y, y_bar: unbroadcast_to(y_bar, a)),
        ("__abs__", abs_bar),
    ):
        register(_t.__dict__[_name], _unary_slot(_t.__dict__[_name], _bar))

register(operator.matmul, matmul_rrule)
register(operator.getitem, getitem_rrule)
# the runtime calls this rule for an itemgetter object `g(obj)` as `rule(g, obj)`
register(operator.itemgetter.__call__, itemgetter_call_rrule)
register(operator.concat, concat_rrule)

for _f, _r in (
    (operator.iadd, iadd_rrule),
    (operator.isub, isub_rrule),
    (operator.imul, imul_rrule),
    (operator.itruediv, itruediv_rrule),
    (operator.ifloordiv, ifloordiv_rrule),
    (operator.imod, imod_rrule),
    (operator.ipow, ipow_rrule),
):
    register(_f, _r, number_closed=True)
register(operator.imatmul, imatmul_rrule)
register(operator.iconcat, iconcat_rrule)
