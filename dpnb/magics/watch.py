"""Automatic refresh: after a cell redefines code, the next gradient uses the new code.

dpnb caches compiled adjoints per code object, and the adjoint of a caller may
have resolved some callees when it was compiled (a method of a global class, a
rule written inline). So after every cell (`post_run_cell`, which also runs
after a cell that failed half-way) the `Watcher` compares what the notebook's
functions and classes are now with what they were after the previous cell:

- every function, lambda, class (and each of its methods, static and class
  methods and properties), decorated function (its `__wrapped__` chain) and
  `rrule` bound to a name in the notebook's namespace;
- the same for the notebook user's own modules (imported from files outside
  the Python installation), so that `importlib.reload` and autoreload, which
  swaps `__code__` in place, are seen too.

An object, or a code object, that is not the one seen before means the cell
redefined something: then every cache is emptied with `dpnb.refresh()` (a
cell that defines no code costs one scan of the namespace and nothing else).
Before each cell (`pre_run_cell`) and after it, `linecache.checkcache()` drops
the cached text of source files edited on disk, so a reloaded module is read
anew.

>>> notebook = {"__name__": "__main__"}
>>> exec("f = lambda x: x", notebook)
>>> w = Watcher(notebook, modules=False)
>>> w.changed()
False
>>> exec("f = lambda x: 2 * x", notebook)
>>> w.changed()
True
>>> w.changed()
False
"""
import linecache
import os
import sys
import sysconfig
import types

__all__ = ["Watcher"]

_PROPERTY_PARTS = ("fget", "fset", "fdel")


def _code_of(obj):
    """The objects whose identity says which code `obj` runs, flattened."""
    parts = []
    seen = 0
    while obj is not None and seen < 20:
        seen += 1
        parts.append(obj)
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
            continue
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
            continue
        if isinstance(obj, property):
            for p in _PROPERTY_PARTS:
                if getattr(obj, p) is not None:
                    parts.extend(_code_of(getattr(obj, p)))  # flattened: a fresh tuple would never be `is` the old one
            break
        code = getattr(obj, "__code__", None)
        if isinstance(code, types.CodeType):
            parts.append(code)
            parts.append(getattr(obj, "__defaults__", None))
        obj = getattr(obj, "__wrapped__", None) if not isinstance(obj, type) else None
    return tuple(parts)


def _is_code_like(v):
    return isinstance(v, (types.FunctionType, types.MethodType, staticmethod, classmethod, property)) or (
        callable(v) and hasattr(v, "__wrapped__") and not isinstance(v, type)
    )


def _identity(v):
    """A tuple of objects that changes (by identity) when the code behind `v` changes, or None."""
    if isinstance(v, type):
        if v.__module__ == "builtins":
            return None
        parts = [v]
        for name, member in list(vars(v).items()):
            if _is_code_like(member):
                parts.append(name)
                parts.extend(_code_of(member))
        return tuple(parts)
    if _is_code_like(v):
        return _code_of(v)
    return None


_HISTORY = frozenset({"_", "__", "___", "In", "Out", "exit", "quit", "get_ipython"})


def _skip(name):
    return name in _HISTORY or (name.startswith("_") and (name[1:].isdigit() or name.startswith("_i")))


def _system_dirs():
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.realpath(path))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        dirs.add(os.path.realpath(prefix))
    import dpnb

    dirs.add(os.path.realpath(os.path.dirname(dpnb.__file__)))
    return tuple(sorted(dirs))


class Watcher:
    """Remembers the code behind every name of a namespace; `changed()` says if any of it changed."""

    def __init__(self, namespace, modules=True):
        self.namespace = namespace
        self.modules = modules
        self._system = _system_dirs()
        self._user_modules = {}  # module name -> file, decided once per module object
        self.snapshot = self._take()

    def _is_user_module(self, module):
        name = getattr(module, "__name__", None)
        known = self._user_modules.get(name)
        if known is not None and known[0] is module:
            return known[1]
        path = getattr(module, "__file__", None)
        mine = bool(path) and path.endswith(".py") and not os.path.realpath(path).startswith(self._system)
        self._user_modules[name] = (module, mine)
        return mine

    def _mine(self, value):
        """Whether `value` comes from the notebook or the user's own modules (not a library)."""
        mod = getattr(value, "__module__", None)
        if not isinstance(mod, str) or mod == "__main__":
            return True
        module = sys.modules.get(mod)
        return module is None or self._is_user_module(module)

    def _take(self):
        snap = {}
        for name, value in list(self.namespace.items()):
            if _skip(name) or not self._mine(value):
                continue
            ident = _identity(value)
            if ident is not None:
                snap[name] = ident
        for mname, module in list(sys.modules.items()) if self.modules else ():
            if module is None or not self._is_user_module(module):
                continue
            snap[("module", mname)] = (module,)
            for name, value in list(vars(module).items()):
                if getattr(value, "__module__", mname) != mname:
                    continue  # imported from elsewhere: watched where it is defined
                ident = _identity(value)
                if ident is not None:
                    snap[(mname, name)] = ident
        return snap

    def changes(self):
        """The names (or `(module, name)` pairs) whose code changed since the last call."""
        new = self._take()
        old, self.snapshot = self.snapshot, new
        changed = [key for key in old.keys() ^ new.keys()]
        for key, parts in new.items():
            before = old.get(key)
            if before is not None and (len(before) != len(parts) or any(a is not b for a, b in zip(before, parts))):
                changed.append(key)
        return changed

    def changed(self):
        """Whether any code changed since the last call (or since the Watcher was made)."""
        return bool(self.changes())

    # IPython event callbacks ------------------------------------------------------------

    def pre_run_cell(self, info=None):
        linecache.checkcache()

    def post_run_cell(self, result=None):
        linecache.checkcache()
        if self.changed():
            import dpnb

            dpnb.refresh()
