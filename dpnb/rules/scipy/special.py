"""Rules for `scipy.special`: gamma and beta functions, error functions, Bessel functions (and
`jvp`, `yvp`, `ivp`, their derivatives), logistic functions, `xlogy` and `xlog1py`, the normal
distribution function (`ndtr`, `log_ndtr`, `ndtri`), entropies (`entr`, `rel_entr`, `kl_div`),
the regularized incomplete gamma and beta functions in their last argument, `binom`, and the
reductions `logsumexp`, `softmax`, `log_softmax`.

Orders: `polygamma(n, x)`, `jn(n, x)` and `yn(n, x)` take integer orders, which get no
cotangent. The real orders of `jv`, `yv`, `iv`, `ive` (and `jvp`, `yvp`, `ivp`) have
derivatives, but none in closed form: an integer-valued order gets no cotangent, a
floating one gets a `NotImplementedTangent`, which raises `DifferentiationError` if the
order turns out to be differentiated (see `_util`). (`jn` is `jv`, `psi` is `digamma`:
one rule each.)
"""
import numpy as np
import scipy.special as sps

from .. import registry
from .._common import bind, call_bars
from ._util import NoClosedForm, NotImplementedTangent, elementwise, fit, is_integer_valued, named, unbroadcast_to

BESSEL_ORDER = "the derivative of a Bessel function with respect to a real order has no closed form"

# --- elementwise: one-line rules ------------------------------------------------------------

elementwise(sps.gamma, "y * psi(x)")
elementwise(sps.gammaln, "psi(x)")
elementwise(sps.digamma, "polygamma(1, x)")
elementwise(sps.polygamma, None, "polygamma(x1 + 1, x2)")
elementwise(sps.beta, "y * (psi(x1) - psi(x1 + x2))", "y * (psi(x2) - psi(x1 + x2))")
elementwise(sps.betaln, "psi(x1) - psi(x1 + x2)", "psi(x2) - psi(x1 + x2)")

# d/dx erf(x) = 2/sqrt(pi) exp(-x^2); the inverses use the output y
elementwise(sps.erf, "1.1283791670955126 * exp(-x * x)")
elementwise(sps.erfc, "-1.1283791670955126 * exp(-x * x)")
elementwise(sps.erfinv, "0.886226925452758 * exp(y * y)")
elementwise(sps.erfcinv, "-0.886226925452758 * exp(y * y)")

# Bessel functions: J0' = -J1, J1' = (J0 - J2)/2, I0' = I1, I1' = (I0 + I2)/2; for a real order v,
# SciPy's jvp/yvp/ivp (derivatives in z, by the recurrences) have rules of their own below, so
# that each partial reads the order once; ive(v, x) = iv(v, x) exp(-|x|) for real x
elementwise(sps.j0, "-j1(x)")
elementwise(sps.j1, "0.5 * (j0(x) - jv(2, x))")
elementwise(sps.y0, "-y1(x)")
elementwise(sps.y1, "0.5 * (y0(x) - yv(2, x))")
elementwise(sps.jv, NoClosedForm("v", BESSEL_ORDER), "jvp(x1, x2)")
elementwise(sps.yn, None, "yvp(x1, x2)")
elementwise(sps.yv, NoClosedForm("v", BESSEL_ORDER), "yvp(x1, x2)")
elementwise(sps.i0, "i1(x)")
elementwise(sps.i1, "0.5 * (i0(x) + iv(2, x))")
elementwise(sps.iv, NoClosedForm("v", BESSEL_ORDER), "ivp(x1, x2)")
elementwise(sps.ive, NoClosedForm("v", BESSEL_ORDER), "ivp(x1, x2) * exp(-abs(x2)) - sign(x2) * y")


def _bessel_derivative_rule(f, name):
    """jvp, yvp, ivp (v, z, n=1): the n-th derivative in z; its derivative in z is the (n+1)-th."""

    def rule(v, z, *rest, **kwargs):
        n = rest[0] if rest else kwargs.get("n", 1)
        y = f(v, z, n)

        def pullback(y_bar):
            v_bar = None if is_integer_valued(v) else NotImplementedTangent(f"scipy.special.{name}", "v", BESSEL_ORDER)
            return (None, v_bar, unbroadcast_to(y_bar * f(v, z, n + 1), z)) + (None,) * len(rest)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return named(rule, f"{name}_rrule")


for _f in (sps.jvp, sps.yvp, sps.ivp):
    registry.register(_f, _bessel_derivative_rule(_f, _f.__name__))

# --- logistic functions, xlogy ----------------------------------------------------------------

elementwise(sps.logit, "1 / (x * (1 - x))")
elementwise(sps.expit, "y * (1 - y)")
# xlogy(0, y) is 0 for every y: its slope in y is 0 there too (never 0/0)
elementwise(sps.xlogy, "log(x2)", "where(x1 == 0, 0.0, x1 / where(x1 == 0, 1.0, x2))")


# SciPy's own log1p and expm1 (the names the partials' namespace reads: SciPy's over NumPy's)
elementwise(sps.log1p, "1 / (1 + x)")
elementwise(sps.expm1, "y + 1")
# xlog1py(0, y) is 0 for every y, as xlogy's
elementwise(sps.xlog1py, "log1p(x2)", "where(x1 == 0, 0.0, x1 / where(x1 == 0, 1.0, 1 + x2))")

