"""`import dpnb` stays light: the rules of NumPy (and of `numpy.fft`, `numpy.random`, SciPy) are
registered when a look-up first concerns them, and the reverse-mode writer of the general way
(analyze, emit) is imported when a first adjoint needs it. The passes every first gradient runs
(reading the source, normalize, SSA, forward mode) and the array transform (plain, fwdrev, tidy)
load with dpnb. Each test runs in a fresh interpreter, where nothing was loaded yet."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dpnb.rules.numpy import concerns

#: what `import dpnb` must not import
HEAVY = (
    "dpnb.core.analyze", "dpnb.core.emit", "dpnb.core.fuse", "dpnb.core.inert",
    "dpnb.rules.numpy.ufuncs", "dpnb.rules.numpy.attributes", "dpnb.rules.numpy.fft",
    "dpnb.rules.numpy.random_draws", "numpy.random", "numpy.fft", "importlib.metadata",
    "dpnb.rules.python.itertools_rules", "dpnb.rules.python.statistics_rules", "statistics",
)


def run(tmp_path, code):
    """Run `code` in a fresh interpreter, from a file (dpnb reads the source of what it
    differentiates); its last line of output, as a Python value."""
    path = tmp_path / "fresh.py"
    path.write_text(textwrap.dedent(code))
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return eval(r.stdout.strip().splitlines()[-1])


#: what `import dpnb` loads: the passes every first gradient runs, and the array transform
CORE = ("dpnb.core.parse", "dpnb.core.normalize", "dpnb.core.ssa", "dpnb.core.forward", "dpnb.core.astlib", "dpnb.core.names",
        "dpnb.core.plain", "dpnb.core.fwdrev", "dpnb.core.tidy")


def test_import_dpnb_loads_the_passes_every_gradient_runs(tmp_path):
    loaded = run(tmp_path, f"""
        import sys
        import dpnb
        print([m for m in {CORE!r} if m in sys.modules])
    """)
    assert loaded == list(CORE)


def test_import_dpnb_loads_neither_the_reverse_writer_nor_numpys_rules(tmp_path):
    loaded = run(tmp_path, f"""
        import sys
        import numpy as np
        import dpnb
        from dpnb.rules.registry import CONSTANTS, RULES, ATTRIBUTE_RULES
        print([m for m in {HEAVY!r} if m in sys.modules]
              + [k for k, here in (("np.sum", dict.__contains__(RULES, np.sum)), ("np.zeros", np.zeros in CONSTANTS),
                                   ("ndarray.T", dict.__contains__(ATTRIBUTE_RULES, (np.ndarray, "T")))) if here])
    """)
    assert loaded == []


def test_a_plain_python_gradient_loads_the_transform_but_not_numpys_rules(tmp_path):
    loaded = run(tmp_path, """
        import math, sys
        import numpy as np
        import dpnb

        def f(x, xs):
            return 3 * x**2 + math.sin(x) + sum(v * x for v in xs)

        assert dpnb.gradient(f, 0.5, [1.0, 2.0]) == (3.0 + math.cos(0.5) + 3.0, [0.5, 0.5])
        print([m for m in ("dpnb.core.emit", "dpnb.rules.numpy.ufuncs", "numpy.random") if m in sys.modules])
    """)
    assert loaded == ["dpnb.core.emit"]


def test_a_numpy_gradient_loads_the_modules_of_numpys_rules_it_needs(tmp_path):
    loaded = run(tmp_path, """
        import sys
        import numpy as np
        import numpy.random
        import dpnb
        from dpnb.rules.registry import RULES

        def f(x):  # (a `while` loop: the general way, which looks up the rules it calls; the
            s = 0.0  # plain way loads none of them, tests/regressions/test_plain_code_loads_no_rules.py)
            i = 0
            while i < 2:
                s = s + np.sum(np.sin(x))
                i += 1
            return s

        g, = dpnb.gradient(f, np.array([0.0, 1.0]))
        assert np.allclose(g, 2 * np.cos([0.0, 1.0]))
        print(sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("dpnb.rules.numpy."))
              + [dict.__contains__(RULES, np.sum), dict.__contains__(RULES, np.linalg.norm)])
    """)
    # sin's module and sum's; not linalg's, nor numpy.random's though the program imported it
    assert loaded == ["_base", "reductions", "ufuncs", True, False]


def test_a_key_the_index_places_wrongly_still_finds_its_rule(tmp_path):
    """The index only saves time: a key it gives to a module that does not hold its rule (an
    index out of date) loads every module, and the gradient is right."""
    ok = run(tmp_path, """
        import sys
        import numpy as np
        import dpnb
        from dpnb.rules import numpy as N
        from dpnb.testing import gradcheck

        index = N._read_index()
        index["tanh"] = "einsum"  # wrong: tanh's rule is in ufuncs
        index["sum"] = "no such module"
        index.pop("exp")  # a key the index does not name

        def f(x):  # (the general way, which looks the rules up: a `while` loop)
            i = 0
            while i < 1:
                i += 1
            return np.sum(np.tanh(x) * np.exp(x))

        assert "dpnb.rules.numpy.ufuncs" not in sys.modules
        print([gradcheck(f, np.array([0.5, -1.0])), "dpnb.rules.numpy.attributes" in sys.modules])
    """)
    assert ok == [True, True]


# Each program's first gradient is the first look-up of a NumPy key of its kind: a method of an
# array, an attribute, an operator, a ufunc, a function of `np.linalg`, a constant, a NumPy scalar,
# an ndarray method reached through its class, `np.r_`, a draw of `numpy.random`, an `np.fft` transform.
FIRST_GRADIENTS = {
    "method": ("x.sum() * x.reshape(-1)[0]", "np.array([[1.0, 2.0], [3.0, 4.0]])"),
    "attribute": ("np.sum(x.T[0] * x[0])", "np.array([[1.0, 2.0], [3.0, 4.0]])"),
    "real": ("(x * 1j).imag.sum() * 2.0", "np.array([1.0, 2.0])"),
    "matmul": ("(x @ x.T).sum()", "np.array([[1.0, 2.0], [3.0, 4.5]])"),
    "ufunc": ("np.exp(x).sum()", "np.array([0.5, -1.0])"),
    "norm": ("np.linalg.norm(x)", "np.array([3.0, 4.0])"),
    "constant": ("(np.zeros(2) + x).prod()", "np.array([2.0, 3.0])"),
    "scalar": ("np.float64(x[0]).real * x[1]", "np.array([2.0, 3.0])"),
    "descriptor": ("np.ndarray.sum(x * x)", "np.array([2.0, 3.0])"),
    "r_": ("np.sum(np.r_[x, x * x])", "np.array([2.0, 3.0])"),
    "random": ("np.sum(np.random.default_rng(0).normal(x, 1.0))", "np.array([2.0, 3.0])"),
    "fft": ("np.real(np.fft.fft(x)).sum() + np.imag(np.fft.fft(x))[1]", "np.array([2.0, 3.0, 5.0])"),
}


@pytest.mark.parametrize("kind", sorted(FIRST_GRADIENTS))
def test_the_first_numpy_gradient_never_misses_a_rule(tmp_path, kind):
    body, arg = FIRST_GRADIENTS[kind]
    ok = run(tmp_path, f"""
        import sys
        import numpy as np
        {"import numpy.random" if kind == "random" else "import numpy.fft" if kind == "fft" else ""}
        import dpnb
        from dpnb.testing import gradcheck

        def f(x):
            return {body}

        assert "dpnb.rules.numpy.ufuncs" not in sys.modules
        print(gradcheck(f, {arg}))
    """)
    assert ok is True


# the same for the rules of Python registered when first needed: itertools and statistics
PYTHON_FIRST_GRADIENTS = {
    "accumulate": ("import itertools", "list(itertools.accumulate(xs, operator.mul))[-1]"),
    "chain": ("import itertools", "sum(v * v for v in itertools.chain.from_iterable([xs, xs[:1]]))"),
    "islice": ("from itertools import islice", "sum(islice(xs, 1, None))"),
    "mean": ("import statistics", "statistics.mean(xs) * statistics.pstdev(xs)"),
    "median": ("import statistics", "statistics.median(xs) * statistics.fmean(xs)"),
}


@pytest.mark.parametrize("kind", sorted(PYTHON_FIRST_GRADIENTS))
def test_the_first_gradient_of_itertools_or_statistics_never_misses_a_rule(tmp_path, kind):
    imports, body = PYTHON_FIRST_GRADIENTS[kind]
    ok = run(tmp_path, f"""
        import operator, sys
        {imports}
        import dpnb
        from dpnb.testing import gradcheck

        def f(xs):
            return {body}

        assert not any(m in sys.modules for m in ("dpnb.rules.python.itertools_rules", "dpnb.rules.python.statistics_rules"))
        print(gradcheck(f, [1.5, 2.0, 4.0]))
    """)
    assert ok is True


def test_statistics_imported_but_not_used_leaves_its_rules_unloaded(tmp_path):
    """A program that imported `statistics` (as a notebook often has) and differentiates code that
    does not call it does not pay for registering its rules; its first call of `statistics` does."""
    loaded = run(tmp_path, """
        import math, statistics, sys
        import dpnb

        def f(x):
            return math.sin(x) * x if x > 0 else x

        def g(xs):
            return statistics.fmean(xs) * xs[0]

        before = "dpnb.rules.python.statistics_rules" in sys.modules
        assert dpnb.gradient(f, 0.5) == (math.cos(0.5) * 0.5 + math.sin(0.5),)
        assert dpnb.gradient(lambda xs: sum(v * v for v in xs), [1.0, 2.0]) == ([2.0, 4.0],)
        middle = "dpnb.rules.python.statistics_rules" in sys.modules
        assert dpnb.gradient(g, [1.0, 3.0]) == ([2.0 + 0.5, 0.5],)
        print([before, middle, "dpnb.rules.python.statistics_rules" in sys.modules])
    """)
    assert loaded == [False, False, True]


def test_first_numpy_gradients_in_several_threads_at_once(tmp_path):
    """Threads whose first look-ups of NumPy keys meet while NumPy's rules load: each waits for the
    load, none misses a rule."""
    ok = run(tmp_path, """
        import sys, threading
        import numpy as np
        import dpnb
        from dpnb.testing import gradcheck

        def f0(x): return np.sum(np.tanh(x) * x.T[0])
        def f1(x): return np.linalg.norm(x @ x.T)
        def f2(x): return (x.real ** 2).sum() + np.mean(np.exp(x))
        def f3(x): return np.prod(np.reshape(x, -1)[:2]) + np.max(x)

        barrier = threading.Barrier(8)
        results = [None] * 8

        def work(i):
            barrier.wait()
            results[i] = gradcheck([f0, f1, f2, f3][i % 4], np.array([[0.5, -1.0], [2.0, 0.3]]))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        assert "dpnb.rules.numpy.ufuncs" not in sys.modules
        for t in threads: t.start()
        for t in threads: t.join()
        print(results)
    """)
    assert ok == [True] * 8


def test_a_user_rule_registered_before_numpys_rules_load_stays_the_users(tmp_path):
    got = run(tmp_path, """
        import sys
        import numpy as np
        import dpnb

        @dpnb.rrule(np.tanh)
        def tanh_rrule(x):
            return np.tanh(x), lambda g: (dpnb.NoTangent(), 10.0 * g)

        dpnb.nograd(np.exp)
        dpnb.rules.register_attribute(np.ndarray, "T", lambda a: (a.T, lambda g: (None, 0 * g.T)))
        assert "dpnb.rules.numpy.ufuncs" not in sys.modules

        def f(x):
            return np.sum(np.tanh(x) + np.exp(x) + np.sin(x) + x.T)

        g, = dpnb.gradient(f, np.array([0.0, 1.0]))
        assert "dpnb.rules.numpy.ufuncs" in sys.modules
        print((g - np.cos([0.0, 1.0])).tolist())
    """)
    assert got == [10.0, 10.0]


def test_a_user_rule_registered_before_scipys_rules_load_stays_the_users(tmp_path):
    pytest.importorskip("scipy")
    got = run(tmp_path, """
        import sys
        import numpy as np
        import scipy.special as sps
        import dpnb

        @dpnb.rrule(sps.expit)
        def expit_rrule(x):
            return sps.expit(x), lambda g: (dpnb.NoTangent(), 10.0 * g)

        assert "dpnb.rules.scipy.special" not in sys.modules

        def f(x):
            return sps.expit(x) + sps.erf(x)

        g, = dpnb.gradient(f, 0.0)
        assert "dpnb.rules.scipy.special" in sys.modules
        print(g - 2 / np.sqrt(np.pi))
    """)
    assert got == pytest.approx(10.0)


def test_every_key_numpys_rules_register_concerns_numpy(tmp_path):
    """The look-ups that load NumPy's rules are those whose key `concerns` NumPy: so every key its
    rules register must (but for dpnb's own helpers that only NumPy's rules call)."""
    missed = run(tmp_path, """
        import sys
        import numpy.fft, numpy.random
        import dpnb
        from dpnb.rules import registry as R
        from dpnb.rules.numpy import concerns

        def keys():
            return {*dict.keys(R.RULES), *R.CONSTANTS, *R.SCALAR_RULES, *R.NUMBER_CLOSED,
                    *dict.keys(R.ATTRIBUTE_RULES), *R.CONSTANT_ATTRIBUTES}

        before = keys()
        for d in R._DOMAINS:  # NumPy's rules, with numpy.fft's and numpy.random's
            if d.concerns is concerns:
                d.load()
        new = keys() - before
        assert "dpnb.rules.numpy.random_draws" in sys.modules
        assert len(new) > 400, len(new)
        print(sorted(getattr(k, "__name__", repr(k)) for k in new if not concerns(k)))
    """)
    assert missed == ["any_foreign", "foreign_cotangent", "refuse_foreign", "refuse_foreign_cotangent"]


@pytest.mark.parametrize("key", [len, sum, abs, float, dict.get, list.append, (complex, "real"), (dict, "x"), object()])
def test_what_is_not_numpy_does_not_concern_it(key):
    assert not concerns(key)


def test_a_key_the_index_gives_to_no_module_of_numpys_loads_them_all(tmp_path):
    ok = run(tmp_path, """
        import sys
        import numpy as np
        import dpnb
        from dpnb.rules import numpy as N
        from dpnb.testing import gradcheck

        from dpnb.rules import registry

        N._read_index()["sum"] = "no such module"
        found = registry.lookup(np.sum) is not None  # the first look-up of a NumPy key

        def f(x):
            return np.sum(x * x)

        print([found, gradcheck(f, np.array([0.5, -1.0])), "dpnb.rules.numpy.attributes" in sys.modules])
    """)
    assert ok == [True, True, True]


def test_the_index_of_numpys_rules_is_up_to_date():
    """Each key's module as the modules register them now (`python -m dpnb.rules.numpy._make_index`
    writes it again): a rule moved or added without it would load every module at its look-up."""
    from dpnb.rules.numpy import _make_index

    assert _make_index.index() == _make_index.stored()
    assert len(_make_index.stored()) > 400
    # the modules said to register attribute rules (the runtime asks for them while one waits)
    # are those that register `(type, name)` keys
    from dpnb.rules import numpy as N

    assert {m for n, m in _make_index.stored().items() if ":" in n} == set(N.ATTRIBUTES)
