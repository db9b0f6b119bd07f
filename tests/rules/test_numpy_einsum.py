"""The einsum table: explicit and implicit outputs, diagonals, ellipses, broadcasting, three operands."""
import numpy as np

from _tables import A, C, table_test

F32 = np.float32

CASES = []
CASES += [
    C(np.einsum, A((2, 3)), [0, 1], A((3, 4)), [1, 2], [0, 2]),
    C(np.einsum, A((2, 3)), [0, 1], A((3, 4)), [1, 2]),
    C(np.einsum, A((3, 3)), [0, 0]),
    C(np.einsum, A((3, 3)), [0, 0], [0]),
    C(np.einsum, A((2, 2, 3)), [Ellipsis, 1], A((3,)), [1], [Ellipsis]),
    C(np.einsum, A((2, 3)), [0, 1], A((1, 3)), [0, 1], A((3,)), [1], [0]),
    C(np.einsum, A((2,), "complex"), [0], A((2,)), [0]),
    C(np.einsum, "ij,jk->ik", A((2, 3)), A((3, 4))),
    C(np.einsum, "ij,jk", A((2, 3)), A((3, 4))),
    C(np.einsum, "ii->i", A((3, 3))),
    C(np.einsum, "ii", A((3, 3))),
    C(np.einsum, "ij->", A((2, 3))),
    C(np.einsum, "i,i", A((3,)), A((3,))),
    C(np.einsum, "i,j->ij", A((3,)), A((2,))),
    C(np.einsum, "bij,bjk->bik", A((2, 2, 3)), A((2, 3, 2))),
    C(np.einsum, "...ij,...jk->...ik", A((2, 2, 3)), A((3, 2))),
    C(np.einsum, "...i,...i", A((2, 3)), A((1, 3))),
    C(np.einsum, "ij,ij,j->i", A((2, 3)), A((1, 3)), A((3,))),
    C(np.einsum, "iij,k->jk", A((2, 2, 3)), A((2,))),
    C(np.einsum, "ba,aC", A((2, 3)), A((3, 2))),
    C(np.einsum, "ij,jk,kl->il", A((2, 3)), A((3, 3)), A((3, 2)), optimize=True),
]


test_einsum_rule = table_test(CASES)
