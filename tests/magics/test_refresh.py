"""After a cell redefines code, the next gradient uses the new code without refresh()."""
import os
import sys
import textwrap
import time

import pytest


@pytest.fixture
def g(cells):
    cells.run("import numpy as np\nimport dpnb\nfrom dpnb import gradient")
    return cells


def grad(cells, expr):
    return cells.run(expr)


def test_redefined_callee_reaches_its_cached_caller(g):
    g.run("def inner(x):\n    return 3 * x\n\ndef outer(x):\n    return inner(x) * 2\n")
    assert g.run("gradient(outer, 1.0)") == (6.0,)
    g.run("def inner(x):\n    return 5 * x\n")
    assert g.run("gradient(outer, 1.0)") == (10.0,)


def test_redefined_function(g):
    g.run("def f(x):\n    return x * x\n")
    assert g.run("gradient(f, 3.0)") == (6.0,)
    g.run("def f(x):\n    return x * x * x\n")
    assert g.run("gradient(f, 3.0)") == (27.0,)


def test_lambda_bound_to_a_name(g):
    g.run("sq = lambda x: x * x\nuse = lambda x: sq(x) + 1")
    assert g.run("gradient(use, 2.0)") == (4.0,)
    g.run("sq = lambda x: 10 * x")
    assert g.run("gradient(use, 2.0)") == (10.0,)


def test_redefined_class(g):
    g.run("class Model:\n    def __call__(self, x):\n        return 2 * x\n\ndef loss(x):\n    return Model()(x)\n")
    assert g.run("gradient(loss, 1.0)") == (2.0,)
    g.run("class Model:\n    def __call__(self, x):\n        return 7 * x\n")
    assert g.run("gradient(loss, 1.0)") == (7.0,)


def test_redefined_method_of_a_class(g):
    g.run(
        "class Scale:\n    k = 2.0\n    def apply(self, x):\n        return self.k * x\n\n"
        "s = Scale()\ndef loss(x):\n    return s.apply(x)\n"
    )
    assert g.run("gradient(loss, 1.0)") == (2.0,)
    g.run("def apply(self, x):\n    return self.k * x * x\nScale.apply = apply")
    assert g.run("gradient(loss, 3.0)") == (12.0,)


def test_redefined_static_method_called_through_the_class(g):
    g.run(
        "class Ops:\n    @staticmethod\n    def f(x):\n        return 2 * x\n\n"
        "def loss(x):\n    return Ops.f(x)\n"
    )
    assert g.run("gradient(loss, 1.0)") == (2.0,)
    g.run("class Ops:\n    @staticmethod\n    def f(x):\n        return 9 * x\n")
    assert g.run("gradient(loss, 1.0)") == (9.0,)


def test_redefined_rrule(g):
    g.run(
        "from dpnb import rrule\n"
        "def cube(x):\n    return x ** 3\n"
        "@rrule(cube)\ndef cube_rrule(x):\n    return cube(x), lambda y_bar: (None, 3 * x * x * y_bar)\n"
        "def loss(x):\n    return cube(x) + x\n"
    )
    assert g.run("gradient(loss, 1.0)") == (4.0,)
    g.run("@rrule(cube)\ndef cube_rrule(x):\n    return cube(x), lambda y_bar: (None, 100.0 * y_bar)\n")
    assert g.run("gradient(loss, 1.0)") == (101.0,)


def test_code_swapped_in_place_as_autoreload_does(g):
    g.run("def f(x):\n    return 2 * x\n\ndef caller(x):\n    return f(x)\n")
    assert g.run("gradient(caller, 1.0)") == (2.0,)
    g.run("def _new(x):\n    return 4 * x\nf.__code__ = _new.__code__\ndel _new")
    assert g.run("gradient(caller, 1.0)") == (4.0,)


def test_a_cell_that_fails_half_way_after_redefining(g):
    g.run("def f(x):\n    return 2 * x\n\ndef caller(x):\n    return f(x)\n")
    assert g.run("gradient(caller, 1.0)") == (2.0,)
    g.fails("def f(x):\n    return 6 * x\nraise RuntimeError('half way')\n")
    assert g.run("gradient(caller, 1.0)") == (6.0,)


def test_decorated_function(g):
    g.run(
        "import functools\n"
        "def logged(fn):\n    @functools.wraps(fn)\n    def wrapper(*a):\n        return fn(*a)\n    return wrapper\n"
        "@logged\ndef f(x):\n    return 2 * x\n\ndef caller(x):\n    return f(x)\n"
    )
    assert g.run("gradient(caller, 1.0)") == (2.0,)
    g.run("@logged\ndef f(x):\n    return 3 * x\n")
    assert g.run("gradient(caller, 1.0)") == (3.0,)


