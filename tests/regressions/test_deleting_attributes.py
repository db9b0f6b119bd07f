"""`del obj.name`: an instance attribute that hid a class attribute, deleted again, left the reads
after it (of the class attribute, a constant) sending their cotangent to the removed value (2.7
for 2.0); a property's deleter ran out of sight and the deletion was taken for a plain
attribute's (2.4 for 1.0), or the backward pass crashed when the property had no setter. The
reads after a deletion now keep their cotangent from the removed value, and a property's (or a
descriptor's) deleter runs as the user's code. Checked against central differences."""
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Base:
    scale = 2.0

    def __init__(self, x):
        self.x = x

    def val(self):
        return self.x * self.scale


class Prop:
    def __init__(self, r):
        self._r = r

    @property
    def r(self):
        return self._r

    @r.setter
    def r(self, v):
        self._r = v

    @r.deleter
    def r(self):
        self._r = 1.0


class Resettable:
    def __init__(self, r):
        self._r = r

    @property
    def r(self):
        return self._r

    @r.deleter
    def r(self):
        self._r = self._r * 0.5


def shadow_deleted(x):
    b = Base(x)
    b.scale = x
    del b.scale
    return b.val()


def deleter_resets(t):
    p = Prop(t)
    p.r = p.r * 2
    del p.r
    return p.r * t


def deleter_without_setter(t):
    p = Resettable(t * t)
    del p.r
    return p.r + t


@pytest.mark.parametrize("f", [shadow_deleted, deleter_resets, deleter_without_setter], ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)
