"""Checking gradients against finite differences: for tests, and for your own rules.

- `numerical_gradient(f, *args)`: central differences of a scalar `f`, shaped like
  the arguments (numbers, arrays, tuples, lists, dicts, named tuples, objects);
- `gradcheck(f, *args)`: `dpnb.gradient` against `numerical_gradient` (along a
  few random directions when the inputs are big);
- `check_rrule(f, *args)`: the registered rule of `f` against `f` itself and its
  pullback against finite differences, vector-Jacobian products along random
  directions, plus the kinds, shapes and dtypes of the cotangents.

Complex numbers follow dpnb's convention: a cotangent `z_bar` pairs with a
perturbation `dz` as `Re(sum(z_bar * dz))`.
"""
import copy
import dataclasses
import numbers
from fractions import Fraction

import numpy as np

from .tangents import AbstractZero, NotImplementedTangent, Tangent

__all__ = ["check_rrule", "flatten", "gradcheck", "numerical_gradient"]


# --- flattening values to real vectors --------------------------------------------------


def _fields(x):
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [f.name for f in dataclasses.fields(x)]
    d = getattr(x, "__dict__", None)
    return list(d) if isinstance(d, dict) else None


def _is_leaf_number(x):
    return isinstance(x, numbers.Number) and not isinstance(x, (bool, np.bool_))


def flatten(x):
    """`(vector, unflatten)`: the real entries of `x` as a float64 vector, and the way back.

    `unflatten(v)` builds a new value like `x` (never touching `x`) with entries from
    `v`; `unflatten(v, cotangent=True)` builds a cotangent instead (a float for an
    int, a `Tangent` for an object, `None` for leaves with no tangent). A complex
    entry takes two slots (real and imaginary parts).

    >>> v, unflatten = flatten({"a": 1.0, "b": (2, np.array([3.0, 4.0]))})
    >>> v
    array([1., 2., 3., 4.])
    >>> unflatten(v * 10)
    {'a': 10.0, 'b': (20.0, array([30., 40.]))}
    """
    parts = []
    builder = _flatten_into(x, parts)
    vec = np.concatenate(parts) if parts else np.zeros(0)

    def unflatten(v, cotangent=False):
        pos = [0]
        return builder(np.asarray(v, dtype=float), pos, cotangent)

    return vec, unflatten


