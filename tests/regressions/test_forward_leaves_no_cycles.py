"""Writing the code of a gradient leaves nothing for the cyclic garbage collector, and forward mode
keeps no tree of the code it wrote. A function nested in a pass that calls itself is a cycle: it
kept forward mode's writer (and every tree it held) alive until the collector ran, and the young
generation the collector then went through held the trees of the code written, kept for
`forward.source`, as well (857 objects after the first gradient of a small `math` function,
where 326 are left now). `source` writes the code again instead, and must show what runs. The
other ways (array code written plainly, through classes, the general reverse way) had such
cycles too: the resolver of static names, SSA's and `release_dead`'s walks, `weaken`'s,
`free_vars`' and `propagate_copies`'."""
import gc
import math

import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient
from dpnb.core import forward, load

try:
    from ._regress_check import load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import load_module  # noqa: F401 (a fixture)


SOURCE = '''
import math

def wave(x):
    if x > 0:
        return math.sin(x) * math.exp(-x) + math.log(1 + x * x)
    return math.cos(x) * x

def rebound(x):
    s = 1.0
    for i in range(3):
        s = s * x
    x = x * 2.0
    return s + x

def halves(x):
    if x < 1.0:
        return x
    return math.sin(halves(x / 2.0)) * x

def outer(x):
    return math.tanh(wave(x)) + x
'''

POINTS = {"wave": 0.7, "rebound": 1.3, "halves": 3.0, "outer": 0.4}


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


@pytest.mark.parametrize("name", sorted(POINTS))
def test_a_first_gradient_leaves_no_cyclic_garbage(m, name):
    f = getattr(m, name)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        got = dpnb.gradient(f, POINTS[name])
        found = gc.collect()
    finally:
        if was:
            gc.enable()
    assert load.FUNCTIONS[id(f)].grad1, "forward mode was not taken"
    assert found == 0, f"{found} objects left in cycles"
    h = 1e-6
    x = POINTS[name]
    assert math.isclose(got[0], (f(x + h) - f(x - h)) / (2 * h), rel_tol=1e-6)


@pytest.mark.parametrize("name", sorted(POINTS))
def test_source_shows_the_code_that_runs(m, name):
    f = getattr(m, name)
    dpnb.gradient(f, POINTS[name])
    mask = (True,) + (False,) * (f.__code__.co_argcount - 1)
    t = forward._template(f, mask, "grad")
    assert not hasattr(t, "_dpnb_tree"), "the tree of the code written is kept"
    src = forward.source(f)
    assert src == forward.source(f)
    # compiled alone, the code shown has the locals, in their order, and the constants of the
    # code in the cache (its helpers are the cached code's free variables, globals here)
    codes = [c for c in compile(src, "<source>", "exec").co_consts if hasattr(c, "co_code")]
    assert codes[0].co_varnames == t.__code__.co_varnames
    assert codes[0].co_consts == t.__code__.co_consts
    if name == "halves":  # the top form, then the code its calls of itself run
        assert len(codes) == 2 and codes[1].co_varnames == t._dpnb_callee.__code__.co_varnames


#: array code of dpnb's own besides: the benchmark's workloads (the MLP as classes, `sum(W@x+b)`, the
#: elementwise function), read as a fresh module
ARRAYS = '''
import numpy as np

def collected(x):
    parts = []
    for i in range(3):
        if i % 2:
            parts.append(np.sin(x * i))
        else:
            parts.append(x ** 2)
    return sum(np.sum(p) for p in parts)

def nested(x):
    a = x * 2.0
    b = a
    c = b + x

    def g(t):
        return t * c

    return np.sum(g(x) ** 2)
'''


def _array_cases(load_module):
    import inspect

    from dpnb.bench import workloads

    w = load_module(inspect.getsource(workloads))
    m = load_module(ARRAYS)
    rng = np.random.default_rng(0)
    net = w.MLP([w.Linear(rng.normal(size=(5, 4)), rng.normal(size=4)), w.Linear(rng.normal(size=(4, 2)), rng.normal(size=2))])
    return {
        "classes": (w.mlp_loss, (net, rng.normal(size=(3, 5)), rng.normal(size=(3, 2)))),
        "affine": (w.affine_sum, (rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3))),
        "elementwise": (w.elementwise, (rng.normal(size=6),)),
        "collected": (m.collected, (rng.normal(size=4),)),
        "nested": (m.nested, (rng.normal(size=3),)),
    }


@pytest.mark.parametrize("name", ["classes", "affine", "elementwise", "collected", "nested"])
def test_a_first_gradient_of_array_code_leaves_no_cyclic_garbage(load_module, name):
    f, args = _array_cases(load_module)[name]
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        got = dpnb.gradient(f, *args)
        found = gc.collect()
    finally:
        if was:
            gc.enable()
    assert found == 0, f"{found} objects left in cycles"
    # (and the gradient is right: its arrays against central differences)
    want = numerical_gradient(f, *args)
    for g, w, a in zip(got, want, args):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-8)
