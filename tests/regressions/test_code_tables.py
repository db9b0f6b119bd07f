"""What dpnb keeps per code object (the pullbacks that run without a cotangent, the source of
the code it generated) outlives an equal code object that is freed.

Code objects compiled from the same text compare equal, and dpnb compiles the same text again
whenever it builds an adjoint again (after `dpnb.refresh()`, as the fuzzer does every 100
programs). These tables were weak containers (a WeakSet, a WeakKeyDictionary), which keep one key
per class of equal objects: the entry for the new code stayed under the old one, still kept alive
by a pullback held somewhere, and went with it. Found by the fuzzer (seed 22, program 128
of a long run: a KeyError in the second derivative's undo of a change to the heap).
"""
import gc

import numpy as np

import dpnb
from dpnb.core import load
from dpnb.core.runtime import _CodeSet


def _set_first_slot(a):
    a[0] = 5.0


def first_slot_overwritten(x):
    a = [x]
    _set_first_slot(a)
    return a[0] * x


def _again_with_the_old_adjoints_held(run):
    """run(), with every compiled adjoint recompiled (equal code objects) while the first ones are
    still alive; then the first ones are freed and an unrelated adjoint is compiled."""
    run()
    held = [e.per for e in load.CODES.values()]  # as a pullback still held somewhere would
    dpnb.refresh()
    run()
    del held
    gc.collect()
    dpnb.gradient(lambda t: t * 2.0, 1.0)
    return run()


def test_a_pullback_that_undoes_a_change_still_runs_without_a_cotangent():
    # _set_first_slot returns None: its pullback runs with None only to undo `a[0] = 5.0`. Skipped,
    # the cotangent of the 5.0 read back reached x through the list: 8.0
    (g,) = _again_with_the_old_adjoints_held(lambda: dpnb.gradient(first_slot_overwritten, 3.0))
    assert g == 5.0


def cube_sum(x):
    return np.sum(x ** 3)


def test_the_source_of_generated_code_outlives_an_equal_code():
    # the generated forward pass lost its source, and the Hessian read `def cube_sum` from the file
    # as that source: "cannot unpack non-iterable numpy.float64 object"
    x = np.array([1.0, 2.0])
    dpnb.gradient(cube_sum, x)
    held = [e.per for e in load.CODES.values()]
    dpnb.refresh()
    dpnb.gradient(cube_sum, x)  # compiled again: equal code objects, the first still alive
    del held
    gc.collect()
    np.testing.assert_allclose(dpnb.hessian(cube_sum, x), np.diag(6.0 * x))


def _fuzz_helper(u, w=0.5):
    return np.tanh(u) * w + u * u * 0.1


def fuzz_seed22_program128(a, b):
    b = b * 0.9 - np.min(np.cos((a.sum() * np.ones((3, 2, 4)))), axis=-2)
    a2 = a.reshape((3, 1))
    a3 = ((1.3 * np.ones((4, 3))) + _fuzz_helper((-1.14 * np.ones((4, 3))), w=float(np.max(np.abs(b)))))
    return np.mean(b * b) + np.mean(a2 * a2) + np.sum(a3)


def test_fuzz_seed22_program128_jvp_and_hessian():
    # dpnb's own helpers (heap.py, mutation.py), compiled again for the second derivative: pullbacks
    # that undo changes to the heap were no longer run without a cotangent (the fuzzer's run crashed
    # in a later undo; here the numbers come out wrong)
    a = np.array([0.181, 1.162, 1.036])
    b = np.array([[0.347, -1.216, -0.559, 0.331], [0.955, 0.59, -0.911, 1.303], [1.12, -0.279, -0.576, -0.006]])
    t = (np.array([0.3, -0.2, 0.5]), np.linspace(-1.0, 1.0, 12).reshape(3, 4))

    def both():
        y, ydot = dpnb.jvp(fuzz_seed22_program128, (a, b), t)
        return y, ydot, dpnb.hessian(lambda w: fuzz_seed22_program128(w, b), a)

    want = both()
    got = _again_with_the_old_adjoints_held(both)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_code_set_keeps_a_member_whose_equal_twin_is_freed():
    def compiled():
        ns = {}
        exec(compile("def f(y_bar):\n    return y_bar\n", "<twins>", "exec"), ns)
        return ns["f"].__code__

    s = _CodeSet()
    old, new = compiled(), compiled()
    assert old == new and old is not new
    s.add(old)
    s.add(new)
    del old
    gc.collect()
    s.add(compile("pass", "<another>", "exec"))  # forget the answers remembered so far
    assert new in s
