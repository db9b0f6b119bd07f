"""`L.append(4)` (an item that takes no cotangent: a constant, an int) was not undone by the
backward pass, so the list stayed one item longer and an earlier append's item took the cotangent
of a later slot: `xs.append(x); xs.append(4); return x + xs[-1]` gave 2 where the derivative is 1
(the reverse way: `pullback`, `withgradient`, and `gradient` where forward mode does not apply).
Found by the float-and-int random programs once they were compared with differences."""
import pytest
from _regress_check import import_source

import dpnb
from dpnb.testing import numerical_gradient

SOURCE = '''
def constant_then_read_last(x):
    xs = []
    xs.append(x)
    xs.append(4)
    return x + xs[-1]


def int_name_then_read_last(x):
    xs = []
    xs.append(x)
    k = 4
    xs.append(k)
    return x + xs[-1]


def in_a_loop(x):
    xs = []
    for i in range(3):
        xs.append(x * i)
        xs.append(i)
    return xs[-2] * xs[0] + xs[-1] * x + xs[2]


def read_under_a_condition(x):
    xs = []
    xs.append(x)
    xs.append(4)
    s = x
    s = s + xs[-1] if xs else s
    return s
'''

# the exact derivatives at x = 0.37
WANT = {
    "constant_then_read_last": 1.0,
    "int_name_then_read_last": 1.0,
    "in_a_loop": 2.0 * 0 + 2.0 + 1.0,  # xs = [0, 0, x, 1, 2x, 2]: 2x * 0 + 2 * x + x
    "read_under_a_condition": 1.0,
}


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    return import_source(tmp_path_factory.mktemp("append_constant"), "append_constant_mod", SOURCE)


@pytest.mark.parametrize("name", sorted(WANT))
def test_an_appended_constant_is_undone_in_the_backward_pass(m, name):
    f = getattr(m, name)
    num = numerical_gradient(f, 0.37)[0]
    assert abs(num - WANT[name]) < 1e-6
    for got in (dpnb.pullback(f, 0.37)[1](1.0)[0], dpnb.withgradient(f, 0.37).grad[0], dpnb.gradient(f, 0.37)[0]):
        assert abs(got - WANT[name]) < 1e-12, (name, got)
