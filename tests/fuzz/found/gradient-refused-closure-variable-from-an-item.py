# a variable that a nested function captures, bound to an item of a dict, was refused when no
# cotangent reached it ("a cotangent of type tuple reached a dict"): the pullback of the item,
# run with none, gave an empty tuple where one cotangent was expected (fuzz seed 81, program 260,
# shrunk)
# kind=scalar seed=81000503 status=refused
# args = (-0.005, 0.409, -0.009)
# gradient: refused [DifferentiationError: a cotangent of type tuple reached a dict]
# jvp: refused [pullback: DifferentiationError: a cotangent of type tuple reached a dict]

COEFS = [0.3, 1.1, -0.5]


def f(x, y, z):
    d7 = {'a': COEFS[1] - z}
    i22 = 0
    while i22 < 4:
        i22 += 1
        if x > 0.09 and d7['a'] < 0.29:
            x = x * 1.5 + -1.37
        else:
            acc26 = d7['a']

            def h27(t):
                nonlocal acc26
    return x + sum(d7.values())
