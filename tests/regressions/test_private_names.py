"""Private names of classes: Python mangles `__name` inside a class body.

In `class Model: def loss(self): return self.__w`, the compiler reads the
attribute `_Model__w`; a bare `__name` in a method (a parameter, a local, a
global, a nested `def`) is `_Model__name` too, as is every `__name` of a lambda
or nested function of the class. Names ending in two underscores (`__init__`)
and names in functions outside any class are left alone; the class name loses
its leading underscores (`class _Foo` gives `_Foo__w`), a class named only with
underscores mangles nothing, and each class mangles with its own name (a nested
class, a subclass). Strings (`getattr(self, "__w")`) and keyword arguments of
calls (`f(__k=1)`) are never mangled.

Today: dpnb read a method's source and compiled its adjoint outside any class,
so nothing was mangled: `self.__w` looked up the attribute `__w` (an
`AttributeError`, or silently the value of another attribute spelled `__w`), a
bare `__scale` read the global `__scale` where Python reads `_Model__scale`.

Gradients are checked against central differences (`dpnb.testing`); objects
passed as parameters get `Tangent`s whose fields are the real attribute names.
"""
import ast
import dataclasses
import math
import types

import numpy as np
import pytest

import dpnb
from dpnb.core.parse import function_source
from dpnb.testing import gradcheck, numerical_gradient

try:
    from ._regress_check import check_fd, expect_grad
except ImportError:
    from _regress_check import check_fd, expect_grad


# -- a method reading, writing and calling private names ----------------------------------


class Model:
    def __init__(self, w, b=0.5):
        self.__w = w
        self.b = b

    def loss(self):
        return self.__w * self.__w + math.sin(self.b)

    def predict(self, x):
        return self.__w * x + self.b

    def __helper(self, x):
        return math.exp(self.__w * x)

    def through_helper(self, x):
        return self.__helper(x) + self.__w

    def rescaled(self, x):
        self.__w = self.__w * x
        return self.__w * self.b

    def private_arguments(self, __x, *, __k=2.0):
        __y = __x * self.__w
        return __y * __k

    def with_closure(self, x):
        def inner(t):
            return t * self.__w

        scale = lambda t: t + self.__w  # noqa: E731
        return inner(x) * scale(x)

    def maker(self):
        return lambda x: x * x * self.__w


def test_method_reads_a_private_attribute():
    check_fd(lambda m: m.loss(), Model(1.3, 0.4))
    g = dpnb.gradient(lambda m: m.loss(), Model(1.3, 0.4))[0]
    assert isinstance(g, dpnb.Tangent) and set(g.fields) == {"_Model__w", "b"}
    assert g.fields["_Model__w"] == pytest.approx(2 * 1.3)


def test_gradient_with_respect_to_an_argument_of_such_a_method():
    m = Model(1.7)
    assert dpnb.gradient(lambda x: m.predict(x), 0.3) == (pytest.approx(1.7),)
    check_fd(lambda m, x: m.predict(x) ** 2, Model(1.7, -0.2), 0.3)


def test_private_method_called_through_self():
    check_fd(lambda m, x: m.through_helper(x), Model(0.6, 0.1), 0.8)


def test_private_attribute_written_then_read():
    check_fd(lambda w, b, x: Model(w, b).rescaled(x), 0.6, 1.5, 0.8)
    check_fd(lambda x: Model(x, 2.0).rescaled(x), 0.7)
    m = Model(0.6, 1.5)
    (g,) = dpnb.gradient(lambda m: m.rescaled(0.8), m)
    # w <- w x, then w b: d/dw = x b, d/db = w x (w as it was before the call)
    expect_grad(g, dpnb.Tangent(Model, {"_Model__w": 0.8 * 1.5, "b": 0.6 * 0.8}))
    assert vars(m) == {"_Model__w": pytest.approx(0.6 * 0.8), "b": 1.5}  # written where Python writes


def test_private_parameters_and_locals():
    # `__x`, `__k` and `__y` are `_Model__x`, `_Model__k`, `_Model__y` inside the class
    assert "_Model__x" in Model.private_arguments.__code__.co_varnames
    check_fd(lambda m, x: m.private_arguments(x), Model(0.6), 0.8)
    check_fd(lambda x: Model(0.6).private_arguments(x, _Model__k=x), 0.8)


