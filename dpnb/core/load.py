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
import __future__
import ast
import functools
import gc
import threading
import types
import weakref

from ..errors import NoRuleError
from ..rules import registry
from ..rules.namespaces import foreign_code

# The passes every first gradient runs (parse, normalize, ssa, forward) and the array transform
# (plain, fwdrev, tidy) are imported with dpnb (`dpnb.api`); the reverse-mode writer (analyze,
# emit) by the first build that needs it.

_lock = threading.RLock()


def gc_paused(build):
    """`build`, run with the cyclic garbage collector paused: a build makes thousands of tree
    nodes, nearly all alive until it returns, which the collector's young generations would scan
    again and again for nothing (0.13 ms of a 2 ms first build). The collector runs again as
    soon as the outermost build returns, or raises; one the user paused stays paused. (The switch
    is the interpreter's: while a build runs, other threads run without the collector too.)"""

    @functools.wraps(build)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return build(*args, **kwargs)
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            gc.enable()

    return paused


class Compiled:
    """One compiled adjoint of one code object for one tuple of argument types."""

    __slots__ = ("template", "source", "normalized", "code", "user_free", "pullback_name", "deps", "parts", "joined", "__weakref__")

    def __init__(self, template, source, normalized, code, user_free, pullback_name, parts=None):
        self.template = template
        self.source = source
        self.normalized = normalized
        self.code = code
        self.user_free = user_free
        self.pullback_name = pullback_name
        self.parts = parts  # what compiling the joined function needs (see `joined_instance`)
        self.joined = None  # the joined forward and backward function's template, or False

    def instance(self, fn, template=None):
        """The adjoint for function object `fn`: its globals, closure cells and defaults."""
        t = self.template if template is None else template
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
    __slots__ = ("ref", "code", "defaults", "kwdefaults", "per", "nplain", "joined", "grad1", "gradn", "plain")

    def __init__(self, ref, fn):
        self.ref = ref
        self.code = fn.__code__
        self.defaults = fn.__defaults__
        self.kwdefaults = fn.__kwdefaults__
        self.per = {}
        # argument types -> joined forward and backward function (`fuse`), or False: keyed by
        # `joined_key` (for one argument its type alone, which no tuple of types can equal)
        self.joined = {}
        # the forward-mode function that returns `gradient`'s answer for one float argument
        # (`forward`); False where forward mode does not apply, None until tried
        self.grad1 = None
        # the same for one float among ints no cotangent reaches (`inert.joined_ints`), by the
        # arguments' types; False where it does not apply
        self.gradn = {}
        # the number of arguments -> (rule generation, the plain gradient code `plain.function`,
        # `plain.run`, `plain.applies`: what `gradient` calls, without importing `plain`)
        self.plain = {}
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


def _entry(fn):
    """The cache entry of Python function `fn`, made (or made again, for a function whose code or
    defaults were changed) if need be; None if a rule or the constant table covers `fn`."""
    key = id(fn)
    e = FUNCTIONS.get(key)
    if e is not None and e.ref() is fn and e.code is fn.__code__ and e.defaults is fn.__defaults__ and e.kwdefaults is fn.__kwdefaults__:
        return e
    if registry.lookup(fn) is not None or foreign_code(fn):
        return None
    with _lock:
        e = _FnEntry(weakref.ref(fn, lambda _, k=key, pop=FUNCTIONS.pop: pop(k, None)), fn)
        FUNCTIONS[key] = e
    return e


def spread_instance(fn, args):
    """The adjoint of `*args` function `fn` compiled for this many positional arguments as a
    function of plain parameters (`_spread_varargs`): its pullback gives a cotangent per argument.
    None for a function with keyword-only parameters or `**kwargs`, or too few arguments."""
    code = fn.__code__
    if code.co_flags & 0x0C != 0x04 or code.co_kwonlyargcount or len(args) < code.co_argcount:
        return None
    e = _entry(fn)
    if e is None:
        return None
    tkey = (SPREAD,) + tuple(map(type, args))
    adj = e.per.get(tkey)
    if adj is None:
        adj = e.per[tkey] = compiled_for(fn, tkey).instance(fn)
    return adj


