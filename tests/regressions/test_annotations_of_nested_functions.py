"""The annotations of a function defined inside a differentiated one are left out of its code, but
for a `:=` in one, which Python evaluates when the function is defined: it binds a name of the
enclosing function (`def inner(t: (z := 2.0))`), and leaving it out read a global `z` instead (a
wrong gradient: 5.0 for 2.0). Leaving them out also set the annotations of the source's own tree
to None, a tree parse keeps for the file."""
import ast

import numpy as np
import pytest

import dpnb
from dpnb.core import parse
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


def test_a_walrus_in_an_annotation_binds_what_python_binds(load_module):
    m = load_module(
        "z = 5.0\n"
        "w = 7.0\n"
        "def outer(x):\n"
        "    def inner(t: (z := 2.0), *rest: (u := 0.5)) -> (w := 3.0):\n"
        "        return t\n"
        "    return inner(x) * z * w * u\n"
    )
    assert m.outer(3.0) == 9.0
    assert dpnb.gradient(m.outer, 3.0) == (3.0,)
    (g,) = dpnb.gradient(m.outer, np.array(3.0))
    assert float(g) == 3.0 == pytest.approx(numerical_gradient(m.outer, 3.0)[0])


def test_the_files_tree_keeps_its_annotations(load_module):
    # (a string at column 0 in the function: its own lines do not parse alone, the file's tree is kept)
    m = load_module(
        "def outer(x):\n"
        "    s = '''\n"
        "x'''\n"
        "    def inner(t: float, k: 'int' = 2) -> float:\n"
        "        return t * k\n"
        "    return inner(x)\n"
    )
    tree = parse._tree_for(m.__file__, vars(m))
    inner = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "inner")
    before = ast.unparse(inner)
    assert dpnb.gradient(m.outer, 2.0) == (2.0,) and dpnb.gradient(m.outer, 2) == (2.0,)
    assert parse._tree_for(m.__file__, vars(m)) is tree
    assert ast.unparse(inner) == before and "t: float" in before
