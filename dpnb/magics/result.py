"""What a `%%grad` cell shows: the loss and a table of gradients.

>>> r = GradResult(2.5, {"w": 1.0, "b": None})
>>> r
loss = 2.5
  ∂loss/∂w = 1
  ∂loss/∂b = None
>>> "<table" in r._repr_html_()
True
"""
from .._html import escape, short_value, table

__all__ = ["GradResult"]


class GradResult:
    """The loss of a `%%grad` cell and its gradient per variable (`grads` maps name -> gradient)."""

    def __init__(self, loss, grads, graph=None, graph_svg=None):
        self.loss = loss
        self.grads = dict(grads)
        self.graph = graph
        self.graph_svg = graph_svg

    def __repr__(self):
        lines = [f"loss = {short_value(self.loss)}"]
        lines += [f"  ∂loss/∂{name} = {short_value(g)}" for name, g in self.grads.items()]
        if self.graph is not None:
            lines.append(f"  (pullback graph of {len(self.graph.body)} lines of DOT: shown as SVG in a notebook)")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = [(escape(name), escape(_shape(g)), escape(short_value(g))) for name, g in self.grads.items()]
        out = [
            f"<div class='dpnb-grad'><p>loss = <code>{escape(short_value(self.loss))}</code></p>",
            table(rows, header=("variable", "shape", "gradient")),
        ]
        if self.graph_svg:
            out.append(self.graph_svg)
        out.append("</div>")
        return "".join(out)


def _shape(g):
    shape = getattr(g, "shape", None)
    return "scalar" if shape is None or shape == () else str(shape)
