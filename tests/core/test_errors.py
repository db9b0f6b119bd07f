"""One test per row of SPEC §2's error table, plus how user exceptions propagate."""
import math
import os
import traceback

import numpy as np
import pytest

import dpnb
from dpnb import (
    DifferentiationError,
    NoRuleError,
    NonScalarOutputError,
    NoTangent,
    UnsupportedSyntaxError,
    gradient,
    rrule,
)

THIS_FILE = os.path.basename(__file__)


def line_of(marker):
    """The 1-based line number of the (unique) line of this file that ends with `marker`."""
    with open(__file__) as fh:
        hits = [i for i, line in enumerate(fh, 1) if line.rstrip().endswith(marker)]
    assert len(hits) == 1, f"marker {marker!r} found on lines {hits}"
    return hits[0]


def test_the_error_classes_are_differentiation_errors():
    for cls in (UnsupportedSyntaxError, NoRuleError, NonScalarOutputError):
        assert issubclass(cls, DifferentiationError)
    assert issubclass(DifferentiationError, Exception)


# -- UnsupportedSyntaxError --------------------------------------------------------


def generator_function(x):
    y = x * 2
    yield y  # MARK-yield
    yield y * x


def with_a_global(x):
    global SOME_GLOBAL
    SOME_GLOBAL = x * 2
    return SOME_GLOBAL * x


async def async_function(x):  # MARK-async-def
    return x * x


def with_a_nested_async_def(x):
    async def helper():  # MARK-nested-async
        return x

    return x * 3


def calls_a_generator_function(x):
    return x * 2 + generator_function(x).__next__()


def assert_unsupported(exc_info, construct_words, marker):
    err = exc_info.value
    msg = str(err)
    assert isinstance(err, DifferentiationError)
    assert any(w in msg for w in construct_words), f"the message does not name the construct: {msg}"
    assert THIS_FILE in msg, f"the message does not name the file: {msg}"
    line = line_of(marker)
    assert f"line {line}" in msg or f":{line}" in msg, f"the message does not name line {line}: {msg}"


def test_yield_is_unsupported():
    with pytest.raises(UnsupportedSyntaxError) as exc_info:
        gradient(generator_function, 1.5)
    assert_unsupported(exc_info, ["yield"], "# MARK-yield")


def test_yield_in_a_callee_is_unsupported():
    with pytest.raises(UnsupportedSyntaxError) as exc_info:
        gradient(calls_a_generator_function, 1.5)
    assert_unsupported(exc_info, ["yield"], "# MARK-yield")


def test_global_assignment_is_unsupported():
    with pytest.raises(UnsupportedSyntaxError) as exc_info:
        gradient(with_a_global, 1.5)
    assert_unsupported(exc_info, ["global"], "global SOME_GLOBAL")


def test_global_assignment_is_reported_before_running_anything():
    globals().pop("SOME_GLOBAL", None)
    with pytest.raises(UnsupportedSyntaxError):
        gradient(with_a_global, 1.5)
    assert "SOME_GLOBAL" not in globals()


def test_async_def_is_unsupported():
    with pytest.raises(UnsupportedSyntaxError) as exc_info:
        gradient(async_function, 1.5)
    assert_unsupported(exc_info, ["async"], "# MARK-async-def")


def test_nested_async_def_is_unsupported():
    with pytest.raises(UnsupportedSyntaxError) as exc_info:
        gradient(with_a_nested_async_def, 1.5)
    assert_unsupported(exc_info, ["async"], "# MARK-nested-async")


# -- NoRuleError -----------------------------------------------------------------


def test_function_built_by_exec_has_no_source():
    ns = {}
    exec("def opaque_double(x):\n    return x * 2\n", ns)
    opaque_double = ns["opaque_double"]
    assert opaque_double(3.0) == 6.0
    with pytest.raises(NoRuleError) as exc_info:
        gradient(lambda x: opaque_double(x) + x, 1.0)
    msg = str(exc_info.value)
    assert "opaque_double" in msg
    assert "rrule" in msg


def test_c_callable_without_a_rule():
    doubler = np.frompyfunc(lambda v: v * 2, 1, 1)  # a fresh ufunc: no source, no rule
    with pytest.raises(NoRuleError) as exc_info:
        gradient(lambda x: doubler(x) * 1.0, 1.0)
    msg = str(exc_info.value)
    assert doubler.__name__ in msg, msg
    assert "rrule" in msg


