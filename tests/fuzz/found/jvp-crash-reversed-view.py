# jvp raises IndexError in as_strided_pullback for a reversed view of a 1-d array
# kind=numpy seed=0 status=crashed
# args = (np.array([0.697, 1.168, 0.35, 0.222]),)
# gradient: ok
# jvp: crashed [IndexError: index N is out of bounds for axis N with size N]
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 51, in none_run
#         return pb(None)
#                ^^^^^^^^
#       File "/work/wt-fuzz/dpnb/api.py", line 56, in backward_pullback
#         def _backward(ctx, pb, dy, args):
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 51, in none_run
#         return pb(None)
#                ^^^^^^^^
#       File "/tmp/tmpizm0gmc6/fz_24179_5.py", line 4, in f_pullback_pullback
#         def f(a):
#       File "/work/wt-fuzz/dpnb/core/heap.py", line 553, in take_pullback
#         def take(ctx, v, bar):
#       File "/work/wt-fuzz/dpnb/core/heap.py", line 398, in array_take_pullback
#         def array_take(ctx, v):
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 51, in none_run
#         return pb(None)
#                ^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/heap.py", line 242, in window_pullback
#         def _window(acc, root, v):
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 111, in __call__
#         return self.f(y_bar)
#                ^^^^^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 203, in rule_kw_pullback
#         bars = pb(y_bar)
#                ^^^^^^^^^
#       File "/work/wt-fuzz/dpnb/core/runtime.py", line 1324, in as_strided_pullback
#         np.add.at(flat, idx, y_bar)
#     IndexError: index -2 is out of bounds for axis 0 with size 1

import numpy as np


def f(a):
    b = a[::-1]
    return np.sum(b)
