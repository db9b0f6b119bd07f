"""The local finite-difference checker catches wrong gradients (so the program tests can fail)."""
import numpy as np
import pytest

from dpnb import NoTangent, rrule

try:
    from ._fd import check_gradient, numerical_gradient
except ImportError:
    from _fd import check_gradient, numerical_gradient


def test_numerical_gradient_of_known_functions():
    gx, ga, gt, gs = numerical_gradient(
        lambda x, a, t, s: x**3 + np.sum(a**2) + t[0] * t[1] + len(s), 2.0, np.array([1, 2]), (3.0, 4.0), "ab"
    )
    assert gx == pytest.approx(12.0, rel=1e-7)
    np.testing.assert_allclose(ga, [2.0, 4.0], rtol=1e-7)
    assert gt == pytest.approx((4.0, 3.0), rel=1e-7) and type(gt) is tuple
    assert gs is None


def test_a_wrong_rule_is_caught():
    def cube(x):
        return x ** 3

    @rrule(cube)
    def cube_wrong_rrule(x):
        return cube(x), lambda dy: (NoTangent(), 2 * x * dy)  # wrong: should be 3x²

    with pytest.raises(AssertionError):
        check_gradient(lambda x: cube(x) + x, 1.5)


def test_a_missing_gradient_is_caught():
    def opaque(x):
        return x * 4.0

    @rrule(opaque)
    def opaque_zero_rrule(x):
        return opaque(x), lambda dy: (NoTangent(), None)  # claims no gradient

    with pytest.raises(AssertionError):
        check_gradient(lambda x: opaque(x), 1.5)


def test_a_wrong_shape_is_caught():
    def total(a):
        return np.sum(a)

    @rrule(total)
    def total_scalar_rrule(a):
        return total(a), lambda dy: (NoTangent(), dy)  # scalar where an array belongs

    with pytest.raises(AssertionError):
        check_gradient(total, np.array([1.0, 2.0]))


# -- structures -------------------------------------------------------------------------

import collections
import dataclasses

from dpnb import Tangent

try:
    from ._fd import UNCHECKED, ObjectGradient, assert_close
except ImportError:
    from _fd import UNCHECKED, ObjectGradient, assert_close

_Pair = collections.namedtuple("_Pair", "a b")


@dataclasses.dataclass
class _Box:
    w: np.ndarray
    s: float
    name: str
    n: int


class _Plain:
    def __init__(self, u, flag):
        self.u, self.flag = u, flag


def test_numerical_gradient_of_structures():
    box = _Box(np.array([1.0, 2.0]), 3.0, "box", 4)
    arg = {"box": box, "pair": _Pair(2.0, 5.0), "xs": [_Plain(1.5, True), 0.5]}

    def f(d):
        b = d["box"]
        return np.sum(b.w**2) * b.s + d["pair"].a * d["pair"].b + d["xs"][0].u ** 3 * b.n + d["xs"][1]

    (g,) = numerical_gradient(f, arg)
    assert set(g) == {"box", "pair", "xs"}
    assert isinstance(g["box"], ObjectGradient) and g["box"].primal_type is _Box
    np.testing.assert_allclose(g["box"].fields["w"], [6.0, 12.0], rtol=1e-6)
    assert g["box"].fields["s"] == pytest.approx(5.0, rel=1e-6)
    assert g["box"].fields["name"] is None and g["box"].fields["n"] is UNCHECKED
    assert type(g["pair"]) is _Pair and g["pair"] == pytest.approx(_Pair(5.0, 2.0), rel=1e-6)
    assert type(g["xs"]) is list and g["xs"][1] == pytest.approx(1.0, rel=1e-6)
    assert g["xs"][0].fields["u"] == pytest.approx(3 * 1.5**2 * 4, rel=1e-6)
    assert g["xs"][0].fields["flag"] is None
    # the caller's argument is never touched
    assert box.w.tolist() == [1.0, 2.0] and box.s == 3.0 and arg["xs"][0].u == 1.5


def test_structured_comparison_catches_mistakes():
    want = {"p": ObjectGradient(_Plain, {"u": 2.0, "flag": None}), "t": _Pair(1.0, 0.0)}
    assert_close({"p": Tangent(_Plain, {"u": 2.0, "flag": None}), "t": _Pair(1.0, None)}, want)
    assert_close({"p": Tangent(_Plain, {"u": 2.0}), "t": _Pair(1.0, 0.0)}, want)  # absent field: zero
    assert_close({"t": _Pair(1.0, 0.0)}, {"p": ObjectGradient(_Plain, {"u": 0.0}), "t": want["t"]})  # absent key
    for wrong in (
        {"p": Tangent(_Plain, {"u": 2.5}), "t": _Pair(1.0, 0.0)},  # wrong value
        {"p": Tangent(_Box, {"u": 2.0}), "t": _Pair(1.0, 0.0)},  # wrong primal type
        {"p": {"u": 2.0}, "t": _Pair(1.0, 0.0)},  # dict where a Tangent belongs
        {"p": Tangent(_Plain, {"u": 2.0}), "t": (1.0, 0.0)},  # plain tuple where a named tuple belongs
        {"p": Tangent(_Plain, {"u": 2.0, "flag": 1.0})},  # a flag got a gradient
        {"p": Tangent(_Plain, {"u": 2.0}), "q": 1.0},  # a key the argument does not have
        None,  # nothing, where finite differences see something
    ):
        with pytest.raises(AssertionError):
            assert_close(wrong, want)


def test_a_wrong_structured_gradient_is_caught():
    def scaled(p):
        return p.u * 2.0

    @rrule(scaled)
    def scaled_wrong_rrule(p):
        return scaled(p), lambda dy: (NoTangent(), Tangent(_Plain, {"u": 3.0 * dy}))  # wrong: 2

    with pytest.raises(AssertionError):
        check_gradient(lambda p: scaled(p), _Plain(1.0, False))
