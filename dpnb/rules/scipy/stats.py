"""Rules for the univariate distributions of `scipy.stats`: `pdf`, `logpdf`, `cdf`, `logcdf`, `sf`,
`logsf`, `ppf`, `isf` of `norm`, `t`, `gamma`, `beta`, `chi2`, and `pmf`, `logpmf`, `cdf`, `logcdf`, `sf`, `logsf`
of `poisson`, with respect to the point and every parameter.

`scipy.stats.norm` is an instance and `scipy.stats.norm.pdf` a bound method; a rule is
registered for each of those bound methods (bound methods hash by their instance and
function, so the registry finds them however often they are looked up), and one for each
function they are bound from (`rv_continuous.pdf`, ...), which dispatches on the type of
the distribution. The second form is what a method call `scipy.stats.norm.pdf(x)`, a
frozen distribution's `self.dist.pdf(...)`, or a distribution of one's own
(`norm_gen(name="n")`) reaches. A distribution with no rule here raises `NoRuleError`.

Frozen distributions: `scipy.stats.norm(mu, sigma)` (the `__call__` and `freeze` of every
distribution) has a rule whose pullback takes the frozen object's cotangent, a `Tangent`
with the fields `args` (a tuple) and `kwds` (a dict), to the parameters given by position
and by keyword; the frozen objects' methods have rules that call the distribution's rule
with the frozen parameters and hand back that `Tangent`.

Derivatives (z = (x - loc) / scale, f0 the standard density):
- logpdf: d/dx = (log f0)'(z) / scale, d/dloc = -d/dx, d/dscale = -(z (log f0)'(z) + 1) / scale,
  shapes through digamma (t: df; gamma: a; beta: a, b; chi2: df); pdf = logpdf's times pdf;
- cdf: d/dx = pdf, d/dloc = -pdf, d/dscale = -z pdf; sf the opposite; logcdf and logsf
  divide by cdf and sf. The derivative of a cdf with respect to a shape parameter (the
  regularized incomplete gamma or beta function in its parameter, the t cdf in df) has no
  closed form: a `NotImplementedTangent`, which raises if that cotangent is used (an
  integer-valued shape, such as `t.cdf(x, 4)`'s degrees of freedom, gets no cotangent);
- ppf (isf), the inverse of cdf (sf): d/dq = 1 / pdf(y) (its negative), d/dloc = 1, d/dscale =
  (y - loc) / scale; a shape's derivative goes through the cdf's, a `NotImplementedTangent`;
- poisson: d/dmu logpmf = k/mu - 1; d/dmu cdf(k) = -pmf(floor(k)); the point `k` and `loc`
  are integer-valued: no cotangent.
Outside the support (where the density is 0) every derivative is 0.

Parameters passed by keyword (`loc=`, `scale=`, `df=`, `a=`, ...) get their cotangents in
the pullback's trailing dict, as the NumPy rules' keywords do.
"""
import numpy as np
import scipy.stats as st
from scipy.special import psi

from ...errors import NoRuleError
from ...tangents import Tangent
from .. import registry
from ._util import NotImplementedTangent, is_integer_valued, named, unbroadcast_to

CONTINUOUS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")
DISCRETE = ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf")
NO_SHAPE_DERIVATIVE = "the derivative of a distribution function with respect to a shape parameter has no closed form"


class Family:
    """A location-scale family: the standard log-density's derivatives in z and in each shape."""

    def __init__(self, dist, dz, dshapes, inside):
        self.dist = dist
        self.shapes = tuple(dist.shapes.split(", ")) if dist.shapes else ()
        self.names = ("x",) + self.shapes + ("loc", "scale")
        self.defaults = {"loc": 0.0, "scale": 1.0}
        self.dz = dz
        self.dshapes = dshapes
        self.inside = inside
        self.methods = {m: getattr(dist, m) for m in CONTINUOUS}


def _t_dz(z, df):
    return -(df + 1) * z / (df + z * z)


def _t_ddf(z, df):
    q = z * z / df
    return 0.5 * (psi((df + 1) / 2) - psi(df / 2) - 1 / df - np.log1p(q) + (df + 1) * q / (df * (1 + q)))


def _everywhere(z, *shapes):
    return np.ones(np.broadcast_shapes(np.shape(z), *map(np.shape, shapes)), bool)


def _positive(z, *shapes):
    return np.greater(z, 0) & _everywhere(z, *shapes)


def _unit(z, *shapes):
    return np.greater(z, 0) & np.less(z, 1) & _everywhere(z, *shapes)


