"""NumPy: silent zeros, second order, non-finite values, shapes and dtypes, forward mode.

Expected values are derived by hand (the docstrings say how) or computed by central
differences (`dpnb.testing.numerical_gradient`).
"""
import numpy as np
import pytest

from dpnb import DifferentiationError, gradient, hessian, jacobian, jvp, pullback

try:
    from ._regress_check import check_fd, expect_grad
except ImportError:
    from _regress_check import check_fd, expect_grad


X3 = np.array([0.3, -1.2, 0.7])

# -- 4. silent zeros --------------------------------------------------------------------


def test_r_concatenates_with_gradient():
    """np.sum(np.r_[x, 2x] * w): d/dx = w[:3] + 2 w[3:].

    Today: None instead of a gradient.
    """
    w = np.arange(1.0, 7.0)
    expect_grad(gradient(lambda x: np.sum(np.r_[x, 2.0 * x] * w), X3), (w[:3] + 2 * w[3:],))


def test_r_with_scalars():
    """np.r_[a, b, 3.0] of two scalars, weighted: (1, 2).

    Today: None instead of a gradient.
    """
    expect_grad(gradient(lambda a, b: np.sum(np.r_[a, b, 3.0] * np.array([1.0, 2.0, 3.0])), 0.5, 1.5), (1.0, 2.0))


def test_c_stacks_columns_with_gradient():
    """np.sum(np.c_[x, x**2] * W) with W of shape (3, 2): W[:, 0] + 2 x W[:, 1].

    Today: None instead of a gradient.
    """
    W = np.arange(1.0, 7.0).reshape(3, 2)
    expect_grad(gradient(lambda x: np.sum(np.c_[x, x**2] * W), X3), (W[:, 0] + 2 * X3 * W[:, 1],))


def test_linspace_differentiable_stop():
    """np.linspace(0, s, 5) = s * [0, .25, .5, .75, 1]; sum -> 2.5.

    Today: None instead of a gradient.
    """
    expect_grad(gradient(lambda s: np.sum(np.linspace(0.0, s, 5)), 2.0), (2.5,))


def test_linspace_differentiable_start_and_stop():
    """np.linspace(a, b, 5) weighted by w: d/da = sum(w (1 - t)), d/db = sum(w t), t = k/4.

    Today: None instead of a gradient.
    """
    t = np.linspace(0.0, 1.0, 5)
    w = np.array([1.0, -2.0, 3.0, 0.5, 4.0])
    expect_grad(
        gradient(lambda a, b: np.sum(np.linspace(a, b, 5) * w), -1.0, 2.0),
        (np.sum(w * (1 - t)), np.sum(w * t)),
    )


def test_linspace_array_endpoints():
    """np.linspace with array endpoints (shape (5, 2)): central differences.

    Today: None instead of a gradient.
    """
    w = np.arange(10.0).reshape(5, 2)
    check_fd(lambda a, b: np.sum(np.linspace(a, b, 5) * w), np.array([0.5, -1.0]), np.array([2.0, 3.0]))


def test_select_passes_gradient_of_chosen_branch():
    """np.select([x > 0, x <= 0], [x**2, -3x]): 2x where x > 0, -3 elsewhere.

    Today: None instead of a gradient.
    """
    f = lambda x: np.sum(np.select([x > 0, x <= 0], [x**2, -3.0 * x]))  # noqa: E731
    expect_grad(gradient(f, X3), (np.where(X3 > 0, 2 * X3, -3.0),))


def test_select_default_is_differentiable():
    """np.select([x > 0], [x**2], default=y): 2x where x > 0; y gets 1 where x <= 0.

    Today: None instead of a gradient.
    """
    y = np.array([5.0, 6.0, 7.0])
    f = lambda x, y: np.sum(np.select([x > 0], [x**2], default=y))  # noqa: E731
    expect_grad(gradient(f, X3, y), (np.where(X3 > 0, 2 * X3, 0.0), np.where(X3 > 0, 0.0, 1.0)))


def test_hessian_of_trace_squared():
    """tr(X)^2: gradient 2 tr(X) I, Hessian H[i,j,k,l] = 2 [i == j][k == l].

    Today: wrong value: an all-zero Hessian.
    """
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    I = np.eye(2)
    expect_grad(hessian(lambda X: np.trace(X) ** 2, X), 2 * np.einsum("ij,kl->ijkl", I, I))


