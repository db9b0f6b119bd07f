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

An argument may also be an object whose fields are such arrays, floats, lists and tuples of
them and other such objects (a model written as classes), or such a list or tuple: the code
is built for that structure, looked up by it at each call (`run_structured`). And
`gradient(f, Params(...))` of a function of no arguments reads the arrays and objects of its
module the same way (`params_run`).
"""
import ast
import operator
import sys
import types

import numpy as np

from . import fwdrev
from . import results
from . import tidy
from .astlib import LOAD, STORE, copy_location, name_nodes, tup, walk
from .forward import Unsupported, _ByCode
from .load import gc_paused
from ..rules import registry
from ..tangents import Tangent

_UNSUPPORTED = fwdrev._UNSUPPORTED
#: code -> {number of arguments: (rule generation, globals, _Built or _UNSUPPORTED)} (`fwdrev.built`)
_CACHE = _ByCode()


@gc_paused
def build(fn, nargs, sigs=None, inplace=True, tree=False):
    """The compiled `grad(*params, *cells) -> (y, bar_1, ..., bar_nargs)` of `fn`, or `Unsupported`.
    With `sigs` (`signature`), an argument that is an object, list or tuple is given as its
    leaves, and so are their cotangents. The code's tree is kept (`.tree`) only with `tree`
    (`source`): kept in the cache, its thousand-odd objects would cost memory and the garbage
    collector's time for nothing."""
    # a `*args` function is read as one of `nargs` plain parameters, as the general way does
    adj, params, free, fwd, bwd, ret, ns, checks, src = fwdrev.read(
        fn, nargs, spread=bool(fn.__code__.co_flags & 0x04), sigs=sigs)
    b = _compile(fn, adj, adj.leaves, params[nargs:] + free, fwd, bwd, ret, ns, checks, src, inplace)
    if not tree:
        b.tree = None
    return b


def _compile(fn, adj, leaves, rest, fwd, bwd, ret, ns, checks, src, inplace=True):
    """`def grad(*leaves, *rest)`: the checks, the forward statements, the cotangents, tidied (and,
    with `inplace`, written into arrays nothing else holds: `_in_place`)."""
    params, free = leaves, rest
    _shapes_only(fwd, bwd, set(params + free), adj.fresh)
    wanted = _total_if_wanted(fwd, bwd, ret, adj.fresh)
    body = checks + fwd + bwd + [ast.Return(tup(ret.elts))]
    name = "_" + (fn.__name__ if fn.__name__.isidentifier() else "lambda") + "_gradient"
    # copies read through, and each value let go right after its last read, as by hand (the peak
    # is then a few arrays, not every value and cotangent of the function at once)
    whole = ast.FunctionDef(name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params + free],
                            vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
                            body=body, decorator_list=[], returns=None, type_comment=None)
    tidy.propagate_copies(whole)  # `_t2_bar = _c_1` read as `_c_1`
    names = tidy.Names(whole)
    body = tidy.release_dead(whole, names.stored, names).body
    written = _in_place(body) if inplace else ()
    ns = dict(ns, **_INTO, **_SHAPED, **_UNREAD_TOTALS)
    # (release_dead and _in_place assign no name `names.stored` does not hold, and read none but the
    # `_into_` functions written besides those the code read before)
    return fwdrev.compile_function(fn, adj, name, params + free, body, ns, src, () if wanted is None else (wanted,),
                                   names.stored, names.loaded.union(written))


# --- the value `gradient` drops -------------------------------------------------------------------
#
# A function whose value is the sum of an array, `y = _p_sum(t, None, False)`: its backward pass
# needs the shape of `t`, never the total, which `gradient` hands back no value of.
# The code takes a keyword `_value` (False unless `withgradient` asks): without it, the total of a
# float array is not summed (`_p_sum_unread` says only that it is a real number, `UNREAD`), as a
# compiler drops the dead code; so an overflow in that total gives no warning, where `withgradient`
# (which sums it) does.

#: what the code gives for a total `gradient` does not read: a float array's sum is a real number
class _Unread:
    __slots__ = ()

    def __repr__(self):
        return "UNREAD"