def _flatten_into(x, parts):
    """Append `x`'s entries to `parts`; return `build(v, pos, cotangent)`."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "iufc":
            return lambda v, pos, cot: None if cot else x
        complex_ = x.dtype.kind == "c"
        n = x.size
        if complex_:
            parts.append(np.stack([x.real.ravel(), x.imag.ravel()], -1).ravel().astype(float))
        else:
            parts.append(x.astype(float).ravel())
        dtype = x.dtype if x.dtype.kind in "fc" else np.dtype(np.float64)

        def build_array(v, pos, cot):
            k = 2 * n if complex_ else n
            chunk = v[pos[0] : pos[0] + k]
            pos[0] += k
            if complex_:
                pairs = chunk.reshape(-1, 2)
                out = pairs[:, 0] - 1j * pairs[:, 1] if cot else pairs[:, 0] + 1j * pairs[:, 1]
            else:
                out = chunk
            return out.reshape(x.shape).astype(dtype if cot or x.dtype.kind in "fc" else np.float64)

        return build_array
    if _is_leaf_number(x):
        complex_ = isinstance(x, (complex, np.complexfloating))
        parts.append(np.array([x.real, x.imag] if complex_ else [float(x)], dtype=float))

        def build_number(v, pos, cot):
            if complex_:
                re, im = v[pos[0]], v[pos[0] + 1]
                pos[0] += 2
                return complex(re, -im if cot else im)
            val = float(v[pos[0]])
            pos[0] += 1
            if isinstance(x, np.generic):
                return type(x)(val)
            return val

        return build_number
    if isinstance(x, (list, tuple)):
        builders = [_flatten_into(e, parts) for e in x]

        def build_sequence(v, pos, cot):
            items = [b(v, pos, cot) for b in builders]
            if isinstance(x, list):
                return items
            if hasattr(x, "_fields"):
                return type(x)(*items)
            return tuple(items)

        return build_sequence
    if isinstance(x, dict):
        builders = [(k, _flatten_into(e, parts)) for k, e in x.items()]

        def build_dict(v, pos, cot):
            out = {k: b(v, pos, cot) for k, b in builders}
            if cot:
                return {k: e for k, e in out.items() if e is not None}
            new = copy.copy(x)
            new.update(out)
            return new

        return build_dict
    names = _fields(x) if not callable(x) and not isinstance(x, (str, bytes, type)) else None
    if names:
        builders = [(n, _flatten_into(getattr(x, n), parts)) for n in names]

        def build_object(v, pos, cot):
            values = {n: b(v, pos, cot) for n, b in builders}
            if cot:
                return Tangent(type(x), values)
            new = copy.copy(x)
            for n, val in values.items():
                object.__setattr__(new, n, val)
            return new

        return build_object
    return lambda v, pos, cot: None if cot else x


def _flatten_cotangent(t, x):
    """The cotangent `t` of `x` as a vector aligned with `flatten(x)` (None and missing = 0)."""
    parts = []
    _cot_into(t, x, parts)
    return np.concatenate(parts) if parts else np.zeros(0)


def _cot_into(t, x, parts):
    if isinstance(t, AbstractZero):
        t = None
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "iufc":
            return
        if t is None:
            parts.append(np.zeros(x.size * (2 if x.dtype.kind == "c" else 1)))
            return
        t = np.broadcast_to(np.asarray(t), x.shape)
        if x.dtype.kind == "c":
            parts.append(np.stack([t.real.ravel(), -t.imag.ravel()], -1).ravel().astype(float))
        else:
            parts.append(np.real(t).astype(float).ravel())
        return
    if _is_leaf_number(x):
        if isinstance(x, (complex, np.complexfloating)):
            t = 0j if t is None else complex(t)
            parts.append(np.array([t.real, -t.imag]))
        else:
            parts.append(np.array([0.0 if t is None else float(np.real(t))]))
        return
    if isinstance(x, (list, tuple)):
        for i, e in enumerate(x):
            _cot_into(None if t is None else t[i], e, parts)
        return
    if isinstance(x, dict):
        for k, e in x.items():
            _cot_into(None if t is None else t.get(k), e, parts)
        return
    names = _fields(x) if not callable(x) and not isinstance(x, (str, bytes, type)) else None
    if names:
        for n in names:
            sub = None
            if isinstance(t, Tangent):
                sub = t.fields.get(n)
            elif t is not None:
                sub = getattr(t, n, None)
            _cot_into(sub, getattr(x, n), parts)


# --- numerical gradients ------------------------------------------------------------------


def _scalar(y):
    y = np.asarray(y)
    if y.size != 1:
        raise ValueError(f"f must return a scalar, got shape {y.shape}")
    return float(np.real(y.reshape(())))


def numerical_gradient(f, *args, eps=1e-6):
    """Central differences of the scalar `f(*args)` with respect to each positional argument.

    Returns a tuple shaped like `args`: floats for numbers (ints included), float
    arrays for arrays, the same containers for tuples/lists/dicts, `Tangent`s for
    objects with fields, `None` for leaves with no tangent (str, bool, functions).

    >>> [round(g, 6) for g in numerical_gradient(lambda x, y: x * y ** 2, 3.0, 2)]
    [4.0, 12.0]
    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, 2.0]))
    (array([2., 4.]),)
    """
    flats = [flatten(a) for a in args]
    grads = []
    for i, (vec, unflatten) in enumerate(flats):
        g = np.zeros(vec.shape)
        for j in range(vec.size):
            step = np.zeros(vec.shape)
            step[j] = eps
            hi = list(args)
            lo = list(args)
            hi[i] = unflatten(vec + step)
            lo[i] = unflatten(vec - step)
            g[j] = (_scalar(f(*hi)) - _scalar(f(*lo))) / (2 * eps)
        grads.append(unflatten(g, cotangent=True))
    return tuple(grads)


# --- gradcheck ----------------------------------------------------------------------------


def _close(a, n, rtol, atol):
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(n)) <= atol + rtol * np.abs(np.asarray(n))))


def gradcheck(f, *args, rtol=1e-5, atol=1e-6, eps=1e-6, directions=None, seed=0):
    """Check `dpnb.gradient(f, *args)` against central differences; True or AssertionError.

    With more than 200 scalar entries in all, or when `directions` is given, the
    gradient is compared along that many random directions (3 by default) instead
    of entry by entry: `<grad, v>` against `(f(x + eps v) - f(x - eps v)) / 2 eps`.

    >>> gradcheck(lambda x: np.sum(np.sin(x) * x), np.array([0.5, 1.5]))
    True
    """
    from . import gradient

    analytic = gradient(f, *args)
    flats = [flatten(a) for a in args]
    total = sum(v.size for v, _ in flats)
    g_vec = np.concatenate([_flatten_cotangent(t, a) for t, a in zip(analytic, args)] or [np.zeros(0)])
    if directions is None and total <= 200:
        numeric = numerical_gradient(f, *args, eps=eps)
        n_vec = np.concatenate([_flatten_cotangent(t, a) for t, a in zip(numeric, args)] or [np.zeros(0)])
        if not _close(g_vec, n_vec, rtol, atol):
            raise AssertionError(
                f"gradient mismatch for {getattr(f, '__name__', f)}:\n"
                f"  dpnb.gradient:       {analytic!r}\n"
                f"  numerical gradient:  {numeric!r}\n"
                f"  largest difference:  {np.max(np.abs(g_vec - n_vec)):.3g}"
            )
        return True
    rng = np.random.default_rng(seed)
    for k in range(directions or 3):
        v = rng.standard_normal(total)
        hi, lo, start = [], [], 0
        for vec, unflatten in flats:
            piece = v[start : start + vec.size]
            start += vec.size
            hi.append(unflatten(vec + eps * piece))
            lo.append(unflatten(vec - eps * piece))
        numeric = (_scalar(f(*hi)) - _scalar(f(*lo))) / (2 * eps)
        analytic_dir = float(g_vec @ v)
        if not _close(analytic_dir, numeric, rtol, atol * np.sqrt(total)):
            raise AssertionError(
                f"gradient mismatch for {getattr(f, '__name__', f)} along random direction {k}:\n"
                f"  <dpnb.gradient, v> = {analytic_dir!r}\n"
                f"  finite difference  = {numeric!r}\n"
                f"  dpnb.gradient: {analytic!r}"
            )
    return True


# --- check_rrule --------------------------------------------------------------------------


def _random_like(x, rng):
    """A random cotangent-shaped value like the output `x` (None where `x` has no tangent)."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "iufc":
            return None
        dtype = x.dtype if x.dtype.kind in "fc" else np.dtype(np.float64)
        r = rng.standard_normal(x.shape)
        if dtype.kind == "c":
            r = r + 1j * rng.standard_normal(x.shape)
        return r.astype(dtype)
    if _is_leaf_number(x):
        if isinstance(x, (complex, np.complexfloating)):
            return complex(rng.standard_normal(), rng.standard_normal())
        if isinstance(x, Fraction):
            return Fraction(int(rng.integers(-9, 10)), int(rng.integers(1, 5)))
        r = float(rng.standard_normal())
        return type(x)(r) if isinstance(x, np.floating) else r
    if isinstance(x, (list, tuple)):
        items = [_random_like(e, rng) for e in x]
        if isinstance(x, list):
            return items
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, dict):
        return {k: _random_like(e, rng) for k, e in x.items()}
    return None


