"""Stage 4 — emit: write the forward pass and its pullback as Python.

`Emitter(analysis, namer, helpers, fdef).run()` returns one `FunctionDef`: the
forward pass, with the user's name and arguments, which returns
`(value, <name>_pullback)`. The pullback is a nested function of the cotangent
of the output and returns `(f_bar, *parameter_bars)`.

How the backward pass gets what it needs:

- operands are read straight from the forward frame (the pullback is a closure)
  when nothing reassigns them later; otherwise they are copied to a snapshot
  variable, or, inside loops, pushed on a tape that the pullback pops;
- which branch ran is read back from the branch's own boolean test when it can
  be, otherwise from a flag (on the tape inside loops); loops count iterations;
- cotangents are `None` until something reaches them. On plain numbers the
  chain rule is written inline (`x_bar = 5 * y_bar`); everything else goes
  through a runtime function that returns `(value, pullback)`.
"""
import ast
import copy

from ..rules import registry
from .analyze import free_names_of_function
from .astlib import C, N, S, State, assign, binop, call, is_none_test
from .emit_control import ControlFlowAdjoints
from .emit_objects import ObjectAdjoints
from .normalize import UFUNC_AT, Append, DictBuild, ListBuild, Native, SetKey

_BINOP_HELPER = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "truediv",
    ast.FloorDiv: "floordiv",
    ast.Mod: "mod",
    ast.Pow: "pow",
    ast.MatMult: "matmul",
}
_UNARY_HELPER = {ast.USub: "neg", ast.UAdd: "pos"}
_NEED_HELPERS = {
    "add_left", "add_right", "sub_left", "sub_right", "mul_left", "mul_right",
    "truediv_left", "truediv_right", "pow_left", "matmul_left", "matmul_right",
}


