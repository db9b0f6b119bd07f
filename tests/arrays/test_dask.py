"""The same gradient code on Dask arrays, on a local cluster of two worker processes.

`gradient` of a loss over chunked Dask arrays returns lazy Dask arrays: building them
runs nothing (a scheduler that refuses to run stands in while they are built), and
`.compute()` / `dask.compute` runs them on the cluster. Each gradient equals NumPy's.
"""
import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import dpnb  # noqa: E402
from dpnb.testing import numerical_gradient
from dpnb import NoRuleError, gradient  # noqa: E402

try:
    from ._losses import data, least_squares, logistic, mlp, mlp_data
except ImportError:  # tests/ is not a package
    from _losses import data, least_squares, logistic, mlp, mlp_data


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


class _Refuse:
    """A scheduler that counts the computations asked of it and runs none."""

    def __init__(self):
        self.calls = 0

    def __call__(self, dsk, keys, **kwargs):
        self.calls += 1
        raise AssertionError("something was computed while the gradient was being built")


def lazy_gradient(f, *args):
    """`gradient(f, *args)`, checked to compute nothing."""
    refuse = _Refuse()
    with dask.config.set(scheduler=refuse):
        grads = gradient(f, *args)
    assert refuse.calls == 0
    for g in grads:
        assert g is None or isinstance(g, da.Array)
    return grads


def graph_size(x):
    return len(x.__dask_graph__())


def test_least_squares_on_the_cluster(client):
    X, y, _, w = data()
    Xd, yd, wd = da.from_array(X, chunks=(500, 20)), da.from_array(y, chunks=500), da.from_array(w)
    assert Xd.npartitions >= 8
    gw, gX, gy = lazy_gradient(least_squares, wd, Xd, yd)
    assert isinstance(gw, da.Array) and gX.chunks == Xd.chunks
    expected = gradient(least_squares, w, X, y)
    r = X @ w - y  # the reference itself checked against the exact gradient
    np.testing.assert_allclose(expected[0], 2 * X.T @ r / len(y), rtol=1e-10)
    np.testing.assert_allclose(expected[1], 2 * np.outer(r, w) / len(y), rtol=1e-10)
    np.testing.assert_allclose(expected[2], -2 * r / len(y), rtol=1e-10)
    got = dask.compute(gw, gX, gy)
    for g, e in zip(got, expected):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    loss = least_squares(wd, Xd, yd)
    print(f"least squares: graph of the loss {graph_size(loss)} tasks, of its gradient in w {graph_size(gw)}")


def test_logistic_regression_on_the_cluster(client):
    X, _, labels, w = data(seed=3)
    Xd, ld = da.from_array(X, chunks=(400, 20)), da.from_array(labels, chunks=400)
    wd = da.from_array(w)
    assert Xd.npartitions >= 8
    gw, gX, gl = lazy_gradient(logistic, wd, Xd, ld)
    (expected, _, _) = gradient(logistic, w, X, labels)
    m = -labels * (X @ w)  # the reference itself checked against the exact gradient
    np.testing.assert_allclose(expected, X.T @ (-labels / (1 + np.exp(-m))) / len(labels), rtol=1e-10)
    np.testing.assert_allclose(gw.compute(), expected, rtol=1e-10, atol=1e-12)
    print(f"logistic: loss {graph_size(logistic(wd, Xd, ld))} tasks, gradient {graph_size(gw)}")


def test_mlp_on_the_cluster(client):
    params, X, Y = mlp_data(batch=64)
    dparams = [da.from_array(p) for p in params]
    Xd, Yd = da.from_array(X, chunks=(8, 784)), da.from_array(Y, chunks=(8, 10))
    assert Xd.npartitions == 8
    grads = lazy_gradient(mlp, *dparams, Xd, Yd)
    expected = gradient(mlp, *params, X, Y)
    # the reference itself checked against central differences along a random direction
    rng = np.random.default_rng(5)
    for i, p in enumerate(params):
        v = rng.standard_normal(p.shape)
        eps = 1e-6
        hi = [q + eps * v if j == i else q for j, q in enumerate(params)]
        lo = [q - eps * v if j == i else q for j, q in enumerate(params)]
        fd = (mlp(*hi, X, Y) - mlp(*lo, X, Y)) / (2 * eps)
        assert np.sum(expected[i] * v) == pytest.approx(fd, rel=1e-5, abs=1e-8)
    got = dask.compute(*grads[:4])
    for g, e, p in zip(got, expected, params):
        assert g.shape == p.shape
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    print(f"mlp: loss {graph_size(mlp(*dparams, Xd, Yd))} tasks, gradient in W1 {graph_size(grads[0])}")


def test_a_numpy_parameter_with_dask_data_gets_a_dask_gradient(client):
    # NumPy and Dask arithmetic gives Dask: so does the gradient of the NumPy parameter
    X, y, _, w = data(n=800)
    Xd, yd = da.from_array(X, chunks=(100, 20)), da.from_array(y, chunks=100)
    gw, gX, gy = lazy_gradient(least_squares, w, Xd, yd)
    assert isinstance(gw, da.Array) and gw.shape == w.shape
    np.testing.assert_allclose(gw.compute(), gradient(least_squares, w, X, y)[0], rtol=1e-10)


def test_a_python_number_with_dask_data_gets_a_lazy_0d_gradient():
    X, y, _, w = data(n=400)
    Xd, yd = da.from_array(X, chunks=(100, 20)), da.from_array(y, chunks=100)

    def shifted(b, w, X, y):
        r = X @ w + b - y
        return np.sum(r * r)

    with dask.config.set(scheduler="sync"):
        gb, gw, _, _ = lazy_gradient(shifted, 0.5, da.from_array(w), Xd, yd)
        assert gb.shape == ()
        assert float(gb.compute()) == pytest.approx(gradient(shifted, 0.5, w, X, y)[0], rel=1e-10)


def test_a_rule_that_would_convert_refuses_dask_arrays():
    Xd = da.from_array(np.eye(4) * 2.0, chunks=2)
    with pytest.raises(NoRuleError, match=r"numpy\.linalg\.inv.*dask"):
        gradient(lambda A: np.sum(np.linalg.inv(A)), Xd)
    with pytest.raises(NoRuleError, match=r"numpy\.asarray.*dask"):
        gradient(lambda A: np.sum(np.asarray(A)), Xd)
    with pytest.raises(NoRuleError, match=r"getitem.*index array"):
        gradient(lambda A: np.sum(A[np.array([0, 0, 1])]), Xd)


def test_methods_attributes_and_slices_of_dask_arrays():
    A = np.arange(24.0).reshape(4, 6) / 10
    Ad = da.from_array(A, chunks=2)

    def f(A):
        B = A.T.reshape(6, 2, 2)[1:, ::2]
        return (B.sum(axis=0) ** 2).mean() + A.max() * A.astype(np.float32).std()

    with dask.config.set(scheduler="sync"):
        (g,) = lazy_gradient(f, Ad)
        np.testing.assert_allclose(g.compute(), gradient(f, A)[0], rtol=1e-5)

    # the reference itself, against central differences (with float64 in place of float32, whose
    # rounding differences at a step of 1e-6 would swamp)
    def f64(A):
        B = A.T.reshape(6, 2, 2)[1:, ::2]
        return (B.sum(axis=0) ** 2).mean() + A.max() * A.astype(np.float64).std()

    np.testing.assert_allclose(gradient(f, A)[0], gradient(f64, A)[0], rtol=1e-5)
    np.testing.assert_allclose(gradient(f64, A)[0], numerical_gradient(f64, A)[0], rtol=1e-6, atol=1e-8)
