"""`explain(f, *args)`: the source of `f` beside its generated adjoint, annotated with one run.

Each line of `f` shows the values it computed in the forward pass and the
gradients that flowed back through it; the backward pass is then listed line
by line in the order it ran. Values and gradients come from one observed run of
dpnb's adjoint (`dpnb.viz.observe`), the code on the right is that adjoint.
"""
import inspect
import linecache

from .._html import escape, short_value
from .observe import observe

__all__ = ["explain", "Explanation"]


def explain(f, *args):
    """`f`'s source beside its adjoint, each line with its forward values and gradients.

    >>> def f(x):
    ...     y = x * x
    ...     return y + 1
    >>> print(explain(f, 3.0))  # doctest: +ELLIPSIS
    line  source            forward  backward (gradient)
       1  def f(x):         x = 3    x: 6
       2      y = x * x     y = 9    y: 1
       3      return y + 1  10       1
    <BLANKLINE>
    backward pass, line by line: 3 -> 1
    ...
    """
    import dpnb

    rec = observe(f, *args)
    try:
        adjoint = dpnb.adjoint_source(f, *args)
    except Exception as e:  # a callable object or a rule: the annotated source is still worth showing
        adjoint = f"# no adjoint source: {type(e).__name__}: {e}"
    return Explanation(rec, adjoint)


def _annotate(nodes, attr):
    """One short text for the values (or gradients) of the nodes of one line."""
    per_name = {}
    for n in nodes:
        v = getattr(n, attr)
        if v is None:
            continue
        key = n.name or (n.op if n.kind != "output" else "")
        per_name.setdefault(key, []).append(v)
    parts = []
    for key, values in per_name.items():
        text = short_value(values[-1])
        if len(values) > 1:
            text = f"{text} (last of {len(values)})"
        parts.append(f"{key} = {text}" if key and attr == "value" else (f"{key}: {text}" if key else text))
    return ", ".join(parts)


class Explanation:
    """What `explain` returns: `lines` (line, source, forward, backward), `adjoint`, `backward_order`."""

    def __init__(self, rec, adjoint):
        self.recording = rec
        self.adjoint = adjoint
        code = rec.fn.__code__
        try:
            src, first = inspect.getsourcelines(rec.fn)
        except (OSError, TypeError):
            first = code.co_firstlineno
            src = [linecache.getline(code.co_filename, first)]
        by_line = {}
        for n in rec.nodes:
            if n.kind in ("operation", "output"):
                by_line.setdefault(n.line, []).append(n)
        inputs = [n for n in rec.nodes if n.kind in ("input", "parameter")]
        self.lines = []
        for k, text in enumerate(src):
            line = first + k
            nodes = by_line.get(line, [])
            if line == first:
                nodes = inputs + nodes
            shown_nodes = [n for n in nodes if n.name or n.kind == "output"] or nodes[-1:]
            forward = _annotate(shown_nodes, "value")
            backward = _annotate(shown_nodes, "grad")
            self.lines.append((line - first + 1, text.rstrip("\n"), forward, backward, line))
        self.backward_order = [line - first + 1 for line in rec.backward_lines]

    def __str__(self):
        width = max((len(t) for _, t, _, _, _ in self.lines), default=10) + 2
        fwidth = max([len(f) for _, _, f, _, _ in self.lines] + [7]) + 2
        out = [f"{'line':>4}  {'source':<{width}}{'forward':<{fwidth}}backward (gradient)"]
        for n, text, fwd, bwd, _ in self.lines:
            out.append(f"{n:>4}  {text:<{width}}{fwd:<{fwidth}}{bwd}".rstrip())
        out.append("")
        out.append("backward pass, line by line: " + " -> ".join(str(n) for n in self.backward_order))
        out.append("")
        out.append("generated adjoint:")
        out.append(self.adjoint)
        return "\n".join(out)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td style='text-align:right;color:#888'>{n}</td><td style='text-align:left'><code>"
            f"{escape(text).replace(' ', '&nbsp;')}</code></td>"
            f"<td style='text-align:left;color:#1f77b4'><code>{escape(fwd)}</code></td>"
            f"<td style='text-align:left;color:#d62728'><code>{escape(bwd)}</code></td></tr>"
            for n, text, fwd, bwd, _ in self.lines
        )
        left = (
            "<table class='dpnb-explain'><tr><th>line</th><th style='text-align:left'>source</th>"
            "<th style='text-align:left'>forward value</th><th style='text-align:left'>gradient</th></tr>"
            f"{rows}</table>"
            f"<p>backward pass, line by line: {' &rarr; '.join(str(n) for n in self.backward_order)}</p>"
        )
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer

            right = highlight(self.adjoint, PythonLexer(), HtmlFormatter(noclasses=True))
        except ImportError:
            right = f"<pre>{escape(self.adjoint)}</pre>"
        return (
            "<div style='display:flex;gap:2em;align-items:flex-start'>"
            f"<div><b>your code, one run</b>{left}</div><div><b>generated adjoint</b>{right}</div></div>"
        )
