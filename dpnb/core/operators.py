"""Operators in generated code: `+ - * / // % ** @`, unary `-`/`+`, and `a op= b`.

Each helper returns `(value, pullback)` with the rule protocol. Plain numbers and
real float arrays take fast paths that compute only the cotangents the generated
code asks for (`_left`/`_right` variants); instances of user classes dispatch to
their own (transformed) `__add__`, `__radd__`, ...; everything else goes to the
rule of the `operator` function. `a op= b` changes arrays and lists in place, as
Python does (every alias sees the change), through `mutation`.
"""
import math
import operator
from fractions import Fraction

import numpy as np

from ..rules._common import log_base
from ..rules.broadcast import operand, unbroadcast
from ..rules.namespaces import is_foreign
from ..rules.registry import RULES
from . import heap as H
from . import mutation as M

_FunctionType = type(lambda: None)
_PRIMITIVE = (int, float, complex, bool, np.ndarray, np.generic, list, tuple, str, dict, bytes, type(None))


def _is_user(x):
    import numbers

    # a Dask or CuPy array is an array value: the operator rules handle it, not its class's source
    return not isinstance(x, _PRIMITIVE) and not isinstance(x, numbers.Number) and not is_foreign(x)


# plain numbers: the chain rule inline, without the broadcasting machinery of the rules
_SCALAR_TYPES = frozenset({int, float, Fraction, np.float64})


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
    y = a + b
    a, b = operand(a), operand(b)  # kept for their shapes only

    def add_pullback(g):
        return None, (unbroadcast(g, a) if need & 1 else None), (unbroadcast(g, b) if need & 2 else None)

    return y, add_pullback


def _sub_arrays(a, b, need):
    y = a - b
    a, b = operand(a), operand(b)  # kept for their shapes only

    def sub_pullback(g):
        return None, (unbroadcast(g, a) if need & 1 else None), (unbroadcast(-g, b) if need & 2 else None)

    return y, sub_pullback


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
    a = operand(a)  # kept for its shape only

    def truediv_pullback(g):
        a_bar = g / b
        b_bar = None
        if need & 2:
            b_bar = a_bar * y
            if type(b_bar) is np.ndarray:
                np.negative(b_bar, out=b_bar)  # a fresh array of ours: negated in place
            else:
                b_bar = -b_bar
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
        if type(d) is np.ndarray and not is_foreign(g) and d.shape == np.shape(g) and d.dtype == np.result_type(d, g):
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


def _python_operator(a, b, name, rname, sourced=False, compare=False):
    """`a <op> b` by the classes' own Python methods `name` / reflected `rname`, in Python's order
    (a subclass's reflected method first): (y, pullback), or None where none applies (none is a
    Python function, or each gave NotImplemented). With `sourced`, a method made from a string (a
    dataclass's) counts as none. A comparison (`compare`) tries the reflected method of an operand
    of the same class too (`a > b` asks `b.__lt__(a)` where `a` has no `__gt__`)."""
    from .runtime import _class_attr, _Wrapped, call, none_run

    ta, tb = type(a), type(b)
    order = []
    if tb is not ta and issubclass(tb, ta) and _class_attr(tb, rname) is not None:
        order.append(("r", tb))
    order.append(("l", ta))
    if tb is not ta or compare:
        order.append(("r", tb))
    for side, t in order:
        ufunc = _UFUNC_OF.get(name)
        if ufunc is not None and issubclass(t, (np.ndarray, np.generic)):
            # an array's operator is its ufunc, which an operand with an `__array_ufunc__` of its
            # own takes over (`x * obj` runs `obj.__array_ufunc__(np.multiply, "__call__", x, obj)`)
            from .runtime import _array_ufunc_override

            got = _array_ufunc_override(ufunc, (a, b), None)
            if got is not None:
                return got
        meth = _class_attr(t, name if side == "l" else rname)
        if not isinstance(meth, _FunctionType) or (sourced and meth.__code__.co_filename.startswith("<")):
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
            f_bar, b_bar, a_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
            return f_bar, a_bar, b_bar

        return y, _Wrapped(reflected_pullback)
    return None


