"""Iterable arguments and iterator results of rules, read and made as Python does.

`Source(x)` is the iterable argument `x` of a rule. Iterating it reads `x` one
item at a time, as the function itself would (a rule that stops early consumes no
more of an iterator than Python does), and keeps the items; `read()` reads them
all. `bar(bars)` is the cotangent of `x` from its items' cotangents (a list, or a
dict {item number: cotangent}), in the kind of `x`:

- a list, tuple, array, dict view, ... gets `seq_bar`'s (a list, tuple, array, ...);
- an iterator the runtime hands out for `iter(seq)` inside differentiated code, or
  one made by a rule (both the runtime's `SeqIter`), gets `Slots` of the positions
  it handed out: items taken from it before the call (by `next`) keep theirs;
- an object whose class has its own `__iter__` (the user's, not a generator) has it run as the
  user's code when the rule starts: its items are those of what it hands out, and their
  cotangents go back through its pullback; one whose `__iter__` is a generator or a library's is
  read as Python reads it, and a gradient that reaches its items is refused, naming the line;
- an iterator whose `__next__` is Python code (a class's: the user's, or the runtime's
  own when dpnb differentiates a gradient) is refused when its items get gradients:
  Python's `next` read it out of dpnb's sight, and they cannot be sent back;
- any other iterator (made outside the differentiated code) gets None: nothing
  that its items came from can take a gradient.

The runtime's iterator is read by position (its fields), not by `next`, so that a
second differentiation follows the read.

`iterator(items, pullback)` is what a rule returns for a function whose result is
an iterator (`itertools.chain`, ...): a `SeqIter` over the items, computed at once,
so that `next()`, `for` and a second pass (which finds it exhausted) behave as on
the real iterator. Its pullback hands `pullback` one cotangent per item, whichever
form it came in (a list from a test; {position: cotangent} from the runtime), with
the cotangents the heap holds for items that are objects made by the rule.

>>> src = Source((1.0, 2.0, 3.0))
>>> list(zip([10.0], src))  # zip reads one item of the tuple, then stops
[(10.0, 1.0)]
>>> src.items, src.bar({0: 0.5})
([1.0], (0.5, None, None))
"""
import collections.abc
import operator
import sys
import types

import numpy as np

from ...errors import DifferentiationError
from .._common import accumulate, seq_bar

__all__ = ["ENDLESS", "Counted", "Cycled", "Repeated", "Source", "item_bars", "iterator", "position_bars",
           "python_next", "refuse_python_iterator", "seq_iterator"]

_core = {}


def _runtime():
    """The runtime's iterator class and the heap module (imported late: the core imports the rules)."""
    if not _core:
        from ...core import heap
        from ...core.runtime import SeqIter, _PosRec

        class MadeIter(SeqIter):
            """A `SeqIter` over items a rule made. They are also its field `made`, where the heap's
            `take_deep` finds the objects among them (a group of `groupby`, an array `accumulate`
            computed), so that their cotangents come back with the iterator's."""

            def __init__(self, seq):
                super().__init__(seq)
                self.made = seq

        # PosRec: the record of a rule reading a `SeqIter` from one position to another (undone
        # in the backward pass, like `next`, and redone at its end)
        _core.update(SeqIter=SeqIter, MadeIter=MadeIter, heap=heap, Slots=heap.Slots, PosRec=_PosRec)
    return _core


_SEQUENCES = (list, tuple, np.ndarray)


