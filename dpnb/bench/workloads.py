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
    Workload("polynomial 3x²+2x+1", poly, poly_grad, (5.0,), 5.0),
    Workload("50-step product loop", power_loop, power_loop_grad, (1.01,), 2.0),
    Workload("20-deep recursion", power_rec, power_rec_grad, (1.01,), 3.0),
    Workload("math functions with an if", wave, wave_grad, (0.7,), 3.0),
]

# --- NumPy code ----------------------------------------------------------------------------

import numpy as np  # noqa: E402

_rng = np.random.default_rng(0)


def affine_sum(W, x, b):
    return np.sum(W @ x + b)


def affine_sum_grad(W, x, b):
    ones = np.ones(W.shape[0])
    return np.outer(ones, x), W.T @ ones, ones


def elementwise(x):
    return np.sum(np.sin(x) * np.exp(x) / (1 + x**2))


def elementwise_grad(x):
    s, e = np.sin(x), np.exp(x)
    d = 1 + x**2
    return ((np.cos(x) * e + s * e) / d - s * e * 2 * x / d**2,)


class Linear:
    """A dense layer with tanh, as a user would write it."""

    def __init__(self, W, b):
        self.W = W
        self.b = b

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)


class MLP:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def mlp_loss(model, x, y):
    return np.mean((model(x) - y) ** 2)


def mlp_loss_grad(model, x, y):
    # by hand: forward keeping activations, then the chain rule layer by layer
    acts = [x]
    for layer in model.layers:
        acts.append(np.tanh(acts[-1] @ layer.W + layer.b))
    out = acts[-1]
    g = 2 * (out - y) / out.size
    grads = []
    for layer, a_in, a_out in zip(reversed(model.layers), reversed(acts[:-1]), reversed(acts[1:])):
        g = g * (1 - a_out**2)
        grads.append((a_in.T @ g, g.sum(axis=0)))
        g = g @ layer.W.T
    return grads[::-1]


def _mlp(sizes=(784, 256, 10), batch=64):
    layers = [
        Linear(_rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])
    ]
    return MLP(layers), _rng.standard_normal((batch, sizes[0])), _rng.standard_normal((batch, sizes[-1]))


MLP_MODEL, MLP_X, MLP_Y = _mlp()


def mlp_params_loss():
    return mlp_loss(MLP_MODEL, MLP_X, MLP_Y)


def mlp_params_grad():
    return mlp_loss_grad(MLP_MODEL, MLP_X, MLP_Y)


NUMPY = [
    Workload("sum(W@x+b), W 100×100", affine_sum, affine_sum_grad,
             (_rng.standard_normal((100, 100)), _rng.standard_normal(100), _rng.standard_normal(100)), 1.3),
    Workload("784→256→10 tanh MLP (classes)", mlp_loss, mlp_loss_grad, (MLP_MODEL, MLP_X, MLP_Y), 1.1),
    Workload("same MLP through Params", mlp_params_loss, mlp_params_grad, (), 1.3, setup="params"),
    Workload("sum(sin·exp/(1+x²)), 10⁶", elementwise, elementwise_grad, (_rng.standard_normal(10**6),), 1.15),
]

ALL = SCALAR + NUMPY


# --- second order ---------------------------------------------------------------------------

HESS_A = _rng.standard_normal((100, 100))
HESS_A = HESS_A @ HESS_A.T / 100
HESS_X = _rng.standard_normal(100)


def hess_f(x):
    return 0.5 * x @ (HESS_A @ x) + np.sum(np.sin(x))


def hess_f_loop(x):
    """hess_f with its sum written as a loop: outside the straight-line code compiled for
    forward over reverse, so `hessian` takes its columns (reverse over reverse)."""
    s = 0.5 * x @ (HESS_A @ x)
    for i in range(x.size):
        s = s + np.sin(x[i])
    return s


def hess_hvp(x, v):
    """A hand-written Hessian-vector product of hess_f."""
    return HESS_A @ v - np.sin(x) * v


def hess_hand(x):
    """The Hessian by hand, one Hessian-vector product per column."""
    return np.stack([hess_hvp(x, e) for e in np.eye(x.size)], axis=1)


# --- the `*args` form of a call -------------------------------------------------------------

STAR_W = _rng.standard_normal((100, 100))
STAR_B = _rng.standard_normal(100)
STAR_X = _rng.standard_normal(100)


def affine_wbx(W, b, x):
    return np.sum(W @ x + b)


star_form = lambda *w: affine_wbx(*w, STAR_X)  # noqa: E731
explicit_form = lambda W, b: affine_wbx(W, b, STAR_X)  # noqa: E731