class Emitter(ControlFlowAdjoints, ObjectAdjoints):
    def __init__(self, an, namer, helpers, fdef, scalar_inline=True, forward_name="_dpnb_forward", me=None, ho=False):
        self.ho = ho  # the dialect dpnb can differentiate again: tape operations as list methods
        self.forward_name = forward_name
        self.an = an
        self.namer = namer
        self.h = helpers  # helper key -> generated name
        self.fdef = fdef
        self.scalar_inline = scalar_inline
        self.seed = namer.exact("y_bar")
        self.bwd_names = {self.seed}
        self.fwd_temps = set()
        self.saves = {}  # id(stmt) -> [(fwd_name, snapshot name or None)] pushed/snapshotted after stmt
        self.pb_name = {}  # id(stmt) -> name of the pullback temp in the forward
        self.if_mode = {}  # id(if) -> ('reuse', test) | ('flag', name) | ('push', None)
        self.loop_count = {}  # id(loop) -> count name
        self.uses_tape = False
        self.builds = []  # stack of backward list/dict builders
        self.inline_deps = set()
        self.try_info = {}
        self.try_partial = {}
        self.accepts_none = False
        self.mutates_params = False

    def helper(self, key):
        return self.h(key)

    def push_expr(self, value):
        if self.ho:
            return call(ast.Attribute(value=N(self.helper("tape")), attr="append", ctx=ast.Load()), value)
        return call(self.helper("push"), value)

    def pop_expr(self):
        if self.ho:
            return call(ast.Attribute(value=N(self.helper("tape_copy")), attr="pop", ctx=ast.Load()))
        return call(self.helper("pop"))

    # --- cotangent bookkeeping --------------------------------------------------------
    def canon(self, var):
        name = self.namer.bar(var)
        self.bwd_names.add(name)
        return name

    def dvar(self, base="_d"):
        name = self.namer.fresh(base)
        self.bwd_names.add(name)
        return name

    def wants(self, atom):
        """Does atom receive a cotangent?"""
        if not isinstance(atom, ast.Name):
            return False
        return self.an.differentiated(atom.id)

    def take(self, st, var):
        return st.h.pop(var, None)

    def protect(self, st, g, out):
        """The name of a taken cotangent, moved aside if a write to a canonical name could clobber it."""
        if any(self.canon(u) == g and hv[0] != g for u, hv in st.h.items()):
            tmp = self.dvar()
            out.append(assign(tmp, N(g)))
            return tmp
        return g

    def release(self, st, name, out, busy=()):
        """Move every variable whose cotangent sits in `name` to its own canonical name."""
        for u, (holder, d) in list(st.h.items()):
            if holder == name and self.canon(u) != name:
                if u in busy:
                    tmp = self.dvar()
                    out.append(assign(tmp, N(name)))
                    for w, hv in st.h.items():
                        if hv[0] == name:
                            hv[0] = tmp
                    return
                self.write(st, u, N(name), d, out, busy + (u,))

    def write(self, st, var, value, definite, out, busy=()):
        name = self.canon(var)
        self.release(st, name, out, busy + (var,))
        out.append(assign(name, value))
        st.h[var] = [name, definite]

    def accumulate(self, st, atom, expr, definite, out):
        if not self.wants(atom):
            return
        var = atom.id
        cur = st.h.get(var)
        if cur is None:
            if isinstance(expr, ast.Name) and expr.id in self.bwd_names:
                st.h[var] = [expr.id, definite]
            else:
                self.write(st, var, expr, definite, out)
            return
        holder, d = cur
        num = self.an.kind.get(var) == "num"
        if num and not definite and isinstance(expr, ast.Name):
            # x_bar = x_bar if c is None else x_bar + c   (or c, if x_bar may be None too)
            plus = binop(N(holder), ast.Add(), N(expr.id))
            if not d:
                plus = ast.IfExp(test=is_none_test(holder, negate=True), body=N(expr.id), orelse=plus)
            new = ast.IfExp(test=is_none_test(expr.id, negate=True), body=N(holder), orelse=plus)
            self.write(st, var, new, d, out)
            return
        if d and definite and num:
            new = binop(N(holder), ast.Add(), expr)
        elif definite and self.an.kind.get(var) == "num" and isinstance(expr, (ast.Name, ast.BinOp, ast.UnaryOp)):
            # x_bar = c if x_bar is None else x_bar + c
            if not isinstance(expr, ast.Name):
                tmp = self.dvar()
                out.append(assign(tmp, expr))
                expr = N(tmp)
            new = ast.IfExp(test=is_none_test(holder, negate=True), body=expr, orelse=binop(N(holder), ast.Add(), copy.deepcopy(expr)))
            self.write(st, var, new, True, out)
            return
        else:
            new = call(self.helper("acc"), N(holder), expr)
        self.write(st, var, new, d or definite, out)

    def materialize(self, st, out):
        for var in list(st.h):
            holder, d = st.h[var]
            if holder != self.canon(var):
                self.write(st, var, N(holder), d, out)

    def join(self, st, states_and_blocks):
        """Make several branch states agree; returns the merged state (blocks are patched)."""
        for s, block in states_and_blocks:
            self.materialize(s, block)
        keys = set()
        for s, _ in states_and_blocks:
            keys |= set(s.h)
        merged = {}
        for var in keys:
            entries = [s.h.get(var) for s, _ in states_and_blocks]
            if all(e is not None for e in entries):
                merged[var] = [self.canon(var), all(e[1] for e in entries)]
            else:
                for (s, block), e in zip(states_and_blocks, entries):
                    if e is None:
                        block.append(assign(self.canon(var), C(None)))
                merged[var] = [self.canon(var), False]
        st.h = merged
        return st

    # --- saving what the backward pass reads -------------------------------------------
    def fwd_name(self, name):
        return name in self.an.locals or name in self.fwd_temps

    def _register_assign(self, name, stmt):
        self.an.assigned.setdefault(name, []).append(self.an.pos[id(stmt)])
        self.fwd_temps.add(name)

    def saved(self, stmt, names, pre):
        """Make `names` (read by stmt's adjoint) safe to read; returns a rename map."""
        mapping = {}
        self.saves[id(stmt)] = []
        for name in names:
            if name in mapping or not self.fwd_name(name):
                continue
            if not self.an.reassigned_after(name, stmt):
                continue
            if self.an.in_loop(stmt):
                local = self.dvar(f"{name.lstrip('_')}_" if not name.startswith("_t") else name + "_")
                mapping[name] = local
                self.saves.setdefault(id(stmt), []).append((name, None))
                self.uses_tape = True
            else:
                snap = self.namer.fresh(f"_{name.lstrip('_')}_")
                self.fwd_temps.add(snap)
                mapping[name] = snap
                self.saves.setdefault(id(stmt), []).append((name, snap))
        # pops, in the reverse order of the pushes
        pushes = [n for n, snap in self.saves.get(id(stmt), []) if snap is None and n in mapping]
        for name in reversed(pushes):
            pre.append(assign(mapping[name], self.pop_expr()))
        return mapping

    def rename_fwd(self, stmts, stmt, pre):
        names = []
        for s in stmts:
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in self.bwd_names:
                    names.append(n.id)
        mapping = self.saved(stmt, names, pre)
        if mapping:
            for s in stmts:
                for n in ast.walk(s):
                    if isinstance(n, ast.Name) and n.id in mapping and n.id not in self.bwd_names:
                        n.id = mapping[n.id]
        return stmts

    # --- the backward pass --------------------------------------------------------------
    def bwd_block(self, stmts, st):
        out = []
        for s in reversed(stmts):
            self.bwd_stmt(s, st, out)
        return out

    def bwd_stmt(self, s, st, out):
        if isinstance(s, ast.Assign):
            self.bwd_assign(s, st, out)
        elif isinstance(s, ast.If):
            self.bwd_if(s, st, out)
        elif isinstance(s, (ast.For, ast.While)):
            self.bwd_loop(s, st, out)
        elif isinstance(s, (ListBuild, DictBuild)):
            self.bwd_build(s, st, out)
        elif isinstance(s, (ast.Try, ast.With)):
            self.bwd_try(s, st, out)
        elif isinstance(s, Append):
            lb = self.builds[-1]
            self.accumulate(st, s.value, call(ast.Attribute(value=N(lb), attr="pop", ctx=ast.Load())), False, out)
        elif isinstance(s, Native) and isinstance(s.stmt, ast.FunctionDef):
            cur = self.take(st, s.stmt.name) if self.an.differentiated(s.stmt.name) else None
            if cur is not None:
                g, definite = cur
                body_fn = self.closure_contribs(s.stmt, lambda: N(g))
                if body_fn is not None:
                    block = []
                    self.guarded(st, g, definite, block, body_fn)
                    out.extend(block)
        elif isinstance(s, SetKey):
            db = self.builds[-1]
            pre = []
            expr = call(ast.Attribute(value=N(db), attr="pop", ctx=ast.Load()), copy.deepcopy(s.key), C(None))
            body = []
            self.accumulate(st, s.value, expr, False, body)
            self.rename_fwd(body, s, pre)
            out.extend(pre + body)
        # Native, Return, Break: nothing to do

    def guarded(self, st, g, definite, out, emit_body, test=None):
        """Run emit_body(state, block) under `if g is not None` (or `if test`) unless g is known set."""
        if definite and test is None:
            emit_body(st, out)
            return
        self.materialize(st, out)
        inner = st.copy()
        block = []
        emit_body(inner, block)
        self.materialize(inner, block)
        if not block:
            return
        orelse = []
        for var in list(st.h):
            if var not in inner.h:  # taken inside the block: None there, as it was before otherwise
                block.append(assign(self.canon(var), C(None)))
                inner.h[var] = [self.canon(var), False]
        for var, (holder, d) in inner.h.items():
            if var not in st.h:
                if self.canon(var) != g or test is not None:
                    orelse.append(assign(self.canon(var), C(None)))
                st.h[var] = [self.canon(var), False]
            else:
                st.h[var] = [self.canon(var), st.h[var][1] and d]
        out.append(ast.If(test=test if test is not None else is_none_test(g), body=block, orelse=orelse))

    def bwd_assign(self, s, st, out):
        target = s.targets[0]
        value = s.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Call) and self.is_method(value):
            self.bwd_method_call(s, st, out)
            return
        if isinstance(target, ast.Name) and isinstance(value, ast.Call) and self.deposit_candidates(value):
            self.bwd_python_call(s, st, out)
            return
        if isinstance(target, ast.Name):
            if not self.an.differentiated(target.id):
                return
            cur = self.take(st, target.id)
            if cur is None:
                return
            g, definite = cur
            if isinstance(value, (ast.Name, ast.Constant)):
                self.accumulate(st, value, N(g), definite, out)
                return
            g = self.protect(st, g, out)
            pre, body_fn = self.adjoint_of(s, g)
            if body_fn is None:
                return
            block = []

            def full(st2, blk, pre=pre, body_fn=body_fn):
                blk.extend(pre)
                body_fn(st2, blk)

            self.guarded(st, g, definite, block, full)
            pre = []
            self.rename_fwd(block, s, pre)
            out.extend(pre + block)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.bwd_unpack(s, st, out)
        else:
            self.bwd_mutation(s, st, out)

    def bwd_unpack(self, s, st, out):
        target = s.targets[0]
        bars = []
        star = None
        any_set = False
        for i, e in enumerate(target.elts):
            if isinstance(e, ast.Starred):
                star = i
                e = e.value
            cur = self.take(st, e.id) if self.an.differentiated(e.id) else None
            if cur is not None:
                any_set = True
                bars.append(N(cur[0]))
            else:
                bars.append(C(None))
        if not any_set or not self.wants(s.value):
            return
        expr = call(self.helper("unpack_bar"), copy.deepcopy(s.value), ast.Tuple(elts=bars, ctx=ast.Load()), C(star))
        block = []
        self.accumulate(st, s.value, expr, False, block)
        pre = []
        self.rename_fwd(block, s, pre)
        out.extend(pre + block)

    def adjoint_of(self, s, g):
        """-> (pre statements, body_fn(state, block)) for `t = <rhs>` with cotangent in name g."""
        v = s.value
        t = s.targets[0].id
        G = lambda: N(g)  # noqa: E731

        def contribs(pairs):
            def body(st, block):
                self.apply_contribs(st, g, pairs, block)

            return body

        def unpacked(pb, n_out, atoms, always=False):
            """`_, a_c, b_c = pb(g)` then accumulate each."""
            names, pairs = self.receivers(atoms)
            if not pairs:
                if always:
                    # the callee's pullback may still account cotangents of globals it read (Params)
                    return [ast.Expr(value=call(N(pb), G()))], lambda st, block: None
                return [], None
            lhs = ast.Tuple(elts=names, ctx=ast.Store()) if n_out > 1 else names[0]
            pre = [ast.Assign(targets=[lhs], value=call(N(pb), G()))]
            return pre, contribs(pairs)

        if isinstance(v, (ast.Name, ast.Constant)):
            return [], contribs([(v, G(), True)])
        if isinstance(v, ast.BinOp):
            if self.num_op(s):
                return [], contribs(self.num_binop(v, t, G))
            pb = self.pb_name[id(s)]
            return unpacked(pb, 3, [None, v.left, v.right])
        if isinstance(v, ast.UnaryOp):
            if isinstance(v.op, (ast.Not, ast.Invert)):
                return [], None
            if self.num_op(s):
                e = G() if isinstance(v.op, ast.UAdd) else ast.UnaryOp(op=ast.USub(), operand=G())
                return [], contribs([(v.operand, e, True)])
            return unpacked(self.pb_name[id(s)], 2, [None, v.operand])
        if isinstance(v, ast.Compare):
            return [], None
        if isinstance(v, ast.Attribute):
            if self.static(v):
                return [], None
            return unpacked(self.pb_name[id(s)], 1, [v.value])
        if isinstance(v, ast.Subscript):
            return unpacked(self.pb_name[id(s)], 3, [None, v.value, None])
        if isinstance(v, ast.Call):
            inline = self.inline_rule(s)
            if inline is not None:
                return [], contribs(self.inline_contribs(inline, v, t, G))
            pb = self.pb_name.get(id(s))
            if pb is None:
                return [], None
            if self.is_method(v):
                obj = v.func.value
                if self.kw_form(v):
                    return unpacked(pb, 3, [obj, v.args[0].value, v.keywords[0].value])
                return unpacked(pb, 1 + len(v.args), [obj] + list(v.args))
            fatom = v.func if isinstance(v.func, ast.Name) and not self.callee_is_constant(v) else None
            fvalue = self.an.callee_value(v.func)
            python_callee = fvalue is None or registry.lookup(fvalue) is None
            if self.kw_form(v):
                return unpacked(pb, 3, [fatom, v.args[0].value, v.keywords[0].value], python_callee)
            return unpacked(pb, 1 + len(v.args), [fatom] + list(v.args), python_callee)
        if isinstance(v, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in v.elts):
                parts = ast.Tuple(
                    elts=[copy.deepcopy(e.value) if isinstance(e, ast.Starred) else C(None) for e in v.elts],
                    ctx=ast.Load(),
                )
                atoms = [e.value if isinstance(e, ast.Starred) else e for e in v.elts]
                names = [S(self.dvar()) if self.wants(a) else S("_") for a in atoms]
                pre = [
                    ast.Assign(
                        targets=[ast.Tuple(elts=names, ctx=ast.Store())],
                        value=call(self.helper("literal_bar"), G(), parts),
                    )
                ]
                pairs = [(a, N(n.id), False) for a, n in zip(atoms, names) if n.id != "_"]
                return pre, contribs(pairs) if pairs else None
            pairs = [
                (e, ast.Subscript(value=G(), slice=C(i), ctx=ast.Load()), False)
                for i, e in enumerate(v.elts)
                if self.wants(e)
            ]
            return [], contribs(pairs) if pairs else None
        if isinstance(v, ast.Dict):
            pairs = []
            for k, val in zip(v.keys, v.values):
                if not self.wants(val):
                    continue
                if k is None:
                    pairs.append((val, call(self.helper("dict_sub_bar"), G(), copy.deepcopy(val)), False))
                else:
                    get = ast.Attribute(value=G(), attr="get", ctx=ast.Load())
                    pairs.append((val, call(get, copy.deepcopy(k)), False))
            return [], contribs(pairs) if pairs else None
        if isinstance(v, ast.Lambda):
            return [], self.closure_contribs(v, G)
        return [], None

    def apply_contribs(self, st, g, pairs, block):
        """Accumulate contributions that read the cotangent held in `g`, without clobbering it."""
        pairs = [p for p in pairs if self.wants(p[0])]
        hits = [p for p in pairs if self.namer.bar(p[0].id) == g]
        if len(hits) > 1:
            tmp = self.dvar()
            block.append(assign(tmp, N(g)))
            pairs = [(a, _rename_load(e, g, tmp), d) for a, e, d in pairs]
        elif hits:
            pairs = [p for p in pairs if p not in hits] + hits
        for atom, expr, definite in pairs:
            self.accumulate(st, atom, expr, definite, block)

    def closure_contribs(self, node, G):
        pairs = []
        for name in sorted(free_names_of_function(node)):
            atom = N(name)
            if self.wants(atom):
                pairs.append((atom, call(self.helper("field"), G(), C(name)), False))
        if not pairs:
            return None

        def body(st, block):
            for atom, expr, definite in pairs:
                self.accumulate(st, atom, expr, definite, block)

        return body

    # plain-number arithmetic, written inline
    def num_op(self, s):
        v = s.value
        if isinstance(v, ast.BinOp):
            if type(v.op) not in _BINOP_HELPER or isinstance(v.op, ast.MatMult):
                return False
            return self.an.atom_info(v.left)[0] == "num" and self.an.atom_info(v.right)[0] == "num"
        if isinstance(v, ast.UnaryOp):
            return self.an.atom_info(v.operand)[0] == "num"
        return False

    def num_binop(self, v, t, G):
        a, b, op = v.left, v.right, v.op
        A = lambda: copy.deepcopy(a)  # noqa: E731
        B = lambda: copy.deepcopy(b)  # noqa: E731

        def times(x, other):
            if isinstance(other, ast.Constant):
                if other.value == 1:
                    return x
                return binop(C(other.value), ast.Mult(), x)
            return binop(x, ast.Mult(), other)

        out = []
        if isinstance(op, ast.Add):
            out = [(a, G(), True), (b, G(), True)]
        elif isinstance(op, ast.Sub):
            out = [(a, G(), True), (b, ast.UnaryOp(op=ast.USub(), operand=G()), True)]
        elif isinstance(op, ast.Mult):
            out = [(a, times(G(), B()), True), (b, times(G(), A()), True)]
        elif isinstance(op, ast.Div):
            out = [(a, binop(G(), ast.Div(), B()), True)]
            if self.wants(b):
                out.append((b, binop(ast.UnaryOp(op=ast.USub(), operand=binop(G(), ast.Mult(), N(t))), ast.Div(), B()), True))
        elif isinstance(op, ast.Pow):
            if isinstance(b, ast.Constant):
                c = b.value
                if c == 0:
                    d = binop(G(), ast.Mult(), C(0))
                elif c == 1:
                    d = G()
                elif c == 2:
                    d = binop(G(), ast.Mult(), binop(C(2), ast.Mult(), A()))
                else:
                    d = binop(G(), ast.Mult(), binop(C(c), ast.Mult(), binop(A(), ast.Pow(), C(c - 1))))
                out = [(a, d, True)]
            else:
                out = [(a, call(self.helper("pow_base_bar"), G(), A(), B()), True)]
                if self.wants(b):
                    out.append((b, binop(binop(G(), ast.Mult(), N(t)), ast.Mult(), call(self.helper("log_base"), A())), True))
        elif isinstance(op, ast.FloorDiv):
            out = [(a, binop(G(), ast.Mult(), C(0)), True)]
        elif isinstance(op, ast.Mod):
            out = [(a, G(), True)]
            if self.wants(b):
                out.append((b, ast.UnaryOp(op=ast.USub(), operand=binop(G(), ast.Mult(), binop(A(), ast.FloorDiv(), B()))), True))
        return out

    def static(self, node):
        return self.an.static_value(node)[0]

    def is_method(self, v):
        return isinstance(v.func, ast.Attribute) and not self.static(v.func)

    @staticmethod
    def kw_form(v):
        return len(v.args) == 1 and isinstance(v.args[0], ast.Starred) and len(v.keywords) == 1

    def callee_is_constant(self, v):
        f = self.an.callee_value(v.func)
        return f is not None and registry.lookup(f) is registry.CONSTANT

    def inline_rule(self, s):
        v = s.value
        if not self.scalar_inline or not isinstance(v, ast.Call) or self.kw_form(v) or self.is_method(v):
            return None
        f = self.an.callee_value(v.func)
        if f is None:
            return None
        try:
            rule = registry.SCALAR_RULES.get(f)
        except TypeError:
            return None
        if rule is None or len(rule.argnames) != len(v.args):
            return None
        if not all(self.an.atom_info(a)[0] == "num" for a in v.args):
            return None
        self.inline_deps.add(f)
        return rule

    def inline_contribs(self, rule, v, t, G):
        out = []
        for argname, partial, atom in zip(rule.argnames, rule.partials, v.args):
            if partial is None or not self.wants(atom):
                continue
            mapping = {argname_: a for argname_, a in zip(rule.argnames, v.args)}
            expr = _substitute(partial, mapping, N(t), lambda name: N(self.h(("ns", rule, name))))
            if isinstance(expr, ast.Name) and expr.id == t:
                d = binop(G(), ast.Mult(), expr)
            else:
                d = binop(G(), ast.Mult(), expr)
            out.append((atom, d, True))
        return out

    def fwd_block(self, stmts):
        out = []
        for s in stmts:
            self.fwd_stmt(s, out)
        return out

    def after(self, s, out):
        for name, snap in self.saves.get(id(s), []):
            if snap is None:
                out.append(ast.Expr(value=self.push_expr(N(name))))
            else:
                out.append(assign(snap, N(name)))

    def fwd_stmt(self, s, out):
        if isinstance(s, ast.Assign):
            if getattr(s, "dpnb_skip", False):
                return
            out.append(self.fwd_assign(s))
        elif isinstance(s, ast.If):
            b1 = self.fwd_block(s.body)
            b2 = self.fwd_block(s.orelse)
            mode = self.if_mode.get(id(s))
            if mode is not None:
                kind, name = mode
                if kind == "flag":
                    b1.append(assign(name, C(True)))
                    b2.append(assign(name, C(False)))
                elif kind == "push":
                    b1.append(ast.Expr(value=self.push_expr(C(True))))
                    b2.append(ast.Expr(value=self.push_expr(C(False))))
            node = ast.If(test=s.test, body=b1 or [ast.Pass()], orelse=b2)
            out.append(ast.copy_location(node, s))
        elif isinstance(s, (ast.For, ast.While)):
            body = self.fwd_block(s.body)
            count = self.loop_count.get(id(s))
            if count is not None:
                out.append(assign(count, C(0)))
                body.insert(0, ast.AugAssign(target=S(count), op=ast.Add(), value=C(1)))
            if isinstance(s, ast.For):
                node = ast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None)
            else:
                node = ast.While(test=s.test, body=body, orelse=[])
            out.append(ast.copy_location(node, s))
        elif isinstance(s, (ListBuild, DictBuild)):
            empty = ast.List(elts=[], ctx=ast.Load()) if isinstance(s, ListBuild) else ast.Dict(keys=[], values=[])
            out.append(ast.copy_location(assign(s.target.id, empty), s))
            out.extend(self.fwd_block(s.body))
        elif isinstance(s, Append):
            m = ast.Attribute(value=copy.deepcopy(s.target), attr="append", ctx=ast.Load())
            out.append(ast.copy_location(ast.Expr(value=call(m, s.value)), s))
        elif isinstance(s, SetKey):
            tgt = ast.Subscript(value=copy.deepcopy(s.target), slice=s.key, ctx=ast.Store())
            out.append(ast.copy_location(ast.Assign(targets=[tgt], value=s.value), s))
        elif isinstance(s, (ast.Try, ast.With)):
            self.fwd_try(s, out)
        elif isinstance(s, Native):
            out.append(s.stmt)
        elif isinstance(s, ast.Break):
            out.append(s)
        elif isinstance(s, ast.Return):
            pass  # emitted by run()
        else:
            out.append(s)
        self.after(s, out)

    def fwd_assign(self, s):
        pb = self.pb_name.get(id(s))
        if pb is None:
            return s
        v = s.value
        target = s.targets[0]
        wb = getattr(s, "dpnb_writeback", False)
        if isinstance(target, ast.Attribute):
            node = assign(pb, call(self.helper("writeback_attr" if wb else "setattr"), target.value, C(target.attr), v))
            return ast.copy_location(node, s)
        if isinstance(target, ast.Subscript):
            helper = "writeback_item" if wb else "setitem"
            node = assign(pb, call(self.helper(helper), target.value, _index_expr(target.slice, self.helper("slice")), v))
            return ast.copy_location(node, s)
        t = target.id
        if isinstance(v, ast.BinOp):
            name = _BINOP_HELPER[type(v.op)]
            wl, wr = self.wants(v.left), self.wants(v.right)
            if wl != wr and not getattr(v, "dpnb_inplace", False) and name + ("_left" if wl else "_right") in _NEED_HELPERS:
                name += "_left" if wl else "_right"  # only one operand needs a cotangent
            if getattr(v, "dpnb_inplace", False):
                name = "i" + name
                if isinstance(v.left, ast.Name) and v.left.id in self.an.params:
                    # changing an argument in place is refused at run time (if it is an array or list)
                    where = f"{self.an.filename}, line {getattr(s, 'lineno', '?')}"
                    rhs = call(self.helper("inplace_arg"), C(name), C(v.left.id), C(where), v.left, v.right)
                    node = ast.Assign(targets=[ast.Tuple(elts=[S(t), S(pb)], ctx=ast.Store())], value=rhs)
                    return ast.copy_location(node, s)
            rhs = call(self.helper(name), v.left, v.right)
        elif isinstance(v, ast.UnaryOp):
            rhs = call(self.helper(_UNARY_HELPER[type(v.op)]), v.operand)
        elif isinstance(v, ast.Attribute):
            rhs = call(self.helper("getattr"), v.value, C(v.attr))
        elif isinstance(v, ast.Subscript):
            rhs = call(self.helper("getitem"), v.value, _index_expr(v.slice, self.helper("slice")))
        elif isinstance(v, ast.Call):
            sup = getattr(v, "dpnb_super", None)
            if sup is not None:
                if self.kw_form(v):
                    rhs = call(self.helper("callmethod_super_kw"), sup, v.func.value, C(v.func.attr), v.args[0].value, v.keywords[0].value)
                else:
                    rhs = call(self.helper("callmethod_super"), sup, v.func.value, C(v.func.attr), *v.args)
            elif self.is_method(v):
                if self.kw_form(v):
                    rhs = call(self.helper("callmethod_kw"), v.func.value, C(v.func.attr), v.args[0].value, v.keywords[0].value)
                else:
                    rhs = call(self.helper("callmethod"), v.func.value, C(v.func.attr), *v.args)
            elif self.kw_form(v):
                rhs = call(self.helper("call_kw"), v.func, v.args[0].value, v.keywords[0].value)
            elif self.an.is_self_call(v):
                # direct recursion: this very adjoint, while the name still means this function
                me = self.helper(("me", self.an.code))
                slow = "call_num" if self.an.return_kind == "num" else "call"
                rhs = ast.IfExp(
                    test=ast.Compare(left=copy.deepcopy(v.func), ops=[ast.Is()], comparators=[N(me)]),
                    body=call(self.forward_name, *[copy.deepcopy(a) for a in v.args]),
                    orelse=call(self.helper(slow), v.func, *v.args),
                )
            else:
                func = v.func
                if isinstance(func, ast.Name) and func.id == UFUNC_AT:
                    func = N(self.helper("ufunc_at"))
                rhs = call(self.helper("call"), func, *v.args)
        else:
            return s
        node = ast.Assign(targets=[ast.Tuple(elts=[S(t), S(pb)], ctx=ast.Store())], value=rhs)
        return ast.copy_location(node, s)

    # --- which statements get a pullback from the runtime ------------------------------
    def plan(self, stmts):
        for s in stmts:
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], (ast.Attribute, ast.Subscript)):
                if getattr(s, "dpnb_writeback", False) and not self.wants(s.targets[0].value):
                    s.dpnb_skip = True  # nothing to undo: the write-back is not even run
                    continue
                if self.wants(s.targets[0].value):
                    name = self.namer.fresh("_set_pb")
                    self.pb_name[id(s)] = name
                    self._register_assign(name, s)
                continue
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                t = s.targets[0].id
                v = s.value
                if isinstance(v, ast.Call) and self.is_method(v) and self.wants(v.func.value) and not self.callee_is_constant(v):
                    name = self.namer.fresh(f"{t}_pb")
                    self.pb_name[id(s)] = name
                    self._register_assign(name, s)
                    continue
                if not self.an.differentiated(t):
                    if isinstance(v, ast.Call) and getattr(v, "dpnb_out", False):
                        name = self.namer.fresh(f"{t}_pb")
                        self.pb_name[id(s)] = name
                        self._register_assign(name, s)
                        continue
                    if isinstance(v, ast.Call) and not self.is_method(v) and self._may_mutate_args(v):
                        # run it through dpnb: a function that changes its arguments is reported
                        name = self.namer.fresh(f"{t}_pb")
                        self.pb_name[id(s)] = name
                        self._register_assign(name, s)
                    continue
                v = s.value
                needs = False
                if isinstance(v, ast.BinOp):
                    needs = type(v.op) in _BINOP_HELPER and not self.num_op(s)
                elif isinstance(v, ast.UnaryOp):
                    needs = type(v.op) in _UNARY_HELPER and not self.num_op(s)
                elif isinstance(v, ast.Attribute):
                    needs = not self.static(v)
                elif isinstance(v, ast.Subscript):
                    needs = True
                elif isinstance(v, ast.Call):
                    needs = not self.callee_is_constant(v) and self.inline_rule(s) is None
                if needs:
                    name = self.namer.fresh(f"{t}_pb" if not t.startswith("_") else f"{t}_pb")
                    self.pb_name[id(s)] = name
                    self._register_assign(name, s)
            elif isinstance(s, ast.If):
                self.plan(s.body)
                self.plan(s.orelse)
            elif isinstance(s, (ast.For, ast.While, ListBuild, DictBuild, ast.With)):
                self.plan(s.body)
            elif isinstance(s, ast.Try):
                self.plan(s.body)
                for h in s.handlers:
                    self.plan(h.body)
                self.plan(s.orelse)
                self.plan(s.finalbody)

    # --- the whole function -------------------------------------------------------------
    def run(self):
        fdef = self.fdef
        body = fdef.body
        ret = body[-1]
        assert isinstance(ret, ast.Return)
        body = body[:-1]
        self.plan(body)
        pb_name = self.namer.exact(f"{fdef.name.strip('_') or 'f'}_pullback")
        self.pullback_name = pb_name

        st = State()
        if self.wants(ret.value):
            st.h[ret.value.id] = [self.seed, True]
        bwd = self.bwd_block(body, st)
        if self.accepts_none:
            # mutations are undone even when no cotangent reaches the result:
            # the pullback may be called with None, so the seed is not assumed set
            self.accepts_none = False
            st = State()
            if self.wants(ret.value):
                st.h[ret.value.id] = [self.seed, False]
            bwd = self.bwd_block(body, st)
            self.accepts_none = True
        bwd.append(ast.Return(value=self.result_tuple(st, bwd)))
        if self.uses_tape:
            copied = call(ast.Attribute(value=N(self.helper("tape")), attr="copy", ctx=ast.Load()))
            if self.ho:
                bwd.insert(0, assign(self.helper("tape_copy"), copied))
            else:
                bwd.insert(0, assign(self.helper("pop"), ast.Attribute(value=copied, attr="pop", ctx=ast.Load())))
        pullback = ast.FunctionDef(
            name=pb_name,
            args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=self.seed)], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
            body=bwd,
            decorator_list=[],
            returns=None,
            type_comment=None,
        )
        fwd = self.fwd_block(body)
        if self.uses_tape:
            tape = self.helper("tape")
            fwd.insert(0, assign(tape, ast.List(elts=[], ctx=ast.Load())))
            if not self.ho:
                fwd.insert(1, assign(self.helper("push"), ast.Attribute(value=N(tape), attr="append", ctx=ast.Load())))
        fwd.append(pullback)
        fwd.append(ast.copy_location(ast.Return(value=ast.Tuple(elts=[ret.value, N(pb_name)], ctx=ast.Load())), ret))
        new = ast.FunctionDef(name=fdef.name, args=fdef.args, body=fwd, decorator_list=[], returns=None, type_comment=None)
        ast.copy_location(new, fdef)
        return new

    def result_tuple(self, st, out):
        elts = []
        free = sorted(v for v in st.h if v in self.an.freevars and v not in self.an.locals)
        if free:
            names = ast.Tuple(elts=[C(v) for v in free], ctx=ast.Load())
            vals = ast.Tuple(elts=[N(st.h[v][0]) for v in free], ctx=ast.Load())
            elts.append(call(self.helper("closure_tangent"), names, vals))
        else:
            elts.append(C(None))
        for p in self.an.params:
            cur = st.h.get(p)
            elts.append(N(cur[0]) if cur else C(None))
        globs = sorted(v for v in st.h if v not in self.an.locals and v not in self.an.freevars)
        for gname in globs:
            out.append(ast.Expr(value=call(self.helper("leaf"), N(gname), N(st.h[gname][0]))))
        return ast.Tuple(elts=elts, ctx=ast.Load())


def _loads(expr):
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _rename_load(expr, old, new):
    expr = copy.deepcopy(expr)
    for n in ast.walk(expr):
        if isinstance(n, ast.Name) and n.id == old:
            n.id = new
    return expr


def _substitute(expr, mapping, y, helper_name):
    expr = copy.deepcopy(expr)

    class T(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in mapping:
                return copy.deepcopy(mapping[node.id])
            if node.id == "y":
                return copy.deepcopy(y)
            return helper_name(node.id)

    return T().visit(expr)


def _index_expr(idx, slice_helper):
    if isinstance(idx, ast.Slice):
        return call(slice_helper, idx.lower or C(None), idx.upper or C(None), idx.step or C(None))
    if isinstance(idx, ast.Tuple):
        return ast.Tuple(elts=[_index_expr(e, slice_helper) for e in idx.elts], ctx=ast.Load())
    return idx