def test_hessian_of_sum_of_diag_squared():
    """sum(diag(X)^2): Hessian H[i,j,k,l] = 2 [i == j == k == l].

    Today: wrong value: an all-zero Hessian.
    """
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    H = np.zeros((2, 2, 2, 2))
    for i in range(2):
        H[i, i, i, i] = 2.0
    expect_grad(hessian(lambda X: np.sum(np.diag(X) ** 2), X), H)


def test_hessian_of_diag_of_vector():
    """sum(diag(v)^3) = sum(v^3): Hessian diag(6 v).

    Today: passes.
    """
    expect_grad(hessian(lambda v: np.sum(np.diag(v) ** 3), X3), np.diag(6 * X3))


def test_hessian_of_trace_of_product():
    """tr(X X) = sum_ij X_ij X_ji: Hessian H[i,j,k,l] = 2 [i == l][j == k].

    Today: passes.
    """
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    I = np.eye(2)
    expect_grad(hessian(lambda X: np.trace(X @ X), X), 2 * np.einsum("il,jk->ijkl", I, I))


# -- 6. non-finite values -----------------------------------------------------------------


def test_nan_to_num_blocks_nonfinite_entries():
    """np.nan_to_num replaces inf/nan by constants: those entries get 0, the others 3.

    Today: wrong value [3, 3, 3, 3, 3]: the gradient passes through the inf/nan entries.
    """
    x = np.array([1.0, np.inf, np.nan, -np.inf, 2.0])
    expect_grad(gradient(lambda x: np.sum(np.nan_to_num(x) * 3.0), x), (np.array([3.0, 0.0, 0.0, 0.0, 3.0]),))


def test_nan_to_num_with_replacements():
    """nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0), squared: 2x at finite entries, 0 elsewhere.

    Today: wrong value [3, 18, 1, -18, -4]: the gradient passes through the inf/nan entries.
    """
    x = np.array([1.5, np.inf, np.nan, -np.inf, -2.0])
    f = lambda x: np.sum(np.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0) ** 2)  # noqa: E731
    expect_grad(gradient(f, x), (np.array([3.0, 0.0, 0.0, 0.0, -4.0]),))


def test_std_of_one_element():
    """np.std of one element is 0 for every value: gradient 0, not nan.

    Today: nan.
    """
    expect_grad(gradient(lambda x: np.std(x), np.array([2.0])), (np.array([0.0]),))


def test_std_of_one_element_plus_sum():
    """np.std(x) + np.sum(x) with one element: gradient 1.

    Today: nan.
    """
    expect_grad(gradient(lambda x: np.std(x) + np.sum(x), np.array([2.0])), (np.array([1.0]),))


def test_std_along_axis_of_length_one():
    """np.std(X, axis=1) of a (3, 1) array is identically 0: gradient 0, not nan.

    Today: nan.
    """
    X = np.array([[1.0], [2.0], [-3.0]])
    expect_grad(gradient(lambda X: np.sum(np.std(X, axis=1)), X), (np.zeros((3, 1)),))


# -- 10. shapes and dtypes ----------------------------------------------------------------


def test_pullback_rejects_wrong_cotangent_shape():
    """A cotangent of shape (5,) for an output of shape (3,) is an error, not a broadcast.

    Today: no error: the (5,) cotangent is accepted.
    """
    _, back = pullback(lambda x: x * 2.0, np.ones(3))
    with pytest.raises((ValueError, DifferentiationError)):
        back(np.ones(5))


def test_pullback_rejects_wrong_cotangent_shape_of_sum():
    """A cotangent of shape (2,) for a scalar output is an error.

    Today: passes.
    """
    _, back = pullback(lambda x: np.sum(x * 2.0), np.ones(3))
    with pytest.raises((ValueError, DifferentiationError)):
        back(np.ones(2))


def test_object_dtype_float_array_gets_gradient():
    """An object-dtype array of floats: np.sum(x * x) -> 2x, not None.

    Today: None.
    """
    x = np.array([1.0, 2.0, -0.5], dtype=object)
    (g,) = gradient(lambda x: np.sum(x * x), x)
    assert g is not None
    expect_grad(np.asarray(g, dtype=float), np.array([2.0, 4.0, -1.0]))


def test_hessian_of_array_item_writes():
    """a = zeros(2); a[0] = x0 x1; a[1] = x0^2; a[0] * a[1] = x0^3 x1.

    Hessian [[6 x0 x1, 3 x0^2], [3 x0^2, 0]].

    Today: wrong value [[-1.5, 2.25], ...] instead of [[-4.5, 6.75], [6.75, 0]].
    """
    def f(x):
        a = np.zeros(2)
        a[0] = x[0] * x[1]
        a[1] = x[0] ** 2
        return a[0] * a[1]

    x0, x1 = 1.5, -0.5
    expect_grad(hessian(f, np.array([x0, x1])), np.array([[6 * x0 * x1, 3 * x0**2], [3 * x0**2, 0.0]]))


