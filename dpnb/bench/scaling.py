"""`python -m dpnb.bench --scaling`: how the cost of a gradient grows with the work.

Each family runs one workload at several sizes and prints, per size, the time of
dpnb's gradient and of a hand-written reverse pass (medians of interleaved rounds,
with their spread), their ratio, and the peak memory of each (tracemalloc, which
sees NumPy's buffers). For loops and recursion the figures are also given per
iteration (or level): flat columns mean the cost grows linearly with the work.
"""
import math
import statistics
import sys
import time
import tracemalloc

import numpy as np

from dpnb import gradient
from dpnb.bench import leaves, workloads


# --- scalar loops ----------------------------------------------------------------------------

def sin_loop(x, n):
    s = 0.0
    for i in range(n):
        s += math.sin(x * i)
    return s


def sin_loop_grad(x, n):
    # the reverse pass by hand: keep each sine's argument, walk back
    ts = []
    s = 0.0
    for i in range(n):
        t = x * i
        ts.append(t)
        s += math.sin(t)
    x_bar = 0.0
    for i in range(n - 1, -1, -1):
        x_bar += math.cos(ts[i]) * i
    return (x_bar, None)


def append_loop(x, n):
    xs = []
    for i in range(n):
        xs.append(math.sin(x * i))
    return sum(xs)


def append_loop_grad(x, n):
    ts = []
    xs = []
    for i in range(n):
        t = x * i
        ts.append(t)
        xs.append(math.sin(t))
    s = sum(xs)
    x_bar = 0.0
    for i in range(n - 1, -1, -1):
        x_bar += math.cos(ts[i]) * i
    return (x_bar, None)


# --- recursion ---------------------------------------------------------------------------------

def power_rec(x, n):
    return 1.0 if n <= 0 else x * power_rec(x, n - 1)


def power_rec_grad(x, n):
    # reverse mode by hand: the recursion keeps each partial result, a loop walks back
    vs = []

    def fwd(k):
        if k <= 0:
            return 1.0
        v = fwd(k - 1)
        vs.append(v)
        return x * v

    fwd(n)
    x_bar, y_bar = 0.0, 1.0
    for v in reversed(vs):
        x_bar += y_bar * v
        y_bar *= x
    return (x_bar, None)


# --- arrays ------------------------------------------------------------------------------------

def _mlp_args(d, batch=64, rng=None):
    rng = rng or np.random.default_rng(0)
    layers = [
        workloads.Linear(rng.standard_normal((m, k)) / np.sqrt(m), np.zeros(k))
        for m, k in ((d, d), (d, 10))
    ]
    return workloads.MLP(layers), rng.standard_normal((batch, d)), rng.standard_normal((batch, 10))


class Family:
    def __init__(self, name, primal, hand, sizes, make_args, unit, per_item, rounds, model_only=False):
        self.name, self.primal, self.hand = name, primal, hand
        self.model_only = model_only  # the hand-written gradient covers the first argument only
        self.sizes, self.make_args, self.unit, self.per_item, self.rounds = sizes, make_args, unit, per_item, rounds


def families(quick=False):
    rng = np.random.default_rng(0)
    loop_sizes = (10, 10**3, 10**5) if quick else (10, 10**3, 10**5, 10**6)
    array_sizes = (10**2, 10**4, 10**6) if quick else (10**2, 10**4, 10**6, 10**7)
    mlp_sizes = (10, 100, 1000) if quick else (10, 100, 1000, 3162)
    return [
        Family("scalar loop  s += sin(x·i)", sin_loop, sin_loop_grad, loop_sizes, lambda n: (0.3, n), "iteration", True, 5),
        Family("loop appending to a list", append_loop, append_loop_grad, loop_sizes, lambda n: (0.3, n), "iteration", True, 5),
        Family("recursion  x·f(x, n-1)", power_rec, power_rec_grad, (10, 100, 1000, 2000), lambda n: (1.0001, n), "level", True, 7),
        Family("sum(sin·exp/(1+x²))", workloads.elementwise, workloads.elementwise_grad, array_sizes,
               lambda n: (rng.standard_normal(n),), "element", False, 5),
        Family("tanh MLP d→d→10, batch 64", workloads.mlp_loss, workloads.mlp_loss_grad, mlp_sizes,
               lambda d: _mlp_args(d, rng=rng), "d", False, 5, model_only=True),
    ]


def _once(fn, args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def _per_call(fn, args, budget=0.05):
    """Seconds per call, repeating a fast call until `budget` has passed."""
    t = _once(fn, args)
    if t >= budget:
        return t
    n = max(1, int(budget / max(t, 1e-7)))
    t0 = time.perf_counter()
    for _ in range(n):
        fn(*args)
    return (time.perf_counter() - t0) / n


def _peak(fn, args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak


def _bytes(b):
    for unit, k in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= k:
            return f"{b / k:.1f} {unit}"
    return f"{b} B"


def _time(t):
    if t < 1e-6:
        return f"{t * 1e9:.0f} ns"
    if t < 1e-3:
        return f"{t * 1e6:.2f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def _spread(xs):
    m = statistics.median(xs)
    return f"{_time(m)} ({_time(min(xs))}–{_time(max(xs))})"


def run_family(fam, quick=False, out=sys.stdout):
    grad = lambda *a: gradient(fam.primal, *a)  # noqa: E731
    print(f"\n{fam.name}", file=out)
    per = f"per {fam.unit}" if fam.per_item else ""
    print(f"{'size':>9} {'dpnb (min–max)':>34} {'hand-written (min–max)':>34} {'ratio':>12} "
          f"{'peak dpnb':>10} {'peak hand':>10} {'mem ratio':>9}  {per}", file=out)
    for n in fam.sizes:
        args = fam.make_args(n)
        # the two must agree before they are timed
        mine, theirs = grad(*args), fam.hand(*args)
        if fam.model_only:
            mine = mine[0]
        a = sum(float(np.sum(v)) for v in leaves(mine))
        b = sum(float(np.sum(v)) for v in leaves(theirs))
        if abs(a - b) > 1e-6 * (1 + abs(b)):
            raise SystemExit(f"{fam.name}, size {n}: dpnb and the hand-written gradient disagree ({a} vs {b})")
        big = _once(grad, args) > 0.5
        rounds = 3 if (quick or big) else fam.rounds
        td, th, ratios = [], [], []
        for _ in range(rounds):
            d, h = _per_call(grad, args), _per_call(fam.hand, args)
            td.append(d)
            th.append(h)
            ratios.append(d / h)
        pd, ph = _peak(grad, args), _peak(fam.hand, args)
        r = statistics.median(ratios)
        line = (f"{n:>9} {_spread(td):>34} {_spread(th):>34} {r:6.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) "
                f"{_bytes(pd):>10} {_bytes(ph):>10} {pd / max(ph, 1):8.2f}×")
        if fam.per_item:
            line += f"  {_time(statistics.median(td) / n)} and {_bytes(pd / n)} vs {_time(statistics.median(th) / n)} and {_bytes(ph / n)}"
        print(line, file=out, flush=True)


def main(quick=False, filter_text=""):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
    for fam in families(quick):
        if filter_text in fam.name:
            run_family(fam, quick)
