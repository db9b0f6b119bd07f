"""The backward pass of a `for i in range(...)` loop finds `i` again as the range's k-th entry
instead of saving it each iteration; a list's append takes a short way. These are the loops where
getting either wrong gave a crash or a wrong sum."""
import math

import numpy as np
import pytest

import dpnb
from dpnb.testing import gradcheck


def item_read_by_a_lambda(s, a):
    # the loop's variable is a closure variable: its reads go through its cell, not the range
    # (the fuzzer's program 3 of seed 0: "'int' object is not callable")
    out = 0.0
    for i1 in range(3):
        box = [s, s]
        box[1] = (lambda t: t * (i1 * 0.31) + 1.0)(s)
        out = out + box[1] * np.sum(a)
    return out


def item_copied_and_used_after_the_loop(s, a):
    total = 0.0
    k = 0
    for i in range(4):
        k = i
        j = k
        total = total + math.sin(s * j) + np.sum(a * i)
    return total + s * k


def nested_ranges(s, a):
    r = range(3)
    total = 0.0
    for i in r:
        for j in range(i + 1):
            total = total + s ** (i + 1) * (j + 1) + np.sum(a) * j
    return total


def loop_with_break_and_continue(s, a):
    total = 0.0
    for i in range(10):
        if i == 1:
            continue
        if i > 5:
            break
        total = total + math.cos(s * i) * a[i % 3]
    return total


def appends_then_reads(s, a):
    xs = []
    for i in range(5):
        xs.append(math.sin(s * i))
        xs.append(a * i)
    ys = xs[::2]
    return sum(ys) * s + np.sum(sum(xs[1::2]))


def appends_to_an_argument(xs, s):
    for i in range(3):
        xs.append(s * i)
    return sum(xs)


class Bag(list):
    def append(self, v):  # a list whose append does more: its own code must run
        super().append(v * 2.0)


class Bag2(list):
    def append(self, v):
        list.append(self, v * 2.0)


class Bag3(list):
    def add(self, v):  # no override of append: the built-in append is followed
        super().append(v * 2.0)


def appends_to(kind):
    def f(s):
        b = kind()
        for i in range(3):
            if kind is Bag3:
                b.add(s * i)
            else:
                b.append(s * i)
        return sum(b)

    return f


A = np.array([0.3, -0.2, 0.5])


@pytest.mark.parametrize(
    "f", [item_read_by_a_lambda, item_copied_and_used_after_the_loop, nested_ranges, loop_with_break_and_continue, appends_then_reads]
)
def test_range_loops(f):
    gradcheck(f, 0.7, A)


def test_hessian_through_a_range_loop():
    h = dpnb.hessian(lambda s: item_copied_and_used_after_the_loop(s, A), 0.7)
    d = lambda s: dpnb.gradient(lambda t: item_copied_and_used_after_the_loop(t, A), s)[0]
    np.testing.assert_allclose(h, (d(0.7 + 1e-5) - d(0.7 - 1e-5)) / 2e-5, rtol=1e-5)


def test_append_to_an_argument_leaves_it_as_it_was_after():
    xs = [1.0, 2.0]
    (gx, gs) = dpnb.gradient(appends_to_an_argument, xs, 0.5)
    assert gx == [1.0, 1.0] and gs == 3.0
    assert xs == [1.0, 2.0, 0.0, 0.5, 1.0]  # the caller sees the appends, as Python does


@pytest.mark.parametrize("kind", [Bag, Bag2])
def test_a_list_subclass_overriding_append_is_refused(kind):
    # dpnb used to follow list.append here, ignoring the override: the value was right and the
    # gradient half of it (3.0 for 6.0); followed, the built-in append dispatched to the override
    # again (the value doubled). Refused, naming the line, until mutators call the base method.
    with pytest.raises(dpnb.DifferentiationError, match="overrides list.append"):
        dpnb.gradient(appends_to(kind), 0.7)


def test_a_list_subclass_calling_the_builtin_append_from_another_method():
    gradcheck(appends_to(Bag3), 0.7)
    assert dpnb.gradient(appends_to(Bag3), 0.7)[0] == pytest.approx(6.0)