def _pair(t, y):
    """`Re <t, y>`, the pairing of a cotangent with a value (or a perturbation)."""
    return float(np.dot(_flatten_cotangent(t, y), flatten(y)[0])) if t is not None else 0.0


def _values_equal(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)) and np.shape(a) == np.shape(b)
    except TypeError:
        return bool(np.array_equal(np.asarray(a), np.asarray(b))) and np.shape(a) == np.shape(b)


def _default_wrt(args):
    def differentiable(x):
        if isinstance(x, np.ndarray):
            return x.dtype.kind in "fc"
        if isinstance(x, (float, complex, np.inexact, Fraction)) and not isinstance(x, bool):
            return True
        if isinstance(x, (list, tuple)):
            return len(x) > 0 and all(differentiable(e) or isinstance(e, (int, np.integer)) for e in x) and any(
                differentiable(e) for e in x
            )
        if isinstance(x, dict):
            return any(differentiable(e) for e in x.values())
        return False

    return [i for i, a in enumerate(args) if differentiable(a)]


def _check_kind(bar, x, where):
    """The cotangent `bar` of `x` has the kind SPEC §3 asks for (a `NotImplementedTangent` is
    the rule's word that it does not know this one)."""
    if bar is None or isinstance(bar, NotImplementedTangent):
        return
    if isinstance(x, np.ndarray):
        assert isinstance(bar, np.ndarray), f"{where}: cotangent of an ndarray is a {type(bar).__name__}"
        assert bar.shape == x.shape, f"{where}: cotangent shape {bar.shape} != argument shape {x.shape}"
        want = x.dtype if x.dtype.kind in "fc" else np.dtype(np.float64)
        assert bar.dtype == want, f"{where}: cotangent dtype {bar.dtype}, expected {want}"
    elif isinstance(x, (bool, np.bool_, str)):
        raise AssertionError(f"{where}: a {type(x).__name__} argument got cotangent {bar!r}")
    elif isinstance(x, Fraction):
        assert isinstance(bar, numbers.Number), f"{where}: cotangent {bar!r} of a Fraction"
    elif _is_leaf_number(x):
        assert isinstance(bar, numbers.Number) or (
            isinstance(bar, np.ndarray) and bar.ndim == 0
        ), f"{where}: cotangent of a number is a {type(bar).__name__}"
        if not isinstance(x, (complex, np.complexfloating)):
            assert not np.iscomplexobj(bar), f"{where}: complex cotangent {bar!r} for a real argument"
    elif isinstance(x, list):
        assert isinstance(bar, list) and len(bar) == len(x), f"{where}: cotangent of a list: {bar!r}"
        for i, (b, e) in enumerate(zip(bar, x)):
            _check_kind(b, e, f"{where}[{i}]")
    elif isinstance(x, tuple):
        assert isinstance(bar, tuple) and len(bar) == len(x), f"{where}: cotangent of a tuple: {bar!r}"
        if hasattr(x, "_fields"):
            assert type(bar) is type(x), f"{where}: cotangent of a {type(x).__name__} is a {type(bar).__name__}"
        for i, (b, e) in enumerate(zip(bar, x)):
            _check_kind(b, e, f"{where}[{i}]")
    elif isinstance(x, dict):
        assert isinstance(bar, dict) and set(bar) <= set(x), f"{where}: cotangent of a dict: {bar!r}"


