"""Rules for `itertools`.

Each rule runs the real itertools function over its inputs' items wrapped in tokens
that remember which input and which item they are, so the result has exactly the
items, the order and the groups Python gives, and each input is read as far as
Python reads it. The result is an iterator (`_iterables.iterator`: `next()` works, a
second pass finds it exhausted) over items computed at once; the pullback sends each
item's cotangent back to the item it came from. A `fillvalue` (zip_longest) or an
`initial` value (accumulate) passed by keyword gets its cotangent in the trailing dict.

`accumulate` and `starmap` call their function through dpnb, like `map`; predicates and
keys (`takewhile`, `groupby`, ...) only choose items and carry no gradient (nor do the
keys groupby hands out when it is given a key function).

`count`, `cycle` and `repeat(x)` without a count are endless, as in Python: what is read
from them (by `zip`, `islice`, a `for` loop with a `break`) sends its cotangent to `x`, to
the items of `cycle`'s argument, to `count`'s start and step. A function that reads all of
its argument at once (`list`, `sum`, `enumerate`, ... under dpnb) refuses them.
"""
import itertools
import operator

from .._common import accumulate, bind, call_bars, seq_bar, unbroadcast_to
from ..registry import register
from ._iterables import Counted, Cycled, Repeated, Source, item_bars, iterator, position_bars, seq_iterator


class _Tok:
    """An item of an input as the itertools function sees it: its source, its number, its value."""

    __slots__ = ("src", "i", "value")

    def __init__(self, src, i, value):
        self.src, self.i, self.value = src, i, value

    def __eq__(self, other):  # groupby without a key compares the items themselves
        return self.value == (other.value if type(other) is _Tok else other)

    __hash__ = None


def _tokens(src):
    for v in src:
        yield _Tok(src, len(src.items) - 1, v)


class _Value:
    """A value passed beside the iterables (zip_longest's fillvalue): a source of one item."""

    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def bar(self, bars):
        total = None
        for b in bars.values():
            total = accumulate(total, b)
        return total


def _value(t):
    if type(t) is _Tok:
        return t.value
    if type(t) is tuple:
        return tuple(_value(e) for e in t)
    return t


def _spread(t, b, found):
    """Add the cotangent `b` of the result item `t` to those of the items it is made of."""
    if b is None:
        return
    if type(t) is _Tok:
        cots = found.setdefault(t.src, {})
        cots[t.i] = accumulate(cots.get(t.i), b)
    elif type(t) is tuple:
        for e, be in zip(t, b):
            _spread(e, be, found)


def _selection_result(out, sources, names, args, kwargs, name):
    """The result of a rule whose items are items of its inputs (or tuples of them): `out` is the
    itertools result over tokens; `sources` maps parameter names to the `Source` (or `_Value`)
    whose cotangent that parameter gets."""
    plan = list(out)

    def selection_pullback(bars):
        found = {}
        for t, b in zip(plan, bars):
            _spread(t, b, found)
        by_name = {n: s.bar(found.get(s, {})) for n, s in sources.items()}
        return call_bars(names, args, kwargs, by_name)

    selection_pullback.__name__ = selection_pullback.__qualname__ = f"{name}_pullback"
    return iterator([_value(t) for t in plan], selection_pullback)


# --- items of the inputs, in another order ---------------------------------------------------


def chain_rrule(*iterables):
    srcs = [Source(x) for x in iterables]
    out = itertools.chain(*[_tokens(s) for s in srcs])
    names = tuple(range(len(iterables)))
    return _selection_result(out, dict(zip(names, srcs)), names, iterables, {}, "chain")


def chain_from_iterable_rrule(iterables):
    outer = Source(iterables)
    inner = []

    def streams():
        for x in outer:
            inner.append(Source(x))
            yield _tokens(inner[-1])

    plan = list(itertools.chain.from_iterable(streams()))

    def chain_from_iterable_pullback(bars):
        found = {}
        for t, b in zip(plan, bars):
            _spread(t, b, found)
        return None, outer.bar([s.bar(found.get(s, {})) for s in inner])

    return iterator([t.value for t in plan], chain_from_iterable_pullback)


