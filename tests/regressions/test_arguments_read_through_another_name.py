"""An argument that is the very object (or memory) the function itself also reads as a global or
closure variable. Plain array code holds the other name fixed (`sum(x * A)` at `x = A` gives A);
the other ways kept cotangents per object and counted those reads as the argument's (2A), so the
modes disagreed, and a `gradient` nested in a differentiated function computed another value than
the same call run plainly (the outer gradient of `sum(gradient(lambda y: sum(y**2 * x), x))` was
6x for 4x). Where the code is not plain, this is now refused, naming the variable; a copy gives
the gradient with the variable held fixed."""
import numpy as np
import pytest

import dpnb
from dpnb.errors import DifferentiationError

A = np.array([1.0, 2.0, 3.0])
L = [1.0, 2.0]


def _plain(x):
    return np.sum(x * A)


def _loop(x):
    s = 0.0
    for i in range(3):
        s = s + x[i] * A[i]
    return s


def _nested(x):
    inner = lambda y: np.sum(y**2 * x)  # noqa: E731
    return np.sum(dpnb.gradient(inner, x)[0])


def _nested_copy(x):
    inner = lambda y: np.sum(y**2 * x)  # noqa: E731
    return np.sum(dpnb.gradient(inner, x.copy())[0])


def _list(xs):
    return xs[0] * L[0] + xs[1] * L[1]


def test_a_nested_gradient_of_a_closure_over_its_argument_is_refused():
    x = np.array([1.5, -0.2, 0.5])
    with pytest.raises(DifferentiationError, match="closure variable `x`"):
        dpnb.gradient(_nested, x)
    (g,) = dpnb.gradient(_nested_copy, x)
    assert np.allclose(g, 4 * x)  # d/dx sum(2 x²)


@pytest.mark.parametrize("mode", ["pullback", "jacobian", "jvp", "loop"])
def test_the_general_way_refuses_where_it_counted_the_global_as_the_argument(mode):
    with pytest.raises(DifferentiationError, match="global variable `A`"):
        if mode == "pullback":
            dpnb.pullback(_plain, A)
        elif mode == "jacobian":
            dpnb.jacobian(_plain, A)
        elif mode == "jvp":
            dpnb.jvp(_plain, (A,), (np.ones(3),))
        else:
            dpnb.gradient(_loop, A)


def test_plain_array_code_holds_the_global_fixed_as_before():
    assert np.allclose(dpnb.gradient(_plain, A)[0], A)


def test_a_copy_is_differentiated_with_the_global_held_fixed_in_every_mode():
    x = A.copy()
    assert np.allclose(dpnb.gradient(_loop, x)[0], A)
    assert np.allclose(dpnb.pullback(_plain, x)[1](1.0)[0], A)
    assert np.allclose(dpnb.jvp(_plain, (x,), (np.ones(3),))[1], np.sum(A))


def test_the_joined_function_of_an_earlier_call_checks_too():
    dpnb.gradient(_loop, A.copy())  # builds the code for an array argument
    with pytest.raises(DifferentiationError, match="global variable `A`"):
        dpnb.gradient(_loop, A)


def test_a_list_read_as_a_global_is_refused():
    with pytest.raises(DifferentiationError, match="global variable `L`"):
        dpnb.gradient(_list, L)
    assert dpnb.gradient(_list, list(L))[0] == [1.0, 2.0]
