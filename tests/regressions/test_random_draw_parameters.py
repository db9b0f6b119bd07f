"""With the generator's state fixed, `rng.normal(mu, sigma)` is `mu + sigma * z`: its gradient
with respect to `mu` and `sigma` is the pathwise one, which finite differences with the same seed
reproduce. These draws were in the table of constants, so the gradient was silently zero.

The draws with shape parameters (`beta`, `gamma`, `chisquare`, `dirichlet`, ...,
`multivariate_normal`) were constants too: a gradient through `rng.gamma(a)` to a differentiated
`a` was None, and so was one to the mean of `multivariate_normal` or the scale of `gamma`, which
have pathwise derivatives. Those now have them; a shape parameter's is refused when a
differentiated value reaches it (a constant shape, and the draw itself, are as before)."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


def _through(name, make):
    def f(a, b):
        rng = make()
        return np.sum(getattr(rng, name)(a, b, size=4) ** 2)

    return f


DRAWS = ["normal", "laplace", "gumbel", "logistic", "uniform", "lognormal"]
MAKERS = {"Generator": lambda: np.random.default_rng(5), "RandomState": lambda: np.random.RandomState(5)}


@pytest.mark.parametrize("maker", list(MAKERS))
@pytest.mark.parametrize("name", DRAWS)
def test_location_scale_draws_have_their_pathwise_gradient(name, maker):
    f = _through(name, MAKERS[maker])
    np.testing.assert_allclose(dpnb.gradient(f, 0.3, 1.2), numerical_gradient(f, 0.3, 1.2), rtol=1e-6)


def test_scale_draw_and_broadcast_parameters():
    def f(scale, loc):
        rng = np.random.default_rng(2)
        return np.sum(rng.exponential(scale, size=3) * rng.normal(loc, 2.0))

    scale, loc = np.array([0.5, 1.0, 2.0]), np.array([0.1, -0.2, 0.4])
    got = dpnb.gradient(f, scale, loc)
    want = numerical_gradient(f, scale, loc)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def _seeded(name, *params, **kw):
    rng = np.random.default_rng(9)
    return getattr(rng, name)(*params, **kw)


def gamma_scale(s):
    return np.sum(_seeded("gamma", 2.5, s, size=3) ** 2)


def mvn_mean(m):
    return np.sum(_seeded("multivariate_normal", m, np.eye(3), size=4) ** 2)


def vonmises_mu(m):
    return np.sum(np.sin(_seeded("vonmises", m, 2.0)))


def noise_with_constant_shapes(x):
    return np.sum(x * _seeded("beta", 2.5, 3.0, size=3)) + np.sum(x * _seeded("dirichlet", [1.0, 2.0, 3.0]))


def legacy_chisquare(x):
    np.random.seed(0)
    return np.sum(x * np.random.chisquare(3.0, size=3))


@pytest.mark.parametrize("f, x", [
    (gamma_scale, 1.7), (mvn_mean, np.array([0.1, -0.3, 0.8])), (vonmises_mu, np.array([0.2, 1.0, -2.0])),
    (noise_with_constant_shapes, np.array([0.5, -1.0, 2.0])), (legacy_chisquare, np.array([0.5, -1.0, 2.0])),
], ids=lambda v: getattr(v, "__name__", ""))
def test_draws_with_shape_parameters(f, x):
    np.testing.assert_allclose(dpnb.gradient(f, x)[0], numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-8)


def gamma_shape(a):
    return np.sum(_seeded("gamma", a, 1.0, size=3))


def beta_of_a_computed_shape(x):
    return np.sum(_seeded("beta", x * 2.0 + 1.0, 3.0))


def mvn_cov(c):
    return np.sum(_seeded("multivariate_normal", np.zeros(3), c @ c.T + np.eye(3)) ** 2)


@pytest.mark.parametrize("f, x, parameter", [
    (gamma_shape, 2.5, "shape"), (beta_of_a_computed_shape, np.array([0.5, 1.0]), "'a'"),
    (mvn_cov, np.eye(3) * 0.5, "cov"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_differentiated_shape_parameter_is_refused(f, x, parameter):
    with pytest.raises(dpnb.DifferentiationError, match=parameter):
        dpnb.gradient(f, x)


def test_hessian_through_a_location_draw():
    """The Hessian raised `AttributeError: 'getset_descriptor' object has no attribute 'partition'`:
    the check for Dask and CuPy arrays read the `__module__` of a C type that has none of its own."""

    def f(mu):
        return np.sum(np.random.default_rng(0).normal(mu, 2.0) ** 2)

    np.testing.assert_allclose(dpnb.hessian(f, np.array([0.5, 1.0])), 2 * np.eye(2))
