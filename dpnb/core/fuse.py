"""One function for forward pass and backward pass, for adjoints that never need a context.

`gradient(f, x)` of a small scalar function spends most of its time around the generated code:
a context for the heap of object cotangents, its place on the context stack, a closure for the
pullback and the call of it. An adjoint whose code reaches none of the runtime's heap, mutation
or call machinery (arithmetic, branches, loops with a tape, `math` functions with inline rules)
needs none of that: its forward pass and its pullback can run as one function, the pullback's
body placed after the forward pass's, with the seed in between. That function is the same
generated code (the same statements, in the same order, with the user's line numbers), joined.

A site that would call back into dpnb (an inline rule's function rebound since the adjoint was
compiled) cannot run without a context: in the joined function it raises `Bail` instead (never
inside the user's `try` or `with`, which could catch it, nor after a `global` or `nonlocal`
name is set: such functions are not joined). Up to there the joined function has only computed
with numbers, so `gradient` can run the general way from the start, and does so for that
function from then on.
"""
import ast
import types

from .astlib import C, N, S, call, copy_location, copy_tree, fix_missing_locations, name_nodes, scope_nodes, tup
from .runtime import bail

#: runtime helpers that neither read the context nor call the user's code through dpnb
PURE_HELPERS = frozenset({"nones", "range", "tape_reader", "len", "slice", "set", "check_loop", "with_value", "unbound", "round"})


def _stored(nodes):
    out = set()
    for n in nodes:
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
    return out


def joined(shown, pullback_name, helper_names, forward_name, own):
    """The tree of the joined function for the generated forward pass `shown` (a FunctionDef whose
    body defines the pullback and ends `return (y, pullback)`), or None if it cannot be joined.

    `helper_names` maps each helper's key (as `load.build` names them) to its name in the code;
    `forward_name` is the forward pass's own name (direct recursion calls it: not joined); `own`
    names the joined function's own helpers ("seed", "bail", "type", "float") in the code.
    """
    body = shown.body
    if not body or not isinstance(body[-1], ast.Return):
        return None
    ret = body[-1].value
    if not (isinstance(ret, ast.Tuple) and len(ret.elts) == 2 and isinstance(ret.elts[1], ast.Name)
            and ret.elts[1].id == pullback_name and isinstance(ret.elts[0], ast.Name)):
        return None
    y_name = ret.elts[0].id
    pbs = [i for i, st in enumerate(body) if isinstance(st, ast.FunctionDef) and st.name == pullback_name]
    if len(pbs) != 1:
        return None
    pb = body[pbs[0]]
    a = pb.args
    if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults or len(a.args) != 1 or pb.decorator_list:
        return None
    seed_name = a.args[0].arg
    fwd_body = body[: pbs[0]] + body[pbs[0] + 1: -1]
    # the forward pass returns only at its end, and hands its pullback to nothing else
    fwd_nodes = scope_nodes(fwd_body)
    for n in fwd_nodes:
        if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Await)):
            return None
        if isinstance(n, ast.Name) and n.id == pullback_name:
            return None
    # the pullback's own names must not be the forward pass's: joined, they share one scope
    pb_body = pb.body
    pb_nodes = scope_nodes(pb_body)
    for n in pb_nodes:
        if isinstance(n, (ast.Nonlocal, ast.Global, ast.Yield, ast.YieldFrom, ast.Await)):
            return None
        if isinstance(n, ast.Name) and n.id == pullback_name:
            return None
    fwd_names = _stored(fwd_nodes) | {x.arg for x in _all_args(shown.args)}
    pb_names = _stored(pb_nodes)
    if (pb_names | {seed_name}) & fwd_names or seed_name in pb_names:
        return None
    # every helper the joined code reads must be one that needs no context; a rebound inline
    # rule's fallback bails out
    names = {}
    for k, name in helper_names.items():
        names[name] = k
    bail_names = set()
    for n in name_nodes(ast.Module(body=fwd_body + pb_body, type_ignores=[])):
        if n.id == forward_name:
            return None
        if n.id in names:
            k = names[n.id]
            if isinstance(k, tuple):
                if k[0] in ("inl", "ns", "builtin"):
                    continue
                return None
            if k in PURE_HELPERS:
                continue
            if k == "call_num" and isinstance(n.ctx, ast.Load):
                bail_names.add(n.id)
                continue
            return None
    if bail_names and any(isinstance(n, (ast.Try, ast.With, ast.Global, ast.Nonlocal)) or type(n).__name__ == "TryStar"
                          for n in fwd_nodes):
        # the user's `except` (or a context manager) could catch the bail-out; and a name of
        # the module's or of an enclosing function's, set before it, would be set twice
        return None
    memo = {}
    fused = copy_tree(ast.FunctionDef(
        name=forward_name, args=shown.args, body=fwd_body, decorator_list=[], returns=None, type_comment=None,
    ), memo)
    copy_location(fused, shown)
    # the seed is never None: the pullback's `if y_bar is None: return ...` goes
    pb_copy = copy_tree([st for st in pb_body if not _is_none_test(st, seed_name)], memo)
    for n in scope_nodes(pb_copy):
        if isinstance(n, ast.Return):
            value = n.value if n.value is not None else C(None)
            n.value = tup([N(y_name), value])
    # the seed: 1.0 for a float, else what gradient's seed gives (which refuses a non-scalar)
    seed = ast.Assign([S(seed_name)], ast.IfExp(ast.Compare(call(own["type"], N(y_name)), [ast.Is()], [N(own["float"])]), C(1.0), call(own["seed"], N(y_name))))
    copy_location(seed, pb)
    fused.body = fused.body + [seed] + pb_copy
    if bail_names:
        for n in name_nodes(fused):
            if n.id in bail_names:
                n.id = own["bail"]
        fused = _without_rebound_cases(fused, own["bail"], {name for name, k in names.items()
                                                             if isinstance(k, tuple) and k[0] == "inl"})
    fix_missing_locations(fused)
    return fused


