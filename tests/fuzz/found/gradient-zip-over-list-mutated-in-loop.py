# zip over a list that the loop body mutates: dpnb's forward pass sees a snapshot (value 1.6 instead of 1.9), so value and gradient are wrong
# kind=scalar seed=0 status=wrong
# args = (0.3,)
# gradient: wrong [gradient primal value]
#     withgradient gives f = 1.6, the plain call 1.9000000000000001
# jvp: wrong [pullback primal value]
#     pullback gives f = 1.6, the plain call 1.9000000000000001

import math

import numpy as np


def f(x):
    row = [x, 0.5]
    for e, w in zip(row, row):
        row[1] += e
    return sum(row)
