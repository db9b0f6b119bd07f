"""Caches that outlive what they cached: equal code objects, rebound globals, patched modules.

Names resolve when the adjoint runs, as in Python (SPEC §2, HARD-PARTS "Names
resolve at run time"): a global rebound to another function, a module-level
`def` that shadows an import, a module attribute patched by the user.
"""
import linecache
import math
import types

import pytest

from dpnb import gradient

try:
    from ._regress_check import expect_grad, import_source
except ImportError:
    from _regress_check import expect_grad, import_source


# -- 3. equal code objects are different functions --------------------------------------


def test_equal_code_in_two_modules(tmp_path):
    """Two files with the same lines `K = ...` / `def h(x): return K * x`: the code objects compare
    equal (co_filename is not part of code equality), the functions are not the same.

    Today: wrong value: the second module's h gets 2.0 (the first module's adjoint) instead of 5.0.
    """
    a = import_source(tmp_path, "regress_equal_code_a", "K = 2.0\n\ndef h(x):\n    return K * x\n")
    b = import_source(tmp_path, "regress_equal_code_b", "K = 5.0\n\ndef h(x):\n    return K * x\n")
    assert a.h.__code__ == b.h.__code__  # the premise of the test
    expect_grad(gradient(a.h, 1.5), (2.0,))
    expect_grad(gradient(b.h, 1.5), (5.0,))
    expect_grad(gradient(a.h, 1.5), (2.0,))


def test_equal_code_in_two_modules_called_from_lambda(tmp_path):
    """The same, with each h reached through a caller: 2 * 2.0 and 2 * 5.0.

    Today: wrong value 4.0 instead of 10.0.
    """
    a = import_source(tmp_path, "regress_equal_code_c", "K = 2.0\n\ndef h(x):\n    return K * x\n")
    b = import_source(tmp_path, "regress_equal_code_d", "K = 5.0\n\ndef h(x):\n    return K * x\n")
    expect_grad(gradient(lambda x: a.h(x) * 2.0, 1.5), (4.0,))
    expect_grad(gradient(lambda x: b.h(x) * 2.0, 1.5), (10.0,))


def test_one_code_object_two_globals_dicts(tmp_path):
    """One code object, two function objects with different globals (types.FunctionType).

    Today: wrong value 2.0 instead of 7.0.
    """
    a = import_source(tmp_path, "regress_equal_code_e", "K = 2.0\n\ndef h(x):\n    return K * x\n")
    other = types.FunctionType(a.h.__code__, {"K": 7.0, "__builtins__": __builtins__}, "h")
    expect_grad(gradient(a.h, 1.5), (2.0,))
    expect_grad(gradient(other, 1.5), (7.0,))


def test_equal_code_different_defaults(tmp_path):
    """Equal code, different defaults: def h(x, k=2.0) / def h(x, k=5.0) on the same lines.

    Today: passes.
    """
    a = import_source(tmp_path, "regress_equal_code_f", "def h(x, k=2.0):\n    return k * x\n")
    b = import_source(tmp_path, "regress_equal_code_g", "def h(x, k=5.0):\n    return k * x\n")
    expect_grad(gradient(a.h, 1.5), (2.0,))
    expect_grad(gradient(b.h, 1.5), (5.0,))


# -- 8. a global bound to a function with a rule is looked up each time ------------------

act = math.tanh


def through_act(x):
    return act(x)


def test_global_rebound_from_one_rule_to_another():
    """act = math.tanh, gradient; then act = math.sin: the next gradient is cos(0.5) = 0.8776.

    Today: wrong value 0.770 = 1 - sin(0.5)^2 (tanh's rule applied to sin's output) instead of cos(0.5) =
        0.878.
    """
    global act
    try:
        expect_grad(gradient(through_act, 0.5), (1 - math.tanh(0.5) ** 2,))
        act = math.sin
        expect_grad(gradient(through_act, 0.5), (math.cos(0.5),))
    finally:
        act = math.tanh


