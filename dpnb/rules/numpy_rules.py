"""Rules for NumPy: ufuncs, reductions, shape functions, products, `np.linalg`, ndarray methods.

Conventions, as everywhere in dpnb (SPEC §3):

- a cotangent has the shape of its primal; integer and boolean arrays get float64
  cotangents (boolean ones `None`), float32 stays float32; every operand of a
  broadcasting rule goes through `unbroadcast_to` once;
- a list or tuple handed to a NumPy function gets a list or tuple back;
- ties (`max`, `maximum`, `sort`, ...): `np.maximum`/`np.minimum`/`np.clip` give
  the whole gradient to the first argument that attains the value, like Python's
  `max`; reductions (`np.max`, norms with `ord=inf`) split it evenly between the
  tied entries, like JAX.

Complex numbers follow JAX's convention: the cotangent of `z` is the vector `z_bar`
for which a real loss `L` changes by `Re(sum(z_bar * dz))`. A pullback is then the
*transpose* (not the adjoint) of the derivative: for a holomorphic `f` it is
`y_bar * f'(z)`, matrix products use `.T`, not `.conj().T`; `abs(z)` pulls back
`y_bar * conj(z) / |z|`, `np.conj` pulls back `conj(y_bar)`, `np.real` pulls back
`y_bar` and `np.imag` pulls back `-1j * y_bar`. The decompositions of `np.linalg`
other than `inv`, `solve`, `det` and `slogdet` support real matrices only.
"""
import math
import string

import numpy as np

from ..errors import DifferentiationError
from ._common import (
    abs_bar,
    float_dtype,
    has_tangent,
    is_complex,
    pow_bars,
    to_like,
    unbroadcast_to,
    zero_like,
)
from . import registry
from .registry import compile_partials, inline_partials, register_attribute


def _exact_arity(rule):
    """Wrap `rule` so that its pullback returns exactly one cotangent per positional
    argument of the call (rules written with NumPy's signature list the defaults too)."""

    # plain Python only: second derivatives differentiate rules with the source transform
    def wrapped(*args, **kwargs):
        y, pullback = rule(*args, **kwargs)
        return y, _fitted(pullback, len(args) + 1)

    for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
        setattr(wrapped, attr, getattr(rule, attr, None))
    return wrapped


def _fitted(pullback, n):
    def fitted_pullback(y_bar):
        bars = pullback(y_bar)
        return bars[:n] + (None,) * (n - len(bars))

    return fitted_pullback


def register(f, rule, *, number_closed=False):
    """`registry.register`, with the pullback fitted to the call's positional arguments."""
    return registry.register(f, _exact_arity(rule), number_closed=number_closed)

#: the namespace of the scalar-rule expressions below (Python floats: they keep float32 float32)
NS = dict(vars(np))
NS.update(LN2=math.log(2.0), LN10=math.log(10.0), DEG=math.pi / 180, RAD=180 / math.pi)


def _nones(args):
    return (None,) * len(args)


def _named(name, rule):
    rule.__name__ = rule.__qualname__ = name
    return rule


# --- elementwise: one-line rules -----------------------------------------------------------


def elementwise(f, *partials, ns=NS):
    """Register the elementwise rule of `f` from its partials (in `x`/`x1, x2` and `y`).

    The expressions also go into `SCALAR_RULES` (the transform inlines them for
    plain numbers); the rule in `RULES` evaluates them on arrays (lists converted)
    and reduces every cotangent with `unbroadcast_to`.
    """
    n = len(partials)
    names = ["x"] if n == 1 else [f"x{i + 1}" for i in range(n)]
    body = ", ".join("None" if p is None else f"({p})" for p in partials)
    fname = getattr(f, "__name__", "f")
    partials_fn = compile_partials(f"np_{fname}", names, body, dict(ns))

    def rule(*args, **kwargs):
        y = f(*args, **kwargs)

        def pullback(y_bar):
            xs = [np.asarray(a) if isinstance(a, (list, tuple)) else a for a in args]
            with np.errstate(divide="ignore", invalid="ignore"):
                ds = partials_fn(*xs, y)
                return (None,) + tuple(
                    None if d is None or not has_tangent(a) else unbroadcast_to(y_bar * d, a)
                    for d, a in zip(ds, args)
                )

        pullback.__name__ = pullback.__qualname__ = f"{fname}_pullback"
        return y, pullback

    registry.register(f, _named(f"{fname}_rrule", rule), number_closed=True)
    inline_partials(f, *partials, ns=ns)
    return rule


UNARY = {
    np.negative: "-1",
    np.positive: "1",
    np.reciprocal: "-y * y",
    np.square: "2 * x",
    np.sqrt: "0.5 / y",
    np.cbrt: "1 / (3 * y * y)",
    np.exp: "y",
    np.exp2: "LN2 * y",
    np.expm1: "y + 1",
    np.log: "1 / x",
    np.log2: "1 / (LN2 * x)",
    np.log10: "1 / (LN10 * x)",
    np.log1p: "1 / (1 + x)",
    np.sin: "cos(x)",
    np.cos: "-sin(x)",
    np.tan: "1 + y * y",
    np.arcsin: "1 / sqrt(1 - x * x)",
    np.arccos: "-1 / sqrt(1 - x * x)",
    np.arctan: "1 / (1 + x * x)",
    np.sinh: "cosh(x)",
    np.cosh: "sinh(x)",
    np.tanh: "1 - y * y",
    np.arcsinh: "1 / sqrt(1 + x * x)",
    np.arccosh: "1 / sqrt(x * x - 1)",
    np.arctanh: "1 / (1 - x * x)",
    np.deg2rad: "DEG",
    np.radians: "DEG",
    np.rad2deg: "RAD",
    np.degrees: "RAD",
    np.fabs: "sign(x)",
}

BINARY = {
    np.add: ("1", "1"),
    np.subtract: ("1", "-1"),
    np.multiply: ("x2", "x1"),
    np.divide: ("1 / x2", "-y / x2"),
    np.arctan2: ("x2 / (x1 * x1 + x2 * x2)", "-x1 / (x1 * x1 + x2 * x2)"),
    np.hypot: ("x1 / y", "x2 / y"),
    np.logaddexp: ("exp(x1 - y)", "exp(x2 - y)"),
    np.logaddexp2: ("exp2(x1 - y)", "exp2(x2 - y)"),
    # ties: the whole gradient to the first argument
    np.maximum: ("x1 >= x2", "x1 < x2"),
    np.minimum: ("x1 <= x2", "x1 > x2"),
    # x1 - q * x2 with the integer quotient q recovered from the result
    np.remainder: ("1", "-rint((x1 - y) / x2)"),
    np.fmod: ("1", "-rint((x1 - y) / x2)"),
    np.copysign: ("where(signbit(x1) == signbit(x2), 1, -1)", None),
    np.ldexp: ("exp2(x2)", None),
}

for _f, _p in UNARY.items():
    elementwise(_f, _p)
for _f, _p in BINARY.items():
    elementwise(_f, *_p)


def _fmax_fmin(f, first_wins):
    """fmax/fmin: the cotangent goes to the operand chosen (the first on ties, the other when it is nan)."""

    def rule(x1, x2, **kwargs):
        y = f(x1, x2, **kwargs)

        def pullback(y_bar):
            first = first_wins(x1, x2) | np.isnan(x2)
            return None, unbroadcast_to(np.where(first, y_bar, 0), x1), unbroadcast_to(np.where(first, 0, y_bar), x2)

        pullback.__name__ = pullback.__qualname__ = f"{f.__name__}_pullback"
        return y, pullback

    return _named(f"{f.__name__}_rrule", rule)


fmax_rrule = _fmax_fmin(np.fmax, np.greater_equal)
fmin_rrule = _fmax_fmin(np.fmin, np.less_equal)


def power_rrule(x1, x2, **kwargs):
    y = np.power(x1, x2, **kwargs)

    def power_pullback(y_bar):
        return (None,) + pow_bars(x1, x2, y, y_bar)

    return y, power_pullback


def float_power_rrule(x1, x2, **kwargs):
    y = np.float_power(x1, x2, **kwargs)

    def float_power_pullback(y_bar):
        return (None,) + pow_bars(x1, x2, y, y_bar)

    return y, float_power_pullback


def absolute_rrule(x, **kwargs):
    y = np.absolute(x, **kwargs)

    def absolute_pullback(y_bar):
        if isinstance(x, (list, tuple)):
            return None, to_like(abs_bar(np.asarray(x), y, y_bar), x)
        return None, abs_bar(x, y, y_bar)

    return y, absolute_pullback


