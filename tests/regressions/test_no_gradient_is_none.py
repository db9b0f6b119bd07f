"""`gradient` hands back None where no gradient reaches an argument (SPEC §1), on every way.

Found earlier and fixed now: forward mode and the joined form (the ways a function of one float
takes) compute a derivative as a number, so a result reached only through a callee that returns
a constant, through recursion that ends in a constant, or through a branch not taken gave 0.0
where `pullback` gave None. A float 0.0 from them now sends the call the reverse way, which
tells a zero from no gradient at all; a derivative that is exactly zero stays 0.0.
"""
import numpy as np
import pytest

import dpnb


def three(x):
    return 3.0


def through_a_constant(x):
    return three(x) * 2.0


def rec(x, n):
    if n == 0:
        return 1.0
    return rec(x, n - 1)


def through_recursion(x):
    return rec(x, 3)


def branch_not_taken(x):
    y = x * 0 if False else 5.0
    return y


def stationary(x):
    return 3 * x**2 + 2 * x + 1  # zero slope at x = -1/3


def times_zero(x):
    return x * 0.0


def two_args(x, n):
    return three(x) + n * 0.0 + x * 0.0


@pytest.mark.parametrize("f", [through_a_constant, through_recursion, branch_not_taken])
def test_no_gradient_is_none_on_every_way(f):
    for _ in range(3):  # the first call builds; the others take the cached fast ways
        assert dpnb.gradient(f, 0.5) == (None,)
        assert dpnb.withgradient(f, 0.5).grad == (None,)
        assert dpnb.pullback(f, 0.5)[1](1.0) == (None,)
    assert dpnb.derivative(f)(0.5) == 0.0


@pytest.mark.parametrize("f,x", [(stationary, -1 / 3), (times_zero, 2.0)])
def test_an_exact_zero_stays_a_zero(f, x):
    for _ in range(3):
        g = dpnb.gradient(f, x)
        assert g == (0.0,) and type(g[0]) is float
    assert dpnb.withgradient(f, x).grad == (0.0,)


def test_a_zero_among_several_arguments():
    assert dpnb.gradient(two_args, 0.5, 2.0) == (0.0, 0.0)
    assert dpnb.gradient(two_args, 0.5, 2) == (0.0, 0.0)
    assert dpnb.gradient(lambda x, y: three(x) * y, 0.5, 2.0) == (None, 3.0)


def test_a_nonzero_derivative_takes_the_fast_way():
    assert dpnb.gradient(stationary, 0.5) == (5.0,)
    assert dpnb.gradient(stationary, np.float64(0.5))[0] == pytest.approx(5.0)
