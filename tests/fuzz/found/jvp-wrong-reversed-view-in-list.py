# jvp disagrees with pullback (and with differences) when a reversed view of the argument is kept in a list
# kind=numpy seed=0 status=wrong
# args = (np.array([[0.126, -0.132, 0.64, 0.105], [-0.536, 0.362, 1.304, 0.947], [-0.704, -1.265, -0.623, 0.041]]),)
# gradient: ok
# jvp: wrong [jvp disagrees with pullback and differences]
#     u = 1.3574042765875693, t = ([[ 0.1257 -0.1321  0.6404  0.1049]
#      [-0.5357  0.3616  1.304   0.9471]
#      [-0.7037 -1.2654 -0.6233  0.0413]])
#     jvp: J·t = 0.06710826225458433; pullback: <J^T u, t>/u = 0.0041170906198101116; central differences along t: 0.0041170906961429665

import numpy as np


def f(a):
    l = [a[:, ::-1]]
    l.append(a)
    return np.sum(np.sin(a))
