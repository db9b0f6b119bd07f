"""`explore(f, **start)`: sliders for the inputs of `f`, with everything redrawn as they move.

The view shows, for the current inputs: a plot of `f` along the input last
moved (the others held) with its tangent line, the value and gradient, and the
pullback graph. Value, gradient and graph come from one observed run of dpnb's
adjoint (`dpnb.viz.observe`); the plot is a small SVG drawn here, so a slider
move costs one gradient, a few dozen calls of `f` and one run of `dot`.
"""
import inspect

import numpy as np

from .._html import escape, short_value, table

__all__ = ["explore", "Explorer"]

#: points on the plotted curve
SAMPLES = 60


def explore(f, **start):
    """An ipywidgets view of `f`: one slider per parameter, starting at `start` (0.0 where not given).

    >>> view = explore(lambda x: x ** 2, x=1.0)
    >>> view.sliders["x"].value = 2.0
    >>> view.gradient
    (4.0,)
    """
    widgets = _import_widgets()
    global _Explorer
    if _Explorer is None:
        _Explorer = type("Explorer", (Explorer, widgets.VBox), {"__doc__": Explorer.__doc__})
    return _Explorer(f, start)


_Explorer = None


def _slider_value(s):
    return s.value if type(s.value) is int and type(s).__name__ == "IntSlider" else float(s.value)


def _range(v):
    span = 2.0 * (abs(v) + 1.0)
    return v - span, v + span


def _import_widgets():
    try:
        import ipywidgets
    except ImportError:
        raise ImportError("dpnb.viz.explore needs ipywidgets: pip install 'dpnb[viz]'") from None
    return ipywidgets


