"""Small builders of AST nodes shared by the emitters."""
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


def is_none(expr, negate=False):
    return ast.Compare(left=expr, ops=[ast.Is() if not negate else ast.IsNot()], comparators=[C(None)])


def tup(elts, store=False):
    return ast.Tuple(elts=list(elts), ctx=ast.Store() if store else ast.Load())


def attr(value, name):
    return ast.Attribute(value=value, attr=name, ctx=ast.Load())


def if_(test, body, orelse=()):
    return ast.If(test=test, body=list(body) or [ast.Pass()], orelse=list(orelse))


def ifexp(test, body, orelse):
    return ast.IfExp(test=test, body=body, orelse=orelse)


def loads(node):
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
