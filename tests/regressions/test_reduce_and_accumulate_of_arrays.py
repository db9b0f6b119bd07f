"""`functools.reduce` and `itertools.accumulate` with a Python function over three or more arrays,
lists or objects of a class: the running value's cotangent, which waits on the heap for such
values, was not taken between two calls' pullbacks, so the first item's gradient was None, or
part of it missing (`reduce(add, [x, 2x, x*x], ones)` gave 1.4 for 4.4). Reduce over floats, or
over two items, was right. Checked against central differences, the Hessians against
differences of the gradient."""
import functools
import itertools

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import gradient_differences
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import gradient_differences

C3, C2 = np.array([3.0, 1.0]), np.array([2.0, 5.0])


def reduced_products(x):
    return np.sum(functools.reduce(lambda a, b: a * b, [x, C3, C2]))


def reduced_with_initial(x):
    return np.sum(functools.reduce(lambda a, b: a + b, [x, x * 2, x * x], np.ones(2)))


def reduced_matrix_products(x):
    return np.sum(functools.reduce(np.dot, [np.outer(x, x), np.eye(2) * 2.0, np.outer(x, C3)]))


def accumulated_products(x):
    return np.sum(list(itertools.accumulate([x, C3, C2], lambda a, b: a * b))[-1])


def accumulated_sums(x):
    return np.sum(list(itertools.accumulate([x, x * 2, x * x]))[1:][0])


class V:
    def __init__(self, v):
        self.v = v

    def __mul__(self, o):
        return V(self.v * o.v)


def reduced_objects(x):
    return np.sum(functools.reduce(lambda a, b: a * b, [V(x), V(C3), V(C2)]).v)


def accumulated_objects(x):
    return np.sum(list(itertools.accumulate([V(x), V(C3), V(C2)], lambda a, b: a * b))[-1].v)


CASES = [reduced_products, reduced_with_initial, reduced_matrix_products, accumulated_products, accumulated_sums,
         reduced_objects, accumulated_objects]
X = np.array([0.7, -0.2])


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, X.copy())
    assert g is not None
    np.testing.assert_allclose(g, numerical_gradient(f, X.copy())[0], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f", [reduced_products, reduced_matrix_products, accumulated_products],
                         ids=lambda f: f.__name__)
def test_hessian_and_jvp(f):
    np.testing.assert_allclose(dpnb.hessian(f, X.copy()), gradient_differences(f, X.copy()), atol=1e-5)
    t = np.array([0.3, -1.1])
    _, yd = dpnb.jvp(f, (X.copy(),), (t,))
    assert yd == pytest.approx(float(dpnb.gradient(f, X.copy())[0] @ t))
