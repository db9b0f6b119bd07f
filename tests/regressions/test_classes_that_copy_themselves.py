"""`copy.copy` and `copy.deepcopy` of an object whose class says how it is copied: the value was
the class's (its `__copy__` ran), the gradient that of a field-by-field copy (1.0 for 10.0, 1.0
for -1.0). A class's own `__copy__` or `__deepcopy__` now runs as the user's code,
differentiated; `__reduce__`, `__getstate__`, ... of its own, or a `__deepcopy__` deeper inside a
deep copy, are refused naming the class. Plain classes, dataclasses and arrays copy as before."""
import copy
import dataclasses

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Scaled:
    def __init__(self, v):
        self.v = v

    def __copy__(self):
        return Scaled(self.v * 10)


class Negated:
    def __init__(self, v):
        self.v = v

    def __deepcopy__(self, memo):
        return Negated(-self.v)


class Reduced:
    def __init__(self, v):
        self.v = v

    def __reduce__(self):
        return (Reduced, (self.v * 2,))


class Plain:
    def __init__(self, v):
        self.v = v


@dataclasses.dataclass
class Record:
    a: float
    b: list


def copied(t):
    return copy.copy(Scaled(t)).v * t


def deep_copied(t):
    return copy.deepcopy(Negated(t)).v * 3.0


def plain(t):
    return copy.copy(Plain(t)).v * 3 + copy.deepcopy({"a": [Plain(t)]})["a"][0].v * 2


def record(t):
    return copy.deepcopy(Record(t, [t * 2])).b[0] + float(np.sum(copy.deepcopy(np.array([t, 2 * t]))))


@pytest.mark.parametrize("f", [copied, deep_copied, plain, record], ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)


def test_second_derivative_through_a_class_copy():
    assert dpnb.hessian(copied, 0.7) == pytest.approx(20.0)


@pytest.mark.parametrize("f, name", [(lambda t: copy.copy(Reduced(t)).v, "Reduced"),
                                     (lambda t: copy.deepcopy([Negated(t)])[0].v, "Negated")])
def test_other_ways_of_copying_are_refused(f, name):
    with pytest.raises(dpnb.DifferentiationError, match=name):
        dpnb.gradient(f, 0.7)
