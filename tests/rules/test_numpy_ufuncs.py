"""The ufunc table: every elementwise rule of `dpnb/rules/numpy/ufuncs.py`, on inputs drawn in
each function's domain, real and complex, float64 and float32."""
import numpy as np

from _tables import A, C, S, table_test

F32 = np.float32

CASES = []
UNARY_DOMAINS = {
    np.negative: "real", np.positive: "real", np.reciprocal: "nonzero", np.square: "real",
    np.sqrt: "pos", np.cbrt: "nonzero", np.exp: "real", np.exp2: "real", np.expm1: "real",
    np.log: "pos", np.log2: "pos", np.log10: "pos", np.log1p: "pos", np.sin: "real",
    np.cos: "real", np.tan: "unit", np.arcsin: "unit", np.arccos: "unit", np.arctan: "real",
    np.sinh: "real", np.cosh: "real", np.tanh: "real", np.arcsinh: "real", np.arccosh: "gt1",
    np.arctanh: "unit", np.deg2rad: "real", np.radians: "real", np.rad2deg: "real",
    np.degrees: "real", np.fabs: "nonzero", np.absolute: "nonzero", np.conjugate: "real",
    np.real: "real", np.sinc: "nonzero",
}

BINARY_DOMAINS = {
    np.add: ("real", "real"), np.subtract: ("real", "real"), np.multiply: ("real", "real"),
    np.divide: ("real", "nonzero"), np.power: ("pos", "real"), np.float_power: ("pos", "real"),
    np.arctan2: ("nonzero", "nonzero"), np.hypot: ("nonzero", "nonzero"),
    np.logaddexp: ("real", "real"), np.logaddexp2: ("real", "real"),
    np.maximum: ("distinct", "distinct"), np.minimum: ("distinct", "distinct"),
    np.fmax: ("distinct", "distinct"), np.fmin: ("distinct", "distinct"),
    np.remainder: ("frac", "gt1"), np.fmod: ("frac", "gt1"), np.copysign: ("nonzero", "nonzero"),
}

for _f, _d in UNARY_DOMAINS.items():
    CASES += [C(_f, A((3,), _d)), C(_f, A((2, 3), _d, F32), rtol=2e-3, atol=2e-4)]
for _f, (_d1, _d2) in BINARY_DOMAINS.items():
    CASES += [
        C(_f, A((2, 3), _d1), A((3,), _d2)),
        C(_f, A((2, 1), _d1, F32), A((1, 3), _d2, F32), rtol=2e-3, atol=2e-4),
    ]
# a real operand of a complex operation gets a real cotangent, a complex one a complex cotangent
for _f in (np.add, np.subtract, np.multiply, np.divide):
    CASES += [
        C(_f, A((2, 3), "nonzero"), A((3,), "complex")),
        C(_f, A((3,), "complex"), S("nonzero")),
        C(_f, S("complex"), A((2,), "nonzero")),
        C(_f, S("nonzero"), S("complex")),
    ]
CASES += [
    C(np.add, S(), A((2,), "real")),
    C(np.multiply, A((2, 2)), S()),
    C(np.multiply, [1.0, 2.0], A((2,))),
    C(np.power, A((3,), "pos"), 3),
    C(np.power, A((3,), "real"), 2),
    C(np.power, S("pos"), A((3,), "real")),
    C(np.power, A((3,), "pos"), A((3,), "complex")),
    C(np.power, A((3,), "cright"), S("pos")),
    C(np.ldexp, A((3,)), np.array([1, -2, 0])),
    # the second argument is the value where the first is 0
    C(np.heaviside, np.array([0.0, 1.5, -2.0, 0.0]), A((4,)), wrt=[1]),
    C(np.heaviside, np.array([[0.0], [-1.0]]), A((3,)), wrt=[1]),
    C(np.sin, A((3,), "complex")),
    C(np.exp, A((2,), "complex")),
    C(np.multiply, A((2,), "complex"), A((2,), "complex")),
    C(np.absolute, A((3,), "complex")),
    C(np.conjugate, A((3,), "complex")),
    C(np.conj, A((3,), "complex")),
    C(np.real, A((3,), "complex")),
    C(np.imag, A((3,), "complex")),
    C(np.real, S("complex")),
    C(np.imag, S("complex")),
    C(np.absolute, S("complex")),
    C(np.angle, A((3,), "cright")),
    C(np.angle, A((2,), "cright"), True),
    C(np.angle, A((3,), "nonzero")),
    C(np.angle, S("cright")),
    C(np.floor_divide, A((3,), "pos"), A((3,), "gt1"), wrt=[]),
    # non-finite entries pass no gradient; the constants replacing them get it (finite
    # replacements everywhere, so that the finite differences stay exact)
    C(np.nan_to_num, A((2, 3))),
    C(np.nan_to_num, np.array([1.0, np.nan, np.inf, -np.inf, 2.0]), nan=1.5, posinf=9.0, neginf=-9.0),
    C(np.nan_to_num, np.array([[np.nan, 0.5], [np.inf, np.nan]]), False, 0.25, -3.0, name="nan_to_num-positional"),
    # (non-finite real parts only: dpnb.testing rebuilds complex numbers as re + 1j * im)
    C(np.nan_to_num, np.array([complex(np.nan, 1.0), complex(np.inf, 2.0), 1 - 1j]), nan=0.5, posinf=4.0),
    C(np.round, A((3,)), wrt=[]),
    C(np.around, A((3,)), 1, wrt=[]),
]


test_ufunc_rule = table_test(CASES)


def test_nan_to_num_treats_real_and_imaginary_parts_separately():
    from dpnb.rules.registry import RULES

    x = np.array([complex(np.nan, 1.0), complex(2.0, np.inf), 1 - 1j])
    y, back = RULES[np.nan_to_num](x, nan=0.5, posinf=4.0)
    np.testing.assert_array_equal(y, [0.5 + 1j, 2 + 4j, 1 - 1j])
    _, x_bar, kw = back(np.array([1 + 2j, 3 + 4j, 5 + 6j]))
    # Re(x_bar * dx): the finite parts pass through, nan/inf parts pass nothing
    np.testing.assert_array_equal(x_bar, [2j, 3, 5 + 6j])
    # Re(y_bar * dy) for dy = dnan in a real part, dy = 1j * dposinf in an imaginary part
    assert kw == {"nan": 1.0, "posinf": -4.0}


def test_nan_to_num_without_a_copy_still_knows_which_entries_were_not_finite():
    from dpnb.rules.registry import RULES

    x = np.array([1.0, np.nan, np.inf])
    _, back = RULES[np.nan_to_num](x, False)
    assert np.isfinite(x).all()  # changed in place, as NumPy does
    np.testing.assert_array_equal(back(np.ones(3))[1], [1.0, 0.0, 0.0])


# the unary slots of arrays and NumPy scalars called as methods (`a.__neg__()`; rules in
# dpnb/rules/python/operator_rules.py, beside the operators')
CASES += [
    C(np.ndarray.__neg__, A((2, 3))), C(np.ndarray.__pos__, A((3,))), C(np.ndarray.__abs__, A((3,), "nonzero")),
    C(np.ndarray.__abs__, A((2,), "complex")),
    C(np.generic.__neg__, np.float64(1.5)), C(np.generic.__pos__, np.float64(-0.5)),
    C(np.generic.__abs__, np.float64(-2.5)),
]
test_unary_slot_rule = table_test(CASES[-7:], max_examples=5)