def test_hessian_of_list_item_writes():
    """The same with a list: L = [0, 0]; L[0] = x0 x1; L[1] = x0^2.

    Today: NameError: name 'structure_bar' is not defined (generated code).
    """
    def f(x):
        L = [0.0, 0.0]
        L[0] = x[0] * x[1]
        L[1] = x[0] ** 2
        return L[0] * L[1]

    x0, x1 = 1.5, -0.5
    expect_grad(hessian(f, np.array([x0, x1])), np.array([[6 * x0 * x1, 3 * x0**2], [3 * x0**2, 0.0]]))


def test_hessian_of_array_slice_write():
    """a = zeros(3); a[1:] = x * x; sum(a * a) = sum x^4: Hessian diag(12 x^2).

    Today: wrong value [[9, 0], ...] instead of diag(27, 3).
    """
    def f(x):
        a = np.zeros(3)
        a[1:] = x * x
        return np.sum(a * a)

    x = np.array([1.5, -0.5])
    expect_grad(hessian(f, x), np.diag(12 * x**2))


def test_filter_like_map():
    """sum(filter(positive, [x, -x, 2x])) at x = 1.5 keeps x and 2x: 3.

    Today: NoRuleError (no rule for filter).
    """
    expect_grad(gradient(lambda x: sum(filter(lambda t: t > 0, [x, -x, 2.0 * x])), 1.5), (3.0,))


def test_filter_then_map():
    """sum(map(square, filter(positive, [x, -x, 3x]))) = x^2 + 9x^2 -> 20x = 30.

    Today: NoRuleError (no rule for filter).
    """
    f = lambda x: sum(map(lambda t: t * t, filter(lambda t: t > 0, [x, -x, 3.0 * x])))  # noqa: E731
    expect_grad(gradient(f, 1.5), (30.0,))


def test_filter_none_and_list():
    """list(filter(None, [x, 0.0, y])) keeps the truthy entries: x * y -> (y, x).

    Today: NoRuleError (no rule for filter).
    """
    def f(x, y):
        kept = list(filter(None, [x, 0.0, y]))
        return kept[0] * kept[1]

    expect_grad(gradient(f, 1.5, -2.0), (-2.0, 1.5))


# -- 11. forward mode ------------------------------------------------------------------------


def test_jvp_of_dot_of_nd_arrays():
    """np.dot of (2, 3, 4) and (4, 5): value dot(A, B), tangent dot(dA, B) + dot(A, dB).

    Today: passes.
    """
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    dA, dB = rng.standard_normal(A.shape), rng.standard_normal(B.shape)
    y, ydot = jvp(np.dot, (A, B), (dA, dB))
    expect_grad(np.asarray(y), np.dot(A, B))
    expect_grad(np.asarray(ydot), np.dot(dA, B) + np.dot(A, dB))


def test_jvp_of_dot_of_two_3d_arrays():
    """np.dot of (2, 3, 4) and (3, 4, 5) -> shape (2, 3, 3, 5), through a lambda.

    Today: ValueError: operands could not be broadcast together.
    """
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5))
    dA, dB = rng.standard_normal(A.shape), rng.standard_normal(B.shape)
    y, ydot = jvp(lambda a, b: np.dot(a, b), (A, B), (dA, dB))
    expect_grad(np.asarray(y), np.dot(A, B))
    expect_grad(np.asarray(ydot), np.dot(dA, B) + np.dot(A, dB))


def test_jvp_of_sort_is_permuted_tangent():
    """np.sort: the tangent is the input tangent permuted like the values.

    Today: wrong value: tangent [0, 0, 0, 0].
    """
    x = np.array([0.3, -1.2, 0.7, 2.0])
    t = np.array([1.0, 2.0, 3.0, 4.0])
    y, ydot = jvp(np.sort, (x,), (t,))
    expect_grad(np.asarray(y), np.sort(x))
    expect_grad(np.asarray(ydot), t[np.argsort(x)])


def test_jvp_of_sort_inside_function():
    """sum(sort(x) * w): tangent sum(w * t[argsort(x)]).

    Today: wrong value: tangent 0.0.
    """
    x = np.array([0.3, -1.2, 0.7, 2.0])
    t = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    _, ydot = jvp(lambda x: np.sum(np.sort(x) * w), (x,), (t,))
    expect_grad(ydot, float(np.sum(w * t[np.argsort(x)])))