def _user_binop(a, b, name, rname, opfunc):
    got = _python_operator(a, b, name, rname)
    if got is not None:
        return got
    ta, tb = type(a), type(b)
    # no user method: a primitive rule may still apply (e.g. Fraction)
    rule = RULES.get(opfunc)
    if rule is not None:
        return rule(a, b)
    raise TypeError(f"unsupported operand type(s) for {name}: {ta.__name__!r} and {tb.__name__!r}")


def _inplace(opname, binop):
    """a op= b: arrays and lists change in place (aliases see it, as in Python), other values rebind."""
    iname = "__i" + opname + "__"
    array_iop = M.ndarray_iop(opname)
    op = getattr(operator, opname)

    def inplace_op(a, b):
        ta = type(a)
        if ta is np.ndarray:
            return array_iop(H.current(), a, b)
        if ta is list:
            if opname == "add":
                return M.list_iadd(H.current(), a, b)
            if opname == "mul":
                return _list_imul(a, b)
        if _is_user(a):
            from .runtime import _class_attr, call

            meth = _class_attr(ta, iname)
            if isinstance(meth, _FunctionType):
                y, pb = call(meth, a, b)
                if y is not NotImplemented:
                    return y, pb
        return binop(a, b)

    inplace_op.__name__ = "i" + opname
    return inplace_op


def _list_imul(a, n):
    ctx = H.current()
    before = list(a)
    a *= n
    rec = M._log(ctx, M.SnapshotRec(a, before, list(a)))
    k = len(before)

    def list_imul_pullback(y_bar):
        if y_bar is not None:
            H.heap_add(ctx, a, y_bar)
        acc = M._acc_of(ctx, a)
        ctx.undo(rec)
        if acc is not None:
            from ..tangents import accumulate

            folded = [None] * k
            for i, c in enumerate(acc):
                if k:
                    folded[i % k] = accumulate(folded[i % k], c)
            acc[:] = folded
        return None, None, None

    from .runtime import _Wrapped

    return a, _Wrapped(list_imul_pullback)


def _unop(opfunc, name):
    def unop(a):
        from .runtime import _class_attr, call

        if _is_user(a) or (not is_foreign(a) and isinstance(_class_attr(type(a), name), _FunctionType)):
            # (a subclass of dict or list with its own Python method: a `Counter`'s `-c`)
            meth = _class_attr(type(a), name)
            if meth is None:
                opfunc(a)  # raises Python's own TypeError (the class has no such method: nothing runs)
                raise TypeError(f"bad operand type for unary op: {type(a).__name__!r}")
            return call(meth, a)
        return RULES[opfunc](a)

    unop.__name__ = name.strip("_")
    return unop


def pow_base_bar(g, a, b):
    if b == 0:
        return g * 0
    try:
        return g * b * a ** (b - 1)
    except ZeroDivisionError:
        if type(a) not in (int, float) or type(b) not in (int, float):
            raise
        # 0.0 ** -0.5 raises in Python; the derivative of a ** b at a = 0 for 0 < b < 1 is the
        # IEEE value of 0 ** (b - 1): inf (signed for an odd whole exponent)
        import numpy as np

        with np.errstate(divide="ignore"):
            return g * b * float(np.power(np.float64(a), b - 1))


_OPS = [
    ("add", operator.add, "__add__", "__radd__"),
    ("sub", operator.sub, "__sub__", "__rsub__"),
    ("mul", operator.mul, "__mul__", "__rmul__"),
    ("truediv", operator.truediv, "__truediv__", "__rtruediv__"),
    ("floordiv", operator.floordiv, "__floordiv__", "__rfloordiv__"),
    ("mod", operator.mod, "__mod__", "__rmod__"),
    ("pow", operator.pow, "__pow__", "__rpow__"),
    ("matmul", operator.matmul, "__matmul__", "__rmatmul__"),
]