def conjugate_rrule(x, **kwargs):
    y = np.conjugate(x, **kwargs)

    def conjugate_pullback(y_bar):
        return None, unbroadcast_to(np.conj(y_bar), x)

    return y, conjugate_pullback


def real_rrule(x):
    y = np.real(x)

    def real_pullback(y_bar):
        return None, unbroadcast_to(np.real(y_bar), x)

    return y, real_pullback


def imag_rrule(x):
    y = np.imag(x)

    def imag_pullback(y_bar):
        if not is_complex(x):
            return None, None
        return None, unbroadcast_to(-1j * np.real(y_bar), x)

    return y, imag_pullback


def sinc_rrule(x):
    y = np.sinc(x)

    def sinc_pullback(y_bar):
        xx = np.asarray(x)
        px = np.pi * xx
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(xx == 0, 0, (np.cos(px) - y) / np.where(xx == 0, 1, xx))
        return None, unbroadcast_to(y_bar * d, x)

    return y, sinc_pullback


def _zero_gradient(f):
    """`round`-like functions: piecewise constant, so a zero (not `None`) gradient."""
    name = f.__name__

    def rule(x, *args, **kwargs):
        y = f(x, *args, **kwargs)

        def pullback(y_bar):
            return (None, zero_like(x)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def floor_divide_rrule(x1, x2, **kwargs):
    y = np.floor_divide(x1, x2, **kwargs)

    def floor_divide_pullback(y_bar):
        return None, _zero_shaped(x1), _zero_shaped(x2)

    return y, floor_divide_pullback


def _zero_shaped(x):
    if isinstance(x, (list, tuple)):
        return to_like(np.zeros(np.shape(x)), x)
    return zero_like(x)


register(np.fmax, fmax_rrule, number_closed=True)
register(np.fmin, fmin_rrule, number_closed=True)
register(np.power, power_rrule, number_closed=True)
register(np.float_power, float_power_rrule, number_closed=True)
register(np.absolute, absolute_rrule, number_closed=True)
register(np.conjugate, conjugate_rrule, number_closed=True)
register(np.conj, conjugate_rrule, number_closed=True)
register(np.real, real_rrule, number_closed=True)
register(np.imag, imag_rrule, number_closed=True)
register(np.sinc, sinc_rrule, number_closed=True)
register(np.floor_divide, floor_divide_rrule, number_closed=True)
register(np.round, _zero_gradient(np.round), number_closed=True)
if hasattr(np, "around"):
    register(np.around, _zero_gradient(np.around), number_closed=True)


# --- conversions --------------------------------------------------------------------------


def _conversion_bar(g, x, y):
    """Cotangent of `x` for a dtype conversion `y` of it: none through a truncation to int."""
    y_kind = np.asarray(y).dtype.kind
    if y_kind in "biu" and np.asarray(x).dtype.kind in "fc":
        return None
    if y_kind == "b":
        return None
    return to_like(np.reshape(g, np.shape(x)) if np.shape(g) != np.shape(x) else g, x)


def _converter(f, name):
    def rule(x, *args, **kwargs):
        y = f(x, *args, **kwargs)

        def pullback(y_bar):
            return (None, _conversion_bar(y_bar, x, y)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


for _f in (np.array, np.asarray, np.asanyarray, np.ascontiguousarray, np.copy, np.asfortranarray):
    register(_f, _converter(_f, _f.__name__))
for _t in (np.float64, np.float32, np.float16, np.complex128, np.complex64, np.longdouble):
    register(_t, _converter(_t, _t.__name__), number_closed=True)


def astype_rrule(self, dtype, *args, **kwargs):
    y = self.astype(dtype, *args, **kwargs)

    def astype_pullback(y_bar):
        return (None, _conversion_bar(y_bar, self, y), None) + _nones(args)

    return y, astype_pullback


def copy_rrule(self, *args, **kwargs):
    y = self.copy(*args, **kwargs)

    def copy_pullback(y_bar):
        return (None, to_like(y_bar, self)) + _nones(args)

    return y, copy_pullback


register(np.ndarray.astype, astype_rrule)
register(np.ndarray.copy, copy_rrule)


def item_rrule(self, *args):
    y = self.item(*args)

    def item_pullback(y_bar):
        out = np.zeros(self.shape, float_dtype(self))
        if not args:
            idx = (0,) * self.ndim
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
            idx = np.unravel_index(args[0], self.shape)
        else:
            idx = args[0] if len(args) == 1 else args
        out[idx] = y_bar
        return (None, out) + _nones(args)

    return y, item_pullback


def tolist_rrule(self):
    y = self.tolist()

    def tolist_pullback(y_bar):
        out = np.zeros(self.shape, float_dtype(self))
        _fill_nested(out, (), y_bar, self.ndim)
        return None, out

    return y, tolist_pullback


def _fill_nested(out, idx, bar, depth):
    if bar is None:
        return
    if depth == 0:
        out[idx] = bar
        return
    for i, b in enumerate(bar):
        _fill_nested(out, idx + (i,), b, depth - 1)


register(np.ndarray.item, item_rrule)
register(np.ndarray.tolist, tolist_rrule)


# --- reductions ---------------------------------------------------------------------------


def _axes(axis, ndim):
    """`axis` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim for a in axis)) if ndim else ()


def _expand(g, shape, axes, keepdims):
    """The cotangent `g` of a reduction over `axes`, broadcast back to `shape`."""
    g = np.asarray(g)
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def _keepdims(kw):
    k = kw.get("keepdims", False)
    return bool(k) if k is not np._NoValue else False


def _sum_sig(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return axis, keepdims is True, where


def _mean_sig(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    return axis, keepdims is True, where


def _var_sig(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
             mean=None, correction=None):
    if correction is not None and correction is not np._NoValue:
        ddof = correction
    return axis, keepdims is True, where, ddof


def _max_sig(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    return axis, keepdims is True, where


def sum_rrule(a, *args, **kwargs):
    y = np.sum(a, *args, **kwargs)
    if not args and not kwargs and type(a) is np.ndarray and a.dtype.kind == "f":
        # the whole array: its cotangent is y_bar everywhere, a broadcast view (no buffer filled)
        shape, dtype = a.shape, a.dtype

        def sum_all_pullback(y_bar):
            return None, np.broadcast_to(np.asarray(y_bar, dtype=dtype), shape)

        return y, sum_all_pullback

    def sum_pullback(y_bar):
        A = np.asarray(a)
        axis, keepdims, where = _sum_sig(A, *args, **kwargs)
        g = _expand(y_bar, A.shape, _axes(axis, A.ndim), keepdims)
        if where is not True:
            g = np.where(where, g, 0)
        return (None, to_like(np.array(g), a)) + _nones(args)

    return y, sum_pullback


def mean_rrule(a, *args, **kwargs):
    y = np.mean(a, *args, **kwargs)

    def mean_pullback(y_bar):
        A = np.asarray(a)
        axis, keepdims, where = _mean_sig(A, *args, **kwargs)
        axes = _axes(axis, A.ndim)
        g = _expand(y_bar, A.shape, axes, keepdims)
        if where is not True:
            w = np.broadcast_to(where, A.shape)
            g = np.where(w, g / np.sum(w, axis=axes, keepdims=True), 0)
        else:
            g = g / max(1, math.prod(A.shape[i] for i in axes))
        return (None, to_like(g, a)) + _nones(args)

    return y, mean_pullback


def _var_bar(A, y_bar, axis, keepdims, ddof):
    axes = _axes(axis, A.ndim)
    n = math.prod(A.shape[i] for i in axes)
    centered = A - A.mean(axis=axes, keepdims=True)
    g = _expand(y_bar, A.shape, axes, keepdims)
    return g * (2 / (n - ddof)) * np.conj(centered)


def var_rrule(a, *args, **kwargs):
    y = np.var(a, *args, **kwargs)

    def var_pullback(y_bar):
        A = np.asarray(a)
        axis, keepdims, where, ddof = _var_sig(A, *args, **kwargs)
        _no_where(where, "var")
        return (None, to_like(_var_bar(A, y_bar, axis, keepdims, ddof), a)) + _nones(args)

    return y, var_pullback


def std_rrule(a, *args, **kwargs):
    y = np.std(a, *args, **kwargs)

    def std_pullback(y_bar):
        A = np.asarray(a)
        axis, keepdims, where, ddof = _var_sig(A, *args, **kwargs)
        _no_where(where, "std")
        with np.errstate(divide="ignore", invalid="ignore"):
            var_bar = np.asarray(y_bar) / (2 * np.asarray(y))
        return (None, to_like(_var_bar(A, var_bar, axis, keepdims, ddof), a)) + _nones(args)

    return y, std_pullback


def _no_where(where, name):
    if where is not True:
        raise DifferentiationError(f"np.{name}(..., where=...) has no differentiation rule")


def _exclusive_prod(A, axes):
    """For each entry, the product of the other entries of its reduction group (exact with zeros)."""
    k = len(axes)
    if k == 0:
        return np.ones_like(A)
    moved = np.moveaxis(A, axes, tuple(range(A.ndim - k, A.ndim)))
    flat = moved.reshape(moved.shape[: A.ndim - k] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    P = (left * right).reshape(moved.shape)
    return np.moveaxis(P, tuple(range(A.ndim - k, A.ndim)), axes)


def prod_rrule(a, *args, **kwargs):
    y = np.prod(a, *args, **kwargs)

    def prod_pullback(y_bar):
        A = np.asarray(a)
        if A.dtype.kind not in "fc":
            A = A.astype(np.float64)
        axis, keepdims, where = _sum_sig(A, *args, **kwargs)
        _no_where(where, "prod")
        axes = _axes(axis, A.ndim)
        g = _expand(y_bar, A.shape, axes, keepdims) * _exclusive_prod(A, axes)
        initial = kwargs.get("initial", args[4] if len(args) > 4 else None)
        if initial is not None and initial is not np._NoValue:
            g = g * initial
        return (None, to_like(g, a)) + _nones(args)

    return y, prod_pullback


def _extremum_rule(f):
    name = f.__name__

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)

        def pullback(y_bar):
            A = np.asarray(a)
            axis, keepdims, where = _max_sig(A, *args, **kwargs)
            _no_where(where, name)
            axes = _axes(axis, A.ndim)
            ye = _expand(y, A.shape, axes, keepdims)
            mask = A == ye
            if A.dtype.kind in "fc":
                mask |= np.isnan(A) & np.isnan(ye)
            # ties share the gradient evenly
            count = np.maximum(np.sum(mask, axis=axes, keepdims=True), 1)
            g = _expand(y_bar, A.shape, axes, keepdims) * mask / count
            return (None, to_like(g, a)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def nansum_rrule(a, *args, **kwargs):
    y = np.nansum(a, *args, **kwargs)

    def nansum_pullback(y_bar):
        A = np.asarray(a)
        axis, keepdims, where = _sum_sig(A, *args, **kwargs)
        _no_where(where, "nansum")
        g = np.where(np.isnan(A), 0, _expand(y_bar, A.shape, _axes(axis, A.ndim), keepdims))
        return (None, to_like(g, a)) + _nones(args)

    return y, nansum_pullback


def nanmean_rrule(a, *args, **kwargs):
    y = np.nanmean(a, *args, **kwargs)

    def nanmean_pullback(y_bar):
        A = np.asarray(a)
        axis, keepdims, where = _mean_sig(A, *args, **kwargs)
        _no_where(where, "nanmean")
        axes = _axes(axis, A.ndim)
        ok = ~np.isnan(A)
        count = np.sum(ok, axis=axes, keepdims=True)
        g = np.where(ok, _expand(y_bar, A.shape, axes, keepdims) / np.maximum(count, 1), 0)
        return (None, to_like(g, a)) + _nones(args)

    return y, nanmean_pullback


for _f in (np.sum, np.ndarray.sum):
    register(_f, sum_rrule, number_closed=True)
for _f in (np.mean, np.ndarray.mean):
    register(_f, mean_rrule, number_closed=True)
for _f in (np.var, np.ndarray.var):
    register(_f, var_rrule, number_closed=True)
for _f in (np.std, np.ndarray.std):
    register(_f, std_rrule, number_closed=True)
for _f in (np.prod, np.ndarray.prod):
    register(_f, prod_rrule, number_closed=True)
for _f in (np.max, np.amax, np.min, np.amin):
    register(_f, _extremum_rule(_f), number_closed=True)
register(np.ndarray.max, _extremum_rule(np.max), number_closed=True)
register(np.ndarray.min, _extremum_rule(np.min), number_closed=True)
register(np.nansum, nansum_rrule, number_closed=True)
register(np.nanmean, nanmean_rrule, number_closed=True)


def cumsum_rrule(a, axis=None, *args, **kwargs):
    y = np.cumsum(a, axis, *args, **kwargs)

    def cumsum_pullback(y_bar):
        g = np.asarray(y_bar)
        if axis is None:
            r = np.flip(np.cumsum(np.flip(g.reshape(-1)))).reshape(np.shape(a))
        else:
            r = np.flip(np.cumsum(np.flip(g, axis), axis), axis)
        return (None, to_like(r, a), None) + _nones(args)

    return y, cumsum_pullback


def cumprod_rrule(a, axis=None, *args, **kwargs):
    y = np.cumprod(a, axis, *args, **kwargs)

    def cumprod_pullback(y_bar):
        A = np.asarray(a)
        if A.dtype.kind not in "fc":
            A = A.astype(np.float64)
        ax = axis
        if ax is None:
            A = A.reshape(-1)
            ax = 0
        g = np.moveaxis(np.broadcast_to(np.asarray(y_bar), np.shape(y)).reshape(A.shape), ax, 0)
        Am = np.moveaxis(A, ax, 0)
        n = Am.shape[0]
        if n and np.all(Am != 0):
            Y = np.moveaxis(np.asarray(y).reshape(A.shape), ax, 0)
            r = np.flip(np.cumsum(np.flip(g * Y, 0), 0), 0) / Am
        else:
            # a_bar[i] = prod(a[:i]) * R[i],  R[i] = g[i] + a[i+1] * R[i+1]   (exact with zeros)
            left = np.cumprod(np.concatenate([np.ones_like(Am[:1]), Am[:-1]]), 0)
            R = np.empty(np.broadcast_shapes(g.shape, Am.shape), np.result_type(g, Am))
            acc = 0
            for i in range(n - 1, -1, -1):
                acc = g[i] + (Am[i + 1] * acc if i + 1 < n else 0)
                R[i] = acc
            r = left * R
        r = np.moveaxis(r, 0, ax).reshape(np.shape(a))
        return (None, to_like(r, a), None) + _nones(args)

    return y, cumprod_pullback


for _f in (np.cumsum, np.ndarray.cumsum):
    register(_f, cumsum_rrule)
for _f in (np.cumprod, np.ndarray.cumprod):
    register(_f, cumprod_rrule)


# --- norms --------------------------------------------------------------------------------


def _norm_sig(x, ord=None, axis=None, keepdims=False):
    return ord, axis, keepdims


def _safe_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0, a / np.where(b == 0, 1, b))


def _unit(X):
    """sign(X), or conj(X) / |X| for complex X (the cotangent direction of |X|)."""
    if np.iscomplexobj(X):
        return _safe_div(np.conj(X), np.abs(X))
    return np.sign(X)


def _vector_norm_bar(X, ord, G, Y, axis):
    """Cotangent of a vector norm of X along `axis` (G and Y broadcast against X)."""
    if ord is None or ord == 2:
        return G * _safe_div(np.conj(X), Y)
    if ord == 0:
        return np.zeros(X.shape, float_dtype(X))
    absX = np.abs(X)
    if ord == 1:
        return G * _unit(X)
    if ord in (np.inf, -np.inf):
        mask = absX == Y
        count = np.maximum(np.sum(mask, axis=axis, keepdims=True), 1)
        return G * _unit(X) * mask / count
    p = float(ord)
    return G * _unit(X) * _safe_div(absX ** (p - 1), Y ** (p - 1))


def _matrix_norm_bar(X, ord, G, Y, row, col):
    if ord is None or ord == "fro":
        return G * _safe_div(np.conj(X), Y)
    M = np.moveaxis(X, (row, col), (-2, -1))
    Gm = np.moveaxis(G, (row, col), (-2, -1))
    if ord in ("nuc", 2, -2):
        U, s, Vh = np.linalg.svd(M, full_matrices=False)
        if ord == "nuc":
            D = U @ Vh
        else:
            k = 0 if ord == 2 else -1
            D = U[..., :, k : k + 1 if k else 1] @ Vh[..., k : k + 1 if k else 1, :] if k == 0 else (
                U[..., :, -1:] @ Vh[..., -1:, :]
            )
        R = Gm * np.conj(D)
    elif ord in (1, -1, np.inf, -np.inf):
        along = -2 if ord in (1, -1) else -1  # 1: column sums (over rows), inf: row sums
        sums = np.sum(np.abs(M), axis=along, keepdims=True)
        pick = np.max(sums, axis=-1 if along == -2 else -2, keepdims=True) if ord in (1, np.inf) else (
            np.min(sums, axis=-1 if along == -2 else -2, keepdims=True)
        )
        mask = sums == pick
        count = np.maximum(np.sum(mask, axis=(-2, -1), keepdims=True), 1)
        R = Gm * _unit(M) * mask / count
    else:
        raise DifferentiationError(f"np.linalg.norm with ord={ord!r} has no differentiation rule")
    return np.moveaxis(R, (-2, -1), (row, col))


def norm_rrule(x, *args, **kwargs):
    y = np.linalg.norm(x, *args, **kwargs)

    def norm_pullback(y_bar):
        X = np.asarray(x)
        if X.dtype.kind not in "fc":
            X = X.astype(np.float64)
        ord, axis, keepdims = _norm_sig(X, *args, **kwargs)
        if axis is None and ord is None:
            axes = tuple(range(X.ndim))
            G = _expand(y_bar, X.shape, axes, keepdims)
            Y = _expand(y, X.shape, axes, keepdims)
            r = G * _safe_div(np.conj(X), Y)
        else:
            if axis is None:
                axis = tuple(range(X.ndim))
            axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
            axes_n = tuple(int(a) % X.ndim for a in axes)
            G = np.asarray(y_bar)
            Y = np.asarray(y)
            if not keepdims:
                G = np.expand_dims(G, tuple(sorted(axes_n)))
                Y = np.expand_dims(Y, tuple(sorted(axes_n)))
            if len(axes_n) == 1:
                r = _vector_norm_bar(X, ord, G, Y, axes_n[0])
            else:
                r = _matrix_norm_bar(X, ord, G, Y, *axes_n)
        return (None, to_like(np.broadcast_to(r, X.shape), x)) + _nones(args)

    return y, norm_pullback


register(np.linalg.norm, norm_rrule, number_closed=True)


# --- shapes -------------------------------------------------------------------------------


def _reshaping(f, name):
    """Rules of functions that only rearrange the entries into a new shape (reshape, ravel, ...)."""

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)

        def pullback(y_bar):
            return (None, to_like(np.reshape(y_bar, np.shape(a)), a)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


for _f, _n in (
    (np.reshape, "reshape"), (np.ravel, "ravel"), (np.squeeze, "squeeze"),
    (np.expand_dims, "expand_dims"), (np.ndarray.reshape, "reshape"), (np.ndarray.ravel, "ravel"),
    (np.ndarray.flatten, "flatten"), (np.ndarray.squeeze, "squeeze"),
):
    register(_f, _reshaping(_f, _n))


def _atleast(f):
    name = f.__name__

    def rule(*arys):
        y = f(*arys)

        def pullback(y_bar):
            if len(arys) == 1:
                return None, to_like(np.reshape(y_bar, np.shape(arys[0])), arys[0])
            return (None,) + tuple(
                None if b is None else to_like(np.reshape(b, np.shape(a)), a) for a, b in zip(arys, y_bar)
            )

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    register(_f, _atleast(_f))


def _transpose_axes(ndim, axes):
    if axes is None or len(axes) == 0:
        return None
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
        if axes is None:
            return None
    return tuple(int(a) % ndim for a in axes)


def transpose_rrule(a, *axes, **kwargs):
    y = np.transpose(a, *axes, **kwargs)

    def transpose_pullback(y_bar):
        ax = _transpose_axes(np.ndim(a), axes or tuple(kwargs.values()))
        r = np.transpose(y_bar) if ax is None else np.transpose(y_bar, np.argsort(ax))
        return (None, to_like(r, a)) + _nones(axes)

    return y, transpose_pullback


def ndarray_transpose_rrule(self, *axes):
    y = self.transpose(*axes)

    def transpose_pullback(y_bar):
        ax = _transpose_axes(self.ndim, axes)
        r = np.transpose(y_bar) if ax is None else np.transpose(y_bar, np.argsort(ax))
        return (None, to_like(r, self)) + _nones(axes)

    return y, transpose_pullback


register(np.transpose, transpose_rrule)
register(np.ndarray.transpose, ndarray_transpose_rrule)


def swapaxes_rrule(a, axis1, axis2):
    y = np.swapaxes(a, axis1, axis2)

    def swapaxes_pullback(y_bar):
        return None, to_like(np.swapaxes(y_bar, axis1, axis2), a), None, None

    return y, swapaxes_pullback


def matrix_transpose_rrule(x):
    y = np.matrix_transpose(x)

    def matrix_transpose_pullback(y_bar):
        return None, to_like(np.swapaxes(y_bar, -1, -2), x)

    return y, matrix_transpose_pullback


def moveaxis_rrule(a, source, destination):
    y = np.moveaxis(a, source, destination)

    def moveaxis_pullback(y_bar):
        return None, to_like(np.moveaxis(y_bar, destination, source), a), None, None

    return y, moveaxis_pullback


def broadcast_to_rrule(array, shape, *args, **kwargs):
    y = np.broadcast_to(array, shape, *args, **kwargs)

    def broadcast_to_pullback(y_bar):
        return (None, unbroadcast_to(np.asarray(y_bar), array), None) + _nones(args)

    return y, broadcast_to_pullback


def broadcast_arrays_rrule(*args, **kwargs):
    y = np.broadcast_arrays(*args, **kwargs)

    def broadcast_arrays_pullback(y_bar):
        return (None,) + tuple(
            None if b is None else unbroadcast_to(np.asarray(b), a) for a, b in zip(args, y_bar)
        )

    return y, broadcast_arrays_pullback


register(np.swapaxes, swapaxes_rrule)
register(np.ndarray.swapaxes, swapaxes_rrule)
if hasattr(np, "matrix_transpose"):  # NumPy >= 2
    register(np.matrix_transpose, matrix_transpose_rrule)
register(np.moveaxis, moveaxis_rrule)
register(np.broadcast_to, broadcast_to_rrule)
register(np.broadcast_arrays, broadcast_arrays_rrule)


def _split_pieces(g, shapes, axis):
    """Cut `g` along `axis` into pieces of the given shapes' sizes along that axis."""
    pieces, start = [], 0
    for s in shapes:
        n = s[axis]
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + n)
        pieces.append(g[tuple(index)])
        start += n
    return pieces


def _seq_of(arrays, bars):
    """Cotangents of the entries of the sequence `arrays`, as its own kind."""
    if isinstance(arrays, np.ndarray):
        return to_like(np.stack([np.zeros(np.shape(a)) if b is None else b for a, b in zip(arrays, bars)]), arrays)
    if isinstance(arrays, tuple):
        return tuple(bars)
    return list(bars)


def concatenate_rrule(arrays, axis=0, *args, **kwargs):
    y = np.concatenate(arrays, axis, *args, **kwargs)

    def concatenate_pullback(y_bar):
        arrs = [np.asarray(a) for a in arrays]
        g = np.asarray(y_bar)
        if axis is None:
            shapes = [(a.size,) for a in arrs]
            pieces = _split_pieces(g, shapes, 0)
        else:
            pieces = _split_pieces(g, [a.shape for a in arrs], axis)
        bars = [to_like(p.reshape(np.shape(a)), a) for p, a in zip(pieces, arrays)]
        return (None, _seq_of(arrays, bars), None) + _nones(args)

    return y, concatenate_pullback


def stack_rrule(arrays, axis=0, *args, **kwargs):
    y = np.stack(arrays, axis, *args, **kwargs)

    def stack_pullback(y_bar):
        g = np.moveaxis(np.asarray(y_bar), axis, 0)
        bars = [to_like(g[i].reshape(np.shape(a)), a) for i, a in enumerate(arrays)]
        return (None, _seq_of(arrays, bars), None) + _nones(args)

    return y, stack_pullback


def _joiner(f, prepare, axis_of):
    """hstack/vstack/dstack/column_stack: a concatenation of prepared arrays."""
    name = f.__name__

    def rule(tup, *args, **kwargs):
        y = f(tup, *args, **kwargs)

        def pullback(y_bar):
            prepared = [prepare(np.asarray(a)) for a in tup]
            pieces = _split_pieces(np.asarray(y_bar), [p.shape for p in prepared], axis_of(prepared))
            bars = [to_like(p.reshape(np.shape(a)), a) for p, a in zip(pieces, tup)]
            return (None, _seq_of(tup, bars)) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _column(a):
    return a.reshape(-1, 1) if a.ndim < 2 else a


register(np.concatenate, concatenate_rrule)
register(np.stack, stack_rrule)
register(np.hstack, _joiner(np.hstack, np.atleast_1d, lambda ps: 0 if ps[0].ndim == 1 else 1))
register(np.vstack, _joiner(np.vstack, np.atleast_2d, lambda ps: 0))
register(np.dstack, _joiner(np.dstack, np.atleast_3d, lambda ps: 2))
register(np.column_stack, _joiner(np.column_stack, _column, lambda ps: 1))


def append_rrule(arr, values, axis=None):
    y = np.append(arr, values, axis)

    def append_pullback(y_bar):
        g = np.asarray(y_bar)
        A, V = np.asarray(arr), np.asarray(values)
        if axis is None:
            a_part, v_part = g[: A.size], g[A.size :]
        else:
            a_part, v_part = _split_pieces(g, [A.shape, V.shape], axis)
        return None, to_like(a_part.reshape(A.shape), arr), to_like(v_part.reshape(V.shape), values), None

    return y, append_pullback


register(np.append, append_rrule)


def _splitter(f, axis_of):
    name = f.__name__

    def rule(ary, indices_or_sections, *args, **kwargs):
        y = f(ary, indices_or_sections, *args, **kwargs)

        def pullback(y_bar):
            A = np.asarray(ary)
            axis = axis_of(A, args, kwargs)
            g = np.concatenate(
                [np.zeros(p.shape, float_dtype(A)) if b is None else b for p, b in zip(y, y_bar)], axis
            )
            return (None, to_like(g, ary), None) + _nones(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _given_axis(A, args, kwargs):
    return args[0] if args else kwargs.get("axis", 0)


register(np.split, _splitter(np.split, _given_axis))
register(np.array_split, _splitter(np.array_split, _given_axis))
register(np.hsplit, _splitter(np.hsplit, lambda A, a, k: 1 if A.ndim > 1 else 0))
register(np.vsplit, _splitter(np.vsplit, lambda A, a, k: 0))
register(np.dsplit, _splitter(np.dsplit, lambda A, a, k: 2))


def tile_rrule(A, reps):
    y = np.tile(A, reps)

    def tile_pullback(y_bar):
        shape = np.shape(A)
        r = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
        d = max(len(shape), len(r))
        s = (1,) * (d - len(shape)) + shape
        r = (1,) * (d - len(r)) + r
        g = np.asarray(y_bar).reshape(tuple(x for pair in zip(r, s) for x in pair))
        g = g.sum(axis=tuple(range(0, 2 * d, 2)))
        return None, to_like(g.reshape(shape), A), None

    return y, tile_pullback


def repeat_rrule(a, repeats, axis=None):
    y = np.repeat(a, repeats, axis)

    def repeat_pullback(y_bar):
        A, g = np.asarray(a), np.asarray(y_bar)
        if axis is None:
            n, ax, gm = A.size, 0, g
        else:
            ax = axis % A.ndim
            n, gm = A.shape[ax], np.moveaxis(g, ax, 0)
        out = np.zeros((n,) + gm.shape[1:], float_dtype(A))
        np.add.at(out, np.repeat(np.arange(n), repeats), gm)
        if axis is not None:
            out = np.moveaxis(out, 0, ax)
        return None, to_like(out.reshape(A.shape), a), None, None

    return y, repeat_pullback


register(np.tile, tile_rrule)
register(np.repeat, repeat_rrule)
register(np.ndarray.repeat, repeat_rrule)


def flip_rrule(m, axis=None):
    y = np.flip(m, axis)

    def flip_pullback(y_bar):
        return None, to_like(np.flip(y_bar, axis), m), None

    return y, flip_pullback


def fliplr_rrule(m):
    y = np.fliplr(m)
    return y, _named("fliplr_pullback", lambda y_bar: (None, to_like(np.fliplr(y_bar), m)))


def flipud_rrule(m):
    y = np.flipud(m)
    return y, _named("flipud_pullback", lambda y_bar: (None, to_like(np.flipud(y_bar), m)))


def roll_rrule(a, shift, axis=None):
    y = np.roll(a, shift, axis)

    def roll_pullback(y_bar):
        back = -np.asarray(shift)
        return None, to_like(np.roll(y_bar, back if back.ndim else int(back), axis), a), None, None

    return y, roll_pullback


def rot90_rrule(m, k=1, axes=(0, 1)):
    y = np.rot90(m, k, axes)

    def rot90_pullback(y_bar):
        return None, to_like(np.rot90(y_bar, -k, axes), m), None, None

    return y, rot90_pullback


register(np.flip, flip_rrule)
register(np.fliplr, fliplr_rrule)
register(np.flipud, flipud_rrule)
register(np.roll, roll_rrule)
register(np.rot90, rot90_rrule)


def pad_rrule(array, pad_width, *args, **kwargs):
    mode = args[0] if args else kwargs.get("mode", "constant")
    if mode != "constant":
        raise DifferentiationError(f"np.pad(mode={mode!r}) has no differentiation rule (only 'constant')")
    y = np.pad(array, pad_width, *args, **kwargs)

    def pad_pullback(y_bar):
        A = np.asarray(array)
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (A.ndim, 2))
        index = tuple(slice(int(w[0]), int(w[0]) + n) for w, n in zip(widths, A.shape))
        return (None, to_like(np.asarray(y_bar)[index], array), None) + _nones(args)

    return y, pad_pullback


register(np.pad, pad_rrule)


# --- indexing -----------------------------------------------------------------------------


def _is_basic_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) and not isinstance(i, (bool, np.bool_))
        for i in items
    )


