"""The emitter's control flow: branches, loops, comprehensions, try and with."""
import ast
import copy

from .astlib import C, N, S, State, assign, call
from .normalize import DictBuild, ListBuild


class ControlFlowAdjoints:
    """Mixed into `emit.Emitter`."""

    def bwd_if(self, s, st, out):
        self.materialize(st, out)
        s1, s2 = st.copy(), st.copy()
        b1 = self.bwd_block(s.body, s1)
        b2 = self.bwd_block(s.orelse, s2)
        if not b1 and not b2 and s1.h == st.h and s2.h == st.h:
            return
        self.join(st, [(s1, b1), (s2, b2)])
        pre = []
        test = s.test
        if (
            isinstance(test, ast.Name)
            and test.id in self.an.bool_vars
            and not self.an.reassigned_after(test.id, s)
        ):
            self.if_mode[id(s)] = ("reuse", test.id)
            cond = N(test.id)
        elif self.an.in_loop(s):
            self.if_mode[id(s)] = ("push", None)
            self.uses_tape = True
            cond = self.pop_expr()
        else:
            flag = self.namer.fresh("_branch")
            self.fwd_temps.add(flag)
            self.if_mode[id(s)] = ("flag", flag)
            cond = N(flag)
        out.extend(pre)
        out.append(ast.If(test=cond, body=b1 or [ast.Pass()], orelse=b2))

    def bwd_try(self, s, st, out):
        """try/with: replay `finally`, then the branch that ran, then the statements of the body that finished."""
        handlers = getattr(s, "handlers", [])
        finalbody = getattr(s, "finalbody", [])
        orelse = getattr(s, "orelse", [])
        self.materialize(st, out)
        code = []
        code += self.bwd_block(finalbody, st)
        self.materialize(st, code)
        info = {"done": self.namer.fresh("_done"), "caught": self.namer.fresh("_caught") if handlers else None}
        for name in info.values():
            if name:
                self.fwd_temps.add(name)
                self._register_assign(name, s)
        if handlers:
            branches = []
            s0 = st.copy()
            b0 = self.bwd_block(orelse, s0)
            branches.append((s0, b0))
            for h in handlers:
                sh = st.copy()
                branches.append((sh, self.bwd_block(h.body, sh)))
            if any(b for _, b in branches) or any(x.h != st.h for x, _ in branches):
                self.join(st, branches)
                node = None
                for i in reversed(range(len(branches))):
                    test = ast.Compare(left=N(info["caught"]), ops=[ast.Eq()], comparators=[C(i)])
                    body = branches[i][1] or [ast.Pass()]
                    node = ast.If(test=test, body=body, orelse=[node] if node is not None else [])
                code.append(node)
        else:
            code += self.bwd_block(orelse, st)
        # the body: statement i counts only if it finished (the progress counter passed it)
        partial = []
        for i in reversed(range(len(s.body))):
            stmt = s.body[i]
            # a nested try/with keeps its own progress: it counts as soon as it started
            op = ast.GtE() if isinstance(stmt, (ast.Try, ast.With)) else ast.Gt()
            test = ast.Compare(left=N(info["done"]), ops=[op], comparators=[C(i)])
            before = len(code)
            self.guarded(st, None, True, code, lambda st2, blk, stmt=stmt: self.bwd_stmt(stmt, st2, blk), test=test)
            if len(code) > before and isinstance(stmt, (ast.For, ast.While, ListBuild, DictBuild)):
                partial.append((i, getattr(stmt, "lineno", s.lineno)))
        self.try_partial[id(s)] = partial
        if not code:
            self.try_info.pop(id(s), None)
            return
        self.try_info[id(s)] = info
        # the statement's own reads (its progress counter and handler number): saved like operands
        pre = []
        mapping = self.saved(s, [n for n in info.values() if n], pre)
        if mapping:
            for node in code:
                for n in ast.walk(node):
                    if isinstance(n, ast.Name) and n.id in mapping:
                        n.id = mapping[n.id]
        out.extend(pre + code)

    def loop_touched(self, s):
        names = set()
        defined_here = set()
        for n in ast.walk(ast.Module(body=s.body, type_ignores=[])):
            if isinstance(n, ast.Name):
                if isinstance(n.ctx, ast.Store):
                    defined_here.add(n.id)
                names.add(n.id)
        temps = {n for n in defined_here if n.startswith("_")}
        if isinstance(s, ast.For):
            temps.add(s.target.id)
        return {n for n in names - temps if self.an.differentiated(n)}

    def bwd_loop(self, s, st, out):
        touched = self.loop_touched(s)
        item = s.target.id if isinstance(s, ast.For) else None
        collect = item is not None and self.an.differentiated(item) and self.wants(s.iter)
        self.materialize(st, out)
        pre_init = []
        for var in sorted(touched):
            if var not in st.h:
                pre_init.append(assign(self.canon(var), C(None)))
        # a cotangent is known to be set on entry to every iteration if it is set
        # before the loop and at the end of an iteration: iterate to agreement
        entry = {var: bool(st.h.get(var) and st.h[var][1]) for var in touched}
        for _attempt in range(4):
            inner = State({var: [self.canon(var), entry[var]] for var in touched})
            for var, hv in st.h.items():
                if var not in touched:
                    inner.h[var] = list(hv)
            body = self.bwd_block(s.body, inner)
            exit_ok = {var: bool(inner.h.get(var) and inner.h[var][1]) for var in touched}
            new_entry = {var: entry[var] and exit_ok[var] for var in touched}
            if new_entry == entry:
                break
            entry = new_entry
        ibars = None
        if collect:
            ibars = self.dvar("_item_bars")
            cur = self.take(inner, item)
            body.append(
                ast.Expr(
                    value=call(
                        ast.Attribute(value=N(ibars), attr="append", ctx=ast.Load()),
                        N(cur[0]) if cur else C(None),
                    )
                )
            )
        self.materialize(inner, body)
        for var in touched:
            if var not in inner.h:
                body.append(assign(self.canon(var), C(None)))
        if not body:
            return
        count = self.namer.fresh("_n")
        self.fwd_temps.add(count)
        self._register_assign(count, s)
        self.loop_count[id(s)] = count
        it = self.dvar("_i")
        loop = ast.For(
            target=S(it),
            iter=call(self.helper("range"), N(count)),
            body=body,
            orelse=[],
            type_comment=None,
        )
        stmts = []
        if collect:
            stmts.append(assign(ibars, ast.List(elts=[], ctx=ast.Load())))
        stmts.append(loop)
        for var in touched:
            st.h[var] = [self.canon(var), entry[var]]
        if collect:
            tail = []
            self.accumulate(st, s.iter, call(self.helper("iter_bar"), copy.deepcopy(s.iter), N(ibars)), False, tail)
            stmts += tail
        pre = []
        # the loop's own reads (count, iterable): saved like any operand
        self.rename_fwd([loop.iter] + ([stmts[-1]] if collect and stmts[-1] is not loop else []), s, pre)
        out.extend(pre_init + pre + stmts)

    def bwd_build(self, s, st, out):
        cur = self.take(st, s.target.id) if self.an.differentiated(s.target.id) else None
        if cur is None:
            return
        g, definite = cur
        name = self.dvar("_lb" if isinstance(s, ListBuild) else "_db")
        fn = "list_bar" if isinstance(s, ListBuild) else "dict_bar"
        first = assign(name, call(self.helper(fn), N(g), N(s.target.id)))
        pre = []
        self.rename_fwd([first], s, pre)
        self.builds.append(name)
        try:
            body = self.bwd_block(s.body, st)
        finally:
            self.builds.pop()
        out.extend(pre + [first] + body)

    # --- the forward pass ---------------------------------------------------------------

    def fwd_try(self, s, out):
        info = self.try_info.get(id(s))
        body = []
        tape = self.helper("tape") if self.uses_tape and info else None
        mark = self.namer.fresh("_mark") if tape else None
        if info:
            out.append(assign(info["done"], C(0)))
            if info["caught"]:
                out.append(assign(info["caught"], C(0)))
            if mark:
                out.append(assign(mark, call(self.helper("len"), N(tape))))
        for i, stmt in enumerate(s.body):
            self.fwd_stmt(stmt, body)
            if info:
                body.append(assign(info["done"], C(i + 1)))
                if mark:
                    body.append(assign(mark, call(self.helper("len"), N(tape))))
        if isinstance(s, ast.With):
            node = ast.With(items=s.items, body=body, type_comment=None)
        else:
            handlers = []
            for k, h in enumerate(s.handlers):
                hb = []
                if info:
                    for i, line in self.try_partial.get(id(s), []):
                        # an exception left a loop or branch half done: its finished part would be lost
                        where = f"{self.an.filename}, line {line}"
                        hb.append(ast.If(
                            test=ast.Compare(left=N(info["done"]), ops=[ast.Eq()], comparators=[C(i)]),
                            body=[ast.Expr(value=call(self.helper("partial_statement"), C(where)))],
                            orelse=[],
                        ))
                    hb.append(assign(info["caught"], C(k + 1)))
                    if mark:
                        # what the unfinished statement pushed is not replayed
                        hb.append(ast.Delete(targets=[ast.Subscript(value=N(tape), slice=ast.Slice(lower=N(mark), upper=None, step=None), ctx=ast.Del())]))
                hb += self.fwd_block(h.body)
                handlers.append(ast.copy_location(ast.ExceptHandler(type=h.type, name=h.name, body=hb or [ast.Pass()]), h))
            node = ast.Try(body=body or [ast.Pass()], handlers=handlers, orelse=self.fwd_block(s.orelse), finalbody=self.fwd_block(s.finalbody))
        out.append(ast.copy_location(node, s))
