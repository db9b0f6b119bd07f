"""Calls that crashed inside dpnb, or stopped with a message that did not say what was wrong.

- third derivatives through a call with keywords (`g(b=x, x=x * x)`): at third order dpnb
  differentiates its own rules, and `Source.read` (the `dict` rule's reading of the keywords) and
  the `zip` rule handed `Source` objects to Python's `list` and `zip`, whose items' gradients were
  refused ("a gradient reached the items ... of class Source"). They read by position or by a loop now.
- `sum([[a], [b]], [])`, lists (or tuples) joined by `sum`: the rule handed every list the
  cotangent of the whole result as if the items were numbers, a wrong gradient ((6, 6) for (4, 2))
  or a crash.
- `scipy.linalg.svdvals`, `lu_factor`/`lu_solve`, `logm`: dpnb ran SciPy's own code, whose
  `func.module_name = ...` on a LAPACK routine (an f2py `fortran` object) raised `TypeError: can't
  apply this __setattr__ to fortran object`. They have rules now; another SciPy function that
  reaches a LAPACK routine with no rule is a `NoRuleError` naming the user's line.
- `jvp` through `np.linalg.eigvals` and `np.roots`: `take_along_axis`'s pullback built its index
  grid from the indices' shape, not the result's (the indices broadcast against the array):
  `ValueError: array is not broadcastable to correct shape`.
- `jvp` at an int array whose function returns a NumPy integer: the point of the linear map was
  an `np.int64` zero, which the plain path read as an object of the user's (`AttributeError:
  'numpy.int64' object has no attribute '__dict__'`).
- `-c`, `+c` of a `collections.Counter`: the operator's rule for numbers got the Counter's dict
  of cotangents (`TypeError: bad operand type for unary -: 'dict'`); `c & e` (and `^`, `<<`, `>>`
  of any class with its own Python method) ran as a constant, a gradient silently missing.
- `np.vectorize(pyfunc)(x)`: dpnb ran NumPy's `vectorize.__call__`, which reads `arg.flat[0]`
  (`NoRuleError` for `ndarray.flat`). It has a rule now that differentiates `pyfunc` per entry.
- `np.linalg.multi_dot([A, B, C])` at second order: differentiating dpnb's own `_rule_call` reached
  `registry.out_params`, whose `inspect.signature` (a class statement inside) was refused with an
  `UnsupportedSyntaxError` about `inspect.py`.
- `z.shape = (3, 2)`: the assignment was followed as an object's field, whose pullback looked for
  a dict of fields in the array's cotangent (`AttributeError: 'numpy.ndarray' object has no
  attribute 'pop'`). It is followed as an in-place reshape now; `.strides` and `.dtype` are refused.
- `enumerate(obj)` (and `zip`, `sum`, `list`, `sorted`, ...) of an object whose class has its own
  `__iter__`: the rule read it with Python's `iter` and sent the object a list of its items'
  cotangents ("a cotangent of type list reached an object of type Bag"). The `__iter__` runs as the
  user's code now; one written with `yield` is refused naming the line.
"""
import math
from collections import Counter

import numpy as np
import pytest
import scipy.linalg as sla

import dpnb
from dpnb.testing import numerical_gradient

from _regress_check import check_fd, expect_grad, gradient_differences


def _line_of(marker):
    """`file, line N` of the line of this file holding `marker` (the call dpnb refuses)."""
    with open(__file__) as f:
        (n,) = [i for i, text in enumerate(f, 1) if marker in text and "_line_of(" not in text]
    return f"{__file__}, line {n}"


# --- third derivatives through keyword calls -------------------------------------------------------------


def _scaled(x, b=1.0):
    return math.sin(x) * b


def _third(f):
    d1 = lambda x: dpnb.gradient(f, x)[0]  # noqa: E731
    d2 = lambda x: dpnb.gradient(d1, x)[0]  # noqa: E731
    return d2, lambda x: dpnb.gradient(d2, x)[0]


