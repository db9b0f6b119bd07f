"""Second order by forward over reverse: a Hessian in one batched pass.

`hessian(f, x)` asks `hessian(f, x)` here first. For a function whose body, after
`normalize` and SSA, is straight-line array code (arithmetic, `@`, indexing by
constants, `.T`, and the NumPy and `math` functions in `_FUNCS`), two transforms
run on source:

1. `_Adjoint` writes the gradient as plain code on names: the forward statements,
   then the cotangent of each value, in the same small set of primitives. No heap
   and no context are needed: nothing in this subset can alias or change a value.
2. `tangent` applies forward mode to that code with all k tangent directions at
   once: each active value `v` gets `v_d`, of shape `(k,) + np.shape(v)`, from the
   batched rule of its primitive (`_JVP`).

The result runs once, with the identity as the tangents of `x`: the tangent of the
gradient is the Hessian, all its columns in one pass. Code outside the subset raises
`Unsupported` when built; a value outside it when run (a rebound NumPy function, an
array subclass, a complex number, a 3-d `@`) raises `Bail`. Either way `hessian`
takes its columns the general way, reverse over reverse, which handles loops,
branches, calls and recursion.
"""
import ast
import math
import operator
import types
import weakref

import numpy as np

from .astlib import LOAD, C, N, S, assign, call, copy_location, copy_tree, fix_missing_locations, if_, name_nodes, tup, walk


from .forward import Unsupported, _ByCode, _reads_of, _ssa_body, _ssa_of, namer_of  # one reading of the source for both
from .load import gc_paused
from ..rules import registry


class Bail(Exception):
    """A value met when running is outside the subset: the general way takes over."""


# --- primitives of the adjoint code, and their batched tangent rules ---------------------------
#
# A tangent `d` of a value `t` always has the shape `(k,) + np.shape(t)`: the k directions first.


def _lift(d, nd):
    """Tangent `d` with axes of length 1 inserted after the batch axis, to rank `1 + nd`."""
    extra = nd - (d.ndim - 1)
    if extra <= 0:
        return d
    return d.reshape((d.shape[0],) + (1,) * extra + d.shape[1:])


def _full(d, t):
    shape = (d.shape[0],) + np.shape(t)
    d = _lift(d, len(shape) - 1)
    return d if d.shape == shape else np.broadcast_to(d, shape)


def _axes(axis, nd):
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(operator.index(a) % nd for a in axes)


def _p_check(v):
    """A value read from outside the function (a global, a default, a closure's cell)."""
    t = type(v)
    if t is float or t is int or t is np.float64:
        return
    if t is np.ndarray or isinstance(v, (np.floating, np.signedinteger, np.unsignedinteger)):
        if v.dtype.kind in "fiu":
            return
    raise Bail


def _p_array(v):
    """The object of a method call (`.sum()`) or of `.T`: a plain array."""
    if type(v) is not np.ndarray and not isinstance(v, np.floating):
        raise Bail


def _p_number(v):
    """The left side of `a += b`: a number (an array would change in place)."""
    if isinstance(v, np.ndarray):
        raise Bail


