"""`gradient` of array code that takes objects, lists and tuples (a model written as classes) as
plain code built for the structure of its arguments (`dpnb.core.plain.run_structured`): every
answer is checked against the general way (`pullback`, which never takes this path) and against
central differences, with the same shape (a `Tangent` per object, every field in order, None
where nothing reached); every case the structure cannot cover must go the general way and be
right there."""
import dataclasses

import numpy as np
import pytest

import dpnb
from dpnb.core import fwdrev, plain
from dpnb.tangents import Tangent
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import differences_in
except ImportError:
    from _regress_check import differences_in

rng = np.random.default_rng(7)


def general(f, *args):
    _, back = dpnb.pullback(f, *args)
    return back(1.0)


def took_structured(f, *args):
    """The last call of `gradient(f, *args)` ran the code built for these arguments' structure."""
    got = plain.signature(args)
    if got is None:
        return False
    per = plain._CACHE.get(f.__code__) or {}
    bs = [b for key, b in per.items() if key[0] == got[0]]  # (signatures, whether it writes in place)
    return bool(bs) and all(b[2] is not fwdrev._UNSUPPORTED for b in bs)


def same(got, want, path="gradient"):
    """The same structure and kinds, and numbers equal to 1e-10."""
    if want is None:
        assert got is None, f"{path}: {got!r} where the general way gives None"
        return
    assert type(got) is type(want), f"{path}: {type(got).__name__} against {type(want).__name__}"
    if isinstance(want, Tangent):
        assert got.primal_type is want.primal_type
        assert list(got.fields) == list(want.fields), path
        for k in want.fields:
            same(got.fields[k], want.fields[k], f"{path}.{k}")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"{path}[{i}]")
    elif isinstance(want, np.ndarray):
        assert got.shape == want.shape and got.dtype == want.dtype, path
        assert got.base is None and got.flags.writeable, f"{path}: not an array of its own"
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=path)
    else:
        assert abs(got - want) <= 1e-10 * (1 + abs(want)), path


def leaves(t):
    if t is None:
        return []
    if isinstance(t, Tangent):
        return [x for v in t.fields.values() for x in leaves(v)]
    if isinstance(t, (list, tuple)):
        return [x for v in t for x in leaves(v)]
    return [t]


def near(g, n):
    """`g` against differences `n` (None against zeros)."""
    if isinstance(n, Tangent):
        for k, v in n.fields.items():
            near(None if g is None else g.fields[k], v)
    elif isinstance(n, (list, tuple)):
        for i, v in enumerate(n):
            near(None if g is None else g[i], v)
    elif n is not None:
        np.testing.assert_allclose(0.0 if g is None else g, n, rtol=1e-5, atol=1e-6)


def check(f, *args, structured=True):
    """`gradient` takes the structured way (or not), agrees with the general way and with
    differences, changes nothing it was given, and hands back arrays of its own."""
    got = dpnb.gradient(f, *args)
    if structured is not None:
        assert took_structured(f, *args) is structured, "the structured way was not taken" if structured else "it was"
    want = general(f, *args)
    same(got, want)
    num = numerical_gradient(f, *args)
    for g, n, a in zip(got, num, args):
        if isinstance(n, np.ndarray) or isinstance(n, float):
            np.testing.assert_allclose(0.0 if g is None else g, n, rtol=1e-5, atol=1e-6)
            continue
        near(g, n)
    ids = [id(x) for g in got for x in leaves(g) if isinstance(x, np.ndarray)]
    assert len(ids) == len(set(ids)), "two gradients are one array"
    # a second call (the code cached) and withgradient agree
    same(dpnb.gradient(f, *args), want)
    wg = dpnb.withgradient(f, *args)
    same(wg.grad, want)
    assert abs(wg.val - f(*args)) <= 1e-12 * (1 + abs(wg.val))
    return got


# --- a model as classes --------------------------------------------------------------------


class Linear:
    def __init__(self, m, n):
        self.W = rng.standard_normal((m, n)) / np.sqrt(m)
        self.b = rng.standard_normal(n) * 0.1

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)


