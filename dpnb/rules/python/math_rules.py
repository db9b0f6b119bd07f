"""Rules for the `math` module.

One-argument functions are scalar rules: a partial derivative written in `x` and
the output `y`, inlined by the transform for plain numbers. `math` returns floats,
so float constants are fine here. The non-differentiable functions of `math`
(floor, isclose, factorial, ...) are in `constants`.
"""
import math
import operator

from .._common import pow_bars, seq_bar, unbroadcast_to
from ..registry import inline_partials, register, scalar_rules
from ._iterables import Source, _holds_users, run_always


def digamma(x):
    """The digamma function ψ(x) = Γ'(x)/Γ(x) (math has none): reflection, recurrence, series.

    >>> round(digamma(1.0), 12)  # -Euler-Mascheroni
    -0.577215664902
    """
    x = float(x)
    if x <= 0 and x == math.floor(x):
        return math.nan
    if x < 0.5:  # ψ(1 - x) - ψ(x) = π cot(πx)
        return digamma(1 - x) - math.pi / math.tan(math.pi * x)
    acc = 0.0
    while x < 10:  # ψ(x + 1) = ψ(x) + 1/x
        acc -= 1 / x
        x += 1
    f = 1 / (x * x)
    # asymptotic series: ln x - 1/2x - 1/12x² + 1/120x⁴ - 1/252x⁶ + 1/240x⁸ - 1/132x¹⁰
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
    return acc + math.log(x) - 0.5 / x - series


#: the namespace of the expressions: `math`, plus what it lacks
NS = dict(vars(math))
NS.update(
    digamma=digamma,
    round=round,
    LN2=math.log(2.0),
    LN10=math.log(10.0),
    TWO_OVER_SQRT_PI=2 / math.sqrt(math.pi),
    DEG_PER_RAD=180 / math.pi,
    RAD_PER_DEG=math.pi / 180,
)

SCALAR = {
    math.sin: "cos(x)",
    math.cos: "-sin(x)",
    math.tan: "1 + y * y",
    math.asin: "1 / sqrt(1 - x * x)",
    math.acos: "-1 / sqrt(1 - x * x)",
    math.atan: "1 / (1 + x * x)",
    math.sinh: "cosh(x)",
    math.cosh: "sinh(x)",
    math.tanh: "1 - y * y",
    math.asinh: "1 / sqrt(x * x + 1)",
    math.acosh: "1 / sqrt(x * x - 1)",
    math.atanh: "1 / (1 - x * x)",
    math.exp: "y",
    math.expm1: "y + 1",
    math.log2: "1 / (LN2 * x)",
    math.log10: "1 / (LN10 * x)",
    math.log1p: "1 / (1 + x)",
    # at 0 the slope is infinite (math raises on 1/0.0, so say it)
    math.sqrt: "0.5 / y if y else inf",
    math.fabs: "copysign(1.0, x) if x else 0.0",
    math.degrees: "DEG_PER_RAD",
    math.radians: "RAD_PER_DEG",
    math.erf: "TWO_OVER_SQRT_PI * exp(-x * x)",
    math.erfc: "-TWO_OVER_SQRT_PI * exp(-x * x)",
    math.gamma: "y * digamma(x)",
    math.lgamma: "digamma(x)",
    math.atan2: ("x2 / (x1 * x1 + x2 * x2)", "-x1 / (x1 * x1 + x2 * x2)"),
    math.copysign: ("copysign(1.0, x1) * copysign(1.0, x2)", None),
    # x1 - n * x2, with the integer n recovered from the result
    math.fmod: ("1.0", "-round((x1 - y) / x2)"),
    math.remainder: ("1.0", "-round((x1 - y) / x2)"),
    math.ldexp: ("ldexp(1.0, x2)", None),
}
if hasattr(math, "exp2"):
    SCALAR[math.exp2] = "LN2 * y"
if hasattr(math, "cbrt"):
    SCALAR[math.cbrt] = "1 / (3 * y * y) if y else inf"

scalar_rules(SCALAR, NS)


def log_rule(log):
    """The rule of `log(x)` and `log(x, base)`, for `math.log` and `cmath.log`."""

    def log_rrule(x, *base):
        y = log(x, *base)

        def log_pullback(y_bar):
            if y_bar is None:
                return (None,) * (2 + len(base))
            ln_b = log(base[0]) if base else 1.0
            x_bar = unbroadcast_to(y_bar / (x * ln_b), x)
            if not base:
                return None, x_bar
            b = base[0]
            return None, x_bar, unbroadcast_to(-y_bar * y / (b * ln_b), b)

        return y, log_pullback

    return log_rrule


