"""Code whose gradient (and in two cases its value) came out wrong without a word, each found by
trying ordinary Python and NumPy against central differences:
- a class's operator, `__getitem__`, property or `__getattr__` that returns a new object holding a
  list or an array: the backward pass skipped the method's pullback (None);
- a lambda's default inside a comprehension (`[lambda y, i=i: y * i for i in range(3)]`) was read in
  the enclosing function's scope: the value itself was wrong (45.0 for 4.5);
- `functools.partial(h, b=x)`: the keyword's gradient stayed in the partial's dict (None);
- `pow(x, 3, None)` was taken for modular power (None);
- `L.__iadd__(...)` called by name: its cotangents were read in the operator's layout (1.0 for 3.0);
- a bound method of an array, list or dict kept in a variable (`m = x.sum; m()`): the object's
  cotangent went to the first argument's place (None);
- a function given a new `__code__` in place (IPython's `%autoreload`) after a gradient was taken:
  a caller that had it written inline kept the old body, value and gradient;
- `a ** b` of a negative float `a` (a complex number): nan for the exponent's gradient;
- `jacobian` of a complex function: the imaginary part was dropped;
- numbers read back from a dict's keys (`d.items()`, `d.keys()`, `statistics.mode`): None, now
  refused; `float.as_integer_ratio` and `statistics.NormalDist.from_samples`: None;
- a class's `__iter__` that returns an iterator over a list it builds (`iter([self.a, self.b])`):
  None in a `for` loop;
- an array of Python objects (dtype=object) changed in place: None, now refused;
- the same iterator given twice to `zip` or `map` (`zip(it, it)`): the items' gradients were
  sent to the wrong places;
- `defaultdict(lambda: a)`: the default's gradient was dropped;
- what a class's own comparison methods, operators whose result is not used, and a `with`
  statement's `__enter__` and `__exit__` change (a list they append to): they ran as plain
  Python, out of the gradient's sight (None, or 1.0 for 8.0)."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient

try:
    from ._regress_check import gradient_differences, load_module  # noqa: F401 (a fixture)
except ImportError:  # pragma: no cover - run from the directory
    from _regress_check import gradient_differences, load_module  # noqa: F401 (a fixture)


def _value_and_gradient_agree(f, x, rel=1e-7, abs=None):
    """`withgradient(f, x)` of a float: the value `f` gives, the gradient central differences give."""
    y, (g,) = dpnb.withgradient(f, x)
    assert y == pytest.approx(f(x), rel=1e-12)
    assert g is not None and float(g) == pytest.approx(numerical_gradient(f, x)[0], rel=rel, abs=abs)


SOURCE = '''
import collections
import functools
import statistics

import numpy as np

class Vec:
    def __init__(self, xs):
        self.xs = xs

    def __mul__(self, o):
        return Vec([a * o for a in self.xs])

    __rmul__ = __mul__

    def __neg__(self):
        return Vec([-a for a in self.xs])

    def __getitem__(self, i):
        return Vec(self.xs[i])

    @property
    def doubled(self):
        return Vec([a * 2 for a in self.xs])

class Arr:
    def __init__(self, a):
        self.a = a

    def __add__(self, o):
        return Arr(self.a + o)

    def __getattr__(self, name):
        if name == "twice":
            return Arr(self.a * 2)
        raise AttributeError(name)

def operator_new_object(x):
    return (Vec([x, 2.0]) * 3.0).xs[0]

def reflected_new_object(x):
    v = Vec([x, 2.0])
    return (3.0 * v).xs[0] + v.xs[0]

def negated_new_object(x):
    return (-Vec([x, x * x])).xs[1]

def item_new_object(x):
    return Vec([x, x * 3.0])[1:].xs[0]

def property_new_object(x):
    return Vec([x, 1.0]).doubled.xs[0] * x

def array_fields(x):
    return float(np.sum((Arr(np.array([x, 2 * x])) + 1.0).twice.a))

def lambda_defaults(x):
    i = 10
    fs = [lambda y, i=i: y * i for i in range(3)]
    return sum(g(x) for g in fs)

def keyword_only_defaults(x):
    fs = {i: (lambda y, *, i=i: y * i) for i in range(3)}
    return sum(g(x) for g in fs.values())

def h(a, b):
    return a * b * b

def partial_by_keyword(x):
    return functools.partial(h, b=x)(3.0)

def partial_both(x):
    return functools.partial(h, x * 2.0, b=x)()

def power_with_none(x):
    return pow(x, 3, None) + pow(x, 2.0, mod=None)

def iadd_by_name(x):
    L = [x]
    r = L.__iadd__([x * 2])
    return r[1] * 10 + L[0]

def bound_method_kept(x):
    m = x.sum
    return m() * 2

def bound_method_reshape(x):
    fn = x.reshape
    return np.sum(fn(3, 1) * np.arange(3.0)[:, None])

def bound_method_of_dict(x):
    d = {"a": x[0], "b": x[1]}
    get = d.get
    return get("a") * 5 + get("z", x[2])

def as_ratio(x):
    n, d = x.as_integer_ratio()
    return n / d * x

def normal_from_samples(x):
    return statistics.NormalDist.from_samples([x, 2 * x, 0.5]).stdev

class Pair:
    def __init__(self, v):
        self.v = v

    def __iter__(self):
        return iter([self.v, self.v * 2])

def iter_builds_a_list(x):
    s = 0.0
    for e in Pair(x):
        s = s + e * e
    return s

def iter_in_a_comprehension(x):
    return sum([e * 3 for e in Pair(x)])

def iter_twice(x):
    t = 0.0
    p = Pair(x)
    for i in range(2):
        for e in p:
            t = t + e * i
    return t

def grouper(x):
    it = iter([x, 2 * x, x * x, 3.0])
    return sum(s * 2 + t * 3 for s, t in zip(it, it))

def grouper_map(x):
    it = iter([x, 2 * x, x * x, 3.0])
    return sum(map(lambda s, t: s * t, it, it))

def default_factory(x):
    d = collections.defaultdict(lambda: x)
    return d["k"] * 3.0 + d["k"]

def default_factory_list(x):
    d = collections.defaultdict(lambda: [x, x * x])
    return d["k"][0] * 2 + d["k"][1] * 3
'''

SCALAR = ["operator_new_object", "reflected_new_object", "negated_new_object", "item_new_object",
          "property_new_object", "array_fields", "lambda_defaults", "keyword_only_defaults", "partial_by_keyword",
          "partial_both", "power_with_none", "iadd_by_name", "as_ratio", "normal_from_samples", "iter_builds_a_list",
          "iter_in_a_comprehension", "iter_twice", "grouper", "grouper_map", "default_factory", "default_factory_list"]
ARRAY = ["bound_method_kept", "bound_method_reshape", "bound_method_of_dict"]


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


@pytest.mark.parametrize("name", SCALAR)
def test_value_and_gradient_of_a_float_function(m, name):
    _value_and_gradient_agree(getattr(m, name), 1.5, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", ARRAY)
def test_gradient_of_an_array_function(m, name):
    f = getattr(m, name)
    x = np.array([1.3, 0.7, -0.4])
    (g,) = dpnb.gradient(f, x)
    np.testing.assert_allclose(g, numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-9)


POWERS = '''
def negative_base(a, b):
    return (a ** b).real

def magnitude(a, b):
    return abs(pow(a, b))
'''


@pytest.mark.parametrize("name", ["negative_base", "magnitude"])
def test_a_float_power_of_a_negative_base_is_complex_and_so_is_its_log(load_module, name):
    f = getattr(load_module(POWERS), name)
    got = dpnb.gradient(f, -1.3, 0.7)
    want = numerical_gradient(f, -1.3, 0.7)
    for g, w in zip(got, want):
        assert float(g) == pytest.approx(w, rel=1e-6)
    _, ydot = dpnb.jvp(f, (-1.3, 0.7), (0.0, 1.0))
    assert float(ydot) == pytest.approx(want[1], rel=1e-6)


COMPLEX = '''
import numpy as np

def rotate(x):
    return np.exp(1j * x)

def rotate_outer(x):
    return np.exp(1j * np.outer(x, x)).ravel()

def rotate_one(x):
    return np.exp(1j * x) * x
'''


@pytest.mark.parametrize("name", ["rotate", "rotate_outer"])
def test_the_jacobian_of_a_complex_function_keeps_its_imaginary_part(load_module, name):
    f = getattr(load_module(COMPLEX), name)
    x = np.array([0.3, 1.2])
    (J,) = dpnb.jacobian(f, x)
    eps = 1e-6
    want = np.stack([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(J, want, rtol=1e-6, atol=1e-8)


def test_the_jacobian_of_a_complex_function_of_one_number(load_module):
    f = load_module(COMPLEX).rotate_one
    (J,) = dpnb.jacobian(f, 0.4)
    assert complex(J) == pytest.approx((f(0.4 + 1e-6) - f(0.4 - 1e-6)) / 2e-6, rel=1e-6)


REFUSED = '''
import collections
import statistics

import numpy as np

def keys_by_items(a):
    d = {a: 1.0, 2 * a: 2.0}
    return sum(k * v for k, v in d.items())

def keys_by_keys(a):
    d = {a: 1.0, 3.0: 2.0}
    return sum(d.keys())

def mode(a):
    return statistics.mode([a, a, 2.0]) * 3

def object_array(a):
    arr = np.empty(2, dtype=object)
    arr[0] = a
    arr[1] = 2.0
    return arr[0] * arr[1]

def string_keys_are_fine(a):
    d = {"u": a, "v": 2 * a}
    return sum(d[k] for k in d.keys()) + len(d.keys())
'''


@pytest.mark.parametrize("name", ["keys_by_items", "keys_by_keys", "mode", "object_array"])
def test_numbers_read_back_from_keys_or_object_arrays_are_refused(load_module, name):
    f = getattr(load_module(REFUSED), name)
    with pytest.raises(dpnb.DifferentiationError, match="keys of a dict|dtype=object"):
        dpnb.gradient(f, 1.5)


def test_keys_that_are_strings_stay_allowed(load_module):
    f = load_module(REFUSED).string_keys_are_fine
    assert dpnb.gradient(f, 1.5)[0] == pytest.approx(3.0)


RELOADED = '''
import numpy as np

def helper(x):
    return x * x

def caller(x):
    return np.sum(helper(x))

def helper_1(x):
    return 2.0 * x

def caller_1(x):
    return helper_1(x) * x
'''


def test_a_callee_given_new_code_in_place_is_differentiated_as_it_is_now(load_module):
    m = load_module(RELOADED)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(dpnb.gradient(m.caller, x)[0], [2.0, 4.0])
    m.helper.__code__ = (lambda x: x * x * x).__code__  # what a reload does
    y, (g,) = dpnb.withgradient(m.caller, x)
    assert y == pytest.approx(9.0)
    np.testing.assert_allclose(g, [3.0, 12.0])
    assert dpnb.gradient(m.caller_1, 1.5)[0] == pytest.approx(6.0)
    m.helper_1.__code__ = (lambda x: 5.0 * x).__code__
    assert dpnb.gradient(m.caller_1, 1.5)[0] == pytest.approx(15.0)


SIDE_EFFECTS = '''
import dataclasses

class Logged:
    def __init__(self, v, log):
        self.v = v
        self.log = log

    def __lt__(self, other):
        self.log.append(self.v * 2.0)
        return self.v < other.v

    def __eq__(self, other):
        self.log.append(self.v * 3.0)
        return self.v == other.v

    def __gt__(self, other):
        self.log.append(self.v * 7.0)
        return self.v > (other.v if isinstance(other, Logged) else other)

    def __add__(self, other):
        self.log.append(self.v * 2.0)
        return Logged(self.v + other.v, self.log)

    def __neg__(self):
        self.log.append(self.v * 5.0)
        return self

@dataclasses.dataclass(order=True)
class Point:
    v: float

def compared(x):
    log = []
    a, b = Logged(x, log), Logged(2 * x, log)
    if a < b:
        pass
    same = a == b
    return sum(log)

def reflected(x):
    log = []
    a = Logged(x * x, log)
    flag = 3.0 < a  # float.__lt__ gives NotImplemented for a Logged: Python asks a.__gt__(3.0)
    return sum(log)

def unused_operators(x):
    log = []
    a, b = Logged(x, log), Logged(2 * x, log)
    c = a + b
    d = -a
    return sum(log)

def dataclass_order(x):
    a, b = Point(x), Point(2 * x)
    return x * (a < b) + x * (a == b) + x * (a == Point(x))
'''


@pytest.mark.parametrize("name", ["compared", "reflected", "unused_operators", "dataclass_order"])
def test_a_classs_comparisons_and_operators_run_as_its_code(load_module, name):
    _value_and_gradient_agree(getattr(load_module(SIDE_EFFECTS), name), 1.5)


MANAGERS = '''
import warnings

import numpy as np

class Log:
    def __init__(self, acc, v):
        self.acc = acc
        self.v = v

    def __enter__(self):
        self.acc.append(self.v * 2.0)
        return self

    def __exit__(self, et, ev, tb):
        self.acc.append(self.v * 5.0)
        return False

class Quiet:
    def __init__(self, acc, v):
        self.acc = acc
        self.v = v

    def __enter__(self):
        return self.v * 3.0

    def __exit__(self, et, ev, tb):
        self.acc.append(self.v)
        return et is ValueError

def entered_and_left(x):
    acc = []
    with Log(acc, x) as log:
        acc.append(log.v * x)
    return sum(acc)

def value_entered(x):
    acc = []
    with Quiet(acc, x) as q:
        acc.append(q * q)
    return sum(acc)

def in_a_loop(x):
    acc = []
    for i in range(3):
        with Log(acc, x * i) as log:
            if i == 2:
                break
            acc.append(log.v * x)
    return sum(acc)

def suppressed(x):
    acc = []
    with Quiet(acc, x) as q:
        acc.append(q * q)
        raise ValueError("stop")
    return sum(acc)

def two_managers(x):
    acc = []
    with Log(acc, x) as a, Quiet(acc, x * x) as b:
        acc.append(b * a.v)
    return sum(acc)

def caught_outside(x):
    acc = []
    try:
        with Log(acc, x):
            acc.append(x * x)
            raise KeyError("out")
    except KeyError:
        pass
    return sum(acc)

class Scale:
    def __init__(self, k):
        self.k = k

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

def plain_manager(x):
    with Scale(x) as s:
        y = s.k * x * x
    return y

def library_managers(x):
    with np.errstate(divide="ignore"), warnings.catch_warnings():
        y = np.log(np.array([x, 0.0]))
    return y[0] * x
'''


@pytest.mark.parametrize("name", ["entered_and_left", "value_entered", "in_a_loop", "suppressed", "two_managers",
                                  "caught_outside", "plain_manager", "library_managers"])
def test_a_with_statements_manager_of_the_users_class_runs_as_its_code(load_module, name):
    _value_and_gradient_agree(getattr(load_module(MANAGERS), name), 1.5)


@pytest.mark.parametrize("name", ["value_entered", "entered_and_left", "suppressed"])
def test_a_second_derivative_through_a_users_manager_that_computes_is_refused_not_wrong(load_module, name):
    f = getattr(load_module(MANAGERS), name)
    with pytest.raises(dpnb.DifferentiationError, match="with` statement"):
        dpnb.hessian(f, 1.5)


def test_a_second_derivative_through_a_manager_that_only_returns_itself(load_module):
    f = load_module(MANAGERS).plain_manager
    assert dpnb.hessian(f, 1.5) == pytest.approx(6 * 1.5)


INTEGER_DTYPES = '''
import numpy as np

def summed_as_ints(x):
    return np.sum(x, dtype=np.int64) * np.sum(x)

def cumulated_as_ints(x):
    return np.sum(np.cumsum(x, dtype=np.int64) * x)

def multiplied_into_ints(x):
    return np.sum(np.multiply(x, 2.0, dtype=np.int64, casting="unsafe")) * x[0]

def method_as_ints(x):
    return x.sum(dtype=int) * x[1]
'''


@pytest.mark.parametrize("name", ["summed_as_ints", "cumulated_as_ints", "multiplied_into_ints", "method_as_ints"])
def test_an_integer_dtype_makes_each_value_an_int_first(load_module, name):
    f = getattr(load_module(INTEGER_DTYPES), name)
    x = np.array([1.3, 2.7, -0.4])
    (g,) = dpnb.gradient(f, x)
    np.testing.assert_allclose(g, numerical_gradient(f, x)[0], rtol=1e-6, atol=1e-8)


def test_fabs_and_abs_of_a_numpy_float(load_module):
    """`math.fabs(x[1])` and `abs(x[1])` of an array's entry (a NumPy float, whose comparisons give
    NumPy bools, which do not subtract): a TypeError from the rule before."""
    m = load_module('''
import math

def fabs_entry(x):
    return math.fabs(x[1]) * x[0]

def abs_entry(x):
    return abs(x[1]) * x[0]
''')
    x = np.array([0.3, -0.9])
    for f in (m.fabs_entry, m.abs_entry):
        np.testing.assert_allclose(dpnb.gradient(f, x)[0], numerical_gradient(f, x)[0], rtol=1e-7)


def test_the_second_derivative_through_a_method_that_appends_to_its_objects_list(load_module):
    """dpnb's own code reads objects' `__dict__` when it is differentiated for a second derivative:
    taken for the object's fields there (as `obj.__dict__` in the user's code is), the hessian
    through a method appending to `self.h` twice came out 0."""
    m = load_module('''
class History:
    def __init__(self):
        self.h = []

    def push(self, v):
        self.h.append(v)

def twice(t):
    q = History()
    q.push(t)
    q.push(3.0)
    return q.h[0] ** 3

def both(t):
    q = History()
    q.push(t)
    q.push(t * 2)
    return q.h[0] ** 3 + q.h[1]
''')
    for f in (m.twice, m.both):
        assert dpnb.hessian(f, 0.7) == pytest.approx(gradient_differences(f, 0.7), rel=1e-6)


REBOUND = '''
def squares(x):
    xs = [x, 2 * x]
    xs = [v * v for v in xs]
    return sum(xs)

def shifted(x):
    xs = [1.0, 2.0]
    xs = [v + x for v in xs]
    return xs[0] * xs[1]

def element_reads_it(x):
    x = [x * i for i in range(1, 3)]
    return sum(x)

def filtered(x):
    xs = [x, -x, 3 * x]
    xs = [v for v in xs if v > 0]
    return sum(v * v for v in xs)

def as_dict(x):
    d = {"a": x, "b": 2 * x}
    d = {k: v * v for k, v in d.items()}
    return d["a"] + d["b"]
'''


@pytest.mark.parametrize("name", ["squares", "shifted", "element_reads_it", "filtered", "as_dict"])
def test_a_comprehension_bound_to_the_name_it_reads(load_module, name):
    """`xs = [v * v for v in xs]` was built into `xs` itself: the loop read the new, empty list
    (a wrong value: 0.0, None for the gradient, or an error)."""
    _value_and_gradient_agree(getattr(load_module(REBOUND), name), 0.7)


def test_a_real_inputs_second_derivative_through_complex_numbers_is_real(load_module):
    """The cotangent of a real argument is the real part (a loss changes by Re(bar * dx)): through
    code dpnb differentiated once more, it reached `x` complex (hessian -6+8j for -6)."""
    m = load_module('''
def squared(x):
    z = x * (1 + 2j)
    return (z * z).real

def cubed(x):
    return abs((x + 2j * x) ** 3)
''')
    for f in (m.squared, m.cubed):
        want = gradient_differences(f, 0.6)
        h = dpnb.hessian(f, 0.6)
        assert isinstance(h, float) and h == pytest.approx(want, rel=1e-6)
        g = lambda s: dpnb.gradient(f, s)[0]  # noqa: E731
        assert dpnb.jvp(g, (0.6,), (1.0,))[1] == pytest.approx(want, rel=1e-6)


SECOND_ORDER_CHANGES = '''
import numpy as np

def added_at(x):
    a = np.zeros(3)
    np.add.at(a, np.array([0, 1, 2]), x)
    return np.sum(a ** 2)

def added_at_twice(x):
    a = np.ones(2)
    np.add.at(a, np.array([0, 0, 1]), x * x)
    return np.sum(a ** 3)

def popped(x):
    xs = [x[0], x[1], x[2]]
    xs.pop()
    return xs[0] ** 2 * xs[1] ** 3

def removed_and_reversed(x):
    xs = [x[0], x[1], x[2]]
    xs.remove(xs[1])
    xs.reverse()
    return xs[0] ** 2 * xs[1]
'''


@pytest.mark.parametrize("name", ["added_at", "added_at_twice", "popped", "removed_and_reversed"])
def test_second_derivatives_through_changes_undone_with_no_cotangent(load_module, name):
    """The pullback of a change (`np.add.at`, `list.pop`) runs with no cotangent when nothing reached
    its result, because it undoes the change. Differentiated once more, its code is compiled anew, and was
    not known as one that runs so: the hessian through `np.add.at` was 0, through `pop` an IndexError."""
    f = getattr(load_module(SECOND_ORDER_CHANGES), name)
    x = np.array([0.7, 1.3, 1.9])
    np.testing.assert_allclose(dpnb.hessian(f, x), gradient_differences(f, x), rtol=1e-5, atol=1e-6)


HANDED_OUT = '''
class Reversed:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        return reversed(self.xs)

class Paired:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        return zip(self.xs, self.xs)

class OwnIterator:
    def __init__(self, xs):
        self.xs = xs

    def __iter__(self):
        return self.xs.__iter__()

def reversed_items(x):
    t = 0.0
    for v in Reversed([x, x * x]):
        t = t + v * v
    return t

def paired_items(x):
    t = 0.0
    for u, v in Paired([x, x * x]):
        t = t + u * v
    return t

def the_lists_own_iterator(x):
    t = 0.0
    for v in OwnIterator([x, x * x]):
        t = t + v
    return t
'''


@pytest.mark.parametrize("name", ["reversed_items", "paired_items", "the_lists_own_iterator"])
def test_a_loop_over_what_a_classs_iter_hands_out(load_module, name):
    """`__iter__` returning a rule's list (`reversed`, `zip`: None before) or the list's own
    `xs.__iter__()` (a `NoRuleError` once `__iter__` ran as the user's code)."""
    f = getattr(load_module(HANDED_OUT), name)
    assert dpnb.gradient(f, 1.5)[0] == pytest.approx(numerical_gradient(f, 1.5)[0], rel=1e-7)