#: the ufunc an array's arithmetic operator calls
_UFUNC_OF = {
    "__add__": np.add, "__sub__": np.subtract, "__mul__": np.multiply, "__truediv__": np.true_divide,
    "__floordiv__": np.floor_divide, "__mod__": np.remainder, "__pow__": np.power, "__matmul__": np.matmul,
}


def _or(a, b):
    """`a | b`: a merge of dicts (each key's cotangent to the one whose value it kept), a class's
    own Python `__or__` / `__ror__` differentiated, and anything else (ints, sets, boolean arrays)
    a constant."""
    if isinstance(a, dict) and isinstance(b, dict) and not _python_method(a, b, "__or__", "__ror__"):
        y = a | b

        def dict_or_pullback(y_bar):
            if y_bar is None:
                return None, None, None
            g = y_bar.items if isinstance(y_bar, H.Slots) else y_bar
            a_bar = {k: c for k, c in g.items() if k in a and k not in b and c is not None}
            b_bar = {k: c for k, c in g.items() if k in b and c is not None}
            return None, a_bar or None, b_bar or None

        return y, dict_or_pullback
    if _python_method(a, b, "__or__", "__ror__"):
        return _user_binop(a, b, "__or__", "__ror__", operator.or_)
    return a | b, _no_bars


def _bitwise(opfunc, name, rname):
    """`a & b`, `a ^ b`, `a << b`, `a >> b`: a class's own Python method differentiated (a
    `Counter`'s, a user's); anything else (ints, sets, boolean arrays) a constant."""

    def bitwise(a, b):
        if _python_method(a, b, name, rname):
            return _user_binop(a, b, name, rname, opfunc)
        return opfunc(a, b), _no_bars

    bitwise.__name__ = name.strip("_")
    return bitwise


def _ibitwise(iopfunc, iname, binop, name, rname):
    """`a &= b` (and the others of `_bitwise`): a class's own `__iand__`, or its `__and__`; anything
    else rebinds to a constant (a set changes in place, as Python does it)."""

    def ibitwise(a, b):
        from .runtime import _class_attr, call

        meth = _class_attr(type(a), iname) if not is_foreign(a) else None
        if isinstance(meth, _FunctionType):
            return call(meth, a, b)
        if _python_method(a, b, name, rname):
            return binop(a, b)
        return iopfunc(a, b), _no_bars

    ibitwise.__name__ = iname.strip("_")
    return ibitwise


def _ior(a, b):
    """`a |= b`: a dict updated in place (followed as `a.update(b)`), a class's own `__ior__` or
    `__or__`; anything else rebinds to a constant."""
    from .runtime import _class_attr, _Wrapped, call, callmethod

    if isinstance(a, dict) and isinstance(b, dict) and not _python_method(a, a, "__ior__", "__or__"):
        _, pb = callmethod(a, "update", b)
        ctx = H.current()

        def dict_ior_pullback(y_bar):
            # the dict's cotangent, taken for the name it was bound to again, goes back to the
            # heap, where update's pullback reads it
            if y_bar is not None:
                H.heap_add(ctx, a, y_bar)
            return (None, *pb(None))

        return a, _Wrapped(dict_ior_pullback)
    meth = _class_attr(type(a), "__ior__") if not is_foreign(a) else None
    if isinstance(meth, _FunctionType):
        return call(meth, a, b)
    if _python_method(a, b, "__or__", "__ror__"):
        return _or(a, b)
    a |= b  # (a set changes in place, an int or a bool array as Python does it)
    return a, _no_bars


def _python_method(a, b, name, rname):
    """Whether `a`'s class has its own Python method `name`, or `b`'s its `rname` (a subclass of
    dict or set that the user wrote it for)."""
    from .runtime import _class_attr

    # (a Dask or CuPy array's methods are its library's code: NumPy's rules take its operators)
    return (not is_foreign(a) and isinstance(_class_attr(type(a), name), _FunctionType)) or (
        not is_foreign(b) and isinstance(_class_attr(type(b), rname), _FunctionType))


