"""Stage 5 — load: compile the emitted adjoint with the user's file name and lines, and cache it.

Compiled adjoints are cached per code object — by identity, never by equality:
two functions with the same text on the same lines of two files have equal code
objects but different globals — and then by the types of the positional
arguments, which decide where plain-number arithmetic can be written inline.
Each function object gets its own instance (its globals, closure cells and
defaults). Both caches hold weak references: when a function (or its code) is
gone, so is its adjoint, so redefining a function in a notebook cell a thousand
times keeps the cache bounded. A rule registered later wins over the
transform, and drops the adjoints that wrote the old rule inline.
"""
import ast
import threading
import types
import weakref

from ..errors import NoRuleError
from ..rules import registry
from ..rules.namespaces import foreign_code

# The stages of the transform (parse, normalize, ssa, analyze, emit, and the helpers they share)
# are imported by `build`, when a first adjoint is built: `import dpnb` does without them.

_lock = threading.RLock()


class Compiled:
    """One compiled adjoint of one code object for one tuple of argument types."""

    __slots__ = ("template", "source", "normalized", "code", "user_free", "pullback_name", "deps", "__weakref__")

    def __init__(self, template, source, normalized, code, user_free, pullback_name):
        self.template = template
        self.source = source
        self.normalized = normalized
        self.code = code
        self.user_free = user_free
        self.pullback_name = pullback_name

    def instance(self, fn):
        """The adjoint for function object `fn`: its globals, closure cells and defaults."""
        t = self.template
        tcode = t.__code__
        if tcode.co_freevars:
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            mine = dict(zip(tcode.co_freevars, t.__closure__ or ()))
            closure = tuple(cells.get(n) or mine[n] for n in tcode.co_freevars)
        else:
            closure = None
        new = types.FunctionType(tcode, fn.__globals__, t.__name__, fn.__defaults__, closure)
        new.__kwdefaults__ = fn.__kwdefaults__
        if fn.__defaults__ is not None or fn.__kwdefaults__ is not None:
            _DEFAULTS_OWNER[new] = weakref.ref(defaults_owner(fn))
        return new


#: adjoint instance -> (a weak reference to) the function whose default values it was given: the
#: user's function, made by its `def` or `lambda`. When dpnb differentiates its own code (a second
#: derivative), a call of an instance that leaves parameters to their defaults is differentiated
#: too, and the cotangents of those defaults belong to the user's function (whose definition sends
#: them on to the values the defaults were computed from), not to the instance, which nothing reads.
_DEFAULTS_OWNER = weakref.WeakKeyDictionary()


def defaults_owner(fn):
    """The function whose definition computed the defaults `fn` has: `fn` itself, or, for an
    adjoint instance (or an instance of an adjoint's adjoint), the user's function."""
    r = _DEFAULTS_OWNER.get(fn)
    owner = r() if r is not None else None
    return fn if owner is None else owner


class _CodeEntry:
    __slots__ = ("ref", "per")

    def __init__(self, ref):
        self.ref = ref
        self.per = {}


class _FnEntry:
    __slots__ = ("ref", "code", "defaults", "kwdefaults", "per", "nplain")

    def __init__(self, ref, fn):
        self.ref = ref
        self.code = fn.__code__
        self.defaults = fn.__defaults__
        self.kwdefaults = fn.__kwdefaults__
        self.per = {}
        # the number of arguments of a plain call (positional parameters only), else -1
        self.nplain = self.code.co_argcount if _plain(fn, self.code.co_argcount) else -1


#: id(code) -> _CodeEntry (compiled adjoints per argument types)
CODES = {}
#: id(function) -> _FnEntry (instances per argument types)
FUNCTIONS = {}
#: callable whose rule was written inline -> set of code ids to drop when it changes
_DEPENDENTS = {}
#: code ids of functions that have a rule of their own
_RULED = set()


def _drop_code(key):
    CODES.pop(key, None)


def _drop_fn(key):
    FUNCTIONS.pop(key, None)


def _plain(fn, nargs):
    code = fn.__code__
    return code.co_argcount == nargs and not code.co_kwonlyargcount and not code.co_flags & 0x0C


def _filled_by_defaults(fn, nargs):
    """The call gives the first `nargs` positional parameters and the defaults fill the rest
    (no keyword-only parameters, no `*args`/`**kwargs`)."""
    code = fn.__code__
    d = fn.__defaults__
    return (
        d is not None and nargs < code.co_argcount <= nargs + len(d)
        and not code.co_kwonlyargcount and not code.co_flags & 0x0C
    )


