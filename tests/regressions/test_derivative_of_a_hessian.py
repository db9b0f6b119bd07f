"""A Hessian inside a differentiated function: dpnb followed `hessian`'s batched forward over
reverse, whose cache of built code keeps weak references (NoRuleError: weakref.ReferenceType,
for `jacobian(lambda v: hessian(f, v), x)` of loop-free array code). Differentiated, a Hessian is
the Jacobian of the gradient. Checked against differences of the Hessian."""
import numpy as np

import dpnb


def _f(x):
    return np.sum(np.sin(x) * x[0])


def test_the_jacobian_of_a_hessian_against_differences():
    x = np.array([0.3, -0.7])
    (J,) = dpnb.jacobian(lambda v: dpnb.hessian(_f, v), x)
    eps = 1e-5
    N = np.stack([(dpnb.hessian(_f, x + eps * e) - dpnb.hessian(_f, x - eps * e)) / (2 * eps) for e in np.eye(2)], -1)
    assert J.shape == (2, 2, 2)
    assert np.allclose(J, N, rtol=1e-5, atol=1e-6)
