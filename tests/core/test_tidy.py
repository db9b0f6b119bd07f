"""`tidy.propagate_copies` and `tidy.release_dead` change how a function reads, never what it
computes: random straight-line functions with copies, branches and an initial `a = b = None`
line give the same results before and after, and the copies the docstring promises to remove
are removed (and no others)."""
import ast
import random

import pytest

from dpnb.core import tidy


def run(src, args):
    ns = {}
    exec(compile(src, "<tidy-test>", "exec"), ns)
    return ns["f"](*args)


def tidied(src, release=False):
    fn = ast.parse(src).body[0]
    tidy.propagate_copies(fn)
    if release:
        stored = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        tidy.release_dead(fn, stored)
    return ast.unparse(ast.fix_missing_locations(fn))


def _program(rng):
    params = ["p0", "p1"]
    names = [f"v{i}" for i in range(6)]
    lines = ["def f(p0, p1):", "    " + " = ".join(names[:3]) + " = None"]
    known = list(params)

    def stmts(depth, indent, known):
        out = []
        for _ in range(rng.randint(1, 6)):
            k = rng.random()
            target = rng.choice(names)
            if k < 0.4:
                out.append(f"{indent}{target} = {rng.choice(known)}")  # a copy
            elif k < 0.75:
                a, b = rng.choice(known), rng.choice(known)
                out.append(f"{indent}{target} = {a} {rng.choice(['+', '-', '*'])} {b}")
            elif k < 0.85:
                out.append(f"{indent}{target} = {rng.choice(known)} * {rng.randint(-3, 3)}")
            elif depth < 2:
                cond = rng.choice(known)
                inner_known = list(known)
                out.append(f"{indent}if {cond} > 0:")
                out.extend(stmts(depth + 1, indent + "    ", inner_known))
                out.append(f"{indent}else:")
                other = list(known)
                out.extend(stmts(depth + 1, indent + "    ", other))
                both = [n for n in inner_known if n in other]
                known[:] = sorted(set(known) | set(both), key=(params + names).index)
                continue
            else:
                continue
            if target not in known:
                known.append(target)
        return out or [f"{indent}pass"]

    lines.extend(stmts(0, "    ", known))
    lines.append("    return (" + ", ".join(rng.sample(known, min(3, len(known)))) + ",)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(400))
def test_a_random_function_computes_the_same(seed):
    rng = random.Random(seed)
    src = _program(rng)
    for release in (False, True):
        out = tidied(src, release)
        for args in ((1, 2), (-1, 3), (2, -5), (0, 0)):
            assert run(out, args) == run(src, args), (src, out)


def test_the_copies_that_go_and_those_that_stay():
    src = '''
def f(x, y):
    a = b = c = None
    a = x
    b = a
    c = b * 2
    d = y
    y = 3
    e = d + y
    g = c
    c = 5
    return (b, c, e, g)
'''
    out = tidied(src)
    assert run(out, (2, 7)) == run(src, (2, 7)) == (2, 5, 10, 4)
    # `a = x`, `b = a`: read through (x is a parameter never assigned); `d = y` stays (y is
    # assigned after); `g = c` stays (c is assigned twice)
    assert "a = x" not in out and "b = a" not in out and "d = y" in out and "g = c" in out
    assert out.splitlines()[1].strip() == "c = None"  # the names no longer assigned leave the first line
    assert out.splitlines()[-1].strip() == "return (x, c, e, g)"


def test_a_block_left_with_no_statement_gets_a_pass():
    src = '''
def f(x, y):
    if x > 0:
        u = y
    try:
        w = x
    finally:
        z = y
    return (x, y)
'''
    out = tidied(src)
    assert "pass" in out
    assert run(out, (1, 2)) == run(src, (1, 2)) == (1, 2)


def test_a_copy_read_before_it_is_made_stays():
    src = '''
def f(x):
    t = None
    if x > 0:
        t = x * 2
    u = t
    return (u, t)
'''
    out = tidied(src)
    assert run(out, (3,)) == run(src, (3,)) == (6, 6)
    assert run(out, (-1,)) == run(src, (-1,)) == (None, None)


def test_release_dead_leaves_alone_the_names_a_nested_function_reads_or_declares():
    src = (
        "def f(p):\n"
        "    a = p * 2\n"
        "    b = p * 3\n"
        "    c = p * 4\n"
        "    x = p + 1\n"
        "    y = x * 2\n"
        "    g = lambda: a\n"
        "    def h(q=lambda: b):\n"
        "        nonlocal c\n"
        "        c = c + 1\n"
        "        return q()\n"
        "    z = a + b + c + y + g() + h()\n"
        "    return z\n"
    )
    out = tidied(src, release=True)
    assert "x = None" in out and "y = None" in out
    assert not any(f"{n} = None" in out for n in "abc")
    assert run(out, (1.0,)) == run(src, (1.0,)) == 18.0


def test_release_dead_leaves_alone_a_nonlocal_name():
    fn = ast.parse("def f(p):\n    nonlocal u\n    u = p * 2\n    v = u + 1\n    return v\n").body[0]
    out = ast.unparse(ast.fix_missing_locations(tidy.release_dead(fn, {"u", "v"})))
    assert "u = None" not in out


def _by_walk(fn):
    names = [n for n in ast.walk(fn) if isinstance(n, ast.Name)]
    return ({n.id for n in names if isinstance(n.ctx, ast.Load)}, {n.id for n in names if isinstance(n.ctx, ast.Store)})


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_names_reads_and_stores_as_a_walk_finds_them(seed):
    fn = ast.parse(_program(random.Random(seed))).body[0]
    names = tidy.Names(fn)
    assert (names.loaded, names.stored) == _by_walk(fn)
    assert not names.inner and not names.declared


def test_names_in_nested_functions_walrus_del_and_declarations():
    src = '''
def f(p, q=lambda z: z + k):
    nonlocal u
    global g
    a = p * 2
    if (b := a + 1) > 0:
        del a
        c = [w for w in range(3)]
    def h(m):
        return m + a + n
    return (b, h, q)
'''
    fn = ast.parse(src).body[0]
    names = tidy.Names(fn)
    loads, stores = _by_walk(fn)
    assert names.loaded == loads and names.stored == stores  # `del a` is neither
    assert "a" in names.stored and "b" in names.stored and "w" in names.stored
    assert {"m", "a", "n", "z", "k"} <= names.inner  # the def's and the default lambda's names
    assert names.declared == {"u", "g"}
