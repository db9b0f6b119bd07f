"""The same gradient code on CuPy arrays: the gradients are CuPy arrays on the device.

Skipped where `cupy` is not installed or no GPU is present.
"""
import numpy as np
import pytest

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
try:
    _devices = cp.cuda.runtime.getDeviceCount()
except Exception:  # no driver, no device
    _devices = 0
if not _devices:
    pytest.skip("no GPU: CuPy finds no device", allow_module_level=True)

from dpnb import gradient  # noqa: E402

try:
    from ._losses import data, least_squares, logistic, mlp, mlp_data
except ImportError:  # tests/ is not a package
    from _losses import data, least_squares, logistic, mlp, mlp_data


def on_device(grads, like):
    for g, p in zip(grads, like):
        assert isinstance(g, cp.ndarray), type(g)
        assert g.shape == p.shape
        assert g.device == cp.cuda.Device()
    return [cp.asnumpy(g) for g in grads]


@pytest.mark.parametrize("loss", [least_squares, logistic])
def test_linear_models_on_the_gpu(loss):
    X, y, labels, w = data()
    t = y if loss is least_squares else labels
    args = (w, X, t)
    got = on_device(gradient(loss, *map(cp.asarray, args)), args)
    for g, e in zip(got, gradient(loss, *args)):
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-10)


def test_mlp_on_the_gpu():
    params, X, Y = mlp_data(batch=64)
    args = (*params, X, Y)
    got = on_device(gradient(mlp, *map(cp.asarray, args)), args)
    for g, e in zip(got, gradient(mlp, *args)):
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-10)
