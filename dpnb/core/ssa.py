"""Stage 2b — versions: every assignment to a local variable gets a name of its own.

`to_ssa(fdef, namer)` rewrites the normalized function so that, outside loops,
each local name is assigned by exactly one statement (static single
assignment). A variable rebound three times becomes `x`, `x_1`, `x_2`; a read
names the version it sees. Where control flow joins, explicit copies make the
join (no phi functions): after an `if`, both branches end by copying their
version into a shared one; a loop copies, at the end of its body, each version
the next iteration reads into the loop's own version of that variable; inside
`try` and `with` blocks (which an exception may leave at any statement) every
assignment is followed by a copy into the block's version, so a handler sees
the value the variable had when the exception was raised.

So a name stands for one value, and one value has one cotangent: the backward
pass can neither mix two values of one variable up nor lose one.

Not versioned: variables captured by a nested function or lambda (Python reads
them late, from a cell: the transform treats the cell as a small mutable
object) and names declared `nonlocal`.

A read of a variable that has no value on some path compiles to a read of a
version that is unassigned there, so Python raises the same UnboundLocalError
it raises for the user's code.
"""
import ast

from .astlib import LOAD, STORE, bfs_nodes, copy_location, copy_renamed, copy_tree, fix_missing_locations, scope_nodes, shallow_copy, walk
from .normalize import Append, DictBuild, ListBuild, Native, SetKey

UNDEF = None


def _arg_names(args):
    out = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        out.append(args.vararg.arg)
    out += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        out.append(args.kwarg.arg)
    return out


# --- scopes --------------------------------------------------------------------------------


def free_vars(fn):
    """The names a nested `def` or `lambda` reads or writes from enclosing scopes (their cells)."""
    bound = set(_arg_names(fn.args))
    nonlocal_names = set()
    global_names = set()
    loads = set()
    inner = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                for d in child.args.defaults + [k for k in child.args.kw_defaults if k is not None]:
                    visit_expr(d)
                if not isinstance(child, ast.Lambda):
                    bound.add(child.name)
                    for d in child.decorator_list:
                        visit_expr(d)
                inner.update(free_vars(child))
                continue
            if isinstance(child, ast.ClassDef):
                bound.add(child.name)
                for b in child.bases + [k.value for k in child.keywords] + child.decorator_list:
                    visit_expr(b)
                visit(child)
                continue
            if isinstance(child, ast.Global):
                global_names.update(child.names)
            elif isinstance(child, ast.Nonlocal):
                nonlocal_names.update(child.names)
            elif isinstance(child, ast.Name):
                (loads if isinstance(child.ctx, ast.Load) else bound).add(child.id)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                bound.add(child.name)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for a in child.names:
                    bound.add((a.asname or a.name).split(".")[0])
            elif isinstance(child, ast.arg):
                bound.add(child.arg)
            visit(child)

    def visit_expr(e):
        wrapper = ast.Expression(e)
        visit(wrapper)

    if isinstance(fn, ast.Lambda):
        visit_expr(fn.body)
    else:
        for s in fn.body:
            visit(ast.Module([s], []))
    del visit, visit_expr  # (functions that call each other are a cycle: gone now, not when the collector runs)
    free = (loads | inner) - (bound - nonlocal_names)
    return (free | nonlocal_names) - global_names


_Name, _Load = ast.Name, ast.Load
#: the marks normalize leaves on nodes, naming a value the adjoint reads (`super()`'s class on
#: an `Attribute`, the container of `a[i] += v` on a `BinOp`), and the types that carry them
_MARKS = ("dpnb_super", "dpnb_container")
_MARKED = frozenset({ast.Attribute, ast.BinOp})


def nested_functions(stmts):
    """The nested defs and lambdas of a normalized body (not looking inside them)."""
    return [n for n in scope_nodes(stmts, _NESTED) if isinstance(n, _NESTED)]


_NESTED = (ast.FunctionDef, ast.Lambda)


def walk_stmts(stmts):
    """Every statement of a normalized body, nested blocks included (not nested functions)."""
    for s in stmts:
        yield s
        for block in child_blocks(s):
            yield from walk_stmts(block)


def child_blocks(s):
    if isinstance(s, ast.If):
        return [s.body, s.orelse]
    if isinstance(s, (ast.For, ast.While, ListBuild, DictBuild, ast.With)):
        return [s.body]
    if isinstance(s, ast.Try):
        return [s.body] + [h.body for h in s.handlers] + [s.orelse, s.finalbody]
    return []


