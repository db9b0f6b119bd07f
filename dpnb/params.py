"""Implicit parameters (SPEC §4): a layer over the explicit machinery.

`gradient(f, Params([W, b]))` runs the same adjoint as `gradient(f)`; the
cotangents that reach values read from globals and from `f`'s closure are
walked, structure by structure, and those that belong to a tracked array (by
identity) are summed into a `Grads`.
"""
import numbers
import types

import numpy as np

from .tangents import Tangent, accumulate, scale


class Params:
    """An ordered collection of arrays, keyed by identity.

    >>> import numpy as np
    >>> W = np.ones(2)
    >>> ps = Params([W])
    >>> len(ps), W in ps, np.ones(2) in ps
    (1, True, False)
    """

    def __init__(self, xs=()):
        self._order = []
        self._ids = set()
        for x in xs:
            self.append(x)

    def append(self, x):
        if isinstance(x, (numbers.Number, str, bytes, type(None), tuple)):
            raise TypeError(
                f"Params tracks arrays by identity, and a {type(x).__name__} has no stable identity: "
                "two equal numbers may be one object or two. Keep the parameter in an np.ndarray "
                "(for a scalar, np.array(1.0)) or differentiate with respect to it explicitly: "
                "gradient(f, x)"
            )
        if id(x) not in self._ids:
            self._ids.add(id(x))
            self._order.append(x)

    def __len__(self):
        return len(self._order)

    def __iter__(self):
        return iter(self._order)

    def __contains__(self, x):
        return id(x) in self._ids

    def __repr__(self):
        return f"Params({self._order!r})"


class Grads:
    """The gradients of implicit parameters, keyed by the parameters' identity.

    >>> import numpy as np
    >>> from dpnb import gradient
    >>> W = np.array([1.0, 2.0])
    >>> g = gradient(lambda: np.sum(W * W), Params([W]))
    >>> g[W]
    array([2., 4.])
    """

    def __init__(self, params, grads):
        self.params = params
        self._grads = grads  # id -> gradient

    def __getitem__(self, x):
        if x not in self.params:
            raise KeyError("not a parameter of these gradients (parameters are looked up by identity)")
        return self._grads.get(id(x))

    def __contains__(self, x):
        return x in self.params

    def __len__(self):
        return len(self.params)

    def __iter__(self):
        return iter(self.params)

    def keys(self):
        return list(self.params)

    def values(self):
        return [self._grads.get(id(p)) for p in self.params]

    def items(self):
        return [(p, self._grads.get(id(p))) for p in self.params]

    def __add__(self, other):
        if not isinstance(other, Grads):
            return NotImplemented
        merged = dict(self._grads)
        ps = Params(list(self.params))
        for p in other.params:
            ps.append(p)
        for k, v in other._grads.items():
            merged[k] = accumulate(merged.get(k), v)
        return Grads(ps, merged)

    def __mul__(self, c):
        return Grads(self.params, {k: scale(v, c) for k, v in self._grads.items()})

    __rmul__ = __mul__

    def __repr__(self):
        inner = ", ".join(f"{type(p).__name__}{getattr(p, 'shape', '')}: {g!r}" for p, g in self.items())
        return f"Grads({inner})"


class ParamsContext:
    """Collects, during one backward pass, the cotangents that reach tracked parameters."""

    def __init__(self, params):
        self.params = params
        self.grads = {}

    def visit(self, value, bar):
        if bar is None:
            return
        if id(value) in self.params._ids:
            self.grads[id(value)] = accumulate(self.grads.get(id(value)), bar)
            return
        t = type(bar)
        if t is dict and isinstance(value, dict):
            for k, b in bar.items():
                if k in value:
                    self.visit(value[k], b)
        elif t in (list, tuple) and isinstance(value, (list, tuple)):
            for v, b in zip(value, bar):
                self.visit(v, b)
        elif isinstance(bar, tuple) and isinstance(value, tuple):  # named tuples
            for v, b in zip(value, bar):
                self.visit(v, b)
        elif t is Tangent:
            if isinstance(value, types.FunctionType):
                cells = dict(zip(value.__code__.co_freevars, value.__closure__ or ()))
                for name, b in bar.fields.items():
                    cell = cells.get(name)
                    if cell is not None:
                        self.visit(cell.cell_contents, b)
            else:
                for name, b in bar.fields.items():
                    self.visit(getattr(value, name, None), b)


def params_gradient(f, ps, with_value=False):
    from . import api
    from .core import runtime

    y, pb = api._forward(f, ())
    ctx = ParamsContext(ps)
    runtime._PARAMS.append(ctx)
    try:
        bars = api._backward(pb, api._seed(y))
    finally:
        runtime._PARAMS.pop()
    ctx.visit(f, bars[0])
    for k, v in ctx.grads.items():
        if isinstance(v, np.ndarray) and not v.flags.writeable:
            ctx.grads[k] = v.copy()  # an array of its own, not a broadcast view
    grads = Grads(ps, ctx.grads)
    if with_value:
        return api.WithGradient(y, grads)
    return grads
