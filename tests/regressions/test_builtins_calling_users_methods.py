"""A builtin that calls a method of a class of the user's, or a function of the user's, whose
change reached the result only through that call: lost without a word (values at x = 2.0, dpnb
before -> central differences):
- a key, or a function given to `map`, calling `abs` of an object whose `__abs__` appends to a
  list: the key's pullback returned at once when its result got no cotangent, as `abs`, a rule,
  was taken to change nothing (`sorted(objs, key=lambda o: abs(o))` 0.0 -> 4.0); `key=abs`
  itself, `map(abs, objs)`, and a `sorted` or `max` whose result is not used ran as written,
  out of the gradient's sight (None -> 4.0);
- the same with an `__abs__` that sets a field of its object (`max(objs, key=abs)`, `min`,
  `filter`: None -> 4.0, 4.0, 12.0): the result's cotangent of that object was taken before the
  key's pullback could send it through the change;
- a function of the user's given as a key or to `map`, `functools.reduce`, whose result is not
  used (None -> 4.0)."""
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
import functools

log = []

class Logged:
    """`abs` appends the square of its value to the log."""
    def __init__(self, v):
        self.v = v

    def __abs__(self):
        log.append(self.v * self.v)
        return self.v if self.v > 0 else -self.v

class Counted:
    """`abs` adds the square of its value to a field of its own."""
    def __init__(self, v):
        self.v = v
        self.seen = 0.0

    def __abs__(self):
        self.seen = self.seen + self.v * self.v
        return self.v if self.v > 0 else -self.v

def note(o):
    log.append(o * o)
    return o

def key_calls_abs(x):
    log.clear()
    s = sorted([Logged(x), Logged(3.0)], key=lambda o: abs(o))
    return s[0].v * 0 + sum(log)

def key_is_abs(x):
    log.clear()
    sorted([Logged(x), Logged(3.0)], key=abs)
    return sum(log)

def sorted_not_used(x):
    log.clear()
    sorted([Logged(x), Logged(3.0)], key=lambda o: abs(o))
    return sum(log)

def mapped_abs(x):
    log.clear()
    list(map(abs, [Logged(x), Logged(3.0)]))
    return sum(log)

def largest_sets_a_field(x):
    objs = [Counted(x), Counted(3.0)]
    max(objs, key=abs)
    return objs[0].seen

def smallest_sets_a_field(x):
    objs = [Counted(x), Counted(5.0)]
    min(objs, key=lambda o: abs(o))
    return objs[0].seen + objs[1].seen

def filtered_sets_a_field(x):
    objs = [Counted(x), Counted(5.0)]
    kept = list(filter(lambda o: abs(o) > 1.0, objs))
    return objs[0].seen * 3 + len(kept)

def sorted_one_of_them(x):
    o = Counted(x)
    sorted([o, Counted(5.0)], key=lambda o: abs(o))
    return o.seen

def users_key_not_used(x):
    log.clear()
    sorted([x, 1.0], key=note)
    return sum(log)

def users_map_not_used(x):
    log.clear()
    list(map(note, [x, 2.0]))
    return sum(log)

def users_key_of_numbers(x):
    log.clear()
    max(x, 0.5, key=note)
    return sum(log)

def reduced_not_used(x):
    objs = [Counted(x), Counted(5.0)]
    functools.reduce(lambda a, o: a + abs(o), objs, 0.0)
    return objs[0].seen
'''

CASES = ["key_calls_abs", "key_is_abs", "sorted_not_used", "mapped_abs", "largest_sets_a_field",
         "smallest_sets_a_field", "filtered_sets_a_field", "sorted_one_of_them", "users_key_not_used",
         "users_map_not_used", "users_key_of_numbers", "reduced_not_used"]


@pytest.mark.parametrize("name", CASES)
def test_what_a_builtin_runs_of_the_users_code_is_followed(load_module, name):
    f = getattr(load_module(SOURCE), name)
    y, (g,) = dpnb.withgradient(f, 2.0)
    assert y == pytest.approx(f(2.0), rel=1e-12)
    assert g is not None and float(g) == pytest.approx(numerical_gradient(f, 2.0)[0], rel=1e-6)


@pytest.mark.parametrize("name", ["key_calls_abs", "smallest_sets_a_field", "users_map_not_used"])
def test_forward_mode_agrees(load_module, name):
    f = getattr(load_module(SOURCE), name)
    _, t = dpnb.jvp(f, (2.0,), (1.0,))
    assert float(t) == pytest.approx(numerical_gradient(f, 2.0)[0], rel=1e-6)