class MLP:
    def __init__(self, sizes):
        self.layers = [Linear(m, n) for m, n in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def mlp_loss(model, x, y):
    return np.mean((model(x) - y) ** 2)


@pytest.mark.parametrize("sizes", [(3, 4, 2), (5, 3), (2, 3, 3, 2)])
def test_an_mlp_written_as_classes(sizes):
    model = MLP(sizes)
    x, y = rng.standard_normal((6, sizes[0])), rng.standard_normal((6, sizes[-1]))
    got = check(mlp_loss, model, x, y)
    assert isinstance(got[0], Tangent) and got[0].primal_type is MLP
    assert [type(t) for t in got[0].layers] == [Tangent] * (len(sizes) - 1)


def test_a_model_of_another_depth_is_built_for_again():
    a, b = MLP((3, 2)), MLP((3, 4, 2))
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    check(mlp_loss, a, x, y)
    check(mlp_loss, b, x, y)
    check(mlp_loss, a, x, y)


class Scaled:
    """A method calling a method, a float field, a field never read, a tuple of arrays."""

    def __init__(self):
        self.scale = 1.5
        self.pair = (rng.standard_normal(3), rng.standard_normal(3))
        self.name = "scaled"
        self.unused = rng.standard_normal(2)

    def inner(self, x):
        return self.pair[0] * x + self.pair[1]

    def energy(self, x):
        return np.sum(self.inner(x) ** 2) * self.scale


def energy(m, x):
    return m.energy(x)


def test_methods_floats_tuples_and_fields_never_read():
    m = Scaled()
    got = check(energy, m, rng.standard_normal(3))
    assert list(got[0].fields) == ["scale", "pair", "name", "unused"]
    assert got[0].name is None and got[0].unused is None and type(got[0].scale) is float


@dataclasses.dataclass
class Affine:
    W: np.ndarray
    b: np.ndarray


def affine_loss(p, x):
    return np.sum(np.sin(p.W @ x + p.b))


def test_a_dataclass():
    got = check(affine_loss, Affine(rng.standard_normal((3, 2)), rng.standard_normal(3)), rng.standard_normal(2))
    assert got[0].primal_type is Affine


def layers_loss(ws, x):
    for w in ws:
        x = np.tanh(w @ x)
    return np.sum(x)


def pair_loss(p, x):
    w, b = p[0], p[-1]
    return np.sum((w * x + b) ** 2)


def test_lists_and_tuples_of_arrays():
    got = check(layers_loss, [rng.standard_normal((3, 3)) for _ in range(3)], rng.standard_normal(3))
    assert type(got[0]) is list and len(got[0]) == 3
    got = check(pair_loss, (rng.standard_normal(4), rng.standard_normal(4)), rng.standard_normal(4))
    assert type(got[0]) is tuple


def nested_loss(ws, x):
    return np.sum(x * ws[1][0])


def test_what_nothing_reached_is_none_as_the_general_way_gives():
    ws = [[rng.standard_normal(2)], [rng.standard_normal(2), rng.standard_normal(2)]]
    got = check(nested_loss, ws, rng.standard_normal(2))
    assert got[0][0] is None and got[0][1][1] is None


def apply_twice(layer, x):
    return np.sum(layer(layer(x)))


def test_one_layer_applied_twice():
    check(apply_twice, Linear(3, 3), rng.standard_normal(3))


# --- what must go the general way -----------------------------------------------------------


def test_one_array_in_two_places_goes_the_general_way():
    # tied weights: the general way sums by object; positional leaves would not say so
    model = MLP((3, 3, 3))
    model.layers[1].W = model.layers[0].W
    check(mlp_loss, model, rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), structured=False)


def test_one_layer_in_two_places_goes_the_general_way():
    model = MLP((3, 3))
    model.layers = [model.layers[0], model.layers[0]]
    check(mlp_loss, model, rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), structured=False)


def test_a_view_goes_the_general_way():
    base = rng.standard_normal((4, 3))
    check(layers_loss, [base[:3]], rng.standard_normal(3), structured=False)
    ws = [rng.standard_normal((3, 3))]
    x = ws[0][0]  # x a view of a weight
    dpnb.gradient(layers_loss, ws, x)
    assert not took_structured(layers_loss, ws, x)


class Counted:
    def __init__(self):
        self.n = 2
        self.W = rng.standard_normal(3)

    def __call__(self, x):
        return np.sum(self.W * x) * self.n


def test_an_int_field_read_goes_the_general_way():
    got = check(lambda m, x: m(x), Counted(), rng.standard_normal(3), structured=False)
    assert type(got[0].n) is float  # the general way's gradient of an int field


class Prop:
    def __init__(self):
        self.__dict__["W"] = np.ones(3)
        self._v = rng.standard_normal(3)

    @property
    def W(self):
        return self._v * 2.0


def test_a_property_shadowing_a_field_goes_the_general_way():
    f = lambda p, x: np.sum(p.W * x)  # noqa: E731
    p, x = Prop(), rng.standard_normal(3)
    got = dpnb.gradient(f, p, x)
    assert not took_structured(f, p, x)
    np.testing.assert_allclose(got[1], 2.0 * p._v)  # the property's value, not the field's ones
    same(got, general(f, p, x))


def reassigned_after_loop(ws, x):
    for w in ws:
        x = w * x
    x = np.sin(x)
    return np.sum(x)


