"""Valid Python that dpnb crashed on, or refused without need.

- `super().prop` in a property of a subclass (or `s = super()` kept in a variable): the zero-argument
  `super()` ran in the adjoint, which has no `__class__` cell (`RuntimeError: super(): __class__ cell
  not found`). It is given its class and object now, and an attribute read through a `super` object
  runs the property's getter (or a descriptor's `__get__`) as the user's code.
- The Hessian through `super().__init__(...)` in a plain class hierarchy: at second order dpnb
  differentiates its own `callmethod_super`, whose `super(cls, obj)` had no rule (`NoRuleError:
  super`). `super(C, obj)` is followed now: what is read through it is `obj`'s.
- The Hessian through a subclass of `dict` (or `list`) whose `__init__` calls `super().__init__()`:
  differentiating dpnb's own `objects.construct` reached `dict.__new__(cls, *args)` given the
  arguments, which carry gradients (`NoRuleError: type.__new__`); a built-in container's `__new__`
  reads none of them, and is called without them now.
- A dataclass with an `InitVar` and `__post_init__`: the `InitVar` was taken for no parameter and
  `__post_init__` called without it (`TypeError: __post_init__() missing 1 required positional
  argument`). It gets the values Python gives it, and their gradients go back to the arguments.
- `pow(obj, 2)` of a class with `__pow__`: the rule of `pow` for numbers multiplied the object by a
  float (`TypeError: unsupported operand type(s) for *: 'float' and 'P'`). It runs the class's
  `__pow__` (or the other operand's `__rpow__`) as `obj ** 2` does. `operator.abs(obj)` and `+obj` of
  a class without the method raised a TypeError of dpnb's words ("bad operand type for unary op");
  they raise Python's own now.
- A class with `__array_ufunc__`: `np.sin(obj)` ran the rule of `np.sin` on the object (`TypeError:
  unsupported operand type(s) for *: 'float' and 'U'`), and `x * obj` of an array `x` crashed in the
  rule of `*`. NumPy hands both to the class's `__array_ufunc__`, which runs as the user's code now.
- `o = object.__new__(cls)` written out (in a user's `__new__`, or any function), then `o.v = x`:
  the analysis took the call of a C function given no differentiable value for a constant, so the
  cotangent reaching the returned object was dropped, a wrong gradient without a word (1.5 for 3.0
  of `N(x).v * x` at 1.5). A built-in `__new__` makes a new object now, followed like a class call.
- `np.linalg.det` at an exactly singular matrix: its pullback inverted the matrix
  (`LinAlgError: Singular matrix`). The gradient there is the cofactor matrix (the adjugate's
  transpose), finite: it is computed from the SVD where the inverse does not exist.
- A draw's shape parameter the differentiated code computes from constants with NumPy
  (`rng.gamma(np.full(3, 2.5), x)`, `np.linspace(1.0, 2.0, 3)`): the marker of the unknown derivative
  reached the rule of `np.full`, which refused it, as it could not tell 2.5 from a differentiated
  value. A rule that made an array now hands the marker on to its float arguments, and the constant
  drops it; it is refused only where it reaches a value a gradient is asked of.
- A set of constant floats (`sum({1.0, 2.0}) * x`, in a loop or not): the gradient that reached its
  numbers was refused at once, though they came from constants. A set made by `set`'s rule (a
  literal, `set(list)`, `frozenset(list)`) that still holds the very elements it was made of hands
  a marker back to the items of its list now, refused only where it reaches a value a gradient is
  asked of (`{x, 2.0}`); a set changed since (`s.add(x)`) or made otherwise is refused as before.
"""
import operator
from dataclasses import InitVar, dataclass, field

import numpy as np
import pytest

import dpnb

from _regress_check import check_fd, expect_grad, gradient_differences


# --- super() outside a method call ---------------------------------------------------------------------


class _Base:
    def __init__(self, x):
        self.x = x

    @property
    def val(self):
        return self.x * 2.0


class _Sub(_Base):
    @property
    def val(self):
        return super().val + self.x**2


class _Kept(_Base):
    @property
    def val(self):
        s = super()
        return s.val * self.x


class _Explicit(_Base):
    @property
    def val(self):
        return super(_Explicit, self).val - self.x**3