def test_third_derivative_through_keywords_in_another_order():
    d2, d3 = _third(lambda x: _scaled(b=x, x=x * x))  # sin(x^2) x
    x, h = 0.7, 1e-4
    s, c = math.sin(x * x), math.cos(x * x)
    want = (6 - 8 * x**4) * c - 24 * x**2 * s  # (x sin(x^2))
    assert d3(x) == pytest.approx(want, rel=1e-9)
    assert d3(x) == pytest.approx((d2(x + h) - d2(x - h)) / (2 * h), rel=1e-6)


def test_third_derivative_through_keywords_in_order():
    _, d3 = _third(lambda x: _scaled(x, b=x * x))  # sin(x) x^2
    x = 0.7
    want = -math.cos(x) * x * x - 6 * x * math.sin(x) + 6 * math.cos(x)
    assert d3(x) == pytest.approx(want, rel=1e-9)


def test_zip_over_iterators_leaves_them_where_python_does():
    def f(a, b):
        it, short = iter([a, b, a * b, b]), iter([a, b])
        pairs = list(zip(it, short))  # zip takes a third item of `it` before it finds `short` done
        return sum(p * q for p, q in pairs) + next(it) * a

    assert f(2.0, 3.0) == 2.0 * 2.0 + 3.0 * 3.0 + 3.0 * 2.0
    expect_grad(check_fd(f, 2.0, 3.0), (2 * 2.0 + 3.0, 2 * 3.0 + 2.0))


# --- sum of lists -------------------------------------------------------------------------------------


def test_sum_joining_lists_gives_each_list_its_own_entries():
    def f(a, b):
        xs = sum([[a], [b]], [])
        return xs[0] * xs[1] + xs[0]

    expect_grad(dpnb.gradient(f, 2.0, 3.0), (4.0, 2.0))
    check_fd(f, 2.0, 3.0)


def test_sum_joining_lists_with_a_start_that_holds_values_and_arrays():
    def f(a, b):
        xs = sum([[a, b], [b * b], [np.array([a, 2.0 * b])]], [a])
        return xs[0] * xs[1] + xs[2] * xs[3] ** 2 + np.sum(xs[4] ** 2 * xs[0])

    check_fd(f, 2.0, 3.0)
    h = dpnb.hessian(lambda v: f(v[0], v[1]), np.array([2.0, 3.0]))
    np.testing.assert_allclose(h, gradient_differences(lambda v: f(v[0], v[1]), np.array([2.0, 3.0])), rtol=1e-5)


def test_sum_joining_tuples_with_a_keyword_start_and_an_iterator():
    def f(a, b):
        xs = sum(((a,), (b, a)), start=(b,))
        ys = sum(iter([[a], [b, a]]), [])
        return xs[0] * xs[1] + xs[3] * 5.0 + ys[0] * ys[1] * ys[2]

    check_fd(f, 2.0, 3.0)


# --- scipy.linalg through LAPACK --------------------------------------------------------------------------

_A = np.array([[2.0, 1.0, 0.3], [0.5, 3.0, 1.0], [0.2, 0.1, 4.0]])
_PIVOTED = np.array([[0.1, 1.0, 0.3], [2.5, 0.3, 1.0], [0.2, 3.1, 0.4]])  # lu_factor swaps rows
_W = np.arange(9.0).reshape(3, 3) / 7


def test_svdvals_of_square_and_wide_matrices():
    check_fd(lambda A: np.sum(sla.svdvals(A) * np.array([1.0, 2.0, 3.0])), _A)
    check_fd(lambda A: np.sum(sla.svdvals(A) ** 3), np.random.RandomState(0).rand(2, 4))


