"""The `scipy.ndimage` filters table: `correlate`, `convolve` (n-d and 1-d), `gaussian_filter`,
`uniform_filter` (and their 1-d forms) in every boundary mode, with kernels longer than the input,
even sizes and origins; the extension the rules assume checked against SciPy's own results; `jvp`
against the pullback, Hessians against differences of the gradient, and what is refused."""
import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.ndimage as ndi  # noqa: E402
import scipy.signal as ssig  # noqa: E402

from _tables import A, C, table_test  # noqa: E402
from dpnb import DifferentiationError, gradient, hessian, jvp, pullback  # noqa: E402
from dpnb.rules.scipy.ndimage import _MODES, _extend, _plan  # noqa: E402

MODES = ["reflect", "mirror", "nearest", "wrap", "constant", "grid-wrap", "grid-constant", "grid-mirror"]

CASES = []
for _m in MODES[:5]:
    CASES += [
        C(ndi.correlate1d, A((6,)), A((3,)), mode=_m, cval=0.4),
        C(ndi.convolve1d, A((2, 5)), A((4,)), 0, mode=_m, origin=-1),
        C(ndi.correlate, A((4, 5)), A((3, 2)), mode=_m, cval=-0.3),
        C(ndi.convolve, A((3, 4)), A((2, 3)), None, _m, 0.5, (0, 1)),
        C(ndi.gaussian_filter, A((5, 4)), 1.2, mode=_m, cval=0.2, wrt=[0]),
        C(ndi.uniform_filter, A((5, 4)), 3, mode=_m, cval=0.3),
    ]
CASES += [
    C(ndi.correlate1d, A((3,)), A((8,)), mode="reflect"),  # a kernel longer than the input
    C(ndi.correlate1d, A((3,)), A((8,)), mode="mirror", origin=2),
    C(ndi.convolve1d, A((2,)), A((7,)), mode="wrap"),
    C(ndi.correlate, A((2, 3, 4)), A((3, 1, 2)), mode="nearest", origin=[0, 0, -1]),
    C(ndi.uniform_filter, A((4, 4)), 3, mode=["constant", "wrap"], cval=1.5),
    C(ndi.convolve, A((3, 3), "complex"), A((2, 2)), mode="reflect"),
    C(ndi.gaussian_filter, A((6, 5)), (0.8, 1.5), order=(0, 1), mode=("reflect", "constant"), wrt=[0]),
    C(ndi.gaussian_filter, A((7,)), 2.0, truncate=2.0, mode="mirror", wrt=[0]),
    C(ndi.gaussian_filter, A((3, 6)), 1.0, radius=2, axes=1, mode="wrap", wrt=[0]),
    C(ndi.gaussian_filter1d, A((4, 6)), 1.3, 0, 2, mode="nearest", wrt=[0]),
    C(ndi.gaussian_filter1d, A((9,)), 0.7, order=1, mode="constant", cval=0.3, wrt=[0]),
    C(ndi.uniform_filter, A((5, 4)), (2, 4), origin=(0, 1), mode="reflect"),
    C(ndi.uniform_filter, A((4, 4, 3)), 2, axes=(0, 2), mode="wrap"),
    C(ndi.uniform_filter1d, A((7,)), 4, mode="mirror", origin=-2),
    C(ndi.uniform_filter1d, A((3, 5)), 6, 0, mode="nearest"),
    C(ndi.uniform_filter, A((5,), "real", np.float32), 3, rtol=2e-3, atol=2e-4, eps=1e-3),
]
test_ndimage_rule = table_test(CASES, max_examples=2)


