"""Whole functions on tuples, lists and dicts: literals, unpacking, indexing, slicing, comprehensions, reduce."""
import functools
import math
import operator

import numpy as np

from dpnb import gradient

try:
    from ._fd import check_gradient
except ImportError:
    from _fd import check_gradient


# -- literals and unpacking ------------------------------------------------------


def test_tuple_and_list_literals():
    def f(x, y):
        t = (x, y, x * y)
        ls = [t[2], x + 1.0, 3.0]
        return t[0] * ls[0] + ls[1] * t[1] + ls[2]

    check_gradient(f, 1.5, 2.5)


def test_tuple_unpacking():
    def f(x, y):
        a, b = x * y, x + y
        (c, d), e = (a, b), a * b
        a, b = b, a  # swap
        return a * c + b * d + e

    check_gradient(f, 1.2, 0.7)


def test_starred_unpacking():
    def f(xs):
        a, *rest = xs
        *init, z = xs
        return a * sum(rest) + z * len(init)

    g = check_gradient(f, [1.0, 2.0, 3.0, 4.0])
    assert g == ([9.0, 1.0, 1.0, 4.0],)


def test_starred_unpacking_in_the_middle():
    def f(t):
        first, *mid, last = t
        return first * last + sum(v * v for v in mid)

    assert gradient(f, (2.0, 3.0, 4.0, 5.0)) == ((5.0, 6.0, 8.0, 2.0),)


def test_unpacking_in_a_for_target():
    def f(pairs):
        s = 0.0
        for (a, b), c in pairs:
            s = s + a * b * c
        return s

    check_gradient(lambda x: f([((x, 2.0), x), ((1.0, x), 3.0)]), 1.3)


def test_returning_and_unpacking_a_tuple_from_a_callee():
    def polar(x, y):
        return math.hypot(x, y), math.atan2(y, x)

    def f(x, y):
        r, th = polar(x, y)
        return r * math.cos(th) + r * r * th

    check_gradient(f, 0.8, 0.6)


def test_tuple_and_list_arguments_get_tuple_and_list_gradients():
    g = gradient(lambda t, ls: t[0] * ls[1] + t[1], (2.0, 3.0), [4.0, 5.0])
    assert g in (((5.0, 1.0), [None, 2.0]), ((5.0, 1.0), [0.0, 2.0]))
    assert type(g[0]) is tuple and type(g[1]) is list


def test_a_tuple_entry_no_gradient_reaches():
    (g,) = gradient(lambda t: t[0] * 2.0, (1.0, "label", 3.0))
    assert type(g) is tuple and len(g) == 3
    assert g[0] == 2.0 and g[1] is None and g[2] in (None, 0.0)


# -- indexing and slicing --------------------------------------------------------


def test_indexing_with_negative_and_computed_indices():
    def f(xs, k):
        return xs[-1] * xs[k] + xs[k - 1] ** 2

    g = check_gradient(f, [1.0, 2.0, 3.0, 4.0], 2, wrt=[0], none=[1])
    assert g[0] in ([0.0, 4.0, 4.0, 3.0], [None, 4.0, 4.0, 3.0])


def test_slicing_lists_and_tuples():
    def f(xs, t):
        a = xs[1:3]
        b = t[::-1]
        c = xs[::2]
        return sum(a) * b[0] + sum(u * v for u, v in zip(c, t[:2]))

    check_gradient(f, [1.0, 2.0, 3.0, 4.0], (0.5, 1.5, 2.5))


def test_list_concatenation_and_repetition():
    def f(x, y):
        xs = [x, y] + [x * y]
        ys = [x] * 3
        t = (x,) + (y, 2.0)
        return sum(xs) * sum(ys) + t[1] * t[0]

    check_gradient(f, 1.1, 0.4)


# -- dicts -----------------------------------------------------------------------


def test_dict_literal_and_lookup():
    def f(x, y):
        d = {"a": x * y, "b": x + y, "c": 3.0}
        return d["a"] * d["b"] + d["c"] * d.get("a") + d.get("z", 0.0)

    check_gradient(f, 1.2, 2.3)


def test_iterating_a_dict():
    def f(x):
        d = {"a": x, "b": 2 * x, "c": x * x}
        s = 0.0
        for k in d:
            s = s + d[k]
        for k, v in d.items():
            s = s + v * len(k)
        return s + sum(d.values())

    check_gradient(f, 1.5)


def test_dict_argument_gets_a_dict_gradient():
    (g,) = gradient(lambda d: d["w"] * d["x"] + d["w"], {"w": 2.0, "x": 5.0, "name": "n"})
    assert isinstance(g, dict)
    assert g["w"] == 6.0 and g["x"] == 2.0
    assert g.get("name") is None


