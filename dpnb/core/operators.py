"""Operators in generated code: `+ - * / // % ** @`, unary `-`/`+`, `a op= b` and `ufunc.at`.

Each helper returns `(value, pullback)` with the rule protocol. Plain numbers and real float
arrays take fast paths that compute only the cotangents the generated code asks for (`need`);
instances of user classes dispatch to their own (transformed) `__add__`, `__radd__`, ...;
everything else goes to the rule of the `operator` function.
"""
import math
from fractions import Fraction

import numpy as np

from ..errors import DifferentiationError, NoRuleError
from ..rules import registry
from ..rules.broadcast import unbroadcast
from ..rules.registry import RULES
from . import runtime

_FunctionType = type(lambda: None)

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
    if tb is not ta and issubclass(tb, ta) and runtime._class_attr(tb, rname) is not None:
        order.append(("r", tb))
    order.append(("l", ta))
    if tb is not ta:
        order.append(("r", tb))
    for side, t in order:
        meth = runtime._class_attr(t, name if side == "l" else rname)
        if not isinstance(meth, _FunctionType):
            continue  # a built-in type's own operator does not know the user's class
        if side == "l":
            y, pb = runtime.call(meth, a, b)
            if y is NotImplemented:
                continue
            return y, pb
        y, pb = runtime.call(meth, b, a)
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
                runtime.RESTORED.append((a, Ellipsis, a_new))
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
            meth = runtime._class_attr(type(a), name)
            if meth is None:
                raise TypeError(f"bad operand type for unary op: {type(a).__name__!r}")
            return runtime.call(meth, a)
        return RULES[opfunc](a)

    unop.__name__ = name.strip("_")
    return unop


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


def inplace_arg(opname, name, where, a, b):
    if type(a) in (np.ndarray, list):
        raise DifferentiationError(
            f"`{name} {_OP_SYMBOL.get(opname[1:], '?')}= ...` changes the argument {name} in place ({where}); "
            f"dpnb does not follow changes to arguments being differentiated: write "
            f"`{name} = {name} {_OP_SYMBOL.get(opname[1:], '?')} ...` instead"
        )
    return runtime.HELPERS[opname](a, b)


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
        runtime.RESTORED.append((a, Ellipsis, new))
        if not v:
            return None, None, y_bar, None
        g = np.asarray(y_bar)[idx]
        if ufunc is np.subtract:
            g = -g
        from ..rules.broadcast import unbroadcast

        return None, None, y_bar, None, unbroadcast(g, v[0])

    return a, ufunc_at_pullback


registry.register(ufunc_at, ufunc_at)