def target_names(t):
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, ast.Starred):
        return target_names(t.value)
    if isinstance(t, (ast.Tuple, ast.List)):
        out = []
        for e in t.elts:
            out += target_names(e)
        return out
    return []


def assigned_names(s):
    """Local names statement `s` itself binds (not its nested blocks)."""
    if isinstance(s, ast.Assign):
        return [n for t in s.targets for n in target_names(t)]
    if isinstance(s, ast.For):
        return target_names(s.target)
    if isinstance(s, (ListBuild, DictBuild)):
        return [s.target.id]
    if isinstance(s, ast.With):
        return [n for item in s.items if item.optional_vars is not None for n in target_names(item.optional_vars)]
    if isinstance(s, ast.Try):
        return [h.name for h in s.handlers if h.name]
    if isinstance(s, ast.Delete):
        return []
    if isinstance(s, Native):
        inner = s.stmt
        if isinstance(inner, ast.Assign):
            return [n for t in inner.targets for n in target_names(t)]
        if isinstance(inner, ast.FunctionDef):
            return [inner.name]
        if isinstance(inner, (ast.Import, ast.ImportFrom)):
            return [(a.asname or a.name).split(".")[0] for a in inner.names]
    return []


# --- renaming ------------------------------------------------------------------------------


class SSA:
    def __init__(self, fdef, namer):
        self.namer = namer
        self.params = _arg_names(fdef.args)
        body = fdef.body
        nonlocals = self.nonlocals = set()
        assigned = set(self.params)
        for s in walk_stmts(body):
            if type(s) is Native and isinstance(s.stmt, ast.Nonlocal):
                nonlocals.update(s.stmt.names)
            assigned.update(assigned_names(s))
        self.locals = assigned - nonlocals
        captured = set()
        # (normalize makes no function: a tree with none inside, as the namer saw it, has none)
        for fn in nested_functions(body) if namer.nested else ():
            captured |= free_vars(fn)
        #: locals that nested functions read late (from a cell): never versioned
        self.cellvars = self.locals & captured
        self.versioned = self.locals - self.cellvars
        self.original = {}  # version -> the user's name
        self.phis = set()  # versions made by the joins (copies that may be dropped)
        self.merges = []  # stack of {name: merged version} for enclosing try/with blocks
        self.multi = set()  # versions assigned by more than one statement, or in a loop
        self.undef_reads = set()  # names read where they have no value
        self.unbound = set()  # versions that may have no value where they are read (joins)
        #: the versions the statements read (every read of a versioned local goes through `load`),
        #: and the join copies made, target -> sources: what `_drop_unread_joins` needs
        self.read = set()
        self.joins = {}
        #: the names whose first version is the user's name, bound where `_plain_names` sees it
        #: (an `import` binds its alias, which is no `Name`: not counted, see `native`)
        self.plain = set()

    def is_cell(self, name):
        return name in self.cellvars or name in self.nonlocals

    # versions
    def new_version(self, name, first_ok=True):
        if first_ok and name not in self.original.values() and name not in self.params:
            v = name
            self.namer.taken.add(v)
            self.plain.add(v)
        else:
            v = self.namer.fresh(name.rstrip("_") + "_" if not name.endswith("_") else name)
        self.original[v] = name
        return v

    def load(self, name, env):
        if name not in self.versioned:
            return name
        v = env.get(name, UNDEF)
        if v is UNDEF:
            # no value on this path: the version named like the user's variable is unassigned here
            self.undef_reads.add(name)
            return name
        self.read.add(v)
        return v

    def rename_expr(self, node, env):
        """A copy of expression `node` with every load of a versioned local renamed (and the
        names normalize's marks hold), made in one pass."""
        return copy_renamed(node, lambda name: self.load(name, env), _MARKS)

    def rename_lambda(self, node, env):
        node = shallow_copy(node)
        node.args = shallow_copy(node.args)
        node.args.defaults = [self.rename_expr(d, env) for d in node.args.defaults]
        node.args.kw_defaults = [None if d is None else self.rename_expr(d, env) for d in node.args.kw_defaults]
        return node

    def rename_value(self, v, env):
        if isinstance(v, ast.Lambda):
            return self.rename_lambda(v, env)
        return self.rename_expr(v, env)

    def define(self, name, env, out):
        """A new version for an assignment to `name`; records the copies the enclosing try blocks need."""
        if name not in self.versioned:
            return name
        v = self.new_version(name)
        env[name] = v
        self.unbound.discard(v)
        return v

    def after_define(self, names, env, out, like):
        """Copies into the merged versions of enclosing try/with blocks (innermost first)."""
        for frame in reversed(self.merges):
            for name in names:
                m = frame.get(name)
                if m is not None and env.get(name, UNDEF) not in (UNDEF, m):
                    out.append(self.copy_stmt(m, env[name], like))

    def copy_stmt(self, target, source, like):
        node = ast.Assign([ast.Name(target, STORE)], ast.Name(source, LOAD))
        if like is not None:
            copy_location(node, like)
        node.dpnb_join = True
        self.joins.setdefault(target, set()).add(source)
        return node

    # blocks
    def block(self, stmts, env):
        out = []
        for s in stmts:
            self.stmt(s, env, out)
        return out

    def stmt(self, s, env, out):
        if isinstance(s, ast.Assign):
            value = self.rename_value(s.value, env)
            target = s.targets[0]
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                target = self.rename_expr(target, env)
                target.ctx = ast.Store()
                node = copy_location(ast.Assign([target], value), s)
                _copy_marks(s, node)
                out.append(node)
                return
            if isinstance(target, (ast.Tuple, ast.List)) and any(
                isinstance(n, ast.Name) and self.is_cell(n.id) for n in walk(target)
            ):
                # unpacking into closure variables: into new names first, then each cell is rebound
                target = copy_tree(target)
                later = []
                for n in walk(target):
                    if isinstance(n, ast.Name) and self.is_cell(n.id):
                        tmp = self.namer.temp()
                        self.versioned.add(tmp)
                        later.append((n.id, tmp))
                        n.id = tmp
                temps = {t for _, t in later}
                names = [n.id for n in walk(target) if isinstance(n, ast.Name) and n.id not in temps]
                for n in walk(target):
                    if isinstance(n, ast.Name):
                        n.id = self.define(n.id, env, out)
                node = copy_location(ast.Assign([target], value), s)
                _copy_marks(s, node)
                out.append(node)
                # the other names, as after any assignment: into the merged versions of enclosing
                # try/with blocks (without this, a name unpacked next to a cell inside a `try` was
                # never copied to the version read after it: NameError)
                self.after_define(names, env, out, s)
                for cell, tmp in later:
                    out.append(copy_location(ast.Assign([ast.Name(cell, STORE)], ast.Name(env[tmp], LOAD)), s))
                return
            if type(target) is _Name:  # the common case: one name
                node = copy_location(ast.Assign([ast.Name(self.define(target.id, env, out), STORE)], value), s)
                _copy_marks(s, node)
                out.append(node)
                self.after_define([target.id], env, out, s)
                return
            target = copy_tree(target)
            names = []
            for n in walk(target):
                if isinstance(n, ast.Name):
                    names.append(n.id)
            # a, a = ...: the last one wins, as in Python
            for n in walk(target):
                if isinstance(n, ast.Name):
                    n.id = self.define(n.id, env, out)
            node = copy_location(ast.Assign([target], value), s)
            _copy_marks(s, node)
            out.append(node)
            self.after_define(names, env, out, s)
        elif isinstance(s, ast.Delete):
            t = s.targets[0]
            if isinstance(t, ast.Name):
                if t.id in self.versioned:
                    env[t.id] = UNDEF
                    return
                out.append(s)
                return
            t = self.rename_expr(t, env)
            t.ctx = ast.Del()
            out.append(copy_location(ast.Delete([t]), s))
        elif isinstance(s, ast.If):
            test = self.rename_expr(s.test, env)
            e1, e2 = dict(env), dict(env)
            b1 = self.block(s.body, e1)
            b2 = self.block(s.orelse, e2)
            self.join(env, [(b1, e1), (b2, e2)], s)
            out.append(copy_location(ast.If(test, b1 or [ast.Pass()], b2), s))
        elif isinstance(s, (ast.For, ast.While)):
            self.loop(s, env, out)
        elif isinstance(s, (ListBuild, DictBuild)):
            cell = s.target.id if self.is_cell(s.target.id) else None
            if cell is not None:
                tmp = self.namer.temp()
                self.versioned.add(tmp)
                s = type(s)(target=ast.Name(tmp, STORE), body=_retarget(s.body, cell, tmp))
            target = self.define(s.target.id, env, out)
            body = self.block(s.body, env)
            node = type(s)(target=ast.Name(target, STORE), body=body)
            out.append(copy_location(node, s))
            self.after_define([s.target.id], env, out, s)
            if cell is not None:
                out.append(copy_location(ast.Assign([ast.Name(cell, STORE)], ast.Name(target, LOAD)), node))
        elif isinstance(s, Append):
            out.append(copy_location(Append(target=self.rename_expr(s.target, env), value=self.rename_expr(s.value, env)), s))
        elif isinstance(s, SetKey):
            node = SetKey(target=self.rename_expr(s.target, env), key=self.rename_expr(s.key, env), value=self.rename_expr(s.value, env))
            out.append(copy_location(node, s))
        elif isinstance(s, ast.Try):
            self.try_(s, env, out)
        elif isinstance(s, ast.With):
            self.with_(s, env, out)
        elif isinstance(s, Native):
            self.native(s, env, out)
        elif isinstance(s, ast.Return):
            out.append(copy_location(ast.Return(self.rename_expr(s.value, env)), s))
        elif isinstance(s, (ast.Break, ast.Pass)):
            out.append(s)
        else:
            raise AssertionError(f"unexpected normalized statement {type(s).__name__}")

    def join(self, env, branches, like):
        """After an if: one version per variable, copied to at the end of each branch."""
        names = set()
        for _, e in branches:
            names.update(k for k, v in e.items() if env.get(k, UNDEF) != v)
        for name in sorted(names):
            vs = [e.get(name, UNDEF) for _, e in branches]
            if all(v == vs[0] for v in vs):
                env[name] = vs[0]
                continue
            phi = self.new_version(name, first_ok=False)
            self.phis.add(phi)
            self.multi.add(phi)
            for (block, _), v in zip(branches, vs):
                if v is not UNDEF:
                    block.append(self.copy_stmt(phi, v, like))
            if any(v is UNDEF or v in self.unbound for v in vs):
                self.unbound.add(phi)
            env[name] = phi

    def loop(self, s, env, out):
        carried = set()
        for inner in walk_stmts(s.body):
            carried.update(n for n in assigned_names(inner) if n in self.versioned)
        if isinstance(s, ast.While) and isinstance(s.test, ast.Name) and s.test.id in self.versioned:
            carried.add(s.test.id)
        headers = {}
        for name in sorted(carried):
            h = self.new_version(name, first_ok=False)
            self.phis.add(h)
            self.multi.add(h)
            headers[name] = h
            before = env.get(name, UNDEF)
            if before is not UNDEF:
                out.append(self.copy_stmt(h, before, s))
            if before is UNDEF or before in self.unbound:
                self.unbound.add(h)
            env[name] = h
        # the copies into loop versions count as assignments for enclosing try blocks
        if isinstance(s, ast.For):
            it = self.rename_expr(s.iter, env)
            target = self.define(s.target.id, env, out)
            self.multi.add(target)
        body_env = env
        body = self.block(s.body, body_env)
        tail = []
        if body and isinstance(body[-1], ast.If) and _is_break_check(body[-1]):
            tail = [body.pop()]
        for name, h in headers.items():
            v = body_env.get(name, UNDEF)
            if v is not UNDEF and v != h:
                body.append(self.copy_stmt(h, v, s))
            body_env[name] = h
        body += tail
        if isinstance(s, ast.For):
            node = ast.For(ast.Name(target, STORE), it, body, [], None)
        else:
            test = ast.Name(self.load(s.test.id, env), LOAD) if isinstance(s.test, ast.Name) else s.test
            node = ast.While(test, body, [])
        out.append(copy_location(node, s))
        self.after_define(sorted(headers), env, out, s)
        self._mark_loop_versions(body)

    def _mark_loop_versions(self, body):
        for inner in walk_stmts(body):
            for n in assigned_names(inner):
                self.multi.add(n)

    def _merge_frame(self, blocks, env, out, like):
        names = set()
        for b in blocks:
            for inner in walk_stmts(b):
                names.update(n for n in assigned_names(inner) if n in self.versioned)
        frame = {}
        for name in sorted(names):
            m = self.new_version(name, first_ok=False)
            self.phis.add(m)
            self.multi.add(m)
            frame[name] = m
            before = env.get(name, UNDEF)
            if before is not UNDEF:
                out.append(self.copy_stmt(m, before, like))
            if before is UNDEF or before in self.unbound:
                self.unbound.add(m)
            env[name] = m
        return frame

    def try_(self, s, env, out):
        frame = self._merge_frame([s.body, s.orelse] + [h.body for h in s.handlers], env, out, s)
        self.merges.append(frame)
        try:
            body = self.block(s.body, env)
            for name, m in frame.items():
                env[name] = m
            handlers = []
            for h in s.handlers:
                htype = self.rename_expr(h.type, env) if h.type is not None else None
                henv = dict(env)
                name = h.name
                if name is not None:
                    name = self.define(h.name, henv, None)
                hbody = self.block(h.body, henv)
                for k, m in frame.items():
                    henv[k] = m
                handlers.append(copy_location(ast.ExceptHandler(htype, name, hbody or [ast.Pass()]), h))
            orelse = self.block(s.orelse, env)
        finally:
            self.merges.pop()
        for name, m in frame.items():
            env[name] = m
        finalbody = self.block(s.finalbody, env)
        node = ast.Try(body or [ast.Pass()], handlers, orelse, finalbody)
        out.append(copy_location(node, s))
        self.after_define(sorted(frame), env, out, s)

    def with_(self, s, env, out):
        items = []
        names = []
        for item in s.items:
            ctx = self.rename_expr(item.context_expr, env)
            var = item.optional_vars
            if var is not None:
                var = ast.Name(self.define(var.id, env, None), STORE)
                names.append(item.optional_vars.id)
            items.append(ast.withitem(ctx, var))
        frame = self._merge_frame([s.body], env, out, s)
        self.merges.append(frame)
        try:
            body = self.block(s.body, env)
        finally:
            self.merges.pop()
        for name, m in frame.items():
            env[name] = m
        out.append(copy_location(ast.With(items, body or [ast.Pass()], None), s))
        self.after_define(sorted(frame) + names, env, out, s)

    def native(self, s, env, out):
        inner = s.stmt
        if isinstance(inner, ast.FunctionDef):
            node = shallow_copy(inner)
            node.args = shallow_copy(inner.args)
            node.args.defaults = [self.rename_expr(d, env) for d in inner.args.defaults]
            node.args.kw_defaults = [None if d is None else self.rename_expr(d, env) for d in inner.args.kw_defaults]
            name = inner.name
            v = self.define(name, env, out)
            extra = []
            if v != name:
                # a second `def` of one name: the function keeps its name, the version is a copy
                node.name = v
                extra = [
                    ast.parse(f"{v}.__name__ = {name!r}").body[0],
                    ast.parse(f"{v}.__qualname__ = {v}.__qualname__[: -len({v!r})] + {name!r}").body[0],
                ]
                for e in extra:
                    copy_location(e, s)
                    fix_missing_locations(e)
            out.append(copy_location(Native(stmt=copy_location(node, inner)), s))
            out.extend(Native(stmt=e) for e in extra)
            self.after_define([name], env, out, s)
        elif isinstance(inner, ast.Assign):
            value = self.rename_expr(inner.value, env)
            target = copy_tree(inner.targets[0])
            names = target_names(target)
            for n in walk(target):
                if isinstance(n, ast.Name):
                    n.id = self.define(n.id, env, out)
            out.append(copy_location(Native(stmt=copy_location(ast.Assign([target], value), inner)), s))
            self.after_define(names, env, out, s)
        elif isinstance(inner, (ast.Import, ast.ImportFrom)):
            out.append(s)
            names = []
            for a in inner.names:
                bound = (a.asname or a.name).split(".")[0]
                if bound not in self.versioned:
                    continue
                v = self.define(bound, env, out)
                self.plain.discard(bound)
                if v != bound:
                    out.append(Native(stmt=copy_location(self.copy_stmt(v, bound, inner), inner)))
                names.append(bound)
            self.after_define(names, env, out, s)
        elif isinstance(inner, ast.Nonlocal):
            out.append(s)
        else:
            node = copy_tree(inner)
            for n in walk(node):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    n.id = self.load(n.id, env)
            out.append(copy_location(Native(stmt=node), s))


