"""The Python people write: iterators, itertools, collections, getattr/setattr, nonlocal, and
C callables with no rule (constant when no differentiable value reaches them, NoRuleError when
one does). Each gradient is compared with central differences or an exact value.
"""
import collections
import itertools
import operator
import random
import struct
import time

import pytest

from dpnb import NoRuleError, gradient

try:
    from ._regress_check import check_fd, expect_grad
except ImportError:
    from _regress_check import check_fd, expect_grad


# -- iter / next ------------------------------------------------------------------------------


def test_iter_next_over_list():
    """it = iter([x, 2x, y]); a = next(it); b = next(it): a * b + next(it) = 2x^2 + y.

    Today: NoRuleError (no rule for iter).
    """
    def f(x, y):
        it = iter([x, 2.0 * x, y])
        a = next(it)
        b = next(it)
        return a * b + next(it)

    expect_grad(gradient(f, 1.5, -0.5), (6.0, 1.0))


def test_iter_next_over_tuple_with_default():
    """next over a tuple, then next(it, default) past the end: x * y + default.

    Today: NoRuleError (no rule for iter).
    """
    def f(x, y):
        it = iter((x, y))
        a = next(it)
        b = next(it)
        c = next(it, 10.0)
        return a * b + c

    expect_grad(gradient(f, 1.5, -0.5), (-0.5, 1.5))


def test_for_loop_after_partial_next():
    """Skip the first entry with next(), sum the rest in a for loop: y + z.

    Today: NoRuleError (no rule for iter).
    """
    def f(xs):
        it = iter(xs)
        next(it)
        total = 0.0
        for v in it:
            total = total + v * v
        return total

    expect_grad(gradient(f, [1.0, 2.0, 3.0]), ([0.0, 4.0, 6.0],))


# -- itertools --------------------------------------------------------------------------------


ITERTOOLS = {
    "accumulate": lambda xs: sum(itertools.accumulate(xs)),
    "accumulate(mul)": lambda xs: list(itertools.accumulate(xs, operator.mul))[-1],
    "chain": lambda xs: sum(v * v for v in itertools.chain(xs, [xs[0] * 3.0])),
    "chain.from_iterable": lambda xs: sum(itertools.chain.from_iterable([xs, xs[1:]])),
    "repeat": lambda xs: sum(a * b for a, b in zip(xs, itertools.repeat(xs[0], 3))),
    "islice": lambda xs: sum(v * v for v in itertools.islice(xs, 1, None)),
    "zip_longest": lambda xs: sum(a * b for a, b in itertools.zip_longest(xs, xs[:2], fillvalue=2.0)),
    "product": lambda xs: sum(a * b for a, b in itertools.product(xs[:2], xs[1:])),
    "starmap": lambda xs: sum(itertools.starmap(operator.mul, zip(xs, xs[1:]))),
    "groupby": lambda xs: sum(k * sum(g) for k, g in itertools.groupby(xs, key=lambda v: v > 0)),
    "pairwise": lambda xs: sum(a * b for a, b in itertools.pairwise(xs)),
    "compress": lambda xs: sum(itertools.compress(xs, [1, 0, 1])),
    "takewhile": lambda xs: sum(itertools.takewhile(lambda v: v < 2.0, xs)),
}


@pytest.mark.parametrize("name", list(ITERTOOLS))
def test_itertools(name):
    """Gradients flow through itertools, vs central differences at [0.5, 1.5, 2.5].

    Today: NoRuleError in all 13 cases (no rule for accumulate, chain, chain.from_iterable, repeat, islice,
        zip_longest, product, starmap, groupby, pairwise, compress, takewhile).
    """
    check_fd(ITERTOOLS[name], [0.5, 1.5, 2.5])


# -- collections -------------------------------------------------------------------------------


def test_defaultdict():
    """defaultdict(float) accumulating: d["a"] = x + y, d["b"] = x * y; d["a"] * d["b"].

    Today: NoRuleError (no rule for collections.defaultdict).
    """
    def f(x, y):
        d = collections.defaultdict(float)
        d["a"] += x
        d["a"] += y
        d["b"] += x * y
        return d["a"] * d["b"]

    check_fd(f, 1.5, -0.5)


def test_defaultdict_of_lists():
    """defaultdict(list) with appends: sum of squares per key.

    Today: NoRuleError (no rule for collections.defaultdict).
    """
    def f(xs):
        d = collections.defaultdict(list)
        for i, v in enumerate(xs):
            d[i % 2].append(v)
        return sum(v * v for v in d[0]) + 3.0 * sum(d[1])

    check_fd(f, [0.5, 1.5, 2.5])


def test_counter_of_floats():
    """Counter as a weighted sum: c["a"] += x; c["b"] += 2y; sum(c.values()) * x.

    Today: DifferentiationError: cannot send gradients back through item assignment on a Counter.
    """
    def f(x, y):
        c = collections.Counter()
        c["a"] += x
        c["b"] += 2.0 * y
        return sum(c.values()) * x

    check_fd(f, 1.5, -0.5)


