"""Implicit parameters (SPEC §4, issue 3 item 6): Params and Grads.

A parameter read anywhere inside `f` — a global, a closure variable, an attribute,
an item of a dict, list or tuple — gets its gradient, checked against finite
differences of the parameter changed in place (Params are keyed by identity, so
that is what "the same parameter, slightly different" means).
"""
from dataclasses import dataclass

import numpy as np
import pytest

import dpnb
from dpnb import Grads, Params, gradient, withgradient

try:
    from ._fd import EPS
except ImportError:
    from _fd import EPS


def fd_params(f, ps):
    """Central differences of the no-argument `f` with respect to each array in `ps`, changed in place."""
    out = []
    for p in ps:
        g = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            h = EPS * max(1.0, abs(old))
            p[idx] = old + h
            up = float(f())
            p[idx] = old - h
            down = float(f())
            p[idx] = old
            g[idx] = (up - down) / (2 * h)
        out.append(g)
    return out


def check_params(f, ps, rtol=1e-5, atol=1e-6):
    g = gradient(f, ps)
    assert isinstance(g, Grads), f"gradient(f, Params) must return Grads, got {type(g).__name__}"
    for p, want in zip(ps, fd_params(f, ps)):
        got = g[p]
        if got is None:
            assert np.allclose(want, 0.0, atol=atol), f"got None, finite differences say {want}"
            continue
        assert isinstance(got, np.ndarray) and got.shape == p.shape, f"{got!r} is not shaped like {p.shape}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return g


# -- where a parameter can be read from ---------------------------------------------------

W_GLOBAL = np.array([[1.0, -2.0], [0.5, 3.0]])
B_GLOBAL = np.array([0.1, -0.2])


def predict_global(x):
    return np.tanh(W_GLOBAL @ x + B_GLOBAL)


def test_parameter_read_as_a_global():
    x = np.array([0.3, -0.7])
    g = check_params(lambda: np.sum(predict_global(x) ** 2), Params([W_GLOBAL, B_GLOBAL]))
    assert len(g) == 2


def test_parameter_read_as_a_closure_variable():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)

    def make():
        def predict(x):
            return W @ x + b

        return predict

    predict = make()
    v = np.array([1.0, 2.0, 3.0])
    g = check_params(lambda: np.sum(predict(v) ** 2), Params([W, b]))
    np.testing.assert_allclose(g[b], 2 * (W @ v + b))


