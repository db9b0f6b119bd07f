"""Rules for builtins: abs, min, max, sum, pow, float, complex, round, divmod, the
sequence builders (list, tuple, zip, enumerate, reversed, sorted), the higher-order
map, filter and functools.reduce, `vars`, and sets (`set`, `frozenset`: a gradient that
reaches an element of one is refused). Dict construction and the dict and list methods are in
`dict_rules`.

Keyword arguments that carry values (`dict(a=x)`, `sum(xs, start=s)`,
`max(xs, default=d)`) get their cotangents in a dict after the positional ones.

`zip`, `enumerate`, `reversed`, `map` and `filter` return iterators in Python; their rules
return a materialized list (iterating it behaves the same) so that the pullback
can hand each argument the cotangents of its elements, in the argument's kind.

Iterable arguments are read through `_iterables.Source`, as far as Python reads them: an
iterator from `iter(xs)` or from an itertools rule gets its items' cotangents by position,
and `zip` stops reading at the shortest argument (so an endless `repeat` or `count` is fine).
"""
import functools
import types
from fractions import Fraction

import numpy as np

from ...errors import DifferentiationError
from ...core.heap import made_set, same_set
from ...tangents import NotImplementedTangent

from .._common import accumulate, has_tangent, seq_bar, to_like, unbroadcast_to, unordered_marker, unordered_refusal, zero_like
from ..registry import constant, register, register_attribute
from ._iterables import Source, called_on_each, changes_of, run_always
from .operator_rules import abs_rrule, pow_rrule


def _nones(args):
    return (None,) * len(args)


# --- numbers ------------------------------------------------------------------------------


def _pow3_rrule(base, exp, *mod, **kw):
    if (mod and mod[0] is not None) or kw.get("mod") is not None:
        # modular exponentiation: integers only, no gradient
        y = pow(base, exp, *mod, **kw)

        def pow_pullback(y_bar):
            return None, None, None, None

        return y, pow_pullback
    if not mod and not kw:
        return pow_rrule(base, exp)
    y, pb = pow_rrule(base, exp)  # `mod=None`: the plain power

    def pow_none_pullback(y_bar):
        return tuple(pb(y_bar)) + ((None,) if mod else ())

    return y, pow_none_pullback


def as_integer_ratio_rrule(x):
    # x == n / d: n moves with x (d, a power of two, only jumps), so n's cotangent times d is x's
    y = x.as_integer_ratio()

    def as_integer_ratio_pullback(y_bar):
        n_bar = y_bar[0] if y_bar is not None else None
        return None, None if n_bar is None else float(n_bar) * y[1]

    return y, as_integer_ratio_pullback


def float_rrule(x=0.0):
    y = float(x)

    def float_pullback(y_bar):
        if not has_tangent(x) or isinstance(x, (str, bytes)):
            return None, None
        if isinstance(x, Fraction):
            return None, Fraction(y_bar) if isinstance(y_bar, float) and np.isfinite(y_bar) else y_bar
        return None, to_like(y_bar, x)

    return y, float_pullback


def complex_rrule(real=0, imag=0):
    y = complex(real, imag)

    def complex_pullback(y_bar):
        # y = real + 1j * imag: with Re(y_bar * dy) pairing, real gets y_bar, imag gets 1j * y_bar
        # (each projected on the reals when that argument is real)
        y_bar = complex(y_bar)
        re_bar = None if not has_tangent(real) or isinstance(real, str) else unbroadcast_to(y_bar, real)
        im_bar = None if not has_tangent(imag) else unbroadcast_to(1j * y_bar, imag)
        return None, re_bar, im_bar

    return y, complex_pullback


def _complex_rrule(*args):
    y, pullback = complex_rrule(*args)

    def complex_pullback(y_bar):
        return pullback(y_bar)[: len(args) + 1]

    return y, complex_pullback


def round_rrule(number, *ndigits):
    y = round(number, *ndigits)

    def round_pullback(y_bar):
        # piecewise constant: a zero gradient (not None)
        return (None, zero_like(number)) + _nones(ndigits)

    return y, round_pullback


def divmod_rrule(a, b):
    q, r = y = divmod(a, b)

    def divmod_pullback(y_bar):
        r_bar = y_bar[1]
        if r_bar is None:
            return None, zero_like(a), zero_like(b)
        # a % b = a - (a // b) * b; the quotient is piecewise constant
        return None, unbroadcast_to(r_bar, a), unbroadcast_to(-r_bar * q, b) if has_tangent(b) else None

    return y, divmod_pullback


register(abs, abs_rrule, number_closed=True)
# (run as written where dpnb differentiates its own rules, a derivative of a derivative: they keep
# the record of the sets made, and name the user's line)
for _f in (made_set, same_set, unordered_marker, unordered_refusal):
    constant(_f)
