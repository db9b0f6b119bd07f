# `def h7(t, s=t6)`: a default value computed from a differentiated value; the Hessian lost the path through it (2 is right)
# kind=scalar seed=21000687 status=wrong
# args = (0.022, 0.084, -1.398)
# hess_target arg = np.array([0.022, 0.084, -1.398])
# gradient: ok
# jvp: ok
# hessian: wrong [hessian value]
#     column 1: dpnb [0. 0. 0.], differences of the gradient [0. 2. 0.]

def f(x, y, z):

    def h5(t6):

        def h7(t, s=t6):
            return t * s
        return h7(t6)
    v8 = h5(y)
    return v8

def hess_target(v):
    return f(v[0], v[1], v[2])
