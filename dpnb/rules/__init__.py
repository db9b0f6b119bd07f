"""Differentiation rules: one registry (`registry`), a file per domain."""
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

from . import constants, builtin_rules, math_rules, operator_rules, numpy_rules  # noqa: F401,E402
