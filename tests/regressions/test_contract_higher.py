"""Forward over reverse and deeper: jvp of gradient, jacobian of jacobian, third derivatives,
second derivatives of functions with defaults, *args and **kwargs. Expected values by hand.
"""
import math

import numpy as np
import pytest

from dpnb import DifferentiationError, derivative, gradient, hessian, jacobian, jvp

try:
    from ._regress_check import expect_grad
except ImportError:
    from _regress_check import expect_grad

X3 = np.array([0.5, -1.0, 2.0])


def test_jvp_of_function_calling_gradient():
    """x -> d/dy y^3 at x = 3x^2; its tangent at 2 along 1 is 6x = 12.

    Today: TypeError: can't multiply sequence by non-int of type 'float'.
    """
    y, ydot = jvp(lambda x: gradient(lambda y: y**3, x)[0], (2.0,), (1.0,))
    expect_grad(y, 12.0)
    expect_grad(ydot, 12.0)


def test_jvp_of_gradient_of_sin_times_identity():
    """g(x) = d/dx (x sin x) = sin x + x cos x; g' = 2 cos x - x sin x.

    Today: TypeError: can't multiply sequence by non-int of type 'float'.
    """
    x = 0.5
    y, ydot = jvp(lambda x: gradient(lambda y: math.sin(y) * y, x)[0], (x,), (1.0,))
    expect_grad(y, math.sin(x) + x * math.cos(x))
    expect_grad(ydot, 2 * math.cos(x) - x * math.sin(x))


def test_jvp_of_gradient_of_array_function():
    """grad sum(y^3) = 3 y^2; its jvp along t is 6 x t (a Hessian-vector product).

    Today: TypeError: can't multiply sequence by non-int of type 'float'.
    """
    t = np.array([1.0, 2.0, -1.0])
    y, ydot = jvp(lambda x: gradient(lambda y: np.sum(y**3), x)[0], (X3,), (t,))
    expect_grad(np.asarray(y), 3 * X3**2)
    expect_grad(np.asarray(ydot), 6 * X3 * t)


def test_gradient_of_jvp():
    """The tangent of y^3 along 1 is 3x^2; its gradient is 6x = 12 at 2.

    Today: NoRuleError (no rule for ast.Return): the transform walks into dpnb's own forward-mode code.
    """
    expect_grad(gradient(lambda x: jvp(lambda y: y**3, (x,), (1.0,))[1], 2.0), (12.0,))


def test_jacobian_of_jacobian_elementwise():
    """J(x) = diag(3 x^2); dJ/dx[i, j, k] = 6 x_i [i == j == k].

    Today: NoRuleError (no rule for ast.Return).
    """
    (got,) = jacobian(lambda x: jacobian(lambda v: v**3, x)[0], X3)
    want = np.zeros((3, 3, 3))
    for i in range(3):
        want[i, i, i] = 6 * X3[i]
    expect_grad(got, want)


def test_jacobian_of_jacobian_coupled():
    """f(v) = v * sum(v): J[i, j] = [i == j] s + v_i with s = sum(v);
    dJ[i, j]/dv_k = [i == j] + [i == k].

    Today: NoRuleError (no rule for ast.Return).
    """
    (got,) = jacobian(lambda x: jacobian(lambda v: v * np.sum(v), x)[0], X3)
    I = np.eye(3)
    want = np.einsum("ij,k->ijk", I, np.ones(3)) + np.einsum("ik,j->ijk", I, np.ones(3))
    expect_grad(got, want)


def test_third_derivative_of_polynomial():
    """(x^4)''' = 24 x = 16.8 at 0.7.

    Today: DifferentiationError: second derivatives through gradient_ho need exactly positional arguments.
    """
    expect_grad(derivative(derivative(derivative(lambda x: x**4)))(0.7), 24 * 0.7)


def test_third_derivative_of_sin_times_square():
    """(x^2 sin x)''' = 6 cos x - 6 x sin x - x^2 cos x.

    Today: DifferentiationError: second derivatives through gradient_ho need exactly positional arguments.
    """
    x = 0.7
    want = 6 * math.cos(x) - 6 * x * math.sin(x) - x * x * math.cos(x)
    expect_grad(derivative(derivative(derivative(lambda x: math.sin(x) * x**2)))(x), want)


def test_fourth_derivative_is_refused_clearly():
    """The fourth derivative of exp through four nested gradients: beyond the third order dpnb
    refuses, naming the order, rather than compiling for minutes (or answering wrongly)."""
    d = derivative
    with pytest.raises(DifferentiationError, match="up to order 3"):
        d(d(d(d(math.exp))))(0.3)


def _power_default(x, p=3.0):
    return x**p


def _product_args(*xs):
    return xs[0] ** 2 * xs[1]


def _power_kwargs(x, **kw):
    return x ** kw["p"]


def test_second_derivative_with_default_argument():
    """x^p with the default p = 3: 6x = 9 at 1.5.

    Today: DifferentiationError: second derivatives through _power_default need exactly positional arguments
        (no defaults).
    """
    expect_grad(derivative(derivative(_power_default))(1.5), 9.0)


def test_second_derivative_with_star_args():
    """x^2 * 3 through *args: 6.

    Today: DifferentiationError: second derivatives through _product_args need exactly positional arguments
        (no *args).
    """
    expect_grad(derivative(derivative(lambda x: _product_args(x, 3.0)))(1.5), 6.0)


def test_second_derivative_with_star_kwargs():
    """x^p with p = 3 through **kwargs: 6x = 9 at 1.5.

    Today: NoRuleError (no rule for getattr).
    """
    expect_grad(derivative(derivative(lambda x: _power_kwargs(x, p=3.0)))(1.5), 9.0)


def test_hessian_with_default_argument():
    """v0^3 v1: Hessian [[6 v0 v1, 3 v0^2], [3 v0^2, 0]].

    Today: DifferentiationError: second derivatives need exactly positional arguments (no defaults).
    """
    v0, v1 = 1.5, 2.0
    got = hessian(lambda v: _power_default(v[0]) * v[1], np.array([v0, v1]))
    expect_grad(got, np.array([[6 * v0 * v1, 3 * v0**2], [3 * v0**2, 0.0]]))


def test_hessian_with_star_args():
    """v0^2 v1 through *args: Hessian [[2 v1, 2 v0], [2 v0, 0]].

    Today: DifferentiationError: second derivatives need exactly positional arguments (no *args).
    """
    v0, v1 = 1.5, 2.0
    got = hessian(lambda v: _product_args(v[0], v[1]), np.array([v0, v1]))
    expect_grad(got, np.array([[2 * v1, 2 * v0], [2 * v0, 0.0]]))
