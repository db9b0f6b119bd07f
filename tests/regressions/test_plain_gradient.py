"""`gradient` of small array code as plain code on names (`dpnb.core.plain`): every answer is
checked against the general way (`pullback`, whose pullback never takes this path) and against
central differences; every case outside the subset must go the general way and be right there."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_hessian_forward_over_reverse import _fn, _load, programs

import dpnb
from dpnb.core import load, plain
from dpnb.rules import registry
from dpnb.testing import numerical_gradient


def general(f, *args):
    """The gradient the general way (a pullback never runs the plain code)."""
    _, back = dpnb.pullback(f, *args)
    return back(1.0)


def took_plain(f, nargs):
    e = load.FUNCTIONS.get(id(f))
    return e is not None and nargs in e.plain


def assert_close(got, want, rtol=1e-10):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert type(g) is type(w), (type(g), type(w))
        if isinstance(w, np.ndarray):
            assert g.shape == w.shape and g.dtype == w.dtype
        scale = max(1.0, float(np.max(np.abs(w))))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale)


def check(f, *args, fd=True, plain_way=True):
    """`gradient` takes the plain way and agrees with the general way and with differences."""
    before = [np.copy(a) for a in args]
    got = dpnb.gradient(f, *args)
    assert took_plain(f, len(args)) is plain_way, "the plain way was not taken" if plain_way else "it was"
    want = general(f, *args)
    assert_close(got, want)
    if fd:
        num = numerical_gradient(f, *args)
        for g, n in zip(got, num):
            g = 0.0 if g is None else g
            scale = max(1.0, float(np.max(np.abs(n))))
            np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-5 * scale)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)  # the caller's arrays are not changed
    # each array handed back is an array of its own: not an argument, not another answer
    arrays = [g for g in got if isinstance(g, np.ndarray)]
    for i, g in enumerate(arrays):
        assert g.base is None and g.flags.writeable
        assert all(g is not a for a in args)
        assert all(g is not h for h in arrays[i + 1:])
    # and withgradient's value is the plain call's
    y, again = dpnb.withgradient(f, *args)
    assert y == f(*args)
    assert_close(again, got, rtol=0)
    return got


# ======================================================================================
# 1. random programs (the generator of the forward-over-reverse tests)
# ======================================================================================


class writing_in_place:
    """The plain code that writes into arrays nothing else holds, for arrays of any size (it is
    built for `plain.IN_PLACE_FROM` entries and more)."""

    def __enter__(self):
        self.old = plain.IN_PLACE_FROM
        plain.IN_PLACE_FROM = 0

    def __exit__(self, *exc):
        plain.IN_PLACE_FROM = self.old


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(programs())
def test_random_programs_one_argument(prog):
    f, _ = _load(prog.source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(f, prog.x)
        with writing_in_place():
            check(f, prog.x)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(programs())
def test_random_programs_two_arguments_through_an_inline_call(prog):
    # g(x, y) calls the program's function (same module: written inline) with a mix of both
    src = prog.source + "\n\ndef g(x, y):\n    z = x * y + x\n    return f(z) + np.sum(y * y)\n"
    g, _ = _load(src, name="g")
    rng = np.random.default_rng(1)
    y = np.round(rng.uniform(-1.0, 1.0, size=prog.x.shape), 3)
    # (a program with constants in closure cells or array defaults is not written inline, and g
    # goes the general way: both ways are checked the same)
    inline = plain.function(g, 2) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(g, prog.x, y, plain_way=inline)
        with writing_in_place():
            check(g, prog.x, y, plain_way=inline)


# ======================================================================================
# 2. named cases
# ======================================================================================

RNG = np.random.default_rng(7)
W = np.round(RNG.standard_normal((4, 3)), 3)
X = np.round(RNG.standard_normal(3), 3)
B = np.round(RNG.standard_normal(4), 3)


def test_affine():
    f = _fn("return np.sum(W @ x + b)", params="W, x, b")
    got = check(f, W, X, B)
    np.testing.assert_array_equal(got[0], np.outer(np.ones(4), X))
    np.testing.assert_array_equal(got[2], np.ones(4))


@pytest.mark.parametrize("body", [
    "return np.sum(x @ W.T)",                     # 1-d @ 2-d
    "return np.sum(W @ x) * 2.0",                 # 2-d @ 1-d, the repeated number scaled
    "return np.sum(np.outer(x, x) @ x)",          # not in the subset: falls back (np.outer)
    "return np.dot(x, x)",                        # 1-d @ 1-d
    "return np.sum(W.T @ W @ x)",                 # 2-d @ 2-d
    "return np.mean(np.tanh(W @ x) ** 2)",
])
def test_matmul_cases(body):
    f = _fn(body, env={"W": W})
    if "outer" in body:
        got = dpnb.gradient(f, X)
        assert not took_plain(f, 1)
        assert_close(got, general(f, X))
        np.testing.assert_allclose(got[0], numerical_gradient(f, X)[0], rtol=1e-6, atol=1e-8)
        return
    check(f, X)


def test_mlp_as_a_function():
    f = _fn("""
