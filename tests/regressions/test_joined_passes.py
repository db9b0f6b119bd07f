"""`gradient` of a function whose adjoint needs no context runs forward and backward pass as one
function (`dpnb.core.fuse`). It must give exactly what the general way gives, take the general
way whenever a context could be needed, and leave errors, tracebacks and refusals as they were."""
import math
import traceback
from fractions import Fraction

import numpy as np
import pytest

import dpnb
from dpnb import api
from dpnb.core import forward, load, results
from dpnb.errors import NonScalarOutputError
from dpnb.testing import numerical_gradient


def _joined(f, *args):
    return load.joined_instance(f, args, api._seed)


def _general(f, *args):
    """The gradient the general way: a pullback, seeded and finished as gradient finishes it."""
    y, back = dpnb.pullback(f, *args)
    bars = back(api._seed(y))
    return tuple(results.finish(b, a) for a, b in zip(args, bars))


def poly(x):
    return 3 * x**2 + 2 * x + 1


def wave(x):
    if x > 0:
        return math.sin(x) * math.exp(-x) + math.log(1 + x * x)
    return math.cos(x) * x


def power_loop(x, n=7):
    r = 1.0
    for _ in range(n):
        r *= x
    return r


def while_loop(x):
    k = 0
    s = x
    while s < 100.0:
        s = s * x + math.sqrt(s)
        k += 1
    return s / k


def two_args(x, y):
    z = x * y
    if z > 1:
        z = z - math.tanh(y)
    return z * x


def with_lambda(x):
    g = lambda t: t * x  # noqa: E731
    return g(3.0) + x


def early_returns(x):
    if x < 0:
        return -x
    for i in range(3):
        if x > 10:
            return x * i
        x = x * 2.0
    return x


def nested_loops(x):
    s = 0.0
    for i in range(3):
        t = x
        for j in range(i + 1):
            t = t * math.cos(t) + j
        s += t
    return s


def tried(x):
    try:
        y = x * x / (x - 1)
    except ZeroDivisionError:
        y = x
    return y


CASES = [
    (tried, (2.5,)),
    (tried, (1,)),
    (poly, (0.7,)),
    (poly, (3,)),
    (poly, (Fraction(1, 3),)),
    (poly, (np.float64(1.5),)),
    (wave, (0.7,)),
    (wave, (-0.4,)),
    (power_loop, (1.1,)),
    (power_loop, (1.1, 4)),
    (while_loop, (1.5,)),
    (two_args, (1.3, 0.4)),
    (two_args, (2.0, 3.0)),
    (with_lambda, (0.3,)),
    (early_returns, (-2.0,)),
    (early_returns, (0.5,)),
    (early_returns, (4.0,)),
    (nested_loops, (0.3,)),
]


