"""Elementwise NumPy functions (ufuncs): one-line rules from partial derivatives, and the
full rules of power, absolute, conjugate, real, imag, sinc, fmax/fmin and the rounding functions."""
import numpy as np

from .._common import (
    abs_bar,
    bind,
    call_bars,
    has_tangent,
    is_complex,
    pow_bars,
    to_like,
    unbroadcast_to,
    zero_like,
)
from .. import registry
from ..registry import Partials, inline_partials, partials_function
from ._base import NS, _named, _nones, asarray, register


def _times(d, y_bar, xs, y):
    """`y_bar * d`; into `d` itself when the partial made it (an array of its own memory that is
    none of the arguments, nor the result): one array fewer on the way back."""
    if (
        type(d) is np.ndarray
        and d.base is None
        and d is not y
        and d is not y_bar
        and all(d is not x for x in xs)
        and d.flags.writeable
        and (type(y_bar) is np.ndarray or type(y_bar) in (float, int, np.float64))
        and d.shape == np.shape(y_bar)
        and d.dtype == np.result_type(d, y_bar)
    ):
        return np.multiply(d, y_bar, out=d)
    return y_bar * d


def elementwise(f, *partials, ns=NS):
    """Register the elementwise rule of `f` from its partials (in `x`/`x1, x2` and `y`).

    The expressions also go into `SCALAR_RULES` (the transform inlines them for
    plain numbers); the rule in `RULES` evaluates them on arrays (lists converted)
    and reduces every cotangent with `unbroadcast_to`.
    """
    n = len(partials)
    names = ["x"] if n == 1 else [f"x{i + 1}" for i in range(n)]
    body = ", ".join("None" if p is None else f"({p})" for p in partials)
    fname = getattr(f, "__name__", "f")
    p = Partials(f"np_{fname}", names, body, ns)  # compiled (in a copy of `ns`) at the first pullback

    def rule(*args, **kwargs):
        y = f(*args, **kwargs)

        def pullback(y_bar):
            xs = [np.asarray(a) if isinstance(a, (list, tuple)) else a for a in args]
            with np.errstate(divide="ignore", invalid="ignore"):
                ds = partials_function(p)(*xs, y)
                return (None,) + tuple(
                    None if d is None or not has_tangent(a) else unbroadcast_to(_times(d, y_bar, xs, y), a)
                    for d, a in zip(ds, args)
                )

        pullback.__name__ = pullback.__qualname__ = f"{fname}_pullback"
        return y, pullback

    registry.register(f, _named(f"{fname}_rrule", rule), number_closed=True)
    inline_partials(f, *partials, ns=ns)
    return rule


UNARY = {
    np.negative: "-1",
    np.positive: "1",
    np.reciprocal: "-y * y",
    np.square: "2 * x",
    np.sqrt: "0.5 / y",
    np.cbrt: "1 / (3 * y * y)",
    np.exp: "y",
    np.exp2: "LN2 * y",
    np.expm1: "y + 1",
    np.log: "1 / x",
    np.log2: "1 / (LN2 * x)",
    np.log10: "1 / (LN10 * x)",
    np.log1p: "1 / (1 + x)",
    np.sin: "cos(x)",
    np.cos: "-sin(x)",
    np.tan: "1 + y * y",
    # the inverse functions' slopes for complex x are written in their result, on the branch
    # NumPy took (1/sqrt(x*x - 1) had the wrong sign for arccosh left of the imaginary axis, and
    # on a cut 1/sqrt(1 - x*x) may take the other side); for real x, the square roots (infinite
    # at the ends of the domain)
    np.arcsin: "1 / cos(y) if iscomplexobj(y) else 1 / sqrt(1 - x * x)",
    np.arccos: "-1 / sin(y) if iscomplexobj(y) else -1 / sqrt(1 - x * x)",
    np.arctan: "1 / (1 + x * x)",
    np.sinh: "cosh(x)",
    np.cosh: "sinh(x)",
    np.tanh: "1 - y * y",
    np.arcsinh: "1 / cosh(y) if iscomplexobj(y) else 1 / sqrt(1 + x * x)",
    np.arccosh: "1 / sinh(y) if iscomplexobj(y) else 1 / sqrt(x * x - 1)",
    np.arctanh: "1 / (1 - x * x)",
    np.deg2rad: "DEG",
    np.radians: "DEG",
    np.rad2deg: "RAD",
    np.degrees: "RAD",
    np.fabs: "sign(x)",
}

