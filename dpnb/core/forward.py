"""Forward mode for scalar code: the gradient of a function of one number, in one pass.

For `gradient(f, x)` with one number `x`, the gradient is the derivative, and forward
mode computes it alongside the value: no tape, no pullback closures, and loops,
branches and recursion cost what they cost in `f` itself. `joined(fn, nargs)` writes
it from `fn`'s code after `normalize` (one operation a line; no SSA form: the code is
Python that rebinds names): after each statement that binds a name `v` whose value
depends on `x`, a statement binds its tangent `v_d` (names that depend on `x` are found
once, over the whole function, so a loop's names get tangents on every path). A value
that reads its own target, and a parameter bound again, are rewritten first
(`_own_body`). Arithmetic,
comparisons, `math` functions (the partials of their scalar rules) and calls of the
module's own functions (their forward code, compiled for which arguments carry
tangents; recursion included) are written out; anything else raises `Unsupported`
and the function takes the reverse way (`fuse`, or the general one).

What the code is given is checked when it runs: a value that does not depend on `x`
and meets one that does must be a plain number (an object with its own `__mul__`
would make the tangent rules wrong), and the result must be a float. Anything
unexpected (such a value, a rebound `math.sin`, an exception raised by the user's
code) raises `Bail`: the code is pure, so the reverse way runs it again from the
start, and reports an error where the user's line raised it.
"""
import ast
import math
import operator
import threading
import types
import weakref
from itertools import islice

import numpy as np

from .astlib import LOAD, STORE, C, N, assign, binop, call, copy_location, copy_tree, if_, name_nodes, shallow_copy, substitute, tup
from .names import Namer
from .load import gc_paused
from .runtime import Bail


class Unsupported(Exception):
    """The function is outside the code forward mode (or `fwdrev`) compiles."""


def _read(fn, spread, no_params, form):
    """`fn`'s source, checked, normalized and, with `form` "ssa", in SSA form (`load.normal_form`,
    `load.ssa_form`): (FunctionDef, static_value, Source), for a function of plain parameters
    (with `no_params`, of none too); `Unsupported` otherwise. With `spread` (a number of
    arguments), a `*args` function is read as a function of that many plain parameters, as the
    general way compiles it (`load._spread_varargs`)."""
    from . import load
    from .astlib import copy_tree, nodes
    from .parse import function_source, reject_unsupported

    code = fn.__code__
    varargs = spread is not None and code.co_flags & 0x04 and not code.co_kwonlyargcount and spread >= code.co_argcount
    if code.co_flags & ((0 if varargs else 0x04) | 0x08 | 0x20 | 0x80 | 0x100 | 0x200):
        raise Unsupported("*args, **kwargs, a generator or a coroutine")
    try:
        src = function_source(fn)
    except Exception as e:
        raise Unsupported(f"no source: {e}") from None
    fdef = load._spread_varargs(copy_tree(src.node), spread) if varargs else src.node
    a = fdef.args
    if a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or (not a.args and not no_params):
        raise Unsupported("parameters other than plain ones")
    try:
        every = nodes(fdef)  # (one walk for the passes that look at every node)
        reject_unsupported(fdef, src.filename, every)
        if form == "ssa":
            tree, _, namer, static_value = load.ssa_form(fn, fdef, src.filename, every)
        else:
            tree, namer, static_value = load.normal_form(fn, fdef, src.filename, every)
    except Exception as e:
        raise Unsupported(f"normalize: {e}") from None
    # every name of the tree is one the namer saw in the source or made (`Namer.taking`)
    tree.dpnb_taken = frozenset(namer.taken)
    return tree, static_value, src


def _ssa_body(fn, spread=None, no_params=False):
    """`fn`'s source in SSA form (`_read`): what `fwdrev` and `inert` read."""
    return _read(fn, spread, no_params, "ssa")


def _normal_body(fn):
    """`fn`'s source normalized (`_read`): what forward mode writes its code from. It need not be
    in SSA form, since the code binds each value's tangent right after the value (see
    `_own_body` for the two cases where that needs a rewrite)."""
    return _read(fn, None, False, "normal")


def _reads_of(versioned):
    """Every name the tree `versioned` (of `_read`) holds, read once per tree."""
    got = getattr(versioned, "dpnb_names", None)
    if got is None:
        got = versioned.dpnb_names = frozenset(n.id for n in name_nodes(versioned))
    return got


def namer_of(versioned):
    """A `Namer` for code written from the tree `versioned` (of `_read`)."""
    return Namer.taking(versioned.dpnb_taken)


#: the types of plain numbers
NUMBERS = frozenset({int, float, bool, np.float64, np.float32, np.int64, np.int32})

#: builtins that may run on values that carry no tangent (their results carry none either)
_PURE_BUILTINS = ("range", "len", "int", "float", "round", "abs", "min", "max", "bool")

_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod)


def _check(v):
    if type(v) not in NUMBERS:
        raise Bail


def _check_copy(v):
    if v is not None and type(v) not in NUMBERS:
        raise Bail


def _as_gradient(d):
    """The derivative as `gradient` hands it back for a float argument: a float."""
    if isinstance(d, (np.floating, np.integer, int)) and not isinstance(d, bool):
        return float(d)
    raise Bail


def _check_iterable(it):
    if type(it) not in (range, tuple, list):
        raise Bail


def _assigned(body):
    """(target name, value) of every assignment in `body`, nested blocks included."""
    for s in body:
        if isinstance(s, ast.Assign):
            yield s.targets[0], s.value
        elif isinstance(s, (ast.If, ast.While)):
            yield from _assigned(s.body)
            yield from _assigned(s.orelse)
        elif isinstance(s, ast.For):
            yield s.target, None
            yield from _assigned(s.body)


def _one():
    node = C(1.0)
    node.dpnb_one = True
    return node


def _is_one(node):
    return getattr(node, "dpnb_one", False)


def _own_body(tree, namer):
    """The parameters and body forward mode writes from the normalized `tree`, where a name may be
    bound more than once: each value's tangent is bound right after the value, which is right
    but in two cases, rewritten here (new statements; the tree's are not changed):
    - a parameter the body binds again is taken under a new name, and bound to its own name first
      (`def f(x_1): x = x_1 ...`): the parameter stays what was given, whose tangent may be the
      constant 1.0, and the code after binds a local;
    - a value that reads its own target (`s = s * x`) is bound to a new name first (`_t3 = s * x`,
      then `s = _t3`): its tangent reads `s` before `s` changes."""
    params = [a.arg for a in tree.args.args]
    bound = set()  # every name the body binds
    body = _own(tree.body, namer, bound)
    again = [p for p in params if p in bound]
    if again:
        first = []
        for p in again:
            given = namer.fresh(p + "_")
            params[params.index(p)] = given
            first.append(copy_location(ast.Assign([ast.Name(p, STORE)], N(given)), tree))
        body = first + body
    return params, body


