"""The public entry points: gradient, withgradient, pullback, derivative, jacobian, adjoint_source."""
import numbers
import sys
from collections import namedtuple
from fractions import Fraction

import numpy as np

from .core import load, runtime
from .errors import DifferentiationError, NonScalarOutputError
from .params import Params, params_gradient
import types

from .tangents import AbstractZero, Tangent

WithGradient = namedtuple("WithGradient", ["val", "grad"])


_depth = [False]


def _ensure_depth():
    """Adjoints add a frame per call: give the recursion limit room for what the primal can do."""
    if not _depth[0]:
        _depth[0] = True
        limit = sys.getrecursionlimit()
        if limit < 3000:
            sys.setrecursionlimit(3 * limit)


def _forward(f, args):
    if not _depth[0]:
        _ensure_depth()
    return runtime.call_top(f, *args)


_call = runtime.call_top
_CACHE = load.CACHE
_FunctionType = types.FunctionType
_RESTORED = runtime.RESTORED
_STORE = runtime.STORE


def _after_backward():
    """Put back array contents the backward pass restored, and clear the store of cotangents."""
    for a, idx, new in reversed(_RESTORED):
        a[idx] = new
    _RESTORED.clear()
    _STORE.clear()


def _backward(pb, dy):
    """Run a pullback, then tidy up after it (see `_after_backward`)."""
    try:
        return pb(dy)
    finally:
        if _RESTORED or _STORE:
            _after_backward()


def _seed(y):
    t = type(y)
    if t is float or t is int or t is np.float64:
        return 1.0
    if isinstance(y, Fraction):
        return Fraction(1)
    if isinstance(y, np.ndarray):
        if y.ndim == 0 and not np.iscomplexobj(y):
            return np.ones((), dtype=y.dtype if np.issubdtype(y.dtype, np.floating) else np.float64)
        raise NonScalarOutputError(y)
    if isinstance(y, (np.floating, np.integer)):
        return y.dtype.type(1) if isinstance(y, np.floating) else 1.0
    if isinstance(y, numbers.Real) and not isinstance(y, bool):
        return 1.0
    raise NonScalarOutputError(y)


def _finish(bar, arg):
    """What gradient hands back for one argument: None for no gradient, plain numbers for numbers."""
    tb = type(bar)
    if tb is float:
        return bar
    if tb is np.ndarray and type(arg) is np.ndarray:
        # internal cotangents may be broadcast views: hand back an array of its own
        return bar if bar.flags.writeable else bar.copy()
    if bar is None or isinstance(bar, AbstractZero):
        return None
    if isinstance(arg, bool) or isinstance(arg, (str, bytes)):
        return None
    if type(arg) in (float, int) and isinstance(bar, np.generic):
        return float(bar) if not np.iscomplexobj(bar) else complex(bar)
    if type(arg) in (float, int) and isinstance(bar, np.ndarray) and bar.ndim == 0:
        return float(bar)
    if type(arg) is int and type(bar) is int:
        return float(bar)
    return complete(bar, arg)


def complete(bar, primal):
    """A cotangent in the shape SPEC §3 gives: objects get every field, in their order."""
    if bar is None or isinstance(bar, AbstractZero):
        return None
    t = type(bar)
    if t is Tangent:
        if isinstance(primal, types.FunctionType) or primal is None:
            return bar
        names = _field_names(primal)
        fields = {n: complete(bar.fields.get(n), getattr(primal, n, None)) for n in names}
        for n, b in bar.fields.items():
            if n not in fields:
                fields[n] = complete(b, getattr(primal, n, None))
        return Tangent(type(primal), fields)
    if t is dict and isinstance(primal, dict):
        keys = [k for k in primal if k in bar] + [k for k in bar if k not in primal]
        return {k: complete(bar[k], primal.get(k)) for k in keys if bar[k] is not None}
    if t in (list, tuple) and isinstance(primal, (list, tuple)) and len(bar) == len(primal):
        return t(complete(b, p) for b, p in zip(bar, primal))
    if isinstance(bar, tuple) and hasattr(bar, "_fields") and isinstance(primal, tuple):
        return type(bar)(*(complete(b, p) for b, p in zip(bar, primal)))
    if type(primal) in (float, int) and isinstance(bar, np.generic):
        return float(bar)
    if type(bar) is np.ndarray and not bar.flags.writeable:
        bar = bar.copy()
    if type(primal) is np.ndarray and type(bar) is not np.ndarray and np.ndim(bar) == 0:
        dt = primal.dtype if primal.dtype.kind in "fc" else np.float64
        return np.asarray(bar, dtype=dt).reshape(primal.shape)
    return bar