def _p_mm(a, b):
    """`@` and `np.dot` are compiled for 1-d and 2-d arrays."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise Bail


def _p_T(a):
    return a.T


def _p_getitem(a, idx):
    if type(a) is not np.ndarray:
        raise Bail
    return a[idx]


_add_reduce = np.add.reduce


def _p_sum(a, axis=None, keepdims=False):
    if axis is None and not keepdims and type(a) is np.ndarray:
        return _add_reduce(a, None)  # what np.sum calls, without its dispatch
    return np.sum(a, axis=axis, keepdims=keepdims)


def _p_mean(a, axis=None, keepdims=False):
    if axis is None and not keepdims and type(a) is np.ndarray and a.dtype.char == "d" and a.size:
        return _add_reduce(a, None) / a.size  # what np.mean computes, without its dispatch
    return np.mean(a, axis=axis, keepdims=keepdims)


def _p_count(a, t):
    """How many entries of `a` each entry of `t = mean(a, ...)` is the mean of."""
    return np.size(a) // np.size(t)


def _p_unb(g, a):
    """Cotangent `g` summed down to the shape of `a` (un-broadcasting)."""
    return _p_unbs(g, a.shape if type(a) is np.ndarray else np.shape(a))


def _p_unbs(g, shape):
    """`_p_unb` given the shape."""
    array = type(g) is np.ndarray
    gs = g.shape if array else np.shape(g)
    if gs == shape:
        return g
    if not shape:
        return np.sum(g)
    extra = len(gs) - len(shape)
    if extra > 0 and gs[extra:] == shape and array and g.dtype.char == "d":
        # summed over the leading axes only (a bias's cotangent): the reduction np.sum makes,
        # without its dispatch, and an array of its own rather than a view of one
        return _add_reduce(g, tuple(range(extra)))
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and gs[extra + i] != 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


def _read_only(g):
    a = np.array(g, dtype=np.float64)
    a.flags.writeable = False
    return a


_ONE = _read_only(1.0)  # the seed of every gradient


def _p_sum_bar(g, a, axis, keepdims):
    return _p_sum_bars(g, a.shape if type(a) is np.ndarray else np.shape(a), axis, keepdims)


def _p_sum_bars(g, shape, axis, keepdims):
    """`_p_sum_bar` given the shape of what was summed."""
    if not shape:
        return g
    if axis is None and type(g) is float:
        # every entry g: an array of that shape whose strides are 0 (no memory, read-only: its
        # buffer is), which `_p_outer` knows for what it is; of ones (the seed), one per shape
        if g == 1.0:
            r = _REPEATED_ONES.get(shape)
            if r is None:
                r = np.ndarray(shape, np.float64, _ONE, 0, (0,) * len(shape))
                if len(_REPEATED_ONES) < 64:
                    _REPEATED_ONES[shape] = r
            return r
        return np.ndarray(shape, np.float64, _read_only(g), 0, (0,) * len(shape))
    if axis is not None and not keepdims:
        g = np.expand_dims(g, _axes(axis, len(shape)))
    return np.broadcast_to(g, shape)


_REPEATED_ONES = {}  # shape -> ones repeated (`_p_sum_bars`), read-only
_DENSE_ONES = {}  # shape -> ones written out (`_p_dense`), read-only


def _p_dense(g):
    """`g` with its entries in memory: a repeated number (`_p_sum_bar`) written out, for `@`
    (read-only: `@` is all that reads it)."""
    if type(g) is np.ndarray and 0 in g.strides and g.size > 1:
        if g.base is _ONE and g.size <= 1 << 16:
            d = _DENSE_ONES.get(g.shape)
            if d is None:
                d = np.ones(g.shape)
                d.flags.writeable = False
                if len(_DENSE_ONES) < 64:
                    _DENSE_ONES[g.shape] = d
            return d
        return np.ascontiguousarray(g)
    return g


def _j_dense(t, g, dg):
    return dg


def _p_outer(u, v):
    """The outer product of 1-d `u` and `v`; where one of them is one number repeated (a
    sum's cotangent, see `_p_sum_bar`), its rows (or columns) are one row repeated."""
    if u.strides == (0,) and u.size > 1 and v.ndim == 1:
        out = np.empty((u.shape[0], v.shape[0]), v.dtype if v.dtype is u.dtype else np.result_type(u, v))
        out[...] = v if u.base is _ONE else u[0] * v  # (1.0 * v is v, entry for entry)
        return out
    if v.strides == (0,) and v.size > 1 and u.ndim == 1:
        c = v[0]
        out = np.empty((u.shape[0], v.shape[0]), u.dtype if v.dtype is u.dtype else np.result_type(u, v))
        out[...] = (u if c == 1.0 else u * c)[:, None]
        return out
    return np.multiply.outer(u, v)


def _j_outer(t, u, v, du, dv):
    out = None if du is None else du[:, :, None] * v[None, None, :]
    if dv is not None:
        part = u[None, :, None] * dv[:, None, :]
        out = part if out is None else out + part
    return out


def _p_getitem_bar(g, a, idx):
    z = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    z[idx] = g
    return z


def _p_zeros(v):
    """The cotangent of `v` on a branch that sent it none."""
    return np.zeros(np.shape(v)) if np.ndim(v) else 0.0


def _j_zeros(t, v, dv):
    return np.zeros_like(dv)


def _p_tzeros(v, seed):
    """The tangent of `v` on a branch that gave it none."""
    return np.zeros((seed.shape[0],) + np.shape(v))


def _zero_exponent(b):
    t = type(b)
    if t is int or t is float:
        return b == 0
    return np.ndim(b) == 0 and b == 0


def _p_powd(a, b):
    """d(a ** b)/da, 0 where b == 0 (where `0 * a ** -1` would be nan at a = 0): the base is set
    to 1 there first, so that no inf is formed."""
    if _zero_exponent(b):
        return 0.0 * np.asarray(a, dtype=float) if np.ndim(a) else 0.0
    if type(b) is int and b == 2:
        return 2 * a  # (2 * a ** 1, one pass less)
    if np.ndim(b):
        zero = b == 0
        if zero.any():
            return np.where(zero, 0.0, b * np.where(zero, 1.0, a) ** (b - 1))
    return b * a ** (b - 1)


def _p_powd2(a, b):
    """d²(a ** b)/da², 0 where b is 0 or 1 (the base set to 1 there, as in `_p_powd`)."""
    if np.ndim(b) == 0:
        return b * _p_powd(a, b - 1)
    flat = (b == 0) | (b == 1)
    if flat.any():
        return np.where(flat, 0.0, b * (b - 1) * np.where(flat, 1.0, a) ** (b - 2))
    return b * _p_powd(a, b - 1)


def _math(f):
    def scalar(a):
        if np.ndim(a):
            raise Bail
        return f(a)

    scalar.__name__ = f.__name__
    return scalar


def _j_add(t, a, b, da, db):
    if da is None:
        return _full(db, t)
    if db is None:
        return _full(da, t)
    nd = np.ndim(t)
    return _lift(da, nd) + _lift(db, nd)


def _j_sub(t, a, b, da, db):
    if da is None:
        return -_full(db, t)
    if db is None:
        return _full(da, t)
    nd = np.ndim(t)
    return _lift(da, nd) - _lift(db, nd)


def _j_mul(t, a, b, da, db):
    nd = np.ndim(t)
    out = None if da is None else _lift(da, nd) * b
    if db is not None:
        part = a * _lift(db, nd)
        out = part if out is None else out + part
    return _full(out, t)


def _j_div(t, a, b, da, db):
    nd = np.ndim(t)
    if db is None:
        return _full(_lift(da, nd) / b, t)
    part = t * _lift(db, nd)
    num = -part if da is None else _lift(da, nd) - part
    return _full(num / b, t)


def _j_pow(t, a, b, da, db):
    nd = np.ndim(t)
    out = None if da is None else _lift(da, nd) * _p_powd(a, b)
    if db is not None:
        part = _lift(db, nd) * (np.log(a) * t)
        out = part if out is None else out + part
    return _full(out, t)


def _j_matmul(t, a, b, da, db):
    out = None if da is None else da @ b
    if db is not None:
        part = db @ a.T if b.ndim == 1 else a @ db
        out = part if out is None else out + part
    return out


def _p_mm_a(g, a, b):
    """The cotangent of `a` in `t = a @ b` for 1-d and 2-d `a` and `b`, from `t`'s cotangent `g`;
    `a` is read for its rank only. (`@` wants the entries of a repeated number in memory,
    `_p_dense`; `_p_outer` repeats the row itself.)"""
    if a.ndim == 1:
        return g * b if b.ndim == 1 else b @ _p_dense(g)
    return _p_outer(g, b) if b.ndim == 1 else _p_dense(g) @ b.T


def _p_mm_b(g, a, b):
    """The cotangent of `b` in `t = a @ b` (see `_p_mm_a`); `b` is read for its rank only."""
    if b.ndim == 1:
        return g * a if a.ndim == 1 else a.T @ _p_dense(g)
    return _p_outer(a, g) if a.ndim == 1 else a.T @ _p_dense(g)


def _j_T_of(a, da):
    return None if da is None else _j_T(None, a, da)


def _j_mm_a(t, g, a, b, dg, db):
    # bilinear in (g, b): the cases of `_p_mm_a`, each by the tangent rules of its operations
    if a.ndim == 1:
        return _j_mul(t, g, b, dg, db) if b.ndim == 1 else _j_matmul(t, b, g, db, dg)
    return _j_outer(t, g, b, dg, db) if b.ndim == 1 else _j_matmul(t, g, b.T, dg, _j_T_of(b, db))


def _j_mm_b(t, g, a, b, dg, da):
    if b.ndim == 1 and a.ndim == 1:
        return _j_mul(t, g, a, dg, da)
    if b.ndim == 2 and a.ndim == 1:
        return _j_outer(t, a, g, da, dg)
    return _j_matmul(t, a.T, g, _j_T_of(a, da), dg)


def _j_neg(t, a, da):
    return -da


def _j_pos(t, a, da):
    return da


def _j_T(t, a, da):
    return da.transpose((0,) + tuple(range(da.ndim - 1, 0, -1)))


def _j_getitem(t, a, idx, da):
    return da[(slice(None),) + idx]


def _batched_axis(axis, nd):
    return None if axis is None else tuple(a + 1 for a in _axes(axis, nd))


def _j_sum(t, a, axis, keepdims, da):
    nd = np.ndim(a)
    if axis is None:
        out = da.reshape(da.shape[0], -1).sum(axis=1)
        return out.reshape((da.shape[0],) + (1,) * nd) if keepdims else out
    return da.sum(axis=_batched_axis(axis, nd), keepdims=keepdims)


def _j_mean(t, a, axis, keepdims, da):
    return _j_sum(t, a, axis, keepdims, da) / _p_count(a, t)


def _j_unb(t, g, a, dg):
    shape = np.shape(a)
    gs = np.shape(g)
    if gs == shape:
        return dg
    extra = len(gs) - len(shape)
    axes = tuple(range(1, extra + 1)) + tuple(
        1 + extra + i for i, n in enumerate(shape) if n == 1 and gs[extra + i] != 1
    )
    return np.sum(dg, axis=axes, keepdims=True).reshape((dg.shape[0],) + shape)


def _j_sum_bar(t, g, a, axis, keepdims, dg):
    shape = np.shape(a)
    k = dg.shape[0]
    if not shape:
        return dg
    if axis is None:
        dg = dg.reshape((k,) + (1,) * len(shape)) if dg.ndim == 1 else dg
    elif not keepdims:
        dg = np.expand_dims(dg, _batched_axis(axis, len(shape)))
    return np.broadcast_to(dg, (k,) + shape)


def _j_getitem_bar(t, g, a, idx, dg):
    z = np.zeros((dg.shape[0],) + np.shape(a), dtype=np.result_type(dg, float))
    z[(slice(None),) + idx] = dg
    return z


def _j_powd(t, a, b, da, db):
    nd = np.ndim(t)
    out = None
    if da is not None and not _zero_exponent(b) and not (np.ndim(b) == 0 and b == 1):
        out = _lift(da, nd) * _p_powd2(a, b)
    if db is not None:
        part = _lift(db, nd) * (a ** (b - 1) * (1 + b * np.log(a)))
        out = part if out is None else out + part
    if out is None:
        return np.zeros(((da if da is not None else db).shape[0],) + np.shape(t))
    return _full(out, t)


def _elementwise(derivative):
    def rule(t, a, da):
        return derivative(t, a) * da

    return rule


# name in the adjoint code -> (the primal function, its batched tangent rule or None when its
# result carries no tangent, the argument positions that carry tangents)
PRIMS = {
    "T": (_p_T, _j_T, (0,)),
    "getitem": (_p_getitem, _j_getitem, (0,)),
    "sum": (_p_sum, _j_sum, (0,)),
    "mean": (_p_mean, _j_mean, (0,)),
    "count": (_p_count, None, ()),
    "unb": (_p_unb, _j_unb, (0,)),
    "sum_bar": (_p_sum_bar, _j_sum_bar, (0,)),
    "getitem_bar": (_p_getitem_bar, _j_getitem_bar, (0,)),
    "outer": (_p_outer, _j_outer, (0, 1)),
    "dense": (_p_dense, _j_dense, (0,)),
    "mm_a": (_p_mm_a, _j_mm_a, (0, 2)),
    "mm_b": (_p_mm_b, _j_mm_b, (0, 1)),
    "powd": (_p_powd, _j_powd, (0, 1)),
    "sign": (np.sign, None, ()),
    "zeros": (_p_zeros, _j_zeros, (0,)),
    "sin": (np.sin, _elementwise(lambda t, a: np.cos(a)), (0,)),
    "cos": (np.cos, _elementwise(lambda t, a: -np.sin(a)), (0,)),
    "exp": (np.exp, _elementwise(lambda t, a: t), (0,)),
    "log": (np.log, _elementwise(lambda t, a: 1.0 / a), (0,)),
    "tanh": (np.tanh, _elementwise(lambda t, a: 1.0 - t * t), (0,)),
    "sqrt": (np.sqrt, _elementwise(lambda t, a: 0.5 / t), (0,)),
    "square": (np.square, _elementwise(lambda t, a: 2.0 * a), (0,)),
    "abs": (np.abs, _elementwise(lambda t, a: np.sign(a)), (0,)),
    "msin": (_math(math.sin), _elementwise(lambda t, a: np.cos(a)), (0,)),
    "mcos": (_math(math.cos), _elementwise(lambda t, a: -np.sin(a)), (0,)),
    "mexp": (_math(math.exp), _elementwise(lambda t, a: t), (0,)),
    "mlog": (_math(math.log), _elementwise(lambda t, a: 1.0 / a), (0,)),
    "mtanh": (_math(math.tanh), _elementwise(lambda t, a: 1.0 - t * t), (0,)),
    "msqrt": (_math(math.sqrt), _elementwise(lambda t, a: 0.5 / t), (0,)),
}

BINOPS = {ast.Add: _j_add, ast.Sub: _j_sub, ast.Mult: _j_mul, ast.Div: _j_div, ast.Pow: _j_pow, ast.MatMult: _j_matmul}
UNARY = {ast.USub: _j_neg, ast.UAdd: _j_pos}

# the user's callables this module compiles, by the primitive they are
_FUNCS = {
    np.sin: "sin", np.cos: "cos", np.exp: "exp", np.log: "log", np.tanh: "tanh", np.sqrt: "sqrt",
    np.square: "square", np.abs: "abs", np.sum: "sum", np.mean: "mean", np.dot: "dot",
    np.matmul: "dot", math.sin: "msin", math.cos: "mcos", math.exp: "mexp", math.log: "mlog",
    math.tanh: "mtanh", math.sqrt: "msqrt",
}
_METHODS = {"sum": "sum", "mean": "mean", "dot": "dot"}
_METHOD_KEYS = {"sum": np.ndarray.sum, "mean": np.ndarray.mean, "dot": np.ndarray.dot}


# --- 1. the gradient as plain code on names ------------------------------------------------


def _static_index(node):
    """The value of a constant index (`0`, `-1`, `1:3`, `::2`, `(0, None)`, `...`), as a tuple."""
    if isinstance(node, ast.Tuple):
        return tuple(_static_index_part(e) for e in node.elts)
    return (_static_index_part(node),)


def _static_index_part(n):
    if isinstance(n, ast.Slice):
        parts = [None if p is None else _static_index_part(p) for p in (n.lower, n.upper, n.step)]
        if any(p is not None and type(p) is not int for p in parts):
            raise Unsupported("a slice that is not made of constant integers")
        return slice(*parts)
    try:
        v = ast.literal_eval(n)
    except ValueError:
        raise Unsupported("an index that is not a constant") from None
    if v is not None and v is not Ellipsis and type(v) is not int:
        raise Unsupported("an index that is not an integer, a slice, None or ...")
    return v


class Struct:
    """What a parameter holds when the code is built for the structure of its argument (`plain`):
    an object's fields (`items` a dict) or a list's or tuple's items (a list), each a `Struct`, a
    leaf (the `ast.Name` of the compiled code's parameter that carries that array or float) or
    None (a value the code may not read). The code reads through it when built: `model.layers[0].W`
    is a name, `for layer in model.layers` is unrolled, `layer(x)` is `type(layer).__call__`
    written inline."""

    __slots__ = ("cls", "items")

    def __init__(self, cls, items):
        self.cls, self.items = cls, items


def structure(sig, base, fresh, leaves, active, tracked_only=False):
    """The `Struct` (or leaf) of a signature `plain.signature` gives; each leaf's parameter name
    from `fresh(base)`, appended to `leaves` in the order `plain` flattens the argument, and to
    `active` if it carries a cotangent: every leaf, or (`tracked_only`) the arrays of `Params`
    ("p")."""
    if sig == "a" or sig == "f" or sig == "p":
        leaf = N(fresh(base))
        leaves.append(leaf.id)
        if sig == "p" or not tracked_only:
            active.append(leaf.id)
        return leaf
    if sig == "o":
        return None
    cls, names, kids = sig
    if names is None:  # a list or a tuple
        return Struct(cls, [structure(k, f"{base}_{i}", fresh, leaves, active, tracked_only) for i, k in enumerate(kids)])
    return Struct(cls, {n: structure(k, f"{base}_{n.strip('_')}", fresh, leaves, active, tracked_only)
                        for n, k in zip(names, kids)})


class _Frame:
    """The function whose statements are being read: the caller, or a callee written inline."""

    __slots__ = ("fn", "static_value", "subst", "star", "top", "const_tuples", "looped")

    def __init__(self, fn, static_value, subst, body, top):
        self.fn, self.static_value, self.subst, self.top = fn, static_value, subst, top
        self.looped = set()  # names assigned in an unrolled loop: renamed at each assignment (`subst`)
        self.const_tuples = {}  # name -> the value of a tuple of constants (an index, an axis)
        self.star = {}  # the tuple and dict literals of calls f(*args, **kwargs), read there
        for s in _walk_statements(body):
            if isinstance(s, ast.Assign) and isinstance(s.value, (ast.Tuple, ast.Dict)):
                self.star[s.targets[0].id] = s.value
        if not self.star:
            return
        # a literal read anywhere else is a value of its own: not one of those
        starred = [getattr(n.value, "id", None) for s in _walk_statements(body) for n in walk(s)
                   if isinstance(n, ast.Starred) or (isinstance(n, ast.keyword) and n.arg is None)]
        loads = [n.id for s in _walk_statements(body) for n in name_nodes(s)
                 if isinstance(n.ctx, ast.Load) and n.id in self.star]
        for name in list(self.star):
            if loads.count(name) != starred.count(name):
                del self.star[name]


def _walk_statements(body):
    for s in body:
        yield s
        if isinstance(s, ast.If):
            yield from _walk_statements(s.body)
            yield from _walk_statements(s.orelse)


_MAX_INLINE = 8


class _Adjoint:
    """Writes `def grad(x, *consts): ... return (y, x_bar)` from the SSA body of a function, with
    the functions it calls written inline (no recursion); with `nactive` > 1, the first `nactive`
    parameters carry cotangents: `return (y, bar_1, ..., bar_nactive)` (`plain`)."""

    def __init__(self, fn, versioned, params, free, static_value, nactive=1, sigs=None, implicit=None):
        self.fn = fn
        self.nactive = nactive  # the first `nactive` parameters carry cotangents
        self.params = params
        self.looping = 0  # the depth of unrolled loops being read
        self.branching = 0  # the depth of `if` blocks being read
        self.sigs = sigs
        self.free = free
        self.locals = set(params) | set(free)
        self.consts = {}  # namespace names -> values (static indices, callables)
        self.globals_read = []  # names read from the module, checked when the code runs
        self.roots = set()  # every module name the code reads (globals and callees' modules)
        self.callees = []  # the user's callables with rules, checked when built
        self.fwd = []
        self.items = []  # ("def", target, kind, operands, extra) and ("if", test, body, orelse)
        self.active = set(params[:nactive])
        self.user_names = _reads_of(versioned) | set(params) | set(free)
        self.namer = namer_of(versioned)
        self.body = versioned.body
        self.frame = _Frame(fn, static_value, {}, self.body, True)
        self.stack = [fn.__code__]
        # the compiled code's first parameters (`leaves`), and those that carry cotangents
        # (`inputs`): the active parameters, each argument built for its structure (`sigs`,
        # `plain`) replaced by its leaves; then, with `implicit`, the arrays and structures read
        # from the module's globals, as they are met (`implicit_of`)
        self.leaves, self.inputs = [], []
        for i, p in enumerate(params[:nactive]):
            sig = sigs[i] if sigs else None
            if sig is None or sig in ("a", "f"):
                self.leaves.append(p)
                self.inputs.append(p)
                continue
            self.active.discard(p)
            self.frame.subst[p] = structure(sig, p, self.fresh, self.leaves, self.inputs)
        self.active.update(self.inputs)
        self.locals.update(self.leaves)
        self.sig_of = implicit  # value -> its signature with `Params`' arrays as "p", or None
        self.implicit = {}  # global name -> its Struct or leaf
        self.implicit_names, self.implicit_sigs = [], []

    @staticmethod
    def callee_body(f):
        """`_ssa_body(f)` of a function written inline: a copy of the tree forward mode's cache
        holds (`_ssa_of`: read once, for a layer's method met once per layer and in later
        gradients)."""
        versioned, static_value, src = _ssa_of(f)
        copy = copy_tree(versioned)
        copy.dpnb_taken = versioned.dpnb_taken
        return copy, static_value, src

    def implicit_of(self, name):
        """`gradient(f, Params(...))`: the Struct or leaf of the global `name` holding a float
        array or a structure, made the first time it is read (None for any other value)."""
        got = self.implicit.get(name)
        if got is not None:
            return got
        g = self.fn.__globals__
        if name not in g:
            return None
        sig = self.sig_of(g[name])
        if sig is False:
            return None  # a number, a function, a module, ...: read as before
        if sig is None:
            raise Unsupported(f"the global {name}: an array or structure that cannot be read through")
        n = len(self.leaves)
        got = self.implicit[name] = structure(sig, name, self.fresh, self.leaves, self.inputs, tracked_only=True)
        self.active.update(self.inputs)
        self.locals.update(self.leaves[n:])
        self.implicit_names.append(name)
        self.implicit_sigs.append(sig)
        return got

    def fresh(self, base):
        return self.namer.fresh(base + "_")

    def const(self, value, base="_k"):
        name = self.fresh(base)
        self.consts[name] = value
        return N(name)

    def static_value(self, node):
        return self.frame.static_value(node)

    def atom(self, node, structs=False):
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float) and node.value is not None:
                raise Unsupported("a constant that is not a number")
            return node
        if isinstance(node, ast.Name):
            got = self.held(node.id)
            if got is not None:
                if type(got) is Struct:
                    if not structs:
                        raise Unsupported("an object, list or tuple used as a value")
                    return got
                return copy_tree(got)
            if self.frame.top and node.id in self.locals:
                return N(node.id)
            ok, value = self.static_value(node)
            if ok and not isinstance(value, (int, float, np.ndarray)):
                raise Unsupported(f"the name {node.id} as a value")
            if node.id not in self.globals_read:
                self.globals_read.append(node.id)
            self.roots.add(node.id)
            return N(node.id)
        raise Unsupported("an operand that is not a name or a constant")

    def held(self, name):
        """What a name of the current frame stands for, if not itself: a node or `Struct` of the
        frame's `subst` (a callee's parameter, a name an unrolled loop renamed, an argument built
        for its structure) or, with `Params`, of a global (`implicit_of`); None."""
        f = self.frame
        got = f.subst.get(name)
        if got is None and self.sig_of is not None and not (f.top and name in self.locals):
            got = self.implicit_of(name)
        return got

    def struct_of(self, node):
        """The `Struct` a name of the current frame holds, or None."""
        if isinstance(node, ast.Name):
            got = self.held(node.id)
            if type(got) is Struct:
                return got
        return None

    def target(self, name):
        """The name a statement of the current frame assigns, in the generated code."""
        f = self.frame
        if self.looping:
            # each pass of an unrolled loop assigns a name of its own
            node = f.subst[name] = N(self.fresh(name.lstrip("_") + "_u"))
            f.looped.add(name)
            self.locals.add(node.id)
            return node.id
        if name in f.looped:
            raise Unsupported("a name assigned in a loop and again after it")
        if f.top:
            self.locals.add(name)
            return name
        node = f.subst.get(name)
        if node is None:
            node = f.subst[name] = N(self.fresh(name.lstrip("_") + "_in"))
        self.locals.add(node.id)
        return node.id

    def read_root(self, node):
        """The module name at the root of a static path (`np` of `np.sin`): read when the code runs."""
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name):
            if not self.frame.top and node.id in self.frame.subst:
                raise Unsupported("a callee's static path through a parameter")
            self.roots.add(node.id)

    def is_active(self, node):
        return isinstance(node, ast.Name) and node.id in self.active

    def prim(self, name):
        return N("_p_" + name)

    def run(self):
        body = self.body
        if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
            raise Unsupported("no return at the end")
        self.block(body[:-1])
        ret = self.atom(body[-1].value)
        return self.backward(ret)

    def block(self, stmts):
        for s in stmts:
            if isinstance(s, ast.If):
                self.branch(s)
                continue
            if isinstance(s, ast.For):
                self.unroll(s)
                continue
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Tuple):
                self.unpack(s)
                continue
            if not isinstance(s, ast.Assign) or len(s.targets) != 1 or not isinstance(s.targets[0], ast.Name):
                raise Unsupported(f"a statement of kind {type(s).__name__}")
            self.statement(s)

    def unpack(self, s):
        """`a, b = t` for a tuple or list the code is built for (an argument's, or one it made)."""
        names = s.targets[0].elts
        seq = self.struct_of(s.value)
        if seq is None or type(seq.items) is not list or len(seq.items) != len(names) or not all(
            isinstance(n, ast.Name) for n in names
        ):
            raise Unsupported("unpacking other than a tuple or list of the arguments' into names")
        for n, item in zip(names, seq.items):
            self.bind(s, n.id, item)

    def unroll(self, s):
        """`for v in seq:` over a list or tuple whose length the code is built for: the body once
        per item, each pass with names of its own."""
        seq = self.struct_of(s.iter)
        if seq is None or type(seq.items) is not list:
            raise Unsupported("a loop over something other than a list or tuple of the arguments")
        if s.orelse or not isinstance(s.target, ast.Name) or any(
            isinstance(n, (ast.Break, ast.Continue, ast.Return, ast.If, ast.For, ast.While)) for b in s.body for n in walk(b)
        ):
            raise Unsupported("a loop with else, break, continue, a branch or a loop inside")
        for item in seq.items:
            self.looping += 1
            try:
                self.bind(s, s.target.id, item)
                self.block(s.body)
            finally:
                self.looping -= 1

    def bind(self, s, t, item):
        """`t = item` for an item of a `Struct`: a structure is bound as it is; a leaf is copied."""
        if type(item) is Struct:
            if not self.looping and t in self.frame.looped:
                raise Unsupported("a name assigned in a loop and again after it")
            self.frame.subst[t] = item
            return
        if item is None:
            raise Unsupported("a field or item that is not a float array, a float, an object, a list or a tuple")
        self.add_def(s, t, "copy", [item], value=copy_tree(item))

    def branch(self, s):
        test = self.atom(s.test)
        if not isinstance(test, ast.Name):
            raise Unsupported("a constant condition")
        outer_fwd, outer_items = self.fwd, self.items
        parts = []
        for stmts in (s.body, s.orelse):
            self.fwd, self.items = [], []
            self.branching += 1
            try:
                self.block(stmts)
            finally:
                self.branching -= 1
            parts.append((self.fwd or [ast.Pass()], self.items))
        self.fwd, self.items = outer_fwd, outer_items
        self.fwd.append(copy_location(if_(test, parts[0][0], parts[1][0]), s))
        self.items.append(("if", test, parts[0][1], parts[1][1]))

    def add_def(self, s, target, kind, operands, extra=None, value=None, guard=None):
        if kind == "copy" and type(operands[0]) is ast.Name and not self.branching and guard is None:
            # `t = a` outside a branch: `t` reads as `a` from here on, with no statement (in SSA
            # form `t` is assigned once, and nothing here changes a value; inside a branch the
            # name must be assigned, as the branches join)
            f = self.frame
            if self.looping:
                f.looped.add(target)
            elif target in f.looped:
                raise Unsupported("a name assigned in a loop and again after it")
            f.subst[target] = operands[0]
            return
        if guard is not None:
            self.fwd.append(copy_location(ast.Expr(guard), s))
        target = self.target(target)
        self.fwd.append(copy_location(assign(target, value), s))
        active = kind is not None and any(self.is_active(o) for o in operands)
        if active:
            self.active.add(target)
            self.items.append(("def", target, kind, operands, extra))

    def statement(self, s):
        t = s.targets[0].id
        v = s.value
        if t in self.frame.star:
            return  # the arguments and keywords of a call f(*args, **kwargs), read there
        if isinstance(v, (ast.Name, ast.Constant)):
            a = self.atom(v, structs=True)
            if type(a) is Struct:
                return self.bind(s, t, a)
            return self.add_def(s, t, "copy", [a], value=copy_tree(a))
        if isinstance(v, ast.Compare):
            if len(v.ops) != 1 or type(v.ops[0]) not in (ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq):
                raise Unsupported("a comparison other than < <= > >= == !=")
            a, b = self.atom(v.left), self.atom(v.comparators[0])
            return self.add_def(s, t, None, [], value=ast.Compare(copy_tree(a), v.ops, [copy_tree(b)]))
        if isinstance(v, ast.BinOp):
            inplace = getattr(v, "dpnb_inplace", None)
            if inplace not in (None, "name") or type(v.op) not in BINOPS:
                raise Unsupported("an operator outside + - * / ** @, or one in place on an attribute or item")
            a, b = self.atom(v.left), self.atom(v.right)
            guard = call(N("_p_mm"), a, b) if isinstance(v.op, ast.MatMult) else None
            if inplace:  # `a += b` makes a new value only for a number: an array changes in place
                self.fwd.append(copy_location(ast.Expr(call(N("_p_number"), copy_tree(a))), s))
            return self.add_def(s, t, type(v.op), [a, b], value=ast.BinOp(copy_tree(a), v.op, copy_tree(b)), guard=guard)
        if isinstance(v, ast.UnaryOp):
            if isinstance(v.op, ast.Not):
                a = self.atom(v.operand)
                return self.add_def(s, t, None, [], value=ast.UnaryOp(ast.Not(), copy_tree(a)))
            if type(v.op) not in UNARY:
                raise Unsupported("a unary operator outside - + not")
            a = self.atom(v.operand)
            return self.add_def(s, t, type(v.op), [a], value=ast.UnaryOp(v.op, copy_tree(a)))
        if isinstance(v, ast.Tuple):
            try:
                value = _static_index(v)
            except Unsupported:
                if self.sigs is None:
                    raise Unsupported("a tuple that is not made of constants") from None
                # a tuple of values, read through as an argument's would be (`a, b = t`, `t[0]`)
                return self.bind(s, t, Struct(tuple, [self.atom(e, structs=True) for e in v.elts]))
            self.frame.const_tuples[t] = value  # normalize hoists a constant index or axis into a name
            return self.add_def(s, t, None, [], value=self.const(value, "_idx"))
        if isinstance(v, ast.Subscript):
            st = self.struct_of(v.value)
            if st is not None:
                if type(st.items) is not list:
                    raise Unsupported("an item of an object")
                i = _static_index(v.slice)
                if len(i) != 1 or type(i[0]) is not int or not -len(st.items) <= i[0] < len(st.items):
                    raise Unsupported("an item of a list or tuple other than by a constant integer in range")
                return self.bind(s, t, st.items[i[0]])
            a = self.atom(v.value)
            if isinstance(v.slice, ast.Name) and v.slice.id in self.frame.const_tuples:
                idx = self.const(self.frame.const_tuples[v.slice.id], "_idx")
            else:
                idx = self.const(_static_index(v.slice), "_idx")
            return self.add_def(s, t, "getitem", [a], idx, value=call(self.prim("getitem"), copy_tree(a), idx))
        if isinstance(v, ast.Attribute):
            st = self.struct_of(v.value)
            if st is not None:
                if type(st.items) is not dict or v.attr not in st.items:
                    raise Unsupported(f"the attribute .{v.attr} of an object, other than a field of its own")
                for k in st.cls.__mro__:
                    d = k.__dict__.get(v.attr)
                    if d is not None and (hasattr(type(d), "__set__") or hasattr(type(d), "__delete__")):
                        raise Unsupported(f"the attribute .{v.attr}, a property or descriptor of the class")
                return self.bind(s, t, st.items[v.attr])
            ok, value = self.static_value(v)
            if ok:
                if type(value) not in (int, float):
                    raise Unsupported("a module attribute that is not a number")
                # read when the code runs (the user may change it), and checked to be a number
                self.read_root(v)
                self.add_def(s, t, None, [], value=copy_tree(v))
                self.fwd.append(copy_location(ast.Expr(call(N("_p_check"), N(self.target(t)))), s))
                return
            if v.attr != "T":
                raise Unsupported(f"the attribute .{v.attr}")
            a = self.atom(v.value)
            return self.add_def(s, t, "T", [a], value=call(self.prim("T"), copy_tree(a)), guard=call(N("_p_array"), copy_tree(a)))
        if isinstance(v, ast.Call):
            return self.call(s, t, v)
        raise Unsupported(f"an expression of kind {type(v).__name__}")

    def raise_unless(self, s, func, expected, root=True):
        """`if <func> is not <expected>: raise _Bail`: the name still means what it meant when built
        (with `root`, the module name at its root is one the code reads)."""
        if root:
            self.read_root(func)
        test = ast.Compare(copy_tree(func), [ast.IsNot()], [self.const(expected, "_f")])
        self.fwd.append(copy_location(if_(test, [ast.Raise(N("_Bail"), None)]), s))

    def inline(self, s, t, v, f, first=None, guard=None):
        """`t = f(a, ...)` for a Python function `f` of the same module: its statements, here.
        A method of an object built for its structure: `first` is the object (`self`), `guard`
        the node to check is `f` when the code runs (the method, looked up on the class)."""
        if len(self.stack) > _MAX_INLINE or f.__code__ in self.stack:
            raise Unsupported("recursion, or calls nested too deep")
        if f.__globals__ is not self.fn.__globals__ or f.__closure__ or registry.lookup(f) is not None:
            raise Unsupported("a callee of another module, a closure, or one with a rule")
        if f.__code__.co_flags & 0x0C or f.__code__.co_kwonlyargcount or f.__kwdefaults__:
            raise Unsupported("a callee with *args, **kwargs or keyword-only parameters")
        versioned, static_value, _ = self.callee_body(f)
        params = [p.arg for p in versioned.args.args]
        args, kwargs = self.arguments(v, structs=True)
        if first is not None:
            args = [first] + args
        if kwargs or len(args) > len(params):
            raise Unsupported("a call with keywords")
        missing = params[len(args):]
        defaults = f.__defaults__ or ()
        if len(missing) > len(defaults):
            raise Unsupported("a call without all its arguments")
        for d in defaults[len(defaults) - len(missing):]:
            if type(d) not in (int, float):
                raise Unsupported("a default that is not a number")
            args.append(C(d))
        self.raise_unless(s, v.func if guard is None else guard, f, root=guard is None)
        # ... and its code and defaults are still those written here (a reload, IPython's
        # `%autoreload`, gives a function a new `__code__` in place)
        fk = self.const(f, "_f")
        changed = ast.BoolOp(ast.Or(), [
            ast.Compare(ast.Attribute(fk, "__code__", LOAD), [ast.IsNot()], [self.const(f.__code__, "_code")]),
            ast.Compare(ast.Attribute(copy_tree(fk), "__defaults__", LOAD), [ast.IsNot()], [self.const(f.__defaults__, "_defaults")]),
        ])
        self.fwd.append(copy_location(if_(changed, [ast.Raise(N("_Bail"), None)]), s))
        body = versioned.body
        if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
            raise Unsupported("no return at the end")
        self.namer.taken |= versioned.dpnb_taken  # the callee's names too
        caller = self.frame
        self.frame = _Frame(f, static_value, dict(zip(params, args)), body, False)
        self.stack.append(f.__code__)
        try:
            self.block(body[:-1])
            ret = self.atom(body[-1].value)
        finally:
            self.frame = caller
            self.stack.pop()
        return self.add_def(s, t, "copy", [ret], value=copy_tree(ret))

    def method(self, s, t, v, obj, attr):
        """`obj.attr(...)` (`obj(...)` for `__call__`) on an object built for its structure: the
        class's function written inline, checked to be the class's when the code runs."""
        import inspect

        if type(obj.items) is not dict or attr in obj.items:
            raise Unsupported(f"a call of .{attr} of a list, a tuple, or a field")
        try:
            f = inspect.getattr_static(obj.cls, attr)
        except AttributeError:
            raise Unsupported(f"{obj.cls.__name__} has no method {attr}") from None
        if type(f) is not types.FunctionType:
            raise Unsupported(f"{obj.cls.__name__}.{attr} is not a plain function")
        guard = ast.Attribute(self.const(obj.cls, "_cls"), attr, LOAD)
        return self.inline(s, t, v, f, first=obj, guard=guard)

    def call(self, s, t, v):
        func = v.func
        obj = self.struct_of(func)
        if obj is not None:
            return self.method(s, t, v, obj, "__call__")
        if isinstance(func, ast.Attribute):
            obj = self.struct_of(func.value)
            if obj is not None:
                return self.method(s, t, v, obj, func.attr)
        ok, f = self.static_value(func)
        if not ok and isinstance(func, ast.Name) and not (self.frame.top and func.id in self.locals) and not (
            not self.frame.top and func.id in self.frame.subst
        ):
            # a function of the module, looked up now and checked again when the code runs
            f = self.frame.fn.__globals__.get(func.id)
            ok = type(f) is types.FunctionType
        if ok:
            try:
                name = _FUNCS.get(f)
            except TypeError:
                name = None
            if name is None:
                if type(f) is types.FunctionType:
                    return self.inline(s, t, v, f)
                raise Unsupported(f"a call of {getattr(f, '__name__', f)!r}")
            self.callees.append(f)
            self.raise_unless(s, func, f)
            first = guard = None
        elif isinstance(func, ast.Attribute) and func.attr in _METHODS and isinstance(func.value, ast.Name):
            name = _METHODS[func.attr]
            self.callees.append(_METHOD_KEYS[func.attr])
            first = self.atom(func.value)
            guard = call(N("_p_array"), copy_tree(first))
        else:
            raise Unsupported("a call of something other than a NumPy or math function or a Python function")
        args, kwargs = self.arguments(v)
        if first is not None:
            args = [first] + args
        if name == "dot":
            if len(args) != 2 or kwargs:
                raise Unsupported("np.dot with other than two arguments")
            a, b = args
            return self.add_def(s, t, ast.MatMult, [a, b], value=ast.BinOp(copy_tree(a), ast.MatMult(), copy_tree(b)),
                                guard=call(N("_p_mm"), copy_tree(a), copy_tree(b)))
        if name in ("sum", "mean"):
            if not 1 <= len(args) <= 2:
                raise Unsupported(f"{name} with {len(args)} arguments")
            axis = kwargs.pop("axis", args[1] if len(args) == 2 else C(None))
            keepdims = kwargs.pop("keepdims", C(False))
            if kwargs or not isinstance(axis, ast.Constant) or not isinstance(keepdims, ast.Constant):
                raise Unsupported(f"{name} with arguments other than constant axis and keepdims")
            ax = axis.value
            if not (ax is None or type(ax) is int or (type(ax) is tuple and all(type(i) is int for i in ax))):
                raise Unsupported("an axis that is not an integer")
            if type(keepdims.value) is not bool:
                raise Unsupported("keepdims that is not True or False")
            a = args[0]
            value = call(self.prim(name), copy_tree(a), C(ax), C(keepdims.value))
            return self.add_def(s, t, name, [a], (ax, keepdims.value), value=value, guard=guard)
        if len(args) != 1 or kwargs:
            raise Unsupported(f"{name} with other than one argument")
        a = args[0]
        return self.add_def(s, t, name, [a], value=call(self.prim(name), copy_tree(a)), guard=guard)

    def arguments(self, v, structs=False):
        if not v.keywords and not any(isinstance(a, ast.Starred) for a in v.args):
            return [self.atom(a, structs) for a in v.args], {}
        args = []
        kwargs = {}
        star = self.frame.star
        for a in v.args:
            if isinstance(a, ast.Starred):
                lit = star.get(getattr(a.value, "id", None))
                if not isinstance(lit, ast.Tuple):
                    raise Unsupported("a call with *args")
                args.extend(self.atom(e) for e in lit.elts)
            else:
                args.append(self.atom(a, structs))
        for k in v.keywords:
            if k.arg is not None:
                kwargs[k.arg] = self.atom(k.value, structs)
                continue
            lit = star.get(getattr(k.value, "id", None))
            if not isinstance(lit, ast.Dict):
                raise Unsupported("a call with **kwargs")
            for key, val in zip(lit.keys, lit.values):
                if isinstance(val, ast.Name) and val.id in self.frame.const_tuples:
                    val = C(self.frame.const_tuples[val.id])  # a tuple axis
                if not isinstance(key, ast.Constant) or not isinstance(val, ast.Constant):
                    raise Unsupported("keywords that are not constants")
                kwargs[key.value] = val
        return args, kwargs

    # --- the backward pass -----------------------------------------------------------------
    def backward(self, ret):
        out = []
        self.bars = {}
        if self.is_active(ret):
            seed = self.bars[ret.id] = self.fresh("_seed")
            out.append(assign(seed, C(1.0)))
        self.pull_items(self.items, out)
        # (y, then the cotangent of each active parameter, None for one that got none)
        bars = [self.bars.get(p) for p in self.inputs]
        ret_node = tup([copy_tree(ret)] + [N(b) if b is not None else C(None) for b in bars])
        return self.fwd, out, ret_node

    def pull_items(self, items, out):
        for item in reversed(items):
            if item[0] == "def":
                _, target, kind, operands, extra = item
                g = self.bars.get(target)
                if g is not None:
                    self.pull(out, target, kind, operands, extra, N(g))
                continue
            _, test, body, orelse = item
            inside = _targets(body) | _targets(orelse)
            before = dict(self.bars)
            branches = []
            for part in (body, orelse):
                self.bars = dict(before)
                code = []
                self.pull_items(part, code)
                branches.append((code, self.bars))
            merged = dict(before)
            for v in sorted(set(branches[0][1]) | set(branches[1][1])):
                if v in inside:
                    continue  # made inside the branches: its cotangent is used up there
                names = [bars.get(v) for _, bars in branches]
                if names[0] == names[1]:
                    merged[v] = names[0]
                    continue
                m = self.fresh(v + "_bar")
                for (code, _), name in zip(branches, names):
                    code.append(assign(m, N(name) if name is not None else call(self.prim("zeros"), N(v))))
                merged[v] = m
            self.bars = merged
            out.append(if_(copy_tree(test), branches[0][0] or [ast.Pass()], branches[1][0] or [ast.Pass()]))

    def emit(self, out, value, base="_c"):
        name = self.fresh(base)
        out.append(assign(name, value))
        return N(name)

    def send(self, out, operand, contribution):
        """Add `contribution` to the cotangent of the name `operand`."""
        if not self.is_active(operand):
            return
        b = self.bars.get(operand.id)
        if b is None:
            if type(contribution) is ast.Name:  # the first contribution is the cotangent itself
                self.bars[operand.id] = contribution.id
                return
            name = self.fresh(operand.id + "_bar")
            out.append(assign(name, contribution))
        else:
            name = self.fresh(operand.id + "_bar")
            out.append(assign(name, ast.BinOp(N(b), ast.Add(), contribution)))
        self.bars[operand.id] = name

    def pull(self, out, t, kind, ops, extra, g):
        e = lambda v, base="_c": self.emit(out, v, base)  # noqa: E731
        P = self.prim
        act = [self.is_active(o) for o in ops]
        if kind == "copy":
            return self.send(out, ops[0], g)
        if kind is ast.USub:
            return self.send(out, ops[0], e(ast.UnaryOp(ast.USub(), g)))
        if kind is ast.UAdd:
            return self.send(out, ops[0], g)
        if kind in (ast.Add, ast.Sub):
            a, b = ops
            if act[0]:
                self.send(out, a, e(call(P("unb"), g, a)))
            if act[1]:
                gb = g if kind is ast.Add else e(ast.UnaryOp(ast.USub(), g))
                self.send(out, b, e(call(P("unb"), gb, b)))
            return
        if kind is ast.Mult:
            a, b = ops
            if act[0]:
                self.send(out, a, e(call(P("unb"), e(ast.BinOp(g, ast.Mult(), b)), a)))
            if act[1]:
                self.send(out, b, e(call(P("unb"), e(ast.BinOp(g, ast.Mult(), a)), b)))
            return
        if kind is ast.Div:
            # a's cotangent g / b, and b's -(g / b) * t: g / b made once for both
            a, b = ops
            q = e(ast.BinOp(g, ast.Div(), b))
            if act[0]:
                self.send(out, a, e(call(P("unb"), q, a)))
            if act[1]:
                qt = e(ast.BinOp(q, ast.Mult(), N(t)))
                self.send(out, b, e(call(P("unb"), e(ast.UnaryOp(ast.USub(), qt)), b)))
            return
        if kind is ast.Pow:
            a, b = ops
            if act[0]:
                d = e(call(P("powd"), a, b))
                self.send(out, a, e(call(P("unb"), e(ast.BinOp(g, ast.Mult(), d)), a)))
            if act[1]:
                q = e(ast.BinOp(e(call(P("log"), a)), ast.Mult(), N(t)))
                self.send(out, b, e(call(P("unb"), e(ast.BinOp(g, ast.Mult(), q)), b)))
            return
        if kind is ast.MatMult:
            return self.pull_matmul(out, ops, act, g)
        if kind == "getitem":
            return self.send(out, ops[0], e(call(P("getitem_bar"), g, ops[0], extra)))
        if kind == "T":
            return self.send(out, ops[0], e(call(P("T"), g)))
        if kind in ("sum", "mean"):
            axis, keepdims = extra
            s = e(call(P("sum_bar"), g, ops[0], C(axis), C(keepdims)))
            if kind == "mean":
                s = e(ast.BinOp(s, ast.Div(), e(call(P("count"), ops[0], N(t)))))
            return self.send(out, ops[0], s)
        a = ops[0]
        mul = lambda u, v: e(ast.BinOp(u, ast.Mult(), v))  # noqa: E731
        if kind in ("sin", "msin"):
            return self.send(out, a, mul(g, e(call(P("cos"), a))))
        if kind in ("cos", "mcos"):
            return self.send(out, a, e(ast.UnaryOp(ast.USub(), mul(g, e(call(P("sin"), a))))))
        if kind in ("exp", "mexp"):
            return self.send(out, a, mul(g, N(t)))
        if kind in ("log", "mlog"):
            return self.send(out, a, e(ast.BinOp(g, ast.Div(), a)))
        if kind in ("tanh", "mtanh"):
            u = e(ast.BinOp(C(1.0), ast.Sub(), mul(N(t), N(t))))
            return self.send(out, a, mul(g, u))
        if kind in ("sqrt", "msqrt"):
            return self.send(out, a, e(ast.BinOp(g, ast.Div(), mul(C(2.0), N(t)))))
        if kind == "square":
            return self.send(out, a, mul(g, mul(C(2.0), a)))
        if kind == "abs":
            return self.send(out, a, mul(g, e(call(P("sign"), a))))
        raise Unsupported(f"no cotangent for {kind}")  # pragma: no cover - every kind above has one

    def pull_matmul(self, out, ops, act, g):
        """t = a @ b for 1-d and 2-d a and b: the four cases are told apart when it runs, inside
        `_p_mm_a` and `_p_mm_b` (one call each, where four branches written out made the code four
        times as long to tidy and compile)."""
        a, b = ops
        P = self.prim
        e = lambda v: self.emit(out, v)  # noqa: E731
        if act[0]:
            self.send(out, a, e(call(P("mm_a"), copy_tree(g), copy_tree(a), copy_tree(b))))
        if act[1]:
            self.send(out, b, e(call(P("mm_b"), copy_tree(g), copy_tree(a), copy_tree(b))))


