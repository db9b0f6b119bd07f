"""The array transform calls primitives of its own for the NumPy and `math` callables it knows
(`fwdrev._FUNCS`, `_METHOD_KEYS`), and reads whether it may from the tables as they are: a rule
the user registered, or a callable the user marked constant, sends the function the general way;
no entry means dpnb's own rule, so no module of NumPy's rules loads for it (they cost 1.4 ms of the
MLP's first gradient). A rule registered after the code was built builds it again."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dpnb.core import fwdrev
from dpnb.rules import registry


def run(tmp_path, code):
    path = tmp_path / "fresh.py"
    path.write_text(textwrap.dedent(code))
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return eval(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("f", list(fwdrev._FUNCS) + list(fwdrev._METHOD_KEYS.values()),
                         ids=lambda f: getattr(f, "__qualname__", str(f)))
def test_every_callable_the_transform_has_a_primitive_for_has_a_rule_of_dpnbs(f):
    registry.load_all()
    r = registry.lookup(f)
    assert r is not None and r is not registry.CONSTANT
    assert r.__module__.startswith(("dpnb.rules.numpy", "dpnb.rules.python", "dpnb.rules.scalar"))


PROGRAM = """
    import sys
    import numpy as np
    import dpnb
    from dpnb.core import plain
    from dpnb.testing import gradcheck

    def f(W, b, x):
        return np.mean(np.tanh(x @ W + b) ** 2) + np.sum(np.exp(W) * np.sin(b))

    rng = np.random.default_rng(0)
    W, b, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    first = dpnb.gradient(f, W, b, x)
    built = plain._CACHE.get(f.__code__) is not None
    loaded = sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("dpnb.rules.numpy."))
"""


def test_a_gradient_on_the_plain_way_loads_none_of_numpys_rules(tmp_path):
    got = run(tmp_path, PROGRAM + """
    print([built, loaded, gradcheck(f, W, b, x)])
    """)
    assert got == [True, [], True]


@pytest.mark.parametrize("how", ["rrule", "nograd"])
def test_a_rule_registered_after_the_code_was_built_is_the_one_used(tmp_path, how):
    """tanh's rule is registered (or tanh marked constant) by the user after the plain code that
    calls dpnb's own primitive for it was built, its domain never loaded: the next gradient uses
    the user's rule. Without the new generation the first code ran again."""
    register = {
        "rrule": """
    @dpnb.rrule(np.tanh)
    def tanh_rrule(a):
        y = np.tanh(a)
        return y, lambda dy: (dpnb.NoTangent(), 2.0 * dy * (1 - y * y))
    """,
        "nograd": "dpnb.nograd(np.tanh)",
    }[how]
    got = run(tmp_path, PROGRAM + textwrap.indent(textwrap.dedent(register), "    ") + """
    second = dpnb.gradient(f, W, b, x)
    # what the user's rule makes of f: tanh's derivative twice (its value unchanged), or none
    h = x @ W + b
    t = np.tanh(h)
    dt = 2 * t / t.size
    dh = dt * (2.0 * (1 - t * t) if K else 0.0)
    want_W = x.T @ dh + np.exp(W) * np.sin(b)
    want_b = dh.sum(axis=0) + np.sum(np.exp(W), axis=0) * np.cos(b)
    print([built, loaded,
           bool(np.allclose(second[0], want_W)), bool(np.allclose(second[1], want_b)),
           not np.allclose(second[0], first[0])])
    """.replace("K", "True" if how == "rrule" else "False"))
    assert got == [True, [], True, True, True]
