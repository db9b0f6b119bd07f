"""NumPy functions that write their result into an array given as `out=` (or by position).

What came out wrong without a word:
- a ufunc given `out=` and `where=`: the result was computed without `out` (so the entries outside
  the mask were uninitialised memory) and written whole into `out`: a wrong VALUE, and a wrong
  gradient (`np.divide(a, b, out=np.zeros_like(a), where=b != 0)` among others);
- a piecewise-constant ufunc (floor, ceil, rint, trunc, sign) writing into its own input
  (`np.floor(z, out=z)`, `np.sign(z, z)`): the overwrite was not followed, so the gradient of the
  value overwritten flowed on as if it had been kept;
- a function other than a ufunc given `out=` (np.clip, ndarray.clip, np.dot, np.einsum,
  np.cumprod, np.prod, np.max, np.var, ...): nothing followed the write, and a pullback that reads
  its input read it after the call had overwritten it;
- `ufunc.accumulate(z, out=z)` (what np.vander runs): wrong gradient and jvp;
- `out` given by position to a function other than a ufunc (np.clip(z, lo, hi, z), z.clip(lo, hi, z),
  np.dot(a, b, o), np.cumsum(z, 0, None, z), np.fix(z, z)): the write was not followed either;
- (found on the way) `jvp` through `a[mask] = v` with a boolean mask: 0.

Each function is checked three ways: its value as dpnb computes it against the plain call, its
gradient against central differences, and `jvp` against the gradient dotted with the tangent.
"""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import expect_grad, load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import expect_grad, load_module  # noqa: F401 (a fixture)


