"""Stage 3 — analyze: reject unsupported syntax; infer what each variable holds.

`reject_unsupported(fdef, filename)` raises `UnsupportedSyntaxError` naming the
construct, the file and the line. `Analysis(fdef, ...)` runs on the normalized
tree and finds, flow-insensitively, for every variable:

- its *kind*: `num` (a plain number whenever the arguments have the types the
  adjoint is specialised for) or `any`;
- whether it is *active* (may depend on an input or a global) and *useful*
  (may reach the returned value, so its cotangent is needed);
- where it is assigned, so the emitter knows which values the backward pass
  may read live and which it must save (on the tape inside loops).
"""
import ast
import builtins
import types

import numpy as np

from ..errors import UnsupportedSyntaxError
from ..rules import registry
from ..rules.registry import _hashable
from .normalize import UFUNC_AT, Append, DictBuild, ListBuild, Native, SetKey

_UNSUPPORTED = {
    ast.Yield: "`yield`",
    ast.YieldFrom: "`yield from`",
    ast.Await: "`await`",
    ast.AsyncFor: "`async for`",
    ast.AsyncWith: "`async with`",
    ast.AsyncFunctionDef: "`async def`",
    ast.Global: "`global` assignment",
    ast.Nonlocal: "`nonlocal` assignment",
    ast.ClassDef: "a class definition inside a differentiated function",
    ast.Match: "`match`",
    ast.Delete: "`del`",
}
if hasattr(ast, "TryStar"):
    _UNSUPPORTED[ast.TryStar] = "`try`/`except*`"

_HINTS = {
    "`global` assignment": "return the value instead, or keep it in a dict or object passed in",
    "`yield`": "differentiate a function that returns a list instead of a generator",
    "`nonlocal` assignment": "return the new value from the inner function, or keep the state in a dict or object",
}


def reject_unsupported(fdef, filename):
    if isinstance(fdef, ast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("`async def`", filename, fdef.lineno)

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.Lambda)):
                # nested functions are transformed when they are called; their
                # default values and decorators run here. A nested `nonlocal` changes
                # this function's variables, so it is refused here.
                for d in getattr(child, "decorator_list", []):
                    visit(d, False)
                visit(child.args, False)
                for inner in ast.walk(child):
                    if isinstance(inner, ast.Nonlocal):
                        what = "`nonlocal` assignment"
                        raise UnsupportedSyntaxError(what, filename, inner.lineno, _HINTS.get(what))
                continue
            what = _UNSUPPORTED.get(type(child))
            if what is not None:
                raise UnsupportedSyntaxError(what, filename, getattr(child, "lineno", None), _HINTS.get(what))
            visit(child, False)

    visit(fdef, True)


# --- kinds --------------------------------------------------------------------------

NUMBER_TYPES = (int, float, complex)
#: attributes that never carry a gradient, whatever the object (array metadata, type information)
NONDIFF_ATTRIBUTES = frozenset(
    {"shape", "ndim", "dtype", "size", "itemsize", "nbytes", "strides", "__class__", "__name__", "__qualname__"}
)


def kind_of_type(t):
    """'num' for plain numbers, 'const' for values that carry no gradient, else 'any'."""
    if t is bool or t is np.bool_:
        return "const"
    if t in NUMBER_TYPES or issubclass(t, np.number):
        return "num"
    try:
        import fractions

        if issubclass(t, fractions.Fraction):
            return "num"
    except TypeError:
        pass
    if t in (str, bytes, type(None), range, types.ModuleType, types.BuiltinFunctionType, type) or issubclass(
        t, (str, type)
    ):
        return "const"
    return "any"


def _is_constant_value(v):
    """A value read from a global that can never carry a gradient or need Params accounting."""
    if isinstance(v, (types.ModuleType, type, types.BuiltinFunctionType, str, bytes, bool, type(None))):
        return True
    if isinstance(v, np.ufunc):
        return True
    if isinstance(v, types.FunctionType) and not v.__closure__:
        return True
    return False


