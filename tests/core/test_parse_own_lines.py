"""dpnb parses only the lines of the function it differentiates (`parse._own_lines_tree`), a method
or a nested function too: the node it finds there must be the one the whole file's tree has, with
the same positions, or there must be none (and the whole file is parsed)."""
import ast
import linecache
import pathlib
import types

import pytest

import dpnb
from dpnb.core import parse

TRICKY = '''\
import math


class A:
    """A class."""

    def plain(self, x):
        return x * 2

    @staticmethod
    @property
    def decorated(x):
        # a comment
# a comment at the margin, inside the method
        return x

    def string_at_the_margin(self, x):
        s = """one
two"""
        return x

    def bracket_at_the_margin(self, x):
        y = (x +
1)
        return y

    def continued(self, x):
        y = x + \\
1
        return y

    async def coroutine(self):
        return 1

    class Inner:
        def deep(self, x):
            def nested(y):
                return y + 1

            return nested(x)

def after(x):
    return x


if True:
\tdef tabbed(x):
\t\treturn x + 1
'''


def _codes(code):
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield c
            yield from _codes(c)


def _check(src, filename):
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    tree = ast.parse(src, filename=filename)
    found = 0
    for code in _codes(compile(src, filename, "exec")):
        if code.co_name.startswith("<"):
            continue
        own = parse._own_lines_tree(code, filename, None)
        node = parse.find_node(code, own) if own is not None else None
        if node is not None:
            found += 1
            assert ast.dump(node, include_attributes=True) == ast.dump(parse.find_node(code, tree), include_attributes=True)
    return found


def test_the_tricky_cases_find_the_same_node_or_none():
    assert _check(TRICKY, "<tricky>") >= 6


def test_every_function_of_dpnb_finds_the_same_node():
    root = pathlib.Path(dpnb.__file__).parent
    found = sum(_check(p.read_text(), str(p)) for p in sorted(root.rglob("*.py")))
    assert found > 500


def test_a_method_is_differentiated_from_its_own_lines(tmp_path, monkeypatch):
    path = tmp_path / "long_module.py"
    filler = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
    path.write_text(filler + "class Model:\n    def __init__(self, w):\n        self.w = w\n\n    def loss(self, x):\n        return self.w * x ** 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import long_module

    parsed = []
    real_parse = ast.parse
    monkeypatch.setattr(parse.ast, "parse", lambda src, *a, **k: parsed.append(sum(1 for line in src.splitlines() if line.strip())) or real_parse(src, *a, **k))
    m = long_module.Model(3.0)
    assert dpnb.gradient(long_module.Model.loss, m, 2.0)[1] == 12.0
    assert parsed and max(parsed) < 10  # the method's lines (blank lines before them aside), not the module's 1,200
    parse.forget_files()
