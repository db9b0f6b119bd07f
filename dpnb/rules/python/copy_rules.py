"""Rules for `copy.copy` and `copy.deepcopy`: the copy has the layout of the original, so its
cotangent is the original's (a shallow copy shares the objects inside, whose cotangents live
with them; a deep copy's cotangent is sent into the original's objects, level by level)."""
import copy

from ..registry import register


def copy_rrule(x):
    y = copy.copy(x)

    def copy_pullback(y_bar):
        return None, y_bar

    return y, copy_pullback


def deepcopy_rrule(x, *rest):
    y = copy.deepcopy(x, *rest)

    def deepcopy_pullback(y_bar):
        return (None, y_bar) + (None,) * len(rest)

    return y, deepcopy_pullback


register(copy.copy, copy_rrule)
register(copy.deepcopy, deepcopy_rrule)
