"""The errors dpnb raises. Each is a subclass of `DifferentiationError`."""


class DifferentiationError(Exception):
    """Base class of every error dpnb raises about differentiation itself."""


class UnsupportedSyntaxError(DifferentiationError):
    """A construct the source transform does not support (`yield`, `async`, ...)."""

    def __init__(self, construct, filename=None, lineno=None, hint=None):
        self.construct = construct
        self.filename = filename
        self.lineno = lineno
        where = f"{filename}, line {lineno}" if filename else "<unknown source>"
        msg = f"{construct} is not supported by dpnb's source transform ({where})"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)


class NoRuleError(DifferentiationError):
    """A call to a callable with neither Python source nor a registered rule."""

    def __init__(self, func, reason=None):
        self.func = func
        name = describe_callable(func)
        msg = f"no differentiation rule for {name}"
        if reason:
            msg += f" ({reason})"
        msg += (
            f"; register one with `@dpnb.rrule({_short(func)})` (or `@dpnb.adjoint`), "
            f"or mark it constant with `dpnb.nograd({_short(func)})`"
        )
        super().__init__(msg)


class NoSourceError(NoRuleError):
    """A Python function whose source text Python does not keep (typed at a plain `python` prompt,
    passed with `python -c`, or built by `exec` of a string)."""

    def __init__(self, func, filename):
        self.func = func
        name = describe_callable(func)
        short = getattr(func, "__name__", "f")
        typed = filename == "<stdin>" or (
            filename == "<string>" and getattr(func, "__module__", None) == "__main__"
        )
        if typed:
            where = "typed at a plain `python` prompt or passed with `python -c`, whose source Python does not keep"
        elif filename == "<string>":
            where = "built by `exec` of a string, whose source Python does not keep"
        else:
            where = f"defined in {filename!r}, whose text Python cannot find"
        msg = (
            f"the source of {name} is not available ({where}); dpnb reads the source of what it "
            "differentiates: define the function in a file, or in IPython or Jupyter (which keep the "
            "source of every cell)"
        )
        if not typed:
            msg += f", or give it a rule with `@dpnb.rrule({short})`"
        DifferentiationError.__init__(self, msg)


class NonScalarOutputError(DifferentiationError):
    """`gradient` was asked for the gradient of something that is not a real scalar."""

    def __init__(self, value):
        import numpy as np

        self.value = value
        shape = np.shape(value) if isinstance(value, (np.ndarray, list, tuple)) else ()
        super().__init__(
            f"gradient needs f to return a real scalar, got {type(value).__name__} of shape {shape}; "
            "use dpnb.jacobian for vector outputs, or reduce the output (e.g. np.sum) first"
        )


def describe_callable(func):
    mod = getattr(func, "__module__", None)
    qual = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if qual is None:
        return repr(func)
    if mod and mod not in ("builtins",):
        return f"{mod}.{qual}"
    return qual


def _short(func):
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or "func"


def user_location():
    """'file, line N' of the innermost frame outside dpnb (the line being run); when that line is in a
    library's code (NumPy's, the standard library's), also the user's own line that called into it."""
    import sys

    from dpnb.core import runtime

    inner, users = runtime.lines_run(sys._getframe(1))
    if inner is None:
        return "<unknown>"
    return inner if users is None else f"{inner}, in a library's code that {users} calls"
