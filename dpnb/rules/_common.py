"""Helpers shared by the rule files: cotangents in the kind of their primal.

Every rule hands back a cotangent "of the same kind" as its argument (SPEC §3):
a number for a number (a Python float for Python int/float), an ndarray of the
argument's shape and a floating dtype for an array, a list for a list, a tuple
(or the same named tuple class) for a tuple, `None` for what has no tangent
(`bool`, `str`, `None`, boolean arrays). The functions here do those conversions
in one place so that rules stay one-liners.
"""
import math
import numbers
import operator
from fractions import Fraction

import numpy as np

from ..errors import DifferentiationError, NoRuleError
from ..tangents import accumulate
from .broadcast import unbroadcast
from .namespaces import is_foreign, library, place, reshape, zeros_like

__all__ = [
    "accumulate",
    "bind",
    "call_bars",
    "float_dtype",
    "has_tangent",
    "index_bar",
    "is_complex",
    "matmul_bars",
    "seq_bar",
    "to_like",
    "unbroadcast_to",
    "zero_like",
]


def has_tangent(x):
    """Whether `x` can carry a gradient (numbers and numeric arrays, not bool/str/None)."""
    t = type(x)
    if t is bool or t is np.bool_ or x is None or t is str or t is bytes:
        return False
    if t is np.ndarray:
        k = x.dtype.kind
        return k in "iufc" or (k == "O" and _numbers_only(x))
    if is_foreign(x):
        return x.dtype.kind in "iufc"
    return True


def _numbers_only(x):
    """Whether every entry of the object array `x` is a number (not a bool)."""
    return all(isinstance(e, numbers.Number) and not isinstance(e, (bool, np.bool_)) for e in x.flat)


def is_complex(x):
    return isinstance(x, complex) or np.iscomplexobj(x)


def float_dtype(x):
    """The dtype of the cotangent of the array (or NumPy scalar) `x`."""
    if is_foreign(x):
        return x.dtype if x.dtype.kind in "fc" else np.dtype(np.float64)
    dt = np.asarray(x).dtype
    if dt.kind == "O" and any(isinstance(e, complex) for e in np.asarray(x).flat):
        return np.dtype(np.complex128)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _real_if_needed(g, x):
    if g is not None and not is_complex(x) and is_complex(g):
        return g.real
    return g


def unbroadcast_to(g, x):
    """`g`, summed to the shape of the operand `x`, in the kind of `x`.

    The one place binary NumPy and operator rules reduce a broadcast cotangent:
    on top of `broadcast.unbroadcast` it gives `None` to operands with no tangent,
    a list/tuple to list/tuple operands of a NumPy function, and a real cotangent
    to a real operand of a complex operation.

    >>> unbroadcast_to(np.ones((2, 3)), np.zeros(3))
    array([2., 2., 2.])
    >>> unbroadcast_to(np.ones(2), [1.0, 2.0])
    [1.0, 1.0]
    >>> unbroadcast_to(np.ones(2), True) is None
    True
    >>> unbroadcast_to(1j, 2.0), unbroadcast_to(2.0, 1j)
    (0.0, (2+0j))
    """
    if g is None or not has_tangent(x):
        return None
    if is_foreign(g) or is_foreign(x):
        g = _real_if_needed(unbroadcast(g, x), x)
        return to_like(g, x) if isinstance(x, (list, tuple)) else g
    tx = type(x)
    if (tx is float or tx is int) and type(g) is float:
        return g  # plain numbers: nothing to reduce
    if not isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        return g  # a user object (its cotangent is a Tangent): nothing to reduce
    if tx is list or tx is tuple or (isinstance(x, tuple) and hasattr(x, "_fields")):
        arr = np.asarray(x)
        if arr.dtype.kind not in "iufc":
            return None
        return to_like(unbroadcast(np.asarray(g), arr), x)
    g = unbroadcast(g, x)
    g = _real_if_needed(g, x)
    if tx is np.ndarray and type(g) is not np.ndarray:  # a 0-d array operand
        g = np.asarray(g, dtype=float_dtype(x)).reshape(x.shape)
    if tx is float or tx is int:
        if type(g) is not float and isinstance(g, (np.floating, np.integer)):
            g = float(g)
    elif tx is complex:
        if type(g) is not complex:  # a real cotangent of a complex number is still complex
            g = complex(g)
    elif isinstance(x, np.inexact) and type(g) is not type(x) and isinstance(g, numbers.Number):
        g = np.asarray(g).astype(x.dtype)[()]  # a NumPy scalar keeps its type (float32 stays float32)
    return g