def _write(path, text):
    before = os.stat(path).st_mtime if path.exists() else 0.0
    path.write_text(textwrap.dedent(text))
    # a later mtime by whole seconds, even on a coarse clock, so that linecache, autoreload
    # (which reloads only a file newer than it saw) and the bytecode cache (whole seconds)
    # all see the edit
    stamp = float(int(max(time.time(), before)) + 10)
    os.utime(path, (stamp, stamp))


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("dpnbmod_")]:
        del sys.modules[name]


def test_module_edited_then_reloaded(g, module_dir):
    path = module_dir / "dpnbmod_reload.py"
    _write(path, "def f(x):\n    return 2 * x\n")
    g.run("import importlib\nimport dpnbmod_reload as m")
    assert g.run("gradient(m.f, 1.0)") == (2.0,)
    _write(path, "# edited\n\ndef f(x):\n    return 8 * x\n")
    g.run("importlib.reload(m)")
    assert g.run("gradient(m.f, 1.0)") == (8.0,)


def test_module_picked_up_by_autoreload(g, module_dir):
    path = module_dir / "dpnbmod_auto.py"
    _write(path, "def f(x):\n    return 2 * x\n\ndef g(x):\n    return f(x) + x\n")
    g.run("%load_ext autoreload")
    try:
        g.run("%autoreload 2")
        g.run("import dpnbmod_auto as am")
        assert g.run("gradient(am.g, 1.0)") == (3.0,)
        _write(path, "def f(x):\n    return 5 * x\n\ndef g(x):\n    return f(x) + x\n")
        assert g.run("gradient(am.g, 1.0)") == (6.0,)
    finally:
        g.run("%autoreload 0")


def test_a_cell_that_defines_nothing_keeps_the_caches(g):
    import dpnb.core.load as load

    g.run("def f(x):\n    return 2 * x\n")
    g.run("gradient(f, 1.0)")
    g.run("y = 0")  # the first gradient may import modules lazily: that cell counts as a change
    g.run("gradient(f, 1.0)")
    from dpnb.magics import _WATCHERS

    watcher = _WATCHERS[id(g.shell)][1]
    g.run("y = 1 + 1")
    assert watcher.changes() == []
    g.run("y = 2 + 1")
    assert load.FUNCTIONS or load.CODES  # not emptied by a cell that redefined nothing


def test_a_class_with_a_property_is_not_a_change_by_itself(g):
    from dpnb.magics.watch import Watcher

    g.run("class Box:\n    def __init__(self, v): self.v = v\n    @property\n    def twice(self): return 2 * self.v\n")
    w = Watcher(g.ns, modules=False)
    assert w.changes() == []
    g.run("class Box:\n    @property\n    def twice(self): return 3\n")
    assert w.changes() == ["Box"]


def test_redefining_a_function_many_times_keeps_the_caches_bounded(g):
    import dpnb.core.load as load

    for k in range(200):
        g.run(f"def f(x):\n    return {k} * x\n")
        assert g.run("gradient(f, 1.0)") == (float(k),)
    assert len(load.CODES) <= 5 and len(load.FUNCTIONS) <= 5


def test_static_method_replaced_on_the_same_class(g):
    g.run(
        "class Ops:\n    @staticmethod\n    def f(x):\n        return 2 * x\n\n"
        "def loss(x):\n    return Ops.f(x)\n"
    )
    assert g.run("gradient(loss, 1.0)") == (2.0,)
    g.run("def _f(x):\n    return 11 * x\nOps.f = staticmethod(_f)")
    assert g.run("gradient(loss, 1.0)") == (11.0,)


def test_redefined_function_whose_rule_was_written_inline(g):
    g.run(
        "from dpnb import rrule\n"
        "def h(x):\n    return x * 2\n"
        "@rrule(h)\ndef h_rrule(x):\n    return h(x), lambda y_bar: (None, 2.0 * y_bar)\n"
        "def loss(x):\n    return h(x) * 3\n"
    )
    assert g.run("gradient(loss, 1.0)") == (6.0,)
    g.run("def h(x):\n    return x * 5\n")
    assert g.run("gradient(loss, 1.0)") == (15.0,)


def test_a_class_with_a_property_is_not_seen_as_changed(g):
    g.run("class Box:\n    def __init__(self, v):\n        self.v = v\n    @property\n    def twice(self):\n        return 2 * self.v\n")
    g.run("gradient(lambda x: Box(x).twice, 1.0)")
    from dpnb.magics import _WATCHERS

    watcher = _WATCHERS[id(g.shell)][1]
    g.run("y = 1")
    assert watcher.changes() == []
