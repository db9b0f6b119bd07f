"""The public entry points: gradient, withgradient, pullback, derivative, jacobian, hessian, jvp,
adjoint_source, tangent_source, refresh."""
import ast
import numbers
import threading
import types
from collections import namedtuple
from fractions import Fraction

import numpy as np

from .core import heap as H
from .core import higher, load, runtime
# The passes every first gradient runs (reading the source, normalize, SSA, forward mode) and the
# array transform (plain, fwdrev, tidy: a first gradient of NumPy code runs them, and importing
# them costs as much as a fifth of it) load with dpnb, as its core; the reverse-mode writer of
# the general way and each library's rules load when first needed.
from .core import forward as _forward, normalize as _normalize, parse as _parse, ssa as _ssa  # noqa: F401,E402
from .core import fwdrev as _fwdrev, plain as _plain  # noqa: F401,E402
from .core.results import complete, field_names as _field_names, finish as _finish, own as _own
from .rules import registry
from .errors import DifferentiationError, NonScalarOutputError
from .params import Params, params_gradient
from .rules.namespaces import is_foreign
from .tangents import AbstractZero, Tangent

WithGradient = namedtuple("WithGradient", ["val", "grad"])

_FunctionType = types.FunctionType
_call = runtime.call
_adjoint = load.adjoint_instance
_joined = load.joined_instance
_FUNCTIONS_get = load.FUNCTIONS.get
_generation = registry.generation


def _seed(y):
    t = type(y)
    if t is float or t is int or t is np.float64:
        return 1.0
    if isinstance(y, bool):
        raise NonScalarOutputError(y)
    if isinstance(y, Fraction):
        return Fraction(1)
    if isinstance(y, np.ndarray):
        if y.size == 1 and not np.iscomplexobj(y):
            # a size-1 array counts as a scalar loss
            return np.ones(y.shape, dtype=y.dtype if np.issubdtype(y.dtype, np.floating) else np.float64)
        raise NonScalarOutputError(y)
    if isinstance(y, (np.floating, np.integer)):
        return y.dtype.type(1) if isinstance(y, np.floating) else 1.0
    if is_foreign(y):
        # a Dask or CuPy scalar: the seed is a one of its own library (lazy; on the device)
        if y.size == 1 and not np.iscomplexobj(y):
            return np.ones_like(y, dtype=y.dtype if np.issubdtype(y.dtype, np.floating) else np.float64)
        raise NonScalarOutputError(y)
    if isinstance(y, numbers.Real):
        return 1.0
    raise NonScalarOutputError(y)


def _run(f, args, ctx):
    """The forward pass of f(*args) under context ctx: (y, pullback)."""
    _aliased_read(f, args)
    H.push(ctx)
    try:
        if type(f) is _FunctionType:
            # parameters left to their defaults: the adjoint takes them as the function does, and
            # the cotangents past the arguments given are not handed back (with Params, a default
            # may be a tracked array: the general call sends its cotangent to the function object)
            adj = _adjoint(f, args, True, ctx.params is None)
            if adj is not None:
                return adj(*args)
        return _call(f, *args)
    finally:
        H.pop()


