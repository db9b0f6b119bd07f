"""dpnb: source-to-source reverse-mode automatic differentiation for Python and NumPy, made for Jupyter.

>>> from dpnb import gradient
>>> gradient(lambda a, b: a * b, 2, 3)
(3.0, 2.0)
"""
#: the one place the version is written: pyproject.toml reads it from here when the package is built
__version__ = "0.1.0"

from .errors import DifferentiationError, NoRuleError, NonScalarOutputError, UnsupportedSyntaxError
from .tangents import NoTangent, Tangent, ZeroTangent
from .rules import adjoint, nograd, rrule
from .api import (
    adjoint_source,
    derivative,
    gradient,
    hessian,
    jacobian,
    jvp,
    pullback,
    refresh,
    tangent_source,
    withgradient,
)
from .params import Params, Grads
from .control import checkpointed, hook, ignore_derivatives


def load_ipython_extension(ip):
    from .magics import load_ipython_extension as load

    load(ip)


def unload_ipython_extension(ip):
    from .magics import unload_ipython_extension as unload

    unload(ip)


__all__ = [
    "gradient", "hessian", "withgradient", "pullback", "derivative", "jacobian", "jvp", "adjoint_source", "tangent_source", "refresh",
    "rrule", "adjoint", "nograd", "ignore_derivatives", "hook", "checkpointed", "Grads", "NoTangent", "ZeroTangent", "Tangent", "Params",
    "DifferentiationError", "UnsupportedSyntaxError", "NoRuleError", "NonScalarOutputError",
]
