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
import operator
import sys
import types

import numpy as np

from . import fwdrev
from . import tidy
from .astlib import name_nodes, tup
from .forward import Unsupported, _ByCode

_UNSUPPORTED = fwdrev._UNSUPPORTED
#: code -> {number of arguments: (rule generation, globals, _Built or _UNSUPPORTED)} (`fwdrev.built`)
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
# `_sole_count` measures on this interpreter), of the result's shape, the product is written
# into it, with no new array (no new pages for a large one); otherwise `a * b` as written. The
# same for `+ - /` and for `b` let go, and `-a` (`_into_negative(a, None, 0)`).

_refs = sys.getrefcount
_OPS = {ast.Add: (np.add, operator.add), ast.Sub: (np.subtract, operator.sub), ast.Mult: (np.multiply, operator.mul),
        ast.Div: (np.true_divide, operator.truediv), ast.USub: (np.negative, None)}


def _into(ufunc, op, sole):
    def into(a, b, k):
        o = b if k else a
        other = a if k else b
        if type(o) is np.ndarray and _refs(o) <= sole and o.dtype.char == "d" and o.base is None:
            if op is None:
                return ufunc(o, out=o)
            t = type(other)
            if t is float or t is int or (t is np.ndarray and other.shape == o.shape and other.dtype.char == "d"):
                return ufunc(a, b, out=o)
        return -a if op is None else op(a, b)  # as written

    return into


def _sole_count():
    """The reference count `into` sees for an array only the caller's name holds, measured here on
    the running interpreter (4 on CPython 3.11: the caller's name, the parameter, `o` and
    getrefcount's own argument) and checked to be below what it sees for an array a second name
    holds too; 0 (never in place) otherwise. Both are called as the generated code calls `into`:
    a name passed directly (a call with `*` would hold one reference more, in its tuple)."""
    def probe(a, b, k):
        o = b if k else a
        other = a if k else b  # noqa: F841 - as in `into`
        return _refs(o)

    def sole():
        a = np.empty(1)
        return probe(a, None, 0)

    def shared():
        a = np.empty(1)
        b = a  # noqa: F841 - a second name
        return probe(a, None, 0)

    s, t = sole(), shared()
    return s if s < t else 0


_SOLE = _sole_count()
_INTO = {"_into_" + f.__name__: _into(f, op, _SOLE) for f, op in _OPS.values()}


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
            sides = (v.left, v.right)
        elif isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub):
            sides = (v.operand, ast.Constant(value=None))
        else:
            continue
        for k, side in enumerate(sides):
            if isinstance(side, ast.Name) and side.id in freed and side.id != st.targets[0].id:
                f = ast.Name(id="_into_" + _OPS[type(v.op)][0].__name__, ctx=ast.Load())
                st.value = ast.Call(func=f, args=[*sides, ast.Constant(value=k)], keywords=[])
                break


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
    b = fwdrev.built(_CACHE, fn, nargs, lambda f: build(f, nargs))
    return None if b is _UNSUPPORTED else b.fn


def run(g, fn, args):
    """`(y, (bar of each argument))` from `g = function(fn, len(args))`, or None if the call must
    go the general way (`g` is then dropped: it is built again next time)."""
    try:
        if fn.__closure__ or fn.__code__.co_argcount > len(args):
            r = g(*args, *fwdrev.constants(fn, len(args)))
        else:
            r = g(*args)
    except fwdrev.Bail:
        _CACHE.pop(fn.__code__, None)  # a callee may have been redefined
        return None
    except Exception:
        return None  # the general way runs it again and reports what went wrong, where it did
    y = r[0]
    if not (type(y) is float or isinstance(y, np.floating)):
        return None  # not a real scalar (an array, an int, a complex number): the general way says
    return y, r[1:]


def forget():
    _CACHE.clear()


def source(fn, nargs=1):
    """The plain gradient code `gradient(fn, *args)` runs for `nargs` array arguments, or None."""
    if type(fn) is not types.FunctionType:
        return None
    b = fwdrev.built(_CACHE, fn, nargs, lambda f: build(f, nargs))
    return None if b is _UNSUPPORTED else ast.unparse(b.tree)
