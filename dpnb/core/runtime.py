"""Stage 6 — runtime: what generated code calls while it runs.

`call(f, *args)` is the one dispatch point: a registered rule wins; else a
Python function is source-transformed (cached); else bound methods, classes,
callable objects, `functools.partial` and `__wrapped__` are unwrapped; else
`NoRuleError`. Every operation returns `(value, pullback)` with the rule
protocol: `pullback(y_bar) -> (f_bar, *arg_bars)`.

Pullbacks made here (and generated ones) accept `None`: a call may have changed
objects in place, and its pullback must undo that even when no cotangent
reached its result. Pullbacks of registered rules are only called with a
cotangent (`none_run`).
"""
import builtins
import collections
import contextlib
import functools
import itertools
import operator
import sys
import types
import weakref

import numpy as np

from ..errors import DifferentiationError, NoRuleError, describe_callable, user_location
from ..rules._common import carries_numbers, back_to_elements
from ..rules import registry
from ..rules.namespaces import any_foreign, foreign_code, is_foreign
from ..rules.registry import ATTRIBUTE_RULES, CONSTANT, CONSTANT_ATTRIBUTES, RULES
from ..tangents import AbstractZero, NotImplementedTangent, Tangent, accumulate
from . import heap as H
from . import load
from . import mutation as M
from .codes import CodeTable
from .heap import MISSING, Slots

_FunctionType = types.FunctionType
_TYPE_CALL = type.__call__
_MethodType = types.MethodType
_BuiltinMethod = types.BuiltinMethodType
_MethodWrapper = types.MethodWrapperType
_lookup = registry.lookup
_ATTRIBUTES_PENDING = registry.ATTRIBUTES_PENDING
_adjoint = load.adjoint_instance


class _CodeSet:
    """A set of code objects, held weakly (`codes.CodeTable`: a code compiled again from the same
    text is a member too, and stays one when the code it was found equal to is freed), that
    remembers its answers per code object, so that the backward pass of a loop, which asks once
    per iteration, pays one dictionary look-up."""

    __slots__ = ("_set", "_known", "_places")

    def __init__(self):
        self._set = CodeTable()
        self._known = {}  # id(code) -> (weak reference to the code, answer)
        # (file, line, name) of each member: the code dpnb compiles from a member's text when it
        # differentiates the function that defines it (a second derivative) is compiled at the
        # same place, with other bytecode, and is a member too
        self._places = set()

    def add(self, code):
        self._set[code] = True
        self._places.add((code.co_filename, code.co_firstlineno, code.co_name))
        self._known.clear()

    def __contains__(self, code):
        k = self._known.get(id(code))
        if k is not None and k[0]() is code:
            return k[1]
        r = code in self._set or (code.co_filename, code.co_firstlineno, code.co_name) in self._places
        known = self._known
        key = id(code)
        try:
            known[key] = (weakref.ref(code, lambda _, key=key, known=known: known.pop(key, None)), r)
        except TypeError:
            pass
        return r

    def __len__(self):
        return len(self._set)


#: code objects of pullbacks that may be called with None (they undo changes)
NONE_OK = _CodeSet()


def none_ok(f):
    """Mark a pullback function (by its code) as one that accepts None."""
    NONE_OK.add(f.__code__)
    return f


def none_run(pb, n):
    """What a pullback gives when no cotangent reached its result: it runs only if it must. `n`:
    how many cotangents it gives, in a tuple; None for a pullback that gives one (of `getattr`
    and `getitem`: the object's), which then gives None."""
    code = getattr(pb, "__code__", None)
    if code is not None and code in NONE_OK:
        return pb(None)
    if type(pb) is _Wrapped:
        return pb(None)
    return None if n is None else _nones(n)


_NONES = [tuple([None] * n) for n in range(12)]


def _nones(n):
    return _NONES[n] if n < 12 else (None,) * n


def _const_pb(n):
    nones = _nones(n + 1)

    def constant_pullback(y_bar):
        return nones

    NONE_OK.add(constant_pullback.__code__)
    return constant_pullback


_CONST_PB = [_const_pb(n) for n in range(8)]


def const_pb(n):
    return _CONST_PB[n] if n < 8 else _const_pb(n)


def constant(y, pb):
    """(y, pb) for an operation that moves no gradient. If `y` is a heap object it may be one the
    program already had (x.base, a weak reference's target, a cache lookup): whatever cotangent
    reaches it here goes back to the heap for the code that made it."""
    if not H.managed(y):
        return y, pb
    return y, _Wrapped(_KeepPullback(y, pb))


class _KeepPullback:
    __slots__ = ("y", "pb")

    def __init__(self, y, pb):
        self.y, self.pb = y, pb

    def __call__(self, y_bar):
        if y_bar is not None:
            H.heap_add(H.current(), self.y, y_bar)
        return self.pb(None)


class _Wrapped:
    """A pullback made by the runtime around another one (accepts None; passes it on)."""

    __slots__ = ("f",)

    def __init__(self, f):
        self.f = f

    def __call__(self, y_bar):
        return self.f(y_bar)


# --- calls ----------------------------------------------------------------------------------


def call(f, *args):
    """(y, pullback) for f(*args); pullback(y_bar) -> (f_bar, *arg_bars)."""
    if type(f) is _FunctionType:
        if f.__code__.co_flags & 0x2A0:
            return _generator_call(f, args, None)
        if f.__code__ is _CM_HELPER:
            return _generator_manager_call(f, args, None)
        adj = _adjoint(f, args)
        if adj is not None:
            return adj(*args)
    if args and (type(f) is _BuiltinMethod or type(f) is type) and f in _IMPLICIT and any(map(_OPERATORS._is_user, args)):
        # `float(a)`, `str(a)`, `len(a)` (given to `map`, ...): the method Python calls for it,
        # where it is the user's, run as the user's code
        got = _IMPLICIT[f](f, *args)
        if got is not None:
            return got
    if type(f) is np.ufunc:
        over = _array_ufunc_override(f, args, None)
        if over is not None:
            return over
    rule = _lookup(f)
    if rule is not None:
        if type(f) is _BuiltinMethod and f in _OPERATORS.ON_OBJECTS and any(map(_OPERATORS._is_user, args)):
            return _OPERATORS.ON_OBJECTS[f](*args)  # `operator.mul(a, b)` of objects: their class's methods
        if type(f) is not np.ufunc or len(args) <= f.nin:
            if rule is CONSTANT:
                if len(args) > 1 and _out_params(f) is not None:
                    r = _out_by_position(f, args)  # np.fix(z, z)
                    if r is not None:
                        return r
                return constant(f(*args), const_pb(len(args)))
            return _rule_call(rule, f, args)
        # `np.sin(a, out)`, `np.floor(z, z)`: the outputs given by position are `out=`'s (written
        # into, followed as a change in place: `_out_call`), for a constant as for a rule
        y, pb = call_kw(f, args[: f.nin], {"out": tuple(args[f.nin :])})
        return y, _Wrapped(lambda y_bar: (None, *(pb(y_bar)[1] or (None,) * f.nin), *(None,) * (len(args) - f.nin)))
    if type(f) is _MethodDescriptor and args and (f.__objclass__, f.__name__) in M.MUTATORS:
        # dict.update(d, other): the method that changes its object, called through its class
        M.mutator(args[0], f.__name__, builtin=True)  # refused for a subclass that overrides it
        y, pb = callmethod(args[0], f.__name__, *args[1:])
        return y, _Wrapped(lambda y_bar: (None,) + tuple(pb(y_bar)))
    return _call_other(f, args, None)


_MethodDescriptor = type(dict.update)


def _array_ufunc_override(f, args, kwargs):
    """`f(*args, **kwargs)` of a ufunc given an object whose class has an `__array_ufunc__` of its
    own, (y, pullback) as `call` (or, with `kwargs`, `call_kw`) gives them: NumPy hands the call to
    that method, run as the user's code; None where no argument overrides the ufunc."""
    out = (kwargs or {}).get("out", ())
    operands = [*args, *(out if isinstance(out, tuple) else (out,))]
    owners = []
    for a in operands:
        if not _is_user(a):
            continue
        t = type(a)
        meth = _class_attr(t, "__array_ufunc__")
        if meth is None and not hasattr(t, "__array_ufunc__"):
            continue
        if type(meth) is not _FunctionType:
            return None  # (`__array_ufunc__ = None` and C methods: NumPy's own call says what happens)
        if all(type(b) is not t for b in owners):
            later = [i for i, b in enumerate(owners) if issubclass(t, type(b))]
            owners.insert(later[0] if later else len(owners), a)  # (a subclass before its base)
    if not owners:
        return None
    kw = dict(kwargs or {})
    runs = []
    y = NotImplemented
    for obj in owners:
        meth = _class_attr(type(obj), "__array_ufunc__")
        y, pb = call_kw(meth, (obj, f, "__call__", *args), kw)
        runs.append((obj, pb))
        if y is not NotImplemented:
            break
    if y is NotImplemented:
        names = ", ".join(repr(type(a).__name__) for a in operands)
        raise TypeError(f"operand type(s) all returned NotImplemented from __array_ufunc__({f!r}, '__call__', ...): {names}")
    n = len(args)

    def array_ufunc_pullback(y_bar):
        bars = [None] * n
        kw_bars = {}
        for i, (obj, pb) in enumerate(reversed(runs)):
            _, m_args_bar, m_kw_bar = pb(y_bar if i == 0 else None)
            m_args_bar = m_args_bar or (None,) * (n + 3)
            for j in range(n):
                if m_args_bar[3 + j] is not None:
                    bars[j] = accumulate(bars[j], m_args_bar[3 + j])
            if m_args_bar[0] is not None:  # (the object itself, as `self`)
                j = next(j for j, a in enumerate(args) if a is obj) if any(a is obj for a in args) else None
                if j is not None:
                    bars[j] = accumulate(bars[j], m_args_bar[0])
            for k, v in (m_kw_bar or {}).items():
                if v is not None:
                    kw_bars[k] = accumulate(kw_bars.get(k), v)
        if kwargs is not None:
            return None, tuple(bars), kw_bars
        return (None, *bars)

    return y, _Wrapped(array_ufunc_pullback)


def _generator_call(f, args, kwargs):
    """A generator (or coroutine) function: calling it runs nothing yet. Given nothing that can carry
    a gradient it is a constant; otherwise its `yield` is refused, naming its line."""
    kw = kwargs or {}
    if not any(_may_carry(a) for a in args) and not any(_may_carry(v) for v in kw.values()):
        y = f(*args, **kw)
        return constant(y, _kw_const_pb if kwargs is not None else const_pb(len(args)))
    load.adjoint_instance(f, args, plain=False)  # raises UnsupportedSyntaxError for `yield`
    raise NoRuleError(f, "a generator function")


def resolve(f, *args):
    """What to call for f(*args) to get (y, pullback): the compiled adjoint itself when `f` is a
    Python function (so a recursion of depth n uses n frames, as the user's code does), else `call`."""
    if type(f) is _FunctionType and not f.__code__.co_flags & 0x2A0 and f.__code__ is not _CM_HELPER:
        adj = _adjoint(f, args)
        if adj is not None:
            return adj
    return functools.partial(call, f)


def _rule_call(rule, f, args):
    if len(args) > 2 and _out_params(f) is not None:
        r = _out_by_position(f, args)  # np.dot(a, b, o), z.clip(lo, hi, z)
        if r is not None:
            return r
    y, pb = rule(*args)
    t = type(y)
    if t is np.ndarray and type(pb) is _FunctionType and pb.__code__ not in NONE_OK:
        return y, _PassingUnknown(pb, args)
    if t is np.ndarray or t in H.VALUE_TYPES and t is not tuple:
        return y, pb
    # a rule's result may hold heap objects it made: their cotangents go in with the result's
    ctx = H.current()

    def rule_result_pullback(y_bar):
        if ctx.heap:
            y_bar = H.take_deep(ctx, y, y_bar)
        if y_bar is None:
            return none_run(pb, len(args) + 1)  # (one that called the user's code runs: `_Wrapped`)
        return pb(y_bar)

    return y, _Wrapped(rule_result_pullback)


class _PassingUnknown:
    """The pullback of a rule that made an array: a cotangent no rule could compute
    (`NotImplementedTangent`, a draw's shape parameter) that reaches the array, and that the rule
    cannot take, goes on to each of its arguments that holds numbers other than ints, to be
    refused only where it reaches a value a gradient is asked of (`rng.gamma(np.full(3, 2.5))`:
    the constant 2.5 drops it)."""

    __slots__ = ("pb", "args")

    def __init__(self, pb, args):
        self.pb, self.args = pb, args

    def __call__(self, y_bar):
        if type(y_bar) is not NotImplementedTangent:
            return self.pb(y_bar)
        try:
            return self.pb(y_bar)
        except DifferentiationError as e:
            if str(e) != y_bar.message():
                raise
        return (None, *[y_bar if carries_numbers(a) else None for a in self.args])


