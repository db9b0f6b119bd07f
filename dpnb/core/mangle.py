"""Private names: the `__name` → `_Class__name` rewriting Python's compiler does in a class.

In a class body, and in every function, lambda and comprehension written inside it,
the compiler turns an identifier `__name` into `_Class__name`: attribute names
(`self.__w`), variables (read, written, deleted, `global`, `nonlocal`), parameters,
the names bound by `def`, `class`, `import`, `except ... as` and patterns. It does
not touch names ending in two underscores (`__init__`), dotted module names,
keyword arguments of calls, keyword patterns of `case` or strings. The class
name loses its leading underscores (`class _Foo` gives `_Foo__w`); a class named
only with underscores mangles nothing; a class nested in another mangles its own
body with its own name.

dpnb reads a function's own lines and compiles the adjoint outside any class, so
the parsed tree is mangled here, as the compiler mangled the user's code: the
adjoint then reads and writes the attributes and variables that exist, and
`adjoint_source` shows them.

A `def`, `class` or type parameter named `__name` inside the function is bound
to `_Class__name` as in Python, but its own `__name__` is then `_Class__name` too
(Python keeps `__name` there); `from m import __name` asks `m` for `_Class__name`
as Python does, with `_Class__name` (not `__name`) in the list it passes to
`__import__`; `import __a.b` still binds `__a`, not `_Class__a`.

The class comes from the code object's qualified name (`Model.loss`,
`f.<locals>.Model.loss`, `Model.make.<locals>.<lambda>`): the innermost class in
it. A function declared `global` in a class or a method has a qualified name that
does not show the class; the names the compiler wrote into the code object
(`co_names`, `co_varnames`, ...) decide whenever they contradict that guess.
"""
import ast
import copy

_CO_OPTIMIZED = 0x1  # set on functions' code, not on class bodies'

#: node type -> its fields that hold one identifier the compiler mangles
_IDENTIFIER_FIELDS = {
    ast.Name: ("id",),
    ast.Attribute: ("attr",),
    ast.arg: ("arg",),
    ast.FunctionDef: ("name",),
    ast.AsyncFunctionDef: ("name",),
    ast.ClassDef: ("name",),
    ast.ExceptHandler: ("name",),
    ast.alias: ("name", "asname"),
    ast.ImportFrom: ("module",),
    ast.MatchAs: ("name",),
    ast.MatchStar: ("name",),
    ast.MatchMapping: ("rest",),
}
for _name in ("TypeVar", "ParamSpec", "TypeVarTuple"):  # type parameters (Python 3.12+)
    if hasattr(ast, _name):
        _IDENTIFIER_FIELDS[getattr(ast, _name)] = ("name",)
#: node types whose field holds a list of identifiers
_IDENTIFIER_LISTS = {ast.Global: "names", ast.Nonlocal: "names"}


def mangle(private, name):
    """`name` as Python's compiler writes it inside class `private` (None: in no class)."""
    if private is None or name[:2] != "__" or name[-2:] == "__" or "." in name:
        return name
    stripped = private.lstrip("_")
    return f"_{stripped}{name}" if stripped else name


def _is_private(name):
    return isinstance(name, str) and mangle("C", name) != name


def _class_in_qualname(qualname):
    """The innermost class in a qualified name, or None: in `A.f.<locals>.B.g`, `B`."""
    parts = qualname.split(".")
    i = len(parts) - 2
    while i >= 0 and parts[i] == "<locals>":
        i -= 2  # skip a function and its `<locals>`
    return parts[i] if i >= 0 else None


def _walk(root, private, act):
    """Call `act(node, field, private)` for every identifier of the tree under `root`, with
    the class that mangles it (a class body is mangled with that class's own name). The
    name of `root` (the function being read) belongs to the scope around it and is left."""
    todo = [(root, private)]
    while todo:
        node, private = todo.pop()
        t = type(node)
        own = node.name if t is ast.ClassDef else None  # read before `act` mangles it
        if node is not root:
            if t in _IDENTIFIER_LISTS:
                act(node, _IDENTIFIER_LISTS[t], private)
            else:
                for f in _IDENTIFIER_FIELDS.get(t, ()):
                    act(node, f, private)
        if t is ast.ClassDef:
            # the decorators, bases and keywords run in the enclosing scope; the body (and
            # the type parameters of a generic class) in the class's own
            todo.extend((child, private) for child in node.decorator_list + node.bases + node.keywords)
            todo.extend((child, own) for child in [*getattr(node, "type_params", ()), *node.body])
        else:
            todo.extend((child, private) for child in ast.iter_child_nodes(node))


def _written_names(code):
    """The identifiers in `code` and the functions nested in it (class bodies left out)."""
    out, todo = set(), [code]
    while todo:
        c = todo.pop()
        out.update(c.co_names, c.co_varnames, c.co_cellvars, c.co_freevars)
        todo.extend(k for k in c.co_consts if hasattr(k, "co_consts") and k.co_flags & _CO_OPTIMIZED)
    return out


def _private_class(code, idents):
    """The class whose name mangled `code` (None: none did), given the private identifiers
    `idents` of its source."""
    guess = _class_in_qualname(code.co_qualname)
    written = _written_names(code)
    if any(mangle(guess, n) in written for n in idents):
        return guess
    for n in sorted(idents):
        if n in written:
            return None
        for w in written:
            # `_Q__n` for a class `Q` (its name without leading underscores)
            if len(w) > len(n) + 1 and w.endswith(n) and w[0] == "_" and w[1] != "_":
                return w[1 : -len(n)]
    return guess


def mangle_function(fdef, code):
    """`fdef`, the source of the function compiled to `code`, with its private names as the
    compiler wrote them: a mangled copy, or `fdef` itself when nothing in it is private."""
    idents, inner = set(), set()  # private identifiers of the function's scopes, of classes in it

    def collect(node, field, private):
        for v in _as_list(getattr(node, field)):
            if _is_private(v):
                (idents if private is _OUTER else inner).add(v)

    _walk(fdef, _OUTER, collect)
    if not idents and not inner:
        return fdef
    outer = _private_class(code, idents) if idents else None
    fdef = copy.deepcopy(fdef)

    def rename(node, field, private):
        if private is _OUTER:
            private = outer
        value = getattr(node, field)
        if isinstance(value, list):
            setattr(node, field, [mangle(private, v) for v in value])
        elif value is not None:
            setattr(node, field, mangle(private, value))

    _walk(fdef, _OUTER, rename)
    return fdef


def _as_list(value):
    return value if isinstance(value, list) else (value,)


class _Outer:
    """Marks the class around the function being read, not yet known while walking."""

    def __repr__(self):
        return "<the function's class>"


_OUTER = _Outer()
