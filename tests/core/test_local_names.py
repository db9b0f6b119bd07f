"""`load._local_names(fdef)`, the names a function binds in its own scope (what the static
resolver must not take for the module's globals), against Python's compiler: the locals of the
function's code object (`co_varnames`, `co_cellvars`).

Every name the compiler makes local must be found, except those bound only where `_local_names`
does not look (an `except ... as` name, a `:=` inside a comprehension, a name only deleted): a
local missed is a global the resolver may read in its place (found: a function's own top-level
`import numpy as np` was missed, so `np` was read as the module's global `np`). And nothing bound
inside a nested def, class or lambda only (found: the body of a def at the top level of the
function was read as the function's own)."""
import ast
import os
import pathlib
import types

import pytest

import dpnb
from dpnb.core import load

STDLIB = pathlib.Path(os.path.dirname(ast.__file__))
SOURCES = sorted(pathlib.Path(dpnb.__file__).parent.rglob("*.py")) + [
    STDLIB / n for n in ("statistics.py", "colorsys.py", "tokenize.py", "argparse.py", "inspect.py", "json/encoder.py")
]


def _codes(code):
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield c
            yield from _codes(c)


def _not_looked_at(fdef):
    """Names bound where `_local_names` does not look, and names declared global or nonlocal."""
    out = set()
    for node in ast.walk(fdef):
        if isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.NamedExpr):
            out.add(node.target.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
            out.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_names_a_function_binds_are_the_compilers_locals(path):
    src = path.read_text()
    tree = ast.parse(src)
    by_place = {(c.co_name, c.co_firstlineno): c for c in _codes(compile(src, str(path), "exec"))}
    checked = 0
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        code = by_place.get((node.name, first))
        if code is None:
            continue
        compiler = set(code.co_varnames) | set(code.co_cellvars)
        mine = load._local_names(node)
        loose = _not_looked_at(node)
        assert compiler - mine <= loose, f"{path.name}:{node.lineno} {node.name} misses {sorted(compiler - mine - loose)}"
        assert mine - compiler <= loose, f"{path.name}:{node.lineno} {node.name} takes {sorted(mine - compiler - loose)}"
        checked += 1
    assert checked or "def " not in src
