"""Loading, unloading and reloading the extension; the magics' help."""
from IPython.utils.capture import capture_output

from dpnb.magics import load_ipython_extension, unload_ipython_extension


def _hooks(shell):
    return [
        cb for event in ("pre_run_cell", "post_run_cell", "post_execute")
        for cb in shell.events.callbacks[event]
        if getattr(getattr(cb, "__self__", None), "__class__", None).__name__ == "Watcher"
    ]


def test_load_registers_magics_and_the_refresh_hook(shell):
    assert "grad" in shell.magics_manager.magics["cell"]
    assert "adjoint_source" in shell.magics_manager.magics["line"]
    post = [cb for cb in shell.events.callbacks["post_run_cell"] if type(cb.__self__).__name__ == "Watcher"]
    assert len(post) == 1
    assert not [cb for cb in shell.events.callbacks["post_execute"] if type(getattr(cb, "__self__", None)).__name__ == "Watcher"]


def test_unload_removes_magics_and_hooks(shell):
    unload_ipython_extension(shell)
    assert "grad" not in shell.magics_manager.magics["cell"]
    assert "adjoint_source" not in shell.magics_manager.magics["line"]
    assert _hooks(shell) == []
    load_ipython_extension(shell)  # for the fixture's own unload


def test_loading_twice_registers_once(shell):
    load_ipython_extension(shell)
    load_ipython_extension(shell)
    assert len(_hooks(shell)) == 2  # one pre_run_cell, one post_run_cell


def test_load_unload_reload_ext_by_name(shell):
    unload_ipython_extension(shell)
    shell.run_line_magic("load_ext", "dpnb")
    shell.run_line_magic("reload_ext", "dpnb")
    shell.run_line_magic("reload_ext", "dpnb")
    assert len(_hooks(shell)) == 2
    assert "grad" in shell.magics_manager.magics["cell"]
    shell.run_line_magic("unload_ext", "dpnb")
    assert _hooks(shell) == []
    assert "grad" not in shell.magics_manager.magics["cell"]
    load_ipython_extension(shell)


def _help(shell, text):
    with capture_output() as captured:
        shell.run_cell(text)
    return captured.stdout


def test_grad_help_shows_the_options(shell):
    text = _help(shell, "%%grad?")
    assert "%grad [-o NAME] [--graph] VAR [VAR ...]" in text
    assert "the notebook variable bound to the dict" in text
    assert "last expression" in text


def test_adjoint_source_help_shows_the_options(shell):
    text = _help(shell, "%adjoint_source?")
    assert "--forward" in text and "EXPR" in text and "ARG" in text