def test_lu_factor_then_lu_solve_for_vectors_matrices_and_transposes():
    b, B = np.array([1.0, 2.0, 3.0]), np.array([[1.0, 2.0], [0.3, -1.0], [2.0, 1.0]])
    check_fd(lambda A, b: np.sum(sla.lu_solve(sla.lu_factor(A), b) * b), _PIVOTED, b)
    check_fd(lambda A, B: np.sum(sla.lu_solve(sla.lu_factor(A), B) * _W[:, :2]), _PIVOTED, B)
    check_fd(lambda A, b: np.sum(sla.lu_solve(sla.lu_factor(A), b, trans=1) * _W[0]), _PIVOTED, b)
    check_fd(lambda A: np.sum(sla.lu_factor(A)[0] * _W), _PIVOTED)


def test_lu_solve_second_derivative():
    f = lambda A: np.sum(sla.lu_solve(sla.lu_factor(A), np.array([1.0, 2.0, 3.0])) ** 2)  # noqa: E731
    want = gradient_differences(f, _PIVOTED).reshape(3, 3, 3, 3)
    np.testing.assert_allclose(dpnb.hessian(f, _PIVOTED), want, rtol=1e-4, atol=1e-6)


def test_logm():
    check_fd(lambda A: np.sum(sla.logm(A) * _W), _A)
    check_fd(lambda A: np.sum(np.real(sla.logm(A * (1 + 0.2j))) * _W), _A)


def test_scipy_reaching_a_lapack_routine_with_no_rule_names_the_line():
    with pytest.raises(dpnb.NoRuleError) as e:
        dpnb.gradient(lambda A: np.sum(sla.hessenberg(A)), _A)  # the hessenberg call
    assert _line_of("# the hessenberg call") in str(e.value)


# --- jvp --------------------------------------------------------------------------------------------------


def _directional(f, x, t, h=1e-6):
    return (np.asarray(f(x + h * t)) - np.asarray(f(x - h * t))) / (2 * h)


def test_jvp_through_eigvals_real_and_complex():
    E = np.array([[0.3, -1.0], [2.0, 0.7]])
    for A in (np.array([[2.0, 1.0], [0.5, 3.0]]), np.array([[1.0, 2.0], [-3.0, 1.0]])):
        y, ydot = dpnb.jvp(np.linalg.eigvals, (A,), (E,))
        np.testing.assert_allclose(ydot, _directional(np.linalg.eigvals, A, E), rtol=1e-6, atol=1e-8)


def test_jvp_through_roots():
    for p in (np.array([1.0, -3.0, 2.0]), np.array([1.0, 0.0, 2.0])):
        t = np.array([0.1, 0.2, 0.3])
        np.testing.assert_allclose(dpnb.jvp(np.roots, (p,), (t,))[1], _directional(np.roots, p, t), rtol=1e-6, atol=1e-8)


def test_take_along_axis_with_indices_broadcast_against_the_array():
    V = np.arange(6.0).reshape(2, 3) + 1.0
    order = np.array([[2, 0, 1]])  # one row of indices for both rows of V
    check_fd(lambda V: np.sum(np.take_along_axis(V, order, axis=-1) ** 2 * np.array([1.0, 2.0, 3.0])), V)


def test_jvp_at_an_int_array_with_an_integer_output():
    x, t = np.array([1, 2, 3]), np.array([0.5, 1.0, 2.0])
    y, ydot = dpnb.jvp(lambda x: np.sum(x ** 2), (x,), (t,))
    assert y == 14 and ydot == pytest.approx(17.0)
    y, ydot = dpnb.jvp(lambda x: np.sum(x * x), (x,), (np.array([1, 1, 1]),))
    assert ydot == pytest.approx(12.0)
    np.testing.assert_allclose(dpnb.jvp(np.sin, (x,), (t,))[1], np.cos(x) * t)


# --- Counter's operators, bitwise operators of a class ------------------------------------------------------


