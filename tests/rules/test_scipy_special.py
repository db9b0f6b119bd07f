"""The `scipy.special` rule table: each rule checked by `check_rrule` on inputs drawn in its domain,
plus the orders with no derivative, and the rules through `dpnb.gradient`, `jvp` and `hessian`."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
import scipy.special as sps  # noqa: E402

from _tables import A, C, S  # noqa: E402
from dpnb import DifferentiationError, gradient, hessian, jvp  # noqa: E402
from dpnb.rules.registry import RULES  # noqa: E402
from dpnb.tangents import NotImplementedTangent  # noqa: E402

F32 = np.float32

UNARY_DOMAINS = {
    sps.gamma: "pos", sps.gammaln: "pos", sps.digamma: "pos", sps.erf: "real", sps.erfc: "real",
    sps.erfinv: "unit", sps.erfcinv: "frac", sps.j0: "real", sps.j1: "real", sps.y0: "pos",
    sps.y1: "pos", sps.i0: "real", sps.i1: "real", sps.logit: "tiny", sps.expit: "real",
}

CASES = []
for _f, _d in UNARY_DOMAINS.items():
    CASES += [C(_f, A((3,), _d)), C(_f, S(_d))]
CASES += [
    C(sps.gamma, -1.5), C(sps.gammaln, -2.5), C(sps.digamma, -0.5),
    C(sps.gamma, A((2, 2), "pos", F32), rtol=2e-3, atol=2e-4),
    C(sps.erf, A((3,), "real", F32), rtol=2e-3, atol=2e-4),
    C(sps.polygamma, 1, A((3,), "pos")), C(sps.polygamma, 2, S("pos")),
    C(sps.polygamma, np.array([0, 1, 2]), A((3,), "pos")),
    C(sps.beta, A((3,), "pos"), A((3,), "pos")), C(sps.beta, A((2, 3), "pos"), S("gt1")),
    C(sps.betaln, A((3,), "pos"), A((2, 1), "pos")), C(sps.betaln, S("pos"), S("pos")),
    C(sps.xlogy, A((3,), "real"), A((3,), "pos")), C(sps.xlogy, S(), S("pos")),
    C(sps.xlogy, np.array([0.0, 0.0, 1.5]), np.array([0.0, 2.0, 0.5]), wrt=[1]),  # no slope in y where x = 0
    C(sps.log1p, A((3,), "pos")), C(sps.expm1, A((3,), "real")),
    C(sps.xlog1py, A((3,), "real"), A((3,), "pos")), C(sps.xlog1py, S(), S("unit")),
    C(sps.xlog1py, np.array([0.0, 0.0, 1.5]), np.array([-0.5, 2.0, 0.5]), wrt=[1]),
    C(sps.ndtr, A((3,), "real")), C(sps.ndtr, S()), C(sps.log_ndtr, A((3,), "real")), C(sps.log_ndtr, -12.0),
    C(sps.ndtri, A((3,), "tiny")), C(sps.ndtri, S("tiny")), C(sps.erfcx, A((3,), "real")),
    C(sps.entr, A((3,), "pos")), C(sps.rel_entr, A((3,), "pos"), A((3,), "pos")),
    C(sps.kl_div, A((2, 3), "pos"), S("pos")),
    C(sps.gammainc, 2, A((3,), "pos")), C(sps.gammainc, np.array([1, 2, 3]), S("pos")),
    C(sps.gammaincc, 3, A((3,), "pos")),
    C(sps.betainc, 2, 3, A((3,), "tiny")), C(sps.betainc, 1, 4, S("tiny")),
    C(sps.binom, A((3,), "gt1"), A((3,), "tiny")), C(sps.binom, S("gt1"), 1.0),
    # Bessel functions with integer orders (an integer order gets no cotangent)
    C(sps.jv, 2, A((3,), "real")), C(sps.jv, np.array([0, 1, 3]), A((3,), "pos")), C(sps.jv, 1, S("gt1")),
    C(sps.yn, 1, A((3,), "pos")), C(sps.yn, 3, S("gt1")),
    C(sps.yv, 2, A((3,), "gt1")), C(sps.iv, 1, A((3,), "real")), C(sps.iv, 3, S()),
    C(sps.ive, 2, A((3,), "nonzero")), C(sps.ive, 0, S("pos")),
    C(sps.jvp, 1, A((3,), "pos")), C(sps.jvp, 2, A((3,), "pos"), 2),
    C(sps.yvp, 1, A((3,), "gt1")), C(sps.ivp, 2, A((3,), "real")), C(sps.ivp, 1, S(), 3),
    # reductions
    C(sps.logsumexp, A((3, 4))), C(sps.logsumexp, A((3, 4)), 1), C(sps.logsumexp, A((3, 4)), axis=0, keepdims=True),
    C(sps.logsumexp, A((3, 4)), (0, 1), A((4,), "pos")), C(sps.logsumexp, A((3, 4)), 1, A((3, 4), "pos")),
    C(sps.logsumexp, A((4,)), 0, A((4,), "nonzero"), False, True),
    C(sps.logsumexp, A((2, 3)), -1, A((2, 1), "pos"), False, True),
    C(sps.logsumexp, A((2, 3)), b=np.array([[0.5], [2.0]]), axis=-1, keepdims=True),
    C(sps.logsumexp, A((3,), "real", F32), rtol=2e-3, atol=2e-4),
    C(sps.softmax, A((3, 4))), C(sps.softmax, A((3, 4)), 1), C(sps.softmax, A((3, 4)), axis=0),
    C(sps.softmax, A((2, 3, 2)), (0, 2)),
    C(sps.log_softmax, A((3, 4))), C(sps.log_softmax, A((3, 4)), -1), C(sps.log_softmax, A((5,)), axis=0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_scipy_special_rule(case, data):
    case.check(data.draw(case.strategy()))


def test_aliases_share_one_rule():
    assert sps.psi is sps.digamma and sps.jn is sps.jv
    assert RULES[sps.psi] is RULES[sps.digamma]


# --- orders -----------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [sps.jv, sps.yv, sps.iv, sps.ive, sps.jvp, sps.yvp, sps.ivp])
def test_a_real_bessel_order_gets_a_tangent_that_raises_when_used(f):
    x = np.array([1.5, 2.5])
    _, back = RULES[f](1.5, x)
    _, v_bar, x_bar = back(np.ones(2))
    assert isinstance(v_bar, NotImplementedTangent) and v_bar.argument == "v"
    assert x_bar.shape == (2,)
    for use in (lambda t: 2.0 * t, lambda t: t + 1.0, lambda t: np.ones(2) * t, lambda t: float(t), np.asarray):
        with pytest.raises(DifferentiationError, match=r"scipy\.special\.\w+ has no derivative rule .* 'v'"):
            use(v_bar)


def _order(v):
    return sps.jv(v, 1.3)


def _order_in_a_list(v):
    return sps.iv(v[0], 1.3) * 2.0


@pytest.mark.parametrize("f, v", [(_order, 0.5), (_order_in_a_list, [0.5])], ids=["float", "list"])
def test_an_order_as_the_argument_is_refused(f, v):
    """The tangent of the order reaching the argument itself, untouched on the way: `gradient`
    handed it back as the gradient (`(NotImplementedTangent(scipy.special.jv, 'v'),)`)."""
    with pytest.raises(DifferentiationError, match=r"scipy\.special\.\w+ has no derivative rule .* 'v'"):
        gradient(f, v)


def test_integer_orders_get_no_tangent():
    for f, order in ((sps.polygamma, 2), (sps.jv, 3), (sps.yn, np.array([1, 2])), (sps.iv, np.int64(1))):
        _, back = RULES[f](order, np.array([1.5, 2.5]))
        assert back(np.ones(2))[1] is None


def test_differentiating_a_real_bessel_order_raises():
    with pytest.raises(DifferentiationError, match="jv has no derivative rule for its argument 'v'"):
        gradient(lambda nu: sps.jv(2 * nu, 1.5), 0.75)
    with pytest.raises(DifferentiationError, match="iv has no derivative rule"):
        gradient(lambda nu, x: np.sum(sps.iv(nu, x)), np.array([0.5, 1.5]), np.array([1.0, 2.0]))


def test_a_constant_real_order_does_not_stop_the_gradient_in_x():
    # d/dx J_v(x) = (J_{v-1}(x) - J_{v+1}(x)) / 2: an identity independent of jvp
    v, x = 1.5, 2.5
    want = 0.5 * (sps.jv(v - 1, x) - sps.jv(v + 1, x))
    assert gradient(lambda x: sps.jv(1.5, x), x)[0] == pytest.approx(want, rel=1e-12)
    assert jvp(lambda x: sps.jv(1.5, x), (x,), (1.0,))[1] == pytest.approx(want, rel=1e-12)
    with pytest.raises(DifferentiationError, match="jv has no derivative rule"):
        jvp(lambda nu: sps.jv(nu, 2.0), (1.5,), (1.0,))


# --- through dpnb.gradient ------------------------------------------------------------------------


def _central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize(
    "f, x",
    [
        (lambda x: sps.gamma(x), 2.5),
        (lambda x: sps.gammaln(x) * sps.erf(x), 0.7),
        (lambda x: sps.beta(x, 2.0 * x), 1.3),
        (lambda x: sps.expit(sps.logit(x) * 2.0), 0.3),
        (lambda x: sps.j1(x) + sps.y0(x) + sps.i1(x), 1.7),
        (lambda x: sps.xlogy(x, x + 1.0), 0.8),
        (lambda x: sps.erfinv(x) + sps.erfcinv(x), 0.4),
    ],
)
def test_scalar_functions_through_gradient(f, x):
    assert gradient(f, x)[0] == pytest.approx(_central(f, x), rel=1e-6)


def test_gamma_gradient_is_gamma_times_digamma():
    assert gradient(lambda x: sps.gamma(x), 2.5)[0] == pytest.approx(math.gamma(2.5) * float(sps.digamma(2.5)))


def test_array_functions_through_gradient():
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((3, 4)), rng.uniform(0.5, 1.5, 4)

    def loss(a):
        return sps.logsumexp(a, axis=1, b=w)[1] + np.sum(sps.softmax(a, axis=0)[0] * w) + np.sum(sps.log_softmax(a))

    g = gradient(loss, a)[0]
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = 1.0
        assert g[i] == pytest.approx(_central(lambda t: loss(a + t * e), 0.0), rel=1e-5, abs=1e-8)


def test_second_derivatives_of_special_functions():
    assert hessian(lambda x: sps.gammaln(x), 2.5) == pytest.approx(float(sps.polygamma(1, 2.5)), rel=1e-10)
    assert hessian(lambda x: sps.erf(x), 0.5) == pytest.approx(-4 * 0.5 / math.sqrt(math.pi) * math.exp(-0.25))
    assert hessian(lambda x: sps.jv(1.5, x), 2.0) == pytest.approx(float(sps.jvp(1.5, 2.0, 2)), rel=1e-10)


def test_the_scipy_rules_share_the_core_s_not_implemented_tangent():
    import dpnb.rules.scipy._util as util
    import dpnb.tangents

    assert util.NotImplementedTangent is dpnb.tangents.NotImplementedTangent
