"""Sampled functions: the grids `linspace`, `logspace` and `geomspace` (differentiable in their
end points and base), `interp` (in the points, the sample positions and values, the
`left`/`right` fill values and the period) and `gradient` (in the samples and the spacings
or coordinates).
"""
import numpy as np

from .._common import bind, call_bars, has_tangent, to_like, unbroadcast_to
from ._base import asarray, register

# --- grids ----------------------------------------------------------------------------------

_LINSPACE = ("start", "stop", "num", "endpoint", "retstep", "dtype", "axis")
_LOGSPACE = ("start", "stop", "num", "endpoint", "base", "dtype", "axis")
_GEOMSPACE = ("start", "stop", "num", "endpoint", "dtype", "axis")


def _fractions(num, endpoint):
    """t in y = start + t * (stop - start): 0 .. 1 (or 0 .. 1 - 1/num without the end point)."""
    div = (num - 1) if endpoint else num
    return np.arange(num) / div if div > 0 else np.zeros(num), div


def _end_bars(G, t, axis, start_weight, stop_weight):
    """Cotangents of start and stop from the grid's cotangent `G` (the grid axis at `axis`)."""
    Gm = np.moveaxis(asarray(G), axis, 0)
    t = t.reshape((-1,) + (1,) * (Gm.ndim - 1))
    start_bar = np.sum(Gm * start_weight(t), axis=0)
    stop_bar = np.sum(Gm * stop_weight(t), axis=0)
    return start_bar, stop_bar


def linspace_rrule(*args, **kwargs):
    y = np.linspace(*args, **kwargs)

    def linspace_pullback(y_bar):
        p = bind(_LINSPACE, args, kwargs, num=50, endpoint=True, retstep=False, dtype=None, axis=0)
        if np.dtype(np.asarray(y[0] if p["retstep"] else y).dtype).kind not in "fc":
            return call_bars(_LINSPACE, args, kwargs, {})  # rounded to integers: no gradient
        t, div = _fractions(p["num"], p["endpoint"])
        G, step_bar = (y_bar[0], y_bar[1]) if p["retstep"] else (y_bar, None)
        start_bar = stop_bar = 0
        if G is not None:
            start_bar, stop_bar = _end_bars(G, t, p["axis"], lambda t: 1 - t, lambda t: t)
        if step_bar is not None and div > 0:  # step = (stop - start) / div
            start_bar = start_bar - asarray(step_bar) / div
            stop_bar = stop_bar + asarray(step_bar) / div
        bars = {"start": unbroadcast_to(asarray(start_bar), p["start"]),
                "stop": unbroadcast_to(asarray(stop_bar), p["stop"])}
        return call_bars(_LINSPACE, args, kwargs, bars)

    return y, linspace_pullback


def logspace_rrule(*args, **kwargs):
    y = np.logspace(*args, **kwargs)

    def logspace_pullback(y_bar):
        # y = base ** linspace(start, stop)
        p = bind(_LOGSPACE, args, kwargs, num=50, endpoint=True, base=10.0, dtype=None, axis=0)
        if np.asarray(y).dtype.kind not in "fc":
            return call_bars(_LOGSPACE, args, kwargs, {})
        t, _ = _fractions(p["num"], p["endpoint"])
        base = np.asarray(p["base"])
        B = np.expand_dims(base, p["axis"]) if base.ndim else base
        G = asarray(y_bar) * y
        start_bar, stop_bar = _end_bars(G * np.log(B), t, p["axis"], lambda t: 1 - t, lambda t: t)
        lin = np.log(y) / np.log(B)
        bars = {"start": unbroadcast_to(start_bar, p["start"]), "stop": unbroadcast_to(stop_bar, p["stop"])}
        if has_tangent(p["base"]):
            base_bar = unbroadcast_to(G * lin / B, B)
            bars["base"] = to_like(np.reshape(base_bar, base.shape), p["base"])
        return call_bars(_LOGSPACE, args, kwargs, bars)

    return y, logspace_pullback


def geomspace_rrule(*args, **kwargs):
    y = np.geomspace(*args, **kwargs)

    def geomspace_pullback(y_bar):
        # y = start ** (1 - t) * stop ** t: dy/dstart = (1 - t) y / start, dy/dstop = t y / stop
        p = bind(_GEOMSPACE, args, kwargs, num=50, endpoint=True, dtype=None, axis=0)
        if np.asarray(y).dtype.kind not in "fc":
            return call_bars(_GEOMSPACE, args, kwargs, {})
        t, _ = _fractions(p["num"], p["endpoint"])
        G = asarray(y_bar) * y
        start_bar, stop_bar = _end_bars(G, t, p["axis"], lambda t: 1 - t, lambda t: t)
        bars = {"start": unbroadcast_to(start_bar / np.asarray(p["start"]), p["start"]),
                "stop": unbroadcast_to(stop_bar / np.asarray(p["stop"]), p["stop"])}
        return call_bars(_GEOMSPACE, args, kwargs, bars)

    return y, geomspace_pullback


