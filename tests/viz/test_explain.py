"""explain: the source beside the adjoint, annotated with one run."""
import numpy as np

import dpnb
from dpnb.viz import explain

import viz_programs as P


def test_lines_carry_forward_values_and_gradients():
    e = explain(P.product, 2.0, 3.0)
    first, body, ret = e.lines
    assert "def product" in first[1] and "a = 2" in first[2] and "a: 4" in first[3]
    assert body[1].strip() == "c = a * b" and body[2] == "c = 6" and body[3] == "c: 1"
    assert ret[2] == "8" and ret[3] == "1"


def test_backward_order_runs_from_the_return_up():
    e = explain(P.loop, 1.0, 2.0)
    assert e.backward_order[0] == 5  # `y = s ** 2` (line 5 of the function), the output
    assert e.backward_order[-1] < e.backward_order[0]


def test_loops_say_how_many_values_a_line_had():
    text = str(explain(P.loop, 1.0, 2.0))
    assert "(last of 3)" in text


def test_str_and_html_show_both_codes():
    e = explain(P.product, 2.0, 3.0)
    text = str(e)
    assert "c = a * b" in text and "product_pullback" in text
    assert e.adjoint == dpnb.adjoint_source(P.product, 2.0, 3.0)
    html = e._repr_html_()
    assert "<table" in html and "pullback" in html and "c&nbsp;=&nbsp;a&nbsp;*&nbsp;b" in html


def test_arrays():
    e = explain(P.on_arrays, np.arange(3.0))
    assert "u = [0., 2., 4.]" in str(e)
