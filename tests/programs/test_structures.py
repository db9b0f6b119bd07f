"""SPEC §3, row by row: what the gradient of a structured argument looks like (issue 3, item 1).

Every gradient is checked against finite differences (`_fd.check_gradient`, which
flattens structures) or an exact value; the shape of the answer — which class,
which keys, which fields are None — is checked explicitly.
"""
import collections
import copy
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import pytest

from dpnb import Tangent, gradient, pullback

try:
    from ._fd import check_gradient
except ImportError:
    from _fd import check_gradient


# -- numbers, arrays, tuples, lists (the rows issue 2 covered; here as fields) ------------


def test_number_rows():
    assert gradient(lambda x: 3 * x * x, 2) == (12.0,)
    assert type(gradient(lambda x: 3 * x * x, 2)[0]) is float
    assert gradient(lambda x: x * x, Fraction(1, 3)) == (Fraction(2, 3),)
    (gz,) = gradient(lambda z: (z * z.conjugate()).real, 1.0 + 2.0j)
    assert isinstance(gz, complex)


def test_integer_array_gets_a_floating_gradient():
    (g,) = gradient(lambda a: np.sum(a * a), np.array([1, 2, 3]))
    assert g.dtype.kind == "f" and g.tolist() == [2.0, 4.0, 6.0]


def test_tuple_and_list_with_none_entries():
    g = check_gradient(lambda t, xs: t[0] * xs[1], (2.0, "label", 3.0), [1.0, 4.0, True])
    assert type(g[0]) is tuple and type(g[1]) is list
    assert g[0][1] is None, "a string entry has no gradient"
    assert g[1][2] is None, "a bool entry has no gradient"


# -- named tuples ------------------------------------------------------------------------

Pt = collections.namedtuple("Pt", ["x", "y"])


class Interval(NamedTuple):
    lo: float
    hi: float
    name: str = "interval"


def test_namedtuple_gives_the_same_class():
    (g,) = check_gradient(lambda p: p.x * p.y + p[0] ** 2, Pt(3.0, 4.0))
    assert type(g) is Pt
    assert g == Pt(10.0, 3.0)
    assert g.x == 10.0 and g.y == 3.0


def test_typing_namedtuple_with_a_string_field():
    (g,) = check_gradient(lambda iv: (iv.hi - iv.lo) ** 2, Interval(1.0, 3.5))
    assert type(g) is Interval
    assert g.lo == pytest.approx(-5.0) and g.hi == pytest.approx(5.0)
    assert g.name is None


def test_namedtuple_unpacked_and_indexed():
    def f(p):
        a, b = p
        return a * math.sin(b) + p[1]

    (g,) = check_gradient(f, Pt(1.5, 0.3))
    assert type(g) is Pt


# -- dicts -------------------------------------------------------------------------------


def test_dict_gives_a_dict_of_the_keys_that_got_a_gradient():
    d = {"a": 2.0, "b": 3.0, "unused": 7.0, "tag": "x"}
    (g,) = check_gradient(lambda d: d["a"] * d["b"] ** 2, d)
    assert type(g) is dict
    assert g["a"] == 9.0 and g["b"] == 12.0
    assert g.get("unused") is None and g.get("tag") is None
    assert set(g) <= set(d)


def test_dict_with_non_string_keys_and_array_values():
    d = {0: np.array([1.0, 2.0]), (1, 2): np.array([[3.0]]), 2.5: 4.0}
    (g,) = check_gradient(lambda d: np.sum(d[0] * d[(1, 2)]) * d[2.5], d)
    np.testing.assert_allclose(g[0], [12.0, 12.0])
    np.testing.assert_allclose(g[(1, 2)], [[12.0]])
    assert g[2.5] == pytest.approx(9.0)


def test_dict_iterated_by_items_and_values():
    def f(d):
        s = 0.0
        for k, v in d.items():
            s += len(k) * v * v
        for v in d.values():
            s += v
        return s

    (g,) = check_gradient(f, {"a": 1.0, "bb": 2.0, "ccc": 3.0})
    assert g == {"a": 3.0, "bb": 9.0, "ccc": 19.0}


# -- dataclasses and plain objects -----------------------------------------------------


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    name: str = "layer"
    trainable: bool = True


@dataclass
class Model:
    layers: list
    scale: float = 1.0
    label: str = "mlp"