def _own(stmts, namer, bound):
    """`_own_body`'s rewrite of the statements `stmts`, noting in `bound` the names they bind."""
    out = []
    for st in stmts:
        t = type(st)
        if t is _Assign:
            target = st.targets[0]
            if len(st.targets) == 1 and type(target) is _Name:
                bound.add(target.id)
                if target.id in _loads(st.value, []):
                    u = namer.temp()
                    out.append(copy_location(ast.Assign([ast.Name(u, STORE)], st.value), st))
                    out.append(copy_location(ast.Assign([ast.Name(target.id, STORE)], N(u)), st))
                    continue
            else:
                bound.update(n.id for target in st.targets for n in name_nodes(target))
        elif t is _If or t is _While or t is _For:
            if t is _For:
                bound.update(n.id for n in name_nodes(st.target))
            st = shallow_copy(st)
            st.body = _own(st.body, namer, bound)
            st.orelse = _own(st.orelse, namer, bound)
        out.append(st)
    return out


class _Writer:
    def __init__(self, fn, versioned, static_value, mask, top, filename):
        self.fn = fn
        self.static_value = static_value
        self.mask = mask
        self.top = top
        self.filename = filename
        self.namer = namer_of(versioned)
        self.params, self.body = _own_body(versioned, self.namer)
        self.helpers = {}  # name in the generated code -> value
        self.dots = {}
        self.deps = set()  # callables whose scalar rules were written inline
        self.math_helpers = set()  # names of the `math` functions partials call
        self.float_funcs = set()  # names in the generated code of functions sure to return a float
        self.self_masks = {}  # mask of a call of the function itself -> name of its instance
        self.self_names = {}
        self.active = {p for p, m in zip(self.params, mask) if m}
        # the "grad" forms: the parameter whose tangent is 1, and how many arguments `gradient`
        # was given ("grad": one, the first; "grad<n>": n, each of the others an int)
        self.x = self.params[mask.index(True)] if top and True in mask else None
        self.nargs = int(top[4:]) if isinstance(top, str) and top.startswith("grad") and top != "grad" else 1
        self.grad_form = isinstance(top, str) and top.startswith("grad")
        self.local = set(self.params)
        # every (target, value) of the body, read once here (the body is not changed before `write`)
        self.assigned = list(_assigned(self.body))
        for t, _ in self.assigned:
            if not isinstance(t, ast.Name):
                raise Unsupported("an assignment to something other than a name")
            self.local.add(t.id)
        self.lists, self.appends = self.list_names()
        self.find_active()
        # names only ever given number constants: plain numbers without a check
        consts = {}
        for t, v in self.assigned:
            ok = isinstance(v, ast.Constant) and type(v.value) in (int, float, bool)
            consts[t.id] = consts.get(t.id, True) and ok
        self.numeric = {n for n, ok in consts.items() if ok and n not in self.params}

    # --- names --------------------------------------------------------------------------------
    def fresh(self, base):
        return self.namer.exact(base)  # `base` itself if the function does not use it

    def helper(self, value, base):
        for k, v in self.helpers.items():
            if v is value and k.startswith(base):
                return N(k)
        name = self.fresh(base)
        self.helpers[name] = value
        return N(name)

    def math_helper(self, rule, nm):
        node = self.helper(rule.namespace[nm], "_" + nm)
        if callable(rule.namespace[nm]) and getattr(rule.namespace[nm], "__module__", None) == "math":
            self.math_helpers.add(node.id)
            if _returns_float(rule.namespace[nm]):
                self.float_funcs.add(node.id)
        return node

    def dot(self, name):
        d = self.dots.get(name)
        if d is None:
            d = self.dots[name] = self.fresh(name + "_d")
        return d

    # --- which names depend on x --------------------------------------------------------------
    def reads_active(self, v):
        return not self.active.isdisjoint(_loads(v, []))

    def list_names(self):
        """Lists the function makes (`xs = []`, bound once) and only appends to, sums, measures
        and indexes (`xs.append(v)`, `sum(xs)`, `len(xs)`, `xs[i]`): a list of their tangents
        goes with each. Returns those names, and the targets of their appends (always None)."""
        bound = {}
        for t, v in self.assigned:
            if isinstance(t, ast.Name):
                bound.setdefault(t.id, []).append(v)
        cands = {n for n, vs in bound.items() if len(vs) == 1 and isinstance(vs[0], ast.List) and not vs[0].elts
                 and n not in self.params}
        if not cands:
            return set(), {}
        builtin = lambda f: f not in self.local and f not in self.fn.__globals__  # noqa: E731
        uses = dict.fromkeys(cands, 0)
        appends = {}
        for t, v in self.assigned:
            if isinstance(v, ast.Call) and not v.keywords and len(v.args) == 1:
                f, a = v.func, v.args[0]
                if (isinstance(f, ast.Attribute) and f.attr == "append" and isinstance(f.value, ast.Name)
                        and f.value.id in cands and not (isinstance(a, ast.Name) and a.id in cands)):
                    uses[f.value.id] += 1
                    appends[t.id] = f.value.id
                elif isinstance(f, ast.Name) and f.id in ("sum", "len") and builtin(f.id) and isinstance(a, ast.Name) and a.id in cands:
                    uses[a.id] += 1
            elif isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in cands:
                uses[v.value.id] += 1
        loads = dict.fromkeys(cands, 0)
        for n in name_nodes(ast.Module(self.body, [])):
            if n.id in cands and isinstance(n.ctx, ast.Load):
                loads[n.id] += 1
        lists = {n for n in cands if loads[n] == uses[n]}
        return lists, {t: x for t, x in appends.items() if x in lists}

    def find_active(self):
        """The names that depend on x: the params given, then each name bound to a value that
        reads one (through every assignment, whatever the path: a least fixed point, found by
        following each name to the assignments that read it)."""
        readers = {}  # name -> the names of the assignments whose values read it
        for t, v in self.assigned:
            if v is None or isinstance(v, ast.Compare) or (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)):
                continue
            target = t.id
            if target in self.appends:
                # `xs.append(a)` gives None; the list carries tangents once an `a` does
                target, v = self.appends[target], v.args[0]
            elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "len" and (
                isinstance(v.args[0], ast.Name) and v.args[0].id in self.lists
            ):
                continue
            for n in _loads(v, []):
                readers.setdefault(n, []).append(target)
        active = self.active
        todo = list(active)
        while todo:
            for target in readers.get(todo.pop(), ()):
                if target not in active:
                    active.add(target)
                    todo.append(target)

    # --- the code -------------------------------------------------------------------------------
    def write(self):
        body = self.body
        if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
            raise Unsupported("no return at the end")
        ret = body[-1].value
        if not isinstance(ret, (ast.Name, ast.Constant)):
            raise Unsupported("a return that is not a name")
        out = []
        out.extend(self.block(body[:-1]))
        self.result_active = isinstance(ret, ast.Name) and ret.id in self.active
        if self.result_active:
            yd = self.d(ret)
        else:
            if self.top:
                raise Unsupported("a result that does not depend on the argument")
            yd = C(0.0)
        if _is_one(yd):
            yd = C(1.0)
        if self.grad_form:
            # a value with a tangent is a number: a float, or one of NumPy's (see `checked`), or
            # complex, which only `**` makes (checked there); the gradient of a float is a float.
            # The other arguments (ints no cotangent reaches, `int_args_inert`) get None.
            name = self.fresh("_dy")
            out.append(assign(name, yd))
            floats = _prune(out, self.x, self.float_funcs, name)
            pos = self.params.index(self.x)

            def grads(dy):
                return tup([dy if i == pos else C(None) for i in range(self.nargs)])

            if name in floats:
                out.append(ast.Return(grads(N(name))))
                return out
            test = ast.Compare(call(self.helper(type, "_type"), N(name)), [ast.Is()], [self.helper(float, "_float")])
            value = ast.IfExp(test, grads(N(name)), grads(call(self.helper(_as_gradient, "_as_gradient"), N(name))))
            out.append(ast.Return(value))
        elif self.top:
            out.append(ast.Return(tup([copy_tree(ret), tup([C(None), yd])])))
        else:
            out.append(ast.Return(tup([copy_tree(ret), yd])))
        return out

    def block(self, stmts):
        out = []
        for s in stmts:
            self.statement(s, out)
        return out

    def statement(self, s, out):
        if isinstance(s, ast.Assign):
            return self.assignment(s, out)
        if isinstance(s, ast.If):
            node = if_(copy_tree(s.test), self.block(s.body) or [ast.Pass()], self.block(s.orelse))
            return out.append(copy_location(node, s))
        if isinstance(s, ast.While):
            if s.orelse:
                raise Unsupported("while ... else")
            node = ast.While(copy_tree(s.test), self.block(s.body) or [ast.Pass()], [])
            return out.append(copy_location(node, s))
        if isinstance(s, ast.For):
            if s.orelse or not isinstance(s.target, ast.Name) or s.target.id in self.active:
                raise Unsupported("a for loop over values that depend on the argument")
            if not isinstance(s.iter, ast.Name) or s.iter.id in self.active:
                raise Unsupported("a for loop over values that depend on the argument")
            # a range, tuple or list: iterating an iterator would use it up for the reverse way
            out.append(copy_location(ast.Expr(call(self.helper(_check_iterable, "_iterable"), N(s.iter.id))), s))
            node = ast.For(copy_tree(s.target), copy_tree(s.iter), self.block(s.body) or [ast.Pass()], [], None)
            return out.append(copy_location(node, s))
        if isinstance(s, (ast.Break, ast.Continue, ast.Pass)):
            return out.append(copy_tree(s))
        raise Unsupported(f"a statement of kind {type(s).__name__}")

    def checked(self, atom, out, s):
        """A value that carries no tangent and meets one that does: a plain number, checked when
        it is not a constant."""
        if isinstance(atom, ast.Constant):
            if type(atom.value) not in (int, float, bool):
                raise Unsupported("a constant that is not a number")
            return
        if isinstance(atom, ast.Name):
            if atom.id not in self.numeric:
                out.append(copy_location(ast.Expr(call(self.helper(_check, "_check"), N(atom.id))), s))
            return
        raise Unsupported("an operand that is not a name or a constant")

    def d(self, atom):
        """The tangent of an atom, or None if it carries none (the argument's own, in the function
        `gradient` calls, is the constant 1.0: `_one`)."""
        if isinstance(atom, ast.Name) and atom.id in self.active:
            if self.top and atom.id == self.x:
                return _one()
            return N(self.dot(atom.id))
        return None

    def float_typed(self, e):
        """Is expression `e` sure to be a float (so that `1.0 * e` is `e`, value and type)? The
        values that carry tangents are floats when the argument is one (`gradient` compiles this
        for a float), and so are the results of `math` functions."""
        if isinstance(e, ast.Name):
            return e.id in self.active
        if isinstance(e, ast.Constant):
            return type(e.value) is float
        if isinstance(e, ast.Call):
            return isinstance(e.func, ast.Name) and e.func.id in self.math_helpers
        if isinstance(e, ast.BinOp) and not isinstance(e.op, (ast.MatMult, ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
            return self.float_typed(e.left) or self.float_typed(e.right)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
            return self.float_typed(e.operand)
        return False

    def times(self, d, e, d_first=True):
        """The product of tangent `d` and expression `e`, with `1.0 * e` written `e` where exact
        and `(1 / a) * d` written `d / a`."""
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div) and isinstance(e.left, ast.Constant) and e.left.value == 1 and type(e.left.value) in (int, float):
            return binop(C(1.0) if _is_one(d) else d, ast.Div(), e.right)
        if _is_one(d):
            return e if self.float_typed(e) else binop(C(1.0), ast.Mult(), e)
        return binop(d, ast.Mult(), e) if d_first else binop(e, ast.Mult(), d)

    def assignment(self, s, out):
        # a statement of the kept tree (`_normal_of`) is written as a copy: what comes after
        # changes the code it writes (`_prune` folds `e * 1.0` for a float `e`, positions are
        # set), and that tree is also the other forms' and masks'
        t = s.targets[0].id
        v = s.value
        if t in self.appends:
            # `xs.append(a)` on a list of the function's own: its tangent list gets a's tangent
            xs = self.appends[t]
            out.append(copy_tree(s))
            if xs in self.active:
                a = v.args[0]
                da = self.d(a)
                if da is None:
                    self.checked(a, out, s)
                    da = C(0.0)
                add = call(ast.Attribute(N(self.dot(xs)), "append", LOAD), da)
                out.append(copy_location(ast.Expr(add), s))
            return
        if t in self.lists:
            out.append(copy_tree(s))
            if t in self.active:
                out.append(copy_location(assign(self.dot(t), ast.List([], LOAD)), s))
            return
        if t in self.active and isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "sum" and (
            isinstance(v.args[0], ast.Name) and v.args[0].id in self.lists
        ):
            out.append(copy_tree(s))  # the sum of a list of the function's own: the sum of its tangents
            return out.append(copy_location(assign(self.dot(t), call(N("sum"), N(self.dot(v.args[0].id)))), s))
        if t in self.active and isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in self.lists:
            if self.reads_active(v.slice):
                raise Unsupported("an index that depends on the argument")
            out.append(copy_tree(s))
            d = ast.Subscript(N(self.dot(v.value.id)), copy_tree(v.slice), LOAD)
            return out.append(copy_location(assign(self.dot(t), d), s))
        if t not in self.active:
            # no tangent: the statement runs as written, if it is one that may run here
            if self.passive(s, v):
                return self.call(s, t, v, out, passive=True)
            return out.append(copy_tree(s))
        if isinstance(v, (ast.Name, ast.Constant)):
            out.append(copy_tree(s))
            dv = self.d(v)
            if dv is None:
                # a copy: a plain number, or None (what a return not yet reached holds)
                if isinstance(v, ast.Constant) and v.value is None:
                    pass
                elif isinstance(v, ast.Name) and v.id not in self.numeric:
                    out.append(copy_location(ast.Expr(call(self.helper(_check_copy, "_check_copy"), N(v.id))), s))
                else:
                    self.checked(v, out, s)
            return out.append(copy_location(assign(self.dot(t), dv if dv is not None else C(0.0)), s))
        if isinstance(v, (ast.BinOp, ast.UnaryOp)) and not self.reads_active(v):
            # this assignment of a name that carries a tangent elsewhere gives it none
            for atom in ((v.left, v.right) if isinstance(v, ast.BinOp) else (v.operand,)):
                self.checked(atom, out, s)
            out.append(copy_tree(s))
            return out.append(copy_location(assign(self.dot(t), C(0.0)), s))
        if isinstance(v, ast.BinOp):
            if type(v.op) not in _ARITH or getattr(v, "dpnb_inplace", None) not in (None, "name"):
                raise Unsupported("an operator outside + - * / ** // %")
            a, b = v.left, v.right
            da, db = self.d(a), self.d(b)
            for atom, dd in ((a, da), (b, db)):
                if dd is None:
                    self.checked(atom, out, s)
            out.append(copy_tree(s))
            if isinstance(v.op, ast.Pow) and not (isinstance(b, ast.Constant) and type(b.value) is int):
                # a negative number to a fractional power is complex: the reverse way says what then
                test = ast.Compare(call(self.helper(type, "_type"), N(t)), [ast.Is()], [self.helper(complex, "_complex")])
                out.append(copy_location(if_(test, [ast.Raise(self.helper(Bail, "_Bail"), None)]), s))
            expr = self.binop_tangent(v.op, a, b, da, db, N(t))
            return out.append(copy_location(assign(self.dot(t), expr), s))
        if isinstance(v, ast.UnaryOp):
            if not isinstance(v.op, (ast.USub, ast.UAdd)):
                raise Unsupported("a unary operator outside - +")
            out.append(copy_tree(s))
            da = self.d(v.operand)
            expr = ast.UnaryOp(ast.USub(), da) if isinstance(v.op, ast.USub) else da
            return out.append(copy_location(assign(self.dot(t), expr), s))
        if isinstance(v, ast.Call):
            if not self.reads_active(v):
                # this assignment of a name that carries a tangent elsewhere gives it none
                # (`y = math.sin(2.0)`): the call runs as one whose value carries none, which
                # is checked to be a number, and the tangent is 0
                if self.passive(s, v):
                    self.call(s, t, v, out, passive=True)
                else:
                    out.append(copy_tree(s))
                out.append(copy_location(ast.Expr(call(self.helper(_check, "_check"), N(t))), s))
                return out.append(copy_location(assign(self.dot(t), C(0.0)), s))
            return self.call(s, t, v, out)
        raise Unsupported(f"an expression of kind {type(v).__name__} that depends on the argument")

    def passive(self, s, v):
        """A statement whose value carries no tangent: allowed if running it twice is harmless."""
        if isinstance(v, (ast.Name, ast.Constant, ast.Compare, ast.BinOp, ast.UnaryOp)):
            return
        if isinstance(v, ast.Attribute):
            if self.static_value(v)[0]:
                return
            raise Unsupported("an attribute read")
        if isinstance(v, ast.Call) and not v.keywords and not any(isinstance(a, ast.Starred) for a in v.args):
            ok, f = self.static_value(v.func)
            if isinstance(v.func, ast.Name) and v.func.id in _PURE_BUILTINS and v.func.id not in self.local:
                return  # read when it runs: a rebound `range` is the user's
            if ok and _scalar_rule(f, len(v.args)) is not None:
                return
            if self.callee(v.func) is not None:
                return True  # the module's own function: its forward code, which is checked too
        raise Unsupported(f"a statement that may not run twice: {ast.unparse(v)}")

    def binop_tangent(self, op, a, b, da, db, t):
        if isinstance(op, ast.Add):
            if da is None:
                return db
            return da if db is None else binop(da, ast.Add(), db)
        if isinstance(op, ast.Sub):
            if da is None:
                return ast.UnaryOp(ast.USub(), db)
            return da if db is None else binop(da, ast.Sub(), db)
        if isinstance(op, ast.Mult):
            terms = []
            if da is not None:
                terms.append(self.times(da, copy_tree(b)))
            if db is not None:
                terms.append(self.times(db, copy_tree(a), d_first=False))
            return terms[0] if len(terms) == 1 else binop(terms[0], ast.Add(), terms[1])
        if isinstance(op, ast.Div):
            if db is None:
                return binop(da, ast.Div(), copy_tree(b))
            num = binop(t, ast.Mult(), db)
            num = ast.UnaryOp(ast.USub(), num) if da is None else binop(da, ast.Sub(), num)
            return binop(num, ast.Div(), copy_tree(b))
        if isinstance(op, ast.Pow):
            from .operators import log_base, pow_base_bar

            terms = []
            if da is not None:
                if isinstance(b, ast.Constant) and type(b.value) is int and 2 <= b.value <= 16:
                    k = b.value
                    p = copy_tree(a) if k == 2 else binop(copy_tree(a), ast.Pow(), C(k - 1))
                    terms.append(binop(C(float(k)), ast.Mult(), p) if _is_one(da) else binop(binop(da, ast.Mult(), C(k)), ast.Mult(), p))
                else:
                    terms.append(call(self.helper(pow_base_bar, "_pow_base_bar"), da, copy_tree(a), copy_tree(b)))
            if db is not None:
                terms.append(binop(binop(db, ast.Mult(), t), ast.Mult(), call(self.helper(log_base, "_log_base"), copy_tree(a), copy_tree(t))))
            return terms[0] if len(terms) == 1 else binop(terms[0], ast.Add(), terms[1])
        if isinstance(op, ast.FloorDiv):
            return binop(da if da is not None else db, ast.Mult(), C(0))
        if isinstance(op, ast.Mod):
            if db is None:
                return da
            q = call(self.helper(round, "_round"), binop(binop(copy_tree(a), ast.Sub(), t), ast.Div(), copy_tree(b)))
            term = binop(db, ast.Mult(), q)
            return ast.UnaryOp(ast.USub(), term) if da is None else binop(da, ast.Sub(), term)
        raise Unsupported("an operator")  # pragma: no cover - _ARITH lists the ones above

    def callee(self, func):
        """The module's own Python function a call names (looked up now, checked when it runs)."""
        if not isinstance(func, ast.Name) or func.id in self.local:
            return None
        f = self.fn.__globals__.get(func.id)
        if type(f) is not types.FunctionType:
            return None
        from ..rules import registry

        if registry.lookup(f) is not None:
            return None
        return f

    def call(self, s, t, v, out, passive=False):
        if v.keywords or any(isinstance(a, ast.Starred) for a in v.args):
            raise Unsupported("a call with keywords or *args")
        args = v.args
        for a in args:
            if not isinstance(a, (ast.Name, ast.Constant)):
                raise Unsupported("an argument that is not a name or a constant")
        ok, f = self.static_value(v.func)
        rule = _scalar_rule(f, len(args)) if ok else None
        if rule is not None:
            for a in args:
                if self.d(a) is None:
                    self.checked(a, out, s)
            # what the call names is the function the rule is for (else the reverse way): then
            # it is called as that function
            fname = getattr(f, "__name__", "f")
            fn = self.helper(f, "_" + (fname if fname.isidentifier() else "f") + "_fn").id
            guard = ast.Compare(copy_tree(v.func), [ast.IsNot()], [N(fn)])
            out.append(copy_location(if_(guard, [ast.Raise(self.helper(Bail, "_Bail"), None)]), s))
            if _returns_float(f):
                self.float_funcs.add(fn)
            out.append(copy_location(assign(t, ast.Call(N(fn), [copy_tree(a) for a in args], [])), s))
            self.deps.add(f)
            terms = []
            mapping = {n: a for n, a in zip(rule.argnames, args)}
            for partial, a in zip(rule.partials, args):
                da = self.d(a)
                if da is None:
                    continue
                if partial is None:
                    raise Unsupported(f"{getattr(f, '__name__', f)} has no derivative in an argument")
                expr = substitute(partial, mapping, N(t), lambda nm: self.math_helper(rule, nm))
                terms.append(self.times(da, expr, d_first=False))
            expr = terms[0]
            for term in terms[1:]:
                expr = binop(expr, ast.Add(), term)
            return out.append(copy_location(assign(self.dot(t), expr), s))
        g = self.callee(v.func)
        if g is None:
            raise Unsupported(f"a call of {ast.unparse(v.func)} with values that depend on the argument")
        if g.__code__.co_flags & 0x0C or g.__code__.co_kwonlyargcount or len(args) > g.__code__.co_argcount:
            raise Unsupported("a callee with *args, **kwargs or keyword-only parameters")
        mask = tuple(self.d(a) is not None for a in args)
        dots = [self.d(a) for a, m in zip(args, mask) if m]
        fvar = self.fresh("_g")
        out.append(copy_location(assign(fvar, copy_tree(v.func)), s))
        # the callee's own code checks the arguments that carry no tangent where they meet ones that do
        value = call(self.helper(call_forward, "_forward"), N(fvar), C(mask), *dots, *[copy_tree(a) for a in args])
        if passive:
            value = ast.Subscript(value, C(0), LOAD)
            return out.append(copy_location(assign(t, value), s))
        targets = lambda: [tup([ast.Name(t, STORE), ast.Name(self.dot(t), STORE)], store=True)]  # noqa: E731
        node = ast.Assign(targets(), value)
        if g is self.fn:
            # the function calls itself: its own forward code for this mask, without a look-up
            if "_me" not in self.self_names:
                self.self_names["_me"] = self.fresh("_me")
                self.helpers[self.self_names["_me"]] = None  # the function object: a cell per instance
            me = N(self.self_names["_me"])
            inst = self.self_masks.get(mask)
            if inst is None:
                inst = self.self_masks[mask] = self.fresh("_me_forward")
                self.helpers[inst] = None
            direct = ast.Assign(targets(), ast.Call(N(inst), [*dots_copy(dots), *[copy_tree(a) for a in args]], []))
            test = ast.Compare(N(fvar), [ast.Is()], [N(me.id)])
            return out.append(copy_location(if_(test, [direct], [node]), s))
        return out.append(copy_location(node, s))


#: `math` functions that return a float whatever numbers they are given (or raise)
_FLOAT_MATH = frozenset(
    n for n in (
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "hypot",
        "fabs", "erf", "erfc", "gamma", "lgamma", "pow", "copysign", "fmod", "degrees", "radians",
    ) if hasattr(math, n)
)


def _returns_float(f):
    name = getattr(f, "__name__", None)
    return name in _FLOAT_MATH and getattr(math, name) is f


def _small_int(node):
    """An int (or bool) constant that converts to a float exactly: `float op constant` cannot raise."""
    return isinstance(node, ast.Constant) and type(node.value) in (int, bool) and abs(node.value) < 2**53


def _float_const(node):
    return isinstance(node, ast.Constant) and type(node.value) is float


_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _prune(body, x, float_funcs, result):
    """Drop from the "grad" form the statements whose values nothing reads and which cannot raise
    (the primal's last sums and products: `gradient` does not return the value); fold products
    and sums of two number constants. Returns the names sure to hold a Python float.

    Which names hold floats is a fixed point over every assignment, whatever the path: `x` (a
    float: the "grad" form is compiled for one) and names only ever bound to `+ - * / // %` of
    such names and int or float constants, to `-`, or to what a `math` function that returns a
    float returns. Only `+ - *` and copies of floats and small int constants are dropped: they
    neither raise nor change anything, where `/`, `**` and `math` functions may raise, and only
    where every name they read is sure to be bound."""
    assigns = []  # (name, statement, the names its value reads) for each assignment to one name
    others = set()  # names bound otherwise (unpacking, a `for` target)
    # the names sure to be bound where each assignment runs: reading one cannot raise
    # `UnboundLocalError` (a name bound on one branch only may be unbound after the `if`). A
    # block's bound names are a dict, name -> the order it was bound in; where an assignment
    # runs they are `(dict, its length then)`: the entries of an order below that length
    bound_at = {}
    reads = {result: 1}  # how often each name is read: by the other statements here, then the values

    _scan(body, {x: 0}, (bound_at, assigns, reads, others))
    floats = {t for t, _, _ in assigns} - others

    def is_float(v):
        return _is_float(v, x, floats, float_funcs)

    # the fixed point: after the first round, only the values that read a name found not to be
    # a float in the round before are looked at again
    candidates = todo = [e for e in assigns if e[0] in floats]
    while todo:
        gone = set()
        for t, s, _ in todo:
            if t in floats and not is_float(s.value):
                floats.discard(t)
                gone.add(t)
        todo = [e for e in candidates if e[0] in floats and not gone.isdisjoint(e[2])] if gone else ()
    floats.add(x)

    # a float constant bound once (a tangent such as `-1.0` or `2.0`) is written where it is read,
    # where it is sure to be bound; `e * 1.0` is `e` and `e * -1.0` is `-e` for a float `e`
    times = {}
    for t, _, _ in assigns:
        times[t] = times.get(t, 0) + 1
    consts = {}
    for t, s, _ in assigns:
        v = s.value
        if type(v) is _Constant and type(v.value) is float and times[t] == 1 and t not in others:
            consts[t] = v
    for i, (t, s, names) in enumerate(assigns):
        if consts:
            v = s.value
            if not consts.keys().isdisjoint(names):
                v = _put_consts(v, consts, *bound_at[id(s)])
                names = _loads(v, [])
                assigns[i] = (t, s, names)
            if type(v) is _BinOp or type(v) is _UnaryOp:
                v = _fold_ones(v, is_float)  # (drops constants only: the names stay)
            s.value = v
        for n in names:
            reads[n] = reads.get(n, 0) + 1

    def droppable(v):
        t = type(v)
        if t is _Name or t is _Constant:
            return True
        if t is _UnaryOp or (t is _BinOp and type(v.op) in _KEPT_OPS):
            return is_float(v)  # float op float, or a float and a small int constant
        return False

    # the statements dropped are a least fixed point too: each unread one that may go, then those
    # the names it read assign, once their last reader is gone
    dead = set()
    assigning = {}
    for e in assigns:
        assigning.setdefault(e[0], []).append(e)
    todo = [e for e in assigns if not reads.get(e[0])]
    while todo:
        t, s, names = todo.pop()
        if reads.get(t) or id(s) in dead or not droppable(s.value):
            continue
        b, k = bound_at[id(s)]
        if all(b.get(n, k) < k for n in names):
            dead.add(id(s))
            for n in names:
                reads[n] -= 1
                if not reads[n]:
                    todo.extend(assigning.get(n, ()))
    if dead:
        _remove(body, dead)
    return floats


def _scan(stmts, bound, facts):
    """`_prune`'s walk of the statements `stmts`, where the names of `bound` are bound: it notes
    in `facts`, `(bound_at, assigns, reads, others)`, what `_prune` says of each."""
    bound_at, assigns, reads, others = facts
    for s in stmts:
        t = type(s)
        if t is _Assign and type(s.targets[0]) is _Name:
            name = s.targets[0].id
            bound_at[id(s)] = (bound, len(bound))
            bound.setdefault(name, len(bound))
            v = s.value
            if type(v) is _BinOp or type(v) is _UnaryOp:
                v = _fold(s, v)
            assigns.append((name, s, _loads(v, [])))
            continue
        if t is _If:
            names = _loads(s.test, [])
            body_bound = _scan(s.body, dict(bound), facts)
            orelse_bound = _scan(s.orelse, dict(bound), facts)
            # (the names bound before are in both: only those the branches bound are new)
            _bind(bound, [n for n in islice(body_bound, len(bound), None) if n in orelse_bound])
        elif t is _Raise and type(s.exc) is _Name and s.cause is None:
            names = [s.exc.id]  # a check's `raise _Bail`
        elif t is _For or t is _While:
            names = _loads(s.iter if t is _For else s.test, [])
            inner = dict(bound)
            if t is _For:
                bound_names = [n.id for n in name_nodes(s.target)]
                others.update(bound_names)
                _bind(inner, bound_names)
            _scan(s.body, inner, facts)
            _scan(s.orelse, dict(bound), facts)
        else:
            names = [n.id for n in name_nodes(s) if type(n.ctx) is _Load]
            if t is _Assign:
                bound_names = [n.id for n in name_nodes(s.targets[0])]
                others.update(bound_names)
                _bind(bound, bound_names)
        for n in names:
            reads[n] = reads.get(n, 0) + 1
    return bound


def _is_float(v, x, floats, float_funcs):
    """Whether expression `v` is sure to be a float, `x` and the names of `floats` being floats and
    the functions named in `float_funcs` returning them."""
    t = type(v)
    if t is _Name:
        return v.id == x or v.id in floats
    if t is _Constant:
        return type(v.value) is float
    if t is _BinOp:
        op, a, b = type(v.op), v.left, v.right
        if op in _FLOAT_OPS:
            if _is_float(a, x, floats, float_funcs):
                return _small_int(b) or _is_float(b, x, floats, float_funcs)
            return _small_int(a) and _is_float(b, x, floats, float_funcs)
        return op is _Pow and type(b) is _Constant and type(b.value) is int and _is_float(a, x, floats, float_funcs)
    if t is _UnaryOp:
        return type(v.op) in _SIGNS and _is_float(v.operand, x, floats, float_funcs)
    if t is _Call:
        return type(v.func) is _Name and v.func.id in float_funcs
    return False


_Name, _Load, _Constant = ast.Name, ast.Load, ast.Constant
_Assign, _If, _For, _While, _Raise = ast.Assign, ast.If, ast.For, ast.While, ast.Raise
_BinOp, _UnaryOp, _Call, _Attribute, _Pow = ast.BinOp, ast.UnaryOp, ast.Call, ast.Attribute, ast.Pow
#: the operators of floats whose results are floats (with `**` of an int constant)
_FLOAT_OPS = frozenset({ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod})
#: the operators whose statements may be dropped (they cannot raise on floats)
_KEPT_OPS = frozenset({ast.Add, ast.Sub, ast.Mult})
_SIGNS = frozenset({ast.USub, ast.UAdd})


def _fold(s, v):
    """`-c` and `c op d` of number constants (one of them a float) as one constant: the value of
    assignment `s` (`v`, a unary or binary operation) after."""
    if type(v) is _UnaryOp:
        if type(v.op) is ast.USub and _float_const(v.operand):
            v = s.value = C(-v.operand.value)
        return v
    op = _FOLD.get(type(v.op))
    a, b = v.left, v.right
    if op is not None and (_float_const(a) or _small_int(a)) and (_float_const(b) or _small_int(b)) and (_float_const(a) or _float_const(b)):
        v = s.value = C(op(a.value, b.value))
    return v


def _loads(v, out):
    """The names expression `v` reads, each as often as it does, appended to the list `out`."""
    t = type(v)
    if t is _Name:
        if type(v.ctx) is _Load:
            out.append(v.id)
    elif t is _BinOp:
        _loads(v.left, out)
        _loads(v.right, out)
    elif t is _Constant:
        pass
    elif t is _UnaryOp:
        _loads(v.operand, out)
    elif t is _Call:
        _loads(v.func, out)
        for a in v.args:
            _loads(a, out)
        for k in v.keywords:
            _loads(k.value, out)
    elif t is _Attribute:
        _loads(v.value, out)
    else:
        out.extend(n.id for n in name_nodes(v) if type(n.ctx) is _Load)
    return out


def _put_consts(v, consts, bound, k):
    """`v` with each name of `consts` it reads that is bound (an entry of `bound` of an order
    below `k`) replaced by a copy of its constant."""
    if type(v) is ast.Name:
        c = consts.get(v.id)
        return C(c.value) if c is not None and bound.get(v.id, k) < k else v
    d = v.__dict__
    for field in v._fields:
        value = d.get(field)
        if isinstance(value, ast.expr):
            setattr(v, field, _put_consts(value, consts, bound, k))
        elif type(value) is list:
            value[:] = [_put_consts(e, consts, bound, k) if isinstance(e, ast.expr) else e for e in value]
    return v


def _bind(bound, names):
    for n in names:
        bound.setdefault(n, len(bound))


def _fold_ones(v, is_float):
    if isinstance(v, ast.BinOp):
        v.left, v.right = _fold_ones(v.left, is_float), _fold_ones(v.right, is_float)
        if isinstance(v.op, ast.Mult):
            for c, e in ((v.left, v.right), (v.right, v.left)):
                if _float_const(c) and c.value in (1.0, -1.0) and is_float(e):
                    return e if c.value == 1.0 else ast.UnaryOp(ast.USub(), e)
    elif isinstance(v, ast.UnaryOp):
        v.operand = _fold_ones(v.operand, is_float)
    return v


def _remove(stmts, dead):
    stmts[:] = [s for s in stmts if id(s) not in dead]
    for s in stmts:
        for field in ("body", "orelse"):
            block = getattr(s, field, None)
            if block:
                _remove(block, dead)
                if not block and field == "body":
                    block.append(ast.Pass())


def dots_copy(dots):
    return [C(1.0) if _is_one(d) else copy_tree(d) for d in dots]


def _scalar_rule(f, nargs):
    from ..rules import registry

    try:
        registry.lookup(f)  # registers the rules of f's domain if they wait
        rule = registry.SCALAR_RULES.get(f)
    except TypeError:
        return None
    if rule is None or len(rule.argnames) != nargs:
        return None
    return rule


# --- compiling, and instances per function object ---------------------------------------------

class _ByCode:
    """A dict keyed by code objects themselves (two functions of equal code in two files are two
    keys: code objects compare equal by content), dropped with the code."""

    def __init__(self):
        self.d = {}

    def get(self, code):
        e = self.d.get(id(code))
        return e[1] if e is not None and e[0]() is code else None

    def __setitem__(self, code, value):
        key = id(code)
        self.d[key] = (weakref.ref(code, lambda _, k=key, d=self.d: d.pop(k, None)), value)

    def pop(self, code, default=None):
        e = self.d.pop(id(code), None)
        return e[1] if e is not None and e[0]() is code else default

    def clear(self):
        self.d.clear()


_UNSUPPORTED = object()
#: code -> {(mask, top): template function, or _UNSUPPORTED} (a redefined function has new code)
_TEMPLATES = _ByCode()
#: code -> (the globals it was read in, its normalized form (`_normal_body`)), for the forms and
#: masks compiled from it
_NORMAL = _ByCode()
#: code -> (the globals it was read in, its SSA form (`_ssa_body`)), for the gradients that write
#: it inline (`fwdrev`) and `inert`'s analysis
_SSA = _ByCode()
#: id(function) -> (weak reference, code, defaults, {(mask, top): instance or None})
_INSTANCES = {}


def _template(fn, mask, top):
    per = _TEMPLATES.get(fn.__code__)
    if per is None:
        per = _TEMPLATES[fn.__code__] = {}
    t = per.get((mask, top))
    if t is None:
        try:
            t = (top and _through_callee(fn, mask, top)) or _build(fn, mask, top)
        except Unsupported:
            t = _UNSUPPORTED
        per[(mask, top)] = t
    return None if t is _UNSUPPORTED else t


def _through_callee(fn, mask, top, trees=None):
    """For a function that reads itself by name (a recursive one: its calls of itself need the
    code of the form it calls, `(mask, False)`), the top form `top` as a few lines around that
    same code: `dy` from `(y, dy) = f_forward(1.0, *params)`, checked and placed as `top` hands it
    back. One code written and compiled where there were two, the same numbers (a tangent of 1.0
    multiplies exactly). None where the function does not read itself, or its result carries no
    tangent (then the top form says so), or the form it calls does not apply. (With a list
    `trees`, both codes are written anew and their trees appended to it: what `source` shows.)"""
    name = fn.__code__.co_name
    if name not in fn.__code__.co_names or fn.__globals__.get(name) is not fn:
        return None  # it reads no global of its name: it does not call itself
    versioned, _, src = _normal_of(fn)
    if name not in _reads_of(versioned):
        return None
    callee = _template(fn, mask, False)
    if callee is None or not callee._dpnb_result_active:
        return None
    callee_trees = []
    if trees is not None:
        _build(fn, mask, False, callee_trees)  # (built above: the same code again, its tree kept)
    params = [a.arg for a in versioned.args.args]
    namer = namer_of(versioned)
    me, y, dy = namer.exact("_me_forward"), namer.exact("_y"), namer.exact("_dy")
    helpers = {me: None}
    body = [assign(tup([ast.Name(y, STORE), ast.Name(dy, STORE)], store=True),
                   call(N(me), C(1.0), *[N(p) for p in params]))]
    if top == "pair":
        body.append(ast.Return(tup([N(y), tup([C(None), N(dy)])])))
    else:
        nargs = int(top[4:]) if top != "grad" else 1
        pos = mask.index(True)
        kind, flt, as_gradient = namer.exact("_type"), namer.exact("_float"), namer.exact("_as_gradient")
        helpers.update({kind: type, flt: float, as_gradient: _as_gradient})

        def grads(d):
            return tup([d if i == pos else C(None) for i in range(nargs)])

        test = ast.Compare(call(N(kind), N(dy)), [ast.Is()], [N(flt)])
        body.append(ast.Return(ast.IfExp(test, grads(N(dy)), grads(call(N(as_gradient), N(dy))))))
    for st in body:
        copy_location(st, src.node)
    t = _compiled(fn, src, params, body, list(helpers), helpers, trees)
    if trees is not None:
        trees.extend(callee_trees)  # shown after the top form's
    t._dpnb_self = {me: mask}
    t._dpnb_result_active = True
    t._dpnb_callee = callee
    return t


def _kept(cache, read, fn):
    """`read(fn)`, kept in `cache` by `fn`'s code (`Unsupported` where it raises). Its names are
    resolved in `fn`'s globals: a function of the same code in other globals reads it again."""
    got = cache.get(fn.__code__)
    if got is None or got[0] is not fn.__globals__:
        got = (fn.__globals__, read(fn))
        cache[fn.__code__] = got
    return got[1]


def _normal_of(fn):
    """`_normal_body(fn)`, read once for every mask and form."""
    return _kept(_NORMAL, _normal_body, fn)


def _ssa_of(fn):
    """`_ssa_body(fn)`, read once for every gradient that writes `fn` inline (`fwdrev`, which
    copies it) and for `inert`'s analysis."""
    return _kept(_SSA, _ssa_body, fn)


@gc_paused
def _build(fn, mask, top, trees=None):
    from . import load

    versioned, static_value, src = _normal_of(fn)
    w = _Writer(fn, versioned, static_value, mask, top, src.filename)
    body = w.write()
    params = w.params
    dots = [w.dot(p) for p, m in zip(params, mask) if m] if not top else []
    # names of the generated code that a global the user's code reads would be shadowed by
    # (the code binds the function's own locals and the names its namer made: not in the tree)
    stored = w.namer.taken - versioned.dpnb_taken
    reads = _reads_of(versioned) - w.local
    if reads & (stored | set(w.helpers) | set(dots)):
        raise Unsupported("a name of the generated code is one the function reads")
    free = list(fn.__code__.co_freevars)
    factory_params = list(w.helpers) + [v for v in free if v not in w.helpers]
    t = _compiled(fn, src, dots + params, body, factory_params, w.helpers, trees)
    for f in w.deps:
        try:
            load._DEPENDENTS.setdefault(f, set()).add(id(fn.__code__))
        except TypeError:
            pass
    t._dpnb_result_active = w.result_active
    t._dpnb_callee = None
    # cells each instance fills with its own function object and the instances of its masks
    t._dpnb_self = {w.self_names["_me"]: None} if w.self_names else {}
    t._dpnb_self.update({name: m for m, name in w.self_masks.items()})
    return t


def _compiled(fn, src, params, body, factory_params, helpers, trees=None):
    """`def <fn>_forward(*params): body`, compiled at `fn`'s place in its file (`src`) inside a
    factory of `factory_params` (the helpers, with their values, and `fn`'s free variables),
    named as `fn` is; its tree appended to the list `trees` if one is given. (The tree is not
    kept: `source` writes the code again. A tree kept per function is hundreds of objects the
    cyclic collector goes through again and again.)"""
    from . import load

    name = (fn.__name__ if fn.__name__.isidentifier() else "lambda") + "_forward"
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    inner = ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None, type_comment=None)
    copy_location(inner, src.node)
    template = load._in_factory(inner, src.node, factory_params, helpers, fn.__globals__, src.filename, False)
    code = template.__code__.replace(co_name=fn.__code__.co_name, co_qualname=fn.__code__.co_qualname + ".<forward>")
    if trees is not None:
        trees.append(inner)
    return types.FunctionType(code, fn.__globals__, code.co_name, None, template.__closure__)


