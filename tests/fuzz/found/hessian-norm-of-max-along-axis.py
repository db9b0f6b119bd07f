# the Hessian is 0 through a.max(axis=0) (a method called with keywords), as in hessian-method-call-with-keywords.py
# kind=numpy seed=22000410 status=wrong
# args = (np.array([[0.472, -1.099, -1.419, 1.159], [0.424, 0.126, 0.761, 0.82], [0.264, 0.729, -1.035, 1.426]]),)
# hess_target arg = np.array([[0.472, -1.099, -1.419, 1.159], [0.424, 0.126, 0.761, 0.82], [0.264, 0.729, -1.035, 1.426]])
# hessian: wrong [hessian value]
#     column 0: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [ 0.508929  0.        0.        0.        0.        0.       -0.058143
#       0.        0.       -0.055698  0.       -0.108951]
#     column 6: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [-0.058143  0.        0.        0.        0.        0.        0.451249
#       0.        0.       -0.089801  0.       -0.17566 ]
#     column 9: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [-0.055698  0.        0.        0.        0.        0.       -0.089801
#       0.        0.        0.458967  0.       -0.168274]
#     column 11: dpnb [0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0. 0.], differences of the gradient [-0.108951  0.        0.        0.        0.        0.       -0.17566
#       0.        0.       -0.168274  0.        0.21583 ]

import numpy as np

def f(a):
    s4 = np.linalg.norm(a.max(axis=0))
    return s4

def hess_target(w):
    return f(w)
