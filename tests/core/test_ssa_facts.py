"""`to_ssa` reads what it needs to drop unread join copies, to name versions and to say which
versions may be unbound from facts it notes while renaming (the versions the statements read,
the join copies made, the user's names bound under their own name), not from walks of the tree
afterwards, and looks for nested functions only where the namer saw one. On random functions (branches, loops with `break`, `try`, `with`, nested functions,
`del`, unpacking, imports) the result is the tree, the names and the facts that the walks give:
they are written out here as they were."""
import ast
import random

import pytest

from dpnb.core import ssa as ssa_mod
from dpnb.core.astlib import walk
from dpnb.core.names import Namer
from dpnb.core.normalize import Append, DictBuild, ListBuild, Native, SetKey, normalize


# --- the walks, as to_ssa made them -------------------------------------------------------------

def _loads_of(node):
    out = set()
    for n in walk(node):
        if isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Load):
                out.add(n.id)
        elif type(n) in ssa_mod._MARKED:
            for mark in ssa_mod._MARKS:
                extra = getattr(n, mark, None)
                if isinstance(extra, ast.Name):
                    out.add(extra.id)
    return out


def _dead_joins_by_walk(body, phis):
    joins, real = {}, set()

    def scan(stmts):
        for st in stmts:
            if getattr(st, "dpnb_join", False) and isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
                joins.setdefault(st.targets[0].id, set()).add(st.value.id)
                continue
            if isinstance(st, (ast.If, ast.While)):
                real.update(_loads_of(st.test))
            elif isinstance(st, ast.For):
                real.update(_loads_of(st.iter))
            elif isinstance(st, ast.Try):
                for h in st.handlers:
                    if h.type is not None:
                        real.update(_loads_of(h.type))
            elif isinstance(st, ast.With):
                for item in st.items:
                    real.update(_loads_of(item.context_expr))
            elif isinstance(st, (ListBuild, DictBuild)):
                pass
            elif isinstance(st, Append):
                real.update(_loads_of(st.target) | _loads_of(st.value))
            elif isinstance(st, SetKey):
                real.update(_loads_of(st.target) | _loads_of(st.key) | _loads_of(st.value))
            elif isinstance(st, Native):
                real.update(_loads_of(st.stmt))
            else:
                real.update(_loads_of(st))
            for block in ssa_mod.child_blocks(st):
                scan(block)

    scan(body)
    live, work = set(), list(real)
    while work:
        n = work.pop()
        if n not in live:
            live.add(n)
            work.extend(joins.get(n, ()))
    return {p for p in phis if p not in live}


def _assigned_by_walk(body):
    names = set()
    for st in ssa_mod.walk_stmts(body):
        names.update(ssa_mod.assigned_names(st))
    return names


def _plain_names_by_walk(body, s):
    """`_plain_names` with no shortcut: the first version of each name bound in walk order gets
    the user's name where it is free. Returns whether it renamed any."""
    order, seen = [], set()
    every = list(walk(ast.Module(body=body, type_ignores=[])))
    for node in every:
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            n = node.id
        elif isinstance(node, (ListBuild, DictBuild)):
            n = node.target.id
        elif isinstance(node, (ast.FunctionDef, ast.ExceptHandler)) and node.name:
            n = node.name
        else:
            continue
        if n not in seen:
            seen.add(n)
            order.append(n)
    mapping, used = {}, seen | set(s.params)
    for v in order:
        orig = s.original.get(v)
        if orig is None or v == orig or orig in used or orig in s.undef_reads or orig in mapping.values() or v in s.params:
            continue
        mapping[v] = orig
        used.add(orig)
    for node in every:
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
        elif isinstance(node, (ast.FunctionDef, ast.ExceptHandler)) and node.name in mapping:
            node.name = mapping[node.name]
        if type(node) in ssa_mod._MARKED:
            for mark in ssa_mod._MARKS:
                extra = getattr(node, mark, None)
                if isinstance(extra, ast.Name) and extra.id in mapping:
                    extra.id = mapping[extra.id]
    for old, new in mapping.items():
        s.original[new] = s.original.pop(old)
        for group in (s.phis, s.multi, s.unbound):
            if old in group:
                group.discard(old)
                group.add(new)
    return bool(mapping)


