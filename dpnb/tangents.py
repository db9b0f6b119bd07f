"""Tangent types and accumulation.

Inside generated code and rules, "no gradient" is `None`. `NoTangent()` and
`ZeroTangent()` exist for user rules (ChainRules style) and are turned into
`None` where a rule's pullback hands them back. `NotImplementedTangent` stands for
a cotangent a rule cannot compute, and raises when it is used.
"""
import numbers

import numpy as np

from .errors import DifferentiationError


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
        if name == "fields" or name.startswith("__"):
            # (a slot not set yet, or Python asking for a protocol: not a field's name)
            raise AttributeError(name)
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

    def _repr_html_(self):
        """A table of the fields and their tangents (notebooks)."""
        from ._html import escape, short_value, table

        name = escape(getattr(self.primal_type, "__name__", str(self.primal_type)))
        rows = [(escape(k), escape(short_value(v))) for k, v in self.fields.items()]
        return table(rows, header=("field", "tangent"), caption=f"Tangent[{name}]")


class NotImplementedTangent:
    """The cotangent of an argument whose derivative dpnb does not know: ChainRules'
    `@not_implemented`.

    A rule cannot tell which of its arguments the caller differentiates, so for an
    argument with a derivative it cannot compute (the order of `scipy.special.jv`, the
    shape `a` of `scipy.stats.gamma.cdf`) its pullback hands back this marker instead of
    a zero. While nobody uses it, nothing happens (a constant argument's cotangent is
    dropped by the generated adjoint); the first use of it (arithmetic, accumulation
    with anything but another such marker, conversion to a number or an array, its
    truth value) raises `DifferentiationError` naming the function and the argument.

    >>> t = NotImplementedTangent("scipy.special.jv", "v", "no closed form in the order")
    >>> t
    NotImplementedTangent(scipy.special.jv, 'v')
    >>> 2.0 * t
    Traceback (most recent call last):
    ...
    dpnb.errors.DifferentiationError: scipy.special.jv has no derivative rule for its argument 'v' (no closed form in the order); make that argument a constant (an integer, or dpnb.ignore_derivatives(...))
    """

    __slots__ = ("function", "argument", "reason", "text")
    __array_ufunc__ = None  # NumPy hands `array * t` to `t.__rmul__`, which raises
    __hash__ = object.__hash__

    def __init__(self, function, argument, reason, text=None):
        self.function = function
        self.argument = argument
        self.reason = reason
        self.text = text  # (a refusal of its own words: a gradient that reached a set's number)

    def message(self):
        if self.text is not None:
            return self.text
        return (
            f"{self.function} has no derivative rule for its argument {self.argument!r} ({self.reason}); "
            "make that argument a constant (an integer, or dpnb.ignore_derivatives(...))"
        )

    def _used(self, *args, **kwargs):
        raise DifferentiationError(self.message())

    def _combined(self, other):
        # two unknown contributions to one cotangent: still unknown (and still unused)
        if isinstance(other, NotImplementedTangent):
            return self
        self._used()

    __add__ = __radd__ = __sub__ = __rsub__ = _combined
    __mul__ = __rmul__ = _used
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __rpow__ = _used
    __neg__ = __pos__ = __abs__ = __array__ = __float__ = __complex__ = __int__ = __index__ = _used
    __bool__ = __iter__ = __len__ = __getitem__ = _used

    def __repr__(self):
        return f"NotImplementedTangent({self.function}, {self.argument!r})"


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
