"""Stage 5 — load: compile the emitted adjoint with the user's file name and lines, and cache it.

Adjoints are cached by code object (IPython's autoreload swaps `__code__` in
place, and two closures of one `def` share their code) and then by the types
of the positional arguments, which decide where plain-number arithmetic can be
written inline. A rule registered later invalidates the adjoints that inlined
the old one.
"""
import ast
import copy
import types

from ..rules import registry
from . import names as names_mod
from .analyze import Analysis, kind_of_type, reject_unsupported
from .emit import Emitter
from .normalize import Native, normalize
from .parse import GENERATED_SOURCE, find_node, function_source

#: code object -> {argument types: Adjoint}
CACHE = {}
#: callable whose rule was inlined -> set of code objects to drop when it changes
_DEPENDENTS = {}

LOCAL_HELPERS = {"tape", "push", "pop", "tape_copy"}
#: (code, argument types) -> Adjoint in the dialect that can be differentiated again
CACHE_HO = {}


class Adjoint:
    """A compiled adjoint: `template` has the user's signature and returns (y, pullback)."""

    __slots__ = ("template", "source", "normalized", "code", "direct", "mutates_params", "source_location", "fast")

    def __init__(self, template, source, normalized, code, direct, mutates_params=False, nargs=None):
        self.mutates_params = mutates_params
        plain = (
            nargs == code.co_argcount
            and not code.co_kwonlyargcount
            and not code.co_flags & 0x0C
            and code not in RULED_CODES
        )
        self.fast = template if (direct and plain and not mutates_params and template.__kwdefaults__ is None) else None
        self.source_location = f"{code.co_filename}, line {code.co_firstlineno}"
        self.template = template
        self.source = source
        self.normalized = normalized
        self.code = code
        self.direct = direct

    def instance(self, fn):
        t = self.template
        if self.direct and fn.__defaults__ is t.__defaults__ and fn.__kwdefaults__ is t.__kwdefaults__:
            return t
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        mine = dict(zip(t.__code__.co_freevars, t.__closure__ or ()))
        closure = tuple(cells.get(n) or mine[n] for n in t.__code__.co_freevars)
        new = types.FunctionType(t.__code__, fn.__globals__, t.__name__, fn.__defaults__, closure)
        new.__kwdefaults__ = fn.__kwdefaults__
        return new


#: code objects of functions that have a rule of their own: never on the fast path
RULED_CODES = set()


@registry.on_rule_change
def _rule_changed(f):
    code = getattr(f, "__code__", None)
    if code is not None and isinstance(f, types.FunctionType):
        RULED_CODES.add(code)
        CACHE.pop(code, None)
    try:
        codes = _DEPENDENTS.pop(f, ())
    except TypeError:
        return
    for code in codes:
        CACHE.pop(code, None)


def refresh():
    """Empty every cache of compiled adjoints."""
    CACHE.clear()
    CACHE_HO.clear()
    _DEPENDENTS.clear()


def forget(code):
    CACHE.pop(code, None)


def adjoint_for(fn, key):
    per = CACHE.get(fn.__code__)
    if per is None:
        per = CACHE[fn.__code__] = {}
    adj = per.get(key)
    if adj is None:
        adj = per[key] = build(fn, key)
    return adj


def _local_names(fdef):
    names = set()
    a = fdef.args
    for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
        names.add(arg.arg)

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
                continue
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for al in child.names:
                    names.add((al.asname or al.name).split(".")[0])
            visit(child)

    for s in fdef.body:
        visit(s)
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(s.name)
    return names


def _static_resolver(fn, local):
    import builtins

    g = fn.__globals__
    b = g.get("__builtins__", builtins)
    b = b if isinstance(b, dict) else vars(b)
    free = set(fn.__code__.co_freevars)

    def resolve(node):
        """(True, value) if node is a module path rooted at a global module (np.linalg.norm)."""
        if isinstance(node, ast.Attribute):
            ok, base = resolve_base(node.value)
            if ok and isinstance(base, types.ModuleType):
                try:
                    return True, getattr(base, node.attr)
                except AttributeError:
                    return False, None
            if ok and isinstance(base, type) and isinstance(node.value, ast.Name):
                # Class.method / Class.CONSTANT of a global class: a plain function or value
                attr = None
                for klass in base.__mro__:
                    if node.attr in vars(klass):
                        attr = vars(klass)[node.attr]
                        break
                if isinstance(attr, types.FunctionType):
                    return True, attr
                return False, None
        return False, None

    def resolve_base(node):
        if isinstance(node, ast.Name):
            if node.id in local or node.id in free:
                return False, None
            if node.id in g:
                return True, g[node.id]
            if node.id in b:
                return True, b[node.id]
            return False, None
        return resolve(node)

    return resolve


def adjoint_for_ho(fn, key):
    """The adjoint of `fn` in the dialect dpnb differentiates again (second derivatives)."""
    k = (fn.__code__, key)
    adj = CACHE_HO.get(k)
    if adj is None:
        adj = CACHE_HO[k] = build(fn, key, ho=True)
    return adj


