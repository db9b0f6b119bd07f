"""Rules for NumPy, one file per family: ufuncs and their methods, conversions, reductions,
shapes, indexing, products, einsum, `np.linalg` (linalg, decompositions), `np.fft`, sampled
functions (linspace, interp, gradient), random draws, attributes, the functions that change an
array given to them (in_place: copyto, fill_diagonal), the NaN-skipping quantiles.

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
the module the index (`INDEX_TEXT`) names for the key (`key_name`), one of `CORE`'s, or one of `SUBPACKAGES`'s
once the program imported the subpackage (NumPy imports neither `numpy.fft` nor `numpy.random`
itself). A key the index does not name, or that its module did not register, loads every module
due: the index saves time, it never decides what has a rule. Importing one of the modules
registers its rules; `python -m dpnb.rules.numpy._make_index` writes the index again.
"""
import sys

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
    "in_place",
    "quantiles",
)
#: the modules that register attribute rules (`(type, name)` keys)
ATTRIBUTES = ("constants", "attributes")
#: (NumPy subpackage, the modules of rules for it), in the order they load
SUBPACKAGES = (
    ("numpy.fft", ("fft",)),
    ("numpy.random", ("random_draws",)),
)
#: every module of rules for NumPy, in that order
MODULES = CORE + tuple(m for _, ms in SUBPACKAGES for m in ms)


#: whether a look-up of a key may need NumPy's rules: a NumPy function, ufunc, type or object
#: (`np.r_`), a method of a NumPy type (`np.ndarray.sum`, `x.sum`, `np.random.normal`), or an
#: attribute key `(type, name)` of a NumPy type (see `registry.modules_concern`)
concerns = registry.modules_concern("numpy")


def key_name(key):
    """The name the index (`INDEX_TEXT`) knows a key by: its qualified name (`"tanh"`, `"ndarray.sum"`,
    `"ufunc.reduce"`, `"Generator.normal"`), or `"ndarray:T"` for the attribute key
    `(np.ndarray, "T")`; None for a key with no name."""
    try:
        if type(key) is tuple:
            return f"{key[0].__qualname__}:{key[1]}"
        name = getattr(key, "__qualname__", None) or getattr(key, "__name__", None)
    except Exception:  # an object that will not say: no name, every module loads
        return None
    return name if type(name) is str else None


def picker(module):
    """`pick` for the domain of one module of rules (see `registry.lazy_domain`): a key is due for
    it when the index names it, when the index names no module (or no module of this NumPy's),
    or when the module the index names is imported (its rules registered) and the key has no
    entry yet."""

    def pick(key):
        m = (_INDEX or _read_index()).get(key_name(key))
        if m is None or m == module or m not in MODULES:
            return True
        return _PACKAGE + m in sys.modules and not registry.known(key)

    return pick


_PACKAGE = __name__ + "."


_INDEX = {}


def _read_index():
    _INDEX.update((name, module) for module, names in INDEX_TEXT for name in names.split())
    return _INDEX