UNREAD = _Unread()


def _p_sum_unread(a):
    return UNREAD if type(a) is np.ndarray and a.dtype.kind == "f" else fwdrev._p_sum(a)


_UNREAD_TOTALS = {"_p_sum_unread": _p_sum_unread}


def _total_if_wanted(fwd, bwd, ret, fresh):
    """Rewrite `y = _p_sum(t, None, False)`, the value the code returns and nothing else reads, to
    `y = _p_sum(t, None, False) if _value else _p_sum_unread(t)`, in place: the name of the
    keyword (None where there is no such total)."""
    y = ret.elts[0]
    if not isinstance(y, ast.Name):
        return None
    made = [st for st in _all_assigns(fwd) if st.targets[0].id == y.id]
    if len(made) != 1 or made[0] not in fwd:
        return None
    v = made[0].value
    if not (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "_p_sum"
            and not v.keywords and len(v.args) == 3 and isinstance(v.args[0], ast.Name)
            and all(isinstance(a, ast.Constant) for a in v.args[1:])
            and v.args[1].value is None and v.args[2].value is False):
        return None
    reads = [n for n in name_nodes(ast.Module(body=fwd + bwd, type_ignores=[])) if n.id == y.id]
    if len(reads) != 1:  # (the one: where it is made)
        return None
    wanted = fresh("_value")
    unread = ast.Call(ast.Name("_p_sum_unread", LOAD), [ast.Name(v.args[0].id, LOAD)], [])
    made[0].value = ast.IfExp(ast.Name(wanted, LOAD), v, unread)
    return wanted


# --- values the backward pass needs the shape of, not the entries ---------------------------------
#
# `t4 = t2 + b` un-broadcasts its cotangent to the shapes of `t2` and `b` (`_p_unb(g, t2)`), and a
# mean's cotangent needs the shape and size of what it averaged: a value the backward pass reads
# only so is kept as its shape (`t2_shape = _p_shape(t2)`, right after it is made), and the value
# itself is let go once the forward pass is done with it, as by hand.


def _p_shape(a):
    return a.shape if type(a) is np.ndarray else np.shape(a)


def _p_counts(shape, t):
    """`fwdrev._p_count` given the shape of what was averaged."""
    n = 1
    for k in shape:
        n *= k
    return n // np.size(t)


_BY_SHAPE = {"_p_unb": ("_p_unbs", 1), "_p_sum_bar": ("_p_sum_bars", 1), "_p_count": ("_p_counts", 0)}
_SHAPED = {"_p_shape": _p_shape, "_p_unbs": fwdrev._p_unbs, "_p_sum_bars": fwdrev._p_sum_bars, "_p_counts": _p_counts}


