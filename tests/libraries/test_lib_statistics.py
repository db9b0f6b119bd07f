"""The `statistics` module, a library never written for AD: gradients of every float function
with respect to a list or tuple of floats, against central differences, on data without ties.

`mean`, `fmean`, `geometric_mean`, `harmonic_mean`, `median_grouped` and the four spread
functions have rules (`dpnb/rules/python/statistics_rules.py`: exact rational arithmetic and
generators inside); the medians, `covariance`, `correlation` and `linear_regression` go through
the source transform. The rules are also checked one by one, against finite differences, in the
rule table `tests/rules/test_python_statistics.py`.
"""
import statistics
from fractions import Fraction

import pytest

import dpnb.rules.python.statistics_rules  # noqa: F401  (registers the rules)
from dpnb import gradient
from dpnb.testing import numerical_gradient

ODD = [1.3, 0.4, 2.9, 1.1, 3.7]
EVEN = [2.2, 0.7, 3.1, 1.6, 0.9, 2.5]
OTHER_ODD = [0.8, -0.3, 2.2, 1.9, 2.5]
OTHER_EVEN = [1.0, 0.1, 2.8, 1.2, 0.4, 3.3]


def _close(got, want, rtol=1e-5, atol=1e-6):
    """A list/tuple cotangent against central differences; `None` entries (SPEC §3) count as 0."""
    assert got is not None, f"no gradient (None), expected {want!r}"
    assert type(got) is type(want), f"got a {type(got).__name__} {got!r}, expected a {type(want).__name__}"
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        g = 0.0 if g is None else g
        assert abs(g - w) <= atol + rtol * abs(w), f"entry {i}: got {got!r}, expected {want!r}"


ONE_ARGUMENT = [
    "mean",
    "fmean",
    "geometric_mean",
    "harmonic_mean",
    "median",
    "median_low",
    "median_high",
    "median_grouped",
    "pvariance",
    "pstdev",
    "variance",
    "stdev",
]


@pytest.mark.parametrize("kind", [list, tuple])
@pytest.mark.parametrize("data", [ODD, EVEN], ids=["odd", "even"])
@pytest.mark.parametrize("name", ONE_ARGUMENT)
def test_one_argument_function(name, data, kind):
    """gradient(statistics.<name>, data) against central differences.

    Today: without the rules: fails in 36 of 48 (mean, harmonic_mean, median_grouped, the spread functions:
        NoRuleError for itertools.groupby / repeat / bisect / defaultdict; fmean, geometric_mean:
        UnsupportedSyntaxError for nonlocal); median, median_low, median_high pass. With statistics_rules: all
        48 pass.
    """
    fn = getattr(statistics, name)
    data = kind(data)
    f = lambda xs: fn(xs)  # noqa: E731
    (want,) = numerical_gradient(f, data)
    (got,) = gradient(f, data)
    _close(got, want)


def _slope(x, y):
    return statistics.linear_regression(x, y).slope


def _intercept(x, y):
    return statistics.linear_regression(x, y).intercept


def _proportional_slope(x, y):
    return statistics.linear_regression(x, y, proportional=True).slope


TWO_ARGUMENTS = {
    "covariance": statistics.covariance,
    "correlation": statistics.correlation,
    "linear_regression slope": _slope,
    "linear_regression intercept": _intercept,
    "linear_regression proportional slope": _proportional_slope,
}


@pytest.mark.parametrize("kind", [list, tuple])
@pytest.mark.parametrize("x, y", [(ODD, OTHER_ODD), (EVEN, OTHER_EVEN)], ids=["odd", "even"])
@pytest.mark.parametrize("name", list(TWO_ARGUMENTS))
def test_two_argument_function(name, x, y, kind):
    """Gradients with respect to both data sets, against central differences.

    Today: passes (20 of 20) -- no rules involved.
    """
    fn = TWO_ARGUMENTS[name]
    x, y = kind(x), kind(y)
    f = lambda a, b: fn(a, b)  # noqa: E731
    want = numerical_gradient(f, x, y)
    got = gradient(f, x, y)
    _close(got[0], want[0])
    _close(got[1], want[1])


WITH_SECOND_ARGUMENT = {
    "fmean weights": (lambda d, w: statistics.fmean(d, w), ODD, [0.5, 1.0, 2.0, 0.3, 1.2]),
    "harmonic_mean weights": (lambda d, w: statistics.harmonic_mean(d, w), ODD, [0.5, 1.0, 2.0, 0.3, 1.2]),
    "pvariance mu": (lambda d, m: statistics.pvariance(d, m), ODD, 1.5),
    "variance xbar": (lambda d, m: statistics.variance(d, m), ODD, 1.5),
    "pstdev mu": (lambda d, m: statistics.pstdev(d, m), ODD, 1.5),
    "stdev xbar": (lambda d, m: statistics.stdev(d, m), ODD, 1.5),
    "median_grouped interval": (lambda d, i: statistics.median_grouped(d, i), ODD, 0.5),
}


@pytest.mark.parametrize("name", list(WITH_SECOND_ARGUMENT))
def test_second_argument_is_differentiable(name):
    """Weights, a given centre, an interval: differentiable too.

    Today: without the rules: fails in all 7; with them: passes.
    """
    f, data, second = WITH_SECOND_ARGUMENT[name]
    want = numerical_gradient(f, data, second)
    got = gradient(f, data, second)
    _close(got[0], want[0])
    if isinstance(second, list):
        _close(got[1], want[1])
    else:
        assert got[1] is not None and abs(got[1] - want[1]) <= 1e-6 + 1e-5 * abs(want[1]), (got, want)


def test_statistics_inside_a_loss():
    """A z-score style loss through mean and stdev of values computed from the inputs.

    Today: without the rules: fails (NoRuleError); with them: passes.
    """
    def f(xs):
        sq = [x * x for x in xs]
        m, s = statistics.mean(sq), statistics.stdev(sq)
        return sum(((v - m) / s) ** 3 for v in sq)

    (want,) = numerical_gradient(f, ODD)
    (got,) = gradient(f, ODD)
    _close(got, want, rtol=1e-4)


def test_mean_and_variance_of_fractions_are_exact():
    """Fraction data: mean gives 1/n each, variance 2 (x_i - mean) / (n - 1), exactly.

    Today: without the rules: fails (NoRuleError); with them: passes.
    """
    data = [Fraction(1, 2), Fraction(3, 4), Fraction(2, 1)]
    m = sum(data) / 3
    assert gradient(statistics.mean, data) == ([Fraction(1, 3)] * 3,)
    assert gradient(statistics.variance, data) == ([Fraction(2) * (x - m) / 2 for x in data],)


def test_harmonic_mean_with_a_zero():
    """A zero in the data: statistics returns 0; the one-sided slope in the zero entry is
    W / w_i = n (only x_i > 0 is in the domain), 0 for the others.

    Today: without the rules: fails (KeyError, no rule); with them: passes.
    """
    from dpnb.rules.registry import RULES

    y, back = RULES[statistics.harmonic_mean]([1.0, 0.0, 2.0])
    assert y == 0
    assert back(1.0) == (None, [0.0, 3.0, 0.0])
    h = 1e-7
    assert abs(statistics.harmonic_mean([1.0, h, 2.0]) / h - 3.0) < 1e-5


def test_stdev_of_equal_data_is_not_nan():
    """All the data equal: stdev is 0 and the rule gives 0, not nan.

    Today: without the rules: fails (NoRuleError); with them: passes.
    """
    (g,) = gradient(statistics.stdev, [1.5, 1.5, 1.5])
    assert g == [0.0, 0.0, 0.0]
