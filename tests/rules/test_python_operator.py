"""The `operator` rule table: numbers of every kind, arrays with broadcasting, sequences."""
import operator
from collections import namedtuple
from fractions import Fraction

import numpy as np
import pytest

from _tables import A, C, S, Seq, table_test
from dpnb.rules.registry import RULES, SCALAR_RULES

Pair = namedtuple("Pair", "a b")

_ARITH = {
    operator.add: ("real", "real"),
    operator.sub: ("real", "real"),
    operator.mul: ("real", "real"),
    operator.truediv: ("real", "nonzero"),
    operator.mod: ("frac", "gt1"),
    operator.pow: ("pos", "real"),
}
_INPLACE = {
    operator.iadd: operator.add, operator.isub: operator.sub, operator.imul: operator.mul,
    operator.itruediv: operator.truediv, operator.imod: operator.mod, operator.ipow: operator.pow,
}

CASES = []
for _f, (_d1, _d2) in _ARITH.items():
    CASES += [
        C(_f, S(_d1), S(_d2)),
        C(_f, A((2, 3), _d1), A((3,), _d2)),
        C(_f, S(_d1), A((2,), _d2)),
        C(_f, A((2, 1), _d1, np.float32), A((1, 3), _d2, np.float32), rtol=2e-3, atol=2e-4),
        C(_f, A((), _d1), A((2,), _d2)),
    ]
for _f, _g in _INPLACE.items():
    _d1, _d2 = _ARITH[_g]
    CASES += [C(_f, S(_d1), S(_d2)), C(_f, A((2, 3), _d1), A((3,), _d2))]
CASES += [
    C(operator.add, 3, S(), wrt=[0, 1]),
    C(operator.mul, 2, 5, wrt=[0, 1]),
    C(operator.mul, S(), True),
    C(operator.add, S("complex"), S("complex")),
    C(operator.mul, S("complex"), S()),
    C(operator.truediv, S("complex"), S("complex")),
    C(operator.add, np.float64(1.5), S()),
    C(operator.mul, np.float32(1.5), A((2,)), rtol=1e-4),
    C(operator.add, Seq(list, (S(), S())), Seq(list, (S(),))),
    C(operator.add, Seq(tuple, (S(),)), Seq(tuple, (S(), S()))),
    C(operator.concat, Seq(list, (S(), S())), Seq(list, (S(),))),
    C(operator.iconcat, Seq(list, (S(),)), Seq(list, (S(), S()))),
    C(operator.iadd, Seq(list, (S(),)), Seq(tuple, (S(), S()))),
    C(operator.mul, Seq(list, (S(), S())), 3),
    C(operator.mul, 2, Seq(tuple, (S(), S()))),
    C(operator.imul, Seq(list, (S(),)), 2),
    C(operator.add, "ab", "c"),
    C(operator.mod, "x=%s", 3.0, wrt=[]),
    C(operator.floordiv, S("frac"), S("gt1"), wrt=[]),
    C(operator.floordiv, A((3,), "pos"), S("gt1"), wrt=[]),
    C(operator.ifloordiv, S("pos"), S("gt1"), wrt=[]),
    C(operator.pow, S("pos"), 3),
    C(operator.pow, -2.0, 3, wrt=[0]),
    C(operator.pow, 0.0, 2.0, wrt=[0]),
    C(operator.pow, A((3,), "real"), 2),
    C(operator.pow, A((3,), "int"), 2, wrt=[0]),
    C(operator.pow, S("pos"), A((3,))),
    C(operator.pow, A((3,), "pos"), A((2, 3))),
    C(operator.pow, S("complex"), 2),
    C(operator.matmul, A((2, 3)), A((3,))),
    C(operator.matmul, A((3,)), A((3, 2))),
    C(operator.matmul, A((2, 2, 3)), A((3, 4))),
    C(operator.imatmul, A((2, 2)), A((2, 2))),
    C(operator.neg, S()), C(operator.neg, A((2, 3))), C(operator.neg, S("complex")),
    C(operator.pos, S()), C(operator.pos, A((2,), "real", np.float32), rtol=1e-4),
    C(operator.abs, S("nonzero")), C(operator.abs, A((3,), "nonzero")), C(operator.abs, S("complex")),
    C(operator.abs, A((2,), "complex")),
    C(operator.getitem, Seq(list, (S(), S(), S())), 1),
    C(operator.getitem, Seq(tuple, (S(), S(), S())), -1),
    C(operator.getitem, Seq(list, (S(), S(), S(), S())), slice(1, None, 2)),
    C(operator.getitem, Seq(tuple, (S(), S())), slice(None, None, -1)),
    C(operator.getitem, {"a": 1.5, "b": 2.5}, "b"),
    C(operator.getitem, A((4, 3)), 2),
    C(operator.getitem, A((4, 3)), (slice(None), slice(0, 2))),
    C(operator.getitem, A((4, 3)), (Ellipsis, None, -1)),
    C(operator.getitem, A((4, 3)), [0, 3, 0]),
    C(operator.getitem, A((4, 3)), (np.array([0, 0, 1]), np.array([2, 2, 0]))),
    C(operator.getitem, A((4, 3)), np.array([True, False, False, True])),
    C(operator.getitem, A((4,), "real", np.float32), np.array([1, 1]), rtol=1e-4),
    C(operator.getitem, A((3,), "int"), 1, wrt=[0]),
    C(operator.getitem, np.float64(2.5), ()),
    C(operator.getitem, "abc", 1),
    C(operator.getitem, Pair(1.0, 2.0), 1),
    C(operator.itemgetter.__call__, operator.itemgetter(1), Seq(list, (S(), S(), S()))),
    C(operator.itemgetter.__call__, operator.itemgetter(0, 2, 0), A((3,))),
    C(operator.itemgetter.__call__, operator.itemgetter("b"), {"a": 1.5, "b": 2.5}),
]

