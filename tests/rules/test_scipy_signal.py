"""The `scipy.signal.convolve` rule table: every mode, one to three dimensions, operands of unequal
sizes either way round, by `check_rrule`; and the rule through `dpnb.gradient`."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
import scipy.signal as ssig  # noqa: E402

from _tables import A, C  # noqa: E402
from dpnb import gradient  # noqa: E402
from dpnb.testing import gradcheck  # noqa: E402

F32 = np.float32

CASES = [C(ssig.convolve, 2.0, 3.0), C(ssig.convolve, [1.0, 2.0, 3.0], [0.5, -1.0])]
for _mode in ("full", "same", "valid"):
    CASES += [
        C(ssig.convolve, A((7,)), A((3,)), _mode),
        C(ssig.convolve, A((3,)), A((6,)), mode=_mode),
        C(ssig.convolve, A((5, 4)), A((2, 3)), _mode, "fft"),
        C(ssig.convolve, A((5, 4, 3)), A((2, 3, 2)), _mode, "direct"),
        C(ssig.convolve, A((4, 4)), A((4, 4)), mode=_mode, method="direct"),
        C(ssig.convolve, A((6,), "real", F32), A((3,), "real", F32), _mode, rtol=2e-3, atol=2e-4),
        C(ssig.convolve, np.arange(5), A((2,)), _mode),  # an integer signal gets a float cotangent
        C(ssig.convolve, A((4,), "complex"), A((3,), "complex"), _mode),
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_scipy_signal_rule(case, data):
    case.check(data.draw(case.strategy()))


def test_convolve_through_gradient():
    kernel = np.array([0.25, 0.5, 0.25])

    def smooth_loss(x, k):
        return np.sum((ssig.convolve(x, k, mode="same") - x) ** 2)

    x = np.array([0.0, 1.0, 3.0, 2.0, -1.0, 0.5])
    assert gradcheck(smooth_loss, x, kernel)
    # an exact value: d/dx sum(convolve(x, k, "valid")) is the sum of the kernel at every
    # position of x the valid window sees, i.e. sum(k) for the middle entries
    (g,) = gradient(lambda x: np.sum(ssig.convolve(x, kernel, mode="valid")), x)
    assert g == pytest.approx([0.25, 0.75, 1.0, 1.0, 0.75, 0.25])
