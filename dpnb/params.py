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

    def _repr_html_(self):
        """A table with one row per parameter: its type and shape, and its gradient (notebooks)."""
        from ._html import escape, short_value, table

        rows = [
            (escape(f"{type(p).__name__}{getattr(p, 'shape', '')}"), escape(short_value(g)))
            for p, g in self.items()
        ]
        return table(rows, header=("parameter", "gradient"), caption="Grads")


def params_gradient(f, ps, with_value=False):
    """`gradient(f, Params(...))`: the cotangents that reach tracked arrays, wherever `f` read them."""
    from . import api
    from .core import heap as H
    from .core import plain
    from .core.results import own

    # array code in the subset: plain code with the globals it reads as leaves (`core.plain`)
    r = plain.params_run(f, ps, with_value)
    if r is not None:
        g = Grads(ps, r[1])
        return api.WithGradient(r[0], g) if with_value else g
    ctx = H.Context(params=ps._ids)
    y, pb = api._run(f, (), ctx)
    seed = api._seed(y)
    grads = {}
    H.push(ctx)
    ctx.begin()
    try:
        pb(seed)
        _collect(ctx, ps, grads)
    finally:
        ctx.end()
        H.pop()
    # each an array of its own: not a view, not another parameter's
    grads = dict(zip(grads, own(tuple(grads.values()))))
    g = Grads(ps, grads)
    if with_value:
        return api.WithGradient(y, g)
    return g


def _collect(ctx, ps, grads):
    """Sum what reached each tracked array: read as a value, or held by an object, list or dict."""
    from .core import heap as H

    ids = ps._ids
    for key, (value, c) in list(ctx.leaves.items()):
        _visit(value, c, ids, grads)
    for key, e in list(ctx.heap.items()):
        obj = e.obj
        if id(obj) in ids:
            c = H.take(ctx, obj, None)
            if c is not None:
                grads[id(obj)] = accumulate(grads.get(id(obj)), _plain(c, obj))
            continue
        acc = e.acc
        if isinstance(acc, list) and isinstance(obj, list):
            for v, c in zip(obj, acc):
                _visit(v, c, ids, grads)
        elif isinstance(acc, dict) and isinstance(obj, dict):
            for k, c in acc.items():
                if k in obj:
                    _visit(obj[k], c, ids, grads)
        elif isinstance(acc, dict):
            for k, c in acc.items():
                _visit(getattr(obj, k, None), c, ids, grads)
        elif isinstance(acc, list) and isinstance(obj, types.CellType):
            try:
                _visit(obj.cell_contents, acc[0], ids, grads)
            except ValueError:
                pass


def _plain(c, obj):
    from .core import heap as H

    if isinstance(c, H.Indexed):
        return c.dense(obj)
    return c


def _visit(value, bar, ids, grads):
    if bar is None:
        return
    if id(value) in ids:
        grads[id(value)] = accumulate(grads.get(id(value)), bar)
        return
    t = type(bar)
    if t is dict and isinstance(value, dict):
        for k, b in bar.items():
            if k in value:
                _visit(value[k], b, ids, grads)
    elif isinstance(bar, tuple) and isinstance(value, tuple):
        for v, b in zip(value, bar):
            _visit(v, b, ids, grads)
    elif t is list and isinstance(value, (list, tuple)):
        for v, b in zip(value, bar):
            _visit(v, b, ids, grads)
    elif t is Tangent:
        for name, b in bar.fields.items():
            _visit(getattr(value, name, None), b, ids, grads)