def test_loops_the_structure_cannot_unroll_go_the_general_way():
    ws = [rng.standard_normal(3), rng.standard_normal(3)]

    def with_break(ws, x):
        for w in ws:
            x = w * x
            if np.sum(x) > 1e9:
                break
        return np.sum(x)

    check(with_break, ws, rng.standard_normal(3), structured=False)
    check(reassigned_after_loop, ws, rng.standard_normal(3))


class Swappable:
    def __init__(self):
        self.W = rng.standard_normal(3)

    def __call__(self, x):
        return np.sum(self.W * x)


def test_a_method_redefined_after_the_code_was_built():
    m, x = Swappable(), rng.standard_normal(3)
    check(lambda m, x: m(x), m, x)
    f = lambda m, x: m(x)  # noqa: E731
    dpnb.gradient(f, m, x)
    old = Swappable.__call__
    try:
        Swappable.__call__ = lambda self, x: np.sum(self.W * x * x)
        np.testing.assert_allclose(dpnb.gradient(f, m, x)[1], 2 * m.W * x)
        np.testing.assert_allclose(dpnb.gradient(f, m, x)[0].W, x * x)
    finally:
        Swappable.__call__ = old
    np.testing.assert_allclose(dpnb.gradient(f, m, x)[1], m.W)


def test_a_field_changed_between_calls():
    m, x = Swappable(), rng.standard_normal(3)
    f = lambda m, x: m(x)  # noqa: E731
    dpnb.gradient(f, m, x)
    m.W = rng.standard_normal(3)
    np.testing.assert_allclose(dpnb.gradient(f, m, x)[1], m.W)
    m.W = 2.0  # a float now: another structure
    np.testing.assert_allclose(dpnb.gradient(f, m, x)[1], 2.0 * np.ones(3))
    m.W = np.arange(3)  # an int array: the general way
    np.testing.assert_allclose(dpnb.gradient(f, m, x)[1], np.arange(3.0))


def test_the_callers_objects_are_not_changed():
    model = MLP((3, 4, 2))
    before = [(l.W.copy(), l.b.copy()) for l in model.layers]
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    x0, y0 = x.copy(), y.copy()
    for _ in range(3):
        dpnb.gradient(mlp_loss, model, x, y)
    for l, (W, b) in zip(model.layers, before):
        np.testing.assert_array_equal(l.W, W)
        np.testing.assert_array_equal(l.b, b)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_an_error_in_the_users_code_is_raised_from_its_line():
    class Bad:
        def __init__(self):
            self.W = rng.standard_normal((3, 2))

        def __call__(self, x):
            return np.sum(x @ self.W)

    with pytest.raises(ValueError) as e:
        dpnb.gradient(lambda m, x: m(x), Bad(), rng.standard_normal(4))
    assert any("return np.sum(x @ self.W)" in str(t.statement) for t in e.traceback)


# --- `gradient(f, Params(...))`: arrays and structures read from the module's globals ---------

MODEL = MLP((3, 4, 2))
X, Y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
W_GLOBAL = rng.standard_normal(3)
SCALE = 0.5


def params_loss():
    return mlp_loss(MODEL, X, Y) + SCALE * np.sum(W_GLOBAL**2)


def general_params(f, ps):
    """The gradients the general way (with the plain way turned off)."""
    run = plain.params_run
    plain.params_run = lambda f, ps, value=False: None
    try:
        return dpnb.gradient(f, ps)
    finally:
        plain.params_run = run


def took_params(f):
    per = plain._PARAMS.get(f.__code__)
    return bool(per) and per[0] is not fwdrev._UNSUPPORTED


def check_params(f, ps, plain_way=True):
    """`gradient(f, ps)` takes the plain way (or not; None: either), agrees with the general way
    and with differences, parameter by parameter, and hands back arrays of their own."""
    got = dpnb.gradient(f, ps)
    if plain_way is not None:
        assert took_params(f) is plain_way
    want = general_params(f, ps)
    for p in ps:
        g, w = got[p], want[p]
        if w is None:
            assert g is None
            continue
        assert type(g) is np.ndarray and g.shape == p.shape and g.base is None and g.flags.writeable
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
        # differences, one parameter at a time
        n = differences_in(f, p)
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-6)
    wg = dpnb.withgradient(f, ps)
    assert abs(wg.val - f()) <= 1e-12 * (1 + abs(wg.val))
    return got


def test_params_of_a_model_read_through_globals():
    plain.forget()
    ps = dpnb.Params([a for l in MODEL.layers for a in (l.W, l.b)] + [W_GLOBAL])
    check_params(params_loss, ps)
    # only some of them: the others carry no cotangent, and get none
    ps = dpnb.Params([MODEL.layers[1].W])
    got = check_params(params_loss, ps)
    assert len(got) == 1