BINARY = {
    np.add: ("1", "1"),
    np.subtract: ("1", "-1"),
    np.multiply: ("x2", "x1"),
    np.divide: ("1 / x2", "-y / x2"),
    np.arctan2: ("x2 / (x1 * x1 + x2 * x2)", "-x1 / (x1 * x1 + x2 * x2)"),
    np.hypot: ("x1 / y", "x2 / y"),
    np.logaddexp: ("exp(x1 - y)", "exp(x2 - y)"),
    np.logaddexp2: ("exp2(x1 - y)", "exp2(x2 - y)"),
    # ties: the whole gradient to the first argument
    np.maximum: ("x1 >= x2", "x1 < x2"),
    np.minimum: ("x1 <= x2", "x1 > x2"),
    # x1 - q * x2 with the integer quotient q recovered from the result
    np.remainder: ("1", "-rint((x1 - y) / x2)"),
    np.fmod: ("1", "-rint((x1 - y) / x2)"),
    np.copysign: ("where(signbit(x1) == signbit(x2), 1, -1)", None),
    np.ldexp: ("exp2(x2)", None),
    # x2 is the value where x1 == 0
    np.heaviside: (None, "x1 == 0"),
}

for _f, _p in UNARY.items():
    elementwise(_f, _p)
for _f, _p in BINARY.items():
    elementwise(_f, *_p)


def _fmax_fmin(f, first_wins):
    """fmax/fmin: the cotangent goes to the operand chosen (the first on ties, the other when it is nan)."""

    def rule(x1, x2, **kwargs):
        y = f(x1, x2, **kwargs)

        def pullback(y_bar):
            first = first_wins(x1, x2) | np.isnan(x2)
            return None, unbroadcast_to(np.where(first, y_bar, 0), x1), unbroadcast_to(np.where(first, 0, y_bar), x2)

        pullback.__name__ = pullback.__qualname__ = f"{f.__name__}_pullback"
        return y, pullback

    return _named(f"{f.__name__}_rrule", rule)


fmax_rrule = _fmax_fmin(np.fmax, np.greater_equal)
fmin_rrule = _fmax_fmin(np.fmin, np.less_equal)


def power_rrule(x1, x2, **kwargs):
    y = np.power(x1, x2, **kwargs)

    def power_pullback(y_bar):
        return (None,) + pow_bars(x1, x2, y, y_bar)

    return y, power_pullback


def float_power_rrule(x1, x2, **kwargs):
    y = np.float_power(x1, x2, **kwargs)

    def float_power_pullback(y_bar):
        return (None,) + pow_bars(x1, x2, y, y_bar)

    return y, float_power_pullback


def absolute_rrule(x, **kwargs):
    y = np.absolute(x, **kwargs)

    def absolute_pullback(y_bar):
        if isinstance(x, (list, tuple)):
            return None, to_like(abs_bar(np.asarray(x), y, y_bar), x)
        return None, abs_bar(x, y, y_bar)

    return y, absolute_pullback


def conjugate_rrule(x, **kwargs):
    y = np.conjugate(x, **kwargs)

    def conjugate_pullback(y_bar):
        return None, unbroadcast_to(np.conj(y_bar), x)

    return y, conjugate_pullback


def real_rrule(x):
    y = np.real(x)

    def real_pullback(y_bar):
        return None, unbroadcast_to(np.real(y_bar), x)

    return y, real_pullback


def imag_rrule(x):
    y = np.imag(x)

    def imag_pullback(y_bar):
        if not is_complex(x):
            return None, None
        return None, unbroadcast_to(-1j * np.real(y_bar), x)

    return y, imag_pullback


def angle_rrule(z, deg=False):
    y = np.angle(z, deg)

    def angle_pullback(y_bar):
        # d angle = Im(conj(z) dz) / |z|^2: z_bar = -i Re(y_bar) conj(z) / |z|^2 (0 for a real z)
        Z = asarray(z)
        scale = 180 / np.pi if deg else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(Z == 0, 0, -1j * np.conj(Z) / np.where(Z == 0, 1, Z * np.conj(Z)))
        return None, unbroadcast_to(np.real(y_bar) * scale * d, z), None

    return y, angle_pullback


