"""%%grad, run as a user would in a notebook cell."""
import inspect
import os
import shutil

import numpy as np
import pytest
from IPython.core.error import UsageError

import dpnb
from dpnb.magics import GradWarning
from dpnb.magics.result import GradResult


@pytest.fixture
def data(cells):
    cells.run("import numpy as np\nw = 2.0\nb = 0.5\nx, y = 3.0, 1.0")
    return cells


def test_gradients_of_the_last_expression(data):
    out = data.run("%%grad w b\nerr = w * x + b - y\nerr ** 2\n")
    assert isinstance(out, GradResult)
    assert out.loss == 30.25
    assert data.ns["grads"] == {"w": 33.0, "b": 11.0}


def test_assignments_take_effect_as_in_any_cell(data):
    data.run("%%grad w\nerr = w * x - y\nfor k in range(2):\n    err = err * 1.0\nerr ** 2\n")
    assert data.ns["err"] == 5.0 and data.ns["k"] == 1
    data.run("%%grad w\nw = w * 2\nw\n")
    assert data.ns["w"] == 4.0 and data.ns["grads"] == {"w": 2.0}


def test_output_name(data):
    data.run("%%grad -o g w\nw ** 3\n")
    assert data.ns["g"] == {"w": 12.0}
    data.run("%%grad --output=h2 b\nb * 4\n")
    assert data.ns["h2"] == {"b": 4.0}


def test_array_variables(data):
    data.run("v = np.array([1.0, 2.0, 3.0])")
    out = data.run("%%grad v\nnp.sum(v ** 2)\n")
    np.testing.assert_allclose(data.ns["grads"]["v"], [2.0, 4.0, 6.0])
    assert "(3,)" in out._repr_html_()


def test_functions_defined_in_the_cell_keep_their_source(data):
    data.run("%%grad w\ndef scaled(t):\n    return t * w\nscaled(x) + 1.0\n")
    assert data.ns["grads"] == {"w": 3.0}
    assert "return t * w" in inspect.getsource(data.ns["scaled"])
    # and dpnb can read them later, like any function of a cell
    assert dpnb.gradient(data.ns["scaled"], 2.0) == (2.0,)


def test_the_cell_function_is_read_from_the_shell_s_cache(data, shell):
    data.run("%%grad w\nw * x\n")
    names = [k for k in shell.compile._filename_map if "<string>" not in k]
    assert names  # compiled through shell.compile.cache


def test_result_shows_text_and_html(data):
    out = data.run("%%grad w b\n(w * x + b - y) ** 2\n")
    text = repr(out)
    assert "loss = 30.25" in text and "∂loss/∂w = 33" in text and "∂loss/∂b = 11" in text
    html = out._repr_html_()
    assert "<table" in html and "33" in html and "30.25" in html


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graph_option_draws_the_pullback_graph(data):
    out = data.run("%%grad --graph w\nerr = w * x - y\nerr ** 2\n")
    assert out.graph is not None
    assert "<svg" in out.graph_svg and "<svg" in out._repr_html_()
    names = {n.name for n in out.graph.recording.nodes}
    assert {"w", "err"} <= names


def test_graph_option_without_dot_is_one_line(data, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    error, printed = data.fails("%%grad --graph w\nw * 2\n")
    assert isinstance(error, UsageError)
    assert "apt-get install graphviz" in str(error)
    assert data.ns["grads"] == {"w": 2.0}  # the gradient was still computed


def test_unknown_variable(data):
    error, printed = data.fails("%%grad w nope\nw * 2\n")
    assert isinstance(error, UsageError)
    assert "no variable 'nope'" in str(error)
    assert "Traceback" not in printed


def test_no_final_expression(data):
    error, printed = data.fails("%%grad w\nz = w * 2\n")
    assert isinstance(error, UsageError) and "must end with an expression" in str(error)
    assert "Traceback" not in printed


def test_no_variables(data):
    error, _ = data.fails("%%grad\nw\n")
    assert isinstance(error, UsageError)


def test_non_scalar_loss(data):
    error, printed = data.fails("%%grad w\nnp.ones(3) * w\n")
    assert isinstance(error, UsageError)
    assert "real scalar" in str(error) and "(3,)" in str(error)
    assert "Traceback" not in printed


def test_loss_that_does_not_depend_on_a_variable_warns(data):
    with pytest.warns(GradWarning, match="does not depend on b"):
        data.run("%%grad w b\nw * 3\n")
    assert data.ns["grads"] == {"w": 3.0, "b": None}
    with pytest.warns(GradWarning, match="does not depend on w"):
        data.run("%%grad w\n5.0\n")


def test_an_error_in_the_user_s_code_shows_the_user_s_traceback(data):
    error, printed = data.fails("%%grad w\nz = w * 2\nq = 1.0\n1 / (z - 4)\n")
    assert isinstance(error, ZeroDivisionError)
    assert "line 4" in printed  # the cell's line, counting the %%grad line
    assert "1 / (z - 4)" in printed
    assert "dpnb/core" not in printed and "dpnb/api" not in printed
    # the assignments before the failure are not half-applied by dpnb
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    package = os.path.join(os.path.dirname(os.path.abspath(dpnb.__file__)), "")  # (wherever the tree is)
    assert not any(f.startswith(package) and "/magics/" not in f for f in frames)


def test_an_error_in_a_function_the_cell_calls(data):
    data.run("def bad(t):\n    if t > 1:\n        raise ValueError('too big')\n    return t\n")
    error, printed = data.fails("%%grad w\nbad(w) * 2\n")
    assert isinstance(error, ValueError) and "too big" in printed
    assert "raise ValueError('too big')" in printed


def test_syntax_error_in_the_cell(data):
    error, printed = data.fails("%%grad w\nz = 1\nw +* 2\n")
    assert isinstance(error, UsageError)
    assert "SyntaxError" in str(error) and "line 3: w +* 2" in str(error)


def test_unsupported_code_is_one_line(data):
    error, printed = data.fails("%%grad w\ndef gen():\n    yield w\nsum(gen())\n")
    assert isinstance(error, UsageError)
    assert "Traceback" not in printed


def test_grad_works_with_classes_and_helpers_from_other_cells(data):
    data.run(
        "class Line:\n"
        "    def __init__(self, a):\n"
        "        self.a = a\n"
        "    def __call__(self, t):\n"
        "        return self.a * t\n"
    )
    data.run("%%grad w\nm = Line(w)\nm(x) ** 2\n")
    assert data.ns["grads"] == {"w": 36.0}
