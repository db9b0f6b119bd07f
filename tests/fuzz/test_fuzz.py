"""The program fuzzer as a test: a fixed budget of generated programs, and the checker's own tests.

`test_fuzz_budget` generates 200 small programs (seed 0, scalar and NumPy kinds in
turn) and checks each one: the gradient against central differences, jvp against
pullback on every 4th, the Hessian against differences of the gradient on every
8th. Any wrong or crashed program fails the test, which prints the program and the
discrepancy; refusals (a `DifferentiationError`) are allowed and listed.

The other tests make sure the checker can fail: a gradient, jvp or Hessian that is
twice the right value must be reported as wrong, an internal error as crashed, a
refusal as refused, and a kink must be skipped rather than reported.

The long run is `make fuzz` (tests/fuzz/run.py).
"""
import collections
import os
import tempfile

import numpy as np
import pytest

import dpnb
from dpnb.errors import DifferentiationError, NoRuleError

from _fuzz_check import Outcome, check_gradient, check_hessian, check_jvp, load, run_checks, run_many
from _fuzz_gen import Program, generate, program_for
from _fuzz_shrink import shrink

BUDGET = 200
SEED = 0


@pytest.fixture(scope="module")
def workdir():
    return tempfile.mkdtemp(prefix="dpnb-fuzz-test-")


def _program(source, args, hess_arg=None, kind="scalar"):
    return Program(source, tuple(args), kind, 0, hess_arg)


SMOOTH = '''import math
import numpy as np


def f(x, y):
    u = x
    u = u * 1.5
    for i in range(3):
        u += math.sin(y) * i
    return u * y + math.exp(0.3 * x)


def hess_target(v):
    return f(v[0], v[1])
'''

ARRAYS = '''import numpy as np


def f(a, s):
    z = np.zeros((3, 4))
    z[1] = np.tanh(a[0]) * s
    z[:, 2] += np.sum(a * a, axis=1, keepdims=False)
    return np.sum(np.sin(z)) + np.mean(a.T @ a) * s
'''


def _doubled(f, *args):
    return tuple(None if g is None else 2 * g for g in dpnb.gradient(f, *args))


# -- the checker can fail --------------------------------------------------------------------


def test_checker_accepts_a_right_gradient(workdir):
    mod = load(SMOOTH, workdir)
    assert check_gradient(mod.f, (0.4, -0.7), mod.f(0.4, -0.7)).status == "ok"


@pytest.mark.parametrize("source, args", [
    (SMOOTH, (0.4, -0.7)),
    (ARRAYS, (np.linspace(-1, 1, 12).reshape(3, 4), 0.8)),
])
def test_checker_reports_a_doubled_gradient(workdir, source, args):
    mod = load(source, workdir)
    y0 = float(mod.f(*args))
    o = check_gradient(mod.f, args, y0, grad=_doubled)
    assert (o.status, o.key) == ("wrong", "gradient value"), o
    assert "dpnb" in o.detail and "central differences" in o.detail


def test_checker_reports_a_gradient_of_the_wrong_kind(workdir):
    mod = load(ARRAYS, workdir)
    args = (np.linspace(-1, 1, 12).reshape(3, 4), 0.8)

    def flat(f, *a):
        g = dpnb.gradient(f, *a)
        return (g[0].ravel(), g[1])

    o = check_gradient(mod.f, args, float(mod.f(*args)), grad=flat)
    assert (o.status, o.key) == ("wrong", "gradient kind"), o


def test_checker_skips_kinks_and_jumps(workdir):
    mod = load("def f(x):\n    return abs(x)\n\n\ndef g(x):\n    return 1.0 if x > 0 else 0.0\n", workdir)
    # at the kink of abs, any subgradient is fine; next to a jump, differences mean nothing
    assert check_gradient(mod.f, (1e-9,), 1e-9, grad=lambda f, x: (0.3,)).status == "skipped"
    assert check_gradient(mod.g, (1e-8,), 1.0, grad=lambda f, x: (0.0,)).status == "skipped"
    # away from the kink the same wrong answer is reported
    assert check_gradient(mod.f, (0.5,), 0.5, grad=lambda f, x: (0.3,)).status == "wrong"


def test_checker_reports_a_doubled_jvp(workdir, monkeypatch):
    mod = load(SMOOTH, workdir)
    args = (0.4, -0.7)
    y0 = mod.f(*args)
    assert check_jvp(mod.f, args, y0, seed=1).status == "ok"
    real = dpnb.jvp
    monkeypatch.setattr(dpnb, "jvp", lambda f, p, t: (lambda y, d: (y, 2 * d))(*real(f, p, t)))
    o = check_jvp(mod.f, args, y0, seed=1)
    assert (o.status, o.key) == ("wrong", "jvp disagrees with pullback and differences"), o