class Explorer:
    """What the `ipywidgets.VBox` that `explore` returns does: sliders, plot, values and graph.

    `sliders` maps each parameter to its `FloatSlider`; `plot`, `values` and `graph` are
    `widgets.HTML`; `value`, `gradient`, `curve` (xs, ys) and `tangent` ((x0, x1), (y0, y1))
    hold what is drawn now.
    """

    def __init__(self, f, start):
        widgets = _import_widgets()
        self.f = f
        try:
            params = [p for p in inspect.signature(f).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            raise TypeError("explore needs a function with named positional parameters") from None
        unknown = set(start) - {p.name for p in params}
        if unknown:
            raise TypeError(f"explore: {f.__name__ if hasattr(f, '__name__') else 'f'} has no parameter "
                            + ", ".join(sorted(unknown)))
        # trailing parameters with defaults that `start` does not set keep their defaults
        while params and params[-1].name not in start and params[-1].default is not params[-1].empty:
            params.pop()
        names = [p.name for p in params]
        self.names = names
        self.sliders = {}
        for p in params:
            name = p.name
            if type(p.default) is int and type(start.get(name, p.default)) is int:
                # an integer default (a count, a size): an integer slider
                v = start.get(name, p.default)
                s = widgets.IntSlider(value=v, min=min(0, v), max=max(2 * v, 10), description=name,
                                      continuous_update=True)
                s.observe(self._moved, names="value")
                self.sliders[name] = s
                continue
            v = float(start.get(name, 0.0 if p.default is p.empty else p.default))
            lo, hi = _range(v)
            s = widgets.FloatSlider(value=v, min=lo, max=hi, step=(hi - lo) / 400, description=name,
                                    continuous_update=True, readout_format=".3g")
            s.observe(self._moved, names="value")
            self.sliders[name] = s
        self.plot = widgets.HTML()
        self.values = widgets.HTML()
        self.graph = widgets.HTML()
        super().__init__([*self.sliders.values(), widgets.HBox([self.plot, self.values]), self.graph])
        self.axis = names[0] if names else None
        self._curve_key = None
        self.curve = None
        self.tangent = None
        self.value = None
        self.gradient = None
        self.update()

    # the view -------------------------------------------------------------------------

    def _moved(self, change):
        owner = change["owner"]
        self.axis = owner.description
        self.update()

    def point(self):
        return tuple(_slider_value(self.sliders[n]) for n in self.names)

    def update(self):
        """Recompute the value, gradient, plot and graph at the sliders' values."""
        from .graph import GraphvizMissingError, _require_dot, graph_of, render_svg
        from .observe import observe

        args = self.point()
        try:
            rec = observe(self.f, *args)
        except Exception as e:  # shown in the view: an exception here must not break the widget
            self.values.value = f"<pre>{escape(type(e).__name__)}: {escape(str(e))}</pre>"
            return
        self.value = rec.value
        self.gradient = tuple(None if g is None else float(np.real(g)) for g in rec.input_grads)
        rows = [(escape(f"f({', '.join(f'{v:.4g}' for v in args)})"), escape(short_value(self.value)))]
        rows += [(escape(f"∂f/∂{n}"), escape(short_value(g))) for n, g in zip(self.names, self.gradient)]
        self.values.value = table(rows)
        self.plot.value = self._plot(args)
        try:
            _require_dot()
            self.graph.value = render_svg(graph_of(rec))
        except GraphvizMissingError as e:
            self.graph.value = f"<p><i>pullback graph not drawn: {escape(str(e))}</i></p>"

    def _plot(self, args):
        if self.axis is None:
            return ""
        k = self.names.index(self.axis)
        s = self.sliders[self.axis]
        key = (k, s.min, s.max) + args[:k] + args[k + 1:]
        if key != self._curve_key:
            xs = np.linspace(s.min, s.max, SAMPLES)
            ys = []
            for x in xs:
                a = list(args)
                a[k] = float(x)
                try:
                    ys.append(float(np.real(self.f(*a))))
                except Exception:
                    ys.append(np.nan)
            self.curve = (xs, np.array(ys))
            self._curve_key = key
        x0 = args[k]
        y0 = float(np.real(self.value))
        slope = self.gradient[k] or 0.0
        half = (s.max - s.min) / 6
        self.tangent = ((x0 - half, x0 + half), (y0 - slope * half, y0 + slope * half))
        return svg_plot(self.curve, self.tangent, (x0, y0), self.axis)


def svg_plot(curve, tangent, point, xlabel, width=320, height=220):
    """A small SVG of a curve, a tangent segment and a point."""
    xs, ys = curve
    finite = ys[np.isfinite(ys)]
    tys = np.asarray(tangent[1])
    lo_y = float(min(finite.min(), tys.min())) if finite.size else -1.0
    hi_y = float(max(finite.max(), tys.max())) if finite.size else 1.0
    if hi_y - lo_y < 1e-12:
        lo_y, hi_y = lo_y - 1, hi_y + 1
    lo_x, hi_x = float(xs[0]), float(xs[-1])
    pad = 24

    def sx(x):
        return pad + (x - lo_x) / (hi_x - lo_x) * (width - 2 * pad)

    def sy(y):
        return height - pad - (y - lo_y) / (hi_y - lo_y) * (height - 2 * pad)

    pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys) if np.isfinite(y))
    (tx0, tx1), (ty0, ty1) = tangent
    px, py = point
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" class="dpnb-plot">'
        f'<rect x="{pad}" y="{pad}" width="{width - 2 * pad}" height="{height - 2 * pad}" fill="none" stroke="#ccc"/>'
        f'<polyline class="curve" points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>'
        f'<line class="tangent" x1="{sx(tx0):.1f}" y1="{sy(ty0):.1f}" x2="{sx(tx1):.1f}" y2="{sy(ty1):.1f}" '
        f'stroke="#d62728" stroke-width="1.5"/>'
        f'<circle class="point" cx="{sx(px):.1f}" cy="{sy(py):.1f}" r="4" fill="#d62728"/>'
        f'<text x="{width / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{escape(xlabel)}</text>'
        f'<text x="4" y="{pad - 8}" font-size="10">{hi_y:.3g}</text>'
        f'<text x="4" y="{height - pad + 12}" font-size="10">{lo_y:.3g}</text>'
        "</svg>"
    )