def test_super_property_in_a_subclass_property():
    # 2x + x^2: 2 + 2x
    expect_grad(dpnb.gradient(lambda x: _Sub(x).val, 1.5), (5.0,))
    check_fd(lambda x: _Sub(x).val * x, 0.8)


def test_super_kept_in_a_variable():
    # 2x^2: 4x
    expect_grad(dpnb.gradient(lambda x: _Kept(x).val, 1.5), (6.0,))


def test_super_with_its_arguments_written():
    # 2x - x^3: 2 - 3x^2
    expect_grad(dpnb.gradient(lambda x: _Explicit(x).val, 1.5), (2.0 - 3 * 1.5**2,))


def test_hessian_through_a_super_property():
    f = lambda v: _Sub(v[0] * v[1]).val * v[0]  # noqa: E731  (2 x0^2 x1 + x0^3 x1^2)
    x = np.array([1.2, 0.7])
    a, b = x
    want = np.array([[4 * b + 6 * a * b * b, 4 * a + 6 * a * a * b], [4 * a + 6 * a * a * b, 2 * a**3]])
    expect_grad(dpnb.hessian(f, x), want)
    expect_grad(dpnb.hessian(f, x), gradient_differences(f, x), rtol=1e-5)


# --- the Hessian through super().__init__ --------------------------------------------------------------


class _Plain:
    def __init__(self, v):
        self.v = v


class _Doubled(_Plain):
    def __init__(self, v):
        super().__init__(v * 2.0)


class _Record(dict):
    def __init__(self, v):
        super().__init__()
        self["a"] = v


class _Stack(list):
    def __init__(self, v, w):
        super().__init__()
        self.append(v)
        self.append(w)


def test_hessian_through_a_dict_subclass():
    f = lambda v: _Record(v[0] * v[1])["a"] * v[0]  # noqa: E731  (x0^2 x1)
    x = np.array([1.2, 0.7])
    want = np.array([[2 * x[1], 2 * x[0]], [2 * x[0], 0.0]])
    expect_grad(dpnb.hessian(f, x), want)
    expect_grad(dpnb.hessian(f, x), gradient_differences(f, x), rtol=1e-5)


def test_hessian_through_a_list_subclass():
    f = lambda v: (lambda s: s[0] * s[1] * s[0])(_Stack(v[0], v[1] * v[1]))  # noqa: E731  (x0^2 x1^2)
    x = np.array([1.2, 0.7])
    a, b = x
    expect_grad(dpnb.hessian(f, x), np.array([[2 * b * b, 4 * a * b], [4 * a * b, 2 * a * a]]))


def test_hessian_through_super_init():
    f = lambda v: _Doubled(v[0] * v[1]).v * v[0]  # noqa: E731  (2 x0^2 x1)
    x = np.array([1.2, 0.7])
    want = np.array([[4 * x[1], 4 * x[0]], [4 * x[0], 0.0]])
    expect_grad(dpnb.hessian(f, x), want)
    expect_grad(dpnb.hessian(f, x), gradient_differences(f, x), rtol=1e-5)


# --- a dataclass with InitVar ---------------------------------------------------------------------------


@dataclass
class _Scaled:
    a: float
    scale: InitVar[float]
    shift: InitVar[float] = 0.5
    b: float = field(init=False)

    def __post_init__(self, scale, shift):
        self.b = self.a * scale + shift


def test_dataclass_initvar_given_a_constant():
    # 3x^2 + 0.5x: 6x + 0.5
    expect_grad(dpnb.gradient(lambda x: _Scaled(x, 3.0).b * x, 1.5), (9.5,))


def test_dataclass_initvar_carrying_the_gradient():
    f = lambda x, s: _Scaled(x, s, shift=s * s).b * x  # noqa: E731  (x^2 s + s^2 x)
    x, s = 1.5, 0.7
    expect_grad(dpnb.gradient(f, x, s), (2 * x * s + s * s, x * x + 2 * s * x))
    check_fd(lambda x, s: _Scaled(a=x, scale=s).b + _Scaled(s, x, s).b, x, s)


def test_dataclass_initvar_hessian():
    f = lambda v: _Scaled(v[0], v[1], v[0]).b * v[1]  # noqa: E731  (x0 x1^2 + x0 x1)
    x = np.array([1.2, 0.7])
    want = np.array([[0.0, 2 * x[1] + 1], [2 * x[1] + 1, 2 * x[0]]])
    expect_grad(dpnb.hessian(f, x), want)


