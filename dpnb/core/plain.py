"""First order for array code as plain code on names: no heap, no closures.

`gradient(f, *args)` of a function whose arguments are float arrays (and floats) and whose
body is in the subset `fwdrev` reads (arithmetic, `@`, indexing by constants, `.T`, the
common NumPy reductions and elementwise functions, `if`, the module's own functions written
inline) runs the gradient `fwdrev._Adjoint` writes, with every argument active: the
forward statements, then each value's cotangent in a small closed set of primitives. In
that subset nothing can alias or change a value, so cotangents live in plain variables,
as in a gradient written by hand; the general way keeps them in a heap keyed by each
object, which is what mutation needs, and costs per operation what small arrays cannot
hide.

What the code reads from outside (the other parameters, closure cells, globals) is
checked to be a plain number or a real array when it runs, and NumPy functions are
checked to be the ones it was written for. Anything unexpected (`Bail`), an exception in
the user's code, or a result that is not a real number sends the call the general way,
which runs it again from the start (nothing here changed anything) and reports an error
from the user's line. `source(f, n)` prints the code.
"""
import ast
import sys
import types

import numpy as np

from . import fwdrev
from . import tidy
from .astlib import name_nodes, tup
from .forward import Unsupported, _ByCode

_UNSUPPORTED = fwdrev._UNSUPPORTED
#: code -> {number of arguments: (rule generation, globals, _Built or _UNSUPPORTED)}
_CACHE = _ByCode()


def build(fn, nargs):
    """The compiled `grad(*params, *cells) -> (y, bar_1, ..., bar_nargs)` of `fn`, or `Unsupported`."""
    # a `*args` function is read as one of `nargs` plain parameters, as the general way does
    adj, params, free, fwd, bwd, ret, ns, checks, src = fwdrev.read(fn, nargs, spread=bool(fn.__code__.co_flags & 0x04))
    body = checks + fwd + bwd + [ast.Return(value=tup(ret.elts))]
    name = "_" + (fn.__name__ if fn.__name__.isidentifier() else "lambda") + "_gradient"
    # copies read through, and each value let go right after its last read, as by hand (the peak
    # is then a few arrays, not every value and cotangent of the function at once)
    whole = ast.FunctionDef(name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params + free],
                            vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
                            body=body, decorator_list=[], returns=None, type_comment=None)
    tidy.propagate_copies(whole)  # `_t2_bar = _c_1` read as `_c_1`
    stored = {n.id for n in name_nodes(whole) if isinstance(n.ctx, ast.Store)}
    body = tidy.release_dead(whole, stored).body
    _in_place(body)
    ns = dict(ns, **_INTO)
    return fwdrev.compile_function(fn, adj, name, params + free, body, ns, src)


# --- arithmetic into an array nothing else holds ------------------------------------------------
#
# `t = a * b` where `a` is let go right after (`a = None`, `tidy.release_dead`) is written
# `t = _into_mul(a, b, 0)`: if, when it runs, `a` is a float64 array that no other name, view or
# object holds (its reference count is what the caller's name and the call alone give it, as
# `_sole_counts` measures on this interpreter), of the result's shape, the product is written
# into it, with no new array (no new pages for a large one); otherwise `a * b` as written. The
# same for `+ - /` and for `b` let go, and `-a`.

_refs = sys.getrefcount
_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide}


def _into(ufunc, sole):
    def into(a, b, k):
        o = b if k else a
        other = a if k else b
        if type(o) is np.ndarray and _refs(o) <= sole and o.dtype.char == "d" and o.base is None:
            t = type(other)
            if t is float or t is int or (t is np.ndarray and other.shape == o.shape and other.dtype.char == "d"):
                return ufunc(a, b, out=o)
        return ufunc(a, b)

    return into


def _neg(sole):
    def neg_into(a):
        if type(a) is np.ndarray and _refs(a) <= sole and a.dtype.char == "d" and a.base is None:
            return np.negative(a, out=a)
        return -a

    return neg_into


def _sole_counts():
    """The reference counts `into` and `neg_into` see for an array only the caller's name holds,
    measured here on the running interpreter (on CPython 3.11: 4 and 3) and checked to be below
    what they see for an array that a second name holds too; 0 (never in place) otherwise."""
    def probe2(a, b, k):
        o = b if k else a
        other = a if k else b  # noqa: F841 - as in `into`
        return _refs(o)

    def probe1(a):
        return _refs(a)

    # each called as the generated code calls `into`: a name passed directly (a call with `*`
    # would hold one reference more in its tuple)
    def sole2():
        a = np.empty(1)
        return probe2(a, None, 0)

    def shared2():
        a = np.empty(1)
        b = a  # noqa: F841 - a second name
        return probe2(a, None, 0)

    def sole1():
        a = np.empty(1)
        return probe1(a)

    def shared1():
        a = np.empty(1)
        b = a  # noqa: F841 - a second name
        return probe1(a)

    return [s if s < t else 0 for s, t in ((sole2(), shared2()), (sole1(), shared1()))]


_SOLE2, _SOLE1 = _sole_counts()


_INTO = {"_into_" + f.__name__: _into(f, _SOLE2) for f in _OPS.values()}
_INTO["_into_negative"] = _neg(_SOLE1)