h = np.tanh(x @ W1 + b1)
out = h @ W2 + b2
return np.mean((out - y) ** 2)
""", params="W1, b1, W2, b2, x, y")
    rng = np.random.default_rng(3)
    args = (rng.standard_normal((5, 4)) / 2, np.zeros(4), rng.standard_normal((4, 2)) / 2, np.zeros(2),
            rng.standard_normal((6, 5)), rng.standard_normal((6, 2)))
    check(f, *args)


def test_branch_each_way():
    f = _fn("""
if np.sum(x) > 0:
    y = np.sum(x * x)
else:
    y = np.sum(np.sin(x))
return y
""")
    check(f, np.array([0.5, 0.25]))
    check(f, np.array([-0.5, 0.25]))


def test_float_and_array_arguments():
    f = _fn("return np.sum(np.sin(x) * s + x ** 2) * s", params="x, s")
    got = check(f, X, 1.5)
    assert type(got[1]) is float


def test_same_array_twice():
    f = _fn("return np.sum(x * y)", params="x, y")
    got = check(f, X, X)
    assert got[0] is not got[1]


def test_sum_gradient_of_two_arguments_is_two_arrays():
    f = _fn("return np.sum(x + y)", params="x, y")
    got = check(f, X, X * 2)
    assert got[0] is not got[1]
    np.testing.assert_array_equal(got[0], np.ones(3))


def test_argument_without_influence():
    f = _fn("return np.sum(x * 2.0)", params="x, y")
    got = check(f, X, X)
    assert got[1] is None


def test_defaults_and_closure_cells_read_each_call():
    f, ns = _load("def make(c):\n    def f(x, k=2.0):\n        return np.sum(x * c * k)\n    return f\n", name="make")
    g = f(3.0)
    np.testing.assert_array_equal(check(g, X)[0], np.full(3, 6.0))
    g2 = f(5.0)
    np.testing.assert_array_equal(check(g2, X)[0], np.full(3, 10.0))
    g.__defaults__ = (4.0,)
    np.testing.assert_array_equal(check(g, X)[0], np.full(3, 12.0))


def test_global_changed_between_calls():
    f, ns = _load("K = 2.0\n\ndef f(x):\n    return np.sum(x * K)\n")
    np.testing.assert_array_equal(check(f, X)[0], np.full(3, 2.0))
    ns["K"] = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(check(f, X)[0], [1.0, 2.0, 3.0])
    ns["K"] = np.array([1.0, 2.0], dtype=complex)  # not a real array: the general way
    with pytest.raises(Exception):
        dpnb.gradient(f, X)


def test_redefined_function_is_seen():
    import linecache
    import itertools

    ns = {"np": np, "__name__": "plain_redefined"}
    for n, (body, want) in zip(itertools.count(), [("x * x", 2 * X), ("x * x * x", 3 * X**2), ("x * 4.0", np.full(3, 4.0))]):
        src = f"def f(x):\n    return np.sum({body})\n"
        filename = f"<plain-redefined-{n}>"
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        exec(compile(src, filename, "exec"), ns)
        np.testing.assert_allclose(check(ns["f"], X)[0], want, rtol=1e-12)


def test_rebound_numpy_function_goes_the_general_way(monkeypatch):
    f = _fn("return np.sum(np.sin(x))")
    check(f, X)
    want = -np.sin(X)  # the derivative of cos, taken before np.sin is rebound to it
    monkeypatch.setattr(np, "sin", np.cos)
    got = dpnb.gradient(f, X)
    np.testing.assert_allclose(got[0], want, rtol=1e-12)


def test_user_rule_is_used():
    f = _fn("return np.sum(np.sin(x) * x)")
    check(f, X)
    registry.lookup(np.sin)
    saved = dict.get(registry.RULES, np.sin)
    scalar = registry.SCALAR_RULES.get(np.sin)
    closed = np.sin in registry.NUMBER_CLOSED
    try:
        dpnb.adjoint(np.sin)(lambda a: (np.sin(a), lambda d: (2.0 * d * np.cos(a),)))
        got = dpnb.gradient(f, X)  # the user's rule: d sin = 2 cos
        np.testing.assert_allclose(got[0], 2 * np.cos(X) * X + np.sin(X), rtol=1e-12)
    finally:
        registry.RULES[np.sin] = saved
        if scalar is not None:
            registry.SCALAR_RULES[np.sin] = scalar
        if closed:
            registry.NUMBER_CLOSED.add(np.sin)
        registry._changed(np.sin)
    np.testing.assert_allclose(dpnb.gradient(f, X)[0], np.cos(X) * X + np.sin(X), rtol=1e-12)


@pytest.mark.parametrize("x", [X.astype(np.float32), X.astype(int), X.astype(complex), np.ones(9)],
                         ids=["float32", "int", "complex", "more than MAX_ENTRIES"])
def test_other_arrays_go_the_general_way(x, monkeypatch):
    if x.dtype == float:
        monkeypatch.setattr(plain, "MAX_ENTRIES", 8)
    f = _fn("return np.real(np.sum(x * x))")
    got = dpnb.gradient(f, x)
    assert not took_plain(f, 1)
    assert_close(got, general(f, x))
    # 2x (for a complex x: 2x too, the conjugate of d/dRe + i d/dIm, as dpnb.testing's differences)
    np.testing.assert_allclose(got[0], 2 * x, rtol=1e-6)


def test_array_subclass_goes_the_general_way():
    class Sub(np.ndarray):
        pass

    f = _fn("return np.sum(x * x)")
    x = X.view(Sub)
    with pytest.raises(Exception):
        dpnb.gradient(f, x)  # the general way refuses an ndarray subclass
    assert not took_plain(f, 1)


def test_non_scalar_result_is_the_general_ways_error():
    from dpnb.errors import NonScalarOutputError

    f = _fn("return x * 2.0")
    with pytest.raises(NonScalarOutputError):
        dpnb.gradient(f, X)


def test_error_is_reported_from_the_users_line():
    import traceback

    f = _fn("y = x @ W\nreturn np.sum(y)", env={"W": np.ones((4, 2))})
    with pytest.raises(ValueError) as info:
        dpnb.gradient(f, X)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(fr.filename == f.__code__.co_filename and fr.lineno == f.__code__.co_firstlineno + 1 for fr in frames)


def test_exception_in_the_users_code_raises_once_the_general_way():
    f = _fn("return np.sum(np.log(x)) + 1.0 / s", params="x, s")
    with pytest.raises(ZeroDivisionError):
        dpnb.gradient(f, X, 0.0)


@pytest.mark.parametrize("c", [1.0, -2.5, 0.0])
def test_repeated_number_outer_product_is_exact(c):
    from dpnb.core import fwdrev

    u = fwdrev._p_sum_bar(c, np.ones(5), None, False)
    v = np.array([0.3, -1.0, np.inf, -0.0, np.nan])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(fwdrev._p_outer(u, v), np.multiply.outer(np.full(5, c), v))
        np.testing.assert_array_equal(fwdrev._p_outer(v, u), np.multiply.outer(v, np.full(5, c)))
    assert not u.flags.writeable


def test_source_is_plain_code():
    f = _fn("return np.sum(W @ x + b)", params="W, x, b")
    src = plain.source(f, 3)
    assert "_ctx" not in src and "_acc" not in src and "return (" in src
    assert math.isfinite(float(dpnb.gradient(f, W, X, B)[1].sum()))


def test_star_args_function_is_read_with_plain_parameters():
    # `lambda *w: f(*w, x)` is read as a function of as many plain parameters as it is given (as the
    # general way compiles it), so it runs the same plain code as the explicit form
    f, ns = _load("""