def call_kw(f, args, kwargs):
    """(y, pullback) for f(*args, **kwargs); pullback -> (f_bar, args_bar, kwargs_bar)."""
    if type(f) is _FunctionType:
        if f.__code__.co_flags & 0x2A0:
            return _generator_call(f, tuple(args), kwargs)
        if f.__code__ is _CM_HELPER:
            return _generator_manager_call(f, tuple(args), kwargs)
        if not kwargs:
            # f(*args) filling f's parameters: the plain call (what f(a, b) would run)
            args = tuple(args)
            adj = _adjoint(f, args)
            if adj is not None:
                return _as_keyword_protocol(adj(*args), len(args))
        if _lookup(f) is None:
            return _transform_kw(f, tuple(args), kwargs)
    if f is print and any(map(_OPERATORS._is_user, args)):
        # `print(a, end="")`: the `__str__` of an object of the user's run as the user's code
        y, pb = _OPERATORS.print_(f, *args, **kwargs)
        return y, _Wrapped(lambda y_bar: (None, pb(None)[1:], None))
    if type(f) is np.ufunc:
        over = _array_ufunc_override(f, tuple(args), kwargs)
        if over is not None:
            return over
    rule = _lookup(f)
    if rule is None:
        return _call_other(f, tuple(args), kwargs)
    n = len(args)
    if type(f) is np.ufunc and n > f.nin:
        return _outputs_by_position(f, tuple(args), kwargs)
    if n > 1 and _out_params(f) is not None:
        names = _out_params(f)
        k = len(names) - 1
        if n > k and args[k] is not None and "out" not in kwargs:
            # np.clip(a, lo, hi, o, casting=...): the arguments from `out` on, by keyword
            args = tuple(args)
            _past_out(f, n, k)
            y, pb = _out_call(f, args[:k], dict(kwargs, out=args[k]))
            return y, _more_positional(pb, n - k)
    if "out" in kwargs and kwargs["out"] is not None:
        # the result written into an array given (a ufunc's, a reduction's, np.dot's, a constant's
        # as np.floor's): computed out of place, then written as a change in place (`_out_call`)
        return _out_call(f, tuple(args), kwargs)
    if rule is CONSTANT:
        y = f(*args, **kwargs)
        return constant(y, _kw_const_pb)
    dtype = kwargs.get("dtype")
    if dtype is not None and _integer_dtype(dtype):
        # `np.sum(x, dtype=int)`, `np.multiply(x, 2.0, dtype=int, casting="unsafe")`: each value is
        # made an integer first, so the result is a step function of the values: no gradient
        y = f(*args, **kwargs)
        return constant(y, _kw_const_pb)
    # arguments passed by keyword that are the callee's leading positional parameters are passed to
    # the rule by position, so that their cotangents come back (np.linalg.norm(x=X, axis=1))
    args, kwargs, moved = _bind_leading(f, tuple(args), kwargs)
    m = len(args)
    y, pb = rule(*args, **kwargs)
    ty = type(y)
    ctx = H.current() if not (ty is np.ndarray or (ty in H.VALUE_TYPES and ty is not tuple)) else None

    def rule_kw_pullback(y_bar):
        if ctx is not None and ctx.heap:
            y_bar = H.take_deep(ctx, y, y_bar)
        if y_bar is None:
            if not _accepts_none(pb):  # (a `_Wrapped` one runs: it may undo a change)
                return None, None, None
            bars = pb(None)  # a rule that called the user's code (a key): what it changed
        else:
            bars = pb(y_bar)
        kw_bar = None
        if len(bars) == m + 2 and isinstance(bars[-1], dict):
            kw_bar = dict(bars[-1])
            bars = bars[:-1]
        if moved:
            kw_bar = kw_bar or {}
            for i, name in moved:
                kw_bar[name] = bars[i + 1]
        return bars[0], tuple(bars[1 : n + 1]), kw_bar

    return y, _Wrapped(rule_kw_pullback)


_SIGNATURES = {}


def _positional_names(f):
    """The names of `f`'s parameters that may be passed by position, in order (None if unknown)."""
    try:
        key = f if hash(f) is not None else None
    except TypeError:
        return None
    names = _SIGNATURES.get(key, MISSING)
    if names is MISSING:
        import inspect

        try:
            params = inspect.signature(f).parameters.values()
            names = []
            for p in params:
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                    names.append(p.name)
                else:
                    break
        except (TypeError, ValueError):
            names = None
        _SIGNATURES[key] = names
    return names


def _bind_leading(f, args, kwargs):
    if not kwargs:
        return args, kwargs, ()
    names = _positional_names(f)
    if not names:
        return args, kwargs, ()
    moved = []
    args = list(args)
    kwargs = dict(kwargs)
    i = len(args)
    while i < len(names) and names[i] in kwargs:
        moved.append((i, names[i]))
        args.append(kwargs.pop(names[i]))
        i += 1
    return tuple(args), kwargs, tuple(moved)


@none_ok
def _kw_const_pb(y_bar):
    return None, None, None


def _out_call(f, args, kwargs):
    """`f(*args, out=o, **kw)` for `f` with a rule (or a constant): the result is computed out of
    place by `f`'s rule, then written into `o` as the assignment `o[...] = y`, which the backward
    pass follows as any change in place: the pullback takes the cotangent `o` has at that point
    (the result's, and whatever later reads of `o` gave it), undoes the write (so the rule's own
    pullback reads its inputs as they were, even when `o` is one of them or shares its memory) and
    hands that cotangent to the rule; what `o` held before gets none.

    A ufunc's `where=`: only the entries where it is true are computed (the ufunc runs on those
    entries alone, so no value outside the mask, a division by 0 there say, reaches the
    gradient) and written (`o[mask] = y`); the others keep what `o` held, and their cotangent.
    `out=(o1, o2)` of a ufunc of several results writes each one given."""
    out = kwargs["out"]
    kw = {k: v for k, v in kwargs.items() if k != "out"}
    if out is Ellipsis:
        # NumPy's `out=...`: the result as an array (a 0-d one where it would be a scalar), in no
        # array given; NumPy's own `percentile` and `quantile` ask for it
        y, pb = call_kw(f, args, kw)
        if type(y) is tuple:
            return tuple(np.asarray(v) if isinstance(v, np.generic) else v for v in y), pb
        return (np.asarray(y) if isinstance(y, np.generic) else y), pb
    ufunc = type(f) is np.ufunc
    outs = out if type(out) is tuple else (out,)
    nout = f.nout if ufunc else 1
    if len(outs) != nout:
        f(*args, **kwargs)  # NumPy's own error (a wrong number of outputs)
        raise DifferentiationError(f"{describe_callable(f)} was given {len(outs)} outputs, it has {nout}")
    if all(o is None for o in outs):
        return call_kw(f, args, kw)  # (`out=None`: the call without it)
    for o in outs:
        if o is not None and type(o) is not np.ndarray:
            raise NoRuleError(
                f, f"an `out=` of type {type(o).__name__}: dpnb follows a write into a NumPy array only; "
                "compute the result out of place (`o[...] = f(...)`) instead")
    where = kw.pop("where", True) if ufunc else True
    masked = not (type(where) is bool and where)
    if masked:
        shape = np.broadcast_shapes(*(np.shape(a) for a in args), *(o.shape for o in outs if o is not None))
        mask = np.broadcast_to(np.asarray(where, dtype=bool), shape)
        y, pb = _masked_call(f, args, kw, shape, mask)
    else:
        y, pb = call_kw(f, args, kw)
    ys = y if nout > 1 else (y,)
    _check_cast(f, args, kwargs, ys, outs, kw.get("casting", "same_kind"))
    ctx = H.current()
    results = []
    set_pbs = []
    for o, yk in zip(outs, ys):
        if o is None:
            if masked:  # NumPy leaves the entries outside the mask as it found them: uninitialised
                r = np.zeros(shape, dtype=np.result_type(yk))
                set_pbs.append(M.setitem(ctx, r, mask, yk))
            else:
                r = yk
                set_pbs.append(None)
            results.append(r)
            continue
        set_pbs.append(M.setitem(ctx, o, mask if masked else Ellipsis, yk))
        results.append(o)
    result = tuple(results) if nout > 1 else results[0]

    def out_call_pullback(y_bar):
        bars = y_bar if nout > 1 else (y_bar,)
        cs = []
        for k in range(nout - 1, -1, -1):  # the writes undone in the reverse order
            b = None if bars is None else bars[k]
            set_pb = set_pbs[k]
            if set_pb is None:
                cs.append(b)
                continue
            if b is not None:
                H.array_add(ctx, results[k], b)
            cs.append(set_pb())
        cs.reverse()
        c = tuple(cs) if nout > 1 else cs[0]
        if nout > 1 and all(ck is None for ck in cs):
            c = None
        f_bar, args_bar, kw_bar = pb(c) if c is not None else none_run(pb, 3)
        return f_bar, args_bar, kw_bar

    return result, _Wrapped(out_call_pullback)


_out_params = registry.out_params


def _out_by_position(f, args):
    """`f(..., o, ...)` given its `out` by position (np.dot(a, b, o), ndarray.clip(z, lo, hi, z),
    np.cumsum(z, 0, None, z)): `_out_call` with the arguments from `out` on given by keyword; the
    call protocol's pullback. None when `out` is not given (short of it, or None)."""
    names = _out_params(f)
    k = len(names) - 1
    if len(args) <= k or args[k] is None:
        return None
    _past_out(f, len(args), k)
    y, pb = _out_call(f, tuple(args[:k]), {"out": args[k]})
    n = len(args)

    def out_by_position_pullback(y_bar):
        f_bar, args_bar, kw_bar = pb(y_bar)
        bars = tuple(args_bar) if args_bar is not None else (None,) * k
        return (f_bar, *bars, *(None,) * (n - k))

    return y, _Wrapped(out_by_position_pullback)


def _past_out(f, n, k):
    if n > k + 1:
        raise NoRuleError(
            f, "arguments after `out` given by position (np.sum(a, 0, None, o, True)); give them, and `out`, by keyword")


def _outputs_by_position(f, args, kwargs):
    """ufunc `f(a, b, o, where=m)`: the arguments past its inputs are its outputs (`out=`)."""
    if "out" in kwargs:
        f(*args, **kwargs)  # NumPy's own error (`out` given twice)
    nin = f.nin
    y, pb = _out_call(f, args[:nin], dict(kwargs, out=tuple(args[nin:])))
    return y, _more_positional(pb, len(args) - nin)


def _more_positional(pb, k):
    """A keyword-protocol pullback (f_bar, args_bar, kwargs_bar) of a call given `k` positional
    arguments fewer than the user's (the outputs it took by keyword): None for each of those."""
    extra = (None,) * k

    def positional_outputs_pullback(y_bar):
        f_bar, args_bar, kw_bar = pb(y_bar)
        if args_bar is None:
            return f_bar, None, kw_bar
        return f_bar, tuple(args_bar) + extra, kw_bar

    return _Wrapped(positional_outputs_pullback)


def _check_cast(f, args, kwargs, ys, outs, casting):
    """A result NumPy would refuse to cast into its `out` (a float into an int array, under the
    default `same_kind`) raises NumPy's own error, as the call would."""
    for o, yk in zip(outs, ys):
        if o is None:
            continue
        dt = np.result_type(yk)
        if dt != o.dtype and not np.can_cast(dt, o.dtype, casting=casting):
            scratch = tuple(None if p is None else p.copy() for p in outs)
            f(*args, **dict(kwargs, out=scratch if type(kwargs["out"]) is tuple else scratch[0]))
            return  # NumPy allows it (an unsafe cast of a reduction): written as `o[...] = y` casts


def _masked_call(f, args, kw, shape, mask):
    """ufunc `f` on the entries of its broadcast arguments where `mask` is true (each array picked
    by the mask, numbers as they are): (y over those entries, pullback in `call_kw`'s form)."""
    picked = tuple(a if np.ndim(a) == 0 else np.broadcast_to(a, shape)[mask] for a in args)
    y, pb = call_kw(f, picked, kw)

    def masked_call_pullback(y_bar):
        f_bar, bars, kw_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
        if bars is None:
            return f_bar, None, kw_bar
        out = []
        for a, b in zip(args, bars):
            if b is None or np.ndim(a) == 0:
                out.append(b)
                continue
            full = np.zeros(shape, dtype=np.result_type(b))
            full[mask] = b
            out.append(_unbroadcast_to(full, a))
        return f_bar, tuple(out), kw_bar

    return y, _Wrapped(masked_call_pullback)


def _unbroadcast_to(g, x):
    from ..rules._common import unbroadcast_to

    return unbroadcast_to(g, x)


def _as_keyword_protocol(result, n):
    """(y, pullback) of a plain call, its pullback in call_kw's form: (f_bar, args_bar, kwargs_bar)."""
    y, pb = result

    def star_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None else none_run(pb, n + 1)
        return bars[0], tuple(bars[1:]), None

    return y, _Wrapped(star_pullback)