def _in_place(stmts):
    """Rewrite, in place, the operations whose operand is let go by the next statement."""
    for i, st in enumerate(stmts):
        for field in ("body", "orelse"):
            inner = getattr(st, field, None)
            if isinstance(inner, list) and not isinstance(st, ast.FunctionDef):
                _in_place(inner)
        if i + 1 >= len(stmts) or not isinstance(st, ast.Assign) or len(st.targets) != 1:
            continue
        nxt = stmts[i + 1]
        if not (isinstance(nxt, ast.Assign) and isinstance(nxt.value, ast.Constant) and nxt.value.value is None):
            continue
        freed = {t.id for t in nxt.targets if isinstance(t, ast.Name)}
        v = st.value
        if isinstance(v, ast.BinOp) and type(v.op) in _OPS:
            for k, side in enumerate((v.left, v.right)):
                if isinstance(side, ast.Name) and side.id in freed and side.id != st.targets[0].id:
                    f = "_into_" + _OPS[type(v.op)].__name__
                    st.value = ast.Call(func=ast.Name(id=f, ctx=ast.Load()), args=[v.left, v.right, ast.Constant(value=k)], keywords=[])
                    break
        elif isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub) and isinstance(v.operand, ast.Name) and v.operand.id in freed:
            st.value = ast.Call(func=ast.Name(id="_into_negative", ctx=ast.Load()), args=[v.operand], keywords=[])


def _built(fn, nargs):
    from ..rules import registry

    per = _CACHE.get(fn.__code__)
    if per is None:
        per = _CACHE[fn.__code__] = {}
    got = per.get(nargs)
    if got is None or got[0] != registry.generation[0] or got[1] is not fn.__globals__:
        generation = registry.generation[0]
        try:
            b = build(fn, nargs)
        except Unsupported:
            b = _UNSUPPORTED
        # built again when a rule changes, or for a function of the same code in other globals
        got = per[nargs] = (generation, fn.__globals__, b)
    return got[2]


#: arguments of up to this many entries in all take this way; larger ones the general way, whose
#: rules work in place where the plain code makes a new array for every step. Measured on the
#: elementwise workload (`sum(sin(x) * exp(x) / (1 + x**2))`), ratio to the hand-written gradient,
#: plain against general: 1.11x / 1.34x at 10**4 entries, 1.05x / 1.52x at 3 * 10**4, 1.10x /
#: 1.19x at 10**5, 1.13x / 1.13x at 10**6, 1.32x / 1.16x at 10**7 (peak memory 1.17x / 1.33x)
MAX_ENTRIES = 1 << 20


def applies(args):
    """Every argument a float64 array or a float, at least one an array, and not too many
    entries in all (`MAX_ENTRIES`). (The gradient of a float32 array is float32 the general way;
    here it would be float64.)"""
    seen = False
    total = 0
    for a in args:
        t = type(a)
        if t is np.ndarray:
            if a.dtype.char != "d":
                return False
            total += a.size
            seen = True
        elif t is not float:
            return False
    return seen and total <= MAX_ENTRIES


def function(fn, nargs):
    """The compiled plain gradient of `fn` for `nargs` arguments, or None where it does not apply."""
    if type(fn) is not types.FunctionType:
        return None
    code = fn.__code__
    if code.co_flags & 0x08 or code.co_kwonlyargcount or fn.__kwdefaults__:
        return None
    if code.co_flags & 0x04 and nargs < code.co_argcount:
        return None
    b = _built(fn, nargs)
    return None if b is _UNSUPPORTED else b.fn


def run(g, fn, args):
    """`(y, (bar of each argument))` from `g = function(fn, len(args))`, or None if the call must
    go the general way (`g` is then dropped: it is built again next time)."""
    rest = fn.__code__.co_argcount - len(args)
    try:
        if rest > 0 or fn.__closure__:
            consts = fn.__defaults__[len(fn.__defaults__) - rest:] if rest > 0 else ()
            if fn.__closure__:
                consts = (*consts, *[c.cell_contents for c in fn.__closure__])
            r = g(*args, *consts)
        else:
            r = g(*args)
    except fwdrev.Bail:
        _CACHE.pop(fn.__code__, None)  # a callee may have been redefined
        return None
    except Exception:
        return None  # the general way runs it again and reports what went wrong, where it did
    y = r[0]
    ty = type(y)
    if not (ty is np.float64 or ty is float or (isinstance(y, np.floating) and not isinstance(y, np.ndarray))):
        return None  # not a real scalar (an array, an int, a complex number): the general way says
    return y, r[1:]


def gradient(fn, args):
    """`(y, (bar of each argument))` for `gradient(fn, *args)`, or None where this does not apply
    (then the general way runs)."""
    if not applies(args):
        return None
    g = function(fn, len(args))
    return None if g is None else run(g, fn, args)


def forget():
    _CACHE.clear()


def source(fn, nargs=1):
    """The plain gradient code `gradient(fn, *args)` runs for `nargs` array arguments, or None."""
    if type(fn) is not types.FunctionType:
        return None
    b = _built(fn, nargs)
    return None if b is _UNSUPPORTED else ast.unparse(b.tree)