def instance(fn, mask, top):
    """The forward code of Python function `fn` for this mask (which parameters carry tangents),
    bound to `fn`'s globals, closure cells and defaults; None where forward mode does not apply."""
    key = id(fn)
    e = _INSTANCES.get(key)
    if e is not None and e[0]() is fn and e[1] is fn.__code__ and e[2] is fn.__defaults__:
        got = e[3].get((mask, top), False)
        if got is not False:
            return got
    with _lock:  # an instance is seen by other threads only once its cells are filled
        return _instance(fn, mask, top)


def _instance(fn, mask, top):
    key = id(fn)
    e = _INSTANCES.get(key)
    if e is None or e[0]() is not fn or e[1] is not fn.__code__ or e[2] is not fn.__defaults__:
        e = _INSTANCES[key] = (weakref.ref(fn, lambda _, k=key: _INSTANCES.pop(k, None)), fn.__code__, fn.__defaults__, {})
    per = e[3]
    k = (mask, top)
    if k in per:
        return per[k]
    mine = _PENDING.get((key, k))
    if mine is not None:
        return mine  # being made by this thread, further up (mutual recursion)
    from ..rules import registry

    # a function with a rule of its own (the user's) is differentiated by its rule: the reverse
    # way (every rule change empties these tables)
    t = _template(fn, mask, top) if registry.lookup(fn) is None else None
    inst = None
    if t is not None:
        tcode = t.__code__
        own = {n: types.CellType() for n in t._dpnb_self}
        if tcode.co_freevars:
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            theirs = dict(zip(tcode.co_freevars, t.__closure__ or ()))
            closure = tuple(own.get(n) or cells.get(n) or theirs[n] for n in tcode.co_freevars)
        else:
            closure = None
        inst = types.FunctionType(tcode, fn.__globals__, t.__name__, fn.__defaults__, closure)
        _PENDING[(key, k)] = inst
        try:
            for n, m in t._dpnb_self.items():
                if m is None:
                    own[n].cell_contents = fn
                else:
                    callee = inst if (m, False) == k else _instance(fn, m, False)
                    own[n].cell_contents = callee if callee is not None else _never
        finally:
            del _PENDING[(key, k)]
    per[k] = inst
    return inst


