"""The indexing table: getitem, take, take_along_axis, where, clip, diff, sort, partition."""
import numpy as np

from _tables import A, C, S, Seq, table_test

F32 = np.float32

CASES = []
#: the function behind np.r_[...] and np.c_[...]
CONCATENATE = type(np.r_).__getitem__

CASES += [
    C(np.ndarray.__getitem__, A((4, 3)), (slice(1, 3), 0)),
    C(np.ndarray.__getitem__, A((4, 3)), np.array([0, 2, 0])),
    C(np.ndarray.__getitem__, A((4, 3)), np.array([True, False, True, True])),
    C(np.ndarray.__getitem__, A((4, 3), "real", F32), (Ellipsis, None, 1), rtol=1e-3, atol=1e-4),
    C(np.take, A((5,)), [0, 4, 4]),
    C(np.take, A((2, 3)), np.array([[0, 2], [2, 2]]), axis=1),
    C(np.take, A((2, 3)), [7, -1], mode="wrap"),
    C(np.ndarray.take, A((2, 3)), [1, 1], 0),
    C(np.take_along_axis, A((2, 3)), np.array([[0, 0], [2, 1]]), 1),
    C(np.take_along_axis, A((2, 3)), np.array([[1, 0, 1]]), axis=0),
    C(np.where, np.array([True, False, True]), A((3,)), A((2, 3))),
    C(np.where, np.array([True, False]), S(), A((2,))),
    C(np.where, np.array([True, False, True]), A((3,)), A((3,), "complex")),
    C(np.where, np.array([True, False]), S("complex"), A((2,))),
    C(np.where, np.array([True, False]), wrt=[]),
    C(np.clip, A((5,), "distinct"), -0.37, 0.61),
    C(np.clip, A((2, 3), "distinct"), A((3,), "distinct"), S("gt1")),
    C(np.clip, A((4,), "distinct"), None, 0.03),
    C(np.clip, A((4,), "distinct"), min=0.1),
    C(np.clip, A((5,), "distinct"), a_min=-0.37, a_max=np.array([0.61, 0.2, 5.0, -0.5, 0.0])),
    C(np.clip, A((2, 3), "distinct"), A((3,), "distinct"), a_max=0.3),
    C(np.ndarray.clip, A((4,), "distinct"), max=0.4),
    C(np.ndarray.clip, A((4,), "distinct"), min=np.array([0.0, 0.2, -2.0, 5.0])),
    C(np.ndarray.clip, A((4,), "distinct"), 0.31, 1.07),
    C(np.diff, A((5,))),
    C(np.diff, A((3, 4)), 2),
    C(np.diff, A((3, 4)), axis=0),
    C(np.diff, A((4,)), prepend=0.0, append=np.array([1.0, 2.0])),
    C(np.diff, A((2, 3)), 2, axis=0, prepend=np.array([[0.5, 1.0, 1.5]])),
    C(np.diff, A((2, 3)), n=2, append=1.5),
    C(np.sort, A((5,), "distinct")),
    C(np.sort, A((3, 4), "distinct"), 0),
    C(np.sort, A((3, 4), "distinct"), axis=None),
    C(np.partition, A((6,), "distinct"), 2),
    C(np.partition, A((3, 4), "distinct"), 1, axis=0),
    C(
        np.select,
        [np.array([True, False, False]), np.array([True, True, False])],
        Seq(list, (A((3,)), A((3,)))),
        A((3,)),
    ),
    C(np.select, [np.array([[True], [False]])], Seq(tuple, (A((2, 3)),)), S()),
    C(np.select, [np.array([False, True])], Seq(list, (A((2,)),)), default=1.5),
    C(np.unique, A((5,), "distinct")),
    C(np.unique, A((4,), "distinct"), True, True, True),
    C(np.unique, A((3, 2), "distinct"), return_inverse=True),
    C(np.unique, A((2, 3), "distinct"), axis=1),
    C(CONCATENATE, np.r_, Seq(tuple, (A((2,)), S(), A((3,)))), wrt=[1]),
    C(CONCATENATE, np.r_, A((3,)), wrt=[1]),
    C(CONCATENATE, np.r_, Seq(tuple, ("-1", A((2, 2)), A((2, 1)))), wrt=[1]),
    C(CONCATENATE, np.c_, Seq(tuple, (A((3,)), A((3, 2)))), wrt=[1]),
    C(CONCATENATE, np.c_, Seq(tuple, (A((2,)), A((2,)), A((2,)))), wrt=[1]),
]


