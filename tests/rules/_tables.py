"""The shape of the rule tables (one row per rule case) and how their inputs are drawn.

A row names the callable, its positional arguments (specs drawn by hypothesis, or
plain values passed as they are), keyword arguments and tolerances. Each test
module (one per rule file: `test_numpy_ufuncs.py` for `dpnb/rules/numpy/ufuncs.py`)
exposes its rows as `CASES` and checks them with `table_test`; `test_coverage`
checks every rule has a row in some table.
"""
import collections.abc
import itertools
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dpnb.rules.registry import RULES
from dpnb.testing import (
    _check_kind,
    _copy_args,
    _default_wrt,
    _flatten_cotangent,
    _materialize,
    _pair,
    _perturbed,
    _random_like,
    _upcast,
    _values_equal,
    check_rrule,
    flatten,
)

_FLOAT = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False)

#: name -> (low, high) for the plain interval domains
INTERVALS = {
    "real": (-2.0, 2.0),
    "pos": (0.2, 3.0),
    "unit": (-0.8, 0.8),
    "gt1": (1.2, 3.0),
    "small": (-0.5, 0.5),
    # below "gt1": x % y and fmod(x, y) stay away from their jumps
    "frac": (0.1, 1.1),
    "neg": (-3.0, -1.0),
    "tiny": (0.1, 0.55),
}


@dataclass(frozen=True)
class A:
    """An array argument: shape, domain, dtype."""

    shape: tuple
    domain: str = "real"
    dtype: object = np.float64

    def strategy(self):
        return array_strategy(self.shape, self.domain, self.dtype)


@dataclass(frozen=True)
class S:
    """A Python number argument drawn from a domain (`complex` for complex numbers)."""

    domain: str = "real"

    def strategy(self):
        if self.domain in ("complex", "cright"):
            part = st.floats(-2.0, 2.0, **_FLOAT)
            re = part.map(_away_from_zero) if self.domain == "complex" else st.floats(0.3, 2.0, **_FLOAT)
            return st.builds(complex, re, part)
        if self.domain == "nonzero":
            return st.floats(-2.0, 2.0, **_FLOAT).map(_away_from_zero)
        lo, hi = INTERVALS[self.domain]
        return st.floats(lo, hi, **_FLOAT)


@dataclass(frozen=True)
class N:
    """A NumPy scalar argument: `N(np.float32)`, `N(np.complex128, "complex")`."""

    type: type
    domain: str = "real"

    def strategy(self):
        return S(self.domain).strategy().map(self.type)


@dataclass(frozen=True)
class Seq:
    """A list or tuple of specs."""

    kind: type
    items: tuple

    def strategy(self):
        return st.tuples(*[strategy_of(i) for i in self.items]).map(self.kind)


def _away_from_zero(v):
    return v if abs(v) >= 0.3 else 0.3 + abs(v)


