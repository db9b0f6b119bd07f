"""User classes are transformed like functions (issue 3, item 2; SPEC §2 "user classes").

Methods, properties, staticmethod/classmethod, constructors (Python `__init__` and
dataclasses), inheritance with `super()`, named tuples, callable objects, operator
overloading including the reflected forms, and the seed's models.
"""
import collections
import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from dpnb import Tangent, gradient

try:
    from ._fd import check_gradient
except ImportError:
    from _fd import check_gradient


# -- a vector class with operator overloading ---------------------------------------------


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, o):
        if isinstance(o, Vec):
            return Vec(self.x + o.x, self.y + o.y)
        return Vec(self.x + o, self.y + o)

    def __radd__(self, o):
        return Vec(o + self.x, o + self.y)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y)

    def __mul__(self, c):
        return Vec(self.x * c, self.y * c)

    def __rmul__(self, c):
        return Vec(c * self.x, c * self.y)

    def __truediv__(self, c):
        return Vec(self.x / c, self.y / c)

    def __matmul__(self, o):  # dot product
        return self.x * o.x + self.y * o.y

    def __neg__(self):
        return Vec(-self.x, -self.y)

    def __getitem__(self, i):
        if i not in (0, 1, -1, -2):
            raise IndexError(i)  # a finite sequence: iter(v) and np.asarray(v) terminate
        return self.x if i in (0, -2) else self.y

    def __len__(self):
        return 2

    def norm(self):
        return math.sqrt(self @ self)

    @property
    def angle(self):
        return math.atan2(self.y, self.x)

    @staticmethod
    def cross(a, b):
        return a.x * b.y - a.y * b.x

    @classmethod
    def polar(cls, r, theta):
        return cls(r * math.cos(theta), r * math.sin(theta))

    def scaled(self, c):
        return self * c


def test_add_sub():
    b = Vec(0.5, -1.5)
    check_gradient(lambda x, y: ((Vec(x, y) + b) - Vec(y, 1.0)).norm(), 1.2, 0.7, wrt=[0])


def test_operator_overloading_each_operator():
    def f(x, y):
        v, w = Vec(x, y), Vec(y, x * x)
        r = (v + w) * 2.0                 # __add__, __mul__
        r = r - w / 4.0                   # __sub__, __truediv__
        r = -r                            # __neg__
        return (r @ v) + r[0] * r[1]      # __matmul__, __getitem__

    check_gradient(f, 0.8, -1.3)


def test_reflected_radd_rmul():
    def f(x, y):
        v = Vec(x, y)
        u = 2.0 * v                       # float.__mul__ fails -> Vec.__rmul__
        w = 1.5 + u                       # Vec.__radd__
        return w.x * w.y + sum([v, v], 0.0).x   # sum starts at 0.0: __radd__ again

    g = check_gradient(f, 0.6, 1.7)
    # exact: w = (1.5 + 2x, 1.5 + 2y); f = (1.5+2x)(1.5+2y) + 2x
    assert g == (pytest.approx(2 * (1.5 + 2 * 1.7) + 2), pytest.approx(2 * (1.5 + 2 * 0.6)))


def test_rmul_with_a_user_vector_exact():
    assert gradient(lambda x: (2.0 * Vec(x, 3.0)).x, 5.0) == (2.0,)
    assert gradient(lambda x: (Vec(x, 3.0) * 4.0).x, 5.0) == (4.0,)
    assert gradient(lambda x: (x + Vec(1.0, 2.0)).y, 5.0) == (1.0,)


def test_methods_and_properties():
    def f(r, th):
        v = Vec(r * math.cos(th), r * math.sin(th))
        return v.norm() * v.angle + v.scaled(3.0).y

    check_gradient(f, 1.3, 0.4)


def test_staticmethod_and_classmethod():
    def f(r, th, z):
        a = Vec.polar(r, th)
        b = Vec(z, z * z)
        return Vec.cross(a, b) + a.cross(b, a)

    check_gradient(f, 1.1, 0.6, -0.4)


def test_method_called_through_the_class_and_bound_method_as_value():
    def f(x):
        v = Vec(x, 2 * x)
        m = v.scaled
        return Vec.norm(v) + m(x).y

    check_gradient(f, 0.9)


def test_gradient_wrt_a_user_object():
    (t,) = check_gradient(lambda v: (v @ v) * v.angle + (-v)[1], Vec(0.3, 0.8))
    assert isinstance(t, Tangent) and t.primal_type is Vec


