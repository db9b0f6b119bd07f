"""Second derivatives through a call of a Python function that takes `**kwargs`.

The dict a `**kw` parameter receives is made by the call itself (`adj(*args, **kwargs)` in
`runtime._transform_kw` copies the caller's dict), so its cotangent, which lives in the heap
under that dict, can only come back through the callee's pullback. The pullback returned it with
`take` when `kw` was a local, but with `cell_take` (the cell's own cotangent, not the dict's)
when `kw` was a closure variable, and the dict's cotangent was left in the heap. At second order
every variable a pullback reads is a closure variable, so `hessian(lambda x: mk(a=x) * x, x)`
gave 1.0 instead of 2.0: the term through the value `mk(a=x)` was lost, silently. At first order
the same happened to a `**kw` read by a nested function.
"""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


def _grad(f):
    return lambda v: dpnb.gradient(f, v)[0]


def _hessian_by_differences(f, x, h=1e-5):
    """The Hessian as central differences of dpnb's gradient (a number for a number `x`)."""
    g = _grad(f)
    if np.ndim(x) == 0:
        return (g(x + h) - g(x - h)) / (2 * h)
    x = np.asarray(x, dtype=float)
    cols = [(np.asarray(g(x + h * e)) - np.asarray(g(x - h * e))) / (2 * h) for e in np.eye(x.size)]
    return np.array(cols).T.reshape(x.shape * 2)


def _check_second_order(f, x, tangent=None):
    """hessian(f, x), and the jvp of f's gradient along `tangent` if given, agree with central
    differences of f's gradient; f's gradient agrees with central differences of f."""
    np.testing.assert_allclose(dpnb.gradient(f, x)[0], numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-8)
    want = _hessian_by_differences(f, x)
    np.testing.assert_allclose(dpnb.hessian(f, x), want, rtol=1e-5, atol=1e-6)
    if tangent is None:
        return
    if np.ndim(x) == 0:
        want_jvp = want * tangent
    else:
        want_jvp = np.tensordot(want, tangent, axes=np.ndim(x))
    _, ydot = dpnb.jvp(_grad(f), (x,), (tangent,))
    np.testing.assert_allclose(ydot, want_jvp, rtol=1e-5, atol=1e-6)


# --- the functions called with keywords -------------------------------------------------------


def mk(**kw):
    return kw["a"]


def mk_closure(**kw):
    read = lambda: kw["a"]
    return read()


def inner(**kw):
    return kw["a"] * kw["b"]


def outer(**kw):
    return inner(**kw)


def outermost(**kw):
    return outer(**kw) + kw["a"]


def mixed(p, q=2.0, *rest, r=1.0, **kw):
    return p * q + r * kw["s"] + sum(rest)


def scaled(**kw):
    return kw["v"] * kw["c"]


class R:
    def __init__(self, **kw):
        self.a = kw["a"]
        self.b = kw["b"]


class Fields:
    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


# --- the programs -----------------------------------------------------------------------------


def keyword_value_times_x(x):
    return mk(a=x) * x


def sin_of_keyword_value(x):
    return np.sin(mk(a=x))


def keyword_read_by_a_closure(x):
    return mk_closure(a=x) * x


def constructor_with_keywords(x):
    r = R(a=x, b=np.array([x, 3.0]))
    return r.a * np.sum(r.b)


def constructor_setting_fields_from_keywords(x):
    r = Fields(a=x, b=np.array([x, 3.0]))
    return r.a * np.sum(r.b)


def nested_keyword_forwarding(x):
    return outer(a=x, b=x * x) * x


def doubly_nested_keyword_forwarding(x):
    return outermost(a=np.sin(x), b=x) * x


def keywords_mixed_with_positional_and_defaults(x):
    return mixed(x, r=x, s=x * x) * x + mixed(x, x, 3.0, x, s=2.0) * x


def array_valued_keyword(x):
    return np.sum(scaled(v=x, c=x[0]) * x)


SCALAR_PROGRAMS = [
    keyword_value_times_x,
    sin_of_keyword_value,
    keyword_read_by_a_closure,
    constructor_with_keywords,
    constructor_setting_fields_from_keywords,
    nested_keyword_forwarding,
    doubly_nested_keyword_forwarding,
    keywords_mixed_with_positional_and_defaults,
]


def test_the_reported_case():
    """`hessian(mk(a=x) * x)` is 2 (it was 1.0: the term through the value mk(a=x) was lost)."""
    assert dpnb.gradient(keyword_value_times_x, 1.5) == (3.0,)
    assert dpnb.hessian(keyword_value_times_x, 1.5) == pytest.approx(2.0)
    assert dpnb.jvp(_grad(keyword_value_times_x), (1.5,), (1.0,))[1] == pytest.approx(2.0)


def test_a_keyword_dict_read_by_a_nested_function_gives_its_gradient():
    """First order: a `**kw` dict held in a closure variable still sends its cotangent to the call's
    keywords (it stayed in the heap: the gradient of `mk_closure(a=x) * x` was x, not 2x)."""
    assert dpnb.gradient(keyword_read_by_a_closure, 1.5) == (pytest.approx(3.0),)


@pytest.mark.parametrize("f", SCALAR_PROGRAMS, ids=lambda f: f.__name__)
def test_hessians_through_keyword_calls_match_differences(f):
    """hessian through calls with `**kwargs` matches central differences of the gradient."""
    _check_second_order(f, 0.7)
    _check_second_order(f, -1.3)


# the jvp of a gradient is a third-order transform, slow to compile: a few programs that cover
# a closure, a constructor, forwarding and a mixed signature
@pytest.mark.parametrize(
    "f",
    [sin_of_keyword_value, keyword_read_by_a_closure, constructor_with_keywords, nested_keyword_forwarding,
     keywords_mixed_with_positional_and_defaults],
    ids=lambda f: f.__name__,
)
def test_jvps_of_gradients_through_keyword_calls_match_differences(f):
    """jvp of the gradient through calls with `**kwargs` (a Hessian-vector product) matches central
    differences of the gradient."""
    _check_second_order(f, 0.7, 0.5)


def test_second_derivatives_with_an_array_valued_keyword():
    """An array passed by keyword to a `**kw` function: the Hessian and the Hessian-vector product
    match central differences of the gradient."""
    x = np.array([0.4, -1.1, 2.0])
    _check_second_order(array_valued_keyword, x, np.array([1.0, -2.0, 0.5]))


def test_second_derivatives_with_a_keyword_object_built_from_an_array():
    """Fields of an object built with `**kw` from parts of an array input: second derivatives
    reach the input through both fields."""

    def f(x):
        r = R(a=x[0] * x[1], b=x * 2.0)
        return r.a * np.sum(r.b)

    x = np.array([0.4, -1.1, 2.0])
    _check_second_order(f, x, np.array([1.0, -2.0, 0.5]))