def _transform_kw(f, args, kwargs):
    """Call a transformed function with keywords; map its parameter cotangents back to the call."""
    adj = _adjoint(f, args, False)
    if adj is None:
        if _lookup(f) is None and foreign_code(f):
            return _foreign_function(f, args, kwargs)
        return _rule_or_constant_kw(f, args, kwargs)
    y, pb = adj(*args, **kwargs)
    code = f.__code__
    nparams = code.co_argcount
    nkwonly = code.co_kwonlyargcount
    names = code.co_varnames[: nparams + nkwonly]
    has_varargs = bool(code.co_flags & 0x04)
    has_varkw = bool(code.co_flags & 0x08)
    npos = len(args)
    defaults = f.__defaults__ or ()
    kwdefaults = f.__kwdefaults__ or {}
    ctx = H.current()

    nbars = 1 + nparams + has_varargs + nkwonly + has_varkw

    def kw_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None else none_run(pb, nbars)
        pbars = bars[1:]
        pos_bars = list(pbars[:nparams])
        i = nparams
        var_bar = None
        if has_varargs:
            var_bar = pbars[i]
            i += 1
        kwonly_bars = pbars[i : i + nkwonly]
        i += nkwonly
        varkw_bar = pbars[i] if has_varkw else None
        args_bar = pos_bars[: min(npos, nparams)]
        if npos > nparams:
            extra = tuple(var_bar) if var_bar is not None else (None,) * (npos - nparams)
            args_bar += list(extra)
        kwargs_bar = {}
        given = set(names[: min(npos, nparams)])
        by_name = dict(zip(names[:nparams], pos_bars))
        by_name.update(zip(names[nparams:], kwonly_bars))
        for k in kwargs:
            if k in by_name and k not in given:
                kwargs_bar[k] = by_name[k]
            elif varkw_bar is not None:
                kwargs_bar[k] = varkw_bar.get(k)
        # parameters filled by defaults: their cotangents belong to the function object
        _defaults_bars(ctx, f, pos_bars, npos, set(kwargs), kwonly_bars, names, nparams, defaults, kwdefaults)
        return None, tuple(args_bar), kwargs_bar

    return y, _Wrapped(kw_pullback)


def _defaults_bars(ctx, f, pos_bars, npos, passed, kwonly_bars, names, nparams, defaults, kwdefaults):
    if ctx.heap is None:
        return
    fields = {}
    nd = len(defaults)
    if nd:
        d_bars = [None] * nd
        hit = False
        for j in range(nparams - nd, nparams):
            if j >= npos and names[j] not in passed and pos_bars[j] is not None:
                d_bars[j - (nparams - nd)] = pos_bars[j]
                hit = True
        if hit:
            fields["__defaults__"] = d_bars
    if kwdefaults:
        kd = {}
        for name, b in zip(names[nparams:], kwonly_bars):
            if name not in passed and name in kwdefaults and b is not None:
                kd[name] = b
        if kd:
            fields["__kwdefaults__"] = kd
    if fields:
        H.heap_add(ctx, load.defaults_owner(f), Tangent(types.FunctionType, fields))


def _rule_or_constant_kw(f, args, kwargs):
    rule = _lookup(f)
    if rule is CONSTANT:
        return constant(f(*args, **kwargs), _kw_const_pb)
    y, pb = rule(*args, **kwargs)
    n = len(args)

    def rule_kw_pullback(y_bar):
        if y_bar is None:
            return None, None, None
        bars = pb(y_bar)
        return bars[0], tuple(bars[1 : n + 1]), None

    return y, _Wrapped(rule_kw_pullback)


def _integer_dtype(dtype):
    try:
        return np.dtype(dtype).kind in "iub"
    except TypeError:
        return False


def call_defaults(f, *args):
    """`call` for a Python function given fewer positional arguments than it has (defaults fill the rest)."""
    return _transform_kw(f, args, {})


def _call_other(f, args, kwargs):
    kw = kwargs or {}
    tf = type(f)
    kwform = kwargs is not None
    if tf is _MethodType:
        return _shift(f.__self__, f.__func__, args, kwargs)
    if tf is _BuiltinMethod or tf is _MethodWrapper:
        # `x.append`, `x.sum`; `x.__abs__`, `x.__mul__` (a slot of a C type, bound): the object
        # is an input too, which may carry a gradient
        owner = f.__self__
        if owner is not None and not isinstance(owner, types.ModuleType):
            return _builtin_method(owner, f.__name__, f, args, kwargs)
    if isinstance(f, functools.partial):
        return _partial_call(f, args, kw, kwform)
    if f is _TYPE_CALL and args and isinstance(args[0], type):
        # `type.__call__(cls, ...)` in a metaclass's own `__call__`: the instance made as a class
        # call makes it (the class gets no cotangent)
        from .objects import construct

        y, pb = construct(args[0], tuple(args[1:]), kw, kwform)

        def type_call_pullback(y_bar):
            bars = pb(y_bar)
            if kwform:
                return None, (None,) + tuple(bars[1] or (None,) * (len(args) - 1)), bars[2]
            return (None, None) + tuple(bars[1:])

        return y, _Wrapped(type_call_pullback)
    if isinstance(f, type):
        from .objects import construct

        meta_call = _class_attr(tf, "__call__") if tf is not type else None
        if type(meta_call) is _FunctionType:
            # a metaclass's own `__call__` (a hook around making an instance): the user's code;
            # the `type.__call__` it reaches makes the instance as a class call does
            return _shift(f, meta_call, args, kwargs)
        return construct(f, args, kw, kwform)
    if isinstance(f, (staticmethod, classmethod)):
        return _call_other(f.__func__, args, kwargs)
    callm = getattr(tf, "__call__", None)
    if isinstance(callm, _FunctionType):
        if foreign_code(callm) and _lookup(callm) is None:  # dask.array.exp and its kin
            return _foreign_function(f, args, kwargs)
        return _shift(f, callm, args, kwargs)
    crule = _lookup(callm) if callm is not None else None
    if crule is not None and crule is not CONSTANT and kwargs is None:
        y, pb = _rule_call(crule, callm, (f,) + tuple(args))
        return y, _drop_first(pb, len(args) + 1)
    if type(f) is _FunctionType:
        if foreign_code(f):
            return _foreign_function(f, args, kwargs)
        if not kwform:
            return _positional(_transform_kw(f, tuple(args), kw), len(args))
        return _transform_kw(f, tuple(args), kw)
    # (a uarray multimethod's `__wrapped__`, SciPy's `scipy.fft.dct` for one, only names the
    # arguments it dispatches on: the backend computes it, out of dpnb's sight)
    wrapped = getattr(f, "__wrapped__", None) if tf.__module__ != "uarray" else None
    if wrapped is not None and callable(wrapped):
        if kwargs is None:
            return call(wrapped, *args)
        return call_kw(wrapped, tuple(args), kw)
    if callable(f):
        # a C callable with no rule: a constant when nothing it is given (nor the object it is
        # bound to) can carry a gradient
        owner = getattr(f, "__self__", None)
        if (owner is None or isinstance(owner, types.ModuleType) or not _may_carry(owner)) and not any(
            _may_carry(a) for a in args
        ) and not any(_may_carry(v) for v in kw.values()):
            y = f(*args, **kw)
            return constant(y, _kw_const_pb if kwform else const_pb(len(args)))
        raise NoRuleError(f, _call_site())
    raise TypeError(f"{tf.__name__!r} object is not callable")


def _foreign_function(f, args, kwargs):
    """A callable of Dask's or CuPy's own code with no rule (`dask.array.exp`, `dask.array.sum`):
    dpnb never transforms their code. Given a Dask or CuPy array, the NumPy function of its name
    runs instead, with its rule (NumPy hands the work to the array's library, so the result is
    the same); if NumPy's function of its name is a constant, or it is given nothing that can
    carry a gradient, it is a constant; else it is refused, naming the line that called it."""
    kw = kwargs or {}
    name = getattr(f, "__name__", None)
    np_f = getattr(np, name, None) if isinstance(name, str) else None
    rule = _lookup(np_f) if np_f is not None else None
    if rule is not None and rule is not CONSTANT and any_foreign(args, kw):
        if kwargs is None:
            return call(np_f, *args)
        return call_kw(np_f, tuple(args), kwargs)
    if rule is CONSTANT or (not any(_may_carry(a) for a in args) and not any(_may_carry(v) for v in kw.values())):
        y = f(*args, **kw)
        return constant(y, _kw_const_pb if kwargs is not None else const_pb(len(args)))
    from ..errors import user_location

    lib = (getattr(f, "__module__", None) or "?").partition(".")[0]
    raise NoRuleError(
        f, f"called at {user_location()}: dpnb differentiates NumPy's functions on {lib} arrays, not {lib}'s own code"
    )


def _may_carry(v):
    t = type(v)
    if t is bool or v is None or t is str or t is bytes:
        return False
    if t is float or t is complex or t is np.ndarray:
        return t is not np.ndarray or v.dtype.kind in "fc"
    if t is int:
        return False
    if isinstance(v, (list, tuple)):
        return any(_may_carry(x) for x in v)
    if isinstance(v, dict):
        return any(_may_carry(x) for x in v.values())
    if isinstance(v, (np.floating, np.complexfloating)):
        return True
    if isinstance(v, (types.ModuleType, type, range, np.integer, np.bool_, types.BuiltinFunctionType)):
        return False
    return True


def _positional(result, n):
    """A keyword-protocol (y, pullback) as a positional one: pullback -> (f_bar, *arg_bars)."""
    y, pb = result

    def positional_pullback(y_bar):
        f_bar, args_bar, _ = pb(y_bar)
        if args_bar is None:
            return _nones(n + 1)
        return (f_bar,) + tuple(args_bar)

    return y, _Wrapped(positional_pullback)


def _shift(obj, func, args, kwargs):
    """obj.func(*args) through func(obj, *args): the pullback gives obj's cotangent as f_bar."""
    if kwargs is None:
        y, pb = call(func, obj, *args)

        def bound_pullback(y_bar):
            bars = pb(y_bar) if y_bar is not None else none_run(pb, len(args) + 2)
            return bars[1:]

        return y, _Wrapped(bound_pullback)
    y, pb = call_kw(func, (obj,) + tuple(args), kwargs)

    def bound_kw_pullback(y_bar):
        f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
        if args_bar is None:
            return None, None, kwargs_bar
        args_bar = tuple(args_bar)
        return args_bar[0], args_bar[1:], kwargs_bar

    return y, _Wrapped(bound_kw_pullback)


def _partial_call(p, args, kw, kwform):
    full_args = tuple(p.args) + tuple(args)
    full_kw = {**p.keywords, **kw}
    y, pb = call_kw(p.func, full_args, full_kw)
    n0 = len(p.args)
    ctx = H.current()

    def partial_pullback(y_bar):
        f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
        args_bar = tuple(args_bar) if args_bar is not None else (None,) * len(full_args)
        if ctx.heap is not None and (any(b is not None for b in args_bar[:n0]) or kwargs_bar):
            fields = {}
            if any(b is not None for b in args_bar[:n0]):
                fields["args"] = args_bar[:n0]
            pk = {k: kwargs_bar.get(k) for k in p.keywords if kwargs_bar and kwargs_bar.get(k) is not None and k not in kw}
            if pk:
                fields["keywords"] = pk
            if fields:
                H.heap_add(ctx, p, Tangent(functools.partial, fields))
        rest = args_bar[n0:]
        if kwform:
            return None, rest, {k: v for k, v in (kwargs_bar or {}).items() if k in kw}
        return (None,) + rest

    return y, _Wrapped(partial_pullback)


def _builtin_method(owner, name, bound, args, kwargs):
    """A method of a built-in type (list.append, ndarray.sum, str.upper, ...) called through its value."""
    kw = kwargs or {}
    if name == "__call__" and isinstance(owner, type) and bound.__self__ is owner and type(bound) is _MethodWrapper:
        # `type.__call__(cls, ...)`, reached by `super().__call__(...)` in a metaclass's own
        # `__call__`: the instance made as a class call makes it
        from .objects import construct

        return construct(owner, args, kw, kwargs is not None)
    mut = M.mutator(owner, name, builtin=True)
    if mut is not None:
        ctx = H.current()
        y, pb = mut(ctx, owner, *args, **kw)
        return y, _method_as_call(pb, len(args), kwargs is not None)
    desc = _class_attr(type(owner), name)
    rule = _base_rule(type(owner), name, desc) if desc is not None else None
    if rule is CONSTANT and (kwargs is None or kwargs.get("out") is None):
        y = bound(*args, **kw)
        return constant(y, _kw_const_pb if kwargs is not None else const_pb(len(args)))
    if rule is not None:  # (a constant given `out=`: `call_kw` follows the write)
        if kwargs is None:
            y, pb = _rule_call(rule, desc, (owner,) + tuple(args))
            n = len(args)

            def builtin_method_pullback(y_bar):
                # the rule's (desc_bar, owner_bar, *arg_bars) as the bound method's call protocol:
                # (method_bar, *arg_bars), a bound method's cotangent being its object's
                bars = pb(y_bar) if y_bar is not None or _accepts_none(pb) else None
                return _nones(n + 1) if bars is None else tuple(bars[1:])

            return y, _Wrapped(builtin_method_pullback)
        y, pb = call_kw(desc, (owner,) + tuple(args), kw)

        def builtin_method_kw_pullback(y_bar):
            f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else (None, None, None)
            if args_bar is None:
                return None, None, kwargs_bar
            return args_bar[0], tuple(args_bar[1:]), kwargs_bar

        return y, _Wrapped(builtin_method_kw_pullback)
    if not _may_carry(owner) and not any(_may_carry(a) for a in args) and not any(_may_carry(v) for v in kw.values()):
        y = bound(*args, **kw)
        return constant(y, _kw_const_pb if kwargs is not None else const_pb(len(args)))
    raise NoRuleError(_Attr(type(owner), name))