def array_strategy(shape, domain, dtype=np.float64):
    size = int(np.prod(shape)) if shape else 1
    if domain == "int":
        return hnp.arrays(np.int64, shape, elements=st.integers(-4, 4))
    if domain in ("complex", "cright"):
        # the real part away from 0, so that |z| is differentiable ("cright": positive, away from
        # the branch cut of angle and log)
        if domain == "complex":
            real = st.floats(-2.0, 2.0, **_FLOAT).map(_away_from_zero)
        else:
            real = st.floats(0.3, 2.0, **_FLOAT)
        re = hnp.arrays(np.float64, shape, elements=real)
        im = hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, **_FLOAT))
        cdtype = np.complex64 if dtype in (np.float32, np.complex64) else np.complex128
        return st.tuples(re, im).map(lambda p: (p[0] + 1j * p[1]).astype(cdtype))
    if domain == "nonzero":
        return hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, **_FLOAT).map(_away_from_zero)).map(
            lambda x: x.astype(dtype)
        )
    if domain in ("distinct", "distinct_pos"):
        # well separated values (ties break finite differences), in a random order
        noise = hnp.arrays(np.float64, shape, elements=st.floats(0.0, 0.1, **_FLOAT))
        perm = st.permutations(list(range(size)))
        # never 0 (|x| has a kink there): the grid is offset from it
        shift = 0.5 if domain == "distinct_pos" else 0.13 - 0.25 * size
        return st.tuples(noise, perm).map(
            lambda p: (np.reshape(np.array(p[1], dtype=float), shape) * 0.5 + p[0] + shift).astype(dtype)
        )
    if domain in ("cwellcond", "hermitian", "cfullrank"):
        # complex matrices: well conditioned, Hermitian with separated eigenvalues, or generic
        # with separated singular values, plus a small drawn perturbation
        n = shape[-1]
        part = hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, **_FLOAT))
        cdtype = np.complex64 if dtype in (np.float32, np.complex64) else np.complex128
        if domain == "cwellcond":
            return st.tuples(part, part).map(lambda p: (p[0] + 1j * p[1] + (n + 1) * np.eye(n)).astype(cdtype))
        if domain == "hermitian":
            return st.tuples(part, part).map(
                lambda p: (_generic_complex(shape, True) + 0.05 * _hermitian_part(p[0] + 1j * p[1])).astype(cdtype)
            )
        return st.tuples(part, part).map(
            lambda p: (_generic_complex(shape, False) + 0.05 * (p[0] + 1j * p[1])).astype(cdtype)
        )
    if domain in ("diagonalizable", "cdiagonalizable"):
        # not symmetric, with well separated eigenvalues: real (1, 2.5, 4, ...) or complex
        n = shape[-1]
        rng = np.random.default_rng(n)
        T = np.eye(n) + 0.3 * rng.standard_normal((n, n))
        w = 1.0 + 1.5 * np.arange(n)
        if domain == "cdiagonalizable":
            T = T + 0.3j * rng.standard_normal((n, n))
            w = w + 1j * np.linspace(-1.0, 1.0, n)
        base = T @ np.diag(w) @ np.linalg.inv(T)
        part = hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, **_FLOAT))
        if domain == "cdiagonalizable":
            return st.tuples(part, part).map(lambda p: base + 0.05 * (p[0] + 1j * p[1]))
        return part.map(lambda b: (base + 0.05 * b).astype(dtype))
    if domain in ("spd", "wellcond", "fullrank"):
        n = shape[-1]
        base = hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, **_FLOAT))
        if domain == "wellcond":
            return base.map(lambda b: (b + (n + 1) * np.eye(n)).astype(dtype))
        # a generic matrix (no structure, so LAPACK's sign choices are locally smooth) with
        # well separated eigenvalues / singular values, plus a small drawn perturbation
        if domain == "spd":
            return base.map(lambda b: (_generic(shape, True) + 0.05 * b @ np.swapaxes(b, -1, -2)).astype(dtype))
        return base.map(lambda b: (_generic(shape, False) + 0.05 * b).astype(dtype))
    lo, hi = INTERVALS[domain]
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, **_FLOAT)).map(lambda x: x.astype(dtype))


def _generic(shape, symmetric):
    m, n = shape[-2:]
    k = min(m, n)
    rng = np.random.default_rng(m * 10 + n)
    U = np.linalg.qr(rng.standard_normal((m, m)))[0]
    V = U if symmetric else np.linalg.qr(rng.standard_normal((n, n)))[0]
    D = np.zeros((m, n))
    D[np.arange(k), np.arange(k)] = 1.0 + 1.5 * np.arange(k)
    return np.broadcast_to(U @ D @ V.T, shape)


def _hermitian_part(b):
    return (b + np.conj(np.swapaxes(b, -1, -2))) / 2


def _generic_complex(shape, hermitian):
    m, n = shape[-2:]
    k = min(m, n)
    rng = np.random.default_rng(m * 10 + n + 1)
    U = np.linalg.qr(rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m)))[0]
    V = U if hermitian else np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))[0]
    D = np.zeros((m, n))
    D[np.arange(k), np.arange(k)] = 1.0 + 1.5 * np.arange(k)
    return np.broadcast_to(U @ D @ np.conj(V.T), shape)


def strategy_of(spec):
    if isinstance(spec, (A, S, N, Seq)):
        return spec.strategy()
    return st.just(spec)