# -- constructors ----------------------------------------------------------------------


def test_constructor_with_python_init_carries_gradient_into_fields():
    g = check_gradient(lambda x, y: Vec(x * y, y).x + Vec(x, x).y ** 2, 2.0, 3.0)
    assert g == (pytest.approx(3.0 + 4.0), pytest.approx(2.0))


@dataclass
class DPoint:
    x: float
    y: float
    label: str = "p"

    def __mul__(self, c):
        return DPoint(self.x * c, self.y * c, self.label)

    def __rmul__(self, c):
        return self * c


def test_dataclass_constructor_carries_gradient_into_fields():
    def f(x, y):
        p = DPoint(x, y * y)
        q = 3.0 * p
        return q.x * q.y

    g = check_gradient(f, 1.5, 2.0)
    assert g == (pytest.approx(9 * 4.0), pytest.approx(9 * 1.5 * 2 * 2.0))


@dataclass
class WithPostInit:
    a: float
    b: float = 0.0
    total: float = field(init=False, default=0.0)

    def __post_init__(self):
        self.total = self.a * 2.0 + self.b


def test_dataclass_post_init_and_default():
    check_gradient(lambda a, b: WithPostInit(a, b).total * WithPostInit(a).total, 0.7, 0.2)


@dataclass(frozen=True)
class Frozen:
    u: float
    v: float

    def dot(self, o):
        return self.u * o.u + self.v * o.v


def test_frozen_dataclass():
    (t, s) = check_gradient(lambda p, s: p.dot(Frozen(s, 2 * s)), Frozen(0.5, -1.0), 3.0)
    assert isinstance(t, Tangent) and t.primal_type is Frozen


# -- inheritance and super() --------------------------------------------------------------


class Shape:
    def __init__(self, scale):
        self.scale = scale

    def area(self):
        return self.scale * self.unit_area()

    def unit_area(self):
        return 1.0


class Circle(Shape):
    def __init__(self, r, scale):
        super().__init__(scale)
        self.r = r

    def unit_area(self):
        return math.pi * self.r**2


class Ring(Circle):
    def __init__(self, r, inner, scale):
        super().__init__(r, scale)
        self.inner = inner

    def unit_area(self):
        return super().unit_area() - math.pi * self.inner**2


def test_inheritance_and_super_init():
    g = check_gradient(lambda r, s: Circle(r, s).area(), 1.5, 2.0)
    assert g == (pytest.approx(2.0 * 2 * math.pi * 1.5), pytest.approx(math.pi * 1.5**2))


def test_super_method_two_levels():
    check_gradient(lambda r, i, s: Ring(r, i, s).area() + Shape(s).area(), 2.0, 0.5, 1.3)


def test_gradient_wrt_an_instance_of_a_subclass():
    (t,) = check_gradient(lambda c: c.area(), Ring(2.0, 0.7, 1.5))
    assert t.primal_type is Ring
    assert set(t.fields) <= {"scale", "r", "inner"}


class Square(Shape):
    def __init__(self, side, scale):
        Shape.__init__(self, scale)  # the base initializer named explicitly
        self.side = side

    def unit_area(self):
        return self.side**2


def test_base_init_called_explicitly():
    g = check_gradient(lambda a, s: Square(a, s).area(), 1.5, 2.0)
    assert g == (pytest.approx(2.0 * 2 * 1.5), pytest.approx(1.5**2))


class Base:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return self.w * x


class Child(Base):
    def __call__(self, x):
        return super().__call__(x) + x * x


def test_super_call_of_an_overloaded_dunder():
    check_gradient(lambda w, x: Child(w)(x), 1.7, -0.4)


# -- named tuples ------------------------------------------------------------------------

Pair = collections.namedtuple("Pair", "a b")


class Seg(collections.namedtuple("SegBase", "p q")):
    def length(self):
        return math.hypot(self.q[0] - self.p[0], self.q[1] - self.p[1])


def test_namedtuple_construct_and_read():
    def f(x, y):
        p = Pair(x * y, b=x + y)
        q = p._replace(a=p.a * 2.0)
        return q.a * q[1] + sum(p)

    check_gradient(f, 0.5, 2.5)


def test_namedtuple_subclass_with_a_method():
    check_gradient(lambda x, y: Seg((x, 0.0), (1.0, y)).length(), 0.2, 0.9)
    (g,) = check_gradient(lambda s: s.length(), Seg((0.0, 0.0), (3.0, 4.0)))
    assert type(g) is Seg


