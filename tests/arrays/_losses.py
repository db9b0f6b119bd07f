"""The losses the Dask and CuPy tests differentiate, written once with `np.*` functions: the
same source runs on NumPy, Dask and CuPy arrays (NumPy hands the work to the arrays' library)."""
import numpy as np


def least_squares(w, X, y):
    r = X @ w - y
    return np.sum(r * r) / X.shape[0]


def logistic(w, X, y):
    # y in {-1, +1}: mean of log(1 + exp(-y x.w))
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


def mlp(W1, b1, W2, b2, X, Y):
    """A 784 -> 256 -> 10 tanh network, softmax cross-entropy against one-hot labels Y."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def data(n=4000, d=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    y = X @ w + 0.1 * rng.standard_normal(n)
    labels = np.where(rng.standard_normal(n) + X @ w > 0, 1.0, -1.0)
    return X, y, labels, rng.standard_normal(d)


def mlp_data(batch=64, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, 784))
    Y = np.eye(10)[rng.integers(0, 10, batch)]
    W1 = rng.standard_normal((784, 256)) * 0.05
    b1 = np.zeros(256)
    W2 = rng.standard_normal((256, 10)) * 0.1
    b2 = np.zeros(10)
    return (W1, b1, W2, b2), X, Y
