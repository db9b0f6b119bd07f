"""Forward mode writes its code from the normalized function, where a name may be bound more than
once, not from its SSA form: each value's tangent is bound right after the value. Two cases need
a rewrite (`forward._own_body`): a parameter the function binds again (the gradient's argument
has the tangent 1.0; the local that takes its name later does not) and a value that reads its own
target (`s = s * x`: the tangent reads the old `s`). Each function here is written so that the
wrong way to do either gives a wrong number; each is checked against the reverse way and finite
differences, and shown to have taken forward mode."""
import math

import pytest

import dpnb
from dpnb.core import forward, load
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


CASES = {
    "param squared in place": "def f(x):\n    x = x * x\n    return x * 2.0",
    "param rebound to a constant": "def f(x):\n    y = x * 3.0\n    x = 2.0\n    return x * y",
    "param rebound on one branch": "def f(x):\n    if x > 1.0:\n        x = x * x * 3.0\n    return x * x",
    "param added to itself": "def f(x):\n    x = x + x\n    x = x * x\n    return x",
    "product loop": "def f(x):\n    s = 1.0\n    for i in range(4):\n        s = s * x\n    return s",
    "division by itself's old value": "def f(x):\n    s = x + 1.0\n    s = x / s\n    s = s / (s + x)\n    return s",
    "math of itself": "import math\ndef f(x):\n    y = x * 0.5\n    y = math.sin(y)\n    y = math.exp(y) * y\n    return y",
    "power of itself": "def f(x):\n    y = x + 0.5\n    y = y ** y\n    return y",
    "while loop rebinding the param": "def f(x):\n    n = 0\n    while n < 3:\n        x = x * 1.5 + x * x\n        n = n + 1\n    return x",
    "callee rebinding its param": "def g(a):\n    a = a * a\n    a = a - 1.0\n    return a\n\ndef f(x):\n    return g(x) * g(x * 2.0)",
    # a name that carries a tangent elsewhere given a call of constants (its tangent 0): this
    # raised IndexError from the writer
    "a name given a math call of constants": "import math\ndef f(x):\n    y = x * 2.0\n    y = math.sin(2.0)\n    return y * x + y",
    "on one branch": "import math\ndef f(x):\n    y = x * 2.0\n    if x > 1.0:\n        y = math.exp(0.5)\n    return y * x",
    "a callee of constants": "def g(a):\n    return a * 3.0\n\ndef f(x):\n    y = x\n    y = g(2.0)\n    return y * x",
    "recursion rebinding its param": (
        "def r(x, n):\n    if n == 0:\n        return x\n    x = x * x * 0.5 + x\n    return r(x, n - 1)\n\n"
        "def f(x):\n    return r(x, 3)"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("x", [0.3, 1.7])
def test_rebinding_gives_the_reverse_ways_gradient(load_module, name, x):
    m = load_module(CASES[name])
    (got,) = dpnb.gradient(m.f, x)
    _, back = dpnb.pullback(m.f, x)  # (the reverse way: never forward mode)
    (want,) = back(1.0)
    assert isinstance(got, float)
    assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), (got, want)
    assert math.isclose(got, numerical_gradient(m.f, x)[0], rel_tol=1e-5, abs_tol=1e-6)
    e = load.FUNCTIONS.get(id(m.f))
    assert e is not None and e.grad1  # forward mode, not bailed out


def test_a_rebound_parameter_is_taken_under_a_new_name(load_module):
    m = load_module(CASES["param squared in place"])
    src = forward.source(m.f)
    assert src.splitlines()[0] == "def f_forward(x_1):" and "    x = x_1" in src, src
    m = load_module(CASES["product loop"])
    src = forward.source(m.f)
    assert "s = _t" in src and "s_d = _t" in src, src  # s = s * x: the value under a new name first


def test_the_normalized_tree_is_not_changed_by_the_code_written_from_it(load_module):
    import ast

    for source in CASES.values():
        m = load_module(source)
        before = ast.dump(forward._normal_of(m.f)[0], include_attributes=True)
        dpnb.gradient(m.f, 0.7)
        assert ast.dump(forward._normal_of(m.f)[0], include_attributes=True) == before
