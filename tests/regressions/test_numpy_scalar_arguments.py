"""A NumPy scalar given as an argument (`np.float32(1.5)`, `np.int64(3)`, `np.longdouble(...)`)
next to no object, list or tuple raised `AttributeError: 'numpy.float32' object has no attribute
'__dict__'`: the path that reads objects' fields took NumPy's scalar types (written in C, with no
`__dict__`) for classes of the user's. Each answer is checked against central differences, and
its type against the argument's where NumPy keeps it."""
import math

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


def double(x):
    return x * 2


def wave(x):
    return np.sin(x) * x


def scalar_wave(x):
    return math.sin(x) * x


def product(xs):
    return xs[0] * xs[1]


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


def field_product(p):
    return p.a * p.b


SCALARS = [np.float32(1.5), np.float16(1.5), np.int64(3), np.int32(2), np.longdouble(1.5), np.float64(1.5)]


@pytest.mark.parametrize("f", [double, wave, scalar_wave])
@pytest.mark.parametrize("x", SCALARS, ids=lambda x: type(x).__name__)
def test_numpy_scalar_argument(f, x):
    (g,) = dpnb.gradient(f, x)
    (want,) = numerical_gradient(f, float(x))
    tol = 2e-3 if x.dtype.itemsize <= 4 and x.dtype.kind == "f" else 1e-6
    assert float(g) == pytest.approx(want, rel=tol, abs=tol)
    if x.dtype.kind == "f" and f is not scalar_wave:
        assert np.asarray(g).dtype == x.dtype  # a float32 argument's gradient is a float32


@pytest.mark.parametrize("x", SCALARS, ids=lambda x: type(x).__name__)
def test_numpy_scalar_in_a_list_or_an_object(x):
    (g,) = dpnb.gradient(product, [x, 2.0])
    assert float(g[0]) == pytest.approx(2.0) and float(g[1]) == pytest.approx(float(x))
    (g,) = dpnb.gradient(field_product, Pair(x, 2.0))
    assert float(g.fields["a"]) == pytest.approx(2.0) and float(g.fields["b"]) == pytest.approx(float(x))
