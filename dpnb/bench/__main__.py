"""Run the benchmark: `python -m dpnb.bench [--quick] [--filter TEXT] [--scaling] [--peers] [--viz]`; with
`--dask [--sizes N,...] [--chunk N]`, the least-squares gradient on a local Dask cluster instead."""
import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

from dpnb import Params, gradient
from dpnb.bench import leaves, workloads


def peak_memory(fn, args):
    """Peak bytes allocated (tracemalloc sees NumPy's buffers) during one call."""
    import tracemalloc

    fn(*args)
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


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


def _grad_fn(w):
    if w.setup == "params":
        ps = Params([p for layer in workloads.MLP_MODEL.layers for p in (layer.W, layer.b)])
        return lambda: gradient(w.primal, ps)
    return lambda *a: gradient(w.primal, *a)


def steady_state(w, rounds):
    grad = _grad_fn(w)
    # correctness first: dpnb must agree with the hand-written gradient
    mine, theirs = grad(*w.args), w.hand(*w.args)
    if "classes" in w.name:  # the hand-written gradient covers the model only
        mine = mine[0]
    mine, theirs = leaves(mine), leaves(theirs)
    total_mine = sum(float(np.sum(a)) for a in mine)
    total_theirs = sum(float(np.sum(b)) for b in theirs)
    if abs(total_mine - total_theirs) > 1e-6 * (1 + abs(total_theirs)):
        raise SystemExit(f"{w.name}: dpnb and the hand-written gradient disagree ({total_mine} vs {total_theirs})")
    # each timed as one call written as a user writes it: `hand(x)` against `gradient(f, x)`
    if w.setup == "params":
        mine = (grad, w.args)
    else:
        mine = (gradient, (w.primal, *w.args))
    fns = {"primal": (w.primal, w.args), "hand": (w.hand, w.args), "dpnb": mine}
    numbers = {k: _calibrate(f, a) for k, (f, a) in fns.items()}
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, (f, a) in fns.items():
            times[k].append(_per_call(f, a, numbers[k]))
    out = {k: statistics.median(v) for k, v in times.items()}
    # the spread: dpnb against the hand-written gradient round by round (each round interleaved)
    ratios = sorted(d / h for d, h in zip(times["dpnb"], times["hand"]))
    out["spread"] = (ratios[len(ratios) // 10], ratios[-1 - len(ratios) // 10])
    return out


FIRST_CALL = """
import time, sys
import numpy as np

from dpnb import Params, gradient
from dpnb.bench import workloads
from dpnb.bench.__main__ import _grad_fn
w = [w for w in workloads.ALL if w.name == sys.argv[1]][0]
grad = _grad_fn(w)
t0 = time.perf_counter()
grad(*w.args)
t1 = time.perf_counter()
grad(*w.args)
t2 = time.perf_counter()
print((t1 - t0) - (t2 - t1))
"""


FIRST_ABSOLUTE = """
import time, sys
import numpy as np

from dpnb.bench import workloads
w = [w for w in workloads.ALL if w.name == sys.argv[1]][0]
if sys.argv[2] == "hand":  # what the goal adds 5 ms to: the first primal and first hand-written gradient
    t0 = time.perf_counter()
    w.primal(*w.args)
    w.hand(*w.args)
else:
    from dpnb.bench.__main__ import _grad_fn
    grad = _grad_fn(w)
    t0 = time.perf_counter()
    grad(*w.args)
print(time.perf_counter() - t0)
"""


STEADY_STATE = """
import json, sys
from dpnb.bench import workloads
from dpnb.bench.__main__ import steady_state
w = [w for w in workloads.ALL if w.name == sys.argv[1]][0]
print(json.dumps(steady_state(w, int(sys.argv[2]))))
"""


def steady_state_alone(w, rounds):
    """`steady_state` in a process of its own: the memory one workload allocates and frees (how
    the C allocator then places the next large arrays) does not change the figures of the next."""
    import json

    r = subprocess.run([sys.executable, "-c", STEADY_STATE, w.name, str(rounds)], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"{w.name}: failed")
    return json.loads(r.stdout.strip().splitlines()[-1])


IMPORT = """
import time
import numpy
t0 = time.perf_counter()
import dpnb
print(time.perf_counter() - t0)
"""


def _fresh(script, repeats, *args):
    """The median of the seconds `script` prints, each run in a fresh process."""
    out = []
    for _ in range(repeats):
        r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
        out.append(float(r.stdout.strip()))
    return statistics.median(out)


def import_time(repeats=3):
    """`import dpnb` beyond `import numpy`, in fresh processes (the median)."""
    return _fresh(IMPORT, repeats)


def first_call(w, repeats=3):
    return _fresh(FIRST_CALL, repeats, w.name)


def _fmt(t):
    return f"{t * 1e6:9.2f} µs" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m dpnb.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    p.add_argument("--filter", default="", help="only workloads whose name contains TEXT")
    p.add_argument("--dask", action="store_true", help="the least-squares gradient on a local Dask cluster")
    p.add_argument("--sizes", default="1e6,1e7,1e8", help="with --dask: elements of the data (comma-separated)")
    p.add_argument("--chunk", default="1e6", help="with --dask: elements per chunk")
    p.add_argument("--scaling", action="store_true",
                   help="how the cost grows with the work: loops, recursion and arrays across sizes")
    p.add_argument("--viz", action="store_true",
                   help="the notebook tools: pullback graphs of the MLP and a loop, a slider move of explore")
    p.add_argument("--peers", action="store_true",
                   help="the same workloads through autograd, JAX and PyTorch (those installed), interleaved")
    a = p.parse_args(argv)
    if a.dask:
        from dpnb.bench import dask_bench

        sizes = [int(float(s)) for s in a.sizes.split(",")]
        dask_bench.run(sizes, int(float(a.chunk)), rounds=2 if a.quick else 3)
        return
    if a.scaling:
        from dpnb.bench import scaling

        return scaling.main(a.quick, a.filter)
    if a.viz:
        from dpnb.bench import viz_bench

        return viz_bench.main(a.quick)
    if a.peers:
        from dpnb.bench import peers

        return peers.main(a.quick, a.filter)
    rounds = 5 if a.quick else 21
    print(f"{'workload':32} {'primal':>12} {'hand-written':>12} {'dpnb':>12} {'dpnb/hand':>10} {'rounds 10–90%':>14} {'goal':>6} "
          f"{'dpnb/primal':>12} {'first call':>12}")
    for w in workloads.ALL:
        if a.filter not in w.name:
            continue
        t = steady_state_alone(w, rounds)
        fc = first_call(w, 1 if a.quick else 3)
        ratio = t["dpnb"] / t["hand"]
        lo, hi = t["spread"]
        print(
            f"{w.name:32} {_fmt(t['primal'])} {_fmt(t['hand'])} {_fmt(t['dpnb'])} {ratio:9.2f}× {f'{lo:.2f}–{hi:.2f}':>14} "
            f"{w.goal:5.2f}× {t['dpnb'] / t['primal']:11.2f}× {_fmt(fc)}",
            flush=True,
        )
    firsts = [w for w in workloads.NUMPY if a.filter in w.name]
    if firsts:
        # the array workloads' goal for a first call: the first primal and first hand-written
        # gradient of a fresh process, plus 5 ms; both sides measured whole, in turns
        print("\nfirst gradient in a fresh process, whole (dpnb against the first primal plus the first "
              "hand-written gradient, + 5 ms):")
        for w in firsts:
            n = 1 if a.quick else 5
            got = {"dpnb": [], "hand": []}
            for _ in range(n):
                for k in got:
                    got[k].append(_fresh(FIRST_ABSOLUTE, 1, w.name, k))
            d, h = (statistics.median(got[k]) for k in ("dpnb", "hand"))
            print(f"  {w.name:32} dpnb {_fmt(d)} ({_fmt(min(got['dpnb'])).strip()}–{_fmt(max(got['dpnb'])).strip()}), "
                  f"primal + hand-written {_fmt(h)}: goal ≤ {_fmt(h + 5e-3).strip()} "
                  f"{'✓' if d <= h + 5e-3 else '✗'}", flush=True)
    if not a.filter or "import" in a.filter:
        t = import_time(3 if a.quick else 7)
        print(f"\nimport dpnb beyond import numpy: {_fmt(t)} (goal ≤ 60 ms); it loads the passes every first gradient "
              f"runs, which the first calls above do not count again")
    if not a.filter or "hessian" in a.filter:
        from dpnb import hessian

        x = workloads.HESS_X
        for f in (workloads.hess_f, workloads.hess_f_loop):
            if not np.allclose(hessian(f, x), workloads.hess_hand(x)):
                raise SystemExit(f"hessian: dpnb and the hand-written Hessian disagree ({f.__name__})")
        times = {"dpnb": [], "hand": []}
        for _ in range(5 if a.quick else 15):
            times["dpnb"].append(_per_call(hessian, (workloads.hess_f, x), 20))
            times["hand"].append(_per_call(workloads.hess_hand, (x,), 20))
        t_d, t_h = (statistics.median(times[k]) for k in ("dpnb", "hand"))
        t_l = _per_call(hessian, (workloads.hess_f_loop, x), 1)  # seconds: once
        ratios = sorted(d / h for d, h in zip(times["dpnb"], times["hand"]))
        print(f"\nhessian of a 100-dimensional function: dpnb {_fmt(t_d)} (forward over reverse, one batched "
              f"pass), hand-written Hessian-vector products {_fmt(t_h)}, ratio {t_d / t_h:.2f}× "
              f"(rounds {ratios[0]:.2f}–{ratios[-1]:.2f}; goal ≤ 2×)")
        print(f"the same function with a loop (reverse over reverse, one pullback per column): {_fmt(t_l)}, "
              f"{t_l / t_h:.0f}× the hand-written products")
    if not a.filter or "args" in a.filter:
        W, b = workloads.STAR_W, workloads.STAR_B
        forms = {"*args": workloads.star_form, "explicit": workloads.explicit_form}
        got = {k: gradient(f, W, b) for k, f in forms.items()}
        if not all(np.allclose(g1, g2) for g1, g2 in zip(got["*args"], got["explicit"])):
            raise SystemExit("*args: the two forms give different gradients")
        n = _calibrate(lambda: gradient(workloads.explicit_form, W, b), ())
        times = {k: [] for k in forms}
        for _ in range(5 if a.quick else 15):
            for k, f in forms.items():
                times[k].append(_per_call(gradient, (f, W, b), n))
        t_s, t_e = statistics.median(times["*args"]), statistics.median(times["explicit"])
        ratios = sorted(s / e for s, e in zip(times["*args"], times["explicit"]))
        print(f"\ngradient(lambda *w: f(*w, x), W, b) {_fmt(t_s)} against gradient(lambda W, b: f(W, b, x), W, b) "
              f"{_fmt(t_e)}: {t_s / t_e:.3f}× (rounds {ratios[0]:.3f}–{ratios[-1]:.3f}; goal ≤ 1.05×)")
    if not a.filter or "memory" in a.filter or "MLP" in a.filter:
        w = next(w for w in workloads.ALL if "classes" in w.name)
        mine = peak_memory(_grad_fn(w), w.args)
        hand = peak_memory(w.hand, w.args)
        print(f"\npeak memory of the MLP gradient: dpnb {mine / 2**20:.2f} MiB, hand-written {hand / 2**20:.2f} MiB, "
              f"ratio {mine / hand:.2f}× (goal ≤ 1.30×)")


if __name__ == "__main__":
    main()
