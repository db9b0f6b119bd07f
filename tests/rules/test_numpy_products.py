"""The products table: matmul, dot, inner, outer, vdot, cross (axis options, 2-vectors),
tensordot, kron, convolve and correlate (every mode), and the diagonal family."""
import warnings

import numpy as np
import pytest

from _tables import A, C, S, Seq, table_test

# np.cross of 2-vectors still works in NumPy 2, with a DeprecationWarning
pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")

F32 = np.float32

CASES = []
CASES += [
    C(np.matmul, A((2, 3)), A((3, 4))),
    C(np.matmul, A((3,)), A((3,))),
    C(np.matmul, A((3,)), A((2, 3, 4))),
    C(np.matmul, A((2, 2, 3)), A((3,))),
    C(np.matmul, A((2, 1, 2, 3)), A((3, 3, 2))),
    C(np.matmul, A((2, 3), "real", F32), A((3, 2), "real", F32), rtol=1e-3, atol=1e-4),
    C(np.matmul, A((2, 2), "complex"), A((2, 2), "complex")),
    # a real factor of a complex product gets a real cotangent
    C(np.matmul, A((2, 3)), A((3, 2), "complex")),
    C(np.matmul, A((3,), "complex"), A((3, 2))),
    C(np.dot, A((2, 3), "complex"), A((3,))),
    C(np.dot, S(), A((2,), "complex")),
    C(np.outer, A((2,)), A((3,), "complex")),
    C(np.inner, A((3,), "complex"), A((2, 3))),
    C(np.vdot, A((3,)), A((3,), "complex")),
    C(np.tensordot, A((2, 3), "complex"), A((3, 2)), 1),
    C(np.einsum, "ij,j->i", A((2, 3)), A((3,), "complex")),
    C(np.trace, A((3, 3), "complex")),
    C(np.dot, A((2, 3)), A((3,))),
    C(np.dot, A((2, 3, 4)), A((5, 4, 2))),
    C(np.dot, S(), A((2,))),
    C(np.dot, A((3,)), A((3,))),
    C(np.ndarray.dot, A((2, 3)), A((3, 2))),
    C(np.inner, A((2, 3)), A((4, 3))),
    C(np.inner, A((3,)), S()),
    C(np.outer, A((3,)), A((2, 2))),
    C(np.vdot, A((2, 2)), A((4,))),
    C(np.vdot, A((3,), "complex"), A((3,), "complex")),
    C(np.cross, A((3,)), A((2, 3))),
    C(np.cross, A((3, 2)), A((3,)), axisa=0),
    C(np.cross, A((2, 3)), A((3, 2)), axisb=0, axisc=0),
    C(np.cross, A((3, 4)), A((3, 4)), axis=0),
    C(np.cross, A((2, 3)), A((3,)), 1, 0, 0),
    C(np.cross, A((3,), "complex"), A((3,))),
    C(np.cross, A((2, 3)), A((2,))),
    C(np.cross, A((2,)), A((2, 3)), axisc=0),
    C(np.tensordot, A((2, 3, 4)), A((4, 3, 5)), ((1, 2), (1, 0))),
    C(np.tensordot, A((2, 3)), A((3, 2)), 1),
    C(np.tensordot, A((2, 3)), A((4,)), 0),
    C(np.tensordot, A((3, 2, 4)), A((4, 3)), axes=([2, 0], [0, 1])),
    C(np.tensordot, A((2, 3)), b=np.array([[0.5, 1.0], [1.5, -2.0], [0.25, 3.0]]), axes=1),
    C(np.tensordot, a=np.array([1.5, -0.5]), b=np.array([[0.5, 1.0], [2.0, 3.0]]), axes=1),
    C(np.kron, A((2, 3)), A((2, 2))),
    C(np.kron, A((3,)), A((2,))),
    C(np.kron, A((2,)), A((2, 3))),
    C(np.kron, A((2, 1, 2)), A((3, 2))),
    C(np.kron, S(), A((2,))),
    C(np.kron, A((2,), "complex"), A((2,), "complex")),
    C(np.convolve, A((5,)), A((3,))),
    C(np.convolve, A((3,)), A((5,)), "same"),
    C(np.convolve, A((4,)), A((4,)), mode="same"),
    C(np.convolve, A((6,)), A((3,)), "valid"),
    C(np.convolve, A((2,)), A((5,)), mode="valid"),
    C(np.convolve, A((4,)), A((2,)), "same"),
    C(np.convolve, A((3,), "complex"), A((2,))),
    C(np.convolve, Seq(list, (S(), S())), A((3,))),
    C(np.correlate, A((5,)), A((3,))),
    C(np.correlate, A((3,)), A((5,)), "same"),
    C(np.correlate, A((4,)), A((4,)), mode="full"),
    C(np.correlate, A((2,)), A((5,)), "valid"),
    C(np.correlate, A((4,), "complex"), A((3,), "complex"), "full"),
    C(np.correlate, A((3,)), A((2,), "complex")),
    C(np.trace, A((3, 3))),
    C(np.trace, A((3, 4)), 1),
    C(np.trace, A((2, 3, 3)), 0, 1, 2),
    C(np.ndarray.trace, A((3, 3)), -1),
    C(np.diagonal, A((3, 4))),
    C(np.diagonal, A((2, 3, 3)), 1, 1, 2),
    C(np.ndarray.diagonal, A((4, 3)), -1),
    C(np.diag, A((3,))),
    C(np.diag, A((3,)), 1),
    C(np.diag, A((3, 4)), -1),
    C(np.tril, A((3, 3))),
    C(np.tril, A((2, 3, 3)), -1),
    C(np.tril, A((3,))),
    C(np.triu, A((3, 4)), 1),
]


test_product_rule = table_test(CASES)


def test_cross_of_two_2_vectors_gives_the_third_component_its_gradient():
    from dpnb.rules.registry import RULES

    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 2-vectors are deprecated in NumPy 2
        y, back = RULES[np.cross](a, b)
    assert y == 1.0 * -1.0 - 2.0 * 3.0
    _, a_bar, b_bar = back(2.0)[:3]
    np.testing.assert_array_equal(a_bar, [2.0 * -1.0, -2.0 * 3.0])  # d/da (a0 b1 - a1 b0)
    np.testing.assert_array_equal(b_bar, [-2.0 * 2.0, 2.0 * 1.0])