def test_dataclass_initvar_missing_is_pythons_error():
    with pytest.raises(TypeError, match="scale"):
        dpnb.gradient(lambda x: _Scaled(x).b, 1.5)


# --- pow() and unary operators of a class of the user's ---------------------------------------------------


class _Powered:
    def __init__(self, v):
        self.v = v

    def __pow__(self, n, mod=None):
        if mod is not None:
            return _Powered(self.v**n % mod)
        return _Powered(self.v**n)

    def __rpow__(self, base):
        return _Powered(base**self.v)


def test_builtin_pow_of_an_object():
    # x^3: 3x^2
    expect_grad(dpnb.gradient(lambda x: pow(_Powered(x), 3).v, 1.5), (3 * 1.5**2,))
    # 2^x: 2^x ln 2
    expect_grad(dpnb.gradient(lambda x: pow(2.0, _Powered(x)).v, 1.5), (2**1.5 * np.log(2),))
    expect_grad(dpnb.gradient(lambda x: pow(_Powered(x), 2, None).v, 1.5), (3.0,))
    check_fd(lambda x, n: pow(_Powered(x), n).v + pow(n, _Powered(x)).v, 1.3, 2.2)


def test_builtin_pow_of_an_object_with_a_modulus():
    # (x^2 mod 2): 2x where x^2 < 2
    expect_grad(dpnb.gradient(lambda x: pow(_Powered(x), 2, 2.0).v, 1.2), (2.4,))


def test_builtin_pow_of_an_object_jvp_and_hessian():
    f = lambda v: pow(_Powered(v[0] * v[1]), 2).v  # noqa: E731  (x0^2 x1^2)
    x = np.array([1.2, 0.7])
    a, b = x
    expect_grad(dpnb.hessian(f, x), np.array([[2 * b * b, 4 * a * b], [4 * a * b, 2 * a * a]]))
    expect_grad(dpnb.jvp(lambda x: pow(_Powered(x), 3).v, (1.5,), (1.0,))[1], 3 * 1.5**2)


class _NoMethods:
    def __init__(self, v):
        self.v = v


@pytest.mark.parametrize("op", [abs, operator.abs, operator.pos, operator.neg, operator.invert, lambda o: +o, lambda o: -o])
def test_unary_operator_missing_is_pythons_error(op):
    with pytest.raises(TypeError) as python_error:
        op(_NoMethods(1.5))
    with pytest.raises(TypeError) as dpnb_error:
        dpnb.gradient(lambda x: op(_NoMethods(x)), 1.5)
    assert str(dpnb_error.value) == str(python_error.value)


# --- __array_ufunc__ ------------------------------------------------------------------------------------


class _Wrapped:
    def __init__(self, v):
        self.v = v

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        return _Wrapped(ufunc(*[i.v if isinstance(i, _Wrapped) else i for i in inputs], **kwargs))


class _Declines:
    def __init__(self, v):
        self.v = v

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return NotImplemented


def test_array_ufunc_of_an_object():
    # sin(x): cos(x)
    expect_grad(dpnb.gradient(lambda x: np.sin(_Wrapped(x)).v, 0.4), (np.cos(0.4),))
    x = np.array([0.3, 0.9])
    # sum(x * x + 2x): 2x + 2
    expect_grad(dpnb.gradient(lambda x: np.add(np.multiply(x, _Wrapped(x)), 2.0 * x).v.sum(), x), (2 * x + 2,))
    check_fd(lambda x, y: np.power(_Wrapped(x), y, dtype=float).v.sum() + np.exp(_Wrapped(y)).v, x, 0.7)


def test_array_operator_with_an_array_ufunc_object():
    x = np.array([0.3, 0.9])
    # sum(x * x / (x + 1)): the array's operators hand the object to its __array_ufunc__
    f = lambda x: np.divide(x * _Wrapped(x), np.ones(2) + _Wrapped(x)).v.sum()  # noqa: E731
    check_fd(f, x)
    expect_grad(dpnb.gradient(f, x), ((2 * x * (x + 1) - x * x) / (x + 1) ** 2,))


