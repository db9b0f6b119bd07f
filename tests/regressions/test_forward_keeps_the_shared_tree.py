"""Forward mode wrote its code from a function's SSA tree, which it keeps for the function's
other forms and which `fwdrev` copies to write the function inline in array code (it now writes
from the normalized tree, which it keeps the same way). The code it
writes for `gradient(f, x)` of a float `x` is pruned with what holds for a float (`e * 1.0` is
`e`); that must not change the tree. It did: `y = x * 1.0` became `y = x` in the kept tree, and
array code that then called `f` on an int array computed in ints, and `** 40` wrapped around (a
wrong gradient, -6.3e18 for 1.2e19)."""
import ast

import numpy as np
import pytest

import dpnb
from dpnb.core import forward

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = """
import numpy as np

K = np.array([3])

def f(x):
    y = x * 1.0
    return y

def h(w):
    return np.sum(w * f(K) ** 40)
"""


def test_the_float_gradient_first_leaves_the_int_array_code_right(load_module):
    m = load_module(SOURCE)
    assert dpnb.gradient(m.f, 2.0) == (1.0,)
    (g,) = dpnb.gradient(m.h, np.array([1.0]))
    assert g[0] == 3.0**40  # (in ints, 3 ** 40 wraps around)


@pytest.mark.parametrize("body", [
    "y = x * 1.0\n    return y",
    "y = -1.0 * x\n    z = y * x\n    return z",
    "c = 2.0\n    y = x * c\n    return y + c",
    "y = 2 * 0.5\n    z = x * y\n    return z * 1.0",
    "if x > 0:\n        y = x * 1.0\n    else:\n        y = x * -1.0\n    return y * y",
    "s = 0.0\n    for i in range(3):\n        s = s + x * 1.0\n    return s",
])
def test_the_kept_tree_is_what_it_was_before_the_code_was_written(load_module, body):
    m = load_module(f"def f(x):\n    {body}\n")
    kept = (forward._normal_of, forward._ssa_of)  # (what forward mode writes from; what fwdrev copies)
    before = [ast.dump(of(m.f)[0], include_attributes=True) for of in kept]
    dpnb.gradient(m.f, 1.5)
    assert forward._template(m.f, (True,), "grad") is not None  # (forward mode wrote it)
    assert [ast.dump(of(m.f)[0], include_attributes=True) for of in kept] == before
