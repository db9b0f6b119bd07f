"""Random selections: `permutation`, `choice` and `Generator.permuted` move entries of their argument.

`permutation` and `choice` are rewritten as a draw of indices (the same random numbers
NumPy draws for the array itself) and a take, so the pullback scatters back to the
selected entries. `Generator.permuted` is called as it is; the permutation it applied is
found by permuting the labels 0, 1, ..., n - 1 (laid out in memory as the argument is)
with a copy of the generator taken before the call: its draws do not depend on the values,
so the labels move as the entries did. `np.random.shuffle` (in place) is followed by the
core. The other random functions carry no gradient (`RANDOM`, below).

These rules are registered once the program imports `numpy.random` (see `dpnb.rules`)."""
import copy

import numpy as np

from ...errors import DifferentiationError
from ...tangents import NotImplementedTangent
from .._common import bind, call_bars, float_dtype, is_integer_valued, to_like, unpermute
from ..namespaces import is_foreign
from ..registry import constant
from ._base import _named, asarray, register

# Random numbers: the module-level functions (bound methods of NumPy's global
# RandomState) and the methods of Generator and RandomState. `permutation` and
# `choice` have rules instead (they select values of their argument).
_RANDOM_SKIP = {"permutation", "choice", "shuffle", "permuted",
                # continuous draws with parameters: rules below
                "normal", "laplace", "gumbel", "logistic", "uniform", "lognormal", "exponential",
                "rayleigh", "beta", "gamma", "standard_gamma", "chisquare", "noncentral_chisquare", "f",
                "noncentral_f", "standard_t", "pareto", "power", "weibull", "vonmises", "wald", "triangular",
                "dirichlet", "multivariate_normal"}
RANDOM = tuple(
    getattr(np.random, n)
    for n in dir(np.random)
    if not n.startswith("_") and n not in _RANDOM_SKIP and callable(getattr(np.random, n))
    and not isinstance(getattr(np.random, n), type)
)
RANDOM += tuple(
    getattr(cls, n)
    for cls in (np.random.Generator, np.random.RandomState)
    for n in dir(cls)
    if not n.startswith("_") and n not in _RANDOM_SKIP and callable(getattr(cls, n))
)
RANDOM += (np.random.default_rng, np.random.RandomState, np.random.Generator)
constant(*RANDOM)


# `permutation` and `choice` select entries of their argument: they are rewritten as a
# draw of indices (the same random numbers NumPy draws for the array itself) and a take.


def _select_bar(x, idx, g, axis=0):
    if is_foreign(g):  # idx a permutation (choice's cotangents, which may repeat, are refused)
        return to_like(np.take(g, np.argsort(idx), axis), x)
    X = np.asarray(x)
    out = np.zeros(X.shape, float_dtype(X))
    np.add.at(out, (slice(None),) * axis + (idx,), g)
    return to_like(out, x)


def _permutation_rule(draw):
    def permutation_rrule(*args, **kwargs):
        rng, (x, *rest) = draw(args)
        if isinstance(x, (int, np.integer)):
            y = rng.permutation(x, *rest, **kwargs)
            return y, _named("permutation_pullback", lambda y_bar: (None,) * (len(args) + 1))
        X = np.asarray(x)
        axis = (rest[0] if rest else kwargs.get("axis", 0)) % max(X.ndim, 1)
        idx = rng.permutation(X.shape[axis])
        y = np.take(X, idx, axis)

        def permutation_pullback(y_bar):
            bars = [None] * len(args)
            bars[len(args) - 1 - len(rest)] = _select_bar(x, idx, y_bar, axis)
            return (None,) + tuple(bars)

        return y, permutation_pullback

    return permutation_rrule


def _choice_rule(draw):
    def choice_rrule(*args, **kwargs):
        rng, (a, *rest) = draw(args)
        if isinstance(a, (int, np.integer)):
            y = rng.choice(a, *rest, **kwargs)
            return y, _named("choice_pullback", lambda y_bar: (None,) * (len(args) + 1))
        X = np.asarray(a)
        axis = kwargs.get("axis", rest[3] if len(rest) > 3 else 0) % max(X.ndim, 1)
        kw = dict(kwargs)
        kw.pop("axis", None)
        idx = rng.choice(X.shape[axis], *rest[:3], **kw)
        y = np.take(X, idx, axis)

        def choice_pullback(y_bar):
            bars = [None] * len(args)
            bars[len(args) - 1 - len(rest)] = _select_bar(a, idx, y_bar, axis)
            return (None,) + tuple(bars)

        return y, choice_pullback

    return choice_rrule


def _global_rng(args):
    return np.random.mtrand._rand, args


def _bound_rng(args):
    return args[0], args[1:]


# permutations: a Dask or CuPy cotangent of a NumPy operand is gathered back in its library
register(np.random.permutation, _permutation_rule(_global_rng), cotangents=True)
register(np.random.Generator.permutation, _permutation_rule(_bound_rng), cotangents=True)
register(np.random.RandomState.permutation, _permutation_rule(_bound_rng), cotangents=True)
register(np.random.choice, _choice_rule(_global_rng))
register(np.random.Generator.choice, _choice_rule(_bound_rng))
register(np.random.RandomState.choice, _choice_rule(_bound_rng))