# the unary slots called as methods (`x.__neg__()`, `float.__abs__(x)`): the operators' rules
CASES += [
    C(float.__neg__, S()), C(float.__pos__, S()), C(float.__abs__, S("nonzero")),
    C(int.__neg__, 3, wrt=[]), C(int.__pos__, -2, wrt=[]), C(int.__abs__, -4, wrt=[]),  # (differences need floats)
    C(complex.__neg__, S("complex")), C(complex.__pos__, S("complex")), C(complex.__abs__, S("complex")),
]  # (ndarray's and NumPy scalars': in test_numpy_ufuncs.py, whose rows tests/arrays sweeps with Dask)

# a real operand of a complex operation gets a real cotangent, a complex one a complex cotangent
for _f in (operator.add, operator.sub, operator.mul, operator.truediv):
    CASES += [
        C(_f, S("nonzero"), S("complex")),
        C(_f, S("complex"), S("nonzero")),
        C(_f, A((2,), "nonzero"), S("complex")),
        C(_f, S("complex"), A((2,), "nonzero")),
        C(_f, A((2,), "nonzero"), A((2,), "complex")),
    ]


test_operator_rule = table_test(CASES, max_examples=5)


def test_fractions_stay_exact():
    a, b = Fraction(1, 3), Fraction(2, 5)
    one = Fraction(1)
    for f in (operator.add, operator.sub, operator.mul, operator.truediv, operator.mod):
        _, back = RULES[f](a, b)
        bars = back(one)
        assert all(type(t) is Fraction for t in bars[1:]), f
    _, back = RULES[operator.pow](a, 3)
    assert back(one)[1] == 3 * a**2
    _, back = RULES[operator.floordiv](a, b)
    assert back(one)[1:] == (Fraction(0), Fraction(0))


def test_the_inlinable_partials_agree_with_the_rules():
    a, b = 1.5, -0.75
    for f in (operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.pos):
        sr = SCALAR_RULES[f]
        args = (a,) if len(sr.argnames) == 1 else (a, b)
        y, back = RULES[f](*args)
        env = dict(sr.namespace, y=y, **dict(zip(sr.argnames, args)))
        partials = [eval(compile(__import__("ast").Expression(p), "<p>", "eval"), env) for p in sr.partials]
        assert tuple(2.0 * d for d in partials) == back(2.0)[1:], f


