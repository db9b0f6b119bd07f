"""What a differentiated program may call from Dask's and CuPy's own namespaces.

The program computes with NumPy's functions, which run on Dask and CuPy arrays (see
`namespaces`); from the library itself it makes arrays. So its callables that NumPy's
table of constants has under the same name (`dask.array.zeros`, `ones_like`, `eye`,
`isnan`, `argmax`, the random draws without parameters, ...) are constants here too,
and its conversions into the library (`dask.array.from_array`, `asarray`, `cupy.asarray`)
pass the gradient through, like `np.asarray`. Each library's entries are registered the
first time a look-up misses after the program imported it (`registry.lazy_domain`).

Anything else of the library's own code that dpnb cannot follow is refused naming the
callable and the line that called it (`core.runtime`), pointing to NumPy's function.
"""
import importlib

from . import registry

#: module -> (its module of random draws, its conversions into the library)
LIBRARIES = {
    "dask.array": ("dask.array.random", ("from_array", "asarray", "asanyarray", "array")),
    "cupy": ("cupy.random", ("asarray", "asanyarray", "array", "ascontiguousarray", "asfortranarray")),
}


def _random_constants(rnd):
    """The draws of the library's random module that NumPy's table has as constants, by name."""
    import numpy as np

    from .numpy.random_draws import _RANDOM_SKIP

    out = []
    for n in dir(rnd):
        f = getattr(rnd, n, None)
        if n.startswith("_") or n in _RANDOM_SKIP or not hasattr(np.random, n) or not callable(f):
            continue
        if getattr(f, "__module__", None) != rnd.__name__:
            continue  # imported from elsewhere (its asarray, arange, ...), not one of its draws
        if isinstance(f, type):
            ours = getattr(np.random, n)
            out.append(f)
            out.extend(
                getattr(f, m) for m in dir(f)
                if not m.startswith("_") and m not in _RANDOM_SKIP and hasattr(ours, m) and callable(getattr(f, m))
            )
        else:
            out.append(f)
    return out


def load(module_name):
    """Register the constants and conversions of `module_name` (one of `LIBRARIES`)."""
    from .numpy import CORE

    for n in CORE:  # NumPy's own rules first, in the order they load (these stand on them)
        importlib.import_module(f"{__package__}.numpy.{n}")
    from .numpy._base import register
    from .numpy.constants import _NUMPY_NAMES
    from .numpy.conversions import _converter

    mod = importlib.import_module(module_name)
    random_name, conversions = LIBRARIES[module_name]
    consts = [getattr(mod, n) for n in _NUMPY_NAMES if callable(getattr(mod, n, None))]
    try:
        consts += _random_constants(importlib.import_module(random_name))
    except ImportError:
        pass
    for f in consts:
        registry.constant(f)
    for n in conversions:
        f = getattr(mod, n, None)
        if f is not None:
            register(f, _converter(f, n), generic=True)


for _name in LIBRARIES:
    registry.lazy_domain(_name, lambda _name=_name: load(_name))
