"""Stage 2 — normalize: structured control flow, then one operation per line.

`normalize(fdef, namer, is_static, filename)` returns a new `FunctionDef` whose
body only holds these statement forms (every operand an *atom*: a `Name` or a
`Constant`):

    t = atom                         copy
    t = a <op> b  /  t = <op> a      arithmetic (BinOp / UnaryOp); `a op= b` is a BinOp
                                     marked `dpnb_inplace` ("name", "attr" or "item")
    t = a <cmp> b                    one comparison
    t = a.attr                       attribute read (or a static module path: np.linalg.norm)
    t = a[i]                         item read; i an atom, a Slice of atoms or a Tuple of those
    t = f(a, b)                      call with positional atoms; f an atom, a static module
                                     path, or `a.m` (a method call on the atom a)
    t = f(*args, **kwargs)           call with a tuple atom and a dict atom
    t = (a, *b) / [a, b] / {k: v, **m}   literals
    t = lambda ...                   closure creation (defaults are atoms)
    a.attr = b  /  a[i] = b          mutation
    del a.attr / del a[i] / del x    deletion (one target)
    a, *b = t                        unpacking into names
    ListBuild(t, body) / DictBuild(t, body) with Append(t, v) / SetKey(t, k, v) inside:
                                     comprehensions and generator expressions
    if a: ... else: ...
    for t in a: ...                  (`t` a fresh name; `if _brk: break` may end the body)
    while w: ...                     (`w` a flag name: the test is computed inside)
    try / with                       (context managers and handlers as written, atoms inside)
    return a                         once, last
    Native(stmt)                     run as written, never differentiated: a nested `def`
                                     (defaults atoms, decorators applied by calls after it,
                                     annotations that may act evaluated before), raise,
                                     assert, import, nonlocal, f-strings (the values of a
                                     raise, assert or f-string that may act are atoms: what
                                     they do is differentiated), the check of an exception
                                     a handler reads (`__dpnb_caught__(e)`)

Control flow is structured first: `return`, `break` and `continue` set flags and
guard what follows, so every loop iteration runs its body to the end and the
backward pass only needs which branches ran and how many iterations there were.
Comprehension variables are renamed, as they live in their own scope.
"""
import ast
import math
import types

from ..errors import UnsupportedSyntaxError
from .astlib import LOAD, STORE, copy_location, copy_tree, scope_nodes, shallow_copy, walk


class Append(ast.stmt):
    _fields = ("target", "value")


class SetKey(ast.stmt):
    _fields = ("target", "key", "value")


class ListBuild(ast.stmt):
    _fields = ("target", "body")


class DictBuild(ast.stmt):
    _fields = ("target", "body")


class Native(ast.stmt):
    """A statement executed exactly as written; carries no gradient."""

    _fields = ("stmt",)


#: the name standing for `set` in a set comprehension (a list built, then made a set)
SET_BUILDER = "__dpnb_set__"
#: the name standing for `iter` in a generator expression (a list built, then iterated)
ITER_BUILDER = "__dpnb_iter__"
#: the name standing for `bool` in a test (`if a:`, `while a:`, `a and b`, `x if a else y`, a
#: comprehension's `if`): what the test's value is taken as, where the value is not already a bool
#: (its class's `__bool__` or `__len__` may be the user's code, run as such: `runtime.truth`)
TRUTH = "__dpnb_truth__"
#: `any`, `all` and `next` of a generator expression: loops that stop where Python stops (`_short_circuit`)
_SHORT_CIRCUIT = {any: "any", all: "all", next: "next"}
#: the name standing for `runtime.caught`, called on an exception a handler binds and reads
CAUGHT = "__dpnb_caught__"


def _name(id, ctx=None):
    return ast.Name(id, ctx or LOAD)  # (fields by position, contexts shared: see `astlib`)


def _store(id):
    return ast.Name(id, STORE)


def _assign(target, value, like=None):
    node = ast.Assign([target if not isinstance(target, str) else ast.Name(target, STORE)], value)
    if like is not None:
        copy_location(node, like)
    return node


def _const(v):
    return ast.Constant(v)


def _located(node, like):
    if like is not None and hasattr(like, "lineno"):
        copy_location(node, like)
    return node


# --- part 1: structured control flow -------------------------------------------------


def _always_exits(stmts):
    for s in stmts:
        if isinstance(s, (ast.Return, ast.Break, ast.Continue, ast.Raise)):
            return True
        if isinstance(s, ast.If) and _always_exits(s.body) and _always_exits(s.orelse):
            return True
    return False


def _count_returns(stmts):
    return sum(1 for node in scope_nodes(stmts) if isinstance(node, ast.Return))


class _Loop:
    def __init__(self, namer, flags):
        self.namer = namer
        self.flags = flags
        self._brk = None
        self._cont = None

    @property
    def brk(self):
        if self._brk is None:
            self._brk = self.namer.fresh("_brk")
            self.flags.add(self._brk)
        return self._brk

    @property
    def cont(self):
        if self._cont is None:
            self._cont = self.namer.fresh("_cont")
            self.flags.add(self._cont)
        return self._cont