def adjoint_instance(fn, args, plain=True, defaults=False):
    """The compiled adjoint of Python function `fn` for these arguments (a function with `fn`'s
    signature returning `(y, pullback)`), or None if a rule or the constant table covers `fn`, or
    (with `plain`) if the call does not fill exactly `fn`'s positional parameters. With `defaults`,
    a call that leaves trailing parameters to their defaults counts as plain too: the adjoint is
    then specialised for the types of those defaults as well, and its pullback still returns a
    cotangent for every parameter."""
    key = id(fn)
    e = FUNCTIONS.get(key)
    if e is not None and len(args) == e.nplain and e.ref() is fn and e.code is fn.__code__ and e.defaults is fn.__defaults__ and e.kwdefaults is fn.__kwdefaults__:
        # the common case, a call that fills the parameters of a function seen before
        adj = e.per.get((type(args[0]),) if len(args) == 1 else tuple(map(type, args)))
        if adj is not None:
            return adj
    if e is None or e.ref() is not fn or e.code is not fn.__code__ or e.defaults is not fn.__defaults__ or e.kwdefaults is not fn.__kwdefaults__:
        if registry.lookup(fn) is not None or foreign_code(fn):
            return None
        if plain and not _plain(fn, len(args)) and not (defaults and _filled_by_defaults(fn, len(args))):
            return None
        with _lock:
            e = _FnEntry(weakref.ref(fn, lambda _, k=key, pop=FUNCTIONS.pop: pop(k, None)), fn)
            FUNCTIONS[key] = e
    elif plain and not _plain(fn, len(args)) and not (defaults and _filled_by_defaults(fn, len(args))):
        return None
    n = fn.__code__.co_argcount
    if len(args) < n and defaults and plain:
        d = fn.__defaults__
        tkey = tuple(map(type, args)) + tuple(map(type, d[len(d) - (n - len(args)):]))
    else:
        tkey = (type(args[0]),) if len(args) == 1 and n >= 1 else tuple(map(type, args[:n]))
    adj = e.per.get(tkey)
    if adj is None:
        adj = e.per[tkey] = compiled_for(fn, tkey).instance(fn)
    return adj


def compiled_for(fn, tkey):
    code = fn.__code__
    key = id(code)
    e = CODES.get(key)
    if e is None or e.ref() is not code:
        with _lock:
            e = _CodeEntry(weakref.ref(code, lambda _, k=key, pop=CODES.pop: pop(k, None)))
            CODES[key] = e
    c = e.per.get(tkey)
    if c is None:
        with _lock:
            c = e.per.get(tkey)
            if c is None:
                c = e.per[tkey] = build(fn, tkey)
    return c


@registry.on_rule_change
def _rule_changed(f):
    code = getattr(f, "__code__", None)
    if code is not None and isinstance(f, types.FunctionType):
        FUNCTIONS.pop(id(f), None)
    try:
        codes = _DEPENDENTS.pop(f, ())
    except TypeError:
        return
    if not codes:
        return
    for key in codes:
        CODES.pop(key, None)
    for key, e in list(FUNCTIONS.items()):
        if id(e.code) in codes:
            FUNCTIONS.pop(key, None)


def refresh():
    """Empty every cache of compiled adjoints."""
    with _lock:
        CODES.clear()
        FUNCTIONS.clear()
        _DEPENDENTS.clear()
        from . import parse

        parse.forget_files()


def forget(fn):
    """Drop what is cached for function `fn` (and its code)."""
    FUNCTIONS.pop(id(fn), None)
    code = getattr(fn, "__code__", None)
    if code is not None:
        CODES.pop(id(code), None)


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
                # Class.method / Class.CONSTANT of a global class (object.__setattr__ too)
                try:
                    return True, getattr(base, node.attr)
                except AttributeError:
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


