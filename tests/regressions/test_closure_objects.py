"""An object (an array, a list, a dict) held in a closure variable and read by the closure after
the function that made it returned: the cotangent the closure gives it must reach the object's
maker. This is also how every NumPy rule's pullback keeps its output, so second derivatives
through rules depend on it (`hessian(lambda x: np.sum(np.exp(x)), x)` was all zeros)."""
import math

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

X = np.array([0.3, -0.5, 0.7])


def _make_array_reader(x):
    y = np.exp(x)

    def read(g):
        return g * y

    return y, read


def _make_list_reader(x):
    box = [x * 2.0, x * 3.0]

    def read(g):
        return g * box[0] + box[1]

    return box, read


def _make_dict_reader(x):
    d = {"a": np.sin(x)}

    def read(g):
        return g * d["a"]

    return d, read


def array_closure(x):
    _, read = _make_array_reader(x)
    return np.sum(read(np.ones(3)))


def list_closure(x):
    _, read = _make_list_reader(x)
    return np.sum(read(2.0))


def dict_closure(x):
    _, read = _make_dict_reader(x)
    return np.sum(read(np.ones(3)) * x)


@pytest.mark.parametrize("f", [array_closure, list_closure, dict_closure], ids=lambda f: f.__name__)
def test_an_object_read_through_a_closure_passes_its_gradient_back(f):
    np.testing.assert_allclose(dpnb.gradient(f, X)[0], numerical_gradient(f, X)[0], rtol=1e-6, atol=1e-8)


def _hessian_by_differences(f, x, h=1e-5):
    g = lambda v: dpnb.gradient(f, v)[0]
    return np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(np.exp(x)),
        lambda x: np.sum(np.sin(x) * x),
        lambda x: np.sum(np.tanh(x[::-1]) * x),
        lambda x: math.exp(x[0]) * np.sum(np.cos(x)),
    ],
    ids=["sum_exp", "sin_times_x", "tanh_of_reversed", "math_and_numpy"],
)
def test_second_derivatives_through_elementwise_rules(f):
    np.testing.assert_allclose(dpnb.hessian(f, X), _hessian_by_differences(f, X), rtol=1e-5, atol=1e-6)