def test_array_ufunc_jvp_and_hessian():
    expect_grad(dpnb.jvp(lambda x: np.sin(_Wrapped(x)).v, (0.4,), (1.0,))[1], np.cos(0.4))
    expect_grad(dpnb.hessian(lambda x: np.sin(_Wrapped(x)).v, 0.4), -np.sin(0.4))
    f = lambda x: (x * _Wrapped(x * x)).v.sum()  # noqa: E731  (sum x^3)
    x = np.array([0.3, 0.9])
    expect_grad(dpnb.hessian(f, x), np.diag(6 * x))


def test_array_ufunc_all_not_implemented_is_a_type_error():
    with pytest.raises(TypeError, match="NotImplemented"):
        np.sin(_Declines(0.4))
    with pytest.raises(TypeError, match="NotImplemented"):
        dpnb.gradient(lambda x: np.sin(_Declines(x)), 0.4)


# --- object.__new__ written out --------------------------------------------------------------------------


class _MadeByNew:
    def __new__(cls, v):
        o = object.__new__(cls)
        o.v = v
        return o


class _MadeByNewThenInit:
    def __new__(cls, v):
        o = object.__new__(cls)
        o.v = v
        return o

    def __init__(self, v):
        self.w = v * 2.0


class _Empty:
    pass


def _make(v):
    o = object.__new__(_Empty)
    o.v = v
    return o


def test_object_new_in_a_user_new():
    # x^2: 2x
    expect_grad(dpnb.gradient(lambda x: _MadeByNew(x).v * x, 1.5), (3.0,))
    # x * 2x: 4x
    expect_grad(dpnb.gradient(lambda x: _MadeByNewThenInit(x).v * _MadeByNewThenInit(x).w, 1.5), (6.0,))
    check_fd(lambda x, y: _MadeByNew(x * y).v * _MadeByNewThenInit(y).v, 1.5, 0.4)


def test_object_new_in_a_function():
    expect_grad(dpnb.gradient(lambda x: _make(x).v * x, 1.5), (3.0,))
    expect_grad(dpnb.gradient(lambda x: _MadeByNew.__new__(_MadeByNew, x).v * x, 1.5), (3.0,))


def test_object_new_jvp_and_hessian():
    expect_grad(dpnb.jvp(lambda x: _make(x).v * x, (1.5,), (1.0,))[1], 3.0)
    f = lambda v: _MadeByNew(v[0] * v[1]).v * _make(v[0]).v  # noqa: E731  (x0^2 x1)
    x = np.array([1.2, 0.7])
    expect_grad(dpnb.hessian(f, x), np.array([[2 * x[1], 2 * x[0]], [2 * x[0], 0.0]]))


# --- det at a singular matrix ----------------------------------------------------------------------------


def _cofactor_matrix(A):
    n = A.shape[0]
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(A, i, 0), j, 1)) for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("A", [
    np.array([[1.0, 2.0], [2.0, 4.0]]),
    np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),
    np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]),
    np.zeros((3, 3)),
])
def test_det_gradient_at_a_singular_matrix(A):
    (g,) = dpnb.gradient(np.linalg.det, A)
    expect_grad(g, _cofactor_matrix(A), atol=1e-12)
    # det is a polynomial: central differences are exact up to rounding
    check_fd(lambda A: np.linalg.det(A) * 2.0, A)


def test_det_gradient_of_a_stack_with_a_singular_matrix():
    A = np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]])
    (g,) = dpnb.gradient(lambda A: np.linalg.det(A) @ np.array([1.0, 3.0]), A)
    expect_grad(g, np.stack([_cofactor_matrix(A[0]), 3 * _cofactor_matrix(A[1])]))


def test_det_complex_singular():
    A = np.array([[1.0, 2j], [1j, -2.0]])  # det = 0
    (g,) = dpnb.gradient(lambda A: np.linalg.det(A).real, A)
    expect_grad(g, np.array([[-2.0, -1j], [-2j, 1.0]]), atol=1e-12)


def test_det_jvp_and_hessian_at_a_singular_matrix():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    dA = np.array([[0.5, -1.0], [2.0, 1.5]])
    expect_grad(dpnb.jvp(np.linalg.det, (A,), (dA,))[1], np.sum(_cofactor_matrix(A) * dA))
    f = lambda v: np.linalg.det(v.reshape(2, 2))  # noqa: E731  (v0 v3 - v1 v2)
    want = np.array([[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0.0]])
    expect_grad(dpnb.hessian(f, A.ravel()), want, atol=1e-12)


