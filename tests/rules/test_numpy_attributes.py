"""The attribute table (`.T`, `.mT`, `.real`, `.imag` of arrays, `.real` and `.imag` of
NumPy scalars) and the ndarray methods sharing a function's rule (`conj`, `conjugate`,
`round`)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _tables import A, C, N, table_test
from dpnb.rules.registry import ATTRIBUTE_RULES
from dpnb.testing import check_attribute_rule

F32 = np.float32

CASES = [
    C(np.ndarray.conj, A((2,), "complex")),
    C(np.ndarray.conjugate, A((2,))),
    C(np.ndarray.round, A((3,)), wrt=[]),
]

test_method_rule = table_test(CASES)

#: (class, attribute, argument spec)
ATTRIBUTE_CASES = [
    (np.ndarray, "T", A((2, 3))),
    (np.ndarray, "T", A((2, 3, 4), "real", F32)),
    (np.ndarray, "mT", A((2, 3, 4))),
    (np.ndarray, "real", A((3,), "complex")),
    (np.ndarray, "real", A((3,))),
    (np.ndarray, "imag", A((3,), "complex")),
]
for _t in (np.float16, np.float32, np.float64, np.longdouble):
    ATTRIBUTE_CASES += [(_t, "real", N(_t)), (_t, "imag", N(_t))]
for _t in (np.complex64, np.complex128, np.clongdouble):
    ATTRIBUTE_CASES += [(_t, "real", N(_t, "complex")), (_t, "imag", N(_t, "complex"))]


@pytest.mark.parametrize(
    "cls,name,spec", ATTRIBUTE_CASES, ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", "")
)
@settings(max_examples=3, deadline=None, derandomize=True)
@given(data=st.data())
def test_attribute(cls, name, spec, data):
    x = data.draw(spec.strategy())
    low = np.finfo(x.dtype).bits < 64  # float16, float32, complex64
    rtol = 1e-2 if low else 1e-5
    assert check_attribute_rule(cls, name, x, rtol=rtol, atol=1e-3 if low else 1e-6, eps=1e-3 if low else 1e-6)


def test_numpy_scalars_keep_their_type_and_complex_ones_get_complex_cotangents():
    y, back = ATTRIBUTE_RULES[(np.float32, "real")](np.float32(1.5))
    assert type(back(np.float32(2.0))[1]) is np.float32
    y, back = ATTRIBUTE_RULES[(np.complex128, "real")](np.complex128(1 - 2j))
    assert back(2.0)[1] == 2.0 and isinstance(back(2.0)[1], np.complex128)
    y, back = ATTRIBUTE_RULES[(np.complex128, "imag")](np.complex128(1 - 2j))
    assert back(2.0)[1] == -2j