class Plain:
    def __init__(self, w, k, tag):
        self.w, self.k, self.tag = w, k, tag


def test_dataclass_gives_a_tangent():
    (t,) = check_gradient(lambda p: math.hypot(p.x, p.y), Point(2.0, 3.0))
    assert isinstance(t, Tangent)
    assert t.primal_type is Point
    n = math.hypot(2.0, 3.0)
    assert t.x == pytest.approx(2.0 / n) and t.y == pytest.approx(3.0 / n)
    assert t["x"] == t.x and t["y"] == t.y
    assert t.fields == {"x": t.x, "y": t.y}
    assert isinstance(t.fields, dict)


def test_tangent_repr():
    (t,) = gradient(lambda p: math.hypot(p.x, p.y), Point(2.0, 3.0))
    assert repr(t) == "Tangent[Point](x=0.5547, y=0.8321)"


def test_plain_object_gives_a_tangent_and_strings_get_none():
    obj = Plain(np.array([1.0, -2.0]), 0.5, "name")
    (t,) = check_gradient(lambda o: np.sum(o.w**2) * o.k, obj)
    assert isinstance(t, Tangent) and t.primal_type is Plain
    np.testing.assert_allclose(t.w, [1.0, -2.0])
    np.testing.assert_allclose(t["w"], [1.0, -2.0])
    assert t.k == pytest.approx(5.0)
    assert t.tag is None, "a string field has no gradient: Tangent.tag must be None"


def test_fields_with_no_gradient_are_none():
    layer = Layer(np.eye(2), np.zeros(2))
    (t,) = check_gradient(lambda l: np.sum(l.W) if l.trainable else 0.0, layer)
    assert t.name is None and t.trainable is None
    assert t["name"] is None
    assert t.b is None, "b is never read: no gradient"
    np.testing.assert_allclose(t.W, np.ones((2, 2)))


def test_nested_model_of_a_list_of_layer_objects():
    rng = np.random.default_rng(0)
    model = Model([Layer(rng.normal(size=(3, 2)), rng.normal(size=3), "l1"),
                   Layer(rng.normal(size=(1, 3)), rng.normal(size=1), "l2")], 0.7)
    x = np.array([0.4, -1.2])

    def loss(m):
        h = x
        for layer in m.layers:
            h = np.tanh(layer.W @ h + layer.b)
        return m.scale * np.sum(h**2)

    (t,) = check_gradient(loss, model)
    assert isinstance(t, Tangent) and t.primal_type is Model
    assert type(t.layers) is list and len(t.layers) == 2
    for tl, layer in zip(t.layers, model.layers):
        assert isinstance(tl, Tangent) and tl.primal_type is Layer
        assert tl.W.shape == layer.W.shape and tl.b.shape == layer.b.shape
        assert tl.name is None and tl.trainable is None
    assert t.label is None
    assert isinstance(t.scale, float)


def test_deep_nesting_dicts_lists_tuples_objects():
    arg = {
        "pts": [Point(1.0, 2.0), Point(-0.5, 0.25)],
        "pair": Pt(np.array([1.0, 2.0]), 3.0),
        "cfg": {"alpha": 0.3, "mode": "fast", "steps": 3},
    }

    def f(a):
        s = a["cfg"]["alpha"]
        for _ in range(a["cfg"]["steps"]):
            s = s + sum(p.x * p.y for p in a["pts"])
        return s * np.sum(a["pair"].x) * a["pair"].y

    (g,) = check_gradient(f, arg)
    assert type(g) is dict
    assert all(isinstance(t, Tangent) and t.primal_type is Point for t in g["pts"])
    assert type(g["pair"]) is Pt
    assert g["cfg"].get("mode") is None and g["cfg"].get("steps") is None


def test_str_bool_none_function_module_type_get_none():
    g = gradient(lambda x, s, b, n, fn, mod, ty: fn(x) * 2.0, 1.0, "s", True, None, math.sin, math, float)
    assert g[0] == pytest.approx(2 * math.cos(1.0))
    assert g[1:] == (None,) * 6