def _without_rebound_cases(fused, bail_name, inline_names):
    """Where the joined function bails out if an inline rule's function was rebound, the pullback
    that case would have given is never there: `if f is _sin: y = f(x); pb = None else: y, pb =
    bail(f, x)` becomes `if f is not _sin: bail(); y = f(x)`, and the pullback's `if pb is None: A
    else: B` becomes `A`. Only a `pb` read in no other way is treated (the others stay as they
    are: the tree is changed in place once every read of them is known)."""
    forward, backward = {}, {}  # pb -> statement, pb -> [statements]

    def find(st):
        pb = _forward_case(st, bail_name, inline_names)
        if pb is not None:
            forward[pb] = st
        elif isinstance(st, ast.If) and isinstance(st.test, ast.Compare) and isinstance(st.test.left, ast.Name) \
                and _tests_none(st.test, st.test.left.id):
            backward.setdefault(st.test.left.id, []).append(st)
        return None

    _rewrite_blocks(fused, find)
    if not forward:
        return fused
    reads = {}
    for n in name_nodes(fused):
        if n.id in forward:
            reads[n.id] = reads.get(n.id, 0) + 1
    # each pb appears twice in its forward case, once in each `if pb is None` test, and in the
    # `else` blocks of those (which go): anywhere else, it stays
    dropped = {}
    for pb, sts in backward.items():
        if pb in forward:
            dropped[pb] = sum(1 for st in sts for n in name_nodes(ast.Module(body=st.orelse, type_ignores=[])) if n.id == pb)
    gone = {pb for pb in forward if reads.get(pb, 0) == 2 + len(backward.get(pb, ())) + dropped.get(pb, 0)}
    if not gone:
        return fused
    rewrite = {id(forward[pb]): pb for pb in gone}
    tests = {id(st) for pb in gone for st in backward.get(pb, ())}

    def change(st):
        if id(st) in rewrite:
            test = ast.Compare(st.test.left, [ast.IsNot()], st.test.comparators)
            guard = ast.If(test, [ast.Expr(call(bail_name))], [])
            copy_location(guard, st)
            return [guard] + st.body[:-1]
        if id(st) in tests:
            return st.body
        return None

    _rewrite_blocks(fused, change)
    return fused


def _forward_case(st, bail_name, inline_names):
    """The pullback's name `pb` if statement `st` is `if f is _rule: ...; pb = None else: y, pb =
    bail(...)`, else None."""
    if not (isinstance(st, ast.If) and len(st.orelse) == 1 and st.body and _is_identity(st.test, inline_names)):
        return None
    last, other = st.body[-1], st.orelse[0]
    if not (isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], ast.Name)
            and isinstance(last.value, ast.Constant) and last.value.value is None):
        return None
    pb = last.targets[0].id
    if not (isinstance(other, ast.Assign) and isinstance(other.value, ast.Call)
            and isinstance(other.value.func, ast.Name) and other.value.func.id == bail_name
            and len(other.targets) == 1 and isinstance(other.targets[0], ast.Tuple)
            and len(other.targets[0].elts) == 2 and isinstance(other.targets[0].elts[1], ast.Name)
            and other.targets[0].elts[1].id == pb):
        return None
    return pb


def _is_identity(test, names):
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Name)
            and test.comparators[0].id in names)


def _rewrite_blocks(node, fn):
    """Replace, in every statement list of function `node` (not of functions nested in it), each
    statement for which `fn` gives a list by that list."""
    stack = [node]
    while stack:
        n = stack.pop()
        for field in ("body", "orelse", "finalbody"):
            block = getattr(n, field, None)
            if not isinstance(block, list) or not block or not isinstance(block[0], ast.stmt):
                continue
            out = []
            for st in block:
                new = fn(st)
                out.extend([st] if new is None else new)
            setattr(n, field, out)
            for st in out:
                if not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    stack.append(st)
        for h in getattr(n, "handlers", ()) or ():
            stack.append(h)


def _is_none_test(st, name):
    """`st` is `if name is None: ...` with no `else`."""
    return isinstance(st, ast.If) and not st.orelse and _tests_none(st.test, name)


def _tests_none(t, name):
    """`t` is `name is None`."""
    return (
        isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == name and len(t.ops) == 1
        and isinstance(t.ops[0], ast.Is) and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None
    )


def _all_args(a):
    return a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]
