"""The same array given as two arguments (or an array and a view of it): the gradient is per
argument, each moved while the others stay, as central differences of `f` see it. The general
way keys cotangents by object, so the first of the two took both cotangents and the second got
None (`gradient(f, x, x)` gave `(2 x, None)` for `np.sum(x * y)`); now the later one is given as a
copy. A function that changes such an array in place, or the same list, dict or object given
twice, is refused: there the gradient with respect to each is not defined."""
import numpy as np
import pytest
from test_hessian_forward_over_reverse import _fn

import dpnb
from dpnb.core import plain
from dpnb.errors import DifferentiationError
from dpnb.testing import numerical_gradient

X = np.array([0.5, -1.0, 2.0])


def _loop_body():
    # a loop: outside the plain code's subset, so the general way runs
    return """
s = 0.0
for i in range(2):
    s = s + np.sum(np.sin(x) * y)
return s
"""


@pytest.fixture(params=["plain", "general"])
def way(request, monkeypatch):
    if request.param == "general":
        monkeypatch.setattr(plain, "MAX_ENTRIES", -1)
    return request.param


@pytest.mark.parametrize("second", ["same", "reversed view", "full view"])
@pytest.mark.parametrize("body", ["return np.sum(np.sin(x) * y)", _loop_body()], ids=["straight", "loop"])
def test_gradient_is_per_argument(way, second, body):
    f = _fn(body, params="x, y")
    y = {"same": X, "reversed view": X[::-1], "full view": X[:]}[second]
    want = numerical_gradient(f, X, y)
    for got in (dpnb.gradient(f, X, y), dpnb.withgradient(f, X, y).grad, dpnb.pullback(f, X, y)[1](1.0)):
        assert got[1] is not None
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(X, [0.5, -1.0, 2.0])


def test_jacobian_is_per_argument():
    f = _fn("return np.sin(x) * y", params="x, y")
    jx, jy = dpnb.jacobian(f, X, X)
    np.testing.assert_allclose(jx, np.diag(np.cos(X) * X), rtol=1e-12)
    np.testing.assert_allclose(jy, np.diag(np.sin(X)), rtol=1e-12)


@pytest.mark.parametrize("body", ["x += 1.0\nreturn np.sum(x * y)", "y[0] = 3.0\nreturn np.sum(x * y)"])
def test_changing_a_shared_array_is_refused(body):
    f = _fn(body, params="x, y")
    x = X.copy()
    with pytest.raises(DifferentiationError, match="changes in place an array that is given as two"):
        dpnb.gradient(f, x, x)
    # with arrays of their own it is differentiated as usual
    g = dpnb.gradient(f, X.copy(), X.copy())
    assert g[0] is not None and g[1] is not None


def test_the_same_list_twice_is_refused():
    f = _fn("return a[0] * b[1] + a[1]", params="a, b")
    lst = [1.0, 2.0]
    with pytest.raises(DifferentiationError, match="are the same list"):
        dpnb.gradient(f, lst, lst)
    assert dpnb.gradient(f, lst, list(lst)) == ([2.0, 1.0], [None, 1.0])


def test_equal_numbers_are_not_shared():
    f = _fn("return x * y", params="x, y")
    assert dpnb.gradient(f, 2.0, 2.0) == (2.0, 2.0)


class _Point:
    def __init__(self, x):
        self.x = x


class _Marker:
    pass


def test_the_same_object_with_fields_twice_is_refused_a_marker_is_not():
    f = _fn("return p.x * q.x", params="p, q")
    p = _Point(2.0)
    with pytest.raises(DifferentiationError, match="are the same _Point"):
        dpnb.gradient(f, p, p)
    g = _fn("return x * 2.0", params="x, m, n")
    m = _Marker()  # no fields: carries no gradient (the %%grad magic passes one for unset names)
    assert dpnb.gradient(g, 3.0, m, m) == (2.0, None, None)


@pytest.mark.parametrize("body", ["return np.sum(x + y)", _loop_body().replace("np.sin(x) * y", "x + y")],
                         ids=["straight", "loop"])