def _field_names(obj):
    import dataclasses

    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj)]
    names = list(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        for s in getattr(klass, "__slots__", ()):
            if s not in names and not s.startswith("__"):
                names.append(s)
    return names


def _finish_all(bars, args):
    return tuple(map(_finish, bars, args))


def pullback(f, *args):
    """`(y, back)`: the value of `f(*args)` and its pullback; `back(dy)` returns one tangent per argument.

    >>> y, back = pullback(lambda a, b: a * b, 2.0, 3.0)
    >>> y, back(1.0), back(2.0)
    (6.0, (3.0, 2.0), (6.0, 4.0))
    """
    y, pb = _forward(f, args)

    def back(dy):
        bars = _backward(pb, dy)
        return _finish_all(bars[1:], args)

    return y, back


def withgradient(f, *args):
    """The value of `f(*args)` and its gradient, as a named tuple `(val, grad)`.

    >>> withgradient(lambda x: x ** 2, 3.0)
    WithGradient(val=9.0, grad=(6.0,))
    """
    if len(args) == 1 and type(args[0]) is Params:
        return params_gradient(f, args[0], with_value=True)
    y, pb = _forward(f, args)
    bars = _backward(pb, _seed(y))
    return WithGradient(y, _finish_all(bars[1:], args))


def gradient(f, *args):
    """The gradient of the scalar `f(*args)` with respect to each argument.

    >>> gradient(lambda x: 3*x**2 + 2*x + 1, 5)
    (32.0,)
    >>> from fractions import Fraction
    >>> gradient(lambda x: 3*x**2 + 2*x + 1, Fraction(1, 4))
    (Fraction(7, 2),)
    """
    if len(args) == 1:
        a = args[0]
        if type(a) is Params:
            return params_gradient(f, a)
        # the common case, kept short: one argument
        if not _depth[0]:
            _ensure_depth()
        t = None
        if type(f) is _FunctionType:
            per = _CACHE.get(f.__code__)
            adj = per.get((type(a),)) if per is not None else None
            t = adj.fast if adj is not None else None
        if t is not None and f.__defaults__ is t.__defaults__:
            y, pb = t(a)  # the compiled adjoint, straight away
        else:
            y, pb = _call(f, a)
        ty = type(y)
        try:
            bars = pb(1.0 if ty is float or ty is int else _seed(y))
        finally:
            if _RESTORED or _STORE:
                _after_backward()
        b = bars[1]
        return (b,) if type(b) is float and type(a) is float else (_finish(b, a),)
    y, pb = _forward(f, args)
    bars = _backward(pb, _seed(y))
    return _finish_all(bars[1:], args)


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
    y, pb = _forward(f, args)
    ys = np.shape(y)
    yarr = np.asarray(y)
    n = int(np.prod(ys)) if ys else 1
    n_in = sum(int(np.size(a)) for a in args if _numeric(a))
    if n > 2 * n_in and all(_numeric(a) or isinstance(a, (str, bool)) for a in args):
        # a tall Jacobian: one forward-mode pass per input entry beats one pullback per output
        # (f then runs once per input entry as well)
        try:
            return _jacobian_by_columns(f, args, ys)
        except DifferentiationError:
            pass
    out = [None] * len(args)
    rows = [[] for _ in args]
    for k in range(n):
        e = np.zeros(n, dtype=np.result_type(yarr.dtype, np.float64))
        e[k] = 1.0
        dy = e.reshape(ys) if ys else 1.0
        if isinstance(y, (list, tuple)):
            dy = type(y)(e) if isinstance(y, list) else tuple(e)
        bars = _backward(pb, dy)[1:]
        for i, (b, a) in enumerate(zip(bars, args)):
            rows[i].append(None if b is None else np.asarray(b, dtype=float).reshape(np.shape(a)))
    for i, a in enumerate(args):
        if all(r is None for r in rows[i]):
            continue
        full = [np.zeros(np.shape(a)) if r is None else r for r in rows[i]]
        out[i] = np.stack(full).reshape(ys + np.shape(a))
    return tuple(out)


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
            _, ydot = jvp(f, args, tangents)
            cols.append(np.broadcast_to(np.asarray(ydot, dtype=float), ys))
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
            x_bar = 5 * y_bar
            return (None, x_bar)
        return (_t2, lambda_pullback)
    """
    f = _unwrap(f)
    key = tuple(map(type, example_args)) if example_args else None
    return load.adjoint_source(f, key)


def _unwrap(f):
    import types

    while not isinstance(f, types.FunctionType):
        if isinstance(f, types.MethodType):
            f = f.__func__
        elif hasattr(f, "__wrapped__"):
            f = f.__wrapped__
        elif isinstance(getattr(type(f), "__call__", None), types.FunctionType):
            f = type(f).__call__
        else:
            raise TypeError(f"adjoint_source needs a Python function, got {type(f).__name__}")
    return f


def refresh():
    """Empty every cache of compiled adjoints (the IPython extension does this selectively)."""
    load.refresh()


def hessian(f, x):
    """The Hessian of the scalar `f` at `x`: shape `np.shape(x) * 2` (a number for scalar `x`).

    dpnb differentiates its own generated gradient code (reverse over reverse),
    so loops, branches, recursion and calls are all fine.

    >>> hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    if np.ndim(x) == 0:
        (h,) = gradient(lambda v: gradient(f, v)[0], x)
        return 0.0 if h is None else h
    (h,) = jacobian(lambda v: gradient(f, v)[0], x)
    if h is None:
        return np.zeros(np.shape(x) * 2)
    return h


def jvp(f, primals, tangents):
    """Forward mode (Zygote's `pushforward`): `(f(*primals), J·tangents)`.

    A tangent-mode transform of `f` (see `dpnb.core.forward`): one run of `f`
    carries the tangents along, through loops, branches and calls.

    >>> jvp(lambda x: x ** 3, (2.0,), (1.0,))
    (8.0, 12.0)
    """
    from .core import forward

    primals, tangents = tuple(primals), tuple(tangents)
    if not _depth[0]:
        _ensure_depth()
    y, ydot = forward.call(f, None, primals, tangents)
    if ydot is None:
        ydot = np.zeros(np.shape(y)) if isinstance(y, np.ndarray) else 0.0
    return y, ydot


def _jvp_by_pullback(f, primals, tangents):
    """J·tangents as the gradient of the (linear) pullback `u -> <back(u), tangents>`."""
    from .core.higher import call_ho

    primals, tangents = tuple(primals), tuple(tangents)
    y, pb = call_ho(f, *primals)
    u0 = np.zeros(np.shape(y)) if isinstance(y, np.ndarray) else 0.0 * y

    def pushed(u):
        return _pairing(pb(u), tangents)

    (ydot,) = gradient(pushed, u0)
    return y, ydot


def _pairing(bars, tangents):
    total = 0.0
    for b, t in zip(bars[1:], tangents):
        total = total + _inner(b, t)
    return total


def _inner(b, t):
    """<b, t> for a cotangent and a tangent of the same structure."""
    if b is None or t is None:
        return 0.0
    if isinstance(b, (list, tuple)) and isinstance(t, (list, tuple)):
        total = 0.0
        for bi, ti in zip(b, t):
            total = total + _inner(bi, ti)
        return total
    return np.sum(b * t)


from .core import higher as _higher  # noqa: E402

_higher.install(gradient)
