"""Whole functions with operators, branches, loops and recursion, checked against finite differences."""
import math
import sys

import numpy as np
import pytest

from dpnb import gradient

try:
    from ._fd import check_gradient
except ImportError:
    from _fd import check_gradient


# -- operators -------------------------------------------------------------------


def every_operator(x, y):
    a = x + y
    b = x - y
    c = x * y
    d = x / y
    e = x ** 3 + 2.0 ** x + x ** y
    f = -x + (+y)
    g = abs(x - 2 * y)
    h = (x * 7.0) // y  # piecewise constant: zero gradient
    k = (x * y) % 1.5  # d/dx = y, d/dy = x (away from the jumps)
    return a * b + c / d + e + f * g + h + k


@pytest.mark.parametrize("x, y", [(1.35, 0.7), (2.1, 1.9), (0.4, 2.2)])
def test_every_operator(x, y):
    check_gradient(every_operator, x, y)


def test_floor_division_and_modulo_exactly():
    # (7x) // y is constant almost everywhere; (x*y) % 1.5 has derivative y in x and x in y
    gx, gy = gradient(lambda x, y: (x * 7.0) // y + (x * y) % 1.5, 1.35, 0.7)
    assert gx == pytest.approx(0.7) and gy == pytest.approx(1.35)


def test_abs_on_both_sides():
    assert gradient(lambda x: abs(x) * 3, -2.0) == (-3.0,)
    assert gradient(lambda x: abs(x) * 3, 2.0) == (3.0,)


def test_unary_minus_and_plus():
    assert gradient(lambda x: -(-(+x)) * 2 - x, 4.0) == (1.0,)


def test_power_with_both_arguments():
    check_gradient(lambda x, y: x ** y, 1.7, 2.3)
    check_gradient(lambda x, y: y ** x + x ** -1.5, 1.7, 2.3)


def test_mixed_int_and_float():
    def f(n, x):
        return n * x + n ** 2 / 3 + x / n + 2 * n

    g = check_gradient(f, 3, 1.5)
    assert isinstance(g[0], float) and isinstance(g[1], float)
    assert gradient(lambda a, b: a * b + a, 2, 3) == (4.0, 2.0)


def test_true_division_of_ints():
    assert gradient(lambda a, b: a / b, 3, 4) == (pytest.approx(0.25), pytest.approx(-3 / 16))


def test_augmented_assignments():
    def f(x):
        y = x
        y += x * x
        y -= 0.5 * x
        y *= x
        y /= 2.0
        y **= 2
        return y

    check_gradient(f, 1.3)


# -- branches --------------------------------------------------------------------


def piecewise(x):
    if x < -1:
        y = -x * x
    elif x <= 0.5:
        y = 3 * x
    elif x != 2 and x >= 1.5:
        y = math.sin(x) * x
    else:
        y = x ** 3
    return y + 1


@pytest.mark.parametrize("x", [-2.5, -0.3, 0.9, 1.2, 1.7])
def test_if_elif_else(x):
    check_gradient(piecewise, x)


def test_if_elif_else_on_an_isolated_point():
    assert gradient(piecewise, 2.0) == (12.0,)  # x != 2 is False: the else branch


def test_comparison_chain_in_a_branch():
    def f(x, y):
        if 0 < x < y:
            return x * y
        return x + y

    assert gradient(f, 1.0, 2.0) == (2.0, 1.0)
    assert gradient(f, 3.0, 2.0) == (1.0, 1.0)


def test_nested_ifs():
    def f(x, y):
        if x > 0:
            if y > 0:
                r = x * y
            else:
                r = x - y
        else:
            r = x * x
            if y > x:
                r = r + y
        return r

    for x, y in [(1.5, 2.0), (1.5, -2.0), (-1.5, 2.0), (-1.5, -2.0)]:
        check_gradient(f, x, y)


def test_if_without_else_overwrites_a_variable():
    def f(x):
        y = x * 2
        if x > 1:
            y = y * y
        return y

    assert gradient(f, 3.0) == (24.0,)
    assert gradient(f, 0.5) == (2.0,)


def test_conditional_expressions():
    f = lambda x, y: (x * y if x > y else x / y) + (x if y > 0 else y) ** 2
    for x, y in [(3.0, 2.0), (1.0, 2.0), (1.0, -2.0)]:
        check_gradient(f, x, y)


def test_nested_conditional_expression():
    f = lambda x: x * x if x > 2 else (3 * x if x > 0 else -x)
    assert gradient(f, 3.0) == (6.0,)
    assert gradient(f, 1.0) == (3.0,)
    assert gradient(f, -1.0) == (-1.0,)


def test_and_or_return_values():
    f = lambda x, y: (x and y) * 2 + (x or y) * 3
    # x truthy: (x and y) is y, (x or y) is x
    assert gradient(f, 1.5, 2.5) == (3.0, 2.0)
    # x falsy (0.0): (x and y) is x, (x or y) is y
    assert gradient(f, 0.0, 2.5) == (2.0, 3.0)


def test_or_as_a_default():
    def f(x, scale):
        s = scale or x
        return s * x

    assert gradient(f, 3.0, 2.0) == (2.0, 3.0)
    assert gradient(f, 3.0, 0.0) == (6.0, None)


def test_not_and_boolean_combinations_in_a_branch():
    def f(x, y):
        if not (x > 1 and y > 1) or x == y:
            return x * y * y
        return x + y

    check_gradient(f, 0.5, 2.0)
    check_gradient(f, 2.0, 3.0)


# -- for loops -------------------------------------------------------------------


def test_for_over_range_with_overwritten_values():
    def f(x):
        for i in range(4):
            x = x * 1.5 + math.sin(x)
        return x

    check_gradient(f, 0.3)


def test_for_over_range_with_start_stop_step():
    def f(x):
        s = 0.0
        for i in range(2, 11, 3):
            s = s + x ** i
        return s

    check_gradient(f, 1.1)


def test_for_over_a_list():
    def f(x, xs):
        s = x
        for v in xs:
            s = s * v + x
        return s

    check_gradient(f, 1.2, [0.5, 2.0, -1.5])


def test_for_over_a_tuple():
    def f(t):
        s = 1.0
        for v in t:
            s = s * v
        return s

    check_gradient(f, (1.5, 2.0, 3.0))


def test_for_over_zip():
    def dot(xs, ys):
        s = 0.0
        for u, v in zip(xs, ys):
            s += u * v
        return s

    g = check_gradient(dot, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert g == ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])