def _targets(items):
    out = set()
    for item in items:
        if item[0] == "def":
            out.add(item[1])
        else:
            out |= _targets(item[2]) | _targets(item[3])
    return out


# --- 2. forward mode on that code, the k directions at once ---------------------------------


def tangent(stmts, active, dot, seed):
    """Forward mode on the statements of the gradient code: each active name `v` gets the
    tangent `dot(v)`. `active`: the names with tangents on entry (updated in place); `seed`: the
    tangent of the input (for the number of directions)."""
    out = []
    for s in stmts:
        if isinstance(s, ast.If):
            before = set(active)
            body = tangent(s.body, active, dot, seed)
            orelse = tangent(s.orelse, active, dot, seed)
            # a name both branches assign, with a tangent after one of them: zero after the other
            for n in sorted(set(active) - before):
                if _assigns(s.body, n) and _assigns(s.orelse, n):
                    for block in (body, orelse):
                        if not _assigns(block, dot(n)):
                            block.append(assign(dot(n), call(N("_p_tzeros"), N(n), N(seed))))
            out.append(copy_location(if_(s.test, body, orelse), s))
            continue
        out.append(s)
        if not isinstance(s, ast.Assign):
            continue
        t = s.targets[0].id
        v = s.value
        if isinstance(v, ast.Name):
            if v.id in active:
                active.add(t)
                out.append(assign(dot(t), N(dot(v.id))))
            continue
        if isinstance(v, (ast.Constant, ast.Compare)) or (isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)):
            continue
        if isinstance(v, ast.BinOp):
            operands, rule = [v.left, v.right], "_j_" + BINOPS[type(v.op)].__name__[3:]
            slots = (0, 1)
        elif isinstance(v, ast.UnaryOp):
            operands, rule = [v.operand], "_j_" + UNARY[type(v.op)].__name__[3:]
            slots = (0,)
        elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id.startswith("_p_"):
            name = v.func.id[3:]
            _, jvp, slots = PRIMS[name]
            operands, rule = list(v.args), (None if jvp is None else "_J_" + name)
        else:
            raise Unsupported(f"forward mode of {ast.unparse(v)}")
        dots = [N(dot(operands[i].id)) if isinstance(operands[i], ast.Name) and operands[i].id in active else None for i in slots]
        if rule is None or all(d is None for d in dots):
            continue
        active.add(t)
        args = [N(t)] + [copy_tree(o) for o in operands] + [d if d is not None else C(None) for d in dots]
        out.append(copy_location(assign(dot(t), call(N(rule), *args)), s))
    return out


