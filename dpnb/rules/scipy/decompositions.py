"""Rules for `scipy.linalg`'s `svd`, `eigh`, `qr`, `pinv` and `lstsq`: the functions of
`np.linalg` under SciPy's names and options, pulled back with NumPy's rules' maths
(`rules.numpy.decompositions`, `rules.numpy.linalg`), SciPy's own function computing the value.

- `svd`: every `full_matrices`/`compute_uv`; with `full_matrices=True` and a non-square matrix
  the extra singular vectors are not unique (refused unless their cotangents are zero);
- `eigh`: the standard problem only (`b`, `subset_by_index`, `subset_by_value` and `type` are
  refused); it reads the `lower` (default) or upper triangle, and its gradient lives there;
- `qr`: real matrices, `mode` 'economic', 'r', and 'full' (whose extra columns of Q, when
  m > n, are not unique: refused unless their cotangents are zero); m >= n; no `pivoting`;
- `pinv` and `lstsq`: matrices of full rank (rank-deficient ones jump under a perturbation:
  refused); `lstsq` of one matrix (not a stack).

Eigenvectors and singular vectors are defined up to a sign (real) or a phase (complex): the
gradients hold for losses that do not depend on it.
"""
import numpy as np
import scipy.linalg as sla

from ...errors import DifferentiationError
from .. import registry
from .._common import to_like
from ..numpy.decompositions import _eigh_grad, _from_triangle, qr_cotangent, svd_cotangent
from ..numpy.linalg import _pinv_bar, full_rank, lstsq_cotangents
from ._util import fit, owned


def _keeping(args, kwargs, **positions):
    """`(args, kwargs)` with the `overwrite_*` flags named (at their index among `args`) False:
    SciPy may otherwise destroy an input, which the pullback reads (the numbers are the same)."""
    args, kwargs = list(args), dict(kwargs)
    for name, i in positions.items():
        if len(args) > i:
            args[i] = False
        elif name in kwargs:
            kwargs[name] = False
    return tuple(args), kwargs


def _svd_sig(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True, lapack_driver="gesdd"):
    return full_matrices, compute_uv


def svd_rrule(a, *args, **kwargs):
    full_matrices, compute_uv = _svd_sig(a, *args, **kwargs)
    kept, kept_kwargs = _keeping(args, kwargs, overwrite_a=2)
    y = owned(sla.svd(a, *kept, **kept_kwargs))

    def svd_pullback(y_bar):
        G = svd_cotangent(np.asarray(a), y, y_bar, full_matrices, compute_uv, sla.svd)
        return (None, to_like(np.conj(G), a)) + fit((), len(args))

    return y, svd_pullback


def _eigh_sig(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, type=1,
              check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    for name, given in (("b", b is not None), ("subset_by_index", subset_by_index is not None),
                        ("subset_by_value", subset_by_value is not None), ("type", type != 1)):
        if given:
            raise DifferentiationError(
                f"scipy.linalg.eigh with {name}= has no differentiation rule (it has one for the "
                "standard problem, all eigenvalues)"
            )
    return lower, eigvals_only


def eigh_rrule(a, *args, **kwargs):
    lower, eigvals_only = _eigh_sig(a, *args, **kwargs)
    kept, kept_kwargs = _keeping(args, kwargs, overwrite_a=len(args))  # a keyword-only flag
    y = owned(sla.eigh(a, *kept, **kept_kwargs))

    def eigh_pullback(y_bar):
        if eigvals_only:
            w, V = sla.eigh(a, lower=lower)
            w_bar, V_bar = y_bar, None
        else:
            w, V = y
            w_bar, V_bar = y_bar
        G = _eigh_grad(w, V, w_bar, None if V_bar is None else np.conj(V_bar))
        return (None, to_like(np.conj(_from_triangle(G, lower=lower)), a)) + fit((), len(args))

    return y, eigh_pullback


def _qr_sig(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    return mode, pivoting


def qr_rrule(a, *args, **kwargs):
    mode, pivoting = _qr_sig(a, *args, **kwargs)
    kept, kept_kwargs = _keeping(args, kwargs, overwrite_a=0)
    y = owned(sla.qr(a, *kept, **kept_kwargs))

    def qr_pullback(y_bar):
        A = np.asarray(a)
        if np.iscomplexobj(A):
            raise DifferentiationError("scipy.linalg.qr has a differentiation rule for real matrices only")
        m, n = A.shape[-2:]
        if pivoting or mode not in ("full", "economic", "r") or m < n:
            raise DifferentiationError(
                "scipy.linalg.qr has a differentiation rule for mode 'full', 'economic' or 'r', "
                "without pivoting, and m >= n only"
            )
        if mode == "r":
            Q, R = sla.qr(A, mode="economic")
            Q_bar, R_bar = None, y_bar[0]
        else:
            Q, R = y
            Q_bar, R_bar = y_bar
        if mode != "economic" and m > n:  # Q's last m - n columns are not unique; R's last rows are 0
            if Q_bar is not None and np.any(np.asarray(Q_bar)[..., :, n:]):
                raise DifferentiationError(
                    "scipy.linalg.qr(mode='full') of a matrix with more rows than columns: Q's extra "
                    "columns are not unique; use mode='economic'"
                )
            Q, R = Q[..., :, :n], R[..., :n, :]
            Q_bar = None if Q_bar is None else np.asarray(Q_bar)[..., :, :n]
            R_bar = None if R_bar is None else np.asarray(R_bar)[..., :n, :]
        return (None, to_like(qr_cotangent(Q, R, Q_bar, R_bar), a)) + fit((), len(args))

    return y, qr_pullback


def pinv_rrule(a, *args, **kwargs):
    X, rank = owned(sla.pinv(a, *args, **dict(kwargs, return_rank=True)))
    y = (X, rank) if kwargs.get("return_rank") else X

    def pinv_pullback(y_bar):
        X_bar = y_bar[0] if kwargs.get("return_rank") else y_bar
        if X_bar is None:
            return (None,) * (len(args) + 2)
        A = np.asarray(a)
        full_rank(rank, A, "scipy.linalg.pinv")
        return (None, to_like(_pinv_bar(A, X, np.asarray(X_bar)), a)) + fit((), len(args))

    return y, pinv_pullback


def _lstsq_sig(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, lapack_driver=None):
    return cond


def lstsq_rrule(a, b, *args, **kwargs):
    _lstsq_sig(a, b, *args, **kwargs)
    kept, kept_kwargs = _keeping(args, kwargs, overwrite_a=1, overwrite_b=2)
    y = sla.lstsq(a, b, *kept, **kept_kwargs)

    def lstsq_pullback(y_bar):
        A, B = np.asarray(a), np.asarray(b)
        if A.ndim != 2:
            raise DifferentiationError("scipy.linalg.lstsq has a differentiation rule for one matrix (2-d) only")
        full_rank(y[2], A, "scipy.linalg.lstsq")
        A_bar, B_bar = lstsq_cotangents(A, B, y, y_bar)
        return (None, to_like(A_bar, a), to_like(B_bar, b)) + fit((), len(args))

    return y, lstsq_pullback


registry.register(sla.svd, svd_rrule)
registry.register(sla.eigh, eigh_rrule)
registry.register(sla.qr, qr_rrule)
registry.register(sla.pinv, pinv_rrule)
registry.register(sla.lstsq, lstsq_rrule)