register(pow, _pow3_rrule, number_closed=True)
register(float, float_rrule, number_closed=True)
register(float.as_integer_ratio, as_integer_ratio_rrule)
register(complex, _complex_rrule, number_closed=True)
register(round, round_rrule, number_closed=True)
register(divmod, divmod_rrule)


# --- min, max, sum ------------------------------------------------------------------------


def _extremum(pick, name):
    def rule(*args, **kwargs):
        key = kwargs.get("key")
        if len(args) == 1:
            src = Source(args[0])
            items = src.read()
            if len(items) == 0 and "default" in kwargs:
                y = kwargs["default"]  # the keyword's cotangent, in the trailing dict
                return y, _named_pullback(name, lambda y_bar: (None, None, {"default": _picked_bar(y_bar, y)}))
            keyed = None if key is None else called_on_each(key, items)
            index = pick(range(len(items)), key=lambda i: items[i] if key is None else keyed[0][i])
            y = items[index]

            def pullback(y_bar):
                bars = {} if y_bar is None else {index: _picked_bar(y_bar, items[index])}
                return None, src.bar(bars if keyed is None else changes_of(keyed, bars, items))

        else:
            keyed = None if key is None else called_on_each(key, args)
            index = pick(range(len(args)), key=lambda i: args[i] if key is None else keyed[0][i])
            y = args[index]

            def pullback(y_bar):
                bars = [None] * len(args)
                if y_bar is not None:
                    bars[index] = _picked_bar(y_bar, args[index])
                return (None,) + tuple(bars if keyed is None else changes_of(keyed, bars, args))

        # the first of several equal values is chosen, as Python's min/max do
        return y, run_always(_named_pullback(name, pullback), keyed)

    rule.__name__ = rule.__qualname__ = f"{name}_rrule"
    return rule


def _named_pullback(name, pb):
    pb.__name__ = pb.__qualname__ = f"{name}_pullback"
    return pb


def _picked_bar(bar, x):
    """The cotangent of the item `x` that min or max returned, from the result's: a tuple, list or
    dict item (compared by a key, or item by item) takes it as it is, `None` entries included."""
    if isinstance(x, (tuple, list, dict)):
        return bar
    return _same_kind(bar, x)


def _same_kind(bar, x):
    if type(bar) is float and type(x) is float:
        return bar  # the common case, floats summed: what unbroadcast_to gives
    return unbroadcast_to(bar, x) if has_tangent(x) else None


min_rrule = _extremum(min, "min")
max_rrule = _extremum(max, "max")


def sum_rrule(iterable, *start, **kwargs):
    src = Source(iterable)
    items = src.read()
    y = sum(items, *start, **kwargs)
    starts = (kwargs["start"],) if "start" in kwargs else start

    def sum_pullback(y_bar):
        if isinstance(y, (list, tuple)):
            # lists or tuples joined: y = start + items[0] + items[1] + ..., each its stretch of y_bar
            bars = _stretch_bars(y_bar, list(starts) + list(items))
            bar, start_bars = src.bar(bars[len(starts) :]), bars[: len(starts)]
        elif isinstance(iterable, np.ndarray):
            # every row (or entry) of the array gets y_bar
            bar = to_like(np.broadcast_to(np.asarray(y_bar), iterable.shape).copy(), iterable)
            start_bars = [_same_kind(y_bar, s) for s in starts]
        else:
            bar = src.bar([_same_kind(y_bar, item) for item in items])
            start_bars = [_same_kind(y_bar, s) for s in starts]
        if "start" in kwargs:  # sum(xs, start=s): the keyword's cotangent, in the trailing dict
            return None, bar, {"start": start_bars[0]}
        return (None, bar) + tuple(start_bars)

    return y, sum_pullback


def _stretch_bars(y_bar, parts):
    """The cotangents of `parts` (lists or tuples) from `y_bar`, that of `parts` joined end to end."""
    bars, k = [], 0
    for part in parts:
        n = len(part)
        bars.append(None if y_bar is None else seq_bar(part, y_bar[k : k + n]))
        k += n
    return bars


register(min, min_rrule)
register(max, max_rrule)
register(sum, sum_rrule)


# --- sequences ----------------------------------------------------------------------------


def list_rrule(*iterable):
    src = Source(iterable[0]) if iterable else None
    y = list(src.read()) if iterable else []

    def list_pullback(y_bar):
        if not iterable:
            return (None,)
        return None, src.bar(y_bar)

    return y, list_pullback


def tuple_rrule(*iterable):
    src = Source(iterable[0]) if iterable else None
    y = tuple(src.read()) if iterable else ()

    def tuple_pullback(y_bar):
        if not iterable:
            return (None,)
        return None, src.bar(y_bar)

    return y, tuple_pullback