def test_no_rule_error_can_be_fixed_by_registering_a_rule():
    ns = {}
    exec("def opaque_square(x):\n    return x * x\n", ns)
    opaque_square = ns["opaque_square"]
    with pytest.raises(NoRuleError):
        gradient(lambda x: opaque_square(x), 3.0)

    @rrule(opaque_square)
    def opaque_square_rrule(x):
        return opaque_square(x), lambda dy: (NoTangent(), 2 * x * dy)

    assert gradient(lambda x: opaque_square(x), 3.0) == (6.0,)


# -- NonScalarOutputError --------------------------------------------------------


def test_vector_output():
    with pytest.raises(NonScalarOutputError) as exc_info:
        gradient(lambda x: x * 2.0, np.array([1.0, 2.0, 3.0]))
    msg = str(exc_info.value)
    assert "ndarray" in msg
    assert "(3,)" in msg
    assert "jacobian" in msg


def test_list_output():
    with pytest.raises(NonScalarOutputError) as exc_info:
        gradient(lambda x: [x, x * 2], 1.0)
    msg = str(exc_info.value)
    assert "list" in msg and "jacobian" in msg


def test_complex_output_is_not_a_real_scalar():
    with pytest.raises(NonScalarOutputError) as exc_info:
        gradient(lambda x: x * 1j, 2.0)
    assert "complex" in str(exc_info.value)


def test_string_output():
    with pytest.raises(NonScalarOutputError) as exc_info:
        gradient(lambda x: str(x), 2.0)
    assert "str" in str(exc_info.value)


# -- a rule with the wrong number of tangents -------------------------------------


def test_pullback_with_the_wrong_number_of_tangents_names_the_rule():
    def two_args(a, b):
        return a * b

    @rrule(two_args)
    def two_args_bad_rrule(a, b):
        def two_args_bad_pullback(dy):
            return NoTangent(), dy * b  # one tangent missing

        return two_args(a, b), two_args_bad_pullback

    with pytest.raises(DifferentiationError) as exc_info:
        gradient(lambda x: two_args(x, 2.0), 3.0)
    msg = str(exc_info.value)
    assert "two_args" in msg, msg


# -- exceptions raised by the user's own code --------------------------------------


def raises_in_a_branch(x):
    if x > 1:
        raise ValueError(f"x too large: {x}")  # MARK-raise
    return x * x


def callee_that_divides(x, y):
    return x / y  # MARK-divide


def outer_with_a_loop(x):
    s = 0.0
    for i in range(3):
        s = s + callee_that_divides(x, 2 - i)
    return s


def frames_for(exc_info):
    return [(os.path.basename(fr.filename), fr.lineno) for fr in traceback.extract_tb(exc_info.tb)]


def test_user_exception_propagates_with_its_type_and_line():
    assert gradient(raises_in_a_branch, 0.5) == (1.0,)
    with pytest.raises(ValueError, match="x too large: 2.0") as exc_info:
        gradient(raises_in_a_branch, 2.0)
    assert type(exc_info.value) is ValueError
    assert (THIS_FILE, line_of("# MARK-raise")) in frames_for(exc_info), frames_for(exc_info)


def test_user_exception_from_a_callee_in_a_loop():
    with pytest.raises(ZeroDivisionError) as exc_info:
        gradient(outer_with_a_loop, 1.0)
    assert type(exc_info.value) is ZeroDivisionError
    assert (THIS_FILE, line_of("# MARK-divide")) in frames_for(exc_info), frames_for(exc_info)


def test_user_exception_from_a_math_domain_error():
    def f(x):
        y = x - 2
        return math.sqrt(y)  # MARK-sqrt

    with pytest.raises(ValueError) as exc_info:
        gradient(f, 1.0)
    assert (THIS_FILE, line_of("# MARK-sqrt")) in frames_for(exc_info), frames_for(exc_info)


def test_user_exception_inside_a_lambda():
    fs = {"a": lambda x: x * 2}
    f = lambda x: fs["b"](x)  # MARK-keyerror
    with pytest.raises(KeyError) as exc_info:
        gradient(f, 1.0)
    assert (THIS_FILE, line_of("# MARK-keyerror")) in frames_for(exc_info)


def test_user_exception_is_not_wrapped_in_a_differentiation_error():
    class MyError(Exception):
        pass

    def f(x):
        raise MyError("mine")

    with pytest.raises(MyError) as exc_info:
        gradient(f, 1.0)
    assert not isinstance(exc_info.value, DifferentiationError)
    assert str(exc_info.value) == "mine"
