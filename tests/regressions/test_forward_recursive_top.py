"""The gradient of a function that calls itself, by forward mode: the top form ("grad", "grad<n>",
"pair") is a few lines around the code the function's calls of itself run (`forward._through_callee`),
so a first call writes and compiles that code once. Each case is compared with the reverse way
(`pullback`, which never uses forward mode) and with central differences; the cases where the
wrapper must not be used (a result that carries no tangent, a function that only reads another
of its name) check that it is not."""
import itertools
import math

import pytest

import dpnb
from dpnb.core import forward, load
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import import_source
except ImportError:
    from _regress_check import import_source

_counter = itertools.count()

SOURCE = """
import math

def power(x, n=20):
    return 1.0 if n <= 0 else x * power(x, n - 1)

def branches(x, n=6):
    if n <= 0:
        return math.sin(x)
    if x > 1.0:
        return branches(x * 0.5, n - 1) + math.exp(-x)
    return branches(x + 0.75, n - 1) * x

def two_calls(x, n=7):
    if n <= 1:
        return x * 1.5
    return two_calls(x, n - 1) * 0.5 + two_calls(x * 0.9, n - 2) * x

def swapped(x, y=0.25, n=4):
    if n <= 0:
        return x * y
    return swapped(y, x, n - 1) + x

def loop_inside(x, n=3):
    if n <= 0:
        return x
    s = 0.0
    for i in range(3):
        s = s + loop_inside(x * 0.5, n - 1) * x
    return s

def constant(x, n=3):
    return 2.0 if n <= 0 else constant(x, n - 1) * 1.5

def not_itself(x):
    return x * 3.0
"""

CASES = {
    "power": 1.01,
    "branches": 0.6,
    "two_calls": 0.8,
    "swapped": 0.7,
    "loop_inside": 1.3,
}


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    return import_source(tmp_path_factory.mktemp("rec"), f"forward_rec_{next(_counter)}", SOURCE)


def reverse(f, *args):
    _, back = dpnb.pullback(f, *args)
    return back(1.0)


def grad_template(f, nargs=1, form="grad"):
    mask = (True,) + (False,) * (f.__code__.co_argcount - 1)
    return forward._template(f, mask, form)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_of_a_recursive_function_agrees_with_the_reverse_way_and_differences(m, name):
    f, x = getattr(m, name), CASES[name]
    got = dpnb.gradient(f, x)
    e = load.FUNCTIONS.get(id(f))
    assert e is not None and e.grad1, "forward mode was not taken"
    (want,) = reverse(f, x)[:1]
    assert math.isclose(got[0], want, rel_tol=1e-12, abs_tol=1e-12)
    (fd,) = numerical_gradient(f, x)
    assert math.isclose(got[0], fd, rel_tol=1e-6, abs_tol=1e-7), (got, fd)
    t = grad_template(f)
    assert t._dpnb_callee is not None, "the top form was written out again, not built on the callee's code"
    assert t._dpnb_callee is grad_template(f, form=False)


def test_the_callee_form_is_the_code_the_recursive_calls_run(m):
    f = m.power
    dpnb.gradient(f, 1.01)
    src = forward.source(f)
    assert src.count("def power_forward(") == 2 and "_me_forward(1.0, x, n)" in src


def test_int_arguments_given_too(m):
    got = dpnb.gradient(m.power, 1.01, 7)
    assert got[1] is None and math.isclose(got[0], 7 * 1.01**6, rel_tol=1e-12)
    assert load.FUNCTIONS[id(m.power)].gradn.get((float, int)), "forward mode was not taken"
    got = dpnb.gradient(m.branches, 0.6, 4)
    assert got[1] is None and math.isclose(got[0], reverse(m.branches, 0.6, 4)[0], rel_tol=1e-12)
    assert math.isclose(got[0], numerical_gradient(lambda x: m.branches(x, 4), 0.6)[0], rel_tol=1e-6, abs_tol=1e-7)


def test_the_pair_form(m):
    pair = forward.joined(m.two_calls, 1, "pair")
    y, (none, dy) = pair(0.8)
    assert none is None and y == m.two_calls(0.8)
    assert math.isclose(dy, reverse(m.two_calls, 0.8)[0], rel_tol=1e-12)
    assert math.isclose(dy, numerical_gradient(m.two_calls, 0.8)[0], rel_tol=1e-6, abs_tol=1e-7)


def test_a_result_that_carries_no_tangent_is_not_built_on_the_callee(m, tmp_path):
    mod = import_source(tmp_path, f"forward_rec_const_{next(_counter)}", """
        def f(x, n=3):
            if n <= 0:
                return 2.0
            f(x, n - 1)
            return 1.5
    """)
    # the top form written out says "a result that does not depend on the argument": not
    # forward mode; built on the callee's code, it would be
    assert grad_template(mod.f) is None
    assert dpnb.gradient(mod.f, 0.5) == reverse(mod.f, 0.5)[:1] == (None,)  # no path from x: exact


