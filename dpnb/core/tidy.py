"""Tidying of a generated pullback so that it reads as if written by hand.

The emitter names every intermediate cotangent; most are plain copies (`_t1_bar = _t2_bar`).
`propagate_copies` removes a copy `a = b` when that is sure not to change what runs: `a` is
assigned nowhere else, every read of `a` comes after the copy in the same block, and `b` (a
parameter, or a name assigned once, earlier in that block) is never assigned again."""

import ast
from collections import Counter

from .astlib import _KIDS, STORE, copy_location, name_nodes


def _stores_loads(node):
    stores, loads = [], []
    for n in name_nodes(node):
        (loads if type(n.ctx) is _Load else stores).append(n.id)
    return Counter(stores), Counter(loads)


def _reads(node):
    """{name: how many times `node` reads it} (a plain dict: `_stores_loads` for the reads only)."""
    out = {}
    get = out.get
    for n in name_nodes(node):
        if type(n.ctx) is _Load:
            i = n.id
            out[i] = get(i, 0) + 1
    return out


def _add(total, counts):
    get = total.get
    for k, v in counts.items():
        total[k] = get(k, 0) + v


def _subtract(total, counts):
    get = total.get
    for k, v in counts.items():
        total[k] = get(k, 0) - v


def _is_init(stmt):
    """The line `a = b = ... = None` that starts bar variables that may be unassigned."""
    return (
        isinstance(stmt, ast.Assign)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is None
        and all(isinstance(t, ast.Name) for t in stmt.targets)
    )


def _rename(stmt, old, new):
    """Replace each read of `old` in `stmt` by a new `Name` node reading `new` (with its position),
    in place, as a NodeTransformer would (a node shared with other code is not changed)."""
    todo = [stmt]
    push = todo.append
    for node in todo:  # the list grows as it is read
        d = node.__dict__
        for field in _KIDS[type(node)]:
            v = d.get(field)
            if type(v) is list:
                for i, c in enumerate(v):
                    if type(c) is _Name:
                        if c.id == old and type(c.ctx) is _Load:
                            v[i] = copy_location(_Name(id=new, ctx=_Load()), c)
                    elif isinstance(c, _AST):
                        push(c)
            elif type(v) is _Name:
                if v.id == old and type(v.ctx) is _Load:
                    d[field] = copy_location(_Name(id=new, ctx=_Load()), v)
            elif isinstance(v, _AST):
                push(v)
    return stmt


_AST, _Name, _Load = ast.AST, ast.Name, ast.Load
_Store, _If, _Nonlocal, _Global = ast.Store, ast.If, ast.Nonlocal, ast.Global
#: the nodes `Names` looks for besides names: nested scopes, and names declared not local
_SCOPED = (ast.FunctionDef, ast.Lambda, ast.Nonlocal, ast.Global)


def _has_copy(stmts):
    """Whether a statement of `stmts`, or of a block inside one, is a copy `a = b`."""
    for s in stmts:
        t = type(s)
        if t is ast.Assign:
            if len(s.targets) == 1 and type(s.targets[0]) is _Name and type(s.value) is _Name:
                return True
        elif t is not ast.Expr and t is not ast.Return:
            for field in ("body", "orelse", "finalbody"):
                sub = getattr(s, field, None)
                if type(sub) is list and sub and isinstance(sub[0], ast.stmt) and _has_copy(sub):
                    return True
            for h in getattr(s, "handlers", ()) or ():
                if _has_copy(h.body):
                    return True
    return False


def propagate_copies(fn):
    """Remove plain copies between names in function `fn` (an ast.FunctionDef), in place."""
    if not _has_copy(fn.body):
        return fn
    params = {a.arg for a in fn.args.args}
    init = fn.body[0] if fn.body and _is_init(fn.body[0]) else None
    init_names = {t.id for t in init.targets} if init is not None else set()
    stores, loads = _stores_loads(fn)
    for name in init_names:
        stores[name] -= 1
    removed = set()

    def block(stmts):
        # the reads in each statement, counted once and kept up to date as copies are removed (a
        # statement's count is read only before the loop reaches it, and its inner blocks change
        # it only then); their sum over the statements after the loop's; the statements that
        # read each name; and the names the statements before the loop's assign (`name = ...`)
        reads = {id(s): _reads(s) for s in stmts}
        readers = {}
        after = {}
        for s in stmts:
            r = reads[id(s)]
            _add(after, r)
            for name in r:
                readers.setdefault(name, []).append(s)
        if stmts:
            _subtract(after, reads[id(stmts[0])])
        assigned = set()
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if s is not init:
                for field in ("body", "orelse", "finalbody"):
                    sub = getattr(s, field, None)
                    if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                        block(sub)
                        if not sub and field != "orelse":  # a block of copies no one read
                            sub.append(ast.Pass())
                for h in getattr(s, "handlers", ()) or ():
                    block(h.body)
                    if not h.body:
                        h.body.append(ast.Pass())
                if (
                    isinstance(s, ast.Assign)
                    and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name)
                    and isinstance(s.value, ast.Name)
                ):
                    a, b = s.targets[0].id, s.value.id
                    if a != b and a not in params and stores[a] == 1 and _settled(b, assigned):
                        used = after.get(a, 0)
                        if used == loads[a]:
                            # every read of `a` is in a statement after this one (`used == loads[a]`)
                            for t in readers.pop(a, ()):
                                r = reads.get(id(t))
                                n = r.pop(a, 0) if r is not None else 0
                                if n:  # a statement that reads no `a` stays as it is
                                    _rename(t, a, b)
                                    r[b] = r.get(b, 0) + n
                                    readers.setdefault(b, []).append(t)
                            after[a] = after.get(a, 0) - used
                            after[b] = after.get(b, 0) + used
                            loads[b] += used
                            loads[a] = 0
                            stores[a] = 0
                            del stmts[i]
                            del reads[id(s)]
                            removed.add(a)
                            if i < len(stmts):
                                _subtract(after, reads[id(stmts[i])])
                            continue
            if isinstance(s, ast.Assign):
                assigned.update(t.id for t in s.targets if isinstance(t, ast.Name))
            i += 1
            if i < len(stmts):
                _subtract(after, reads[id(stmts[i])])

    def _settled(b, assigned):
        if b in params:
            return stores[b] == 0
        if stores[b] != 1 or b in init_names:
            return False
        return b in assigned

    block(fn.body)
    del block  # (a function that calls itself is a cycle: gone now, not when the collector runs)
    if init is not None and removed:
        init.targets = [t for t in init.targets if t.id not in removed]
        if not init.targets:
            fn.body.remove(init)
    return fn


