"""The reduction table: sum, mean, var, std, prod, max/min, nansum/nanmean, cumsum/cumprod, bincount."""
import numpy as np

from _tables import A, C, S, Seq, table_test

F32 = np.float32

CASES = []
for _f in (np.sum, np.mean, np.ndarray.sum, np.ndarray.mean, np.nansum, np.nanmean):
    CASES += [
        C(_f, A((2, 3))),
        C(_f, A((2, 3, 2)), axis=(0, 2)),
        C(_f, A((2, 3)), axis=1, keepdims=True),
        C(_f, A((4,), "real", F32), rtol=1e-3, atol=1e-4),
    ]
CASES += [
    C(np.var, A((4,), "complex")),
    C(np.std, A((2, 3), "complex"), axis=1),
    # one entry (ddof=0): the spread is 0, and so is its gradient (not nan)
    C(np.std, A((1,))),
    C(np.var, A((1,))),
    C(np.std, A((3, 1)), axis=1),
]
CASES += [
    C(np.sum, A((2, 3)), 0),
    C(np.sum, A((2, 3)), initial=1.5),
    C(np.sum, A((2, 3)), 1, None, None, False, 0.5),
    C(np.ndarray.sum, A((2, 3)), axis=0, initial=np.float64(-0.5)),
    C(np.sum, Seq(list, (S(), S()))),
    C(np.sum, A((3,), "int"), wrt=[0]),
    C(np.sum, A((2, 3)), axis=-1, where=np.array([True, False, True])),
    C(np.mean, A((2, 3)), axis=0, where=np.array([[True, False, True], [True, True, False]])),
    C(np.sum, A((2,), "complex")),
]
CASES += [
    C(np.average, A((2, 3))),
    C(np.average, A((2, 3)), 1),
    C(np.average, A((2, 3)), axis=0, keepdims=True),
    C(np.average, A((2, 3)), weights=np.array([[1.0, 2.0, 0.5], [0.25, 1.5, 3.0]])),
    C(np.average, A((2, 3)), 1, A((3,), "pos")),
    C(np.average, A((2, 3)), 1, A((3,), "pos"), True),
    C(np.average, A((2, 3, 2)), axis=(2, 0), weights=np.array([[1.0, 2.0], [0.5, 3.0]])),
    C(np.average, A((3, 2)), axis=0, weights=np.array([0.5, 1.0, 2.0]), returned=True, keepdims=True),
    C(np.average, A((3,), "complex"), 0, A((3,), "pos")),
]
# bincount: each weight is summed into its bin (an index that repeats, a bin that stays empty)
CASES += [
    C(np.bincount, np.array([0, 2, 2, 4]), A((4,))),
    C(np.bincount, np.array([1, 1, 0]), A((3,)), minlength=4),
    C(np.bincount, np.array([3, 0]), A((2,)), 6),
]
for _f in (np.var, np.std, np.ndarray.var, np.ndarray.std):
    CASES += [
        C(_f, A((5,), "distinct")),
        C(_f, A((3, 4), "distinct"), axis=1, ddof=1),
        C(_f, A((3, 4), "distinct"), axis=0, keepdims=True),
    ]
for _f in (np.prod, np.ndarray.prod):
    CASES += [
        C(_f, A((4,), "nonzero")),
        C(_f, A((2, 3, 2), "real"), axis=(0, 2)),
        C(_f, A((2, 3), "real"), axis=1, keepdims=True),
    ]
CASES += [
    C(np.prod, np.array([2.0, 0.0, 3.0])),
    C(np.prod, np.array([[0.0, 0.0, 3.0], [1.0, 2.0, 0.0]]), axis=1),
    C(np.prod, A((3,), "pos"), initial=2.0),
]
for _f in (np.max, np.min, np.amax, np.amin, np.ndarray.max, np.ndarray.min):
    CASES += [
        C(_f, A((5,), "distinct")),
        C(_f, A((3, 4), "distinct"), axis=1),
        C(_f, A((2, 3, 2), "distinct"), axis=(0, 2), keepdims=True),
    ]
CASES += [
    C(np.max, np.array([1.0, 3.0, 3.0]), wrt=[], name="max-ties"),
    # initial= is one more candidate: here it never wins, then always
    C(np.max, A((4,), "distinct"), initial=-5.0),
    C(np.max, A((2, 3), "distinct"), axis=1, initial=5.0),
    C(np.min, A((2, 3), "distinct"), axis=0, keepdims=True, initial=-5.0),
    C(np.ndarray.max, A((3, 2), "distinct"), 0, None, False, 5.0),
    C(np.prod, A((2, 3), "nonzero"), axis=1, initial=-1.5),
    C(np.ndarray.prod, A((3,), "nonzero"), initial=2.0),
]
for _f in (np.cumsum, np.ndarray.cumsum, np.cumprod, np.ndarray.cumprod):
    CASES += [C(_f, A((4,), "nonzero")), C(_f, A((2, 3), "nonzero"), axis=1), C(_f, A((2, 3), "nonzero"), 0)]
CASES += [C(np.cumprod, np.array([[1.0, 0.0, 2.0, 3.0], [0.0, 2.0, 0.0, 1.5]]), axis=1)]


test_reduction_rule = table_test(CASES)
