"""Stage 1 — parse: find the source of a function and return its AST.

`function_source(fn)` returns a `Source`: the `FunctionDef` of `fn` (a lambda is
turned into a one-statement `FunctionDef`), its file name, and the names it
reads from its closure and its globals. Line numbers in the tree are the user's
own, so the compiled adjoint reports the user's file and line. Private names of
a class's code (`self.__w`) come mangled as the compiler wrote them
(`self._Model__w`, see `mangle`), since the adjoint is compiled outside the class.

Lambdas sharing a line are told apart by the column of the code object's first
instruction (`co_positions`). Code with no retrievable source (built by `exec`
of a string, or a C function) raises `NoRuleError`.

`reject_unsupported(fdef, filename)` raises `UnsupportedSyntaxError` naming the
construct (`yield`, `global`, ...), the file and the line, before anything runs.
"""
import ast
import collections
import linecache
import os
import re
import textwrap

from ..errors import NoSourceError, UnsupportedSyntaxError
from .astlib import copy_location, nodes, shallow_copy, walk
from .codes import CodeTable

#: (filename, hash of its text) -> syntax tree, for the most recently read files only
_file_trees = collections.OrderedDict()
_FILE_TREES_KEPT = 32
#: code objects compiled by dpnb itself (nested defs and lambdas in generated code) -> node;
#: an entry goes when its code object does (each code object has its own: see `codes`)
GENERATED_SOURCE = CodeTable()


class Source:
    def __init__(self, node, filename, is_lambda, name):
        self.node = node  # ast.FunctionDef, decorators stripped
        self.filename = filename
        self.is_lambda = is_lambda
        self.name = name


def _lines(filename, module_globals):
    """`linecache.getlines(filename, module_globals)`. A file not yet in linecache that is plain
    UTF-8 (no byte order mark, no "coding" on its first two lines) is read here, into linecache
    as it would put it (newlines read as Python reads them, a last line given its newline):
    tokenize's look for an encoding and its text reader cost more than reading the file. Any
    other file, and any file that cannot be read or decoded, is linecache's."""
    entry = linecache.cache.get(filename)
    if entry is not None and len(entry) != 1:
        return entry[2]
    if not filename or (filename.startswith("<") and filename.endswith(">")) or entry is not None:
        return linecache.getlines(filename, module_globals)
    try:
        st = os.stat(filename)
        with open(filename, "rb") as f:
            data = f.read()
        end = data.find(b"\n")
        end = data.find(b"\n", end + 1) if end >= 0 else -1
        if data[:3] == b"\xef\xbb\xbf" or b"coding" in (data[:end] if end >= 0 else data):
            raise ValueError("not plain UTF-8")
        text = data.decode("utf-8")
    except (OSError, ValueError):  # (UnicodeDecodeError is a ValueError)
        return linecache.getlines(filename, module_globals)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    last = lines.pop()
    lines = [line + "\n" for line in lines]
    if last:
        lines.append(last + "\n")
    linecache.cache[filename] = (st.st_size, st.st_mtime, lines, filename)
    return lines


def _tree_for(filename, module_globals):
    if not (filename.startswith("<") and filename.endswith(">")):
        linecache.checkcache(filename)  # a file edited since it was read: read it again
    lines = _lines(filename, module_globals)
    if not lines:
        return None
    text = "".join(lines)
    key = (filename, hash(text))
    tree = _file_trees.get(key)
    if tree is None:
        try:
            tree = ast.parse(text, filename=filename)
        except SyntaxError:
            return None
        _file_trees[key] = tree
        while len(_file_trees) > _FILE_TREES_KEPT:
            _file_trees.popitem(last=False)
    else:
        _file_trees.move_to_end(key)
    return tree


