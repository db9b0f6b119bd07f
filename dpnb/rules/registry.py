"""The one registry of differentiation rules, keyed by the callable itself.

A rule is a function `rule(*args, **kwargs) -> (y, pullback)` and
`pullback(y_bar) -> (f_bar, *arg_bars)`, ChainRules' convention: the callable's
own tangent first, then one entry per positional argument, `None` for zero.
When keyword arguments carry values with a gradient (`np.clip(x, a_min=lo)`,
`dict(a=x)`), the pullback adds one last entry, a dict `{keyword: cotangent}`
(left out when it would be empty).

Three forms feed the registry:

- `constant(f, ...)` / `nograd(f)`: a callable whose result carries no gradient;
- `scalar_rule(f, "d/dx1", "d/dx2", ns=...)`: an elementwise rule written as
  expressions of the inputs `x` (or `x1`, `x2`, ...) and the output `y`; the
  generic pullback broadcasts once, and the expression is inlined into the
  generated adjoint when the operands are plain numbers;
- `register(f, rule)`: a full rule, pullback named `<fn>_pullback`.

Pullbacks are only ever called with a cotangent that is not `None`.
"""
import _thread
import itertools
import sys
import types

from ..errors import DifferentiationError
from ..tangents import AbstractZero

class _Rules(dict):
    """callable -> rule. Reading the rule of a callable whose domain is not loaded yet
    (`RULES[f]`, `RULES.get(f)`, `f in RULES`) loads that domain first (see `lazy_domain`);
    dpnb's own hot paths read the dict itself, through `lookup`."""

    __slots__ = ()

    def __missing__(self, f):
        if _pending and _load_pending(f):
            return _dict_getitem(self, f)
        raise KeyError(f)

    def get(self, f, default=None):
        r = _dict_get(self, f, _ABSENT)
        if r is _ABSENT:
            if _pending and _load_pending(f):
                return _dict_get(self, f, default)
            return default
        return r

    def __contains__(self, f):
        return _dict_contains(self, f) or bool(_pending and _load_pending(f) and _dict_contains(self, f))


class _AttributeRules(dict):
    """(type, name) -> rule; `ATTRIBUTE_RULES[key]` loads a pending domain the key belongs to
    (the runtime reads it with `.get` and asks `attribute_missed` itself)."""

    __slots__ = ()

    def __missing__(self, key):
        if _pending and _load_pending(key):
            return _dict_getitem(self, key)
        raise KeyError(key)


_dict_get = dict.get
_dict_getitem = dict.__getitem__
_dict_contains = dict.__contains__
_ABSENT = object()

#: callable -> rule
RULES = _Rules()
#: callables whose results carry no gradient
CONSTANTS = set()
#: callable -> ScalarRule, for the ones written as expressions (inlinable)
SCALAR_RULES = {}
#: callables that map numbers to numbers (their result is a plain number when the inputs are)
NUMBER_CLOSED = set()
#: bumped on every (re)registration; caches compare it
_generation = itertools.count(1)
generation = [0]
#: listeners called with the callable when its rule changes (the adjoint cache)
_listeners = []


def _hashable(f):
    try:
        hash(f)
        return True
    except TypeError:
        return False


def _changed(f):
    generation[0] = next(_generation)
    for listener in _listeners:
        listener(f)


def on_rule_change(listener):
    _listeners.append(listener)
    return listener


def register(f, rule, *, number_closed=False):
    """Register the full rule `rule` for the callable `f` (internal: no validation wrapper)."""
    replaced = _dict_contains(RULES, f) or f in CONSTANTS
    RULES[f] = rule
    CONSTANTS.discard(f)
    SCALAR_RULES.pop(f, None)
    if number_closed:
        NUMBER_CLOSED.add(f)
    if replaced or hasattr(f, "__code__"):
        _changed(f)
    else:
        _new_entry()
    return rule


def _new_entry():
    """A rule or constant registered for a callable that had none (by the user or by a domain
    that loads, in any thread): code built while the callable had no entry is built again. (The
    array transform reads a callable it has a primitive for and that has no entry yet as one
    with dpnb's own rule, without loading its domain: `fwdrev._builtin_rule`.)"""
    generation[0] = next(_generation)


