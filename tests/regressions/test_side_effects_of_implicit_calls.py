"""Code whose gradient came out wrong without a word because Python called the user's code
implicitly, or later than dpnb computed it (values at x = 1.5, dpnb before -> central differences):
- a class's `__bool__` (a test: `if b:`, `while`, `not`, `and`/`or`, `x if b else y`, `assert b`,
  `bool(b)`, a comprehension's `if`), its `__len__` (`len(b)`, and a test of a class with no `__bool__`), its
  `__contains__` (`x in b`, `x not in b`), and a `__getitem__` or property whose result is not used
  or carries no gradient, ran as plain Python: what they appended to a list was out of the
  gradient's sight (`if b:` 1.0 -> 7.0, `while b and ...` None -> 18.0, `len(b)` None -> 18.0,
  `3.0 in b` 1.0 -> 10.0, `b[0]` unused None -> 15.0, `b.size` None -> 21.0, a test through
  `__len__` 3.0 -> 12.0). They run as the user's code now, and their second derivatives follow;
- a context manager written with `contextlib.contextmanager`: its generator ran as written, out of
  the gradient's sight, where nothing it was given could carry a gradient (one reading a `Params`
  array W through a global: [3, 4] -> [6, 7]; one summing a list the `with` body filled: 1.0 -> 7.0);
  one given values was refused only for its `yield`. Such a manager is refused now, naming the
  manager and the `with` line, whenever its generator is given, reads or holds values a gradient
  may follow; one touching none of them runs as written;
- a generator expression was computed in full where it was made: `any`, `all` and `next` computed
  the items after the one that decided (`any`: 18.0 -> 3.0, `all`: 18.0 -> 9.0, `next`: 24.0 -> 15.0,
  over two loops: 24.0 -> 16.0); they stop where Python stops now. Unpacked (`a, b = (...)`) its
  second derivative was 0.0 (-> 4.0), read by a `for` loop refused (-> 10.0): both read the list
  itself now. One kept in a variable while the list it reads changed (15.0 -> 39.0), one read by a
  loop that changes that list (9.0 -> 23.25), and one whose items call the user's functions given
  to a call that may stop early (`zip` with a shorter list first: 11.0 -> 8.0) are refused."""
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


def _value_and_gradient_agree(f, x, rel=1e-7):
    """`withgradient(f, x)` of a float: the value `f` gives, the gradient central differences give."""
    y, (g,) = dpnb.withgradient(f, x)
    assert y == pytest.approx(f(x), rel=1e-12)
    assert g is not None and float(g) == pytest.approx(numerical_gradient(f, x)[0], rel=rel)


IMPLICIT = '''
class Logged:
    """Each method Python calls implicitly appends w * w times a number of its own to the log."""
    def __init__(self, w, log):
        self.w = w
        self.log = log

    def __bool__(self):
        self.log.append(self.w * self.w * 2.0)
        return True

    def __len__(self):
        self.log.append(self.w * self.w * 3.0)
        return 2

    def __contains__(self, v):
        self.log.append(self.w * self.w * v)
        return v > 0

    def __getitem__(self, i):
        self.log.append(self.w * self.w * 5.0)
        return 1.0

    @property
    def size(self):
        self.log.append(self.w * self.w * 7.0)
        return 4

class Sized:
    """No `__bool__`: a test takes its `__len__`."""
    def __init__(self, w, log):
        self.w = w
        self.log = log

    def __len__(self):
        self.log.append(self.w * self.w * 3.0)
        return 0

def tested_by_if(x):
    log = []
    b = Logged(x, log)
    if b:
        log.append(x)
    return sum(log)

def tested_by_while(x):
    log = []
    b = Logged(x, log)
    k = 0
    while b and k < 2:
        k += 1
    return sum(log)

def tested_by_not(x):
    log = []
    b = Logged(x, log)
    t = not b
    return sum(log)

def tested_in_a_conditional_expression(x):
    log = []
    b = Logged(x, log)
    return (x if b else 2 * x) + sum(log)

def tested_by_or(x):
    log = []
    b = Logged(x, log)
    t = b or x
    return sum(log)

def tested_by_assert(x):
    log = []
    b = Logged(x, log)
    assert b
    return sum(log)

def truth_by_bool(x):
    log = []
    t = bool(Logged(x, log))
    return sum(log)

def truth_by_len(x):
    log = []
    s = Sized(x, log)
    y = 2.0 * x if s else 3.0 * x
    return y + sum(log)

def tested_in_a_comprehension(x):
    log = []
    b = Logged(x, log)
    ys = [v * x for v in (1.0, 2.0) if b]
    return sum(ys) + sum(log)

def length(x):
    log = []
    b = Logged(x, log)
    n = len(b)
    return n * sum(log)

def length_unused(x):
    log = []
    b = Logged(x, log)
    for i in range(len(b)):
        pass
    return sum(log)

def membership(x):
    log = []
    b = Logged(x, log)
    if 3.0 in b:
        log.append(x)
    return sum(log)

def not_a_member(x):
    log = []
    b = Logged(x, log)
    t = 2.0 not in b
    return sum(log)

def item_unused(x):
    log = []
    b = Logged(x, log)
    b[0]
    return sum(log)

def property_unused(x):
    log = []
    b = Logged(x, log)
    b.size
    return sum(log)

def property_constant(x):
    log = []
    b = Logged(x, log)
    n = b.size
    return n + sum(log)
'''