def _by_walks(normalized, namer):
    """to_ssa as it was: the dead join copies and the assigned versions found by walking the tree,
    and `_plain_names` always walking it."""
    namer.nested = True  # (nested functions looked for in every tree)
    s = ssa_mod.SSA(normalized, namer)
    env = {p: p for p in s.params if p in s.versioned}
    for p in s.params:
        s.original[p] = p
    body = s.block(normalized.body, env)
    phis = set(s.phis)
    dead = _dead_joins_by_walk(body, phis) if phis else set()
    # (the live versions as the walk found them are the ones read: the same copies go)
    body, _ = ssa_mod._drop_unread_joins(body, phis, phis - dead, {})
    s.renamed = _plain_names_by_walk(body, s)
    s.unbound &= _assigned_by_walk(body)
    return body, s


# --- random functions ---------------------------------------------------------------------------

def _program(rng):
    names = ["a", "b", "c", "d", "e"]
    lines = ["def f(x, y):"]
    known = ["x", "y"]

    def expr(known):
        a, b = rng.choice(known), rng.choice(known + ["1.5", "2"])
        return rng.choice([f"{a} + {b}", f"{a} * {b}", a, f"-{a}", f"({a} if {b} else {a})", f"{a} and {b}"])

    def block(depth, ind, known, in_loop):
        out = []
        for _ in range(rng.randint(1, 5)):
            k = rng.random()
            t = rng.choice(names)
            if k < 0.35 or depth >= 3:
                out.append(f"{ind}{t} = {expr(known)}")
                if t not in known:
                    known.append(t)
            elif k < 0.45:
                u = rng.choice([n for n in names if n != t])
                out.append(f"{ind}{t}, {u} = {rng.choice(known)}, {expr(known)}")
                known.extend(n for n in (t, u) if n not in known)
            elif k < 0.6:
                out.append(f"{ind}if {rng.choice(known)} > 0:")
                inner = list(known)
                out.extend(block(depth + 1, ind + "    ", inner, in_loop))
                if rng.random() < 0.6:
                    out.append(f"{ind}else:")
                    other = list(known)
                    out.extend(block(depth + 1, ind + "    ", other, in_loop))
                    known.extend(n for n in inner if n in other and n not in known)
            elif k < 0.7:
                out.append(f"{ind}for i in range(3):")
                out.extend(block(depth + 1, ind + "    ", list(known) + ["i"], True))
                if rng.random() < 0.3:
                    out.append(f"{ind}    if {rng.choice(known)} > 1:")
                    out.append(f"{ind}        break")
            elif k < 0.75:
                out.append(f"{ind}while {rng.choice(known)} > 5:")
                body = block(depth + 1, ind + "    ", list(known), True)
                out.extend(body)
                out.append(f"{ind}    break")
            elif k < 0.82:
                out.append(f"{ind}try:")
                out.extend(block(depth + 1, ind + "    ", list(known), in_loop))
                out.append(f"{ind}except ValueError as err:")
                out.append(f"{ind}    {t} = {rng.choice(known)}")
            elif k < 0.86:
                out.append(f"{ind}with ctx() as {t}:")
                out.extend(block(depth + 1, ind + "    ", list(known), in_loop))
                if t not in known:
                    known.append(t)
            elif k < 0.9:
                v = rng.choice(known)
                out.append(f"{ind}def g(z):")
                out.append(f"{ind}    return z * {v}")
                out.append(f"{ind}{t} = g({rng.choice(known)})")
                if t not in known:
                    known.append(t)
            elif k < 0.93:
                out.append(f"{ind}{t} = [{rng.choice(known)} * j for j in range(2)]")
                if t not in known:
                    known.append(t)
            elif k < 0.96 and t in known and t not in ("x", "y"):
                out.append(f"{ind}del {t}")
                known.remove(t)
            else:
                out.append(f"{ind}import math as {t}")
                if t not in known:
                    known.append(t)
            if in_loop and rng.random() < 0.1:
                out.append(f"{ind}if {rng.choice(known)} < 0:")
                out.append(f"{ind}    return {rng.choice(known)}")
        return out

    lines += block(0, "    ", known, False)
    lines.append(f"    return {rng.choice(known)}")
    return "\n".join(lines) + "\n"


