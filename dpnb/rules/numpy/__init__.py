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

The rules are registered when first needed (`dpnb.rules` declares the domains): the modules
of `CORE` at the first look-up of a NumPy callable, type, method or attribute (`concerns`),
those of `SUBPACKAGES` at such a look-up once the program imported the subpackage (NumPy
imports neither `numpy.fft` nor `numpy.random` itself). Importing one of the modules
registers its rules.
"""
from .. import registry

#: the modules of rules for NumPy itself, in the order they load
CORE = (
    "constants",
    "ufuncs",
    "ufunc_methods",
    "conversions",
    "reductions",
    "shapes",
    "indexing",
    "products",
    "einsum",
    "linalg",
    "decompositions",
    "sampling",
    "constructors",
    "attributes",
)
#: (NumPy subpackage, the modules of rules for it), in the order they load
SUBPACKAGES = (
    ("numpy.fft", ("fft",)),
    ("numpy.random", ("random_draws",)),
)


#: whether a look-up of a key may need NumPy's rules: a NumPy function, ufunc, type or object
#: (`np.r_`), a method of a NumPy type (`np.ndarray.sum`, `x.sum`, `np.random.normal`), or an
#: attribute key `(type, name)` of a NumPy type (see `registry.modules_concern`)
concerns = registry.modules_concern("numpy")
