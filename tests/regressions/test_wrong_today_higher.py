"""Nested gradients (perturbation confusion) and complex numbers.

Complex convention (JAX's, and `dpnb.testing`'s): for a real `f` of `z = a + ib`,
the gradient is `df/da - i df/db`, so that `df = Re(z_bar * dz)`. A pullback is
the transpose of the real-linear tangent map under that pairing -- there is no
conjugation anywhere else. So `gradient(lambda z: abs(z)**2, z) == 2 * conj(z)`,
and a real input always gets a real cotangent (the pairing `Re(x_bar * dx)` with
a real `dx` only sees `Re(x_bar)`, and that is what the gradient must be).
"""
import math

import numpy as np
import pytest

from dpnb import derivative, gradient, hessian

try:
    from ._regress_check import check_fd, expect_grad
except ImportError:
    from _regress_check import check_fd, expect_grad


# -- 5. nested gradients ------------------------------------------------------------------


def test_nested_gradient_closes_over_outer_variable():
    """x * d/dy (x * y) = x * x: d/dx = 2x = 2.0 at 1.0.

    Today: wrong value 1.0 instead of 2.0.
    """
    expect_grad(gradient(lambda x: x * gradient(lambda y: x * y, 2.0)[0], 1.0), (2.0,))


def test_nested_gradient_outer_variable_in_nonlinear_inner():
    """d/dy (x y^2) at y = 3 is 6x; x * 6x = 6x^2: d/dx = 12x = 6.0 at 0.5.

    Today: wrong value 3.0 instead of 6.0.
    """
    expect_grad(gradient(lambda x: x * gradient(lambda y: x * y * y, 3.0)[0], 0.5), (6.0,))


def test_nested_gradient_inner_point_depends_on_outer():
    """d/dy (x y^2) at y = x is 2x^2: d/dx = 4x = 6.0 at 1.5.

    Today: wrong value 3.0 instead of 6.0.
    """
    expect_grad(gradient(lambda x: gradient(lambda y: x * y * y, x)[0], 1.5), (6.0,))


def test_nested_derivative_of_closure():
    """derivative(lambda y: sin(x y))(1) = x cos(x); d/dx = cos(x) - x sin(x).

    Today: None instead of cos(x) - x sin(x).
    """
    x = 0.7
    f = lambda x: derivative(lambda y: math.sin(x * y))(1.0)  # noqa: E731
    expect_grad(gradient(f, x), (math.cos(x) - x * math.sin(x),))


def test_nested_gradient_with_arrays():
    """g(x) = grad_y sum(x * y^2) at y = 1 = 2x; sum(g(x) * x) = 2 |x|^2: gradient 4x.

    Today: wrong value 2x instead of 4x.
    """
    x = np.array([0.5, -1.0, 2.0])
    f = lambda x: np.sum(gradient(lambda y: np.sum(x * y**2), np.ones(3))[0] * x)  # noqa: E731
    expect_grad(gradient(f, x), (4 * x,))


# -- 7. complex numbers -------------------------------------------------------------------


REAL_BESIDE_COMPLEX = [
    ("(x * c).real", lambda x: (x * (1 + 2j)).real, 1.0),
    ("(x * c).imag", lambda x: (x * (1 + 2j)).imag, 2.0),
    ("(c * x).imag", lambda x: ((1 + 2j) * x).imag, 2.0),
    ("abs(x + 1j)", lambda x: abs(x + 1j), 2.0 / math.sqrt(5.0)),
    ("abs(1j + x)", lambda x: abs(1j + x), 2.0 / math.sqrt(5.0)),
    ("abs(x - 2j) ** 2", lambda x: abs(x - 2j) ** 2, 4.0),
    ("abs(2j - x) ** 2", lambda x: abs(2j - x) ** 2, 4.0),
    ("abs(c * x)", lambda x: abs((1 + 2j) * x), math.sqrt(5.0)),
]


