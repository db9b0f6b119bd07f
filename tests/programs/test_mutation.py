"""Mutation inside the differentiated code (issue 3, items 3 and 4; SPEC §2).

Dicts, lists and attributes changed in place; NumPy arrays created inside `f` and
changed in place (what is overwritten must be kept for the backward pass); the
refusals (an argument being differentiated changed in place, `ndarray.sort()`),
whose message names the user's line and suggests the out-of-place form; and dpnb
never mutating the caller's arguments.
"""
import copy
import inspect
import math
import os

import numpy as np
import pytest

import dpnb
from dpnb import DifferentiationError, gradient

try:
    from ._fd import check_gradient
except ImportError:
    from _fd import check_gradient

HERE = os.path.basename(__file__)


def _line_of(fn, text):
    """The file line number of the first line of `fn` containing `text`."""
    lines, start = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return start + k
    raise AssertionError(f"{text!r} not in the source of {fn.__name__}")


# -- dicts -------------------------------------------------------------------------------


def test_dict_setitem_and_overwrite():
    def f(x, y):
        d = {}
        d["a"] = x * y
        d["b"] = d["a"] + y
        d["a"] = d["a"] * d["b"]  # overwrite: the old d["a"] is still needed
        return d["a"] + d["b"]

    check_gradient(f, 1.3, -0.7)


def test_dict_update():
    def f(x, y):
        d = {"a": x, "b": 1.0}
        d.update({"b": x * y, "c": y})
        d.update(e=x * x)
        return d["a"] * d["b"] + d["c"] + d["e"]

    check_gradient(f, 0.9, 2.1)


def test_dict_get():
    def f(x, y):
        d = {"a": x}
        return d.get("a", 0.0) * d.get("missing", y) + d.get("nope", 1.0)

    g = check_gradient(f, 1.5, 2.5)
    assert g == (pytest.approx(2.5), pytest.approx(1.5))


def test_dict_setdefault():
    def f(x, y):
        d = {"a": x}
        u = d.setdefault("a", y)  # present: returns x, y unused
        v = d.setdefault("b", y * y)  # absent: stores y*y
        return u * v + d["b"]

    g = check_gradient(f, 1.5, 2.0)
    assert g == (pytest.approx(4.0), pytest.approx(2 * 2.0 * 1.5 + 2 * 2.0))


def test_dict_pop():
    def f(x, y):
        d = {"a": x, "b": y}
        a = d.pop("a")
        c = d.pop("c", x * y)
        return a * a + c + sum(d.values())

    g = check_gradient(f, 1.5, 2.0)
    assert g == (pytest.approx(3.0 + 2.0), pytest.approx(1.5 + 1.0))


def test_dict_mutated_in_a_loop_as_a_counter():
    def f(xs):
        acc = {}
        for i, x in enumerate(xs):
            k = i % 2
            acc[k] = acc.get(k, 0.0) + x * x
        return acc[0] * acc[1]

    check_gradient(f, [0.5, 1.0, -1.5, 2.0])


def test_seed_dict_example():
    d = {}

    def g(x):
        d["x"] = x
        return d["x"] * d["x"]

    assert gradient(g, 5) == (10.0,)
    assert d["x"] == 5


# -- lists -------------------------------------------------------------------------------


def test_list_append_extend_insert():
    def f(x, y):
        xs = [x]
        xs.append(x * y)
        xs.extend([y, y * y])
        xs.insert(1, x + 1.0)
        xs.insert(0, 3.0)
        return xs[0] * xs[1] + xs[2] * xs[3] + xs[4] * xs[5]

    check_gradient(f, 1.2, 0.4)


def test_list_setitem_and_slice_assignment():
    def f(x, y):
        xs = [x, y, x * y]
        xs[0] = xs[0] * xs[2]
        xs[-1] = y
        xs[1:2] = [x, x]
        return xs[0] + xs[1] * xs[2] + xs[3]

    check_gradient(f, 0.8, 1.9)


def test_list_pop():
    def f(x, y):
        xs = [x, y, x * y]
        last = xs.pop()
        first = xs.pop(0)
        return last * first + xs[0]

    g = check_gradient(f, 1.5, 2.0)
    assert g == (pytest.approx(2 * 1.5 * 2.0), pytest.approx(1.5**2 + 1.0))


def test_list_as_a_stack():
    def f(x):
        stack = [x]
        for _ in range(3):
            top = stack.pop()
            stack.append(top * 2.0)
            stack.append(top + 1.0)
        return stack[0] * stack[1] * stack[-1]

    check_gradient(f, 0.3)