@dataclass
class Case:
    """One row of a rule table."""

    f: object
    args: tuple
    kwargs: dict = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6
    eps: float = 1e-6
    wrt: object = None
    kw_wrt: object = None
    name: str = ""
    lazy: object = False

    def strategy(self):
        return st.tuples(*[strategy_of(a) for a in self.args])

    @property
    def id(self):
        base = self.name or getattr(self.f, "__qualname__", None) or getattr(self.f, "__name__", repr(self.f))
        specs = ",".join(_spec_id(a) for a in self.args)
        kw = ",".join(f"{k}={_spec_id(v)}" for k, v in self.kwargs.items())
        return f"{base}({specs}{';' + kw if kw else ''})"

    def check(self, args):
        """`check_rrule`, or `check_keyword_rrule` when a keyword argument can carry a gradient or
        the result is an iterator (`lazy`); then complex scalar arguments must get complex cotangents."""
        opts = dict(rtol=self.rtol, atol=self.atol, eps=self.eps, wrt=self.wrt)
        if self.lazy or _default_wrt(list(self.kwargs.values())) and self.kw_wrt != ():
            take = None if self.lazy is True else self.lazy or None
            check_keyword_rrule(self.f, *args, kw_wrt=self.kw_wrt, take=take, **opts, **self.kwargs)
        else:
            check_rrule(self.f, *args, **opts, **self.kwargs)
        check_complex_kinds(self.f, args, self.kwargs)
        return True


def _spec_id(a):
    if isinstance(a, A):
        dt = "" if a.dtype is np.float64 else np.dtype(a.dtype).name
        return f"{a.domain}{list(a.shape)}{dt}".replace(" ", "")
    if isinstance(a, S):
        return a.domain
    if isinstance(a, N):
        return f"{a.type.__name__}({a.domain})"
    if isinstance(a, Seq):
        return f"{a.kind.__name__}[{','.join(_spec_id(i) for i in a.items)}]"
    if isinstance(a, np.ndarray):
        return f"array{list(a.shape)}"
    if callable(a) and hasattr(a, "__name__"):
        return a.__name__
    if isinstance(a, (np.random.Generator, np.random.RandomState)):
        return type(a).__name__
    return repr(a)


def C(f, *args, **options):
    """A row: `C(np.sum, A((3, 4)), axis=0)`; options rtol/atol/eps/wrt/kw_wrt/name/lazy go to the Case.

    A keyword argument holding a float, a complex number or a float array is checked as
    a differentiable input (its cotangent in the pullback's trailing dict) unless
    `kw_wrt=()`; `kw_wrt=("a_min",)` checks only the keywords named. `lazy=True`: `f`
    returns an iterator (its items, and those of iterators among them, are compared);
    `lazy=5`: an endless one, of which the first 5 items are compared.
    """
    opts = {k: options.pop(k) for k in ("rtol", "atol", "eps", "wrt", "kw_wrt", "name", "lazy") if k in options}
    return Case(f, args, options, **opts)


def table_test(cases, max_examples=4):
    """The test of a table: every row checked by `check_rrule` on `max_examples` drawn inputs.

    In a test module: `test_ufunc_rule = table_test(CASES)`.
    """

    @pytest.mark.parametrize("case", cases, ids=lambda c: c.id)
    @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(data=st.data())
    def test_rule(case, data):
        case.check(data.draw(case.strategy()))

    return test_rule


# --- keyword cotangents and complex kinds ---------------------------------------------------


def _is_complex_scalar(x):
    return isinstance(x, (complex, np.complexfloating))


def check_complex_kinds(f, args, kwargs, seed=1):
    """A complex scalar argument gets a complex cotangent (not a float that drops the phase)."""
    if not any(_is_complex_scalar(a) for a in args):
        return
    y, pullback = RULES[f](*_copy_args(args), **kwargs)
    bars = pullback(_random_like(_materialize(y), np.random.default_rng(seed)))
    for i, (b, a) in enumerate(zip(bars[1:], args)):
        if _is_complex_scalar(a) and b is not None:
            assert np.iscomplexobj(b), f"argument {i} is complex but its cotangent {b!r} is not"