def test_nested_function_and_lambda_in_a_method():
    check_fd(lambda m, x: m.with_closure(x), Model(0.6), 0.8)


def test_a_lambda_made_by_a_method_differentiated_itself():
    f = Model(1.4).maker()
    assert f.__code__.co_qualname == "Model.maker.<locals>.<lambda>"
    assert dpnb.gradient(f, 3.0) == (pytest.approx(2 * 3.0 * 1.4),)


def test_adjoint_source_shows_the_names_that_run():
    src = dpnb.adjoint_source(Model.predict, Model(1.0), 2.0)
    assert "_Model__w" in src
    assert ".__w" not in src


def test_hessian_through_a_private_attribute():
    m = Model(1.2)
    h = dpnb.hessian(lambda x: m.through_helper(x), 0.5)
    # d²/dx² exp(w x) = w² exp(w x)
    assert float(np.asarray(h)) == pytest.approx(1.2**2 * math.exp(1.2 * 0.5))


# -- silent wrong values: a name that also exists unmangled ----------------------------------

__scale = 100.0  # a module-level name spelled `__scale`: methods of a class never see it
_Both__scale = 3.0  # what `__scale` means inside class `Both`


class Both:
    def __init__(self, w):
        self.__w = w

    def loss(self, x):
        return self.__w * x * __scale


def test_attribute_spelled_with_and_without_mangling():
    b = Both(3.0)
    b.__w = 100.0  # outside a class: an attribute literally named `__w`
    assert vars(b) == {"_Both__w": 3.0, "__w": 100.0}
    assert b.loss(2.0) == 18.0
    # the method reads `_Both__w` (3.0) and the global `_Both__scale` (3.0)
    assert dpnb.gradient(lambda x: b.loss(x), 2.0) == (pytest.approx(9.0),)
    check_fd(lambda b, x: b.loss(x), b, 2.0)


# -- class names ---------------------------------------------------------------------------


class _Private:
    def __init__(self, w):
        self.__w = w

    def loss(self, x):
        return self.__w * x**2


class __Hidden:
    def __init__(self, w):
        self.__w = w

    def loss(self, x):
        return self.__w * x**3


class ___:
    """A class named only with underscores: nothing in it is mangled."""

    def __init__(self, w):
        self.__w = w

    def loss(self, x):
        return self.__w * math.sin(x)


def test_class_name_with_leading_underscores():
    p = _Private(1.5)
    assert "_Private__w" in vars(p)
    check_fd(lambda p, x: p.loss(x), p, 0.7)
    h = __Hidden(0.5)  # at module level `__Hidden` is not mangled
    assert "_Hidden__w" in vars(h)
    check_fd(lambda h, x: h.loss(x), h, 0.7)


def test_class_named_only_with_underscores_mangles_nothing():
    u = ___(1.5)
    assert "__w" in vars(u)
    check_fd(lambda u, x: u.loss(x), u, 0.7)


# -- nested classes, classes in functions, subclasses ----------------------------------------


class Outer:
    def __init__(self, w):
        self.__w = w
        self.inner = Outer.Inner(2.0 * w)

    class Inner:
        def __init__(self, w):
            self.__w = w

        def loss(self, x):
            return self.__w * x

    def loss(self, x):
        return self.__w * self.inner.loss(x) ** 2


def test_nested_class_mangles_with_its_own_name():
    o = Outer(0.8)
    assert "_Inner__w" in vars(o.inner) and "_Outer__w" in vars(o)
    check_fd(lambda o, x: o.loss(x), o, 0.6)


def _class_in_a_function():
    class Local:
        def __init__(self, w):
            self.__w = w

        def loss(self, x):
            return self.__w * x * x

    return Local


def test_class_defined_inside_a_function():
    Local = _class_in_a_function()
    assert Local.loss.__code__.co_qualname == "_class_in_a_function.<locals>.Local.loss"
    check_fd(lambda m, x: m.loss(x), Local(1.3), 0.4)


class Base:
    def __init__(self, w):
        self.__w = w

    def base_part(self, x):
        return self.__w * x


