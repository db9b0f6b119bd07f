"""Rules for the `statistics` module: the functions whose source no transform can follow.

`mean`, `harmonic_mean`, `variance`, `pvariance`, `stdev` and `pstdev` add up
their data exactly: every float goes through `float.as_integer_ratio()` into
integers and `Fraction`s, and the standard deviations take integer square roots.
No gradient can flow through integers, so these get rules. `fmean` and
`geometric_mean` count the items of an iterator with a generator (`yield`), which
the source transform does not support; they get rules as well.

The rest of the float functions are plain Python over floats and are left to the
source transform: `median`, `median_low`, `median_high` (`sorted` and indexing),
`covariance`, `correlation` and `linear_regression` (`math.fsum` and arithmetic).
`median_grouped` calls `bisect` with the (differentiable) data; the index it
finds carries no gradient, but `bisect` is a C function, so it gets a rule here.

Each rule computes its value with the `statistics` function itself (same result,
same errors) and differentiates the textbook formula; data given as an iterator
is read once. The data's cotangent has the data's kind (a list for a list, a tuple
for a tuple); `Fraction` data get exact `Fraction` cotangents. Weights, a centre
or an interval passed by keyword get their cotangents in the trailing dict.

>>> from dpnb.rules.registry import RULES
>>> y, back = RULES[statistics.pvariance]([1.0, 2.0, 4.0])
>>> back(1.0)  # 2 (x_i - mean) / n, mean = 7/3
(None, [-0.888..., -0.222..., 1.111...])
>>> RULES[statistics.mean]([Fraction(1, 2), Fraction(3, 2)])[1](Fraction(1))
(None, [Fraction(1, 2), Fraction(1, 2)])
"""
import math
import numbers
import statistics
from fractions import Fraction

from .._common import bind, call_bars
from ..registry import register
from ._iterables import Source

__all__ = []