def adjoint_instance(fn, args, plain=True, defaults=False):
    """The compiled adjoint of Python function `fn` for these arguments (a function with `fn`'s
    signature returning `(y, pullback)`), or None if a rule or the constant table covers `fn`, or
    (with `plain`) if the call does not fill exactly `fn`'s positional parameters. With `defaults`,
    a call that leaves trailing parameters to their defaults counts as plain too: the adjoint is
    then specialised for the types of those defaults as well, and its pullback still returns a
    cotangent for every parameter."""
    e = FUNCTIONS.get(id(fn))
    if e is not None and len(args) == e.nplain and e.ref() is fn and e.code is fn.__code__ and e.defaults is fn.__defaults__ and e.kwdefaults is fn.__kwdefaults__:
        # the common case, a call that fills the parameters of a function seen before
        adj = e.per.get((type(args[0]),) if len(args) == 1 else tuple(map(type, args)))
        if adj is not None:
            return adj
    if plain and not _plain(fn, len(args)) and not (defaults and _filled_by_defaults(fn, len(args))):
        return None
    e = _entry(fn)
    if e is None:
        return None
    tkey = _types_key(fn, args, defaults and plain)
    adj = e.per.get(tkey)
    if adj is None:
        adj = e.per[tkey] = compiled_for(fn, tkey).instance(fn)
    return adj


def joined_key(args):
    """The key of `_FnEntry.joined` for these arguments."""
    return type(args[0]) if len(args) == 1 else tuple(map(type, args))


def joined_instance(fn, args, seed):
    """The joined forward and backward function of Python function `fn` for these arguments
    (`fuse`): called like `fn`, it returns `(y, cotangents)` as the pullback of `fn`'s adjoint
    would, seeded with `seed(y)`. None where the adjoint needs a context (or for a call the
    adjoint does not take plainly)."""
    e = FUNCTIONS.get(id(fn))
    if e is not None and e.code is fn.__code__ and e.defaults is fn.__defaults__ and e.kwdefaults is fn.__kwdefaults__ and e.ref() is fn:
        j = e.joined.get(joined_key(args))
        if j is not None:
            return j or None
    if len(args) == 1 and type(args[0]) is float and _entry(fn) is not None and (
        _plain(fn, 1) or _filled_by_defaults(fn, 1)
    ):
        # the derivative of a function of one number: forward mode, in one pass (`core.forward`)
        from . import forward

        j = forward.joined(fn, 1)
        if j is not None:
            e = FUNCTIONS.get(id(fn))
            if e is not None and e.ref() is fn:
                e.joined[joined_key(args)] = j
            return j
    adj = adjoint_instance(fn, args, True, True)
    e = FUNCTIONS.get(id(fn))
    j = False  # a rule, or not a plain call, or an adjoint that needs a context
    if adj is not None:
        c = compiled_for(fn, _types_key(fn, args, True))
        t = c.joined
        if t is None:
            with _lock:
                t = c.joined = _joined_template(c, seed) or False
        if t:
            j = c.instance(fn, t)
    if e is not None and e.ref() is fn:
        e.joined[joined_key(args)] = j
    return j or None


def grad1_instance(fn, args):
    """For `gradient(fn, x)` with one float `x`: the forward-mode function that returns the
    gradient (`forward.joined`, form "grad"), kept where `gradient` looks first; None where forward
    mode does not apply."""
    if len(args) != 1 or type(args[0]) is not float or not (_plain(fn, 1) or _filled_by_defaults(fn, 1)):
        return None
    e = _entry(fn)
    if e is None:
        return None
    g1 = e.grad1
    if g1 is None:
        from . import forward

        g1 = e.grad1 = forward.joined(fn, 1, "grad") or False
    return g1 or None


def gradn_instance(fn, args):
    """For `gradient(fn, *args)` with one float and ints: the forward-mode function that returns
    the gradient (`inert.joined_ints`), kept where `gradient` looks first; None where forward
    mode does not apply."""
    e = _entry(fn)
    if e is None:
        return None
    key = tuple(map(type, args))
    g = e.gradn.get(key)
    if g is None:
        from . import inert

        g = e.gradn[key] = inert.joined_ints(fn, key) or False
    return g or None