BROADCAST_X = np.array([1.0, 2.0, 3.0])
BROADCAST_M = np.arange(1.0, 7.0).reshape(2, 3)
BROADCAST_CASES = {
    # name: (f, primals, tangents, expected output tangent)
    "x + s, ds only": (lambda x, s: x + s, (BROADCAST_X, 2.0), (None, 1.0), np.ones(3)),
    "s + x, ds only": (lambda x, s: s + x, (BROADCAST_X, 2.0), (None, 1.0), np.ones(3)),
    "x - s, ds only": (lambda x, s: x - s, (BROADCAST_X, 2.0), (None, 1.0), -np.ones(3)),
    "s - x, ds only": (lambda x, s: s - x, (BROADCAST_X, 2.0), (None, 1.0), np.ones(3)),
    "np.add(x, s), ds only": (lambda x, s: np.add(x, s), (BROADCAST_X, 2.0), (None, 1.0), np.ones(3)),
    "sin(s) + x, ds only": (lambda x, s: np.sin(s) + x, (BROADCAST_X, 2.0), (None, 1.0), np.full(3, np.cos(2.0))),
    "row + matrix, drow only": (lambda r, M: r + M, (BROADCAST_X, BROADCAST_M), (np.array([1.0, 2.0, 3.0]), None),
                                np.tile([1.0, 2.0, 3.0], (2, 1))),
    "matrix - row, drow only": (lambda r, M: M - r, (BROADCAST_X, BROADCAST_M), (np.array([1.0, 2.0, 3.0]), None),
                                -np.tile([1.0, 2.0, 3.0], (2, 1))),
}


@pytest.mark.parametrize("name", list(BROADCAST_CASES))
def test_jvp_tangent_of_broadcast_input_has_output_shape(name):
    """An input broadcast against a bigger one: the output tangent has the output's shape.

    Today: fails in all 8 cases: the tangent comes back in the input's shape (() or (3,)) instead of the
        output's ((3,) or (2, 3)).
    """
    f, primals, tangents, want = BROADCAST_CASES[name]
    y, ydot = jvp(f, primals, tangents)
    assert np.shape(ydot) == np.shape(y), f"tangent shape {np.shape(ydot)}, output shape {np.shape(y)}"
    expect_grad(np.asarray(ydot), want)


@pytest.mark.parametrize(
    "xshape, yshape",
    [((3,), ()), ((), (3,)), ((2, 1), (1, 3)), ((3,), (2, 3)), ((1,), (4,))],
    ids=str,
)
def test_jvp_tangent_of_broadcast_product(xshape, yshape):
    """x * y with broadcasting and both tangents: dx * y + x * dy, in the broadcast shape.

    Today: passes (5 of 5).
    """
    rng = np.random.default_rng(2)
    mk = lambda s: rng.standard_normal(s) if s else float(rng.standard_normal())  # noqa: E731
    x, y, dx, dy = mk(xshape), mk(yshape), mk(xshape), mk(yshape)
    out, tangent = jvp(lambda a, b: a * b, (x, y), (dx, dy))
    want = np.asarray(dx) * np.asarray(y) + np.asarray(x) * np.asarray(dy)
    assert np.shape(tangent) == want.shape
    expect_grad(np.asarray(tangent), want)


def test_jvp_of_einsum():
    """np.einsum("ij,j->ij", A, b) with a tangent for b: A * db.

    Today: NoRuleError (no rule for dict.fromkeys, inside forward mode).
    """
    db = np.array([1.0, -1.0, 0.5])
    y, ydot = jvp(lambda A, b: np.einsum("ij,j->ij", A, b), (BROADCAST_M, BROADCAST_X), (None, db))
    expect_grad(np.asarray(ydot), BROADCAST_M * db)


def test_jvp_of_broadcast_to_keeps_output_shape():
    """np.broadcast_to(x, (2, 3)) with a tangent only for x: tangent broadcast to (2, 3).

    Today: passes.
    """
    x, t = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    y, ydot = jvp(lambda x: np.broadcast_to(x, (2, 3)) * 1.0, (x,), (t,))
    assert np.shape(ydot) == (2, 3)
    expect_grad(np.asarray(ydot), np.broadcast_to(t, (2, 3)))


def test_jacobian_of_dot_nd():
    """jacobian of np.dot(A, b) for A of shape (2, 3, 4): J[i, j, k, l, m] = [i == k][j == l] b[m].

    Today: passes.
    """
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    (J,) = jacobian(lambda A: np.dot(A, b), A)
    want = np.einsum("ik,jl,m->ijklm", np.eye(2), np.eye(3), b)
    expect_grad(J, want)