def _method_as_call(pb, n, kwform):
    """A method pullback (self_bar, *arg_bars) as the bound method's call protocol (same shape)."""
    if not kwform:
        def method_pullback(y_bar):
            bars = pb(y_bar) if y_bar is not None or _accepts_none(pb) else None
            if bars is None:
                return _nones(n + 1)
            return bars

        return _Wrapped(method_pullback)

    def method_kw_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None or _accepts_none(pb) else None
        if bars is None:
            return None, None, None
        kw_bar = None
        if len(bars) == n + 2 and isinstance(bars[-1], dict):
            kw_bar = bars[-1]
            bars = bars[:-1]
        return bars[0], tuple(bars[1 : n + 1]), kw_bar

    return _Wrapped(method_kw_pullback)


def _accepts_none(pb):
    code = getattr(pb, "__code__", None)
    return type(pb) is _Wrapped or (code is not None and code in NONE_OK) or getattr(pb, "__name__", "").endswith("_pullback") and code in NONE_OK


# --- method calls (obj.m(...) in the source) --------------------------------------------

_NO_PULLBACK = (None, None)


def tape_reader(tape):
    """A function that gives the items of a pullback's tape from the last (the tape stays as it is:
    a pullback may run more than once)."""
    if H.depth() == 0:
        return reversed(tape).__next__
    # generated code being differentiated: list operations dpnb follows
    return tape.copy().pop


def append(obj, value):
    """obj.append(value) in a forward pass: a list's append needs no pullback of its own (the
    backward pass calls `mutation.append_back`); anything else is a method call like any other."""
    if type(obj) is list:
        obj.append(value)
        _APPENDED[0] += 1  # (a change the log does not hold: `changes_made` counts it)
        return _NO_PULLBACK
    return callmethod(obj, "append", value)


#: how many lists' appends `append` made, in every thread (`changes_made`); a list, not an int
#: the function rebinds, so that dpnb can read `append` itself (gradients of gradients)
_APPENDED = [0]



#: the methods of a NumPy array that change it and have a form in `mutation.MUTATORS`
_ARRAY_MUTATORS = ("fill", "sort", "partition")


def callmethod(obj, name, *args):
    """(y, pullback) for obj.name(*args); pullback(y_bar) -> (obj_bar, *arg_bars)."""
    t = type(obj)
    if t is list and name == "append" and len(args) == 1:
        return _list_append(H.current(), obj, args[0])
    if is_foreign(obj):
        return _foreign_method(obj, name, args, None)
    if t is not np.ndarray or name in _ARRAY_MUTATORS:
        mut = M.mutator(obj, name)
        if mut is not None:
            ctx = H.current()
            y, pb = mut(ctx, obj, *args)
            return y, pb
    elif name in M.REFUSED_ARRAY_METHODS:
        M.mutator(obj, name)  # raises
    desc = _class_attr(t, name)
    if type(desc) is _FunctionType and not _in_instance(obj, name):
        y, pb = call(desc, obj, *args)
        return y, _drop_first(pb, len(args) + 1)
    if desc is not None and not isinstance(desc, (_FunctionType, property, staticmethod, classmethod)) and not _in_instance(obj, name):
        rule = _base_rule(t, name, desc)
        if rule is CONSTANT:
            return constant(getattr(obj, name)(*args), _drop_first(const_pb(len(args) + 1), len(args) + 1))
        if rule is not None:
            y, pb = _rule_call(rule, desc, (obj,) + args)
            return y, _drop_first(pb, len(args) + 1)
    m, mpb = getattr_(obj, name)
    y, pb = call(m, *args)
    n = len(args)

    def method_call_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None else none_run(pb, n + 1)
        m_bar = bars[0]
        obj_bar = mpb(m_bar) if m_bar is not None else None
        return (obj_bar,) + tuple(bars[1:])

    return y, _Wrapped(method_call_pullback)


#: methods of Dask and CuPy arrays that are NumPy functions of another name
_FOREIGN_METHODS = {"flatten": "ravel"}


def _foreign_method(obj, name, args, kwargs):
    """x.name(...) of a Dask or CuPy array: the NumPy function of that name (np.sum for x.sum),
    whose rule computes in the array's library; its class's own source is never transformed."""
    f = getattr(np, _FOREIGN_METHODS.get(name, name), None)
    if f is None or _lookup(f) is None:
        raise NoRuleError(_Attr(type(obj), name), "a method of a Dask or CuPy array with no NumPy function rule of that name")
    n = len(args)
    packed = name in ("reshape", "transpose") and (n > 1 or (n == 1 and args[0] is None))
    call_args = (obj, args) if packed else (obj,) + args
    if kwargs is None:
        y, pb = call(f, *call_args)

        def foreign_method_pullback(y_bar):
            bars = pb(y_bar) if y_bar is not None else none_run(pb, len(call_args) + 1)
            return (bars[1],) + ((None,) * n if packed else tuple(bars[2:]))

        return y, _Wrapped(foreign_method_pullback)
    y, pb = call_kw(f, call_args, kwargs)

    def foreign_method_kw_pullback(y_bar):
        f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
        if args_bar is None:
            return None, None, kwargs_bar
        return args_bar[0], (None,) * n if packed else tuple(args_bar[1:]), kwargs_bar

    return y, _Wrapped(foreign_method_kw_pullback)


_list_append = M.list_append


def _base_rule(t, name, desc):
    """The rule of a C method, or of the same method of a built-in base class (OrderedDict.values
    behaves as dict.values)."""
    rule = _lookup(desc)
    if rule is None and not isinstance(desc, _FunctionType):
        for klass in t.__mro__[1:]:
            d = klass.__dict__.get(name)
            if d is not None:
                rule = _lookup(d)
                if rule is not None:
                    return rule
    return rule


def _in_instance(obj, name):
    d = getattr(obj, "__dict__", None)
    return d is not None and type(d) is dict and name in d


def _drop_first(pb, n):
    """(f_bar, self_bar, *arg_bars) -> (self_bar, *arg_bars)."""

    def method_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None else none_run(pb, n + 1)
        return bars[1:]

    return _Wrapped(method_pullback)


def callmethod_kw(obj, name, args, kwargs):
    """obj.name(*args, **kwargs); pullback -> (obj_bar, args_bar, kwargs_bar)."""
    args = tuple(args)
    t = type(obj)
    if is_foreign(obj):
        return _foreign_method(obj, name, args, kwargs)
    mut = M.mutator(obj, name) if (t is not np.ndarray or name in _ARRAY_MUTATORS) else None
    if mut is not None:
        ctx = H.current()
        y, pb = mut(ctx, obj, *args, **kwargs)
        n = len(args)

        def mutating_kw_pullback(y_bar):
            bars = pb(y_bar)
            kw_bar = None
            if len(bars) == n + 2 and isinstance(bars[-1], dict):
                kw_bar = bars[-1]
            return bars[0], tuple(bars[1 : n + 1]), kw_bar

        return y, _Wrapped(mutating_kw_pullback)
    desc = _class_attr(t, name)
    if type(desc) is _FunctionType and not _in_instance(obj, name):
        y, pb = call_kw(desc, (obj,) + args, kwargs)

        def method_kw_pullback(y_bar):
            f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
            if args_bar is None:
                return None, None, kwargs_bar
            return args_bar[0], tuple(args_bar[1:]), kwargs_bar

        return y, _Wrapped(method_kw_pullback)
    m, mpb = getattr_(obj, name)
    y, pb = call_kw(m, args, kwargs)

    def method_call_kw_pullback(y_bar):
        m_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
        obj_bar = mpb(m_bar) if m_bar is not None else None
        return obj_bar, args_bar, kwargs_bar

    return y, _Wrapped(method_call_kw_pullback)


def callmethod_super(cls, obj, name, *args):
    """super(cls, obj).name(*args), with the method-call pullback (obj_bar, *arg_bars)."""
    m = getattr(super(cls, obj), name)
    func = m.__func__ if type(m) is _MethodType else None
    if type(func) is _FunctionType:
        y, pb = call(func, obj, *args)
        return y, _drop_first(pb, len(args) + 1)
    if name == "__init__" and not args:  # object.__init__: nothing to do
        m()
        return None, _drop_first(const_pb(1), 1)
    if name == "__init__" and len(args) == 1 and not len(obj) and (
        (isinstance(obj, list) and getattr(m, "__objclass__", None) is list)
        or (isinstance(obj, dict) and getattr(m, "__objclass__", None) is dict)
    ):
        # a built-in container's __init__ given its items, on the empty object a subclass's own
        # __init__ is making: the change it makes is `extend` (`update`), which is followed
        y, pb = callmethod(obj, "extend" if isinstance(obj, list) else "update", args[0])
        return None, _Wrapped(lambda y_bar: pb(None))
    y, pb = call(m, *args)
    n = len(args)

    def super_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None else none_run(pb, n + 1)
        return (None,) + tuple(bars[1:])

    return y, _Wrapped(super_pullback)


def callmethod_super_kw(cls, obj, name, args, kwargs):
    m = getattr(super(cls, obj), name)
    func = m.__func__ if type(m) is _MethodType else None
    if type(func) is _FunctionType:
        y, pb = call_kw(func, (obj,) + tuple(args), kwargs)

        def super_kw_pullback(y_bar):
            f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
            if args_bar is None:
                return None, None, kwargs_bar
            return args_bar[0], tuple(args_bar[1:]), kwargs_bar

        return y, _Wrapped(super_kw_pullback)
    y, pb = call_kw(m, tuple(args), kwargs)

    def super_other_kw_pullback(y_bar):
        f_bar, args_bar, kwargs_bar = pb(y_bar) if y_bar is not None else none_run(pb, 3)
        return None, args_bar, kwargs_bar

    return y, _Wrapped(super_other_kw_pullback)


# --- attributes ------------------------------------------------------------------------

_NO_GRAD_OWNERS = (types.ModuleType, type, str, bytes, bool, type(None), int, range, types.CodeType, slice)
#: attributes of arrays that are references or metadata, not values (reading them moves no gradient)
for _attr in ("base", "flags", "__array_interface__", "ctypes", "data", "strides", "itemsize", "nbytes"):
    CONSTANT_ATTRIBUTES.add((np.ndarray, _attr))


@none_ok
def _none_pullback(y_bar):
    return None


def getattr_(obj, name):
    """(value, pullback) for obj.name; pullback(value_bar) -> obj_bar."""
    t = type(obj)
    foreign = is_foreign(obj)
    key = (t, name) if not foreign else (np.ndarray, name)  # a Dask/CuPy array reads as an ndarray
    rule = ATTRIBUTE_RULES.get(key)
    if rule is None and _ATTRIBUTES_PENDING[0] and (key[0] is np.ndarray or isinstance(obj, np.generic)):
        if registry.attribute_missed(key):  # NumPy's rules were not registered yet: now they are
            rule = ATTRIBUTE_RULES.get(key)
    if rule is not None:
        y, pb = rule(obj)

        def attribute_rule_pullback(y_bar):
            return pb(y_bar)[1] if y_bar is not None else None

        return y, attribute_rule_pullback
    if key in CONSTANT_ATTRIBUTES or isinstance(obj, _NO_GRAD_OWNERS):
        return constant(getattr(obj, name), _none_pullback)
    if t is _BuiltinMethod and name == "__self__":
        # a built-in bound method's cotangent is its object's (see below, and `_call_other`, which
        # reads `f.__self__` of `a.sum` called with keywords): reading its object back hands the
        # cotangent on as it is, never as a field `__self__` of the method (which its object,
        # an array or a list, would not take)
        owner = obj.__self__
        if owner is not None and not isinstance(owner, types.ModuleType):
            return owner, _self_pullback
    if t is types.CellType and name == "cell_contents":
        # a closure cell's cotangent is its content's
        return obj.cell_contents, _self_pullback
    if foreign:
        # a Dask or CuPy array: its library's own code (properties included) is never transformed
        value = getattr(obj, name)
        if callable(value):
            return value, _self_pullback
        if _class_attr(np.ndarray, name) is None or name in ("shape", "ndim", "size", "dtype", "nbytes", "itemsize"):
            return constant(value, _none_pullback)  # metadata: shape, dtype, chunks, device, ...
        raise NoRuleError(_Attr(t, name), "an attribute of a Dask or CuPy array")
    if t is super and obj.__self__ is not None and name not in ("__self__", "__self_class__", "__thisclass__"):
        return _super_attribute(obj, name)
    cls_attr = _class_attr(t, name)
    if isinstance(cls_attr, property) and cls_attr.fget is not None:
        y, pb = call(cls_attr.fget, obj)

        def property_pullback(y_bar):
            bars = pb(y_bar) if y_bar is not None else none_run(pb, 2)
            return bars[1]

        return y, _Wrapped(property_pullback)
    if name == "__dict__" and type(getattr(obj, "__dict__", None)) is dict and not isinstance(obj, types.FunctionType) \
            and _reads_fields(sys._getframe(1).f_code):
        # the object's fields themselves: a write through the dict is a write of a field
        return H.own_dict(H.current(), obj), _none_pullback
    user = not isinstance(obj, (type, types.ModuleType)) and _is_user(obj)
    if user:
        # what the class's own code computes: `__getattribute__`, a descriptor's `__get__` (a data
        # descriptor first, one without `__set__` where the instance has no such field), and
        # `__getattr__` for a name found nowhere else, each called as the user's code
        got = _attribute_by_class(obj, t, name, cls_attr)
        if got is not None:
            return got
    if cls_attr is not None and type(cls_attr).__name__ in ("cached_property",) and name not in getattr(obj, "__dict__", {}):
        y, pb = call(cls_attr.func, obj)
        ctx = H.current()
        set_pb = M.setattr_(ctx, obj, name, y) if False else None
        return y, _Wrapped(lambda y_bar: (pb(y_bar) if y_bar is not None else none_run(pb, 2))[1])
    value = getattr(obj, name)
    tv = type(value)
    if tv is _MethodType or tv is _BuiltinMethod:
        if getattr(value, "__self__", None) is obj:
            return value, _self_pullback  # a bound method's cotangent is its object's
    if isinstance(obj, (np.ndarray, np.generic)):
        if callable(value):
            return value, _self_pullback
        raise NoRuleError(_Attr(t, name), "an attribute of a NumPy array")
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # named tuple field
        fields = obj._fields
        if name in fields:
            idx = fields.index(name)

            def namedtuple_field_pullback(y_bar):
                if y_bar is None:
                    return None
                return type(obj)(*[y_bar if i == idx else None for i in range(len(fields))])

            return value, namedtuple_field_pullback
    if isinstance(cls_attr, (staticmethod, classmethod)) or (cls_attr is not None and isinstance(value, type)):
        return constant(value, _none_pullback)
    if isinstance(obj, (types.FunctionType, functools.partial)) and name in ("__name__", "__qualname__", "__doc__", "__module__"):
        return value, _none_pullback

    def field_pullback(y_bar):
        if y_bar is None:
            return None
        return Slots({name: y_bar})

    return value, field_pullback


