"""Rules for plain Python: the builtins, the `math` module and the `operator` module
(what the transform calls for `+ - * / // % ** @`, `abs`, `a[i]`, ...), registered by
`import dpnb`; those of `itertools` (`itertools_rules`) at the first look-up of an itertools
callable, and those of `statistics` (`statistics_rules`) at the first look-up of a `statistics`
callable once the program imported it, and those of `cmath` (`cmath_rules`) the same way (see
`dpnb.rules`).

Importing a module of this package registers its rules; it needs nothing from the other domains.
"""
from . import builtin_rules, copy_rules, dict_rules, math_rules, operator_rules  # noqa: F401

#: the modules of rules registered when first needed: (module whose import they wait for, or
#: None, the modules whose look-ups concern them, or None, the modules of rules)
LAZY = (
    (None, ("itertools",), ("itertools_rules",)),
    ("statistics", ("statistics",), ("statistics_rules",)),
    ("cmath", ("cmath",), ("cmath_rules",)),
)
