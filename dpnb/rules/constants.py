"""The table of non-differentiable callables: their results carry no gradient.

Zygote's `@non_differentiable` list, for Python: introspection, conversion to
strings and integers, comparisons, predicates, array constructors from shapes,
index-valued functions (argmax, argsort, nonzero, ...), piecewise-constant
functions (floor, ceil, sign), and random number generators.

Not here on purpose: `getattr` and `iter` (the transform handles them), `round`
and `//` (they get a zero gradient, see `python.builtin_rules` and `python.operator_rules`),
`np.random.permutation` / `choice` (they move values around, see `numpy.random_draws`).
"""
import math
import operator
import types

import numpy as np

from .registry import constant, constant_attribute

# --- builtins -------------------------------------------------------------------------

BUILTINS = (
    len, range, isinstance, issubclass, type, print, input, id, hash, repr, str,
    ascii, format, bool, int, callable, hasattr, ord, chr, bin, oct, hex, all, any,
    set, frozenset, slice, dir, vars, bytes, bytearray, open,
    str.join, str.format, str.split, str.rsplit, str.strip, str.lstrip, str.rstrip,
    str.lower, str.upper, str.startswith, str.endswith, str.replace, str.find,
    str.count, str.isdigit, str.isalpha, str.splitlines, str.encode, str.title,
    str.capitalize, str.zfill, str.ljust, str.rjust, str.center, str.partition,
    bytes.decode,
    list.index, list.count, tuple.index, tuple.count,
    dict.keys, dict.__contains__, list.__contains__, tuple.__contains__,
    set.__contains__, frozenset.__contains__, str.__contains__, set.add,
    float.is_integer, float.hex, float.fromhex, float.as_integer_ratio,
    int.bit_length, int.to_bytes, int.from_bytes,
)
constant(*BUILTINS)

# a class's own namespace (`type.__dict__`, read-only): what dpnb reads there is code, not values
_PROXY = types.MappingProxyType
constant(_PROXY, _PROXY.get, _PROXY.__getitem__, _PROXY.__contains__, _PROXY.keys, _PROXY.items, _PROXY.values)

# --- operator: comparisons, predicates, integer/bit operations --------------------------

OPERATOR = (
    operator.lt, operator.le, operator.eq, operator.ne, operator.ge, operator.gt,
    operator.not_, operator.truth, operator.is_, operator.is_not, operator.contains,
    operator.and_, operator.or_, operator.xor, operator.invert, operator.inv,
    operator.lshift, operator.rshift, operator.index, operator.length_hint,
    operator.countOf, operator.indexOf,
    # building a getter carries no gradient (calling an itemgetter has a rule)
    operator.itemgetter, operator.attrgetter, operator.methodcaller,
)
constant(*OPERATOR)

# --- math: integer-valued, predicates, combinatorics ------------------------------------

MATH = (
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
    math.isclose, math.factorial, math.gcd, math.lcm, math.comb, math.perm,
    math.isqrt, math.ulp,
)
constant(*MATH)

# --- numpy ------------------------------------------------------------------------------

_NUMPY_NAMES = """
zeros ones empty zeros_like ones_like empty_like
eye identity tri indices diag_indices tril_indices triu_indices
shape ndim size argmax argmin argsort argpartition argwhere nonzero flatnonzero searchsorted
lexsort unravel_index ravel_multi_index count_nonzero bincount digitize
floor ceil trunc rint fix sign signbit heaviside spacing
isnan isinf isfinite isposinf isneginf isreal iscomplex isrealobj iscomplexobj isscalar isin
less less_equal greater greater_equal equal not_equal
logical_and logical_or logical_xor logical_not all any
bitwise_and bitwise_or bitwise_xor bitwise_not invert left_shift right_shift gcd lcm
array_equal array_equiv allclose isclose
dtype result_type promote_types can_cast min_scalar_type broadcast_shapes issubdtype
iinfo finfo ndindex ndenumerate
""".split()
NUMPY = tuple(getattr(np, n) for n in _NUMPY_NAMES if hasattr(np, n))
constant(*NUMPY)

# Random numbers: the module-level functions (bound methods of NumPy's global
# RandomState) and the methods of Generator and RandomState. `permutation` and
# `choice` have rules instead (they select values of their argument).
_RANDOM_SKIP = {"permutation", "choice", "shuffle", "permuted",
                # continuous draws with parameters: rules in `numpy.random_draws`
                "normal", "laplace", "gumbel", "logistic", "uniform", "lognormal", "exponential",
                "rayleigh"}
RANDOM = tuple(
    getattr(np.random, n)
    for n in dir(np.random)
    if not n.startswith("_") and n not in _RANDOM_SKIP and callable(getattr(np.random, n))
    and not isinstance(getattr(np.random, n), type)
)
RANDOM += tuple(
    getattr(cls, n)
    for cls in (np.random.Generator, np.random.RandomState)
    for n in dir(cls)
    if not n.startswith("_") and n not in _RANDOM_SKIP and callable(getattr(cls, n))
)
RANDOM += (np.random.default_rng, np.random.RandomState, np.random.Generator)
constant(*RANDOM)

constant_attribute(
    np.ndarray, "shape", "ndim", "size", "dtype", "nbytes", "itemsize", "strides", "flags",
)
constant(
    np.ndarray.argmax, np.ndarray.argmin, np.ndarray.argsort, np.ndarray.argpartition,
    np.ndarray.nonzero, np.ndarray.all, np.ndarray.any, np.ndarray.searchsorted,
)
