"""Every identifier the generated code introduces comes from here.

Generated names never collide with a name of the user's function: a `Namer` is
built from every identifier in the function's source and hands out fresh ones.
"""
import ast
import itertools

from .astlib import DEFS, nodes

#: prefix of temporaries in the normalized forward pass
TEMP = "_t"
#: suffix of cotangent (adjoint) variables: `x` -> `x_bar`
BAR = "_bar"
#: the pullback's argument
SEED = "y_bar"


_Name, _arguments, _Return, _ClassDef = ast.Name, ast.arguments, ast.Return, ast.ClassDef
_SCOPED = frozenset({ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr})


class Namer:
    def __init__(self, tree, every=None):
        """The names of `tree` (its nodes `every`, as `astlib.nodes` gives them, if at hand), and
        from the same walk what other passes would walk the tree again for."""
        taken = self.taken = set()
        scopes = returns = 0
        other_scopes = False
        for n in nodes(tree) if every is None else every:  # every name, parameter and def of the tree
            t = type(n)
            if t is _Name:
                taken.add(n.id)
            elif t is _arguments:
                taken.update(a.arg for a in _all_args(n))
                scopes += 1
            elif t is _Return:
                returns += 1
            elif t in DEFS:
                taken.add(n.name)
                scopes += t is _ClassDef  # (a def has its `arguments`: a class has none)
            elif t in _SCOPED:
                other_scopes = True
        #: whether the tree holds a function, lambda or class inside another: where it does not,
        #: no pass need look for one (`ssa.SSA`)
        self.nested = scopes > 1
        #: whether every node of the tree is in its own scope and every name it binds is bound
        #: in the body (no nested function, lambda, class or comprehension, and no `:=`, which
        #: may sit in a default): a pass over the body's scope may then read `every` instead
        self.one_scope = not self.nested and not other_scopes
        #: the `return` statements of the tree (of its scope, if `one_scope`)
        self.returns = returns
        self._bars = {}
        self._counters = {}

    @classmethod
    def taking(cls, taken):
        """A namer that hands out none of the names `taken` (those of a tree another namer saw
        made: no walk of the tree)."""
        namer = cls.__new__(cls)
        namer.taken = set(taken)
        namer.nested, namer.one_scope = True, False  # (not known without the walk)
        namer._bars = {}
        namer._counters = {}
        return namer

    def fresh(self, base):
        """A new name starting with `base` (`_t` -> `_t1`, `_t2`, ...)."""
        counter = self._counters.setdefault(base, itertools.count(1))
        while True:
            name = f"{base}{next(counter)}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def exact(self, name):
        """`name` itself if free, else a numbered variant."""
        if name not in self.taken:
            self.taken.add(name)
            return name
        return self.fresh(name)

    def temp(self):
        return self.fresh(TEMP)

    def bar(self, var):
        """The cotangent variable of forward variable `var` (stable per var)."""
        try:
            return self._bars[var]
        except KeyError:
            base = var.lstrip("_") if var.startswith(TEMP) else var
            name = self.exact(f"{base}{BAR}" if not var.startswith("_") else f"{var}{BAR}")
            self._bars[var] = name
            return name


def _all_args(a):
    out = list(a.posonlyargs) + list(a.args) + list(a.kwonlyargs)
    if a.vararg:
        out.append(a.vararg)
    if a.kwarg:
        out.append(a.kwarg)
    return out
