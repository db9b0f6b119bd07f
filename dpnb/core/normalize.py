"""Stage 2 — normalize: structured control flow, then one operation per line.

`normalize(fdef, namer, is_static)` returns a new `FunctionDef` whose body only
holds these statement forms (every operand an *atom*: a `Name` or a `Constant`):

    t = atom                      copy
    t = a <op> b  /  t = <op> a   arithmetic (BinOp / UnaryOp)
    t = a <cmp> b                 one comparison
    t = a.attr                    attribute read
    t = a[i]                      item read; i an atom, a Slice of atoms or a Tuple of those
    t = f(a, b)                   call with positional atoms; f an atom or a static
                                  module path (`np.linalg.norm`)
    t = f(*args, **kwargs)        call with a tuple atom and a dict atom
    t = a.m(b, c) / a.m(*args, **kwargs)   method call on an atom
    t = (a, *b) / [a, b] / {k: v, **m}      literals
    t = lambda ... / def ...      closure creation (the user's own node, untouched)
    a.attr = b / a[i] = b         mutation
    a, *b = t                     unpacking into names
    ListBuild(t, body) / DictBuild(t, body) with Append(v) / SetKey(k, v) inside
                                  a comprehension or generator expression
    if a: ... else: ...
    for t in a: ...               (target a single name; `if _brk: break` may end the body)
    while w: ...                  (`w` a flag name: the test is computed inside)
    return a                      once, last
    Native(stmt)                  a statement run as written (print-only code, raise,
                                  assert, import, f-strings, ...): never differentiated

Control flow is structured first: `return`, `break` and `continue` set flags and
guard what follows, so every loop iteration runs its body to the end and the
backward pass only needs which branches ran and how many iterations there were.
Comprehension variables are renamed, as they live in their own scope.
"""
import ast
import copy

from ..errors import UnsupportedSyntaxError


#: methods known not to change their object (no write-back needed for nested objects)
PURE_METHODS = frozenset(
    "sum mean prod max min std var dot reshape transpose copy get keys values items ravel flatten "
    "astype tolist item count index cumsum cumprod clip squeeze swapaxes conj round all any argmax "
    "argmin nonzero startswith endswith format join split strip lower upper replace".split()
)

#: the name standing for "ufunc.at, rebinding its first argument" in normalized code
UFUNC_AT = "__dpnb_ufunc_at__"


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


def _name(id, ctx=None):
    return ast.Name(id=id, ctx=ctx or ast.Load())


def _store(id):
    return ast.Name(id=id, ctx=ast.Store())


def _assign(target, value, like=None):
    node = ast.Assign(targets=[target if not isinstance(target, str) else _store(target)], value=value)
    if like is not None:
        ast.copy_location(node, like)
    return node


def _const(v):
    return ast.Constant(value=v)


def _located(node, like):
    if like is not None and hasattr(like, "lineno"):
        ast.copy_location(node, like)
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
    n = 0
    stack = list(stmts)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return):
            n += 1
        stack.extend(ast.iter_child_nodes(node))
    return n


class _Loop:
    def __init__(self, namer):
        self.namer = namer
        self._brk = None
        self._cont = None

    @property
    def brk(self):
        if self._brk is None:
            self._brk = self.namer.fresh("_brk")
        return self._brk

    @property
    def cont(self):
        if self._cont is None:
            self._cont = self.namer.fresh("_cont")
        return self._cont


