"""The `np.fft` table: complex and real transforms in 1, 2 and n dimensions, with padding and
truncation (`n`, `s`), chosen axes and every `norm`; fftshift and ifftshift."""
import numpy as np

from _tables import A, C, table_test

F32 = np.float32
fft = np.fft

CASES = []
for _norm in (None, "ortho", "forward"):
    _kw = {} if _norm is None else {"norm": _norm}
    CASES += [
        C(fft.fft, A((5,), "complex"), **_kw),
        C(fft.ifft, A((4,), "complex"), **_kw),
        C(fft.rfft, A((5,)), **_kw),
        C(fft.rfft, A((6,)), **_kw),
        C(fft.irfft, A((4,), "complex"), **_kw),
        C(fft.irfft, A((3,), "complex"), 5, **_kw),
        C(fft.fft2, A((2, 3), "complex"), **_kw),
        C(fft.irfftn, A((3, 4), "complex"), **_kw),
    ]
CASES += [
    # real inputs, padding (n > size) and truncation (n < size), other axes
    C(fft.fft, A((4,)), 6),
    C(fft.fft, A((5, 2), "complex"), 3, 0),
    C(fft.ifft, A((2, 4)), n=7, axis=-1),
    C(fft.rfft, A((3, 5)), 4, axis=0),
    C(fft.rfft, A((6,)), n=9),
    C(fft.irfft, A((2, 5), "complex"), 6, 1),
    C(fft.irfft, A((4, 2), "complex"), axis=0),
    C(fft.irfft, A((6,), "complex"), n=4),
    C(fft.fft2, A((3, 4))),
    C(fft.fft2, A((2, 3, 4), "complex"), (3, 2), (0, 2)),
    C(fft.ifft2, A((3, 3), "complex"), s=(4, 2)),
    C(fft.rfft2, A((3, 4))),
    C(fft.rfft2, A((2, 3, 5)), axes=(0, 2), norm="ortho"),
    C(fft.irfft2, A((3, 3), "complex")),
    C(fft.irfft2, A((2, 4), "complex"), s=(3, 5)),
    C(fft.fftn, A((2, 3, 2), "complex")),
    C(fft.fftn, A((2, 3, 4)), s=(3, 3), axes=(2, 0)),
    C(fft.ifftn, A((2, 2, 3), "complex"), axes=(1,)),
    C(fft.rfftn, A((2, 3, 4))),
    C(fft.rfftn, A((3, 4)), s=(2, 5), axes=(0, 1)),
    C(fft.irfftn, A((2, 3, 3), "complex"), axes=(0, 2)),
    C(fft.irfftn, A((3, 2), "complex"), s=(4, 4), axes=(0, 1), norm="forward"),
    C(fft.fft, A((4,), "real", F32), rtol=1e-3, atol=1e-4),
    C(fft.irfft, A((3,), "complex", F32), rtol=1e-3, atol=1e-4),
    C(fft.fftshift, A((5,))),
    C(fft.fftshift, A((3, 4), "complex"), axes=1),
    C(fft.ifftshift, A((4, 5))),
    C(fft.ifftshift, A((2, 3)), (0,)),
]

test_fft_rule = table_test(CASES)


def test_irfft_ignores_the_imaginary_parts_it_does_not_read():
    """X[0] (and X[n/2] for an even n) enter irfft through their real parts only: their
    cotangents are real."""
    from dpnb.rules.registry import RULES

    x = np.array([1.0 + 0.5j, 2.0 - 1.0j, 0.5 + 2.0j])
    _, back = RULES[fft.irfft](x)  # n = 4: X[0] and X[2] are read as real
    g = back(np.array([1.0, -2.0, 0.5, 3.0]))[1]
    assert g[0].imag == 0 and g[2].imag == 0 and g[1].imag != 0