def _retarget(stmts, old, new):
    """The body of a comprehension, appending to `new` instead of `old`."""
    stmts = copy_tree(stmts)
    for st in walk_stmts(stmts):
        if isinstance(st, (Append, SetKey)) and isinstance(st.target, ast.Name) and st.target.id == old:
            st.target.id = new
    return stmts


def _copy_marks(src, dst):
    for k, v in vars(src).items():
        if k.startswith("dpnb_"):
            setattr(dst, k, v)


def _is_break_check(s):
    return (
        isinstance(s, ast.If)
        and isinstance(s.test, ast.Name)
        and len(s.body) == 1
        and isinstance(s.body[0], ast.Break)
        and not s.orelse
    )


def _drop_unread_joins(body, phis, read, joins):
    """Remove the join copies whose version no real statement needs (a join copy read only by
    other join copies that nothing needs is dead too). `read` holds the versions the real
    statements read, `joins` the join copies, target -> sources (`SSA.read`, `SSA.joins`).
    Returns the body and the versions whose copies it dropped."""
    if not phis:
        return body, set()  # no join copies: nothing to remove
    live = set()
    work = list(read)
    while work:
        n = work.pop()
        if n in live:
            continue
        live.add(n)
        work.extend(joins.get(n, ()))
    dead = {p for p in phis if p not in live}
    if not dead:
        return body, dead

    return _without_joins(body, dead), dead


