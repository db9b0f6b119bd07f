"""The copy rule table (`copy.copy`, `copy.deepcopy`), and copies end to end: a copy changed
after it was made, a shallow copy sharing what it holds, objects with fields."""
import copy
import dataclasses

import numpy as np

from _tables import A, C, S, Seq, table_test
from dpnb import gradient
from dpnb.testing import gradcheck


def L(*specs):
    return Seq(list, specs)


def T(*specs):
    return Seq(tuple, specs)


CASES = [
    C(copy.copy, S()),
    C(copy.copy, L(S(), S(), S())),
    C(copy.copy, T(S(), A((2,)))),
    C(copy.copy, A((2, 3))),
    C(copy.copy, {"a": 1.5, "b": np.array([0.5, -1.0])}),
    C(copy.deepcopy, L(L(S(), S()), T(S(),))),
    C(copy.deepcopy, {"a": [1.5, -0.5], "b": (2.0,)}),
    C(copy.deepcopy, A((3,))),
    C(copy.deepcopy, L(S(), A((2,))), {}),
]


test_copy_rule = table_test(CASES)


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Box:
    def __init__(self, v, w):
        self.v = v
        self.w = w


def _copy_then_change(xs):
    ys = copy.copy(xs)
    ys[0] = ys[0] * 3.0
    ys.append(xs[1] ** 2)
    return sum(v * v for v in ys) + xs[0]


def _deepcopy_then_change(xs):
    ys = copy.deepcopy(xs)
    ys[0][0] = ys[0][0] * 5.0
    return ys[0][0] * xs[0][0] + sum(ys[1]) * xs[1][1]


def _dict_copy(d):
    e = copy.copy(d)
    e["a"] = e["a"] * 2.0
    return e["a"] * d["a"] + e["b"] ** 2


def _dataclass_copy(p):
    q = copy.copy(p)
    q.x = q.x * 3.0
    return q.x * p.x + q.y * p.y


def _dataclass_deepcopy(p):
    q = copy.deepcopy(p)
    return q.x**2 + q.y * p.x


def _array_copy(a):
    b = copy.copy(a)
    b[0] = 10.0
    return np.sum(b * a)


def _array_deepcopy(a):
    b = copy.deepcopy(a)
    b *= 2.0
    return np.sum(b * a)


def _object_deepcopy(x):
    box = Box(x, 2.0)
    c = copy.deepcopy(box)
    c.v = c.v * c.w
    return c.v * box.v


def _tuple_deepcopy(xs):
    t = copy.deepcopy((xs, xs[0]))
    return t[0][1] * t[1]


END_TO_END = [
    (_copy_then_change, [1.0, 2.0]),
    (_deepcopy_then_change, [[1.0, 2.0], [3.0, 4.0]]),
    (_dict_copy, {"a": 1.5, "b": 2.0}),
    (_dataclass_copy, Point(1.5, 2.0)),
    (_dataclass_deepcopy, Point(1.5, 2.0)),
    (_array_copy, np.array([1.0, 2.0])),
    (_array_deepcopy, np.array([1.0, 2.0])),
    (_object_deepcopy, 1.5),
    (_tuple_deepcopy, [1.0, 2.0]),
]


def test_gradient_through_copies():
    for f, x in END_TO_END:
        assert gradcheck(f, x), f.__name__


def test_a_shallow_copy_shares_the_lists_inside():
    def f(xs):
        ys = copy.copy(xs)
        ys[0][0] = ys[0][0] * 5.0  # changes xs[0][0] too
        return xs[0][0] * xs[1][0]

    # f = 5 x00 x10 (f changes its argument, so finite differences would start elsewhere)
    (g,) = gradient(f, [[1.0, 2.0], [3.0, 4.0]])
    assert g == [[15.0, None], [5.0, None]]
