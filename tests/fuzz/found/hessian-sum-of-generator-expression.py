# the Hessian of y * sum(v for v in [x, y, y]) lost the second derivative through the generator
# expression: sum read the iterator dpnb's runtime makes for it by Python's own `next`, which the
# second differentiation could not see ([[0, 1], [0, 2]], not [[0, 1], [1, 4]])
# kind=scalar seed=21000175 status=wrong
# args = (-0.807, -1.134)
# hess_target arg = np.array([-0.807, -1.134])
# gradient: ok
# jvp: ok
# hessian: wrong [hessian value]
#     column 0: dpnb [0. 0.], differences of the gradient [0. 1.]
#     column 1: dpnb [1. 2.], differences of the gradient [1. 4.]

import math

import numpy as np


def f(x, y):
    l2 = [x, y, y]
    return y * sum(v for v in l2)


def hess_target(v):
    return f(v[0], v[1])
