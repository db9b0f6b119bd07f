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


# --- NumPy parameters with Dask data: the gradient reaches views and items of the parameters ---


class MLP:
    """The model of the course's chapter 6 (notebooks/06-training-a-model.ipynb), as it is there."""

    def __init__(self, rng, hidden=16):
        self.W1 = rng.normal(0.0, 1.0, size=(hidden, 1))
        self.b1 = np.zeros(hidden)
        self.W2 = rng.normal(0.0, 1.0 / np.sqrt(hidden), size=(1, hidden))
        self.b2 = np.zeros(1)

    def __call__(self, x):
        h = np.tanh(self.W1 @ x[None, :] + self.b1[:, None])
        return (self.W2 @ h + self.b2[:, None])[0]


def mlp_loss(model, x, y):
    return np.mean((model(x) - y) ** 2)


FIELDS = ("W1", "b1", "W2", "b2")


def with_params(*params):
    model = MLP.__new__(MLP)
    for k, p in zip(FIELDS, params):
        setattr(model, k, p)
    return model


def lazy_gradient_of_model(f, model, *data):
    """`gradient(f, model, *data)`, checked to compute nothing and to give the model a `Tangent`
    of Dask arrays shaped like its parameters."""
    refuse = _Refuse()
    with dask.config.set(scheduler=refuse):
        grads = gradient(f, model, *data)
    assert refuse.calls == 0
    gm = grads[0]
    assert isinstance(gm, dpnb.Tangent) and set(gm.fields) == set(FIELDS)
    for k in FIELDS:
        assert isinstance(gm.fields[k], da.Array) and gm.fields[k].shape == getattr(model, k).shape
    return grads


def curve(n=4000, seed=42):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, size=n)
    return x, np.sin(x) + 0.3 * x + rng.normal(0.0, 0.1, size=n)


def test_the_course_mlp_with_numpy_parameters_and_dask_data(client):
    # b1[:, None] and b2[:, None] are views of the parameters: their Dask cotangents go back
    # into the parameters' gradients, lazily
    x, y = curve()
    xd, yd = da.from_array(x, chunks=500), da.from_array(y, chunks=500)
    assert xd.npartitions == 8
    model = MLP(np.random.default_rng(0))
    before = {k: getattr(model, k).copy() for k in FIELDS}
    gm, gx, gy = lazy_gradient_of_model(mlp_loss, model, xd, yd)
    assert isinstance(gx, da.Array) and isinstance(gy, da.Array)
    # the reference: the same gradient on NumPy data, itself checked against central differences
    expected = gradient(mlp_loss, model, x, y)[0]
    fd = numerical_gradient(lambda *p: mlp_loss(with_params(*p), x, y), *(getattr(model, k) for k in FIELDS))
    for k, d in zip(FIELDS, fd):
        np.testing.assert_allclose(expected.fields[k], d, rtol=1e-5, atol=1e-8)
    got = dask.compute(*(gm.fields[k] for k in FIELDS))
    for k, g in zip(FIELDS, got):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, expected.fields[k], rtol=1e-10, atol=1e-13)
    for k in FIELDS:  # the parameters are as they were
        assert np.array_equal(getattr(model, k), before[k])
    print(
        f"chapter-6 MLP: loss {graph_size(mlp_loss(model, xd, yd))} tasks, "
        f"its gradient {len(set().union(*(g.__dask_graph__().keys() for g in gm.fields.values())))} tasks"
    )


def test_training_the_course_mlp_on_dask_data_follows_numpy(client):
    x, y = curve(n=2000)
    xd, yd = da.from_array(x, chunks=250), da.from_array(y, chunks=250)
    on_dask, on_numpy = MLP(np.random.default_rng(0)), MLP(np.random.default_rng(0))
    for _ in range(3):
        g = gradient(mlp_loss, on_dask, xd, yd)[0]
        steps = dask.compute(*(g.fields[k] for k in FIELDS))
        h = gradient(mlp_loss, on_numpy, x, y)[0]
        for k, s in zip(FIELDS, steps):
            setattr(on_dask, k, getattr(on_dask, k) - 0.1 * s)
            setattr(on_numpy, k, getattr(on_numpy, k) - 0.1 * h.fields[k])
    for k in FIELDS:
        np.testing.assert_allclose(getattr(on_dask, k), getattr(on_numpy, k), rtol=1e-10, atol=1e-13)
    assert float(mlp_loss(on_dask, xd, yd).compute()) < float(mlp_loss(MLP(np.random.default_rng(0)), x, y))