def _super_attribute(sup, name):
    """(value, pullback) of `super(C, obj).name`: what the classes after `C` in the order of `obj`'s
    class define, read as Python reads it (a property's getter and a descriptor's `__get__` run as
    the user's code); the super object's cotangent is `obj`'s (see `objects.construct`)."""
    obj, start = sup.__self__, sup.__thisclass__
    mro = type(obj).__mro__ if isinstance(obj, sup.__self_class__) and not isinstance(obj, type) else ()
    found = None
    for k in mro[mro.index(start) + 1 :] if start in mro else ():
        if name in k.__dict__:
            found = k.__dict__[name]
            break
    if isinstance(found, property) and found.fget is not None:
        y, pb = call(found.fget, obj)

        def super_property_pullback(y_bar):
            return (pb(y_bar) if y_bar is not None else none_run(pb, 2))[1]

        return y, _Wrapped(super_property_pullback)
    if type(found) is _FunctionType:
        return _MethodType(found, obj), _self_pullback  # a bound method's cotangent is its object's
    if found is not None and not isinstance(found, (staticmethod, classmethod, type)):
        dget = _class_attr(type(found), "__get__")
        if isinstance(dget, _FunctionType):
            return _obj_bar_of(call(dget, found, obj, type(obj)), 2)
    return constant(getattr(sup, name), _none_pullback)


def _attribute_by_class(obj, t, name, cls_attr):
    """(value, pullback) of `obj.name` where a class of the user's computes it with Python code of
    its own (see `getattr_`), or None where Python reads a field or a class attribute."""
    # (the two hooks looked up on the class as Python looks them up, through its attribute cache:
    # every read of a field of a user's object passes here)
    getattribute = t.__getattribute__
    if type(getattribute) is _FunctionType:
        return _obj_bar_of(call(getattribute, obj, name), 1)
    if cls_attr is None:
        if name not in getattr(obj, "__dict__", ()):
            getattr_hook = getattr(t, "__getattr__", None)
            if type(getattr_hook) is _FunctionType:
                return _obj_bar_of(call(getattr_hook, obj, name), 1)
        return None
    if not isinstance(cls_attr, (_FunctionType, property, staticmethod, classmethod, type)):
        dt = type(cls_attr)
        dget = _class_attr(dt, "__get__")
        if isinstance(dget, _FunctionType):
            data = _class_attr(dt, "__set__") is not None or _class_attr(dt, "__delete__") is not None
            if data or name not in getattr(obj, "__dict__", ()):
                return _obj_bar_of(call(dget, cls_attr, obj, t), 2)
    return None


def _obj_bar_of(got, i):
    """`(value, pullback)` of a call whose argument `i` is the object read: the pullback hands back
    that argument's cotangent, as an attribute read's does."""
    y, pb = got

    def class_attribute_pullback(y_bar):
        bars = pb(y_bar) if y_bar is not None else none_run(pb, i + 2)
        return bars[i] if len(bars) > i else None

    return y, _Wrapped(class_attribute_pullback)


@none_ok
def _self_pullback(m_bar):
    return m_bar


_Attr = M._Op  # names `Type.attr` in errors
_class_attr = M._class_attr


def getitem(obj, idx):
    """(obj[idx], pullback(y_bar) -> obj_bar)."""
    t = type(obj)
    if t is list or t is tuple:
        ti = type(idx)
        if ti is int:
            n = len(obj)
            i = idx + n if idx < 0 else idx
            y = obj[idx]
            if t is list:
                def list_getitem_pullback(y_bar):
                    return None if y_bar is None else Slots({i: y_bar})

                return y, list_getitem_pullback

            def tuple_getitem_pullback(y_bar):
                if y_bar is None:
                    return None
                bar = [None] * n
                bar[i] = y_bar
                return tuple(bar)

            return y, tuple_getitem_pullback
        if ti is slice:
            n = len(obj)
            positions = range(*idx.indices(n))
            y = obj[idx]

            def sequence_slice_pullback(y_bar):
                if y_bar is None:
                    return None
                if t is list:
                    return Slots({p: b for p, b in zip(positions, y_bar) if b is not None})
                bar = [None] * n
                for p, b in zip(positions, y_bar):
                    bar[p] = b
                return tuple(bar)

            return y, sequence_slice_pullback
        if _OPERATORS._users_method(idx, "__index__") is not None:
            return _by_index(obj, idx)
    elif t is np.ndarray:
        if type(idx) not in _PLAIN_KEYS and _OPERATORS._users_method(idx, "__index__") is not None:
            return _by_index(obj, idx)
        y = obj[idx]
        basic = M._is_basic_index(idx)

        def array_getitem_pullback(y_bar):
            if y_bar is None:
                return None
            return H.Indexed(idx, y_bar, basic)

        return y, array_getitem_pullback
    elif t is dict or isinstance(obj, dict):
        if t is not dict and type(obj).__getitem__ is dict.__getitem__ and idx not in obj:
            missing = getattr(type(obj), "__missing__", None)
            if missing is not None:
                return _dict_missing(obj, idx)
        y = obj[idx]

        def dict_getitem_pullback(y_bar):
            return None if y_bar is None else {idx: y_bar}

        return y, dict_getitem_pullback
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        y = obj[idx]
        n = len(obj)
        positions = range(*idx.indices(n)) if isinstance(idx, slice) else [idx % n]

        def namedtuple_getitem_pullback(y_bar):
            if y_bar is None:
                return None
            bar = [None] * n
            if isinstance(idx, slice):
                for p, b in zip(positions, y_bar):
                    bar[p] = b
            else:
                bar[positions[0]] = y_bar
            return type(obj)(*bar)

        return y, namedtuple_getitem_pullback
    if _is_user(obj):
        meth = _class_attr(t, "__getitem__")
        if isinstance(meth, _FunctionType):
            y, pb = call(meth, obj, idx)

            def user_getitem_pullback(y_bar):
                bars = pb(y_bar) if y_bar is not None else none_run(pb, 3)
                return bars[1]

            return y, _Wrapped(user_getitem_pullback)
    if isinstance(obj, collections.deque):
        n = len(obj)
        i = idx + n if idx < 0 else idx
        y = obj[idx]
        return y, (lambda y_bar: None if y_bar is None else Slots({i: y_bar}))
    rule = RULES.get(operator.getitem)
    y, pb = rule(obj, idx)

    def getitem_rule_pullback(y_bar):
        return None if y_bar is None else pb(y_bar)[1]

    return y, getitem_rule_pullback


_PLAIN_KEYS = frozenset({int, slice, tuple, np.ndarray, list, type(None), type(Ellipsis), np.int64})


def _by_index(obj, idx):
    """`obj[idx]` of a list, tuple or array where `idx`'s class has its own `__index__`: run as
    the user's code (what it changes, it changes in the gradient's sight), then the item read."""
    i, ipb = call(_OPERATORS._users_method(idx, "__index__"), idx)
    y, pb = getitem(obj, operator.index(i))

    def index_getitem_pullback(y_bar):
        none_run(ipb, 2)  # (the key's cotangent, an object's, is in the heap)
        return pb(y_bar) if y_bar is not None else None

    return y, _Wrapped(index_getitem_pullback)


def getitem_key(obj, is_tuple, *keys):
    """obj[key] where the key itself carries gradients (`np.r_[a, b]`): (y, pullback(y_bar) ->
    (None, obj_bar, key_0_bar, ...))."""
    key = keys if is_tuple else keys[0]
    if not is_tuple and type(obj) in (list, tuple, np.ndarray) and _OPERATORS._users_method(key, "__index__") is not None:
        y, pb = _by_index(obj, key)

        def index_key_pullback(y_bar):
            return None, pb(y_bar), None

        return y, _Wrapped(index_key_pullback)
    meth = getattr(type(obj), "__getitem__", None)
    rule = RULES.get(meth) if meth is not None else None
    if rule is None and _is_user(obj) and isinstance(_class_attr(type(obj), "__getitem__"), _FunctionType):
        y, pb = call(_class_attr(type(obj), "__getitem__"), obj, key)

        def user_getitem_key_pullback(y_bar):
            bars = pb(y_bar) if y_bar is not None else none_run(pb, 3)
            key_bar = bars[2]
            if not is_tuple:
                key_bar = (key_bar,)
            elif key_bar is None:
                key_bar = (None,) * len(keys)
            return (None, bars[1]) + tuple(key_bar)

        return y, _Wrapped(user_getitem_key_pullback)
    if rule is None:
        y, pb = getitem(obj, key)

        def getitem_plain_pullback(y_bar):
            return (None, pb(y_bar)) + (None,) * len(keys)

        return y, getitem_plain_pullback
    y, pb = rule(obj, key)

    def getitem_key_pullback(y_bar):
        if y_bar is None:
            return (None,) * (len(keys) + 2)
        bars = pb(y_bar)
        key_bar = bars[2]
        if not is_tuple:
            key_bar = (key_bar,)
        elif key_bar is None:
            key_bar = (None,) * len(keys)
        return (None, bars[1]) + tuple(key_bar)

    return y, getitem_key_pullback


def _dict_missing(obj, idx):
    """d[k] of a missing key in a dict subclass with __missing__ (defaultdict, Counter, or one of
    the user's)."""
    ctx = H.current()
    factory = getattr(obj, "default_factory", None)
    if type(factory) is _FunctionType and isinstance(obj, collections.defaultdict):
        # a default made by a function of the user's (`defaultdict(lambda: a)`), run as the user's
        # code: the value it returns may carry a gradient, back to what the function reads
        v, fpb = call(factory)
        set_pb = M.setitem(ctx, obj, idx, v)

        def factory_default_pullback(y_bar):
            if y_bar is not None:
                H.heap_add(ctx, obj, {idx: y_bar})
            c = set_pb()
            bars = fpb(c) if c is not None else none_run(fpb, 1)
            if bars[0] is not None:
                H.heap_add(ctx, factory, bars[0])
            return None

        return v, _Wrapped(factory_default_pullback)
    missing = type(obj).__missing__
    if type(missing) is _FunctionType:
        # a class's own `__missing__` (Python calls it from dict's `__getitem__`): run as the
        # user's code, its value's gradient sent back through it
        y, mpb = call(missing, obj, idx)

        def user_missing_pullback(y_bar):
            bars = mpb(y_bar) if y_bar is not None else none_run(mpb, 3)
            return bars[1]

        return y, _Wrapped(user_missing_pullback)
    before = dict(obj)
    y = obj[idx]
    inserted = idx in obj
    rec = M._log(ctx, M.SnapshotRec(obj, before, dict(obj))) if inserted else None

    def missing_pullback(y_bar):
        if rec is not None:
            M._slot_take(ctx, obj, idx)  # the default value is a constant
            ctx.undo(rec)
        return None

    return y, _Wrapped(missing_pullback)


_PRIMITIVE = (int, float, complex, bool, np.ndarray, np.generic, list, tuple, str, dict, bytes, type(None))


def _is_user(x):
    import numbers

    return not isinstance(x, _PRIMITIVE) and not isinstance(x, numbers.Number) and not is_foreign(x)


# --- loops, unpacking, literals --------------------------------------------------------------


