"""A statement dpnb runs as written (`raise`, `assert`, the formatting of an f-string) is not
differentiated, so what its expressions do to the values the gradient follows was lost: a list
appended to inside one ended up one element short in the gradient (1.0 for 3.0), in forward mode
and the reverse way alike. Their values are evaluated first now, as any other expression, in
Python's order (the message of an `assert` only when it fails). An exception caught and read by
a handler may carry numbers the gradient cannot follow (`e.args[0] * x` gave 3.0 for 6.0): it is
refused when it carries floats or arrays and the handler reads it for more than a message. The
user's own exceptions still raise as they did."""
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

class MyError(Exception):
    pass

def asserted(x):
    acc = [x]
    assert acc.append(x * 2.0) is None, "never"
    return sum(acc)

def assert_message(x):
    acc = [x]
    try:
        assert x < 0, acc.append(x * 4.0)
    except AssertionError:
        pass
    assert x > 0, acc.append(x * 100.0)
    return sum(acc)

def formatted(x):
    acc = [x]
    s = f"{acc.append(x * 2.0)} and {x!r:>{acc.append(x * 3.0) or 10}}"
    return sum(acc)

def raised(x):
    acc = [x]
    try:
        raise ValueError(acc.append(x * 2.0), *[acc.append(x), acc.append(x * 3.0)])
    except ValueError:
        pass
    return sum(acc)

def raised_from(x):
    acc = [x]
    try:
        raise ValueError("a") from KeyError(acc.append(x * 4.0))
    except ValueError:
        pass
    return sum(acc)

def logged(x):
    log = []
    try:
        raise MyError(x * 2.0)
    except MyError as e:
        log.append(str(e) + repr(e) + f"{e}")
        if isinstance(e, MyError):
            log.append(type(e).__name__)
    return x * 3.0

def value_read(x):
    try:
        raise MyError(x * 2.0)
    except MyError as e:
        v = e.args[0]
    return v * x

def attribute_read(x):
    try:
        err = MyError("message")
        err.value = x * 2.0
        raise err
    except MyError as e:
        return e.value * x

def negative(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x * 2.0

def mine(x):
    if x > 10:
        raise MyError(x, math.sqrt(x))
    return x * 3.0
'''

#: the gradients at 1.5
WANT = {"asserted": 3.0, "assert_message": 5.0, "formatted": 6.0, "raised": 7.0, "raised_from": 5.0, "logged": 3.0}


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


@pytest.mark.parametrize("name", sorted(WANT))
@pytest.mark.parametrize("kind", ["float", "array"])
def test_what_the_statement_does_is_differentiated(m, name, kind):
    f = getattr(m, name)
    want = WANT[name]
    assert numerical_gradient(f, 1.5)[0] == pytest.approx(want, rel=1e-6)
    (got,) = dpnb.gradient(f, 1.5 if kind == "float" else np.array(1.5))
    assert float(got) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("name", ["value_read", "attribute_read"])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_numbers_read_out_of_a_caught_exception_are_refused(m, name, kind):
    f = getattr(m, name)
    with pytest.raises(DifferentiationError, match="caught here carries numbers") as info:
        dpnb.gradient(f, 1.5 if kind == "float" else np.array(1.5))
    # the traceback names the user's file and the handler's line
    frames = [tb for tb in info.traceback if str(tb.path) == m.__file__]
    assert frames and "except MyError as e" in str(frames[-1].statement)


def test_the_users_exceptions_raise_as_they_did(m):
    with pytest.raises(ValueError, match="negative: -1.0"):
        dpnb.gradient(m.negative, -1.0)
    with pytest.raises(m.MyError):
        dpnb.gradient(m.mine, 11.0)
    with pytest.raises(m.MyError):
        dpnb.gradient(m.mine, np.array(11.0))
    assert dpnb.gradient(m.mine, 2.0) == (3.0,)
