"""The shape of the rule tables (one row per rule case) and how their inputs are drawn.

A row names the callable, its positional arguments (specs drawn by hypothesis, or
plain values passed as they are), keyword arguments and tolerances. Each test
module exposes its rows as `CASES`; `test_coverage` checks every rule has one.
"""
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dpnb.testing import check_rrule

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
        if self.domain == "complex":
            part = st.floats(-2.0, 2.0, **_FLOAT)
            return st.builds(complex, part.map(_away_from_zero), part)
        if self.domain == "nonzero":
            return st.floats(-2.0, 2.0, **_FLOAT).map(_away_from_zero)
        lo, hi = INTERVALS[self.domain]
        return st.floats(lo, hi, **_FLOAT)


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
    if domain == "complex":
        # the real part away from 0, so that |z| is differentiable
        re = hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, **_FLOAT).map(_away_from_zero))
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


def strategy_of(spec):
    if isinstance(spec, (A, S, Seq)):
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
    name: str = ""

    def strategy(self):
        return st.tuples(*[strategy_of(a) for a in self.args])

    @property
    def id(self):
        base = self.name or getattr(self.f, "__qualname__", None) or getattr(self.f, "__name__", repr(self.f))
        specs = ",".join(_spec_id(a) for a in self.args)
        kw = ",".join(f"{k}={_spec_id(v)}" for k, v in self.kwargs.items())
        return f"{base}({specs}{';' + kw if kw else ''})"

    def check(self, args):
        return check_rrule(
            self.f, *args, rtol=self.rtol, atol=self.atol, eps=self.eps, wrt=self.wrt, **self.kwargs
        )


def _spec_id(a):
    if isinstance(a, A):
        dt = "" if a.dtype is np.float64 else np.dtype(a.dtype).name
        return f"{a.domain}{list(a.shape)}{dt}".replace(" ", "")
    if isinstance(a, S):
        return a.domain
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
    """A row: `C(np.sum, A((3, 4)), axis=0)`; options rtol/atol/eps/wrt/name go to the Case."""
    opts = {k: options.pop(k) for k in ("rtol", "atol", "eps", "wrt", "name") if k in options}
    return Case(f, args, options, **opts)