# Dask builds grids from numbers: NumPy end points only, whose cotangents follow a Dask or CuPy
# cotangent into its library
register(np.linspace, linspace_rrule, cotangents=True)
register(np.logspace, logspace_rrule, cotangents=True)
register(np.geomspace, geomspace_rrule, cotangents=True)


# --- interp ---------------------------------------------------------------------------------

_INTERP = ("x", "xp", "fp", "left", "right", "period")


def _interp_bars(x, xp, fp, G, left, right):
    """Cotangents of x, xp, fp, left, right for y = interp(x, xp, fp, left, right): on
    [xp[j], xp[j + 1]], y = fp[j] + t (fp[j + 1] - fp[j]) with t = (x - xp[j]) / (xp[j + 1] - xp[j])
    (a point on a sample takes the segment to its right; the last one the segment to its left)."""
    n = xp.size
    below, above = x < xp[0], x > xp[-1]
    fp_bar = np.zeros(fp.shape, np.result_type(fp, G, np.float64))
    xp_bar = np.zeros(xp.shape, np.result_type(xp, np.float64))
    x_bar = np.zeros(x.shape, np.result_type(x, fp, G, np.float64))
    if n > 1:
        j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
        h = xp[j + 1] - xp[j]
        t = (x - xp[j]) / h
        slope = (fp[j + 1] - fp[j]) / h
        inside = ~below & ~above
        g = np.where(inside, G, 0)
        x_bar = g * slope
        np.add.at(fp_bar, j, g * (1 - t))
        np.add.at(fp_bar, j + 1, g * t)
        # dy/dxp[j] = -slope (1 - t), dy/dxp[j + 1] = -slope t
        np.add.at(xp_bar, j, np.real(-g * slope * (1 - t)))
        np.add.at(xp_bar, j + 1, np.real(-g * slope * t))
    else:
        fp_bar[0] += np.sum(np.where(~below & ~above, G, 0))
    left_bar = right_bar = None
    if left is None:
        fp_bar[0] += np.sum(np.where(below, G, 0))
    else:
        left_bar = np.sum(np.where(below, G, 0))
    if right is None:
        fp_bar[-1] += np.sum(np.where(above, G, 0))
    else:
        right_bar = np.sum(np.where(above, G, 0))
    return x_bar, xp_bar, fp_bar, left_bar, right_bar


def interp_rrule(*args, **kwargs):
    y = np.interp(*args, **kwargs)

    def interp_pullback(y_bar):
        p = bind(_INTERP, args, kwargs, left=None, right=None, period=None)
        x, xp, fp, period = p["x"], p["xp"], p["fp"], p["period"]
        X, XP, FP = np.asarray(x, float), np.asarray(xp, float), np.asarray(fp)
        if FP.dtype.kind not in "fc":
            FP = FP.astype(float)
        G = np.broadcast_to(np.asarray(y_bar), X.shape)
        if period is None:
            x_bar, xp_bar, fp_bar, left_bar, right_bar = _interp_bars(X, XP, FP, G, p["left"], p["right"])
        else:
            # NumPy's periodic form: sort xp modulo the period and wrap one sample at each end
            order = np.argsort(XP % period)
            idx = np.concatenate([order[-1:], order, order[:1]])
            shift = np.concatenate([[-period], np.zeros(XP.size), [period]])
            x_bar, xp2_bar, fp2_bar, _, _ = _interp_bars(X % period, XP[idx] % period + shift, FP[idx], G, 0, 0)
            xp_bar, fp_bar = np.zeros(XP.shape), np.zeros(FP.shape, fp2_bar.dtype)
            np.add.at(xp_bar, idx, xp2_bar)
            np.add.at(fp_bar, idx, fp2_bar)
            left_bar = right_bar = None
            # u % period = u - floor(u / period) * period, and the wrapped samples move by +-period
            period_bar = np.sum(np.real(x_bar) * -np.floor(X / period))
            period_bar = period_bar + np.sum(xp2_bar * (-np.floor(XP[idx] / period) + shift / period))
        bars = {
            "x": unbroadcast_to(np.reshape(x_bar, X.shape), x),
            "xp": to_like(xp_bar, xp),
            "fp": to_like(fp_bar, fp),
        }
        if left_bar is not None:
            bars["left"] = unbroadcast_to(left_bar, p["left"])
        if right_bar is not None:
            bars["right"] = unbroadcast_to(right_bar, p["right"])
        if period is not None:
            bars["period"] = unbroadcast_to(period_bar, period)
        return call_bars(_INTERP, args, kwargs, bars)

    return y, interp_pullback


register(np.interp, interp_rrule, number_closed=True)


# --- gradient -------------------------------------------------------------------------------


# np.gradient's weights (NumPy's second-order formulas for uneven spacings, of which the even
# ones are a special case): out[i] = sum of weight * f[column], each a rational function of
# one or two spacings


