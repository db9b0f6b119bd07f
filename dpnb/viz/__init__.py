"""Pictures of differentiation, in the spirit of a whiteboard sketch.

- `pullback_graph(f, *args)`: the operations of one forward pass, each with
  its value and the gradient that reached it (a `graphviz.Digraph`);
- `plot_gradient(f, lo, hi)` and `plot_gradient(f, (xlo, xhi), (ylo, yhi))`:
  `f` beside its derivative, or contours with gradient arrows (matplotlib);
- `explore(f, **start)`: sliders for the inputs, a live plot with the tangent
  line, the gradient and the pullback graph (ipywidgets);
- `explain(f, *args)`: `f`'s source beside its generated adjoint, each line
  with its forward value and the gradient that flowed back through it.

Everything drawn comes from watching dpnb's own generated adjoint run once
(`dpnb.viz.observe`), not from a second tracer. The module imports without
graphviz, matplotlib or ipywidgets installed: each drawing imports what it
needs when it is called.
"""
from .explain import explain
from .explore import explore
from .graph import GraphvizMissingError, pullback_graph, render_svg
from .observe import observe
from .plots import plot_gradient

__all__ = ["pullback_graph", "render_svg", "plot_gradient", "explore", "explain", "observe", "GraphvizMissingError"]
