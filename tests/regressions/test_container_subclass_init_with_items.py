"""A subclass of list or dict whose `__init__` hands its items to the built-in one
(`super().__init__([v])`, `super().__init__(pairs)`): refused with a NoRuleError that named the
user's own `__init__`. The built-in `__init__` on the empty new object is `extend` (`update`),
which dpnb follows. Checked against central differences, `jvp` and the Hessian."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Stack(list):
    def __init__(self, v):
        super().__init__([v, v * v])

    def top(self):
        return self[-1]


class Table(dict):
    def __init__(self, a, b):
        super().__init__({"a": a, "b": b * a})

    def total(self):
        return self["a"] * self["b"]


def _stack(x):
    s = Stack(x * 2)
    s.append(x * x)
    return s.top() * s[1] + s[0]


def _table(x):
    t = Table(x, 3.0)
    t["c"] = t["a"] ** 3
    return t.total() + t["c"]


def _stack_of_arrays(x):
    s = Stack(np.sin(x))
    return np.sum(s[0] * s[1])


@pytest.mark.parametrize("f, x", [(_stack, 1.5), (_table, 0.7), (_stack_of_arrays, np.array([0.3, -1.1]))])
def test_against_differences(f, x):
    (g,) = dpnb.gradient(f, x)
    assert np.allclose(g, numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-8)
    t = np.ones_like(x) if isinstance(x, np.ndarray) else 1.0
    assert np.allclose(dpnb.jvp(f, (x,), (t,))[1], np.sum(g * t))


def test_the_hessian():
    f = lambda v: _stack(v[0]) * v[1]  # noqa: E731
    x = np.array([1.5, 0.5])
    H = dpnb.hessian(f, x)
    eps = 1e-5
    cols = [(dpnb.gradient(f, x + eps * e)[0] - dpnb.gradient(f, x - eps * e)[0]) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(H, np.stack(cols, axis=1), rtol=1e-5, atol=1e-6)