def test_for_over_enumerate():
    def f(xs):
        s = 0.0
        for i, v in enumerate(xs):
            s += (i + 1) * v * v
        return s

    g = check_gradient(f, (1.0, 2.0, 3.0))
    assert g == ((2.0, 8.0, 18.0),)


def test_for_over_enumerate_with_start():
    def f(xs):
        s = 0.0
        for i, v in enumerate(xs, 1):
            s += i * v
        return s

    assert gradient(f, (1.0, 2.0, 3.0)) == ((1.0, 2.0, 3.0),)


def test_for_over_reversed():
    def horner(coeffs, x):
        acc = 0.0
        for c in reversed(coeffs):
            acc = acc * x + c
        return acc

    check_gradient(horner, [1.0, -2.0, 0.5, 3.0], 1.3)


def test_for_over_an_array():
    def f(a):
        s = 0.0
        for v in a:
            s = s + v * v * v
        return s

    check_gradient(f, np.array([1.0, -2.0, 0.5]))


def test_nested_for_loops():
    def f(x):
        s = 0.0
        for i in range(3):
            for j in range(i + 1):
                s = s + x ** (i + j) * (j + 1)
        return s

    check_gradient(f, 1.3)


def test_loop_with_a_branch_per_iteration():
    def f(x):
        y = x
        for i in range(6):
            if i % 2 == 0:
                y = y * x
            elif y > 5:
                y = y - x
            else:
                y = math.sqrt(y + 1) * x
        return y

    check_gradient(f, 1.2)
    check_gradient(f, 1.9)


def test_loop_variable_used_after_the_loop():
    def f(x, xs):
        for v in xs:
            pass
        return v * x

    gx, gxs = gradient(f, 2.0, [1.0, 3.0])
    assert gx == 3.0
    assert isinstance(gxs, list) and gxs[0] in (None, 0.0) and gxs[1] == 2.0


# -- while, break, continue ------------------------------------------------------


def test_while_loop():
    def f(x):
        n = 0
        while n < 5:
            x = x * x * 0.5 + 0.1
            n += 1
        return x

    check_gradient(f, 1.1)


def test_while_loop_whose_trip_count_depends_on_x():
    def f(x):
        y = x
        while y < 100:
            y = y * x
        return y

    check_gradient(f, 1.7)
    check_gradient(f, 3.1)


def test_break():
    def f(x):
        s = 0.0
        for i in range(100):
            s = s + x * i
            if s > 10:
                break
        return s * x

    check_gradient(f, 0.7)


def test_while_true_with_break():
    def f(x):
        y = x
        while True:
            y = y * 1.5
            if y > 20:
                break
        return y

    check_gradient(f, 1.3)


def test_continue():
    def f(x):
        s = 0.0
        for i in range(8):
            if i % 3 == 0:
                continue
            s = s + x ** i
        return s

    check_gradient(f, 1.05)


