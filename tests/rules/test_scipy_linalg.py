"""The `scipy.linalg` rule table: each rule checked by `check_rrule` on well-conditioned matrices,
with every option that changes which entries a function reads; and the rules through `dpnb.gradient`."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
import scipy.linalg as sla  # noqa: E402

from _tables import A, C  # noqa: E402
from dpnb import DifferentiationError, gradient  # noqa: E402
from dpnb.rules.registry import RULES  # noqa: E402
from dpnb.testing import gradcheck  # noqa: E402

F32 = np.float32
_SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.3], [0.5, -0.3, 2.5]])
_CPX = np.array([[3.0 + 0.5j, 0.2 - 0.1j, -0.4j], [0.3 + 0.2j, 2.5 - 0.3j, 0.1], [-0.2 + 0.1j, 0.5j, 2.0 + 0.2j]])
_PIVOTED = np.array([[0.1, 1.0, 0.3], [2.5, 0.3, 1.0], [0.2, 3.1, 0.4]])  # lu_factor swaps its rows
_LU = sla.lu_factor(_PIVOTED)
_FACTORS = [sla.cho_factor(_SPD), sla.cho_factor(_SPD, lower=True), list(sla.cho_factor(_SPD + np.eye(3)))]

CASES = [
    C(sla.inv, A((3, 3), "wellcond")), C(sla.inv, A((2, 3, 3), "wellcond")),
    C(sla.inv, A((3, 3), "wellcond", F32), rtol=2e-3, atol=2e-4),
    C(sla.inv, A((3, 3), "spd"), assume_a="pos"), C(sla.inv, A((3, 3), "spd"), assume_a="sym", lower=True),
    C(sla.inv, A((3, 3), "wellcond"), assume_a="upper triangular"),
    C(sla.inv, A((3, 3), "wellcond"), assume_a="lower triangular"),
    C(sla.inv, A((3, 3), "wellcond"), assume_a="diagonal"),
    C(sla.solve, A((3, 3), "wellcond"), A((3,))), C(sla.solve, A((3, 3), "wellcond"), A((3, 2))),
    C(sla.solve, A((2, 3, 3), "wellcond"), A((2, 3, 2))), C(sla.solve, A((2, 3, 3), "wellcond"), A((3,))),
    C(sla.solve, A((3, 3), "wellcond"), A((3,)), transposed=True),
    C(sla.solve, A((3, 3), "spd"), A((3, 2)), True, assume_a="pos"),
    C(sla.solve, A((3, 3), "spd"), A((3,)), assume_a="sym"),
    C(sla.solve, A((3, 3), "spd"), A((3,)), assume_a="her"),
    C(sla.solve, A((4, 4), "wellcond"), A((4,)), assume_a="tridiagonal"),
    C(sla.solve, A((3, 3), "wellcond"), A((3,)), assume_a="diagonal"),
    C(sla.solve, A((3, 3), "wellcond"), A((3, 2)), assume_a="upper triangular"),
    C(sla.solve, A((3, 3), "wellcond"), [1.0, 2.0, 3.0], assume_a="lower triangular"),
    C(sla.det, A((3, 3))), C(sla.det, A((2, 3, 3), "wellcond")),
    C(sla.solve_triangular, A((3, 3), "wellcond"), A((3,))),
    C(sla.solve_triangular, A((3, 3), "wellcond"), A((3, 2)), 1, True),
    C(sla.solve_triangular, A((3, 3), "wellcond"), A((3,)), "T"),
    C(sla.solve_triangular, A((3, 3), "wellcond"), A((3,)), 2, False, True),
    C(sla.solve_triangular, A((3, 3), "wellcond"), A((3, 2)), lower=True, unit_diagonal=True),
    C(sla.solve_triangular, A((2, 3, 3), "wellcond"), A((2, 3, 2)), trans="C", lower=True),
    C(sla.cholesky, A((3, 3), "spd"), rtol=1e-4), C(sla.cholesky, A((3, 3), "spd"), True, rtol=1e-4),
    C(sla.cholesky, A((3, 3), "spd"), lower=True, rtol=1e-4),
    C(sla.cho_factor, A((3, 3), "spd"), rtol=1e-4), C(sla.cho_factor, A((3, 3), "spd"), True, rtol=1e-4),
    C(sla.cho_solve, _FACTORS[0], A((3,))), C(sla.cho_solve, _FACTORS[1], A((3, 2))),
    C(sla.cho_solve, _FACTORS[2], A((3,))),
    C(sla.sqrtm, A((3, 3), "spd"), rtol=1e-4), C(sla.sqrtm, A((3, 3), "wellcond"), rtol=1e-4),
    C(sla.expm, A((3, 3), "small")), C(sla.expm, A((2, 2, 2))),
    C(sla.expm, A((3, 3), "real", F32), rtol=2e-3, atol=2e-4),
    C(sla.solve_sylvester, A((3, 3), "wellcond"), A((2, 2), "wellcond"), A((3, 2))),
    C(sla.solve_sylvester, A((2, 2), "spd"), A((2, 2), "wellcond"), A((2, 2))),
    C(sla.svdvals, A((3, 3), "fullrank")), C(sla.svdvals, A((4, 2), "fullrank")), C(sla.svdvals, A((2, 3), "fullrank")),
    C(sla.lu_factor, A((3, 3), "fullrank")), C(sla.lu_factor, _PIVOTED),
    C(sla.lu_solve, _LU, A((3,))), C(sla.lu_solve, _LU, A((3, 2)), 1), C(sla.lu_solve, list(_LU), A((3,)), trans=2),
    C(sla.logm, A((3, 3), "spd"), rtol=1e-4), C(sla.logm, _PIVOTED + 3 * np.eye(3), rtol=1e-4),
    # complex matrices: transposes, not conjugates
    C(sla.inv, _CPX), C(sla.det, _CPX), C(sla.det, A((3, 3), "complex")),
    C(sla.solve, _CPX, A((3,), "complex")), C(sla.solve_triangular, _CPX, A((3,), "complex"), 2),
    C(sla.expm, 0.3 * _CPX),
    C(sla.det, np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, -1.0]])),  # singular
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_scipy_linalg_rule(case, data):
    case.check(data.draw(case.strategy()))


def test_scipy_and_numpy_linalg_are_separate_callables_with_their_own_rules():
    for name in ("inv", "solve", "det", "cholesky"):
        f, g = getattr(sla, name), getattr(np.linalg, name)
        assert f is not g and RULES[f] is not RULES[g]


def test_cho_solve_gives_the_factor_a_cotangent_in_its_triangle_only():
    c, lower = _FACTORS[0]
    _, back = RULES[sla.cho_solve]((c, lower), np.ones(3))
    (c_bar, lower_bar), _ = back(np.array([1.0, -2.0, 0.5]))[1:]
    assert lower_bar is None and np.all(np.tril(c_bar, -1) == 0) and np.any(c_bar != 0)


def test_cho_factor_then_cho_solve_is_solve():
    rng = np.random.default_rng(3)
    M, b = _SPD + 0.1 * rng.standard_normal((3, 3)), rng.standard_normal(3)
    M = M + M.T

    def via_cholesky(M, b):
        return np.sum(sla.cho_solve(sla.cho_factor(M, lower=True), b) * np.arange(1.0, 4.0))

    def via_solve(M, b):  # the same function of the lower triangle of M
        S = np.tril(M) + np.tril(M, -1).T
        return np.sum(sla.solve(S, b) * np.arange(1.0, 4.0))

    for got, want in zip(gradient(via_cholesky, M, b), gradient(via_solve, M, b)):
        assert got == pytest.approx(want, rel=1e-8, abs=1e-10)
    assert gradcheck(via_cholesky, M, b)


def test_complex_cholesky_has_no_rule():
    _, back = RULES[sla.cholesky](np.array([[2.0, 1j], [-1j, 2.0]]), lower=True)
    with pytest.raises(DifferentiationError, match="real matrices only"):
        back(np.eye(2))


def test_an_unknown_structure_has_no_rule():
    _, back = RULES[sla.solve](np.eye(3) * 2, np.ones(3), assume_a="banded")
    with pytest.raises(DifferentiationError, match="banded"):
        back(np.ones(3))


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda A: np.sum(sla.expm(A) ** 2), (np.array([[0.1, 0.4], [-0.3, 0.2]]),)),
        (lambda A: np.sum(sla.sqrtm(A) * np.array([[1.0, 2.0], [3.0, 4.0]])), (np.array([[2.0, 0.3], [0.1, 1.5]]),)),
        (lambda A, b: np.sum(sla.solve_triangular(A, b, lower=True) ** 2),
         (np.array([[2.0, 0.0], [0.5, 1.5]]), np.array([1.0, -1.0]))),
        (lambda A, Q: np.sum(sla.solve_sylvester(A, A.T, Q)),
         (np.array([[3.0, 0.2], [0.1, 2.0]]), np.array([[1.0, 0.5], [0.2, -1.0]]))),
        (lambda A: sla.det(A) + np.sum(sla.inv(A)), (np.array([[3.0, 0.2], [0.1, 2.0]]),)),
        (lambda A: np.sum(sla.cholesky(A)), (np.array([[3.0, 0.2], [0.2, 2.0]]),)),
    ],
)
def test_linalg_through_gradient(f, args):
    assert gradcheck(f, *args, rtol=1e-5, atol=1e-7)
