"""`dpnb.tangent_source`: the code jvp runs, the adjoint of a function's pullback."""
import ast

import numpy as np
import pytest

import dpnb
from dpnb import adjoint_source, jvp, tangent_source
from dpnb.core import load


def cube(x):
    return x**3 + 2 * x


def scaled(a, b):
    return a * b, a + b


class Model:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return self.w * x**2


def body(src):
    """The source without its comment header."""
    lines = src.splitlines()
    assert lines[0].startswith("# Forward mode is the transpose of the pullback")
    return "\n".join(line for line in lines if not line.startswith("#"))


def compiled_by_jvp(name):
    """The source of the adjoints jvp compiled for the code named `name`, by argument types."""
    out = {}
    for e in list(load.CODES.values()):
        code = e.ref()
        if code is not None and code.co_name == name:
            for key, c in e.per.items():
                out[key] = ast.unparse(c.source)
    return out


def test_it_is_the_adjoint_of_the_pullback():
    src = tangent_source(cube)
    compile(src, "<tangent>", "exec")
    defs = [n.name for n in ast.walk(ast.parse(src)) if isinstance(n, ast.FunctionDef)]
    assert defs == ["cube_pullback", "cube_pullback_pullback"]
    assert "cube" in src.splitlines()[3]  # the header names the pullbacks


def test_a_linear_function_maps_the_tangent_by_its_slope():
    src = tangent_source(lambda x: 5 * x + 3)
    assert "y_bar_bar = 5 * x_bar_bar" in src


@pytest.mark.parametrize("f, args, tangents, seed", [
    (cube, (2.0,), (1.0,), float),
    (lambda x: np.sin(x) * x, (np.array([0.5, 1.0]),), (np.array([1.0, -1.0]),), np.ndarray),
    (scaled, (1.0, 2.0), (1.0, 0.0), tuple),
    (Model(3.0), (2.0,), (1.0,), float),
])
def test_it_is_what_jvp_compiles(f, args, tangents, seed):
    dpnb.refresh()
    shown = tangent_source(f, *args)
    name = shown.splitlines()[3].split()[1]  # "# cube_pullback runs again on u, ..."
    dpnb.refresh()
    jvp(f, args, tangents)
    assert compiled_by_jvp(name) == {(seed,): body(shown)}


def test_a_callable_object_is_its_first_argument():
    src = tangent_source(Model(3.0), 2.0)
    assert "arguments of types: Model, float" in src
    assert "def call_pullback_pullback(" in src


def test_it_is_deterministic():
    src = tangent_source(cube)
    assert tangent_source(cube) == src
    dpnb.refresh()
    assert tangent_source(cube) == src


def test_different_functions_give_different_code():
    assert body(tangent_source(cube)) != body(tangent_source(lambda x: 5 * x + 3))
    assert tangent_source(cube) != adjoint_source(cube)


def test_example_arguments_specialise_it():
    f = lambda x: np.sin(x) * x  # noqa: E731
    on_array = tangent_source(f, np.ones(2))
    assert on_array != tangent_source(f, 1.0)
    assert "arguments of types: ndarray; the cotangent u: ndarray" in on_array


def test_the_errors_are_those_of_adjoint_source():
    def counting(x):
        yield x

    with pytest.raises(dpnb.UnsupportedSyntaxError):
        adjoint_source(counting)
    with pytest.raises(dpnb.UnsupportedSyntaxError):
        tangent_source(counting)
    with pytest.raises(TypeError, match="tangent_source needs a Python function, got int"):
        tangent_source(3)
