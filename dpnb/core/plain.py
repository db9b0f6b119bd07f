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
    return fwdrev.compile_function(fn, adj, name, params + free, body, ns, src)


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