FAMILIES = {
    type(f.dist): f
    for f in (
        Family(st.norm, lambda z: -z, (), _everywhere),
        Family(st.t, _t_dz, (_t_ddf,), _everywhere),
        Family(st.gamma, lambda z, a: (a - 1) / z - 1, (lambda z, a: np.log(z) - psi(a),), _positive),
        Family(
            st.beta,
            lambda z, a, b: (a - 1) / z - (b - 1) / (1 - z),
            (lambda z, a, b: np.log(z) - psi(a) + psi(a + b), lambda z, a, b: np.log1p(-z) - psi(b) + psi(a + b)),
            _unit,
        ),
        Family(
            st.chi2,
            lambda z, df: (df / 2 - 1) / z - 0.5,
            (lambda z, df: 0.5 * (np.log(z / 2) - psi(df / 2)),),
            _positive,
        ),
    )
}


class Poisson:
    dist = st.poisson
    names = ("k", "mu", "loc")
    shapes = ()  # mu's derivatives are all in closed form
    defaults = {"loc": 0}
    methods = {m: getattr(st.poisson, m) for m in DISCRETE}


POISSON = Poisson()
FAMILIES[type(st.poisson)] = POISSON


def _bind(fam, args, kwargs):
    """The values of the point and every parameter by name, and the names given positionally."""
    names = fam.names
    values = dict(fam.defaults)
    values.update(zip(names, args))
    values.update(kwargs)
    return values, names[: len(args)]


def _continuous_partials(fam, method, v, y):
    """name -> the partial derivative of `method`'s output with respect to that argument."""
    dist = fam.dist
    shapes = [np.asarray(v[s], dtype=float) for s in fam.shapes]
    x, loc, scale = (np.asarray(v[k], dtype=float) for k in ("x", "loc", "scale"))
    if method in ("ppf", "isf"):
        # the inverse of cdf (of sf): d/dq = ±1 / pdf at the result, and y = loc + scale · z
        with np.errstate(divide="ignore", invalid="ignore"):
            yv = np.asarray(y, dtype=float)
            slope = 1.0 / dist.pdf(yv, *shapes, loc, scale)
            out = {"x": slope if method == "ppf" else -slope, "loc": np.ones_like(yv), "scale": (yv - loc) / scale}
        for name in fam.shapes:
            out[name] = None  # through the cdf's derivative in the shape: no closed form
        return out
    z = (x - loc) / scale
    inside = fam.inside(z, *shapes)
    zs = np.where(inside, z, 0.5)  # 0.5 lies inside every support: no warnings outside
    out = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method in ("pdf", "logpdf"):
            dz = np.where(inside, fam.dz(zs, *shapes), 0.0)
            out["x"], out["loc"] = dz / scale, -dz / scale
            out["scale"] = np.where(inside, -(dz * z + 1) / scale, 0.0)
            for name, d in zip(fam.shapes, fam.dshapes):
                out[name] = np.where(inside, d(zs, *shapes), 0.0)
            if method == "pdf":
                out = {k: d * y for k, d in out.items()}
            return out
        logpdf = dist.logpdf(x, *shapes, loc, scale)
        if method == "cdf":
            r = np.exp(logpdf)
        elif method == "sf":
            r = -np.exp(logpdf)
        else:  # the ratio pdf / cdf (or pdf / sf) in logarithms: no 0/0 in the tails
            r = np.where(inside, np.exp(logpdf - y), 0.0) * (1 if method == "logcdf" else -1)
        out["x"], out["loc"], out["scale"] = r, -r, -r * np.where(inside, z, 0.0)
        for name in fam.shapes:
            out[name] = None
    return out


def _poisson_partials(method, v, y):
    k, mu, loc = (np.asarray(v[n], dtype=float) for n in ("k", "mu", "loc"))
    kk = k - loc
    out = {"k": None, "loc": None}
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("pmf", "logpmf"):
            inside = (kk >= 0) & (kk == np.floor(kk))
            d = np.where(inside, kk / mu - 1, 0.0)
            out["mu"] = d * y if method == "pmf" else d
            return out
        pmf = np.where(kk >= 0, st.poisson.pmf(np.floor(kk), mu), 0.0)  # d/dmu cdf(k) = -pmf(floor(k))
        if method == "cdf":
            out["mu"] = -pmf
        elif method == "sf":
            out["mu"] = pmf
        else:  # pmf / cdf (or pmf / sf) in logarithms: no 0/0 far in the tails
            ratio = np.exp(st.poisson.logpmf(np.floor(kk), mu) - y)
            out["mu"] = np.where(pmf > 0, ratio, 0.0) * (-1 if method == "logcdf" else 1)
    return out


