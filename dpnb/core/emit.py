"""Stage 4 — emit: write the forward pass and its pullback as Python.

`Emitter(analysis, ssa, namer, helper, fdef, forward_name).run()` returns one
`FunctionDef`: the forward pass, with the user's name and arguments, which
returns `(value, <name>_pullback)`. The pullback is a nested function of the
cotangent of the result and returns `(None, *parameter_cotangents)`.

How the backward pass gets what it needs:

- every version has one value, so the pullback reads the forward pass's
  variables straight from its frame (it is a closure); only values that are
  assigned again later — inside loops, every iteration — are pushed on a tape
  that the pullback pops, or copied aside;
- which branch ran is read back from the branch's own boolean test when it can
  be, otherwise from a flag; loops count their iterations; `try` and `with`
  blocks count how far each of their blocks got;
- on plain numbers the chain rule is written inline (`x_bar = 5 * y_bar`);
  everything else goes through a runtime function that returns
  `(value, pullback)`, and cotangents of objects go through the heap
  (`heap.take` where an object's value is made, `heap.acc` where a cotangent
  reaches a value).

Cotangent variables are `None` until something reaches them; the emitter tracks
which ones are known to be set, unset or either, and writes the simplest code
for each case.
"""
import ast
import math
import types

from ..rules import registry
from ..rules.registry import _hashable
from . import tidy
from .astlib import LOAD, STORE, C, N, S, assign, attr, binop, call, copy_location, copy_tree, if_, ifexp, is_none, loads, name_nodes, substitute, tup, walk
from .normalize import TRUTH, Append, DictBuild, ListBuild, Native, SetKey
from .ssa import child_blocks, target_names, walk_stmts

NONE, SET, MAYBE = 0, 1, 2

_BINOP = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.FloorDiv: "floordiv",
    ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
}
_NEED_VARIANTS = {"add", "sub", "mul", "truediv", "pow", "matmul"}
_UNARY = {ast.USub: "neg", ast.UAdd: "pos"}
_BITWISE = {ast.BitOr: "or", ast.BitAnd: "and", ast.BitXor: "xor", ast.LShift: "lshift", ast.RShift: "rshift"}
#: builtins whose call Python answers with a method of the object's class: helper that runs it
_IMPLICIT_CALLS = {bool: "truth", len: "len_of"}
_IMPLICIT_OPS = frozenset(_IMPLICIT_CALLS.values())
_COMPARE = {ast.Lt: "lt", ast.Gt: "gt", ast.LtE: "le", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}


class Form:
    """How one statement is written forward and backward."""

    __slots__ = ("kind", "pb", "effect", "extra")

    def __init__(self, kind, pb=None, effect=False, extra=None):
        self.kind = kind
        self.pb = pb
        self.effect = effect
        self.extra = extra or {}