def _assigns(stmts, name):
    return any(n.id == name and isinstance(n.ctx, ast.Store) for s in stmts for n in name_nodes(s))



def _namespace():
    ns = {"_Bail": Bail, "_p_mm": _p_mm, "_p_array": _p_array, "_p_check": _p_check, "_p_number": _p_number,
          "_p_tzeros": _p_tzeros}
    for name, (f, jvp, _) in PRIMS.items():
        ns["_p_" + name] = f
        if jvp is not None:
            ns["_J_" + name] = jvp
    for rule in list(BINOPS.values()) + list(UNARY.values()):
        ns[rule.__name__] = rule
    return ns


# --- building and running ------------------------------------------------------------------


class _Built:
    __slots__ = ("fn", "tree")

    def __init__(self, fn, tree):
        self.fn, self.tree = fn, tree  # the compiled function, and its tree (for `source`)


_UNSUPPORTED = object()
#: code -> {None: (rule generation, globals, _Built or _UNSUPPORTED)} (`built`)
_CACHE = _ByCode()


def _builtin_rule(f):
    """Whether the code may call its own primitive for `f` (a key of `_FUNCS` or `_METHOD_KEYS`):
    unless the user registered a rule for `f` or marked it constant. Read from the tables as they
    are, without loading `f`'s domain (NumPy's modules of rules, 1.4 ms of the MLP's first
    gradient, which calls none of them): a user's rule is in the tables from the moment it is
    registered, and one registered later builds the code again (`registry._new_entry`); with no
    entry, `f`'s rule is dpnb's own, which every such `f` has (tested)."""
    r = registry.entry(f)
    if r is None:
        return True
    if r is registry.CONSTANT:
        return False
    mod = getattr(r, "__module__", "") or ""
    return mod.startswith(("dpnb.rules.numpy", "dpnb.rules.scalar", "dpnb.rules.python"))