@pytest.mark.parametrize("f, want", [pytest.param(f, w, id=n) for n, f, w in REAL_BESIDE_COMPLEX])
def test_real_input_beside_complex_gets_real_cotangent(f, want):
    """Add, sub, mul of a real float and a complex constant, at x = 2: a real gradient.

    Values: Re((1+2j) x)' = 1, Im' = 2; |x + i|' = x / sqrt(x^2 + 1); |x - 2i|^2 = x^2 + 4 -> 2x;
    |(1+2j) x| = sqrt(5) |x|.

    Today: complex cotangent for the real input in all 8 cases (e.g. 1+2j for Re((1+2j) x), 4+4j for |x -
        2i|^2).
    """
    (g,) = gradient(f, 2.0)
    assert not isinstance(g, complex) and not np.iscomplexobj(g), f"complex cotangent {g!r} for a real input"
    expect_grad(g, want)


def test_real_and_complex_arguments_together():
    """abs(z * x) with z complex, x real: x's gradient is real, |z| sign(x); z's is x^2 conj(z) / |z x|.

    Today: complex cotangent 2.236+0j for the real x.
    """
    z, x = 1 + 2j, 2.0
    gz, gx = gradient(lambda z, x: abs(z * x), z, x)
    assert not isinstance(gx, complex), f"complex cotangent {gx!r} for the real x"
    expect_grad(gx, abs(z))
    expect_grad(gz, x * x * z.conjugate() / abs(z * x))


def test_real_array_beside_complex_array():
    """np.sum(abs(x + w)**2) for real x and complex w: 2 (x + Re w), real float64.

    Today: passes.
    """
    x = np.array([0.5, -1.0])
    w = np.array([1 + 2j, -0.5 + 1j])
    (g,) = gradient(lambda x: np.sum(np.abs(x + w) ** 2), x)
    assert g.dtype == np.float64, f"dtype {g.dtype} for a float64 input"
    expect_grad(g, 2 * (x + w.real))


COMPLEX_INPUT = [
    ("abs(z)**2", lambda z: abs(z) ** 2, lambda z: 2 * z.conjugate()),
    ("abs(z)", lambda z: abs(z), lambda z: z.conjugate() / abs(z)),
    ("z.real", lambda z: z.real, lambda z: 1 + 0j),
    ("(2z).real", lambda z: (z * 2.0).real, lambda z: 2 + 0j),
    ("(z*z).real", lambda z: (z * z).real, lambda z: 2 * z),
    ("z.imag", lambda z: z.imag, lambda z: -1j),
]


@pytest.mark.parametrize("f, want", [pytest.param(f, w, id=n) for n, f, w in COMPLEX_INPUT])
def test_complex_input_gets_complex_gradient(f, want):
    """A complex argument gets a complex gradient df/da - i df/db (derivations: 2|z|^2 -> 2 conj z;
    |z| -> conj z / |z|; Re z -> 1; Re(z^2) = a^2 - b^2 -> 2a + 2ib = 2z; Im z -> -i).

    Today: passes (6 of 6).
    """
    z = 1 + 2j
    (g,) = gradient(f, z)
    assert isinstance(g, complex), f"gradient {g!r} of a complex argument is a {type(g).__name__}"
    expect_grad(g, want(z))


def test_gradient_of_abs_differentiated_again_real_part():
    """g(z) = gradient(abs, z) = conj(z) / r = (a - ib) / r. Its real part a / r has
    d/da = b^2 / r^3 and d/db = -ab / r^3, so its gradient is (b^2 + i ab) / r^3:
    at z = 3 + 4i, (16 + 12i) / 125 = 0.128 + 0.096i.

    Today: wrong value 0.256+0.192j (twice the right answer).
    """
    z = 3 + 4j
    got = gradient(lambda z: gradient(abs, z)[0].real, z)
    expect_grad(got, (complex(16, 12) / 125,))
    check_fd(lambda z: gradient(abs, z)[0].real, z)


def test_gradient_of_abs_differentiated_again_imag_part():
    """Im g(z) = -b / r: d/da = ab / r^3, d/db = -a^2 / r^3, gradient (ab + i a^2) / r^3 =
    (12 + 9i) / 125 at 3 + 4i.

    Today: wrong value 0.192+0.144j (twice the right answer).
    """
    z = 3 + 4j
    expect_grad(gradient(lambda z: gradient(abs, z)[0].imag, z), (complex(12, 9) / 125,))


def test_second_derivative_of_abs_of_real():
    """abs on reals, twice: the second derivative is 0 away from 0, hessian too.

    Today: passes.
    """
    expect_grad(derivative(derivative(abs))(-2.0), 0.0)
    expect_grad(hessian(lambda x: abs(x) * x, -2.0), -2.0)
