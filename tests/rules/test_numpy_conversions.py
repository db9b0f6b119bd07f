"""The conversion table: `np.array` and its kin, scalar types, `astype`, `item`, `tolist`."""
import numpy as np
import pytest

from _tables import A, C, N, S, Seq, table_test

F32 = np.float32

CASES = []
CASES += [
    C(np.array, Seq(list, (S(), S()))),
    C(np.array, Seq(tuple, (A((2,)), A((2,))))),
    C(np.array, A((2, 2))),
    C(np.array, A((3,)), dtype=np.float32, rtol=1e-3, eps=1e-2),
    C(np.asarray, Seq(list, (S(), S(), S()))),
    C(np.asarray, A((2, 3), "real", F32), rtol=1e-4),
    C(np.asanyarray, A((3,))),
    C(np.ascontiguousarray, A((3, 2))),
    C(np.asfortranarray, A((3, 2))),
    C(np.copy, A((3,))),
    C(np.float64, S()),
    C(np.float64, A((3,), "real", F32), rtol=1e-4),
    C(np.float32, A((3,)), rtol=1e-3, atol=1e-4, eps=1e-2),
    C(np.float16, S(), rtol=1e-2, atol=1e-2, eps=1e-2),
    C(np.longdouble, S()),
    C(np.clongdouble, S("complex")),
    C(np.int64, 2.7),
    C(np.int32, np.array([0.5, -1.25, 3.75])),
    C(np.int8, -1.5),
    C(np.uint8, np.array([1, 200])),
    C(np.uint64, np.array([0.7, 2.2])),
    C(np.int16, -3.2),
    C(np.uint16, np.array([1.5, 7.25])),
    C(np.uint32, 4.5),
    C(np.complex128, S("complex")),
    C(np.complex64, A((2,), "complex"), rtol=1e-3, atol=1e-4, eps=1e-2),
    C(np.ndarray.astype, A((3,)), np.float32, rtol=1e-3, atol=1e-4, eps=1e-2),
    C(np.ndarray.astype, A((3,), "real", F32), np.float64, rtol=1e-4),
    C(np.ndarray.astype, A((3,)), int, wrt=[]),
    *([C(np.astype, A((3,)), np.float32, rtol=1e-3, atol=1e-4, eps=1e-2)] if hasattr(np, "astype") else []),
    C(np.ndarray.copy, A((2, 2))),
    C(np.ndarray.item, A((1,))),
    C(np.ndarray.item, A((2, 3)), 4),
    C(np.ndarray.item, A((2, 3)), (1, 2)),
    C(np.ndarray.tolist, A((2, 3))),
    # the methods of NumPy's scalars
    C(np.generic.astype, N(np.float64), np.float32, rtol=1e-3, atol=1e-4, eps=1e-2),
    C(np.generic.astype, N(np.float64), np.complex128),
    C(np.generic.astype, N(np.float64), np.int64, wrt=[]),
    C(np.generic.copy, N(np.float64)),
    C(np.generic.item, N(np.float64)),
    C(np.generic.tolist, N(np.float64)),
]


test_conversion_rule = table_test(CASES)


def test_methods_of_float32_and_complex_scalars():
    """(The table checks a float32 or complex scalar argument as a Python number, which a scalar's
    method refuses.)"""
    from dpnb import gradient

    def f(x):
        s = np.float32(x)
        return s.astype(np.float64) * 3.0 + s.item() * x + s.tolist() ** 2

    assert gradient(f, 0.75)[0] == pytest.approx(3.0 + 2 * 0.75 + 2 * 0.75, rel=1e-6)

    def g(x):  # a complex scalar's: |(1 + 2j) x| through complex64
        z = np.complex128(x * (1 + 2j))
        return abs(z.astype(np.complex64).item()) + z.real

    assert gradient(g, 0.75)[0] == pytest.approx(5 ** 0.5 + 1.0, rel=1e-6)
