"""NumPy's non-differentiable callables: array constructors from shapes, index-valued
functions (argmax, argsort, nonzero, ...), piecewise-constant functions (floor, ceil, sign),
comparisons and predicates; and the attributes of arrays that are metadata (shape, dtype, ...).

Not here on purpose: `np.round` (a zero gradient, see `ufuncs`); the random number generators
are in `random_draws`, registered once the program imports `numpy.random`.

`np.bincount` (its `weights` are summed) and `np.heaviside` (its second argument is the value
at 0) carry gradients: their rules are in `reductions` and `ufuncs`.
"""
import numpy as np

from ..registry import constant, constant_attribute

_NUMPY_NAMES = """
zeros ones empty zeros_like ones_like empty_like
eye identity tri indices diag_indices tril_indices triu_indices
shape ndim size argmax argmin argsort argpartition argwhere nonzero flatnonzero searchsorted
lexsort unravel_index ravel_multi_index count_nonzero digitize
floor ceil trunc rint fix sign signbit spacing
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

constant_attribute(
    np.ndarray, "shape", "ndim", "size", "dtype", "nbytes", "itemsize", "strides", "flags",
)
constant(
    np.ndarray.argmax, np.ndarray.argmin, np.ndarray.argsort, np.ndarray.argpartition,
    np.ndarray.nonzero, np.ndarray.all, np.ndarray.any, np.ndarray.searchsorted,
)
