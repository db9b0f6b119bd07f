"""SPEC §7 "Taking gradients": the examples with structures (issue 3's part).

Dataclasses, dict mutation inside f, callable objects with array fields, Params.
"""
import math
from dataclasses import dataclass

import numpy as np
import pytest

from dpnb import Params, Tangent, gradient

try:
    from ._fd import check_gradient
except ImportError:
    from _fd import check_gradient

d = {}


def g(x):
    d["x"] = x
    return d["x"] * d["x"]


def test_dict_mutation_inside_f():
    d.clear()
    assert gradient(g, 5) == (10.0,)
    assert d["x"] == 5


@dataclass
class Point:
    x: float
    y: float

    def __add__(self, o):
        return Point(self.x + o.x, self.y + o.y)

    def __sub__(self, o):
        return Point(self.x - o.x, self.y - o.y)


def dist(p):
    return math.sqrt(p.x**2 + p.y**2)


def test_dataclass_point():
    a, b = Point(1.0, 2.0), Point(3.0, 4.0)
    (t,) = gradient(lambda a: dist(a + b), a)
    assert isinstance(t, Tangent)
    assert t.primal_type is Point
    n = math.hypot(4.0, 6.0)
    assert t.x == pytest.approx(4.0 / n)
    assert t.y == pytest.approx(6.0 / n)
    # the SPEC's figures, to the last digit
    assert t.x == pytest.approx(0.5547001962252291, rel=1e-15, abs=1e-15)
    assert t.y == pytest.approx(0.8320502943378437, rel=1e-15, abs=1e-15)
    assert t["x"] == t.x and t.fields == {"x": t.x, "y": t.y}
    assert repr(t).startswith("Tangent[Point](x=0.5547")
    assert a == Point(1.0, 2.0) and b == Point(3.0, 4.0)  # arguments untouched
    # __sub__ as well, both arguments, against finite differences
    ta, tb = gradient(lambda a, b: dist(a - b), a, b)
    n = math.hypot(2.0, 2.0)
    assert (ta.x, ta.y, tb.x, tb.y) == pytest.approx((-2.0 / n, -2.0 / n, 2.0 / n, 2.0 / n))


def test_linear_with_a_dict_of_parameters():
    rng = np.random.default_rng(0)
    x = rng.random(5)
    linear = lambda θ, x: θ["W"] @ x + θ["b"]
    θ = {"W": rng.random((2, 5)), "b": rng.random(2)}
    (gθ,) = gradient(lambda θ: np.sum(linear(θ, x)), θ)
    assert isinstance(gθ, dict) and set(gθ) == {"W", "b"}
    np.testing.assert_allclose(gθ["W"], np.tile(x, (2, 1)))
    np.testing.assert_allclose(gθ["b"], np.array([1.0, 1.0]))


class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        return self.W @ x + self.b


def test_callable_object_model():
    rng = np.random.default_rng(1)
    x = rng.random(5)
    model = Linear(rng.random((2, 5)), rng.random(2))
    (t,) = gradient(lambda m: np.sum(m(x)), model)
    assert isinstance(t, Tangent) and t.primal_type is Linear
    np.testing.assert_allclose(t.W, np.tile(x, (2, 1)))
    np.testing.assert_allclose(t.b, np.array([1.0, 1.0]))
    assert repr(t).startswith("Tangent[Linear](")


def test_params():
    x, y, z = np.array([[1.0, 2, 3], [4, 5, 6]]), np.array([7.0, 8]), np.array([1.0, 10, 100])
    gs = gradient(lambda: np.sum(x * y[:, None] * z), Params([x, y]))
    np.testing.assert_allclose(gs[x], np.array([[7, 70, 700], [8, 80, 800]], dtype=float))
    np.testing.assert_allclose(gs[y], np.array([1 + 20 + 300, 4 + 50 + 600], dtype=float))
    assert x in gs
    assert z not in gs


def test_params_implicit_in_a_closure():
    rng = np.random.default_rng(2)
    W, b = rng.random((2, 3)), rng.random(2)
    predict = lambda x: W @ x + b
    v = np.array([1.0, 2.0, 3.0])
    gs = gradient(lambda: np.sum(predict(v)), Params([W, b]))
    np.testing.assert_allclose(gs[W], np.tile(v, (2, 1)))
    np.testing.assert_allclose(gs[b], np.ones(2))


# -- mutation of local lists inside f (issue 3: "mutation of dicts and lists") ----------


def test_append_to_a_local_list():
    def f(x):
        out = []
        for i in range(4):
            out.append(x ** i)
        return sum(out) + out[-1] * out[1]

    check_gradient(f, 1.3)


def test_building_a_list_by_index_assignment():
    def f(x):
        ys = [0.0, 0.0, 0.0]
        for i in range(3):
            ys[i] = x * (i + 1)
        ys[0] = ys[0] * ys[2]
        return sum(ys)

    check_gradient(f, 0.7)
