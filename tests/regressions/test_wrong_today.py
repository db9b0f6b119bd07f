"""Wrong gradients of ordinary Python: rebinding, aliases, scopes, mutation through aliases.

Each test states what the old core did in a `Today:` line; the expected values are
derived by hand (and say how) or computed by central differences.
"""
import colorsys
import contextlib
import copy
import math

import numpy as np
import pytest

from dpnb import gradient

try:
    from ._regress_check import check_fd, expect_grad
except ImportError:
    from _regress_check import check_fd, expect_grad


# -- 1. a parameter rebound, then used beside a global ----------------------------------

C = 2 / 3


def hue_times(m, hue):
    hue = hue * 1.0
    return m * (C - hue)


def hue_mod(m, hue):
    hue = hue % 1.0
    return m * (C - hue)


def hue_augmented(m, hue):
    hue += 0.0
    return m * (C - hue)


@pytest.mark.parametrize("f", [hue_times, hue_mod, hue_augmented], ids=lambda f: f.__name__)
def test_rebound_parameter_beside_global(f):
    """d/dm = C - 0.55 = 0.1167, d/dhue = -m = -2.0.

    Today: the gradient of the rebound `hue` is None in all three variants (d/dm is right).
    """
    expect_grad(gradient(f, 2.0, 0.55), (C - 0.55, -2.0))


@pytest.mark.parametrize("h", [0.1, 0.3, 0.55, 0.8])
def test_hls_to_rgb_gradient_in_hue(h):
    """colorsys.hls_to_rgb rebinds `h` (`h % 1.0`) inside `_v` beside the global ONE_THIRD.

    Today: the gradient with respect to h is None.
    """
    got = check_fd(lambda h, l, s: sum(colorsys.hls_to_rgb(h, l, s)), h, 0.4, 0.6)
    assert got[0] is not None


# -- 2. aliases, rebinding and scopes ---------------------------------------------------


def _helper(a):
    return a


ALIAS_TAILS = {
    "min": lambda x: min(5.0, x),
    "helper": lambda x: _helper(x),
    "abs": lambda x: abs(x),
    "max": lambda x: max(-5.0, x),
    "lambda": lambda x: (lambda t: t)(x),
}


def alias_then_rebind(tail):
    def f(x):
        u = x
        u = u + 1.1
        return u + tail(x)

    return f


def alias_then_augment(tail):
    def f(x):
        u = x
        u += 1.1
        return u + tail(x)

    return f


@pytest.mark.parametrize("name", list(ALIAS_TAILS))
@pytest.mark.parametrize("make", [alias_then_rebind, alias_then_augment], ids=["assign", "augassign"])
def test_alias_rebound_beside_second_use(make, name):
    """u = x; u = u + 1.1; return u + min(5.0, x): d/dx = 1 + 1 = 2 at x = 0.7.

    Today: wrong value 1.0 (instead of 2.0) in all 10 variants.
    """
    expect_grad(gradient(make(ALIAS_TAILS[name]), 0.7), (2.0,))


@contextlib.contextmanager
def _ctx():
    yield


def overwritten_in_with(x):
    v = x
    with _ctx():
        v = 2.0
    return v * x


def overwritten_in_for(x):
    v = x
    for _ in range(2):
        v = 2.0
    return v * x


def overwritten_in_while(x):
    v = x
    k = 0
    while k < 1:
        v = 2.0
        k += 1
    return v * x


def overwritten_in_if(x):
    v = x
    if x > 0:
        v = 2.0
    return v * x


def overwritten_in_try(x):
    v = x
    try:
        v = 2.0
    except ValueError:
        pass
    return v * x


@pytest.mark.parametrize(
    "f",
    [overwritten_in_with, overwritten_in_for, overwritten_in_while, overwritten_in_if, overwritten_in_try],
    ids=lambda f: f.__name__,
)
def test_overwritten_by_constant_in_block(f):
    """v = x, then v = 2.0 inside a block: v * x has derivative 2.0 (v no longer depends on x).

    Today: wrong value 3.5 (instead of 2.0) for `with` and `try`; the `for`, `while` and `if` variants pass.
    """
    expect_grad(gradient(f, 1.5), (2.0,))


