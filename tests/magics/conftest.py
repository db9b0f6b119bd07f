"""A real IPython shell for the magics' tests: history off, every cell's error surfaced."""
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from dpnb.magics import load_ipython_extension, unload_ipython_extension


def _shell():
    if InteractiveShell.initialized():
        return InteractiveShell.instance()
    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config)


class Cells:
    """Runs cells in the shell as a user would; `run` fails the test on any error in a cell."""

    def __init__(self, shell):
        self.shell = shell
        self.ns = shell.user_ns

    def run(self, source):
        with capture_output() as captured:
            result = self.shell.run_cell(source)
        if not result.success:
            raise AssertionError(f"cell failed:\n{source}\n{captured.stdout}{captured.stderr}") from (
                result.error_in_exec or result.error_before_exec
            )
        self.captured = captured
        return result.result

    def fails(self, source):
        """Run a cell that must fail; returns (error, everything it printed)."""
        with capture_output() as captured:
            result = self.shell.run_cell(source)
        assert not result.success, f"cell did not fail:\n{source}"
        self.captured = captured
        return result.error_in_exec or result.error_before_exec, captured.stdout + captured.stderr

    def output(self):
        """What the last cell printed and displayed, as plain text."""
        parts = [self.captured.stdout, self.captured.stderr]
        parts += [o.data.get("text/plain", "") for o in self.captured.outputs]
        return "\n".join(parts)


@pytest.fixture
def shell():
    s = _shell()
    s.reset(new_session=False)
    s.run_line_magic("colors", "nocolor")  # tracebacks as plain text, to read in assertions
    load_ipython_extension(s)
    yield s
    unload_ipython_extension(s)


@pytest.fixture
def cells(shell):
    return Cells(shell)