class Derived(Base):
    def __init__(self, w, v):
        Base.__init__(self, w)
        self.__w = v  # a second attribute, `_Derived__w`

    def loss(self, x):
        return self.base_part(x) * self.__w + self.__w**2


def test_subclass_and_base_each_mangle_with_their_own_name():
    d = Derived(0.5, 2.0)
    assert vars(d) == {"_Base__w": 0.5, "_Derived__w": 2.0}
    g = check_fd(lambda d, x: d.loss(x), d, 0.7)
    # loss = w x v + v²: d/dw = x v, d/dv = w x + 2 v, d/dx = w v
    expect_grad(g, (dpnb.Tangent(Derived, {"_Base__w": 0.7 * 2.0, "_Derived__w": 0.5 * 0.7 + 4.0}), 0.5 * 2.0))


# -- dataclasses and __slots__ ---------------------------------------------------------------


@dataclasses.dataclass
class Params:
    __w: float
    b: float = 0.25

    def loss(self, x):
        return self.__w * x * x + self.b


def test_dataclass_with_a_private_field():
    p = Params(1.5)
    assert [f.name for f in dataclasses.fields(p)] == ["_Params__w", "b"]
    check_fd(lambda p, x: p.loss(x), p, 0.6)
    check_fd(lambda x: Params(x * 2.0).loss(x), 0.6)


class Slotted:
    __slots__ = ("__w", "b")

    def __init__(self, w, b):
        self.__w = w
        self.b = b

    def loss(self, x):
        return self.__w * x + self.b * self.__w


def test_slots_with_a_private_name():
    s = Slotted(1.5, 0.5)
    assert not hasattr(s, "__dict__") and s._Slotted__w == 1.5
    check_fd(lambda x: Slotted(x, 0.5).loss(x), 0.8)
    check_fd(lambda x: s.loss(x), 0.8)
    (g, gx) = dpnb.gradient(lambda s, x: s.loss(x), s, 0.8)
    # loss = w x + b w: d/dw = x + b, d/db = w; every slot is a field, under its real name
    assert isinstance(g, dpnb.Tangent) and list(g.fields) == ["_Slotted__w", "b"]
    assert g.fields["_Slotted__w"] == pytest.approx(0.8 + 0.5)
    assert g.fields["b"] == pytest.approx(1.5)
    assert gx == pytest.approx(1.5)


class SlottedUnread:
    __slots__ = ("__w", "b")

    def __init__(self, w, b):
        self.__w = w
        self.b = b

    def loss(self, x):
        return self.b * x


def test_unread_private_slot_is_a_field_of_the_tangent():
    g = dpnb.gradient(lambda s: s.loss(2.0), SlottedUnread(1.5, 0.5))[0]
    assert list(g.fields) == ["_SlottedUnread__w", "b"]
    assert g.fields["_SlottedUnread__w"] is None and g.fields["b"] == pytest.approx(2.0)


# -- functions outside any class are not mangled ---------------------------------------------

__x = 0.75


def module_level(y):
    __y = y * y
    return __y * __x


def test_module_level_function_is_not_mangled():
    assert "__x" in module_level.__code__.co_names
    assert dpnb.gradient(module_level, 1.2) == (pytest.approx(2 * 1.2 * 0.75),)
    assert gradcheck(module_level, 1.2)


def test_lambda_at_module_level_reading_a_private_attribute_by_its_real_name():
    m = Model(2.5)
    assert dpnb.gradient(lambda x: m._Model__w * x, 1.0) == (pytest.approx(2.5),)


# -- what `global` hides from the qualified name ---------------------------------------------


class Declares:
    def __init__(self, w):
        self.__w = w

    def install(self):
        global _declared_reader

        def _declared_reader(obj, x):  # qualified name `_declared_reader`, mangled with Declares
            return obj.__w * x * x

        return _declared_reader


def test_function_declared_global_inside_a_method():
    reader = Declares(1.1).install()
    assert reader.__code__.co_qualname == "_declared_reader"
    assert "_Declares__w" in reader.__code__.co_names
    check_fd(reader, Declares(1.1), 0.9)


# -- the mangled source agrees with the compiler, name for name ------------------------------


