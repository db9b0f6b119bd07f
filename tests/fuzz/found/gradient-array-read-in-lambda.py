# an array element read inside an immediately called lambda (the array captured from the enclosing function) gets no gradient
# kind=numpy seed=0 status=wrong
# args = (np.array([[-0.365, -1.324, -1.47], [-0.416, -1.444, 1.441]]),)
# gradient: wrong [gradient value]
#     entry 3 (argument 0[np.int64(1), np.int64(0)]): dpnb np.float64(0.0), central differences 1.999999999946489
# jvp: ok

import numpy as np


def f(a):
    b = a + a
    return (lambda t: b[1, 0])(0.0)