class Structurer:
    def __init__(self, namer, filename):
        self.namer = namer
        self.filename = filename
        self.rv = namer.exact("_rv")
        self.ret = None
        self.loops = []
        self.flags = set()  # the bools it makes: `return`, `break`, `continue` and `while` flags

    def ret_flag(self):
        if self.ret is None:
            self.ret = self.namer.exact("_ret")
            self.flags.add(self.ret)
        return self.ret

    def function(self, body):
        body = list(body)
        # (the namer counted the tree's returns, which are the body's where it has one scope)
        returns = self.namer.returns if self.namer.one_scope else _count_returns(body)
        if returns == 1 and isinstance(body[-1], ast.Return):
            new, _, _ = self.block(body[:-1], tail=False)
            ret = body[-1]
            if ret.value is None:
                ret = copy_location(ast.Return(_const(None)), ret)
            return new + [ret]
        new, exits, always = self.block(body, tail=True)
        prologue = []
        if self.ret is not None:
            prologue.append(_assign(self.ret, _const(False)))
        if not always:
            prologue.append(_assign(self.rv, _const(None)))
        return prologue + new + [ast.Return(_name(self.rv))]

    def block(self, stmts, tail):
        """-> (new statements, exit kinds {'R','B','C'} they may take, always exits?)"""
        out = []
        exits = set()
        stmts = list(stmts)
        for i, s in enumerate(stmts):
            rest = stmts[i + 1 :]
            last = not rest
            if isinstance(s, ast.If):
                a_body, a_else = _always_exits(s.body), _always_exits(s.orelse)
                if rest and (a_body != a_else):
                    # move what follows into the branch that falls through
                    s = shallow_copy(s)
                    if a_body:
                        s.orelse = list(s.orelse) + rest
                    else:
                        s.body = list(s.body) + rest
                    rest, last = [], True
                body, e1, al1 = self.block(s.body, tail and last)
                orelse, e2, al2 = self.block(s.orelse, tail and last)
                node = ast.If(s.test, body or [ast.Pass()], orelse)
                out.append(_located(node, s))
                s_exits, s_always = e1 | e2, al1 and al2
            elif isinstance(s, ast.Return):
                value = s.value if s.value is not None else _const(None)
                out.append(_assign(self.rv, value, s))
                s_exits, s_always = {"R"}, True
                if not (tail and last) or self.loops:
                    out.append(_assign(self.ret_flag(), _const(True), s))
                    for loop in self.loops:
                        out.append(_assign(loop.brk, _const(True), s))
            elif isinstance(s, ast.Break):
                out.append(_assign(self.loops[-1].brk, _const(True), s))
                s_exits, s_always = {"B"}, True
            elif isinstance(s, ast.Continue):
                out.append(_assign(self.loops[-1].cont, _const(True), s))
                s_exits, s_always = {"C"}, True
            elif isinstance(s, ast.Raise):
                out.append(s)
                s_exits, s_always = set(), True
            elif isinstance(s, (ast.Try, ast.With)):
                node, s_exits = self.compound(s)
                out.append(node)
                s_always = False
            elif isinstance(s, (ast.For, ast.While)):
                out.extend(self.loop(s))
                s_exits = {"R"} if self._loop_may_return else set()
                s_always = False
            else:
                self._check_no_exit(s)
                out.append(s)
                s_exits, s_always = set(), False
            exits |= s_exits
            if s_always:
                return out, exits, True
            if s_exits and rest:
                flags = []
                if "R" in s_exits:
                    flags.append(_name(self.ret_flag()))
                if "B" in s_exits:
                    flags.append(_name(self.loops[-1].brk))
                if "C" in s_exits:
                    flags.append(_name(self.loops[-1].cont))
                test = flags[0] if len(flags) == 1 else ast.BoolOp(ast.Or(), flags)
                guarded, e3, _ = self.block(rest, tail)
                out.append(_located(ast.If(ast.UnaryOp(ast.Not(), test), guarded, []), s))
                exits |= e3
                return out, exits, False
            if not rest:  # the last statement, or what followed was moved into a branch
                break
        return out, exits, False

    def compound(self, s):
        """try / with: their blocks are structured like any other; what they may exit through adds up."""
        exits = set()
        node = shallow_copy(s)
        node.body, e, _ = self.block(s.body, tail=False)
        exits |= e
        if isinstance(s, ast.Try):
            handlers = []
            for h in s.handlers:
                h2 = shallow_copy(h)
                h2.body, e, _ = self.block(h.body, tail=False)
                h2.body = h2.body or [ast.Pass()]
                exits |= e
                handlers.append(h2)
            node.handlers = handlers
            node.orelse, e, _ = self.block(s.orelse, tail=False)
            exits |= e
            node.finalbody, e, _ = self.block(s.finalbody, tail=False)
            exits |= e
        node.body = node.body or [ast.Pass()]
        return node, exits

    def _check_no_exit(self, s):
        for node in walk(s):
            if isinstance(node, (ast.Return, ast.Break, ast.Continue)) and not isinstance(
                s, (ast.FunctionDef, ast.Lambda, ast.ClassDef)
            ):
                raise UnsupportedSyntaxError(
                    f"`{type(node).__name__.lower()}` inside `{type(s).__name__.lower()}`",
                    self.filename,
                    node.lineno,
                )

    def loop(self, s):
        loop = _Loop(self.namer, self.flags)
        self.loops.append(loop)
        try:
            body, exits, _ = self.block(s.body, tail=False)
        finally:
            self.loops.pop()
        self._loop_may_return = "R" in exits
        pre = []
        if loop._cont is not None:
            body = [_assign(loop.cont, _const(False))] + body
        if isinstance(s, ast.While):
            w = self.namer.fresh("_while")
            self.flags.add(w)
            pre.append(_assign(w, _const(True), s))
            body = [
                _located(
                    ast.If(s.test, body or [ast.Pass()], [_assign(w, _const(False), s)]), s
                )
            ]
            test = _name(w)
        if loop._brk is not None:
            pre.append(_assign(loop.brk, _const(False), s))
            body.append(ast.If(_name(loop.brk), [ast.Break()], []))
        if isinstance(s, ast.While):
            node = ast.While(test, body, [])
        else:
            node = ast.For(s.target, s.iter, body, [], None)
        out = pre + [_located(node, s)]
        if s.orelse:
            orelse, e, _ = self.block(s.orelse, tail=False)
            if e:
                raise UnsupportedSyntaxError("`return`/`break` in a loop's `else`", self.filename, s.lineno)
            if loop._brk is not None:
                orelse = [ast.If(ast.UnaryOp(ast.Not(), _name(loop.brk)), orelse, [])]
            out.extend(orelse)
        return out


# --- part 2: one operation per line ----------------------------------------------------


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return copy_location(ast.Name(self.mapping[node.id], node.ctx), node)
        return node

    def visit_Lambda(self, node):
        a = node.args
        # the defaults are evaluated where the lambda is made: in the scope around it
        a.defaults = [self.visit(d) for d in a.defaults]
        a.kw_defaults = [None if d is None else self.visit(d) for d in a.kw_defaults]
        params = a.posonlyargs + a.args + a.kwonlyargs + [p for p in (a.vararg, a.kwarg) if p is not None]
        bound = {p.arg for p in params}
        inner = {k: v for k, v in self.mapping.items() if k not in bound}
        saved, self.mapping = self.mapping, inner
        node.body = self.visit(node.body)
        self.mapping = saved
        return node


def rename(node, mapping):
    if not mapping:
        return node
    return _Renamer(mapping).visit(copy_tree(node))


_FOLD = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b if abs(b) <= 64 else None,
}


def _fold(a, op, b):
    """A constant for an operation on two number literals (constant folding), else None."""
    if not (isinstance(a, ast.Constant) and isinstance(b, ast.Constant)):
        return None
    x, y = a.value, b.value
    ok = lambda v: isinstance(v, (int, float, complex)) and not isinstance(v, bool)  # noqa: E731
    if not (ok(x) and ok(y)) or type(op) not in _FOLD:
        return None
    try:
        v = _FOLD[type(op)](x, y)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return ast.Constant(v) if ok(v) else None