X0 = np.array([0.3, -0.2, 0.5])

def affine(W, b, x):
    return np.sum(np.tanh(W @ x + b))

star = lambda *w: affine(*w, X0)
explicit = lambda W, b: affine(W, b, X0)
""", name="star")
    got = check(f, W, B)
    want = dpnb.gradient(ns["explicit"], W, B)
    assert_close(got, want, rtol=0)
    # a *args function whose tuple is read as a whole goes the general way, right all the same
    g = _fn("return np.sum(w[0] * w[1])", params="*w")
    got = dpnb.gradient(g, X, X * 2.0)
    assert_close(got, general(g, X, X * 2.0))
    np.testing.assert_allclose(got[0], X * 2.0, rtol=1e-12)
    np.testing.assert_allclose(got[1], X, rtol=1e-12)


def test_values_are_let_go_after_their_last_read():
    """The plain code frees each value once nothing further reads it: its peak memory is about the
    hand-written gradient's (it held every value and cotangent at once: 2.7x at 10**4 entries)."""
    import tracemalloc

    f = _fn("return np.sum(np.sin(x) * np.exp(x) / (1 + x ** 2))")

    def by_hand(x):
        s, e = np.sin(x), np.exp(x)
        d = 1 + x**2
        return ((np.cos(x) * e + s * e) / d - s * e * 2 * x / d**2,)

    def peak(fn, x):
        fn(x)
        tracemalloc.start()
        tracemalloc.reset_peak()
        fn(x)
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p

    x = np.linspace(-1.0, 1.0, 10**4)
    assert plain.applies((x,))
    mine = peak(lambda v: dpnb.gradient(f, v), x)
    assert took_plain(f, 1)
    assert mine <= 1.3 * peak(by_hand, x)


