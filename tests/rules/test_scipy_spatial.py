"""`scipy.spatial.distance.cdist` and `pdist` ('euclidean', 'sqeuclidean', 'cityblock'): the table,
zero distances (`cdist(X, X)`'s diagonal, repeated points), `jvp` against the pullback, Hessians
against differences of the gradient, and the metrics and options refused."""
import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.spatial.distance as ssd  # noqa: E402

from _tables import A, C, table_test  # noqa: E402
from dpnb import DifferentiationError, gradient, hessian, jvp, pullback  # noqa: E402
from dpnb.testing import numerical_gradient  # noqa: E402

CASES = []
for _m in ("euclidean", "sqeuclidean", "cityblock"):
    CASES += [
        C(ssd.cdist, A((4, 3), "distinct"), A((2, 3), "distinct"), _m),
        C(ssd.cdist, np.array([[0.3, -1.2]]), np.array([[1.0, 0.4], [-0.7, 0.9], [0.2, 2.1]]), metric=_m),
        C(ssd.pdist, A((5, 2), "distinct"), _m),
        C(ssd.pdist, A((3, 4), "distinct"), metric=_m),
    ]
CASES += [C(ssd.cdist, A((3, 2), "distinct"), A((3, 2), "distinct")), C(ssd.pdist, A((4, 3), "distinct"))]
test_spatial_rule = table_test(CASES)

rng = np.random.default_rng(3)
X = rng.standard_normal((5, 3))
Y = rng.standard_normal((4, 3))


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock"])
def test_jvp_hessian_and_differences(metric):
    def f(X):
        return np.concatenate([ssd.cdist(X, Y, metric).ravel() ** 2, np.exp(-ssd.pdist(X, metric))])

    v = rng.standard_normal(X.shape)
    y, ydot = jvp(f, (X,), (v,))
    np.testing.assert_allclose(ydot, (f(X + 1e-6 * v) - f(X - 1e-6 * v)) / 2e-6, rtol=1e-5, atol=1e-6)
    _, back = pullback(f, X)
    u = rng.standard_normal(y.shape)
    assert np.sum(u * ydot) == pytest.approx(np.sum(back(u)[0] * v), rel=1e-9)
    if metric == "cityblock":
        return  # piecewise linear: its Hessian is 0 but for |.|'s kinks, which differences cross
    w = np.linspace(0.5, 1.5, y.size)

    def loss(X):
        return np.sum(f(X) * w)

    H = np.reshape(hessian(loss, X), (X.size, X.size))
    for i in range(X.size):
        e = np.zeros(X.size)
        e[i] = 1e-5
        e = e.reshape(X.shape)
        col = (gradient(loss, X + e)[0] - gradient(loss, X - e)[0]) / 2e-5
        np.testing.assert_allclose(H[:, i], np.ravel(col), rtol=1e-5, atol=1e-6)


def test_zero_distances():
    # cdist(X, X): the diagonal is 0 whatever X is, so it adds nothing
    def self_distances(X):
        return np.sum(ssd.cdist(X, X) * np.arange(25.0).reshape(5, 5))

    def off_diagonal(X):
        i, j = np.triu_indices(5, 1)
        D = np.sqrt(np.sum((X[:, None] - X[None]) ** 2, axis=-1)[i, j])
        W = np.arange(25.0).reshape(5, 5)
        return np.sum(D * (W[i, j] + W[j, i]))

    np.testing.assert_allclose(gradient(self_distances, X)[0], gradient(off_diagonal, X)[0], rtol=1e-12)
    np.testing.assert_allclose(gradient(self_distances, X)[0], numerical_gradient(self_distances, X)[0],
                               rtol=1e-6, atol=1e-8)
    # a repeated point: the squared distance is smooth there, and its gradient comes out exact
    Z = np.vstack([X, X[:1]])
    g = gradient(lambda Z: np.sum(ssd.pdist(Z) ** 2), Z)[0]
    np.testing.assert_allclose(g, gradient(lambda Z: np.sum(ssd.pdist(Z, "sqeuclidean")), Z)[0], rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda X: np.sum(ssd.cdist(X, Y, "cosine")), "cosine"),
    (lambda X: np.sum(ssd.pdist(X, "minkowski", p=3)), "minkowski"),
    (lambda X: np.sum(ssd.cdist(X, Y, lambda u, v: np.sum(u * v))), "metric="),
    (lambda X: np.sum(ssd.pdist(X, "euclidean", w=np.ones(3))), "w="),
])
def test_refused(call, match):
    with pytest.raises(DifferentiationError, match=match):
        gradient(call, X)
