"""A tuple unpacked inside a `try` into a closure variable (a cell) and a plain local: the local's
value was never copied to the version the code after the `try` reads, so the transform of such a
function raised `NameError: name 'y_1' is not defined`. `registry._checked`'s wrapper of every
user rule is such a function, so second derivatives through a user rule failed the same way
(`test_hessian_forward_over_reverse.py::test_hessian_through_a_user_rule`)."""
import math

import numpy as np
import pytest

import dpnb
from dpnb.testing import gradcheck


def unpack_next_to_a_cell(x):
    out = (math.sin(x) * x, 2.0 + x)
    try:
        y, k = out
    except (TypeError, ValueError):
        raise ValueError("not a pair") from None

    def scaled(b):
        return b * k

    return y * scaled(3.0)


def unpack_next_to_a_cell_in_else(x):
    try:
        pair = (x * x, math.cos(x))
    except ZeroDivisionError:
        return 0.0
    else:
        a, c = pair

    def read():
        return c * a

    return read() + a


def unpack_next_to_cells_in_a_with(x):
    import contextlib

    with contextlib.nullcontext():
        p, q, r = (x, x * 2.0, math.exp(x))

    def total():
        return q * r

    return p * total()


@pytest.mark.parametrize("f", [unpack_next_to_a_cell, unpack_next_to_a_cell_in_else, unpack_next_to_cells_in_a_with])
@pytest.mark.parametrize("x", [0.3, -1.1])
def test_gradient(f, x):
    assert gradcheck(f, x)
    y, (g,) = dpnb.withgradient(f, x)
    assert y == f(x)
    _, back = dpnb.pullback(f, x)
    assert back(1.0)[0] == pytest.approx(g, rel=1e-12)


def test_second_derivative():
    f = unpack_next_to_a_cell
    x = 0.4
    h = dpnb.hessian(f, x)
    eps = 1e-5
    fd = (dpnb.gradient(f, x + eps)[0] - dpnb.gradient(f, x - eps)[0]) / (2 * eps)
    assert float(h) == pytest.approx(fd, rel=1e-6)