def test_counter_unary_minus_and_plus():
    def neg(a, b):
        d = -Counter({"x": a, "y": -b})
        return d["y"] * a

    def pos(a, b):
        d = +Counter({"x": a, "y": -b})
        return d["x"] * b + len(d)

    expect_grad(check_fd(neg, 2.0, 3.0), (3.0, 2.0))
    expect_grad(check_fd(pos, 2.0, 3.0), (3.0, 2.0))


def test_counter_intersection_and_union():
    def both(a, b):
        c, e = Counter({"x": a, "y": b}), Counter({"x": 2 * b, "y": a * a})
        return (c & e)["x"] * 3.0 + (c & e)["y"] * (c | e)["y"] + (c | e)["x"]

    def in_place(a, b):
        c, e = Counter({"x": a, "y": b}), Counter({"x": 2 * b, "y": a * a})
        c &= e
        e |= Counter({"x": 5 * a})
        return c["x"] * c["y"] + e["x"]

    expect_grad(check_fd(both, 2.0, 3.0), (3.0 + 2.0 * 2.0 * 3.0, 2.0 * 2.0 + 2.0))  # 3a + b a^2 + 2b
    check_fd(in_place, 2.0, 3.0)


class _Bits:
    def __init__(self, v):
        self.v = v

    def __and__(self, o):
        return _Bits(self.v * o.v)

    def __xor__(self, o):
        return _Bits(self.v - 2.0 * o.v)

    def __lshift__(self, k):
        return _Bits(self.v * 2.0**k)

    def __rrshift__(self, k):
        return _Bits(k * self.v)


def test_bitwise_operators_of_a_class_are_its_code_at_first_and_second_order():
    def f(x):
        p = (_Bits(x[0]) & _Bits(x[1])) ^ _Bits(x[1] * x[1])
        q = 3.0 >> (p << 2)
        q ^= _Bits(x[0])
        return q.v * x[0] + (_Bits(x[0]) & _Bits(x[1])).v * (1 & 3)

    x = np.array([2.0, 0.5])
    check_fd(f, x)
    np.testing.assert_allclose(dpnb.hessian(f, x), gradient_differences(f, x), rtol=1e-5, atol=1e-6)


# --- np.vectorize, np.linalg.multi_dot ------------------------------------------------------------------


def _kinked(t, s):
    return t * t * s if t > 0 else -t + s


def test_vectorize_broadcasts_and_sends_each_entry_its_cotangent():
    x, s = np.array([[1.0, -2.0, 3.0]]), np.array([[0.5], [2.0]])
    check_fd(lambda x, s: np.sum(np.vectorize(_kinked)(x, s) * np.arange(6.0).reshape(2, 3)), x, s)
    check_fd(lambda x, s: np.sum(np.vectorize(_kinked, otypes=[float])(x, s)), x[0], 0.7)


def test_vectorize_of_a_closure_and_its_second_derivative():
    w = np.array([1.5])
    expect_grad(check_fd(lambda w: np.sum(np.vectorize(lambda t: t * w[0])(np.array([1.0, 2.0]))), w), (np.array([3.0]),))
    f = lambda x: np.sum(np.vectorize(_kinked)(x, 2.0) ** 2)  # noqa: E731
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(dpnb.hessian(f, x), gradient_differences(f, x), rtol=1e-5, atol=1e-6)


def test_vectorize_with_a_signature_is_refused_naming_the_line():
    vf = np.vectorize(lambda v: v * 2.0, signature="(n)->(n)")
    with pytest.raises(dpnb.DifferentiationError) as e:
        dpnb.gradient(lambda x: np.sum(vf(x)), np.array([1.0, 2.0]))  # the signature call
    assert _line_of("# the signature call") in str(e.value)


