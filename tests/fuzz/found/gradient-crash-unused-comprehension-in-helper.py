# TypeError (None * float) inside dpnb: a helper called with a keyword argument builds an unused list comprehension; the output is constant
# kind=scalar seed=0 status=crashed
# args = (0.466, 0.175)
# gradient: crashed [TypeError: unsupported operand type(s) for *: 'NoneType' and 'float']
#     Traceback (most recent call last):
#       File "/work/wt-fuzz/tests/fuzz/_fuzz_check.py", line 307, in check_gradient
#         y, bars = dpnb.withgradient(f, *_fresh(args))
#                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/api.py", line 199, in withgradient
#         out, _ = _backward(ctx, pb, _seed(y), args)
#                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/api.py", line 62, in _backward
#         bars = pb(dy)
#                ^^^^^^
#       File "/tmp/tmpol77omam/fz_25285_0.py", line 11, in f_pullback
#         def f(x, y):
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 53, in none_run
#         return pb(None)
#                ^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 111, in __call__
#         return self.f(y_bar)
#                ^^^^^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 303, in kw_pullback
#         bars = pb(y_bar)
#                ^^^^^^^^^
#       File "/tmp/tmpol77omam/fz_25285_0.py", line 6, in helper_pullback
#         def helper(p, q):
#     TypeError: unsupported operand type(s) for *: 'NoneType' and 'float'
# jvp: crashed [pullback: TypeError: unsupported operand type(s) for *: 'NoneType' and 'float']
#     Traceback (most recent call last):
#       File "/work/wt-fuzz/tests/fuzz/_fuzz_check.py", line 358, in check_jvp
#         bars = back(u)
#                ^^^^^^^
#       File "/work/wt-fuzz/dpnb/api.py", line 183, in back
#         out, _ = _backward(ctx, pb, dy, args)
#                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/api.py", line 62, in _backward
#         bars = pb(dy)
#                ^^^^^^
#       File "/tmp/tmpol77omam/fz_25285_0.py", line 11, in f_pullback
#         def f(x, y):
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 53, in none_run
#         return pb(None)
#                ^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 111, in __call__
#         return self.f(y_bar)
#                ^^^^^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 303, in kw_pullback
#         bars = pb(y_bar)
#                ^^^^^^^^^
#       File "/tmp/tmpol77omam/fz_25285_0.py", line 6, in helper_pullback
#         def helper(p, q):
#     TypeError: unsupported operand type(s) for *: 'NoneType' and 'float'

import math

import numpy as np


def helper(p, q):
    v = [q for j in range(2)]
    return p * p


def f(x, y):
    t = helper(0.7, q=0.7)
    return 0.7
