"""The sampled-functions table: linspace, logspace, geomspace in their end points (arrays,
axis, retstep, base), interp in x, xp, fp, left and right (and with a period), gradient in
the samples and the spacings or coordinates (every edge order, several axes)."""
import numpy as np

from _tables import A, C, S, table_test

CASES = [
    C(np.linspace, S(), S(), 5),
    C(np.linspace, S(), S(), num=4, endpoint=False),
    C(np.linspace, S(), S(), 1),
    C(np.linspace, A((2,)), A((3, 1)), 4, axis=1),
    C(np.linspace, A((2,)), S(), 3, axis=-1),
    C(np.linspace, S(), S(), 5, retstep=True),
    C(np.linspace, S(), S(), 3, True, True),
    C(np.linspace, S(), A((2,)), 6, dtype=np.float32, rtol=1e-3, atol=1e-4, eps=1e-3),
    C(np.linspace, S("pos"), S("gt1"), 4, dtype=int, wrt=[]),
    C(np.logspace, S(), S(), 4),
    C(np.logspace, A((2,)), S(), 3, base=2.0),
    C(np.logspace, S(), S(), 5, False, S("gt1")),
    C(np.logspace, S(), S(), 3, base=np.array([2.0, 3.0]), axis=1),
    C(np.geomspace, S("pos"), S("gt1"), 5),
    C(np.geomspace, S("neg"), S("neg"), 4, endpoint=False),
    C(np.geomspace, A((2,), "pos"), S("gt1"), 3, axis=1),
    # x away from the samples, where interp is smooth
    C(np.interp, np.array([0.3, 1.7, 2.2, -1.0, 5.0]), np.array([0.0, 1.0, 2.5, 4.0]), A((4,))),
    C(np.interp, np.array([0.3, 1.7, 2.2, -1.0, 5.0]), np.array([0.0, 1.0, 2.5, 4.0]), A((4,)), -2.0, 3.0),
    C(np.interp, np.array([0.3, 2.2, 7.5]), np.array([0.0, 1.0, 2.5, 4.0]), A((4,), "complex"), right=1.5),
    C(np.interp, np.array([[0.5, 3.3], [1.25, 2.6]]), np.array([0.0, 1.0, 2.0, 3.0, 4.0]), A((5,)), left=0.25),
    C(np.interp, 1.6, np.array([0.0, 1.0, 2.5]), A((3,))),
    C(np.interp, np.array([0.4, 1.3, 2.8, -0.6, 4.2]), np.array([0.0, 1.0, 2.5, 3.25]), A((4,)), period=3.5),
    C(np.interp, x=np.array([0.3, 4.5]), xp=np.array([0.0, 1.0, 2.5]), fp=np.array([1.0, -2.0, 0.5]), right=-1.0),
    C(np.gradient, A((5,))),
    C(np.gradient, A((5,)), S("pos")),
    C(np.gradient, A((6,)), np.array([0.0, 0.5, 1.5, 1.75, 3.0, 4.0])),
    C(np.gradient, A((5,)), edge_order=2),
    C(np.gradient, A((5,)), np.array([0.0, 0.3, 1.0, 1.2, 2.5]), edge_order=2),
    C(np.gradient, A((3, 4))),
    C(np.gradient, A((3, 4)), S("pos")),
    C(np.gradient, A((3, 4)), S("pos"), np.array([0.0, 1.0, 1.5, 3.0]), edge_order=2),
    C(np.gradient, A((3, 4)), axis=1),
    C(np.gradient, A((3, 4, 3)), np.array([0.0, 0.5, 2.0]), S("pos"), axis=(0, 2)),
    C(np.gradient, A((4,), "complex"), np.array([0.0, 1.0, 1.5, 3.0])),
]

test_sampling_rule = table_test(CASES)


def test_an_integer_grid_has_no_gradient():
    from dpnb.rules.registry import RULES

    _, back = RULES[np.linspace](0.5, 7.5, 4, dtype=int)
    assert back(np.ones(4)) == (None, None, None, None)


def test_interp_at_a_sample_takes_the_segment_to_its_right_and_at_the_last_the_one_to_its_left():
    from dpnb.rules.registry import RULES

    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    _, back = RULES[np.interp](np.array([1.0, 3.0]), xp, fp)
    np.testing.assert_allclose(back(np.ones(2))[1], [0.5, 0.5])
