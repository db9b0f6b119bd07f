"""`gradient` of a `*args` function compiles it for the number of arguments given, as a function of
plain parameters (`load._spread_varargs`): `lambda *w: f(*w, x)` then differentiates exactly like
`lambda W, b: f(W, b, x)`. The gradients must be those of the general way in every case: the
tuple read as a whole, rebound, read by nested scopes, empty."""
import numpy as np
import pytest

import dpnb
from dpnb import api
from dpnb.core import load, results
from dpnb.testing import numerical_gradient

RNG = np.random.default_rng(3)
W = RNG.standard_normal((4, 3))
B = RNG.standard_normal(4)
X = RNG.standard_normal(3)


def affine(W, b, x):
    return np.sum(np.tanh(W @ x + b))


def star_call(*w):
    return affine(*w, X)


def star_display(*w):
    a, b = [*w]
    return np.sum(a @ X * b)


def whole_tuple(*w):
    return sum(w) * len(w) + w[0] ** 2


def generator_over(a, *rest):
    return a * len(rest) + sum(r**2 for r in rest)


def rebound(*w):
    w = w[1:]
    return w[0] * 3.0


def read_by_lambda(*w):
    g = lambda t: t * w[0]  # noqa: E731
    return g(w[1])


def unpacked_twice(*w):
    return affine(*w, X) + np.sum(np.stack([*w][:1]))


def nothing_extra(a, *w):
    return a * 2.0


def _general(f, *args):
    """The gradient the general way (a pullback), finished as gradient finishes it."""
    y, back = dpnb.pullback(f, *args)
    bars = back(api._seed(y))
    return tuple(results.finish(b, a) for a, b in zip(args, bars))


CASES = [
    (star_call, (W, B)),
    (star_display, (np.ones(3) * 0.5, 2.0)),
    (whole_tuple, (1.5, 2.0, -0.5)),
    (generator_over, (1.5, 2.0, -0.5)),
    (rebound, (1.5, 2.0, -0.5)),
    (read_by_lambda, (1.5, 2.0)),
    (unpacked_twice, (W, B)),
    (nothing_extra, (1.5,)),
    (nothing_extra, (1.5, 3.0)),
]


@pytest.mark.parametrize("f, args", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)])
def test_spread_gives_the_general_gradient(f, args):
    load.refresh()
    got = dpnb.gradient(f, *args)
    assert load.spread_instance(f, args) is not None  # the spread adjoint ran
    want = _general(f, *args)
    assert len(got) == len(args)
    for g, w_ in zip(got, want):
        if w_ is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w_, rtol=1e-12, atol=1e-12)
    num = numerical_gradient(f, *args)
    for g, n in zip(got, num):
        np.testing.assert_allclose(0.0 if g is None else g, n, rtol=1e-5, atol=1e-6)
    y, got2 = dpnb.withgradient(f, *args)
    assert y == pytest.approx(f(*args))


def test_star_call_is_the_plain_call():
    src = load.adjoint_source(star_call, (load.SPREAD, np.ndarray, np.ndarray))
    assert "(w_0, w_1, X)" in src and "*w" not in src


def test_keyword_only_parameters_take_the_general_way():
    def f(*w, k=2.0):
        return w[0] * k

    assert load.spread_instance(f, (1.0,)) is None
    assert dpnb.gradient(f, 1.5) == (2.0,)


def test_a_second_derivative_through_a_star_function():
    def cube(*w):
        return w[0] ** 3

    assert dpnb.gradient(lambda x: dpnb.gradient(cube, x)[0], 2.0) == (pytest.approx(12.0),)


def _sum_of_squares(*v):
    return sum(x * x for x in v)


def inner_has_its_own_star(*w):
    def inner(*w):
        return _sum_of_squares(*w)

    return inner(3.0) + w[0]


def test_a_nested_function_with_a_star_parameter_of_the_same_name_keeps_its_own():
    # inner's `*w` is not the outer one: spreading the outer `w` into inner's call gave 5.0
    assert dpnb.gradient(inner_has_its_own_star, 2.0) == (1.0,)
    assert dpnb.gradient(inner_has_its_own_star, 2.0) == tuple(_general(inner_has_its_own_star, 2.0))
    np.testing.assert_allclose(numerical_gradient(inner_has_its_own_star, 2.0), (1.0,), rtol=1e-6)
