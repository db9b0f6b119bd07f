"""Every rule dpnb registers has at least one row in a rule table."""
import test_builtins
import test_math
import test_numpy
import test_operator

from dpnb.rules.registry import ATTRIBUTE_RULES, CONSTANTS, RULES

TABLES = (test_builtins, test_math, test_numpy, test_operator)

#: modules whose callables may be registered by tests, doctests or users, not by dpnb.rules
_FOREIGN = ("tests", "test_", "__main__", "dpnb", "doctest", "_tables")


def _is_dpnb_rule(f, rule):
    module = getattr(rule, "__module__", "") or ""
    if not module.startswith("dpnb.rules") or hasattr(rule, "__wrapped__"):
        return False  # a user rule (rrule/adjoint wrap theirs) or one from the transform
    return not (getattr(f, "__module__", None) or "").startswith(_FOREIGN)


def _name(f):
    owner = getattr(f, "__objclass__", None) or getattr(f, "__self__", None)
    prefix = f"{type(owner).__name__ if not isinstance(owner, type) else owner.__name__}." if owner else ""
    return prefix + (getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f))


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
    covered = {("ndarray", n) for n, _ in test_numpy.ATTRIBUTE_CASES} | {("complex", "real"), ("complex", "imag")}
    missing = {(cls.__name__, n) for cls, n in ATTRIBUTE_RULES} - covered
    assert not missing, f"attribute rules with no case: {sorted(missing)}"


def test_constants_are_not_also_rules():
    assert not (set(CONSTANTS) & set(RULES))
