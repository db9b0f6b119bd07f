"""A small, self-contained central-difference checker for the program tests.

Kept local on purpose: these tests must not depend on `dpnb.testing` while it is
being written, and a checker that shares code with the thing it checks proves
little.

`numerical_gradient(f, *args, wrt=...)` perturbs each chosen argument (a number,
an ndarray, or a tuple/list of numbers) entry by entry; `check_gradient(f, *args)`
compares `dpnb.gradient(f, *args)` with it, entry by entry and type by type.

Structured arguments (dicts, lists, tuples, named tuples, dataclasses, plain
objects with a `__dict__`, nested to any depth) are handled too: every float leaf
and every entry of every numeric-array leaf of a fresh copy of the argument is
perturbed in turn (the caller's argument is never touched). The expected gradient
has the argument's shape, in SPEC §3's terms: a dict for a dict, the same class for
a named tuple, an `ObjectGradient` (compared with a `dpnb.Tangent`) for an object.
Leaves with no tangent (str, bool, None, functions, types, modules) are expected to
get `None`; int leaves inside structures are not perturbed and their gradient is
not checked (`UNCHECKED`). Objects that appear twice inside one argument stay
shared in the perturbed copies, so finite differences give their total derivative.
"""
import copy
import dataclasses
import numbers
import types

import numpy as np

import dpnb

EPS = 1e-6


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_differentiable(x):
    if _is_number(x):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "iuf"
    if _flat_numbers(x):
        return True
    return _is_structure(x)


# -- structures: compile a value once into a tree that can rebuild it from a vector ------


class _Unchecked:
    """Expected gradient of a leaf the checker does not perturb (an int inside a structure)."""

    def __repr__(self):
        return "UNCHECKED"


UNCHECKED = _Unchecked()


class ObjectGradient:
    """Expected gradient of an object with fields: matched against a `dpnb.Tangent`."""

    def __init__(self, primal_type, fields):
        self.primal_type = primal_type
        self.fields = fields

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"ObjectGradient[{self.primal_type.__name__}]({inner})"


_NO_TANGENT = (str, bytes, bool, np.bool_, type(None), type, types.FunctionType, types.BuiltinFunctionType,
               types.MethodType, types.ModuleType, types.LambdaType, np.ufunc)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _object_fields(x):
    """Field names of a dataclass instance or a plain object with a `__dict__`, else None."""
    if isinstance(x, _NO_TANGENT):
        return None
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [f.name for f in dataclasses.fields(x)]
    d = getattr(x, "__dict__", None)
    return list(d) if isinstance(d, dict) else None


