"""astlib's copy_tree, walk and fix_missing_locations give what copy.deepcopy, ast.walk and
ast.fix_missing_locations give (the transform calls them thousands of times per adjoint)."""
import ast
import copy
import pathlib

import dpnb
from dpnb.core import astlib
from dpnb.core.normalize import Native


#: every node type with a field that holds names, numbers or strings only (which the walks pass
#: by) and those with a field of the same name that holds nodes
EVERY_KIND = """
import a.b as c, d
from .e import f as g, h
from . import i
def fn(p: int, /, q=1, *r, s, t=2, **u) -> float:
    global G
    x: int = 1
    y.z: float
    def inner():
        nonlocal x
        return x
    v = [k async for k in w] if x else {k: j for k, j in w}
    print(f"{x!r:>{y}} {z!s} {w}", x.attr, x[1:2], -x, not x, x if y else z, lambda m=1, *n, o: m)
    match v:
        case None | True:
            pass
        case [1, *rest_items]:
            pass
        case {"k": 1, **others}:
            pass
        case Point(1, y=2, z=capture) as whole:
            pass
        case {**everything}:
            pass
    try:
        raise ValueError from x
    except (TypeError, ValueError) as err:
        del err
    with open(x) as fh, y:
        yield from fh
    assert x, "message"
    return (yield)
class K(B, metaclass=M):
    attr: int = 0
"""


def _trees():
    root = pathlib.Path(dpnb.__file__).parent
    for name in ("core/emit.py", "core/ssa.py", "rules/numpy/shapes.py", "api.py"):
        yield ast.parse((root / name).read_text())
    yield ast.parse(EVERY_KIND, type_comments=True)


def _dump(t):
    return ast.dump(t, include_attributes=True)


def test_walk_visits_the_same_nodes_in_the_same_order():
    for tree in _trees():
        assert list(map(id, astlib.walk(tree))) == list(map(id, ast.walk(tree)))


def test_copy_tree_is_a_deep_copy():
    for tree in _trees():
        c = astlib.copy_tree(tree)
        assert _dump(c) == _dump(tree) == _dump(copy.deepcopy(tree))
        nodes = {id(n) for n in ast.walk(tree) if n._fields or n._attributes}
        assert not nodes & {id(n) for n in ast.walk(c)}


def test_copy_tree_keeps_sharing_and_extra_attributes_as_deepcopy_does():
    shared = ast.Name(id="x", ctx=ast.Load())
    stmt = ast.Expr(value=ast.BinOp(left=shared, op=ast.Add(), right=shared))
    stmt.dpnb_mark = (3, [ast.Name(id="y", ctx=ast.Load())], {"k": shared})
    wrapped = Native(stmt=stmt)
    for x in (stmt, [stmt, stmt], wrapped):
        a, b = copy.deepcopy(x), astlib.copy_tree(x)
        assert repr(ast.dump(a) if not isinstance(a, list) else [ast.dump(s) for s in a]) == repr(
            ast.dump(b) if not isinstance(b, list) else [ast.dump(s) for s in b]
        )
    c = astlib.copy_tree(stmt)
    assert c.value.left is c.value.right is c.dpnb_mark[2]["k"] and c.value.left is not shared
    assert c.dpnb_mark[0] == 3 and c.dpnb_mark[1][0] is not stmt.dpnb_mark[1][0]
    d = astlib.copy_tree([stmt, stmt])
    assert d[0] is d[1]  # one copy for a node met twice, as deepcopy makes


def test_copy_tree_shares_a_frozenset_of_names_and_copies_one_holding_nodes():
    stmt = ast.Expr(value=ast.Name(id="x", ctx=ast.Load()))
    names = frozenset({"x", "x_1", "_t2"})
    stmt.dpnb_taken = names
    stmt.dpnb_marks = frozenset({("x", 1), 2.5})  # a tuple is not an atom: copied
    inner = ast.Name(id="y", ctx=ast.Load())
    stmt.dpnb_nodes = frozenset({inner})
    c = astlib.copy_tree(stmt)
    assert c.dpnb_taken is names  # immutable and of atoms: nothing to copy
    assert c.dpnb_marks == stmt.dpnb_marks and c.dpnb_marks is not stmt.dpnb_marks
    (copied,) = c.dpnb_nodes
    assert copied is not inner and copied.id == "y"  # as deepcopy copies the nodes in it


