"""Forward mode (Zygote's `pushforward`): a tangent-mode transform of the normalized code.

`jvp_function(fn, types)` returns a compiled function `(dots, *args) -> (y, y_dot)`: the
user's code with, after each operation, a line computing the tangent of its result.
Control flow stays as written (no tape, no replay). Tangents are `None` where they are zero.

Primitive calls: scalar rules give `sum(partial_i * dot_i)`; functions linear in their
first argument (reshape, transpose, sum, ...) are applied to the tangent; matmul and the
arithmetic operators have their product rules; Python functions are transformed in turn;
any other rule is pushed forward through its pullback (`api.jvp`). In-place changes are
refused.
"""
import ast
import copy
import dataclasses
import operator
import types

import numpy as np

from ..errors import NoRuleError, UnsupportedSyntaxError
from ..rules import registry
from ..rules.registry import _hashable
from . import names as names_mod
from .analyze import reject_unsupported
from .astlib import C, N, S, assign
from .astlib import call as node_call
from .normalize import Append, DictBuild, ListBuild, Native, SetKey, normalize
from .parse import function_source

CACHE = {}


_BINOPS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.Pow: "pow",
    ast.MatMult: "matmul", ast.FloorDiv: "floordiv", ast.Mod: "mod",
}


class TangentEmitter:
    def __init__(self, fdef, namer, helper, filename):
        self.fdef = fdef
        self.namer = namer
        self.h = helper
        self.filename = filename
        self.dots = {}

    def dot(self, name):
        d = self.dots.get(name)
        if d is None:
            d = self.dots[name] = self.namer.exact(f"{name.lstrip('_')}_dot" if not name.startswith("_t") else f"{name}_dot")
        return d

    def dexpr(self, atom):
        """The tangent of an atom, as an expression (None for constants and globals)."""
        if isinstance(atom, ast.Name) and (atom.id in self.locals or atom.id in self.freevars):
            return N(self.dot(atom.id))
        return C(None)

    def block(self, stmts):
        out = []
        for s in stmts:
            self.stmt(s, out)
        return out

    def stmt(self, s, out):
        if isinstance(s, ast.Assign):
            self.assign(s, out)
        elif isinstance(s, ast.If):
            out.append(ast.copy_location(ast.If(test=s.test, body=self.block(s.body) or [ast.Pass()], orelse=self.block(s.orelse)), s))
        elif isinstance(s, ast.For):
            k = self.namer.fresh("_k")
            seq_dot = self.dexpr(s.iter)
            body = [assign(self.dot(s.target.id), node_call(self.h("item_dot"), seq_dot, N(k)))] + self.block(s.body)
            loop = ast.For(target=ast.Tuple(elts=[S(k), S(s.target.id)], ctx=ast.Store()), iter=node_call("enumerate", s.iter), body=body, orelse=[], type_comment=None)
            out.append(ast.copy_location(loop, s))
        elif isinstance(s, ast.While):
            out.append(ast.copy_location(ast.While(test=s.test, body=self.block(s.body), orelse=[]), s))
        elif isinstance(s, ListBuild):
            out.append(assign(s.target.id, ast.List(elts=[], ctx=ast.Load())))
            out.append(assign(self.dot(s.target.id), ast.List(elts=[], ctx=ast.Load())))
            out.extend(self.block(s.body))
        elif isinstance(s, DictBuild):
            out.append(assign(s.target.id, ast.Dict(keys=[], values=[])))
            out.append(assign(self.dot(s.target.id), ast.Dict(keys=[], values=[])))
            out.extend(self.block(s.body))
        elif isinstance(s, Append):
            out.append(ast.Expr(value=node_call(ast.Attribute(value=N(s.target.id), attr="append", ctx=ast.Load()), s.value)))
            out.append(ast.Expr(value=node_call(ast.Attribute(value=N(self.dot(s.target.id)), attr="append", ctx=ast.Load()), self.dexpr(s.value))))
        elif isinstance(s, SetKey):
            out.append(ast.Assign(targets=[ast.Subscript(value=N(s.target.id), slice=s.key, ctx=ast.Store())], value=s.value))
            out.append(ast.Assign(targets=[ast.Subscript(value=N(self.dot(s.target.id)), slice=copy.deepcopy(s.key), ctx=ast.Store())], value=self.dexpr(s.value)))
        elif isinstance(s, ast.Try):
            handlers = [ast.copy_location(ast.ExceptHandler(type=h.type, name=h.name, body=self.block(h.body) or [ast.Pass()]), h) for h in s.handlers]
            out.append(ast.copy_location(ast.Try(body=self.block(s.body) or [ast.Pass()], handlers=handlers, orelse=self.block(s.orelse), finalbody=self.block(s.finalbody)), s))
        elif isinstance(s, ast.With):
            out.append(ast.copy_location(ast.With(items=s.items, body=self.block(s.body) or [ast.Pass()], type_comment=None), s))
        elif isinstance(s, Native):
            out.append(s.stmt)
            inner = s.stmt
            if isinstance(inner, ast.FunctionDef):
                out.append(self.closure_registration(inner.name, inner))
            elif isinstance(inner, ast.Assign):
                for t in inner.targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            out.append(assign(self.dot(n.id), C(None)))
        elif isinstance(s, ast.Return):
            out.append(ast.copy_location(ast.Return(value=ast.Tuple(elts=[s.value, self.dexpr(s.value)], ctx=ast.Load())), s))
        elif isinstance(s, ast.Break):
            out.append(s)
        else:
            out.append(s)

    def closure_registration(self, name, node):
        """After a def or lambda: remember the tangents of the variables it closes over."""
        from .analyze import free_names_of_function

        free = sorted(free_names_of_function(node))
        table = ast.Dict(keys=[C(n) for n in free], values=[node_call(self.h("local_dot"), node_call("locals"), C(self.dot(n))) for n in free])
        return ast.Expr(value=node_call(self.h("register_closure"), N(name), table))

    def assign(self, s, out):
        target = s.targets[0]
        v = s.value
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            raise UnsupportedSyntaxError(
                "an in-place change in forward mode (jvp)", self.filename, s.lineno,
                "use pullback/gradient (reverse mode), which follows it",
            )
        if isinstance(target, (ast.Tuple, ast.List)):
            out.append(s)
            names = []
            star = None
            for i, e in enumerate(target.elts):
                if isinstance(e, ast.Starred):
                    star = i
                    e = e.value
                names.append(S(self.dot(e.id)))
            out.append(ast.Assign(targets=[ast.Tuple(elts=names, ctx=ast.Store())], value=node_call(self.h("unpack_dot"), self.dexpr(v), C(len(names)), C(star), v)))
            return
        t = target.id
        td = self.dot(t)
        if isinstance(v, (ast.Name, ast.Constant)):
            out.append(s)
            out.append(assign(td, self.dexpr(v)))
        elif isinstance(v, ast.BinOp):
            op = _BINOPS.get(type(v.op))
            if op is None:
                out.append(s)
                out.append(assign(td, C(None)))
                return
            pair = ast.Tuple(elts=[S(t), S(td)], ctx=ast.Store())
            out.append(ast.copy_location(ast.Assign(targets=[pair], value=node_call(self.h("binop"), C(op), v.left, v.right, self.dexpr(v.left), self.dexpr(v.right))), s))
        elif isinstance(v, ast.UnaryOp):
            out.append(s)
            if isinstance(v.op, ast.USub):
                out.append(assign(td, node_call(self.h("neg"), self.dexpr(v.operand))))
            elif isinstance(v.op, ast.UAdd):
                out.append(assign(td, self.dexpr(v.operand)))
            else:
                out.append(assign(td, C(None)))
        elif isinstance(v, ast.Compare):
            out.append(s)
            out.append(assign(td, C(None)))
        elif isinstance(v, ast.Attribute):
            out.append(s)
            out.append(assign(td, node_call(self.h("getattr_dot"), copy.deepcopy(v.value), self.dexpr(v.value), C(v.attr)) if isinstance(v.value, ast.Name) else C(None)))
        elif isinstance(v, ast.Subscript):
            out.append(s)
            out.append(assign(td, node_call(self.h("getitem_dot"), self.dexpr(v.value), _index(v.slice))))
        elif isinstance(v, ast.Call):
            self.call(s, v, t, td, out)
        elif isinstance(v, (ast.Tuple, ast.List)):
            out.append(s)
            if any(isinstance(e, ast.Starred) for e in v.elts):
                parts = ast.Tuple(elts=[ast.Tuple(elts=[C(True), self.dexpr(e.value), e.value], ctx=ast.Load()) if isinstance(e, ast.Starred) else ast.Tuple(elts=[C(False), self.dexpr(e), C(None)], ctx=ast.Load()) for e in v.elts], ctx=ast.Load())
                out.append(assign(td, node_call(self.h("starred_dot"), parts, C(isinstance(v, ast.List)))))
            else:
                elts = [self.dexpr(e) for e in v.elts]
                out.append(assign(td, ast.List(elts=elts, ctx=ast.Load()) if isinstance(v, ast.List) else ast.Tuple(elts=elts, ctx=ast.Load())))
        elif isinstance(v, ast.Dict):
            out.append(s)
            if any(k is None for k in v.keys):
                out.append(assign(td, C(None)))
            else:
                out.append(assign(td, ast.Dict(keys=[copy.deepcopy(k) for k in v.keys], values=[self.dexpr(x) for x in v.values])))
        elif isinstance(v, ast.Lambda):
            out.append(s)
            out.append(assign(td, C(None)))
            out.append(self.closure_registration(t, v))
        else:
            out.append(s)
            out.append(assign(td, C(None)))

    def call(self, s, v, t, td, out):
        pair = ast.Tuple(elts=[S(t), S(td)], ctx=ast.Store())
        kw_form = len(v.args) == 1 and isinstance(v.args[0], ast.Starred) and len(v.keywords) == 1
        if isinstance(v.func, ast.Attribute) and isinstance(v.func.value, ast.Name) and not self.static(v.func):
            obj = v.func.value
            if kw_form:
                rhs = node_call(self.h("callmethod_kw"), obj, self.dexpr(obj), C(v.func.attr), v.args[0].value, self.dexpr(v.args[0].value), v.keywords[0].value)
            else:
                dots = ast.Tuple(elts=[self.dexpr(a) for a in v.args], ctx=ast.Load())
                rhs = node_call(self.h("callmethod"), obj, self.dexpr(obj), C(v.func.attr), ast.Tuple(elts=list(v.args), ctx=ast.Load()), dots)
        else:
            fdot = self.dexpr(v.func) if isinstance(v.func, ast.Name) and v.func.id in self.locals else C(None)
            if kw_form:
                rhs = node_call(self.h("call_kw"), v.func, fdot, v.args[0].value, self.dexpr(v.args[0].value), v.keywords[0].value)
            else:
                dots = ast.Tuple(elts=[self.dexpr(a) for a in v.args], ctx=ast.Load())
                rhs = node_call(self.h("call"), v.func, fdot, ast.Tuple(elts=list(v.args), ctx=ast.Load()), dots)
        out.append(ast.copy_location(ast.Assign(targets=[pair], value=rhs), s))

    def run(self, params, static):
        self.static = static
        self.locals = {n.id for n in ast.walk(self.fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | set(params)
        body = []
        dots = self.namer.exact("_dots")
        cdots = self.namer.exact("_cdots")
        for i, p in enumerate(params):
            body.append(assign(self.dot(p), node_call(self.h("nth"), N(dots), C(i))))
        for fv in self.freevars:
            body.append(assign(self.dot(fv), node_call(self.h("closure_dot"), N(cdots), C(fv))))
        body += self.block(self.fdef.body)
        args = copy.deepcopy(self.fdef.args)
        for a in args.posonlyargs + args.args + args.kwonlyargs + [x for x in (args.vararg, args.kwarg) if x]:
            a.annotation = None
        args.defaults = []
        args.kw_defaults = [None] * len(args.kwonlyargs)
        args.posonlyargs = [ast.arg(arg=dots), ast.arg(arg=cdots)] + args.posonlyargs
        new = ast.FunctionDef(name=self.fdef.name, args=args, body=body, decorator_list=[], returns=None, type_comment=None)
        return ast.copy_location(new, self.fdef)


def _index(idx):
    if isinstance(idx, ast.Slice):
        return node_call("slice", idx.lower or C(None), idx.upper or C(None), idx.step or C(None))
    if isinstance(idx, ast.Tuple):
        return ast.Tuple(elts=[_index(e) for e in idx.elts], ctx=ast.Load())
    return idx


def jvp_function(fn, key):
    """The compiled tangent-mode version of `fn` for argument types `key`: (dots, cdots, *args) -> (y, y_dot)."""
    k = (fn.__code__, key)
    f = CACHE.get(k)
    if f is not None:
        return f
    from .load import _local_names, _static_resolver

    src = function_source(fn)
    fdef = src.node
    reject_unsupported(fdef, src.filename)
    namer = names_mod.Namer(fdef)
    local = _local_names(fdef)
    static_value = _static_resolver(fn, local)
    normalized = normalize(fdef, namer, lambda n: static_value(n)[0], src.filename)
    helper_names = {}
    values = {}

    def helper(name):
        if name not in helper_names:
            helper_names[name] = namer.exact("_f_" + name)
            values[helper_names[name]] = HELPERS[name]
        return helper_names[name]

    em = TangentEmitter(normalized, namer, helper, src.filename)
    em.freevars = list(fn.__code__.co_freevars)
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
    if fdef.args.vararg:
        params.append(fdef.args.vararg.arg)
    params += [a.arg for a in fdef.args.kwonlyargs]
    if fdef.args.kwarg:
        params.append(fdef.args.kwarg.arg)
    new = em.run(params, lambda n: static_value(n)[0])
    new.name = namer.exact("_dpnb_tangent")
    factory_params = list(values) + [v for v in fn.__code__.co_freevars if v not in values]
    factory = ast.FunctionDef(
        name="_dpnb_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in factory_params], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[new, ast.Return(value=N(new.name))], decorator_list=[], returns=None, type_comment=None,
    )
    ast.copy_location(factory, fdef)
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, src.filename, "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    made = types.FunctionType(fcode, fn.__globals__)(*[values.get(p) for p in factory_params])
    CACHE[k] = made
    return made


def instance(fn, key):
    t = jvp_function(fn, key)
    if not fn.__code__.co_freevars:
        if fn.__defaults__ is not None or fn.__kwdefaults__ is not None:
            t = types.FunctionType(t.__code__, fn.__globals__, t.__name__, fn.__defaults__, t.__closure__)
            t.__kwdefaults__ = fn.__kwdefaults__
        return t
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__))
    mine = dict(zip(t.__code__.co_freevars, t.__closure__ or ()))
    closure = tuple(cells.get(n) or mine[n] for n in t.__code__.co_freevars)
    new = types.FunctionType(t.__code__, fn.__globals__, t.__name__, fn.__defaults__, closure)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


