"""The rules for `scipy.fft`'s complex and real transforms (fft, ifft, rfft, irfft and their 2-d
and n-d forms), with `n`/`s`, `axis`/`axes` and `norm`.

SciPy's transforms are uarray multimethods: the Python function behind one (its `__wrapped__`)
only names the arguments to dispatch on, and the transform runs in the backend. They compute
the DFTs of `np.fft`, so they pull back as `np.fft`'s rules say (`rules.numpy.fft`), with
SciPy's own function computing the value. `overwrite_x=True` lets SciPy destroy its input,
which a pullback saved earlier may still read: the value is computed with `False`, which
gives the same numbers. (`workers` changes only how the work is split.) The transforms
without a rule here (`dct`, `dst`, `hfft`, ...) are refused, naming the line that called them.
"""
import numpy as np
import scipy.fft as sfft

from .. import registry
from ..numpy.fft import _complex_rule, _irfft_rule, _rfft_rule


def _one_axis(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None):
    return (None if n is None else (n,)), (axis,), norm


def _two_axes(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None):
    return s, axes, norm


def _all_axes(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None):
    return s, axes, norm


def _keeping_input(f):
    """`f` called with `overwrite_x` False (the fifth positional parameter, or by keyword)."""

    def call(x, *args, **kwargs):
        if len(args) >= 4:
            args = args[:3] + (False,) + args[4:]
        if "overwrite_x" in kwargs:
            kwargs["overwrite_x"] = False
        return f(x, *args, **kwargs)

    call.__name__ = call.__qualname__ = f.__name__
    return call


for _f, _sig in ((sfft.fft, _one_axis), (sfft.fft2, _two_axes), (sfft.fftn, _all_axes)):
    registry.register(_f, _complex_rule(_keeping_input(_f), _sig, np.fft.fftn))
for _f, _sig in ((sfft.ifft, _one_axis), (sfft.ifft2, _two_axes), (sfft.ifftn, _all_axes)):
    registry.register(_f, _complex_rule(_keeping_input(_f), _sig, np.fft.ifftn))
for _f, _sig in ((sfft.rfft, _one_axis), (sfft.rfft2, _two_axes), (sfft.rfftn, _all_axes)):
    registry.register(_f, _rfft_rule(_keeping_input(_f), _sig))
for _f, _sig in ((sfft.irfft, _one_axis), (sfft.irfft2, _two_axes), (sfft.irfftn, _all_axes)):
    registry.register(_f, _irfft_rule(_keeping_input(_f), _sig))
