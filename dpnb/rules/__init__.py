"""Differentiation rules: one registry (`registry`), a package per domain (`python`, `numpy`),
a file per family inside it, and the table of non-differentiable callables (`constants`)."""
from . import registry  # noqa: E402
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
from . import foreign  # noqa: F401,E402  (Dask and CuPy: registered when imported)

# SciPy is optional: the rules of each of its subpackages are registered at the first look-up
# that misses once the program has imported that subpackage (see `registry.lazy_domain`)
from .scipy import SUBPACKAGES as _SCIPY  # noqa: E402


def _scipy_loader(names):
    def load():
        import importlib

        for n in names:
            importlib.import_module(f"{__name__}.scipy.{n}")

    return load


for _module, _names in _SCIPY:
    registry.lazy_domain(_module, _scipy_loader(_names))
