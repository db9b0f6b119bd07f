"""Differentiation rules: one registry (`registry`), a package per domain (`python`, `numpy`,
`scipy`), a file per family inside it, and the table of non-differentiable callables of plain
Python (`constants`)."""
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

from . import constants, python  # noqa: F401,E402  (plain Python: every program needs them)
from . import foreign  # noqa: F401,E402  (Dask and CuPy: registered when imported)

# The other domains are registered when first needed (see `registry.lazy_domain`): NumPy's a
# module at a time, at the first look-up of a NumPy callable, type or attribute that module
# holds the rule of; `numpy.fft`'s and `numpy.random`'s at such a look-up once the program
# imported them; those of `itertools` at the first look-up
# of one of its callables; those of `statistics` at the first look-up of one of its callables
# once the program imported it; SciPy's (a subpackage at a time) at the first look-up that misses
# once the program imported the subpackage.
from . import numpy as _numpy  # noqa: E402  (the list of its modules only)
from .scipy import SUBPACKAGES as _SCIPY  # noqa: E402


def _loader(package, names):
    def load():
        import importlib

        for n in names:
            importlib.import_module(f"{__name__}.{package}.{n}")

    return load


for _module, _owners, _names in python.LAZY:
    registry.lazy_domain(_module, _loader("python", _names), concerns=_owners and registry.modules_concern(*_owners))
# NumPy's, a module of rules at a time (`rules.numpy.INDEX_TEXT` says which module holds a key's rule)
for _module, _names in ((None, _numpy.CORE),) + _numpy.SUBPACKAGES:
    for _name in _names:
        registry.lazy_domain(_module, _loader("numpy", (_name,)), concerns=_numpy.concerns,
                             attributes=_name in _numpy.ATTRIBUTES, pick=_numpy.picker(_name))
for _module, _names in _SCIPY:
    registry.lazy_domain(_module, _loader("scipy", _names))