# --- a draw's shape parameter computed from constants -----------------------------------------------------


def _gamma_full(x):
    rng = np.random.default_rng(0)
    return rng.gamma(np.full(3, 2.5), x).sum()


def _gamma_named(x):
    rng = np.random.default_rng(0)
    shape = np.full(3, 2.5)
    return rng.gamma(shape, x).sum()


def _gamma_linspace(x):
    rng = np.random.default_rng(0)
    return rng.gamma(np.linspace(1.0, 2.0, 3), x * x).sum()


def _gamma_of_x(x):
    rng = np.random.default_rng(0)
    return rng.gamma(np.full(3, x), 1.0).sum()


def _gamma_of_linspace_x(x):
    rng = np.random.default_rng(0)
    return rng.gamma(np.linspace(1.0, x, 3), 2.0).sum()


def _gamma_of_scaled(x):
    rng = np.random.default_rng(0)
    return rng.gamma(np.full(3, 2.5) * x, 1.0).sum()


@pytest.mark.parametrize("f", [_gamma_full, _gamma_named, _gamma_linspace])
def test_constant_shape_made_with_numpy(f):
    (g,) = check_fd(f, 1.5)
    # the scale's pathwise derivative: y / scale, summed (times 2x / x^2 for a scale x^2)
    assert g == pytest.approx(f(1.5) / 1.5 * (2 if f is _gamma_linspace else 1), rel=1e-9)


@pytest.mark.parametrize("f", [_gamma_of_x, _gamma_of_linspace_x, _gamma_of_scaled])
def test_shape_made_with_numpy_from_x_is_still_refused(f):
    with pytest.raises(dpnb.DifferentiationError, match="shape"):
        dpnb.gradient(f, 1.5)


# --- sets of constants --------------------------------------------------------------------------------


def _set_in_a_loop(x):
    s = 0.0
    for i in range(3):
        s = s + sum({1.0, 2.0}) * x
    return s


def _set_kept(x):
    s = 0.0
    for i in range(3):
        c = {1.5, 2.0}
        s = s + max(c) * x * i
    return s


def _frozen(x):
    return sum(frozenset([1.0, 2.5])) * x * x


def _set_of_a_list(x):
    items = [1.0, 2.0, 2.0]
    return sum(set(items)) * x


def _loop_over_a_set(x):
    s = 0.0
    for i in range(3):
        for v in {1.0, 2.5}:
            s = s + v * x
    return s


@pytest.mark.parametrize("f, want", [
    (lambda x: sum({1.0, 2.0}) * x, 3.0),
    (_set_in_a_loop, 9.0),
    (_set_kept, 6.0),
    (_frozen, 7.0 * 1.5),
    (_set_of_a_list, 3.0),
    (_loop_over_a_set, 10.5),
])
def test_set_of_constants(f, want):
    expect_grad(dpnb.gradient(f, 1.5), (want,))
    check_fd(f, 1.5)


def test_set_of_constants_hessian():
    expect_grad(dpnb.hessian(_frozen, 1.5), 7.0)
    expect_grad(dpnb.hessian(lambda x: sum({1.0, 2.0}) * x * x * x, 1.5), 18 * 1.5)


def _set_of_x(x):
    return sum({x, 2.0}) * x


def _set_of_x_from_a_list(x):
    items = [x, 2.0]
    return sum(set(items)) * x


def _set_changed(x):
    s = {1.0, 2.0}
    s.add(x)
    return sum(s) * x


def _set_swapped(x):
    s = {1.0, 2.0}
    s.discard(1.0)
    s.add(x - x + 1.0)
    return sum(s) * x


def _set_joined(x):
    return sum({1.0} | {x}) * x


def _loop_over_a_set_of_x(x):
    s = 0.0
    for v in {x, 2.5}:
        s = s + v * x
    return s


@pytest.mark.parametrize("f", [_set_of_x, _set_of_x_from_a_list, _set_changed, _set_swapped, _set_joined,
                               _loop_over_a_set_of_x, lambda x: sum(frozenset([x, 3.0]))])
def test_set_that_holds_x_is_still_refused(f):
    with pytest.raises(dpnb.DifferentiationError, match="elements of a set"):
        dpnb.gradient(f, 1.5)
