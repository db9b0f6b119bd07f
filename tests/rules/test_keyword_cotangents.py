"""The keyword convention: when keyword arguments carry values with a gradient, a pullback
returns the callable's tangent, one cotangent per positional argument, and then one dict
`{keyword: cotangent}` (left out when no keyword has a cotangent).

Each row calls the rule from RULES directly and checks the shape of what its pullback
returns; the tables (test_numpy_*.py, test_python_*.py) check the values against finite
differences.
"""
import math

import numpy as np
import pytest

from dpnb.rules.registry import RULES

X = np.array([-1.0, 0.5, 2.0])
M = np.arange(6.0).reshape(2, 3)

#: (callable, positional arguments, keyword arguments, keywords expected in the trailing dict)
ROWS = [
    (np.clip, (X,), {"a_min": 0.0, "a_max": 1.0}, {"a_min", "a_max"}),
    (np.clip, (X, 0.0), {"a_max": np.ones(3)}, {"a_max"}),
    (np.clip, (X,), {"min": 0.0}, {"min"}),
    (np.ndarray.clip, (X,), {"max": 1.0}, {"max"}),
    (np.tensordot, (M,), {"b": np.ones((3, 2)), "axes": 1}, {"b"}),
    (np.tensordot, (), {"a": M, "b": np.ones((3, 2)), "axes": 1}, {"a", "b"}),
    (np.max, (X,), {"initial": 5.0}, {"initial"}),
    (np.sum, (M,), {"axis": 0, "initial": 1.0}, {"initial"}),
    (np.prod, (X,), {"initial": 2.0}, {"initial"}),
    (np.average, (M,), {"axis": 1, "weights": np.array([1.0, 2.0, 3.0])}, {"weights"}),
    (np.interp, (np.array([-1.0, 0.5, 3.0]), np.array([0.0, 1.0, 2.0]), np.ones(3)), {"left": 0.0, "right": 4.0},
     {"left", "right"}),
    (np.interp, (), {"x": 0.5, "xp": np.array([0.0, 1.0]), "fp": np.array([1.0, 3.0])}, {"x", "fp", "xp"}),
    (np.nan_to_num, (np.array([np.nan, 1.0]),), {"nan": 2.0}, {"nan"}),
    (np.select, ([X > 0],), {"choicelist": [X], "default": 1.0}, {"choicelist", "default"}),
    (np.diff, (X,), {"prepend": 0.0, "append": np.array([1.0])}, {"prepend", "append"}),
    (np.pad, (X, 1), {"constant_values": 2.0}, {"constant_values"}),
    (np.linspace, (), {"start": 0.0, "stop": 1.0, "num": 3}, {"start", "stop"}),
    (dict, (), {"a": 1.5, "b": X}, {"a", "b"}),
    (sum, ([1.0, 2.0],), {"start": 0.5}, {"start"}),
    (max, ([],), {"default": 1.5}, {"default"}),
    (math.prod, ([1.5, 2.0],), {"start": 2.0}, {"start"}),
]


def _ones_like(y):
    if isinstance(y, dict):
        return {k: _ones_like(v) for k, v in y.items()}
    if isinstance(y, tuple):
        return tuple(_ones_like(v) for v in y)
    return np.ones(np.shape(y)) if isinstance(y, np.ndarray) else 1.0


@pytest.mark.parametrize("f,args,kwargs,keys", ROWS, ids=lambda v: getattr(v, "__name__", None))
def test_the_trailing_dict(f, args, kwargs, keys):
    y, back = RULES[f](*args, **kwargs)
    bars = back(_ones_like(y))
    assert len(bars) == 1 + len(args) + 1, bars
    assert type(bars[-1]) is dict and set(bars[-1]) == keys


@pytest.mark.parametrize("f,args,kwargs", [
    (np.clip, (X, 0.0, 1.0), {}),
    (np.max, (M,), {"axis": 0}),
    (np.linalg.norm, (M,), {"ord": 2, "axis": 0}),
    (np.sum, (M,), {"axis": 1, "keepdims": True}),
    (np.tensordot, (M, np.ones((3, 2))), {"axes": 1}),
    (dict, ([("a", 1.0)],), {}),
])
def test_no_trailing_dict_when_no_keyword_carries_a_gradient(f, args, kwargs):
    y, back = RULES[f](*args, **kwargs)
    bars = back(_ones_like(y))
    assert len(bars) == 1 + len(args) and not any(type(b) is dict for b in bars[len(args):]), bars


def test_user_rules_may_return_keyword_cotangents():
    from dpnb import rrule

    def scaled(x, *, scale=1.0):
        return x * scale

    @rrule(scaled)
    def scaled_rrule(x, *, scale=1.0):
        def scaled_pullback(dy):
            return None, dy * scale, {"scale": dy * x}

        return scaled(x, scale=scale), scaled_pullback

    try:
        y, back = RULES[scaled](2.0, scale=3.0)
        assert back(1.0) == (None, 3.0, {"scale": 2.0})
    finally:
        RULES.pop(scaled, None)