class ReadAhead(list):
    """The items of `zip` / `enumerate` over lists, read when the call was made (Python reads them
    one at a time, as the loop goes). A loop over it checks, before each item, that the lists still
    hold what was read: a loop that changes a list it zips over is refused, never run on stale
    items."""

    __slots__ = ("lists", "func")

    def check(self, k):
        for src, snapshot in self.lists:
            if k < len(snapshot) and (k >= len(src) or src[k] is not snapshot[k]):
                raise DifferentiationError(
                    f"this loop changes a list that `{self.func}` reads as the loop goes; dpnb reads it when "
                    f"`{self.func}(...)` is called and cannot follow the change: loop over indices "
                    "(`for i in range(len(xs))`) or over a copy (`list(xs)`)"
                )


def _read_ahead(items, func, sources):
    lists = [(x, tuple(x)) for x in sources if type(x) is list]
    if not lists:
        return items
    out = ReadAhead(items)
    out.lists, out.func = lists, func
    return out


def _read_ahead_rrule(items, func, sources):
    """When the zip and enumerate rules are differentiated themselves (second derivatives): the
    read-ahead list is its items."""
    y = _read_ahead(items, func, sources)

    def read_ahead_pullback(y_bar):
        return None, (None if y_bar is None else list(y_bar)), None, None

    return y, read_ahead_pullback


def zip_rrule(*iterables, **kwargs):
    srcs = [Source(it) for it in iterables]
    y = list(zip(*Source.streams(srcs), **kwargs))  # read as zip reads: one item of each in turn
    y = _read_ahead(y, "zip", iterables)

    def zip_pullback(y_bar):
        out = [None]
        for j, src in enumerate(srcs):
            out.append(src.bar({i: t[j] for i, t in enumerate(y_bar) if t is not None}))
        return tuple(out)

    return y, zip_pullback


def enumerate_rrule(iterable, *start_arg):
    has_start = bool(start_arg)
    start = start_arg[0] if start_arg else 0
    src = Source(iterable)
    y = _read_ahead(list(enumerate(src.read(), start)), "enumerate", (iterable,))

    def enumerate_pullback(y_bar):
        bars = [None if t is None else t[1] for t in y_bar]
        return (None, src.bar(bars)) + ((None,) if has_start else ())

    return y, enumerate_pullback


def reversed_rrule(seq):
    y = list(reversed(seq))

    def reversed_pullback(y_bar):
        return None, seq_bar(seq, list(reversed(y_bar)))

    return y, reversed_pullback


def sorted_rrule(iterable, **kwargs):
    src = Source(iterable)
    items = src.read()
    key = kwargs.get("key")
    keyed = None if key is None else called_on_each(key, items)
    # the permutation sorted() applies (stable, also with reverse=True)
    order = sorted(
        range(len(items)),
        key=(lambda i: items[i]) if key is None else (lambda i: keyed[0][i]),
        reverse=kwargs.get("reverse", False),
    )
    y = [items[i] for i in order]

    def sorted_pullback(y_bar):
        bars = {} if y_bar is None else {i: y_bar[j] for j, i in enumerate(order)}
        return None, src.bar(bars if keyed is None else changes_of(keyed, bars, items))

    return y, run_always(sorted_pullback, keyed)


def _set_rule(make):
    def set_rrule(*iterable):
        # the set of what the argument holds; a gradient that comes back to an element is refused
        # (here for a frozenset, whose cotangent is a value; by the heap for a set): elements equal
        # to one another are one, in no order, and nothing says which number each came from
        y = make(Source(iterable[0]).read()) if iterable else make()
        if iterable and isinstance(iterable[0], list):
            made_set(y)  # (a gradient that reaches its numbers goes back to the list's items)

        def set_pullback(y_bar):
            if type(y_bar) is NotImplementedTangent:
                # a gradient reached numbers of the set: refused where it reaches a value a
                # gradient is asked of, through the items of what the set was made of
                return (None, y_bar) if iterable else (None,)
            if _reaches(y_bar):
                raise DifferentiationError(unordered_refusal("elements of a set"))
            return (None,) * (len(iterable) + 1)

        return y, set_pullback

    set_rrule.__name__ = f"{make.__name__}_rrule"
    return set_rrule


def _reaches(c):
    if c is None:
        return False
    if isinstance(c, (list, tuple)):
        return any(_reaches(ci) for ci in c)
    if isinstance(c, dict):
        return any(_reaches(ci) for ci in c.values())
    return True


