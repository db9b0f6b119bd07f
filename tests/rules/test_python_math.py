"""The `math` rule table: each function on Python floats drawn in its domain."""
import math

import pytest

from _tables import C, S, Seq, table_test
from dpnb.rules.python.math_rules import digamma

CASES = [
    C(math.sin, S()), C(math.cos, S()), C(math.tan, S("unit")),
    C(math.asin, S("unit")), C(math.acos, S("unit")), C(math.atan, S()),
    C(math.sinh, S()), C(math.cosh, S()), C(math.tanh, S()),
    C(math.asinh, S()), C(math.acosh, S("gt1")), C(math.atanh, S("unit")),
    C(math.exp, S()), C(math.exp2, S()), C(math.expm1, S()),
    C(math.log, S("pos")), C(math.log, S("pos"), S("gt1")), C(math.log2, S("pos")),
    C(math.log10, S("pos")), C(math.log1p, S("pos")), C(math.sqrt, S("pos")),
    C(math.cbrt, S("nonzero")), C(math.fabs, S("nonzero")),
    C(math.degrees, S()), C(math.radians, S()), C(math.erf, S()), C(math.erfc, S()),
    C(math.gamma, S("pos")), C(math.gamma, -1.5), C(math.lgamma, S("pos")), C(math.lgamma, -2.5),
    C(math.atan2, S("nonzero"), S("nonzero")),
    C(math.copysign, S("nonzero"), S("nonzero")),
    C(math.fmod, S("frac"), S("gt1")), C(math.fmod, -5.3, 2.0),
    C(math.remainder, S("tiny"), S("gt1")), C(math.remainder, 5.3, -2.0),
    C(math.ldexp, S(), 3),
    C(math.pow, S("pos"), S()), C(math.pow, S(), 3.0, wrt=[0]), C(math.pow, -2.0, 3.0, wrt=[0]),
    C(math.hypot, S("nonzero"), S("nonzero"), S("nonzero")),
    C(math.dist, Seq(tuple, (S(), S())), Seq(tuple, (S("gt1"), S("gt1")))),
    C(math.dist, Seq(list, (S(), S(), S())), Seq(list, (S("gt1"), S("gt1"), S("gt1")))),
    C(math.prod, Seq(tuple, (S(), S(), S()))),
    C(math.prod, Seq(list, (S(), S())), start=2.0),
    C(math.prod, [2.0, 0.0, 3.0]),
    C(math.fsum, Seq(list, (S(), S(), S()))),
    C(math.modf, S("pos")),
    C(math.frexp, 0.7), C(math.frexp, -2.3),  # away from powers of two, where it jumps
]


test_math_rule = table_test(CASES, max_examples=5)


def test_inlinable_partials_resolve_in_their_namespace():
    from dpnb.rules.registry import SCALAR_RULES

    for f, rule in SCALAR_RULES.items():
        if getattr(f, "__module__", None) == "math":
            for name in rule.free_names:
                assert name in rule.namespace, (f, name)


def test_sqrt_at_zero_has_an_infinite_slope_not_an_error():
    from dpnb.rules.registry import RULES

    _, back = RULES[math.sqrt](0.0)
    assert back(1.0)[1] == math.inf


def test_digamma_matches_scipy():
    scipy_special = pytest.importorskip("scipy.special")
    for x in (0.1, 0.5, 1.0, 2.5, 7.0, 30.0, -0.5, -2.25):
        assert digamma(x) == pytest.approx(float(scipy_special.digamma(x)), rel=1e-11, abs=1e-12)


def test_prod_gradient_is_exact_for_fractions_and_zeros():
    from fractions import Fraction

    from dpnb.rules.registry import RULES

    xs = (Fraction(1, 2), Fraction(0), Fraction(3))
    y, back = RULES[math.prod](xs)
    assert back(Fraction(1))[1] == (Fraction(0), Fraction(3, 2), Fraction(0))
