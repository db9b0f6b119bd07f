"""Rules for NumPy, one file per family: ufuncs and their methods, conversions, reductions,
shapes, indexing, products, einsum, `np.linalg` (linalg, decompositions), `np.fft`, sampled
functions (linspace, interp, gradient), random draws, attributes.

Conventions, as everywhere in dpnb (SPEC §3):

- a cotangent has the shape of its primal; integer and boolean arrays get float64
  cotangents (boolean ones `None`), float32 stays float32; every operand of a
  broadcasting rule goes through `unbroadcast_to` once;
- a list or tuple handed to a NumPy function gets a list or tuple back;
- ties (`max`, `maximum`, `sort`, ...): `np.maximum`/`np.minimum`/`np.clip` give
  the whole gradient to the first argument that attains the value, like Python's
  `max`; reductions (`np.max`, norms with `ord=inf`) split it evenly between the
  tied entries, like JAX.

Complex numbers follow JAX's convention: the cotangent of `z` is the vector `z_bar`
for which a real loss `L` changes by `Re(sum(z_bar * dz))`. A pullback is then the
*transpose* (not the adjoint) of the derivative: for a holomorphic `f` it is
`y_bar * f'(z)`, matrix products use `.T`, not `.conj().T`; `abs(z)` pulls back
`Re(y_bar) * conj(z) / |z|` (a real output counts only the real part of its
cotangent), `np.conj` pulls back `conj(y_bar)`, `np.real` pulls back `y_bar` and
`np.imag` pulls back `-1j * y_bar`; a real input of a complex operation gets the real
part of its cotangent, a complex input a complex cotangent. Of `np.linalg`, `cholesky`
and `qr` support real matrices only.

Keyword arguments that carry values (`np.clip(x, a_min=lo)`, `np.average(a,
weights=w)`, `initial=`, ...) get their cotangents in a dict after the positional ones.

The rules are registered when first needed (`dpnb.rules` declares the domains), a module at a
time: a look-up of a NumPy callable, type, method or attribute (`concerns`) that misses loads
the module `INDEX` names for the key (`key_name`), one of `CORE`'s, or one of `SUBPACKAGES`'s
once the program imported the subpackage (NumPy imports neither `numpy.fft` nor `numpy.random`
itself). A key the index does not name, or that its module did not register, loads every module
due: the index saves time, it never decides what has a rule. Importing one of the modules
registers its rules; `python -m dpnb.rules.numpy._make_index` writes the index again.
"""
from .. import registry

#: the modules of rules for NumPy itself, in the order they load when all do (a module after
#: those it imports, so that the index gives each key to the module that registers it)
CORE = (
    "constants",
    "ufuncs",
    "reductions",
    "ufunc_methods",
    "conversions",
    "shapes",
    "indexing",
    "products",
    "einsum",
    "decompositions",
    "linalg",
    "sampling",
    "constructors",
    "attributes",
)
#: the modules that register attribute rules (`(type, name)` keys)
ATTRIBUTES = ("constants", "attributes")
#: (NumPy subpackage, the modules of rules for it), in the order they load
SUBPACKAGES = (
    ("numpy.fft", ("fft",)),
    ("numpy.random", ("random_draws",)),
)


#: whether a look-up of a key may need NumPy's rules: a NumPy function, ufunc, type or object
#: (`np.r_`), a method of a NumPy type (`np.ndarray.sum`, `x.sum`, `np.random.normal`), or an
#: attribute key `(type, name)` of a NumPy type (see `registry.modules_concern`)
concerns = registry.modules_concern("numpy")


def key_name(key):
    """The name `INDEX` knows a key by: its qualified name (`"tanh"`, `"ndarray.sum"`,
    `"ufunc.reduce"`, `"Generator.normal"`), or `"ndarray:T"` for the attribute key
    `(np.ndarray, "T")`; None for a key with no name."""
    try:
        if type(key) is tuple:
            return f"{key[0].__qualname__}:{key[1]}"
        name = getattr(key, "__qualname__", None) or getattr(key, "__name__", None)
    except Exception:  # an object that will not say: no name, every module loads
        return None
    return name if type(name) is str else None


_INDEX = []


def picker(module, loaded):
    """`pick` for the domain of one module of rules (see `registry.lazy_domain`): a key is due for
    it when the index names it, when the index names no module (or no module of this NumPy's),
    or when the module the index names is loaded (`loaded`) and the key has no entry yet."""

    def pick(key):
        if not _INDEX:
            from ._index import INDEX

            _INDEX.append(INDEX)
        m = _INDEX[0].get(key_name(key))
        return m is None or m == module or (m in loaded and not registry.known(key))

    return pick
