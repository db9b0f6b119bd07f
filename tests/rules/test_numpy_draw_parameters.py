"""The draws with location and scale parameters (`normal`, `uniform`, `lognormal`, ...), as
methods of `Generator` and `RandomState` (gradchecked: `check_rrule` copies the generator with the
other arguments, so every call draws alike) and as functions of `np.random` (the global state is
seeded again before every call). With the generator's state fixed a draw is a smooth function of
its parameters; its gradient is the pathwise one. The draws with shape parameters (`beta`,
`gamma`, ...) carry it to a location or a scale where dpnb knows it."""
import numpy as np
import pytest

from _tables import A, C, table_test
from dpnb.rules.registry import RULES
from dpnb.testing import numerical_gradient

_TWO = ("normal", "laplace", "gumbel", "logistic", "uniform", "lognormal")
_ONE = ("exponential", "rayleigh")
_POSITIVE = A((3,), "pos")

CASES = []
for _cls, _make in ((np.random.Generator, np.random.default_rng), (np.random.RandomState, np.random.RandomState)):
    for _name in _TWO:
        CASES.append(C(getattr(_cls, _name), _make(3), A((3,)), _POSITIVE, wrt=[1, 2]))
        CASES.append(C(getattr(_cls, _name), _make(3), 0.5, 1.5, size=(2, 3), wrt=[1, 2]))
    for _name in _ONE:
        CASES.append(C(getattr(_cls, _name), _make(3), _POSITIVE, wrt=[1]))
        CASES.append(C(getattr(_cls, _name), _make(3), 1.5, size=4, wrt=[1]))

#: the draws with shape parameters, with values of their parameters and the positions (the
#: generator first) of those whose pathwise derivative dpnb knows: gamma's scale, vonmises' mu,
#: multivariate_normal's mean; a shape parameter's cotangent is a `NotImplementedTangent`
_SHAPED = {
    "beta": ((2, 3), []), "gamma": ((2, _POSITIVE), [2]), "standard_gamma": ((3,), []),
    "chisquare": ((3,), []), "noncentral_chisquare": ((3, 2), []), "f": ((3, 4), []),
    "noncentral_f": ((3, 4, 2), []), "standard_t": ((5,), []), "pareto": ((2,), []),
    "power": ((2,), []), "weibull": ((2,), []), "vonmises": ((A((3,)), 2), [1]), "wald": ((1, 2), []),
    "triangular": ((0, 1, 3), []), "dirichlet": ((np.array([1, 2, 3]),), []),
    "multivariate_normal": ((A((3,)), np.eye(3, dtype=int)), [1]),
}
# (the shape parameters given as ints: an integer-valued one gets no cotangent, so a sweep that
# differentiates every float argument (tests/arrays) runs these rows too; a float shape's
# `NotImplementedTangent` is checked in tests/regressions/test_random_draw_parameters.py)
for _cls, _make in ((np.random.Generator, np.random.default_rng), (np.random.RandomState, np.random.RandomState)):
    for _name, (_params, _wrt) in _SHAPED.items():
        CASES.append(C(getattr(_cls, _name), _make(3), *_params, wrt=_wrt))

test_draw_method_rule = table_test(CASES, max_examples=2)

GLOBAL = [getattr(np.random, n) for n in _TWO + _ONE]
CASES = CASES + [C(f, 1.0, wrt=[]) for f in GLOBAL] + [
    C(getattr(np.random, n), *(np.zeros(3) if isinstance(p, A) else p for p in params), wrt=[])
    for n, (params, _) in _SHAPED.items()]


@pytest.mark.parametrize("f", GLOBAL, ids=lambda f: f.__name__)
def test_draw_function_of_np_random(f):
    params = (0.4, 1.3)[: 1 if f.__name__ in _ONE else 2]

    def seeded(*p):
        np.random.seed(11)
        return np.sum(f(*p, size=5) ** 2)

    def by_rule(*p):
        np.random.seed(11)
        y, back = RULES[f](*p, size=5)
        return np.sum(y**2), back(2 * y)[1:]

    value, bars = by_rule(*params)
    assert value == seeded(*params)
    np.testing.assert_allclose(bars, numerical_gradient(seeded, *params), rtol=1e-6)