class ANF:
    def __init__(self, namer, is_static, filename, first_param=None, deferred_annotations=False, fixed=None, global_value=None):
        self.first_param = first_param  # for super()
        # a callee (a `Name` or a module path) -> the global or builtin it reads here, or None
        self.global_value = global_value or (lambda node: None)
        # the names nothing but this function's own statements (and `:=`) bind: its locals no
        # nested function rebinds (`nonlocal`); None where unknown (every name may change in a call)
        self.fixed = fixed if fixed is not None else frozenset()
        # the module's `from __future__ import annotations`: a nested `def`'s annotations are
        # kept as strings, not evaluated
        self.deferred_annotations = deferred_annotations
        self.namer = namer
        self.is_static = is_static  # Name/Attribute chain -> bool (a global module path)
        self.filename = filename
        self.flags = frozenset()  # the Structurer's bool flags, tested as they are

    def temp(self):
        return self.namer.temp()

    # statements
    def body(self, stmts):
        out = []
        for s in stmts:
            self.stmt(s, out)
        return out

    def stmt(self, s, out):
        m = getattr(self, "s_" + type(s).__name__, None)
        if m is None:
            raise UnsupportedSyntaxError(f"`{type(s).__name__}` statement", self.filename, getattr(s, "lineno", None))
        m(s, out)

    def emit(self, out, node, like):
        if like is not None and hasattr(like, "lineno"):
            copy_location(node, like)
            node.end_lineno = getattr(like, "end_lineno", node.lineno)
            node.end_col_offset = getattr(like, "end_col_offset", 0)
        out.append(node)
        return node

    def s_Expr(self, s, out):
        if isinstance(s.value, ast.Constant):
            return  # docstrings and bare constants
        self.expr(s.value, out)  # evaluated for its effects; the value is dropped

    def s_Pass(self, s, out):
        pass

    def s_Assign(self, s, out):
        if len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            # the operation writes its result straight into the user's variable
            atom = self.expr(s.value, out, target=s.targets[0].id)
            if not (isinstance(atom, ast.Name) and atom.id == s.targets[0].id):
                self.assign(s.targets[0], atom, out, s)
            return
        if type(s.value) is ast.GeneratorExp and all(type(t) in (ast.Tuple, ast.List) for t in s.targets):
            s.value.dpnb_given_to = UNPACKED  # read to its end here, as Python reads it
        atom = self.expr(s.value, out)
        for t in s.targets:
            self.assign(t, atom, out, s)

    def s_AnnAssign(self, s, out):
        if s.value is not None:
            self.s_Assign(copy_location(ast.Assign([s.target], s.value), s), out)

    def s_AugAssign(self, s, out):
        t = s.target
        if isinstance(t, ast.Name):
            cur = self.operand(t, (s.value,), out)  # (read before the value, as Python reads it)
            value = self.expr(s.value, out)
            node = ast.BinOp(cur, s.op, value)
            node.dpnb_inplace = "name"  # arrays and lists change in place, as in Python
            self.bind(node, out, s, target=t.id)
        elif isinstance(t, ast.Attribute):
            obj = self.operand(t.value, (s.value,), out)
            cur = self.bind(ast.Attribute(obj, t.attr, LOAD), out, s)
            value = self.expr(s.value, out)
            node = ast.BinOp(cur, s.op, value)
            node.dpnb_inplace = "attr"
            new = self.bind(node, out, s)
            self.emit(out, _assign(ast.Attribute(obj, t.attr, STORE), new), s)
        elif isinstance(t, ast.Subscript):
            obj = self.operand(t.value, (t.slice, s.value), out)
            idx = self.operand(t.slice, (s.value,), out) if type(t.slice) is ast.Name else self.index(t.slice, out)
            cur = self.bind(ast.Subscript(obj, idx, LOAD), out, s)
            value = self.expr(s.value, out)
            node = ast.BinOp(cur, s.op, value)
            node.dpnb_inplace = "item"
            node.dpnb_container = copy_tree(obj)
            new = self.bind(node, out, s)
            self.emit(out, _assign(ast.Subscript(obj, copy_tree(idx), STORE), new), s)
        else:
            raise UnsupportedSyntaxError("this augmented assignment target", self.filename, s.lineno)

    def assign(self, target, atom, out, like):
        if isinstance(target, ast.Name):
            self.emit(out, _assign(_store(target.id), atom), like)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(not isinstance(e.value if isinstance(e, ast.Starred) else e, ast.Name) for e in target.elts):
                # nested or non-name targets: unpack into temporaries, then assign left to right,
                # as Python does ((p, _), p = ... leaves p bound to the second value)
                temps = []
                elts = []
                for e in target.elts:
                    tmp = self.temp()
                    temps.append((e.value if isinstance(e, ast.Starred) else e, tmp))
                    elts.append(ast.Starred(_store(tmp), STORE) if isinstance(e, ast.Starred) else _store(tmp))
                if not isinstance(atom, ast.Name):
                    atom = self.bind(atom, out, like)
                self.emit(out, _assign(ast.Tuple(elts, STORE), atom), like)
                for e, tmp in temps:
                    self.assign(e, _name(tmp), out, like)
                return
            elts = []
            later = []
            for e in target.elts:
                if isinstance(e, ast.Starred):
                    inner = e.value
                    if isinstance(inner, ast.Name):
                        elts.append(ast.Starred(_store(inner.id), STORE))
                    else:
                        tmp = self.temp()
                        elts.append(ast.Starred(_store(tmp), STORE))
                        later.append((inner, tmp))
                elif isinstance(e, ast.Name):
                    elts.append(_store(e.id))
                else:
                    tmp = self.temp()
                    elts.append(_store(tmp))
                    later.append((e, tmp))
            if not isinstance(atom, ast.Name):
                atom = self.bind(atom, out, like)
            self.emit(out, _assign(ast.Tuple(elts, STORE), atom), like)
            for e, tmp in later:
                self.assign(e, _name(tmp), out, like)
        elif isinstance(target, ast.Attribute):
            obj = self.expr(target.value, out)
            self.emit(out, _assign(ast.Attribute(obj, target.attr, STORE), atom), like)
        elif isinstance(target, ast.Subscript):
            obj = self.expr(target.value, out)
            idx = self.index(target.slice, out)
            self.emit(out, _assign(ast.Subscript(obj, idx, STORE), atom), like)
        elif isinstance(target, ast.Starred):
            raise UnsupportedSyntaxError("a starred assignment target outside a tuple", self.filename, like.lineno)
        else:
            raise UnsupportedSyntaxError(f"assignment to {type(target).__name__}", self.filename, like.lineno)

    def s_Delete(self, s, out):
        for t in s.targets:
            if isinstance(t, ast.Name):
                node = ast.Delete([_name(t.id, ast.Del())])
            elif isinstance(t, ast.Attribute):
                node = ast.Delete([ast.Attribute(self.expr(t.value, out), t.attr, ast.Del())])
            elif isinstance(t, ast.Subscript):
                obj = self.expr(t.value, out)
                node = ast.Delete([ast.Subscript(obj, self.index(t.slice, out), ast.Del())])
            elif isinstance(t, (ast.Tuple, ast.List)):
                self.s_Delete(copy_location(ast.Delete(list(t.elts)), s), out)
                continue
            else:
                raise UnsupportedSyntaxError("this `del` target", self.filename, s.lineno)
            self.emit(out, node, s)

    def test(self, e, out):
        """The atom an `if` built for test `e` tests: a bool, as Python takes it. A comparison, a
        `not` or a constant is one already; `a and b` (`or`) takes each operand's truth once,
        as Python does in a test; any other value is taken as `__dpnb_truth__(a)`."""
        if isinstance(e, ast.BoolOp):
            result = self.temp()
            block = out
            for i, v in enumerate(e.values):
                self.emit(block, _assign(_store(result), self.test(v, block)), e)
                if i < len(e.values) - 1:
                    nxt = []
                    test = _name(result) if isinstance(e.op, ast.And) else self.bind(ast.UnaryOp(ast.Not(), _name(result)), block, e)
                    self.emit(block, ast.If(test, nxt, []), e)
                    block = nxt
            return _name(result)
        return self.truth_of(self.expr(e, out), e, out)

    def truth_of(self, a, e, out):
        """Atom `a`, the value of expression `e`, as a test takes it (see `test`)."""
        if isinstance(a, ast.Constant) or isinstance(e, ast.Compare) or (isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not)):
            return a
        if type(e) is ast.Name and e.id in self.flags:
            return a
        return self.bind(ast.Call(_name(TRUTH), [a], []), out, e)

    def s_If(self, s, out):
        test = self.test(s.test, out)
        node = ast.If(test, self.body(s.body) or [], self.body(s.orelse))
        self.emit(out, node, s)

    def s_For(self, s, out):
        if type(s.iter) is ast.GeneratorExp:
            s.iter.dpnb_given_to = FOR_LOOP if not _may_change(s.body, s.iter) else CHANGING_LOOP
        it = self.expr(s.iter, out)
        e = self.namer.fresh("_item")
        body = []
        self.assign(s.target, _name(e), body, s)
        body += self.body(s.body)
        node = ast.For(_store(e), it, body, [], None)
        self.emit(out, node, s)

    def s_While(self, s, out):
        node = ast.While(s.test, self.body(s.body), [])
        self.emit(out, node, s)

    def s_Try(self, s, out):
        handlers = []
        for h in s.handlers:
            htype = self.expr(h.type, out) if h.type is not None else None
            hbody = self.body(h.body) or [ast.Pass()]
            if h.name is not None and _reads_beyond_message(h.body, h.name):
                # the exception the handler reads may carry numbers the gradient cannot follow
                check = ast.Expr(ast.Call(_name(CAUGHT), [_name(h.name)], []))
                hbody.insert(0, _located(Native(stmt=_located(check, h)), h))
            handlers.append(copy_location(ast.ExceptHandler(htype, h.name, hbody), h))
        body = self.body(s.body)
        orelse = self.body(s.orelse)
        finalbody = self.body(s.finalbody)
        if not handlers and not finalbody:  # `try: ... finally: pass`: just the body
            out.extend(body)
            return
        node = ast.Try(body or [ast.Pass()], handlers, orelse, finalbody)
        self.emit(out, node, s)

    def s_With(self, s, out):
        items = []
        later = []
        for item in s.items:
            ctx = self.expr(item.context_expr, out)
            target = item.optional_vars
            if target is not None and not isinstance(target, ast.Name):
                tmp = self.temp()
                later.append((target, tmp))
                target = _store(tmp)
            items.append(ast.withitem(ctx, target))
        body = []
        for target, tmp in later:
            self.assign(target, _name(tmp), body, s)
        body += self.body(s.body)
        self.emit(out, ast.With(items, body or [ast.Pass()], None), s)

    def s_Break(self, s, out):
        out.append(ast.Break())

    def s_Return(self, s, out):
        atom = self.expr(s.value, out) if s.value is not None else _const(None)
        self.emit(out, ast.Return(atom), s)

    def _native(self, s, out):
        self.emit(out, Native(stmt=s), s)

    s_Import = s_ImportFrom = s_Nonlocal = _native

    # A statement run as written is not differentiated: what its expressions do to the values
    # the gradient follows (`raise E(acc.append(x))` in a `try`) would be lost. Those that may do
    # anything (a call, a `:=`) are evaluated as any other expression first, in Python's order.

    def s_Raise(self, s, out):
        if not _may_act(s.exc) and not _may_act(s.cause):
            return self._native(s, out)
        exc = self._raised(s.exc, out)
        cause = self._raised(s.cause, out)
        self.emit(out, Native(stmt=_located(ast.Raise(exc, cause), s)), s)

    def _raised(self, e, out):
        """What a `raise` raises (or its cause), its values evaluated first. The exception itself
        (`E(...)`) is made as written: a user's exception raised with numbers (`MyError(x)`)
        raises as it would (made the way the gradient follows, it would find no rule)."""
        if not _may_act(e):
            return e
        if type(e) is ast.Call and not _may_act(e.func):
            kw_values = [k.value for k in e.keywords]
            args = self._seq(e.args, out, kw_values)
            keywords = [_located(ast.keyword(k.arg, self.operand(k.value, kw_values[i + 1 :], out)), k) for i, k in enumerate(e.keywords)]
            return _located(ast.Call(e.func, args, keywords), e)
        return self.expr(e, out)

    def s_Assert(self, s, out):
        if not __debug__:
            return  # (`python -O`: Python compiled no `assert`, nor its test)
        t = s.test
        boolean = type(t) in (ast.Compare, ast.Constant) or (type(t) is ast.UnaryOp and type(t.op) is ast.Not and type(t.operand) is ast.Compare)
        if boolean and not _may_act(t) and not _may_act(s.msg):
            return self._native(s, out)
        # (a value that is not a bool is taken as a test takes it: its class's `__bool__` may act)
        test = self.test(t, out)
        if not _may_act(s.msg):
            return self.emit(out, Native(stmt=_located(ast.Assert(test, s.msg), s)), s)
        # the message is evaluated only when the test fails
        failed = []
        msg = self.expr(s.msg, failed)
        failed.append(_located(Native(stmt=_located(ast.Assert(_const(False), msg), s)), s))
        self.emit(out, ast.If(self.bind(ast.UnaryOp(ast.Not(), test), out, s), failed, []), s)

    def _atomize_defaults(self, args, out, like):
        """Default values become atoms evaluated here, as Python evaluates them at definition time;
        the annotations go (on copies of the parameters: the source's tree is not changed), but
        for a `:=` in one, which Python runs then too (and which no module can defer)."""
        args = shallow_copy(args)
        args.defaults = [self.expr(d, out) for d in args.defaults]
        args.kw_defaults = [None if d is None else self.expr(d, out) for d in args.kw_defaults]

        def bare(a):
            if a is None:
                return None
            self._annotation_effects(a.annotation, out)
            a = shallow_copy(a)
            a.annotation = None
            return a

        args.posonlyargs = [bare(a) for a in args.posonlyargs]
        args.args = [bare(a) for a in args.args]
        args.vararg = bare(args.vararg)
        args.kwonlyargs = [bare(a) for a in args.kwonlyargs]
        args.kwarg = bare(args.kwarg)
        return args

    def _annotation_effects(self, annotation, out):
        """A nested `def`'s annotation is evaluated where Python evaluates it (unless the module
        defers annotations), for what it may do: bind a name (`t: (z := 2.0)`) or call something
        (`t: acc.append(x)`); the value is not kept. (One of names, attributes, subscripts and
        constants only, `t: np.ndarray`, `-> Optional[float]`, does nothing the code reads and is
        left out.)"""
        if not self.deferred_annotations and _may_act(annotation):
            self.expr(annotation, out)

    def s_FunctionDef(self, s, out):
        decorators = [self.expr(d, out) for d in s.decorator_list]
        node = shallow_copy(s)
        node.args = self._atomize_defaults(s.args, out, s)
        self._annotation_effects(s.returns, out)
        node.decorator_list = []
        node.returns = None
        self.emit(out, Native(stmt=node), s)  # closure creation
        for d in reversed(decorators):
            self.bind(ast.Call(d, [_name(s.name)], []), out, s, target=s.name)

    # expressions -> atoms
    def bind(self, value, out, like, target=None):
        t = target or self.temp()
        self.emit(out, _assign(_store(t), value), like)
        return _name(t)

    def expr(self, e, out, target=None):
        if isinstance(e, (ast.Name, ast.Constant)):
            return _name(e.id) if isinstance(e, ast.Name) else e
        m = getattr(self, "e_" + type(e).__name__, None)
        if m is None:
            raise UnsupportedSyntaxError(f"`{type(e).__name__}` expression", self.filename, getattr(e, "lineno", None))
        return m(e, out, target)

    def operand(self, e, later, out, calls=True):
        """`expr(e)` for an operand Python reads before it evaluates the expressions `later` (those
        after it in the same operation). A name is an atom read where the operation is written,
        after them: where they may bind it again (a `:=` of it; with `calls`, a call, for a name
        other code may rebind: a global, a local a nested function rebinds) it is read into a
        new name first, as Python reads it (`x + (x := 2 * x)` adds the old `x`)."""
        a = self.expr(e, out)
        if type(a) is ast.Name and type(e) in _READ_LATE and _may_rebind(a.id, later, calls and a.id not in self.fixed):
            return self.bind(_name(a.id), out, e)
        return a

    def e_BinOp(self, e, out, target=None):
        a = self.operand(e.left, (e.right,), out)
        b = self.expr(e.right, out)
        folded = _fold(a, e.op, b)
        if folded is not None:
            return folded
        return self.bind(ast.BinOp(a, e.op, b), out, e, target)

    def e_UnaryOp(self, e, out, target=None):
        a = self.expr(e.operand, out)
        if isinstance(a, ast.Constant) and isinstance(e.op, ast.USub):
            if isinstance(a.value, (int, float, complex)) and not isinstance(a.value, bool):
                return _const(-a.value)
        return self.bind(ast.UnaryOp(e.op, a), out, e, target)

    def e_Compare(self, e, out, target=None):
        left = self.operand(e.left, e.comparators, out)
        if len(e.ops) == 1:
            right = self.expr(e.comparators[0], out)
            return self.bind(ast.Compare(left, e.ops, [right]), out, e, target)
        # a < b < c  ->  (a < b) and (b < c), each operand evaluated once
        result = self.temp()
        cur = left
        block = out
        for i, (op, comp) in enumerate(zip(e.ops, e.comparators)):
            right = self.operand(comp, e.comparators[i + 1 :], block)
            t = self.bind(ast.Compare(cur, [op], [right]), block, e)
            self.emit(block, _assign(_store(result), t), e)
            if i < len(e.ops) - 1:
                nxt = []
                self.emit(block, ast.If(_name(result), nxt, []), e)
                block = nxt
            cur = right
        return _name(result)

    def e_BoolOp(self, e, out, target=None):
        result = self.temp()
        block = out
        for i, v in enumerate(e.values):
            a = self.expr(v, block)
            self.emit(block, _assign(_store(result), a), e)
            if i < len(e.values) - 1:
                nxt = []
                if isinstance(e.op, ast.And):
                    test = self.truth_of(a, v, block)
                else:
                    test = self.bind(ast.UnaryOp(ast.Not(), _name(result)), block, e)
                self.emit(block, ast.If(test, nxt, []), e)
                block = nxt
        return _name(result)

    def e_IfExp(self, e, out, target=None):
        test = self.test(e.test, out)
        result = self.temp()
        body, orelse = [], []
        self.emit(body, _assign(_store(result), self.expr(e.body, body)), e)
        self.emit(orelse, _assign(_store(result), self.expr(e.orelse, orelse)), e)
        self.emit(out, ast.If(test, body, orelse), e)
        return _name(result)

    def e_NamedExpr(self, e, out, target=None):
        a = self.expr(e.value, out, target=e.target.id)
        if not (isinstance(a, ast.Name) and a.id == e.target.id):
            self.emit(out, _assign(_store(e.target.id), a), e)
        return _name(e.target.id)

    def e_Attribute(self, e, out, target=None):
        if self.is_static(e):
            return self.bind(e, out, e, target)
        obj = self.expr(e.value, out)
        return self.bind(ast.Attribute(obj, e.attr, LOAD), out, e, target)

    def index(self, s, out):
        if isinstance(s, ast.Slice):
            return ast.Slice(
                self.operand(s.lower, (s.upper, s.step), out) if s.lower is not None else None,
                self.operand(s.upper, (s.step,), out) if s.upper is not None else None,
                self.expr(s.step, out) if s.step is not None else None,
            )
        if isinstance(s, ast.Tuple) and any(isinstance(x, (ast.Slice, ast.Starred)) for x in s.elts):
            if any(isinstance(x, ast.Starred) for x in s.elts):
                return self.expr(s, out)
            return ast.Tuple([self.index(x, out) for x in s.elts], LOAD)
        return self.expr(s, out)

    def e_Subscript(self, e, out, target=None):
        obj = self.operand(e.value, (e.slice,), out)
        idx = self.index(e.slice, out)
        return self.bind(ast.Subscript(obj, idx, LOAD), out, e, target)

    def _seq(self, elts, out, after=()):
        """The atoms of `elts`, in order (`after`: what the operation evaluates after them)."""
        res = []
        for i, x in enumerate(elts):
            later = (*elts[i + 1 :], *after)
            if isinstance(x, ast.Starred):
                res.append(ast.Starred(self.operand(x.value, later, out), LOAD))
            else:
                res.append(self.operand(x, later, out))
        return res

    def e_Tuple(self, e, out, target=None):
        return self.bind(ast.Tuple(self._seq(e.elts, out), LOAD), out, e, target)

    def e_List(self, e, out, target=None):
        return self.bind(ast.List(self._seq(e.elts, out), LOAD), out, e, target)

    def e_Set(self, e, out, target=None):
        lst = self.bind(ast.List(self._seq(e.elts, out), LOAD), out, e)
        return self.bind(ast.Call(_name(SET_BUILDER), [lst], []), out, e, target)

    def e_Dict(self, e, out, target=None):
        keys, values = [], []
        order = [x for k, v in zip(e.keys, e.values) for x in (k, v)]  # (Python's: a key, its value)
        for i, (k, v) in enumerate(zip(e.keys, e.values)):
            keys.append(None if k is None else self.operand(k, order[2 * i + 1 :], out))
            values.append(self.operand(v, order[2 * i + 2 :], out))
        return self.bind(ast.Dict(keys, values), out, e, target)

    def e_Call(self, e, out, target=None):
        f = e.func
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Call)
            and isinstance(f.value.func, ast.Name)
            and f.value.func.id == "super"
            and self.first_param
        ):
            # super().m(...) is a method call on self, looked up from the next class in the MRO
            sup = f.value
            cls = self.expr(sup.args[0], out) if len(sup.args) == 2 else _name("__class__")
            obj = self.expr(sup.args[1], out) if len(sup.args) == 2 else _name(self.first_param)
            func = ast.Attribute(obj, f.attr, LOAD)
            func.dpnb_super = cls
            return self._call(e, func, out, target)
        if type(f) is ast.Name and f.id == "super" and not e.args and not e.keywords and self.first_param:
            # `super()` not called at once (`super().prop`, `s = super()`): the adjoint has no
            # `__class__` cell of its own to find, so it is given the class and the object
            e = ast.Call(f, [_name("__class__"), _name(self.first_param)], [])
        if type(f) is ast.Name and not e.keywords and e.args and type(e.args[0]) is ast.GeneratorExp:
            kind = _SHORT_CIRCUIT.get(_value_key(self.global_value(f)))
            if kind is not None and (len(e.args) == 1 or (kind == "next" and len(e.args) == 2 and type(e.args[1]) is not ast.Starred)):
                return self._short_circuit(e, kind, out, target)
        later = (*e.args, *(k.value for k in e.keywords))
        # (the function and a method's object: read again only for a `:=` of them in the
        # arguments, the function looked up by name as written otherwise)
        if self.is_static(f):
            func = f
        elif isinstance(f, ast.Attribute):
            func = ast.Attribute(self.operand(f.value, later, out, calls=False), f.attr, LOAD)
        else:
            func = self.operand(f, later, out, calls=False)
        return self._call(e, func, out, target)

    def _call(self, e, func, out, target):
        for a in (*e.args, *(k.value for k in e.keywords)):
            if type(a) is ast.Starred and type(a.value) is ast.GeneratorExp:
                a.value.dpnb_given_to = UNPACKED  # (`f(*(...))`: read to its end before the call)
            elif type(a) is ast.GeneratorExp:
                a.dpnb_given_to = e.func
        simple = not e.keywords and not any(isinstance(a, ast.Starred) for a in e.args)
        if simple:
            args = self._seq(e.args, out)
            return self.bind(ast.Call(func, args, []), out, e, target)
        kw_values = [kw.value for kw in e.keywords]
        args = self._seq(e.args, out, kw_values)
        targs = self.bind(ast.Tuple(args, LOAD), out, e)
        keys, values = [], []
        for i, kw in enumerate(e.keywords):
            keys.append(None if kw.arg is None else _const(kw.arg))
            values.append(self.operand(kw.value, kw_values[i + 1 :], out))
        kwargs = self.bind(ast.Dict(keys, values), out, e)
        call = ast.Call(func, [ast.Starred(targs, LOAD)], [ast.keyword(None, kwargs)])
        if any(kw.arg == "out" for kw in e.keywords):
            call.dpnb_out = True  # writes into an argument: followed as a change in place
        if not any(isinstance(a, ast.Starred) for a in e.args):
            call.dpnb_npos = len(e.args)  # (a ufunc's outputs may be given by position: `analyze`)
        return self.bind(call, out, e, target)

    def e_Lambda(self, e, out, target=None):
        node = shallow_copy(e)
        node.args = self._atomize_defaults(e.args, out, e)
        return self.bind(node, out, e, target)

    def e_JoinedStr(self, e, out, target=None):
        if _may_act(e):
            e = self._formatted_atoms(e, out)
        t = target or self.temp()
        self.emit(out, Native(stmt=_located(_assign(_store(t), e), e)), e)
        return _name(t)

    def _formatted_atoms(self, e, out):
        """f-string `e` with the values it formats (and those of their format specs) evaluated
        first, in order: only the formatting is run as written."""
        values = []
        for i, v in enumerate(e.values):
            if isinstance(v, ast.FormattedValue):
                later = [w for w in e.values[i + 1 :] if isinstance(w, ast.FormattedValue)]
                value = self.operand(v.value, (v.format_spec, *later), out)
                spec = None if v.format_spec is None else self._formatted_atoms(v.format_spec, out)
                v = _located(ast.FormattedValue(value, v.conversion, spec), v)
            values.append(v)
        return _located(ast.JoinedStr(values), e)

    def e_Starred(self, e, out, target=None):
        raise UnsupportedSyntaxError("a starred expression here", self.filename, e.lineno)

    # comprehensions
    def _comprehension(self, e, out, build, leaf, target=None):
        if target is not None and any(isinstance(n, ast.Name) and n.id == target for n in walk(e)):
            # `xs = [v * v for v in xs]`: built apart, then bound (built into `xs` itself, the
            # loop would read the new, empty list)
            return self.bind(self._comprehension(e, out, build, leaf), out, e, target)
        result = target or self.temp()
        body = []  # the body of the ListBuild / DictBuild
        block = body  # where the next statements go
        mapping = {}
        # the first iterable is evaluated in the enclosing scope, the others inside
        first = self._async_refused(e).expr(e.generators[0].iter, out)
        block, _ = self._generator_loops(e, mapping, block, first)
        leaf(block, mapping, result)
        self.emit(out, build(target=_store(result), body=body), e)
        return _name(result)

    def e_ListComp(self, e, out, target=None):
        def leaf(block, mapping, result):
            v = self.expr(rename(e.elt, mapping), block)
            self.emit(block, Append(target=_name(result), value=v), e)

        return self._comprehension(e, out, ListBuild, leaf, target)

    def _async_refused(self, e):
        """`self`, once no generator of comprehension `e` is an `async for` (refused)."""
        for gen in e.generators:
            if gen.is_async:
                raise UnsupportedSyntaxError("`async for` in a comprehension", self.filename, e.lineno)
        return self

    def _generator_loops(self, e, mapping, block, first, at=None):
        """The nested `for` loops (and `if`s) of comprehension `e`'s generators, written into
        `block`, the first over the atom `first` (evaluated where the comprehension is made), the
        others over their iterables evaluated inside; the targets' names renamed into `mapping`.
        Returns the innermost block and each loop's body."""
        at = e if at is None else at
        bodies = []
        self._async_refused(e)
        for i, gen in enumerate(e.generators):
            it_atom = self.expr(rename(gen.iter, mapping), block) if i else first
            for n in sorted({n.id for n in walk(gen.target) if isinstance(n, ast.Name)}):
                mapping[n] = self.namer.fresh(f"_{n}_")
            item = self.namer.fresh("_item")
            body = []
            self.assign(rename(gen.target, mapping), _name(item), body, at)
            inner = body
            for cond in gen.ifs:
                c = self.test(rename(cond, mapping), inner)
                nxt = []
                self.emit(inner, ast.If(c, nxt, []), at)
                inner = nxt
            self.emit(block, ast.For(_store(item), it_atom, body, [], None), at)
            bodies.append(body)
            block = inner
        return block, bodies

    def _short_circuit(self, e, kind, out, target):
        """`any(...)`, `all(...)`, `next(...)` or `next(..., default)` of a generator expression:
        a loop over its items that stops at the first that decides, as Python's does (the items
        after it are never computed)."""
        g = e.args[0]
        result = target or self.temp()
        if any(isinstance(n, ast.Name) and n.id == result for n in walk(e)):
            return self.bind(self._short_circuit(e, kind, out, None), out, e, target)
        found = self.namer.fresh("_found")
        first = self.expr(g.generators[0].iter, out)  # (evaluated where the generator is made)
        default = self.expr(e.args[1], out) if len(e.args) == 2 else None
        self.emit(out, _assign(_store(found), _const(False)), e)
        if kind != "next":
            self.emit(out, _assign(_store(result), _const(kind == "all")), e)
        mapping = {}
        block, bodies = self._generator_loops(g, mapping, out, first, e)
        if kind == "next":
            self.emit(block, _assign(_store(result), self.expr(rename(g.elt, mapping), block)), e)
            self.emit(block, _assign(_store(found), _const(True)), e)
        else:
            t = self.test(rename(g.elt, mapping), block)
            if kind == "all":
                t = self.bind(ast.UnaryOp(ast.Not(), t), block, e)
            hit = [_assign(_store(result), _const(kind == "any"), e), _assign(_store(found), _const(True), e)]
            self.emit(block, ast.If(t, hit, []), e)
        for body in bodies:
            body.append(_located(ast.If(_name(found), [ast.Break()], []), e))
        if kind == "next":
            if default is not None:
                self.emit(out, ast.If(self.bind(ast.UnaryOp(ast.Not(), _name(found)), out, e), [_assign(_store(result), default, e)], []), e)
            else:
                stop = _located(ast.Raise(_name("StopIteration"), None), e)
                self.emit(out, ast.If(self.bind(ast.UnaryOp(ast.Not(), _name(found)), out, e), [_located(Native(stmt=stop), e)], []), e)
        return _name(result)

    def _items_act(self, e):
        """Whether computing an item of generator expression `e` may do anything but give a value:
        a `:=`, or a call of anything but a library's function named by its module path or a
        builtin (a function of the user's, a method)."""
        for part in _item_parts(e):
            for n in walk(part):
                if type(n) is ast.NamedExpr:
                    return True
                if type(n) is ast.Call:
                    f = n.func
                    if not (self.is_static(f) or (type(f) is ast.Name and _quiet(self.global_value(f)))):
                        return True
        return False

    def e_GeneratorExp(self, e, out, target=None):
        # built eagerly, handed out as an iterator (next() works on it, as on a generator): what
        # Python computes when the items are read, dpnb computes here. That is the same where
        # the items are all read at once, before anything changes what they read
        given = getattr(e, "dpnb_given_to", None)
        if given is None:
            raise UnsupportedSyntaxError(
                "a generator expression kept to be read later (in a variable, returned, or inside another value)",
                self.filename, e.lineno,
                "dpnb computes its items where it is made, not where they are read; pass it straight "
                "to the call that reads it (`sum(v * v for v in xs)`), or make it a list",
            )
        if given is CHANGING_LOOP:
            raise UnsupportedSyntaxError(
                "a generator expression read by a `for` loop that may change what its items read",
                self.filename, e.lineno,
                "dpnb computes all its items before the loop, where Python computes each as the loop "
                "reads it; make it a list first, or loop over the values it reads",
            )
        if given is not UNPACKED and not _reads_all(given, self.global_value) and self._items_act(e):
            what = given if isinstance(given, str) else f"`{ast.unparse(given)}(...)`"
            raise UnsupportedSyntaxError(
                f"a generator expression whose items call functions of yours or methods, given to {what}",
                self.filename, e.lineno,
                "dpnb computes all its items first, where Python computes each when it is read (a "
                "loop may stop early, or change what the next item reads); make it a list, or write the loop",
            )
        if given is UNPACKED or given is FOR_LOOP or _reads_all(given, self.global_value, methods=False):
            return self.e_ListComp(e, out, target)  # (read to its end: the list itself)
        lst = self.e_ListComp(e, out)
        return self.bind(ast.Call(_name(ITER_BUILDER), [lst], []), out, e, target)

    def e_SetComp(self, e, out, target=None):
        lst = self.e_ListComp(e, out)
        return self.bind(ast.Call(_name(SET_BUILDER), [lst], []), out, e, target)

    def e_DictComp(self, e, out, target=None):
        def leaf(block, mapping, result):
            k = self.expr(rename(e.key, mapping), block)
            v = self.expr(rename(e.value, mapping), block)
            self.emit(block, SetKey(target=_name(result), key=k, value=v), e)

        return self._comprehension(e, out, DictBuild, leaf, target)


