"""A build runs with the cyclic garbage collector paused (`load.gc_paused`), and leaves it as it
found it: running again after the build returns or raises, paused still if the user paused it."""
import gc
import math

import numpy as np
import pytest

import dpnb
from dpnb.core.load import gc_paused


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_a_build_runs_with_the_collector_paused_and_puts_it_back():
    seen = []

    @gc_paused
    def build(x, *, k):
        seen.append(gc.isenabled())
        return x + k

    assert build(1, k=2) == 3
    assert seen == [False] and gc.isenabled()


def test_a_build_that_raises_puts_the_collector_back():
    @gc_paused
    def build():
        assert not gc.isenabled()
        raise ValueError("no")

    with pytest.raises(ValueError):
        build()
    assert gc.isenabled()


def test_a_nested_build_leaves_the_outer_one_paused():
    seen = []

    @gc_paused
    def inner():
        seen.append(gc.isenabled())

    @gc_paused
    def outer():
        inner()
        seen.append(gc.isenabled())

    outer()
    assert seen == [False, False] and gc.isenabled()


def test_a_collector_the_user_paused_stays_paused():
    def f(x):
        return math.sin(x) * x

    gc.disable()
    assert dpnb.gradient(f, 0.5) == (math.cos(0.5) * 0.5 + math.sin(0.5),)
    assert not gc.isenabled()


def test_gradients_of_new_functions_leave_the_collector_running():
    def f(x):
        return math.exp(x) * 2

    def g(x, y):
        return x * y + [x, y][0]

    def h(x):
        return x ** 3

    assert dpnb.gradient(f, 0.5) == (2 * math.exp(0.5),)
    assert dpnb.gradient(g, 2.0, 3.0) == (4.0, 2.0)
    with pytest.raises(dpnb.UnsupportedSyntaxError):
        dpnb.gradient(lambda x: (yield x), 1.0)
    assert dpnb.gradient(h, 2.0) == (12.0,)
    (gx,) = dpnb.gradient(lambda x: np.sum(x * x), np.array([1.0, 2.0]))
    assert np.array_equal(gx, [2.0, 4.0])
    assert gc.isenabled()