def _materialize(v):
    """Iterators (zip, map, ...) and dict views as lists: their rules return lists."""
    import collections.abc

    if isinstance(v, (collections.abc.Iterator, collections.abc.MappingView)):
        return list(v)
    return v


def _copy_args(args):
    return [copy.deepcopy(a) for a in args]


def _perturbed(x, v, eps):
    """`x + eps * v`, computed in double precision (float32 arrays become float64)."""
    vec, unflatten = flatten(_upcast(x))
    return unflatten(vec + eps * v)


def _upcast(x):
    if isinstance(x, np.ndarray) and x.dtype in (np.float16, np.float32):
        return x.astype(np.float64)
    if isinstance(x, np.ndarray) and x.dtype == np.complex64:
        return x.astype(np.complex128)
    if isinstance(x, (np.float16, np.float32)):
        return float(x)
    if isinstance(x, list):
        return [_upcast(e) for e in x]
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_upcast(e) for e in x)
    return x


def check_rrule(f, *args, rtol=1e-5, atol=1e-6, eps=1e-6, wrt=None, seed=0, output_tangent=None, **kwargs):
    """Check the rule registered for `f` at `args` (and keyword arguments `kwargs`).

    1. the rule's `y` equals `f(*args, **kwargs)`;
    2. the pullback returns the callable's tangent and one cotangent per positional
       argument, of the argument's kind (shape, and dtype: float32 stays float32,
       integer arrays get float64);
    3. for every argument in `wrt` (default: the floating/complex ones), along a
       random direction `v`: `<y_bar, J v>` by central differences equals
       `<pullback(y_bar), v>`, for a random `y_bar` (or `output_tangent`);
    4. for tuple/list outputs, the pullback also accepts `None` entries.

    Returns True, or raises AssertionError.

    >>> import math
    >>> check_rrule(math.sin, 0.5)
    True
    >>> check_rrule(np.sum, np.ones((2, 3)), axis=0)
    True
    """
    from .rules.registry import lookup, CONSTANT

    rule = lookup(f)
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)
    if rule is None:
        raise AssertionError(f"no rule registered for {name}")
    if rule is CONSTANT:
        raise AssertionError(f"{name} is registered as constant: nothing to check")
    rng = np.random.default_rng(seed)
    y, pullback = rule(*_copy_args(args), **kwargs)
    y_ref = _materialize(f(*_copy_args(args), **kwargs))
    assert _values_equal(y, y_ref), f"{name}: the rule computes {y!r}, but {name} gives {y_ref!r}"
    y_bar = _random_like(y, rng) if output_tangent is None else output_tangent
    bars = pullback(y_bar)
    assert isinstance(bars, tuple), f"{name}: the pullback returned a {type(bars).__name__}, not a tuple"
    assert len(bars) == len(args) + 1, (
        f"{name}: the pullback returned {len(bars)} tangents for {len(args)} positional arguments "
        "(expected the callable's own tangent first, then one per argument)"
    )
    for i, (b, a) in enumerate(zip(bars[1:], args)):
        _check_kind(b, a, f"{name}: argument {i}")
    for i in _default_wrt(args) if wrt is None else wrt:
        vec, _ = flatten(args[i])
        if vec.size == 0:
            continue
        v = rng.standard_normal(vec.size)
        hi, lo = [_upcast(a) for a in _copy_args(args)], [_upcast(a) for a in _copy_args(args)]
        hi[i] = _perturbed(args[i], v, eps)
        lo[i] = _perturbed(args[i], v, -eps)
        numeric = (_pair(y_bar, _materialize(f(*hi, **kwargs))) - _pair(y_bar, _materialize(f(*lo, **kwargs)))) / (
            2 * eps
        )
        analytic = float(_flatten_cotangent(bars[i + 1], args[i]) @ v)
        if not abs(analytic - numeric) <= atol + rtol * max(abs(numeric), abs(analytic)):
            raise AssertionError(
                f"{name}: pullback of argument {i} disagrees with finite differences along a random "
                f"direction: <x_bar, v> = {analytic!r}, numerical <y_bar, J v> = {numeric!r}\n"
                f"  y_bar = {y_bar!r}\n  x_bar = {bars[i + 1]!r}"
            )
    if isinstance(y, (list, tuple)) and len(y) > 1 and output_tangent is None:
        partial_bar = list(y_bar)
        partial_bar[0] = None
        partial_bar = type(y_bar)(*partial_bar) if hasattr(y_bar, "_fields") else type(y_bar)(partial_bar)
        bars = pullback(partial_bar)
        assert len(bars) == len(args) + 1, f"{name}: wrong number of tangents with a None output entry"
    return True


