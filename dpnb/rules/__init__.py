"""Differentiation rules: one registry (`registry`), a package per domain (`python`, `numpy`),
a file per family inside it, and the table of non-differentiable callables (`constants`)."""
from .registry import (  # noqa: F401
    CONSTANTS,
    RULES,
    SCALAR_RULES,
    adjoint,
    constant,
    lookup,
    nograd,
    register,
    rrule,
    scalar_rule,
)
from .registry import ATTRIBUTE_RULES, CONSTANT_ATTRIBUTES, register_attribute, constant_attribute  # noqa: F401

from . import constants, python, numpy  # noqa: F401,E402

try:  # SciPy is optional: its rules load when it is installed
    import scipy as _scipy  # noqa: F401  (not `import scipy`: that global would stand in for the subpackage)
except ImportError:
    pass
else:
    from . import scipy as _scipy_rules  # noqa: F401