class Structurer:
    def __init__(self, namer, filename):
        self.namer = namer
        self.filename = filename
        self.rv = namer.exact("_rv")
        self.ret = None
        self.loops = []

    def ret_flag(self):
        if self.ret is None:
            self.ret = self.namer.exact("_ret")
        return self.ret

    def function(self, body):
        body = list(body)
        if _count_returns(body) == 1 and isinstance(body[-1], ast.Return):
            new, _, _ = self.block(body[:-1], tail=False)
            ret = body[-1]
            if ret.value is None:
                ret = ast.copy_location(ast.Return(value=_const(None)), ret)
            return new + [ret]
        new, exits, always = self.block(body, tail=True)
        prologue = []
        if self.ret is not None:
            prologue.append(_assign(self.ret, _const(False)))
        if not always:
            prologue.append(_assign(self.rv, _const(None)))
        return prologue + new + [ast.Return(value=_name(self.rv))]

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
                    s = copy.copy(s)
                    if a_body:
                        s.orelse = list(s.orelse) + rest
                    else:
                        s.body = list(s.body) + rest
                    rest, last = [], True
                body, e1, al1 = self.block(s.body, tail and last)
                orelse, e2, al2 = self.block(s.orelse, tail and last)
                node = ast.If(test=s.test, body=body or [ast.Pass()], orelse=orelse)
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
                test = flags[0] if len(flags) == 1 else ast.BoolOp(op=ast.Or(), values=flags)
                guarded, e3, _ = self.block(rest, tail)
                out.append(_located(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=test), body=guarded, orelse=[]), s))
                exits |= e3
                return out, exits, False
            if not rest:  # the last statement, or what followed was moved into a branch
                break
        return out, exits, False

    def compound(self, s):
        """try / with: their blocks are structured like any other; what they may exit through adds up."""
        exits = set()
        node = copy.copy(s)
        node.body, e, _ = self.block(s.body, tail=False)
        exits |= e
        if isinstance(s, ast.Try):
            handlers = []
            for h in s.handlers:
                h2 = copy.copy(h)
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
        for node in ast.walk(s):
            if isinstance(node, (ast.Return, ast.Break, ast.Continue)) and not isinstance(
                s, (ast.FunctionDef, ast.Lambda, ast.ClassDef)
            ):
                raise UnsupportedSyntaxError(
                    f"`{type(node).__name__.lower()}` inside `{type(s).__name__.lower()}`",
                    self.filename,
                    node.lineno,
                )

    def loop(self, s):
        loop = _Loop(self.namer)
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
            pre.append(_assign(w, _const(True), s))
            body = [
                _located(
                    ast.If(test=s.test, body=body or [ast.Pass()], orelse=[_assign(w, _const(False), s)]), s
                )
            ]
            test = _name(w)
        if loop._brk is not None:
            pre.append(_assign(loop.brk, _const(False), s))
            body.append(ast.If(test=_name(loop.brk), body=[ast.Break()], orelse=[]))
        if isinstance(s, ast.While):
            node = ast.While(test=test, body=body, orelse=[])
        else:
            node = ast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None)
        out = pre + [_located(node, s)]
        if s.orelse:
            orelse, e, _ = self.block(s.orelse, tail=False)
            if e:
                raise UnsupportedSyntaxError("`return`/`break` in a loop's `else`", self.filename, s.lineno)
            if loop._brk is not None:
                orelse = [ast.If(test=ast.UnaryOp(op=ast.Not(), operand=_name(loop.brk)), body=orelse, orelse=[])]
            out.extend(orelse)
        return out


# --- part 2: one operation per line ----------------------------------------------------


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return ast.copy_location(ast.Name(id=self.mapping[node.id], ctx=node.ctx), node)
        return node

    def visit_Lambda(self, node):
        bound = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        inner = {k: v for k, v in self.mapping.items() if k not in bound}
        if inner == self.mapping:
            self.generic_visit(node)
            return node
        saved, self.mapping = self.mapping, inner
        self.generic_visit(node)
        self.mapping = saved
        return node


def rename(node, mapping):
    if not mapping:
        return node
    return _Renamer(mapping).visit(copy.deepcopy(node))


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
    return ast.Constant(value=v) if ok(v) else None


def is_atom(e):
    return isinstance(e, (ast.Name, ast.Constant))