#: instances being made (their cells not filled yet), by (id(function), (mask, form))
_PENDING = {}
_lock = threading.RLock()


def _never(*args):
    raise Bail


def call_forward(g, mask, *args):
    """`g(*args)` with the tangents of the masked arguments first: `(value, tangent)`."""
    if type(g) is not types.FunctionType:
        raise Bail
    e = _INSTANCES.get(id(g))
    inst = False
    if e is not None and e[0]() is g and e[1] is g.__code__ and e[2] is g.__defaults__:
        inst = e[3].get((mask, False), False)
    if inst is False:
        inst = instance(g, mask, False)
    if inst is None:
        raise Bail
    return inst(*args)


def joined(fn, nargs, form="pair"):
    """For `gradient(fn, x)` with one number `x` (the other parameters left to their defaults): a
    function called like `fn` that returns `(y, (None, dy/dx))` (`form` "pair", the protocol of
    `fuse`'s joined functions) or `(dy/dx,)` ("grad", what `gradient` returns); None if forward
    mode does not apply."""
    code = fn.__code__
    if nargs != 1 or code.co_argcount < 1 or code.co_flags & 0x0C or code.co_kwonlyargcount:
        return None
    if code.co_argcount - 1 > len(fn.__defaults__ or ()):
        return None
    mask = (True,) + (False,) * (code.co_argcount - 1)
    return instance(fn, mask, form)


