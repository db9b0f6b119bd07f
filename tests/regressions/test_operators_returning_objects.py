"""`~a` and a comparison of a class of the user's that returns an object (a number-carrying one,
not a bool) were taken as constants: the gradient through them was None where central
differences give -0.25 (`(~N(x)).v` at x = 2.0, `__invert__` giving N(1 / v)) and 3.0
(`(N(x) < N(3.0)).v`, `__lt__` giving N(v * o.v)). They are differentiated like the class's
other operators now; ints, bools and boolean arrays still give no gradient."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
import numpy as np

class N:
    def __init__(self, v):
        self.v = v

    def __invert__(self):
        return N(1.0 / self.v)

    def __lt__(self, o):
        return N(self.v * o.v)

    def __eq__(self, o):
        return N(self.v - o.v)

def inverted(x):
    return (~N(x)).v

def compared(x):
    return (N(x) < N(3.0)).v

def compared_reflected(x):
    return (N(3.0) > N(x)).v * x

def equal(x):
    e = N(x) == N(0.5)
    return e.v * e.v

def inverted_twice(x):
    a = N(x)
    b = ~a
    return (~b).v + b.v

def masked(x):
    a = np.array([x, 2.0 * x, -x])
    keep = ~(a < 0)
    return float(np.sum(a[keep]))

def inverted_int(x):
    k = ~3
    return x * k
'''

CASES = ["inverted", "compared", "compared_reflected", "equal", "inverted_twice", "masked", "inverted_int"]


@pytest.mark.parametrize("name", CASES)
def test_gradient_through_the_operator(load_module, name):
    f = getattr(load_module(SOURCE), name)
    y, (g,) = dpnb.withgradient(f, 2.0)
    assert y == pytest.approx(f(2.0), rel=1e-12)
    assert g is not None and float(g) == pytest.approx(numerical_gradient(f, 2.0)[0], rel=1e-6)


@pytest.mark.parametrize("name", ["inverted", "compared", "equal"])
def test_forward_mode_and_second_derivative(load_module, name):
    f = getattr(load_module(SOURCE), name)
    _, t = dpnb.jvp(f, (2.0,), (1.0,))
    assert float(t) == pytest.approx(numerical_gradient(f, 2.0)[0], rel=1e-6)
    h = dpnb.hessian(f, 2.0)
    eps = 1e-4
    want = (dpnb.gradient(f, 2.0 + eps)[0] - dpnb.gradient(f, 2.0 - eps)[0]) / (2 * eps)
    assert float(np.squeeze(h)) == pytest.approx(want, rel=1e-5, abs=1e-7)