def index_bar(a, idx, g):
    """The cotangent of the array `a` for `y = a[idx]` (repeated fancy indices accumulate)."""
    A = np.asarray(a)
    out = np.zeros(A.shape, float_dtype(A))
    g = np.asarray(g)
    if np.iscomplexobj(g) and not np.iscomplexobj(out):
        g = g.real
    if _is_basic_index(idx):
        out[idx] = g
    else:
        np.add.at(out, idx, g)
    return out


def ndarray_getitem_rrule(self, idx):
    y = self[idx]

    def getitem_pullback(y_bar):
        return None, index_bar(self, idx, y_bar), None

    return y, getitem_pullback


register(np.ndarray.__getitem__, ndarray_getitem_rrule)


def take_rrule(a, indices, axis=None, *args, **kwargs):
    y = np.take(a, indices, axis, *args, **kwargs)

    def take_pullback(y_bar):
        A = np.asarray(a)
        mode = kwargs.get("mode", args[1] if len(args) > 1 else "raise")
        n = A.size if axis is None else A.shape[axis]
        idx = np.asarray(indices)
        idx = np.mod(idx, n) if mode == "wrap" else np.clip(idx, 0, n - 1) if mode == "clip" else idx
        out = np.zeros(A.shape, float_dtype(A))
        if axis is None:
            np.add.at(out.reshape(-1), idx, y_bar)
        else:
            np.add.at(out, (slice(None),) * (axis % A.ndim) + (idx,), y_bar)
        return (None, to_like(out, a), None, None) + _nones(args)

    return y, take_pullback


