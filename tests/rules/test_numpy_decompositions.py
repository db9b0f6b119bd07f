"""The decompositions table: cholesky, eigh, eigvalsh, svd, qr, eig, eigvals (matrices with
separated spectra), real and complex.

Eigenvectors and singular vectors have a free sign or phase. A random output cotangent is
fine for real matrices (the sign LAPACK picks does not change under a small step), but for
complex ones the loss must not depend on the phase: those checks use cotangents
`V_bar = C * conj(V)` with a real `C` (the gradient of `sum(C * |V|^2) / 2`), whose pairing
with a change of phase vanishes.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _tables import A, C, array_strategy, table_test
from dpnb.testing import check_rrule

F32 = np.float32

CASES = []
CASES += [
    C(np.linalg.cholesky, A((3, 3), "spd"), rtol=1e-4),
    C(np.linalg.cholesky, A((2, 3, 3), "spd"), rtol=1e-4),
    C(np.linalg.eigvalsh, A((3, 3), "spd"), rtol=1e-4),
    C(np.linalg.eigvalsh, A((3, 3), "spd"), "U", rtol=1e-4),
    C(np.linalg.eigh, A((3, 3), "spd"), rtol=1e-4, atol=1e-5),
    C(np.linalg.svd, A((4, 3), "fullrank"), compute_uv=False),
    C(np.linalg.svd, A((3, 4), "fullrank"), full_matrices=False, rtol=1e-4, atol=1e-5),
    C(np.linalg.svd, A((4, 3), "fullrank"), full_matrices=False, rtol=1e-4, atol=1e-5),
    C(np.linalg.svd, A((3, 3), "fullrank"), rtol=1e-4, atol=1e-5),
    C(np.linalg.qr, A((4, 3), "fullrank"), rtol=1e-4, atol=1e-5),
    C(np.linalg.qr, A((3, 3), "fullrank"), rtol=1e-4, atol=1e-5),
    C(np.linalg.qr, A((4, 2), "fullrank"), "r", rtol=1e-4, atol=1e-5),
]
CASES += [
    C(np.linalg.eigvalsh, A((3, 3), "hermitian"), rtol=1e-4),
    C(np.linalg.eigvalsh, A((3, 3), "hermitian"), "U", rtol=1e-4),
    C(np.linalg.svd, A((3, 2), "cfullrank"), compute_uv=False, rtol=1e-4),
    C(np.linalg.svd, A((3, 3), "spd"), hermitian=True, rtol=1e-4, atol=1e-5),
    C(np.linalg.svd, A((3, 3), "hermitian"), compute_uv=False, hermitian=True, rtol=1e-4, atol=1e-5),
    C(np.linalg.eig, A((3, 3), "diagonalizable"), rtol=1e-4, atol=1e-5),
    C(np.linalg.eig, A((2, 3, 3), "diagonalizable"), rtol=1e-4, atol=1e-5),
    C(np.linalg.eigvals, A((3, 3), "diagonalizable"), rtol=1e-4),
    C(np.linalg.eigvals, A((3, 3), "fullrank"), rtol=1e-4),
    C(np.linalg.eigvals, A((3, 3), "cdiagonalizable"), rtol=1e-4),
]
if hasattr(np, "matrix_transpose"):  # NumPy >= 2: cholesky(upper=...)
    CASES.append(C(np.linalg.cholesky, A((3, 3), "spd"), upper=True, rtol=1e-4))


test_decomposition_rule = table_test(CASES)


def _phase_free(V, rng):
    """A cotangent for the vectors `V` whose pairing with a change of their phases vanishes."""
    return rng.standard_normal(V.shape) * np.conj(V)


@pytest.mark.parametrize("uplo", ["L", "U"])
@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data())
def test_complex_eigh(uplo, data):
    a = data.draw(array_strategy((3, 3), "hermitian"))
    rng = np.random.default_rng(0)
    w, V = np.linalg.eigh(a, uplo)
    bar = (rng.standard_normal(w.shape), _phase_free(V, rng))
    assert check_rrule(np.linalg.eigh, a, uplo, output_tangent=bar, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("shape,full", [((3, 3), True), ((4, 2), False), ((2, 4), False), ((2, 3, 3), False)])
@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data())
def test_complex_svd(shape, full, data):
    a = data.draw(array_strategy(shape, "cfullrank"))
    rng = np.random.default_rng(1)
    U, s, Vh = np.linalg.svd(a, full_matrices=full)
    bar = (_phase_free(U, rng), rng.standard_normal(s.shape), _phase_free(Vh, rng))
    assert check_rrule(np.linalg.svd, a, full_matrices=full, output_tangent=bar, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("domain", ["cdiagonalizable", "fullrank"])
@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data())
def test_eig_of_complex_eigenvectors(domain, data):
    """Complex matrices, and real ones with complex eigenvalues (then the gradient is real)."""
    a = data.draw(array_strategy((3, 3), domain))
    rng = np.random.default_rng(2)
    w, V = np.linalg.eig(a)
    bar = (rng.standard_normal(w.shape) + 1j * rng.standard_normal(w.shape), _phase_free(V, rng))
    assert check_rrule(np.linalg.eig, a, output_tangent=bar, rtol=1e-4, atol=1e-6)


def test_the_phase_free_cotangents_do_not_depend_on_the_phase():
    rng = np.random.default_rng(3)
    V = np.linalg.qr(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)))[0]
    bar = _phase_free(V, rng)
    phases = np.exp(1j * np.array([0.3, -1.0, 2.0]))
    # first order in the phases: d/dt Re sum(bar * V e^{i t phi}) = Re sum(bar * V * i phi) = 0
    assert abs(np.real(np.sum(bar * V * 1j * np.angle(phases)))) < 1e-12
