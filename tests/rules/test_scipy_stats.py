"""The `scipy.stats` rule table: densities, distribution functions and their logarithms with respect
to the point and the parameters, by `check_rrule`; frozen distributions through their two rules;
the shape derivatives that have no closed form; and the rules through `dpnb.gradient`."""
import re
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")
import scipy.special  # noqa: E402
import scipy.stats as ss  # noqa: E402

from _tables import A, C, Case, S  # noqa: E402
from dpnb import DifferentiationError, NoRuleError, gradient  # noqa: E402
from dpnb.rules.registry import RULES  # noqa: E402
from dpnb.tangents import NotImplementedTangent  # noqa: E402
from dpnb.testing import gradcheck  # noqa: E402

F32 = np.float32
CONTINUOUS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")
INVERSE = ("ppf", "isf")
DISCRETE = ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf")
FROZEN = type(ss.norm())
DISCRETE_FROZEN = type(ss.poisson(1.0))

#: name -> (x, shapes for densities (floats), shapes for distribution functions (integers), loc, scale)
SPECS = {
    "norm": (A((3,), "real"), (), (), S("small"), S("pos")),
    "t": (A((3,), "real"), (S("gt1"),), (4,), S("small"), S("pos")),
    "gamma": (A((3,), "gt1"), (S("pos"),), (2,), S("small"), S("pos")),
    "beta": (A((3,), "tiny"), (S("gt1"), S("pos")), (2, 3), -0.05, S("gt1")),
    "chi2": (A((3,), "gt1"), (S("pos"),), (3,), S("small"), S("pos")),
}

CASES = []
for _name, (_x, _dshapes, _cshapes, _loc, _scale) in SPECS.items():
    _dist = getattr(ss, _name)
    for _m in CONTINUOUS:
        _shapes = _dshapes if _m in ("pdf", "logpdf") else _cshapes
        _f = getattr(_dist, _m)
        CASES += [C(_f, _x, *_shapes, _loc, _scale, rtol=1e-4), C(_f, _x, *_shapes, rtol=1e-4)]
for _m in CONTINUOUS:
    # parameters by keyword: their cotangents in the trailing dict (float shapes of a distribution
    # function have none in closed form, so those rows give integer shapes, as the positional ones do)
    _beta_kw = dict(a=2.5, b=1.5) if "pdf" in _m else dict(a=2, b=3, scale=1.5)
    CASES += [
        C(getattr(ss.norm, _m), A((3,)), A((2, 1), "small"), A((1, 3), "pos"), rtol=1e-4),
        C(getattr(ss.norm, _m), S(), loc=0.5, scale=2.0, rtol=1e-4),
        C(getattr(ss.norm, _m), A((3,)), S("small"), scale=np.array([1.5, 0.5, 2.0]), rtol=1e-4),
        C(getattr(ss.beta, _m), A((3,), "tiny"), **_beta_kw, rtol=1e-4),
        C(getattr(ss.t, _m), A((3,)), df=3.5 if "pdf" in _m else 4, loc=0.2, rtol=1e-4),
        C(getattr(ss.rv_continuous, _m), ss.gamma, A((3,), "gt1"), 2.5 if "pdf" in _m else 3, scale=1.5, rtol=1e-4),
        C(getattr(ss.rv_continuous, _m), ss.norm, A((3,)), S("small"), S("pos"), rtol=1e-4),
        C(getattr(ss.rv_continuous, _m), ss.gamma, A((3,), "gt1"), 2.5 if "pdf" in _m else 3, rtol=1e-4),
        C(getattr(FROZEN, _m), ss.t(3.5, 0.2, 1.5), A((3,)), rtol=1e-4),
    ]
for _name, (_x, _dshapes, _cshapes, _loc, _scale) in SPECS.items():
    for _m in INVERSE:  # of probabilities in (0.1, 0.55); integer shapes (a float one has no derivative)
        _f = getattr(getattr(ss, _name), _m)
        CASES += [C(_f, A((3,), "tiny"), *_cshapes, _loc, _scale, rtol=1e-4), C(_f, A((3,), "tiny"), *_cshapes, rtol=1e-4)]