def read(fn, nactive, spread=False, sigs=None, implicit=None):
    """`fn`'s gradient as plain code (`_Adjoint`), with its first `nactive` parameters active:
    (adjoint, params, free, fwd, bwd, ret, namespace, checks), or `Unsupported`. `checks` test
    what the code reads from outside (the other parameters, closure cells, globals) when it runs.
    With `spread`, a `*args` function is read as one of `nactive` plain parameters."""
    if registry.lookup(fn) is not None:
        raise Unsupported("the function has a rule of its own")
    versioned, static_value, src = _ssa_body(fn, nactive if spread else None, no_params=implicit is not None)
    params = [p.arg for p in versioned.args.args]
    if nactive > len(params) or len(params) - nactive > len(fn.__defaults__ or ()):
        raise Unsupported("parameters after the active ones without defaults")
    free = list(fn.__code__.co_freevars)
    adj = _Adjoint(fn, versioned, params, free, static_value, nactive, sigs, implicit)
    fwd, bwd, ret = adj.run()
    for f in adj.callees:
        if not _builtin_rule(f):
            raise Unsupported(f"{getattr(f, '__name__', f)} has a rule of the user's")
    ns = _namespace()
    ns.update(adj.consts)
    if adj.user_names & set(ns):
        raise Unsupported("a name of the function is one this module uses")
    checks = [ast.Expr(call(N("_p_check"), N(n))) for n in params[nactive:] + free + adj.globals_read]
    return adj, params, free, fwd, bwd, ret, ns, checks, src


