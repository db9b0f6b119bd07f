"""`gradient(f, x, n)` with one float and ints (a count, a depth) runs forward mode when no
cotangent can reach the ints (`inert.joined_ints`, `inert.int_args_inert`): the ints get None,
as the reverse way gives them. Every answer is checked against the reverse way (`pullback`, which
never takes forward mode), None for None, and against central differences in x; an int that a
cotangent can reach must take the reverse way, whatever path it takes to the result. Random
programs mixing x and n in loops, branches, lists and recursion check the analysis against the
reverse way's answer."""
import math
import random
import textwrap

import pytest
from _regress_check import import_source

import dpnb
from dpnb.bench import scaling
from dpnb.core import forward, inert, load
from dpnb.testing import numerical_gradient


def reverse(f, *args):
    _, back = dpnb.pullback(f, *args)
    return back(1.0)


def took_forward(f, *args):
    e = load.FUNCTIONS.get(id(f))
    return bool(e is not None and e.gradn.get(tuple(map(type, args))))


def check(f, *args, forward=True):
    got = dpnb.gradient(f, *args)
    assert took_forward(f, *args) is forward, "forward mode was not taken" if forward else "it was"
    want = reverse(f, *args)
    assert len(got) == len(want)
    pos = [type(a) for a in args].index(float)
    for i, (g, w) in enumerate(zip(got, want)):
        if i != pos:
            assert (g is None) == (w is None), f"argument {i}: {g!r} against the reverse way's {w!r}"
        if w is None or g is None:
            continue
        assert abs(g - w) <= 1e-9 * (1 + abs(w)), (i, g, w)
    num = numerical_gradient(lambda x: f(*args[:pos], x, *args[pos + 1:]), args[pos])[0]
    g = 0.0 if got[pos] is None else got[pos]
    assert abs(g - num) <= 1e-5 * (1 + abs(num)), (g, num)
    assert dpnb.gradient(f, *args) == got  # the cached way gives the same
    return got


# (the loop, the list and the recursion of the benchmark's scaling families are `sin_loop`,
# `append_loop` and `power_rec` of `dpnb.bench.scaling`, joined to this module below)
SOURCE = '''
import math


def n_first(n, x):
    s = x
    for _ in range(n):
        s = s * x + 1.0
    return s


def branch_on_n(x, n, m):
    if n > m:
        return x * x
    y = x
    k = 0
    while k < m:
        y = math.cos(y)
        k += 1
    return y


def list_read_back(x, n):
    xs = []
    for i in range(n):
        xs.append(x ** i)
    return xs[-1] + xs[0] * len(xs)


def times_n(x, n):
    return x * n


def float_of_n(x, n):
    return x + float(n)


def power_n(x, n):
    return x ** n


def zero_times_n(x, n):
    return math.sin(x) + 0 * n


def appended_n(x, n):
    xs = []
    xs.append(x)
    xs.append(n)
    return sum(xs)


def n_through_index(x, n):
    k = n - 1
    s = x
    for i in range(k):
        s = s + x * i
    return s + k


def rec_with_n_in_x_place(x, n):
    if n <= 0:
        return x
    return rec_with_n_in_x_place(x + n, n - 1)


def helper(n):
    return n * 2


def through_helper(x, n):
    return x * helper(n)


def fills(acc, n):
    acc.append(n)
    return 0.0


def mutates_a_list(x, n, acc):
    fills(acc, n)
    return x * 2.0


def escaping_list(x, n):
    xs = []
    for i in range(n):
        xs.append(x * i)
    ys = xs
    return sum(ys)
'''


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    mod = import_source(tmp_path_factory.mktemp("intargs"), "intargs_mod", SOURCE)
    mod.sin_loop, mod.append_loop, mod.power_rec = scaling.sin_loop, scaling.append_loop, scaling.power_rec
    return mod


@pytest.mark.parametrize("name, args", [
    ("sin_loop", (0.3, 7)), ("sin_loop", (0.3, 0)), ("append_loop", (0.3, 9)), ("power_rec", (1.01, 12)),
    ("n_first", (4, 0.7)), ("branch_on_n", (0.4, 3, 5)), ("branch_on_n", (0.4, 6, 2)), ("list_read_back", (1.3, 4)),
])
def test_forward_mode_where_no_cotangent_reaches_the_ints(m, name, args):
    got = check(getattr(m, name), *args)
    assert all(g is None for g, a in zip(got, args) if type(a) is int)