class Emitter:
    def __init__(self, an, ssa, namer, helper, fdef, forward_name):
        self.an = an
        self.ssa = ssa
        self.namer = namer
        self.h = helper  # helper key -> generated name
        self.fdef = fdef
        self.forward_name = forward_name
        self.seed = namer.exact("y_bar")
        self.bar_names = set()
        self.status = {}
        self.init = set()
        self.uses_ctx = False
        self.uses_tape = False
        self.forms = {}
        self.saves = {}  # id(stmt) -> [(name, mode, local)]
        self.created = {}  # emitter-made forward names -> defining stmt
        self.cell_objects = {}  # cell var -> name of the variable holding its cell
        self.has_effects = False
        self.try_info = {}
        self.loop_info = {}
        self.if_flags = {}
        self.inline_deps = set()
        self.guard_values = {}
        self.ctx_name = None
        self.iter_vars = {}
        self.range_loops = {}  # a range loop's target -> (the range's name, the backward loop's index)
        # the tape, its push and its pop: names no identifier of the user's code takes
        self.tape_names = (namer.exact("_tape"), namer.exact("_push"), namer.exact("_pop"))

    # --- names -----------------------------------------------------------------------------
    def helper(self, key):
        return self.h(key)

    def ctx(self):
        self.uses_ctx = True
        if self.ctx_name is None:
            self.ctx_name = self.namer.exact("_ctx")
        return N(self.ctx_name)

    def bar(self, name):
        b = self.namer.bar(name)
        self.bar_names.add(b)
        return b

    def fresh(self, base):
        name = self.namer.fresh(base)
        return name

    def make(self, base, stmt):
        """A forward-pass name made by the emitter, assigned at `stmt`."""
        name = self.namer.fresh(base)
        self.created[name] = stmt
        self.an.defs.setdefault(name, []).append(stmt)
        if self.an.in_loop(stmt):
            self.ssa.multi.add(name)
        return name

    def cell_object(self, name):
        v = self.cell_objects.get(name)
        if v is None:
            v = self.cell_objects[name] = self.namer.fresh(f"_cell_{name.strip('_')}")
        return N(v)

    # --- atoms -----------------------------------------------------------------------------
    def target_kind(self, atom):
        """How a cotangent reaches this atom: 'local', 'cell', 'leaf' or None (nothing)."""
        if not isinstance(atom, ast.Name):
            return None
        name = atom.id
        an = self.an
        if an.is_local(name):
            return "local" if an.wants(atom) else None
        if an.is_cell(name):
            return "cell"
        found, value = an.lookup_global(name)
        if found and (an.atom_kind(atom) == "const" or isinstance(value, (int, float, complex, bool))):
            return None
        return "leaf"

    def wants(self, atom):
        return self.target_kind(atom) is not None

    def num(self, atom):
        return self.an.atom_kind(atom) in ("real", "num")

    def real(self, atom):
        return self.an.atom_kind(atom) == "real"

    # --- cotangent bookkeeping ------------------------------------------------------------
    def st(self, b):
        return self.status.get(b, NONE)

    def read_bar(self, b):
        """An expression reading bar variable b (initialised at the start if it may be unassigned)."""
        if self.st(b) != SET:
            self.init.add(b)
        return N(b)

    def set_bar(self, b, value, status, out):
        out.append(assign(b, value))
        self.status[b] = status

    def acc(self, atom, expr, out, cstatus=MAYBE, complex_src=False):
        """Send cotangent `expr` to `atom`."""
        tk = self.target_kind(atom)
        if tk is None:
            return
        if tk == "leaf":
            if cstatus != SET and _cheap_read(expr):
                # most calls send nothing to the function they called: skip the call then, and find
                # the context only when there is something to send (the backward pass runs in the
                # context of the forward pass)
                send = ast.Expr(call(self.helper("leaf"), call(self.helper("current")), N(atom.id), expr))
                send = if_(is_none(copy_tree(expr), negate=True), [send])
            else:
                send = ast.Expr(call(self.helper("leaf"), self.ctx(), N(atom.id), expr))
            out.append(send)
            return
        if tk == "cell":
            writing = getattr(self, "cell_writes", {}).get(atom.id)
            if writing is not None:
                # read by the statement that rebinds it: the cotangent is the old value's
                out.append(ast.Expr(call(ast.Attribute(N(writing), "add_old", LOAD), expr)))
            else:
                out.append(ast.Expr(call(self.helper("cell_add"), self.ctx(), self.cell_object(atom.id), expr)))
            return
        name = atom.id
        b = self.bar(name)
        if self.num(atom):
            if complex_src and self.real(atom):
                expr = call(self.helper("real"), expr)
            s = self.st(b)
            if s == NONE:
                self.set_bar(b, expr, cstatus, out)
                return
            if cstatus == SET and s == SET:
                self.set_bar(b, binop(N(b), ast.Add(), expr), SET, out)
                return
            if not isinstance(expr, ast.Name):
                tmp = self.fresh("_c")
                out.append(assign(tmp, expr))
                expr = N(tmp)
            cur = self.read_bar(b)
            if cstatus == SET:
                new = ifexp(is_none(cur), expr, binop(N(b), ast.Add(), expr))
                self.set_bar(b, new, SET, out)
            elif s == SET:
                new = ifexp(is_none(expr), N(b), binop(N(b), ast.Add(), expr))
                self.set_bar(b, new, SET, out)
            else:
                new = ifexp(is_none(expr), cur, ifexp(is_none(N(b)), expr, binop(N(b), ast.Add(), expr)))
                self.set_bar(b, new, MAYBE, out)
            return
        cur = self.read_bar(b) if self.st(b) != NONE else C(None)
        self.set_bar(b, call(self.helper("acc"), self.ctx(), N(name), cur, expr), MAYBE, out)

    def reset(self, name, out):
        """After the definition of `name` is replayed: an earlier value of it starts from nothing."""
        b = self.namer.bar(name)
        if b in self.bar_names and name in self.ssa.multi and self.st(b) != NONE:
            out.append(assign(b, C(None)))
            self.status[b] = NONE

    def take(self, stmt, name, out, kind):
        """The cotangent of `name` where its value was made: a variable, or (objects) the heap too.
        Returns (expression, status) or (None, NONE) when nothing can have reached it."""
        b = self.bar(name)
        s = self.st(b)
        if kind in ("real", "num", "const"):
            if s == NONE:
                return None, NONE
            return self.read_bar(b), s
        cur = self.read_bar(b) if s != NONE else C(None)
        form = self.forms.get(id(stmt))
        helper = "take"
        if form is not None and form.kind == "helper" and form.extra.get("op", "").startswith(("call", "callmethod")):
            # what a rule returns may hold arrays it made (divmod, svd): they were made nowhere
            # in this code, so their cotangents are collected here, with the result's
            helper = "take_deep"
        elif form is not None and form.kind == "helper" and form.extra.get("deep"):
            helper = "take_made"  # (see `_user_operands`)
        self.set_bar(b, call(self.helper(helper), self.ctx(), N(name), cur), MAYBE, out)
        return N(b), MAYBE

    # --- the backward pass ----------------------------------------------------------------
    def bwd_block(self, stmts, out):
        for s in reversed(stmts):
            self.bwd_stmt(s, out)

    def bwd_stmt(self, s, out):
        guarded = getattr(s, "dpnb_progress", None) is not None
        st_before = dict(self.status) if guarded else None
        code = []
        if isinstance(s, ast.Assign):
            self.bwd_assign(s, code)
        elif isinstance(s, ast.If):
            self.bwd_if(s, code)
        elif isinstance(s, (ast.For, ast.While)):
            self.bwd_loop(s, code)
        elif isinstance(s, (ListBuild, DictBuild)):
            self.bwd_build(s, code)
        elif isinstance(s, Append):
            lb = self.builds[-1]
            self.acc(s.value, call(attr(N(lb), "pop")), code)
        elif isinstance(s, SetKey):
            db = self.builds[-1]
            self.acc(s.value, call(attr(N(db), "pop"), copy_tree(s.key), C(None)), code)
        elif isinstance(s, (ast.Try, ast.With)):
            self.bwd_try(s, code)
        elif isinstance(s, ast.Delete):
            self.bwd_delete(s, code)
        elif isinstance(s, Native) and isinstance(s.stmt, ast.FunctionDef):
            self.bwd_function(s, s.stmt.name, s.stmt.args, code)
        # Native, Return, Break, Pass: nothing to do
        if not code:
            return
        pre = []
        self.restore(s, code, pre)
        guard = self.progress_guard(s)
        if guard is not None:
            out.append(if_(guard, pre + code))
            self.merge_status(st_before)  # the statement may not have run
        else:
            out.extend(pre + code)

    def progress_guard(self, s):
        info = getattr(s, "dpnb_progress", None)
        if info is None:
            return None
        var, k = info
        return ast.Compare(N(var), [ast.GtE()], [C(k)])

    def bwd_assign(self, s, out):
        target = s.targets[0]
        if isinstance(target, ast.Attribute):
            form = self.forms.get(id(s))
            c = self.fresh("_c")
            out.append(assign(c, call(N(form.pb))))
            self.acc(s.value, N(c), out)
            return
        if isinstance(target, ast.Subscript):
            form = self.forms.get(id(s))
            c = self.fresh("_c")
            out.append(assign(c, call(N(form.pb))))
            self.acc(s.value, N(c), out)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            self.bwd_unpack(s, out)
            return
        name = target.id
        form = self.forms[id(s)]
        if form.kind == "plain":
            return
        v = s.value
        kind = self.an.atom_kind(ast.Name(name, LOAD))
        cellpb = form.extra.get("cell")
        if cellpb is not None:
            # a closure variable: the cotangent of the value it was given waits in its cell
            # (the cell keeps the value until the statement's backward step is done with it)
            b = self.bar(name)
            self.set_bar(b, call(N(cellpb)), MAYBE, out)
            self.init.add(b)
            undo = ast.Expr(call(ast.Attribute(N(cellpb), "undo", LOAD)))
            if form.kind == "copy":
                self.acc(v, N(b), out)
                out.append(undo)
                return
            if form.kind == "plain":
                out.append(undo)
                return
            g, gs = N(b), MAYBE
            body = []
            st_before = dict(self.status)
            saved = getattr(self, "cell_writes", {})
            self.cell_writes = dict(saved, **{name: cellpb})
            try:
                getattr(self, "bwd_" + form.kind)(s, form, g, gs, body)
            finally:
                self.cell_writes = saved
            if form.effect and form.kind == "helper" and form.pb is not None and form.kind != "inline_rule":
                out.extend(body)
            elif body:
                out.append(if_(ast.Compare(g, [ast.IsNot()], [C(None)]), body))
                self.merge_status(st_before)
            out.append(undo)
            return
        if form.kind == "copy":
            b = self.bar(name)
            if self.st(b) == NONE:
                return
            self.acc(v, self.read_bar(b), out, self.st(b))
            self.reset(name, out)
            return
        if form.kind == "helper" and form.extra.get("unread"):
            g, gs = None, NONE  # (what reached the value, an alias of an object's, stays its own)
        else:
            g, gs = self.take(s, name, out, kind)
        always = form.effect or (form.extra is not None and form.extra.get("always"))
        if g is None and not always:
            return
        body = []
        st_before = dict(self.status)
        getattr(self, "bwd_" + form.kind)(s, form, g, gs, body)
        self.reset(name, body)
        if always or gs == SET:
            out.extend(body)
        elif body:
            out.append(if_(ast.Compare(g, [ast.IsNot()], [C(None)]), body))
            self.merge_status(st_before)

    def merge_status(self, other):
        """After a block that may not run: what it set is known set only if it was before."""
        for b in set(self.status) | set(other):
            a, c = self.status.get(b, NONE), other.get(b, NONE)
            if a != c:
                self.status[b] = MAYBE
                self.init.add(b)

    # inline arithmetic on numbers
    def bwd_inline_binop(self, s, form, g, gs, out):
        v = s.value
        a, b = v.left, v.right
        op = type(v.op)
        t = N(s.targets[0].id)
        cx = self.an.atom_kind(t) == "num"
        G = g
        if op is ast.Add:
            self.acc(a, G, out, SET, cx)
            self.acc(b, G, out, SET, cx)
        elif op is ast.Sub:
            self.acc(a, G, out, SET, cx)
            self.acc(b, ast.UnaryOp(ast.USub(), G), out, SET, cx)
        elif op is ast.Mult:
            self.acc(a, binop(G, ast.Mult(), b), out, SET, cx)
            self.acc(b, binop(a, ast.Mult(), G), out, SET, cx)
        elif op is ast.Div:
            if self.wants(b):
                q = self.fresh("_c")
                out.append(assign(q, binop(G, ast.Div(), b)))
                self.acc(a, N(q), out, SET, cx)
                self.acc(b, ast.UnaryOp(ast.USub(), binop(N(q), ast.Mult(), t)), out, SET, cx)
            else:
                self.acc(a, binop(G, ast.Div(), b), out, SET, cx)
        elif op is ast.Pow and isinstance(b, ast.Constant) and type(b.value) is int and 2 <= b.value <= 16 and self.real(a):
            # a real base to a small whole power: the derivative written out (`y_bar * 2 * x` for
            # `x ** 2`), the product in the order the generic helper takes
            k = b.value
            p = a if k == 2 else binop(a, ast.Pow(), C(k - 1))
            self.acc(a, binop(binop(G, ast.Mult(), C(k)), ast.Mult(), p), out, SET, cx)
        elif op is ast.Pow:
            self.acc(a, call(self.helper("pow_base_bar"), G, a, b), out, SET, True)
            self.acc(b, binop(binop(G, ast.Mult(), t), ast.Mult(), call(self.helper("log_base"), a, t)), out, SET, True)
        elif op is ast.FloorDiv:
            self.acc(a, binop(G, ast.Mult(), C(0)), out, SET)
            self.acc(b, binop(G, ast.Mult(), C(0)), out, SET)
        elif op is ast.Mod:
            self.acc(a, G, out, SET)
            # the builtin (a user's own `round` must not be the one called here)
            q = call(self.helper("round"), binop(binop(a, ast.Sub(), t), ast.Div(), b))
            self.acc(b, ast.UnaryOp(ast.USub(), binop(G, ast.Mult(), q)), out, SET)

    def bwd_inline_unop(self, s, form, g, gs, out):
        v = s.value
        if isinstance(v.op, ast.USub):
            self.acc(v.operand, ast.UnaryOp(ast.USub(), g), out, SET)
        else:
            self.acc(v.operand, g, out, SET)

    def bwd_inline_rule(self, s, form, g, gs, out):
        rule = form.extra["rule"]
        v = s.value
        t = N(s.targets[0].id)
        fvar = form.extra["fvar"]
        st0 = dict(self.status)
        inline = []
        for argname, partial, atom in zip(rule.argnames, rule.partials, v.args):
            if partial is None or not self.wants(atom):
                continue
            mapping = {an_: a for an_, a in zip(rule.argnames, v.args)}
            expr = substitute(partial, mapping, t, lambda nm: N(self.helper(("ns", rule, nm))))
            self.acc(atom, binop(g, ast.Mult(), expr), inline, SET, self.an.atom_kind(t) == "num")
        st_inline = dict(self.status)
        generic = []
        self.status = dict(st0)
        # the callee was rebound since the transform: its own pullback
        bars = self.fresh("_bars")
        generic.append(assign(bars, call(N(form.pb), g)))
        for i, atom in enumerate(v.args):
            self.acc(atom, ast.Subscript(N(bars), C(i + 1), LOAD), generic)
        st_generic = self.status
        self.status = st_inline
        self.merge_status(st_generic)
        # the forward pass left the pullback None when it called the function it knew
        out.append(if_(is_none(N(form.pb)), inline, generic))

    # through the runtime
    def bwd_helper(self, s, form, g, gs, out):
        if form.extra.get("append"):
            # L.append(x): the forward pass left the pullback None when L was a list; the cotangent
            # of x is then the last slot of L's, and undoing the append is popping it
            st0 = dict(self.status)
            short = []
            obj, item = form.extra["slots"][0][1], form.extra["slots"][1][1]
            back = call(self.helper("append_back"), self.ctx(), obj)
            if self.wants(item):
                self.acc(item, back, short)
            else:
                # an item that takes no cotangent (`L.append(4)`): the append is undone all the
                # same, or the earlier appends' items would take the later slots' cotangents
                short.append(ast.Expr(back))
            st_short = self.status
            self.status = dict(st0)
            general = []
            self._bwd_helper(s, form, g, gs, general)
            self.merge_status(st_short)
            out.append(if_(is_none(N(form.pb)), short, general))
            return
        self._bwd_helper(s, form, g, gs, out)

    def _bwd_helper(self, s, form, g, gs, out):
        v = s.value
        shape = form.extra["shape"]
        run = self.run_pb(form, g, gs, form.extra["nbars"])
        if shape == "single":  # getattr / getitem: the object's cotangent
            c = self.fresh("_c")
            out.append(assign(c, run))
            self.acc(form.extra["obj"], N(c), out)
            return
        bars = self.fresh("_bars")
        out.append(assign(bars, run))
        for i, atom in form.extra["slots"]:
            if atom is None:
                continue
            self.acc(atom, ast.Subscript(N(bars), C(i), LOAD), out)

    def run_pb(self, form, g, gs, n):
        pb = N(form.pb)
        if g is None:
            return call(self.helper("none_run"), pb, C(n))
        if gs == SET or not (form.effect or form.extra.get("always")):
            return call(pb, g)
        return ifexp(ast.Compare(g, [ast.IsNot()], [C(None)]), call(pb, g), call(self.helper("none_run"), pb, C(n)))

    def bwd_self_call(self, s, form, g, gs, out):
        self.bwd_helper(s, form, g, gs, out)

    def bwd_literal(self, s, form, g, gs, out):
        v = s.value
        if g is None:
            return
        if isinstance(v, ast.Dict):
            gd = self.fresh("_g")
            out.append(assign(gd, call(self.helper("dict_cot"), g, N(s.targets[0].id))))
            # each key's cotangent goes to the entry that put it in last (a later `**m` or key
            # equal to an earlier one overwrote it)
            parts = self.fresh("_parts")
            keys = tup([C(None) if k is None else copy_tree(k) for k in v.keys])
            maps = tup([val if k is None else C(None) for k, val in zip(v.keys, v.values)])
            out.append(assign(parts, call(self.helper("dict_literal_bar"), N(gd), keys, maps)))
            for i, val in enumerate(v.values):
                self.acc(val, ast.Subscript(N(parts), C(i), LOAD), out)
            return
        elts = v.elts
        if isinstance(v, ast.List):
            gl = self.fresh("_g")
            out.append(assign(gl, call(self.helper("list_cot"), g, N(s.targets[0].id))))
            g = N(gl)
        if any(isinstance(e, ast.Starred) for e in elts):
            parts = self.fresh("_parts")
            spec = tup([e.value if isinstance(e, ast.Starred) else C(None) for e in elts])
            out.append(assign(parts, call(self.helper("literal_bar"), g, spec)))
            for i, e in enumerate(elts):
                self.acc(e.value if isinstance(e, ast.Starred) else e, ast.Subscript(N(parts), C(i), LOAD), out)
            return
        for i, e in enumerate(elts):
            self.acc(e, ast.Subscript(g, C(i), LOAD), out)

    def bwd_lambda(self, s, form, g, gs, out):
        self.distribute_defaults(s.value.args, g, out)

    def bwd_function(self, s, name, args, out):
        if not args.defaults and not any(d is not None for d in args.kw_defaults):
            return
        if not any(self.wants(d) for d in args.defaults + [k for k in args.kw_defaults if k is not None]):
            return
        g, gs = self.take(s, name, out, "any")
        self.distribute_defaults(args, g, out)

    def distribute_defaults(self, args, g, out):
        if g is None:
            return
        defaults = [d for d in args.defaults]
        if defaults and any(self.wants(d) for d in defaults):
            dl = self.fresh("_d")
            out.append(assign(dl, call(self.helper("field_of"), g, C("__defaults__"))))
            body = []
            for i, d in enumerate(defaults):
                self.acc(d, ast.Subscript(N(dl), C(i), LOAD), body)
            st = dict(self.status)
            out.append(if_(ast.Compare(N(dl), [ast.IsNot()], [C(None)]), body))
            self.merge_status(st)
        kwonly = [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        if kwonly and any(self.wants(d) for _, d in kwonly):
            dk = self.fresh("_d")
            out.append(assign(dk, call(self.helper("field_of"), g, C("__kwdefaults__"))))
            body = []
            for k, d in kwonly:
                self.acc(d, call(attr(N(dk), "get"), C(k)), body)
            st = dict(self.status)
            out.append(if_(ast.Compare(N(dk), [ast.IsNot()], [C(None)]), body))
            self.merge_status(st)

    def bwd_unpack(self, s, out):
        target = s.targets[0]
        names = []
        star = None
        for i, e in enumerate(target.elts):
            if isinstance(e, ast.Starred):
                star = i
                e = e.value
            names.append(e.id)
        if not self.wants(s.value):
            for n in names:
                self.reset(n, out)
            return
        bars = []
        any_set = False
        for i, n in enumerate(names):
            b = self.namer.bar(n)
            if i == star and self.an.wants(ast.Name(n, LOAD)):
                # the starred name holds a new list: its cotangent is in the heap
                cur = self.read_bar(b) if b in self.bar_names and self.st(b) != NONE else C(None)
                bars.append(call(self.helper("take"), self.ctx(), N(n), cur))
                any_set = True
            elif b in self.bar_names and self.st(b) != NONE and self.an.wants(ast.Name(n, LOAD)):
                bars.append(self.read_bar(b))
                any_set = True
            else:
                bars.append(C(None))
        if not any_set:
            return
        c = self.fresh("_c")
        out.append(assign(c, call(self.helper("unpack_bar"), self.ctx(), s.value, tup(bars), C(star))))
        for n in names:
            self.reset(n, out)
        self.acc(s.value, N(c), out)

    def bwd_delete(self, s, out):
        form = self.forms.get(id(s))
        if form is None or form.pb is None:
            return
        out.append(ast.Expr(call(N(form.pb))))

    def bwd_build(self, s, out):
        name = s.target.id
        g, gs = self.take(s, name, out, "any")
        if g is None:
            return
        lb = self.fresh("_lb" if isinstance(s, ListBuild) else "_db")
        builder = "list_cot" if isinstance(s, ListBuild) else "dict_cot"
        out.append(assign(lb, call(self.helper(builder), g, N(name))))
        self.builds.append(lb)
        try:
            self.bwd_block(s.body, out)
        finally:
            self.builds.pop()
        self.reset(name, out)

    # branches
    def bwd_if(self, s, out):
        st0 = dict(self.status)
        b1 = []
        self.bwd_block(s.body, b1)
        st1 = self.status
        self.status = dict(st0)
        b2 = []
        self.bwd_block(s.orelse, b2)
        st2 = self.status
        self.status = st1
        self.merge_status(st2)
        if not b1 and not b2:
            return
        flag = self.if_flags.get(id(s))
        if flag is None:
            test = s.test
            if isinstance(test, ast.Name) and test.id in self.an.bool_vars:
                flag = test.id
            elif isinstance(test, ast.Constant):
                flag = test
            else:
                flag = self.make("_branch", s)
            self.if_flags[id(s)] = flag
        cond = N(flag) if isinstance(flag, str) else flag
        out.append(if_(cond, b1, b2))

    # loops
    def bwd_loop(self, s, out):
        count = self.make("_n", s)
        self.loop_info[id(s)] = count
        touched = set()
        for inner in walk_stmts(s.body):
            for n in walk(inner) if not isinstance(inner, (ListBuild, DictBuild)) else [inner.target]:
                if isinstance(n, ast.Name):
                    touched.add(self.namer.bar(n.id))
            if isinstance(inner, (ListBuild, DictBuild)):
                touched.add(self.namer.bar(inner.target.id))
        if isinstance(s, ast.For):
            touched.add(self.namer.bar(s.target.id))
            if isinstance(s.iter, ast.Name):
                touched.add(self.namer.bar(s.iter.id))
        lo, hi = self.an.loop_span[id(s)]
        inner_only = set()
        for name, defs in self.an.defs.items():
            if defs and all(lo < self.an.pos.get(id(d), -1) < hi for d in defs) and name not in self.ssa.phis:
                inner_only.add(self.namer.bar(name))
        for b in touched:
            if b in inner_only and self.st(b) == NONE:
                continue
            self.status[b] = MAYBE
        body = []
        st_entry = dict(self.status)
        k = self.fresh("_k")
        rng_var = self.range_iter(s)
        if rng_var is not None:
            self.range_loops[s.target.id] = (rng_var, k)
        self.bwd_block(s.body, body)
        if isinstance(s, ast.For):
            item = s.target.id
            if self.an.wants(s.target) or self.target_kind(s.iter) is not None:
                b = self.namer.bar(item)
                if b in self.bar_names and self.st(b) != NONE:
                    c = self.fresh("_c")
                    itvar = self.make("_it", s)
                    self.iter_vars[id(s)] = itvar
                    body.append(assign(c, call(self.helper("iter_acc"), self.ctx(), N(itvar), N(k), self.read_bar(b))))
                    self.status[b] = MAYBE
                    self.acc(s.iter, N(c), body)
                    body.append(assign(b, C(None)))
                    self.status[b] = NONE
        # every bar touched in the body may be set after the loop
        for b in set(self.status) | set(st_entry):
            if self.status.get(b, NONE) != st_entry.get(b, NONE):
                self.status[b] = MAYBE
                self.init.add(b)
        if not body:
            self.loop_info.pop(id(s), None)
            return
        if isinstance(s, ast.For):
            rng = call(self.helper("range"), binop(N(count), ast.Sub(), C(1)), C(-1), C(-1))
            out.append(ast.For(S(k), rng, body, [], None))
        else:
            out.append(ast.For(S(k), call(self.helper("range"), N(count)), body, [], None))

    # try / with
    def bwd_try(self, s, out):
        info = self.try_info[id(s)]
        st0 = dict(self.status)
        code = []
        if isinstance(s, ast.Try):
            fin = []
            self.bwd_block(s.finalbody, fin)
            code += fin
            st_after_fin = dict(self.status)
            branches = []
            eb = []
            self.bwd_block(s.orelse, eb)
            handler = N(info["handler"])
            branches.append((ast.Compare(handler, [ast.Eq()], [C(0)]), eb, dict(self.status)))
            for i, h in enumerate(s.handlers, 1):
                self.status = dict(st_after_fin)
                hb = []
                self.bwd_block(h.body, hb)
                branches.append((ast.Compare(N(info["handler"]), [ast.Eq()], [C(i)]), hb, dict(self.status)))
            self.status = dict(st_after_fin)
            for _, _, stb in branches:
                self.merge_status(stb)
            chain = []
            for test, block, _ in reversed(branches):
                if block:
                    chain = [if_(test, block, chain)]
            code += chain
        if isinstance(s, ast.With):
            # the managers' exits ran last (the last one's first): their pullbacks run first
            for w in info["managers"]:
                code.append(ast.Expr(call(self.helper("with_exit_back"), self.ctx(), N(w))))
        body = []
        self.bwd_block(s.body, body)
        code += body
        if isinstance(s, ast.With):
            for item, w in reversed(list(zip(s.items, info["managers"]))):
                bar = C(None)
                if item.optional_vars is not None:
                    b = self.namer.bar(item.optional_vars.id)
                    if b in self.bar_names and self.st(b) != NONE:
                        bar = self.read_bar(b)
                code.append(ast.Expr(call(self.helper("with_enter_back"), self.ctx(), N(w), bar)))
        self.merge_status(st0)
        if info["region"] is s and info["deferred"] and code:
            locals_ = [local for _, local in info["deferred"]]
            code.insert(0, ast.Assign([tup([S(x) for x in locals_], store=True)], call(N(self.tape_names[2]))))
        out.extend(code)

    # --- planning: the forward form of each statement ------------------------------------------
    def plan(self, stmts):
        for s in stmts:
            if isinstance(s, ast.Assign):
                self.forms[id(s)] = self.form_of(s)
            elif isinstance(s, ast.Delete):
                t = s.targets[0]
                if isinstance(t, (ast.Attribute, ast.Subscript)):
                    self.forms[id(s)] = Form("delete", self.make("_del_pb", s), True)
                    self.has_effects = True
            for block in child_blocks(s):
                self.plan(block)

    def form_of(self, s):
        an = self.an
        target = s.targets[0]
        v = s.value
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            self.has_effects = True
            return Form("set", self.make("_set_pb", s), True)
        if isinstance(target, (ast.Tuple, ast.List)):
            return Form("unpack")
        name = target.id
        if an.is_cell(name):
            self.has_effects = True
            form = self._rhs_form(s, name, v, True)
            form.extra["cell"] = self.make(f"_{name.strip('_')}_cellpb", s)
            form.effect = True
            return form
        return self._rhs_form(s, name, v, an.wants(target))

    def _rhs_form(self, s, name, v, wanted):
        an = self.an
        if isinstance(v, (ast.Name, ast.Constant)):
            return Form("copy") if wanted else Form("plain")
        if isinstance(v, ast.BinOp):
            inplace = getattr(v, "dpnb_inplace", None)
            if type(v.op) in _BITWISE and self._maybe_user(v.left, v.right):
                # `a | b` of dicts merges them; a class's `__or__`, `__and__`, ... (a `Counter`'s) is
                # the user's code: ints, sets and boolean arrays carry no gradient, and run as
                # written where nothing needs one
                op = _BITWISE[type(v.op)]
                slots = {"shape": "call", "nbars": 3, "slots": [(1, v.left), (2, v.right)]}
                if inplace == "name":
                    self.has_effects = True
                    return Form("helper", self.make(f"{name}_pb", s), True, dict(slots, op="i" + op))
                if inplace is None and wanted:
                    return Form("helper", self.make(f"{name}_pb", s), False, dict(slots, op=op))
                return Form("plain")
            if type(v.op) not in _BINOP:
                return Form("plain")
            nl, nr = self.num(v.left), self.num(v.right)
            if (nl or nr) and not isinstance(v.op, ast.MatMult) and (nl or self.an.plain_int(v.left)) and (nr or self.an.plain_int(v.right)):
                if not wanted:
                    return Form("plain")
                return Form("inline_binop")
            if inplace and not nl:
                self.has_effects = True
                return Form("helper", self.make(f"{name}_pb", s), True, {"shape": "call", "nbars": 3, "slots": [(1, v.left), (2, v.right)], "op": "i" + _BINOP[type(v.op)]})
            if not wanted and not self._maybe_user(v.left, v.right):
                return Form("plain")
            op = _BINOP[type(v.op)]
            wl, wr = self.wants(v.left), self.wants(v.right)
            if wl != wr and op in _NEED_VARIANTS:
                op += "_left" if wl else "_right"
            extra = {"shape": "call", "nbars": 3, "slots": [(1, v.left), (2, v.right)], "op": op}
            return Form("helper", self.make(f"{name}_pb", s), False, self._user_operands(extra, wanted, v.left, v.right))
        if isinstance(v, ast.UnaryOp):
            if isinstance(v.op, ast.Not) and self._maybe_object(v.operand):
                # `not a`: its class's `__bool__` or `__len__` may be the user's code (`runtime.truth`)
                return self._implicit(s, name, "not_", v.operand)
            if isinstance(v.op, ast.Invert) and self._maybe_object(v.operand):
                # `~a`: its class's `__invert__` may be the user's code, whose result may carry
                # gradients (ints and boolean arrays give none)
                extra = {"shape": "call", "nbars": 2, "slots": [(1, v.operand)], "op": "invert", "always": True}
                if wanted:
                    extra["deep"] = True
                return Form("helper", self.make(f"{name}_pb", s), False, extra)
            if type(v.op) not in _UNARY:
                return Form("plain")
            if not wanted and not self._maybe_user(v.operand):
                return Form("plain")
            if self.num(v.operand):
                return Form("inline_unop")
            extra = {"shape": "call", "nbars": 2, "slots": [(1, v.operand)], "op": _UNARY[type(v.op)]}
            return Form("helper", self.make(f"{name}_pb", s), False, self._user_operands(extra, wanted, v.operand))
        if isinstance(v, ast.Compare):
            if len(v.ops) == 1 and type(v.ops[0]) in _COMPARE and self._maybe_user(v.left, v.comparators[0]):
                # an operand may be an object of the user's, whose comparison method is the
                # user's code: run as such, its pullback run though a bool has no cotangent
                extra = {"shape": "call", "nbars": 3, "slots": [(1, v.left), (2, v.comparators[0])],
                         "op": _COMPARE[type(v.ops[0])], "always": True}
                if wanted:
                    extra["deep"] = True  # (a result that is an object: its cotangent in the heap)
                return Form("helper", self.make(f"{name}_pb", s), False, extra)
            if len(v.ops) == 1 and type(v.ops[0]) in (ast.In, ast.NotIn) and self._maybe_object(v.comparators[0]):
                # `x in a`: `a`'s class's `__contains__` may be the user's code, run as such
                extra = {"shape": "call", "nbars": 3, "slots": [(1, v.left), (2, v.comparators[0])],
                         "op": "contains" if isinstance(v.ops[0], ast.In) else "not_in", "always": True}
                return Form("helper", self.make(f"{name}_pb", s), False, extra)
            return Form("plain")
        if isinstance(v, ast.Attribute):
            if an.static_value(v)[0] or not (wanted or self._maybe_object(v.value)):
                return Form("plain")
            extra = {"shape": "single", "nbars": None, "obj": v.value, "op": "getattr"}
            if not wanted:
                extra["unread"] = True  # (read for the property's or `__getattr__`'s own effects)
            return Form("helper", self.make(f"{name}_pb", s), False, self._user_operands(extra, wanted, v.value))
        if isinstance(v, ast.Subscript):
            if not (wanted or self._maybe_object(v.value)):
                return Form("plain")
            keys = _key_atoms(v.slice)
            if wanted and keys is not None and any(self.wants(k) for k in keys):
                # a key that carries gradients (np.r_[a, b]): its cotangent goes back too
                slots = [(1, v.value)] + [(i + 2, k) for i, k in enumerate(keys)]
                extra = {"shape": "call", "nbars": len(keys) + 2, "slots": slots, "op": "getitem_key"}
                if any(map(self._maybe_object, keys)):
                    extra["always"] = True  # (a key's `__index__` may be the user's code)
                return Form("helper", self.make(f"{name}_pb", s), False, extra)
            extra = {"shape": "single", "nbars": None, "obj": v.value, "op": "getitem"}
            if not wanted:
                extra["unread"] = True  # (read for `__getitem__`'s own effects)
            elif keys is not None and any(map(self._maybe_object, keys)):
                extra["always"] = True  # (a key's `__index__` may be the user's code)
            return Form("helper", self.make(f"{name}_pb", s), False, self._user_operands(extra, wanted, v.value))
        if isinstance(v, ast.Call):
            return self.call_form(s, name, v, wanted)
        if isinstance(v, (ast.Tuple, ast.List, ast.Dict, ast.Set)):
            return Form("literal") if wanted else Form("plain")
        if isinstance(v, ast.Lambda):
            return Form("lambda") if wanted else Form("plain")
        return Form("plain")

    def _maybe_user(self, *operands):
        """Whether an operand may be an object of the user's (a name that is not a number): its
        class's operator is the user's code, which may change what the gradient follows even
        where its result is not needed."""
        return any(isinstance(a, ast.Name) and not self.num(a) for a in operands)

    def _maybe_object(self, a):
        """Whether atom `a` may be an object whose class Python calls implicitly (`__bool__`,
        `__len__`, `__contains__`, a property, `__getitem__`): a name of no known kind."""
        return isinstance(a, ast.Name) and self.an.atom_kind(a) == "any" and a.id not in self.an.bool_vars

    def _implicit(self, s, name, op, operand):
        """The form of `t = op(operand)`, a call Python makes of a class's method implicitly (a
        test's truth, `not`, `len`): run by the helper `op`, as the user's code where the class
        is the user's, its pullback run though its result (a bool or an int) has no cotangent."""
        extra = {"shape": "call", "nbars": 2, "slots": [(1, operand)], "op": op, "always": True}
        return Form("helper", self.make(f"{name}_pb", s), False, extra)

    def _user_operands(self, extra, wanted, *operands):
        """`extra`, for an operation whose operand may be an object of the user's, whose operator,
        `__getitem__`, property or `__getattr__` is the user's code. Its result may be a new
        object whose cotangent waits in the heap under what it holds (a list or an array field),
        not under the object itself: collected from there (`deep`). And where the result is not
        needed, its pullback still runs (`always`): what the method changed is followed."""
        if self._maybe_user(*operands):
            extra["deep" if wanted else "always"] = True
        return extra

    def call_form(self, s, name, v, wanted):
        an = self.an
        func = v.func
        kw = bool(v.keywords)
        method = isinstance(func, ast.Attribute) and not an.static_value(func)[0]
        if not method and not kw and len(v.args) == 1 and self._maybe_object(v.args[0]):
            # a test's truth, `bool(a)`, `len(a)`: the class's method Python calls may be the user's
            f = an.callee_value(func)  # (a test's `__dpnb_truth__` is `bool`)
            op = _IMPLICIT_CALLS.get(f) if _hashable(f) else None
            if op is not None:
                return self._implicit(s, name, op, v.args[0])
        pure = an.callee_is_pure(v) and not method and not getattr(v, "dpnb_out", False)
        if not wanted and pure:
            return Form("plain")
        if pure and an.callee_is_constant(v):
            return Form("plain")
        effect = not pure
        if effect:
            self.has_effects = True
        pb = self.make(f"{name}_pb", s)
        if method:
            sup = getattr(func, "dpnb_super", None)
            if kw:
                return Form("helper", pb, effect, {"shape": "call", "nbars": 3, "slots": [(0, func.value), (1, v.args[0].value), (2, v.keywords[0].value)], "op": "callmethod_super_kw" if sup is not None else "callmethod_kw"})
            slots = [(0, func.value)] + [(i + 1, a) for i, a in enumerate(v.args)]
            extra = {"shape": "call", "nbars": len(v.args) + 1, "slots": slots, "op": "callmethod_super" if sup is not None else "callmethod"}
            if sup is None and func.attr == "append" and len(v.args) == 1:
                extra["append"] = True  # a list's append takes a short way (see bwd_helper)
            return Form("helper", pb, effect, extra)
        if kw:
            return Form("helper", pb, effect, {"shape": "call", "nbars": 3, "slots": [(0, func), (1, v.args[0].value), (2, v.keywords[0].value)], "op": "call_kw"})
        slots = [(0, func)] + [(i + 1, a) for i, a in enumerate(v.args)]
        if an.is_self_call(v):
            return Form("self_call", pb, effect, {"shape": "call", "nbars": len(v.args) + 1, "slots": slots})
        rule = self.inline_rule(v)
        if rule is not None and wanted:
            fvar = self.make("_f", s)
            return Form("inline_rule", pb, False, {"rule": rule, "fvar": fvar, "inl": self.helper(("inl", rule.f))})
        return Form("helper", pb, effect, {"shape": "call", "nbars": len(v.args) + 1, "slots": slots, "op": "call"})

    def inline_rule(self, v):
        f = self.an.callee_value(v.func)
        if f is None or not _hashable(f) or v.keywords:
            return None
        r = registry.lookup(f)  # first, as it registers the rules of `f`'s domain if they wait
        if r is None or r is registry.CONSTANT:
            return None
        rule = registry.SCALAR_RULES.get(f)
        if rule is None or len(rule.argnames) != len(v.args):
            return None
        if not all(self.num(a) for a in v.args):
            return None
        self.inline_deps.add(f)
        return rule

    # --- the forward pass ------------------------------------------------------------------
    def fwd_block(self, stmts):
        out = []
        for s in stmts:
            self.fwd_stmt(s, out)
        return out

    def fwd_stmt(self, s, out):
        start = len(out)
        if isinstance(s, ast.Assign):
            self.fwd_assign(s, out)
        elif isinstance(s, ast.If):
            b1 = self.fwd_block(s.body)
            b2 = self.fwd_block(s.orelse)
            flag = self.if_flags.get(id(s))
            if isinstance(flag, str) and flag in self.created:
                b1.insert(0, assign(flag, C(True)))
                b2.insert(0, assign(flag, C(False)))
            out.append(copy_location(if_(s.test, b1, b2), s))
        elif isinstance(s, (ast.For, ast.While)):
            body = self.fwd_block(s.body)
            count = self.loop_info.get(id(s))
            if count is not None:
                out.append(assign(count, C(0)))
                body.insert(0, ast.AugAssign(S(count), ast.Add(), C(1)))
            if isinstance(s, ast.For):
                it = s.iter
                itvar = self.iter_vars.get(id(s))
                if itvar is not None:
                    out.append(copy_location(assign(itvar, call(self.helper("iterable"), it)), s))
                    it = N(itvar)
                node = ast.For(s.target, it, body or [ast.Pass()], [], None)
            else:
                node = ast.While(s.test, body or [ast.Pass()], [])
            out.append(copy_location(node, s))
        elif isinstance(s, (ListBuild, DictBuild)):
            empty = ast.List([], LOAD) if isinstance(s, ListBuild) else ast.Dict([], [])
            out.append(copy_location(assign(s.target.id, empty), s))
            out.extend(self.fwd_block(s.body))
        elif isinstance(s, Append):
            m = attr(copy_tree(s.target), "append")
            out.append(copy_location(ast.Expr(call(m, s.value)), s))
        elif isinstance(s, SetKey):
            tgt = ast.Subscript(copy_tree(s.target), s.key, STORE)
            out.append(copy_location(ast.Assign([tgt], s.value), s))
        elif isinstance(s, (ast.Try, ast.With)):
            self.fwd_try(s, out)
        elif isinstance(s, ast.Delete):
            form = self.forms.get(id(s))
            t = s.targets[0]
            if form is None:
                if isinstance(t, ast.Name):
                    pass
                else:
                    out.append(s)
            elif isinstance(t, ast.Attribute):
                out.append(copy_location(assign(form.pb, call(self.helper("delattr"), self.ctx(), t.value, C(t.attr))), s))
            else:
                out.append(copy_location(assign(form.pb, call(self.helper("delitem"), self.ctx(), t.value, _index_expr(t.slice, self.helper("slice")))), s))
        elif isinstance(s, Native):
            out.append(s.stmt)
        elif isinstance(s, ast.Return):
            pass  # emitted by run()
        else:
            out.append(s)
        self.after(s, out)
        mark = getattr(s, "dpnb_loopmark", None)
        if mark is not None and mark[0] is not None:
            out.insert(start, assign(mark[0], C(mark[1])))
            out.append(assign(mark[0], C(0)))
        info = getattr(s, "dpnb_progress", None)
        if info is not None:
            out.append(assign(info[0], C(info[1])))

    def after(self, s, out):
        for name, mode, local in self.saves.get(id(s), ()):
            if mode == "tape":
                out.append(ast.Expr(call(N(self.tape_names[1]), N(name))))
            else:
                out.append(assign(local, N(name)))

    def fwd_assign(self, s, out):
        form = self.forms.get(id(s))
        target = s.targets[0]
        v = s.value
        if isinstance(target, ast.Attribute):
            node = assign(form.pb, call(self.helper("setattr"), self.ctx(), target.value, C(target.attr), v))
            out.append(copy_location(node, s))
            return
        if isinstance(target, ast.Subscript):
            node = assign(form.pb, call(self.helper("setitem"), self.ctx(), target.value, _index_expr(target.slice, self.helper("slice")), v))
            out.append(copy_location(node, s))
            return
        if form is None or (form.kind in ("plain", "copy", "inline_binop", "inline_unop", "literal", "lambda", "unpack") and form.extra.get("cell") is None):
            if form is not None and form.kind == "plain" and type(v) is ast.Call and type(v.func) is ast.Name and v.func.id == TRUTH:
                # a test of a bool or a number: the test takes the value itself, as written
                s = copy_location(assign(target.id, v.args[0]), s)
            out.append(s)
            return
        t = target.id
        if form.extra.get("cell") is not None:
            out.append(copy_location(assign(form.extra["cell"], call(self.helper("cell_prepare"), self.ctx(), self.cell_object(t))), s))
            if form.kind in ("plain", "copy", "inline_binop", "inline_unop", "literal", "lambda"):
                out.append(s)
                return
        if form.kind == "inline_rule":
            fvar = form.extra["fvar"]
            out.append(copy_location(assign(fvar, v.func), s))
            fast = [assign(t, ast.Call(N(fvar), v.args, [])), assign(form.pb, C(None))]
            slow = ast.Assign([tup([S(t), S(form.pb)], store=True)], call(self.helper("call_num"), N(fvar), *v.args))
            node = if_(ast.Compare(N(fvar), [ast.Is()], [N(form.extra["inl"])]), fast, [slow])
            out.append(copy_location(node, s))
            for n in walk(node):
                copy_location(n, s)
            return
        if form.kind == "helper" and form.extra.get("op") == "call" and not isinstance(v.func, ast.Attribute):
            # a call through the compiled adjoint itself: one frame per frame of the user's code
            fn = self.fresh("_fn")
            out.append(copy_location(assign(fn, call(self.helper("resolve"), v.func, *v.args)), s))
            node = ast.Assign([tup([S(t), S(form.pb)], store=True)], ast.Call(N(fn), list(v.args), []))
            out.append(copy_location(node, s))
            return
        rhs = self.helper_call(s, form, v)
        node = ast.Assign([tup([S(t), S(form.pb)], store=True)], rhs)
        out.append(copy_location(node, s))

    def helper_call(self, s, form, v):
        if form.kind == "self_call":
            me = self.helper(("me", self.an.code))
            return ifexp(
                ast.Compare(copy_tree(v.func), [ast.Is()], [N(me)]),
                call(self.forward_name, *[copy_tree(a) for a in v.args]),
                call(self.helper("call"), v.func, *v.args),
            )
        op = form.extra["op"]
        if op in _IMPLICIT_OPS and isinstance(v, ast.Call):
            return call(self.helper(op), v.args[0])
        if isinstance(v, ast.BinOp):
            return call(self.helper(op), v.left, v.right)
        if isinstance(v, ast.Compare):
            return call(self.helper(op), v.left, v.comparators[0])
        if isinstance(v, ast.UnaryOp):
            return call(self.helper(op), v.operand)
        if isinstance(v, ast.Attribute):
            return call(self.helper("getattr"), v.value, C(v.attr))
        if isinstance(v, ast.Subscript):
            if op == "getitem_key":
                keys = _key_atoms(v.slice)
                return call(self.helper("getitem_key"), v.value, C(isinstance(v.slice, ast.Tuple)), *keys)
            return call(self.helper("getitem"), v.value, _index_expr(v.slice, self.helper("slice")))
        func = v.func
        if form.extra.get("append"):
            return call(self.helper("append"), func.value, *v.args)
        if op in ("callmethod", "callmethod_super"):
            args = [func.value, C(func.attr)] + list(v.args)
            if op == "callmethod_super":
                args = [func.dpnb_super] + args
            return call(self.helper(op), *args)
        if op in ("callmethod_kw", "callmethod_super_kw"):
            args = [func.value, C(func.attr), v.args[0].value, v.keywords[0].value]
            if op == "callmethod_super_kw":
                args = [func.dpnb_super] + args
            return call(self.helper(op), *args)
        if op == "call_kw":
            return call(self.helper("call_kw"), func, v.args[0].value, v.keywords[0].value)
        return call(self.helper("call"), func, *v.args)

    def fwd_try(self, s, out):
        info = self.try_info[id(s)]
        is_region = info["region"] is s
        if is_region:
            for var, value in info["init"]:
                out.append(assign(var, C(value)))
            if info["loops"] is not None:
                out.append(assign(info["loops"], C(0)))
        calling = [] if isinstance(s, ast.With) else [any(type(n) is ast.Call for n in walk(st)) for st in s.body]
        mark = self.namer.fresh("_changes") if any(calling) else None
        if mark is None:
            body = self.fwd_block(s.body)
        else:
            # how many changes the forward pass had made when the body's last statement that calls
            # something began: a handler refuses an exception that a function called there raised
            # after it made changes (they were the callee's pullback's to send back, and it never
            # returned one); changes the try's own statements make are followed
            out.append(assign(mark, call(self.helper("changes_made"), self.ctx())))
            body = []
            for st, calls in zip(s.body, calling):
                if calls:
                    body.append(assign(mark, call(self.helper("changes_made"), self.ctx())))
                self.fwd_stmt(st, body)
        if isinstance(s, ast.With):
            items = []
            for item, w in zip(s.items, info["managers"]):
                out.append(copy_location(assign(w, call(self.helper("with_manager"), item.context_expr)), s))
                items.append(ast.withitem(N(w), item.optional_vars))
            node = ast.With(items, body or [ast.Pass()], None)
            out.append(copy_location(node, s))
            if is_region and info["loops"] is not None:
                out.append(ast.Expr(call(self.helper("check_loop"), N(info["loops"]), C(self.an.filename))))
        else:
            body.append(assign(info["handler"], C(0)))
            handlers = []
            for i, h in enumerate(s.handlers, 1):
                hb = [assign(info["handler"], C(i))]
                if mark is not None:
                    check = call(self.helper("check_caught_changes"), self.ctx(), N(mark), C(self.an.filename), C(h.lineno))
                    hb.append(ast.Expr(check))
                loops = self.try_info[id(info["region"])]["loops"]
                if loops is not None:
                    hb.append(ast.Expr(call(self.helper("check_loop"), N(loops), C(self.an.filename))))
                hb += self.fwd_block(h.body)
                handlers.append(copy_location(ast.ExceptHandler(h.type, h.name, hb), h))
            orelse = self.fwd_block(s.orelse)
            finalbody = self.fwd_block(s.finalbody)
            if not handlers and not finalbody:
                finalbody = [ast.Pass()]
            node = ast.Try(body or [ast.Pass()], handlers, orelse, finalbody)
            out.append(copy_location(node, s))
        if is_region and info["deferred"]:
            out.append(ast.Expr(call(N(self.tape_names[1]), tup([N(src) for src, _ in info["deferred"]]))))

    def where(self, s):
        return f"{self.an.filename}, line {getattr(s, 'lineno', '?')}"

    # --- try/with bookkeeping -----------------------------------------------------------------
    def mark_progress(self, stmts, region=None, in_loop=False):
        """Number the statements of every try/with block, so that the backward pass replays only what ran.

        A *region* is the outermost try/with statement around a statement with no loop in between:
        what the backward pass reads of the statements inside it is saved when the region is over
        (inside a loop) or copied aside (outside), and everything the backward pass reads without a
        guard is given a value before the region starts.
        """
        for s in stmts:
            if isinstance(s, (ast.Try, ast.With)):
                self._mark_try(s, region, in_loop)
            elif isinstance(s, (ast.For, ast.While)):
                self.mark_progress(s.body, None, True)
            elif isinstance(s, ast.If):
                self.mark_progress(s.body, region, in_loop)
                self.mark_progress(s.orelse, region, in_loop)
            elif isinstance(s, (ListBuild, DictBuild)):
                self.mark_progress(s.body, None, in_loop)

    def _mark_try(self, s, region, in_loop):
        r = region if region is not None else s
        info = {"vars": [], "region": r, "in_loop": in_loop, "deferred": [], "init": [], "loops": None}
        self.try_info[id(s)] = info
        if region is None:
            info["loops"] = self.make("_loopmark", s)
        s.dpnb_region = region
        rinfo = self.try_info[id(r)]
        if isinstance(s, ast.Try):
            info["handler"] = self.make("_handler", s)
            rinfo["init"].append((info["handler"], -1))
            blocks = [s.body] + [h.body for h in s.handlers] + [s.orelse, s.finalbody]
        else:
            info["handler"] = None
            blocks = [s.body]
            # each context manager, held for the backward pass: a class's own `__enter__` and
            # `__exit__` run as its code, and their pullbacks run there (`runtime.with_manager`)
            info["managers"] = []
            for _ in s.items:
                w = self.make("_with", s)
                info["managers"].append(w)
                rinfo["init"].append((w, None))
        for block in blocks:
            if not block:
                info["vars"].append(None)
                continue
            var = self.make("_progress", s)
            info["vars"].append(var)
            rinfo["init"].append((var, 0))
            self._number_block(block, var, [0], r)

    def _number_block(self, block, var, counter, region):
        rinfo = self.try_info[id(region)]
        for s in block:
            s.dpnb_region = region
            if isinstance(s, ast.If):
                flag = self.make("_branch", s)
                self.if_flags[id(s)] = flag
                rinfo["init"].append((flag, False))
                self._number_block(s.body, var, counter, region)
                self._number_block(s.orelse, var, counter, region)
            elif isinstance(s, (ast.Try, ast.With)):
                self._mark_try(s, region, rinfo["in_loop"])
            elif isinstance(s, (ast.For, ast.While)):
                counter[0] += 1
                s.dpnb_progress = (var, counter[0])
                s.dpnb_loopmark = (rinfo["loops"], getattr(s, "lineno", 1) or 1)
                self.mark_progress(s.body, None, True)
            else:
                if isinstance(s, (ListBuild, DictBuild)):
                    self.mark_progress(s.body, None, rinfo["in_loop"])
                counter[0] += 1
                s.dpnb_progress = (var, counter[0])

    # --- saving what the backward pass reads ---------------------------------------------------
    def range_iter(self, s):
        """The name of the range() a for loop iterates, when it is made once, before every loop:
        the loop's k-th item is then that range's k-th entry, found again instead of saved."""
        if not isinstance(s, ast.For) or not isinstance(s.iter, ast.Name) or not isinstance(s.target, ast.Name):
            return None
        defs = self.an.defs.get(s.iter.id, ())
        if len(defs) != 1:
            return None
        d = defs[0]
        if not (isinstance(d, ast.Assign) and isinstance(d.value, ast.Call) and self.an.callee_value(d.value.func) is range):
            return None
        if self.an.in_loop(d) or getattr(d, "dpnb_region", None) is not None:
            return None
        return s.iter.id

    def range_item(self, name):
        """(range name, backward loop index) when `name` holds the item of such a loop (its target,
        or a name only ever copied from it)."""
        for _ in range(8):
            if not self.an.is_local(name):
                return None  # a closure variable: its reads go through its cell
            hit = self.range_loops.get(name)
            if hit is not None:
                return hit
            defs = self.an.defs.get(name, ())
            d = defs[0] if len(defs) == 1 else None
            # a copy `name = other` (not a name the emitter made at that statement)
            if not (isinstance(d, ast.Assign) and isinstance(d.value, ast.Name) and isinstance(d.targets[0], ast.Name) and d.targets[0].id == name):
                return None
            name = d.value.id
        return None

    def restore(self, s, code, pre):
        """Make the forward names read by `code` (the backward of `s`) safe to read."""
        forward = set()
        for stmt in code:
            for n in name_nodes(stmt):
                if isinstance(n.ctx, ast.Load):
                    forward.add(n.id)
        region = getattr(s, "dpnb_region", None)
        rinfo = self.try_info.get(id(region)) if region is not None else None
        names = []
        for name in sorted(forward):
            if name in self.bar_names or name == self.seed:
                continue
            if name not in self.an.defs and name not in self.created:
                continue
            if self.an.defined_inside(name, s):
                continue  # read by an inner statement, which saved it already
            mode = self.an.saved_kind(name, s)
            if rinfo is not None and self._defined_in_region(name, region):
                mode = "region" if rinfo["in_loop"] else ("snapshot" if mode else None)
            if mode is None:
                continue
            names.append((name, mode))
        if not names:
            return
        code[:] = [copy_tree(c) for c in code]
        mapping = {}
        saves = self.saves.setdefault(id(s), [])
        items = {}
        for name, mode in names:
            hit = self.range_item(name) if mode == "tape" else None
            if hit is not None:
                items[name] = ast.Subscript(N(hit[0]), N(hit[1]), LOAD)
                continue
            if mode == "tape":
                local = self.namer.fresh(name.strip("_") + "_" if not name.startswith("_t") else name + "_")
                self.uses_tape = True
                saves.append((name, "tape", local))
            elif mode == "snapshot":
                local = self.namer.fresh(f"_{name.strip('_')}_")
                saves.append((name, "snapshot", local))
                if rinfo is not None:
                    rinfo["init"].append((local, None))
            else:
                local = self._region_local(rinfo, name, s)
            mapping[name] = local
        for name, mode, local in reversed([x for x in saves if x[1] == "tape"]):
            pre.append(assign(local, call(N(self.tape_names[2]))))
        for stmt in code:
            for n in name_nodes(stmt):
                if isinstance(n.ctx, ast.Load) and n.id in mapping:
                    n.id = mapping[n.id]
        if items:
            sub = _ItemReads(items)
            code[:] = [sub.visit(stmt) for stmt in code]

    def _defined_in_region(self, name, region):
        defs = self.an.defs.get(name, ())
        return any(getattr(d, "dpnb_region", None) is region or d is region for d in defs)

    def _region_local(self, rinfo, name, s):
        """A value read by the backward pass of a statement inside a try region that is inside a loop:
        copied aside after the statement, pushed when the region is over."""
        for n, local in rinfo["deferred"]:
            if n == name and (name not in self.ssa.multi or name.startswith(_CONTROL)):
                return local
        if name.startswith(_CONTROL) and name in self.created:
            # how far the region got (and which branches it took): read when the region is over,
            # however it was left (a copy made after the statement would miss an exception)
            source = name
        elif name in self.ssa.multi or name in self.created:
            snap = self.namer.fresh(f"_{name.strip('_')}_")
            self.saves.setdefault(id(s), []).append((name, "snapshot", snap))
            rinfo["init"].append((snap, None))
            source = snap
        else:
            source = name
            rinfo["init"].append((name, None))
        local = self.namer.fresh(f"{source.strip('_')}_r")
        rinfo["deferred"].append((source, local))
        self.uses_tape = True
        return local

    # --- the whole function ----------------------------------------------------------------------
    def run(self):
        fdef = self.fdef
        body = fdef.body
        ret = body[-1]
        assert isinstance(ret, ast.Return)
        body = body[:-1]
        self.builds = []
        self.plan(body)
        self.mark_progress(body)
        pb_name = self.namer.exact(f"{fdef.name.strip('_') or 'f'}_pullback")
        self.pullback_name = pb_name

        bwd = []
        seed_code = []
        ret_atom = ret.value
        tk = self.target_kind(ret_atom)
        if tk is not None:
            # the seed is None when no cotangent reached the result; the pullback still runs then
            # when it has effects to undo or objects whose cotangents wait in the heap
            seed_may_be_none = self.has_effects or any(k not in ("real", "num", "const") for k in self.an.kind.values())
            self.acc(ret_atom, N(self.seed), seed_code, MAYBE if seed_may_be_none else SET)
        self.bwd_block(body, bwd)
        results = self.result_tuple()
        bwd = seed_code + bwd
        if self.has_effects or tk in ("cell", "leaf") or (tk == "local" and not self.num(ret_atom)):
            pass
        inits = sorted(b for b in self.init if b != self.seed)
        head = []
        if inits:
            target = [S(b) for b in inits]
            node = ast.Assign(target, C(None))
            head.append(node)
        if not self.has_effects and not self.uses_ctx:
            # nothing waits in the heap for this call: no cotangent, nothing to do
            head.insert(0, if_(is_none(N(self.seed)), [ast.Return(call(self.helper("nones"), C(len(self.an.params) + 1)))]))
        if self.uses_tape:
            # the tape read from its end (a pullback may run more than once: the tape stays as it is)
            head.insert(0, assign(self.tape_names[2], call(self.helper("tape_reader"), N(self.tape_names[0]))))
        pbody = head + bwd + [ast.Return(results)]
        pullback = ast.FunctionDef(
            name=pb_name,
            args=ast.arguments(posonlyargs=[], args=[ast.arg(self.seed)], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
            body=pbody,
            decorator_list=[],
            returns=None,
            type_comment=None,
        )
        tidy.propagate_copies(pullback)
        objects = {v for v, k in self.an.kind.items() if k == "any"}  # arrays may pass through these
        if objects:
            # free each cotangent once it has been passed on
            numbers = {self.namer.bar(v) for v, k in self.an.kind.items() if k != "any"}
            stored = {n.id for n in name_nodes(pullback) if isinstance(n.ctx, ast.Store)}
            tidy.release_dead(pullback, stored - numbers)
        fwd = self.fwd_block(body)
        # `nonlocal` must come before any use of the name, the prologue's included
        declarations = [st for st in fwd if isinstance(st, ast.Nonlocal)]
        fwd = [st for st in fwd if not isinstance(st, ast.Nonlocal)]
        prologue = list(declarations)
        if self.uses_ctx:
            prologue.append(assign(self.ctx_name, call(self.helper("current"))))
        for var, obj in self.cell_objects.items():
            prologue.append(assign(obj, ast.Subscript(attr(ast.Lambda(args=_no_args(), body=N(var)), "__closure__"), C(0), LOAD)))
        if self.uses_tape:
            prologue.append(assign(self.tape_names[0], ast.List([], LOAD)))
            prologue.append(assign(self.tape_names[1], attr(N(self.tape_names[0]), "append")))
        unbound = sorted(self.ssa.unbound)
        if unbound:
            # joins whose value may not exist on every path start as "unbound" (reading one raises
            # UnboundLocalError, as reading the user's variable would)
            for i in range(0, len(unbound), 20):
                chunk = unbound[i : i + 20]
                prologue.append(ast.Assign([S(n) for n in chunk], call(self.helper("unbound"), C(self.ssa.original.get(chunk[0], chunk[0])))))
        fwd = prologue + fwd
        if objects:
            if self.uses_ctx:
                self.weaken(fwd, pullback, ret.value)
            # and the forward pass lets go of an array once nothing further needs it
            whole = ast.FunctionDef(name=fdef.name, args=fdef.args, body=fwd + [pullback, ast.Return(ret.value)], decorator_list=[], returns=None, type_comment=None)
            fwd = tidy.release_dead(whole, objects - set(self.an.params)).body[:-2]
        fwd.append(pullback)
        fwd.append(copy_location(ast.Return(tup([ret.value, N(pb_name)])), ret))
        new = ast.FunctionDef(name=fdef.name, args=fdef.args, body=fwd, decorator_list=[], returns=None, type_comment=None)
        copy_location(new, fdef)
        return new

    def weaken(self, fwd, pullback, ret_value):
        """A value the pullback reads only to find its cotangent in the heap (`_take`, `_acc`) is
        kept by a weak reference when it is an array that owns its memory (`heap.weak`): an
        intermediate no rule's pullback needs is then freed when the forward pass returns, as in
        code written by hand."""
        heap_ops = {self.helper(k): k for k in ("take", "take_deep", "take_made", "acc")}
        lookups = [
            n for n in walk(pullback)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in heap_ops
            and len(n.args) >= 2 and isinstance(n.args[1], ast.Name)
        ]
        through_heap = {id(n.args[1]) for n in lookups}
        other = {n.id for n in name_nodes(pullback) if isinstance(n.ctx, ast.Load) and id(n) not in through_heap}
        returned = {n.id for n in name_nodes(ret_value)}
        # the names assigned once, outside loops, try and with, in the forward pass's own frame
        sites, stores = {}, {}
        _assignment_sites(fwd, sites)
        for st in fwd:
            for m in walk(st):
                if isinstance(m, ast.Name) and not isinstance(m.ctx, ast.Load):
                    stores[m.id] = stores.get(m.id, 0) + 1
                elif isinstance(m, (ast.Nonlocal, ast.Global)):
                    stores.update(dict.fromkeys(m.names, 2))
        refs = {}
        for name in sorted({n.args[1].id for n in lookups}):
            if name in sites and stores.get(name) == 1 and self.an.kind.get(name) == "any" and name not in other \
                    and name not in returned and name not in self.an.params:
                refs[name] = ref = self.fresh(f"{name}_w")
                stmts, st = sites[name]
                stmts.insert(stmts.index(st) + 1, assign(ref, call(self.helper("weak"), N(name))))
        for n in lookups:
            if n.args[1].id in refs:
                n.func = N(self.helper(heap_ops[n.func.id] + "_ref"))
                n.args[1] = N(refs[n.args[1].id])

    def result_tuple(self):
        elts = [C(None)]
        an = self.an
        a = self.fdef.args
        kwarg = a.kwarg.arg if a.kwarg else None
        for p in an.params:
            atom = ast.Name(p, LOAD)
            b = self.namer.bar(p)
            if an.is_cell(p):
                # a **kwargs dict in a closure variable: its cotangent is in the heap too (see below)
                take = "cell_take_made" if p == kwarg else "cell_take"
                elts.append(call(self.helper(take), self.ctx(), self.cell_object(p)))
                continue
            if p == kwarg:
                # **kwargs: a dict made by the call, whose cotangent is in the heap
                cur = self.read_bar(b) if b in self.bar_names and self.st(b) != NONE else C(None)
                elts.append(call(self.helper("take"), self.ctx(), atom, cur))
                continue
            if b in self.bar_names and self.st(b) != NONE and an.wants(atom):
                elts.append(self.read_bar(b))
            else:
                elts.append(C(None))
        return tup(elts)


class _ItemReads(ast.NodeTransformer):
    """Reads of a range loop's item become `range[k]` in the backward pass."""

    def __init__(self, items):
        self.items = items

    def visit_Name(self, node):
        e = self.items.get(node.id) if isinstance(node.ctx, ast.Load) else None
        return copy_tree(e) if e is not None else node


def _cheap_read(expr):
    """A name, or an item of a name at a constant index: read twice at no cost."""
    if isinstance(expr, ast.Name):
        return True
    return isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name) and isinstance(expr.slice, ast.Constant)


def _no_args():
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


#: the emitter's own bookkeeping of try regions: progress counters, branch flags, handler numbers
_CONTROL = ("_progress", "_branch", "_handler")


def _key_atoms(idx):
    """The atoms of a subscript key made only of names and constants (`a`, or `a, b, 3.0`), else None."""
    elts = idx.elts if isinstance(idx, ast.Tuple) else [idx]
    if all(isinstance(e, (ast.Name, ast.Constant)) for e in elts):
        return elts
    return None


def _index_expr(idx, slice_helper):
    if isinstance(idx, ast.Slice):
        return call(slice_helper, idx.lower or C(None), idx.upper or C(None), idx.step or C(None))
    if isinstance(idx, ast.Tuple):
        return ast.Tuple([_index_expr(e, slice_helper) for e in idx.elts], LOAD)
    return idx


def _assignment_sites(stmts, sites):
    """Note in `sites`, for each name the assignments of `stmts` and of the `if` blocks in them
    bind, `(the block, the statement)` of the last one."""
    for st in stmts:
        if isinstance(st, ast.Assign):
            for t in st.targets:
                for m in name_nodes(t):
                    sites[m.id] = (stmts, st)
        elif isinstance(st, ast.If):
            _assignment_sites(st.body, sites)
            _assignment_sites(st.orelse, sites)
