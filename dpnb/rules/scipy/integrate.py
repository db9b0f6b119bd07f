"""The rule for `scipy.integrate.odeint`, through the adjoint ODE.

`Y = odeint(func, y0, t, args)` solves dy/dt = func(y, t, *args) and returns y at every
time of `t`. Its pullback integrates, backwards from t[-1] to t[0] and with `odeint`
itself, the state y together with the adjoint a = dL/dy and the accumulated parameter
cotangent b:

    dy/dt = f(y, t),   da/dt = -a^T df/dy,   db/dt = -a^T df/dargs,

adding Y_bar[i] to a at each t[i] (and restarting y from the stored Y[i], so no error
builds up). The vector-Jacobian products a^T df/dy and a^T df/dargs come from
`dpnb.pullback(func, y, t, *args)`: `func` is differentiated by dpnb like any user code.
Then y0_bar = a(t[0]), args_bar = b(t[0]); the times get t_bar[i] = Y_bar[i] . f(Y[i], t[i])
for i > 0 and t_bar[0] = -a(t[0]) . f(y0, t[0]), a taken before Y_bar[0] is added (the
outputs move with their own times; all move when t[0] does).

`func`'s own values are not differentiated here: pass what should be through `args`. A
number or an array `func` reads from its closure (the usual `lambda y, t: -a * y`) gets a
`NotImplementedTangent`, so that a gradient that reaches a differentiated one is refused
rather than dropped (it was None); values it reads from globals are constants. Keyword options
(`rtol`, `atol`, `mxstep`, `tfirst`, `full_output`) are honoured; the backward solve uses
the same tolerances. A parameter that is not a number or a numeric array gets no cotangent.
"""
import types

import numpy as np
import scipy.integrate as sint

from ...tangents import NotImplementedTangent
from .. import registry
from .._common import carries_numbers, has_tangent, to_like


def _odeint_sig(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None, rtol=None,
                atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0, mxordn=12,
                mxords=5, printmessg=0, tfirst=False):
    params = args if isinstance(args, tuple) else (args,)
    tolerances = {k: v for k, v in (("rtol", rtol), ("atol", atol), ("mxstep", mxstep)) if v}
    return params, bool(full_output), bool(tfirst), tolerances


def _numeric(p):
    try:
        return has_tangent(p) and np.asarray(p).dtype.kind in "iufc"
    except (TypeError, ValueError):
        return False


def _shaped_like(v, template):
    """The flat vector `v` in the structure of `template` (an output of `func`): the cotangent to pull back."""
    if isinstance(template, (list, tuple)):
        return type(template)(float(e) for e in v)
    if isinstance(template, np.ndarray):
        return v.reshape(template.shape).astype(np.result_type(template.dtype, np.float64))
    return float(v[0])


class _Adjoint:
    """The augmented system [y, a, b] integrated backwards, with `func`'s pullbacks from dpnb."""

    def __init__(self, func, params, tfirst, n):
        import dpnb  # the public API; imported here, when the pullback runs

        self.pullback = dpnb.pullback
        self.func, self.params, self.tfirst, self.n = func, params, tfirst, n
        self.numeric = [_numeric(p) for p in params]
        self.sizes = [int(np.size(p)) if ok else 0 for p, ok in zip(params, self.numeric)]

    def f(self, y, t):
        call = (t, y) if self.tfirst else (y, t)
        return np.asarray(self.func(*call, *self.params), dtype=float).reshape(-1)

    def rhs(self, z, t):
        n = self.n
        y, a = z[:n], z[n : 2 * n]
        call = (t, y) if self.tfirst else (y, t)
        fy, back = self.pullback(self.func, *call, *self.params)
        bars = back(_shaped_like(a, fy))
        y_bar = bars[1] if self.tfirst else bars[0]
        pieces = [np.asarray(fy, dtype=float).reshape(-1), _flat(y_bar, n)]
        for b, size in zip(bars[2:], self.sizes):
            pieces.append(_flat(b, size))
        out = np.concatenate(pieces)
        out[n:] *= -1
        return out


def _flat(bar, size):
    if bar is None or size == 0:
        return np.zeros(size)
    return np.real(np.asarray(bar, dtype=np.result_type(np.asarray(bar), np.float64))).reshape(-1)


def _closure_unknown(func):
    """The cotangent of `func`: a `NotImplementedTangent` for each closure variable of it that
    holds numbers (by name, as a function's cotangent is), None if it has none."""
    if not isinstance(func, types.FunctionType) or not func.__closure__:
        return None
    out = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if carries_numbers(value):
            out[name] = NotImplementedTangent(
                "scipy.integrate.odeint", f"{name} (read by func from its closure)",
                "the adjoint ODE differentiates only func's explicit arguments: pass it through args=")
    return out or None


def odeint_rrule(func, y0, t, *args, **kwargs):
    out = sint.odeint(func, y0, t, *args, **kwargs)
    params, full_output, tfirst, tolerances = _odeint_sig(func, y0, t, *args, **kwargs)
    Y = out[0] if full_output else out

    def odeint_pullback(y_bar):
        G = y_bar[0] if full_output else y_bar
        if G is None:
            return (None,) * (len(args) + 4)
        G = np.asarray(G, dtype=float).reshape(Y.shape)
        T = np.asarray(t, dtype=float)
        m, n = Y.shape
        adj = _Adjoint(func, params, tfirst, n)
        a = G[-1].copy()
        b = np.zeros(sum(adj.sizes))
        t_bar = np.zeros(m)
        for i in range(m - 1, 0, -1):
            t_bar[i] = G[i] @ adj.f(Y[i], T[i])
            z = sint.odeint(adj.rhs, np.concatenate([Y[i], a, b]), [T[i], T[i - 1]], **tolerances)[-1]
            a, b = z[n : 2 * n], z[2 * n :]
            if i > 1:
                a = a + G[i - 1]
        if m > 1:
            t_bar[0] = -(a @ adj.f(Y[0], T[0]))
            a = a + G[0]
        y0_bar = to_like(a.reshape(np.shape(y0)), y0)
        params_bar, start = [], 0
        for p, ok, size in zip(params, adj.numeric, adj.sizes):
            params_bar.append(to_like(b[start : start + size].reshape(np.shape(p)), p) if ok else None)
            start += size
        bars = [_closure_unknown(func), y0_bar, to_like(t_bar.reshape(np.shape(t)), t)]
        if args:
            bars.append(tuple(params_bar) if isinstance(args[0], tuple) else params_bar[0])
            bars += [None] * (len(args) - 1)
        return (None,) + tuple(bars)

    return out, odeint_pullback


registry.register(sint.odeint, odeint_rrule)
