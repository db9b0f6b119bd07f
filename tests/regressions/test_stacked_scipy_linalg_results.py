"""`scipy.linalg.cholesky` and `solve_triangular` of a stack of matrices were refused ("a change
made through a view of a non-contiguous array cannot be followed"): SciPy returns a stack's result
as a transposed view, and dpnb follows an array's changes through the memory under it. The rules
now hand back a contiguous copy (the same numbers). Checked against central differences, and
`jvp` against the gradient."""
import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.linalg as sla  # noqa: E402

import dpnb  # noqa: E402
from dpnb.testing import gradcheck  # noqa: E402

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 3)) + 4 * np.eye(3)
B = RNG.standard_normal((2, 3, 2))
W = RNG.standard_normal((2, 3, 3))


def cholesky_of_a_stack(A):
    S = A @ np.swapaxes(A, -1, -2)
    return np.sum(sla.cholesky(S, lower=True) * W)


def triangular_solves_of_a_stack(A):
    return np.sum(sla.solve_triangular(A, B, lower=True) ** 2)


def cho_factor_of_a_stack(A):
    S = A @ np.swapaxes(A, -1, -2)
    return np.sum(np.tril(sla.cho_factor(S, lower=True)[0]) * W)


@pytest.mark.parametrize("f", [cholesky_of_a_stack, triangular_solves_of_a_stack, cho_factor_of_a_stack])
def test_stacked_results_differentiate(f):
    assert gradcheck(f, A, rtol=1e-5, atol=1e-6)
    v = RNG.standard_normal(A.shape)
    _, ydot = dpnb.jvp(f, (A,), (v,))
    assert ydot == pytest.approx(np.sum(dpnb.gradient(f, A)[0] * v), rel=1e-9)
