"""Tangent types and accumulation.

Inside generated code and rules, "no gradient" is `None`. `NoTangent()` and
`ZeroTangent()` exist for user rules (ChainRules style) and are turned into
`None` where a rule's pullback hands them back.
"""
import numbers

import numpy as np


class AbstractZero:
    __slots__ = ()

    def __bool__(self):
        return False

    def __add__(self, other):
        return other

    __radd__ = __add__

    def __mul__(self, other):
        return self

    __rmul__ = __mul__

    def __neg__(self):
        return self

    def __eq__(self, other):
        return isinstance(other, AbstractZero) or other is None or (
            isinstance(other, numbers.Number) and other == 0
        )

    def __hash__(self):
        return 0


class NoTangent(AbstractZero):
    """The tangent of something that has none (a string, an index, a function with no state)."""

    def __repr__(self):
        return "NoTangent()"


class ZeroTangent(AbstractZero):
    """A tangent known to be zero."""

    def __repr__(self):
        return "ZeroTangent()"


def as_none(t):
    """`None` for the abstract zeros, `t` otherwise."""
    return None if isinstance(t, AbstractZero) else t


class Tangent:
    """The tangent of an object with fields (a dataclass, a plain object, a closure).

    >>> t = Tangent(complex, {"real": 1.0, "imag": None})
    >>> t.real, t["real"], t.primal_type.__name__
    (1.0, 1.0, 'complex')
    """

    __slots__ = ("primal_type", "fields")

    def __init__(self, primal_type, fields=None):
        object.__setattr__(self, "primal_type", primal_type)
        object.__setattr__(self, "fields", dict(fields) if fields else {})

    def __getattr__(self, name):
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("Tangent is immutable")

    def __getitem__(self, name):
        return self.fields[name]

    def __contains__(self, name):
        return name in self.fields

    def __eq__(self, other):
        if not isinstance(other, Tangent) or other.primal_type is not self.primal_type:
            return NotImplemented
        keys = set(self.fields) | set(other.fields)
        return all(_eq(self.fields.get(k), other.fields.get(k)) for k in keys)

    __hash__ = None

    def __add__(self, other):
        return accumulate(self, other)

    __radd__ = __add__

    def __mul__(self, c):
        return Tangent(self.primal_type, {k: scale(v, c) for k, v in self.fields.items()})

    __rmul__ = __mul__

    def __repr__(self):
        name = getattr(self.primal_type, "__name__", str(self.primal_type))
        inner = ", ".join(f"{k}={_short_repr(v)}" for k, v in self.fields.items())
        return f"Tangent[{name}]({inner})"


def _short_repr(v):
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if v == v else repr(v)
    return repr(v)


def _eq(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def accumulate(a, b):
    """`a + b` for tangents, where `None` is zero and structures add field by field."""
    if a is None:
        return b
    if b is None:
        return a
    ta = type(a)
    if ta is tuple:
        if len(a) != len(b):
            raise ValueError("cannot accumulate tuples of different lengths")
        return tuple(map(accumulate, a, b))
    if ta is list:
        if len(a) != len(b):
            raise ValueError("cannot accumulate lists of different lengths")
        return list(map(accumulate, a, b))
    if ta is dict:
        out = dict(a)
        for k, v in b.items():
            out[k] = accumulate(out.get(k), v)
        return out
    if ta is Tangent:
        fields = dict(a.fields)
        for k, v in b.fields.items():
            fields[k] = accumulate(fields.get(k), v)
        return Tangent(a.primal_type, fields)
    if isinstance(a, AbstractZero):
        return b
    if isinstance(b, AbstractZero):
        return a
    if hasattr(a, "_fields") and isinstance(a, tuple):  # named tuple of tangents
        return type(a)(*map(accumulate, a, b))
    return a + b


def scale(t, c):
    """`c * t` for a tangent `t`."""
    if t is None:
        return None
    tt = type(t)
    if tt is tuple:
        return tuple(scale(v, c) for v in t)
    if tt is list:
        return [scale(v, c) for v in t]
    if tt is dict:
        return {k: scale(v, c) for k, v in t.items()}
    if tt is Tangent:
        return t * c
    return t * c
