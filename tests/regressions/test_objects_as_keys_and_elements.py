"""Objects of a class used as a dict's keys or a set's elements (hashed by identity: the nodes of a
graph): read back through `d.items()`, `d.keys()`, `list(d)`, `sorted(d)` or a set, their
fields' gradients were dropped (None, or half of it for a set), while `for n in d` was right. A
rule that hands such an object back gave its cotangent to the keys' refusal of numbers, which
let it go; it goes back to the object now (a tuple key's objects one by one). Numbers as keys
or elements are refused as before. Checked against central differences."""
import numpy as np
import pytest

import dpnb
from dpnb.testing import numerical_gradient


class Node:
    def __init__(self, w):
        self.w = w


def items(x):
    a, b = Node(x), Node(x * x)
    degree = {a: 2.0, b: 3.0}
    return sum(n.w * d for n, d in degree.items())


def keys(x):
    return sum(n.w for n in {Node(x): 1, Node(2 * x): 2}.keys())


def listed(x):
    d = {Node(x): 1.0, Node(3 * x): 2.0}
    return sum(n.w * i for i, n in enumerate(list(d)))


def edges(x):
    a, b, c = Node(x), Node(x * x), Node(2.0)
    weight = {(a, b): 1.5, (b, c): 2.5}
    return sum(u.w * v.w * k for (u, v), k in weight.items())


def a_set_of_nodes(x):
    a, b = Node(x), Node(x * 3)
    return sum(n.w for n in {a, b}) + sum(n.w for n in sorted({a, b}, key=lambda n: n.w))


def keys_sorted(x):
    d = {Node(x): 1.0, Node(2 * x): 2.0}
    return sum(n.w for n in sorted(d, key=lambda n: n.w))


def array_fields(x):
    d = {Node(x): 1.0, Node(x * x): 2.0}
    return float(sum(np.sum(n.w) * k for n, k in d.items()))


@pytest.mark.parametrize("f", [items, keys, listed, edges, a_set_of_nodes, keys_sorted], ids=lambda f: f.__name__)
def test_gradient_against_differences(f):
    (g,) = dpnb.gradient(f, 0.7)
    assert g == pytest.approx(numerical_gradient(f, 0.7)[0], rel=1e-7)


def test_array_fields_and_a_hessian():
    x = np.array([0.5, -1.5])
    (g,) = dpnb.gradient(array_fields, x)
    np.testing.assert_allclose(g, numerical_gradient(array_fields, x)[0], rtol=1e-7)
    assert dpnb.hessian(items, 0.7) == pytest.approx(6.0)


def test_numbers_as_keys_are_still_refused():
    with pytest.raises(dpnb.DifferentiationError, match="keys of a dict"):
        dpnb.gradient(lambda x: sum(k for k, _ in {x: 1.0, 2 * x: 2.0}.items()), 0.7)
