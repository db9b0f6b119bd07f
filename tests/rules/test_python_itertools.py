"""The itertools rule table, and the same functions end to end through `dpnb.gradient`.

The rules return iterators: the rows are `lazy` (their items are compared with those of
the real iterator, and paired with the cotangents). Inputs that a predicate or a key
looks at are drawn from intervals that keep away from its threshold, so that a small
step never changes which items are chosen or how they are grouped.
"""
import functools
import itertools
import math
import operator
import statistics

import numpy as np
import pytest

from _tables import A, C, S, Seq, table_test
from dpnb import gradient
from dpnb.rules.registry import RULES
from dpnb.testing import gradcheck


def mul_sin(a, b):
    return a * math.sin(b)


def is_positive(v):
    return v > 0


def below_one(v):
    return v < 1.0


def L(*specs):
    return Seq(list, specs)


def T(*specs):
    return Seq(tuple, specs)


def I(f, *args, **options):  # noqa: E743
    return C(f, *args, **{"lazy": True, **options})


CASES = [
    I(itertools.accumulate, L(S(), S(), S())),
    I(itertools.accumulate, T(S(), S(), S()), operator.mul),
    I(itertools.accumulate, L(S(), S(), S()), mul_sin),
    I(itertools.accumulate, L(S(), S()), func=operator.mul),
    I(itertools.accumulate, L(S(), S(), S()), initial=0.5),
    I(itertools.accumulate, L(S(), S()), operator.mul, initial=1.5),
    I(itertools.accumulate, [], initial=2.5),
    I(itertools.accumulate, A((3,))),
    I(itertools.accumulate, A((3, 2))),
    I(itertools.chain, L(S(), S()), T(S(),), A((2,))),
    I(itertools.chain, L(A((2,)), A((2,))), L(S(),)),
    I(itertools.chain.from_iterable, L(L(S(), S()), T(S(),), A((2,)))),
    I(itertools.compress, L(S(), S(), S()), [1, 0, 1]),
    I(itertools.compress, A((4,)), [True, False, False, True]),
    I(itertools.compress, data=[0.5, -1.5, 2.0], selectors=[0, 1, 1]),
    I(itertools.dropwhile, is_positive, L(S("pos"), S("neg"), S("pos"))),
    I(itertools.takewhile, is_positive, T(S("pos"), S("pos"), S("neg"), S("pos"))),
    I(itertools.filterfalse, below_one, L(S("tiny"), S("gt1"), S("neg"), S("gt1"))),
    # the falsy items are zeros, which a step makes truthy: values and kinds only (see below)
    I(itertools.filterfalse, None, L(0.0, S("nonzero"), 0.0), wrt=[]),
    # without a key, distinct items are groups of one (the key is the item: both get cotangents)
    I(itertools.groupby, L(S("neg"), S("gt1"), S("tiny"))),
    I(itertools.groupby, L(S("pos"), S("pos"), S("neg"), S("pos")), is_positive),
    I(itertools.groupby, T(S("neg"), S("neg"), S("gt1")), key=below_one),
    I(itertools.groupby, A((4,), "nonzero"), is_positive),
    I(itertools.islice, L(S(), S(), S(), S()), 2),
    I(itertools.islice, L(S(), S(), S(), S(), S()), 1, None, 2),
    I(itertools.islice, A((4, 2)), 1, 3),
    I(itertools.pairwise, L(S(), S(), S())),
    I(itertools.pairwise, A((3,))),
    I(itertools.product, L(S(), S()), T(S(), S(), S())),
    I(itertools.product, L(S(), S()), repeat=2),
    I(itertools.repeat, S(), 3),
    I(itertools.repeat, A((2,)), 2),
    I(itertools.repeat, S(), times=3),
    I(itertools.repeat, object=1.5, times=2),
    # endless: the first items
    I(itertools.repeat, S(), lazy=4),
    I(itertools.count, S(), S(), lazy=4),
    I(itertools.count, 1.5, lazy=3),
    I(itertools.count, start=0.5, step=0.25, lazy=5),
    I(itertools.count, lazy=3),
    I(itertools.cycle, L(S(), S()), lazy=5),
    I(itertools.cycle, A((3,)), lazy=7),
    I(itertools.cycle, T(S(),), lazy=2),
    I(itertools.starmap, operator.mul, L(T(S(), S()), T(S(), S()))),
    I(itertools.starmap, mul_sin, T(L(S(), S()), T(S(), S()), T(S(), S()))),
    I(itertools.starmap, pow, L(T(S("pos"), S()), T(S("pos"), 2))),
    I(itertools.zip_longest, L(S(), S(), S()), T(S(),)),
    I(itertools.zip_longest, L(S(), S(), S()), A((1,)), fillvalue=0.5),
    I(itertools.zip_longest, L(S(),), L(S(), S()), fillvalue=np.array([1.0, 2.0])),
]


