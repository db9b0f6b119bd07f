"""Five kinds of code whose gradients came out wrong without a word:
- a dict merge: `{**a, **b}`, a literal whose keys turn out equal, `a | b` and `a |= b`. Each key's
  value is the one put in last, and so must be its gradient: the value it overwrote got one too
  (1.0 for 0.0), and `|` and `|=` gave none at all;
- a NumPy ufunc given its output by position (`np.sin(a, a)`, `np.multiply(x, x, out)`): the
  write into it was not followed (a gradient of 1 for cos(x), None for 2x). `out=` by keyword
  was right;
- a loop over an object whose `__iter__` hands out a list's iterator (`return iter(self.xs)`), or
  that has `__getitem__` and no `__iter__`: the items' gradients were dropped (None);
- an attribute a class computes with its own `__getattr__`, `__getattribute__` or a descriptor's
  `__get__` / `__set__`, which ran as plain Python (None, or 1.0 for 3.0);
- an int array changed in place (`a *= 2`): 0 where `a = a * 2` gives 2."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
from collections import defaultdict

import numpy as np

def unpacked(a, b):
    return {**{"x": a}, **{"x": b}}["x"]

def repeated_key(a, b):
    return {"x": a, "x": b}["x"]

def keys_equal_when_run(a, b, k1="x", k2="x"):
    return {k1: a, k2: b}["x"]

def defaults_overridden(a, b):
    base = {"lr": a, "mom": 0.5}
    cfg = {**base, "lr": b}
    return cfg["lr"] * cfg["mom"] + base["lr"]

def merged(a, b):
    d = {"w": a * 2.0, "v": b} | {"v": a}
    return d["w"] * d["v"]

def merged_in_place(a, b):
    d = {"x": a, "y": 1.0}
    d |= {"y": b}
    return d["x"] * d["y"]

def sets_and_ints(a, b):
    s = {1, 2} | {3}
    return a * len(s) + b * (5 | 2)

def a_subclass(a, b):
    d = defaultdict(float, {"x": a}) | {"y": b}
    return d["x"] * d["y"]

def sets_changed_in_place(a, b):
    s = {1, 2}
    s |= {3}
    m = np.array([True, False])
    m |= np.array([False, True])
    return a * len(s) + b * int(m.sum())

class Joined:
    def __init__(self, x):
        self.x = x

    def __or__(self, other):
        return Joined(self.x * other.x)

def a_class_of_its_own(a, b):
    v = Joined(a)
    v |= Joined(b)
    return (v | Joined(3.0)).x

def sin_into_itself(x):
    a = x.copy()
    np.sin(a, a)
    return a.sum()

def product_into(x):
    a = np.empty(2)
    np.multiply(x, x, a)
    return a.sum()

def both(x):
    a = np.empty(2)
    b = np.multiply(x, 3.0, a)
    return b.sum() + a.sum()
'''


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


@pytest.mark.parametrize("name", ["unpacked", "repeated_key", "keys_equal_when_run", "defaults_overridden", "merged",
                                  "merged_in_place", "sets_and_ints", "a_subclass", "sets_changed_in_place",
                                  "a_class_of_its_own"])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_a_merged_key_has_the_gradient_of_the_value_it_kept(m, name, kind):
    f = getattr(m, name)
    want = numerical_gradient(f, 1.5, 2.5)
    args = (1.5, 2.5) if kind == "float" else (np.array(1.5), np.array(2.5))
    got = dpnb.gradient(f, *args)
    for g, w in zip(got, want):
        assert (0.0 if g is None else float(g)) == pytest.approx(float(w), abs=1e-8)


@pytest.mark.parametrize("name", ["sin_into_itself", "product_into", "both"])
def test_an_output_given_by_position_is_written_into(m, name):
    f = getattr(m, name)
    x = np.array([0.5, 1.0])
    (got,) = dpnb.gradient(f, x)
    np.testing.assert_allclose(got, numerical_gradient(f, x)[0], rtol=1e-7)


ITERABLES = '''
class Holder:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        return iter(self.xs)

DATA = Holder([1.0, 2.0, 3.0])

def loop(a):
    s = 0.0
    for v in Holder([a, 2.0 * a]):
        s = s + v * v
    return s

def comprehension(a):
    return sum([v * v for v in Holder([a, a * a])])

def dataset(w):
    return sum((w * v - 1.0) ** 2 for v in DATA)

class Indexed:
    def __init__(self, xs):
        self.xs = xs

    def __getitem__(self, i):
        return self.xs[i] * 2.0

def by_index(a):
    s = 0.0
    for v in Indexed([a, a * a]):
        s = s + v * v
    return s

def by_index_with_break(a):
    s = 0.0
    for v in Indexed([a, a * a, 5.0]):
        if v > 4.0:
            break
        s = s + v
    return s
'''


@pytest.mark.parametrize("name", ["loop", "comprehension", "dataset", "by_index", "by_index_with_break"])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_a_loop_over_an_object_whose_iter_hands_out_a_lists_items(load_module, name, kind):
    # the items a class's `__iter__` gives from a list it holds are that list's: their gradients
    # go back to it; a class with `__getitem__` alone is read item by item through it (both came
    # out None)
    _check_against_differences(getattr(load_module(ITERABLES), name), kind)


def _check_against_differences(f, kind):
    (want,) = numerical_gradient(f, 0.7)
    (got,) = dpnb.gradient(f, 0.7 if kind == "float" else np.array(0.7))
    assert float(got) == pytest.approx(want, rel=1e-6)


CLASS_ATTRIBUTES = '''
class Lazy:
    def __init__(self, x):
        self.x = x

    def __getattr__(self, name):
        return self.x * 2.0

class Logged:
    def __init__(self, x):
        self.x = x

    def __getattribute__(self, name):
        v = object.__getattribute__(self, name)
        return v * 3.0 if name == "x" else v

class Triple:
    def __get__(self, obj, typ=None):
        return obj._x * 3.0

    def __set__(self, obj, v):
        obj._x = v

class Doubled:
    def __get__(self, obj, typ=None):
        return obj.base * 2.0

class Holder:
    x = Triple()
    y = Doubled()

    def __init__(self, x):
        self.x = x
        self.base = x * x

def missing_name(a):
    return Lazy(a).anything + Lazy(a).x

def every_read(a):
    return Logged(a).x

def data_descriptor(a):
    return Holder(a).x

def plain_descriptor(a):
    return Holder(a).y
'''


@pytest.mark.parametrize("name", ["missing_name", "every_read", "data_descriptor", "plain_descriptor"])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_an_attribute_the_class_computes(load_module, name, kind):
    # `__getattr__`, `__getattribute__` and a descriptor's `__get__` / `__set__` are the class's
    # own code, called as such (the gradient was None, or 1.0 for 3.0)
    _check_against_differences(getattr(load_module(CLASS_ATTRIBUTES), name), kind)


INT_ARRAYS = '''
import numpy as np

def doubled_in_place(x):
    a = x * 1
    a *= 2
    return np.sum(a * 1.0)

def added_in_place(x):
    a = x.copy()
    a += x
    return np.sum(a * 1.0)

def into_zeros(x):
    a = np.zeros(3, dtype=int)
    a += x
    return np.sum(a * 1.5)

def truncated(x):
    a = np.zeros(3, dtype=int)
    a[0] = x[0] * 1.7
    return np.sum(a * 1.0) + np.sum(x)
'''


@pytest.mark.parametrize("name, want", [("doubled_in_place", 2.0), ("added_in_place", 2.0), ("into_zeros", 1.5),
                                        ("truncated", 1.0)])
def test_an_int_array_changed_in_place_keeps_its_gradient(load_module, name, want):
    # ints computed from ints in place are exact, as out of place (`a = a * 2`): `gradient` of an
    # int array differentiates them as the floats they stand for (the in-place form gave 0); a
    # float written into an int array is truncated and carries none
    f = getattr(load_module(INT_ARRAYS), name)
    (got,) = dpnb.gradient(f, np.array([1, 2, 3]))
    np.testing.assert_array_equal(got, [want] * 3)


def test_abs_of_an_object_calls_its_abs(load_module):
    # `abs` of an object of the user's class calls its `__abs__` as the user's code (the rule of
    # `abs` compared the object with 0: a TypeError)
    m = load_module(
        "class A:\n"
        "    def __init__(self, x):\n"
        "        self.x = x\n\n"
        "    def __abs__(self):\n"
        "        return self.x * self.x\n\n"
        "def f(a):\n"
        "    return abs(A(a)) + abs(-a)\n"
    )
    assert dpnb.gradient(m.f, 1.5) == (4.0,)
    assert float(dpnb.gradient(m.f, np.array(1.5))[0]) == 4.0
