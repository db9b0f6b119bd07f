"""Rules for the `cmath` module: complex functions of complex (or real) numbers.

The convention is NumPy's complex rules' (and `abs`'s): for a real loss L of z = x + iy, the
gradient is ∂L/∂x - i ∂L/∂y. A holomorphic function y = f(z) then sends back `y_bar * f'(z)`
(no conjugate), and a real argument takes the real part of that (`unbroadcast_to`). The slopes
are those of the principal branches `cmath` computes: on a branch cut (a real argument of `asin`
past ±1, say), the derivative along the cut on the side `cmath` takes. `phase`,
`polar` and `rect` map between complex and real numbers; the tests of the predicates (`isnan`,
`isclose`, ...) carry no gradient.

>>> import cmath
>>> from dpnb.rules.registry import RULES
>>> y, back = RULES[cmath.exp](1j * cmath.pi / 2)
>>> back(1.0)[1]  # exp'(z) = exp(z)
(6.123233995736766e-17+1j)
"""
import cmath
import math

from .._common import unbroadcast_to
from ..registry import constant, register
from .math_rules import log_rule

__all__ = []

_LN10 = math.log(10.0)


def _sqrt_slope(z, y):
    return 0.5 / y if y else complex(math.inf)


def _over(d):
    return 1 / d if d else complex(math.inf)


#: f -> f'(z), in z and the result y. The inverse functions' slopes are written in their result
#: (asin'(z) = 1 / cos(asin z), ...): the branch `cmath` took, on a cut too (a real argument
#: past ±1 of `asin`, say, where √(1 - z²) alone may take the other side)
HOLOMORPHIC = {
    cmath.exp: lambda z, y: y,
    cmath.log10: lambda z, y: 1 / (z * _LN10),
    cmath.sqrt: _sqrt_slope,
    cmath.sin: lambda z, y: cmath.cos(z),
    cmath.cos: lambda z, y: -cmath.sin(z),
    cmath.tan: lambda z, y: 1 + y * y,
    cmath.asin: lambda z, y: _over(cmath.cos(y)),
    cmath.acos: lambda z, y: -_over(cmath.sin(y)),
    cmath.atan: lambda z, y: 1 / (1 + z * z),
    cmath.sinh: lambda z, y: cmath.cosh(z),
    cmath.cosh: lambda z, y: cmath.sinh(z),
    cmath.tanh: lambda z, y: 1 - y * y,
    cmath.asinh: lambda z, y: _over(cmath.cosh(y)),
    cmath.acosh: lambda z, y: _over(cmath.sinh(y)),
    cmath.atanh: lambda z, y: 1 / (1 - z * z),
}


def _holomorphic_rule(f, slope):
    def rrule(z):
        y = f(z)

        def pullback(y_bar):
            if y_bar is None:
                return None, None
            return None, unbroadcast_to(y_bar * slope(z, y), z)

        return y, pullback

    rrule.__name__ = f"{f.__name__}_rrule"
    rrule.__qualname__ = rrule.__name__
    return rrule


for _f, _slope in HOLOMORPHIC.items():
    register(_f, _holomorphic_rule(_f, _slope))


def _phase_slope(z):
    # phase(z) = atan2(Im z, Re z): ∂/∂x - i ∂/∂y = (-y - ix) / |z|² = -i / z (0 at 0)
    return -1j / z if z else 0.0


def phase_rrule(z):
    y = cmath.phase(z)

    def phase_pullback(y_bar):
        if y_bar is None:
            return None, None
        return None, unbroadcast_to(y_bar * _phase_slope(z), z)

    return y, phase_pullback


def polar_rrule(z):
    r, phi = y = cmath.polar(z)

    def polar_pullback(y_bar):
        if y_bar is None:
            return None, None
        r_bar, phi_bar = y_bar
        total = 0.0
        if r_bar is not None and r:
            total = total + r_bar * (z.conjugate() / r)  # |z|: ∂/∂x - i ∂/∂y = conj(z) / |z|
        if phi_bar is not None:
            total = total + phi_bar * _phase_slope(z)
        return None, unbroadcast_to(total, z)

    return y, polar_pullback


def rect_rrule(r, phi):
    y = cmath.rect(r, phi)

    def rect_pullback(y_bar):
        if y_bar is None:
            return None, None, None
        # y = r e^{iφ}: holomorphic in each (real) argument, the real part of the product
        return None, unbroadcast_to(y_bar * cmath.exp(1j * phi), r), unbroadcast_to(y_bar * 1j * y, phi)

    return y, rect_pullback


register(cmath.log, log_rule(cmath.log))
register(cmath.phase, phase_rrule)
register(cmath.polar, polar_rrule)
register(cmath.rect, rect_rrule)
constant(cmath.isclose, cmath.isfinite, cmath.isinf, cmath.isnan)