def to_like(g, x):
    """The array-like cotangent `g` (already of shape `np.shape(x)`) in the kind of `x`.

    >>> to_like(np.array([1, 2]), (3, 4))
    (1.0, 2.0)
    >>> to_like(np.float64(2.5), 1)
    2.5
    """
    if g is None or not has_tangent(x):
        return None
    if is_foreign(g) or is_foreign(x):
        return _to_like_foreign(g, x)
    tx = type(x)
    if tx is np.ndarray:
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(g, x.shape)
        g = _real_if_needed(g, x)
        want = float_dtype(x)
        if g.dtype != want:
            g = g.astype(want)
        return g
    if tx is list:
        g = np.asarray(g) if not isinstance(g, (list, tuple)) else g
        return [to_like(g[i], xi) for i, xi in enumerate(x)]
    if isinstance(x, tuple):
        g = np.asarray(g) if not isinstance(g, (list, tuple)) else g
        items = [to_like(g[i], xi) for i, xi in enumerate(x)]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(g, np.ndarray):
        g = g[()] if g.ndim == 0 else g.sum()
    g = _real_if_needed(g, x)
    if tx is float or tx is int:
        return float(g) if not isinstance(g, Fraction) else g
    if tx is complex:
        return complex(g)
    if isinstance(x, np.generic):
        return np.asarray(g).astype(float_dtype(x))[()]
    return g


def _to_like_foreign(g, x):
    """`to_like` where `g` or `x` is a Dask or CuPy array: shaped and typed in `g`'s own library
    (a number operand keeps a lazy 0-d cotangent; a NumPy operand gets the other library's array,
    as their arithmetic would give; a list or tuple operand a list or tuple of parts of `g`)."""
    if isinstance(x, (list, tuple)):
        items = [to_like(g[i], xi) for i, xi in enumerate(x)]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items) if type(x) is not list else items
    if not hasattr(x, "shape") and not isinstance(x, numbers.Number):
        raise DifferentiationError(
            f"a gradient from a {type(g).__module__.partition('.')[0]} array reached a {type(x).__name__}; "
            "pass Dask and CuPy data as arrays"
        )
    if not hasattr(g, "shape"):
        g = np.full_like(x, g, dtype=float_dtype(x)) if is_foreign(x) else g
    shape = np.shape(x)
    if g.shape != shape:
        g = np.broadcast_to(g, shape)
    g = _real_if_needed(g, x)
    if hasattr(x, "dtype"):
        want = float_dtype(x)
        if g.dtype != want:
            g = g.astype(want)
    return g


def zero_like(x, g=None):
    """A zero cotangent of the kind of `x` (for piecewise-constant functions such as `round`);
    in the library of the cotangent `g` of the result when that is a Dask or CuPy array and `x`
    is not (as the product of `x` with it would be).

    >>> zero_like(3), zero_like(Fraction(1, 2)), zero_like(np.arange(2))
    (0.0, Fraction(0, 1), array([0., 0.]))
    """
    if not has_tangent(x):
        return None
    if g is not None and type(g) is not np.ndarray and is_foreign(g) and not is_foreign(x):
        return unbroadcast_to(np.zeros_like(g), x)
    tx = type(x)
    if tx is float or tx is int:
        return 0.0
    if tx is complex:
        return 0j
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, float_dtype(x))
    if is_foreign(x):
        return zeros_like(x, float_dtype(x))
    if isinstance(x, np.generic):
        return float_dtype(x).type(0)
    if isinstance(x, numbers.Number):
        return x * 0
    return None


