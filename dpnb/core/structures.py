"""Cotangents of structures: what generated code calls to move cotangents in and out of
sequences, literals, dicts and closures. Each function is linear in the cotangents it is given."""
import types

import numpy as np

from ..errors import DifferentiationError
from ..tangents import Tangent


def iter_bar(seq, bars_reversed):
    """The cotangent of an iterated sequence from its items' cotangents (collected backwards)."""
    if all(b is None for b in bars_reversed):
        return None
    bars = bars_reversed[::-1]
    return structure_bar(seq, bars)


def structure_bar(seq, bars):
    t = type(seq)
    if t is list:
        return list(bars) + [None] * (len(seq) - len(bars))
    if t is tuple:
        return tuple(bars) + (None,) * (len(seq) - len(bars))
    if hasattr(seq, "_fields") and isinstance(seq, tuple):
        return t(*(list(bars) + [None] * (len(seq) - len(bars))))
    if t is np.ndarray:
        out = np.zeros(seq.shape, dtype=_float_dtype(seq))
        for i, b in enumerate(bars):
            if b is not None:
                out[i] = b
        return out
    if t is dict:
        return None  # iterating a dict yields its keys, which carry no gradient
    if t is range or t is str:
        return None
    if hasattr(seq, "__next__"):
        # an iterator made outside the differentiated code: its items are inputs nobody asked about
        return None
    raise DifferentiationError(
        f"cannot send gradients back through iteration over a {t.__name__}; "
        "iterate over a list, tuple or array (e.g. list(...)) instead"
    )


def _float_dtype(x):
    return x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64


def unpack_bar(value, bars, star):
    if star is not None:
        bars = list(bars)
        starred = bars[star]
        n = len(value) - (len(bars) - 1)
        expanded = list(starred) if starred is not None else [None] * n
        bars = bars[:star] + expanded + bars[star + 1 :]
    if all(b is None for b in bars):
        return None
    return structure_bar(value, list(bars))


def literal_bar(g, parts):
    """Split the cotangent of a literal with starred parts: parts[i] is the starred value or None."""
    out = []
    k = 0
    for p in parts:
        if p is None:
            out.append(g[k])
            k += 1
        else:
            n = len(p)
            out.append(structure_bar(p, list(g[k : k + n])) if any(x is not None for x in g[k : k + n]) else None)
            k += n
    return tuple(out)


def dict_sub_bar(g, m):
    out = {k: g[k] for k in m if k in g and g[k] is not None}
    return out or None


def list_bar(g, t):
    if g is None:
        return [None] * len(t)
    return list(g)


def dict_bar(g, t):
    if g is None:
        return {}
    return dict(g)


def field(t, name):
    if t is None:
        return None
    if isinstance(t, Tangent):
        return t.fields.get(name)
    if isinstance(t, dict):
        return t.get(name)
    return None


def closure_tangent(names, bars):
    fields = {n: b for n, b in zip(names, bars) if b is not None}
    if not fields:
        return None
    return Tangent(types.FunctionType, fields)


