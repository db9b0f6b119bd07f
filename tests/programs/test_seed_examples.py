"""SPEC §7 "Taking gradients": the examples every release passes (issue 2's part).

Exact values where the SPEC gives them; finite differences where it gives a shape.
The structure examples (dataclass, dict mutation, Linear, Params) are in
test_seed_examples_structures.py.
"""
import builtins
import colorsys
import math
from fractions import Fraction

import numpy as np
import pytest

import dpnb
from dpnb import NoTangent, adjoint, derivative, gradient, rrule

try:
    from ._fd import numerical_gradient
except ImportError:
    from _fd import numerical_gradient


# -- numbers and seeding ---------------------------------------------------------


def test_polynomial_at_an_int():
    g = gradient(lambda x: 3*x**2 + 2*x + 1, 5)
    assert g == (32.0,)
    assert type(g[0]) is float


def test_polynomial_at_a_fraction_stays_exact():
    g = gradient(lambda x: 3*x**2 + 2*x + 1, Fraction(1, 4))
    assert g == (Fraction(7, 2),)
    assert type(g[0]) is Fraction


def test_product_of_two_ints():
    g = gradient(lambda a, b: a*b, 2, 3)
    assert g == (3.0, 2.0)
    assert all(type(v) is float for v in g)


def test_derivative_of_a_line():
    f = lambda x: 5*x + 3
    assert f(10) == 53
    assert derivative(f)(10) == 5.0
    assert (f(10), derivative(f)(10)) == (53, 5.0)


def test_derivative_is_the_slope_at_each_point():
    df = derivative(lambda x: x**3)
    assert df(2.0) == pytest.approx(12.0)
    assert df(-1.0) == pytest.approx(3.0)


# -- functions chosen at run time ------------------------------------------------

fs = {"sin": math.sin, "cos": math.cos, "tan": math.tan}


def test_function_read_from_input_at_run_time(monkeypatch):
    monkeypatch.setattr(builtins, "input", lambda *prompt: "sin")
    assert gradient(lambda x: fs[input()](x), 1) == (0.5403023058681398,)
    monkeypatch.setattr(builtins, "input", lambda *prompt: "cos")
    assert gradient(lambda x: fs[input()](x), 1) == (pytest.approx(-math.sin(1)),)


def test_function_chosen_by_a_variable():
    for name, want in [("sin", math.cos(1.0)), ("cos", -math.sin(1.0)), ("tan", 1 / math.cos(1.0) ** 2)]:
        key = name
        (g,) = gradient(lambda x: fs[key](x), 1)
        assert g == pytest.approx(want, rel=1e-12), name


def test_input_is_called_once_per_gradient(monkeypatch):
    calls = []

    def fake_input(*prompt):
        calls.append(prompt)
        return "tan"

    monkeypatch.setattr(builtins, "input", fake_input)
    (g,) = gradient(lambda x: fs[input()](x), 1)
    assert g == pytest.approx(1 / math.cos(1) ** 2)
    assert len(calls) == 1


# -- loops and recursion ---------------------------------------------------------


def pow(x, n):
    r = 1
    for i in range(n):
        r *= x
    return r


def pow2(x, n):
    return 1 if n <= 0 else x * pow2(x, n - 1)


def test_pow_loop():
    assert gradient(lambda x: pow(x, 3), 5) == (75.0,)


def test_pow_loop_with_respect_to_both_arguments():
    # n is a loop count: no gradient reaches it
    assert gradient(pow, 5, 3) == (75.0, None)


def test_pow2_recursive():
    assert gradient(lambda x: pow2(x, 3), 5) == (75.0,)


def test_pow_loop_and_recursion_at_other_points():
    for x, n in [(2.0, 5), (-1.5, 4), (0.5, 0), (3.0, 1)]:
        want = n * x ** (n - 1) if n else 0.0
        (g1,) = gradient(lambda x: pow(x, n), x)
        (g2,) = gradient(lambda x: pow2(x, n), x)
        assert (g1 or 0.0) == pytest.approx(want)
        assert (g2 or 0.0) == pytest.approx(want)


# -- a library never written for AD ---------------------------------------------


def colordiff(c1, c2):
    h1, h2 = colorsys.rgb_to_hls(*c1), colorsys.rgb_to_hls(*c2)
    return sum((u - v)**2 for u, v in zip(h1, h2))


def test_colordiff_spec_example():
    # The SPEC's point sits on kinks of rgb_to_hls (ties in min/max, the hue wrap-around), where
    # central differences are meaningless: each entry must equal a one-sided derivative.
    c1, c2 = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
    g = gradient(colordiff, c1, c2)
    assert isinstance(g, tuple) and len(g) == 2
    h = 1e-7
    for i, c in enumerate((c1, c2)):
        assert isinstance(g[i], tuple) and len(g[i]) == 3, g
        assert all(isinstance(v, float) for v in g[i]), g
        for k in range(3):

            def at(d):
                cs = [list(c1), list(c2)]
                cs[i][k] += d
                return colordiff(tuple(cs[0]), tuple(cs[1]))

            right, left = (at(h) - at(0)) / h, (at(0) - at(-h)) / h
            assert g[i][k] == pytest.approx(right, abs=1e-5) or g[i][k] == pytest.approx(left, abs=1e-5), (
                i, k, g[i][k], left, right)


