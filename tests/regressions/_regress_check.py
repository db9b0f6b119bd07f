"""Comparing what dpnb returns with independently computed values, for the regression tests.

`expect_grad(got, want)` walks a gradient and an expected value of the same
structure (numbers, complex numbers, arrays, tuples, lists, dicts, `Tangent`s)
and fails with the path of the first entry that differs. `None` in `got` counts
as zero only where `want` is zero: a gradient that silently went missing fails.

`check_fd(f, *args)` compares `dpnb.gradient(f, *args)` with central differences
(`dpnb.testing.numerical_gradient`, which never calls dpnb's transform); `gradient_differences(f, x)`
gives central differences of the gradient, for second derivatives; `differences_in(f, p)`
gives them for a function of no arguments with respect to an array it reads (`Params`).

`import_source(directory, name, source)` writes `source` to `directory/name.py` and imports it,
as a user's module dpnb reads the source of; the fixture `load_module` does so under the test's
`tmp_path` with a name of its own each time (a test module imports it to use it).
"""
import importlib
import itertools
import numbers
import sys
import textwrap

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


def _is_zero(want):
    if want is None:
        return True
    if isinstance(want, (list, tuple)):
        return all(_is_zero(w) for w in want)
    if isinstance(want, dict):
        return all(_is_zero(w) for w in want.values())
    if isinstance(want, dpnb.Tangent):
        return all(_is_zero(w) for w in want.fields.values())
    try:
        return bool(np.all(np.asarray(want) == 0))
    except (TypeError, ValueError):
        return False


def expect_grad(got, want, rtol=1e-6, atol=1e-8, path="gradient"):
    """Assert that `got` matches `want` entry by entry (see the module docstring)."""
    if got is None:
        assert _is_zero(want), f"{path}: dpnb gave None (no gradient), expected {want!r}"
        return
    if want is None:
        assert _is_zero(got), f"{path}: expected no gradient, dpnb gave {got!r}"
        return
    if isinstance(want, dpnb.Tangent):
        assert isinstance(got, dpnb.Tangent), f"{path}: expected a Tangent, got {got!r}"
        for k, w in want.fields.items():
            expect_grad(got.fields.get(k), w, rtol, atol, f"{path}.{k}")
        return
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: expected a dict, got {got!r}"
        for k, w in want.items():
            expect_grad(got.get(k), w, rtol, atol, f"{path}[{k!r}]")
        return
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), f"{path}: expected {want!r}, got {got!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            expect_grad(g, w, rtol, atol, f"{path}[{i}]")
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{path}: expected an array, got {type(got).__name__} {got!r}"
        assert got.shape == want.shape, f"{path}: shape {got.shape}, expected {want.shape}"
    assert isinstance(got, (numbers.Number, np.ndarray, np.generic)), f"{path}: got {got!r}"
    g = np.asarray(got, dtype=complex if np.iscomplexobj(got) else float)
    assert np.all(np.isfinite(g)), f"{path}: got non-finite {got!r}, expected {want!r}"
    assert np.allclose(g, want, rtol=rtol, atol=atol), f"{path}: got {got!r}, expected {want!r}"


def check_fd(f, *args, rtol=1e-5, atol=1e-6):
    """`dpnb.gradient(f, *args)` against central differences; returns the gradient."""
    want = numerical_gradient(f, *args)
    got = dpnb.gradient(f, *args)
    expect_grad(got, want, rtol, atol)
    return got


def gradient_differences(f, x, eps=1e-5):
    """Central differences of `dpnb.gradient(f, ·)` at `x` (a float or an array): the Hessian the
    second-order modes are checked against, column by column for an array."""
    g = lambda t: dpnb.gradient(f, t)[0]  # noqa: E731
    if np.ndim(x) == 0:
        return (g(x + eps) - g(x - eps)) / (2 * eps)
    return np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(np.size(x)).reshape((-1,) + np.shape(x))], axis=-1)


def differences_in(f, p):
    """Central differences of `f()`, a function of no arguments that reads the array `p` (as
    `Params` tracks it), with respect to `p`: `p` is set in place to each probe and put back."""

    def at(q):
        old = p.copy()
        p[...] = q
        try:
            return f()
        finally:
            p[...] = old

    return numerical_gradient(at, p.copy())[0]


def import_source(directory, name, source):
    """The module `name`, written from `source` (dedented) to a file in `directory` and imported
    (and forgotten by `sys.modules` again: the next one of that name is read anew)."""
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    sys.path.insert(0, str(directory))
    try:
        importlib.invalidate_caches()
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))
        sys.modules.pop(name, None)


_modules = itertools.count()


@pytest.fixture
def load_module(tmp_path):
    """`load_module(source)`: `source` as a module of a file of its own under `tmp_path`."""
    return lambda source: import_source(tmp_path, f"regress_module_{next(_modules)}", source)
