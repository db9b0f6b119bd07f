"""`np.percentile` and `np.quantile` were refused: dpnb differentiates NumPy's own Python code for
them, which asks for `out=...` (NumPy's "an array, not a scalar") and partitions a copy of its
array in place (`a.partition(kth)`); both were refused. `out=...` is now the call without an
array given (its scalar result a 0-d array), and `a.partition(kth, axis)` the change
`a[...] = np.partition(a, kth, axis)`. `np.ptp` (NumPy's `maximum.reduce` minus its
`minimum.reduce`, which had no rules) was refused too. Each gradient is checked against central differences,
the Hessian against differences of the gradient, `jvp` against the gradient."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import gradient_differences
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import gradient_differences

RNG = np.random.default_rng(5)
X = RNG.standard_normal((5, 4))
W = RNG.standard_normal(50)


def weighted(y):
    y = np.asarray(y).ravel()
    return np.sum(y * W[: y.size])


def pct_all(x):
    return weighted(np.percentile(x, [5, 50, 95]))


def pct_keepdims(x):
    return weighted(np.percentile(x, 30, axis=0, keepdims=True))


def pct_two_axes(x):
    return weighted(np.percentile(x, 70, axis=(0, 1)))


def quantile_grid(x):
    return weighted(np.quantile(x, np.array([[0.1, 0.4], [0.6, 0.9]]), axis=1))


def quantile_weibull(x):
    return weighted(np.quantile(x, 0.37, axis=1, method="weibull"))


def quantile_lower(x):
    return weighted(np.quantile(x, [0.2, 0.8], method="lower"))


def pct_of_a_view(x):
    return weighted(np.percentile(x[::2, 1:], 40, axis=0))


def partition_in_place(x):
    a = x * 1.0
    a.partition(2, axis=1)
    return weighted(a)


def partition_by_keyword(x):
    a = x * 2.0
    a.partition(kth=[1, 3], axis=0)
    return weighted(a)


def divide_into_ellipsis(x):
    return weighted(np.divide(x, 3.0, out=...)) + float(np.add(x[0, 0], 1.5, out=...) * 0.5)


def peak_to_peak(x):
    return weighted(np.ptp(x, axis=0)) + float(np.ptp(x[1]))


CASES = [peak_to_peak, pct_all, pct_keepdims, pct_two_axes, quantile_grid, quantile_weibull, quantile_lower, pct_of_a_view,
         partition_in_place, partition_by_keyword, divide_into_ellipsis]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, X.copy())
    (want,) = numerical_gradient(f, X.copy())
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7)


def scaled_into_ellipsis(x):
    y = np.multiply(x, 2.0, out=...)
    assert type(y) is np.ndarray and y.ndim == 0  # as NumPy gives it: a 0-d array, not a scalar
    return float(y) * x


def test_out_ellipsis_gives_an_array():
    r = dpnb.withgradient(scaled_into_ellipsis, 1.5)
    assert r.val == pytest.approx(4.5) and r.grad[0] == pytest.approx(6.0)


def spread(x):
    return np.sum(np.percentile(x, [20, 60], axis=0) ** 2)


def test_hessian_and_jvp_of_a_percentile():
    x = X.copy()
    np.testing.assert_allclose(dpnb.hessian(spread, x).reshape(x.size, x.size), gradient_differences(spread, x).reshape(x.size, x.size), atol=1e-5)
    t = RNG.standard_normal(x.shape)
    _, yd = dpnb.jvp(spread, (x,), (t,))
    assert yd == pytest.approx(np.sum(dpnb.gradient(spread, x)[0] * t))