def test_fix_missing_locations_sets_the_same_positions():
    for tree in _trees():
        a, b = copy.deepcopy(tree), copy.deepcopy(tree)
        for t in (a, b):
            for i, n in enumerate(ast.walk(t)):
                if i % 3 == 0:
                    for k in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                        n.__dict__.pop(k, None)
        ast.fix_missing_locations(a)
        assert astlib.fix_missing_locations(b) is b
        assert _dump(a) == _dump(b)


def test_fix_missing_locations_gives_a_shared_node_its_first_parents_position():
    shared = ast.Name(id="s", ctx=ast.Load())
    module = ast.Module(body=[
        ast.Expr(value=ast.BinOp(left=shared, op=ast.Add(), right=ast.Constant(1), lineno=5, col_offset=2, end_lineno=5, end_col_offset=9)),
        ast.Expr(value=ast.Call(func=shared, args=[], keywords=[]), lineno=9, col_offset=0, end_lineno=9, end_col_offset=3),
    ], type_ignores=[])
    a, b = copy.deepcopy(module), copy.deepcopy(module)
    ast.fix_missing_locations(a)
    astlib.fix_missing_locations(b)
    assert _dump(a) == _dump(b)
    assert b.body[0].value.left.lineno == 5


def test_fix_missing_locations_of_a_tree_deeper_than_the_recursion_limit():
    """The recursive walk gives way to the stack's on a tree deeper than the interpreter lets it
    go (a sum of 3,000 terms): the same positions, none missing."""
    e = ast.Name(id="a", ctx=ast.Load(), lineno=1, col_offset=0, end_lineno=1, end_col_offset=1)
    for _ in range(3000):
        e = ast.BinOp(left=e, op=ast.Add(), right=ast.Name(id="b", ctx=ast.Load()))
    module = ast.Module(body=[ast.Expr(value=e, lineno=5, col_offset=2, end_lineno=5, end_col_offset=9)], type_ignores=[])
    astlib.fix_missing_locations(module)
    node, depth = module.body[0].value, 0
    while isinstance(node, ast.BinOp):
        assert (node.lineno, node.col_offset, node.right.lineno, node.right.end_col_offset) == (5, 2, 5, 9)
        node, depth = node.left, depth + 1
    assert depth == 3000 and node.lineno == 1 and node.end_col_offset == 1


def test_name_nodes_are_the_names_walk_finds():
    for tree in _trees():
        assert sorted(map(id, astlib.name_nodes(tree))) == sorted(id(n) for n in ast.walk(tree) if isinstance(n, ast.Name))


def test_name_nodes_also_gives_the_nodes_of_the_types_asked_for():
    also = (ast.FunctionDef, ast.Lambda, ast.Call)
    for tree in _trees():
        got = astlib.name_nodes(tree, also)
        assert sorted(map(id, got)) == sorted(id(n) for n in ast.walk(tree) if isinstance(n, (ast.Name,) + also))
        seen = set()
        for n in got:  # a node of those types comes before the names inside it
            if isinstance(n, ast.Name):
                seen.add(id(n))
            else:
                assert not any(id(m) in seen for m in ast.walk(n) if isinstance(m, ast.Name))


def _holds_something(n):
    return not isinstance(n, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop))


def test_bfs_nodes_are_walks_nodes_in_walks_order_but_those_that_hold_nothing():
    for tree in _trees():
        assert list(map(id, astlib.bfs_nodes(tree))) == [id(n) for n in ast.walk(tree) if _holds_something(n)]


def test_nodes_are_walks_nodes_but_those_that_hold_nothing():
    for tree in _trees():
        got = list(map(id, astlib.nodes(tree)))
        assert len(got) == len(set(got))
        assert sorted(got) == sorted(id(n) for n in ast.walk(tree) if _holds_something(n))