log_rrule = log_rule(math.log)


def pow_rrule(x, y_):
    y = math.pow(x, y_)

    def pow_pullback(y_bar):
        return (None,) + pow_bars(x, y_, y, y_bar)

    return y, pow_pullback


def hypot_rrule(*coordinates):
    y = math.hypot(*coordinates)

    def hypot_pullback(y_bar):
        if not y:
            return (None,) + tuple(unbroadcast_to(y_bar * 0.0, c) for c in coordinates)
        return (None,) + tuple(unbroadcast_to(y_bar * c / y, c) for c in coordinates)

    return y, hypot_pullback


def dist_rrule(p, q):
    y = math.dist(p, q)

    def dist_pullback(y_bar):
        d = [(a - b) / y if y else 0.0 for a, b in zip(p, q)]
        p_bar = seq_bar(p, [unbroadcast_to(y_bar * di, a) for di, a in zip(d, p)])
        q_bar = seq_bar(q, [unbroadcast_to(-y_bar * di, b) for di, b in zip(d, q)])
        return None, p_bar, q_bar

    return y, dist_pullback


def prod_rrule(iterable, **kwargs):
    src = Source(iterable)
    items = src.read()
    start = kwargs.get("start", 1)
    if _holds_users(start) or any(map(_holds_users, items)):
        return _prod_of_objects(src, items, start, "start" in kwargs)
    y = math.prod(items, start=start)

    def prod_pullback(y_bar):
        # the product of the others, from prefix and suffix products (exact with zeros)
        n = len(items)
        suffix = [1] * (n + 1)
        for i in range(n - 1, -1, -1):
            suffix[i] = items[i] * suffix[i + 1]
        bars, prefix = [], start
        for i, item in enumerate(items):
            bars.append(unbroadcast_to(y_bar * (prefix * suffix[i + 1]), item))
            prefix = prefix * item
        if "start" in kwargs:  # the keyword's cotangent, in the trailing dict
            return None, src.bar(bars), {"start": unbroadcast_to(y_bar * suffix[0], start)}
        return None, src.bar(bars)

    return y, prod_pullback


def _prod_of_objects(src, items, start, keyword):
    """`math.prod` of objects of a class of the user's: `start * item0 * item1 ...`, each `*` its
    class's own method (`__mul__`, `__rmul__`) run as the user's code, as `functools.reduce`
    of `operator.mul` runs them."""
    from .builtin_rules import reduce_rrule

    y, pb = reduce_rrule(operator.mul, items, start)

    def prod_objects_pullback(y_bar):
        _, _, items_bar, start_bar = pb(y_bar)
        bars = src.bar({} if items_bar is None else items_bar)
        return (None, bars, {"start": start_bar}) if keyword else (None, bars)

    return y, run_always(prod_objects_pullback, (None, [pb]))


def fsum_rrule(iterable):
    src = Source(iterable)
    items = src.read()
    y = math.fsum(items)

    def fsum_pullback(y_bar):
        return None, src.bar([unbroadcast_to(y_bar, item) for item in items])

    return y, fsum_pullback


def modf_rrule(x):
    y = math.modf(x)

    def modf_pullback(y_bar):
        # the fractional part has slope 1, the integral part slope 0
        frac_bar = y_bar[0]
        return None, None if frac_bar is None else unbroadcast_to(frac_bar, x)

    return y, modf_pullback


def frexp_rrule(x):
    y = math.frexp(x)

    def frexp_pullback(y_bar):
        m_bar = y_bar[0]
        return None, None if m_bar is None else math.ldexp(m_bar, -y[1])

    return y, frexp_pullback


register(math.log, log_rrule, number_closed=True)
register(math.pow, pow_rrule, number_closed=True)
register(math.hypot, hypot_rrule, number_closed=True)
register(math.dist, dist_rrule, number_closed=False)
register(math.prod, prod_rrule)
register(math.fsum, fsum_rrule)
register(math.modf, modf_rrule)
register(math.frexp, frexp_rrule)


# the one-argument log, and two-argument forms, inlined for plain numbers (the full rules above
# handle every arity)
inline_partials(math.log, "1 / x", ns=math)
inline_partials(math.atan2, "x2 / (x1 * x1 + x2 * x2)", "-x1 / (x1 * x1 + x2 * x2)", ns=math)
