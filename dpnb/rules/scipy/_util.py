"""What the SciPy rule files share: elementwise registration, positional cotangents, and the
cotangent of an argument whose derivative has no closed form.

`NotImplementedTangent` (defined in `dpnb.tangents`, so that the core knows it) is what
a pullback hands back for an argument with a derivative it cannot compute (the order of
`jv`, the shape `a` of `scipy.stats.gamma.cdf`): see its docstring.
"""
import numpy as np
import scipy.special

from ...tangents import NotImplementedTangent
from .. import registry
from .._common import has_tangent, is_integer_valued, unbroadcast_to
from ..registry import Partials, inline_partials, partials_function

#: the namespace of the partial-derivative expressions: NumPy, then `scipy.special` over it
NS = dict(vars(np))
NS.update({k: v for k, v in vars(scipy.special).items() if not k.startswith("_")})


def swap(A):
    """The matrix transpose of the last two axes."""
    return np.swapaxes(A, -1, -2)


def owned(y):
    """`y` with each array that is a view or not contiguous (SciPy's stacked results can be
    transposed buffers) copied: dpnb follows changes to such an array through the memory under it."""
    if type(y) in (tuple, list):  # (a stack's eigh gives a list)
        return type(y)([owned(v) for v in y])
    if isinstance(y, np.ndarray) and (y.base is not None or not (y.flags.c_contiguous or y.flags.f_contiguous)):
        return y.copy()
    return y


def fit(bars, n):
    """The first `n` positional cotangents of `bars`, `None` for the rest (defaults not passed)."""
    bars = tuple(bars)
    return bars[:n] + (None,) * (n - len(bars))


class NoClosedForm:
    """A partial of `elementwise` with no closed form: the pullback hands back a
    `NotImplementedTangent` (`None` for integer-valued arguments: an integer order)."""

    def __init__(self, argument, reason):
        self.argument = argument
        self.reason = reason


def elementwise(f, *partials, name=None, ns=NS):
    """Register the elementwise rule of `f` from its partials, strings in `x` (or `x1`, `x2`, ...)
    and the output `y`; `None` for an argument with no derivative (an integer order);
    `NoClosedForm(...)` for one whose derivative is not known.

    Partials that are all strings or `None` also go to the transform, which inlines them
    for plain numbers (only the ones it needs) and differentiates them again for second
    derivatives.
    """
    n = len(partials)
    names = ["x"] if n == 1 else [f"x{i + 1}" for i in range(n)]
    fname = name or getattr(f, "__name__", "f")
    qual = f"scipy.special.{fname}"
    body = ", ".join(p if isinstance(p, str) else "None" for p in partials)
    p_fn = Partials(f"scipy_{fname}", names, body, ns)  # compiled (in a copy of `ns`) at the first pullback

    def rule(*args, **kwargs):
        y = f(*args, **kwargs)

        def pullback(y_bar):
            xs = [np.asarray(a) if isinstance(a, (list, tuple)) else a for a in args]
            with np.errstate(divide="ignore", invalid="ignore"):
                ds = partials_function(p_fn)(*xs, y)
            bars = []
            for p, d, a in zip(partials, ds, args):
                if isinstance(p, NoClosedForm):
                    bars.append(
                        None if is_integer_valued(xs[len(bars)]) else NotImplementedTangent(qual, p.argument, p.reason)
                    )
                elif d is None or not has_tangent(a):
                    bars.append(None)
                else:
                    bars.append(unbroadcast_to(y_bar * d, a))
            return (None,) + fit(bars, len(args))

        pullback.__name__ = pullback.__qualname__ = f"{fname}_pullback"
        return y, pullback

    rule.__name__ = rule.__qualname__ = f"{fname}_rrule"
    registry.register(f, rule, number_closed=True)
    if all(p is None or isinstance(p, str) for p in partials):
        inline_partials(f, *partials, ns=ns)
    return rule


def named(rule, name):
    """Give a rule closure its `<fn>_rrule` name (closures made by a factory share one)."""
    rule.__name__ = rule.__qualname__ = name
    return rule


__all__ = [
    "NS",
    "NoClosedForm",
    "NotImplementedTangent",
    "elementwise",
    "fit",
    "is_integer_valued",
    "named",
    "owned",
    "swap",
    "unbroadcast_to",
]