def test_set_of_constants():
    def f(x, key):
        if key in {"a", "b"}:
            return x * x
        return x

    assert gradient(f, 3.0, "a") == (6.0, None)
    assert gradient(f, 3.0, "z") == (1.0, None)


# -- comprehensions --------------------------------------------------------------


def test_list_comprehension():
    def f(x, xs):
        ys = [v * x for v in xs]
        return sum(ys) * ys[0]

    check_gradient(f, 1.5, [1.0, 2.0, 3.0])


def test_list_comprehension_with_filter():
    def f(xs):
        return sum([v * v for v in xs if v > 0])

    assert gradient(f, [1.0, -2.0, 3.0]) in (([2.0, 0.0, 6.0],), ([2.0, None, 6.0],))


def test_nested_comprehension():
    def f(x):
        m = [[x * i + j for j in range(3)] for i in range(3)]
        flat = [v * v for row in m for v in row if v > 1]
        return sum(flat)

    check_gradient(f, 0.9)


def test_comprehension_reading_an_outer_variable_and_loop_index():
    def f(x, ys):
        return sum([x ** i * y for i, y in enumerate(ys)])

    check_gradient(f, 1.2, (1.0, 2.0, 3.0))


def test_dict_comprehension():
    def f(x):
        d = {k: x * k for k in range(1, 4)}
        e = {k: v * v for k, v in d.items() if k != 2}
        return sum(e.values()) + d[2]

    check_gradient(f, 1.1)


def test_comprehension_does_not_leak_its_variable():
    def f(x):
        v = x * 3
        ys = [v * v for v in [x, 2 * x]]
        return v + sum(ys)

    assert gradient(f, 1.0) == (3.0 + 2.0 + 8.0,)


def test_generator_expressions_in_sum_min_max():
    f = lambda xs: sum(v*v for v in xs) + max(v * 3 for v in xs) - min(math.sin(v) for v in xs)
    check_gradient(f, [0.5, 1.5, 1.0])


def test_generator_expression_with_zip_and_filter():
    f = lambda xs, ys: sum(a * b for a, b in zip(xs, ys) if a > 0)
    g = gradient(f, [1.0, -2.0, 3.0], [4.0, 5.0, 6.0])
    assert g in (
        ([4.0, 0.0, 6.0], [1.0, 0.0, 3.0]),
        ([4.0, None, 6.0], [1.0, None, 3.0]),
    )


def test_generator_expression_over_a_range_closing_over_x():
    f = lambda x: sum(x ** k / math.factorial(k) for k in range(8))
    check_gradient(f, 0.8)


def test_sum_with_a_start_value():
    f = lambda xs, x: sum((v * x for v in xs), x * x)
    check_gradient(f, [1.0, 2.0], 1.5)


# -- map and reduce --------------------------------------------------------------


def test_reduce_with_a_lambda():
    f = lambda xs: functools.reduce(lambda a, b: a * b, xs)
    assert gradient(f, [2.0, 3.0, 4.0]) == ([12.0, 8.0, 6.0],)


def test_reduce_with_an_initial_value():
    f = lambda x, xs: functools.reduce(lambda acc, v: acc * x + v, xs, x)
    check_gradient(f, 1.3, [1.0, -2.0, 0.5])


def test_reduce_with_an_operator_function():
    f = lambda xs: functools.reduce(operator.mul, xs, 1.0) + functools.reduce(operator.add, xs)
    check_gradient(f, (1.5, 2.0, 3.0))


def test_map_builtin_and_list_of_map():
    f = lambda xs, x: sum(list(map(lambda v: v * x, xs))) + sum(map(math.sin, xs))
    check_gradient(f, [0.5, 1.0], 2.0)


def test_list_of_a_tuple():
    def f(xs):
        zs = list(xs)
        return zs[0] * 10 + zs[-1] + zs[0] * zs[1]

    assert gradient(f, (3.0, 1.0, 2.0)) == ((11.0, 3.0, 1.0),)


# -- NumPy arrays from containers ------------------------------------------------


def test_np_array_from_a_list_of_scalars():
    f = lambda x, y: np.sum(np.array([x, y, x * y]) ** 2)
    check_gradient(f, 1.2, 0.5)


def test_array_indexing_and_slicing():
    def f(a):
        return a[0] * a[-1] + np.sum(a[1:3] ** 2) + np.sum(a[::2]) + a[1:][0]

    check_gradient(f, np.array([1.0, 2.0, 3.0, 4.0]))


def test_two_dimensional_indexing():
    def f(M):
        return M[0, 1] * M[1, 0] + np.sum(M[:, 0] ** 2) + np.sum(M[1] * 3)

    check_gradient(f, np.array([[1.0, 2.0], [3.0, 4.0]]))
