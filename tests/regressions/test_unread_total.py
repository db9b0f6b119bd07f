"""`gradient` of array code whose value is the sum of an array runs plain code that does not sum
it (`core.plain._total_if_wanted`: the backward pass reads its shape only, and `gradient` hands
back no value); `withgradient`, through the same code, sums it. Every value and gradient here is
checked against NumPy computing the function, or against central differences."""
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import dpnb
from dpnb.core import plain
from dpnb.testing import gradcheck

RNG = np.random.default_rng(7)


def affine(W, x, b):
    return np.sum(W @ x + b)


def total(x):
    return np.sum(x)


def squared_total(x):
    s = np.sum(x)
    return s * s


def scaled(x, scale=3.0):
    return np.sum(x * scale)


def make_closure(c):
    def f(x):
        return np.sum(np.sin(x) * c)

    return f


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray


def layer_loss(layer, x):
    return np.sum(np.tanh(layer.W @ x + layer.b))


LAYER = Layer(RNG.standard_normal((3, 4)), RNG.standard_normal(3))
XG = RNG.standard_normal(4)


def params_loss():
    return np.sum(np.tanh(LAYER.W @ XG + LAYER.b))


def test_the_sum_is_not_computed_for_gradient_and_is_for_withgradient():
    x = np.array([1e308, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # summing x overflows: a RuntimeWarning, here an error
        (g,) = dpnb.gradient(total, x)
    assert np.array_equal(g, [1.0, 1.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        r = dpnb.withgradient(total, x)
    assert r.val == np.inf and np.array_equal(r.grad[0], [1.0, 1.0])
    assert "_p_sum_unread" in plain.source(total, 1)


@pytest.mark.parametrize("n", [3, 40])  # (40 × 40 entries: the code that writes in place)
def test_affine_gradient_and_value(n):
    W, x, b = RNG.standard_normal((n, n)), RNG.standard_normal(n), RNG.standard_normal(n)
    gW, gx, gb = dpnb.gradient(affine, W, x, b)
    assert np.allclose(gW, np.outer(np.ones(n), x)) and np.allclose(gx, W.T @ np.ones(n)) and np.array_equal(gb, np.ones(n))
    r = dpnb.withgradient(affine, W, x, b)
    assert type(r.val) is np.float64 and r.val == np.sum(W @ x + b)
    gradcheck(affine, W, x, b)


def test_a_sum_read_again_is_computed():
    x = np.array([1.0, 2.0, 4.0])
    assert np.array_equal(dpnb.gradient(squared_total, x)[0], [14.0, 14.0, 14.0])
    r = dpnb.withgradient(squared_total, x)
    assert r.val == 49.0
    assert "_p_sum_unread" not in plain.source(squared_total, 1)


def test_with_a_default_and_with_a_closure():
    x = np.array([0.5, -1.0, 2.0])
    r = dpnb.withgradient(scaled, x)
    assert r.val == np.sum(x * 3.0) and np.array_equal(r.grad[0], [3.0, 3.0, 3.0])
    assert np.array_equal(dpnb.gradient(scaled, x)[0], [3.0, 3.0, 3.0])
    f = make_closure(2.5)
    r = dpnb.withgradient(f, x)
    assert r.val == np.sum(np.sin(x) * 2.5) and np.allclose(r.grad[0], np.cos(x) * 2.5)
    gradcheck(f, x)


def test_an_object_argument_and_params():
    r = dpnb.withgradient(layer_loss, LAYER, XG)
    assert r.val == layer_loss(LAYER, XG)
    g = dpnb.gradient(layer_loss, LAYER, XG)
    d = 1 - np.tanh(LAYER.W @ XG + LAYER.b) ** 2
    assert np.allclose(g[0].W, np.outer(d, XG)) and np.allclose(g[0].b, d) and np.allclose(g[1], LAYER.W.T @ d)
    ps = dpnb.Params([LAYER.W, LAYER.b])
    r = dpnb.withgradient(params_loss, ps)
    assert r.val == params_loss()
    assert np.allclose(r.grad[LAYER.W], np.outer(d, XG)) and np.allclose(dpnb.gradient(params_loss, ps)[LAYER.b], d)


def test_a_sum_of_ints_or_complex_numbers_is_computed():
    x = np.array([1.0, 2.0])
    assert dpnb.gradient(lambda x: np.sum(np.arange(3)) * 1.0 + np.sum(x), x)[0].tolist() == [1.0, 1.0]
    with pytest.raises(dpnb.NonScalarOutputError):
        dpnb.gradient(lambda x: np.sum(x * 1j), x)
