"""`gradient(fn, *args)` with one float among ints, by forward mode: where it is sure that the
reverse way gives no cotangent to the ints (a count, a depth, an index), the ints get None and
the float's derivative comes from `forward`'s code for it (`joined_ints`). The analysis
(`int_args_inert`) is loaded only for such calls."""
import ast

from .astlib import name_nodes
from .forward import Unsupported, _ssa_of, instance


def joined_ints(fn, types_):
    """For `gradient(fn, *args)` with one float argument and ints for the others (`types_`, their
    types), where no cotangent can reach the ints (`int_args_inert`): a function called like
    `fn` that returns the gradient, None for each int; None if forward mode does not apply."""
    code = fn.__code__
    nargs = len(types_)
    if nargs < 2 or types_.count(float) != 1 or types_.count(int) != nargs - 1:
        return None
    if code.co_argcount < nargs or code.co_flags & 0x0C or code.co_kwonlyargcount:
        return None
    if code.co_argcount - nargs > len(fn.__defaults__ or ()):
        return None
    pos = types_.index(float)
    try:
        versioned = _ssa_of(fn)[0]
    except Unsupported:
        return None
    ints = {p.arg for i, p in enumerate(versioned.args.args) if i < nargs and i != pos}
    if not int_args_inert(fn, versioned, ints):
        return None
    mask = tuple(i == pos for i in range(code.co_argcount))
    return instance(fn, mask, f"grad{nargs}")


#: builtins whose results carry no cotangent back to their arguments
_CUTTING = ("range", "len")


def int_args_inert(fn, versioned, ints):
    """Is it sure that the reverse way gives no cotangent to the parameters `ints` (given ints)?
    True when every value computed from them (their versions, and what arithmetic and calls make
    of them) only reaches comparisons, `range`, `len`, indices, and the same parameters of the
    function's own recursive calls: never the result."""
    params = [a.arg for a in versioned.args.args]
    positions = {i for i, p in enumerate(params) if p in ints}
    reach = set(ints)
    local = set(params)
    stmts = _statements(versioned.body, [])
    for s in stmts:
        if isinstance(s, ast.Assign):
            local.update(n.id for n in name_nodes(s.targets[0]))
        elif isinstance(s, ast.For):
            local.update(n.id for n in name_nodes(s.target))

    def reads(v):
        return any(n.id in reach for n in name_nodes(v))

    def carries(v):
        """Does expression `v` carry a cotangent back to what it reads of `reach`?"""
        if isinstance(v, ast.Compare) or (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)):
            return False
        if isinstance(v, ast.Subscript):
            return reads(v.value)  # an index gets no cotangent
        if isinstance(v, ast.Call):
            f = v.func
            if isinstance(f, ast.Name) and f.id in _CUTTING and f.id not in local and f.id not in fn.__globals__:
                return False
            if isinstance(f, ast.Name) and f.id not in local and fn.__globals__.get(f.id) is fn and not v.keywords:
                # the function itself: these parameters are inert there too (what is being shown)
                return any(reads(a) for i, a in enumerate(v.args) if i not in positions or isinstance(a, ast.Starred))
            return reads(v)
        return reads(v)

    def touched(s):
        """The names a statement may bind or change: its targets, and what a call it makes is given
        (a list the call appends to, an object whose field it sets)."""
        names = [n.id for n in name_nodes(s.targets[0])] if isinstance(s, ast.Assign) else []
        v = s.value
        if isinstance(v, ast.Call):
            names += [n.id for a in v.args for n in name_nodes(a)]
            names += [n.id for k in v.keywords for n in name_nodes(k.value)]
            if isinstance(v.func, ast.Attribute):
                names += [n.id for n in name_nodes(v.func.value)]
        return names

    changed = True
    while changed:
        changed = False
        for s in stmts:
            if isinstance(s, (ast.Assign, ast.Expr)):
                targets = touched(s)
                if any(t not in reach for t in targets) and carries(s.value):
                    reach.update(targets)
                    changed = True
            elif isinstance(s, ast.For):
                targets = [n.id for n in name_nodes(s.target)]
                if any(t not in reach for t in targets) and reads(s.iter):
                    reach.update(targets)
                    changed = True
            elif isinstance(s, ast.Return) and s.value is not None and carries(s.value):
                return False
            elif not isinstance(s, (ast.If, ast.While, ast.For, ast.Break, ast.Continue, ast.Pass, ast.Return, ast.Assign, ast.Expr)):
                if reads(s):
                    return False  # a statement of another kind: not shown
    # a parameter changed with what the ints made (a list given, appended to): the caller may read it
    return not (reach & (set(params) - set(ints)))


def _statements(body, out):
    """The statements of `body` and of the blocks in them (`body`, `orelse`), appended to `out`."""
    for s in body:
        out.append(s)
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list):
                _statements(inner, out)
    return out