test_indexing_rule = table_test(CASES)


def test_clip_bounds_given_by_keyword_get_their_cotangents_in_a_trailing_dict():
    from dpnb.rules.registry import RULES

    x = np.array([-1.0, 0.5, 2.0])
    _, back = RULES[np.clip](x, a_min=0.0, a_max=np.array([1.0, 1.0, 1.5]))
    bars = back(np.array([10.0, 20.0, 30.0]))
    assert len(bars) == 3 and type(bars[-1]) is dict
    np.testing.assert_array_equal(bars[1], [0.0, 20.0, 0.0])
    assert bars[2]["a_min"] == 10.0 and np.array_equal(bars[2]["a_max"], [0.0, 0.0, 30.0])
    # positional bounds: no trailing dict
    _, back = RULES[np.clip](x, 0.0, 1.0)
    assert len(back(np.ones(3))) == 4


def test_select_takes_the_first_true_condition_then_the_default():
    from dpnb.rules.registry import RULES

    x = np.array([1.0, 2.0, 3.0])
    conds = [x > 1.5, x > 0.5]
    y, back = RULES[np.select](conds, [10 * x, 100 * x], -1.0)
    np.testing.assert_array_equal(y, [100.0, 20.0, 30.0])
    _, _, (first, second), default = back(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(first, [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(second, [1.0, 0.0, 0.0])
    assert default == 0.0


def test_unique_shares_a_value_cotangent_between_equal_entries():
    from dpnb.rules.registry import RULES

    y, back = RULES[np.unique](np.array([3.0, 1.0, 3.0, 2.0]), return_counts=True)
    np.testing.assert_array_equal(y[0], [1.0, 2.0, 3.0])
    _, a_bar = back((np.array([10.0, 20.0, 30.0]), None))
    np.testing.assert_array_equal(a_bar, [15.0, 10.0, 15.0, 20.0])
    _, back = RULES[np.unique](np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]]), axis=0)
    np.testing.assert_array_equal(back(np.array([[1.0, 2.0], [3.0, 4.0]]))[1], [[1.5, 2.0], [1.5, 2.0], [1.0, 2.0]])


def test_r_and_c_send_each_entry_its_cotangent_and_nothing_to_slices_and_directives():
    from dpnb.rules.registry import RULES

    x = np.array([1.0, 2.0])
    y, back = RULES[CONCATENATE](np.r_, (x, 3.0, slice(0, 2), [4.0, 5.0]))
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0, 0.0, 1.0, 4.0, 5.0])
    _, r_bar, key_bar = back(np.arange(7.0))
    assert r_bar is None
    np.testing.assert_array_equal(key_bar[0], [0.0, 1.0])
    assert key_bar[1] == 2.0 and key_bar[2] is None and key_bar[3] == [5.0, 6.0]
    y, back = RULES[CONCATENATE](np.r_, ("0,2", x, 2 * x))
    assert y.shape == (2, 2)
    _, _, key_bar = back(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert key_bar[0] is None
    np.testing.assert_array_equal(key_bar[2], [3.0, 4.0])


def test_getitem_of_an_index_expression_object_uses_its_rule():
    import operator

    from dpnb.rules.registry import RULES

    y, back = RULES[operator.getitem](np.c_, (np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    np.testing.assert_array_equal(y, [[1.0, 3.0], [2.0, 4.0]])
    _, _, key_bar = back(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(key_bar[0], [1.0, 3.0])
    np.testing.assert_array_equal(key_bar[1], [2.0, 4.0])