def constant(*fs):
    """Mark callables as non-differentiable: their results carry no gradient."""
    for f in fs:
        if not _hashable(f):
            continue
        replaced = _dict_contains(RULES, f)
        RULES.pop(f, None)
        SCALAR_RULES.pop(f, None)
        CONSTANTS.add(f)
        if replaced or hasattr(f, "__code__"):
            _changed(f)
        else:
            _new_entry()
    return fs[0] if len(fs) == 1 else fs


def entry(f):
    """`lookup(f)` of a hashable `f` as the tables are now, loading no domain: the rule
    registered for `f`, `CONSTANT`, or None."""
    r = _dict_get(RULES, f)
    if r is None and f in CONSTANTS:
        return CONSTANT
    return r


_OUT_PARAMS = {}
#: the parameters taken by position of the methods of ufuncs, up to their `out` (no signature)
_UFUNC_METHOD_PARAMS = {
    "reduce": ("array", "axis", "dtype", "out"),
    "accumulate": ("array", "axis", "dtype", "out"),
    "reduceat": ("array", "indices", "axis", "dtype", "out"),
}


def out_params(f):
    """The names of `f`'s parameters that may be given by position, up to and including `out`
    (np.dot: ("a", "b", "out"); ndarray.clip: ("self", "min", "max", "out")), or None when `f`
    takes no `out` by position. Cached; ufuncs (whose outputs follow their `nin` inputs) are not
    asked about."""
    try:
        return _OUT_PARAMS[f]
    except KeyError:
        pass
    except TypeError:
        return None
    names = None
    owner = getattr(f, "__self__", None)
    if type(owner).__name__ == "ufunc" and type(owner).__module__ == "numpy":  # (NumPy not imported here)
        names = _UFUNC_METHOD_PARAMS.get(getattr(f, "__name__", None))
    else:
        import inspect

        try:
            params = inspect.signature(f).parameters.values()
        except (TypeError, ValueError):
            params = ()
        got = []
        for p in params:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            got.append(p.name)
            if p.name == "out":
                names = tuple(got)
                break
    _OUT_PARAMS[f] = names
    return names


def lookup(f):
    """The rule for `f`, `CONSTANT` if it is constant, else None."""
    try:
        r = _dict_get(RULES, f)
        if r is not None:
            return r
        if f in CONSTANTS:
            return CONSTANT
    except TypeError:  # unhashable callable
        return None
    if _pending and _load_pending(f):
        return lookup(f)
    return None


# --- domains registered when first needed ---------------------------------------------------
# A domain's rules are registered at the first look-up that misses and may concern it, so that
# `import dpnb` neither imports a library nor builds its rules for programs that never use it:
#
# - a library dpnb does not import itself (SciPy, `numpy.random`, `numpy.fft`) loads once the
#   program imported it: no callable of a library can reach dpnb before it is imported;
# - NumPy itself is always imported: its rules load at the first look-up of a NumPy callable,
#   type, method or attribute (`concerns`), which every look-up of one of their keys is.
#
# Every read of the tables by key goes through `lookup`, `RULES[...]`, `RULES.get`, `in RULES`,
# `ATTRIBUTE_RULES[...]` or, in the runtime, `attribute_missed`, which all load what is due.


class _Domain:
    __slots__ = ("module", "concerns", "load", "attributes", "pick")

    def __init__(self, module, concerns, load, attributes, pick):
        self.module = module
        self.concerns = concerns
        self.load = load
        self.attributes = attributes
        self.pick = pick


#: the domains not loaded yet, in the order they would have loaded eagerly (a tuple, replaced
#: on change, so that a look-up in another thread always reads a whole one)
_DOMAINS = ()
#: whether a domain waits (a look-up that misses then asks `_load_pending`)
_pending = False
#: [whether a waiting domain registers attribute rules]: the runtime's test before `attribute_missed`
ATTRIBUTES_PENDING = [False]
_lazy_lock = _thread.RLock()
_loading = [0]  # domains being loaded by the thread holding the lock (nested look-ups load nothing)
_ALL = object()


