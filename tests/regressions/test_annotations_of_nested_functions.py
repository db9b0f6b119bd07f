"""The annotations of a function defined inside a differentiated one are evaluated where Python
evaluates them, for what they may do, and left out of its code otherwise:
- a `:=` in one binds a name of the enclosing function (`def inner(t: (z := 2.0))`): leaving it
  out read a global `z` instead (a wrong gradient: 5.0 for 2.0);
- a call in one runs (`def inner(t: acc.append(x * 2.0))`): leaving it out left the list one
  element short (a wrong gradient: 1.0 for 3.0), in forward mode and the reverse way alike;
- with `from __future__ import annotations` Python evaluates none of them, and neither does dpnb.
Leaving them out also set the annotations of the source's own tree to None, a tree parse keeps for
the file."""
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


CALLS = """
import numpy as np

def in_a_parameter(x):
    acc = [x]
    def inner(t: acc.append(x * 2.0)):
        return t
    return sum(acc)

def in_the_return(x):
    acc = [x]
    def inner(t) -> acc.append(x * x):
        return t
    return sum(acc) * 1.0

def after_the_default(x):
    acc = []
    def inner(t: acc.append(acc[-1] * x) = acc.append(x * 3.0)):
        return t
    return np.sum(np.array(acc)) + x

def typed(x):
    def inner(t: float, k: np.ndarray = None, *rest: "int", **kw: dict) -> float:
        return t * 2.0
    return inner(x) * x
"""


#: the gradients at 1.5 when Python evaluates the annotations, and when the module defers them
#: (a default is evaluated either way, before the annotations)
WANT = {
    "in_a_parameter": (3.0, 1.0),
    "in_the_return": (4.0, 1.0),
    "after_the_default": (13.0, 4.0),
    "typed": (6.0, 6.0),
}


@pytest.mark.parametrize("name", sorted(WANT))
@pytest.mark.parametrize("deferred", [False, True], ids=["evaluated", "deferred"])
def test_a_call_in_an_annotation_runs_where_python_runs_it(load_module, name, deferred):
    m = load_module(("from __future__ import annotations\n" if deferred else "") + CALLS)
    f = getattr(m, name)
    want = WANT[name][deferred]
    assert numerical_gradient(f, 1.5)[0] == pytest.approx(want, rel=1e-6)
    assert dpnb.gradient(f, 1.5) == pytest.approx((want,), rel=1e-12)
    (got,) = dpnb.gradient(f, np.array(1.5))
    assert float(got) == pytest.approx(want, rel=1e-12)
