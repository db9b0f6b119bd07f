"""Controlling the backward pass: `ignore_derivatives`, `hook`, `checkpointed`."""
from .core.heap import current
from .errors import DifferentiationError
from .rules.registry import constant, register


def ignore_derivatives(x):
    """Return `x`; no gradient flows through it.

    >>> from dpnb import gradient, ignore_derivatives
    >>> gradient(lambda x: x * ignore_derivatives(x), 3.0)
    (3.0,)
    """
    return x


constant(ignore_derivatives)


def hook(fn, x):
    """Return `x`; in the backward pass, its gradient `g` is replaced by `fn(g)`. Forward mode
    (`jvp`) has no backward pass: there `x`'s tangent goes on unchanged.

    >>> import numpy as np
    >>> from dpnb import gradient, hook
    >>> clip = lambda g: np.clip(g, -1.0, 1.0)
    >>> gradient(lambda x: np.sum(hook(clip, x) ** 2), np.array([0.2, 3.0]))
    (array([0.4, 1. ]),)
    """
    return x


def hook_rrule(fn, x):
    forward = current().forward
    if forward == "jvp":
        # forward mode has no backward pass for `fn` to change: the tangent goes through as it is
        # (`jvp` is computed as the transpose of this pullback, which would apply `fn` to it)
        return x, _passed_on
    if forward == "columns":
        raise _HookInColumns  # a Jacobian with a hook is taken by rows, where `fn` applies

    def hook_pullback(y_bar):
        return None, None, fn(y_bar)

    return x, hook_pullback


def _passed_on(y_bar):
    return None, None, y_bar


class _HookInColumns(DifferentiationError):
    """Raised in a Jacobian's column (forward-mode) pass at a `hook`: `jacobian` takes rows instead."""


register(hook, hook_rrule)


def checkpointed(f, *args):
    """`f(*args)`, keeping none of its intermediate values: the backward pass recomputes them.

    This trades time for memory on long chains; `f` runs twice, so it should
    have no side effects.

    >>> import numpy as np
    >>> from dpnb import gradient, checkpointed
    >>> layer = lambda x: np.tanh(x) * 2.0
    >>> gradient(lambda x: np.sum(checkpointed(layer, x)), np.array([0.0, 1.0]))
    (array([2.        , 0.83994868]),)
    """
    return f(*args)


def checkpointed_rrule(f, *args):
    y = f(*args)  # run plainly: nothing is kept for the backward pass but f and args

    def checkpointed_pullback(y_bar):
        from .core.runtime import call

        _, pb = call(f, *args)  # the forward pass again, this time keeping what its pullback needs
        return (None,) + tuple(pb(y_bar))

    return y, checkpointed_pullback


register(checkpointed, checkpointed_rrule)