def normalize(fdef, namer, is_static, filename, deferred_annotations=False, fixed=None, global_value=None):
    """Structure control flow, then flatten to one operation per line (see module doc).
    `deferred_annotations`: the function's module has `from __future__ import annotations`;
    `fixed`: the names only the function's own statements bind (`ANF.fixed`)."""
    structurer = Structurer(namer, filename)
    structured = structurer.function(fdef.body)
    positional = fdef.args.posonlyargs + fdef.args.args
    anf = ANF(namer, is_static, filename, positional[0].arg if positional else None, deferred_annotations, fixed, global_value)
    anf.flags = structurer.flags
    body = anf.body(structured)
    new = ast.FunctionDef(fdef.name, fdef.args, body, [], None, None)
    return copy_location(new, fdef)


#: the operands whose atom is the name itself, read where the operation is written
_READ_LATE = (ast.Name, ast.NamedExpr)


def _may_rebind(name, later, calls):
    """Whether evaluating the expressions `later` (None for one that is not there) may bind `name`
    again: a `:=` of it, or (with `calls`) any call."""
    for e in later:
        if e is None or type(e) is ast.Name or type(e) is ast.Constant:
            continue
        for n in walk(e):
            t = type(n)
            if (t is ast.NamedExpr and n.target.id == name) or (calls and t is ast.Call):
                return True
    return False