def test_list_mutated_by_a_helper_function():
    def push(xs, v):
        xs.append(v)

    def f(x):
        xs = []
        push(xs, x * x)
        return xs[0]

    assert gradient(f, 3.0) == (6.0,)


def test_histogram_like_accumulation_into_a_list():
    def f(xs, w):
        bins = [0.0] * 3
        for i, x in enumerate(xs):
            k = int(x) % 3  # the bin index is piecewise constant in x
            bins[k] += w[i] * x
        return bins[0] ** 2 + 2.0 * bins[1] ** 2 + 3.0 * bins[2] * bins[0]

    check_gradient(f, [0.3, 1.4, 2.5, 1.1, 0.7, 2.2], [1.0, 0.5, -1.0, 2.0, 0.25, 1.5])


def test_histogram_like_accumulation_into_an_array():
    def f(xs, w):
        hist = np.zeros(4)
        for x, wi in zip(xs, w):
            hist[int(x * 4) % 4] += wi * math.exp(-x)
        return np.sum(hist**2 * np.arange(1, 5))

    check_gradient(f, np.array([0.1, 0.3, 0.35, 0.6, 0.9, 0.95]), np.array([1.0, -0.5, 2.0, 0.3, 1.2, 0.7]))


def test_np_add_at_accumulation():
    def f(v):
        out = np.zeros(3)
        np.add.at(out, np.array([0, 2, 0, 1, 2]), v)
        return np.sum(out**2)

    check_gradient(f, np.array([1.0, 2.0, 3.0, -1.0, 0.5]))


# -- dynamic programming tables filled in place -----------------------------------------


def edit_distance_soft(a, b, gamma):
    """A soft (smooth-min) edit distance between two real sequences, table as a 2-D list."""
    n, m = len(a), len(b)
    D = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        D[i][0] = D[i - 1][0] + 1.0
    for j in range(1, m + 1):
        D[0][j] = D[0][j - 1] + 1.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = D[i - 1][j - 1] + (a[i - 1] - b[j - 1]) ** 2
            r = [sub, D[i - 1][j] + 1.0, D[i][j - 1] + 1.0]
            mn = min(r)
            D[i][j] = mn - gamma * math.log(sum(math.exp(-(v - mn) / gamma) for v in r))
    return D[n][m]


def soft_dtw(x, y, gamma):
    """Soft-DTW with a NumPy table filled in place, smooth min via log-sum-exp."""
    n, m = len(x), len(y)
    R = np.full((n + 1, m + 1), 1e10)  # not inf: inf * 0 in any pullback is nan
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            prev = np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]])
            z = -prev / gamma
            zmax = np.max(z)
            R[i, j] = cost - gamma * (zmax + np.log(np.sum(np.exp(z - zmax))))
    return R[n, m]


def edit_distance_hard(a, b):
    """Hard min: piecewise smooth, gradient well defined away from ties."""
    n, m = len(a), len(b)
    D = np.zeros((n + 1, m + 1))
    D[:, 0] = np.arange(n + 1)
    D[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i, j] = min(D[i - 1, j - 1] + abs(a[i - 1] - b[j - 1]), D[i - 1, j] + 1.0, D[i, j - 1] + 1.0)
    return D[n, m]


def test_dp_table_as_a_2d_list_with_a_smooth_min():
    check_gradient(edit_distance_soft, [0.3, 1.2, -0.5], [0.1, 1.0, 0.2, -0.4], 0.5, wrt=[0, 1, 2])


def test_dp_table_as_a_numpy_array_soft_dtw():
    check_gradient(soft_dtw, np.array([0.0, 1.0, 0.5, -0.2]), np.array([0.1, 0.8, -0.1]), 0.3)


def test_dp_table_with_a_hard_min():
    check_gradient(edit_distance_hard, np.array([0.3, 1.2, -0.5]), np.array([0.2, 1.05, 0.4]), wrt=[0, 1])


def test_dp_cumulative_sum_table():
    def f(x):
        c = np.zeros(len(x))
        c[0] = x[0]
        for i in range(1, len(x)):
            c[i] = c[i - 1] * 0.9 + x[i] ** 2
        return np.sum(c * c)

    check_gradient(f, np.array([0.5, -1.0, 2.0, 0.25]))


# -- attributes: self.x = ... inside methods -----------------------------------------------


class Accumulator:
    def __init__(self):
        self.total = 0.0
        self.count = 0
        self.history = []

    def add(self, v):
        self.total = self.total + v
        self.count += 1
        self.history.append(self.total)

    def scale(self, c):
        self.total *= c

    def mean(self):
        return self.total / self.count


