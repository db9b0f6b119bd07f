"""A function called inside a `try` that changes a value the gradient follows (appends to a list,
sets a dict's item, an object's field, an array's entry) and then raises leaves those changes
without a pullback: the pullback that would send their gradients back is the callee's, and it is
never made when the callee raises. Caught by the caller, the gradient came out without them
(None, or 3.0 for 6.0). Such an exception is refused now, naming the handler's line; a callee that
raises before it changes anything, the try's own changes, and a library's exception still give
their gradients."""
import numpy as np
import pytest

import dpnb
from dpnb.errors import DifferentiationError
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
import math
import numpy as np

class Box:
    pass

def fill(xs, x):
    xs.append(x * 2.0)
    raise ValueError

def put(d, x):
    d["a"] = x * 3.0
    raise ValueError

def store(o, x):
    o.v = x * 4.0
    raise ValueError

def write(a, x):
    a[0] = x * 5.0
    raise ValueError

def deeper(xs, x):
    fill(xs, x)

def a_list(x):
    xs = [x]
    try:
        fill(xs, x)
    except ValueError:
        pass
    return xs[0] + xs[1]

def a_dict(x):
    d = {"a": 0.0}
    try:
        put(d, x)
    except ValueError:
        pass
    return d["a"] + x

def a_field(x):
    o = Box()
    o.v = 0.0
    try:
        store(o, x)
    except ValueError:
        pass
    return o.v + x

def an_array(x):
    a = np.zeros(2)
    try:
        write(a, x)
    except ValueError:
        pass
    return a[0] + x

def two_calls_down(x):
    xs = [x]
    try:
        deeper(xs, x)
    except ValueError:
        pass
    return xs[1] * x

def a_closure(x):
    acc = [x]
    def push(v):
        acc.append(v * 6.0)
        raise ValueError
    try:
        push(x)
    except ValueError:
        pass
    return sum(acc)

def safe_log(v):
    if v <= 0:
        raise ValueError("not positive")
    return math.log(v)

def raises_before_changing(x):
    xs = [x]
    try:
        xs.append(x * 2.0)
        v = safe_log(x - 2.0)
    except ValueError:
        v = 0.0
    return sum(xs) + v

def its_own_changes(x):
    xs = [x]
    try:
        xs.append(x * 2.0)
        raise ValueError
    except ValueError:
        pass
    return sum(xs)

def a_librarys(x):
    a = np.array([x, 2.0 * x])
    try:
        b = np.linalg.inv(np.zeros((2, 2)))
    except np.linalg.LinAlgError:
        b = 1.0
    return np.sum(a * b)
'''

REFUSED = ["a_list", "a_dict", "a_field", "an_array", "two_calls_down", "a_closure"]
RIGHT = {"raises_before_changing": 3.0, "its_own_changes": 3.0, "a_librarys": 3.0}


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


@pytest.mark.parametrize("name", REFUSED)
@pytest.mark.parametrize("kind", ["float", "array"])
def test_changes_made_by_a_callee_that_raised_are_refused(m, name, kind):
    f = getattr(m, name)
    with pytest.raises(DifferentiationError, match="raised inside a function called in the try block") as info:
        dpnb.gradient(f, 1.5 if kind == "float" else np.array(1.5))
    assert m.__file__ in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("name", sorted(RIGHT))
@pytest.mark.parametrize("kind", ["float", "array"])
def test_what_is_followed_keeps_its_gradient(m, name, kind):
    f = getattr(m, name)
    assert numerical_gradient(f, 1.5)[0] == pytest.approx(RIGHT[name], rel=1e-6)
    (got,) = dpnb.gradient(f, 1.5 if kind == "float" else np.array(1.5))
    assert float(got) == pytest.approx(RIGHT[name], rel=1e-12)
