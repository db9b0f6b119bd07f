"""The draws with location and scale parameters (`normal`, `uniform`, `lognormal`, ...), as
methods of `Generator` and `RandomState` (gradchecked: `check_rrule` copies the generator with the
other arguments, so every call draws alike) and as functions of `np.random` (the global state is
seeded again before every call). With the generator's state fixed a draw is a smooth function of
its parameters; its gradient is the pathwise one."""
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

test_draw_method_rule = table_test(CASES, max_examples=2)

GLOBAL = [getattr(np.random, n) for n in _TWO + _ONE]
CASES = CASES + [C(f, 1.0, wrt=[]) for f in GLOBAL]


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