class Analysis:
    def __init__(self, fdef, arg_kinds, fn_globals, freevars, static_value, code=None):
        self.code = code  # the user's code object: calls to it with the same kinds are direct
        self.return_kind = "num"  # assumed for direct recursive calls, checked below
        self.fdef = fdef
        self.arg_kinds = arg_kinds  # param name -> 'num' | 'any' | 'const'
        self.globals = fn_globals
        self.freevars = set(freevars)
        self.static_value = static_value  # node -> (True, value) for static module paths / globals
        self.params = _param_names(fdef.args)
        self.assigned = {}  # name -> [positions]
        self.pos = {}  # id(stmt) -> position
        self.loops_of = {}  # id(stmt) -> tuple of enclosing loop ids
        self.loop_span = {}  # loop id -> (start, end)
        self.bool_vars = set()
        self._number(fdef.body, ())
        self.locals = set(self.assigned) | set(self.params)
        self.kind = {}
        self.active = {}
        self._infer()
        ret = _return_atom(fdef.body)
        if self.return_kind == "num" and (ret is None or self.atom_info(ret)[0] != "num"):
            self.return_kind = "any"
            self.kind, self.active = {}, {}
            self._infer()
        self.useful = set()
        self._usefulness()

    # positions and assignments
    def _number(self, stmts, loops):
        for s in stmts:
            p = len(self.pos)
            self.pos[id(s)] = p
            self.loops_of[id(s)] = loops
            for name in assigned_names(s):
                self.assigned.setdefault(name, []).append(p)
            if isinstance(s, ast.If):
                self._number(s.body, loops)
                self._number(s.orelse, loops)
            elif isinstance(s, (ast.For, ast.While)):
                inner = loops + (id(s),)
                self._number(s.body, inner)
                self.loop_span[id(s)] = (p, len(self.pos))
            elif isinstance(s, (ListBuild, DictBuild, ast.With)):
                self._number(s.body, loops)
            elif isinstance(s, ast.Try):
                self._number(s.body, loops)
                for h in s.handlers:
                    self._number(h.body, loops)
                self._number(s.orelse, loops)
                self._number(s.finalbody, loops)
            self.end = len(self.pos)

    def reassigned_after(self, name, stmt):
        """True if `name` may be assigned after `stmt` has run (later, or by a later loop iteration)."""
        p = self.pos[id(stmt)]
        loops = self.loops_of[id(stmt)]
        for q in self.assigned.get(name, ()):
            if q > p:
                return True
            for lp in loops:
                lo, hi = self.loop_span[lp]
                if lo <= q <= hi:
                    return True
        return False

    def in_loop(self, stmt):
        return bool(self.loops_of[id(stmt)])

    # kinds and activity
    def atom_info(self, a):
        """(kind, active) of an atom."""
        if isinstance(a, ast.Constant):
            v = a.value
            if isinstance(v, bool) or v is None or isinstance(v, (str, bytes)):
                return "const", False
            if isinstance(v, NUMBER_TYPES):
                return "num", False
            return "any", False
        name = a.id
        if name == UFUNC_AT:
            return "const", False
        if name in self.locals:
            return self.kind.get(name, "num"), self.active.get(name, False)
        if name in self.freevars:
            return "any", True
        found, value = self.lookup_global(name)
        if found and _is_constant_value(value):
            return "const", False
        return "any", True

    def lookup_global(self, name):
        if name in self.globals:
            return True, self.globals[name]
        b = self.globals.get("__builtins__", builtins)
        b = b if isinstance(b, dict) else vars(b)
        if name in b:
            return True, b[name]
        return False, None

    def callee_value(self, func):
        """The transform-time value of a static callee (a global name or module path), else None."""
        if isinstance(func, ast.Name):
            if func.id in self.locals or func.id in self.freevars:
                return None
            found, v = self.lookup_global(func.id)
            return v if found else None
        ok, v = self.static_value(func)
        return v if ok else None

    def _rhs_info(self, v):
        if isinstance(v, (ast.Name, ast.Constant)):
            return self.atom_info(v)
        if isinstance(v, ast.BinOp):
            k1, a1 = self.atom_info(v.left)
            k2, a2 = self.atom_info(v.right)
            kind = "num" if k1 == "num" and k2 == "num" and not isinstance(v.op, ast.MatMult) else "any"
            return kind, a1 or a2
        if isinstance(v, ast.UnaryOp):
            if isinstance(v.op, (ast.Not, ast.Invert)):
                return "const", False
            return self.atom_info(v.operand)
        if isinstance(v, ast.Compare):
            return "const", False
        if isinstance(v, ast.Attribute):
            if v.attr in NONDIFF_ATTRIBUTES:
                return "const", False
            ok, value = self.static_value(v)
            if ok:
                return ("num", False) if isinstance(value, (int, float)) and not isinstance(value, bool) else ("const", False)
            return "any", self.atom_info(v.value)[1]
        if isinstance(v, ast.Subscript):
            return "any", self.atom_info(v.value)[1]
        if isinstance(v, ast.Call):
            f = self.callee_value(v.func)
            if f is not None:
                r = registry.lookup(f)
                if r is registry.CONSTANT:
                    return "const", False
            if self.is_self_call(v):
                return self.return_kind, True
            args = [a.value if isinstance(a, ast.Starred) else a for a in v.args]
            args += [k.value for k in v.keywords]
            infos = [self.atom_info(a) for a in args]
            active = any(a for _, a in infos)
            if isinstance(v.func, ast.Attribute) and not self._static(v.func):
                active = active or self.atom_info(v.func.value)[1]
            elif isinstance(v.func, ast.Name) and f is None:
                active = active or self.atom_info(v.func)[1]
            if (
                f is not None
                and not v.keywords
                and infos
                and all(k == "num" for k, _ in infos)
                and (f in registry.NUMBER_CLOSED if _hashable(f) else False)
            ):
                return "num", active
            # Python functions and classes may read globals (implicit parameters): their
            # results count as active even with constant arguments
            python_callee = f is None or (_hashable(f) and registry.lookup(f) is None)
            return "any", active or python_callee
        if isinstance(v, (ast.Tuple, ast.List, ast.Set)):
            return "any", any(self.atom_info(e.value if isinstance(e, ast.Starred) else e)[1] for e in v.elts)
        if isinstance(v, ast.Dict):
            return "any", any(self.atom_info(e)[1] for e in v.values)
        if isinstance(v, (ast.Lambda,)):
            return "any", True
        return "any", True

    def is_self_call(self, v):
        """A recursive call with arguments of the kinds this adjoint is specialised for."""
        if self.code is None or not isinstance(v.func, ast.Name) or v.keywords:
            return False
        f = self.callee_value(v.func)
        if not isinstance(f, types.FunctionType) or f.__code__ is not self.code or f.__closure__:
            return False
        positional = [a.arg for a in self.fdef.args.posonlyargs + self.fdef.args.args]
        if len(v.args) != len(positional) or any(isinstance(a, ast.Starred) for a in v.args):
            return False
        if self.fdef.args.vararg or self.fdef.args.kwonlyargs or self.fdef.args.kwarg:
            return False
        kinds = [self.arg_kinds.get(p, "any") for p in positional]
        return all(self.atom_info(a)[0] == k or (k == "const" and not self.atom_info(a)[1]) for a, k in zip(v.args, kinds))

    def _static(self, node):
        return self.static_value(node)[0]

    def _infer(self):
        for p in self.params:
            k = self.arg_kinds.get(p, "any")
            self.kind[p] = "any" if k == "const" else k
            self.active[p] = k != "const"
        assigns = list(_assignments(self.fdef.body))
        for name in self.assigned:
            self.kind.setdefault(name, "num")
            self.active.setdefault(name, False)
        changed = True
        while changed:
            changed = False
            for targets, info_fn in assigns:
                kind, active = info_fn(self)
                for t in targets:
                    if t not in self.kind:
                        continue
                    nk = self.kind[t] if kind == "keep" else ("num" if self.kind[t] == "num" and kind == "num" else "any")
                    if kind == "const" and t not in self.params:
                        nk = self.kind[t] if self.kind[t] != "num" else "num"
                        nk = "any" if nk == "any" else nk
                    na = self.active[t] or active
                    if nk != self.kind[t] or na != self.active[t]:
                        self.kind[t], self.active[t] = nk, na
                        changed = True
        for targets, rhs in _bool_assignments(self.fdef.body):
            self.bool_vars.update(targets)
        for name in list(self.bool_vars):
            if any(not b for b in _bool_sources(self.fdef.body, name)):
                self.bool_vars.discard(name)

    # usefulness (backward liveness of cotangents), flow-insensitive
    def _usefulness(self):
        useful = self.useful
        ret = _return_atom(self.fdef.body)
        if isinstance(ret, ast.Name):
            useful.add(ret.id)
        # an object that outlives the call (an argument, a global, a closure variable) and is
        # changed in place is an output too: what was stored in it needs its cotangent
        for name in _mutated_objects(self.fdef.body):
            if name in self.params or name not in self.assigned:
                useful.add(name)
        deps = list(_dependencies(self.fdef.body))
        changed = True
        while changed:
            changed = False
            for outs, ins in deps:
                if any(o in useful for o in outs):
                    for i in ins:
                        if i not in useful:
                            useful.add(i)
                            changed = True

    def differentiated(self, name):
        """Does the backward pass need the cotangent of variable `name`?"""
        return name in self.useful and self.atom_info(ast.Name(id=name))[1]


