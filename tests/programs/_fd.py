"""A small, self-contained central-difference checker for the program tests.

Kept local on purpose: these tests must not depend on `dpnb.testing` while it is
being written, and a checker that shares code with the thing it checks proves
little.

`numerical_gradient(f, *args, wrt=...)` perturbs each chosen argument (a number,
an ndarray, or a tuple/list of numbers) entry by entry; `check_gradient(f, *args)`
compares `dpnb.gradient(f, *args)` with it, entry by entry and type by type.
"""
import numbers

import numpy as np

import dpnb

EPS = 1e-6


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_differentiable(x):
    if _is_number(x):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "iuf"
    if isinstance(x, (tuple, list)):
        return len(x) > 0 and all(_is_number(v) for v in x)
    return False


def _scalar(y):
    y = np.asarray(y, dtype=float)
    assert y.shape == (), f"f must return a scalar, got shape {y.shape}"
    return float(y)


def _partial(f, args, i, step_arg):
    """Central difference of f along the perturbation `step_arg(h) -> new argument i`."""

    def at(h):
        new = list(args)
        new[i] = step_arg(h)
        return _scalar(f(*new))

    return at


def _central(at, scale):
    h = EPS * max(1.0, abs(scale))
    return (at(h) - at(-h)) / (2 * h)


def numerical_gradient(f, *args, wrt=None):
    """Central-difference gradient of the scalar `f(*args)`.

    One entry per argument: a float for numbers, a float array for ndarrays, a
    tuple/list of floats for tuples/lists of numbers, None for arguments not in
    `wrt` (default: every argument that is a number, a numeric array or a
    sequence of numbers).
    """
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if _is_differentiable(a)]
    out = [None] * len(args)
    for i in wrt:
        a = args[i]
        if _is_number(a):
            x = float(a)
            out[i] = _central(_partial(f, args, i, lambda h: x + h), x)
        elif isinstance(a, np.ndarray):
            base = a.astype(float)
            g = np.zeros(base.shape)
            for idx in np.ndindex(base.shape):

                def step(h, idx=idx):
                    b = base.copy()
                    b[idx] += h
                    return b

                g[idx] = _central(_partial(f, args, i, step), base[idx])
            out[i] = g
        elif isinstance(a, (tuple, list)):
            g = []
            for k in range(len(a)):

                def step(h, k=k):
                    b = [float(v) for v in a]
                    b[k] += h
                    return type(a)(b)

                g.append(_central(_partial(f, args, i, step), float(a[k])))
            out[i] = type(a)(g)
        else:
            raise TypeError(f"cannot take finite differences with respect to {type(a).__name__}")
    return tuple(out)


def assert_close(got, want, rtol=1e-5, atol=1e-6, what="gradient"):
    """`got` (from dpnb) matches `want` (numerical); None in `got` counts as zero only if `want` is zero."""
    if want is None:
        assert got is None, f"{what}: expected None, got {got!r}"
        return
    if isinstance(want, (tuple, list)):
        assert isinstance(got, type(want)), f"{what}: expected a {type(want).__name__}, got {got!r}"
        assert len(got) == len(want), f"{what}: expected {len(want)} entries, got {got!r}"
        for k, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, rtol, atol, f"{what}[{k}]")
        return
    if got is None:
        assert np.allclose(want, 0.0, atol=atol), f"{what}: got None, finite differences say {want!r}"
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: expected an ndarray, got {type(got).__name__}: {got!r}"
        assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
        assert got.dtype.kind in "fc", f"{what}: dtype {got.dtype} is not floating"
    else:
        assert _is_number(got) or (isinstance(got, np.ndarray) and got.shape == ()), (
            f"{what}: expected a number, got {type(got).__name__}: {got!r}"
        )
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=rtol, atol=atol, err_msg=what)


def check_gradient(f, *args, wrt=None, none=(), rtol=1e-5, atol=1e-6):
    """Assert dpnb.gradient(f, *args) agrees with central differences; return dpnb's gradient.

    `wrt`: the argument indices to check numerically (default: every
    differentiable-looking argument). `none`: indices whose gradient must be None.
    """
    grads = dpnb.gradient(f, *args)
    assert isinstance(grads, tuple), f"gradient must return a tuple, got {type(grads).__name__}"
    assert len(grads) == len(args), f"expected {len(args)} gradients, got {len(grads)}: {grads!r}"
    want = numerical_gradient(f, *args, wrt=wrt)
    checked = wrt if wrt is not None else [i for i, a in enumerate(args) if _is_differentiable(a)]
    for i in checked:
        assert_close(grads[i], want[i], rtol, atol, what=f"gradient of argument {i}")
    for i in none:
        assert grads[i] is None, f"argument {i}: expected None, got {grads[i]!r}"
    return grads