test_itertools_rule = table_test(CASES)


# --- what the rules return is an iterator -------------------------------------------------------


def test_the_result_is_an_iterator_that_is_read_once():
    it, _ = RULES[itertools.chain]([1.0, 2.0], (3.0,))
    assert next(it) == 1.0
    assert list(it) == [2.0, 3.0]
    assert list(it) == []


def test_islice_reads_no_further_than_python():
    from dpnb.core.runtime import SeqIter

    source = SeqIter([1.0, 2.0, 3.0, 4.0])
    y, back = RULES[itertools.islice](source, 2)
    assert list(y) == [1.0, 2.0] and next(source) == 3.0
    source = SeqIter([1.0, -2.0, 3.0])
    y, back = RULES[itertools.takewhile](is_positive, source)
    assert list(y) == [1.0] and next(source) == 3.0  # the item that stops takewhile is read too


def test_an_iterator_argument_gets_cotangents_by_position():
    from dpnb.core.runtime import SeqIter

    source = SeqIter([1.0, 2.0, 3.0])
    next(source)
    y, back = RULES[itertools.pairwise](source)
    assert list(y) == [(2.0, 3.0)]
    _, bar = back([(10.0, 20.0)])
    assert bar.items == {1: 10.0, 2: 20.0}


def test_groupby_compares_items_as_python_does():
    y, back = RULES[itertools.groupby]([1.0, 1.0, 2.0])
    groups = [(k, list(g)) for k, g in y]
    assert groups == [(1.0, [1.0, 1.0]), (2.0, [2.0])]
    # the key of a group is its first item
    assert back([(5.0, [1.0, 2.0]), (7.0, [3.0])]) == (None, [6.0, 2.0, 10.0])


def test_keywords_that_carry_no_gradient_get_no_trailing_dict():
    _, back = RULES[itertools.product]([1.0, 2.0], repeat=2)
    assert len(back([(1.0, 1.0)] * 4)) == 2
    _, back = RULES[itertools.accumulate]([1.0, 2.0], initial=None)
    assert len(back([1.0, 1.0])) == 2


# --- end to end -------------------------------------------------------------------------------------


def _zip_repeat(x, ys):
    return sum(a * b for a, b in zip(itertools.repeat(x), ys))


def _first_two(xs):
    it = itertools.chain(xs, [2.0])
    a = next(it)
    b = next(it)
    return a * b * 3.0


def _after_next(xs):
    it = iter(xs)
    first = next(it)
    return first * sum(v * v for v in itertools.chain(it, [2.0]))


def _two_passes(xs):
    it = itertools.chain(xs, xs)
    return sum(it) + sum(it)  # the second pass finds it exhausted


def _loop_then_next(xs):
    it = itertools.islice(xs, 0, None)
    first = next(it)
    total = 0.0
    for v in it:
        total = total + v * first
    return total


def _group_maxima(xs):
    return sum(max(g) ** 2 for _, g in itertools.groupby(xs, lambda v: v > 1.5))


def _group_sums_twice(xs):
    return sum(sum(g) * sum(g) for _, g in itertools.groupby(xs, lambda v: v > 1.5))


def _repeat_loop(x):
    total, k = 0.0, 0
    for v in itertools.repeat(x):
        if k == 3:
            break
        k = k + 1
        total = total + v * k
    return total