def islice_rrule(iterable, *bounds):
    src = Source(iterable)
    out = itertools.islice(_tokens(src), *bounds)
    names = ("iterable",) + tuple(f"bound{i}" for i in range(len(bounds)))
    return _selection_result(out, {"iterable": src}, names, (iterable,) + bounds, {}, "islice")


def compress_rrule(*args, **kwargs):
    names = ("data", "selectors")
    v = bind(names, args, kwargs)
    data = Source(v["data"])
    out = itertools.compress(_tokens(data), Source(v["selectors"]))
    return _selection_result(out, {"data": data}, names, args, kwargs, "compress")


def pairwise_rrule(iterable):
    src = Source(iterable)
    return _selection_result(itertools.pairwise(_tokens(src)), {"iterable": src}, ("iterable",), (iterable,), {},
                             "pairwise")


def product_rrule(*iterables, **kwargs):
    srcs = [Source(x) for x in iterables]
    out = itertools.product(*[_tokens(s) for s in srcs], **kwargs)
    names = tuple(range(len(iterables)))
    return _selection_result(out, dict(zip(names, srcs)), names, iterables, kwargs, "product")


def zip_longest_rrule(*iterables, **kwargs):
    srcs = [Source(x) for x in iterables]
    names = tuple(range(len(iterables)))
    sources = dict(zip(names, srcs))
    kw = dict(kwargs)
    if "fillvalue" in kwargs:
        fill = sources["fillvalue"] = _Value(kwargs["fillvalue"])
        kw["fillvalue"] = _Tok(fill, 0, kwargs["fillvalue"])
    out = itertools.zip_longest(*[_tokens(s) for s in srcs], **kw)
    return _selection_result(out, sources, names, iterables, kwargs, "zip_longest")


# --- items chosen by a predicate ----------------------------------------------------------------


def _predicate_rule(f, name):
    def rule(predicate, iterable):
        src = Source(iterable)
        if predicate is None:  # filterfalse(None, xs) tests the items themselves (the others raise)
            test = (lambda t: t.value) if f is itertools.filterfalse else None
        else:
            test = lambda t: predicate(t.value)  # noqa: E731
        out = f(test, _tokens(src))
        return _selection_result(out, {"iterable": src}, ("predicate", "iterable"), (predicate, iterable), {}, name)

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    return rule


takewhile_rrule = _predicate_rule(itertools.takewhile, "takewhile")
dropwhile_rrule = _predicate_rule(itertools.dropwhile, "dropwhile")
filterfalse_rrule = _predicate_rule(itertools.filterfalse, "filterfalse")


def groupby_rrule(*args, **kwargs):
    names = ("iterable", "key")
    v = bind(names, args, kwargs, key=None)
    src, key = Source(v["iterable"]), v["key"]
    groups = []  # (the key, or the token of the group's first item; the group's tokens)
    for k, group in itertools.groupby(_tokens(src), None if key is None else (lambda t: key(t.value))):
        groups.append((k, list(group)))  # each group is read before the next one starts
    items = [(_value(k), seq_iterator([t.value for t in group])) for k, group in groups]

    def groupby_pullback(bars):
        found = {}
        for (k, group), b in zip(groups, bars):
            if b is None:
                continue
            _spread(k, b[0], found)  # without a key function, the key is the group's first item
            for t, bt in zip(group, item_bars(b[1], len(group))):
                _spread(t, bt, found)
        return call_bars(names, args, kwargs, {"iterable": src.bar(found.get(src, {}))})

    return iterator(items, groupby_pullback)


# --- items made by the rule -----------------------------------------------------------------------


def repeat_rrule(*args, **kwargs):
    names = ("object", "times")
    v = bind(names, args, kwargs, times=None)
    obj, times = v["object"], v["times"]
    y = seq_iterator(Repeated(obj, times))

    def repeat_pullback(y_bar):
        # every item is `obj`: its cotangent is the sum of theirs
        total = None
        for b in position_bars(y_bar).values():
            total = accumulate(total, b)
        return call_bars(names, args, kwargs, {"object": total})

    return y, repeat_pullback


