"""The table of NumPy's functions that change an array given to them: `np.copyto` and
`np.fill_diagonal`. Their result is None, so `check_rrule` cannot pair it: each row is checked
through a loss that makes the array, lets the function change it and reads it afterwards; the
gradient against central differences, `jvp` against the gradient, and the Hessian against
differences of the gradient."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _tables import A, C
from dpnb import DifferentiationError, gradient, hessian, jvp
from dpnb.testing import numerical_gradient

CASES = [
    C(np.copyto, A((3, 4)), A((3, 4))),
    C(np.copyto, A((3, 4)), A((4,))),  # broadcast
    C(np.copyto, A((3, 4)), A(())),
    C(np.copyto, A((3, 4)), A((3, 1)), "same_kind", np.array([True, False, True, True])),
    C(np.copyto, A((2, 3)), A((2, 3)), where=np.array([[True, False, True], [False, False, True]])),
    C(np.copyto, A((3,)), A((3,)), casting="unsafe"),
    C(np.fill_diagonal, A((3, 3)), A((3,))),
    C(np.fill_diagonal, A((3, 4)), A(())),
    C(np.fill_diagonal, A((5, 2)), A((2,))),  # repeated as NumPy repeats it
    C(np.fill_diagonal, A((7, 3)), A((4,)), True),  # wrap: a diagonal every 4 rows
    C(np.fill_diagonal, A((4, 2)), A((5,)), wrap=False),  # more values than entries: the first ones
    C(np.fill_diagonal, A((2, 2, 2)), A((2,))),
]


def _loss(f, args, kwargs):
    """A function of the float arguments: the array `f` changes is made from its own argument
    (so that what it held gets a cotangent where it is kept), changed, and read twice."""
    floats = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    w = np.linspace(0.5, 1.5, args[0].size).reshape(args[0].shape)

    def loss(*xs):
        full = list(args)
        for i, x in zip(floats, xs):
            full[i] = x
        dst = full[0] * 1.5
        full[0] = dst
        f(*full, **kwargs)
        return np.sum(dst * w) + np.sum(dst ** 3) + np.sum(full[1] ** 2)

    return loss, [args[i].copy() for i in floats]  # (not the closure's own objects)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_in_place_rule(case, data):
    args = data.draw(case.strategy())
    loss, xs = _loss(case.f, args, case.kwargs)
    got = [np.zeros(np.shape(x)) if g is None else g for g, x in zip(gradient(loss, *xs), xs)]  # None: zero
    want = numerical_gradient(loss, *xs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    rng = np.random.default_rng(0)
    ts = [rng.standard_normal(np.shape(x)) for x in xs]
    _, ydot = jvp(loss, xs, ts)
    assert ydot == pytest.approx(sum(np.sum(g * t) for g, t in zip(got, ts)), rel=1e-9, abs=1e-12)
    # the Hessian of the first argument, against differences of the gradient
    rest = xs[1:]
    H = hessian(lambda x: loss(x, *rest), xs[0])
    H = np.reshape(0.0 if H is None else H, (-1,)) * np.ones(xs[0].size ** 2)
    H = H.reshape(xs[0].size, xs[0].size)
    eps = 1e-5
    for i in range(xs[0].size):
        e = np.zeros(xs[0].size)
        e[i] = eps
        e = e.reshape(xs[0].shape)
        hi, lo = gradient(loss, xs[0] + e, *rest)[0], gradient(loss, xs[0] - e, *rest)[0]
        col = 0.0 if hi is None else (hi - lo) / (2 * eps)
        np.testing.assert_allclose(H[:, i], np.ravel(col * np.ones(xs[0].shape)), rtol=1e-5, atol=1e-5)


def test_a_view_is_changed_through_its_base():
    def f(x):
        B = np.zeros((4, 4))
        np.copyto(B[1:3], np.outer(x[:2], x))
        np.fill_diagonal(B[:, 1:], x[:3] ** 2)
        return np.sum(B ** 2 * np.arange(16.0).reshape(4, 4))

    x = np.array([0.3, 0.9, -0.4, 1.2])
    np.testing.assert_allclose(gradient(f, x)[0], numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-8)


def test_an_int_destination_takes_no_gradient_and_numpys_checks_stand():
    def truncated(x):
        B = np.zeros(4, dtype=int)
        np.copyto(B, x * 3, casting="unsafe")
        return np.sum(B * x)

    x = np.array([0.3, 0.9, -0.4, 1.2])
    np.testing.assert_allclose(gradient(truncated, x)[0], np.array([0.0, 2.0, -1.0, 3.0]))

    def not_same_kind(x):
        B = np.zeros(4, dtype=int)
        np.copyto(B, x)
        return np.sum(B * x)

    with pytest.raises(TypeError, match="same_kind"):
        gradient(not_same_kind, x)

    def wrong_shape(x):
        B = np.zeros(4)
        np.copyto(B, x[:3])
        return np.sum(B)

    with pytest.raises(ValueError):
        gradient(wrong_shape, x)


def test_a_dask_destination_is_refused():
    da = pytest.importorskip("dask.array")
    x = np.array([0.3, 0.9, -0.4, 1.2])

    def f(x):
        B = da.zeros(4, chunks=2)
        np.copyto(B, x)
        return np.sum(B)

    with pytest.raises((DifferentiationError, TypeError)):
        gradient(f, x)