@pytest.mark.parametrize("mode", MODES)
def test_the_extension_is_scipys(mode):
    """`correlate_valid(extend(x), w)` is SciPy's `correlate1d`, for every size, origin and mode,
    kernels longer than the input included: the pullbacks are this map's adjoint."""
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5, 8):
        x = rng.standard_normal(n)
        for K in (1, 2, 3, 4, 7, 12):
            w = rng.standard_normal(K)
            for origin in range(-(K // 2), (K - 1) // 2 + 1):
                (axis, b, a, m), = _plan((0,), (K,), (origin,), (mode,))
                xp = _extend(x, 0, b, a, m, 0.7)
                want = ssig.correlate(xp, w, mode="valid", method="direct")
                got = ndi.correlate1d(x, w, mode=mode, cval=0.7, origin=origin)
                np.testing.assert_allclose(got, want, atol=1e-12, err_msg=f"n={n} K={K} origin={origin}")
                got = ndi.uniform_filter1d(x, K, mode=mode, cval=0.7, origin=origin)
                np.testing.assert_allclose(got, ssig.correlate(xp, np.full(K, 1 / K), "valid"), atol=1e-12)


X = np.random.default_rng(1).standard_normal((5, 6))
K = np.array([[0.2, -0.5], [1.0, 0.3], [0.4, 0.1]])
FILTERS = {
    "gaussian": lambda x: ndi.gaussian_filter(x, (1.0, 0.7), mode=("reflect", "wrap")) ** 2,
    "uniform": lambda x: ndi.uniform_filter(x ** 2, 3, mode="nearest"),
    "correlate": lambda x: ndi.correlate(x, x[:3, :2] * K, mode="constant", cval=0.5) ** 2,
    "convolve1d": lambda x: ndi.convolve1d(x, x[0, :4], axis=0, mode="mirror") * x,
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_jvp_hessian_and_differences(name):
    f = FILTERS[name]
    rng = np.random.default_rng(2)
    v = rng.standard_normal(X.shape)
    y, ydot = jvp(f, (X,), (v,))
    eps = 1e-6
    np.testing.assert_allclose(ydot, (f(X + eps * v) - f(X - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-6)
    _, back = pullback(f, X)
    u = rng.standard_normal(np.shape(y))
    assert np.sum(u * ydot) == pytest.approx(np.sum(back(u)[0] * v), rel=1e-9)
    small = X[:3, :4].copy()

    def loss(s):
        return np.sum(f(np.pad(s, ((0, 2), (0, 2)))) * np.linspace(0.5, 1.5, 30).reshape(5, 6))

    H = np.reshape(hessian(loss, small), (small.size, small.size))
    for i in range(small.size):
        e = np.zeros(small.size)
        e[i] = 1e-5
        e = e.reshape(small.shape)
        col = (gradient(loss, small + e)[0] - gradient(loss, small - e)[0]) / 2e-5
        np.testing.assert_allclose(H[:, i], np.ravel(col), rtol=1e-5, atol=1e-6)


def test_cval_gets_its_cotangent():
    def f(c):
        return np.sum(ndi.uniform_filter(X, 3, mode="constant", cval=c) ** 2) + np.sum(
            ndi.correlate(X, K, mode="constant", cval=c))

    g = gradient(f, 0.3)[0]
    assert g == pytest.approx((f(0.3 + 1e-6) - f(0.3 - 1e-6)) / 2e-6, rel=1e-6)


def test_refused():
    with pytest.raises(DifferentiationError, match="sigma"):
        gradient(lambda s: np.sum(ndi.gaussian_filter(X, s)), 1.2)
    with pytest.raises(DifferentiationError, match="output array"):
        gradient(lambda x: np.sum(ndi.uniform_filter(x, 3, output=np.empty_like(x))), X)
    with pytest.raises(DifferentiationError, match="axes"):
        gradient(lambda x: np.sum(ndi.correlate(x, K[:, 0], axes=(0,))), X)


def test_an_integer_result_has_no_gradient():
    g = gradient(lambda x: np.sum(ndi.uniform_filter((x * 10).astype(int), 3) * x), X)[0]
    want = ndi.uniform_filter((X * 10).astype(int), 3).astype(float)
    np.testing.assert_allclose(g, want)


def test_modes_are_the_documented_ones():
    assert set(MODES) == set(_MODES)
