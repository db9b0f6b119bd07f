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