def compile_function(fn, adj, name, argnames, body, ns, src, flags=(), stored=None, loaded=None):
    """The function `def <name>(<argnames>, *, <flags>=False): <body>`, compiled with `fn`'s file
    name and lines, in `fn`'s globals with the names of `ns` bound in a closure. `stored`: the
    names `body` assigns, where the caller has them; `loaded`, the names it reads (or more), where
    the caller has them: only those of `ns` are bound (a hundred-odd names, a few tens read)."""
    fdef = src.node
    used = ns if loaded is None else {k: v for k, v in ns.items() if k in loaded}
    args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in argnames],
                         vararg=None, kwonlyargs=[ast.arg(f) for f in flags], kw_defaults=[C(False) for _ in flags],
                         kwarg=None, defaults=[])
    inner = ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None, type_comment=None)
    factory_args = ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in used], vararg=None, kwonlyargs=[],
                                 kw_defaults=[], kwarg=None, defaults=[])
    factory = ast.FunctionDef(name="_factory", args=factory_args, body=[inner, ast.Return(N(name))],
                              decorator_list=[], returns=None, type_comment=None)
    copy_location(inner, fdef)
    copy_location(factory, fdef)
    module = ast.Module(body=[factory], type_ignores=[])
    fix_missing_locations(module)
    compiled = compile(module, src.filename, "exec")
    fcode = next(c for c in compiled.co_consts if isinstance(c, types.CodeType))
    if stored is None:
        stored = {n.id for n in name_nodes(inner) if isinstance(n.ctx, ast.Store)}
    if adj.roots & (stored | set(ns) | set(argnames) | set(flags) | {name}):
        raise Unsupported("a module name the code reads is also a name of the generated code")
    return _Built(types.FunctionType(fcode, fn.__globals__)(*used.values()), inner)


