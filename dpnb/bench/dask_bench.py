"""`python -m dpnb.bench --dask`: the least-squares gradient on a local Dask cluster.

For each size (elements of the data matrix X, chunked by rows), the median time of the
loss, of dpnb's gradient in `w` and of a hand-written Dask gradient `2/m X.T (X w - y)`,
each built and computed on a LocalCluster of two worker processes; and the peak memory
each worker used beyond its resting size while computing dpnb's gradient. The data is
generated inside the task graph, so no worker ever holds more than a few chunks of it.
"""
import statistics
import threading
import time

import numpy as np

from dpnb.bench import wall_times

D = 10  # columns of X


def least_squares(w, X, y):
    r = X @ w - y
    return np.sum(r * r) / X.shape[0]


def hand_gradient(w, X, y):
    return 2.0 / X.shape[0] * (X.T @ (X @ w - y))


_sampler = {}


def _start_sampler():
    import psutil

    proc = psutil.Process()
    state = _sampler
    state["base"] = state["peak"] = proc.memory_info().rss
    state["run"] = True

    def sample():
        while state["run"]:
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            time.sleep(0.005)

    state["thread"] = threading.Thread(target=sample, daemon=True)
    state["thread"].start()


def _stop_sampler():
    state = _sampler
    state["run"] = False
    state["thread"].join()
    return state["peak"] - state["base"]


def _data(n, chunk):
    import dask.array as da

    rows, chunk_rows = n // D, max(1, chunk // D)
    rs = da.random.default_rng(0)
    X = rs.standard_normal((rows, D), chunks=(chunk_rows, D))
    y = X @ np.linspace(-1.0, 1.0, D) + rs.standard_normal(rows, chunks=chunk_rows)
    return da.from_array(np.zeros(D)), X, y


def _time(fn, rounds):
    return statistics.median(wall_times(fn, rounds))


def run(sizes=(10**6, 10**7, 10**8), chunk=10**6, rounds=3):
    import dask
    from dask.distributed import Client, LocalCluster

    from dpnb import gradient

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(
        cluster
    ) as client:
        print(f"least squares on a LocalCluster (2 worker processes, 1 thread each); X has {D} columns, "
              f"chunks of {chunk:.0e} elements ({chunk * 8 / 2**20:.0f} MiB)")
        print(f"{'elements':>10} {'chunks':>7} {'loss':>10} {'hand-written':>13} {'dpnb':>10} "
              f"{'dpnb/loss':>10} {'dpnb/hand':>10} {'graph loss/grad':>16} {'peak/worker':>12}")
        for n in sizes:
            w, X, y = _data(n, chunk)
            g = gradient(least_squares, w, X, y)[0]
            h = hand_gradient(w, X, y)
            np.testing.assert_allclose(*dask.compute(g, h), rtol=1e-8, atol=1e-10)
            t_loss = _time(lambda: least_squares(w, X, y).compute(), rounds)
            t_hand = _time(lambda: hand_gradient(w, X, y).compute(), rounds)
            t_dpnb = _time(lambda: gradient(least_squares, w, X, y)[0].compute(), rounds)
            client.run(_start_sampler)
            gradient(least_squares, w, X, y)[0].compute()
            peak = max(client.run(_stop_sampler).values())
            sizes_ = f"{len(least_squares(w, X, y).__dask_graph__())}/{len(g.__dask_graph__())}"
            print(f"{n:>10.0e} {X.npartitions:>7} {t_loss:>9.3f}s {t_hand:>12.3f}s {t_dpnb:>9.3f}s "
                  f"{t_dpnb / t_loss:>9.2f}× {t_dpnb / t_hand:>9.2f}× {sizes_:>16} {peak / 2**20:>9.0f} MiB",
                  flush=True)
        print("goal: dpnb/loss ≤ 2×, as the hand-written gradient; peak memory per worker bounded by the chunk size")