def test_deque():
    """deque with append, appendleft, popleft, rotate.

    Today: NoRuleError (no rule for collections.deque).
    """
    def f(x, y):
        q = collections.deque([x, y])
        q.append(x * y)
        q.appendleft(3.0 * x)
        first = q.popleft()
        q.rotate(1)
        return first * q[0] + q[1]

    check_fd(f, 1.5, -0.5)


def test_ordered_dict():
    """OrderedDict with move_to_end, then its values in order.

    Today: NoRuleError (no rule for collections.OrderedDict).
    """
    def f(x, y):
        d = collections.OrderedDict()
        d["a"] = x
        d["b"] = y * y
        d.move_to_end("a")
        vals = list(d.values())
        return vals[0] * 2.0 + vals[1] * vals[0]

    check_fd(f, 1.5, -0.5)


def test_namedtuple_made_inside():
    """A namedtuple built inside and read by field: p.x * p.y.

    Today: passes.
    """
    P = collections.namedtuple("P", "x y")

    def f(x, y):
        p = P(x, y * 2.0)
        return p.x * p.y + p[0]

    check_fd(f, 1.5, -0.5)


# -- getattr / setattr with a constant name, nonlocal ----------------------------------------


class _Holder:
    def __init__(self, v):
        self.v = v


def test_getattr_constant_name():
    """getattr(o, "v") * x with o.v = x^2: x^3 -> 3x^2.

    Today: NoRuleError (no rule for getattr).
    """
    def f(x):
        o = _Holder(x * x)
        return getattr(o, "v") * x

    expect_grad(gradient(f, 1.5), (3 * 1.5**2,))


def test_getattr_with_default():
    """getattr(o, "w", x) falls back to the default: x * o.v = x * 3x -> 6x.

    Today: NoRuleError (no rule for getattr).
    """
    def f(x):
        o = _Holder(3.0 * x)
        return getattr(o, "w", x) * o.v

    expect_grad(gradient(f, 1.5), (9.0,))


def test_setattr_constant_name():
    """setattr(o, "v", o.v * x): o.v = x * x -> 2x.

    Today: wrong value: 1.0 instead of 3.0 (setattr ignored).
    """
    def f(x):
        o = _Holder(x)
        setattr(o, "v", o.v * x)
        return o.v

    expect_grad(gradient(f, 1.5), (3.0,))


def test_setattr_on_argument_object():
    """setattr on the argument: o.v = o.v ** 2, returned: 2 v.

    Today: wrong value: 1.0 instead of 3.0 (setattr ignored).
    """
    def f(o):
        setattr(o, "v", o.v**2)
        return o.v

    (g,) = gradient(f, _Holder(1.5))
    assert g is not None
    expect_grad(g.v, 3.0)


def test_nonlocal_assignment():
    """A nested function rebinding an outer variable with nonlocal: acc = x + x^2 + x^3.

    Today: UnsupportedSyntaxError (`nonlocal` assignment).
    """
    def f(x):
        acc = 0.0
        term = 1.0

        def step():
            nonlocal acc, term
            term = term * x
            acc = acc + term

        for _ in range(3):
            step()
        return acc

    expect_grad(gradient(f, 1.5), (1 + 2 * 1.5 + 3 * 1.5**2,))


def test_nonlocal_counter_closure():
    """A closure made by a factory, keeping state with nonlocal: total = 2x + 3x.

    Today: UnsupportedSyntaxError (`nonlocal` assignment).
    """
    def make():
        total = 0.0

        def add(v):
            nonlocal total
            total = total + v
            return total

        return add

    def f(x):
        add = make()
        add(2.0 * x)
        return add(3.0 * x)

    expect_grad(gradient(f, 1.5), (5.0,))


# -- C callables with no rule ------------------------------------------------------------------


def test_c_callable_without_differentiable_argument_is_constant():
    """random.random() and time.time() receive nothing differentiable: they run as constants.

    Today: NoRuleError (no rule for Random.random).
    """
    def f(x):
        r = random.random()
        t = time.time()
        return x * x + 0.0 * r * t

    expect_grad(gradient(f, 1.5), (3.0,))


def test_c_callable_with_constant_argument_is_constant():
    """struct.unpack(struct.pack(2.0)) of a constant: a constant factor.

    Today: NoRuleError (no rule for _struct.pack).
    """
    def f(x):
        k = struct.unpack("d", struct.pack("d", 2.0))[0]
        return k * x

    expect_grad(gradient(f, 1.5), (2.0,))


def test_c_callable_receiving_differentiable_value_raises():
    """struct.pack(x) with x differentiable and no rule: NoRuleError naming struct.pack.

    Today: passes.
    """
    def f(x):
        return struct.unpack("d", struct.pack("d", x))[0]

    with pytest.raises(NoRuleError) as info:
        gradient(f, 1.5)
    assert "pack" in str(info.value)