def count_rrule(*args, **kwargs):
    names = ("start", "step")
    v = bind(names, args, kwargs, start=0, step=1)
    y = seq_iterator(Counted(v["start"], v["step"]))

    def count_pullback(y_bar):
        # item i is start + step + ... + step (i steps)
        start_bar = step_bar = None
        for i, b in position_bars(y_bar).items():
            start_bar = accumulate(start_bar, b)
            step_bar = accumulate(step_bar, i * b) if i else step_bar
        bars = {"start": unbroadcast_to(start_bar, v["start"]), "step": unbroadcast_to(step_bar, v["step"])}
        return call_bars(names, args, kwargs, bars)

    return y, count_pullback


def cycle_rrule(iterable):
    src = Source(iterable)
    items = src.read()
    y = seq_iterator(Cycled(items))

    def cycle_pullback(y_bar):
        found = {}
        for i, b in position_bars(y_bar).items():
            k = i % len(items)
            found[k] = accumulate(found.get(k), b)
        return None, src.bar(found)

    return y, cycle_pullback


def accumulate_rrule(*args, **kwargs):
    from ...core.runtime import call

    names = ("iterable", "func")
    v = bind(names, args, kwargs, func=None, initial=None)
    src, func, initial = Source(v["iterable"]), v["func"], v["initial"]
    f = operator.add if func is None else func
    items = src.read()
    y = []
    backs = []
    start = 0
    if initial is not None:
        acc = initial
        y.append(acc)
    elif len(items):
        acc, start = items[0], 1
        y.append(acc)
    if y:
        for item in items[start:]:
            acc, back = call(f, acc, item)
            backs.append(back)
            y.append(acc)

    def accumulate_pullback(bars):
        from ...core import heap

        ctx = heap.current()
        item_cots = {}
        f_bar = None
        g = None  # the cotangent of the running value
        for k in range(len(backs) - 1, -1, -1):
            # the result's own, and what the next call's pullback gave it: where the value is an
            # array or an object, the heap holds that
            g = heap.take_deep(ctx, y[k + 1], accumulate(g, bars[k + 1]))
            if g is None:
                continue
            fb, g, vb = backs[k](g)
            f_bar = accumulate(f_bar, fb)
            if vb is not None:
                item_cots[start + k] = accumulate(item_cots.get(start + k), vb)
        first = accumulate(g, bars[0]) if bars else None
        by_name = {"func": f_bar}
        if initial is not None:
            by_name["initial"] = first
        elif first is not None:
            item_cots[0] = accumulate(item_cots.get(0), first)
        by_name["iterable"] = src.bar(item_cots)
        return call_bars(names, args, kwargs, by_name)

    return iterator(y, accumulate_pullback)


def starmap_rrule(function, iterable):
    from ...core.runtime import call

    src = Source(iterable)
    arg_lists = src.read()
    results = [call(function, *a) for a in arg_lists]

    def starmap_pullback(bars):
        from ...core.runtime import none_run

        f_bar = None
        item_cots = {}
        for i, ((_, back), b) in enumerate(zip(results, bars)):
            # (a call whose result got no cotangent runs if it must: what it changed may have one)
            fb, *arg_bars = back(b) if b is not None else none_run(back, len(arg_lists[i]) + 1)
            f_bar = accumulate(f_bar, fb)
            item_cots[i] = seq_bar(arg_lists[i], arg_bars)
        return None, f_bar, src.bar(item_cots)

    return iterator([r[0] for r in results], starmap_pullback)


register(itertools.chain, chain_rrule)
register(itertools.chain.from_iterable, chain_from_iterable_rrule)
register(itertools.islice, islice_rrule)
register(itertools.compress, compress_rrule)
register(itertools.pairwise, pairwise_rrule)
register(itertools.product, product_rrule)
register(itertools.zip_longest, zip_longest_rrule)
register(itertools.takewhile, takewhile_rrule)
register(itertools.dropwhile, dropwhile_rrule)
register(itertools.filterfalse, filterfalse_rrule)
register(itertools.groupby, groupby_rrule)
register(itertools.repeat, repeat_rrule)
register(itertools.count, count_rrule)
register(itertools.cycle, cycle_rrule)
register(itertools.accumulate, accumulate_rrule)
register(itertools.starmap, starmap_rrule)