# --- the normal distribution function, entropies ------------------------------------------------

# ndtr' is the normal density 1/sqrt(2 pi) exp(-x^2 / 2); log_ndtr' is that over ndtr, written
# with y = log(ndtr(x)) (exp(-x^2/2 - y) stays finite far in the lower tail); ndtri' from y
elementwise(sps.ndtr, "0.3989422804014327 * exp(-0.5 * x * x)")
elementwise(sps.log_ndtr, "0.3989422804014327 * exp(-0.5 * x * x - y)")
elementwise(sps.ndtri, "2.5066282746310002 * exp(0.5 * y * y)")
elementwise(sps.erfcx, "2 * x * y - 1.1283791670955126")
# entr(x) = -x log x, rel_entr(x, y) = x log(x / y), kl_div(x, y) = x log(x / y) - x + y
elementwise(sps.entr, "-(log(x) + 1)")
elementwise(sps.rel_entr, "log(x1 / x2) + 1", "-x1 / x2")
elementwise(sps.kl_div, "log(x1 / x2)", "1 - x1 / x2")

# --- incomplete gamma and beta functions, binomial coefficients ---------------------------------

INCOMPLETE_SHAPE = "the derivative of an incomplete gamma or beta function in its shape has no closed form"
# P(a, x)' in x is the gamma density x^(a-1) exp(-x) / Gamma(a); Q = 1 - P; I_x(a, b)' in x is
# the beta density x^(a-1) (1-x)^(b-1) / B(a, b)
elementwise(sps.gammainc, NoClosedForm("a", INCOMPLETE_SHAPE), "exp((x1 - 1) * log(x2) - x2 - gammaln(x1))")
elementwise(sps.gammaincc, NoClosedForm("a", INCOMPLETE_SHAPE), "-exp((x1 - 1) * log(x2) - x2 - gammaln(x1))")
elementwise(sps.betainc, NoClosedForm("a", INCOMPLETE_SHAPE), NoClosedForm("b", INCOMPLETE_SHAPE),
            "exp((x1 - 1) * log(x3) + (x2 - 1) * log1p(-x3) - betaln(x1, x2))")
# binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1))
elementwise(sps.binom, "y * (psi(x1 + 1) - psi(x1 - x2 + 1))", "y * (psi(x1 - x2 + 1) - psi(x2 + 1))")


# --- reductions ---------------------------------------------------------------------------------


def _reduced_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


_LOGSUMEXP = ("a", "axis", "b", "keepdims", "return_sign")


def logsumexp_rrule(*args, **kwargs):
    y = sps.logsumexp(*args, **kwargs)
    v = bind(_LOGSUMEXP, args, kwargs, axis=None, b=None, keepdims=False, return_sign=False)
    a, axis, b, keepdims, return_sign = (v[k] for k in _LOGSUMEXP)

    def logsumexp_pullback(y_bar):
        out, sign = y if return_sign else (y, np.ones(np.shape(y)))
        g = y_bar[0] if return_sign else y_bar
        if g is None:  # only the sign's cotangent: the sign is piecewise constant
            return (None,) * (len(args) + 1)
        A = np.asarray(a)
        B = 1.0 if b is None else np.asarray(b)
        axes = _reduced_axes(axis, len(np.broadcast_shapes(A.shape, np.shape(B))))
        G, Y, S = (np.asarray(v) if keepdims else np.expand_dims(v, axes) for v in (g, out, sign))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # w = exp(a - y); where every weight is 0, y = -inf and nothing depends on a
            w = np.exp(A - np.where(np.isneginf(Y), 0.0, Y)) * ~np.isneginf(Y)
            b_bar = G * S * w
            a_bar = np.where(np.equal(B, 0), 0.0, B * b_bar)  # a may be -inf where b is 0
        bars = {"a": unbroadcast_to(a_bar, a), "b": None if b is None else unbroadcast_to(b_bar, b)}
        return call_bars(_LOGSUMEXP, args, kwargs, bars)

    return y, logsumexp_pullback


def _softmax_rule(f, name):
    """softmax and log_softmax, through their output: the Jacobian of softmax is diag(s) - s s^T."""

    def rule(x, *args, **kwargs):
        axis = args[0] if args else kwargs.get("axis")
        y = f(x, *args, **kwargs)

        def pullback(y_bar):
            G = np.asarray(y_bar)
            if f is sps.softmax:
                x_bar = y * (G - np.sum(G * y, axis=axis, keepdims=True))
            else:  # log_softmax: y_bar - softmax(x) * sum(y_bar)
                x_bar = G - np.exp(y) * np.sum(G, axis=axis, keepdims=True)
            return (None, unbroadcast_to(x_bar, x)) + fit((), len(args))

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return named(rule, f"{name}_rrule")


registry.register(sps.logsumexp, logsumexp_rrule)
registry.register(sps.softmax, _softmax_rule(sps.softmax, "softmax"))
registry.register(sps.log_softmax, _softmax_rule(sps.log_softmax, "log_softmax"))