def source(fn):
    """The forward-mode code `gradient(fn, x)` runs for one float `x`, as Python source (what it
    returns is `(dy/dx,)`); None where forward mode does not apply.

    >>> print(source(lambda x: 3 * x ** 2 + 1))
    def lambda_forward(x):
        _t1 = x ** 2
        _t1_d = 2.0 * x
        _t2_d = 3 * _t1_d
        _t3_d = _t2_d
        _dy = _t3_d
        return (_dy,)

    (The value's last product and sum are gone: nothing reads them and they cannot raise; `x ** 2`
    stays, for it may raise `OverflowError` as `f` would.)
    """
    if not isinstance(fn, types.FunctionType) or not fn.__code__.co_argcount:
        return None
    mask = (True,) + (False,) * (fn.__code__.co_argcount - 1)
    if _template(fn, mask, "grad") is None:
        return None
    # written again (the same code: the writer depends on nothing else), its trees kept this time.
    # A recursive function's: a few lines around the code its calls of itself run, shown after
    trees = []
    if _through_callee(fn, mask, "grad", trees) is None:
        _build(fn, mask, "grad", trees)
    return "\n\n".join(ast.unparse(t) for t in trees)


def forget():
    _TEMPLATES.clear()
    _NORMAL.clear()
    _SSA.clear()
    _INSTANCES.clear()


def _on_rule_change(f):
    forget()


def _listen():
    from ..rules import registry

    registry.on_rule_change(_on_rule_change)


_listen()