def fixed_names(code, fdef):
    """The names of function `fdef` (compiled as `code`) that only its own statements bind: its
    locals, and the cells of its nested functions that none of them declares `nonlocal`."""
    cells = set(code.co_cellvars)
    if cells:
        cells -= {n for x in walk(fdef) if type(x) is ast.Nonlocal for n in x.names}
    return frozenset(code.co_varnames) | cells


#: what marks a generator expression read to its end by unpacking (`a, b = (... for ...)`), and
#: one a `for` loop reads
UNPACKED = "unpacking"
FOR_LOOP = "a `for` loop"
CHANGING_LOOP = "a `for` loop that changes values"


def _may_change(body, genexp):
    """Whether statements `body` (a loop's, over generator expression `genexp`) may change what the
    items of `genexp` read: a call, a `:=`, a write of an item or an attribute, or a name `genexp`
    reads bound again."""
    reads = {n.id for n in walk(genexp) if type(n) is ast.Name}
    for node in (n for st in body for n in walk(st)):
        t = type(node)
        if t is ast.Call or t is ast.NamedExpr or t is ast.Delete:
            return True
        if t in (ast.Subscript, ast.Attribute) and type(node.ctx) is ast.Store:
            return True
        if t is ast.Name and type(node.ctx) is ast.Store and node.id in reads:
            return True
        if t in (ast.Nonlocal, ast.Global, ast.FunctionDef, ast.Lambda):
            return True
    return False

