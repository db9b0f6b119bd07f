"""Cotangent kinds across the NumPy rules: float32 stays float32 through a chain of rules,
integer arrays get float64 cotangents."""
import numpy as np

from dpnb.rules.registry import RULES
from dpnb.testing import check_rrule


def test_float32_stays_float32_through_a_chain():
    x = np.linspace(0.1, 1, 4, dtype=np.float32)
    assert check_rrule(np.exp, x, rtol=1e-3, atol=1e-4)
    _, back = RULES[np.sum](x)
    assert back(np.float32(1.0))[1].dtype == np.float32
    _, back = RULES[np.matmul](x, np.ones((4, 2)))
    assert back(np.ones(2))[1].dtype == np.float32


def test_integer_arrays_get_float64_cotangents():
    x = np.arange(4)
    for f in (np.sin, np.sum, np.cumsum, np.sort):
        _, back = RULES[f](x)
        y_bar = np.ones(np.shape(f(x)))
        assert back(y_bar)[1].dtype == np.float64, f
