"""`jvp` and `hessian` differentiate the rules' own pullbacks: `np.roll`'s read `.ndim` of a NumPy
scalar shift and `np.einsum`'s called `.reshape` on a NumPy scalar result (a full contraction), which
have no rules (NoRuleError numpy.int64.ndim / numpy.float64.reshape). Checked against the gradient
and against differences of it."""
import numpy as np
import pytest

import dpnb

X = np.array([1.0, 2.0, 3.0])
T = np.array([1.0, 0.5, -1.0])

CASES = {
    "roll": lambda x: np.sum(np.roll(x, 1) * x**2),
    "einsum to a scalar": lambda x: np.einsum("ii->", np.outer(x, x)) ** 2,
    "einsum broadcast": lambda x: np.sum(np.einsum("ij,j->i", np.outer(x, x), x[:1]) ** 2),
}


@pytest.mark.parametrize("name", CASES)
def test_jvp_agrees_with_the_gradient(name):
    f = CASES[name]
    (g,) = dpnb.gradient(f, X)
    _, d = dpnb.jvp(f, (X,), (T,))
    assert np.isclose(d, g @ T)


@pytest.mark.parametrize("name", CASES)
def test_hessian_agrees_with_differences_of_the_gradient(name):
    f = CASES[name]
    H = dpnb.hessian(f, X)
    eps = 1e-6
    cols = [(dpnb.gradient(f, X + eps * e)[0] - dpnb.gradient(f, X - eps * e)[0]) / (2 * eps) for e in np.eye(3)]
    assert np.allclose(H, np.stack(cols, axis=1), rtol=1e-5, atol=1e-5)