def test_parameter_read_as_an_attribute():
    class Model:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def __call__(self, x):
            return self.W @ x + self.b

    model = Model(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    x = np.array([0.2, 0.9])
    g = check_params(lambda: np.sum(np.sin(model(x))), Params([model.W, model.b]))
    np.testing.assert_allclose(g[model.b], np.cos(model(x)))


@dataclass
class Dense:
    W: np.ndarray
    b: np.ndarray


def test_parameters_in_a_list_of_layer_objects():
    rng = np.random.default_rng(1)
    layers = [Dense(rng.normal(size=(3, 2)), rng.normal(size=3)), Dense(rng.normal(size=(1, 3)), rng.normal(size=1))]
    x = np.array([0.4, -1.0])

    def loss():
        h = x
        for layer in layers:
            h = np.tanh(layer.W @ h + layer.b)
        return np.sum(h**2)

    ps = Params([p for layer in layers for p in (layer.W, layer.b)])
    g = check_params(loss, ps)
    assert len(g) == 4


def test_parameter_read_as_an_item_of_a_dict():
    θ = {"W": np.array([[1.0, 0.5]]), "b": np.array([2.0])}
    x = np.array([3.0, -1.0])
    g = check_params(lambda: np.sum((θ["W"] @ x + θ["b"]) ** 2), Params([θ["W"], θ["b"]]))
    r = θ["W"] @ x + θ["b"]
    np.testing.assert_allclose(g[θ["b"]], 2 * r)


def test_parameter_read_as_an_item_of_a_list_and_of_a_tuple():
    ws = [np.array([1.0, 2.0]), np.array([-0.5, 0.3])]
    pair = (np.array([0.7]), np.array([1.5, 2.5]))
    g = check_params(lambda: np.sum(ws[0] * ws[1]) * pair[0][0] + np.sum(pair[1] ** 3), Params([*ws, *pair]))
    np.testing.assert_allclose(g[pair[1]], 3 * pair[1] ** 2)
    np.testing.assert_allclose(g[ws[0]], ws[1] * 0.7)


def test_parameter_used_twice_accumulates():
    W = np.array([1.0, 2.0])
    holder = {"again": W}
    g = check_params(lambda: np.sum(W * 3.0) + np.sum(holder["again"] ** 2), Params([W]))
    np.testing.assert_allclose(g[W], 3.0 + 2 * W)


def test_parameter_passed_as_an_argument_inside_f():
    W = np.array([0.5, -1.5])

    def inner(w, s):
        return np.sum(w * w) * s

    g = check_params(lambda: inner(W, 2.0) + inner(W * 2.0, 1.0), Params([W]))
    np.testing.assert_allclose(g[W], 4 * W + 8 * W)


def test_a_parameter_no_gradient_reached_is_none():
    W, unused = np.array([1.0, 2.0]), np.array([3.0])
    g = gradient(lambda: np.sum(W**2), Params([W, unused]))
    assert g[unused] is None
    assert unused in g
    np.testing.assert_allclose(g[W], [2.0, 4.0])


def test_a_parameter_read_only_as_a_constant_is_none():
    W = np.array([1.0, 2.0])
    g = gradient(lambda: float(len(W)) + W.shape[0], Params([W]))
    assert g[W] is None


# -- the seed example ------------------------------------------------------------------


def test_seed_x_y_z_example():
    x, y, z = np.array([[1.0, 2, 3], [4, 5, 6]]), np.array([7.0, 8]), np.array([1.0, 10, 100])
    g = gradient(lambda: np.sum(x * y[:, None] * z), Params([x, y]))
    np.testing.assert_array_equal(g[x], [[7, 70, 700], [8, 80, 800]])
    np.testing.assert_array_equal(g[y], [321.0, 654.0])
    assert x in g and y in g
    assert (z in g) is False
    with pytest.raises(KeyError):
        g[z]


# -- Grads as a mapping -------------------------------------------------------------------


def _two_grads():
    W, b = np.array([1.0, 2.0]), np.array([3.0])
    f = lambda: np.sum(W**2) + np.sum(b) * 2.0
    return W, b, gradient(f, Params([W, b]))


def test_grads_mapping_protocol():
    W, b, g = _two_grads()
    np.testing.assert_allclose(g[W], [2.0, 4.0])
    np.testing.assert_allclose(g[b], [2.0])
    assert W in g and b in g
    assert np.array([1.0, 2.0]) not in g, "lookup is by identity, not by value"
    assert len(g) == 2
    keys = list(g.keys())
    assert len(keys) == 2 and keys[0] is W and keys[1] is b
    vals = list(g.values())
    np.testing.assert_allclose(vals[0], [2.0, 4.0])
    items = list(g.items())
    assert items[0][0] is W and items[1][0] is b
    np.testing.assert_allclose(items[1][1], [2.0])


def test_grads_add_and_scale():
    W, b, g = _two_grads()
    g2 = gradient(lambda: np.sum(W * b), Params([W, b]))
    s = g + g2
    np.testing.assert_allclose(s[W], [2.0 + 3.0, 4.0 + 3.0])
    np.testing.assert_allclose(s[b], [2.0 + 3.0])
    m = g * 0.5
    np.testing.assert_allclose(m[W], [1.0, 2.0])
    np.testing.assert_allclose(m[b], [1.0])
    np.testing.assert_allclose(g[W], [2.0, 4.0]), "g + g2 and g * c do not change g"


def test_grads_add_with_a_none_entry():
    W, U = np.array([1.0]), np.array([2.0])
    g1 = gradient(lambda: np.sum(W * 3.0), Params([W, U]))
    g2 = gradient(lambda: np.sum(U * 5.0), Params([W, U]))
    assert g1[U] is None and g2[W] is None
    s = g1 + g2
    np.testing.assert_allclose(s[W], [3.0])
    np.testing.assert_allclose(s[U], [5.0])


def test_grads_sgd_step_lowers_the_loss():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(2, 2))
    X, Y = rng.normal(size=(2, 8)), rng.normal(size=(2, 8))
    loss = lambda: np.mean((W @ X - Y) ** 2)
    ps = Params([W])
    before = loss()
    for _ in range(20):
        g = gradient(loss, ps)
        W -= 0.1 * g[W]  # in place: the parameter keeps its identity
    assert loss() < before
    assert W in ps