def test_a_result_that_is_constant_through_the_recursion(m):
    # forward mode cannot see that no tangent survives the calls: it computes a zero, and a zero
    # sends the call the reverse way, which sees that no cotangent reaches x: None (SPEC)
    assert dpnb.gradient(m.constant, 0.5) == (None,)
    assert dpnb.gradient(m.constant, 0.5) == (None,)  # again, from the cached code
    assert reverse(m.constant, 0.5)[0] is None


def test_a_function_that_does_not_call_itself_is_written_out(m):
    assert dpnb.gradient(m.not_itself, 2.0) == (3.0,)
    assert grad_template(m.not_itself)._dpnb_callee is None


def test_a_bail_in_the_callee_code_goes_the_reverse_way(m, tmp_path):
    mod = import_source(tmp_path, f"forward_rec_bail_{next(_counter)}", """
        K = 2.0
        def f(x, n=3):
            if n <= 0:
                return x * K
            return f(x * 1.5, n - 1) + x
    """)
    assert dpnb.gradient(mod.f, 1.0) == (1.5**3 * 2.0 + 1.5**2 + 1.5 + 1.0,)
    mod.K = (1, 2)  # not a number: the callee code bails out, the reverse way reports the error
    with pytest.raises(TypeError):
        dpnb.gradient(mod.f, 1.0)
    mod.K = 3.0
    assert dpnb.gradient(mod.f, 1.0) == (1.5**3 * 3.0 + 1.5**2 + 1.5 + 1.0,)


# --- random recursive functions: the top form through the callee's code against the reverse way
# and central differences

_LEAVES = ("x", "a", "y", "0.5", "1.25", "-0.75")
_UNARY = ("math.sin({})", "math.cos({})", "math.exp(0.3 * {})", "({}) * ({})", "-({})")
_BINARY = ("({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({}) * ({}))")


def _expr(rng, depth, names):
    if depth == 0 or rng.random() < 0.3:
        if rng.random() < 0.7:
            return str(rng.choice(sorted(names)))
        return str(rng.choice([n for n in _LEAVES if not n.isidentifier()]))
    if rng.random() < 0.4:
        u = str(rng.choice(_UNARY))
        inner = _expr(rng, depth - 1, names)
        return u.format(inner, inner) if u.count("{}") == 2 else u.format(inner)
    b = str(rng.choice(_BINARY))
    left, right = _expr(rng, depth - 1, names), _expr(rng, depth - 1, names)
    return b.format(left, right, right) if b.count("{}") == 3 else b.format(left, right)


def _recursive_source(rng):
    base = _expr(rng, 2, {"x"})
    pre = _expr(rng, 2, {"x"})
    arg = _expr(rng, 1, {"x", "a"})
    second = rng.random() < 0.4
    combine = _expr(rng, 2, {"x", "a", "y"})
    lines = [
        "import math",
        "",
        f"def f(x, n={int(rng.integers(1, 6))}):",
        "    if n <= 0:",
        f"        return x * ({base})",
        f"    a = {pre}",
        f"    y = f({arg}, n - 1)",
    ]
    if second:
        lines.append(f"    y = y + 0.5 * f({_expr(rng, 1, {'x', 'a'})}, n - 2)")
    lines.append(f"    return {combine} + y * x")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(100))
def test_random_recursive_functions(tmp_path, seed):
    import numpy as np

    rng = np.random.default_rng(1000 + seed)
    src = _recursive_source(rng)
    mod = import_source(tmp_path, f"forward_rec_random_{seed}_{next(_counter)}", src)
    x = float(rng.uniform(-1.2, 1.2))
    try:
        want = reverse(mod.f, x)[0]
    except (ZeroDivisionError, OverflowError, ValueError):
        pytest.skip("the function raises at this point")
    got = dpnb.gradient(mod.f, x)[0]
    assert load.FUNCTIONS[id(mod.f)].grad1, "forward mode was not taken:\n" + src
    assert grad_template(mod.f)._dpnb_callee is not None, src
    assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), f"{got} against the reverse way's {want}\n{src}"
    # differences of an oscillating or steep function are less exact: their own spread over two
    # steps bounds their error
    (fd,) = numerical_gradient(mod.f, x)
    (fd2,) = numerical_gradient(mod.f, x, eps=1e-5)
    tol = 1e-6 * (1 + abs(fd)) + 10 * abs(fd - fd2)
    assert abs(got - fd) <= tol, f"{got} against differences {fd} (and {fd2})\n{src}"
