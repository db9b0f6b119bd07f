"""The builtins rule table: numbers, min/max/sum, sequence builders, map/reduce, dicts."""
import functools
import math
import operator
import types
from collections import namedtuple
from fractions import Fraction

import numpy as np
import pytest

from _tables import A, C, S, Seq, table_test
from dpnb.rules.registry import ATTRIBUTE_RULES, RULES
from dpnb.testing import check_attribute_rule

Point = namedtuple("Point", "x y")


def scaled_square(t):
    return 3.0 * t * t


def weighted(u, v):
    return u * v + u


def running(acc, x):
    return acc * x + math.sin(x)


def by_abs(v):
    return abs(v)


def is_positive(v):
    return v > 0


def first(p):
    return p[0]


CASES = [
    C(abs, S("nonzero")), C(abs, A((3,), "nonzero")), C(abs, S("complex")),
    C(min, S("real"), 5.0),
    C(min, Seq(list, (S("neg"), S("gt1"), S("unit")))),
    C(max, Seq(tuple, (S("unit"), S("gt1")))),
    C(max, 1.0, S("gt1"), S("unit")),
    C(max, A((4,), "distinct")),
    C(min, Seq(list, (S("gt1"), S("unit"))), key=by_abs),
    C(min, Seq(list, (Seq(tuple, (S("gt1"), S())), Seq(tuple, (S("neg"), S())))), key=first),
    C(max, Seq(tuple, (S("neg"), S())), Seq(tuple, (S("gt1"), S()))),
    C(max, [], default=0.0),
    C(sum, Seq(list, (S(), S(), S()))),
    C(sum, Seq(tuple, (S(), S())), S()),
    C(sum, Seq(list, (A((2,)), A((2,)))), A((2,))),
    C(sum, Seq(list, (S(), A((2,))))),
    C(sum, A((3, 2))),
    C(sum, A((3,), "real", np.float32), rtol=1e-4),
    C(pow, S("pos"), S()),
    C(pow, A((2,), "pos"), 2),
    C(pow, 3, 4, 5, wrt=[]),
    C(float, S()), C(float, 3, wrt=[0]), C(float, np.float32(1.5)), C(float, A(())),
    C(float, "2.5"),
    # (n, d) with n / d == x: ints, whose steps differences cannot follow; the round trip is in
    # tests/regressions/test_values_marked_constant.py
    C(float.as_integer_ratio, 1.5, wrt=[]),
    C(complex, S(), S()), C(complex, S("complex")), C(complex, S("complex"), S()), C(complex, S()),
    C(round, S(), wrt=[]), C(round, S(), 2, wrt=[]),
    C(divmod, S("frac"), S("gt1")),
    C(list, Seq(tuple, (S(), S()))), C(list, A((3,))), C(list, A((2, 2))), C(list, "ab"),
    C(tuple, Seq(list, (S(), S()))), C(tuple, A((2,))), C(tuple, {"a": 1.0}),
    C(zip, Seq(list, (S(), S(), S())), Seq(tuple, (S(), S()))),
    C(zip, A((2,)), Seq(list, (S(), S())), "ab"),
    C(enumerate, Seq(list, (S(), S()))),
    C(enumerate, Seq(tuple, (S(), S())), 1),
    C(reversed, Seq(list, (S(), S(), S()))),
    C(reversed, A((3,))),
    C(sorted, Seq(list, (S("unit"), S("gt1"), S("neg")))),
    C(sorted, Seq(tuple, (S("neg"), S("small"), S("gt1"))), key=by_abs, reverse=True),
    C(sorted, A((4,), "distinct")),
    C(map, scaled_square, Seq(list, (S(), S())), wrt=[1]),
    C(map, math.sin, Seq(tuple, (S(), S(), S())), wrt=[1]),
    C(map, weighted, Seq(list, (S(), S())), Seq(tuple, (S(), S(), S())), wrt=[1, 2]),
    # values away from the predicate's threshold: a small step never changes the selection
    C(filter, is_positive, Seq(list, (S("gt1"), S("neg"), S("pos"))), wrt=[1]),
    C(filter, None, Seq(tuple, (S("nonzero"), False, S("nonzero"))), wrt=[1]),
    C(filter, is_positive, A((4,), "nonzero"), wrt=[1]),
    C(functools.reduce, operator.mul, Seq(list, (S(), S(), S())), wrt=[1]),
    C(functools.reduce, running, Seq(tuple, (S(), S())), S(), wrt=[1, 2]),
    C(functools.reduce, operator.add, Seq(list, (A((2,)), A((2,)))), wrt=[1]),
    C(dict, [("a", 1.5), ("b", 2.5)], wrt=[]),
    C(dict, Seq(list, (Seq(tuple, ("a", S())), Seq(tuple, ("b", S()))))),
    C(dict, {"a": 1.0, "b": 2.0}),
    C(dict, a=1.5, b=np.array([0.5, -2.0])),
    C(dict, {"a": 1.0, "b": 2.0}, b=3.0, c=-0.5),
    C(dict, Seq(list, (Seq(tuple, ("a", S())), Seq(tuple, ("b", S())))), a=0.25),
    C(sum, Seq(list, (S(), S())), start=0.5),
    C(max, [], default=np.array([1.5, -0.5])),
    C(dict.fromkeys, ["a", "b", "c"], S()),
    C(dict.fromkeys, "ab", A((2,))),
    C(dict.fromkeys, ("a",)),
    C(dict.get, {"a": 1.5, "b": 2.5}, "a"),
    C(dict.get, {"a": 1.5}, "z", S()),
    C(dict.values, {"a": 1.5, "b": 2.5}),
    C(dict.items, {"a": 1.5, "b": 2.5}),
    C(dict.keys, {"a": 1.5, "b": 2.5}, wrt=[]),
    C(dict.copy, {"a": 1.5, "b": 2.5}),
    C(list.copy, Seq(list, (S(), S()))),
    C(complex.conjugate, S("complex")),
    # a set of what carries no gradient; vars: an object's own fields (a namespace's dict here)
    C(set, Seq(list, ("a", 2, "a")), wrt=[]), C(set, wrt=[]), C(frozenset, (1, 2, 2), wrt=[]),
    C(vars, types.SimpleNamespace(a=1.5), wrt=[]),
]


