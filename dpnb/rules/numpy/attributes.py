"""ndarray attributes (`.T`, `.mT`, `.real`, `.imag`), the `.real` and `.imag` of NumPy
scalars (`np.float64`, `np.complex128`, ...), and the ndarray methods that share a
function's rule (`conj`, `conjugate`, `round`)."""
import numpy as np

from .._common import to_like
from ..registry import constant_attribute, register_attribute
from ._base import _named, _swap, register
from .ufuncs import _zero_gradient, conjugate_rrule, imag_rrule, real_rrule


def T_rrule(obj):
    y = obj.T
    return y, _named("T_pullback", lambda y_bar: (None, to_like(np.transpose(y_bar), obj)))


def mT_rrule(obj):
    y = obj.mT
    return y, _named("mT_pullback", lambda y_bar: (None, to_like(_swap(y_bar), obj)))


def real_attribute_rrule(obj):
    return real_rrule(obj)


def imag_attribute_rrule(obj):
    return imag_rrule(obj)


register_attribute(np.ndarray, "T", T_rrule)
register_attribute(np.ndarray, "mT", mT_rrule)
register_attribute(np.ndarray, "real", real_attribute_rrule)
register_attribute(np.ndarray, "imag", imag_attribute_rrule)
# the methods' rules are their functions' (namespace-generic) ones
register(np.ndarray.conj, conjugate_rrule, generic=True)
register(np.ndarray.conjugate, conjugate_rrule, generic=True)
register(np.ndarray.round, _zero_gradient(np.round), generic=True)

#: NumPy scalar types with attribute rules (their shape, dtype, ... carry no gradient)
SCALAR_TYPES = (
    np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128, np.clongdouble,
)
for _t in SCALAR_TYPES:
    register_attribute(_t, "real", real_attribute_rrule)
    register_attribute(_t, "imag", imag_attribute_rrule)
    constant_attribute(_t, "shape", "ndim", "size", "dtype", "nbytes", "itemsize", "strides", "flags")