@pytest.mark.parametrize(
    "c1, c2",
    [  # smooth points: lightness away from 0.5, no ties
        ((0.7, 0.3, 0.2), (0.3, 0.6, 0.4)),
        ((0.2, 0.35, 0.7), (0.25, 0.5, 0.3)),
        ((0.9, 0.8, 0.6), (0.1, 0.3, 0.2)),
    ],
)
def test_colordiff_through_colorsys(c1, c2):
    g = gradient(colordiff, c1, c2)
    want = numerical_gradient(colordiff, c1, c2)
    assert isinstance(g, tuple) and len(g) == 2
    for got, exp in zip(g, want):
        assert isinstance(got, tuple) and len(got) == 3, got
        assert all(isinstance(v, float) for v in got), got
        np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-6)


# -- varargs, math.prod, NumPy ---------------------------------------------------


def test_prod_of_varargs():
    assert gradient(lambda *xs: math.prod(xs), 2.0, 3.0, 5.0) == (15.0, 10.0, 6.0)


def test_sum_of_squares_of_an_array():
    (g,) = gradient(lambda x: np.sum(x**2), np.array([7., 11., 13.]))
    assert isinstance(g, np.ndarray)
    np.testing.assert_array_equal(g, np.array([14., 22., 26.]))


def test_power_by_a_shape_entry_with_an_int_array():
    g = gradient(lambda x, y, d: np.sum(x**x.shape[d] + y), np.array([7, 11]), 0, 0)
    assert len(g) == 3
    gx, gy, gd = g
    assert isinstance(gx, np.ndarray) and gx.shape == (2,)
    assert np.issubdtype(gx.dtype, np.floating)
    np.testing.assert_array_equal(gx, np.array([14., 22.]))
    assert gy == 2.0 and isinstance(gy, float)
    assert gd is None


# -- custom rules ----------------------------------------------------------------


def add(a, b):
    return a + b


def test_rrule_style():
    calls = []

    def add_p(a, b):
        return a + b

    @rrule(add_p)
    def add_rrule(a, b):
        def add_pullback(dy):
            calls.append(dy)
            return NoTangent(), dy, dy

        return add_p(a, b), add_pullback

    assert gradient(lambda x: add_p(x, 2.0) * 3.0, 1.0) == (3.0,)
    assert calls == [3.0]


def test_adjoint_style():
    calls = []

    def add_q(a, b):
        return a + b

    @adjoint(add_q)
    def add_adjoint(a, b):
        calls.append((a, b))
        return add_q(a, b), lambda d: (d, d)

    assert gradient(lambda x, y: add_q(x, y) * 2.0, 1.0, 4.0) == (2.0, 2.0)
    assert calls == [(1.0, 4.0)]


def test_spec_add_rules_both_styles():
    # The SPEC's `add`, registered in both styles one after the other: the gradient is (1, 1) either way.
    @rrule(add)
    def add_rrule(a, b):
        def add_pullback(dy):
            return NoTangent(), dy, dy

        return add(a, b), add_pullback

    assert gradient(add, 2.0, 3.0) == (1.0, 1.0)
    assert gradient(lambda a, b: add(a, b) * a, 2.0, 3.0) == (7.0, 2.0)

    @adjoint(add)
    def add_adjoint(a, b):
        return add(a, b), lambda d: (d, d)

    assert gradient(add, 2.0, 3.0) == (1.0, 1.0)
    assert gradient(lambda a, b: add(a, b) * a, 2.0, 3.0) == (7.0, 2.0)


def test_a_rule_wins_over_the_source_transform():
    def twice(x):
        return 2 * x

    # Without a rule the transform gives the true derivative.
    assert gradient(lambda x: twice(x), 1.0) == (2.0,)

    @rrule(twice)
    def twice_rrule(x):
        def twice_pullback(dy):
            return NoTangent(), 10 * dy  # deliberately wrong, so we can tell who answered

        return twice(x), twice_pullback

    assert gradient(lambda x: twice(x), 1.0) == (10.0,)
    assert gradient(twice, 1.0) == (10.0,)


def test_registering_again_replaces_the_rule():
    def scale(x):
        return x

    @rrule(scale)
    def scale_rrule_2(x):
        return scale(x), lambda dy: (NoTangent(), 2 * dy)

    f = lambda x: scale(x) + x
    assert gradient(f, 1.0) == (3.0,)

    @rrule(scale)
    def scale_rrule_3(x):
        return scale(x), lambda dy: (NoTangent(), 3 * dy)

    assert gradient(f, 1.0) == (4.0,)

    @adjoint(scale)
    def scale_adjoint_5(x):
        return scale(x), lambda dy: (5 * dy,)

    assert gradient(f, 1.0) == (6.0,)


def test_a_rule_is_used_at_any_depth_of_calls():
    def my_sin(x):
        return math.sin(x)

    def outer(x):
        return 2 * my_sin(x)

    assert gradient(outer, 0.0) == (2.0,)

    @rrule(my_sin)
    def my_sin_rrule(x):
        return math.sin(x), lambda dy: (NoTangent(), 7 * dy)

    # `outer` was transformed (and cached) before the rule existed: the rule must still win.
    assert gradient(outer, 0.0) == (14.0,)