PARTS = {
    "b[:, None]": (lambda b, x: np.sum(b[:, None] * x), (5,), (5, 3)),
    "b[1:3]": (lambda b, x: np.sum(b[1:3] * x), (5,), (2,)),
    "b[0]": (lambda b, x: np.sum(b[0] * x), (5,), (4,)),
    "b[::-1]": (lambda b, x: np.sum(b[::-1] * x), (5,), (5,)),
    "b.T": (lambda b, x: np.sum(b.T * x), (3, 4), (4, 3)),
    "b[1, ::2]": (lambda b, x: np.sum(b[1, ::2] * x), (3, 4), (2,)),
    "b[::-2, None, 1:]": (lambda b, x: np.sum(b[::-2, None, 1:] ** 2 * x), (3, 4), (2, 1, 3)),
    "b.reshape(6, 2)[::2]": (lambda b, x: np.sum(b.reshape(6, 2)[::2] * x), (3, 4), (3, 2)),
    "b[1:].T twice": (lambda b, x: np.sum(b[1:].T * x) + np.sum(b[1:].T[::-1] * x * x), (3, 4), (4, 2)),
    "b[0] + b[1:, 0] + b": (
        lambda b, x: np.sum(b[0] * x[0]) + np.sum(b[1:, 0] * x[1, :2]) + np.sum(b * x), (3, 4), (3, 4)
    ),
}