def _own_lines_tree(code, filename, module_globals):
    """The syntax tree of just the lines of a function (its decorators, its `def` and its indented
    body), with the file's line numbers and columns; None when that is not how it is written (a
    lambda) or the lines do not parse alone. A method or a nested function is parsed inside an
    `if 1:` that gives its indentation a place. A function at the end of a long module, or a
    method of a long class, then costs the parse of its own lines only.

    The lines end before the first line, not blank nor a comment, indented no deeper than the
    `def`: a line of a multi-line string or of a bracketed expression cut there leaves the
    lines unable to parse alone, and the whole file is parsed instead."""
    if code.co_name == "<lambda>":
        return None
    lines = _lines(filename, module_globals)
    first = code.co_firstlineno
    if not lines or not 1 <= first <= len(lines):
        return None
    head = lines[first - 1]
    indent = head[: len(head) - len(head.lstrip(" \t"))]
    depth = len(indent)
    i = first - 1
    while i < len(lines) and lines[i].startswith(indent + "@"):
        i += 1
    if i >= len(lines) or not lines[i].startswith((indent + "def ", indent + "async def ")):
        return None
    end = i + 1
    while end < len(lines):
        line = lines[end]
        if not depth:
            if line[:1] not in (" ", "\t", "\n", "\r", "#", "") and line.strip():
                break  # the next statement at the top level (a line of a string there makes a syntax error)
        else:
            text = line.lstrip(" \t")
            if text.strip() and text[0] != "#" and len(line) - len(text) <= depth:
                break  # the next statement beside or around the function
        end += 1
    src = "".join(lines[first - 1 : end])
    if depth:
        src = "if 1:\n" + src
    shift = first - 1 if not depth else first - 2
    # the file's line numbers: blank lines in front cost the tokenizer less than renumbering
    # every node afterwards, up to some thousands of them
    pad = shift if 0 <= shift <= _PAD_LINES else 0
    try:
        tree = ast.parse("\n" * pad + src, filename=filename)
    except (SyntaxError, ValueError):
        return None
    if shift != pad:
        ast.increment_lineno(tree, shift)
    return tree


_PAD_LINES = 20_000


def forget_files():
    """Drop every syntax tree read so far."""
    _file_trees.clear()


def _first_position(code):
    for pos in code.co_positions():
        line, _, col, end_col = pos
        if line is not None and col is not None and line >= code.co_firstlineno and end_col != col:
            return line, col
    return code.co_firstlineno, 0


def _span_contains(node, line, col):
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    return start <= (line, col) < end


def _nargs(a):
    return len(a.posonlyargs) + len(a.args)


