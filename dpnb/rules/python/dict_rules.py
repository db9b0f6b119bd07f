"""Rules for dicts and the methods of dicts and lists: `dict(...)` (pairs, a mapping, keywords),
`dict.get`, `values`, `items`, `keys`, `copy`, `fromkeys`, and `list.copy`. `dict.items()` and
`dict.values()` return lists (iterating them behaves the same), so that the pullback can hand
each value its cotangent. A gradient that reaches a key that is a number is refused (see
`_common.back_to_elements`).
"""
from .._common import accumulate, back_to_elements, has_tangent, unbroadcast_to
from ..registry import register
from ._iterables import Source
from .builtin_rules import _named_pullback, _nones

# --- dicts and list methods ---------------------------------------------------------------


def dict_rrule(*args, **kwargs):
    source = args[0] if args else None
    src = pairs = None
    if args and not isinstance(source, dict):
        src = Source(source)
        pairs = src.read()
        y = dict(pairs, **kwargs)
    else:
        y = dict(*args, **kwargs)

    def dict_pullback(y_bar):
        # dict(source, k=v): the keywords win over the source's entries of the same key, and
        # their cotangents come in the trailing dict
        kw_bars = {k: y_bar[k] for k in kwargs if y_bar.get(k) is not None}
        out = (None,)
        if args:
            if src is None:
                out = (None, {k: v for k, v in y_bar.items() if k in source and k not in kwargs})
            else:
                # with repeated keys the last pair wins, so only the last one gets the gradient
                last = {k: i for i, (k, _) in enumerate(pairs)}
                bars = [
                    (None, y_bar.get(k)) if last[k] == i and k not in kwargs and y_bar.get(k) is not None else None
                    for i, (k, _) in enumerate(pairs)
                ]
                out = (None, src.bar(bars))
        if kw_bars:
            return out + (kw_bars,)
        return out

    return y, dict_pullback


def dict_get_rrule(self, key, *default):
    found = key in self
    y = self.get(key, *default)

    def get_pullback(y_bar):
        if found:
            return (None, {key: y_bar}, None) + _nones(default)
        return (None, None, None) + tuple(y_bar for _ in default)

    return y, get_pullback


def dict_values_rrule(self):
    keys = list(self)
    y = [self[k] for k in keys]

    def values_pullback(y_bar):
        return None, {k: b for k, b in zip(keys, y_bar) if b is not None}

    return y, values_pullback


def dict_items_rrule(self):
    y = list(self.items())

    def items_pullback(y_bar):
        back_to_elements("keys of a dict", [k for k, _ in y], [None if t is None else t[0] for t in y_bar])
        return None, {k: t[1] for (k, _), t in zip(y, y_bar) if t is not None and t[1] is not None}

    return y, items_pullback


def dict_keys_rrule(self):
    y = list(self)

    def keys_pullback(y_bar):
        back_to_elements("keys of a dict", y, y_bar)
        return None, None

    return y, keys_pullback


def dict_fromkeys_rrule(iterable, *value):
    n = len(value)
    value = value[0] if value else None
    src = Source(iterable)
    keys = src.read()
    y = dict.fromkeys(keys, value)

    def fromkeys_pullback(y_bar):
        # every key holds the one value: its cotangent is theirs summed (an object, a list or an
        # array held has its cotangent in the heap, where reads through the dict left it)
        back_to_elements("keys of a dict", keys, [None] * len(keys))
        if y_bar is None or not n or not has_tangent(value):
            return (None, None) + (None,) * n
        bars = y_bar.items if hasattr(y_bar, "items") and not isinstance(y_bar, dict) else y_bar
        total = None
        for k in y:
            total = accumulate(total, bars.get(k) if isinstance(bars, dict) else None)
        return None, None, None if total is None else unbroadcast_to(total, value)

    return y, fromkeys_pullback


def dict_copy_rrule(self):
    y = self.copy()
    return y, _named_pullback("copy", lambda y_bar: (None, dict(y_bar)))


def list_copy_rrule(self):
    y = self.copy()
    return y, _named_pullback("copy", lambda y_bar: (None, list(y_bar)))


register(dict, dict_rrule)
register(dict.get, dict_get_rrule)
register(dict.values, dict_values_rrule)
register(dict.items, dict_items_rrule)
register(dict.keys, dict_keys_rrule)
register(dict.copy, dict_copy_rrule)
register(dict.fromkeys, dict_fromkeys_rrule)
register(list.copy, list_copy_rrule)