class Names:
    """The names function `fn` reads and stores, from one walk of its tree: `loaded` (every name
    loaded anywhere in it), `stored` (every name stored), and what `release_dead` needs: the
    names each statement loads and stores (an `if`: every name it mentions, and none), the names
    nested functions and lambdas mention, and the `nonlocal` and `global` ones."""

    def __init__(self, fn):
        self.loaded, self.stored = set(), set()
        self.inner, self.declared = set(), set()
        self.reads = {}  # id(statement) -> (names it loads, names it stores)
        d = fn.__dict__
        for field in _KIDS[type(fn)]:  # the parameters' defaults and annotations, the decorators
            if field != "body":
                v = d.get(field)
                for c in v if type(v) is list else (v,):
                    if isinstance(c, _AST):
                        self.names_in(c)
        self.scan(fn.body)

    def names_in(self, node):
        loads, stores = set(), set()
        for n in name_nodes(node, _SCOPED):
            t = type(n)
            if t is _Name:
                c = type(n.ctx)
                if c is _Load:
                    loads.add(n.id)
                else:
                    stores.add(n.id)
                    if c is _Store:
                        self.stored.add(n.id)
            elif t is _Nonlocal or t is _Global:
                self.declared.update(n.names)
            else:  # a nested function or lambda
                self.inner.update(m.id for m in name_nodes(n))
        self.loaded |= loads
        return loads, stores

    def scan(self, stmts):
        mentioned = set()
        for s in stmts:
            if type(s) is _If:
                loads, stores = self.names_in(s.test)
                loads |= stores
                loads |= self.scan(s.body)
                loads |= self.scan(s.orelse)
                self.reads[id(s)] = (loads, ())
                mentioned |= loads
            else:
                loads, stores = self.reads[id(s)] = self.names_in(s)
                mentioned |= loads
                mentioned |= stores
        return mentioned


def release_dead(fn, candidates, names=None):
    """Set each name of `candidates` to None right after its last read in pullback `fn` (in place),
    so that a cotangent array is freed once it has been passed on rather than when the pullback
    returns: the backward pass then holds about as many arrays as one written by hand. Only
    straight-line code and `if` blocks are treated; a loop, `try` or `with` counts as one read of
    every name it mentions. Names a nested function reads, or `nonlocal` ones, are left alone.
    `names`: `Names(fn)`, where the caller has it (the tree is walked once)."""
    if names is None:
        names = Names(fn)
    reads = names.reads
    free = set(candidates) - names.inner - names.declared - {a.arg for a in fn.args.args}
    if not free:
        return fn

    fn.body = _release_in(fn.body, set(), reads, free)
    return fn


def _release_in(stmts, live_after, reads, free):
    """`release_dead`'s rewrite of the block `stmts`, after which the names `live_after` are read."""
    out = []
    live = set(live_after)
    for s in reversed(stmts):
        loads, stores = reads[id(s)]
        if type(s) is _If:
            s.body = _release_in(s.body, live, reads, free)
            s.orelse = _release_in(s.orelse, live, reads, free) if s.orelse else s.orelse
            live.update(n for n in loads if n in free)
            out.append(s)
            continue
        dead = sorted(n for n in loads if n in free and n not in stores and n not in live)
        live.update(n for n in stores if n in free)
        live.update(n for n in loads if n in free)
        if dead and type(s) is not ast.Return:
            out.append(ast.Assign([ast.Name(n, STORE) for n in dead], ast.Constant(None)))
        out.append(s)
    out.reverse()
    return out