def take_along_axis_rrule(arr, indices, axis=-1):
    y = np.take_along_axis(arr, indices, axis)

    def take_along_axis_pullback(y_bar):
        A = np.asarray(arr)
        out = np.zeros(A.shape, float_dtype(A))
        if axis is None:
            np.add.at(out.reshape(-1), indices, y_bar)
        else:
            ax = axis % A.ndim
            grid = list(np.ix_(*[np.arange(n) for n in indices.shape]))
            grid[ax] = indices
            np.add.at(out, tuple(np.broadcast_arrays(*grid)), y_bar)
        return None, to_like(out, arr), None, None

    return y, take_along_axis_pullback


register(np.take, take_rrule)
register(np.ndarray.take, take_rrule)
register(np.take_along_axis, take_along_axis_rrule)


def where_rrule(condition, *xy):
    y = np.where(condition, *xy)
    if not xy:  # np.where(cond): indices, no gradient
        return y, _named("where_pullback", lambda y_bar: (None, None))
    x, other = xy

    def where_pullback(y_bar):
        return (
            None,
            None,
            unbroadcast_to(np.where(condition, y_bar, 0), x),
            unbroadcast_to(np.where(condition, 0, y_bar), other),
        )

    return y, where_pullback


register(np.where, where_rrule)