def test_overwritten_by_constant_in_with_alone():
    """v = x; with ctx: v = 2.0; return v -- the result does not depend on x: 0.0 (or None).

    Today: wrong value 1.0 (instead of 0).
    """
    def f(x):
        v = x
        with _ctx():
            v = 2.0
        return v

    expect_grad(gradient(f, 1.5), (0.0,))


def test_overwritten_by_log_in_try():
    """v = x; try: v = math.log(0.3) except ValueError: pass; return v * x -> log(0.3).

    Today: wrong value 0.296 (= log(0.3) + 1.5) instead of log(0.3) = -1.204.
    """
    def f(x):
        v = x
        try:
            v = math.log(0.3)
        except ValueError:
            pass
        return v * x

    expect_grad(gradient(f, 1.5), (math.log(0.3),))


def test_closure_reads_variable_rebound_after_definition():
    """g reads u, which is rebound to y after g is defined: g(2.0) = 2y -> (0, 2).

    Today: wrong value (2.0, ...) instead of (0.0, 2.0): the closure is credited to x.
    """
    def f(x, y):
        u = x

        def g(t):
            return u * t

        u = y
        return g(2.0)

    expect_grad(gradient(f, 1.3, 0.4), (0.0, 2.0))


def test_default_bound_at_definition():
    """def g(t, s=y) keeps the y of definition time; y rebound afterwards: g(x) = x * y0 -> (y0, x).

    Today: wrong value: d/dy 0.0 instead of 1.3.
    """
    def f(x, y):
        def g(t, s=y):
            return t * s

        y = y * 3.0
        return g(x) + 0.0 * y

    expect_grad(gradient(f, 1.3, 0.4), (0.4, 1.3))


def test_lambda_closure_bound_late():
    """g = lambda t: t * y before y = y * 3.0: g(x) = 3 x y -> (3y, 3x).

    Today: wrong value: d/dy 1.3 instead of 3.9.
    """
    def f(x, y):
        g = lambda t: t * y  # noqa: E731
        y = y * 3.0
        return g(x)

    expect_grad(gradient(f, 1.3, 0.4), (1.2, 3.9))


def test_repeated_target_last_wins():
    """p, p = 2x, 3x binds p to 3x: -> 3.

    Today: wrong value 2.0 (the first target wins) instead of 3.0.
    """
    def f(x):
        p, p = x * 2.0, x * 3.0
        return p

    expect_grad(gradient(f, 1.5), (3.0,))


def test_repeated_target_last_wins_reversed():
    """p, p = 3x, 2x binds p to 2x: -> 2.

    Today: wrong value 3.0 instead of 2.0.
    """
    def f(x):
        p, p = x * 3.0, x * 2.0
        return p

    expect_grad(gradient(f, 1.5), (2.0,))


def test_repeated_target_nested():
    """(p, _), p = (2x, 1.0), 3x binds p to 3x: -> 3.

    Today: wrong value 2.0 instead of 3.0.
    """
    def f(x):
        (p, _), p = (x * 2.0, 1.0), x * 3.0
        return p

    expect_grad(gradient(f, 1.5), (3.0,))


def test_repeated_target_nested_first_kept():
    """p, (q, p) = 2x, (x, 5x): p = 5x, q = x; p + q -> 6.

    Today: passes.
    """
    def f(x):
        p, (q, p) = x * 2.0, (x, x * 5.0)
        return p + q

    expect_grad(gradient(f, 1.5), (6.0,))


def test_list_of_lists_changed_through_row_alias():
    """M = [[x, 1], [2, x]]; row = M[0]; row[0] = 3x; M[0][0] + M[1][1] = 3x + x -> 4.

    Today: wrong value 2.0 instead of 4.0.
    """
    def f(x):
        M = [[x, 1.0], [2.0, x]]
        row = M[0]
        row[0] = x * 3.0
        return M[0][0] + M[1][1]

    expect_grad(gradient(f, 1.5), (4.0,))


def test_list_of_lists_alias_reads_after_change():
    """row[0] = x * x through the alias, then M[0][0] * M[1][0] = x^2 * x -> 3x^2 = 6.75 at 1.5.

    Today: wrong value 3.75 instead of 6.75.
    """
    def f(x):
        M = [[x, 1.0], [x, 2.0]]
        row = M[0]
        row[0] = x * x
        return M[0][0] * M[1][0]

    expect_grad(gradient(f, 1.5), (3 * 1.5**2,))