def _separate(f, args):
    """The arguments, with each array that shares memory with an earlier one (the same array
    twice, or a view of it) given as a copy: a gradient is per argument, each one moved while the
    others stay, as with arrays of their own (the heap keys cotangents by object: without the
    copy, the first of them took the cotangents of all and the others None). Returns (args,
    arrays to watch), the second None when nothing is shared; `_check_separate` then refuses the
    answer if `f` changed one of them (then the copy changed what `f` computes). The same other
    object (a list, a dict, an instance) twice is refused: it cannot be copied without changing
    what its parts share."""
    if len(args) < 2:
        return args, None
    seen = {}
    out = watch = None
    for i, a in enumerate(args):
        t = type(a)
        if t is np.ndarray:
            key = id(H.root_of(a))  # (an array: the array whose memory it is)
        elif H.managed(a) and not isinstance(a, (types.FunctionType, types.BuiltinFunctionType)):
            key = id(a)
        else:
            continue
        j = seen.setdefault(key, i)
        if j == i:
            continue
        if t is not np.ndarray:
            if t is not list and t is not dict and not _field_names(a):
                continue  # an object without fields (a marker) carries no gradient: twice is alike
            name = getattr(f, "__qualname__", None) or repr(f)
            raise DifferentiationError(
                f"arguments {j + 1} and {i + 1} of {name} are the same {t.__name__}: the gradient with "
                f"respect to each needs them to be objects of their own; pass a copy as one of them "
                f"(copy.deepcopy)"
            )
        if out is None:
            out, watch = list(args), []
        out[i] = a.copy()
        watch += [H.root_of(args[j]), out[i]]
    # what lists, tuples, dicts and objects hold: an array also given (or viewed) as an argument
    # of its own is given as a copy too; the same array or object inside two arguments is refused
    held = _held(f, args)
    if held:
        for i, a in enumerate(args):
            if type(a) is np.ndarray:
                j = held.get(id(H.root_of(a)))
                if j is not None and j != i:
                    if out is None:
                        out, watch = list(args), []
                    if out[i] is a:
                        out[i] = a.copy()
                        watch += [H.root_of(a), out[i]]
    return (args, None) if out is None else (tuple(out), watch)


#: at most this many values are looked at inside the arguments (`_held`)
_HELD_LIMIT = 4096


def _holder(v):
    """A list, tuple or dict, or an instance of a class with fields: what `_held` looks into."""
    t = type(v)
    if t is list or t is tuple or t is dict:
        return True
    if t is np.ndarray or t in _SCALARS or v is None or callable(v) or isinstance(v, (type, types.ModuleType)):
        return False
    return type(getattr(v, "__dict__", None)) is dict and not is_foreign(v)


_SCALARS = frozenset({int, float, complex, bool, str, bytes})


def _held(f, args):
    """{id of an array's memory or of an object: the argument that holds it} for what the list,
    tuple, dict and object arguments hold (not the arguments themselves); None when there is
    nothing to compare (no such argument beside another that could share)."""
    if not any(_holder(a) for a in args):
        return None
    out = {}
    tops = {id(a) for a in args}
    count = 0
    for i, a in enumerate(args):
        if not _holder(a):
            continue
        todo = [a]
        seen = {id(a)}
        while todo:
            v = todo.pop()
            count += 1
            if count > _HELD_LIMIT:
                return out
            tv = type(v)
            if tv is list or tv is tuple:
                kids = v
            elif tv is dict:
                kids = list(v.values())
            else:
                d = getattr(v, "__dict__", None)
                kids = list(d.values()) if type(d) is dict else ()
            for k in kids:
                tk = type(k)
                if tk is np.ndarray:
                    key = id(H.root_of(k))
                elif tk is tuple:
                    todo.append(k)
                    continue
                elif _holder(k):
                    key = id(k)
                    if key in seen:
                        continue
                    seen.add(key)
                    todo.append(k)
                else:
                    continue
                j = out.setdefault(key, i)
                if j != i or (key in tops and tk is not np.ndarray and args[i] is not k):
                    name = getattr(f, "__qualname__", None) or repr(f)
                    what = "array" if tk is np.ndarray else tk.__name__
                    if j != i:
                        raise DifferentiationError(
                            f"arguments {j + 1} and {i + 1} of {name} both hold the same {what}: the "
                            f"gradient with respect to each needs parts of their own; pass a copy as one "
                            f"of them (copy.deepcopy)"
                        )
                    raise DifferentiationError(
                        f"argument {i + 1} of {name} holds another of its arguments (a {what}): the "
                        f"gradient with respect to each needs parts of their own; pass a copy (copy.deepcopy)"
                    )
    return out


#: code object -> the global names its own bytecode loads (`_aliased_read`)
_GLOBAL_READS = {}