def clip_rrule(a, *args, **kwargs):
    y = np.clip(a, *args, **kwargs)

    def clip_pullback(y_bar):
        lo = args[0] if len(args) > 0 else kwargs.get("a_min", kwargs.get("min"))
        hi = args[1] if len(args) > 1 else kwargs.get("a_max", kwargs.get("max"))
        lo = None if lo is np._NoValue else lo
        hi = None if hi is np._NoValue else hi
        A = np.asarray(a)
        # np.clip is minimum(maximum(a, lo), hi); ties go to `a` (NaN in `a` too)
        keep_a = np.ones(A.shape, bool) if lo is None else ~(A < lo)
        t = A if lo is None else np.maximum(A, lo)
        keep_t = np.ones(np.shape(t), bool) if hi is None else ~(t > hi)
        g = np.asarray(y_bar)
        a_bar = unbroadcast_to(np.where(keep_a & keep_t, g, 0), a)
        bars = []
        if len(args) > 0:
            bars.append(None if lo is None else unbroadcast_to(np.where(~keep_a & keep_t, g, 0), lo))
        if len(args) > 1:
            bars.append(None if hi is None else unbroadcast_to(np.where(keep_t, 0, g), hi))
        return (None, a_bar) + tuple(bars) + _nones(args[2:])

    return y, clip_pullback