def test_checker_reports_a_doubled_pullback(workdir, monkeypatch):
    mod = load(SMOOTH, workdir)
    args = (0.4, -0.7)
    real = dpnb.pullback

    def doubled(f, *a):
        y, back = real(f, *a)
        return y, lambda dy: tuple(2 * b for b in back(dy))

    monkeypatch.setattr(dpnb, "pullback", doubled)
    o = check_jvp(mod.f, args, mod.f(*args), seed=1)
    assert (o.status, o.key) == ("wrong", "pullback disagrees with jvp and differences"), o


def test_checker_reports_a_doubled_hessian(workdir, monkeypatch):
    mod = load(SMOOTH, workdir)
    x = np.array([0.4, -0.7])
    assert check_hessian(mod.hess_target, x).status == "ok"
    real = dpnb.hessian
    monkeypatch.setattr(dpnb, "hessian", lambda h, x: 2 * real(h, x))
    o = check_hessian(mod.hess_target, x)
    assert (o.status, o.key) == ("wrong", "hessian value"), o


def test_refusals_and_crashes_are_told_apart(workdir, monkeypatch):
    mod = load(SMOOTH, workdir)

    def refuse(f, *a):
        raise NoRuleError(np.frompyfunc, "for the test")

    def crash(f, *a):
        raise KeyError("internal")

    o = check_gradient(mod.f, (0.4, -0.7), 0.0, grad=refuse)
    assert o.status == "refused" and o.key.startswith("NoRuleError: no differentiation rule for")
    o = check_gradient(mod.f, (0.4, -0.7), 0.0, grad=crash)
    assert (o.status, o.key) == ("crashed", "KeyError: 'internal'")
    assert issubclass(NoRuleError, DifferentiationError)


def test_a_program_that_does_not_run_is_skipped(workdir):
    p = _program("import math\n\n\ndef f(x):\n    return math.log(x)\n", (-1.0,))
    r = run_checks(p, workdir)
    assert r.status == "skipped"


# -- the generator -----------------------------------------------------------------------------------


def test_programs_are_reproducible_and_run():
    assert generate(5, "scalar").source == generate(5, "scalar").source
    assert generate(5, "scalar").source != generate(6, "scalar").source
    a, b = generate(7, "numpy"), generate(7, "numpy")
    assert a.source == b.source and all(np.array_equal(x, y) for x, y in zip(a.args, b.args))


def test_generated_programs_cover_the_features():
    seen = collections.Counter()
    for i in range(300):
        seen.update(program_for(i, seed=3).features)
    for feature in ["alias", "augmented", "rebind", "if", "for", "while", "break/continue", "early return",
                    "list", "dict", "tuple", "unpacking", "repeated target", "nested function",
                    "closure late binding", "default argument", "lambda", "nonlocal", "recursion",
                    "comprehension", "try", "finally", "with", "class with dunders", "module globals", "method mutating self",
                    "mutation through alias", "module helper", "reduction", "reshape", "transpose",
                    "concatenate", "stack", "indexing", "matmul", "slice assignment", "mutation through view"]:
        assert seen[feature] >= 3, feature


# -- the shrinker ----------------------------------------------------------------------------------------


def test_shrinker_reduces_a_failing_program_to_a_few_lines(workdir):
    p = generate(11, "scalar")
    assert len(p.source.splitlines()) > 15
    r = run_checks(p, workdir, ("gradient",), grad=_doubled)
    (o,) = [o for o in r.outcomes if o.check == "gradient"]
    assert o.status == "wrong"
    small = shrink(p, workdir, o, budget=60, grad=_doubled)
    body = small.source.split("def hess_target")[0].strip().splitlines()
    assert len(body) <= 5, small.source
    again = run_checks(small, workdir, ("gradient",), grad=_doubled)
    assert again.status == "wrong"


# -- the budget ----------------------------------------------------------------------------------------


def test_fuzz_budget(workdir):
    counts = collections.Counter()
    refusals = collections.Counter()
    failures = []
    # the time limit is for hangs only: a slow machine must not turn into a failure
    for i, r in run_many(BUDGET, SEED, size="small", hessian_every=8, jvp_every=4, timeout=300,
                         directory=workdir, jobs=2):
        counts[r.status] += 1
        for o in r.outcomes:
            if o.status == "refused":
                refusals[o.check, o.key] += 1
        if r.status in ("wrong", "crashed"):
            failures.append(f"--- program {i} ---\n{r.report()}\n\n{r.program.source}")
    print(f"\n{BUDGET} programs: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    for (check, key), n in refusals.most_common():
        print(f"  refused {n}x in {check}: {key}")
    assert not failures, f"{len(failures)} of {BUDGET} programs failed:\n\n" + "\n\n".join(failures)
    # a fuzzer that skips everything proves nothing
    assert counts["ok"] >= BUDGET // 2, counts


def test_checker_reports_a_wrong_primal_value(workdir, monkeypatch):
    mod = load(SMOOTH, workdir)
    real = dpnb.withgradient
    monkeypatch.setattr(dpnb, "withgradient", lambda f, *a: (lambda v, g: (v + 1.0, g))(*real(f, *a)))
    o = check_gradient(mod.f, (0.4, -0.7), mod.f(0.4, -0.7))
    assert (o.status, o.key) == ("wrong", "gradient primal value"), o