def test_two_arguments_never_get_the_same_array(way, body):
    # the pullback of `x + y` gives both operands the same array: each argument must get an
    # array of its own (the general way handed back one array twice, so changing one gradient
    # changed the other)
    f = _fn(body, params="x, y")
    y = X * 2.0
    scale = 2.0 if "range(2)" in body else 1.0
    for got in (dpnb.gradient(f, X, y), dpnb.withgradient(f, X, y).grad, dpnb.pullback(f, X, y)[1](1.0)):
        assert got[0] is not got[1] and not np.shares_memory(got[0], got[1])
        np.testing.assert_array_equal(got[0], np.full(3, scale))
        np.testing.assert_array_equal(got[1], np.full(3, scale))


@pytest.mark.parametrize("second", ["row of the first", "the first itself", "the first, whole view"])
@pytest.mark.parametrize("holder", ["list", "tuple", "object"])
def test_an_array_that_is_also_inside_another_argument_is_per_argument(holder, second):
    # `gradient(f, ws, x)` where `x` is (a view of) an array inside `ws`: each argument moved while
    # the others stay, as differences see it (the general way keyed both by one object: the list's
    # array took x's cotangent too, and x got it as well)
    W = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [0.7, 0.2, 0.1]])
    ws = {"list": [W], "tuple": (W,), "object": _Point(W)}[holder]
    read = "ws[0]" if holder != "object" else "ws.x"
    f = _fn(f"s = np.sum(np.tanh({read} @ x) * x)\nreturn s", params="ws, x")
    x = {"row of the first": W[0], "the first itself": W, "the first, whole view": W[:]}[second]
    before = W.copy()
    want = numerical_gradient(f, ws, x)
    for got in (dpnb.gradient(f, ws, x), dpnb.withgradient(f, ws, x).grad, dpnb.pullback(f, ws, x)[1](1.0)):
        gw = got[0][0] if holder != "object" else got[0].x
        ww = want[0][0] if holder != "object" else want[0].x
        np.testing.assert_allclose(gw, ww, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(W, before)


def test_the_same_array_inside_two_arguments_is_refused():
    W = np.ones(3)
    f = _fn("return np.sum(a[0] * b[0])", params="a, b")
    with pytest.raises(DifferentiationError, match="both hold"):
        dpnb.gradient(f, [W], (W,))
    inner = [W.copy()]
    g = _fn("return np.sum(a[0][0] * b[0])", params="a, b")
    with pytest.raises(DifferentiationError, match="holds"):
        dpnb.gradient(g, [inner], inner)


def test_the_arrays_inside_a_gradient_are_arrays_of_their_own():
    # `np.sum(d["a"] + d["b"])`: the pullback of + gives both entries one array; handed back
    # twice, changing one gradient changed the other (the general way: a dict argument)
    f = _fn('return np.sum(d["a"] + d["b"])', params="d")
    d = {"a": X.copy(), "b": X.copy()}
    for g in (dpnb.gradient(f, d)[0], dpnb.withgradient(f, d).grad[0], dpnb.pullback(f, d)[1](1.0)[0]):
        assert g["a"] is not g["b"] and not np.shares_memory(g["a"], g["b"])
        np.testing.assert_array_equal(g["a"], np.ones(3))
    # a list of objects whose fields meet in one sum, with the general way's list of two
    g = _fn("return np.sum(hs[0].x + hs[1].x + y)", params="hs, y")
    hs = [_Point(X.copy()), _Point(X.copy())]
    got = dpnb.gradient(g, hs, X.copy())
    arrays = [got[0][0].x, got[0][1].x, got[1]]
    for i, a in enumerate(arrays):
        np.testing.assert_array_equal(a, np.ones(3))  # d/dv of sum(a + b + y) is ones, for each
        assert a.base is None and a.flags.writeable
        assert not any(np.shares_memory(a, b) for b in arrays[i + 1:])


def test_params_never_get_the_same_array():
    A, B = np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32)  # (float32: the general way)
    g = dpnb.gradient(lambda: np.sum(A + B), dpnb.Params([A, B]))
    assert g[A] is not g[B] and not np.shares_memory(g[A], g[B])
    np.testing.assert_array_equal(g[A], np.ones(3))
