"""The layout the code base keeps: the core never reaches up into the public API, and no rule
file grows past what one family needs."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "dpnb"


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield 0, a.name, []


@pytest.mark.parametrize("path", sorted((ROOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_never_imports_the_public_api(path):
    for level, module, names in _imports(path):
        absolute = module if level == 0 else "dpnb." + module if level == 2 else "dpnb.core." + module
        assert not absolute.startswith("dpnb.api"), f"{path.name} imports {absolute}"
        assert not (level == 2 and module == "" and "api" in names), f"{path.name} imports dpnb.api"


@pytest.mark.parametrize("path", sorted(ROOT.glob("rules/**/*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_rule_file_is_over_about_600_lines(path):
    assert len(path.read_text().splitlines()) <= 650, f"{path} should be split by family"
