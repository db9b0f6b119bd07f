"""A function given to `map`, `itertools.starmap`, `functools.reduce`, or as the `key` of `sorted`,
`max`, `min` or the predicate of `filter`, that appends a differentiated value to a list: what it
appended lost its gradient whenever the callback's own value got no cotangent (3.0 for 5.8; None
for a key). The same code written as a loop was right. Those calls' pullbacks now run when they
must (they changed something), and keys and predicates run as the user's code. Checked against
central differences."""
import functools
import itertools

import pytest

import dpnb
from dpnb.testing import numerical_gradient


def logging():
    log = []

    def note(v):
        log.append(v * 3)
        return v

    return log, note


def mapped(x):
    log, note = logging()
    out = list(map(note, [x, x * x]))
    return sum(log) + out[0]


def mapped_other_item(x):
    log, note = logging()
    out = list(map(note, [x, 2.0]))
    return sum(log) + out[1]


def star_mapped(x):
    log = []

    def note(a, b):
        log.append(a * b)
        return a

    out = list(itertools.starmap(note, [(x, 2.0), (3.0, x)]))
    return sum(log) + out[1]


def reduced(x):
    log = []

    def note(a, b):
        log.append(a * b)
        return a + b

    total = functools.reduce(note, [x, 2.0, x])
    return sum(log) + 0 * total


def sorted_by_key(x):
    log, note = logging()
    first = sorted([x, 2.0], key=note)[0]
    return sum(log) + first


def largest_by_key(x):
    log, note = logging()
    m = max([x, 2.0], key=note)
    return sum(log) + m


def smallest_by_key(x):
    log, note = logging()
    m = min(x, 2.0, key=note)
    return sum(log) + m


def filtered(x):
    log, note = logging()
    kept = list(filter(note, [x, 2.0]))
    return sum(log) + kept[0]


CASES = [mapped, mapped_other_item, star_mapped, reduced, sorted_by_key, largest_by_key, smallest_by_key, filtered]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)


def test_second_derivative_through_keys():
    def f(x):
        return sum(v * v for v in sorted([x, 2.0 * x, -x], key=abs)) + max([x, x * x], key=lambda v: -v)

    assert dpnb.hessian(f, 0.7) == pytest.approx(14.0)