@gc_paused
def build(fn):
    """The compiled `hvp(x, x_d, *consts) -> (y, x_bar_d)` of `fn`, or `Unsupported`."""
    adj, params, free, fwd, bwd, ret, ns, checks, src = read(fn, 1)
    x = params[0]
    active = {x}
    dots = {}

    def dot(name):
        d = dots.get(name)
        if d is None:
            d = dots[name] = adj.fresh(name + "_d")
        return d

    body = checks + tangent(fwd + bwd, active, dot, dot(x))
    x_bar = ret.elts[1]
    result = N(dot(x_bar.id)) if isinstance(x_bar, ast.Name) and x_bar.id in active else C(None)
    body.append(ast.Return(tup([copy_tree(ret.elts[0]), result])))
    hname = "_" + (fn.__name__ if fn.__name__.isidentifier() else "lambda") + "_hvp"
    return compile_function(fn, adj, hname, [x, dot(x)] + params[1:] + free, body, ns, src)


def built(cache, fn, key, make):
    """`make(fn)` kept in `cache` by `fn`'s code and `key`; `_UNSUPPORTED` where it raises
    `Unsupported`. Built again when a rule changes, or for a function of the same code in other
    globals."""
    per = cache.get(fn.__code__)
    if per is None:
        per = cache[fn.__code__] = {}
    got = per.get(key)
    if got is None or got[0] != registry.generation[0] or got[1] is not fn.__globals__:
        try:
            b = make(fn)
        except Unsupported:
            b = _UNSUPPORTED
        # (the generation after building: the first look-up of a library's function registers
        # that library's rules, which moves it, and the code was built with them)
        got = per[key] = (registry.generation[0], fn.__globals__, b)
    return got[2]