class Everything:
    def all_forms(self, __a, *__v, __k=1, **__kw):
        global __g
        x = self.__attr + __g
        del self.__d
        __loc = 1
        try:
            pass
        except ValueError as __e:
            pass
        import __mod  # noqa: F401
        from m import o as __r  # noqa: F401
        g(__kwarg=1)  # noqa: F821 (a keyword argument: not mangled)
        getattr(self, "__string")  # a string: not mangled
        f = lambda __l: __l + self.__lam  # noqa: E731
        [__c for __c in __it]  # noqa: F821
        (__w := 3)

        def __inner():
            nonlocal __loc
            return __loc

        class Cls(__Base, metaclass=__Meta):  # noqa: F821 (bases: the method's names)
            __y = 1

            def h(self):
                return self.__z + self.__y

        match x:
            case Point(__ka=__mv):  # noqa: F821
                pass
            case [*__st]:
                pass
            case {"k": 1, **__rest}:
                pass
        return __dunder__, ___, __, _Everything__x, __a, f, __inner, Cls  # noqa: F821


    def more_forms(self, x):
        global __gl
        try:
            pass
        except* ValueError as __eg:  # noqa: F841
            pass
        with open(__p) as __fh:  # noqa: F821
            pass
        for __it in __seq:  # noqa: F821
            del __it

        async def __co():
            await __aw  # noqa: F821

        class _In:
            def f(self, __q):
                return [lambda: __q + self.__r for __i in range(2)], {__k: __v for __k, __v in x}

        return f"{self.__fs!r:{__wid}}", __gl, __co, _In  # noqa: F821


def _plain_function(a):
    __b = a.__c + __d  # noqa: F821
    return __b, a.__e__


def _names(code):
    """Every identifier the compiler wrote into `code` and the code objects inside it."""
    out, todo = set(), [code]
    while todo:
        c = todo.pop()
        out |= set(c.co_names) | set(c.co_varnames) | set(c.co_cellvars) | set(c.co_freevars)
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                todo.append(k)
            elif isinstance(k, tuple):  # keyword names of calls, names of `from ... import`
                out |= {s for s in k if isinstance(s, str)}
            elif isinstance(k, str) and "<locals>" not in k:
                out.add(k)
    return out - {".0"}


@pytest.mark.parametrize(
    "fn",
    [
        Everything.all_forms,
        Everything.more_forms,
        ___.loss,
        Model.private_arguments,
        Model.with_closure,
        Model(1.0).maker(),
        Outer.Inner.loss,
        _Private.loss,
        _plain_function,
        Declares(1.0).install(),
    ],
    ids=lambda f: f.__code__.co_qualname,
)
def test_mangled_source_compiles_to_the_same_names(fn):
    node = function_source(fn).node
    code = compile(ast.fix_missing_locations(ast.Module(body=[node], type_ignores=[])), "<mangled>", "exec")
    mine = next(k for k in code.co_consts if isinstance(k, types.CodeType))
    assert _names(mine) == _names(fn.__code__)


def test_numerical_gradient_sees_the_real_attribute_names():
    # the checker itself: a Tangent keyed by the attribute that exists
    (t,) = numerical_gradient(lambda m: m.loss(), Model(1.0, 0.0))
    assert set(t.fields) == {"_Model__w", "b"}


def test_a_method_with_dunder_names_only_is_not_mangled(monkeypatch):
    """The look before mangling: `__call__`, `__init__` (names ending in "__") are never mangled,
    so a method whose lines hold only those is read without the mangling pass; one with a
    private name on any line gets it."""
    from dpnb.core import mangle

    calls = []
    original = mangle.mangle_function
    monkeypatch.setattr(mangle, "mangle_function", lambda fdef, code: calls.append(code.co_name) or original(fdef, code))

    class Layer:
        def __init__(self, w):
            self.__w = w
            self.v__ = w

        def __call__(self, x):
            return x * self.v__ + x.__abs__()

        def private(self, x):
            return x * self.__w

    function_source(Layer.__call__)
    function_source(Layer.__init__)
    function_source(Layer.private)
    assert calls == ["__init__", "private"]
    layer = Layer(3.0)
    assert dpnb.gradient(lambda x: layer(x) + layer.private(x), 2.0) == pytest.approx((7.0,))
