"""Forward mode: jvp agrees with the Jacobian (from reverse mode) on whole programs."""
import math
from dataclasses import dataclass

import numpy as np
import pytest

from dpnb import DifferentiationError, UnsupportedSyntaxError, jacobian, jvp
try:
    from ._programs import power_loop, power_rec
except ImportError:  # tests/ is not a package
    from _programs import power_loop, power_rec



def branches(x, y):
    if x > 0.5:
        return math.sin(x) * y
    elif x > 0:
        return x**2 + y
    return math.exp(x) / (1 + y * y)


def while_loop(x):
    i = 0
    while x < 10.0 and i < 50:
        x = x * 1.5 + 0.1
        i += 1
    return x


def with_closure(x, y):
    def inner(z):
        return z * x + y

    h = lambda t: inner(t) * x  # noqa: E731
    return h(y) + sum(inner(v) for v in [x, y])


def with_containers(x, y):
    pts = [(x, y), (y, x * 2)]
    d = {"a": x * y, "b": [x, y]}
    s = 0.0
    for i, (u, v) in enumerate(pts):
        s = s + u * v * (i + 1)
    a, *rest = d["b"]
    return s + d["a"] + a * rest[0]


def numpy_program(x, W):
    h = np.tanh(W @ x + 1.0)
    z = np.concatenate([h, h[::-1] ** 2])
    return np.sum(z.reshape(2, -1).T * np.array([1.0, 2.0])) + np.linalg.norm(x) + np.max(h)


def vector_out(x, W):
    return np.sin(W @ x) * np.sum(x**2)


@dataclass
class Pt:
    x: float
    y: float

    def __add__(self, o):
        return Pt(self.x + o.x, self.y + o.y)

    def norm(self):
        return math.hypot(self.x, self.y)


def with_objects(x, y):
    p = Pt(x, y) + Pt(y, 2.0)
    return p.norm() * p.x


def with_try(x):
    try:
        v = math.log(x - 1.0)
    except ValueError:
        v = x * x
    return v


rng = np.random.default_rng(1)
W = rng.standard_normal((3, 3))
GRID = np.linspace(0.0, 1.0, 5)


def reads_a_global(x):
    return np.sum(np.sin(GRID) * x) + x * GRID[2]

CASES = [
    (lambda x: power_loop(x, 5), (1.3,)),
    (lambda x: power_rec(x, 6), (1.1,)),
    (branches, (0.7, 1.5)),
    (branches, (0.2, 1.5)),
    (branches, (-0.2, 1.5)),
    (while_loop, (0.3,)),
    (with_closure, (0.4, 1.2)),
    (with_containers, (0.9, -1.3)),
    (numpy_program, (rng.standard_normal(3), W)),
    (vector_out, (rng.standard_normal(3), W)),
    (with_objects, (0.5, 1.5)),
    (with_try, (2.5,)),
    (with_try, (0.5,)),
    (reads_a_global, (0.8,)),
]


def _flat(a):
    return np.ravel(np.asarray(a, dtype=float))


@pytest.mark.parametrize("f,args", CASES)
def test_jvp_equals_the_jacobian_times_the_tangent(f, args):
    vs = tuple(np.ones_like(a) * 0.7 if isinstance(a, np.ndarray) else 0.7 for a in args)
    y, ydot = jvp(f, args, vs)
    np.testing.assert_allclose(y, f(*args))
    Js = jacobian(f, *args)
    want = 0.0
    for J, a, v in zip(Js, args, vs):
        if J is None:
            continue
        Jm = np.asarray(J).reshape(np.size(y), np.size(a))
        want = want + (Jm @ _flat(v)).reshape(np.shape(y))
    np.testing.assert_allclose(ydot, want, rtol=1e-7, atol=1e-9)
    # and central finite differences along the tangent
    eps = 1e-6
    hi = f(*[a + eps * v for a, v in zip(args, vs)])
    lo = f(*[a - eps * v for a, v in zip(args, vs)])
    np.testing.assert_allclose(ydot, (np.asarray(hi) - np.asarray(lo)) / (2 * eps), rtol=1e-5, atol=1e-6)


def test_jvp_follows_in_place_changes():
    def f(x):
        a = np.zeros(3)
        a[0] = x * 2.0
        a[1:] += x**2
        a *= x
        return np.sum(a)

    y, ydot = jvp(f, (1.5,), (1.0,))
    assert y == pytest.approx(f(1.5))
    eps = 1e-6
    assert ydot == pytest.approx((f(1.5 + eps) - f(1.5 - eps)) / (2 * eps), rel=1e-6)


def test_a_tall_jacobian_is_built_in_forward_mode_and_agrees_with_reverse_mode():
    t = np.linspace(0.0, 1.0, 50)

    def curve(p):
        return p[0] * np.sin(t) + p[1] * t**2

    p = np.array([0.3, -1.2])
    (J,) = jacobian(curve, p)
    assert J.shape == (50, 2)
    np.testing.assert_allclose(J, np.stack([np.sin(t), t**2], axis=1))
    # the same numbers as reverse mode, one pullback per output
    from dpnb import pullback

    y, back = pullback(curve, p)
    rows = [back(np.eye(50)[k])[0] for k in range(50)]
    np.testing.assert_allclose(J, np.stack(rows))