def find_node(code, tree):
    """The FunctionDef or Lambda node of `tree` that `code` was compiled from."""
    name = code.co_name
    first = code.co_firstlineno
    if name == "<lambda>":
        line, col = _first_position(code)
        best = None
        for node in ast.walk(tree):
            if isinstance(node, ast.Lambda) and node.lineno <= line <= node.end_lineno:
                if _span_contains(node.body, line, col) and _nargs(node.args) == code.co_argcount:
                    if best is None or _span_size(node) < _span_size(best):
                        best = node
        return best
    def found(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            return start == first or node.lineno == first
        return False

    # (one def matches, at most: the tree of a function's own lines holds it first, or first in
    # the `if 1:` that gives a method its indentation)
    head = tree.body[0] if isinstance(tree, ast.Module) and tree.body else None
    if isinstance(head, ast.If) and head.body:
        head = head.body[0]
    if head is not None and found(head):
        return head
    for node in ast.walk(tree):
        if found(node):
            return node
    return None


def _span_size(node):
    return (node.end_lineno - node.lineno) * 10_000 + (node.end_col_offset - node.col_offset)


def function_source(fn):
    """The `Source` of the Python function `fn`, or `NoRuleError` if it has none."""
    code = fn.__code__
    node = GENERATED_SOURCE.get(code)
    filename = code.co_filename
    if node is None:
        fglobals = getattr(fn, "__globals__", None)
        if not (filename.startswith("<") and filename.endswith(">")):
            linecache.checkcache(filename)  # a file edited since it was read: read it again
        tree = _own_lines_tree(code, filename, fglobals)
        if tree is not None:
            node = find_node(code, tree)
        if node is None:
            tree = _tree_for(filename, fglobals)
            if tree is not None:
                node = find_node(code, tree)
        if node is None:
            node = _node_from_getsource(fn)
        if node is None:
            raise NoSourceError(fn, filename)
        # the compiler mangled the private names of a class's code; the adjoint is compiled
        # outside the class, so its source carries them mangled (generated code already does).
        # A private name is written with "__": lines without one have none to mangle.
        fdef = as_function_def(node, code.co_name)
        if _may_have_private_names(node, filename, fglobals):
            from .mangle import mangle_function

            fdef = mangle_function(fdef, code)
    else:
        fdef = as_function_def(node, code.co_name)
    return Source(fdef, filename, isinstance(node, ast.Lambda), code.co_name)


def _may_have_private_names(node, filename, module_globals):
    """Whether the lines of `node` may hold a private name: a word that starts with "__" and does
    not end with it (`__call__`, `__init__` are never mangled; a string or comment that looks
    private only costs the look)."""
    lines = _lines(filename, module_globals)
    first, last = node.lineno, getattr(node, "end_lineno", None)
    if not lines or last is None or not 1 <= first <= last <= len(lines):
        return True
    for line in lines[first - 1 : last]:
        if "__" in line:
            for word in _DUNDER_WORD.findall(line):
                if not word.endswith("__"):
                    return True
    return False


#: a word that starts with "__" (after a character that cannot be part of a name)
_DUNDER_WORD = re.compile(r"(?<![\w])__\w*")


def _node_from_getsource(fn):
    import inspect

    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return None
    first = fn.__code__.co_firstlineno
    ast.increment_lineno(tree, first - 1)
    return find_node(fn.__code__, tree)


def as_function_def(node, name):
    """A copy of `node` as a FunctionDef with no decorators (a lambda gets `return <body>`)."""
    if isinstance(node, ast.Lambda):
        ret = ast.Return(value=node.body)
        copy_location(ret, node.body)
        fdef = ast.FunctionDef(
            name="_lambda" if name == "<lambda>" else name,
            args=node.args,
            body=[ret],
            decorator_list=[],
            returns=None,
            type_comment=None,
        )
        copy_location(fdef, node)
        fdef.end_lineno, fdef.end_col_offset = node.end_lineno, node.end_col_offset
        return fdef
    if isinstance(node, ast.AsyncFunctionDef):
        return node  # rejected by analyze
    fdef = shallow_copy(node)
    fdef.decorator_list = []
    return fdef


# --- what no transform reads ------------------------------------------------------------

_UNSUPPORTED = {
    ast.Yield: "`yield`",
    ast.YieldFrom: "`yield from`",
    ast.Await: "`await`",
    ast.AsyncFor: "`async for`",
    ast.AsyncWith: "`async with`",
    ast.AsyncFunctionDef: "`async def`",
    ast.Global: "`global` assignment",
    ast.ClassDef: "a class definition inside a differentiated function",
    ast.Match: "`match`",
}
if hasattr(ast, "TryStar"):
    _UNSUPPORTED[ast.TryStar] = "`try`/`except*`"

_HINTS = {
    "`global` assignment": "return the value instead, or keep it in a dict or object passed in",
    "`yield`": "differentiate a function that returns a list instead of a generator",
    "a class definition inside a differentiated function": "define the class at module level",
}


def reject_unsupported(fdef, filename, every=None):
    """Refuse what no transform reads, naming the construct, the file and the line. `every`: the
    nodes of `fdef` (`astlib.nodes`), if at hand."""
    if isinstance(fdef, ast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("`async def`", filename, fdef.lineno)
    if not any(type(n) in _UNSUPPORTED for n in (nodes(fdef) if every is None else every)):
        return  # (the common case, in one quick walk; the walk below says where and what)

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.Lambda)):
                # nested functions are transformed when they are called; their
                # defaults and decorators run here
                for d in getattr(child, "decorator_list", []):
                    visit(d)
                visit(child.args)
                for inner in walk(child):
                    what = _UNSUPPORTED.get(type(inner))
                    if what is not None and not isinstance(inner, ast.ClassDef):
                        raise UnsupportedSyntaxError(what, filename, getattr(inner, "lineno", None), _HINTS.get(what))
                continue
            what = _UNSUPPORTED.get(type(child))
            if what is not None:
                raise UnsupportedSyntaxError(what, filename, getattr(child, "lineno", None), _HINTS.get(what))
            visit(child)

    visit(fdef)