def test_continue_and_break_in_a_while():
    def f(x):
        s, i = 0.0, 0
        while i < 20:
            i += 1
            if i % 2:
                continue
            s = s * 0.5 + x * i
            if i >= 10:
                break
        return s

    check_gradient(f, 0.9)


def test_for_else():
    def f(x, xs):
        for v in xs:
            if v > 10:
                r = v * x
                break
        else:
            r = x * x
        return r

    gx, gxs = gradient(f, 3.0, [1.0, 2.0])
    assert gx == 6.0 and gxs in (None, [None, None])
    gx, gxs = gradient(f, 3.0, [1.0, 20.0])
    assert gx == 20.0
    assert isinstance(gxs, list) and gxs[0] in (None, 0.0) and gxs[1] == 3.0


# -- early return ----------------------------------------------------------------


def test_early_return_from_a_branch():
    def f(x):
        if x > 1:
            return x * x
        y = x * 3
        return y + 1

    assert gradient(f, 2.0) == (4.0,)
    assert gradient(f, 0.5) == (3.0,)


def test_return_inside_a_loop():
    def f(x):
        y = x
        for i in range(10):
            y = y * x
            if y > 5:
                return y + i
        return -y

    check_gradient(f, 1.5)
    check_gradient(f, 1.05)


def test_return_from_inside_nested_loops():
    def f(x):
        s = 1.0
        for i in range(5):
            for j in range(5):
                s = s * x + j
                if s > 50:
                    return s * i
        return s

    check_gradient(f, 1.3)
    check_gradient(f, 0.2)


def test_return_inside_a_while():
    def f(x):
        while True:
            x = x * 2.0
            if x > 3:
                return x * x

    check_gradient(f, 0.7)


# -- recursion -------------------------------------------------------------------


def fact_pow(x, n):
    if n == 0:
        return 1.0
    return x * fact_pow(x, n - 1) / n + math.sin(x) * 0.0


def test_direct_recursion():
    check_gradient(fact_pow, 1.3, 5, wrt=[0])


def fib_like(x, n):
    if n <= 1:
        return x
    return fib_like(x, n - 1) + 0.5 * fib_like(x, n - 2) * x


def test_tree_recursion():
    check_gradient(fib_like, 1.1, 6, wrt=[0])


def is_even(x, n):
    return x if n == 0 else is_odd(x * 1.1, n - 1)


def is_odd(x, n):
    return x * x if n == 0 else is_even(x + 0.5 * x, n - 1)


def test_mutual_recursion():
    check_gradient(is_even, 0.9, 6, wrt=[0], none=[1])
    check_gradient(is_odd, 0.9, 7, wrt=[0], none=[1])


def rsum(x, n):
    if n == 0:
        return 0.0
    return x + rsum(x, n - 1)


def test_recursion_depth_500():
    # the plain function works at this depth under the default limit, so the gradient must too
    assert sys.getrecursionlimit() >= 1000
    assert rsum(2.0, 500) == 1000.0
    assert gradient(lambda x: rsum(x, 500), 2.0) == (500.0,)
    assert gradient(rsum, 2.0, 500) == (500.0, None)


def even500(x, n):
    return x if n == 0 else odd500(x, n - 1) * 1.0


def odd500(x, n):
    return x if n == 0 else even500(x, n - 1) + x


def test_mutual_recursion_depth_500():
    assert even500(1.0, 500) == 251.0
    (g,) = gradient(lambda x: even500(x, 500), 1.0)
    assert g == 251.0


def test_recursion_on_a_list():
    def total(xs):
        if not xs:
            return 0.0
        return xs[0] * xs[0] + total(xs[1:])

    g = check_gradient(total, [1.0, 2.0, 3.0])
    assert g == ([2.0, 4.0, 6.0],)


def test_loop_items_that_are_arrays_get_their_own_gradients():
    # regression: the backward pass read the loop's item from the last iteration
    def f(rows, w):
        total = 0.0
        for row in rows:
            total = total + np.sum(row * w) * np.sum(row)
        return total

    check_gradient(f, [np.array([0.1, 0.2]), np.array([0.3, -0.4]), np.array([1.0, 2.0])], np.array([0.5, -1.5]))


def test_loop_over_zip_unpacking_pairs():
    c = np.array([1.0, 2.0, 3.0])

    def f(u):
        parts = (np.sum(u) * 2.0, u * 3.0)
        total = 0.0
        for b, t in zip(parts, (0.5, c)):
            total = total + np.sum(b * t)
        return total

    check_gradient(f, np.array([0.1, 0.2, 0.3]))