END_TO_END = {
    "accumulate": (lambda xs: sum(itertools.accumulate(xs)), [1.0, 2.0, 3.0]),
    "accumulate of a tuple": (lambda xs: sum(itertools.accumulate(xs)), (1.0, 2.0, 3.0)),
    "accumulate mul": (lambda xs: sum(itertools.accumulate(xs, operator.mul)), [1.0, 2.0, 3.0]),
    "accumulate func=": (lambda xs: sum(itertools.accumulate(xs, func=operator.mul)), [1.0, 2.0, 3.0]),
    "accumulate a closure": (lambda xs: sum(itertools.accumulate(xs, lambda a, b: a * b + xs[0])), [1.0, 2.0, 3.0]),
    "accumulate initial=": (lambda xs: sum(itertools.accumulate(xs, initial=xs[0] * 2.0)), [1.0, 2.0, 3.0]),
    "accumulate an array": (lambda x: sum(itertools.accumulate(x)), np.array([1.0, 2.0, 3.0])),
    "accumulate rows": (lambda x: np.sum(sum(itertools.accumulate(x)) ** 2), np.arange(6.0).reshape(3, 2)),
    "accumulate a generator": (lambda xs: sum(itertools.accumulate(x * x for x in xs)), [1.0, 2.0, 3.0]),
    "accumulate iter()": (lambda xs: sum(itertools.accumulate(iter(xs))), [1.0, 2.0, 3.0]),
    "chain": (lambda xs: sum(x * i for i, x in enumerate(itertools.chain(xs, xs[::-1]))), [1.0, 2.0]),
    "chain.from_iterable": (lambda xs: sum(x * x for x in itertools.chain.from_iterable([xs, [xs[0], 3.0]])),
                            [1.0, 2.0]),
    "compress": (lambda xs: sum(itertools.compress(xs, [1, 0, 1])) ** 2, [1.0, 2.0, 3.0]),
    "compress by keyword": (lambda xs: sum(itertools.compress(data=xs, selectors=[1, 0, 1])) ** 2, [1.0, 2.0, 3.0]),
    "dropwhile": (lambda xs: sum(v * v for v in itertools.dropwhile(lambda v: v < 2, xs)), [1.0, 2.5, 0.5]),
    "takewhile": (lambda xs: sum(v * v for v in itertools.takewhile(lambda v: v < 2, xs)), [1.0, 1.5, 2.5, 0.5]),
    "filterfalse": (lambda xs: sum(v * v for v in itertools.filterfalse(lambda v: v < 2, xs)), [1.0, 2.5, 0.5, 3.0]),
    "groupby lists": (lambda xs: sum(sum(g) ** 2 for _, g in itertools.groupby(xs, key=lambda v: v > 1.5)),
                      [1.0, 1.2, 2.0, 3.0, 0.5]),
    "groupby keys": (lambda xs: sum(k * k for k, _ in itertools.groupby(xs)), [1.0, 2.0, 3.0]),
    "groupby max": (_group_maxima, [1.0, 1.2, 2.0, 3.0]),
    "groupby twice": (_group_sums_twice, [1.0, 1.2, 2.0, 3.0]),
    "islice": (lambda xs: sum(v * v for v in itertools.islice(xs, 1, None, 2)), [1.0, 2.0, 3.0, 4.0]),
    "next(islice)": (lambda xs: next(itertools.islice(xs, 1, None)) ** 2, [1.0, 2.0, 3.0]),
    "pairwise": (lambda xs: sum(a * b for a, b in itertools.pairwise(xs)), [1.0, 2.0, 3.0]),
    "product": (lambda xs, ys: sum(a * b for a, b in itertools.product(xs, ys)), [1.0, 2.0], [3.0, 4.5]),
    "product repeat=": (lambda xs: sum(a * b * b for a, b in itertools.product(xs, repeat=2)), [1.0, 2.0]),
    "repeat": (lambda x: sum(v * v for v in itertools.repeat(x, 3)), 1.5),
    "repeat times=": (lambda x: sum(v * v for v in itertools.repeat(x, times=3)), 1.5),
    "zip with an endless repeat": (_zip_repeat, 1.5, [1.0, 2.0]),
    "zip with count": (lambda xs: sum(a * i for a, i in zip(xs, itertools.count(1))) ** 2, [1.0, 2.0, 3.0]),
    "count from a value": (lambda x, xs: sum(a * t for a, t in zip(xs, itertools.count(x, x / 2))), 0.7,
                           [1.0, 2.0, 3.0]),
    "cycle": (lambda ws, xs: sum(w * a for w, a in zip(itertools.cycle(ws), xs)), [0.5, -1.5], [1.0, 2.0, 3.0]),
    "islice of cycle": (lambda ws: sum(v * v for v in itertools.islice(itertools.cycle(ws), 1, 6)), [0.5, -1.5]),
    "map with an endless repeat": (lambda xs: sum(map(pow, xs, itertools.repeat(3))), [1.0, 2.0]),
    "a loop over an endless repeat": (_repeat_loop, 1.5),
    "starmap": (lambda xs: sum(itertools.starmap(operator.mul, zip(xs, xs[1:]))), [1.0, 2.0, 3.0]),
    "starmap a function": (lambda xs: sum(itertools.starmap(mul_sin, [(xs[0], xs[1]), (xs[2], xs[0])])),
                           [1.0, 2.0, 3.0]),
    "zip_longest": (lambda xs, ys: sum(a * (b or 1.0) for a, b in itertools.zip_longest(xs, ys)),
                    [1.0, 2.0, 3.0], [4.0, 5.0]),
    "zip_longest fillvalue=": (lambda xs, ys: sum(a * b for a, b in itertools.zip_longest(xs, ys, fillvalue=xs[0])),
                               [1.0, 2.0, 3.0], [4.0]),
    # what reads an iterator: builtins, math, statistics
    "enumerate(accumulate)": (lambda xs: sum(i * v for i, v in enumerate(itertools.accumulate(xs), 1)),
                              [1.0, 2.0, 3.0]),
    "sorted(chain)": (lambda xs: sorted(itertools.chain(xs, [0.5]))[1] * 3.0, [1.0, 2.5, -3.0]),
    "max(chain)": (lambda xs: max(itertools.chain(xs, [0.5])) ** 2, [1.0, 2.5, -3.0]),
    "min(pairwise, key=)": (lambda xs: min(itertools.pairwise(xs), key=lambda p: p[0] - p[1])[1] ** 2,
                            [1.0, 2.5, -3.0]),
    "dict(zip(.., accumulate))": (lambda xs: dict(zip("abc", itertools.accumulate(xs)))["c"] ** 2, [1.0, 2.5, -3.0]),
    "statistics.mean(accumulate)": (lambda xs: statistics.mean(itertools.accumulate(xs)) ** 2, [1.0, 2.5, -3.0]),
    "statistics.pstdev(accumulate)": (lambda xs: statistics.pstdev(itertools.accumulate(xs)), [1.0, 2.5, -3.0]),
    "math.fsum(islice)": (lambda xs: math.fsum(itertools.islice(xs, 2)) ** 2, [1.0, 2.5, -3.0]),
    "math.prod(chain)": (lambda xs: math.prod(itertools.chain(xs, xs)), [1.0, 2.5, -3.0]),
    "reduce(islice)": (lambda xs: functools.reduce(operator.mul, itertools.islice(xs, 1, None)), [1.0, 2.5, -3.0]),
    "map(.., repeat)": (lambda xs: sum(map(operator.mul, itertools.repeat(xs[0]), xs)), [1.0, 2.5, -3.0]),
    "filter(accumulate)": (lambda xs: sum(filter(lambda v: v > 0, itertools.accumulate(xs))) ** 2, [1.0, 2.5, -3.0]),
    "tuple(compress)": (lambda xs: tuple(itertools.compress(xs, [1, 0, 1]))[1] ** 2, [1.0, 2.5, -3.0]),
    "unpacked": (lambda xs: (lambda t: t[0] * t[1] * t[2])(tuple(itertools.accumulate(xs))), [1.0, 2.5, -3.0]),
    "next() twice": (_first_two, [1.0, 2.0, 3.0]),
    "after next(iter(xs))": (_after_next, [1.0, 2.0, 3.0]),
    "two passes": (_two_passes, [1.0, 2.0, 3.0]),
    "a loop after next()": (_loop_then_next, [1.0, 2.0, 3.0]),
}


