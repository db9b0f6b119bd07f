"""The `scipy.fft` table: SciPy's complex and real transforms in 1, 2 and n dimensions, with
padding and truncation, chosen axes, every `norm`, `overwrite_x` and `workers`, by
`check_rrule`; and the transforms through `dpnb.gradient`.

SciPy's transforms are uarray multimethods whose `__wrapped__` only names the arguments to
dispatch on: dpnb differentiated that function, and `np.abs(scipy.fft.fft(x))` raised
`TypeError: bad operand type for abs(): 'Dispatchable'` (`scipy.signal.fftconvolve` too). A
transform with no rule (`dct`) is refused with a `NoRuleError`."""
import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.fft as sfft  # noqa: E402
import scipy.signal as ssig  # noqa: E402

from _tables import A, C, table_test  # noqa: E402
import dpnb  # noqa: E402
from dpnb.testing import gradcheck, numerical_gradient  # noqa: E402

F32 = np.float32

CASES = []
for _norm in (None, "ortho", "forward"):
    _kw = {} if _norm is None else {"norm": _norm}
    CASES += [
        C(sfft.fft, A((5,), "complex"), **_kw),
        C(sfft.ifft, A((4,), "complex"), **_kw),
        C(sfft.rfft, A((5,)), **_kw),
        C(sfft.irfft, A((3,), "complex"), 5, **_kw),
        C(sfft.fft2, A((2, 3), "complex"), **_kw),
        C(sfft.irfftn, A((3, 4), "complex"), **_kw),
    ]
CASES += [
    C(sfft.fft, A((4,)), 6),
    C(sfft.fft, A((5, 2), "complex"), 3, 0),
    C(sfft.ifft, A((2, 4)), n=7, axis=-1),
    C(sfft.rfft, A((3, 5)), 4, axis=0),
    C(sfft.irfft, A((2, 5), "complex"), 6, 1),
    C(sfft.fft2, A((2, 3, 4), "complex"), (3, 2), (0, 2)),
    C(sfft.ifft2, A((3, 3), "complex"), s=(4, 2)),
    C(sfft.rfft2, A((2, 3, 5)), axes=(0, 2), norm="ortho"),
    C(sfft.irfft2, A((2, 4), "complex"), s=(3, 5)),
    C(sfft.fftn, A((2, 3, 4)), s=(3, 3), axes=(2, 0)),
    C(sfft.ifftn, A((2, 2, 3), "complex"), axes=(1,)),
    C(sfft.rfftn, A((3, 4)), s=(2, 5), axes=(0, 1)),
    # SciPy's own parameters: `overwrite_x` (by position and by keyword) and `workers`
    C(sfft.fft, A((5,), "complex"), None, -1, None, True),
    C(sfft.rfft, A((6,)), overwrite_x=True, workers=2),
    C(sfft.ifftn, A((2, 3), "complex"), overwrite_x=True),
    C(sfft.fft, A((4,), "real", F32), rtol=1e-3, atol=1e-4),
]

test_scipy_fft_rule = table_test(CASES)


def test_power_spectrum_through_gradient():
    x = np.array([0.3, -1.2, 2.0, 0.7, 1.1])
    (g,) = dpnb.gradient(lambda x: np.sum(np.abs(sfft.fft(x)) ** 2), x)
    assert g == pytest.approx(2 * x.size * x)  # Parseval: sum |X|^2 = n sum x^2


def test_fftconvolve_through_gradient():
    kernel = np.array([1.0, 2.0, 0.5])

    def loss(x):
        return np.sum(ssig.fftconvolve(x, kernel) ** 2)

    x = np.array([0.3, -1.2, 2.0, 0.7])
    (g,) = dpnb.gradient(loss, x)
    (want,) = numerical_gradient(loss, x)
    assert g == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert gradcheck(lambda x, k: np.sum(np.abs(ssig.fftconvolve(x, k, mode="same"))), x, kernel)


def test_overwrite_x_does_not_destroy_what_a_pullback_reads():
    """SciPy overwrites a complex input it may destroy; the pullback of `c * c` reads `c`."""

    def loss(x):
        c = x * (1.0 + 0.5j)
        y = c * c
        z = sfft.fft(c, overwrite_x=True)
        return np.sum(np.abs(y)) + np.sum(np.abs(z))

    x = np.array([0.3, -1.2, 2.0, 0.7])
    (g,) = dpnb.gradient(loss, x)
    (want,) = numerical_gradient(loss, x)
    assert g == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_a_transform_with_no_rule_is_refused():
    with pytest.raises(dpnb.NoRuleError, match="dct"):
        dpnb.gradient(lambda x: np.sum(sfft.dct(x) ** 2), np.array([0.3, -1.2, 2.0]))
