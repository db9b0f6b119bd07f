"""The random-draws table: `permutation` and `choice` (global, `Generator`, `RandomState`) and
`Generator.permuted`.

The rule and NumPy itself draw from generators in equal states, so their results agree;
each selected entry's cotangent counts how often it was drawn. `permuted`, which draws only
from the generator it is given, is also checked against finite differences (`check_rrule`
deep-copies the generator with the other arguments, so every call permutes alike)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _tables import A, C, table_test
from dpnb import DifferentiationError, gradient
from dpnb.rules.registry import RULES
from dpnb.testing import gradcheck

CASES = [
    C(np.random.permutation, A((5,))),
    C(np.random.permutation, 5, wrt=[]),
    C(np.random.Generator.permutation, np.random.default_rng(3), A((4, 2))),
    C(np.random.Generator.permutation, np.random.default_rng(3), A((2, 4)), axis=1),
    C(np.random.RandomState.permutation, np.random.RandomState(3), A((4,))),
    C(np.random.choice, A((5,)), 3),
    C(np.random.Generator.choice, np.random.default_rng(3), A((5, 2)), 4),
    C(np.random.Generator.choice, np.random.default_rng(3), A((5,)), 3, replace=False),
    C(np.random.Generator.choice, np.random.default_rng(3), 4, wrt=[]),
    C(np.random.RandomState.choice, np.random.RandomState(3), A((5,)), (2, 2)),
]

PERMUTED = [
    C(np.random.Generator.permuted, np.random.default_rng(3), A((6,))),
    C(np.random.Generator.permuted, np.random.default_rng(3), A((3, 4))),
    C(np.random.Generator.permuted, np.random.default_rng(3), A((3, 4)), axis=1),
    C(np.random.Generator.permuted, np.random.default_rng(3), A((2, 3, 4)), axis=0),
    C(np.random.Generator.permuted, np.random.default_rng(3), A((2, 3, 4), "real", np.float32), axis=-1, rtol=1e-4),
    C(np.random.Generator.permuted, np.random.default_rng(3), A((4, 3), "complex")),
    C(np.random.Generator.permuted, np.random.default_rng(3), np.asfortranarray(np.arange(12.0).reshape(3, 4)), axis=0),
    C(np.random.Generator.permuted, np.random.default_rng(3), np.arange(24.0).reshape(4, 6)[::2, 1::2], axis=1),
    C(np.random.Generator.permuted, np.random.default_rng(3), [0.5, -1.0, 2.0, 3.5]),
    C(np.random.Generator.permuted, np.random.default_rng(3), np.arange(5), wrt=[1]),
]
CASES += PERMUTED

test_permuted_rule = table_test(PERMUTED)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_random_draw_rule(case, data):
    args = data.draw(case.strategy())

    def fresh():
        new = []
        for a in args:
            if isinstance(a, np.random.Generator):
                a = np.random.default_rng(3)
            elif isinstance(a, np.random.RandomState):
                a = np.random.RandomState(3)
            new.append(a)
        return new

    np.random.seed(7)
    y, pullback = RULES[case.f](*fresh(), **case.kwargs)
    np.random.seed(7)
    y_ref = case.f(*fresh(), **case.kwargs)
    np.testing.assert_array_equal(y, y_ref)
    y_bar = np.ones(np.shape(y))
    bars = pullback(y_bar)
    assert len(bars) == len(args) + 1
    for a, b in zip(args, bars[1:]):
        if isinstance(a, np.ndarray):
            # each entry's cotangent counts how often it was selected
            assert b.shape == a.shape
            assert b.sum() == y_bar.size


def test_permuted_moves_each_entry_s_cotangent_back_with_it():
    x = np.arange(12.0).reshape(3, 4) * 1.5
    y, back = RULES[np.random.Generator.permuted](np.random.default_rng(5), x, axis=1)
    assert np.array_equal(y, np.random.default_rng(5).permuted(x, axis=1))
    # the cotangent y_bar = y puts each entry's own value back where it came from
    _, _, x_bar = back(y)
    assert np.array_equal(x_bar, x)
    assert np.array_equal(np.sort(y, axis=1), x)  # each row was shuffled within itself


def test_permuted_advances_the_generator_as_numpy_does():
    rng, ref = np.random.default_rng(9), np.random.default_rng(9)
    RULES[np.random.Generator.permuted](rng, np.ones((3, 3)), axis=0)
    ref.permuted(np.ones((3, 3)), axis=0)
    assert rng.random() == ref.random()


def test_gradient_through_permuted():
    w = np.linspace(-1.0, 2.0, 12).reshape(3, 4)

    def f(x):
        rng = np.random.default_rng(0)
        return np.sum(w * np.sin(rng.permuted(x, axis=1)) + rng.permuted(x) ** 2 * w)

    assert gradcheck(f, np.linspace(0.3, 2.5, 12).reshape(3, 4))


def test_permuted_into_out_is_refused():
    x = np.ones(3)
    with pytest.raises(DifferentiationError, match="out="):
        RULES[np.random.Generator.permuted](np.random.default_rng(0), x, out=x)
    # through dpnb, `out=` of any function with a rule is computed out of place by the rule, and
    # the write into `out` followed (`runtime._out_call`): the gradient is the one without `out`
    w = np.arange(1.0, 6.0)
    x = np.arange(1.0, 6.0) / 3
    (got,) = gradient(lambda x: np.sum(np.random.default_rng(0).permuted(x * x, out=np.zeros(5)) * w), x)
    (want,) = gradient(lambda x: np.sum(np.random.default_rng(0).permuted(x * x) * w), x)
    np.testing.assert_allclose(got, want)
    assert not np.allclose(got, 2 * x * w)  # (the draw did permute)
