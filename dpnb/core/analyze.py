"""Stage 3 — analyze: find what each version holds and needs.

(Unsupported syntax is refused before, by `parse.reject_unsupported`.) `Analysis` runs on the
versioned tree (`ssa.to_ssa`), where a name has one value, so a flow-insensitive
pass is exact outside loops. For every version it finds:

- its *kind*: `real` (an int, float or Fraction, or a NumPy real scalar, whenever
  the arguments have the types the adjoint is specialised for), `num` (a number
  that may be complex), `const` (never carries a gradient: bools, strings,
  None, types, modules, loop indices) or `any`;
- whether it is *active* (may depend on an input, a global or a closure) and
  *useful* (its cotangent may reach the result or an object that outlives the
  call), so `wants(name)` says whether the backward pass computes its cotangent;
- where it is assigned, so the emitter knows which values the backward pass may
  read straight from the forward frame and which it must save (on the tape inside
  loops).
"""
import ast
import builtins
import fractions
import math
import operator
import types

import numpy as np

from ..rules import registry
from ..rules.registry import _hashable
from .astlib import walk
from .parse import reject_unsupported  # noqa: F401
from .operators import IMPLICIT_METHODS
from .normalize import ITER_BUILDER, SET_BUILDER, TRUTH, Append, DictBuild, ListBuild, Native, SetKey
from .ssa import assigned_names, child_blocks, free_vars, target_names, walk_stmts

# --- kinds --------------------------------------------------------------------------

_REAL_TYPES = (int, float, fractions.Fraction, np.floating, np.integer)
#: attributes that never carry a gradient, whatever the object (array metadata, type information)
NONDIFF_ATTRIBUTES = frozenset(
    {"shape", "ndim", "dtype", "size", "itemsize", "nbytes", "strides", "__class__", "__name__", "__qualname__"}
)
_ORDER = {"const": 0, "real": 1, "num": 2, "any": 3}


def kind_of_type(t):
    """The kind of a value of type `t` (see the module docstring)."""
    if t is bool or t is np.bool_:
        return "const"
    try:
        if issubclass(t, _REAL_TYPES):
            return "real"
        if issubclass(t, (complex, np.complexfloating)):
            return "num"
        # not `types.BuiltinFunctionType`: it is also the type of a built-in *bound* method
        # (`a.sum`, `lst.count`), whose cotangent is its object's (`runtime.getattr_`); an adjoint
        # given one (the runtime's `_call_other(f, ...)` reading `f.__self__`) must send it back
        if t in (str, bytes, type(None), range, types.ModuleType, type) or issubclass(t, (str, type, bytes)):
            return "const"
    except TypeError:
        pass
    return "any"


def join(a, b):
    """The kind of a variable that may hold a value of kind `a` or of kind `b`."""
    if a == b:
        return a
    if a == "const" and b in ("real", "num"):
        return b  # ints mixed with floats (a counter set to 0, then to x)
    if b == "const" and a in ("real", "num"):
        return a
    if {a, b} == {"real", "num"}:
        return "num"
    return "any"


def _is_constant_value(v):
    """A value read from a global that can never carry a gradient or need Params accounting."""
    if isinstance(v, (types.ModuleType, type, types.BuiltinFunctionType, str, bytes, bool, type(None))):
        return True
    if isinstance(v, (np.ufunc, types.BuiltinMethodType)):
        return True
    if isinstance(v, types.FunctionType) and not v.__closure__ and not v.__defaults__ and not v.__kwdefaults__:
        return True
    return False


#: the comparisons a class's own method answers (`is` and `in` give a bool)
_ORDERING = (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq, ast.NotEq)
_REAL_RESULT_MODULES = ("math",)
_REAL_RESULT = {abs, float, round, min, max, int, len, math.fsum}


