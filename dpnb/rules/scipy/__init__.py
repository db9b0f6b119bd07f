"""Rules for SciPy: a module per SciPy subpackage, each registered by `dpnb.rules` when first
needed (at the first rule look-up that misses once the program imported that subpackage).

- `special`: gamma, beta, error, Bessel and logistic functions, `logsumexp`, `softmax`;
- `stats`: densities, distribution functions and their logarithms of `norm`, `t`,
  `gamma`, `beta`, `chi2` and `poisson`; `stats_multivariate`: `multivariate_normal`
  and `dirichlet`;
- `linalg`: `sqrtm`, `expm`, `solve_sylvester`, triangular and Cholesky solves, and
  SciPy's own `inv`, `solve`, `det`, `cholesky`; `decompositions`: `svd`, `eigh`, `qr`,
  `pinv`, `lstsq` (with NumPy's rules' maths);
- `signal`: `convolve`;
- `fft`: the complex and real transforms, as `np.fft`'s rules pull them back;
- `integrate`: `odeint`, through the adjoint ODE;
- `ndimage`: the linear filters `correlate`, `convolve`, `gaussian_filter`, `uniform_filter` and
  their 1-d forms, every boundary mode;
- `spatial`: `scipy.spatial.distance`'s `cdist` and `pdist` ('euclidean', 'sqeuclidean',
  'cityblock').

Inside this package `import scipy` is an absolute import: it is SciPy, never this package.
"""
#: (SciPy subpackage, the modules of rules for it), in the order they load
SUBPACKAGES = (
    ("scipy.special", ("special",)),
    ("scipy.stats", ("stats", "stats_multivariate")),
    ("scipy.linalg", ("linalg", "decompositions")),
    ("scipy.signal", ("signal",)),
    ("scipy.fft", ("fft",)),
    ("scipy.integrate", ("integrate",)),
    ("scipy.ndimage", ("ndimage",)),
    ("scipy.spatial.distance", ("spatial",)),
)
