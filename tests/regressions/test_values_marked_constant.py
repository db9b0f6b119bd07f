"""Values that the tables of constants, or the heap, let slip out of the gradient without a word:
- `np.bincount(x, weights)` sums its weights, and `np.heaviside(x1, x2)` is `x2` where `x1 == 0`:
  both were constants, so the weights and `x2` got None; and the pullback of an assignment with an
  index list or mask uses `bincount`, so `jvp` and `hessian` through `a[[0, 1]] = v` or
  `a[a > 0] *= 2` lost the tangent of the written values (2.3 for 6.9);
- `set(...)`, `frozenset(...)`, `{x, y}` and `{... for ...}` were constants: `sum({x, 2 * x})` gave
  None for 3.0. A set keeps one of equal numbers and no order, so nothing says which number an
  element came from: a gradient that reaches an element is refused now, as is one that reaches a
  dict's keys (`sum(d)`, `for k in d`), where the loop over them dropped it. Sets of ints and
  strings, their sizes and membership tests are as before;
- `vars(obj)` and `obj.__dict__` are the object's fields: a value written through them (the common
  `self.__dict__.update(kw)` in `__init__`) or read through them got no gradient (None, or 4.0
  for 6.0)."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import gradient_differences, load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import gradient_differences, load_module  # noqa: F401 (a fixture)


ARRAYS = '''
import numpy as np

def weights_by_position(w):
    return np.sum(np.bincount(np.array([0, 2, 2]), w, 4) ** 2)

def weights_by_keyword(w):
    return np.sum(np.bincount(np.array([1, 1, 0]), weights=w * w, minlength=3) * np.array([1.0, 2.0, 3.0]))

def value_at_zero(w):
    return np.sum(np.heaviside(np.array([0.0, 1.0, 0.0]), w) * w)

def index_list_assigned(w):
    a = np.zeros(3)
    a[[0, 1]] = w[:2] * w[:2]
    return np.sum(a * w)

def repeated_index_assigned(w):
    a = np.zeros(3)
    a[[0, 0, 2]] = w * w
    return np.sum(a * w)

def mask_scaled(w):
    a = w * 1.0
    a[a > 0] *= 2
    return np.sum(a * a * w)
'''

ARRAY_FUNCTIONS = ["weights_by_position", "weights_by_keyword", "value_at_zero", "index_list_assigned",
                   "repeated_index_assigned", "mask_scaled"]
W = np.array([1.0, -2.0, 3.0])


@pytest.fixture
def arrays(load_module):
    return load_module(ARRAYS)


@pytest.mark.parametrize("name", ARRAY_FUNCTIONS)
def test_the_gradient_reaches_the_summed_and_written_values(arrays, name):
    f = getattr(arrays, name)
    (got,) = dpnb.gradient(f, W)
    np.testing.assert_allclose(got, numerical_gradient(f, W)[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ARRAY_FUNCTIONS)
def test_jvp_and_hessian_agree_with_differences_of_the_gradient(arrays, name):
    f = getattr(arrays, name)
    v = np.array([0.3, 0.5, -0.7])
    np.testing.assert_allclose(dpnb.hessian(f, W), gradient_differences(f, W, eps=1e-6), rtol=1e-5, atol=1e-6)
    _, ydot = dpnb.jvp(f, (W,), (v,))
    assert float(ydot) == pytest.approx(float(dpnb.gradient(f, W)[0] @ v), rel=1e-9, abs=1e-9)


SETS = '''
def literal(x):
    return sum({x, 2 * x})

def built(x):
    return sum(set([x, 2 * x]))

def comprehension(x):
    return sum({v * 2 for v in [x, 3.0]})

def added(x):
    s = set()
    s.add(x)
    return sum(s)

def frozen(x):
    return sum(frozenset([x, 3 * x]))

def largest(x):
    return max({x, 2.0})

def ordered(x):
    return sorted(set([x, 2 * x]))[1]

def looped(x):
    t = 0.0
    for v in {x, 2 * x}:
        t = t + v
    return t

def dict_keys_summed(x):
    return sum({x: 1.0, 2 * x: 2.0})

def dict_keys_looped(x):
    d = {x: 1.0, 2 * x: 2.0}
    t = 0.0
    for k in d:
        t = t + k * d[k]
    return t

def ints_and_sizes(x):
    s = set()
    for i in range(3):
        s.add(i)
    return x * sum(s) + x * len({x, 3.0}) + (2.0 * x if 1 in s else 0.0)

def keyed_by_ints(x):
    d = {1: x, 2: 2 * x}
    t = 0.0
    for k in d:
        t = t + k * d[k]
    return t
'''


@pytest.fixture
def sets(load_module):
    return load_module(SETS)


@pytest.mark.parametrize("name", ["literal", "built", "comprehension", "added", "frozen", "largest", "ordered",
                                  "looped", "dict_keys_summed", "dict_keys_looped"])
def test_a_gradient_that_reaches_a_set_element_or_a_dict_key_is_refused(sets, name):
    with pytest.raises(dpnb.DifferentiationError, match="set|keys of a dict"):
        dpnb.gradient(getattr(sets, name), 1.5)


@pytest.mark.parametrize("name", ["ints_and_sizes", "keyed_by_ints"])
def test_sets_of_ints_sizes_and_int_keys_are_as_before(sets, name):
    f = getattr(sets, name)
    (got,) = dpnb.gradient(f, 1.5)
    assert got == pytest.approx(numerical_gradient(f, 1.5)[0], rel=1e-7)


FIELDS = '''
import numpy as np

class Keywords:
    def __init__(self, **kw):
        self.__dict__.update(kw)

class ByKey:
    def __init__(self, **kw):
        for k, v in kw.items():
            self.__dict__[k] = v

class Pair:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def total(self):
        return sum(v * v for v in self.__dict__.values())

def updated_in_init(x):
    p = Keywords(a=x, b=2 * x)
    return p.a * p.b

def set_by_key_in_init(x):
    p = ByKey(a=x, b=np.array([x, 3.0]))
    return p.a * np.sum(p.b)

def vars_values(x):
    q = Pair(x, 3 * x)
    return sum(vars(q).values())

def dict_values(x):
    q = Pair(x, 3 * x)
    return sum(q.__dict__.values())

def written_through_the_dict(x):
    q = Pair(x, 3 * x)
    q.__dict__["a"] = x * x
    return q.a + q.b

def written_through_vars(x):
    q = Pair(x, 3 * x)
    vars(q)["b"] = 5 * x
    return q.a * q.b

def read_in_a_method(x):
    return Pair(x, 2 * x).total()

def copied(x):
    q = Pair(x, 2 * x)
    d = dict(vars(q))
    d["a"] = 100.0
    return q.a + d["b"]

def mixed(x):
    q = Pair(x, 2 * x)
    t = 0.0
    for k, v in q.__dict__.items():
        t = t + v * x
    setattr(q, "a", x ** 3)
    return t + vars(q)["a"]

def keys_by_name(x):
    q = Pair(x, 3 * x)
    t = 0.0
    for k in vars(q):
        t = t + getattr(q, k) ** 2
    return t
'''

FIELD_FUNCTIONS = ["updated_in_init", "set_by_key_in_init", "vars_values", "dict_values", "written_through_the_dict",
                   "written_through_vars", "read_in_a_method", "copied", "mixed", "keys_by_name"]


@pytest.fixture
def fields(load_module):
    return load_module(FIELDS)


@pytest.mark.parametrize("name", FIELD_FUNCTIONS)
def test_fields_read_and_written_through_the_objects_dict(fields, name):
    f = getattr(fields, name)
    (got,) = dpnb.gradient(f, 1.5)
    assert got == pytest.approx(numerical_gradient(f, 1.5)[0], rel=1e-7)


@pytest.mark.parametrize("name", FIELD_FUNCTIONS)
def test_the_second_derivative_through_the_objects_dict(fields, name):
    f = getattr(fields, name)
    assert dpnb.hessian(f, 1.5) == pytest.approx(gradient_differences(f, 1.5), rel=1e-6, abs=1e-8)