def _global_reads(code):
    names = _GLOBAL_READS.get(code)
    if names is None:
        import dis

        loads = {dis.opmap[n] for n in ("LOAD_GLOBAL", "LOAD_NAME") if n in dis.opmap}
        found = dict.fromkeys(ins.argval for ins in dis.get_instructions(code) if ins.opcode in loads)
        names = _GLOBAL_READS[code] = tuple(found)
    return names


def _aliased_read(f, args):
    """Refuse an argument that is the very object (or the memory) that `f` itself also reads as a
    global or closure variable, where the code that runs is not plain code (see `core.plain`).
    There the gradient keeps cotangents per object, so the reads through the other name counted
    as the argument's: `sum(x * A)` at `x = A` gave 2A where A is held fixed, and a `gradient`
    nested in a differentiated function computed another value than the same call run plainly."""
    if type(f) is not _FunctionType:
        return
    keys = None
    for i, a in enumerate(args):
        t = type(a)
        if t is np.ndarray or t is list or t is dict or (t not in _VALUES and H.managed(a) and not isinstance(a, _CODE)):
            if keys is None:
                keys = {}
            keys.setdefault(_identity(a), i)
    if keys is None:
        return
    code = f.__code__
    g = f.__globals__
    read = [("global", name, g.get(name, _NOTHING)) for name in _global_reads(code)]
    for name, cell in zip(code.co_freevars, f.__closure__ or ()):
        try:
            read.append(("closure", name, cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    where = next(((kind, name, keys[_identity(v)]) for kind, name, v in read if _identity(v) in keys), None)
    if where is None:
        return
    kind, name, i = where
    raise DifferentiationError(
        f"argument {i + 1} of {code.co_name} ({code.co_filename}, line {code.co_firstlineno}) is the very "
        f"{type(args[i]).__name__}{' (or memory)' if type(args[i]) is np.ndarray else ''} that it also reads as its "
        f"{kind} variable `{name}`: dpnb cannot tell "
        f"which reads to differentiate. To hold `{name}` fixed, pass a copy as the argument "
        f"(`{name}.copy()`); to differentiate through both, read it through the argument only"
    )


_VALUES = (float, int, complex, bool, str, bytes, type(None), tuple, np.float64)
_CODE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType)
_NOTHING = object()


def _identity(v):
    """What makes two values one variable for the heap: an array's memory, any other object itself."""
    return id(H.root_of(v)) if type(v) is np.ndarray else id(v)


registry.constant(_aliased_read)  # (a check: under a second derivative it runs as written)


def _check_separate(ctx, watch, f):
    """`f` changed an array given (or viewed) as two arguments: their gradients are not defined."""
    roots = ctx.mutated_roots
    if watch and roots and any(id(r) in roots for r in watch):
        name = getattr(f, "__qualname__", None) or repr(f)
        raise DifferentiationError(
            f"{name} changes in place an array that is given as two of its arguments (or one and a "
            f"view of it): the gradient with respect to each is not defined; pass copies"
        )


def _direct(f, args, with_value, watch=None, forward=True):
    """`gradient(f, *args)` for a Python function run as the user's program (not itself being
    differentiated; there a rule makes this return None): one context for both passes, no lock
    (nothing else can reach it), and no work for the cases the general path handles. None when
    the general path is needed. `watch`: see `_separate`. Without `forward`, neither forward mode
    nor the joined form (see `_reverse`)."""
    if type(f) is not _FunctionType:
        return None
    # array code in the subset in which nothing can alias or change a value: its gradient as
    # plain code on names, no heap (`core.plain`)
    p = load.plain_instance(f, args) if any(type(a) is not float for a in args) else None
    if p is not None:
        r = p[2](p[1], f, args, p[3](args), with_value)
        if r is not None:
            return WithGradient(*r) if with_value else r[1]
        e = load.FUNCTIONS.get(id(f))
        if e is not None:
            e.plain.pop(len(args), None)
    _aliased_read(f, args)
    if f.__code__.co_flags & 0x04:
        # a `*args` function runs as a function of as many plain parameters as there are arguments
        adj = load.spread_instance(f, args)
    else:
        if forward and not with_value and float in map(type, args):
            # the derivative of a function of one float (and of ints no cotangent reaches: a
            # count, a depth): forward mode (`core.forward`)
            g1 = load.grad1_instance(f, args) if len(args) == 1 else load.gradn_instance(f, args)
            if g1 is not None:
                try:
                    r = g1(*args)
                except (runtime.Bail, RecursionError):
                    load.never_joined(f, args)
                else:
                    if not _zero_float(r):
                        return r
                    forward = False  # a zero, or no gradient at all (see `_reverse`)
        # forward and backward passes joined into one function needing no context (`core.fuse`)
        joined = _joined(f, args, _seed) if forward else None
        if joined:
            r = _run_joined(f, joined, args)
            if r is not None and not _zero_float(r[1]):
                return WithGradient(*r) if with_value else r[1]
        adj = _adjoint(f, args, True, True)
    if adj is None:
        return None
    ctx = H.Context()
    stack = H.stack()
    stack.append(ctx)
    try:
        y, pb = adj(*args)
        dy = _seed(y)
        ctx.begin()
        try:
            out = _results(ctx, args, pb(dy))
        finally:
            if ctx.undone:
                ctx.end()
    finally:
        H.pop()
    _check_separate(ctx, watch, f)
    return WithGradient(y, out) if with_value else out


def _run_joined(f, joined, args):
    """`(y, cotangents of args)` from the joined function of `f` (`gradient` has this inline), or
    None if it bailed out: then `f` takes the general way, now and from now on."""
    try:
        y, bars = joined(*args)
    except (runtime.Bail, RecursionError):
        load.never_joined(f, args)
        return None
    if len(args) == 1:
        b = bars[1]
        return y, ((b,) if type(b) is float else (_finish(b, args[0]),))
    return y, tuple(_finish(b, a) for a, b in zip(args, bars[1:]))


# a gradient being differentiated (a second derivative) takes the general path, whose every step
# dpnb can differentiate
registry.register(_direct, runtime.as_inner(lambda f, args, with_value, watch=None, forward=True: None))
# and so does a gradient with respect to `Params` (plain code's runner has a loop with an `else`
# that the transform refuses)
registry.register(_plain.params_run, runtime.as_inner(lambda f, ps, value=False: None))
# and `hessian`'s batched forward over reverse (its cache of built code is not the program's): a
# Hessian being differentiated is the Jacobian of the gradient
registry.register(_fwdrev.hessian, runtime.as_inner(lambda f, x: None))


def _backward(ctx, pb, dy, args):
    """Run pullback pb with seed dy; the cotangents of args, in the shape SPEC §3 gives."""
    if ctx.lock is None:
        return _backward_run(ctx, pb, dy, args)
    with ctx.lock:
        return _backward_run(ctx, pb, dy, args)


def _backward_run(ctx, pb, dy, args):
    H.push(ctx)
    ctx.begin()
    try:
        bars = pb(dy)
        return _results(ctx, args, bars), bars
    finally:
        ctx.end()
        H.pop()


def _results(ctx, args, bars):
    """The cotangents of `args` as `gradient` hands them back, from the pullback's `bars`."""
    if len(args) == 1:
        b = bars[1]
        r = _finish(H.take_deep(ctx, args[0], b) if ctx.heap else b, args[0])
        # (an array or a number is its own already; what holds arrays is looked into)
        return (r,) if type(r) is np.ndarray or type(r) is float or r is None else _own((r,))
    if ctx.heap:
        return _own(tuple(_finish(H.take_deep(ctx, a, b), a) for a, b in zip(args, bars[1:])))
    return _own(tuple(_finish(b, a) for a, b in zip(args, bars[1:])))


def _check_seed(y, dy):
    if isinstance(y, np.ndarray):
        if dy is None:
            return
        shape = np.shape(dy)
        if shape != y.shape:
            raise ValueError(f"the output has shape {y.shape}, but its cotangent has shape {shape}")


def pullback(f, *args):
    """`(y, back)`: the value of `f(*args)` and its pullback; `back(dy)` returns one tangent per argument.

    >>> y, back = pullback(lambda a, b: a * b, 2.0, 3.0)
    >>> y, back(1.0), back(2.0)
    (6.0, (3.0, 2.0), (6.0, 4.0))
    """
    return _pullback(f, args, None)


def _pullback(f, args, forward):
    ctx = H.Context(lock=threading.RLock(), forward=forward)  # the pullback may be called from several threads
    args, watch = _separate(f, args)
    y, pb = _run(f, args, ctx)
    _check_separate(ctx, watch, f)

    def back(dy):
        _check_seed(y, dy)
        out, _ = _backward(ctx, pb, dy, args)
        return out

    return y, back


def withgradient(f, *args):
    """The value of `f(*args)` and its gradient, as a named tuple `(val, grad)`.

    >>> withgradient(lambda x: x ** 2, 3.0)
    WithGradient(val=9.0, grad=(6.0,))
    """
    if len(args) == 1 and type(args[0]) is Params:
        return params_gradient(f, args[0], with_value=True)
    return _general(f, args, True)


def gradient(f, *args):
    """The gradient of the scalar `f(*args)` with respect to each argument.

    >>> gradient(lambda x: 3*x**2 + 2*x + 1, 5)
    (32.0,)
    >>> from fractions import Fraction
    >>> gradient(lambda x: 3*x**2 + 2*x + 1, Fraction(1, 4))
    (Fraction(7, 2),)
    """
    # the shortest way, for a function of one argument seen before whose forward and backward
    # passes run as one function needing no context (`core.fuse`; `_direct` makes it): the
    # checks are `load.joined_instance`'s, the rest is `_run_joined`, written out (a call less)
    e = _FUNCTIONS_get(id(f))
    # (keyword-only defaults need no check: a function with keyword-only parameters is never joined
    # nor plain)
    if e is None or e.code is not f.__code__ or e.defaults is not f.__defaults__:
        return _gradient(f, *args)
    g1 = e.grad1
    if g1 and len(args) == 1 and type(args[0]) is float:
        # a function of one float: its forward-mode code gives the answer (`core.forward`)
        try:
            r = g1(args[0])  # (not `g1(*args)`: a call with `*` is not inlined, 50 ns more)
        except (runtime.Bail, RecursionError):
            # (forward mode may need more frames than the reverse way for mutual recursion)
            load.never_joined(f, args)
            return _gradient(f, *args)
        if r[0] == 0.0:
            return _reverse(f, args, False)  # a zero, or no gradient at all (see `_reverse`)
        return r
    if e.plain:
        # array code whose gradient is plain code (`core.plain`), compiled under today's rules
        p = e.plain.get(len(args))  # (rule generation, code, plain.run, plain.applies): `load.plain_instance`
        k = p[3](args) if p is not None and p[0] == _generation[0] else 0
        if k:
            r = p[2](p[1], f, args, k)
            if r is not None:
                return r[1]
            e.plain.pop(len(args), None)
    if len(args) == 1:
        x = args[0]
        t = type(x)
        joined = e.joined.get(t)  # `load.joined_key` of one argument
        if joined:
            if t is not float:
                _aliased_read(f, args)
            try:
                y, bars = joined(x)
            except runtime.Bail:
                load.never_joined(f, args)
            else:
                b = bars[1]
                if type(b) is float:
                    return (b,) if b != 0.0 else _reverse(f, args, False)
                return (_finish(b, args[0]),)
    elif e.gradn:
        # one float among ints no cotangent reaches: forward mode (`core.inert.joined_ints`)
        gn = e.gradn.get(tuple(map(type, args)))
        if gn:
            try:
                r = gn(*args)
            except (runtime.Bail, RecursionError):
                load.never_joined(f, args)
                return _gradient(f, *args)
            return _reverse(f, args, False) if _zero_float(r) else r
    return _gradient(f, *args)


# Forward mode and the joined form compute a derivative as a number: 0.0 where no gradient
# reaches an argument (a callee that returns a constant, a branch not taken), where `gradient`
# hands back None (SPEC). A float 0.0 among their results sends the call the reverse way, which
# tells the two apart: a derivative that is exactly zero is rare, and costs one slower call.


def _zero_float(bars):
    return any(type(b) is float and b == 0.0 for b in bars)


def _reverse(f, args, with_value):
    """`gradient` (or `withgradient`) of `f` by the reverse way, neither forward mode nor the
    joined form (see above)."""
    return _general(f, args, with_value, False)


def _general(f, args, with_value, forward=True):
    """`gradient(f, *args)` (with `with_value`, `withgradient`) every other way: `_direct`, else
    a pullback in a context of its own. `forward`: see `_direct`."""
    args, watch = _separate(f, args)
    r = _direct(f, args, with_value, watch, forward)
    if r is not None:
        return r
    ctx = H.Context()
    y, pb = _run(f, args, ctx)
    out, _ = _backward(ctx, pb, _seed(y), args)
    _check_separate(ctx, watch, f)
    return WithGradient(y, out) if with_value else out


def _gradient(f, *args):
    """`gradient(f, *args)` every other way."""
    if len(args) == 1 and type(args[0]) is Params:
        return params_gradient(f, args[0])
    return _general(f, args, False)


# differentiated (a second derivative), `gradient` is `_gradient`: every step of it dpnb can
# differentiate (the joined function's look-up would otherwise be followed too)
registry.register(gradient, lambda f, *args: runtime.call(_gradient, f, *args))


def derivative(f):
    """Zygote's `f'`: the derivative of a scalar function of one scalar.

    >>> derivative(lambda x: 5*x + 3)(10)
    5.0
    """

    def df(x):
        (g,) = gradient(f, x)
        return 0.0 if g is None else g

    df.__name__ = f"derivative_of_{getattr(f, '__name__', 'f')}"
    return df


def jacobian(f, *args):
    """Per argument, the Jacobian of `f(*args)`: shape `np.shape(y) + np.shape(arg)`.

    >>> jacobian(lambda x: x ** 2, np.array([1.0, 2.0]))[0]
    array([[2., 0.],
           [0., 4.]])
    """
    ctx = H.Context()
    args, watch = _separate(f, args)
    y, pb = _run(f, args, ctx)
    _check_separate(ctx, watch, f)
    ys = np.shape(y)
    yarr = np.asarray(y)
    n = int(np.prod(ys)) if ys else 1
    n_in = sum(int(np.size(a)) for a in args if _numeric(a))
    if n > 2 * n_in and all(_numeric(a) or isinstance(a, (str, bool)) for a in args):
        # a tall Jacobian: one forward-mode pass per input entry beats one pullback per output
        try:
            return _jacobian_by_columns(f, args, ys)
        except DifferentiationError:
            pass
    out = [None] * len(args)
    rows = [[] for _ in args]
    # a complex output of real inputs: the cotangent 1 gives the derivative of its real part, -1j
    # that of its imaginary part (a real loss changes by Re(y_bar * dy)); a complex input's row
    # is the derivative itself (y_bar * f'(z), for a holomorphic f)
    real_in = any(not np.iscomplexobj(a) for a in args)
    seeds = (1.0, -1j) if yarr.dtype.kind == "c" and real_in else (1.0,)
    for k in range(n):
        row = [None] * len(args)
        for seed in seeds:
            e = np.zeros(n, dtype=np.result_type(yarr.dtype, np.float64))
            e[k] = seed
            dy = e.reshape(ys) if ys else seed
            if isinstance(y, (list, tuple)):
                dy = type(y)(e) if isinstance(y, list) else tuple(e)
            bars, _ = _backward(ctx, pb, dy, args)
            for i, (b, a) in enumerate(zip(bars, args)):
                if b is None:
                    continue
                b = np.asarray(_dense(b, a))
                if b.dtype.kind != "c":
                    b = b.astype(float)
                elif np.iscomplexobj(a) and seed != 1.0:
                    continue  # a complex input's row came whole with the first seed
                if seed != 1.0:
                    b = 1j * b.real
                row[i] = b if row[i] is None else row[i] + b
        for i, a in enumerate(args):
            rows[i].append(None if row[i] is None else row[i].reshape(np.shape(a)))
    for i, a in enumerate(args):
        if all(r is None for r in rows[i]):
            continue
        full = [np.zeros(np.shape(a)) if r is None else r for r in rows[i]]
        out[i] = np.stack(full).reshape(ys + np.shape(a))
    return tuple(out)


def _dense(b, a):
    if isinstance(b, (list, tuple)):
        return [0.0 if x is None else x for x in b]
    return b


def _numeric(a):
    return (isinstance(a, (int, float, np.ndarray, np.number)) and not isinstance(a, bool)) and (
        not isinstance(a, np.ndarray) or a.dtype.kind in "iuf"
    )


def _jacobian_by_columns(f, args, ys):
    out = []
    for i, a in enumerate(args):
        if not _numeric(a):
            out.append(None)
            continue
        cols = []
        size = int(np.size(a))
        for j in range(size):
            e = np.zeros(size)
            e[j] = 1.0
            v = e.reshape(np.shape(a)) if isinstance(a, np.ndarray) else 1.0
            tangents = tuple(v if k == i else None for k in range(len(args)))
            _, ydot = _jvp(f, args, tangents, "columns")
            ydot = np.asarray(ydot)
            cols.append(np.broadcast_to(ydot if ydot.dtype.kind == "c" else ydot.astype(float), ys))
        J = np.stack(cols, axis=-1).reshape(ys + np.shape(a)) if cols else np.zeros(ys + np.shape(a))
        out.append(J)
    return tuple(out)


def adjoint_source(f, *example_args):
    """The generated forward pass and pullback of `f`, as Python source.

    With example arguments, the version specialised for their types; without,
    the one for plain floats.

    >>> print(adjoint_source(lambda x: 5*x + 3))
    def _lambda(x):
        _t1 = 5 * x
        _t2 = _t1 + 3
    <BLANKLINE>
        def lambda_pullback(y_bar):
            if y_bar is None:
                return _nones(2)
            x_bar = 5 * y_bar
            return (None, x_bar)
        return (_t2, lambda_pullback)
    """
    f = _unwrap(f)
    key = tuple(map(type, example_args)) if example_args else None
    return load.adjoint_source(f, key)


def tangent_source(f, *example_args):
    """The code `jvp` runs for `f`, as Python source: the generated adjoint of `f`'s pullback.

    Forward mode is the transpose of the pullback: after `f`'s forward pass and
    pullback (what `adjoint_source` shows), `jvp` differentiates that pullback once
    more, and the pullback of the pullback maps the tangents to `J·tangents`.
    With example arguments, the version for their types (`f`'s forward pass runs
    once on them, as in `jvp`, for the type of its output); without, the one for
    plain floats in and out.

    >>> src = tangent_source(lambda x: 5*x + 3)
    >>> [line.strip() for line in src.splitlines() if line.lstrip().startswith(("def ", "y_bar_bar ="))]
    ['def lambda_pullback(y_bar):', 'def lambda_pullback_pullback(y_bar1):', 'y_bar_bar = 5 * x_bar_bar']
    """
    bound = _bound_arguments(f)
    f = _unwrap(f, "tangent_source")
    if example_args:
        args = bound + example_args
        key = tuple(map(type, args))
        # the adjoint jvp's forward pass uses (a rule's pullback aside), else the one adjoint_source shows
        adj = _adjoint(f, args, True, True) or load.compiled_for(f, key).instance(f)
        H.push(H.Context())
        try:
            y, pb = adj(*args)
        finally:
            H.pop()
        seed = type(higher.zero_like(y))
    else:
        key = (float,) * f.__code__.co_argcount
        pb, seed = load.pullback_of(f, key), float
    inner = load.compiled_for(pb, (seed,))
    types_in = ", ".join(t.__name__ for t in key) or "none"
    header = [
        "# Forward mode is the transpose of the pullback: jvp(f, primals, tangents) runs f's forward",
        "# pass and pullback (what adjoint_source shows), then differentiates u -> <back(u), tangents>",
        "# at u = 0, which gives J·tangents. Below is the pullback of f's pullback, which jvp runs:",
        f"# {pb.__name__} runs again on u, and {inner.pullback_name} takes the tangents",
        f"# (as the cotangent of what {pb.__name__} returns) and returns J·tangents.",
        f"# Specialised for arguments of types: {types_in}; the cotangent u: {seed.__name__}.",
    ]
    return "\n".join(header) + "\n" + ast.unparse(inner.source)


def _bound_arguments(f):
    """What a call of `f` passes before its own arguments: the object of a bound method or a callable object."""
    while True:
        if isinstance(f, types.MethodType):
            return (f.__self__,)
        if isinstance(f, types.FunctionType) or not hasattr(f, "__wrapped__"):
            break
        f = f.__wrapped__
    return () if isinstance(f, types.FunctionType) or not callable(f) else (f,)


def _unwrap(f, what="adjoint_source"):
    while not isinstance(f, types.FunctionType):
        if isinstance(f, types.MethodType):
            f = f.__func__
        elif hasattr(f, "__wrapped__"):
            f = f.__wrapped__
        elif isinstance(getattr(type(f), "__call__", None), types.FunctionType):
            f = type(f).__call__
        else:
            raise TypeError(f"{what} needs a Python function, got {type(f).__name__}")
    return f


def refresh():
    """Empty every cache of compiled adjoints (the IPython extension does this selectively)."""
    load.refresh()


def hessian(f, x):
    """The Hessian of the scalar `f` at `x`: shape `np.shape(x) * 2` (a number for scalar `x`).

    >>> hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    if np.ndim(x) == 0:
        (h,) = gradient(lambda v: gradient(f, v)[0], x)
        return 0.0 if h is None else h
    h = _fwdrev.hessian(f, x)  # array code without loops: forward over reverse, in one batched pass
    if h is not None:
        return h
    (h,) = jacobian(lambda v: gradient(f, v)[0], x)
    if h is None:
        return np.zeros(np.shape(x) * 2)
    return h


def jvp(f, primals, tangents):
    """Forward mode (Zygote's `pushforward`): `(f(*primals), J·tangents)`.

    Computed as the transpose of the pullback: `u -> J^T u` is linear in `u`, so the
    gradient of `u -> <J^T u, tangents>` is `J·tangents` (one pullback, differentiated
    once more). It works wherever `pullback` does: loops, branches, calls, in-place
    changes, and functions that call `gradient` themselves.

    >>> jvp(lambda x: x ** 3, (2.0,), (1.0,))
    (8.0, 12.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(tangents) != len(primals):
        raise ValueError(f"jvp got {len(primals)} primals and {len(tangents)} tangents")
    return _jvp(f, primals, tangents, "jvp")


def _jvp(f, primals, tangents, forward):
    y, back = _pullback(f, primals, forward)

    def pairing(u):
        bars = back(u)
        total = 0.0
        for b, t in zip(bars, tangents):
            total = total + higher.inner(b, t)
        if np.iscomplexobj(total):
            # complex values: pullbacks are transposes (not conjugate transposes), so <u, J t> is
            # Re Σ u·(J t), the real pairing whose gradient in u (∂/∂Re u - i ∂/∂Im u) is J t
            return np.real(total)
        return total

    (ydot,) = gradient(pairing, higher.zero_like(y))
    if ydot is None:
        ydot = higher.zero_like(y)
    if ydot is None:
        ydot = np.zeros(np.shape(y)) if isinstance(y, np.ndarray) else 0.0
    return y, ydot
