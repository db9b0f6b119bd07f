"""The emitter's adjoints of calls that may change objects: methods (which get the object's
cotangent and hand back its cotangent before the call), item and attribute assignment, and
calls of Python functions whose arguments travel through the store."""
import ast
import types

from .astlib import C, N, S, assign, call, is_none_test


class ObjectAdjoints:
    """Mixed into `emit.Emitter`."""

    def bwd_method_call(self, s, st, out):
        """t = obj.m(...): the pullback takes the cotangents of t and of obj (which it may change)."""
        v = s.value
        t = s.targets[0].id
        pb = self.pb_name.get(id(s))
        if pb is None:
            return
        obj = v.func.value
        cur = self.take(st, t) if self.an.differentiated(t) else None
        obj_in = st.h.get(obj.id) if self.wants(obj) else None
        if cur is None and not self.wants(obj):
            return
        if cur is None:
            self.accepts_none = True
        g = N(cur[0]) if cur else C(None)
        if self.kw_form(v):
            atoms = [v.args[0].value, v.keywords[0].value]
        else:
            atoms = list(v.args)
        obj_new = self.dvar() if self.wants(obj) else None
        names, pairs = self.receivers(atoms)
        names.insert(0, S(obj_new) if obj_new else S("_"))
        block = [
            ast.Assign(
                targets=[ast.Tuple(elts=names, ctx=ast.Store())],
                value=call(N(pb), g, N(obj_in[0]) if obj_in else C(None)),
            )
        ]
        if obj_new is not None:
            st.h.pop(obj.id, None)
            self.accumulate(st, obj, N(obj_new), False, block)
        for atom, expr, definite in pairs:
            self.accumulate(st, atom, expr, definite, block)
        pre = []
        self.rename_fwd(block, s, pre)
        out.extend(pre + block)

    def receivers(self, atoms):
        """Fresh names to unpack a pullback's results into (`_` where no cotangent is wanted),
        and the (atom, name, definite) contributions they make."""
        names, pairs = [], []
        for atom in atoms:
            if atom is not None and self.wants(atom):
                d = self.dvar()
                names.append(S(d))
                pairs.append((atom, N(d), False))
            else:
                names.append(S("_"))
        return names, pairs

    def deposit_candidates(self, v):
        """Arguments of a call to a Python function that it may change in place (user variables
        that may hold lists, dicts or objects): their cotangents travel through the store."""
        if self.kw_form(v) or getattr(v, "dpnb_super", None) is not None:
            return []
        f = self.an.callee_value(v.func)
        if f is not None and not isinstance(f, (types.FunctionType, type)):
            return []
        if self.callee_is_constant(v):
            return []
        out = []
        for a in v.args:
            if isinstance(a, ast.Name) and not a.id.startswith("_") and self.wants(a) and self.an.kind.get(a.id) != "num":
                if a.id not in [x.id for x in out]:
                    out.append(a)
        return out

    def bwd_python_call(self, s, st, out):
        """t = f(a, b) where f may change a or b: deposit their cotangents, run f's pullback
        (even with no cotangent for t, if it undoes changes), take back what is left."""
        v = s.value
        t = s.targets[0].id
        pb = self.pb_name.get(id(s))
        if pb is None:
            return
        cur = self.take(st, t) if self.an.differentiated(t) else None
        g = N(self.protect(st, cur[0], out)) if cur else C(None)
        block = []
        movers = self.deposit_candidates(v)
        self.materialize(st, block)
        for a in movers:
            if a.id in st.h:
                block.append(assign(self.canon(a.id), call(self.helper("deposit_arg"), N(a.id), N(self.canon(a.id)))))
                st.h[a.id] = [self.canon(a.id), False]
        fatom = v.func if isinstance(v.func, ast.Name) and not self.callee_is_constant(v) else None
        names, pairs = self.receivers([fatom] + list(v.args))
        res = self.dvar()
        block.append(assign(res, call(self.helper("effect_pb"), N(pb), g)))
        inner = []
        if pairs:
            inner.append(ast.Assign(targets=[ast.Tuple(elts=names, ctx=ast.Store())], value=N(res)))
        sub = st.copy()
        for atom, expr, definite in pairs:
            self.accumulate(sub, atom, expr, definite, inner)
        self.materialize(sub, inner)
        orelse = []
        for var, hv in sub.h.items():
            if var not in st.h:
                orelse.append(assign(self.canon(var), C(None)))
        st.h = {var: [self.canon(var), False] for var in sub.h}
        if inner:
            block.append(ast.If(test=is_none_test(res), body=inner, orelse=orelse))
        for a in movers:
            block.append(assign(self.canon(a.id), call(self.helper("withdraw_arg"), N(a.id), N(self.canon(a.id)) if a.id in st.h else C(None))))
            st.h[a.id] = [self.canon(a.id), False]
        pre = []
        self.rename_fwd(block, s, pre)
        out.extend(pre + block)

    def bwd_mutation(self, s, st, out):
        """obj.a = v / obj[i] = v: the pullback maps obj's cotangent after to before, and gives v's."""
        target = s.targets[0]
        obj = target.value
        pb = self.pb_name.get(id(s))
        if pb is None or not self.wants(obj):
            return
        self.accepts_none = True
        if obj.id in self.an.params:
            self.mutates_params = f"{self.an.filename}, line {s.lineno}"
        obj_in = st.h.get(obj.id)
        obj_new = self.dvar()
        v_new = self.dvar() if self.wants(s.value) else "_"
        block = [
            ast.Assign(
                targets=[ast.Tuple(elts=[S(obj_new), S(v_new)], ctx=ast.Store())],
                value=call(N(pb), N(obj_in[0]) if obj_in else C(None)),
            )
        ]
        st.h.pop(obj.id, None)
        self.accumulate(st, obj, N(obj_new), False, block)
        if v_new != "_":
            self.accumulate(st, s.value, N(v_new), False, block)
        pre = []
        self.rename_fwd(block, s, pre)
        out.extend(pre + block)

    def _may_mutate_args(self, v):
        if self.callee_is_constant(v):
            return False
        f = self.an.callee_value(v.func)
        if f is not None and not isinstance(f, (types.FunctionType, type)):
            return False
        args = [a.value if isinstance(a, ast.Starred) else a for a in v.args] + [k.value for k in v.keywords]
        return any(self.wants(a) and self.an.kind.get(a.id) != "num" for a in args if isinstance(a, ast.Name))