class _Tree:
    """`x` as a tree whose float leaves are slots of one vector.

    `build(v)` makes a fresh value like `x` with its leaves from `v` (containers and
    arrays new, everything else shared); `expected(g)` makes the expected gradient
    with its leaves from `g`.
    """

    def __init__(self, x):
        self.size = 0
        self.base = []  # leaf values, in slot order
        self._seen = {}
        self.root = self._compile(x)
        self.base = np.array(self.base, dtype=float)

    def _slots(self, n):
        start = self.size
        self.size += n
        return start

    def _compile(self, x):
        if id(x) in self._seen:
            return ("alias", id(x))
        if isinstance(x, _NO_TANGENT):
            return ("const", x, None)
        if isinstance(x, (float, np.floating)):
            self.base.append(float(x))
            return ("float", x, self._slots(1))
        if isinstance(x, numbers.Number):
            return ("const", x, UNCHECKED)  # ints (and complex) inside structures
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "iuf":
                return ("const", x, None if x.dtype.kind == "b" else UNCHECKED)
            self._seen[id(x)] = x
            self.base.extend(np.asarray(x, dtype=float).ravel().tolist())
            return ("array", x, self._slots(x.size))
        if isinstance(x, (list, dict)) or _object_fields(x) is not None:
            self._seen[id(x)] = x
        if isinstance(x, list):
            return ("list", x, [self._compile(v) for v in x])
        if isinstance(x, tuple):
            return ("tuple", x, [self._compile(v) for v in x])
        if isinstance(x, dict):
            return ("dict", x, [(k, self._compile(v)) for k, v in x.items()])
        names = _object_fields(x)
        if names is not None:
            return ("object", x, [(k, self._compile(getattr(x, k))) for k in names])
        return ("const", x, UNCHECKED)

    def build(self, v):
        memo = {}

        def go(node):
            kind, x = node[0], node[1]
            if kind == "alias":
                return memo[x]
            if kind == "const":
                return x
            if kind == "float":
                return type(x)(v[node[2]])
            if kind == "array":
                out = v[node[2]:node[2] + x.size].reshape(x.shape).astype(np.result_type(x.dtype, float))
                memo[id(x)] = out
                return out
            if kind == "list":
                out = memo[id(x)] = []
                out.extend(go(c) for c in node[2])
                return out
            if kind == "tuple":
                items = [go(c) for c in node[2]]
                return type(x)(*items) if _is_namedtuple(x) else type(x)(items)
            if kind == "dict":
                out = memo[id(x)] = type(x)() if type(x) is not dict else {}
                for k, c in node[2]:
                    out[k] = go(c)
                return out
            out = memo[id(x)] = copy.copy(x)
            for k, c in node[2]:
                object.__setattr__(out, k, go(c))
            return out

        return go(self.root)

    def expected(self, g):
        memo = {}

        def go(node):
            kind, x = node[0], node[1]
            if kind == "alias":
                return memo.get(x)
            if kind == "const":
                return node[2]
            if kind == "float":
                return float(g[node[2]])
            if kind == "array":
                out = memo[id(x)] = np.array(g[node[2]:node[2] + x.size], dtype=float).reshape(x.shape)
                return out
            if kind == "list":
                out = memo[id(x)] = [go(c) for c in node[2]]
                return out
            if kind == "tuple":
                items = [go(c) for c in node[2]]
                return type(x)(*items) if _is_namedtuple(x) else tuple(items)
            if kind == "dict":
                out = memo[id(x)] = {k: go(c) for k, c in node[2]}
                return out
            out = memo[id(x)] = ObjectGradient(type(x), {k: go(c) for k, c in node[2]})
            return out

        return go(self.root)


def _is_structure(x):
    """A container or object (not a flat number sequence) with at least one leaf to perturb."""
    if isinstance(x, _NO_TANGENT) or _is_number(x) or isinstance(x, np.ndarray):
        return False
    if not (isinstance(x, (list, tuple, dict)) or _object_fields(x) is not None):
        return False
    return _Tree(x).size > 0


def _flat_numbers(x):
    return type(x) in (tuple, list) and len(x) > 0 and all(_is_number(v) for v in x)


def _scalar(y):
    y = np.asarray(y, dtype=float)
    assert y.shape == (), f"f must return a scalar, got shape {y.shape}"
    return float(y)


def _partial(f, args, i, step_arg):
    """Central difference of f along the perturbation `step_arg(h) -> new argument i`."""

    def at(h):
        new = list(args)
        new[i] = step_arg(h)
        return _scalar(f(*new))

    return at


def _central(at, scale):
    h = EPS * max(1.0, abs(scale))
    return (at(h) - at(-h)) / (2 * h)


def numerical_gradient(f, *args, wrt=None):
    """Central-difference gradient of the scalar `f(*args)`.

    One entry per argument: a float for numbers, a float array for ndarrays, a
    tuple/list of floats for tuples/lists of numbers, the argument's shape for
    other structures (see the module docstring), None for arguments not in `wrt`
    (default: every argument that is a number, a numeric array, a sequence of
    numbers or a structure holding a float or a numeric array).
    """
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if _is_differentiable(a)]
    out = [None] * len(args)
    for i in wrt:
        a = args[i]
        if _is_number(a):
            x = float(a)
            out[i] = _central(_partial(f, args, i, lambda h: x + h), x)
        elif isinstance(a, np.ndarray):
            base = a.astype(float)
            g = np.zeros(base.shape)
            for idx in np.ndindex(base.shape):

                def step(h, idx=idx):
                    b = base.copy()
                    b[idx] += h
                    return b

                g[idx] = _central(_partial(f, args, i, step), base[idx])
            out[i] = g
        elif _flat_numbers(a):
            g = []
            for k in range(len(a)):

                def step(h, k=k):
                    b = [float(v) for v in a]
                    b[k] += h
                    return type(a)(b)

                g.append(_central(_partial(f, args, i, step), float(a[k])))
            out[i] = type(a)(g)
        elif _is_structure(a):
            tree = _Tree(a)
            g = np.zeros(tree.size)
            for k in range(tree.size):

                def step(h, k=k):
                    v = tree.base.copy()
                    v[k] += h
                    return tree.build(v)

                g[k] = _central(_partial(f, args, i, step), tree.base[k])
            out[i] = tree.expected(g)
        else:
            raise TypeError(f"cannot take finite differences with respect to {type(a).__name__}")
    return tuple(out)