for _m in INVERSE:
    CASES += [
        C(getattr(ss.norm, _m), S("tiny"), loc=0.5, scale=2.0, rtol=1e-4),
        C(getattr(ss.rv_continuous, _m), ss.norm, A((3,), "tiny"), S("small"), S("pos"), rtol=1e-4),
        C(getattr(FROZEN, _m), ss.t(4, 0.2, 1.5), A((3,), "tiny"), rtol=1e-4),
    ]
CASES += [
    C(ss.norm.logpdf, A((3,), "real", F32), S("small"), rtol=2e-3, atol=2e-4),
    C(ss.t.pdf, A((2, 2), "real"), A((2, 1), "gt1"), rtol=1e-4),
    C(ss.gamma.logpdf, A((3,), "gt1"), A((3,), "pos"), rtol=1e-4),
    C(ss.beta.logpdf, A((3,), "tiny"), A((3,), "gt1"), S("gt1"), rtol=1e-4),
]
_K = np.array([0, 1, 3, 6])
for _m in DISCRETE:
    CASES += [
        C(getattr(ss.poisson, _m), _K, S("pos"), rtol=1e-4),
        C(getattr(ss.poisson, _m), _K, A((2, 1), "gt1"), -1, rtol=1e-4),
        C(getattr(ss.rv_discrete, _m), ss.poisson, _K, S("gt1"), rtol=1e-4),
        C(getattr(ss.poisson, _m), _K, mu=2.5, loc=-1, rtol=1e-4),
    ]
for _m in ("pmf", "cdf", "logcdf", "sf", "logsf"):  # between the integers (logpmf is -inf there)
    CASES.append(C(getattr(ss.poisson, _m), np.array([0.0, 1.0, 2.5, 4.0]), A((4,), "pos"), wrt=[1], rtol=1e-4))
for _m in ("pmf", "logpmf"):
    CASES.append(C(getattr(DISCRETE_FROZEN, _m), ss.poisson(2.5), _K))

# --- multivariate ------------------------------------------------------------------------------------

_SIMPLEX = np.array([[0.2, 0.5, 0.1], [0.3, 0.1, 0.6], [0.5, 0.4, 0.3]])  # columns are points
MVN_GEN, DIRICHLET_GEN = type(ss.multivariate_normal), type(ss.dirichlet)
for _m in ("logpdf", "pdf"):
    _f = getattr(ss.multivariate_normal, _m)
    CASES += [
        C(_f, A((4, 3)), A((3,), "small"), A((3, 3), "spd"), rtol=1e-4),
        C(_f, A((3,)), A((3,), "small"), A((3, 3), "spd"), rtol=1e-4),
        C(_f, A((2, 2, 3)), A((3,), "small"), A((3,), "gt1"), rtol=1e-4),
        C(_f, A((4, 2)), A((2,), "small"), S("gt1"), rtol=1e-4),
        C(_f, A((4,)), S("small"), S("gt1"), rtol=1e-4),
        C(_f, S(), S("small"), S("gt1"), rtol=1e-4),
        C(_f, A((4, 3)), None, A((3, 3), "spd"), rtol=1e-4),
        C(getattr(MVN_GEN, _m), ss.multivariate_normal, A((2, 3)), A((3,)), A((3, 3), "spd"), rtol=1e-4),
        C(_f, A((4, 2)), mean=np.array([0.3, -0.2]), cov=np.array([[2.0, 0.3], [0.3, 1.0]]), rtol=1e-4),
        C(_f, A((4, 2)), A((2,), "small"), cov=np.array([1.5, 0.5]), rtol=1e-4),
    ]
    _f = getattr(ss.dirichlet, _m)
    CASES += [
        C(_f, _SIMPLEX[:2], A((3,), "gt1"), rtol=1e-4),  # K - 1 components: SciPy completes the point
        C(_f, _SIMPLEX[:2, 0], A((3,), "pos"), rtol=1e-4),
        C(_f, _SIMPLEX, A((3,), "gt1"), wrt=[1], rtol=1e-4),  # all K: off the simplex SciPy refuses x
        C(_f, list(_SIMPLEX[:, 1]), A((3,), "gt1"), wrt=[1], rtol=1e-4),
        C(getattr(DIRICHLET_GEN, _m), ss.dirichlet, _SIMPLEX[:2], A((3,), "gt1"), rtol=1e-4),
        C(_f, _SIMPLEX[:2], alpha=np.array([1.5, 2.0, 3.0]), rtol=1e-4),
    ]