class Source:
    """An iterable argument of a rule: its items as they are read, and their cotangents' way back."""

    __slots__ = ("x", "items", "kind", "start", "ctx", "_it", "positions", "owner", "opaque")

    def __init__(self, x):
        self.owner = self.opaque = None
        fn = _python_iter(x)
        if fn is not None and not _runs_as_users(fn):
            # a generator `__iter__`, or a library's: read as Python does, out of dpnb's sight (the
            # line reading it kept for the refusal of a gradient that reaches its items)
            from ...errors import user_location

            self.opaque = user_location()
        elif fn is not None:
            # a class of the user's with its own `__iter__`, run as the user's code now (as
            # Python's `iter` would be): the items are those of what it hands out, and their
            # cotangents go back to the object through its pullback
            from ...core.runtime import call

            it, pb = call(fn, x)
            self.owner = (x, pb)
            x = it
        self.x = x
        self.items = []
        self._it = None
        if type(x) in _SEQUENCES:  # first: plain code for the common case (no import of the core)
            self.kind = "sequence"
        elif isinstance(x, _runtime()["SeqIter"]):
            self.kind = "positions"
            self.start = x.pos
            self.positions = []  # where each item was read (another reader may take turns: zip(it, it))
            self.ctx = _runtime()["heap"].current()
        elif isinstance(x, collections.abc.Iterator):
            self.kind = "foreign"
        else:
            self.kind = "sequence"

    def __iter__(self):
        return self

    def __next__(self):
        if self.kind == "positions":
            # the runtime's iterator read by its fields, not through `next`: what dpnb can follow
            # back when it differentiates this code (a second derivative)
            x = self.x
            pos = x.pos
            if pos >= len(x.seq):
                raise StopIteration
            v = x.seq[pos]
            x.pos = pos + 1
            self.positions.append(pos)
        else:
            if self._it is None:
                self._it = iter(self.x)
            v = next(self._it)
        self.items.append(v)
        return v

    def read(self):
        """All the (remaining) items: the argument itself when it is a list, tuple or array."""
        if self._it is None and type(self.x) in _SEQUENCES:
            self.items = self.x
            self._it = iter(())
            return self.x
        if self.kind == "positions" and len(self.x.seq) == ENDLESS:
            raise DifferentiationError(
                f"an endless itertools.{self.x.seq.name}(...) was given to a function that reads all of its "
                "argument at once (under dpnb, enumerate, map, filter, sorted, ... do); bound it first, "
                "with zip or islice"
            )
        if self.kind == "positions":
            # read by position, not by iterating `self` (which Python would do out of dpnb's sight
            # when this code is differentiated: the items' gradients would be lost)
            x = self.x
            seq = x.seq
            out = [seq[i] for i in range(x.pos, len(seq))]
            self.positions.extend(range(x.pos, len(seq)))
            x.pos = len(seq)
            self.items.extend(out)
            return out
        if self.kind == "sequence" and self._it is None:
            # an iterable that is no iterator (a dict view, a dict, ...) read as a loop reads it: followed
            # when dpnb differentiates this code, where Python's `next` on `self` would not be
            out = [v for v in self.x]
            self._it = iter(())
            self.items.extend(out)
            return out
        return list(self)

    @staticmethod
    def streams(sources):
        """What to hand a function that reads several arguments in turn (zip, map): the sources
        themselves, or, when every argument is a list, tuple or array (nothing to consume), the
        arguments."""
        if all(s.kind == "sequence" and type(s.x) in _SEQUENCES for s in sources):
            return [s.read() for s in sources]
        counts = [s._count() for s in sources]
        shared = len({id(s.x) for s in sources if s.kind == "positions"}) < sum(s.kind == "positions" for s in sources)
        if None in counts or min(counts) >= ENDLESS or shared:
            return sources  # (one iterator twice, `zip(it, it)`: read in turns, by `next`)
        # every argument a sequence or the runtime's iterator: what zip would read of each, read by
        # position (a second derivative follows that read, not Python's `next` on a Source). zip
        # stops at the first argument it finds exhausted, having taken one more item of those before it
        n = min(counts)
        first = counts.index(n)
        out = []
        for j, (s, k) in enumerate(zip(sources, counts)):
            out.append(s.x if s.kind == "sequence" else s._take(n + 1 if j < first and k > n else n))
        return out

    def _count(self):
        """How many items are left to read, known without reading them (None: not known)."""
        if self.kind == "positions":
            return len(self.x.seq) - self.x.pos
        if self.kind == "sequence" and type(self.x) in _SEQUENCES and self._it is None:
            return len(self.x)
        return None

    def _take(self, n):
        """The next `n` items of the runtime's iterator, read by position."""
        x = self.x
        out = [x.seq[i] for i in range(x.pos, x.pos + n)]
        self.positions.extend(range(x.pos, x.pos + n))
        x.pos += n
        self.items.extend(out)
        return out

    def bar(self, bars):
        """The cotangent of the argument from its items' cotangents (list or {item number: cotangent})."""
        if self.opaque is not None:
            if any(b is not None for b in (bars.values() if isinstance(bars, dict) else bars)):
                refuse_python_iter(self.x, self.opaque)
            return None
        if self.owner is not None:  # through the pullback of the class's `__iter__`
            from ...core.runtime import none_run

            _, pb = self.owner
            it_bar = self._bar(bars)
            return (pb(it_bar) if it_bar is not None else none_run(pb, 2))[1]
        return self._bar(bars)

    def _bar(self, bars):
        pairs = bars.items() if isinstance(bars, dict) else enumerate(bars)
        if self.kind == "positions":
            x = self.x
            if x.pos != self.start:  # the backward pass sees the iterator as it was before the call
                self.ctx.undo(_runtime()["PosRec"](x, self.start, x.pos))
            found = {}
            for i, b in pairs:
                if b is not None:
                    p = self.positions[i]
                    found[p] = b if found.get(p) is None else found[p] + b
            return _runtime()["Slots"](found) if found else None
        if self.kind == "foreign":
            if any(b is not None for _, b in pairs):
                refuse_python_iterator(self.x, "a function")
            return None
        n = len(self.x) if isinstance(self.x, collections.abc.Sized) else len(self.items)
        out = [None] * n
        for i, b in pairs:
            out[i] = b
        if all(b is None for b in out):
            return None
        return seq_bar(self.x, out)