def unordered_refusal(what):
    """The message refusing a gradient that reached the elements of a set or the keys of a dict
    (`what`), at the user's line: equal ones are one, in no order, and nothing says which number
    each came from."""
    from ..errors import user_location

    return (
        f"a gradient reached the {what} ({user_location()}), which carry no gradient: equal ones "
        "are kept once, so dpnb cannot tell which number each came from; use a list or a tuple"
    )


def is_integer_valued(x):
    """Python ints, NumPy integer scalars and integer arrays (an order or a count, not a variable)."""
    if isinstance(x, (bool, np.bool_)):
        return True
    if isinstance(x, (int, np.integer)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in "biu"


def carries_numbers(v):
    """Whether `v` is, or holds in a tuple or list, a number other than an int (a float, a
    complex number, an array of them): what a gradient may reach."""
    t = type(v)
    if t is float or t is complex:
        return True
    if t is int or t is bool or t is str or v is None:
        return False
    if isinstance(v, np.ndarray) or isinstance(v, np.generic):
        return v.dtype.kind in "fc"
    if t is tuple or t is list:
        return any(carries_numbers(x) for x in v)
    return isinstance(v, (float, complex))


def back_to_elements(what, elements, bars, lazy=False):
    """The cotangents `bars` of `elements` (of a set, or a dict's keys: `what`), sent back: one that
    reached a number is refused (`unordered_refusal`); one that reached an object (a key hashed by
    identity, a node of a graph) goes to the object itself, on the heap, where the code that made
    it takes it. With `lazy`, the refusal is a marker returned (`unordered_marker`), None if none."""
    marker = None
    for el, b in zip(elements, bars):
        if b is not None:
            if carries_numbers(el):
                if not lazy:
                    raise DifferentiationError(unordered_refusal(what))
                if marker is None:
                    marker = unordered_marker(what)
                continue
            _back_to_objects(el, b)
    return marker


def unordered_marker(what):
    """The cotangent of a set whose numbers a gradient reached: a `NotImplementedTangent` that
    refuses (`unordered_refusal`, at this line) only where it reaches a value a gradient is asked
    of; the set of constants (`sum({1.0, 2.0}) * x`) drops it."""
    from ..tangents import NotImplementedTangent

    return NotImplementedTangent("set", "elements", "", unordered_refusal(what))


def _back_to_objects(el, b):
    """Cotangent `b` of `el`, an element of a set or a dict's key that holds no number, handed to
    the objects in it (a tuple's items one by one)."""
    if b is None or el is None or isinstance(el, (str, bytes, int, frozenset)):
        return
    if isinstance(el, tuple):
        if isinstance(b, (tuple, list)):
            for e, c in zip(el, b):
                _back_to_objects(e, c)
        return
    from ..core import heap

    heap.heap_add(heap.current(), el, b)


def seq_bar(x, bars):
    """Cotangents of the elements of the iterable `x`, gathered in the kind of `x`.

    A list gets a list, a tuple a tuple (a named tuple its own class), an ndarray an
    ndarray (`None` entries as zeros), a dict view a dict; `None` when every
    element's cotangent is `None` or `x` has no tangent (a str, a range, a set).

    >>> seq_bar([1.0, 2.0], [None, 3.0])
    [None, 3.0]
    >>> seq_bar(np.array([1.0, 2.0]), [None, 3.0])
    array([0., 3.])
    """
    bars = list(bars)
    if all(b is None for b in bars):
        return None
    tx = type(x)
    if tx is list:
        return bars
    if isinstance(x, tuple):
        return type(x)(*bars) if hasattr(x, "_fields") else tuple(bars)
    if tx is np.ndarray:
        if x.dtype.kind not in "iufc":
            return None
        out = np.zeros(x.shape, float_dtype(x))
        for i, b in enumerate(bars):
            if b is not None:
                out[i] = np.real(b) if not np.iscomplexobj(out) else b
        return out
    if isinstance(x, (set, frozenset, dict)) or tx.__name__ == "dict_keys":
        # the elements of a set, the keys of a dict: a gradient that reaches a number is refused
        if isinstance(x, (set, frozenset)):
            from ..core.heap import same_set

            # (lazily only for a set made of what its rule's pullback hands the marker back to)
            return back_to_elements("elements of a set", x, bars, lazy=same_set(x))
        back_to_elements("keys of a dict", x, bars)
        return None
    if isinstance(x, (str, bytes, range)):
        return None
    if tx.__name__ == "dict_values":
        return {k: b for k, b in zip(x.mapping, bars) if b is not None}
    if tx.__name__ == "dict_items":
        return {
            k: b[1]
            for k, b in zip(x.mapping, bars)
            if b is not None and b[1] is not None
        }
    return bars


# --- arithmetic shared by operator, builtin, math and NumPy rules -----------------------


def _is_array(x):
    return isinstance(x, (np.ndarray, np.generic)) or is_foreign(x)


def _is_integer_valued(x):
    """Python ints, NumPy integer scalars and integer arrays (an exponent with no gradient)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return True
    return (isinstance(x, np.ndarray) or is_foreign(x)) and x.dtype.kind in "iu"


def pow_bars(a, b, y, y_bar):
    """Cotangents of base and exponent of `y = a ** b`.

    Base: `y_bar * b * a ** (b - 1)`, zero where `b == 0` (so `0 ** -1` is never
    formed), exact for `Fraction ** int`. Exponent: `y_bar * y * log(a)`, with the
    limit 0 at `a == 0` and nan for a negative real base; `None` for an integer
    exponent of an array base (an exponent that cannot vary).
    """
    seqs = (list, tuple)
    if not (_is_array(a) or _is_array(b) or isinstance(a, seqs) or isinstance(b, seqs)):
        return _pow_bars_number(a, b, y, y_bar)
    if is_foreign(a) or is_foreign(b):
        return _pow_bars_foreign(a, b, y, y_bar)
    aa = np.asarray(a) if isinstance(a, seqs) else a
    bb = np.asarray(b) if isinstance(b, seqs) else b
    a_bar = b_bar = None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if has_tangent(a):
            af = np.asarray(aa)
            if af.dtype.kind not in "fc":
                af = af.astype(np.float64)
            zero = np.equal(bb, 0)
            if np.any(zero):
                # the base is first set to 1 where the exponent is 0, so that neither 0 ** -1 nor
                # its own derivative is formed there: differentiated again (a Hessian), `where`
                # would otherwise send 0 * inf = nan back through the branch it did not take
                af = np.where(zero, 1, af)
                d = np.where(zero, 0, bb * af ** (bb - 1))
            else:
                d = bb * af ** (bb - 1)
            a_bar = unbroadcast_to(y_bar * d, a)
        if has_tangent(b) and not (_is_integer_valued(bb) and isinstance(aa, np.ndarray)):
            if is_complex(aa) or is_complex(y):
                factor = y * np.log(np.asarray(aa, dtype=np.result_type(aa, np.complex64)))
            else:
                factor = y * np.log(np.where(np.greater(aa, 0), aa, 1))
                factor = np.where(np.less(aa, 0), np.nan, factor)
            b_bar = unbroadcast_to(y_bar * factor, b)
    return a_bar, b_bar


def _pow_bars_foreign(a, b, y, y_bar):
    """`pow_bars` with a Dask or CuPy operand: the same formulas, with no conversion to NumPy."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        raise NoRuleError(operator.pow, "a Dask or CuPy array with a list or tuple operand")
    a_bar = b_bar = None
    if has_tangent(a):
        af = a if np.issubdtype(np.result_type(a), np.inexact) else a * 1.0
        d = b * af ** (b - 1)
        if _is_array(b) or b == 0:
            d = np.where(np.equal(b, 0), 0, d)
        a_bar = unbroadcast_to(y_bar * d, a)
    if has_tangent(b) and not (_is_integer_valued(b) and _is_array(a)):
        if is_complex(a) or is_complex(y):
            factor = y * np.log(a * (1 + 0j))
        else:
            factor = y * np.log(np.where(np.greater(a, 0), a, 1))
            factor = np.where(np.less(a, 0), np.nan, factor)
        b_bar = unbroadcast_to(y_bar * factor, b)
    return a_bar, b_bar


def log_base(a, y=None):
    """log(a) for the exponent's cotangent of `y = a ** b` (0 at a == 0). For a < 0 the complex
    log where the power is complex (a float exponent that is not whole), else nan: a real power
    of a negative base has no derivative in its exponent. (Written with `math`, whose functions
    have rules: second derivatives differentiate this too.)"""
    if isinstance(a, complex):
        return complex(math.log(abs(a)), math.atan2(a.imag, a.real)) if a != 0 else 0
    if type(y) is complex and a < 0:
        return complex(math.log(-a), math.pi)
    if a > 0:
        return math.log(a)
    if a == 0:
        return 0 * a
    return math.nan


def _pow_bars_number(a, b, y, y_bar):
    a_bar = b_bar = None
    if has_tangent(a):
        if b == 0:
            a_bar = y_bar * 0
        else:
            try:
                a_bar = y_bar * b * a ** (b - 1)
            except ZeroDivisionError:  # 0 ** (b - 1) with 0 < b < 1: infinite slope
                a_bar = y_bar * b * math.inf
        a_bar = unbroadcast_to(a_bar, a)
    if has_tangent(b):
        if a == 0:
            b_bar = y_bar * 0 if b > 0 or isinstance(y, complex) or isinstance(a, complex) else y_bar * math.nan
        else:
            b_bar = y_bar * y * log_base(a, y)
        b_bar = unbroadcast_to(b_bar, b)
    return a_bar, b_bar


def abs_bar(x, y, y_bar):
    """Cotangent of `x` for `y = abs(x)`: `y_bar * sign(x)`, 0 at 0; `Re(y_bar) * conj(x) / |x|` for complex.

    `|x|` is real, so only the real part of its cotangent counts: an imaginary part
    (which a product with a complex number upstream can leave there) pairs with nothing.

    >>> abs_bar(3 + 4j, 5.0, 1.0 + 2.0j)
    (0.6-0.8j)
    """
    if not has_tangent(x):
        return None
    if _is_array(x):
        if is_complex(x):
            with np.errstate(divide="ignore", invalid="ignore"):
                d = np.where(y == 0, 0, np.conj(x) / np.where(y == 0, 1, y))
            return unbroadcast_to(np.real(y_bar) * d, x)
        return unbroadcast_to(y_bar * np.sign(x), x)
    if isinstance(x, complex):
        return np.real(y_bar) * x.conjugate() / y if y else 0j
    return unbroadcast_to(y_bar * (int(x > 0) - int(x < 0)), x)  # (int: a NumPy bool does not subtract)


# --- indexing and matrix products, shared by the operator and NumPy rules ----------------


def _is_basic_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) and not isinstance(i, (bool, np.bool_))
        for i in items
    )


