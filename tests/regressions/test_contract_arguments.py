"""Arguments changed in place by the differentiated function.

The gradient is taken with respect to the value the argument had on entry, and the
caller's argument ends up exactly as calling the function itself leaves it (SPEC
§2: the user's code has exactly the side effects it has without dpnb, once).
"""
import copy

import numpy as np

from dpnb import gradient

try:
    from ._regress_check import expect_grad
except ImportError:
    from _regress_check import expect_grad


def scale_first_array(x):
    x[0] = x[0] * x[1]
    return np.sum(x)


def test_array_argument_changed_in_place_gradient():
    """x[0] = x0 x1; sum(x) = x0 x1 + x1 + x2: gradient [x1, x0 + 1, 1] at the entry value.

    Today: DifferentiationError (refuses: the function assigns to an item of an argument being
        differentiated).
    """
    x = np.array([1.5, -2.0, 0.5])
    expect_grad(gradient(scale_first_array, x.copy()), (np.array([-2.0, 2.5, 1.0]),))


def test_array_argument_changed_in_place_side_effect():
    """After gradient(f, x), x is what f(x) leaves: [x0 x1, x1, x2].

    Today: DifferentiationError (the refusal above); the caller's array is left unchanged.
    """
    x = np.array([1.5, -2.0, 0.5])
    plain = x.copy()
    scale_first_array(plain)
    try:
        gradient(scale_first_array, x)
    finally:
        np.testing.assert_array_equal(x, plain)


def test_array_argument_changed_in_loop():
    """for i in 1, 2: x[i] = x[i] * x[i-1]: x = [a, ab, abc]; sum -> [1 + b + bc, a + ac, ab].

    Today: DifferentiationError (refuses item assignment to a differentiated argument).
    """
    def f(x):
        for i in range(1, 3):
            x[i] = x[i] * x[i - 1]
        return np.sum(x)

    a, b, c = 1.5, -2.0, 0.5
    x = np.array([a, b, c])
    expect_grad(gradient(f, x), (np.array([1 + b + b * c, a + a * c, a * b]),))
    np.testing.assert_allclose(x, [a, a * b, a * b * c])


def test_array_argument_sliced_write():
    """x[1:] = x[1:] * x[0]; x @ x = a^2 + a^2 (b^2 + c^2).

    Today: DifferentiationError (refuses item assignment to a differentiated argument).
    """
    def f(x):
        x[1:] = x[1:] * x[0]
        return x @ x

    a, b, c = 1.5, -2.0, 0.5
    x = np.array([a, b, c])
    s = b * b + c * c
    expect_grad(gradient(f, x), (np.array([2 * a + 2 * a * s, 2 * a * a * b, 2 * a * a * c]),))
    np.testing.assert_allclose(x, [a, a * b, a * c])


def scale_first_list(xs):
    xs[0] = xs[0] * xs[1]
    xs.append(xs[0] * 2.0)
    return sum(xs)


def test_list_argument_changed_in_place():
    """xs[0] = x0 x1; append 2 x0 x1; sum = 3 x0 x1 + x1: gradient [3 x1, 3 x0 + 1]; the caller's
    list ends as f leaves it.

    Today: DifferentiationError (refuses item assignment to a differentiated argument).
    """
    xs = [1.5, -2.0]
    plain = list(xs)
    scale_first_list(plain)
    got = gradient(scale_first_list, xs)
    assert xs == plain
    expect_grad(got, ([-6.0, 5.5],))


class _Particle:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    def step(self, dt):
        self.pos = self.pos + self.vel * dt
        self.vel = self.vel * 0.5
        return self


def move_twice(p):
    p.step(0.1)
    p.step(0.1)
    return p.pos * p.vel


def test_object_argument_changed_in_place():
    """Two steps: pos' = pos + 0.15 vel, vel' = vel / 4; pos' vel' = (pos vel + 0.15 vel^2) / 4.
    Gradient: pos -> vel / 4, vel -> (pos + 0.3 vel) / 4; the caller's object ends as f leaves it.

    Today: passes (the writes happen in a method, which is not refused).
    """
    p = _Particle(1.5, -2.0)
    plain = copy.deepcopy(p)
    move_twice(plain)
    (g,) = gradient(move_twice, p)
    assert (p.pos, p.vel) == (plain.pos, plain.vel)
    assert g is not None
    expect_grad((g.pos, g.vel), (-2.0 / 4, (1.5 + 0.3 * -2.0) / 4))


def test_dict_argument_changed_in_place():
    """d["a"] = d["a"] * d["b"]; d["c"] = d["a"]; sum of values = 2ab + b.

    Today: DifferentiationError (refuses item assignment to a differentiated argument).
    """
    def f(d):
        d["a"] = d["a"] * d["b"]
        d["c"] = d["a"]
        return sum(d.values())

    d = {"a": 1.5, "b": -2.0}
    plain = dict(d)
    f(plain)
    got = gradient(f, d)
    assert d == plain
    expect_grad(got, ({"a": -4.0, "b": 4.0},))


def test_gradient_twice_of_mutating_function_sees_new_value():
    """Each gradient call mutates once, as a call would: the second gradient starts from the
    first call's result. x[0] -> x0 x1 each time.

    Today: DifferentiationError (refuses item assignment to a differentiated argument).
    """
    x = np.array([1.5, -2.0, 0.5])
    gradient(scale_first_array, x)
    g2 = gradient(scale_first_array, x)
    # on entry to the second call x = [-3, -2, 0.5]: gradient [x1, x0 + 1, 1]
    expect_grad(g2, (np.array([-2.0, -2.0, 1.0]),))
    np.testing.assert_array_equal(x, [6.0, -2.0, 0.5])


def test_object_argument_attribute_written_directly():
    """p.pos = p.pos * p.vel in f itself: pos vel + vel -> pos: vel, vel: pos + 1.

    Today: DifferentiationError (refuses attribute assignment to a differentiated argument).
    """
    def f(p):
        p.pos = p.pos * p.vel
        return p.pos + p.vel

    p = _Particle(1.5, -2.0)
    (g,) = gradient(f, p)
    assert (p.pos, p.vel) == (-3.0, -2.0)
    assert g is not None
    expect_grad((g.pos, g.vel), (-2.0, 2.5))