def _without_joins(stmts, dead):
    """`stmts` without the join copies of the versions `dead`, in every block (a block left empty
    gets a `pass`)."""
    out = []
    for st in stmts:
        if (
            getattr(st, "dpnb_join", False)
            and isinstance(st, ast.Assign)
            and isinstance(st.targets[0], ast.Name)
            and st.targets[0].id in dead
        ):
            continue
        for f in ("body", "orelse", "finalbody"):
            if hasattr(st, f) and isinstance(getattr(st, f), list):
                setattr(st, f, _without_joins(getattr(st, f), dead))
        if isinstance(st, ast.Try):
            for h in st.handlers:
                h.body = _without_joins(h.body, dead) or [ast.Pass()]
            st.body = st.body or [ast.Pass()]
        if isinstance(st, (ast.If, ast.For, ast.While, ast.With)) and not st.body:
            st.body = [ast.Pass()]
        out.append(st)
    return out


def _plain_names(body, ssa):
    """Give the first surviving version of each variable the user's own name, where it is free."""
    params, undef, plain = ssa.params, ssa.undef_reads, ssa.plain
    if all(o == v or o in plain or o in params or o in undef for v, o in ssa.original.items()):
        return body  # every user's name is bound under its own name, or may not be given
    order = []
    seen = set()
    every = bfs_nodes(ast.Module(body, []))  # (in `walk`'s order)
    for node in every:
        t = type(node)
        if t is _Name:
            if type(node.ctx) is _Load:
                continue
            n = node.id
        elif t is ListBuild or t is DictBuild:
            n = node.target.id
        elif t is ast.FunctionDef:
            n = node.name
        elif t is ast.ExceptHandler and node.name:
            n = node.name
        else:
            continue
        if n not in seen:
            seen.add(n)
            order.append(n)
    mapping = {}
    used = set(seen) | set(ssa.params)
    for v in order:
        orig = ssa.original.get(v)
        if orig is None or v == orig or orig in used or orig in ssa.undef_reads or orig in mapping.values():
            continue
        if v in ssa.params:
            continue
        mapping[v] = orig
        used.add(orig)
    if not mapping:
        return body
    for node in every:
        t = type(node)
        if t is _Name:
            if node.id in mapping:
                node.id = mapping[node.id]
            continue
        if t is ast.FunctionDef and node.name in mapping:
            node.name = mapping[node.name]
        elif t is ast.ExceptHandler and node.name in mapping:
            node.name = mapping[node.name]
        if t in _MARKED:
            for mark in _MARKS:
                extra = getattr(node, mark, None)
                if isinstance(extra, ast.Name) and extra.id in mapping:
                    extra.id = mapping[extra.id]
    for old, new in mapping.items():
        ssa.original[new] = ssa.original.pop(old)
        for group in (ssa.phis, ssa.multi, ssa.unbound):
            if old in group:
                group.discard(old)
                group.add(new)
    return body


def to_ssa(fdef, namer):
    """The function with versioned locals (see the module docstring), and the `SSA` record."""
    ssa = SSA(fdef, namer)
    env = {p: p for p in ssa.params if p in ssa.versioned}
    for p in ssa.params:
        ssa.original[p] = p
    body = ssa.block(fdef.body, env)
    body, dead = _drop_unread_joins(body, set(ssa.phis), ssa.read, ssa.joins)
    # (only join versions may have no value, and those are bound where a copy into them is left)
    ssa.unbound = {p for p in ssa.unbound if p in ssa.joins and p not in dead}
    body = _plain_names(body, ssa)
    new = ast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[], returns=None, type_comment=None)
    copy_location(new, fdef)
    return new, ssa
