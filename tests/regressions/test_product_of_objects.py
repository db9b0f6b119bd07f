"""`math.prod` of objects of a class of the user's: `gradient` crashed (AttributeError: 'int'
object has no attribute 'v', the rule multiplying the cotangent by the objects as numbers) and
`jvp` with it, where central differences give 3.0 (`math.prod([N(x), N(3.0)]).v` at x = 2.0).
The product runs each `*` as the class's own `__mul__` or `__rmul__` now, as the user's code."""
import math

import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
import math

log = []

class N:
    def __init__(self, v):
        self.v = v

    def __mul__(self, o):
        log.append(self.v)
        return N(self.v * (o.v if isinstance(o, N) else o))

    def __rmul__(self, o):
        return N(o * self.v)

def product(x):
    return math.prod([N(x), N(3.0)]).v

def product_from(x):
    return math.prod([N(x), N(x)], start=N(0.5)).v

def product_changes(x):
    log.clear()
    math.prod([N(x), N(3.0), N(x)])
    return sum(log)

def numbers(x):
    return math.prod([x, 3.0, x])
'''


@pytest.mark.parametrize("name", ["product", "product_from", "product_changes", "numbers"])
def test_product_of_objects(load_module, name):
    f = getattr(load_module(SOURCE), name)
    y, (g,) = dpnb.withgradient(f, 2.0)
    want = numerical_gradient(f, 2.0)[0]
    assert y == pytest.approx(f(2.0), rel=1e-12)
    assert g is not None and float(g) == pytest.approx(want, rel=1e-6)
    _, t = dpnb.jvp(f, (2.0,), (1.0,))
    assert float(t) == pytest.approx(want, rel=1e-6)
