"""The plain code is compiled inside a factory whose parameters bind the helpers it may call (a
hundred-odd: the primitives, the in-place operations, the constants the build made). Only those
the code reads are bound: every name it reads is bound, a parameter, a name it assigns or one of
its module's or the builtins, and none it does not read is bound."""
import ast
import builtins

import numpy as np
import pytest

from dpnb.core import fwdrev, plain
from dpnb.testing import gradcheck


def dense(W, b, x):
    return np.mean(np.tanh(x @ W + b) ** 2)


def affine(W, b, x):
    return np.sum(W @ x + b)


@pytest.mark.parametrize("f,shapes", [(dense, ((256, 10), (10,), (64, 256))), (affine, ((4, 3), (4,), (3,)))])
def test_the_factory_binds_the_names_the_code_reads_and_no_others(monkeypatch, f, shapes):
    seen = []

    def spy(src, filename, mode, *a, **k):
        if isinstance(src, ast.Module) and isinstance(src.body[0], ast.FunctionDef) and src.body[0].name == "_factory":
            seen.append(src.body[0])
        return builtins.compile(src, filename, mode, *a, **k)

    monkeypatch.setattr(fwdrev, "compile", spy, raising=False)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s) for s in shapes]
    inplace = sum(a.size for a in args) >= plain.IN_PLACE_FROM
    b = plain.build(f, 3, inplace=inplace)
    (factory,) = seen
    bound = {a.arg for a in factory.args.args}
    inner = factory.body[0]
    own = {a.arg for a in inner.args.args + inner.args.kwonlyargs}
    names = [n for n in ast.walk(inner) if isinstance(n, ast.Name)]
    loads = {n.id for n in names if isinstance(n.ctx, ast.Load)}
    stored = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    unbound = {n for n in loads - bound - own - stored if n not in f.__globals__ and not hasattr(builtins, n)}
    assert not unbound, f"read but bound nowhere: {unbound}"
    assert bound <= loads, f"bound but never read: {bound - loads}"
    if inplace:
        assert any(n.startswith("_into_") for n in bound)  # the operations written in place
    # the code runs (a name it reads and finds nowhere would send the call the general way)
    got = b.fn(*args)
    gradcheck(f, *args)
    from dpnb import gradient

    for g, want in zip(got[1:], gradient(f, *args)):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)