def test_pow_edge_cases():
    _, back = RULES[operator.pow](0.0, 0.5)  # infinite slope at 0
    assert back(1.0)[1] == float("inf")
    _, back = RULES[operator.pow](np.array([0.0, 2.0]), 0)  # b == 0: zero slope, no 0 ** -1
    np.testing.assert_array_equal(back(np.ones(2))[1], [0.0, 0.0])
    _, back = RULES[operator.pow](np.array([1.0, 2.0]), 3)  # integer exponent of an array
    assert back(np.ones(2))[2] is None
    _, back = RULES[operator.pow](-2.0, 2.0)
    assert np.isnan(back(1.0)[2])
    _, back = RULES[operator.pow](0.0, 2.0)
    assert back(1.0)[2] == 0.0


def test_bools_and_strings_get_no_cotangent():
    _, back = RULES[operator.mul](True, 2.5)
    assert back(1.0)[1] is None
    _, back = RULES[operator.add](np.array([True, False]), np.ones(2))
    assert back(np.ones(2))[1] is None
    _, back = RULES[operator.getitem]("abc", 0)
    assert back("x")[1] is None


def test_inplace_operators_mutate_like_python_and_differentiate_the_old_value():
    a = np.array([1.0, 2.0])
    y, back = RULES[operator.imul](a, 3.0)
    assert y is a and a.tolist() == [3.0, 6.0]
    a[:] = 100.0  # later mutation must not change the pullback
    assert back(np.ones(2))[2] == 3.0
    xs = [1.0]
    y, back = RULES[operator.iadd](xs, [2.0])
    assert y is xs and xs == [1.0, 2.0]
    assert back([10.0, 20.0])[1:] == ([10.0], [20.0])


def test_abs_of_a_complex_number_under_second_differentiation():
    """Differentiating abs's pullback `Re(y_bar) * conj(z) / |z|` with dpnb itself agrees with
    central differences (a complex cotangent reaching the real |z| must not count)."""
    import dpnb

    v = 0.3 - 1.1j

    def first(z):
        _, back = RULES[operator.abs](z)
        return (back(1.0)[1] * v).real

    def first_array(z):
        _, back = RULES[operator.abs](z)
        return np.sum((back(np.ones(2))[1] * v).real)

    eps = 1e-6
    z = 0.8 + 0.6j
    want = complex(
        (first(z + eps) - first(z - eps)) / (2 * eps), -(first(z + 1j * eps) - first(z - 1j * eps)) / (2 * eps)
    )
    assert dpnb.gradient(first, z)[0] == pytest.approx(want, rel=1e-6, abs=1e-8)
    za = np.array([0.8 + 0.6j, -1.2 + 0.1j])
    want = []
    for i in range(2):
        e = np.zeros(2)
        e[i] = eps
        want.append(complex((first_array(za + e) - first_array(za - e)) / (2 * eps),
                            -(first_array(za + 1j * e) - first_array(za - 1j * e)) / (2 * eps)))
    np.testing.assert_allclose(dpnb.gradient(first_array, za)[0], want, rtol=1e-6, atol=1e-8)


def test_abs_counts_only_the_real_part_of_its_cotangent():
    _, back = RULES[operator.abs](3 + 4j)
    assert back(2.0 + 5.0j)[1] == pytest.approx(2.0 * (3 - 4j) / 5)
    _, back = RULES[operator.abs](np.array([3 + 4j]))
    np.testing.assert_allclose(back(np.array([2.0 + 5.0j]))[1], [2.0 * (3 - 4j) / 5])


def test_getitem_of_an_unknown_container_says_so():
    from dpnb.errors import DifferentiationError

    class Box:
        def __getitem__(self, i):
            return 1.0

    _, back = RULES[operator.getitem](Box(), 0)
    with pytest.raises(DifferentiationError, match="Box"):
        back(1.0)