def _param_names(args):
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg:
        names.append(args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def _target_names(t):
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, (ast.Tuple, ast.List)):
        out = []
        for e in t.elts:
            out += _target_names(e.value if isinstance(e, ast.Starred) else e)
        return out
    return []


def assigned_names(s):
    if isinstance(s, ast.With):
        return [n for item in s.items if item.optional_vars is not None for n in _target_names(item.optional_vars)]
    if isinstance(s, ast.Try):
        return [h.name for h in s.handlers if h.name]
    if isinstance(s, ast.Assign):
        return [n for t in s.targets for n in _target_names(t)]
    if isinstance(s, ast.For):
        return _target_names(s.target)
    if isinstance(s, (ListBuild, DictBuild)):
        return [s.target.id]
    if isinstance(s, Native):
        inner = s.stmt
        if isinstance(inner, ast.Assign):
            return [n for t in inner.targets for n in _target_names(t)]
        if isinstance(inner, (ast.FunctionDef,)):
            return [inner.name]
        if isinstance(inner, (ast.Import, ast.ImportFrom)):
            return [(a.asname or a.name).split(".")[0] for a in inner.names]
    return []


def _walk_stmts(stmts):
    for s in stmts:
        yield s
        if isinstance(s, ast.If):
            yield from _walk_stmts(s.body)
            yield from _walk_stmts(s.orelse)
        elif isinstance(s, (ast.For, ast.While, ListBuild, DictBuild, ast.With)):
            yield from _walk_stmts(s.body)
        elif isinstance(s, ast.Try):
            yield from _walk_stmts(s.body)
            for h in s.handlers:
                yield from _walk_stmts(h.body)
            yield from _walk_stmts(s.orelse)
            yield from _walk_stmts(s.finalbody)