#: builtins that read every item of an iterable before they return, and nothing else meanwhile
_READ_ALL = frozenset({sum, list, tuple, set, frozenset, dict, sorted, min, max, math.fsum, math.prod})



def _reads_all(func, global_value, methods=True):
    """Whether the callee `func` (an expression) reads every item it is given before it returns:
    one of `_READ_ALL`, a string constant's `join`, or (with `methods`) a method named as a list's
    `extend` or a set's or dict's `update` (which may be a class's own: handed an iterator still)."""
    if _value_key(global_value(func)) in _READ_ALL:
        return True
    if type(func) is not ast.Attribute:
        return False
    return (methods and func.attr in ("extend", "update")) or (func.attr == "join" and type(func.value) is ast.Constant and type(func.value.value) is str)


def _quiet(f):
    """Whether calling `f` does nothing but give a value, as far as a generator expression's items
    go: a C function (`abs`, `sin` imported from `math`), a NumPy ufunc, or a builtin type."""
    return isinstance(f, types.BuiltinFunctionType) or type(f).__name__ == "ufunc" or (
        isinstance(f, type) and f.__module__ == "builtins")


def _value_key(v):
    """`v` where it can be looked up in a table of callables, else None."""
    try:
        hash(v)
    except TypeError:
        return None
    return v