register(np.clip, clip_rrule, number_closed=True)
register(np.ndarray.clip, clip_rrule)


def diff_rrule(a, n=1, axis=-1, **kwargs):
    y = np.diff(a, n, axis, **kwargs)

    def diff_pullback(y_bar):
        g = np.asarray(y_bar)
        for _ in range(n):  # the transpose of one difference
            g = -np.diff(g, axis=axis, prepend=0, append=0)
        A = np.asarray(a)
        pre = kwargs.get("prepend", np._NoValue)
        start = 0 if pre is np._NoValue else (np.asarray(pre).shape[axis] if np.ndim(pre) else 1)
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + A.shape[axis])
        return None, to_like(g[tuple(index)], a), None, None

    return y, diff_pullback


register(np.diff, diff_rrule)


def sort_rrule(a, axis=-1, *args, **kwargs):
    A = np.asarray(a)
    if axis is None:
        A, ax = A.reshape(-1), 0
    else:
        ax = axis
    perm = np.argsort(A, axis=ax, kind="stable")
    y = np.take_along_axis(A, perm, ax)

    def sort_pullback(y_bar):
        out = np.zeros(A.shape, float_dtype(A))
        np.put_along_axis(out, perm, y_bar, ax)
        return (None, to_like(out.reshape(np.shape(a)), a), None) + _nones(args)

    return y, sort_pullback


def partition_rrule(a, kth, axis=-1, *args, **kwargs):
    A = np.asarray(a)
    if axis is None:
        A, ax = A.reshape(-1), 0
    else:
        ax = axis
    perm = np.argpartition(A, kth, axis=ax)
    y = np.take_along_axis(A, perm, ax)

    def partition_pullback(y_bar):
        out = np.zeros(A.shape, float_dtype(A))
        np.put_along_axis(out, perm, y_bar, ax)
        return (None, to_like(out.reshape(np.shape(a)), a), None, None) + _nones(args)

    return y, partition_pullback


register(np.sort, sort_rrule)
register(np.partition, partition_rrule)


# --- products -----------------------------------------------------------------------------


def _swap(x):
    return np.swapaxes(x, -1, -2)


def matmul_bars(a, b, g):
    """Cotangents of `a` and `b` for `a @ b` (1-d operands and batch broadcasting included)."""
    A, B, G = np.asarray(a), np.asarray(b), np.asarray(g)
    if A.ndim == 1 and B.ndim == 1:
        return unbroadcast_to(G * B, a), unbroadcast_to(G * A, b)
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    G2 = G
    if A.ndim == 1:
        G2 = G2[..., None, :]
    if B.ndim == 1:
        G2 = G2[..., None]
    a_bar = G2 @ _swap(B2) if has_tangent(a) else None
    b_bar = _swap(A2) @ G2 if has_tangent(b) else None
    if a_bar is not None:
        a_bar = unbroadcast_to(a_bar, A2)
        a_bar = to_like(a_bar.reshape(A.shape), a)
    if b_bar is not None:
        b_bar = unbroadcast_to(b_bar, B2)
        b_bar = to_like(b_bar.reshape(B.shape), b)
    return a_bar, b_bar


def matmul_rrule(a, b, **kwargs):
    y = np.matmul(a, b, **kwargs)

    def matmul_pullback(y_bar):
        return (None,) + matmul_bars(a, b, y_bar)

    return y, matmul_pullback


def _tensordot_axes(axes, na, nb):
    if isinstance(axes, (int, np.integer)):
        return list(range(na - axes, na)), list(range(axes))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [int(i) % na for i in ax_a], [int(i) % nb for i in ax_b]


def tensordot_bars(a, b, axes, g):
    """Cotangents for `np.tensordot(a, b, axes)`: two tensordots with `g` and a transpose."""
    A, B, G = np.asarray(a), np.asarray(b), np.asarray(g)
    sa, sb = _tensordot_axes(axes, A.ndim, B.ndim)
    fa = [i for i in range(A.ndim) if i not in sa]
    fb = [i for i in range(B.ndim) if i not in sb]
    nfa = len(fa)
    a_bar = b_bar = None
    if has_tangent(a):
        r = np.tensordot(G, B, axes=(list(range(nfa, nfa + len(fb))), fb))
        # r's axes: a's free axes, then b's summed axes in b's order (paired with a's)
        labels = fa + [sa[sb.index(j)] for j in sorted(sb)]
        a_bar = to_like(np.transpose(r, np.argsort(labels)), a)
    if has_tangent(b):
        r = np.tensordot(A, G, axes=(fa, list(range(nfa))))
        labels = [sb[sa.index(i)] for i in sorted(sa)] + fb
        b_bar = to_like(np.transpose(r, np.argsort(labels)), b)
    return a_bar, b_bar


def tensordot_rrule(a, b, axes=2):
    y = np.tensordot(a, b, axes)

    def tensordot_pullback(y_bar):
        return (None,) + tensordot_bars(a, b, axes, y_bar) + (None,)

    return y, tensordot_pullback


def _product_bars(a, b, g):
    return unbroadcast_to(np.multiply(g, b), a), unbroadcast_to(np.multiply(a, g), b)


def dot_rrule(a, b, *args):
    y = np.dot(a, b, *args)

    def dot_pullback(y_bar):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            bars = _product_bars(a, b, y_bar)
        else:
            bars = tensordot_bars(a, b, ([na - 1], [0 if nb == 1 else nb - 2]), y_bar)
        return (None,) + bars + _nones(args)

    return y, dot_pullback


def inner_rrule(a, b):
    y = np.inner(a, b)

    def inner_pullback(y_bar):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            return (None,) + _product_bars(a, b, y_bar)
        return (None,) + tensordot_bars(a, b, ([na - 1], [nb - 1]), y_bar)

    return y, inner_pullback


def outer_rrule(a, b, out=None):
    y = np.outer(a, b, out)

    def outer_pullback(y_bar):
        A, B, G = np.ravel(a), np.ravel(b), np.asarray(y_bar)
        return (
            None,
            to_like((G @ B).reshape(np.shape(a)), a),
            to_like((A @ G).reshape(np.shape(b)), b),
        ) + ((None,) if out is not None else ())

    return y, outer_pullback


def vdot_rrule(a, b):
    y = np.vdot(a, b)

    def vdot_pullback(y_bar):
        # y = sum(conj(a) * b): b pulls back y_bar * conj(a), a pulls back conj(y_bar * b)
        A, B = np.asarray(a), np.asarray(b)
        return (
            None,
            to_like(np.conj(y_bar * B).reshape(A.shape), a),
            to_like((y_bar * np.conj(A)).reshape(B.shape), b),
        )

    return y, vdot_pullback


def cross_rrule(a, b):
    if np.shape(a)[-1:] != (3,) or np.shape(b)[-1:] != (3,):
        raise DifferentiationError("np.cross has a differentiation rule for 3-vectors only")
    y = np.cross(a, b)

    def cross_pullback(y_bar):
        return None, unbroadcast_to(np.cross(b, y_bar), a), unbroadcast_to(np.cross(y_bar, a), b)

    return y, cross_pullback


register(np.matmul, matmul_rrule)
register(np.tensordot, tensordot_rrule)
register(np.dot, dot_rrule, number_closed=True)
register(np.ndarray.dot, dot_rrule)
register(np.inner, inner_rrule, number_closed=True)
register(np.outer, outer_rrule)
register(np.vdot, vdot_rrule)
register(np.cross, cross_rrule)


def _einsum_terms(subscripts, shapes):
    """The einsum input terms and output, with '...' spelled out as letters and the output explicit."""
    subs = subscripts.replace(" ", "")
    ins, out = subs.split("->") if "->" in subs else (subs, None)
    terms = ins.split(",")
    used = {c for c in subs if c.isalpha()}
    spare = [c for c in string.ascii_letters if c not in used]
    ell = [len(s) - (len(t) - 3) if "..." in t else 0 for t, s in zip(terms, shapes)]
    n_ell = max(ell, default=0)
    letters = "".join(spare[:n_ell])
    new_terms = [t.replace("...", letters[n_ell - k :]) if "..." in t else t for t, k in zip(terms, ell)]
    if out is None:
        counts = {}
        for t in terms:
            for c in t:
                if c.isalpha():
                    counts[c] = counts.get(c, 0) + 1
        out = letters + "".join(sorted(c for c, k in counts.items() if k == 1))
    else:
        out = out.replace("...", letters)
    return new_terms, out