@pytest.mark.parametrize("fortran", [False, True], ids=["C", "F"])
@pytest.mark.parametrize("name", list(PARTS))
def test_a_dask_gradient_reaching_a_part_of_a_numpy_array(name, fortran):
    f, bshape, xshape = PARTS[name]
    rng = np.random.default_rng(len(name))
    b = np.asarray(rng.standard_normal(bshape), order="F" if fortran else "C")
    x = rng.standard_normal(xshape)
    xd = da.from_array(x, chunks=2)
    before = b.copy()
    with dask.config.set(scheduler="sync"):
        gb, gx = lazy_gradient(f, b, xd)
        assert isinstance(gb, da.Array) and gb.shape == b.shape
        expected = gradient(f, b, x)
        np.testing.assert_allclose(numerical_gradient(f, b, x)[0], expected[0], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gb.compute(), expected[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(gx.compute(), expected[1], rtol=1e-12, atol=1e-14)
    assert np.array_equal(b, before)


def test_a_dask_gradient_reaching_items_picked_by_an_index_array_is_refused():
    b, xd = np.arange(4.0), da.from_array(np.ones(3), chunks=2)
    with pytest.raises(dpnb.DifferentiationError, match=r"index array"):
        gradient(lambda b, x: np.sum(b[np.array([0, 0, 2])] * x), b, xd)


def _written_before(b, x):
    c = b * 1.0
    y = np.sum(c[1:] * x)
    c[0] = 2.0
    return y + np.sum(c * c)


def _written_after(b, x):
    c = b * 1.0
    c[1:3] = b[2:] * b[:2]
    c[::-3] = 0.5 * b[0]
    return np.sum(c[1:] * x) + np.sum(c[::2] ** 2)


@pytest.mark.parametrize("f", [_written_before, _written_after])
def test_a_numpy_array_assigned_to_in_a_dask_loss(f):
    # the written region's cotangent (part of it from Dask) goes to the value written
    b, x = np.arange(1.0, 5.0), np.linspace(1.0, 2.0, 3)
    with dask.config.set(scheduler="sync"):
        (gb, gx) = lazy_gradient(f, b, da.from_array(x, chunks=2))
        expected = gradient(f, b, x)
        np.testing.assert_allclose(numerical_gradient(f, b, x)[0], expected[0], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(numerical_gradient(f, b, x)[1], expected[1], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gb.compute(), expected[0], rtol=1e-12)
        np.testing.assert_allclose(gx.compute(), expected[1], rtol=1e-12)


def test_a_numpy_array_changed_through_an_index_array_after_a_dask_gradient_reached_it_is_refused():
    def f(b, x):
        c = b * 1.0
        c[np.array([0, 2])] = 2.0
        return np.sum(c[1:] * x)

    with pytest.raises(dpnb.DifferentiationError, match=r"comes from a dask array was changed in place"):
        gradient(f, np.arange(4.0), da.from_array(np.ones(3), chunks=2))


def test_a_numpy_term_of_a_dask_loss_stays_lazy():
    # a penalty on the NumPy parameters receives a Dask cotangent (the seed of a Dask loss)
    x, y = curve(n=400)
    xd, yd = da.from_array(x, chunks=50), da.from_array(y, chunks=50)
    model = MLP(np.random.default_rng(0))

    def penalised(model, x, y):
        return mlp_loss(model, x, y) + 1e-2 * (np.sum(model.W1 ** 2) + np.sum(model.W2 * model.W2))

    with dask.config.set(scheduler="sync"):
        gm, _, _ = lazy_gradient_of_model(penalised, model, xd, yd)
        expected = gradient(penalised, model, x, y)[0]
        for k in FIELDS:
            np.testing.assert_allclose(gm.fields[k].compute(), expected.fields[k], rtol=1e-10, atol=1e-13)


# --- Dask's own functions inside a differentiated loss ---------------------------------------


def test_dask_constructors_in_a_loss_are_constants():
    # they make arrays from shapes: their results carry no gradient, as np.zeros's do
    w, x = np.linspace(1.0, 2.0, 40), np.linspace(0.0, 1.0, 40)
    xd = da.from_array(x, chunks=10)
    eye = np.r_[np.ones(4), np.zeros(36)]
    cases = [  # (loss, its gradient in w, in x)
        (lambda w, x: np.sum(w * x + da.zeros(x.shape, chunks=x.chunks)), x, w),
        (lambda w, x: np.sum(w * x * da.ones(40, chunks=10)), x, w),
        (lambda w, x: np.sum(w * x + da.zeros_like(x)), x, w),
        (lambda w, x: np.sum(w * x * da.ones_like(x)), x, w),
        (lambda w, x: np.sum((w * x)[:4] @ da.eye(4, chunks=2)), x * eye, w * eye),
        (lambda w, x: np.sum(w * x * da.arange(40, chunks=10)), x * np.arange(40), w * np.arange(40)),
    ]
    for f, in_w, in_x in cases:
        with dask.config.set(scheduler="sync"):
            gw, gx = lazy_gradient(f, w, xd)
            np.testing.assert_allclose(gw.compute(), in_w, rtol=1e-12)
            np.testing.assert_allclose(gx.compute(), in_x, rtol=1e-12)


def test_dask_functions_in_a_loss_run_as_numpys():
    # dask.array.exp, .sum, .where, ... are NumPy's functions for Dask arrays: NumPy's rules,
    # computed by Dask; dask.array.from_array of a parameter passes its gradient through
    w, x = np.linspace(1.0, 2.0, 40), np.linspace(0.0, 1.0, 40)
    xd = da.from_array(x, chunks=10)
    pairs = [
        (lambda w, x: da.sum(da.exp(w * x)), lambda w, x: np.sum(np.exp(w * x))),
        (
            lambda w, x: da.mean(da.where(x > 0.5, w * x, 0.0) ** 2),
            lambda w, x: np.mean(np.where(x > 0.5, w * x, 0.0) ** 2),
        ),
        (lambda w, x: da.dot(da.tanh(w * x), x), lambda w, x: np.dot(np.tanh(w * x), x)),
        (lambda w, x: np.sum(da.from_array(w, chunks=10) * x), lambda w, x: np.sum(w * x)),
    ]
    for on_dask, on_numpy in pairs:
        with dask.config.set(scheduler="sync"):
            gw, gx = lazy_gradient(on_dask, w, xd)
            expected = gradient(on_numpy, w, x)
            np.testing.assert_allclose(gw.compute(), expected[0], rtol=1e-12)
            np.testing.assert_allclose(gx.compute(), expected[1], rtol=1e-12)


def test_dask_metadata_reads_as_constants():
    xd = da.from_array(np.linspace(0.0, 1.0, 40), chunks=10)

    def f(x):
        assert x.npartitions == 4 and x.numblocks == (4,)
        return np.sum(x * x) / len(x.chunks[0])

    with dask.config.set(scheduler="sync"):
        (g,) = lazy_gradient(f, xd)
        np.testing.assert_allclose(g.compute(), 2 * xd.compute() / 4, rtol=1e-12)


def test_a_dask_function_dpnb_cannot_follow_names_the_line_that_called_it():
    w, xd = np.linspace(1.0, 2.0, 40), da.from_array(np.linspace(0.0, 1.0, 40), chunks=10)

    def f(w, x):
        noise = da.linspace(0.0, 1.0, 40, chunks=10)  # floats may carry a gradient: not a constant
        return np.sum(w * x * noise)

    with pytest.raises(NoRuleError, match=r"dask\.array\..*linspace \(called at .*test_dask\.py, line \d+: "):
        gradient(f, w, xd)
    line = f.__code__.co_firstlineno + 1
    with pytest.raises(NoRuleError, match=rf"line {line}:"):
        gradient(f, w, xd)


def test_a_large_numpy_operand_with_dask_data_stays_lazy(client):
    # the addition's pullback keeps only the shape of a large NumPy operand: the Dask cotangent
    # it un-broadcasts must stay lazy all the same
    rng = np.random.default_rng(3)
    b = rng.standard_normal(4096)
    xs = rng.standard_normal((8, 4096))
    x = da.from_array(xs, chunks=(1, 4096))

    def loss(b, x):
        return np.sum(np.tanh(x + b) ** 2)

    (g,) = dpnb.gradient(loss, b, x)[:1]
    assert isinstance(g, da.Array)
    (want,) = dpnb.gradient(loss, b, xs)[:1]
    np.testing.assert_allclose(g.compute(), want, rtol=1e-10)