test_builtin_rule = table_test(CASES, max_examples=5)


@pytest.mark.parametrize("name", ["real", "imag"])
def test_complex_attribute(name):
    assert check_attribute_rule(complex, name, complex(0.7, -1.3))


def test_every_complex_attribute_rule_has_a_case():
    assert {n for (cls, n) in ATTRIBUTE_RULES if cls is complex} <= {"real", "imag"}


def test_min_and_max_give_ties_to_the_first():
    _, back = RULES[max](2.0, 2.0, 1.0)
    assert back(1.0) == (None, 1.0, None, None)
    _, back = RULES[min]([1.0, 1.0])
    assert back(1.0) == (None, [1.0, None])


def test_min_and_max_of_tuples_pass_none_entries_on():
    _, back = RULES[min]([(1.0, 2.0), (3.0, 4.0)])
    assert back((None, 5.0)) == (None, [(None, 5.0), None])
    _, back = RULES[max]((1.0, 2.0), (3.0, 4.0))
    assert back((None, 5.0)) == (None, None, (None, 5.0))


def test_round_has_a_zero_gradient_of_the_right_kind():
    assert RULES[round](2.6)[1](1.0)[1] == 0.0
    assert RULES[round](Fraction(5, 2))[1](Fraction(1))[1] == Fraction(0)
    out = RULES[round](np.float32(0.5))[1](1.0)[1]
    assert out == 0 and out.dtype == np.float32


def test_sequence_builders_return_lists_and_map_back_to_the_argument_kinds():
    y, back = RULES[zip]((1.0, 2.0), np.array([3.0, 4.0]))
    assert y == [(1.0, 3.0), (2.0, 4.0)]
    _, xs_bar, arr_bar = back([(1.0, None), None])
    assert xs_bar == (1.0, None) and arr_bar is None
    _, xs_bar, arr_bar = back([None, (None, 5.0)])
    assert xs_bar is None
    np.testing.assert_array_equal(arr_bar, [0.0, 5.0])


def test_sum_of_a_namedtuple_gives_the_namedtuple():
    _, back = RULES[sum](Point(1.0, 2.0))
    assert back(1.0)[1] == Point(1.0, 1.0)


def test_float_of_a_fraction_gives_a_fraction():
    _, back = RULES[float](Fraction(1, 3))
    assert back(1.0)[1] == Fraction(1)


def test_reduce_without_items_needs_an_initial_value():
    with pytest.raises(TypeError):
        RULES[functools.reduce](operator.add, [])
    y, back = RULES[functools.reduce](operator.add, [], 2.0)
    assert y == 2.0 and back(1.0) == (None, None, None, 1.0)


def test_dict_keywords_get_their_cotangents_in_a_trailing_dict():
    y, back = RULES[dict]([("a", 1.0), ("b", 2.0)], b=3.0, c=4.0)
    assert y == {"a": 1.0, "b": 3.0, "c": 4.0}
    # the keyword b wins over the pair ("b", 2.0): the pair gets nothing
    assert back({"a": 10.0, "b": 20.0, "c": 30.0}) == (None, [(None, 10.0), None], {"b": 20.0, "c": 30.0})
    assert back({"a": 10.0}) == (None, [(None, 10.0), None])
    y, back = RULES[dict](a=1.5)
    assert back({"a": 2.0}) == (None, {"a": 2.0})


def test_filter_selects_like_python_and_its_predicate_gets_nothing():
    y, back = RULES[filter](is_positive, (1.0, -2.0, 3.0))
    assert y == [1.0, 3.0]
    assert back([10.0, 30.0]) == (None, None, (10.0, None, 30.0))