@pytest.mark.parametrize("name, args", [
    ("times_n", (0.3, 4)), ("float_of_n", (0.3, 4)), ("power_n", (1.3, 3)), ("zero_times_n", (0.3, 4)),
    ("appended_n", (0.3, 4)), ("rec_with_n_in_x_place", (0.3, 4)), ("through_helper", (0.3, 4)),
    ("n_through_index", (0.5, 6)),
])
def test_the_reverse_way_where_a_cotangent_reaches_an_int(m, name, args):
    got = check(getattr(m, name), *args, forward=False)
    assert any(g is not None for g, a in zip(got, args) if type(a) is int)


def test_a_parameter_filled_with_what_the_int_makes_is_not_inert(m):
    # (a list argument is not a float or an int: `gradient` never asks; the analysis must say no)
    f = m.mutates_a_list
    assert not inert.int_args_inert(f, forward._ssa_body(f)[0], {"n"})
    assert inert.int_args_inert(m.sin_loop, forward._ssa_body(m.sin_loop)[0], {"n"})


def test_a_list_that_escapes_its_appends_takes_the_reverse_way(m):
    check(m.escaping_list, 0.3, 5, forward=False)


def test_deep_recursion_in_forward_mode(m):
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        check(m.power_rec, 1.0001, 2000)
    finally:
        sys.setrecursionlimit(limit)


# --- random programs ---------------------------------------------------------------------------

_STATEMENTS = [
    "s = s + math.sin(x * i)",
    "s = s * 0.5 + x",
    "k = k + i",
    "k = k * 2 - n",
    "s = s + k * 0.1",            # a value made from n meets x's: a cotangent reaches n
    "s = s + x * k",
    "t = float(k)",
    "xs.append(s)",
    "xs.append(k)",
    "if k > n:\n    s = s - x",
    "if s > 0.0:\n    k = k + 1",
    "s = s + len(xs) * x",
    "s = s + xs[-1] if xs else s",
]


def _program(rng, name):
    lines = [f"def {name}(x, n):", "    s = x", "    k = 0", "    t = 0.0", "    xs = []"]
    for _ in range(rng.randint(1, 5)):
        body = [rng.choice(_STATEMENTS) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.7:
            lines.append(f"    for i in range({rng.choice(['n', 'n - 1', '3', 'k % 4'])}):")
            indent = "        "
        else:
            lines.append("    i = 2")
            indent = "    "
        for st in body:
            lines.extend(indent + ln for ln in st.splitlines())
    lines.append(f"    return {rng.choice(['s', 's + t', 's + sum(xs)', 's * t + 1.0', 'sum(xs) + x'])}")
    return "\n".join(lines)


def test_random_programs_agree_with_the_reverse_way(tmp_path):
    rng = random.Random(11)
    sources = [_program(rng, f"p{i}") for i in range(400)]
    mod = import_source(tmp_path, "intargs_random", "import math\n\n\n" + "\n\n\n".join(sources) + "\n")
    taken = 0
    for i, src in enumerate(sources):
        f = getattr(mod, f"p{i}")
        for n in (0, 3):
            try:
                f(0.37, n)
            except Exception:
                continue
            try:
                got = dpnb.gradient(f, 0.37, n)
            except Exception as e:  # the reverse way refuses too: fine, if it does
                with pytest.raises(type(e)):
                    reverse(f, 0.37, n)
                continue
            taken += took_forward(f, 0.37, n)
            want = reverse(f, 0.37, n)
            assert (got[1] is None) == (want[1] is None), f"{textwrap.indent(src, '  ')}\nn: {got[1]!r} against {want[1]!r}"
            if want[1] is not None:
                assert abs(got[1] - want[1]) <= 1e-9 * (1 + abs(want[1])), src
            g, w = (0.0 if v is None else v for v in (got[0], want[0]))
            assert abs(g - w) <= 1e-9 * (1 + abs(w)) or (math.isnan(g) and math.isnan(w)), f"{src}\n{g!r} against {w!r}"
            num = numerical_gradient(lambda x: f(x, n), 0.37)[0]
            assert abs(g - num) <= 1e-5 * (1 + abs(num)), f"{src}\n{g!r} against differences {num!r}"
    assert taken >= 40, f"forward mode took only {taken} of the programs"
