"""A rule's result that holds arrays the rule made (a tuple, a named tuple, a list), read by
index or attribute rather than unpacked: the cotangents of those arrays must reach the rule.
`np.sum(np.linalg.svd(A)[0] * C)` had no gradient at all, and neither had `divmod(x, c)[1]`."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

RNG = np.random.default_rng(3)
A = RNG.normal(size=(3, 3))
C = RNG.normal(size=(3, 3))
S = A @ A.T + 3 * np.eye(3)
X = np.array([0.3, -0.5, 0.7, 1.4])

CASES = {
    "svd_by_index": (lambda A: np.sum(np.linalg.svd(A)[0] * C), A),
    "svd_by_attribute": (lambda A: np.sum(np.linalg.svd(A).Vh * C), A),
    "svd_result_kept": (lambda A: np.sum((lambda r: r[0] * C + r[2])(np.linalg.svd(A))), A),
    "eigh_vectors_by_index": (lambda S: np.sum(np.linalg.eigh(S)[1][:, 0] ** 4), S),
    "qr_by_index": (lambda A: np.sum(np.linalg.qr(A)[1] * C), A),
    "divmod_remainder": (lambda x: np.sum(divmod(x, 0.45)[1] * x), X),
    "split_second_part": (lambda x: np.sum(np.split(x, 2)[1] ** 2), X),
    "meshgrid_first": (lambda x: np.sum(np.meshgrid(x, x[:2])[0] * 2.0), X),
    "broadcast_arrays": (lambda x: np.sum(np.broadcast_arrays(x, x[:, None])[1] ** 2), X),
}


@pytest.mark.parametrize("name", list(CASES))
def test_arrays_inside_a_rule_result_pass_their_gradient(name):
    f, x = CASES[name]
    (g,) = dpnb.gradient(f, x)
    assert g is not None, "no gradient reached the argument"
    np.testing.assert_allclose(g, numerical_gradient(f, x)[0], rtol=1e-5, atol=1e-7)


def _hessian_by_differences(f, x, h=1e-5):
    g = lambda v: dpnb.gradient(f, v)[0]
    return np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def test_second_derivative_through_singular_vectors():
    B = RNG.normal(size=(3, 3))

    def f(x):
        return np.sum(np.linalg.svd(B + np.outer(x, x[::-1]))[0][:, 0] * x)

    x = X[:3]
    np.testing.assert_allclose(dpnb.hessian(f, x), _hessian_by_differences(f, x), rtol=1e-5, atol=1e-6)


# -- arrays built from values: they were in the table of constants ---------------------------

BUILT = {
    "full": (lambda x: np.sum(np.full((2, 3), x[0]) * C[:2]), X),
    "full_row": (lambda x: np.sum(np.full((2, 4), x) ** 2), X),
    "full_like": (lambda x: np.sum(np.full_like(C, x[1]) * C), X),
    "meshgrid_xy": (lambda x: np.sum(np.meshgrid(x, x[:3] ** 2)[1] * np.arange(4.0)), X),
    "meshgrid_ij": (lambda x: np.sum(np.meshgrid(x, x[:3], indexing="ij")[0] ** 2), X),
    "arange_start_step": (lambda x: np.sum(np.arange(x[0], 5.0, x[3]) ** 2), X),
}


@pytest.mark.parametrize("name", list(BUILT))
def test_arrays_built_from_values_pass_their_gradient(name):
    f, x = BUILT[name]
    (g,) = dpnb.gradient(f, x)
    assert g is not None, "no gradient reached the argument"
    np.testing.assert_allclose(g, numerical_gradient(f, x)[0], rtol=1e-5, atol=1e-7)


def test_histogram_of_a_differentiable_value_is_refused():
    with pytest.raises(dpnb.DifferentiationError):
        dpnb.gradient(lambda x: np.sum(np.histogram(x, bins=3)[1]), X)