def test_params_follow_the_globals_as_they_are_now():
    global W_GLOBAL
    ps = dpnb.Params([W_GLOBAL])
    check_params(params_loss, ps)
    old = W_GLOBAL
    try:
        W_GLOBAL = rng.standard_normal(3)  # not a parameter now: no gradient for the old one
        assert dpnb.gradient(params_loss, ps)[old] is None
        W_GLOBAL = 2.0  # a float: another structure
        assert dpnb.gradient(params_loss, ps)[old] is None
    finally:
        W_GLOBAL = old
    np.testing.assert_allclose(dpnb.gradient(params_loss, ps)[old], 2 * SCALE * old)


def tied_loss():
    return np.sum(MODEL.layers[0].b * B_TIED) + np.sum(B_TIED)


B_TIED = MODEL.layers[0].b


def test_a_parameter_reached_twice_goes_the_general_way():
    ps = dpnb.Params([B_TIED])
    got = dpnb.gradient(tied_loss, ps)
    assert not took_params(tied_loss)
    np.testing.assert_allclose(got[B_TIED], 2 * B_TIED + 1)


def test_params_with_a_closure_or_arguments_go_the_general_way():
    W = rng.standard_normal(3)
    ps = dpnb.Params([W])
    f = lambda: np.sum(np.sin(W))  # noqa: E731 - W is a cell
    np.testing.assert_allclose(dpnb.gradient(f, ps)[W], np.cos(W))
    assert not took_params(f)


# --- random programs, read through objects and lists ------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from test_hessian_forward_over_reverse import _load, programs  # noqa: E402

_WRAPPERS = '''

class Holder:
    def __init__(self, x, w):
        self.x = x
        self.w = w
        self.tag = "holder"

    def value(self):
        return f(self.x * self.w)


def through_an_object(h):
    return h.value()


def through_a_list(hs, y):
    s = 0.0
    for h in hs:
        s = s + f(h.x) * y
    return s
'''


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(programs())
def test_random_programs_through_objects_and_lists(prog):
    import warnings

    _, ns = _load(prog.source + _WRAPPERS)
    Holder = ns["Holder"]
    x = prog.x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if not np.isfinite(ns["f"](x)):
            return
        # (a program whose constants live in closure cells or array defaults is not written
        # inline: then the general way; either way the answers are checked)
        fn = ns["f"]
        inline = (fn.__closure__ is None and all(type(d) in (int, float) for d in fn.__defaults__ or ())
                  and plain.function(fn, 1) is not None) or None
        h = Holder(x.copy(), 0.5)
        check(ns["through_an_object"], h, structured=inline)
        hs = [Holder(x.copy(), 1.0), Holder(-x, 2.0)]
        check(ns["through_a_list"], hs, 1.5, structured=inline)


_PARAMS_WRAPPER = '''

MODEL = Holder(X0.copy(), 0.5)
OTHER = X0 * 2.0


def params_loss():
    return MODEL.value() + f(OTHER)
'''


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(programs())
def test_random_programs_through_params(prog):
    import warnings

    _, ns = _load(prog.source + _WRAPPERS + _PARAMS_WRAPPER, env={"X0": prog.x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if not np.isfinite(ns["params_loss"]()):
            return
        loss = ns["params_loss"]
        fn = ns["f"]
        inline = fn.__closure__ is None and all(type(d) in (int, float) for d in fn.__defaults__ or ())
        for tracked in ([ns["MODEL"].x], [ns["MODEL"].x, ns["OTHER"]], [ns["OTHER"]]):
            check_params(loss, dpnb.Params(tracked), plain_way=(inline and plain.function(fn, 1) is not None) or None)


def test_the_code_is_built_once_in_a_fresh_interpreter(tmp_path):
    # the first build registers NumPy's rules, which moves the rule generation the code is kept
    # under: kept under the generation before, it was built again at the second call (and the
    # first call's cost, measured against the second, looked smaller than it was)
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "fresh_build.py"
    path.write_text(textwrap.dedent("""
        import numpy as np
        import dpnb
        from dpnb.core import plain

        class Layer:
            def __init__(self):
                self.W = np.ones((3, 2))

            def __call__(self, x):
                return np.tanh(x @ self.W)

        def loss(layer, x):
            return np.sum(layer(x))

        builds = []
        build = plain.build
        plain.build = lambda *a, **k: builds.append(1) or build(*a, **k)
        for _ in range(3):
            dpnb.gradient(loss, Layer(), np.ones((4, 3)))
        print(len(builds))
    """))
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "1"
