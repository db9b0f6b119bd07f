# the Hessian of x*z computed through a nested list is [[0, 1], [0, 0]], not symmetric
# kind=scalar seed=0 status=wrong
# args = (0.5, 0.3)
# hess_target arg = np.array([0.5, 0.3])
# gradient: ok
# jvp: ok
# hessian: wrong [hessian value]
#     column 0: dpnb [0. 0.], differences of the gradient [0. 1.]

import math

import numpy as np


def f(x, z):
    m = [x, [z, x]]
    z *= m[1][1]
    return z


def hess_target(v):
    return f(v[0], v[1])