def test_in_place_only_into_an_array_nothing_else_holds():
    """`t = a * b` with `a` let go after it writes into `a` when nothing else holds it (its
    reference count), and never when another name or a view does."""
    into = plain._INTO["_into_multiply"]
    two = np.full(4, 2.0)

    def sole():
        a = np.ones(4)
        ident = id(a)
        r = into(a, two, 0)
        return r, ident

    r, ident = sole()
    assert id(r) == ident and np.all(r == 2.0)  # written into `a`

    a = np.ones(4)
    other = a  # another name
    r = into(a, two, 0)
    assert r is not a and np.all(other == 1.0)

    def with_view():
        a = np.ones(4)
        v = a[:2]  # a view holds `a`
        r = into(a, two, 0)
        return r, a, v

    r, a, v = with_view()
    assert r is not a and np.all(v == 1.0)

    def right_side():
        b = np.full(4, 3.0)
        ident = id(b)
        r = plain._INTO["_into_subtract"](two, b, 1)
        return r, ident

    r, ident = right_side()
    assert id(r) == ident and np.all(r == -1.0)
    # another shape or dtype: a new array, as written
    assert into(np.ones(4, dtype=np.float32), two, 0).dtype == np.float64


def test_a_value_read_back_only_for_its_shape_is_let_go_after_the_forward_pass():
    # `x @ W` is read back only to un-broadcast `+ b`'s cotangent: its shape is kept, not the
    # array, which `+ b` may then be written into; the mean's operand likewise
    f = _fn("return np.mean(np.tanh(x @ W + b) ** 2)", params="x, W, b")
    x, W, b = np.random.default_rng(3).standard_normal((5, 4)), np.random.default_rng(4).standard_normal((4, 3)), np.ones(3)
    check(f, x, W, b)
    src = plain.source(f, 3)
    assert src.count("_p_shape(") >= 2 and "_p_unb(" in src  # (the others still need the entries)
    lines = src.splitlines()
    made = next(i for i, ln in enumerate(lines) if " @ " in ln and "=" in ln)
    target = lines[made].split("=")[0].strip()
    dropped = next(i for i, ln in enumerate(lines) if ln.strip().startswith(f"{target} = None") or f" {target} = None" in ln
                   or (ln.strip().endswith("= None") and target in ln.split("=")[:-1][0]))
    seed = next(i for i, ln in enumerate(lines) if "_seed" in ln)
    assert dropped < seed, "the product is held into the backward pass"