def test_nested_dict_changed_through_alias():
    """inner = d["a"]; inner["v"] = 3x; d["a"]["v"] + d["b"] = 3x + x -> 4.

    Today: wrong value 2.0 instead of 4.0.
    """
    def f(x):
        d = {"a": {"v": x}, "b": x}
        inner = d["a"]
        inner["v"] = x * 3.0
        return d["a"]["v"] + d["b"]

    expect_grad(gradient(f, 1.5), (4.0,))


def test_array_changed_through_alias():
    """a = [x, x, 1]; b = a; b[0] = 3x; np.sum(a) = 3x + x + 1 -> 4.

    Today: wrong value 2.0 instead of 4.0.
    """
    def f(x):
        a = np.array([x, x, 1.0])
        b = a
        b[0] = x * 3.0
        return np.sum(a)

    expect_grad(gradient(f, 1.5), (4.0,))


def test_array_argument_copy_changed_through_alias():
    """a = 2v; b = a; b[0] = a[1] * a[2]; sum(a) = 4 v1 v2 + 2 v1 + 2 v2.

    Today: wrong value [2, 2, 2] instead of [0, -6, 8].
    """
    def f(v):
        a = v * 2.0
        b = a
        b[0] = a[1] * a[2]
        return np.sum(a)

    v = np.array([0.5, 1.5, -2.0])
    expect_grad(gradient(f, v), (np.array([0.0, 4 * v[2] + 2, 4 * v[1] + 2]),))


class _Box:
    def __init__(self, v):
        self.v = v


def test_objects_in_list_changed_in_loop():
    """Box(x), Box(2x), each b.v = b.v * x in a for loop: x^2 + 2x^2 -> 6x = 9 at 1.5.

    Today: wrong value 3.0 instead of 9.0.
    """
    def f(x):
        boxes = [_Box(x), _Box(2.0 * x)]
        for b in boxes:
            b.v = b.v * x
        return boxes[0].v + boxes[1].v

    expect_grad(gradient(f, 1.5), (9.0,))


class _Acc:
    def __init__(self):
        self.total = 0.0

    def add(self, v):
        self.total = self.total + v
        return self


def test_method_changes_self_and_returns_it():
    """a.add(x).add(2x): total = 3x -> 3.

    Today: wrong value 1.0 instead of 3.0 (the second add is lost).
    """
    def f(x):
        a = _Acc()
        a.add(x).add(2.0 * x)
        return a.total

    expect_grad(gradient(f, 1.5), (3.0,))


def test_method_chain_result_used():
    """_Acc().add(x).add(x * x).total = x + x^2 -> 1 + 2x = 4 at 1.5.

    Today: passes.
    """
    def f(x):
        return _Acc().add(x).add(x * x).total

    expect_grad(gradient(f, 1.5), (4.0,))


# -- crashes ----------------------------------------------------------------------------


def test_slice_read_then_list_appended():
    """s = L[1:][-1], then L.append(3x): s = 2x -> 2.

    Today: IndexError: list index out of range.
    """
    def f(x):
        L = [x, 2.0 * x]
        s = L[1:][-1]
        L.append(x * 3.0)
        return s

    expect_grad(gradient(f, 1.5), (2.0,))


def test_slice_read_then_list_popped():
    """s = L[1:][-1], then L.pop(): s = 2x -> 2.

    Today: None instead of 2.0.
    """
    def f(x):
        L = [x, 2.0 * x]
        s = L[1:][-1]
        L.pop()
        return s

    expect_grad(gradient(f, 1.5), (2.0,))


def test_slice_read_then_list_cleared():
    """s = L[1:][-1], then L.clear(): s = 2x -> 2.

    Today: None instead of 2.0.
    """
    def f(x):
        L = [x, 2.0 * x]
        s = L[1:][-1]
        L.clear()
        return s

    expect_grad(gradient(f, 1.5), (2.0,))


def test_slice_of_list_argument_then_appended():
    """s = L[1:][-1] = L[1]; L.append(3s); s + L[-1] = 4 L[1] -> [0, 4].

    Today: IndexError: list index out of range.
    """
    def f(L):
        s = L[1:][-1]
        L.append(s * 3.0)
        return s + L[-1]

    expect_grad(gradient(f, [1.5, 2.0]), ([0.0, 4.0],))