def sinc_rrule(x):
    y = np.sinc(x)

    def sinc_pullback(y_bar):
        xx = asarray(x)
        px = np.pi * xx
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(xx == 0, 0, (np.cos(px) - y) / np.where(xx == 0, 1, xx))
        return None, unbroadcast_to(y_bar * d, x)

    return y, sinc_pullback


_NAN_TO_NUM = ("x", "copy", "nan", "posinf", "neginf")


def nan_to_num_rrule(*args, **kwargs):
    p = bind(_NAN_TO_NUM, args, kwargs, nan=0.0, posinf=None, neginf=None)
    x = p["x"]
    X = asarray(x)
    # the masks before the call: with copy=False NumPy replaces the entries in place
    parts = [np.real(X).copy()] + ([np.imag(X).copy()] if np.iscomplexobj(X) else [])
    y = np.nan_to_num(*args, **kwargs)

    def nan_to_num_pullback(y_bar):
        # the finite entries pass through; the others are replaced by constants (nan=, posinf=,
        # neginf=), which receive their cotangents; real and imaginary parts separately
        G = asarray(y_bar)
        # Re(y_bar * dy): dy_re pairs with Re(y_bar), i dy_im with -Im(y_bar)
        gs = [(np.real(G), 1.0), (-np.imag(G), -1j)]
        x_bar = 0
        bars = {}
        for part, (g, unit) in zip(parts, gs):
            x_bar = x_bar + unit * np.where(np.isfinite(part), g, 0)
            for key, hit in (("nan", np.isnan(part)), ("posinf", np.isposinf(part)), ("neginf", np.isneginf(part))):
                if p[key] is not None:
                    bars[key] = np.sum(np.where(hit, g, 0)) + bars.get(key, 0)
        bars = {k: unbroadcast_to(v, p[k]) for k, v in bars.items()}
        bars["x"] = unbroadcast_to(x_bar, x)
        return call_bars(_NAN_TO_NUM, args, kwargs, bars)

    return y, nan_to_num_pullback


def _zero_gradient(f):
    """`round`-like functions: piecewise constant, so a zero (not `None`) gradient."""
    name = f.__name__

    def rule(x, *args, **kwargs):
        y = f(x, *args, **kwargs)

        def pullback(y_bar):
            return (None, zero_like(x, y_bar)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def floor_divide_rrule(x1, x2, **kwargs):
    y = np.floor_divide(x1, x2, **kwargs)

    def floor_divide_pullback(y_bar):
        return None, _zero_shaped(x1, y_bar), _zero_shaped(x2, y_bar)

    return y, floor_divide_pullback


def _zero_shaped(x, g):
    if isinstance(x, (list, tuple)) and type(g) is np.ndarray:
        return to_like(np.zeros(np.shape(x)), x)
    return zero_like(x, g)


register(np.fmax, fmax_rrule, number_closed=True, generic=True)
register(np.fmin, fmin_rrule, number_closed=True, generic=True)
register(np.power, power_rrule, number_closed=True, generic=True)
register(np.float_power, float_power_rrule, number_closed=True, generic=True)
register(np.absolute, absolute_rrule, number_closed=True, generic=True)
register(np.conjugate, conjugate_rrule, number_closed=True, generic=True)
register(np.conj, conjugate_rrule, number_closed=True, generic=True)
register(np.real, real_rrule, number_closed=True, generic=True)
register(np.imag, imag_rrule, number_closed=True, generic=True)
register(np.sinc, sinc_rrule, number_closed=True, generic=True)
register(np.angle, angle_rrule, number_closed=True, generic=True)
register(np.nan_to_num, nan_to_num_rrule, number_closed=True, generic=True)
register(np.floor_divide, floor_divide_rrule, number_closed=True, generic=True)
register(np.round, _zero_gradient(np.round), number_closed=True, generic=True)
if hasattr(np, "around"):
    register(np.around, _zero_gradient(np.around), number_closed=True, generic=True)