# -- Params ----------------------------------------------------------------------------


def test_params_collection():
    W, b = np.ones((2, 2)), np.zeros(2)
    ps = Params([W])
    ps.append(b)
    assert len(ps) == 2 and list(ps)[0] is W and list(ps)[1] is b
    assert W in ps and b in ps and np.ones((2, 2)) not in ps
    ps.append(W)
    assert len(ps) == 2, "the same array twice is one parameter"


@pytest.mark.parametrize("bad", [1.0, 3, np.float64(2.0)])
def test_a_number_in_params_is_a_type_error_that_explains(bad):
    with pytest.raises(TypeError) as info:
        Params([np.ones(2), bad])
    assert "identity" in str(info.value)


def test_append_of_a_float_is_a_type_error():
    ps = Params()
    with pytest.raises(TypeError, match="identity"):
        ps.append(0.5)


def test_withgradient_with_params():
    W = np.array([1.0, -2.0])
    res = withgradient(lambda: np.sum(W**3), Params([W]))
    val, g = res
    assert res.val == val == pytest.approx(-7.0)
    assert res.grad is g and isinstance(g, Grads)
    np.testing.assert_allclose(g[W], 3 * W**2)


def test_params_and_explicit_gradients_agree():
    """Params is a layer over the explicit machinery: the same numbers either way."""
    W, b = np.array([[0.3, -0.2], [1.1, 0.4]]), np.array([0.5, -1.0])
    x = np.array([1.0, 2.0])
    gW, gb = gradient(lambda W, b: np.sum(np.tanh(W @ x + b)), W, b)
    g = gradient(lambda: np.sum(np.tanh(W @ x + b)), Params([W, b]))
    np.testing.assert_allclose(g[W], gW)
    np.testing.assert_allclose(g[b], gb)


def test_params_gradient_does_not_change_the_parameters():
    W = np.array([1.0, 2.0, 3.0])
    before = W.copy()
    gradient(lambda: np.sum(W**2), Params([W]))
    np.testing.assert_array_equal(W, before)


def test_params_with_a_parameter_read_in_a_method_of_a_global_object():
    g = check_params(lambda: np.sum(GLOBAL_MODEL(np.array([1.0, -1.0]))), Params([GLOBAL_MODEL.layer.W]))
    assert g[GLOBAL_MODEL.layer.W].shape == (2, 2)


class _Wrapper:
    def __init__(self, layer):
        self.layer = layer

    def __call__(self, x):
        return np.exp(self.layer.W @ x)


GLOBAL_MODEL = _Wrapper(Dense(np.array([[0.1, 0.2], [0.3, -0.4]]), np.zeros(2)))


class _Scaler:
    def __init__(self, W):
        self.W = W

    def __call__(self, s):
        return np.sum(self.W * s)


GLOBAL_SCALER = _Scaler(np.array([1.0, -1.0]))


def test_parameter_read_in_call_of_a_global_callable_object():
    g = check_params(lambda: GLOBAL_SCALER(2.0), Params([GLOBAL_SCALER.W]))
    np.testing.assert_allclose(g[GLOBAL_SCALER.W], [2.0, 2.0])
