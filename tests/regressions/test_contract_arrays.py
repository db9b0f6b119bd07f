"""NumPy array methods in second order, size-1 outputs as losses, functools.partial and
operator.itemgetter in gradients. Expected values by hand.
"""
import functools
import operator

import numpy as np
import pytest

from dpnb import gradient, hessian

try:
    from ._regress_check import check_fd, expect_grad
except ImportError:
    from _regress_check import check_fd, expect_grad

X4 = np.array([0.5, -1.0, 2.0, 1.5])
# sum(v^3) for v a rearrangement of x: the Hessian is diag(6 x) whatever the rearrangement
CUBE_HESSIAN = np.diag(6 * X4)

METHODS = {
    "reshape": lambda x: np.sum(x.reshape(2, 2) ** 3),
    "reshape(-1, 1)": lambda x: np.sum(x.reshape(-1, 1) ** 3),
    "ravel": lambda x: np.sum(x.reshape(2, 2).ravel() ** 3),
    "flatten": lambda x: np.sum(x.reshape(2, 2).flatten() ** 3),
    "squeeze": lambda x: np.sum(x.reshape(1, 4, 1).squeeze() ** 3),
    "T": lambda x: np.sum(x.reshape(2, 2).T ** 3),
    "np.reshape": lambda x: np.sum(np.reshape(x, (4, 1)) ** 3),
    "np.ravel": lambda x: np.sum(np.ravel(x.reshape(2, 2)) ** 3),
    "np.squeeze": lambda x: np.sum(np.squeeze(x[None, :]) ** 3),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_hessian_through_array_method(name):
    """sum(m(x)^3) for a rearranging method m: Hessian diag(6x).

    Today: NoRuleError (no rule for getattr) for the 7 method forms; np.reshape and np.squeeze pass.
    """
    expect_grad(hessian(METHODS[name], X4), CUBE_HESSIAN)


def test_hessian_through_reshape_and_matmul():
    """x reshaped to A (2x2); sum(A @ A) = sum_ijk A_ij A_jk: Hessian by hand.

    Today: NoRuleError (no rule for getattr).
    """
    H = np.zeros((4, 4))
    # d^2/dA_ab dA_cd of sum_ijk A_ij A_jk = [b == c] + [d == a]; flat index of A_ab is 2a + b
    for a in range(2):
        for b in range(2):
            for c in range(2):
                for d in range(2):
                    H[2 * a + b, 2 * c + d] = (b == c) + (d == a)
    expect_grad(hessian(lambda x: np.sum(x.reshape(2, 2) @ x.reshape(2, 2)), X4), H)


@pytest.mark.parametrize(
    "name, f, want",
    [
        ("x[:1] * 2", lambda x: x[:1] * 2, np.array([2.0, 0.0, 0.0, 0.0])),
        ("x[None, :1] ** 2", lambda x: x[None, :1] ** 2, np.array([1.0, 0.0, 0.0, 0.0])),
        ("x[1:2].reshape(1, 1)", lambda x: x[1:2].reshape(1, 1) * 3.0, np.array([0.0, 3.0, 0.0, 0.0])),
        ("np.array([np.sum(x)])", lambda x: np.array([np.sum(x * x)]), 2 * X4),
        ("x @ x[:, None]", lambda x: x @ x[:, None], 2 * X4),
    ],
    ids=["x[:1] * 2", "x[None, :1] ** 2", "x[1:2].reshape(1, 1)", "np.array([np.sum(x)])", "x @ x[:, None]"],
)
def test_size_one_array_output_is_a_scalar_loss(name, f, want):
    """A size-1 array output is a scalar loss (SPEC §1).

    Today: NonScalarOutputError in all 5 cases (shape (1,) / (1, 1) refused).
    """
    expect_grad(gradient(f, X4), (want,))


def _weighted(w, x, p=2.0):
    return np.sum(w * x**p)


def test_functools_partial():
    """partial(_weighted, w)(x) = sum(w x^2): 2 w x.

    Today: passes.
    """
    w = np.array([1.0, 2.0, 3.0, 4.0])
    f = functools.partial(_weighted, w)
    expect_grad(gradient(f, X4), (2 * w * X4,))


def test_functools_partial_with_keyword():
    """partial(_weighted, p=3.0) called inside a lambda: d/dx sum(w x^3) = 3 w x^2, d/dw = x^3.

    Today: passes.
    """
    g = functools.partial(_weighted, p=3.0)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    expect_grad(gradient(lambda w, x: g(w, x), w, X4), (X4**3, 3 * w * X4**2))


def test_functools_partial_of_differentiable_value():
    """partial bound to a differentiable value inside f: partial(mul, x)(y) * x = x^2 y.

    Today: NoRuleError (no rule for functools.partial).
    """
    def f(x, y):
        times_x = functools.partial(operator.mul, x)
        return times_x(y) * x

    expect_grad(gradient(f, 1.5, -2.0), (-6.0, 2.25))


def test_operator_itemgetter():
    """itemgetter(0, 2)(xs) = (x0, x2): x0 * x2 -> [x2, 0, x0].

    Today: NoRuleError (no rule for the itemgetter object).
    """
    get = operator.itemgetter(0, 2)

    def f(xs):
        a, b = get(xs)
        return a * b

    expect_grad(gradient(f, [1.5, -2.0, 0.5]), ([0.5, 0.0, 1.5],))


def test_operator_itemgetter_on_array_and_dict():
    """itemgetter(1) on an array and itemgetter("k") on a dict.

    Today: NoRuleError (no rule for operator.itemgetter).
    """
    def f(x, d):
        return operator.itemgetter(1)(x) ** 2 * operator.itemgetter("k")(d)

    got = gradient(f, X4, {"k": 3.0})
    expect_grad(got, (np.array([0.0, 2 * -1.0 * 3.0, 0.0, 0.0]), {"k": 1.0}))


def test_sorted_with_itemgetter_key():
    """sorted(pairs, key=itemgetter(1)) then the first pair's product: check by differences.

    Today: NoRuleError (no rule for operator.itemgetter).
    """
    def f(xs):
        pairs = [(xs[0], xs[1]), (xs[2], xs[0] * 2.0)]
        first = sorted(pairs, key=operator.itemgetter(1))[0]
        return first[0] * first[1]

    check_fd(f, [1.5, 4.0, 0.5])