def lazy_domain(module_name, load, concerns=None, attributes=False, pick=None):
    """Call `load()` (which registers rules) when first needed: at the first look-up that misses
    once the module `module_name` is imported (None: any time) and, given `concerns`, whose key
    `concerns(key)` says may belong to the domain (a callable, or a `(type, name)` attribute key).
    `attributes`: the domain registers attribute rules too. Rules registered by the user before
    a domain loads stay theirs.

    A library's rules may come as several domains, parts sharing one `concerns`: `pick(key)` then
    says whether a key `concerns` admits is due for this part (it must say yes to every part for
    a key it cannot place, so that a look-up never misses a rule that a part not loaded holds)."""
    global _DOMAINS
    with _lazy_lock:
        _DOMAINS = _DOMAINS + (_Domain(module_name, concerns, load, attributes, pick),)
        _refresh_pending()


def modules_concern(*names):
    """A `concerns` for `lazy_domain`: whether a key belongs to one of the modules `names` (or
    their submodules): a function, class or object of theirs, a method of one of their classes
    (`np.ndarray.sum`, `x.sum`, `np.random.normal`, `itertools.chain.from_iterable`), or an
    attribute key `(type, name)` of such a class. Only the key's type and module are read: an
    object's `__getattr__` is never called for them.

    >>> import numpy as np
    >>> concerns = modules_concern("numpy")
    >>> concerns(np.sum), concerns(np.ndarray.sum), concerns((np.ndarray, "T")), concerns(len)
    (True, True, True, False)
    """
    prefixes = tuple(n + "." for n in names)

    def ours(module):
        return type(module) is str and (module in names or module.startswith(prefixes))

    def our_type(cls):
        return any(ours(c.__module__) for c in cls.__mro__)

    def concerns(key):
        t = type(key)
        if t is _FunctionType:  # the most frequent key that misses: a Python function of the program
            return ours(key.__module__)
        if t is tuple:
            return len(key) == 2 and isinstance(key[0], type) and our_type(key[0])
        if isinstance(key, type):
            return our_type(key)
        if t in _DESCRIPTORS:
            return our_type(key.__objclass__)
        if t is types.BuiltinFunctionType or t is types.MethodWrapperType:
            owner = key.__self__
            if owner is not None and not isinstance(owner, types.ModuleType):
                return our_type(owner if isinstance(owner, type) else type(owner))
        elif t is types.MethodType:
            owner = key.__self__
            return concerns(key.__func__) or our_type(owner if isinstance(owner, type) else type(owner))
        return ours(getattr(key, "__module__", None)) or our_type(t)

    return concerns


_FunctionType = types.FunctionType
_DESCRIPTORS = (
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
)


#: the waiting domains that wait for a module only, and the others as (module or None, concerns)
_GATED = ()
_KEYED = ()
#: the number of modules imported when no domain of `_GATED` was found due (a look-up that misses
#: looks at them again only once a module was imported since)
_modules_seen = [-1]


def _refresh_pending():
    global _pending, _GATED, _KEYED
    _pending = bool(_DOMAINS)
    ATTRIBUTES_PENDING[0] = any(d.attributes for d in _DOMAINS)
    _GATED = tuple(d.module for d in _DOMAINS if d.concerns is None)
    # the parts of one library share their `concerns`: asked once
    _KEYED = tuple(dict.fromkeys((d.module, d.concerns) for d in _DOMAINS if d.concerns is not None))
    _modules_seen[0] = -1


def _due(d, key, modules, asked):
    """Whether domain `d` is due at a look-up of `key`; `asked`: each `concerns`' answer for `key`,
    kept for the other domains that share it (the parts of one library)."""
    if d.module is not None and d.module not in modules:
        return False
    if d.concerns is None or key is _ALL:
        return True
    try:
        c = asked.get(d.concerns)
        if c is None:
            c = asked[d.concerns] = bool(d.concerns(key))
        return c and (d.pick is None or bool(d.pick(key)))
    except Exception:  # an object that will not say: load, a rule too many is harmless
        return True


