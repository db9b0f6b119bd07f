"""The plain code sums a cotangent over the leading axes it was broadcast along (a bias's, `x @ W +
b`) with the reduction `np.sum` makes, called without its dispatch, and hands back an array of its
own rather than a view: the same numbers, bit for bit, as the general formula, and the gradient a
user gets is theirs to write into. `d(a ** 2)/da` reads the exponent without `np.ndim` when it is
a Python number."""
import numpy as np
import pytest

import dpnb
from dpnb.core import fwdrev
from dpnb.testing import gradcheck


def by_formula(g, shape):
    """The general way of `_p_unbs`: every axis broadcast along, kept, then the shape."""
    gs = np.shape(g)
    if not shape:
        return np.sum(g)
    extra = len(gs) - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and gs[extra + i] != 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


@pytest.mark.parametrize("gshape,shape", [
    ((64, 10), (10,)), ((3, 4, 5), (5,)), ((3, 4, 5), (4, 5)), ((7, 1, 5), (5,)),  # leading axes only
    ((4, 5), (1, 5)), ((3, 4, 5), (4, 1)), ((3, 4, 5), (1, 5)), ((6,), ()), ((2, 3), (2, 3)),  # the others
])
def test_leading_axes_summed_as_np_sum_sums_them(gshape, shape):
    g = np.random.default_rng(0).standard_normal(gshape) * 1e3 + 0.1  # (sums whose rounding shows)
    got, want = fwdrev._p_unbs(g, shape), by_formula(g, shape)
    assert np.shape(got) == shape
    assert np.array_equal(got, want)  # the same reduction: the same numbers, not only close ones
    if len(gshape) > len(shape) and shape and gshape[len(gshape) - len(shape):] == shape:
        assert got.base is None, "a view of the summed array, not one of its own"


def test_other_dtypes_take_the_general_formula():
    g = np.arange(12).reshape(3, 4)
    got = fwdrev._p_unbs(g, (4,))
    assert got.dtype == np.sum(g, axis=0).dtype and np.array_equal(got, [12, 15, 18, 21])
    c = g * (1 + 1j)
    assert np.array_equal(fwdrev._p_unbs(c, (4,)), np.sum(c, axis=0))


def dense(W, b, x):
    return np.sum(np.tanh(x @ W + b) ** 2)


def test_a_bias_gradient_is_right_and_an_array_of_its_own():
    rng = np.random.default_rng(1)
    W, b, x = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((5, 4))
    gradcheck(dense, W, b, x)
    gW, gb, gx = dpnb.gradient(dense, W, b, x)
    again = dpnb.gradient(dense, W, b, x)[1]
    assert gb.base is None and gb.flags.writeable and gb is not again
    want = gb.copy()
    gb[:] = 0.0  # the user's to change: the next gradient is not
    assert np.array_equal(dpnb.gradient(dense, W, b, x)[1], want)


@pytest.mark.parametrize("b", [0, 0.0, 2, 2.0, -1, np.float64(0.0), np.float64(3.0), np.array(0.0), np.array([0.0, 1.0]), True])
def test_a_zero_exponent_is_told_as_before(b):
    assert bool(np.all(fwdrev._zero_exponent(b))) == bool(np.ndim(b) == 0 and b == 0)


def powers(x):
    return np.sum(x ** 2) + np.sum(x ** 0) + np.sum(x ** 3.0)


def test_powers_with_number_exponents():
    x = np.array([0.0, -1.5, 2.0, 0.25])
    gradcheck(powers, x)
    (g,) = dpnb.gradient(powers, x)
    assert np.allclose(g, 2 * x + 3.0 * x ** 2, rtol=1e-15, atol=0)