def test_the_builders_make_what_keyword_constructors_make():
    """The builders pass fields by position and share the contexts: the same trees as written
    with keywords and fresh contexts, which compile to the same code."""
    x, y = ast.Name(id="x", ctx=ast.Load()), ast.Constant(value=2)
    pairs = [
        (astlib.N("a"), ast.Name(id="a", ctx=ast.Load())),
        (astlib.S("a"), ast.Name(id="a", ctx=ast.Store())),
        (astlib.C(1.5), ast.Constant(value=1.5)),
        (astlib.assign("a", x), ast.Assign(targets=[ast.Name(id="a", ctx=ast.Store())], value=x)),
        (astlib.call("f", x, y), ast.Call(func=ast.Name(id="f", ctx=ast.Load()), args=[x, y], keywords=[])),
        (astlib.binop(x, ast.Mult(), y), ast.BinOp(left=x, op=ast.Mult(), right=y)),
        (astlib.tup([x, y]), ast.Tuple(elts=[x, y], ctx=ast.Load())),
        (astlib.tup([astlib.S("a")], store=True), ast.Tuple(elts=[ast.Name(id="a", ctx=ast.Store())], ctx=ast.Store())),
        (astlib.attr(x, "T"), ast.Attribute(value=x, attr="T", ctx=ast.Load())),
        (astlib.if_(x, [], [ast.Pass()]), ast.If(test=x, body=[ast.Pass()], orelse=[ast.Pass()])),
    ]
    for built, written in pairs:
        assert _dump(built) == _dump(written)
        assert sorted(built.__dict__) == sorted(written.__dict__)  # no field set that was not
    assert isinstance(astlib.LOAD, ast.Load) and isinstance(astlib.STORE, ast.Store)
    assert astlib.N("a").ctx is astlib.N("b").ctx is astlib.LOAD
    body = [astlib.assign("a", astlib.binop(astlib.N("x"), ast.Add(), astlib.C(1))), ast.Return(value=astlib.N("a"))]
    fdef = ast.FunctionDef(name="f", args=ast.arguments(posonlyargs=[], args=[ast.arg(arg="x")], vararg=None, kwonlyargs=[],
                           kw_defaults=[], kwarg=None, defaults=[]), body=body, decorator_list=[], returns=None, type_comment=None)
    ns = {}
    exec(compile(ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[])), "<builders>", "exec"), ns)
    assert ns["f"](2) == 3


def _copy_location_by_loop(new, old):
    for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if a in old.__dict__ and (old.__dict__[a] is not None or a.startswith("end")):
            new.__dict__[a] = old.__dict__[a]
    return new


def test_copy_location_copies_what_ast_copy_location_copies():
    """Its quick way (all four positions there, the first two not None) and its other ways copy
    each position the old node holds, the start only if it is not None: what `ast.copy_location`
    copies, but for end positions the old node does not hold (which it sets to None)."""
    olds = [
        dict(lineno=3, col_offset=4, end_lineno=5, end_col_offset=6),
        dict(lineno=3, col_offset=4, end_lineno=None, end_col_offset=None),
        dict(lineno=3, col_offset=4),
        dict(lineno=None, col_offset=4, end_lineno=5, end_col_offset=6),
        dict(lineno=3, col_offset=None, end_lineno=5, end_col_offset=6),
        dict(),
    ]
    for pos in olds:
        for before in (dict(), dict(lineno=9, col_offset=9, end_lineno=9, end_col_offset=9)):
            old = ast.Name(id="o", ctx=astlib.LOAD, **pos)
            got = astlib.copy_location(ast.Name(id="n", ctx=astlib.LOAD, **before), old)
            want = _copy_location_by_loop(ast.Name(id="n", ctx=astlib.LOAD, **before), old)
            assert got.__dict__ == want.__dict__, (pos, before)
            if "end_lineno" in pos:
                assert got.__dict__ == ast.copy_location(ast.Name(id="n", ctx=astlib.LOAD, **before), old).__dict__
    assert astlib.copy_location(ast.Add(), ast.Name(id="o", ctx=ast.Load(), lineno=1, col_offset=0)).__dict__ == {}


def test_shallow_copy_is_copy_copy():
    for tree in _trees():
        for n in astlib.walk(tree):
            n.dpnb_mark = [n]  # an attribute of the transform's own, shared as copy.copy shares it
            a, b = copy.copy(n), astlib.shallow_copy(n)
            assert type(a) is type(b) and a is not n and b is not n
            assert a.__dict__.keys() == b.__dict__.keys()
            assert all(b.__dict__[k] is v for k, v in a.__dict__.items())
