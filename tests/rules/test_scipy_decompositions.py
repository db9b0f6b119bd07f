"""`scipy.linalg`'s svd, eigh, qr, pinv and lstsq: the rule table (finite differences on
generic matrices, every option that changes the result's form), `jvp` against the pullback,
Hessians against differences of the gradient, and the cases refused."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
import scipy.linalg as sla  # noqa: E402

from _tables import A, C, array_strategy, table_test  # noqa: E402
from dpnb import DifferentiationError, gradient, hessian, jvp, pullback  # noqa: E402
from dpnb.rules.registry import RULES  # noqa: E402
from dpnb.testing import check_rrule, gradcheck  # noqa: E402

CASES = [
    C(sla.svd, A((3, 3), "fullrank"), rtol=1e-4, atol=1e-5),
    C(sla.svd, A((4, 3), "fullrank"), full_matrices=False, rtol=1e-4, atol=1e-5),
    C(sla.svd, A((3, 4), "fullrank"), False, rtol=1e-4, atol=1e-5),
    C(sla.svd, A((2, 4, 3), "fullrank"), full_matrices=False, rtol=1e-4, atol=1e-5),
    C(sla.svd, A((4, 3), "fullrank"), compute_uv=False),
    C(sla.svd, A((2, 3), "fullrank"), False, False, lapack_driver="gesvd"),
    # eigenvectors: see test_eigh_vectors (LAPACK's syevr may flip a sign under a small step)
    C(sla.eigh, A((3, 3), "spd"), eigvals_only=True, rtol=1e-4),
    C(sla.eigh, A((3, 3), "spd"), lower=False, eigvals_only=True, driver="evd", rtol=1e-4),
    C(sla.eigh, A((2, 3, 3), "spd"), eigvals_only=True, rtol=1e-4),
    C(sla.qr, A((4, 3), "fullrank"), mode="economic", rtol=1e-4, atol=1e-5),
    C(sla.qr, A((3, 3), "fullrank"), rtol=1e-4, atol=1e-5),
    C(sla.qr, A((4, 2), "fullrank"), mode="r", rtol=1e-4, atol=1e-5),
    C(sla.qr, A((2, 4, 3), "fullrank"), mode="economic", rtol=1e-4, atol=1e-5),
    C(sla.pinv, A((4, 3), "fullrank"), rtol=1e-4), C(sla.pinv, A((2, 3), "fullrank"), rtol=1e-4),
    C(sla.pinv, A((3, 3), "fullrank"), return_rank=True, rtol=1e-4),
    C(sla.pinv, A((3, 2), "cfullrank"), rtol=1e-4),
    C(sla.lstsq, A((4, 3), "fullrank"), A((4,)), rtol=1e-4, atol=1e-6),
    C(sla.lstsq, A((4, 2), "fullrank"), A((4, 3)), rtol=1e-4, atol=1e-6),
    C(sla.lstsq, A((3, 3), "fullrank"), A((3,)), rtol=1e-4, atol=1e-6),
    C(sla.lstsq, A((2, 4), "fullrank"), A((2,)), rtol=1e-4, atol=1e-6),
    C(sla.lstsq, A((4, 2), "fullrank"), A((4,)), lapack_driver="gelsy", rtol=1e-4, atol=1e-6),
    C(sla.lstsq, A((4, 2), "cfullrank"), A((4,), "complex"), rtol=1e-4, atol=1e-6),
]
test_scipy_decomposition_rule = table_test(CASES)


def _phase_free(V, rng):
    return rng.standard_normal(V.shape) * np.conj(V)


@pytest.mark.parametrize("shape, domain, kwargs", [
    ((3, 3), "spd", {}), ((3, 3), "spd", {"lower": False}), ((2, 3, 3), "spd", {"driver": "evd"}),
    ((3, 3), "hermitian", {}), ((3, 3), "hermitian", {"lower": False}),
])
@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data())
def test_eigh_vectors(shape, domain, kwargs, data):
    """A loss of |V|^2 (LAPACK's syevr may flip an eigenvector's sign under a small step, so a
    random cotangent of V is no test)."""
    a = data.draw(array_strategy(shape, domain))
    rng = np.random.default_rng(4)
    c, d = rng.standard_normal(shape[:-1]), rng.standard_normal(shape)

    def loss(a):
        w, V = sla.eigh(a, **kwargs)
        return np.sum(c * w) + np.sum(d * np.abs(V) ** 2)

    assert gradcheck(loss, a, rtol=1e-4, atol=1e-6)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(data=st.data())
def test_complex_svd(data):
    rng = np.random.default_rng(0)
    a = data.draw(array_strategy((4, 2), "cfullrank"))
    U, s, Vh = sla.svd(a, full_matrices=False)
    bar = (_phase_free(U, rng), rng.standard_normal(s.shape), _phase_free(Vh, rng))
    assert check_rrule(sla.svd, a, full_matrices=False, output_tangent=bar, rtol=1e-4, atol=1e-6)


def test_scipy_and_numpy_give_the_same_gradients():
    rng = np.random.default_rng(1)
    M = rng.standard_normal((4, 3))
    S = M.T @ M + np.diag([1.0, 2.0, 3.0])
    b = rng.standard_normal(4)
    pairs = [
        (lambda M: np.sum(sla.svd(M, full_matrices=False)[0][:, 0] * sla.svd(M, full_matrices=False)[2][0, 0]),
         lambda M: np.sum(np.linalg.svd(M, full_matrices=False)[0][:, 0] * np.linalg.svd(M, full_matrices=False)[2][0, 0]),
         M),
        (lambda S: np.sum(sla.eigh(S)[1][:, 1] ** 2 * np.arange(3.0)) + sla.eigh(S)[0][0],
         lambda S: np.sum(np.linalg.eigh(S)[1][:, 1] ** 2 * np.arange(3.0)) + np.linalg.eigh(S)[0][0], S),
        (lambda M: np.sum(sla.qr(M, mode="economic")[1] ** 3), lambda M: np.sum(np.linalg.qr(M)[1] ** 3), M),
        (lambda M: np.sum(sla.pinv(M) * M.T), lambda M: np.sum(np.linalg.pinv(M) * M.T), M),
        (lambda M: np.sum(sla.lstsq(M, b)[0] ** 2), lambda M: np.sum(np.linalg.lstsq(M, b)[0] ** 2), M),
    ]
    for f, g, x in pairs:
        np.testing.assert_allclose(gradient(f, x)[0], gradient(g, x)[0], rtol=1e-9, atol=1e-12)
        assert gradcheck(f, x, rtol=1e-4, atol=1e-6)


# sign-free losses of the decompositions (a sign flip of a singular pair or an eigenvector
# changes none of them), each vector-valued so that jvp and the pullback meet in every entry
_M = np.array([[1.3, -0.4, 0.7], [0.2, 2.1, -0.5], [-0.8, 0.3, 1.6], [0.5, 0.9, -0.2]])
_S = _M.T @ _M + np.diag([0.5, 1.5, 3.0])
_B = np.array([[0.3, -1.0], [1.2, 0.4], [-0.7, 0.8], [0.1, 0.5]])
LOSSES = {
    "svd": (lambda M: np.concatenate([sla.svd(M)[1] ** 2, (sla.svd(M, False)[0][:, :1] * sla.svd(M, False)[2][:1]).ravel()]), _M),
    "svdvals": (lambda M: sla.svd(M, compute_uv=False) ** 3, _M),
    "eigh": (lambda S: np.concatenate([sla.eigh(S)[0], (sla.eigh(S)[1][:, 2:] ** 2).ravel()]), _S),
    "eigh_upper": (lambda S: sla.eigh(S, lower=False, eigvals_only=True) ** 2, np.triu(_S)),
    "qr": (lambda M: np.concatenate([(sla.qr(M, mode="economic")[1] ** 2).ravel(), sla.qr(M, mode="economic")[0][0]]), _M),
    "qr_r": (lambda M: sla.qr(M, mode="r")[0][:3].ravel() ** 3, _M),
    "pinv": (lambda M: (sla.pinv(M) ** 2).ravel(), _M),
    "lstsq": (lambda M: np.concatenate([(sla.lstsq(M, _B)[0] ** 2).ravel(), sla.lstsq(M, _B)[1]]), _M),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_jvp_agrees_with_the_pullback(name):
    f, x = LOSSES[name]
    rng = np.random.default_rng(2)
    v = rng.standard_normal(x.shape)
    y, ydot = jvp(f, (x,), (v,))
    _, back = pullback(f, x)
    u = rng.standard_normal(np.shape(y))
    assert np.sum(u * ydot) == pytest.approx(np.sum(back(u)[0] * v), rel=1e-8, abs=1e-10)
    # and both against central differences
    eps = 1e-6
    assert np.asarray(ydot) == pytest.approx((f(x + eps * v) - f(x - eps * v)) / (2 * eps), rel=1e-5, abs=1e-6)


def _fd_hessian(f, x, eps=1e-5):
    H = np.zeros((x.size, x.size))
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        H[:, i] = ((gradient(f, x + e.reshape(x.shape))[0] - gradient(f, x - e.reshape(x.shape))[0]) / (2 * eps)).ravel()
    return H


@pytest.mark.parametrize("name", ["svd", "svdvals", "eigh", "qr", "pinv", "lstsq"])
def test_hessian_against_differences_of_the_gradient(name):
    f, x = LOSSES[name]
    w = np.linspace(0.5, 1.5, np.size(f(x)))

    def loss(x):
        return np.sum(f(x) * w)

    H = hessian(loss, x)
    np.testing.assert_allclose(np.reshape(H, (x.size, x.size)), _fd_hessian(loss, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda M: np.sum(sla.eigh(M @ M.T + np.eye(4), np.eye(4))[0]), "b="),
        (lambda M: np.sum(sla.eigh(M @ M.T + np.eye(4), subset_by_index=[0, 1])[0]), "subset_by_index"),
        (lambda M: np.sum(sla.qr(M, pivoting=True)[1]), "pivoting"),
        (lambda M: np.sum(sla.qr(M.T, mode="economic")[1]), "m >= n"),
        (lambda M: np.sum(sla.qr(M)[0]), "not unique"),
        (lambda M: np.sum(sla.qr(M + 1j)[1].real), "real matrices only"),
        (lambda M: np.sum(sla.svd(M)[0]), "not unique"),
        (lambda M: np.sum(sla.pinv(np.outer(M[:, 0], M[0]))), "rank-deficient"),
        (lambda M: np.sum(sla.pinv(M, atol=1.5)), "rank-deficient"),
        (lambda M: np.sum(sla.lstsq(np.outer(M[:, 0], M[0]), M[:, 1])[0]), "rank-deficient"),
        (lambda M: np.sum(sla.lstsq(M, M[:, 1], cond=0.9)[0]), "rank-deficient"),
    ],
)
def test_the_cases_without_a_derivative_are_refused(call, match):
    with pytest.raises(DifferentiationError, match=match):
        gradient(call, _M)


def test_full_mode_qr_and_svd_of_a_tall_matrix_when_the_extra_vectors_are_not_used():
    def f(M):
        Q, R = sla.qr(M)
        U, s, Vh = sla.svd(M)
        return np.sum(Q[:, :3] ** 3) + np.sum(R ** 2) + np.sum(s) + np.sum(U[:, 0] * Vh[0, 0])

    assert gradcheck(f, _M, rtol=1e-4, atol=1e-6)


def test_the_input_is_not_overwritten_before_the_pullback_reads_it():
    M = _M.copy()
    y, back = RULES[sla.svd](M, False, True, True)  # overwrite_a=True
    assert np.array_equal(M, _M)
    y, back = RULES[sla.lstsq](M, _B.copy(), None, True, True)
    assert np.array_equal(M, _M)