def _may_be_due(key, modules):
    """`_due` for some waiting domain, as cheaply as can be: every look-up that misses asks."""
    n = len(modules)
    if n != _modules_seen[0]:
        for m in _GATED:
            if m is None or m in modules:
                return True
        _modules_seen[0] = n
    for m, concerns in _KEYED:
        if m is not None and m not in modules:
            continue
        try:
            if concerns(key):
                return True
        except Exception:  # an object that will not say: load, a rule too many is harmless
            return True
    return False


def _load_pending(key):
    """After a look-up of `key` missed: load the waiting domains it may concern. True if the
    look-up is worth repeating (a domain was loaded meanwhile, here or in another thread)."""
    global _DOMAINS
    modules = sys.modules
    if key is not _ALL and not _may_be_due(key, modules):
        return False
    with _lazy_lock:
        if _loading[0]:
            return False  # a look-up made while a domain registers its rules
        loaded = False
        asked = {}
        while True:
            ready = [d for d in _DOMAINS if _due(d, key, modules, asked)]
            if not ready:
                break
            for d in ready:
                _loading[0] += 1
                try:
                    _keeping_user_rules(d.load)
                finally:
                    _loading[0] -= 1
                    _DOMAINS = tuple(e for e in _DOMAINS if e is not d)
                    _refresh_pending()
                loaded = True
        return loaded or known(key)


def known(key):
    """Whether `key` has an entry now (another thread loaded its domain while this one waited)."""
    if key is _ALL:
        return False
    try:
        return (
            _dict_contains(RULES, key) or key in CONSTANTS
            or _dict_contains(ATTRIBUTE_RULES, key) or key in CONSTANT_ATTRIBUTES
        )
    except TypeError:
        return False


def attribute_missed(key):
    """The runtime read an attribute `(type, name)` with no rule: load a waiting domain it may
    concern; True if it has a rule or is constant now."""
    return bool(_pending and _load_pending(key))


def load_all():
    """Load every waiting domain whose library is imported (for tools that list the tables)."""
    if _pending:
        _load_pending(_ALL)


def _keeping_user_rules(load):
    rules, consts, scalars, closed = dict(RULES), set(CONSTANTS), dict(SCALAR_RULES), set(NUMBER_CLOSED)
    attrs, const_attrs = dict(ATTRIBUTE_RULES), set(CONSTANT_ATTRIBUTES)
    load()
    for f, r in rules.items():
        if _dict_get(RULES, f) is not r:
            RULES[f] = r
            CONSTANTS.discard(f)
            if f in scalars:
                SCALAR_RULES[f] = scalars[f]
            else:
                SCALAR_RULES.pop(f, None)
            if f not in closed:
                NUMBER_CLOSED.discard(f)
    for f in consts:
        if f not in CONSTANTS:
            CONSTANTS.add(f)
            RULES.pop(f, None)
            SCALAR_RULES.pop(f, None)
    for key, r in attrs.items():
        if _dict_get(ATTRIBUTE_RULES, key) is not r:
            ATTRIBUTE_RULES[key] = r
            CONSTANT_ATTRIBUTES.discard(key)
    for key in const_attrs:
        if key not in CONSTANT_ATTRIBUTES:
            CONSTANT_ATTRIBUTES.add(key)
            ATTRIBUTE_RULES.pop(key, None)


CONSTANT = object()


# --- the public, validated registration API -------------------------------------------


def _rule_name(f):
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


