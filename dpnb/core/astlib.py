"""Small builders of AST nodes, and the cotangent bookkeeping, shared by the emitter's modules."""
import ast


def N(id):
    return ast.Name(id=id, ctx=ast.Load())


def S(id):
    return ast.Name(id=id, ctx=ast.Store())


def C(v):
    return ast.Constant(value=v)


def assign(target, value):
    t = S(target) if isinstance(target, str) else target
    return ast.Assign(targets=[t], value=value)


def call(f, *args):
    return ast.Call(func=N(f) if isinstance(f, str) else f, args=list(args), keywords=[])


def binop(a, op, b):
    return ast.BinOp(left=a, op=op, right=b)


def is_none_test(name, negate=False):
    return ast.Compare(left=N(name), ops=[ast.IsNot() if not negate else ast.Is()], comparators=[C(None)])


class State:
    """Where each variable's cotangent lives in the pullback: var -> [name, definite]."""

    def __init__(self, h=None):
        self.h = dict(h or {})

    def copy(self):
        return State({k: list(v) for k, v in self.h.items()})