def _items(v, take=None):
    """`v` with the iterators in it (at any depth) read into lists, each before the next item of
    the one holding it is read (so that groupby's groups are still there); of `v` itself, when it
    is an iterator, the first `take` items only (all when None)."""
    if isinstance(v, collections.abc.Iterator):
        return [_items(e) for e in itertools.islice(v, take)]
    if type(v) is list or type(v) is tuple:
        return type(v)(_items(e) for e in v)
    return v


def check_keyword_rrule(f, *args, kw_wrt=None, rtol=1e-5, atol=1e-6, eps=1e-6, wrt=None, seed=0, take=None,
                        **kwargs):
    """`check_rrule` for calls whose keyword arguments carry gradients (or whose result is an
    iterator: its items are compared and paired, as are those of iterators among them).

    The pullback returns the callable's tangent, one cotangent per positional
    argument, and then a dict `{keyword: cotangent}` (left out when every keyword
    cotangent is zero). Each positional argument in `wrt` and each keyword in
    `kw_wrt` (default: every float, complex or float-array one) is checked along a
    random direction against central differences. A list or tuple result's pullback
    must also take `None` for its first item. An endless iterator result is compared and
    paired on its first `take` items.
    """
    name = getattr(f, "__qualname__", None) or repr(f)
    rng = np.random.default_rng(seed)
    y, pullback = RULES[f](*_copy_args(args), **kwargs)
    y = _items(y, take)
    y_ref = _items(f(*_copy_args(args), **kwargs), take)
    assert _values_equal(y, y_ref), f"{name}: the rule computes {y!r}, but {name} gives {y_ref!r}"
    y_bar = _random_like(y, rng)
    bars = pullback(y_bar)
    n = len(args)
    assert isinstance(bars, tuple) and len(bars) in (n + 1, n + 2), f"{name}: pullback returned {bars!r}"
    kw_bars = {}
    if len(bars) == n + 2:
        kw_bars = bars[-1]
        assert type(kw_bars) is dict and set(kw_bars) <= set(kwargs), f"{name}: keyword cotangents {kw_bars!r}"
    for i, (b, a) in enumerate(zip(bars[1 : n + 1], args)):
        _check_kind(b, a, f"{name}: argument {i}")
    for k, b in kw_bars.items():
        _check_kind(b, kwargs[k], f"{name}: keyword {k}")
    names = [k for k, v in kwargs.items() if _default_wrt([v])] if kw_wrt is None else list(kw_wrt)

    def value(pos, kw):
        return _pair(y_bar, _items(f(*pos, **kw), take))

    checks = [(i, None) for i in (_default_wrt(args) if wrt is None else wrt)] + [(None, k) for k in names]
    for i, k in checks:
        x = args[i] if k is None else kwargs[k]
        vec, _ = flatten(x)
        if vec.size == 0:
            continue
        v = rng.standard_normal(vec.size)
        sides = []
        for sign in (1, -1):
            pos = [_upcast(a) for a in _copy_args(args)]
            kw = {key: _upcast(val) for key, val in kwargs.items()}
            if k is None:
                pos[i] = _perturbed(x, v, sign * eps)
            else:
                kw[k] = _perturbed(x, v, sign * eps)
            sides.append(value(pos, kw))
        numeric = (sides[0] - sides[1]) / (2 * eps)
        bar = bars[i + 1] if k is None else kw_bars.get(k)
        analytic = float(_flatten_cotangent(bar, x) @ v)
        what = f"argument {i}" if k is None else f"keyword {k}"
        assert abs(analytic - numeric) <= atol + rtol * max(abs(numeric), abs(analytic)), (
            f"{name}: pullback of {what} disagrees with finite differences: <x_bar, v> = {analytic!r}, "
            f"numerical <y_bar, J v> = {numeric!r}\n  x_bar = {bar!r}"
        )
    if isinstance(y, (list, tuple)) and len(y) > 1:
        partial = [None] + list(y_bar[1:])
        bars = pullback(type(y_bar)(*partial) if hasattr(y_bar, "_fields") else type(y_bar)(partial))
        assert len(bars) in (n + 1, n + 2), f"{name}: wrong number of tangents with a None output entry"
    return True