def test_multi_dot_first_and_second_order():
    r = np.random.RandomState(0)
    A, B, C, D, v = r.rand(2, 3), r.rand(3, 4), r.rand(4, 2), r.rand(2, 5), r.rand(2)
    check_fd(lambda v, A, B, C: np.linalg.multi_dot([v, A, B, C]) @ v, v, A, B, C)
    check_fd(lambda A, B, C, D: np.sum(np.linalg.multi_dot((A, B, C, D)) ** 2), A, B, C, D)
    f = lambda x: np.sum(np.linalg.multi_dot([x.reshape(2, 3), B, C, D]) ** 2)  # noqa: E731
    np.testing.assert_allclose(dpnb.hessian(f, A.ravel()), gradient_differences(f, A.ravel()), rtol=1e-5, atol=1e-6)


# --- an array's shape assigned ------------------------------------------------------------------------------


def _paired(x):
    z = x * 2.0
    z.shape = (3, 2)
    return np.sum(z[:, 0] * z[:, 1])


def _reshaped_with_views(x):
    z = np.sin(x)
    w = z[1:]  # a view taken before the change
    z.shape = (2, 2)
    v = z[:]
    v.shape = (4,)  # a view's shape
    z[0, 1] = v[2] * w[0]
    return np.sum(z[0] * z[1] * 3.0) + np.sum(w**2)


def test_assigning_an_arrays_shape_first_and_second_order():
    x = np.arange(6.0).reshape(2, 3) / 5
    expect_grad(check_fd(_paired, x), (4 * np.array([[0.2, 0.0, 0.6], [0.4, 1.0, 0.8]]),))
    x = np.array([0.1, 0.2, 0.3, 0.4])
    check_fd(_reshaped_with_views, x)
    np.testing.assert_allclose(dpnb.hessian(_reshaped_with_views, x), gradient_differences(_reshaped_with_views, x),
                               rtol=1e-5, atol=1e-6)


def test_an_arguments_shape_changes_as_without_dpnb():
    def f(x):
        x.shape = (4,)
        return np.sum(x * x * np.arange(4.0))

    x = np.ones((2, 2))
    expect_grad(dpnb.gradient(f, x), (2.0 * np.arange(4.0).reshape(2, 2),))
    assert x.shape == (4,)


def test_assigning_an_arrays_strides_is_refused_naming_the_line():
    def f(x):
        z = x * 1.0
        z.strides = (8, 16)  # the strides assignment
        return np.sum(z)

    with pytest.raises(dpnb.DifferentiationError) as e:
        dpnb.gradient(f, np.ones((2, 2)))
    assert _line_of("# the strides assignment") in str(e.value)


# --- iterating an object whose class has __iter__ ---------------------------------------------------------


class _Bag:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        return iter(self.xs)


class _Reversed:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __iter__(self):
        return reversed([self.a, self.b * 2.0])


class _Yielding:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        yield from self.xs


def test_enumerate_zip_sum_sorted_over_an_object_with_iter():
    def f(a, b):
        s = 0.0
        for i, v in enumerate(_Bag([a, b])):
            s = s + (i + 1) * v * v
        return s

    def g(a, b):
        r = _Reversed(a, b * a)
        bag = _Bag(np.array([a, b]))
        return (sum(r) * max(r) + sum(i * v for i, v in enumerate(r, 1)) + list(_Bag((a, b)))[1] * a
                + sum(x * y for x, y in zip(bag, r)) + sorted(bag)[0] * b)

    expect_grad(check_fd(f, 2.0, 3.0), (4.0, 12.0))
    check_fd(g, 2.0, 3.0)
    G = lambda v: g(v[0], v[1])  # noqa: E731
    x = np.array([2.0, 3.0])
    np.testing.assert_allclose(dpnb.hessian(G, x), gradient_differences(G, x), rtol=1e-5, atol=1e-6)


def test_enumerate_over_an_object_whose_iter_yields_is_refused_naming_the_line():
    def f(a, b):
        return sum(v * v for _, v in enumerate(_Yielding([a, b])))  # the enumerate call

    with pytest.raises(dpnb.DifferentiationError) as e:
        dpnb.gradient(f, 2.0, 3.0)
    assert _line_of("# the enumerate call") in str(e.value) and "_Yielding" in str(e.value)
