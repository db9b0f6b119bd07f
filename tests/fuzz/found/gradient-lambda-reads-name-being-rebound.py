# `a = (lambda t: a)(1.0) * a` on an array: the lambda reads the old a; the gradient is 0 instead of 2a
# kind=numpy seed=0 status=wrong
# args = (np.array([0.77, 0.004, 0.879, 1.242]),)
# gradient: wrong [gradient value]
#     entry 0 (argument 0[np.int64(0)]): dpnb np.float64(0.0), central differences 1.5399999999665681
#     entry 1 (argument 0[np.int64(1)]): dpnb np.float64(0.0), central differences 0.008000000217833758
#     entry 2 (argument 0[np.int64(2)]): dpnb np.float64(0.0), central differences 1.7580000002404006
#     entry 3 (argument 0[np.int64(3)]): dpnb np.float64(0.0), central differences 2.4839999999137774
# jvp: ok

import numpy as np


def f(a):
    a = (lambda t: a)(1.0) * a
    return np.sum(a)
