"""Gradients taken from several threads at once, with the interpreter switching threads very often.

Each function keeps its state in values it creates (no state shared between
threads in the user's code), so any wrong answer comes from dpnb's own state.
"""
import sys
import threading

import numpy as np
import pytest

from dpnb import gradient

N_THREADS = 8
CALLS_PER_THREAD = 500


def with_dict(x):
    d = {}
    d["a"] = x * x
    d["b"] = d["a"] * x
    d["a"] = d["a"] + d["b"]
    return d["a"] + d["b"]  # x^2 + 2 x^3 -> 2x + 6x^2


class _Acc:
    def __init__(self):
        self.total = 0.0

    def add(self, v):
        self.total = self.total + v
        return self


def with_object(x):
    o = _Acc()
    o.add(x * x)
    o.add(x)
    o.total = o.total * x
    return o.total  # x^3 + x^2 -> 3x^2 + 2x


class _Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def scale(self, k):
        self.x = self.x * k
        self.y = self.y * k


def with_two_objects(x):
    p, q = _Point(x, 1.0), _Point(2.0, x)
    p.scale(x)
    q.scale(x)
    return p.x * q.y  # x^2 * x^2 = x^4 -> 4x^3


def with_list_and_array(x):
    L = [x]
    L.append(L[-1] * x)
    a = np.zeros(2)
    a[0] = L[0]
    a[1] = L[1] * 3.0
    return float(np.sum(a * a))  # x^2 + 9 x^4 -> 2x + 36 x^3


CASES = [
    (with_dict, lambda x: 2 * x + 6 * x * x),
    (with_object, lambda x: 3 * x * x + 2 * x),
    (with_two_objects, lambda x: 4 * x**3),
    (with_list_and_array, lambda x: 2 * x + 36 * x**3),
]


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def test_gradients_in_eight_threads(fast_switching):
    """8 threads x 500 gradients of functions that change dicts, objects, lists and arrays.

    Today: fails -- 28 to 138 of 4000 wrong in four runs, all in the functions whose objects are changed
        by their methods (with_object, with_two_objects); each is right when run alone.
    """
    errors = []
    start = threading.Barrier(N_THREADS)

    def work(seed):
        rng = np.random.default_rng(seed)
        start.wait()
        for k in range(CALLS_PER_THREAD):
            f, df = CASES[(seed + k) % len(CASES)]
            x = float(rng.uniform(-2.0, 2.0))
            try:
                (g,) = gradient(f, x)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"{f.__name__}({x}): {type(e).__name__}: {e}")
                continue
            if g is None or not abs(g - df(x)) <= 1e-9 * (1 + abs(df(x))):
                errors.append(f"{f.__name__}({x}): got {g!r}, expected {df(x)!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"{len(errors)} of {N_THREADS * CALLS_PER_THREAD} wrong, e.g. {errors[:3]}"


def test_gradients_in_threads_first_call_races(fast_switching):
    """Every thread asks for the gradient of a function never differentiated before, at once
    (the transform and its cache are filled concurrently).

    Today: passes.
    """
    errors = []
    start = threading.Barrier(N_THREADS)

    def make(k):
        def fresh(x):
            d = {"v": x}
            d["v"] = d["v"] * x + k
            return d["v"] * x  # x^3 + k x -> 3x^2 + k

        return fresh

    fresh_functions = [make(float(k)) for k in range(N_THREADS)]

    def work(i):
        start.wait()
        for j in range(N_THREADS):
            k = (i + j) % N_THREADS
            x = 0.5 + 0.1 * i
            (g,) = gradient(fresh_functions[k], x)
            want = 3 * x * x + k
            if g is None or abs(g - want) > 1e-9 * (1 + abs(want)):
                errors.append(f"thread {i}, fresh_{k}({x}): got {g!r}, expected {want!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"{len(errors)} wrong, e.g. {errors[:3]}"