def vars_rrule(*obj):
    if not obj:
        raise DifferentiationError("vars() with no argument reads the function's local variables, which dpnb renames; read them by name")
    o = obj[0]
    if type(getattr(o, "__dict__", None)) is not dict or isinstance(o, types.FunctionType):
        return vars(o), _no_bars  # a module's or a class's namespace: code, not values
    from ...core import heap

    # the object's fields themselves (their cotangents are the object's: `heap.own_dict`)
    return heap.own_dict(heap.current(), o), _no_bars


def _no_bars(y_bar):
    return None, None


register(list, list_rrule)
register(tuple, tuple_rrule)
register(vars, vars_rrule)
register(set, _set_rule(set))
register(frozenset, _set_rule(frozenset))
register(zip, zip_rrule)
register(_read_ahead, _read_ahead_rrule)
register(enumerate, enumerate_rrule)
register(reversed, reversed_rrule)
register(sorted, sorted_rrule)


# --- higher order -------------------------------------------------------------------------


def map_rrule(f, *iterables):
    from ...core.runtime import call

    srcs = [Source(it) for it in iterables]
    results = [call(f, *args) for args in zip(*Source.streams(srcs))]
    y = [r[0] for r in results]

    def map_pullback(y_bar):
        from ...core.runtime import none_run

        f_bar = None
        columns = [{} for _ in srcs]
        for i, ((_, back), bar) in enumerate(zip(results, y_bar or [None] * len(results))):
            # (a call whose result got no cotangent runs if it must: what it changed, a list it
            # appended to, may have one)
            f_b, *arg_bars = back(bar) if bar is not None else none_run(back, len(srcs) + 1)
            f_bar = accumulate(f_bar, f_b)
            for j, b in enumerate(arg_bars):
                columns[j][i] = b
        return (None, f_bar) + tuple(src.bar(col) for src, col in zip(srcs, columns))

    return y, run_always(map_pullback, (None, [r[1] for r in results]))


def reduce_rrule(function, iterable, *initial):
    from ...core.runtime import call

    src = Source(iterable)
    items = src.read()
    if initial:
        acc, first = initial[0], 0
    elif len(items):
        acc, first = items[0], 1
    else:
        raise TypeError("reduce() of empty iterable with no initial value")
    backs = []
    made = []  # each call's result: an array's or an object's cotangent waits on the heap
    for item in items[first:]:
        acc, back = call(function, acc, item)
        backs.append(back)
        made.append(acc)
    y = acc

    def reduce_pullback(y_bar):
        from ...core import heap
        from ...core.runtime import none_run

        ctx = heap.current()
        f_bar = None
        bars = [None] * len(items)
        acc_bar = y_bar
        for k in range(len(backs) - 1, -1, -1):
            # what the next call's pullback gave the running value (the code after gave the last
            # one its own): where the value is an array or an object, the heap holds it
            acc_bar = heap.take_deep(ctx, made[k], acc_bar) if k < len(backs) - 1 else acc_bar
            f_b, acc_bar, item_bar = backs[k](acc_bar) if acc_bar is not None else none_run(backs[k], 3)
            f_bar = accumulate(f_bar, f_b)
            bars[first + k] = item_bar
        init_bar = ()
        if initial:
            init_bar = (acc_bar,)
        elif len(items):
            bars[0] = acc_bar
        return (None, f_bar, src.bar(bars)) + init_bar

    return y, run_always(reduce_pullback, (None, backs))


def filter_rrule(function, iterable):
    src = Source(iterable)
    items = src.read()
    # the predicate's result is only tested for truth: no gradient flows through it (what it
    # changes is followed)
    tested = None if function is None else called_on_each(function, items)
    keep = [i for i, item in enumerate(items) if (item if function is None else tested[0][i])]
    y = [items[i] for i in keep]

    def filter_pullback(y_bar):
        bars = {} if y_bar is None else {i: y_bar[j] for j, i in enumerate(keep)}
        return None, None, src.bar(bars if tested is None else changes_of(tested, bars, items))

    return y, run_always(filter_pullback, tested)


register(map, map_rrule)
register(filter, filter_rrule)
register(functools.reduce, reduce_rrule)


# --- attributes and methods of complex numbers --------------------------------------------


def complex_conjugate_rrule(self):
    y = self.conjugate()
    return y, _named_pullback("conjugate", lambda y_bar: (None, complex(y_bar).conjugate()))


register(complex.conjugate, complex_conjugate_rrule, number_closed=True)


def real_attribute_rrule(obj):
    return obj.real, _named_pullback("real", lambda y_bar: (None, complex(np.real(y_bar))))


def imag_attribute_rrule(obj):
    # Re(z_bar * dz) = y_bar * Im(dz) for z_bar = -1j * y_bar
    return obj.imag, _named_pullback("imag", lambda y_bar: (None, -1j * np.real(y_bar)))


register_attribute(complex, "real", real_attribute_rrule)
register_attribute(complex, "imag", imag_attribute_rrule)
