"""An operand that is a name is read where Python reads it: before the operands after it, which
may bind the name again (a `:=`, a nested function's `nonlocal`).
normalize flattened `x + (x := 2 * x)` to `_t1 = 2 * x; x = _t1; _t2 = x + _t1`, reading the new
`x`: the value and the gradient were wrong (4.0 for 3.0), in forward mode and the reverse way.
Each function here gives a wrong number when a name is read late."""
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

def h(a, b):
    return a * 10.0 + b

def binop(x):
    return x + (x := 2.0 * x)

def product(x):
    return x * (x := 3.0)

def call_arguments(x):
    return h(x, (x := x * x))

def keyword_arguments(x):
    return h(b=(x := x * 3.0), a=x) + h(x, b=(x := 1.0))

def literal(x):
    v = [x, (x := x * 3.0)]
    return v[0] * 7.0 + v[1]

def dict_literal(x):
    d = {"a": x, "b": (x := x * x)}
    return d["a"] * 5.0 + d["b"]

def comparison(x):
    if x < (x := x * 0.5):
        return x
    return x * 3.0

def subscript(x):
    v = [x, 2.0]
    return v[(v := [x * 10.0, 1.0]) and 0]

def counter(x):
    total = x
    def step(v):
        nonlocal total
        total = total + v
        return v
    return total * step(x * x)

def augmented(x):
    s = x
    def bump():
        nonlocal s
        s = s * 3.0
        return 1.0
    s += bump()
    return s * 2.0

def unchanged(x):
    y = x * 2.0
    z = np.sin(y) * h(y, x) + y * h(x, y)
    return z
'''


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


NAMES = ["binop", "product", "call_arguments", "keyword_arguments", "literal", "dict_literal", "comparison",
         "subscript", "counter", "augmented", "unchanged"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("x", [1.5, 0.7])
def test_a_name_is_read_before_what_comes_after_it(m, name, x):
    f = getattr(m, name)
    (want,) = numerical_gradient(f, x)
    value, (got,) = dpnb.withgradient(f, x)
    assert value == f(x)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-9)
    (got,) = dpnb.gradient(f, x)  # (forward mode where it applies)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-9)
    value, (got,) = dpnb.withgradient(f, np.array([x]))
    assert np.ravel(value)[0] == pytest.approx(f(x), rel=1e-12)
    assert np.ravel(got)[0] == pytest.approx(want, rel=1e-6, abs=1e-9)