def _normalized(src):
    fdef = ast.parse(src).body[0]
    namer = Namer(fdef)
    return normalize(fdef, namer, lambda n: False, "<ssa-facts>"), namer


@pytest.mark.parametrize("seed", range(40))
def test_to_ssa_gives_what_the_walks_give(seed):
    rng = random.Random(seed)
    for _ in range(10):
        src = _program(rng)
        a, namer_a = _normalized(src)
        b, namer_b = _normalized(src)
        want, s_want = _by_walks(a, namer_a)
        got, s_got = ssa_mod.to_ssa(b, namer_b)
        assert ast.dump(ast.Module(body=got.body, type_ignores=[]), include_attributes=True) == ast.dump(
            ast.Module(body=want, type_ignores=[]), include_attributes=True
        ), src
        assert s_got.unbound == s_want.unbound, src
        assert s_got.original == s_want.original, src
        assert (s_got.phis, s_got.multi) == (s_want.phis, s_want.multi), src
        assert namer_a.taken == namer_b.taken, src


def test_the_programs_have_what_the_facts_are_for():
    """The random functions drop join copies, give versions the user's names, leave versions
    that may be unbound, and hold nested functions and imports."""
    seen = {"dead": 0, "renamed": 0, "unbound": 0, "nested": 0, "import": 0}
    for seed in range(40):
        rng = random.Random(seed)
        for _ in range(10):
            src = _program(rng)
            a, namer = _normalized(src)
            s = ssa_mod.SSA(a, namer)
            env = {p: p for p in s.params if p in s.versioned}
            body = s.block(a.body, env)
            seen["dead"] += bool(_dead_joins_by_walk(body, set(s.phis)))
            _, s2 = _by_walks(*_normalized(src))
            seen["renamed"] += s2.renamed
            seen["unbound"] += bool(s2.unbound)
            seen["nested"] += "def g" in src
            seen["import"] += "import math" in src
    assert all(v >= 5 for v in seen.values()), seen


# --- what the namer's walk tells the other passes -----------------------------------------------

_EXTRAS = [
    "    h = lambda z: z + x",
    "    c = [z * x for z in range(3)]",
    "    if (w := x + 1) > 0:\n        x = w",
    "    class K:\n        pass",
    "    def g(z=(q := 2)):\n        return z",
    "    for i in range(2):\n        if x > i:\n            return x",
    "    with ctx() as m:\n        import math as n",
]


def _sources():
    rng = random.Random(7)
    for seed in range(60):
        src = _program(random.Random(seed))
        lines = src.splitlines()
        for extra in rng.sample(_EXTRAS, rng.randint(0, 2)):
            lines.insert(rng.randint(1, len(lines) - 1), extra)
        if rng.random() < 0.3:
            lines[0] = "def f(x, y=(v := 3)):"
        yield "\n".join(lines) + "\n"


def test_the_namers_walk_gives_what_the_scope_walks_give():
    from dpnb.core.astlib import nodes
    from dpnb.core.load import _local_names
    from dpnb.core.normalize import _count_returns

    kinds = {"one scope": 0, "not": 0}
    for src in _sources():
        try:
            fdef = ast.parse(src).body[0]
        except SyntaxError:  # (an extra that cannot go where it was put)
            continue
        every = nodes(fdef)
        namer = Namer(fdef, every)
        assert namer.taken == Namer(fdef).taken, src
        assert namer.nested == bool(ssa_mod.nested_functions(fdef.body) or any(isinstance(n, ast.ClassDef) for n in every)), src
        kinds["one scope" if namer.one_scope else "not"] += 1
        if namer.one_scope:
            assert _local_names(fdef, every) == _local_names(fdef), src
            assert namer.returns == _count_returns(fdef.body), src
    assert min(kinds.values()) >= 10, kinds