def _python_iter(x):
    """The `__iter__` of `x`'s class when it is Python code and `x` is no iterator, else None."""
    if type(x) in _SEQUENCES or isinstance(x, collections.abc.Iterator):
        return None
    fn = getattr(type(x), "__iter__", None)
    return fn if type(fn) is type(python_next) else None


def _runs_as_users(fn):
    """Whether a `Source` runs the `__iter__` `fn` as the user's code: the user's own (not a
    library's), and no generator (whose items dpnb cannot send gradients back through)."""
    from ...core.runtime import _users_code

    return not fn.__code__.co_flags & 0x2A0 and _users_code(fn.__code__)


def refuse_python_iter(obj, where):
    """A gradient reached items read from `obj` through its class's `__iter__`, which ran as plain
    Python (a generator, or a library's): refused, naming the line that read them."""
    code = type(obj).__iter__.__code__
    kind = "is written with `yield`" if code.co_flags & 0x2A0 else "is a library's code"
    raise DifferentiationError(
        f"a gradient reached the items read at {where} from an object of class {type(obj).__name__}, whose "
        f"`__iter__` ({code.co_filename}, line {code.co_firstlineno}) {kind}, which dpnb cannot send gradients "
        "back through; return a list's iterator from `__iter__` (`return iter(self.items)`), or pass a list"
    )


def python_next(it):
    """The `__next__` of the iterator `it` when it is Python code (a class's method: a user's
    iterator, or one of dpnb's own runtime when dpnb differentiates its runtime), else None."""
    fn = getattr(type(it), "__next__", None)
    return fn if type(fn) is type(python_next) else None


def refuse_python_iterator(it, reader):
    """A gradient reached items that `reader` took from the iterator `it` by Python's own `next`,
    out of dpnb's sight: when `it`'s `__next__` is Python code the items may depend on what is
    differentiated, and their gradients cannot be sent back (refused, never dropped)."""
    fn = python_next(it)
    if fn is None:
        return
    code = fn.__code__
    raise DifferentiationError(
        f"a gradient reached the items that {reader} read from an iterator of class {type(it).__name__} (its `__next__`, "
        f"{code.co_filename}, line {code.co_firstlineno}, ran as plain Python, which dpnb cannot send gradients back "
        "through); give it a list instead (`list(...)`, or return a list from `__iter__`)"
    )


#: the length of the sequence behind an endless iterator (count, cycle, repeat without a count)
ENDLESS = sys.maxsize


class Repeated:
    """The items of `itertools.repeat(obj, times)`: `obj`, `times` times (without `times`, as many
    as anyone reads). A `SeqIter` over it is what the `repeat` rule returns."""

    __slots__ = ("obj", "n")
    name = "repeat"

    def __init__(self, obj, n=None):
        self.obj = obj
        self.n = ENDLESS if n is None else max(n, 0)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if 0 <= i < self.n:
            return self.obj
        raise IndexError("repeat index out of range")


class Counted:
    """The items of `itertools.count(start, step)`: start, start + step, ... added up one step at a
    time, as `count` does (so floats round as they do there)."""

    __slots__ = ("values", "step")
    name = "count"

    def __init__(self, start, step):
        self.values = [start]
        self.step = step

    def __len__(self):
        return ENDLESS

    def __getitem__(self, i):
        values = self.values
        while len(values) <= i:
            values.append(values[-1] + self.step)
        return values[i]


class Cycled:
    """The items of `itertools.cycle(items)`: `items` over and over (none if it is empty)."""

    __slots__ = ("items",)
    name = "cycle"

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return ENDLESS if len(self.items) else 0

    def __getitem__(self, i):
        return self.items[i % len(self.items)]


def position_bars(y_bar):
    """The cotangents of the items of an iterator, {position: cotangent}, from a list (one per item
    read, from a test) or {position: cotangent} (`Slots`, a `Tangent` of the iterator, a dict).

    >>> position_bars([1.0, None, 2.0])
    {0: 1.0, 2: 2.0}
    """
    if y_bar is None:
        return {}
    if isinstance(y_bar, (list, tuple)):
        return {i: b for i, b in enumerate(y_bar) if b is not None}
    found = getattr(y_bar, "fields", None)  # a Tangent of the iterator
    if found is None:
        found = y_bar if isinstance(y_bar, dict) else y_bar.items  # Slots
    return {i: b for i, b in found.items() if isinstance(i, int) and b is not None}


