"""The ufunc-method table: add/multiply/maximum/minimum reduce and add/multiply accumulate (axis 0
by default, other axes, keepdims, initial=), the outer forms of add, subtract and multiply, and
the call of an `np.vectorize` object (its function differentiated on each entry)."""
import numpy as np

from _tables import A, C, S, table_test


def _bump(t, s):
    return t * s + s**2 if t > 0 else -t * s

CASES = [
    C(np.add.reduce, A((2, 3))),
    C(np.add.reduce, A((2, 3)), 1),
    C(np.add.reduce, A((2, 3, 2)), axis=(0, 2), keepdims=True),
    C(np.add.reduce, A((3,)), initial=1.5),
    C(np.add.reduce, A((4,), "real", np.float32), rtol=1e-3, atol=1e-4),
    C(np.multiply.reduce, A((3, 2), "nonzero")),
    C(np.multiply.reduce, A((2, 3), "nonzero"), axis=1, initial=2.0),
    C(np.multiply.reduce, np.array([2.0, 0.0, 3.0])),
    C(np.maximum.reduce, A((3, 2), "distinct")),
    C(np.maximum.reduce, A((2, 3, 2), "distinct"), 1, None, None, True),
    C(np.maximum.reduce, A((3,), "distinct"), initial=-5.0),
    C(np.minimum.reduce, A((2, 3), "distinct"), axis=(0, 1)),
    C(np.minimum.reduce, A((4,), "distinct"), 0, None, None, False, 5.0),
    C(np.add.accumulate, A((3, 2))),
    C(np.add.accumulate, A((2, 3)), 1),
    C(np.multiply.accumulate, A((4,), "nonzero")),
    C(np.multiply.accumulate, A((2, 3), "nonzero"), axis=1),
    C(np.add.outer, A((2,)), A((3,))),
    C(np.add.outer, A((2, 2)), S()),
    C(np.subtract.outer, A((3,)), A((2, 2))),
    C(np.subtract.outer, S(), A((2,))),
    C(np.multiply.outer, A((2,)), A((3, 2))),
    C(np.multiply.outer, S(), A((3,))),
    C(np.multiply.outer, A((2,), "complex"), A((2,))),
    C(np.vectorize.__call__, np.vectorize(_bump), A((2, 3), "nonzero"), A((3,)), wrt=(1, 2)),
    C(np.vectorize.__call__, np.vectorize(_bump, otypes=[float]), A((3,), "nonzero"), S(), wrt=(1, 2)),
]

test_ufunc_method_rule = table_test(CASES)


def test_the_bound_methods_are_found_however_they_are_looked_up():
    from dpnb.rules.registry import RULES

    add = np.add
    assert RULES.get(add.reduce) is RULES[np.add.reduce]
    assert np.logaddexp.reduce not in RULES
