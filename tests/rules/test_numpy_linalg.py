"""The `np.linalg` table: norm (every `ord`), inv, solve, det, slogdet, pinv, matrix_power."""
import numpy as np

from _tables import A, C, table_test

F32 = np.float32

CASES = []
NORMS = [
    ((4,), {}), ((4,), {"ord": 1}), ((4,), {"ord": np.inf}), ((4,), {"ord": -np.inf}),
    ((4,), {"ord": 3}), ((4,), {"ord": 0}), ((3, 4), {}), ((3, 4), {"ord": "fro"}),
    ((3, 4), {"ord": "nuc"}), ((3, 4), {"ord": 2}), ((3, 4), {"ord": -2}), ((3, 4), {"ord": 1}),
    ((3, 4), {"ord": -1}), ((3, 4), {"ord": np.inf}), ((3, 4), {"ord": -np.inf}),
    ((3, 4), {"axis": 1}), ((3, 4), {"axis": 0, "ord": 1, "keepdims": True}),
    ((2, 3, 4), {"axis": (1, 2)}), ((2, 3, 4), {"axis": (2, 0), "ord": "nuc"}), ((2, 3, 4), {}),
]
for _shape, _kw in NORMS:
    _domain = "fullrank" if len(_shape) == 2 and _kw.get("ord") in ("nuc", 2, -2) else "distinct"
    CASES.append(C(np.linalg.norm, A(_shape, _domain), **_kw))
CASES += [
    C(np.linalg.slogdet, A((3, 3), "cwellcond")),
    C(np.linalg.det, A((3, 3), "cwellcond")),
    C(np.linalg.norm, A((2, 3), "complex"), axis=1),
]
CASES += [C(np.linalg.norm, A((3,), "complex")), C(np.linalg.norm, A((4,), "distinct", F32), rtol=1e-3, atol=1e-4)]

CASES += [
    C(np.linalg.inv, A((3, 3), "wellcond")),
    C(np.linalg.inv, A((2, 2, 2), "wellcond")),
    C(np.linalg.inv, A((2, 2), "wellcond", F32), rtol=1e-3, atol=1e-4),
    C(np.linalg.solve, A((3, 3), "wellcond"), A((3,))),
    C(np.linalg.solve, A((3, 3), "wellcond"), A((3, 2))),
    C(np.linalg.solve, A((2, 3, 3), "wellcond"), A((3,))),
    C(np.linalg.det, A((3, 3), "wellcond")),
    C(np.linalg.det, A((2, 2, 2), "wellcond")),
    C(np.linalg.slogdet, A((3, 3), "wellcond")),
    C(np.linalg.pinv, A((4, 3), "fullrank"), rtol=1e-4),
    C(np.linalg.pinv, A((2, 3), "fullrank"), rtol=1e-4),
    C(np.linalg.matrix_power, A((3, 3), "small"), 3),
    C(np.linalg.matrix_power, A((3, 3), "wellcond"), -2),
    C(np.linalg.matrix_power, A((2, 2)), 0, wrt=[]),
    C(np.linalg.pinv, A((3, 2), "cfullrank"), rtol=1e-4),
    C(np.linalg.lstsq, A((4, 3), "fullrank"), A((4,)), rtol=1e-4, atol=1e-6),
    C(np.linalg.lstsq, A((4, 2), "fullrank"), A((4, 3)), None, rtol=1e-4, atol=1e-6),
    C(np.linalg.lstsq, A((3, 3), "fullrank"), A((3,)), rtol=1e-4, atol=1e-6),
    C(np.linalg.lstsq, A((2, 4), "fullrank"), A((2,)), rtol=1e-4, atol=1e-6),
    C(np.linalg.lstsq, A((4, 2), "cfullrank"), A((4,), "complex"), rtol=1e-4, atol=1e-6),
]


test_linalg_rule = table_test(CASES)
