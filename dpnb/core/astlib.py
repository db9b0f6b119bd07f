"""Small builders of AST nodes shared by the emitters."""
import ast

# The builders pass fields by position (an AST constructor takes them in the order of `_fields`,
# in half the time it takes keywords) and share the contexts, as `ast.parse` does: a `Load` holds
# nothing, and nothing changes one.
_Name, _Constant, _Assign, _Call, _BinOp, _Tuple, _Attribute, _If = (
    ast.Name, ast.Constant, ast.Assign, ast.Call, ast.BinOp, ast.Tuple, ast.Attribute, ast.If,
)
LOAD, STORE = ast.Load(), ast.Store()


def N(id):
    return _Name(id, LOAD)


def S(id):
    return _Name(id, STORE)


def C(v):
    return _Constant(v)


def assign(target, value):
    return _Assign([_Name(target, STORE) if isinstance(target, str) else target], value)


def call(f, *args):
    return _Call(_Name(f, LOAD) if isinstance(f, str) else f, list(args), [])


def binop(a, op, b):
    return _BinOp(a, op, b)


def is_none(expr, negate=False):
    return ast.Compare(left=expr, ops=[ast.Is() if not negate else ast.IsNot()], comparators=[C(None)])


def tup(elts, store=False):
    return _Tuple(list(elts), STORE if store else LOAD)


def attr(value, name):
    return _Attribute(value, name, LOAD)


def if_(test, body, orelse=()):
    return _If(test, list(body) or [ast.Pass()], list(orelse))


def ifexp(test, body, orelse):
    return ast.IfExp(test=test, body=body, orelse=orelse)


