"""`jvp` of a function with complex values: it took the gradient of a complex pairing and stopped
with "gradient needs f to return a real scalar, got complex128" (NumPy's functions and `cmath`'s
alike). Each tangent is checked against central differences along it."""
import cmath

import numpy as np
import pytest

from dpnb import jacobian, jvp

EPS = 1e-6


def _along(f, z, t):
    return (f(z + EPS * t) - f(z - EPS * t)) / (2 * EPS)


CASES = {
    "np.sin": (lambda z: np.sin(z), 0.5 + 0.7j, 1.0 + 0.5j),
    "cmath, holomorphic": (lambda z: cmath.sin(z) * z, 0.5 + 0.7j, 1.0 + 0.5j),
    "array": (lambda z: np.exp(z) * z, np.array([0.5 + 0.7j, -1 + 0.2j]), np.array([1.0 + 0.5j, 0.3 - 2j])),
    "real value of a complex argument": (lambda z: abs(z) ** 2, 0.5 + 0.7j, 1.0 + 0.5j),
    "complex value of a real argument": (lambda x: cmath.exp(1j * x), 0.3, 2.0),
    "not holomorphic": (lambda z: (z * z).conjugate() + z.real, 0.5 + 0.7j, 1.0 + 0.5j),
    "np.conj": (lambda z: np.conj(z) * z * z, np.array([0.5 + 0.7j, 2 - 1j]), np.array([0.2 - 1j, 1.0 + 0j])),
}


@pytest.mark.parametrize("name", CASES)
def test_jvp_of_complex_values_agrees_with_differences(name):
    f, z, t = CASES[name]
    y, ydot = jvp(f, (z,), (t,))
    assert np.allclose(y, f(z))
    assert np.allclose(ydot, _along(f, z, t), rtol=1e-6, atol=1e-8)


def test_a_tall_jacobian_of_a_complex_function_of_a_real_argument():
    # 12 outputs of 2 inputs: taken by columns, each a jvp
    f = lambda x: np.tile(np.exp(1j * x) * x, 6)  # noqa: E731
    x = np.array([0.3, -1.2])
    (J,) = jacobian(f, x)
    cols = [_along(f, x, e) for e in np.eye(2)]
    assert np.allclose(J, np.stack(cols, axis=-1), rtol=1e-6, atol=1e-8)