def _no_bars(y_bar):
    return None, None, None


def _compare(opfunc, name, rname):
    """`a < b` (and the other comparisons) where an operand may be an object of the user's: its
    class's own Python method is run as the user's code (what it changes, it changes in the
    gradient's sight: its pullback runs though its result, a bool, has no cotangent). Anything
    else compares as Python does, with no cotangents."""

    def compare(a, b):
        if _is_user(a) or _is_user(b):
            got = _python_operator(a, b, name, rname, sourced=True, compare=True)  # (a dataclass's run as written)
            if got is not None:
                return got
        return opfunc(a, b), _no_bars

    compare.__name__ = name.strip("_")
    return compare


def _users_method(x, name):
    """The Python function `name` of `x`'s class where it is the user's code (not a library's,
    not dpnb's own, not made from a string as a dataclass's), else None."""
    if not _is_user(x):
        return None
    from .runtime import _class_attr, _users_code

    meth = _class_attr(type(x), name)
    if type(meth) is _FunctionType and _users_code(meth.__code__):
        f = meth.__code__.co_filename
        if not f.startswith("<") or f.startswith("<ipython-input"):
            return meth
    return None


def truth(a):
    """`bool(a)`, as a test takes `a` (`if a:`): a class's own `__bool__`, or `__len__` where it
    has no `__bool__`, run as the user's code (what it changes, it changes in the gradient's
    sight); anything else as Python does. Pullback: (None, a's cotangent)."""
    meth = _users_method(a, "__bool__")
    if meth is not None:
        from .runtime import call

        y, pb = call(meth, a)
        if type(y) is not bool:
            raise TypeError(f"__bool__ should return bool, returned {type(y).__name__}")
        return y, pb
    if _users_method(a, "__len__") is not None:
        from .runtime import _class_attr

        if _class_attr(type(a), "__bool__") is None:
            n, pb = len_of(a)
            return n != 0, pb
    return bool(a), _no_bar


def not_(a):
    """`not a` (see `truth`)."""
    y, pb = truth(a)
    return not y, pb


def len_of(a):
    """`len(a)`: a class's own `__len__` run as the user's code (see `truth`)."""
    meth = _users_method(a, "__len__")
    if meth is not None:
        from .runtime import call

        n, pb = call(meth, a)
        n = operator.index(n)
        if n < 0:
            raise ValueError("__len__() should return >= 0")
        return n, pb
    return len(a), _no_bar


def contains(x, a):
    """`x in a`: `a`'s class's own `__contains__` run as the user's code (see `truth`), its result
    taken as a test takes it. Pullback: (None, x's cotangent, a's)."""
    meth = _users_method(a, "__contains__")
    if meth is None:
        from .runtime import _class_attr

        if _users_method(a, "__iter__") is None or _class_attr(type(a), "__contains__") is not None:
            return x in a, _no_bars
        return _contains_by_iter(x, a)
    from .runtime import _Wrapped, call, none_run

    y, pb = call(meth, a, x)
    t, tpb = truth(y)

    def contains_pullback(y_bar):
        none_run(tpb, 2)
        _, a_bar, x_bar = none_run(pb, 3)
        return None, x_bar, a_bar

    return t, _Wrapped(contains_pullback)


def _contains_by_iter(x, a):
    """`x in a` of a class with its own `__iter__` and no `__contains__`: its `__iter__` run as the
    user's code, then its items compared with `x` as Python does (a test: no cotangent)."""
    from .runtime import _Wrapped, call, none_run

    it, pb = call(_users_method(a, "__iter__"), a)
    from ..rules.python._iterables import Source

    src = Source(it)
    found = any(v is x or v == x for v in src)

    def contains_iter_pullback(y_bar):
        src.bar({})
        return None, None, none_run(pb, 2)[1]

    return found, _Wrapped(contains_iter_pullback)


def not_in(x, a):
    """`x not in a` (see `contains`)."""
    y, pb = contains(x, a)
    return not y, pb


