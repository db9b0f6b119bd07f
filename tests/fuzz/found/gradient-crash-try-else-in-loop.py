# TypeError ('>=' between None and int) inside dpnb: try/except/else with a raise, inside a for loop; the call after the raise never runs (FUNCS is not even defined); with `w = x` there instead it passes
# kind=scalar seed=0 status=crashed
# args = (-0.091, 0.314)
# gradient: crashed [TypeError: '>=' not supported between instances of 'NoneType' and 'int']
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
#       File "/tmp/tmpnfep1h_f/fz_25365_0.py", line 6, in f_pullback
#         def f(x, y):
#     TypeError: '>=' not supported between instances of 'NoneType' and 'int'
# jvp: crashed [pullback: TypeError: '>=' not supported between instances of 'NoneType' and 'int']
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
#       File "/tmp/tmpnfep1h_f/fz_25365_0.py", line 6, in f_pullback
#         def f(x, y):
#     TypeError: '>=' not supported between instances of 'NoneType' and 'int'

import math

import numpy as np


def f(x, y):
    v = x
    for i in range(1):
        try:
            if 0.56:
                raise ValueError
            w = FUNCS(x)
        except ValueError:
            pass
        else:
            pass
    return v