@pytest.mark.parametrize("f, args", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)])
def test_joined_gives_what_the_general_way_gives(f, args):
    load.refresh()
    want = _general(f, *args)
    got = dpnb.gradient(f, *args)
    if len(args) == 1 and type(args[0]) is float and forward.joined(f, 1) is not None:
        # one float: forward mode (`core.forward`), which sums in another order than the reverse
        # way: the same to the last bits
        assert np.allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=1e-14, atol=0)
    else:
        assert got == want or np.allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=0, atol=0)
    assert [type(g) for g in got] == [type(w) for w in want]
    assert dpnb.withgradient(f, *args) == (f(*args), got)
    if all(isinstance(a, float) for a in args):
        num = numerical_gradient(f, *args)
        assert np.allclose(got, num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, args", [(poly, (0.7,)), (wave, (0.7,)), (power_loop, (1.1,)), (two_args, (1.0, 2.0)), (tried, (2.5,))])
def test_these_are_joined(f, args):
    # the test above proves nothing about the joined function unless it ran
    load.refresh()
    assert _joined(f, *args) is not None


def test_recursion_and_calls_are_not_joined():
    def rec(x, n):
        return 1.0 if n <= 0 else x * rec(x, n - 1)

    def calls(x):
        return poly(x) * 2

    assert _joined(rec, 1.1, 3) is None
    assert dpnb.gradient(rec, 1.1, 3) == (pytest.approx(3 * 1.1**2), None)
    # a function of one float runs forward mode, calls and recursion included
    assert _joined(calls, 1.1) is forward.joined(calls, 1) is not None
    assert dpnb.gradient(calls, 1.1) == (pytest.approx(2 * (6 * 1.1 + 2)),)


G = 2.5


def reads_a_global(x):
    return G * x * x


def test_a_differentiable_global_is_not_joined():
    # its cotangent goes to the context's leaves (for `Params`): the general way, but for one
    # float, where forward mode computes the derivative in x alone
    assert _joined(reads_a_global, 1) is None
    assert dpnb.gradient(reads_a_global, 1) == (5.0,)
    assert _joined(reads_a_global, 1.0) is forward.joined(reads_a_global, 1) is not None
    assert dpnb.gradient(reads_a_global, 1.0) == (5.0,)


def test_a_rebound_inline_rule_bails_out_to_the_general_way(monkeypatch):
    load.refresh()
    assert dpnb.gradient(wave, 0.7) == pytest.approx((0.9994976694366673,))
    assert _joined(wave, 0.7) is not None
    calls = []

    def my_sin(t):
        calls.append(t)
        return t

    monkeypatch.setattr(math, "sin", my_sin)
    # d/dx [x * exp(-x) + log(1 + x^2)]
    x = 0.7
    want = math.exp(-x) - x * math.exp(-x) + 2 * x / (1 + x * x)
    (g,) = dpnb.gradient(wave, x)
    assert g == pytest.approx(want)
    # the joined function stopped before calling the rebound function: it ran once
    assert calls == [x]
    # and from now on the general way is taken at once
    assert _joined(wave, 0.7) is None
    calls.clear()
    assert dpnb.gradient(wave, x) == pytest.approx((want,))
    assert calls == [x]


def test_changed_defaults_are_seen():
    def f(x, n=2):
        r = 1.0
        for _ in range(n):
            r *= x
        return r

    assert dpnb.gradient(f, 2.0) == (4.0,)
    f.__defaults__ = (3,)
    assert dpnb.gradient(f, 2.0) == (12.0,)


def test_redefined_function_is_seen():
    ns = {}
    src = "def f(x):\n    return {} * x * x\n"
    import linecache

    for k in (2, 5):
        text = src.format(k)
        name = f"<joined-redefinition-{k}>"
        linecache.cache[name] = (len(text), None, text.splitlines(True), name)
        exec(compile(text, name, "exec"), ns)
        assert dpnb.gradient(ns["f"], 1.0) == (2.0 * k,)


def test_a_non_scalar_result_is_refused_the_same_way():
    def f(x):
        return (x, x)

    with pytest.raises(NonScalarOutputError):
        dpnb.gradient(f, 1.0)


def test_an_error_in_the_forward_pass_names_the_users_line():
    def f(x):
        y = x * 2
        return math.log(y - 10)  # the failing line

    with pytest.raises(ValueError) as info:
        dpnb.gradient(f, 1.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(fr.filename == __file__ and "the failing line" in (fr.line or "") for fr in frames)


def test_a_second_derivative_still_differentiates_the_general_way():
    # the joined function of poly exists first: differentiated, gradient must not follow it
    assert dpnb.gradient(poly, 0.3) == (pytest.approx(3.8),)
    assert _joined(poly, 0.3) is not None
    # d²/dx² of 3x² + 2x + 1
    assert dpnb.gradient(lambda x: dpnb.gradient(poly, x)[0], 0.3) == (6.0,)
    assert dpnb.gradient(lambda x: dpnb.gradient(wave, x)[0] * x, 0.3) == (pytest.approx(
        numerical_gradient(lambda x: dpnb.gradient(wave, x)[0] * x, 0.3)[0], rel=1e-6),)
    assert dpnb.hessian(wave, 0.7) == pytest.approx(
        (numerical_gradient(lambda x: dpnb.gradient(wave, x)[0], 0.7)[0]), rel=1e-5
    )


def test_an_integer_result_is_seeded():
    def f(x):
        return 3 * x

    assert dpnb.gradient(f, 2) == (3.0,)


def guarded_sin(x):
    try:
        return math.sin(x) * x
    except Exception:
        return 0.0


def test_a_bail_out_is_never_caught_by_the_users_except(monkeypatch):
    assert dpnb.gradient(guarded_sin, 0.5) == pytest.approx((math.cos(0.5) * 0.5 + math.sin(0.5),))
    monkeypatch.setattr(math, "sin", lambda t: t * t)
    # d/dx x^3 at 0.5
    assert dpnb.gradient(guarded_sin, 0.5) == pytest.approx((0.75,))



def test_the_rebound_case_is_folded_away():
    # joined, `wave` keeps no pullback variables of its inline rules (`_t2_pb1`, ...): the case
    # in which they would be set bails out instead
    load.refresh()
    j = _joined(wave, 0.7)
    assert j is not None
    assert not [v for v in j.__code__.co_varnames if "_pb" in v]
    assert "_call_num" not in j.__code__.co_freevars
