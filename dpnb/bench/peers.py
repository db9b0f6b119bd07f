"""`python -m dpnb.bench --peers`: the benchmark's workloads through the other Python tools.

autograd, JAX (`jax.grad`, and `jax.jit` of it) and PyTorch run when they can be
imported (`pip install dpnb[bench]`). Every tool's gradient is checked against the
hand-written one, then all are timed in turn, round after round (interleaved, so a
drift of the machine's speed reaches all alike), and each prints its median ratio
to the hand-written gradient with the spread over rounds. A tool that cannot run
a workload (JAX's `jit` does not trace a Python `if` on a traced value) shows `—`.
"""
import statistics
import sys
import time

import numpy as np

from dpnb import gradient
from dpnb.bench import workloads


def _programs(xp):
    """The workloads written once against a NumPy-like module `xp`."""

    def poly(x):
        return 3 * x**2 + 2 * x + 1

    def power_loop(x):
        r = 1.0
        for _ in range(50):
            r = r * x
        return r

    def power_rec(x, n=20):
        return 1.0 if n <= 0 else x * power_rec(x, n - 1)

    def wave(x):
        if x > 0:
            return xp.sin(x) * xp.exp(-x) + xp.log(1 + x * x)
        return xp.cos(x) * x

    def affine_sum(W, x, b):
        return xp.sum(W @ x + b)

    def mlp(W1, b1, W2, b2, x, y):
        h = xp.tanh(x @ W1 + b1)
        out = xp.tanh(h @ W2 + b2)
        return xp.mean((out - y) ** 2)

    def elementwise(x):
        return xp.sum(xp.sin(x) * xp.exp(x) / (1 + x**2))

    return {
        "polynomial": (poly, 1), "product loop": (power_loop, 1), "recursion": (power_rec, 1),
        "math functions": (wave, 1), "sum(W@x+b)": (affine_sum, 3), "MLP (classes)": (mlp, 4),
        "sum(sin·exp": (elementwise, 1),
    }


def _key(w):
    for k in ("polynomial", "product loop", "recursion", "math functions", "sum(W@x+b)", "MLP (classes)", "sum(sin·exp"):
        if k in w.name:
            return k
    return None


def _args(w):
    """The arguments of the peers' program: the MLP's weights come first, as plain arrays."""
    if "MLP" in w.name:
        model, x, y = w.args
        (l1, l2) = model.layers
        return (l1.W, l1.b, l2.W, l2.b, x, y)
    return w.args


class Peer:
    name = ""

    def prepare(self, key, args):
        """A function of no arguments computing the gradient, or None if this tool cannot run it."""
        raise NotImplementedError

    def check(self, fn):
        return [np.asarray(g, dtype=float) for g in fn()]


class Autograd(Peer):
    name = "autograd"

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        self.grad = autograd.grad
        self.progs = _programs(anp)

    def prepare(self, key, args):
        f, k = self.progs[key]
        rest = args[k:]
        g = self.grad(lambda p: f(*p, *rest))
        p = tuple(args[:k])
        return lambda: g(p)


class Jax(Peer):
    name = "jax.grad"
    jit = False

    def __init__(self):
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax = jax
        self.progs = _programs(jnp)

    def prepare(self, key, args):
        jax = self.jax
        f, k = self.progs[key]
        g = jax.grad(f, argnums=tuple(range(k)))
        if self.jit:
            g = jax.jit(g)
        ja = tuple(jax.numpy.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
        fn = lambda: jax.block_until_ready(g(*ja))  # noqa: E731
        try:
            fn()
        except Exception:  # a Python `if` on a traced value, under jit
            return None
        return fn


class JaxJit(Jax):
    name = "jax.jit"
    jit = True


class Torch(Peer):
    name = "PyTorch"

    def __init__(self):
        import torch

        self.torch = torch
        self.progs = _programs(torch)

    def prepare(self, key, args):
        torch = self.torch
        f, k = self.progs[key]

        def leaf(a):
            if isinstance(a, np.ndarray):
                return torch.from_numpy(a).requires_grad_()
            return torch.tensor(a, dtype=torch.float64, requires_grad=True)

        rest = tuple(torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args[k:])
        head = args[:k]

        def fn():
            ts = [leaf(a) for a in head]
            return torch.autograd.grad(f(*ts, *rest), ts)

        return fn

    def check(self, fn):
        return [g.detach().numpy() for g in fn()]


def available():
    out = []
    for cls in (Autograd, Jax, JaxJit, Torch):
        try:
            out.append(cls())
        except ImportError:
            print(f"({cls.name} is not installed: skipped)", file=sys.stderr)
    return out


def _per_call(fn, budget=0.02):
    t0 = time.perf_counter()
    fn()
    t = time.perf_counter() - t0
    n = max(1, int(budget / max(t, 1e-7)))
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def _total(gs):
    return sum(float(np.sum(g)) for g in gs)


def main(quick=False, filter_text=""):
    peers = available()
    rounds = 5 if quick else 15
    names = ["dpnb"] + [p.name for p in peers]
    print(f"ratio to the hand-written gradient: median (min–max) of {rounds} interleaved rounds")
    print(f"{'workload':32} {'hand-written':>12} " + " ".join(f"{n:>19}" for n in names))
    for w in workloads.ALL:
        key = _key(w)
        if key is None or filter_text not in w.name:
            continue
        args = _args(w)
        k = workloads_arity(key)
        hand_total = _total(_hand_leaves(w))
        fns = {"hand": lambda w=w: w.hand(*w.args), "dpnb": lambda w=w: gradient(w.primal, *w.args)}
        for p in peers:
            fn = p.prepare(key, args)
            if fn is not None:
                got = _total(p.check(fn)[:k])
                if abs(got - hand_total) > 1e-6 * (1 + abs(hand_total)):
                    raise SystemExit(f"{w.name}: {p.name} and the hand-written gradient disagree ({got} vs {hand_total})")
            fns[p.name] = fn
        times = {n: [] for n in fns}
        for _ in range(rounds):
            for n, fn in fns.items():
                if fn is not None:
                    times[n].append(_per_call(fn))
        hand = times["hand"]
        cells = []
        for n in names:
            if fns.get(n) is None:
                cells.append(f"{'—':>19}")
                continue
            r = [a / b for a, b in zip(times[n], hand)]
            cells.append(f"{_g(statistics.median(r))}× ({_g(min(r))}–{_g(max(r))})".rjust(19))
        print(f"{w.name:32} {_fmt(statistics.median(hand)):>12} " + " ".join(cells), flush=True)


def workloads_arity(key):
    return {"sum(W@x+b)": 3, "MLP (classes)": 4}.get(key, 1)


def _hand_leaves(w):
    g = w.hand(*w.args)
    out = []
    for v in g:
        if isinstance(v, (list, tuple)):
            out.extend(v)
        else:
            out.append(v)
    return [np.asarray(v, dtype=float) for v in out]


def _g(r):
    return f"{r:.2f}" if r < 10 else f"{r:.3g}" if r < 1000 else f"{r:.0f}"


def _fmt(t):
    return f"{t * 1e6:.2f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"