def _id(case):
    """The row's id, with SciPy's distribution objects by name (their repr holds an address)."""
    ident, owner = case.id, getattr(case.f, "__self__", None)
    if hasattr(owner, "name"):  # a bound method: scipy.stats.norm.pdf, not rv_continuous.pdf
        ident = f"{owner.name}.{case.f.__name__}{ident[len(case.f.__qualname__):]}"
    return re.sub(r"<scipy\.stats\.[\w.]+?(\w+?)(_gen)? object at 0x[0-9a-f]+>", r"\1", ident)


@pytest.mark.parametrize("case", CASES, ids=_id)
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_scipy_stats_rule(case, data):
    case.check(data.draw(case.strategy()))


# --- freezing: rv(*params).method(x) through the freeze rule and the frozen method's rule -----------


@dataclass
class FrozenCase(Case):
    """A row for `rv(*params)`: the freeze rule's pullback, fed by the frozen `method`'s, against
    central differences of `dist(*params).method(x)` in the parameters, along a random direction."""

    method: str = "pdf"
    x: object = 0.5

    @property
    def id(self):
        return f"{Case.id.fget(self)}.{self.method}"

    def check(self, args, seed=0):
        dist, params = args[0], list(args[1:])
        rng = np.random.default_rng(seed)
        frozen, freeze_back = RULES[self.f](dist, *params)
        y, method_back = RULES[getattr(type(frozen), self.method)](frozen, self.x)
        assert np.array_equal(y, getattr(dist(*params), self.method)(self.x))
        y_bar = rng.standard_normal(np.shape(y))
        _, self_bar, _ = method_back(y_bar)
        bars = freeze_back(self_bar)
        assert bars[:2] == (None, None) and len(bars) == len(params) + 2
        v = rng.standard_normal(len(params))

        def at(t):
            return np.sum(y_bar * getattr(dist(*(np.add(params, t * v))), self.method)(self.x))

        numeric = (at(1e-6) - at(-1e-6)) / 2e-6
        analytic = sum(float(np.sum(b)) * vi for b, vi in zip(bars[2:], v))
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7)
        return True


FROZEN_CASES = [
    FrozenCase(ss.rv_continuous.__call__, (ss.norm, S("small"), S("pos")), method="logpdf", x=np.array([0.3, -1.0])),
    FrozenCase(ss.rv_continuous.__call__, (ss.gamma, S("gt1"), S("small"), S("pos")), method="pdf", x=2.0),
    FrozenCase(ss.rv_continuous.__call__, (ss.norm, S("small"), S("pos")), method="cdf", x=0.4),
    FrozenCase(ss.rv_continuous.freeze, (ss.t, S("gt1"), S("small")), method="logpdf", x=np.array([0.1, 0.9])),
    FrozenCase(ss.rv_continuous.freeze, (ss.poisson, S("gt1")), method="logpmf", x=np.array([0, 2, 5])),
    FrozenCase(ss.rv_continuous.__call__, (ss.poisson, S("gt1")), method="sf", x=3),
]
CASES += FROZEN_CASES


def test_the_freezing_rules_are_shared_by_discrete_distributions():
    assert ss.rv_discrete.__call__ is ss.rv_continuous.__call__ and ss.rv_discrete.freeze is ss.rv_continuous.freeze


# --- registration -----------------------------------------------------------------------------------


def test_bound_methods_are_found_however_often_they_are_looked_up():
    a, b = ss.norm.pdf, ss.norm.pdf
    assert a is not b and a == b and hash(a) == hash(b)
    assert RULES.get(a) is RULES.get(b) is not None