# -- callable objects ------------------------------------------------------------------


class Affine:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __call__(self, x):
        return self.a * x + self.b


class Compose:
    def __init__(self, *fs):
        self.fs = fs

    def __call__(self, x):
        for f in self.fs:
            x = f(x)
        return x


def test_callable_objects_composed():
    def f(a, b, x):
        h = Compose(Affine(a, b), math.tanh, Affine(b, a))
        return h(x)

    check_gradient(f, 0.7, -0.3, 1.1)


def test_gradient_wrt_a_callable_object():
    (t,) = check_gradient(lambda h: h(0.5) ** 2, Compose(Affine(0.7, -0.3), Affine(2.0, 1.0)))
    assert t.primal_type is Compose
    assert type(t.fs) is tuple and all(ti.primal_type is Affine for ti in t.fs)


# -- a small MLP written as dataclasses -----------------------------------------------


@dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return self.W @ x + self.b


@dataclass
class MLP:
    layers: list
    activation: str = "tanh"

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = np.tanh(layer(x))
        return self.layers[-1](x)


def _mlp(seed, sizes):
    rng = np.random.default_rng(seed)
    return MLP([Linear(rng.normal(size=(m, n)) / np.sqrt(n), rng.normal(size=m)) for n, m in zip(sizes, sizes[1:])])


def mse(model, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total = total + np.sum((model(x) - y) ** 2)
    return total / len(xs)


def test_mlp_as_dataclasses_gradcheck():
    model = _mlp(0, [3, 4, 4, 2])
    rng = np.random.default_rng(1)
    xs, ys = list(rng.normal(size=(5, 3))), list(rng.normal(size=(5, 2)))
    (t, gxs, gys) = check_gradient(mse, model, xs, ys)
    assert isinstance(t, Tangent) and t.primal_type is MLP
    assert type(t.layers) is list and len(t.layers) == 3
    for tl, layer in zip(t.layers, model.layers):
        assert tl.primal_type is Linear and tl.W.shape == layer.W.shape and tl.b.shape == layer.b.shape
    assert t.activation is None


def test_mlp_hand_written_gradient_of_the_last_bias():
    model = _mlp(2, [2, 3, 1])
    x, y = np.array([0.3, -0.8]), np.array([0.5])
    (t,) = gradient(lambda m: np.sum((m(x) - y) ** 2), model)
    np.testing.assert_allclose(t.layers[-1].b, 2 * (model(x) - y))
    h = np.tanh(model.layers[0](x))
    np.testing.assert_allclose(t.layers[-1].W, np.outer(2 * (model(x) - y), h))


# -- the seed examples (the Point example lives in test_seed_examples_structures.py) ----


class SeedLinear:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        return self.W @ x + self.b


def test_seed_callable_linear_model():
    rng = np.random.default_rng(3)
    x = rng.random(5)
    model = SeedLinear(rng.random((2, 5)), rng.random(2))
    (t,) = check_gradient(lambda m: np.sum(m(x)), model)
    assert t.primal_type is SeedLinear
    np.testing.assert_allclose(t.W, np.tile(x, (2, 1)))
    np.testing.assert_allclose(t.b, [1.0, 1.0])


def test_seed_dict_of_parameters_model():
    rng = np.random.default_rng(4)
    x = rng.random(5)
    linear = lambda θ, x: θ["W"] @ x + θ["b"]
    θ = {"W": rng.random((2, 5)), "b": rng.random(2)}
    (gθ,) = check_gradient(lambda θ: np.sum(linear(θ, x)), θ)
    assert type(gθ) is dict and list(gθ) == ["W", "b"]
    np.testing.assert_allclose(gθ["W"], np.tile(x, (2, 1)))
    np.testing.assert_allclose(gθ["b"], [1.0, 1.0])
    check_gradient(lambda θ, x: np.sum(np.tanh(linear(θ, x)) ** 2), θ, x)


class _Money:
    def __init__(self, v):
        self.v = v

    def __add__(self, o):
        return _Money(self.v + (o.v if isinstance(o, _Money) else o))


class _Euro(_Money):
    def __radd__(self, o):  # a subclass's reflected method goes first, as in Python
        return _Euro(2.0 * self.v + o.v)


def test_a_subclass_reflected_operator_takes_precedence():
    def f(x, y):
        return (_Money(x) + _Euro(y)).v

    assert f(1.0, 3.0) == 7.0
    assert gradient(f, 1.0, 3.0) == (pytest.approx(1.0), pytest.approx(2.0))