def test_global_rebound_from_rule_to_python_function():
    """act = math.tanh, gradient; then act = a Python cube: 3 x^2 = 0.75.

    Today: wrong value 0.984 (tanh's rule on the cube's output) instead of 0.75.
    """
    global act

    def cube(t):
        return t**3

    try:
        expect_grad(gradient(through_act, 0.5), (1 - math.tanh(0.5) ** 2,))
        act = cube
        expect_grad(gradient(through_act, 0.5), (0.75,))
    finally:
        act = math.tanh


def test_imported_name_shadowed_by_later_def(tmp_path):
    """`from math import sin`, gradient; then the module says `def sin(x): return x**3`: 3x^2.

    Today: wrong value cos(0.5) = 0.878 (the old math.sin) instead of 0.75.
    """
    mod = import_source(tmp_path, "regress_shadowed_sin", "from math import sin\n\ndef f(x):\n    return sin(x)\n")
    expect_grad(gradient(mod.f, 0.5), (math.cos(0.5),))
    # a later line of the module defines its own `sin` (run as a cell would run it)
    path = tmp_path / "regress_shadowed_sin.py"
    before = path.read_text()
    path.write_text(before + "\ndef sin(x):\n    return x**3\n")
    linecache.checkcache(str(path))
    padding = "\n" * (before.count("\n") + 1)
    exec(compile(padding + "def sin(x):\n    return x**3\n", str(path), "exec"), vars(mod))
    assert mod.f(0.5) == 0.125
    expect_grad(gradient(mod.f, 0.5), (0.75,))


def test_python_function_replaced_by_rule_function(tmp_path):
    """The other way: `def sin(x): return x**3`, gradient; then `from math import sin`: cos(x).

    Today: passes.
    """
    source = "def sin(x):\n    return x**3\n\ndef f(x):\n    return sin(x)\n"
    mod = import_source(tmp_path, "regress_shadowed_sin2", source)
    expect_grad(gradient(mod.f, 0.5), (0.75,))
    exec("from math import sin", vars(mod))
    expect_grad(gradient(mod.f, 0.5), (math.cos(0.5),))


def through_math_sin(x):
    return math.sin(x)


def test_patched_module_attribute(monkeypatch):
    """math.sin patched with a Python cube: 3x^2; restored: cos(x) again.

    Today: wrong value cos(0.5) = 0.878 (the unpatched rule) instead of 0.75.
    """
    expect_grad(gradient(through_math_sin, 0.5), (math.cos(0.5),))
    with monkeypatch.context() as m:
        m.setattr(math, "sin", lambda t: t**3)
        assert through_math_sin(0.5) == 0.125
        expect_grad(gradient(through_math_sin, 0.5), (0.75,))
    expect_grad(gradient(through_math_sin, 0.5), (math.cos(0.5),))


def test_patched_module_attribute_with_other_builtin(monkeypatch):
    """math.sin patched with math.cos: -sin(x); restored: cos(x) again.

    Today: wrong value cos(0.5) instead of -sin(0.5).
    """
    cos_half, minus_sin_half = math.cos(0.5), -math.sin(0.5)  # before math.sin is patched
    expect_grad(gradient(through_math_sin, 0.5), (cos_half,))
    with monkeypatch.context() as m:
        m.setattr(math, "sin", math.cos)
        expect_grad(gradient(through_math_sin, 0.5), (minus_sin_half,))
    expect_grad(gradient(through_math_sin, 0.5), (cos_half,))


def test_global_dict_of_functions_rebound():
    """A global dict of functions changed between gradients (the SPEC's `fs[...]` example).

    Today: passes.
    """
    table = {"f": math.sin}

    def g(x):
        return table["f"](x)

    expect_grad(gradient(g, 0.5), (math.cos(0.5),))
    table["f"] = math.exp
    expect_grad(gradient(g, 0.5), (math.exp(0.5),))


@pytest.mark.parametrize("first", [math.tanh, math.exp])
def test_closure_cell_rebound(first):
    """A closure variable bound to a function with a rule, rebound through `nonlocal`.

    Today: passes (2 of 2).
    """
    fn = first

    def g(x):
        return fn(x)

    def rebind(new):
        nonlocal fn
        fn = new

    gradient(g, 0.5)
    rebind(math.sin)
    expect_grad(gradient(g, 0.5), (math.cos(0.5),))