# `a @ b`'s cotangents in the plain code are two calls (`_p_mm_a`, `_p_mm_b`) that tell the four
# cases of rank apart when they run: each case with both operands active, the same array on both
# sides, a repeated number (a sum's cotangent) coming in, and the Hessian forward over reverse
# (the tangent rules of the two calls) against differences of the gradient.
MM_A = {1: np.array([0.3, -1.2, 0.7]), 2: np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])}
MM_B = {1: np.array([0.9, -0.2, 1.4]), 2: np.array([[0.9, -0.2], [-0.3, 1.4], [0.6, 0.25]])}


@pytest.mark.parametrize("nda,ndb", [(1, 1), (1, 2), (2, 1), (2, 2)])
@pytest.mark.parametrize("body", ["np.sum(a @ b)", "np.sum(np.tanh(a @ b) ** 2)", "np.sum(np.sin(a) @ (b * b))"])
def test_matmul_cotangents_in_each_rank(nda, ndb, body):
    f = _fn(f"return {body}", params="a, b")
    check(f, MM_A[nda], MM_B[ndb])


@pytest.mark.parametrize("body", ["return x @ x", "return np.sum(x @ x)", "return np.sum(np.tanh(x @ x.T) @ x)"])
@pytest.mark.parametrize("nd", [1, 2])
def test_matmul_of_an_array_with_itself(body, nd):
    x = np.array([0.3, -1.2, 0.7]) if nd == 1 else np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [0.2, 0.9, -0.8]])
    if (nd == 2) == (body == "return x @ x") and body != "return np.sum(x @ x)":
        pytest.skip("not a number (2-d x @ x), or not defined (1-d: tanh of a number @ x)")
    check(_fn(body), x)


@pytest.mark.parametrize("body", ["return np.sum(np.tanh(x @ W) ** 2)", "return np.sum(np.sin(W @ x) * x[0])",
                                  "return np.sum((x @ x) * (W @ x))", "return np.tanh(x @ W) @ np.sin(W @ x)"])
def test_hessian_through_the_matmul_cotangents(body):
    W = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [0.2, 0.9, -0.8]])
    f = _fn(body, env={"W": W})
    x = np.array([0.4, -0.7, 1.3])
    from dpnb.core import fwdrev

    assert "_p_mm_" in fwdrev.source(f) and "_J_mm_" in fwdrev.source(f)
    H = fwdrev.hessian(f, x)  # forward over reverse, batched
    np.testing.assert_allclose(H, dpnb.hessian(f, x), rtol=1e-12, atol=1e-14)
    eps = 1e-6
    cols = [(dpnb.gradient(f, x + eps * e)[0] - dpnb.gradient(f, x - eps * e)[0]) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(H, np.array(cols).T, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-12)


# A callee written inline is read into SSA form once, in forward mode's cache (`forward._ssa_of`),
# keyed by its code: a function of the same code in other globals (where `m.sin` is another
# function) is read again in its own, on the plain way and on forward mode's.
def _twin_callee(x):
    return m.sin(x) * 2.0


def _twin_top(x):
    return np.sum(_twin_callee(x) * x)


m = np


def test_functions_of_the_same_code_in_other_globals():
    import types

    fake = types.ModuleType("fake")
    fake.sin = np.cos
    other = {"m": fake, "np": np, "__builtins__": __builtins__}
    other["_twin_callee"] = types.FunctionType(_twin_callee.__code__, other, "_twin_callee")
    top2 = types.FunctionType(_twin_top.__code__, other, "_twin_top")
    x = np.array([0.5, -1.0])
    for _ in range(2):
        np.testing.assert_allclose(dpnb.gradient(_twin_top, x)[0], 2 * np.sin(x) + 2 * x * np.cos(x), rtol=1e-12)
        np.testing.assert_allclose(dpnb.gradient(top2, x)[0], 2 * np.cos(x) - 2 * x * np.sin(x), rtol=1e-12)
        assert dpnb.gradient(_twin_callee, 0.5)[0] == pytest.approx(2 * math.cos(0.5))
        assert dpnb.gradient(other["_twin_callee"], 0.5)[0] == pytest.approx(-2 * math.sin(0.5))
