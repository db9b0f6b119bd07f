"""The rule for `scipy.signal.convolve` (N-dimensional; modes full, same and valid).

The full convolution y = in1 * in2 pulls back y_bar to `valid`-mode convolutions with the
other operand flipped along every axis: in1_bar = convolve(y_bar, flip(in2), "valid"),
in2_bar = convolve(y_bar, flip(in1), "valid") (transposes, not conjugates, for complex
inputs). The modes `same` and `valid` are centred crops of the full result, as SciPy
computes them; their cotangent is padded back with zeros first. The `method` argument
(direct or FFT) changes rounding only: the pullback lets SciPy choose.
"""
import numpy as np
import scipy.signal as ssig

from .. import registry
from .._common import unbroadcast_to


def _convolve_sig(in1, in2, mode="full", method="auto"):
    return mode, method


def convolve_rrule(in1, in2, *args, **kwargs):
    y = ssig.convolve(in1, in2, *args, **kwargs)

    def convolve_pullback(y_bar):
        A, B = np.asarray(in1), np.asarray(in2)
        G = np.asarray(y_bar)
        if A.ndim == 0:  # SciPy multiplies 0-d operands
            return (None, unbroadcast_to(G * B, in1), unbroadcast_to(G * A, in2)) + (None,) * len(args)
        full = tuple(p + q - 1 for p, q in zip(A.shape, B.shape))
        start = tuple((f - s) // 2 for f, s in zip(full, G.shape))  # SciPy's centred crop
        G_full = np.zeros(full, G.dtype)
        G_full[tuple(slice(s, s + n) for s, n in zip(start, G.shape))] = G
        a_bar = ssig.convolve(G_full, np.flip(B), mode="valid")
        b_bar = ssig.convolve(G_full, np.flip(A), mode="valid")
        return (None, unbroadcast_to(a_bar, in1), unbroadcast_to(b_bar, in2)) + (None,) * len(args)

    return y, convolve_pullback


registry.register(ssig.convolve, convolve_rrule)