def test_gradient_does_not_mutate_the_argument():
    model = Model([Layer(np.ones((2, 2)), np.zeros(2))], 2.0)
    before = copy.deepcopy(model)
    gradient(lambda m: m.scale * np.sum(m.layers[0].W @ np.ones(2) + m.layers[0].b), model)
    assert model.scale == before.scale and model.label == before.label
    np.testing.assert_array_equal(model.layers[0].W, before.layers[0].W)
    np.testing.assert_array_equal(model.layers[0].b, before.layers[0].b)


# -- pullback accepts structured cotangents --------------------------------------------


def test_pullback_with_a_tangent_as_dy():
    y, back = pullback(lambda x: Point(x, 2 * x), 1.0)
    assert y == Point(1.0, 2.0)
    assert back(Tangent(Point, {"x": 1.0, "y": 1.0})) == (3.0,)
    assert back(Tangent(Point, {"x": 0.0, "y": 1.0})) == (2.0,)
    assert back(Tangent(Point, {"x": 5.0})) == (5.0,), "a missing field is zero"


def test_pullback_with_a_tangent_as_dy_plain_object():
    y, back = pullback(lambda w, k: Plain(w * k, k * k, "t"), np.array([1.0, 2.0]), 3.0)
    (gw, gk) = back(Tangent(Plain, {"w": np.array([1.0, 1.0]), "k": 1.0, "tag": None}))
    np.testing.assert_allclose(gw, [3.0, 3.0])
    assert gk == pytest.approx(1.0 + 2.0 + 6.0)


def test_pullback_with_a_dict_as_dy():
    y, back = pullback(lambda a, b: {"s": a + b, "p": a * b, "c": "const"}, 2.0, 5.0)
    assert y == {"s": 7.0, "p": 10.0, "c": "const"}
    assert back({"s": 1.0, "p": 0.0}) == (1.0, 1.0)
    assert back({"p": 1.0}) == (5.0, 2.0)
    assert back({"s": 1.0, "p": 1.0, "c": None}) == (6.0, 3.0)


def test_pullback_with_a_namedtuple_as_dy():
    y, back = pullback(lambda a: Pt(a * a, 3 * a), 2.0)
    assert y == Pt(4.0, 6.0)
    assert back(Pt(1.0, 0.0)) == (4.0,)
    assert back(Pt(1.0, 1.0)) == (7.0,)
    assert back(Pt(None, 2.0)) == (6.0,)


def test_pullback_with_nested_structures_as_dy():
    def f(x):
        return {"pts": [Point(x, x * x), Point(2 * x, 1.0)], "pair": Pt(x, -x)}

    y, back = pullback(f, 3.0)
    dy = {"pts": [Tangent(Point, {"x": 1.0, "y": 1.0}), Tangent(Point, {"x": 1.0, "y": 1.0})], "pair": Pt(1.0, 2.0)}
    assert back(dy) == (pytest.approx(1.0 + 6.0 + 2.0 + 1.0 - 2.0),)


def test_pullback_dy_accepted_as_what_gradient_returns():
    """The gradient of a structure can be fed back as the dy of a function returning one."""
    p = Point(1.0, 2.0)
    (t,) = gradient(lambda p: p.x * p.y, p)
    y, back = pullback(lambda s: Point(s * p.x, s * p.y), 2.0)
    assert back(t) == (pytest.approx(t.x * p.x + t.y * p.y),)


def test_expected_tangent_matches_finite_differences_of_the_pullback():
    """pullback's structured dy is linear: back(a*t1 + t2) == a*back(t1) + back(t2)."""
    _, back = pullback(lambda x, y: Point(x * y, x + math.sin(y)), 0.3, 1.1)
    t1, t2 = Tangent(Point, {"x": 1.0, "y": 0.5}), Tangent(Point, {"x": -2.0, "y": 0.25})
    combo = Tangent(Point, {"x": 3 * 1.0 + -2.0, "y": 3 * 0.5 + 0.25})
    lhs = back(combo)
    rhs = tuple(3 * a + b for a, b in zip(back(t1), back(t2)))
    assert lhs == pytest.approx(rhs)


def test_broadcast_view_read_many_times():
    # regression: a view whose elements share memory (np.broadcast_to) over-counted its cotangent
    import numpy as np

    W = np.arange(6.0).reshape(2, 3)

    def f(a):
        b = np.broadcast_to(a, (2, 3))
        c = np.expand_dims(b, 0)
        return np.sum(c * W) + np.sum(b * b)

    check_gradient(f, np.array([0.5, -1.0, 2.0]))