IMPLICIT_NAMES = [
    "tested_by_if", "tested_by_while", "tested_by_not", "tested_in_a_conditional_expression", "tested_by_or",
    "tested_by_assert", "truth_by_bool", "truth_by_len", "tested_in_a_comprehension", "length", "length_unused", "membership",
    "not_a_member", "item_unused", "property_unused", "property_constant",
]


def _second_difference(f, x, h=1e-3):
    """f''(x) by central differences of `f` itself (the functions here are polynomials of degree
    two or less near x: exact but for rounding)."""
    return (f(x + h) - 2 * f(x) + f(x - h)) / (h * h)


@pytest.mark.parametrize("name", IMPLICIT_NAMES)
def test_a_method_python_calls_implicitly_runs_as_the_users_code(load_module, name):
    _value_and_gradient_agree(getattr(load_module(IMPLICIT), name), 1.5)


@pytest.mark.parametrize("name", IMPLICIT_NAMES)
def test_second_derivatives_through_a_method_python_calls_implicitly(load_module, name):
    f = getattr(load_module(IMPLICIT), name)
    want = _second_difference(f, 1.5)
    assert dpnb.hessian(f, 1.5) == pytest.approx(want, rel=1e-5)
    assert dpnb.jvp(lambda t: dpnb.gradient(f, t)[0], (1.5,), (1.0,))[1] == pytest.approx(want, rel=1e-5)
    assert dpnb.jvp(f, (1.5,), (1.0,))[1] == pytest.approx(dpnb.gradient(f, 1.5)[0], rel=1e-12)


MANAGERS = '''
import contextlib
import time

import numpy as np

W = np.array([1.5, 2.0])
LOG = []

@contextlib.contextmanager
def logged(acc, v):
    acc.append(v * 2.0)
    yield v * 3.0
    acc.append(v * 5.0)

@contextlib.contextmanager
def logs_w():
    LOG.append(W * 3.0)
    yield

@contextlib.contextmanager
def box():
    held = []
    yield held
    LOG.append(sum(held) * 2.0)

@contextlib.contextmanager
def timed(log):
    start = time.perf_counter()
    yield
    log.append(("took", time.perf_counter() - start))

def given_values(x):
    acc = []
    with logged(acc, x) as s:
        acc.append(s * x)
    return sum(acc)

def reading_a_global():
    LOG.clear()
    with logs_w():
        y = np.sum(W * W)
    return y + np.sum(LOG[0])

def handed_values_in_its_body(x):
    LOG.clear()
    with box() as held:
        held.append(x * x)
    return x + LOG[0]

def a_timer(x):
    log = []
    with timed(log):
        y = x * x
    return y * len(log)
'''


