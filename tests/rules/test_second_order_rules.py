"""Rules are plain Python, so dpnb differentiates them again for second derivatives: the
Hessian of functions built on them agrees with central differences of their gradient."""
import numpy as np
import pytest

from dpnb import gradient, hessian

X = np.array([0.3, 0.9, -0.4, 1.2])
W = np.array([1.0, 2.0, 3.0, 0.5])

FUNCTIONS = {
    "sum_axis": lambda x: np.sum(np.outer(x, x) ** 2, axis=0) @ W,
    "max": lambda x: np.max(x ** 2) + np.sum(np.sin(x)),
    "clip_keywords": lambda x: np.sum(np.clip(x, a_min=-0.5, a_max=0.8) ** 2),
    "std": lambda x: np.std(x) * np.sum(x),
    "norm": lambda x: np.linalg.norm(x) ** 3,
    "average_weights": lambda x: np.average(x ** 2, weights=W) ** 2,
    "rfft": lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2 * np.arange(3.0)),
    "interp": lambda x: np.sum(np.interp(np.array([0.3, 1.7]), np.arange(4.0), x) ** 2),
    "kron": lambda x: np.sum(np.kron(x, x[:2]) ** 2),
    "svd": lambda x: np.sum(np.linalg.svd(np.outer(x, x) + np.diag(x + 3), compute_uv=False) ** 3),
    "abs_complex": lambda x: np.sum(np.abs(x * (1 + 2j) + (0.5 - 1j)) ** 3),
    "gradient": lambda x: np.sum(np.gradient(x ** 2) ** 2),
}


def _fd_hessian(f, x, eps=1e-5):
    H = np.zeros((x.size, x.size))
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        H[:, i] = (gradient(f, x + e)[0] - gradient(f, x - e)[0]) / (2 * eps)
    return H


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_hessian_through_the_rules(name):
    f = FUNCTIONS[name]
    np.testing.assert_allclose(hessian(f, X), _fd_hessian(f, X), rtol=1e-5, atol=1e-6)
