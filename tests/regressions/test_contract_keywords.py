"""Keyword arguments carry gradients, in reverse mode (gradient) and in forward mode (jvp).

Each case is a scalar function; the gradient is compared with central differences,
and the jvp along a fixed random tangent with <central-difference gradient, tangent>.
"""
import numpy as np
import pytest

from dpnb import gradient, jvp
from dpnb.testing import flatten, numerical_gradient

try:
    from ._regress_check import expect_grad
except ImportError:
    from _regress_check import expect_grad

X = np.array([[1.0, -2.0], [3.0, 0.5], [-1.0, 2.0]])
A = np.arange(6.0).reshape(2, 3) + 1
B = np.arange(12.0).reshape(3, 4) - 3.5
V = np.array([-1.5, 0.2, 3.0])
W3 = np.array([1.0, 2.0, 3.0])


def _scaled(a, b=1.0):
    return a * b * b


def _keyword_only(*, a, b):
    return a**2 * b


def _star_kwargs(x, **kw):
    return x * kw["s"] ** 2 + kw["t"]


CASES = {
    "dict(a=x)": (lambda x: dict(a=x)["a"] ** 2, (3.0,)),
    "dict(a=x, b=y)": (lambda x, y: dict(a=x, b=y)["a"] * dict(a=x, b=y)["b"], (3.0, 2.0)),
    "norm(X, ord=2, axis=0)": (lambda X: np.sum(np.linalg.norm(X, ord=2, axis=0)), (X,)),
    "norm(x=X, ord=2, axis=1)": (lambda X: np.sum(np.linalg.norm(x=X, ord=2, axis=1)), (X,)),
    "tensordot(a, b, axes=([1], [0]))": (lambda a, b: np.sum(np.tensordot(a, b, axes=([1], [0])) ** 2), (A, B)),
    "tensordot(a=a, b=b, axes=1)": (lambda a, b: np.sum(np.tensordot(a=a, b=b, axes=1) ** 2), (A, B)),
    "max(X, axis=0)": (lambda X: np.sum(np.max(X, axis=0) * np.array([1.0, 3.0])), (X,)),
    "max(a=X, axis=1)": (lambda X: np.sum(np.max(a=X, axis=1) * W3), (X,)),
    "sum(a=X, axis=0)": (lambda X: np.sum(np.sum(a=X, axis=0) ** 2), (X,)),
    "clip(x, a_min=lo, a_max=hi)": (lambda x, lo, hi: np.sum(np.clip(x, a_min=lo, a_max=hi) * W3), (V, -1.0, 2.0)),
    "clip(x, lo, a_max=hi)": (lambda x, lo, hi: np.sum(np.clip(x, lo, a_max=hi) * W3), (V, -1.0, 2.0)),
    "python f(b=y, a=x)": (lambda x, y: _scaled(b=y, a=x), (3.0, 2.0)),
    "python f(x, b=y)": (lambda x, y: _scaled(x, b=y), (3.0, 2.0)),
    "python keyword-only": (lambda x, y: _keyword_only(a=x, b=y), (3.0, 2.0)),
    "python **kwargs": (lambda x, y: _star_kwargs(x, s=y, t=x * y), (3.0, 2.0)),
    "python f(**dict)": (lambda x, y: _scaled(**{"a": x, "b": y}), (3.0, 2.0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_keyword_gradient(name):
    """Reverse mode: every differentiable argument, positional or keyword, gets its gradient.

    Today: fails in 8 of 16: dict(a=x) raises DifferentiationError (keyword arguments carry no gradient);
        arrays passed by keyword (norm x=, tensordot a=/b=, max a=, sum a=) get None; np.clip's a_min/a_max
        keywords get None. Positional arrays with keyword options and all Python-function keyword calls pass.
    """
    f, args = CASES[name]
    expect_grad(gradient(f, *args), numerical_gradient(f, *args), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_keyword_jvp(name):
    """Forward mode: the tangent of the output along a random input tangent.

    Today: fails in all 16: NumPy calls with keyword options raise NoRuleError (forward mode needs a rule of
        its own); values passed by keyword get tangent 0.0 (wrong value) -- including every Python function
        called with keywords.
    """
    f, args = CASES[name]
    rng = np.random.default_rng(0)
    tangents = tuple(rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal()) for a in args)
    fd = numerical_gradient(f, *args)
    want = sum(float(flatten(g)[0] @ flatten(t)[0]) for g, t in zip(fd, tangents))
    _, ydot = jvp(f, args, tangents)
    expect_grad(ydot, want, rtol=1e-5, atol=1e-6)