def plain_instance(fn, args):
    """How `gradient` runs the plain gradient code of `fn` for these arguments (`plain`):
    `(rule generation, code, run, applies)`, kept where `gradient` looks first (it calls
    `run(code, fn, args, k)` if `k = applies(args)`); None where it does not apply."""
    from . import plain

    k = plain.applies(args)
    if k:
        g = plain.function(fn, len(args), k == 2)
        if g is None:
            return None
        gs = [None, None, None]
        gs[k] = g
        p = (registry.generation[0], gs, plain.run, plain.applies)
    elif plain.structured(fn, len(args)):
        # objects, lists and tuples: code built for the arguments' structure, looked up by it
        p = (registry.generation[0], None, plain.run_structured, plain.always)
    else:
        return None
    e = _entry(fn)
    if e is not None:
        e.plain[len(args)] = p
    return p


def never_joined(fn, args):
    """The joined function of `fn` bailed out: these arguments take the general way from now on."""
    e = FUNCTIONS.get(id(fn))
    if e is not None:
        e.joined[joined_key(args)] = False
        if len(args) == 1 and type(args[0]) is float:
            e.grad1 = False
        elif len(args) > 1:
            e.gradn[tuple(map(type, args))] = False


def _joined_template(c, seed):
    if c.parts is None:
        return None
    from . import fuse

    helper_names, helper_values, factory_params, filename, forward_name, own, is_lambda = c.parts
    tree = fuse.joined(c.source, c.pullback_name, helper_names, forward_name, own)
    if tree is None:
        return None
    values = dict(helper_values)
    values.update({own["seed"]: seed, own["bail"]: fuse.bail, own["type"]: type, own["float"]: float})
    params = list(values) + [p for p in factory_params if p not in values]
    code_name = c.code.co_name if not is_lambda else "<lambda>"
    t = _in_factory(tree, c.source, params, values, c.template.__globals__, filename, True)
    tcode = t.__code__.replace(co_name=code_name, co_qualname=c.code.co_qualname)
    return types.FunctionType(tcode, c.template.__globals__, code_name, t.__defaults__, t.__closure__)


def _types_key(fn, args, defaults):
    """The argument types an adjoint of `fn` is compiled for (with `defaults`, those of the
    defaults that fill trailing parameters too)."""
    n = fn.__code__.co_argcount
    if len(args) < n and defaults:
        d = fn.__defaults__
        return tuple(map(type, args)) + tuple(map(type, d[len(d) - (n - len(args)):]))
    return (type(args[0]),) if len(args) == 1 and n >= 1 else tuple(map(type, args[:n]))


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
        from . import forward, fwdrev, parse, plain

        forward.forget()
        fwdrev.forget()
        plain.forget()

        parse.forget_files()


def forget(fn):
    """Drop what is cached for function `fn` (and its code)."""
    FUNCTIONS.pop(id(fn), None)
    code = getattr(fn, "__code__", None)
    if code is not None:
        CODES.pop(id(code), None)


def _local_names(fdef, every=None):
    """The names `fdef` binds in its own scope: its parameters, the names it assigns (not inside
    lambdas and comprehensions), the defs and classes it holds, and what it imports. `every`:
    the nodes of `fdef` (`astlib.nodes`, `fdef` first), given where they are all in its scope."""
    from .astlib import DEFS, SCOPES_AND_COMPREHENSIONS, scope_nodes

    names = set()
    a = fdef.args
    for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
        names.add(arg.arg)
    # (a def's or class's name is its own; `fdef`'s own is not one it binds)
    for node in scope_nodes(fdef.body, SCOPES_AND_COMPREHENSIONS) if every is None else every[1:]:
        t = type(node)
        if t is ast.Name:
            if type(node.ctx) is ast.Store:
                names.add(node.id)
        elif t in DEFS:
            names.add(node.name)
        elif t is ast.Import or t is ast.ImportFrom:
            for al in node.names:
                names.add((al.asname or al.name).split(".")[0])
    return names



