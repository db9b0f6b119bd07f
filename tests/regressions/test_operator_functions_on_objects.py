"""The `operator` module's functions given an object of a class of the user's (`operator.pos(a)`,
`operator.floordiv(a, 2)`, `functools.reduce(operator.mul, objects)`): they took the numbers'
rules, which ran the class's method out of sight (1.0 for 7.0; None) or crashed (`operator.sub`,
`truediv`, `mod`, `neg`). They run the class's own methods as the user's code now, as `a // 2`
does. Numbers and arrays keep their rules. Checked against central differences."""
import functools
import operator

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class M:
    def __init__(self, v):
        self.v = v

    def __sub__(self, o):
        return M(self.v - (o.v if isinstance(o, M) else o))

    def __truediv__(self, o):
        return M(self.v / o)

    def __floordiv__(self, o):
        return M(self.v * 6)

    def __mod__(self, o):
        return M(self.v * 5)

    def __neg__(self):
        return M(-2 * self.v)

    def __pos__(self):
        return M(self.v * 7)

    def __mul__(self, o):
        return M(self.v * (o.v if isinstance(o, M) else o))

    __rmul__ = __mul__


CASES = {
    "sub": lambda t: operator.sub(M(t), M(1.0)).v,
    "truediv": lambda t: operator.truediv(M(t), 4.0).v,
    "floordiv": lambda t: operator.floordiv(M(t), 2).v,
    "mod": lambda t: operator.mod(M(t), 2).v,
    "neg": lambda t: operator.neg(M(t)).v,
    "pos": lambda t: operator.pos(M(t)).v,
    "reduce_mul": lambda t: functools.reduce(operator.mul, [M(t), 3.0, M(2.0)]).v,
    "numbers": lambda t: operator.mul(t, 3.0) + operator.neg(t) + operator.pos(np.array([t]))[0],
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_against_differences(name):
    f = CASES[name]
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)