def item_bars(y_bar, n):
    """The cotangents of the `n` items of an iterator made by a rule, as a list: `y_bar` is a list
    or tuple (one per item), or {position: cotangent} (`Slots`, a `Tangent` or a dict), or None.

    >>> item_bars({1: 2.0}, 3)
    [None, 2.0, None]
    """
    out = [None] * n
    for i, b in position_bars(y_bar).items():
        if i < n:
            out[i] = b
    made = getattr(y_bar, "fields", {}).get("made")  # what the heap held for the items (`MadeIter`)
    if made is not None:
        for i, b in enumerate(made[:n]):
            out[i] = accumulate(out[i], b)
    return out


def seq_iterator(items):
    """The runtime's iterator over the sequence `items` (what `iter(items)` is in differentiated code)."""
    return _runtime()["SeqIter"](items)


def iterator(items, pullback):
    """`(y, pb)` of a rule whose function returns an iterator: `y` a `SeqIter` over `items`, `pb`
    calling `pullback(bars)` with one cotangent per item (see the module docstring)."""
    core = _runtime()
    heap = core["heap"]
    ctx = heap.current()
    y = core["MadeIter"](items)

    def iterator_pullback(y_bar):
        bars = item_bars(y_bar, len(items))
        if ctx.heap:
            # objects among the items (arrays, lists, the iterators of groupby) keep their
            # cotangents in the heap: they go back with the item's
            bars = [heap.take_deep(ctx, v, b) for v, b in zip(items, bars)]
        return pullback(bars)

    return y, iterator_pullback


from ..registry import constant as _constant  # noqa: E402

_constant(_runtime)  # classes and modules: no gradient (and a class is made inside it)


# --- functions the rules call on each item (keys, predicates) ------------------------------


#: callables of C: run on values that hold no object of the user's, they run no Python code
_C_CALLABLES = (types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType,
                types.MethodWrapperType, np.ufunc, operator.itemgetter, operator.attrgetter)


def called_on_each(f, values):
    """`f(v)` of each value, run as the user's code (a key or a predicate: its value only orders or
    selects, but what it changes, a list it appends to, is followed): (the values, their
    pullbacks), the pullbacks None where `f` is a callable of C given no object of the user's (it
    runs as written: `key=abs` on numbers, `key=len`), which changes nothing to follow."""
    if isinstance(f, _C_CALLABLES) and not any(map(_holds_users, values)):
        return [f(v) for v in values], None
    from ...core.runtime import call

    calls = [call(f, v) for v in values]
    return [c[0] for c in calls], [c[1] for c in calls]


#: the types whose values are never objects of the user's (and hold none)
_PLAIN = frozenset({float, int, bool, complex, str, bytes, type(None), np.ndarray, np.float64})


def _holds_users(v):
    """Whether `v` is, or holds in a tuple or list, an object of a class of the user's."""
    t = type(v)
    if t in _PLAIN:
        return False
    from ...core.operators import _is_user

    return _is_user(v) or (t in (tuple, list) and any(map(_holds_users, v)))


def changes_of(calls, bars, items):
    """Run the pullbacks of `calls` (`called_on_each` of `items`), whose values got no cotangent,
    where they must (they changed something): the cotangents they give the items, added into `bars`
    (a dict or a list by position). An item that is an object (of the user's, a list) has what the
    result gave it put back in the heap first, where the pullback of a change made to it (its
    `__abs__` setting a field) finds it."""
    pullbacks = calls[1]
    if pullbacks is None:
        return bars
    from ...core import heap
    from ...core.runtime import none_run

    ctx = heap.current()
    for i, b in (bars.items() if type(bars) is dict else enumerate(bars)):
        if b is not None and heap.managed(items[i]):
            heap.heap_add(ctx, items[i], b)
            bars[i] = None

    for i in range(len(pullbacks) - 1, -1, -1):
        b = none_run(pullbacks[i], 2)[1]
        if b is not None:
            bars[i] = accumulate(bars.get(i) if type(bars) is dict else bars[i], b)
    return bars


def run_always(pb, calls):
    """`pb`, run even where its result gets no cotangent when it has `calls` to run back (the
    pullbacks `calls[1]`, one of which may have changes to follow)."""
    if calls is None or calls[1] is None:
        return pb
    from ...core.runtime import _accepts_none

    if not any(map(_accepts_none, calls[1])):
        return pb
    from ...core.runtime import _Wrapped

    return _Wrapped(pb)