def index_bar(a, idx, g):
    """The cotangent of the array `a` for `y = a[idx]` (repeated fancy indices accumulate).

    >>> index_bar(np.zeros(3), np.array([0, 0, 2]), np.ones(3))
    array([2., 0., 1.])
    """
    if is_foreign(a) or is_foreign(g):
        return _index_bar_foreign(a, idx, g)
    A = np.asarray(a)
    out = np.zeros(A.shape, float_dtype(A))
    g = np.asarray(g)
    if np.iscomplexobj(g) and not np.iscomplexobj(out):
        g = g.real
    if _is_basic_index(idx):
        out[idx] = g
    else:
        np.add.at(out, idx, g)
    return out


def _index_bar_foreign(a, idx, g):
    """`index_bar` where `a` or `g` is a Dask or CuPy array: zeros with `g` placed into the
    window, in `g`'s library (`a`'s when `g` is NumPy's; basic indices only: an index array
    may repeat an index, whose contributions would have to add up). Dask: a new lazy array
    (the graph records the assignment); CuPy: on the device."""
    if not _is_basic_index(idx):
        raise NoRuleError(
            operator.getitem,
            f"a {library(a if is_foreign(a) else g)} array indexed with an index array or a mask, or its "
            "gradient: only ints and slices are differentiated with Dask and CuPy arrays",
        )
    dtype = float_dtype(a)
    if np.iscomplexobj(g) and dtype.kind != "c":
        g = g.real
    return place(g, np.shape(a), idx, like=a if is_foreign(a) else None, dtype=dtype)