def build(fn, key):
    from . import names as names_mod
    from .analyze import Analysis, kind_of_type, reject_unsupported
    from .astlib import copy_tree, fix_missing_locations
    from .emit import Emitter
    from .normalize import ITER_BUILDER, SET_BUILDER, normalize
    from .parse import GENERATED_SOURCE, function_source
    from .ssa import to_ssa

    src = function_source(fn)
    fdef = src.node
    filename = src.filename
    reject_unsupported(fdef, filename)
    namer = names_mod.Namer(fdef)
    local = _local_names(fdef)
    static_value = _static_resolver(fn, local)
    normalized = normalize(fdef, namer, lambda n: static_value(n)[0], filename)
    versioned, ssa = to_ssa(normalized, namer)
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
    arg_kinds = {p: kind_of_type(t) for p, t in zip(params, key)}
    an = Analysis(versioned, ssa, arg_kinds, fn.__globals__, fn.__code__.co_freevars, static_value, fn.__code__, filename)

    helper_names = {}
    helper_values = {}

    def helpers(k):
        name = helper_names.get(k)
        if name is None:
            if isinstance(k, tuple) and k[0] == "me":  # the user's function, for direct recursion
                name = namer.exact("_" + (fn.__name__ if fn.__name__.isidentifier() else "self") + "_fn")
                helper_values[name] = fn
            elif isinstance(k, tuple) and k[0] == "inl":  # a callee whose rule is written inline
                f = k[1]
                name = namer.exact("_" + (getattr(f, "__name__", "f") if getattr(f, "__name__", "f").isidentifier() else "f"))
                helper_values[name] = f
            elif isinstance(k, tuple):  # ("ns", scalar rule, free name)
                _, rule, free = k
                name = namer.exact(free)
                helper_values[name] = rule.namespace[free]
            else:
                from . import runtime

                name = namer.exact("_" + k)
                helper_values[name] = runtime.HELPERS[k]
            helper_names[k] = name
        return name

    helper_names[("builtin", "set")] = SET_BUILDER
    helper_values[SET_BUILDER] = set
    helper_names[("builtin", "iter")] = ITER_BUILDER
    helper_values[ITER_BUILDER] = iter
    forward_name = namer.exact("_dpnb_forward")
    emitter = Emitter(an, ssa, namer, helpers, versioned, forward_name)
    fwd = emitter.run()
    # defaults and annotations belong to the user's definition (evaluated where it ran);
    # the compiled adjoint gets the user's default values as __defaults__ in `instance`
    fwd.args = _bare_arguments(fwd.args)
    fwd.returns = None
    if src.is_lambda:
        fwd.name = "_lambda"
    # a node with no position takes its parent's: the forward pass has the user's `def`'s own, so
    # it is completed once, in place, and is itself the tree kept as the source of the generated
    # code (compile() keeps nothing of it, and its name is given back after); the factory around
    # it is completed without walking it again
    positioned = all(getattr(fwd, a, None) is not None for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"))
    shown = fix_missing_locations(fwd) if positioned else fix_missing_locations(copy_tree(fwd))
    shown_name = fwd.name
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
        body=[ast.Return(value=ast.Name(id=fwd.name, ctx=ast.Load()))],
        decorator_list=[], returns=None, type_comment=None,
    )
    ast.copy_location(factory, fdef)
    module = ast.Module(body=[factory], type_ignores=[])
    if positioned:
        fix_missing_locations(module)
        factory.body.insert(0, fwd)
    else:
        factory.body.insert(0, fwd)
        fix_missing_locations(module)
    code = compile(module, filename, "exec")
    fwd.name = shown_name  # `shown` is `fwd` when it had positions
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    make = types.FunctionType(fcode, fn.__globals__)
    args = [helper_values[p] if p in helper_values else None for p in factory_params]
    template = make(*args)
    fwd_code = template.__code__
    if src.is_lambda:
        fwd_code = fwd_code.replace(co_name="<lambda>", co_qualname=fn.__code__.co_qualname)
    else:
        fwd_code = fwd_code.replace(co_name=fn.__code__.co_name, co_qualname=fn.__code__.co_qualname)
    template = types.FunctionType(fwd_code, fn.__globals__, fwd_code.co_name, template.__defaults__, template.__closure__)
    if forward_name in fwd_code.co_freevars:  # direct recursion calls the finished template
        template.__closure__[fwd_code.co_freevars.index(forward_name)].cell_contents = template
    _register_nested(fwd_code, versioned)
    # the generated code is itself Python that dpnb can differentiate: its source is the tree above
    GENERATED_SOURCE[fwd_code] = shown
    pb_node = next((n for n in shown.body if isinstance(n, ast.FunctionDef) and n.name == emitter.pullback_name), None)
    for c in fwd_code.co_consts:
        if isinstance(c, types.CodeType) and c.co_name == emitter.pullback_name and pb_node is not None:
            GENERATED_SOURCE[c] = pb_node
    from . import runtime

    for c in fwd_code.co_consts:
        if isinstance(c, types.CodeType) and c.co_name == emitter.pullback_name:
            runtime.NONE_OK.add(c)
    for f in emitter.inline_deps:
        try:
            _DEPENDENTS.setdefault(f, set()).add(id(fn.__code__))
        except TypeError:
            pass
    return Compiled(template, shown, versioned, fn.__code__, user_free, emitter.pullback_name)


def _bare_arguments(a):
    from .astlib import copy_tree

    a = copy_tree(a)
    for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
        arg.annotation = None
    a.defaults = []
    a.kw_defaults = [None] * len(a.kwonlyargs)
    return a


def _register_nested(code, normalized):
    """Nested defs and lambdas compiled into the adjoint keep their source, for when they are called."""
    from .astlib import walk as walk_tree
    from .normalize import Native
    from .parse import GENERATED_SOURCE, find_node

    nodes = []
    for node in walk_tree(normalized):
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
    return ast.unparse(compiled_for(fn, types_key).source)


def pullback_of(fn, types_key):
    """The generated pullback of `fn` (for arguments of these types) as a function object whose
    closure cells are empty: enough to transform it, which reads its code, globals and names only.
    """
    c = compiled_for(fn, types_key)
    code = next(k for k in c.template.__code__.co_consts if isinstance(k, types.CodeType) and k.co_name == c.pullback_name)
    cells = tuple(types.CellType() for _ in code.co_freevars)
    return types.FunctionType(code, fn.__globals__, code.co_name, None, cells)

