"""Write the index of NumPy's rules (`INDEX_TEXT` in `__init__.py`): the module of rules that
registers each NumPy key, by name (`key_name`): `python -m dpnb.rules.numpy._make_index`. The
modules are imported one after another (`MODULES`: each after those it imports) in a new process
with none of NumPy's rules registered, and what one adds to the registry's tables is its; a name
two modules register keys under is left out (a key of that name loads every module)."""
import json
import os
import subprocess
import sys

_PROBE = """
import importlib, json, sys
import numpy.fft, numpy.random
import dpnb
from dpnb.rules import registry as R
from dpnb.rules import numpy as N

R._DOMAINS = tuple(d for d in R._DOMAINS if d.concerns is not N.concerns)
R._refresh_pending()
TABLES = (R.RULES, R.CONSTANTS, R.SCALAR_RULES, R.NUMBER_CLOSED, R.ATTRIBUTE_RULES, R.CONSTANT_ATTRIBUTES)


def keys():
    return {k for t in TABLES for k in (dict.keys(t) if isinstance(t, dict) else t)}


owner = {}
for module in N.MODULES:
    before = keys()
    importlib.import_module("dpnb.rules.numpy." + module)
    for k in keys() - before:
        name = N.key_name(k)
        if name is not None:
            owner.setdefault(name, set()).add(module)
print(json.dumps({n: sorted(ms) for n, ms in owner.items()}))
"""


def index():
    """{name: module} from a new process."""
    out = subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONHASHSEED="0"))
    owners = json.loads(out.stdout)
    return {n: ms[0] for n, ms in sorted(owners.items()) if len(ms) == 1}


BEGIN = "# --- the index: written by `python -m dpnb.rules.numpy._make_index`, (module, its keys' names) ---\n"
END = "# --- end of the index ---\n"


def text(ix):
    """The index as `INDEX_TEXT`'s source: for each module, the names of its keys in one string."""
    import textwrap

    by_module = {}
    for name, module in sorted(ix.items()):
        by_module.setdefault(module, []).append(name)
    lines = ["INDEX_TEXT = ("]
    for module, names in by_module.items():
        lines.append(f"    ({module!r}, (")
        lines += [f"        {chunk + ' '!r}" for chunk in textwrap.wrap(" ".join(names), 88, break_on_hyphens=False)]
        lines.append("    )),")
    lines.append(")")
    return "\n".join(lines) + "\n"


def stored():
    """The index `INDEX_TEXT` holds now, as {name: module}."""
    from . import INDEX_TEXT

    return {name: module for module, names in INDEX_TEXT for name in names.split()}


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__init__.py")
    with open(path) as f:
        src = f.read()
    start, end = src.index(BEGIN) + len(BEGIN), src.index(END)
    new = src[:start] + text(index()) + src[end:]
    with open(path, "w") as f:
        f.write(new)
    print(f"{path}: index written")