def unpermute(g, source, shape):
    """The cotangent of `x` (of `shape`) for `y.flat[j] = x.flat[source[j]]`, `source` a
    permutation of x's flat indices: `g`'s entries taken back to where they came from (a gather,
    which Dask does lazily and CuPy on the device, where a scatter would have to write).

    >>> unpermute(np.array([10.0, 20.0, 30.0]), np.array([2, 0, 1]), (3,))
    array([20., 30., 10.])
    """
    inv = np.empty_like(source)
    inv[source] = np.arange(source.size)
    return reshape(reshape(g, (-1,))[inv], shape)


def flat_source(perm, axis, shape):
    """The flat indices of the entries of an array of `shape` that `take_along_axis(x, perm,
    axis)` reads (`perm` shaped like the array)."""
    idx = list(np.indices(shape, sparse=True))
    idx[axis] = perm
    return np.ravel_multi_index(tuple(np.broadcast_arrays(*idx)), shape).reshape(-1)


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _as_array(v):
    return v if isinstance(v, np.ndarray) or is_foreign(v) else np.asarray(v)


def matmul_bars(a, b, g):
    """Cotangents of `a` and `b` for `a @ b` (1-d operands and batch broadcasting included).

    >>> matmul_bars(np.ones((2, 3)), np.ones(3), np.ones(2))
    (array([[1., 1., 1.],
           [1., 1., 1.]]), array([2., 2., 2.]))
    """
    A, B, G = _as_array(a), _as_array(b), _as_array(g)
    if A.ndim == 1 and B.ndim == 1:
        return unbroadcast_to(G * B, a), unbroadcast_to(G * A, b)
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    G2 = G
    if A.ndim == 1:
        G2 = G2[..., None, :]
    if B.ndim == 1:
        G2 = G2[..., None]
    a_bar = G2 @ _swap(B2) if has_tangent(a) else None
    b_bar = _swap(A2) @ G2 if has_tangent(b) else None
    if a_bar is not None:
        a_bar = unbroadcast_to(a_bar, A2)
        a_bar = to_like(a_bar.reshape(A.shape), a)
    if b_bar is not None:
        b_bar = unbroadcast_to(b_bar, B2)
        b_bar = to_like(b_bar.reshape(B.shape), b)
    return a_bar, b_bar


