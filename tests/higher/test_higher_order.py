"""Second derivatives, jvp, jacobian shapes, hook and checkpointed (issue 4 §3-4)."""
import math
import tracemalloc

import numpy as np
import pytest

from dpnb import (
    DifferentiationError,
    checkpointed,
    derivative,
    gradient,
    hessian,
    hook,
    jacobian,
    jvp,
    rrule,
)
try:
    from ._programs import power_loop, power_rec
except ImportError:  # tests/ is not a package
    from _programs import power_loop, power_rec



def fd_hessian(f, x, eps=1e-4):
    """Central differences of dpnb's (first-order, separately tested) gradient."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = eps
        gp = gradient(f, (x.ravel() + e).reshape(x.shape))[0]
        gm = gradient(f, (x.ravel() - e).reshape(x.shape))[0]
        H[:, i] = (np.ravel(gp) - np.ravel(gm)) / (2 * eps)
    return H.reshape(x.shape * 2)


def branchy(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.5:
            s = s + x[i] ** 2 * x[0]
        else:
            s = s + math.sin(x[i])
    return s


def helper(v, w):
    return np.sum(np.tanh(v) * w)


def calls(x):
    return helper(x, x[::-1]) + np.sum(np.exp(x) * x)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def test_derivative_of_derivative():
    assert derivative(derivative(lambda x: x**3))(2.0) == pytest.approx(12.0)
    assert derivative(derivative(lambda x: math.sin(x) * x))(0.5) == pytest.approx(
        -math.sin(0.5) * 0.5 + 2 * math.cos(0.5)
    )


@pytest.mark.parametrize("n", [1, 4, 7])
def test_second_derivative_through_a_loop_and_recursion(n):
    want = n * (n - 1) * 1.3 ** (n - 2) if n > 1 else 0.0
    assert derivative(derivative(lambda x: power_loop(x, n)))(1.3) == pytest.approx(want)
    assert derivative(derivative(lambda x: power_rec(x, n)))(1.3) == pytest.approx(want)


@pytest.mark.parametrize("f", [branchy, calls, rosenbrock])
def test_hessian_matches_differences_of_the_gradient(f):
    x = np.array([0.3, 0.9, -0.4, 1.2])
    H = hessian(f, x)
    assert H.shape == (4, 4)
    np.testing.assert_allclose(H, fd_hessian(f, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(H, H.T, atol=1e-8)


def test_hessian_shapes():
    assert hessian(lambda x: x**3, 2.0) == pytest.approx(12.0)
    H = hessian(lambda X: np.sum(X**3), np.ones((2, 3)))
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(H.reshape(6, 6), np.diag(np.full(6, 6.0)))


def test_jvp_matches_the_jacobian():
    f = lambda x, y: np.sin(x) * y + x**2  # noqa: E731
    x, y = np.array([0.0, 1.0, 2.0]), 2.0
    v, w = np.array([1.0, -1.0, 0.5]), 0.3
    val, tan = jvp(f, (x, y), (v, w))
    Jx, Jy = jacobian(f, x, y)
    np.testing.assert_allclose(val, f(x, y))
    np.testing.assert_allclose(tan, Jx @ v + Jy * w)


def test_jvp_through_a_loop():
    assert jvp(lambda x: power_loop(x, 3), (2.0,), (1.0,)) == (8.0, pytest.approx(12.0))


def test_jacobian_shapes():
    Jx, Jy = jacobian(lambda x, y: x * y, np.ones((2, 3)), 2.0)
    assert Jx.shape == (2, 3, 2, 3) and Jy.shape == (2, 3)
    (J,) = jacobian(lambda x: np.sum(x), np.ones(4))
    assert J.shape == (4,)
    assert jacobian(lambda x, s: x * 2.0, np.ones(2), "label")[1] is None


def test_hook_clips_the_gradient():
    clip = lambda g: np.clip(g, -1.0, 1.0)  # noqa: E731
    (g,) = gradient(lambda x: np.sum(hook(clip, x) ** 2), np.array([0.2, 3.0, -4.0]))
    np.testing.assert_allclose(g, [0.4, 1.0, -1.0])


def _block(x):
    for _ in range(8):
        x = np.tanh(x) * 1.01
    return x


def _chain(x):
    for _ in range(6):
        x = _block(x)
    return x


def _chain_checkpointed(x):
    for _ in range(6):
        x = checkpointed(_block, x)
    return x


def test_checkpointed_gives_the_same_gradient_and_lowers_peak_memory():
    x = np.linspace(-1.0, 1.0, 200_000)
    plain = lambda x: np.sum(_chain(x))  # noqa: E731
    saved = lambda x: np.sum(_chain_checkpointed(x))  # noqa: E731
    np.testing.assert_allclose(gradient(saved, x)[0], gradient(plain, x)[0])

    def peak(f):
        gradient(f, x)
        tracemalloc.start()
        tracemalloc.reset_peak()
        gradient(f, x)
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p

    assert peak(saved) < 0.5 * peak(plain)


def test_a_rule_with_the_wrong_number_of_tangents_is_named():
    def scale(a, b):
        return a * b

    @rrule(scale)
    def scale_rrule_with_a_mistake(a, b):
        return scale(a, b), lambda dy: (None, dy * b)  # forgot one

    with pytest.raises(DifferentiationError, match="scale_rrule_with_a_mistake"):
        gradient(lambda x: scale(x, 2.0), 1.0)
