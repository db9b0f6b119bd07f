"""Run the benchmark: `python -m dpnb.bench [--quick] [--filter TEXT]`."""
import argparse
import statistics
import subprocess
import sys
import time

from dpnb import gradient
from dpnb.bench import workloads


def _per_call(fn, args, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return (time.perf_counter() - t0) / number


def _calibrate(fn, args, target=0.02):
    n = 1
    while True:
        t = _per_call(fn, args, n)
        if t * n >= target or n >= 1 << 20:
            return max(1, int(n * target / max(t * n, 1e-9)))
        n *= 4


def steady_state(w, rounds):
    grad = lambda *a: gradient(w.primal, *a)  # noqa: E731
    # correctness first: dpnb must agree with the hand-written gradient
    mine, theirs = grad(*w.args), w.hand(*w.args)
    for a, b in zip(mine, theirs):
        if abs(float(_scalar(a)) - float(_scalar(b))) > 1e-6 * (1 + abs(float(_scalar(b)))):
            raise SystemExit(f"{w.name}: dpnb gives {mine}, the hand-written gradient {theirs}")
    fns = {"primal": w.primal, "hand": w.hand, "dpnb": grad}
    numbers = {k: _calibrate(f, w.args) for k, f in fns.items()}
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            times[k].append(_per_call(f, w.args, numbers[k]))
    return {k: statistics.median(v) for k, v in times.items()}


def _scalar(x):
    import numpy as np

    return np.sum(x) if isinstance(x, np.ndarray) else x


FIRST_CALL = """
import time, sys
from dpnb import gradient
from dpnb.bench import workloads
w = [w for w in workloads.ALL if w.name == sys.argv[1]][0]
t0 = time.perf_counter()
gradient(w.primal, *w.args)
t1 = time.perf_counter()
gradient(w.primal, *w.args)
t2 = time.perf_counter()
print((t1 - t0) - (t2 - t1))
"""


def first_call(w, repeats=3):
    out = []
    for _ in range(repeats):
        r = subprocess.run([sys.executable, "-c", FIRST_CALL, w.name], capture_output=True, text=True, check=True)
        out.append(float(r.stdout.strip()))
    return statistics.median(out)


def _fmt(t):
    return f"{t * 1e6:9.2f} µs" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m dpnb.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    p.add_argument("--filter", default="", help="only workloads whose name contains TEXT")
    a = p.parse_args(argv)
    rounds = 5 if a.quick else 21
    print(f"{'workload':32} {'primal':>12} {'hand-written':>12} {'dpnb':>12} {'dpnb/hand':>10} {'goal':>6} {'dpnb/primal':>12} {'first call':>12}")
    for w in workloads.ALL:
        if a.filter not in w.name:
            continue
        t = steady_state(w, rounds)
        fc = first_call(w, 1 if a.quick else 3)
        ratio = t["dpnb"] / t["hand"]
        print(
            f"{w.name:32} {_fmt(t['primal'])} {_fmt(t['hand'])} {_fmt(t['dpnb'])} {ratio:9.2f}× {w.goal:5.2f}× "
            f"{t['dpnb'] / t['primal']:11.2f}× {_fmt(fc)}"
        )


if __name__ == "__main__":
    main()