def test_method_accumulates_into_self():
    def f(xs):
        acc = Accumulator()
        for x in xs:
            acc.add(x * x)
        acc.scale(0.5)
        return acc.mean() + sum(acc.history) * acc.total

    check_gradient(f, [0.5, -1.5, 2.0])


class RunningStats:
    def __init__(self, x0):
        self.m = x0
        self.s = 0.0

    def update(self, x, k):
        d = x - self.m
        self.m += d / k
        self.s += d * (x - self.m)


def test_welford_running_variance_mutates_self():
    def f(xs):
        st = RunningStats(xs[0])
        for k in range(1, len(xs)):
            st.update(xs[k], k + 1)
        return st.s / (len(xs) - 1)

    xs = [0.5, 1.3, -0.4, 2.2]
    g = check_gradient(f, xs)
    np.testing.assert_allclose(g[0], 2 * (np.array(xs) - np.mean(xs)) / (len(xs) - 1), rtol=1e-10)


def test_attribute_assignment_outside_methods():
    class Box:
        pass

    def f(x):
        b = Box()
        b.v = x
        b.v = b.v * b.v
        b.w = b.v + x
        return b.w

    assert gradient(f, 3.0) == (7.0,)


# -- NumPy arrays created inside f, changed in place -------------------------------------


def test_array_setitem_index():
    def f(x):
        a = np.zeros(3)
        a[0] = x[0] * x[1]
        a[2] = np.sin(x[1])
        a[0] = a[0] * a[2]  # overwrite, old a[0] needed
        return np.sum(a * a)

    check_gradient(f, np.array([0.7, 1.3]))


def test_array_setitem_mask():
    def f(x):
        a = x * 2.0
        mask = a > 1.0
        a[mask] = a[mask] ** 2
        a[~mask] = 0.5
        return np.sum(a)

    check_gradient(f, np.array([0.3, 0.8, 1.2, -0.4]))


def test_array_column_times_equals():
    def f(x):
        a = x.reshape(2, 3) + 0.0
        a[:, 0] *= 2.0
        a[1, :] *= a[0, :]
        return np.sum(a**2)

    check_gradient(f, np.arange(1.0, 7.0) / 3)


def test_array_plus_equals_array():
    def f(x, y):
        a = x * 1.0
        a += y
        a *= x
        a -= y**2
        a /= 2.0
        return np.sum(a)

    check_gradient(f, np.array([1.0, 2.0, -0.5]), np.array([0.3, -1.2, 0.7]))


def test_array_slice_assignment_from_an_argument():
    def f(x, y):
        a = np.ones((3, 3))
        a[1:, 1:] = np.outer(x, y)
        a[0] = y.sum()
        return np.sum(np.tanh(a))

    check_gradient(f, np.array([0.5, -0.3]), np.array([0.2, 0.9]))


def test_in_place_ufuncs_with_out_write_into_the_array():
    # `out=` writes into an existing array: followed like `a[...] = np.multiply(a, a)`
    def f(x):
        a = x + 0.0
        np.multiply(a, a, out=a)
        return np.sum(a)

    x = np.array([0.2, -0.6, 1.1])
    g = check_gradient(f, x)
    np.testing.assert_allclose(g[0], 2 * x)


def test_ndarray_fill_is_correct_or_refused_with_the_line():
    def f(x):
        a = x * x
        s = np.sum(a)
        a.fill(2.0)
        return s * np.sum(a)

    try:
        g = gradient(f, np.array([0.5, 1.5]))
    except DifferentiationError as e:
        assert HERE in str(e) and str(_line_of(f, "a.fill(2.0)")) in str(e), str(e)
        assert "np.full" in str(e), str(e)
    else:
        np.testing.assert_allclose(g[0], 4.0 * np.array([1.0, 3.0]))


def test_in_place_array_in_a_loop():
    def f(x):
        a = np.zeros_like(x)
        for i in range(len(x)):
            a[i] = x[i] * (a[i - 1] if i > 0 else 1.0)
            a[: i + 1] *= 0.9
        return np.sum(a)

    check_gradient(f, np.array([1.2, -0.7, 0.5, 2.0]))


def test_restore_semantics_old_values_needed():
    def f(a0):
        a = a0.copy()
        b = a * a
        a[0] = 5.0
        return np.sum(b) + np.sum(a)

    x = np.array([1.0, 2.0, 3.0])
    g = check_gradient(f, x)
    np.testing.assert_allclose(g[0], [2.0, 4.0 + 1.0, 6.0 + 1.0])


def test_restore_semantics_view_then_mutate():
    def f(x):
        a = x * 1.0
        v = a[1:]  # a view of a
        s = np.sum(v * v)
        a[1] = 10.0  # also changes v
        return s + np.sum(v * a[1:])

    check_gradient(f, np.array([0.5, 1.5, -2.0]))


