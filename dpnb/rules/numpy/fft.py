"""`np.fft`: the complex transforms (fft, ifft and their 2-d and n-d forms), the real ones
(rfft, irfft, ...), with `n`/`s`, `axis`/`axes` and `norm`, and fftshift/ifftshift.

Every transform is linear, so its pullback is its transpose (JAX's convention: not the
conjugate transpose). The DFT matrix is symmetric, so `fft` pulls back through `fft`
itself with the same `norm`, and `ifft` through `ifft`; the zero padding or truncation
that `n`/`s` ask for pulls back as the opposite truncation or padding.

`rfft` keeps the first `n // 2 + 1` outputs of an `fft` of a real input: it pulls back
as an `fft` of the cotangent padded with zeros, of which the input keeps the real part.
`irfft` reads a half spectrum and, implicitly, its mirror image (`X[n - k] = conj(X[k])`),
ignoring the imaginary parts of `X[0]` (and `X[n / 2]` for an even `n`); it pulls back as
`c * conj(rfft(y_bar))` with the dual normalization, `c = 2` for the entries that have a
mirror image and 1 for the others.
"""
import numpy as np

from .._common import to_like
from ..namespaces import is_foreign, library
from ._base import _named, asarray, register

#: the normalization whose scale is the inverse of each one's (for the transpose of irfft)
_DUAL = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _one_axis(a, n=None, axis=-1, norm=None, out=None):
    return (None if n is None else (n,)), (axis,), norm


def _two_axes(a, s=None, axes=(-2, -1), norm=None, out=None):
    return s, axes, norm


def _all_axes(a, s=None, axes=None, norm=None, out=None):
    return s, axes, norm


def _cooked(shape, s, axes, inverse_real=False):
    """The transform's axes (non-negative) and sizes along them, as NumPy works them out."""
    ndim = len(shape)
    if axes is None:
        axes = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    axes = tuple(int(ax) % ndim for ax in axes)
    if s is None:
        s = [shape[ax] for ax in axes]
        if inverse_real:
            s[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        s = [shape[ax] if n in (None, -1) else int(n) for n, ax in zip(s, axes)]
    return axes, tuple(s)


def _whole_along(g, axes):
    """`g`, in one chunk along `axes` when it is a Dask array (Dask transforms an axis only
    whole)."""
    if type(g) is not np.ndarray and is_foreign(g) and library(g) == "dask":
        return g.rechunk({int(ax) % g.ndim: -1 for ax in axes})
    return g


def _fit(g, shape, axes):
    """`g` truncated or padded with zeros along `axes` to the sizes of `shape`."""
    for ax in axes:
        n, have = shape[ax], g.shape[ax]
        if have > n:
            g = np.take(g, np.arange(n), axis=ax)
        elif have < n:
            widths = [(0, 0)] * g.ndim
            widths[ax] = (0, n - have)
            g = np.pad(g, widths)
    return g


def _complex_rule(f, signature, transpose):
    """fft, ifft, fft2, ifft2, fftn, ifftn: the transpose is the same transform."""
    name = f.__name__

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)

        def pullback(y_bar):
            A = asarray(a)
            s, axes, norm = signature(A, *args, **kwargs)
            axes, _ = _cooked(A.shape, s, axes)
            g = transpose(_whole_along(asarray(y_bar), axes), axes=axes, norm=norm)
            return (None, to_like(_fit(g, A.shape, axes), a)) + (None,) * len(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _rfft_rule(f, signature):
    """rfft, rfft2, rfftn: an fftn of the cotangent padded to the full last axis, real part."""
    name = f.__name__

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)

        def pullback(y_bar):
            A = asarray(a)
            s, axes, norm = signature(A, *args, **kwargs)
            axes, sizes = _cooked(A.shape, s, axes)
            G = asarray(y_bar)
            full = list(G.shape)
            full[axes[-1]] = sizes[-1]
            g = np.fft.fftn(_whole_along(_fit(G, full, axes[-1:]), axes), axes=axes, norm=norm)
            return (None, to_like(np.real(_fit(g, A.shape, axes)), a)) + (None,) * len(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


def _irfft_rule(f, signature):
    """irfft, irfft2, irfftn: the transpose of irfft along the last axis, then of the ifft
    along the others."""
    name = f.__name__

    def rule(a, *args, **kwargs):
        y = f(a, *args, **kwargs)

        def pullback(y_bar):
            A = asarray(a)
            s, axes, norm = signature(A, *args, **kwargs)
            axes, sizes = _cooked(A.shape, s, axes, inverse_real=True)
            last, n = axes[-1], sizes[-1]
            w = np.conj(np.fft.rfft(_whole_along(np.real(y_bar), axes), n=n, axis=last, norm=_DUAL[norm]))
            # entries 1 .. (n - 1) // 2 stand for themselves and their mirror image
            c = np.ones(w.shape[last])
            c[1 : (n - 1) // 2 + 1] = 2
            w = w * c.reshape((-1,) + (1,) * (w.ndim - 1 - last))
            if len(axes) > 1:
                w = np.fft.ifftn(_whole_along(w, axes), axes=axes[:-1], norm=norm)
            return (None, to_like(_fit(w, A.shape, axes), a)) + (None,) * len(args)

        pullback.__name__ = pullback.__qualname__ = f"{name}_pullback"
        return y, pullback

    return _named(f"{name}_rrule", rule)


# Dask and CuPy have these transforms (Dask along axes in one chunk, as it asks of its own)
for _f, _sig in ((np.fft.fft, _one_axis), (np.fft.fft2, _two_axes), (np.fft.fftn, _all_axes)):
    register(_f, _complex_rule(_f, _sig, np.fft.fftn), generic=True)
for _f, _sig in ((np.fft.ifft, _one_axis), (np.fft.ifft2, _two_axes), (np.fft.ifftn, _all_axes)):
    register(_f, _complex_rule(_f, _sig, np.fft.ifftn), generic=True)
for _f, _sig in ((np.fft.rfft, _one_axis), (np.fft.rfft2, _two_axes), (np.fft.rfftn, _all_axes)):
    register(_f, _rfft_rule(_f, _sig), generic=True)
for _f, _sig in ((np.fft.irfft, _one_axis), (np.fft.irfft2, _two_axes), (np.fft.irfftn, _all_axes)):
    register(_f, _irfft_rule(_f, _sig), generic=True)


def fftshift_rrule(x, axes=None):
    y = np.fft.fftshift(x, axes)

    def fftshift_pullback(y_bar):
        return None, to_like(np.fft.ifftshift(y_bar, axes), x), None

    return y, fftshift_pullback


def ifftshift_rrule(x, axes=None):
    y = np.fft.ifftshift(x, axes)

    def ifftshift_pullback(y_bar):
        return None, to_like(np.fft.fftshift(y_bar, axes), x), None

    return y, ifftshift_pullback


register(np.fft.fftshift, fftshift_rrule, generic=True)
register(np.fft.ifftshift, ifftshift_rrule, generic=True)
