"""The table of `np.nanquantile`, `np.nanpercentile` and `np.nanmedian` (method 'linear'): slices
with NaNs (which get no cotangent) along every kind of `axis`, `keepdims`, a `q` array whose
cotangent is checked too; `jvp` against the pullback, the Hessian against differences of the
gradient, and what is refused."""
import numpy as np
import pytest

from _tables import A, C, table_test
from dpnb import DifferentiationError, gradient, hessian, jvp, pullback
from dpnb.testing import numerical_gradient

_RNG = np.random.default_rng(11)
# distinct values, a NaN or four in some slices, none all NaN
XN = _RNG.permutation(np.linspace(-2.0, 2.0, 60)).reshape(4, 5, 3)
XN[1, 2, 0] = XN[0, 1, 2] = np.nan
XN[3, :4, 1] = np.nan

CASES = [
    C(np.nanquantile, A((7,), "distinct"), 0.3),
    C(np.nanquantile, A((2, 5), "distinct"), A((2,), "tiny"), axis=1),
    C(np.nanquantile, XN, np.array([0.15, 0.5, 0.9]), axis=1),
    C(np.nanquantile, XN, np.array([[0.0, 1.0], [0.25, 0.8]]), 2, wrt=[0]),  # (q at its ends: a one-sided slope)
    C(np.nanquantile, A((3, 4), "distinct", np.float32), 0.35, rtol=2e-3, atol=2e-4),
    C(np.nanpercentile, XN, 40.0, axis=(0, 2), keepdims=True),
    C(np.nanpercentile, A((6,), "distinct"), np.array([12.5, 70.0])),
    C(np.nanmedian, XN, axis=0),
    C(np.nanmedian, XN, -1, None, True),  # overwrite_input=True: the value is computed without it
    C(np.nanmedian, A((3, 4), "distinct")),
    C(np.nanmedian, A((2, 3, 4), "distinct"), axis=(1, 2), keepdims=True),
]
test_quantile_rule = table_test(CASES)

W = _RNG.uniform(0.5, 1.5, (2, 4, 3))


def quantiles(x):  # (x's NaNs meet no product before the quantiles: 0 * NaN is NaN)
    return np.sum(np.nanquantile(x, [0.2, 0.7], axis=1) ** 2 * W) + np.nanmedian(x) * np.nanpercentile(x, 35)


@pytest.mark.parametrize("x", [XN.copy(), _RNG.standard_normal((4, 5, 3))], ids=["nan", "plain"])
def test_jvp_hessian_and_differences(x):
    g = gradient(quantiles, x)[0]
    np.testing.assert_allclose(g, np.nan_to_num(numerical_gradient(quantiles, x)[0]), rtol=1e-6, atol=1e-8)
    v = _RNG.standard_normal(x.shape)
    _, ydot = jvp(quantiles, (x,), (v,))
    assert ydot == pytest.approx(np.sum(g * v), rel=1e-9)
    _, back = pullback(lambda x: np.nanquantile(x, 0.4, axis=(0, 1)), x)
    u = _RNG.standard_normal(3)
    _, yd = jvp(lambda x: np.nanquantile(x, 0.4, axis=(0, 1)), (x,), (v,))
    assert np.sum(u * yd) == pytest.approx(np.sum(back(u)[0] * v), rel=1e-9)
    small = x[:2, :3, :2]

    def f(s):
        return np.sum(np.nanquantile(s, 0.6, axis=1) ** 3) * np.nanmedian(s)

    H = np.reshape(hessian(f, small), (small.size, small.size))
    eps = 1e-5
    for i in range(small.size):
        e = np.zeros(small.size)
        e[i] = eps
        e = e.reshape(small.shape)
        col = (gradient(f, small + e)[0] - gradient(f, small - e)[0]) / (2 * eps)
        np.testing.assert_allclose(H[:, i], np.ravel(col), rtol=1e-5, atol=1e-6)


def test_an_all_nan_slice_gets_no_cotangent():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        g = gradient(lambda x: np.nansum(np.nanmedian(x, axis=1)), x)[0]
    np.testing.assert_array_equal(g, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


def test_q_gets_the_mean_slope_at_a_kink():
    x = np.array([0.0, 1.0, 3.0, 7.0, 8.0])  # q = 0.5: h = 2, slopes 2 (below) and 4 (above) per 1/4
    (q_bar,) = gradient(lambda q: np.nanquantile(x, q), 0.5)
    assert q_bar == pytest.approx(4 * (2.0 + 4.0) / 2)


@pytest.mark.parametrize("call, match", [
    (lambda x: np.nanquantile(x, 0.3, method="nearest"), "nearest"),
    (lambda x: np.nanpercentile(x, 30, method="lower"), "lower"),
    (lambda x: np.nanquantile(x, 0.3, method="inverted_cdf", weights=np.ones(5)), "weights"),
])
def test_other_methods_are_refused(call, match):
    with pytest.raises(DifferentiationError, match=match):
        gradient(call, np.linspace(0.0, 1.0, 5))
