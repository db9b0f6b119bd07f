# a view of an argument, freed after the forward pass and read after the argument was changed in place, sent its gradient around the change (1.0 where 2.0 is right)
# kind=numpy seed=12000259 status=wrong
# args = (np.array([[-0.283, -0.636, 1.419, 0.537], [-1.369, 0.327, 1.351, -1.489], [1.139, -1.188, -0.648, 0.392]]), np.array([-0.844, -1.205, 0.335, 0.477]))
# hess_target arg = np.array([[-0.283, -0.636, 1.419, 0.537], [-1.369, 0.327, 1.351, -1.489], [1.139, -1.188, -0.648, 0.392]])
# gradient: wrong [gradient value]
#     entry 0 (argument 0[np.int64(0), np.int64(0)]): dpnb np.float64(1.0), central differences 2.0000000000575113
#     entry 1 (argument 0[np.int64(0), np.int64(1)]): dpnb np.float64(1.0), central differences 2.0000000000575113
#     entry 2 (argument 0[np.int64(0), np.int64(2)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 3 (argument 0[np.int64(0), np.int64(3)]): dpnb np.float64(1.0), central differences 2.0000000000575113
#     entry 4 (argument 0[np.int64(1), np.int64(0)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 5 (argument 0[np.int64(1), np.int64(1)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 6 (argument 0[np.int64(1), np.int64(2)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 7 (argument 0[np.int64(1), np.int64(3)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 8 (argument 0[np.int64(2), np.int64(0)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 9 (argument 0[np.int64(2), np.int64(1)]): dpnb np.float64(1.0), central differences 1.9999999998354667
#     entry 10 (argument 0[np.int64(2), np.int64(2)]): dpnb np.float64(1.0), central differences 2.0000000000575113
#     entry 11 (argument 0[np.int64(2), np.int64(3)]): dpnb np.float64(1.0), central differences 1.999999999946489

import numpy as np

def f(a, b):
    z1 = a
    a3 = z1.reshape((4, 3))
    z1[0:] += a
    return np.sum(a3)
FIXED_b = np.array([-0.844, -1.205, 0.335, 0.477])

def hess_target(w):
    return f(w, FIXED_b)