def _einsum_operand_bar(i, terms, out, ops, g, kwargs):
    """Cotangent of operand `i`: the einsum of `g` with the other operands, onto operand i's labels."""
    sizes = {}
    for t, op in zip(terms, ops):
        for c, n in zip(t, op.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    term, shape = terms[i], ops[i].shape
    own = dict(zip(term, shape))
    uniq = list(dict.fromkeys(term))
    subs, operands = [out], [np.asarray(g)]
    for j, (t, op) in enumerate(zip(terms, ops)):
        if j == i:
            continue
        # axes that were broadcast (size 1 against a larger size) carry no label
        drop = [k for k, c in enumerate(t) if op.shape[k] == 1 and sizes[c] > 1]
        operands.append(op.squeeze(axis=tuple(drop)) if drop else op)
        subs.append("".join(c for k, c in enumerate(t) if k not in drop))
    avail = set("".join(subs))
    target = [c for c in uniq if c in avail and own[c] == sizes[c]]
    r = np.einsum(",".join(subs) + "->" + "".join(target), *operands, **kwargs)
    # labels found nowhere else are broadcast; size-1 (broadcast) labels were summed
    order = target + [c for c in uniq if c not in target]
    r = r.reshape(r.shape + (1,) * (len(order) - len(target)))
    r = np.broadcast_to(r, [own[c] for c in order])
    r = np.transpose(r, [order.index(c) for c in uniq])
    if len(uniq) == len(term):
        return np.array(r)
    # a repeated label (a diagonal): write r onto that diagonal
    full = np.zeros(shape, r.dtype)
    grids = np.indices([own[c] for c in uniq], sparse=True)
    full[tuple(grids[uniq.index(c)] for c in term)] = r
    return full


def einsum_rrule(subscripts, *operands, **kwargs):
    if not isinstance(subscripts, str):
        raise DifferentiationError("np.einsum has a differentiation rule for the subscripts-string form only")
    y = np.einsum(subscripts, *operands, **kwargs)

    def einsum_pullback(y_bar):
        ops = [np.asarray(o) for o in operands]
        terms, out = _einsum_terms(subscripts, [o.shape for o in ops])
        kw = {k: v for k, v in kwargs.items() if k == "optimize"}
        bars = tuple(
            to_like(_einsum_operand_bar(i, terms, out, ops, y_bar, kw), o) if has_tangent(o) else None
            for i, o in enumerate(operands)
        )
        return (None, None) + bars

    return y, einsum_pullback


register(np.einsum, einsum_rrule)


def _diagonal_embed(g, shape, offset, axis1, axis2, dtype):
    """Zeros of `shape` with `g` (shape (..., k)) on the diagonal (offset, axis1, axis2)."""
    out = np.zeros(shape, dtype)
    nd = len(shape)
    moved = np.moveaxis(out, (axis1 % nd, axis2 % nd), (-2, -1))
    n1, n2 = moved.shape[-2:]
    r0, c0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(n1 - r0, n2 - c0))
    moved[..., np.arange(k) + r0, np.arange(k) + c0] = np.real(g) if dtype.kind != "c" else g
    return out


def trace_rrule(a, offset=0, axis1=0, axis2=1, *args, **kwargs):
    y = np.trace(a, offset, axis1, axis2, *args, **kwargs)

    def trace_pullback(y_bar):
        A = np.asarray(a)
        g = np.asarray(y_bar)[..., None]
        out = _diagonal_embed(g, A.shape, offset, axis1, axis2, float_dtype(A))
        return (None, to_like(out, a), None, None, None) + _nones(args)

    return y, trace_pullback


def diagonal_rrule(a, offset=0, axis1=0, axis2=1):
    y = np.diagonal(a, offset, axis1, axis2)

    def diagonal_pullback(y_bar):
        A = np.asarray(a)
        out = _diagonal_embed(np.asarray(y_bar), A.shape, offset, axis1, axis2, float_dtype(A))
        return None, to_like(out, a), None, None, None

    return y, diagonal_pullback


def diag_rrule(v, k=0):
    y = np.diag(v, k)

    def diag_pullback(y_bar):
        V = np.asarray(v)
        if V.ndim == 1:
            r = np.diagonal(y_bar, k).copy()
        else:
            r = _diagonal_embed(np.asarray(y_bar), V.shape, k, 0, 1, float_dtype(V))
        return None, to_like(r, v), None

    return y, diag_pullback


def tril_rrule(m, k=0):
    y = np.tril(m, k)
    return y, _named("tril_pullback", lambda y_bar: (None, unbroadcast_to(np.tril(y_bar, k), m), None))


def triu_rrule(m, k=0):
    y = np.triu(m, k)
    return y, _named("triu_pullback", lambda y_bar: (None, unbroadcast_to(np.triu(y_bar, k), m), None))


register(np.trace, trace_rrule, number_closed=True)
register(np.ndarray.trace, trace_rrule)
register(np.diagonal, diagonal_rrule)
register(np.ndarray.diagonal, diagonal_rrule)
register(np.diag, diag_rrule)
register(np.tril, tril_rrule)
register(np.triu, triu_rrule)


# --- np.linalg ----------------------------------------------------------------------------


def _real_only(A, name):
    if np.iscomplexobj(A):
        raise DifferentiationError(f"np.linalg.{name} has a differentiation rule for real matrices only")


def _from_triangle(S, lower=True):
    """Gradient of a function of a symmetric matrix that reads one triangle of its argument.

    `S` is the gradient with respect to symmetric perturbations; NumPy's `cholesky`
    and `eigh` read only the lower (or upper) triangle, so the true gradient is
    that triangle of `S + S.T` with `S`'s own diagonal.
    """
    S = (S + _swap(S)) / 2
    tri = np.tril if lower else np.triu
    return tri(S) + tri(S, -1 if lower else 1)


def inv_rrule(a):
    y = np.linalg.inv(a)

    def inv_pullback(y_bar):
        Yt = _swap(y)
        return None, to_like(-(Yt @ y_bar @ Yt), a)

    return y, inv_pullback


def solve_rrule(a, b):
    x = np.linalg.solve(a, b)

    def solve_pullback(y_bar):
        A, B = np.asarray(a), np.asarray(b)
        vector = B.ndim == 1
        X = x[..., None] if vector else x
        G = np.asarray(y_bar)[..., None] if vector else np.asarray(y_bar)
        b_bar = np.linalg.solve(_swap(A), G)
        a_bar = -b_bar @ _swap(X)
        b_bar = b_bar[..., 0] if vector else b_bar
        return None, unbroadcast_to(a_bar, a), unbroadcast_to(b_bar, b)

    return x, solve_pullback


def det_rrule(a):
    y = np.linalg.det(a)

    def det_pullback(y_bar):
        g = np.asarray(y_bar * y)[..., None, None]
        return None, to_like(g * _swap(np.linalg.inv(a)), a)

    return y, det_pullback


def slogdet_rrule(a):
    y = np.linalg.slogdet(a)

    def slogdet_pullback(y_bar):
        g = y_bar[1]
        if g is None:
            return None, None
        return None, to_like(np.asarray(g)[..., None, None] * _swap(np.linalg.inv(a)), a)

    return y, slogdet_pullback


def cholesky_rrule(a, **kwargs):
    upper = kwargs.get("upper", False)
    y = np.linalg.cholesky(a, **kwargs)

    def cholesky_pullback(y_bar):
        A = np.asarray(a)
        _real_only(A, "cholesky")
        L = _swap(y) if upper else y
        L_bar = _swap(y_bar) if upper else np.asarray(y_bar)
        P = np.tril(_swap(L) @ L_bar)
        P = P - 0.5 * np.tril(np.triu(P))  # halve the diagonal
        # S = L^-T P L^-1
        S = np.linalg.solve(_swap(L), _swap(np.linalg.solve(_swap(L), _swap(P))))
        return None, to_like(_from_triangle(S, lower=not upper), a)

    return y, cholesky_pullback


def _eigh_bar(w, V, w_bar, V_bar):
    """Gradient for symmetric perturbations of `A = V diag(w) V^T`."""
    inner = np.zeros(V.shape, np.result_type(V, np.float64))
    if w_bar is not None:
        inner = inner + np.eye(V.shape[-1]) * np.asarray(w_bar)[..., None, :]
    if V_bar is not None:
        diff = w[..., None, :] - w[..., :, None]  # w_j - w_i
        with np.errstate(divide="ignore"):
            F = np.where(np.eye(w.shape[-1], dtype=bool), 0, 1 / np.where(diff == 0, np.inf, diff))
        inner = inner + F * (_swap(V) @ V_bar)
    return V @ inner @ _swap(V)


