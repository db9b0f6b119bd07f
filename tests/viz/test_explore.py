"""explore, headless: move sliders, read what the widgets show."""
import shutil
import time

import ipywidgets as widgets
import numpy as np
import pytest

from dpnb.viz import explore

import viz_programs as P


def test_is_a_widget_with_a_slider_per_parameter():
    view = explore(P.bowl, x=1.0, y=-0.5)
    assert isinstance(view, widgets.VBox)
    assert list(view.sliders) == ["x", "y"]
    assert view.sliders["x"].value == 1.0 and view.sliders["y"].value == -0.5
    assert view.gradient == (2.0, -3.0)
    assert view.sliders["x"].description == "x"


def test_moving_a_slider_updates_value_gradient_plot_and_graph():
    view = explore(P.quartic, x=1.0)
    before = (view.values.value, view.plot.value, view.graph.value)
    view.sliders["x"].value = 1.5
    assert view.value == pytest.approx(1.5 ** 4 - 3.0)
    assert view.gradient == (pytest.approx(4 * 1.5 ** 3 - 2.0),)
    assert "11.5" in view.values.value  # the new gradient
    after = (view.values.value, view.plot.value, view.graph.value)
    assert all(a != b for a, b in zip(before, after))


def test_plot_shows_f_and_the_tangent_line():
    view = explore(P.quartic, x=0.5)
    xs, ys = view.curve
    np.testing.assert_allclose(ys, xs ** 4 - 2 * xs)
    (x0, x1), (y0, y1) = view.tangent
    slope = (y1 - y0) / (x1 - x0)
    assert slope == pytest.approx(4 * 0.5 ** 3 - 2.0)
    mid = ((x0 + x1) / 2, (y0 + y1) / 2)
    assert mid == pytest.approx((0.5, 0.5 ** 4 - 1.0))
    svg = view.plot.value
    assert svg.startswith("<svg") and "polyline" in svg and 'class="tangent"' in svg


def test_plot_follows_the_slider_last_moved():
    view = explore(P.bowl, x=1.0, y=1.0)
    view.sliders["y"].value = 0.5
    (x0, x1), (y0, y1) = view.tangent
    assert (y1 - y0) / (x1 - x0) == pytest.approx(6 * 0.5)
    xs, ys = view.curve
    np.testing.assert_allclose(ys, 1.0 + 3.0 * xs ** 2)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_is_svg_inside_html():
    view = explore(P.product, a=2.0, b=3.0)
    assert "<svg" in view.graph.value
    view.sliders["b"].value = 4.0
    assert "value 8" in view.graph.value or "8</text>" in view.graph.value


def test_without_dot_the_view_says_so(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    view = explore(P.quartic, x=1.0)
    assert "apt-get install graphviz" in view.graph.value


def test_an_error_in_f_is_shown_not_raised():
    def f(x):
        return 1.0 / x

    view = explore(P.quartic, x=1.0)
    view.f = f
    view.sliders["x"].value = 0.0
    assert "ZeroDivisionError" in view.values.value


def test_unknown_start_parameter():
    with pytest.raises(TypeError, match="no parameter z"):
        explore(P.quartic, z=1.0)


def test_slider_latency_is_reported():
    view = explore(P.quartic, x=1.0)
    moves = 20
    start = time.perf_counter()
    for k in range(moves):
        view.sliders["x"].value = 1.0 + 0.01 * (k + 1)
    elapsed = (time.perf_counter() - start) / moves
    print(f"\nexplore: one slider move answered in {elapsed * 1000:.1f} ms")


def _steps(x, n=3):
    r = 1.0
    for _ in range(n):
        r = r * x
    return r


def test_parameters_with_defaults_keep_them():
    # a trailing parameter with a default gets no slider; an integer one given in `start` gets an
    # integer slider (it once got a float slider at 0.0, and range(0.0) failed in the view)
    view = explore(_steps, x=1.5)
    assert list(view.sliders) == ["x"]
    assert view.gradient == (pytest.approx(3 * 1.5**2),)
    view = explore(_steps, x=1.5, n=4)
    assert type(view.sliders["n"]).__name__ == "IntSlider"
    assert view.gradient[0] == pytest.approx(4 * 1.5**3)
    view.sliders["n"].value = 2
    assert view.value == pytest.approx(2.25) and view.gradient[0] == pytest.approx(3.0)
