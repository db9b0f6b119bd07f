"""Every rule dpnb registers has at least one row in a rule table.

The tables are the `CASES` of the test modules beside this one (`test_numpy_*.py`,
`test_python_*.py`, ...), found by name, so a new table counts as soon as it exists.
"""
import importlib
import pathlib

from dpnb.rules.namespaces import FOREIGN_MODULES
from dpnb.rules.registry import ATTRIBUTE_RULES, CONSTANTS, RULES, load_all

_HERE = pathlib.Path(__file__).parent


def _tables():
    out = []
    for p in sorted(_HERE.glob("test_*.py")):
        if p.stem == "test_coverage":
            continue
        try:
            m = importlib.import_module(p.stem)
        except BaseException as e:  # a table of an optional domain skips when it is not installed
            if type(e).__name__ == "Skipped":
                continue
            raise
        if hasattr(m, "CASES"):
            out.append(m)
    return tuple(out)


TABLES = _tables()
load_all()  # the domains the tables' modules imported, registered now rather than when first needed

#: modules whose callables may be registered by tests, doctests or users, not by dpnb.rules; and
#: Dask's and CuPy's conversions (dpnb/rules/foreign.py), which tests/arrays checks on real arrays
_FOREIGN = ("tests", "test_", "__main__", "dpnb", "doctest", "_tables", "dask", "cupy")


def _is_dpnb_rule(f, rule):
    module = getattr(rule, "__module__", "") or ""
    if not module.startswith("dpnb.rules") or hasattr(rule, "__wrapped__"):
        return False  # a user rule (rrule/adjoint wrap theirs) or one from the transform
    owner = (getattr(f, "__module__", None) or "").partition(".")[0]
    if owner in FOREIGN_MODULES:
        # Dask's and CuPy's conversions (registered once a program imports them): NumPy's
        # conversion rule, tested with those libraries in tests/arrays
        return False
    return not (getattr(f, "__module__", None) or "").startswith(_FOREIGN)


def _name(f):
    owner = getattr(f, "__objclass__", None) or getattr(f, "__self__", None)
    prefix = f"{type(owner).__name__ if not isinstance(owner, type) else owner.__name__}." if owner else ""
    return prefix + (getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f))


def test_the_tables_are_found():
    names = {t.__name__ for t in TABLES}
    assert {"test_numpy_ufuncs", "test_numpy_linalg", "test_python_builtins", "test_python_math"} <= names


def test_every_registered_rule_has_a_case():
    covered = set()
    for table in TABLES:
        for case in table.CASES:
            covered.add(case.f)
    missing = sorted(_name(f) for f, rule in list(RULES.items()) if _is_dpnb_rule(f, rule) and f not in covered)
    assert not missing, f"rules with no row in any table: {missing}"


def test_every_row_names_a_registered_rule():
    for table in TABLES:
        for case in table.CASES:
            assert case.f in RULES, f"{table.__name__}: {_name(case.f)} has no rule"


def test_every_attribute_rule_has_a_case():
    import test_numpy_attributes

    covered = {(cls, n) for cls, n, _ in test_numpy_attributes.ATTRIBUTE_CASES}
    covered |= {(complex, "real"), (complex, "imag")}
    missing = {(cls.__name__, n) for cls, n in ATTRIBUTE_RULES if (cls, n) not in covered}
    assert not missing, f"attribute rules with no case: {sorted(missing)}"


def test_constants_are_not_also_rules():
    assert not (set(CONSTANTS) & set(RULES))