@pytest.mark.parametrize("name", list(END_TO_END))
def test_gradient_through_itertools(name):
    f, *args = END_TO_END[name]
    assert gradcheck(f, *args)


def test_reading_all_of_an_endless_iterator_is_refused():
    from dpnb import DifferentiationError

    def f(x):
        for k, v in enumerate(itertools.repeat(x)):  # fine in Python; enumerate reads it all under dpnb
            if k == 2:
                return v

    with pytest.raises(DifferentiationError, match="endless itertools.repeat"):
        gradient(f, 1.5)
    with pytest.raises(DifferentiationError, match="endless itertools.cycle"):
        gradient(lambda xs: sum(itertools.cycle(xs)), [1.0])


def test_count_adds_its_step_as_count_does():
    y, back = RULES[itertools.count](0.1, 0.1)
    assert list(itertools.islice(y, 10)) == list(itertools.islice(itertools.count(0.1, 0.1), 10))
    # item i is start + i step: start gets the sum of the cotangents, step their sum weighted by i
    assert back([1.0, 2.0, 3.0]) == (None, 6.0, 8.0)


def _star_call(xs):
    return (lambda a, b, c: a * b * c)(*itertools.accumulate(xs))


def _star_literal(xs):
    t = [*itertools.chain(xs, [2.0])]
    return t[0] * t[3]


def _iter_of_an_iterator(xs):
    return next(iter(itertools.chain(xs, [1.0]))) ** 2


@pytest.mark.xfail(strict=True, reason="core: literal_bar/unpack_bar take len() of the iterator in the backward pass")
@pytest.mark.parametrize("f", [_star_call, _star_literal])
def test_star_unpacking_an_iterator(f):
    assert gradcheck(f, [1.0, 2.5, -3.0])


def test_iter_of_an_iterator():
    assert gradcheck(_iter_of_an_iterator, [1.0, 2.5, -3.0])


def test_the_value_is_python_s():
    # a second pass over an iterator finds nothing, as in Python: the items are counted once
    assert _two_passes([1.0, 2.0]) == 6.0
    (g,) = gradient(_two_passes, [1.0, 2.0])
    assert g == [2.0, 2.0]


def test_filterfalse_without_a_predicate_keeps_the_falsy_items():
    y, back = RULES[itertools.filterfalse](None, [0.0, 1.5, 0.0])
    assert list(y) == [0.0, 0.0]
    assert back([2.0, 3.0]) == (None, None, [2.0, None, 3.0])