class ANF:
    def __init__(self, namer, is_static, filename, first_param=None):
        self.first_param = first_param  # for super()
        self.namer = namer
        self.is_static = is_static  # Name/Attribute chain -> bool (a global module path)
        self.filename = filename

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
            ast.copy_location(node, like)
            node.end_lineno = getattr(like, "end_lineno", node.lineno)
            node.end_col_offset = getattr(like, "end_col_offset", 0)
        out.append(node)
        return node

    def s_Expr(self, s, out):
        if isinstance(s.value, ast.Constant):
            return  # docstrings and bare constants
        v = s.value
        if (
            isinstance(v, ast.Call)
            and isinstance(v.func, ast.Attribute)
            and v.func.attr == "at"
            and self.is_static(v.func.value)
            and v.args
            and isinstance(v.args[0], ast.Name)
            and not v.keywords
        ):
            # np.add.at(a, idx, v) changes `a`: written as a = <ufunc at>(np.add, a, idx, v)
            args = [self.bind(v.func.value, out, s)] + [self.expr(a, out) for a in v.args]
            call = ast.Call(func=_name(UFUNC_AT), args=args, keywords=[])
            self.emit(out, _assign(_store(v.args[0].id), self.bind(call, out, s)), s)
            return
        self.expr(s.value, out)  # evaluated for its effects; the value is dropped

    def s_Pass(self, s, out):
        pass

    def s_Assign(self, s, out):
        atom = self.expr(s.value, out)
        for t in s.targets:
            self.assign(t, atom, out, s)

    def s_AnnAssign(self, s, out):
        if s.value is not None:
            self.assign(s.target, self.expr(s.value, out), out, s)

    def s_AugAssign(self, s, out):
        t = s.target
        if isinstance(t, ast.Name):
            cur = _name(t.id)
            value = self.expr(s.value, out)
            node = ast.BinOp(left=cur, op=s.op, right=value)
            node.dpnb_inplace = True  # arrays and lists change in place, as in Python
            self.assign(t, self.op(node, out, s), out, s)
        elif isinstance(t, ast.Attribute):
            wb = []
            obj = self.reach(t.value, out, wb, s)
            cur = self.bind(ast.Attribute(value=obj, attr=t.attr, ctx=ast.Load()), out, s)
            value = self.expr(s.value, out)
            new = self.op(ast.BinOp(left=cur, op=s.op, right=value), out, s)
            self.emit(out, _assign(ast.Attribute(value=obj, attr=t.attr, ctx=ast.Store()), new), s)
            self.writeback(wb, out, s)
        elif isinstance(t, ast.Subscript):
            wb = []
            obj = self.reach(t.value, out, wb, s)
            idx = self.index(t.slice, out)
            cur = self.bind(ast.Subscript(value=obj, slice=idx, ctx=ast.Load()), out, s)
            value = self.expr(s.value, out)
            new = self.op(ast.BinOp(left=cur, op=s.op, right=value), out, s)
            self.emit(out, _assign(ast.Subscript(value=obj, slice=copy.deepcopy(idx), ctx=ast.Store()), new), s)
            self.writeback(wb, out, s)
        else:
            raise UnsupportedSyntaxError("this augmented assignment target", self.filename, s.lineno)

    def reach(self, e, out, writebacks, like):
        """The atom for object expression `e`; if `e` is itself an item or attribute of a container,
        note a write-back (container[key] = obj) to emit after the object is changed in place."""
        if isinstance(e, ast.Subscript):
            c = self.reach(e.value, out, writebacks, like)
            k = self.index(e.slice, out)
            obj = self.bind(ast.Subscript(value=c, slice=k, ctx=ast.Load()), out, like)
            node = _assign(ast.Subscript(value=c, slice=copy.deepcopy(k), ctx=ast.Store()), obj)
            node.dpnb_writeback = True
            writebacks.append(node)
            return obj
        if isinstance(e, ast.Attribute) and not self.is_static(e):
            c = self.reach(e.value, out, writebacks, like)
            obj = self.bind(ast.Attribute(value=c, attr=e.attr, ctx=ast.Load()), out, like)
            node = _assign(ast.Attribute(value=c, attr=e.attr, ctx=ast.Store()), obj)
            node.dpnb_writeback = True
            writebacks.append(node)
            return obj
        return self.expr(e, out)

    def writeback(self, writebacks, out, like):
        for node in reversed(writebacks):
            self.emit(out, node, like)

    def op(self, node, out, like):
        return self.bind(node, out, like)

    def assign(self, target, atom, out, like):
        if isinstance(target, ast.Name):
            self.emit(out, _assign(_store(target.id), atom), like)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = []
            later = []
            for e in target.elts:
                if isinstance(e, ast.Starred):
                    inner = e.value
                    if isinstance(inner, ast.Name):
                        elts.append(ast.Starred(value=_store(inner.id), ctx=ast.Store()))
                    else:
                        tmp = self.temp()
                        elts.append(ast.Starred(value=_store(tmp), ctx=ast.Store()))
                        later.append((inner, tmp))
                elif isinstance(e, ast.Name):
                    elts.append(_store(e.id))
                else:
                    tmp = self.temp()
                    elts.append(_store(tmp))
                    later.append((e, tmp))
            self.emit(out, _assign(ast.Tuple(elts=elts, ctx=ast.Store()), atom), like)
            for e, tmp in later:
                self.assign(e, _name(tmp), out, like)
        elif isinstance(target, ast.Attribute):
            wb = []
            obj = self.reach(target.value, out, wb, like)
            self.emit(out, _assign(ast.Attribute(value=obj, attr=target.attr, ctx=ast.Store()), atom), like)
            self.writeback(wb, out, like)
        elif isinstance(target, ast.Subscript):
            wb = []
            obj = self.reach(target.value, out, wb, like)
            idx = self.index(target.slice, out)
            self.emit(out, _assign(ast.Subscript(value=obj, slice=idx, ctx=ast.Store()), atom), like)
            self.writeback(wb, out, like)
        elif isinstance(target, ast.Starred):
            raise UnsupportedSyntaxError("a starred assignment target outside a tuple", self.filename, like.lineno)
        else:
            raise UnsupportedSyntaxError(f"assignment to {type(target).__name__}", self.filename, like.lineno)

    def s_If(self, s, out):
        test = self.expr(s.test, out)
        node = ast.If(test=test, body=self.body(s.body) or [], orelse=self.body(s.orelse))
        self.emit(out, node, s)

    def s_For(self, s, out):
        it = self.expr(s.iter, out)
        e = self.namer.fresh("_item")
        body = []
        self.assign(s.target, _name(e), body, s)
        body += self.body(s.body)
        node = ast.For(target=_store(e), iter=it, body=body, orelse=[], type_comment=None)
        self.emit(out, node, s)

    def s_While(self, s, out):
        node = ast.While(test=s.test, body=self.body(s.body), orelse=[])
        self.emit(out, node, s)

    def s_Try(self, s, out):
        handlers = []
        for h in s.handlers:
            handlers.append(
                ast.copy_location(ast.ExceptHandler(type=h.type, name=h.name, body=self.body(h.body)), h)
            )
        node = ast.Try(body=self.body(s.body), handlers=handlers, orelse=self.body(s.orelse), finalbody=self.body(s.finalbody))
        self.emit(out, node, s)

    def s_With(self, s, out):
        items = []
        for item in s.items:
            ctx = self.expr(item.context_expr, out)
            items.append(ast.withitem(context_expr=ctx, optional_vars=item.optional_vars))
        self.emit(out, ast.With(items=items, body=self.body(s.body), type_comment=None), s)

    def s_Break(self, s, out):
        out.append(ast.Break())

    def s_Return(self, s, out):
        atom = self.expr(s.value, out) if s.value is not None else _const(None)
        self.emit(out, ast.Return(value=atom), s)

    def _native(self, s, out):
        self.emit(out, Native(stmt=s), s)

    s_Raise = s_Assert = s_Import = s_ImportFrom = _native

    def s_FunctionDef(self, s, out):
        self.emit(out, Native(stmt=s), s)  # closure creation; marked by analyze

    def s_Nonlocal(self, s, out):
        self.emit(out, Native(stmt=s), s)

    # expressions -> atoms
    def bind(self, value, out, like):
        t = self.temp()
        self.emit(out, _assign(_store(t), value), like)
        return _name(t)

    def expr(self, e, out):
        if isinstance(e, (ast.Name, ast.Constant)):
            return _name(e.id) if isinstance(e, ast.Name) else e
        m = getattr(self, "e_" + type(e).__name__, None)
        if m is None:
            raise UnsupportedSyntaxError(f"`{type(e).__name__}` expression", self.filename, getattr(e, "lineno", None))
        return m(e, out)

    def e_BinOp(self, e, out):
        a = self.expr(e.left, out)
        b = self.expr(e.right, out)
        folded = _fold(a, e.op, b)
        if folded is not None:
            return folded
        return self.bind(ast.BinOp(left=a, op=e.op, right=b), out, e)

    def e_UnaryOp(self, e, out):
        a = self.expr(e.operand, out)
        if isinstance(a, ast.Constant) and isinstance(e.op, ast.USub):
            if isinstance(a.value, (int, float, complex)) and not isinstance(a.value, bool):
                return _const(-a.value)
        return self.bind(ast.UnaryOp(op=e.op, operand=a), out, e)

    def e_Compare(self, e, out):
        left = self.expr(e.left, out)
        if len(e.ops) == 1:
            right = self.expr(e.comparators[0], out)
            return self.bind(ast.Compare(left=left, ops=e.ops, comparators=[right]), out, e)
        # a < b < c  ->  (a < b) and (b < c), each operand evaluated once
        result = self.temp()
        cur = left
        block = out
        for i, (op, comp) in enumerate(zip(e.ops, e.comparators)):
            right = self.expr(comp, block)
            t = self.bind(ast.Compare(left=cur, ops=[op], comparators=[right]), block, e)
            self.emit(block, _assign(_store(result), t), e)
            if i < len(e.ops) - 1:
                nxt = []
                self.emit(block, ast.If(test=_name(result), body=nxt, orelse=[]), e)
                block = nxt
            cur = right
        return _name(result)

    def e_BoolOp(self, e, out):
        result = self.temp()
        block = out
        for i, v in enumerate(e.values):
            a = self.expr(v, block)
            self.emit(block, _assign(_store(result), a), e)
            if i < len(e.values) - 1:
                nxt = []
                if isinstance(e.op, ast.And):
                    test = _name(result)
                else:
                    test = self.bind(ast.UnaryOp(op=ast.Not(), operand=_name(result)), block, e)
                self.emit(block, ast.If(test=test, body=nxt, orelse=[]), e)
                block = nxt
        return _name(result)

    def e_IfExp(self, e, out):
        test = self.expr(e.test, out)
        result = self.temp()
        body, orelse = [], []
        self.emit(body, _assign(_store(result), self.expr(e.body, body)), e)
        self.emit(orelse, _assign(_store(result), self.expr(e.orelse, orelse)), e)
        self.emit(out, ast.If(test=test, body=body, orelse=orelse), e)
        return _name(result)

    def e_NamedExpr(self, e, out):
        a = self.expr(e.value, out)
        self.emit(out, _assign(_store(e.target.id), a), e)
        return _name(e.target.id)

    def e_Attribute(self, e, out):
        if self.is_static(e):
            return self.bind(e, out, e)
        obj = self.expr(e.value, out)
        return self.bind(ast.Attribute(value=obj, attr=e.attr, ctx=ast.Load()), out, e)

    def index(self, s, out):
        if isinstance(s, ast.Slice):
            return ast.Slice(
                lower=self.expr(s.lower, out) if s.lower is not None else None,
                upper=self.expr(s.upper, out) if s.upper is not None else None,
                step=self.expr(s.step, out) if s.step is not None else None,
            )
        if isinstance(s, ast.Tuple) and any(isinstance(x, ast.Slice) for x in s.elts):
            return ast.Tuple(elts=[self.index(x, out) for x in s.elts], ctx=ast.Load())
        return self.expr(s, out)

    def e_Subscript(self, e, out):
        obj = self.expr(e.value, out)
        idx = self.index(e.slice, out)
        return self.bind(ast.Subscript(value=obj, slice=idx, ctx=ast.Load()), out, e)

    def _seq(self, elts, out):
        res = []
        for x in elts:
            if isinstance(x, ast.Starred):
                res.append(ast.Starred(value=self.expr(x.value, out), ctx=ast.Load()))
            else:
                res.append(self.expr(x, out))
        return res

    def e_Tuple(self, e, out):
        return self.bind(ast.Tuple(elts=self._seq(e.elts, out), ctx=ast.Load()), out, e)

    def e_List(self, e, out):
        return self.bind(ast.List(elts=self._seq(e.elts, out), ctx=ast.Load()), out, e)

    def e_Set(self, e, out):
        return self.bind(ast.Set(elts=self._seq(e.elts, out)), out, e)

    def e_Dict(self, e, out):
        keys, values = [], []
        for k, v in zip(e.keys, e.values):
            keys.append(None if k is None else self.expr(k, out))
            values.append(self.expr(v, out))
        return self.bind(ast.Dict(keys=keys, values=values), out, e)

    def e_Call(self, e, out):
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
            cls = sup.args[0] if len(sup.args) == 2 else _name("__class__")
            obj = sup.args[1] if len(sup.args) == 2 else _name(self.first_param)
            call = ast.Call(func=ast.Attribute(value=obj, attr=f.attr, ctx=ast.Load()), args=e.args, keywords=e.keywords)
            ast.copy_location(call, e)
            atom = self.e_Call(call, out)
            assign = out[-1]
            assign.value.dpnb_super = self.expr(cls, out)
            # keep the assignment last
            out.remove(assign)
            out.append(assign)
            return atom
        wb = []
        if self.is_static(f):
            func = f
        elif isinstance(f, ast.Attribute):
            if f.attr in PURE_METHODS:
                func = ast.Attribute(value=self.expr(f.value, out), attr=f.attr, ctx=ast.Load())
            else:  # the method may change its object: write it back into its container
                func = ast.Attribute(value=self.reach(f.value, out, wb, e), attr=f.attr, ctx=ast.Load())
        else:
            func = self.expr(f, out)
        if wb:
            atom = self._call(e, func, out)
            self.writeback(wb, out, e)
            return atom
        return self._call(e, func, out)

    def _call(self, e, func, out):
        simple = not e.keywords and not any(isinstance(a, ast.Starred) for a in e.args)
        if simple:
            args = [self.expr(a, out) for a in e.args]
            return self.bind(ast.Call(func=func, args=args, keywords=[]), out, e)
        args = self._seq(e.args, out)
        targs = self.bind(ast.Tuple(elts=args, ctx=ast.Load()), out, e)
        keys, values = [], []
        for kw in e.keywords:
            keys.append(None if kw.arg is None else _const(kw.arg))
            values.append(self.expr(kw.value, out))
        kwargs = self.bind(ast.Dict(keys=keys, values=values), out, e)
        call = ast.Call(
            func=func,
            args=[ast.Starred(value=targs, ctx=ast.Load())],
            keywords=[ast.keyword(arg=None, value=kwargs)],
        )
        if any(kw.arg == "out" for kw in e.keywords):
            call.dpnb_out = True  # writes into an argument: always run through dpnb (to refuse it)
        return self.bind(call, out, e)

    def e_Lambda(self, e, out):
        return self.bind(e, out, e)

    def e_JoinedStr(self, e, out):
        t = self.temp()
        self.emit(out, Native(stmt=_located(_assign(_store(t), e), e)), e)
        return _name(t)

    def e_Starred(self, e, out):
        raise UnsupportedSyntaxError("a starred expression here", self.filename, e.lineno)

    # comprehensions
    def _comprehension(self, e, out, build, leaf):
        result = self.temp()
        body = []  # the body of the ListBuild / DictBuild
        block = body  # where the next statements go
        mapping = {}
        for i, gen in enumerate(e.generators):
            if gen.is_async:
                raise UnsupportedSyntaxError("`async for` in a comprehension", self.filename, e.lineno)
            # the first iterable is evaluated in the enclosing scope, the others inside
            it_atom = self.expr(rename(gen.iter, mapping), block) if i else self.expr(gen.iter, out)
            for n in sorted({n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}):
                mapping[n] = self.namer.fresh(f"_{n}_")
            item = self.namer.fresh("_item")
            loop_body = []
            self.assign(rename(gen.target, mapping), _name(item), loop_body, e)
            inner = loop_body
            for cond in gen.ifs:
                c = self.expr(rename(cond, mapping), inner)
                nxt = []
                self.emit(inner, ast.If(test=c, body=nxt, orelse=[]), e)
                inner = nxt
            self.emit(block, ast.For(target=_store(item), iter=it_atom, body=loop_body, orelse=[], type_comment=None), e)
            block = inner
        leaf(block, mapping, result)
        self.emit(out, build(target=_store(result), body=body), e)
        return _name(result)

    def e_ListComp(self, e, out):
        def leaf(block, mapping, result):
            v = self.expr(rename(e.elt, mapping), block)
            self.emit(block, Append(target=_name(result), value=v), e)

        return self._comprehension(e, out, ListBuild, leaf)

    e_GeneratorExp = e_ListComp

    def e_DictComp(self, e, out):
        def leaf(block, mapping, result):
            k = self.expr(rename(e.key, mapping), block)
            v = self.expr(rename(e.value, mapping), block)
            self.emit(block, SetKey(target=_name(result), key=k, value=v), e)

        return self._comprehension(e, out, DictBuild, leaf)

    def e_SetComp(self, e, out):
        t = self.temp()
        self.emit(out, Native(stmt=_located(_assign(_store(t), e), e)), e)
        return _name(t)


def normalize(fdef, namer, is_static, filename):
    """Structure control flow, then flatten to one operation per line (see module doc)."""
    structured = Structurer(namer, filename).function(fdef.body)
    positional = fdef.args.posonlyargs + fdef.args.args
    body = ANF(namer, is_static, filename, positional[0].arg if positional else None).body(structured)
    new = ast.FunctionDef(
        name=fdef.name, args=fdef.args, body=body, decorator_list=[], returns=None, type_comment=None
    )
    return ast.copy_location(new, fdef)
