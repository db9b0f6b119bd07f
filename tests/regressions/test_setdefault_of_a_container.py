"""`d.setdefault(key, default)` inserting a list, dict or object that holds differentiated values:
what the inserted entry carried was dropped (None for `{"w": x}`; 1.4 for 2.4 with `[x]`), since
the pullback left the default's cotangent to the heap without putting it there. Checked against
central differences."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Box:
    def __init__(self, w):
        self.w = w


def a_list(x):
    d = {}
    d.setdefault("k", [x])
    d.setdefault("k", [100.0]).append(x * x)
    return sum(d["k"])


def a_dict(x):
    d = {}
    d.setdefault("k", {"w": x})
    return d["k"]["w"] * 3


def an_object(x):
    d = {}
    d.setdefault("o", Box(x)).w *= 2
    return d["o"].w + d.setdefault("o", Box(5.0)).w


def an_array(x):
    d = {}
    arr = d.setdefault("a", np.array([x, 2 * x]))
    arr *= x
    return float(np.sum(d["a"]))


@pytest.mark.parametrize("f", [a_list, a_dict, an_object, an_array], ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)
