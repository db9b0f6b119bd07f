"""A function that takes a gradient with respect to `Params` can be differentiated: dpnb followed
its own plain-code runner for Params and stopped on a loop's `else` (UnsupportedSyntaxError in
dpnb/core/plain.py). Under a second derivative the Params gradient takes the general way."""
import numpy as np

import dpnb
from dpnb.testing import numerical_gradient

W = np.array([[0.5, -1.0, 0.3], [0.2, 0.4, -0.7]])


def _own(x):
    g = dpnb.gradient(lambda: np.sum(x**3), dpnb.Params([x]))
    return np.sum(g[x])  # 3 sum(x²): its gradient 6x


def _global(x):
    g = dpnb.gradient(lambda: np.sum(np.tanh(W @ x) ** 2), dpnb.Params([W]))
    return np.sum(g[W] * W)


def test_the_gradient_of_a_params_gradient():
    x = np.array([1.5, -0.7, 0.5])
    assert np.allclose(dpnb.gradient(_own, x)[0], 6 * x)


def test_through_a_global_parameter_against_differences():
    x = np.array([0.4, -1.2, 0.8])
    (g,) = dpnb.gradient(_global, x)
    assert np.allclose(g, numerical_gradient(_global, x)[0], rtol=1e-5, atol=1e-7)
    t = np.array([1.0, 0.5, -2.0])
    assert np.isclose(dpnb.jvp(_global, (x,), (t,))[1], g @ t)
