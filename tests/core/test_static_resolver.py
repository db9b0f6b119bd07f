"""The resolver of static names (`load._static_resolver`) is a loop now, where it was two nested
functions calling each other (a cycle, kept until the collector ran). It must resolve what they
resolved: written out here as they were, and compared on every kind of chain."""
import ast
import math  # noqa: F401 (the chains read these globals)
import os  # noqa: F401
import types

import numpy as np  # noqa: F401

from dpnb.core import load


class Shape:
    SIDES = 4

    class Inner:
        DEPTH = 2

    def area(self):
        return 1.0


def reference(fn, local):
    """The resolver as two functions calling each other (how it was written before)."""
    import builtins

    g = fn.__globals__
    b = g.get("__builtins__", builtins)
    b = b if isinstance(b, dict) else vars(b)
    free = set(fn.__code__.co_freevars)

    def resolve(node):
        if isinstance(node, ast.Attribute):
            ok, base = resolve_base(node.value)
            if ok and isinstance(base, types.ModuleType):
                try:
                    return True, getattr(base, node.attr)
                except AttributeError:
                    return False, None
            if ok and isinstance(base, type) and isinstance(node.value, ast.Name):
                try:
                    return True, getattr(base, node.attr)
                except AttributeError:
                    return False, None
        return False, None

    def resolve_base(node):
        if isinstance(node, ast.Name):
            if node.id in local or node.id in free:
                return False, None
            if node.id in g:
                return True, g[node.id]
            if node.id in b:
                return True, b[node.id]
            return False, None
        return resolve(node)

    return resolve


CHAINS = [
    "np", "np.sum", "np.linalg.norm", "np.linalg.nothing", "np.nothing.norm", "np.random.default_rng",
    "math.pi", "math.pi.real", "os.path.join", "os.path.join.__name__", "int.from_bytes", "int.from_bytes.x",
    "object.__setattr__", "Shape.SIDES", "Shape.Inner", "Shape.Inner.DEPTH", "Shape.area", "Shape.nothing",
    "local_one.x", "free_one.x", "len.__name__", "nothing.x", "nothing", "f(x).y", "a[0].b", "np.sum(x).shape",
    "(np).linalg", "types.ModuleType.__name__", "np.ndarray.sum", "np.float64",
]


def test_the_loop_resolves_what_the_two_functions_resolved():
    free_one = 1

    def fn():
        return free_one

    fn = types.FunctionType(fn.__code__, globals(), "fn", None, fn.__closure__)
    local = {"local_one"}
    got, want = load._static_resolver(fn, local), reference(fn, local)
    resolved = 0
    for text in CHAINS:
        node = ast.parse(text, mode="eval").body
        for n in ast.walk(node):
            a, b = got(n), want(n)
            assert a[0] == b[0] and (a[1] is b[1] or (a[1] == b[1] and type(a[1]) is type(b[1]))), (text, ast.unparse(n), a, b)
            resolved += a[0]
    assert resolved > 20  # (the chains reach modules, classes and what is in them)