# `Generator.permuted(x, *, axis=None, out=None)`: a new array, each lane along `axis` (or the whole
# array) shuffled


_PERMUTED = ("x", "axis", "out")


def permuted_rrule(rng, *args, **kwargs):
    v = bind(_PERMUTED, args, kwargs, axis=None, out=None)
    x, out = v["x"], v["out"]
    X = np.asarray(x)
    moves_values = X.dtype.kind in "iufc"
    if out is not None and moves_values:
        raise DifferentiationError(
            "Generator.permuted(x, out=...) writes into `out`, which dpnb does not follow; "
            "use the array it returns (y = rng.permuted(x))"
        )
    twin = copy.deepcopy(rng) if moves_values else None
    y = rng.permuted(*args, **kwargs)
    if not moves_values:
        return y, _named("permuted_pullback", lambda y_bar: (None,) * (len(args) + 2))
    labels = np.empty_like(X, dtype=np.intp)  # the memory layout of x: NumPy's copy of x has it too
    labels[...] = np.arange(X.size).reshape(X.shape)
    source = twin.permuted(labels, axis=v["axis"]).reshape(-1)  # y.flat[j] is x.flat[source[j]]

    def permuted_pullback(y_bar):
        if is_foreign(y_bar):
            x_bar = unpermute(y_bar, source, X.shape).astype(np.result_type(float_dtype(X), y_bar.dtype))
            bars = call_bars(_PERMUTED, args, kwargs, {"x": to_like(x_bar, x)})
            return (None, None) + bars[1:]
        g = np.asarray(y_bar).reshape(-1)
        x_bar = np.empty(X.size, np.result_type(float_dtype(X), g.dtype))
        x_bar[source] = g
        bars = call_bars(_PERMUTED, args, kwargs, {"x": to_like(x_bar.reshape(X.shape), x)})
        return (None, None) + bars[1:]  # the generator's own: None

    return y, permuted_pullback


register(np.random.Generator.permuted, permuted_rrule, cotangents=True)


# Draws with parameters. With the generator's state fixed, a draw is a function of its
# parameters: `normal(loc, scale)` is `loc + scale * z`, so its derivative is the pathwise one
# (what finite differences with the same seed give). Location-scale families find `z` by
# drawing again from a copy of the generator taken before the call, with loc 0 and scale 1.
# Draws of integers (binomial, poisson, ...) are piecewise constant in their parameters and
# stay in the table of constants. The other continuous draws (beta, gamma, ...) have rules
# whose pullbacks know the pathwise derivative in a location or a scale (`_KNOWN`) and hand
# back a `NotImplementedTangent` for a shape parameter: nothing happens while that parameter
# is a constant, and a gradient that reaches a differentiated one is refused, naming it.

_LOC_SCALE = {"normal": ("loc", "scale"), "laplace": ("loc", "scale"), "gumbel": ("loc", "scale"),
              "logistic": ("loc", "scale"), "uniform": ("low", "high"), "lognormal": ("mean", "sigma")}
_SCALE_ONLY = {"exponential": "scale", "rayleigh": "scale"}


def _sum_to(g, p):
    """The cotangent of parameter `p`, broadcast into the draw's shape: summed back to `p`'s."""
    from .._common import unbroadcast_to

    return unbroadcast_to(g, p)


def _loc_scale_rule(name, rng_of):
    first, second = _LOC_SCALE[name]
    names = (first, second, "size")
    defaults = {"uniform": (0.0, 1.0), "lognormal": (0.0, 1.0)}.get(name, (0.0, 1.0))

    def loc_scale_rrule(*args, **kwargs):
        rng, params = rng_of(args)
        twin = copy.deepcopy(rng)
        y = getattr(rng, name)(*params, **kwargs)
        v = bind(names, params, kwargs, **{first: defaults[0], second: defaults[1], "size": None})
        a, b = v[first], v[second]
        shape = np.shape(y)
        if name == "uniform":
            u = twin.uniform(0.0, 1.0, size=shape)
        elif name == "lognormal":
            u = twin.normal(0.0, 1.0, size=shape)
        else:
            u = getattr(twin, name)(0.0, 1.0, size=shape)

        def loc_scale_pullback(y_bar):
            g = asarray(y_bar)
            if name == "uniform":
                bars = {first: _sum_to(g * (1 - u), a), second: _sum_to(g * u, b)}
            elif name == "lognormal":
                bars = {first: _sum_to(g * y, a), second: _sum_to(g * y * u, b)}
            else:
                bars = {first: _sum_to(g, a), second: _sum_to(g * u, b)}
            out = call_bars(names, params, kwargs, bars)
            return out[:1] + (None,) * (len(args) - len(params)) + out[1:]

        return y, loc_scale_pullback

    return _named(f"{name}_rrule", loc_scale_rrule)