def test_a_distribution_with_no_rule_raises_no_rule_error():
    with pytest.raises(NoRuleError, match="cauchy"):
        RULES[ss.rv_continuous.pdf](ss.cauchy, 0.5)


def test_a_distribution_of_ones_own_uses_its_types_rule():
    mine = type(ss.norm)(name="mine")
    y, back = RULES[ss.rv_continuous.logpdf](mine, 0.5, 0.2, 2.0)
    assert y == ss.norm.logpdf(0.5, 0.2, 2.0)
    z = (0.5 - 0.2) / 2.0
    assert back(1.0)[2:] == pytest.approx((-z / 2.0, z / 2.0, (z * z - 1) / 2.0))


# --- shapes whose derivative has no closed form --------------------------------------------------------


@pytest.mark.parametrize(
    "f, args, index, name",
    [
        (ss.gamma.cdf, (1.2, 2.5), 1, "a"),
        (ss.gamma.logsf, (1.2, 2.5, 0.1, 1.5), 1, "a"),
        (ss.beta.cdf, (0.3, 2.5, 1.5), 1, "a"),
        (ss.beta.sf, (0.3, 2.5, 1.5), 2, "b"),
        (ss.t.cdf, (0.3, 3.5), 1, "df"),
        (ss.chi2.logcdf, (1.3, 2.5), 1, "df"),
    ],
)
def test_a_shape_with_no_closed_form_gets_a_tangent_that_raises_when_used(f, args, index, name):
    _, back = RULES[f](*args)
    bars = back(1.0)
    t = bars[1 + index]
    assert isinstance(t, NotImplementedTangent) and t.argument == name
    with pytest.raises(DifferentiationError, match=rf"scipy\.stats\.\w+\.\w+ has no derivative rule .*'{name}'"):
        t * 2.0
    # the point's cotangent is still there: cdf' = pdf
    x_bar = bars[1]
    assert isinstance(x_bar, float) and np.isfinite(x_bar)


def test_differentiating_a_shape_with_no_closed_form_raises():
    with pytest.raises(DifferentiationError, match=r"scipy\.stats\.gamma\.cdf has no derivative rule .*'a'"):
        gradient(lambda a: ss.gamma.cdf(1.2, a) + a, 2.5)
    with pytest.raises(DifferentiationError, match=r"scipy\.stats\.t\.cdf has no derivative rule .*'df'"):
        gradient(lambda df: np.sum(ss.t.cdf(np.array([0.1, 0.4]), df)), np.array([3.0, 4.5]))
    with pytest.raises(DifferentiationError, match=r"scipy\.stats\.beta\.cdf"):
        gradient(lambda a: ss.beta.cdf(0.3, np.exp(a), 2.0), 0.5)


def test_a_shape_with_no_closed_form_passed_by_keyword_gets_the_tangent_that_raises():
    _, back = RULES[ss.beta.cdf](0.3, a=2.5, b=2, loc=0.1)
    _, x_bar, kw = back(1.0)
    assert set(kw) == {"a", "loc"}  # b is an integer: no cotangent
    assert isinstance(kw["a"], NotImplementedTangent) and kw["a"].argument == "a"
    assert kw["loc"] == pytest.approx(-x_bar)
    with pytest.raises(DifferentiationError, match=r"scipy\.stats\.beta\.cdf has no derivative rule .*'a'"):
        gradient(lambda a: ss.beta.cdf(0.3, a=a, b=2.0) + a, 2.5)
    # constant keyword shapes stop nothing
    (g,) = gradient(lambda x: ss.beta.cdf(x, a=2.5, b=1.5), 0.3)
    assert g == pytest.approx(ss.beta.pdf(0.3, 2.5, 1.5))


def test_an_integer_shape_of_a_distribution_function_gets_no_tangent():
    _, back = RULES[ss.t.cdf](0.3, 4, 0.1, 2.0)
    assert back(1.0)[2] is None


# --- through dpnb.gradient (today's core reaches the rules for these calls) -----------------------------


