"""The `scipy.integrate.odeint` rule (the adjoint ODE), checked by `check_rrule` against central
differences on linear and nonlinear systems, with respect to y0, the times and `args`; and through
`dpnb.gradient` against exact solutions."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
import scipy.integrate as sint  # noqa: E402

from _tables import A, C, S, Seq  # noqa: E402
from dpnb import gradient  # noqa: E402
from dpnb.testing import check_rrule, gradcheck  # noqa: E402


def decay(y, t, k):
    return -k * y


def linear_system(y, t, M):
    return M @ y


def damped_oscillator(y, t, k, c):
    return np.array([y[1], -k * y[0] - c * y[1]])


def driven_oscillator(y, t, w):
    return np.array([y[1], -w[0] * y[0] - w[1] * y[1] + np.sin(t)])


def lotka_volterra(y, t, p):
    return np.array([p[0] * y[0] - p[1] * y[0] * y[1], -p[2] * y[1] + p[3] * y[0] * y[1]])


def pendulum_as_list(y, t, g):
    return [y[1], -g * np.sin(y[0])]


def time_first(t, y, k):
    return -k * y + np.cos(t)


def no_parameters(y, t):
    return -y * y


T = np.linspace(0.0, 2.0, 5)
#: odeint's Dfun, col_deriv, full_output, ml, mu, rtol, atol: tight tolerances, so that central
#: differences of the solution are accurate (with odeint's defaults, 1.5e-8, they are not at steps of 1e-6)
TIGHT = (None, 0, 0, None, None, 1e-11, 1e-12)
WRT = [1, 2, 3]  # y0, t, args (not the tolerances)
CASES = [
    C(sint.odeint, decay, A((2,), "pos"), T, Seq(tuple, (S("pos"),)), *TIGHT, wrt=WRT),
    C(sint.odeint, decay, S("pos"), [0.0, 0.5, 1.5], (0.7,), *TIGHT, wrt=WRT),
    C(sint.odeint, linear_system, A((2,)), T, (np.array([[-0.5, 1.0], [-1.0, -0.2]]),), *TIGHT, wrt=WRT),
    C(sint.odeint, damped_oscillator, A((2,)), T, Seq(tuple, (S("gt1"), S("tiny"))), *TIGHT, wrt=WRT),
    C(sint.odeint, driven_oscillator, A((2,), "small"), np.linspace(0.5, 3.0, 6), (np.array([2.0, 0.3]),), *TIGHT,
      wrt=WRT),
    C(sint.odeint, lotka_volterra, A((2,), "pos"), T, (np.array([1.0, 0.5, 0.8, 0.3]),), *TIGHT, wrt=WRT),
    C(sint.odeint, pendulum_as_list, Seq(list, (S("small"), S("small"))), T, (9.8,), *TIGHT, wrt=WRT),
    C(sint.odeint, time_first, A((1,), "pos"), T, (1.5,), *TIGHT, tfirst=True, wrt=WRT),
    C(sint.odeint, no_parameters, A((2,), "pos"), T, (), *TIGHT, wrt=WRT),
    C(sint.odeint, decay, A((2,), "pos"), T[::-1], (0.4,), *TIGHT, wrt=WRT),  # backwards in time
    # odeint's own tolerances: the cotangents are as accurate as the solves (steps of 1e-4 for the differences)
    C(sint.odeint, damped_oscillator, A((2,), "pos"), T, (2.0, 0.3), eps=1e-4, rtol=1e-3),
    C(sint.odeint, decay, A((2,), "pos"), T, (0.5,), eps=1e-4, rtol=1e-3),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_scipy_integrate_rule(case, data):
    case.check(data.draw(case.strategy()))


def test_linear_decay_gradient_is_exact():
    # y(t) = y0 exp(-k t): d/dk sum_i y(t_i) = -sum_i t_i y0 exp(-k t_i), d/dy0 = sum_i exp(-k t_i)
    y0, k = 1.5, 0.8

    def loss(y0, k):
        return np.sum(sint.odeint(decay, y0, T, (k,), rtol=1e-10, atol=1e-12))

    g_y0, g_k = gradient(loss, y0, k)
    assert g_y0 == pytest.approx(np.sum(np.exp(-k * T)), rel=1e-6)
    assert g_k == pytest.approx(-np.sum(T * y0 * np.exp(-k * T)), rel=1e-6)


def test_the_end_time_moves_the_last_output():
    # d/dt_end y(t_end) = f(y(t_end)) = -k y0 exp(-k t_end); t_start moves every later output back
    y0, k = 2.0, 0.5

    def loss(t):
        return sint.odeint(decay, y0, t, (k,), rtol=1e-10, atol=1e-12)[-1, 0]

    (g,) = gradient(loss, np.array([0.0, 1.0, 2.0]))
    assert g == pytest.approx([k * y0 * np.exp(-2 * k), 0.0, -k * y0 * np.exp(-2 * k)], rel=1e-6, abs=1e-9)


def test_damped_oscillator_parameters_through_gradient():
    def loss(k, c, y0):
        Y = sint.odeint(damped_oscillator, y0, T, (k, c))
        return np.sum(Y[:, 0] ** 2) + 0.5 * Y[-1, 1]

    assert gradcheck(loss, 2.0, 0.3, np.array([1.0, -0.5]), rtol=1e-4, atol=1e-6)


def test_full_output_pulls_back_the_solution_only():
    # the information dict (step sizes, counts) is not a function to differentiate: no cotangent
    y0, args = np.array([1.0, -0.5]), (2.0, 0.3)
    Y_bar = np.random.default_rng(0).standard_normal((len(T), 2))
    assert check_rrule(
        sint.odeint, damped_oscillator, y0, T, args, None, 0, 1, None, None, 1e-11, 1e-12,
        wrt=[1, 3], output_tangent=(Y_bar, None),
    )


def test_a_differentiated_value_func_reads_from_its_closure_is_refused():
    """`lambda y, t: -a * y` with `a` differentiated: the adjoint ODE follows func's explicit
    arguments only, and the gradient was None. A constant in the closure changes nothing."""
    import dpnb

    def decay(a):
        return sint.odeint(lambda y, t: -a * y, 1.0, [0.0, 1.0])[-1, 0]

    with pytest.raises(dpnb.DifferentiationError, match="closure.*args="):
        gradient(decay, 0.7)

    def from_y0(y0):
        k = 0.5
        return sint.odeint(lambda y, t: -k * y, y0, [0.0, 1.0])[-1, 0]

    (g,) = gradient(from_y0, 1.3)
    assert g == pytest.approx(np.exp(-0.5), rel=1e-5)
