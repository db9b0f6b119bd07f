"""Programs the fuzzer (`tests/fuzz`) found wrong or crashing, shrunk to a few lines; the files
they came from are in `tests/fuzz/found/` (`python tests/fuzz/run.py --replay tests/fuzz/found/*.py`)."""
import math

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


def _agrees(f, *args):
    got = dpnb.gradient(f, *args)
    want = numerical_gradient(f, *args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(0.0 if g is None else g, w, rtol=1e-6, atol=1e-8)


def container_in_closure_cell(x):
    d = {"b": x}

    def h(t):
        return d

    return d["b"]


def array_read_in_lambda(a):
    b = a + a
    return (lambda t: b[1])(0.0)


def lambda_reads_the_name_it_rebinds(a):
    a = (lambda t: a)(1.0) * a
    return np.sum(a)


def closure_over_rule_output(z):
    v = math.exp(z)

    def h(t):
        return v

    return v


def _helper_with_unused_comprehension(p, q):
    v = [q for j in range(2)]
    return p * p


def unused_comprehension_in_helper(x, y):
    t = _helper_with_unused_comprehension(0.7, q=0.7)
    return 0.7 + 0.0 * t


def exception_in_a_loop_after_work(x):
    v = x
    for i in range(2):
        try:
            v = v * 3.0
            if i == 1:
                raise ValueError
            w = x * v
            v = v + w
        except ValueError:
            v = v * 2.0
    return v


def reversed_view(a):
    b = a[::-1]
    return np.sum(b * np.arange(4.0))


def list_item_of_argument(x):
    l = [x]
    return l[0] * l[0] + math.tanh(l[0])


def view_read_after_its_root_changed(a):
    # a3 is a view of `a`, freed after the forward pass; its cotangent must still go to a's window,
    # through the pullback of the in-place change (a weak reference to the view once sent it
    # straight back: 1.0 where 2.0 is right)
    z1 = a
    a3 = z1.reshape((2, 2))
    z1[0:] += a
    return np.sum(a3)


A = np.array([0.77, 0.004, 0.879, 1.242])

CASES = {
    "container_in_closure_cell": (container_in_closure_cell, (-0.3,)),
    "array_read_in_lambda": (array_read_in_lambda, (A,)),
    "lambda_reads_the_name_it_rebinds": (lambda_reads_the_name_it_rebinds, (A,)),
    "closure_over_rule_output": (closure_over_rule_output, (0.059,)),
    "unused_comprehension_in_helper": (unused_comprehension_in_helper, (0.466, 0.175)),
    "exception_in_a_loop_after_work": (exception_in_a_loop_after_work, (0.5,)),
    "reversed_view": (reversed_view, (A,)),
    "list_item_of_argument": (list_item_of_argument, (0.7,)),
    "view_read_after_its_root_changed": (view_read_after_its_root_changed, (A,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient(name):
    f, args = CASES[name]
    _agrees(f, *args)


@pytest.mark.parametrize("name", ["reversed_view", "lambda_reads_the_name_it_rebinds"])
def test_jvp_agrees_with_the_pullback(name):
    f, (a,) = CASES[name]
    t = np.array([0.3, -1.0, 0.5, 2.0])
    _, ydot = dpnb.jvp(f, (a,), (t,))
    (g,) = dpnb.gradient(f, a)
    assert ydot == pytest.approx(float(np.sum(g * t)), rel=1e-9)


def test_hessian_of_an_argument_read_back_from_a_list():
    h = dpnb.hessian(list_item_of_argument, 0.7)
    assert h == pytest.approx(2.0 - 2 * math.tanh(0.7) / math.cosh(0.7) ** 2, rel=1e-9)


def test_hessian_through_a_nested_list_is_symmetric():
    def f(v):
        x, z = v[0], v[1]
        m = [x, [z, x]]
        z *= m[1][1]
        return z

    np.testing.assert_allclose(dpnb.hessian(f, np.array([0.5, 0.3])), [[0.0, 1.0], [1.0, 0.0]], atol=1e-12)


def test_a_loop_that_changes_the_list_zip_reads_is_refused():
    def f(x):
        row = [x, 0.5]
        for e, w in zip(row, row):
            row[1] += e
        return sum(row)

    with pytest.raises(dpnb.DifferentiationError, match="changes a list that `zip` reads"):
        dpnb.gradient(f, 0.3)


def test_a_loop_over_enumerate_may_write_the_item_it_is_on():
    def f(x):
        row = [x, 0.5 * x, 3.0]
        for i, e in enumerate(row):
            row[i] = e * 2
        return sum(row)

    assert dpnb.withgradient(f, 0.3) == (f(0.3), (3.0,))


class _Pairs:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        for x in self.xs:
            yield x


def test_items_of_a_generator_iter_are_refused_not_dropped():
    """A class whose `__iter__` is a generator, built from differentiated values: its items'
    gradients cannot be sent back through the generator, and were silently dropped (None)."""

    def f(x):
        s = 0.0
        for v in _Pairs([x, 2 * x]):
            s = s + v * v
        return s

    with pytest.raises(dpnb.DifferentiationError, match="generator"):
        dpnb.gradient(f, 1.5)


def test_hessian_through_zip_and_enumerate_over_lists():
    """zip and enumerate over lists are read ahead and checked item by item in the program's own
    run; differentiated again (a Hessian) they must still pass every item's gradient."""

    def f(v):
        x, y = v[0], v[1]
        row = [x, y * x, 2.0]
        s = 0.0
        for a, b in zip(row, row[1:]):
            s = s + a * b
        for i, e in enumerate(row):
            s = s + e * e * i
        return s

    np.testing.assert_allclose(dpnb.hessian(f, np.array([0.5, 1.5])), [[7.5, 6.0], [6.0, 0.5]], rtol=1e-9)


def _hessian_agrees(f, x):
    """dpnb.hessian of f at the array x against central differences of dpnb.gradient."""
    want = np.array([numerical_gradient(lambda v, i=i: float(dpnb.gradient(f, v)[0][i]), x)[0] for i in range(x.size)])
    np.testing.assert_allclose(dpnb.hessian(f, x), want, rtol=1e-6, atol=1e-8)


def test_hessian_of_a_sum_of_a_generator_expression():
    """`sum(v for v in l)` reads the iterator dpnb's runtime makes for the generator expression;
    it was read by Python's own `next`, out of sight of the second differentiation, and the
    Hessian lost the second derivative through it ([[0, 1], [0, 2]] where [[0, 1], [1, 4]] is right)."""

    def f(v):
        x, y = v[0], v[1]
        l2 = [x, y, y]
        return y * sum(w for w in l2)

    np.testing.assert_allclose(dpnb.hessian(f, np.array([-0.807, -1.134])), [[0.0, 1.0], [1.0, 4.0]], atol=1e-12)
    _hessian_agrees(f, np.array([-0.807, -1.134]))


def test_hessian_through_iterators_read_by_rules():
    def f(v):
        x, y = v[0], v[1]
        s = sum(w * w for w in (x, x * y))
        s = s + max(w for w in [x, y, -5.0]) ** 2 + min(iter([x * y, 9.0])) * x
        return s + sorted(w for w in [y, x])[0] * y + sum(iter([x])) ** 3

    _hessian_agrees(f, np.array([0.6, 1.3]))


class _Countdown:
    """An iterator written as a class: its `__next__` is Python code."""

    def __init__(self, xs):
        self.xs = xs
        self.i = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.i >= len(self.xs):
            raise StopIteration
        self.i += 1
        return self.xs[self.i - 1]


def test_items_of_a_class_iterator_are_refused_not_dropped():
    """Items a rule or a `for` loop read from a class's `__next__` ran as plain Python; their
    gradients cannot be sent back through it, and were silently dropped (None, not 1 + 2x)."""

    def by_sum(x):
        return sum(_Countdown([x, x * x]))

    def by_loop(x):
        s = 0.0
        for v in _Countdown([x, x * x]):
            s = s + v
        return s

    for f in (by_sum, by_loop):
        with pytest.raises(dpnb.DifferentiationError, match="_Countdown.*line"):
            dpnb.gradient(f, 0.5)


def test_hessian_of_zip_over_an_iterator_is_right_not_zero():
    """zip read the runtime's iterator item by item with Python's `next`: differentiated again,
    that read was out of dpnb's sight (the Hessian was 0 where 2 is right), and was refused. zip
    reads it by position now, which a second derivative follows, leaving the iterator
    where Python's zip leaves it."""

    def f(x):
        return sum(a * b for a, b in zip([x, x], iter([x, 2.0])))

    def g(x):  # zip takes x * x from `it` before it finds the list done; next(it) is x ** 3
        it = iter([x, 2.0 * x, x * x, x**3])
        return sum(a * b for a, b in zip(it, [x, x])) + next(it) * x  # 3 x^2 + x^4

    assert dpnb.gradient(f, 0.5) == (3.0,)
    assert dpnb.hessian(f, 0.5) == pytest.approx(2.0)
    assert dpnb.hessian(g, 0.5) == pytest.approx(6 + 12 * 0.5**2)


# Defaults computed from differentiated values. The gradient was right; the Hessian lost the path
# through the default: differentiating dpnb's own backward pass, the call of the compiled adjoint
# that leaves a parameter to its default sent the default's cotangent to that adjoint (a copy of
# the user's function, which nothing reads) instead of to the user's function, whose definition
# hands it on to the values the default was computed from.


def default_of_a_nested_def(x, y, z):  # the fuzzer's program
    def h5(t6):
        def h7(t, s=t6):
            return t * s

        return h7(t6)

    return h5(y)


def default_of_a_lambda(x, y, z):
    g = lambda t, s=y * z: t * s  # noqa: E731
    return g(x)


def keyword_only_default(x, y, z):
    def h(t, *, s=y * x):
        return t * math.sin(s)

    return h(z)


def default_of_a_function_called_later_and_twice(x, y, z):
    def h(t, s=x * y):
        return t * s * s

    w = z * 2.0
    return h(w) + h(y) + h(x, z)


def default_of_a_returned_function(x, y, z):
    def make(u):
        def h(t, s=u * u):
            return t * s

        return h

    h = make(y)
    return h(x) * h(z)


DEFAULTS = {
    "default_of_a_nested_def": default_of_a_nested_def,
    "default_of_a_lambda": default_of_a_lambda,
    "keyword_only_default": keyword_only_default,
    "default_of_a_function_called_later_and_twice": default_of_a_function_called_later_and_twice,
    "default_of_a_returned_function": default_of_a_returned_function,
}


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_hessian_through_a_default_value(name):
    f = DEFAULTS[name]

    def target(v):
        return f(v[0], v[1], v[2])

    v = np.array([0.022, 0.084, -1.398])
    _agrees(target, v)

    def grad(w):
        return dpnb.gradient(target, w)[0]

    eps = 1e-6
    want = np.array([(grad(v + eps * e) - grad(v - eps * e)) / (2 * eps) for e in np.eye(3)]).T
    np.testing.assert_allclose(dpnb.hessian(target, v), want, rtol=1e-6, atol=1e-8)


def test_gradient_of_a_gradient_whose_function_has_a_default_from_outside():
    # d/dv of d/dx (x * s * s) with s=v: 2v
    assert dpnb.gradient(lambda v: dpnb.gradient(lambda x, s=v: x * s * s, 1.0)[0], 2.0) == (4.0,)
    assert dpnb.gradient(lambda v: dpnb.gradient(lambda x, *, s=v: x * s * s, 1.0)[0], 2.0) == (4.0,)


# --- a method called with keywords (a.sum(axis=1)), differentiated again -------------------------
# Differentiated again, the runtime's `_call_other(f, ...)` is given the bound method `a.sum` and
# reads `f.__self__`; its adjoint took a built-in (bound) method for a constant and dropped its
# cotangent, so every gradient that went through such a call was lost: the Hessian was 0 (or
# None) even when the method's result was unused.


def _hessian_by_differences(f, x, h=1e-5):
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append(((dpnb.gradient(f, x + e)[0] - dpnb.gradient(f, x - e)[0]) / (2 * h)).ravel())
    return np.stack(cols, axis=1)


def method_kw_unused(a):
    a1 = a.sum(axis=1)
    return np.sum(np.sin(a))


def norm_of_max_along_axis(a):
    return np.linalg.norm(a.max(axis=0))


def method_kw_used(a):
    return np.sum(np.sin(a.sum(axis=1)))


def mean_kw_unused(a):
    a1 = a.mean(axis=0)
    return np.sum(np.sin(a))


def method_kw_times_other(a):
    return np.sum(np.sin(a)) * np.sum(a.sum(axis=1))


def method_kw_of_a_product(a):
    b = a * 1.0
    b1 = b.sum(axis=1)
    return np.sum(np.sin(b) ** 2) + np.sum(b1**3)


def var_and_std_kw(a):
    return np.sum(a.var(axis=0) ** 2) + a.std(ddof=1) * np.sum(np.sin(a))


def bound_method_with_keywords(a):
    m = a.sum
    return np.sum(np.sin(m(axis=0)))


def _self_of(f):
    return f.__self__


def bound_method_passed_to_a_helper(a):
    return np.sum(np.sin(_self_of(a.sum)) ** 2)


def list_method_with_keywords(a):
    l = list(a.ravel())
    l.sort(reverse=True)
    return l[0] * l[1] ** 2 + np.sin(l[2])


B = np.array([[0.774, -1.419, -0.768, 1.296], [-1.445, 0.854, 0.43, 1.309], [-1.423, -1.172, 0.314, -0.437]])

METHOD_KW = [
    method_kw_unused, norm_of_max_along_axis, method_kw_used, mean_kw_unused, method_kw_times_other,
    method_kw_of_a_product, var_and_std_kw, bound_method_with_keywords, bound_method_passed_to_a_helper,
    list_method_with_keywords,
]


@pytest.mark.parametrize("f", METHOD_KW, ids=lambda f: f.__name__)
def test_hessian_through_a_method_called_with_keywords(f):
    want = _hessian_by_differences(f, B)
    got = np.reshape(dpnb.hessian(f, B), want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f", [method_kw_unused, norm_of_max_along_axis], ids=lambda f: f.__name__)
def test_gradient_of_gradient_and_jvp_through_a_method_called_with_keywords(f):
    b = B[:2, :3]
    want = _hessian_by_differences(f, b)
    (gg,) = dpnb.gradient(lambda x: np.sum(dpnb.gradient(f, x)[0]), b)
    np.testing.assert_allclose(np.ravel(gg), want.sum(axis=0), rtol=1e-5, atol=1e-6)
    t = np.linspace(-1.0, 1.0, b.size).reshape(b.shape)
    _, ydot = dpnb.jvp(lambda x: dpnb.gradient(f, x)[0], (b,), (t,))
    np.testing.assert_allclose(np.ravel(ydot), want @ t.ravel(), rtol=1e-5, atol=1e-6)


def test_the_object_of_a_bound_method_gets_its_gradient():
    """`m.__self__` of a built-in bound method is its object: the gradient arrives as it is (it
    came back as an array of `Slots` objects for an array, and failed for a list)."""

    def of_array(a):
        m = a.sum
        return np.sum(m.__self__**2)

    def of_list(l):
        m = l.count
        return m.__self__[0] ** 2

    np.testing.assert_allclose(dpnb.gradient(of_array, B)[0], 2 * B)
    assert dpnb.gradient(of_list, [3.0, 1.0]) == ([6.0, None],)
    _agrees(bound_method_passed_to_a_helper, B)


# --- reshape, ravel and flatten with an order --------------------------------------------------
# Their pullback reshaped the cotangent in C order whatever the order the entries were read in:
# np.reshape(a, -1, order="F") gave a permuted gradient (and so a permuted Hessian).

ORDERS = {
    "np.reshape(a, -1, order='F')": lambda v: np.reshape(v, -1, order="F"),
    "np.reshape(a, -1, 'F')": lambda v: np.reshape(v, -1, "F"),
    "a.reshape(-1, order='F')": lambda v: v.reshape(-1, order="F"),
    "a.T.reshape(-1, order='A')": lambda v: v.T.reshape(-1, order="A"),
    "np.ravel(a, order='F')": lambda v: np.ravel(v, order="F"),
    "a.T.ravel('K')": lambda v: v.T.ravel("K"),
    "a[::-1, ::2].ravel(order='K')": lambda v: v[::-1, ::2].ravel(order="K"),
    "a.flatten('F')": lambda v: v.flatten("F"),
}


@pytest.mark.parametrize("name", list(ORDERS))
def test_gradient_of_a_reshape_with_an_order(name):
    read = ORDERS[name]
    w = np.linspace(-1.0, 2.0, B.size)

    def f(a):
        y = read(a)
        return np.sum(np.sin(y) * w[: y.size])

    _agrees(f, B)


def test_hessian_of_a_reshape_in_fortran_order():
    def f(a):
        return np.sum(np.reshape(a, -1, order="F")[:5] ** 3)

    want = _hessian_by_differences(f, B)
    np.testing.assert_allclose(np.reshape(dpnb.hessian(f, B), want.shape), want, rtol=1e-5, atol=1e-6)


# --- jvp of a gradient through reductions -------------------------------------------------------
# jvp differentiates the pullback once more, and with it dpnb's own runtime: the accumulator of an
# array whose entries lie in Fortran order was read through `.ravel(order="K")`, whose pullback
# put the entries back in C order. np.prod along axis 0, cumprod along the last axis and
# np.multiply.reduce had a wrong jvp of their gradient (their Hessian was right). np.cumprod(a) of
# an array with a zero was refused: the pullback of np.stack called .reshape on a NumPy scalar.

T = np.array([[0.345, 0.821, 0.330, -1.303], [0.905, 0.446, -0.537, 0.581], [0.364, 0.294, 0.028, 0.547]])
_B_ZERO = B.copy()
_B_ZERO[1, 2] = 0.0
_B_TWO_ZEROS = B.copy()
_B_TWO_ZEROS[0, 1] = _B_TWO_ZEROS[2, 1] = 0.0
_W34 = np.arange(12.0).reshape(3, 4)

REDUCTIONS = {
    "np.prod(a, axis=0)": lambda a: np.sum(np.prod(a, axis=0)),
    "a.prod(0)": lambda a: np.sum(a.prod(0)),
    "np.prod(a, axis=0, keepdims=True)": lambda a: np.sum(np.prod(a, axis=0, keepdims=True) * np.arange(1.0, 5.0)),
    "np.multiply.reduce(a)": lambda a: np.sum(np.multiply.reduce(a, axis=0)),
    "np.cumprod(a, axis=1)": lambda a: np.sum(np.cumprod(a, axis=1) * _W34),
    "np.cumprod(a)": lambda a: np.sum(np.cumprod(a) * _W34.ravel()),
}


def _jvp_of_gradient_agrees(f, x, h=1e-6):
    def g(v):
        return dpnb.gradient(f, v)[0]

    got = dpnb.jvp(g, (x,), (T,))[1]
    want = (g(x + h * T) - g(x - h * T)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


_AT_ALL = ("B", "one zero", "two zeros in a column")
_CASES = [(n, at) for n in list(REDUCTIONS)[:4] for at in _AT_ALL] + [
    ("np.cumprod(a, axis=1)", "B"), ("np.cumprod(a)", "one zero"), ("np.cumprod(a)", "two zeros in a column"),
]


@pytest.mark.parametrize("name, at", _CASES)
def test_jvp_of_the_gradient_of_a_reduction(name, at):
    x = {"B": B, "one zero": _B_ZERO, "two zeros in a column": _B_TWO_ZEROS}[at]
    _jvp_of_gradient_agrees(REDUCTIONS[name], x)


# --- the accumulator of a Fortran-ordered array -------------------------------------------------
# An array's cotangent adopted whole (from two uses of it) kept the pullback's C order while the
# array lay in Fortran order (`a.T * 2`); a view's part of it (`r[0]`, changed in place) was then
# read at the wrong entries: a wrong gradient.

_W43 = np.arange(12.0).reshape(4, 3) + 1


def fortran_root_view_changed_in_place(a):
    r = a.T * 2
    y1 = r[0].copy()
    r[1] *= 3
    y2 = r * _W43
    y3 = np.sin(r) * _W43
    return np.sum(y2) + np.sum(y3) + np.sum(y1 * np.array([1.0, 10.0, 100.0]))


def fortran_root_row_assigned(a):
    r = a.T * 2
    out = r * _W43 + r**2
    r[0] = r[0] * 5
    return np.sum(out) + np.sum(r * _W43) + np.sum(np.cos(r))


@pytest.mark.parametrize("f", [fortran_root_view_changed_in_place, fortran_root_row_assigned])
def test_gradient_through_a_view_of_a_fortran_ordered_array(f):
    _agrees(f, B)
    _jvp_of_gradient_agrees(f, B)


# --- a closure variable bound to an item or a field that no cotangent reaches ----------------------
# `acc = d["a"]` into a variable a nested function reads: its pullback runs even when `acc` gets
# no cotangent (a closure may still write the cell), and with none it gave the empty tuple of a
# pullback of no arguments, not the one cotangent of the container: "a cotangent of type tuple
# reached a dict", a refusal of a plain program (fuzz seed 81, program 260).

class _Box:
    def __init__(self, v):
        self.v = v


def cell_from_an_item_never_read(x, z):
    d = {"a": 2.0 - z}
    acc = d["a"]

    def h(t):
        return acc

    return x + sum(d.values())


def cell_from_an_item_nonlocal(x, z):
    d = {"a": 2.0 - z}
    acc = d["a"]

    def h(t):
        nonlocal acc
        acc = acc * t

    return x * 3.0 + sum(d.values())


def cell_from_a_field_never_read(x, z):
    b = _Box(2.0 - z)
    acc = b.v

    def h(t):
        return acc

    return x + b.v * 1.5


def cell_from_an_item_read_later(x, z):
    d = {"a": 2.0 - z}
    acc = d["a"]

    def h(t):
        return acc * t

    return x + h(3.0) + sum(d.values())


@pytest.mark.parametrize("f", [cell_from_an_item_never_read, cell_from_an_item_nonlocal, cell_from_a_field_never_read,
                               cell_from_an_item_read_later])
def test_a_closure_variable_bound_to_an_item_or_a_field(f):
    _agrees(f, 0.5, 0.3)
