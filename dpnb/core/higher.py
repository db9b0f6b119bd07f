"""What derivatives of derivatives need besides the transform itself.

dpnb's generated code is Python, and so is the runtime it calls: a gradient taken
inside a function being differentiated is differentiated like any other code
(`gradient(lambda x: gradient(f, x)[0], x)`, `hessian`, third derivatives).

`jvp` (forward mode, in `dpnb.api`) is the transpose of a pullback: the pullback
`u -> J^T u` is linear in `u`, so the gradient of `u -> <J^T u, t>` is `J t` — one
pullback, differentiated once more. Here: the zero `u` starts from, and the pairing.
"""
import numbers

import numpy as np

from ..tangents import AbstractZero, Tangent


def zero_like(y):
    """A zero of the kind of `y` (the point where the linear map is differentiated)."""
    if isinstance(y, np.ndarray):
        return np.zeros(y.shape, dtype=y.dtype if y.dtype.kind in "fc" else np.float64)
    if isinstance(y, (list, tuple)):
        items = [zero_like(v) for v in y]
        if isinstance(y, tuple) and hasattr(y, "_fields"):
            return type(y)(*items)
        return type(y)(items) if isinstance(y, tuple) else items
    if isinstance(y, dict):
        return {k: zero_like(v) for k, v in y.items()}
    if isinstance(y, complex):
        return 0j
    if isinstance(y, np.generic):
        return y.dtype.type(0) if y.dtype.kind in "fc" else np.float64(0)
    if isinstance(y, numbers.Number):
        return 0.0
    return None


def inner(b, t):
    """<b, t> for a cotangent and a tangent of the same structure (None is zero)."""
    if b is None or t is None or isinstance(b, AbstractZero) or isinstance(t, AbstractZero):
        return 0.0
    if isinstance(b, Tangent):
        return sum((inner(v, getattr(t, k, None) if not isinstance(t, dict) else t.get(k)) for k, v in b.fields.items()), 0.0)
    if isinstance(b, dict):
        return sum((inner(v, t.get(k) if isinstance(t, dict) else getattr(t, k, None)) for k, v in b.items()), 0.0)
    if isinstance(b, (list, tuple)) and isinstance(t, (list, tuple)):
        total = 0.0
        for bi, ti in zip(b, t):
            total = total + inner(bi, ti)
        return total
    return np.sum(b * t)