def distribution_rule(fam, method, args, kwargs):
    """`(y, bars)` for `fam.dist.<method>(*args, **kwargs)`: bars(y_bar) -> one cotangent per positional
    argument, then a dict {keyword: cotangent} when a parameter passed by keyword has one."""
    y = fam.methods[method](*args, **kwargs)
    label = f"scipy.stats.{fam.dist.name}.{method}"

    def bars(y_bar):
        values, given = _bind(fam, args, kwargs)
        if fam is POISSON:
            partials = _poisson_partials(method, values, y)
        else:
            partials = _continuous_partials(fam, method, values, y)

        def bar(name, a):
            d = partials.get(name)
            if d is None and name in fam.shapes and not is_integer_valued(a):
                return NotImplementedTangent(label, name, NO_SHAPE_DERIVATIVE)
            return None if d is None else unbroadcast_to(y_bar * d, a)

        out = tuple(bar(name, a) for name, a in zip(given, args))
        kw = {k: bar(k, a) for k, a in kwargs.items() if k in fam.names}
        kw = {k: b for k, b in kw.items() if b is not None}
        return out + (kw,) if kw else out

    return y, bars


def _bound_rule(fam, method):
    """The rule of the bound method `scipy.stats.<dist>.<method>`."""

    def rule(*args, **kwargs):
        y, bars = distribution_rule(fam, method, args, kwargs)

        def pullback(y_bar):
            return (None,) + bars(y_bar)

        pullback.__name__ = pullback.__qualname__ = f"{fam.dist.name}_{method}_pullback"
        return y, pullback

    return named(rule, f"{fam.dist.name}_{method}_rrule")


def _family_of(self, method):
    fam = FAMILIES.get(type(self))
    if fam is None:
        raise NoRuleError(
            getattr(self, method),
            f"dpnb has rules for scipy.stats {', '.join(sorted(f.dist.name for f in FAMILIES.values()))}, "
            f"not for {getattr(self, 'name', type(self).__name__)}",
        )
    return fam


def _unbound_rule(method):
    """The rule of `rv_continuous.<method>` (or `rv_discrete`'s): dispatch on the distribution's type."""

    def rule(self, *args, **kwargs):
        y, bars = distribution_rule(_family_of(self, method), method, args, kwargs)

        def pullback(y_bar):
            return (None, None) + bars(y_bar)

        pullback.__name__ = pullback.__qualname__ = f"rv_{method}_pullback"
        return y, pullback

    return named(rule, f"rv_{method}_rrule")


for _fam in FAMILIES.values():
    for _m in DISCRETE if _fam is POISSON else CONTINUOUS:
        registry.register(getattr(_fam.dist, _m), _bound_rule(_fam, _m))
for _m in CONTINUOUS:
    registry.register(getattr(st.rv_continuous, _m), _unbound_rule(_m))
for _m in DISCRETE:
    registry.register(getattr(st.rv_discrete, _m), _unbound_rule(_m))


# --- frozen distributions ------------------------------------------------------------------------

CONTINUOUS_FROZEN = type(st.norm())
DISCRETE_FROZEN = type(st.poisson(1.0))


def freeze_rrule(self, *args, **kwds):
    """`dist(*params)` and `dist.freeze(*params)`: the frozen object's fields `args` and `kwds` carry
    the cotangents of the parameters given by position and by keyword."""
    y = self.freeze(*args, **kwds)

    def freeze_pullback(y_bar):
        fields = y_bar.fields if isinstance(y_bar, Tangent) else {}
        args_bar = fields.get("args") or (None,) * len(args)
        kwds_bar = fields.get("kwds") or {}
        kw = {k: kwds_bar[k] for k in kwds if kwds_bar.get(k) is not None}
        return (None, None) + tuple(args_bar) + ((kw,) if kw else ())

    return y, freeze_pullback


def _frozen_rule(method):
    def rule(self, x):
        n = 1 + len(self.args)
        y, bars = distribution_rule(_family_of(self.dist, method), method, (x,) + tuple(self.args), self.kwds)

        def pullback(y_bar):
            b = bars(y_bar)
            fields = {}
            if any(v is not None for v in b[1:n]):
                fields["args"] = b[1:n]
            if len(b) > n:
                fields["kwds"] = b[n]
            return None, Tangent(type(self), fields) if fields else None, b[0]

        pullback.__name__ = pullback.__qualname__ = f"frozen_{method}_pullback"
        return y, pullback

    return named(rule, f"frozen_{method}_rrule")


registry.register(st.rv_continuous.__call__, freeze_rrule)
registry.register(st.rv_continuous.freeze, freeze_rrule)
for _m in CONTINUOUS:
    registry.register(getattr(CONTINUOUS_FROZEN, _m), _frozen_rule(_m))
for _m in ("pmf", "logpmf"):
    registry.register(getattr(DISCRETE_FROZEN, _m), _frozen_rule(_m))