def _static_resolver(fn, local):
    import builtins

    g = fn.__globals__
    b = g.get("__builtins__", builtins)
    b = b if isinstance(b, dict) else vars(b)
    free = set(fn.__code__.co_freevars)

    def resolve(node):
        """(True, value) if node is a module path rooted at a global module (np.linalg.norm), or
        an attribute of a global class (`Class.method`, `Class.CONSTANT`, `object.__setattr__`).
        (A loop, not a function calling itself: that is a cycle, kept until the collector runs.)"""
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node)
            node = node.value
        if not chain or not isinstance(node, ast.Name):
            return False, None
        name = node.id
        if name in local or name in free:
            return False, None
        if name in g:
            value = g[name]
        elif name in b:
            value = b[name]
        else:
            return False, None
        for i in range(len(chain) - 1, -1, -1):
            if not (isinstance(value, types.ModuleType) or (isinstance(value, type) and i == len(chain) - 1)):
                return False, None
            try:
                value = getattr(value, chain[i].attr)
            except AttributeError:
                return False, None
        return True, value

    return resolve


def _global_resolver(fn, local, static_value):
    """callee -> what a `Name` that no local or free name hides reads in `fn`'s globals or
    builtins, or what a static module path names (`math.fsum`), as the transform finds them;
    None for anything else."""
    import builtins

    g = fn.__globals__
    b = g.get("__builtins__", builtins)
    b = b if isinstance(b, dict) else vars(b)
    free = set(fn.__code__.co_freevars)

    def value_of(node):
        if type(node) is ast.Name:
            if node.id in local or node.id in free:
                return None
            return g[node.id] if node.id in g else b.get(node.id)
        ok, value = static_value(node)
        return value if ok else None

    return value_of


#: `from __future__ import annotations` in a code object's flags
_FUTURE_ANNOTATIONS = __future__.annotations.compiler_flag


def normal_form(fn, fdef, filename, every=None):
    """`fdef`, the definition of Python function `fn`, normalized (one operation a line):
    `(normalized tree, its Namer, the resolver of static names)`. The first stage of every
    transform (forward mode writes its code from it). `every`: the nodes of `fdef`
    (`astlib.nodes`), if at hand."""
    from . import names as names_mod
    from .normalize import fixed_names, normalize

    namer = names_mod.Namer(fdef, every)
    local = _local_names(fdef, every if namer.one_scope else None)
    static_value = _static_resolver(fn, local)
    deferred = bool(fn.__code__.co_flags & _FUTURE_ANNOTATIONS)
    fixed = fixed_names(fn.__code__, fdef)
    normalized = normalize(fdef, namer, lambda n: static_value(n)[0], filename, deferred, fixed, _global_resolver(fn, local, static_value))
    return normalized, namer, static_value


def ssa_form(fn, fdef, filename, every=None):
    """`normal_form`, then in SSA form: `(versioned tree, SSA facts, its Namer, the resolver of
    static names)`. The first stages of the reverse transform here and of `fwdrev`."""
    from .ssa import to_ssa

    normalized, namer, static_value = normal_form(fn, fdef, filename, every)
    versioned, ssa = to_ssa(normalized, namer)
    return versioned, ssa, namer, static_value


@gc_paused
def build(fn, key):
    from .analyze import Analysis, kind_of_type, reject_unsupported
    from .astlib import copy_tree, fix_missing_locations, nodes
    from .emit import Emitter
    from .normalize import CAUGHT, ITER_BUILDER, SET_BUILDER, TRUTH
    from .parse import GENERATED_SOURCE, function_source
    from .runtime import caught as runtime_caught

    src = function_source(fn)
    fdef = src.node
    filename = src.filename
    every = nodes(fdef)  # (one walk for the passes that look at every node)
    reject_unsupported(fdef, filename, every)
    if key and key[0] is SPREAD:
        key = key[1:]
        fdef = _spread_varargs(copy_tree(fdef), len(key))
        every = None
    versioned, ssa, namer, static_value = ssa_form(fn, fdef, filename, every)
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
    helper_values[TRUTH] = bool
    helper_values[CAUGHT] = runtime_caught
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
    joined_names = {k: namer.exact("_dpnb_" + k) for k in ("seed", "bail", "type", "float")}
    template = _in_factory(fwd, fdef, factory_params, helper_values, fn.__globals__, filename, positioned)
    fwd.name = shown_name  # `shown` is `fwd` when it had positions
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
    parts = (dict(helper_names), helper_values, factory_params, filename, forward_name, joined_names, src.is_lambda)
    return Compiled(template, shown, versioned, fn.__code__, user_free, emitter.pullback_name, parts)


