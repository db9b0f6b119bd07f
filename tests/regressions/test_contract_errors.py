"""No internal error reaches a user: the recursion limit, deep recursion, SciPy, code with no source.

Tests that depend on the state of a fresh interpreter (the recursion limit before
the first gradient, a REPL with no source) run in a subprocess.
"""
import inspect
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dpnb
from dpnb import DifferentiationError, gradient

try:
    from ._regress_check import expect_grad
except ImportError:
    from _regress_check import expect_grad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(dpnb.__file__)))


def _run_python(args, stdin=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


# -- the recursion limit --------------------------------------------------------------------


def _countdown(x, n):
    return x if n == 0 else _countdown(x * 1.01, n - 1)


def test_gradient_leaves_recursion_limit_alone():
    """The recursion limit is the user's: unchanged by a gradient of a recursive function.

    Today: fails when it is the first gradient of the process (limit 1000 -> 3000); passes after any earlier
        gradient (the limit is raised once per process).
    """
    before = sys.getrecursionlimit()
    gradient(lambda x: _countdown(x, 50), 1.0)
    assert sys.getrecursionlimit() == before


def test_first_gradient_in_fresh_interpreter_leaves_recursion_limit_alone(tmp_path):
    """In a fresh interpreter (limit 1000), the first gradient of a recursive function does not
    raise the limit, and a 500-deep recursion, which plain Python runs under that limit, works.

    Today: fails -- the first gradient raises the limit from 1000 to 3000.
    """
    script = tmp_path / "regress_limit.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import dpnb

            def down(x, n):
                return x if n == 0 else down(x * 1.001, n - 1)

            before = sys.getrecursionlimit()
            down(1.0, 500)  # plain Python manages
            (g,) = dpnb.gradient(lambda x: down(x, 500), 1.0)
            print(before, sys.getrecursionlimit(), repr(g))
            """
        )
    )
    out = _run_python([str(script)])
    assert out.returncode == 0, out.stderr
    before, after, g = out.stdout.split()
    assert before == after == "1000"
    assert math.isclose(float(g), 1.001**500, rel_tol=1e-9)


def _rec_append(x, acc, n):
    if n == 0:
        return x
    acc.append(x)
    return _rec_append(x * 1.0001, acc, n - 1)


def _deep(x):
    acc = []
    y = _rec_append(x, acc, 2000)
    return y + sum(acc)


@pytest.fixture
def limit_for_depth_2000():
    """Plain Python needs a limit above 2000 for a 2,000-deep recursion (the default 1000 fails):
    set it to what is on the stack now + 2000 + 200 spare frames, and put it back afterwards."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 2000 + 200)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_recursion_appending_to_list_at_depth_2000(limit_for_depth_2000):
    """Recursion 2,000 deep that appends to a list argument: dpnb works under the limit plain
    Python works under (no doubling of frames). d/dx = sum_{k=0}^{2000} 1.0001^k.

    Today: RecursionError (the adjoint needs about twice the frames; it works only from a limit of about depth
        + 2000 + 3000).
    """
    _deep(1.0)  # plain Python manages under this limit
    expect_grad(gradient(_deep, 1.0), (sum(1.0001**k for k in range(2001)),))


# -- SciPy ------------------------------------------------------------------------------------


def _norm_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return math.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * scale)


def test_scipy_norm_pdf():
    """scipy.stats.norm.pdf(x): d/dx = -x pdf(x).

    Today: KeyError (an internal cache key leaks out).
    """
    stats = pytest.importorskip("scipy.stats")
    expect_grad(gradient(lambda x: stats.norm.pdf(x), 0.3), (-0.3 * _norm_pdf(0.3),))


def test_scipy_norm_pdf_array_with_loc_and_scale():
    """np.sum(norm.pdf(x, loc=0.5, scale=2)): -(x - loc) / scale^2 pdf, entry by entry.

    Today: KeyError (an internal cache key leaks out).
    """
    stats = pytest.importorskip("scipy.stats")
    x = np.array([0.3, 1.0, -2.0])
    want = np.array([-(v - 0.5) / 4.0 * _norm_pdf(v, 0.5, 2.0) for v in x])
    expect_grad(gradient(lambda x: np.sum(stats.norm.pdf(x, loc=0.5, scale=2.0)), x), (want,))


def test_scipy_norm_logpdf_in_loc():
    """norm.logpdf(0.3, loc=m) = -(0.3 - m)^2 / 2 + c: d/dm = 0.3 - m.

    Today: KeyError (an internal cache key leaks out).
    """
    stats = pytest.importorskip("scipy.stats")
    expect_grad(gradient(lambda m: stats.norm.logpdf(0.3, loc=m), 0.1), (0.2,))


# -- code with no source -------------------------------------------------------------------

NO_SOURCE_PROGRAM = """
import dpnb

def f(x):
    return x * 2.0

try:
    dpnb.gradient(f, 1.0)
except dpnb.DifferentiationError as e:
    print("CAUGHT", type(e).__name__)
    print(e)
else:
    print("NO ERROR")
"""


def _check_no_source_message(out):
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("CAUGHT"), out.stdout
    message = out.stdout.split("\n", 1)[1].lower()
    assert "source" in message and "not available" in message, message
    assert "ipython" in message or "jupyter" in message, message
    assert "file" in message, message
    assert "register" not in message and "rrule" not in message, message


def test_no_source_in_plain_repl_stdin():
    """`python -` reading the program from stdin: the function has no source. The error says so and
    points to IPython, Jupyter or a file -- not to registering a rule.

    Today: fails -- NoRuleError whose message says the source is not available but suggests registering a
        rule, not IPython/Jupyter/a file.
    """
    _check_no_source_message(_run_python(["-"], stdin=NO_SOURCE_PROGRAM))


def test_no_source_in_python_c():
    """The same with `python -c`.

    Today: fails -- the same message, suggesting a rule.
    """
    _check_no_source_message(_run_python(["-c", NO_SOURCE_PROGRAM]))


def test_no_source_from_exec_string():
    """A function built by exec of a string (no file, no linecache entry): a DifferentiationError
    (HARD-PARTS: a NoRuleError) naming the missing source, not a crash.

    Today: passes (NoRuleError naming the missing source).
    """
    ns = {}
    exec("def f(x):\n    return x * 2.0\n", ns)
    with pytest.raises(DifferentiationError) as info:
        gradient(ns["f"], 1.0)
    message = str(info.value).lower()
    assert "source" in message and "not available" in message
