"""plot_gradient: the plotted data is f and its derivative (or contours and gradient arrows)."""
import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from dpnb.viz import plot_gradient

import viz_programs as P

matplotlib.use("Agg")


def test_one_variable_plots_f_and_its_derivative():
    fig = plot_gradient(P.quartic, -2.0, 2.0)
    assert isinstance(fig, Figure)
    f_line, d_line = fig.axes[0].get_lines()[:2]
    xs, ys = f_line.get_data()
    _, ds = d_line.get_data()
    assert xs[0] == -2.0 and xs[-1] == 2.0
    np.testing.assert_allclose(ys, xs ** 4 - 2 * xs)
    np.testing.assert_allclose(ds, 4 * xs ** 3 - 2.0)
    assert fig.axes[0].get_xlabel() == "x"


def test_two_variables_draw_contours_and_gradient_arrows():
    from matplotlib.quiver import Quiver

    fig = plot_gradient(P.bowl, (-1.0, 1.0), (-2.0, 2.0))
    ax = fig.axes[0]
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    X, Y = quiver.X, quiver.Y
    np.testing.assert_allclose(quiver.U, 2 * X)
    np.testing.assert_allclose(quiver.V, 6 * Y)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert len(fig.axes) == 2  # the plot and its colour bar


def test_renders_to_png():
    import io

    buf = io.BytesIO()
    plot_gradient(P.quartic, 0.0, 1.0).savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_mixed_ranges_are_refused():
    with pytest.raises(TypeError):
        plot_gradient(P.bowl, (0.0, 1.0), 2.0)