SOURCE = '''
import numpy as np

W4 = np.array([1.0, -2.0, 0.5, 3.0])

# --- ufuncs with where= -----------------------------------------------------------------

def where_into_ones(x):
    out = np.ones(4)
    np.multiply(x, 2.0, out=out, where=x > 0)
    return np.sum(out * x)

def where_false(x):
    out = x * 3.0
    np.multiply(x, 2.0, out=out, where=False)
    return np.sum(out * W4)

def where_broadcast_mask(x):
    X = x.reshape(2, 2)
    out = np.full((2, 2), 0.5)
    np.exp(X, out=out, where=np.array([True, False]))
    return np.sum(out * X)

def where_fresh_out(x):
    out = np.full(4, 3.0)
    np.sin(x, out=out, where=np.array([True, False, True, False]))
    return np.sum(out * W4)

def where_into_input(x):
    z = x * 2.0
    np.add(z, x * x, out=z, where=np.array([False, True, True, False]))
    return np.sum(z * W4)

def where_into_itself(x):
    z = x * 2.0
    np.sin(z, out=z, where=x > 0)
    return np.sum(z * W4)

def safe_divide(x):
    b = x * np.array([1.0, 0.0, 2.0, 0.0])
    q = np.divide(x * x + 1.0, b, out=np.zeros_like(x), where=b != 0)
    return np.sum(q * W4)

def where_positional_out(x):
    o = np.full(4, -1.0)
    np.add(x, 1.0, o, where=np.array([True, True, False, True]))
    return np.sum(o * o * W4)

def where_tuple_out(x):
    o = np.zeros(4)
    np.square(x, out=(o,), where=np.array([True, False, True, True]))
    return np.sum(o * W4)

# --- ufuncs into views, tuples, by position ---------------------------------------------

def into_a_slice(x):
    buf = np.ones(6)
    np.multiply(x, x, out=buf[1:5])
    return np.sum(buf * np.arange(6.0))

def into_a_strided_view(x):
    buf = np.ones(8) * 2.0
    np.exp(x, out=buf[::2])
    return np.sum(buf * buf[::-1])

def into_a_row(x):
    M = np.zeros((2, 4))
    np.sin(x, out=M[1])
    return np.sum(M * M[::-1])

def tuple_out(x):
    o = np.empty(4)
    r = np.exp(x, out=(o,))
    return np.sum(r * W4) + np.sum(o)

def positional_out(x):
    o = np.empty(4)
    np.multiply(x, x, o)
    return np.sum(o * W4)

def positional_into_input(x):
    z = x * 1.5
    np.multiply(z, x, z)
    return np.sum(z * W4)

# --- piecewise-constant ufuncs into their input -----------------------------------------

def floor_into_itself(x):
    z = x * 2
    np.floor(z, out=z)
    return np.sum(z * W4)

def ceil_into_itself(x):
    z = x * 2
    np.ceil(z, out=z)
    return np.sum(z * W4) + np.sum(x)

def rint_into_itself(x):
    z = x * 2
    np.rint(z, out=z)
    return np.sum(z * x)

def trunc_into_itself(x):
    z = x * 2
    np.trunc(z, out=(z,))
    return np.sum(z * x)

def sign_by_position(x):
    z = x * 2
    np.sign(z, z)
    return np.sum(z * z * W4)

def floor_into_other(x):
    o = x * 5.0
    np.floor(x * 2, out=o)
    return np.sum(o * x)

# --- other functions given out= ---------------------------------------------------------

def clip_into_itself(x):
    z = x * 2
    np.clip(z, -0.3, 0.4, out=z)
    return np.sum(z * W4)

def clip_method_into_itself(x):
    z = x * 2
    z.clip(-0.3, 0.4, out=z)
    return np.sum(z * W4)

def clip_into_other(x):
    o = x * 7.0
    r = np.clip(x * 2, -0.3, 0.4, out=o)
    return np.sum(o * W4) + np.sum(r * x)

def dot_into_itself(x):
    A = x.reshape(2, 2)
    z = A * 2
    np.dot(z, A, out=z)
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def dot_into_fresh(x):
    A = x.reshape(2, 2)
    C = np.empty((2, 2))
    np.dot(A, A.T, out=C)
    return np.sum(C * np.arange(4.0).reshape(2, 2))

def einsum_into_itself(x):
    A = x.reshape(2, 2)
    z = A * 2
    np.einsum("ij,jk->ik", z, A, out=z)
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def cumprod_into_itself(x):
    z = x * 2
    np.cumprod(z, out=z)
    return np.sum(z * W4)

def cumsum_into_itself(x):
    z = x * x
    np.cumsum(z, out=z)
    return np.sum(z * W4)

def prod_into_a_row(x):
    z = x.reshape(2, 2) * 2
    np.prod(z, axis=0, out=z[0])
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def max_into_a_row(x):
    z = x.reshape(2, 2) * 2
    np.max(z, axis=0, out=z[0])
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def var_into_a_row(x):
    z = x.reshape(2, 2) * 2
    np.var(z, axis=0, out=z[0])
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def sum_into_a_row(x):
    z = x.reshape(2, 2) * x.reshape(2, 2)
    np.sum(z, axis=1, out=z[:, 0])
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def mean_into_fresh(x):
    o = np.full(2, 9.0)
    r = np.mean(x.reshape(2, 2), axis=0, out=o)
    return np.sum(o * o) + np.sum(r)

# --- ufunc methods ----------------------------------------------------------------------

def multiply_accumulate_into_itself(x):
    z = x * 2
    np.multiply.accumulate(z, out=z)
    return z @ np.arange(1.0, 5.0)

def add_accumulate_into_itself(x):
    z = x * x
    np.add.accumulate(z, out=z)
    return z @ np.arange(1.0, 5.0)

def add_reduce_into_a_row(x):
    z = x.reshape(2, 2) * x.reshape(2, 2)
    np.add.reduce(z, axis=0, out=z[1])
    return np.sum(z * np.arange(4.0).reshape(2, 2))

# --- `out` of a function other than a ufunc, given by position ----------------------------

def clip_out_by_position(x):
    z = x * 2
    np.clip(z, -0.3, 0.4, z)
    return np.sum(z * W4)

def clip_method_out_by_position(x):
    z = x * 2
    z.clip(-0.3, 0.4, z)
    return np.sum(z * W4)

def cumsum_out_by_position(x):
    z = x * x
    np.cumsum(z, 0, None, z)
    return np.sum(z * W4)

def dot_out_by_position(x):
    A = x.reshape(2, 2)
    z = A * 2
    np.dot(z, A, z)
    return np.sum(z * np.arange(4.0).reshape(2, 2))

def fix_out_by_position(x):
    z = x * 3
    np.fix(z, z)
    return np.sum(z * x)

def accumulate_out_by_position(x):
    z = x * 2
    np.multiply.accumulate(z, 0, None, z)
    return z @ np.arange(1.0, 5.0)

def vander(x):
    return np.sum(np.vander(x, 3) * np.arange(12.0).reshape(4, 3))
'''

NAMES = [
    "where_into_ones", "where_false", "where_broadcast_mask", "where_fresh_out", "where_into_input",
    "where_into_itself", "safe_divide", "where_positional_out", "where_tuple_out",
    "into_a_slice", "into_a_strided_view", "into_a_row", "tuple_out", "positional_out", "positional_into_input",
    "floor_into_itself", "ceil_into_itself", "rint_into_itself", "trunc_into_itself", "sign_by_position",
    "floor_into_other",
    "clip_into_itself", "clip_method_into_itself", "clip_into_other", "dot_into_itself", "dot_into_fresh",
    "einsum_into_itself", "cumprod_into_itself", "cumsum_into_itself", "prod_into_a_row", "max_into_a_row",
    "var_into_a_row", "sum_into_a_row", "mean_into_fresh",
    "multiply_accumulate_into_itself", "add_accumulate_into_itself", "add_reduce_into_a_row", "vander",
    "clip_out_by_position", "clip_method_out_by_position", "cumsum_out_by_position", "dot_out_by_position",
    "fix_out_by_position", "accumulate_out_by_position",
]