def _no_bar(y_bar):
    return None, None


#: builtins Python answers with a method of the object's class: the methods it looks for, in
#: order, each with the type its result must have (None: any) and the type Python makes of it
_INT, _FLOAT, _STR = ("__index__", int, int), ("__float__", float, float), ("__repr__", str, str)
IMPLICIT_METHODS = {
    float: (_FLOAT, ("__index__", int, float)), int: (("__int__", int, int), _INT),
    complex: (("__complex__", complex, complex), ("__float__", float, complex), ("__index__", int, complex)),
    operator.index: (_INT,), str: (("__str__", str, str), _STR), repr: (_STR,),
    format: (("__format__", str, str), ("__str__", str, str), _STR), hash: (("__hash__", int, hash),),
    round: (("__round__", None, None),), math.floor: (("__floor__", None, None),),
    math.ceil: (("__ceil__", None, None),), math.trunc: (("__trunc__", None, None),),
}


def print_(f, *args, **kwargs):
    """`print(a, ...)`: the `__str__` (or `__repr__`) of each object of a class of the user's run as
    the user's code (`implicit_call`), the strings printed as Python prints them."""
    from .runtime import _Wrapped, none_run

    shown, pbs = [], []
    for a in args:
        got = implicit_call(str, a) if _is_user(a) else None
        shown.append(a if got is None else got[0])
        if got is not None:
            pbs.append(got[1])
    print(*shown, **kwargs)

    def print_pullback(y_bar):
        for pb in reversed(pbs):
            none_run(pb, 2)
        return (None,) * (len(args) + 1)

    return None, _Wrapped(print_pullback)


def implicit_call(f, a, *rest):
    """`f(a, ...)` (`float(a)`, `str(a)`, `hash(a)`, `format(a, spec)`, ...) where `a`'s class has
    the method Python calls for it as the user's code: that method run as such (what it changes,
    it changes in the gradient's sight; its result's cotangent goes back through it), (y,
    pullback(y_bar) -> (None, a_bar, ...)); None where Python would call no method of the user's."""
    from .runtime import _class_attr

    for name, want, make in IMPLICIT_METHODS[f]:
        meth = _users_method(a, name)
        if meth is not None:
            break
        if _class_attr(type(a), name) not in (None, getattr(object, name, None)):
            return None  # a method Python calls that is not the user's (a library's, a C type's)
    else:
        return None
    if name in ("__str__", "__repr__") and f is format and rest and rest[0]:
        return None  # (object.__format__ refuses a format spec: Python's own error)
    from .runtime import _Wrapped, call, none_run

    args = rest if name in ("__format__", "__round__") else ()
    y, pb = call(meth, a, *args)
    if want is not None:
        if not isinstance(y, want):
            raise TypeError(f"{type(a).__name__}.{name} returned non-{want.__name__} (type {type(y).__name__})")
        if type(y) is not make:
            y = make(y)  # (`complex(a)` of an `__float__`; Python's hash of the int `__hash__` gave)
    n = len(args) + 2
    real = make is complex and want is not complex  # (the real part of the cotangent is the method's)

    def implicit_pullback(y_bar):
        if real and y_bar is not None:
            y_bar = y_bar.real
        bars = pb(y_bar) if y_bar is not None else none_run(pb, n)
        return (None, bars[1]) + tuple(bars[2:]) + (None,) * (len(rest) - len(args))

    return y, _Wrapped(implicit_pullback)


#: comparisons: (helper name, method, reflected method, operator)
COMPARISONS = {
    "lt": ("__lt__", "__gt__", operator.lt), "gt": ("__gt__", "__lt__", operator.gt),
    "le": ("__le__", "__ge__", operator.le), "ge": ("__ge__", "__le__", operator.ge),
    "eq": ("__eq__", "__eq__", operator.eq), "ne": ("__ne__", "__ne__", operator.ne),
}

