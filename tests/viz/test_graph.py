"""pullback_graph: nodes, edges, values, gradients, loops, the node limit, determinism."""
import shutil
import time

import numpy as np
import pytest

import dpnb
from dpnb.viz import GraphvizMissingError, pullback_graph, render_svg
from dpnb.viz.graph import COLOURS

import viz_programs as P

# graph tests run whenever `dot` is installed; only its absence skips them
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def nodes(g):
    return g.recording.nodes


def edges(g):
    return {(a, b) for line in g.body for a, b in [_edge(line)] if a}


def _edge(line):
    line = line.strip()
    if "->" not in line:
        return None, None
    a, b = line.split("->")
    return a.strip(), b.strip().split()[0]


def test_a_product_plus_a_term():
    g = pullback_graph(P.product, 2.0, 3.0)
    a, b, c, out = nodes(g)
    assert (a.kind, a.name, a.value, a.grad) == ("input", "a", 2.0, 4.0)
    assert (b.kind, b.name, b.value, b.grad) == ("input", "b", 3.0, 2.0)
    assert (c.kind, c.name, c.op, c.value, c.grad) == ("operation", "c", "*", 6.0, 1.0)
    assert (out.kind, out.op, out.value, out.grad) == ("output", "+", 8.0, 1.0)
    assert edges(g) == {(a.id, c.id), (b.id, c.id), (c.id, out.id), (a.id, out.id)}


def test_labels_name_variables_source_lines_values_and_gradients():
    g = pullback_graph(P.product, 2.0, 3.0)
    src = g.source
    assert "input a" in src and "c = *" in src
    assert "c = a * b" in src  # the user's source line
    assert "value 6" in src and "grad 4" in src


def test_each_kind_has_its_colour():
    g = pullback_graph(P.with_parameter, np.array([1.0, 1.0]))
    kinds = {n.kind for n in nodes(g)}
    assert kinds == {"input", "parameter", "operation", "output"}
    for kind in kinds:
        assert COLOURS[kind] in g.source
    (param,) = [n for n in nodes(g) if n.kind == "parameter"]
    assert param.name == "W" and param.value is P.W
    matmul = [n for n in nodes(g) if n.name == "h"][0]
    assert param.id in matmul.deps


def test_gradients_agree_with_dpnb():
    g = pullback_graph(P.loop, 1.0, 2.0)
    grads = [n.grad for n in nodes(g) if n.kind == "input"]
    assert np.allclose(grads, dpnb.gradient(P.loop, 1.0, 2.0))
    out = [n for n in nodes(g) if n.kind == "output"]
    assert len(out) == 1 and out[0].value == pytest.approx(P.loop(1.0, 2.0))


def test_loop_iterations_are_clusters_with_their_own_gradients():
    g = pullback_graph(P.loop, 1.0, 2.0)
    clusters = [line for line in g.body if "subgraph cluster_" in line]
    assert len(clusters) == 3
    assert "iteration 0" in g.source and "iteration 2" in g.source
    sines = [n for n in nodes(g) if n.op == "sin"]
    assert len(sines) == 3
    # d(s**2)/d(sin) in iteration i is 2 * s * i
    s = P.loop(1.0, 2.0) ** 0.5
    assert [n.grad for n in sines] == pytest.approx([2 * s * i for i in range(3)])
    assert [n.path[-1][2] for n in sines] == [0, 1, 2]


def test_nested_loops_nest_their_clusters():
    g = pullback_graph(P.nested, 1.5)
    depths = {len(n.path) for n in nodes(g)}
    assert depths == {0, 1, 2}
    assert sum("subgraph cluster_" in line for line in g.body) == 2 + 2 * 3


def test_node_limit_says_how_many_it_hid():
    g = pullback_graph(P.long_loop, 0.5, 2.0, max_nodes=40)
    assert g.hidden_nodes > 0
    assert f"{g.hidden_nodes} more nodes hidden" in g.source
    shown = g.source.count("fillcolor")
    assert shown <= 41


def test_same_call_same_graph():
    a = pullback_graph(P.loop, 1.0, 2.0)
    b = pullback_graph(P.loop, 1.0, 2.0)
    assert a.source == b.source
    assert render_svg(a) == render_svg(b)


def test_array_values_show_their_shape():
    g = pullback_graph(P.on_arrays, np.arange(6.0))
    assert "shape (6,)" in g.source
    (inp,) = [n for n in nodes(g) if n.kind == "input"]
    np.testing.assert_allclose(inp.grad, dpnb.gradient(P.on_arrays, np.arange(6.0))[0])


def test_branch_taken_is_drawn():
    g = pullback_graph(P.branchy, 2.0)
    assert [n.name for n in nodes(g) if n.kind != "input"] == ["y"]
    assert nodes(g)[-1].grad == 1.0 and nodes(g)[0].grad == 4.0


def test_renders_svg():
    svg = render_svg(pullback_graph(P.product, 2.0, 3.0))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_without_dot_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizMissingError) as info:
        pullback_graph(P.product, 2.0, 3.0)
    text = str(info.value)
    assert "apt-get install graphviz" in text and "conda" in text and "brew" in text


def test_display_without_dot_does_not_raise(monkeypatch):
    g = pullback_graph(P.product, 2.0, 3.0)
    monkeypatch.setenv("PATH", "/nonexistent")
    bundle = g._repr_mimebundle_()
    assert "apt-get install graphviz" in bundle["text/plain"]


def test_speed_of_a_fifty_step_loop_is_reported():
    start = time.perf_counter()
    svg = render_svg(pullback_graph(P.long_loop, 0.5, 2.0))
    elapsed = time.perf_counter() - start
    assert "<svg" in svg
    print(f"\npullback_graph + SVG of a 50-step loop: {elapsed * 1000:.0f} ms")
