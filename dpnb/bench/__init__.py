"""`python -m dpnb.bench`: dpnb's gradient against the primal and a hand-written gradient.

Each workload is timed in one interleaved run (primal, hand-written gradient and
dpnb in turn, repeatedly), so drift of the machine's speed affects all three
alike; the figures are medians of the per-round times. The first call — parse,
transform and compile — is timed in a fresh process per workload.
"""

import time


def wall_times(fn, rounds):
    """The wall-clock time of each of `rounds` calls of `fn`, in seconds."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def leaves(g):
    """The arrays and numbers in a gradient, in a fixed order."""
    from dpnb import Tangent
    from dpnb.params import Grads

    if isinstance(g, Grads):
        return list(g.values())
    if isinstance(g, Tangent):
        return [x for v in g.fields.values() for x in leaves(v)]
    if isinstance(g, (list, tuple)):
        return [x for v in g for x in leaves(v)]
    if g is None:
        return []
    return [g]
