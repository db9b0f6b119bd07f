"""The constructors table: arrays built from values (`full`, `full_like`, `meshgrid`, `arange`).
Each row is gradchecked with respect to the values it is built from."""
import numpy as np

from _tables import A, C, table_test

CASES = [
    C(np.full, (2, 3), 1.5, wrt=[1]),
    C(np.full, (2, 3), A((3,)), wrt=[1]),
    C(np.full, (4, 2, 3), A((2, 1)), wrt=[1]),
    C(np.full, 3, A(()), wrt=[1]),
    C(np.full_like, A((2, 3)), 0.7, wrt=[1]),
    C(np.full_like, A((2, 3)), A((3,)), wrt=[1]),
    C(np.meshgrid, A((3,)), A((2,))),
    C(np.meshgrid, A((3,)), A((2,)), indexing="ij"),
    C(np.meshgrid, A((3,)), A((2,)), A((4,))),
    C(np.meshgrid, A((3,)), A((2,)), A((4,)), indexing="ij"),
    C(np.arange, 0.5, 4.0, 0.75, wrt=[0, 2]),
    C(np.arange, 0.25, 3.0, wrt=[0]),
]

test_constructor_rule = table_test(CASES)
