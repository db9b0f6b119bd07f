"""With the generator's state fixed, `rng.normal(mu, sigma)` is `mu + sigma * z`: its gradient
with respect to `mu` and `sigma` is the pathwise one, which finite differences with the same seed
reproduce. These draws were in the table of constants, so the gradient was silently zero."""
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