def iterable(seq):
    """What a `for` loop iterates: sequences as they are; other iterables one item at a time, recorded."""
    t = type(seq)
    if t is list or t is tuple or t is range or t is np.ndarray or t is dict or t is str:
        return seq
    if t is set or t is frozenset:
        return seq  # (`iter_acc` refuses a gradient that reaches an element)
    if hasattr(seq, "check") and isinstance(seq, list) and H.depth() == 0:
        # zip / enumerate over lists, read ahead: each item checked before the loop gets it (when
        # this loop is itself differentiated, the check has run already, in the program's own run)
        return _checked_items(seq)
    if isinstance(seq, SeqIter):
        return seq.remaining()
    if isinstance(seq, (list, tuple, dict, str, np.ndarray, range, bytes)):
        return seq
    if _is_user(seq):
        it_fn = _class_attr(type(seq), "__iter__")
        if it_fn is None:
            getitem = _class_attr(type(seq), "__getitem__")
            if isinstance(getitem, _FunctionType):
                return ByIndex(seq, getitem)
        elif type(it_fn) is _FunctionType and not it_fn.__code__.co_flags & 0x2A0:
            # the class's own `__iter__`, run as the user's code: what it hands out is an
            # iterator over a list it read or built (`iter(self.xs)`, `iter([self.a, self.b])`),
            # or the list a rule made (`reversed(self.xs)`, `zip(...)`), whose items' cotangents
            # go back through its pullback once the loop's are in
            it, pb = call(it_fn, seq)
            if type(it) is SeqIter or isinstance(it, list):
                return UserIter(seq, it, pb)
            return Recorded(it, started=True)
    return Recorded(seq)


class UserIter:
    """A loop over an object whose class's `__iter__` (Python code, run as the user's code) handed
    out `it`: an iterator over a list or tuple (its items from where it stood) or a list (a rule's
    result). The items' cotangents go to `it`'s slots, and the pullback of `__iter__` runs when the
    backward pass reaches the loop's first item (`iter_acc`)."""

    __slots__ = ("obj", "it", "pb", "start")

    def __init__(self, obj, it, pb):
        self.obj = obj
        self.it = it
        self.pb = pb
        self.start = it.pos if type(it) is SeqIter else 0

    def __iter__(self):
        return iter(self.it.remaining()) if type(self.it) is SeqIter else iter(self.it)

    def finish(self, ctx, k):
        if k == 0:
            bars = self.pb(None) if _accepts_none(self.pb) else None
            if bars is not None and bars[1] is not None:
                H.heap_add(ctx, self.obj, bars[1])
        return None


class ByIndex:
    """A loop over an object of a class of the user's that has `__getitem__` and no `__iter__`
    (Python's older protocol: items 0, 1, 2, ... until `IndexError`): each item read by calling its
    `__getitem__` as the user's code, its pullback kept for the item's cotangent."""

    __slots__ = ("obj", "getitem", "pbs")

    def __init__(self, obj, getitem):
        self.obj = obj
        self.getitem = getitem
        self.pbs = []

    def __iter__(self):
        i = 0
        while True:
            try:
                y, pb = call(self.getitem, self.obj, i)
            except (IndexError, StopIteration):
                return
            self.pbs.append(pb)
            i += 1
            yield y


class _Checked:
    """A loop over a read-ahead list (zip / enumerate over lists) that checks each item first."""

    __slots__ = ("seq",)

    def __init__(self, seq):
        self.seq = seq

    def __iter__(self):
        seq = self.seq
        for k, item in enumerate(seq):
            seq.check(k)
            yield item


_checked_items = _Checked


class Recorded:
    """Iteration over an iterator that is not a sequence: the items are remembered (and counted).
    `source`: (list, start) where a class's `__iter__` handed out that list's iterator, or None."""

    __slots__ = ("it", "items", "source")

    def __init__(self, it, started=False):
        self.it = it if started else iter(it)
        self.items = []
        # a class's `__iter__` that hands out a list's iterator (`return iter(self.xs)`): the
        # items are that list's, from where the iterator starts, and so are their cotangents
        self.source = None
        if type(self.it) is _LIST_ITERATOR and _is_user(it) and not hasattr(it, "__next__"):
            r = self.it.__reduce__()
            if len(r) == 3 and r[1] and type(r[1][0]) is list:
                self.source = (r[1][0], r[2])

    def __iter__(self):
        for x in self.it:
            self.items.append(x)
            yield x


_LIST_ITERATOR = type(iter([]))


def iter_acc(ctx, seq, k, c):
    """Item `k` of a loop over `seq` received cotangent `c`."""
    if c is None:
        return seq.finish(ctx, k) if type(seq) is UserIter else None
    if type(seq) is _Checked:
        seq = seq.seq
    t = type(seq)
    if t is list:
        H.heap_add(ctx, seq, Slots({k: c}))
        return None
    if t is np.ndarray:
        H.array_add(ctx, seq, H.Indexed(k, c, True))
        return None
    if t is tuple or isinstance(seq, tuple):
        bar = [None] * len(seq)
        bar[k] = c
        return type(seq)(*bar) if hasattr(seq, "_fields") else tuple(bar)
    if t is SeqSlice:
        H.heap_add(ctx, seq.it, Slots({seq.start + k: c}))
        return None
    if t is UserIter:
        H.heap_add(ctx, seq.it, Slots({seq.start + k: c}))
        return seq.finish(ctx, k)
    if t is ByIndex:
        bars = seq.pbs[k](c)
        if bars[1] is not None:
            H.heap_add(ctx, seq.obj, bars[1])
        return None
    if t is Recorded and seq.source is not None:
        lst, start = seq.source
        H.heap_add(ctx, lst, Slots({start + k: c}))
        return None
    if t is Recorded or hasattr(seq, "__next__"):
        # the items came out of an iterator (a class's generator `__iter__`, a generator) that
        # depends on differentiated values: dpnb cannot send their gradients back through it
        # (items that are objects got their cotangents by identity)
        it = seq.it if t is Recorded else seq
        if not isinstance(it, types.GeneratorType):
            # an iterator whose `__next__` is Python code (a class of the user's, or of dpnb's
            # runtime when a gradient is differentiated) ran out of dpnb's sight: refused
            from ..rules.python._iterables import refuse_python_iterator

            refuse_python_iterator(it, "a `for` loop")
            # an iterator of Python's own made outside the differentiated code (`it = iter(xs)`
            # before the call): its items are values no one asked about
            return None
        raise DifferentiationError(
            f"a gradient reached the items that a `for` loop took from a {type(it).__name__} (an iterator "
            "dpnb cannot see into, such as a generator or a class's `__iter__` written with `yield`); "
            "loop over a list instead (`for v in list(...)`, or return a list from `__iter__`)"
        )
    if t is dict or t is set or t is frozenset:
        # a dict's keys, a set's elements: equal ones are one, and nothing says which number each
        # came from; a gradient that reaches one that is a number other than an int is refused
        el = next(itertools.islice(seq, k, None), None)
        if t is dict or not H.same_set(seq):
            back_to_elements("keys of a dict" if t is dict else "elements of a set", (el,), (c,))
            return None
        # (a set made of a list's items, holding them still: `_common.seq_bar`)
        marker = back_to_elements("elements of a set", (el,), (c,), lazy=True)
        if marker is not None and t is set:
            H.heap_add(ctx, seq, marker)
            return None
        return marker
    if t is range or t is str:
        return None  # ints and characters carry no gradient
    if isinstance(seq, list):
        H.heap_add(ctx, seq, Slots({k: c}))
        return None
    raise DifferentiationError(
        f"a gradient reached the items of a {t.__name__} iterated by a `for` loop; dpnb cannot send it "
        "further back: iterate over a list, tuple or array (list(...)) instead"
    )


def caught(e):
    """Called first in an `except ... as e` handler that reads `e`: an exception that carries
    numbers other than ints (its arguments or attributes: floats, complex numbers, arrays of
    them) is refused, as what the handler reads of them is out of the gradient's sight (they were
    given to the exception by code run as written). Read them out where they are computed instead."""
    for v in (*getattr(e, "args", ()), *getattr(e, "__dict__", {}).values()):
        if carries_numbers(v):
            raise DifferentiationError(
                f"the {type(e).__name__} caught here carries numbers ({type(v).__name__}), which dpnb "
                "cannot follow a gradient through; return or store the numbers rather than raising them "
                "in an exception, or compute them outside the differentiated function"
            ) from e


def unpack_bar(ctx, value, bars, star):
    """The cotangent of `value` from those of the names it was unpacked into (a, *b, c = value)."""
    if star is not None:
        bars = list(bars)
        starred = bars[star]
        n = len(value) - (len(bars) - 1)
        expanded = list(starred) if starred is not None else [None] * n
        bars = bars[:star] + expanded + bars[star + 1 :]
    if all(b is None for b in bars):
        return None
    t = type(value)
    if t is tuple:
        return tuple(bars)
    if isinstance(value, tuple):
        return type(value)(*bars) if hasattr(value, "_fields") else tuple(bars)
    if isinstance(value, list) or t is np.ndarray:
        return Slots({i: b for i, b in enumerate(bars) if b is not None}) if t is not np.ndarray else H._stack_cots(bars, value)
    if isinstance(value, dict):
        return None  # unpacking a dict gives its keys
    if isinstance(value, SeqIter):
        return Slots({value.pos0 + i: b for i, b in enumerate(bars) if b is not None})
    raise DifferentiationError(
        f"a gradient reached values unpacked from a {t.__name__}; unpack a list, tuple or array instead"
    )


def literal_bar(g, parts):
    """Split the cotangent of a literal with starred parts: parts[i] is the starred value or None."""
    out = []
    k = 0
    g = list(g) if g is not None else None
    for p in parts:
        if p is not None and not hasattr(p, "__len__"):
            if g is not None:
                raise DifferentiationError(
                    f"a gradient reached values unpacked with * from a {type(p).__name__}, which was used up "
                    "by the unpacking; unpack a list or tuple instead (list(...))"
                )
            return (None,) * len(parts)
        if p is None:
            out.append(None if g is None else g[k])
            k += 1
        else:
            n = len(p)
            if g is None:
                out.append(None)
            else:
                piece = g[k : k + n]
                out.append(_seq_in_kind(p, piece) if any(x is not None for x in piece) else None)
            k += n
    return tuple(out)


def _seq_in_kind(p, piece):
    if isinstance(p, list):
        return Slots({i: b for i, b in enumerate(piece) if b is not None})
    if isinstance(p, tuple):
        return type(p)(*piece) if hasattr(p, "_fields") else tuple(piece)
    if isinstance(p, np.ndarray):
        return H._stack_cots(piece, p)
    return M._in_kind_of(p, piece)


def dict_literal_bar(g, keys, maps):
    """Split the cotangent `g` of a dict literal among its entries: entry i is `keys[i]: value`,
    or `**maps[i]` where keys[i] is None. A key's cotangent goes to the entry that put it in last
    (a later entry with an equal key, or a later `**m` holding it, overwrote the earlier ones)."""
    n = len(keys)
    if g is None:
        return (None,) * n
    last = {}
    for i in range(n):
        if maps[i] is None:
            last[keys[i]] = i
        else:
            for k in maps[i]:
                last[k] = i
    out = []
    for i in range(n):
        if maps[i] is None:
            k = keys[i]
            out.append(g.get(k) if last.get(k) == i else None)
        else:
            part = {k: g[k] for k in maps[i] if last.get(k) == i and g.get(k) is not None}
            out.append(part or None)
    return tuple(out)


def list_cot(g, t):
    """The cotangent of a list built by a comprehension, as a list we may pop from."""
    if g is None:
        return [None] * len(t)
    if isinstance(g, Slots):
        out = [None] * len(t)
        for i, b in g.items.items():
            out[i] = b
        return out
    return list(g)


def dict_cot(g, t):
    if g is None:
        return {}
    return dict(g.items) if isinstance(g, Slots) else dict(g)


def field_of(t, name):
    if t is None:
        return None
    if isinstance(t, Tangent):
        return t.fields.get(name)
    if isinstance(t, dict):
        return t.get(name)
    return None


# --- iterators over sequences -----------------------------------------------------------------


class SeqIter:
    """What `iter(seq)` returns for a list, tuple or array inside differentiated code: an iterator
    that knows which item it hands out, so `next(it)` can send the item's gradient back."""

    __slots__ = ("seq", "pos", "pos0", "__weakref__")

    def __init__(self, seq, pos=0):
        self.seq = seq
        self.pos = pos
        self.pos0 = pos

    def __iter__(self):
        return self

    def __next__(self):
        if self.pos >= len(self.seq):
            raise StopIteration
        v = self.seq[self.pos]
        self.pos += 1
        return v

    def __length_hint__(self):
        return max(0, len(self.seq) - self.pos)

    def remaining(self):
        start = self.pos
        self.pos = len(self.seq)
        return SeqSlice(self, start)


class SeqSlice:
    """The rest of a SeqIter, iterated by a for loop."""

    __slots__ = ("it", "start")

    def __init__(self, it, start):
        self.it = it
        self.start = start

    def __iter__(self):
        seq = self.it.seq
        for i in range(self.start, len(seq)):
            yield seq[i]


def iter_rrule(obj, *sentinel):
    if not sentinel and isinstance(obj, SeqIter):
        return obj, _Wrapped(lambda y_bar: (None, y_bar))  # iter() of an iterator is the iterator
    if sentinel or not isinstance(obj, (list, tuple, np.ndarray)):
        it = iter(obj, *sentinel)
        if sentinel or not _may_carry(obj):
            return it, const_pb(1 + len(sentinel))
        raise NoRuleError(iter, f"iterating a {type(obj).__name__} with iter(); use a list or tuple")
    it = SeqIter(obj)

    def iter_pullback(y_bar):
        g = y_bar  # the iterator's cotangent: {position: cotangent of the item handed out there}
        if g is None:
            return None, None
        items = g.fields if isinstance(g, Tangent) else (g.items if isinstance(g, Slots) else g)
        bars = [None] * len(obj)
        for i, b in items.items():
            if isinstance(i, int):
                bars[i] = b
        if isinstance(obj, list):
            return None, Slots({i: b for i, b in enumerate(bars) if b is not None})
        if isinstance(obj, np.ndarray):
            return None, H._stack_cots(bars, obj)
        return None, (type(obj)(*bars) if hasattr(obj, "_fields") else tuple(bars))

    return it, _Wrapped(iter_pullback)


