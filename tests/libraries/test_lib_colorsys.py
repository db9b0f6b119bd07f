"""`colorsys`, a library never written for AD: plain Python, no rules -- the source transform
must handle it. Gradients of the sum of the outputs and of each output with respect to each
input, at several points away from the kinks (ties between r, g, b; l = 0.5; hue on a sextant
boundary; clamping in yiq_to_rgb), against central differences.
"""
import colorsys

import pytest

from dpnb import gradient
from dpnb.testing import numerical_gradient

# points with distinct components, strictly inside the cube, whose YIQ images map back inside it
RGB_POINTS = [(0.8, 0.3, 0.5), (0.2, 0.7, 0.4), (0.35, 0.15, 0.9), (0.6, 0.55, 0.1)]
# hue h, h + 1/3 and h - 1/3 (mod 1) avoid 0, 1/6, 1/2 and 2/3; l away from 0.5; 0 < s < 1;
# the last point has a hue above 1 (wrapped by `% 1.0`)
HLS_POINTS = [(0.1, 0.4, 0.6), (0.3, 0.7, 0.5), (0.55, 0.35, 0.8), (0.8, 0.6, 0.3), (1.3, 0.45, 0.7)]
# h * 6 not an integer
HSV_POINTS = [(0.1, 0.6, 0.7), (0.3, 0.4, 0.9), (0.55, 0.8, 0.5), (0.8, 0.3, 0.6), (0.95, 0.5, 0.4)]
YIQ_POINTS = [colorsys.rgb_to_yiq(*p) for p in RGB_POINTS]

FUNCTIONS = {
    "rgb_to_yiq": (colorsys.rgb_to_yiq, RGB_POINTS),
    "yiq_to_rgb": (colorsys.yiq_to_rgb, YIQ_POINTS),
    "rgb_to_hls": (colorsys.rgb_to_hls, RGB_POINTS),
    "hls_to_rgb": (colorsys.hls_to_rgb, HLS_POINTS),
    "rgb_to_hsv": (colorsys.rgb_to_hsv, RGB_POINTS),
    "hsv_to_rgb": (colorsys.hsv_to_rgb, HSV_POINTS),
}

CASES = [
    pytest.param(name, point, out, id=f"{name}-{point_id}-{'sum' if out is None else f'out{out}'}")
    for name, (fn, points) in FUNCTIONS.items()
    for point_id, point in enumerate(points)
    for out in (None, 0, 1, 2)
]


def _check(f, point):
    want = numerical_gradient(f, *point)
    got = gradient(f, *point)
    assert len(got) == 3
    for i, (g, w) in enumerate(zip(got, want)):
        g = 0.0 if g is None and abs(w) <= 1e-6 else g
        assert g is not None, f"input {i}: no gradient (None), expected {w!r}; all: {got!r} vs {want!r}"
        assert abs(g - w) <= 1e-6 + 1e-5 * abs(w), f"input {i}: got {got!r}, expected {want!r}"


@pytest.mark.parametrize("name, point, out", CASES)
def test_colorsys_gradient(name, point, out):
    """d(sum of outputs)/d(each input), or d(output `out`)/d(each input), vs central differences.

    Today: fails in 10 of 104: hls_to_rgb, wherever the output depends on h (the gradient in h is None); every
        other function and output passes.
    """
    fn = FUNCTIONS[name][0]
    if out is None:
        f = lambda a, b, c: sum(fn(a, b, c))  # noqa: E731
    else:
        f = lambda a, b, c: fn(a, b, c)[out]  # noqa: E731
    _check(f, point)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_colorsys_round_trip_and_tuple_argument(name):
    """A colour as one tuple argument, unpacked with *: squared distance between two conversions.

    Today: fails for hls_to_rgb (gradient in h missing); the other 5 pass.
    """
    fn, points = FUNCTIONS[name]

    def f(c):
        out = fn(*c)
        return sum((u - v) ** 2 for u, v in zip(out, c)) + out[0] * out[1]

    c = points[2]
    (want,) = numerical_gradient(f, c)
    (got,) = gradient(f, c)
    assert got is not None and len(got) == 3, got
    for g, w in zip(got, want):
        g = 0.0 if g is None and abs(w) <= 1e-6 else g
        assert g is not None and abs(g - w) <= 1e-6 + 1e-5 * abs(w), (got, want)
