"""Tables keyed by code objects that forget a code object when it is gone.

Code objects compare equal when they were compiled from the same text (the file name
aside), and dpnb compiles the same text again whenever it builds an adjoint again (after
`refresh`, for a cell run again, for its own helpers when a second derivative needs them
after a refresh). The weak containers of `weakref` keep one key per class of equal objects:
an entry set for a new code object while an equal old one is alive stays under the old one
and goes when the old one is freed — though the new one is still in use. Which entries a
code object has would then depend on when the garbage collector frees others.

`CodeTable` gives every code object it is given an entry of its own, by identity. A code
object that was never given finds the entry of an equal live one (a code compiled again
from the same text), and keeps what it found under an entry of its own: no code object
loses its entry before it is itself gone.
"""
import weakref


class CodeTable:
    """code object -> value, holding its code objects weakly (see the module's docstring)."""

    __slots__ = ("_by_id", "_by_hash")

    def __init__(self):
        self._by_id = {}  # id(code) -> (weak reference to the code, value)
        self._by_hash = {}  # hash(code) -> set of ids of the live codes with that hash

    def __setitem__(self, code, value):
        self._put(code, hash(code), value)

    def _put(self, code, h, value):
        key = id(code)
        e = self._by_id.get(key)
        if e is not None and e[0]() is code:
            self._by_id[key] = (e[0], value)
            return
        by_id, by_hash = self._by_id, self._by_hash

        def gone(ref, key=key, h=h):
            # only this code's own entry: its id may already name another code's
            e = by_id.get(key)
            if e is not None and e[0] is ref:
                del by_id[key]
                ids = by_hash.get(h)
                if ids is not None:
                    ids.discard(key)
                    if not ids:
                        del by_hash[h]

        by_id[key] = (weakref.ref(code, gone), value)
        by_hash.setdefault(h, set()).add(key)

    def get(self, code, default=None):
        e = self._by_id.get(id(code))
        if e is not None and e[0]() is code:
            return e[1]
        try:
            h = hash(code)
        except TypeError:
            return default
        for key in tuple(self._by_hash.get(h, ())):
            e = self._by_id.get(key)
            other = e[0]() if e is not None else None
            if other is not None and other == code:
                try:
                    self._put(code, h, e[1])
                except TypeError:  # no weak reference to it
                    pass
                return e[1]
        return default

    def __contains__(self, code):
        return self.get(code, _ABSENT) is not _ABSENT

    def __len__(self):
        return len(self._by_id)


_ABSENT = object()