# --- the runtime of tangent mode -------------------------------------------------------------

_CLOSURES = {}  # id(function) -> (function, {free name: tangent})


def register_closure(fn, table):
    if any(v is not None for v in table.values()):
        _CLOSURES[id(fn)] = (fn, table)


def local_dot(local_vars, name):
    return local_vars.get(name)


def closure_dot(cdots, name):
    return None if cdots is None else cdots.get(name)


def nth(dots, i):
    return dots[i] if dots is not None and i < len(dots) else None


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def scale(d, c):
    return None if d is None else d * c


def neg(d):
    return None if d is None else -d


def item_dot(seq_dot, k):
    if seq_dot is None:
        return None
    return seq_dot[k]


def getitem_dot(obj_dot, idx):
    if obj_dot is None:
        return None
    if isinstance(obj_dot, dict):
        return obj_dot.get(idx)
    return obj_dot[idx]


def getattr_dot(obj, obj_dot, name):
    if obj_dot is None:
        return None
    from ..tangents import Tangent

    if isinstance(obj_dot, Tangent):
        return obj_dot.fields.get(name)
    if isinstance(obj, np.ndarray) and name in ("T", "mT", "real", "imag"):
        return getattr(obj_dot, name)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return getattr(obj_dot, name, None)
    return None