X = np.array([0.3, -0.8, 0.7, 0.05])
V = np.array([0.5, -1.0, 2.0, 0.25])


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    try:
        from ._regress_check import import_source
    except ImportError:  # pragma: no cover
        from _regress_check import import_source
    return import_source(tmp_path_factory.mktemp("out_writes"), "regress_writes_into_out", SOURCE)


@pytest.mark.parametrize("name", NAMES)
def test_value_and_gradient_of_a_write_into_out(m, name):
    """The value dpnb computes is the plain call's, and the gradient is central differences'."""
    f = getattr(m, name)
    x = X.copy()
    want_y = f(X.copy())
    val, grad = dpnb.withgradient(f, x)
    np.testing.assert_array_equal(x, X)  # the argument is left as it was
    assert float(val) == pytest.approx(float(want_y), rel=1e-12, abs=1e-12), f"value {val}, plain {want_y}"
    want = numerical_gradient(f, X.copy())
    expect_grad(grad, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_jvp_of_a_write_into_out(m, name):
    """`jvp` gives the value and the gradient dotted with the tangent."""
    f = getattr(m, name)
    y, ydot = dpnb.jvp(f, (X.copy(),), (V.copy(),))
    assert float(y) == pytest.approx(float(f(X.copy())), rel=1e-12, abs=1e-12)
    (g,) = numerical_gradient(f, X.copy())
    assert float(ydot) == pytest.approx(float(g @ V), rel=1e-5, abs=1e-6)


def test_gradient_of_the_safe_divide_idiom_reaches_both_operands(load_module):
    """`np.divide(a, b, out=np.zeros_like(a), where=b != 0)`, a and b both arguments: entries where
    b is 0 stay 0 and carry no gradient (no NaN from the division by 0 reaches the others)."""
    mod = load_module(
        "import numpy as np\n\n"
        "def f(a, b):\n"
        "    return np.sum(np.divide(a, b, out=np.zeros_like(a), where=b != 0) * np.arange(1.0, 5.0))\n"
    )
    a = np.array([1.0, 2.0, -3.0, 4.0])
    b = np.array([2.0, 0.0, 0.5, 0.0])
    val, (ga, gb) = dpnb.withgradient(mod.f, a, b)
    assert float(val) == pytest.approx(float(mod.f(a, b)))
    np.testing.assert_allclose(ga, [0.5, 0.0, 6.0, 0.0])
    np.testing.assert_allclose(gb, [-0.25, 0.0, 36.0, 0.0])


def test_the_array_written_into_is_left_as_the_forward_pass_left_it(load_module):
    """After the gradient, an array the function was given as `out=` holds what the plain call
    leaves in it (the backward pass undoes the write and redoes it)."""
    mod = load_module(
        "import numpy as np\n\n"
        "def f(x, o):\n"
        "    np.multiply(x, 2.0, out=o, where=x > 0)\n"
        "    return np.sum(o * x)\n"
    )
    x = np.array([1.0, -1.0, 0.5, -2.0])
    o1, o2 = np.ones(4), np.ones(4)
    mod.f(x, o1)
    (g,) = dpnb.gradient(lambda x: mod.f(x, o2), x)
    np.testing.assert_array_equal(o2, o1)


def test_arguments_after_a_positional_out_are_refused(load_module):
    """`np.sum(a, 0, None, o, True)`: past `out` by position the names are not known: refused,
    never a wrong number."""
    mod = load_module(
        "import numpy as np\n\n"
        "def f(x):\n"
        "    o = np.zeros((1,))\n"
        "    np.sum(x, 0, None, o, True)\n"
        "    return np.sum(o)\n"
    )
    with pytest.raises(dpnb.NoRuleError):
        dpnb.gradient(mod.f, np.array([1.0, 2.0]))


def test_jvp_through_a_masked_assignment(load_module):
    """`o[mask] = v` with a boolean mask: jvp gave 0 (the cotangent of the written entries was
    taken through np.bincount, which a gradient of a gradient does not follow)."""
    mod = load_module(
        "import numpy as np\n\n"
        "M = np.array([True, False, True, False])\n\n"
        "def f(x):\n"
        "    o = np.full(4, 3.0)\n"
        "    o[M] = np.sin(x[M])\n"
        "    return np.sum(o * np.array([1.0, -2.0, 0.5, 3.0]))\n"
    )
    (g,) = dpnb.gradient(mod.f, X.copy())
    _, ydot = dpnb.jvp(mod.f, (X.copy(),), (V.copy(),))
    assert float(ydot) == pytest.approx(float(g @ V), rel=1e-10)