def test_norm_pdf_through_gradient():
    x = 0.5
    assert gradient(lambda x: ss.norm.pdf(x), x)[0] == pytest.approx(-x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi))


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda x, m, s: ss.norm.logpdf(x, m, s), (0.5, 0.1, 1.3)),
        (lambda x, df: ss.t.logpdf(x, df, 0.2, 1.5), (0.5, 3.5)),
        (lambda x, a: ss.gamma.pdf(x, a), (1.7, 2.3)),
        (lambda x, a, b: ss.beta.logpdf(x, a, b), (0.3, 2.5, 1.5)),
        (lambda x, df: ss.chi2.logpdf(x, df), (1.7, 3.3)),
        (lambda x, m: ss.norm.logcdf(x, m, 2.0) + ss.norm.logsf(x, m, 2.0), (0.3, -0.4)),
        (lambda x: ss.t.cdf(x, 3.0) + ss.gamma.sf(x + 1.0, 2.5), (0.4,)),
        (lambda mu: ss.poisson.logpmf(3, mu) + ss.poisson.cdf(2, mu), (2.5,)),
        (lambda m, s: ss.norm(m, s).logpdf(0.7) + ss.norm(m, s).cdf(0.1), (0.3, 1.5)),
        (lambda mu: ss.poisson(mu).logpmf(4), (1.5,)),
        (lambda x, m, c: ss.multivariate_normal.logpdf(x, m, c), (np.array([0.1, 0.2]), np.array([0.3, -0.1]),
                                                                 np.array([[2.0, 0.3], [0.3, 1.0]]))),
        (lambda x, a: ss.dirichlet.logpdf(x, a), (np.array([0.2, 0.3]), np.array([1.3, 2.0, 3.0]))),
        # parameters by keyword
        (lambda x, m, s: ss.norm.logpdf(x, loc=m, scale=s) + ss.norm.cdf(x, scale=s), (0.5, 0.1, 1.3)),
        (lambda x, a, b: ss.beta.pdf(x, a=a, b=b), (0.3, 2.5, 1.5)),
        (lambda x, df: ss.t.logpdf(x, df=df, loc=0.2), (0.5, 3.5)),
        (lambda mu: ss.poisson.logpmf(3, mu=mu) + ss.poisson.sf(2, mu=mu), (2.5,)),
        (lambda m, s: ss.norm(loc=m, scale=s).logpdf(0.7) + ss.norm(m, scale=s).cdf(0.1), (0.3, 1.5)),
        (lambda a, s: ss.gamma(a, scale=s).logpdf(1.7), (2.3, 1.5)),
        (lambda x, m, c: ss.multivariate_normal.logpdf(x, mean=m, cov=c), (np.array([0.1, 0.2]),
                                                                          np.array([0.3, -0.1]),
                                                                          np.array([[2.0, 0.3], [0.3, 1.0]]))),
        (lambda x, a: ss.dirichlet.pdf(x, alpha=a), (np.array([0.2, 0.3]), np.array([1.3, 2.0, 3.0]))),
    ],
)
def test_distributions_through_gradient(f, args):
    assert gradcheck(f, *args, rtol=1e-5, atol=1e-7)


def test_dirichlet_gradient_in_all_components_is_the_formulas():
    x, alpha = np.array([0.2, 0.3, 0.5]), np.array([1.3, 2.0, 3.0])
    (g,) = gradient(lambda x: ss.dirichlet.logpdf(x, alpha), x)
    assert g == pytest.approx((alpha - 1) / x)
    assert scipy.special.xlogy(alpha - 1, x).sum() - ss.dirichlet.logpdf(x, alpha) == pytest.approx(
        scipy.special.gammaln(alpha).sum() - scipy.special.gammaln(alpha.sum())
    )


def test_a_quantile_of_a_float_shape_refuses_its_derivative():
    with pytest.raises(DifferentiationError, match="shape"):
        gradient(lambda a: float(ss.gamma.ppf(0.3, a)), 2.5)
    # and the quantile's gradient in q and scale, through gradient, against differences
    f = lambda q, s: float(np.sum(ss.gamma.ppf(q, 3, 0.1, s) ** 2))  # noqa: E731
    assert gradcheck(f, np.array([0.2, 0.7]), 1.5)