def next_rrule(it, *default):
    if not isinstance(it, SeqIter):
        try:
            y = next(it)
        except StopIteration:
            if default:
                return default[0], _default_pb
            raise
        if _may_carry(y):
            raise NoRuleError(next, f"next() of a {type(it).__name__}; iterate a list or tuple instead")
        return y, const_pb(1 + len(default))
    ctx = H.current()
    pos = it.pos
    if pos >= len(it.seq):
        if default:
            return default[0], _default_pb
        raise StopIteration
    y = it.seq[pos]
    it.pos = pos + 1
    rec = M._log(ctx, _PosRec(it, pos, pos + 1))

    def next_pullback(y_bar):
        ctx.undo(rec)
        if y_bar is not None:
            H.heap_add(ctx, it, {pos: y_bar})
        return (None, None) + _nones(len(default))

    return y, _Wrapped(next_pullback)


@none_ok
def _default_pb(y_bar):
    return None, None, y_bar


class _PosRec(M.Rec):
    __slots__ = ("it", "old", "new")

    def __init__(self, it, old, new):
        self.it, self.old, self.new = it, old, new

    def undo(self):
        self.it.pos = self.old

    def redo(self):
        self.it.pos = self.new


registry.register(iter, iter_rrule)
# `xs.__iter__()` (a class's `__iter__` may hand out its list's so) is `iter(xs)`
for _t in (list, tuple):
    registry.register(_t.__iter__, iter_rrule)
registry.register(next, next_rrule)


def tuple_new_rrule(cls, iterable=()):
    """tuple.__new__(cls, iterable), which named tuples' _make uses."""
    items = list(iterable)
    y = tuple.__new__(cls, items)

    def tuple_new_pullback(y_bar):
        bars = list(y_bar) if y_bar is not None else [None] * len(items)
        if isinstance(iterable, list):
            return None, None, Slots({i: b for i, b in enumerate(bars) if b is not None})
        if isinstance(iterable, tuple):
            return None, None, tuple(bars)
        return None, None, M._in_kind_of(iterable, bars)

    return y, tuple_new_pullback


registry.register(tuple.__new__, tuple_new_rrule)


def getattr_rrule(obj, name, *default):
    """getattr(obj, name[, default]) as a read of obj.name."""
    if default and not hasattr(obj, name):
        return default[0], _Wrapped(lambda y_bar: (None, None, None, y_bar))
    y, pb = getattr_(obj, name)

    def builtin_getattr_pullback(y_bar):
        return (None, pb(y_bar), None) + _nones(len(default))

    return y, _Wrapped(builtin_getattr_pullback)


def setattr_rrule(obj, name, value):
    """setattr(obj, name, value) as obj.name = value."""
    pb = M.setattr_(H.current(), obj, name, value)

    def builtin_setattr_pullback(y_bar):
        return None, None, None, pb()

    return None, _Wrapped(builtin_setattr_pullback)


def delattr_rrule(obj, name):
    pb = M.delattr_(H.current(), obj, name)

    def builtin_delattr_pullback(y_bar):
        pb()
        return None, None, None

    return None, _Wrapped(builtin_delattr_pullback)


def partial_rrule(func, *args, **keywords):
    """functools.partial(func, *args, **keywords): the cotangents its calls gave to the bound
    arguments (`args`, `keywords`, collected on the object) go back to them."""
    y = functools.partial(func, *args, **keywords)

    def partial_pullback(y_bar):
        fields = y_bar.fields if isinstance(y_bar, Tangent) else (y_bar.items if isinstance(y_bar, Slots) else (y_bar or {}))
        a = fields.get("args") or (None,) * len(args)
        out = (None, None) + tuple(a)
        kw = fields.get("keywords")
        if kw:
            out = out + (dict(kw),)
        return out

    return y, partial_pullback


registry.register(functools.partial, partial_rrule)

setattr_rrule.mutates = delattr_rrule.mutates = next_rrule.mutates = True

# dpnb's own bookkeeping, seen when dpnb differentiates its own generated code: finding or
# compiling an adjoint, the context stack, and which parameter of a callable is `out=`, carry no gradient
registry.constant(load.adjoint_instance, load.compiled_for, load.defaults_owner, H._orphan, H._memory_index, H._overlaps, _positional_names,
                  registry.out_params)


def _addresses(a):
    """The address of each entry of the array `a`, in `a`'s shape."""
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for axis, (st, n) in enumerate(zip(a.strides, a.shape)):
        sh = [1] * a.ndim
        sh[axis] = n
        out = out + (np.arange(n, dtype=np.int64) * st).reshape(sh)
    return out


def as_strided_rrule(x, shape=None, strides=None, subok=False, writeable=True):
    """np.lib.stride_tricks.as_strided: a view of x's memory; its cotangent goes back to the same memory."""
    y = np.lib.stride_tricks.as_strided(x, shape, strides, subok, writeable)
    x_addr = _addresses(x).reshape(-1)
    x_order = np.argsort(x_addr, kind="stable")
    x_addr_sorted = x_addr[x_order]

    def as_strided_pullback(y_bar):
        if y_bar is None:
            return None, None, None, None, None, None
        x_bar = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.asarray(y_bar).dtype, np.float64))
        # each entry of y is found in x by its address
        pos = np.searchsorted(x_addr_sorted, _addresses(y))
        pos = np.minimum(pos, x_addr_sorted.size - 1)
        if x_addr_sorted.size == 0 or not np.array_equal(x_addr_sorted[pos], _addresses(y)):
            raise DifferentiationError(
                "as_strided made a view that reaches memory outside the array it was given; dpnb cannot "
                "map its gradient back: make the view from the array that owns the memory"
            )
        np.add.at(x_bar.reshape(-1), x_order[pos], np.broadcast_to(y_bar, y.shape))
        return None, x_bar, None, None, None, None

    return y, as_strided_pullback


registry.register(np.lib.stride_tricks.as_strided, as_strided_rrule)


def as_inner(native):
    """A rule that runs `native` in place of the function, its result a constant."""
    def inner_rrule(*args):
        y = native(*args)
        return y, const_pb(len(args))

    return inner_rrule


registry.register(H.current, as_inner(lambda: H.level_current(1)))
registry.register(H.push, as_inner(lambda ctx: H.level_push(1, ctx)))
registry.register(H.pop, as_inner(lambda: H.level_pop(1)))
registry.register(H.level_current, as_inner(lambda level: H.level_current(level + 1)))
registry.register(H.depth, as_inner(lambda: 1))


def _weak_rrule(v):
    # generated code being differentiated keeps its intermediates: a plain (strong) reference
    def weak_pullback(g):
        return None, g

    return v, weak_pullback


registry.register(H.weak, _weak_rrule)
# nor does it add into arrays in place (the count of references describes the inner program)
registry.register(H._exclusive, as_inner(lambda a: False))
def _deeper_push(level, ctx):
    if level + 1 >= MAX_NESTING:
        raise DifferentiationError(
            f"differentiating through {level + 2} nested gradients: dpnb takes derivatives up to order "
            f"{MAX_NESTING}; for higher orders, write the lower derivative out (or give it a rule)"
        )
    H.level_push(level + 1, ctx)


#: how many gradients may run inside one another (the third derivative)
MAX_NESTING = 3
registry.register(H.level_push, as_inner(_deeper_push))
registry.register(H.level_pop, as_inner(lambda level: H.level_pop(level + 1)))
registry.register(builtins.getattr, getattr_rrule)
registry.register(builtins.setattr, setattr_rrule)
registry.register(builtins.delattr, delattr_rrule)
def object_setattr_rrule(obj, name, value):
    pb = M.raw_setattr(H.current(), obj, name, value)

    def object_setattr_pullback(y_bar):
        return None, None, None, pb()

    return None, _Wrapped(object_setattr_pullback)


object_setattr_rrule.mutates = True


registry.register(object.__delattr__, delattr_rrule)  # the same change as delattr(obj, name)
registry.constant(slice.indices)


def object_getattribute_rrule(obj, name):
    """object.__getattribute__(obj, name): a read of the field."""
    y = object.__getattribute__(obj, name)

    def object_getattribute_pullback(y_bar):
        return None, (None if y_bar is None else Slots({name: y_bar})), None

    return y, object_getattribute_pullback


registry.register(object.__getattribute__, object_getattribute_rrule)
registry.register(object.__setattr__, object_setattr_rrule)


def _pullbacks_accept_none(module):
    """Every pullback defined inside the functions of `module` accepts None (they undo changes)."""

    def walk(code):
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                if c.co_name.endswith("_pullback"):
                    NONE_OK.add(c)
                walk(c)

    for v in vars(module).values():
        if isinstance(v, types.FunctionType) and v.__module__ == module.__name__:
            walk(v.__code__)


_pullbacks_accept_none(M)


# --- small helpers of generated code --------------------------------------------------------------


def real_part(c):
    """The cotangent of a real number that took part in complex arithmetic: its real part."""
    if type(c) is complex:
        return c.real
    if isinstance(c, np.ndarray) and c.dtype.kind == "c":
        return c.real
    if isinstance(c, np.complexfloating):
        return c.real
    return c


def call_num(f, *args):
    """`call` for a callee whose rule was written inline but has since been rebound."""
    y, pb = call(f, *args)
    if pb is None:  # the adjoint tells the inline rule's case by a pullback of None
        raise DifferentiationError(f"the rule for {getattr(f, '__qualname__', f)!r} returned no pullback")
    if not isinstance(y, (int, float, complex, np.number)) or isinstance(y, bool):
        raise DifferentiationError(
            f"{getattr(f, '__qualname__', f)!r} was bound to this name after the adjoint was compiled and returns "
            f"a {type(y).__name__}, not a number; call dpnb.refresh()"
        )
    return y, pb


class Bail(Exception):
    """A joined forward and backward pass (`fuse`) reached a site that needs a context."""


def bail(*_args, **_kwargs):
    raise Bail


def check_loop(mark, filename):
    """An exception left a loop inside a try (or with) block half done: refused (`mark`: its line)."""
    if mark:
        raise DifferentiationError(
            f"an exception was caught after it left the loop at {filename}, line {mark} half done; dpnb cannot send "
            "gradients back through the iterations that ran. Catch the exception inside the loop (put the "
            "try there), or let it propagate"
        )


def changes_made(ctx):
    """How many changes the forward pass has made so far (`check_caught_changes`): those its log
    holds, and the appends to lists (made without a record)."""
    return len(ctx.log) + _APPENDED[0]


def check_caught_changes(ctx, mark, filename, lineno):
    """An exception caught by a handler at `filename`, line `lineno`, of a try that began when the
    forward pass had made `mark` changes: refused if a function the body called raised it after
    changes were made since (a list appended to, an array written): the callee's pullback, which
    would send their gradients back, is never made when it raises. Changes the try's own
    statements make are followed; a function that raises before changing anything is too."""
    if changes_made(ctx) == mark:
        return
    e = sys.exc_info()[1]
    tb = e.__traceback__.tb_next if e is not None and e.__traceback__ is not None else None
    while tb is not None:  # (the frames below the handler's, where it was raised)
        if _users_code(tb.tb_frame.f_code):
            raise DifferentiationError(
                f"an exception caught at {filename}, line {lineno} was raised inside a function called in "
                f"the try block ({tb.tb_frame.f_code.co_name}) after values the gradient follows were changed; "
                "dpnb cannot send gradients back through a call that did not return. Catch the exception "
                "inside that function, or check before calling it"
            ) from e
        tb = tb.tb_next


def _users_code(code):
    """Whether `code` is the user's (or code dpnb wrote from it): not dpnb's own, nor a library's."""
    f = code.co_filename
    return not f.startswith(_LIBRARY_DIRS) and not f.startswith("<frozen")


def lines_run(frame):
    """('file, line N' of the innermost frame from `frame` out that is not dpnb's, or None; and when
    that is a library's code, 'file, line N' of the user's own line that called into it, or None)."""
    inner = None
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_DPNB_DIR):
            where = f"{code.co_filename}, line {frame.f_lineno}"
            if _users_code(code):
                return (where, None) if inner is None else (inner, where)
            inner = inner or where
        frame = frame.f_back
    return inner, None


def _call_site():
    """Where the call being made is written, for a message: the innermost line outside dpnb, and
    when that is a library's code, the user's own line that called into the library."""
    inner, users = lines_run(sys._getframe(1))
    if inner is None:
        return None
    if users is None:
        return f"called at {inner}"
    return (f"called at {inner}, in a library's code that {users} calls: give the function called "
            "there a rule, or call it on values that carry no gradient")


def _dpnb_dir():
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")


def _library_dirs():
    import os
    import sysconfig

    paths = sysconfig.get_paths()
    dirs = {os.path.join(p, "") for k in ("stdlib", "platstdlib", "purelib", "platlib") if (p := paths.get(k))}
    return tuple(sorted(dirs | {_DPNB_DIR}))  # (and dpnb's own)


