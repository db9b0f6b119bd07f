# NameError inside dpnb: a value produced by a rule (math.exp) and captured by a nested function
# kind=scalar seed=0 status=crashed
# args = (0.059,)
# gradient: crashed [NameError: cannot access free variable 'v' where it is not associated with a value in enclosing scope]
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
#       File "/tmp/tmpizm0gmc6/fz_24179_4.py", line 4, in f_pullback
#         def f(z):
#     NameError: cannot access free variable 'v' where it is not associated with a value in enclosing scope
# jvp: crashed [pullback: NameError: cannot access free variable 'v' where it is not associated with a value in enclosing scope]
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
#       File "/tmp/tmpizm0gmc6/fz_24179_4.py", line 4, in f_pullback
#         def f(z):
#     NameError: cannot access free variable 'v' where it is not associated with a value in enclosing scope

import math


def f(z):
    v = math.exp(z)

    def h(t):
        return v
    return v