def test_slice_of_appended_list():
    """L = [x]; L.append(2x); L[1:][-1] = 2x -> 2.

    Today: passes (the slice is read after the append).
    """
    def f(x):
        L = [x]
        L.append(x * 2.0)
        return L[1:][-1]

    expect_grad(gradient(f, 1.5), (2.0,))


def test_return_inside_try_finally():
    """try: return 2x finally: pass -> 2.

    Today: ValueError: Try has neither except handlers nor finalbody (an internal AST error).
    """
    def f(x):
        try:
            return x * 2.0
        finally:
            pass

    expect_grad(gradient(f, 1.5), (2.0,))


def test_try_finally_in_for_loop():
    """Twice: try: x = 2x finally: x = x + 1 -> x becomes 4x + 3 -> 4.

    Today: NameError: name '_done1' is not defined (generated code).
    """
    def f(x):
        for _ in range(2):
            try:
                x = x * 2.0
            finally:
                x = x + 1.0
        return x

    expect_grad(gradient(f, 1.5), (4.0,))


def test_try_finally_break_in_while():
    """while True: try: x = 2x; break finally: x = x + 1 -> 2x + 1 -> 2.

    Today: NameError: name '_done1' is not defined (generated code).
    """
    def f(x):
        while True:
            try:
                x = x * 2.0
                break
            finally:
                x = x + 1.0
        return x

    expect_grad(gradient(f, 1.5), (2.0,))


def test_try_finally():
    """try: v = 2x finally: w = x; return v * w = 2x^2 -> 4x = 6.

    Today: passes.
    """
    def f(x):
        try:
            v = x * 2.0
        finally:
            w = x
        return v * w

    expect_grad(gradient(f, 1.5), (6.0,))


def test_try_except_else_finally():
    """try: v = 2x except: v = 0 else: v = v * x finally: v = v + x: 2x^2 + x -> 4x + 1 = 7.

    Today: passes.
    """
    def f(x):
        try:
            v = x * 2.0
        except ZeroDivisionError:
            v = 0.0
        else:
            v = v * x
        finally:
            v = v + x
        return v

    expect_grad(gradient(f, 1.5), (7.0,))


def test_try_except_taken_else_finally():
    """The except branch runs (1 / 0): v = 3x, else skipped, finally v + x -> 4.

    Today: passes.
    """
    def f(x):
        try:
            v = x / 0.0
        except ZeroDivisionError:
            v = 3.0 * x
        else:
            v = v * x
        finally:
            v = v + x
        return v

    expect_grad(gradient(f, 1.5), (4.0,))


def test_return_in_else_with_finally():
    """try: v = 2x except: ... else: return v * x finally: v = 1 -> 2x^2 -> 6.

    Today: passes.
    """
    def f(x):
        try:
            v = x * 2.0
        except ValueError:
            v = 0.0
        else:
            return v * x
        finally:
            v = 1.0

    expect_grad(gradient(f, 1.5), (6.0,))


class _Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copy_of_object(how):
    """q = copy(Point(x, 2)); q.x * q.y = 2x -> 2.

    Today: NoRuleError (no rule for getattr, inside copy) for copy and deepcopy.
    """
    def f(x):
        p = _Point(x, 2.0)
        q = how(p)
        return q.x * q.y

    expect_grad(gradient(f, 1.5), (2.0,))


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copy_of_object_argument(how):
    """The argument itself copied: q.x * q.y + p.x -> (y + 1, x) in the Point's fields.

    Today: NoRuleError (no rule for getattr, inside copy) for copy and deepcopy.
    """
    def f(p):
        q = how(p)
        return q.x * q.y + p.x

    (g,) = gradient(f, _Point(1.5, 2.0))
    assert g is not None
    expect_grad((g.x, g.y), (3.0, 1.5))


def test_deepcopy_of_nested_list():
    """deepcopy([[x, 2x]]) then the copy's entries: x * 2x -> 4x = 6.

    Today: None instead of 6.0.
    """
    def f(x):
        c = copy.deepcopy([[x, 2.0 * x]])
        return c[0][0] * c[0][1]

    expect_grad(gradient(f, 1.5), (6.0,))
