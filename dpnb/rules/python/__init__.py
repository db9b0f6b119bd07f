"""Rules for plain Python: the builtins, the `math` module and the `operator` module
(what the transform calls for `+ - * / // % ** @`, `abs`, `a[i]`, ...).

Importing this package registers them; it needs nothing from the other domains.
"""
from . import builtin_rules, copy_rules, itertools_rules, math_rules, operator_rules, statistics_rules  # noqa: F401
