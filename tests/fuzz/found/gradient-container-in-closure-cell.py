# a dict (or list) that a nested function captures loses its gradient, even if the nested function is never called
# kind=scalar seed=0 status=wrong
# args = (-0.3,)
# gradient: wrong [gradient value]
#     entry 0 (argument 0): dpnb np.float64(0.0), central differences 0.9999999999732445
# jvp: ok

import math

import numpy as np


def f(x):
    d = {'b': x}

    def h(t):
        return d
    return d['b']