_DPNB_DIR = _dpnb_dir()
_LIBRARY_DIRS = _library_dirs()


def _reads_fields(code):
    """Whether `obj.__dict__` read by `code` is the object's fields (`heap.own_dict`): in the user's
    code, and in `own_dict` itself when dpnb differentiates its own code; dpnb's other code (the
    heap's walk over an object's fields, say, differentiated for a second derivative) reads the
    dict as a value."""
    return not code.co_filename.startswith(_DPNB_DIR) or code.co_name == "own_dict"


class Managed:
    """A context manager of a class of the user's (`with_manager`): its `__enter__` and `__exit__` run
    as the user's code, their pullbacks kept for the backward pass (`with_exit_back`,
    `with_enter_back`)."""

    __slots__ = ("mgr", "enter", "exit", "enter_pb", "exit_pb")

    def __init__(self, mgr, enter, exit_):
        self.mgr = mgr
        self.enter = enter
        self.exit = exit_
        self.enter_pb = self.exit_pb = None

    def __enter__(self):
        v, self.enter_pb = call(self.enter, self.mgr)
        return v

    def __exit__(self, et, ev, tb):
        r, self.exit_pb = call(self.exit, self.mgr, et, ev, tb)
        return r


class Watched:
    """A user's manager (`Managed`) entered while dpnb differentiates a gradient's own code: its
    `__enter__` and `__exit__` run as they did for the gradient, which is right only if they
    change nothing and hand out no number (`return self`): anything else is refused."""

    __slots__ = ("managed",)

    def __init__(self, managed):
        self.managed = managed

    def __enter__(self):
        before = changes_made(H.current())
        v = self.managed.__enter__()
        if changes_made(H.current()) != before or not (v is self.managed.mgr or v is None or type(v) in (str, bool, int)):
            self._refuse()
        return v

    def __exit__(self, et, ev, tb):
        before = changes_made(H.current())
        r = self.managed.__exit__(et, ev, tb)
        if changes_made(H.current()) != before:
            self._refuse()
        return r

    def _refuse(self):
        code = self.managed.enter.__code__
        raise DifferentiationError(
            f"a derivative of a gradient (hessian, jvp, a gradient inside a gradient) through a `with` statement "
            f"whose context manager is a class of yours ({type(self.managed.mgr).__name__}, {code.co_filename}, "
            f"line {code.co_firstlineno}) that changes something or hands out a value is not supported; "
            "compute what it gives outside the `with` statement"
        )


def with_manager(mgr):
    """What a `with` statement enters: a manager of a class of the user's wrapped in `Managed`,
    any other (a library's, NumPy's `errstate`) as it is, run as written."""
    t = type(mgr)
    if t is Managed:
        # dpnb differentiating a gradient's own code: the user's `__enter__` and `__exit__` run as
        # they did for the gradient, out of this derivative's sight: refused if they computed
        # anything it would need (`Watched`)
        return Watched(mgr)
    if isinstance(mgr, contextlib._GeneratorContextManagerBase):
        gen_fn = getattr(mgr, "func", None)
        if type(gen_fn) is _FunctionType and _users_code(gen_fn.__code__):
            return GeneratorManaged(mgr)  # (its generator runs as written, where that is right)
        return mgr
    enter, exit_ = _class_attr(t, "__enter__"), _class_attr(t, "__exit__")
    if (type(enter) is _FunctionType and type(exit_) is _FunctionType and _is_user(mgr)
            and _users_code(enter.__code__) and _users_code(exit_.__code__)
            and not enter.__code__.co_filename.startswith("<string")):
        # (not a library's manager, run as written: NumPy's `errstate`, `warnings.catch_warnings`)
        return Managed(mgr, enter, exit_)
    return mgr


# --- context managers written with contextlib.contextmanager ---------------------------------

#: the code of the function `contextlib.contextmanager` makes (one for every manager it makes)
_CM_HELPER = contextlib.contextmanager(lambda: (yield)).__code__


def _carrying_reads(fn, seen):
    """What the Python function `fn` reads, outside its own arguments, that may carry a gradient:
    the names of its closure's cells and of the globals its code names (and the same of the
    functions of the user's it names), each with its value."""
    if fn in seen:
        return []
    seen.add(fn)
    found = []
    code = fn.__code__
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        found += _carrying_value(name, v, seen, numbers=True)  # (a cell may hold the differentiated x)
    codes, names = [code], set()
    while codes:
        c = codes.pop()
        names.update(c.co_names)
        codes.extend(k for k in c.co_consts if type(k) is types.CodeType)
    g = fn.__globals__
    for name in sorted(names):
        if name in g:
            found += _carrying_value(name, g[name], seen)
    return found


def _carrying_value(name, v, seen, numbers=False):
    """[name] if value `v` may carry a gradient; a function of the user's is looked into. Without
    `numbers`, a number counts as a constant (a global's, or one the generator computed from what
    was checked when it began)."""
    if type(v) is _FunctionType:
        return _carrying_reads(v, seen) if _users_code(v.__code__) else []
    if not numbers and isinstance(v, (float, complex, np.floating, np.complexfloating)):
        return []
    if isinstance(v, (types.ModuleType, type, types.BuiltinFunctionType, types.MethodType)) or not _may_carry(v):
        return []
    return [name]


def _refuse_generator_manager(gen_fn, what):
    code = gen_fn.__code__
    raise DifferentiationError(
        f"a context manager written with `contextlib.contextmanager` ({gen_fn.__name__}, {code.co_filename}, "
        f"line {code.co_firstlineno}), used in a `with` statement at {user_location()}: its generator {what}, "
        f"which may carry a gradient, and dpnb does not differentiate a generator (what it computes or "
        f"changes would be out of the gradient's sight); write it as a class with `__enter__` and "
        f"`__exit__` (dpnb runs those as your code), or keep such values out of it"
    )


def _check_generator_manager(gen_fn, args, kwargs, frame_locals=None):
    """Refuse a generator-based context manager whose generator may read values a gradient follows:
    its arguments, the cells and globals it reads, or (`frame_locals`, while it waits at its
    `yield`) its own variables."""
    if any(_may_carry(a) for a in args) or any(_may_carry(v) for v in (kwargs or {}).values()):
        _refuse_generator_manager(gen_fn, "is given values")
    if frame_locals is not None:
        names = [k for k, v in frame_locals.items() if _carrying_value(k, v, set())]
        if names:
            _refuse_generator_manager(gen_fn, f"holds values in {', '.join(names)}")
    names = _carrying_reads(gen_fn, set())
    if names:
        _refuse_generator_manager(gen_fn, f"reads {', '.join(names)}")


def _generator_manager_call(f, args, kwargs):
    """`cm(*args)` of a context manager made by `contextlib.contextmanager`: its generator is run
    as written (a constant), unless it may read values a gradient follows (refused)."""
    gen_fn = getattr(f, "__wrapped__", None)
    if type(gen_fn) is _FunctionType:
        _check_generator_manager(gen_fn, args, kwargs)
    y = f(*args, **(kwargs or {}))
    return constant(y, _kw_const_pb if kwargs is not None else const_pb(len(args)))


class GeneratorManaged:
    """A `with` statement's context manager made by `contextlib.contextmanager` from the user's
    generator, run as written: checked (`_check_generator_manager`) before it is entered and before
    its generator runs on from its `yield`, when the `with` statement's body may have handed it
    values a gradient follows."""

    __slots__ = ("mgr", "fn", "args", "kwds")

    def __init__(self, mgr):
        # (the manager's own `func`, `args` and `kwds` are dropped once it is entered)
        self.mgr, self.fn, self.args, self.kwds = mgr, mgr.func, mgr.args, mgr.kwds

    def _check(self):
        frame = getattr(getattr(self.mgr, "gen", None), "gi_frame", None)
        # (while the generator waits at its `yield`, its variables: what the body may have changed)
        frame_locals = frame.f_locals if frame is not None else None
        _check_generator_manager(self.fn, self.args, self.kwds, frame_locals)

    def __enter__(self):
        self._check()
        return self.mgr.__enter__()

    def __exit__(self, et, ev, tb):
        self._check()
        return self.mgr.__exit__(et, ev, tb)


def with_manager_rrule(mgr):
    # (which managers are the user's is a choice of what to follow, never differentiated; the
    # manager's cotangent reaches it through the heap, by the `Managed`'s field)
    return with_manager(mgr), _with_manager_pullback


def _with_manager_pullback(y_bar):
    return None, None


registry.register(with_manager, with_manager_rrule)


def with_exit_back(ctx, w):
    """The pullback of a user's `__exit__` (`Managed`), which ran last in the `with` statement."""
    if type(w) is Managed and w.exit_pb is not None:
        bars = none_run(w.exit_pb, 5)
        if bars[1] is not None:
            H.heap_add(ctx, w.mgr, bars[1])


def with_enter_back(ctx, w, bar):
    """The pullback of a user's `__enter__` (`Managed`), given the cotangent of the value it
    returned (`with ... as v`); for any other manager, a gradient that reached that value is
    refused (its `__enter__` ran as written)."""
    if type(w) is Managed and w.enter_pb is not None:
        bars = w.enter_pb(bar) if bar is not None else none_run(w.enter_pb, 2)
        if bars[1] is not None:
            H.heap_add(ctx, w.mgr, bars[1])
        return
    with_value(bar)


def with_value(bar):
    if bar is not None:
        raise DifferentiationError(
            "a gradient reached the value a `with` statement bound (`with ... as v`); dpnb does not "
            "differentiate __enter__: compute the value outside the with statement"
        )


class Unbound:
    """The value of a join of a variable that has no value on the path taken: using it raises
    UnboundLocalError, as using the user's variable would."""

    __slots__ = ("name",)

    def __init__(self, name):
        object.__setattr__(self, "name", name)

    def _fail(self, *args, **kwargs):
        raise UnboundLocalError(f"cannot access local variable {self.name!r} where it is not associated with a value")

    __bool__ = __len__ = __iter__ = __call__ = __getitem__ = __setitem__ = __str__ = __repr__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _fail
    __matmul__ = __rmatmul__ = __floordiv__ = __mod__ = __float__ = __int__ = __index__ = __hash__ = _fail
    __contains__ = __format__ = _fail

    def __getattr__(self, name):
        self._fail()


def unbound(name):
    return Unbound(name)


# --- the names generated code uses --------------------------------------------------------------

from . import operators as _OPERATORS  # noqa: E402
from .operators import BINOPS, INPLACE, UNOPS  # noqa: E402

#: builtins Python answers with a method of the object's class: f -> helper(f, *args), which gives
#: None where the class's method is not the user's
_IMPLICIT = dict.fromkeys(_OPERATORS.IMPLICIT_METHODS, _OPERATORS.implicit_call)
_IMPLICIT[len] = lambda f, a: _OPERATORS.len_of(a)
_IMPLICIT[bool] = lambda f, a: _OPERATORS.truth(a)
_IMPLICIT[print] = _OPERATORS.print_

HELPERS = {
    "call": call,
    "resolve": resolve,
    "call_kw": call_kw,
    "callmethod": callmethod,
    "callmethod_kw": callmethod_kw,
    "callmethod_super": callmethod_super,
    "callmethod_super_kw": callmethod_super_kw,
    "getattr": getattr_,
    "getitem": getitem,
    "getitem_key": getitem_key,
    "setattr": M.setattr_,
    "setitem": M.setitem,
    "delattr": M.delattr_,
    "delitem": M.delitem,
    "cell_prepare": M.cell_prepare,
    "cell_take": H.cell_take,
    "cell_take_made": H.cell_take_made,
    "current": H.current,
    "take": H.take,
    "take_deep": H.take_deep,
    "acc": H.acc,
    "weak": H.weak,
    "take_ref": H.take_ref,
    "take_deep_ref": H.take_deep_ref,
    "take_made": H.take_made,
    "take_made_ref": H.take_made_ref,
    "acc_ref": H.acc_ref,
    "leaf": H.leaf,
    "cell_add": H.cell_add,
    "none_run": none_run,
    "iterable": iterable,
    "iter_acc": iter_acc,
    "unpack_bar": unpack_bar,
    "literal_bar": literal_bar,
    "dict_literal_bar": dict_literal_bar,
    "list_cot": list_cot,
    "dict_cot": dict_cot,
    "field_of": field_of,
    "real": real_part,
    "unbound": unbound,
    "nones": _nones,
    "call_num": call_num,
    "check_loop": check_loop,
    "changes_made": changes_made,
    "check_caught_changes": check_caught_changes,
    "with_value": with_value,
    "with_manager": with_manager,
    "with_exit_back": with_exit_back,
    "with_enter_back": with_enter_back,
    "range": builtins.range,
    "tape_reader": tape_reader,
    "append": append,
    "append_back": M.append_back,
    "len": builtins.len,
    "slice": builtins.slice,
    "set": builtins.set,
    "round": builtins.round,
}
HELPERS.update(BINOPS)
HELPERS.update(UNOPS)
HELPERS.update(INPLACE)

# a generator-based manager's check is a choice of what to refuse, run as written when dpnb
# differentiates its own code for a second derivative (refused there as in the first)
registry.constant(_check_generator_manager)