def loads(node):
    return [n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


# --- fast forms of what `ast` and `copy` offer, for the transform's many small trees ------------
# (each gives the same result as the standard function it replaces; several times faster)

_AST = ast.AST
#: values a syntax tree holds that copies share (deepcopy returns them as they are)
_ATOMS = frozenset({str, int, float, bool, complex, bytes, type(None), type(Ellipsis)})


def shallow_copy(node):
    """`copy.copy(node)` for a syntax tree node: a node of its type whose attributes are the
    same objects (four times faster: no `__reduce_ex__`)."""
    t = type(node)
    new = t.__new__(t)
    new.__dict__.update(node.__dict__)
    return new


def copy_tree(x, memo=None):
    """`copy.deepcopy(x)` for a syntax tree (a node, or a list of nodes): a node shared within
    `x` stays shared in the copy; the node types that hold nothing (`Load`, `Add`, ...), which
    nothing changes, are not copied; a value other than a node, list, tuple or atom is copied by
    `copy.deepcopy`."""
    return _copy(x, {} if memo is None else memo)


def _copy(x, memo):
    t = type(x)
    if t in _ATOMS:
        return x
    if t is list:
        return [v if type(v) in _ATOMS else _copy(v, memo) for v in x]
    if isinstance(x, _AST):
        if not t._fields and not t._attributes:
            return x  # Load, Store, Add, Eq, ...: no state
        y = memo.get(id(x))
        if y is None:
            y = memo[id(x)] = t.__new__(t)
            d = y.__dict__
            for k, v in x.__dict__.items():
                d[k] = v if type(v) in _ATOMS else _copy(v, memo)
        return y
    if t is tuple:
        return tuple(v if type(v) in _ATOMS else _copy(v, memo) for v in x)
    if t is frozenset and all(type(v) in _ATOMS for v in x):
        return x  # immutable, atoms only: shared (deepcopy makes an equal one, 12 µs for 40 names)
    import copy

    return copy.deepcopy(x, memo)


def copy_renamed(x, load, marks=()):
    """`copy_tree(x)` in which each `Name` that loads has the id `load(id)`, and so has each `Name`
    held in one of the node attributes `marks` (the rest of a mark's tree is copied as it is),
    made in one pass."""
    return _copy_renamed(x, {}, load, marks)


def _copy_renamed(x, memo, load, marks):
    t = type(x)
    if t in _ATOMS:
        return x
    if t is list:
        return [v if type(v) in _ATOMS else _copy_renamed(v, memo, load, marks) for v in x]
    if not isinstance(x, _AST):
        return _copy(x, memo)
    if not t._fields and not t._attributes:
        return x  # Load, Add, ...: no state
    y = memo.get(id(x))
    if y is not None:
        return y
    y = memo[id(x)] = t.__new__(t)
    d = y.__dict__
    fields = t._fields
    for k, v in x.__dict__.items():
        if type(v) in _ATOMS:
            d[k] = v
        elif k in fields:
            d[k] = _copy_renamed(v, memo, load, marks)
        else:
            d[k] = v = _copy(v, memo)
            if k in marks and type(v) is _Name:
                v.id = load(v.id)
    if t is _Name and type(x.ctx) is _Load:
        d["id"] = load(x.id)
    return y


def walk(node):
    """`ast.walk(node)`: the same nodes in the same order (breadth first)."""
    todo = [node]
    push = todo.append
    for node in todo:  # the list grows as it is read
        d = node.__dict__
        for name in node._fields:
            v = d.get(name)
            if v is None:
                continue
            if type(v) is list:
                for c in v:
                    if isinstance(c, _AST):
                        push(c)
            elif isinstance(v, _AST):
                push(v)
        yield node


def name_nodes(node, also=()):
    """The `Name` nodes in `node`'s tree: those `walk` gives, in another order (depth first), in a
    list made without a generator (the transform counts and renames names everywhere); with
    `also`, a tuple of node types, the nodes of those types too, each before the names in it."""
    if type(node) is _Name:
        return [node]
    out = []
    todo = [node]
    pop, push, found = todo.pop, todo.append, out.append
    kids = _KIDS
    while todo:
        n = pop()
        t = type(n)
        if t is _Name:
            found(n)
            continue  # a name holds no other name
        if also and t in also:
            found(n)
        d = n.__dict__
        for field in kids[t]:
            v = d.get(field)
            if v is None:
                continue
            if type(v) is list:
                for c in v:
                    if isinstance(c, _AST):
                        push(c)
            elif isinstance(v, _AST):
                push(v)
    return out


def nodes(node):
    """The nodes of `node`'s tree, `node` first, in a list made without a generator, but those
    that hold nothing (`Load`, `Add`, ...): for a pass that looks at every node in no order."""
    return scope_nodes((node,), ())


def bfs_nodes(node):
    """The nodes `walk(node)` gives, in the same order (breadth first), but those that hold
    nothing (`Load`, `Add`, ...), in a list made without a generator."""
    out = [node]
    push = out.append
    kids = _KIDS
    for n in out:  # the list grows as it is read
        d = n.__dict__
        for field in kids[type(n)]:
            v = d.get(field)
            if v is None:
                continue
            if type(v) is list:
                for c in v:
                    if isinstance(c, _AST):
                        push(c)
            elif isinstance(v, _AST):
                push(v)
    return out


class _Kids(dict):
    """node type -> its fields that may hold a node with something in it: all but `ctx`, `op`
    and `ops`, which only ever hold the node types that hold nothing (`Load`, `Add`, `Eq`, ...),
    and those that hold only names, numbers and strings (`Name.id`, `Constant.value`, ...): a
    `Name` or a `Constant` has none (the walks pass by half the nodes of a tree at once); found
    at a type's first look-up."""

    def __missing__(self, t):
        atoms = _ATOM_FIELDS | _ATOM_FIELDS_OF.get(t.__name__, frozenset())
        k = self[t] = tuple(f for f in t._fields if f not in atoms)
        return k


#: the fields that hold no node in any node type (the grammar's identifiers, ints and strings)
_ATOM_FIELDS = frozenset({
    "ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "module", "level", "is_async", "conversion",
    "type_comment", "simple", "kind", "tag", "rest", "kwd_attrs",
})
#: the same, in the node types where a field of that name holds no node (it does elsewhere)
_ATOM_FIELDS_OF = {
    "Constant": frozenset({"value"}), "MatchSingleton": frozenset({"value"}),
    "Global": frozenset({"names"}), "Nonlocal": frozenset({"names"}),
}


_KIDS = _Kids()


_Name, _Load = ast.Name, ast.Load


_POSITION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def copy_location(new, old):
    """`ast.copy_location(new, old)`: `new` takes `old`'s position (where both node types have
    one; every type with a position has the same four attributes); returns `new`."""
    if new._attributes and old._attributes:
        o, d = old.__dict__, new.__dict__
        if "end_col_offset" in o and "end_lineno" in o:  # (the common case: all four, in one go)
            lineno, col = o.get("lineno"), o.get("col_offset")
            if lineno is not None and col is not None:
                d["lineno"], d["col_offset"], d["end_lineno"], d["end_col_offset"] = lineno, col, o["end_lineno"], o["end_col_offset"]
                return new
        for a in _POSITION:
            if a in o:
                v = o[a]
                if v is not None or a[0] == "e":  # the end positions are copied even as None
                    d[a] = v
    return new


#: the nodes that open a scope of their own
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
#: the same and the comprehensions, whose variables are their own too
SCOPES_AND_COMPREHENSIONS = SCOPES + (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
#: the statements that bind a name of their own (`def`, `class`)
DEFS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})


