"""Shrinking a failing program to a few lines.

`shrink(program, directory, outcome)` edits the program's syntax tree one step at
a time and keeps an edit when the smaller program still fails the same check the
same way (same status and same family key). Edits, biggest first:

- delete a statement (anywhere: module level, function and class bodies, branches,
  loop bodies, try/with blocks); an emptied block becomes `pass`;
- replace a compound statement (`if`, `for`, `while`, `with`, `try`) by one of
  its blocks;
- replace an expression by one of its sub-expressions, by the first parameter of
  the enclosing function, or by the constant 1.0;

until no edit applies or the time budget runs out. `f`, `hess_target` and the
`FIXED_` arguments it passes are never deleted or edited. The result is printed
with `ast.unparse`.
"""
import ast
import time
import warnings

from _fuzz_check import run_checks, with_source

KEEP = {"f", "hess_target"}


def _frozen(tree):
    """ids of the nodes of `hess_target`: the checks call it as written, so it is not edited."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "hess_target":
            out.update(id(n) for n in ast.walk(node))
    return out


def _stmt_lists(tree):
    """(node, field) for every statement list outside `hess_target`, in a fixed order."""
    out = []
    frozen = _frozen(tree)
    for node in ast.walk(tree):
        if id(node) in frozen:
            continue
        for name in ("body", "orelse", "finalbody"):
            val = getattr(node, name, None)
            if isinstance(val, list) and val and isinstance(val[0], ast.stmt):
                out.append((node, name))
        if isinstance(node, ast.Try):
            pass  # handlers are ExceptHandler nodes, walked on their own (they have a body)
    return out


def _deletions(tree):
    for k, (node, name) in enumerate(_stmt_lists(tree)):
        stmts = getattr(node, name)
        for i in reversed(range(len(stmts))):
            s = stmts[i]
            if isinstance(node, ast.Module) and _kept(s):
                continue
            yield ("del", k, name, i)


def _kept(stmt):
    """`f`, `hess_target` and the fixed arguments `hess_target` passes (`FIXED_...`)."""
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return stmt.name in KEEP
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id.startswith("FIXED_") for t in stmt.targets)
    return False


def _inlines(tree):
    for k, (node, name) in enumerate(_stmt_lists(tree)):
        for i, s in enumerate(getattr(node, name)):
            if isinstance(s, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
                blocks = ["body", "orelse"] if isinstance(s, (ast.If, ast.For, ast.While)) else ["body"]
                if isinstance(s, ast.Try):
                    blocks += [f"handler{j}" for j in range(len(s.handlers))] + ["orelse", "finalbody"]
                for b in blocks:
                    yield ("inline", k, name, i, b)


def _expr_sites(tree):
    """(index in walk order, replacement kind) for expressions inside functions."""
    nodes = list(ast.walk(tree))
    inside = set()
    frozen = _frozen(tree)
    for n in nodes:
        if isinstance(n, (ast.FunctionDef, ast.Lambda)) and id(n) not in frozen:
            for m in ast.walk(n):
                inside.add(id(m))
    for idx, n in enumerate(nodes):
        if not isinstance(n, ast.expr) or id(n) not in inside:
            continue
        if isinstance(getattr(n, "ctx", None), (ast.Store, ast.Del)):
            continue
        if isinstance(n, (ast.Name, ast.Constant)):
            continue
        children = [c for c in ast.iter_child_nodes(n) if isinstance(c, ast.expr)]
        for j in range(len(children)):
            yield ("expr", idx, "child", j)
        yield ("expr", idx, "param", 0)
        yield ("expr", idx, "const", 0)


def _apply(source, edit):
    tree = ast.parse(source)
    kind = edit[0]
    if kind in ("del", "inline"):
        node, name = _stmt_lists(tree)[edit[1]]
        stmts = getattr(node, name)
        i = edit[3]
        if kind == "del":
            del stmts[i]
            if not stmts:
                stmts.append(ast.Pass())
        else:
            s = stmts[i]
            b = edit[4]
            if b.startswith("handler"):
                block = s.handlers[int(b[7:])].body
            else:
                block = getattr(s, b)
            if not block:
                return None
            stmts[i:i + 1] = block
    else:
        nodes = list(ast.walk(tree))
        target = nodes[edit[1]]
        how = edit[2]
        if how == "child":
            children = [c for c in ast.iter_child_nodes(target) if isinstance(c, ast.expr)]
            new = children[edit[3]]
        elif how == "param":
            fn = _enclosing_function(tree, target)
            if fn is None or not fn.args.args:
                return None
            new = ast.Name(fn.args.args[0].arg, ast.Load())
        else:
            new = ast.Constant(1.0)
        if not _replace(tree, target, new):
            return None
    ast.fix_missing_locations(tree)
    try:
        out = ast.unparse(tree)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(out, "<shrink>", "exec")
    except (SyntaxError, ValueError):
        return None
    return out + "\n"


def _enclosing_function(tree, target):
    best = None
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.Lambda)):
            if any(m is target for m in ast.walk(n)):
                best = n   # walk is breadth first: the last match is the innermost
    return best


def _replace(tree, target, new):
    for parent in ast.walk(tree):
        for name, val in ast.iter_fields(parent):
            if val is target:
                setattr(parent, name, new)
                return True
            if isinstance(val, list):
                for i, x in enumerate(val):
                    if x is target:
                        val[i] = new
                        return True
    return False


def shrink(program, directory, outcome, budget=60.0, timeout=10.0, log=None, grad=None):
    """A smaller program failing `outcome.check` with the same status and key (the program itself if none)."""
    deadline = time.time() + budget
    check = outcome.check

    def still_fails(src):
        r = run_checks(with_source(program, src), directory, (check,), timeout, grad)
        return any(o.check == check and o.status == outcome.status and o.key == outcome.key for o in r.outcomes)

    src = ast.unparse(ast.parse(program.source)) + "\n"
    if not still_fails(src):
        return program
    tries = 0
    seen = {src}
    changed = True
    while changed and time.time() < deadline:
        changed = False
        for gen in (_deletions, _inlines, _expr_sites):
            pos = 0
            while time.time() < deadline:
                edits = list(gen(ast.parse(src)))
                progress = False
                for k in range(pos, len(edits)):
                    if time.time() > deadline:
                        break
                    cand = _apply(src, edits[k])
                    if cand is None or cand in seen or len(cand) > len(src):
                        continue
                    seen.add(cand)
                    tries += 1
                    if still_fails(cand):
                        src, pos = cand, k   # resume about here in the edits of the smaller tree
                        progress = changed = True
                        break
                if not progress:
                    break
    if log:
        log(f"shrunk in {tries} tries to {len(src.splitlines())} lines")
    return with_source(program, src)