def test_restore_semantics_element_read_then_overwritten():
    def f(x):
        a = np.array([x, 2.0 * x, 3.0])
        first = a[0] * a[1]
        a[0] = a[1] * a[2]
        a[1] = 0.0
        return first + np.sum(a * a)

    g = check_gradient(f, 0.7)
    assert g[0] == pytest.approx(4 * 0.7 + 2 * (6 * 0.7) * 6)


# -- arguments changed in place ----------------------------------------------------------


def test_an_argument_changed_in_place_is_differentiated_at_its_value_on_entry():
    def f(x):
        x[0] = x[0] * x[1]
        return np.sum(x)

    x = np.array([3.0, 4.0])
    g = gradient(f, x)
    # d/dx of x0*x1 + x1 at the entry value
    np.testing.assert_allclose(g[0], [4.0, 3.0 + 1.0])
    # the caller's array changes exactly as calling f itself changes it
    assert x.tolist() == [12.0, 4.0]


def test_augmented_assignment_on_an_argument():
    def f(x):
        x *= 2.0
        return np.sum(x * x)

    x = np.array([3.0, 4.0])
    g = gradient(f, x)
    np.testing.assert_allclose(g[0], 8.0 * np.array([3.0, 4.0]))
    assert x.tolist() == [6.0, 8.0]


def test_argument_overwritten_with_a_constant_gets_no_gradient_through_it():
    def f(x):
        x[0] = 1.0
        return np.sum(x)

    x = np.array([3.0, 4.0])
    g = gradient(f, x)
    np.testing.assert_allclose(g[0], [0.0, 1.0])
    assert x.tolist() == [1.0, 4.0]


def test_ndarray_sort_in_place():
    def f(x):
        a = x * 1.0
        a.sort()
        return a[0] * 2.0 + a[-1]

    g = check_gradient(f, np.array([3.0, 1.0, 2.0]))
    np.testing.assert_allclose(g[0], [1.0, 2.0, 0.0])


def test_out_of_place_sort_works():
    def f(x):
        a = np.sort(x)
        return a[0] * 2.0 + a[-1]

    g = check_gradient(f, np.array([3.0, 1.0, 2.0]))
    np.testing.assert_allclose(g[0], [1.0, 2.0, 0.0])


def test_mutating_an_argument_that_is_not_differentiated_is_allowed():
    def f(x, buf):
        buf[0] = x * x  # buf is a constant here: no gradient asked for it
        return buf[0] + buf[1] * x

    buf = [0.0, 2.0]
    g = dpnb.gradient(lambda x: f(x, buf), 1.5)
    assert g == (pytest.approx(3.0 + 2.0),)
    assert buf[0] == pytest.approx(2.25), "the user's code has its side effects, once"


# -- dpnb never mutates the caller's arguments -------------------------------------------


def _deep_equal(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(a) is type(b) and list(a) == list(b) and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_deep_equal, a, b))
    if hasattr(a, "__dict__"):
        return type(a) is type(b) and _deep_equal(vars(a), vars(b))
    return a == b


def test_the_callers_arguments_are_never_mutated():
    class Holder:
        def __init__(self, w):
            self.w = w

    args = (
        np.array([1.0, -2.0, 3.0]),
        {"a": np.array([[1.0, 2.0]]), "b": [0.5, 1.5]},
        [np.array([0.1, 0.2]), 3.0],
        Holder(np.array([2.0, 1.0])),
    )
    before = copy.deepcopy(args)

    def f(x, d, xs, h):
        y = x * 1.0
        y[0] = d["a"][0, 1]
        z = d["b"] + [x[1]]
        zs = list(xs)
        zs.append(h.w)
        return np.sum(y**2) + sum(z) + np.sum(zs[0]) * zs[1] + np.sum(zs[2] * h.w)

    for _ in range(2):
        check_gradient(f, *args)
        assert _deep_equal(args, before)
    dpnb.jacobian(lambda x: x * x[::-1], args[0])
    dpnb.pullback(f, *args)[1](2.0)
    assert _deep_equal(args, before)


def test_arrays_read_then_restored_are_left_as_the_user_left_them():
    """After the backward pass, arrays changed in place by f hold f's final values."""
    out = {}

    def f(x):
        a = x * 1.0
        b = a * a
        a[0] = 5.0
        out["a"] = a
        return np.sum(b) + np.sum(a)

    gradient(f, np.array([1.0, 2.0, 3.0]))
    assert out["a"].tolist() == [5.0, 2.0, 3.0]
