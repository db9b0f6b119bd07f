"""The table of non-differentiable callables of plain Python: their results carry no gradient.

Zygote's `@non_differentiable` list, for Python: introspection, conversion to
strings and integers, comparisons, predicates, integer-valued and piecewise-constant
functions (floor, ceil, trunc). NumPy's (array constructors from shapes, index-valued
functions, predicates, random number generators) are in `numpy.constants` and
`numpy.random_draws`, registered with NumPy's other rules.

Not here on purpose: `getattr` and `iter` (the transform handles them), `round`
and `//` (they get a zero gradient, see `python.builtin_rules` and `python.operator_rules`),
`vars` (an object's fields) and the sets (which refuse numbers that carry gradients): see
`python.builtin_rules`.
"""
import math
import operator
import types

from .registry import constant

# --- builtins -------------------------------------------------------------------------

BUILTINS = (
    len, range, isinstance, issubclass, type, print, input, id, hash, repr, str,
    ascii, format, bool, int, callable, hasattr, ord, chr, bin, oct, hex, all, any,
    slice, dir, bytes, bytearray, open,
    str.join, str.format, str.split, str.rsplit, str.strip, str.lstrip, str.rstrip,
    str.lower, str.upper, str.startswith, str.endswith, str.replace, str.find,
    str.count, str.isdigit, str.isalpha, str.splitlines, str.encode, str.title,
    str.capitalize, str.zfill, str.ljust, str.rjust, str.center, str.partition,
    bytes.decode,
    list.index, list.count, tuple.index, tuple.count,
    dict.__contains__, list.__contains__, tuple.__contains__,
    set.__contains__, frozenset.__contains__, str.__contains__, set.add,
    float.is_integer, float.hex, float.fromhex,
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

# --- contextlib -------------------------------------------------------------------------

# the decorator makes a function (the manager's generator, given values, is checked where the
# function is called: `runtime._generator_manager_call`)
import contextlib  # noqa: E402

constant(contextlib.contextmanager)

# --- math: integer-valued, predicates, combinatorics ------------------------------------

MATH = (
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
    math.isclose, math.factorial, math.gcd, math.lcm, math.comb, math.perm,
    math.isqrt, math.ulp,
)
constant(*MATH)
