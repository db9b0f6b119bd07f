"""A dict subclass with a `__missing__` of its own: the value it returns for an absent key carried
no gradient (1.4 for 3.4): Python's `dict.__getitem__` called it out of dpnb's sight. It runs as
the user's code now, whether it returns a value or inserts one. Checked against central
differences."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Defaults(dict):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def __missing__(self, key):
        return self.k * 2


class Inserting(dict):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def __missing__(self, key):
        v = self.k * len(key)
        self[key] = v
        return v


def returned(t):
    d = Defaults(t)
    d["b"] = t * t
    return d["b"] + d["absent"]


def inserted(t):
    d = Inserting(t)
    a = d["abc"]
    return a * d["abc"] + d["xy"] * t


def inserted_array(t):
    d = Inserting(np.array([t, 2 * t]))
    return float(np.sum(d["ab"] * d["ab"]))


@pytest.mark.parametrize("f", [returned, inserted, inserted_array], ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)
