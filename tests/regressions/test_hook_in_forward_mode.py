"""`hook(fn, x)` changes a gradient on its way back. Forward mode has no way back: `jvp` passes
the tangent through unchanged (it applied `fn` to it, as `jvp` is the transpose of the pullback),
and `jacobian` applies the hook to each row whichever way it takes (a tall Jacobian's columns
come from forward mode, which applied `fn`'s transpose)."""
import numpy as np

from dpnb import gradient, hook, jacobian, jvp, pullback
from dpnb.testing import numerical_gradient

X = np.array([0.2, 3.0, -4.0])


def _clip(g):
    return np.clip(g, -1.0, 1.0)


def test_jvp_passes_the_tangent_through_a_hook():
    f = lambda x: np.sum(hook(lambda g: 0.5 * g, x) ** 2)  # noqa: E731 (it gave half the tangent)
    t = np.array([1.0, -2.0, 0.5])
    y, ydot = jvp(f, (X,), (t,))
    assert np.isclose(y, np.sum(X**2))
    assert np.isclose(ydot, np.sum(2 * X * t))  # the derivative of sum(x**2) along t: -12.32


def test_jvp_through_a_hook_agrees_with_differences():
    f = lambda x: np.sin(hook(lambda g: 10.0 * g, x)) * x  # noqa: E731
    t = np.array([0.3, -1.0, 2.0])
    _, ydot = jvp(f, (X,), (t,))
    eps = 1e-6
    assert np.allclose(ydot, (f(X + eps * t) - f(X - eps * t)) / (2 * eps), rtol=1e-6)


def test_a_tall_jacobian_with_a_hook_is_its_rows():
    g = lambda x: np.tile(hook(_clip, x) ** 2, 5)  # noqa: E731 (15 outputs of 3 inputs: taken by columns)
    (J,) = jacobian(g, X)
    y, back = pullback(g, X)
    rows = np.stack([back(e)[0] for e in np.eye(y.size)])
    assert np.allclose(J, rows)
    assert np.allclose(J[:3], np.diag(np.clip(2 * X, -1.0, 1.0)))


def test_a_hook_inside_a_gradient_under_jvp_still_applies():
    # the inner gradient's hook is part of what f computes: jvp differentiates it
    f = lambda x: gradient(lambda y: np.sum(hook(lambda g: g**3, y) ** 2), x)[0]  # noqa: E731
    assert np.allclose(f(X), (2 * X) ** 3)
    t = np.array([1.0, 0.5, -0.25])
    _, ydot = jvp(f, (X,), (t,))
    eps = 1e-6
    assert np.allclose(ydot, (f(X + eps * t) - f(X - eps * t)) / (2 * eps), rtol=1e-5)
    assert np.allclose(jacobian(f, X)[0], np.stack([numerical_gradient(lambda x: f(x)[i], X)[0] for i in range(3)]),
                       rtol=1e-5)
