"""The slopes of NumPy's inverse functions for complex arguments follow the branch NumPy took.
`np.arccosh`'s slope was 1/sqrt(z*z - 1), the negative of the derivative left of the imaginary
axis: the gradient of |arccosh(z)|² at -1.3+0.4j was -(the right one), silently. On a branch
cut (a real argument past ±1 of `arcsin` given as complex, `arccosh` below 1), 1/sqrt(1 - z*z)
took the other side. Real arguments keep their slopes (infinite at the ends of the domain)."""
import numpy as np
import pytest

import dpnb

H = 1e-6


def _conj_gradient(L, z):
    """∂L/∂x - i ∂L/∂y of each entry, by central differences (dpnb's complex convention)."""
    out = []
    for e in np.eye(z.size):
        dx = (L(z + H * e) - L(z - H * e)) / (2 * H)
        dy = (L(z + 1j * H * e) - L(z - 1j * H * e)) / (2 * H)
        out.append(dx - 1j * dy)
    return np.array(out)


OFF_CUTS = np.array([0.5 + 0.7j, -1.3 + 0.4j, -0.6 - 1.1j, 2.0 - 0.3j])


@pytest.mark.parametrize("f", [np.arcsin, np.arccos, np.arctan, np.arcsinh, np.arccosh, np.arctanh])
def test_complex_arguments_off_the_cuts(f):
    def loss(z):
        w = f(z)
        return np.sum(np.abs(w) ** 2 + (w * (1 + 2j)).real * z.imag)

    (g,) = dpnb.gradient(loss, OFF_CUTS)
    assert np.allclose(g, _conj_gradient(loss, OFF_CUTS), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("f, xs", [(np.arcsin, [1.6, -2.5]), (np.arccos, [1.6, -2.5]), (np.arccosh, [0.4, -0.7, -2.5])])
def test_complex_arguments_on_a_cut_move_along_it(f, xs):
    z = np.array(xs, dtype=complex)

    def loss(z):
        return np.sum((f(z) * (0.3 + 0.8j)).real)

    (g,) = dpnb.gradient(loss, z)
    along = [(loss(z + H * e) - loss(z - H * e)) / (2 * H) for e in np.eye(z.size)]
    assert np.allclose(g.real, along, rtol=1e-6, atol=1e-6)


def test_real_arguments_keep_infinite_slopes_at_the_ends():
    with np.errstate(divide="ignore"):
        (g,) = dpnb.gradient(lambda x: np.sum(np.arcsin(x)), np.array([1.0, 0.6]))
    assert g[0] == np.inf and g[1] == pytest.approx(1.25)