def test_a_generator_manager_given_values_is_refused_naming_the_with_line_one_given_none_runs(load_module):
    m = load_module(MANAGERS)
    _value_and_gradient_agree(m.a_timer, 1.5)
    assert dpnb.hessian(m.a_timer, 1.5) == pytest.approx(2.0)
    with pytest.raises(dpnb.DifferentiationError, match=r"contextlib.contextmanager.*logged.*line \d+.*class with `__enter__`"):
        dpnb.gradient(m.given_values, 1.5)


def test_a_generator_manager_reading_parameters_is_refused(load_module):
    m = load_module(MANAGERS)
    with pytest.raises(dpnb.DifferentiationError, match=r"contextlib.contextmanager.*logs_w.*reads W"):
        dpnb.gradient(m.reading_a_global, dpnb.Params([m.W]))


def test_a_generator_manager_handed_values_by_the_with_body_is_refused(load_module):
    m = load_module(MANAGERS)
    with pytest.raises(dpnb.DifferentiationError, match=r"contextlib.contextmanager.*box.*holds values in held"):
        dpnb.gradient(m.handed_values_in_its_body, 1.5)



GENERATORS = '''
def any_stops_early(x):
    log = []
    def item(v):
        log.append(v * x * x)
        return v > 0
    found = any(item(v) for v in [1.0, 2.0, 3.0])
    return sum(log) + found

def all_stops_early(x):
    log = []
    def item(v):
        log.append(v * x * x)
        return v < 2
    every = all(item(v) for v in [1.0, 2.0, 3.0])
    return sum(log) + every

def next_stops_early(x):
    log = []
    def item(v):
        log.append(v * x * x)
        return v * x
    first = next(item(v) for v in [1.0, 2.0, 3.0] if v > 1.5)
    none = next((item(v) for v in [1.0] if v > 1.5), x * 7.0)
    return sum(log) + first + none

def next_of_nested_loops(x):
    log = []
    def item(v, w):
        log.append(v * w * x)
        return v * w * x
    first = next(item(v, w) for v in [1.0, 2.0] for w in [3.0, 4.0] if w > 3.5)
    return sum(log) + x * first

def unpacked(x):
    a, b = (v * x for v in [1.0, 2.0])
    return a * b

def read_by_a_loop(x):
    t = 0.0
    for a in (v * x for v in [1.0, 2.0]):
        t = t + a * a
    return t

def kept_in_a_variable(x):
    xs = [x, 2 * x]
    g = (v * v for v in xs)
    xs[0] = 3 * x
    return sum(g)

def read_by_a_loop_that_changes_it(x):
    xs = [x, 2 * x]
    t = 0.0
    for a in (v * x for v in xs):
        xs[1] = a * 3.0
        t = t + a
    return t

def zipped_with_a_shorter_list(x):
    log = []
    def item(v):
        log.append(v * x)
        return v * x
    t = 0.0
    for a, b in zip([1.0, 2.0], (item(v) for v in [1.0, 2.0, 3.0])):
        t = t + a * b
    return t + sum(log)
'''

GENERATOR_NAMES = ["any_stops_early", "all_stops_early", "next_stops_early", "next_of_nested_loops", "unpacked",
                   "read_by_a_loop"]


@pytest.mark.parametrize("name", GENERATOR_NAMES)
def test_a_generator_expression_read_to_where_python_stops(load_module, name):
    f = getattr(load_module(GENERATORS), name)
    _value_and_gradient_agree(f, 1.5)
    want = _second_difference(f, 1.5)
    assert dpnb.hessian(f, 1.5) == pytest.approx(want, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name, match", [
    ("kept_in_a_variable", "kept to be read later"),
    ("read_by_a_loop_that_changes_it", "may change what its items read"),
    ("zipped_with_a_shorter_list", "given to `zip"),
])
def test_a_generator_expression_read_later_than_made_is_refused(load_module, name, match):
    f = getattr(load_module(GENERATORS), name)
    with pytest.raises(dpnb.UnsupportedSyntaxError, match=match):
        dpnb.gradient(f, 1.5)
