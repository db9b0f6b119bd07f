"""The pullback graph of one forward pass, drawn with Graphviz.

Every node is a value that dpnb's generated forward pass computed (see
`dpnb.viz.observe`): the inputs, the parameters read from outside `f`, each
operation, and the output. A node shows the user's variable (or the
operation), the source line it comes from, its value (or its shape) and the
gradient that reached it in the backward pass. Loop iterations are drawn as
one cluster each. Node ids are counters, so the same call draws the same graph.
"""
import linecache
import shutil

import numpy as np

from .._html import short_value
from .observe import observe

__all__ = ["pullback_graph", "render_svg", "GraphvizMissingError", "COLOURS", "MAX_NODES"]

#: fill colour of each kind of node
COLOURS = {"input": "#a6cee3", "parameter": "#fdbf6f", "operation": "#f0f0f0", "output": "#b2df8a"}
#: graphs with more nodes than this show the first ones and say how many are hidden
MAX_NODES = 150

INSTALL_HINT = (
    "the Graphviz program `dot` is not installed or not on PATH; install it with "
    "`apt-get install graphviz` (Debian/Ubuntu), `conda install graphviz` or `brew install graphviz`"
)


class GraphvizMissingError(RuntimeError):
    """Drawing a graph needs the Graphviz `dot` program, which is missing."""

    def __init__(self, message=INSTALL_HINT):
        super().__init__(message)


def _require_dot():
    try:
        import graphviz  # noqa: F401
    except ImportError:
        raise GraphvizMissingError(
            "drawing graphs needs the `graphviz` Python package (pip install 'dpnb[viz]') and " + INSTALL_HINT
        ) from None
    if shutil.which("dot") is None:
        raise GraphvizMissingError()


def _graph_class():
    import graphviz

    class PullbackGraph(graphviz.Digraph):
        """A `graphviz.Digraph` whose notebook display says what is missing instead of failing."""

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except (graphviz.ExecutableNotFound, graphviz.CalledProcessError, OSError) as e:
                return {"text/plain": f"pullback graph not drawn: {INSTALL_HINT} ({type(e).__name__})"}

    return PullbackGraph


def render_svg(graph):
    """The SVG text of `graph`, or `GraphvizMissingError` if `dot` is missing."""
    import graphviz

    try:
        return graph.pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizMissingError() from None


def _describe_value(v):
    if isinstance(v, np.ndarray) and v.size > 4:
        return f"shape {v.shape}"
    return short_value(v)


def _source_line(filename, line):
    text = linecache.getline(filename, line).strip()
    return text if len(text) <= 40 else text[:37] + "..."


def _label(node, filename):
    if node.kind == "input":
        head = f"input {node.name}"
    elif node.kind == "parameter":
        head = f"parameter {node.name}"
    elif node.name:
        head = f"{node.name} = {node.op}" if node.op not in ("copy", "constant") else node.name
    else:
        head = node.op
    lines = [head]
    if node.kind in ("operation", "output"):
        lines.append(f"line {node.line}: {_source_line(filename, node.line)}")
    lines.append(f"value {_describe_value(node.value)}")
    lines.append(f"grad {_describe_value(node.grad) if node.grad is not None else '—'}")
    if node.kind == "output":
        lines[0] = f"output: {lines[0]}"
    return "\n".join(lines)


def pullback_graph(f, *args, max_nodes=MAX_NODES, seed=None):
    """A `graphviz.Digraph` of one forward pass of `f(*args)`, each value with its gradient.

    Inputs, parameters, operations and the output each have their colour
    (`COLOURS`); a loop's iterations are one cluster each; past `max_nodes`
    nodes the graph says how many it hid. Needs the Graphviz `dot` program.

    >>> g = pullback_graph(lambda a, b: a * b + a, 2.0, 3.0)
    >>> [(n.kind, n.name or n.op, n.value, n.grad) for n in g.recording.nodes]
    [('input', 'a', 2.0, 4.0), ('input', 'b', 3.0, 2.0), ('operation', '*', 6.0, 1.0), ('output', '+', 8.0, 1.0)]
    >>> "n1 -> n3" in g.source and "n3 -> n4" in g.source
    True
    """
    _require_dot()
    rec = observe(f, *args, seed=seed)
    return graph_of(rec, max_nodes=max_nodes)


def graph_of(rec, max_nodes=MAX_NODES):
    """The Digraph of a `Recording` (see `pullback_graph`)."""
    Graph = _graph_class()
    g = Graph("pullback", graph_attr={"rankdir": "LR", "fontsize": "10"},
              node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "10"},
              edge_attr={"arrowsize": "0.6"})
    nodes = rec.nodes
    keep = [n for n in nodes if n.kind in ("input", "output", "parameter")]
    rest = [n for n in nodes if n.kind == "operation"]
    room = max(max_nodes - len(keep), 0)
    shown_ids = {n.id for n in keep} | {n.id for n in rest[:room]}
    hidden = len(nodes) - len(shown_ids)
    shown = [n for n in nodes if n.id in shown_ids]

    # clusters: one per loop iteration, nested as the loops are
    tree = {}  # path prefix -> list of nodes directly in it
    for n in shown:
        tree.setdefault(n.path, []).append(n)
    prefixes = sorted({p[:k] for p in tree for k in range(1, len(p) + 1)}, key=lambda p: (len(p), p))

    def emit_nodes(sub, items):
        for n in items:
            sub.node(n.id, _label(n, rec.filename), fillcolor=COLOURS[n.kind],
                     tooltip=f"line {n.line}")

    emit_nodes(g, tree.get((), []))

    def emit_cluster(parent, prefix, counter=[0]):
        counter[0] += 1
        lid, _, iteration = prefix[-1]
        line = rec.loops.get(lid, "?")
        with parent.subgraph(name=f"cluster_{counter[0]}") as sub:
            sub.attr(label=f"loop, line {line}: iteration {iteration}", style="dashed", fontsize="9")
            emit_nodes(sub, tree.get(prefix, []))
            for child in prefixes:
                if len(child) == len(prefix) + 1 and child[: len(prefix)] == prefix:
                    emit_cluster(sub, child, counter)

    count = [0]
    for prefix in prefixes:
        if len(prefix) == 1:
            emit_cluster(g, prefix, count)
    for n in shown:
        for d in n.deps:
            if d in shown_ids:
                g.edge(d, n.id)
    if hidden:
        g.node("hidden", f"{hidden} more nodes hidden (max_nodes={max_nodes})", shape="note", fillcolor="white")
    g.hidden_nodes = hidden
    g.recording = rec
    return g