def assert_close(got, want, rtol=1e-5, atol=1e-6, what="gradient"):
    """`got` (from dpnb) matches `want` (numerical); None in `got` counts as zero only if `want` is zero."""
    if want is UNCHECKED:
        return
    if want is None:
        assert got is None, f"{what}: expected None, got {got!r}"
        return
    if got is None and isinstance(want, (tuple, list, dict, ObjectGradient)):
        assert _all_zero(want, atol), f"{what}: got None, finite differences say {want!r}"
        return
    if isinstance(want, ObjectGradient):
        assert isinstance(got, dpnb.Tangent), f"{what}: expected a Tangent, got {type(got).__name__}: {got!r}"
        assert got.primal_type is want.primal_type, (
            f"{what}: Tangent of {got.primal_type!r}, expected {want.primal_type!r}"
        )
        extra = set(got.fields) - set(want.fields)
        assert not extra, f"{what}: Tangent has fields {sorted(map(str, extra))} that the object does not"
        for k, w in want.fields.items():
            assert_close(got.fields.get(k), w, rtol, atol, f"{what}.{k}")
        return
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{what}: expected a dict, got {type(got).__name__}: {got!r}"
        extra = [k for k in got if k not in want]
        assert not extra, f"{what}: keys {extra!r} are not keys of the argument"
        for k, w in want.items():
            assert_close(got.get(k), w, rtol, atol, f"{what}[{k!r}]")
        return
    if isinstance(want, (tuple, list)):
        assert isinstance(got, type(want)), f"{what}: expected a {type(want).__name__}, got {got!r}"
        assert len(got) == len(want), f"{what}: expected {len(want)} entries, got {got!r}"
        for k, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, rtol, atol, f"{what}[{k}]")
        return
    if got is None:
        assert np.allclose(want, 0.0, atol=atol), f"{what}: got None, finite differences say {want!r}"
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: expected an ndarray, got {type(got).__name__}: {got!r}"
        assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
        assert got.dtype.kind in "fc", f"{what}: dtype {got.dtype} is not floating"
    else:
        assert _is_number(got) or (isinstance(got, np.ndarray) and got.shape == ()), (
            f"{what}: expected a number, got {type(got).__name__}: {got!r}"
        )
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=rtol, atol=atol, err_msg=what)


def _all_zero(want, atol):
    if want is None or want is UNCHECKED:
        return True
    if isinstance(want, ObjectGradient):
        want = want.fields
    if isinstance(want, dict):
        want = list(want.values())
    if isinstance(want, (tuple, list)):
        return all(_all_zero(w, atol) for w in want)
    return bool(np.allclose(want, 0.0, atol=atol))


def check_gradient(f, *args, wrt=None, none=(), rtol=1e-5, atol=1e-6):
    """Assert dpnb.gradient(f, *args) agrees with central differences; return dpnb's gradient.

    `wrt`: the argument indices to check numerically (default: every
    differentiable-looking argument). `none`: indices whose gradient must be None.
    """
    grads = dpnb.gradient(f, *args)
    assert isinstance(grads, tuple), f"gradient must return a tuple, got {type(grads).__name__}"
    assert len(grads) == len(args), f"expected {len(args)} gradients, got {len(grads)}: {grads!r}"
    want = numerical_gradient(f, *args, wrt=wrt)
    checked = wrt if wrt is not None else [i for i, a in enumerate(args) if _is_differentiable(a)]
    for i in checked:
        assert_close(grads[i], want[i], rtol, atol, what=f"gradient of argument {i}")
    for i in none:
        assert grads[i] is None, f"argument {i}: expected None, got {grads[i]!r}"
    return grads