def _interior(hs, hd):
    return -hd / (hs * (hd + hs)), (hd - hs) / (hd * hs), hs / (hd * (hd + hs))


def _first_order_end(d):
    return -1 / d, 1 / d


def _second_order_first(d1, d2):
    return -(2 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2), -d1 / (d2 * (d1 + d2))


def _second_order_last(d1, d2):
    return d2 / (d1 * (d1 + d2)), -(d2 + d1) / (d1 * d2), (2 * d2 + d1) / (d2 * (d1 + d2))


def _stencils(n, edge_order):
    """(rows, columns, weight function, spacing indices) for each part of the result."""
    inner = np.arange(1, n - 1)
    parts = [(inner, (inner - 1, inner, inner + 1), _interior, (inner - 1, inner))]
    if edge_order == 1:
        parts += [
            (np.array([0]), (np.array([0]), np.array([1])), _first_order_end, (np.array([0]),)),
            (np.array([n - 1]), (np.array([n - 2]), np.array([n - 1])), _first_order_end, (np.array([n - 2]),)),
        ]
    else:
        first, last = (np.array([k]) for k in (0, n - 1))
        parts += [
            (first, tuple(np.array([k]) for k in (0, 1, 2)), _second_order_first, (np.array([0]), np.array([1]))),
            (last, tuple(np.array([k]) for k in (n - 3, n - 2, n - 1)), _second_order_last,
             (np.array([n - 3]), np.array([n - 2]))),
        ]
    return parts


def _gradient_axis_bars(F, G, dx, edge_order):
    """Cotangents of the samples F (the axis first) and of its n - 1 spacings dx, for one axis."""
    f_bar = np.zeros(F.shape, np.result_type(F, G, np.float64))
    dx_bar = np.zeros(dx.shape)
    shape = (-1,) + (1,) * (F.ndim - 1)
    for rows, cols, weights, spacing in _stencils(F.shape[0], edge_order):
        if rows.size == 0:
            continue
        h = [dx[k] for k in spacing]
        g = G[rows]
        for c, w in zip(cols, weights(*h)):
            np.add.at(f_bar, c, g * w.reshape(shape))
        # the weights' derivatives in each spacing, exactly, by a complex step
        for k, idx in enumerate(spacing):
            probe = [v.astype(complex) for v in h]
            probe[k] = probe[k] + 1e-30j
            dws = [np.imag(dw) / 1e-30 for dw in weights(*probe)]
            per_row = sum(g * F[c] * dw.reshape(shape) for c, dw in zip(cols, dws))
            np.add.at(dx_bar, idx, np.real(per_row.reshape(rows.size, -1).sum(axis=1)))
    return f_bar, dx_bar


def gradient_rrule(f, *varargs, **kwargs):
    y = np.gradient(f, *varargs, **kwargs)

    def gradient_pullback(y_bar):
        Fa = np.asarray(f)
        axis, edge_order = kwargs.get("axis"), kwargs.get("edge_order", 1)
        axes = tuple(range(Fa.ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = tuple(int(a) % Fa.ndim for a in axes)
        outputs = tuple(y_bar) if len(axes) > 1 else (y_bar,)
        if not varargs:
            spacings = [1.0] * len(axes)
        elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
            spacings = list(varargs) * len(axes)
        else:
            spacings = list(varargs)
        f_bar = np.zeros(Fa.shape, np.result_type(Fa, np.float64))
        spacing_bars = [None] * len(spacings)
        for k, (ax, h, G) in enumerate(zip(axes, spacings, outputs)):
            if G is None:
                continue
            n = Fa.shape[ax]
            dx = np.full(n - 1, float(h)) if np.ndim(h) == 0 else np.diff(np.asarray(h, float))
            F = np.moveaxis(Fa, ax, 0)
            fb, dx_bar = _gradient_axis_bars(F, np.moveaxis(np.asarray(G), ax, 0), dx, edge_order)
            f_bar = f_bar + np.moveaxis(fb, 0, ax)
            if np.ndim(h) == 0:
                h_bar = np.sum(dx_bar)
            else:  # coordinates: dx = diff(h)
                h_bar = np.concatenate([[0.0], dx_bar]) - np.concatenate([dx_bar, [0.0]])
            spacing_bars[k] = h_bar if spacing_bars[k] is None else spacing_bars[k] + h_bar
        if len(varargs) == 1 and np.ndim(varargs[0]) == 0:  # one spacing for every axis
            total = [b for b in spacing_bars if b is not None]
            var_bars = (unbroadcast_to(sum(total), varargs[0]) if total else None,)
        else:
            var_bars = tuple(
                None if b is None else (unbroadcast_to(b, h) if np.ndim(h) == 0 else to_like(b, h))
                for b, h in zip(spacing_bars, varargs)
            )
        return (None, to_like(f_bar, f)) + var_bars

    return y, gradient_pullback


register(np.gradient, gradient_rrule)
