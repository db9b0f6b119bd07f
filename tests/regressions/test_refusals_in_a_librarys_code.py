"""A refusal raised while dpnb follows a library's own code (NumPy's `np.put` calls `a.put()` in
NumPy's source) names the user's line that called into the library, not only the library's line."""
import numpy as np
import pytest

import dpnb
from dpnb.errors import DifferentiationError


def _put_first(x):
    a = x.copy()
    np.put(a, [0], [5.0])  # the line the message must name
    return np.sum(a * x)


def test_an_in_place_method_refused_inside_numpys_code_names_the_users_line():
    import inspect

    lines, start = inspect.getsourcelines(_put_first)
    line = start + next(i for i, s in enumerate(lines) if "np.put" in s)
    with pytest.raises(DifferentiationError) as e:
        dpnb.gradient(_put_first, np.array([0.5, -1.2, 2.0]))
    msg = str(e.value)
    assert "fromnumeric.py" in msg  # where the change is made
    assert f"{__file__}, line {line}" in msg  # and the user's own call


def test_an_in_place_method_in_the_users_code_names_only_that_line():
    def f(x):
        a = x.copy()
        a.put([0], [5.0])
        return np.sum(a * x)

    with pytest.raises(DifferentiationError) as e:
        dpnb.gradient(f, np.array([0.5, -1.2, 2.0]))
    msg = str(e.value)
    assert __file__ in msg and "library's code" not in msg
