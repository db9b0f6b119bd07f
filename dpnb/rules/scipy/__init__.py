"""Rules for SciPy, loaded by `dpnb.rules` when SciPy is installed: a module per SciPy subpackage.

- `special`: gamma, beta, error, Bessel and logistic functions, `logsumexp`, `softmax`;
- `stats`: densities, distribution functions and their logarithms of `norm`, `t`,
  `gamma`, `beta`, `chi2` and `poisson`; `stats_multivariate`: `multivariate_normal`
  and `dirichlet`;
- `linalg`: `sqrtm`, `expm`, `solve_sylvester`, triangular and Cholesky solves, and
  SciPy's own `inv`, `solve`, `det`, `cholesky`;
- `signal`: `convolve`;
- `integrate`: `odeint`, through the adjoint ODE.

Inside this package `import scipy` is an absolute import: it is SciPy, never this package.
"""
from . import special, stats, stats_multivariate, linalg, signal, integrate  # noqa: F401
