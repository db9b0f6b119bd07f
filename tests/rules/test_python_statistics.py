"""The statistics rule table: the means, `median_grouped` and the spread functions, on drawn
data and on fixed odd and even lists; weights, a centre or an interval by position or by keyword
(its cotangent in the trailing dict).

Drawn data take each item from a different interval ("neg", "gt1", "tiny"), so no two
are equal (ties would make `median_grouped` and the standard deviations of equal data
non-differentiable); the means of positive data draw from positive intervals.
"""
import statistics

from _tables import A, C, S, Seq, table_test
from dpnb.rules.registry import RULES

ODD = [1.3, 0.4, 2.9, 1.1, 3.7]
EVEN = [2.2, 0.7, 3.1, 1.6, 0.9, 2.5]
WEIGHTS = [0.5, 1.0, 2.0, 0.3, 1.2]


def L(*specs):
    return Seq(list, specs)


def T(*specs):
    return Seq(tuple, specs)


SPREAD = L(S("neg"), S("gt1"), S("tiny"))
POSITIVE = L(S("tiny"), S("gt1"), S("pos"))

CASES = [
    C(statistics.mean, SPREAD),
    C(statistics.mean, T(S(), S())),
    C(statistics.mean, A((4,))),
    C(statistics.fmean, SPREAD),
    C(statistics.fmean, ODD, WEIGHTS),
    C(statistics.fmean, POSITIVE, L(S("pos"), S("pos"), S("pos"))),
    C(statistics.fmean, ODD, weights=WEIGHTS),
    C(statistics.geometric_mean, POSITIVE),
    C(statistics.geometric_mean, T(S("pos"), S("gt1"))),
    C(statistics.harmonic_mean, POSITIVE),
    C(statistics.harmonic_mean, [2.5]),
    C(statistics.harmonic_mean, ODD, WEIGHTS),
    C(statistics.harmonic_mean, POSITIVE, weights=[1.0, 0.5, 2.0]),
    C(statistics.median_grouped, ODD),
    C(statistics.median_grouped, EVEN, 0.5),
    C(statistics.median_grouped, SPREAD, S("pos")),
    C(statistics.median_grouped, A((5,), "distinct")),
    C(statistics.median_grouped, ODD, interval=2.0),
    C(statistics.pvariance, SPREAD),
    C(statistics.pvariance, ODD, S()),
    C(statistics.pvariance, ODD, mu=1.5),
    C(statistics.pvariance, A((3,), "distinct")),
    C(statistics.variance, SPREAD),
    C(statistics.variance, EVEN, 1.5),
    C(statistics.variance, T(S("neg"), S("pos")), xbar=0.25),
    C(statistics.pstdev, SPREAD),
    C(statistics.pstdev, ODD, 1.5),
    C(statistics.pstdev, ODD, mu=0.75),
    C(statistics.stdev, SPREAD),
    C(statistics.stdev, EVEN, S("pos")),
    C(statistics.stdev, EVEN, xbar=1.5),
    C(statistics._mean_stdev, SPREAD),
]


test_statistics_rule = table_test(CASES)


def test_a_centre_by_keyword_gets_its_cotangent_in_the_trailing_dict():
    # pvariance(data, mu) = sum((x - mu)^2) / n: d/dmu = -2 sum(x - mu) / n = -2 (mean - mu)
    _, back = RULES[statistics.pvariance]([1.0, 2.0, 6.0], mu=2.0)
    _, data_bar, kw = back(1.0)
    assert data_bar == [-2 / 3, 0.0, 8 / 3]
    assert kw == {"mu": -2 * (3.0 - 2.0)}
    # the default interval of median_grouped, not passed, gets nothing
    _, back = RULES[statistics.median_grouped]([1.0, 2.0, 6.0])
    assert len(back(1.0)) == 2