def _scale_rule(name, rng_of):
    names = ("scale", "size")

    def scale_rrule(*args, **kwargs):
        rng, params = rng_of(args)
        twin = copy.deepcopy(rng)
        y = getattr(rng, name)(*params, **kwargs)
        v = bind(names, params, kwargs, scale=1.0, size=None)
        unit = getattr(twin, name)(1.0, size=np.shape(y))

        def scale_pullback(y_bar):
            out = call_bars(names, params, kwargs, {"scale": _sum_to(asarray(y_bar) * unit, v["scale"])})
            return out[:1] + (None,) * (len(args) - len(params)) + out[1:]

        return y, scale_pullback

    return _named(f"{name}_rrule", scale_rrule)


#: continuous draws with shape parameters: their parameters, in order, and the others after
_SHAPED = {
    "beta": ("a", "b", "size"), "gamma": ("shape", "scale", "size"), "standard_gamma": ("shape", "size", "dtype", "out"),
    "chisquare": ("df", "size"), "noncentral_chisquare": ("df", "nonc", "size"), "f": ("dfnum", "dfden", "size"),
    "noncentral_f": ("dfnum", "dfden", "nonc", "size"), "standard_t": ("df", "size"), "pareto": ("a", "size"),
    "power": ("a", "size"), "weibull": ("a", "size"), "vonmises": ("mu", "kappa", "size"),
    "wald": ("mean", "scale", "size"), "triangular": ("left", "mode", "right", "size"), "dirichlet": ("alpha", "size"),
    "multivariate_normal": ("mean", "cov", "size", "check_valid", "tol", "method"),
}
_NOT_PARAMETERS = ("size", "dtype", "out", "check_valid", "tol", "method")
_NO_SHAPE_DERIVATIVE = "the derivative of the draw in this parameter, with the generator's state fixed, is not implemented"
#: the pathwise derivatives known, (draw, parameter) -> the cotangent in the draw's shape, from the
#: draw's cotangent g, the draw y and the parameter p: gamma(shape, scale) is scale times a draw
#: of gamma(shape, 1); vonmises(mu, kappa) is mu plus a draw about 0, wrapped into [-pi, pi);
#: multivariate_normal(mean, cov) is mean plus a draw about 0
_KNOWN = {
    ("gamma", "scale"): lambda g, y, p: g * y / p,
    ("vonmises", "mu"): lambda g, y, p: g,
    ("multivariate_normal", "mean"): lambda g, y, p: g,
}


def _unknown(value, label, p):
    """The cotangent of shape parameter `p`: a `NotImplementedTangent` (one per item of a list or
    tuple, whose items are the program's values), None where it is integer-valued."""
    if isinstance(value, (list, tuple)):
        return type(value)(_unknown(item, label, p) for item in value)
    return None if is_integer_valued(value) else NotImplementedTangent(label, p, _NO_SHAPE_DERIVATIVE)


def _shaped_rule(name, rng_of):
    names = _SHAPED[name]
    label = f"numpy.random's {name} draw"

    def shaped_rrule(*args, **kwargs):
        rng, params = rng_of(args)
        y = getattr(rng, name)(*params, **kwargs)
        v = bind(names, params, kwargs)

        def shaped_pullback(y_bar):
            g = asarray(y_bar)
            bars = {}
            for p in names:
                if p in _NOT_PARAMETERS or p not in v:
                    continue
                known = _KNOWN.get((name, p))
                if known is not None:
                    bars[p] = _sum_to(known(g, y, v[p]), v[p])
                else:
                    bars[p] = _unknown(v[p], label, p)
            out = call_bars(names, params, kwargs, bars)
            return out[:1] + (None,) * (len(args) - len(params)) + out[1:]

        return y, shaped_pullback

    return _named(f"{name}_rrule", shaped_rrule)


def _module_rng(args):
    return np.random.mtrand._rand, args


def _method_rng(args):
    return args[0], args[1:]


# NumPy draws: NumPy parameters only, whose cotangents follow a Dask or CuPy cotangent (the
# draw used with such data) into its library
for _name in _LOC_SCALE:
    register(getattr(np.random, _name), _loc_scale_rule(_name, _module_rng), cotangents=True)
    for _cls in (np.random.Generator, np.random.RandomState):
        register(getattr(_cls, _name), _loc_scale_rule(_name, _method_rng), cotangents=True)
for _name in _SCALE_ONLY:
    register(getattr(np.random, _name), _scale_rule(_name, _module_rng), cotangents=True)
    for _cls in (np.random.Generator, np.random.RandomState):
        register(getattr(_cls, _name), _scale_rule(_name, _method_rng), cotangents=True)
for _name in _SHAPED:
    register(getattr(np.random, _name), _shaped_rule(_name, _module_rng), cotangents=True)
    for _cls in (np.random.Generator, np.random.RandomState):
        register(getattr(_cls, _name), _shaped_rule(_name, _method_rng), cotangents=True)

# the generators' in-place shuffles join the runtime's table of changes now too
from ...core import mutation as _mutation  # noqa: E402

_mutation._rng_mutators()
