"""The benchmark workloads: each a primal, a hand-written gradient and the arguments."""
import math


class Workload:
    def __init__(self, name, primal, hand, args, goal, setup=None):
        self.name = name
        self.primal = primal
        self.hand = hand
        self.args = args
        self.goal = goal  # target ratio of dpnb to the hand-written gradient (steady state)
        self.setup = setup


# --- scalar Python code ------------------------------------------------------------------

def poly(x):
    return 3 * x**2 + 2 * x + 1


def poly_grad(x):
    return (6 * x + 2,)


def power_loop(x, n=50):
    r = 1.0
    for _ in range(n):
        r *= x
    return r


def power_loop_grad(x, n=50):
    # reverse mode by hand: keep each partial product, walk back
    rs = []
    r = 1.0
    for _ in range(n):
        rs.append(r)
        r *= x
    r_bar, x_bar = 1.0, 0.0
    for r_old in reversed(rs):
        x_bar += r_bar * r_old
        r_bar *= x
    return (x_bar,)


def power_rec(x, n=20):
    return 1.0 if n <= 0 else x * power_rec(x, n - 1)


def _power_rec_vd(x, n):
    if n <= 0:
        return 1.0, 0.0
    v, d = _power_rec_vd(x, n - 1)
    return x * v, v + x * d


def power_rec_grad(x, n=20):
    return (_power_rec_vd(x, n)[1],)


def wave(x):
    if x > 0:
        return math.sin(x) * math.exp(-x) + math.log(1 + x * x)
    return math.cos(x) * x


def wave_grad(x):
    if x > 0:
        s, e = math.sin(x), math.exp(-x)
        return (math.cos(x) * e - s * e + 2 * x / (1 + x * x),)
    return (-math.sin(x) * x + math.cos(x),)


SCALAR = [
    Workload("polynomial 3x²+2x+1", poly, poly_grad, (5.0,), 10.0),
    Workload("50-step product loop", power_loop, power_loop_grad, (1.01,), 3.0),
    Workload("20-deep recursion", power_rec, power_rec_grad, (1.01,), 3.0),
    Workload("math functions with an if", wave, wave_grad, (0.7,), 3.0),
]

ALL = SCALAR