def _item_parts(e):
    """The parts of generator expression `e` evaluated as its items are read: the element, the
    conditions, and the iterables but the first."""
    yield e.elt
    for i, gen in enumerate(e.generators):
        if i:
            yield gen.iter
        yield from gen.ifs


def _may_act(e):
    """Whether evaluating expression `e` (or None) may do anything but give a value: it holds a
    call or a `:=`."""
    if e is None or type(e) is ast.Name or type(e) is ast.Constant:
        return False
    return any(type(n) is ast.Call or type(n) is ast.NamedExpr for n in walk(e))


#: calls of these builtins read of an exception no number the gradient could follow
_MESSAGE_CALLS = frozenset({"str", "repr", "print", "type", "isinstance", "format", "id"})


def _reads_beyond_message(body, name):
    """Whether statements `body` read the exception `name` otherwise than for a message or to raise
    it again: `str(e)`, `print(e)`, `f"{e}"`, `isinstance(e, T)`, `raise e`, `raise E() from e`
    read none of the numbers it may carry."""
    todo = list(body)
    while todo:
        node = todo.pop()
        t = type(node)
        if t is ast.Name:
            if node.id == name:
                return True
            continue
        if t is ast.Call and type(node.func) is ast.Name and node.func.id in _MESSAGE_CALLS:
            todo.extend(a for a in node.args if not (type(a) is ast.Name and a.id == name))
            todo.extend(k.value for k in node.keywords)
            continue
        if t is ast.FormattedValue and type(node.value) is ast.Name and node.value.id == name:
            if node.format_spec is not None:
                todo.append(node.format_spec)
            continue
        if t is ast.Raise:
            for part in (node.exc, node.cause):
                if part is not None and not (type(part) is ast.Name and part.id == name):
                    todo.append(part)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False
