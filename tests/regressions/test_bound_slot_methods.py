"""A slot of a C type called as a bound method: `x.__abs__()`, `x.__neg__()`, `a.__mul__(b)`.

Found while testing: `x.__abs__()` read as a method-wrapper bound to `x`, a C callable with no
rule given no arguments, was taken for a constant: `gradient` gave None (`jvp` 1.0 for
`x.__abs__() + x`, `hessian` zeros), silently. The object a method is bound to is an input as
much as its arguments. Now the unary slots of numbers and arrays have the operator's rule
(`__neg__`, `__pos__`, `__abs__`), and any other slot on a value that carries a gradient is
refused, naming it: a binary slot returns NotImplemented where the operator would try the other
operand, so it is not read as the operator.
"""
import math

import numpy as np
import pytest

import dpnb
from dpnb.errors import NoRuleError
from dpnb.testing import gradcheck


def abs_slot(x):
    return x.__abs__() * x


def neg_slot(x):
    return x.__neg__() * x + x.__pos__()


def abs_through_class(x):
    return float.__abs__(x) + 3.0 * x


def array_slots(x):
    return np.sum(x.__abs__() * x.__neg__())


def scalar_slot(x):
    return np.float64(x).__abs__() * x


@pytest.mark.parametrize("f,x,want", [
    (abs_slot, 2.0, 4.0), (abs_slot, -1.5, 3.0), (neg_slot, 2.0, -3.0),
    (abs_through_class, -2.0, 2.0), (scalar_slot, -3.0, 6.0),
])
def test_unary_slots_of_numbers(f, x, want):
    assert dpnb.gradient(f, x) == pytest.approx((want,))
    assert dpnb.jvp(f, (x,), (1.0,))[1] == pytest.approx(want)
    assert gradcheck(f, x)


def test_unary_slots_of_arrays():
    x = np.array([2.0, -1.0, 0.5])
    g, = dpnb.gradient(array_slots, x)
    np.testing.assert_allclose(g, -2 * np.abs(x))
    assert gradcheck(array_slots, x)
    np.testing.assert_allclose(dpnb.hessian(array_slots, x), np.diag(-2 * np.sign(x)))


def mul_slot(x):
    return x.__mul__(x)


def array_mul_slot(x):
    return np.sum(x.__mul__(2.0))


def sizeof_slot(x):
    return x + x.__sizeof__() * 0.0


@pytest.mark.parametrize("f,x", [(mul_slot, 2.0), (array_mul_slot, np.array([1.0, 2.0])), (sizeof_slot, 2.0)])
def test_other_slots_are_refused_naming_them(f, x):
    for call in (lambda: dpnb.gradient(f, x), lambda: dpnb.jvp(f, (x,), (np.ones_like(x) if isinstance(x, np.ndarray) else 1.0,))):
        with pytest.raises(NoRuleError) as info:
            call()
        assert "__mul__" in str(info.value) or "__sizeof__" in str(info.value)


def test_a_slot_of_a_value_with_no_gradient_is_a_constant():
    def f(x, n):
        return x * n.__abs__()

    assert dpnb.gradient(f, 2.0, -3)[0] == 3.0
    assert dpnb.gradient(lambda x: x * math.pi.__abs__(), 2.0) == pytest.approx((math.pi,))