def build(fn, key, ho=False):
    src = function_source(fn)
    fdef = src.node
    filename = src.filename
    reject_unsupported(fdef, filename)
    namer = names_mod.Namer(fdef)
    local = _local_names(fdef)
    static_value = _static_resolver(fn, local)
    normalized = normalize(fdef, namer, lambda n: static_value(n)[0], filename)
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
    arg_kinds = {p: kind_of_type(t) for p, t in zip(params, key)}
    an = Analysis(normalized, arg_kinds, fn.__globals__, fn.__code__.co_freevars, static_value, fn.__code__)
    an.filename = filename

    helper_names = {}
    helper_values = {}

    def helpers(k):
        name = helper_names.get(k)
        if name is None:
            if isinstance(k, tuple) and k[0] == "me":  # the user's function, for direct recursion
                name = namer.exact("_" + (fn.__name__ if fn.__name__.isidentifier() else "self") + "_fn")
                helper_values[name] = fn
            elif isinstance(k, tuple):  # ("ns", scalar rule, free name)
                _, rule, free = k
                name = namer.exact(free)
                helper_values[name] = rule.namespace[free]
            else:
                name = namer.exact("_" + k)
                if k not in LOCAL_HELPERS:
                    from . import runtime

                    helper_values[name] = runtime.HELPERS[k]
                    if ho and k in ("call", "call_num"):
                        from .higher import call_ho  # callees in the differentiable dialect too

                        helper_values[name] = call_ho
            helper_names[k] = name
        return name

    forward_name = namer.exact("_dpnb_forward")
    emitter = Emitter(an, namer, helpers, normalized, forward_name=forward_name, ho=ho)
    fwd = emitter.run()
    # defaults and annotations belong to the user's definition (evaluated where it ran);
    # the compiled adjoint gets the user's default values as __defaults__ below
    fwd.args = _bare_arguments(fwd.args)
    fwd.returns = None
    if src.is_lambda:
        fwd.name = "_lambda"
    shown = copy.copy(fwd)
    # inside the factory the forward pass must not shadow the user's own name
    # (a recursive call reads the global); the code object gets its name back below
    fwd.name = forward_name
    user_free = list(fn.__code__.co_freevars)
    factory_params = list(helper_values) + [v for v in user_free if v not in helper_values]
    factory = ast.FunctionDef(
        name="_dpnb_factory",
        args=ast.arguments(
            posonlyargs=[], args=[ast.arg(arg=p) for p in factory_params], vararg=None,
            kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[],
        ),
        body=[fwd, ast.Return(value=ast.Name(id=fwd.name, ctx=ast.Load()))],
        decorator_list=[], returns=None, type_comment=None,
    )
    ast.copy_location(factory, fdef)
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    make = types.FunctionType(fcode, fn.__globals__)
    args = [helper_values[p] if p in helper_values else None for p in factory_params]
    template = make(*args)
    fwd_code = template.__code__
    if src.is_lambda:
        fwd_code = fwd_code.replace(co_name="<lambda>", co_qualname=fn.__code__.co_qualname)
    else:
        fwd_code = fwd_code.replace(co_name=fn.__code__.co_name)
    if src.is_lambda:
        template = types.FunctionType(fwd_code, fn.__globals__, "<lambda>", template.__defaults__, template.__closure__)
    else:
        fwd_code = fwd_code.replace(co_qualname=fn.__code__.co_qualname)
        template = types.FunctionType(fwd_code, fn.__globals__, fn.__name__, template.__defaults__, template.__closure__)
    template.__defaults__ = fn.__defaults__
    template.__kwdefaults__ = fn.__kwdefaults__
    if forward_name in fwd_code.co_freevars:  # direct recursion calls the finished template
        template.__closure__[fwd_code.co_freevars.index(forward_name)].cell_contents = template
    _register_nested(fwd_code, normalized)
    if ho:
        # the generated code is itself differentiable: its source is the emitted tree
        GENERATED_SOURCE[fwd_code] = shown
        pb_node = next(n for n in shown.body if isinstance(n, ast.FunctionDef) and n.name == emitter.pullback_name)
        for c in fwd_code.co_consts:
            if isinstance(c, types.CodeType) and c.co_name == emitter.pullback_name:
                GENERATED_SOURCE[c] = pb_node
    for f in emitter.inline_deps:
        _DEPENDENTS.setdefault(f, set()).add(fn.__code__)
    direct = not fn.__code__.co_freevars
    if emitter.accepts_none:
        from . import runtime

        for c in fwd_code.co_consts:
            if isinstance(c, types.CodeType) and c.co_name == emitter.pullback_name:
                runtime.ACCEPTS_NONE.add(c)
    return Adjoint(template, shown, normalized, fn.__code__, direct, emitter.mutates_params, len(key))


def _bare_arguments(a):
    import copy as _copy

    a = _copy.deepcopy(a)
    for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
        arg.annotation = None
    a.defaults = []
    a.kw_defaults = [None] * len(a.kwonlyargs)
    return a


def _register_nested(code, normalized):
    nodes = []
    for node in ast.walk(normalized):
        if isinstance(node, Native) and isinstance(node.stmt, ast.FunctionDef):
            nodes.append(node.stmt)
        elif isinstance(node, ast.Lambda):
            nodes.append(node)
    if not nodes:
        return
    holder = ast.Module(body=[ast.Expr(value=n) if isinstance(n, ast.Lambda) else n for n in nodes], type_ignores=[])

    def walk(c):
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                node = find_node(k, holder)
                if node is not None:
                    GENERATED_SOURCE[k] = node
                walk(k)

    walk(code)


def adjoint_source(fn, types_key=None):
    """The generated forward pass and pullback of `fn` as Python source."""
    if types_key is None:
        n = fn.__code__.co_argcount
        types_key = (float,) * n
    adj = adjoint_for(fn, types_key)
    return ast.unparse(adj.source)
