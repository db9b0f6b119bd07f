"""`dict.fromkeys(keys, value)`: every key holds the one value (a NoRuleError on type.fromkeys)."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


def _numbers(x):
    d = dict.fromkeys(["a", "b", "c"], x)
    d["b"] = d["b"] * 3
    return d["a"] * d["b"] + d["c"]  # 3x² + x


def _shared_list(x):
    d = dict.fromkeys("ab", [x, 2 * x])
    d["a"].append(x)  # the one list both keys hold
    return sum(d["b"]) * x  # 4x²


def _array(x):
    d = dict.fromkeys(("p", "q"), x * 2.0)
    return np.sum(d["p"] * d["q"] + np.sin(d["p"]))


@pytest.mark.parametrize("f, x", [(_numbers, 1.5), (_shared_list, 1.5), (_array, np.array([0.3, -1.2]))])
def test_fromkeys_against_differences(f, x):
    (g,) = dpnb.gradient(f, x)
    assert np.allclose(g, numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-8)
    t = np.ones_like(x) if isinstance(x, np.ndarray) else 1.0
    assert np.allclose(dpnb.jvp(f, (x,), (t,))[1], np.sum(g * t))