def _in_factory(fwd, fdef, factory_params, helper_values, globals_, filename, positioned):
    """Compile function tree `fwd` inside a factory whose parameters are the helpers and the user's
    free variables; the function it returns, bound to them."""
    from .astlib import copy_location, fix_missing_locations

    factory = ast.FunctionDef(
        name="_dpnb_factory",
        args=ast.arguments(
            posonlyargs=[], args=[ast.arg(arg=p) for p in factory_params], vararg=None,
            kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[],
        ),
        body=[ast.Return(value=ast.Name(id=fwd.name, ctx=ast.Load()))],
        decorator_list=[], returns=None, type_comment=None,
    )
    copy_location(factory, fdef)
    module = ast.Module(body=[factory], type_ignores=[])
    if positioned:
        fix_missing_locations(module)
        factory.body.insert(0, fwd)
    else:
        factory.body.insert(0, fwd)
        fix_missing_locations(module)
    code = compile(module, filename, "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    make = types.FunctionType(fcode, globals_)
    args = [helper_values[p] if p in helper_values else None for p in factory_params]
    return make(*args)


class SPREAD:
    """First in the types key of an adjoint of a `*args` function compiled for one number of
    arguments (`_spread_varargs`)."""


def _spread_varargs(fdef, nargs):
    """`def f(a, *w)` called with `nargs` positional arguments, as a function of that many plain
    parameters: `def f(a, w_0, w_1)`, with `w = (w_0, w_1)` bound first. A call or display that
    unpacks `w` where `w` is never rebound (`g(*w, x)`) takes the parameters themselves
    (`g(w_0, w_1, x)`), so the call is a plain one; the tuple goes if nothing else reads it."""
    from .astlib import SCOPES_AND_COMPREHENSIONS, copy_location, scope_nodes, walk

    a = fdef.args
    w = a.vararg.arg
    taken = {n.id for n in walk(fdef) if isinstance(n, ast.Name)} | {x.arg for x in walk(fdef) if isinstance(x, ast.arg)}
    k = nargs - len(a.posonlyargs) - len(a.args)
    names = []
    for i in range(k):
        name = f"{w}_{i}"
        while name in taken:
            name += "_"
        taken.add(name)
        names.append(name)
    a.args = a.args + [ast.arg(arg=n) for n in names]
    a.vararg = None
    a.defaults = []  # defaults are the user's (see `Compiled.instance`); every parameter is given here

    def elements():
        return [ast.Name(id=n, ctx=ast.Load()) for n in names]

    rebound = any(
        isinstance(n, ast.Name) and n.id == w and not isinstance(n.ctx, ast.Load)
        or isinstance(n, (ast.Nonlocal, ast.Global)) and w in n.names
        for n in walk(fdef)
    )
    if not rebound:
        # this function's own scope only: a nested function may have a `*w` of its own, and a
        # comprehension its own `w`
        for node in scope_nodes(fdef.body, SCOPES_AND_COMPREHENSIONS):
            for field in ("args", "elts"):
                items = getattr(node, field, None)
                if not isinstance(items, list) or not isinstance(node, (ast.Call, ast.List, ast.Tuple, ast.Set)):
                    continue
                out = []
                for item in items:
                    if isinstance(item, ast.Starred) and isinstance(item.value, ast.Name) and item.value.id == w:
                        out.extend(copy_location(e, item) for e in elements())
                    else:
                        out.append(item)
                setattr(node, field, out)
    still_read = any(isinstance(n, ast.Name) and n.id == w for n in walk(fdef))
    if still_read or rebound:
        bind = ast.Assign(targets=[ast.Name(id=w, ctx=ast.Store())], value=ast.Tuple(elts=elements(), ctx=ast.Load()))
        copy_location(bind, fdef.body[0])
        ast.fix_missing_locations(bind)
        fdef.body.insert(0, bind)
    return fdef


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
    todo = [code]
    while todo:  # every code object inside `code`, at any depth
        for k in todo.pop().co_consts:
            if isinstance(k, types.CodeType):
                node = find_node(k, holder)
                if node is not None:
                    GENERATED_SOURCE[k] = node
                todo.append(k)


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

