"""Write `_index.py`, the module of rules that registers each NumPy key, by name (`key_name`):
`python -m dpnb.rules.numpy._make_index`. Each module is imported in a new process, after the
modules it comes after, and what it adds to the registry's tables is its; a name two modules
register keys under is left out (a key of that name loads every module)."""
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
for module in N.CORE + tuple(m for _, ms in N.SUBPACKAGES for m in ms):
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


def source(ix):
    lines = [
        '"""Which module of rules registers each NumPy key, by `key_name` (written by `_make_index`;',
        'a key it does not name loads every module, and so does one its module did not register)."""',
        "INDEX = {",
    ]
    lines += [f"    {n!r}: {m!r}," for n, m in ix.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_index.py")
    with open(path, "w") as f:
        f.write(source(index()))
    print(f"{path}: written")