def _shapes_only(fwd, bwd, params, fresh):
    """Rewrite, in place, the backward reads of values it needs only the shapes of (see above)."""
    uses = {}
    for n in name_nodes(ast.Module(body=bwd, type_ignores=[])):
        uses.setdefault(n.id, []).append(n)
    shaped = {}
    for node in (n for st in bwd for n in walk(st)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _BY_SHAPE:
            k = _BY_SHAPE[node.func.id][1]
            a = node.args[k] if len(node.args) > k else None
            if isinstance(a, ast.Name) and a.id not in params:
                shaped.setdefault(a.id, []).append(node)
    made = {}
    for st in _all_assigns(fwd):
        if not isinstance(st.value, ast.Name):  # (a copy is read through: `tidy.propagate_copies`)
            made[st.targets[0].id] = st
    for name, calls in shaped.items():
        if name not in made or len(uses.get(name, ())) != len(calls):
            continue  # read for its entries too (or made in the backward pass)
        shape = fresh(name.lstrip("_") + "_shape")
        for node in calls:
            new, k = _BY_SHAPE[node.func.id]
            node.func = ast.Name(new, LOAD)
            node.args[k] = ast.Name(shape, LOAD)
        st = made[name]
        st.dpnb_shape = shape  # `_insert_shapes` writes `shape = _p_shape(name)` after it
    _insert_shapes(fwd)


def _all_assigns(stmts):
    for st in stmts:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            yield st
        for field in ("body", "orelse"):
            inner = getattr(st, field, None)
            if isinstance(inner, list):
                yield from _all_assigns(inner)


def _insert_shapes(stmts):
    i = 0
    while i < len(stmts):
        st = stmts[i]
        for field in ("body", "orelse"):
            inner = getattr(st, field, None)
            if isinstance(inner, list):
                _insert_shapes(inner)
        shape = getattr(st, "dpnb_shape", None)
        if shape is not None:
            value = ast.Call(ast.Name("_p_shape", LOAD), [ast.Name(st.targets[0].id, LOAD)], [])
            stmts.insert(i + 1, copy_location(ast.Assign([ast.Name(shape, STORE)], value), st))
            i += 1
        i += 1


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


def _in_place(stmts, written=None):
    """Rewrite, in place, the operations whose operand is let go by the next statement; the
    names of the `_into_` functions written (added to `written`)."""
    if written is None:
        written = set()
    for i, st in enumerate(stmts):
        for field in ("body", "orelse"):
            inner = getattr(st, field, None)
            if isinstance(inner, list) and not isinstance(st, ast.FunctionDef):
                _in_place(inner, written)
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
            sides = (v.operand, ast.Constant(None))
        else:
            continue
        for k, side in enumerate(sides):
            if isinstance(side, ast.Name) and side.id in freed and side.id != st.targets[0].id:
                f = ast.Name("_into_" + _OPS[type(v.op)][0].__name__, LOAD)
                st.value = ast.Call(f, [*sides, ast.Constant(k)], [])
                written.add(f.id)
                break
    return written


#: arguments of up to this many entries in all take this way (the tests lower it to send a call the
#: general way). Since the plain code writes into arrays nothing else holds (`_in_place`) it is
#: faster and holds less than the general way at every size measured on the elementwise workload
#: (`sum(sin(x) * exp(x) / (1 + x**2))`, ratio to the hand-written gradient): at 10**7 entries
#: 1.11-1.14x against 1.17-1.20x, peak memory 1.17x against 1.33x
MAX_ENTRIES = 1 << 40


#: from this many entries in all, the code writes into arrays nothing else holds (`_in_place`):
#: below, the call that decides costs more (0.3 us) than a new array of that size
IN_PLACE_FROM = 1 << 14


def applies(args):
    """Every argument a float64 array or a float, at least one an array, and not too many
    entries in all (`MAX_ENTRIES`): 2 from `IN_PLACE_FROM` entries (the code that writes in
    place), 1 below, 0 where it does not apply. (The gradient of a float32 array is float32 the
    general way; here it would be float64.)"""
    seen = False
    total = 0
    for a in args:
        t = type(a)
        if t is _ndarray:
            if a.dtype.char != "d":
                return 0
            total += a.size
            seen = True
        elif t is not float:
            return 0
    if not seen or total > MAX_ENTRIES:
        return 0
    return 2 if total >= IN_PLACE_FROM else 1


_ndarray = np.ndarray


def function(fn, nargs, inplace=True):
    """The compiled plain gradient of `fn` for `nargs` arguments, or None where it does not apply."""
    if type(fn) is not types.FunctionType:
        return None
    code = fn.__code__
    if code.co_flags & 0x08 or code.co_kwonlyargcount or fn.__kwdefaults__:
        return None
    if code.co_flags & 0x04 and nargs < code.co_argcount:
        return None
    b = fwdrev.built(_CACHE, fn, (nargs, inplace), lambda f: build(f, nargs, inplace=inplace))
    return None if b is _UNSUPPORTED else b.fn


def run(gs, fn, args, k, value=False):
    """`(y, gradient)`, the gradient as `gradient` hands it back, or None if the call must go the
    general way (the code is then dropped: it is built again next time). `k`: what `applies(args)`
    gave; `gs[k]` the code for it, made here if need be (`function`). Without `value`, `y` may be
    `UNREAD` (a real number not computed: see `_total_if_wanted`)."""
    g = gs[k]
    if g is None:
        g = gs[k] = function(fn, len(args), k == 2)
        if g is None:
            return None
    r = _called(g, fn, len(args), args, _CACHE, value)
    return None if r is None else (r[0], results.finish_all(r[1:], args))


def _called(g, fn, nargs, inputs, cache, value=False):
    """`g(*inputs)` (and the constants after `fn`'s first `nargs` parameters): `(y, *bars)`, or
    None if the call must go the general way, which runs it again from the start (nothing here
    changed anything) and reports what went wrong, where it did. With `value`, the code computes
    the total it returns even where only the gradient is read (`_total_if_wanted`)."""
    try:
        if fn.__closure__ or fn.__code__.co_argcount > nargs:
            inputs = (*inputs, *fwdrev.constants(fn, nargs))
        if value and g.__kwdefaults__:
            r = g(*inputs, **dict.fromkeys(g.__kwdefaults__, True))
        else:
            r = g(*inputs)
    except fwdrev.Bail:
        cache.pop(fn.__code__, None)  # a callee may have been redefined: built again next time
        return None
    except Exception:
        return None
    y = r[0]
    if not (y is UNREAD or type(y) is float or isinstance(y, np.floating)):
        return None  # not a real scalar (an array, an int, a complex number): the general way says
    return r


# --- objects, lists and tuples: code built for the structure of the arguments -----------------
#
# `gradient(loss, model, x, y)` where `model` is an object whose fields are float arrays, lists
# of other such objects, ...: the code is built for the structure (each object's class and
# fields, each list's length), with one parameter per array or float in it, and runs again only
# for arguments of the same structure. The structure is read at every call (a few microseconds
# for a small network); an object or array met twice in it, an array that is a view, or a value
# the code reads that is not a float array, a float, an object, a list or a tuple, and the call
# takes the general way.

#: at most this many objects, lists, tuples and values in the arguments' structure
MAX_NODES = 2048
_STRUCT_CLASSES = {}  # class -> whether its instances are read through (`_struct_class`)


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement (or type())


def _struct_class(cls):
    """Instances of `cls` are read through: a class of the user's whose attributes are the
    instance's `__dict__` (no `__slots__`, `__getattr__` or `__getattribute__` of its own), and
    written in Python: a C type (NumPy's scalars) is not, whatever its module."""
    ok = _STRUCT_CLASSES.get(cls)
    if ok is None:
        import inspect

        ok = (type(cls) is type and cls.__getattribute__ is object.__getattribute__ and cls.__dictoffset__ != 0
              and all(k is object or (k.__flags__ & _HEAP_TYPE and "__slots__" not in k.__dict__) for k in cls.__mro__)
              and inspect.getattr_static(cls, "__getattr__", None) is None)
        _STRUCT_CLASSES[cls] = ok
    return ok


class _Walk:
    __slots__ = ("leaves", "seen", "nodes", "entries", "ids")

    def __init__(self, ids=None):
        self.leaves, self.seen, self.nodes, self.entries = [], set(), 0, 0
        self.ids = ids  # `Params`' ids: their arrays are "p" (the others "a", carrying no cotangent)


def _sig(v, w, top):
    """The signature of `v` ("a" a float64 array, "f" a float, "o" any other value, or
    `(class, field names or None, signatures)` for an object, list or tuple); its leaves appended
    to `w.leaves`. None: the arguments cannot be read through (met twice, a view, too big)."""
    t = type(v)
    if t is np.ndarray:
        if v.dtype.char != "d":
            return None if top else "o"
        if v.base is not None or id(v) in w.seen:
            return None
        w.seen.add(id(v))
        w.leaves.append(v)
        w.entries += v.size
        return "p" if w.ids is not None and id(v) in w.ids else "a"
    if t is float:
        w.leaves.append(v)
        return "f"
    w.nodes += 1
    if w.nodes > MAX_NODES:
        return None
    if t is list or t is tuple:
        if id(v) in w.seen:
            return None
        w.seen.add(id(v))
        kids = []
        for x in v:
            k = _sig(x, w, False)
            if k is None:
                return None
            kids.append(k)
        return (t, None, tuple(kids))
    if _struct_class(t):
        if id(v) in w.seen:
            return None
        w.seen.add(id(v))
        d = v.__dict__
        names = tuple(d)
        kids = []
        for n in names:
            if type(n) is not str or not n.isidentifier():
                return None
            k = _sig(d[n], w, False)
            if k is None:
                return None
            kids.append(k)
        return (t, names, tuple(kids))
    return None if top else "o"


def signature(args):
    """`(signature of each argument, leaves, entries of the arrays among them)` where an argument
    is an object, list or tuple and the others float64 arrays or floats; None otherwise."""
    w = _Walk()
    sigs = []
    found = False
    plain_arrays = []
    for a in args:
        t = type(a)
        if t is np.ndarray:
            if a.dtype.char != "d":
                return None
            plain_arrays.append(a)
            w.leaves.append(a)
            w.entries += a.size
            sigs.append("a")
            continue
        if t is float:
            w.leaves.append(a)
            sigs.append("f")
            continue
        k = _sig(a, w, True)
        if k is None:
            return None
        sigs.append(k)
        found = True
    if not found:
        return None
    for a in plain_arrays:  # an argument that is (a view of) an array inside another
        if id(a) in w.seen or (a.base is not None and id(a.base) in w.seen):
            return None
    if w.entries > MAX_ENTRIES:
        return None
    return tuple(sigs), w.leaves, w.entries


def structured(fn, nargs):
    """Whether `fn` may be built for the structure of `nargs` arguments."""
    if type(fn) is not types.FunctionType:
        return False
    code = fn.__code__
    if code.co_flags & 0x0C or code.co_kwonlyargcount or fn.__kwdefaults__:
        return False
    return True


def run_structured(_, fn, args, k=None, value=False):
    """`(y, (bar of each argument))` for arguments of which some are objects, lists or tuples (the
    cotangent of one a `Tangent`, list or tuple, as the general way gives it), or None if the
    call must go the general way."""
    got = signature(args)
    if got is None:
        return None
    sigs, leaves, entries = got
    inplace = entries >= IN_PLACE_FROM
    b = fwdrev.built(_CACHE, fn, (sigs, inplace), lambda f: build(f, len(args), sigs, inplace))
    if b is _UNSUPPORTED:
        return None
    r = _called(b.fn, fn, len(args), leaves, _CACHE, value)
    if r is None:
        return None
    it = iter(results.finish_all(r[1:], leaves))  # each leaf's an array of its own
    return r[0], tuple(_rebuild(a, s, it) for a, s in zip(args, sigs))


def _rebuild(v, sig, it):
    """The cotangent of `v`, from its leaves' in `it`, as `gradient` hands it back (`results.complete`
    of what the general way gives): a `Tangent` of an object, with every field in order; a list or
    tuple; None for one that got none."""
    if type(sig) is str:
        return None if sig == "o" else next(it)
    cls, names, kids = sig
    got = False
    if names is None:
        items = []
        for x, k in zip(v, kids):
            b = (None if k == "o" else next(it)) if type(k) is str else _rebuild(x, k, it)
            items.append(b)
            if b is not None:
                got = True
        return (items if cls is list else tuple(items)) if got else None
    d = v.__dict__
    fields = {}
    for n, k in zip(names, kids):
        b = fields[n] = (None if k == "o" else next(it)) if type(k) is str else _rebuild(d[n], k, it)
        if b is not None:
            got = True
    if not got:
        return None
    if hasattr(cls, _DATACLASS):
        return results.complete(Tangent(cls, fields), v)  # the fields in their declared order
    return Tangent(cls, fields)


_DATACLASS = "__dataclass_fields__"


# --- `gradient(f, Params(...))`: the arrays and structures `f` reads from its module ----------
#
# The same code, with the globals the function reads that hold float arrays or structures given
# as leaves (`fwdrev._Adjoint.implicit_of`), the arrays of `Params` among them carrying
# cotangents. Which globals those are is known once the code is read: each build records their
# names and signatures, and a call runs the build whose signatures its globals have now.

_PARAMS = _ByCode()  # code -> [_ParamsBuild], newest first
_MISSING = object()


class _ParamsBuild:
    __slots__ = ("generation", "globals", "names", "sigs", "fn", "positions", "read")


def _implicit_sig(v, w):
    """`fwdrev._Adjoint.implicit_of`'s signature of a global: False for a value read as before (a
    number, a function, a module, an array of other numbers that `Params` does not hold)."""
    t = type(v)
    if t is np.ndarray:
        if v.dtype.char != "d":
            return None if id(v) in w.ids else False
        return _sig(v, w, True)
    if t is list or t is tuple or _struct_class(t):
        return _sig(v, w, True)
    return False


def _params_build(fn, ids):
    w = _Walk(ids)
    adj, params, free, fwd, bwd, ret, ns, checks, src = fwdrev.read(fn, 0, implicit=lambda v: _implicit_sig(v, w))
    b = _ParamsBuild()
    b.generation, b.globals = registry.generation[0], fn.__globals__
    b.names, b.sigs = tuple(adj.implicit_names), tuple(adj.implicit_sigs)
    b.positions = [adj.leaves.index(n) for n in adj.inputs]
    b.read = [n for n in adj.globals_read if n not in adj.implicit]
    built = _compile(fn, adj, adj.leaves, params + free, fwd, bwd, ret, ns, checks, src)
    b.fn = built.fn
    return b


def params_run(fn, ps, value=False):
    """`(y, {id of each array of ps: its gradient})` for a function of no arguments whose code is
    in the subset, reading `ps`' arrays through globals; None where the general way must run."""
    if type(fn) is not types.FunctionType or fn.__closure__ or fn.__code__.co_argcount or fn.__code__.co_flags & 0x0C:
        return None
    for p in ps:
        if type(p) is not np.ndarray or p.dtype.char != "d":
            return None
    ids = ps._ids
    g = fn.__globals__
    code = fn.__code__
    builds = _PARAMS.get(code)
    if builds is None:
        builds = _PARAMS[code] = []
    leaves = None
    for b in builds:
        if b is _UNSUPPORTED:
            return None
        if b.generation != registry.generation[0] or b.globals is not g:
            continue
        w = _Walk(ids)
        sigs = tuple(_implicit_sig(g.get(n, _MISSING), w) for n in b.names)
        if sigs == b.sigs:
            leaves = w.leaves
            break
    else:
        try:
            b = _params_build(fn, ids)
        except Unsupported:
            builds[:] = [_UNSUPPORTED]
            return None
        builds.insert(0, b)
        del builds[4:]
        w = _Walk(ids)
        sigs = tuple(_implicit_sig(g.get(n, _MISSING), w) for n in b.names)
        if sigs != b.sigs:
            return None
        leaves = w.leaves
    for n in b.read:  # a global read as a number or a constant array, not one of ps's
        if id(g.get(n)) in ids:
            return None
    r = _called(b.fn, fn, 0, leaves, _PARAMS, value)
    if r is None:
        return None
    grads = {}
    for pos, bar in zip(b.positions, results.finish_all(r[1:], [leaves[i] for i in b.positions])):
        if bar is not None:
            grads[id(leaves[pos])] = bar
    return r[0], grads


def always(args):
    return True


def forget():
    _CACHE.clear()
    _PARAMS.clear()
    _STRUCT_CLASSES.clear()


def source(fn, nargs=1, inplace=True):
    """The plain gradient code `gradient(fn, *args)` runs for `nargs` array arguments (with
    `inplace`, for arguments of `IN_PLACE_FROM` entries or more), or None."""
    if type(fn) is not types.FunctionType:
        return None
    try:  # (built again: the cache keeps no tree)
        b = build(fn, nargs, inplace=inplace, tree=True)
    except fwdrev.Unsupported:
        return None
    return ast.unparse(b.tree)
