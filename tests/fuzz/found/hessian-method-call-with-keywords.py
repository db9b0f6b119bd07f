# the Hessian is 0 when the program calls a method of the argument with keywords (a.sum(axis=1)), even unused: differentiated again, the runtime passed the bound method to a helper whose adjoint took it for a constant
# kind=numpy seed=22000082 status=wrong
# args = (np.array([[0.774, -1.419, -0.768, 1.296], [-1.445, 0.854, 0.43, 1.309], [-1.423, -1.172, 0.314, -0.437]]),)
# hess_target arg = np.array([[0.774, -1.419, -0.768, 1.296], [-1.445, 0.854, 0.43, 1.309], [-1.423, -1.172, 0.314, -0.437]])
# hessian: wrong [hessian value]
#     column 0: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [-0.699001  0.        0.        0.        0.        0.        0.
#       0.        0.        0.        0.        0.      ]
#     column 1: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [0.       0.988501 0.       0.       0.       0.       0.       0.
#      0.       0.       0.       0.      ]
#     column 2: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [0.       0.       0.694698 0.       0.       0.       0.       0.
#      0.       0.       0.       0.      ]
#     column 3: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [ 0.       0.       0.      -0.96248  0.       0.       0.       0.
#       0.       0.       0.       0.     ]

import numpy as np

def f(a):
    a1 = a.sum(axis=1)
    return np.sum(np.sin(a))

def hess_target(w):
    return f(w)
