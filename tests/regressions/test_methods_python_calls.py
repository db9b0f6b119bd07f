"""Methods Python calls from its own code for a builtin, run as plain Python out of the gradient's
sight: what they appended to a list was lost without a word (values at x = 2.0, dpnb before ->
central differences): `float(obj)` (`__float__`) None -> 4.0 (and a float cotangent sent to the
object: DifferentiationError), `int(obj)` None -> 3.0, `str(obj)` None -> 5.0, `repr(obj)` None
-> 6.0, `format(obj, "x")` None -> 7.0, `hash(obj)` None -> 8.0, `operator.index(obj)` and
`xs[obj]` (`__index__`) None -> 4.0, `operator.truth(obj)` None -> 10.0, `map(len, ...)` None
-> 18.0, `map(float, ...)` None -> 4.0, `x in obj` of a class with `__iter__` and no
`__contains__` None -> 11.0, `print(obj)` None -> 5.0. They run as the user's code now."""
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
import operator

log = []

class Noisy:
    """Each method Python calls for a builtin appends v times a number of its own to the log."""
    def __init__(self, v):
        self.v = v
    def __float__(self):
        log.append(self.v * self.v)
        return self.v * 2.0
    def __int__(self):
        log.append(self.v * 3.0)
        return 3
    def __index__(self):
        log.append(self.v * 4.0)
        return 1
    def __str__(self):
        log.append(self.v * 5.0)
        return "noisy"
    def __repr__(self):
        log.append(self.v * 6.0)
        return "Noisy()"
    def __format__(self, spec):
        log.append(self.v * 7.0)
        return "formatted"
    def __hash__(self):
        log.append(self.v * 8.0)
        return 1
    def __len__(self):
        log.append(self.v * 9.0)
        return 2
    def __bool__(self):
        log.append(self.v * 10.0)
        return True
    def __iter__(self):
        log.append(self.v * 11.0)
        return iter([1.0, 2.0])

class Shown:
    """Only `__repr__`: `str` and `format` call it."""
    def __init__(self, v):
        self.v = v
    def __repr__(self):
        log.append(self.v * 12.0)
        return "Shown()"

def to_float(x):
    log.clear()
    float(Noisy(x))
    return sum(log)

def to_float_used(x):
    log.clear()
    return float(Noisy(x)) * x + sum(log)

def to_int(x):
    log.clear()
    int(Noisy(x))
    return sum(log)

def to_str(x):
    log.clear()
    str(Noisy(x))
    return sum(log)

def to_repr(x):
    log.clear()
    repr(Noisy(x))
    return sum(log)

def formatted(x):
    log.clear()
    format(Noisy(x), "x")
    return sum(log)

def hashed(x):
    log.clear()
    hash(Noisy(x))
    return sum(log)

def as_index(x):
    log.clear()
    operator.index(Noisy(x))
    return sum(log)

def indexing(x):
    log.clear()
    xs = [1.0, x]
    return xs[Noisy(x)] + sum(log)

def indexing_unused(x):
    log.clear()
    xs = [1.0, 2.0]
    k = lambda o: xs[o]
    k(Noisy(x))
    return sum(log)

def truth(x):
    log.clear()
    operator.truth(Noisy(x))
    return sum(log)

def mapped_len(x):
    log.clear()
    o = Noisy(x)
    list(map(len, [o, o]))
    return sum(log)

def mapped_float(x):
    log.clear()
    return sum(map(float, [Noisy(x)])) + sum(log)

def contained(x):
    log.clear()
    2.0 in Noisy(x)
    return sum(log)

def printed(x):
    log.clear()
    print(Noisy(x), end="")
    print(Noisy(x))
    return sum(log)

def str_of_repr(x):
    log.clear()
    str(Shown(x))
    format(Shown(x), "")
    return sum(log)
'''

CASES = ["to_float", "to_float_used", "to_int", "to_str", "to_repr", "formatted", "hashed", "as_index",
         "indexing", "indexing_unused", "truth", "mapped_len", "mapped_float", "contained", "printed",
         "str_of_repr"]


@pytest.mark.parametrize("name", CASES)
def test_a_method_python_calls_runs_as_the_users_code(load_module, name, capsys):
    f = getattr(load_module(SOURCE), name)
    y, (g,) = dpnb.withgradient(f, 2.0)
    assert y == pytest.approx(f(2.0), rel=1e-12)
    assert g is not None and float(g) == pytest.approx(numerical_gradient(f, 2.0)[0], rel=1e-6)


@pytest.mark.parametrize("name", ["to_float_used", "to_str", "contained"])
def test_forward_mode_agrees(load_module, name, capsys):
    f = getattr(load_module(SOURCE), name)
    _, t = dpnb.jvp(f, (2.0,), (1.0,))
    assert float(t) == pytest.approx(numerical_gradient(f, 2.0)[0], rel=1e-6)


def test_what_a_method_returns_is_checked_as_python_checks_it(load_module):
    m = load_module(SOURCE + '''
class Bad:
    def __float__(self):
        return "no"

def bad(x):
    return float(Bad()) * x
''')
    with pytest.raises(TypeError, match="__float__ returned non-float"):
        dpnb.gradient(m.bad, 2.0)