class Analysis:
    def __init__(self, fdef, ssa, arg_kinds, fn_globals, freevars, static_value, code=None, filename=None):
        self.code = code  # the user's code object: calls to it with the same kinds are direct
        self.filename = filename
        self.return_kind = "real"  # assumed for direct recursive calls, checked below
        self.fdef = fdef
        self.ssa = ssa
        self.arg_kinds = arg_kinds  # param name -> kind
        self.globals = fn_globals
        self.freevars = set(freevars)
        self.static_value = static_value  # node -> (True, value) for static module paths / globals
        self.params = ssa.params
        self.cellvars = ssa.cellvars
        self.nonlocals = ssa.nonlocals
        self.defs = {}  # name -> [stmt]
        self.pos = {}  # id(stmt) -> position (pre-order)
        self.loops_of = {}  # id(stmt) -> tuple of ids of the loops around it
        self.loop_span = {}  # id(loop) -> (first, last) positions inside
        self.stmt_of = {}
        self.span = {}  # id(stmt) -> (its position, one past its last inner statement's)
        self._number(fdef.body, ())
        self.locals = set(self.defs) | set(self.params)
        ret = _return_atom(fdef.body)
        for _ in range(4):
            self._infer()
            rk = self.atom_kind(ret)
            if rk == self.return_kind or (rk == "const" and self.return_kind == "real"):
                break
            self.return_kind = join(self.return_kind, rk)
        self.useful = set()
        self._usefulness()
        self.bool_vars = self._bools()

    # --- positions --------------------------------------------------------------------
    def _number(self, stmts, loops):
        for s in stmts:
            p = len(self.pos)
            self.pos[id(s)] = p
            self.loops_of[id(s)] = loops
            self.stmt_of[id(s)] = s
            for name in assigned_names(s):
                self.defs.setdefault(name, []).append(s)
            if isinstance(s, (ast.For, ast.While)):
                inner = loops + (id(s),)
                self._number(s.body, inner)
                self.loop_span[id(s)] = (p, len(self.pos))
            else:
                for block in child_blocks(s):
                    self._number(block, loops)
            self.span[id(s)] = (p, len(self.pos))

    def saved_kind(self, name, stmt):
        """How the backward pass of `stmt` may read forward variable `name`:
        None (straight from the frame), 'tape' (pushed per iteration) or 'snapshot'."""
        defs = self.defs.get(name)
        if not defs or name not in self.ssa.multi:
            return None
        loops = self.loops_of.get(id(stmt), ())
        p = self.pos[id(stmt)]
        for d in defs:
            q = self.pos[id(d)]
            for lp in loops:
                lo, hi = self.loop_span[lp]
                if lo < q < hi or id(d) == lp:  # a loop's own target is set by every iteration
                    return "tape"
        for d in defs:
            if self.pos[id(d)] > p:
                return "tape" if loops else "snapshot"
        return None

    def defined_inside(self, name, stmt):
        """Is `name` assigned by a statement nested inside compound statement `stmt`?"""
        lo, hi = self.span.get(id(stmt), (0, 0))
        return any(lo < self.pos.get(id(d), -1) < hi for d in self.defs.get(name, ()))

    def in_loop(self, stmt):
        return bool(self.loops_of.get(id(stmt)))

    # --- names ------------------------------------------------------------------------
    def is_local(self, name):
        return name in self.locals and name not in self.cellvars and name not in self.nonlocals

    def is_cell(self, name):
        """A variable held in a cell: captured by a nested function, nonlocal, or a free variable."""
        return name in self.cellvars or name in self.nonlocals or (name in self.freevars and name not in self.locals)

    def lookup_global(self, name):
        if name in self.globals:
            return True, self.globals[name]
        b = self.globals.get("__builtins__", builtins)
        b = b if isinstance(b, dict) else vars(b)
        if name in b:
            return True, b[name]
        if name == SET_BUILDER:
            return True, set
        if name == ITER_BUILDER:
            return True, iter
        if name == TRUTH:
            return True, bool
        return False, None

    def callee_value(self, func):
        """The transform-time value of a static callee (a global name or module path), else None."""
        if isinstance(func, ast.Name):
            if func.id in self.locals or func.id in self.freevars or func.id in self.nonlocals:
                return None
            found, v = self.lookup_global(func.id)
            return v if found else None
        if isinstance(func, ast.Attribute):
            ok, v = self.static_value(func)
            return v if ok else None
        return None

    def atom_kind(self, a):
        if a is None:
            return "const"
        if isinstance(a, ast.Constant):
            v = a.value
            if isinstance(v, bool) or v is None or isinstance(v, (str, bytes)):
                return "const"
            if isinstance(v, complex):
                return "num"
            if isinstance(v, (int, float)):
                return "real"
            return "any"
        name = a.id
        if self.is_local(name):
            return self.kind.get(name, "const")
        if self.is_cell(name):
            return "any"
        found, value = self.lookup_global(name)
        if found and _is_constant_value(value):
            return "const"
        return "any"

    def plain_int(self, a, _depth=0):
        """An atom that always holds a plain int: an int literal, or a local set only by iterating a
        range() (directly, or copied from such a name). Arithmetic of a number with it is written
        inline, like arithmetic of two numbers."""
        if isinstance(a, ast.Constant):
            return type(a.value) is int
        if not isinstance(a, ast.Name) or not self.is_local(a.id) or a.id in self.params or _depth > 8:
            return False
        defs = self.defs.get(a.id, ())
        if not defs:
            return False
        for d in defs:
            if isinstance(d, ast.For) and isinstance(d.target, ast.Name) and d.target.id == a.id:
                if _iter_info(self, d.iter) != ("const", False) or not isinstance(d.iter, ast.Name):
                    return False
            elif isinstance(d, ast.Assign) and isinstance(d.targets[0], ast.Name) and isinstance(d.value, ast.Name):
                if not self.plain_int(d.value, _depth + 1):
                    return False
            else:
                return False
        return True

    def atom_active(self, a):
        if not isinstance(a, ast.Name):
            return False
        name = a.id
        if self.is_local(name):
            # an object (kind any) may be changed through another name that reaches it: always active
            return self.active.get(name, False) or self.kind.get(name) == "any"
        if self.is_cell(name):
            return True
        found, value = self.lookup_global(name)
        if found and _is_constant_value(value):
            return False
        return True

    # --- kinds and activity -------------------------------------------------------------
    def rhs(self, v):
        """(kind, active) of the value of an assignment's right-hand side."""
        if isinstance(v, (ast.Name, ast.Constant)):
            return self.atom_kind(v), self.atom_active(v)
        if isinstance(v, ast.BinOp):
            k1, k2 = self.atom_kind(v.left), self.atom_kind(v.right)
            active = self.atom_active(v.left) or self.atom_active(v.right)
            if isinstance(v.op, ast.MatMult) or "any" in (k1, k2):
                return "any", active
            if isinstance(v.op, (ast.FloorDiv, ast.Mod, ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
                if "num" in (k1, k2):
                    return "any", active
                return ("real" if active or "real" in (k1, k2) else "const"), active
            if isinstance(v.op, ast.Pow):
                # a negative real base with a fractional exponent gives a complex number
                exp = v.right
                if isinstance(exp, ast.Constant) and isinstance(exp.value, int) and k1 in ("real", "const"):
                    return ("real" if k1 == "real" or active else "const"), active
                return "num", active
            if k1 == "const" and k2 == "const":
                return ("real" if active else "const"), active
            kind = "real" if "num" not in (k1, k2) else "num"
            return kind, active
        if isinstance(v, ast.UnaryOp):
            if isinstance(v.op, ast.Invert) and self.atom_kind(v.operand) == "any":
                # `~a` of an object of the user's: its `__invert__`, whose result may carry gradients
                return "any", self.atom_active(v.operand)
            if isinstance(v.op, (ast.Not, ast.Invert)):
                return "const", False
            return self.atom_kind(v.operand), self.atom_active(v.operand)
        if isinstance(v, ast.Compare):
            operands = [v.left, v.comparators[0]]
            if len(v.ops) == 1 and type(v.ops[0]) in _ORDERING and "any" in map(self.atom_kind, operands):
                # `a < b` of an object of the user's: its `__lt__`, which may return anything
                return "any", any(map(self.atom_active, operands))
            return "const", False
        if isinstance(v, ast.Attribute):
            if v.attr in NONDIFF_ATTRIBUTES:
                return "const", False
            ok, value = self.static_value(v)
            if ok:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return "real", False
                return ("const", False) if _is_constant_value(value) else ("any", True)
            k = self.atom_kind(v.value)
            if k in ("real", "num") and v.attr in ("real", "imag"):
                return "real", self.atom_active(v.value)
            if v.attr == "__dict__":
                return "any", True  # an object's fields, which a write through the dict changes
            return "any", self.atom_active(v.value)
        if isinstance(v, ast.Subscript):
            return "any", self.atom_active(v.value)
        if isinstance(v, ast.Call):
            return self._call_info(v)
        if isinstance(v, (ast.Tuple, ast.List, ast.Set)):
            return "any", any(self.atom_active(e.value if isinstance(e, ast.Starred) else e) for e in v.elts)
        if isinstance(v, ast.Dict):
            return "any", any(self.atom_active(e) for e in v.values)
        if isinstance(v, ast.Lambda):
            return "any", True
        return "any", True

    def call_args(self, v):
        args = [a.value if isinstance(a, ast.Starred) else a for a in v.args]
        return args + [k.value for k in v.keywords]

    def _call_info(self, v):
        f = self.callee_value(v.func)
        args = self.call_args(v)
        active = any(self.atom_active(a) for a in args)
        if isinstance(v.func, ast.Attribute) and f is None:
            # a method call: the object is an operand too
            active = active or self.atom_active(v.func.value)
            return "any", active or self.atom_kind(v.func.value) == "any"
        if f is None:
            return "any", True  # a local or unknown callable: may be a closure over anything
        if self.is_self_call(v):
            return self.return_kind, True
        if f is vars:
            return "any", True  # an object's fields, which a write through the dict changes
        r = registry.lookup(f) if _hashable(f) else None
        if r is registry.CONSTANT:
            # arrays made by NumPy (np.zeros(3)) carry no gradient yet, but may be changed in place
            if (getattr(f, "__module__", "") or "").startswith("numpy") and not isinstance(f, type):
                return "any", True
            return "const", False
        kinds = [self.atom_kind(a) for a in args]
        if r is not None:
            if not v.keywords and kinds and all(k in ("real", "num", "const") for k in kinds) and f in registry.NUMBER_CLOSED:
                if all(k in ("real", "const") for k in kinds) and _real_result(f):
                    return "real", active
                return "num", active
            return "any", active
        if _makes_an_object(f):
            return "any", True  # `object.__new__(cls)`: a new object, whose fields may be set next
        if _is_c_callable(f):
            # a C function with no rule: a constant when nothing it is given can carry a gradient
            return ("any", True) if active else ("const", False)
        # Python code may read globals (implicit parameters): its result counts as active
        return "any", True

    def is_self_call(self, v):
        """A recursive call with arguments of the kinds this adjoint is specialised for."""
        if self.code is None or not isinstance(v.func, ast.Name) or v.keywords:
            return False
        f = self.callee_value(v.func)
        if not isinstance(f, types.FunctionType) or f.__code__ is not self.code or f.__closure__:
            return False
        a = self.fdef.args
        positional = [x.arg for x in a.posonlyargs + a.args]
        if len(v.args) != len(positional) or any(isinstance(x, ast.Starred) for x in v.args):
            return False
        if a.vararg or a.kwonlyargs or a.kwarg:
            return False
        kinds = [self.arg_kinds.get(p, "any") for p in positional]
        return all(self.atom_kind(x) == k or (k == "const" and not self.atom_active(x)) for x, k in zip(v.args, kinds))

    def _infer(self):
        kind, active = {}, {}
        self.kind, self.active = kind, active
        for p in self.params:
            if p in self.cellvars:
                continue
            k = self.arg_kinds.get(p, "any")
            kind[p] = k
            active[p] = k != "const"
        assigns = list(_assignments(self.fdef.body, self))
        changed = True
        while changed:
            changed = False
            for targets, info in assigns:
                k, a = info()
                for t in targets:
                    if not self.is_local(t):
                        continue
                    old = kind.get(t)
                    nk = k if old is None else join(old, k)
                    na = active.get(t, False) or a
                    if nk != old or na != active.get(t, False):
                        kind[t], active[t] = nk, na
                        changed = True

    # --- usefulness: the cotangents the backward pass needs ------------------------------
    def _usefulness(self):
        useful = self.useful
        ret = _return_atom(self.fdef.body)
        if isinstance(ret, ast.Name):
            useful.add(ret.id)
        deps = list(_dependencies(self.fdef.body, self))
        for outs, ins, always in deps:
            if always:
                useful.update(outs)
        changed = True
        while changed:
            changed = False
            for outs, ins, _ in deps:
                if any(o in useful for o in outs):
                    for i in ins:
                        if i not in useful:
                            useful.add(i)
                            changed = True

    def wants(self, atom):
        """Does the backward pass compute the cotangent of this atom (a local version)?"""
        if not isinstance(atom, ast.Name):
            return False
        name = atom.id
        return name in self.useful and self.atom_active(atom) and self.atom_kind(atom) != "const"

    def _bools(self):
        out = set()
        for s in walk_stmts(self.fdef.body):
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                v = s.value
                if isinstance(v, ast.Compare) or (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)) or (
                    isinstance(v, ast.Constant) and isinstance(v.value, bool)
                ) or _is_truth(v):
                    out.add(s.targets[0].id)
        # a name that is also assigned something else is not known to be a bool
        for s in walk_stmts(self.fdef.body):
            for n in assigned_names(s):
                if n in out and not (
                    isinstance(s, ast.Assign)
                    and isinstance(s.targets[0], ast.Name)
                    and (
                        isinstance(s.value, ast.Compare)
                        or (isinstance(s.value, ast.UnaryOp) and isinstance(s.value.op, ast.Not))
                        or (isinstance(s.value, ast.Constant) and isinstance(s.value.value, bool))
                        or (isinstance(s.value, ast.Name) and s.value.id in out)
                        or _is_truth(s.value)
                    )
                ):
                    out.discard(n)
        return out

    # --- callees ------------------------------------------------------------------------
    def callee_is_pure(self, v):
        """A call that cannot change anything the backward pass follows: run it plainly when
        its result needs no cotangent (constants and non-mutating rules of C functions)."""
        if getattr(v, "dpnb_out", False):
            return False  # writes into an argument
        f = self.callee_value(v.func)
        if f is None or not _hashable(f):
            return False
        if _writes_by_position(v, f):
            return False  # `np.sin(a, out)`, `np.dot(a, b, out)`: the output given by position
        r = registry.lookup(f)
        if r is registry.CONSTANT:
            # `str(a)`, `hash(a)`, `int(a)`: the method Python calls may be the user's code
            return not (f in _ANSWERED_BY_METHODS and any(self.may_run_users(a) for a in self.call_args(v)))
        if r is not None and not getattr(r, "mutates", False) and not isinstance(f, (types.FunctionType, type)):
            # Python's own functions (`abs`, `sorted`, `max`, `map`, `math.prod`) call the methods
            # of a class of the user's, and a key or predicate of the user's, as the user's code:
            # what those change is followed (the pullback runs though the result gets no cotangent)
            return not (_calls_back(f) and any(self.may_run_users(a) for a in self.call_args(v)))
        if r is None and _is_c_callable(f) and not _makes_an_object(f) and not any(self.atom_active(a) for a in self.call_args(v)):
            return True
        return False

    def may_run_users(self, a):
        """Whether a builtin given atom `a` may run code of the user's: `a` may be (or hold) an
        object of a class of the user's, or be a function of the user's (a key, a predicate)."""
        if not isinstance(a, ast.Name):
            return False
        if self.atom_kind(a) == "any":
            return True
        if self.is_local(a.id) or self.is_cell(a.id):
            return False
        found, value = self.lookup_global(a.id)
        return found and isinstance(value, (types.FunctionType, types.MethodType))

    def callee_is_constant(self, v):
        f = self.callee_value(v.func)
        if f is None or not _hashable(f):
            return False
        if _writes_by_position(v, f):
            return False  # `np.floor(z, z)`, `np.fix(z, z)`: writes into the output given by position
        return registry.lookup(f) is registry.CONSTANT


def _writes_by_position(v, f):
    """Is `f` given the array it writes into by position in call `v` (a ufunc's outputs after its
    inputs, `np.sin(a, a)`; `out` of np.dot(a, b, out), np.clip(a, lo, hi, out), ...)? A keyword
    form `f(*args, **kwargs)` counts its positional arguments in `dpnb_npos`."""
    if isinstance(f, np.ufunc):
        k = f.nin
    else:
        names = registry.out_params(f)
        if names is None:
            return False
        k = len(names) - 1
    if v.keywords:
        npos = getattr(v, "dpnb_npos", None)
        return npos is None or npos > k
    return len(v.args) > k


def _is_truth(v):
    """Whether expression `v` is a test's truth (`__dpnb_truth__(a)`, see `normalize.TRUTH`)."""
    return type(v) is ast.Call and type(v.func) is ast.Name and v.func.id == TRUTH


#: the modules of Python's own functions that call back into the code they are given
_CALLING_BACK = frozenset({"builtins", "math", "cmath", "operator", "_operator", "functools", "_functools", "itertools"})


#: builtins Python answers with a method of the object's class (`operators.IMPLICIT_METHODS`)
_ANSWERED_BY_METHODS = frozenset(IMPLICIT_METHODS) | {len, bool, operator.truth, print}


def _calls_back(f):
    """A function of C of Python's own that may call a method of a class of the user's, or a
    function it is given (not NumPy's, whose rules see arrays)."""
    return _is_c_callable(f) and not isinstance(f, np.ufunc) and getattr(f, "__module__", None) in _CALLING_BACK


def _is_c_callable(f):
    """A function or method implemented in C (no Python source to transform)."""
    return isinstance(f, (types.BuiltinFunctionType, types.BuiltinMethodType, types.MethodWrapperType,
                          types.WrapperDescriptorType, types.MethodDescriptorType, np.ufunc))


def _makes_an_object(f):
    """A built-in `__new__` (`object.__new__`, `dict.__new__`): it makes a new object of the class it
    is given, whose fields or items the code may set next, so its result is no constant."""
    return _is_c_callable(f) and getattr(f, "__name__", None) == "__new__"


def _real_result(f):
    if f in _REAL_RESULT:
        return True
    mod = getattr(f, "__module__", None)
    return mod in _REAL_RESULT_MODULES or isinstance(f, np.ufunc)


def _return_atom(body):
    for s in body:
        if isinstance(s, ast.Return):
            return s.value
    return None


def _names_in(node):
    return [n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def _assignments(body, an):
    """(targets, info()) for every assignment of a local."""
    for s in walk_stmts(body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            if isinstance(t, ast.Name):
                yield [t.id], (lambda v=s.value: an.rhs(v))
            elif isinstance(t, (ast.Tuple, ast.List)):
                yield target_names(t), (lambda v=s.value: ("any", an.rhs(v)[1]))
        elif isinstance(s, ast.For):
            it = s.iter
            yield target_names(s.target), (lambda it=it: _iter_info(an, it))
        elif isinstance(s, (ListBuild, DictBuild)):
            yield [s.target.id], (lambda b=s: ("any", _build_active(an, b)))
        elif isinstance(s, ast.With):
            names = assigned_names(s)
            if names:
                yield names, (lambda: ("any", True))
        elif isinstance(s, ast.Try):
            names = assigned_names(s)
            if names:
                yield names, (lambda: ("const", False))
        elif isinstance(s, Native):
            names = assigned_names(s)
            if names and isinstance(s.stmt, ast.FunctionDef):
                yield names, (lambda: ("any", True))
            elif names:
                yield names, (lambda: ("const", False))


def _iter_info(an, it):
    if isinstance(it, ast.Name) and an.is_local(it.id):
        # iterating a range() gives plain ints that carry no gradient
        defs = an.defs.get(it.id, ())
        if defs and all(
            isinstance(d, ast.Assign) and isinstance(d.value, ast.Call) and an.callee_value(d.value.func) is range
            for d in defs
        ):
            return "const", False
    return "any", an.atom_active(it)


def _build_active(an, b):
    for s in walk_stmts(b.body):
        if isinstance(s, Append) and an.atom_active(s.value):
            return True
        if isinstance(s, SetKey) and an.atom_active(s.value):
            return True
    return False


def _dependencies(body, an):
    """(outputs, inputs, always): if an output's cotangent is needed, so are the inputs';
    `always` marks outputs needed whatever happens (objects changed in place, closure variables)."""
    for s in walk_stmts(body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            v = s.value
            if isinstance(t, ast.Name) and an.is_cell(t.id):
                # a closure variable outlives the call: what is stored in it may matter
                yield [t.id] + _names_in(v), _names_in(v), True
            elif isinstance(t, ast.Name):
                if isinstance(v, ast.Lambda):
                    ins = _names_in(v.args)
                    yield [t.id], ins, False
                elif isinstance(v, ast.Call):
                    args = _names_in(v)
                    if an.callee_is_pure(v):
                        yield [t.id], args, False
                    else:
                        # a call may change its arguments: what it is given may matter
                        yield [t.id] + args, args, True
                elif isinstance(v, ast.BinOp) and getattr(v, "dpnb_inplace", None):
                    ins = _names_in(v)
                    yield [t.id] + ins, ins, an.atom_kind(v.left) == "any"
                else:
                    yield [t.id], _names_in(v), False
            elif isinstance(t, (ast.Tuple, ast.List)):
                yield target_names(t), _names_in(v), False
            elif isinstance(t, (ast.Attribute, ast.Subscript)):
                obj = _names_in(t.value)
                yield obj + _names_in(v), _names_in(v) + obj, True
        elif isinstance(s, ast.Delete):
            t = s.targets[0]
            if isinstance(t, (ast.Attribute, ast.Subscript)):
                obj = _names_in(t.value)
                yield obj, obj, True
        elif isinstance(s, ast.For):
            yield target_names(s.target), _names_in(s.iter), False
        elif isinstance(s, (ListBuild, DictBuild)):
            pass
        elif isinstance(s, Append):
            yield [s.target.id], _names_in(s.value), False
        elif isinstance(s, SetKey):
            yield [s.target.id], _names_in(s.value), False
        elif isinstance(s, ast.With):
            for item in s.items:
                if item.optional_vars is not None:
                    yield target_names(item.optional_vars), _names_in(item.context_expr), False
        elif isinstance(s, Native) and isinstance(s.stmt, ast.FunctionDef):
            ins = _names_in(s.stmt.args)
            yield [s.stmt.name], ins, False
