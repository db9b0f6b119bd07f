"""The IPython extension, driven through a real InteractiveShell."""

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from dpnb.magics import load_ipython_extension, unload_ipython_extension


@pytest.fixture
def ip():
    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    yield shell
    unload_ipython_extension(shell)


def shown_text(captured):
    """Everything the captured cell printed or displayed, as plain text."""
    parts = [captured.stdout]
    for output in captured.outputs:
        parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def test_adjoint_source_of_a_lambda(ip):
    with capture_output() as captured:
        ip.run_line_magic("adjoint_source", "(lambda x: 5*x + 3)")
    text = shown_text(captured)
    assert "x_bar" in text


def test_adjoint_source_of_a_notebook_function(ip):
    ip.run_cell("def square_plus_one(x):\n    return x * x + 1\n")
    with capture_output() as captured:
        ip.run_cell("%adjoint_source square_plus_one")
    assert "x_bar" in shown_text(captured)


def test_adjoint_source_is_highlighted(ip):
    with capture_output() as captured:
        ip.run_line_magic("adjoint_source", "lambda x: 5*x + 3")
    assert "text/html" in captured.outputs[0].data


def test_adjoint_source_needs_an_expression(ip):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError):
        ip.run_line_magic("adjoint_source", "")


def test_unload_removes_the_magic():
    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    assert "adjoint_source" in shell.magics_manager.magics["line"]
    unload_ipython_extension(shell)
    assert "adjoint_source" not in shell.magics_manager.magics["line"]


def test_load_ext_by_package_name():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "dpnb")
    try:
        assert "adjoint_source" in shell.magics_manager.magics["line"]
    finally:
        shell.run_line_magic("unload_ext", "dpnb")
    assert "adjoint_source" not in shell.magics_manager.magics["line"]


def test_adjoint_source_with_example_arguments(ip):
    ip.run_cell("import numpy as np\ndef scale(a, b):\n    return a * b\n")
    with capture_output() as captured:
        ip.run_cell("%adjoint_source scale np.ones(3) 2.0")
    text = shown_text(captured)
    import dpnb
    import numpy as np

    assert text.strip() == dpnb.adjoint_source(ip.user_ns["scale"], np.ones(3), 2.0).strip()
    assert text.strip() != dpnb.adjoint_source(ip.user_ns["scale"]).strip()


def test_adjoint_source_plain_text_is_the_source(ip):
    with capture_output() as captured:
        ip.run_line_magic("adjoint_source", "lambda x: 5*x + 3")
    data = captured.outputs[0].data
    assert data["text/plain"].startswith("def _lambda(x):")
    assert "<span" in data["text/html"]  # highlighted by Pygments


def test_adjoint_source_forward_of_a_lambda(ip):
    with capture_output() as captured:
        ip.run_line_magic("adjoint_source", "--forward lambda x: x**3")
    text = shown_text(captured)
    assert text.strip().startswith("# Forward mode is the transpose of the pullback")
    assert "def lambda_pullback(y_bar):" in text
    assert "def lambda_pullback_pullback(" in text


def test_adjoint_source_forward_of_a_notebook_function(ip):
    ip.run_cell("def cube_plus(x):\n    return x**3 + 2*x\n")
    with capture_output() as captured:
        ip.run_cell("%adjoint_source --forward cube_plus 2.0")
    data = captured.outputs[0].data
    import dpnb

    assert data["text/plain"].strip() == dpnb.tangent_source(ip.user_ns["cube_plus"], 2.0).strip()
    assert "def cube_plus_pullback_pullback(" in data["text/plain"]
    assert "<span" in data["text/html"]  # highlighted by Pygments
    # the adjoint of the pullback, not the adjoint itself
    assert data["text/plain"].strip() != dpnb.adjoint_source(ip.user_ns["cube_plus"], 2.0).strip()


def test_adjoint_source_forward_of_something_that_is_not_a_function(ip):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="^%adjoint_source --forward: TypeError: tangent_source needs a Python function"):
        ip.run_line_magic("adjoint_source", "--forward 3")


def test_adjoint_source_forward_of_code_dpnb_refuses(ip):
    from IPython.core.error import UsageError

    ip.run_cell("def counting(x):\n    yield x\n")
    with pytest.raises(UsageError, match="^%adjoint_source --forward: UnsupportedSyntaxError") as e:
        ip.run_line_magic("adjoint_source", "--forward counting")
    assert "\n" not in str(e.value)


def test_adjoint_source_of_something_that_is_not_a_function(ip):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="adjoint_source"):
        ip.run_line_magic("adjoint_source", "3")