def _differentiable(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _item_bar(value, x):
    """The cotangent `value` in the kind of the data item `x` (None for items with no tangent)."""
    if not _differentiable(x):
        return None
    if isinstance(x, Fraction) and isinstance(value, (Fraction, int)):
        return Fraction(value)
    if isinstance(x, (float, int)):
        return float(value)
    return type(x)(value) if isinstance(x, numbers.Real) else value


def _data_bar(src, items, values):
    return src.bar([_item_bar(v, x) for v, x in zip(values, items)])


# --- means -------------------------------------------------------------------------------


def mean_rrule(data):
    src = Source(data)
    items = src.read()
    y = statistics.mean(items)

    def mean_pullback(y_bar):
        n = len(items)
        return None, _data_bar(src, items, [y_bar / n] * n)

    return y, mean_pullback


_DATA_WEIGHTS = ("data", "weights")


def fmean_rrule(*args, **kwargs):
    bound = bind(_DATA_WEIGHTS, args, kwargs, weights=None)
    src = Source(bound["data"])
    items = src.read()
    w_src = None if bound["weights"] is None else Source(bound["weights"])
    ws = None if w_src is None else w_src.read()
    y = statistics.fmean(items) if ws is None else statistics.fmean(items, ws)

    def fmean_pullback(y_bar):
        if ws is None:
            n = len(items)
            return call_bars(_DATA_WEIGHTS, args, kwargs, {"data": _data_bar(src, items, [y_bar / n] * n)})
        # y = sum(w x) / sum(w): dy/dx_i = w_i / sum(w), dy/dw_i = (x_i - y) / sum(w)
        den = math.fsum(ws)
        bars = {
            "data": _data_bar(src, items, [y_bar * w / den for w in ws]),
            "weights": _data_bar(w_src, ws, [y_bar * (float(x) - y) / den for x in items]),
        }
        return call_bars(_DATA_WEIGHTS, args, kwargs, bars)

    return y, fmean_pullback


def geometric_mean_rrule(data):
    src = Source(data)
    items = src.read()
    y = statistics.geometric_mean(items)

    def geometric_mean_pullback(y_bar):
        # y = exp(mean(log x)): dy/dx_i = y / (n x_i)
        n = len(items)
        return None, _data_bar(src, items, [y_bar * y / (n * float(x)) for x in items])

    return y, geometric_mean_pullback


def harmonic_mean_rrule(*args, **kwargs):
    bound = bind(_DATA_WEIGHTS, args, kwargs, weights=None)
    src = Source(bound["data"])
    items = src.read()
    w_src = None if bound["weights"] is None else Source(bound["weights"])
    ws = None if w_src is None else w_src.read()
    y = statistics.harmonic_mean(items) if ws is None else statistics.harmonic_mean(items, ws)

    def harmonic_mean_pullback(y_bar):
        n = len(items)
        w = [1.0] * n if ws is None else [float(v) for v in ws]
        xs = [float(x) for x in items]
        if ws is None and n == 1:
            return call_bars(_DATA_WEIGHTS, args, kwargs, {"data": _data_bar(src, items, [y_bar])})  # the value
        # y = W / S with W = sum(w) and S = sum(w_i / x_i) over the nonzero weights
        W = math.fsum(w)
        zeros = [i for i in range(n) if w[i] and xs[i] == 0]
        if zeros:
            # y = 0 (statistics returns 0); near x_i = 0+ with one such entry, y ~ W x_i / w_i
            x_vals = [0.0] * n
            if len(zeros) == 1:
                x_vals[zeros[0]] = y_bar * W / w[zeros[0]]
            w_vals = [0.0] * n
        else:
            S = math.fsum(wi / xi for wi, xi in zip(w, xs) if wi)
            x_vals = [y_bar * W * wi / (xi * xi * S * S) if wi else 0.0 for wi, xi in zip(w, xs)]
            w_vals = [y_bar * (1 / S - W / (xi * S * S)) for xi in xs]
        bars = {"data": _data_bar(src, items, x_vals)}
        if ws is not None:
            bars["weights"] = _data_bar(w_src, ws, w_vals)
        return call_bars(_DATA_WEIGHTS, args, kwargs, bars)

    return y, harmonic_mean_pullback


def median_grouped_rrule(*args, **kwargs):
    names = ("data", "interval")
    bound = bind(names, args, kwargs, interval=1.0)
    src, interval = Source(bound["data"]), bound["interval"]
    items = src.read()
    y = statistics.median_grouped(items, interval)

    def median_grouped_pullback(y_bar):
        # y = x - interval / 2 + interval * (n / 2 - cf) / f, with x the value sorted into the
        # middle, cf the number of items below x and f the number equal to x. With ties the
        # value has no derivative; the item that a stable sort puts in the middle takes it.
        n = len(items)
        order = sorted(range(n), key=lambda i: items[i])
        mid = order[n // 2]
        x = items[mid]
        cf = sum(1 for v in items if v < x)
        f = sum(1 for v in items if v == x)
        values = [0.0] * n
        values[mid] = y_bar
        bars = {
            "data": _data_bar(src, items, values),
            "interval": _item_bar(y_bar * (-0.5 + (n / 2 - cf) / f), interval),
        }
        return call_bars(names, args, kwargs, bars)

    return y, median_grouped_pullback


# --- spread ------------------------------------------------------------------------------


def _spread_rule(fn, centre_name, ddof, root):
    """The rule of `fn(data, centre=None)`: (p)variance, or with `root`, (p)stdev.

    The sum of squares is sum((x_i - c)^2) with c the given centre or the mean; divided by
    n - ddof. Its gradient: 2 (x_i - c) / (n - ddof) for x_i, -2 sum(x_i - c) / (n - ddof) for
    a given centre (the mean's own term vanishes, as sum(x_i - mean) = 0). The square root
    divides by 2y; at y = 0 (all the data equal the centre) 0 is taken, as for a norm at 0.
    """
    name = fn.__name__

    names = ("data", centre_name)

    def rule(*args, **kwargs):
        bound = bind(names, args, kwargs, **{centre_name: None})
        src, centre = Source(bound["data"]), bound[centre_name]
        items = src.read()
        y = fn(items, centre)

        def pullback(y_bar):
            n = len(items)
            c = statistics.mean(items) if centre is None else centre
            scale = y_bar / (n - ddof)
            if root:
                if not y:
                    scale = scale * 0
                else:
                    scale = scale / (2 * y)
            diffs = [x - c for x in items]
            bars = {"data": _data_bar(src, items, [2 * scale * d for d in diffs])}
            if centre is not None:
                bars[centre_name] = _item_bar(-2 * scale * sum(diffs), centre)
            return call_bars(names, args, kwargs, bars)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    return rule


pvariance_rrule = _spread_rule(statistics.pvariance, "mu", 0, root=False)
variance_rrule = _spread_rule(statistics.variance, "xbar", 1, root=False)
pstdev_rrule = _spread_rule(statistics.pstdev, "mu", 0, root=True)
stdev_rrule = _spread_rule(statistics.stdev, "xbar", 1, root=True)


def mean_stdev_rrule(data):
    # (mean, stdev) in one pass (`NormalDist.from_samples`): its square root is taken with
    # integers (`math.isqrt` of an exact fraction), which carry no gradient
    src = Source(data)
    items = src.read()
    y = statistics._mean_stdev(items)

    def mean_stdev_pullback(y_bar):
        if y_bar is None:
            return None, None
        m_bar, s_bar = y_bar
        n = len(items)
        xbar, sd = y
        values = [0.0] * n
        if m_bar is not None:
            values = [v + m_bar / n for v in values]
        if s_bar is not None and sd:
            # d stdev / d x_i = (x_i - mean) / ((n - 1) stdev)
            values = [v + s_bar * (float(x) - xbar) / ((n - 1) * sd) for v, x in zip(values, items)]
        return None, _data_bar(src, items, values)

    return y, mean_stdev_pullback


register(statistics.mean, mean_rrule)
if hasattr(statistics, "_mean_stdev"):  # Python 3.10 onwards
    register(statistics._mean_stdev, mean_stdev_rrule)
register(statistics.fmean, fmean_rrule)
register(statistics.geometric_mean, geometric_mean_rrule)
register(statistics.harmonic_mean, harmonic_mean_rrule)
register(statistics.median_grouped, median_grouped_rrule)
register(statistics.pvariance, pvariance_rrule)
register(statistics.variance, variance_rrule)
register(statistics.pstdev, pstdev_rrule)
register(statistics.stdev, stdev_rrule)