def scope_nodes(body, stop=SCOPES):
    """The nodes of the statements (or expressions) `body` that belong to their own scope, in a
    list: a nested function, lambda or class (any node of the types `stop`) is in it, as its name
    and defaults belong to this scope, but nothing inside it is. The nodes that hold nothing
    (`Load`, `Add`, ...) are not in it."""
    out = []
    todo = list(body)
    pop, push, found = todo.pop, todo.append, out.append
    kids = _KIDS
    while todo:
        n = pop()
        found(n)
        if isinstance(n, stop):
            continue
        d = n.__dict__
        for field in kids[type(n)]:
            v = d.get(field)
            if v is None:
                continue
            if type(v) is list:
                for c in v:
                    if isinstance(c, _AST):
                        push(c)
            elif isinstance(v, _AST):
                push(v)
    return out


def fix_missing_locations(node):
    """`ast.fix_missing_locations(node)`: a node with no position takes its parent's. The nodes are
    visited in the same order (depth first, a node before its children, the children in the order
    of their fields), which matters for a node that two parents share. The nodes that hold
    nothing (`Load`, `Add`, ...) have no position and are passed by. (A recursive walk, a third
    faster than a stack of tuples; a tree deeper than the interpreter's recursion limit allows is
    finished by the stack: the positions the first walk set are those it would set.)"""
    try:
        _fix(node, 1, 0, 1, 0)
    except RecursionError:
        _fix_deep(node)
    return node


def _fix(node, lineno, col_offset, end_lineno, end_col_offset):
    d = node.__dict__
    if node._attributes:
        # every node type with a position has these four (the last two optional): each one it
        # lacks is its parent's, each one it has is its children's
        if (v := d.get("lineno")) is None:
            d["lineno"] = lineno
        else:
            lineno = v
        if (v := d.get("end_lineno")) is None:
            d["end_lineno"] = end_lineno
        else:
            end_lineno = v
        if (v := d.get("col_offset")) is None:
            d["col_offset"] = col_offset
        else:
            col_offset = v
        if (v := d.get("end_col_offset")) is None:
            d["end_col_offset"] = end_col_offset
        else:
            end_col_offset = v
    for field in _KIDS[type(node)]:
        v = d.get(field)
        if v is None:
            continue
        if type(v) is list:
            for c in v:
                if isinstance(c, _AST):
                    _fix(c, lineno, col_offset, end_lineno, end_col_offset)
        elif isinstance(v, _AST):
            _fix(v, lineno, col_offset, end_lineno, end_col_offset)


def _fix_deep(node):
    stack = [(node, (1, 0, 1, 0))]
    pop, push = stack.pop, stack.append
    kids = _KIDS
    while stack:
        node, pos = pop()
        d = node.__dict__
        if node._attributes:
            pos = tuple(p if d.get(k) is None else d[k] for k, p in zip(_POSITION, pos))
            for k, p in zip(_POSITION, pos):
                d[k] = p
        fields = kids[type(node)]
        for i in range(len(fields) - 1, -1, -1):  # pushed last to first: popped first to last
            v = d.get(fields[i])
            if type(v) is list:
                for j in range(len(v) - 1, -1, -1):
                    if isinstance(v[j], _AST):
                        push((v[j], pos))
            elif isinstance(v, _AST):
                push((v, pos))


def substitute(expr, mapping, y, helper_name):
    """A copy of a rule's partial `expr` (an expression in its argument names and `y`, the
    result) with each argument name replaced by a copy of `mapping`'s expression for it, `y` by a
    copy of `y`, and every other name by `helper_name(name)` (the rule's own helpers); made in
    one pass (a partial is a tree: no node in it is shared)."""
    return _put(expr, mapping, y, helper_name)


def _put(node, mapping, y, helper_name):
    # (a function of the module, not one nested in `substitute`: a nested function that calls
    # itself is a cycle, which would keep `helper_name`, and the writer it is bound to, alive
    # until the cyclic collector runs)
    t = type(node)
    if t is _Name:
        e = mapping.get(node.id)
        if e is not None:
            return copy_tree(e)
        if node.id == "y":
            return copy_tree(y)
        return helper_name(node.id)
    if not t._fields and not t._attributes:
        return node  # Load, Add, ...: no state
    new = t.__new__(t)
    d = new.__dict__
    fields = t._fields
    for k, v in node.__dict__.items():
        if type(v) in _ATOMS:
            d[k] = v
        elif k not in fields:
            d[k] = _copy(v, {})
        elif type(v) is list:
            d[k] = [_put(c, mapping, y, helper_name) if isinstance(c, _AST) else c for c in v]
        else:
            d[k] = _put(v, mapping, y, helper_name) if isinstance(v, _AST) else _copy(v, {})
    return new