def _assignments(body):
    """(targets, info function) for every assignment."""
    builds = {}
    for s in _walk_stmts(body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            if isinstance(t, ast.Name):
                yield [t.id], (lambda an, v=s.value: an._rhs_info(v))
            elif isinstance(t, (ast.Tuple, ast.List)):
                yield _target_names(t), (lambda an, v=s.value: ("any", an._rhs_info(v)[1]))
            elif isinstance(t, (ast.Attribute, ast.Subscript)) and isinstance(t.value, ast.Name):
                # storing a value into an object makes the object carry its gradient
                yield [t.value.id], (lambda an, v=s.value: ("any", an.atom_info(v)[1]))
            if (
                isinstance(s.value, ast.Call)
                and isinstance(s.value.func, ast.Attribute)
                and isinstance(s.value.func.value, ast.Name)
            ):
                call_args = [a.value if isinstance(a, ast.Starred) else a for a in s.value.args]
                call_args += [k.value for k in s.value.keywords]
                yield [s.value.func.value.id], (
                    lambda an, args=call_args: ("any", any(an.atom_info(a)[1] for a in args))
                )
            elif isinstance(s.value, ast.Call):
                # a Python function may store one argument in another
                call_args = [a.value if isinstance(a, ast.Starred) else a for a in s.value.args]
                call_args += [k.value for k in s.value.keywords]
                names = [a.id for a in call_args if isinstance(a, ast.Name)]
                if len(names) > 1:
                    yield names, (lambda an, args=call_args, f=s.value.func: _python_call_activity(an, f, args))
        elif isinstance(s, ast.For):
            yield _target_names(s.target), (lambda an, v=s.iter: ("any", an.atom_info(v)[1]))
        elif isinstance(s, (ListBuild, DictBuild)):
            builds[s.target.id] = s
            yield [s.target.id], (lambda an, b=s: ("any", _build_active(an, b)))
        elif isinstance(s, (ast.With, ast.Try)):
            names = assigned_names(s)
            if names:
                yield names, (lambda an: ("const", False))
        elif isinstance(s, Native):
            names = assigned_names(s)
            if names and isinstance(s.stmt, ast.FunctionDef):
                yield names, (lambda an: ("any", True))
            elif names:
                yield names, (lambda an: ("const", False))


def _python_call_activity(an, func, args):
    f = an.callee_value(func)
    if f is not None and not isinstance(f, types.FunctionType):
        return "keep", False
    return "keep", any(an.atom_info(a)[1] for a in args)


def _build_active(an, b):
    for s in _walk_stmts(b.body):
        if isinstance(s, Append) and an.atom_info(s.value)[1]:
            return True
        if isinstance(s, SetKey) and an.atom_info(s.value)[1]:
            return True
    return False


def _bool_assignments(body):
    for s in _walk_stmts(body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            v = s.value
            if isinstance(v, ast.Compare) or (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)):
                yield [s.targets[0].id], v
            elif isinstance(v, ast.Constant) and isinstance(v.value, bool):
                yield [s.targets[0].id], v


def _bool_sources(body, name):
    for s in _walk_stmts(body):
        if name in assigned_names(s):
            ok = isinstance(s, ast.Assign) and (
                isinstance(s.value, ast.Compare)
                or (isinstance(s.value, ast.UnaryOp) and isinstance(s.value.op, ast.Not))
                or (isinstance(s.value, ast.Constant) and isinstance(s.value.value, bool))
            )
            yield ok


def _return_atom(body):
    for s in body:
        if isinstance(s, ast.Return):
            return s.value
    return None


def _names_in(node):
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def free_names_of_function(node):
    """Names a nested def/lambda reads from its enclosing scope (roughly: loads not bound inside)."""
    bound = set()
    for n in ast.walk(node):
        if isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            bound.add(n.id)
    body = node.body if isinstance(node.body, list) else [node.body]
    loads = set()
    for b in body:
        loads.update(_names_in(b))
    return loads - bound


def _mutated_objects(body):
    for s in _walk_stmts(body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            if isinstance(t, (ast.Attribute, ast.Subscript)) and isinstance(t.value, ast.Name):
                yield t.value.id
            v = s.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and isinstance(v.func.value, ast.Name):
                yield v.func.value.id


def _dependencies(body):
    """(outputs, inputs): if an output's cotangent is needed, so are the inputs'."""
    for s in _walk_stmts(body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            v = s.value
            if isinstance(t, ast.Name):
                ins = _names_in(v)
                if isinstance(v, ast.Lambda):
                    ins = list(free_names_of_function(v))
                if isinstance(v, ast.Call):
                    # a call may mutate its arguments: any useful argument makes all useful
                    args = _names_in(v)
                    yield [t.id] + args, args
                else:
                    yield [t.id], ins
            elif isinstance(t, (ast.Tuple, ast.List)):
                yield _target_names(t), _names_in(v)
            elif isinstance(t, (ast.Attribute, ast.Subscript)):
                obj = _names_in(t.value)
                yield obj, _names_in(v) + obj
        elif isinstance(s, ast.For):
            yield _target_names(s.target), _names_in(s.iter)
        elif isinstance(s, Append):
            yield [s.target.id], _names_in(s.value)
        elif isinstance(s, SetKey):
            yield [s.target.id], _names_in(s.value)
        elif isinstance(s, Native) and isinstance(s.stmt, ast.FunctionDef):
            yield [s.stmt.name], list(free_names_of_function(s.stmt))