def _checked(f, user_rule, style):
    """Wrap a user rule: validate the pullback's arity, turn NoTangent/ZeroTangent into None."""
    rule_name = _rule_name(user_rule)
    fname = _rule_name(f)

    def rule(*args, **kwargs):
        out = user_rule(*args, **kwargs)
        try:
            y, user_pullback = out
        except (TypeError, ValueError):
            raise DifferentiationError(
                f"rule {rule_name} for {fname} must return (y, pullback), got {type(out).__name__}"
            ) from None
        nargs = len(args)

        def pullback(y_bar):
            bars = user_pullback(y_bar)
            if not isinstance(bars, tuple):
                bars = (bars,) if style == "adjoint" and nargs == 1 else bars
            if not isinstance(bars, tuple):
                raise DifferentiationError(
                    f"the pullback of rule {rule_name} for {fname} must return a tuple, "
                    f"got {type(bars).__name__}"
                )
            expected = nargs + 1 if style == "rrule" else nargs
            keywords = None
            if len(bars) == expected + 1 and type(bars[-1]) is dict:  # keyword cotangents come last
                keywords = {k: (None if isinstance(b, AbstractZero) else b) for k, b in bars[-1].items()}
                bars = bars[:-1]
            if len(bars) != expected:
                what = "the function's own tangent and one per argument" if style == "rrule" else "one per argument"
                raise DifferentiationError(
                    f"the pullback of rule {rule_name} for {fname} returned {len(bars)} tangents, "
                    f"expected {expected} ({what})"
                )
            if style == "adjoint":
                bars = (None,) + bars
            bars = tuple(None if isinstance(b, AbstractZero) else b for b in bars)
            return bars if keywords is None else bars + (keywords,)

        pullback.__name__ = getattr(user_pullback, "__name__", "pullback")
        pullback.__qualname__ = getattr(user_pullback, "__qualname__", "pullback")
        return y, pullback

    rule.__name__ = getattr(user_rule, "__name__", "rule")
    rule.__qualname__ = getattr(user_rule, "__qualname__", "rule")
    rule.__wrapped__ = user_rule
    return rule


def rrule(f):
    """Register a ChainRules-style rule for the callable `f` (a decorator).

    The rule returns `(y, pullback)`; `pullback(dy)` returns the function's own
    tangent first, then one tangent per positional argument.

    >>> from dpnb import rrule, NoTangent, gradient
    >>> def add(a, b):
    ...     return a + b
    >>> @rrule(add)
    ... def add_rrule(a, b):
    ...     def add_pullback(dy):
    ...         return NoTangent(), dy, dy
    ...     return add(a, b), add_pullback
    >>> gradient(lambda x: add(x, 2.0), 1.0)
    (1.0,)
    """

    def decorate(user_rule):
        register(f, _checked(f, user_rule, "rrule"))
        return user_rule

    return decorate


def adjoint(f):
    """Register a Zygote `@adjoint`-style rule: the pullback returns the arguments' tangents only.

    >>> from dpnb import adjoint, gradient
    >>> def mul(a, b):
    ...     return a * b
    >>> @adjoint(mul)
    ... def mul_adjoint(a, b):
    ...     return mul(a, b), lambda d: (d * b, d * a)
    >>> gradient(mul, 2.0, 3.0)
    (3.0, 2.0)
    """

    def decorate(user_rule):
        register(f, _checked(f, user_rule, "adjoint"))
        return user_rule

    return decorate


def nograd(f):
    """Mark `f` as constant: its result carries no gradient (usable as a decorator).

    >>> from dpnb import nograd, gradient
    >>> @nograd
    ... def scale():
    ...     return 3.0
    >>> gradient(lambda x: scale() * x, 2.0)
    (3.0,)
    """
    constant(f)
    return f


# --- attributes of types with no Python source (ndarray.T, complex.real, ...) ----------

#: (type, name) -> rule(obj) -> (y, pullback); pullback(y_bar) -> (None, obj_bar)
ATTRIBUTE_RULES = _AttributeRules()
#: (type, name) pairs whose value carries no gradient (ndarray.shape, .dtype, ...)
CONSTANT_ATTRIBUTES = set()


def register_attribute(cls, name, rule):
    """Register the rule for reading attribute `name` of instances of `cls`."""
    ATTRIBUTE_RULES[(cls, name)] = rule
    return rule


def constant_attribute(cls, *names):
    """Mark attributes of `cls` as carrying no gradient."""
    for n in names:
        CONSTANT_ATTRIBUTES.add((cls, n))


# rules written as partial-derivative expressions: a module of their own, part of this registry
from .scalar import (  # noqa: E402,F401
    Partials,
    ScalarRule,
    compile_partials,
    inline_partials,
    partials_function,
    scalar_rule,
    scalar_rules,
)

# the loading of domains and of the partials is bookkeeping: seen when dpnb differentiates its own
# runtime (second derivatives), it runs as it is
constant(_load_pending, attribute_missed, load_all, partials_function)
