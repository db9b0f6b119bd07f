"""`python -m dpnb.bench --viz`: how long the notebook tools take.

Draws the pullback graph of the 784→256→10 MLP and of a 50-step loop (observing one forward
and backward pass, building the graph and rendering it to SVG with Graphviz's `dot`), and
times a slider move of `explore` (a new point: value, gradient, tangent plot and graph) for the
scalar examples of the README. Goals: under 1 s a graph, under 100 ms a slider move.
"""
import statistics

from dpnb.bench import wall_times, workloads


def _median_time(fn, rounds):
    times = wall_times(fn, rounds)
    return statistics.median(times), min(times), max(times)


def _fmt(t):
    return f"{t * 1e3:8.1f} ms"


def main(quick=False):
    from dpnb.viz import explore, pullback_graph
    from dpnb.viz.graph import render_svg

    rounds = 3 if quick else 7
    graphs = [
        ("784→256→10 tanh MLP", workloads.mlp_loss, workloads.MLP_MODEL, workloads.MLP_X, workloads.MLP_Y),
        ("50-step product loop", workloads.power_loop, 1.01),
    ]
    print(f"{'pullback_graph, rendered to SVG':40} {'median':>11} {'min':>11} {'max':>11}  goal")
    for name, f, *args in graphs:
        render_svg(pullback_graph(f, *args))  # the first draw compiles the adjoint
        med, lo, hi = _median_time(lambda: render_svg(pullback_graph(f, *args)), rounds)
        print(f"{name:40} {_fmt(med)} {_fmt(lo)} {_fmt(hi)}  < 1 s {'yes' if med < 1 else 'NO'}")
    examples = [
        ("lambda x: 3*x**2 + 2*x + 1", lambda x: 3 * x**2 + 2 * x + 1, "x", 1.0),
        ("math functions with an if", workloads.wave, "x", 0.7),
        ("50-step product loop", workloads.power_loop, "x", 1.01),
    ]
    print(f"\n{'explore: one slider move':40} {'median':>11} {'min':>11} {'max':>11}  goal")
    for name, f, param, start in examples:
        view = explore(f, **{param: start})
        slider = view.sliders[param]
        step = [start]

        def move():
            step[0] = step[0] + 0.01
            slider.value = step[0]

        move()
        med, lo, hi = _median_time(move, rounds * 3)
        print(f"{name:40} {_fmt(med)} {_fmt(lo)} {_fmt(hi)}  < 100 ms {'yes' if med < 0.1 else 'NO'}")
