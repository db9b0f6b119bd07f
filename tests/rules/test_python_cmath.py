"""The `cmath` rule table: complex functions drawn away from their branch cuts, and real
arguments (on a cut too: a real argument stays on the real line, where the derivative along it
is that of the side `cmath` takes)."""
import cmath

import pytest

from _tables import C, S, table_test

import dpnb
from dpnb.testing import numerical_gradient

# the cuts: log, sqrt, log10, phase on the negative real axis; atan and asinh on the imaginary axis
# past ±i; asin, acos, atanh on the real axis past ±1; acosh on the real axis below 1
RIGHT = S("cright")
CASES = [
    C(cmath.exp, S("complex")), C(cmath.sin, S("complex")), C(cmath.cos, S("complex")),
    C(cmath.tan, S("small")), C(cmath.tan, 0.4 + 0.3j),
    C(cmath.sinh, S("complex")), C(cmath.cosh, S("complex")), C(cmath.tanh, 0.3 - 0.8j),
    C(cmath.log, RIGHT), C(cmath.log, S("neg")), C(cmath.log, RIGHT, S("gt1")),
    C(cmath.log10, RIGHT), C(cmath.sqrt, RIGHT), C(cmath.sqrt, S("neg")),
    C(cmath.atan, RIGHT), C(cmath.asinh, RIGHT), C(cmath.asinh, -1.2 + 3.0j),
    C(cmath.asin, 0.5 + 0.7j), C(cmath.asin, 1.5 - 0.4j), C(cmath.asin, 1.6), C(cmath.asin, -2.5),
    C(cmath.acos, -0.5 + 0.7j), C(cmath.acos, 1.6), C(cmath.acos, S("unit")),
    C(cmath.atanh, 1.4 + 0.3j), C(cmath.atanh, S("unit")), C(cmath.atanh, 1.6),
    C(cmath.acosh, 0.3 + 0.5j), C(cmath.acosh, -2.0 - 0.5j), C(cmath.acosh, S("gt1")), C(cmath.acosh, 0.4),
    C(cmath.phase, RIGHT), C(cmath.phase, -1.3 + 0.4j), C(cmath.phase, S("neg")),
    C(cmath.polar, RIGHT), C(cmath.polar, -0.6 - 1.1j),
    C(cmath.rect, S("pos"), S("real")),
]

test_cmath_rule = table_test(CASES, max_examples=5)


def _conj_gradient(L, z, h=1e-6):
    """∂L/∂x - i ∂L/∂y by central differences (the convention of dpnb's complex gradients)."""
    return (L(z + h) - L(z - h)) / (2 * h) - 1j * (L(z + 1j * h) - L(z - 1j * h)) / (2 * h)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "asin", "acos", "atan", "asinh", "acosh", "atanh"])
@pytest.mark.parametrize("z", [0.5 + 0.7j, -1.3 + 0.4j, -0.6 - 1.1j, 2.0 - 0.3j])
def test_a_real_loss_through_a_complex_function_agrees_with_differences(name, z):
    f = getattr(cmath, name)

    def loss(z):
        w = f(z)
        return abs(w) ** 2 + (w * (1 + 2j)).real * z.imag

    (g,) = dpnb.gradient(loss, z)
    assert g == pytest.approx(_conj_gradient(loss, z), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", ["exp", "sqrt", "log", "asin", "acos", "atanh", "acosh", "asinh"])
@pytest.mark.parametrize("x", [0.4, -0.7, 1.6, -2.5])
def test_a_real_argument_gets_a_real_gradient(name, x):
    f = getattr(cmath, name)

    def loss(x):
        return (f(x) * (0.3 + 0.8j)).real + abs(f(x * x))

    (g,) = dpnb.gradient(loss, x)
    assert isinstance(g, float)
    assert g == pytest.approx(numerical_gradient(loss, x)[0], rel=1e-6, abs=1e-6)


def test_the_second_derivative_through_cmath():
    f = lambda x: cmath.exp(1j * x * x).real * cmath.phase(cmath.rect(2.0, x))  # noqa: E731
    h = dpnb.hessian(f, 0.7)
    eps = 1e-5
    assert h == pytest.approx((dpnb.gradient(f, 0.7 + eps)[0] - dpnb.gradient(f, 0.7 - eps)[0]) / (2 * eps), rel=1e-6)


def test_cmath_rules_load_when_first_needed():
    import subprocess
    import sys

    code = (
        "import sys, dpnb, cmath\n"
        "assert 'dpnb.rules.python.cmath_rules' not in sys.modules\n"
        "print(dpnb.gradient(lambda x: cmath.exp(x).real, 0.5)[0])\n"
        "assert 'dpnb.rules.python.cmath_rules' in sys.modules\n"
    )
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
    r = subprocess.run([sys.executable, fh.name], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) == pytest.approx(cmath.exp(0.5).real)