BINOPS = {"or": _or, "contains": contains, "not_in": not_in}
INPLACE = {"ior": _ior}
#: the bitwise operators other than `|`: (helper name, method, reflected method, operator, in place)
BITWISE = {
    "and": ("__and__", "__rand__", operator.and_, operator.iand),
    "xor": ("__xor__", "__rxor__", operator.xor, operator.ixor),
    "lshift": ("__lshift__", "__rlshift__", operator.lshift, operator.ilshift),
    "rshift": ("__rshift__", "__rrshift__", operator.rshift, operator.irshift),
}
for _name, (_m, _r, _op, _iop) in BITWISE.items():
    BINOPS[_name] = _bitwise(_op, _m, _r)
    INPLACE["i" + _name] = _ibitwise(_iop, "__i" + _m[2:], BINOPS[_name], _m, _r)
for _name, (_m, _r, _op) in COMPARISONS.items():
    BINOPS[_name] = _compare(_op, _m, _r)
for _name, _op, _l, _r in _OPS:
    BINOPS[_name] = _binop(_op, _l, _r)
    BINOPS[_name + "_left"] = _binop(_op, _l, _r, 1)
    BINOPS[_name + "_right"] = _binop(_op, _l, _r, 2)
    INPLACE["i" + _name] = _inplace(_name, BINOPS[_name])


def invert(a):
    """`~a`: a class's own `__invert__` run as the user's code; anything else (an int, a boolean
    array) as Python does, with no cotangent."""
    from .runtime import _class_attr, call

    if not is_foreign(a) and isinstance(_class_attr(type(a), "__invert__"), _FunctionType):
        return call(_class_attr(type(a), "__invert__"), a)
    return ~a, _no_bar


UNOPS = {
    "neg": _unop(operator.neg, "__neg__"),
    "invert": invert,
    "pos": _unop(operator.pos, "__pos__"),
    "log_base": log_base,
    "truth": truth,
    "not_": not_,
    "len_of": len_of,
    "pow_base_bar": pow_base_bar,
}

#: `abs(a)` of an object of a class of the user's: its `__abs__`, as the user's code (the rule of
#: `abs` hands such an object here)
user_abs = _unop(operator.abs, "__abs__")

#: the `operator` module's functions, called with an object of a class of the user's
#: (`operator.floordiv(a, 2)`, `functools.reduce(operator.mul, objects)`, `~a`): the helpers the
#: transform writes for the operators themselves, which run the class's own methods
ON_OBJECTS = {
    operator.neg: UNOPS["neg"], operator.pos: UNOPS["pos"], operator.abs: user_abs, operator.truth: truth,
    operator.invert: _unop(operator.invert, "__invert__"), operator.inv: _unop(operator.inv, "__invert__"),
}
for _name, _op, _l, _r in _OPS:
    ON_OBJECTS[_op] = BINOPS[_name]
for _name, (_m, _r, _op) in COMPARISONS.items():
    ON_OBJECTS[_op] = BINOPS[_name]
for _name, (_m, _r, _op, _iop) in BITWISE.items():
    ON_OBJECTS[_op] = BINOPS[_name]
ON_OBJECTS[operator.or_] = BINOPS["or"]


def _builtin_pow(base, exp, *mod):
    """`pow(a, b)` of an object of a class of the user's: `a ** b`, its class's `__pow__` (or the
    other's `__rpow__`); with a modulus, the class's three-argument `__pow__` as the user's code."""
    if not mod:
        return BINOPS["pow"](base, exp)
    (mod,) = mod
    if mod is None:
        y, pb = BINOPS["pow"](base, exp)
        return y, lambda y_bar: (*pb(y_bar), None)
    from .runtime import _class_attr, call

    meth = _class_attr(type(base), "__pow__")
    if not _is_user(base) or not isinstance(meth, _FunctionType):
        return pow(base, exp, mod), lambda y_bar: (None, None, None, None)  # raises Python's TypeError
    return call(meth, base, exp, mod)


ON_OBJECTS[pow] = _builtin_pow
