"""A metaclass with a `__call__` of its own (a hook around making an instance): dpnb made the
instance without it, so the value itself was wrong (0.7 for 1.4) and the gradient that of
another function. The metaclass's `__call__` runs as the user's code now, and the
`super().__call__(...)` or `type.__call__(cls, ...)` in it makes the instance as a class call
does. Checked against the plain call's value and central differences."""
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Doubling(type):
    def __call__(cls, *a, **k):
        obj = super().__call__(*a, **k)
        obj.v = obj.v * 2
        return obj


class Doubled(metaclass=Doubling):
    def __init__(self, v, s=1.0):
        self.v = v * s


class Registering(type):
    made = []

    def __call__(cls, *a):
        obj = type.__call__(cls, *a)
        Registering.made.append(obj)
        return obj


class Registered(metaclass=Registering):
    def __init__(self, v):
        self.v = v


def doubled(x):
    return Doubled(x).v


def doubled_keyword(x):
    return Doubled(x, s=x).v


def registered(x):
    return Registered(x).v * 5


@pytest.mark.parametrize("f", [doubled, doubled_keyword, registered], ids=lambda f: f.__name__)
def test_value_and_gradient(f):
    r = dpnb.withgradient(f, 0.7)
    assert r.val == pytest.approx(f(0.7), rel=1e-15)
    assert r.grad[0] == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)