# --- keyword arguments that carry gradients -----------------------------------------------


def bind(names, args, kwargs, **defaults):
    """The call's arguments by parameter name: `names` in signature order, then the keywords.

    >>> bind(("a", "a_min", "a_max"), (1.0,), {"a_max": 2.0}, a_min=None)
    {'a_min': None, 'a': 1.0, 'a_max': 2.0}
    """
    # plain loops: dpnb differentiates this too, for second derivatives through the rules
    values = dict(defaults)
    for i in range(len(args)):
        values[names[i]] = args[i]
    for k in kwargs:
        values[k] = kwargs[k]
    return values


def call_bars(names, args, kwargs, bars):
    """A pullback's result from cotangents by parameter name: the callable's tangent (None),
    one cotangent per positional argument, then, when a keyword argument has a cotangent,
    a dict `{keyword: cotangent}`.

    >>> call_bars(("a", "a_min", "a_max"), (1.0,), {"a_max": 2.0}, {"a": 0.5, "a_max": 1.5})
    (None, 0.5, {'a_max': 1.5})
    >>> call_bars(("a", "b"), (1.0, 2.0), {}, {"a": 0.5})
    (None, 0.5, None)
    """
    out = (None,) + tuple(bars.get(names[i]) if i < len(names) else None for i in range(len(args)))
    kw = {k: bars[k] for k in kwargs if bars.get(k) is not None}
    if kw:
        return out + (kw,)
    return out
