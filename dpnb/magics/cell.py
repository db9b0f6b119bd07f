"""A `%%grad` cell turned into a Python function that dpnb can differentiate.

The cell

    %%grad w b
    err = w * x + b - y
    err ** 2

becomes, as source text cached by IPython under the cell's own number,

    def grad_cell(w, b, err):
        err = w * x + b - y
        return (err ** 2, (err,))

The header takes the place of the `%%grad` line, so every line of the body
keeps the line number it has in the notebook cell, and tracebacks point at
it. The parameters are the differentiated variables, then every name the cell
assigns (given their notebook values, or `UNSET`); the function returns the
loss and the final values of the names the cell assigned, which the magic
writes back into the notebook's namespace: the cell runs once, and its
assignments take effect as in any cell.

>>> c = CellFunction.from_source("err = w * 2\\nerr ** 2\\n", ["w"])
>>> print(c.source, end="")
def grad_cell(w, err):
    err = w * 2
    return (err ** 2, (err,))
>>> c.assigned
['err']
"""
import ast
import io
import symtable
import tokenize

__all__ = ["CellFunction", "CellError", "UNSET", "FUNCTION_NAME"]

FUNCTION_NAME = "grad_cell"


class _Unset:
    """The value of a name the cell assigns that the notebook did not have before."""

    def __repr__(self):
        return "<unset>"


UNSET = _Unset()


class CellError(Exception):
    """The cell cannot be differentiated as written (the message is one line for the user)."""


class CellFunction:
    """The source of the function a `%%grad` cell becomes (see the module docstring)."""

    def __init__(self, source, params, assigned, loss_line):
        self.source = source
        self.params = params
        self.assigned = assigned
        self.loss_line = loss_line

    @classmethod
    def from_source(cls, cell, variables):
        """Build it from the cell's Python source and the names to differentiate by."""
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            raise  # shown by the shell like any syntax error of a cell
        if not tree.body or not isinstance(tree.body[-1], ast.Expr):
            raise CellError("the cell must end with an expression: the loss to differentiate")
        assigned = [n for n in _assigned_names(cell) if n != FUNCTION_NAME]
        params = list(variables) + [n for n in assigned if n not in variables]
        last = tree.body[-1].value
        lines = cell.splitlines(True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        back = ", ".join(assigned) + ("," if assigned else "")
        # `return (<loss>, (<assigned names>,))` written over the last expression, in place
        start, end = last.lineno - 1, last.end_lineno - 1
        end_line = lines[end]
        end_col = _char_col(end_line, last.end_col_offset)
        lines[end] = end_line[:end_col] + f", ({back}))" + end_line[end_col:]
        start_line = lines[start]
        start_col = _char_col(start_line, last.col_offset)
        lines[start] = start_line[:start_col] + "return (" + start_line[start_col:]
        keep = _lines_inside_strings(cell)
        body = "".join(line if i + 1 in keep else "    " + line for i, line in enumerate(lines))
        header = f"def {FUNCTION_NAME}({', '.join(params)}):\n"
        return cls(header + body, params, assigned, last.lineno + 1)


def _char_col(line, byte_col):
    """The character column of a UTF-8 byte offset (what `ast` gives) in `line`."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _assigned_names(cell):
    """The names the cell binds at its top level (assignments, loops, imports, defs, classes), in order."""
    table = symtable.symtable(cell, "<cell>", "exec")
    names = []
    for sym in table.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            if not sym.is_global() or sym.is_assigned():
                names.append(sym.get_name())
    return names


def _lines_inside_strings(cell):
    """Line numbers that continue a multi-line string: indenting them would change the string."""
    inside = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(cell).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return inside