def eigh_rrule(a, UPLO="L"):
    y = np.linalg.eigh(a, UPLO)

    def eigh_pullback(y_bar):
        _real_only(np.asarray(a), "eigh")
        w, V = y
        S = _eigh_bar(w, V, y_bar[0], y_bar[1])
        return None, to_like(_from_triangle(S, lower=UPLO.upper() == "L"), a), None

    return y, eigh_pullback


def eigvalsh_rrule(a, UPLO="L"):
    y = np.linalg.eigvalsh(a, UPLO)

    def eigvalsh_pullback(y_bar):
        _real_only(np.asarray(a), "eigvalsh")
        w, V = np.linalg.eigh(a, UPLO)
        S = _eigh_bar(w, V, y_bar, None)
        return None, to_like(_from_triangle(S, lower=UPLO.upper() == "L"), a), None

    return y, eigvalsh_pullback


def _svd_bar(U, s, Vh, U_bar, s_bar, Vh_bar):
    """Gradient of the thin SVD `A = U diag(s) Vh` (Townsend, "Differentiating the SVD", 2016)."""
    m, n = U.shape[-2], Vh.shape[-1]
    V = _swap(Vh)
    S = s[..., None, :] * np.eye(s.shape[-1])
    inner = np.zeros(S.shape, np.result_type(S, np.float64))
    if s_bar is not None:
        inner = inner + np.asarray(s_bar)[..., None, :] * np.eye(s.shape[-1])
    out = 0
    if U_bar is not None or Vh_bar is not None:
        s2 = s * s
        diff = s2[..., None, :] - s2[..., :, None]  # s_j^2 - s_i^2
        F = np.where(np.eye(s.shape[-1], dtype=bool), 0, 1 / np.where(diff == 0, np.inf, diff))
        s_inv = 1 / s
        if U_bar is not None:
            UtUb = _swap(U) @ U_bar
            inner = inner + (F * (UtUb - _swap(UtUb))) @ S
            if m > s.shape[-1]:
                out = out + (np.eye(m) - U @ _swap(U)) @ U_bar * s_inv[..., None, :] @ Vh
        if Vh_bar is not None:
            V_bar = _swap(Vh_bar)
            VtVb = _swap(V) @ V_bar
            inner = inner + S @ (F * (VtVb - _swap(VtVb)))
            if n > s.shape[-1]:
                out = out + (U * s_inv[..., None, :]) @ _swap(V_bar) @ (np.eye(n) - V @ Vh)
    return U @ inner @ Vh + out


def svd_rrule(a, full_matrices=True, compute_uv=True, hermitian=False):
    y = np.linalg.svd(a, full_matrices, compute_uv, hermitian)

    def svd_pullback(y_bar):
        A = np.asarray(a)
        _real_only(A, "svd")
        m, n = A.shape[-2:]
        if not compute_uv:
            U, s, Vh = np.linalg.svd(A, full_matrices=False)
            r = _svd_bar(U, s, Vh, None, y_bar, None)
        else:
            U, s, Vh = y
            U_bar, s_bar, Vh_bar = y_bar
            k = min(m, n)
            if full_matrices and m != n:
                if (U_bar is not None and m > k and np.any(U_bar[..., :, k:])) or (
                    Vh_bar is not None and n > k and np.any(Vh_bar[..., k:, :])
                ):
                    raise DifferentiationError(
                        "np.linalg.svd(full_matrices=True) of a non-square matrix: the extra singular "
                        "vectors are not unique; use full_matrices=False"
                    )
                U, Vh = U[..., :, :k], Vh[..., :k, :]
                U_bar = None if U_bar is None else U_bar[..., :, :k]
                Vh_bar = None if Vh_bar is None else Vh_bar[..., :k, :]
            r = _svd_bar(U, s, Vh, U_bar, s_bar, Vh_bar)
        return None, to_like(r, a), None, None, None

    return y, svd_pullback


def qr_rrule(a, mode="reduced"):
    y = np.linalg.qr(a, mode)

    def qr_pullback(y_bar):
        A = np.asarray(a)
        _real_only(A, "qr")
        m, n = A.shape[-2:]
        if m < n or mode not in ("reduced", "r"):
            raise DifferentiationError("np.linalg.qr has a differentiation rule for mode='reduced' and m >= n only")
        if mode == "r":
            Q, R = np.linalg.qr(A)
            Q_bar, R_bar = None, y_bar
        else:
            Q, R = y
            Q_bar, R_bar = y_bar
        M = 0
        if R_bar is not None:
            M = M + R @ _swap(R_bar)
        if Q_bar is not None:
            M = M - _swap(Q_bar) @ Q
        M = np.tril(np.asarray(M) * np.ones((n, n)))
        copyltu = M + _swap(np.tril(M, -1))
        B = Q @ copyltu if Q_bar is None else Q_bar + Q @ copyltu
        # A_bar = B R^-T
        r = _swap(np.linalg.solve(R, _swap(B)))
        return None, to_like(r, a), None

    return y, qr_pullback


def pinv_rrule(a, *args, **kwargs):
    X = np.linalg.pinv(a, *args, **kwargs)

    def pinv_pullback(y_bar):
        A = np.asarray(a)
        _real_only(A, "pinv")
        G = np.asarray(y_bar)
        Xt, Gt = _swap(X), _swap(G)
        m, n = A.shape[-2:]
        r = -Xt @ G @ Xt + (np.eye(m) - A @ X) @ Gt @ X @ Xt + Xt @ X @ Gt @ (np.eye(n) - X @ A)
        return (None, to_like(r, a)) + _nones(args)

    return X, pinv_pullback


def matrix_power_rrule(a, n):
    y = np.linalg.matrix_power(a, n)

    def matrix_power_pullback(y_bar):
        A = np.asarray(a)
        B = A if n >= 0 else np.linalg.inv(A)
        k = abs(n)
        powers = [np.broadcast_to(np.eye(A.shape[-1]), A.shape)]
        for _ in range(k - 1):
            powers.append(powers[-1] @ B)
        G = np.asarray(y_bar)
        B_bar = sum(_swap(powers[i]) @ G @ _swap(powers[k - 1 - i]) for i in range(k)) if k else None
        if B_bar is None:
            return None, None, None
        if n < 0:
            Bt = _swap(B)
            B_bar = -(Bt @ B_bar @ Bt)
        return None, to_like(B_bar, a), None

    return y, matrix_power_pullback


register(np.linalg.inv, inv_rrule)
register(np.linalg.solve, solve_rrule)
register(np.linalg.det, det_rrule, number_closed=True)
register(np.linalg.slogdet, slogdet_rrule)
register(np.linalg.cholesky, cholesky_rrule)
register(np.linalg.eigh, eigh_rrule)
register(np.linalg.eigvalsh, eigvalsh_rrule)
register(np.linalg.svd, svd_rrule)
register(np.linalg.qr, qr_rrule)
register(np.linalg.pinv, pinv_rrule)
register(np.linalg.matrix_power, matrix_power_rrule)


# --- random selections --------------------------------------------------------------------
# `permutation` and `choice` select entries of their argument: they are rewritten as a
# draw of indices (the same random numbers NumPy draws for the array itself) and a take.


def _select_bar(x, idx, g, axis=0):
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


register(np.random.permutation, _permutation_rule(_global_rng))
register(np.random.Generator.permutation, _permutation_rule(_bound_rng))
register(np.random.RandomState.permutation, _permutation_rule(_bound_rng))
register(np.random.choice, _choice_rule(_global_rng))
register(np.random.Generator.choice, _choice_rule(_bound_rng))
register(np.random.RandomState.choice, _choice_rule(_bound_rng))


# --- ndarray attributes ------------------------------------------------------------------


def T_rrule(obj):
    y = obj.T
    return y, _named("T_pullback", lambda y_bar: (None, to_like(np.transpose(y_bar), obj)))


def mT_rrule(obj):
    y = obj.mT
    return y, _named("mT_pullback", lambda y_bar: (None, to_like(_swap(y_bar), obj)))


def real_attribute_rrule(obj):
    return real_rrule(obj)


def imag_attribute_rrule(obj):
    return imag_rrule(obj)


register_attribute(np.ndarray, "T", T_rrule)
register_attribute(np.ndarray, "mT", mT_rrule)
register_attribute(np.ndarray, "real", real_attribute_rrule)
register_attribute(np.ndarray, "imag", imag_attribute_rrule)
register(np.ndarray.conj, conjugate_rrule)
register(np.ndarray.conjugate, conjugate_rrule)
register(np.ndarray.round, _zero_gradient(np.round))
