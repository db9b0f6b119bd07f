"""Scalar rules: elementwise rules written as expressions of the partial derivatives, part of
the registry (`registry` re-exports everything here).

`scalar_rule(f, "d/dx1", "d/dx2", ns=...)` registers a rule whose generic pullback broadcasts
once; the expressions also go into `SCALAR_RULES`, where the transform finds them to write them
inline for plain numbers. The partials are compiled into one function when a pullback first
needs them, and parsed when the transform first inlines them.
"""
import ast

from .registry import NUMBER_CLOSED, SCALAR_RULES, register


class ScalarRule:
    """An elementwise rule given by partial-derivative expressions.

    `partials[i]` is an `ast.expr` in the argument names `argnames` and the
    output name `y` (parsed from `sources[i]` when first asked for); free names
    resolve in `namespace`.
    """

    __slots__ = ("f", "argnames", "namespace", "sources", "_partials", "_free_names")

    def __init__(self, f, argnames, partials, namespace, sources):
        self.f = f
        self.argnames = argnames
        self.namespace = namespace
        self.sources = sources
        self._partials = partials  # None: parsed from `sources` at the first use
        self._free_names = None

    @property
    def partials(self):
        p = self._partials
        if p is None:
            p = self._partials = _parse_partials(self.sources)
        return p

    @property
    def free_names(self):
        names = self._free_names
        if names is None:
            names = self._free_names = sorted(
                {
                    n.id
                    for p in self.partials
                    if p is not None
                    for n in ast.walk(p)
                    if isinstance(n, ast.Name) and n.id not in self.argnames and n.id != "y"
                }
            )
        return names


def _parse_partials(sources):
    return [None if p is None else ast.parse(p, mode="eval").body for p in sources]


def compile_partials(fname, argnames, body, namespace):
    """`<fname>_partials(*argnames, y)` returning the tuple `body`; its source stays readable
    (registered with linecache), so dpnb can differentiate it again for second derivatives."""
    import linecache

    src = f"def {fname}_partials({', '.join(argnames)}, y):\n    return ({body},)\n"
    filename = f"<dpnb rule {fname}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    code_ns = dict(namespace)
    exec(compile(src, filename, "exec"), code_ns)
    return code_ns[f"{fname}_partials"]


class Partials:
    """What `compile_partials` compiles, kept until it is first needed: a rule's pullback calls
    `partials_function(p)(*args, y)`, so that registering a table of rules compiles nothing."""

    __slots__ = ("fname", "argnames", "body", "namespace", "fn")

    def __init__(self, fname, argnames, body, namespace):
        self.fname = fname
        self.argnames = argnames
        self.body = body
        self.namespace = namespace
        self.fn = None


def partials_function(p):
    """The function of the `Partials` `p`, compiled at its first use."""
    fn = p.fn
    if fn is None:
        fn = p.fn = compile_partials(p.fname, p.argnames, p.body, p.namespace)
    return fn


def scalar_rule(f, *partials, ns, number_closed=True, name=None, _lazy=False):
    """Register an elementwise rule for `f` from its partial derivatives.

    Each partial is a string in `x` (one argument) or `x1, x2, ...` and the output
    `y`, or None for an argument with no derivative. The names in the strings
    resolve in the namespace `ns` (a module or dict).

    >>> import math
    >>> from dpnb.rules.registry import scalar_rule, RULES
    >>> _ = scalar_rule(math.sinh, "cosh(x)", ns=math)
    >>> y, back = RULES[math.sinh](0.0)
    >>> back(2.0)
    (None, 2.0)
    """
    from ._common import unbroadcast_to as unbroadcast  # projects a complex cotangent of a real input

    n = len(partials)
    argnames = ("x",) if n == 1 else tuple(f"x{i + 1}" for i in range(n))
    namespace = dict(vars(ns)) if not isinstance(ns, dict) else dict(ns)
    # the expressions are checked now, unless they are dpnb's own (parsed when first needed)
    exprs = None if _lazy else _parse_partials(partials)
    fname = name or getattr(f, "__name__", "f")
    # One function returning every partial, evaluated lazily in the pullback (and compiled then).
    body = ", ".join("None" if p is None else f"({p})" for p in partials)
    p = Partials(fname, argnames, body, namespace)

    if n == 1:

        def rule(x, **kwargs):
            y = f(x, **kwargs)

            def pullback(y_bar):
                (d,) = partials_function(p)(x, y)
                return None, unbroadcast(y_bar * d, x)

            pullback.__name__ = pullback.__qualname__ = f"{fname}_pullback"
            return y, pullback

    else:

        def rule(*args, **kwargs):
            y = f(*args, **kwargs)

            def pullback(y_bar):
                ds = partials_function(p)(*args, y)
                return (None,) + tuple(
                    None if d is None else unbroadcast(y_bar * d, a) for d, a in zip(ds, args)
                )

            pullback.__name__ = pullback.__qualname__ = f"{fname}_pullback"
            return y, pullback

    rule.__name__ = rule.__qualname__ = f"{fname}_rrule"
    register(f, rule, number_closed=number_closed)
    SCALAR_RULES[f] = ScalarRule(f, argnames, exprs, namespace, partials)
    return rule


def inline_partials(f, *partials, ns):
    """Partials the transform inlines for plain numbers, for one arity of `f`, leaving `f`'s full
    rule (which handles every arity) in place. The expressions are parsed when first needed; a
    namespace given as a dict is kept as it is (dpnb's own tables share theirs: they never change).

    >>> import math
    >>> from dpnb.rules.registry import SCALAR_RULES
    >>> SCALAR_RULES[math.log].argnames
    ('x',)
    """
    n = len(partials)
    argnames = ("x",) if n == 1 else tuple(f"x{i + 1}" for i in range(n))
    namespace = dict(vars(ns)) if not isinstance(ns, dict) else ns
    SCALAR_RULES[f] = ScalarRule(f, argnames, None, namespace, partials)
    NUMBER_CLOSED.add(f)


def scalar_rules(table, ns):
    """Register many scalar rules of dpnb's own: `table` maps callables to partial strings (or tuples)."""
    for f, partials in table.items():
        if isinstance(partials, str):
            partials = (partials,)
        scalar_rule(f, *partials, ns=ns, _lazy=True)
