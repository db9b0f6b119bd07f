# the Hessian is 0 instead of 2 when the argument is read back from a list (or a dict); tuples are fine
# kind=scalar seed=0 status=wrong
# args = (0.7,)
# hess_target arg = 0.7
# gradient: ok
# jvp: ok
# hessian: wrong [hessian value]
#     column 0: dpnb [0.], differences of the gradient [2.]

import math

import numpy as np


def f(x):
    l = [x]
    return l[0] * l[0]


def hess_target(x):
    return f(x)