def constants(fn, nactive):
    """What the compiled code takes after `fn`'s first `nactive` parameters: the defaults of the
    others, then the contents of `fn`'s closure cells (read at each call)."""
    rest = fn.__code__.co_argcount - nactive
    consts = fn.__defaults__[len(fn.__defaults__) - rest:] if rest > 0 else ()
    if fn.__closure__:
        consts = (*consts, *[c.cell_contents for c in fn.__closure__])
    return consts


def _built(fn):
    return built(_CACHE, fn, None, build)


def forget():
    _CACHE.clear()


def source(fn):
    """The generated code `hessian` runs for `fn` (forward over reverse), or None outside the subset."""
    b = _built(fn)
    return None if b is _UNSUPPORTED else ast.unparse(b.tree)


def hessian(f, x):
    """The Hessian of `f` at the array `x` in one batched pass, or None where this does not apply."""
    if type(f) is not types.FunctionType or type(x) is not np.ndarray or x.dtype.kind != "f" or x.size == 0:
        return None
    b = _built(f)
    if b is _UNSUPPORTED:
        return None
    n = x.size
    eye = np.eye(n, dtype=x.dtype).reshape((n,) + x.shape)
    try:
        y, h = b.fn(x, eye, *constants(f, 1))
    except Bail:
        _CACHE.pop(f.__code__, None)  # built again next time: a callee may have been redefined
        return None
    except Exception:
        return None  # the general way runs it again, and reports what went wrong where it did
    if not isinstance(y, (float, int, np.floating, np.integer)) or isinstance(y, bool):
        return None
    if h is None:
        return np.zeros(x.shape * 2)
    return np.array(h.reshape(n, n).T.reshape(x.shape * 2), dtype=float)