# --- the index: written by `python -m dpnb.rules.numpy._make_index`, (module, its keys' names) ---
INDEX_TEXT = (
    ('indexing', (
        'AxisConcatenator.__getitem__ clip diff ndarray.__getitem__ ndarray.clip ndarray.take '
        'partition select sort take take_along_axis unique where '
    )),
    ('random_draws', (
        'Generator Generator.beta Generator.binomial Generator.bytes Generator.chisquare '
        'Generator.choice Generator.dirichlet Generator.exponential Generator.f Generator.gamma '
        'Generator.geometric Generator.gumbel Generator.hypergeometric Generator.integers '
        'Generator.laplace Generator.logistic Generator.lognormal Generator.logseries '
        'Generator.multinomial Generator.multivariate_hypergeometric '
        'Generator.multivariate_normal Generator.negative_binomial Generator.noncentral_chisquare '
        'Generator.noncentral_f Generator.normal Generator.pareto Generator.permutation '
        'Generator.permuted Generator.poisson Generator.power Generator.random Generator.rayleigh '
        'Generator.spawn Generator.standard_cauchy Generator.standard_exponential '
        'Generator.standard_gamma Generator.standard_normal Generator.standard_t '
        'Generator.triangular Generator.uniform Generator.vonmises Generator.wald '
        'Generator.weibull Generator.zipf RandomState RandomState.beta RandomState.binomial '
        'RandomState.bytes RandomState.chisquare RandomState.choice RandomState.dirichlet '
        'RandomState.exponential RandomState.f RandomState.gamma RandomState.geometric '
        'RandomState.get_state RandomState.gumbel RandomState.hypergeometric RandomState.laplace '
        'RandomState.logistic RandomState.lognormal RandomState.logseries RandomState.multinomial '
        'RandomState.multivariate_normal RandomState.negative_binomial '
        'RandomState.noncentral_chisquare RandomState.noncentral_f RandomState.normal '
        'RandomState.pareto RandomState.permutation RandomState.poisson RandomState.power '
        'RandomState.rand RandomState.randint RandomState.randn RandomState.random '
        'RandomState.random_integers RandomState.random_sample RandomState.rayleigh '
        'RandomState.seed RandomState.set_state RandomState.standard_cauchy '
        'RandomState.standard_exponential RandomState.standard_gamma RandomState.standard_normal '
        'RandomState.standard_t RandomState.tomaxint RandomState.triangular RandomState.uniform '
        'RandomState.vonmises RandomState.wald RandomState.weibull RandomState.zipf default_rng '
        'get_bit_generator ranf sample seed set_bit_generator '
    )),
    ('ufuncs', (
        'absolute add angle any_foreign arccos arccosh arcsin arcsinh arctan arctan2 arctanh '
        'around cbrt conjugate copysign cos cosh deg2rad degrees divide exp exp2 expm1 fabs '
        'float_power floor_divide fmax fmin fmod foreign_cotangent heaviside hypot imag ldexp log '
        'log10 log1p log2 logaddexp logaddexp2 maximum minimum multiply nan_to_num negative '
        'positive power rad2deg radians real reciprocal refuse_foreign refuse_foreign_cotangent '
        'remainder round sin sinc sinh sqrt square subtract tan tanh '
    )),
    ('constants', (
        'all allclose any argmax argmin argpartition argsort argwhere array_equal array_equiv '
        'bitwise_and bitwise_or bitwise_xor broadcast_shapes can_cast ceil count_nonzero '
        'diag_indices digitize dtype empty empty_like equal eye finfo fix flatnonzero floor gcd '
        'greater greater_equal identity iinfo indices invert isclose iscomplex iscomplexobj '
        'isfinite isin isinf isnan isneginf isposinf isreal isrealobj isscalar issubdtype lcm '
        'left_shift less less_equal lexsort logical_and logical_not logical_or logical_xor '
        'min_scalar_type ndarray.all ndarray.any ndarray.argmax ndarray.argmin '
        'ndarray.argpartition ndarray.argsort ndarray.nonzero ndarray.searchsorted ndarray:dtype '
        'ndarray:ndim ndarray:shape ndarray:size ndenumerate ndim ndindex nonzero not_equal ones '
        'ones_like promote_types ravel_multi_index result_type right_shift rint searchsorted '
        'shape sign signbit size spacing tri tril_indices triu_indices trunc unravel_index zeros '
        'zeros_like '
    )),
    ('reductions', (
        'amax amin average bincount cumprod cumsum max mean min nanmean nansum ndarray.cumprod '
        'ndarray.cumsum ndarray.max ndarray.mean ndarray.min ndarray.prod ndarray.std ndarray.sum '
        'ndarray.var prod std sum var '
    )),
    ('shapes', (
        'append array_split atleast_1d atleast_2d atleast_3d broadcast_arrays broadcast_to '
        'column_stack concatenate dsplit dstack expand_dims flip fliplr flipud hsplit hstack '
        'matrix_transpose moveaxis ndarray.flatten ndarray.ravel ndarray.repeat ndarray.reshape '
        'ndarray.squeeze ndarray.swapaxes ndarray.transpose pad ravel repeat reshape roll '
        'rollaxis rot90 split squeeze stack swapaxes tile transpose vsplit vstack '
    )),
    ('constructors', (
        'arange full full_like meshgrid '
    )),
    ('conversions', (
        'array asanyarray asarray ascontiguousarray asfortranarray astype clongdouble complex128 '
        'complex64 copy float16 float32 float64 generic.astype generic.copy generic.item '
        'generic.tolist int16 int32 int64 int8 longdouble ndarray.astype ndarray.copy '
        'ndarray.item ndarray.tolist uint16 uint32 uint64 uint8 '
    )),
    ('decompositions', (
        'cholesky eig eigh eigvals eigvalsh qr svd '
    )),
    ('attributes', (
        'clongdouble:dtype clongdouble:flags clongdouble:imag clongdouble:itemsize '
        'clongdouble:nbytes clongdouble:ndim clongdouble:real clongdouble:shape clongdouble:size '
        'clongdouble:strides complex128:dtype complex128:flags complex128:imag '
        'complex128:itemsize complex128:nbytes complex128:ndim complex128:real complex128:shape '
        'complex128:size complex128:strides complex64:dtype complex64:flags complex64:imag '
        'complex64:itemsize complex64:nbytes complex64:ndim complex64:real complex64:shape '
        'complex64:size complex64:strides float16:dtype float16:flags float16:imag '
        'float16:itemsize float16:nbytes float16:ndim float16:real float16:shape float16:size '
        'float16:strides float32:dtype float32:flags float32:imag float32:itemsize float32:nbytes '
        'float32:ndim float32:real float32:shape float32:size float32:strides float64:dtype '
        'float64:flags float64:imag float64:itemsize float64:nbytes float64:ndim float64:real '
        'float64:shape float64:size float64:strides longdouble:dtype longdouble:flags '
        'longdouble:imag longdouble:itemsize longdouble:nbytes longdouble:ndim longdouble:real '
        'longdouble:shape longdouble:size longdouble:strides ndarray.conj ndarray.conjugate '
        'ndarray.round ndarray:T ndarray:imag ndarray:mT ndarray:real '
    )),
    ('products', (
        'convolve correlate cross diag diagonal dot inner kron matmul ndarray.diagonal '
        'ndarray.dot ndarray.trace outer tensordot trace tril triu vdot '
    )),
    ('in_place', (
        'copyto fill_diagonal '
    )),
    ('linalg', (
        'det inv lstsq matrix_power norm pinv slogdet solve '
    )),
    ('einsum', (
        'einsum '
    )),
    ('fft', (
        'fft fft2 fftn fftshift ifft ifft2 ifftn ifftshift irfft irfft2 irfftn rfft rfft2 rfftn '
    )),
    ('sampling', (
        'geomspace gradient interp linspace logspace '
    )),
    ('quantiles', (
        'nanmedian nanpercentile nanquantile '
    )),
    ('ufunc_methods', (
        'ufunc.accumulate ufunc.outer ufunc.reduce vectorize.__call__ '
    )),
)
# --- end of the index ---