def check_attribute_rule(cls, name, obj, rtol=1e-5, atol=1e-6, eps=1e-6, seed=0):
    """`check_rrule` for a registered attribute rule (`ndarray.T`, ...): rule(obj) -> (y, pullback)."""
    from .rules.registry import ATTRIBUTE_RULES

    rule = ATTRIBUTE_RULES[(cls, name)]
    rng = np.random.default_rng(seed)
    y, pullback = rule(copy.deepcopy(obj))
    assert _values_equal(y, getattr(obj, name)), f"{cls.__name__}.{name}: rule gives {y!r}"
    y_bar = _random_like(y, rng)
    bars = pullback(y_bar)
    assert len(bars) == 2, f"{cls.__name__}.{name}: the pullback must return (None, obj_bar)"
    _check_kind(bars[1], obj, f"{cls.__name__}.{name}")
    vec, _ = flatten(obj)
    v = rng.standard_normal(vec.size)
    numeric = (
        _pair(y_bar, getattr(_perturbed(obj, v, eps), name)) - _pair(y_bar, getattr(_perturbed(obj, v, -eps), name))
    ) / (2 * eps)
    analytic = float(_flatten_cotangent(bars[1], obj) @ v)
    assert abs(analytic - numeric) <= atol + rtol * max(abs(numeric), abs(analytic)), (
        f"{cls.__name__}.{name}: <x_bar, v> = {analytic!r}, numerical = {numeric!r}"
    )
    return True
