"""A value read by an operation that moves no gradient may be an object the program already had
(`v.base` is the array `v` views). Its cotangent must go back to that object, not vanish."""
import numpy as np

import dpnb
from dpnb.testing import numerical_gradient

X = np.array([0.3, 0.9, -0.4, 1.2])
W = np.array([1.0, 2.0, 3.0, 4.0])


def _accumulate_through_base(acc_of, v, c):
    acc = acc_of(v.base)
    acc[1:] += c


def test_cotangent_read_through_base_is_not_lost():
    def f(v):
        store = {}

        def acc_of(root):
            if id(root) not in store:
                store[id(root)] = np.zeros_like(root) + root
            return store[id(root)]

        _accumulate_through_base(acc_of, v[:-1], v[1:] * 2.0)
        _accumulate_through_base(acc_of, v[1:], v[:-1] * 3.0)
        return np.sum(acc_of(v) * W) + np.sum(v.base * v if v.base is not None else v)

    np.testing.assert_allclose(dpnb.gradient(f, X)[0], numerical_gradient(f, X)[0], rtol=1e-6, atol=1e-8)


def test_base_of_a_view_carries_the_root_gradient():
    def f(x):
        y = x[:2]
        return np.sum(y.base * 3.0) + np.sum(y.base[1:] * x[:-1])

    np.testing.assert_allclose(dpnb.gradient(f, X)[0], numerical_gradient(f, X)[0], rtol=1e-6, atol=1e-8)


def test_hessian_through_overlapping_views():
    def f(v):
        return np.sum(v[:-1] ** 2 * v[1:])

    h = dpnb.hessian(f, X)
    g = lambda x: dpnb.gradient(f, x)[0]
    eps = 1e-6
    fd = np.stack([(g(X + eps * e) - g(X - eps * e)) / (2 * eps) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-6)