def unpack_dot(dot, n, star, value):
    if dot is None:
        return (None,) * n
    items = list(dot)
    if star is not None:
        k = len(items) - (n - 1)
        items = items[:star] + [items[star : star + k]] + items[star + k :]
    return tuple(items)


def starred_dot(parts, as_list):
    out = []
    for starred, d, value in parts:
        if starred:
            out.extend(list(d) if d is not None else [None] * len(value))
        else:
            out.append(d)
    return out if as_list else tuple(out)


def binop(op, a, b, da, db):
    from .runtime import _class_attr, _is_user

    if _is_user(a) or _is_user(b):
        meth = _class_attr(type(a), f"__{op}__")
        if isinstance(meth, types.FunctionType):
            return call(meth, None, (a, b), (da, db))
        meth = _class_attr(type(b), f"__r{op}__")
        return call(meth, None, (b, a), (db, da))
    y = getattr(operator, op)(a, b)
    if da is None and db is None:
        return y, None
    if op == "add":
        return y, add(da, db)
    if op == "sub":
        return y, add(da, neg(db))
    if op == "mul":
        return y, add(scale(da, b), scale(db, a))
    if op == "truediv":
        return y, add(None if da is None else da / b, None if db is None else -db * y / b)
    if op == "pow":
        d = None if da is None else da * (b * a ** (b - 1) if not (np.isscalar(b) and b == 0) else 0 * a)
        if db is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                d = add(d, db * y * np.log(a))
        return y, d
    if op == "matmul":
        return y, add(None if da is None else da @ b, None if db is None else a @ db)
    if op in ("floordiv",):
        return y, None if da is None else 0 * da
    if op == "mod":
        return y, add(da, None if db is None else -db * (a // b))
    raise NoRuleError(getattr(operator, op))


#: NumPy functions linear in their first argument (the others are parameters): f(dot, *rest)
LINEAR_FIRST = {
    np.reshape, np.transpose, np.sum, np.mean, np.swapaxes, np.moveaxis, np.expand_dims, np.squeeze,
    np.broadcast_to, np.flip, np.roll, np.tile, np.repeat, np.diag, np.trace, np.tril, np.triu,
    np.cumsum, np.diff, np.ravel, np.take, np.real, np.imag, np.negative, np.positive,
    np.fliplr, np.flipud, np.rot90, np.diagonal, np.atleast_1d, np.atleast_2d,
}
#: linear in every element of their first argument, a sequence
LINEAR_SEQUENCE = {np.concatenate, np.stack, np.hstack, np.vstack, np.column_stack, np.dstack}
LINEAR_METHODS = {"sum", "mean", "reshape", "transpose", "ravel", "flatten", "squeeze", "swapaxes", "cumsum", "copy", "T", "diagonal", "trace", "repeat", "take"}


def _zero_like(x):
    return np.zeros(np.shape(x)) if isinstance(x, np.ndarray) else 0.0 * x


def call(f, fdot, args, dots, kwargs=None):
    """(y, y_dot) for f(*args) with argument tangents `dots`."""
    kwargs = kwargs or {}
    if all(d is None for d in dots) and fdot is None and f not in (None,):
        if not isinstance(f, types.FunctionType) and not _has_closure_dots(f):
            return f(*args, **kwargs), None
    try:
        rule = registry.lookup(f)
    except TypeError:
        rule = None
    if rule is registry.CONSTANT:
        return f(*args, **kwargs), None
    sr = registry.SCALAR_RULES.get(f) if rule is not None and not kwargs else None
    if sr is not None and len(sr.argnames) == len(args):
        y = f(*args)
        ns = dict(sr.namespace)
        ns.update(zip(sr.argnames, args))
        ns["y"] = y
        ydot = None
        for p, d, src in zip(sr.partials, dots, sr.sources):
            if p is None or d is None:
                continue
            ydot = add(ydot, d * eval(compile(ast.Expression(p), "<partial>", "eval"), ns))
        return y, ydot
    fwd = _FORWARD_RULES.get(f) if _hashable(f) else None
    if fwd is not None:
        return fwd(args, dots, kwargs)
    if isinstance(f, type) and (dataclasses.is_dataclass(f) or (issubclass(f, tuple) and hasattr(f, "_fields"))):
        return _construct(f, args, dots, kwargs)
    if f in LINEAR_FIRST:
        y = f(*args, **kwargs)
        return y, (None if dots[0] is None else f(dots[0], *args[1:], **kwargs))
    if f in LINEAR_SEQUENCE:
        y = f(*args, **kwargs)
        if dots[0] is None:
            return y, None
        seq = [d if d is not None else _zero_like(a) for d, a in zip(dots[0], args[0])]
        return y, f(seq, *args[1:], **kwargs)
    if f is np.matmul or f is np.dot:
        return binop("matmul", args[0], args[1], dots[0], dots[1])
    if rule is None and isinstance(f, types.FunctionType):
        cd = _CLOSURES.get(id(f))
        cdots = cd[1] if cd is not None and cd[0] is f else None
        t = instance(f, tuple(map(type, args)))
        return t(dots, cdots, *args, **kwargs)
    if rule is None and isinstance(f, types.MethodType):
        return call(f.__func__, None, (f.__self__,) + tuple(args), (fdot,) + tuple(dots), kwargs)
    if rule is None and isinstance(getattr(type(f), "__call__", None), types.FunctionType):
        return call(type(f).__call__, None, (f,) + tuple(args), (fdot,) + tuple(dots), kwargs)
    # any other rule: push the tangents forward through its pullback
    from ..api import _jvp_by_pullback

    if kwargs:
        raise NoRuleError(f, "forward mode needs its keyword arguments handled by a rule of its own")
    return _jvp_by_pullback(f, args, dots)


def _construct(cls, args, dots, kwargs):
    """Dataclasses and named tuples: the tangent holds the fields' tangents."""
    from ..tangents import Tangent

    y = cls(*args, **kwargs)
    if issubclass(cls, tuple):
        names = list(cls._fields)
    else:
        names = [fl.name for fl in dataclasses.fields(cls) if fl.init]
    fields = {n: d for n, d in zip(names, dots)}
    if all(d is None for d in fields.values()):
        return y, None
    if issubclass(cls, tuple):
        return y, cls(*[fields.get(n) for n in names])
    return y, Tangent(cls, fields)


def _sum_dots(ds):
    total = None
    for d in ds:
        total = add(total, d)
    return total


def _fwd_sum(args, dots, kwargs):
    y = sum(*args)
    d = _sum_dots(dots[0]) if dots[0] is not None else None
    if len(args) > 1:
        d = add(d, dots[1])
    return y, d


def _fwd_identity(f):
    def fwd(args, dots, kwargs):
        y = f(*args, **kwargs)
        d = dots[0] if dots else None
        if d is not None and f in (list, tuple) and not isinstance(d, np.ndarray):
            d = f(d)
        elif d is not None and f is list:
            d = list(d)
        return y, d

    return fwd


def _fwd_array(f):
    def fwd(args, dots, kwargs):
        y = f(*args, **kwargs)
        d = dots[0]
        if d is None or _all_none(d):
            return y, None
        return y, np.asarray(_fill_zeros(d, args[0]), dtype=np.result_type(y.dtype, np.float64))

    return fwd


def _all_none(d):
    if d is None:
        return True
    if isinstance(d, (list, tuple)):
        return all(_all_none(x) for x in d)
    return False


def _fill_zeros(d, x):
    if d is None:
        return np.zeros(np.shape(x))
    if isinstance(d, (list, tuple)):
        return [_fill_zeros(di, xi) for di, xi in zip(d, x)]
    return d


def _fwd_enumerate(args, dots, kwargs):
    y = list(enumerate(*args, **kwargs))
    d = dots[0]
    return y, (None if d is None else [(None, di) for di in d])


def _fwd_zip(args, dots, kwargs):
    y = list(zip(*args))
    if all(d is None for d in dots):
        return y, None
    cols = [d if d is not None else [None] * len(a) for d, a in zip(dots, args)]
    return y, [tuple(t) for t in zip(*cols)]


def _fwd_reversed(args, dots, kwargs):
    y = list(reversed(args[0]))
    return y, (None if dots[0] is None else list(reversed(list(dots[0]))))


def _fwd_select(f):
    def fwd(args, dots, kwargs):
        items, ds = (list(args[0]), dots[0]) if len(args) == 1 else (list(args), list(dots))
        y = f(items, **kwargs) if len(args) == 1 else f(*args, **kwargs)
        if ds is None:
            return y, None
        i = next(k for k, v in enumerate(items) if v is y or v == y)
        return y, ds[i]

    return fwd


def _fwd_abs(args, dots, kwargs):
    y = abs(args[0])
    return y, (None if dots[0] is None else dots[0] * np.sign(args[0]))


_FORWARD_RULES = {
    sum: _fwd_sum, list: _fwd_identity(list), tuple: _fwd_identity(tuple), float: _fwd_identity(float),
    enumerate: _fwd_enumerate, zip: _fwd_zip, reversed: _fwd_reversed, abs: _fwd_abs,
    min: _fwd_select(min), max: _fwd_select(max),
    np.array: _fwd_array(np.array), np.asarray: _fwd_array(np.asarray),
}


def _has_closure_dots(f):
    return id(f) in _CLOSURES


def call_kw(f, fdot, args, dots, kwargs):
    return call(f, fdot, tuple(args), tuple(dots) if dots is not None else (None,) * len(args), kwargs)


def callmethod(obj, obj_dot, name, args, dots):
    m = getattr(obj, name)
    if isinstance(obj, np.ndarray):
        y = m(*args)
        if obj_dot is None:
            return y, None
        if name in LINEAR_METHODS and all(d is None for d in dots):
            return y, getattr(obj_dot, name)(*args)
        return call(getattr(np, name), None, (obj,) + tuple(args), (obj_dot,) + tuple(dots))
    if isinstance(m, types.MethodType) and isinstance(m.__func__, types.FunctionType):
        return call(m.__func__, None, (obj,) + tuple(args), (obj_dot,) + tuple(dots))
    desc = getattr(type(obj), name, None)
    if desc is not None and registry.lookup(desc) not in (None, registry.CONSTANT):
        return call(desc, None, (obj,) + tuple(args), (obj_dot,) + tuple(dots))
    return call(m, obj_dot, tuple(args), tuple(dots))


def callmethod_kw(obj, obj_dot, name, args, dots, kwargs):
    m = getattr(obj, name)
    if isinstance(obj, np.ndarray) and name in LINEAR_METHODS:
        y = m(*args, **kwargs)
        return y, (None if obj_dot is None else getattr(obj_dot, name)(*args, **kwargs))
    if isinstance(m, types.MethodType) and isinstance(m.__func__, types.FunctionType):
        return call(m.__func__, None, (obj,) + tuple(args), (obj_dot,) + tuple(dots or (None,) * len(args)), kwargs)
    return call(m, None, tuple(args), tuple(dots or (None,) * len(args)), kwargs)


HELPERS = {
    "binop": binop, "neg": neg, "call": call, "call_kw": call_kw, "callmethod": callmethod,
    "callmethod_kw": callmethod_kw, "getitem_dot": getitem_dot, "getattr_dot": getattr_dot,
    "unpack_dot": unpack_dot, "starred_dot": starred_dot, "item_dot": item_dot, "nth": nth,
    "register_closure": register_closure, "local_dot": local_dot, "closure_dot": closure_dot,
}


def jvp(f, primals, tangents):
    return call(f, None, primals, tangents)
